/*
 * Arrival sampling end to end on the bench simulator (issue 14): a delivery
 * received by the clerk, its sample drawn (recorded seed), the drawn meters
 * verified over Modbus TCP by the real runner, the lot judged by Ac/Re from
 * those results and the verdict confirmed by the quality analyst. Accept:
 * the rest of the lot leaves quarantine and can be verified. Reject: the
 * whole lot goes back to the maker. Between draw and decision the lot's
 * other meters cannot be put on a bench (the quarantine names the lot).
 */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "assets/registry.h"
#include "lab/sampling_lot.h"
#include "runner_fixture.h"

namespace
{

const char *const kSeed = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";
/* One basic-error point: enough to tell a good meter from a bad one. */
const char *const kScheme = "scheme code=T-LOT name=\"lot sample\"\n"
			    "suits kinds=meter_1p classes=1 connection=direct\n"
			    "basic I=Ib pf=1.0 element=H readings=2\n";

class LotSamplingRun : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		ci_ = pgtest_fresh_db("lotsamplingrun");
		rfx::add_standard(ci_, "STD1", "2020-01-01", "2099-12-31");
		rfx::add_scheme(ci_, kScheme);
		clerk_ = pgtest_user(ci_, "mlr_clerk", "库管员", "warehouse_clerk");
		qa_ = pgtest_user(ci_, "mlr_qa", "质量员", "quality_analyst");
		struct db *dba = pgtest_connect(ci_);
		rfx::seed_assets(dba, 1, 1); /* the catalogue: maker HX, model DDZY285-Z */
		db_close(dba);
	}
	void TearDown() override
	{
		if (sim_)
			benchsim_stop(sim_);
	}
	/* A delivery of n meters from the clerk (supplier HX). */
	std::vector<std::string> receive(const std::string &lot, unsigned long long first, int n)
	{
		std::vector<std::string> b;
		std::string csv = "barcode,model_code,production_batch,production_date\n";
		for (int i = 0; i < n; i++) {
			char bc[23];
			struct ml_error e = ML_ERROR_INIT;
			EXPECT_EQ(ML_OK, barcode_make("41300", "01", first + (unsigned long long)i,
						      bc, &e));
			b.push_back(bc);
			csv += std::string(bc) + ",DDZY285-Z,B1,2026-09-14\n";
		}
		struct db *db = pgtest_connect(clerk_);
		struct asset_receive_opts o = {};
		o.lot_code = lot.c_str();
		o.supplier = "HX";
		struct asset_import_report rep;
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err))
			<< err.msg;
		asset_import_report_free(&rep);
		db_close(db);
		return b;
	}
	std::vector<std::string> draw(const std::string &lot, const char *aql)
	{
		struct db *db = pgtest_connect(rfx::person(ci_, "mlt_tech"));
		PGresult *res = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		std::vector<std::string> out;
		EXPECT_EQ(ML_OK, sampling_lot_draw(db, lot.c_str(), "II", aql, kSeed, &res, &err))
			<< err.msg;
		for (int i = 0; res && i < PQntuples(res); i++)
			out.push_back(PQgetvalue(res, i, 1));
		PQclear(res);
		db_close(db);
		return out;
	}
	/* The drawn meters on bench code (a simulator with `extra` faults), verified. */
	struct runner_outcome verify(const char *bench, const std::string &extra,
				     const std::vector<std::string> &bcs)
	{
		std::string sc =
			"kind meter\npositions 24\n[1-24]\nconstant 1200\nib 5\nerror 0.05\n" +
			extra;
		sim_ = rfx::start_sim(sc, 5000);
		EXPECT_NE(nullptr, sim_);
		rfx::add_bench(ci_, bench, sim_ ? benchsim_port(sim_) : 1, 24, "STD1");
		struct db *tech = pgtest_connect(rfx::person(ci_, "mlt_tech"));
		int64_t run = rfx::create_task(tech, bench, "T-LOT", bcs);
		db_close(tech);
		struct runner_options o = rfx::fast_options();
		struct runner_outcome out = {};
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_OK,
			  runner_execute(rfx::person(ci_, "mlt_tech").c_str(), run, &o, &out, &err))
			<< err.msg;
		return out;
	}
	struct sampling_lot_verdict judge(const std::string &lot)
	{
		struct db *db = pgtest_connect(rfx::person(ci_, "mlt_tech"));
		struct sampling_lot_verdict v = {};
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_OK, sampling_lot_judge(db, lot.c_str(), &v, &err)) << err.msg;
		db_close(db);
		return v;
	}
	int decide(const std::string &lot, const char *d, struct ml_error *err)
	{
		struct db *db = pgtest_connect(qa_);
		char outcome[32];
		int rc = sampling_lot_decide(db, lot.c_str(), d, "抽检判定", outcome,
					     sizeof outcome, err);
		db_close(db);
		return rc;
	}
	std::string one(const std::string &sql)
	{
		struct db *db = pgtest_connect(ci_);
		std::string v = rfx::one(db, sql);
		db_close(db);
		return v;
	}
	static std::string ci_, clerk_, qa_;
	struct benchsim *sim_ = nullptr;
};
std::string LotSamplingRun::ci_, LotSamplingRun::clerk_, LotSamplingRun::qa_;

