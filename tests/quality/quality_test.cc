/*
 * The quality report's figures and the early warning on constructed data
 * with known answers (tests/data/quality/fixture.sql: its header lists what
 * each lot holds). Expected p-values and moments were computed with Python
 * fractions (the formulas are in the comments).
 */
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "quality_fixture.h"

extern "C" {
#include "quality/alerts.h"
#include "quality/quality.h"
}

namespace
{

struct Report {
	struct quality_report r;
	Report(const char *from, const char *to, const char *maker = nullptr,
	       const char *model = nullptr)
	{
		memset(&r, 0, sizeof r);
		struct db *db = pgtest_connect(quality_db());
		struct quality_filter f = { from, to, maker, model };
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_OK, quality_report_load(db, &f, &r, &err)) << err.msg;
		db_close(db);
	}
	~Report()
	{
		quality_report_free(&r);
	}
	const quality_verdict_row *verdict(const char *dim, const char *key) const
	{
		for (size_t i = 0; i < r.n_verdicts; i++)
			if (!strcmp(r.verdicts[i].dim, dim) && !strcmp(r.verdicts[i].key, key))
				return &r.verdicts[i];
		return nullptr;
	}
	const quality_point_row *point(const char *dim, const char *key, const char *label) const
	{
		for (size_t i = 0; i < r.n_points; i++)
			if (!strcmp(r.points[i].dim, dim) && !strcmp(r.points[i].key, key) &&
			    !strcmp(r.points[i].label, label))
				return &r.points[i];
		return nullptr;
	}
	const quality_field_row *field(const char *dim, const char *key) const
	{
		for (size_t i = 0; i < r.n_field; i++)
			if (!strcmp(r.field[i].dim, dim) && !strcmp(r.field[i].key, key))
				return &r.field[i];
		return nullptr;
	}
};

TEST(QualityReport, PassRatesByMakerModelLotAndMonth)
{
	Report q("2026-11-01", "2026-12-31");
	const quality_verdict_row *t = quality_verdict_total(&q.r);
	ASSERT_NE(nullptr, t);
	EXPECT_EQ(570, t->n);
	EXPECT_EQ(15, t->fail);
	struct {
		const char *dim, *key;
		int64_t n, fail;
	} want[] = { { "maker", "MA", 200, 2 },      { "maker", "MB", 150, 11 },
		     { "maker", "MC", 220, 2 },      { "model", "MB-1", 150, 11 },
		     { "model", "MC-2", 20, 0 },     { "lot", "LB2", 50, 10 },
		     { "lot", "LC1", 200, 2 },       { "month", "2026-11", 400, 4 },
		     { "month", "2026-12", 170, 11 } };
	for (const auto &w : want) {
		const quality_verdict_row *v = q.verdict(w.dim, w.key);
		ASSERT_NE(nullptr, v) << w.dim << " " << w.key;
		EXPECT_EQ(w.n, v->n) << w.key;
		EXPECT_EQ(w.fail, v->fail) << w.key;
		EXPECT_EQ(w.n - w.fail, v->pass) << w.key;
	}
	EXPECT_STREQ("乙仪表", q.verdict("maker", "MB")->name);
	EXPECT_STREQ("MB-1", q.verdict("lot", "LB2")->name); /* a lot's model */
	char buf[32];
	EXPECT_STREQ("20.00", quality_ratio(10, 50, 100, 2, buf));
	EXPECT_STREQ("2.63", quality_ratio(15, 570, 100, 2, buf)); /* 2.631… */
	/* the period is the conclusion date: only November */
	Report nov("2026-11-01", "2026-11-30");
	EXPECT_EQ(400, quality_verdict_total(&nov.r)->n);
	EXPECT_EQ(nullptr, nov.verdict("lot", "LB2"));
}

TEST(QualityReport, FiltersByMakerAndModel)
{
	Report mb("2026-11-01", "2026-12-31", "MB");
	EXPECT_EQ(150, quality_verdict_total(&mb.r)->n);
	EXPECT_EQ(nullptr, mb.verdict("maker", "MA"));
	Report mc2("2026-11-01", "2026-12-31", nullptr, "MC-2");
	EXPECT_EQ(20, quality_verdict_total(&mc2.r)->n);
	ASSERT_EQ(4u, mc2.r.n_points); /* two CT points, total and per maker */
	EXPECT_STREQ("ct", mc2.r.points[0].kind);
}

