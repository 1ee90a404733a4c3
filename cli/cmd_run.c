/*
 * meterlab run create|start|start-many|resume|abort|manual|show|list —
 * verification runs on benches (lab/task.h, lab/runner.h, lab/manual.h).
 */
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/json.h"
#include "lab/decimal.h"
#include "lab/manual.h"
#include "lab/result.h"
#include "lab/runner.h"
#include "lab/task.h"

#define RUN_MAX_MANY 64

static char *read_file(const char *path, struct ml_error *err)
{
	FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "rb");
	if (!f) {
		ml_errorf(err, ML_EIO, "cannot open '%s'", path);
		return NULL;
	}
	struct ml_buf b = ML_BUF_INIT;
	ml_buf_init(&b, 16 << 20);
	char chunk[4096];
	size_t n;
	int rc = 0;
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = ml_buf_append(&b, chunk, n);
	rc = rc || ferror(f) || ml_buf_putc(&b, '\0');
	if (f != stdin)
		fclose(f);
	if (rc) {
		ml_buf_free(&b);
		ml_errorf(err, ML_EIO, "cannot read '%s'", path);
		return NULL;
	}
	return ml_buf_detach(&b, NULL);
}

/* ---- progress ---- */

struct progress {
	pthread_mutex_t mu;
	int json;
};

static const char *ev_name(enum runner_event_kind k)
{
	static const char *const n[] = { "",          "start",     "step",     "progress",
					 "step_done", "reconnect", "finished", "error" };
	return k >= RUNNER_EV_START && k <= RUNNER_EV_ERROR ? n[k] : "event";
}

static void ev_json(struct ml_buf *b, const struct runner_event *ev)
{
	int rc = ml_buf_putc(b, '{') || ml_json_kv_str(b, 1, "event", ev_name(ev->kind)) ||
		 ml_json_kv_int(b, 0, "run_id", ev->run_id) ||
		 ml_json_kv_str(b, 0, "bench", ev->bench) ||
		 ml_json_kv_int(b, 0, "step", ev->step) ||
		 ml_json_kv_int(b, 0, "steps_total", ev->steps_total) ||
		 ml_json_kv_str(b, 0, "label", ev->label) ||
		 ml_json_kv_int(b, 0, "positions_done", ev->positions_done) ||
		 ml_json_kv_int(b, 0, "positions_total", ev->positions_total) ||
		 ml_json_kv_int(b, 0, "failures", ev->failures);
	if (ev->kind == RUNNER_EV_FINISHED)
		rc = rc || ml_json_kv_int(b, 0, "passed", ev->passed) ||
		     ml_json_kv_int(b, 0, "failed", ev->failed);
	if (ev->message[0])
		rc = rc || ml_json_kv_str(b, 0, "message", ev->message);
	(void)!(rc || ml_buf_puts(b, "}\n"));
}

static void ev_text(struct ml_buf *b, const struct runner_event *ev)
{
	const char *k = ev_name(ev->kind);
	int rc = ml_buf_printf(b, "[%s run %" PRId64 "] ", ev->bench, ev->run_id);
	if (ev->kind == RUNNER_EV_FINISHED)
		rc = rc ||
		     ml_buf_printf(b, "finished: %d passed, %d failed (%d failed step results)\n",
				   ev->passed, ev->failed, ev->failures);
	else if (ev->kind == RUNNER_EV_START)
		rc = rc || ml_buf_printf(b, "start: %d steps, %d positions\n", ev->steps_total,
					 ev->positions_total);
	else if (ev->kind == RUNNER_EV_STEP)
		rc = rc || ml_buf_printf(b, "step %d/%d %s: started\n", ev->step, ev->steps_total,
					 ev->label);
	else if (ev->kind == RUNNER_EV_RECONNECT || ev->kind == RUNNER_EV_ERROR)
		rc = rc || ml_buf_printf(b, "%s at step %d: %s\n", k, ev->step, ev->message);
	else
		rc = rc ||
		     ml_buf_printf(
			     b, "step %d/%d %s: %d/%d positions done, %d failure%s so far%s\n",
			     ev->step, ev->steps_total, ev->label, ev->positions_done,
			     ev->positions_total, ev->failures, ev->failures == 1 ? "" : "s", "");
	(void)rc;
}

static void on_event(void *arg, const struct runner_event *ev)
{
	struct progress *p = arg;
	/* Per-position progress only for machines: a terminal is shown step lines. */
	if (ev->kind == RUNNER_EV_PROGRESS && !p->json)
		return;
	struct ml_buf b = ML_BUF_INIT;
	if (p->json)
		ev_json(&b, ev);
	else
		ev_text(&b, ev);
	pthread_mutex_lock(&p->mu);
	FILE *f = p->json ? stdout : stderr;
	fwrite(ml_buf_str(&b), 1, b.len, f);
	fflush(f);
	pthread_mutex_unlock(&p->mu);
	ml_buf_free(&b);
}

/* ---- execution ---- */

