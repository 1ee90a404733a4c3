/*
 * Province-scale read paths (issue 10) against the real PostgreSQL: the
 * maintained counts (migration 0170) always equal what the assets say, after
 * every kind of write; `asset list` (asset_page, 0172) returns exactly what a
 * plain filtered query returns, for every combination of filters and every
 * page; lot list, location list and stock counts read the maintained counts;
 * the history of one asset is read from one partition (0171).
 *
 * One database for the suite, built once in SetUpTestSuite: deliveries of
 * single-model and mixed lots, then moves that spread the assets over
 * states and places. Tests that write use their own serial range.
 *
 * Writes go through the functions as a person (issue 8: "mlt_scale" holds
 * every role that moves assets); what only a run can do (verify_start, pass,
 * fail) is set by the DBA as a fixture, which the counts must follow too.
 */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "assets/lifecycle.h"
#include "assets/registry.h"

namespace
{

std::string g_ci, g_person;

std::string bc(unsigned long long serial)
{
	char out[23];
	struct ml_error err = ML_ERROR_INIT;
	if (barcode_make("41300", "01", serial, out, &err))
		ADD_FAILURE() << err.msg;
	return out;
}

PGresult *query(struct db *db, const std::string &sql, std::vector<const char *> p = {})
{
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	if (db_exec(db, sql.c_str(), (int)p.size(), p.data(), PGRES_TUPLES_OK, &res, &err)) {
		ADD_FAILURE() << sql << ": " << err.msg;
		return nullptr;
	}
	return res;
}

int exec1(struct db *db, const char *sql, const std::string &param, struct ml_error *err)
{
	const char *p[1] = { param.c_str() };
	return db_cmd(db, sql, 1, p, err);
}

long long count(struct db *db, const std::string &sql, std::vector<const char *> p = {})
{
	PGresult *res = query(db, sql, p);
	long long v = res && PQntuples(res) ? atoll(PQgetvalue(res, 0, 0)) : -1;
	PQclear(res);
	return v;
}

/* Every delivery row: serial, model. */
std::string csv(unsigned long long first, int n, const char *m1, const char *m2 = nullptr)
{
	std::string s = "barcode,model_code,production_batch,production_date\n";
	for (int i = 0; i < n; i++)
		s += bc(first + i) + "," + (m2 && i % 2 ? m2 : m1) + ",B1,2026-09-14\n";
	return s;
}

void receive(struct db *db, const char *lot, const std::string &data,
	     const char *location = nullptr)
{
	struct asset_receive_opts o = {};
	o.lot_code = lot;
	o.location = location;
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, asset_receive(db, &o, data.data(), data.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
}

/* Apply one action to serials [first, first + n), all or nothing. */
int move_range(struct db *db, unsigned long long first, int n, enum asset_action a,
	       const char *location, struct ml_error *err)
{
	std::vector<std::string> b;
	for (int i = 0; i < n; i++)
		b.push_back(bc(first + i));
	std::vector<struct asset_move> mv(n);
	for (int i = 0; i < n; i++) {
		mv[i] = {};
		mv[i].barcode = b[i].c_str();
		mv[i].action = a;
		mv[i].location = location;
	}
	return asset_move_batch(db, mv.data(), (size_t)n, nullptr, err);
}

void must_move(struct db *db, unsigned long long first, int n, enum asset_action a,
	       const char *location = nullptr)
{
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, move_range(db, first, n, a, location, &err)) << err.msg;
}

/* Install issued serials [first, first + n) at metering points of SITE1 the
 * way the field does (ml_point_add, ml_install: 0205 refuses bare installs);
 * the person is in team TEAM1. One statement each, so one transaction. */
void field_install(struct db *db, unsigned long long first, int n)
{
	std::string arr = "{";
	for (int i = 0; i < n; i++)
		arr += (i ? "," : "") + bc(first + i);
	arr += "}";
	const char *p[1] = { arr.c_str() };
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK,
		  db_exec(db,
			  "SELECT * FROM ml_point_add((SELECT array_agg('P' || b) FROM "
			  "unnest($1::text[]) b), (SELECT array_agg('A' || right(b, 8)) FROM "
			  "unnest($1::text[]) b), array_fill('street 1'::text, "
			  "ARRAY[cardinality($1::text[])]), array_fill('SITE1'::text, "
			  "ARRAY[cardinality($1::text[])]))",
			  1, p, PGRES_TUPLES_OK, nullptr, &err))
		<< err.msg;
	ASSERT_EQ(ML_OK, db_exec(db,
				 "SELECT ml_install(b, 'P' || b, NULL, '0', NULL, NULL) "
				 "FROM unnest($1::text[]) b",
				 1, p, PGRES_TUPLES_OK, nullptr, &err))
		<< err.msg;
}

