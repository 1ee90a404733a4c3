/*
 * The run and standard commands through the built meterlab binary, against
 * the real PostgreSQL and the real bench simulator (in-process Modbus TCP
 * server on 127.0.0.1). Includes SIGKILL of a `meterlab run start` child
 * mid-run followed by `meterlab run resume`.
 *
 * Commands run as the person who would (issue 8): standards and benches as
 * mlt_admin, runs as mlt_tech; assets are DBA fixtures.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "../lab/runner_fixture.h"

using rfx::one;

namespace
{

const char *const kScheme = "scheme code=CLI-1P name=\"cli test\"\n"
			    "suits kinds=meter_1p classes=1 connection=direct\n"
			    "creep\n"
			    "start\n"
			    "basic I=Imax pf=1.0 element=H readings=2\n"
			    "basic I=Ib pf=1.0 element=H readings=2\n"
			    "basic I=Ib pf=0.5L element=H readings=2\n"
			    "basic I=0.1Ib pf=1.0 element=H readings=2\n"
			    "clock readings=3\n";

class LabRunCli : public ::testing::Test
{
      protected:
	/* One database for the suite (creating one costs seconds); codes and assets are per test. */
	static void SetUpTestSuite()
	{
		ci_ = pgtest_fresh_db("runcli");
		tech_ = pgtest_as(ci_, "mlt_tech");
		rfx::set_rule(ci_, "clock.readings",
			      "3"); /* this lab's rule: the scheme's clock readings */
		rfx::add_scheme(ci_, kScheme);
	}
	void SetUp() override
	{
		static int n = 0;
		n++;
		tag_ = std::to_string(n);
		db_ = pgtest_connect(ci_);
		bcs_ = rfx::seed_assets(db_, 6, 7000 + 100 * (unsigned long long)n);
		sim_ = rfx::start_sim(
			"kind meter\npositions 12\n[1-12]\nconstant 1200\nib 5\nerror 0.05\n[3]\nerror -1.8\n",
			1000);
		ASSERT_TRUE(sim_);
		dir_ = "/tmp/mlt_runcli_" + std::to_string(getpid()) + "_" + tag_;
		ASSERT_EQ(0, pgtest_run("mkdir -p " + dir_, nullptr));
	}
	void TearDown() override
	{
		benchsim_stop(sim_);
		db_close(db_);
		(void)!pgtest_run("rm -rf " + dir_, nullptr);
	}
	int cli_as(const char *who, const std::string &args, std::string *out, bool merge = false)
	{
		return pgtest_run(pgtest_cli() + " --db " + pgtest_sq(pgtest_as(ci_, who)) + " " +
					  args,
				  out, merge);
	}
	/* the technician's commands */
	int cli(const std::string &args, std::string *out, bool merge = false)
	{
		return cli_as("mlt_tech", args, out, merge);
	}
	void register_bench()
	{
		std::string out;
		ASSERT_EQ(
			0,
			cli_as("mlt_admin",
			       "standard add --code STD-A" + tag_ +
				       " --name 'standard meter' --class 0.05 --cert-no C-1 "
				       "--issuer institute --valid-from 2020-01-01 --valid-until 2099-12-31 --range '220V 0.05-100A'",
			       &out, true))
			<< out;
		ASSERT_EQ(0, cli_as("mlt_admin",
				    "standard bench-add --code BCLI" + tag_ +
					    " --name 'cli bench' --uri tcp://127.0.0.1:" +
					    std::to_string(benchsim_port(sim_)) +
					    " --kind meter-1p --positions 12 --standard STD-A" +
					    tag_ + "",
				    &out, true))
			<< out;
	}
	std::string write_map()
	{
		std::string path = dir_ + "/map.csv";
		std::ofstream f(path);
		f << "position,barcode\n";
		for (size_t i = 0; i < bcs_.size(); i++)
			f << i + 1 << "," << bcs_[i] << "\n";
		return path;
	}

	static std::string ci_;   /* the DBA */
	static std::string tech_; /* mlt_tech */
	std::string dir_, tag_;
	struct db *db_ = nullptr;
	struct benchsim *sim_ = nullptr;
	std::vector<std::string> bcs_;
};
std::string LabRunCli::ci_;
std::string LabRunCli::tech_;

