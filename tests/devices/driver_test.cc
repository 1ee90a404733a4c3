// The bench driver (bench.h over Modbus TCP) against the simulator over real
// TCP on 127.0.0.1: identity, source, positions, every test mode.
#include <gtest/gtest.h>

#include <cstring>

#include "devices/bench_codec.h"
#include "devices/bench_regmap.h"
#include "sim_fixture.h"

// 8 positions: 1-6 good meters with distinct errors, 3 with a point table,
// 4 dead, 5 creeping, 6 not starting, 7 absent, 8 clock drift + register error.
static const char *kMeterBench = R"(
name unit-test-bench
model "UT-8 single-phase"
serial UT-0008
firmware 2.1.0
positions 8
u_max 264
i_max 100
std_class 0.05
settle_s 1.5
[1-8]
constant 1200
ib 5
error 0.12
[2]
error -0.1705
[3]
error 0.05
point 0.05 1.0 1.85
point 1.0 0.5L 0.93
[4]
defect dead
[5]
defect creeping
creep_rate 120
[6]
defect not_starting
[7]
absent
[8]
clock_drift 0.62
register_error 0.5
)";

TEST(Driver, IdentifyMatchesScenario)
{
	SimBench f;
	f.start(kMeterBench, 1000);
	struct bench_identity id;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(bench_identify(f.b, &id, &err), ML_OK) << err.msg;
	EXPECT_EQ(id.proto_major, 1);
	EXPECT_EQ(id.proto_minor, 1); /* the simulator speaks 1.1 unless told 'protocol 1.0' */
	EXPECT_EQ(id.device_class, BENCH_CLASS_METER);
	EXPECT_EQ(id.positions, 8);
	EXPECT_EQ(id.phases, 1);
	EXPECT_EQ(id.capabilities, BENCH_CAP_BASIC | BENCH_CAP_CREEP | BENCH_CAP_START |
					   BENCH_CAP_CONSTANT | BENCH_CAP_CLOCK);
	EXPECT_EQ(id.u_max, 264.0f);
	EXPECT_EQ(id.i_max, 100.0f);
	EXPECT_EQ(id.std_class, 0.05f);
	EXPECT_STREQ(id.model, "UT-8 single-phase");
	EXPECT_STREQ(id.serial, "UT-0008");
	EXPECT_STREQ(id.firmware, "2.1.0");
	EXPECT_STREQ(bench_backend_name(f.b), "modbus-tcp");
}

