/*
 * web_fixture — the world the browser tests (tests/web/run.py) act in: a
 * fresh test database with people, passwords, certificates, stores and
 * assets, and a real `meterlab serve` serving web/ on loopback (the same
 * test_server as tests/server).
 *
 * It prints one JSON line (port, people, the data the tests need) and then
 * obeys one command per line on standard input, answering one line each:
 *   stop            SIGTERM the server, wait       -> "stopped"
 *   start           start it again on the same port -> "started"
 *   sql QUERY       first column of the first row (admin) -> JSON string or null
 *   quit (or EOF)   stop everything, drop nothing (the cluster is thrown away)
 */
#include <jansson.h>
#include <stdio.h>

#include <iostream>
#include <string>

#include "../lab/runner_fixture.h"
#include "../reports/workflow_support.h"
#include "../server/server_fixture.h"
#include "assets/registry.h"
#include "field/field.h"
#include "plan/rotation.h"
#include "plan/watch.h"
#include "stores/stores.h"

struct cert_renderer *wf_renderer()
{
	static struct cert_renderer *r = [] {
		struct cert_renderer *x = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		if (cert_renderer_new(nullptr, &x, &err)) {
			fprintf(stderr, "renderer: %s\n", err.msg);
			abort();
		}
		return x;
	}();
	return r;
}

