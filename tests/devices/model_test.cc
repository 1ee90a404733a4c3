// The simulator's device physics without any network: drive sim_state
// through the holding registers at exact device times.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "devices/bench.h"
#include "devices/bench_codec.h"
#include "devices/benchsim_priv.h"

struct Model {
	struct benchsim_scenario *sc = nullptr;
	struct sim_state st;
	std::vector<uint16_t> h = std::vector<uint16_t>(BR_CTL_END, 0);
	std::vector<uint16_t> in = std::vector<uint16_t>(BR_POS_ADDR(BR_MAX_POSITIONS), 0);

	explicit Model(const char *text)
	{
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(benchsim_scenario_parse(text, "model", &sc, &err), ML_OK) << err.msg;
		sim_init(&st, sc, 1);
	}
	~Model()
	{
		benchsim_scenario_free(sc);
	}
	// Write registers as a master would; returns the exception code (0 = accepted).
	int write(int addr, std::vector<uint16_t> v)
	{
		int exc = sim_check_write(&st, h.data(), addr, (int)v.size(), v.data());
		if (exc)
			return exc;
		std::copy(v.begin(), v.end(), h.begin() + addr);
		sim_apply_write(&st, h.data(), addr, (int)v.size());
		return 0;
	}
	void source(float u, float i, uint16_t seq)
	{
		std::vector<uint16_t> r(BR_SP_END - BR_SP_WIRING, 0);
		bcodec_put_f32(&r[BR_SP_FREQ - BR_SP_WIRING], 50.0f);
		bcodec_put_f32(&r[BR_SP_U - BR_SP_WIRING], u);
		bcodec_put_f32(&r[BR_SP_I - BR_SP_WIRING], i);
		r[BR_SP_MASK - BR_SP_WIRING] = 1;
		r[BR_SP_SEQ - BR_SP_WIRING] = seq;
		r[BR_SP_COMMAND - BR_SP_WIRING] = 1;
		EXPECT_EQ(write(BR_SP_WIRING, r), 0);
	}
	void start(int p, uint16_t mode, uint16_t pulses, float tlim)
	{
		std::vector<uint16_t> r(BR_PC_USED, 0);
		r[BR_PC_MODE] = mode;
		bcodec_put_u32(&r[BR_PC_CONSTANT], 1200);
		r[BR_PC_PULSES] = pulses;
		bcodec_put_f32(&r[BR_PC_TLIMIT], tlim);
		r[BR_PC_ENABLED] = 1;
		bcodec_put_f32(&r[BR_PC_CLKFREQ], 1.0f);
		r[BR_PC_COMMAND] = BENCH_CMD_START;
		EXPECT_EQ(write(BR_POS_ADDR(p), r), 0);
	}
	const uint16_t *at(double t)
	{
		sim_advance(&st, t);
		sim_fill_dynamic(&st, in.data());
		return in.data();
	}
	const uint16_t *pos(double t, int p)
	{
		return at(t) + BR_POS_ADDR(p);
	}
};

TEST(Model, SettlingHeartbeatAndBusy)
{
	Model m("positions 2\nsettle_s 2\n");
	EXPECT_EQ(m.at(0.55)[BR_SRC_HEARTBEAT], 5); // +1 per 100 ms
	m.source(220.0f, 5.0f, 11);
	EXPECT_EQ(m.at(2.5)[BR_SRC_STATE], BENCH_SRC_SETTLING); // applied at 0.55, stable at 2.55
	EXPECT_EQ(m.write(BR_ALL_COMMAND, { 1 }), 6);           // busy while settling
	EXPECT_EQ(m.at(2.56)[BR_SRC_STATE], BENCH_SRC_STABLE);
	EXPECT_EQ(m.in[BR_SRC_APPLIED], 11);
	EXPECT_NEAR(bcodec_get_f32(&m.in[BR_SRC_U]), 220.0, 0.11);
	m.st.hb_frozen = 1;
	uint16_t hb = m.at(3.0)[BR_SRC_HEARTBEAT];
	EXPECT_EQ(m.at(9.0)[BR_SRC_HEARTBEAT], hb);
}

TEST(Model, BasicReadingsAtExactDeviceTimes)
{
	Model m("positions 1\nsettle_s 0\n[1]\nerror 0\n");
	m.source(220.0f, 5.0f, 1); // 1100 W x 1200 imp/kWh = 0.36667 pulses/s
	m.at(0.001);
	m.start(0, BENCH_MODE_BASIC, 2, 0);
	// reading k at 2k / 0.36667 s = 5.4545 k s after the start
	EXPECT_EQ(m.pos(0.001 + 5.40, 0)[BR_PS_SEQ], 0);
	EXPECT_EQ(m.pos(0.001 + 5.50, 0)[BR_PS_SEQ], 1);
	EXPECT_EQ(m.pos(0.001 + 27.2, 0)[BR_PS_SEQ], 4);
	EXPECT_EQ(m.pos(0.001 + 27.4, 0)[BR_PS_SEQ], 5);
	EXPECT_EQ(bcodec_get_u32(&m.in[BR_POS_ADDR(0) + BR_PS_PULSES]), 10u);
}

