/*
 * Closed-loop monitoring against the real PostgreSQL (issue 15): each rule
 * on constructed data that trips it and data that must not; one open item
 * per anomaly however often (and however concurrently) the rules run;
 * closing refused while the condition holds unless a reason is given, and a
 * waived anomaly not reopened; the item's role and, at a field team, the team
 * (0375); timeliness; and every login refused direct writes of the items and
 * rules.
 *
 * Data is constructed by the DBA (superuser) straight into the tables the
 * rules read — the rules are what is tested here, not the flows that write
 * those tables (tests/stores, tests/field, tests/lab test those). Certificate
 * and run rows are inserted with triggers off (session_replication_role).
 */
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "assets/registry.h"
#include "plan/watch.h"

namespace
{

std::string g_ci;

std::string bc(unsigned long long serial)
{
	char out[23];
	struct ml_error err = ML_ERROR_INIT;
	if (barcode_make("41300", "02", serial, out, &err))
		ADD_FAILURE() << err.msg;
	return out;
}

std::string one(const std::string &ci, const std::string &sql, std::vector<std::string> params = {})
{
	struct db *db = pgtest_connect(ci);
	std::vector<const char *> p;
	for (auto &s : params)
		p.push_back(s.c_str());
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	std::string v = "?";
	if (db_query_one(db, sql.c_str(), (int)p.size(), p.data(), &res, &err))
		ADD_FAILURE() << sql << ": " << err.msg;
	else {
		v = PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0);
		PQclear(res);
	}
	db_close(db);
	return v;
}

std::string dbaq(const std::string &sql, std::vector<std::string> params = {})
{
	return one(g_ci, sql, params);
}

/* The DBA with every trigger off (session_replication_role): rows no flow would write. */
std::string replica()
{
	return g_ci + " options='-c session_replication_role=replica'";
}

std::string repq(const std::string &sql, std::vector<std::string> params = {})
{
	return one(replica(), sql, params);
}

void dba(const std::string &sql, std::vector<std::string> params = {}, bool triggers = true)
{
	struct db *db = pgtest_connect(triggers ? g_ci : replica());
	std::vector<const char *> p;
	for (auto &s : params)
		p.push_back(s.c_str());
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_cmd(db, sql.c_str(), (int)p.size(), p.data(), &err)) << sql << err.msg;
	db_close(db);
}

std::string as(const char *login)
{
	return pgtest_as(g_ci, login);
}

/* n fresh assets from serial first (lot "W-<first>"), received, then put in state by the DBA. */
std::vector<std::string> assets(unsigned long long first, int n, const char *state,
				const char *where)
{
	std::string csv = "barcode,model_code,production_batch,production_date\n";
	std::vector<std::string> out;
	for (int i = 0; i < n; i++) {
		out.push_back(bc(first + i));
		csv += out.back() + ",WM1,B1,2026-09-14\n";
	}
	struct db *db = pgtest_connect(as("mlt_clerk"));
	struct asset_receive_opts o = {};
	std::string lot = "W-" + std::to_string(first);
	o.lot_code = lot.c_str();
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	db_close(db);
	dba("UPDATE asset SET state = $3, valid_until = ml_cert_today() + 365, verified_at = now(), "
	    "location_id = (SELECT location_id FROM location WHERE code = $2) "
	    "WHERE lot_id = (SELECT lot_id FROM lot WHERE code = $1)",
	    { lot, where, state });
	return out;
}

#define SIGNERS                                                        \
	"(SELECT user_id FROM app_user WHERE login = 'mlt_tech'), "    \
	"(SELECT user_id FROM app_user WHERE login = 'mlt_checker'), " \
	"(SELECT user_id FROM app_user WHERE login = 'mlt_approver')"

std::string aid(const std::string &barcode)
{
	return dbaq("SELECT asset_id FROM asset WHERE barcode = $1", { barcode });
}

/* How many anomalies rule finds now whose key or evidence mentions needle. */
int found(const char *rule, const std::string &needle, const char *login = "mlt_manager")
{
	return std::stoi(
		one(as(login),
		    "SELECT count(*) FROM ml_watch_detect($1, (SELECT threshold FROM watch_rule "
		    "WHERE code = $1)) WHERE anomaly_key LIKE '%' || $2 || '%' "
		    "OR evidence::text LIKE '%' || $2 || '%'",
		    { rule, needle }));
}

struct run_row {
	long found = -1, opened = -1, open = -1, cleared = -1;
};

run_row run(const char *rule, const char *login = "mlt_manager", int *rc_out = nullptr)
{
	struct db *db = pgtest_connect(as(login));
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	run_row r;
	int rc = watch_run(db, rule, &res, &err);
	if (rc_out)
		*rc_out = rc;
	else
		EXPECT_EQ(ML_OK, rc) << err.msg;
	if (!rc) {
		EXPECT_EQ(1, PQntuples(res));
		if (PQntuples(res) == 1) {
			r.found = std::stol(db_get(res, 0, "found"));
			r.opened = std::stol(db_get(res, 0, "opened"));
			r.open = std::stol(db_get(res, 0, "open"));
			r.cleared = std::stol(db_get(res, 0, "cleared"));
		}
		PQclear(res);
	}
	db_close(db);
	return r;
}

int close_item(const char *login, const std::string &id, const char *note, const char *reason,
	       int *held, struct ml_error *err)
{
	struct db *db = pgtest_connect(as(login));
	int rc = watch_close(db, std::stoll(id), note, reason, held, err);
	db_close(db);
	return rc;
}

std::string open_item(const char *rule, const std::string &needle)
{
	return dbaq(
		"SELECT coalesce(min(item_id)::text, 'none') FROM watch_item WHERE rule = $1 AND status = 'open' "
		"AND (anomaly_key LIKE '%' || $2 || '%' OR evidence::text LIKE '%' || $2 || '%')",
		{ rule, needle });
}

