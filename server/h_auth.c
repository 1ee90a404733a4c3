/*
 * h_auth.c — logging in and out, who am I, changing one's password, API
 * tokens.
 *
 * Passwords: Argon2id (auth/credential.h) on the slow lane, at most
 * `workers` at once (64 MiB each). Unknown logins are checked against a
 * dummy hash so that they take as long as known ones; a disabled user or
 * one without a password gets the same answer as a wrong password. Failed
 * attempts are logged in auth_log and throttle the account and the
 * address (ml_login_lookup, 0250_server_auth.sql).
 *
 * Browser sessions: a random 256-bit token in an HttpOnly, Secure,
 * SameSite=Strict cookie (only its hash is stored); changes made with the
 * cookie also carry X-CSRF-Token, derived from the token (http.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "server/srv.h"

/* The user, roles and permissions in effect, the session kind, the CSRF token. */
static int who_json(struct req *rq, struct db *db, json_t **out, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_query_one(
		db,
		"SELECT u.display_name, array_to_json(ml_actor_roles()) AS roles, "
		"coalesce((SELECT array_to_json(array_agg(DISTINCT p.perm ORDER BY p.perm)) "
		"FROM app_role_permission p WHERE p.role = ANY (ml_actor_roles())), '[]') AS perms "
		"FROM app_user u WHERE u.user_id = ml_actor_id()",
		0, NULL, &res, err);
	if (rc)
		return rc;
	json_error_t je;
	json_t *roles = json_loads(PQgetvalue(res, 0, 1), 0, &je);
	json_t *perms = json_loads(PQgetvalue(res, 0, 2), 0, &je);
	json_t *o = json_pack("{s:I, s:s, s:s, s:o, s:o, s:s}", "user_id",
			      (json_int_t)rq->who.user_id, "login", rq->who.login, "display_name",
			      PQgetvalue(res, 0, 0), "roles", roles ? roles : json_array(),
			      "permissions", perms ? perms : json_array(), "session", rq->who.kind);
	PQclear(res);
	if (o && !strcmp(rq->who.kind, "browser")) {
		char csrf[AUTH_TOKEN_TEXT_LEN + 1];
		if (!csrf_token(rq, csrf))
			json_object_set_new(o, "csrf_token", json_string(csrf));
	}
	*out = o;
	return o ? ML_OK : ml_errorf(err, ML_ENOMEM, "out of memory");
}

int h_whoami(struct req *rq, struct ml_error *err)
{
	json_t *o = NULL;
	int rc = who_json(rq, rq->db, &o, err);
	if (!rc)
		req_json(rq, 200, o);
	return rc;
}

static void set_cookie(struct req *rq, const char *token, long max_age)
{
	char c[200];
	snprintf(c, sizeof(c),
		 "ml_session=%s; Path=/; Max-Age=%ld; HttpOnly; Secure; SameSite=Strict", token,
		 max_age);
	req_header(rq, "Set-Cookie", c);
}

/* Whether an attempt by login from this address may go on; answers 429 when not. */
static int throttle_check(struct req *rq, struct db *db, const char *login, int64_t *user_id,
			  char *hash, size_t hash_len, int *active, struct ml_error *err)
{
	struct srv *s = rq->srv;
	char win[32], al[16], dl[16];
	snprintf(win, sizeof(win), "%ld seconds", s->cfg.login_window);
	snprintf(al, sizeof(al), "%d", s->cfg.login_account_limit);
	snprintf(dl, sizeof(dl), "%d", s->cfg.login_address_limit);
	const char *p[5] = { login, rq->addr, win, al, dl };
	PGresult *res = NULL;
	int rc = db_query_one(
		db,
		"SELECT user_id, password_hash, active, "
		"ceil(extract(epoch FROM throttled_until - clock_timestamp()))::bigint AS wait "
		"FROM ml_login_lookup($1, $2::inet, $3::interval, $4::int, $5::int)",
		5, p, &res, err);
	if (rc)
		return rc;
	*user_id = db_get(res, 0, "user_id") ? strtoll(db_get(res, 0, "user_id"), NULL, 10) : 0;
	snprintf(hash, hash_len, "%s",
		 db_get(res, 0, "password_hash") ? db_get(res, 0, "password_hash") : "");
	*active = db_get(res, 0, "active") && db_get(res, 0, "active")[0] == 't';
	const char *w = db_get(res, 0, "wait");
	long wait = w ? atol(w) : 0;
	PQclear(res);
	if (wait > 0) {
		const char *rp[3] = { login, rq->addr, "login_throttled" };
		struct ml_error ignore = ML_ERROR_INIT;
		if (db_cmd(db, "SELECT ml_login_record($1, $2::inet, $3)", 3, rp, &ignore))
			(void)0; /* the refusal stands even if it could not be logged */
		char ra[24], msg[200];
		snprintf(ra, sizeof(ra), "%ld", wait);
		snprintf(msg, sizeof(msg),
			 "too many failed logins for this account or from this address; try again "
			 "in %ld s",
			 wait);
		req_error(rq, 429, "throttled", msg,
			  json_pack("{s:I}", "retry_after", (json_int_t)wait));
		req_header(rq, "Retry-After", ra);
		return -1;
	}
	return 0;
}