struct exec_opts {
	struct runner_options ro;
	struct progress prog;
	int bad; /* CLI_USAGE once an option value was refused (already reported) */
};

/* SIGINT/SIGTERM: ask every runner to stop cleanly (source off, run 'interrupted', resumable). */
static volatile sig_atomic_t cancel_flag;
static void on_signal(int sig)
{
	(void)sig;
	cancel_flag = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* A numeric execution option in lo..hi; a bad value is reported now and remembered in x->bad. */
static void exec_num(struct exec_opts *x, const char *name, const char *v, long long lo,
		     long long hi, int *out)
{
	long long n;
	int rc = cli_parse_ll(name, v, lo, hi, &n);
	if (rc)
		x->bad = rc;
	else
		*out = (int)n;
}

/* One execution option at argv[*i]: 1 when taken (check x->bad after the loop), 0 otherwise. */
static int exec_opt(int argc, char **argv, int *i, struct exec_opts *x)
{
	const char *v = NULL;
	if (cli_take_opt(argc, argv, i, "--poll-ms", &v))
		exec_num(x, "--poll-ms", v, 1, 60000, &x->ro.poll_ms);
	else if (cli_take_opt(argc, argv, i, "--stop-after", &v))
		exec_num(x, "--stop-after", v, 0, INT_MAX, &x->ro.stop_after_steps);
	else if (cli_take_opt(argc, argv, i, "--stall-timeout-ms", &v))
		exec_num(x, "--stall-timeout-ms", v, 0, INT_MAX, &x->ro.stall_timeout_ms);
	else if (cli_take_opt(argc, argv, i, "--operator", &v))
		x->ro.actor = v;
	else
		return 0;
	return 1;
}

static void exec_init(struct cli_ctx *ctx, struct exec_opts *x)
{
	runner_options_default(&x->ro);
	x->bad = 0;
	pthread_mutex_init(&x->prog.mu, NULL);
	x->prog.json = ctx->json;
	x->ro.on_event = on_event;
	x->ro.event_arg = &x->prog;
	x->ro.cancel = &cancel_flag;
	catch_signals();
}

static int execute(struct cli_ctx *ctx, struct exec_opts *x, const int64_t *ids, size_t n)
{
	struct runner_outcome *out = calloc(n, sizeof(*out));
	if (!out)
		return CLI_INTERNAL;
	struct ml_error err = ML_ERROR_INIT;
	int rc = n == 1 ? runner_execute(ctx->conninfo, ids[0], &x->ro, out, &err)
			: runner_execute_many(ctx->conninfo, ids, n, &x->ro, out, &err);
	int any_failed = 0;
	for (size_t i = 0; i < n; i++) {
		any_failed |= out[i].failed > 0;
		if (out[i].code && n > 1)
			fprintf(stderr, "meterlab: run %" PRId64 ": %s: %s\n", out[i].run_id,
				ml_strerror(out[i].code), out[i].msg);
		else if (!out[i].code && !ctx->json)
			printf("run %" PRId64 ": %s, %d passed, %d failed%s\n", out[i].run_id,
			       out[i].status, out[i].passed, out[i].failed,
			       out[i].untested ? ", some not present (moved to reverify)" : "");
	}
	free(out);
	pthread_mutex_destroy(&x->prog.mu);
	if (rc)
		return n == 1 ? cli_fail(&err) : cli_exit_code(rc);
	return any_failed ? CLI_FAIL : CLI_OK;
}

/* ---- create ---- */

struct create_args {
	struct task_spec spec;
	struct task_slot slots[97];
	const char *map_file;
};

static int create_opt(int argc, char **argv, int *i, struct create_args *c, struct ml_error *err,
		      int *bad)
{
	const char *v = NULL;
	if (cli_take_opt(argc, argv, i, "--bench", &v))
		c->spec.bench_code = v;
	else if (cli_take_opt(argc, argv, i, "--scheme", &v))
		c->spec.scheme_code = v;
	else if (cli_take_opt(argc, argv, i, "--map", &v))
		c->map_file = v;
	else if (cli_take_opt(argc, argv, i, "--date", &v))
		c->spec.date = v;
	else if (cli_take_opt(argc, argv, i, "--operator", &v))
		c->spec.operator_name = v;
	else if (cli_take_opt(argc, argv, i, "--temperature", &v))
		c->spec.temperature_c = v;
	else if (cli_take_opt(argc, argv, i, "--humidity", &v))
		c->spec.humidity_pct = v;
	else if (!strcmp(argv[*i], "--manual"))
		c->spec.manual = 1;
	else if (strchr(argv[*i], '=') && argv[*i][0] != '-') {
		if (c->spec.nslots >= 96)
			*bad = ml_errorf(err, ML_EINVAL, "more than 96 positions");
		else
			*bad = task_parse_slot_arg(argv[*i], &c->slots[c->spec.nslots++], err);
	} else
		return 0;
	return 1;
}

static int create_run(struct cli_ctx *ctx, struct create_args *c, int64_t *run_id)
{
	struct ml_error err = ML_ERROR_INIT;
	if (!c->spec.bench_code || !c->spec.scheme_code || (!c->map_file && !c->spec.nslots))
		return cli_usage(
			"a task needs --bench, --scheme and --map FILE or POSITION=BARCODE arguments");
	struct task_slot *from_file = NULL;
	size_t nfile = 0;
	if (c->map_file) {
		char *text = read_file(c->map_file, &err);
		if (!text || task_parse_map(text, &from_file, &nfile, &err)) {
			free(text);
			return cli_fail(&err);
		}
		free(text);
		for (size_t k = 0; k < nfile && c->spec.nslots < 96; k++)
			c->slots[c->spec.nslots++] = from_file[k];
		free(from_file);
	}
	c->spec.slots = c->slots;
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	if (task_create(db, &c->spec, run_id, &err))
		return cli_fail(&err);
	return CLI_OK;
}

static const char *const create_help =
	"  --bench CODE         registered bench (meterlab standard bench-add)\n"
	"  --scheme CODE        verification scheme (meterlab scheme ...)\n"
	"  --map FILE           position map, one 'position,barcode' per line ('-' = stdin)\n"
	"  POSITION=BARCODE     positions given as arguments (with or instead of --map)\n"
	"  --operator NAME      who mounted the meters\n"
	"  --date YYYY-MM-DD    verification date (default: today) for the traceability check\n"
	"  --temperature C      ambient temperature in the lab, ℃ (printed on certificates)\n"
	"  --humidity RH        ambient relative humidity, %RH (printed on certificates)\n";

static int run_create(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("usage: meterlab run create --bench CODE --scheme CODE (--map FILE | POS=BARCODE ...) [--manual]\n\n"
		       "Create a verification task: validates positions, barcodes, asset states, the scheme against\n"
		       "the model and the bench's reference-standard certificates; then moves the assets to\n"
		       "'verifying'. Prints the run id. --manual: readings will be typed in (meterlab run manual).\n\n%s",
		       create_help);
		return CLI_OK;
	}
	struct create_args *c = calloc(1, sizeof(*c));
	struct ml_error err = ML_ERROR_INIT;
	int bad = 0, rc = CLI_OK;
	for (int i = 1; i < argc && !bad && rc == CLI_OK; i++) {
		if (!create_opt(argc, argv, &i, c, &err, &bad))
			rc = cli_usage("run create: unexpected argument '%s'", argv[i]);
	}
	int64_t id = 0;
	if (rc == CLI_OK)
		rc = bad ? cli_fail(&err) : create_run(ctx, c, &id);
	free(c);
	if (rc)
		return rc;
	if (ctx->json)
		printf("{\"run_id\":%" PRId64 "}\n", id);
	else
		printf("%" PRId64 "\n", id);
	return CLI_OK;
}

