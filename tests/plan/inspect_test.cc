/*
 * Recording an on-site inspection (现场检验, issue 15, 0305): the portable
 * standard's certificate checked like a bench's, the errors judged with the
 * lab's engine and exact rounding (a mean of 1.15 % on a class 1 meter
 * rounds half-even to 1.2 and fails; 1.05 rounds to 1.0 and passes — what
 * binary floating point gets wrong), the result on the meter's history and
 * the point's inspection record (the next due date moves), a failed one
 * opening a swap work order; refusals (expired certificate, no installed
 * meter, bad error text, too few readings, no permission, figures that do
 * not follow from the readings) and every role's direct writes.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "assets/registry.h"
#include "plan/inspect.h"
#include "plan/rotation.h"

namespace
{

std::string g_ci, g_field, g_mgr;

std::string one(const std::string &sql, std::vector<std::string> params = {})
{
	struct db *db = pgtest_connect(g_ci);
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

void dba(const std::string &sql)
{
	struct db *db = pgtest_connect(g_ci + " options='-c session_replication_role=replica'");
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_cmd(db, sql.c_str(), 0, nullptr, &err)) << sql << err.msg;
	db_close(db);
}

struct Pts {
	std::vector<inspect_point> v;
	Pts(std::initializer_list<const char *> texts)
	{
		for (const char *t : texts) {
			inspect_point p;
			struct ml_error err = ML_ERROR_INIT;
			EXPECT_EQ(ML_OK, inspect_parse(t, &p, &err)) << t << ": " << err.msg;
			v.push_back(p);
		}
	}
};

int inspect(const std::string &who, const char *point, const char *standard, const Pts &pts,
	    inspect_out *out, struct ml_error *err, const char *date = nullptr,
	    const char *zone = nullptr)
{
	struct db *db = zone ? pgtest_connect_in_zone(who, zone) : pgtest_connect(who);
	inspect_in in = {};
	in.point = point;
	in.standard = standard;
	in.date = date;
	in.points = pts.v.data();
	in.npoints = pts.v.size();
	int rc = inspect_record(db, &in, out, err);
	db_close(db);
	return rc;
}

class Inspect : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("inspect");
		struct db *db = pgtest_connect(pgtest_as(g_ci, "mlt_admin"));
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, asset_manufacturer_add(db, "IX", "现场厂", &err)) << err.msg;
		struct asset_model m = {};
		m.code = "IM1";
		m.manufacturer_code = "IX";
		m.name = "single-phase class 1";
		m.kind = "meter_1p";
		m.accuracy_class = "1";
		m.connection = "direct";
		m.wiring = "1p2w";
		m.un_v = "220";
		m.ib_a = "5";
		m.imax_a = "60";
		m.constant_imp = "1200";
		m.verification_period_months = "96";
		ASSERT_EQ(ML_OK, asset_model_add(db, &m, &err)) << err.msg;
		for (auto l : { std::pair<const char *, const char *>{ "ISITE", "customer_site" },
				{ "ITEAM", "field_team" } })
			ASSERT_EQ(ML_OK,
				  asset_location_add(db, l.first, l.first, l.second, nullptr, &err))
				<< err.msg;
		db_close(db);
		g_field = pgtest_user(g_ci, "mli_field", "现场检验员", "field_member", "ITEAM");
		g_mgr = pgtest_as(g_ci, "mlt_manager");
		std::string csv = "barcode,model_code,production_batch,production_date\n";
		for (int i = 0; i < 4; i++) {
			char b[23];
			ASSERT_EQ(ML_OK, barcode_make("41300", "04", 900 + i, b, &err)) << err.msg;
			csv += std::string(b) + ",IM1,B1,2026-09-14\n";
		}
		db = pgtest_connect(pgtest_as(g_ci, "mlt_clerk"));
		struct asset_receive_opts o = {};
		o.lot_code = "I-1";
		struct asset_import_report rep;
		ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err))
			<< err.msg;
		asset_import_report_free(&rep);
		db_close(db);
		// points IP1..IP4 with a meter each (installed 30 days ago), IP9 without one
		dba("INSERT INTO metering_point (code, account_no, address, site_id, created_by) "
		    "SELECT 'IP' || g, '88' || g, 'road ' || g, (SELECT location_id FROM location WHERE code = 'ISITE'), "
		    "(SELECT user_id FROM app_user WHERE login = 'mlt_manager') FROM generate_series(1, 4) g "
		    "UNION ALL SELECT 'IP9', '889', 'road 9', (SELECT location_id FROM location WHERE code = 'ISITE'), "
		    "(SELECT user_id FROM app_user WHERE login = 'mlt_manager')");
		dba("UPDATE asset SET state = 'installed', valid_until = ml_cert_today() + 2000 "
		    "WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'I-1')");
		dba("INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, installed_at, "
		    "install_kwh) SELECT a.asset_id, p.point_id, 'meter', (SELECT location_id FROM location WHERE "
		    "code = 'ITEAM'), (SELECT user_id FROM app_user WHERE login = 'mli_field'), now() - interval "
		    "'30 days', 0 FROM (SELECT asset_id, row_number() OVER (ORDER BY asset_id) AS k FROM asset "
		    "WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'I-1')) a "
		    "JOIN metering_point p ON p.code = 'IP' || a.k");
		// portable standards: PS1 certified now, PS-OLD whose certificate ended yesterday
		dba("INSERT INTO reference_standard (code, name, accuracy_class) VALUES "
		    "('PS1', 'portable three-phase standard', '0.05'), ('PS-OLD', 'old portable standard', '0.1')");
		dba("INSERT INTO standard_certificate (standard_id, cert_no, issuer, valid_from, valid_until) "
		    "SELECT standard_id, code || '-C1', 'provincial institute', ml_cert_today() - 300, "
		    "CASE code WHEN 'PS1' THEN ml_cert_today() + 60 ELSE ml_cert_today() - 1 END FROM reference_standard");
	}
};

} // namespace

TEST_F(Inspect, ParseLoadPointsAndRefuseBadText)
{
	inspect_point p;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, inspect_parse("0.2Ib 0.5L: -0.31, +0.27 0.3", &p, &err)) << err.msg;
	EXPECT_STREQ("0.2Ib 0.5L", p.label);
	EXPECT_EQ(POINT_IB, p.point.base);
	EXPECT_EQ(2000, p.point.mult_e4);
	EXPECT_EQ(PF_0_5L, p.point.pf);
	EXPECT_EQ(ELEM_H, p.point.element);
	ASSERT_EQ(3, p.n);
	EXPECT_EQ(-3100, p.readings_e4[0]);
	EXPECT_EQ(2700, p.readings_e4[1]);
	EXPECT_EQ(3000, p.readings_e4[2]);
	ASSERT_EQ(ML_OK, inspect_parse("Imax 1.0 A: 0.1,0.2", &p, &err)) << err.msg;
	EXPECT_EQ(ELEM_A, p.point.element);
	struct {
		const char *text, *names;
	} bad[] = {
		{ "Ib 1.0 0.12 0.10", "not 'CURRENT PF" },        // no colon
		{ "Ib 1.0: 0.12, 0.1x", "0.1x" },                 // not a number
		{ "Ib 1.0: 0.12345, 0.1", "0.12345" },            // more decimals than exact e4
		{ "Ib 1.0: 1e-1, 0.1", "1e-1" },                  // no floating point notation
		{ "2Ix 1.0: 0.1, 0.1", "2Ix" },                   // no such current
		{ "Ib 0.7L: 0.1, 0.1", "0.7L" },                  // no such power factor
		{ "Ib 1.0:", "no readings" },                     // nothing measured
		{ "Ib: 0.1, 0.1", "not 'CURRENT PF [ELEMENT]'" }, // no power factor
	};
	for (const auto &b : bad) {
		err = ML_ERROR_INIT;
		EXPECT_EQ(ML_EINVAL, inspect_parse(b.text, &p, &err)) << b.text;
		EXPECT_NE(nullptr, strstr(err.msg, b.names)) << b.text << " -> " << err.msg;
	}
}

TEST_F(Inspect, PassRecordsHistoryAndMovesTheDueDate)
{
	const char *pts[] = { "IP1" };
	struct db *db = pgtest_connect(g_mgr);
	struct ml_error err = ML_ERROR_INIT;
	long n = 0;
	ASSERT_EQ(ML_OK, inspection_class_set(db, pts, 1, "I", &n, &err)) << err.msg;
	db_close(db);
	// installed 30 days ago, class I: due in about two months, from the installation
	EXPECT_EQ(
		one("SELECT (ml_cst_day(now() - interval '30 days') + interval '3 months')::date::text"),
		one("SELECT due_on::text FROM ml_inspection_due(ml_cert_today() + 400) WHERE point = 'IP1'"));

	inspect_out o;
	// the mean 1.05 % rounds half-even to 1.0 at the class's 0.1 interval: on the limit, a pass
	Pts p{ "Ib 1.0: +1.04, +1.06", "0.1Ib 1.0: -0.31 -0.35", "0.2Ib 0.5L: 0.4, 0.42" };
	ASSERT_EQ(ML_OK, inspect(g_field, "IP1", "PS1", p, &o, &err)) << err.msg;
	EXPECT_EQ(1, o.pass);
	EXPECT_EQ(0, o.order_id);
	ASSERT_EQ(3u, o.npoints);
	EXPECT_EQ(10500, o.value[0].mean_e4);
	EXPECT_EQ(10000, o.value[0].rounded_e4);
	EXPECT_EQ(10000, o.value[0].limit_e4);
	EXPECT_EQ(-3300, o.value[1].mean_e4);
	EXPECT_EQ(-3000, o.value[1].rounded_e4);
	EXPECT_EQ(4000, o.value[2].rounded_e4);
	std::string id = std::to_string(o.inspection_id);
	EXPECT_EQ("pass|PS1|PS1-C1|mli_field",
		  one("SELECT i.verdict || '|' || s.code || '|' || c.cert_no || '|' || u.login "
		      "FROM point_inspection i JOIN reference_standard s USING (standard_id) "
		      "JOIN standard_certificate c ON c.cert_id = i.standard_cert_id "
		      "JOIN app_user u ON u.user_id = i.recorded_by WHERE i.inspection_id = $1",
		      { id }));
	EXPECT_EQ(
		"Ib 1.0:{10400,10600}:10000:pass|0.1Ib 1.0:{-3100,-3500}:-3000:pass|"
		"0.2Ib 0.5L:{4000,4200}:4000:pass",
		one("SELECT string_agg(label || ':' || readings_e4::text || ':' || rounded_e4 || ':' || "
		    "verdict, '|' ORDER BY seq) FROM point_inspection_result WHERE inspection_id = $1",
		    { id }));
	// on the meter's history, state unchanged
	EXPECT_EQ(
		"installed|installed|pass|PS1",
		one("SELECT e.from_state || '|' || e.to_state || '|' || (e.details->>'verdict') || '|' || "
		    "(e.details->>'standard') FROM asset_event e JOIN asset a USING (asset_id) "
		    "WHERE a.barcode = $1 AND e.action = 'site_inspect'",
		    { o.barcode }));
	// the next inspection is three months from today
	EXPECT_EQ(
		one("SELECT (ml_cert_today() + interval '3 months')::date::text"),
		one("SELECT due_on::text FROM ml_inspection_due(ml_cert_today() + 400) WHERE point = 'IP1'"));
}

TEST_F(Inspect, FailOpensOneSwapOrder)
{
	inspect_out o;
	struct ml_error err = ML_ERROR_INIT;
	// 1.15 % rounds half-even to 1.2 (11.5 intervals -> 12): beyond ±1.0. A binary double
	// makes 1.15 / 0.1 = 11.4999… and would pass it.
	Pts p{ "Ib 1.0: 1.14, 1.16", "0.2Ib 0.5L: 0.1, 0.1" };
	ASSERT_EQ(ML_OK, inspect(g_field, "IP2", "PS1", p, &o, &err)) << err.msg;
	EXPECT_EQ(0, o.pass);
	EXPECT_EQ(12000, o.value[0].rounded_e4);
	EXPECT_EQ(JUDGE_FAIL, o.value[0].verdict);
	EXPECT_EQ(JUDGE_PASS, o.value[1].verdict);
	ASSERT_NE(0, o.order_id);
	std::string oid = std::to_string(o.order_id);
	EXPECT_EQ(
		one("SELECT 'inspection|open|ITEAM|IP2|' || (ml_cert_today() + 7)::text"),
		one("SELECT o.kind || '|' || o.status || '|' || t.code || '|' || p.code || '|' || o.due_on "
		    "FROM swap_order o JOIN location t ON t.location_id = o.team_id "
		    "JOIN metering_point p USING (point_id) WHERE o.order_id = $1",
		    { oid }));
	EXPECT_EQ("fail", one("SELECT verdict FROM point_inspection WHERE inspection_id = $1",
			      { std::to_string(o.inspection_id) }));
	// a second failure keeps the open order rather than doubling it
	inspect_out o2;
	ASSERT_EQ(ML_OK, inspect(g_field, "IP2", "PS1", p, &o2, &err)) << err.msg;
	EXPECT_EQ(o.order_id, o2.order_id);
	EXPECT_EQ("1", one("SELECT count(*) FROM swap_order WHERE point_id = (SELECT point_id FROM "
			   "metering_point WHERE code = 'IP2')"));
}

TEST_F(Inspect, Refusals)
{
	std::string before = one("SELECT count(*) FROM point_inspection");
	inspect_out o;
	struct ml_error err = ML_ERROR_INIT;
	Pts p{ "Ib 1.0: 0.1, 0.1" };
	EXPECT_EQ(ML_ESTATE, inspect(g_field, "IP3", "PS-OLD", p, &o, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'PS-OLD' has no calibration certificate valid on"))
		<< err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "latest valid until")) << err.msg;
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ENOTFOUND, inspect(g_field, "IP3", "NO-SUCH", p, &o, &err));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE, inspect(g_field, "IP9", "PS1", p, &o, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "IP9 has no installed meter")) << err.msg;
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ENOTFOUND, inspect(g_field, "NOPE", "PS1", p, &o, &err));
	err = ML_ERROR_INIT;
	Pts one_reading{ "Ib 1.0: 0.1" };
	EXPECT_EQ(ML_EINVAL, inspect(g_field, "IP3", "PS1", one_reading, &o, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "basic.readings")) << err.msg;
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, inspect(g_field, "IP3", "PS1", p, &o, &err, "2999-01-01"));
	EXPECT_NE(nullptr, strstr(err.msg, "in the future")) << err.msg;
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, inspect(g_field, "IP3", "PS1", p, &o, &err, "2020-01-01"));
	EXPECT_NE(nullptr, strstr(err.msg, "before the meter")) << err.msg;
	// a warehouse clerk does not inspect
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EPERM, inspect(pgtest_as(g_ci, "mlt_clerk"), "IP3", "PS1", p, &o, &err));
	EXPECT_EQ(before, one("SELECT count(*) FROM point_inspection"));
}

TEST_F(Inspect, TheDatabaseRecomputesEveryFigure)
{
	struct db *db = pgtest_connect(g_field);
	struct ml_error err = ML_ERROR_INIT;
	// readings 1.14/1.16 judged "pass" with a rounded 1.1: refused, both ways round
	const char *sql =
		"SELECT * FROM ml_site_inspect('IP3', 'PS1', NULL, '{\"Ib 1.0\"}', '{1}', "
		"'{10000}', '{1}', '{0}', '{2}', '{11400,11600}', $1::bigint[], $2::bigint[], "
		"'{10000}', '{1000}', $3::text[])";
	struct {
		const char *mean, *rounded, *verdict;
	} wrong[] = { { "{11500}", "{11000}", "{pass}" },
		      { "{11500}", "{12000}", "{pass}" },
		      { "{11400}", "{12000}", "{fail}" } };
	for (const auto &w : wrong) {
		const char *p[3] = { w.mean, w.rounded, w.verdict };
		err = ML_ERROR_INIT;
		EXPECT_EQ(ML_EINVAL, db_cmd(db, sql, 3, p, &err))
			<< w.mean << w.rounded << w.verdict;
		EXPECT_NE(nullptr, strstr(err.msg, "do not follow from the readings")) << err.msg;
	}
	const char *right[3] = { "{11500}", "{12000}", "{fail}" };
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_cmd(db, sql, 3, right, &err)) << err.msg;
	// no meter at IP9, even with figures that follow
	err = ML_ERROR_INIT;
	EXPECT_EQ(
		ML_ESTATE,
		db_cmd(db,
		       "SELECT ml_site_inspect('IP9', 'PS1', NULL, '{\"Ib 1.0\"}', '{1}', '{10000}', "
		       "'{1}', '{0}', '{2}', '{1000,1000}', '{1000}', '{1000}', '{10000}', '{1000}', "
		       "'{pass}')",
		       0, nullptr, &err));
	db_close(db);
}

TEST_F(Inspect, NoRoleWritesTheRecordsDirectly)
{
	for (const char *login :
	     { "mlt_admin", "mlt_clerk", "mlt_tech", "mlt_checker", "mlt_approver", "mlt_field",
	       "mlt_analyst", "mlt_manager", "mlt_auditor" }) {
		struct db *db = pgtest_connect(pgtest_as(g_ci, login));
		for (const char *sql :
		     { "INSERT INTO point_inspection (point_id, inspected_on, recorded_by) SELECT point_id, "
		       "ml_cert_today(), 1 FROM metering_point LIMIT 1",
		       "UPDATE point_inspection SET verdict = 'pass'",
		       "DELETE FROM point_inspection_result",
		       "INSERT INTO swap_order (kind, installation_id, point_id, asset_id, team_id, month, due_on, "
		       "opened_by) SELECT 'rotation', installation_id, point_id, asset_id, team_id, ml_cert_today(), "
		       "ml_cert_today(), 1 FROM installation LIMIT 1",
		       "UPDATE swap_order SET status = 'cancelled', cancel_reason = 'x', closed_at = now()",
		       "DELETE FROM swap_order" }) {
			struct ml_error err = ML_ERROR_INIT;
			EXPECT_EQ(ML_EPERM, db_cmd(db, sql, 0, nullptr, &err))
				<< login << ": " << sql;
		}
		db_close(db);
	}
	// the history holds for the schema owner too
	struct db *db = pgtest_connect(g_ci);
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_NE(ML_OK, db_cmd(db, "DELETE FROM swap_order", 0, nullptr, &err));
	err = ML_ERROR_INIT;
	EXPECT_NE(ML_OK,
		  db_cmd(db, "UPDATE point_inspection SET verdict = 'pass'", 0, nullptr, &err));
	db_close(db);
}

TEST_F(Inspect, CommandLine)
{
	std::string out;
	std::string cli = pgtest_cli() + " --db " + pgtest_sq(g_field) + " ";
	EXPECT_EQ(3,
		  pgtest_run(cli + "plan inspect IP4 --standard PS1 --errors 'Ib 1.0: 0.1, zero'",
			     &out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("'zero'")) << out;
	EXPECT_EQ(2, pgtest_run(cli + "plan inspect IP4 --standard PS1", &out, true)) << out;
	EXPECT_EQ(1,
		  pgtest_run(cli + "plan inspect IP4 --standard PS1 --errors 'Ib 1.0: 1.14, 1.16' "
				   "--errors '0.2Ib 0.5L: 0.2, 0.2'",
			     &out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("FAIL")) << out;
	EXPECT_NE(std::string::npos, out.find("swap work order")) << out;
	EXPECT_EQ(
		0,
		pgtest_run(
			cli + "--json plan inspect IP4 --standard PS1 --errors 'Ib 1.0: 0.1, 0.12'",
			&out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"verdict\":\"pass\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"rounded\":\"+0.1\"")) << out;
}

/*
 * 0365: the inspection's date is China's whatever the field member's session
 * zone (before, SET TimeZone or a server in UTC dated it a day off, and the
 * next due date with it). The zone is picked
 * so that its date differs from China's at this moment (UTC-12 agrees with
 * China only from 20:00 China time, UTC+14 only before 18:00).
 */