TEST(QualityReport, FailureModesByItemAndLoadPoint)
{
	Report q("2026-11-01", "2026-12-31");
	int checked = 0;
	for (size_t i = 0; i < q.r.n_items; i++) {
		const quality_item_row &it = q.r.items[i];
		if (!strcmp(it.dim, "total") && !strcmp(it.item, "basic")) {
			EXPECT_EQ(570, it.n);
			EXPECT_EQ(15, it.fail);
			checked++;
		}
		if (!strcmp(it.dim, "total") && !strcmp(it.item, "creep")) {
			EXPECT_EQ(0, it.fail);
			checked++;
		}
	}
	EXPECT_EQ(2, checked);
	/* every failure is at Ib: MB 11, MA 2, MC 2, in that order */
	ASSERT_EQ(3u, q.r.n_point_fails);
	EXPECT_STREQ("MB", q.r.point_fails[0].maker);
	EXPECT_STREQ("Ib cosφ=1.0 H", q.r.point_fails[0].label);
	EXPECT_EQ(11, q.r.point_fails[0].fail);
}

/*
 * Ib cosφ=1.0 H, all makers: n 550, Σx = 224 300, Σx² = 3 396 430 000 (× 10⁻⁴ %):
 * mean 448600/11 = 40 781.8… → 40 782 (% × 10⁶); s² = (nΣx² − (Σx)²)/(n(n−1)),
 * floor(sqrt(s² · 10⁴)) = 245 356. Imax: Σx = −2 800 → mean −5600/11 → −509; sd 31 630.
 */
TEST(QualityReport, ErrorDistributionIsExact)
{
	Report q("2026-11-01", "2026-12-31");
	const quality_point_row *ib = q.point("total", "", "Ib cosφ=1.0 H");
	ASSERT_NE(nullptr, ib);
	EXPECT_EQ(550, ib->n);
	EXPECT_EQ(10000, ib->limit_e4);
	EXPECT_EQ(6000, ib->internal_limit_e4);
	EXPECT_EQ(40782, ib->mean_e6);
	EXPECT_EQ(245356, ib->sd_e6);
	EXPECT_EQ(-300, ib->min_e4);
	EXPECT_EQ(15000, ib->max_e4);
	EXPECT_EQ(15, ib->fail);
	EXPECT_EQ(15, ib->internal_fail);
	/* tenths of the limit: bin -1 (−0.1 % ≤ x < 0), bin 0, and 15 (≥ 1.5 × limit) */
	EXPECT_EQ(231, ib->hist[-1 - QUALITY_HIST_LOW]);
	EXPECT_EQ(304, ib->hist[0 - QUALITY_HIST_LOW]);
	EXPECT_EQ(15, ib->hist[15 - QUALITY_HIST_LOW]);
	const quality_point_row *imax = q.point("total", "", "Imax cosφ=1.0 H");
	ASSERT_NE(nullptr, imax);
	EXPECT_EQ(-509, imax->mean_e6);
	EXPECT_EQ(31630, imax->sd_e6);
	const quality_point_row *mb = q.point("maker", "MB", "Ib cosφ=1.0 H");
	ASSERT_NE(nullptr, mb);
	EXPECT_EQ(150, mb->n);
	EXPECT_EQ(11, mb->internal_fail);
	char buf[32];
	EXPECT_STREQ("0.040782", quality_fixed(ib->mean_e6, 6, buf));
	EXPECT_STREQ("-0.000509", quality_fixed(imax->mean_e6, 6, buf));
}

TEST(QualityReport, MomentsFromExactSums)
{
	int64_t mean, sd;
	struct ml_error err = ML_ERROR_INIT;
	/* 1, 2, 3, 4 (e4): mean 2.5 → 250 e6, s = sqrt(5/3) = 1.2909… → 129 e6 */
	ASSERT_EQ(ML_OK, quality_moments(4, "10", "30", &mean, &sd, &err));
	EXPECT_EQ(250, mean);
	EXPECT_EQ(129, sd);
	/* half to even: 5/2 e4 → 250 e6 exactly; 1/8 → 12.5 → 12 */
	ASSERT_EQ(ML_OK, quality_moments(8, "1", "1", &mean, &sd, &err));
	EXPECT_EQ(12, mean);
	ASSERT_EQ(ML_OK, quality_moments(1, "-7", "49", &mean, &sd, &err));
	EXPECT_EQ(-700, mean);
	EXPECT_EQ(0, sd);
	EXPECT_EQ(ML_EINVAL, quality_moments(3, "1.5", "3", &mean, &sd, &err));
	EXPECT_EQ(ML_EINVAL, quality_moments(0, "0", "0", &mean, &sd, &err));
}

/*
 * Installed 2026-11-15 (47 days to the end of 2026): LA1 98 × 47 + 35 (#1's
 * fault on 12-20) = 4 641; LB1 93 × 47 + 5 × 25 (faults on 12-10) + 16
 * (#6 removed 12-01) = 4 512; LC1 198 × 47 = 9 306. November: 396 × 16.
 */
