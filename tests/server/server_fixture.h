/*
 * server_fixture.h — a real `meterlab serve` process on loopback (port 0,
 * read back from --port-file) against a fresh test database, plus the
 * people, passwords, sessions and tokens the tests act as.
 */
#ifndef ML_TEST_SERVER_FIXTURE_H
#define ML_TEST_SERVER_FIXTURE_H

#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/pgtest.h"
#include "auth/credential.h"
#include "http_client.h"

struct test_server {
	pid_t pid = -1;
	unsigned port = 0;
	std::string dir, log, out;

	/* Start with extra arguments; false (and a message) when it did not come up. */
	bool start(const std::string &conninfo, const std::vector<std::string> &extra,
		   std::string *why = nullptr)
	{
		char tmpl[] = "/tmp/mlt-server-XXXXXX";
		dir = mkdtemp(tmpl);
		log = dir + "/access.log";
		out = dir + "/out.txt";
		std::string pf = dir + "/port";
		std::vector<std::string> args = { pgtest_cli(),  "--db", conninfo,       "serve",
						  "--port-file", pf,     "--access-log", log };
		bool has_listen = false;
		for (const auto &e : extra)
			has_listen |= e == "--listen";
		if (!has_listen) {
			args.push_back("--listen");
			args.push_back("127.0.0.1:0");
		}
		args.insert(args.end(), extra.begin(), extra.end());
		pid = fork();
		if (pid == 0) {
			FILE *o = freopen(out.c_str(), "w", stdout);
			FILE *e = freopen(out.c_str(), "a", stderr);
			(void)o;
			(void)e;
			std::vector<char *> av;
			for (auto &a : args)
				av.push_back(const_cast<char *>(a.c_str()));
			av.push_back(nullptr);
			execv(av[0], av.data());
			_exit(127);
		}
		for (int i = 0; i < 300; i++) {
			std::ifstream f(pf);
			unsigned p = 0;
			if (f >> p && p) {
				port = p;
				return true;
			}
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) {
				pid = -1;
				if (why)
					*why = "server exited: " + file(out);
				return false;
			}
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
		}
		if (why)
			*why = "server did not start in 15 s: " + file(out);
		return false;
	}

	/* Signal it and wait; returns the exit status (-1 when killed or still running after timeout). */
	int stop(int sig = SIGTERM, int timeout_ms = 30000)
	{
		if (pid <= 0)
			return -1;
		kill(pid, sig);
		for (int i = 0; i < timeout_ms / 20; i++) {
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) {
				pid = -1;
				return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
			}
			std::this_thread::sleep_for(std::chrono::milliseconds(20));
		}
		return -1;
	}

	static std::string file(const std::string &path)
	{
		std::ifstream f(path);
		std::stringstream ss;
		ss << f.rdbuf();
		return ss.str();
	}

	~test_server()
	{
		if (pid > 0) {
			kill(pid, SIGKILL);
			int st;
			waitpid(pid, &st, 0);
		}
		if (!dir.empty()) {
			unlink((dir + "/port").c_str());
			unlink(log.c_str());
			unlink(out.c_str());
			rmdir(dir.c_str());
		}
	}
};

/* A browser session: the cookie's token and its CSRF token. */
struct test_session {
	std::string token, csrf;
	std::vector<std::string> cookie() const
	{
		return { "Cookie: ml_session=" + token };
	}
	/* Cookie and CSRF header, for changes. */
	std::vector<std::string> change() const
	{
		return { "Cookie: ml_session=" + token, "X-CSRF-Token: " + csrf };
	}
};

/* The token from a Set-Cookie header ("" when none). */
inline std::string cookie_token(const http_resp &r)
{
	std::string c = r.header("set-cookie");
	size_t p = c.find("ml_session=");
	if (p == std::string::npos)
		return "";
	size_t e = c.find(';', p);
	return c.substr(p + 11, e == std::string::npos ? std::string::npos : e - p - 11);
}

inline std::string sql_value(const std::string &ci, const std::string &sql)
{
	struct db *db = pgtest_connect(ci);
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	int rc = db_query_one(db, sql.c_str(), 0, nullptr, &res, &err);
	std::string v = !rc && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "";
	if (rc)
		ADD_FAILURE() << err.msg << " in " << sql;
	PQclear(res);
	db_close(db);
	return v;
}

inline void sql_exec(const std::string &ci, const std::string &sql)
{
	struct db *db = pgtest_connect(ci);
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_cmd(db, sql.c_str(), 0, nullptr, &err)) << err.msg << " in " << sql;
	db_close(db);
}

/* A cheap Argon2id cost for test people's passwords (the server verifies any cost). */
inline struct auth_pwcost test_pwcost()
{
	struct auth_pwcost c = { 1, 8192 };
	return c;
}

/* Give login a password (as the DBA). */
inline void set_password(const std::string &ci, const char *login, const char *pw)
{
	struct ml_error err = ML_ERROR_INIT;
	static bool init = [] {
		struct ml_error e = ML_ERROR_INIT;
		return auth_crypto_init(&e) == ML_OK;
	}();
	ASSERT_TRUE(init);
	struct db *db = pgtest_connect(ci);
	ASSERT_EQ(ML_OK, auth_user_set_password(db, login, pw, test_pwcost(), nullptr, &err))
		<< err.msg;
	db_close(db);
}

/*
 * A browser session made the way the server makes one (ml_session_create as
 * meterlab_service), without the password round: for tests that need many.
 */
inline test_session direct_session(const std::string &ci, const std::string &login,
				   const char *kind = "browser", const char *scope = nullptr)
{
	test_session s;
	char text[AUTH_TOKEN_TEXT_LEN + 1], hp[AUTH_HASH_HEX_LEN + 1],
		csrf[AUTH_TOKEN_TEXT_LEN + 1];
	unsigned char h[AUTH_TOKEN_HASH_BYTES];
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, auth_token_new(text, h, &err));
	auth_hash_param(h, hp);
	std::string uid = sql_value(ci,
				    "SELECT user_id FROM app_user WHERE login = '" + login + "'");
	struct db *db = pgtest_connect(pgtest_as_role(ci, "meterlab_service"));
	const char *p[4] = { uid.c_str(), hp, kind, scope };
	EXPECT_EQ(ML_OK,
		  db_cmd(db,
			 "SELECT ml_session_create($1::bigint, $2::bytea, $3, '1 hour', NULL, "
			 "$4::text[])",
			 4, p, &err))
		<< err.msg;
	db_close(db);
	EXPECT_EQ(ML_OK, auth_token_derive(text, strlen(text), "meterlab csrf v1", csrf, &err));
	s.token = text;
	s.csrf = csrf;
	return s;
}

/* Log in through the server; an empty token when it failed (r, optional, gets the answer). */
inline test_session login(unsigned port, const std::string &user, const std::string &pw,
			  const char *src = nullptr, http_resp *r = nullptr)
{
	std::string body = "{\"login\":\"" + user + "\",\"password\":\"" + pw + "\"}";
	http_resp a = http_do(port, "POST", "/api/login", {}, &body, src);
	test_session s;
	s.token = cookie_token(a);
	s.csrf = a.str("csrf_token");
	if (r)
		*r = std::move(a);
	return s;
}

/* BLAKE2b-256 hex of a token (as auth_session.token_hash shows it). */
inline std::string token_hash_hex(const std::string &token)
{
	unsigned char h[AUTH_TOKEN_HASH_BYTES];
	char hp[AUTH_HASH_HEX_LEN + 1];
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, auth_token_hash(token.c_str(), token.size(), h, &err));
	auth_hash_param(h, hp);
	return hp + 2;
}

#endif
