/*
 * State-based rotation by in-service sampling (状态轮换, issue 15, 0309):
 * off by default (the period rule); on, a lot's installed meters are
 * sampled by the GB/T 2828.1 plan with a recorded seed (the same draw
 * anyone can redo), each drawn meter gets a swap order, the verifications
 * after the draw decide by Ac/Re: an accepted lot leaves the rotation list
 * until its deferral, a rejected lot's meters are all on it whatever their
 * validity; the decision is refused until decidable and is final.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "assets/registry.h"
#include "plan/planning.h"
#include "plan/rotation.h"

namespace
{

std::string g_ci, g_mgr;
const char *kSeed = "0001020304050607080910111213141516171819202122232425262728293031";

std::string one(const std::string &sql)
{
	struct db *db = pgtest_connect(g_ci);
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	std::string v = "?";
	if (db_query_one(db, sql.c_str(), 0, nullptr, &res, &err))
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

/* Lot code with n meters installed at points CODE-1..n by team SRTEAM, valid until `valid`. */
void installed_lot(const char *lot, unsigned long long first, int n, const char *valid)
{
	std::string csv = "barcode,model_code,production_batch,production_date\n";
	struct ml_error err = ML_ERROR_INIT;
	for (int i = 0; i < n; i++) {
		char b[23];
		ASSERT_EQ(ML_OK, barcode_make("41300", "06", first + i, b, &err)) << err.msg;
		csv += std::string(b) + ",SRM1,B1,2018-09-14\n";
	}
	struct db *db = pgtest_connect(pgtest_as(g_ci, "mlt_clerk"));
	struct asset_receive_opts o = {};
	o.lot_code = lot;
	struct asset_import_report rep;
	ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	db_close(db);
	std::string l = lot;
	dba("INSERT INTO metering_point (code, account_no, address, site_id, created_by) SELECT '" +
	    l +
	    "-' || g, '9' || g, 'lane ' || g, (SELECT location_id FROM location WHERE code = 'SRSITE'), "
	    "(SELECT user_id FROM app_user WHERE login = 'mlt_manager') FROM generate_series(1, " +
	    std::to_string(n) + ") g");
	dba("UPDATE asset SET state = 'installed', valid_until = " + std::string(valid) +
	    " WHERE lot_id = (SELECT lot_id FROM lot WHERE code = '" + l + "')");
	dba("INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, installed_at, install_kwh) "
	    "SELECT a.asset_id, p.point_id, 'meter', (SELECT location_id FROM location WHERE code = 'SRTEAM'), "
	    "(SELECT user_id FROM app_user WHERE login = 'mlt_field'), now() - interval '7 years', 0 "
	    "FROM (SELECT asset_id, row_number() OVER (ORDER BY barcode) AS k FROM asset WHERE lot_id = "
	    "(SELECT lot_id FROM lot WHERE code = '" +
	    l + "')) a JOIN metering_point p ON p.code = '" + l + "-' || a.k");
}

/* The drawn meters of lot's open sample verified now: the first `failed` (in draw order) fail. */
void sample_verified(const char *lot, int failed)
{
	std::string l = lot;
	dba("WITH r AS (INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, scheme_text, "
	    "mode, status, steps_total, operator) SELECT b.bench_id, m.model_id, 'S', 1, '', 'manual', 'finished', 1, "
	    "'tech' FROM lab_bench b, device_model m WHERE b.code = 'SRB' AND m.code = 'SRM1' RETURNING run_id) "
	    "INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict, concluded_at) "
	    "SELECT it.asset_id, r.run_id, 'overall', CASE WHEN it.draw_order <= " +
	    std::to_string(failed) +
	    " THEN 'fail' ELSE 'pass' END, 'none', now() + interval '1 second' FROM inservice_sample_item it "
	    "JOIN inservice_sample s USING (sample_id), r WHERE s.verdict IS NULL AND s.lot_id = (SELECT lot_id FROM "
	    "lot WHERE code = '" +
	    l + "')");
}

std::vector<std::string> rotation(const char *month)
{
	struct db *db = pgtest_connect(g_mgr);
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	std::vector<std::string> got;
	EXPECT_EQ(ML_OK, rotation_list(db, month, nullptr, &res, &err)) << err.msg;
	for (int r = 0; res && r < PQntuples(res); r++)
		got.push_back(std::string(db_get(res, r, "point")) + ":" +
			      db_get(res, r, "status"));
	PQclear(res);
	db_close(db);
	return got;
}

