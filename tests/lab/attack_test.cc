/*
 * Issue 8, part A: the attacks an insider could make with the application's
 * own database login, tried as EVERY role (each person of the test cast and
 * the service login; the group role meterlab_app no longer logs in, 0142)
 * — and refused. First the
 * direct writes of the truth tables (privileges), then the functions called
 * with forged arguments (the rules inside them).
 */
#include <string>
#include <vector>

#include "runner_fixture.h"

using rfx::one;

namespace
{

const char *const kScheme = "scheme code=ATK name=\"attack\"\n"
			    "suits kinds=meter_1p classes=1 connection=direct\n"
			    "creep\n"
			    "basic I=Ib pf=1.0 element=H readings=2\n";

const char *const kLogins[] = { "mlt_admin",   "mlt_clerk",    "mlt_tech",        "mlt_tech2",
				"mlt_checker", "mlt_approver", "mlt_field",       "mlt_analyst",
				"mlt_manager", "mlt_auditor",  "meterlab_service" };
/* (meterlab_app, the group role, cannot log in at all since 0142: tests/reports
 * workflow_test.cc, TheSharedRoleCannotLogIn.) */

class Attack : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		ci_ = pgtest_fresh_db("attack");
		rfx::add_standard(ci_, "STD1", "2020-01-01", "2099-12-31");
		rfx::add_bench(ci_, "B1", 1502, 24, "STD1");
		rfx::add_scheme(ci_, kScheme);
		struct db *dba = pgtest_connect(ci_);
		bcs_ = rfx::seed_assets(dba, 4, 1000);
		/* bcs_[0] failed, bcs_[3] in stock (as earlier runs left them) */
		rfx::exec(dba,
			  "UPDATE asset SET state = 'failed' WHERE barcode = '" + bcs_[0] + "'");
		rfx::exec(dba,
			  "UPDATE asset SET state = 'in_stock', valid_until = current_date + 30 "
			  "WHERE barcode = '" +
				  bcs_[3] + "'");
		db_close(dba);
		/* bcs_[1], bcs_[2] mounted on a running run of the technician */
		struct db *tech = pgtest_connect(pgtest_as(ci_, "mlt_tech"));
		run_ = rfx::create_task(tech, "B1", "ATK", { bcs_[1], bcs_[2] });
		struct ml_error err = ML_ERROR_INIT;
		std::string r = std::to_string(run_);
		const char *p[1] = { r.c_str() };
		EXPECT_EQ(ML_OK,
			  db_cmd(tech, "SELECT ml_run_status($1::bigint, 'running')", 1, p, &err))
			<< err.msg;
		db_close(tech);
	}
	void SetUp() override
	{
		dba_ = pgtest_connect(ci_);
	}
	void TearDown() override
	{
		db_close(dba_);
	}
	/* A statement as one login: its SQLSTATE-mapped code (ML_OK when it went through). */
	int as(const char *login, const std::string &sql, struct ml_error *err)
	{
		struct db *db = pgtest_connect(pgtest_as(ci_, login));
		int rc = db_cmd(db, sql.c_str(), 0, nullptr, err);
		db_close(db);
		return rc;
	}
	/* The truth as it stands: every attack must leave it unchanged. */
	std::string truth()
	{
		return one(
			dba_,
			"SELECT (SELECT string_agg(barcode || ':' || state || ':' || "
			"coalesce(valid_until::text, '-'), ',' ORDER BY barcode) FROM asset) || '|' || "
			"(SELECT count(*) FROM asset_event) || '|' || (SELECT count(*) FROM "
			"verification_run) || '|' || (SELECT string_agg(run_id || status, ',') FROM "
			"verification_run) || '|' || (SELECT count(*) FROM run_conclusion) || '|' || "
			"(SELECT count(*) FROM run_step_result) || '|' || (SELECT count(*) FROM "
			"lab_setting) || '|' || (SELECT count(*) FROM lab_setting_log) || '|' || "
			"(SELECT accuracy_class || verification_period_months FROM device_model) || '|' "
			"|| (SELECT count(*) FROM scheme) || '|' || (SELECT count(*) FROM "
			"scheme_activation) || '|' || (SELECT count(*) FROM standard_certificate) || "
			"'|' || (SELECT count(*) FROM lot)");
	}
	static std::string ci_;
	static std::vector<std::string> bcs_;
	static int64_t run_;
	struct db *dba_ = nullptr;
};
std::string Attack::ci_;
std::vector<std::string> Attack::bcs_;
int64_t Attack::run_ = 0;

