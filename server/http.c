/*
 * http.c — the request life cycle on libmicrohttpd: route, read and check
 * the input, authenticate, run the handler in one transaction, answer,
 * measure and log.
 *
 * Facts of libmicrohttpd 0.9.75 this relies on (tech-notes, "Server and
 * browser stack"):
 *   - queueing a response in the first (headers-only) call makes the daemon
 *     close the connection (no keep-alive): answers are queued in the final
 *     call, except a 413 decided from Content-Length, which should close;
 *   - the body arrives in chunk calls; each is consumed by setting
 *     *upload_data_size = 0; the final call has size 0;
 *   - a handler that blocks stalls every connection of its pool thread:
 *     slow work (Argon2id, 70–90 ms) runs on the slow lane with the
 *     connection suspended, and is resumed when the answer is ready;
 *   - NOTIFY_COMPLETED runs after every request, also after errors and
 *     timeouts: the per-request state is freed there.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/text.h"
#include "server/srv.h"

/* ---- small helpers ---- */

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

int err_status(int code)
{
	switch (code) {
	case ML_EINVAL:
		return 422;
	case ML_ENOTFOUND:
		return 404;
	case ML_ECONFLICT:
	case ML_ESTATE:
	case ML_EEXISTS:
		return 409;
	case ML_EPERM:
		return 403;
	case ML_EDEVICE:
	case ML_EPROTO:
		return 502;
	case ML_ETIMEOUT:
		return 504;
	case ML_ENOMEM:
		return 503;
	default:
		return 500;
	}
}

const char *err_code(int code)
{
	switch (code) {
	case ML_EINVAL:
		return "invalid_input";
	case ML_ENOTFOUND:
		return "not_found";
	case ML_ECONFLICT:
		return "conflict";
	case ML_ESTATE:
		return "state";
	case ML_EEXISTS:
		return "exists";
	case ML_EPERM:
		return "forbidden";
	case ML_EDB:
		return "database";
	case ML_EIO:
		return "io";
	case ML_EDEVICE:
		return "device";
	case ML_ETIMEOUT:
		return "timeout";
	case ML_EPROTO:
		return "device_protocol";
	case ML_ENOMEM:
		return "unavailable";
	case ML_ECONFIG:
		return "configuration";
	case ML_EPDF:
		return "pdf";
	default:
		return "internal";
	}
}

/*
 * The SQLSTATE db_result_error (sql/db.c) appends to its messages as
 * " [SQLSTATE XXXXX]", or "" when there is none.
 */
static const char *sqlstate_of(const struct ml_error *err, char out[6])
{
	const char *p = strstr(err->msg, "[SQLSTATE ");
	out[0] = '\0';
	if (p && strlen(p) >= 16)
		snprintf(out, 6, "%.5s", p + 10);
	return out;
}

static void iso_now(char *out, size_t n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t l = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + l, n - l, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Log a line on the server's log (the access log's file), e.g. an internal error's detail. */
static void log_line(struct srv *s, const char *kind, const char *id, const char *msg)
{
	char ts[40];
	iso_now(ts, sizeof(ts));
	json_t *o = json_pack("{s:s, s:s, s:s*, s:s*}", "ts", ts, "event", kind, "request_id", id,
			      "message", msg);
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (line) {
		size_t n = strlen(line);
		line[n] = '\n';
		ssize_t w = write(s->log_fd, line, n + 1);
		(void)w;
		line[n] = '\0';
	}
	free(line);
	json_decref(o);
}

void srv_log(struct srv *s, const char *event, const char *msg)
{
	log_line(s, event, NULL, msg);
}

/* ---- answers ---- */

const char *req_seg(const struct req *rq, int i)
{
	return i < rq->nseg ? rq->seg[i] : NULL;
}

const char *req_query(const struct req *rq, const char *name)
{
	for (int i = 0; i < rq->nquery; i++) {
		if (!strcmp(rq->query[i].name, name))
			return rq->query[i].value ? rq->query[i].value : "";
	}
	return NULL;
}