TEST_F(Inspect, TheCallersTimeZoneDoesNotDateAnInspection)
{
	const char *zone =
		std::stoi(one(
			"SELECT extract(hour FROM now() AT TIME ZONE 'Asia/Shanghai')::int")) >= 20
			? "Etc/GMT-14"
			: "Etc/GMT+12";
	const std::string &who = g_field;
	{
		struct db *db = pgtest_connect_in_zone(who, zone);
		PGresult *res = nullptr;
		struct ml_error e = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, db_query_one(db, "SELECT (current_date = ml_cert_today())::text",
					      0, nullptr, &res, &e))
			<< e.msg;
		EXPECT_STREQ("false", PQgetvalue(res, 0, 0))
			<< "the session's date should differ from China's in " << zone;
		PQclear(res);
		db_close(db);
	}
	inspect_out o;
	struct ml_error err = ML_ERROR_INIT;
	Pts p{ "Ib 1.0: 1.0, 1.02", "0.2Ib 0.5L: 0.1, 0.1" }; // passes
	ASSERT_EQ(ML_OK, inspect(who, "IP3", "PS1", p, &o, &err, nullptr, zone)) << err.msg;
	EXPECT_EQ(1, o.pass);
	EXPECT_EQ(one("SELECT ml_cert_today()::text"),
		  one("SELECT inspected_on::text FROM point_inspection WHERE inspection_id = $1",
		      { std::to_string(o.inspection_id) }));
	// the day given explicitly may be China's today, not the day after it
	EXPECT_EQ(ML_OK, inspect(who, "IP3", "PS1", p, &o, &err,
				 one("SELECT ml_cert_today()::text").c_str(), zone))
		<< err.msg;
}
