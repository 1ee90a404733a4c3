/* Task validation and refusals, position maps, and the standards registry (real PostgreSQL). */
#include <string>
#include <vector>

#include "runner_fixture.h"

using rfx::one;

namespace
{

const char *const kScheme = "scheme code=T-TASK name=\"task test\"\n"
			    "suits kinds=meter_1p classes=1 connection=direct\n"
			    "basic I=Ib pf=1.0 element=H readings=2\n";

class TaskTest : public ::testing::Test
{
      protected:
	/* One database for the suite (creating one costs seconds); each test uses its own assets. */
	static void SetUpTestSuite()
	{
		ci_ = new std::string(pgtest_fresh_db("task"));
		rfx::add_standard(*ci_, "STD1", "2026-01-01", "2099-12-31");
		rfx::add_bench(*ci_, "B1", 1502, 24, "STD1");
		rfx::add_scheme(*ci_, kScheme);
	}
	static void TearDownTestSuite()
	{
		delete ci_;
	}
	void SetUp() override
	{
		static int serial = 1000;
		db_ = pgtest_connect(pgtest_as(*ci_, "mlt_tech"));
		dba_ = pgtest_connect(*ci_);
		serial += 100;
		bcs_ = rfx::seed_assets(dba_, 4, (unsigned long long)serial);
		/* one unfinished run per bench: end what the previous test left on B1 */
		rfx::exec(dba_, "UPDATE verification_run SET status = 'aborted' WHERE status IN "
				"('pending', 'running', 'interrupted')");
	}
	void TearDown() override
	{
		db_close(db_);
		db_close(dba_);
	}
	int create(const std::vector<std::pair<int, std::string>> &map, const char *date,
		   struct ml_error *err, int64_t *id = nullptr, const char *bench = "B1")
	{
		std::vector<struct task_slot> slots(map.size());
		for (size_t i = 0; i < map.size(); i++) {
			slots[i].position = map[i].first;
			snprintf(slots[i].barcode, sizeof(slots[i].barcode), "%s",
				 map[i].second.c_str());
		}
		struct task_spec spec = {};
		spec.bench_code = bench;
		spec.scheme_code = "T-TASK";
		spec.date = date;
		spec.slots = slots.data();
		spec.nslots = slots.size();
		int64_t tmp = 0;
		return task_create(db_, &spec, id ? id : &tmp, err);
	}
	/* Runs holding any of this test's assets. */
	std::string runs()
	{
		std::string in;
		for (auto &b : bcs_)
			in += std::string(in.empty() ? "'" : ",'") + b + "'";
		return one(db_,
			   "SELECT count(DISTINCT run_id) FROM run_position WHERE barcode IN (" +
				   in + ")");
	}

	static std::string *ci_;
	struct db *db_ = nullptr;  /* mlt_tech */
	struct db *dba_ = nullptr; /* the DBA: fixtures */
	std::vector<std::string> bcs_;
};
std::string *TaskTest::ci_ = nullptr;

TEST_F(TaskTest, ParsesPositionMapFile)
{
	struct task_slot *v = nullptr;
	size_t n = 0;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK,
		  task_parse_map(
			  "position,barcode\r\n# bench B1\n\n1, 4130001000000462000018\n 12,X\n",
			  &v, &n, &err))
		<< err.msg;
	ASSERT_EQ(2u, n);
	EXPECT_EQ(1, v[0].position);
	EXPECT_STREQ("4130001000000462000018", v[0].barcode);
	EXPECT_EQ(12, v[1].position);
	free(v);
	EXPECT_EQ(ML_EINVAL, task_parse_map("1,ok\nfive,4130001000000462000018\n", &v, &n, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "line 2")) << err.msg;
	EXPECT_EQ(ML_EINVAL, task_parse_map("# nothing\n", &v, &n, &err));
	struct task_slot s;
	EXPECT_EQ(ML_OK, task_parse_slot_arg("7=4130001000000462000018", &s, &err));
	EXPECT_EQ(7, s.position);
	EXPECT_EQ(ML_EINVAL, task_parse_slot_arg("7:4130001000000462000018", &s, &err));
}

