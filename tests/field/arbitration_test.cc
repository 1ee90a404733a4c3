/*
 * Arbitration verification (仲裁检定) linked to the complaint by columns
 * (0229): the fault report of a customer's complaint gets the run that
 * verified its meter and the certificate or result notice issued from that
 * run, through ml_fault_arbitration_link only, with every refusal; shown by
 * `field fault-show` and `cert show`. The run is the certificate tests'
 * finished run (tests/reports/workflow_run_fixture.sql: run 1, three meters,
 * position 2 failed; run 2 a CT); its certificates go through the real
 * workflow, each step by its person.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "../support/pgtest.h"
#include "field/field.h"

extern "C" {
#include "reports/cert_doc.h"
#include "reports/cert_source.h"
#include "reports/cert_workflow.h"
}

namespace
{

std::string g_ci;

std::string q(const std::string &sql)
{
	struct db *db = pgtest_connect(g_ci);
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	std::string v = "?";
	if (db_query_one(db, sql.c_str(), 0, nullptr, &res, &err))
		ADD_FAILURE() << sql << ": " << err.msg;
	else {
		v = PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0);
		PQclear(res);
	}
	db_close(db);
	return v;
}

void script(const char *rel)
{
	std::ifstream f(pgtest_src(rel));
	std::stringstream ss;
	ss << f.rdbuf();
	ASSERT_FALSE(ss.str().empty()) << rel;
	struct db *db = pgtest_connect(g_ci);
	/* static fixture text from the repository, run as one script */
	PGresult *res = PQexec(db_conn(db), ("BEGIN;" + ss.str() + "COMMIT;").c_str());
	EXPECT_EQ(PGRES_COMMAND_OK, PQresultStatus(res)) << PQerrorMessage(db_conn(db));
	PQclear(res);
	db_close(db);
}

/* The certificate id run 1 gave position p (after issue_all). */
long long cert_of(int position)
{
	return atoll(
		q("SELECT c.id FROM certificate c JOIN run_position p ON p.asset_id = c.asset_id "
		  "AND p.run_id = c.run_id WHERE c.run_id = 1 AND p.position = " +
		  std::to_string(position))
			.c_str());
}

class Arbitration : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("arbitration");
		script("tests/reports/workflow_run_fixture.sql");
		/* the complaints, made the day before the run (a fixture: ml_fault_report
		 * needs a removed meter; the field tests cover it): an arbitration for
		 * position 1's meter, an analysis for position 3's, and an arbitration
		 * for position 3 reported after the run was made */
		script("tests/field/arbitration_fixture.sql");
	}
};

} // namespace