TEST_F(LabRunCli, EveryRunAndStandardCommandAnswersHelp)
{
	for (const char *c :
	     { "run", "run create", "run start", "run start-many", "run resume", "run abort",
	       "run manual", "run show", "run list", "standard", "standard add", "standard certify",
	       "standard list", "standard show", "standard bench-add", "standard bench-list" }) {
		std::string out;
		EXPECT_EQ(0, cli(std::string(c) + " --help", &out)) << c;
		EXPECT_NE(std::string::npos, out.find("usage: meterlab")) << c << ": " << out;
	}
}

TEST_F(LabRunCli, StandardCommandsListAndRefuse)
{
	register_bench();
	std::string out;
	ASSERT_EQ(0, cli("--json standard list", &out));
	EXPECT_NE(std::string::npos, out.find("\"code\":\"STD-A" + tag_ + "\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"valid_until\":\"2099-12-31\"")) << out;
	ASSERT_EQ(0, cli("standard bench-list", &out));
	EXPECT_NE(std::string::npos, out.find("BCLI" + tag_ + "")) << out;
	EXPECT_EQ(9, cli("standard add --code STD-B" + tag_ +
				 " --name x --class 0.05 --cert-no C-2 --issuer i --valid-from "
				 "2020-01-01 --valid-until 2021-01-01",
			 &out, true))
		<< out; /* a technician registers no standard */
	EXPECT_EQ(5, cli_as("mlt_admin",
			    "standard add --code STD-A" + tag_ +
				    " --name x --class 0.05 --cert-no C-2 --issuer i --valid-from "
				    "2020-01-01 --valid-until 2021-01-01",
			    &out, true))
		<< out;
	EXPECT_EQ(
		3,
		cli_as("mlt_admin",
		       "standard certify STD-A" + tag_ +
			       " --cert-no C-3 --issuer i --valid-from 2021-01-01 --valid-until 2020-01-01",
		       &out, true));
	EXPECT_NE(std::string::npos, out.find("before valid-from")) << out;
	EXPECT_EQ(4, cli("standard show NOPE", &out, true));
	EXPECT_EQ(2, cli("standard add --code X", &out, true));
}

TEST_F(LabRunCli, CreateRefusesOutOfRangeAndDuplicate)
{
	register_bench();
	std::string out;
	EXPECT_EQ(3, cli("run create --bench BCLI" + tag_ + " --scheme CLI-1P 13=" + bcs_[0], &out,
			 true));
	EXPECT_NE(std::string::npos, out.find("position 13 is outside the bench's 1..12")) << out;
	EXPECT_EQ(3, cli("run create --bench BCLI" + tag_ + " --scheme CLI-1P 1=" + bcs_[0] +
				 " 2=" + bcs_[0],
			 &out, true));
	EXPECT_NE(std::string::npos, out.find("mounted twice")) << out;
	EXPECT_EQ(
		"0",
		one(db_,
		    "SELECT count(*) FROM verification_run r JOIN lab_bench b USING (bench_id) WHERE b.code = "
		    "'BCLI" +
			    tag_ + "'"));
}