const char *req_hdr(struct req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

void req_header(struct req *rq, const char *name, const char *value)
{
	if (rq->nhdr >= REQ_MAX_HEADERS)
		return;
	rq->hdr[rq->nhdr].name = strdup(name);
	rq->hdr[rq->nhdr].value = strdup(value);
	rq->nhdr++;
}

static void clear_answer(struct req *rq)
{
	json_decref(rq->out);
	rq->out = NULL;
	free(rq->raw);
	rq->raw = NULL;
	rq->raw_len = 0;
}

void req_json(struct req *rq, int status, json_t *v)
{
	clear_answer(rq);
	rq->status = status;
	rq->out = v;
}

int req_raw(struct req *rq, int status, const char *ctype, const void *p, size_t n)
{
	clear_answer(rq);
	rq->raw = malloc(n ? n : 1);
	if (!rq->raw)
		return ML_ENOMEM;
	memcpy(rq->raw, p, n);
	rq->raw_len = n;
	rq->ctype = ctype;
	rq->status = status;
	return ML_OK;
}

void req_error(struct req *rq, int status, const char *code, const char *message, json_t *details)
{
	json_t *e = json_object();
	json_object_set_new(e, "code", json_string(code));
	/* json_string refuses invalid UTF-8: a message quoting bad input must still arrive. */
	json_t *m = json_string(message);
	json_object_set_new(e, "message", m ? m : json_string("(message not valid UTF-8)"));
	json_object_set_new(e, "details", details ? details : json_object());
	req_json(rq, status, json_pack("{s:o}", "error", e));
}

void req_fail(struct req *rq, const struct ml_error *err)
{
	int code = err->code ? err->code : ML_EINTERNAL;
	int st = err_status(code);
	if (st >= 500) {
		/* The detail of a server-side failure goes to the log, not to the client. */
		log_line(rq->srv, "error", rq->id, err->msg);
		char msg[160];
		snprintf(msg, sizeof(msg), "%s (request %s; the detail is in the server log)",
			 ml_strerror(code), rq->id);
		req_error(rq, st, err_code(code), msg, NULL);
		return;
	}
	req_error(rq, st, err_code(code), err->msg[0] ? err->msg : ml_strerror(code), NULL);
}

struct db *req_db(struct req *rq, struct ml_error *err)
{
	if (!rq->db) {
		rq->db = pool_get(rq->srv->pool, 5000);
		if (!rq->db)
			ml_errorf(err, ML_ENOMEM, "no database connection became free within 5 s");
	}
	return rq->db;
}

static void release_db(struct req *rq)
{
	if (rq->db) {
		pool_put(rq->srv->pool, rq->db);
		rq->db = NULL;
	}
}

/* ---- input: query, path parameters, body ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode n bytes of s (plus as space when plus) into a new string.
 * Refuses malformed escapes, NUL and other control characters, and invalid
 * UTF-8 (NULL; *why says which).
 */
static char *pct_decode(const char *s, size_t n, int plus, const char **why)
{
	char *out = malloc(n + 1);
	if (!out) {
		*why = "out of memory";
		return NULL;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
				free(out);
				*why = "malformed percent-escape";
				return NULL;
			}
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if ((unsigned char)c < 0x20 || c == 0x7f) {
			free(out);
			*why = "control character (NUL, newline, …) in the URL";
			return NULL;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	for (size_t i = 0; i < o;) {
		uint32_t cp;
		int l = ml_utf8_decode((const unsigned char *)out + i, o - i, &cp);
		if (l <= 0) {
			free(out);
			*why = "invalid UTF-8 in the URL";
			return NULL;
		}
		i += (size_t)l;
	}
	return out;
}

static enum MHD_Result on_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				    size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	struct req *rq = cls;
	if (rq->bad_query)
		return MHD_NO;
	if (rq->nquery >= ROUTE_MAX_QUERY) {
		rq->bad_query = 1;
		snprintf(rq->bad_msg, sizeof(rq->bad_msg), "too many query parameters (at most %d)",
			 ROUTE_MAX_QUERY);
		return MHD_NO;
	}
	const char *why = NULL;
	char *k = pct_decode(key, key_size, 1, &why);
	char *v = k && value ? pct_decode(value, value_size, 1, &why) : NULL;
	if (!k || (value && !v)) {
		free(k);
		rq->bad_query = 1;
		snprintf(rq->bad_msg, sizeof(rq->bad_msg), "query parameter: %s", why);
		return MHD_NO;
	}
	for (int i = 0; i < rq->nquery; i++) {
		if (!strcmp(rq->query[i].name, k)) {
			rq->bad_query = 1;
			snprintf(rq->bad_msg, sizeof(rq->bad_msg),
				 "query parameter '%.64s' is given twice", k);
			free(k);
			free(v);
			return MHD_NO;
		}
	}
	rq->query[rq->nquery].name = k;
	rq->query[rq->nquery].value = v;
	rq->nquery++;
	return MHD_YES;
}

/* Take the {} segments of the matched route's pattern out of the path, decoded. */
static int take_path_params(struct req *rq, const char *pattern)
{
	const char *pp = pattern, *qp = rq->path;
	while (*pp == '/' && *qp == '/') {
		pp++;
		qp++;
		const char *pe = strchr(pp, '/'), *qe = strchr(qp, '/');
		size_t ql = qe ? (size_t)(qe - qp) : strlen(qp);
		if (*pp == '{' && rq->nseg < ROUTE_MAX_SEGS) {
			const char *why = NULL;
			char *v = pct_decode(qp, ql, 0, &why);
			if (!v) {
				rq->bad_query = 1;
				snprintf(rq->bad_msg, sizeof(rq->bad_msg), "path: %s", why);
				return -1;
			}
			rq->seg[rq->nseg++] = v;
		}
		if (!pe || !qe)
			break;
		pp = pe;
		qp = qe;
	}
	return 0;
}

static const char *ptype_name(enum param_type t)
{
	switch (t) {
	case PT_INT:
		return "an integer";
	case PT_BOOL:
		return "true or false";
	case PT_STRINGS:
		return "an array of strings";
	default:
		return "a string";
	}
}

/* Path parameters of their declared type and length. 0 or an answered 400/404. */
static int check_path(struct req *rq, const struct route *r)
{
	const struct route_param *p = r->path;
	for (int i = 0; i < rq->nseg && p && p->name; i++, p++) {
		const char *v = rq->seg[i];
		int ok = 1;
		if (p->type == PT_INT) {
			char *end = NULL;
			errno = 0;
			long long x = strtoll(v, &end, 10);
			ok = *v >= '0' && *v <= '9' && !*end && !errno && x > 0;
		} else if (p->max) {
			ok = strlen(v) <= (size_t)p->max * 4;
		}
		if (!ok) {
			char msg[200];
			snprintf(msg, sizeof(msg), "'%.64s' is not a valid %s", v,
				 p->type == PT_INT ? "id (a positive whole number)" : p->name);
			req_error(rq, 404, "not_found", msg,
				  json_pack("{s:s}", "parameter", p->name));
			return -1;
		}
	}
	return 0;
}

/* Query parameters: known names only, each of its type. 0 or an answered 400. */
static int check_query(struct req *rq, const struct route *r)
{
	for (int i = 0; i < rq->nquery; i++) {
		const struct route_param *p = r->query;
		while (p && p->name && strcmp(p->name, rq->query[i].name))
			p++;
		if (!p || !p->name) {
			char msg[200];
			snprintf(msg, sizeof(msg), "unknown query parameter '%.64s'",
				 rq->query[i].name);
			req_error(rq, 400, "unknown_parameter", msg,
				  json_pack("{s:s}", "parameter", rq->query[i].name));
			return -1;
		}
		const char *v = rq->query[i].value ? rq->query[i].value : "";
		int ok = 1;
		if (p->type == PT_INT) {
			char *end = NULL;
			errno = 0;
			long long x = strtoll(v, &end, 10);
			ok = *v && *v != '+' && *v != ' ' && !*end && !errno && x >= 0 &&
			     (!p->max || x <= p->max);
		} else if (p->type == PT_BOOL) {
			ok = !strcmp(v, "true") || !strcmp(v, "false");
		} else if (p->max) {
			ok = strlen(v) <= (size_t)p->max * 4;
		}
		if (!ok) {
			char msg[300];
			if (p->type == PT_INT && p->max)
				snprintf(
					msg, sizeof(msg),
					"query parameter '%s' must be an integer 0..%ld, not '%.64s'",
					p->name, p->max, v);
			else
				snprintf(msg, sizeof(msg),
					 "query parameter '%s' must be %s, not '%.64s'", p->name,
					 ptype_name(p->type), v);
			req_error(rq, 400, "wrong_type", msg,
				  json_pack("{s:s}", "parameter", p->name));
			return -1;
		}
	}
	for (const struct route_param *p = r->query; p && p->name; p++) {
		if (p->required && !req_query(rq, p->name)) {
			char msg[200];
			snprintf(msg, sizeof(msg), "query parameter '%s' is required", p->name);
			req_error(rq, 400, "missing_parameter", msg,
				  json_pack("{s:s}", "parameter", p->name));
			return -1;
		}
	}
	return 0;
}

/* A JSON value of a body field against its declared type. */
static int type_ok(const struct route_param *p, json_t *v)
{
	switch (p->type) {
	case PT_INT:
		return json_is_integer(v) && json_integer_value(v) >= 0 &&
		       (!p->max || json_integer_value(v) <= p->max);
	case PT_BOOL:
		return json_is_boolean(v);
	case PT_STRINGS: {
		if (!json_is_array(v) || (p->max && json_array_size(v) > (size_t)p->max))
			return 0;
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
		{
			if (!json_is_string(e))
				return 0;
		}
		return 1;
	}
	default: {
		/* The length the route advertises (maxLength), in characters. */
		if (!json_is_string(v))
			return 0;
		if (!p->max)
			return 1;
		const unsigned char *c = (const unsigned char *)json_string_value(v);
		size_t len = json_string_length(v), chars = 0;
		for (size_t i = 0; i < len; i++)
			chars += (c[i] & 0xC0) != 0x80; /* jansson's strings are valid UTF-8 */
		return chars <= (size_t)p->max;
	}
	}
}

/*
 * The body of a request with a body spec: application/json, one object,
 * no duplicate keys, only the declared fields, each of its type, the
 * required ones present. 0, or an answered 400/415.
 */
static int check_body(struct req *rq, const struct route *r)
{
	int has_body = rq->body.len > 0;
	if (!r->body) {
		if (has_body) {
			req_error(rq, 400, "unexpected_body", "this request takes no body", NULL);
			return -1;
		}
		return 0;
	}
	const char *ct = req_hdr(rq, "Content-Type");
	/* Only JSON: a cross-site HTML form cannot send it without a CORS preflight. */
	if (!ct || strncasecmp(ct, "application/json", 16) ||
	    (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
		req_error(rq, 415, "unsupported_media_type",
			  "the body must be JSON (Content-Type: application/json)", NULL);
		return -1;
	}
	json_error_t je;
	rq->in = json_loadb(has_body ? ml_buf_str(&rq->body) : "", rq->body.len,
			    JSON_REJECT_DUPLICATES, &je);
	if (!rq->in) {
		char msg[300];
		snprintf(msg, sizeof(msg), "the body is not valid JSON: %s (line %d, column %d)",
			 je.text, je.line, je.column);
		req_error(rq, 400, "bad_json", msg,
			  json_pack("{s:i,s:i}", "line", je.line, "column", je.column));
		return -1;
	}
	if (!json_is_object(rq->in)) {
		req_error(rq, 400, "bad_json", "the body must be a JSON object", NULL);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(rq->in, k, v)
	{
		const struct route_param *p = r->body;
		while (p->name && strcmp(p->name, k))
			p++;
		if (!p->name) {
			char msg[200];
			snprintf(msg, sizeof(msg), "unknown field '%.64s'", k);
			req_error(rq, 400, "unknown_field", msg, json_pack("{s:s}", "field", k));
			return -1;
		}
		if (json_is_null(v) && !p->required)
			continue;
		if (!type_ok(p, v)) {
			char msg[200];
			if (p->type == PT_INT && p->max)
				snprintf(msg, sizeof(msg), "field '%s' must be an integer 0..%ld",
					 p->name, p->max);
			else if (p->type == PT_STRINGS && p->max)
				snprintf(msg, sizeof(msg),
					 "field '%s' must be an array of at most %ld strings",
					 p->name, p->max);
			else if (p->type == PT_STRING && p->max)
				snprintf(msg, sizeof(msg),
					 "field '%s' must be a string of at most %ld characters",
					 p->name, p->max);
			else
				snprintf(msg, sizeof(msg), "field '%s' must be %s", p->name,
					 ptype_name(p->type));
			req_error(rq, 400, "wrong_type", msg, json_pack("{s:s}", "field", p->name));
			return -1;
		}
	}
	for (const struct route_param *p = r->body; p->name; p++) {
		json_t *f = json_object_get(rq->in, p->name);
		if (p->required && (!f || json_is_null(f))) {
			char msg[200];
			snprintf(msg, sizeof(msg), "field '%s' is required", p->name);
			req_error(rq, 400, "missing_field", msg,
				  json_pack("{s:s}", "field", p->name));
			return -1;
		}
	}
	return 0;
}

/* ---- authentication ---- */

static int unsafe_method(const char *m)
{
	return strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "OPTIONS");
}

/* Token from "Authorization: Bearer T" (preferred) or the session cookie. */
static void take_token(struct req *rq)
{
	const char *a = req_hdr(rq, "Authorization");
	const char *t = NULL;
	if (a && !strncasecmp(a, "Bearer ", 7)) {
		t = a + 7;
	} else {
		t = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, "ml_session");
		rq->via_cookie = t != NULL;
	}
	if (!t)
		return;
	struct ml_error e = ML_ERROR_INIT;
	if (auth_token_hash(t, strlen(t), rq->token_hash, &e)) {
		rq->has_token = -1; /* malformed */
		return;
	}
	snprintf(rq->token, sizeof(rq->token), "%s", t);
	auth_hash_param(rq->token_hash, rq->token_param);
	rq->has_token = 1;
}

int csrf_token(const struct req *rq, char out[AUTH_TOKEN_TEXT_LEN + 1])
{
	struct ml_error e = ML_ERROR_INIT;
	return auth_token_derive(rq->token, strlen(rq->token), "meterlab csrf v1", out, &e);
}

/* A cookie-authenticated change must carry the session's CSRF token (double submit). */
static int check_csrf(struct req *rq)
{
	if (!rq->via_cookie || !unsafe_method(rq->method))
		return 0;
	char want[AUTH_TOKEN_TEXT_LEN + 1];
	const char *got = req_hdr(rq, "X-CSRF-Token");
	if (!csrf_token(rq, want) && got && auth_equal(got, strlen(got), want, strlen(want)))
		return 0;
	req_error(rq, 403, "csrf",
		  "a change made with the session cookie needs the X-CSRF-Token header "
		  "(csrf_token from login or /api/whoami)",
		  NULL);
	return -1;
}

/* ml_api_enter failed: no live session is a 401 (answered: -1), else the error's code. */
static int enter_refused(struct req *rq, const struct ml_error *err)
{
	char st[6];
	if (!strcmp(sqlstate_of(err, st), "28000")) {
		/* No live session: expired, idle too long, revoked, or the user disabled. */
		req_error(rq, 401, "unauthenticated",
			  "not logged in, or the session has ended (expired, idle, logged "
			  "out or revoked)",
			  NULL);
		return -1;
	}
	return err->code ? err->code : ML_EDB;
}

/* Who the request acts for, from ml_api_enter's row (user_id, login, session_id, kind). */
static void enter_who(struct req *rq, const PGresult *ent)
{
	rq->who.user_id = strtoll(PQgetvalue(ent, 0, 0), NULL, 10);
	snprintf(rq->who.login, sizeof(rq->who.login), "%s", PQgetvalue(ent, 0, 1));
	rq->who.session_id = strtoll(PQgetvalue(ent, 0, 2), NULL, 10);
	snprintf(rq->who.kind, sizeof(rq->who.kind), "%s", PQgetvalue(ent, 0, 3));
	rq->authed = 1;
}

/*
 * Open the request's transaction and, for a session route, assume the
 * session and check the permission (ml_api_enter) — BEGIN and the call go
 * to the server in one pipeline, one round trip. 0; -1 when a 401 was
 * answered; else an ml_err. On failure nothing is left open.
 */
static int begin_enter(struct req *rq, const char *perm, int session, struct ml_error *err)
{
	if (!session)
		return db_begin(rq->db, err);
	PGconn *c = db_conn(rq->db);
	const char *p[2] = { rq->token_param, perm };
	if (!PQenterPipelineMode(c))
		return ml_errorf(err, ML_EDB, "database connection busy: %s", PQerrorMessage(c));
	int sent = PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) &&
		   PQsendQueryPrepared(c, POOL_ENTER_STMT, 2, p, NULL, NULL, 0) &&
		   PQpipelineSync(c);
	PGresult *ent = NULL;
	int rc = sent ? ML_OK : ml_errorf(err, ML_EDB, "database: %s", PQerrorMessage(c));
	/* Results: BEGIN's, NULL, the call's, NULL, then the sync. */
	for (int nulls = 0; sent && nulls < 4;) {
		PGresult *r = PQgetResult(c);
		if (!r) {
			if (PQstatus(c) != CONNECTION_OK) {
				rc = ml_errorf(err, ML_EDB, "database connection lost: %s",
					       PQerrorMessage(c));
				break;
			}
			nulls++;
			continue;
		}
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (st == PGRES_FATAL_ERROR && !rc)
			rc = db_result_error(rq->db, r, "database", err);
		else if (st == PGRES_PIPELINE_ABORTED && !rc)
			rc = ml_errorf(err, ML_EDB, "database: pipeline aborted");
		if (nulls == 1 && st == PGRES_TUPLES_OK && !ent)
			ent = r;
		else
			PQclear(r);
	}
	PQexitPipelineMode(c);
	if (!rc && (!ent || PQntuples(ent) != 1))
		rc = ml_errorf(err, ML_EDB, "ml_api_enter returned no row");
	if (rc) {
		PQclear(ent);
		db_rollback(rq->db);
		return enter_refused(rq, err);
	}
	enter_who(rq, ent);
	PQclear(ent);
	if ((srv_routes[rq->route].flags & RF_BROWSER) && strcmp(rq->who.kind, "browser")) {
		/* A token cannot make tokens or change the password of the person it stands for. */
		db_rollback(rq->db);
		req_error(rq, 403, "browser_session_required",
			  "this needs a password login (browser session), not an API token", NULL);
		return -1;
	}
	return 0;
}