TEST(Model, CreepAndStartWindows)
{
	Model m("positions 3\nsettle_s 0\n[2]\ndefect creeping\ncreep_rate 120\n[3]\ndefect not_starting\n");
	m.source(253.0f, 0.0f, 1);
	m.at(0.001);
	for (int p = 0; p < 3; p++)
		m.start(p, BENCH_MODE_CREEP, 1, 100.0f);
	// creeping meter: 2 pulses/min, the 2nd (more than 1 allowed) at 60 s
	EXPECT_EQ(m.pos(59.0, 1)[BR_PS_STATE], BENCH_POS_RUNNING);
	EXPECT_EQ(m.pos(61.0, 1)[BR_PS_STATE], BENCH_POS_DONE);
	EXPECT_EQ(m.in[BR_POS_ADDR(1) + BR_PS_RESULT], BENCH_RES_CREEP);
	EXPECT_EQ(m.pos(99.0, 0)[BR_PS_STATE], BENCH_POS_RUNNING);
	EXPECT_EQ(m.pos(101.0, 0)[BR_PS_STATE], BENCH_POS_DONE);
	EXPECT_EQ(m.in[BR_POS_ADDR(0) + BR_PS_RESULT], BENCH_RES_OK);
	EXPECT_EQ(bcodec_get_f32(&m.in[BR_POS_ADDR(0) + BR_PS_ELAPSED]),
		  100.0f); // stops at the limit

	m.source(220.0f, 0.02f, 2); // 4.4 W: one pulse per 681.8 s
	m.at(101.5);
	for (int p = 0; p < 3; p++)
		m.start(p, BENCH_MODE_START, 1, 1000.0f);
	EXPECT_EQ(m.pos(101.5 + 680.0, 0)[BR_PS_STATE], BENCH_POS_RUNNING);
	EXPECT_EQ(m.pos(101.5 + 683.0, 0)[BR_PS_STATE], BENCH_POS_DONE);
	EXPECT_EQ(m.in[BR_POS_ADDR(0) + BR_PS_RESULT], BENCH_RES_OK);
	EXPECT_EQ(m.pos(101.5 + 1001.0, 2)[BR_PS_STATE], BENCH_POS_DONE);
	EXPECT_EQ(m.in[BR_POS_ADDR(2) + BR_PS_RESULT], BENCH_RES_TIME_LIMIT);
}

TEST(Model, ClockReadingEverySixtyPulses)
{
	Model m("positions 1\nsettle_s 0\n[1]\nclock_drift 8.64\n"); // 1e-4 fast: 60 pulses in 59.994 s
	m.source(220.0f, 0.0f, 1);
	m.at(0.001);
	m.start(0, BENCH_MODE_CLOCK, 0, 0);
	EXPECT_EQ(m.pos(0.001 + 59.99, 0)[BR_PS_SEQ], 0);
	EXPECT_EQ(m.pos(0.001 + 59.999, 0)[BR_PS_SEQ], 1);
	EXPECT_EQ(bcodec_get_i32(&m.in[BR_POS_ADDR(0) + BR_PS_VALUE]), 86400);
}

/*
 * §5 (1.1): a basic-error position that counts no pulse for three times the
 * time one reading should take ends with result 1. 220 V × 5 A = 1100 W at
 * 1200 imp/kWh is 0.3667 pulses/s: 10 pulses take 27.27 s, the bound is
 * 81.8 s of device time at full source.
 */
TEST(Model, DeadPositionEndsWithNoPulsesAfterThreeReadingTimes)
{
	Model m("positions 2\n[2]\ndefect dead\n");
	m.source(220.0f, 5.0f, 1);
	m.at(2.5); /* settle_s 2: stable */
	m.start(0, BENCH_MODE_BASIC, 10, 0.0f);
	m.start(1, BENCH_MODE_BASIC, 10, 0.0f);
	const double t0 = 2.5, reading = 10 / (1100.0 * 1200 / 3.6e6);
	const uint16_t *p = m.pos(t0 + 3 * reading - 0.5, 1);
	EXPECT_EQ(p[BR_PS_STATE], BENCH_POS_RUNNING);
	EXPECT_EQ(p[BR_PS_RESULT], BENCH_RES_OK);
	p = m.pos(t0 + 3 * reading + 0.5, 1);
	EXPECT_EQ(p[BR_PS_STATE], BENCH_POS_DONE);
	EXPECT_EQ(p[BR_PS_RESULT], BENCH_RES_NO_PULSES);
	EXPECT_EQ(p[BR_PS_SEQ], 0);
	p = m.pos(t0 + 3 * reading + 0.5, 0); /* the good meter goes on */
	EXPECT_EQ(p[BR_PS_STATE], BENCH_POS_RUNNING);
	EXPECT_GE(p[BR_PS_SEQ], 2);
}

