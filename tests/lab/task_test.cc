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
		struct db *db = pgtest_connect(*ci_);
		rfx::add_standard(db, "STD1", "2026-01-01", "2026-12-31");
		rfx::add_bench(db, "B1", 1502, 24, "STD1");
		rfx::add_scheme(db, kScheme);
		db_close(db);
	}
	static void TearDownTestSuite()
	{
		delete ci_;
	}
	void SetUp() override
	{
		static int serial = 1000;
		db_ = pgtest_connect(*ci_);
		serial += 100;
		bcs_ = rfx::seed_assets(db_, 4, (unsigned long long)serial);
	}
	void TearDown() override
	{
		db_close(db_);
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
	struct db *db_ = nullptr;
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
	ASSERT_EQ(ML_OK, create({ { 1, bcs_[0] }, { 3, bcs_[1] } }, "2026-06-01", &err, &id))
		<< err.msg;
	EXPECT_EQ("pending", one(db_, "SELECT status FROM verification_run WHERE run_id = " +
					      std::to_string(id)));
	EXPECT_EQ("2", one(db_, "SELECT count(*) FROM run_position WHERE run_id = " +
					std::to_string(id)));
	EXPECT_EQ("verifying",
		  one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[1] + "'"));
	EXPECT_NE("", one(db_, "SELECT scheme_text FROM verification_run WHERE run_id = " +
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
	spec.date = "2026-06-01";
	spec.slots = &slot;
	spec.nslots = 1;
	spec.temperature_c = "21.5";
	spec.humidity_pct = "120";
	int64_t id = 0;
	EXPECT_EQ(ML_EINVAL, task_create(db_, &spec, &id, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'120'")) << err.msg;
	EXPECT_EQ("arrived", one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[0] + "'"));
	spec.humidity_pct = "warm";
	EXPECT_EQ(ML_EINVAL, task_create(db_, &spec, &id, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "warm")) << err.msg;
	spec.humidity_pct = "48.5";
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
	EXPECT_EQ(ML_EINVAL, create({ { 1, bcs_[0] }, { 25, bcs_[1] } }, "2026-06-01", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "position 25 is outside the bench's 1..24")) << err.msg;
	EXPECT_EQ("0", runs());
	EXPECT_EQ("arrived", one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[0] + "'"));
}

TEST_F(TaskTest, RefusesBarcodeMountedTwice)
{
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, create({ { 1, bcs_[0] }, { 2, bcs_[0] } }, "2026-06-01", &err));
	EXPECT_NE(nullptr, strstr(err.msg, ("barcode " + bcs_[0] + " is mounted twice").c_str()))
		<< err.msg;
	EXPECT_EQ(ML_EINVAL, create({ { 1, bcs_[0] }, { 1, bcs_[1] } }, "2026-06-01", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "position 1 is used twice")) << err.msg;
	EXPECT_EQ("0", runs());
}

TEST_F(TaskTest, RefusesAssetInWrongStateAndUnknownBarcode)
{
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, create({ { 1, bcs_[0] } }, "2026-06-01", &err)) << err.msg;
	/* bcs_[0] is now verifying: a second task cannot take it */
	EXPECT_EQ(ML_ESTATE, create({ { 1, bcs_[0] }, { 2, bcs_[1] } }, "2026-06-01", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "is 'verifying', which does not allow verification"))
		<< err.msg;
	EXPECT_EQ("arrived", one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[1] + "'"));
	char unknown[23];
	ASSERT_EQ(ML_OK, barcode_make("41300", "01", 99999, unknown, &err));
	EXPECT_EQ(ML_ENOTFOUND, create({ { 1, unknown } }, "2026-06-01", &err));
	EXPECT_NE(nullptr, strstr(err.msg, unknown)) << err.msg;
	EXPECT_EQ("1", runs());
}