namespace
{

const char *const PW = "correct horse battery";

[[noreturn]] void die(const std::string &what)
{
	fprintf(stderr, "web_fixture: %s\n", what.c_str());
	exit(1);
}

void ok(int rc, const struct ml_error &err, const char *what)
{
	if (rc)
		die(std::string(what) + ": " + err.msg);
}

std::string q1(const std::string &ci, const std::string &sql, bool *null = nullptr)
{
	struct db *db = pgtest_connect(ci);
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	int rc = db_query_one(db, sql.c_str(), 0, nullptr, &res, &err);
	std::string v;
	if (null)
		*null = rc || PQgetisnull(res, 0, 0);
	if (rc)
		v = std::string("ERROR: ") + err.msg;
	else if (!PQgetisnull(res, 0, 0))
		v = PQgetvalue(res, 0, 0);
	PQclear(res);
	db_close(db);
	return v;
}

void exec(const std::string &ci, const std::string &sql)
{
	struct db *db = pgtest_connect(ci);
	struct ml_error err = ML_ERROR_INIT;
	ok(db_cmd(db, sql.c_str(), 0, nullptr, &err), err, sql.c_str());
	db_close(db);
}

/* Certificates: one run's two drafts waiting in the queue, and one issued
 * certificate whose QR URL the verification page is opened with. */
void certificates(const std::string &ci, json_t *out)
{
	wf_script(ci, "tests/data/reports/make_run.sql");
	wf_people p(ci);
	const char *iss = wf_issuer(p.admin, "WB");
	std::vector<long long> issued = wf_issue_run(p, wf_run(p.admin, "webiss", 1, 0), iss);
	if (issued.size() != 1)
		die("issuing the verification certificate");
	struct cert_record r;
	struct ml_error err = ML_ERROR_INIT;
	ok(cert_get(p.admin, issued[0], &r, &err), err, "cert_get");
	json_object_set_new(out, "verify",
			    json_pack("{s:s, s:s, s:s}", "number", r.cert_no, "code", r.verify_code,
				      "barcode", r.barcode));
	/* an arbitration complaint (仲裁检定) about that meter, reported the day
	 * before its run was made (written as the DBA, as
	 * tests/field/arbitration_fixture.sql: ml_fault_report needs a removed
	 * meter), answered on the fault page by that run and certificate */
	std::string cid = std::to_string(issued[0]);
	exec(ci,
	     "INSERT INTO fault_report (asset_id, symptom, description, kind, complaint_ref, "
	     "reported_by, reported_at) SELECT c.asset_id, 'FAST', '用户投诉电表走快，申请仲裁检定', "
	     "'arbitration', 'TS-WEB-1', (SELECT user_id FROM app_user WHERE login = 'mlt_field'), "
	     "r.created_at - interval '1 day' FROM certificate c JOIN verification_run r ON r.run_id = "
	     "c.run_id WHERE c.id = " +
		     cid);
	json_object_set_new(
		out, "arbitration",
		json_pack("{s:I, s:I, s:I, s:s}", "fault",
			  (json_int_t)std::stoll(q1(ci, "SELECT fault_id FROM fault_report WHERE "
							"complaint_ref = 'TS-WEB-1'")),
			  "run", (json_int_t)r.run_id, "cert", (json_int_t)issued[0], "cert_no",
			  r.cert_no));
	/* one more issued certificate: the one the revision test corrects */
	std::vector<long long> rev = wf_issue_run(p, wf_run(p.admin, "webrev", 1, 0), iss);
	if (rev.size() != 1)
		die("issuing the certificate to revise");
	json_object_set_new(out, "revise", json_integer(rev[0]));
	long long run = wf_run(p.admin, "webq", 2, 0);
	std::vector<long long> drafts = wf_drafts(p.tech, run, iss);
	if (drafts.size() != 2)
		die("drafting the queue's certificates");
	json_t *ids = json_array();
	for (long long id : drafts)
		json_array_append_new(ids, json_integer(id));
	json_object_set_new(out, "queue", json_pack("{s:I, s:o}", "run", run, "drafts", ids));
	/* a run that did not verify the arbitration's meter */
	json_object_set_new(json_object_get(out, "arbitration"), "wrong_run", json_integer(run));
}

/* The warehouse: a model, a central and a county store, twelve meters in
 * stock at the centre, valid for issue (verified this year). */
void warehouse(const std::string &ci, json_t *out)
{
	std::string admin = pgtest_user(ci, "mlt_wadmin", "仓储管理员", "admin,warehouse_clerk");
	struct db *db = pgtest_connect(admin);
	struct ml_error err = ML_ERROR_INIT;
	ok(asset_manufacturer_add(db, "WHX", "浙江华仪", &err), err, "maker");
	struct asset_model m = {};
	m.code = "DDZY-W1";
	m.manufacturer_code = "WHX";
	m.name = "单相费控智能电能表";
	m.kind = "meter_1p";
	m.accuracy_class = "1";
	m.connection = "direct";
	m.wiring = "1p2w";
	m.un_v = "220";
	m.ib_a = "5";
	m.imax_a = "60";
	m.constant_imp = "1200";
	m.verification_period_months = "96";
	ok(asset_model_add(db, &m, &err), err, "model");
	ok(asset_location_add(db, "WH-CENTRAL", "中心库房", "central_store", nullptr, &err), err,
	   "central");
	ok(asset_location_add(db, "WH-COUNTY", "城东县公司库房", "secondary_store", nullptr, &err),
	   err, "county");
	std::string csv = "barcode,model_code,production_batch,production_date\n";
	json_t *bcs = json_array();
	for (long i = 0; i < 12; i++) {
		std::string b = wf_barcode(770000 + i);
		csv += b + ",DDZY-W1,B1,2026-09-14\n";
		json_array_append_new(bcs, json_string(b.c_str()));
	}
	ok(stock_slot_add(db, "WH-CENTRAL", "A-01-01", "shelf", nullptr, "一号货架", nullptr, &err),
	   err, "slot");
	struct asset_receive_opts o = {};
	o.lot_code = "WLOT-1";
	struct asset_import_report rep;
	ok(asset_receive(db, &o, csv.data(), csv.size(), &rep, &err), err, "receive");
	asset_import_report_free(&rep);
	db_close(db);
	exec(ci, "UPDATE asset SET state = 'in_stock', valid_until = current_date + 3000, "
		 "verified_at = now(), location_id = (SELECT location_id FROM location WHERE "
		 "code = 'WH-CENTRAL') WHERE lot_id = (SELECT lot_id FROM lot WHERE code = "
		 "'WLOT-1')");
	/* one expired on the shelf: the re-verification list's */
	exec(ci, "UPDATE asset SET valid_until = current_date - 1 WHERE barcode = '" +
			 wf_barcode(770010) + "'");
	/* two meters of a delivery not received yet (the delivery page's file) */
	json_object_set_new(
		out, "delivery",
		json_pack("[s, s]", wf_barcode(780000).c_str(), wf_barcode(780001).c_str()));
	json_object_set_new(out, "warehouse",
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "from", "WH-CENTRAL", "to",
				      "WH-COUNTY", "model", "DDZY-W1", "slot", "A-01-01", "unknown",
				      wf_barcode(999999).c_str(), "barcodes", bcs));
}