int req_enter(struct req *rq, struct ml_error *err)
{
	if (!req_db(rq, err))
		return ML_ENOMEM;
	return begin_enter(rq, srv_routes[rq->route].perm, 1, err);
}

/* ---- idempotency ---- */

static int idem_key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n < 8 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (k[i] < 0x21 || k[i] > 0x7e)
			return 0;
	}
	return 1;
}

/* BLAKE2b-256 over method, path, query and body: "the same request". The
 * body is hashed where it lies (an upload may be tens of MiB). */
static void request_hash(struct req *rq, char out[AUTH_HASH_HEX_LEN + 1])
{
	struct ml_buf b = ML_BUF_INIT;
	ml_buf_printf(&b, "%s %s?", rq->method, rq->path);
	for (int i = 0; i < rq->nquery; i++)
		ml_buf_printf(&b, "%s=%s&", rq->query[i].name,
			      rq->query[i].value ? rq->query[i].value : "");
	ml_buf_putc(&b, '\n');
	crypto_generichash_state st;
	unsigned char h[AUTH_TOKEN_HASH_BYTES];
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)(b.len ? ml_buf_str(&b) : ""), b.len);
	if (rq->body.len)
		crypto_generichash_update(&st, (const unsigned char *)rq->body.data, rq->body.len);
	crypto_generichash_final(&st, h, sizeof(h));
	auth_hash_param(h, out);
	ml_buf_free(&b);
}