static const char *const exec_help =
	"  --poll-ms N          reading_seq polling interval (default 5)\n"
	"  --stall-timeout-ms N give up when no position changes for this long (default 30000)\n"
	"  --stop-after N       stop (status interrupted) after N steps; resume later\n"
	"  --operator NAME      recorded on the asset moves\n"
	"Progress goes to stderr; with --json one event object per line goes to stdout.\n"
	"Ctrl-C / SIGTERM stops cleanly: positions stopped, source off, run 'interrupted' (resume it later).\n"
	"Exit status 0 when every asset passed, 1 when some failed verification.\n";

static int run_start(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("usage: meterlab run start [ID ...] [--task ID ...] [options]\n"
		       "       meterlab run start --bench CODE --scheme CODE (--map FILE | POS=BARCODE ...) [options]\n\n"
		       "Execute pending runs (several at once: one thread per bench), or create a task and run it.\n\n"
		       "%s%s",
		       create_help, exec_help);
		return CLI_OK;
	}
	struct exec_opts x;
	exec_init(ctx, &x);
	struct create_args *c = calloc(1, sizeof(*c));
	int64_t ids[RUN_MAX_MANY];
	size_t n = 0;
	struct ml_error err = ML_ERROR_INIT;
	int bad = 0, rc = CLI_OK;
	for (int i = 1; i < argc && !bad && !x.bad && rc == CLI_OK; i++) {
		const char *v = NULL;
		if (cli_take_opt(argc, argv, &i, "--task", &v) || cli_is_id(argv[i], &ids[n])) {
			if (v && !cli_is_id(v, &ids[n]))
				rc = cli_usage("--task needs a run id, got '%s'", v);
			else if (++n == RUN_MAX_MANY)
				rc = cli_usage("at most %d runs at once", RUN_MAX_MANY - 1);
		} else if (!exec_opt(argc, argv, &i, &x) &&
			   !create_opt(argc, argv, &i, c, &err, &bad))
			rc = cli_usage("run start: unexpected argument '%s'", argv[i]);
	}
	if (rc == CLI_OK && x.bad)
		rc = x.bad;
	if (rc == CLI_OK && bad)
		rc = cli_fail(&err);
	if (!c->spec.operator_name && strcmp(x.ro.actor, "runner"))
		c->spec.operator_name =
			x.ro.actor; /* --operator was taken by the execution options */
	if (rc == CLI_OK && (c->spec.bench_code || c->map_file || c->spec.nslots))
		rc = create_run(ctx, c, &ids[n++]);
	free(c);
	if (rc == CLI_OK && n == 0)
		rc = cli_usage("run start needs run ids or --bench/--scheme/--map (see --help)");
	return rc ? rc : execute(ctx, &x, ids, n);
}

