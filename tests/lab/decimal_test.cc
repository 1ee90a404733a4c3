/* Exact decimal parsing, formatting and GB/T 8170 rounding (tests/data/lab: rounding.tsv, means.tsv). */
#include <gtest/gtest.h>

#include <stdexcept>

#include "judge_tsv.h"

extern "C" {
#include "lab/decimal.h"
#include "lab/judge.h"
}

namespace
{

int64_t d4(const std::string &s)
{
	int64_t v = 0;
	struct ml_error err = ML_ERROR_INIT;
	if (dec4_parse(s.c_str(), &v, &err) != ML_OK)
		throw std::runtime_error("bad decimal in test data: " + s);
	return v;
}

std::string fmt(int64_t v, int dec)
{
	char b[DEC4_FMT_MAX];
	return dec4_format(v, dec, b, sizeof b);
}

TEST(Decimal, ParsesExactText)
{
	int64_t v;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, dec4_parse("-0.1705", &v, &err));
	EXPECT_EQ(-1705, v);
	ASSERT_EQ(ML_OK, dec4_parse("+0.2", &v, &err));
	EXPECT_EQ(2000, v);
	ASSERT_EQ(ML_OK, dec4_parse(" 0.05 ", &v, &err));
	EXPECT_EQ(500, v);
	ASSERT_EQ(ML_OK, dec4_parse("\xE2\x88\x92"
				    "0.5",
				    &v, &err)); /* U+2212 minus */
	EXPECT_EQ(-5000, v);
	ASSERT_EQ(ML_OK, dec4_parse("12", &v, &err));
	EXPECT_EQ(120000, v);
	ASSERT_EQ(ML_OK, dec4_parse(".5", &v, &err));
	EXPECT_EQ(5000, v);
	ASSERT_EQ(ML_OK, dec_parse("1.5", 3, &v, &err));
	EXPECT_EQ(1500, v);
}

TEST(Decimal, RejectsBadTextNamingIt)
{
	const char *bad[] = { "",    "-",   "1e-3", "0.1.2", "0.12345",
			      "abc", "1,5", "--1",  "0x10",  "1 2" };
	for (const char *b : bad) {
		int64_t v = 77;
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_EINVAL, dec4_parse(b, &v, &err)) << b;
		EXPECT_EQ(77, v) << b;
		if (b[0]) {
			EXPECT_NE(nullptr, strstr(err.msg, b)) << err.msg;
		}
	}
	int64_t v;
	EXPECT_EQ(ML_EINVAL, dec4_parse("99999999999", &v, nullptr));
	EXPECT_EQ(ML_EINVAL,
		  dec_parse("99999999999999", 6, &v, nullptr));   /* would overflow when scaled */
	ASSERT_EQ(ML_OK, dec4_parse("10000000000", &v, nullptr)); /* exactly the bound */
	EXPECT_EQ(DEC4_ABS_MAX, v);
}

TEST(Decimal, Formats)
{
	EXPECT_EQ("-0.1705", fmt(-1705, 4));
	EXPECT_EQ("-0.2", fmt(-2000, 1));
	EXPECT_EQ("0.05", fmt(500, 2));
	EXPECT_EQ("12", fmt(120000, 0));
	char b[DEC4_FMT_MAX];
	EXPECT_STREQ("+0.20", dec_format(2000, 4, 2, DEC_FMT_PLUS, b, sizeof b));
	EXPECT_STREQ("-0.0", dec_format(0, 4, 1, DEC_FMT_NEG_ZERO, b, sizeof b));
	EXPECT_STREQ("1.500", dec_format(1500, 3, 3, 0, b, sizeof b));
	EXPECT_EQ(2, dec4_interval_decimals(200));
	EXPECT_EQ(1, dec4_interval_decimals(2000));
	EXPECT_EQ(0, dec4_interval_decimals(10000));
	EXPECT_EQ(4, dec4_min_decimals(-1705));
}

TEST(Decimal, DivHalfEvenIsSymmetricAndExact)
{
	EXPECT_EQ(2, dec_div_half_even(5, 2));
	EXPECT_EQ(-2, dec_div_half_even(-5, 2));
	EXPECT_EQ(4, dec_div_half_even(7, 2));
	EXPECT_EQ(-4, dec_div_half_even(-7, 2));
	EXPECT_EQ(0, dec_div_half_even(1, 3));
	EXPECT_EQ(INT64_MIN / 2, dec_div_half_even(INT64_MIN, 2));
	int64_t out;
	EXPECT_EQ(ML_OK, dec_muldiv(INT64_C(4000000000000), INT64_C(4000000000000),
				    INT64_C(1000000000000), &out, nullptr));
	EXPECT_EQ(INT64_C(16000000000000), out);
	EXPECT_EQ(ML_EINVAL, dec_muldiv(INT64_MAX, 4, 2, &out, nullptr));
}

class RoundingCase : public ::testing::TestWithParam<TsvRow>
{
};

TEST_P(RoundingCase, HalfToEvenInOneStep)
{
	const TsvRow &r = GetParam();
	int64_t v = d4(r[0]), iv = d4(r[1]);
	EXPECT_EQ(d4(r[2]), dec_round_to(v, iv)) << r[4];
	/* the same through the judge: one reading, sign kept on a rounded zero */
	struct judge_value jv;
	ASSERT_EQ(ML_OK, judge_readings(&v, 1, 100000, 0, iv, 1, &jv, nullptr));
	char b[DEC4_FMT_MAX];
	EXPECT_EQ(r[3], std::string(judge_rounded_text(&jv, b, sizeof b))) << r[4];
}

INSTANTIATE_TEST_SUITE_P(Tsv, RoundingCase, ::testing::ValuesIn(tsv_load("rounding.tsv")),
			 [](const ::testing::TestParamInfo<TsvRow> &i) {
				 return tsv_name(i.param);
			 });

class MeanCase : public ::testing::TestWithParam<TsvRow>
{
};

TEST_P(MeanCase, MeanAndRoundedFromTheExactSum)
{
	const TsvRow &r = GetParam();
	std::vector<int64_t> v;
	for (const std::string &s : tsv_split(r[0], ','))
		v.push_back(d4(s));
	int64_t mean = 0, rounded = 0;
	int sign = 9;
	ASSERT_EQ(ML_OK,
		  dec4_mean(v.data(), (int)v.size(), d4(r[1]), &mean, &rounded, &sign, nullptr));
	EXPECT_EQ(d4(r[2]), mean) << r[4];
	EXPECT_EQ(d4(r[3]), rounded) << r[4];
}

INSTANTIATE_TEST_SUITE_P(Tsv, MeanCase, ::testing::ValuesIn(tsv_load("means.tsv")),
			 [](const ::testing::TestParamInfo<TsvRow> &i) {
				 return tsv_name(i.param);
			 });

TEST(Decimal, MeanRejectsBadInput)
{
	int64_t r[2] = { 1, 2 }, m;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, dec4_mean(r, 0, 1000, &m, nullptr, nullptr, &err));
	EXPECT_EQ(ML_EINVAL, dec4_mean(r, 2, 0, &m, &m, nullptr, &err));
	int64_t big[1] = { DEC4_ABS_MAX + 1 };
	EXPECT_EQ(ML_EINVAL, dec4_mean(big, 1, 1000, &m, nullptr, nullptr, &err));
}

} // namespace