/* The DBA puts serials [first, first + n) in a state only a run produces (a fixture). */
void dba_state(unsigned long long first, int n, const char *state)
{
	std::string arr = "{";
	for (int i = 0; i < n; i++)
		arr += (i ? "," : "") + bc(first + i);
	arr += "}";
	const char *p[2] = { arr.c_str(), state };
	struct db *dba = pgtest_connect(g_ci);
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK,
		  db_cmd(dba,
			 "UPDATE asset SET state = $2, valid_until = CASE WHEN $2 = 'in_stock' "
			 "THEN current_date + 365 END WHERE barcode = ANY($1::bpchar[])",
			 2, p, &err))
		<< err.msg;
	db_close(dba);
}

/* Every maintained count equals the aggregate of the assets; returns the mismatches. */
long long count_mismatches(struct db *db)
{
	return count(
		db,
		"SELECT (SELECT count(*) FROM (SELECT lot_id, state, count(*) AS n FROM asset GROUP BY 1, 2) a "
		"  FULL JOIN (SELECT * FROM asset_count_lot WHERE n <> 0) c USING (lot_id, state) "
		"  WHERE a.n IS DISTINCT FROM c.n) "
		"+ (SELECT count(*) FROM (SELECT coalesce(location_id, 0) AS location_id, model_id, state, "
		"  count(*) AS n FROM asset GROUP BY 1, 2, 3) a "
		"  FULL JOIN (SELECT * FROM asset_count_place WHERE n <> 0) c USING (location_id, model_id, state) "
		"  WHERE a.n IS DISTINCT FROM c.n) "
		"+ (SELECT count(*) FROM (SELECT model_id, state, count(*) AS n FROM asset GROUP BY 1, 2) a "
		"  FULL JOIN (SELECT * FROM asset_count_model WHERE n <> 0) c USING (model_id, state) "
		"  WHERE a.n IS DISTINCT FROM c.n) "
		"+ (SELECT count(*) FROM asset a LEFT JOIN asset_lot_span s USING (lot_id) "
		"  WHERE s.lot_id IS NULL OR a.asset_id NOT BETWEEN s.first_id AND s.last_id)");
}