/*
 * Claim the key in the operation's transaction. 1: replayed (answer set),
 * 0: new (run the operation), -1: answered (mismatch or error).
 */
static int idem_claim(struct req *rq, const char *key, struct ml_error *err)
{
	char hp[AUTH_HASH_HEX_LEN + 1];
	request_hash(rq, hp);
	const char *p[2] = { key, hp };
	PGresult *res = NULL;
	int rc = db_query_one(rq->db,
			      "SELECT state, status, body FROM ml_idem_claim($1, $2::bytea)", 2, p,
			      &res, err);
	if (rc)
		return -2;
	const char *state = PQgetvalue(res, 0, 0);
	int out = 0;
	if (!strcmp(state, "mismatch")) {
		req_error(rq, 422, "idempotency_key_reused",
			  "this Idempotency-Key was used for a different request (method, path "
			  "or body)",
			  NULL);
		out = -1;
	} else if (!strcmp(state, "replay")) {
		json_error_t je;
		json_t *v = json_loads(PQgetvalue(res, 0, 2), 0, &je);
		req_json(rq, atoi(PQgetvalue(res, 0, 1)), v ? v : json_object());
		req_header(rq, "Idempotent-Replayed", "true");
		out = 1;
	}
	PQclear(res);
	return out;
}

static int idem_store(struct req *rq, const char *key, struct ml_error *err)
{
	char st[8];
	snprintf(st, sizeof(st), "%d", rq->status);
	char *body = rq->out ? json_dumps(rq->out, JSON_COMPACT) : strdup("{}");
	const char *p[3] = { key, st, body };
	int rc = body ? db_cmd(rq->db, "SELECT ml_idem_store($1, $2::int, $3)", 3, p, err)
		      : ml_errorf(err, ML_ENOMEM, "out of memory");
	free(body);
	return rc;
}

/* ---- running a route ---- */

/*
 * A read whose handler makes one statement (RF_ONE_STMT): ml_api_enter and
 * that statement travel in one pipeline as one implicit transaction — one
 * round trip, no BEGIN or COMMIT (sql/db.h, db_prologue_arm). The statement
 * runs only when the session proof and the permission check succeeded; a
 * second statement would be refused by sql/db.c. When the handler answers
 * without reaching the database (a malformed barcode), the proof still runs
 * alone first: an unauthenticated request gets its 401, never another answer.
 */
static void run_one_statement(struct req *rq, const struct route *r)
{
	struct ml_error err = ML_ERROR_INIT, perr = ML_ERROR_INIT;
	if (!req_db(rq, &err)) {
		req_fail(rq, &err);
		return;
	}
	const char *p[2] = { rq->token_param, r->perm };
	db_prologue_arm(rq->db, POOL_ENTER_STMT, 2, p);
	int rc = r->fn(rq, &err);
	const PGresult *ent = NULL;
	enum db_prologue_state st = db_prologue_settle(rq->db, &ent, &perr);
	if (st == DB_PRO_OK && PQntuples(ent) != 1) {
		st = DB_PRO_FAILED;
		ml_errorf(&perr, ML_EDB, "ml_api_enter returned no row");
	}
	if (st != DB_PRO_OK) {
		/* Whatever the handler built is not the answer: the request is not authenticated. */
		if (rq->resp) {
			MHD_destroy_response(rq->resp);
			rq->resp = NULL;
		}
		if (enter_refused(rq, &perr) >= 0)
			req_fail(rq, &perr);
	} else {
		enter_who(rq, ent);
		if (rc) {
			if (rq->resp) {
				MHD_destroy_response(rq->resp);
				rq->resp = NULL;
			}
			req_fail(rq, &err);
		}
	}
	db_prologue_end(rq->db);
	release_db(rq);
}