/* Every direct write of the attacker of issue 8, as every login: permission denied, nothing changed. */
TEST_F(Attack, DirectWritesOfTheTruthAreRefusedForEveryRole)
{
	std::string before = truth();
	std::string r = std::to_string(run_);
	const std::vector<std::string> attacks = {
		/* a failed meter in stock, with no event */
		"UPDATE asset SET state = 'in_stock', valid_until = '2199-12-31' WHERE barcode = '" +
			bcs_[0] + "'",
		/* a back-dated event in someone else's name */
		"INSERT INTO asset_event (asset_id, occurred_at, actor, to_state, action) SELECT asset_id, "
		"'2025-01-01', 'chief.liu', 'in_stock', 'verify_pass' FROM asset WHERE barcode = '" +
			bcs_[0] + "'",
		"DELETE FROM asset_event",
		/* a model's class and verification period */
		"UPDATE device_model SET accuracy_class = '0.2S', verification_period_months = 600",
		/* a lab rule with nothing in the change log */
		"INSERT INTO lab_setting (key, value) VALUES ('creep.max_pulses', '10')",
		"INSERT INTO lab_setting_log (key, new_value) VALUES ('judge.internal_coefficient', '100')",
		/* a run's status */
		"UPDATE verification_run SET status = 'finished' WHERE run_id = " + r,
		"UPDATE verification_run SET run_date = '2020-01-01'",
		/* a finished run with a position and a passing conclusion valid until 2199 */
		"INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, mode, status, "
		"steps_total, operator) SELECT 1, model_id, 'ATK', 1, 'driven', 'finished', 1, 'x' FROM "
		"device_model",
		"INSERT INTO run_position (asset_id, run_id, position, barcode) SELECT asset_id, " +
			r + ", 9, barcode FROM asset WHERE barcode = '" + bcs_[0] + "'",
		"INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict, valid_until) "
		"SELECT asset_id, " +
			r +
			", 'overall', 'pass', 'pass', '2199-12-31' FROM asset WHERE barcode = '" +
			bcs_[1] + "'",
		"INSERT INTO run_step (run_id, step_no, kind, label, started_at) VALUES (" + r +
			", 0, 'creep', 'creep', now())",
		"UPDATE run_step_result SET verdict = 'pass'",
		/* a looser scheme, activated */
		"INSERT INTO scheme (code, version, name) VALUES ('ATK', 99, 'loose')",
		"INSERT INTO scheme_step (scheme_id, seq, kind, limit_e4) SELECT scheme_id, 99, 3, 500000 "
		"FROM scheme",
		"INSERT INTO scheme_activation (code, scheme_id, action) SELECT code, scheme_id, 'activate' "
		"FROM scheme",
		/* a standard valid forever, a forged delivery */
		"INSERT INTO standard_certificate (standard_id, cert_no, issuer, valid_from, valid_until) "
		"SELECT standard_id, 'FORGED', 'x', '2000-01-01', '2199-12-31' FROM reference_standard",
		"UPDATE standard_certificate SET valid_until = '2199-12-31'",
		"INSERT INTO lot (code, file_sha256, row_count, received_by) VALUES ('FAKE', repeat('c', "
		"64), 0, 'x')",
		/* the internal primitive */
		"SELECT ml_asset_apply(1, ARRAY[ROW((SELECT asset_id FROM asset WHERE barcode = '" +
			bcs_[0] +
			"'), 'failed', 'scrapped', 'scrap', NULL, false, NULL, NULL, NULL)::ml_asset_change])",
		/* the lifecycle and the regulation as data */
		"INSERT INTO asset_transition VALUES ('failed', 'verify_pass', 'in_stock', false)",
		"UPDATE reg_meter_band SET lim = '{90000,90000,90000,90000}'",
		"UPDATE lab_setting_def SET max_v = 1000000000",
	};
	for (const char *login : kLogins) {
		for (const std::string &sql : attacks) {
			struct ml_error err = ML_ERROR_INIT;
			EXPECT_EQ(ML_EPERM, as(login, sql, &err)) << login << ": " << sql << "\n"
								  << err.msg;
		}
	}
	EXPECT_EQ(before, truth());
}

/* Even the owner (here the DBA) cannot change a model's class or period, nor the lifecycle or the regulation data. */
TEST_F(Attack, ModelsLifecycleAndRegulationAreFixedForTheOwnerToo)
{
	struct ml_error err = ML_ERROR_INIT;
	for (const char *sql :
	     { "UPDATE device_model SET accuracy_class = '0.2S'",
	       "UPDATE device_model SET verification_period_months = 600",
	       "UPDATE device_model SET constant_imp = 1", "DELETE FROM asset_transition",
	       "UPDATE reg_xfmr_limit SET ratio_e4 = 100000",
	       "DELETE FROM run_status_transition" }) {
		EXPECT_EQ(ML_EPERM, db_cmd(dba_, sql, 0, nullptr, &err)) << sql << ": " << err.msg;
	}
	EXPECT_EQ("196", one(dba_, "SELECT accuracy_class || verification_period_months FROM "
				   "device_model"));
}

