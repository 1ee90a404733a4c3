/*
 * srv.h — the server's insides, shared by the server part (and the tests that
 * read the route table). Not an API for other parts.
 */
#ifndef ML_SERVER_SRV_H
#define ML_SERVER_SRV_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#ifndef __cplusplus
#include <stdatomic.h>
#endif
#include <stdint.h>
#include <time.h>

#include "auth/credential.h"
#include "common/buf.h"
#include "common/ml_error.h"
#include "server/server.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the route table (server/routes.c) ---- */

enum param_type {
	PT_STRING,
	PT_INT,    /* JSON integer / decimal digits in a query */
	PT_BOOL,   /* JSON true/false; "true"/"false" in a query */
	PT_STRINGS /* JSON array of strings */
};

struct route_param {
	const char *name;
	enum param_type type;
	int required;
	long max;         /* strings: characters; ints: largest value; arrays: elements */
	const char *desc; /* for the OpenAPI document */
};

enum route_auth {
	AUTH_PUBLIC = 0,  /* no user: health, metrics, API description, verification, login */
	AUTH_SESSION = 1, /* a live session (cookie or bearer token) and the route's permission */
};

enum route_flags {
	RF_SLOW = 1,       /* runs on the slow lane (worker threads), connection suspended */
	RF_STREAM = 2,     /* answers with Server-Sent Events */
	RF_IDEMPOTENT = 4, /* a POST that accepts Idempotency-Key */
	RF_NO_TX = 8,      /* the handler opens its own transactions (or none) */
	RF_HTML = 16,      /* may answer text/html (content negotiation) */
	RF_RAW = 32,       /* answers something other than JSON (metrics text, PDF) */
	RF_BROWSER = 64,   /* needs a password (browser) session, not an API token */
	RF_UPLOAD =
		128, /* a file in the body: up to --max-upload, not --max-body (use with RF_SLOW) */
	RF_ONE_STMT = 256, /* a read whose handler makes exactly one statement: it travels with
			    * ml_api_enter in one round trip (http.c, run_one_statement) */
};

/*
 * Batch routes: a route whose body takes an array of more than
 * SLOW_BATCH_MIN_MAX strings (the scans of a move, a put-away, a count, an
 * order's pick: up to 100 000 codes) runs on the slow lane when its body is
 * larger than SLOW_BATCH_BYTES, without RF_SLOW in the table: 40 000 codes
 * take seconds, which on an HTTP thread stall every connection of that
 * thread (http.c's header rule). A scanner's single scan or a few dozen
 * (under 4 KiB, about 150 barcodes: milliseconds) stay on the HTTP thread,
 * without the suspension and without queueing behind logins. Derived from
 * the body parameters, so a batch route added to the table needs no flag.
 */
#define SLOW_BATCH_MIN_MAX 1000
#define SLOW_BATCH_BYTES 4096

struct req;
typedef int (*route_fn)(struct req *rq, struct ml_error *err);

struct route {
	const char *method;  /* GET, POST */
	const char *pattern; /* "/api/assets/{barcode}": {name} matches one path segment */
	route_fn fn;
	enum route_auth auth;
	const char *perm; /* permission checked in the database (ml_require); NULL = any user */
	unsigned flags;
	const struct route_param *path;  /* descriptions of the {} segments, in order */
	const struct route_param *query; /* allowed query parameters (others are refused) */
	const struct route_param *body;  /* allowed JSON body fields (others are refused) */
	int ok_status;                   /* 200, 201 */
	const char *tag;                 /* OpenAPI tag */
	const char *summary;
	const char *response; /* JSON Schema text of the success body (OpenAPI) */
	/*
	 * A request that exercises the route: path (with query) and body (NULL:
	 * none). The permission-matrix test sends it as every role; "{role}" in
	 * the body stands for the caller's role.
	 */
	const char *probe_path, *probe_body;
};

extern const struct route srv_routes[];
extern const size_t srv_nroutes;

#define ROUTE_MAX_SEGS 8
#define ROUTE_MAX_QUERY 16

/*
 * Match method + path (raw, still percent-encoded) against the table.
 * Returns the route index, or -1 when no pattern matches the path (404),
 * or -2 when a pattern matches but not the method (405; allow lists the
 * methods, comma-separated).
 */