TEST(Driver, SourceSettlesThenStableWithinTolerance)
{
	SimBench f;
	/* Time scale 20: the scenario's 1.5 s of settling last 75 ms, so the
	 * read right after the command still sees the source settling. At 1000
	 * they lasted 1.5 ms, which an ASan build on a busy machine could spend
	 * between the two requests (CI, 2026-12-06: applied_seq was already 42). */
	f.start(kMeterBench, 20);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = source_1p(220.0f, 5.0f, 60.0f);
	ASSERT_EQ(bench_set_source(f.b, &s, 42, &err), ML_OK) << err.msg;
	struct bench_source_status st;
	ASSERT_EQ(bench_read_source(f.b, &st, &err), ML_OK) << err.msg;
	EXPECT_NE(st.applied_seq, 42); // latched but not applied before settling ends
	ASSERT_EQ(bench_wait_stable(f.b, 42, 5000, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_read_source(f.b, &st, &err), ML_OK) << err.msg;
	EXPECT_EQ(st.state, BENCH_SRC_STABLE);
	EXPECT_EQ(st.applied_seq, 42);
	EXPECT_NEAR(st.u[0], 220.0, 220.0 * 0.0005);
	EXPECT_NEAR(st.i[0], 5.0, 5.0 * 0.0005);
	EXPECT_NEAR(st.freq, 50.0, 50.0 * 0.0005);
	EXPECT_NEAR(st.p_total, 550.0, 1.0); // 220 V x 5 A x cos 60°
	ASSERT_EQ(bench_source_off(f.b, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_read_source(f.b, &st, &err), ML_OK) << err.msg;
	EXPECT_EQ(st.state, BENCH_SRC_OFF);
}

static void start_basic(SimBench &f, float u, float i, float phi, uint16_t pulses)
{
	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = source_1p(u, i, phi);
	ASSERT_EQ(bench_set_source(f.b, &s, 1, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_wait_stable(f.b, 1, 5000, &err), ML_OK) << err.msg;
	struct bench_position_config cfg[8];
	for (auto &c : cfg)
		c = cfg_mode(BENCH_MODE_BASIC, pulses, 0);
	ASSERT_EQ(bench_configure_positions(f.b, 0, 8, cfg, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_all_command(f.b, BENCH_CMD_START, &err), ML_OK) << err.msg;
}

TEST(Driver, BasicErrorReadingsFollowScenarioByWatchingSeq)
{
	SimBench f;
	f.start(kMeterBench, 1000);
	start_basic(f, 220.0f, 5.0f, 0.0f, 2); // Ib, PF 1: 2 pulses take 5.45 s device time
	struct ml_error err = ML_ERROR_INIT;
	struct bench_position_status st[8];
	const int32_t want[3] = { 1200, -1705, 500 };
	for (int p = 0; p < 3; p++) {
		uint16_t last = 0;
		for (int k = 0; k < 3; k++) {
			ASSERT_TRUE(wait_change(f.b, p, last, &st[p], 3000, &err))
				<< "position " << p << " " << err.msg;
			EXPECT_EQ(st[p].state, BENCH_POS_RUNNING);
			EXPECT_EQ(st[p].value_e4, want[p]) << "position " << p;
			EXPECT_GE(st[p].pulses, 2u * st[p].reading_seq);
			last = st[p].reading_seq;
		}
	}
	ASSERT_EQ(bench_read_positions(f.b, 0, 8, st, &err), ML_OK) << err.msg;
	EXPECT_EQ(st[3].reading_seq, 0); // dead meter: no readings
	EXPECT_EQ(st[3].pulses, 0u);
	EXPECT_EQ(st[6].present, 0); // absent: never started
	EXPECT_EQ(st[6].state, BENCH_POS_IDLE);
	EXPECT_EQ(st[0].present, 1);
	EXPECT_EQ(st[0].meter_comm, 1);
}

TEST(Driver, LoadPointTableSelectsError)
{
	SimBench f;
	f.start(kMeterBench, 1000);
	start_basic(f, 220.0f, 5.0f, 60.0f, 1); // Ib, 0.5L: position 3 reads +0.93 %
	struct ml_error err = ML_ERROR_INIT;
	struct bench_position_status st;
	ASSERT_TRUE(wait_change(f.b, 2, 0, &st, 3000, &err)) << err.msg;
	EXPECT_EQ(st.value_e4, 9300);
	ASSERT_TRUE(wait_change(f.b, 0, 0, &st, 3000, &err)) << err.msg;
	EXPECT_EQ(st.value_e4, 1200); // no table: base error
}

TEST(Driver, LowCurrentPointBeyondLimit)
{
	SimBench f;
	f.start(kMeterBench, 2000);
	start_basic(f, 220.0f, 0.25f, 0.0f, 1); // 0.05 Ib, PF 1: position 3 reads +1.85 %
	struct ml_error err = ML_ERROR_INIT;
	struct bench_position_status st;
	ASSERT_TRUE(wait_change(f.b, 2, 0, &st, 5000, &err)) << err.msg;
	EXPECT_EQ(st.value_e4, 18500);
}

TEST(Driver, DeadMeterReportsNoPulses)
{
	SimBench f;
	f.start(kMeterBench, 1000);
	start_basic(f, 220.0f, 5.0f, 0.0f, 1);
	struct bench_position_status st;
	struct ml_error err = ML_ERROR_INIT;
	for (int k = 0; k < 2000; k++) {
		ASSERT_EQ(bench_read_positions(f.b, 3, 1, &st, &err), ML_OK) << err.msg;
		if (st.result == BENCH_RES_NO_PULSES)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(2));
	}
	EXPECT_EQ(st.result, BENCH_RES_NO_PULSES);
	EXPECT_EQ(st.state, BENCH_POS_DONE); /* 1.1 §5: the position ends */
	EXPECT_EQ(st.reading_seq, 0);
}

/* A simulator serving protocol 1.0 (§6): the driver reads proto_minor and decodes f32 kWh. */
TEST(Driver, Protocol10RegisterIsAcceptedBelowTenThousandKwh)
{
	SimBench f;
	f.start("protocol 1.0\npositions 2\n[1]\nregister_start 4321.57\n[2]\n"
		"register_start 10000.01\n",
		1000);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_identity id;
	ASSERT_EQ(bench_identify(f.b, &id, &err), ML_OK) << err.msg;
	EXPECT_EQ(id.proto_minor, 0);
	struct bench_position_status st[2];
	ASSERT_EQ(bench_read_positions(f.b, 0, 2, st, &err), ML_OK) << err.msg;
	uint32_t wh = 0;
	ASSERT_EQ(bench_position_register(f.b, 0, &st[0], &wh, &err), ML_OK) << err.msg;
	EXPECT_EQ(wh, 4321570u);
	EXPECT_EQ(bench_position_register(f.b, 1, &st[1], &wh, &err), ML_EPROTO);
	EXPECT_NE(strstr(err.msg, f.uri.c_str()), nullptr) << err.msg;
	EXPECT_NE(strstr(err.msg, "position 2's register 10000.010 kWh"), nullptr) << err.msg;
}

TEST(Driver, CreepTestFailsOnlyTheCreepingMeter)
{
	SimBench f;
	f.start(kMeterBench, 1000);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = source_1p(253.0f, 0.0f, 0.0f); // 115 % Un, current circuits open
	ASSERT_EQ(bench_set_source(f.b, &s, 7, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_wait_stable(f.b, 7, 5000, &err), ML_OK) << err.msg;
	struct bench_position_config cfg[8];
	for (auto &c : cfg)
		c = cfg_mode(BENCH_MODE_CREEP, 1, 120.0f); // more than 1 pulse in 120 s fails
	ASSERT_EQ(bench_configure_positions(f.b, 0, 8, cfg, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_all_command(f.b, BENCH_CMD_START, &err), ML_OK) << err.msg;
	struct bench_position_status st;
	for (int p : { 0, 1, 2, 3, 4, 5, 7 }) {
		ASSERT_TRUE(wait_done(f.b, p, &st, 5000)) << "position " << p;
		EXPECT_EQ(st.result, p == 4 ? BENCH_RES_CREEP : BENCH_RES_OK) << "position " << p;
		if (p == 4) {
			EXPECT_GT(st.pulses, 1u);
		} else {
			EXPECT_EQ(st.pulses, 0u);
		}
	}
}

TEST(Driver, StartingTestFailsTheMeterThatDoesNotStart)
{
	SimBench f;
	f.start(kMeterBench, 2000);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = source_1p(220.0f, 0.02f, 0.0f); // 0.004 Ib
	ASSERT_EQ(bench_set_source(f.b, &s, 8, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_wait_stable(f.b, 8, 5000, &err), ML_OK) << err.msg;
	struct bench_position_config cfg[8];
	for (auto &c : cfg)
		c = cfg_mode(BENCH_MODE_START, 1, 1500.0f); // one pulse needs ~682 s at 4.4 W
	ASSERT_EQ(bench_configure_positions(f.b, 0, 8, cfg, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_all_command(f.b, BENCH_CMD_START, &err), ML_OK) << err.msg;
	struct bench_position_status st;
	for (int p : { 0, 1, 3, 5 }) {
		ASSERT_TRUE(wait_done(f.b, p, &st, 5000)) << "position " << p;
		bool fails = p == 3 || p == 5; // dead, not starting
		EXPECT_EQ(st.result, fails ? BENCH_RES_TIME_LIMIT : BENCH_RES_OK)
			<< "position " << p;
		if (!fails) {
			EXPECT_LT(st.elapsed, 1500.0f);
		}
	}
}

TEST(Driver, ClockReadingsEverySixtyClockPulses)
{
	SimBench f;
	f.start(kMeterBench, 2000);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = source_1p(220.0f, 0.0f, 0.0f);
	ASSERT_EQ(bench_set_source(f.b, &s, 9, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_wait_stable(f.b, 9, 5000, &err), ML_OK) << err.msg;
	struct bench_position_config c = cfg_mode(BENCH_MODE_CLOCK, 0, 0);
	ASSERT_EQ(bench_configure_positions(f.b, 7, 1, &c, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_position_command(f.b, 7, BENCH_CMD_START, &err), ML_OK) << err.msg;
	struct bench_position_status st;
	ASSERT_TRUE(wait_change(f.b, 7, 0, &st, 3000, &err)) << err.msg;
	EXPECT_EQ(st.value_e4, 6200); // 0.62 s/day
	EXPECT_GE(st.elapsed, 59.0f); // one reading per 60 pulses at 1 Hz
	ASSERT_EQ(bench_position_command(f.b, 7, BENCH_CMD_STOP, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_read_positions(f.b, 7, 1, &st, &err), ML_OK) << err.msg;
	EXPECT_NE(st.state, BENCH_POS_RUNNING);
}

TEST(Driver, ConstantTestRegisterFollowsEnergy)
{
	// The bench reads each meter's register at the start of the constant test
	// (shown while running) and at the time limit (shown once done), so the
	// register difference covers exactly the counted pulses.
	SimBench f;
	f.start(kMeterBench, 1000);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = source_1p(220.0f, 60.0f, 0.0f); // Imax: 13.2 kW
	ASSERT_EQ(bench_set_source(f.b, &s, 10, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_wait_stable(f.b, 10, 5000, &err), ML_OK) << err.msg;
	struct bench_position_config cfg[8];
	for (auto &c : cfg)
		c = cfg_mode(BENCH_MODE_CONSTANT, 0, 600.0f); // 10 min device time: ~2.2 kWh
	ASSERT_EQ(bench_configure_positions(f.b, 0, 8, cfg, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_all_command(f.b, BENCH_CMD_START, &err), ML_OK) << err.msg;
	struct bench_position_status start[8], mid[8], after[8];
	ASSERT_EQ(bench_read_positions(f.b, 0, 8, start, &err), ML_OK) << err.msg;
	std::this_thread::sleep_for(std::chrono::milliseconds(50));
	ASSERT_EQ(bench_read_positions(f.b, 0, 8, mid, &err), ML_OK) << err.msg;
	for (int p : { 0, 7 }) {
		EXPECT_EQ(start[p].state, BENCH_POS_RUNNING);
		EXPECT_EQ(mid[p].register_wh, start[p].register_wh); // the start reading, held
		ASSERT_TRUE(wait_done(f.b, p, &after[p], 5000));
	}
	std::this_thread::sleep_for(std::chrono::milliseconds(50)); // the source stays on
	ASSERT_EQ(bench_read_positions(f.b, 0, 8, after, &err), ML_OK) << err.msg;
	for (int p : { 0, 7 }) {
		double pulses_kwh = after[p].pulses / 1200.0;
		double reg = (after[p].register_wh - start[p].register_wh) / 1000.0;
		EXPECT_GT(after[p].pulses, 2000u);
		EXPECT_EQ(after[p].result, BENCH_RES_OK);
		double rel = (reg - pulses_kwh) / pulses_kwh * 100.0; // register vs pulses, %
		// the register resolves 1 Wh (u32 Wh, protocol 1.1), the pulse count 1/2000: compare loosely.
		EXPECT_NEAR(rel, p == 7 ? 0.5 : 0.0, 0.1) << "position " << p;
	}
}

TEST(Driver, WrongConstantShowsAsLargeError)
{
	SimBench f;
	f.start(kMeterBench, 1000);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = source_1p(220.0f, 5.0f, 0.0f);
	ASSERT_EQ(bench_set_source(f.b, &s, 1, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_wait_stable(f.b, 1, 5000, &err), ML_OK) << err.msg;
	struct bench_position_config c = cfg_mode(BENCH_MODE_BASIC, 2, 0);
	c.constant = 1000; // the meter really has 1200 imp/kWh
	ASSERT_EQ(bench_configure_positions(f.b, 1, 1, &c, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_position_command(f.b, 1, BENCH_CMD_START, &err), ML_OK) << err.msg;
	struct bench_position_status st;
	ASSERT_TRUE(wait_change(f.b, 1, 0, &st, 3000, &err)) << err.msg;
	// (1 - 0.001705) * 1200 / 1000 - 1 = +19.7954 %
	EXPECT_EQ(st.value_e4, 197954);
}

TEST(Driver, OutOfRangeSetpointRefusedBeforeSending)
{
	SimBench f;
	f.start(kMeterBench, 1000);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_identity id;
	ASSERT_EQ(bench_identify(f.b, &id, &err), ML_OK);
	uint64_t before = benchsim_requests(f.sim);
	struct bench_source s = source_1p(300.0f, 5.0f, 0.0f);
	EXPECT_EQ(bench_set_source(f.b, &s, 1, &err), ML_EINVAL);
	EXPECT_NE(strstr(err.msg, "u1 = 300"), nullptr) << err.msg;
	s = source_1p(220.0f, 120.0f, 0.0f);
	EXPECT_EQ(bench_set_source(f.b, &s, 1, &err), ML_EINVAL);
	EXPECT_NE(strstr(err.msg, "i1 = 120"), nullptr) << err.msg;
	s = source_1p(220.0f, 5.0f, 0.0f);
	s.wiring = BENCH_WIRING_3P4W;
	EXPECT_EQ(bench_set_source(f.b, &s, 1, &err), ML_EINVAL);
	struct bench_position_config c = cfg_mode(BENCH_MODE_BASIC, 2, 0);
	EXPECT_EQ(bench_configure_positions(f.b, 6, 3, &c, &err),
		  ML_EINVAL); // positions 6..8 of 0..7
	c.mode = 9;
	EXPECT_EQ(bench_configure_positions(f.b, 0, 1, &c, &err), ML_EINVAL);
	EXPECT_EQ(bench_position_command(f.b, 8, BENCH_CMD_START, &err), ML_EINVAL);
	EXPECT_EQ(benchsim_requests(f.sim), before); // nothing reached the bench
}

TEST(Driver, BusyWhileSettlingIsAClearDeviceError)
{
	SimBench f;
	f.start(kMeterBench, 1); // real time: settling lasts 1.5 s
	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = source_1p(220.0f, 5.0f, 0.0f);
	ASSERT_EQ(bench_set_source(f.b, &s, 3, &err), ML_OK) << err.msg;
	struct bench_position_config c = cfg_mode(BENCH_MODE_BASIC, 2, 0);
	EXPECT_EQ(bench_configure_positions(f.b, 0, 1, &c, &err), ML_EDEVICE);
	EXPECT_NE(strstr(err.msg, "exception 06"), nullptr) << err.msg;
	EXPECT_NE(strstr(err.msg, "0x1000"), nullptr) << err.msg;      // names the register block
	EXPECT_NE(strstr(err.msg, f.uri.c_str()), nullptr) << err.msg; // and the bench
	ASSERT_EQ(bench_source_off(f.b, &err), ML_OK) << err.msg;      // off stays allowed
}

TEST(Driver, PositionsBeyondOneBlockAreSplit)
{
	// 96 positions = 14 blocks of 7: exercises block splitting on reads and writes.
	SimBench f;
	f.start("positions 96\n[1-96]\nerror 0.3\n", 1000);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = source_1p(220.0f, 60.0f, 0.0f);
	ASSERT_EQ(bench_set_source(f.b, &s, 1, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_wait_stable(f.b, 1, 5000, &err), ML_OK) << err.msg;
	struct bench_position_config cfg[96];
	for (auto &c : cfg)
		c = cfg_mode(BENCH_MODE_BASIC, 1, 0);
	ASSERT_EQ(bench_configure_positions(f.b, 0, 96, cfg, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_all_command(f.b, BENCH_CMD_START, &err), ML_OK) << err.msg;
	struct bench_position_status st[96];
	ASSERT_TRUE(wait_change(f.b, 95, 0, &st[95], 3000, &err)) << err.msg;
	ASSERT_EQ(bench_read_positions(f.b, 0, 96, st, &err), ML_OK) << err.msg;
	for (int p = 0; p < 96; p++)
		EXPECT_EQ(st[p].state, BENCH_POS_RUNNING) << p;
	EXPECT_EQ(st[95].value_e4, 3000);
}