/* A fresh database with model SRM1 (class 2, 96 months), site SRSITE, team SRTEAM and a
 * manual bench SRB; g_ci and g_mgr point at it. */
void fresh(const char *tag)
{
	g_ci = pgtest_fresh_db(tag);
	g_mgr = pgtest_as(g_ci, "mlt_manager");
	struct db *db = pgtest_connect(pgtest_as(g_ci, "mlt_admin"));
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, asset_manufacturer_add(db, "SRX", "轮换厂", &err)) << err.msg;
	struct asset_model m = {};
	m.code = "SRM1";
	m.manufacturer_code = "SRX";
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
	for (auto l : { std::pair<const char *, const char *>{ "SRSITE", "customer_site" },
			{ "SRTEAM", "field_team" } })
		ASSERT_EQ(ML_OK, asset_location_add(db, l.first, l.first, l.second, nullptr, &err))
			<< err.msg;
	db_close(db);
	dba("INSERT INTO lab_bench (code, name, uri, kind, positions) VALUES ('SRB', 'bench', 'manual', 'meter-1p', 24)");
}

} // namespace

TEST(StateRotation, SampleDefersOrBringsForwardALot)
{
	fresh("staterot");
	ASSERT_FALSE(HasFatalFailure());
	struct db *db = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	// SA: 10 meters whose validity ends this month; SB: 10 valid for years
	installed_lot("SA", 100, 10,
		      "(date_trunc('month', ml_cert_today()) + interval '1 month - 1 day')::date");
	installed_lot("SB", 200, 10, "ml_cert_today() + 1500");
	std::string month = one("SELECT to_char(ml_cert_today(), 'YYYY-MM')");
	EXPECT_EQ(10u, rotation(month.c_str()).size()); // the period rule: SA's ten

	// off by default: no in-service sample
	struct db *mgr = pgtest_connect(g_mgr);
	PGresult *res = nullptr;
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE, inservice_sample_draw(mgr, "SA", "II", "6.5", kSeed, &res, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "rotation.state_based")) << err.msg;
	ASSERT_EQ(ML_OK, plan_setting_set(mgr, "rotation.state_based", 1, &err)) << err.msg;

	// 10 installed, level II, AQL 6.5: Table 2-A's arrow leads to n = 2, Ac 0, Re 1; the draw is the seed's
	ASSERT_EQ(ML_OK, inservice_sample_draw(mgr, "SA", "II", "6.5", kSeed, &res, &err))
		<< err.msg;
	ASSERT_EQ(2, PQntuples(res));
	std::vector<std::string> drawn;
	for (int r = 0; r < 2; r++) {
		drawn.push_back(db_get(res, r, "point"));
		EXPECT_NE(nullptr, db_get(res, r, "swap_order_id"));
	}
	PQclear(res);
	EXPECT_EQ(
		one("SELECT string_agg('SA-' || (x + 1), ',' ORDER BY o) FROM unnest(ml_sample_draw_indices("
		    "decode('" +
		    std::string(kSeed) + "', 'hex'), 10, 2)) WITH ORDINALITY t(x, o)"),
		drawn[0] + "," + drawn[1]);
	EXPECT_EQ("2|0|1",
		  one("SELECT sample_size || '|' || ac || '|' || re FROM inservice_sample"));
	EXPECT_EQ("2",
		  one("SELECT count(*) FROM swap_order WHERE kind = 'sample' AND status = 'open'"));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE,
		  inservice_sample_draw(mgr, "SA", "II", "6.5", nullptr, &res, &err)); // one open
	// not decidable before the lab has verified them; a field member may not decide
	char verdict[8] = "";
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE, inservice_sample_decide(mgr, "SA", nullptr, verdict, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "0 of 2")) << err.msg;
	struct db *field = pgtest_connect(pgtest_as(g_ci, "mlt_field"));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EPERM, inservice_sample_decide(field, "SA", nullptr, verdict, &err));
	db_close(field);
	// both pass: accept, SA stays in service (off this month's and next year's lists)
	sample_verified("SA", 0);
	err = ML_ERROR_INIT;
	// 0365: decided from a session in a far-off zone (its date differs from China's now:
	// UTC-12 agrees with China only from 20:00 China time, UTC+14 only before 18:00), the
	// defer still runs from China's day
	const char *zone =
		std::stoi(one(
			"SELECT extract(hour FROM now() AT TIME ZONE 'Asia/Shanghai')::int")) >= 20
			? "Etc/GMT-14"
			: "Etc/GMT+12";
	struct db *far = pgtest_connect_in_zone(g_mgr, zone);
	ASSERT_EQ(ML_OK,
		  inservice_sample_decide(far, "SA", "in-service sample good", verdict, &err))
		<< err.msg;
	db_close(far);
	EXPECT_STREQ("accept", verdict);
	EXPECT_EQ(one("SELECT (ml_cert_today() + interval '24 months')::date::text"),
		  one("SELECT defer_until::text FROM inservice_sample"));
	EXPECT_TRUE(rotation(month.c_str()).empty());
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ENOTFOUND,
		  inservice_sample_decide(mgr, "SA", nullptr, verdict, &err)); // decided

	// SB: one of its sample fails: reject, all ten due now although valid for years
	ASSERT_EQ(ML_OK, inservice_sample_draw(mgr, "SB", "II", "6.5", kSeed, &res, &err))
		<< err.msg;
	PQclear(res);
	sample_verified("SB", 1);
	ASSERT_EQ(ML_OK, inservice_sample_decide(mgr, "SB", nullptr, verdict, &err)) << err.msg;
	EXPECT_STREQ("reject", verdict);
	std::vector<std::string> list = rotation(month.c_str());
	ASSERT_EQ(10u, list.size());
	for (const auto &x : list)
		EXPECT_EQ(0u, x.find("SB-")) << x;
	EXPECT_NE(std::string::npos, list[0].find(":rejected"));
	long opened = 0;
	ASSERT_EQ(ML_OK, rotation_orders_open(mgr, month.c_str(), nullptr, &opened, &err))
		<< err.msg;
	EXPECT_EQ(8, opened); // the 2 drawn already have their sample orders
	EXPECT_EQ(one("SELECT (ml_cert_today() + 7)::text"),
		  one("SELECT min(due_on)::text FROM swap_order WHERE kind = 'rotation'"));

	// off again: the period rule (SA's ten are due, SB's not)
	ASSERT_EQ(ML_OK, plan_setting_set(mgr, "rotation.state_based", 0, &err)) << err.msg;
	list = rotation(month.c_str());
	ASSERT_EQ(10u, list.size());
	EXPECT_EQ(0u, list[0].find("SA-")) << list[0];
	db_close(mgr);

	// history: nobody rewrites a sample
	for (const char *login : { "mlt_manager", "mlt_admin", "mlt_analyst" }) {
		struct db *d = pgtest_connect(pgtest_as(g_ci, login));
		for (const char *sql : { "UPDATE inservice_sample SET verdict = 'accept'",
					 "DELETE FROM inservice_sample_item" }) {
			err = ML_ERROR_INIT;
			EXPECT_EQ(ML_EPERM, db_cmd(d, sql, 0, nullptr, &err))
				<< login << ": " << sql;
		}
		db_close(d);
	}
	db = pgtest_connect(g_ci);
	err = ML_ERROR_INIT;
	EXPECT_NE(ML_OK, db_cmd(db,
				"UPDATE inservice_sample SET defer_until = NULL, verdict = NULL, "
				"decided_at = NULL",
				0, nullptr, &err));
	db_close(db);
}