class Watch : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("plan");
		struct db *db = pgtest_connect(as("mlt_admin"));
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, asset_manufacturer_add(db, "WX", "威胜", &err)) << err.msg;
		struct asset_model m = {};
		m.code = "WM1";
		m.manufacturer_code = "WX";
		m.name = "single-phase class 2";
		m.kind = "meter_1p";
		m.accuracy_class = "2";
		m.connection = "direct";
		m.wiring = "1p2w";
		m.un_v = "220";
		m.ib_a = "5";
		m.imax_a = "60";
		m.constant_imp = "1200";
		m.verification_period_months = "96";
		ASSERT_EQ(ML_OK, asset_model_add(db, &m, &err)) << err.msg;
		for (auto l : { std::pair<const char *, const char *>{ "WSITE", "customer_site" },
				{ "WTEAM", "field_team" },
				{ "WTEAM2", "field_team" },
				{ "WSTORE", "secondary_store" },
				{ "WHUB", "secondary_store" } })
			ASSERT_EQ(ML_OK,
				  asset_location_add(db, l.first, l.first, l.second, nullptr, &err))
				<< err.msg;
		db_close(db);
		/* the installations below are WTEAM's, installed by mlt_field: a member of it
		 * (an item at a field team is closed by its members or a manager, 0375);
		 * mlt_wfield2 is a field member of another team */
		one(as("mlt_admin"), "SELECT ml_user_set_team('mlt_field', 'WTEAM')");
		pgtest_user(g_ci, "mlt_wfield2", "other team", "field_member", "WTEAM2");
		dba("INSERT INTO metering_point (code, account_no, address, site_id, created_by) "
		    "SELECT 'WP' || g, '330' || g, 'address ' || g, "
		    "(SELECT location_id FROM location WHERE code = 'WSITE'), "
		    "(SELECT user_id FROM app_user WHERE login = 'mlt_manager') FROM generate_series(1, 9) g");
	}
};

/* An installation by the DBA: point WPn, installed hours ago at kWh, optionally removed at kWh. */
std::string installation(const std::string &barcode, int point, int hours_ago, const char *kwh,
			 const char *removed_kwh = nullptr, int removed_hours_ago = 0)
{
	return dbaq(
		"INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, installed_at, "
		"install_kwh, removed_by, removed_at, remove_kwh, remove_reason) "
		"SELECT a.asset_id, p.point_id, 'meter', (SELECT location_id FROM location WHERE code = 'WTEAM'), "
		"u.user_id, now() - make_interval(hours => $3::int), $4::numeric, "
		"CASE WHEN NULLIF($5, '')::numeric IS NULL THEN NULL ELSE u.user_id END, "
		"CASE WHEN NULLIF($5, '')::numeric IS NULL THEN NULL ELSE now() - make_interval(hours => $6::int) END, "
		"NULLIF($5, '')::numeric, CASE WHEN NULLIF($5, '')::numeric IS NULL THEN NULL ELSE 'rotation' END "
		"FROM asset a, metering_point p, app_user u "
		"WHERE a.barcode = $1 AND p.code = 'WP' || $2 AND u.login = 'mlt_field' RETURNING installation_id",
		{ barcode, std::to_string(point), std::to_string(hours_ago), kwh,
		  removed_kwh ? removed_kwh : "", std::to_string(removed_hours_ago) });
}

} // namespace

TEST_F(Watch, TransitOverdueTripsOnlyPastTheThresholdAndClosesWhenGone)
{
	auto a = assets(1000, 2, "in_transit", "WSTORE");
	dba("UPDATE asset SET state_changed_at = now() - interval '10 days' WHERE barcode = $1",
	    { a[0] });
	dba("UPDATE asset SET state_changed_at = now() - interval '2 days' WHERE barcode = $1",
	    { a[1] });
	EXPECT_EQ(1, found("transit_overdue", a[0]));
	EXPECT_EQ(0, found("transit_overdue", a[1]));

	run_row r = run("transit_overdue");
	EXPECT_EQ(1, r.found);
	EXPECT_EQ(1, r.opened);
	r = run("transit_overdue"); // never a second open item for the same anomaly
	EXPECT_EQ(0, r.opened);
	EXPECT_EQ(1, r.open);
	std::string id = open_item("transit_overdue", a[0]);
	ASSERT_NE("none", id);
	EXPECT_EQ("warehouse_clerk",
		  dbaq("SELECT role FROM watch_item WHERE item_id = $1", { id }));
	EXPECT_EQ(
		"WSTORE",
		dbaq("SELECT l.code FROM watch_item i JOIN location l ON l.location_id = i.place_id "
		     "WHERE item_id = $1",
		     { id }));
	EXPECT_EQ(dbaq("SELECT (ml_cert_today() + 3)::text"),
		  dbaq("SELECT due_on::text FROM watch_item WHERE item_id = $1", { id }));
	EXPECT_EQ(dbaq("SELECT user_id::text FROM app_user WHERE login = 'mlt_manager'"),
		  dbaq("SELECT opened_by::text FROM watch_item WHERE item_id = $1", { id }));

	// closing while the asset is still in transit, without a reason: refused
	struct ml_error err = ML_ERROR_INIT;
	int held = -1;
	EXPECT_EQ(ML_ESTATE,
		  close_item("mlt_clerk", id, "called the county store", nullptr, &held, &err));
	EXPECT_NE(std::string::npos, std::string(err.msg).find("still holds")) << err.msg;
	EXPECT_EQ("open", dbaq("SELECT status FROM watch_item WHERE item_id = $1", { id }));
	// not the item's role: refused
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EPERM, close_item("mlt_tech", id, "n", "r", &held, &err)) << err.msg;
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EPERM, close_item("mlt_field", id, "n", "r", &held, &err)) << err.msg;

	// the asset arrives: the run marks it gone, the clerk closes it without a reason
	dba("UPDATE asset SET state = 'secondary_stock' WHERE barcode = $1", { a[0] });
	r = run("transit_overdue");
	EXPECT_EQ(1, r.cleared);
	EXPECT_NE("NULL", dbaq("SELECT cleared_at FROM watch_item WHERE item_id = $1", { id }));
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK,
		  close_item("mlt_clerk", id, "received at the county store", nullptr, &held, &err))
		<< err.msg;
	EXPECT_EQ(0, held);
	EXPECT_EQ(
		"closed|false|mlt_clerk",
		dbaq("SELECT i.status || '|' || i.condition_held || '|' || u.login FROM watch_item i "
		     "JOIN app_user u ON u.user_id = i.closed_by WHERE item_id = $1",
		     { id }));
	// closed is final
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE, close_item("mlt_clerk", id, "again", "again", &held, &err));
}