int router_match(const char *method, const char *path, char allow[64]);

/* ---- database pool (server/pool.c) ---- */

struct pool;
#define POOL_ENTER_STMT "ml_enter" /* prepared on every pool connection */
int pool_open(const char *conninfo, unsigned size, struct pool **out,
	      struct ml_error *err) ML_MUSTCHECK;
void pool_close(struct pool *p);
/* A connection, waiting up to wait_ms; NULL when none came (ML_ENOMEM-like: 503). */
struct db *pool_get(struct pool *p, unsigned wait_ms);
/* Give it back; a broken connection is reset here, an open transaction rolled back. */
void pool_put(struct pool *p, struct db *db);
void pool_stats(struct pool *p, unsigned *size, unsigned *in_use, unsigned long *waits,
		unsigned long *timeouts, unsigned long *resets);

/* ---- metrics (server/metrics.c) ---- */

#define MET_BUCKETS 12
struct metrics;
struct metrics *metrics_new(size_t nroutes);
void metrics_free(struct metrics *m);
/* route = index in srv_routes, or srv_nroutes for "no route". */
void metrics_observe(struct metrics *m, size_t route, int status, double seconds);
int metrics_render(struct metrics *m, struct srv *s, struct ml_buf *out) ML_MUSTCHECK;

/* ---- per-address rate limit (server/ratelimit.c) ---- */

struct ratelimit;
struct ratelimit *ratelimit_new(unsigned per_minute, unsigned burst);
void ratelimit_free(struct ratelimit *r);
/* 1 when addr may go on; 0 with *retry_after seconds when not. */
int ratelimit_take(struct ratelimit *r, const char *addr, unsigned *retry_after);

/* ---- Server-Sent Events (server/sse.c) ---- */

struct sse_hub;
int sse_hub_start(struct srv *s, const char *conninfo, unsigned heartbeat_s, struct sse_hub **out,
		  struct ml_error *err) ML_MUSTCHECK;
/* End every stream (they finish cleanly) and stop the listener thread. */
void sse_hub_close_streams(struct sse_hub *h);
void sse_hub_free(struct sse_hub *h);
unsigned sse_hub_streams(struct sse_hub *h);
struct sse_stream;
/*
 * A response streaming run events: run_id > 0 for one run, 0 for all.
 * token_param/perm: the session and permission the stream is checked
 * against every minute. The stream receives every event broadcast from
 * the moment this returns; *stream (may be NULL), owned by the response
 * (freed with it), lets the caller add text with sse_send until the
 * response is queued. NULL on failure.
 */
struct MHD_Response *sse_response(struct sse_hub *h, struct MHD_Connection *c, int64_t run_id,
				  const char *token_param, const char *perm,
				  struct sse_stream **stream);
/* Queue text on one stream, after what it holds already. */
void sse_send(struct sse_hub *h, struct sse_stream *st, const char *text);

/* ---- runs executed by the server (server/runjob.c) ---- */

struct runjobs;
/* At most max runs at once (0: this server executes none; starts get 503). */
int runjobs_new(struct srv *s, unsigned max, struct runjobs **out,
		struct ml_error *err) ML_MUSTCHECK;
/* Runs executing now. */
unsigned runjobs_active(struct runjobs *js);
/* The limit (--runners) and the runner threads executing a run now (starting ones included). */
void runjobs_stats(struct runjobs *js, unsigned *max, unsigned *busy);
/*
 * If this server executes run_id: cancel it (it ends interrupted) and wait
 * up to wait_s seconds for the runner to let go. 0: not executed here;
 * 1: stopped; -1: still stopping.
 */
int runjobs_stop_run(struct runjobs *js, int64_t run_id, unsigned wait_s);
/* Shutdown: refuse new runs and cancel every run (does not wait). */
void runjobs_cancel_all(struct runjobs *js);
/* Cancel, wait for every runner to end and its job session to be revoked, free. NULL-safe. */
void runjobs_free(struct runjobs *js);

/* ---- the server ---- */

