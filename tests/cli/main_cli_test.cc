/* The meterlab binary itself: dispatcher, global options, exit codes, --help everywhere. */
#include <gtest/gtest.h>

#include "../support/pgtest.h"

static int run(const std::string &args, std::string *out)
{
	return pgtest_run(pgtest_cli() + " " + args, out, true);
}

TEST(Cli, TopLevelHelpListsEveryCommand)
{
	std::string out;
	ASSERT_EQ(0, run("--help", &out));
	for (const char *c :
	     { "db", "asset", "bench", "judge", "scheme", "standard", "run", "sample", "cert" })
		EXPECT_NE(std::string::npos, out.find(std::string("  ") + c + " ")) << c << "\n"
										    << out;
}

TEST(Cli, UnknownCommandIsUsageError)
{
	std::string out;
	EXPECT_EQ(2, run("frobnicate", &out));
	EXPECT_NE(std::string::npos, out.find("frobnicate")) << out;
	EXPECT_EQ(2, run("", &out));
}

TEST(Cli, EveryCommandAnswersHelp)
{
	for (const char *c :
	     { "db", "asset", "bench", "judge", "scheme", "standard", "run", "sample", "cert" }) {
		std::string out;
		EXPECT_EQ(0, run(std::string(c) + " --help", &out)) << c << ": " << out;
		EXPECT_NE(std::string::npos, out.find("usage")) << c << ": " << out;
	}
}

TEST(Cli, DbMigrateAndStatus)
{
	std::string ci = pgtest_fresh_db("cli_db");
	std::string out;
	ASSERT_EQ(0, run("--db " + pgtest_sq(ci) + " db migrate", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("applied 0 migrations")) << out;
	ASSERT_EQ(0, run("db status --json --db " + pgtest_sq(ci), &out)) << out;
	EXPECT_EQ('[', out[0]) << out;
	EXPECT_NE(std::string::npos, out.find("\"version\":\"0001\"")) << out;
	EXPECT_EQ(std::string::npos, out.find("\"pending\"")) << out;
	EXPECT_EQ(2, run("db migrate extra", &out));
}

TEST(Cli, BadConnectionIsDatabaseError)
{
	std::string out;
	EXPECT_EQ(6, run("--db 'host=/nonexistent port=1 connect_timeout=2' db status", &out));
	EXPECT_NE(std::string::npos, out.find("cannot connect")) << out;
}
