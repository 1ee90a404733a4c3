/*
 * The shared option parser and number parsing of cli/cli.c, through the
 * built binary: every command parses its line before it opens a database,
 * so these run without one (METERLAB_DB cleared, no --db).
 */
#include <gtest/gtest.h>

#include <string>

#include "../support/pgtest.h"

namespace
{

int run(const std::string &args, std::string *out)
{
	return pgtest_run("env -u METERLAB_DB " + pgtest_cli() + " " + args, out, true);
}

bool has(const std::string &out, const std::string &s)
{
	return out.find(s) != std::string::npos;
}

TEST(OptionCli, UnknownOptionIsAUsageErrorNamingIt)
{
	std::string out;
	EXPECT_EQ(2, run("asset list --frobnicate 3", &out)) << out;
	EXPECT_TRUE(has(out, "unknown option '--frobnicate'")) << out;
	EXPECT_EQ(2, run("cert list --bogus=1", &out)) << out;
	EXPECT_TRUE(has(out, "unknown option '--bogus=1'")) << out;
	EXPECT_EQ(2, run("judge --class 1 --readings 0.1 --nope", &out)) << out;
	EXPECT_TRUE(has(out, "unknown option '--nope'")) << out;
	EXPECT_EQ(2, run("bench simulate --colour red", &out)) << out;
	EXPECT_TRUE(has(out, "unknown option '--colour'")) << out;
}

TEST(OptionCli, MissingValueIsReportedByName)
{
	std::string out;
	EXPECT_EQ(2, run("judge --class 1 --readings", &out)) << out;
	EXPECT_TRUE(has(out, "option '--readings' needs a value")) << out;
	EXPECT_EQ(2, run("asset list --state", &out)) << out;
	EXPECT_TRUE(has(out, "option '--state' needs a value")) << out;
	EXPECT_EQ(2, run("cert revise 7 --reason r --set", &out)) << out;
	EXPECT_TRUE(has(out, "option '--set' needs a value")) << out;
}

TEST(OptionCli, EqualsFormGivesTheSameResultAsSeparateValue)
{
	std::string spaced, joined;
	ASSERT_EQ(0, run("--json judge --class 1 --point Imax --pf 0.5L --readings -0.1691,-0.1719",
			 &spaced))
		<< spaced;
	ASSERT_EQ(0, run("--json judge --class=1 --point=Imax --pf=0.5L --readings=-0.1691,-0.1719",
			 &joined))
		<< joined;
	EXPECT_EQ(spaced, joined);
	EXPECT_TRUE(has(joined, "\"mean\":\"-0.1705\"")) << joined;
	/* the value after '=' is the option's, even when it looks like a number error */
	EXPECT_EQ(2, run("asset list --limit=ten", &joined)) << joined;
	EXPECT_TRUE(has(joined, "--limit 'ten' is not a whole number")) << joined;
	/* an empty value after '=' is a value, not a missing one */
	EXPECT_EQ(2, run("cert list --run=", &joined)) << joined;
	EXPECT_TRUE(has(joined, "--run '' is not a positive number")) << joined;
}

TEST(OptionCli, FlagsTakeNoValue)
{
	std::string out;
	EXPECT_EQ(2, run("judge --class 1 --point Ib --readings 0.7,0.7 --strict=yes", &out))
		<< out;
	EXPECT_TRUE(has(out, "option '--strict' takes no value")) << out;
	EXPECT_EQ(1, run("judge --class 1 --point Ib --readings 0.7,0.7 --strict", &out)) << out;
}

TEST(OptionCli, StrayPositionalIsNamed)
{
	std::string out;
	EXPECT_EQ(2, run("judge --class 1 --readings 0.1 extra", &out)) << out;
	EXPECT_TRUE(has(out, "unexpected argument 'extra'")) << out;
	EXPECT_EQ(2, run("bench simulate leftover", &out)) << out;
	EXPECT_TRUE(has(out, "unexpected argument 'leftover'")) << out;
}

TEST(OptionCli, NumbersOutOfRangeNameTheValueAndTheRange)
{
	std::string out;
	EXPECT_EQ(2, run("bench simulate --count 0", &out)) << out;
	EXPECT_TRUE(has(out, "--count '0' is not in 1..512")) << out;
	EXPECT_EQ(2, run("bench simulate --port=70000", &out)) << out;
	EXPECT_TRUE(has(out, "--port '70000' is not in 0..65535")) << out;
	EXPECT_EQ(2, run("bench probe --timeout 0 127.0.0.1:1", &out)) << out;
	EXPECT_TRUE(has(out, "--timeout '0' is not in 1..600000")) << out;
	EXPECT_EQ(2, run("run resume 5 --poll-ms 0", &out)) << out;
	EXPECT_TRUE(has(out, "--poll-ms '0' is not in 1..60000")) << out;
	EXPECT_EQ(2, run("run resume 5 --stop-after -1", &out)) << out;
	EXPECT_TRUE(has(out, "--stop-after '-1' is not in 0..2147483647")) << out;
}

TEST(OptionCli, MalformedNumbersAreNotWholeNumbers)
{
	std::string out;
	/* overflow, trailing junk, leading space, empty: none is silently read as 0 or clipped */
	EXPECT_EQ(2, run("asset list --limit 99999999999999999999", &out)) << out;
	EXPECT_TRUE(has(out, "--limit '99999999999999999999' is not a whole number")) << out;
	EXPECT_EQ(2, run("run resume 5 --poll-ms 5ms", &out)) << out;
	EXPECT_TRUE(has(out, "--poll-ms '5ms' is not a whole number")) << out;
	EXPECT_EQ(2, run("asset list --after ' 7'", &out)) << out;
	EXPECT_TRUE(has(out, "--after ' 7' is not a whole number")) << out;
	EXPECT_EQ(
		2,
		run("standard bench-add --code B --uri u --kind meter-1p --standard S --positions ''",
		    &out))
		<< out;
	EXPECT_TRUE(has(out, "--positions '' is not a whole number")) << out;
}

TEST(OptionCli, IdsMustBePositive)
{
	std::string out;
	EXPECT_EQ(2, run("cert list --run 0", &out)) << out;
	EXPECT_TRUE(has(out, "--run '0' is not a positive number")) << out;
	EXPECT_EQ(2, run("cert list --asset -3", &out)) << out;
	EXPECT_TRUE(has(out, "--asset '-3' is not a positive number")) << out;
	EXPECT_EQ(2, run("cert discard x --reason r", &out)) << out;
	EXPECT_TRUE(has(out, "certificate id 'x' is not a positive number")) << out;
	/* run resume tries each word as an id: a non-id is an unexpected argument */
	EXPECT_EQ(2, run("run resume 0", &out)) << out;
	EXPECT_TRUE(has(out, "unexpected argument '0'")) << out;
}

} // namespace
