/* Manual verification: typed-in readings judged and stored like a driven run (real PostgreSQL). */
#include <string>
#include <vector>

#include "lab/manual.h"
#include "runner_fixture.h"

using rfx::one;

namespace
{

const char *const kScheme = "scheme code=T-MAN name=\"manual\"\n"
			    "suits kinds=meter_1p classes=1 connection=direct\n"
			    "creep\n"
			    "basic I=Ib pf=1.0 element=H readings=2\n"
			    "basic I=Imax pf=1.0 element=H readings=2\n";

class ManualTest : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		ci_ = new std::string(pgtest_fresh_db("manual"));
		rfx::add_standard(*ci_, "STD1", "2020-01-01", "2099-12-31");
		rfx::add_bench(*ci_, "MAN1", 0, 24, "STD1");
		rfx::add_scheme(*ci_, kScheme);
	}
	static void TearDownTestSuite()
	{
		delete ci_;
	}
	void SetUp() override
	{
		db_ = pgtest_connect(pgtest_as(*ci_, "mlt_tech"));
		dba_ = pgtest_connect(*ci_);
		/* one unfinished run per bench: end what the previous test left */
		rfx::exec(dba_, "UPDATE verification_run SET status = 'aborted' WHERE status IN "
				"('pending', 'running', 'interrupted')");
	}
	void TearDown() override
	{
		db_close(db_);
		db_close(dba_);
	}
	int64_t task(const std::vector<std::string> &bcs)
	{
		std::vector<struct task_slot> slots(bcs.size());
		for (size_t i = 0; i < bcs.size(); i++) {
			slots[i].position = (int)i + 1;
			snprintf(slots[i].barcode, sizeof(slots[i].barcode), "%s", bcs[i].c_str());
		}
		struct task_spec spec = {};
		spec.bench_code = "MAN1";
		spec.scheme_code = "T-MAN";
		spec.manual = 1;
		spec.slots = slots.data();
		spec.nslots = slots.size();
		struct ml_error err = ML_ERROR_INIT;
		int64_t id = 0;
		EXPECT_EQ(ML_OK, task_create(db_, &spec, &id, &err)) << err.msg;
		return id;
	}
	static std::string *ci_;
	struct db *db_ = nullptr;  /* mlt_tech */
	struct db *dba_ = nullptr; /* the DBA: fixtures */
};
std::string *ManualTest::ci_ = nullptr;

TEST_F(ManualTest, TypedReadingsAreJudgedStoredAndAssetsMoved)
{
	auto bcs = rfx::seed_assets(dba_, 2, 5000);
	int64_t run = task(bcs);
	const char *text = "# position, step, readings\n"
			   "1, 1, pulses=0, elapsed=2300\n"
			   "1, 2, -0.12, -0.10\n"
			   "1, 3, 0.05, 0.07\n"
			   "2, 1, pulses=0, elapsed=2300\n"
			   "2, 2, 1.30, 1.42\n"
			   "2, 3, 0.1, 0.1\n";
	int passed = -1, failed = -1;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, manual_record(db_, run, text, &passed, &failed, &err)) << err.msg;
	EXPECT_EQ(1, passed);
	EXPECT_EQ(1, failed);
	std::string r = std::to_string(run);
	EXPECT_EQ("in_stock", one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs[0] + "'"));
	EXPECT_EQ("failed", one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs[1] + "'"));
	EXPECT_EQ("finished", one(db_, "SELECT status FROM verification_run WHERE run_id = " + r));
	EXPECT_EQ("10", one(db_, "SELECT count(*) FROM run_reading WHERE run_id = " + r));
	/* the typed values are stored exactly (dec4), and judged with the regulation's rounding */
	EXPECT_EQ("-1200,-1000",
		  one(db_,
		      "SELECT string_agg(value_e4::text, ',' ORDER BY reading_no) FROM run_reading "
		      "WHERE run_id = " +
			      r + " AND step_no = 1 AND position = 1"));
	EXPECT_EQ("-1100", one(db_, "SELECT mean_e4 FROM run_step_result WHERE run_id = " + r +
					    " AND step_no = 1 AND position = 1"));
	EXPECT_EQ(
		"fail",
		one(db_, "SELECT verdict FROM run_conclusion c JOIN asset a USING (asset_id) WHERE "
			 "run_id = " +
				 r + " AND item = 'basic' AND a.barcode = '" + bcs[1] + "'"));
}