/* The functions with forged arguments: each rule holds whoever calls, however. */
TEST_F(Attack, FunctionsRefuseForgedCalls)
{
	std::string before = truth();
	std::string r = std::to_string(run_);
	struct ml_error err = ML_ERROR_INIT;
	/* verify_pass by a bare move, for anyone */
	for (const char *login : kLogins) {
		EXPECT_EQ(ML_EPERM, as(login,
				       "SELECT * FROM ml_asset_move(ARRAY['" + bcs_[1] +
					       "'], ARRAY['verify_pass'])",
				       &err))
			<< login << ": " << err.msg;
	}
	/* a run's status straight to finished, for the technician who runs it */
	EXPECT_EQ(ML_ESTATE, as("mlt_tech", "SELECT ml_run_status(" + r + ", 'finished')", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "cannot become finished")) << err.msg;
	/* a conclusion before the steps are recorded */
	EXPECT_EQ(ML_ESTATE, as("mlt_tech", "SELECT ml_run_conclude(" + r + ")", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "0 of 2 steps")) << err.msg;
	/* a passing step with one reading where the scheme needs two, a mean that does not follow
	 * from the readings, a limit wider than the regulation, a creep cut short */
	std::string a1 = one(dba_, "SELECT asset_id FROM asset WHERE barcode = '" + bcs_[1] + "'");
	std::string a2 = one(dba_, "SELECT asset_id FROM asset WHERE barcode = '" + bcs_[2] + "'");
	auto basic = [&](const std::string &values, const std::string &mean,
			 const std::string &lim) {
		std::string nread = std::to_string(
			1 + (int)std::count(values.begin(), values.end(), ','));
		std::string rd = "ARRAY[" + a1 + "]";
		for (size_t i = 1; i < (size_t)atoi(nread.c_str()); i++)
			rd = "ARRAY[" + a1 + "," + a1 + "]";
		return "SELECT ml_run_record_step(" + r + ", 1, 'basic', 'Ib', now(), " + rd +
		       ", ARRAY[1" + (nread == "2" ? ",2" : std::string()) + "], ARRAY[1" +
		       (nread == "2" ? ",1" : std::string()) + "], ARRAY[" + values +
		       "]::bigint[], NULL, NULL, NULL, ARRAY[now()" +
		       (nread == "2" ? ",now()" : std::string()) + "], ARRAY[" + a1 + "," + a2 +
		       "], ARRAY[1,2], ARRAY[" + nread + ",0], ARRAY[" + mean + ",NULL], ARRAY[" +
		       mean +
		       ",NULL], "
		       "NULL, NULL, NULL, ARRAY[" +
		       lim +
		       ",NULL], ARRAY[6000,NULL], ARRAY[1000,NULL], "
		       "NULL, NULL, NULL, NULL, ARRAY['pass','fail'], ARRAY['pass','fail'], "
		       "ARRAY['none','none'], ARRAY['none','none'], ARRAY['',''], NULL)";
	};
	EXPECT_EQ(ML_EINVAL, as("mlt_tech", basic("100", "100", "10000"), &err));
	EXPECT_NE(nullptr, strstr(err.msg, "1 readings where the scheme requires 2")) << err.msg;
	EXPECT_EQ(ML_EINVAL, as("mlt_tech", basic("25000,25000", "100", "10000"), &err));
	EXPECT_NE(nullptr, strstr(err.msg, "does not follow from the readings")) << err.msg;
	EXPECT_EQ(ML_EINVAL, as("mlt_tech", basic("25000,25000", "25000", "500000"), &err));
	EXPECT_NE(nullptr, strstr(err.msg, "not within the regulation limit")) << err.msg;
	EXPECT_EQ(ML_EINVAL, as("mlt_tech", basic("15000,15000", "15000", "10000"), &err));
	EXPECT_NE(nullptr, strstr(err.msg, "beyond the limit")) << err.msg;
	/* the step of another kind than the scheme says */
	EXPECT_EQ(
		ML_EINVAL,
		as("mlt_tech",
		   "SELECT ml_run_record_step(" + r +
			   ", 0, 'basic', 'x', now(), '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', "
			   "'{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', "
			   "'{}', '{}', '{}', '{}', '{}', '{}', '{}')",
		   &err));
	EXPECT_NE(nullptr, strstr(err.msg, "the scheme says creep")) << err.msg;
	/* creep: 0 pulses but ran 1 s of its 37.9 minutes */
	EXPECT_EQ(
		ML_EINVAL,
		as("mlt_tech",
		   "SELECT ml_run_record_step(" + r + ", 0, 'creep', 'creep', now(), ARRAY[" + a1 +
			   "," + a2 +
			   "], ARRAY[1,1], ARRAY[1,2], ARRAY[0,0], NULL, ARRAY[0,0], ARRAY[0,0], "
			   "ARRAY[now(),now()], ARRAY[" +
			   a1 + "," + a2 +
			   "], ARRAY[1,2], ARRAY[0,0], NULL, NULL, NULL, NULL, ARRAY[0,0], NULL, NULL, "
			   "NULL, NULL, NULL, NULL, NULL, ARRAY['pass','pass'], ARRAY['pass','pass'], "
			   "ARRAY['none','none'], ARRAY['none','none'], ARRAY['',''], ARRAY[1000,1000])",
		   &err));
	EXPECT_NE(nullptr, strstr(err.msg, "the creep test ran 1 s")) << err.msg;
	/* results and readings that are not the run's positions: an asset given twice, two assets
	 * swapped, a position left out, a reading of one asset filed at the other's position, one
	 * reading given twice */
	auto creep_at = [&](const std::string &s_asset, const std::string &s_pos,
			    const std::string &r_asset, const std::string &r_pos) {
		return "SELECT ml_run_record_step(" + r + ", 0, 'creep', 'creep', now(), ARRAY[" +
		       r_asset + "], ARRAY[1,1], ARRAY[" + r_pos +
		       "], ARRAY[0,0], NULL, ARRAY[0,0], ARRAY[0,0], ARRAY[now(),now()], ARRAY[" +
		       s_asset + "], ARRAY[" + s_pos +
		       "], NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
		       "NULL, ARRAY['pass','pass'], NULL, NULL, NULL, NULL, NULL)";
	};
	const std::string both = a1 + "," + a2;
	struct {
		std::string sql, msg;
	} misplaced[] = {
		{ creep_at(a1 + "," + a1, "1,1", both, "1,2"),
		  "asset " + a1 + " at position 1 is not a position of the run (or twice)" },
		{ creep_at(a2 + "," + a1, "1,2", both, "1,2"), "is not a position of the run" },
		{ creep_at(a1, "1", both, "1,2"), "1 results for 2 positions" },
		{ creep_at(both, "1,2", a1 + "," + a1, "1,2"),
		  "reading 1 of asset " + a1 + " at position 2 (measured" },
		/* one reading twice (same asset, number and time): 0349 stores readings in the
		 * result rows, with no key of their own, so the recorder refuses it by name */
		{ creep_at(both, "1,2", a1 + "," + a1, "1,1"),
		  "reading 1 of asset " + a1 + " (measured" },
	};
	for (const auto &m : misplaced) {
		EXPECT_EQ(ML_EINVAL, as("mlt_tech", m.sql, &err)) << m.sql;
		EXPECT_NE(nullptr, strstr(err.msg, m.msg.c_str())) << m.msg << " / " << err.msg;
	}
	/* a step recorded twice (here twice in one statement, so the truth below stays as it
	 * was): the second call is refused by name (0349 finds it with ON CONFLICT instead of
	 * an exception block) */
	std::string creep_fail =
		"ml_run_record_step(" + r + ", 0, 'creep', 'creep', now(), ARRAY[" + both +
		"], ARRAY[1,1], ARRAY[1,2], ARRAY[0,0], NULL, ARRAY[5,5], ARRAY[0,0], "
		"ARRAY[now(),now()], ARRAY[" +
		both +
		"], ARRAY[1,2], ARRAY[0,0], NULL, NULL, NULL, NULL, ARRAY[5,5], NULL, NULL, NULL, NULL, "
		"NULL, NULL, NULL, ARRAY['fail','fail'], ARRAY['fail','fail'], ARRAY['none','none'], "
		"ARRAY['none','none'], ARRAY['',''], ARRAY[1000,1000])";
	EXPECT_EQ(ML_EEXISTS,
		  as("mlt_tech", "SELECT count(" + creep_fail + ") FROM generate_series(1, 2)",
		     &err));
	EXPECT_NE(nullptr, strstr(err.msg, "step 1 (creep) was already completed")) << err.msg;
	/* someone else's role */
	EXPECT_EQ(ML_EPERM, as("mlt_clerk",
			       "SELECT ml_run_create('B1', 'ATK', 'driven', ARRAY[3], ARRAY['" +
				       bcs_[3] + "'])",
			       &err));
	EXPECT_EQ(ML_EPERM,
		  as("mlt_tech", "SELECT ml_setting_set('creep.max_pulses', '10')", &err));
	EXPECT_EQ(ML_EPERM, as("mlt_tech", "SELECT ml_scheme_activate('ATK', 1)", &err));
	EXPECT_EQ(
		ML_EPERM,
		as("mlt_clerk",
		   "SELECT ml_model_add('X', 'HX', 'x', 'meter_1p', '1', NULL, 'direct', '1p2w', 220, 5, "
		   "60, 1200, 1, NULL, NULL, NULL, NULL, NULL, 96)",
		   &err));
	EXPECT_EQ(ML_EPERM, as("mlt_tech",
			       "SELECT * FROM ml_asset_receive('L', NULL, NULL, "
			       "repeat('d', 64))",
			       &err));
	EXPECT_EQ(ML_EPERM, as("mlt_auditor", "SELECT ml_run_abort(" + r + ")", &err));
	/* back-dating is the administrator's, for manual runs, with a reason */
	EXPECT_EQ(ML_EPERM, as("mlt_tech",
			       "SELECT ml_run_create('B1', 'ATK', 'manual', ARRAY[3], ARRAY['" +
				       bcs_[3] + "'], NULL, NULL, '2026-11-01', 'paper')",
			       &err));
	EXPECT_EQ(ML_EINVAL, as("mlt_admin",
				"SELECT ml_run_create('B1', 'ATK', 'manual', ARRAY[3], ARRAY['" +
					bcs_[3] + "'], NULL, NULL, current_date - 5, NULL)",
				&err));
	EXPECT_NE(nullptr, strstr(err.msg, "reason")) << err.msg;
	/* a validity far in the future through a model: the period is capped by the regulation */
	EXPECT_EQ(
		ML_EINVAL,
		as("mlt_admin",
		   "SELECT ml_model_add('X', 'HX', 'x', 'meter_1p', '1', NULL, 'direct', '1p2w', 220, 5, "
		   "60, 1200, 1, NULL, NULL, NULL, NULL, NULL, 600)",
		   &err));
	EXPECT_NE(nullptr, strstr(err.msg, "96 months")) << err.msg;
	/* rows staged into someone else's delivery: the CHECK binds them to the stager's transaction */
	EXPECT_EQ(ML_EINVAL, as("mlt_clerk",
				"INSERT INTO asset_receive_stage (stage_xid, line, barcode) VALUES "
				"((pg_current_xact_id()::text::bigint + 1)::text::xid8, 2, '" +
					bcs_[0] + "')",
				&err));
	/* a free text with a NUL-like control character or a zero-width space */
	EXPECT_EQ(ML_EINVAL,
		  as("mlt_admin", "SELECT ml_manufacturer_add('ZW', E'ab\\u200bc')", &err));
	EXPECT_EQ(ML_EINVAL, as("mlt_admin", "SELECT ml_manufacturer_add('ZW', E'a\\x01b')", &err));
	EXPECT_EQ(before, truth());
}

