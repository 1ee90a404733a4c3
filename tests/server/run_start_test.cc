/*
 * Runs started over HTTP (POST /api/runs/{id}/start, server/runjob.c): a
 * real `meterlab serve --runners 1` process, real PostgreSQL, and the real
 * bench simulator over Modbus TCP on 127.0.0.1 (in this process, as the
 * runner tests do). The server logs in as meterlab_service and executes the
 * run under a job session of the person who started it (0252): every step
 * and conclusion records that person, the session dies with the runner and
 * can never be replayed, and it can do nothing but execute its own run.
 */
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../lab/runner_fixture.h"
#include "server_fixture.h"

namespace
{

/* Two basic-error steps: done in about a second at 5000x. */
const char *const kShort = "scheme code=S-SHORT name=\"start short\"\n"
			   "suits kinds=meter_1p classes=1 connection=direct\n"
			   "basic I=Imax pf=1.0 element=H readings=2\n"
			   "basic I=Ib pf=1.0 element=H readings=2\n";

/* Many slow steps (0.1 Ib): long enough to abort or stop in the middle. */
const char *const kLong = "scheme code=S-LONG name=\"start long\"\n"
			  "suits kinds=meter_1p classes=1 connection=direct\n"
			  "basic I=Ib pf=1.0 element=H readings=2\n"
			  "basic I=0.1Ib pf=1.0 element=H readings=10\n"
			  "basic I=0.1Ib pf=0.5L element=H readings=10\n"
			  "basic I=0.1Ib pf=0.8C element=H readings=10\n"
			  "basic I=0.1Ib pf=1.0 element=H readings=10\n"
			  "basic I=0.1Ib pf=0.5L element=H readings=10\n"
			  "basic I=0.1Ib pf=0.8C element=H readings=10\n"
			  "basic I=0.1Ib pf=1.0 element=H readings=10\n";

std::string scenario(int positions)
{
	return "kind meter\npositions " + std::to_string(positions) + "\n[1-" +
	       std::to_string(positions) + "]\nconstant 1200\nib 5\nerror 0.05\n";
}

const std::string kBody = "{}";

} // namespace

class RunStart : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		ci_ = new std::string(pgtest_fresh_db("runstart"));
		rfx::add_standard(ci(), "SSTD", "2020-01-01", "2099-12-31");
		rfx::add_scheme(ci(), kShort);
		rfx::add_scheme(ci(), kLong);
		srv_ = new test_server();
		std::string why;
		if (!srv_->start(pgtest_as_role(ci(), "meterlab_service"),
				 { "--threads", "2", "--runners", "1", "--sse-heartbeat", "1" },
				 &why)) {
			fprintf(stderr, "%s\n", why.c_str());
			abort();
		}
	}
	static void TearDownTestSuite()
	{
		delete srv_;
		delete ci_;
	}
	void TearDown() override
	{
		for (auto *s : sims_)
			benchsim_stop(s);
	}
	static std::string &ci()
	{
		return *ci_;
	}
	static unsigned port()
	{
		return srv_->port;
	}
	/* A simulated bench registered as `code`, at a time scale. */
	void bench(const char *code, double scale, int positions = 3)
	{
		struct benchsim *s = rfx::start_sim(scenario(positions), scale);
		ASSERT_NE(nullptr, s);
		sims_.push_back(s);
		rfx::add_bench(ci(), code, benchsim_port(s), positions, "SSTD");
	}
	/* A run created by mlt_tech's own login (the command line's way). */
	std::string task(const char *bench, const char *scheme, int n = 3)
	{
		static unsigned long long serial = 770000;
		struct db *dba = pgtest_connect(ci());
		std::vector<std::string> bcs = rfx::seed_assets(dba, n, serial);
		serial += 100;
		db_close(dba);
		struct db *tech = pgtest_connect(pgtest_as(ci(), "mlt_tech"));
		int64_t id = rfx::create_task(tech, bench, scheme, bcs);
		db_close(tech);
		return std::to_string(id);
	}
	static std::string status(const std::string &id)
	{
		return sql_value(ci(), "SELECT status FROM verification_run WHERE run_id = " + id);
	}
	/* Wait until the run's status is one of `want` (|-separated); the last status seen. */
	static std::string wait_status(const std::string &id, const std::string &want,
				       int seconds = 90)
	{
		std::string st;
		for (int i = 0; i < seconds * 20; i++) {
			st = status(id);
			if (("|" + want + "|").find("|" + st + "|") != std::string::npos)
				break;
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
		}
		return st;
	}
	static std::string steps_done(const std::string &id)
	{
		return sql_value(ci(), "SELECT count(*) FROM run_step WHERE run_id = " + id);
	}
	static void wait_steps(const std::string &id, int n)
	{
		for (int i = 0; i < 1200 && std::stoi(steps_done(id)) < n; i++)
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
	}
	/* The run's job sessions: "user|revoked?" per session, by id. */
	static std::string jobs(const std::string &id)
	{
		return sql_value(
			ci(), "SELECT coalesce(string_agg(u.login || '|' || (s.revoked_at IS NOT "
			      "NULL), ',' ORDER BY s.session_id), '') FROM auth_session s "
			      "JOIN app_user u USING (user_id) WHERE s.kind = 'job' AND "
			      "s.job_run_id = " +
				      id);
	}
	static http_resp start(const test_session &s, const std::string &id)
	{
		return http_do(port(), "POST", "/api/runs/" + id + "/start", s.change(), &kBody);
	}
	static std::string *ci_;
	static test_server *srv_;
	std::vector<struct benchsim *> sims_;
};
std::string *RunStart::ci_ = nullptr;
test_server *RunStart::srv_ = nullptr;

