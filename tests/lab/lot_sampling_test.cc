/*
 * Arrival sampling that decides a lot (issue 14, 0273) against the real
 * PostgreSQL: the recorded draw equals the C draw from the same seed over the
 * lot's barcodes in ascending order; the lot is quarantined (even the schema
 * owner cannot verify or issue its assets) until decided; the verdict comes
 * from the sample's results by Ac/Re and a person confirms it (a differing
 * confirmation is refused); accept releases, reject returns the whole lot to
 * the maker; the switching state is kept per supplier and model.
 *
 * Verification results are set by the DBA (a fixture: runs are tested in
 * runner_test.cc and lot_sampling_run_test.cc): the states, and the runs'
 * overall conclusions the verdict is computed from.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "assets/lifecycle.h"
#include "assets/registry.h"
#include "lab/sampling_draw.h"
#include "lab/sampling_lot.h"

namespace
{

std::string g_ci, g_admin, g_clerk, g_tech, g_qa, g_field;
const char *const kSeed = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

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

int dba(const std::string &sql, std::vector<std::string> params, struct ml_error *err)
{
	struct db *db = pgtest_connect(g_ci);
	std::vector<const char *> p;
	for (auto &s : params)
		p.push_back(s.c_str());
	int rc = db_cmd(db, sql.c_str(), (int)p.size(), p.data(), err);
	db_close(db);
	return rc;
}

/* A lot of n fresh meters (barcodes from serial first, received shuffled). */
std::vector<std::string> lot(const std::string &code, unsigned long long first, int n)
{
	std::vector<std::string> b;
	for (int i = 0; i < n; i++) {
		char out[23];
		struct ml_error e = ML_ERROR_INIT;
		EXPECT_EQ(ML_OK, barcode_make("41300", "01",
					      first + (unsigned long long)(i * 7 % n), out, &e));
		b.push_back(out);
	}
	std::string csv = "barcode,model_code,production_batch,production_date\n";
	for (auto &x : b)
		csv += x + ",M1,B1,2026-09-14\n";
	struct db *db = pgtest_connect(g_clerk);
	struct asset_receive_opts o = {};
	o.lot_code = code.c_str();
	o.supplier = "HX";
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	db_close(db);
	std::sort(b.begin(), b.end());
	return b;
}

std::vector<std::string> draw(const std::string &code, const char *aql, const char *seed)
{
	struct db *db = pgtest_connect(g_tech);
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	std::vector<std::string> out;
	EXPECT_EQ(ML_OK, sampling_lot_draw(db, code.c_str(), "II", aql, seed, &res, &err))
		<< err.msg;
	for (int i = 0; res && i < PQntuples(res); i++)
		out.push_back(PQgetvalue(res, i, 1));
	PQclear(res);
	db_close(db);
	return out;
}

/*
 * The DBA records a run's overall conclusion for an asset (run ids from 900000
 * up, no run rows: replica mode skips the foreign keys), as ml_run_conclude
 * would: the verdict judges the sample (0360).
 */
void conclude(const std::string &barcode, const char *verdict)
{
	static int run = 900000;
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = pgtest_connect(g_ci);
	ASSERT_EQ(ML_OK, db_cmd(db, "SET session_replication_role = replica", 0, nullptr, &err));
	std::string r = std::to_string(run++);
	const char *p[] = { barcode.c_str(), r.c_str(), verdict };
	ASSERT_EQ(ML_OK,
		  db_cmd(db,
			 "INSERT INTO run_conclusion (asset_id, run_id, item, verdict, "
			 "internal_verdict) SELECT asset_id, $2::bigint, 'overall', $3, 'none' "
			 "FROM asset WHERE barcode = $1",
			 3, p, &err))
		<< err.msg;
	db_close(db);
}

/* The DBA sets the sample's verification results: the first `fail` drawn fail. */
void results(const std::vector<std::string> &drawn, size_t fail)
{
	struct ml_error err = ML_ERROR_INIT;
	for (size_t i = 0; i < drawn.size(); i++) {
		conclude(drawn[i], i < fail ? "fail" : "pass");
		ASSERT_EQ(ML_OK, dba("UPDATE asset SET state = 'verifying' WHERE barcode = $1",
				     { drawn[i] }, &err))
			<< err.msg;
		ASSERT_EQ(ML_OK,
			  dba("UPDATE asset SET state = $2, valid_until = current_date + 365 WHERE "
			      "barcode = $1",
			      { drawn[i], i < fail ? "failed" : "in_stock" }, &err))
			<< err.msg;
	}
}

int decide(const std::string &who, const std::string &code, const char *d, struct ml_error *err)
{
	struct db *db = pgtest_connect(who);
	char outcome[32];
	int rc = sampling_lot_decide(db, code.c_str(), d, nullptr, outcome, sizeof outcome, err);
	db_close(db);
	return rc;
}