/*
 * 0361: a transformer step's item verdicts, which ml_run_conclude concludes
 * the ratio and phase items from, are checked against the readings like the
 * step's own verdict. Before, only a step verdict 'pass' was checked: a
 * technician recorded verdict 'fail', verdict1 'pass', verdict2 'pass' for a
 * class 0.2S CT with a ratio error of +5.00 % (limit ±0.20 % at 100 %,
 * IEC 61869-2 / JJG 313-2010, domain.md §2.1), and it was concluded 合格.
 */
class AttackXfmr : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		ci_ = pgtest_fresh_db("attack_xfmr");
		rfx::add_standard(ci_, "STD1", "2020-01-01", "2099-12-31");
		rfx::add_bench(ci_, "BCT", 1503, 4, "STD1", "transformer");
		rfx::add_scheme(ci_, "scheme code=ATK-CT name=\"attack ct\"\n"
				     "suits kinds=ct classes=0.2S\n"
				     "ct percent=100 burden=100\n");
		struct db *dba = pgtest_connect(ci_);
		rfx::exec(dba, "INSERT INTO manufacturer (code, name) VALUES ('HXCT', 'CT maker')");
		rfx::exec(
			dba,
			"INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, "
			"ct_primary_a, ct_secondary_a, rated_burden_va, verification_period_months) "
			"SELECT 'LMZ-CT', manufacturer_id, 'current transformer', 'ct', '0.2S', 100, 5, "
			"10, 24 FROM manufacturer WHERE code = 'HXCT'");
		rfx::exec(dba,
			  "INSERT INTO lot (code, model_id, received_by, file_sha256, row_count) "
			  "SELECT 'LOT-CT', model_id, 'test', encode(sha256('LOT-CT'), 'hex'), 2 "
			  "FROM device_model WHERE code = 'LMZ-CT'");
		for (unsigned long long i = 0; i < 2; i++) {
			char bc[23];
			struct ml_error e = ML_ERROR_INIT;
			ASSERT_EQ(ML_OK, barcode_make("41300", "01", 8900 + i, bc, &e)) << e.msg;
			bcs_.push_back(bc);
			rfx::exec(dba,
				  std::string("INSERT INTO asset (barcode, model_id, lot_id, "
					      "production_batch, production_date) SELECT '") +
					  bc +
					  "', m.model_id, l.lot_id, 'B1', date '2026-09-01' FROM "
					  "device_model m, lot l WHERE m.code = 'LMZ-CT' AND "
					  "l.code = 'LOT-CT'");
			assets_.push_back(one(
				dba, std::string("SELECT asset_id FROM asset WHERE barcode = '") +
					     bc + "'"));
		}
		db_close(dba);
		struct db *tech = pgtest_connect(pgtest_as(ci_, "mlt_tech"));
		run_ = rfx::create_task(tech, "BCT", "ATK-CT", bcs_);
		struct ml_error err = ML_ERROR_INIT;
		std::string r = std::to_string(run_);
		const char *p[1] = { r.c_str() };
		EXPECT_EQ(ML_OK,
			  db_cmd(tech, "SELECT ml_run_status($1::bigint, 'running')", 1, p, &err))
			<< err.msg;
		db_close(tech);
	}
	/*
	 * The CT step as the technician sends it: position 1 a good CT (ratio
	 * error 0.04 %, phase 3′, judged pass on both items), position 2 with
	 * the given readings (ratio error and phase displacement × 1e4) and
	 * verdicts (step, ratio item, phase item). Limits ±0.2 % and ±10′, the
	 * rounding intervals 0.02 % and 1′ (xfmr.round_fraction 10 %), one
	 * reading (xfmr.readings).
	 */
	static std::string step(int64_t ratio, int64_t phase, const char *verdict,
				const char *verdict1, const char *verdict2)
	{
		const std::string a = "ARRAY[" + assets_[0] + "," + assets_[1] + "]";
		const std::string v = "ARRAY[400," + std::to_string(ratio) + "]::bigint[]";
		const std::string v2 = "ARRAY[30000," + std::to_string(phase) + "]::bigint[]";
		/* every reading is its own mean; rounded to the interval, half-even */
		const std::string rounded = "ARRAY[400, ml_div_he(" + std::to_string(ratio) +
					    ", 200)::bigint * 200]";
		const std::string rounded2 = "ARRAY[30000, ml_div_he(" + std::to_string(phase) +
					     ", 10000)::bigint * 10000]";
		return "SELECT ml_run_record_step(" + std::to_string(run_) +
		       ", 0, 'ct', 'CT 100%', now(), " + a + ", ARRAY[1,1], ARRAY[1,2], " + v +
		       ", " + v2 + ", ARRAY[-1,-1], ARRAY[0,0], ARRAY[now(),now()], " + a +
		       ", ARRAY[1,2], ARRAY[1,1], " + v + ", " + rounded + ", " + v2 + ", " +
		       rounded2 +
		       ", NULL, ARRAY[2000,2000], ARRAY[2000,2000], ARRAY[200,200], "
		       "ARRAY[100000,100000], ARRAY[100000,100000], ARRAY[10000,10000], NULL, "
		       "ARRAY['pass','" +
		       verdict + "'], ARRAY['pass','" + verdict + "'], ARRAY['pass','" + verdict2 +
		       "'], ARRAY['pass','" + verdict1 + "'], ARRAY['',''], NULL)";
	}
	static int as_tech(const std::string &sql, struct ml_error *err)
	{
		struct db *db = pgtest_connect(pgtest_as(ci_, "mlt_tech"));
		int rc = db_cmd(db, sql.c_str(), 0, nullptr, err);
		db_close(db);
		return rc;
	}
	static std::string ci_;
	static std::vector<std::string> bcs_, assets_;
	static int64_t run_;
};
std::string AttackXfmr::ci_;
std::vector<std::string> AttackXfmr::bcs_, AttackXfmr::assets_;
int64_t AttackXfmr::run_ = 0;

