/*
 * Rotation lists and on-site inspection due dates (issue 15): the next
 * inspection at month ends and in leap years (DL/T 448-2000 intervals as
 * data), the rotation list of a month per team (due, overdue, not yet), the
 * due list after an inspection, and who may set a point's class.
 */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "assets/registry.h"
#include "plan/rotation.h"

namespace
{

std::string g_ci;

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

void dba(const std::string &sql, std::vector<std::string> params = {})
{
	struct db *db = pgtest_connect(g_ci + " options='-c session_replication_role=replica'");
	std::vector<const char *> p;
	for (auto &s : params)
		p.push_back(s.c_str());
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_cmd(db, sql.c_str(), (int)p.size(), p.data(), &err)) << sql << err.msg;
	db_close(db);
}

class Rotation : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("rotation");
		struct db *db = pgtest_connect(pgtest_as(g_ci, "mlt_admin"));
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, asset_manufacturer_add(db, "RX", "轮换厂", &err)) << err.msg;
		struct asset_model m = {};
		m.code = "RM1";
		m.manufacturer_code = "RX";
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
		for (auto l : { std::pair<const char *, const char *>{ "RSITE", "customer_site" },
				{ "TEAM-A", "field_team" },
				{ "TEAM-B", "field_team" } })
			ASSERT_EQ(ML_OK,
				  asset_location_add(db, l.first, l.first, l.second, nullptr, &err))
				<< err.msg;
		db_close(db);
		std::string csv = "barcode,model_code,production_batch,production_date\n";
		for (int i = 0; i < 6; i++) {
			char b[23];
			ASSERT_EQ(ML_OK, barcode_make("41300", "04", 500 + i, b, &err)) << err.msg;
			csv += std::string(b) + ",RM1,B1,2026-09-14\n";
		}
		db = pgtest_connect(pgtest_as(g_ci, "mlt_clerk"));
		struct asset_receive_opts o = {};
		o.lot_code = "R-1";
		struct asset_import_report rep;
		ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err))
			<< err.msg;
		asset_import_report_free(&rep);
		db_close(db);
		// six installed meters at points RP1..RP6: validity ends 2026-11-15 (overdue for December),
		// 2026-12-01 and 2026-12-31 (due), 2027-01-01 (not yet); RP5 removed; RP6 team B, due
		dba("INSERT INTO metering_point (code, account_no, address, site_id, created_by) "
		    "SELECT 'RP' || g, '77' || g, 'street ' || g, (SELECT location_id FROM location WHERE code = 'RSITE'), "
		    "(SELECT user_id FROM app_user WHERE login = 'mlt_manager') FROM generate_series(1, 6) g");
		dba("UPDATE asset a SET state = 'installed', valid_until = v.d::date FROM (VALUES "
		    "(0, '2026-11-15'), (1, '2026-12-01'), (2, '2026-12-31'), (3, '2027-01-01'), (4, '2026-12-10'), "
		    "(5, '2026-12-20')) v(k, d) WHERE a.lot_id = (SELECT lot_id FROM lot WHERE code = 'R-1') "
		    "AND a.asset_id = (SELECT min(asset_id) FROM asset WHERE lot_id = a.lot_id) + v.k");
		dba("INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, installed_at, install_kwh, "
		    "removed_by, removed_at, remove_kwh, remove_reason) "
		    "SELECT a.asset_id, p.point_id, 'meter', (SELECT location_id FROM location WHERE code = "
		    "CASE WHEN k = 5 THEN 'TEAM-B' ELSE 'TEAM-A' END), u.user_id, "
		    "CASE k WHEN 0 THEN timestamptz '2025-11-30 10:00+08' WHEN 1 THEN timestamptz '2023-11-30 10:00+08' "
		    "ELSE timestamptz '2026-01-31 10:00+08' END, 0, "
		    "CASE WHEN k = 4 THEN u.user_id END, CASE WHEN k = 4 THEN now() END, CASE WHEN k = 4 THEN 1 END, "
		    "CASE WHEN k = 4 THEN 'rotation' END "
		    "FROM (SELECT asset_id, row_number() OVER (ORDER BY asset_id) - 1 AS k FROM asset "
		    "WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'R-1')) a "
		    "JOIN metering_point p ON p.code = 'RP' || (a.k + 1) JOIN app_user u ON u.login = 'mlt_field'");
	}
};

} // namespace

TEST_F(Rotation, NextInspectionAtMonthEndsAndLeapYears)
{
	struct C {
		const char *from, *cls, *due;
	} cases[] = {
		{ "2025-11-30", "I", "2026-02-28" },   { "2023-11-30", "I", "2024-02-29" },
		{ "2024-02-29", "III", "2025-02-28" }, { "2024-08-31", "II", "2025-02-28" },
		{ "2027-08-31", "II", "2028-02-29" },  { "2026-01-31", "I", "2026-04-30" },
		{ "2026-03-31", "II", "2026-09-30" },  { "2026-12-31", "III", "2027-12-31" },
		{ "2100-11-30", "I", "2101-02-28" }, // 2100 is no leap year... nor 2101
		{ "2099-11-30", "I", "2100-02-28" },   { "2399-11-30", "I", "2400-02-29" },
	};
	for (const auto &c : cases)
		EXPECT_EQ(c.due, one(g_ci, "SELECT ml_inspection_next($1::date, $2)::text",
				     { c.from, c.cls }))
			<< c.from << " class " << c.cls;
	EXPECT_EQ(
		"3|6|12",
		one(g_ci,
		    "SELECT string_agg(months::text, '|' ORDER BY months) FROM inspection_class"));
}

