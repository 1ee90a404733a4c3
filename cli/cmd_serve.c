/*
 * meterlab serve — the HTTP/JSON API server (server/server.h). Thin: the
 * options become a struct srv_config; srv_run does the rest until SIGTERM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "server/server.h"

struct serve_args {
	const char *listen, *cert, *key, *insecure, *threads, *workers, *pool, *ctimeout, *maxbody,
		*maxup, *ttl, *idle, *lwin, *lacc, *laddr, *vpm, *beat, *stop, *alog, *pfile, *ops,
		*mem, *web, *runners, *recheck;
	struct srv_config cfg; /* filled by check */
};

static const struct cli_opt serve_opts[] = {
	CLI_REQ("listen", struct serve_args, listen),
	CLI_OPT("tls-cert", struct serve_args, cert),
	CLI_OPT("tls-key", struct serve_args, key),
	CLI_FLAG("insecure-http", struct serve_args, insecure),
	CLI_OPT("threads", struct serve_args, threads),
	CLI_OPT("workers", struct serve_args, workers),
	CLI_OPT("pool", struct serve_args, pool),
	CLI_OPT("connection-timeout", struct serve_args, ctimeout),
	CLI_OPT("max-body", struct serve_args, maxbody),
	CLI_OPT("max-upload", struct serve_args, maxup),
	CLI_OPT("session-ttl", struct serve_args, ttl),
	CLI_OPT("session-idle", struct serve_args, idle),
	CLI_OPT("login-window", struct serve_args, lwin),
	CLI_OPT("login-account-limit", struct serve_args, lacc),
	CLI_OPT("login-address-limit", struct serve_args, laddr),
	CLI_OPT("verify-per-minute", struct serve_args, vpm),
	CLI_OPT("sse-heartbeat", struct serve_args, beat),
	CLI_OPT("shutdown-timeout", struct serve_args, stop),
	CLI_OPT("access-log", struct serve_args, alog),
	CLI_OPT("port-file", struct serve_args, pfile),
	CLI_OPT("pwhash-ops", struct serve_args, ops),
	CLI_OPT("pwhash-mem", struct serve_args, mem),
	CLI_OPT("web", struct serve_args, web),
	CLI_OPT("runners", struct serve_args, runners),
	CLI_OPT("sse-recheck", struct serve_args, recheck),
	CLI_OPT_END,
};

/* One numeric option into *out (left 0, the server's default, when not given). */
static int num(struct cli_call *c, const char *what, const char *v, long long lo, long long hi,
	       long long *out)
{
	*out = 0;
	return cli_parse_ll(c, what, v, lo, hi, out);
}

static int serve_check(struct cli_ctx *ctx, struct cli_call *c)
{
	struct serve_args *a = c->args;
	struct srv_config *cfg = &a->cfg;
	long long v[17], o = 0, m = 0;
	const struct {
		const char *what, *val;
		long long lo, hi;
	} n[] = {
		{ "--threads", a->threads, 1, 256 },
		{ "--workers", a->workers, 1, 64 },
		{ "--pool", a->pool, 1, 1000 },
		{ "--connection-timeout", a->ctimeout, 1, 86400 },
		{ "--max-body", a->maxbody, 1024, 1LL << 30 },
		{ "--session-ttl", a->ttl, 60, 366LL * 86400 },
		{ "--session-idle", a->idle, 60, 366LL * 86400 },
		{ "--login-window", a->lwin, 1, 86400 },
		{ "--login-account-limit", a->lacc, 1, 1000 },
		{ "--login-address-limit", a->laddr, 1, 100000 },
		{ "--verify-per-minute", a->vpm, 1, 100000 },
		{ "--sse-heartbeat", a->beat, 1, 3600 },
		{ "--shutdown-timeout", a->stop, 1, 3600 },
		{ "--max-upload", a->maxup, 1024, 1LL << 30 },
		{ "--runners", a->runners, 0, 64 },
		{ "--sse-recheck", a->recheck, 1, 3600 },
	};
	int rc = ML_OK;
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]) && !rc; i++)
		rc = num(c, n[i].what, n[i].val, n[i].lo, n[i].hi, &v[i]);
	if (!rc)
		rc = num(c, "--pwhash-ops", a->ops, 1, 100, &o);
	if (!rc)
		rc = num(c, "--pwhash-mem", a->mem, 8192, 1LL << 32, &m);
	if (rc)
		return rc;
	if (!a->ops != !a->mem)
		return cli_call_usage(c, "--pwhash-ops and --pwhash-mem go together");
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen = a->listen;
	cfg->conninfo = ctx->conninfo;
	cfg->tls_cert = a->cert;
	cfg->tls_key = a->key;
	cfg->insecure_http = a->insecure != NULL;
	cfg->threads = (unsigned)v[0];
	cfg->workers = (unsigned)v[1];
	cfg->pool_size = (unsigned)v[2];
	cfg->connection_timeout = (unsigned)v[3];
	cfg->max_body = (size_t)v[4];
	cfg->session_ttl = (long)v[5];
	cfg->session_idle = (long)v[6];
	cfg->login_window = (long)v[7];
	cfg->login_account_limit = (int)v[8];
	cfg->login_address_limit = (int)v[9];
	cfg->verify_per_minute = (unsigned)v[10];
	cfg->sse_heartbeat = (unsigned)v[11];
	cfg->shutdown_timeout = (unsigned)v[12];
	cfg->max_upload = (size_t)v[13];
	cfg->runners = (unsigned)v[14];
	cfg->sse_recheck = (unsigned)v[15];
	cfg->access_log = a->alog;
	cfg->port_file = a->pfile;
	cfg->web_root = a->web;
	cfg->pwcost.ops = (unsigned long long)o;
	cfg->pwcost.mem = (size_t)m;
	return ML_OK;
}

