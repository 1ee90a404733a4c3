/*
 * Steps committed in groups (result_commit_steps, the runner's writer when
 * the database is behind): one transaction per group, and when a step is
 * refused, exactly what one by one would have stored (real PostgreSQL).
 */
#include <string>
#include <vector>

#include "lab/decimal.h"
#include "lab/result.h"
#include "lab/run_status.h"
#include "runner_fixture.h"

using rfx::one;

namespace
{

const int kSteps = 24; /* more than RESULT_GROUP_MAX */

std::string scheme_text()
{
	std::string s = "scheme code=T-GRP name=\"grouped\"\n"
			"suits kinds=meter_1p classes=1 connection=direct\n";
	for (int i = 0; i < kSteps; i++)
		s += "basic I=Ib pf=1.0 element=H readings=2\n";
	return s;
}

/* One basic step of two positions, two readings each, judged pass as the judge would. */
struct step {
	struct plan_step ps = {};
	struct result_reading rd[4] = {};
	struct result_row rows[2] = {};
};

class ResultCommit : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		ci_ = new std::string(pgtest_fresh_db("result_commit"));
		rfx::add_standard(*ci_, "STD1", "2020-01-01", "2099-12-31");
		rfx::add_bench(*ci_, "GRP1", 0, 2, "STD1");
		rfx::add_scheme(*ci_, scheme_text().c_str());
	}
	static void TearDownTestSuite()
	{
		delete ci_;
	}
	void SetUp() override
	{
		db_ = pgtest_connect(pgtest_as(*ci_, "mlt_tech"));
		dba_ = pgtest_connect(*ci_);
		rfx::exec(dba_, "UPDATE verification_run SET status = 'aborted' WHERE status IN "
				"('pending', 'running', 'interrupted')");
		auto bcs = rfx::seed_assets(dba_, 2, 7000 + 10 * (unsigned long long)serial_++);
		std::vector<struct task_slot> slots(bcs.size());
		for (size_t i = 0; i < bcs.size(); i++) {
			slots[i].position = (int)i + 1;
			snprintf(slots[i].barcode, sizeof(slots[i].barcode), "%s", bcs[i].c_str());
			ids_[i] = std::stoll(
				one(dba_,
				    "SELECT asset_id FROM asset WHERE barcode = '" + bcs[i] + "'"));
		}
		struct task_spec spec = {};
		spec.bench_code = "GRP1";
		spec.scheme_code = "T-GRP";
		spec.manual = 1;
		spec.slots = slots.data();
		spec.nslots = slots.size();
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, task_create(db_, &spec, &run_, &err)) << err.msg;
		enum run_status st = RUN_PENDING;
		ASSERT_EQ(ML_OK, run_status_change(db_, run_, &st, RUN_RUNNING, nullptr, &err))
			<< err.msg;
		steps_.assign(kSteps, step{});
		for (int s = 0; s < kSteps; s++)
			fill(s);
	}
	void TearDown() override
	{
		db_close(db_);
		db_close(dba_);
	}
	void fill(int s)
	{
		struct step &d = steps_[(size_t)s];
		d.ps.index = s;
		d.ps.kind = STEP_BASIC;
		snprintf(d.ps.label, sizeof(d.ps.label), "Ib cos=1.0 H #%d", s + 1);
		int64_t now = result_now_us();
		for (int p = 0; p < 2; p++) {
			int64_t v[2];
			for (int k = 0; k < 2; k++) {
				struct result_reading *x = &d.rd[p * 2 + k];
				*x = {};
				x->asset_id = ids_[p];
				x->position = p + 1;
				x->reading_no = k + 1;
				x->value_e4 = -1700 + 10 * p + k;
				x->pulses = -1;
				x->at_us = now;
				v[k] = x->value_e4;
			}
			struct result_row *r = &d.rows[p];
			r->asset_id = ids_[p];
			r->position = p + 1;
			r->r.index = s;
			r->r.kind = STEP_BASIC;
			r->r.value.n = 2;
			int sign = 0;
			ASSERT_EQ(0, dec4_mean(v, 2, 1000, &r->r.value.mean_e4,
					       &r->r.value.rounded_e4, &sign, nullptr));
			r->r.value.limit_e4 = 10000;
			r->r.value.internal_limit_e4 = 6000;
			r->r.value.interval_e4 = 1000;
			r->r.verdict = r->r.internal_verdict = JUDGE_PASS;
		}
	}
	std::vector<struct result_step> group(int first, int n)
	{
		std::vector<struct result_step> g;
		for (int s = first; s < first + n; s++) {
			struct step &d = steps_[(size_t)s];
			g.push_back({ &d.ps, result_now_us(), d.rd, 4, d.rows, 2 });
		}
		return g;
	}
	std::string q(const std::string &sql_with_run)
	{
		std::string s = sql_with_run;
		for (size_t at; (at = s.find("$RUN")) != std::string::npos;)
			s.replace(at, 4, std::to_string(run_));
		return one(dba_, s);
	}
	static std::string *ci_;
	static int serial_;
	struct db *db_ = nullptr;  /* mlt_tech: runs manual runs */
	struct db *dba_ = nullptr; /* the DBA: fixtures and reading back */
	int64_t run_ = 0, ids_[2] = { 0, 0 };
	std::vector<step> steps_;
};
std::string *ResultCommit::ci_ = nullptr;
int ResultCommit::serial_ = 0;

