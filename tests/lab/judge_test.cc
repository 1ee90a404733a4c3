/* Limits from the regulation tables, verdicts, item and position conclusions (tests/data/lab TSV files). */
#include <gtest/gtest.h>

#include <stdexcept>

#include "judge_tsv.h"

extern "C" {
#include "lab/decimal.h"
#include "lab/judge.h"
#include "lab/limits.h"
#include "lab/settings.h"
}

namespace
{

int64_t d4(const std::string &s)
{
	int64_t v = 0;
	if (dec4_parse(s.c_str(), &v, nullptr) != ML_OK)
		throw std::runtime_error("bad decimal in test data: " + s);
	return v;
}

struct lab_settings defaults()
{
	struct lab_settings s;
	lab_settings_defaults(&s);
	return s;
}

class MeterLimitCase : public ::testing::TestWithParam<TsvRow>
{
};

TEST_P(MeterLimitCase, MatchesTheTable)
{
	const TsvRow &r = GetParam();
	struct lab_settings set = defaults();
	struct load_point pt;
	enum model_connection conn;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, model_connection_parse(r[1].c_str(), &conn, &err));
	ASSERT_EQ(ML_OK, point_current_parse(r[2].c_str(), &pt.base, &pt.mult_e4, &err)) << err.msg;
	ASSERT_EQ(ML_OK, point_pf_parse(r[3].c_str(), &pt.pf, &err));
	ASSERT_EQ(ML_OK, point_element_parse(r[4].c_str(), &pt.element, &err));
	struct judge_limit lim;
	int rc = judge_meter_limit(r[0].c_str(), conn, &pt, std::stoll(r[5]), std::stoll(r[6]),
				   &set, &lim, &err);
	if (r[7] == "none") {
		EXPECT_EQ(ML_EINVAL, rc) << r[8];
		EXPECT_NE(nullptr, strstr(err.msg, r[0].c_str())) << err.msg;
		return;
	}
	ASSERT_EQ(ML_OK, rc) << r[8] << ": " << err.msg;
	EXPECT_EQ(d4(r[7]), lim.limit_e4) << r[8];
	EXPECT_GT(lim.interval_e4, 0);
	EXPECT_NE(nullptr, lim.clause);
}

INSTANTIATE_TEST_SUITE_P(Tsv, MeterLimitCase, ::testing::ValuesIn(tsv_load("meter_limits.tsv")),
			 [](const ::testing::TestParamInfo<TsvRow> &i) {
				 return tsv_name(i.param);
			 });

class XfmrLimitCase : public ::testing::TestWithParam<TsvRow>
{
};

TEST_P(XfmrLimitCase, MatchesIec61869)
{
	const TsvRow &r = GetParam();
	struct lab_settings set = defaults();
	struct judge_limit lim;
	struct ml_error err = ML_ERROR_INIT;
	int rc = r[0] == "ct" ? judge_ct_limit(r[1].c_str(), d4(r[2]), &set, &lim, &err)
			      : judge_vt_limit(r[1].c_str(), d4(r[2]), &set, &lim, &err);
	if (r[3] == "none") {
		EXPECT_EQ(ML_EINVAL, rc) << r[5];
		return;
	}
	ASSERT_EQ(ML_OK, rc) << err.msg;
	EXPECT_EQ(d4(r[3]), lim.limit_e4) << r[5];
	EXPECT_EQ(d4(r[4]), lim.limit2_e4) << r[5];
}

INSTANTIATE_TEST_SUITE_P(Tsv, XfmrLimitCase, ::testing::ValuesIn(tsv_load("xfmr_limits.tsv")),
			 [](const ::testing::TestParamInfo<TsvRow> &i) {
				 return tsv_name(i.param);
			 });

class VerdictCase : public ::testing::TestWithParam<TsvRow>
{
};

TEST_P(VerdictCase, RegulationAndInternal)
{
	const TsvRow &r = GetParam();
	std::vector<int64_t> v;
	for (const std::string &s : tsv_split(r[0], ','))
		v.push_back(d4(s));
	int64_t limit = d4(r[1]), internal = judge_internal_limit(limit, d4(r[3]));
	struct judge_value jv;
	ASSERT_EQ(ML_OK, judge_readings(v.data(), (int)v.size(), limit, internal, d4(r[2]),
					std::stoi(r[4]), &jv, nullptr));
	EXPECT_EQ(r[5], judge_verdict_name(jv.verdict)) << r[7];
	EXPECT_EQ(r[6], judge_verdict_name(jv.internal_verdict)) << r[7];
	EXPECT_EQ(limit, jv.limit_e4);
	EXPECT_EQ(internal, jv.internal_limit_e4);
}

INSTANTIATE_TEST_SUITE_P(Tsv, VerdictCase, ::testing::ValuesIn(tsv_load("verdicts.tsv")),
			 [](const ::testing::TestParamInfo<TsvRow> &i) {
				 return tsv_name(i.param);
			 });

