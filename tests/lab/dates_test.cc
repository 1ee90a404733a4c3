/*
 * Business dates (0365).
 *
 * valid_until: the last day of a verification's validity is the day before
 * the same date one period on (domain.md §1.12: verified 2020-06-20, 8
 * years, 有效期至 2028-06-19); where that date does not exist (29 February of
 * a common year) the period ends on the month's last day. run_date + period
 * − 1 day lost a day for a run on 29 February (PostgreSQL clamps 2025-02-29
 * to 2025-02-28 before the day is taken off: 2025-02-27). Each run here is
 * concluded by ml_run_conclude and drafted by ml_cert_draft, so the asset's
 * valid_until, the conclusion's and the certificate's 有效期至 are compared.
 *
 * The session clock: functions whose business date followed the caller's
 * TimeZone setting are pinned to China's (SET TimeZone = 'Asia/Shanghai', as
 * ml_run_create since 0360); a guard lists any function that takes a date
 * from the clock or from a moment without the pin.
 */
#include <cstring>
#include <string>
#include <vector>

#include "reports/cert_doc.h"
#include "reports/cert_workflow.h"
#include "runner_fixture.h"

using rfx::far_zone;
using rfx::one;

namespace
{

const char *const kScheme = "scheme code=DTS name=\"dates\"\n"
			    "suits kinds=meter_1p classes=1 connection=direct\n"
			    "creep\n";

class Dates : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		ci_ = pgtest_fresh_db("dates");
		rfx::add_standard(ci_, "STD1", "2020-01-01", "2099-12-31");
		rfx::add_bench(ci_, "B1", 1503, 4, "STD1");
		rfx::add_scheme(ci_, kScheme);
		struct db *dba = pgtest_connect(ci_);
		y8_ = rfx::seed_assets(dba, 2, 3000); /* DDZY285-Z: 96 months */
		/* a model with a one-year period, and three of its meters */
		rfx::exec(
			dba,
			"INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, "
			"connection, wiring, un_v, ib_a, imax_a, constant_imp, verification_period_months) "
			"SELECT 'DDZY285-Y', manufacturer_id, 'one-year meter', 'meter_1p', '1', 'direct', "
			"'1p2w', 220, 5, 60, 1200, 12 FROM manufacturer WHERE code = 'HX'");
		rfx::exec(
			dba,
			"INSERT INTO lot (code, model_id, received_by, file_sha256, row_count) SELECT "
			"'LOT-Y', model_id, 'test', encode(sha256('LOT-Y'), 'hex'), 3 FROM device_model "
			"WHERE code = 'DDZY285-Y'");
		for (unsigned long long i = 0; i < 3; i++) {
			char bc[23];
			struct ml_error err = ML_ERROR_INIT;
			ASSERT_EQ(ML_OK, barcode_make("41300", "01", 3100 + i, bc, &err))
				<< err.msg;
			y1_.push_back(bc);
			rfx::exec(dba,
				  std::string("INSERT INTO asset (barcode, model_id, lot_id, "
					      "production_batch, production_date) SELECT '") +
					  bc +
					  "', m.model_id, l.lot_id, 'B1', date '2026-09-01' FROM "
					  "device_model m, lot l WHERE m.code = 'DDZY285-Y' AND "
					  "l.code = 'LOT-Y'");
		}
		db_close(dba);
	}
	void SetUp() override
	{
		dba_ = pgtest_connect(ci_);
	}
	void TearDown() override
	{
		db_close(dba_);
	}
	int as_tech(const std::string &sql, struct ml_error *err)
	{
		struct db *db = pgtest_connect(pgtest_as(ci_, "mlt_tech"));
		int rc = db_cmd(db, sql.c_str(), 0, nullptr, err);
		db_close(db);
		return rc;
	}
	/*
	 * One meter verified on `day` through the functions: the task created by the
	 * technician (dated today), its date set to `day` by the DBA (as a back-dated
	 * run is), a passing creep step recorded, the run concluded, a certificate
	 * drafted. Answers "asset|conclusion|certificate|check" valid_until.
	 */
	std::string verify_on(const std::string &bc, const std::string &day)
	{
		struct db *tech = pgtest_connect(pgtest_as(ci_, "mlt_tech"));
		int64_t id = rfx::create_task(tech, "B1", "DTS", { bc });
		db_close(tech);
		if (id <= 0)
			return "no task";
		std::string r = std::to_string(id);
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_OK, as_tech("SELECT ml_run_status(" + r + ", 'running')", &err))
			<< err.msg;
		rfx::exec(dba_, "UPDATE verification_run SET run_date = '" + day +
					"' WHERE run_id = " + r);
		std::string a = one(dba_,
				    "SELECT asset_id FROM asset WHERE barcode = '" + bc + "'");
		EXPECT_EQ(
			ML_OK,
			as_tech("SELECT ml_run_record_step(" + r +
					", 0, 'creep', 'creep', now(), ARRAY[" + a +
					"], ARRAY[1], ARRAY[1], ARRAY[0], NULL, ARRAY[0], ARRAY[0], "
					"ARRAY[now()], ARRAY[" +
					a +
					"], ARRAY[1], ARRAY[0], NULL, NULL, NULL, NULL, ARRAY[0], "
					"NULL, NULL, NULL, NULL, NULL, NULL, NULL, ARRAY['pass'], "
					"ARRAY['pass'], ARRAY['none'], ARRAY['none'], ARRAY[''], "
					"ARRAY[3000000])",
				&err))
			<< err.msg;
		EXPECT_EQ(ML_OK, as_tech("SELECT ml_run_conclude(" + r + ")", &err)) << err.msg;
		EXPECT_EQ(ML_OK, as_tech("SELECT ml_cert_draft(" + r + ")", &err)) << err.msg;
		return one(
			dba_,
			"SELECT a.valid_until || '|' || c.valid_until || '|' || "
			"coalesce(k.content ->> 'valid_until', '-') || '|' || "
			"coalesce(ml_cert_run_problem(" +
				r +
				", NULL), 'consistent') "
				"FROM asset a JOIN run_conclusion c ON c.asset_id = a.asset_id "
				"AND c.run_id = " +
				r +
				" AND c.item = 'overall' LEFT JOIN certificate k ON k.run_id = " +
				r + " AND k.asset_id = a.asset_id WHERE a.barcode = '" + bc + "'");
	}

	static std::string ci_;
	static std::vector<std::string> y8_, y1_;
	struct db *dba_ = nullptr;
};
std::string Dates::ci_;
std::vector<std::string> Dates::y8_, Dates::y1_;

} // namespace