bool drawn_has(const std::vector<std::string> &d, const std::string &b)
{
	for (auto &x : d)
		if (x == b)
			return true;
	return false;
}

TEST_F(LotSamplingRun, AGoodSampleAcceptsTheLotAndReleasesTheRest)
{
	std::vector<std::string> all = receive("LR-ACC", 710000, 40);
	std::vector<std::string> drawn = draw("LR-ACC", "6.5");
	ASSERT_GE(drawn.size(), 2u);
	ASSERT_LE(drawn.size(), 24u);
	std::string other;
	for (auto &b : all)
		if (!drawn_has(drawn, b)) {
			other = b;
			break;
		}
	struct runner_outcome out = verify("LB-ACC", "", drawn);
	EXPECT_STREQ("finished", out.status);
	EXPECT_EQ((int)drawn.size(), out.passed);
	/* quarantined until decided: an undrawn meter of the lot cannot go on the bench */
	{
		struct db *tech = pgtest_connect(rfx::person(ci_, "mlt_tech"));
		struct ml_error qe = ML_ERROR_INIT;
		EXPECT_EQ(0, rfx::create_task(tech, "LB-ACC", "T-LOT", { other }, 1, &qe));
		EXPECT_NE(nullptr, strstr(qe.msg, "LR-ACC")) << qe.msg;
		db_close(tech);
	}
	EXPECT_EQ("arrived", one("SELECT state FROM asset WHERE barcode = '" + other + "'"));
	struct sampling_lot_verdict v = judge("LR-ACC");
	EXPECT_STREQ("accept", v.verdict);
	EXPECT_EQ(0, v.nonconforming);
	EXPECT_EQ((int)drawn.size(), v.judged);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, decide("LR-ACC", "accept", &err)) << err.msg;
	EXPECT_EQ("accepted mlr_qa",
		  one("SELECT s.status || ' ' || u.login FROM lot_sampling s JOIN lot l USING "
		      "(lot_id) JOIN app_user u ON u.user_id = s.confirmed_by WHERE l.code = "
		      "'LR-ACC'"));
	/* released: the rest of the lot can now be verified */
	struct db *tech = pgtest_connect(rfx::person(ci_, "mlt_tech"));
	int64_t run = rfx::create_task(tech, "LB-ACC", "T-LOT", { other });
	EXPECT_GT(run, 0);
	db_close(tech);
	EXPECT_EQ("verifying", one("SELECT state FROM asset WHERE barcode = '" + other + "'"));
}

TEST_F(LotSamplingRun, ABadSampleRejectsTheLotAndReturnsAllOfIt)
{
	std::vector<std::string> all = receive("LR-REJ", 720000, 40);
	std::vector<std::string> drawn = draw("LR-REJ", "6.5");
	ASSERT_GE(drawn.size(), 3u);
	std::string re = one("SELECT s.re FROM lot_sampling s JOIN lot l USING (lot_id) WHERE "
			     "l.code = 'LR-REJ'");
	int nre = std::stoi(re);
	ASSERT_LE((size_t)nre, drawn.size());
	/* the first Re positions run fast by 1.5 %: beyond class 1's ±1.0 % at Ib */
	std::string faults;
	for (int p = 1; p <= nre; p++)
		faults += "[" + std::to_string(p) + "]\nerror 1.5\n";
	struct runner_outcome out = verify("LB-REJ", faults, drawn);
	EXPECT_STREQ("finished", out.status);
	EXPECT_EQ(nre, out.failed);
	struct sampling_lot_verdict v = judge("LR-REJ");
	EXPECT_STREQ("reject", v.verdict);
	EXPECT_EQ(nre, v.nonconforming);
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE, decide("LR-REJ", "accept", &err)) << "the person confirms the verdict";
	ASSERT_EQ(ML_OK, decide("LR-REJ", "reject", &err)) << err.msg;
	EXPECT_EQ(std::to_string(all.size()),
		  one("SELECT count(*) FROM asset a JOIN lot l USING (lot_id) WHERE l.code = "
		      "'LR-REJ' AND a.state = 'returned_to_maker'"));
}

