/* meterlab judge, scheme and sample: outputs, --json, exit codes, database round trips. */
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "../support/pgtest.h"

namespace
{

/* Runs without a database unless args carry --db; METERLAB_DB is cleared so the result is deterministic. */
int run(const std::string &args, std::string *out)
{
	return pgtest_run("env -u METERLAB_DB " + pgtest_cli() + " " + args, out, true);
}

bool has(const std::string &out, const std::string &s)
{
	return out.find(s) != std::string::npos;
}

TEST(JudgeCli, HenanRowPasses)
{
	std::string out;
	ASSERT_EQ(
		0,
		run("judge --class 1 --connection direct --point Imax --pf 0.5L --readings -0.1691,-0.1719",
		    &out))
		<< out;
	EXPECT_TRUE(has(out, "mean       -0.1705")) << out;
	EXPECT_TRUE(has(out, "rounded    -0.2 (interval 0.1)")) << out;
	EXPECT_TRUE(has(out, "limit      \u00b11.0 %")) << out;
	EXPECT_TRUE(has(out, "internal   \u00b10.6 %")) << out;
	EXPECT_TRUE(has(out, "pass (regulation")) << out;
}

TEST(JudgeCli, JsonCarriesExactDecimals)
{
	std::string out;
	ASSERT_EQ(
		0,
		run("--json judge --class 1 --point Imax --pf 0.5L --element H --readings -0.1691,-0.1719 "
		    "--internal 60",
		    &out));
	EXPECT_TRUE(has(out, "\"mean\":\"-0.1705\"")) << out;
	EXPECT_TRUE(has(out, "\"rounded\":\"-0.2\"")) << out;
	EXPECT_TRUE(has(out, "\"limit\":\"1.0\"")) << out;
	EXPECT_TRUE(has(out, "\"internal_limit\":\"0.6\"")) << out;
	EXPECT_TRUE(has(out, "\"verdict\":\"pass\"")) << out;
	EXPECT_TRUE(has(out, "\"judged_on\":\"rounded\"")) << out;
}

TEST(JudgeCli, FailAndInternalExitCodes)
{
	std::string out;
	/* 1.15 rounds (half even) to 1.2 > 1.0: fail */
	EXPECT_EQ(1, run("judge --class 1 --point Ib --readings 1.15,1.15", &out)) << out;
	EXPECT_TRUE(has(out, "fail (regulation")) << out;
	/* 0.7 passes the regulation, fails 60 %: exit 0, or 1 with --strict */
	EXPECT_EQ(0, run("judge --class 1 --point Ib --readings 0.7,0.7", &out)) << out;
	EXPECT_TRUE(has(out, "fail (internal)")) << out;
	EXPECT_EQ(1, run("judge --class 1 --point Ib --readings 0.7,0.7 --strict", &out)) << out;
	/* the same readings on the mean: 1.05 rounds to 1.0 (pass) but the mean 1.05 fails */
	EXPECT_EQ(0, run("judge --class 1 --point Ib --readings 1.05,1.05", &out)) << out;
	EXPECT_EQ(1, run("judge --class 1 --point Ib --readings 1.05,1.05 --on-mean", &out)) << out;
	/* CT ratio and phase */
	EXPECT_EQ(0,
		  run("judge --kind ct --class 0.2S --percent 5 --readings 0.3 --phase 14", &out))
		<< out;
	EXPECT_EQ(1,
		  run("judge --kind ct --class 0.2S --percent 5 --readings 0.3 --phase 16", &out))
		<< out;
}

TEST(JudgeCli, BadInputNamesTheValue)
{
	std::string out;
	EXPECT_EQ(3, run("judge --class 1 --point Imax --readings -0.1691,-0.17x9", &out));
	EXPECT_TRUE(has(out, "-0.17x9")) << out;
	EXPECT_EQ(3, run("judge --class 0.3S --point Imax --readings 0.1", &out));
	EXPECT_TRUE(has(out, "0.3S")) << out;
	EXPECT_EQ(3, run("judge --class 1 --point 3Iq --readings 0.1", &out));
	EXPECT_TRUE(has(out, "3Iq")) << out;
	EXPECT_EQ(3, run("judge --class 1 --point Ib --pf 0.9L --readings 0.1", &out));
	EXPECT_TRUE(has(out, "0.9L")) << out;
	EXPECT_EQ(3, run("judge --class 2 --point 0.01Ib --readings 0.1", &out));
	/* an override limit of 0 or below is refused, not silently replaced by the regulation limit */
	EXPECT_EQ(3, run("judge --class 1 --point Ib --readings 0.5,0.5 --limit -0.3", &out))
		<< out;
	EXPECT_TRUE(has(out, "--limit '-0.3'")) << out;
	EXPECT_EQ(3, run("judge --class 1 --point Ib --readings 0.5,0.5 --limit 0", &out)) << out;
	EXPECT_TRUE(has(out, "--limit '0'")) << out;
	EXPECT_EQ(2, run("judge --class 1 --point Ib", &out));
	EXPECT_EQ(2, run("judge --class 1 --readings 1 --bogus", &out));
}

TEST(SampleCli, WorkedExample)
{
	std::string out;
	ASSERT_EQ(0, run("sample plan --lot-size 2400 --level II --aql 1.0", &out)) << out;
	EXPECT_TRUE(has(out, "code letter   K")) << out;
	EXPECT_TRUE(has(out, "sample size   125")) << out;
	EXPECT_TRUE(has(out, "accept (Ac)   3")) << out;
	EXPECT_TRUE(has(out, "reject (Re)   4")) << out;
	ASSERT_EQ(0, run("--json sample plan --lot-size 2400 --aql 0.15", &out)) << out;
	EXPECT_TRUE(has(out, "\"plan_letter\":\"J\"")) << out;
	EXPECT_TRUE(has(out, "\"sample_size\":80,\"ac\":0,\"re\":1")) << out;
	EXPECT_EQ(3, run("sample plan --lot-size 2400 --aql 0.3", &out));
	EXPECT_TRUE(has(out, "0.3")) << out;
	EXPECT_EQ(3, run("sample plan --lot-size 1 --aql 1.0", &out));
	EXPECT_EQ(3, run("sample plan --lot-size 600000 --level III --aql 0.015", &out));
	EXPECT_TRUE(has(out, "unverified")) << out;
	EXPECT_EQ(0, run("sample plan --help", &out));
}

TEST(SchemeCli, DefaultWithoutDatabase)
{
	std::string out;
	ASSERT_EQ(
		0,
		run("scheme default --kind meter_1p --class 1 --connection direct --ib 5 --imax 60",
		    &out))
		<< out;
	EXPECT_TRUE(has(out, "basic     I=0.5Imax  pf=0.8C  element=H")) << out;
	EXPECT_TRUE(has(out, "\ncreep\n")) << out;
	ASSERT_EQ(
		0,
		run("scheme plan --default --kind meter_1p --class 2 --un 220 --ib 5 --imax 60 --constant 1200",
		    &out))
		<< out;
	EXPECT_TRUE(has(out, "1818.2 s")) << out; /* creep 30.3 min */
	EXPECT_TRUE(has(out, "654.5 s")) << out;  /* starting 10.9 min */
	EXPECT_EQ(3, run("scheme default --kind meter_1p --class 0.5S --connection direct", &out));
	EXPECT_TRUE(has(out, "0.5S")) << out;
	EXPECT_EQ(3, run("scheme default --kind toaster --class 1", &out));
	for (const char *c : { "default", "list", "show", "export", "import", "activate", "retire",
			       "plan", "settings" }) {
		EXPECT_EQ(0, run(std::string("scheme ") + c + " --help", &out)) << c;
		EXPECT_TRUE(has(out, "usage")) << c;
	}
}

/*
 * Schemes and settings as the people who own them (issue 8): a technician
 * saves and imports (inactive versions), an approver activates, retires and
 * changes settings; the database refuses a scheme looser than the regulation.
 */
TEST(SchemeCli, SaveExportImportActivateSettings)
{
	std::string ci = pgtest_fresh_db("cli_scheme");
	std::string db = "--db " + pgtest_sq(pgtest_as(ci, "mlt_tech")) + " ";
	std::string appr = "--db " + pgtest_sq(pgtest_as(ci, "mlt_approver")) + " ";
	std::string out;
	ASSERT_EQ(
		0,
		run(db + "scheme default --kind meter_3p --class 0.5S --connection transformer --save=PROV-3P",
		    &out))
		<< out;
	EXPECT_TRUE(has(out, "inactive until activated")) << out;
	ASSERT_EQ(0, run(db + "--json scheme list", &out)) << out;
	EXPECT_TRUE(has(out, "\"code\":\"PROV-3P\",\"version\":1,\"active_version\":0")) << out;
	EXPECT_TRUE(has(out, "\"steps\":34")) << out;
	/* not active yet: nothing to show for new runs; the technician may not activate */
	EXPECT_EQ(4, run(db + "scheme show PROV-3P", &out));
	EXPECT_EQ(9, run(db + "scheme activate PROV-3P", &out));
	EXPECT_TRUE(has(out, "scheme.activate")) << out;
	ASSERT_EQ(0, run(appr + "scheme activate PROV-3P", &out)) << out;
	EXPECT_TRUE(has(out, "version 1 is now the one new runs use")) << out;
	std::string text;
	ASSERT_EQ(0, run(db + "scheme export PROV-3P", &text)) << text;
	char path[] = "/tmp/ml_scheme_XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs(text.c_str(), f);
	fclose(f);
	ASSERT_EQ(0, run(db + "scheme import " + path + " --code PROV-3P-COPY", &out)) << out;
	EXPECT_TRUE(has(out, "PROV-3P-COPY version 1 (34 steps), inactive")) << out;
	ASSERT_EQ(0, run(appr + "scheme activate PROV-3P-COPY --version 1", &out)) << out;
	std::string copy;
	ASSERT_EQ(0, run(db + "scheme export PROV-3P-COPY", &copy));
	/* identical apart from the code line */
	EXPECT_EQ(text.substr(text.find("suits")), copy.substr(copy.find("suits")));
	/* a broken file stores nothing and names the line */
	f = fopen(path, "a");
	fputs("basic I=2Iz pf=1.0\n", f);
	fclose(f);
	EXPECT_EQ(3, run(db + "scheme import " + path, &out));
	EXPECT_TRUE(has(out, "line")) << out;
	EXPECT_TRUE(has(out, "2Iz")) << out;
	/* the attack of issue 8: a looser version under the existing code is refused, naming the step
	 * and the rule; a stricter one is stored but not used until activated */
	f = fopen(path, "w");
	fputs("scheme code=PROV-3P name=\"loose\"\nsuits kinds=meter_3p classes=0.5S "
	      "connection=transformer\nbasic I=In pf=1.0 element=H limit=50\n",
	      f);
	fclose(f);
	EXPECT_EQ(3, run(db + "scheme import " + path, &out));
	EXPECT_TRUE(has(out, "step 1 (basic): limit=50% is wider than the regulation limit ±0.5%"))
		<< out;
	f = fopen(path, "w");
	fputs("scheme code=PROV-3P name=\"strict\"\nsuits kinds=meter_3p classes=0.5S "
	      "connection=transformer\nbasic I=In pf=1.0 element=H limit=0.3 readings=3\n",
	      f);
	fclose(f);
	ASSERT_EQ(0, run(db + "scheme import " + path, &out)) << out;
	ASSERT_EQ(0, run(db + "--json scheme show PROV-3P", &out));
	EXPECT_TRUE(has(out, "\"version\":1")) << out; /* still the active one */
	/* a file with a NUL byte is refused, naming the line, not read up to the NUL */
	f = fopen(path, "w");
	fputs("scheme code=NUL-1 name=\"n\"\nsuits kinds=meter_3p\n", f);
	fputc('\0', f);
	fputs("basic I=In pf=1.0 element=H\n", f);
	fclose(f);
	EXPECT_EQ(3, run(db + "scheme import " + path, &out));
	EXPECT_TRUE(has(out, "line 3")) << out;
	EXPECT_TRUE(has(out, "NUL")) << out;
	unlink(path);
	ASSERT_EQ(
		0,
		run(db + "scheme plan PROV-3P --kind meter_3p --class 0.5S --connection transformer --un 57.7 --ib 1.5 "
			 "--imax 6 --constant 20000",
		    &out))
		<< out;
	EXPECT_TRUE(has(out, "limit 0.50")) << out;
	/* settings: the approver's; stored values change the judge */
	EXPECT_EQ(9, run(db + "scheme settings set judge.internal_coefficient 80", &out));
	ASSERT_EQ(0, run(appr + "scheme settings set judge.internal_coefficient 80", &out)) << out;
	EXPECT_EQ(3, run(appr + "scheme settings set judge.internal_coefficient 180", &out));
	EXPECT_EQ(4, run(appr + "scheme settings set judge.nope 1", &out));
	ASSERT_EQ(0, run(db + "--json scheme settings", &out));
	EXPECT_TRUE(has(out, "\"key\":\"judge.internal_coefficient\",\"value\":\"80\"")) << out;
	ASSERT_EQ(0, run(db + "judge --class 1 --point Ib --readings 0.7,0.7 --strict", &out))
		<< out;
	ASSERT_EQ(0, run(appr + "scheme settings reset judge.internal_coefficient", &out)) << out;
	EXPECT_EQ(1, run(db + "judge --class 1 --point Ib --readings 0.7,0.7 --strict", &out))
		<< out;
	EXPECT_EQ(9, run(db + "scheme retire PROV-3P", &out));
	ASSERT_EQ(0, run(appr + "scheme retire PROV-3P", &out)) << out;
	EXPECT_EQ(4, run(db + "scheme show PROV-3P", &out));
	EXPECT_EQ(0, run(db + "scheme show PROV-3P --version 1", &out));
}

} // namespace