/* A bench that does not follow §5 (scenario 'no_pulses 0'): the driver must bound its wait itself. */
TEST(Model, BenchWithoutTheNoPulsesRuleNeverEndsADeadPosition)
{
	Model m("positions 1\nno_pulses 0\n[1]\ndefect dead\n");
	m.source(220.0f, 5.0f, 1);
	m.at(2.5);
	m.start(0, BENCH_MODE_BASIC, 10, 0.0f);
	const uint16_t *p = m.pos(2.5 + 100000.0, 0);
	EXPECT_EQ(p[BR_PS_STATE], BENCH_POS_RUNNING);
	EXPECT_EQ(p[BR_PS_RESULT], BENCH_RES_OK);
	EXPECT_EQ(bcodec_get_u32(&p[BR_PS_PULSES]), 0u);
}

/* §6: 1.1 sends the register as u32 Wh (exact at any size), 1.0 as f32 kWh; proto_minor says which. */
TEST(Model, RegisterIsU32WhIn11AndF32KwhIn10)
{
	Model v11("positions 1\n[1]\nregister_start 123456.78\n");
	Model v10("protocol 1.0\npositions 1\n[1]\nregister_start 123456.78\n");
	std::vector<uint16_t> id(BR_ID_END, 0);
	sim_fill_identity(&v11.st, id.data());
	EXPECT_EQ(id[BR_ID_PROTO_MINOR], 1);
	sim_fill_identity(&v10.st, id.data());
	EXPECT_EQ(id[BR_ID_PROTO_MINOR], 0);
	EXPECT_EQ(bcodec_get_u32(&v11.pos(1.0, 0)[BR_PS_REGISTER]), 123456780u);
	EXPECT_EQ(bcodec_get_f32(&v10.pos(1.0, 0)[BR_PS_REGISTER]), 123456.78f);
}

/* §5: only the addresses of the tables are mapped; the identity gap 0x000C..0x000F is not. */
TEST(Model, OnlyMappedInputRangesAreMapped)
{
	Model m("positions 3\n");
	EXPECT_TRUE(sim_input_mapped(&m.st, 0x0000, 12));
	EXPECT_FALSE(sim_input_mapped(&m.st, 0x0000, 13));
	for (int a = 0x000C; a <= 0x000F; a++)
		EXPECT_FALSE(sim_input_mapped(&m.st, a, 1)) << a;
	EXPECT_TRUE(sim_input_mapped(&m.st, 0x0010, 32));
	EXPECT_FALSE(sim_input_mapped(&m.st, 0x0010, 33));
	EXPECT_TRUE(sim_input_mapped(&m.st, BR_SRC_STATE, BR_SRC_END - BR_SRC_STATE));
	EXPECT_FALSE(sim_input_mapped(&m.st, BR_SRC_END, 1));
	EXPECT_TRUE(sim_input_mapped(&m.st, BR_POS_ADDR(0), 3 * BR_POS_STRIDE));
	EXPECT_FALSE(sim_input_mapped(&m.st, BR_POS_ADDR(3), 1));
}

/*
 * §4.4 (1.1): command 0 means none, so a configuration block written while a
 * position runs (the runner writes one block per step) neither stops nor
 * restarts it; 1 starts (clearing reading_seq), 2 stops, 3 is refused (03).
 */
TEST(Model, CommandZeroInAConfigurationBlockIsNone)
{
	Model m("positions 1\n");
	m.source(220.0f, 60.0f, 1);
	m.at(2.5);
	m.start(0, BENCH_MODE_BASIC, 10, 0.0f);
	uint16_t seq = m.pos(20.0, 0)[BR_PS_SEQ];
	ASSERT_GT(seq, 2);
	std::vector<uint16_t> r(BR_PC_USED, 0);
	r[BR_PC_MODE] = BENCH_MODE_BASIC;
	bcodec_put_u32(&r[BR_PC_CONSTANT], 1200);
	r[BR_PC_PULSES] = 10;
	r[BR_PC_ENABLED] = 1;
	r[BR_PC_COMMAND] = 0;
	EXPECT_EQ(m.write(BR_POS_ADDR(0), r), 0);
	const uint16_t *p = m.pos(20.0, 0);
	EXPECT_EQ(p[BR_PS_STATE], BENCH_POS_RUNNING);
	EXPECT_EQ(p[BR_PS_SEQ], seq);
	EXPECT_EQ(m.write(BR_POS_ADDR(0) + BR_PC_COMMAND, { 3 }), 3);
	EXPECT_EQ(m.write(BR_POS_ADDR(0) + BR_PC_COMMAND, { BENCH_CMD_START }), 0);
	EXPECT_EQ(m.pos(20.0, 0)[BR_PS_SEQ], 0);
	EXPECT_EQ(m.write(BR_POS_ADDR(0) + BR_PC_COMMAND, { BENCH_CMD_STOP }), 0);
	EXPECT_EQ(m.pos(20.0, 0)[BR_PS_STATE], BENCH_POS_IDLE);
}