static void run_route(struct req *rq)
{
	struct ml_error err = ML_ERROR_INIT;
	if (rq->matched == -1 && (!strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD")) &&
	    strncmp(rq->path, "/api/", 5)) {
		static_serve(rq); /* the web pages (web/, server/static.c) */
		return;
	}
	if (rq->matched == -1) {
		char msg[200];
		snprintf(msg, sizeof(msg), "no such route: %s %.120s", rq->method, rq->path);
		req_error(rq, 404, "unknown_route", msg, NULL);
		return;
	}
	if (rq->matched == -2) {
		char msg[300];
		snprintf(msg, sizeof(msg), "%s is not allowed on %.120s (allowed: %s)", rq->method,
			 rq->path, rq->allow);
		req_error(rq, 405, "method_not_allowed", msg, NULL);
		req_header(rq, "Allow", rq->allow);
		return;
	}
	if (rq->bad_query) {
		req_error(rq, 400, "bad_request", rq->bad_msg, NULL);
		return;
	}
	const struct route *r = &srv_routes[rq->route];
	if (check_path(rq, r) || check_query(rq, r) || check_body(rq, r))
		return;
	const char *ik = req_hdr(rq, "Idempotency-Key");
	if (ik && !(r->flags & RF_IDEMPOTENT)) {
		req_error(rq, 400, "idempotency_not_supported",
			  "this route does not take an Idempotency-Key (it is not a change that "
			  "can be replayed)",
			  NULL);
		return;
	}
	if (ik && !idem_key_ok(ik)) {
		req_error(rq, 400, "bad_idempotency_key",
			  "an Idempotency-Key is 8–128 printable ASCII characters (a UUID is "
			  "fine)",
			  NULL);
		return;
	}
	if (r->auth == AUTH_SESSION) {
		if (rq->has_token <= 0) {
			req_error(rq, 401, "unauthenticated",
				  rq->has_token < 0 ? "malformed session token"
						    : "log in first (POST /api/login), or send "
						      "Authorization: Bearer TOKEN",
				  NULL);
			return;
		}
		if (check_csrf(rq))
			return;
	}
	if (r->flags & RF_NO_TX) {
		int rc = r->fn(rq, &err);
		if (rc)
			req_fail(rq, &err);
		release_db(rq);
		return;
	}
	if ((r->flags & RF_ONE_STMT) && r->auth == AUTH_SESSION && !ik &&
	    !(r->flags & (RF_BROWSER | RF_STREAM | RF_NO_TX)) && !strcmp(r->method, "GET")) {
		run_one_statement(rq, r);
		return;
	}
	int answered = 0, rc = ML_ENOMEM;
	if (req_db(rq, &err)) {
		int e = begin_enter(rq, r->perm, r->auth == AUTH_SESSION, &err);
		answered = e < 0;
		rc = e > 0 ? e : answered ? ML_EPERM : 0;
	}
	int replay = 0, refused = 0;
	if (!rc && ik) {
		int c = idem_claim(rq, ik, &err);
		if (c == -2)
			rc = err.code ? err.code : ML_EDB;
		else if (c == -1)
			answered = 1, rc = ML_EINVAL;
		else
			replay = c;
	}
	if (!rc && !replay) {
		rc = r->fn(rq, &err);
		/*
		 * Only a change that was made is kept under its key. A refusal the
		 * handler answered itself (a scan's 409/422 with every refused code,
		 * a delivery's bad rows) changed nothing: its claim is rolled back
		 * with the rest, so a retry, made once the cause is fixed (the order
		 * received, the file corrected), runs again, and one made before
		 * gets the refusal again in its own words.
		 */
		if (!rc && ik && rq->status >= 200 && rq->status < 300)
			rc = idem_store(rq, ik, &err);
		else if (!rc && ik)
			refused = 1;
	}
	if (rq->db && !rc && !strcmp(r->method, "GET") && !rq->is_stream &&
	    PQtransactionStatus(db_conn(rq->db)) == PQTRANS_INTRANS) {
		/*
		 * A GET changes nothing (the one write in its transaction is the
		 * session's last-seen time): its COMMIT is sent, not awaited, and
		 * the pool collects the result before the connection's next use.
		 */
		if (!PQsendQuery(db_conn(rq->db), "COMMIT"))
			rc = db_commit(rq->db, &err);
	} else if (rq->db && !answered) {
		if (!rc && !refused)
			rc = db_commit(rq->db, &err);
		if (rc || refused)
			db_rollback(rq->db);
	}
	if (rc && rq->resp) {
		MHD_destroy_response(rq->resp);
		rq->resp = NULL;
		rq->is_stream = 0;
	}
	if (rc && !answered)
		req_fail(rq, &err);
	release_db(rq);
}

/* ---- building and queueing the answer ---- */

/*
 * The answer's body as a daemon response in rq->resp (unless a handler made
 * one), the JSON tree then freed; 0, or -1 when out of memory. The slow
 * lane calls it before resuming the connection: encoding and freeing the
 * answer of a batch (100 000 refused codes named: megabytes) would
 * otherwise run on the HTTP thread, stalling its other connections.
 */
static int prepare_answer(struct req *rq)
{
	if (rq->resp)
		return 0;
	if (!rq->status)
		rq->status = 500;
	char *body = NULL;
	size_t len = 0;
	const char *ctype = "application/json; charset=utf-8";
	if (rq->out) {
		body = json_dumps(rq->out, JSON_COMPACT);
		len = body ? strlen(body) : 0;
	} else if (rq->raw) {
		body = rq->raw;
		len = rq->raw_len;
		rq->raw = NULL;
		ctype = rq->ctype;
	}
	if (!body && rq->out) {
		rq->status = 500;
		body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"the answer "
			      "could not be encoded\",\"details\":{}}}");
		len = body ? strlen(body) : 0;
	}
	json_decref(rq->out);
	rq->out = NULL;
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body ? body : (char *)"",
								    body ? MHD_RESPMEM_MUST_FREE
									 : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return -1;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	rq->sent_bytes = len;
	rq->resp = resp;
	return 0;
}

static enum MHD_Result queue_answer(struct req *rq)
{
	struct srv *s = rq->srv;
	if (prepare_answer(rq))
		return MHD_NO;
	struct MHD_Response *resp = rq->resp;
	rq->resp = NULL;
	int status = rq->status ? rq->status : 500;
	MHD_add_response_header(resp, "X-Request-Id", rq->id);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	int own_cache = 0; /* the web pages say how they may be cached (static.c) */
	for (int i = 0; i < rq->nhdr; i++)
		own_cache |= !strcasecmp(rq->hdr[i].name, "Cache-Control");
	if (!rq->is_stream && !own_cache)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (s->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	for (int i = 0; i < rq->nhdr; i++)
		MHD_add_response_header(resp, rq->hdr[i].name, rq->hdr[i].value);
	if (atomic_load(&s->shutting_down) && !rq->is_stream)
		MHD_add_response_header(resp, "Connection", "close");
	rq->status = status;
	/* A stream lasts until the client or the shutdown ends it: not "in flight". */
	if (rq->is_stream)
		atomic_fetch_sub(&s->in_flight, 1);
	enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	rq->state = RQ_QUEUED;
	return ret;
}

/* ---- the slow lane ---- */

static void *slow_main(void *arg)
{
	struct srv *s = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		pthread_mutex_lock(&s->slow.mu);
		while (!s->slow.head && !s->slow.stop)
			pthread_cond_wait(&s->slow.cv, &s->slow.mu);
		struct req *rq = s->slow.head;
		if (!rq) {
			pthread_mutex_unlock(&s->slow.mu);
			return NULL;
		}
		s->slow.head = rq->next;
		if (!s->slow.head)
			s->slow.tail = NULL;
		s->slow.queued--;
		s->slow.busy++;
		pthread_mutex_unlock(&s->slow.mu);
		run_route(rq);
		/* The answer encoded and the parsed body freed here, not on the HTTP
		 * thread (a batch's are megabytes). A failure is the final call's. */
		(void)prepare_answer(rq);
		json_decref(rq->in);
		rq->in = NULL;
		rq->state = RQ_READY;
		MHD_resume_connection(rq->conn); /* rq is the daemon's again */
		/* Not busy until resumed: slow_close waits for this to be 0. */
		pthread_mutex_lock(&s->slow.mu);
		s->slow.busy--;
		pthread_mutex_unlock(&s->slow.mu);
	}
}

void slow_stats(struct srv *s, unsigned *busy, unsigned *threads, unsigned *queued)
{
	pthread_mutex_lock(&s->slow.mu);
	*busy = s->slow.busy;
	*threads = s->slow.n;
	*queued = s->slow.queued;
	pthread_mutex_unlock(&s->slow.mu);
}

/*
 * Suspend the connection and queue the request for a slow-lane thread; -1
 * (nothing done) once the lane is closed for the shutdown. The check and
 * the suspension are under one lock, so slow_close never misses a request.
 */
static int slow_push(struct srv *s, struct req *rq)
{
	pthread_mutex_lock(&s->slow.mu);
	if (s->slow.closed) {
		pthread_mutex_unlock(&s->slow.mu);
		return -1;
	}
	rq->state = RQ_SLOW;
	MHD_suspend_connection(rq->conn);
	rq->next = NULL;
	if (s->slow.tail)
		s->slow.tail->next = rq;
	else
		s->slow.head = rq;
	s->slow.tail = rq;
	s->slow.queued++;
	pthread_cond_signal(&s->slow.cv);
	pthread_mutex_unlock(&s->slow.mu);
	return 0;
}

