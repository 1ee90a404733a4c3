/* meterlab cert …: exit codes, --json, files, through the built binary, each
 * command run by the person whose step it is (their own database login). */
#include <gtest/gtest.h>

#include <ctype.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "workflow_support.h"

namespace
{

struct CertCli : ::testing::Test {
	std::string ci, dir;
	struct db *db = nullptr; /* the DBA: fixtures and looking behind the scenes */

	void SetUp() override
	{
		ci = wf_db(); /* shared; each test issues under its own issuer */
		db = pgtest_connect(ci);
		char tmpl[] = "/tmp/mlcertcli_XXXXXX";
		ASSERT_NE(nullptr, mkdtemp(tmpl));
		dir = tmpl;
	}
	void TearDown() override
	{
		db_close(db);
		std::string out;
		pgtest_run("rm -rf " + pgtest_sq(dir), &out);
	}
	/* meterlab ARGS as LOGIN */
	int as(const char *login, const std::string &args, std::string *out)
	{
		std::string cli = pgtest_cli() + " --db " + pgtest_sq(pgtest_as(ci, login)) + " ";
		return pgtest_run(cli + args, out, true);
	}
	/* Draft (technician) and check (checker) a run of n meters: the ids. */
	std::vector<long long> checked(const char *tag, const char *issuer, int n = 1)
	{
		long long run = wf_run(db, tag, n);
		std::string out;
		EXPECT_EQ(0, as("mlt_tech",
				"cert issue --run " + std::to_string(run) + " --issuer " + issuer,
				&out))
			<< out;
		EXPECT_EQ(0, as("mlt_checker", "cert check --run " + std::to_string(run), &out))
			<< out;
		std::vector<long long> v;
		PGresult *res = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_OK, db_exec(db,
					 ("SELECT id FROM certificate WHERE run_id = " +
					  std::to_string(run) + " ORDER BY id")
						 .c_str(),
					 0, nullptr, PGRES_TUPLES_OK, &res, &err));
		for (int i = 0; res && i < PQntuples(res); i++)
			v.push_back(atoll(PQgetvalue(res, i, 0)));
		PQclear(res);
		return v;
	}
};

std::string slurp(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

} // namespace

