/*
 * The server (server/, `meterlab serve`) as a client sees it: a real server
 * process on loopback and a real PostgreSQL. Logins and sessions (expiry,
 * idle, logout, throttling per account and per address), CSRF, the error
 * shape, malformed requests that change nothing, 413, unknown routes,
 * idempotent retries (also two at once), API tokens, password changes,
 * assets, and run progress over Server-Sent Events.
 */
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "../lab/runner_fixture.h"
#include "../reports/workflow_support.h"
#include "assets/registry.h"
#include "field/field.h"
#include "server_fixture.h"
#include "stores/stores.h"

/* workflow_support.h's renderer, for this binary (font parsing is the slow part). */
struct cert_renderer *wf_renderer()
{
	static struct cert_renderer *r = [] {
		struct cert_renderer *x = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		if (cert_renderer_new(nullptr, &x, &err)) {
			fprintf(stderr, "renderer: %s\n", err.msg);
			abort();
		}
		return x;
	}();
	return r;
}

namespace
{

const char *const PW = "correct horse battery";

/* A maker and its single-phase class-1 5(60) A, 1200 imp/kWh model, added by
 * the catalogue keeper connected as db. */
void add_meter_model(struct db *db, const char *maker, const char *model)
{
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, asset_manufacturer_add(db, maker, "浙江华仪", &err)) << err.msg;
	struct asset_model m = {};
	m.code = model;
	m.manufacturer_code = maker;
	m.name = "single-phase class 1";
	m.kind = "meter_1p";
	m.accuracy_class = "1";
	m.connection = "direct";
	m.wiring = "1p2w";
	m.un_v = "220";
	m.ib_a = "5";
	m.imax_a = "60";
	m.constant_imp = "1200";
	m.verification_period_months = "96";
	ASSERT_EQ(ML_OK, asset_model_add(db, &m, &err)) << err.msg;
}

/* n meters (serials first..) of a new model `model` of maker `maker`,
 * received as lot `lot` by an admin and clerk `login`, then put in stock
 * valid for a year; and a secondary store `city` under CENTRAL to move them
 * to. */
void stock_lot(const std::string &ci, const char *login, const char *maker, const char *model,
	       const char *city, const char *lot, long first, long n)
{
	struct db *db = pgtest_connect(pgtest_user(ci, login, "管理员", "admin,warehouse_clerk"));
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_NO_FATAL_FAILURE(add_meter_model(db, maker, model));
	ASSERT_EQ(ML_OK, asset_location_add(db, city, "city", "secondary_store", "CENTRAL", &err))
		<< err.msg;
	std::string csv = "barcode,model_code,production_batch,production_date\n";
	for (long i = 0; i < n; i++)
		csv += pgtest_barcode(first + i) + "," + model + ",B1,2026-09-14\n";
	struct asset_receive_opts o = {};
	o.lot_code = lot;
	struct asset_import_report rep;
	ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	db_close(db);
	sql_exec(ci,
		 std::string("UPDATE asset SET state = 'in_stock', valid_until = current_date + "
			     "365, verified_at = now() WHERE lot_id = (SELECT lot_id FROM lot "
			     "WHERE code = '") +
			 lot + "')");
}

class Server : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		ci_ = new std::string(pgtest_fresh_db("server"));
		srv_ = new test_server();
		std::string why;
		bool ok = srv_->start(pgtest_as_role(ci(), "meterlab_service"),
				      { "--threads",
					"2",
					"--pwhash-ops",
					"1",
					"--pwhash-mem",
					"8192",
					"--login-window",
					"60",
					"--login-account-limit",
					"3",
					"--login-address-limit",
					"8",
					"--verify-per-minute",
					"6",
					"--max-body",
					"65536",
					"--sse-heartbeat",
					"1",
					"--session-idle",
					"600" },
				      &why);
		if (!ok) {
			fprintf(stderr, "%s\n", why.c_str());
			abort();
		}
		set_password(ci(), "mlt_tech", PW);
		set_password(ci(), "mlt_clerk", PW);
	}
	static void TearDownTestSuite()
	{
		delete srv_;
		delete ci_;
	}
	static std::string &ci()
	{
		return *ci_;
	}
	static unsigned port()
	{
		return srv_->port;
	}
	static std::string *ci_;
	static test_server *srv_;

	/* A person of one's own (so tests do not share throttling counts or sessions). */
	static std::string person(const char *prefix, const char *roles)
	{
		static int n = 0;
		std::string login = std::string(prefix) + std::to_string(n++);
		pgtest_user(ci(), login.c_str(), "测试者", roles);
		set_password(ci(), login.c_str(), PW);
		return login;
	}
};
std::string *Server::ci_ = nullptr;
test_server *Server::srv_ = nullptr;

