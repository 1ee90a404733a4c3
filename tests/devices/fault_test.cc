// Injected faults and recovery: late replies, dropped connections, exception
// replies, frozen heartbeat. Readings are collected by watching reading_seq
// across each fault; none may be lost or seen twice.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include <modbus/modbus.h>

#include "devices/bench_regmap.h"
#include "sim_fixture.h"

// One position; at 10x a reading (2 pulses at 1100 W, 1200 imp/kWh) takes
// 5.45 s device time = 545 ms real, well beyond any recovery below (<= 350 ms),
// so a lost reading would show as a gap in reading_seq even on a loaded machine.
static const char *kOne = "positions 2\nsettle_s 0.2\n[1-2]\nerror -0.4321\n";

static struct bench_options fast_opts(int backoff_ms, int retries)
{
	struct bench_options o = {};
	o.connect_timeout_ms = 500;
	o.response_timeout_ms = 100;
	o.retries = retries;
	o.backoff_ms = backoff_ms;
	o.heartbeat_timeout_ms = 150;
	return o;
}

static void start_readings(SimBench &f)
{
	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = source_1p(220.0f, 5.0f, 0.0f);
	ASSERT_EQ(bench_set_source(f.b, &s, 5, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_wait_stable(f.b, 5, 5000, &err), ML_OK) << err.msg;
	struct bench_position_config c[2] = { cfg_mode(BENCH_MODE_BASIC, 2, 0),
					      cfg_mode(BENCH_MODE_BASIC, 2, 0) };
	ASSERT_EQ(bench_configure_positions(f.b, 0, 2, c, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_all_command(f.b, BENCH_CMD_START, &err), ML_OK) << err.msg;
}

// Collect readings 1..n of position 0, calling inject() after the first.
template <typename F> static std::vector<uint16_t> collect(SimBench &f, int n, F inject)
{
	std::vector<uint16_t> seqs;
	struct ml_error err = ML_ERROR_INIT;
	struct bench_position_status st;
	uint16_t last = 0;
	while ((int)seqs.size() < n) {
		if (!wait_change(f.b, 0, last, &st, 3000, &err)) {
			ADD_FAILURE() << "no reading after seq " << last << ": " << err.msg;
			break;
		}
		EXPECT_EQ(st.value_e4, -4321);
		seqs.push_back(st.reading_seq);
		last = st.reading_seq;
		if (seqs.size() == 1)
			inject();
	}
	return seqs;
}

static std::vector<uint16_t> one_to(int n)
{
	std::vector<uint16_t> v;
	for (int i = 1; i <= n; i++)
		v.push_back((uint16_t)i);
	return v;
}

TEST(Faults, LateReplyReconnectsAndLosesNoReading)
{
	SimBench f;
	struct bench_options o = fast_opts(20, 3);
	f.start(kOne, 10, &o);
	start_readings(f);
	struct bench_stats before, after;
	bench_get_stats(f.b, &before);
	auto seqs = collect(f, 4, [&] {
		struct benchsim_faults fl = {};
		fl.delay_ms = 250; // reply after the client's 100 ms timeout
		fl.delay_count = 1;
		benchsim_set_faults(f.sim, &fl);
	});
	EXPECT_EQ(seqs, one_to(4));
	bench_get_stats(f.b, &after);
	EXPECT_GE(after.timeouts, before.timeouts + 1);
	EXPECT_GE(after.connects, before.connects + 1); // the timed-out link was not reused
}

TEST(Faults, DelayedReplyWithinTimeoutNeedsNoRecovery)
{
	SimBench f;
	struct bench_options o = fast_opts(20, 3);
	o.response_timeout_ms = 1000;
	f.start(kOne, 10, &o);
	start_readings(f);
	struct bench_stats before, after;
	bench_get_stats(f.b, &before);
	auto seqs = collect(f, 3, [&] {
		struct benchsim_faults fl = {};
		fl.delay_ms = 60;
		fl.delay_count = 3;
		benchsim_set_faults(f.sim, &fl);
	});
	EXPECT_EQ(seqs, one_to(3));
	bench_get_stats(f.b, &after);
	EXPECT_EQ(after.timeouts, before.timeouts);
	EXPECT_EQ(after.connects, before.connects);
}

TEST(Faults, DroppedConnectionReconnectsWithBackoff)
{
	SimBench f;
	struct bench_options o = fast_opts(50, 4); // waits 0, 50, 100, 200 ms: outlasts 120 ms down
	f.start(kOne, 10, &o);
	start_readings(f);
	struct bench_stats before, after;
	bench_get_stats(f.b, &before);
	auto seqs = collect(f, 4, [&] { benchsim_drop_connections(f.sim, 120); });
	EXPECT_EQ(seqs, one_to(4));
	bench_get_stats(f.b, &after);
	EXPECT_GE(after.link_errors, before.link_errors + 2); // dropped, then refused while down
	EXPECT_GE(after.connects, before.connects + 1);
}

TEST(Faults, DropAfterRegisterSwitchedByAnyMaster)
{
	SimBench f;
	struct bench_options o = fast_opts(20, 3);
	f.start(kOne, 10, &o);
	start_readings(f);
	modbus_t *raw = modbus_new_tcp("127.0.0.1", benchsim_port(f.sim));
	ASSERT_NE(raw, nullptr);
	ASSERT_EQ(modbus_connect(raw), 0);
	auto seqs = collect(f, 3, [&] {
		// drop every connection at the 2nd request from now (the master's own link too)
		ASSERT_EQ(modbus_write_register(raw, BR_CTL_DROP_AFTER, 2), 1);
	});
	EXPECT_EQ(seqs, one_to(3));
	uint16_t v = 99;
	// the raw master's link was dropped as well: reconnect and check the switch reset itself
	modbus_close(raw);
	ASSERT_EQ(modbus_connect(raw), 0);
	ASSERT_EQ(modbus_read_registers(raw, BR_CTL_DROP_AFTER, 1, &v), 1);
	EXPECT_EQ(v, 0);
	modbus_close(raw);
	modbus_free(raw);
}

TEST(Faults, DownLongerThanBackoffIsAnIoErrorThenRecovers)
{
	SimBench f;
	struct bench_options o = fast_opts(10, 2); // 0 + 10 ms of retries
	f.start(kOne, 10, &o);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_identity id;
	ASSERT_EQ(bench_identify(f.b, &id, &err), ML_OK) << err.msg;
	benchsim_drop_connections(f.sim, 400);
	struct bench_position_status st;
	EXPECT_EQ(bench_read_positions(f.b, 0, 1, &st, &err), ML_EIO);
	EXPECT_NE(strstr(err.msg, f.uri.c_str()), nullptr) << err.msg;
	EXPECT_NE(strstr(err.msg, "read input 0x1000+15"), nullptr) << err.msg;
	std::this_thread::sleep_for(std::chrono::milliseconds(450));
	EXPECT_EQ(bench_read_positions(f.b, 0, 1, &st, &err), ML_OK) << err.msg;
}

TEST(Faults, WriteThatTimedOutIsNotRepeated)
{
	SimBench f;
	struct bench_options o = fast_opts(20, 3);
	f.start(kOne, 10, &o);
	start_readings(f);
	struct benchsim_faults fl = {};
	fl.delay_ms = 250;
	fl.delay_count = 1;
	benchsim_set_faults(f.sim, &fl);
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(bench_position_command(f.b, 1, BENCH_CMD_STOP, &err), ML_ETIMEOUT);
	EXPECT_NE(strstr(err.msg, "write 0x1016+1"), nullptr) << err.msg;
	// The late write still reached the bench once; the link is usable again.
	std::this_thread::sleep_for(std::chrono::milliseconds(300));
	struct bench_position_status st[2];
	ASSERT_EQ(bench_read_positions(f.b, 0, 2, st, &err), ML_OK) << err.msg;
	EXPECT_EQ(st[0].state, BENCH_POS_RUNNING);
	EXPECT_EQ(st[1].state, BENCH_POS_IDLE);
}

TEST(Faults, InjectedExceptionIsAClearErrorThenClears)
{
	SimBench f;
	struct bench_options o = fast_opts(20, 3);
	f.start(kOne, 10, &o);
	start_readings(f);
	modbus_t *raw = modbus_new_tcp("127.0.0.1", benchsim_port(f.sim));
	ASSERT_EQ(modbus_connect(raw), 0);
	const uint16_t set[2] = { 6, 1 }; // exception 06 for the next request
	ASSERT_EQ(modbus_write_registers(raw, BR_CTL_EXC_CODE, 2, set), 2);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_position_status st;
	EXPECT_EQ(bench_read_positions(f.b, 0, 1, &st, &err), ML_EDEVICE);
	EXPECT_NE(strstr(err.msg, "exception 06 device busy"), nullptr) << err.msg;
	EXPECT_EQ(bench_read_positions(f.b, 0, 1, &st, &err), ML_OK) << err.msg;
	struct bench_stats s;
	bench_get_stats(f.b, &s);
	EXPECT_EQ(s.exceptions, 1u);
	modbus_close(raw);
	modbus_free(raw);
}

TEST(Faults, FrozenHeartbeatDetected)
{
	SimBench f;
	struct bench_options o = fast_opts(20, 3);
	f.start(kOne, 10, &o); // heartbeat +1 per 10 ms real at 10x
	struct ml_error err = ML_ERROR_INIT;
	uint16_t hb = 0;
	ASSERT_EQ(bench_alive(f.b, &hb, &err), ML_OK) << err.msg;
	modbus_t *raw = modbus_new_tcp("127.0.0.1", benchsim_port(f.sim));
	ASSERT_EQ(modbus_connect(raw), 0);
	ASSERT_EQ(modbus_write_register(raw, BR_CTL_FREEZE_HB, 1), 1);
	int rc = ML_OK;
	for (int i = 0; i < 200 && rc == ML_OK; i++) {
		rc = bench_alive(f.b, &hb, &err);
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
	EXPECT_EQ(rc, ML_EDEVICE);
	EXPECT_NE(strstr(err.msg, "heartbeat"), nullptr) << err.msg;
	EXPECT_NE(strstr(err.msg, "frozen"), nullptr) << err.msg;
	ASSERT_EQ(modbus_write_register(raw, BR_CTL_FREEZE_HB, 0), 1);
	std::this_thread::sleep_for(std::chrono::milliseconds(20));
	EXPECT_EQ(bench_alive(f.b, &hb, &err), ML_OK) << err.msg;
	modbus_close(raw);
	modbus_free(raw);
}

TEST(Faults, ScenarioFaultsActiveFromStart)
{
	SimBench f;
	struct bench_options o = fast_opts(20, 1);
	f.start("positions 2\nfault exception 4\nfault exception_count 2\n", 20, &o);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_identity id;
	EXPECT_EQ(bench_identify(f.b, &id, &err), ML_EDEVICE);
	EXPECT_NE(strstr(err.msg, "exception 04"), nullptr) << err.msg;
	EXPECT_EQ(bench_identify(f.b, &id, &err), ML_EDEVICE);
	EXPECT_EQ(bench_identify(f.b, &id, &err), ML_OK) << err.msg;
}