/*
 * A rejected in-service sample rotates the lot's meters that were in service then
 * (0309), not the ones the lab has verified again since: a meter of the lot swapped
 * out, verified (passed: verified_at, a new validity) and installed again after the
 * rejection follows its new validity. Before 0374 it was 'rejected' for ever, so every
 * month's rotation orders swapped the freshly verified meter again within
 * swap.inspection_days.
 */
TEST(StateRotation, MeterVerifiedAfterTheRejectionIsNotRotatedAgain)
{
	fresh("staterotrv");
	ASSERT_FALSE(HasFatalFailure());
	installed_lot("SC", 300, 10, "ml_cert_today() + 1500");
	std::string month = one("SELECT to_char(ml_cert_today(), 'YYYY-MM')");
	struct db *mgr = pgtest_connect(g_mgr);
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, plan_setting_set(mgr, "rotation.state_based", 1, &err)) << err.msg;
	ASSERT_EQ(ML_OK, inservice_sample_draw(mgr, "SC", "II", "6.5", kSeed, &res, &err))
		<< err.msg;
	PQclear(res);
	sample_verified("SC", 1);
	char verdict[8] = "";
	ASSERT_EQ(ML_OK, inservice_sample_decide(mgr, "SC", nullptr, verdict, &err)) << err.msg;
	ASSERT_STREQ("reject", verdict);
	ASSERT_EQ(10u, rotation(month.c_str()).size());

	// the last undrawn meter: removed, verified again (passed) and installed again, all
	// after the decision
	std::string asset = one(
		"SELECT a.asset_id FROM asset a WHERE a.lot_id = (SELECT lot_id FROM lot WHERE code = "
		"'SC') AND NOT EXISTS (SELECT 1 FROM inservice_sample_item it WHERE it.asset_id = "
		"a.asset_id) ORDER BY a.barcode DESC LIMIT 1");
	std::string point = one(
		"SELECT p.code FROM installation i JOIN metering_point p USING (point_id) "
		"WHERE i.asset_id = " +
		asset + " AND i.removed_at IS NULL");
	dba("UPDATE installation SET removed_at = now() + interval '1 second', removed_by = installed_by, "
	    "remove_kwh = 10, remove_reason = 'rotation' WHERE asset_id = " +
	    asset + " AND removed_at IS NULL");
	dba("UPDATE asset SET verified_at = now() + interval '2 seconds', valid_until = ml_cert_today() + 2900 "
	    "WHERE asset_id = " +
	    asset);
	dba("INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, installed_at, "
	    "install_kwh) SELECT asset_id, point_id, 'meter', team_id, installed_by, now() + interval '3 seconds', "
	    "10 FROM installation WHERE asset_id = " +
	    asset + " ORDER BY installation_id LIMIT 1");

	std::vector<std::string> list = rotation(month.c_str());
	EXPECT_EQ(9u, list.size());
	for (const auto &x : list) {
		EXPECT_NE(0u, x.find(point + ":")) << x;
		EXPECT_NE(std::string::npos, x.find(":rejected")) << x;
	}
	long opened = 0;
	ASSERT_EQ(ML_OK, rotation_orders_open(mgr, month.c_str(), nullptr, &opened, &err))
		<< err.msg;
	EXPECT_EQ(7, opened); // 9 rejected, the 2 drawn ones already have their sample orders
	EXPECT_EQ("0", one("SELECT count(*) FROM swap_order WHERE asset_id = " + asset));
	db_close(mgr);
}