static void answer_stopping(struct req *rq)
{
	req_error(rq, 503, "stopping", "the server is stopping; try again in a moment", NULL);
	req_header(rq, "Retry-After", "5");
}

/*
 * The end of the slow lane at shutdown, before the daemon stops (which
 * libmicrohttpd 0.9.75 refuses, aborting the process, while a connection is
 * suspended): take no more requests, answer those still waiting for a
 * thread 503 stopping and resume them, and wait until the running ones
 * have been resumed by their threads. Returns how many were refused.
 */
static unsigned slow_close(struct srv *s)
{
	pthread_mutex_lock(&s->slow.mu);
	s->slow.closed = 1;
	struct req *rq = s->slow.head;
	unsigned n = s->slow.queued;
	s->slow.head = s->slow.tail = NULL;
	s->slow.queued = 0;
	pthread_mutex_unlock(&s->slow.mu);
	while (rq) {
		struct req *next = rq->next; /* rq is the daemon's once resumed */
		answer_stopping(rq);
		rq->state = RQ_READY;
		MHD_resume_connection(rq->conn);
		rq = next;
	}
	/* A running handler ends with its one transaction (a login in ~0.1 s). */
	for (;;) {
		pthread_mutex_lock(&s->slow.mu);
		unsigned busy = s->slow.busy;
		pthread_mutex_unlock(&s->slow.mu);
		if (!busy)
			break;
		usleep(10000);
	}
	return n;
}

/*
 * Whether a request runs on the slow lane: its route is RF_SLOW, or it is a
 * batch route (an array of more than SLOW_BATCH_MIN_MAX strings in its
 * body) and this body is over SLOW_BATCH_BYTES (srv.h): parsing and
 * changing tens of thousands of codes takes seconds, and blocking here
 * would stall every connection of this HTTP thread.
 */
static int on_slow_lane(const struct req *rq)
{
	const struct route *r = &srv_routes[rq->route];
	if (r->flags & RF_SLOW)
		return 1;
	if (rq->body.len <= SLOW_BATCH_BYTES)
		return 0;
	for (const struct route_param *p = r->body; p && p->name; p++)
		if (p->type == PT_STRINGS && p->max > SLOW_BATCH_MIN_MAX)
			return 1;
	return 0;
}

/* ---- the daemon's callbacks ---- */

/* The body limit of a request: a file upload's route takes --max-upload (a
 * delivery of 100 000 rows is about 6 MB of JSON), every other --max-body. */
static size_t body_limit(const struct req *rq)
{
	const struct srv *s = rq->srv;
	if (rq->matched == 1 && (srv_routes[rq->route].flags & RF_UPLOAD))
		return s->cfg.max_upload;
	return s->cfg.max_body;
}

static struct req *req_new(struct srv *s, struct MHD_Connection *c, const char *url,
			   const char *method)
{
	struct req *rq = calloc(1, sizeof(*rq));
	if (!rq)
		return NULL;
	rq->srv = s;
	rq->conn = c;
	rq->route = -1;
	clock_gettime(CLOCK_MONOTONIC, &rq->t0);
	snprintf(rq->id, sizeof(rq->id), "%lx-%lu", (unsigned long)time(NULL),
		 atomic_fetch_add(&s->req_seq, 1));
	snprintf(rq->method, sizeof(rq->method), "%s", method);
	rq->path = strdup(url);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, rq->addr,
				  sizeof(rq->addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, rq->addr,
				  sizeof(rq->addr));
	}
	if (!rq->addr[0])
		snprintf(rq->addr, sizeof(rq->addr), "0.0.0.0");
	if (!rq->path)
		return rq;
	int m = router_match(method, rq->path, rq->allow);
	rq->matched = m >= 0 ? 1 : m;
	if (m >= 0) {
		rq->route = m;
		take_path_params(rq, srv_routes[m].pattern);
	}
	ml_buf_init(&rq->body, body_limit(rq) + 1);
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, on_query_arg, rq);
	take_token(rq);
	return rq;
}

static void req_free(struct req *rq)
{
	if (!rq)
		return;
	free(rq->path);
	for (int i = 0; i < rq->nseg; i++)
		free(rq->seg[i]);
	for (int i = 0; i < rq->nquery; i++) {
		free(rq->query[i].name);
		free(rq->query[i].value);
	}
	for (int i = 0; i < rq->nhdr; i++) {
		free(rq->hdr[i].name);
		free(rq->hdr[i].value);
	}
	ml_buf_free(&rq->body);
	json_decref(rq->in);
	clear_answer(rq);
	if (rq->resp)
		MHD_destroy_response(rq->resp);
	sodium_memzero(rq->token, sizeof(rq->token));
	free(rq);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	(void)version;
	struct srv *s = cls;
	struct req *rq = *con_cls;
	if (!rq) {
		rq = req_new(s, c, url, method);
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		atomic_fetch_add(&s->in_flight, 1);
		if (!rq->path) {
			req_error(rq, 503, "unavailable", "out of memory", NULL);
			return queue_answer(rq);
		}
		/* Too large by its announced length: refuse before reading it (the
		 * connection then closes, which is what we want for it). */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > body_limit(rq)) {
			char msg[120];
			snprintf(msg, sizeof(msg), "the body is larger than %zu bytes",
				 body_limit(rq));
			req_error(rq, 413, "payload_too_large", msg, NULL);
			rq->too_large = 1;
			return queue_answer(rq);
		}
		rq->state = RQ_HEADERS;
		return MHD_YES;
	}
	if (rq->state == RQ_QUEUED || rq->state == RQ_SLOW) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->state == RQ_READY)
		return queue_answer(rq);
	if (*upload_size) {
		rq->state = RQ_BODY;
		/* Chunked uploads have no length: count, keep nothing past the limit. */
		if (!rq->too_large) {
			if (rq->body.len + *upload_size > body_limit(rq)) {
				rq->too_large = 1;
				ml_buf_free(&rq->body);
			} else if (ml_buf_append(&rq->body, upload, *upload_size)) {
				rq->too_large = 1;
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_large) {
		char msg[120];
		snprintf(msg, sizeof(msg), "the body is larger than %zu bytes", body_limit(rq));
		req_error(rq, 413, "payload_too_large", msg, NULL);
		return queue_answer(rq);
	}
	if (rq->matched == 1 && on_slow_lane(rq)) {
		/* Refused (503 stopping) once the lane is closed for the shutdown. */
		if (!slow_push(s, rq))
			return MHD_YES;
		answer_stopping(rq);
		return queue_answer(rq);
	}
	run_route(rq);
	return queue_answer(rq);
}


/*
 * The raw path as the log shows it (malloc'd; NULL for none): JSON strings
 * are UTF-8, so each byte that is not part of valid UTF-8 — and each
 * backslash, so that the form is unambiguous — is written \xNN. A path of
 * bytes that are not UTF-8 (a probe, a broken client) is logged like any
 * other, not dropped.
 */
static char *log_path(const char *path)
{
	if (!path)
		return NULL;
	size_t n = strlen(path), k = 0;
	char *o = malloc(n * 4 + 1);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int l = ml_utf8_decode((const unsigned char *)path + i, n - i, &cp);
		if (l > 0 && cp != '\\') {
			memcpy(o + k, path + i, (size_t)l);
			k += (size_t)l;
			i += (size_t)l;
		} else {
			k += (size_t)snprintf(o + k, 5, "\\x%02X", (unsigned char)path[i]);
			i++;
		}
	}
	o[k] = '\0';
	return o;
}