static int run_resume(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("usage: meterlab run resume ID [ID ...] [options]\n\n"
		       "Continue interrupted runs (killed process, lost bench) from the first incomplete step;\n"
		       "completed steps are kept, an incomplete step is redone.\n\n%s",
		       exec_help);
		return CLI_OK;
	}
	struct exec_opts x;
	exec_init(ctx, &x);
	int64_t ids[RUN_MAX_MANY];
	size_t n = 0;
	for (int i = 1; i < argc && !x.bad; i++) {
		if (exec_opt(argc, argv, &i, &x))
			continue;
		if (!cli_is_id(argv[i], &ids[n]) || n + 1 >= RUN_MAX_MANY)
			return cli_usage("run resume: unexpected argument '%s'", argv[i]);
		n++;
	}
	if (x.bad)
		return x.bad;
	if (!n)
		return cli_usage("run resume needs a run id");
	return execute(ctx, &x, ids, n);
}

/* start-many FILE: one task per line "BENCH SCHEME MAPFILE" (spaces or commas); all run at once. */
static int run_start_many(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("usage: meterlab run start-many FILE [options]\n\n"
		       "FILE has one task per line: BENCH SCHEME MAPFILE (separated by spaces or commas; '#'\n"
		       "comments). Every task is created first (all are validated before any runs), then all\n"
		       "run concurrently, one thread and one bench connection per task.\n\n%s",
		       exec_help);
		return CLI_OK;
	}
	struct exec_opts x;
	exec_init(ctx, &x);
	const char *file = NULL;
	for (int i = 1; i < argc && !x.bad; i++) {
		if (!exec_opt(argc, argv, &i, &x)) {
			if (file || argv[i][0] == '-')
				return cli_usage("run start-many: unexpected argument '%s'",
						 argv[i]);
			file = argv[i];
		}
	}
	if (x.bad)
		return x.bad;
	if (!file)
		return cli_usage("run start-many needs a FILE");
	struct ml_error err = ML_ERROR_INIT;
	char *text = read_file(file, &err);
	if (!text)
		return cli_fail(&err);
	int64_t ids[RUN_MAX_MANY];
	size_t n = 0;
	int rc = CLI_OK;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && rc == CLI_OK;
	     line = strtok_r(NULL, "\n", &save)) {
		char *s2 = NULL, *f[3];
		int k = 0;
		for (char *t = strtok_r(line, " \t,\r", &s2); t && k < 3;
		     t = strtok_r(NULL, " \t,\r", &s2))
			f[k++] = t;
		if (k == 0 || f[0][0] == '#')
			continue;
		if (k != 3 || n + 1 >= RUN_MAX_MANY) {
			rc = cli_usage("%s: each line needs BENCH SCHEME MAPFILE (at most %d)",
				       file, RUN_MAX_MANY - 1);
			break;
		}
		struct create_args *c = calloc(1, sizeof(*c));
		c->spec.bench_code = f[0];
		c->spec.scheme_code = f[1];
		c->map_file = f[2];
		c->spec.operator_name = x.ro.actor;
		rc = create_run(ctx, c, &ids[n++]);
		free(c);
	}
	free(text);
	if (rc == CLI_OK && !n)
		rc = cli_usage("%s lists no task", file);
	return rc ? rc : execute(ctx, &x, ids, n);
}

static int run_abort(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab run abort ID [--operator NAME]\n\nCancel a run that has not finished: its assets "
		    "go to 'reverify' (verify_abort), the run to 'aborted'."))
		return CLI_OK;
	int64_t id = 0;
	const char *who = NULL;
	for (int i = 1; i < argc; i++) {
		if (!cli_take_opt(argc, argv, &i, "--operator", &who) && !cli_is_id(argv[i], &id))
			return cli_usage("run abort: unexpected argument '%s'", argv[i]);
	}
	if (!id)
		return cli_usage("run abort needs a run id");
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	if (runner_abort(db, id, who, &err))
		return cli_fail(&err);
	printf(ctx->json ? "{\"run_id\":%" PRId64 ",\"status\":\"aborted\"}\n"
			 : "run %" PRId64 " aborted\n",
	       id);
	return CLI_OK;
}