static int serve_run(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	struct serve_args *a = c->args;
	int rc = auth_crypto_init(&c->err);
	if (rc)
		return rc;
	return srv_run(&a->cfg, &c->err);
}

const struct cli_cmd cmd_serve = {
	.name = "serve",
	.check = serve_check,
	.run = serve_run,
	CLI_ARGS(struct serve_args, serve_opts),
	.need = "serve needs --listen ADDR:PORT",
	.help = "usage: meterlab serve --listen ADDR:PORT [options]\n"
		"       (with --db 'CONNINFO user=meterlab_service' or METERLAB_DB)\n"
		"\n"
		"Serve the HTTP/JSON API (the routes: GET /api/openapi.json). The database login\n"
		"must be meterlab_service; every request acts for the user whose session or API\n"
		"token it carries. Runs until SIGTERM or SIGINT, then stops accepting, lets the\n"
		"requests in flight finish and exits.\n"
		"\n"
		"  --listen ADDR:PORT        127.0.0.1:8080, [::1]:8080, 0.0.0.0:8443 (port 0: any)\n"
		"  --tls-cert FILE --tls-key FILE   HTTPS (PEM); required off loopback unless\n"
		"  --insecure-http           plain HTTP off loopback (a TLS proxy in front)\n"
		"  --threads N               HTTP threads (default 4)\n"
		"  --workers N               password-hashing threads = concurrent logins (default 2)\n"
		"  --pool N                  database connections (default threads + workers + 2)\n"
		"  --connection-timeout S    idle or stalled connections are closed (default 30)\n"
		"  --max-body BYTES          larger request bodies get 413 (default 1048576)\n"
		"  --max-upload BYTES        the same for file uploads (deliveries; default 33554432)\n"
		"  --session-ttl S           browser session lifetime (default 43200)\n"
		"  --session-idle S          browser session idle timeout (default 1800)\n"
		"  --login-window S          failed logins count this long (default 900)\n"
		"  --login-account-limit N   bad passwords per account in the window (default 5)\n"
		"  --login-address-limit N   failed logins per address in the window (default 20)\n"
		"  --verify-per-minute N     public certificate checks per address (default 30)\n"
		"  --sse-heartbeat S         event-stream heartbeat (default 15)\n"
		"  --sse-recheck S           re-check each event stream's session (default 60)\n"
		"  --shutdown-timeout S      how long SIGTERM waits for requests (default 30)\n"
		"  --access-log FILE         one JSON line per request (default: standard error)\n"
		"  --port-file FILE          write the bound port there once listening\n"
		"  --web DIR                 the web pages' folder (default: web/ of the source tree;\n"
		"                            --web '' serves the API only)\n"
		"  --runners N               runs this server executes at once, started with\n"
		"                            POST /api/runs/{id}/start (default 0: none; the\n"
		"                            lab machine runs them with `meterlab run start`)\n"
		"  --pwhash-ops N --pwhash-mem BYTES   Argon2id cost of new password hashes\n"
		"                            (default libsodium INTERACTIVE: 2, 67108864)",
};
