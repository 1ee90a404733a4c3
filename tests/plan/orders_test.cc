/*
 * Rotations as swap work orders (issue 15, 0306): opened from the month's
 * rotation list per team, never twice for one meter, overdue visible,
 * completed by the field flow's swap of that meter at that point (and by a
 * removal followed by an installation there), cancelled only with a reason
 * and only while open; who may do what.
 */
#include <gtest/gtest.h>

#include <algorithm>

#include <cstring>
#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "assets/registry.h"
#include "field/field.h"
#include "plan/rotation.h"

namespace
{

std::string g_ci, g_a, g_b, g_mgr, g_clerk;

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

void dba(const std::string &sql, std::vector<std::string> params = {})
{
	struct db *db = pgtest_connect(g_ci);
	std::vector<const char *> p;
	for (auto &s : params)
		p.push_back(s.c_str());
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_cmd(db, sql.c_str(), (int)p.size(), p.data(), &err)) << sql << err.msg;
	db_close(db);
}

std::vector<std::string> g_bc;

/* Install barcode index k at point as the team member who. */
void install(const std::string &who, int k, const char *point, const char *kwh)
{
	struct db *db = pgtest_connect(who);
	struct field_install_in in = {};
	in.barcode = g_bc[k].c_str();
	in.point = point;
	in.kwh = kwh;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, field_install(db, &in, nullptr, &err))
		<< g_bc[k] << " at " << point << ": " << err.msg;
	db_close(db);
}

std::vector<std::string> orders(const char *status, const char *team = nullptr,
				const char *month = nullptr)
{
	struct db *db = pgtest_connect(g_mgr);
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	std::vector<std::string> got;
	struct swap_order_page pg = {};
	EXPECT_EQ(ML_OK, swap_order_list(db, status, team, month, &pg, &res, &err)) << err.msg;
	for (int r = 0; res && r < PQntuples(res); r++)
		got.push_back(std::string(db_get(res, r, "team")) + ":" + db_get(res, r, "point") +
			      ":" + db_get(res, r, "status") +
			      (strcmp(db_get(res, r, "overdue"), "t") ? "" : "!") +
			      (PQgetisnull(res, r, PQfnumber(res, "replaced_by")) ? "" : ">new"));
	PQclear(res);
	db_close(db);
	return got;
}

class Orders : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("orders");
		struct db *db = pgtest_connect(pgtest_as(g_ci, "mlt_admin"));
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, asset_manufacturer_add(db, "OX", "工单厂", &err)) << err.msg;
		struct asset_model m = {};
		m.code = "OM1";
		m.manufacturer_code = "OX";
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
		for (auto l : { std::pair<const char *, const char *>{ "OSITE", "customer_site" },
				{ "OTEAM-A", "field_team" },
				{ "OTEAM-B", "field_team" } })
			ASSERT_EQ(ML_OK,
				  asset_location_add(db, l.first, l.first, l.second, nullptr, &err))
				<< err.msg;
		db_close(db);
		g_a = pgtest_user(g_ci, "mlo_a", "装接甲", "field_member", "OTEAM-A");
		g_b = pgtest_user(g_ci, "mlo_b", "装接乙", "field_member", "OTEAM-B");
		g_mgr = pgtest_as(g_ci, "mlt_manager");
		g_clerk = pgtest_as(g_ci, "mlt_clerk");
		std::string csv = "barcode,model_code,production_batch,production_date\n";
		for (int i = 0; i < 8; i++) {
			char b[23];
			ASSERT_EQ(ML_OK, barcode_make("41300", "04", 700 + i, b, &err)) << err.msg;
			g_bc.push_back(b);
			csv += std::string(b) + ",OM1,B1,2026-09-14\n";
		}
		db = pgtest_connect(g_clerk);
		struct asset_receive_opts o = {};
		o.lot_code = "O-1";
		struct asset_import_report rep;
		ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err))
			<< err.msg;
		asset_import_report_free(&rep);
		db_close(db);
		db = pgtest_connect(g_mgr);
		struct field_point_report prep;
		std::string pts =
			"code,account,address,site\nOP1,4401,一路1号,OSITE\nOP2,4402,一路2号,OSITE\n"
			"OP3,4403,一路3号,OSITE\nOP4,4404,一路4号,OSITE\n";
		ASSERT_EQ(ML_OK, field_point_import(db, pts.data(), pts.size(), &prep, &err))
			<< err.msg;
		field_point_report_free(&prep);
		db_close(db);
		// meters 0..3 issued to team A, 4..7 to team B (4 and 5 are the replacements)
		for (int k = 0; k < 8; k++)
			dba("UPDATE asset SET state = 'issued', valid_until = current_date + 365, verified_at = now(), "
			    "location_id = (SELECT location_id FROM location WHERE code = $2) WHERE barcode = $1",
			    { g_bc[k], k < 4 ? "OTEAM-A" : "OTEAM-B" });
		install(g_a, 0, "OP1", "10");
		install(g_a, 1, "OP2", "20");
		install(g_a, 2, "OP3", "30");
		install(g_b, 6, "OP4", "40");
		// validity as the lab's runs would have left it: OP1 ended last month (overdue), OP2 and
		// OP4 end this month, OP3 in a year (not on this month's list)
		dba("UPDATE asset SET valid_until = CASE barcode WHEN $1 THEN date_trunc('month', current_date)::date - 3 "
		    "WHEN $2 THEN (date_trunc('month', current_date) + interval '1 month - 1 day')::date "
		    "WHEN $3 THEN (date_trunc('month', current_date) + interval '1 month - 1 day')::date "
		    "ELSE valid_until END WHERE barcode IN ($1, $2, $3)",
		    { g_bc[0], g_bc[1], g_bc[6] });
	}
};