TEST_F(Server, HealthAndMetricsAreOpenAndTrue)
{
	http_resp h = http_do(port(), "GET", "/healthz");
	ASSERT_EQ(200, h.status) << h.dump();
	EXPECT_EQ("ok", h.str("status"));
	EXPECT_EQ("ok", h.str("db"));
	/* The request is counted and logged in libmicrohttpd's completion callback, which runs
	 * after the answer has been sent: the client may ask for /metrics before the /healthz it
	 * just got is counted. Wait (bounded) for it rather than race it. */
	const std::string counted =
		"meterlab_http_requests_total{route=\"GET /healthz\",status=\"200\"}";
	http_resp m;
	for (int i = 0; i < 100; i++) {
		m = http_do(port(), "GET", "/metrics");
		if (m.status != 200 || m.body.find(counted) != std::string::npos)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	ASSERT_EQ(200, m.status);
	EXPECT_NE(std::string::npos, m.header("content-type").find("text/plain"));
	EXPECT_NE(std::string::npos, m.body.find(counted)) << m.body.substr(0, 500);
	EXPECT_NE(std::string::npos,
		  m.body.find(
			  "meterlab_http_request_duration_seconds_bucket{route=\"GET /healthz\""));
	EXPECT_NE(std::string::npos, m.body.find("meterlab_db_pool_connections{state=\"idle\"}"));
	/* this server executes no runs (no --runners); its slow lane idles */
	EXPECT_NE(std::string::npos, m.body.find("meterlab_runner_threads{state=\"busy\"} 0\n"));
	EXPECT_NE(std::string::npos, m.body.find("meterlab_runner_threads{state=\"idle\"} 0\n"));
	EXPECT_NE(std::string::npos, m.body.find("meterlab_slow_lane_threads{state=\"busy\"} 0\n"));
	EXPECT_NE(std::string::npos, m.body.find("meterlab_slow_lane_queued 0\n"));
	/* One structured access-log line per request. */
	const std::string logged = "\"path\":\"/healthz\",\"route\":\"/healthz\",\"status\":200";
	std::string log;
	for (int i = 0; i < 100; i++) { /* written just after the count, same callback */
		log = test_server::file(srv_->log);
		if (log.find(logged) != std::string::npos)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	EXPECT_NE(std::string::npos, log.find(logged)) << log.substr(0, 800);
}

/* A raw path that is not UTF-8 is logged with its bad bytes (and any
 * backslash) as \xNN, not left out of the access log. */
TEST_F(Server, AccessLogKeepsPathsThatAreNotUtf8)
{
	http_resp a = http_raw(port(), "GET /api/assets/\xff\xfe HTTP/1.1\r\nHost: x\r\n"
				       "Connection: close\r\n\r\n");
	EXPECT_EQ(400, a.status) << a.dump();
	http_resp b = http_raw(port(), "GET /x\xff\\y\xc3\xa9.html HTTP/1.1\r\nHost: x\r\n"
				       "Connection: close\r\n\r\n");
	EXPECT_EQ(404, b.status) << b.dump();
	/* JSON escapes the backslashes once more. */
	const std::string la = "\"path\":\"/api/assets/\\\\xFF\\\\xFE\",\"route\":"
			       "\"/api/assets/{barcode}\",\"status\":400";
	const std::string lb = "\"path\":\"/x\\\\xFF\\\\x5Cy\xc3\xa9.html\",\"status\":404";
	std::string log;
	for (int i = 0; i < 100; i++) {
		log = test_server::file(srv_->log);
		if (log.find(la) != std::string::npos && log.find(lb) != std::string::npos)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	EXPECT_NE(std::string::npos, log.find(la)) << la;
	EXPECT_NE(std::string::npos, log.find(lb)) << lb;
}

TEST_F(Server, LoginSetsAStrictCookieAndLogoutEndsTheSession)
{
	http_resp r;
	test_session s = login(port(), "mlt_tech", PW, "127.0.0.11", &r);
	ASSERT_EQ(200, r.status) << r.dump();
	std::string c = r.header("set-cookie");
	EXPECT_NE(std::string::npos, c.find("HttpOnly")) << c;
	EXPECT_NE(std::string::npos, c.find("Secure")) << c;
	EXPECT_NE(std::string::npos, c.find("SameSite=Strict")) << c;
	EXPECT_EQ(43u, s.token.size());
	EXPECT_EQ("mlt_tech", r.str("login"));
	EXPECT_EQ("王检定", r.str("display_name"));
	EXPECT_FALSE(s.csrf.empty());
	/* The database keeps only the token's hash. */
	EXPECT_EQ("1", sql_value(ci(), "SELECT count(*) FROM auth_session WHERE token_hash = "
				       "decode('" +
					       token_hash_hex(s.token) +
					       "', 'hex') AND kind = 'browser'"));
	http_resp w = http_do(port(), "GET", "/api/whoami", s.cookie());
	ASSERT_EQ(200, w.status) << w.dump();
	EXPECT_EQ("mlt_tech", w.str("login"));
	EXPECT_EQ(s.csrf, w.str("csrf_token"));
	std::string empty = "{}";
	http_resp out = http_do(port(), "POST", "/api/logout", s.change(), &empty);
	ASSERT_EQ(200, out.status) << out.dump();
	EXPECT_NE(std::string::npos, out.header("set-cookie").find("Max-Age=0"));
	http_resp after = http_do(port(), "GET", "/api/whoami", s.cookie());
	EXPECT_EQ(401, after.status);
	EXPECT_EQ("unauthenticated", after.str("error.code"));
	EXPECT_EQ("1", sql_value(ci(), "SELECT count(*) FROM auth_log WHERE event = 'logout' AND "
				       "login = 'mlt_tech'"));
}

TEST_F(Server, WrongPasswordUnknownUserAndDisabledUserGetTheSameAnswerAndAreLogged)
{
	std::string dis = person("mlt_dis", "checker");
	sql_exec(ci(), "SELECT ml_user_disable('" + dis + "', 'left the lab')");
	http_resp a, b, c;
	login(port(), "mlt_tech", "wrong password!", "127.0.0.12", &a);
	login(port(), "mlt_nobody", PW, "127.0.0.12", &b);
	login(port(), dis, PW, "127.0.0.12", &c);
	for (http_resp *r : { &a, &b, &c }) {
		EXPECT_EQ(401, r->status) << r->dump();
		EXPECT_EQ("bad_credentials", r->str("error.code"));
		EXPECT_EQ("wrong login or password", r->str("error.message"));
		EXPECT_EQ("", r->header("set-cookie"));
	}
	EXPECT_EQ("login_bad_password,login_unknown_user,login_disabled",
		  sql_value(ci(), "SELECT string_agg(event, ',' ORDER BY log_id) FROM auth_log "
				  "WHERE client_addr = '127.0.0.12'"));
}

TEST_F(Server, BadPasswordsThrottleTheAccountFromAnyAddress)
{
	std::string u = person("mlt_thr", "checker");
	for (int i = 0; i < 3; i++) {
		http_resp r;
		login(port(), u, "not the password", "127.0.0.21", &r);
		EXPECT_EQ(401, r.status) << r.dump();
	}
	/* Now even the right password, from another address, is refused unchecked. */
	http_resp t;
	test_session s = login(port(), u, PW, "127.0.0.22", &t);
	EXPECT_EQ(429, t.status) << t.dump();
	EXPECT_EQ("throttled", t.str("error.code"));
	EXPECT_TRUE(s.token.empty());
	long ra = atol(t.header("retry-after").c_str());
	EXPECT_GT(ra, 0);
	EXPECT_LE(ra, 60);
	EXPECT_EQ("1", sql_value(ci(), "SELECT count(*) FROM auth_log WHERE login = '" + u +
					       "' AND event = 'login_throttled'"));
	/* Another account is not affected. */
	http_resp o;
	login(port(), "mlt_clerk", PW, "127.0.0.22", &o);
	EXPECT_EQ(200, o.status) << o.dump();
	/* When the failures leave the window, the account opens again (time moved by the test). */
	sql_exec(ci(), "ALTER TABLE auth_log DISABLE TRIGGER auth_log_append_only");
	sql_exec(ci(),
		 "UPDATE auth_log SET at = at - interval '2 minutes' WHERE login = '" + u + "'");
	sql_exec(ci(), "ALTER TABLE auth_log ENABLE TRIGGER auth_log_append_only");
	http_resp ok;
	login(port(), u, PW, "127.0.0.23", &ok);
	EXPECT_EQ(200, ok.status) << ok.dump();
}

/*
 * The account throttle counts failures per login text whatever the outcome,
 * so it does not tell a login that exists from one that does not: wrong
 * passwords for a real account and any password for an unknown login get
 * the same answers in the same order (each attempt from its own address,
 * far from the per-address limit).
 */
TEST_F(Server, KnownAndUnknownLoginsThrottleAlike)
{
	std::string u = person("mlt_known", "checker");
	auto answers = [&](const std::string &who, int net) {
		std::string seq;
		for (int i = 0; i < 5; i++) {
			http_resp r;
			login(port(), who, "not the password",
			      ("127.0." + std::to_string(net) + "." + std::to_string(i + 1))
				      .c_str(),
			      &r);
			seq += (seq.empty() ? "" : " ") + std::to_string(r.status);
		}
		return seq;
	};
	std::string known = answers(u, 41), unknown = answers("mlt_nosuch_person", 42);
	EXPECT_EQ("401 401 401 429 429", known);
	EXPECT_EQ(known, unknown);
	EXPECT_EQ("2", sql_value(ci(), "SELECT count(*) FROM auth_log WHERE login = "
				       "'mlt_nosuch_person' AND event = 'login_throttled'"));
}

TEST_F(Server, FailedLoginsThrottleTheAddressWhateverTheAccount)
{
	for (int i = 0; i < 8; i++) {
		http_resp r;
		login(port(), "mlt_guess" + std::to_string(i), PW, "127.0.0.31", &r);
		EXPECT_EQ(401, r.status) << r.dump();
	}
	http_resp t;
	login(port(), "mlt_tech", PW, "127.0.0.31", &t);
	EXPECT_EQ(429, t.status) << t.dump();
	/* The same account from another address still logs in. */
	http_resp o;
	login(port(), "mlt_tech", PW, "127.0.0.32", &o);
	EXPECT_EQ(200, o.status) << o.dump();
}

TEST_F(Server, ExpiredIdleRevokedAndDisabledSessionsAreRefused)
{
	std::string u = person("mlt_exp", "checker");
	test_session a = login(port(), u, PW, "127.0.0.41");
	test_session b = login(port(), u, PW, "127.0.0.41");
	test_session c = login(port(), u, PW, "127.0.0.41");
	ASSERT_FALSE(a.token.empty());
	ASSERT_EQ(200, http_do(port(), "GET", "/api/whoami", a.cookie()).status);
	/* Time moves (the test edits the clock columns as the DBA). */
	sql_exec(ci(), "UPDATE auth_session SET expires_at = now() - interval '1 second' WHERE "
		       "token_hash = decode('" +
			       token_hash_hex(a.token) + "', 'hex')");
	sql_exec(ci(), "UPDATE auth_session SET last_seen_at = now() - interval '11 minutes' WHERE "
		       "token_hash = decode('" +
			       token_hash_hex(b.token) + "', 'hex')");
	EXPECT_EQ(401, http_do(port(), "GET", "/api/whoami", a.cookie()).status);
	EXPECT_EQ(401, http_do(port(), "GET", "/api/whoami", b.cookie()).status);
	EXPECT_EQ(200, http_do(port(), "GET", "/api/whoami", c.cookie()).status);
	sql_exec(ci(), "SELECT ml_user_disable('" + u + "', 'test')");
	http_resp d = http_do(port(), "GET", "/api/whoami", c.cookie());
	EXPECT_EQ(401, d.status) << d.dump();
	/* A made-up or malformed token is no session either. */
	EXPECT_EQ(401, http_do(port(), "GET", "/api/whoami",
			       { "Cookie: ml_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" })
			       .status);
	EXPECT_EQ(401,
		  http_do(port(), "GET", "/api/whoami", { "Authorization: Bearer x'--" }).status);
}

TEST_F(Server, CookieChangesNeedTheCsrfTokenBearerTokensDoNot)
{
	test_session s = direct_session(ci(), "mlt_tech");
	std::string body =
		"{\"label\":\"csrf probe\",\"roles\":[\"lab_technician\"],\"ttl_days\":1}";
	std::string before = sql_value(ci(),
				       "SELECT count(*) FROM auth_session WHERE kind = 'api'");
	http_resp no = http_do(port(), "POST", "/api/tokens", s.cookie(), &body);
	EXPECT_EQ(403, no.status) << no.dump();
	EXPECT_EQ("csrf", no.str("error.code"));
	std::vector<std::string> wrong = s.cookie();
	wrong.push_back("X-CSRF-Token: " + std::string(43, 'A'));
	EXPECT_EQ(403, http_do(port(), "POST", "/api/tokens", wrong, &body).status);
	EXPECT_EQ(before, sql_value(ci(), "SELECT count(*) FROM auth_session WHERE kind = 'api'"));
	http_resp yes = http_do(port(), "POST", "/api/tokens", s.change(), &body);
	ASSERT_EQ(201, yes.status) << yes.dump();
	/* The new API token works as a bearer token, with its roles only, no CSRF needed. */
	std::string tok = yes.str("token");
	http_resp w = http_do(port(), "GET", "/api/whoami", { "Authorization: Bearer " + tok });
	ASSERT_EQ(200, w.status) << w.dump();
	EXPECT_EQ("api", w.str("session"));
	EXPECT_EQ("", w.str("csrf_token"));
	std::string empty = "{}";
	http_resp out = http_do(port(), "POST", "/api/logout", { "Authorization: Bearer " + tok },
				&empty);
	EXPECT_EQ(200, out.status) << out.dump();
	/* A form post (not JSON) is refused before anything happens. */
	std::string form = "label=x";
	http_resp f = http_do(
		port(), "POST", "/api/tokens",
		{ s.change()[0], s.change()[1], "Content-Type: application/x-www-form-urlencoded" },
		&form);
	EXPECT_EQ(415, f.status) << f.dump();
}

/* Every malformed request is a 400/404/405/413/415 in the one error shape, and changes nothing. */
TEST_F(Server, MalformedRequestsAreClearAndWriteNothing)
{
	test_session s = direct_session(ci(), "mlt_tech");
	auto count = [&] {
		return sql_value(ci(), "SELECT (SELECT count(*) FROM auth_session) + "
				       "(SELECT count(*) FROM auth_log)");
	};
	std::string before = count();
	struct {
		std::string body;
		int status;
		const char *code;
		const char *needle;
	} cases[] = {
		{ "{\"label\":\"x\",", 400, "bad_json", "not valid JSON" },
		{ "", 400, "bad_json", "not valid JSON" },
		{ "[1,2]", 400, "bad_json", "JSON object" },
		{ "{\"label\":\"a\",\"label\":\"b\",\"roles\":[],\"ttl_days\":1}", 400, "bad_json",
		  "duplicate" },
		{ "{\"label\":\"x\",\"roles\":[\"lab_technician\"],\"ttl_days\":\"30\"}", 400,
		  "wrong_type", "ttl_days" },
		{ "{\"label\":\"x\",\"roles\":\"lab_technician\",\"ttl_days\":30}", 400,
		  "wrong_type", "roles" },
		{ "{\"label\":\"x\",\"roles\":[\"lab_technician\"],\"ttl_days\":30,\"admin\":true}",
		  400, "unknown_field", "admin" },
		{ "{\"roles\":[\"lab_technician\"],\"ttl_days\":30}", 400, "missing_field",
		  "label" },
		{ "{\"label\":\"x\",\"roles\":[\"lab_technician\"],\"ttl_days\":3000}", 400,
		  "wrong_type", "ttl_days" },
		{ "{\"label\":\"x\\u0000y\",\"roles\":[\"lab_technician\"],\"ttl_days\":3}", 400,
		  "bad_json", "" },
		{ "{\"label\":\"bad\\u200bname\",\"roles\":[\"lab_technician\"],\"ttl_days\":3}",
		  422, "invalid_input", "token label" },
		{ "{\"label\":\"x\",\"roles\":[\"approver\"],\"ttl_days\":3}", 403, "forbidden",
		  "approver" },
	};
	for (const auto &c : cases) {
		http_resp r = http_do(port(), "POST", "/api/tokens", s.change(), &c.body);
		EXPECT_EQ(c.status, r.status) << c.body << " → " << r.dump();
		EXPECT_EQ(c.code, r.str("error.code")) << c.body;
		EXPECT_NE(std::string::npos, r.str("error.message").find(c.needle))
			<< c.body << " → " << r.str("error.message");
		EXPECT_TRUE(json_is_object(r.at("error.details"))) << r.dump();
	}
	/* Query strings and paths. */
	http_resp q1 = http_do(port(), "GET", "/api/assets?limit=ten", s.cookie());
	EXPECT_EQ(400, q1.status);
	EXPECT_EQ("wrong_type", q1.str("error.code"));
	http_resp q2 = http_do(port(), "GET", "/api/assets?state=a&state=b", s.cookie());
	EXPECT_EQ(400, q2.status);
	http_resp q3 = http_do(port(), "GET", "/api/assets?colour=red", s.cookie());
	EXPECT_EQ("unknown_parameter", q3.str("error.code"));
	http_resp q4 = http_do(port(), "GET", "/api/assets/4130001000000462000018%00/history",
			       s.cookie());
	EXPECT_EQ(400, q4.status) << q4.dump();
	http_resp q5 = http_do(port(), "GET", "/api/assets?state=%zz", s.cookie());
	EXPECT_EQ(400, q5.status) << q5.dump();
	std::string junk = "{}";
	http_resp q6 = http_do(port(), "GET", "/api/whoami", s.cookie(), &junk);
	EXPECT_EQ(400, q6.status);
	EXPECT_EQ("unexpected_body", q6.str("error.code"));
	/* Routes. */
	http_resp u = http_do(port(), "GET", "/api/nothing-here");
	EXPECT_EQ(404, u.status);
	EXPECT_EQ("unknown_route", u.str("error.code"));
	http_resp m = http_do(port(), "DELETE", "/api/tokens", s.cookie());
	EXPECT_EQ(405, m.status);
	EXPECT_EQ("method_not_allowed", m.str("error.code"));
	EXPECT_NE(std::string::npos, m.header("allow").find("POST")) << m.header("allow");
	/* A garbage request line is refused by the HTTP layer, and the server carries on. */
	http_resp g = http_raw(port(), "HELLO\r\n\r\n");
	EXPECT_TRUE(g.status == 400 || g.status == 0) << g.dump();
	EXPECT_EQ(200, http_do(port(), "GET", "/healthz").status);
	EXPECT_EQ(before, count());
}

TEST_F(Server, OversizedBodiesGet413AndNothingIsRead)
{
	test_session s = direct_session(ci(), "mlt_tech");
	std::string big(70000, 'x');
	big = "{\"label\":\"" + big + "\",\"roles\":[\"lab_technician\"],\"ttl_days\":1}";
	http_resp r = http_do(port(), "POST", "/api/tokens", s.change(), &big);
	EXPECT_EQ(413, r.status) << r.dump();
	EXPECT_EQ("payload_too_large", r.str("error.code"));
	/* Chunked: no length announced; counted while it arrives. */
	std::string req = "POST /api/tokens HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			  "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n" +
			  s.change()[0] + "\r\n" + s.change()[1] + "\r\n\r\n";
	for (int i = 0; i < 20; i++)
		req += "1000\r\n" + std::string(4096, 'y') + "\r\n";
	req += "0\r\n\r\n";
	http_resp c = http_raw(port(), req);
	EXPECT_EQ(413, c.status) << c.dump();
	EXPECT_EQ("payload_too_large", c.str("error.code"));
}

TEST_F(Server, AnIdempotentRetryAppliesTheChangeOnce)
{
	std::string u = person("mlt_idem", "checker");
	test_session s = direct_session(ci(), u);
	std::string body = "{\"label\":\"to revoke\",\"roles\":[\"checker\"],\"ttl_days\":1}";
	http_resp t = http_do(port(), "POST", "/api/tokens", s.change(), &body);
	ASSERT_EQ(201, t.status) << t.dump();
	std::string path = "/api/tokens/" + std::to_string(t.num("token_id")) + "/revoke";
	std::string why = "{\"reason\":\"scanner lost\"}";
	std::vector<std::string> h = s.change();
	h.push_back("Idempotency-Key: 6f1c2a9e-retry-0001");
	http_resp a = http_do(port(), "POST", path, h, &why);
	ASSERT_EQ(200, a.status) << a.dump();
	EXPECT_EQ("", a.header("idempotent-replayed"));
	http_resp b = http_do(port(), "POST", path, h, &why);
	EXPECT_EQ(200, b.status) << b.dump();
	EXPECT_EQ("true", b.header("idempotent-replayed"));
	EXPECT_EQ(a.body, b.body);
	EXPECT_EQ("1",
		  sql_value(ci(), "SELECT count(*) FROM auth_log WHERE event = 'token_revoked' "
				  "AND login = '" +
					  u + "'"));
	/* The same key with another request is refused; without a key the change is not repeated. */
	std::string other = "{\"reason\":\"another reason\"}";
	http_resp c = http_do(port(), "POST", path, h, &other);
	EXPECT_EQ(422, c.status) << c.dump();
	EXPECT_EQ("idempotency_key_reused", c.str("error.code"));
	http_resp d = http_do(port(), "POST", path, s.change(), &why);
	EXPECT_EQ(409, d.status) << d.dump();
	EXPECT_EQ("state", d.str("error.code"));
	/* Keys are per user: another user's identical key is another request. */
	/* A route that cannot be replayed refuses a key rather than ignoring it. */
	std::vector<std::string> h2 = s.change();
	h2.push_back("Idempotency-Key: 6f1c2a9e-retry-0002");
	http_resp e = http_do(port(), "POST", "/api/tokens", h2, &body);
	EXPECT_EQ(400, e.status);
	EXPECT_EQ("idempotency_not_supported", e.str("error.code"));
}

TEST_F(Server, TwoRetriesAtOnceApplyTheChangeOnce)
{
	std::string u = person("mlt_idem2", "checker");
	test_session s = direct_session(ci(), u);
	std::string body = "{\"label\":\"raced\",\"roles\":[\"checker\"],\"ttl_days\":1}";
	for (int round = 0; round < 5; round++) {
		http_resp t = http_do(port(), "POST", "/api/tokens", s.change(), &body);
		ASSERT_EQ(201, t.status) << t.dump();
		std::string path = "/api/tokens/" + std::to_string(t.num("token_id")) + "/revoke";
		std::string why = "{\"reason\":\"raced\"}";
		std::vector<std::string> h = s.change();
		h.push_back("Idempotency-Key: race-key-" + std::to_string(round) + "-abcdef");
		http_resp r[4];
		std::vector<std::thread> th;
		for (int i = 0; i < 4; i++)
			th.emplace_back([&, i] { r[i] = http_do(port(), "POST", path, h, &why); });
		for (auto &x : th)
			x.join();
		int replayed = 0;
		for (auto &x : r) {
			EXPECT_EQ(200, x.status) << x.dump();
			replayed += x.header("idempotent-replayed") == "true";
		}
		EXPECT_EQ(3, replayed);
	}
	EXPECT_EQ("5",
		  sql_value(ci(), "SELECT count(*) FROM auth_log WHERE event = 'token_revoked' "
				  "AND login = '" +
					  u + "'"));
}

TEST_F(Server, PasswordChangeChecksTheOldOneAndEndsTheOtherSessions)
{
	std::string u = person("mlt_pw", "checker");
	test_session other = login(port(), u, PW, "127.0.0.51");
	test_session me = login(port(), u, PW, "127.0.0.51");
	ASSERT_FALSE(other.token.empty());
	std::string wrong =
		"{\"old_password\":\"not it at all\",\"new_password\":\"a brand new one\"}";
	http_resp w = http_do(port(), "POST", "/api/password", me.change(), &wrong);
	EXPECT_EQ(403, w.status) << w.dump();
	EXPECT_EQ("bad_credentials", w.str("error.code"));
	std::string weak = std::string("{\"old_password\":\"") + PW +
			   "\",\"new_password\":\"short\"}";
	http_resp k = http_do(port(), "POST", "/api/password", me.change(), &weak);
	EXPECT_EQ(422, k.status) << k.dump();
	std::string good = std::string("{\"old_password\":\"") + PW +
			   "\",\"new_password\":\"a brand new one\"}";
	http_resp g = http_do(port(), "POST", "/api/password", me.change(), &good);
	ASSERT_EQ(200, g.status) << g.dump();
	EXPECT_EQ(1, g.num("sessions_ended"));
	EXPECT_EQ(401, http_do(port(), "GET", "/api/whoami", other.cookie()).status);
	EXPECT_EQ(200, http_do(port(), "GET", "/api/whoami", me.cookie()).status);
	http_resp o;
	login(port(), u, PW, "127.0.0.52", &o);
	EXPECT_EQ(401, o.status);
	http_resp n;
	login(port(), u, "a brand new one", "127.0.0.52", &n);
	EXPECT_EQ(200, n.status) << n.dump();
	/* An API token cannot change the password of the person it stands for. */
	test_session api = direct_session(ci(), u, "api", "{checker}");
	std::string again =
		"{\"old_password\":\"a brand new one\",\"new_password\":\"and another one\"}";
	http_resp t = http_do(port(), "POST", "/api/password",
			      { "Authorization: Bearer " + api.token }, &again);
	EXPECT_EQ(403, t.status) << t.dump();
	EXPECT_EQ("browser_session_required", t.str("error.code"));
}

TEST_F(Server, CliTokensAreScopedToRolesAndRevocable)
{
	std::string u = person("mlt_cli", "checker,lab_technician");
	std::string ci_u = pgtest_as(ci(), u.c_str());
	std::string out;
	int rc = pgtest_run(
		pgtest_cli() + " --db " + pgtest_sq(ci_u) +
			" --json user token create --label scanner --role checker --days 2",
		&out);
	ASSERT_EQ(0, rc) << out;
	json_error_t je;
	json_t *j = json_loads(out.c_str(), 0, &je);
	ASSERT_NE(nullptr, j) << out;
	std::string tok = json_string_value(json_object_get(j, "token"));
	long long id = json_integer_value(json_object_get(j, "token_id"));
	json_decref(j);
	http_resp w = http_do(port(), "GET", "/api/whoami", { "Authorization: Bearer " + tok });
	ASSERT_EQ(200, w.status) << w.dump();
	EXPECT_EQ(1u, json_array_size(w.at("roles")));
	EXPECT_STREQ("checker", json_string_value(json_array_get(w.at("roles"), 0)));
	/* It cannot be wider than the person. */
	rc = pgtest_run(pgtest_cli() + " --db " + pgtest_sq(ci_u) +
				" user token create --label x --role approver",
			&out, true);
	EXPECT_EQ(9, rc) << out;
	rc = pgtest_run(pgtest_cli() + " --db " + pgtest_sq(ci_u) + " user token revoke " +
				std::to_string(id) + " --reason 'scanner lost'",
			&out, true);
	EXPECT_EQ(0, rc) << out;
	EXPECT_EQ(401,
		  http_do(port(), "GET", "/api/whoami", { "Authorization: Bearer " + tok }).status);
	/* Passwords from the command line: the person's own, and refusals. */
	rc = pgtest_run("echo 'my own new password' | " + pgtest_cli() + " --db " +
				pgtest_sq(ci_u) + " user password",
			&out, true);
	EXPECT_EQ(0, rc) << out;
	http_resp l;
	login(port(), u, "my own new password", "127.0.0.61", &l);
	EXPECT_EQ(200, l.status) << l.dump();
	rc = pgtest_run("echo 'somebody elses password' | " + pgtest_cli() + " --db " +
				pgtest_sq(ci_u) + " user password mlt_tech",
			&out, true);
	EXPECT_EQ(9, rc) << out;
}

TEST_F(Server, AssetsByBarcodeListAndHistory)
{
	struct db *db = pgtest_connect(pgtest_as(ci(), "mlt_admin"));
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_NO_FATAL_FAILURE(add_meter_model(db, "SRV", "SRV-M"));
	db_close(db);
	db = pgtest_connect(pgtest_as(ci(), "mlt_clerk"));
	std::string csv = "barcode,model_code,production_batch,production_date\n";
	std::string bcv[3] = { pgtest_barcode(901), pgtest_barcode(902), pgtest_barcode(903) };
	const char *bcs[] = { bcv[0].c_str(), bcv[1].c_str(), bcv[2].c_str() };
	for (const char *bc : bcs)
		csv += std::string(bc) + ",SRV-M,B1,2026-01-05\n";
	struct asset_receive_opts o = {};
	o.lot_code = "SRV-LOT";
	struct asset_import_report rep = {};
	ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	db_close(db);
	test_session s = direct_session(ci(), "mlt_clerk");
	http_resp a = http_do(port(), "GET", std::string("/api/assets/") + bcs[1], s.cookie());
	ASSERT_EQ(200, a.status) << a.dump();
	EXPECT_EQ("arrived", a.str("state"));
	EXPECT_EQ("SRV-M", a.str("model"));
	EXPECT_EQ(json_null(), a.at("valid_until"));
	http_resp nf = http_do(port(), "GET", "/api/assets/" + pgtest_barcode(904), s.cookie());
	EXPECT_EQ(404, nf.status);
	EXPECT_EQ("not_found", nf.str("error.code"));
	http_resp bad = http_do(port(), "GET", "/api/assets/41300010000000000000", s.cookie());
	EXPECT_EQ(422, bad.status);
	EXPECT_NE(std::string::npos, bad.str("error.message").find("41300010000000000000"));
	/* Keyset paging: two, then the rest. */
	http_resp p1 = http_do(port(), "GET", "/api/assets?lot=SRV-LOT&limit=2", s.cookie());
	ASSERT_EQ(200, p1.status) << p1.dump();
	ASSERT_EQ(2u, json_array_size(p1.at("items")));
	long long next = p1.num("next_after");
	ASSERT_GT(next, 0);
	http_resp p2 = http_do(port(), "GET",
			       "/api/assets?lot=SRV-LOT&limit=2&after=" + std::to_string(next),
			       s.cookie());
	ASSERT_EQ(1u, json_array_size(p2.at("items")));
	EXPECT_TRUE(json_is_null(p2.at("next_after")));
	EXPECT_STREQ(bcs[2], json_string_value(json_object_get(json_array_get(p2.at("items"), 0),
							       "barcode")));
	http_resp st = http_do(port(), "GET", "/api/assets?state=flying", s.cookie());
	EXPECT_EQ(422, st.status) << st.dump();
	http_resp h = http_do(port(), "GET", std::string("/api/assets/") + bcs[0] + "/history",
			      s.cookie());
	ASSERT_EQ(200, h.status) << h.dump();
	ASSERT_EQ(1u, json_array_size(h.at("items")));
	EXPECT_STREQ("receive", json_string_value(json_object_get(json_array_get(h.at("items"), 0),
								  "action")));
}

/*
 * GET /api/assets/{barcode} proves the session and reads the asset in one
 * round trip (RF_ONE_STMT, 0340): attacked with every dead session, a
 * person without asset.read, and a malformed barcode (which must not answer
 * 422 before the session is proved); the connections stay clean for the
 * next request, and the access log names the person.
 */
TEST_F(Server, AOneRoundTripLookupAnswersOnlyALiveSessionWithThePermission)
{
	struct db *db = pgtest_connect(pgtest_as(ci(), "mlt_admin"));
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_NO_FATAL_FAILURE(add_meter_model(db, "ORT", "ORT-M"));
	db_close(db);
	db = pgtest_connect(pgtest_as(ci(), "mlt_clerk"));
	std::string bc = pgtest_barcode(931);
	std::string csv = "barcode,model_code,production_batch,production_date\n" + bc +
			  ",ORT-M,B1,2026-01-05\n";
	struct asset_receive_opts o = {};
	o.lot_code = "ORT-LOT";
	struct asset_import_report rep = {};
	ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	db_close(db);
	std::string u = person("mlt_ort", "checker");
	std::string gone = person("mlt_ortgone", "checker");
	test_session live = direct_session(ci(), u, "api");
	test_session exp = direct_session(ci(), u, "api");
	test_session rev = direct_session(ci(), u, "api");
	test_session dis = direct_session(ci(), gone, "api");
	/* scoped to a role the person does not hold: no role in effect, so no asset.read */
	test_session norole = direct_session(ci(), u, "api", "{admin}");
	auto bearer = [](const test_session &t) {
		return std::vector<std::string>{ "Authorization: Bearer " + t.token };
	};
	sql_exec(ci(), "UPDATE auth_session SET expires_at = now() - interval '1 second' WHERE "
		       "token_hash = decode('" +
			       token_hash_hex(exp.token) + "', 'hex')");
	sql_exec(ci(), "UPDATE auth_session SET revoked_at = now() WHERE token_hash = decode('" +
			       token_hash_hex(rev.token) + "', 'hex')");
	const std::string path = "/api/assets/" + bc;
	for (int round = 0; round < 3; round++) { /* every pool connection sees each case */
		http_resp ok = http_do(port(), "GET", path, bearer(live));
		ASSERT_EQ(200, ok.status) << ok.dump();
		EXPECT_EQ(bc, ok.str("barcode"));
		for (const test_session *dead : { &exp, &rev }) {
			http_resp r = http_do(port(), "GET", path, bearer(*dead));
			EXPECT_EQ(401, r.status) << r.dump();
			EXPECT_EQ("unauthenticated", r.str("error.code"));
			EXPECT_EQ(std::string::npos, r.body.find("ORT-M")) << r.body;
			/* a malformed barcode is not judged before the session is proved */
			http_resp m = http_do(port(), "GET", "/api/assets/41300010000000000000",
					      bearer(*dead));
			EXPECT_EQ(401, m.status) << m.dump();
		}
		http_resp made_up = http_do(
			port(), "GET", path,
			{ "Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
		EXPECT_EQ(401, made_up.status) << made_up.dump();
		/* a live session without asset.read: 403 with ml_require's message */
		http_resp nr = http_do(port(), "GET", path, bearer(norole));
		EXPECT_EQ(403, nr.status) << nr.dump();
		EXPECT_NE(std::string::npos, nr.str("error.message").find("asset.read"))
			<< nr.dump();
		EXPECT_EQ(std::string::npos, nr.body.find("ORT-M")) << nr.body;
		http_resp nrm = http_do(port(), "GET", "/api/assets/41300010000000000000",
					bearer(norole));
		EXPECT_EQ(403, nrm.status) << nrm.dump();
		/* the lookup's own errors once the session is proved */
		http_resp nf = http_do(port(), "GET", "/api/assets/" + pgtest_barcode(932),
				       bearer(live));
		EXPECT_EQ(404, nf.status) << nf.dump();
		http_resp bad = http_do(port(), "GET", "/api/assets/41300010000000000000",
					bearer(live));
		EXPECT_EQ(422, bad.status) << bad.dump();
	}
	/* A person disabled after the session was made. */
	http_resp before = http_do(port(), "GET", path, bearer(dis));
	EXPECT_EQ(200, before.status) << before.dump();
	sql_exec(ci(), "SELECT ml_user_disable('" + gone + "', 'test')");
	http_resp after = http_do(port(), "GET", path, bearer(dis));
	EXPECT_EQ(401, after.status) << after.dump();
	/* The access log names the person of a one-round-trip lookup. */
	const std::string logged = "\"route\":\"/api/assets/{barcode}\",\"status\":200";
	std::string log;
	for (int i = 0; i < 100; i++) {
		log = test_server::file(srv_->log);
		if (log.find(logged) != std::string::npos &&
		    log.find("\"user\":\"" + u + "\"") != std::string::npos)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	EXPECT_NE(std::string::npos, log.find("\"user\":\"" + u + "\"")) << log.substr(0, 800);
}

/*
 * Verification schemes over the API (the calls of `meterlab scheme
 * import|activate|retire`): a technician saves (scheme.edit), an approver
 * activates and retires (scheme.activate), each refused to the other; a
 * revision is the next version and stays inactive; a step looser than the
 * regulation is refused naming the step and writes nothing; the person
 * who saved is recorded.
 */
TEST_F(Server, SchemesAreSavedRevisedActivatedAndRetiredOverTheApi)
{
	test_session tech = direct_session(ci(), "mlt_tech");
	test_session appr = direct_session(ci(), "mlt_approver");
	const std::string head = "scheme code=API-1P name=\"API scheme\"\n"
				 "suits kinds=meter_1p classes=1 connection=direct\n";
	auto body = [](const std::string &text) {
		json_t *o = json_pack("{s:s}", "text", text.c_str());
		char *d = json_dumps(o, JSON_COMPACT);
		std::string b = d;
		free(d);
		json_decref(o);
		return b;
	};
	std::string b1 = body(head + "basic I=Ib pf=1.0 element=H\n");
	http_resp r = http_do(port(), "POST", "/api/schemes", appr.change(), &b1);
	EXPECT_EQ(403, r.status) << r.dump(); /* an approver does not edit schemes */
	r = http_do(port(), "POST", "/api/schemes", tech.change(), &b1);
	ASSERT_EQ(201, r.status) << r.dump();
	EXPECT_EQ("API-1P", r.str("code"));
	EXPECT_EQ(1, r.num("version"));
	EXPECT_EQ("mlt_tech", sql_value(ci(), "SELECT u.login FROM scheme s JOIN app_user u ON "
					      "u.user_id = s.created_by_id WHERE s.code = 'API-1P' "
					      "AND s.version = 1"));
	/* inactive until activated: not shown as the scheme runs use */
	EXPECT_EQ(404, http_do(port(), "GET", "/api/schemes/API-1P", tech.cookie()).status);
	std::string none = "{}";
	r = http_do(port(), "POST", "/api/schemes/API-1P/activate", tech.change(), &none);
	EXPECT_EQ(403, r.status) << r.dump(); /* a technician does not activate */
	r = http_do(port(), "POST", "/api/schemes/API-1P/activate", appr.change(), &none);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_EQ(1, r.num("active_version"));
	/* a revision: version 2, inactive; version 1 stays the one runs use */
	std::string b2 = body(head +
			      "basic I=Ib pf=1.0 element=H\nbasic I=Imax pf=1.0 element=H\n");
	r = http_do(port(), "POST", "/api/schemes", tech.change(), &b2);
	ASSERT_EQ(201, r.status) << r.dump();
	EXPECT_EQ(2, r.num("version"));
	EXPECT_EQ(2, r.num("steps"));
	http_resp g = http_do(port(), "GET", "/api/schemes/API-1P", tech.cookie());
	ASSERT_EQ(200, g.status) << g.dump();
	EXPECT_EQ(1, g.num("version"));
	EXPECT_NE(std::string::npos, g.str("text").find("basic")) << g.dump();
	http_resp g2 = http_do(port(), "GET", "/api/schemes/API-1P?version=2", tech.cookie());
	EXPECT_EQ(2, g2.num("steps")) << g2.dump();
	http_resp l = http_do(port(), "GET", "/api/schemes", tech.cookie());
	ASSERT_EQ(200, l.status) << l.dump();
	EXPECT_NE(std::string::npos,
		  l.body.find("\"code\":\"API-1P\",\"version\":2,\"active_version\":1"))
		<< l.body;
	/* looser than the regulation: refused naming the step, nothing written */
	std::string loose = body(head + "basic I=Ib pf=1.0 element=H limit=50\n");
	r = http_do(port(), "POST", "/api/schemes", tech.change(), &loose);
	EXPECT_EQ(422, r.status) << r.dump();
	EXPECT_NE(std::string::npos, r.str("error.message").find("limit=50% is wider")) << r.dump();
	std::string bad = body("not a scheme");
	EXPECT_EQ(422, http_do(port(), "POST", "/api/schemes", tech.change(), &bad).status);
	EXPECT_EQ("2", sql_value(ci(), "SELECT max(version) FROM scheme WHERE code = 'API-1P'"));
	/* activate the revision, then retire: no version for new runs */
	std::string v2 = "{\"version\":2}";
	r = http_do(port(), "POST", "/api/schemes/API-1P/activate", appr.change(), &v2);
	EXPECT_EQ(2, r.num("active_version")) << r.dump();
	r = http_do(port(), "POST", "/api/schemes/API-1P/retire", tech.change(), &none);
	EXPECT_EQ(403, r.status) << r.dump();
	r = http_do(port(), "POST", "/api/schemes/API-1P/retire", appr.change(), &none);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_EQ(404, http_do(port(), "GET", "/api/schemes/API-1P", tech.cookie()).status);
	EXPECT_EQ(
		404,
		http_do(port(), "POST", "/api/schemes/API-1P/retire", appr.change(), &none).status);
}

/* Run progress: a change to a run's status or a completed step reaches an open stream. */
TEST_F(Server, RunProgressArrivesAsServerSentEvents)
{
	struct db *db = pgtest_connect(ci());
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK,
		  db_query_one(
			  db,
			  "WITH m AS (INSERT INTO manufacturer (code, name) VALUES ('SSE', 's') "
			  "RETURNING manufacturer_id), dm AS (INSERT INTO device_model (code, "
			  "manufacturer_id, name, kind, accuracy_class, connection, wiring, un_v, "
			  "ib_a, imax_a, constant_imp, verification_period_months) SELECT "
			  "'SSE-M', manufacturer_id, 'm', 'meter_1p', '1', 'direct', '1p2w', 220, "
			  "5, 60, 1200, 96 FROM m RETURNING model_id), b AS (INSERT INTO "
			  "lab_bench (code, name, uri, kind, positions) VALUES ('SSE-B', 'b', "
			  "'manual', 'meter-1p', 4) RETURNING bench_id) INSERT INTO "
			  "verification_run (bench_id, model_id, scheme_code, scheme_version, "
			  "scheme_text, mode, steps_total, operator) SELECT bench_id, model_id, "
			  "'S', 1, 's', 'manual', 3, 'x' FROM b, dm RETURNING run_id",
			  0, nullptr, &res, &err))
		<< err.msg;
	std::string run = PQgetvalue(res, 0, 0);
	PQclear(res);
	test_session s = direct_session(ci(), "mlt_tech");
	int fd = http_connect(port());
	ASSERT_GE(fd, 0);
	ASSERT_TRUE(
		http_send_all(fd, http_build("GET", "/api/runs/" + run + "/events", s.cookie())));
	http_resp r = http_read(fd, 5000);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_NE(std::string::npos, r.header("content-type").find("text/event-stream"));
	auto read_until = [&](const std::string &needle, int ms) {
		std::string got = r.body;
		auto t0 = std::chrono::steady_clock::now();
		while (got.find(needle) == std::string::npos &&
		       std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(ms)) {
			struct pollfd pf = { fd, POLLIN, 0 };
			if (poll(&pf, 1, 100) > 0) {
				char b[4096];
				ssize_t n = recv(fd, b, sizeof(b), 0);
				if (n <= 0)
					break;
				got.append(b, (size_t)n);
			}
		}
		r.body = got;
		return got.find(needle) != std::string::npos;
	};
	EXPECT_TRUE(read_until("\"event\":\"snapshot\"", 3000)) << r.body;
	EXPECT_TRUE(read_until(": ping", 3000)) << r.body; /* heartbeat every second */
	ASSERT_EQ(ML_OK,
		  db_cmd(db,
			 ("UPDATE verification_run SET status = 'running' WHERE run_id = " + run)
				 .c_str(),
			 0, nullptr, &err))
		<< err.msg;
	EXPECT_TRUE(read_until("\"status\":\"running\"", 5000)) << r.body;
	ASSERT_EQ(ML_OK, db_cmd(db,
				("INSERT INTO run_step (run_id, step_no, kind, label, started_at) "
				 "VALUES (" +
				 run + ", 0, 'creep', '潜动', now())")
					.c_str(),
				0, nullptr, &err))
		<< err.msg;
	EXPECT_TRUE(read_until("\"event\":\"step\"", 5000)) << r.body;
	/* What rolls back is never announced. */
	ASSERT_EQ(ML_OK, db_begin(db, &err));
	ASSERT_EQ(ML_OK,
		  db_cmd(db,
			 ("UPDATE verification_run SET status = 'aborted' WHERE run_id = " + run)
				 .c_str(),
			 0, nullptr, &err));
	db_rollback(db);
	EXPECT_FALSE(read_until("\"status\":\"aborted\"", 1500)) << r.body;
	close(fd);
	db_close(db);
	/* A stream needs lab.read like the run itself: a clerk is refused. */
	test_session c = direct_session(ci(), "mlt_clerk");
	http_resp no = http_do(port(), "GET", "/api/runs/" + run + "/events", c.cookie());
	EXPECT_EQ(403, no.status) << no.dump();
}

TEST_F(Server, PublicVerificationAnswersUnknownAndIsRateLimited)
{
	http_resp j = http_raw(port(),
			       http_build("GET", "/verify/JL2026-999999?code=ABCD-EFGH", {}),
			       "127.0.0.71");
	ASSERT_EQ(200, j.status) << j.dump();
	EXPECT_EQ("unknown", j.str("status"));
	http_resp h = http_raw(port(),
			       http_build("GET", "/verify/JL2026-999999?code=%3Cscript%3E",
					  { "Accept: text/html" }),
			       "127.0.0.71");
	ASSERT_EQ(200, h.status);
	EXPECT_NE(std::string::npos, h.header("content-type").find("text/html"));
	EXPECT_NE(std::string::npos, h.body.find("查无此证书"));
	EXPECT_EQ(std::string::npos, h.body.find("<script>"));
	int limited = 0;
	for (int i = 0; i < 8; i++) {
		http_resp r = http_raw(
			port(),
			http_build("GET", "/verify/JL2026-999999?code=AAAA-AAA" + std::to_string(i),
				   {}),
			"127.0.0.71");
		if (r.status == 429) {
			limited++;
			EXPECT_GT(atoi(r.header("retry-after").c_str()), 0);
		}
	}
	EXPECT_GE(limited, 3);
	/* Another address is not limited by this one. */
	EXPECT_EQ(
		200,
		http_raw(port(), http_build("GET", "/verify/X1?code=A", {}), "127.0.0.72").status);
}

/*
 * A paper certificate checked by its number and code, the way its QR code
 * asks: genuine and current; superseded by a revision; withdrawn; and a
 * wrong code or barcode is "unknown" (nothing about the number leaks).
 */
TEST_F(Server, PublicVerificationTellsCurrentSupersededAndWithdrawn)
{
	struct db *db = pgtest_connect(ci());
	struct ml_error err = ML_ERROR_INIT;
	/* A finished run of two meters (the second fails), drafted, checked and
	 * issued by the technician, the checker and the approver. */
	wf_script(ci(), "tests/data/reports/make_run.sql");
	wf_people p(ci());
	const char *iss = wf_issuer(db, "SV");
	std::vector<long long> ab = wf_issue_run(p, wf_run(db, "sv", 2, 1), iss);
	ASSERT_EQ(2u, ab.size());
	long long a = ab[0], b = ab[1];
	struct cert_record ra, rb;
	ASSERT_EQ(ML_OK, cert_get(db, a, &ra, &err)) << err.msg;
	ASSERT_EQ(ML_OK, cert_get(db, b, &rb, &err)) << err.msg;
	const std::string bc_a = ra.barcode, bc_b = rb.barcode;
	int src = 80;
	auto verify = [&](const std::string &q, std::vector<std::string> h = {}) {
		std::string from = "127.0.0." + std::to_string(src++);
		return http_raw(port(), http_build("GET", "/verify/" + q, h), from.c_str());
	};
	std::string code_a = ra.verify_code;
	http_resp cur = verify(std::string(ra.cert_no) + "?code=" + code_a);
	ASSERT_EQ(200, cur.status) << cur.dump();
	EXPECT_EQ("current", cur.str("status"));
	EXPECT_EQ("certificate", cur.str("kind"));
	EXPECT_EQ("合格", cur.str("conclusion"));
	EXPECT_EQ(bc_a, cur.str("barcode"));
	EXPECT_EQ(0, cur.num("revision"));
	/* Read leniently as printed (lower case, no dash), with the barcode too. */
	std::string lenient = code_a;
	lenient.erase(std::remove(lenient.begin(), lenient.end(), '-'), lenient.end());
	for (auto &ch : lenient)
		ch = (char)tolower(ch);
	EXPECT_EQ("current",
		  verify(std::string(ra.cert_no) + "?code=" + lenient + "&barcode=" + bc_a)
			  .str("status"));
	/* A wrong code, or the right code with another barcode: nothing to confirm. */
	http_resp bad = verify(std::string(ra.cert_no) + "?code=AAAA-AAAA");
	EXPECT_EQ("unknown", bad.str("status"));
	EXPECT_EQ("", bad.str("conclusion"));
	EXPECT_EQ("unknown",
		  verify(std::string(ra.cert_no) + "?code=" + code_a + "&barcode=" + bc_b)
			  .str("status"));
	/* The page a phone shows. */
	http_resp page = verify(std::string(ra.cert_no) + "?code=" + code_a,
				{ "Accept: text/html" });
	EXPECT_NE(std::string::npos, page.body.find("证书真实有效")) << page.body;
	EXPECT_NE(std::string::npos, page.body.find(ra.cert_no));
	EXPECT_NE(std::string::npos,
		  page.header("content-security-policy").find("default-src 'none'"));
	/* A revision supersedes the original; the original's code still tells so. */
	struct cert_override ov[] = { { "client", "示范市供电公司（更正）" } };
	long long rev = 0;
	ASSERT_EQ(ML_OK, cert_revise(p.approver, a, "客户名称有误", ov, 1, &rev, &err)) << err.msg;
	ASSERT_EQ(ML_OK, cert_check(p.checker, &rev, 1, &err)) << err.msg;
	/* the reviser drafted the revision (its verifier is the run's operator,
	 * 0366): another approver issues it */
	struct db *ap2 = pgtest_connect(pgtest_user(ci(), "mlt_sv_ap2", "孙批准", "approver"));
	ASSERT_EQ(ML_OK, wf_approve(ap2, { rev }, &err)) << err.msg;
	db_close(ap2);
	struct cert_record rr;
	ASSERT_EQ(ML_OK, cert_get(db, rev, &rr, &err)) << err.msg;
	http_resp sup = verify(std::string(ra.cert_no) + "?code=" + code_a);
	EXPECT_EQ("superseded", sup.str("status")) << sup.dump();
	EXPECT_EQ(1, sup.num("superseded_by_revision"));
	http_resp now = verify(std::string(ra.cert_no) + "?rev=1&code=" + rr.verify_code);
	EXPECT_EQ("current", now.str("status")) << now.dump();
	EXPECT_EQ(1, now.num("revision"));
	/* Withdrawn (作废): genuine paper, not valid. */
	ASSERT_EQ(ML_OK, cert_withdraw(p.approver, b, "issued for the wrong asset", &err))
		<< err.msg;
	http_resp w = verify(std::string(rb.cert_no) + "?code=" + rb.verify_code);
	EXPECT_EQ("withdrawn", w.str("status")) << w.dump();
	EXPECT_EQ("result_notice", w.str("kind"));
	EXPECT_NE("", w.str("withdrawn_at"));
	db_close(db);
}

/* The QR code on the paper opens the public verification page (0251): with the
 * issuer's public base URL set, the code printed on an issued certificate scans
 * (pdftoppm + zbarimg, as a phone's camera would) to BASE/verify/NUMBER?code=…,
 * and that URL, fetched from this server, says the certificate is genuine. The
 * base URL is the issuer's data: checked in form, not writable by the lab. */
TEST_F(Server, TheQrCodeOpensThePublicVerificationPage)
{
	struct db *db = pgtest_connect(ci());
	struct ml_error err = ML_ERROR_INIT;
	wf_script(ci(), "tests/data/reports/make_run.sql");
	wf_people p(ci());
	const char *iss = wf_issuer(db, "QU");
	const std::string base = "http://127.0.0.1:" + std::to_string(port());
	const char *up[2] = { iss, nullptr };
	for (const char *bad :
	     { "javascript:alert(1)", "http://x.cn/", "http://x.cn/a?b=1", "https://x.cn/a b" }) {
		up[1] = bad;
		EXPECT_EQ(ML_EINVAL,
			  db_cmd(db, "UPDATE issuer SET public_base_url = $2 WHERE id = $1", 2, up,
				 &err))
			<< bad;
	}
	up[1] = base.c_str();
	ASSERT_EQ(ML_OK,
		  db_cmd(db, "UPDATE issuer SET public_base_url = $2 WHERE id = $1", 2, up, &err))
		<< err.msg;
	/* The lab cannot point the QR codes elsewhere. */
	EXPECT_EQ(ML_EPERM,
		  db_cmd(p.approver, "UPDATE issuer SET public_base_url = $2 WHERE id = $1", 2, up,
			 &err));

	std::vector<long long> ids = wf_issue_run(p, wf_run(db, "qu", 1, 0), iss);
	ASSERT_EQ(1u, ids.size());
	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(db, ids[0], &r, &err)) << err.msg;
	struct ml_buf pdf;
	ml_buf_init(&pdf, (size_t)16 << 20);
	char sha[65];
	ASSERT_EQ(ML_OK, cert_pdf_get(db, ids[0], &pdf, sha, &err)) << err.msg;
	char dir[] = "/tmp/meterlab-qr.XXXXXX";
	ASSERT_NE(nullptr, mkdtemp(dir));
	std::string f = std::string(dir) + "/cert.pdf";
	FILE *fp = fopen(f.c_str(), "wb");
	ASSERT_NE(nullptr, fp);
	ASSERT_EQ(pdf.len, fwrite(pdf.data, 1, pdf.len, fp));
	fclose(fp);
	ml_buf_free(&pdf);
	std::string out;
	int st = pgtest_run("pdftoppm -png -r 150 -f 1 -l 1 -singlefile " + pgtest_sq(f) + " " +
				    pgtest_sq(std::string(dir) + "/p1") + " 2>&1",
			    &out, false);
	ASSERT_EQ(0, st) << out;
	st = pgtest_run("zbarimg -q " + pgtest_sq(std::string(dir) + "/p1.png") + " 2>/dev/null",
			&out, false);
	pgtest_run("rm -rf " + pgtest_sq(dir), nullptr, false);
	EXPECT_EQ(0, st) << out;
	const std::string want = base + "/verify/" + r.cert_no + "?code=" + r.verify_code;
	EXPECT_NE(std::string::npos, out.find("QR-Code:" + want + "\n")) << out;

	/* `meterlab cert verify --qr` reads the URL as it reads the MLCERT1 claim. */
	struct cert_claim cl;
	ASSERT_EQ(ML_OK, cert_qr_parse(want.c_str(), want.size(), &cl, &err)) << err.msg;
	struct cert_verify_result v;
	ASSERT_EQ(ML_OK, cert_verify_claim(db, &cl, &v, &err)) << err.msg;
	EXPECT_EQ(CERT_VERIFY_CURRENT, v.status);

	/* What the phone gets at that address: the page, and the JSON. */
	const std::string path = want.substr(base.size());
	http_resp page = http_raw(port(), http_build("GET", path, { "Accept: text/html" }),
				  "127.0.0.90");
	ASSERT_EQ(200, page.status) << page.body;
	EXPECT_NE(std::string::npos, page.body.find("证书真实有效")) << page.body;
	EXPECT_NE(std::string::npos, page.body.find(r.cert_no));
	http_resp js = http_raw(port(), http_build("GET", path), "127.0.0.91");
	EXPECT_EQ("current", js.str("status")) << js.dump();
	EXPECT_EQ(std::string(r.barcode), js.str("barcode"));
	db_close(db);
}

} // namespace

/* The field over the API (issue 11 through issue 12): an install retried with
 * its Idempotency-Key is applied once; two members installing at one point at
 * the same moment: exactly one wins, the other gets 409; what the database
 * records is the person of the session. */
TEST_F(Server, FieldInstallOverTheApiIsOnceAndOneWinsAPoint)
{
	std::string admin = pgtest_user(ci(), "mlt_fadmin", "管理员", "admin,warehouse_clerk");
	{
		struct db *db = pgtest_connect(admin);
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_NO_FATAL_FAILURE(add_meter_model(db, "FHX", "FM1"));
		ASSERT_EQ(ML_OK,
			  asset_location_add(db, "FSITE", "site", "customer_site", nullptr, &err))
			<< err.msg;
		ASSERT_EQ(ML_OK,
			  asset_location_add(db, "FTEAM", "team", "field_team", nullptr, &err))
			<< err.msg;
		std::string csv = "barcode,model_code,production_batch,production_date\n";
		for (long i = 0; i < 3; i++)
			csv += pgtest_barcode(880000 + i) + ",FM1,B1,2026-09-14\n";
		struct asset_receive_opts o = {};
		o.lot_code = "FLOT-1";
		struct asset_import_report rep;
		ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err))
			<< err.msg;
		asset_import_report_free(&rep);
		const char *p[4] = { "{FP1}", "{3309000001}", "{杭州市上城区1号}", "{FSITE}" };
		ASSERT_EQ(ML_OK,
			  db_cmd(db,
				 "SELECT * FROM ml_point_add($1::text[], $2::text[], $3::text[], "
				 "$4::text[])",
				 4, p, &err))
			<< err.msg;
		db_close(db);
	}
	sql_exec(ci(),
		 "UPDATE asset SET state = 'issued', valid_until = current_date + 365, "
		 "verified_at = now(), location_id = (SELECT location_id FROM location WHERE "
		 "code = 'FTEAM') WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'FLOT-1')");
	pgtest_user(ci(), "mlt_fa", "装接甲", "field_member", "FTEAM");
	pgtest_user(ci(), "mlt_fb", "装接乙", "field_member", "FTEAM");
	test_session a = direct_session(ci(), "mlt_fa"), b = direct_session(ci(), "mlt_fb");

	std::string body = "{\"barcode\":\"" + pgtest_barcode(880000) +
			   "\",\"point\":\"FP1\",\"reading\":\"12.50\"}";
	std::vector<std::string> h = a.change();
	h.push_back("Idempotency-Key: field-install-0001-abcdef");
	http_resp r1 = http_do(port(), "POST", "/api/field/install", h, &body);
	ASSERT_EQ(201, r1.status) << r1.dump();
	http_resp r2 = http_do(port(), "POST", "/api/field/install", h, &body);
	EXPECT_EQ(201, r2.status) << r2.dump();
	EXPECT_EQ("true", r2.header("idempotent-replayed"));
	EXPECT_EQ(r1.body, r2.body);
	EXPECT_EQ("1 mlt_fa 12.50",
		  sql_value(ci(),
			    "SELECT count(*) || ' ' || min(u.login) || ' ' || min(install_kwh) "
			    "FROM installation i JOIN app_user u ON u.user_id = i.installed_by "
			    "JOIN metering_point mp USING (point_id) WHERE mp.code = 'FP1'"));
	/* where is it: at the metering point */
	http_resp w = http_do(port(), "GET", "/api/assets/" + pgtest_barcode(880000) + "/where",
			      a.cookie());
	ASSERT_EQ(200, w.status) << w.dump();
	EXPECT_EQ(0u, w.str("where").find("metering point FP1")) << w.dump();
	/* the point is taken: a plain refusal naming the meter in place */
	std::string again = "{\"barcode\":\"" + pgtest_barcode(880001) +
			    "\",\"point\":\"FP1\",\"reading\":\"0\"}";
	http_resp t = http_do(port(), "POST", "/api/field/install", b.change(), &again);
	EXPECT_EQ(409, t.status) << t.dump();
	EXPECT_NE(std::string::npos, t.str("error.message").find(pgtest_barcode(880000)))
		<< t.dump();

	/* two members, one free point, the same moment: one 201, one 409 */
	{
		struct db *db = pgtest_connect(admin);
		struct ml_error err = ML_ERROR_INIT;
		const char *p[4] = { "{FP2}", "{3309000002}", "{杭州市上城区2号}", "{FSITE}" };
		ASSERT_EQ(ML_OK,
			  db_cmd(db,
				 "SELECT * FROM ml_point_add($1::text[], $2::text[], $3::text[], "
				 "$4::text[])",
				 4, p, &err))
			<< err.msg;
		db_close(db);
	}
	std::string ba = "{\"barcode\":\"" + pgtest_barcode(880001) +
			 "\",\"point\":\"FP2\",\"reading\":\"0\"}",
		    bb = "{\"barcode\":\"" + pgtest_barcode(880002) +
			 "\",\"point\":\"FP2\",\"reading\":\"0\"}";
	http_resp ra, rb;
	std::atomic<int> go{ 0 };
	std::thread ta([&] {
		go++;
		while (go < 2) {
		}
		ra = http_do(port(), "POST", "/api/field/install", a.change(), &ba);
	});
	std::thread tb([&] {
		go++;
		while (go < 2) {
		}
		rb = http_do(port(), "POST", "/api/field/install", b.change(), &bb);
	});
	ta.join();
	tb.join();
	EXPECT_EQ(1, (ra.status == 201) + (rb.status == 201)) << ra.dump() << rb.dump();
	EXPECT_EQ(1, (ra.status == 409) + (rb.status == 409)) << ra.dump() << rb.dump();
	EXPECT_EQ("1",
		  sql_value(ci(), "SELECT count(*) FROM installation i JOIN metering_point mp "
				  "USING (point_id) WHERE mp.code = 'FP2' AND removed_at IS NULL"));
}

/* The certificate queue over the API: the checker signs a run's drafts, the
 * approver issues one, the PDF comes back; a person who checked cannot also
 * approve (four eyes, in the database); order matters (approve before check
 * is refused). */
TEST_F(Server, CheckerAndApproverSignOverTheApi)
{
	struct db *db = pgtest_connect(ci());
	wf_script(ci(), "tests/data/reports/make_run.sql");
	wf_people p(ci());
	const char *iss = wf_issuer(db, "SA");
	long long run = wf_run(db, "sa", 2, 0);
	std::vector<long long> ids = wf_drafts(p.tech, run, iss);
	ASSERT_EQ(2u, ids.size());
	test_session checker = direct_session(ci(), "mlt_checker"),
		     approver = direct_session(ci(), "mlt_approver");
	std::string none = "{}", a0 = std::to_string(ids[0]);
	http_resp early = http_do(port(), "POST", "/api/certificates/" + a0 + "/approve",
				  approver.change(), &none);
	EXPECT_EQ(409, early.status) << early.dump();
	http_resp chk = http_do(port(), "POST",
				"/api/runs/" + std::to_string(run) + "/certificates/check",
				checker.change(), &none);
	ASSERT_EQ(200, chk.status) << chk.dump();
	auto first = [](const http_resp &r, const char *key) {
		json_t *v = json_object_get(json_array_get(json_object_get(r.json, "items"), 0),
					    key);
		return std::string(v && json_is_string(v) ? json_string_value(v) : "");
	};
	EXPECT_EQ("checked", first(chk, "state")) << chk.dump();
	/* someone who is both checker and approver checked the other run's draft: may not approve it */
	pgtest_user(ci(), "mlt_both", "两者", "checker,approver");
	test_session both = direct_session(ci(), "mlt_both");
	long long run2 = wf_run(db, "sb", 1, 0);
	std::vector<long long> ids2 = wf_drafts(p.tech, run2, iss);
	ASSERT_EQ(1u, ids2.size());
	std::string b0 = std::to_string(ids2[0]);
	ASSERT_EQ(200, http_do(port(), "POST", "/api/certificates/" + b0 + "/check", both.change(),
			       &none)
			       .status);
	http_resp self = http_do(port(), "POST", "/api/certificates/" + b0 + "/approve",
				 both.change(), &none);
	EXPECT_TRUE(self.status == 403 || self.status == 409) << self.dump();
	EXPECT_EQ("checked", sql_value(ci(), "SELECT state FROM certificate WHERE id = " + b0));
	/* the approver issues */
	http_resp ok = http_do(port(), "POST", "/api/certificates/" + a0 + "/approve",
			       approver.change(), &none);
	ASSERT_EQ(200, ok.status) << ok.dump();
	EXPECT_EQ("issued", first(ok, "state"));
	EXPECT_EQ(0u, first(ok, "cert_no").find("SA")) << ok.dump();
	http_resp pdf = http_do(port(), "GET", "/api/certificates/" + a0 + "/pdf",
				checker.cookie());
	ASSERT_EQ(200, pdf.status);
	EXPECT_EQ("application/pdf", pdf.header("content-type"));
	EXPECT_EQ(0u, pdf.body.find("%PDF-"));
	EXPECT_EQ(64u, pdf.header("x-content-sha256").size());
	db_close(db);
}

/* Lifecycle moves over the API: all or nothing with every refusal listed;
 * two clerks moving the same asset at the same moment: exactly one wins. */
TEST_F(Server, AssetMovesOverTheApiAreAllOrNothingAndOneWinsARace)
{
	ASSERT_NO_FATAL_FAILURE(
		stock_lot(ci(), "mlt_madmin", "MHX", "MM1", "MCITY", "MLOT-1", 890000, 8));
	pgtest_user(ci(), "mlt_mc1", "库管甲", "warehouse_clerk");
	pgtest_user(ci(), "mlt_mc2", "库管乙", "warehouse_clerk");
	test_session c1 = direct_session(ci(), "mlt_mc1"), c2 = direct_session(ci(), "mlt_mc2");
	/* one unknown barcode: nothing moves, the refusal names it */
	std::string bad = "{\"action\":\"dispatch\",\"location\":\"MCITY\",\"barcodes\":[\"" +
			  pgtest_barcode(890000) + "\",\"" + pgtest_barcode(899999) + "\"]}";
	http_resp r = http_do(port(), "POST", "/api/assets/move", c1.change(), &bad);
	EXPECT_EQ(404, r.status) << r.dump();
	EXPECT_NE(std::string::npos, r.body.find(pgtest_barcode(899999))) << r.dump();
	EXPECT_EQ("in_stock", sql_value(ci(), "SELECT state FROM asset WHERE barcode = '" +
						      pgtest_barcode(890000) + "'"));
	/* the race, five rounds */
	for (int round = 1; round <= 5; round++) {
		std::string body =
			"{\"action\":\"dispatch\",\"location\":\"MCITY\",\"barcodes\":[\"" +
			pgtest_barcode(890000 + round) + "\"]}";
		http_resp a, b;
		std::atomic<int> go{ 0 };
		std::thread ta([&] {
			go++;
			while (go < 2) {
			}
			a = http_do(port(), "POST", "/api/assets/move", c1.change(), &body);
		});
		std::thread tb([&] {
			go++;
			while (go < 2) {
			}
			b = http_do(port(), "POST", "/api/assets/move", c2.change(), &body);
		});
		ta.join();
		tb.join();
		EXPECT_EQ(1, (a.status == 200) + (b.status == 200)) << a.dump() << b.dump();
		EXPECT_EQ(1, (a.status == 409) + (b.status == 409)) << a.dump() << b.dump();
		EXPECT_EQ("1",
			  sql_value(ci(), "SELECT count(*) FROM asset_event e JOIN asset a USING "
					  "(asset_id) WHERE a.barcode = '" +
						  pgtest_barcode(890000 + round) +
						  "' AND e.action = 'dispatch'"));
	}
}

/* A batch over 4 KiB (200 scans) runs on the slow lane (srv.h,
 * SLOW_BATCH_BYTES), in the request's one transaction all the same: a retry
 * under its Idempotency-Key is replayed, four at once apply it once, and a
 * refused batch is neither kept nor half done. */
TEST_F(Server, SlowLaneBatchesAreOnceUnderTheirKeyAndAllOrNothing)
{
	ASSERT_NO_FATAL_FAILURE(
		stock_lot(ci(), "mlt_badmin", "BHX", "BM1", "BCITY", "BLOT-1", 780000, 600));
	pgtest_user(ci(), "mlt_bc1", "库管丙", "warehouse_clerk");
	test_session c = direct_session(ci(), "mlt_bc1");
	auto batch = [](long first, long n, long odd) {
		std::string b = "{\"action\":\"dispatch\",\"location\":\"BCITY\",\"barcodes\":[";
		for (long i = 0; i < n; i++)
			b += (i ? ",\"" : "\"") +
			     pgtest_barcode(odd >= 0 && i == n - 1 ? odd : first + i) + "\"";
		return b + "]}";
	};
	auto dispatched = [&](long first, long n) {
		return sql_value(ci(),
				 "SELECT count(*) FROM asset_event e JOIN asset a USING "
				 "(asset_id) WHERE e.action = 'dispatch' AND a.barcode BETWEEN '" +
					 pgtest_barcode(first) + "' AND '" +
					 pgtest_barcode(first + n - 1) + "'");
	};
	/* one unknown code at the end: refused whole, not kept under the key */
	std::string bad = batch(780000, 200, 789999);
	ASSERT_GT(bad.size(), 4096u);
	std::vector<std::string> h = c.change();
	h.push_back("Idempotency-Key: slow-batch-0001");
	http_resp r = http_do(port(), "POST", "/api/assets/move", h, &bad);
	EXPECT_EQ(404, r.status) << r.dump();
	EXPECT_NE(std::string::npos, r.body.find(pgtest_barcode(789999))) << r.dump();
	EXPECT_EQ("0", dispatched(780000, 200));
	/* the good batch under the same key: it runs (the refusal was not kept), once */
	std::string good = batch(780000, 200, -1);
	r = http_do(port(), "POST", "/api/assets/move", h, &good);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_EQ(200, r.num("moved"));
	EXPECT_EQ("", r.header("idempotent-replayed"));
	http_resp again = http_do(port(), "POST", "/api/assets/move", h, &good);
	EXPECT_EQ(200, again.status) << again.dump();
	EXPECT_EQ("true", again.header("idempotent-replayed"));
	EXPECT_EQ(r.body, again.body);
	EXPECT_EQ("200", dispatched(780000, 200));
	/* four at once under one key: applied once, three replayed */
	std::string next = batch(780200, 400, -1);
	std::vector<std::string> h2 = c.change();
	h2.push_back("Idempotency-Key: slow-batch-0002");
	http_resp four[4];
	std::vector<std::thread> th;
	for (int i = 0; i < 4; i++)
		th.emplace_back([&, i] {
			four[i] = http_do(port(), "POST", "/api/assets/move", h2, &next);
		});
	for (auto &t : th)
		t.join();
	int replayed = 0;
	for (auto &x : four) {
		EXPECT_EQ(200, x.status) << x.dump();
		replayed += x.header("idempotent-replayed") == "true";
	}
	EXPECT_EQ(3, replayed);
	EXPECT_EQ("400", dispatched(780200, 400));
}

/* Receiving an order of 20 000 meters scan batch by scan batch: every answer
 * is bounded whatever the order's size — what this call did (each scan, the
 * unregistered one named), the exact count still in transit and its first
 * page of 100 with next — not the whole missing list (about 500 KB a scan
 * here, megabytes at 100 000); from next, GET /api/orders/{id} pages cover
 * exactly the rest, in barcode order, none twice. */
TEST_F(Server, ReceivingALargeOrderAnswersACountAndOnePageNotTheWholeList)
{
	const long first = 300000, n = 20000;
	ASSERT_NO_FATAL_FAILURE(
		stock_lot(ci(), "mlt_xadmin", "XHX", "XM1", "XCITY", "XLOT-1", first, n));
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = pgtest_connect(pgtest_as(ci(), "mlt_xadmin"));
	struct order_line line = { "XM1", (int)n };
	int64_t id = 0;
	ASSERT_EQ(ML_OK,
		  order_create(db, "CENTRAL", "XCITY", &line, 1, nullptr, 0, nullptr, &id, &err))
		<< err.msg;
	std::vector<std::string> all;
	std::vector<const char *> codes;
	for (long i = 0; i < n; i++)
		all.push_back(pgtest_barcode(first + i));
	for (auto &c : all)
		codes.push_back(c.c_str());
	ASSERT_EQ(ML_OK, order_pick(db, id, codes.data(), codes.size(), nullptr, &err)) << err.msg;
	size_t nd = 0;
	ASSERT_EQ(ML_OK, order_dispatch(db, id, &nd, &err)) << err.msg;
	ASSERT_EQ((size_t)n, nd);
	db_close(db);

	pgtest_user(ci(), "mlt_xc1", "收货员", "warehouse_clerk");
	test_session c = direct_session(ci(), "mlt_xc1");
	std::string path = "/api/orders/" + std::to_string(id) + "/receive";
	/* a scanner's batch: ten that came and one that is no meter of ours */
	std::string body = "{\"barcodes\":[";
	for (long i = 0; i < 10; i++)
		body += "\"" + pgtest_barcode(first + i) + "\",";
	body += "\"" + pgtest_barcode(399999) + "\"]}";
	std::vector<std::string> h = c.change();
	h.push_back("Idempotency-Key: big-receive-0001");
	http_resp r = http_do(port(), "POST", path, h, &body);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_LT(r.body.size(), 8192u)
		<< "a receipt of 11 scans answered " << r.body.size() << " bytes";
	EXPECT_EQ(nullptr, r.at("missing")) << "the whole missing list is gone";
	EXPECT_EQ(10, r.num("counts.received"));
	EXPECT_EQ(1, r.num("counts.wrong"));
	json_t *scans = r.at("scans");
	ASSERT_EQ(11u, json_array_size(scans));
	json_t *odd = json_array_get(scans, 10);
	EXPECT_STREQ("wrong", json_string_value(json_object_get(odd, "outcome")));
	EXPECT_EQ(pgtest_barcode(399999), json_string_value(json_object_get(odd, "code")));
	EXPECT_EQ(n - 10, r.num("in_transit_count"));
	/* the first page: the next 100 in barcode order, next its last */
	json_t *page = r.at("in_transit");
	ASSERT_EQ(100u, json_array_size(page)) << "ORDER_RECEIVE_PAGE";
	std::vector<std::string> seen;
	for (size_t i = 0; i < json_array_size(page); i++)
		seen.push_back(json_string_value(json_array_get(page, i)));
	EXPECT_EQ(pgtest_barcode(first + 10), seen.front());
	EXPECT_EQ(seen.back(), r.str("next"));
	/* the rest from GET by the same keyset: exactly what is left, in order */
	std::string after = r.str("next");
	int requests = 0;
	while (!after.empty() && requests++ < 10) {
		http_resp g = http_do(port(), "GET",
				      "/api/orders/" + std::to_string(id) +
					      "?limit=10000&after=" + after,
				      c.cookie());
		ASSERT_EQ(200, g.status) << g.dump();
		json_t *tr = g.at("in_transit");
		for (size_t i = 0; i < json_array_size(tr); i++)
			seen.push_back(json_string_value(json_array_get(tr, i)));
		after = g.str("next");
	}
	EXPECT_EQ(std::vector<std::string>(all.begin() + 10, all.end()), seen);
	/* the retry of that batch under its key: the same bounded answer */
	http_resp again = http_do(port(), "POST", path, h, &body);
	EXPECT_EQ("true", again.header("idempotent-replayed"));
	EXPECT_EQ(r.body, again.body);
	/* a batch of 150 (the slow lane): the count follows, the page moves on */
	body = "{\"barcodes\":[";
	for (long i = 10; i < 160; i++)
		body += (i > 10 ? ",\"" : "\"") + pgtest_barcode(first + i) + "\"";
	body += "]}";
	h = c.change();
	h.push_back("Idempotency-Key: big-receive-0002");
	r = http_do(port(), "POST", path, h, &body);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_EQ(150, r.num("counts.received"));
	EXPECT_EQ(n - 160, r.num("in_transit_count"));
	EXPECT_EQ(pgtest_barcode(first + 160),
		  json_string_value(json_array_get(r.at("in_transit"), 0)));
	EXPECT_EQ(pgtest_barcode(first + 259), r.str("next"));
	EXPECT_EQ(std::to_string(n - 160),
		  sql_value(ci(), "SELECT count(*) FROM dist_order_item WHERE order_id = " +
					  std::to_string(id) + " AND status = 'in_transit'"));
}

/* A refused scan is not kept under its Idempotency-Key (web audit S1). An
 * offline scanner sends every scan with its key and retries until it has an
 * answer: the retry of a put-away refused because the meter is not verified
 * yet gets the same refusal, naming the meter, while the cause lasts (it
 * used to get "500 {}" replayed for 24 hours), and once the meter is
 * verified it runs and puts the meter away; only that answer is kept and
 * replayed. A claim an older server committed without an answer is free. */
TEST_F(Server, ARefusedScanIsNotKeptAndItsRetryRunsOnceTheCauseIsFixed)
{
	std::string admin = pgtest_user(ci(), "mlt_padmin", "管理员", "admin,warehouse_clerk");
	{
		struct db *db = pgtest_connect(admin);
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_NO_FATAL_FAILURE(add_meter_model(db, "PHX", "PM1"));
		std::string csv = "barcode,model_code,production_batch,production_date\n" +
				  pgtest_barcode(860001) + ",PM1,B1,2026-09-14\n" +
				  pgtest_barcode(860002) + ",PM1,B1,2026-09-14\n";
		struct asset_receive_opts o = {};
		o.lot_code = "PLOT-1";
		struct asset_import_report rep;
		ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err))
			<< err.msg;
		asset_import_report_free(&rep);
		ASSERT_EQ(ML_OK, stock_slot_add(db, "CENTRAL", "P-B1", "pallet", nullptr, nullptr,
						nullptr, &err))
			<< err.msg;
		db_close(db);
	}
	std::string u = person("mlt_scan", "warehouse_clerk");
	test_session c = direct_session(ci(), u);
	std::string scan = "{\"codes\":[\"P-B1\",\"" + pgtest_barcode(860001) + "\"]}";
	std::vector<std::string> h = c.change();
	h.push_back("Idempotency-Key: scan-0001-abcdef");
	auto slot = [&](long serial) {
		return sql_value(ci(), "SELECT coalesce((SELECT s.barcode FROM asset_slot x JOIN "
				       "store_slot s USING (slot_id) JOIN asset a USING (asset_id) "
				       "WHERE a.barcode = '" +
					       pgtest_barcode(serial) + "'), '-')");
	};
	/* arrived, not verified: refused, naming the meter */
	http_resp a = http_do(port(), "POST", "/api/stock/putaway", h, &scan);
	ASSERT_EQ(409, a.status) << a.dump();
	EXPECT_EQ("refused", a.str("error.code")) << a.dump();
	EXPECT_NE(std::string::npos, a.body.find(pgtest_barcode(860001))) << a.dump();
	EXPECT_EQ("0", sql_value(ci(), "SELECT count(*) FROM api_idempotency k JOIN app_user u "
				       "USING (user_id) WHERE u.login = '" +
					       u + "'"));
	/* the scanner's retry while the cause lasts: the refusal again, not a replay */
	http_resp b = http_do(port(), "POST", "/api/stock/putaway", h, &scan);
	EXPECT_EQ(409, b.status) << b.dump();
	EXPECT_EQ("", b.header("idempotent-replayed"));
	EXPECT_EQ(a.body, b.body);
	EXPECT_EQ("-", slot(860001));
	/* verified: the same request with the same key now runs */
	sql_exec(ci(), "UPDATE asset SET state = 'in_stock', valid_until = current_date + 365, "
		       "verified_at = now() WHERE lot_id = (SELECT lot_id FROM lot WHERE code = "
		       "'PLOT-1')");
	http_resp d = http_do(port(), "POST", "/api/stock/putaway", h, &scan);
	ASSERT_EQ(200, d.status) << d.dump();
	EXPECT_EQ("", d.header("idempotent-replayed"));
	EXPECT_EQ(1, d.num("done")) << d.dump();
	EXPECT_EQ("P-B1", slot(860001));
	/* and that answer is the one kept */
	http_resp e = http_do(port(), "POST", "/api/stock/putaway", h, &scan);
	EXPECT_EQ(200, e.status) << e.dump();
	EXPECT_EQ("true", e.header("idempotent-replayed"));
	EXPECT_EQ(d.body, e.body);
	EXPECT_EQ("1",
		  sql_value(ci(), "SELECT count(*) FROM asset_event e JOIN asset a USING "
				  "(asset_id) WHERE a.barcode = '" +
					  pgtest_barcode(860001) + "' AND e.action = 'put_away'"));
	/* a claim left without an answer by a server before 0363 does not hold its key */
	sql_exec(ci(), "INSERT INTO api_idempotency (user_id, idem_key, request_hash) SELECT "
		       "user_id, 'scan-0002-abcdef', decode(repeat('00', 32), 'hex') FROM app_user "
		       "WHERE login = '" +
			       u + "'");
	std::string scan2 = "{\"codes\":[\"P-B1\",\"" + pgtest_barcode(860002) + "\"]}";
	std::vector<std::string> h2 = c.change();
	h2.push_back("Idempotency-Key: scan-0002-abcdef");
	http_resp f = http_do(port(), "POST", "/api/stock/putaway", h2, &scan2);
	EXPECT_EQ(200, f.status) << f.dump();
	EXPECT_EQ("", f.header("idempotent-replayed"));
	EXPECT_EQ("P-B1", slot(860002));
}

