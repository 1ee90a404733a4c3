/* plan_make_step: bench setpoints, pulses, durations (worked examples of domain 1.6/1.7) and limits. */
#include <gtest/gtest.h>

#include <cmath>

#include "judge_tsv.h"

extern "C" {
#include "lab/decimal.h"
#include "lab/judge.h"
#include "lab/plan.h"
#include "lab/scheme.h"
}

namespace
{

int64_t milli(const std::string &s)
{
	int64_t v = 0;
	if (dec_parse(s.c_str(), 3, &v, nullptr) != ML_OK)
		throw std::runtime_error("bad decimal " + s);
	return v;
}

struct model_rating meter(const char *cls, enum model_connection conn, enum model_wiring w,
			  int64_t un_mv, int64_t ib_ma, int64_t imax_ma, int64_t c)
{
	struct model_rating r;
	memset(&r, 0, sizeof r);
	r.kind = w == WIRING_1P2W ? MODEL_METER_1P : MODEL_METER_3P;
	snprintf(r.accuracy_class, sizeof r.accuracy_class, "%s", cls);
	r.connection = conn;
	r.wiring = w;
	r.un_mv = un_mv;
	r.ib_ma = ib_ma;
	r.imax_ma = imax_ma;
	r.constant = c;
	r.freq_mhz = 50000;
	r.clock_freq_mhz = 1000;
	return r;
}

/* single-phase 220 V 5(60) A 1200 imp/kWh class 1: the Henan certificate meter */
struct model_rating henan(const char *cls = "1")
{
	return meter(cls, CONN_DIRECT, WIRING_1P2W, 220000, 5000, 60000, 1200);
}

struct lab_settings defaults()
{
	struct lab_settings s;
	lab_settings_defaults(&s);
	return s;
}

struct scheme_step basic(const char *cur, enum point_pf pf, enum point_element el = ELEM_H)
{
	struct scheme_step st;
	memset(&st, 0, sizeof st);
	st.kind = STEP_BASIC;
	EXPECT_EQ(ML_OK, point_current_parse(cur, &st.point.base, &st.point.mult_e4, nullptr));
	st.point.pf = pf;
	st.point.element = el;
	return st;
}

struct scheme_step simple(enum scheme_step_kind k)
{
	struct scheme_step st;
	memset(&st, 0, sizeof st);
	st.kind = k;
	return st;
}

struct plan_step plan(const struct scheme_step &st, const struct model_rating &r,
		      const struct lab_settings &set)
{
	struct plan_step ps;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, plan_make_step(&st, 0, &r, &set, &ps, &err)) << err.msg;
	return ps;
}

class DurationCase : public ::testing::TestWithParam<TsvRow>
{
};

TEST_P(DurationCase, CreepAndStartingTimes)
{
	const TsvRow &t = GetParam();
	enum model_connection conn;
	enum model_wiring w;
	ASSERT_EQ(ML_OK, model_connection_parse(t[1].c_str(), &conn, nullptr));
	ASSERT_EQ(ML_OK, model_wiring_parse(t[2].c_str(), &w, nullptr));
	struct model_rating r = meter(t[0].c_str(), conn, w, milli(t[3]), milli(t[4]), milli(t[5]),
				      std::stoll(t[6]));
	struct lab_settings set = defaults();
	int64_t creep = 0, ist = 0, start = 0;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, plan_creep_ms(&r, &set, &creep, &err)) << err.msg;
	ASSERT_EQ(ML_OK, plan_start_current_ua(&r, &set, &ist, &err)) << err.msg;
	ASSERT_EQ(ML_OK, plan_start_ms(&r, &set, &start, &err)) << err.msg;
	EXPECT_EQ(std::stoll(t[7]), creep) << t[10];
	EXPECT_EQ(std::stoll(t[8]), ist) << t[10];
	EXPECT_EQ(std::stoll(t[9]), start) << t[10];
	/* the planned steps carry the same durations to the bench */
	struct plan_step ps = plan(simple(STEP_CREEP), r, set);
	EXPECT_EQ(creep, ps.duration_ms);
	EXPECT_NEAR(creep / 1000.0, ps.pos.time_limit, 0.01);
	ps = plan(simple(STEP_START), r, set);
	EXPECT_EQ(start, ps.duration_ms);
	EXPECT_NEAR(ist / 1e6, ps.source.i[0], 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Tsv, DurationCase, ::testing::ValuesIn(tsv_load("plan_durations.tsv")),
			 [](const ::testing::TestParamInfo<TsvRow> &i) {
				 return tsv_name(i.param);
			 });