std::string this_month()
{
	return one("SELECT to_char(current_date, 'YYYY-MM')");
}

} // namespace

TEST_F(Orders, OpenedFromTheRotationListCompletedBySwap)
{
	std::string month = this_month();
	struct ml_error err = ML_ERROR_INIT;
	long n = 0;
	// only a manager (swap.order) opens them
	struct db *db = pgtest_connect(g_a);
	EXPECT_EQ(ML_EPERM, rotation_orders_open(db, month.c_str(), nullptr, &n, &err));
	db_close(db);
	db = pgtest_connect(g_mgr);
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ENOTFOUND, rotation_orders_open(db, month.c_str(), "NO-TEAM", &n, &err));
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, rotation_orders_open(db, month.c_str(), "OTEAM-A", &n, &err)) << err.msg;
	EXPECT_EQ(2, n); // OP1 (overdue) and OP2
	ASSERT_EQ(ML_OK, rotation_orders_open(db, month.c_str(), nullptr, &n, &err)) << err.msg;
	EXPECT_EQ(1, n); // OP4 of team B; team A's are not opened twice
	ASSERT_EQ(ML_OK, rotation_orders_open(db, month.c_str(), nullptr, &n, &err)) << err.msg;
	EXPECT_EQ(0, n);
	db_close(db);
	EXPECT_EQ((std::vector<std::string>{ "OTEAM-A:OP1:open!", "OTEAM-A:OP2:open",
					     "OTEAM-B:OP4:open" }),
		  orders(nullptr));
	EXPECT_EQ((std::vector<std::string>{ "OTEAM-A:OP1:open!" }), orders("overdue"));
	EXPECT_EQ((std::vector<std::string>{ "OTEAM-B:OP4:open" }),
		  orders("open", "OTEAM-B", month.c_str()));
	EXPECT_EQ(
		one("SELECT valid_until::text FROM asset WHERE barcode = $1", { g_bc[1] }),
		one("SELECT due_on::text FROM swap_order o JOIN metering_point p USING (point_id) "
		    "WHERE p.code = 'OP2'"));

	// the field swaps OP1's meter: the order is done, by the installer, with the new meter
	db = pgtest_connect(g_a);
	struct field_remove_in old = {};
	old.barcode = g_bc[0].c_str();
	old.kwh = "110.5";
	old.reason = "rotation";
	struct field_install_in repl = {};
	repl.barcode = g_bc[3].c_str();
	repl.kwh = "0";
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, field_swap(db, &old, &repl, nullptr, &err)) << err.msg;
	db_close(db);
	EXPECT_EQ(
		"done|mlo_a|" + g_bc[3],
		one("SELECT o.status || '|' || u.login || '|' || na.barcode FROM swap_order o "
		    "JOIN metering_point p USING (point_id) JOIN app_user u ON u.user_id = o.closed_by "
		    "JOIN installation ni ON ni.installation_id = o.done_installation_id "
		    "JOIN asset na ON na.asset_id = ni.asset_id WHERE p.code = 'OP1'"));
	// team B removes OP4's meter, then installs another there: done as well
	db = pgtest_connect(g_b);
	struct field_remove_in rm = {};
	rm.barcode = g_bc[6].c_str();
	rm.kwh = "41";
	rm.reason = "rotation";
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, field_remove(db, &rm, nullptr, &err)) << err.msg;
	db_close(db);
	EXPECT_EQ((std::vector<std::string>{ "OTEAM-B:OP4:open" }), orders("open", "OTEAM-B"));
	install(g_b, 7, "OP4", "0");
	EXPECT_EQ((std::vector<std::string>{ "OTEAM-A:OP1:done>new", "OTEAM-B:OP4:done>new" }),
		  orders("done"));

	// cancel: a reason, a manager, open orders only
	int64_t op2 = std::stoll(
		one("SELECT order_id FROM swap_order o JOIN metering_point p USING (point_id) "
		    "WHERE p.code = 'OP2'"));
	int64_t op1 = std::stoll(
		one("SELECT order_id FROM swap_order o JOIN metering_point p USING (point_id) "
		    "WHERE p.code = 'OP1'"));
	db = pgtest_connect(g_a);
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EPERM, swap_order_cancel(db, op2, "customer moved", &err));
	db_close(db);
	db = pgtest_connect(g_mgr);
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, swap_order_cancel(db, op2, "", &err));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE, swap_order_cancel(db, op1, "too late", &err));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ENOTFOUND, swap_order_cancel(db, 999999, "nothing", &err));
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, swap_order_cancel(db, op2, "point closed by the customer", &err))
		<< err.msg;
	err = ML_ERROR_INIT;
	{
		struct swap_order_page pg = {};
		PGresult *res = nullptr;
		EXPECT_EQ(ML_EINVAL,
			  swap_order_list(db, "late", nullptr, nullptr, &pg, &res, &err));
		EXPECT_EQ(nullptr, res);
	}
	db_close(db);
	EXPECT_EQ((std::vector<std::string>{ "OTEAM-A:OP2:cancelled" }), orders("cancelled"));
	EXPECT_EQ(3u, orders("all").size());
	// a cancelled order is final, even for the schema owner
	err = ML_ERROR_INIT;
	db = pgtest_connect(g_ci);
	EXPECT_NE(
		ML_OK,
		db_cmd(db,
		       "UPDATE swap_order SET status = 'open', closed_at = NULL, cancel_reason = NULL "
		       "WHERE status = 'cancelled'",
		       0, nullptr, &err));
	db_close(db);
}