/* A delivery received over the API (POST /api/deliveries, the same call as
 * `meterlab asset receive`): a file with bad rows writes nothing and names
 * every bad line; a good one becomes a lot of arrived assets, once even when
 * retried; a file larger than --max-body goes through (uploads have their
 * own limit); only a role with asset.receive may do it. */
TEST_F(Server, DeliveriesAreReceivedWholeOrNotAtAllWithEveryBadLineNamed)
{
	std::string admin = pgtest_user(ci(), "mlt_dadmin", "管理员", "admin");
	{
		struct db *db = pgtest_connect(admin);
		ASSERT_NO_FATAL_FAILURE(add_meter_model(db, "DHX", "DM1"));
		db_close(db);
	}
	pgtest_user(ci(), "mlt_dc1", "收货员", "warehouse_clerk");
	pgtest_user(ci(), "mlt_dfm", "外勤", "field_member");
	test_session clerk = direct_session(ci(), "mlt_dc1"), fm = direct_session(ci(), "mlt_dfm");
	auto body = [](const std::string &lot, const std::string &csv) {
		std::string e;
		for (char ch : csv)
			e += ch == '\n' ? std::string("\\n") : std::string(1, ch);
		return "{\"lot\":\"" + lot +
		       "\",\"supplier\":\"华仪\",\"file_name\":\"d.csv\",\"csv\":\"" + e + "\"}";
	};
	const std::string head = "barcode,model_code,production_batch,production_date\n";
	std::string bad = head + pgtest_barcode(770001) + ",DM1,B1,2026-09-14\n" +
			  "4130001000000000000000,DM1,B1,2026-09-14\n" + pgtest_barcode(770003) +
			  ",NOSUCH,B1,2026-09-14\n";
	std::string b = body("DLOT-1", bad);
	http_resp r = http_do(port(), "POST", "/api/deliveries", clerk.change(), &b);
	ASSERT_EQ(422, r.status) << r.dump();
	EXPECT_EQ("invalid_rows", r.str("error.code")) << r.dump();
	EXPECT_NE(std::string::npos, r.body.find("\"line\":3")) << r.dump();
	EXPECT_NE(std::string::npos, r.body.find("\"line\":4")) << r.dump();
	EXPECT_NE(std::string::npos, r.body.find("NOSUCH")) << r.dump();
	EXPECT_EQ("0", sql_value(ci(), "SELECT count(*) FROM lot WHERE code = 'DLOT-1'"));
	EXPECT_EQ("0", sql_value(ci(), "SELECT count(*) FROM asset WHERE barcode = '" +
					       pgtest_barcode(770001) + "'"));

	/* 30 000 rows: about 1.3 MB of JSON, over --max-body; received once though sent twice. */
	std::string good = head;
	for (long i = 0; i < 30000; i++)
		good += pgtest_barcode(700000 + i) + ",DM1,B2,2026-09-14\n";
	b = body("DLOT-2", good);
	ASSERT_GT(b.size(), (size_t)1 << 20);
	std::vector<std::string> h = clerk.change();
	h.push_back("Idempotency-Key: delivery-DLOT-2-0001");
	r = http_do(port(), "POST", "/api/deliveries", h, &b);
	ASSERT_EQ(201, r.status) << r.dump();
	EXPECT_EQ(30000, r.num("rows"));
	http_resp again = http_do(port(), "POST", "/api/deliveries", h, &b);
	EXPECT_EQ(201, again.status) << again.dump();
	EXPECT_EQ(r.num("lot_id"), again.num("lot_id"));
	EXPECT_EQ("30000", sql_value(ci(), "SELECT count(*) FROM asset a JOIN lot l USING (lot_id) "
					   "WHERE l.code = 'DLOT-2' AND a.state = 'arrived'"));
	EXPECT_EQ("收货员",
		  sql_value(ci(), "SELECT u.display_name FROM lot l JOIN app_user u ON "
				  "u.user_id = l.received_by_id WHERE l.code = 'DLOT-2'"));
	/* The same file again under another lot code: already received. */
	b = body("DLOT-3", good);
	r = http_do(port(), "POST", "/api/deliveries", clerk.change(), &b);
	EXPECT_EQ(409, r.status) << r.dump();
	/* A field member may not receive deliveries. */
	b = body("DLOT-4", head + pgtest_barcode(779999) + ",DM1,B1,2026-09-14\n");
	r = http_do(port(), "POST", "/api/deliveries", fm.change(), &b);
	EXPECT_EQ(403, r.status) << r.dump();
	EXPECT_EQ("0", sql_value(ci(), "SELECT count(*) FROM lot WHERE code = 'DLOT-4'"));
}

