/*
 * Field work against the real PostgreSQL (issue 11): metering points,
 * install / remove / swap with readings and seals, seals, faults and their
 * outcome; every refusal the issue lists; the races (two teams at one point,
 * one seal applied twice at once); and the tables written by no login.
 *
 * People: mlf_admin (admin: catalogue, places), mlf_clerk (warehouse clerk:
 * deliveries, seals), mlf_mgr (manager: metering points), mlf_a1 and mlf_a2
 * (field members of TEAMA), mlf_b (field member of TEAMB), mlf_tech (lab
 * technician: fault outcomes). Assets are put in 'issued' at a team by the
 * DBA (a fixture: issuing is the warehouse's, tested in tests/stores).
 */
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "assets/registry.h"
#include "field/field.h"

namespace
{

std::string g_ci, g_admin, g_clerk, g_mgr, g_a1, g_a2, g_b, g_tech;

std::string bc(unsigned long long serial)
{
	char out[23];
	struct ml_error err = ML_ERROR_INIT;
	if (barcode_make("41300", "01", serial, out, &err))
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

/* n fresh assets from serial first, received and then issued to team by the DBA. */
std::vector<std::string> issued(unsigned long long first, int n, const char *team)
{
	std::string csv = "barcode,model_code,production_batch,production_date\n";
	std::vector<std::string> out;
	for (int i = 0; i < n; i++) {
		out.push_back(bc(first + i));
		csv += out.back() + ",M1,B1,2026-09-14\n";
	}
	struct db *db = pgtest_connect(g_clerk);
	struct asset_receive_opts o = {};
	std::string lot = "FL-" + std::to_string(first);
	o.lot_code = lot.c_str();
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	db_close(db);
	dba("UPDATE asset SET state = 'issued', valid_until = current_date + 365, verified_at = now(), "
	    "location_id = (SELECT location_id FROM location WHERE code = $2) "
	    "WHERE lot_id = (SELECT lot_id FROM lot WHERE code = $1)",
	    { lot, team });
	return out;
}

void seals(const std::vector<std::string> &codes, const char *team, const char *login = nullptr)
{
	std::vector<const char *> c;
	for (auto &s : codes)
		c.push_back(s.c_str());
	struct db *db = pgtest_connect(g_clerk);
	struct ml_error err = ML_ERROR_INIT;
	size_t n = 0;
	std::string batch = "SB-" + codes[0];
	ASSERT_EQ(ML_OK, field_seal_receive(db, c.data(), c.size(), batch.c_str(), &n, &err))
		<< err.msg;
	EXPECT_EQ(codes.size(), n);
	ASSERT_EQ(ML_OK, field_seal_issue(db, c.data(), c.size(), team, login, &n, &err))
		<< err.msg;
	db_close(db);
}

void points(const std::string &csv)
{
	struct db *db = pgtest_connect(g_mgr);
	struct field_point_report rep;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, field_point_import(db, csv.data(), csv.size(), &rep, &err)) << err.msg;
	field_point_report_free(&rep);
	db_close(db);
}

int install(const std::string &ci, const std::string &barcode, const char *point, const char *kwh,
	    std::vector<const char *> s, struct ml_error *err, int64_t *id = nullptr)
{
	struct db *db = pgtest_connect(ci);
	struct field_install_in in = {};
	in.barcode = barcode.c_str();
	in.point = point;
	in.kwh = kwh;
	in.seals = s.data();
	in.nseals = s.size();
	int rc = field_install(db, &in, id, err);
	db_close(db);
	return rc;
}

int remove_(const std::string &ci, const std::string &barcode, const char *kwh, const char *reason,
	    struct ml_error *err, std::vector<const char *> s = {})
{
	struct db *db = pgtest_connect(ci);
	struct field_remove_in r = {};
	r.barcode = barcode.c_str();
	r.kwh = kwh;
	r.reason = reason;
	r.seals = s.data();
	r.nseals = s.size();
	int rc = field_remove(db, &r, nullptr, err);
	db_close(db);
	return rc;
}

std::string state(const std::string &barcode)
{
	return one(g_ci,
		   "SELECT state || ' ' || l.code FROM asset a JOIN location l USING (location_id) "
		   "WHERE barcode = $1",
		   { barcode });
}

class Field : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("field");
		g_admin = pgtest_user(g_ci, "mlf_admin", "管理员", "admin");
		struct db *db = pgtest_connect(g_admin);
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, asset_manufacturer_add(db, "HX", "浙江华仪", &err)) << err.msg;
		struct asset_model m = {};
		m.code = "M1";
		m.manufacturer_code = "HX";
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
		for (auto l : { std::pair<const char *, const char *>{ "SITE1", "customer_site" },
				{ "SITE2", "customer_site" },
				{ "TEAMA", "field_team" },
				{ "TEAMB", "field_team" },
				{ "LAB1", "lab" } })
			ASSERT_EQ(ML_OK,
				  asset_location_add(db, l.first, l.first, l.second, nullptr, &err))
				<< err.msg;
		db_close(db);
		g_clerk = pgtest_user(g_ci, "mlf_clerk", "库管员", "warehouse_clerk");
		g_mgr = pgtest_user(g_ci, "mlf_mgr", "经理", "manager");
		g_a1 = pgtest_user(g_ci, "mlf_a1", "装接甲", "field_member", "TEAMA");
		g_a2 = pgtest_user(g_ci, "mlf_a2", "装接乙", "field_member", "TEAMA");
		g_b = pgtest_user(g_ci, "mlf_b", "装接丙", "field_member", "TEAMB");
		g_tech = pgtest_user(g_ci, "mlf_tech", "检定员", "lab_technician");
		points("code,account,address,site\n"
		       "P1,3301000001,\"杭州市西湖区文三路1号, 1单元\",SITE1\n"
		       "P2,3301000002,杭州市西湖区文三路2号,SITE1\n"
		       "P3,3301000003,杭州市西湖区文三路3号,SITE2\n"
		       "P4,3301000004,杭州市西湖区文三路4号,SITE2\n"
		       "P5,3301000005,杭州市西湖区文三路5号,SITE2\n"
		       "P6,3301000006,杭州市西湖区文三路6号,SITE2\n");
	}
};

} // namespace