TEST_F(ManualTest, BadInputStoresNothing)
{
	auto bcs = rfx::seed_assets(dba_, 2, 6000);
	int64_t run = task(bcs);
	std::string r = std::to_string(run);
	struct ml_error err = ML_ERROR_INIT;
	/* position 2 lacks step 3 */
	EXPECT_EQ(ML_EINVAL,
		  manual_record(db_, run,
				"1, 1, pulses=0, elapsed=2300\n1, 2, 0.1, 0.1\n1, 3, 0.1, 0.1\n"
				"2, 1, pulses=0, elapsed=2300\n2, 2, 0.1, 0.1\n",
				nullptr, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "position 2: no readings for step 3")) << err.msg;
	/* a malformed value names the line */
	EXPECT_EQ(ML_EINVAL,
		  manual_record(db_, run, "1, 1, pulses=0, elapsed=2300\n1, 2, 0.1, abc\n", nullptr,
				nullptr, &err));
	/* a position without an asset */
	EXPECT_EQ(ML_EINVAL, manual_record(db_, run, "9, 1, pulses=0, elapsed=2300\n", nullptr,
					   nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "position 9 has no asset")) << err.msg;
	EXPECT_EQ("0", one(db_, "SELECT count(*) FROM run_reading WHERE run_id = " + r));
	EXPECT_EQ("0", one(db_, "SELECT count(*) FROM run_step WHERE run_id = " + r));
	EXPECT_EQ("verifying",
		  one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs[0] + "'"));
}

/* Starting the runner on a manual run is refused and leaves the run open for its typed readings. */
TEST_F(ManualTest, RunnerRefusesAManualRunAndLeavesItRecordable)
{
	auto bcs = rfx::seed_assets(dba_, 1, 6700);
	int64_t run = task(bcs);
	std::string r = std::to_string(run);
	struct runner_options o = rfx::fast_options();
	struct runner_outcome out;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE,
		  runner_execute(pgtest_as(*ci_, "mlt_tech").c_str(), run, &o, &out, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "manual run")) << err.msg;
	EXPECT_EQ("pending", one(db_, "SELECT status FROM verification_run WHERE run_id = " + r));
	EXPECT_EQ(ML_OK,
		  manual_record(db_, run,
				"1, 1, pulses=0, elapsed=2300\n1, 2, 0.1, 0.1\n1, 3, 0.1, 0.1\n",
				nullptr, nullptr, &err))
		<< err.msg;
	EXPECT_EQ("finished", one(db_, "SELECT status FROM verification_run WHERE run_id = " + r));
}

/*
 * A typed line is never cut or wrapped into another position: a line longer
 * than the reader's buffer used to be truncated silently (here "0.15" became
 * "0.1" and was stored), and a position beyond int range wrapped (2^32 + 1
 * recorded readings for position 1).
 */
TEST_F(ManualTest, LongLineOrHugePositionIsRefusedNotTruncatedOrWrapped)
{
	auto bcs = rfx::seed_assets(dba_, 1, 6500);
	int64_t run = task(bcs);
	std::string r = std::to_string(run);
	struct ml_error err = ML_ERROR_INIT;
	std::string longline = "1, 2, 0.1, " + std::string(1009, ' ') + "0.15\n";
	std::string text = "1, 1, pulses=0, elapsed=2300\n" + longline + "1, 3, 0.1, 0.1\n";
	EXPECT_EQ(ML_EINVAL, manual_record(db_, run, text.c_str(), nullptr, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "line 2")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "too long")) << err.msg;
	EXPECT_EQ(ML_EINVAL,
		  manual_record(
			  db_, run,
			  "4294967297, 1, pulses=0, elapsed=2300\n1, 2, 0.1, 0.1\n1, 3, 0.1, 0.1\n",
			  nullptr, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "position 4294967297 has no asset")) << err.msg;
	EXPECT_EQ("0", one(db_, "SELECT count(*) FROM run_reading WHERE run_id = " + r));
	EXPECT_EQ("verifying",
		  one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs[0] + "'"));
}

/*
 * A CT whose ratio error passes but whose phase displacement fails: the
 * per-item conclusions (printed on the certificate as 比值差 / 相位差) say
 * ratio pass, phase fail; the overall verdict fails. Before 0032 the ratio
 * item took the step's combined verdict and read "fail".
 */