TEST(QualityReport, FieldExposureAndFaults)
{
	Report q("2026-11-01", "2026-12-31");
	const quality_field_row *t = quality_field_total(&q.r);
	ASSERT_NE(nullptr, t);
	EXPECT_EQ(396, t->assets);
	EXPECT_EQ(18459, t->exposure_days);
	EXPECT_EQ(6, t->faults);
	EXPECT_EQ(4641, q.field("lot", "LA1")->exposure_days);
	EXPECT_EQ(4512, q.field("model", "MB-1")->exposure_days);
	EXPECT_EQ(5, q.field("maker", "MB")->faults);
	EXPECT_EQ(9306, q.field("lot", "LC1")->exposure_days);
	/* all within the first 3 months of service */
	EXPECT_EQ(18459, q.field("age", "0")->exposure_days);
	ASSERT_EQ(2u, q.r.n_months);
	EXPECT_STREQ("2026-11", q.r.months[0].month);
	EXPECT_EQ(6336, q.r.months[0].exposure_days);
	EXPECT_EQ(12123, q.r.months[1].exposure_days);
	EXPECT_EQ(6, q.r.months[1].faults);
	EXPECT_EQ(400, q.r.months[0].n);
	char buf[32];
	/* MB: 5 faults in 4 512 asset-days = 5 · 365 250 / 4 512 = 404.75… per 1000 asset-years */
	EXPECT_STREQ("404.75", quality_fault_rate(5, 4512, buf));
	/* a window that starts after the removal: LB1 #6 contributes nothing */
	Report dec("2026-12-02", "2026-12-31");
	EXPECT_EQ(98 * 30 + 18 + 93 * 30 + 5 * 8 + 198 * 30, /* LA1 #1 from 12-02 to 12-20 */
		  quality_field_total(&dec.r)->exposure_days);
}

/* One text value of a query on an open connection (empty on error). */
static std::string one(struct db *db, const char *sql)
{
	PGresult *res = PQexec(db_conn(db), sql);
	std::string v = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
				? PQgetvalue(res, 0, 0)
				: std::string("error: ") + PQresultErrorMessage(res);
	PQclear(res);
	return v;
}

/*
 * The service counts (0277) follow every change of an installation, and
 * an asset with two intervals in the period is one asset: LC1 #1 (installed
 * 11-15) is removed on 11-20 and installed again on 11-25 — 5 + 37 days
 * instead of 47, still 198 assets. In a transaction that is rolled back.
 */
TEST(QualityReport, ServiceCountsFollowTheInstallations)
{
	struct db *db = pgtest_connect(quality_db());
	const char *lc1 =
		"SELECT assets || '/' || exposure_days FROM ml_quality_field('2026-11-01', "
		"'2026-12-31') WHERE dim = 'lot' AND key = 'LC1'";
	const char *age0 =
		"SELECT assets || '/' || exposure_days FROM ml_quality_field('2026-11-01', "
		"'2026-12-31') WHERE dim = 'age' AND key = '0'";
	const char *counts =
		"SELECT string_agg(concat_ws(',', lot_id, model_id, d0, d1, n), ';' "
		"ORDER BY lot_id, model_id, d0, d1) FROM quality_service_count WHERE n <> 0";
	EXPECT_EQ("198/9306", one(db, lc1));
	EXPECT_EQ("396/18459", one(db, age0));
	ASSERT_EQ(ML_OK, db_cmd(db, "BEGIN", 0, nullptr, nullptr));
	EXPECT_EQ(
		"UPDATE",
		one(db,
		    "WITH u AS (UPDATE installation i SET removed_at = '2026-11-20 12:00+00', "
		    "removed_by = installed_by, remove_kwh = 3, remove_reason = 'other' "
		    "FROM asset a JOIN lot l ON l.lot_id = a.lot_id WHERE a.asset_id = i.asset_id "
		    "AND l.code = 'LC1' AND a.barcode LIKE '_______00001%' RETURNING 1) "
		    "SELECT 'UPDATE' FROM u")
			.substr(0, 6));
	EXPECT_EQ(
		"1",
		one(db,
		    "WITH n AS (INSERT INTO installation (asset_id, point_id, element, team_id, "
		    "installed_by, installed_at, install_kwh) SELECT asset_id, point_id, 'meter', "
		    "team_id, installed_by, '2026-11-25 09:00+00', 3 FROM installation "
		    "WHERE removed_at = '2026-11-20 12:00+00' RETURNING 1) SELECT count(*) FROM n"));
	EXPECT_EQ("198/9301", one(db, lc1));
	EXPECT_EQ("396/18454", one(db, age0));
	/* the trigger's counts are what a recount from the installations gives */
	std::string kept = one(db, counts);
	EXPECT_NE("", kept);
	EXPECT_NE(std::string::npos,
		  one(db, "SELECT ml_quality_service_recount()").find_first_of("0123456789"));
	EXPECT_EQ(kept, one(db, counts));
	ASSERT_EQ(ML_OK, db_cmd(db, "ROLLBACK", 0, nullptr, nullptr));
	EXPECT_EQ("198/9306", one(db, lc1));
	db_close(db);

	/* derived data: no login writes it, not even an admin */
	struct db *adm = pgtest_connect(pgtest_as(quality_db(), "mlt_admin"));
	EXPECT_NE(std::string::npos,
		  one(adm,
		      "WITH x AS (INSERT INTO quality_service_count VALUES (1, 1, '2026-01-01', "
		      "'infinity', 5) RETURNING 1) SELECT count(*) FROM x")
			  .find("permission denied"));
	EXPECT_NE(std::string::npos,
		  one(adm, "SELECT ml_quality_service_recount()").find("permission denied"));
	db_close(adm);
}

