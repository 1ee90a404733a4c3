// meterlab bench probe|simulate as processes: the simulator server process
// (readiness lines, SIGTERM), probe text and --json, exit codes, --help.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "../devices/proc_util.h"

static std::string cli()
{
	return ML_CLI_PATH;
}

static std::string src(const char *rel)
{
	return std::string(ML_SOURCE_DIR) + "/" + rel;
}

// "listening on 127.0.0.1:PORT" -> PORT, or -1.
static int port_of(const std::string &line)
{
	int port = -1;
	if (sscanf(line.c_str(), "listening on 127.0.0.1:%d", &port) != 1)
		return -1;
	return port;
}

TEST(BenchCli, HelpOnEveryCommand)
{
	std::string out;
	for (const char *args : { "bench --help", "bench probe --help", "bench simulate --help",
				  "bench fault --help", "bench -h" }) {
		EXPECT_EQ(run_cmd(cli() + " " + args, &out), 0) << args;
		EXPECT_NE(out.find("usage"), std::string::npos) << args << ": " << out;
	}
	EXPECT_NE(run_cmd(cli() + " bench simulate --help", &out), 1);
	EXPECT_NE(out.find("--time-scale"), std::string::npos);
	EXPECT_NE(out.find("listening on"), std::string::npos);
}

TEST(BenchCli, SimulateServesScenariosUntilSigterm)
{
	Child sim;
	ASSERT_TRUE(sim.spawn({ cli(), "bench", "simulate", "--scenario",
				src("samples/bench-demo.scenario"), "--scenario",
				src("samples/ct-bench.scenario"), "--time-scale", "1000" }));
	int meter = port_of(sim.line(5000)), ct = port_of(sim.line(5000));
	ASSERT_GT(meter, 0);
	ASSERT_GT(ct, 0);
	EXPECT_NE(meter, ct);
	std::string out;
	ASSERT_EQ(run_cmd(cli() + " bench probe 127.0.0.1:" + std::to_string(meter), &out), 0)
		<< out;
	EXPECT_NE(out.find("model DL-3000 single-phase bench, serial BENCH-2026-017"),
		  std::string::npos)
		<< out;
	EXPECT_NE(out.find("meter bench, 24 positions, 1 phase"), std::string::npos) << out;
	EXPECT_NE(out.find(" 24 yes "), std::string::npos) << out;
	ASSERT_EQ(
		run_cmd(cli() + " --json bench probe tcp://127.0.0.1:" + std::to_string(ct), &out),
		0)
		<< out;
	EXPECT_EQ(out.rfind("{\"uri\":", 0), 0u) << out;
	EXPECT_NE(out.find("\"device_class\":2"), std::string::npos) << out;
	EXPECT_NE(out.find("\"capabilities\":\"ct,vt\""), std::string::npos) << out;
	EXPECT_NE(out.find("{\"position\":6,\"present\":false"), std::string::npos) << out;
	EXPECT_EQ(sim.stop(SIGTERM), 0);
	// the ports are closed once the process has gone
	EXPECT_EQ(run_cmd(cli() + " bench probe 127.0.0.1:" + std::to_string(meter) +
				  " --timeout 300 2>&1",
			  &out),
		  7);
}

TEST(BenchCli, CountAndConsecutivePorts)
{
	/* --count needs N consecutive free ports, which nothing can reserve: a
	 * parallel test may hold one of them. Try another base when the
	 * simulator cannot bind all three (it exits) — the CI sanitizer pass once
	 * failed here with "Address already in use". */
	Child sim;
	int base = -1;
	for (int attempt = 0; attempt < 20 && base < 0; attempt++) {
		int b = free_port();
		ASSERT_GT(b, 0);
		if (b > 65533)
			continue;
		Child c;
		ASSERT_TRUE(c.spawn({ cli(), "bench", "simulate", "--count", "3", "--port",
				      std::to_string(b) }));
		int k = 0;
		while (k < 3 && port_of(c.line(5000)) == b + k)
			k++;
		if (k == 3) {
			base = b;
			std::swap(sim.pid, c.pid);
			std::swap(sim.out, c.out);
			std::swap(sim.buf, c.buf);
		}
	}
	ASSERT_GT(base, 0) << "no three consecutive free ports in 20 tries";
	std::string out;
	EXPECT_EQ(run_cmd(cli() + " bench probe 127.0.0.1:" + std::to_string(base + 2), &out), 0)
		<< out;
	EXPECT_EQ(sim.stop(SIGINT), 0);
}