TEST_F(Rotation, RotationListOfAMonthPerTeam)
{
	struct db *db = pgtest_connect(pgtest_as(g_ci, "mlt_field"));
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, rotation_list(db, "2026-12", nullptr, &res, &err)) << err.msg;
	std::vector<std::string> got;
	for (int r = 0; r < PQntuples(res); r++)
		got.push_back(std::string(db_get(res, r, "team")) + ":" + db_get(res, r, "point") +
			      ":" + db_get(res, r, "status"));
	PQclear(res);
	// RP4 (2027-01-01) is January's; RP5 was removed
	EXPECT_EQ((std::vector<std::string>{ "TEAM-A:RP1:overdue", "TEAM-A:RP2:due",
					     "TEAM-A:RP3:due", "TEAM-B:RP6:due" }),
		  got);
	ASSERT_EQ(ML_OK, rotation_list(db, "2027-01", "TEAM-A", &res, &err)) << err.msg;
	EXPECT_EQ(4, PQntuples(res)); // RP1..RP3 still there (overdue), RP4 due
	PQclear(res);
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, rotation_list(db, "2026-1", nullptr, &res, &err));
	db_close(db);
}

TEST_F(Rotation, InspectionDueFromInstallOrLastInspection)
{
	const char *pts[] = { "RP1", "RP2", "RP3" };
	struct db *db = pgtest_connect(pgtest_as(g_ci, "mlt_clerk"));
	struct ml_error err = ML_ERROR_INIT;
	long n = 0;
	EXPECT_EQ(ML_EPERM, inspection_class_set(db, pts, 3, "I", &n, &err));
	db_close(db);
	db = pgtest_connect(pgtest_as(g_ci, "mlt_manager"));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, inspection_class_set(db, pts, 1, "VI", &n, &err));
	err = ML_ERROR_INIT;
	const char *unknown[] = { "RP1", "NOPE" };
	EXPECT_EQ(ML_ENOTFOUND, inspection_class_set(db, unknown, 2, "I", &n, &err));
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, inspection_class_set(db, pts, 2, "I", &n, &err)) << err.msg;
	EXPECT_EQ(2, n);
	ASSERT_EQ(ML_OK, inspection_class_set(db, pts + 2, 1, "III", &n, &err)) << err.msg;
	// RP1 installed 2025-11-30 (class I) -> 2026-02-28; RP2 installed 2023-11-30 -> 2024-02-29;
	// RP3 installed 2026-01-31 (class III) -> 2027-01-31; RP2 inspected 2026-11-30 -> 2027-02-28
	dba("INSERT INTO point_inspection (point_id, inspected_on, recorded_by) SELECT point_id, '2026-11-30', "
	    "(SELECT user_id FROM app_user WHERE login = 'mlt_field') FROM metering_point WHERE code = 'RP2'");
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, inspection_due(db, "2027-12-31", &res, &err)) << err.msg;
	std::vector<std::string> got;
	for (int r = 0; r < PQntuples(res); r++)
		got.push_back(std::string(db_get(res, r, "point")) + ":" +
			      db_get(res, r, "due_on") + ":" + db_get(res, r, "overdue"));
	PQclear(res);
	EXPECT_EQ((std::vector<std::string>{ "RP1:2026-02-28:t", "RP3:2027-01-31:f",
					     "RP2:2027-02-28:f" }),
		  got);
	db_close(db);
}

/* The overdue ones as monitoring rules (0303): dates relative to today, so the test holds on any day. */
TEST_F(Rotation, OverdueRotationsAndInspectionsAreMonitoringRules)
{
	dba("UPDATE asset SET valid_until = ml_cert_today() - 1 WHERE asset_id = (SELECT i.asset_id FROM installation i "
	    "JOIN metering_point p ON p.point_id = i.point_id WHERE p.code = 'RP3' AND i.removed_at IS NULL)");
	dba("UPDATE asset SET valid_until = ml_cert_today() + 10 WHERE asset_id = (SELECT i.asset_id FROM installation i "
	    "JOIN metering_point p ON p.point_id = i.point_id WHERE p.code = 'RP4' AND i.removed_at IS NULL)");
	auto found = [](const char *rule, const char *point, const char *th = "0") {
		return one(
			pgtest_as(g_ci, "mlt_manager"),
			"SELECT count(*) FROM ml_watch_detect($1, $3::int) WHERE evidence->>'point' = $2",
			{ rule, point, th });
	};
	EXPECT_EQ("1", found("rotation_overdue", "RP3"));
	EXPECT_EQ("0", found("rotation_overdue", "RP4"));
	EXPECT_EQ("0", found("rotation_overdue", "RP5"));      // removed
	EXPECT_EQ("0", found("rotation_overdue", "RP3", "1")); // one day of grace
	// RP6: class II, installed 2026-01-31 -> due 2026-07-31 (past); inspected today -> not overdue
	dba("INSERT INTO point_inspection_class (point_id, class, set_by) SELECT point_id, 'II', "
	    "(SELECT user_id FROM app_user WHERE login = 'mlt_manager') FROM metering_point WHERE code IN ('RP6', 'RP4') "
	    "ON CONFLICT (point_id) DO UPDATE SET class = 'II'");
	EXPECT_EQ("1", found("inspection_overdue", "RP6"));
	EXPECT_EQ("1", found("inspection_overdue", "RP4"));
	dba("INSERT INTO point_inspection (point_id, inspected_on, recorded_by) SELECT point_id, ml_cert_today(), "
	    "(SELECT user_id FROM app_user WHERE login = 'mlt_field') FROM metering_point WHERE code = 'RP6'");
	EXPECT_EQ("0", found("inspection_overdue", "RP6"));
	EXPECT_EQ(
		"field_member|14",
		one(g_ci,
		    "SELECT role || '|' || due_days FROM watch_rule WHERE code = 'inspection_overdue'"));
}