/*
 * A report's period is China's days whatever the caller's session zone
 * (0365, 0371): every aggregate gives from Etc/GMT+12, Etc/GMT-14 and UTC
 * what it gives from Asia/Shanghai. Before 0371 the failure modes, the
 * error distribution, the point failures and the alert units compared the
 * results' moments with the period's dates in the session's zone. Two runs
 * at the edges of China's days are added in a rolled-back transaction:
 * 2026-11-01 00:30 China time (still 31 October in UTC-12) and 2026-12-31
 * 23:30 (already 2027 in UTC+14), three meters of LA2 each, failing at Ib.
 */
TEST(QualityReport, PeriodIsChinasDaysFromAnyZone)
{
	struct db *db = pgtest_connect(quality_db());
	auto exec = [&](const char *sql) {
		PGresult *res = PQexec(db_conn(db), sql);
		EXPECT_EQ(PGRES_COMMAND_OK, PQresultStatus(res)) << PQerrorMessage(db_conn(db));
		PQclear(res);
	};
	exec("BEGIN");
	exec("CREATE TEMP TABLE fx_edge AS SELECT e.tag, e.d, e.t, a.asset_id, a.barcode, "
	     "row_number() OVER (PARTITION BY e.tag ORDER BY a.barcode)::int AS pos "
	     "FROM (VALUES ('EARLY', date '2026-11-01', timestamptz '2026-11-01 00:30+08'), "
	     "('LATE', date '2026-12-31', timestamptz '2026-12-31 23:30+08')) e(tag, d, t), "
	     "(SELECT a.* FROM asset a JOIN lot l ON l.lot_id = a.lot_id WHERE l.code = 'LA2' "
	     "ORDER BY a.barcode LIMIT 3) a;"
	     "INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, "
	     "scheme_text, mode, status, steps_total, operator, run_date, started_at, finished_at) "
	     "SELECT DISTINCT b.bench_id, m.model_id, 'FX-' || e.tag, 1, 'fixture', 'driven', "
	     "'finished', 3, 'fixture', e.d, e.t, e.t + interval '10 minutes' "
	     "FROM fx_edge e, lab_bench b, device_model m WHERE b.code = 'B1' AND m.code = 'MA-1';"
	     "INSERT INTO run_position (asset_id, run_id, position, barcode) "
	     "SELECT e.asset_id, r.run_id, e.pos, e.barcode FROM fx_edge e "
	     "JOIN verification_run r ON r.scheme_code = 'FX-' || e.tag;"
	     "INSERT INTO run_step_result (asset_id, run_id, step_no, position, kind, label, "
	     "n_readings, mean_e4, rounded_e4, limit_e4, internal_limit_e4, interval_e4, verdict, "
	     "internal_verdict, measured_at) SELECT e.asset_id, r.run_id, 1, e.pos, 'basic', "
	     "'Ib cosφ=1.0 H', 2, 15000, 15000, 10000, 6000, 1000, 'fail', 'fail', e.t "
	     "FROM fx_edge e JOIN verification_run r ON r.scheme_code = 'FX-' || e.tag;"
	     "INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict, "
	     "concluded_at) SELECT e.asset_id, r.run_id, it.item, it.v, it.v, "
	     "e.t + interval '5 minutes' FROM fx_edge e "
	     "JOIN verification_run r ON r.scheme_code = 'FX-' || e.tag "
	     "CROSS JOIN (VALUES ('creep', 'pass'), ('basic', 'fail'), ('overall', 'fail')) "
	     "it(item, v)");
	/* the edge runs count in China's days */
	EXPECT_EQ("3/3|3/3|576/21",
		  one(db, "SELECT (SELECT n || '/' || fail FROM ml_quality_verdicts('2026-11-01', "
			  "'2026-11-01') WHERE dim = 'total') || '|' || (SELECT n || '/' || fail "
			  "FROM ml_quality_verdicts('2026-12-31', '2026-12-31') WHERE dim = "
			  "'total') || '|' || (SELECT n || '/' || fail FROM "
			  "ml_quality_verdicts('2026-11-01', '2026-12-31') WHERE dim = 'total')"));
	const char *periods[][2] = { { "2026-11-01", "2026-12-31" },
				     { "2026-11-01", "2026-11-01" },
				     { "2026-12-31", "2026-12-31" },
				     { "2026-11-10", "2026-11-10" },
				     { "2026-12-01", "2026-12-10" } };
	const char *aggs[] = { "ml_quality_verdicts",   "ml_quality_items",
			       "ml_quality_points",     "ml_quality_point_failures",
			       "ml_quality_field",      "ml_quality_field_months",
			       "ml_quality_alert_units" };
	auto rows = [&](const char *zone, const char *fn, const char *from, const char *to) {
		exec((std::string("SET LOCAL TimeZone = '") + zone + "'").c_str());
		return one(db, (std::string("SELECT coalesce(string_agg(zrow::text, ';' ORDER BY "
					    "zrow::text), 'none') FROM ") +
				fn + "('" + from + "', '" + to + "') zrow")
				       .c_str());
	};
	for (const auto &p : periods)
		for (const char *fn : aggs) {
			std::string china = rows("Asia/Shanghai", fn, p[0], p[1]);
			EXPECT_EQ(std::string::npos, china.find("error")) << fn << ": " << china;
			for (const char *zone : { "Etc/GMT+12", "Etc/GMT-14", "UTC" })
				EXPECT_EQ(china, rows(zone, fn, p[0], p[1]))
					<< fn << "('" << p[0] << "', '" << p[1] << "') from "
					<< zone;
		}
	exec("ROLLBACK");
	db_close(db);
}