TEST_F(Watch, WaivedWithAReasonIsNotOpenedAgain)
{
	auto a = assets(1100, 1, "in_transit", "WSTORE");
	dba("UPDATE asset SET state_changed_at = now() - interval '30 days' WHERE barcode = $1",
	    { a[0] });
	run("transit_overdue");
	std::string id = open_item("transit_overdue", a[0]);
	ASSERT_NE("none", id);
	struct ml_error err = ML_ERROR_INIT;
	int held = -1;
	ASSERT_EQ(ML_OK, close_item("mlt_manager", id, "truck held at customs",
				    "customs hold, released next week", &held, &err))
		<< err.msg;
	EXPECT_EQ(1, held);
	run_row r = run("transit_overdue");
	EXPECT_EQ("none", open_item("transit_overdue", a[0]));
	EXPECT_EQ("1",
		  dbaq("SELECT count(*) FROM watch_item WHERE anomaly_key LIKE '%' || $1 || '@%'",
		       { "asset:" + aid(a[0]) }));
	(void)r;
	// a new episode (the asset moved on and went into transit again) is a new anomaly
	dba("UPDATE asset SET state_changed_at = now() - interval '8 days' WHERE barcode = $1",
	    { a[0] });
	run("transit_overdue");
	EXPECT_NE("none", open_item("transit_overdue", a[0]));
}

TEST_F(Watch, ConcurrentRunsOpenOneItem)
{
	auto a = assets(1200, 3, "in_transit", "WSTORE");
	for (auto &b : a)
		dba("UPDATE asset SET state_changed_at = now() - interval '9 days' WHERE barcode = $1",
		    { b });
	std::vector<std::thread> t;
	for (int i = 0; i < 4; i++)
		t.emplace_back([] { run("transit_overdue"); });
	for (auto &x : t)
		x.join();
	for (auto &b : a)
		EXPECT_EQ("1",
			  dbaq("SELECT count(*) FROM watch_item WHERE rule = 'transit_overdue' "
			       "AND evidence->>'barcode' = $1",
			       { b }));
}

TEST_F(Watch, StockPastReverificationAge)
{
	auto old = assets(1300, 3, "in_stock", "WSTORE");
	auto expired = assets(1310, 2, "secondary_stock", "WSTORE");
	auto fresh = assets(1320, 2, "in_stock", "WSTORE");
	auto installed = assets(1330, 1, "in_stock", "WSTORE");
	dba("UPDATE asset SET verified_at = now() - interval '7 months' WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'W-1300')");
	dba("UPDATE asset SET valid_until = ml_cert_today() - 1 WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'W-1310')");
	dba("UPDATE asset SET verified_at = now() - interval '5 months' WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'W-1320')");
	dba("UPDATE asset SET state = 'issued' WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'W-1330')");
	dba("UPDATE asset SET verified_at = now() - interval '2 years' WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'W-1330')");
	EXPECT_EQ(1, found("stock_reverify_age", "W-1300"));
	EXPECT_EQ("3",
		  one(as("mlt_manager"),
		      "SELECT evidence->>'assets' FROM ml_watch_detect('stock_reverify_age', NULL) "
		      "WHERE evidence->>'lot' = 'W-1300'"));
	EXPECT_EQ(1, found("stock_reverify_age", "W-1310"));
	EXPECT_EQ(0, found("stock_reverify_age", "W-1320"));
	EXPECT_EQ(0, found("stock_reverify_age", "W-1330")); // issued: not stock
	// the setting moves the threshold: 4 months catches the 5-month-old lot
	dba("INSERT INTO lab_setting (key, value, updated_by) VALUES ('stock.reverify_months', '4', 'dba')");
	EXPECT_EQ(1, found("stock_reverify_age", "W-1320"));
	dba("DELETE FROM lab_setting WHERE key = 'stock.reverify_months'");
	(void)old, (void)expired, (void)fresh, (void)installed;
}

TEST_F(Watch, ReadingsGoingBackwardsBetweenRemoveAndInstall)
{
	auto a = assets(1400, 3, "installed", "WSITE");
	std::string bad1 = installation(a[0], 1, 2000, "100", "500.00", 1500);
	std::string bad2 = installation(a[0], 2, 100, "300.00");
	std::string ok1 = installation(a[1], 3, 2000, "100", "500.00", 1500);
	std::string ok2 = installation(a[1], 4, 100, "500.00");
	std::string only = installation(a[2], 5, 100, "0");
	EXPECT_EQ(1, found("reading_backwards", "installation:" + bad2));
	EXPECT_EQ(0, found("reading_backwards", "installation:" + bad1));
	EXPECT_EQ(0, found("reading_backwards", "installation:" + ok2));
	EXPECT_EQ(0, found("reading_backwards", "installation:" + only));
	EXPECT_EQ(
		"500.00",
		one(as("mlt_manager"),
		    "SELECT evidence->>'previous_remove_kwh' FROM ml_watch_detect('reading_backwards', 0) "
		    "WHERE anomaly_key = $1",
		    { "installation:" + bad2 }));
	// threshold in hundredths of kWh: 200 kWh back is within 20000, not within 19999
	EXPECT_EQ(
		"0",
		one(as("mlt_manager"),
		    "SELECT count(*) FROM ml_watch_detect('reading_backwards', 20000) WHERE anomaly_key = $1",
		    { "installation:" + bad2 }));
	EXPECT_EQ(
		"1",
		one(as("mlt_manager"),
		    "SELECT count(*) FROM ml_watch_detect('reading_backwards', 19999) WHERE anomaly_key = $1",
		    { "installation:" + bad2 }));
	run("reading_backwards");
	std::string id = open_item("reading_backwards", "installation:" + bad2);
	ASSERT_NE("none", id);
	EXPECT_EQ("field_member|WTEAM",
		  dbaq("SELECT i.role || '|' || l.code FROM watch_item i "
		       "JOIN location l ON l.location_id = i.place_id WHERE item_id = $1",
		       { id }));
	// history cannot be made right: only a reason closes it
	struct ml_error err = ML_ERROR_INIT;
	int held = -1;
	EXPECT_EQ(ML_ESTATE, close_item("mlt_field", id, "checked", nullptr, &held, &err));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, close_item("mlt_field", id, "register replaced by the maker (report 12)",
				    "maker replaced the register module", &held, &err))
		<< err.msg;
	EXPECT_EQ(1, held);
	(void)ok1;
}