TEST_F(CertCli, EverySubcommandAnswersHelp)
{
	std::string out;
	for (const char *c : { "issue", "check", "approve", "show", "list", "print", "verify",
			       "revise", "withdraw", "discard", "backdate", "issuer" }) {
		EXPECT_EQ(0, as("mlt_auditor", std::string("cert ") + c + " --help", &out))
			<< c << out;
		EXPECT_NE(std::string::npos, out.find("usage: meterlab cert")) << c << out;
	}
	EXPECT_EQ(0, as("mlt_auditor", "cert --help", &out));
	EXPECT_EQ(2, as("mlt_auditor", "cert frob", &out));

	/* The issuing body is configuration, shown without its verification key. */
	ASSERT_EQ(0, as("mlt_auditor", "cert issuer --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"id\":\"DEMO\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"number_prefix\":\"JL\"")) << out;
	EXPECT_EQ(std::string::npos, out.find("verify_key")) << out;
	EXPECT_EQ(std::string::npos,
		  out.find(wf_scalar(db,
				     "SELECT verify_key FROM issuer_key WHERE issuer_id = 'DEMO'")))
		<< out;
	ASSERT_EQ(0, as("mlt_auditor", "cert issuer", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("authorization_no")) << out;
	EXPECT_EQ(2, as("mlt_auditor", "cert issuer extra", &out));
}

TEST_F(CertCli, CheckApproveShowListPrintWithExitCodes)
{
	long long run = wf_run(db, "cli-ca", 1);
	std::string srun = std::to_string(run), out;
	wf_issuer(db, "CA");
	ASSERT_EQ(0, as("mlt_tech", "cert issue --run " + srun + " --issuer CA --json", &out))
		<< out;
	std::string sid = wf_scalar(db, "SELECT id FROM certificate WHERE run_id = " + srun);

	EXPECT_EQ(2, as("mlt_checker", "cert check", &out)) << "nothing named";
	EXPECT_EQ(2, as("mlt_checker", "cert check " + sid + " --run " + srun, &out));
	EXPECT_EQ(2, as("mlt_checker", "cert check " + sid + " --by 李四", &out))
		<< "nobody signs in another's name: " << out;
	EXPECT_EQ(4, as("mlt_checker", "cert check 999999", &out)) << out;
	EXPECT_EQ(9, as("mlt_tech", "cert check " + sid, &out)) << out;
	EXPECT_NE(0, as("meterlab_app", "cert check " + sid, &out))
		<< "the shared role is nobody: it cannot log in (0142): " << out;
	EXPECT_NE(std::string::npos, out.find("not permitted to log in")) << out;
	EXPECT_EQ(5, as("mlt_approver", "cert approve " + sid, &out)) << "not checked yet: " << out;
	ASSERT_EQ(0, as("mlt_checker", "cert check " + sid + " --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"state\":\"checked\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"checker\":\"张核验\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"checker_login\":\"mlt_checker\"")) << out;
	EXPECT_EQ(5, as("mlt_auditor", "cert print " + sid + " --out " + pgtest_sq(dir + "/x.pdf"),
			&out))
		<< "not issued: " << out;
	EXPECT_EQ(9, as("mlt_checker", "cert approve " + sid, &out)) << out;
	EXPECT_EQ(2, as("mlt_approver", "cert approve " + sid + " --by 刘批准", &out)) << out;
	EXPECT_EQ(2, as("mlt_approver", "cert approve " + sid + " --issued-on 2026-12-31", &out))
		<< "no date option: " << out;
	EXPECT_EQ(3, as("mlt_approver", "cert approve " + sid + " --threads 0", &out)) << out;
	ASSERT_EQ(0,
		  as("mlt_approver", "cert approve " + sid + " --out-dir " + pgtest_sq(dir), &out))
		<< out;
	std::string no = wf_no(db, "CA", 1);
	EXPECT_NE(std::string::npos, out.find(no)) << out;
	EXPECT_NE(std::string::npos, out.find(dir + "/" + no + ".pdf")) << out;

	/* show by id and by number, text and JSON. */
	ASSERT_EQ(0, as("mlt_auditor", "cert show " + no, &out)) << out;
	EXPECT_NE(std::string::npos, out.find("approver:      刘批准 [mlt_approver]")) << out;
	EXPECT_NE(std::string::npos, out.find("verifier:      郑检测 [mlt_operator]")) << out;
	ASSERT_EQ(0, as("mlt_auditor", "cert show " + sid + " --json", &out)) << out;
	EXPECT_EQ('{', out[0]) << out;
	EXPECT_NE(std::string::npos, out.find("\"status\":\"issued\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"issued_on\":\"" + wf_today(db) + "\"")) << out;
	EXPECT_EQ(4, as("mlt_auditor", "cert show CA2026-999999", &out));
	EXPECT_EQ(2, as("mlt_auditor", "cert show", &out));

	ASSERT_EQ(0, as("mlt_auditor", "cert list --state issued --run " + srun + " --json", &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"cert_no\":\"" + no + "\"")) << out;
	ASSERT_EQ(0, as("mlt_auditor", "cert list --state draft --run " + srun + " --json", &out))
		<< out;
	EXPECT_EQ("[]\n", out);
	EXPECT_EQ(3, as("mlt_auditor", "cert list --state nonsense", &out)) << out;
	EXPECT_EQ(2, as("mlt_auditor", "cert list --run abc", &out)) << out;

	/* print writes the stored bytes: identical to the file written at issue. */
	std::string printed = dir + "/printed.pdf";
	ASSERT_EQ(0, as("mlt_auditor", "cert print " + no + " --out " + pgtest_sq(printed), &out))
		<< out;
	std::string a = slurp(printed), b = slurp(dir + "/" + no + ".pdf");
	ASSERT_GT(a.size(), 1000u);
	EXPECT_EQ(a, b);
	EXPECT_EQ(7, as("mlt_auditor", "cert print " + no + " --out /nonexistent/dir/x.pdf", &out))
		<< out;
}

TEST_F(CertCli, VerifyAndReviseThroughTheBinary)
{
	wf_issuer(db, "CB");
	std::vector<long long> v = checked("cli-cb", "CB");
	ASSERT_EQ(1u, v.size());
	std::string sid = std::to_string(v[0]), out;
	ASSERT_EQ(0,
		  as("mlt_approver", "cert approve " + sid + " --out-dir " + pgtest_sq(dir), &out))
		<< out;
	std::string no = wf_no(db, "CB", 1);
	std::string orig = dir + "/" + no + ".pdf";
	ASSERT_EQ(0, as("mlt_auditor", "cert verify " + pgtest_sq(orig), &out)) << out;
	EXPECT_NE(std::string::npos, out.find("CURRENT")) << out;

	/* A tampered copy: one byte changed. */
	std::string bytes = slurp(orig);
	bytes[bytes.size() / 3] ^= 0x20;
	std::string forged = dir + "/forged.pdf";
	std::ofstream(forged, std::ios::binary) << bytes;
	EXPECT_EQ(1, as("mlt_auditor", "cert verify " + pgtest_sq(forged), &out)) << out;
	EXPECT_NE(std::string::npos, out.find("NOT GENUINE — claims " + no)) << out;
	EXPECT_EQ(1, as("mlt_auditor", "cert verify " + pgtest_sq(forged) + " --json", &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"status\":\"forged\"")) << out;
	EXPECT_EQ(7, as("mlt_auditor", "cert verify " + pgtest_sq(dir + "/missing.pdf"), &out))
		<< out;

	/* A paper certificate: number and printed code (read leniently), or the scanned QR text. */
	std::string code = wf_scalar(db, "SELECT verify_code FROM certificate WHERE id = " + sid);
	std::string bc = wf_scalar(db, "SELECT barcode FROM certificate WHERE id = " + sid);
	ASSERT_EQ(9u, code.size());
	std::string lower = code;
	for (char &ch : lower)
		ch = (char)tolower((unsigned char)ch);
	ASSERT_EQ(0, as("mlt_auditor", "cert verify --number " + no + " --code " + lower, &out))
		<< out;
	std::string wrong = code;
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	EXPECT_EQ(1, as("mlt_auditor", "cert verify --number " + no + " --code " + wrong, &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("does not match")) << out;
	std::string qr = "MLCERT1;NO=" + no + ";REV=0;BC=" + bc + ";VC=" + code;
	ASSERT_EQ(0, as("mlt_auditor", "cert verify --qr " + pgtest_sq(qr), &out)) << out;
	for (const char *rev : { "/x", "/", "/-1", "/0x1" }) {
		std::string num = no + rev;
		EXPECT_EQ(2, as("mlt_auditor", "cert verify --number " + num + " --code " + code,
				&out))
			<< num << ": " << out;
	}

	/* Revise: usage errors, refusals of impossible values (nothing drafted), then the
	 * revision goes through its own check and approval by two other people. */
	EXPECT_EQ(2, as("mlt_approver", "cert revise " + sid, &out)) << "missing --reason";
	EXPECT_EQ(2, as("mlt_approver", "cert revise " + sid + " --reason x --by 赵六", &out));
	EXPECT_EQ(2, as("mlt_approver", "cert revise " + sid + " --reason x --checker 李四", &out));
	EXPECT_EQ(2, as("mlt_approver", "cert revise " + sid + " --reason x --set client", &out));
	EXPECT_EQ(3, as("mlt_approver", "cert revise " + sid + " --reason x --set barcode=1", &out))
		<< out;
	EXPECT_EQ(9, as("mlt_tech", "cert revise " + sid + " --reason x --set client=y", &out))
		<< out;
	EXPECT_EQ(3, as("mlt_approver",
			"cert revise " + sid +
				" --reason x --set valid_until=2199-12-31 --set temperature=-273",
			&out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("-273")) << out;
	EXPECT_EQ(3, as("mlt_approver",
			"cert revise " + sid + " --reason x --set valid_until=2199-12-31", &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("2199-12-31")) << out;
	EXPECT_EQ(3, as("mlt_approver", "cert revise " + sid + " --reason x --set temperature=-273",
			&out))
		<< out;
	EXPECT_EQ(3,
		  as("mlt_approver", "cert revise " + sid + " --reason x --set humidity=140", &out))
		<< out;
	EXPECT_EQ("0", wf_scalar(db, "SELECT count(*) FROM certificate WHERE revises_id = " + sid));
	ASSERT_EQ(0, as("mlt_approver",
			"cert revise " + sid +
				" --reason 温度记录更正 --set temperature='20.8 ℃' --json",
			&out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"state\":\"draft\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"verifier\":\"郑检测\"")) << out;
	std::string draft = wf_scalar(db, "SELECT id FROM certificate WHERE revises_id = " + sid);
	ASSERT_EQ(0, as("mlt_checker", "cert check " + draft, &out)) << out;
	EXPECT_EQ(5, as("mlt_approver", "cert approve " + draft, &out))
		<< "the reviser does not approve their own revision: " << out;
	pgtest_user(ci, "mlt_cli_ap2", "郑批准", "approver");
	ASSERT_EQ(0, as("mlt_cli_ap2",
			"cert approve " + draft + " --out-dir " + pgtest_sq(dir) + " --json", &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"revision\":1")) << out;
	std::string rev = dir + "/" + no + "-r1.pdf";
	ASSERT_EQ(0, as("mlt_auditor", "cert verify " + pgtest_sq(rev), &out)) << out;
	EXPECT_NE(std::string::npos, out.find("CURRENT")) << out;
	ASSERT_EQ(0, as("mlt_auditor", "cert verify " + pgtest_sq(orig), &out)) << out;
	EXPECT_NE(std::string::npos, out.find("SUPERSEDED by revision 1")) << out;
	EXPECT_EQ(5, as("mlt_approver", "cert revise " + no + "/0 --reason again", &out)) << out;
}

TEST_F(CertCli, WithdrawDiscardAndBackdateThroughTheBinary)
{
	wf_issuer(db, "CW");
	std::vector<long long> v = checked("cli-cw", "CW");
	std::string sid = std::to_string(v[0]), out;
	ASSERT_EQ(0,
		  as("mlt_approver", "cert approve " + sid + " --out-dir " + pgtest_sq(dir), &out))
		<< out;
	std::string file = dir + "/" + wf_no(db, "CW", 1) + ".pdf";
	EXPECT_EQ(2, as("mlt_approver", "cert withdraw " + sid, &out)) << "missing --reason";
	EXPECT_EQ(2, as("mlt_approver", "cert withdraw " + sid + " --reason x --by 王五", &out));
	EXPECT_EQ(9, as("mlt_checker", "cert withdraw " + sid + " --reason x", &out)) << out;
	ASSERT_EQ(0, as("mlt_approver", "cert withdraw " + sid + " --reason 'wrong asset' --json",
			&out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"status\":\"withdrawn\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"withdraw_reason\":\"wrong asset\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"withdrawn_by\":\"刘批准\"")) << out;
	EXPECT_EQ(5, as("mlt_approver", "cert withdraw " + sid + " --reason again", &out)) << out;
	EXPECT_EQ(1, as("mlt_auditor", "cert verify " + pgtest_sq(file), &out))
		<< "genuine but not valid: " << out;
	EXPECT_NE(std::string::npos, out.find("WITHDRAWN")) << out;

	/* discard: issued ones never; drafts by their verifier, with a logged reason. */
	EXPECT_EQ(5, as("mlt_approver", "cert discard " + sid + " --reason x", &out)) << out;
	EXPECT_EQ(4, as("mlt_approver", "cert discard 99999999 --reason x", &out)) << out;
	EXPECT_EQ(2, as("mlt_approver", "cert discard JL2026-000001 --reason x", &out))
		<< "ids only: " << out;
	long long run = wf_run(db, "cli-cw2", 1);
	ASSERT_EQ(0,
		  as("mlt_tech", "cert issue --run " + std::to_string(run) + " --issuer CW", &out))
		<< out;
	std::string d = wf_scalar(db, "SELECT id FROM certificate WHERE run_id = " +
					      std::to_string(run));
	EXPECT_EQ(9, as("mlt_tech2", "cert discard " + d + " --reason 'not mine'", &out)) << out;

	/* back-dating: an administrator's explicit action with a reason; never the future. */
	std::string yesterday = wf_scalar(db, "SELECT (ml_cert_today() - 1)::text");
	std::string future = wf_scalar(db, "SELECT (ml_cert_today() + 30)::text");
	EXPECT_EQ(9, as("mlt_approver",
			"cert backdate " + d + " --date " + yesterday + " --reason x", &out))
		<< out;
	EXPECT_EQ(3,
		  as("mlt_admin", "cert backdate " + d + " --date " + future + " --reason x", &out))
		<< out;
	EXPECT_EQ(3, as("mlt_admin",
			"cert backdate " + d + " --date " + future + "garbage --reason x", &out))
		<< out;
	ASSERT_EQ(0,
		  as("mlt_tech", "cert discard " + d + " --reason 'duplicate draft' --json", &out))
		<< out;
	EXPECT_EQ("{\"discarded\":" + d + "}\n", out);
	EXPECT_EQ(4, as("mlt_auditor", "cert show " + d, &out)) << out;
}