class LotSampling : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("lotsampling");
		g_admin = pgtest_user(g_ci, "mls_admin", "管理员", "admin");
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
		ASSERT_EQ(ML_OK,
			  asset_location_add(db, "TEAMS", "team", "field_team", nullptr, &err))
			<< err.msg;
		db_close(db);
		g_clerk = pgtest_user(g_ci, "mls_clerk", "库管员", "warehouse_clerk");
		g_tech = pgtest_user(g_ci, "mls_tech", "检定员", "lab_technician");
		g_qa = pgtest_user(g_ci, "mls_qa", "质量员", "quality_analyst");
		g_field = pgtest_user(g_ci, "mls_field", "装接员", "field_member", "TEAMS");
	}
};

} // namespace

TEST_F(LotSampling, TheRecordedDrawIsTheCDrawFromTheSeed)
{
	std::vector<std::string> all = lot("LS-1", 1000, 60);
	std::vector<std::string> drawn = draw("LS-1", "1.0", kSeed);
	/* 60 at level II: letter E, n 13 at AQL 1.0 (Table 2-A: arrow to F? resolved by the
	 * database); whatever the plan, the C draw over the sorted list must agree */
	std::string n = one("SELECT sample_size FROM lot_sampling s JOIN lot l USING (lot_id) "
			    "WHERE l.code = 'LS-1'");
	ASSERT_EQ(std::to_string(drawn.size()), n);
	uint8_t seed[SAMPLING_SEED_LEN];
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, sampling_seed_parse(kSeed, seed, &err));
	std::vector<size_t> idx(drawn.size());
	ASSERT_EQ(ML_OK, sampling_draw(seed, all.size(), idx.size(), idx.data(), &err));
	for (size_t i = 0; i < idx.size(); i++)
		EXPECT_EQ(all[idx[i]], drawn[i]) << "draw " << i;
	EXPECT_EQ(n, one("SELECT count(*) FROM asset a JOIN lot l USING (lot_id) WHERE l.code = "
			 "'LS-1' AND a.state = 'sampling'"));
	EXPECT_EQ(kSeed, one("SELECT encode(seed, 'hex') || '' FROM lot_sampling s JOIN lot l "
			     "USING (lot_id) WHERE l.code = 'LS-1'"));
	EXPECT_EQ("mls_tech", one("SELECT u.login FROM lot_sampling s JOIN app_user u ON "
				  "u.user_id = s.drawn_by"));
	/* once per lot; a field member may not draw */
	struct db *db = pgtest_connect(g_tech);
	PGresult *res = nullptr;
	EXPECT_EQ(ML_ESTATE, sampling_lot_draw(db, "LS-1", "II", "1.0", nullptr, &res, &err));
	db_close(db);
	lot("LS-1b", 2000, 10);
	db = pgtest_connect(g_field);
	EXPECT_EQ(ML_EPERM, sampling_lot_draw(db, "LS-1b", "II", "1.0", nullptr, &res, &err));
	db_close(db);
}

TEST_F(LotSampling, QuarantineHoldsEveryWriterUntilAccepted)
{
	std::vector<std::string> all = lot("LS-2", 3000, 20);
	std::vector<std::string> drawn = draw("LS-2", "1.0", nullptr);
	ASSERT_FALSE(drawn.empty());
	std::string other;
	for (auto &b : all)
		if (std::find(drawn.begin(), drawn.end(), b) == drawn.end())
			other = b;
	ASSERT_FALSE(other.empty());
	struct ml_error err = ML_ERROR_INIT;
	/* the lot's other assets cannot be verified for stock — not even by the owner */
	EXPECT_NE(ML_OK,
		  dba("UPDATE asset SET state = 'verifying' WHERE barcode = $1", { other }, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "LS-2")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "quarantined")) << err.msg;
	/* the drawn ones are verified; a passed one still may not be issued */
	results(drawn, 0);
	struct db *db = pgtest_connect(g_clerk);
	struct asset_move mv = {};
	mv.barcode = drawn[0].c_str();
	mv.action = ASSET_ACT_ISSUE;
	mv.location = "TEAMS";
	EXPECT_EQ(ML_ESTATE, asset_move_one(db, &mv, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "quarantined")) << err.msg;
	db_close(db);
	/* accepted: released */
	ASSERT_EQ(ML_OK, decide(g_qa, "LS-2", "accept", &err)) << err.msg;
	db = pgtest_connect(g_clerk);
	EXPECT_EQ(ML_OK, asset_move_one(db, &mv, &err)) << err.msg;
	db_close(db);
	EXPECT_EQ(ML_OK,
		  dba("UPDATE asset SET state = 'verifying' WHERE barcode = $1", { other }, &err))
		<< err.msg;
}