TEST(Plan, WorkedExampleMinutes)
{
	/* domain 1.7: 30.3 / 37.9 min creep, 10.9 / 13.6 min starting (one decimal) */
	struct lab_settings set = defaults();
	int64_t ms;
	struct model_rating r2 = henan("2"), r1 = henan("1");
	ASSERT_EQ(ML_OK, plan_creep_ms(&r2, &set, &ms, nullptr));
	EXPECT_EQ(303, dec_div_half_even(ms, 6000));
	ASSERT_EQ(ML_OK, plan_creep_ms(&r1, &set, &ms, nullptr));
	EXPECT_EQ(379, dec_div_half_even(ms, 6000));
	ASSERT_EQ(ML_OK, plan_start_ms(&r2, &set, &ms, nullptr));
	EXPECT_EQ(109, dec_div_half_even(ms, 6000));
	ASSERT_EQ(ML_OK, plan_start_ms(&r1, &set, &ms, nullptr));
	EXPECT_EQ(136, dec_div_half_even(ms, 6000));
	/* start.time_factor 1.5 (LYTest) stretches the window */
	ASSERT_EQ(ML_OK, lab_settings_set(&set, "start.time_factor", "1.5", nullptr));
	ASSERT_EQ(ML_OK, plan_start_ms(&r1, &set, &ms, nullptr));
	EXPECT_EQ(1227273, ms); /* 818181.8 × 1.5 */
}

TEST(Plan, BasicPointSetpointsAndLimits)
{
	struct lab_settings set = defaults();
	struct plan_step ps = plan(basic("Imax", PF_0_5L), henan(), set);
	EXPECT_EQ(BENCH_MODE_BASIC, ps.mode);
	EXPECT_STREQ("Imax cos\u03c6=0.5L H", ps.label);
	EXPECT_EQ(BENCH_WIRING_1P2W, ps.source.wiring);
	EXPECT_FLOAT_EQ(220.0f, ps.source.u[0]);
	EXPECT_FLOAT_EQ(60.0f, ps.source.i[0]);
	EXPECT_FLOAT_EQ(60.0f, ps.source.phi[0]);
	EXPECT_FLOAT_EQ(50.0f, ps.source.freq);
	EXPECT_EQ(1, ps.source.element_mask);
	EXPECT_EQ(60000000, ps.current_ua);
	EXPECT_EQ(6600000, ps.power_mw); /* 220 × 60 × 0.5 W */
	EXPECT_EQ(12, ps.pos.pulses);    /* round(2 × 12 × 0.5) */
	EXPECT_EQ(1200u, ps.pos.constant);
	EXPECT_EQ(1, ps.pos.enabled);
	EXPECT_EQ(2, ps.readings);
	EXPECT_EQ(10000, ps.limit_e4);
	EXPECT_EQ(6000, ps.internal_limit_e4);
	EXPECT_EQ(1000, ps.interval_e4);
	/* 2 readings × 12 pulses at 6.6 kW, 1200 imp/kWh: 24 × 3.6e6 / (6600 × 1200) s */
	EXPECT_EQ(10909, ps.duration_ms);

	ps = plan(basic("0.05Ib", PF_1), henan(), set);
	EXPECT_EQ(1, ps.pos.pulses); /* round(0.1) raised to 1 */
	EXPECT_EQ(15000, ps.limit_e4);
	EXPECT_EQ(9000, ps.internal_limit_e4);
	EXPECT_FLOAT_EQ(0.25f, ps.source.i[0]);

	ps = plan(basic("0.1Ib", PF_0_8C), henan(), set);
	EXPECT_NEAR(-36.87, ps.source.phi[0], 1e-3);
	EXPECT_EQ(15000, ps.limit_e4);
}

