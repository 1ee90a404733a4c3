/*
 * The server process itself: graceful SIGTERM during requests, a slow
 * client that must not hold a thread, keep-alive, TLS, and the refusals at
 * start (plain HTTP off loopback, half a TLS configuration, a database
 * login other than the service).
 */
#include <gtest/gtest.h>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "server_fixture.h"

namespace
{

class Life : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		ci_ = new std::string(pgtest_fresh_db("life"));
	}
	static void TearDownTestSuite()
	{
		delete ci_;
	}
	static std::string &ci()
	{
		return *ci_;
	}
	static std::string service()
	{
		return pgtest_as_role(ci(), "meterlab_service");
	}
	static std::string *ci_;
};
std::string *Life::ci_ = nullptr;

using clk = std::chrono::steady_clock;

long ms_since(clk::time_point t)
{
	return (long)std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - t).count();
}

TEST_F(Life, SigtermLetsRequestsInFlightFinishAndHalfDoesNothing)
{
	/* Real Argon2id cost, so that logins are in flight for a while. */
	struct db *db = pgtest_connect(ci());
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, auth_crypto_init(&err));
	ASSERT_EQ(ML_OK, auth_user_set_password(db, "mlt_checker", "correct horse battery",
						auth_pwcost_default(), nullptr, &err))
		<< err.msg;
	db_close(db);
	test_server srv;
	std::string why;
	ASSERT_TRUE(srv.start(service(), { "--threads", "2", "--workers", "2" }, &why)) << why;
	test_session s = direct_session(ci(), "mlt_tech");
	std::atomic<int> logins_ok{ 0 }, tokens_ok{ 0 }, other{ 0 };
	std::vector<std::thread> th;
	for (int i = 0; i < 6; i++)
		th.emplace_back([&, i] {
			http_resp r;
			login(srv.port, "mlt_checker", "correct horse battery",
			      ("127.0.1." + std::to_string(i + 1)).c_str(), &r);
			(r.status == 200 ? logins_ok : other)++;
			if (r.status && r.status != 200)
				ADD_FAILURE() << "login answered " << r.dump();
		});
	for (int i = 0; i < 10; i++)
		th.emplace_back([&, i] {
			std::this_thread::sleep_for(std::chrono::milliseconds(5 * i));
			std::string body = "{\"label\":\"shutdown " + std::to_string(i) +
					   "\",\"roles\":[\"lab_technician\"],\"ttl_days\":1}";
			http_resp r = http_do(srv.port, "POST", "/api/tokens", s.change(), &body);
			(r.status == 201 ? tokens_ok : other)++;
			if (r.status && r.status != 201)
				ADD_FAILURE() << "token answered " << r.dump();
		});
	/* SIGTERM once a first token is committed, so that requests are in
	 * flight (logins still hashing, tokens still coming) and at least one
	 * was served: a fixed 40 ms could pass on a busy machine before the
	 * server had accepted anything. */
	for (int i = 0; i < 1000 && sql_value(ci(), "SELECT count(*) FROM auth_session "
						    "WHERE label LIKE 'shutdown %'") == "0";
	     i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	auto t0 = clk::now();
	int code = srv.stop(SIGTERM);
	for (auto &t : th)
		t.join();
	EXPECT_EQ(0, code) << test_server::file(srv.out);
	EXPECT_LT(ms_since(t0), 10000);
	/* Every change that happened was answered; nothing happened unanswered. */
	EXPECT_EQ(std::to_string(logins_ok.load()),
		  sql_value(ci(), "SELECT count(*) FROM auth_session s JOIN app_user u USING "
				  "(user_id) WHERE u.login = 'mlt_checker'"));
	EXPECT_EQ(
		std::to_string(tokens_ok.load()),
		sql_value(ci(), "SELECT count(*) FROM auth_session WHERE label LIKE 'shutdown %'"));
	EXPECT_GT(logins_ok + tokens_ok, 0);
	std::string log = test_server::file(srv.log);
	EXPECT_NE(std::string::npos, log.find("\"event\":\"stop\"")) << log;
	EXPECT_NE(std::string::npos, log.find("0 request(s) still in flight")) << log;
	/* And it no longer listens. */
	EXPECT_LT(http_connect(srv.port), 0);
}

/*
 * More slow-lane work than the shutdown timeout allows (one worker, 40
 * logins at the real Argon2id cost, --shutdown-timeout 1): the logins still
 * waiting for the worker are answered 503 stopping, the one running
 * finishes, and the process exits 0. libmicrohttpd aborts the process when
 * the daemon is stopped with a connection still suspended, which left every
 * waiting login unanswered.
 */