/* A draw that names no level or AQL takes the settings of the lot's kind of
 * device (0276): level II and AQL 1.0 for meters by default, and what the
 * approver sets. */
TEST_F(LotSamplingRun, ADrawWithoutLevelOrAqlTakesTheKindsSettings)
{
	receive("LR-DEF1", 740000, 40);
	struct db *tech = pgtest_connect(rfx::person(ci_, "mlt_tech"));
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, sampling_lot_draw(tech, "LR-DEF1", nullptr, nullptr, kSeed, &res, &err))
		<< err.msg;
	PQclear(res);
	/* lot of 40, level II: letter D; AQL 1.0: arrow down to E, n 13, Ac 0 */
	EXPECT_EQ("II 1.0 13 0",
		  one("SELECT s.level || ' ' || s.aql || ' ' || s.sample_size || ' ' "
		      "|| s.ac FROM lot_sampling s JOIN lot l USING (lot_id) WHERE "
		      "l.code = 'LR-DEF1'"));
	rfx::set_rule(ci_, "sampling.aql.meter", "6.5");
	rfx::set_rule(ci_, "sampling.level.meter", "1");
	receive("LR-DEF2", 750000, 40);
	ASSERT_EQ(ML_OK, sampling_lot_draw(tech, "LR-DEF2", nullptr, nullptr, kSeed, &res, &err))
		<< err.msg;
	PQclear(res);
	std::string got = one("SELECT s.level || ' ' || s.aql FROM lot_sampling s JOIN lot l USING "
			      "(lot_id) WHERE l.code = 'LR-DEF2'");
	EXPECT_EQ("I 6.5", got);
	/* a level and AQL named in the draw win over the settings */
	receive("LR-DEF3", 760000, 40);
	ASSERT_EQ(ML_OK, sampling_lot_draw(tech, "LR-DEF3", "III", "0.65", kSeed, &res, &err))
		<< err.msg;
	PQclear(res);
	EXPECT_EQ("III 0.65", one("SELECT s.level || ' ' || s.aql FROM lot_sampling s JOIN lot l "
				  "USING (lot_id) WHERE l.code = 'LR-DEF3'"));
	rfx::set_rule(ci_, "sampling.aql.meter", "1.0");
	rfx::set_rule(ci_, "sampling.level.meter", "2");
	db_close(tech);
}

/* With sampling.required (0275), a lot that was never sampled cannot be
 * verified for stock: the refusal names the lot and what to do; once its
 * sample accepted it, it can. Without the setting it can (the default). */
TEST_F(LotSamplingRun, WhenSamplingIsRequiredAnUnsampledLotWaits)
{
	rfx::add_bench(ci_, "LB-REQ", 1, 24, "STD1");
	std::vector<std::string> lotb = receive("LR-REQ", 730000, 20);
	rfx::set_rule(ci_, "sampling.required", "yes");
	struct db *tech = pgtest_connect(rfx::person(ci_, "mlt_tech"));
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(0, rfx::create_task(tech, "LB-REQ", "T-LOT", { lotb[0] }, 1, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "LR-REQ")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "not drawn")) << err.msg;
	EXPECT_EQ("arrived", one("SELECT state FROM asset WHERE barcode = '" + lotb[0] + "'"));
	/* even the superuser's own update is held: the rule is a trigger */
	{
		struct db *dba = pgtest_connect(ci_);
		const char *p[1] = { lotb[0].c_str() };
		struct ml_error e2 = ML_ERROR_INIT;
		EXPECT_EQ(ML_ESTATE,
			  db_cmd(dba, "UPDATE asset SET state = 'verifying' WHERE barcode = $1", 1,
				 p, &e2));
		EXPECT_NE(nullptr, strstr(e2.msg, "not drawn")) << e2.msg;
		db_close(dba);
	}
	rfx::set_rule(ci_, "sampling.required", "no");
	int64_t run = rfx::create_task(tech, "LB-REQ", "T-LOT", { lotb[0] });
	EXPECT_GT(run, 0) << "without the setting, the lot goes on the bench";
	db_close(tech);
}

} // namespace