/*
 * The same through quality_report_load from a far zone: every CSV table is
 * the one a session in China gets (2026-11-10 is LA1's run, 10:00 China
 * time, still 9 November in UTC-12), and the time it was generated is
 * China's clock, whose date the PDF's CreationDate states as +08:00: from a
 * zone whose date differs from China's at this moment it had the session's.
 */
TEST(QualityReport, ReportFromAFarZoneIsChinas)
{
	auto csv = [&](const std::string &zone, const char *from, const char *to,
		       std::string *generated) {
		struct db *db = pgtest_connect_in_zone(quality_db(), zone);
		struct ml_error err = ML_ERROR_INIT;
		struct quality_report r;
		memset(&r, 0, sizeof r);
		struct quality_filter f = { from, to, nullptr, nullptr };
		EXPECT_EQ(ML_OK, quality_report_load(db, &f, &r, &err)) << err.msg;
		if (generated)
			*generated = r.generated_at;
		char dir[] = "/tmp/ml-quality-tz-XXXXXX";
		EXPECT_NE(nullptr, mkdtemp(dir));
		EXPECT_EQ(ML_OK, quality_report_csv(&r, dir, &err)) << err.msg;
		std::string all;
		for (const char *name : { "verdicts.csv", "items.csv", "points.csv",
					  "point_failures.csv", "field.csv", "months.csv" }) {
			std::ifstream in(std::string(dir) + "/" + name);
			std::stringstream ss;
			ss << in.rdbuf();
			all += std::string("== ") + name + "\n" + ss.str();
		}
		pgtest_run("rm -rf " + pgtest_sq(dir), nullptr);
		quality_report_free(&r);
		db_close(db);
		return all;
	};
	for (const char *day : { "2026-11-10", "2026-12-05" }) {
		std::string china = csv("Asia/Shanghai", day, day, nullptr);
		EXPECT_NE(std::string::npos, china.find("\ntotal,,,,100,")) << china;
		for (const char *zone : { "Etc/GMT+12", "Etc/GMT-14" })
			EXPECT_EQ(china, csv(zone, day, day, nullptr)) << day << " from " << zone;
	}
	EXPECT_EQ(csv("Asia/Shanghai", "2026-11-01", "2026-12-31", nullptr),
		  csv("Etc/GMT+12", "2026-11-01", "2026-12-31", nullptr));

	struct db *db = pgtest_connect(quality_db());
	std::string today = one(db, "SELECT ml_cert_today()::text");
	std::string zone = std::stoi(one(db, "SELECT extract(hour FROM now() AT TIME ZONE "
					     "'Asia/Shanghai')::int")) >= 20
				   ? "Etc/GMT-14"
				   : "Etc/GMT+12";
	db_close(db);
	std::string generated;
	csv(zone, "2026-11-01", "2026-11-30", &generated);
	EXPECT_EQ(today, generated.substr(0, 10)) << generated << " from " << zone;
	EXPECT_EQ(" CST", generated.substr(generated.size() - 4)) << generated;
}