TEST_F(LotSampling, TheVerdictIsComputedAndAPersonConfirmsIt)
{
	lot("LS-3", 4000, 50);
	std::vector<std::string> drawn = draw("LS-3", "1.0", kSeed);
	std::string ac = one("SELECT ac FROM lot_sampling s JOIN lot l USING (lot_id) WHERE "
			     "l.code = 'LS-3'"),
		    re = one("SELECT re FROM lot_sampling s JOIN lot l USING (lot_id) WHERE "
			     "l.code = 'LS-3'");
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = pgtest_connect(g_tech);
	struct sampling_lot_verdict v;
	ASSERT_EQ(ML_OK, sampling_lot_judge(db, "LS-3", &v, &err)) << err.msg;
	EXPECT_STREQ("", v.verdict) << "nothing verified yet";
	db_close(db);
	EXPECT_EQ(ML_ESTATE, decide(g_qa, "LS-3", "accept", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "cannot be decided yet")) << err.msg;
	/* Re nonconforming: reject, whatever the rest */
	results(drawn, (size_t)std::stoi(re));
	db = pgtest_connect(g_tech);
	ASSERT_EQ(ML_OK, sampling_lot_judge(db, "LS-3", &v, &err)) << err.msg;
	EXPECT_STREQ("reject", v.verdict);
	EXPECT_EQ(std::stoi(re), v.nonconforming);
	db_close(db);
	/* a technician may not confirm; a differing confirmation is refused */
	EXPECT_EQ(ML_EPERM, decide(g_tech, "LS-3", "reject", &err));
	EXPECT_EQ(ML_ESTATE, decide(g_qa, "LS-3", "accept", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "differs")) << err.msg;
	ASSERT_EQ(ML_OK, decide(g_qa, "LS-3", "reject", &err)) << err.msg;
	/* the whole lot went back to the maker: drawn, failed, passed and untouched alike */
	EXPECT_EQ("50", one("SELECT count(*) FROM asset a JOIN lot l USING (lot_id) WHERE "
			    "l.code = 'LS-3' AND a.state = 'returned_to_maker'"));
	EXPECT_EQ("rejected reject mls_qa",
		  one("SELECT status || ' ' || verdict || ' ' || u.login FROM lot_sampling s "
		      "JOIN lot l USING (lot_id) JOIN app_user u ON u.user_id = s.confirmed_by "
		      "WHERE l.code = 'LS-3'"));
	EXPECT_EQ(ML_ESTATE, decide(g_qa, "LS-3", "reject", &err)) << "decided once";
	/* the switching history of HX/M1 recorded the rejection (and LS-2's acceptance) */
	/* clause 9: the last lot of HX/M1 is recorded as not accepted, still normal inspection
	 * (two rejections within five lots tighten it) */
	EXPECT_EQ("1 normal", one("SELECT ((state).history & 1) || ' ' || (state).severity FROM "
				  "sampling_switch WHERE supplier = 'HX'"));
	(void)ac;
}

TEST_F(LotSampling, NoLoginWritesTheSamplingTables)
{
	const char *attacks[] = {
		"UPDATE lot_sampling SET status = 'accepted'",
		"DELETE FROM lot_sample_item",
		"INSERT INTO sampling_switch (supplier, model_id, state) SELECT 'X', model_id, "
		"ROW('reduced', false, 0, 0, 0, 0)::ml_switch_state FROM device_model LIMIT 1",
	};
	struct ml_error err = ML_ERROR_INIT;
	for (const std::string &who : { g_admin, g_clerk, g_tech, g_qa }) {
		struct db *db = pgtest_connect(who);
		for (const char *sql : attacks)
			EXPECT_EQ(ML_EPERM, db_cmd(db, sql, 0, nullptr, &err))
				<< who << ": " << sql;
		db_close(db);
	}
}

/*
 * The verdict comes from the sample's own verifications (0360), not from the
 * states the drawn assets are in: a drawn meter cannot be handed back
 * untested to count as judged, and a failed one still counts as
 * nonconforming once it is scrapped.
 */