static int run_manual(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("usage: meterlab run manual ID --file FILE [--operator NAME]\n"
		       "       meterlab run manual --bench CODE --scheme CODE (--map FILE | POS=BARCODE ...) --file FILE\n\n"
		       "Manual verification (手工检定): readings typed in or imported. FILE ('-' = stdin) has one line\n"
		       "per position and step:  POSITION, STEP, value1, value2, ...\n"
		       "STEP is the step label or its number; creep/start/constant take 'pulses=N[, elapsed=S]\n"
		       "[, register=KWH]'; CT/VT values are 'ratio / phase'. Everything is judged before anything is\n"
		       "stored; results go to the same tables as a driven run, then the assets move.\n\n%s",
		       create_help);
		return CLI_OK;
	}
	struct create_args *c = calloc(1, sizeof(*c));
	const char *file = NULL;
	int64_t id = 0;
	struct ml_error err = ML_ERROR_INIT;
	int bad = 0, rc = CLI_OK;
	for (int i = 1; i < argc && !bad && rc == CLI_OK; i++) {
		if (!cli_take_opt(argc, argv, &i, "--file", &file) && !cli_is_id(argv[i], &id) &&
		    !create_opt(argc, argv, &i, c, &err, &bad))
			rc = cli_usage("run manual: unexpected argument '%s'", argv[i]);
	}
	c->spec.manual = 1;
	if (rc == CLI_OK && bad)
		rc = cli_fail(&err);
	if (rc == CLI_OK && !file)
		rc = cli_usage("run manual needs --file FILE");
	if (rc == CLI_OK && !id)
		rc = create_run(ctx, c, &id);
	const char *who = c->spec.operator_name;
	free(c);
	if (rc)
		return rc;
	char *text = read_file(file, &err);
	struct db *db;
	if (!text)
		return cli_fail(&err);
	if ((rc = cli_db(ctx, &db))) {
		free(text);
		return rc;
	}
	int passed = 0, failed = 0;
	rc = manual_record(db, id, text, who, &passed, &failed, &err);
	free(text);
	if (rc)
		return cli_fail(&err);
	if (ctx->json)
		printf("{\"run_id\":%" PRId64 ",\"passed\":%d,\"failed\":%d}\n", id, passed,
		       failed);
	else
		printf("run %" PRId64 ": finished, %d passed, %d failed\n", id, passed, failed);
	return failed ? CLI_FAIL : CLI_OK;
}

/* ---- show / list ---- */

static const char *dec_text(const char *v, const char *interval, char *buf, size_t len)
{
	if (!v)
		return "";
	int64_t x = strtoll(v, NULL, 10);
	int d = interval ? dec4_interval_decimals(strtoll(interval, NULL, 10))
			 : dec4_min_decimals(x);
	return dec_format(x, 4, d, DEC_FMT_PLUS, buf, len);
}

static int q(struct db *db, const char *sql, const char *id, PGresult **res, struct ml_error *err)
{
	const char *p[1] = { id };
	return db_exec(db, sql, 1, p, PGRES_TUPLES_OK, res, err);
}

/* Same, with the run's measured_at span (partition pruning on the partitioned result tables). */
static int q_span(struct db *db, const char *sql, const char *id, PGresult **res,
		  struct ml_error *err)
{
	char from[40], to[40];
	int rc = result_run_span(db, strtoll(id, NULL, 10), from, to, err);
	const char *p[3] = { id, from, to };
	return rc ? rc : db_exec(db, sql, 3, p, PGRES_TUPLES_OK, res, err);
}

static const char *const items[] = { "creep", "start", "basic", "constant",
				     "clock", "ratio", "phase", "overall" };
#define NITEMS (sizeof(items) / sizeof(items[0]))

static const char *concl(const PGresult *c, const char *asset, const char *item)
{
	for (int r = 0; r < PQntuples(c); r++) {
		if (!strcmp(db_get(c, r, "asset_id"), asset) && !strcmp(db_get(c, r, "item"), item))
			return db_get(c, r, "verdict");
	}
	return NULL;
}

static const char *concl_until(const PGresult *c, const char *asset)
{
	for (int r = 0; r < PQntuples(c); r++) {
		if (!strcmp(db_get(c, r, "asset_id"), asset) &&
		    !strcmp(db_get(c, r, "item"), "overall"))
			return db_get(c, r, "valid_until");
	}
	return NULL;
}

static int item_present(const PGresult *c, const char *item)
{
	for (int r = 0; r < PQntuples(c); r++) {
		if (!strcmp(db_get(c, r, "item"), item))
			return 1;
	}
	return 0;
}

static int show_head(struct ml_buf *b, const PGresult *h)
{
	int rc = ml_buf_printf(
		b,
		"run %s  bench %s  scheme %s v%s  model %s  %s  status %s  date %s  steps %s/%s\n",
		db_get(h, 0, "run_id"), db_get(h, 0, "bench"), db_get(h, 0, "scheme_code"),
		db_get(h, 0, "scheme_version"), db_get(h, 0, "model"), db_get(h, 0, "mode"),
		db_get(h, 0, "status"), db_get(h, 0, "run_date"), db_get(h, 0, "steps_done"),
		db_get(h, 0, "steps_total"));
	if (db_get(h, 0, "last_error"))
		rc = rc || ml_buf_printf(b, "last error: %s\n", db_get(h, 0, "last_error"));
	return rc;
}