TEST_F(ManualTest, TransformerRatioAndPhaseItemsAreJudgedSeparately)
{
	rfx::exec(
		dba_,
		"INSERT INTO manufacturer (code, name) VALUES ('HXCT', 'CT maker') ON CONFLICT DO NOTHING");
	rfx::exec(
		dba_,
		"INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, ct_primary_a, "
		"ct_secondary_a, rated_burden_va, verification_period_months) SELECT 'LMZ-CT', manufacturer_id, "
		"'current transformer', 'ct', '0.2S', 100, 5, 10, 24 FROM manufacturer WHERE code = 'HXCT'");
	rfx::exec(
		dba_,
		"INSERT INTO lot (code, model_id, received_by, file_sha256, row_count) SELECT 'LOT-CT', model_id, "
		"'test', encode(sha256('LOT-CT'), 'hex'), 2 FROM device_model WHERE code = 'LMZ-CT'");
	std::vector<std::string> bcs;
	for (unsigned long long i = 0; i < 2; i++) {
		char bc[23];
		struct ml_error e = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, barcode_make("41300", "01", 8800 + i, bc, &e)) << e.msg;
		bcs.push_back(bc);
		rfx::exec(
			dba_,
			std::string(
				"INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date) "
				"SELECT '") +
				bc +
				"', m.model_id, l.lot_id, 'B1', date '2026-09-01' FROM "
				"device_model m, lot l WHERE m.code = 'LMZ-CT' AND l.code = 'LOT-CT'");
	}
	struct ml_error err = ML_ERROR_INIT;
	rfx::add_bench(*ci_, "MANCT", 0, 4, "STD1", "transformer");
	rfx::add_scheme(*ci_,
			"scheme code=T-MANCT name=\"manual ct\"\nsuits kinds=ct classes=0.2S\n"
			"ct percent=100 burden=100\n");
	std::vector<struct task_slot> slots(2);
	for (size_t i = 0; i < 2; i++) {
		slots[i].position = (int)i + 1;
		snprintf(slots[i].barcode, sizeof(slots[i].barcode), "%s", bcs[i].c_str());
	}
	struct task_spec spec = {};
	spec.bench_code = "MANCT";
	spec.scheme_code = "T-MANCT";
	spec.manual = 1;
	spec.slots = slots.data();
	spec.nslots = slots.size();
	int64_t run = 0;
	ASSERT_EQ(ML_OK, task_create(db_, &spec, &run, &err)) << err.msg;
	/* 0.2S at 100 %: ±0.2 % and ±10′. Position 1 within both; position 2 ratio 0.10 %, phase 15′. */
	int passed = -1, failed = -1;
	ASSERT_EQ(ML_OK,
		  manual_record(db_, run, "1, 1, 0.05/3\n2, 1, 0.10/15\n", &passed, &failed, &err))
		<< err.msg;
	EXPECT_EQ(1, passed);
	EXPECT_EQ(1, failed);
	auto item = [&](const std::string &bc, const char *it) {
		return one(
			db_,
			"SELECT verdict FROM run_conclusion c JOIN asset a USING (asset_id) WHERE run_id = " +
				std::to_string(run) + " AND a.barcode = '" + bc + "' AND item = '" +
				it + "'");
	};
	EXPECT_EQ("pass", item(bcs[0], "ratio"));
	EXPECT_EQ("pass", item(bcs[0], "phase"));
	EXPECT_EQ("pass", item(bcs[1], "ratio"));
	EXPECT_EQ("fail", item(bcs[1], "phase"));
	EXPECT_EQ("fail", item(bcs[1], "overall"));
}

} // namespace

/*
 * Manual verification enforces every measurement the scheme requires (issue
 * 8): a step with fewer readings than the scheme's count, a creep test with
 * no (or too short an) elapsed time, a start without the time of its pulse.
 */
TEST_F(ManualTest, EveryRequiredMeasurementIsEnforced)
{
	auto bcs = rfx::seed_assets(dba_, 1, 6900);
	int64_t run = task(bcs);
	std::string r = std::to_string(run);
	struct ml_error err = ML_ERROR_INIT;
	/* one reading where the scheme needs two */
	EXPECT_EQ(ML_EINVAL,
		  manual_record(db_, run,
				"1, 1, pulses=0, elapsed=2300\n1, 2, 0.1\n1, 3, 0.1, 0.1\n",
				nullptr, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "needs 2 readings")) << err.msg;
	/* creep with 0 pulses and no elapsed time */
	EXPECT_EQ(ML_EINVAL,
		  manual_record(db_, run, "1, 1, pulses=0\n1, 2, 0.1, 0.1\n1, 3, 0.1, 0.1\n",
				nullptr, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "no elapsed time")) << err.msg;
	/* creep watched for a minute of its 37.9 minutes */
	EXPECT_EQ(ML_EINVAL,
		  manual_record(db_, run,
				"1, 1, pulses=0, elapsed=60\n1, 2, 0.1, 0.1\n1, 3, 0.1, 0.1\n",
				nullptr, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "too short")) << err.msg;
	EXPECT_EQ("0", one(db_, "SELECT count(*) FROM run_step WHERE run_id = " + r));
	EXPECT_EQ("pending", one(db_, "SELECT status FROM verification_run WHERE run_id = " + r));
	EXPECT_EQ("verifying",
		  one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs[0] + "'"));
	/* a creeping meter fails without a time: it already moved */
	int passed = -1, failed = -1;
	ASSERT_EQ(ML_OK, manual_record(db_, run, "1, 1, pulses=3\n1, 2, 0.1, 0.1\n1, 3, 0.1, 0.1\n",
				       &passed, &failed, &err))
		<< err.msg;
	EXPECT_EQ(0, passed);
	EXPECT_EQ(1, failed);
}