TEST_F(AttackXfmr, ItemVerdictsThatContradictTheReadingsAreRefused)
{
	struct ml_error err = ML_ERROR_INIT;
	const std::string pos2 = "position 2 (asset " + bcs_[1] + ")";
	struct {
		std::string sql;
		std::vector<std::string> msg;
	} lies[] = {
		/* the audit's attack: +5.00 % judged fail as a step, pass as both items */
		{ step(50000, 30000, "fail", "pass", "pass"),
		  { pos2, "ratio error +5.0000 % (rounded) is beyond the limit ±0.2000 %",
		    "class 0.2S at 100 % of rated current", "IEC 61869-2" } },
		/* the same with the phase item failing as it should: the ratio item still lies */
		{ step(50000, 150000, "fail", "pass", "fail"),
		  { pos2, "ratio error +5.0000 %", "±0.2000 %" } },
		/* a ratio within the limit and a phase displacement of 15′ judged pass as an item */
		{ step(400, 150000, "fail", "pass", "pass"),
		  { pos2, "+15.0000′ (rounded) is beyond the limit ±10.0000′" } },
		{ step(-400, -150000, "none", "pass", "pass"), { pos2, "-15.0000′", "±10.0000′" } },
		/* the step's verdict must be its items': not 'none' nor 'fail' for two passing items,
		 * not 'pass' for a failing one */
		{ step(400, 30000, "none", "pass", "pass"),
		  { pos2,
		    "the step's verdict none contradicts its items (ratio pass, phase pass)" } },
		{ step(50000, 30000, "pass", "fail", "pass"), { pos2, "ratio error +5.0000 %" } },
		{ step(400, 150000, "pass", "pass", "fail"), { pos2, "+15.0000′" } },
		/* a class 0.2S step with a phase limit passes with both items judged */
		{ step(400, 30000, "pass", "pass", "none"),
		  { pos2, "needs both items judged pass (ratio pass, phase none)" } },
	};
	for (const auto &l : lies) {
		EXPECT_EQ(ML_EINVAL, as_tech(l.sql, &err)) << l.sql;
		for (const auto &m : l.msg)
			EXPECT_NE(nullptr, strstr(err.msg, m.c_str())) << m << " / " << err.msg;
	}
	struct db *dba = pgtest_connect(ci_);
	EXPECT_EQ("0", one(dba, "SELECT count(*) FROM run_step_result WHERE run_id = " +
					std::to_string(run_)));
	/* the truth still records: position 1 passes, position 2 fails its ratio (+5.00 %) and
	 * passes its phase (3′); the conclusion follows */
	ASSERT_EQ(ML_OK, as_tech(step(50000, 30000, "fail", "fail", "pass"), &err)) << err.msg;
	ASSERT_EQ(ML_OK, as_tech("SELECT ml_run_conclude(" + std::to_string(run_) + ")", &err))
		<< err.msg;
	EXPECT_EQ(
		"1:overall:pass,1:phase:pass,1:ratio:pass,2:overall:fail,2:phase:pass,2:ratio:fail",
		one(dba, "SELECT string_agg(p.position || ':' || c.item || ':' || c.verdict, ',' "
			 "ORDER BY p.position, c.item) FROM run_conclusion c JOIN run_position p "
			 "USING (run_id, asset_id) WHERE c.run_id = " +
				 std::to_string(run_)));
	EXPECT_EQ("in_stock,failed",
		  one(dba, "SELECT string_agg(state::text, ',' ORDER BY barcode) FROM asset "
			   "WHERE barcode IN ('" +
				   bcs_[0] + "','" + bcs_[1] + "')"));
	/*
	 * Results recorded before 0361 are not rewritten: a contradicting transformer step (here
	 * written by the superuser, as the hole let a technician write it) is refused by the
	 * certificate check, and a run holding one is not concluded.
	 */
	auto forged = [&](int64_t run, const std::string &asset, int pos) {
		rfx::exec(dba,
			  "INSERT INTO run_step_result (asset_id, run_id, step_no, position, kind, "
			  "label, n_readings, verdict, internal_verdict, verdict1, verdict2, "
			  "measured_at) VALUES (" +
				  asset + ", " + std::to_string(run) + ", 0, " +
				  std::to_string(pos) +
				  ", 'ct', 'CT 100%', 1, 'fail', 'fail', 'pass', 'pass', now())");
	};
	forged(run_, assets_[0], 1);
	EXPECT_NE(
		std::string::npos,
		one(dba, "SELECT ml_cert_run_problem(" + std::to_string(run_) + ", NULL)")
			.find("asset " + bcs_[0] +
			      " (position 1) step 1 (CT 100%) is fail although its items say ratio "
			      "pass, phase pass"));
	char bc[23];
	ASSERT_EQ(ML_OK, barcode_make("41300", "01", 8902, bc, &err)) << err.msg;
	rfx::exec(dba,
		  std::string("INSERT INTO asset (barcode, model_id, lot_id, production_batch, "
			      "production_date) SELECT '") +
			  bc +
			  "', m.model_id, l.lot_id, 'B1', date '2026-09-01' FROM device_model m, "
			  "lot l WHERE m.code = 'LMZ-CT' AND l.code = 'LOT-CT'");
	struct db *tech = pgtest_connect(pgtest_as(ci_, "mlt_tech"));
	int64_t run2 = rfx::create_task(tech, "BCT", "ATK-CT", { bc });
	db_close(tech);
	ASSERT_EQ(ML_OK,
		  as_tech("SELECT ml_run_status(" + std::to_string(run2) + ", 'running')", &err))
		<< err.msg;
	rfx::exec(dba, "INSERT INTO run_step (run_id, step_no, kind, label, started_at) VALUES (" +
			       std::to_string(run2) + ", 0, 'ct', 'CT 100%', now())");
	forged(run2,
	       one(dba, std::string("SELECT asset_id FROM asset WHERE barcode = '") + bc + "'"), 1);
	EXPECT_EQ(ML_ESTATE, as_tech("SELECT ml_run_conclude(" + std::to_string(run2) + ")", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "the step's verdict fail contradicts its items (ratio "
					   "pass, phase pass): not concluded"))
		<< err.msg;
	EXPECT_EQ("verifying",
		  one(dba, std::string("SELECT state FROM asset WHERE barcode = '") + bc + "'"));
	db_close(dba);
}

} // namespace