struct slow_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct req *head, *tail;
	int stop;
	pthread_t *threads;
	unsigned n;
	unsigned busy;   /* threads running a request (mu) */
	unsigned queued; /* requests waiting for a thread (mu) */
	int closed;      /* shutting down: takes no more requests (mu) */
};
/* The slow lane's threads running a request, all its threads, requests waiting (metrics). */
void slow_stats(struct srv *s, unsigned *busy, unsigned *threads, unsigned *queued);

#ifndef __cplusplus /* C11 atomics; the tests (C++) only read the route table */
struct srv {
	struct srv_config cfg;
	struct MHD_Daemon *d;
	unsigned port;
	int tls;
	char *tls_cert_pem, *tls_key_pem;
	struct pool *pool;
	struct metrics *metrics;
	struct ratelimit *verify_rl;
	struct sse_hub *hub;
	struct slow_queue slow;
	struct runjobs *jobs; /* runs executed here (--runners) */
	int log_fd;
	int own_log_fd;
	atomic_int in_flight; /* requests begun and not completed (streams excluded) */
	atomic_int shutting_down;
	atomic_ulong req_seq;
	char dummy_hash[AUTH_PWHASH_MAX]; /* verified for unknown logins: same time as a real one */
	char *web_root; /* realpath of the web pages' folder, NULL: none served (malloc'd) */
};
#endif

/* ---- one request ---- */

enum req_state {
	RQ_HEADERS = 0, /* first call seen */
	RQ_BODY,        /* receiving the body */
	RQ_SLOW,        /* on the slow lane, connection suspended */
	RQ_READY,       /* answer prepared (by the slow lane), to be queued */
	RQ_QUEUED,      /* answer queued */
};

struct kv {
	char *name, *value;
};

#define REQ_MAX_HEADERS 6

struct who {
	int64_t user_id;
	char login[64];
	int64_t session_id;
	char kind[16]; /* browser, api */
};

struct req {
	struct srv *srv;
	struct MHD_Connection *conn;
	struct req *next; /* slow-lane queue */
	enum req_state state;
	int route;   /* index in srv_routes, -1 none */
	int matched; /* 0 no path, -2 method, 1 ok */
	char allow[64];
	char method[12];
	char *path;                /* raw path (malloc'd) */
	char *seg[ROUTE_MAX_SEGS]; /* decoded path parameters, in pattern order (malloc'd) */
	int nseg;
	struct kv query[ROUTE_MAX_QUERY]; /* decoded query (malloc'd) */
	int nquery;
	int bad_query; /* 400 with bad_msg */
	char bad_msg[256];
	struct ml_buf body;
	int too_large;
	json_t *in; /* parsed body */
	char addr[64];
	char id[24];
	struct timespec t0;
	int is_stream;
	/* authentication */
	int via_cookie;
	char token[AUTH_TOKEN_TEXT_LEN + 1];
	unsigned char token_hash[AUTH_TOKEN_HASH_BYTES];
	char token_param[AUTH_HASH_HEX_LEN + 1];
	int has_token;
	struct who who;
	int authed;
	struct db *db; /* pool connection while the handler runs */
	/* the answer */
	int status;
	json_t *out; /* JSON answer, or */
	char *raw;   /* raw bytes (malloc'd) */
	size_t raw_len;
	const char *ctype;         /* of raw */
	struct MHD_Response *resp; /* prepared (streams, slow lane) */
	struct kv hdr[REQ_MAX_HEADERS];
	int nhdr;
	size_t sent_bytes;
};

/* One structured line in the server's log (the access log's file). */
void srv_log(struct srv *s, const char *event, const char *msg);

/* Handler helpers (server/http.c). */
const char *req_seg(const struct req *rq, int i);
const char *req_query(const struct req *rq, const char *name);
/* Add a response header (copied). */
void req_header(struct req *rq, const char *name, const char *value);
/* Answer JSON (takes the reference). */
void req_json(struct req *rq, int status, json_t *v);
/* Answer raw bytes (copied) with a content type. */
int req_raw(struct req *rq, int status, const char *ctype, const void *p, size_t n);
/* Answer the error shape {"error":{code,message,details}} (details: NULL -> {}; reference taken). */
void req_error(struct req *rq, int status, const char *code, const char *message, json_t *details);
/* Answer an ml_err: status and code mapped (server/http.c err_map). */
void req_fail(struct req *rq, const struct ml_error *err);
/* The database connection of this request (taken from the pool on first use). */
struct db *req_db(struct req *rq, struct ml_error *err);
/*
 * For RF_NO_TX handlers: BEGIN and ml_api_enter with the route's permission
 * (the transaction is left open). 0; -1 when a 401 was answered; else an
 * ml_err (rolled back).
 */