/*
 * The monitoring rule rotation_overdue (0303) says what the rotation list says (0374):
 * with state-based rotation on, a lot whose in-service sample was accepted is deferred
 * (the list leaves it off; before 0374 the rule opened an item per meter, "not
 * rotated", that no one could close without a waiver), and a rejected lot's meters are
 * overdue once the swap days after the rejection have passed (before 0374 the rule never
 * found them while their validity ran).
 */
TEST(StateRotation, OverdueRuleFollowsTheInServiceSample)
{
	fresh("staterotwatch");
	ASSERT_FALSE(HasFatalFailure());
	// SD: validity ended last month; SE: valid for years
	installed_lot("SD", 400, 10,
		      "(date_trunc('month', ml_cert_today()) - interval '1 day')::date");
	installed_lot("SE", 500, 10, "ml_cert_today() + 1500");
	auto overdue = [](const char *lot) {
		return one(
			"SELECT count(*) FROM ml_watch_detect('rotation_overdue', 0) f JOIN asset a "
			"ON a.asset_id = f.asset_id JOIN lot l ON l.lot_id = a.lot_id WHERE l.code = '" +
			std::string(lot) + "'");
	};
	EXPECT_EQ("10", overdue("SD")); // the period rule
	EXPECT_EQ("0", overdue("SE"));
	struct db *mgr = pgtest_connect(g_mgr);
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = nullptr;
	char verdict[8] = "";
	ASSERT_EQ(ML_OK, plan_setting_set(mgr, "rotation.state_based", 1, &err)) << err.msg;
	for (const char *lot : { "SD", "SE" }) {
		ASSERT_EQ(ML_OK, inservice_sample_draw(mgr, lot, "II", "6.5", kSeed, &res, &err))
			<< err.msg;
		PQclear(res);
		sample_verified(lot, !strcmp(lot, "SE") ? 1 : 0);
		ASSERT_EQ(ML_OK, inservice_sample_decide(mgr, lot, nullptr, verdict, &err))
			<< err.msg;
		EXPECT_STREQ(!strcmp(lot, "SE") ? "reject" : "accept", verdict);
	}
	std::string month = one("SELECT to_char(ml_cert_today(), 'YYYY-MM')");
	for (const auto &x : rotation(month.c_str()))
		EXPECT_EQ(0u, x.find("SE-")) << x; // SD deferred, SE rejected
	// SD is deferred: not overdue; SE's swaps are due within swap.inspection_days (7)
	EXPECT_EQ("0", overdue("SD"));
	EXPECT_EQ("0", overdue("SE"));
	// the watch run as a manager opens nothing for the deferred lot
	ASSERT_EQ(ML_OK, db_cmd(mgr, "SELECT * FROM ml_watch_run(ARRAY['rotation_overdue'])", 0,
				nullptr, &err))
		<< err.msg;
	EXPECT_EQ("0", one("SELECT count(*) FROM watch_item WHERE rule = 'rotation_overdue'"));
	// eight days after the rejection SE's meters are overdue (the grace threshold counts too)
	dba("UPDATE inservice_sample SET decided_at = decided_at - interval '8 days' WHERE verdict = 'reject'");
	EXPECT_EQ("10", overdue("SE"));
	EXPECT_EQ("0", one("SELECT count(*) FROM ml_watch_detect('rotation_overdue', 1)"));
	EXPECT_EQ("0", overdue("SD"));
	// off again: the period rule
	ASSERT_EQ(ML_OK, plan_setting_set(mgr, "rotation.state_based", 0, &err)) << err.msg;
	EXPECT_EQ("10", overdue("SD"));
	EXPECT_EQ("0", overdue("SE"));
	db_close(mgr);
}