/* A verification task created and abandoned over the API (POST /api/runs,
 * POST /api/runs/{id}/abort; `meterlab run create|abort`): the database
 * records the person of the session as the operator, a bad position names
 * the barcode and writes nothing, a warehouse clerk is refused. */
TEST_F(Server, RunsAreCreatedAndAbortedOverTheApiByTheTechnician)
{
	rfx::add_standard(ci(), "RSTD", "2026-01-01", "2099-12-31");
	rfx::add_bench(ci(), "RB1", 1, 24, "RSTD");
	rfx::add_scheme(ci(), "scheme code=R-API name=\"api task\"\n"
			      "suits kinds=meter_1p classes=1 connection=direct\n"
			      "basic I=Ib pf=1.0 element=H readings=2\n");
	struct db *dba = pgtest_connect(ci());
	std::vector<std::string> bcs = rfx::seed_assets(dba, 3, 660000);
	db_close(dba);
	test_session tech = direct_session(ci(), "mlt_tech");
	pgtest_user(ci(), "mlt_rclerk", "库管", "warehouse_clerk");
	test_session clerk = direct_session(ci(), "mlt_rclerk");
	auto task = [&](const std::string &second) {
		return "{\"bench\":\"RB1\",\"scheme\":\"R-API\",\"temperature\":\"21.5\","
		       "\"positions\":[\"1=" +
		       bcs[0] + "\",\"2=" + second + "\"]}";
	};
	/* an unknown barcode: 404 naming it, no run, the first meter not moved */
	char unknown[23];
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, barcode_make("41300", "01", 669999, unknown, &err)) << err.msg;
	std::string b = task(unknown);
	http_resp r = http_do(port(), "POST", "/api/runs", tech.change(), &b);
	EXPECT_EQ(404, r.status) << r.dump();
	EXPECT_NE(std::string::npos, r.str("error.message").find(unknown)) << r.dump();
	EXPECT_EQ("0", sql_value(ci(), "SELECT count(*) FROM verification_run WHERE bench_id = "
				       "(SELECT bench_id FROM lab_bench WHERE code = 'RB1')"));
	EXPECT_EQ("arrived",
		  sql_value(ci(), "SELECT state FROM asset WHERE barcode = '" + bcs[0] + "'"));
	/* a clerk may not */
	b = task(bcs[1]);
	r = http_do(port(), "POST", "/api/runs", clerk.change(), &b);
	EXPECT_EQ(403, r.status) << r.dump();
	/* the technician */
	r = http_do(port(), "POST", "/api/runs", tech.change(), &b);
	ASSERT_EQ(201, r.status) << r.dump();
	long long id = (long long)r.num("run_id");
	const std::string sid = std::to_string(id);
	EXPECT_EQ(
		"pending|mlt_tech|21.5",
		sql_value(ci(), "SELECT r.status || '|' || u.login || '|' || r.ambient_temp_c FROM "
				"verification_run r JOIN app_user u ON u.user_id = r.operator_id "
				"WHERE r.run_id = " +
					sid));
	EXPECT_EQ("verifying",
		  sql_value(ci(), "SELECT state FROM asset WHERE barcode = '" + bcs[1] + "'"));
	http_resp g = http_do(port(), "GET", "/api/runs/" + sid, tech.cookie());
	EXPECT_EQ(200, g.status) << g.dump();
	EXPECT_EQ("pending", g.str("status")) << g.dump();
	/* abandoned: the meters go back to reverify */
	std::string why = "{\"reason\":\"工作台故障\"}";
	r = http_do(port(), "POST", "/api/runs/" + sid + "/abort", clerk.change(), &why);
	EXPECT_EQ(403, r.status) << r.dump();
	r = http_do(port(), "POST", "/api/runs/" + sid + "/abort", tech.change(), &why);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_EQ("aborted",
		  sql_value(ci(), "SELECT status FROM verification_run WHERE run_id = " + sid));
	EXPECT_EQ("reverify",
		  sql_value(ci(), "SELECT state FROM asset WHERE barcode = '" + bcs[1] + "'"));
	r = http_do(port(), "POST", "/api/runs/" + sid + "/abort", tech.change(), &why);
	EXPECT_EQ(409, r.status) << r.dump();
	/* Refused in ml_run_abort's order: no run, a run already ended, then the
	 * reason — not a bad reason first, whatever the run. */
	std::string tab = "{\"reason\":\"\\tbench\"}";
	r = http_do(port(), "POST", "/api/runs/" + sid + "/abort", tech.change(), &tab);
	EXPECT_EQ(409, r.status) << r.dump();
	EXPECT_EQ("state", r.str("error.code")) << r.dump();
	r = http_do(port(), "POST", "/api/runs/99999999/abort", tech.change(), &tab);
	EXPECT_EQ(404, r.status) << r.dump();
}