TEST_F(LabRunCli, KilledRunnerResumesWithNothingLostOrDuplicated)
{
	register_bench();
	std::string out;
	/* --operator is gone: the operator is the login */
	EXPECT_EQ(2, cli("run create --bench BCLI" + tag_ +
				 " --scheme CLI-1P --operator tester --map " + write_map(),
			 &out, true));
	ASSERT_EQ(0, cli("run create --bench BCLI" + tag_ + " --scheme CLI-1P --map " + write_map(),
			 &out, true))
		<< out;
	std::string id = out.substr(0, out.find('\n'));
	ASSERT_FALSE(id.empty());

	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		std::string cli_path = pgtest_cli();
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(cli_path.c_str(), cli_path.c_str(), "--db", tech_.c_str(), "run", "start",
		      id.c_str(), "--poll-ms", "2", (char *)nullptr);
		_exit(127);
	}
	/*
	 * Kill the runner once the creep step is committed, i.e. in the middle of the
	 * run. At 1000x the starting step alone takes ~0.7 s real (one pulse at 4.4 W),
	 * so the kill lands well before the end even on a loaded machine; after the
	 * second step only ~0.3 s of run were left, which a stalled test could miss.
	 */
	std::string steps = "0";
	for (int i = 0; i < 1000 && atoi(steps.c_str()) < 1; i++) {
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
		steps = one(db_, "SELECT count(*) FROM run_step WHERE run_id = " + id);
	}
	ASSERT_EQ(0, kill(pid, SIGKILL));
	int st = 0;
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFSIGNALED(st)) << "the runner finished before it could be killed";
	int before = atoi(one(db_, "SELECT count(*) FROM run_step WHERE run_id = " + id).c_str());
	EXPECT_GE(before, 1);
	EXPECT_LT(before, 7);
	EXPECT_EQ("running", one(db_, "SELECT status FROM verification_run WHERE run_id = " + id));
	/* The killed runner's lock on the run goes with its backend, which
	 * ends when it notices the closed socket: on a busy machine not yet,
	 * and a resume then (rightly) refuses a run another process holds. */
	std::string held;
	for (int i = 0; i < 200; i++) {
		held = one(db_, "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = "
				"l.database WHERE d.datname = current_database() AND l.locktype = "
				"'advisory' AND l.classid = " RUN_LOCK_CLASS " AND l.objid = " +
					id);
		if (held == "0")
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	}
	EXPECT_EQ("0", held) << "the killed runner's backend still holds the run after 10 s";

	/* one meter is out of limits: the run finishes and exits 1 (a verification judged a failure) */
	EXPECT_EQ(1, cli("run resume " + id + " --poll-ms 2", &out, true)) << out;
	EXPECT_EQ("finished", one(db_, "SELECT status FROM verification_run WHERE run_id = " + id));
	EXPECT_EQ("7", one(db_, "SELECT count(*) FROM run_step WHERE run_id = " + id));
	EXPECT_EQ(
		one(db_, "SELECT count(*) FROM run_reading WHERE run_id = " + id),
		one(db_,
		    "SELECT count(*) FROM (SELECT DISTINCT asset_id, step_no, reading_no FROM run_reading WHERE "
		    "run_id = " +
			    id + ") d"));
	/* 6 positions x (creep 1 + start 1 + 4 basic x 2 + clock 3) readings */
	EXPECT_EQ("78", one(db_, "SELECT count(*) FROM run_reading WHERE run_id = " + id));
	EXPECT_EQ("failed", one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[2] + "'"));
	EXPECT_EQ(
		"5",
		one(db_,
		    "SELECT count(*) FROM asset a JOIN run_position p USING (asset_id) WHERE p.run_id = " +
			    id + " AND a.state = 'in_stock'"));

	ASSERT_EQ(0, cli("run show " + id, &out, true)) << out;
	EXPECT_NE(std::string::npos, out.find(bcs_[2])) << out;
	EXPECT_NE(std::string::npos, out.find("status finished")) << out;
	ASSERT_EQ(0, cli("--json run show " + id, &out));
	EXPECT_NE(std::string::npos, out.find("\"conclusions\":[")) << out.substr(0, 300);
	EXPECT_NE(std::string::npos, out.find("\"item\":\"overall\",\"verdict\":\"fail\""))
		<< out.substr(0, 300);
	ASSERT_EQ(0, cli("run list --status finished", &out, true));
	EXPECT_NE(std::string::npos, out.find("BCLI" + tag_ + "")) << out;
	EXPECT_EQ(5, cli("run resume " + id, &out, true)); /* finished: nothing to do */
}

TEST_F(LabRunCli, SigtermStopsCleanlySourceOffRunInterrupted)
{
	register_bench();
	std::string out;
	ASSERT_EQ(0, cli("run create --bench BCLI" + tag_ + " --scheme CLI-1P --map " + write_map(),
			 &out, true))
		<< out;
	std::string id = out.substr(0, out.find('\n'));
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		std::string cli_path = pgtest_cli();
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(cli_path.c_str(), cli_path.c_str(), "--db", tech_.c_str(), "run", "start",
		      id.c_str(), "--poll-ms", "2", (char *)nullptr);
		_exit(127);
	}
	std::string steps = "0";
	for (int i = 0; i < 1000 && steps == "0"; i++) {
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
		steps = one(db_, "SELECT count(*) FROM run_step WHERE run_id = " + id);
	}
	ASSERT_EQ(0, kill(pid, SIGTERM));
	int st = 0;
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(5, WEXITSTATUS(st)); /* state: cancelled */
	EXPECT_EQ("interrupted",
		  one(db_, "SELECT status FROM verification_run WHERE run_id = " + id));
	EXPECT_NE(std::string::npos,
		  one(db_, "SELECT last_error FROM verification_run WHERE run_id = " + id)
			  .find("cancelled by the operator"));
	/* the bench was left safe: source off */
	struct bench *b = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	std::string uri = "tcp://127.0.0.1:" + std::to_string(benchsim_port(sim_));
	ASSERT_EQ(ML_OK, bench_open(uri.c_str(), nullptr, &b, &err)) << err.msg;
	struct bench_source_status ss;
	ASSERT_EQ(ML_OK, bench_read_source(b, &ss, &err)) << err.msg;
	EXPECT_EQ(BENCH_SRC_OFF, ss.state);
	bench_close(b);
	EXPECT_EQ(1, cli("run resume " + id + " --poll-ms 2", &out, true)) << out;
	EXPECT_EQ("finished", one(db_, "SELECT status FROM verification_run WHERE run_id = " + id));
}