static void record_failure(struct req *rq, const char *login, const char *event, const char *via)
{
	struct ml_error ignore = ML_ERROR_INIT;
	struct db *db = req_db(rq, &ignore);
	if (!db)
		return;
	char detail[64];
	snprintf(detail, sizeof(detail), "{\"via\":\"%s\"}", via);
	const char *p[4] = { login, rq->addr, event, detail };
	if (db_cmd(db, "SELECT ml_login_record($1, $2::inet, $3, $4::jsonb)", 4, p, &ignore))
		(void)0;
}

int h_login(struct req *rq, struct ml_error *err)
{
	struct srv *s = rq->srv;
	const char *login = json_string_value(json_object_get(rq->in, "login"));
	const char *pw = json_string_value(json_object_get(rq->in, "password"));
	int rc = ml_text_check(login, 64, 0, "login", err);
	if (rc)
		return rc;
	struct db *db = req_db(rq, err);
	if (!db)
		return ML_ENOMEM;
	int64_t uid = 0;
	int active = 0;
	char hash[AUTH_PWHASH_MAX];
	int t = throttle_check(rq, db, login, &uid, hash, sizeof(hash), &active, err);
	if (t)
		return t < 0 ? ML_OK : t;
	/* Not holding a database connection through ~80 ms of Argon2id. */
	pool_put(s->pool, rq->db);
	rq->db = NULL;
	int ok = auth_password_verify(hash[0] ? hash : s->dummy_hash, pw) && hash[0];
	const char *event = !uid       ? "login_unknown_user"
			    : !hash[0] ? "login_no_password"
			    : !ok      ? "login_bad_password"
			    : !active  ? "login_disabled"
				       : NULL;
	if (event) {
		record_failure(rq, login, event, "login");
		req_error(rq, 401, "bad_credentials", "wrong login or password", NULL);
		return ML_OK;
	}
	char token[AUTH_TOKEN_TEXT_LEN + 1];
	unsigned char th[AUTH_TOKEN_HASH_BYTES];
	if ((rc = auth_token_new(token, th, err)))
		return rc;
	snprintf(rq->token, sizeof(rq->token), "%s", token);
	memcpy(rq->token_hash, th, sizeof(th));
	auth_hash_param(th, rq->token_param);
	rq->has_token = 1;
	char uids[24], ttl[32], idle[32];
	snprintf(uids, sizeof(uids), "%" PRId64, uid);
	snprintf(ttl, sizeof(ttl), "%ld seconds", s->cfg.session_ttl);
	snprintf(idle, sizeof(idle), "%ld seconds", s->cfg.session_idle);
	const char *p[5] = { uids, rq->token_param, rq->addr, ttl, idle };
	if (!(db = req_db(rq, err)))
		return ML_ENOMEM;
	rc = db_cmd(db,
		    "SELECT ml_login_session($1::bigint, $2::bytea, $3::inet, $4::interval, "
		    "$5::interval)",
		    5, p, err);
	if (rc)
		return rc;
	if (auth_password_needs_rehash(hash, s->cfg.pwcost)) {
		char nh[AUTH_PWHASH_MAX];
		struct ml_error ignore = ML_ERROR_INIT;
		if (!auth_password_hash(pw, s->cfg.pwcost, nh, &ignore)) {
			const char *rp[3] = { uids, hash, nh };
			if (db_cmd(db, "SELECT ml_login_rehash($1::bigint, $2, $3)", 3, rp,
				   &ignore))
				(void)0; /* the old hash still works; next login tries again */
		}
	}
	/* Who it is, as the new session sees it. */
	pool_put(s->pool, rq->db);
	rq->db = NULL;
	rc = req_enter(rq, err);
	if (rc)
		return rc < 0 ? ML_OK : rc;
	json_t *o = NULL;
	rc = who_json(rq, rq->db, &o, err);
	rc = db_finish(rq->db, rc, err);
	if (rc) {
		json_decref(o);
		return rc;
	}
	json_object_set_new(o, "expires_in", json_integer(s->cfg.session_ttl));
	json_object_set_new(o, "idle_timeout", json_integer(s->cfg.session_idle));
	set_cookie(rq, token, s->cfg.session_ttl);
	req_json(rq, 200, o);
	sodium_memzero(token, sizeof(token));
	return ML_OK;
}

