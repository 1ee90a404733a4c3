// Interoperability: a third-party master (mbpoll) against our simulator, and
// our driver against an independent server (pymodbus_bench.py, Debian's
// python3-pymodbus 3.0.0).
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <sstream>
#include <vector>

#include <modbus/modbus.h>

#include "proc_util.h"
#include "sim_fixture.h"

// mbpoll prints "[ref]: \tvalue" per register; collect them.
static std::map<int, std::string> mbpoll_values(const std::string &out)
{
	std::map<int, std::string> v;
	std::istringstream in(out);
	std::string l;
	while (std::getline(in, l)) {
		int ref;
		char val[64];
		if (sscanf(l.c_str(), "[%d]: %63s", &ref, val) == 2)
			v[ref] = val;
	}
	return v;
}

static std::string mbpoll(int port, const std::string &args)
{
	return "mbpoll -m tcp -a 1 -1 -o 2 -p " + std::to_string(port) + " " + args + " 127.0.0.1";
}

TEST(Interop, MbpollReadsIdentityAndPositions)
{
	SimBench f;
	f.start("positions 4\nu_max 264\ni_max 100\nsettle_s 0.1\n[1-4]\nerror 0.25\n[3]\nabsent\n",
		1000);
	int port = benchsim_port(f.sim);
	std::string out;
	// identity: mbpoll references are 1-based, register 0x0000 is -r 1
	ASSERT_EQ(run_cmd(mbpoll(port, "-t 3 -r 1 -c 6"), &out), 0) << out;
	auto v = mbpoll_values(out);
	EXPECT_EQ(v[1], "1");  // proto_major
	EXPECT_EQ(v[2], "1");  // proto_minor (1.1)
	EXPECT_EQ(v[3], "1");  // meter bench
	EXPECT_EQ(v[4], "4");  // positions
	EXPECT_EQ(v[5], "1");  // phases
	EXPECT_EQ(v[6], "31"); // basic|creep|start|constant|clock
	ASSERT_EQ(run_cmd(mbpoll(port, "-t 3:float -B -r 7 -c 2"), &out), 0) << out;
	v = mbpoll_values(out);
	EXPECT_EQ(v[7], "264"); // u_max f32 ABCD
	EXPECT_EQ(v[9], "100");

	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = source_1p(220.0f, 60.0f, 0.0f);
	ASSERT_EQ(bench_set_source(f.b, &s, 1, &err), ML_OK) << err.msg;
	ASSERT_EQ(bench_wait_stable(f.b, 1, 5000, &err), ML_OK) << err.msg;
	// mbpoll configures position 2 (0-based 1) itself: mode basic, then start
	ASSERT_EQ(run_cmd(mbpoll(port, "-0 -t 4 -r 4112") + " 1", &out), 0)
		<< out; // 0x1010 mode = 1
	ASSERT_EQ(run_cmd(mbpoll(port, "-0 -t 4:int -B -r 4113") + " 1200", &out), 0)
		<< out;                                                             // constant
	ASSERT_EQ(run_cmd(mbpoll(port, "-0 -t 4 -r 4115") + " 1", &out), 0) << out; // pulses
	ASSERT_EQ(run_cmd(mbpoll(port, "-0 -t 4 -r 4119") + " 1", &out), 0) << out; // enabled
	ASSERT_EQ(run_cmd(mbpoll(port, "-0 -t 4 -r 4118") + " 1", &out), 0) << out; // command start
	struct bench_position_status st;
	ASSERT_TRUE(wait_change(f.b, 1, 0, &st, 3000, &err)) << err.msg;
	ASSERT_EQ(run_cmd(mbpoll(port, "-0 -t 3 -r 4112 -c 4"), &out), 0) << out;
	v = mbpoll_values(out);
	EXPECT_EQ(v[4112], "1"); // running
	EXPECT_EQ(v[4113], "1"); // present
	EXPECT_NE(v[4114], "0"); // reading_seq advanced
	ASSERT_EQ(run_cmd(mbpoll(port, "-0 -t 3:int -B -r 4116"), &out), 0) << out;
	EXPECT_EQ(mbpoll_values(out)[4116], "2500"); // dec4 +0.25 %
	ASSERT_EQ(run_cmd(mbpoll(port, "-0 -t 3 -r 4129 -c 1"), &out), 0) << out;
	EXPECT_EQ(mbpoll_values(out)[4129], "0"); // position 3 absent
	// exceptions reach a third-party master too
	EXPECT_NE(run_cmd(mbpoll(port, "-0 -t 3 -r 48") + " 2>&1", &out), 0);
	EXPECT_NE(out.find("Illegal data address"), std::string::npos) << out;
	EXPECT_NE(run_cmd(mbpoll(port, "-0 -t 4 -r 4112") + " 9 2>&1", &out), 0);
	EXPECT_NE(out.find("Illegal data value"), std::string::npos) << out;
}