/* The field: a team with four meters issued to it (from the warehouse's
 * lot), two seals, a metering point at a customer's site and the lab that
 * receives faulty meters; a member of the team. */
void field(const std::string &ci, json_t *out)
{
	std::string admin = pgtest_as(ci, "mlt_wadmin");
	struct db *db = pgtest_connect(admin);
	struct ml_error err = ML_ERROR_INIT;
	ok(asset_location_add(db, "WEB-TEAM", "城东装接一班", "field_team", nullptr, &err), err,
	   "team");
	ok(asset_location_add(db, "WEB-SITE", "城东客户现场", "customer_site", nullptr, &err), err,
	   "site");
	ok(asset_location_add(db, "WEB-LAB", "省计量中心实验室", "lab", nullptr, &err), err, "lab");
	const char *p[4] = { "{WP1}", "{3309000101}", "{杭州市上城区望江路1号}", "{WEB-SITE}" };
	ok(db_cmd(db, "SELECT * FROM ml_point_add($1::text[], $2::text[], $3::text[], $4::text[])",
		  4, p, &err),
	   err, "point");
	const char *seals[2] = { "SEAL-0001", "SEAL-0002" };
	size_t cnt = 0;
	ok(field_seal_receive(db, seals, 2, "B-2026-12", &cnt, &err), err, "seals");
	ok(field_seal_issue(db, seals, 2, "WEB-TEAM", nullptr, &cnt, &err), err, "seal issue");
	/* three seals issued to the technician personally: sealing in the lab */
	const char *lab[3] = { "LSEAL-01", "LSEAL-02", "LSEAL-03" };
	ok(field_seal_receive(db, lab, 3, "B-LAB", &cnt, &err), err, "lab seals");
	ok(field_seal_issue(db, lab, 3, nullptr, "mlt_tech", &cnt, &err), err, "lab seal issue");
	db_close(db);
	json_t *bcs = json_array();
	std::string in;
	for (long i = 0; i < 4; i++) {
		std::string b = wf_barcode(770006 + i);
		json_array_append_new(bcs, json_string(b.c_str()));
		in += (in.empty() ? "'" : ",'") + b + "'";
	}
	exec(ci, "UPDATE asset SET state = 'issued', location_id = (SELECT location_id FROM "
		 "location WHERE code = 'WEB-TEAM') WHERE barcode IN (" +
			 in + ")");
	pgtest_user(ci, "mlt_fw", "孙装接", "field_member", "WEB-TEAM");
	set_password(ci, "mlt_fw", PW);
	json_object_set_new(out, "field",
			    json_pack("{s:s, s:s, s:s, s:s, s:o, s:[s, s]}", "login", "mlt_fw",
				      "team", "WEB-TEAM", "point", "WP1", "lab", "WEB-LAB",
				      "barcodes", bcs, "seals", seals[0], seals[1]));
}

/* n meters of a new lot of the warehouse's model, received by the
 * warehouse's admin, then put in state at place by the DBA; their barcodes. */