TEST_F(Watch, MetersInstalledWithoutSeals)
{
	auto a = assets(1500, 4, "installed", "WSITE");
	std::string bare = installation(a[0], 6, 48, "1");
	std::string sealed = installation(a[1], 7, 48, "1");
	std::string recent = installation(a[2], 8, 1, "1");
	std::string gone = installation(a[3], 9, 48, "1", "2", 24);
	dba("INSERT INTO seal (code, batch, state, installation_id, asset_id) VALUES ('WS0001', 'WB', 'applied', $1, $2)",
	    { sealed, aid(a[1]) });
	EXPECT_EQ(1, found("unsealed_install", "installation:" + bare));
	EXPECT_EQ(0, found("unsealed_install", "installation:" + sealed));
	EXPECT_EQ(0, found("unsealed_install", "installation:" + recent)); // within 24 h
	EXPECT_EQ(0, found("unsealed_install", "installation:" + gone));   // removed
	run("unsealed_install");
	std::string id = open_item("unsealed_install", "installation:" + bare);
	ASSERT_NE("none", id);
	struct ml_error err = ML_ERROR_INIT;
	int held = -1;
	EXPECT_EQ(ML_ESTATE, close_item("mlt_field", id, "will seal", nullptr, &held, &err));
	dba("INSERT INTO seal (code, batch, state, installation_id, asset_id) VALUES ('WS0002', 'WB', 'applied', $1, $2)",
	    { bare, aid(a[0]) });
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK,
		  close_item("mlt_field", id, "sealed on the second visit", nullptr, &held, &err))
		<< err.msg;
	EXPECT_EQ(0, held);
}

/*
 * An item placed at a field team (the installing team of the installation rules) is that
 * team's work. 0300 checked only the role: a field member of ANOTHER team closed it and,
 * with a reason, waived it for good (a waived anomaly is never opened again). Since 0375
 * only a member of the item's team (app_user.team_location_id, as ml_install, 0225) or a
 * manager closes it; the refusal names the item, the team and the person and writes nothing.
 */
TEST_F(Watch, AnotherTeamNeitherClosesNorWaivesATeamsItem)
{
	auto a = assets(1900, 2, "installed", "WSITE");
	// points of its own (the other tests use WP1-WP25)
	dba("INSERT INTO metering_point (code, account_no, address, site_id, created_by) "
	    "SELECT 'WP' || g, '330' || g, 'address ' || g, "
	    "(SELECT location_id FROM location WHERE code = 'WSITE'), "
	    "(SELECT user_id FROM app_user WHERE login = 'mlt_manager') FROM generate_series(30, 31) g");
	std::string i0 = installation(a[0], 30, 48, "1");
	std::string i1 = installation(a[1], 31, 48, "1");
	run("unsealed_install");
	std::string id0 = open_item("unsealed_install", "installation:" + i0);
	std::string id1 = open_item("unsealed_install", "installation:" + i1);
	ASSERT_NE("none", id0);
	ASSERT_NE("none", id1);
	EXPECT_EQ("field_member|WTEAM",
		  dbaq("SELECT i.role || '|' || l.code FROM watch_item i "
		       "JOIN location l ON l.location_id = i.place_id WHERE item_id = $1",
		       { id0 }));
	const std::string before =
		"SELECT status || '|' || coalesce(closed_by::text, '-') || '|' || "
		"coalesce(note, '-') || '|' || coalesce(reason, '-') || '|' || "
		"coalesce(condition_held::text, '-') FROM watch_item WHERE item_id = $1";
	EXPECT_EQ("open|-|-|-|-", dbaq(before, { id0 }));
	// another team's field member: neither closed (the condition holds) nor waived
	int held = -1;
	for (const char *reason : { (const char *)nullptr, "not our meter" }) {
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_EPERM, close_item("mlt_wfield2", id0, "sealed", reason, &held, &err))
			<< (reason ? reason : "(no reason)") << ": " << err.msg;
		EXPECT_NE(nullptr,
			  strstr(err.msg,
				 ("work item " + id0 + " belongs to field team WTEAM").c_str()))
			<< err.msg;
		EXPECT_NE(nullptr, strstr(err.msg, "mlt_wfield2")) << err.msg;
	}
	// nor through the command line (exit 9: a permission refusal)
	std::string out;
	EXPECT_EQ(9,
		  pgtest_run(pgtest_cli() + " --db " + pgtest_sq(as("mlt_wfield2")) +
				     " watch close " + id0 + " --note 'sealed' --reason 'not ours'",
			     &out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("field team WTEAM")) << out;
	EXPECT_EQ("open|-|-|-|-", dbaq(before, { id0 }));
	// still found by the next run: it was not waived
	EXPECT_EQ(0, run("unsealed_install").opened);
	EXPECT_EQ(id0, open_item("unsealed_install", "installation:" + i0));
	// the team's own member waives it; a manager (of no team) the other
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, close_item("mlt_field", id0, "customer away", "seal booked for Monday",
				    &held, &err))
		<< err.msg;
	EXPECT_EQ(1, held);
	EXPECT_EQ("closed|mlt_field|seal booked for Monday",
		  dbaq("SELECT i.status || '|' || u.login || '|' || i.reason FROM watch_item i "
		       "JOIN app_user u ON u.user_id = i.closed_by WHERE item_id = $1",
		       { id0 }));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK,
		  close_item("mlt_manager", id1, "checked", "seal booked for Monday", &held, &err))
		<< err.msg;
	EXPECT_EQ("closed|mlt_manager",
		  dbaq("SELECT i.status || '|' || u.login FROM watch_item i "
		       "JOIN app_user u ON u.user_id = i.closed_by WHERE item_id = $1",
		       { id1 }));
	// seal them, so later tests' rules see nothing of this one
	dba("INSERT INTO seal (code, batch, state, installation_id, asset_id) VALUES "
	    "('WS0020', 'WB', 'applied', $1, $2), ('WS0021', 'WB', 'applied', $3, $4)",
	    { i0, aid(a[0]), i1, aid(a[1]) });
}