TEST_F(Field, PointImportIsAllOrNothingWithLineNumbers)
{
	struct db *db = pgtest_connect(g_mgr);
	struct field_point_report rep;
	struct ml_error err = ML_ERROR_INIT;
	std::string bad = "code,account,address,site\n"
			  "Q1,3302000001,宁波市海曙区1号,SITE1\n"
			  "Q2,3302000002,宁波市海曙区2号,NOWHERE\n"
			  "Q1,3302000003,宁波市海曙区3号,SITE1\n"
			  "P1,3302000004,宁波市海曙区4号,SITE1\n"
			  "Q5,33 02,宁波市海曙区5号,SITE1\n";
	EXPECT_EQ(ML_EINVAL, field_point_import(db, bad.data(), bad.size(), &rep, &err));
	ASSERT_EQ(4u, rep.nproblems) << err.msg;
	EXPECT_EQ(3u, rep.problems[0].line);
	EXPECT_NE(nullptr, strstr(rep.problems[0].msg, "'NOWHERE'")) << rep.problems[0].msg;
	EXPECT_EQ(4u, rep.problems[1].line);
	EXPECT_NE(nullptr, strstr(rep.problems[1].msg, "appears twice")) << rep.problems[1].msg;
	EXPECT_EQ(5u, rep.problems[2].line);
	EXPECT_NE(nullptr, strstr(rep.problems[2].msg, "P1 already exists")) << rep.problems[2].msg;
	EXPECT_EQ(6u, rep.problems[3].line);
	EXPECT_NE(nullptr, strstr(rep.problems[3].msg, "'33 02'")) << rep.problems[3].msg;
	field_point_report_free(&rep);
	EXPECT_EQ("0", one(g_ci, "SELECT count(*) FROM metering_point WHERE code LIKE 'Q%'"));
	/* a field member may not add points */
	db_close(db);
	db = pgtest_connect(g_a1);
	std::string good = "code,account,address,site\nQ9,3302000009,宁波市海曙区9号,SITE1\n";
	EXPECT_EQ(ML_EPERM, field_point_import(db, good.data(), good.size(), &rep, &err));
	field_point_report_free(&rep);
	db_close(db);
	EXPECT_EQ("杭州市西湖区文三路1号, 1单元",
		  one(g_ci, "SELECT address FROM metering_point WHERE code = 'P1'"));
}

/* A spreadsheet's "CSV UTF-8" (byte order mark, CR LF) imports; a record of
 * too many fields is called that, not an unclosed quote (audit finding 7). */
TEST_F(Field, PointImportTakesASpreadsheetsCsvUtf8)
{
	struct db *db = pgtest_connect(g_mgr);
	struct field_point_report rep;
	struct ml_error err = ML_ERROR_INIT;
	std::string csv = "\xEF\xBB\xBF"
			  "code,account,address,site\r\n"
			  "BOM1,3305000001,温州市鹿城区1号,SITE1\r\n"
			  "BOM2,3305000002,\"温州市鹿城区2号, 2单元\",SITE2\r\n";
	ASSERT_EQ(ML_OK, field_point_import(db, csv.data(), csv.size(), &rep, &err)) << err.msg;
	EXPECT_EQ(2u, rep.added);
	field_point_report_free(&rep);
	EXPECT_EQ("温州市鹿城区2号, 2单元|SITE2",
		  one(g_ci,
		      "SELECT p.address || '|' || l.code FROM metering_point p JOIN location l "
		      "ON l.location_id = p.site_id WHERE p.code = 'BOM2'"));
	std::string wide = "code,account,address,site\n"
			   "BOM3,3305000003,温州市鹿城区3号,SITE1\n"
			   "BOM4,3305000004,温州市,鹿城区,4号,SITE1,x,y,z\n";
	EXPECT_EQ(ML_EINVAL, field_point_import(db, wide.data(), wide.size(), &rep, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "line 3: more than 8 fields")) << err.msg;
	EXPECT_EQ(nullptr, strstr(err.msg, "quoted")) << err.msg;
	field_point_report_free(&rep);
	EXPECT_EQ("0", one(g_ci, "SELECT count(*) FROM metering_point WHERE code = 'BOM3'"));
	db_close(db);
}

/*
 * Destroying a seal while a team applies it (audit finding 5): the install
 * holds the seal, the destruction waits for it and then sees it applied —
 * refused naming the seal; the seal stays applied on its meter.
 */