class Scale : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("scale");
		g_person = pgtest_user(
			g_ci, "mlt_scale", "规模测试员",
			"warehouse_clerk,field_member,lab_technician,quality_analyst,admin");
		struct db *db = pgtest_connect(g_person);
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, asset_manufacturer_add(db, "HX", "华仪", &err)) << err.msg;
		const char *meters[] = { "M1", "M2" };
		for (const char *code : meters) {
			struct asset_model m = {};
			m.code = code;
			m.manufacturer_code = "HX";
			m.name = code;
			m.kind = "meter_1p";
			m.accuracy_class = "1";
			m.connection = "direct";
			m.verification_period_months = "96";
			ASSERT_EQ(ML_OK, asset_model_add(db, &m, &err)) << err.msg;
		}
		struct asset_model ct = {};
		ct.code = "C1";
		ct.manufacturer_code = "HX";
		ct.name = "CT";
		ct.kind = "ct";
		ct.verification_period_months = "120";
		ASSERT_EQ(ML_OK, asset_model_add(db, &ct, &err)) << err.msg;
		const char *locs[][2] = { { "CITY1", "secondary_store" },
					  { "CITY2", "secondary_store" },
					  { "TEAM1", "field_team" },
					  { "SITE1", "customer_site" } };
		for (auto &l : locs)
			ASSERT_EQ(ML_OK, asset_location_add(db, l[0], l[0], l[1], nullptr, &err))
				<< err.msg;
		ASSERT_EQ(ML_OK, db_cmd(db, "SELECT ml_user_set_team('mlt_scale', 'TEAM1')", 0,
					nullptr, &err))
			<< err.msg;
		/* deliveries: single-model lots and a mixed one */
		receive(db, "L1", csv(1000, 60, "M1"));
		receive(db, "L2", csv(2000, 40, "M2"), "CITY2");
		receive(db, "L3", csv(3000, 40, "M1", "M2"));
		receive(db, "L4", csv(4000, 30, "C1"));
		/* spread them over states and places */
		dba_state(1000, 45, "in_stock");
		dba_state(1045, 5, "failed");
		must_move(db, 1000, 30, ASSET_ACT_DISPATCH, "CITY1");
		must_move(db, 1000, 25, ASSET_ACT_RECEIVE_SECONDARY);
		must_move(db, 1000, 15, ASSET_ACT_ISSUE, "TEAM1");
		field_install(db, 1000, 10);
		dba_state(3000, 20, "in_stock");
		must_move(db, 3005, 10, ASSET_ACT_ISSUE, "TEAM1");
		field_install(db, 3005, 6);
		must_move(db, 4000, 10, ASSET_ACT_SAMPLE);
		/* late additions to L1 and L3 (an owner's fix): their id ranges now
		 * span the other lots, as when two deliveries are imported at once */
		std::string late1 = bc(1900), late3 = bc(3900);
		const char *late[2] = { late1.c_str(), late3.c_str() };
		db_close(db);
		db = pgtest_connect(g_ci); /* the DBA */
		ASSERT_EQ(
			ML_OK,
			db_cmd(db,
			       "INSERT INTO asset (barcode, model_id, lot_id, production_batch, "
			       "production_date, location_id) SELECT b, m.model_id, l.lot_id, 'B9', "
			       "'2026-09-14', 1 FROM (VALUES ($1, 'M1', 'L1'), ($2, 'M2', 'L3')) v(b, mc, lc) "
			       "JOIN device_model m ON m.code = v.mc JOIN lot l ON l.code = v.lc",
			       2, late, &err))
			<< err.msg;
		db_close(db);
	}
	void SetUp() override
	{
		db = pgtest_connect(g_ci);
	}
	void TearDown() override
	{
		db_close(db);
	}
	struct db *db = nullptr;
};

TEST_F(Scale, CountsEqualTheAssetsAfterEveryKindOfWrite)
{
	EXPECT_EQ(0, count_mismatches(db));
	EXPECT_EQ(172, count(db, "SELECT sum(n) FROM asset_count_lot"));
	struct db *p = pgtest_connect(g_person);
	/* a refused batch changes nothing, counts included */
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_NE(ML_OK, move_range(p, 1000, 60, ASSET_ACT_SAMPLE, nullptr, &err));
	EXPECT_EQ(0, count_mismatches(db));
	/* a batch rolled back by its caller */
	struct ml_error e2 = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_begin(p, &e2)) << e2.msg;
	ASSERT_EQ(ML_OK, move_range(p, 2000, 10, ASSET_ACT_SAMPLE, nullptr, &e2)) << e2.msg;
	EXPECT_EQ(0, count_mismatches(p));
	db_rollback(p);
	EXPECT_EQ(0, count_mismatches(db));
	/* a swap at a metering point (two assets' changes in one statement) */
	receive(p, "SWAP-A", csv(5000, 3, "M1")); /* 5002: never installed, deleted below */
	dba_state(5000, 2, "in_stock");
	must_move(p, 5000, 2, ASSET_ACT_ISSUE, "TEAM1");
	field_install(p, 5000, 1);
	std::string olds = bc(5000), news = bc(5001);
	const char *sw[2] = { olds.c_str(), news.c_str() };
	ASSERT_EQ(ML_OK, db_exec(p, "SELECT ml_swap($1, '1', 'rotation', $2, '0', NULL, NULL)", 2,
				 sw, PGRES_TUPLES_OK, nullptr, &err))
		<< err.msg;
	db_close(p);
	EXPECT_EQ(0, count_mismatches(db));
	/* the owner's direct writes, bypassing the library, are counted too */
	ASSERT_EQ(ML_OK,
		  exec1(db,
			"UPDATE asset SET location_id = (SELECT location_id FROM location "
			"WHERE code = 'CITY2'), model_id = (SELECT model_id FROM device_model "
			"WHERE code = 'M2') WHERE barcode = ANY($1::bpchar[])",
			"{" + bc(5000) + "," + bc(5001) + "}", &err))
		<< err.msg;
	EXPECT_EQ(0, count_mismatches(db));
	ASSERT_EQ(ML_OK, exec1(db, "DELETE FROM asset WHERE barcode = $1", bc(5002), &err))
		<< err.msg;
	EXPECT_EQ(0, count_mismatches(db));
}