TEST_F(TaskTest, CreatesRunAndMovesAssetsToVerifying)
{
	struct ml_error err = ML_ERROR_INIT;
	int64_t id = 0;
	ASSERT_EQ(ML_OK, create({ { 1, bcs_[0] }, { 3, bcs_[1] } }, nullptr, &err, &id)) << err.msg;
	EXPECT_EQ("pending", one(db_, "SELECT status FROM verification_run WHERE run_id = " +
					      std::to_string(id)));
	EXPECT_EQ("2", one(db_, "SELECT count(*) FROM run_position WHERE run_id = " +
					std::to_string(id)));
	EXPECT_EQ("verifying",
		  one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[1] + "'"));
	/* the immutable scheme version it runs, the server's date in China (0360), the technician by id */
	EXPECT_EQ(
		"1|true|mlt_tech",
		one(db_,
		    "SELECT r.scheme_version || '|' || (r.scheme_id IS NOT NULL AND r.run_date = "
		    "ml_cert_today()) || '|' || u.login FROM verification_run r JOIN app_user u ON "
		    "u.user_id = r.operator_id WHERE run_id = " +
			    std::to_string(id)));
}

TEST_F(TaskTest, RecordsAmbientConditionsAndRefusesImpossibleOnes)
{
	struct ml_error err = ML_ERROR_INIT;
	struct task_slot slot = {};
	slot.position = 2;
	snprintf(slot.barcode, sizeof(slot.barcode), "%s", bcs_[0].c_str());
	struct task_spec spec = {};
	spec.bench_code = "B1";
	spec.scheme_code = "T-TASK";
	spec.date = nullptr;
	spec.slots = &slot;
	spec.nslots = 1;
	spec.temperature_c = "21.5";
	spec.humidity_pct = "120";
	int64_t id = 0;
	EXPECT_EQ(ML_EINVAL, task_create(db_, &spec, &id, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "120")) << err.msg;
	EXPECT_EQ("arrived", one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[0] + "'"));
	spec.humidity_pct = "warm";
	EXPECT_EQ(ML_EINVAL, task_create(db_, &spec, &id, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "warm")) << err.msg;
	/* never silently rounded: 21.25 became 21.3 */
	spec.humidity_pct = "48.5";
	spec.temperature_c = "21.25";
	EXPECT_EQ(ML_EINVAL, task_create(db_, &spec, &id, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "21.25")) << err.msg;
	spec.temperature_c = "21.5";
	ASSERT_EQ(ML_OK, task_create(db_, &spec, &id, &err)) << err.msg;
	EXPECT_EQ(
		"21.5|48.5",
		one(db_,
		    "SELECT ambient_temp_c || '|' || ambient_rh_pct FROM verification_run WHERE run_id = " +
			    std::to_string(id)));
}

TEST_F(TaskTest, RefusesPositionOutOfRange)
{
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, create({ { 1, bcs_[0] }, { 25, bcs_[1] } }, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "position 25 is outside the bench's 1..24")) << err.msg;
	EXPECT_EQ("0", runs());
	EXPECT_EQ("arrived", one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[0] + "'"));
}

TEST_F(TaskTest, RefusesBarcodeMountedTwice)
{
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, create({ { 1, bcs_[0] }, { 2, bcs_[0] } }, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, ("barcode " + bcs_[0] + " is mounted twice").c_str()))
		<< err.msg;
	EXPECT_EQ(ML_EINVAL, create({ { 1, bcs_[0] }, { 1, bcs_[1] } }, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "position 1 is used twice")) << err.msg;
	EXPECT_EQ("0", runs());
}

TEST_F(TaskTest, RefusesAssetInWrongStateAndUnknownBarcode)
{
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, create({ { 1, bcs_[0] } }, nullptr, &err)) << err.msg;
	/* bcs_[0] is now verifying: a second task cannot take it */
	EXPECT_EQ(ML_ESTATE, create({ { 1, bcs_[0] }, { 2, bcs_[1] } }, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "is 'verifying', which does not allow verification"))
		<< err.msg;
	EXPECT_EQ("arrived", one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[1] + "'"));
	char unknown[23];
	ASSERT_EQ(ML_OK, barcode_make("41300", "01", 99999, unknown, &err));
	EXPECT_EQ(ML_ENOTFOUND, create({ { 1, unknown } }, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, unknown)) << err.msg;
	EXPECT_EQ("1", runs());
}