TEST_F(Field, SealDestroyWaitsForAnApplyAndRefusesIt)
{
	std::vector<std::string> a = issued(1100, 1, "TEAMA");
	seals({ "S-0701" }, "TEAMA");
	points("code,account,address,site\nRD1,3306000001,丽水市莲都区1号,SITE1\n");
	struct db *fm = pgtest_connect(g_a1);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_cmd(fm, "BEGIN", 0, nullptr, &err)) << err.msg;
	const char *p[] = { a[0].c_str() };
	ASSERT_EQ(ML_OK,
		  db_cmd(fm, "SELECT ml_install($1, 'RD1', NULL, '1', NULL, ARRAY['S-0701'])", 1, p,
			 &err))
		<< err.msg;
	int rc = -1;
	struct ml_error e = ML_ERROR_INIT;
	std::thread destroyer([&] {
		struct db *clerk = pgtest_connect(g_clerk);
		const char *c[] = { "S-0701" };
		size_t n = 0;
		rc = field_seal_destroy(clerk, c, 1, "丢失", &n, &e);
		db_close(clerk);
	});
	/* the destruction is waiting on the install's lock before the install commits */
	std::string waiting = "0";
	for (int i = 0; i < 500 && waiting == "0"; i++) {
		usleep(10000);
		waiting = one(g_ci, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
				    "current_database() AND wait_event_type = 'Lock'");
	}
	EXPECT_EQ("1", waiting);
	ASSERT_EQ(ML_OK, db_cmd(fm, "COMMIT", 0, nullptr, &err)) << err.msg;
	destroyer.join();
	db_close(fm);
	EXPECT_EQ(ML_ESTATE, rc) << e.msg;
	EXPECT_NE(nullptr, strstr(e.msg, "S-0701")) << e.msg;
	EXPECT_NE(nullptr, strstr(e.msg, "applied")) << e.msg;
	EXPECT_EQ("applied|" + a[0],
		  one(g_ci, "SELECT s.state || '|' || a.barcode FROM seal s JOIN asset a USING "
			    "(asset_id) WHERE s.code = 'S-0701'"));
	EXPECT_EQ("receive,issue,apply",
		  one(g_ci, "SELECT string_agg(action, ',' ORDER BY event_id) FROM seal_event e "
			    "JOIN seal s USING (seal_id) WHERE s.code = 'S-0701'"));
}