TEST_F(Scale, CountsAreReadOnlyForTheApplication)
{
	/* a person's login: the group role meterlab_app itself cannot log in (0142) */
	struct db *app = pgtest_connect(pgtest_as(g_ci, "mlt_analyst"));
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_GT(count(app, "SELECT count(*) FROM asset_count_place"), 0);
	EXPECT_NE(ML_OK, db_cmd(app, "UPDATE asset_count_lot SET n = n + 1", 0, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "42501")) << err.msg;
	EXPECT_NE(ML_OK, db_cmd(app, "INSERT INTO asset_count_model VALUES (1, 'arrived', 5)", 0,
				nullptr, &err));
	EXPECT_NE(ML_OK, db_cmd(app, "DELETE FROM asset_lot_span", 0, nullptr, &err));
	db_close(app);
	/* but people's moves keep them right (the trigger function has the owner's rights) */
	struct db *clerk = pgtest_connect(pgtest_as(g_ci, "mlt_clerk"));
	struct db *tech = pgtest_connect(pgtest_as(g_ci, "mlt_tech"));
	receive(clerk, "APP-C", csv(6000, 3, "M1"));
	ASSERT_EQ(ML_OK, move_range(tech, 6000, 3, ASSET_ACT_SAMPLE, nullptr, &err)) << err.msg;
	db_close(clerk);
	db_close(tech);
	EXPECT_EQ(0, count_mismatches(db));
}

TEST_F(Scale, AnAssetsLotCannotChange)
{
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL,
		  exec1(db,
			"UPDATE asset SET lot_id = (SELECT lot_id FROM lot WHERE code = 'L2') "
			"WHERE barcode = $1",
			bc(1000), &err));
	EXPECT_NE(nullptr, strstr(err.msg, "arrival lot is history")) << err.msg;
}

/* The ids a plain filtered query returns (the specification of asset_list). */
std::vector<long long> naive(struct db *db, const char *st, const char *mo, const char *lo,
			     const char *loc)
{
	PGresult *res = query(
		db,
		"SELECT a.asset_id FROM asset a JOIN device_model m USING (model_id) JOIN lot USING (lot_id) "
		"LEFT JOIN location l ON l.location_id = a.location_id "
		"WHERE ($1::text IS NULL OR a.state = $1) AND ($2::text IS NULL OR m.code = $2) "
		"AND ($3::text IS NULL OR lot.code = $3) AND ($4::text IS NULL OR l.code = $4) "
		"ORDER BY a.asset_id",
		{ st, mo, lo, loc });
	std::vector<long long> v;
	for (int r = 0; res && r < PQntuples(res); r++)
		v.push_back(atoll(PQgetvalue(res, r, 0)));
	PQclear(res);
	return v;
}