/* A certificate corrected over the API (POST /api/certificates/{id}/revise):
 * the approver who asks for it drafts the revision (its verifier stays the
 * run's operator, 0366), so two other people must check and approve it; a field outside the whitelist is an
 * unknown field, a revision with no change is refused. */
TEST_F(Server, ARevisionOverTheApiNeedsTwoOtherPeople)
{
	struct db *db = pgtest_connect(ci());
	struct ml_error err = ML_ERROR_INIT;
	wf_script(ci(), "tests/data/reports/make_run.sql");
	wf_people p(ci());
	const char *iss = wf_issuer(db, "RV");
	std::vector<long long> ids = wf_issue_run(p, wf_run(db, "rv", 1, 0), iss);
	ASSERT_EQ(1u, ids.size());
	const std::string a = std::to_string(ids[0]);
	test_session approver = direct_session(ci(), "mlt_approver"),
		     checker = direct_session(ci(), "mlt_checker");
	std::string b = "{\"reason\":\"客户名称有误\"}";
	http_resp r = http_do(port(), "POST", "/api/certificates/" + a + "/revise",
			      approver.change(), &b);
	EXPECT_EQ(422, r.status) << r.dump();
	b = "{\"reason\":\"x\",\"conclusion\":\"合格\"}";
	r = http_do(port(), "POST", "/api/certificates/" + a + "/revise", approver.change(), &b);
	EXPECT_EQ(400, r.status) << r.dump();
	EXPECT_EQ("unknown_field", r.str("error.code")) << r.dump();
	b = "{\"reason\":\"客户名称有误\",\"client\":\"示范市供电公司（更正）\"}";
	r = http_do(port(), "POST", "/api/certificates/" + a + "/revise", checker.change(), &b);
	EXPECT_EQ(403, r.status) << r.dump();
	r = http_do(port(), "POST", "/api/certificates/" + a + "/revise", approver.change(), &b);
	ASSERT_EQ(201, r.status) << r.dump();
	json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
	long long rev = json_integer_value(json_object_get(it, "id"));
	ASSERT_GT(rev, ids[0]) << r.dump();
	EXPECT_STREQ("draft", json_string_value(json_object_get(it, "state"))) << r.dump();
	EXPECT_EQ("mlt_operator|mlt_approver|1",
		  sql_value(ci(), "SELECT u.login || '|' || d.login || '|' || c.revision FROM "
				  "certificate c JOIN app_user u ON u.user_id = c.verifier_id JOIN "
				  "app_user d ON d.user_id = c.drafter_id WHERE c.id = " +
					  std::to_string(rev)));
	/* the approver drafted it: checking it is the checker's; approving it, someone else's */
	std::string none = "{}";
	const std::string rs = std::to_string(rev);
	ASSERT_EQ(200, http_do(port(), "POST", "/api/certificates/" + rs + "/check",
			       checker.change(), &none)
			       .status);
	r = http_do(port(), "POST", "/api/certificates/" + rs + "/approve", approver.change(),
		    &none);
	EXPECT_TRUE(r.status == 403 || r.status == 409) << r.dump();
	EXPECT_EQ("checked", sql_value(ci(), "SELECT state FROM certificate WHERE id = " + rs));
	pgtest_user(ci(), "mlt_rv_ap2", "孙批准", "approver");
	test_session ap2 = direct_session(ci(), "mlt_rv_ap2");
	r = http_do(port(), "POST", "/api/certificates/" + rs + "/approve", ap2.change(), &none);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_EQ("issued", sql_value(ci(), "SELECT state FROM certificate WHERE id = " + rs));
	EXPECT_EQ("1",
		  sql_value(ci(), "SELECT count(*) FROM cert_supersession WHERE old_id = " + a));
	(void)err;
	db_close(db);
}