/*
 * The date of a run is China's (0360), whatever time zone the caller's
 * session sets: before, a technician's SET TimeZone dated a bench run a day
 * off without the back-dating permission (and past the check of the
 * standards' certificates on that day). The zone's date differs from China's
 * at this moment (rfx::far_zone).
 */
TEST_F(Attack, TheCallersTimeZoneDoesNotDateARun)
{
	rfx::add_bench(ci_, "B9", 1599, 4, "STD1");
	std::vector<std::string> bc = rfx::seed_assets(dba_, 1, 9000);
	std::string zone = rfx::far_zone(dba_);
	struct db *tech = pgtest_connect(pgtest_as(ci_, "mlt_tech"));
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_cmd(tech, (std::string("SET TimeZone = '") + zone + "'").c_str(), 0,
				nullptr, &err))
		<< err.msg;
	EXPECT_EQ("f", one(tech, "SELECT (current_date = ml_cert_today())::text::char"))
		<< "the session's date should differ from China's in " << zone;
	std::string run = one(tech,
			      "SELECT ml_run_create('B9', 'ATK', 'driven', ARRAY[1], ARRAY['" +
				      bc[0] + "'])");
	db_close(tech);
	EXPECT_EQ("t|t",
		  one(dba_,
		      "SELECT (run_date = ml_cert_today())::text::char || '|' || "
		      "(backdated_by IS NULL)::text::char FROM verification_run WHERE run_id = " +
			      run));
}

