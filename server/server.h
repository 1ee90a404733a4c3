/*
 * server.h — `meterlab serve`: the HTTP/JSON API (issue 12).
 *
 * libmicrohttpd with a thread pool on epoll, jansson for JSON, libsodium
 * for passwords and tokens (auth/credential.h), a pool of libpq connections
 * of the meterlab_service login with prepared statements. Every API request
 * is one transaction that begins with ml_api_enter (ml_session_assume plus
 * the route's permission), so the database records and checks the user the
 * request acts for (sql/README.md, "Identity"); public routes (health,
 * metrics, the API description, certificate verification) act for no one.
 *
 * The routes, their permissions and their parameters are one table
 * (server/routes.c) from which the router, the OpenAPI document
 * (/api/openapi.json) and the permission-matrix test are all driven.
 *
 * Design notes and the list of routes: server/README.md.
 */
#ifndef ML_SERVER_H
#define ML_SERVER_H

#include <stddef.h>

#include "auth/credential.h"
#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct srv_config {
	const char *listen;   /* "ADDR:PORT" ("127.0.0.1:8080", "[::1]:0"); port 0 = any */
	const char *conninfo; /* libpq conninfo of the meterlab_service login */
	const char *tls_cert; /* PEM file; with tls_key: HTTPS (GnuTLS) */
	const char *tls_key;  /* PEM file */
	int insecure_http;    /* allow plain HTTP on a non-loopback address */
	unsigned threads;     /* HTTP threads (each multiplexes many connections); 0 -> 4 */
	unsigned workers;     /* slow-lane threads (Argon2id: at most this many at once); 0 -> 2 */
	unsigned pool_size;   /* database connections; 0 -> threads + workers + 2 */
	unsigned connection_timeout; /* seconds a connection may be idle or stalled; 0 -> 30 */
	unsigned connection_limit;   /* open connections; 0 -> 1024 */
	size_t connection_memory;    /* per-connection buffer for headers; 0 -> 16 KiB */
	size_t max_body;             /* request body limit (413 above); 0 -> 1 MiB */
	size_t max_upload;           /* body limit of file uploads (RF_UPLOAD); 0 -> 32 MiB */
	long session_ttl;            /* browser session lifetime, seconds; 0 -> 12 h */
	long session_idle;           /* browser session idle timeout, seconds; 0 -> 30 min */
	long login_window;           /* seconds over which failed logins count; 0 -> 15 min */
	int login_account_limit;     /* bad passwords per account in the window; 0 -> 5 */
	int login_address_limit;     /* failed logins per address in the window; 0 -> 20 */
	unsigned verify_per_minute;  /* public verification requests per address; 0 -> 30 */
	unsigned sse_heartbeat;      /* seconds between SSE heartbeats; 0 -> 15 */
	unsigned sse_recheck;        /* seconds between re-checks of each stream's session;
					0 -> 60 */
	unsigned shutdown_timeout;   /* seconds SIGTERM waits for requests in flight; 0 -> 30 */
	const char *access_log;      /* file for access-log lines; NULL or "-" = stderr */
	const char *port_file;       /* written with the bound port once listening (tests) */
	struct auth_pwcost pwcost;   /* Argon2id cost for new hashes; {0,0} -> INTERACTIVE */
	const char *web_root;        /* folder of the web pages; NULL -> the built-in ML_WEB_DIR,
					"" -> no pages */
	unsigned runners;            /* runs executed at once (POST /api/runs/{id}/start), each
					a thread with its own bench and database connections;
					0 -> none (starts are refused with 503) */
};

struct srv;

/*
 * Start listening (threads running) with cfg (copied). Refuses plain HTTP on
 * a non-loopback address unless insecure_http, a half TLS configuration, an
 * unreadable certificate, or a database the service cannot use (every pool
 * connection is opened and checked here). *out is freed by srv_stop.
 */
int srv_start(const struct srv_config *cfg, struct srv **out, struct ml_error *err) ML_MUSTCHECK;

/* The port bound (useful with port 0). */
unsigned srv_port(const struct srv *s);

/*
 * Graceful stop: stop accepting, end event streams, cancel the runs it
 * executes (they end interrupted and resumable, as ^C on `meterlab run
 * start`), let requests in flight finish (up to shutdown_timeout), wait for
 * the runners to let go, then close everything and free s.
 */
void srv_stop(struct srv *s);

/*
 * The whole of `meterlab serve`: start, wait for SIGTERM or SIGINT
 * (blocked in every thread; only this waits for them), stop gracefully.
 */
int srv_run(const struct srv_config *cfg, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