/*
 * The technician who starts the run is recorded on every step, every
 * conclusion and every asset move, not the service and not the person who
 * created the task; the job session ends with the run and its hash, replayed
 * by the service login, is refused.
 */
TEST_F(RunStart, StartedOverHttpTheRunCompletesAsTheTechnicianWhoStartedIt)
{
	bench("SB1", 5000);
	std::string id = task("SB1", "S-SHORT");
	test_session tech2 = direct_session(ci(), "mlt_tech2");
	http_resp r = start(tech2, id);
	ASSERT_EQ(202, r.status) << r.dump();
	EXPECT_EQ(std::stoll(id), r.num("run_id"));
	EXPECT_NE("starting", r.str("status")) << r.dump();
	ASSERT_EQ("finished", wait_status(id, "finished|interrupted|aborted"))
		<< sql_value(ci(), "SELECT last_error FROM verification_run WHERE run_id = " + id);
	std::string t2 = sql_value(ci(), "SELECT user_id FROM app_user WHERE login = 'mlt_tech2'");
	/* every step and every conclusion: mlt_tech2 (the operator who created it is mlt_tech) */
	EXPECT_EQ("2|2", sql_value(ci(), "SELECT count(*) || '|' || count(*) FILTER (WHERE "
					 "recorded_by = " +
						 t2 + ") FROM run_step WHERE run_id = " + id));
	EXPECT_EQ("0", sql_value(ci(), "SELECT count(*) FROM run_conclusion WHERE run_id = " + id +
					       " AND recorded_by IS DISTINCT FROM " + t2));
	EXPECT_NE("0", sql_value(ci(), "SELECT count(*) FROM run_conclusion WHERE run_id = " + id));
	EXPECT_EQ("mlt_tech",
		  sql_value(ci(), "SELECT u.login FROM verification_run r JOIN app_user "
				  "u ON u.user_id = r.operator_id WHERE run_id = " +
					  id));
	/* the assets' verify_pass moves: the database's history names mlt_tech2 */
	EXPECT_EQ("3|3",
		  sql_value(ci(),
			    "SELECT count(*) || '|' || count(*) FILTER (WHERE e.actor_id = " + t2 +
				    ") FROM asset_event e JOIN run_position p ON p.asset_id = "
				    "e.asset_id WHERE p.run_id = " +
				    id + " AND e.action IN ('verify_pass', 'verify_fail')"));
	/* the job session: mlt_tech2's, ended; started and ended in the authentication log */
	EXPECT_EQ("mlt_tech2|true", jobs(id));
	EXPECT_EQ(
		"job_ended,job_started",
		sql_value(ci(), "SELECT string_agg(event, ',' ORDER BY event) FROM auth_log WHERE "
				"(detail->>'run_id')::bigint = " +
					id));
	/* replayed by the service login: no live session */
	std::string h = sql_value(ci(), "SELECT encode(token_hash, 'hex') FROM auth_session WHERE "
					"kind = 'job' AND job_run_id = " +
						id);
	struct db *svc = pgtest_connect(pgtest_as_role(ci(), "meterlab_service"));
	struct ml_error err = ML_ERROR_INIT;
	const char *p[1] = { h.c_str() };
	EXPECT_EQ(ML_EPERM, db_cmd(svc, "SELECT ml_session_assume(decode($1, 'hex'))", 1, p, &err));
	EXPECT_NE(std::string::npos, std::string(err.msg).find("no live session")) << err.msg;
	db_close(svc);
	/* finished: starting it again is a state conflict */
	r = start(tech2, id);
	EXPECT_EQ(409, r.status) << r.dump();
	EXPECT_NE(std::string::npos, r.str("error.message").find("already finished")) << r.dump();
}