TEST(Plan, ThreePhaseElements)
{
	struct lab_settings set = defaults();
	struct model_rating r = meter("1", CONN_DIRECT, WIRING_3P4W, 220000, 5000, 60000, 400);
	struct plan_step ps = plan(basic("Ib", PF_1), r, set);
	EXPECT_EQ(7, ps.source.element_mask);
	for (int k = 0; k < 3; k++)
		EXPECT_FLOAT_EQ(5.0f, ps.source.i[k]);
	EXPECT_EQ(3300000, ps.power_mw);
	EXPECT_EQ(2, ps.pos.pulses);
	ps = plan(basic("Imax", PF_1, ELEM_A), r, set);
	EXPECT_EQ(1, ps.source.element_mask);
	EXPECT_FLOAT_EQ(60.0f, ps.source.i[0]);
	EXPECT_FLOAT_EQ(0.0f, ps.source.i[1]);
	EXPECT_FLOAT_EQ(220.0f, ps.source.u[1]); /* voltages stay balanced */
	EXPECT_EQ(8, ps.pos.pulses);             /* round(2 × 12 / 3) */
	EXPECT_EQ(20000, ps.limit_e4);           /* single-element table */
	ps = plan(basic("Ib", PF_0_5L, ELEM_B), r, set);
	EXPECT_EQ(2, ps.source.element_mask);
	EXPECT_EQ(1, ps.pos.pulses);
	EXPECT_STREQ("Ib cos\u03c6=0.5L B", ps.label);

	struct model_rating r3 = meter("0.5S", CONN_TRANSFORMER, WIRING_3P3W, 100000, 1500, 6000,
				       20000);
	ps = plan(basic("Ib", PF_1), r3, set);
	EXPECT_EQ(5, ps.source.element_mask);
	EXPECT_EQ(BENCH_WIRING_3P3W, ps.source.wiring);
	EXPECT_EQ(259807, ps.power_mw); /* √3 × 100 V × 1.5 A */
	EXPECT_EQ(500, ps.interval_e4);
	/* a transformer-operated meter is rated by In (额定电流), JJG 596-2012 */
	EXPECT_STREQ("In cos\u03c6=1.0 H", ps.label);
	ps = plan(basic("0.05Ib", PF_1), r3, set);
	EXPECT_STREQ("0.05In cos\u03c6=1.0 H", ps.label);
	ps = plan(basic("0.05In", PF_1), r, set); /* written In, direct meter: Ib */
	EXPECT_STREQ("0.05Ib cos\u03c6=1.0 H", ps.label);
}

TEST(Plan, MinimumReadingTimeRaisesPulses)
{
	struct lab_settings set = defaults();
	ASSERT_EQ(ML_OK, lab_settings_set(&set, "basic.min_reading_ms", "10000", nullptr));
	struct plan_step ps = plan(basic("Imax", PF_1), henan(), set);
	EXPECT_EQ(44, ps.pos.pulses); /* 13.2 kW × 1200 / 3.6e6 = 4.4 pulses/s × 10 s */
	ps = plan(basic("0.05Ib", PF_1), henan(), set);
	EXPECT_EQ(1, ps.pos.pulses);
	struct scheme_step st = basic("Imax", PF_1);
	st.pulses = 7; /* a step override wins */
	st.readings = 3;
	ps = plan(st, henan(), set);
	EXPECT_EQ(7, ps.pos.pulses);
	EXPECT_EQ(3, ps.readings);
}