TEST(BenchCli, FaultSwitchOnTheCommandLine)
{
	Child sim;
	ASSERT_TRUE(sim.spawn({ cli(), "bench", "simulate", "--fault", "exception=4" }));
	int port = port_of(sim.line(5000));
	ASSERT_GT(port, 0);
	std::string out;
	EXPECT_EQ(run_cmd(cli() + " bench probe 127.0.0.1:" + std::to_string(port) + " 2>&1", &out),
		  7);
	EXPECT_NE(out.find("exception 04"), std::string::npos) << out;
	/* protocol 1.1 §5: the identity is read in its mapped ranges, 0x0000+12 first */
	EXPECT_NE(out.find("read input 0x0000+12"), std::string::npos) << out;
	EXPECT_EQ(sim.stop(), 0);
}

TEST(BenchCli, ExitCodes)
{
	std::string out;
	int held = -1;
	int port = closed_port(&held); // nobody listens here, nor can while we hold it
	ASSERT_GT(port, 0);
	EXPECT_EQ(run_cmd(cli() + " bench probe 127.0.0.1:" + std::to_string(port) +
				  " --timeout 300 2>&1",
			  &out),
		  7);
	EXPECT_NE(out.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << out;
	EXPECT_EQ(run_cmd(cli() + " bench probe 2>&1", &out), 2);
	EXPECT_EQ(run_cmd(cli() + " bench probe a b 2>&1", &out), 2);
	EXPECT_EQ(run_cmd(cli() + " bench probe 127.0.0.1:99999 2>&1", &out), 3);
	EXPECT_EQ(run_cmd(cli() + " bench simulate --time-scale -1 2>&1", &out), 2);
	EXPECT_EQ(run_cmd(cli() + " bench simulate --scenario /nonexistent.scenario 2>&1", &out),
		  3);
	EXPECT_NE(out.find("/nonexistent.scenario"), std::string::npos) << out;
	EXPECT_EQ(run_cmd(cli() + " bench simulate --fault sneeze=1 2>&1", &out), 3);
	EXPECT_EQ(run_cmd(cli() + " bench frobnicate 2>&1", &out), 2);
	close(held);
}

TEST(BenchCli, FaultSwitchesARunningSimulator)
{
	Child sim;
	ASSERT_TRUE(sim.spawn({ cli(), "bench", "simulate", "--time-scale", "100" }));
	std::string addr = "127.0.0.1:" + std::to_string(port_of(sim.line(5000)));
	std::string out;
	ASSERT_EQ(run_cmd(cli() + " bench fault " + addr + " exception=6 exception_count=1", &out),
		  0)
		<< out;
	EXPECT_NE(out.find("exception 6 exception_count 1"), std::string::npos) << out;
	EXPECT_EQ(run_cmd(cli() + " bench probe " + addr + " 2>&1", &out), 7);
	EXPECT_NE(out.find("exception 06 device busy"), std::string::npos) << out;
	EXPECT_EQ(run_cmd(cli() + " bench probe " + addr, &out), 0) << out; // count used up
	ASSERT_EQ(run_cmd(cli() + " --json bench fault " + addr + " freeze_heartbeat=1", &out), 0)
		<< out;
	EXPECT_NE(out.find("\"freeze_heartbeat\":1"), std::string::npos) << out;
	EXPECT_NE(out.find("\"exception\":0"), std::string::npos) << out;
	EXPECT_EQ(run_cmd(cli() + " bench fault " + addr + " sneeze=1 2>&1", &out), 3);
	EXPECT_EQ(run_cmd(cli() + " bench fault " + addr + " delay_ms=70000 2>&1", &out), 2);
	EXPECT_EQ(sim.stop(), 0);
}

TEST(BenchCli, RestartOnTheSamePortAfterKill)
{
	// Kill/resume tests of the lab restart a simulator on its old port at once
	// (SO_REUSEADDR); the driver reconnects to the new process.
	Child a;
	ASSERT_TRUE(a.spawn({ cli(), "bench", "simulate" })); /* binds port 0 itself */
	int port = port_of(a.line(5000));
	ASSERT_GT(port, 0);
	std::string addr = "127.0.0.1:" + std::to_string(port), out;
	ASSERT_EQ(run_cmd(cli() + " bench probe " + addr, &out), 0) << out;
	EXPECT_EQ(a.stop(SIGKILL), 128 + SIGKILL);
	Child b;
	ASSERT_TRUE(b.spawn({ cli(), "bench", "simulate", "--port", std::to_string(port) }));
	ASSERT_EQ(port_of(b.line(5000)), port);
	EXPECT_EQ(run_cmd(cli() + " bench probe " + addr, &out), 0) << out;
	EXPECT_EQ(b.stop(), 0);
}