// Start pymodbus_bench.py (extra: "--v10" for a protocol 1.0 bench); it binds
// port 0 and reports the port. Returns the driver URI, "" on failure.
static std::string start_pymodbus(Child &py, const char *extra)
{
	std::vector<std::string> args = {
		"/usr/bin/python3", std::string(ML_SOURCE_DIR) + "/tests/devices/pymodbus_bench.py"
	};
	if (extra)
		args.push_back(extra);
	if (!py.spawn(args))
		return "";
	int port = -1;
	std::string l = py.line(20000); // python start-up
	if (sscanf(l.c_str(), "listening on 127.0.0.1:%d", &port) != 1)
		return "";
	return "127.0.0.1:" + std::to_string(port);
}

static struct bench *open_py(const std::string &uri)
{
	struct bench_options o = {};
	o.response_timeout_ms = 2000;
	o.retries = -1;
	struct ml_error err = ML_ERROR_INIT;
	struct bench *b = nullptr;
	EXPECT_EQ(bench_open(uri.c_str(), &o, &b, &err), ML_OK) << err.msg;
	return b;
}

// The independent bench is strict like a real one (§5): an identity read across the gap
// 0x000C..0x000F gets exception 02, so the driver reads the mapped ranges only.
TEST(Interop, DriverReadsIndependentStrictPymodbusBench)
{
	Child py;
	std::string uri = start_pymodbus(py, nullptr);
	ASSERT_FALSE(uri.empty());
	int port = atoi(uri.c_str() + uri.find(':') + 1);
	{
		modbus_t *raw = modbus_new_tcp("127.0.0.1", port);
		ASSERT_EQ(modbus_connect(raw), 0);
		uint16_t r[48];
		EXPECT_EQ(modbus_read_input_registers(raw, 0, 48, r), -1);
		EXPECT_EQ(errno, EMBXILADD);
		EXPECT_EQ(modbus_read_input_registers(raw, 0x000C, 1, r), -1);
		EXPECT_EQ(errno, EMBXILADD);
		modbus_close(raw);
		modbus_free(raw);
	}
	struct bench *b = open_py(uri);
	ASSERT_NE(b, nullptr);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_identity id;
	ASSERT_EQ(bench_identify(b, &id, &err), ML_OK) << err.msg;
	EXPECT_EQ(id.proto_major, 1);
	EXPECT_EQ(id.proto_minor, 1);
	EXPECT_EQ(id.positions, 4);
	EXPECT_EQ(id.phases, 1);
	EXPECT_EQ(id.capabilities, BENCH_CAP_BASIC | BENCH_CAP_CONSTANT);
	EXPECT_EQ(id.u_max, 240.0f);
	EXPECT_EQ(id.i_max, 80.0f);
	EXPECT_EQ(id.std_class, 0.1f);
	EXPECT_STREQ(id.model, "PYMODBUS-BENCH");
	EXPECT_STREQ(id.serial, "PY-0042");
	EXPECT_STREQ(id.firmware, "pymodbus 3.0.0");
	struct bench_source_status src;
	ASSERT_EQ(bench_read_source(b, &src, &err), ML_OK) << err.msg;
	EXPECT_EQ(src.state, BENCH_SRC_STABLE);
	EXPECT_EQ(src.applied_seq, 17);
	EXPECT_EQ(src.u[0], 220.0f);
	EXPECT_EQ(src.i[0], 5.0f);
	EXPECT_EQ(src.p_total, 1100.0f);
	struct bench_position_status st[4];
	ASSERT_EQ(bench_read_positions(b, 0, 4, st, &err), ML_OK) << err.msg;
	EXPECT_EQ(st[0].state, BENCH_POS_RUNNING);
	EXPECT_EQ(st[0].reading_seq, 7);
	EXPECT_EQ(st[0].value_e4, -1705);
	EXPECT_EQ(st[0].pulses, 1234u);
	EXPECT_EQ(st[0].elapsed, 12.5f);
	EXPECT_EQ(st[0].register_wh, 4321500u);
	EXPECT_EQ(st[0].meter_comm, 1);
	EXPECT_EQ(st[1].result, BENCH_RES_CREEP);
	EXPECT_EQ(st[2].present, 0);
	EXPECT_EQ(st[3].value_e4, 6200);
	EXPECT_EQ(st[3].value2_e4, 125000);
	// 1.1: a register above 10^4 kWh is exact (u32 Wh)
	uint32_t wh = 0;
	EXPECT_EQ(bench_position_register(b, 3, &st[3], &wh, &err), ML_OK) << err.msg;
	EXPECT_EQ(wh, 12345670u);
	// the driver writes a whole configuration block with command 0 (none) into mapped holding
	struct bench_position_config cfg[4] = {};
	for (auto &c : cfg) {
		c.mode = BENCH_MODE_BASIC;
		c.constant = 1200;
		c.pulses = 10;
		c.enabled = 1;
	}
	EXPECT_EQ(bench_configure_positions(b, 0, 4, cfg, &err), ML_OK) << err.msg;
	bench_close(b);
	py.stop();
}

