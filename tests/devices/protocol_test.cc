// The simulator as a protocol server, seen by a raw libmodbus master: the
// register map, exceptions 01/02/03/06, CT/VT bench, scenario parsing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <modbus/modbus.h>

#include "devices/bench_codec.h"
#include "devices/bench_regmap.h"
#include "sim_fixture.h"

struct Raw {
	modbus_t *ctx;
	explicit Raw(int port)
	{
		ctx = modbus_new_tcp("127.0.0.1", port);
		EXPECT_EQ(modbus_connect(ctx), 0);
		modbus_set_response_timeout(ctx, 2, 0);
	}
	~Raw()
	{
		modbus_close(ctx);
		modbus_free(ctx);
	}
};

TEST(Protocol, ExceptionsForUnmappedAndBadValues)
{
	SimBench f;
	f.start("positions 4\nu_max 264\ni_max 100\nsettle_s 5\n", 1);
	Raw r(benchsim_port(f.sim));
	uint16_t v[130];
	EXPECT_EQ(modbus_read_input_registers(r.ctx, 0x0030, 1, v), -1); // gap after identity
	EXPECT_EQ(errno, EMBXILADD);
	EXPECT_EQ(modbus_read_input_registers(r.ctx, BR_POS_ADDR(4), 1, v), -1); // past position 4
	EXPECT_EQ(errno, EMBXILADD);
	EXPECT_EQ(modbus_read_registers(r.ctx, BR_XF_KIND, 1, v),
		  -1); // no transformer block on a meter bench
	EXPECT_EQ(errno, EMBXILADD);
	EXPECT_EQ(modbus_write_bit(r.ctx, 0, 1), -1); // FC 05 is not part of the protocol
	EXPECT_EQ(errno, EMBXILFUN);
	/* 1.1 §5: 0x000C..0x000F are not mapped, so the identity is read as 0x0000+12 and 0x0010+32 */
	EXPECT_EQ(modbus_read_input_registers(r.ctx, 0, 48, v), -1);
	EXPECT_EQ(errno, EMBXILADD);
	for (int a = 0x000C; a <= 0x000F; a++) {
		EXPECT_EQ(modbus_read_input_registers(r.ctx, a, 1, v), -1) << a;
		EXPECT_EQ(errno, EMBXILADD) << a;
	}
	EXPECT_EQ(modbus_read_input_registers(r.ctx, 0, 12, v), 12);
	EXPECT_EQ(modbus_read_input_registers(r.ctx, 0x0010, 32, v), 32);
	EXPECT_EQ(modbus_read_input_registers(r.ctx, 0x0010, 33, v), -1); // one past firmware
	EXPECT_EQ(errno, EMBXILADD);
	EXPECT_EQ(modbus_read_input_registers(r.ctx, BR_SRC_END - 1, 2, v), -1); // past q_total
	EXPECT_EQ(errno, EMBXILADD);
	EXPECT_EQ(modbus_read_input_registers(r.ctx, BR_POS_BASE, 63, v), 63);

	// setpoints: 300 V on a 264 V bench with the apply command -> 03, nothing latched
	uint16_t sp[BR_SP_END - BR_SP_WIRING] = {};
	bcodec_put_f32(&sp[BR_SP_FREQ - BR_SP_WIRING], 50.0f);
	bcodec_put_f32(&sp[BR_SP_U - BR_SP_WIRING], 300.0f);
	sp[BR_SP_SEQ - BR_SP_WIRING] = 9;
	sp[BR_SP_COMMAND - BR_SP_WIRING] = 1;
	EXPECT_EQ(modbus_write_registers(r.ctx, BR_SP_WIRING, BR_SP_END - BR_SP_WIRING, sp), -1);
	EXPECT_EQ(errno, EMBXILVAL);
	EXPECT_EQ(modbus_read_input_registers(r.ctx, BR_SRC_STATE, 1, v), 1);
	EXPECT_EQ(v[0], BENCH_SRC_OFF);
	EXPECT_EQ(modbus_write_register(r.ctx, BR_POS_ADDR(0) + BR_PC_MODE, 9), -1); // unknown mode
	EXPECT_EQ(errno, EMBXILVAL);
	EXPECT_EQ(modbus_write_register(r.ctx, BR_ALL_COMMAND, 7), -1); // unknown command
	EXPECT_EQ(errno, EMBXILVAL);

	// valid setpoints: settling (5 s real) -> everything but "off" answers 06
	bcodec_put_f32(&sp[BR_SP_U - BR_SP_WIRING], 220.0f);
	EXPECT_EQ(modbus_write_registers(r.ctx, BR_SP_WIRING, BR_SP_END - BR_SP_WIRING, sp),
		  BR_SP_END - BR_SP_WIRING);
	EXPECT_EQ(modbus_write_register(r.ctx, BR_POS_ADDR(1) + BR_PC_MODE, 1), -1);
	EXPECT_EQ(errno, EMBXSBUSY);
	EXPECT_EQ(modbus_write_register(r.ctx, BR_ALL_COMMAND, 1), -1);
	EXPECT_EQ(errno, EMBXSBUSY);
	EXPECT_EQ(modbus_write_register(r.ctx, BR_SP_COMMAND, 0), 1);
}