TEST(Plan, CreepStartClockConstant)
{
	struct lab_settings set = defaults();
	struct plan_step ps = plan(simple(STEP_CREEP), henan(), set);
	EXPECT_EQ(BENCH_MODE_CREEP, ps.mode);
	EXPECT_FLOAT_EQ(253.0f, ps.source.u[0]); /* 115 % Un */
	EXPECT_FLOAT_EQ(0.0f, ps.source.i[0]);
	EXPECT_EQ(0, ps.source.element_mask);
	EXPECT_EQ(1, ps.pos.pulses);
	EXPECT_EQ(1, ps.max_pulses);
	ps = plan(simple(STEP_START), henan(), set);
	EXPECT_EQ(BENCH_MODE_START, ps.mode);
	EXPECT_FLOAT_EQ(0.02f, ps.source.i[0]);
	EXPECT_FLOAT_EQ(0.0f, ps.source.phi[0]);
	EXPECT_EQ(1, ps.min_pulses);
	ps = plan(simple(STEP_CLOCK), henan(), set);
	EXPECT_EQ(BENCH_MODE_CLOCK, ps.mode);
	EXPECT_EQ(5, ps.readings);
	EXPECT_EQ(5000, ps.limit_e4);
	EXPECT_EQ(100, ps.interval_e4);
	EXPECT_FLOAT_EQ(1.0f, ps.pos.clock_freq);
	EXPECT_EQ(600000, ps.duration_ms); /* 5 × 60 s, twice */
	struct scheme_step c = basic("Imax", PF_1);
	c.kind = STEP_CONSTANT;
	ps = plan(c, henan(), set);
	EXPECT_EQ(BENCH_MODE_CONSTANT, ps.mode);
	EXPECT_EQ(272727, ps.duration_ms); /* 1 kWh at 13.2 kW */
	EXPECT_EQ(10000, ps.limit_e4);     /* class index */
	EXPECT_STREQ("constant Imax cos\u03c6=1.0 H", ps.label);
	struct scheme_step o = simple(STEP_CREEP);
	o.duration_ms = 60000;
	ps = plan(o, henan(), set);
	EXPECT_EQ(60000, ps.duration_ms);
}

TEST(Plan, TransformerSteps)
{
	struct lab_settings set = defaults();
	struct model_rating r;
	memset(&r, 0, sizeof r);
	r.kind = MODEL_CT;
	snprintf(r.accuracy_class, sizeof r.accuracy_class, "0.2S");
	r.rated_primary_milli = 100000;
	r.rated_secondary_milli = 5000;
	r.rated_burden_mva = 10000;
	struct scheme_step st = simple(STEP_CT);
	st.percent_e4 = 50000;
	st.burden_pct_e4 = 250000;
	struct plan_step ps = plan(st, r, set);
	EXPECT_EQ(BENCH_MODE_TRANSFORMER, ps.mode);
	EXPECT_EQ(1, ps.has_xfmr);
	EXPECT_EQ(0, ps.xfmr.kind);
	EXPECT_FLOAT_EQ(100.0f, ps.xfmr.rated_primary);
	EXPECT_FLOAT_EQ(5.0f, ps.xfmr.rated_secondary);
	EXPECT_FLOAT_EQ(5.0f, ps.xfmr.percent);
	EXPECT_FLOAT_EQ(2.5f, ps.xfmr.burden_va);
	EXPECT_FLOAT_EQ(0.8f, ps.xfmr.burden_pf);
	EXPECT_EQ(3500, ps.limit_e4);
	EXPECT_EQ(150000, ps.limit2_e4);
	EXPECT_EQ(200, ps.interval_e4);    /* 10 % of 0.2 */
	EXPECT_EQ(10000, ps.interval2_e4); /* 10 % of 10′ */
	EXPECT_STREQ("CT 5% 25%VA", ps.label);
	EXPECT_EQ(1, ps.readings);
}