std::vector<std::string> lot_in(const std::string &ci, const char *lot, long first, int n,
				const char *state, const char *place)
{
	struct db *db = pgtest_connect(pgtest_as(ci, "mlt_wadmin"));
	struct ml_error err = ML_ERROR_INIT;
	std::string csv = "barcode,model_code,production_batch,production_date\n";
	std::vector<std::string> bcs;
	for (long i = 0; i < n; i++) {
		bcs.push_back(wf_barcode(first + i));
		csv += bcs.back() + ",DDZY-W1,B2,2026-09-14\n";
	}
	struct asset_receive_opts o = {};
	o.lot_code = lot;
	struct asset_import_report rep;
	ok(asset_receive(db, &o, csv.data(), csv.size(), &rep, &err), err, lot);
	asset_import_report_free(&rep);
	db_close(db);
	exec(ci, std::string("UPDATE asset SET state = '") + state +
			 "', location_id = (SELECT location_id FROM location WHERE code = '" +
			 place + "') WHERE lot_id = (SELECT lot_id FROM lot WHERE code = '" + lot +
			 "')");
	return bcs;
}

/* Return to the maker and scrap: three meters that failed verification,
 * in the central store, and a maker's location to return them to. */
void retire(const std::string &ci, json_t *out)
{
	struct db *db = pgtest_connect(pgtest_as(ci, "mlt_wadmin"));
	struct ml_error err = ML_ERROR_INIT;
	ok(asset_location_add(db, "WEB-MAKER", "浙江华仪退货仓", "maker", nullptr, &err), err,
	   "maker");
	db_close(db);
	std::vector<std::string> b = lot_in(ci, "WLOT-RET", 790000, 3, "failed", "WH-CENTRAL");
	json_object_set_new(out, "retire",
			    json_pack("{s:s, s:[s, s, s]}", "maker", "WEB-MAKER", "barcodes",
				      b[0].c_str(), b[1].c_str(), b[2].c_str()));
}

/* Fault reports waiting for the lab's finding: one by the field member, one
 * by a person who is both field member and lab technician (who may judge
 * faults, but not their own report). */
void faults(const std::string &ci, json_t *out)
{
	std::vector<std::string> b = lot_in(ci, "WLOT-FLT", 790010, 2, "removed", "WEB-TEAM");
	pgtest_user(ci, "mlt_fwlab", "周两岗", "field_member,lab_technician", "WEB-TEAM");
	set_password(ci, "mlt_fwlab", PW);
	int64_t ids[2] = { 0, 0 };
	const char *who[2] = { "mlt_fw", "mlt_fwlab" };
	for (int i = 0; i < 2; i++) {
		struct db *db = pgtest_connect(pgtest_as(ci, who[i]));
		struct ml_error err = ML_ERROR_INIT;
		ok(field_fault_report(db, b[i].c_str(), i ? "NO_DISPLAY" : "STOPPED",
				      i ? "现场黑屏" : "现场停走，客户投诉电量为零", nullptr,
				      "WEB-LAB", &ids[i], &err),
		   err, "fault report");
		db_close(db);
	}
	json_object_set_new(out, "faults",
			    json_pack("{s:I, s:I, s:s, s:s}", "field", (json_int_t)ids[0], "own",
				      (json_int_t)ids[1], "barcode", b[0].c_str(), "both",
				      "mlt_fwlab"));
}

/* The lab: a reference standard, one whose calibration runs out in ten
 * days (the board warns), a manual bench, an active scheme, and two meters
 * waiting for verification — the board's new-task form's. */
void lab(const std::string &ci, json_t *out)
{
	rfx::add_standard(ci, "WSTD", "2026-01-01", "2099-12-31");
	std::string soon = q1(ci, "SELECT to_char(current_date + 10, 'YYYY-MM-DD')");
	rfx::add_standard(ci, "WSTD-OLD", "2025-01-01", soon.c_str());
	rfx::add_bench(ci, "WB1", 0, 24, "WSTD");
	rfx::add_scheme(ci, "scheme code=W-WEB name=\"web task\"\n"
			    "suits kinds=meter_1p classes=1 connection=direct\n"
			    "basic I=Ib pf=1.0 element=H readings=2\n");
	struct db *dba = pgtest_connect(ci);
	std::vector<std::string> bcs = rfx::seed_assets(dba, 2, 661000);
	/* two more for a manual verification whose readings are typed in */
	std::vector<std::string> man = rfx::seed_assets(dba, 2, 661100);
	db_close(dba);
	json_object_set_new(out, "lab",
			    json_pack("{s:s, s:s, s:s, s:[s, s], s:[s, s]}", "bench", "WB1",
				      "scheme", "W-WEB", "expiring", "WSTD-OLD", "barcodes",
				      bcs[0].c_str(), bcs[1].c_str(), "manual", man[0].c_str(),
				      man[1].c_str()));
}