TEST_F(Dates, ValidUntilIsTheDayBeforeTheAnniversary)
{
	/* 29 February, one year: there is no 2025-02-29, the year runs to the end of February */
	EXPECT_EQ("2025-02-28|2025-02-28|2025-02-28|consistent", verify_on(y1_[0], "2024-02-29"));
	/* 29 February, eight years: 2032-02-29 exists, the day before it */
	EXPECT_EQ("2032-02-28|2032-02-28|2032-02-28|consistent", verify_on(y8_[0], "2024-02-29"));
	/* domain.md §1.12's certificate: verified 2020-06-20, 8 years, 有效期至 2028-06-19 */
	EXPECT_EQ("2028-06-19|2028-06-19|2028-06-19|consistent", verify_on(y8_[1], "2020-06-20"));
	/* 1 March of a common year, one year: the day before 2024-03-01 is 29 February
	 * ((run_date − 1) + period would give 2024-02-28) */
	EXPECT_EQ("2024-02-29|2024-02-29|2024-02-29|consistent", verify_on(y1_[1], "2023-03-01"));
	/* the rule itself at the month ends */
	EXPECT_EQ(
		"2024-05-31|2024-02-29|2024-04-30|2024-02-27",
		one(dba_,
		    "SELECT ml_valid_until('2024-05-01', 1) || '|' || "
		    "ml_valid_until('2024-01-31', 1) || '|' || "
		    "ml_valid_until('2024-03-31', 1) || '|' || ml_valid_until('2023-02-28', 12)"));
}

/*
 * A validity checked at the day boundary follows China's day, whatever the
 * caller's zone: an asset valid until China's yesterday may not be issued,
 * one valid until China's today may (ml_issue_problem, the rule of issue and
 * install, 0200).
 */
/* A revision's corrected 有效期至 obeys the same rule (0366's ml_cert_revise):
 * verified 2024-02-29 on a one-year model, the period ends 2025-02-28; the
 * old (verified + period) − 1 day would have ended it on 2025-02-27 and
 * refused the day the run itself gave. */
TEST_F(Dates, RevisionValidityEndsOnTheRulesLastDay)
{
	ASSERT_EQ("2025-02-28|2025-02-28|2025-02-28|consistent", verify_on(y1_[2], "2024-02-29"));
	long long id = std::stoll(one(dba_, "SELECT max(k.id) FROM certificate k JOIN asset a ON "
					    "a.asset_id = k.asset_id WHERE a.barcode = '" +
						    y1_[2] + "'"));
	struct ml_error err = ML_ERROR_INIT;
	struct db *checker = pgtest_connect(pgtest_as(ci_, "mlt_checker"));
	struct db *approver = pgtest_connect(pgtest_as(ci_, "mlt_approver"));
	ASSERT_EQ(ML_OK, cert_check(checker, &id, 1, &err)) << err.msg;
	struct cert_renderer *r = nullptr;
	ASSERT_EQ(ML_OK, cert_renderer_new(nullptr, &r, &err)) << err.msg;
	struct cert_issue_opts o = { &r, 1 };
	ASSERT_EQ(ML_OK, cert_approve(approver, &id, 1, &o, &err)) << err.msg;
	cert_renderer_free(r);

	long long rev = 0;
	struct cert_override late[] = { { "valid_until", "2025-03-01" } };
	EXPECT_EQ(ML_EINVAL, cert_revise(approver, id, "有效期更正", late, 1, &rev, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "period of 12 months ends 2025-02-28")) << err.msg;
	struct cert_override last[] = { { "valid_until", "2025-02-28" } };
	ml_error_clear(&err);
	EXPECT_EQ(ML_OK, cert_revise(approver, id, "有效期更正", last, 1, &rev, &err)) << err.msg;
	EXPECT_EQ("2025-02-28", one(dba_, "SELECT content ->> 'valid_until' FROM certificate "
					  "WHERE id = " +
						  std::to_string(rev)));
	db_close(approver);
	db_close(checker);
}