/*
 * 0310 keeps the two installation rules' candidates as derived data (the
 * previous installation's removal reading on each installation; the list of
 * active meter installations with no applied seal). Whatever order the field
 * records arrive in and however they change afterwards, the rules must find
 * exactly what the full queries of 0300 find, a rebuild from scratch must
 * change nothing, and no login may write the derived data.
 */
std::string full_backwards()
{
	return dbaq(
		"SELECT coalesce(string_agg('installation:' || installation_id, ',' ORDER BY installation_id), '') "
		"FROM (SELECT i.installation_id, i.install_kwh, lag(i.remove_kwh) OVER w AS prev "
		"      FROM installation i WHERE i.element = 'meter' "
		"      WINDOW w AS (PARTITION BY i.asset_id ORDER BY i.installed_at, i.installation_id)) x "
		"WHERE x.install_kwh < x.prev");
}

std::string full_unsealed()
{
	return dbaq(
		"SELECT coalesce(string_agg('installation:' || i.installation_id, ',' ORDER BY i.installation_id), '') "
		"FROM installation i WHERE i.removed_at IS NULL AND i.element = 'meter' "
		"AND NOT EXISTS (SELECT 1 FROM seal s WHERE s.installation_id = i.installation_id "
		"AND s.state = 'applied')");
}

std::string rule_keys(const char *rule)
{
	return one(
		as("mlt_manager"),
		"SELECT coalesce(string_agg(anomaly_key, ',' ORDER BY substr(anomaly_key, 14)::bigint), '') "
		"FROM ml_watch_detect($1, 0)",
		{ rule });
}

std::string derived_state()
{
	return dbaq(
		"SELECT md5(coalesce(string_agg(installation_id || ':' || coalesce(prev_installation_id::text, '-') "
		"|| ':' || coalesce(prev_remove_kwh::text, '-'), ',' ORDER BY installation_id), '') || '|' "
		"|| (SELECT coalesce(string_agg(installation_id::text, ',' ORDER BY installation_id), '') "
		"    FROM installation_unsealed)) FROM installation");
}

void expect_rules_equal_full_queries(const char *when)
{
	SCOPED_TRACE(when);
	EXPECT_EQ(full_backwards(), rule_keys("reading_backwards"));
	EXPECT_EQ(full_unsealed(), rule_keys("unsealed_install"));
}

TEST_F(Watch, InstallationCandidatesFollowEveryChangeOfTheFieldRecords)
{
	auto a = assets(1550, 3, "installed", "WSITE");
	// points of its own: the other tests' meters stay installed at WP1-WP9
	dba("INSERT INTO metering_point (code, account_no, address, site_id, created_by) "
	    "SELECT 'WP' || g, '330' || g, 'address ' || g, "
	    "(SELECT location_id FROM location WHERE code = 'WSITE'), "
	    "(SELECT user_id FROM app_user WHERE login = 'mlt_manager') FROM generate_series(21, 25) g");
	// a[0]: the later installation arrives first (an offline record sent late), then the
	// earlier one, removed at more than the later one was installed at
	std::string later = installation(a[0], 21, 100, "40.00");
	expect_rules_equal_full_queries("the later installation alone");
	EXPECT_EQ(0, found("reading_backwards", "installation:" + later));
	std::string earlier = installation(a[0], 22, 3000, "10.00", "50.00", 2000);
	expect_rules_equal_full_queries("the earlier one arrives late");
	EXPECT_EQ(1, found("reading_backwards", "installation:" + later));
	EXPECT_EQ(earlier,
		  dbaq("SELECT prev_installation_id FROM installation WHERE installation_id = $1",
		       { later }));
	// the earlier removal reading corrected down: no longer backwards
	dba("UPDATE installation SET remove_kwh = 35.00 WHERE installation_id = $1", { earlier });
	expect_rules_equal_full_queries("the removal reading corrected");
	EXPECT_EQ(0, found("reading_backwards", "installation:" + later));
	// a caller's own values for the derived columns are ignored
	std::string second = installation(a[1], 24, 3000, "5.00", "9.00", 2900);
	std::string forged = dbaq(
		"INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, installed_at, "
		"install_kwh, prev_installation_id, prev_remove_kwh) "
		"SELECT a.asset_id, p.point_id, 'meter', (SELECT location_id FROM location WHERE code = 'WTEAM'), "
		"u.user_id, now() - interval '50 hours', 1, NULL, 0 "
		"FROM asset a, metering_point p, app_user u WHERE a.barcode = $1 AND p.code = 'WP23' "
		"AND u.login = 'mlt_field' RETURNING installation_id",
		{ a[1] });
	expect_rules_equal_full_queries("forged derived values");
	EXPECT_EQ(1, found("reading_backwards", "installation:" + forged)); // 1 kWh after 9 kWh
	EXPECT_EQ(second + "|9.00",
		  dbaq("SELECT prev_installation_id || '|' || prev_remove_kwh FROM installation "
		       "WHERE installation_id = $1",
		       { forged }));
	// a superuser's direct UPDATE of the column is what a bulk load with triggers off
	// leaves: the rebuild puts it right
	dba("UPDATE installation SET prev_remove_kwh = 0 WHERE installation_id = $1", { forged });
	EXPECT_EQ(0, found("reading_backwards", "installation:" + forged));
	EXPECT_GE(std::stoi(dbaq("SELECT backwards FROM ml_watch_field_rebuild()")), 1);
	expect_rules_equal_full_queries("after a rebuild");
	EXPECT_EQ(1, found("reading_backwards", "installation:" + forged));

	// seals: applied, moved to another installation, removed; the installation removed
	std::string i2 = installation(a[2], 25, 48, "1");
	expect_rules_equal_full_queries("installed without a seal");
	EXPECT_EQ(1, found("unsealed_install", "installation:" + i2));
	dba("INSERT INTO seal (code, batch, state, installation_id, asset_id) VALUES ('WS0101', 'WB', 'applied', $1, $2)",
	    { i2, aid(a[2]) });
	expect_rules_equal_full_queries("sealed");
	EXPECT_EQ(0, found("unsealed_install", "installation:" + i2));
	dba("UPDATE seal SET installation_id = $1, asset_id = $2 WHERE code = 'WS0101'",
	    { forged, aid(a[1]) });
	expect_rules_equal_full_queries("the seal recorded on another installation");
	EXPECT_EQ(1, found("unsealed_install", "installation:" + i2));
	EXPECT_EQ(0, found("unsealed_install", "installation:" + forged));
	dba("UPDATE seal SET state = 'removed' WHERE code = 'WS0101'");
	expect_rules_equal_full_queries("the seal removed");
	EXPECT_EQ(1, found("unsealed_install", "installation:" + forged));
	dba("UPDATE installation SET removed_at = now(), removed_by = installed_by, remove_kwh = 3, "
	    "remove_reason = 'fault' WHERE installation_id = $1",
	    { i2 });
	expect_rules_equal_full_queries("the unsealed meter removed");
	EXPECT_EQ(0, found("unsealed_install", "installation:" + i2));
	dba("DELETE FROM seal WHERE code = 'WS0101'");
	expect_rules_equal_full_queries("the seal row deleted");

	// a rebuild from scratch changes nothing the triggers kept
	std::string before = derived_state();
	dbaq("SELECT count(*) FROM ml_watch_field_rebuild()");
	EXPECT_EQ(before, derived_state());

	// no login writes the derived data or runs its functions
	const char *attacks[] = {
		"INSERT INTO installation_unsealed (installation_id) SELECT min(installation_id) FROM installation",
		"DELETE FROM installation_unsealed",
		"UPDATE installation SET prev_remove_kwh = 0",
		"SELECT * FROM ml_watch_field_rebuild()",
		"SELECT installation_prev_refresh(1)",
		"SELECT installation_unsealed_sync(ARRAY[1::bigint])",
	};
	for (const char *login :
	     { "mlt_admin", "mlt_manager", "mlt_field", "mlt_clerk", "mlt_auditor" }) {
		struct db *db = pgtest_connect(as(login));
		for (const char *sql : attacks) {
			struct ml_error err = ML_ERROR_INIT;
			EXPECT_EQ(ML_EPERM, db_cmd(db, sql, 0, nullptr, &err))
				<< login << ": " << sql;
		}
		db_close(db);
	}
	EXPECT_EQ(before, derived_state());
}