int req_enter(struct req *rq, struct ml_error *err);
/* A request header's value, or NULL. */
const char *req_hdr(struct req *rq, const char *name);

/* HTTP status and error code for an ml_err. */
int err_status(int code);
const char *err_code(int code);

/* ---- JSON out of PGresults (server/jsonout.c) ---- */

/* Row r as an object: int8/int4/int2 as integers, bool as true/false, json/jsonb parsed,
 * a column named "details" parsed as JSON, everything else (numeric too: exact) as strings. */
json_t *json_row(const PGresult *res, int r);
json_t *json_rows(const PGresult *res);

/* ---- handlers (server/h_*.c) ---- */

int h_healthz(struct req *rq, struct ml_error *err);
int h_metrics(struct req *rq, struct ml_error *err);
int h_openapi(struct req *rq, struct ml_error *err);
int h_login(struct req *rq, struct ml_error *err);
int h_logout(struct req *rq, struct ml_error *err);
int h_whoami(struct req *rq, struct ml_error *err);
int h_password(struct req *rq, struct ml_error *err);
int h_token_list(struct req *rq, struct ml_error *err);
int h_token_create(struct req *rq, struct ml_error *err);
int h_token_revoke(struct req *rq, struct ml_error *err);
int h_asset_get(struct req *rq, struct ml_error *err);
int h_asset_list(struct req *rq, struct ml_error *err);
int h_asset_history(struct req *rq, struct ml_error *err);
int h_model_list(struct req *rq, struct ml_error *err);
int h_location_list(struct req *rq, struct ml_error *err);
int h_bench_list(struct req *rq, struct ml_error *err);
int h_bench_get(struct req *rq, struct ml_error *err);
int h_standard_list(struct req *rq, struct ml_error *err);
int h_standard_get(struct req *rq, struct ml_error *err);
int h_run_list(struct req *rq, struct ml_error *err);
int h_run_get(struct req *rq, struct ml_error *err);
int h_run_create(struct req *rq, struct ml_error *err);
int h_standard_certify(struct req *rq, struct ml_error *err);
int h_scheme_list(struct req *rq, struct ml_error *err);
int h_scheme_get(struct req *rq, struct ml_error *err);
int h_scheme_save(struct req *rq, struct ml_error *err);
int h_scheme_activate(struct req *rq, struct ml_error *err);
int h_scheme_retire(struct req *rq, struct ml_error *err);
int h_trace(struct req *rq, struct ml_error *err);
int h_trace_flag(struct req *rq, struct ml_error *err);
int h_run_abort(struct req *rq, struct ml_error *err);
int h_run_start(struct req *rq, struct ml_error *err);
int h_run_events(struct req *rq, struct ml_error *err);
int h_runs_events(struct req *rq, struct ml_error *err);
int h_verify(struct req *rq, struct ml_error *err);
/* the warehouse and the field (h_stores.c, issue 11) */
int h_stock_counts(struct req *rq, struct ml_error *err);
int h_slot_list(struct req *rq, struct ml_error *err);
int h_stock_putaway(struct req *rq, struct ml_error *err);
int h_asset_where(struct req *rq, struct ml_error *err);
int h_order_list(struct req *rq, struct ml_error *err);
int h_order_get(struct req *rq, struct ml_error *err);
int h_order_create(struct req *rq, struct ml_error *err);
int h_order_pick(struct req *rq, struct ml_error *err);
int h_order_dispatch(struct req *rq, struct ml_error *err);
int h_order_receive(struct req *rq, struct ml_error *err);
int h_order_close(struct req *rq, struct ml_error *err);
int h_point_get(struct req *rq, struct ml_error *err);
int h_field_install(struct req *rq, struct ml_error *err);
int h_field_remove(struct req *rq, struct ml_error *err);
int h_field_swap(struct req *rq, struct ml_error *err);
int h_field_fault(struct req *rq, struct ml_error *err);
int h_seal_list(struct req *rq, struct ml_error *err);
int h_seal_apply(struct req *rq, struct ml_error *err);
int h_fault_get(struct req *rq, struct ml_error *err);
int h_fault_arbitration(struct req *rq, struct ml_error *err);
int h_asset_move(struct req *rq, struct ml_error *err);
int h_retire_list(struct req *rq, struct ml_error *err);
int h_retire_request(struct req *rq, struct ml_error *err);
int h_retire_approve(struct req *rq, struct ml_error *err);
int h_retire_reject(struct req *rq, struct ml_error *err);
int h_delivery_receive(struct req *rq, struct ml_error *err);
/* certificates (h_certs.c) */
int h_cert_list(struct req *rq, struct ml_error *err);
int h_cert_get(struct req *rq, struct ml_error *err);
int h_cert_pdf(struct req *rq, struct ml_error *err);
int h_cert_check(struct req *rq, struct ml_error *err);
int h_cert_approve(struct req *rq, struct ml_error *err);
int h_cert_withdraw(struct req *rq, struct ml_error *err);
int h_cert_revise(struct req *rq, struct ml_error *err);
int h_run_cert_check(struct req *rq, struct ml_error *err);
int h_run_cert_approve(struct req *rq, struct ml_error *err);
/* for the web pages (h_web.c, issue 13) */
int h_cert_preview(struct req *rq, struct ml_error *err);
int h_field_team(struct req *rq, struct ml_error *err);
int h_summary(struct req *rq, struct ml_error *err);
int h_count_submit(struct req *rq, struct ml_error *err);
int h_count_confirm(struct req *rq, struct ml_error *err);
int h_reverify_list(struct req *rq, struct ml_error *err);
int h_reverify_send(struct req *rq, struct ml_error *err);
int h_seal_receive(struct req *rq, struct ml_error *err);
int h_seal_issue(struct req *rq, struct ml_error *err);
int h_seal_destroy(struct req *rq, struct ml_error *err);
int h_seal_history(struct req *rq, struct ml_error *err);
int h_fault_list(struct req *rq, struct ml_error *err);
int h_fault_outcome(struct req *rq, struct ml_error *err);
int h_run_manual(struct req *rq, struct ml_error *err);
int h_retire_show(struct req *rq, struct ml_error *err);
int h_count_show(struct req *rq, struct ml_error *err);
int h_count_reject(struct req *rq, struct ml_error *err);
/* planning (h_plan.c, issue 15) */
int h_plan_orders(struct req *rq, struct ml_error *err);
int h_plan_order_cancel(struct req *rq, struct ml_error *err);
int h_plan_inspect(struct req *rq, struct ml_error *err);
int h_plan_calendar(struct req *rq, struct ml_error *err);
int h_plan_actual(struct req *rq, struct ml_error *err);
int h_watch_list(struct req *rq, struct ml_error *err);
int h_watch_show(struct req *rq, struct ml_error *err);
int h_watch_close(struct req *rq, struct ml_error *err);

/* ---- the web pages (server/static.c) ---- */

/*
 * Answer GET/HEAD of a path no route matched from the web root: the file,
 * 304 when If-None-Match holds its ETag, else 404 (also for every refused
 * path). Always answers; returns 0.
 */
int static_serve(struct req *rq);
/* The MIME type of a file name by its extension, NULL for a type not served. */
const char *static_mime(const char *path);
/*
 * Decode a raw request path into out ("/dir/" → "/dir/index.html"); -1 for a
 * path that is refused (bad escape, control character, backslash, an empty,
 * "." or ".." segment, a segment starting with a dot, too long).
 */
int static_clean_path(const char *raw, char *out, size_t outsz);

/* The OpenAPI document built from the route table (server/openapi.c). */
json_t *openapi_document(void);

/* The CSRF token of a browser session (derived from its token). */
int csrf_token(const struct req *rq, char out[AUTH_TOKEN_TEXT_LEN + 1]);

#ifdef __cplusplus
}
#endif
#endif