/* Runs the server executes (`--runners 1`, the run page's start button):
 * two simulated benches over Modbus TCP in this process (as
 * tests/server/run_start_test.cc), a short run at 5000x and a long one at
 * 300x (long enough to hold the one runner while another is refused), both
 * pending, made by the technician. The simulators live as long as the
 * process (static storage). */
void runs(const std::string &ci, json_t *out)
{
	rfx::add_scheme(ci, "scheme code=W-LONG name=\"web long\"\n"
			    "suits kinds=meter_1p classes=1 connection=direct\n"
			    "basic I=Ib pf=1.0 element=H readings=2\n"
			    "basic I=0.1Ib pf=1.0 element=H readings=10\n"
			    "basic I=0.1Ib pf=0.5L element=H readings=10\n"
			    "basic I=0.1Ib pf=0.8C element=H readings=10\n"
			    "basic I=0.1Ib pf=1.0 element=H readings=10\n"
			    "basic I=0.1Ib pf=0.5L element=H readings=10\n"
			    "basic I=0.1Ib pf=0.8C element=H readings=10\n"
			    "basic I=0.1Ib pf=1.0 element=H readings=10\n");
	const std::string sc = "kind meter\npositions 2\n[1-2]\nconstant 1200\nib 5\nerror 0.05\n";
	static struct benchsim *fast = rfx::start_sim(sc, 5000), *slow = rfx::start_sim(sc, 300);
	if (!fast || !slow)
		die("bench simulators");
	rfx::add_bench(ci, "WB-SIM", benchsim_port(fast), 2, "WSTD");
	rfx::add_bench(ci, "WB-SLOW", benchsim_port(slow), 2, "WSTD");
	struct db *dba = pgtest_connect(ci);
	std::vector<std::string> a = rfx::seed_assets(dba, 2, 662000);
	std::vector<std::string> b = rfx::seed_assets(dba, 2, 662100);
	db_close(dba);
	struct db *tech = pgtest_connect(pgtest_as(ci, "mlt_tech"));
	int64_t shortrun = rfx::create_task(tech, "WB-SIM", "W-WEB", a);
	int64_t longrun = rfx::create_task(tech, "WB-SLOW", "W-LONG", b);
	db_close(tech);
	if (shortrun <= 0 || longrun <= 0)
		die("the runs to start");
	json_object_set_new(out, "start",
			    json_pack("{s:I, s:I}", "short", (json_int_t)shortrun, "long",
				      (json_int_t)longrun));
}

/* As the DBA with triggers off (session_replication_role = replica): the
 * installed meters of the planning pages' world, set up the way
 * tests/plan/inspect_test.cc does, not through the field's operations. */
void dba(const std::string &ci, const std::string &sql)
{
	exec(ci + " options='-c session_replication_role=replica'", sql);
}

/* Planning (issue 15): a second team with three meters installed 30 days
 * ago at points WIP1..WIP3 (WIP3's validity ended five days ago: on the
 * rotation list, an overdue rotation swap order), a portable standard
 * certified until 2099 and one whose certificate ended yesterday, and the
 * monitoring rules rotation_overdue and unsealed_install run once by the
 * manager (items for the team, closed by its member mlt_fw2). */