TEST_F(Life, SigtermAnswersTheSlowLaneItCannotFinish)
{
	struct db *db = pgtest_connect(ci());
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, auth_crypto_init(&err));
	ASSERT_EQ(ML_OK, auth_user_set_password(db, "mlt_clerk", "correct horse battery",
						auth_pwcost_default(), nullptr, &err))
		<< err.msg;
	db_close(db);
	std::string before = sql_value(ci(), "SELECT count(*) FROM auth_session s JOIN app_user "
					     "u USING (user_id) WHERE u.login = 'mlt_clerk'");
	test_server srv;
	std::string why;
	ASSERT_TRUE(srv.start(
		service(), { "--threads", "2", "--workers", "1", "--shutdown-timeout", "1" }, &why))
		<< why;
	const int n = 40;
	std::atomic<int> ok{ 0 }, stopping{ 0 }, unanswered{ 0 }, other{ 0 };
	std::vector<std::thread> th;
	for (int i = 0; i < n; i++)
		th.emplace_back([&, i] {
			http_resp r;
			login(srv.port, "mlt_clerk", "correct horse battery",
			      ("127.0.2." + std::to_string(i + 1)).c_str(), &r);
			if (r.status == 200)
				ok++;
			else if (r.status == 503 && r.str("error.code") == "stopping")
				stopping++;
			else if (r.status == 0)
				unanswered++;
			else
				other++, ADD_FAILURE() << "login answered " << r.dump();
		});
	/* TERM once a first login is committed: the others are queued for the worker. */
	for (int i = 0; i < 2000 && sql_value(ci(), "SELECT count(*) FROM auth_session s JOIN "
						    "app_user u USING (user_id) WHERE u.login = "
						    "'mlt_clerk'") == before;
	     i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	auto t0 = clk::now();
	int code = srv.stop(SIGTERM);
	for (auto &t : th)
		t.join();
	std::string out = test_server::file(srv.out), log = test_server::file(srv.log);
	EXPECT_EQ(0, code) << out << log;
	EXPECT_EQ(std::string::npos, out.find("Fatal error")) << out;
	EXPECT_LT(ms_since(t0), 10000);
	/* Every login was answered: done, or refused because the server stopped. */
	EXPECT_EQ(0, unanswered.load());
	EXPECT_EQ(0, other.load());
	EXPECT_EQ(n, ok + stopping);
	EXPECT_GT(ok.load(), 0);
	EXPECT_GT(stopping.load(), 0) << "the worker finished every login within 1 s";
	/* Every session made was answered, nothing answered 503 made one. */
	EXPECT_EQ(std::to_string(std::stoll(before) + ok.load()),
		  sql_value(ci(), "SELECT count(*) FROM auth_session s JOIN app_user u USING "
				  "(user_id) WHERE u.login = 'mlt_clerk'"));
	EXPECT_NE(std::string::npos, log.find("answered 503 stopping")) << log;
	EXPECT_LT(http_connect(srv.port), 0);
}

/* Idempotency keys are kept 24 hours: the server deletes older ones (at
 * start, then every ten minutes), not only when the same key comes back. */