TEST_F(Watch, StandardCertificatesExpiring)
{
	dba("INSERT INTO reference_standard (code, name, accuracy_class) VALUES ('WSTD1', 's1', '0.05'), "
	    "('WSTD2', 's2', '0.05'), ('WSTD3', 's3', '0.05'), ('WSTD4', 's4', '0.05')");
	dba("INSERT INTO standard_certificate (standard_id, cert_no, issuer, valid_from, valid_until) "
	    "SELECT standard_id, c, 'NIM', ml_cert_today() - 300, ml_cert_today() + d FROM reference_standard "
	    "JOIN (VALUES ('WSTD1', 'C1', 10), ('WSTD2', 'C2', 60), ('WSTD3', 'C3a', 5), ('WSTD3', 'C3b', 400), "
	    "('WSTD4', 'C4', -3)) v(s, c, d) ON v.s = code");
	EXPECT_EQ(1, found("standard_cert_expiring", "WSTD1"));
	EXPECT_EQ(0, found("standard_cert_expiring", "WSTD2"));
	EXPECT_EQ(0, found("standard_cert_expiring", "WSTD3")); // renewed
	EXPECT_EQ(1, found("standard_cert_expiring", "WSTD4")); // ended
	run("standard_cert_expiring");
	std::string id = open_item("standard_cert_expiring", "WSTD1");
	ASSERT_NE("none", id);
	EXPECT_EQ(
		"lab_technician|centre",
		dbaq("SELECT role || '|' || coalesce(place_id::text, 'centre') FROM watch_item WHERE item_id = $1",
		     { id }));
	// recalibrated: gone, closed without a reason
	dba("INSERT INTO standard_certificate (standard_id, cert_no, issuer, valid_from, valid_until) "
	    "SELECT standard_id, 'C1b', 'NIM', ml_cert_today(), ml_cert_today() + 365 FROM reference_standard WHERE code = 'WSTD1'");
	struct ml_error err = ML_ERROR_INIT;
	int held = -1;
	EXPECT_EQ(ML_OK, close_item("mlt_tech", id, "recalibrated by NIM", nullptr, &held, &err))
		<< err.msg;
	EXPECT_EQ(0, held);
}