/* Retirement over the API: a clerk asks to scrap, the same clerk cannot
 * approve (the database compares the users), a manager can; a request with
 * one asset in the wrong state is refused whole. */
TEST_F(Server, RetirementsOverTheApiNeedASecondPerson)
{
	std::string admin = pgtest_user(ci(), "mlt_radmin", "管理员", "admin,warehouse_clerk");
	{
		struct db *db = pgtest_connect(admin);
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_NO_FATAL_FAILURE(add_meter_model(db, "RHX", "RM1"));
		std::string csv = "barcode,model_code,production_batch,production_date\n";
		for (long i = 0; i < 3; i++)
			csv += pgtest_barcode(610000 + i) + ",RM1,B1,2026-09-14\n";
		struct asset_receive_opts o = {};
		o.lot_code = "RLOT-1";
		struct asset_import_report rep;
		ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err))
			<< err.msg;
		asset_import_report_free(&rep);
		db_close(db);
	}
	/* two failed verification, one still in stock */
	sql_exec(ci(), "UPDATE asset SET state = 'failed' WHERE barcode IN ('" +
			       pgtest_barcode(610000) + "','" + pgtest_barcode(610001) + "')");
	sql_exec(ci(), "UPDATE asset SET state = 'in_stock', valid_until = current_date + 365, "
		       "verified_at = now() WHERE barcode = '" +
			       pgtest_barcode(610002) + "'");
	pgtest_user(ci(), "mlt_rc1", "库管甲", "warehouse_clerk");
	pgtest_user(ci(), "mlt_rmg", "主任", "manager");
	test_session clerk = direct_session(ci(), "mlt_rc1"), mgr = direct_session(ci(), "mlt_rmg");
	std::string b = "{\"action\":\"scrap\",\"reason\":\"检定不合格\",\"barcodes\":[\"" +
			pgtest_barcode(610000) + "\",\"" + pgtest_barcode(610002) + "\"]}";
	http_resp r = http_do(port(), "POST", "/api/retirements", clerk.change(), &b);
	EXPECT_EQ(409, r.status) << r.dump();
	EXPECT_NE(std::string::npos, r.str("error.message").find(pgtest_barcode(610002)))
		<< r.dump();
	EXPECT_EQ("0", sql_value(ci(), "SELECT count(*) FROM retire_request"));
	b = "{\"action\":\"melt\",\"reason\":\"x\",\"barcodes\":[\"" + pgtest_barcode(610000) +
	    "\"]}";
	r = http_do(port(), "POST", "/api/retirements", clerk.change(), &b);
	EXPECT_EQ(422, r.status) << r.dump();
	EXPECT_NE(std::string::npos, r.str("error.message").find("melt")) << r.dump();
	b = "{\"action\":\"scrap\",\"reason\":\"检定不合格\",\"barcodes\":[\"" +
	    pgtest_barcode(610000) + "\",\"" + pgtest_barcode(610001) + "\"]}";
	r = http_do(port(), "POST", "/api/retirements", clerk.change(), &b);
	ASSERT_EQ(201, r.status) << r.dump();
	const std::string id = std::to_string((long long)r.num("request_id"));
	std::string note = "{\"note\":\"同意\"}";
	r = http_do(port(), "POST", "/api/retirements/" + id + "/approve", clerk.change(), &note);
	EXPECT_EQ(403, r.status) << r.dump();
	EXPECT_EQ("failed", sql_value(ci(), "SELECT state FROM asset WHERE barcode = '" +
						    pgtest_barcode(610000) + "'"));
	r = http_do(port(), "POST", "/api/retirements/" + id + "/approve", mgr.change(), &note);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_EQ(2, r.num("retired"));
	EXPECT_EQ("scrapped", sql_value(ci(), "SELECT state FROM asset WHERE barcode = '" +
						      pgtest_barcode(610001) + "'"));
	http_resp l = http_do(port(), "GET", "/api/retirements?status=approved", mgr.cookie());
	EXPECT_EQ(200, l.status) << l.dump();
	EXPECT_NE(std::string::npos, l.body.find("\"request_id\":" + id)) << l.dump();
}