void plan(const std::string &ci, json_t *out)
{
	struct db *db = pgtest_connect(pgtest_as(ci, "mlt_wadmin"));
	struct ml_error err = ML_ERROR_INIT;
	ok(asset_location_add(db, "WEB-TEAM2", "城西装接二班", "field_team", nullptr, &err), err,
	   "team 2");
	db_close(db);
	/* a member of team 2: the team's work items are closed by its members (or a
	 * manager), not by mlt_fw of WEB-TEAM (0375) */
	pgtest_user(ci, "mlt_fw2", "吴装接", "field_member", "WEB-TEAM2");
	set_password(ci, "mlt_fw2", PW);
	std::vector<std::string> b = lot_in(ci, "WLOT-PLAN", 795000, 3, "issued", "WEB-TEAM2");
	dba(ci,
	    "INSERT INTO metering_point (code, account_no, address, site_id, created_by) "
	    "SELECT 'WIP' || g, '77' || g, '杭州市西湖区文三路' || g || '号', (SELECT location_id "
	    "FROM location WHERE code = 'WEB-SITE'), (SELECT user_id FROM app_user WHERE login = "
	    "'mlt_manager') FROM generate_series(1, 3) g");
	dba(ci, "UPDATE asset SET state = 'installed', location_id = (SELECT location_id FROM "
		"location WHERE code = 'WEB-SITE'), valid_until = CASE barcode WHEN '" +
			b[2] +
			"' THEN current_date - 5 ELSE current_date + 2000 END WHERE lot_id = "
			"(SELECT lot_id FROM lot WHERE code = 'WLOT-PLAN')");
	dba(ci,
	    "INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, "
	    "installed_at, install_kwh) SELECT a.asset_id, p.point_id, 'meter', (SELECT "
	    "location_id FROM location WHERE code = 'WEB-TEAM2'), (SELECT user_id FROM app_user "
	    "WHERE login = 'mlt_fw'), now() - interval '30 days', 0 FROM (SELECT asset_id, "
	    "row_number() OVER (ORDER BY barcode) AS k FROM asset WHERE lot_id = (SELECT lot_id "
	    "FROM lot WHERE code = 'WLOT-PLAN')) a JOIN metering_point p ON p.code = 'WIP' || a.k");
	/* triggers were off: the monitoring rules' derived candidates (0310) are rebuilt, as a
	 * DBA does after any load with triggers off */
	q1(ci, "SELECT count(*) FROM ml_watch_field_rebuild()");
	rfx::add_standard(ci, "WPS1", "2026-01-01", "2099-12-31");
	std::string yesterday = q1(ci, "SELECT to_char(current_date - 1, 'YYYY-MM-DD')");
	rfx::add_standard(ci, "WPS-OLD", "2025-01-01", yesterday.c_str());
	std::string month = q1(ci, "SELECT to_char(current_date - 5, 'YYYY-MM')");
	db = pgtest_connect(pgtest_as(ci, "mlt_manager"));
	long opened = 0;
	ok(rotation_orders_open(db, month.c_str(), "WEB-TEAM2", &opened, &err), err,
	   "rotation orders");
	if (opened != 1)
		die("rotation orders: " + std::to_string(opened) + " opened, 1 expected");
	for (const char *rule : { "rotation_overdue", "unsealed_install" }) {
		PGresult *res = nullptr;
		ok(watch_run(db, rule, &res, &err), err, rule);
		PQclear(res);
	}
	db_close(db);
	std::string order = q1(ci, "SELECT max(order_id) FROM swap_order");
	std::string item = q1(ci, "SELECT item_id FROM watch_item WHERE rule = 'rotation_overdue'");
	json_object_set_new(out, "plan",
			    json_pack("{s:s, s:[s, s, s], s:s, s:s, s:I, s:I, s:s}", "team",
				      "WEB-TEAM2", "barcodes", b[0].c_str(), b[1].c_str(),
				      b[2].c_str(), "standard", "WPS1", "expired", "WPS-OLD",
				      "order", (json_int_t)std::stoll(order), "item",
				      (json_int_t)std::stoll(item), "month", month.c_str()));
}

/* Sealing in the lab: a meter verified and in a store (the technician's
 * seals are issued in field()). */
