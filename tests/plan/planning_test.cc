/*
 * Demand, netting and the verification plan against the real PostgreSQL
 * (issue 15): an import with a bad row records nothing and names the line;
 * netting = qualified stock − promised to open orders − safety stock; the
 * stock covers the earliest demand first; lots under arrival sampling wait;
 * the plan from the database meets the first demand on day 0 and the second
 * on day 1 (6 runs of 4 a bench-day); nobody writes the tables directly.
 */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "assets/registry.h"
#include "plan/actual.h"
#include "plan/planning.h"

namespace
{

std::string g_ci;

std::string bc(unsigned long long serial)
{
	char out[23];
	struct ml_error err = ML_ERROR_INIT;
	if (barcode_make("41300", "03", serial, out, &err))
		ADD_FAILURE() << err.msg;
	return out;
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

std::string as(const char *login)
{
	return pgtest_as(g_ci, login);
}

void receive(unsigned long long first, int n, const char *lot)
{
	std::string csv = "barcode,model_code,production_batch,production_date\n";
	for (int i = 0; i < n; i++)
		csv += bc(first + i) + ",PM1,B1,2026-09-14\n";
	struct db *db = pgtest_connect(as("mlt_clerk"));
	struct asset_receive_opts o = {};
	o.lot_code = lot;
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	db_close(db);
}

} // namespace

TEST(Planning, DemandNettingAndThePlan)
{
	g_ci = pgtest_fresh_db("planning");
	{
		struct db *db = pgtest_connect(as("mlt_admin"));
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, asset_manufacturer_add(db, "PX", "计划厂", &err)) << err.msg;
		struct asset_model m = {};
		m.code = "PM1";
		m.manufacturer_code = "PX";
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
		ASSERT_EQ(ML_OK, asset_location_add(db, "PCITY", "city store", "secondary_store",
						    nullptr, &err))
			<< err.msg;
		db_close(db);
	}
	// stock: 30 qualified (20 central, 10 at the city store); 30 arrived to verify; 10 under sampling
	receive(100, 30, "P-STOCK");
	receive(200, 30, "P-NEW");
	receive(300, 10, "P-SAMPLING");
	dba("UPDATE asset SET state = 'in_stock', valid_until = current_date + 365, verified_at = now(), "
	    "location_id = (SELECT location_id FROM location WHERE code = CASE WHEN asset_id % 3 = 0 THEN 'PCITY' "
	    "ELSE 'CENTRAL' END) WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'P-STOCK')");
	dba("UPDATE asset SET state = 'secondary_stock' WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'P-STOCK') "
	    "AND location_id = (SELECT location_id FROM location WHERE code = 'PCITY')");
	struct db *dbr = pgtest_connect(g_ci + " options='-c session_replication_role=replica'");
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(
		ML_OK,
		db_cmd(dbr,
		       "INSERT INTO lot_sampling (lot_id, supplier, model_id, level, aql, severity, lot_size, "
		       "code_letter, plan_letter, sample_size, ac, re, unverified_plan, seed, drawn_by) "
		       "SELECT l.lot_id, 'PX', m.model_id, 'II', '1.0', 'normal', 10, 'B', 'B', 3, 0, 1, false, "
		       "decode(repeat('00', 32), 'hex'), (SELECT user_id FROM app_user WHERE login = 'mlt_clerk') "
		       "FROM lot l, device_model m WHERE l.code = 'P-SAMPLING' AND m.code = 'PM1'",
		       0, nullptr, &err))
		<< err.msg;
	// an open order promises 5; the DBA writes it (orders are tested in tests/stores)
	ASSERT_EQ(
		ML_OK,
		db_cmd(dbr,
		       "WITH o AS (INSERT INTO dist_order (from_id, to_id, created_by) SELECT "
		       "(SELECT location_id FROM location WHERE code = 'CENTRAL'), "
		       "(SELECT location_id FROM location WHERE code = 'PCITY'), "
		       "(SELECT user_id FROM app_user WHERE login = 'mlt_clerk') RETURNING order_id) "
		       "INSERT INTO dist_order_line (order_id, line_no, model_id, quantity) "
		       "SELECT o.order_id, 1, (SELECT model_id FROM device_model WHERE code = 'PM1'), 5 FROM o",
		       0, nullptr, &err))
		<< err.msg;
	ASSERT_EQ(
		ML_OK,
		db_cmd(dbr,
		       "INSERT INTO lab_bench (code, name, uri, kind, positions) VALUES "
		       "('PB1', 'bench', 'manual', 'meter-1p', 4), ('PB3', 'bench', 'manual', 'meter-3p', 8)",
		       0, nullptr, &err))
		<< err.msg;
	db_close(dbr);