TEST_F(Dates, ExpiryIsJudgedOnChinasDay)
{
	std::string zone = far_zone(dba_);
	struct db *tech = pgtest_connect_in_zone(pgtest_as(ci_, "mlt_tech"), zone);
	EXPECT_EQ("f", one(tech, "SELECT (current_date = ml_cert_today())::text::char"))
		<< "the session's date should differ from China's in " << zone;
	EXPECT_EQ("expired|ok",
		  one(tech,
		      "SELECT CASE WHEN ml_issue_problem(ml_cert_today() - 1, NULL, 12) LIKE "
		      "'its verification expired on %' THEN 'expired' ELSE 'ok' END || '|' || "
		      "coalesce(ml_issue_problem(ml_cert_today(), NULL, 12), 'ok')"));
	db_close(tech);
}

/*
 * The guard: no function of the schema takes a business date from the
 * session's zone. Listed: every function whose source uses current_date,
 * current_time, localtime(stamp), a cast of now() or of a moment column to a
 * date or local timestamp, date_trunc/extract/to_char on now() or a moment
 * column, and that has no TimeZone setting. (CREATE OR REPLACE drops the
 * setting: a redefinition must restate it.) Allowed:
 *   ml_audit_append_block: extract(epoch FROM now()) is a count of seconds,
 *     the same in every zone;
 *   ml_audit_trigger_sql: the text of the audit triggers, which pin UTC
 *     themselves (0140, 0344);
 *   ml_issue_problem: names its zone (ml_cert_today, AT TIME ZONE; it is
 *     inlined, which a SET clause would stop);
 *   ml_cert_require_current: formats a moment AT TIME ZONE 'Asia/Shanghai'.
 * Also listed (0371): a function comparing a moment column (…_at) with one
 * of its date parameters, which PostgreSQL turns into the first moment of
 * that day in the session's zone (the quality aggregates' periods).
 */
TEST_F(Dates, NoFunctionDatesByTheSessionZone)
{
	EXPECT_EQ(
		"",
		one(dba_,
		    "SELECT coalesce(string_agg(p.oid::regprocedure::text, ', ' ORDER BY 1), '') "
		    "FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace "
		    "AND p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql')) "
		    "AND NOT coalesce(array_to_string(p.proconfig, ',') ~ 'TimeZone=', false) "
		    "AND p.proname NOT IN ('ml_audit_append_block', 'ml_audit_trigger_sql', "
		    "'ml_issue_problem', 'ml_cert_require_current') "
		    "AND (p.prosrc ~* '\\m(current_date|current_time|localtime|localtimestamp)\\M' "
		    "  OR p.prosrc ~* '(now\\(\\)|current_timestamp|_at|_time)\\)?\\s*::\\s*(date|timestamp)\\M' "
		    "  OR p.prosrc ~* '(date_trunc|extract|to_char)\\s*\\([^)]*(now\\(\\)|current_timestamp|_at\\M)' "
		    /* a moment column compared with a date parameter (0371) */
		    "  OR EXISTS (SELECT 1 FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]), "
		    "    p.proargnames) a(t, n) WHERE a.t = 'date'::regtype "
		    "    AND (p.prosrc ~* ('_at\\s*(<|>|<=|>=|=)\\s*' || a.n || '\\M') "
		    "      OR p.prosrc ~* ('\\m' || a.n || '(\\s*[-+]\\s*\\d+)?\\s*(<|>|<=|>=|=)\\s*[a-z_.]*_at\\M'))))"));
	/* and the new pattern sees what it is for: a moment compared with a date argument */
	EXPECT_EQ(
		"t",
		one(dba_,
		    "SELECT bool_and(p.prosrc ~* ('_at\\s*(<|>|<=|>=|=)\\s*' || 'p_from' || '\\M')) "
		    "FROM pg_proc p WHERE p.proname IN ('ml_quality_items', 'ml_quality_points', "
		    "'ml_quality_point_failures', 'ml_quality_alert_units')"));
	/* and the guard sees what it guards: ml_run_create's and ml_site_inspect's pin */
	EXPECT_EQ("2",
		  one(dba_, "SELECT count(*) FROM pg_proc WHERE proname IN ('ml_run_create', "
			    "'ml_site_inspect') AND 'TimeZone=Asia/Shanghai' = ANY (proconfig)"));
}