TEST_F(LabRunCli, JsonEventsOnePerLine)
{
	register_bench();
	std::string out;
	int rc = cli("--json run start --bench BCLI" + tag_ +
			     " --scheme CLI-1P --poll-ms 2 1=" + bcs_[0] + " 2=" + bcs_[1],
		     &out);
	EXPECT_EQ(0, rc) << out;
	size_t lines = 0, finished = 0, pos = 0;
	while (pos < out.size()) {
		size_t nl = out.find('\n', pos);
		std::string line = out.substr(pos, nl - pos);
		pos = nl == std::string::npos ? out.size() : nl + 1;
		if (line.empty())
			continue;
		lines++;
		EXPECT_EQ('{', line.front()) << line;
		EXPECT_EQ('}', line.back()) << line;
		finished += line.find("\"event\":\"finished\"") != std::string::npos;
	}
	EXPECT_GE(lines, 16u); /* start, 7 x (step, progress.., step_done), finished */
	EXPECT_EQ(1u, finished) << out;
}

TEST_F(LabRunCli, StartManyRunsTwoBenchesConcurrently)
{
	register_bench();
	struct benchsim *sim2 = rfx::start_sim(
		"kind meter\npositions 12\n[1-12]\nconstant 1200\nib 5\nerror -0.05\n", 1000);
	ASSERT_TRUE(sim2);
	std::string out;
	ASSERT_EQ(0, cli_as("mlt_admin",
			    "standard bench-add --code BCLI2-" + tag_ + " --uri tcp://127.0.0.1:" +
				    std::to_string(benchsim_port(sim2)) +
				    " --kind meter-1p --positions 12 --standard STD-A" + tag_,
			    &out, true))
		<< out;
	std::string map1 = dir_ + "/m1.csv", map2 = dir_ + "/m2.csv", tasks = dir_ + "/tasks.txt";
	{
		std::ofstream a(map1), b(map2), t(tasks);
		a << "1," << bcs_[0] << "\n2," << bcs_[1] << "\n3," << bcs_[2] << "\n";
		b << "1," << bcs_[3] << "\n2," << bcs_[4] << "\n3," << bcs_[5] << "\n";
		t << "# bench scheme map\nBCLI" << tag_ << " CLI-1P " << map1 << "\nBCLI2-" << tag_
		  << ", CLI-1P, " << map2 << "\n";
	}
	/* bcs_[2] is out of limits on the first bench's scenario (position 3, -1.8 %) */
	EXPECT_EQ(1, cli("run start-many " + tasks + " --poll-ms 2", &out, true)) << out;
	benchsim_stop(sim2);
	EXPECT_EQ(
		"2",
		one(db_,
		    "SELECT count(*) FROM verification_run r JOIN run_position p USING (run_id) WHERE "
		    "p.barcode IN ('" +
			    bcs_[0] + "','" + bcs_[3] + "') AND r.status = 'finished'"));
	EXPECT_EQ("failed", one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[2] + "'"));
	EXPECT_EQ("in_stock",
		  one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[5] + "'"));
}

TEST_F(LabRunCli, ManualVerificationFromFile)
{
	std::string out;
	ASSERT_EQ(0, cli_as("mlt_admin",
			    "standard add --code STD-M" + tag_ +
				    " --name m --class 0.1 --cert-no CM --issuer i "
				    "--valid-from 2020-01-01 --valid-until 2099-12-31",
			    &out, true))
		<< out;
	ASSERT_EQ(0, cli_as("mlt_admin",
			    "standard bench-add --code MAN" + tag_ +
				    " --uri manual --kind meter-1p --positions 6 "
				    "--standard STD-M" +
				    tag_,
			    &out, true))
		<< out;
	std::string readings = dir_ + "/readings.csv";
	{
		std::ofstream f(readings);
		f << "# position, step, readings\n";
		for (int p = 1; p <= 2; p++) {
			f << p << ", creep, pulses=0, elapsed=2300\n"
			  << p << ", start, pulses=1, elapsed=500\n";
			for (int s = 3; s <= 6; s++)
				f << p << ", " << s << ", "
				  << (p == 2 && s == 4 ? "1.21, 1.25" : "0.10, 0.12") << "\n";
			f << p << ", 7, 0.10, 0.11, 0.12\n";
		}
	}
	int rc = cli("--json run manual --bench MAN" + tag_ + " --scheme CLI-1P --file " +
			     readings + " 1=" + bcs_[0] + " 2=" + bcs_[1],
		     &out, true);
	EXPECT_EQ(1, rc) << out; /* position 2 fails basic error */
	EXPECT_NE(std::string::npos, out.find("\"passed\":1,\"failed\":1")) << out;
	EXPECT_EQ("in_stock",
		  one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[0] + "'"));
	EXPECT_EQ("failed", one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[1] + "'"));
	EXPECT_EQ(
		"manual",
		one(db_,
		    "SELECT r.mode FROM verification_run r JOIN run_position p USING (run_id) WHERE "
		    "p.barcode = '" +
			    bcs_[0] + "'"));
}