TEST(Plan, RefusesWhatDoesNotFit)
{
	struct lab_settings set = defaults();
	struct plan_step ps;
	struct ml_error err = ML_ERROR_INIT;
	struct model_rating r = henan();
	r.constant = 0;
	EXPECT_EQ(ML_EINVAL, plan_make_step(&(const struct scheme_step &)basic("Ib", PF_1), 2, &r,
					    &set, &ps, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "step 3")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "meter constant")) << err.msg;
	r = henan();
	struct scheme_step ct = simple(STEP_CT);
	ct.percent_e4 = 50000;
	ct.burden_pct_e4 = 1000000;
	EXPECT_EQ(ML_EINVAL, plan_make_step(&ct, 0, &r, &set, &ps, &err));
	/* class 2 has no 0.8C ... but the limit table has it; 0.25L does not exist for class 2 */
	r = henan("2");
	struct scheme_step b = basic("Ib", PF_0_25L);
	EXPECT_EQ(ML_EINVAL, plan_make_step(&b, 0, &r, &set, &ps, &err));
	r = henan();
	struct scheme_step el = basic("Ib", PF_1, ELEM_A);
	EXPECT_EQ(ML_EINVAL, plan_make_step(&el, 0, &r, &set, &ps, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "single-phase")) << err.msg;
	r = meter("1", CONN_TRANSFORMER, WIRING_3P3W, 100000, 1500, 6000, 6400);
	el.point.element = ELEM_B;
	EXPECT_EQ(ML_EINVAL, plan_make_step(&el, 0, &r, &set, &ps, &err));
	el.point.element = ELEM_C;
	EXPECT_EQ(ML_OK, plan_make_step(&el, 0, &r, &set, &ps, &err)) << err.msg;
	EXPECT_EQ(4, ps.source.element_mask);
	r.reactive = 1;
	EXPECT_EQ(ML_EINVAL, plan_make_step(&el, 0, &r, &set, &ps, &err));
	r = henan("0.5S"); /* S classes start only transformer-operated */
	struct scheme_step s = simple(STEP_START);
	EXPECT_EQ(ML_EINVAL, plan_make_step(&s, 0, &r, &set, &ps, &err));
}

TEST(JudgeManual, TypedReadingsUseThePlannedSteps)
{
	struct lab_settings set = defaults();
	struct scheme_step st[5] = { simple(STEP_CREEP), simple(STEP_START), basic("Imax", PF_0_5L),
				     basic("Ib", PF_1), basic("Imax", PF_1) };
	st[4].kind = STEP_CONSTANT;
	struct plan_step ps[5];
	struct model_rating r = henan();
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(ML_OK, plan_make_step(&st[i], i, &r, &set, &ps[i], nullptr));
	const char *text = "# position 7, typed from the bench display\n"
			   "creep, pulses=0, elapsed=2273\n"
			   "START, pulses=1, elapsed=500.5\n"
			   "Imax cos\u03c6=0.5L H, -0.1691, -0.1719\n"
			   "\n"
			   "4, 0.70, 0.72   # by step number\n"
			   "constant Imax cos\u03c6=1.0 H, pulses=1200, register=1.0\n";
	struct judge_step_result *res = nullptr;
	size_t n = 0;
	struct judge_position pos;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, judge_manual_text(ps, 5, text, &set, &res, &n, &pos, &err)) << err.msg;
	ASSERT_EQ(5u, n);
	EXPECT_EQ(JUDGE_PASS, res[0].verdict);
	EXPECT_EQ(JUDGE_PASS, res[1].verdict);
	EXPECT_EQ(-1705, res[2].value.mean_e4);
	EXPECT_EQ(-2000, res[2].value.rounded_e4);
	EXPECT_EQ(JUDGE_PASS, res[2].verdict);
	EXPECT_EQ(3, res[3].index);
	EXPECT_EQ(7000, res[3].value.rounded_e4);
	EXPECT_EQ(JUDGE_PASS, res[3].verdict);
	EXPECT_EQ(JUDGE_FAIL, res[3].internal_verdict); /* 0.7 > 60 % of 1.0 */
	EXPECT_EQ(0, res[4].pulse_diff);
	EXPECT_EQ(JUDGE_PASS, pos.item[JUDGE_ITEM_CREEP]);
	EXPECT_EQ(JUDGE_PASS, pos.item[JUDGE_ITEM_CONSTANT]);
	EXPECT_EQ(JUDGE_PASS, pos.overall);
	EXPECT_EQ(JUDGE_FAIL, pos.overall_internal);
	EXPECT_EQ(JUDGE_NONE, pos.item[JUDGE_ITEM_CLOCK]);
	free(res);

	/* creep with 2 pulses fails the position */
	ASSERT_EQ(ML_OK, judge_manual_text(ps, 5, "creep, pulses=2\n", &set, &res, &n, &pos, &err));
	EXPECT_EQ(JUDGE_FAIL, pos.overall);
	free(res);

	const struct {
		const char *text, *want;
	} bad[] = {
		{ "Imax cos\u03c6=0.5L H, -0.1691, x\n", "'x'" },
		{ "nonsense, 1\n", "nonsense" },
		{ "creep, 3\n", "pulses=N" },
		{ "9, 0.1\n", "'9'" },
		{ "Ib cos\u03c6=1.0 H\n", "no readings" },
		{ "creep, pulses=0, elapsed=2273\nIb cos\u03c6=1.0 H, 0.1, 0.2/3\n", "line 2" },
		/* every measurement the scheme requires (issue 8) */
		{ "creep, pulses=0\n", "no elapsed time" },
		{ "creep, pulses=1, elapsed=0.001\n", "too short" },
		{ "START, pulses=1\n", "when the pulse came" },
		{ "Ib cos\u03c6=1.0 H, 0.1\n", "needs 2 readings" },
		{ "# nothing\n", "no readings" },
	};
	for (auto &b : bad) {
		res = nullptr;
		EXPECT_EQ(ML_EINVAL, judge_manual_text(ps, 5, b.text, &set, &res, &n, &pos, &err))
			<< b.text;
		EXPECT_EQ(nullptr, res);
		EXPECT_NE(nullptr, strstr(err.msg, b.want)) << b.text << " -> " << err.msg;
	}
}