int h_logout(struct req *rq, struct ml_error *err)
{
	const char *p[2] = { rq->token_param, rq->addr };
	int rc = db_cmd(rq->db, "SELECT ml_session_logout($1::bytea, $2::inet)", 2, p, err);
	if (rc)
		return rc;
	set_cookie(rq, "", 0);
	req_json(rq, 200, json_pack("{s:b}", "ok", 1));
	return ML_OK;
}

int h_password(struct req *rq, struct ml_error *err)
{
	struct srv *s = rq->srv;
	const char *old = json_string_value(json_object_get(rq->in, "old_password"));
	const char *neu = json_string_value(json_object_get(rq->in, "new_password"));
	int rc = req_enter(rq, err);
	if (rc)
		return rc < 0 ? ML_OK : rc;
	PGresult *res = NULL;
	rc = db_query_one(rq->db, "SELECT ml_service_password_hash()", 0, NULL, &res, err);
	char hash[AUTH_PWHASH_MAX] = "";
	if (!rc && !PQgetisnull(res, 0, 0))
		snprintf(hash, sizeof(hash), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	int64_t uid = 0;
	int active = 0;
	char h2[AUTH_PWHASH_MAX];
	int t = rc ? 0
		   : throttle_check(rq, rq->db, rq->who.login, &uid, h2, sizeof(h2), &active, err);
	rc = db_finish(rq->db, rc ? rc : t > 0 ? t : ML_OK, err);
	pool_put(s->pool, rq->db);
	rq->db = NULL;
	if (rc || t < 0)
		return rc;
	if ((rc = auth_password_policy(neu, rq->who.login, err)))
		return rc;
	if (!auth_password_verify(hash[0] ? hash : s->dummy_hash, old) || !hash[0]) {
		record_failure(rq, rq->who.login, "login_bad_password", "password_change");
		req_error(rq, 403, "bad_credentials", "the old password is wrong", NULL);
		return ML_OK;
	}
	char nh[AUTH_PWHASH_MAX];
	if ((rc = auth_password_hash(neu, s->cfg.pwcost, nh, err)))
		return rc;
	rc = req_enter(rq, err);
	if (rc)
		return rc < 0 ? ML_OK : rc;
	const char *p[1] = { nh };
	rc = db_query_one(rq->db, "SELECT ml_password_change($1)", 1, p, &res, err);
	int ended = rc ? 0 : atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	rc = db_finish(rq->db, rc, err);
	if (!rc)
		req_json(rq, 200, json_pack("{s:i}", "sessions_ended", ended));
	return rc;
}

int h_token_list(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = auth_api_token_list(rq->db, req_query(rq, "login"), &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

int h_token_create(struct req *rq, struct ml_error *err)
{
	const char *label = json_string_value(json_object_get(rq->in, "label"));
	json_t *ra = json_object_get(rq->in, "roles");
	json_int_t days = json_integer_value(json_object_get(rq->in, "ttl_days"));
	const char *roles[16];
	size_t n = 0, i;
	json_t *e;
	json_array_foreach(ra, i, e)
	{
		if (n < 16)
			roles[n++] = json_string_value(e);
	}
	if (days < 1)
		return ml_errorf(err, ML_EINVAL, "ttl_days must be 1..366");
	char token[AUTH_TOKEN_TEXT_LEN + 1];
	int64_t id = 0;
	int rc = auth_api_token_create(rq->db, label, roles, n, (long long)days * 86400, token, &id,
				       err);
	if (rc)
		return rc;
	req_json(rq, 201,
		 json_pack("{s:I, s:s, s:s, s:O, s:I}", "token_id", (json_int_t)id, "token", token,
			   "label", label, "roles", ra, "ttl_days", days));
	sodium_memzero(token, sizeof(token));
	return ML_OK;
}

int h_token_revoke(struct req *rq, struct ml_error *err)
{
	int64_t id = strtoll(req_seg(rq, 0), NULL, 10);
	const char *reason = json_string_value(json_object_get(rq->in, "reason"));
	int rc = auth_api_token_revoke(rq->db, id, reason, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:b, s:I}", "ok", 1, "token_id", (json_int_t)id));
	return ML_OK;
}