TEST_F(Life, IdempotencyKeysOlderThanADayArePurged)
{
	const std::string ins =
		"INSERT INTO api_idempotency (user_id, idem_key, request_hash, status, body, "
		"created_at) SELECT user_id, $k$, decode(repeat('ab', 32), 'hex'), 200, '{}', "
		"now() - $age$::interval FROM app_user WHERE login = 'mlt_tech'";
	auto row = [&](const char *key, const char *age) {
		std::string q = ins;
		q.replace(q.find("$k$"), 3, std::string("'") + key + "'");
		q.replace(q.find("$age$"), 5, std::string("'") + age + "'");
		sql_exec(ci(), q);
	};
	row("purge-old-key-1", "25 hours");
	row("purge-old-key-2", "30 days");
	row("purge-new-key-1", "23 hours");
	auto count = [&](const char *like) {
		return sql_value(ci(), std::string("SELECT count(*) FROM api_idempotency WHERE "
						   "idem_key LIKE '") +
					       like + "'");
	};
	ASSERT_EQ("2", count("purge-old-%"));
	test_server srv;
	std::string why;
	ASSERT_TRUE(srv.start(service(), {}, &why)) << why;
	for (int i = 0; i < 500 && count("purge-old-%") != "0"; i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	EXPECT_EQ("0", count("purge-old-%"));
	EXPECT_EQ("1", count("purge-new-%"));
	EXPECT_EQ(0, srv.stop());
	sql_exec(ci(), "DELETE FROM api_idempotency WHERE idem_key LIKE 'purge-%'");
}

TEST_F(Life, ASlowClientTimesOutWithoutHoldingAThread)
{
	test_server srv;
	std::string why;
	ASSERT_TRUE(srv.start(service(), { "--threads", "1", "--connection-timeout", "2" }, &why))
		<< why;
	/* Three clients that send half a request and stall, one that sends half a body. */
	std::vector<int> slow;
	for (int i = 0; i < 3; i++) {
		int fd = http_connect(srv.port);
		ASSERT_GE(fd, 0);
		ASSERT_TRUE(http_send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n"));
		slow.push_back(fd);
	}
	int body_fd = http_connect(srv.port);
	ASSERT_TRUE(http_send_all(body_fd, "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
					   "application/json\r\nContent-Length: 100\r\n\r\n{\"lo"));
	slow.push_back(body_fd);
	/* The one thread still serves everyone else at once. */
	auto t0 = clk::now();
	for (int i = 0; i < 5; i++) {
		http_resp r = http_do(srv.port, "GET", "/healthz");
		EXPECT_EQ(200, r.status);
	}
	/* Well under the 2 s the thread would wait if a stalled client held it. */
	EXPECT_LT(ms_since(t0), 1500);
	/* The stalled connections are closed after the timeout. */
	t0 = clk::now();
	for (int fd : slow) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ASSERT_EQ(1, poll(&pf, 1, 6000)) << "connection not closed";
		char b[256];
		ssize_t n = recv(fd, b, sizeof(b), 0);
		EXPECT_LE(n, 0);
		close(fd);
	}
	long waited = ms_since(t0);
	EXPECT_GE(waited, 1000);
	EXPECT_LT(waited, 6000);
	EXPECT_EQ(0, srv.stop());
	std::string log = test_server::file(srv.log);
	EXPECT_NE(std::string::npos, log.find("\"end\":\"timeout\"")) << log;
}

/* A move of n well-formed barcodes no asset has (refused 404, naming every one). */
std::string big_move(long n, long first)
{
	std::string b = "{\"action\":\"dispatch\",\"location\":\"NOWHERE\",\"barcodes\":[";
	for (long i = 0; i < n; i++)
		b += (i ? ",\"" : "\"") + pgtest_barcode(first + i) + "\"";
	return b + "]}";
}

/*
 * A batch of 60 000 scans (1.6 MB: the body is parsed, every code looked
 * up, every refused one named in the answer: seconds) runs on the slow lane
 * (srv.h, SLOW_BATCH_BYTES): with one HTTP thread, /healthz answers at
 * once meanwhile. On the HTTP thread it waited for the whole batch (audit:
 * 40 000 codes, 2.2 s; /healthz 1.99 s). And SIGTERM during such a batch
 * lets it finish and answer before the process exits 0.
 */
TEST_F(Life, ABigBatchRunsOnTheSlowLaneAndHealthStaysPrompt)
{
	test_server srv;
	std::string why;
	ASSERT_TRUE(srv.start(
		service(), { "--threads", "1", "--workers", "1", "--max-body", "4194304" }, &why))
		<< why;
	test_session s = direct_session(ci(), "mlt_clerk");
	const std::string body = big_move(60000, 7000000);
	const std::string req = http_build("POST", "/api/assets/move", s.change(), &body);
	std::atomic<bool> done{ false };
	http_resp big;
	long batch_ms = 0;
	std::thread t([&] {
		auto t0 = clk::now();
		big = http_raw(srv.port, req, nullptr, 120000);
		batch_ms = ms_since(t0);
		done = true;
	});
	long worst = 0;
	int probes = 0;
	while (!done) {
		auto t0 = clk::now();
		http_resp h = http_do(srv.port, "GET", "/healthz");
		long ms = ms_since(t0);
		if (done)
			break; /* answered after the batch: proves nothing */
		EXPECT_EQ(200, h.status) << h.dump();
		worst = std::max(worst, ms);
		probes++;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	t.join();
	ASSERT_EQ(404, big.status) << big.status << " " << big.body.substr(0, 300);
	EXPECT_NE(std::string::npos, big.body.find(pgtest_barcode(7059999)));
	printf("batch %ld ms; /healthz meanwhile: %d probes, the slowest %ld ms\n", batch_ms,
	       probes, worst);
	/* The batch must be slow for the bound to mean anything. */
	ASSERT_GT(batch_ms, 1000) << "the batch was too quick to show anything";
	EXPECT_GT(probes, 3);
	EXPECT_LT(worst, 500) << "batch " << batch_ms << " ms";
	EXPECT_LT(worst * 3, batch_ms);
	/* SIGTERM in the middle of one: it finishes and is answered, then exit 0. */
	done = false;
	std::thread t2([&] {
		big = http_raw(srv.port, req, nullptr, 120000);
		done = true;
	});
	/* once it runs: the lane's one worker busy */
	for (int i = 0; i < 1000 && !done; i++) {
		http_resp m = http_do(srv.port, "GET", "/metrics");
		if (m.body.find("meterlab_slow_lane_threads{state=\"busy\"} 1\n") !=
		    std::string::npos)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	EXPECT_FALSE(done.load()) << "the batch ended before SIGTERM";
	int code = srv.stop(SIGTERM);
	t2.join();
	EXPECT_EQ(0, code) << test_server::file(srv.out);
	EXPECT_EQ(404, big.status) << big.status << " " << big.body.substr(0, 300);
}

/*
 * The event streams' session re-check (--sse-recheck) runs on the thread
 * that fans out every event and heartbeat. ml_api_enter moves the session's
 * idle clock (an UPDATE of its row): while another transaction holds that
 * row (a long request of the same person, a logout), the re-check waited
 * for it, and every stream of the server went silent. It now waits at most
 * a moment and checks again next time; a revoked session still ends its
 * stream.
 */
TEST_F(Life, ASessionRowHeldElsewhereDoesNotStallTheEventStreams)
{
	test_server srv;
	std::string why;
	ASSERT_TRUE(srv.start(service(), { "--sse-heartbeat", "1", "--sse-recheck", "1" }, &why))
		<< why;
	test_session a = direct_session(ci(), "mlt_tech"), b = direct_session(ci(), "mlt_tech2");
	auto open = [&](const test_session &x) {
		int fd = http_connect(srv.port);
		EXPECT_GE(fd, 0);
		EXPECT_TRUE(http_send_all(fd, http_build("GET", "/api/events/runs", x.cookie())));
		http_resp r = http_read(fd, 5000);
		EXPECT_EQ(200, r.status) << r.dump();
		return fd;
	};
	int fa = open(a), fb = open(b);
	/* the longest silence on stream fd over ms milliseconds; got collects the text */
	auto longest_gap = [](int fd, long ms, std::string *got) {
		auto t0 = clk::now(), last = t0;
		long gap = 0;
		while (ms_since(t0) < ms) {
			struct pollfd pf = { fd, POLLIN, 0 };
			if (poll(&pf, 1, 50) > 0) {
				char buf[4096];
				ssize_t n = recv(fd, buf, sizeof(buf), 0);
				if (n <= 0)
					break;
				got->append(buf, (size_t)n);
				gap = std::max(
					gap,
					(long)std::chrono::duration_cast<std::chrono::milliseconds>(
						clk::now() - last)
						.count());
				last = clk::now();
			}
		}
		return std::max(gap, (long)std::chrono::duration_cast<std::chrono::milliseconds>(
					     clk::now() - last)
					     .count());
	};
	std::string ga, gb;
	longest_gap(fb, 1500, &gb); /* both streams run */
	/* Session a's idle clock is due (older than 30 s), and its row is held. */
	const std::string hash = token_hash_hex(a.token);
	sql_exec(ci(), "UPDATE auth_session SET last_seen_at = now() - interval '5 minutes' "
		       "WHERE token_hash = decode('" +
			       hash + "', 'hex')");
	struct db *holder = pgtest_connect(ci());
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_begin(holder, &err));
	ASSERT_EQ(ML_OK, db_cmd(holder,
				("SELECT 1 FROM auth_session WHERE token_hash = decode('" + hash +
				 "', 'hex') FOR UPDATE")
					.c_str(),
				0, nullptr, &err))
		<< err.msg;
	/* Heartbeats every second on the other person's stream, and on a's own. */
	gb.clear();
	long gap = longest_gap(fb, 5000, &gb);
	EXPECT_LT(gap, 2500) << gb;
	EXPECT_NE(std::string::npos, gb.find(": ping")) << gb;
	db_rollback(holder);
	db_close(holder);
	longest_gap(fa, 1500, &ga);
	EXPECT_EQ(std::string::npos, ga.find("event: end"))
		<< "a live session's stream ended: " << ga;
	/* A revoked session still ends its stream at the next re-check. */
	sql_exec(ci(), "UPDATE auth_session SET revoked_at = now(), revoked_reason = 'test' WHERE "
		       "token_hash = decode('" +
			       hash + "', 'hex')");
	ga.clear();
	longest_gap(fa, 4000, &ga);
	EXPECT_NE(std::string::npos, ga.find("event: end")) << ga;
	EXPECT_NE(std::string::npos, ga.find("session ended")) << ga;
	gb.clear();
	longest_gap(fb, 1500, &gb);
	EXPECT_EQ(std::string::npos, gb.find("event: end")) << gb;
	close(fa);
	close(fb);
	EXPECT_EQ(0, srv.stop());
}

TEST_F(Life, KeepAliveServesManyRequestsOnOneConnection)
{
	test_server srv;
	std::string why;
	ASSERT_TRUE(srv.start(service(), {}, &why)) << why;
	int fd = http_connect(srv.port);
	ASSERT_GE(fd, 0);
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(http_send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
		http_resp r = http_read(fd, 5000);
		ASSERT_EQ(200, r.status) << i;
		EXPECT_EQ("", r.header("connection"))
			<< "the server closed a keep-alive connection";
	}
	close(fd);
	EXPECT_EQ(0, srv.stop());
}

TEST_F(Life, TlsServesHttpsAndPlainHttpOffLoopbackIsRefused)
{
	char tmpl[] = "/tmp/mlt-tls-XXXXXX";
	std::string dir = mkdtemp(tmpl);
	std::string out;
	ASSERT_EQ(0, pgtest_run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
				"-nodes -keyout " +
					dir + "/k.pem -out " + dir +
					"/c.pem -days 2 -subj /CN=127.0.0.1",
				&out, true))
		<< out;
	{
		test_server srv;
		std::string why;
		ASSERT_TRUE(srv.start(service(),
				      { "--tls-cert", dir + "/c.pem", "--tls-key", dir + "/k.pem" },
				      &why))
			<< why;
		std::string port = std::to_string(srv.port);
		ASSERT_EQ(0, pgtest_run("curl -sk -D - https://127.0.0.1:" + port + "/healthz",
					&out, true))
			<< out;
		EXPECT_NE(std::string::npos, out.find("\"status\":\"ok\"")) << out;
		EXPECT_NE(std::string::npos, out.find("Strict-Transport-Security")) << out;
		/* TLS 1.1 is refused. */
		EXPECT_NE(0, pgtest_run("curl -sk --tls-max 1.1 https://127.0.0.1:" + port +
						"/healthz",
					&out, true));
		/* Plain HTTP on the TLS port gets no answer. */
		http_resp p = http_do(srv.port, "GET", "/healthz");
		EXPECT_NE(200, p.status);
		EXPECT_EQ(0, srv.stop());
	}
	std::string cli = pgtest_cli() + " --db " + pgtest_sq(service()) + " serve ";
	int rc = pgtest_run(cli + "--listen 0.0.0.0:0", &out, true);
	EXPECT_EQ(3, rc) << out;
	EXPECT_NE(std::string::npos, out.find("refusing plain HTTP")) << out;
	rc = pgtest_run(cli + "--listen 127.0.0.1:0 --tls-cert " + dir + "/c.pem", &out, true);
	EXPECT_EQ(3, rc) << out;
	EXPECT_NE(std::string::npos, out.find("both --tls-cert and --tls-key")) << out;
	rc = pgtest_run(cli + "--listen 127.0.0.1:0 --tls-cert " + dir + "/c.pem --tls-key " + dir +
				"/missing.pem",
			&out, true);
	EXPECT_EQ(3, rc) << out;
	/* On purpose, behind a TLS proxy: allowed. */
	{
		test_server srv;
		std::string why;
		EXPECT_TRUE(
			srv.start(service(), { "--listen", "0.0.0.0:0", "--insecure-http" }, &why))
			<< why;
		EXPECT_EQ(200, http_do(srv.port, "GET", "/healthz").status);
		EXPECT_EQ(0, srv.stop());
	}
	/* Only the service login: a person's or the DBA's would act as them. */
	rc = pgtest_run(pgtest_cli() + " --db " + pgtest_sq(pgtest_as(ci(), "mlt_tech")) +
				" serve --listen 127.0.0.1:0",
			&out, true);
	EXPECT_EQ(3, rc) << out;
	EXPECT_NE(std::string::npos, out.find("meterlab_service")) << out;
	unlink((dir + "/k.pem").c_str());
	unlink((dir + "/c.pem").c_str());
	rmdir(dir.c_str());
}

} // namespace