/*
 * The histogram's bin is floor(10 × error / limit) by ml_floor_div, once per
 * scanned result row. It must be exact for negative errors (floor, not
 * truncation) and stay inlinable: marked STRICT it was not (its CASE is not
 * strict), and the SQL-function executor ran it 2.8 M times for a year's
 * report (migration 0358).
 */
TEST(QualityReport, HistogramBinIsAnInlinedFloorDivision)
{
	struct db *db = pgtest_connect(quality_db());
	PGresult *r = PQexec(db_conn(db),
			     "SELECT x, b, ml_floor_div(x, b) FROM generate_series(-25, 25) x, "
			     "(VALUES (7::bigint), (10), (10000)) v(b) ORDER BY b, x");
	ASSERT_EQ(PGRES_TUPLES_OK, PQresultStatus(r)) << PQerrorMessage(db_conn(db));
	ASSERT_EQ(153, PQntuples(r));
	for (int i = 0; i < PQntuples(r); i++) {
		long long x = atoll(PQgetvalue(r, i, 0)), b = atoll(PQgetvalue(r, i, 1));
		long long q = x / b - (x % b < 0 ? 1 : 0);
		EXPECT_EQ(q, atoll(PQgetvalue(r, i, 2))) << x << " / " << b;
	}
	PQclear(r);
	r = PQexec(db_conn(db),
		   "SELECT ml_floor_div(NULL, 10) IS NULL, ml_floor_div(-1, NULL) IS NULL");
	ASSERT_EQ(PGRES_TUPLES_OK, PQresultStatus(r)) << PQerrorMessage(db_conn(db));
	EXPECT_STREQ("t", PQgetvalue(r, 0, 0));
	EXPECT_STREQ("t", PQgetvalue(r, 0, 1));
	PQclear(r);
	/* inlined: the plan computes the expression, it does not call the function */
	r = PQexec(
		db_conn(db),
		"EXPLAIN (VERBOSE, COSTS OFF) SELECT ml_floor_div(x, 10) FROM generate_series(-5, 5) x");
	ASSERT_EQ(PGRES_TUPLES_OK, PQresultStatus(r)) << PQerrorMessage(db_conn(db));
	std::string plan;
	for (int i = 0; i < PQntuples(r); i++)
		plan += std::string(PQgetvalue(r, i, 0)) + "\n";
	EXPECT_EQ(std::string::npos, plan.find("ml_floor_div")) << plan;
	EXPECT_NE(std::string::npos, plan.find("% '10'")) << plan;
	PQclear(r);
	db_close(db);
}

/*
 * The settings that make the error distribution and the point failures hash
 * their groups whatever the statistics estimate (migration 0358) and run
 * without JIT, whose compile was most of a month's call (0359). They live
 * on the functions, so a later CREATE OR REPLACE that forgets them drops
 * them silently (that happened once while writing 0358); this names the
 * function that lost one.
 */
TEST(QualityReport, AggregatesKeepTheirPlanSettings)
{
	struct db *db = pgtest_connect(quality_db());
	PGresult *r = PQexec(
		db_conn(db),
		"SELECT p.proname, coalesce(array_to_string(p.proconfig, ' '), '') FROM pg_proc p "
		"WHERE p.proname IN ('ml_quality_points', 'ml_quality_point_failures') ORDER BY 1");
	ASSERT_EQ(PGRES_TUPLES_OK, PQresultStatus(r)) << PQerrorMessage(db_conn(db));
	ASSERT_EQ(2, PQntuples(r));
	for (int i = 0; i < PQntuples(r); i++) {
		std::string name = PQgetvalue(r, i, 0), conf = PQgetvalue(r, i, 1);
		EXPECT_NE(std::string::npos, conf.find("enable_sort=off")) << name << ": " << conf;
		EXPECT_NE(std::string::npos, conf.find("work_mem=64MB")) << name << ": " << conf;
		EXPECT_NE(std::string::npos, conf.find("jit=off")) << name << ": " << conf;
	}
	PQclear(r);
	db_close(db);
}