void labseal(const std::string &ci, json_t *out)
{
	/* its own store: t_count's confirmed count at the centre records what
	 * it did not scan as lost */
	struct db *db = pgtest_connect(pgtest_as(ci, "mlt_wadmin"));
	struct ml_error err = ML_ERROR_INIT;
	ok(asset_location_add(db, "WEB-LABSTORE", "实验室待施封库", "secondary_store", nullptr,
			      &err),
	   err, "lab store");
	db_close(db);
	std::vector<std::string> sm = lot_in(ci, "WLOT-SEAL", 796000, 1, "secondary_stock",
					     "WEB-LABSTORE");
	exec(ci, "UPDATE asset SET valid_until = current_date + 2900, verified_at = now() WHERE "
		 "barcode = '" +
			 sm[0] + "'");
	json_object_set_new(out, "labseal",
			    json_pack("{s:s, s:[s, s, s], s:s}", "meter", sm[0].c_str(), "seals",
				      "LSEAL-01", "LSEAL-02", "LSEAL-03", "not_mine", "SEAL-0002"));
}

} // namespace

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	setvbuf(stdout, nullptr, _IOLBF, 0);
	std::string ci = pgtest_fresh_db("web");
	const char *people[] = { "mlt_admin",   "mlt_clerk",    "mlt_tech",
				 "mlt_checker", "mlt_approver", "mlt_field",
				 "mlt_manager", "mlt_auditor",  "mlt_analyst" };
	json_t *out = json_object();
	json_t *logins = json_array();
	for (const char *p : people) {
		set_password(ci, p, PW);
		json_array_append_new(logins, json_string(p));
	}
	pgtest_user(ci, "mlt_clerk2", "赵收货", "warehouse_clerk");
	set_password(ci, "mlt_clerk2", PW);
	json_array_append_new(logins, json_string("mlt_clerk2"));
	/* both roles: may check or approve, never both on one certificate */
	pgtest_user(ci, "mlt_both", "钱双岗", "checker,approver");
	set_password(ci, "mlt_both", PW);
	json_array_append_new(logins, json_string("mlt_both"));
	certificates(ci, out);
	warehouse(ci, out);
	field(ci, out);
	retire(ci, out);
	faults(ci, out);
	lab(ci, out);
	plan(ci, out);
	labseal(ci, out);
	runs(ci, out);

	test_server srv;
	std::string web = pgtest_src("web"), service = pgtest_as_role(ci, "meterlab_service");
	std::vector<std::string> args = { "--threads",       "2",    "--pwhash-ops", "1",
					  "--pwhash-mem",    "8192", "--runners",    "1",
					  "--sse-heartbeat", "1",    "--web",        web };
	std::string why;
	if (!srv.start(service, args, &why))
		die(why);
	unsigned port = srv.port;
	json_object_set_new(out, "port", json_integer(port));
	json_object_set_new(out, "password", json_string(PW));
	json_object_set_new(out, "logins", logins);
	json_object_set_new(out, "conninfo", json_string(ci.c_str()));
	char *line = json_dumps(out, JSON_COMPACT);
	printf("%s\n", line);
	free(line);
	json_decref(out);

	std::string cmd;
	while (std::getline(std::cin, cmd)) {
		if (cmd == "quit")
			break;
		if (cmd == "stop") {
			srv.stop();
			printf("stopped\n");
		} else if (cmd == "start") {
			std::vector<std::string> a = args;
			a.push_back("--listen");
			a.push_back("127.0.0.1:" + std::to_string(port));
			bool up = false;
			for (int i = 0; i < 50 && !up;
			     i++) { /* the old socket may linger a moment */
				up = srv.start(service, a, &why);
				if (!up)
					std::this_thread::sleep_for(std::chrono::milliseconds(100));
			}
			printf("%s\n", up ? "started" : ("failed " + why).c_str());
		} else if (cmd.rfind("sql ", 0) == 0) {
			bool null = false;
			std::string v = q1(ci, cmd.substr(4), &null);
			json_t *s = null ? json_null() : json_string(v.c_str());
			char *t = json_dumps(s, JSON_ENCODE_ANY);
			printf("%s\n", t ? t : "null");
			free(t);
			json_decref(s);
		} else {
			printf("unknown command\n");
		}
	}
	srv.stop();
	return 0;
}