TEST_F(Arbitration, TheRunAndCertificateThatAnsweredTheComplaint)
{
	struct db *tech = pgtest_connect(pgtest_as(g_ci, "mlt_tech"));
	struct db *fm = pgtest_connect(pgtest_as(g_ci, "mlt_field"));
	struct ml_error err = ML_ERROR_INIT;
	long long f1 = atoll(
		q("SELECT fault_id FROM fault_report WHERE complaint_ref = 'TS-1'").c_str());
	long long fa = atoll(
		q("SELECT fault_id FROM fault_report WHERE kind = 'analysis'").c_str());
	long long f3 = atoll(
		q("SELECT fault_id FROM fault_report WHERE complaint_ref = 'TS-3'").c_str());
	long long ct_run = atoll(
		q("SELECT run_id FROM verification_run WHERE scheme_code = 'JJG313-CT'").c_str());

	/* refusals, each naming the value; nothing linked */
	EXPECT_EQ(ML_EPERM, field_fault_arbitration(fm, f1, 1, 0, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "fault.analyse")) << err.msg;
	EXPECT_EQ(ML_ESTATE, field_fault_arbitration(tech, fa, 1, 0, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "fault analysis, not an arbitration")) << err.msg;
	EXPECT_EQ(ML_EINVAL, field_fault_arbitration(tech, f1, ct_run, 0, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "did not verify asset 4130001000000446529641"))
		<< err.msg;
	EXPECT_EQ(ML_EINVAL, field_fault_arbitration(tech, f3, 1, 0, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "before fault report")) << err.msg;
	EXPECT_EQ(ML_ENOTFOUND, field_fault_arbitration(tech, f1, 999999, 0, &err));
	EXPECT_EQ(ML_ENOTFOUND, field_fault_arbitration(tech, 999999, 1, 0, &err));
	EXPECT_EQ("NULL",
		  q("SELECT arbitration_run_id FROM fault_report WHERE complaint_ref = 'TS-1'"));

	/* the run that answered it */
	ASSERT_EQ(ML_OK, field_fault_arbitration(tech, f1, 1, 0, &err)) << err.msg;
	EXPECT_EQ("1 mlt_tech",
		  q("SELECT f.arbitration_run_id || ' ' || u.login FROM fault_report f "
		    "JOIN app_user u ON u.user_id = f.arbitration_linked_by "
		    "WHERE complaint_ref = 'TS-1'"));
	EXPECT_EQ(ML_ESTATE, field_fault_arbitration(tech, f1, ct_run, 0, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "already answered by run 1")) << err.msg;

	/* the certificates through the workflow: drafted, a draft answers nobody */
	struct db *checker = pgtest_connect(pgtest_as(g_ci, "mlt_checker"));
	struct db *approver = pgtest_connect(pgtest_as(g_ci, "mlt_approver"));
	long long *ids = nullptr;
	size_t n = 0, created = 0;
	ASSERT_EQ(ML_OK, cert_source_drafts(tech, 1, nullptr, &ids, &n, &created, &err)) << err.msg;
	ASSERT_EQ(3u, n);
	long long c1 = cert_of(1), c2 = cert_of(2);
	EXPECT_EQ(ML_ESTATE, field_fault_arbitration(tech, f1, 1, c1, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "only an issued one answers a complaint")) << err.msg;
	struct cert_renderer *r = nullptr;
	ASSERT_EQ(ML_OK, cert_renderer_new(nullptr, &r, &err)) << err.msg;
	struct cert_issue_opts o = { &r, 1 };
	ASSERT_EQ(ML_OK, cert_check(checker, ids, n, &err)) << err.msg;
	ASSERT_EQ(ML_OK, cert_approve(approver, ids, n, &o, &err)) << err.msg;
	cert_renderer_free(r);
	free(ids);
	/* another meter's result notice, then its own certificate */
	EXPECT_EQ(ML_EINVAL, field_fault_arbitration(tech, f1, 1, c2, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "not for asset 4130001000000446529641")) << err.msg;
	ASSERT_EQ(ML_OK, field_fault_arbitration(tech, f1, 1, c1, &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, field_fault_arbitration(tech, f1, 1, c2, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "already answered by certificate")) << err.msg;

	/* shown with the fault report and with the certificate */
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, field_fault_show(tech, f1, &res, &err)) << err.msg;
	EXPECT_STREQ("TS-1", db_get(res, 0, "complaint"));
	EXPECT_STREQ("1", db_get(res, 0, "run_id"));
	EXPECT_STREQ("finished", db_get(res, 0, "run_status"));
	EXPECT_EQ(std::to_string(c1), db_get(res, 0, "cert_id"));
	EXPECT_STREQ("certificate", db_get(res, 0, "cert_kind"));
	EXPECT_STREQ("issued", db_get(res, 0, "cert_state"));
	EXPECT_NE('\0', db_get(res, 0, "cert_no")[0]);
	PQclear(res);
	EXPECT_EQ(ML_ENOTFOUND, field_fault_show(tech, 999999, &res, &err));
	std::string out, tech_db = " --db " + pgtest_sq(pgtest_as(g_ci, "mlt_tech")) + " ";
	ASSERT_EQ(0, pgtest_run(pgtest_cli() + tech_db + "cert show " + std::to_string(c1), &out))
		<< out;
	EXPECT_NE(std::string::npos,
		  out.find("arbitration:   complaint TS-1 (fault report " + std::to_string(f1)))
		<< out;
	ASSERT_EQ(0, pgtest_run(pgtest_cli() + tech_db + "--json cert show " + std::to_string(c1),
				&out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"arbitration\":[{\"fault_id\":" +
					      std::to_string(f1) + ",\"complaint\":\"TS-1\""))
		<< out;
	ASSERT_EQ(0, pgtest_run(pgtest_cli() + tech_db + "field fault-show " + std::to_string(f1),
				&out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("TS-1")) << out;
	/* the CLI link refuses like the library (exit 5: already answered) */
	EXPECT_EQ(5, pgtest_run(pgtest_cli() + tech_db + "field arbitration " + std::to_string(f1) +
					" --run " + std::to_string(ct_run),
				&out, true));
	EXPECT_NE(std::string::npos, out.find("already answered by run 1")) << out;

	/* nobody writes the link directly */
	for (struct db *db : { tech, fm, approver }) {
		EXPECT_EQ(ML_EPERM, db_cmd(db, "UPDATE fault_report SET arbitration_run_id = NULL",
					   0, nullptr, &err));
	}
	for (struct db *db : { tech, fm, checker, approver })
		db_close(db);
}