TEST(QualityReport, RefusesBadInput)
{
	struct db *db = pgtest_connect(quality_db());
	struct quality_report r;
	struct ml_error err = ML_ERROR_INIT;
	struct quality_filter f = { "2026-02-30", "2026-12-31", nullptr, nullptr };
	EXPECT_EQ(ML_EINVAL, quality_report_load(db, &f, &r, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'2026-02-30'"));
	f = { "2026-12-31", "2026-11-01", nullptr, nullptr };
	EXPECT_EQ(ML_EINVAL, quality_report_load(db, &f, &r, &err));
	f = { "2026-11-01", "2026-12-31", "NOBODY", nullptr };
	EXPECT_EQ(ML_ENOTFOUND, quality_report_load(db, &f, &r, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "NOBODY"));
	db_close(db);
}

TEST(QualityReport, CsvHoldsTheSameFigures)
{
	Report q("2026-11-01", "2026-12-31");
	char dir[] = "/tmp/ml-quality-csv-XXXXXX";
	ASSERT_NE(nullptr, mkdtemp(dir));
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, quality_report_csv(&q.r, dir, &err)) << err.msg;
	auto slurp = [&](const char *name) {
		std::ifstream f(std::string(dir) + "/" + name);
		std::stringstream ss;
		ss << f.rdbuf();
		return ss.str();
	};
	std::string v = slurp("verdicts.csv");
	EXPECT_NE(std::string::npos, v.find("dim,key,name,maker,verified,passed,failed")) << v;
	EXPECT_NE(std::string::npos, v.find("lot,LB2,MB-1,MB,50,40,10,10,20.00\r\n")) << v;
	std::string p = slurp("points.csv");
	EXPECT_NE(std::string::npos,
		  p.find("total,,basic,Ib cosφ=1.0 H,1.0000,0.6000,550,15,15,0.040782,"
			 "0.245356,-0.0300,1.5000,2.73"))
		<< p;
	std::string fl = slurp("field.csv");
	EXPECT_NE(std::string::npos, fl.find("maker,MB,,99,4512,5,404.75")) << fl;
	EXPECT_NE(std::string::npos, slurp("months.csv").find("2026-12,170,11,6.47,12123,6,"))
		<< "months";
	EXPECT_FALSE(slurp("items.csv").empty());
	EXPECT_FALSE(slurp("point_failures.csv").empty());
	pgtest_run("rm -rf " + pgtest_sq(dir), nullptr);
}

/* ---- early warning ---- */

struct Alerts {
	struct quality_alert *a = nullptr;
	size_t n = 0;
	Alerts(enum quality_correction method, const char *alpha = "0.05")
	{
		struct db *db = pgtest_connect(quality_db());
		struct quality_unit *u = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_OK,
			  quality_alert_units_load(db, "2026-11-01", "2026-12-31", &u, &n, &err))
			<< err.msg;
		struct quality_alert_opts o = { alpha, method };
		EXPECT_EQ(ML_OK, quality_alerts_compute(u, n, &o, &a, &err)) << err.msg;
		free(u);
		db_close(db);
	}
	~Alerts()
	{
		free(a);
	}
	const quality_alert *find(enum quality_metric m, const char *dim, const char *key,
				  const char *peer) const
	{
		for (size_t i = 0; i < n; i++)
			if (a[i].unit.metric == m && !strcmp(a[i].unit.dim, dim) &&
			    !strcmp(a[i].unit.key, key) && !strcmp(a[i].unit.peer, peer))
				return &a[i];
		return nullptr;
	}
};

/*
 * Known answers (Python fractions): LB2 against LB1 (lots of MB-1): Fisher
 * N 150, K 11, n 50, x 10 → p = 770431/10772352383 ≈ 7.152e-5; MB-1 against
 * the other single-phase models: N 550, K 15, n 150, x 11 → 2.191e-4; field,
 * MB-1: 5 of 6 faults with 4 512 of 18 459 asset-days → 4.169e-3. Holm at
 * 0.05: lots m = 4 (LC1 and LC2 have no peer lot), the others m = 3.
 */