/*
 * A meter drawn for an in-service sample is part of the sample: cancelling its swap
 * order before the sample is decided left it in the field unverified, the sample never
 * decidable and the lot never drawn again (one undecided sample per lot), with nothing
 * open to show it. Since 0374 the cancellation is refused, naming the lot, until the
 * sample is decided.
 */
TEST(StateRotation, DrawnMetersOrderIsNotCancelledBeforeTheDecision)
{
	fresh("staterotcancel");
	ASSERT_FALSE(HasFatalFailure());
	installed_lot("SF", 600, 10, "ml_cert_today() + 1500");
	struct db *mgr = pgtest_connect(g_mgr);
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, plan_setting_set(mgr, "rotation.state_based", 1, &err)) << err.msg;
	ASSERT_EQ(ML_OK, inservice_sample_draw(mgr, "SF", "II", "6.5", kSeed, &res, &err))
		<< err.msg;
	ASSERT_EQ(2, PQntuples(res));
	std::vector<int64_t> orders;
	for (int r = 0; r < 2; r++)
		orders.push_back(std::stoll(db_get(res, r, "swap_order_id")));
	PQclear(res);
	for (int64_t id : orders) {
		err = ML_ERROR_INIT;
		EXPECT_EQ(ML_ESTATE, swap_order_cancel(mgr, id, "customer refuses access", &err));
		EXPECT_NE(nullptr, strstr(err.msg, "in-service sample of lot SF")) << err.msg;
	}
	EXPECT_EQ("2",
		  one("SELECT count(*) FROM swap_order WHERE kind = 'sample' AND status = 'open'"));
	// decided: the orders are ordinary again
	sample_verified("SF", 0);
	char verdict[8] = "";
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, inservice_sample_decide(mgr, "SF", nullptr, verdict, &err)) << err.msg;
	EXPECT_STREQ("accept", verdict);
	EXPECT_EQ(ML_OK, swap_order_cancel(mgr, orders[0], "verified in place", &err)) << err.msg;
	EXPECT_EQ("cancelled", one("SELECT status FROM swap_order WHERE order_id = " +
				   std::to_string(orders[0])));
	db_close(mgr);
}
