/* meterlab cert …: exit codes, --json, files, through the built binary. */
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
	std::string ci, cli, dir;
	struct db *db = nullptr;

	void SetUp() override
	{
		ci = wf_db(); /* shared; each test issues under its own issuer */
		cli = pgtest_cli() + " --db " + pgtest_sq(ci) + " ";
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
	int run(const std::string &args, std::string *out)
	{
		return pgtest_run(cli + args, out, true);
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
			       "revise", "withdraw", "discard", "issuer" }) {
		EXPECT_EQ(0, run(std::string("cert ") + c + " --help", &out)) << c << out;
		EXPECT_NE(std::string::npos, out.find("usage: meterlab cert")) << c << out;
	}
	EXPECT_EQ(0, run("cert --help", &out));
	EXPECT_EQ(2, run("cert frob", &out));

	/* The issuing body is configuration, shown without its verification key. */
	ASSERT_EQ(0, run("cert issuer --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"id\":\"DEMO\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"number_prefix\":\"JL\"")) << out;
	EXPECT_EQ(std::string::npos, out.find("verify_key")) << out;
	EXPECT_EQ(std::string::npos,
		  out.find(wf_scalar(db, "SELECT verify_key FROM issuer WHERE id = 'DEMO'")))
		<< out;
	ASSERT_EQ(0, run("cert issuer", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("authorization_no")) << out;
	EXPECT_EQ(2, run("cert issuer extra", &out));
}