/* Position, barcode, one column per item tested in this run, overall, valid until. */
static int show_conclusions(struct ml_buf *b, const PGresult *pos, const PGresult *c)
{
	int rc = ml_buf_printf(b, "\n%3s %-22s", "POS", "BARCODE");
	for (size_t k = 0; k < NITEMS; k++)
		rc = rc || (item_present(c, items[k]) && ml_buf_printf(b, " %-8s", items[k]));
	rc = rc || ml_buf_puts(b, " VALID UNTIL\n");
	int pass = 0, fail = 0;
	for (int r = 0; r < PQntuples(pos) && !rc; r++) {
		const char *a = db_get(pos, r, "asset_id");
		rc = ml_buf_printf(b, "%3s %-22s", db_get(pos, r, "position"),
				   db_get(pos, r, "barcode"));
		for (size_t k = 0; k < NITEMS; k++) {
			const char *v = concl(c, a, items[k]);
			rc = rc ||
			     (item_present(c, items[k]) && ml_buf_printf(b, " %-8s", v ? v : "-"));
		}
		const char *o = concl(c, a, "overall"), *u = concl_until(c, a);
		pass += o && !strcmp(o, "pass");
		fail += o && !strcmp(o, "fail");
		rc = rc || ml_buf_printf(b, " %s\n", u ? u : "");
	}
	return rc || ml_buf_printf(b, "\n%d passed, %d failed, %d not concluded\n", pass, fail,
				   PQntuples(pos) - pass - fail);
}

static int show_steps(struct ml_buf *b, const PGresult *sr)
{
	int rc = ml_buf_printf(b, "\n%4s %3s %-28s %3s %10s %8s %8s %7s %s\n", "STEP", "POS",
			       "LABEL", "N", "MEAN", "ROUNDED", "LIMIT", "VERDICT", "NOTE");
	for (int r = 0; r < PQntuples(sr) && !rc; r++) {
		char m[DEC4_FMT_MAX], rd[DEC4_FMT_MAX], lim[DEC4_FMT_MAX], pulses[32] = "";
		const char *iv = db_get(sr, r, "interval_e4"), *mean = db_get(sr, r, "mean_e4");
		if (!mean && db_get(sr, r, "pulses"))
			snprintf(pulses, sizeof(pulses), "%s pulses", db_get(sr, r, "pulses"));
		rc = ml_buf_printf(b, "%4d %3s %-28s %3s %10s %8s %8s %7s %s\n",
				   atoi(db_get(sr, r, "step_no")) + 1, db_get(sr, r, "position"),
				   db_get(sr, r, "label"), db_get(sr, r, "n_readings"),
				   mean ? dec_text(mean, NULL, m, sizeof(m)) : pulses,
				   dec_text(db_get(sr, r, "rounded_e4"), iv, rd, sizeof(rd)),
				   dec_text(db_get(sr, r, "limit_e4"), NULL, lim, sizeof(lim)),
				   db_get(sr, r, "verdict"), db_get(sr, r, "note"));
	}
	return rc;
}

static int show_readings(struct ml_buf *b, const PGresult *rd)
{
	int rc = ml_buf_printf(b, "\n%4s %3s %3s %10s %10s %8s %6s %s\n", "STEP", "POS", "#",
			       "VALUE", "VALUE2", "PULSES", "RESULT", "MEASURED AT");
	for (int r = 0; r < PQntuples(rd) && !rc; r++) {
		char v[DEC4_FMT_MAX], v2[DEC4_FMT_MAX];
		const char *p = db_get(rd, r, "pulses");
		rc = ml_buf_printf(
			b, "%4d %3s %3s %10s %10s %8s %6s %s\n", atoi(db_get(rd, r, "step_no")) + 1,
			db_get(rd, r, "position"), db_get(rd, r, "reading_no"),
			dec_text(db_get(rd, r, "value_e4"), NULL, v, sizeof(v)),
			dec_text(db_get(rd, r, "value2_e4"), NULL, v2, sizeof(v2)), p ? p : "",
			db_get(rd, r, "bench_result"), db_get(rd, r, "measured_at"));
	}
	return rc;
}

static int show_text(struct ml_buf *b, const PGresult *h, const PGresult *pos, const PGresult *c,
		     const PGresult *sr, const PGresult *rd)
{
	int rc = show_head(b, h) || show_conclusions(b, pos, c);
	rc = rc || (sr && show_steps(b, sr));
	return rc || (rd && show_readings(b, rd));
}