	struct db *clerk = pgtest_connect(as("mlt_clerk"));
	// a bad row refuses the whole file, naming its line
	std::string bad = "store,model,quantity,due,ref\n"
			  "PCITY,PM1,20,2099-01-05,D1\n"
			  "\n"
			  "PCITY,NOPE,20,2099-01-06,D2\n"
			  "CENTRAL,PM1,0,2099-01-06\n";
	struct plan_demand_report rep;
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, plan_demand_import(clerk, bad.data(), bad.size(), &rep, &err));
	ASSERT_EQ(2u, rep.nproblems);
	EXPECT_EQ(4u, rep.problems[0].line);
	EXPECT_NE(std::string::npos, std::string(rep.problems[0].msg).find("NOPE"));
	EXPECT_EQ(5u, rep.problems[1].line);
	plan_demand_report_free(&rep);
	// the plan starts 2099-01-04 (a Sunday: its first working day is the 5th): demand D1 due
	// the 5th, D2 the 6th
	std::string good = "store,model,quantity,due,ref\n"
			   "PCITY,PM1,20,2099-01-05,D1\n"
			   "PCITY,PM1,20,2099-01-06,D2\n";
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, plan_demand_import(clerk, good.data(), good.size(), &rep, &err))
		<< err.msg;
	EXPECT_EQ(2u, rep.added);
	plan_demand_report_free(&rep);
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EPERM, plan_safety_set(clerk, "PCITY", "PM1", 10, &err)); // plan.edit: manager
	db_close(clerk);
	struct db *mgr = pgtest_connect(as("mlt_manager"));
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, plan_safety_set(mgr, "PCITY", "PM1", 10, &err)) << err.msg;

	// netting: 30 qualified − 5 promised − 10 safety = 15 available; 40 demanded: 25 short
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, plan_netting(mgr, "2099-12-31", &res, &err)) << err.msg;
	ASSERT_EQ(1, PQntuples(res));
	EXPECT_STREQ("40", db_get(res, 0, "demand"));
	EXPECT_STREQ("30", db_get(res, 0, "qualified"));
	EXPECT_STREQ("5", db_get(res, 0, "promised"));
	EXPECT_STREQ("10", db_get(res, 0, "safety"));
	EXPECT_STREQ("15", db_get(res, 0, "available"));
	EXPECT_STREQ("25", db_get(res, 0, "shortfall"));
	PQclear(res);

	// the plan: the stock covers 15 of D1 (earliest first), 5 + 20 to verify from P-NEW (P-SAMPLING waits);
	// no active scheme: 60 + 15 minutes a run, 6 runs of 4 in 450 minutes
	struct plan_view v;
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, plan_build(mgr, "2099-01-04", "2099-01-10", &v, &err)) << err.msg;
	ASSERT_EQ(1u, v.in.nlots);
	EXPECT_STREQ("P-NEW", v.lot[0].code);
	ASSERT_EQ(2u, v.in.ndemands);
	EXPECT_EQ(15, v.from_stock[0]);
	EXPECT_EQ(5, v.demand[0].quantity);
	EXPECT_EQ(0, v.from_stock[1]);
	EXPECT_EQ(20, v.demand[1].quantity);
	EXPECT_EQ(75, v.model[0].run_minutes);
	EXPECT_EQ(5, v.days);           // Monday 5th .. Friday 9th (0307: the working week)
	EXPECT_EQ(0, v.out.met_day[0]); // 2099-01-05, due the 5th
	EXPECT_EQ(1, v.out.met_day[1]); // 24 a day: the 25th asset on day 1, due the 6th
	size_t day0 = 0;
	for (size_t i = 0; i < v.out.nruns; i++)
		day0 += v.out.runs[i].day == 0;
	EXPECT_EQ(6u, day0);
	EXPECT_STREQ("PB1", v.bench[v.out.runs[0].bench].code); // the 3-phase bench gets nothing
	struct ml_buf b = ML_BUF_INIT;
	plan_format_csv(&v, &b);
	std::string csv(b.data, b.len);
	EXPECT_NE(std::string::npos, csv.find("run,2099-01-05,PB1,P-NEW,PM1,4,4,")) << csv;
	EXPECT_NE(std::string::npos, csv.find(",2099-01-05,yes")) << csv;
	ml_buf_free(&b);
	plan_view_free(&v);
	db_close(mgr);

	// the command line: JSON and the text
	std::string out;
	std::string cli = pgtest_cli() + " --db " + pgtest_sq(as("mlt_manager")) + " ";
	ASSERT_EQ(0, pgtest_run(cli + "--json plan show --from 2099-01-04 --to 2099-01-10", &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"expected\":\"2099-01-05\",\"on_time\":true"))
		<< out;
	ASSERT_EQ(0, pgtest_run(cli + "plan show --from 2099-01-04 --to 2099-01-05", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("2099-01-05 on time"))
		<< out; // D1 alone: 5 to verify

	// with arrival sampling as a gate (0275) an unsampled lot is not verifiable: nothing to plan
	dba("INSERT INTO lab_setting (key, value, updated_by) VALUES ('sampling.required', 'yes', 'dba')");
	mgr = pgtest_connect(as("mlt_manager"));
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, plan_build(mgr, "2099-01-04", "2099-01-10", &v, &err)) << err.msg;
	EXPECT_EQ(0u, v.in.nlots);
	EXPECT_EQ(-1, v.out.met_day[0]);
	plan_view_free(&v);
	dbr = pgtest_connect(g_ci + " options='-c session_replication_role=replica'");
	err = ML_ERROR_INIT;
	ASSERT_EQ(
		ML_OK,
		db_cmd(dbr,
		       "UPDATE lot_sampling SET status = 'accepted', confirmed_by = drawn_by WHERE lot_id = "
		       "(SELECT lot_id FROM lot WHERE code = 'P-SAMPLING')",
		       0, nullptr, &err))
		<< err.msg;
	db_close(dbr);
	ASSERT_EQ(ML_OK, plan_build(mgr, "2099-01-04", "2099-01-10", &v, &err)) << err.msg;
	ASSERT_EQ(1u, v.in.nlots); // the accepted lot's 10 arrived meters
	EXPECT_STREQ("P-SAMPLING", v.lot[0].code);
	plan_view_free(&v);
	db_close(mgr);
	dba("DELETE FROM lab_setting WHERE key = 'sampling.required'");


	// ---- the working-day calendar (0307): the scheduler plans on working days only ----
	mgr = pgtest_connect(as("mlt_manager"));
	struct db *clerk2 = pgtest_connect(as("mlt_clerk"));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EPERM, plan_calendar_set(clerk2, "2099-01-06", "no", "元旦", &err));
	db_close(clerk2);
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL,
		  plan_calendar_set(mgr, "2099-01-06", "no", "", &err)); // a note is required
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, plan_calendar_set(mgr, "2099-01-06", "maybe", "x", &err));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, plan_weekday_set(mgr, 8, "yes", &err));
	// Tuesday the 6th a holiday, Saturday the 10th a make-up working day (调休)
	ASSERT_EQ(ML_OK, plan_calendar_set(mgr, "2099-01-06", "no", "holiday", &err)) << err.msg;
	ASSERT_EQ(ML_OK, plan_calendar_set(mgr, "2099-01-10", "yes", "调休 for the 6th", &err))
		<< err.msg;
	ASSERT_EQ(ML_OK, plan_calendar_show(mgr, "2099-01-04", "2099-01-10", &res, &err))
		<< err.msg;
	std::string cal;
	for (int r = 0; r < PQntuples(res); r++)
		cal += db_get(res, r, "working");
	EXPECT_EQ("ftftttt", cal);
	EXPECT_STREQ("holiday", db_get(res, 2, "why"));
	EXPECT_STREQ("weekend", db_get(res, 0, "why"));
	PQclear(res);
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, plan_build(mgr, "2099-01-04", "2099-01-10", &v, &err)) << err.msg;
	EXPECT_EQ(5, v.days); // 5, 7, 8, 9, 10
	ASSERT_EQ(2u, v.in.ndemands);
	EXPECT_EQ(0,
		  v.demand[1].due_day); // due the 6th, a holiday: the 5th is its last working day
	EXPECT_EQ(0, v.out.met_day[0]); // D1 on the 5th
	EXPECT_EQ(1, v.out.met_day[1]); // D2's 25th asset on the next working day, the 7th: late
	b = ML_BUF_INIT;
	plan_format_csv(&v, &b);
	csv.assign(b.data, b.len);
	ml_buf_free(&b);
	EXPECT_EQ(std::string::npos, csv.find("run,2099-01-06")) << csv;
	EXPECT_NE(std::string::npos, csv.find("run,2099-01-07,PB1,")) << csv;
	EXPECT_NE(std::string::npos, csv.find(",2099-01-06,0,20,2099-01-07,no")) << csv;
	size_t nruns = v.out.nruns, day0runs = 0, day1runs = 0;
	int64_t day1assets = 0;
	for (size_t i = 0; i < v.out.nruns; i++) {
		day0runs += v.out.runs[i].day == 0;
		day1runs += v.out.runs[i].day == 1;
		day1assets += v.out.runs[i].day == 1 ? v.out.runs[i].assets : 0;
	}
	plan_view_free(&v);
	EXPECT_EQ(6u, day0runs);
	// a range without a working day is refused, naming it
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, plan_build(mgr, "2099-01-11", "2099-01-11", &v, &err)); // a Sunday
	EXPECT_NE(std::string::npos, std::string(err.msg).find("no working day")) << err.msg;

	// ---- plan against actual: the plan saved, then the runs done and the lots released ----
	int64_t sid = 0;
	err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, plan_save(mgr, "2099-01-04", "2099-01-10", &sid, &err)) << err.msg;
	struct db *dba_db = pgtest_connect(g_ci);
	PGresult *r1 = nullptr;
	std::string sids = std::to_string(sid);
	const char *sp[1] = { sids.c_str() };
	ASSERT_EQ(ML_OK,
		  db_query_one(
			  dba_db,
			  "SELECT count(*) FROM plan_snapshot_run WHERE snapshot_id = $1::bigint",
			  1, sp, &r1, &err))
		<< err.msg;
	EXPECT_EQ(std::to_string(nruns), PQgetvalue(r1, 0, 0));
	PQclear(r1);
	db_close(dba_db);
	// what was done: one run of 4 P-NEW meters on PB1 on the 5th (3 passed), the rest of P-NEW
	// verified by then; nothing of P-SAMPLING
	dbr = pgtest_connect(g_ci + " options='-c session_replication_role=replica'");
	err = ML_ERROR_INIT;
	ASSERT_EQ(
		ML_OK,
		db_cmd(dbr,
		       "WITH r AS (INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, "
		       "scheme_text, mode, status, steps_total, operator, run_date) SELECT b.bench_id, m.model_id, "
		       "'S', 1, '', 'manual', 'finished', 1, 'tech', '2099-01-05' FROM lab_bench b, device_model m "
		       "WHERE b.code = 'PB1' AND m.code = 'PM1' RETURNING run_id), "
		       "a AS (SELECT asset_id, barcode, row_number() OVER (ORDER BY asset_id) AS k FROM asset "
		       "WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'P-NEW') ORDER BY asset_id LIMIT 4), "
		       "p AS (INSERT INTO run_position (asset_id, run_id, position, barcode) SELECT a.asset_id, "
		       "r.run_id, a.k, a.barcode FROM a, r RETURNING asset_id, run_id, position) "
		       "INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict) "
		       "SELECT asset_id, run_id, 'overall', CASE WHEN position = 4 THEN 'fail' ELSE 'pass' END, 'none' "
		       "FROM p",
		       0, nullptr, &err))
		<< err.msg;
	ASSERT_EQ(
		ML_OK,
		db_cmd(dbr,
		       "UPDATE asset SET state = 'in_stock' WHERE lot_id = (SELECT lot_id FROM lot "
		       "WHERE code = 'P-NEW')",
		       0, nullptr, &err))
		<< err.msg;
	db_close(dbr);
	ASSERT_EQ(ML_OK, plan_actual(mgr, sid, &res, &err)) << err.msg;
	std::vector<std::string> rows;
	for (int r = 0; r < PQntuples(res); r++)
		rows.push_back(
			std::string(db_get(res, r, "day")) + " " + db_get(res, r, "bench") + " " +
			db_get(res, r, "planned_runs") + "/" + db_get(res, r, "planned_assets") +
			" " + db_get(res, r, "actual_runs") + "/" +
			db_get(res, r, "actual_assets") + "/" + db_get(res, r, "actual_passed"));
	PQclear(res);
	EXPECT_EQ((std::vector<std::string>{ "2099-01-05 PB1 6/24 1/4/3",
					     "2099-01-07 PB1 " + std::to_string(day1runs) + "/" +
						     std::to_string(day1assets) + " 0/0/0" }),
		  rows);
	ASSERT_EQ(ML_OK, plan_lot_release(mgr, sid, &res, &err)) << err.msg;
	rows.clear();
	for (int r = 0; r < PQntuples(res); r++)
		rows.push_back(
			std::string(db_get(res, r, "lot")) + " " + db_get(res, r, "planned_on") +
			" " + (db_get(res, r, "released_on") ? db_get(res, r, "released_on") : "") +
			" " + db_get(res, r, "status"));
	PQclear(res);
	EXPECT_EQ((std::vector<std::string>{ "P-NEW 2099-01-07 2099-01-05 on time",
					     "P-SAMPLING 2099-01-07  not yet" }),
		  rows);
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ENOTFOUND, plan_actual(mgr, sid + 100, &res, &err));
	db_close(mgr);
	ASSERT_EQ(0, pgtest_run(cli + "plan actual " + sids + " --lots", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("on time")) << out;
	ASSERT_EQ(0, pgtest_run(cli + "plan calendar show --from 2099-01-09 --to 2099-01-10", &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("调休 for the 6th")) << out;
	EXPECT_EQ(3, pgtest_run(cli + "plan calendar set 2099-01-12 --working maybe --note x", &out,
				true))
		<< out;

	// nobody writes the planning tables directly
	for (const char *login : { "mlt_manager", "mlt_clerk", "mlt_admin" }) {
		struct db *db = pgtest_connect(as(login));
		for (const char *sql :
		     { "UPDATE plan_demand SET quantity = 1", "DELETE FROM plan_safety_stock",
		       "UPDATE plan_setting SET value = 1", "DELETE FROM plan_log",
		       "UPDATE plan_weekday SET working = true", "DELETE FROM plan_calendar",
		       "DELETE FROM plan_snapshot_run",
		       "UPDATE plan_snapshot SET to_day = from_day" }) {
			err = ML_ERROR_INIT;
			EXPECT_EQ(ML_EPERM, db_cmd(db, sql, 0, nullptr, &err))
				<< login << ": " << sql;
		}
		db_close(db);
	}
}