TEST(JudgeStep, RecheckNearTheLimitIsASetting)
{
	struct lab_settings set = defaults();
	struct plan_step ps = plan(basic("Ib", PF_1), henan(), set);
	struct judge_step_input in;
	memset(&in, 0, sizeof in);
	in.n = 2;
	in.value_e4[0] = in.value_e4[1] = 8500;
	struct judge_step_result r;
	ASSERT_EQ(ML_OK, judge_step(&ps, &in, &set, &r, nullptr));
	EXPECT_EQ(0, r.recheck); /* off by default */
	ASSERT_EQ(ML_OK, lab_settings_set(&set, "judge.recheck_low", "80", nullptr));
	ASSERT_EQ(ML_OK, lab_settings_set(&set, "judge.recheck_high", "120", nullptr));
	ASSERT_EQ(ML_OK, judge_step(&ps, &in, &set, &r, nullptr));
	EXPECT_EQ(1, r.recheck);
	in.value_e4[0] = in.value_e4[1] = 8000; /* exactly 80 %: inside */
	ASSERT_EQ(ML_OK, judge_step(&ps, &in, &set, &r, nullptr));
	EXPECT_EQ(1, r.recheck);
	in.value_e4[1] = 7999;
	ASSERT_EQ(ML_OK, judge_step(&ps, &in, &set, &r, nullptr));
	EXPECT_EQ(0, r.recheck);
	in.value_e4[0] = in.value_e4[1] = -12500; /* beyond 120 % */
	ASSERT_EQ(ML_OK, judge_step(&ps, &in, &set, &r, nullptr));
	EXPECT_EQ(0, r.recheck);
	EXPECT_EQ(JUDGE_FAIL, r.verdict);
	in.n = 4; /* the recheck readings were taken: decide */
	in.value_e4[0] = in.value_e4[1] = in.value_e4[2] = in.value_e4[3] = 9000;
	ASSERT_EQ(ML_OK, judge_step(&ps, &in, &set, &r, nullptr));
	EXPECT_EQ(0, r.recheck);
	EXPECT_EQ(JUDGE_PASS, r.verdict);
}

} // namespace