TEST_F(Scale, EveryFilterAndEveryPageMatchesAPlainQuery)
{
	const char *states[] = { nullptr,     "arrived",  "in_stock", "secondary_stock",
				 "installed", "sampling", "scrapped" };
	const char *models[] = { nullptr, "M1", "M2", "C1", "NOSUCH" };
	const char *lots[] = { nullptr, "L1", "L2", "L3", "L4", "NOSUCH" };
	const char *locs[] = { nullptr, "CENTRAL", "CITY1", "CITY2", "SITE1", "NOSUCH" };
	int combos = 0, nonempty = 0;
	for (const char *st : states)
		for (const char *mo : models)
			for (const char *lo : lots)
				for (const char *loc : locs) {
					std::vector<long long> want = naive(db, st, mo, lo, loc);
					for (long limit : { 4L, 1000L }) {
						std::vector<long long> got;
						struct asset_filter f = {};
						f.state = st;
						f.model = mo;
						f.lot = lo;
						f.location = loc;
						f.limit = limit;
						for (int page = 0; page < 400; page++) {
							PGresult *res = nullptr;
							struct ml_error err = ML_ERROR_INIT;
							ASSERT_EQ(ML_OK,
								  asset_list(db, &f, &res, &err))
								<< err.msg;
							int n = PQntuples(res);
							ASSERT_LE(n, limit);
							for (int r = 0; r < n; r++)
								got.push_back(atoll(
									PQgetvalue(res, r, 0)));
							if (n)
								f.after_id = got.back();
							PQclear(res);
							if (n < limit)
								break;
						}
						ASSERT_EQ(want, got)
							<< "state=" << (st ? st : "*")
							<< " model=" << (mo ? mo : "*")
							<< " lot=" << (lo ? lo : "*")
							<< " location=" << (loc ? loc : "*")
							<< " limit=" << limit;
					}
					combos++;
					nonempty += !want.empty();
				}
	/* the data must exercise the function: many combinations with rows */
	EXPECT_EQ(7 * 5 * 6 * 6, combos);
	EXPECT_GT(nonempty, 60);
	/* a page starting anywhere, e.g. in the middle of a lot */
	struct asset_filter f = {};
	f.lot = "L3";
	f.after_id = naive(db, nullptr, nullptr, "L3", nullptr)[17];
	f.limit = 5;
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, asset_list(db, &f, &res, &err)) << err.msg;
	ASSERT_EQ(5, PQntuples(res));
	EXPECT_EQ(naive(db, nullptr, nullptr, "L3", nullptr)[18], atoll(PQgetvalue(res, 0, 0)));
	PQclear(res);
}

TEST_F(Scale, LotLocationAndStockListsReadTheCounts)
{
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, asset_lot_list(db, &res, &err)) << err.msg;
	int checked = 0;
	for (int r = 0; r < PQntuples(res); r++) {
		const char *lot = db_get(res, r, "code");
		if (strcmp(lot, "L1"))
			continue;
		/* states sorted by name with their counts, as before 0170 */
		std::string want;
		PGresult *agg = query(
			db,
			"SELECT string_agg(state || ':' || n, ' ' ORDER BY state) FROM (SELECT state, "
			"count(*) AS n FROM asset JOIN lot USING (lot_id) WHERE lot.code = 'L1' "
			"GROUP BY state) s");
		want = PQgetvalue(agg, 0, 0);
		PQclear(agg);
		EXPECT_EQ(want, db_get(res, r, "states"));
		checked++;
	}
	PQclear(res);
	EXPECT_EQ(1, checked);

	ASSERT_EQ(ML_OK, asset_location_list(db, &res, &err)) << err.msg;
	for (int r = 0; r < PQntuples(res); r++) {
		const char *code = db_get(res, r, "code");
		EXPECT_EQ(count(db,
				"SELECT count(*) FROM asset a JOIN location l USING (location_id) "
				"WHERE l.code = $1",
				{ code }),
			  atoll(db_get(res, r, "assets")))
			<< code;
	}
	EXPECT_GE(PQntuples(res), 5);
	PQclear(res);

	/* stores only by default; every place with ALL; a named place whatever its kind */
	struct asset_stock_filter sf = {};
	ASSERT_EQ(ML_OK, asset_stock(db, &sf, &res, &err)) << err.msg;
	long long total = 0;
	for (int r = 0; r < PQntuples(res); r++) {
		EXPECT_TRUE(!strcmp(db_get(res, r, "kind"), "central_store") ||
			    !strcmp(db_get(res, r, "kind"), "secondary_store"))
			<< db_get(res, r, "location");
		total += atoll(db_get(res, r, "assets"));
	}
	PQclear(res);
	EXPECT_EQ(count(db, "SELECT count(*) FROM asset a JOIN location l USING (location_id) "
			    "WHERE l.kind IN ('central_store', 'secondary_store')"),
		  total);
	/* a named place of any kind: the same rows as a plain aggregate */
	sf.location = "SITE1";
	sf.model = "M1";
	ASSERT_EQ(ML_OK, asset_stock(db, &sf, &res, &err)) << err.msg;
	PGresult *agg = query(
		db, "SELECT a.state, count(*) FROM asset a JOIN location l USING (location_id) "
		    "JOIN device_model m USING (model_id) WHERE l.code = 'SITE1' AND m.code = 'M1' "
		    "GROUP BY 1 ORDER BY 1");
	ASSERT_GE(PQntuples(agg), 1);
	ASSERT_EQ(PQntuples(agg), PQntuples(res));
	for (int r = 0; r < PQntuples(res); r++) {
		EXPECT_STREQ(PQgetvalue(agg, r, 0), db_get(res, r, "state"));
		EXPECT_STREQ(PQgetvalue(agg, r, 1), db_get(res, r, "assets"));
		EXPECT_STREQ("customer_site", db_get(res, r, "kind"));
	}
	PQclear(agg);
	PQclear(res);
	struct asset_stock_filter tf = {};
	tf.scope = ASSET_STOCK_TOTALS;
	tf.state = "arrived";
	ASSERT_EQ(ML_OK, asset_stock(db, &tf, &res, &err)) << err.msg;
	total = 0;
	for (int r = 0; r < PQntuples(res); r++)
		total += atoll(db_get(res, r, "assets"));
	PQclear(res);
	EXPECT_EQ(count(db, "SELECT count(*) FROM asset WHERE state = 'arrived'"), total);
	tf.location = "CITY1";
	EXPECT_EQ(ML_EINVAL, asset_stock(db, &tf, &res, &err));
	tf.location = nullptr;
	tf.state = "misplaced";
	EXPECT_EQ(ML_EINVAL, asset_stock(db, &tf, &res, &err));
}