TEST_F(LotSampling, TheSampleIsJudgedByItsVerificationsNotByStates)
{
	lot("LS-4", 5000, 50);
	std::vector<std::string> drawn = draw("LS-4", "1.0", kSeed);
	ASSERT_FALSE(drawn.empty());
	struct ml_error err = ML_ERROR_INIT;
	/* handing a drawn meter back to 'arrived' is refused, by any writer */
	struct db *db = pgtest_connect(g_tech);
	struct asset_move mv = {};
	mv.barcode = drawn[0].c_str();
	mv.action = ASSET_ACT_SAMPLE_RETURN;
	EXPECT_EQ(ML_ESTATE, asset_move_one(db, &mv, &err));
	EXPECT_NE(nullptr, strstr(err.msg, drawn[0].c_str())) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "drawn")) << err.msg;
	db_close(db);
	EXPECT_NE(ML_OK,
		  dba("UPDATE asset SET state = 'arrived' WHERE barcode = $1", { drawn[0] }, &err));
	/* a state that looks judged, without a verification, judges nothing */
	for (auto &b : drawn)
		ASSERT_EQ(ML_OK, dba("UPDATE asset SET state = 'verifying' WHERE barcode = $1",
				     { b }, &err))
			<< err.msg;
	for (auto &b : drawn)
		ASSERT_EQ(
			ML_OK,
			dba("UPDATE asset SET state = 'in_stock', valid_until = current_date + 365 "
			    "WHERE barcode = $1",
			    { b }, &err))
			<< err.msg;
	struct sampling_lot_verdict v;
	db = pgtest_connect(g_tech);
	ASSERT_EQ(ML_OK, sampling_lot_judge(db, "LS-4", &v, &err)) << err.msg;
	EXPECT_STREQ("", v.verdict);
	EXPECT_EQ(0, v.judged);
	db_close(db);
	EXPECT_EQ(ML_ESTATE, decide(g_qa, "LS-4", "accept", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "0 of")) << err.msg;
	/* Re of them fail (and are scrapped at once): still nonconforming */
	std::string re = one("SELECT re FROM lot_sampling s JOIN lot l USING (lot_id) WHERE "
			     "l.code = 'LS-4'");
	for (size_t i = 0; i < drawn.size(); i++)
		conclude(drawn[i], i < (size_t)std::stoi(re) ? "fail" : "pass");
	for (size_t i = 0; i < (size_t)std::stoi(re); i++)
		ASSERT_EQ(ML_OK, dba("UPDATE asset SET state = 'scrapped' WHERE barcode = $1",
				     { drawn[i] }, &err))
			<< err.msg;
	db = pgtest_connect(g_tech);
	ASSERT_EQ(ML_OK, sampling_lot_judge(db, "LS-4", &v, &err)) << err.msg;
	EXPECT_STREQ("reject", v.verdict);
	EXPECT_EQ(std::stoi(re), v.nonconforming);
	EXPECT_EQ((int)drawn.size(), v.judged);
	db_close(db);
	EXPECT_EQ(ML_ESTATE, decide(g_qa, "LS-4", "accept", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "differs")) << err.msg;
}

/*
 * During quarantine only the drawn meters are verified, and a drawn meter
 * whose run was abandoned can be verified again (0360): before, any meter of
 * the lot moved to 'sampling' by hand went on to verification for stock, and
 * an abandoned sample meter held the lot undecidable for good.
 */
TEST_F(LotSampling, OnlyTheDrawnMetersAreVerifiedAndCanBeVerifiedAgain)
{
	std::vector<std::string> all = lot("LS-5", 6000, 20);
	std::vector<std::string> drawn = draw("LS-5", "1.0", nullptr);
	ASSERT_FALSE(drawn.empty());
	std::string other;
	for (auto &b : all)
		if (std::find(drawn.begin(), drawn.end(), b) == drawn.end())
			other = b;
	ASSERT_FALSE(other.empty());
	struct ml_error err = ML_ERROR_INIT;
	/* a meter of the lot moved to 'sampling' by hand is not in the sample */
	struct db *db = pgtest_connect(g_tech);
	struct asset_move mv = {};
	mv.barcode = other.c_str();
	mv.action = ASSET_ACT_SAMPLE;
	ASSERT_EQ(ML_OK, asset_move_one(db, &mv, &err)) << err.msg;
	db_close(db);
	EXPECT_NE(ML_OK,
		  dba("UPDATE asset SET state = 'verifying' WHERE barcode = $1", { other }, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "quarantined")) << err.msg;
	/* and it may go back: it was never drawn */
	db = pgtest_connect(g_tech);
	mv.action = ASSET_ACT_SAMPLE_RETURN;
	EXPECT_EQ(ML_OK, asset_move_one(db, &mv, &err)) << err.msg;
	db_close(db);
	/* a drawn meter's run abandoned (reverify): it is verified again */
	ASSERT_EQ(ML_OK, dba("UPDATE asset SET state = 'verifying' WHERE barcode = $1",
			     { drawn[0] }, &err))
		<< err.msg;
	ASSERT_EQ(ML_OK,
		  dba("UPDATE asset SET state = 'reverify' WHERE barcode = $1", { drawn[0] }, &err))
		<< err.msg;
	EXPECT_EQ(ML_OK, dba("UPDATE asset SET state = 'verifying' WHERE barcode = $1",
			     { drawn[0] }, &err))
		<< err.msg;
}