TEST_F(Watch, CertificatesWithdrawnAndRevised)
{
	auto a = assets(1600, 4, "installed", "WSITE");
	dba("INSERT INTO certificate (asset_id, issuer_id, kind, barcode, content, state, verifier, checker, approver, "
	    "cert_no, issued_on, verify_code, revision, revises_id, verifier_id, checker_id, approver_id) "
	    "SELECT a.asset_id, 'DEMO', 1, a.barcode, '{}', 'issued', 'v', 'c', 'p', 'W' || a.asset_id, ml_cert_today(), 'X', 0, "
	    "NULL, " SIGNERS " "
	    "FROM asset a WHERE a.lot_id = (SELECT lot_id FROM lot WHERE code = 'W-1600')",
	    {}, false);
	std::string c0 = dbaq("SELECT id FROM certificate WHERE barcode = $1", { a[0] });
	std::string c1 = dbaq("SELECT id FROM certificate WHERE barcode = $1", { a[1] });
	std::string c2 = dbaq("SELECT id FROM certificate WHERE barcode = $1", { a[2] });
	std::string c3 = dbaq("SELECT id FROM certificate WHERE barcode = $1", { a[3] });
	// a[0] withdrawn, nothing since; a[1] withdrawn and verified again; a[2] withdrawn and scrapped
	dba("INSERT INTO cert_withdrawal (asset_id, cert_id, reason, withdrawn_by) VALUES "
	    "($1::bigint, $2::bigint, 'wrong standard', 'p'), ($3::bigint, $4::bigint, 'wrong standard', 'p'), "
	    "($5::bigint, $6::bigint, 'wrong standard', 'p')",
	    { aid(a[0]), c0, aid(a[1]), c1, aid(a[2]), c2 }, false);
	dba("INSERT INTO certificate (asset_id, issuer_id, kind, barcode, content, state, verifier, checker, approver, "
	    "cert_no, issued_on, verify_code, verifier_id, checker_id, approver_id) VALUES ($1::bigint, 'DEMO', 1, $2, '{}', 'issued', 'v', 'c', 'p', 'W2-' || $1, "
	    "ml_cert_today(), 'Y', " SIGNERS ")",
	    { aid(a[1]), a[1] }, false);
	dba("UPDATE asset SET state = 'scrapped' WHERE asset_id = $1::bigint", { aid(a[2]) },
	    false);
	EXPECT_EQ(1, found("cert_withdrawn", "certificate:" + c0));
	EXPECT_EQ(0, found("cert_withdrawn", "certificate:" + c1));
	EXPECT_EQ(0, found("cert_withdrawn", "certificate:" + c2));
	EXPECT_EQ(0, found("cert_withdrawn", "certificate:" + c3));

	// a[3] revised today; a[0]'s revision 40 days ago is outside the 30-day window
	dba("INSERT INTO certificate (asset_id, issuer_id, kind, barcode, content, state, verifier, checker, approver, "
	    "cert_no, issued_on, verify_code, revision, revises_id, verifier_id, checker_id, approver_id) VALUES "
	    "($1::bigint, 'DEMO', 1, $2, '{}', 'issued', 'v', 'c', 'p', 'W' || $1, ml_cert_today(), 'Z', 1, $3::bigint, " SIGNERS
	    ")",
	    { aid(a[3]), a[3], c3 }, false);
	std::string n3 = dbaq("SELECT max(id) FROM certificate WHERE barcode = $1", { a[3] });
	dba("INSERT INTO cert_supersession (asset_id, old_id, new_id, reason, revised_by) "
	    "VALUES ($1::bigint, $2::bigint, $3::bigint, 'typo', 'p')",
	    { aid(a[3]), c3, n3 }, false);
	EXPECT_EQ(1, found("cert_revised", "revision:" + n3));
	dba("UPDATE cert_supersession SET superseded_at = now() - interval '40 days' WHERE new_id = $1::bigint",
	    { n3 }, false);
	EXPECT_EQ(0, found("cert_revised", "revision:" + n3));

	run("cert_withdrawn");
	std::string id = open_item("cert_withdrawn", "certificate:" + c0);
	ASSERT_NE("none", id);
	EXPECT_EQ("quality_analyst",
		  dbaq("SELECT role FROM watch_item WHERE item_id = $1", { id }));
	struct ml_error err = ML_ERROR_INIT;
	int held = -1;
	EXPECT_EQ(ML_ESTATE,
		  close_item("mlt_analyst", id, "asked for re-verification", nullptr, &held, &err));
}

TEST_F(Watch, RunsInterruptedAndNotResumed)
{
	dba("INSERT INTO lab_bench (code, name, uri, kind, positions) VALUES ('WB1', 'b1', 'manual', 'meter-1p', 4), "
	    "('WB2', 'b2', 'manual', 'meter-1p', 4), ('WB3', 'b3', 'manual', 'meter-1p', 4)");
	std::string r1 = repq(

		"INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, mode, status, steps_total, "
		"operator, created_at, started_at) SELECT b.bench_id, m.model_id, 'S', 1, 'manual', 'interrupted', 3, 'op', "
		"now() - interval '3 days', now() - interval '3 days' FROM lab_bench b, device_model m "
		"WHERE b.code = 'WB1' AND m.code = 'WM1' RETURNING run_id");
	std::string r2 = repq(

		"INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, mode, status, steps_total, "
		"operator, created_at, started_at) SELECT b.bench_id, m.model_id, 'S', 1, 'manual', 'interrupted', 3, 'op', "
		"now() - interval '3 days', now() - interval '3 days' FROM lab_bench b, device_model m "
		"WHERE b.code = 'WB2' AND m.code = 'WM1' RETURNING run_id");
	std::string r3 = repq(

		"INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, mode, status, steps_total, "
		"operator, created_at, started_at, finished_at) SELECT b.bench_id, m.model_id, 'S', 1, 'manual', 'finished', 3, "
		"'op', now() - interval '3 days', now() - interval '3 days', now() FROM lab_bench b, device_model m "
		"WHERE b.code = 'WB3' AND m.code = 'WM1' RETURNING run_id");
	// r2 recorded a step an hour ago: its last activity is recent
	dba("INSERT INTO run_step (run_id, step_no, kind, label, started_at, completed_at) "
	    "VALUES ($1::bigint, 0, 'basic', 'x', now() - interval '2 hours', now() - interval '1 hour')",
	    { r2 }, false);
	EXPECT_EQ(1, found("run_interrupted", "run:" + r1));
	EXPECT_EQ(0, found("run_interrupted", "run:" + r2));
	EXPECT_EQ(0, found("run_interrupted", "run:" + r3));
	run("run_interrupted");
	std::string id = open_item("run_interrupted", "run:" + r1);
	ASSERT_NE("none", id);
	dba("UPDATE verification_run SET status = 'aborted' WHERE run_id = $1::bigint", { r1 },
	    false);
	struct ml_error err = ML_ERROR_INIT;
	int held = -1;
	EXPECT_EQ(ML_OK, close_item("mlt_tech", id, "aborted, meters back to re-verify", nullptr,
				    &held, &err))
		<< err.msg;
	EXPECT_EQ(0, held);
}

TEST_F(Watch, RulesAreSettingsChangedByAManagerWithALog)
{
	struct db *db = pgtest_connect(as("mlt_clerk"));
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EPERM, watch_rule_set(db, "transit_overdue", "5", nullptr, nullptr, nullptr,
					   "faster", &err));
	db_close(db);
	db = pgtest_connect(as("mlt_manager"));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, watch_rule_set(db, "transit_overdue", "-1", nullptr, nullptr, nullptr,
					    "x", &err));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ENOTFOUND,
		  watch_rule_set(db, "no_such_rule", "5", nullptr, nullptr, nullptr, "x", &err));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, watch_rule_set(db, "stock_reverify_age", "5", nullptr, nullptr,
					    nullptr, "x", &err));
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, watch_rule_set(db, "run_interrupted", "12", "1", nullptr, "yes",
					"night shift resumes", &err))
		<< err.msg;
	db_close(db);
	EXPECT_EQ(
		"12|1",
		dbaq("SELECT threshold || '|' || due_days FROM watch_rule WHERE code = 'run_interrupted'"));
	EXPECT_EQ(
		"24|12|mlt_manager",
		dbaq("SELECT (l.old->>'threshold') || '|' || (l.new->>'threshold') || '|' || u.login "
		     "FROM watch_rule_log l JOIN app_user u ON u.user_id = l.changed_by WHERE l.code = 'run_interrupted'"));
	dba("UPDATE watch_rule SET threshold = 24, due_days = 2 WHERE code = 'run_interrupted'");
	// a clerk may not run the rules
	int rc = 0;
	run(nullptr, "mlt_clerk", &rc);
	EXPECT_EQ(ML_EPERM, rc);
}