/*
 * Refusals: without run.execute (403, nothing made), an unknown run (404),
 * a run executed by another process (the CLI runner's lock: 409), a run
 * this server executes already (409), no runner capacity left (503). Then
 * the run is aborted in the middle: the runner stops, the meters go back to
 * reverify, the job session ends.
 */
TEST_F(RunStart, RefusedWithoutPermissionWhileExecutingOrBusyAndAbortedMidRun)
{
	bench("SB2", 300);
	bench("SB3", 5000);
	std::string id = task("SB2", "S-LONG");
	std::string other = task("SB3", "S-SHORT");
	pgtest_user(ci(), "mlt_sclerk", "库管", "warehouse_clerk");
	test_session clerk = direct_session(ci(), "mlt_sclerk");
	test_session tech = direct_session(ci(), "mlt_tech");
	http_resp r = start(clerk, id);
	EXPECT_EQ(403, r.status) << r.dump();
	EXPECT_NE(std::string::npos, r.str("error.message").find("run.execute")) << r.dump();
	EXPECT_EQ("", jobs(id));
	r = start(tech, "999999");
	EXPECT_EQ(404, r.status) << r.dump();
	/* the command line's runner holds the run's lock: another process executes it */
	{
		struct db *cli = pgtest_connect(ci());
		rfx::exec(cli, "SELECT pg_advisory_lock(7340032, " + id + ")");
		r = start(tech, id);
		EXPECT_EQ(409, r.status) << r.dump();
		EXPECT_NE(std::string::npos, r.str("error.message").find("another process"))
			<< r.dump();
		db_close(cli);
	}
	EXPECT_EQ("pending", status(id));
	EXPECT_EQ("", jobs(id));
	/* wait until the lock is gone with the closed connection's backend */
	for (int i = 0; i < 100 && sql_value(ci(), "SELECT count(*) FROM pg_locks WHERE locktype = "
						   "'advisory' AND classid = 7340032 AND objid = " +
							   id) != "0";
	     i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	r = start(tech, id);
	ASSERT_EQ(202, r.status) << r.dump();
	EXPECT_EQ("running", r.str("status")) << r.dump();
	/* the same run again, and another run with the one runner busy */
	http_resp again = start(tech, id);
	EXPECT_EQ(409, again.status) << again.dump();
	http_resp busy = start(tech, other);
	EXPECT_EQ(503, busy.status) << busy.dump();
	EXPECT_EQ("runner_busy", busy.str("error.code")) << busy.dump();
	EXPECT_EQ("pending", status(other));
	/* /metrics counts the one runner thread busy */
	http_resp m = http_do(port(), "GET", "/metrics");
	EXPECT_NE(std::string::npos, m.body.find("meterlab_runner_threads{state=\"busy\"} 1\n"))
		<< m.body;
	EXPECT_NE(std::string::npos, m.body.find("meterlab_runner_threads{state=\"idle\"} 0\n"));
	/* abort in the middle: stopped, then aborted as the person asking */
	wait_steps(id, 1);
	ASSERT_EQ("running", status(id));
	std::string why = "{\"reason\":\"工作台故障\"}";
	r = http_do(port(), "POST", "/api/runs/" + id + "/abort", clerk.change(), &why);
	EXPECT_EQ(403, r.status) << r.dump();
	EXPECT_EQ("running", status(id));
	/* an abort the database would refuse does not stop the run first: a reason
	 * with a tab (422), one longer than its advertised 500 characters (400) */
	std::string tab = "{\"reason\":\"bench\\tfault\"}";
	r = http_do(port(), "POST", "/api/runs/" + id + "/abort", tech.change(), &tab);
	EXPECT_EQ(422, r.status) << r.dump();
	std::string longer = "{\"reason\":\"" + std::string(501, 'x') + "\"}";
	r = http_do(port(), "POST", "/api/runs/" + id + "/abort", tech.change(), &longer);
	EXPECT_EQ(400, r.status) << r.dump();
	EXPECT_EQ("wrong_type", r.str("error.code")) << r.dump();
	std::this_thread::sleep_for(std::chrono::milliseconds(300));
	EXPECT_EQ("running", status(id));
	EXPECT_EQ("mlt_tech|false", jobs(id));
	r = http_do(port(), "POST", "/api/runs/" + id + "/abort", tech.change(), &why);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_EQ("aborted", status(id));
	std::string done = steps_done(id);
	EXPECT_GT(8, std::stoi(done));
	EXPECT_EQ("mlt_tech|true", jobs(id));
	EXPECT_EQ("3", sql_value(ci(), "SELECT count(*) FROM run_position p JOIN asset a USING "
				       "(asset_id) WHERE a.state = 'reverify' AND p.run_id = " +
					       id));
	/* nothing more is written after the abort */
	std::this_thread::sleep_for(std::chrono::milliseconds(500));
	EXPECT_EQ(done, steps_done(id));
	/* the runner is free again */
	m = http_do(port(), "GET", "/metrics");
	EXPECT_NE(std::string::npos, m.body.find("meterlab_runner_threads{state=\"busy\"} 0\n"))
		<< m.body;
	EXPECT_NE(std::string::npos, m.body.find("meterlab_runner_threads{state=\"idle\"} 1\n"));
	r = start(tech, other);
	EXPECT_EQ(202, r.status) << r.dump();
	EXPECT_EQ("finished", wait_status(other, "finished|interrupted|aborted"));
}

/*
 * What a job session can do, tried by the service login itself with the
 * session's hash: nothing but its own run's execution — no HTTP request, no
 * other permission, no other run, no password change, no second job for
 * the run — with the scope of the session that started it; and nothing
 * after it ended. Only the service may start a job.
 */
TEST_F(RunStart, AJobSessionExecutesItsOwnRunOnly)
{
	bench("SB4", 5000);
	bench("SB5", 5000);
	std::string id = task("SB4", "S-SHORT");
	std::string other = task("SB5", "S-SHORT");
	test_session tok = direct_session(ci(), "mlt_tech", "api", "{lab_technician}");
	std::string th = token_hash_hex(tok.token);
	std::string jh = std::string(64, 'a');
	struct db *svc = pgtest_connect(pgtest_as_role(ci(), "meterlab_service"));
	struct ml_error err = ML_ERROR_INIT;
	auto as = [&](const std::string &hash, const std::string &sql) {
		err = ML_ERROR_INIT;
		const char *p[1] = { hash.c_str() };
		int rc = db_begin(svc, &err);
		if (!rc)
			rc = db_cmd(svc, "SELECT ml_session_assume(decode($1, 'hex'))", 1, p, &err);
		if (!rc)
			rc = db_cmd(svc, sql.c_str(), 0, nullptr, &err);
		return db_finish(svc, rc, &err);
	};
	ASSERT_EQ(ML_OK, as(th, "SELECT ml_run_job_begin(" + id + ", decode('" + jh +
					"', 'hex'), '1 hour')"))
		<< err.msg;
	EXPECT_EQ("{lab_technician}",
		  sql_value(ci(),
			    "SELECT scope_roles::text FROM auth_session WHERE job_run_id = " + id));
	/* a second job for the run while this one lives */
	EXPECT_EQ(ML_ECONFLICT, as(th, "SELECT ml_run_job_begin(" + id + ", decode('" +
					       std::string(64, 'b') + "', 'hex'), '1 hour')"))
		<< err.msg;
	/* never an HTTP request */
	err = ML_ERROR_INIT;
	const char *pe[1] = { jh.c_str() };
	EXPECT_EQ(ML_EPERM,
		  db_cmd(svc, "SELECT ml_api_enter(decode($1, 'hex'), NULL)", 1, pe, &err));
	/* another permission, another run, a password, a token, a second job */
	EXPECT_EQ(ML_EPERM, as(jh, "SELECT ml_require('run.create')")) << err.msg;
	EXPECT_EQ(ML_EPERM, as(jh, "SELECT ml_require('lab.read')")) << err.msg;
	EXPECT_EQ(ML_EPERM, as(jh, "SELECT ml_run_status(" + other + ", 'running')")) << err.msg;
	EXPECT_NE(std::string::npos, std::string(err.msg).find("executes run " + id + " only"))
		<< err.msg;
	EXPECT_EQ(ML_EPERM, as(jh, "SELECT ml_password_change('$argon2id$v=19$m=8,t=1,p=1$"
				   "AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA')"))
		<< err.msg;
	EXPECT_EQ(ML_EPERM, as(jh, "SELECT ml_api_token_create(decode(repeat('c', 64), 'hex'), "
				   "'x', '{lab_technician}', '1 day')"))
		<< err.msg;
	EXPECT_EQ(ML_EPERM, as(jh, "SELECT ml_run_job_begin(" + other + ", decode('" +
					   std::string(64, 'd') + "', 'hex'), '1 hour')"))
		<< err.msg;
	/* its own run: yes, recorded as mlt_tech */
	EXPECT_EQ(ML_OK, as(jh, "SELECT ml_run_status(" + id + ", 'running')")) << err.msg;
	EXPECT_EQ(ML_OK, as(jh, "SELECT ml_run_status(" + id + ", 'interrupted', 'test')"))
		<< err.msg;
	/* ended: nothing */
	EXPECT_EQ("t", sql_value(pgtest_as_role(ci(), "meterlab_service"),
				 "SELECT ml_run_job_end(decode('" + jh + "', 'hex'), 'test')"));
	EXPECT_EQ(ML_EPERM, as(jh, "SELECT 1")) << err.msg;
	EXPECT_NE(std::string::npos, std::string(err.msg).find("no live session")) << err.msg;
	/* a job whose server died (live, no runner's lock, over a minute old) does not block a
	 * new start: it is ended */
	std::string gone = std::string(64, 'f'), fresh = std::string(64, '0');
	ASSERT_EQ(ML_OK, as(th, "SELECT ml_run_job_begin(" + other + ", decode('" + gone +
					"', 'hex'), '1 hour')"))
		<< err.msg;
	sql_exec(ci(), "UPDATE auth_session SET created_at = now() - interval '2 minutes' WHERE "
		       "token_hash = decode('" +
			       gone + "', 'hex')");
	EXPECT_EQ(ML_OK, as(th, "SELECT ml_run_job_begin(" + other + ", decode('" + fresh +
					"', 'hex'), '1 hour')"))
		<< err.msg;
	EXPECT_EQ("run job gone: no runner holds the run",
		  sql_value(ci(), "SELECT revoked_reason FROM auth_session WHERE token_hash = "
				  "decode('" +
					  gone + "', 'hex')"));
	EXPECT_EQ("t", sql_value(pgtest_as_role(ci(), "meterlab_service"),
				 "SELECT ml_run_job_end(decode('" + fresh + "', 'hex'), 'test')"));
	db_close(svc);
	/* a person's own login cannot start a job (the service's function) */
	struct db *tech = pgtest_connect(pgtest_as(ci(), "mlt_tech"));
	EXPECT_EQ(ML_EPERM, db_cmd(tech,
				   ("SELECT ml_run_job_begin(" + id +
				    ", decode(repeat('e', 64), "
				    "'hex'), '1 hour')")
					   .c_str(),
				   0, nullptr, &err))
		<< err.msg;
	db_close(tech);
	/* the interrupted run resumes over HTTP and finishes */
	test_session tech_s = direct_session(ci(), "mlt_tech");
	http_resp r = start(tech_s, id);
	ASSERT_EQ(202, r.status) << r.dump();
	EXPECT_EQ("finished", wait_status(id, "finished|aborted"));
}

/*
 * SIGTERM while a run executes: the server stops it the way ^C stops
 * `meterlab run start` — interrupted, every recorded step whole, the job
 * session ended — and exits 0; the run resumes later and finishes.
 */
TEST_F(RunStart, SigtermInterruptsTheRunWholeAndItResumes)
{
	bench("SB6", 300);
	std::string id = task("SB6", "S-LONG");
	test_server second;
	std::string why;
	ASSERT_TRUE(
		second.start(pgtest_as_role(ci(), "meterlab_service"), { "--runners", "2" }, &why))
		<< why;
	test_session tech = direct_session(ci(), "mlt_tech");
	http_resp r = http_do(second.port, "POST", "/api/runs/" + id + "/start", tech.change(),
			      &kBody);
	ASSERT_EQ(202, r.status) << r.dump();
	wait_steps(id, 1);
	EXPECT_EQ("running", status(id));
	EXPECT_EQ(0, second.stop(SIGTERM));
	EXPECT_EQ("interrupted", status(id));
	EXPECT_EQ("mlt_tech|true", jobs(id));
	/* every step recorded is whole: results for each of the 3 positions */
	EXPECT_EQ("0",
		  sql_value(ci(), "SELECT count(*) FROM run_step s WHERE s.run_id = " + id +
					  " AND (SELECT count(*) FROM run_step_result x WHERE "
					  "x.run_id = s.run_id AND x.step_no = s.step_no) <> 3"));
	EXPECT_GT(8, std::stoi(steps_done(id)));
	/* resumed on the suite's server: it finishes */
	r = start(tech, id);
	ASSERT_EQ(202, r.status) << r.dump();
	EXPECT_EQ("finished", wait_status(id, "finished|aborted", 180));
	EXPECT_EQ("8", steps_done(id));
}