/* Reference standards over the API: a recalibration certificate added by the
 * administrator (a technician is refused, a bad date named), and the reverse
 * trace of a standard naming the run, its certificate and where the asset is
 * now; flagging is the quality analyst's. */
TEST_F(Server, StandardsAreRecertifiedAndTracedOverTheApi)
{
	struct db *db = pgtest_connect(ci());
	wf_script(ci(), "tests/data/reports/make_run.sql");
	wf_people p(ci());
	const char *iss = wf_issuer(db, "TR");
	std::vector<long long> ids = wf_issue_run(p, wf_run(db, "tr", 1, 0), iss);
	ASSERT_EQ(1u, ids.size());
	struct cert_record rec;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, cert_get(db, ids[0], &rec, &err)) << err.msg;
	db_close(db);
	test_session admin = direct_session(ci(), "mlt_admin"),
		     tech = direct_session(ci(), "mlt_tech");
	std::string c = "{\"cert_no\":\"国量标[2026]第0001号\",\"issuer\":\"示范省计量院\","
			"\"valid_from\":\"2026-11-01\",\"valid_until\":\"2027-10-31\"}";
	http_resp r = http_do(port(), "POST", "/api/standards/WF-STD/certificates", tech.change(),
			      &c);
	EXPECT_EQ(403, r.status) << r.dump();
	std::string bad = "{\"cert_no\":\"X\",\"issuer\":\"Y\",\"valid_from\":\"2026-13-01\","
			  "\"valid_until\":\"2027-10-31\"}";
	r = http_do(port(), "POST", "/api/standards/WF-STD/certificates", admin.change(), &bad);
	EXPECT_EQ(422, r.status) << r.dump();
	EXPECT_NE(std::string::npos, r.str("error.message").find("2026-13-01")) << r.dump();
	r = http_do(port(), "POST", "/api/standards/WF-STD/certificates", admin.change(), &c);
	ASSERT_EQ(201, r.status) << r.dump();
	http_resp s = http_do(port(), "GET", "/api/standards/WF-STD", tech.cookie());
	EXPECT_NE(std::string::npos, s.body.find("国量标[2026]第0001号")) << s.dump();

	http_resp t = http_do(port(), "GET", "/api/trace?standard=WF-STD&since=2020-01-01",
			      tech.cookie());
	ASSERT_EQ(200, t.status) << t.dump();
	EXPECT_NE(std::string::npos, t.body.find(rec.cert_no)) << t.dump();
	EXPECT_NE(std::string::npos, t.body.find(rec.barcode)) << t.dump();
	r = http_do(port(), "GET", "/api/trace?since=2020-01-01", tech.cookie());
	EXPECT_EQ(422, r.status) << r.dump();
	std::string flag =
		"{\"standard\":\"WF-STD\",\"since\":\"2020-01-01\",\"until\":\"2020-12-31\","
		"\"reason\":\"复校超差\"}";
	r = http_do(port(), "POST", "/api/trace/flag", tech.change(), &flag);
	EXPECT_EQ(403, r.status) << r.dump();
	pgtest_user(ci(), "mlt_tqa", "质量", "quality_analyst");
	test_session qa = direct_session(ci(), "mlt_tqa");
	r = http_do(port(), "POST", "/api/trace/flag", qa.change(), &flag);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_EQ(0, r.num("flagged")) << "no run of WF-STD in 2020";
}

/* A meter of a new model received as a lot and issued to a new field team
 * (verified, a year's validity), and a metering point at a new customer site
 * for it to be installed at: the setting of the planning tests over the API. */
struct issued_meter {
	const char *maker, *model, *site, *team, *lot;
	long serial;
	const char *point, *account, *address;
};

static void issued_meter_at_point(const std::string &ci, const std::string &admin,
				  const issued_meter &m)
{
	struct db *db = pgtest_connect(admin);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_NO_FATAL_FAILURE(add_meter_model(db, m.maker, m.model));
	ASSERT_EQ(ML_OK, asset_location_add(db, m.site, "site", "customer_site", nullptr, &err))
		<< err.msg;
	ASSERT_EQ(ML_OK, asset_location_add(db, m.team, "team", "field_team", nullptr, &err))
		<< err.msg;
	std::string csv = "barcode,model_code,production_batch,production_date\n" +
			  pgtest_barcode(m.serial) + "," + m.model + ",B1,2026-09-14\n";
	struct asset_receive_opts o = {};
	o.lot_code = m.lot;
	struct asset_import_report rep;
	ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	std::string arr[4] = { std::string("{") + m.point + "}", std::string("{") + m.account + "}",
			       std::string("{") + m.address + "}",
			       std::string("{") + m.site + "}" };
	const char *p[4] = { arr[0].c_str(), arr[1].c_str(), arr[2].c_str(), arr[3].c_str() };
	ASSERT_EQ(
		ML_OK,
		db_cmd(db,
		       "SELECT * FROM ml_point_add($1::text[], $2::text[], $3::text[], $4::text[])",
		       4, p, &err))
		<< err.msg;
	db_close(db);
	db = pgtest_connect(ci); /* as the DBA: the lab's verification is not the subject here */
	const char *q[2] = { m.team, m.lot };
	ASSERT_EQ(ML_OK,
		  db_cmd(db,
			 "UPDATE asset SET state = 'issued', valid_until = current_date + 365, "
			 "verified_at = now(), location_id = (SELECT location_id FROM location "
			 "WHERE code = $1) WHERE lot_id = (SELECT lot_id FROM lot WHERE code = $2)",
			 2, q, &err))
		<< err.msg;
	db_close(db);
}

TEST_F(Server, OnSiteInspectionAndSwapOrdersOverTheApi)
{
	std::string admin = pgtest_user(ci(), "mlt_iadmin", "管理员", "admin,warehouse_clerk");
	ASSERT_NO_FATAL_FAILURE(
		issued_meter_at_point(ci(), admin,
				      { "IHX", "IM1", "ISITE", "ITEAM", "ILOT-1", 940000, "IP1",
					"3309100001", "杭州市上城区9号" }));
	sql_exec(ci(), "INSERT INTO reference_standard (code, name, accuracy_class) VALUES "
		       "('IPS-1', 'portable standard', '0.05')");
	sql_exec(ci(),
		 "INSERT INTO standard_certificate (standard_id, cert_no, issuer, valid_from, "
		 "valid_until) SELECT standard_id, 'IPS-C1', 'institute', current_date - 10, "
		 "current_date + 300 FROM reference_standard WHERE code = 'IPS-1'");
	pgtest_user(ci(), "mlt_ifield", "现场", "field_member", "ITEAM");
	test_session f = direct_session(ci(), "mlt_ifield");
	std::string body = "{\"barcode\":\"" + pgtest_barcode(940000) +
			   "\",\"point\":\"IP1\",\"reading\":\"1.00\"}";
	http_resp in = http_do(port(), "POST", "/api/field/install", f.change(), &body);
	ASSERT_EQ(201, in.status) << in.dump();

	/* bad error text: 400 naming it, nothing recorded */
	std::string bad =
		"{\"point\":\"IP1\",\"standard\":\"IPS-1\",\"errors\":[\"Ib 1.0: 0.1, x\"]}";
	http_resp b = http_do(port(), "POST", "/api/plan/inspections", f.change(), &bad);
	EXPECT_EQ(422, b.status) << b.dump();
	EXPECT_NE(std::string::npos, b.str("error.message").find("'x'")) << b.dump();
	/* class 1 (add_meter_model): 2.14/2.16 → mean 2.15 → 2.2 beyond ±1.0: fail, a swap order */
	std::string insp = "{\"point\":\"IP1\",\"standard\":\"IPS-1\",\"errors\":[\"Ib 1.0: 2.14, "
			   "2.16\",\"0.2Ib 0.5L: 0.1, 0.1\"]}";
	http_resp r = http_do(port(), "POST", "/api/plan/inspections", f.change(), &insp);
	ASSERT_EQ(201, r.status) << r.dump();
	EXPECT_EQ("fail", r.str("verdict")) << r.dump();
	long long order = r.num("swap_order");
	ASSERT_GT(order, 0) << r.dump();
	http_resp l = http_do(port(), "GET", "/api/plan/orders?status=open&team=ITEAM", f.cookie());
	ASSERT_EQ(200, l.status) << l.dump();
	EXPECT_NE(std::string::npos, l.body.find("\"kind\":\"inspection\"")) << l.dump();
	/* only swap.order cancels */
	std::string why = "{\"reason\":\"customer left\"}";
	std::string path = "/api/plan/orders/" + std::to_string(order) + "/cancel";
	EXPECT_EQ(403, http_do(port(), "POST", path, f.change(), &why).status);
	test_session m = direct_session(ci(), "mlt_manager");
	http_resp c = http_do(port(), "POST", path, m.change(), &why);
	EXPECT_EQ(200, c.status) << c.dump();
	EXPECT_EQ("cancelled", sql_value(ci(), "SELECT status FROM swap_order WHERE order_id = " +
						       std::to_string(order)));
	http_resp cal = http_do(port(), "GET", "/api/plan/calendar?from=2099-01-03&to=2099-01-05",
				m.cookie());
	ASSERT_EQ(200, cal.status) << cal.dump();
	EXPECT_NE(std::string::npos, cal.body.find("weekend")) << cal.dump();
}

/* Every page of a keyset listing from path (which has its filter and
 * limit=): the ids in order, each page's "total" (must agree) and that
 * "next" is the page's last id while more follow and null on the last. */
static std::vector<long long> all_pages(unsigned port, const test_session &s,
					const std::string &path, long long *total, int *pages)
{
	std::vector<long long> ids;
	*total = -1;
	*pages = 0;
	std::string after;
	for (int guard = 0; guard < 100; guard++) {
		http_resp r = http_do(port, "GET", path + after, s.cookie());
		EXPECT_EQ(200, r.status) << path << after << ": " << r.dump();
		if (r.status != 200)
			break;
		++*pages;
		if (*total < 0)
			*total = r.num("total");
		EXPECT_EQ(*total, r.num("total")) << "every page counts every page: " << r.dump();
		json_t *items = r.at("items");
		for (size_t i = 0; i < json_array_size(items); i++)
			ids.push_back(json_integer_value(
				json_object_get(json_array_get(items, i), "id")));
		json_t *next = r.at("next");
		EXPECT_TRUE(next != nullptr) << "next is always there, null on the last page";
		if (!next || json_is_null(next))
			break;
		EXPECT_FALSE(ids.empty()) << r.dump();
		EXPECT_EQ(ids.back(), json_integer_value(next)) << "next is the page's last id";
		after = "&after=" + std::to_string(json_integer_value(next));
	}
	return ids;
}