TEST_F(Scale, OneAssetsHistoryIsReadFromOnePartition)
{
	std::string b = bc(1000);
	long long id = count(db, "SELECT asset_id FROM asset WHERE barcode = $1", { b.c_str() });
	ASSERT_GT(id, 0);
	std::string sid = std::to_string(id);
	/* the events are in the partition whose range holds the asset id */
	EXPECT_EQ(count(db, "SELECT count(*) FROM asset_event WHERE asset_id = $1::bigint",
			{ sid.c_str() }),
		  count(db,
			"SELECT count(*) FROM asset_event e JOIN pg_class c ON c.oid = e.tableoid "
			"WHERE e.asset_id = $1::bigint AND c.relname = 'asset_event_a000m'",
			{ sid.c_str() }));
	EXPECT_EQ(0, count(db, "SELECT count(*) FROM asset_event_default"));
	/* the plan of the history query opens exactly one partition */
	PGresult *res = query(db,
			      "EXPLAIN (FORMAT JSON) SELECT * FROM asset_event "
			      "WHERE asset_id = $1::bigint ORDER BY occurred_at, event_id",
			      { sid.c_str() });
	ASSERT_NE(nullptr, res);
	std::string plan = PQgetvalue(res, 0, 0);
	PQclear(res);
	size_t n = 0;
	for (size_t p = plan.find("\"Relation Name\""); p != std::string::npos;
	     p = plan.find("\"Relation Name\"", p + 1))
		n++;
	EXPECT_EQ(1u, n) << plan;
	EXPECT_NE(std::string::npos, plan.find("asset_event_a000m")) << plan;
	/* ranges of 4 M ids ahead up to 120 M, and a default partition */
	EXPECT_EQ(
		31,
		count(db,
		      "SELECT count(*) FROM pg_inherits WHERE inhparent = 'asset_event'::regclass"));
	struct ml_error err = ML_ERROR_INIT;
	PGresult *hist = nullptr;
	ASSERT_EQ(ML_OK, asset_history(db, id, &hist, &err)) << err.msg;
	EXPECT_GE(PQntuples(hist), 5); /* receive, dispatch, receive_secondary, issue, install */
	EXPECT_STREQ("receive", db_get(hist, 0, "action"));
	PQclear(hist);
}

} // namespace