/* One structured access-log line per request (JSON, one write). */
static void access_log(struct srv *s, struct req *rq, double secs,
		       enum MHD_RequestTerminationCode toe)
{
	char ts[40];
	iso_now(ts, sizeof(ts));
	const char *route = rq->route >= 0 ? srv_routes[rq->route].pattern : NULL;
	char *path = log_path(rq->path), *method = log_path(rq->method);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s*, s:i, s:I, s:f, s:s*, s:s*}", "ts",
			      ts, "id", rq->id, "addr", rq->addr, "method", method, "path", path,
			      "route", route, "status", rq->status, "bytes",
			      (json_int_t)rq->sent_bytes, "ms", secs * 1000.0, "user",
			      rq->authed ? rq->who.login : NULL, "end",
			      toe == MHD_REQUEST_TERMINATED_COMPLETED_OK      ? NULL
			      : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
			      : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT    ? "client_abort"
			      : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "shutdown"
									      : "error");
	free(path);
	free(method);
	if (!o)
		return;
	char *line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(4));
	json_decref(o);
	if (!line)
		return;
	size_t n = strlen(line);
	char *l2 = realloc(line, n + 2);
	if (l2) {
		l2[n] = '\n';
		ssize_t w = write(s->log_fd, l2, n + 1);
		(void)w;
		line = l2;
	}
	free(line);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)c;
	struct srv *s = cls;
	struct req *rq = *con_cls;
	if (!rq)
		return;
	*con_cls = NULL;
	double secs = elapsed_s(&rq->t0);
	if (rq->state != RQ_QUEUED)
		rq->status = 0; /* no answer was sent (timeout, abort) */
	metrics_observe(s->metrics, rq->route >= 0 ? (size_t)rq->route : srv_nroutes, rq->status,
			secs);
	access_log(s, rq, secs, toe);
	if (!rq->is_stream)
		atomic_fetch_sub(&s->in_flight, 1);
	release_db(rq);
	req_free(rq);
}

/* Paths and query strings are decoded by the router (strictly), not by the daemon. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct srv *s = cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_line(s, "httpd", NULL, msg);
}

/* ---- start and stop ---- */

static int read_file(const char *path, char **out, struct ml_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		char eb[128];
		return ml_errorf(err, ML_ECONFIG, "cannot read %s: %s", path,
				 ml_errno_str(errno, eb, sizeof(eb)));
	}
	struct ml_buf b = ML_BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ml_buf_append(&b, chunk, n);
	fclose(f);
	if (ml_buf_failed(&b) || !b.len) {
		ml_buf_free(&b);
		return ml_errorf(err, ML_ECONFIG, "%s is empty or unreadable", path);
	}
	*out = ml_buf_detach(&b, NULL);
	return ML_OK;
}

/* "ADDR:PORT" with ADDR an IPv4 address, [IPv6] or localhost. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, int *v6, int *loopback,
			struct ml_error *err)
{
	memset(ss, 0, sizeof(*ss));
	if (!s || !*s)
		return ml_errorf(err, ML_ECONFIG, "--listen ADDR:PORT is required");
	const char *colon = strrchr(s, ':');
	if (!colon)
		return ml_errorf(err, ML_ECONFIG, "--listen '%s' is not ADDR:PORT", s);
	char *end = NULL;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 0 || port > 65535)
		return ml_errorf(err, ML_ECONFIG, "--listen '%s': port is not 0..65535", s);
	char host[64];
	size_t hl = (size_t)(colon - s);
	if (hl >= sizeof(host) || hl == 0)
		return ml_errorf(err, ML_ECONFIG, "--listen '%s': no address before the port", s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return ml_errorf(err, ML_ECONFIG,
					 "--listen '%s': '%s' is not an IPv6 address", s, host);
		*v6 = 1;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		return ML_OK;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return ml_errorf(err, ML_ECONFIG,
				 "--listen '%s': '%s' is not an IPv4 address ([v6] for IPv6)", s,
				 host);
	*v6 = 0;
	*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	return ML_OK;
}

/*
 * The web pages' folder, resolved once (static.c compares every file's
 * realpath against it). Given explicitly, it must exist; the built-in
 * default (the source tree's web/) is optional: without it the server
 * serves the API only.
 */
static int web_root(struct srv *s, struct ml_error *err)
{
#ifdef ML_WEB_DIR
	const char *dir = s->cfg.web_root ? s->cfg.web_root : ML_WEB_DIR;
#else
	const char *dir = s->cfg.web_root ? s->cfg.web_root : "";
#endif
	if (!dir[0])
		return ML_OK;
	char real[PATH_MAX];
	struct stat st;
	errno = 0;
	if (!realpath(dir, real) || stat(real, &st) || !S_ISDIR(st.st_mode)) {
		if (!s->cfg.web_root)
			return ML_OK;
		char eb[128];
		return ml_errorf(err, ML_ECONFIG, "web pages folder %s: %s", dir,
				 errno ? ml_errno_str(errno, eb, sizeof(eb)) : "not a directory");
	}
	s->web_root = strdup(real);
	return s->web_root ? ML_OK : ml_errorf(err, ML_ENOMEM, "out of memory");
}

static void defaults(struct srv_config *c)
{
	if (!c->threads)
		c->threads = 4;
	if (!c->workers)
		c->workers = 2;
	if (!c->pool_size)
		c->pool_size = c->threads + c->workers + 2;
	if (!c->connection_timeout)
		c->connection_timeout = 30;
	if (!c->connection_limit)
		c->connection_limit = 1024;
	if (!c->connection_memory)
		c->connection_memory = 16 * 1024;
	if (!c->max_body)
		c->max_body = 1024 * 1024;
	if (!c->max_upload)
		c->max_upload = (size_t)32 << 20;
	if (!c->session_ttl)
		c->session_ttl = 12 * 3600;
	if (!c->session_idle)
		c->session_idle = 30 * 60;
	if (!c->login_window)
		c->login_window = 15 * 60;
	if (!c->login_account_limit)
		c->login_account_limit = 5;
	if (!c->login_address_limit)
		c->login_address_limit = 20;
	if (!c->verify_per_minute)
		c->verify_per_minute = 30;
	if (!c->sse_heartbeat)
		c->sse_heartbeat = 15;
	if (!c->sse_recheck)
		c->sse_recheck = 60;
	if (!c->shutdown_timeout)
		c->shutdown_timeout = 30;
	if (!c->pwcost.ops || !c->pwcost.mem)
		c->pwcost = auth_pwcost_default();
}

static void free_srv(struct srv *s)
{
	if (!s)
		return;
	if (s->slow.threads) {
		pthread_mutex_lock(&s->slow.mu);
		s->slow.stop = 1;
		pthread_cond_broadcast(&s->slow.cv);
		pthread_mutex_unlock(&s->slow.mu);
		for (unsigned i = 0; i < s->slow.n; i++)
			pthread_join(s->slow.threads[i], NULL);
		free(s->slow.threads);
	}
	pthread_mutex_destroy(&s->slow.mu);
	pthread_cond_destroy(&s->slow.cv);
	runjobs_free(s->jobs); /* after the slow lane: no start request is half-way */
	sse_hub_free(s->hub);
	pool_close(s->pool);
	metrics_free(s->metrics);
	ratelimit_free(s->verify_rl);
	free(s->tls_cert_pem);
	if (s->tls_key_pem) {
		sodium_memzero(s->tls_key_pem, strlen(s->tls_key_pem));
		free(s->tls_key_pem);
	}
	if (s->own_log_fd)
		close(s->log_fd);
	free(s->web_root);
	free(s);
}