TEST_F(TaskTest, RefusesWhenStandardCertificateExpired)
{
	rfx::add_standard(db_, "STD-EXP", "2026-01-01", "2026-12-31");
	rfx::add_bench(db_, "B-EXP", 1504, 24, "STD-EXP");
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE, create({ { 1, bcs_[0] } }, "2027-01-01", &err, nullptr, "B-EXP"));
	EXPECT_NE(
		nullptr,
		strstr(err.msg,
		       "reference standard 'STD-EXP' has no calibration certificate valid on 2027-01-01"))
		<< err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "latest valid until 2026-12-31")) << err.msg;
	EXPECT_EQ(ML_ESTATE, create({ { 1, bcs_[0] } }, "2025-12-31", &err, nullptr, "B-EXP"));
	EXPECT_EQ("0", runs());
	/* a recalibration makes the date valid */
	struct standard_cert c = {};
	snprintf(c.cert_no, sizeof(c.cert_no), "CAL-2027");
	snprintf(c.issuer, sizeof(c.issuer), "institute");
	snprintf(c.valid_from, sizeof(c.valid_from), "2026-12-20");
	snprintf(c.valid_until, sizeof(c.valid_until), "2027-12-19");
	ASSERT_EQ(ML_OK, standard_certify(db_, "STD-EXP", &c, &err)) << err.msg;
	EXPECT_EQ(ML_OK, create({ { 1, bcs_[0] } }, "2027-01-01", &err, nullptr, "B-EXP"))
		<< err.msg;
}

TEST_F(TaskTest, StandardRegistryValidatesAndListsLatestCertificate)
{
	struct ml_error err = ML_ERROR_INIT;
	struct standard_rec s;
	ASSERT_EQ(ML_OK, standard_get(db_, "STD1", &s, &err)) << err.msg;
	EXPECT_STREQ("2026-12-31", s.cert.valid_until);
	EXPECT_EQ(ML_ENOTFOUND, standard_get(db_, "NOPE", &s, &err));
	struct standard_rec dup = s;
	EXPECT_EQ(ML_EEXISTS, standard_add(db_, &dup, nullptr, &err));
	struct standard_cert bad = {};
	snprintf(bad.cert_no, sizeof(bad.cert_no), "X");
	snprintf(bad.issuer, sizeof(bad.issuer), "I");
	snprintf(bad.valid_from, sizeof(bad.valid_from), "2026-02-30"); /* parsed by the server */
	snprintf(bad.valid_until, sizeof(bad.valid_until), "2026-12-31");
	EXPECT_EQ(ML_EINVAL,
		  standard_certify(db_, "STD1", &bad, &err)); /* the server rejects Feb 30 */
	struct bench_rec b = {};
	snprintf(b.code, sizeof(b.code), "B2");
	snprintf(b.name, sizeof(b.name), "b2");
	snprintf(b.uri, sizeof(b.uri), "tcp://127.0.0.1:1503");
	snprintf(b.kind, sizeof(b.kind), "meter-1p");
	b.positions = 97;
	b.n_standards = 1;
	snprintf(b.standards[0], sizeof(b.standards[0]), "STD1");
	EXPECT_EQ(ML_EINVAL, standard_bench_add(db_, &b, nullptr, &err));
	b.positions = 48;
	snprintf(b.standards[0], sizeof(b.standards[0]), "NOPE");
	EXPECT_EQ(ML_ENOTFOUND, standard_bench_add(db_, &b, nullptr, &err));
	EXPECT_EQ(
		"0",
		one(db_,
		    "SELECT count(*) FROM lab_bench WHERE code = 'B2'")); /* nothing half-written */
	/* the application role may not rewrite certificate history */
	struct db *app = pgtest_connect(pgtest_as_role(*ci_, "meterlab_app"));
	EXPECT_NE(ML_OK, db_cmd(app, "UPDATE standard_certificate SET valid_until = '2099-01-01'",
				0, nullptr, &err));
	EXPECT_NE(ML_OK, db_cmd(app, "DELETE FROM run_reading", 0, nullptr, &err));
	db_close(app);
}

} // namespace