TEST_F(Field, InstallAndRemoveRecordReadingsSealsAndPlace)
{
	std::vector<std::string> a = issued(100, 1, "TEAMA");
	seals({ "S-0101", "S-0102" }, "TEAMA");
	struct ml_error err = ML_ERROR_INIT;
	int64_t inst = 0;
	ASSERT_EQ(ML_OK, install(g_a1, a[0], "P1", "1234.50", { "S-0101", "S-0102" }, &err, &inst))
		<< err.msg;
	EXPECT_GT(inst, 0);
	/* an installed meter is at its metering point's site, not at the team */
	EXPECT_EQ("installed SITE1", state(a[0]));
	std::string out;
	ASSERT_EQ(0, pgtest_run(pgtest_cli() + " --db " + pgtest_sq(g_a1) + " asset show " + a[0],
				&out))
		<< out;
	EXPECT_NE(std::string::npos,
		  out.find("where        metering point P1 (meter; account 3301000001"))
		<< out;
	EXPECT_EQ("applied P1",
		  one(g_ci, "SELECT string_agg(DISTINCT s.state || ' ' || mp.code, ',') "
			    "FROM seal s JOIN installation i USING (installation_id) "
			    "JOIN metering_point mp USING (point_id) "
			    "WHERE s.code IN ('S-0101','S-0102')"));
	EXPECT_EQ("mlf_a1", one(g_ci,
				"SELECT actor FROM asset_event e JOIN asset a USING (asset_id) "
				"WHERE a.barcode = $1 AND e.action = 'install'",
				{ a[0] }));
	struct db *db = pgtest_connect(g_a1);
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, field_point_show(db, "P1", &res, &err)) << err.msg;
	ASSERT_EQ(1, PQntuples(res));
	EXPECT_STREQ(a[0].c_str(), db_get(res, 0, "barcode"));
	EXPECT_STREQ("1234.50", db_get(res, 0, "install_kwh"));
	EXPECT_STREQ("S-0101 S-0102", db_get(res, 0, "seals"));
	PQclear(res);
	db_close(db);

	/* the final reading may not go backwards; nothing changes */
	EXPECT_EQ(ML_EINVAL, remove_(g_a2, a[0], "1234.49", "rotation", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "below its initial reading 1234.50")) << err.msg;
	EXPECT_EQ("installed SITE1", state(a[0]));
	EXPECT_EQ(ML_EINVAL, remove_(g_a2, a[0], "1300", "bored", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'bored'")) << err.msg;
	ASSERT_EQ(ML_OK, remove_(g_a2, a[0], "1300.00", "rotation", &err, { "S-0101" })) << err.msg;
	EXPECT_EQ("removed TEAMA", state(a[0]));
	EXPECT_EQ("field team TEAMA (removed from service)",
		  one(g_ci, "SELECT ml_asset_place(asset_id) FROM asset WHERE barcode = $1",
		      { a[0] }));
	EXPECT_EQ("2", one(g_ci, "SELECT count(*) FROM seal WHERE state = 'removed' AND code IN "
				 "('S-0101','S-0102')"));
	EXPECT_EQ("1300.00 rotation mlf_a2",
		  one(g_ci,
		      "SELECT remove_kwh || ' ' || remove_reason || ' ' || u.login "
		      "FROM installation i JOIN app_user u ON u.user_id = i.removed_by "
		      "WHERE installation_id = $1",
		      { std::to_string(inst) }));
	/* the point is free again */
	EXPECT_EQ("0", one(g_ci, "SELECT count(*) FROM installation i JOIN metering_point mp "
				 "USING (point_id) WHERE mp.code = 'P1' AND removed_at IS NULL"));
	/* the seal's whole life, oldest first, with who did each step */
	db = pgtest_connect(g_a1);
	ASSERT_EQ(ML_OK, field_seal_history(db, "S-0101", &res, &err)) << err.msg;
	std::string life;
	for (int i = 0; i < PQntuples(res); i++)
		life += std::string(db_get(res, i, "action")) + ":" + db_get(res, i, "actor") + " ";
	EXPECT_EQ("receive:mlf_clerk issue:mlf_clerk apply:mlf_a1 remove:mlf_a2 ", life);
	EXPECT_NE(nullptr, strstr(db_get(res, 2, "details"), "\"point\": \"P1\""))
		<< db_get(res, 2, "details");
	PQclear(res);
	EXPECT_EQ(ML_ENOTFOUND, field_seal_history(db, "S-9999", &res, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'S-9999'")) << err.msg;
	db_close(db);
}

TEST_F(Field, EveryRefusalNamesTheValueAndWritesNothing)
{
	std::vector<std::string> a = issued(200, 4, "TEAMA");
	seals({ "S-0201", "S-0202" }, "TEAMA");
	seals({ "S-0203" }, "TEAMB");
	struct ml_error err = ML_ERROR_INIT;
	/* a meter not issued to the installer's team */
	EXPECT_EQ(ML_EPERM, install(g_b, a[0], "P2", "10", {}, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "not to your team TEAMB")) << err.msg;
	/* verification expired */
	dba("UPDATE asset SET valid_until = current_date - 1 WHERE barcode = $1", { a[1] });
	EXPECT_EQ(ML_ESTATE, install(g_a1, a[1], "P2", "10", {}, &err));
	EXPECT_NE(nullptr, strstr(err.msg, a[1].c_str())) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "re-verify")) << err.msg;
	/* a seal of another team, an unknown seal */
	EXPECT_EQ(ML_EPERM, install(g_a1, a[0], "P2", "10", { "S-0203" }, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "S-0203")) << err.msg;
	EXPECT_EQ(ML_ENOTFOUND, install(g_a1, a[0], "P2", "10", { "S-9999" }, &err));
	/* readings are exact kWh with at most two decimals */
	EXPECT_EQ(ML_EINVAL, install(g_a1, a[0], "P2", "12.345", {}, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'12.345'")) << err.msg;
	EXPECT_EQ(ML_EINVAL, install(g_a1, a[0], "P2", "-1", {}, &err));
	EXPECT_EQ(ML_ENOTFOUND, install(g_a1, a[0], "NOPE", "1", {}, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'NOPE'")) << err.msg;
	EXPECT_EQ("issued TEAMA", state(a[0]));
	EXPECT_EQ("issued", one(g_ci, "SELECT state FROM seal WHERE code = 'S-0201'"));
	/* installed; then: a point that already has a meter, a seal used twice */
	ASSERT_EQ(ML_OK, install(g_a1, a[0], "P2", "10", { "S-0201" }, &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, install(g_a2, a[2], "P2", "5", {}, &err));
	EXPECT_NE(nullptr, strstr(err.msg, a[0].c_str()))
		<< "names the meter in place: " << err.msg;
	EXPECT_EQ(ML_ESTATE, install(g_a2, a[2], "P4", "5", { "S-0202", "S-0201" }, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "S-0201")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "used once")) << err.msg;
	EXPECT_EQ("issued", one(g_ci, "SELECT state FROM seal WHERE code = 'S-0202'"))
		<< "the good seal of a refused installation stays unused";
	EXPECT_EQ("issued TEAMA", state(a[2]));
	/* removing what is not installed */
	EXPECT_EQ(ML_ESTATE, remove_(g_a1, a[3], "1", "fault", &err));
}

TEST_F(Field, SwapIsOneTransaction)
{
	std::vector<std::string> a = issued(300, 3, "TEAMA");
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, install(g_a1, a[0], "P3", "500", {}, &err)) << err.msg;
	seals({ "S-0301" }, "TEAMA");
	struct db *db = pgtest_connect(g_a1);
	struct field_remove_in old = {};
	old.barcode = a[0].c_str();
	old.kwh = "612.30";
	old.reason = "upgrade";
	struct field_install_in repl = {};
	const char *s[] = { "S-0301" };
	repl.barcode = a[1].c_str();
	repl.kwh = "0";
	repl.seals = s;
	repl.nseals = 1;
	/* the new meter refused (expired): the old one stays installed */
	dba("UPDATE asset SET valid_until = current_date - 1 WHERE barcode = $1", { a[2] });
	struct field_install_in bad = repl;
	bad.barcode = a[2].c_str();
	EXPECT_EQ(ML_ESTATE, field_swap(db, &old, &bad, nullptr, &err));
	EXPECT_EQ("installed SITE2", state(a[0]));
	int64_t inst = 0;
	ASSERT_EQ(ML_OK, field_swap(db, &old, &repl, &inst, &err)) << err.msg;
	EXPECT_EQ("removed TEAMA", state(a[0]));
	EXPECT_EQ("installed SITE2", state(a[1]));
	EXPECT_EQ(std::to_string(inst),
		  one(g_ci,
		      "SELECT replaced_by FROM installation i JOIN asset a USING (asset_id) "
		      "WHERE a.barcode = $1",
		      { a[0] }));
	EXPECT_EQ("P3 meter",
		  one(g_ci,
		      "SELECT mp.code || ' ' || i.element FROM installation i "
		      "JOIN metering_point mp USING (point_id) WHERE installation_id = $1",
		      { std::to_string(inst) }));
	db_close(db);
}

/* Two teams install at one point at the same moment: exactly one wins; one
 * seal applied at two points at once: exactly one installation gets it. */
TEST_F(Field, RacesHaveExactlyOneWinner)
{
	for (int round = 0; round < 3; round++) {
		std::vector<std::string> a = issued(400 + round * 10, 1, "TEAMA");
		std::vector<std::string> b = issued(405 + round * 10, 1, "TEAMB");
		std::string pt = "R" + std::to_string(round);
		points("code,account,address,site\n" + pt + ",33030000" + std::to_string(round) +
		       ",竞争路" + std::to_string(round) + "号,SITE1\n");
		std::atomic<int> go{ 0 };
		int rc[2];
		struct ml_error e[2] = { ML_ERROR_INIT, ML_ERROR_INIT };
		std::thread t1([&] {
			go++;
			while (go < 2) {
			}
			rc[0] = install(g_a1, a[0], pt.c_str(), "1", {}, &e[0]);
		});
		std::thread t2([&] {
			go++;
			while (go < 2) {
			}
			rc[1] = install(g_b, b[0], pt.c_str(), "1", {}, &e[1]);
		});
		t1.join();
		t2.join();
		EXPECT_EQ(1, (rc[0] == ML_OK) + (rc[1] == ML_OK)) << e[0].msg << " / " << e[1].msg;
		for (int k = 0; k < 2; k++) {
			if (rc[k]) {
				EXPECT_TRUE(rc[k] == ML_ECONFLICT || rc[k] == ML_ESTATE)
					<< e[k].msg;
			}
		}
		EXPECT_EQ("1", one(g_ci,
				   "SELECT count(*) FROM installation i JOIN metering_point "
				   "mp USING (point_id) WHERE mp.code = $1 AND removed_at IS NULL",
				   { pt }));
		EXPECT_EQ("1", one(g_ci,
				   "SELECT count(*) FROM asset WHERE barcode IN ($1, $2) AND "
				   "state = 'installed'",
				   { a[0], b[0] }));
	}
	for (int round = 0; round < 3; round++) {
		std::vector<std::string> a = issued(500 + round * 10, 2, "TEAMA");
		std::string code = "S-05" + std::to_string(round) + "0";
		seals({ code }, "TEAMA");
		std::string p1 = "T" + std::to_string(round) + "a",
			    p2 = "T" + std::to_string(round) + "b";
		points("code,account,address,site\n" + p1 + ",3304" + std::to_string(round) +
		       "1,封印路1号,SITE1\n" + p2 + ",3304" + std::to_string(round) +
		       "2,封印路2号,SITE1\n");
		std::atomic<int> go{ 0 };
		int rc[2];
		struct ml_error e[2] = { ML_ERROR_INIT, ML_ERROR_INIT };
		auto run = [&](int k, const std::string &who, const std::string &pt) {
			go++;
			while (go < 2) {
			}
			rc[k] = install(who, a[k], pt.c_str(), "1", { code.c_str() }, &e[k]);
		};
		std::thread t1(run, 0, g_a1, p1), t2(run, 1, g_a2, p2);
		t1.join();
		t2.join();
		EXPECT_EQ(1, (rc[0] == ML_OK) + (rc[1] == ML_OK)) << e[0].msg << " / " << e[1].msg;
		EXPECT_EQ("1", one(g_ci,
				   "SELECT count(*) FROM seal_event e JOIN seal s USING "
				   "(seal_id) WHERE s.code = $1 AND e.action = 'apply'",
				   { code }));
		EXPECT_EQ("1", one(g_ci,
				   "SELECT count(*) FROM asset WHERE barcode IN ($1, $2) AND "
				   "state = 'installed'",
				   { a[0], a[1] }));
	}
}

TEST_F(Field, SealsAreTrackedAndNeverUsedTwice)
{
	struct ml_error err = ML_ERROR_INIT;
	struct db *clerk = pgtest_connect(g_clerk);
	const char *c[] = { "S-0601", "S-0602", "S-0603" };
	size_t n = 0;
	ASSERT_EQ(ML_OK, field_seal_receive(clerk, c, 3, "SB-06", &n, &err)) << err.msg;
	EXPECT_EQ(ML_EEXISTS, field_seal_receive(clerk, c + 2, 1, "SB-06b", &n, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "S-0603")) << err.msg;
	const char *dup[] = { "S-0604", "S-0604" };
	EXPECT_EQ(ML_EINVAL, field_seal_receive(clerk, dup, 2, "SB-06c", &n, &err));
	/* to a person (a lab technician), and to a team */
	ASSERT_EQ(ML_OK, field_seal_issue(clerk, c, 1, nullptr, "mlf_tech", &n, &err)) << err.msg;
	ASSERT_EQ(ML_OK, field_seal_issue(clerk, c + 1, 1, "TEAMB", nullptr, &n, &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, field_seal_issue(clerk, c + 1, 1, "TEAMA", nullptr, &n, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "issued, not in store")) << err.msg;
	ASSERT_EQ(ML_OK, field_seal_destroy(clerk, c + 2, 1, "损坏", &n, &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, field_seal_issue(clerk, c + 2, 1, "TEAMA", nullptr, &n, &err));
	PGresult *res = nullptr;
	struct field_seal_filter all = {};
	ASSERT_EQ(ML_OK, field_seal_list(clerk, &all, &res, &err)) << err.msg;
	std::string where;
	for (int i = 0; i < PQntuples(res); i++)
		if (!strncmp(db_get(res, i, "code"), "S-060", 5))
			where += std::string(db_get(res, i, "code")) + ":" +
				 db_get(res, i, "state") + "@" + db_get(res, i, "holder") + " ";
	EXPECT_EQ("S-0601:issued@mlf_tech S-0602:issued@TEAMB S-0603:destroyed@ ", where);
	/* pages of two by keyset on the code: the same seals in the same order */
	std::string whole, paged, last;
	for (int i = 0; i < PQntuples(res); i++)
		whole += std::string(db_get(res, i, "code")) + " ";
	PQclear(res);
	for (int pages = 0; pages < 10000; pages++) {
		struct field_seal_filter pg = {};
		pg.limit = 2;
		pg.after = pages ? last.c_str() : nullptr;
		ASSERT_EQ(ML_OK, field_seal_list(clerk, &pg, &res, &err)) << err.msg;
		int n2 = PQntuples(res);
		for (int i = 0; i < n2; i++)
			paged += std::string(db_get(res, i, "code")) + " ";
		if (n2)
			last = db_get(res, n2 - 1, "code");
		PQclear(res);
		if (n2 < 2)
			break;
	}
	EXPECT_EQ(whole, paged);
	struct field_seal_filter big = {};
	big.limit = FIELD_SEAL_PAGE_MAX + 1;
	EXPECT_EQ(ML_EINVAL, field_seal_list(clerk, &big, &res, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "10001")) << err.msg;
	/* mine: the seals issued to the technician personally */
	struct db *ltech = pgtest_connect(g_tech);
	struct field_seal_filter my = {};
	my.mine = 1;
	ASSERT_EQ(ML_OK, field_seal_list(ltech, &my, &res, &err)) << err.msg;
	std::string mine;
	for (int i = 0; i < PQntuples(res); i++)
		mine += std::string(db_get(res, i, "code")) + "@" + db_get(res, i, "holder") + " ";
	PQclear(res);
	db_close(ltech);
	EXPECT_NE(std::string::npos, mine.find("S-0601@mlf_tech")) << mine;
	EXPECT_EQ(std::string::npos, mine.find("S-0602")) << mine;
	/* a field member cannot receive or issue seals */
	struct db *fm = pgtest_connect(g_a1);
	const char *x[] = { "S-0609" };
	EXPECT_EQ(ML_EPERM, field_seal_receive(fm, x, 1, "SB-X", &n, &err));
	db_close(fm);
	db_close(clerk);
	EXPECT_EQ("receive,destroy", /* never issued */
		  one(g_ci, "SELECT string_agg(action, ',' ORDER BY event_id) FROM seal_event e "
			    "JOIN seal s USING (seal_id) WHERE s.code = 'S-0603'"));
}

TEST_F(Field, FaultGoesToTheLabAndItsOutcomeIsAnotherPersons)
{
	std::vector<std::string> a = issued(700, 2, "TEAMA");
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, install(g_a1, a[0], "P5", "10", {}, &err)) << err.msg;
	struct db *db = pgtest_connect(g_a1);
	int64_t f = 0;
	/* installed: remove it first */
	EXPECT_EQ(ML_ESTATE, field_fault_report(db, a[0].c_str(), "STOPPED", "停走", nullptr,
						"LAB1", &f, &err));
	ASSERT_EQ(ML_OK, remove_(g_a1, a[0], "10.5", "complaint", &err)) << err.msg;
	EXPECT_EQ(ML_EINVAL,
		  field_fault_report(db, a[0].c_str(), "SNEEZE", "?", nullptr, "LAB1", &f, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'SNEEZE'")) << err.msg;
	ASSERT_EQ(ML_OK, field_fault_report(db, a[0].c_str(), "FAST", "用户投诉走快",
					    "TS-2026-0042", "LAB1", &f, &err))
		<< err.msg;
	EXPECT_EQ("fault_analysis LAB1", state(a[0]));
	EXPECT_EQ("fault_analysis at lab LAB1",
		  one(g_ci, "SELECT ml_asset_place(asset_id) FROM asset WHERE barcode = $1",
		      { a[0] }));
	EXPECT_EQ("arbitration TS-2026-0042",
		  one(g_ci,
		      "SELECT kind || ' ' || complaint_ref FROM fault_report WHERE fault_id = $1",
		      { std::to_string(f) }));
	/* the reporter cannot judge it (and lacks the permission anyway) */
	EXPECT_EQ(ML_EPERM, field_fault_outcome(db, f, "usage", nullptr, &err));
	db_close(db);
	db = pgtest_connect(g_tech);
	EXPECT_EQ(ML_EINVAL, field_fault_outcome(db, f, "bad luck", nullptr, &err));
	ASSERT_EQ(ML_OK, field_fault_outcome(db, f, "no_fault_found", "仲裁检定合格", &err))
		<< err.msg;
	EXPECT_EQ(ML_ESTATE, field_fault_outcome(db, f, "maker", nullptr, &err));
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, field_fault_list(db, 0, &res, &err)) << err.msg;
	bool seen = false;
	for (int i = 0; i < PQntuples(res); i++)
		if (a[0] == db_get(res, i, "barcode")) {
			seen = true;
			EXPECT_STREQ("no_fault_found", db_get(res, i, "outcome"));
			EXPECT_STREQ("mlf_tech", db_get(res, i, "outcome_by"));
		}
	EXPECT_TRUE(seen);
	PQclear(res);
	db_close(db);
}

/* No login writes the field tables except through the functions. */
TEST_F(Field, NoLoginWritesTheTablesDirectly)
{
	std::vector<std::string> a = issued(800, 1, "TEAMA");
	seals({ "S-0801" }, "TEAMA");
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, install(g_a1, a[0], "P6", "1", { "S-0801" }, &err)) << err.msg;
	const char *attacks[] = {
		"INSERT INTO metering_point (code, account_no, address, site_id, created_by) "
		"SELECT 'EVIL', '1', 'x', location_id, 1 FROM location LIMIT 1",
		"UPDATE installation SET install_kwh = 0",
		"DELETE FROM installation",
		"INSERT INTO seal (code, batch) VALUES ('S-EVIL', 'X')",
		"UPDATE seal SET state = 'issued'",
		"DELETE FROM seal_event",
		"UPDATE fault_report SET outcome = 'maker'",
		"INSERT INTO fault_symptom (code, name_zh) VALUES ('EVIL', 'x')",
	};
	/* every person (each a member of meterlab_app, which cannot log in) */
	for (const std::string &who : { g_a1, g_clerk, g_mgr, g_tech, g_admin }) {
		struct db *db = pgtest_connect(who);
		for (const char *sql : attacks)
			EXPECT_EQ(ML_EPERM, db_cmd(db, sql, 0, nullptr, &err))
				<< who << ": " << sql;
		db_close(db);
	}
	/* even the schema owner cannot rewrite a seal's history */
	struct db *d = pgtest_connect(g_ci);
	EXPECT_NE(ML_OK, db_cmd(d, "UPDATE seal_event SET actor_id = actor_id", 0, nullptr, &err));
	db_close(d);
	EXPECT_EQ("1", one(g_ci,
			   "SELECT count(*) FROM installation i JOIN asset a USING (asset_id) "
			   "WHERE a.barcode = $1",
			   { a[0] }));
}

/* 0205: installing and removing happen only through the metering-point flow.
 * The bare lifecycle moves are refused by the database for every writer —
 * a field member calling ml_asset_move, the schema owner calling
 * ml_asset_apply, the DBA updating the row — naming the field command; the
 * asset stays where it is. */
TEST_F(Field, BareMovesCannotInstallOrRemove)
{
	std::vector<std::string> a = issued(900, 1, "TEAMA");
	points("code,account,address,site\nG1,3309000001,杭州市上城区1号,SITE1\n");
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = pgtest_connect(g_a1);
	const char *p[1] = { a[0].c_str() };
	PGresult *res = nullptr;
	EXPECT_EQ(
		ML_ESTATE,
		db_exec(db,
			"SELECT * FROM ml_asset_move(ARRAY[$1], ARRAY['install'], ARRAY['SITE1'])",
			1, p, PGRES_TUPLES_OK, &res, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "meterlab field install")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, a[0].c_str())) << err.msg;
	PQclear(res);
	EXPECT_EQ("issued TEAMA", state(a[0]));
	ASSERT_EQ(ML_OK, install(g_a1, a[0], "G1", "7", {}, &err)) << err.msg;
	for (const char *act : { "remove", "fault_report" }) {
		const char *q[2] = { a[0].c_str(), act };
		EXPECT_EQ(ML_ESTATE, db_exec(db,
					     "SELECT * FROM ml_asset_move(ARRAY[$1], ARRAY[$2], "
					     "ARRAY[NULL::text])",
					     2, q, PGRES_TUPLES_OK, &res, &err))
			<< act;
		EXPECT_NE(nullptr, strstr(err.msg, "at metering point G1")) << err.msg;
		EXPECT_NE(nullptr, strstr(err.msg, "meterlab field remove")) << err.msg;
		PQclear(res);
	}
	db_close(db);
	/* the schema owner's own function and the DBA's UPDATE are held to it too */
	struct db *d = pgtest_connect(g_ci);
	EXPECT_EQ(
		ML_ESTATE,
		db_cmd(d,
		       "SELECT ml_asset_apply((SELECT user_id FROM app_user WHERE login = 'mlf_a1'), "
		       "ARRAY[ROW(asset_id, 'installed', 'removed', 'remove', NULL, false, NULL, NULL, "
		       "NULL)::ml_asset_change]) FROM asset WHERE barcode = $1",
		       1, p, &err));
	EXPECT_EQ(ML_ESTATE,
		  db_cmd(d, "UPDATE asset SET state = 'removed' WHERE barcode = $1", 1, p, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "meterlab field remove")) << err.msg;
	db_close(d);
	EXPECT_EQ("installed SITE1", state(a[0]));
	/* through the field it works, with its reading */
	ASSERT_EQ(ML_OK, remove_(g_a1, a[0], "8.25", "other", &err)) << err.msg;
	EXPECT_EQ("removed TEAMA", state(a[0]));
}

/* Sealing a verified meter in the lab (0228): the technician's own seals,
 * each used once, on a meter that passed verification; the meter's history
 * records it. */
TEST_F(Field, LabTechnicianSealsAVerifiedMeter)
{
	std::string tech2 = pgtest_user(g_ci, "mlf_tech2", "检定员乙", "lab_technician");
	std::vector<std::string> a = issued(950, 3, "TEAMA");
	/* verified stock at CENTRAL (a passing run's result, as a fixture); a[2] still arrived */
	dba("UPDATE asset SET state = 'in_stock', location_id = (SELECT location_id FROM location "
	    "WHERE code = 'CENTRAL') WHERE barcode IN ($1, $2)",
	    { a[0], a[1] });
	dba("UPDATE asset SET state = 'arrived', valid_until = NULL WHERE barcode = $1", { a[2] });
	seals({ "L-0951", "L-0952", "L-0953", "L-0954" }, nullptr, "mlf_tech");
	seals({ "L-0955" }, nullptr, "mlf_tech2");
	seals({ "L-0956" }, "TEAMA");
	struct ml_error err = ML_ERROR_INIT;
	size_t n = 0;
	struct db *tech = pgtest_connect(g_tech);
	auto apply = [&](struct db *db, const std::string &b, std::vector<const char *> c) {
		return field_seal_apply(db, b.c_str(), c.data(), c.size(), &n, &err);
	};
	/* refusals, each naming the value; nothing applied */
	EXPECT_EQ(ML_EPERM, apply(tech, a[0], { "L-0951", "L-0955" }));
	EXPECT_NE(nullptr, strstr(err.msg, "L-0955 is issued to mlf_tech2, not to you")) << err.msg;
	EXPECT_EQ(ML_EPERM, apply(tech, a[0], { "L-0956" }));
	EXPECT_NE(nullptr, strstr(err.msg, "team TEAMA")) << err.msg;
	EXPECT_EQ(ML_EINVAL, apply(tech, a[0], { "L-0951", "L-0951" }));
	EXPECT_NE(nullptr, strstr(err.msg, "listed twice")) << err.msg;
	EXPECT_EQ(ML_ENOTFOUND, apply(tech, a[0], { "L-9999" }));
	EXPECT_NE(nullptr, strstr(err.msg, "'L-9999'")) << err.msg;
	EXPECT_EQ(ML_ESTATE, apply(tech, a[2], { "L-0951" }));
	EXPECT_NE(nullptr, strstr(err.msg, "'arrived'")) << err.msg;
	EXPECT_EQ(ML_EINVAL, apply(tech, a[0], {}));
	struct db *fm = pgtest_connect(g_a1);
	EXPECT_EQ(ML_EPERM,
		  apply(fm, a[0], { "L-0956" })); /* a field member seals at installations */
	EXPECT_NE(nullptr, strstr(err.msg, "seal.apply")) << err.msg;
	db_close(fm);
	EXPECT_EQ("4", one(g_ci, "SELECT count(*) FROM seal WHERE code IN ('L-0951','L-0952',"
				 "'L-0953','L-0954') AND state = 'issued'"));
	/* sealed */
	ASSERT_EQ(ML_OK, apply(tech, a[0], { "L-0951", "L-0952" })) << err.msg;
	EXPECT_EQ(2u, n);
	EXPECT_EQ("in_stock CENTRAL", state(a[0]));
	EXPECT_EQ("mlf_tech in_stock in_stock [\"L-0951\", \"L-0952\"]",
		  one(g_ci,
		      "SELECT e.actor || ' ' || e.from_state || ' ' || e.to_state || ' ' || "
		      "(e.details->'seals')::text FROM asset_event e JOIN asset a USING (asset_id) "
		      "WHERE a.barcode = $1 AND e.action = 'seal'",
		      { a[0] }));
	PGresult *res = nullptr;
	struct field_seal_filter sl = {};
	sl.code = "L-0951";
	ASSERT_EQ(ML_OK, field_seal_list(tech, &sl, &res, &err)) << err.msg;
	ASSERT_EQ(1, PQntuples(res));
	EXPECT_STREQ("applied", db_get(res, 0, "state"));
	EXPECT_STREQ(a[0].c_str(), db_get(res, 0, "asset"));
	PQclear(res);
	/* a seal is used once: not on another meter, not again on this one */
	EXPECT_EQ(ML_ESTATE, apply(tech, a[1], { "L-0953", "L-0951" }));
	EXPECT_NE(nullptr, strstr(err.msg, ("already applied to " + a[0]).c_str())) << err.msg;
	EXPECT_EQ("issued", one(g_ci, "SELECT state FROM seal WHERE code = 'L-0953'"));
	/* one seal applied to two meters at once: exactly one gets it */
	std::atomic<int> go{ 0 };
	int rc[2];
	struct ml_error e[2] = { ML_ERROR_INIT, ML_ERROR_INIT };
	auto race = [&](int k) {
		struct db *db = pgtest_connect(g_tech);
		const char *c[] = { "L-0954" };
		size_t m = 0;
		go++;
		while (go < 2) {
		}
		rc[k] = field_seal_apply(db, a[k].c_str(), c, 1, &m, &e[k]);
		db_close(db);
	};
	std::thread t1(race, 0), t2(race, 1);
	t1.join();
	t2.join();
	EXPECT_EQ(1, (rc[0] == ML_OK) + (rc[1] == ML_OK)) << e[0].msg << " / " << e[1].msg;
	EXPECT_EQ("1", one(g_ci, "SELECT count(*) FROM seal_event e JOIN seal s USING (seal_id) "
				 "WHERE s.code = 'L-0954' AND e.action = 'apply'"));
	db_close(tech);
	/* the CLI */
	std::string out;
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + " --db " + pgtest_sq(tech2) + " seal apply " + a[1] +
					" L-0955",
				&out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("1 seals applied")) << out;
	EXPECT_EQ(5, pgtest_run(pgtest_cli() + " --db " + pgtest_sq(tech2) + " seal apply " + a[1] +
					" L-0955",
				&out, true));
	EXPECT_NE(std::string::npos, out.find("used once")) << out;
}