TEST_F(Orders, CommandLine)
{
	std::string out;
	std::string cli = pgtest_cli() + " --db " + pgtest_sq(g_mgr) + " ";
	EXPECT_EQ(0, pgtest_run(cli + "plan orders --status all", &out, true)) << out;
	EXPECT_NE(std::string::npos, out.find("OTEAM-A")) << out;
	EXPECT_EQ(3, pgtest_run(cli + "plan orders --status late", &out, true)) << out;
	/* a page: one order, and standard error names the next page's --after */
	EXPECT_EQ(0, pgtest_run(cli + "plan orders --status all --limit 1 --json", &out)) << out;
	EXPECT_EQ(1, std::count(out.begin(), out.end(), '{')) << out;
	EXPECT_EQ(0, pgtest_run(cli + "plan orders --status all --limit 1 2>&1 >/dev/null", &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("1 of 3 orders shown; the next page: --after "))
		<< out;
	EXPECT_EQ(2, pgtest_run(cli + "plan orders --limit 0", &out, true)) << out;
	EXPECT_NE(std::string::npos, out.find("--limit '0'")) << out;
	EXPECT_EQ(2, pgtest_run(cli + "plan order-cancel 1", &out, true)) << out;
	EXPECT_EQ(0, pgtest_run(cli + "plan rotation-orders --month " + this_month(), &out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("rotation swap orders opened")) << out;
}