TEST(Judge, IntervalsPerClass)
{
	const struct {
		const char *cls;
		int64_t iv;
	} t[] = { { "0.2S", 200 }, { "0.5S", 500 }, { "1", 1000 }, { "2", 2000 },
		  { "B", 1000 },   { "D", 200 },    { "E", 100 } };
	for (auto &c : t) {
		int64_t iv = 0;
		ASSERT_EQ(ML_OK, judge_meter_interval(c.cls, &iv, nullptr));
		EXPECT_EQ(c.iv, iv) << c.cls;
	}
	int64_t iv;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, judge_meter_interval("0.3S", &iv, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'0.3S'"));
}

TEST(Judge, InternalLimitNeverLooser)
{
	EXPECT_EQ(6000, judge_internal_limit(10000, 600000));
	EXPECT_EQ(2100, judge_internal_limit(3500, 600000));
	EXPECT_EQ(1333, judge_internal_limit(2000, 666666)); /* 0.13333 truncated, not rounded up */
	EXPECT_EQ(10000, judge_internal_limit(10000, 1000000));
}

TEST(Judge, CreepStartCounters)
{
	EXPECT_EQ(JUDGE_PASS, judge_creep(0, 1));
	EXPECT_EQ(JUDGE_PASS, judge_creep(1, 1));
	EXPECT_EQ(JUDGE_FAIL, judge_creep(2, 1));
	EXPECT_EQ(JUDGE_FAIL, judge_creep(1, 0));
	EXPECT_EQ(JUDGE_PASS, judge_start(1, 600000, 654545, 1));
	EXPECT_EQ(JUDGE_PASS, judge_start(1, 654545, 654545, 1));
	EXPECT_EQ(JUDGE_FAIL, judge_start(1, 654546, 654545, 1));
	EXPECT_EQ(JUDGE_FAIL, judge_start(0, 1000, 654545, 1));
	EXPECT_EQ(JUDGE_FAIL, judge_start(1, 1000, 654545, 2));
}

TEST(Judge, ConstantByErrorAndByPulses)
{
	struct lab_settings set = defaults();
	int64_t g, d;
	enum judge_verdict v;
	/* 1 kWh on the register at 1200 imp/kWh, 1200 pulses counted: exact */
	ASSERT_EQ(ML_OK, judge_constant(10000, 1200, 1200, 10000, &set, &g, &d, &v, nullptr));
	EXPECT_EQ(0, g);
	EXPECT_EQ(0, d);
	EXPECT_EQ(JUDGE_PASS, v);
	/* 1.01 kWh vs 1200 pulses: 1212 expected, γ = +1.0 % exactly on the class-1 limit */
	ASSERT_EQ(ML_OK, judge_constant(10100, 1200, 1200, 10000, &set, &g, &d, &v, nullptr));
	EXPECT_EQ(10000, g);
	EXPECT_EQ(12, d);
	EXPECT_EQ(JUDGE_PASS, v);
	ASSERT_EQ(ML_OK, judge_constant(10101, 1200, 1200, 10000, &set, &g, &d, &v, nullptr));
	EXPECT_EQ(JUDGE_FAIL, v);
	/* by pulses: |diff| ≤ 1 */
	set.constant_by_pulses = 1;
	ASSERT_EQ(ML_OK, judge_constant(10000, 1201, 1200, 10000, &set, &g, &d, &v, nullptr));
	EXPECT_EQ(-1, d);
	EXPECT_EQ(JUDGE_PASS, v);
	ASSERT_EQ(ML_OK, judge_constant(10000, 1202, 1200, 10000, &set, &g, &d, &v, nullptr));
	EXPECT_EQ(JUDGE_FAIL, v);
	/* no pulses: fail, not an error */
	ASSERT_EQ(ML_OK, judge_constant(0, 0, 1200, 10000, &set, &g, &d, &v, nullptr));
	EXPECT_EQ(JUDGE_FAIL, v);
	EXPECT_EQ(ML_EINVAL, judge_constant(100, 1, 0, 10000, &set, &g, &d, &v, nullptr));
	EXPECT_EQ(ML_EINVAL,
		  judge_constant(INT64_C(100000000000), 1, 1200, 10000, &set, &g, &d, &v, nullptr));
	/* large but plausible: 10⁶ kWh at 10⁸ imp/kWh against one pulse */
	EXPECT_EQ(ML_EINVAL, judge_constant(INT64_C(10000000000), 1, 100000000, 10000, &set, &g, &d,
					    &v, nullptr));
}

TEST(Judge, ValueRejectsBadArguments)
{
	int64_t r[1] = { 1 };
	struct judge_value jv;
	EXPECT_EQ(ML_EINVAL, judge_readings(r, 0, 10000, 0, 1000, 1, &jv, nullptr));
	EXPECT_EQ(ML_EINVAL,
		  judge_readings(r, JUDGE_MAX_READINGS + 1, 10000, 0, 1000, 1, &jv, nullptr));
	EXPECT_EQ(ML_EINVAL, judge_readings(r, 1, 0, 0, 1000, 1, &jv, nullptr));
	EXPECT_EQ(ML_EINVAL, judge_readings(r, 1, 10000, 0, 0, 1, &jv, nullptr));
}

TEST(Judge, PositionConclusions)
{
	struct judge_position p;
	judge_position_init(&p);
	EXPECT_EQ(JUDGE_NONE, p.overall);
	struct judge_step_result r;
	memset(&r, 0, sizeof r);
	r.kind = STEP_BASIC;
	r.verdict = JUDGE_PASS;
	r.internal_verdict = JUDGE_FAIL;
	judge_position_add(&p, &r);
	EXPECT_EQ(JUDGE_PASS, p.item[JUDGE_ITEM_BASIC]);
	EXPECT_EQ(JUDGE_FAIL, p.item_internal[JUDGE_ITEM_BASIC]);
	EXPECT_EQ(JUDGE_PASS, p.overall);
	EXPECT_EQ(JUDGE_FAIL, p.overall_internal);
	EXPECT_EQ(JUDGE_NONE, p.item[JUDGE_ITEM_CREEP]);
	r.kind = STEP_CREEP;
	r.verdict = r.internal_verdict = JUDGE_FAIL;
	judge_position_add(&p, &r);
	EXPECT_EQ(JUDGE_FAIL, p.item[JUDGE_ITEM_CREEP]);
	EXPECT_EQ(JUDGE_FAIL, p.overall);
	r.kind = STEP_BASIC; /* a later pass does not undo a failed item */
	r.verdict = r.internal_verdict = JUDGE_PASS;
	judge_position_add(&p, &r);
	EXPECT_EQ(JUDGE_PASS, p.item[JUDGE_ITEM_BASIC]);
	EXPECT_EQ(JUDGE_FAIL, p.overall);
	/* CT: ratio and phase are separate items */
	judge_position_init(&p);
	memset(&r, 0, sizeof r);
	r.kind = STEP_CT;
	r.value.verdict = r.value.internal_verdict = JUDGE_PASS;
	r.value2.verdict = r.value2.internal_verdict = JUDGE_FAIL;
	judge_position_add(&p, &r);
	EXPECT_EQ(JUDGE_PASS, p.item[JUDGE_ITEM_RATIO]);
	EXPECT_EQ(JUDGE_FAIL, p.item[JUDGE_ITEM_PHASE]);
	EXPECT_EQ(JUDGE_FAIL, p.overall);
	EXPECT_STREQ("phase", judge_item_name(JUDGE_ITEM_PHASE));
}

TEST(Settings, DefaultsParseAndRoundTrip)
{
	size_t n = 0;
	const struct lab_setting_desc *t = lab_settings_table(&n);
	ASSERT_GT(n, 20u);
	struct lab_settings s = defaults();
	EXPECT_EQ(1, s.verdict_on_rounded);
	EXPECT_EQ(600000, s.internal_coeff_e4);
	EXPECT_EQ(1, s.creep_max_pulses);
	EXPECT_EQ(5, s.ct_points_s_n);
	EXPECT_EQ(10000, s.ct_points_s_e4[0]);
	EXPECT_EQ(-1, s.half_imax);
	struct ml_buf b = ML_BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ(ML_OK, lab_settings_get(&s, t[i].key, &b, nullptr)) << t[i].key;
		struct lab_settings s2 = defaults();
		ASSERT_EQ(ML_OK, lab_settings_set(&s2, t[i].key, ml_buf_str(&b), nullptr))
			<< t[i].key;
		EXPECT_EQ(0, memcmp(&s, &s2, sizeof s)) << t[i].key;
		EXPECT_NE(nullptr, t[i].source);
		EXPECT_NE(nullptr, t[i].description);
	}
	ml_buf_free(&b);
}

TEST(Settings, RejectsBadValuesUnchanged)
{
	struct lab_settings s = defaults(), before = s;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, lab_settings_set(&s, "judge.internal_coefficient", "150", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "150"));
	EXPECT_EQ(ML_EINVAL, lab_settings_set(&s, "judge.verdict_on_rounded", "maybe", &err));
	EXPECT_EQ(ML_EINVAL, lab_settings_set(&s, "ct.points", "5,abc", &err));
	EXPECT_EQ(ML_ENOTFOUND, lab_settings_set(&s, "no.such", "1", &err));
	EXPECT_EQ(0, memcmp(&s, &before, sizeof s));
	ASSERT_EQ(ML_OK, lab_settings_set(&s, "judge.verdict_on_rounded", "NO", &err));
	EXPECT_EQ(0, s.verdict_on_rounded);
	ASSERT_EQ(ML_OK, lab_settings_set(&s, "ct.points", "5,20,100", &err));
	EXPECT_EQ(3, s.ct_points_n);
}

} // namespace