TEST_F(ResultCommit, AGroupIsOneTransactionAndALargerOneIsSplit)
{
	struct ml_error err = ML_ERROR_INIT;
	size_t done = 99;
	auto g = group(0, 3);
	ASSERT_EQ(ML_OK, result_commit_steps(db_, run_, g.data(), g.size(), &done, &err))
		<< err.msg;
	EXPECT_EQ(3u, done);
	EXPECT_EQ("0,1,2", q("SELECT string_agg(step_no::text, ',' ORDER BY step_no) FROM run_step "
			     "WHERE run_id = $RUN"));
	/* one transaction: one transaction id wrote every mark, and the results share its time */
	EXPECT_EQ("1", q("SELECT count(DISTINCT xmin::text) FROM run_step WHERE run_id = $RUN"));
	EXPECT_EQ("6", q("SELECT count(*) FROM run_step_result WHERE run_id = $RUN"));
	EXPECT_EQ("12", q("SELECT count(*) FROM run_reading WHERE run_id = $RUN"));
	EXPECT_EQ("1",
		  q("SELECT count(DISTINCT measured_at) FROM run_step_result WHERE run_id = $RUN"));

	/* 21 more: RESULT_GROUP_MAX in one transaction, the other 5 in a second */
	static_assert(RESULT_GROUP_MAX == 16, "the counts below assume groups of 16");
	g = group(3, kSteps - 3);
	ASSERT_EQ(ML_OK, result_commit_steps(db_, run_, g.data(), g.size(), &done, &err))
		<< err.msg;
	EXPECT_EQ((size_t)kSteps - 3, done);
	EXPECT_EQ(std::to_string(kSteps), q("SELECT count(*) FROM run_step WHERE run_id = $RUN"));
	EXPECT_EQ("3", q("SELECT count(DISTINCT xmin::text) FROM run_step WHERE run_id = $RUN"));
	EXPECT_EQ("16",
		  q("SELECT count(*) FROM run_step WHERE run_id = $RUN AND step_no BETWEEN 3 "
		    "AND 18 AND xmin::text = (SELECT xmin::text FROM run_step WHERE run_id = $RUN "
		    "AND step_no = 3)"));
	/* one by one (a group of one) still works, and a step stored twice is refused */
	g = group(5, 1);
	EXPECT_EQ(ML_EEXISTS, result_commit_steps(db_, run_, g.data(), 1, &done, &err));
	EXPECT_EQ(0u, done);
	EXPECT_NE(std::string::npos, std::string(err.msg).find("already completed")) << err.msg;
}

/* A forged pass in the middle of a group: the steps before it are stored, it and the rest not. */
TEST_F(ResultCommit, ARefusedStepKeepsThoseBeforeItAndStoresNothingAfterIt)
{
	steps_[3].rows[1].r.value.mean_e4 += 7; /* no longer the mean of its readings */
	struct ml_error err = ML_ERROR_INIT;
	size_t done = 99;
	auto g = group(0, 6);
	EXPECT_EQ(ML_EINVAL, result_commit_steps(db_, run_, g.data(), g.size(), &done, &err));
	EXPECT_EQ(3u, done);
	EXPECT_NE(std::string::npos, std::string(err.msg).find("step 4")) << err.msg;
	EXPECT_NE(std::string::npos, std::string(err.msg).find("position 2")) << err.msg;
	EXPECT_NE(std::string::npos, std::string(err.msg).find("does not follow from the readings"))
		<< err.msg;
	EXPECT_EQ("0,1,2", q("SELECT string_agg(step_no::text, ',' ORDER BY step_no) FROM run_step "
			     "WHERE run_id = $RUN"));
	EXPECT_EQ("6", q("SELECT count(*) FROM run_step_result WHERE run_id = $RUN"));
	EXPECT_EQ("12", q("SELECT count(*) FROM run_reading WHERE run_id = $RUN"));

	/* refused first: nothing stored at all */
	steps_[3].rows[1].r.value.mean_e4 -= 7;
	steps_[4].rows[0].r.value.limit_e4 = 30000; /* wider than the regulation's 1.0 % */
	g = group(4, 5);
	EXPECT_EQ(ML_EINVAL, result_commit_steps(db_, run_, g.data(), g.size(), &done, &err));
	EXPECT_EQ(0u, done);
	EXPECT_NE(std::string::npos, std::string(err.msg).find("step 5")) << err.msg;
	EXPECT_EQ("3", q("SELECT count(*) FROM run_step WHERE run_id = $RUN"));

	/* a step already stored in the middle: those before it are stored, the error is its own */
	steps_[4].rows[0].r.value.limit_e4 = 10000;
	g = group(3, 1);
	auto g2 = group(4, 3);
	g.insert(g.end(), g2.begin(), g2.end());
	g.push_back(group(1, 1)[0]); /* step 2 again */
	g.push_back(group(7, 1)[0]);
	EXPECT_EQ(ML_EEXISTS, result_commit_steps(db_, run_, g.data(), g.size(), &done, &err));
	EXPECT_EQ(4u, done);
	EXPECT_NE(std::string::npos, std::string(err.msg).find("step 2")) << err.msg;
	EXPECT_EQ("0,1,2,3,4,5,6", q("SELECT string_agg(step_no::text, ',' ORDER BY step_no) FROM "
				     "run_step WHERE run_id = $RUN"));
	/* the refusal did not leave the connection in a transaction */
	EXPECT_EQ(PQTRANS_IDLE, PQtransactionStatus(db_conn(db_)));
}

} // namespace