/*
 * A run does not mount an asset being retired (stores finding 8, 0369): the
 * pending request freezes it, so verify_start is refused naming the asset and
 * the request (before, the approval then failed for good on its
 * compare-and-set); once the request is rejected the run takes it.
 */
TEST_F(Attack, ARunDoesNotMountAnAssetBeingRetired)
{
	rfx::add_bench(ci_, "B8", 1598, 4, "STD1");
	std::vector<std::string> bc = rfx::seed_assets(dba_, 1, 8000);
	rfx::exec(dba_, "UPDATE asset SET state = 'in_stock', valid_until = current_date + 30 "
			"WHERE barcode = '" +
				bc[0] + "'");
	struct db *clerk = pgtest_connect(pgtest_as(ci_, "mlt_clerk"));
	std::string req = one(clerk, "SELECT ml_retire_request('return_to_maker', ARRAY['" + bc[0] +
					     "'], 'recall')");
	db_close(clerk);
	std::string create = "SELECT ml_run_create('B8', 'ATK', 'driven', ARRAY[1], ARRAY['" +
			     bc[0] + "'])";
	std::string before = truth();
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE, as("mlt_tech", create, &err));
	EXPECT_NE(nullptr,
		  strstr(err.msg,
			 ("asset " + bc[0] + " is on pending retirement request " + req).c_str()))
		<< err.msg;
	EXPECT_EQ(before, truth());
	EXPECT_EQ(ML_OK, as("mlt_manager", "SELECT ml_retire_reject(" + req + ", 'keep it')", &err))
		<< err.msg;
	EXPECT_EQ(ML_OK, as("mlt_tech", create, &err)) << err.msg;
	EXPECT_EQ("verifying",
		  one(dba_, "SELECT state FROM asset WHERE barcode = '" + bc[0] + "'"));
}