TEST_F(CertCli, CheckApproveShowListPrintWithExitCodes)
{
	long long id = wf_draft(db, 61, wf_barcode(61), true, wf_issuer(db, "CA"));
	std::string sid = std::to_string(id), out;

	EXPECT_EQ(2, run("cert check " + sid, &out)) << "missing --by";
	EXPECT_EQ(2, run("cert check " + sid + " --by", &out));
	EXPECT_EQ(2, run("cert check " + sid + " --frob x --by 李四", &out));
	EXPECT_EQ(4, run("cert check 999999 --by 李四", &out)) << out;
	EXPECT_EQ(5, run("cert check " + sid + " --by 张三", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("three different people")) << out;
	EXPECT_EQ(5, run("cert approve " + sid + " --by 王五", &out)) << "not checked yet: " << out;
	ASSERT_EQ(0, run("cert check " + sid + " --by 李四 --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"state\":\"checked\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"checker\":\"李四\"")) << out;
	EXPECT_EQ(5, run("cert print " + sid + " --out " + pgtest_sq(dir + "/x.pdf"), &out))
		<< "not issued: " << out;
	EXPECT_EQ(5, run("cert approve " + sid + " --by 李四", &out)) << out;
	EXPECT_EQ(3, run("cert approve " + sid + " --by 王五 --issued-on 2026-13-45", &out)) << out;
	EXPECT_EQ(3, run("cert approve " + sid + " --by 王五 --threads 0", &out)) << out;
	ASSERT_EQ(0, run("cert approve " + sid + " --by 王五 --issued-on 2026-11-26 --out-dir " +
				 pgtest_sq(dir),
			 &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("CA2026-000001")) << out;
	EXPECT_NE(std::string::npos, out.find(dir + "/CA2026-000001.pdf")) << out;

	/* show by id and by number, text and JSON. */
	ASSERT_EQ(0, run("cert show CA2026-000001", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("approver:      王五")) << out;
	ASSERT_EQ(0, run("cert show " + sid + " --json", &out)) << out;
	EXPECT_EQ('{', out[0]) << out;
	EXPECT_NE(std::string::npos, out.find("\"status\":\"issued\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"verifier\":\"张三\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"issued_on\":\"2026-11-26\"")) << out;
	EXPECT_EQ(4, run("cert show CA2026-000099", &out));
	EXPECT_EQ(2, run("cert show", &out));

	ASSERT_EQ(0, run("cert list --state issued --asset 61 --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"cert_no\":\"CA2026-000001\"")) << out;
	ASSERT_EQ(0, run("cert list --state draft --asset 61 --json", &out)) << out;
	EXPECT_EQ("[]\n", out);
	EXPECT_EQ(3, run("cert list --state nonsense", &out)) << out;
	EXPECT_EQ(2, run("cert list --run abc", &out)) << out;

	/* print writes the stored bytes: identical to the file written at issue. */
	std::string printed = dir + "/printed.pdf";
	ASSERT_EQ(0, run("cert print CA2026-000001 --out " + pgtest_sq(printed), &out)) << out;
	std::string a = slurp(printed), b = slurp(dir + "/CA2026-000001.pdf");
	ASSERT_GT(a.size(), 1000u);
	EXPECT_EQ(a, b);
	EXPECT_EQ(7, run("cert print CA2026-000001 --out /nonexistent/dir/x.pdf", &out)) << out;
}

TEST_F(CertCli, VerifyAndReviseThroughTheBinary)
{
	long long id = wf_draft(db, 71, wf_barcode(71), true, wf_issuer(db, "CB"));
	std::string sid = std::to_string(id), out;
	ASSERT_EQ(0, run("cert check " + sid + " --by 李四", &out)) << out;
	ASSERT_EQ(0, run("cert approve " + sid + " --by 王五 --issued-on 2026-11-26 --out-dir " +
				 pgtest_sq(dir),
			 &out))
		<< out;
	std::string orig = dir + "/CB2026-000001.pdf";
	ASSERT_EQ(0, run("cert verify " + pgtest_sq(orig), &out)) << out;
	EXPECT_NE(std::string::npos, out.find("CURRENT")) << out;

	/* A tampered copy: one byte changed. */
	std::string bytes = slurp(orig);
	bytes[bytes.size() / 3] ^= 0x20;
	std::string forged = dir + "/forged.pdf";
	std::ofstream(forged, std::ios::binary) << bytes;
	EXPECT_EQ(1, run("cert verify " + pgtest_sq(forged), &out)) << out;
	EXPECT_NE(std::string::npos, out.find("NOT GENUINE — claims CB2026-000001")) << out;
	EXPECT_EQ(1, run("cert verify " + pgtest_sq(forged) + " --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"genuine\":false")) << out;
	EXPECT_NE(std::string::npos, out.find("\"status\":\"forged\"")) << out;
	/* With the /Title overwritten too, the Info /Keywords (the QR payload) still name the claimed certificate. */
	size_t t = bytes.find("/Title (CB2026-000001)");
	ASSERT_NE(std::string::npos, t);
	bytes.replace(t + 8, 13, "XXXXXXXXXXXXX");
	std::ofstream(forged, std::ios::binary | std::ios::trunc) << bytes;
	EXPECT_EQ(1, run("cert verify " + pgtest_sq(forged), &out)) << out;
	EXPECT_NE(std::string::npos, out.find("NOT GENUINE — claims CB2026-000001 revision 0"))
		<< out;
	EXPECT_EQ(7, run("cert verify " + pgtest_sq(dir + "/missing.pdf"), &out)) << out;

	/* A paper certificate: number and printed code (read leniently), or the scanned QR text. */
	std::string code = wf_scalar(db, "SELECT verify_code FROM certificate WHERE id = " + sid);
	std::string bc = wf_scalar(db, "SELECT barcode FROM certificate WHERE id = " + sid);
	ASSERT_EQ(9u, code.size());
	std::string lower = code;
	for (char &ch : lower)
		ch = (char)tolower((unsigned char)ch);
	ASSERT_EQ(0, run("cert verify --number CB2026-000001 --code " + lower, &out)) << out;
	EXPECT_NE(std::string::npos, out.find("GENUINE")) << out;
	std::string wrong = code;
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	EXPECT_EQ(1, run("cert verify --number CB2026-000001 --code " + wrong, &out)) << out;
	EXPECT_NE(std::string::npos, out.find("does not match")) << out;
	EXPECT_EQ(1, run("cert verify --number CB2026-000099 --code " + code + " --json", &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"status\":\"unknown\"")) << out;
	std::string qr = "MLCERT1;NO=CB2026-000001;REV=0;BC=" + bc + ";VC=" + code;
	ASSERT_EQ(0, run("cert verify --qr " + pgtest_sq(qr), &out)) << out;
	std::string qr_bad = "MLCERT1;NO=CB2026-000001;REV=0;BC=4130001000000000000000;VC=" + code;
	EXPECT_EQ(1, run("cert verify --qr " + pgtest_sq(qr_bad), &out))
		<< "barcode must match: " << out;
	EXPECT_EQ(3, run("cert verify --qr nonsense", &out)) << out;
	EXPECT_EQ(2, run("cert verify --number CB2026-000001", &out)) << out;
	/* A revision that is not a number is refused, not read as revision 0. */
	for (const char *rev : { "/x", "/", "/-1", "/0x1" }) {
		std::string num = std::string("CB2026-000001") + rev;
		EXPECT_EQ(2, run("cert verify --number " + num + " --code " + code, &out))
			<< num << ": " << out;
		EXPECT_NE(std::string::npos, out.find(num)) << out;
	}
	ASSERT_EQ(0, run("cert verify --number CB2026-000001/0 --code " + code, &out)) << out;

	/* Revise: usage errors, refusals, then carried straight through to issue. */
	EXPECT_EQ(2, run("cert revise " + sid + " --by 赵六", &out)) << "missing --reason";
	EXPECT_EQ(2, run("cert revise " + sid + " --reason x --by 赵六 --set client", &out));
	EXPECT_EQ(3, run("cert revise " + sid + " --reason x --by 赵六 --set barcode=1", &out))
		<< out;
	EXPECT_EQ(2, run("cert revise " + sid + " --reason x --by 赵六 --approver 王五", &out));
	EXPECT_EQ(5, run("cert revise " + sid +
				 " --reason 更正 --by 赵六 --checker 赵六 --approver 王五",
			 &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("three different people")) << out;
	EXPECT_EQ(
		"0",
		wf_scalar(db,
			  "SELECT count(*) FROM certificate WHERE revision = 1 AND asset_id = 71"))
		<< "refused before drafting";
	/* Step by step this time: revise (draft), check, approve. */
	ASSERT_EQ(0, run("cert revise " + sid + " --reason 更正 --by 赵六 --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"state\":\"draft\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"revise_reason\":\"更正\"")) << out;
	std::string draft = wf_scalar(
		db, "SELECT id FROM certificate WHERE revision = 1 AND asset_id = 71");
	ASSERT_NE("", draft);
	ASSERT_EQ(0, run("cert check " + draft + " --by 李四", &out)) << out;
	ASSERT_EQ(0, run("cert approve " + draft + " --by 王五 --issued-on 2026-11-27 --out-dir " +
				 pgtest_sq(dir) + " --json",
			 &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"revision\":1")) << out;
	std::string rev = dir + "/CB2026-000001-r1.pdf";
	ASSERT_EQ(0, run("cert verify " + pgtest_sq(rev), &out)) << out;
	EXPECT_NE(std::string::npos, out.find("CURRENT")) << out;
	ASSERT_EQ(0, run("cert verify " + pgtest_sq(orig) + " --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"status\":\"superseded\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"genuine\":true")) << out;
	ASSERT_EQ(0, run("cert verify " + pgtest_sq(orig), &out)) << out;
	EXPECT_NE(std::string::npos, out.find("SUPERSEDED by revision 1")) << out;
	EXPECT_EQ(5, run("cert revise CB2026-000001/0 --reason again --by 赵六", &out)) << out;

	/* A second correction of the current revision, straight through. */
	ASSERT_EQ(
		0,
		run("cert revise CB2026-000001 --reason 温度记录更正 --by 赵六 --set temperature='20.8 ℃' "
		    "--checker 李四 --approver 王五 --issued-on 2026-11-28 --out-dir " +
			    pgtest_sq(dir),
		    &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("CB2026-000001/2")) << out;
	ASSERT_EQ(0, run("cert list --number CB2026-000001 --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"revision\":2,")) << out;
	ASSERT_EQ(0, run("cert list --state superseded --asset 71", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("CB2026-000001/0")) << out;
	EXPECT_NE(std::string::npos, out.find("CB2026-000001/1")) << out;
}

TEST_F(CertCli, WithdrawThroughTheBinary)
{
	long long id = wf_draft(db, 91, wf_barcode(91), true, wf_issuer(db, "CW"));
	std::string sid = std::to_string(id), out;
	ASSERT_EQ(0, run("cert check " + sid + " --by 李四", &out)) << out;
	ASSERT_EQ(0, run("cert approve " + sid + " --by 王五 --out-dir " + pgtest_sq(dir), &out))
		<< out;
	std::string file = wf_scalar(db, "SELECT cert_no FROM certificate WHERE id = " + sid);
	file = dir + "/" + file + ".pdf";
	EXPECT_EQ(2, run("cert withdraw " + sid + " --by 王五", &out)) << "missing --reason";
	ASSERT_EQ(0, run("cert withdraw " + sid + " --reason 'wrong asset' --by 王五 --json", &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"status\":\"withdrawn\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"withdraw_reason\":\"wrong asset\"")) << out;
	EXPECT_EQ(5, run("cert withdraw " + sid + " --reason again --by 王五", &out)) << out;
	EXPECT_EQ(1, run("cert verify " + pgtest_sq(file), &out))
		<< "genuine but not valid: " << out;
	EXPECT_NE(std::string::npos, out.find("WITHDRAWN")) << out;
	ASSERT_EQ(0, run("cert show " + sid, &out)) << out;
	EXPECT_NE(std::string::npos, out.find("withdrawn:")) << out;
	EXPECT_EQ(4, run("cert withdraw CW2026-000099 --reason x --by 王五", &out)) << out;

	/* discard: issued ones never; drafts with a logged reason. */
	EXPECT_EQ(5, run("cert discard " + sid + " --reason x --by 王五", &out)) << out;
	EXPECT_EQ(4, run("cert discard 99999999 --reason x --by 王五", &out)) << out;
	EXPECT_EQ(2, run("cert discard JL2026-000001 --reason x --by 王五", &out))
		<< "ids only: " << out;
	long long d = wf_draft(db, 92, wf_barcode(92), true, "CW");
	ASSERT_EQ(0, run("cert discard " + std::to_string(d) +
				 " --reason 'duplicate draft' --by 张三 --json",
			 &out))
		<< out;
	EXPECT_EQ("{\"discarded\":" + std::to_string(d) + "}\n", out);
	EXPECT_EQ(4, run("cert show " + std::to_string(d), &out)) << out;
}