static int json_row(struct ml_buf *b, const PGresult *res, int r, const char *const *num,
		    const char *const *str)
{
	int rc = ml_buf_putc(b, '{'), first = 1;
	for (const char *const *c = num; *c && !rc; c++, first = 0)
		rc = ml_json_kv_raw(b, first, *c, db_get(res, r, *c));
	for (const char *const *c = str; *c && !rc; c++, first = 0)
		rc = ml_json_kv_str(b, first, *c, db_get(res, r, *c));
	return rc || ml_buf_putc(b, '}');
}

static int json_rows(struct ml_buf *b, const char *key, const PGresult *res, const char *const *num,
		     const char *const *str)
{
	int rc = ml_buf_printf(b, ",\"%s\":[", key);
	for (int r = 0; r < PQntuples(res) && !rc; r++)
		rc = (r && ml_buf_putc(b, ',')) || json_row(b, res, r, num, str);
	return rc || ml_buf_putc(b, ']');
}

static int show_json(struct ml_buf *b, const PGresult *h, const PGresult *pos, const PGresult *c,
		     const PGresult *sr, const PGresult *rd)
{
	static const char *const hn[] = { "run_id", "scheme_version", "steps_total", "steps_done",
					  NULL };
	static const char *const hs[] = { "bench",       "scheme_code", "model",    "mode",
					  "status",      "run_date",    "operator", "started_at",
					  "finished_at", "last_error",  NULL };
	static const char *const pn[] = { "position", "asset_id", NULL }, *const ps[] = { "barcode",
											  NULL };
	static const char *const cn[] = { "asset_id", NULL }, *const cs[] = { "item", "verdict",
									      "internal_verdict",
									      "valid_until", NULL };
	static const char *const sn[] = { "step_no",    "position",          "asset_id",
					  "n_readings", "mean_e4",           "rounded_e4",
					  "mean2_e4",   "rounded2_e4",       "pulses",
					  "limit_e4",   "internal_limit_e4", "interval_e4",
					  "limit2_e4",  "gamma_e4",          NULL };
	static const char *const ss[] = { "kind",     "label", "verdict", "internal_verdict",
					  "verdict2", "note",  NULL };
	static const char *const rn[] = { "step_no",    "position",     "asset_id",
					  "reading_no", "value_e4",     "value2_e4",
					  "pulses",     "bench_result", NULL };
	static const char *const rs[] = { "measured_at", NULL };
	int rc = json_row(b, h, 0, hn, hs);
	b->len--; /* reopen the run object */
	rc = rc || json_rows(b, "positions", pos, pn, ps) ||
	     json_rows(b, "conclusions", c, cn, cs) || json_rows(b, "results", sr, sn, ss) ||
	     json_rows(b, "readings", rd, rn, rs);
	return rc || ml_buf_putc(b, '}');
}

static int run_show(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab run show ID [--steps] [--readings] [--json]\n\nThe run and its positions with "
		    "per-item and overall conclusions (the results table).\n--steps adds every step result (mean, "
		    "rounded value, limit, verdict), --readings every raw\nreading. --json always includes all of them "
		    "(values are dec4: value x 10000)."))
		return CLI_OK;
	int64_t id = 0;
	int steps = ctx->json, readings = ctx->json;
	const char *ids = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--steps"))
			steps = 1;
		else if (!strcmp(argv[i], "--readings"))
			readings = 1;
		else if (!ids && cli_is_id(argv[i], &id))
			ids = argv[i];
		else
			return cli_usage("run show: unexpected argument '%s'", argv[i]);
	}
	if (!ids)
		return cli_usage("run show needs one run id");
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	PGresult *h = NULL, *pos = NULL, *c = NULL, *sr = NULL, *rd = NULL;
	rc = q(db,
	       "SELECT r.run_id, b.code AS bench, r.scheme_code, r.scheme_version, m.code AS model, r.mode, r.status, "
	       "r.run_date::text AS run_date, r.operator, r.started_at::text AS started_at, r.finished_at::text AS "
	       "finished_at, r.last_error, r.steps_total, (SELECT count(*) FROM run_step s WHERE s.run_id = r.run_id) "
	       "AS steps_done FROM verification_run r JOIN lab_bench b USING (bench_id) JOIN device_model m USING "
	       "(model_id) WHERE r.run_id = $1::bigint",
	       ids, &h, &err);
	if (!rc && PQntuples(h) != 1)
		rc = ml_errorf(&err, ML_ENOTFOUND, "no run %s", ids);
	rc = rc ? rc
		: q(db,
		    "SELECT position, asset_id, barcode FROM run_position WHERE run_id = $1::bigint "
		    "ORDER BY position",
		    ids, &pos, &err);
	rc = rc ? rc
		: q(db,
		    "SELECT asset_id, item, verdict, internal_verdict, valid_until::text AS valid_until "
		    "FROM run_conclusion WHERE run_id = $1::bigint",
		    ids, &c, &err);
	if (!rc && steps)
		rc = q_span(
			db,
			"SELECT * FROM run_step_result WHERE run_id = $1::bigint AND measured_at >= $2::timestamptz "
			"AND measured_at < $3::timestamptz ORDER BY step_no, position",
			ids, &sr, &err);
	if (!rc && readings)
		rc = q_span(
			db,
			"SELECT step_no, position, asset_id, reading_no, value_e4, value2_e4, pulses, bench_result, "
			"measured_at::text AS measured_at FROM run_reading WHERE run_id = $1::bigint AND measured_at >= "
			"$2::timestamptz AND measured_at < $3::timestamptz ORDER BY step_no, position, reading_no",
			ids, &rd, &err);
	struct ml_buf b = ML_BUF_INIT;
	int out = rc ? cli_fail(&err)
		  : (ctx->json ? show_json(&b, h, pos, c, sr, rd)
			       : show_text(&b, h, pos, c, sr, rd))
			  ? CLI_INTERNAL
			  : cli_out(&b, ctx->json);
	PQclear(h);
	PQclear(pos);
	PQclear(c);
	PQclear(sr);
	PQclear(rd);
	ml_buf_free(&b);
	return out;
}