TEST(Protocol, ConfigurationReadsBackAndCommandsAreEvents)
{
	SimBench f;
	f.start("positions 4\n", 100);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_position_config c = cfg_mode(BENCH_MODE_START, 3, 812.5f);
	c.constant = 6400;
	ASSERT_EQ(bench_configure_positions(f.b, 2, 1, &c, &err), ML_OK) << err.msg;
	Raw r(benchsim_port(f.sim));
	uint16_t v[16];
	ASSERT_EQ(modbus_read_registers(r.ctx, BR_POS_ADDR(2), 10, v), 10);
	EXPECT_EQ(v[BR_PC_MODE], BENCH_MODE_START);
	EXPECT_EQ(bcodec_get_u32(&v[BR_PC_CONSTANT]), 6400u);
	EXPECT_EQ(v[BR_PC_PULSES], 3);
	EXPECT_EQ(bcodec_get_f32(&v[BR_PC_TLIMIT]), 812.5f);
	EXPECT_EQ(v[BR_PC_ENABLED], 1);
	ASSERT_EQ(bench_position_command(f.b, 2, BENCH_CMD_START, &err), ML_OK) << err.msg;
	ASSERT_EQ(modbus_read_registers(r.ctx, BR_POS_ADDR(2) + BR_PC_COMMAND, 1, v), 1);
	EXPECT_EQ(v[0], 0); // a command reads back 0
	struct bench_position_status st;
	ASSERT_EQ(bench_read_positions(f.b, 2, 1, &st, &err), ML_OK) << err.msg;
	EXPECT_EQ(st.state, BENCH_POS_RUNNING);
	/* 1.1 §4.4: a position's command is 0 none, 1 start, 2 stop; reset is for all (§4.1) */
	EXPECT_EQ(bench_position_command(f.b, 2, BENCH_CMD_RESET, &err), ML_EINVAL);
	EXPECT_NE(strstr(err.msg, "reset is a command for all positions"), nullptr) << err.msg;
	EXPECT_EQ(modbus_write_register(r.ctx, BR_POS_ADDR(2) + BR_PC_COMMAND, 3), -1);
	EXPECT_EQ(errno, EMBXILVAL);
	ASSERT_EQ(bench_position_command(f.b, 2, BENCH_CMD_STOP, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_read_positions(f.b, 2, 1, &st, &err), ML_OK) << err.msg;
	EXPECT_EQ(st.state, BENCH_POS_IDLE);
	// isolated position: all_command start skips it
	c.enabled = 0;
	ASSERT_EQ(bench_configure_positions(f.b, 2, 1, &c, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_all_command(f.b, BENCH_CMD_START, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_read_positions(f.b, 2, 1, &st, &err), ML_OK) << err.msg;
	EXPECT_EQ(st.state, BENCH_POS_IDLE);
}

TEST(Protocol, ManyClientsAtOnce)
{
	SimBench f;
	f.start("positions 8\n", 100);
	std::vector<std::thread> th;
	std::atomic<int> ok{ 0 };
	for (int t = 0; t < 8; t++)
		th.emplace_back([&] {
			struct bench *b = nullptr;
			struct ml_error err = ML_ERROR_INIT;
			if (bench_open(f.uri.c_str(), nullptr, &b, &err))
				return;
			struct bench_identity id;
			struct bench_position_status st[8];
			int good = 1;
			for (int i = 0; i < 50; i++)
				good &= bench_identify(b, &id, &err) == ML_OK &&
					id.positions == 8 &&
					bench_read_positions(b, 0, 8, st, &err) == ML_OK;
			ok += good;
			bench_close(b);
		});
	for (auto &t : th)
		t.join();
	EXPECT_EQ(ok.load(), 8);
	EXPECT_GE(benchsim_requests(f.sim), 8u * 50u * 3u);
}

static const char *kCt = R"(
kind transformer
positions 3
u_max 120
i_max 6
settle_s 0.5
reading_s 1
[1-3]
ratio_error 0.05
phase_disp 2.0
xpoint 5 * 0.16 6.2
xpoint 100 * 0.04 1.9
xpoint 100 2.5 0.02 1.1
[2]
xpoint 5 * -0.41 -16.5
[3]
absent
)";

TEST(Protocol, CurrentTransformerBenchRatioAndPhase)
{
	SimBench f;
	f.start(kCt, 200);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_identity id;
	ASSERT_EQ(bench_identify(f.b, &id, &err), ML_OK) << err.msg;
	EXPECT_EQ(id.device_class, BENCH_CLASS_TRANSFORMER);
	EXPECT_EQ(id.capabilities, BENCH_CAP_CT | BENCH_CAP_VT);
	struct bench_position_config c[3];
	for (auto &x : c)
		x = cfg_mode(BENCH_MODE_TRANSFORMER, 0, 0);
	ASSERT_EQ(bench_configure_positions(f.b, 0, 3, c, &err), ML_OK) << err.msg;
	struct {
		float pct, burden;
		int32_t r0, p0, r1, p1;
	} pts[] = {
		{ 5, 10, 1600, 62000, -4100, -165000 },
		{ 100, 10, 400, 19000, 400, 19000 },
		{ 100, 2.5f, 200, 11000, 200, 11000 },
		{ 20, 10, 500, 20000, 500, 20000 }, // no table entry: base errors
	};
	uint16_t seq = 100;
	for (auto &pt : pts) {
		struct bench_xfmr_setpoint x = { 0, 100.0f, 5.0f, pt.pct, pt.burden, 0.8f };
		ASSERT_EQ(bench_set_transformer(f.b, &x, ++seq, &err), ML_OK) << err.msg;
		ASSERT_EQ(bench_wait_stable(f.b, seq, 5000, &err), ML_OK) << err.msg;
		ASSERT_EQ(bench_all_command(f.b, BENCH_CMD_START, &err), ML_OK) << err.msg;
		struct bench_position_status st;
		ASSERT_TRUE(wait_change(f.b, 0, 0, &st, 3000, &err)) << err.msg;
		EXPECT_EQ(st.value_e4, pt.r0) << pt.pct << "% " << pt.burden << " VA";
		EXPECT_EQ(st.value2_e4, pt.p0);
		ASSERT_TRUE(wait_change(f.b, 1, 0, &st, 3000, &err)) << err.msg;
		EXPECT_EQ(st.value_e4, pt.r1);
		EXPECT_EQ(st.value2_e4, pt.p1);
		ASSERT_EQ(bench_read_positions(f.b, 2, 1, &st, &err), ML_OK);
		EXPECT_EQ(st.present, 0);
		EXPECT_EQ(st.state, BENCH_POS_IDLE);
	}
	struct bench_xfmr_setpoint bad = { 0, 100.0f, 5.0f, 250.0f, 10.0f, 0.8f };
	EXPECT_EQ(bench_set_transformer(f.b, &bad, 1, &err), ML_EINVAL);
	EXPECT_NE(strstr(err.msg, "percent = 250"), nullptr) << err.msg;
}

TEST(Protocol, MeterModesRefusedOnTransformerBench)
{
	SimBench f;
	f.start(kCt, 200);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_position_config c = cfg_mode(BENCH_MODE_BASIC, 2, 0);
	EXPECT_EQ(bench_configure_positions(f.b, 0, 1, &c, &err), ML_EINVAL);
	Raw r(benchsim_port(f.sim));
	EXPECT_EQ(modbus_write_register(r.ctx, BR_POS_ADDR(0) + BR_PC_MODE, BENCH_MODE_BASIC), -1);
	EXPECT_EQ(errno, EMBXILVAL);
}

TEST(Scenario, SamplesParse)
{
	struct ml_error err = ML_ERROR_INIT;
	struct benchsim_scenario *sc = nullptr;
	std::string demo = std::string(ML_SOURCE_DIR) + "/samples/bench-demo.scenario";
	ASSERT_EQ(benchsim_scenario_load(demo.c_str(), &sc, &err), ML_OK) << err.msg;
	EXPECT_EQ(benchsim_scenario_positions(sc), 24);
	EXPECT_STREQ(benchsim_scenario_name(sc), "bench-demo");
	benchsim_scenario_free(sc);
	std::string ct = std::string(ML_SOURCE_DIR) + "/samples/ct-bench.scenario";
	ASSERT_EQ(benchsim_scenario_load(ct.c_str(), &sc, &err), ML_OK) << err.msg;
	EXPECT_EQ(benchsim_scenario_positions(sc), 6);
	benchsim_scenario_free(sc);
}

TEST(Scenario, ErrorsNameFileLineAndValue)
{
	struct {
		const char *text, *want;
	} bad[] = {
		{ "positions 4\n[1-4]\nerror 0.123456\n",
		  "line 3: not an exact decimal with at most 4 places: 0.123456" },
		{ "positions 4\n[5]\n", "line 2: bad position or range in section: 5" },
		{ "kind toaster\n", "line 1: kind must be meter or transformer, not toaster" },
		{ "positions 4\n[1]\ndefect haunted\n", "line 3: unknown defect haunted" },
		{ "positions 4\n[1]\npoint 1.0 1.2 0.5\n", "line 3: bad power factor 1.2" },
		{ "fault sneeze 1\n", "line 1: unknown fault sneeze" },
		{ "positions 400\n", "line 1: unknown key or value out of range: positions" },
		{ "positions 2\n[1\n", "line 2: unterminated section header" },
	};
	for (auto &c : bad) {
		struct ml_error err = ML_ERROR_INIT;
		struct benchsim_scenario *sc = nullptr;
		EXPECT_EQ(benchsim_scenario_parse(c.text, "t.scenario", &sc, &err), ML_ECONFIG)
			<< c.text;
		EXPECT_EQ(sc, nullptr);
		EXPECT_NE(strstr(err.msg, "scenario t.scenario "), nullptr) << err.msg;
		EXPECT_NE(strstr(err.msg, c.want), nullptr) << err.msg;
	}
	struct ml_error err = ML_ERROR_INIT;
	struct benchsim_scenario *sc = nullptr;
	EXPECT_EQ(benchsim_scenario_load("/nonexistent/x.scenario", &sc, &err), ML_ECONFIG);
	EXPECT_NE(strstr(err.msg, "/nonexistent/x.scenario"), nullptr) << err.msg;
}

TEST(Scenario, NoiseIsDeterministicPerSeed)
{
	const char *text = "positions 1\nnoise 0.0500\nsettle_s 0.1\n[1]\nerror 0.1\n";
	auto readings = [&](uint64_t seed) {
		struct ml_error err = ML_ERROR_INIT;
		struct benchsim_scenario *sc = nullptr;
		EXPECT_EQ(benchsim_scenario_parse(text, "noise", &sc, &err), ML_OK);
		struct benchsim_options so = {};
		/* slow enough that a loaded machine's polling sees every reading: at
		 * 2000x a reading came every ~5 ms and two runs could share no index */
		so.time_scale = 200;
		so.seed = seed;
		so.have_seed = 1;
		struct benchsim *sim = nullptr;
		EXPECT_EQ(benchsim_start(sc, &so, &sim, &err), ML_OK);
		benchsim_scenario_free(sc);
		std::string uri = "127.0.0.1:" + std::to_string(benchsim_port(sim));
		struct bench *b = nullptr;
		EXPECT_EQ(bench_open(uri.c_str(), nullptr, &b, &err), ML_OK);
		struct bench_source s = source_1p(220.0f, 60.0f, 0.0f);
		EXPECT_EQ(bench_set_source(b, &s, 1, &err), ML_OK);
		EXPECT_EQ(bench_wait_stable(b, 1, 5000, &err), ML_OK);
		struct bench_position_config c = cfg_mode(BENCH_MODE_BASIC, 20,
							  0); // ~2 readings per 100 ms
		EXPECT_EQ(bench_configure_positions(b, 0, 1, &c, &err), ML_OK);
		EXPECT_EQ(bench_position_command(b, 0, BENCH_CMD_START, &err), ML_OK);
		std::vector<int32_t> v;
		struct bench_position_status st;
		uint16_t last = 0;
		while (v.size() < 5 && wait_change(b, 0, last, &st, 3000, &err)) {
			// a reading skipped by slow polling still has a deterministic value per index
			if (st.reading_seq <= 5)
				v.push_back(st.reading_seq * 1000000 + st.value_e4);
			last = st.reading_seq;
			if (st.reading_seq >= 5)
				break;
		}
		bench_close(b);
		benchsim_stop(sim);
		return v;
	};
	auto a = readings(7), b = readings(7), c = readings(8);
	ASSERT_FALSE(a.empty());
	int compared = 0;
	for (size_t i = 0; i < a.size(); i++) {
		for (size_t j = 0; j < b.size(); j++) {
			if (a[i] / 1000000 == b[j] / 1000000) {
				EXPECT_EQ(a[i],
					  b[j]); // same seed, same reading index -> same value
				compared++;
			}
		}
	}
	EXPECT_GT(compared, 0);
	for (int32_t x : a) {
		int32_t e = x % 1000000;
		EXPECT_GE(e, 1000 - 500);
		EXPECT_LE(e, 1000 + 500);
	}
	EXPECT_NE(a, c);
}
