/* The meterlab binary itself: dispatcher, global options, exit codes, --help everywhere. */
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

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

/* The names listed under "commands:" in a group's help. */
static std::vector<std::string> listed_commands(const std::string &help)
{
	std::vector<std::string> names;
	size_t at = help.find("\ncommands:\n");
	if (at == std::string::npos)
		return names;
	std::istringstream in(help.substr(at + 11));
	std::string line;
	while (std::getline(in, line) && line.rfind("  ", 0) == 0) {
		std::istringstream words(line);
		std::string name;
		words >> name;
		names.push_back(name);
	}
	return names;
}

/*
 * Walk the whole command tree from the top-level help: every group lists its
 * commands, every command answers --help with exit 0 and a usage line naming
 * itself, and an unknown option is a usage error before anything is opened
 * (no database is configured here). A command added to a table is covered
 * without touching this test.
 */
TEST(Cli, EveryCommandInTheTreeAnswersHelpAndRefusesUnknownOptions)
{
	std::vector<std::string> todo = { "" }, leaves;
	int groups = 0;
	while (!todo.empty()) {
		std::string path = todo.back(), out;
		todo.pop_back();
		ASSERT_EQ(0, run(path + " --help", &out)) << path << ": " << out;
		std::vector<std::string> subs = listed_commands(out);
		if (subs.empty()) {
			EXPECT_EQ(0u, out.rfind("usage: ", 0)) << path << ": " << out;
			EXPECT_NE(std::string::npos, out.find("meterlab" + path))
				<< path << ": " << out;
			leaves.push_back(path);
			continue;
		}
		groups++;
		for (const std::string &s : subs)
			todo.push_back(path + " " + s);
	}
	EXPECT_GE(groups, 11);
	EXPECT_GE(leaves.size(), 55u);
	for (const std::string &l : leaves) {
		std::string out;
		int rc = pgtest_run("env -u METERLAB_DB PGHOST=/nonexistent " + pgtest_cli() + l +
					    " --no-such-option 2>&1",
				    &out, false);
		EXPECT_EQ(2, rc) << l << ": " << out;
		EXPECT_EQ(std::string::npos, out.find("database")) << l << ": " << out;
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