static int run_list(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab run list [--status STATUS] [--json]\n\nRuns, newest first. STATUS: pending, running, "
		    "interrupted, finished, aborted.\n'running(no executor)': the executing process died (killed, power "
		    "loss); 'meterlab run resume ID' continues it."))
		return CLI_OK;
	const char *status = NULL;
	for (int i = 1; i < argc; i++) {
		if (!cli_take_opt(argc, argv, &i, "--status", &status))
			return cli_usage("run list: unexpected argument '%s'", argv[i]);
	}
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = NULL;
	const char *p[1] = { status };
	if (db_exec(db,
		    "SELECT r.run_id, b.code AS bench, r.scheme_code, r.mode, r.status, r.run_date::text AS run_date, "
		    "r.steps_total, (SELECT count(*) FROM run_step s WHERE s.run_id = r.run_id) AS steps_done, "
		    "(SELECT count(*) FROM run_position p WHERE p.run_id = r.run_id) AS positions, "
		    /* Is a process executing it now? (the runner's session advisory lock, runner.c) */
		    "CASE WHEN EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = 7340032 "
		    "AND l.objid = r.run_id AND l.objsubid = 2 AND l.granted) THEN 'true' ELSE 'false' END AS executing "
		    "FROM verification_run r JOIN lab_bench b USING (bench_id) "
		    "WHERE $1::text IS NULL OR r.status = $1 ORDER BY r.run_id DESC LIMIT 1000",
		    1, p, PGRES_TUPLES_OK, &res, &err))
		return cli_fail(&err);
	static const char *const ln[] = { "run_id",    "steps_total", "steps_done",
					  "positions", "executing",   NULL };
	static const char *const ls[] = {
		"bench", "scheme_code", "mode", "status", "run_date", NULL
	};
	struct ml_buf b = ML_BUF_INIT;
	rc = ctx->json ? ml_buf_putc(&b, '[')
		       : ml_buf_printf(&b, "%6s %-12s %-24s %-7s %-20s %-10s %5s %4s\n", "RUN",
				       "BENCH", "SCHEME", "MODE", "STATUS", "DATE", "STEPS", "POS");
	for (int r = 0; r < PQntuples(res) && !rc; r++) {
		if (ctx->json)
			rc = (r && ml_buf_putc(&b, ',')) || json_row(&b, res, r, ln, ls);
		else
			rc = ml_buf_printf(
				&b, "%6s %-12s %-24s %-7s %-20s %-10s %2s/%-2s %4s\n",
				db_get(res, r, "run_id"), db_get(res, r, "bench"),
				db_get(res, r, "scheme_code"), db_get(res, r, "mode"),
				/* 'running' without an executor: the process died; 'run resume' continues it */
				!strcmp(db_get(res, r, "status"), "running") &&
						!strcmp(db_get(res, r, "executing"), "false")
					? "running(no executor)"
					: db_get(res, r, "status"),
				db_get(res, r, "run_date"), db_get(res, r, "steps_done"),
				db_get(res, r, "steps_total"), db_get(res, r, "positions"));
	}
	rc = rc || (ctx->json && ml_buf_putc(&b, ']'));
	PQclear(res);
	return cli_finish(&b, rc, ctx->json);
}

int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd table[] = {
		{ "create", run_create, "create a verification task (bench + scheme + positions)" },
		{ "start", run_start, "execute runs (or create and execute a task)" },
		{ "start-many", run_start_many,
		  "create and execute many tasks concurrently, one per bench" },
		{ "resume", run_resume,
		  "continue interrupted runs from the first incomplete step" },
		{ "abort", run_abort, "cancel an unfinished run (assets -> reverify)" },
		{ "manual", run_manual, "manual verification: typed-in or imported readings" },
		{ "show", run_show, "readings, results and conclusions of a run" },
		{ "list", run_list, "list runs" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(ctx, "run", "Verification runs on benches (检定任务).", table, argc,
			    argv);
}