TEST(QualityAlerts, FlagsWhatStandsOutAndNothingElse)
{
	Alerts al(QUALITY_HOLM);
	std::set<std::string> flagged;
	for (size_t i = 0; i < al.n; i++)
		if (al.a[i].flagged)
			flagged.insert(std::string(al.a[i].unit.metric == QUALITY_FIELD
							   ? "field "
							   : "verify ") +
				       al.a[i].unit.dim + " " + al.a[i].unit.key);
	EXPECT_EQ((std::set<std::string>{ "verify lot LB2", "verify model MB-1", "verify maker MB",
					  "field model MB-1", "field maker MB" }),
		  flagged);
	const quality_alert *lb2 = al.find(QUALITY_VERIFY, "lot", "LB2", "MB-1");
	ASSERT_NE(nullptr, lb2);
	EXPECT_EQ(4u, lb2->family_size);
	EXPECT_EQ(50, lb2->unit.n);
	EXPECT_EQ(10, lb2->unit.x);
	EXPECT_EQ(100, lb2->peer_n);
	EXPECT_EQ(1, lb2->peer_x);
	EXPECT_NEAR(7.15192905512289e-05, lb2->p, 1e-12);
	EXPECT_EQ(1u, lb2->rank);
	EXPECT_EQ(5u, lb2->t_num); /* decided at α/m = 5/400 */
	EXPECT_EQ(400u, lb2->t_den);
	EXPECT_NEAR(0.7512562814070352, al.find(QUALITY_VERIFY, "lot", "LA1", "MA-1")->p, 1e-12);
	EXPECT_FALSE(al.find(QUALITY_VERIFY, "lot", "LC1", "MC-1")->tested);
	EXPECT_FALSE(al.find(QUALITY_VERIFY, "model", "MC-2", "ct")->tested);
	const quality_alert *mb1 = al.find(QUALITY_VERIFY, "model", "MB-1", "meter_1p");
	EXPECT_NEAR(0.000219127337286998, mb1->p, 1e-13);
	EXPECT_EQ(3u, mb1->family_size);
	const quality_alert *fmb = al.find(QUALITY_FIELD, "model", "MB-1", "meter_1p");
	ASSERT_NE(nullptr, fmb);
	EXPECT_EQ(4512, fmb->unit.n);
	EXPECT_EQ(13947, fmb->peer_n);
	EXPECT_NEAR(0.004169034377679861, fmb->p, 1e-13);
	EXPECT_NEAR(0.8240366946760568, al.find(QUALITY_FIELD, "model", "MA-1", "meter_1p")->p,
		    1e-12);
	/* a strict alpha below the smallest p flags nothing */
	Alerts strict(QUALITY_HOLM, "0.00005");
	for (size_t i = 0; i < strict.n; i++)
		EXPECT_FALSE(strict.a[i].flagged) << strict.a[i].unit.key;
}

/*
 * Ten lots of one model, 100 meters each: eight with 1 failure, one with 7,
 * one with 9. p ≈ 0.00672 and 0.000257 (Python fractions). Holm at 0.05
 * flags only the 9 (0.00672 > 0.05/9); Benjamini–Hochberg flags both
 * (0.00672 <= 0.05·2/10).
 */
TEST(QualityAlerts, HolmAndBenjaminiHochbergDiffer)
{
	std::vector<quality_unit> u(10);
	for (int i = 0; i < 10; i++) {
		u[i].metric = QUALITY_VERIFY;
		snprintf(u[i].dim, sizeof u[i].dim, "lot");
		snprintf(u[i].key, sizeof u[i].key, "L%d", i);
		snprintf(u[i].peer, sizeof u[i].peer, "M1");
		u[i].n = 100;
		u[i].x = i == 8 ? 7 : i == 9 ? 9 : 1;
	}
	struct ml_error err = ML_ERROR_INIT;
	for (enum quality_correction c : { QUALITY_HOLM, QUALITY_BH }) {
		struct quality_alert *a = nullptr;
		struct quality_alert_opts o = { "0.05", c };
		ASSERT_EQ(ML_OK, quality_alerts_compute(u.data(), u.size(), &o, &a, &err))
			<< err.msg;
		EXPECT_NEAR(0.006720631000846443, a[8].p, 1e-12);
		EXPECT_NEAR(0.00025675008709136524, a[9].p, 1e-14);
		EXPECT_TRUE(a[9].flagged);
		EXPECT_EQ(c == QUALITY_BH, a[8].flagged) << quality_correction_name(c);
		for (int i = 0; i < 8; i++)
			EXPECT_FALSE(a[i].flagged);
		free(a);
	}
	struct quality_alert *a = nullptr;
	struct quality_alert_opts bad = { "5%", QUALITY_HOLM };
	EXPECT_EQ(ML_EINVAL, quality_alerts_compute(u.data(), u.size(), &bad, &a, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'5%'"));
	u[0].x = 101;
	struct quality_alert_opts ok = { "0.05", QUALITY_HOLM };
	EXPECT_EQ(ML_EINVAL, quality_alerts_compute(u.data(), u.size(), &ok, &a, &err));
}

} // namespace