TEST_F(TaskTest, RefusesWhenStandardCertificateExpired)
{
	rfx::add_standard(*ci_, "STD-EXP", "2025-01-01", "2025-12-31");
	rfx::add_bench(*ci_, "B-EXP", 1504, 24, "STD-EXP");
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE, create({ { 1, bcs_[0] } }, nullptr, &err, nullptr, "B-EXP"));
	EXPECT_NE(nullptr, strstr(err.msg, "reference standard 'STD-EXP' has no calibration "
					   "certificate valid on"))
		<< err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "latest valid until 2025-12-31")) << err.msg;
	EXPECT_EQ("0", runs());
	/* a recalibration (by an administrator) makes today valid */
	struct standard_cert c = {};
	snprintf(c.cert_no, sizeof(c.cert_no), "CAL-2026");
	snprintf(c.issuer, sizeof(c.issuer), "institute");
	snprintf(c.valid_from, sizeof(c.valid_from), "2025-12-20");
	snprintf(c.valid_until, sizeof(c.valid_until), "2099-12-19");
	EXPECT_EQ(ML_EPERM, standard_certify(db_, "STD-EXP", &c, &err)); /* not a technician's */
	struct db *admin = pgtest_connect(pgtest_as(*ci_, "mlt_admin"));
	ASSERT_EQ(ML_OK, standard_certify(admin, "STD-EXP", &c, &err)) << err.msg;
	db_close(admin);
	EXPECT_EQ(ML_OK, create({ { 1, bcs_[0] } }, nullptr, &err, nullptr, "B-EXP")) << err.msg;
}

TEST_F(TaskTest, StandardRegistryValidatesAndListsLatestCertificate)
{
	struct ml_error err = ML_ERROR_INIT;
	struct standard_rec s;
	ASSERT_EQ(ML_OK, standard_get(db_, "STD1", &s, &err)) << err.msg;
	EXPECT_STREQ("2099-12-31", s.cert.valid_until);
	struct db *admin = pgtest_connect(pgtest_as(*ci_, "mlt_admin"));
	EXPECT_EQ(ML_ENOTFOUND, standard_get(db_, "NOPE", &s, &err));
	struct standard_rec dup = s;
	EXPECT_EQ(ML_EEXISTS, standard_add(admin, &dup, nullptr, &err));
	struct standard_cert bad = {};
	snprintf(bad.cert_no, sizeof(bad.cert_no), "X");
	snprintf(bad.issuer, sizeof(bad.issuer), "I");
	snprintf(bad.valid_from, sizeof(bad.valid_from), "2026-02-30"); /* parsed by the server */
	snprintf(bad.valid_until, sizeof(bad.valid_until), "2026-12-31");
	EXPECT_EQ(ML_EINVAL,
		  standard_certify(admin, "STD1", &bad, &err)); /* the server rejects Feb 30 */
	struct bench_rec b = {};
	snprintf(b.code, sizeof(b.code), "B2");
	snprintf(b.name, sizeof(b.name), "b2");
	snprintf(b.uri, sizeof(b.uri), "tcp://127.0.0.1:1503");
	snprintf(b.kind, sizeof(b.kind), "meter-1p");
	b.positions = 97;
	b.n_standards = 1;
	snprintf(b.standards[0], sizeof(b.standards[0]), "STD1");
	EXPECT_EQ(ML_EINVAL, standard_bench_add(admin, &b, nullptr, &err));
	b.positions = 48;
	snprintf(b.standards[0], sizeof(b.standards[0]), "NOPE");
	EXPECT_EQ(ML_ENOTFOUND, standard_bench_add(admin, &b, nullptr, &err));
	EXPECT_EQ(
		"0",
		one(db_,
		    "SELECT count(*) FROM lab_bench WHERE code = 'B2'")); /* nothing half-written */
	/* nobody may rewrite certificate history */
	for (struct db *app : { db_, admin }) {
		EXPECT_EQ(ML_EPERM,
			  db_cmd(app, "UPDATE standard_certificate SET valid_until = '2099-01-01'",
				 0, nullptr, &err));
		EXPECT_EQ(ML_EPERM, db_cmd(app, "DELETE FROM run_step_result", 0, nullptr, &err));
		/* the readings' view (0349) takes no writes at all */
		EXPECT_NE(ML_OK, db_cmd(app, "DELETE FROM run_reading", 0, nullptr, &err));
	}
	db_close(admin);
}

} // namespace