int srv_start(const struct srv_config *cfg, struct srv **out, struct ml_error *err)
{
	*out = NULL;
	struct srv *s = calloc(1, sizeof(*s));
	if (!s)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	s->cfg = *cfg;
	defaults(&s->cfg);
	pthread_mutex_init(&s->slow.mu, NULL);
	pthread_cond_init(&s->slow.cv, NULL);
	s->log_fd = STDERR_FILENO;
	int rc = ML_OK;
	if (cfg->access_log && strcmp(cfg->access_log, "-")) {
		s->log_fd = open(cfg->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (s->log_fd < 0) {
			char eb[128];
			rc = ml_errorf(err, ML_ECONFIG, "cannot open access log %s: %s",
				       cfg->access_log, ml_errno_str(errno, eb, sizeof(eb)));
			s->log_fd = STDERR_FILENO;
		} else {
			s->own_log_fd = 1;
		}
	}
	struct sockaddr_storage ss;
	int v6 = 0, loopback = 0;
	if (!rc)
		rc = parse_listen(s->cfg.listen, &ss, &v6, &loopback, err);
	if (!rc && !s->cfg.tls_cert != !s->cfg.tls_key)
		rc = ml_errorf(err, ML_ECONFIG, "TLS needs both --tls-cert and --tls-key");
	s->tls = s->cfg.tls_cert != NULL;
	if (!rc && !loopback && !s->tls && !s->cfg.insecure_http)
		rc = ml_errorf(err, ML_ECONFIG,
			       "refusing plain HTTP on %s, which is not a loopback address: "
			       "passwords and session cookies would cross the network in clear. "
			       "Give --tls-cert and --tls-key, or --insecure-http if a proxy on "
			       "this host terminates TLS",
			       s->cfg.listen);
	if (!rc && s->tls)
		rc = read_file(s->cfg.tls_cert, &s->tls_cert_pem, err);
	if (!rc && s->tls)
		rc = read_file(s->cfg.tls_key, &s->tls_key_pem, err);
	if (!rc) {
		/* Unknown logins are checked against this, so they take as long as known ones. */
		rc = auth_password_hash("no such user, no such password", s->cfg.pwcost,
					s->dummy_hash, err);
	}
	if (!rc)
		rc = web_root(s, err);
	if (!rc)
		rc = pool_open(s->cfg.conninfo, s->cfg.pool_size, &s->pool, err);
	if (!rc) {
		s->metrics = metrics_new(srv_nroutes);
		s->verify_rl = ratelimit_new(s->cfg.verify_per_minute,
					     s->cfg.verify_per_minute / 3 + 1);
		if (!s->metrics || !s->verify_rl)
			rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	if (!rc)
		rc = sse_hub_start(s, s->cfg.conninfo, s->cfg.sse_heartbeat, &s->hub, err);
	if (!rc)
		rc = runjobs_new(s, s->cfg.runners, &s->jobs, err);
	if (!rc) {
		s->slow.threads = calloc(s->cfg.workers, sizeof(pthread_t));
		if (!s->slow.threads)
			rc = ml_errorf(err, ML_ENOMEM, "out of memory");
		for (unsigned i = 0; !rc && i < s->cfg.workers; i++) {
			if (pthread_create(&s->slow.threads[i], NULL, slow_main, s))
				rc = ml_errorf(err, ML_EINTERNAL, "cannot start a worker thread");
			else
				s->slow.n++;
		}
	}
	if (rc) {
		free_srv(s);
		return rc;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (s->tls)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem opts[20];
	int n = 0;
	/* First, so that the daemon's own start-up messages go to our log too. */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, s };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, s->cfg.threads, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
					     s->cfg.connection_timeout, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, s->cfg.connection_limit,
					     NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
					     (intptr_t)s->cfg.connection_memory, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed,
					     s };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)no_unescape,
					     NULL };
	if (s->tls) {
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key_pem };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
						     s->tls_cert_pem };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
						     (void *)"NORMAL:-VERS-TLS1.0:-VERS-TLS1.1" };
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_ARRAY, opts,
				MHD_OPTION_END);
	if (!s->d) {
		free_srv(s);
		return ml_errorf(err, ML_ECONFIG,
				 "cannot listen on %s (address in use, not available here, or the "
				 "TLS certificate or key is not valid PEM)",
				 cfg->listen);
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	if (s->cfg.port_file) {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.tmp", s->cfg.port_file);
		FILE *f = fopen(tmp, "w");
		if (f) {
			fprintf(f, "%u\n", s->port);
			fclose(f);
			rename(tmp, s->cfg.port_file);
		}
	}
	char msg[200];
	snprintf(msg, sizeof(msg), "listening on %s (port %u, %s, %u threads, %u db connections)",
		 s->cfg.listen, s->port, s->tls ? "https" : "http", s->cfg.threads,
		 s->cfg.pool_size);
	log_line(s, "start", NULL, msg);
	*out = s;
	return ML_OK;
}

unsigned srv_port(const struct srv *s)
{
	return s->port;
}

void srv_stop(struct srv *s)
{
	if (!s)
		return;
	atomic_store(&s->shutting_down, 1);
	MHD_socket ls = MHD_quiesce_daemon(s->d);
	/* Streams never end by themselves: end them, so they do not hold the stop. */
	sse_hub_close_streams(s->hub);
	/* Runs stop at once (interrupted, resumable) while requests finish. */
	runjobs_cancel_all(s->jobs);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/*
	 * Requests in flight finish. A request whose bytes arrived but whose
	 * handler has not run yet is not counted: wait until nothing has been
	 * in flight for 200 ms, so those start (and are then waited for).
	 */
	int left = 0;
	double quiet_since = -1;
	for (;;) {
		left = atomic_load(&s->in_flight);
		double t = elapsed_s(&t0);
		if (t >= (double)s->cfg.shutdown_timeout)
			break;
		if (left > 0)
			quiet_since = -1;
		else if (quiet_since < 0)
			quiet_since = t;
		else if (t - quiet_since >= 0.2)
			break;
		usleep(10000);
	}
	char msg[160];
	snprintf(msg, sizeof(msg), "stopping: %d request(s) still in flight after %.2f s", left,
		 elapsed_s(&t0));
	log_line(s, "stop", NULL, msg);
	/* No connection may stay suspended by the slow lane when the daemon stops. */
	unsigned refused = slow_close(s);
	if (refused || left > 0) {
		/* Let the daemon send the answers just made (Connection: close). */
		struct timespec t1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		while (atomic_load(&s->in_flight) > 0 && elapsed_s(&t1) < 2.0)
			usleep(10000);
		snprintf(msg, sizeof(msg),
			 "stopping: %u waiting slow-lane request(s) answered 503 stopping; %d "
			 "not answered",
			 refused, atomic_load(&s->in_flight));
		log_line(s, "stop", NULL, msg);
	}
	MHD_stop_daemon(s->d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	free_srv(s);
}

int srv_run(const struct srv_config *cfg, struct ml_error *err)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Blocked before any thread starts, so every thread inherits it and only sigwait sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct srv *s = NULL;
	int rc = srv_start(cfg, &s, err);
	if (rc)
		return rc;
	int sig = 0;
	sigwait(&set, &sig);
	srv_stop(s);
	return ML_OK;
}