/* GET /api/watch/items and /api/plan/orders are keyset pages (0376): pages of
 * ?limit= in id order cover every item exactly once, "next" null exactly on
 * the last (also when the count is a multiple of the page), "total" and
 * "overdue" exact over every page; the default page is bounded; a bad limit
 * or after is a 400 naming it. */
TEST_F(Server, PlanOrdersAndWatchItemsArePagedWithExactCounts)
{
	std::string admin = pgtest_user(ci(), "mlt_pgadmin", "管理员", "admin,warehouse_clerk");
	ASSERT_NO_FATAL_FAILURE(
		issued_meter_at_point(ci(), admin,
				      { "PGX", "PGM1", "PGSITE", "PGTEAM", "PGLOT-1", 941000,
					"PGP1", "3309100002", "杭州市上城区11号" }));
	pgtest_user(ci(), "mlt_pgfield", "现场", "field_member", "PGTEAM");
	test_session f = direct_session(ci(), "mlt_pgfield");
	std::string body = "{\"barcode\":\"" + pgtest_barcode(941000) +
			   "\",\"point\":\"PGP1\",\"reading\":\"1.00\"}";
	http_resp in = http_do(port(), "POST", "/api/field/install", f.change(), &body);
	ASSERT_EQ(201, in.status) << in.dump();
	/* 9 closed rotation orders of the installation and one open past due:
	 * 10 of PGTEAM, 1 overdue (one open order per installation) */
	auto orders = [&](const std::string &due, const std::string &state,
			  const std::string &closed, const std::string &reason, const char *more) {
		return "INSERT INTO swap_order (kind, installation_id, point_id, asset_id, team_id, "
		       "month, due_on, status, opened_by, closed_at, cancel_reason) "
		       "SELECT 'rotation', i.installation_id, i.point_id, i.asset_id, "
		       "t.location_id, date_trunc('month', current_date)::date, current_date - " +
		       due + ", " + state +
		       ", (SELECT user_id FROM app_user WHERE login = 'mlt_pgadmin'), " + closed +
		       ", " + reason +
		       " FROM installation i JOIN metering_point mp USING (point_id), location t" +
		       more + " WHERE mp.code = 'PGP1' AND t.code = 'PGTEAM'";
	};
	sql_exec(ci(),
		 orders("g", "'cancelled'", "now()", "'paging test'", ", generate_series(1, 9) g"));
	sql_exec(ci(), orders("3", "'open'", "NULL", "NULL", ""));
	std::string want_orders = sql_value(
		ci(), "SELECT string_agg(order_id::text, ',' ORDER BY order_id) FROM swap_order o "
		      "JOIN location t ON t.location_id = o.team_id WHERE t.code = 'PGTEAM'");
	/* 25 work items at PGSITE (a place of their own): 20 open, 5 closed */
	sql_exec(ci(),
		 "INSERT INTO watch_item (rule, anomaly_key, place_id, role, summary, evidence, "
		 "opened_by, due_on) SELECT 'transit_overdue', 'paging-' || g, l.location_id, "
		 "'warehouse_clerk', 'paging test ' || g, '{}', u.user_id, current_date + g "
		 "FROM generate_series(1, 25) g, location l, app_user u "
		 "WHERE l.code = 'PGSITE' AND u.login = 'mlt_pgadmin'");
	sql_exec(ci(), "UPDATE watch_item SET status = 'closed', closed_at = now(), closed_by = "
		       "opened_by, note = 'done', condition_held = false WHERE anomaly_key IN "
		       "('paging-3', 'paging-7', 'paging-11', 'paging-19', 'paging-25')");
	auto want_items = [&](const char *status) {
		return sql_value(
			ci(),
			std::string("SELECT string_agg(i.item_id::text, ',' ORDER BY "
				    "i.item_id) FROM watch_item i JOIN location l ON "
				    "l.location_id = i.place_id WHERE l.code = "
				    "'PGSITE'") +
				(status ? std::string(" AND i.status = '") + status + "'" : ""));
	};
	auto joined = [](const std::vector<long long> &v) {
		std::string s;
		for (long long x : v)
			s += (s.empty() ? "" : ",") + std::to_string(x);
		return s;
	};
	test_session m = direct_session(ci(), "mlt_manager");
	long long total = 0;
	int pages = 0;

	/* the watch items: 25 in pages of 7 (4 pages), of 5 (a multiple: next null on the
	 * 5th, no empty 6th), the 20 open ones in pages of 4 */
	std::vector<long long> ids = all_pages(
		port(), m, "/api/watch/items?status=all&place=PGSITE&limit=7", &total, &pages);
	EXPECT_EQ(want_items(nullptr), joined(ids));
	EXPECT_EQ(25, total);
	EXPECT_EQ(4, pages);
	ids = all_pages(port(), m, "/api/watch/items?status=all&place=PGSITE&limit=5", &total,
			&pages);
	EXPECT_EQ(want_items(nullptr), joined(ids));
	EXPECT_EQ(5, pages) << "next is null on a full last page";
	ids = all_pages(port(), m, "/api/watch/items?place=PGSITE&limit=4", &total, &pages);
	EXPECT_EQ(want_items("open"), joined(ids));
	EXPECT_EQ(20, total);
	EXPECT_EQ(5, pages);
	ids = all_pages(port(), m, "/api/watch/items?status=closed&place=PGSITE", &total, &pages);
	EXPECT_EQ(want_items("closed"), joined(ids));
	EXPECT_EQ(5, total);
	EXPECT_EQ(1, pages);

	/* the swap orders: 10 of PGTEAM in pages of 3 and of 5, 1 overdue on every page */
	for (const char *lim : { "3", "5", "1000" }) {
		ids = all_pages(port(), f,
				std::string("/api/plan/orders?status=all&team=PGTEAM&limit=") + lim,
				&total, &pages);
		EXPECT_EQ(want_orders, joined(ids)) << "limit " << lim;
		EXPECT_EQ(10, total) << "limit " << lim;
		EXPECT_EQ(lim[0] == '3' ? 4 : lim[0] == '5' ? 2 : 1, pages) << "limit " << lim;
	}
	http_resp o = http_do(port(), "GET",
			      "/api/plan/orders?status=all&team=PGTEAM&limit=3&after=" +
				      std::to_string(ids[2]),
			      f.cookie());
	ASSERT_EQ(200, o.status) << o.dump();
	EXPECT_EQ(1, o.num("overdue")) << "the overdue count is the filter's, not the page's";
	EXPECT_EQ(3u, json_array_size(o.at("items")));
	o = http_do(port(), "GET", "/api/plan/orders?status=overdue&team=PGTEAM", f.cookie());
	ASSERT_EQ(200, o.status) << o.dump();
	EXPECT_EQ(1, o.num("total"));
	EXPECT_EQ(1, o.num("overdue"));
	EXPECT_TRUE(json_is_null(o.at("next"))) << o.dump();

	/* the default page is bounded: 1001 more items at PGSITE → 1000 and a next */
	sql_exec(ci(),
		 "INSERT INTO watch_item (rule, anomaly_key, place_id, role, summary, evidence, "
		 "opened_by, due_on) SELECT 'transit_overdue', 'paging-more-' || g, l.location_id, "
		 "'warehouse_clerk', 'paging test', '{}', u.user_id, current_date + 30 "
		 "FROM generate_series(1, 1001) g, location l, app_user u "
		 "WHERE l.code = 'PGSITE' AND u.login = 'mlt_pgadmin'");
	http_resp d = http_do(port(), "GET", "/api/watch/items?place=PGSITE", m.cookie());
	ASSERT_EQ(200, d.status) << d.dump();
	EXPECT_EQ(1000u, json_array_size(d.at("items")));
	EXPECT_EQ(1021, d.num("total"));
	EXPECT_GT(d.num("next"), 0) << d.dump();
	ids = all_pages(port(), m, "/api/watch/items?place=PGSITE&limit=10000", &total, &pages);
	EXPECT_EQ(want_items("open"), joined(ids));
	EXPECT_EQ(1021, total);

	/* bad pages: 400 naming the parameter and the value */
	struct {
		const char *path, *param, *value;
	} bad[] = {
		{ "/api/watch/items?limit=0", "limit", "0" },
		{ "/api/watch/items?limit=10001", "limit", "10001" },
		{ "/api/watch/items?limit=ten", "limit", "ten" },
		{ "/api/watch/items?after=-1", "after", "-1" },
		{ "/api/watch/items?after=x7", "after", "x7" },
		{ "/api/plan/orders?limit=0", "limit", "0" },
		{ "/api/plan/orders?limit=20000", "limit", "20000" },
		{ "/api/plan/orders?after=1.5", "after", "1.5" },
	};
	for (const auto &b : bad) {
		http_resp r = http_do(port(), "GET", b.path, m.cookie());
		EXPECT_EQ(400, r.status) << b.path << ": " << r.dump();
		std::string msg = r.str("error.message");
		EXPECT_NE(std::string::npos, msg.find(b.param)) << b.path << ": " << r.dump();
		EXPECT_NE(std::string::npos, msg.find(b.value)) << b.path << ": " << r.dump();
	}
}

/* Lab sealing (0228) and the arbitration link (0229) over the API: the
 * technician's own seals, each used once; a fault report read back; a link
 * refused for a fault analysis, naming why. */
TEST_F(Server, LabSealAndFaultArbitrationOverTheApi)
{
	std::string admin = pgtest_user(ci(), "mlt_sadmin", "管理员", "admin,warehouse_clerk");
	pgtest_user(ci(), "mlt_stech", "检定员", "lab_technician");
	{
		struct db *db = pgtest_connect(admin);
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_NO_FATAL_FAILURE(add_meter_model(db, "SHX", "SM1"));
		std::string csv = "barcode,model_code,production_batch,production_date\n";
		for (long i = 0; i < 2; i++)
			csv += pgtest_barcode(560000 + i) + ",SM1,B1,2026-09-14\n";
		struct asset_receive_opts o = {};
		o.lot_code = "SLOT-1";
		struct asset_import_report rep;
		ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err))
			<< err.msg;
		asset_import_report_free(&rep);
		const char *codes[] = { "LS-0001", "LS-0002" };
		size_t n = 0;
		ASSERT_EQ(ML_OK, field_seal_receive(db, codes, 2, "LSB-1", &n, &err)) << err.msg;
		ASSERT_EQ(ML_OK, field_seal_issue(db, codes, 2, nullptr, "mlt_stech", &n, &err))
			<< err.msg;
		db_close(db);
	}
	sql_exec(ci(), "UPDATE asset SET state = 'in_stock', valid_until = current_date + 365, "
		       "verified_at = now() WHERE lot_id = (SELECT lot_id FROM lot WHERE code = "
		       "'SLOT-1')");
	test_session t = direct_session(ci(), "mlt_stech");
	std::string body = "{\"barcode\":\"" + pgtest_barcode(560000) +
			   "\",\"codes\":[\"LS-0001\"]}";
	http_resp r = http_do(port(), "POST", "/api/seals/apply", t.change(), &body);
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_EQ(1, r.num("applied")) << r.dump();
	std::string twice = "{\"barcode\":\"" + pgtest_barcode(560001) +
			    "\",\"codes\":[\"LS-0001\"]}";
	http_resp r2 = http_do(port(), "POST", "/api/seals/apply", t.change(), &twice);
	EXPECT_EQ(409, r2.status) << r2.dump();
	EXPECT_NE(std::string::npos, r2.str("error.message").find("used once")) << r2.dump();
	EXPECT_EQ("applied " + pgtest_barcode(560000),
		  sql_value(ci(), "SELECT s.state || ' ' || a.barcode FROM seal s JOIN asset a "
				  "USING (asset_id) WHERE s.code = 'LS-0001'"));

	/* a fault analysis (the DBA's fixture row), read back; no arbitration link for it */
	std::string fid = sql_value(
		ci(),
		"INSERT INTO fault_report (asset_id, symptom, description, kind, reported_by) "
		"SELECT asset_id, 'STOPPED', '停走', 'analysis', (SELECT user_id FROM app_user "
		"WHERE login = 'mlt_stech') FROM asset WHERE barcode = '" +
			pgtest_barcode(560001) + "' RETURNING fault_id");
	http_resp f = http_do(port(), "GET", "/api/faults/" + fid, t.cookie());
	ASSERT_EQ(200, f.status) << f.dump();
	EXPECT_EQ("analysis", f.str("kind")) << f.dump();
	EXPECT_EQ(pgtest_barcode(560001), f.str("barcode")) << f.dump();
	std::string link = "{\"run\":1}";
	http_resp l = http_do(port(), "POST", "/api/faults/" + fid + "/arbitration", t.change(),
			      &link);
	EXPECT_EQ(409, l.status) << l.dump();
	EXPECT_NE(std::string::npos, l.str("error.message").find("not an arbitration")) << l.dump();
	EXPECT_EQ(404, http_do(port(), "GET", "/api/faults/999999", t.cookie()).status);
}

/*
 * A monitoring work item placed at a field team is that team's (0375): a field member of
 * another team is refused with 403 "forbidden" and the database's words naming the item and
 * the team, with or without a reason, and nothing is written; a member of the team closes it.
 */
TEST_F(Server, AWorkItemOfAFieldTeamIsClosedOnlyByItsTeam)
{
	sql_exec(pgtest_as(ci(), "mlt_admin"),
		 "SELECT ml_location_add('SV-TEAM1', '一班', 'field_team', NULL), "
		 "ml_location_add('SV-TEAM2', '二班', 'field_team', NULL)");
	pgtest_user(ci(), "mlt_svfw1", "一班装接", "field_member", "SV-TEAM1");
	pgtest_user(ci(), "mlt_svfw2", "二班装接", "field_member", "SV-TEAM2");
	/* an item of the installation rule at team 2 (the DBA's row: the rule is tested in
	 * tests/plan; its key names no installation, so closing finds it gone) */
	std::string id = sql_value(
		ci(),
		"INSERT INTO watch_item (rule, anomaly_key, place_id, role, summary, evidence, "
		"opened_by, due_on) SELECT 'unsealed_install', 'installation:999999990', "
		"location_id, 'field_member', 'meter installed without a seal', '{}', "
		"(SELECT user_id FROM app_user WHERE login = 'mlt_manager'), current_date + 7 "
		"FROM location WHERE code = 'SV-TEAM2' RETURNING item_id");
	ASSERT_FALSE(id.empty());
	std::string path = "/api/watch/items/" + id + "/close";
	test_session other = direct_session(ci(), "mlt_svfw1");
	for (std::string body : { std::string("{\"note\":\"sealed\"}"),
				  std::string("{\"note\":\"sealed\",\"reason\":\"not ours\"}") }) {
		http_resp r = http_do(port(), "POST", path, other.change(), &body);
		EXPECT_EQ(403, r.status) << r.dump();
		EXPECT_EQ("forbidden", r.str("error.code")) << r.dump();
		EXPECT_NE(std::string::npos,
			  r.str("error.message")
				  .find("work item " + id + " belongs to field team SV-TEAM2"))
			<< r.dump();
	}
	EXPECT_EQ("open -", sql_value(ci(), "SELECT status || ' ' || coalesce(note, '-') FROM "
					    "watch_item WHERE item_id = " +
						    id));
	test_session member = direct_session(ci(), "mlt_svfw2");
	std::string body = "{\"note\":\"sealed on the second visit\"}";
	http_resp ok = http_do(port(), "POST", path, member.change(), &body);
	ASSERT_EQ(200, ok.status) << ok.dump();
	EXPECT_EQ("closed", ok.str("status")) << ok.dump();
	EXPECT_EQ(
		"closed mlt_svfw2",
		sql_value(ci(), "SELECT i.status || ' ' || u.login FROM watch_item i JOIN app_user "
				"u ON u.user_id = i.closed_by WHERE item_id = " +
					id));
}