TEST_F(Watch, NoLoginWritesItemsOrRules)
{
	auto a = assets(1700, 1, "in_transit", "WSTORE");
	dba("UPDATE asset SET state_changed_at = now() - interval '10 days' WHERE barcode = $1",
	    { a[0] });
	run("transit_overdue");
	std::string id = open_item("transit_overdue", a[0]);
	ASSERT_NE("none", id);
	const char *attacks[] = {
		"INSERT INTO watch_item (rule, anomaly_key, role, summary, evidence, opened_by, due_on) "
		"VALUES ('transit_overdue', 'x', 'manager', 's', '{}', 1, ml_cert_today())",
		"UPDATE watch_item SET status = 'closed', closed_by = 1, closed_at = now(), note = 'n', condition_held = false",
		"UPDATE watch_item SET due_on = ml_cert_today() + 100",
		"DELETE FROM watch_item",
		"TRUNCATE watch_item",
		"UPDATE watch_rule SET threshold = 100000",
		"DELETE FROM watch_rule_log",
		"INSERT INTO watch_rule_log (code, old, new, reason, changed_by) VALUES ('transit_overdue', '{}', '{}', 'r', 1)",
	};
	for (const char *login : { "mlt_admin", "mlt_manager", "mlt_clerk", "mlt_tech", "mlt_field",
				   "mlt_analyst", "mlt_auditor", "mlt_approver" }) {
		struct db *db = pgtest_connect(as(login));
		for (const char *sql : attacks) {
			struct ml_error err = ML_ERROR_INIT;
			EXPECT_EQ(ML_EPERM, db_cmd(db, sql, 0, nullptr, &err))
				<< login << ": " << sql;
		}
		db_close(db);
	}
	EXPECT_EQ("open", dbaq("SELECT status FROM watch_item WHERE item_id = $1", { id }));
	// even the owner cannot change a closed item or delete one
	dba("UPDATE asset SET state = 'secondary_stock' WHERE barcode = $1", { a[0] });
	struct ml_error err = ML_ERROR_INIT;
	int held = -1;
	ASSERT_EQ(ML_OK, close_item("mlt_clerk", id, "arrived", nullptr, &held, &err)) << err.msg;
	struct db *db = pgtest_connect(g_ci);
	const std::string p = id;
	const char *pp[1] = { p.c_str() };
	err = ML_ERROR_INIT;
	EXPECT_NE(ML_OK, db_cmd(db, "UPDATE watch_item SET note = 'rewritten' WHERE item_id = $1",
				1, pp, &err));
	err = ML_ERROR_INIT;
	EXPECT_NE(ML_OK, db_cmd(db, "DELETE FROM watch_item WHERE item_id = $1", 1, pp, &err));
	db_close(db);
}

TEST_F(Watch, TimelinessPerPlaceAndTheCommandLine)
{
	auto a = assets(1800, 2, "in_transit", "WHUB");
	for (auto &b : a)
		dba("UPDATE asset SET state_changed_at = now() - interval '10 days' WHERE barcode = $1",
		    { b });
	std::string out;
	std::string cli = pgtest_cli() + " --db " + pgtest_sq(as("mlt_manager")) + " ";
	ASSERT_EQ(0, pgtest_run(cli + "watch run --rule transit_overdue --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"rule\":\"transit_overdue\"")) << out;
	std::string id0 = open_item("transit_overdue", a[0]);
	std::string id1 = open_item("transit_overdue", a[1]);
	ASSERT_EQ(0, pgtest_run(cli + "watch list --place WHUB --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find(a[0])) << out;
	ASSERT_EQ(0, pgtest_run(cli + "watch show " + id0, &out)) << out;
	EXPECT_NE(std::string::npos, out.find("in transit since")) << out;
	// closing while the condition holds without a reason: exit 5, with a reason: closed
	int st = pgtest_run(cli + "watch close " + id0 + " --note 'chased the carrier'", &out,
			    true);
	EXPECT_EQ(5, st) << out;
	EXPECT_NE(std::string::npos, out.find("still holds")) << out;
	ASSERT_EQ(0, pgtest_run(cli + "watch close " + id0 +
					" --note 'chased' --reason 'lost, claim filed'",
				&out))
		<< out;
	// one closed late (due date moved into the past by the DBA: as if opened long ago)
	dba("UPDATE watch_item SET due_on = ml_cert_today() - 1 WHERE item_id = $1::bigint",
	    { id1 }, false);
	ASSERT_EQ(0, pgtest_run(cli + "watch list --overdue --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find(a[1])) << out;
	ASSERT_EQ(0,
		  pgtest_run(cli + "watch close " + id1 + " --note 'late' --reason 'late'", &out))
		<< out;
	struct db *db = pgtest_connect(as("mlt_auditor"));
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, watch_timeliness(db, nullptr, nullptr, &res, &err)) << err.msg;
	bool seen = false;
	for (int r = 0; r < PQntuples(res); r++)
		if (std::string(db_get(res, r, "place")) == "WHUB") {
			seen = true;
			EXPECT_STREQ("2", db_get(res, r, "opened"));
			EXPECT_STREQ("2", db_get(res, r, "closed"));
			EXPECT_STREQ("1", db_get(res, r, "closed_in_time"));
			EXPECT_STREQ("50.0", db_get(res, r, "share_in_time"));
		}
	EXPECT_TRUE(seen);
	PQclear(res);
	db_close(db);
	ASSERT_EQ(0, pgtest_run(cli + "watch rules", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("6 months (stock.reverify_months)")) << out;
}