/*
 * The attacks of issue 8 through the command (each failed on the code before
 * it): a bench taken by a second run, a mounted asset moved away, a run that
 * could not be ended after that, back-dated and future-dated runs, a
 * truncated POS=BARCODE, a rounded temperature, a manual run with missing
 * measurements.
 */
TEST_F(LabRunCli, IssueEightAttacksAreRefused)
{
	register_bench();
	std::string out, bench = "BCLI" + tag_;
	/* dates are whole dates, and the server's: a garbage date, a back-date without the right */
	EXPECT_EQ(3, cli("run create --bench " + bench +
				 " --scheme CLI-1P --date 2026-12-03garbage 1=" + bcs_[0],
			 &out, true));
	EXPECT_NE(std::string::npos, out.find("2026-12-03garbage")) << out;
	EXPECT_EQ(9, cli("run create --bench " + bench +
				 " --scheme CLI-1P --date 2026-11-01 1=" + bcs_[0],
			 &out, true));
	EXPECT_NE(std::string::npos, out.find("record.backdate")) << out;
	/* nothing cut: a POS=BARCODE longer than the reader's buffer, a temperature to 0.01 */
	EXPECT_EQ(3, cli("run create --bench " + bench + " --scheme CLI-1P 1=" + bcs_[0] +
				 std::string(100, '7'),
			 &out, true));
	EXPECT_NE(std::string::npos, out.find("too long")) << out;
	EXPECT_EQ(3, cli("run create --bench " + bench +
				 " --scheme CLI-1P --temperature 21.25 1=" + bcs_[0],
			 &out, true));
	EXPECT_NE(std::string::npos, out.find("21.25")) << out;
	/* one unfinished run per bench */
	ASSERT_EQ(0, cli("run create --bench " + bench + " --scheme CLI-1P --temperature 21.2 1=" +
				 bcs_[0] + " 2=" + bcs_[1],
			 &out, true))
		<< out;
	std::string id = out.substr(0, out.find('\n'));
	EXPECT_EQ(5,
		  cli("run create --bench " + bench + " --scheme CLI-1P 3=" + bcs_[2], &out, true));
	EXPECT_NE(std::string::npos, out.find("unfinished run " + id)) << out;
	/* a mounted asset is moved by nobody but its run */
	EXPECT_EQ(5, cli("asset move sample " + bcs_[0], &out, true));
	EXPECT_NE(std::string::npos, out.find("mounted on run " + id)) << out;
	EXPECT_EQ(9, cli_as("mlt_clerk", "asset move verify_abort " + bcs_[0], &out, true));
	/* whatever happened to its assets (here the DBA moved one away), the run can be ended */
	rfx::exec(db_, "UPDATE asset SET state = 'reverify' WHERE barcode = '" + bcs_[1] + "'");
	ASSERT_EQ(0, cli("run abort " + id + " --reason 'meter dropped'", &out, true)) << out;
	EXPECT_EQ("aborted", one(db_, "SELECT status FROM verification_run WHERE run_id = " + id));
	EXPECT_EQ("reverify",
		  one(db_, "SELECT state FROM asset WHERE barcode = '" + bcs_[0] + "'"));
	EXPECT_EQ("run aborted: meter dropped",
		  one(db_, "SELECT e.reason FROM asset_event e JOIN asset a USING (asset_id) WHERE "
			   "a.barcode = '" +
				   bcs_[0] + "' AND e.action = 'verify_abort'"));

	/* paper work done earlier: an administrator with a reason, shown on the run */
	ASSERT_EQ(0, cli_as("mlt_admin",
			    "standard bench-add --code MANB" + tag_ +
				    " --uri manual --kind meter-1p --positions 6 --standard STD-A" +
				    tag_,
			    &out, true))
		<< out;
	rfx::exec(db_,
		  "UPDATE asset SET created_at = '2026-10-01' WHERE barcode = '" + bcs_[3] + "'");
	std::string manb = "MANB" + tag_;
	EXPECT_EQ(9,
		  cli("run create --manual --bench " + manb +
			      " --scheme CLI-1P --date 2026-11-02 --reason 'paper record 17' 1=" +
			      bcs_[3],
		      &out, true)); /* a technician may not back-date */
	EXPECT_EQ(3,
		  cli_as("mlt_admin",
			 "run create --bench " + bench +
				 " --scheme CLI-1P --date 2026-11-02 --reason 'paper' 1=" + bcs_[3],
			 &out, true)); /* a bench runs today */
	EXPECT_EQ(3,
		  cli_as("mlt_admin",
			 "run create --manual --bench " + manb +
				 " --scheme CLI-1P --date 2026-09-02 --reason 'paper' 1=" + bcs_[3],
			 &out, true)); /* before the asset arrived */
	EXPECT_NE(std::string::npos, out.find("before the assets were received")) << out;
	ASSERT_EQ(
		0,
		cli_as("mlt_admin",
		       "run create --manual --bench " + manb +
			       " --scheme CLI-1P --date 2026-11-02 --reason 'paper record 17' 1=" +
			       bcs_[3],
		       &out, true))
		<< out;
	std::string bid = out.substr(0, out.find('\n'));
	std::string readings = dir_ + "/bd.csv";
	{
		std::ofstream f(readings);
		f << "1, creep, pulses=0, elapsed=2300\n1, start, pulses=1, elapsed=500\n";
		for (int s = 3; s <= 6; s++)
			f << "1, " << s << ", 0.10\n"; /* one reading where the scheme needs two */
		f << "1, 7, 0.10, 0.11, 0.12\n";
	}
	EXPECT_EQ(3, cli_as("mlt_admin", "run manual " + bid + " --file " + readings, &out, true));
	EXPECT_NE(std::string::npos, out.find("needs 2 readings")) << out;
	{
		std::ofstream f(readings);
		f << "1, creep, pulses=0, elapsed=2300\n1, start, pulses=1, elapsed=500\n";
		for (int s = 3; s <= 6; s++)
			f << "1, " << s << ", 0.10, 0.12\n";
		f << "1, 7, 0.10, 0.11, 0.12\n";
	}
	ASSERT_EQ(0, cli_as("mlt_admin", "run manual " + bid + " --file " + readings, &out, true))
		<< out;
	ASSERT_EQ(0, cli("run show " + bid, &out, true)) << out;
	EXPECT_NE(std::string::npos, out.find("date 2026-11-02")) << out;
	EXPECT_NE(std::string::npos,
		  out.find("by 系统管理员甲 (mlt_admin) for the date above: paper "
			   "record 17"))
		<< out;
	/* valid until the run's date + 96 months - 1 day, never an argument */
	EXPECT_EQ("2034-11-01",
		  one(db_, "SELECT valid_until FROM asset WHERE barcode = '" + bcs_[3] + "'"));
	/* a back-date past the standard's certificate is refused */
	ASSERT_EQ(0, cli_as("mlt_admin",
			    "standard add --code STD-OLD" + tag_ +
				    " --name old --class 0.1 --cert-no CO --issuer i "
				    "--valid-from 2020-01-01 --valid-until 2026-10-31",
			    &out, true))
		<< out;
	ASSERT_EQ(0,
		  cli_as("mlt_admin",
			 "standard bench-add --code MANO" + tag_ +
				 " --uri manual --kind meter-1p --positions 6 --standard STD-OLD" +
				 tag_,
			 &out, true))
		<< out;
	rfx::exec(db_,
		  "UPDATE asset SET created_at = '2026-10-01' WHERE barcode = '" + bcs_[4] + "'");
	EXPECT_EQ(5,
		  cli_as("mlt_admin",
			 "run create --manual --bench MANO" + tag_ +
				 " --scheme CLI-1P --date 2026-11-02 --reason 'paper' 1=" + bcs_[4],
			 &out, true));
	EXPECT_NE(std::string::npos, out.find("no calibration certificate valid on 2026-11-02"))
		<< out;
}

} // namespace