// A protocol 1.0 bench (§6): +12 is f32 kWh. The driver reads proto_minor, accepts the
// register below 10^4 kWh and refuses it above with an error naming the bench.
TEST(Interop, DriverAcceptsProtocol10BenchWithinItsRange)
{
	Child py;
	std::string uri = start_pymodbus(py, "--v10");
	ASSERT_FALSE(uri.empty());
	struct bench *b = open_py(uri);
	ASSERT_NE(b, nullptr);
	struct ml_error err = ML_ERROR_INIT;
	struct bench_identity id;
	ASSERT_EQ(bench_identify(b, &id, &err), ML_OK) << err.msg;
	EXPECT_EQ(id.proto_minor, 0);
	struct bench_position_status st[4];
	ASSERT_EQ(bench_read_positions(b, 0, 4, st, &err), ML_OK) << err.msg;
	uint32_t wh = 0;
	EXPECT_EQ(bench_position_register(b, 0, &st[0], &wh, &err), ML_OK) << err.msg;
	EXPECT_EQ(wh, 4321500u); // 4321.5 kWh, f32
	EXPECT_EQ(bench_position_register(b, 1, &st[1], &wh, &err), ML_OK) << err.msg;
	EXPECT_EQ(wh, 17250u);
	EXPECT_EQ(st[3].register_refused, 1);
	EXPECT_EQ(bench_position_register(b, 3, &st[3], &wh, &err), ML_EPROTO);
	EXPECT_NE(strstr(err.msg, ("bench " + uri + " speaks protocol 1.0").c_str()), nullptr)
		<< err.msg;
	EXPECT_NE(strstr(err.msg, "position 4's register 12345.670 kWh"), nullptr) << err.msg;
	EXPECT_NE(strstr(err.msg, "below 10000 kWh"), nullptr) << err.msg;
	bench_close(b);
	py.stop();
}
