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
#include "common/text.h"
#include "lab/decimal.h"
#include "lab/manual.h"
#include "lab/result.h"
#include "lab/run_query.h"
#include "lab/runner.h"
#include "lab/task.h"

#define RUN_MAX_MANY 64
#define RUN_MAX_SLOTS 96 /* bench positions (bench-protocol.md: 1..96) */

/*
 * Options of every run subcommand; each row's table says which it takes.
 * The check functions fill the second half from the first.
 */
struct run_args {
	/* a task: bench, scheme, positions */
	const char *bench, *scheme, *map, *date, *reason, *temperature, *humidity, *manual;
	/* execution */
	const char *poll_ms, *stop_after, *stall_ms;
	const char *tasks[RUN_MAX_MANY];
	int ntasks;
	/* manual, show, list */
	const char *file, *steps, *readings, *status;

	struct task_spec spec;
	struct task_slot slots[RUN_MAX_SLOTS];
	struct runner_options ro;
	int64_t ids[RUN_MAX_MANY];
	size_t nids;
};

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
	while (!ml_buf_failed(&b) && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ml_buf_append(&b, chunk, n);
	int bad = ferror(f) || ml_buf_failed(&b);
	/* a NUL byte would silently end the text (and every line after it): refused, naming the line */
	if (!bad && b.len && ml_text_file_check(b.data, b.len, path, err)) {
		if (f != stdin)
			fclose(f);
		ml_buf_free(&b);
		return NULL;
	}
	ml_buf_putc(&b, '\0');
	bad = ml_buf_failed(&b);
	if (f != stdin)
		fclose(f);
	if (bad) {
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
	ml_buf_putc(b, '{');
	ml_json_kv_str(b, 1, "event", ev_name(ev->kind));
	ml_json_kv_int(b, 0, "run_id", ev->run_id);
	ml_json_kv_str(b, 0, "bench", ev->bench);
	ml_json_kv_int(b, 0, "step", ev->step);
	ml_json_kv_int(b, 0, "steps_total", ev->steps_total);
	ml_json_kv_str(b, 0, "label", ev->label);
	ml_json_kv_int(b, 0, "positions_done", ev->positions_done);
	ml_json_kv_int(b, 0, "positions_total", ev->positions_total);
	ml_json_kv_int(b, 0, "failures", ev->failures);
	if (ev->kind == RUNNER_EV_FINISHED) {
		ml_json_kv_int(b, 0, "passed", ev->passed);
		ml_json_kv_int(b, 0, "failed", ev->failed);
	}
	if (ev->message[0])
		ml_json_kv_str(b, 0, "message", ev->message);
	ml_buf_puts(b, "}\n");
}

static void ev_text(struct ml_buf *b, const struct runner_event *ev)
{
	const char *k = ev_name(ev->kind);
	ml_buf_printf(b, "[%s run %" PRId64 "] ", ev->bench, ev->run_id);
	if (ev->kind == RUNNER_EV_FINISHED)
		ml_buf_printf(b, "finished: %d passed, %d failed (%d failed step results)\n",
			      ev->passed, ev->failed, ev->failures);
	else if (ev->kind == RUNNER_EV_START)
		ml_buf_printf(b, "start: %d steps, %d positions\n", ev->steps_total,
			      ev->positions_total);
	else if (ev->kind == RUNNER_EV_STEP)
		ml_buf_printf(b, "step %d/%d %s: started\n", ev->step, ev->steps_total, ev->label);
	else if (ev->kind == RUNNER_EV_RECONNECT || ev->kind == RUNNER_EV_ERROR)
		ml_buf_printf(b, "%s at step %d: %s\n", k, ev->step, ev->message);
	else
		ml_buf_printf(b, "step %d/%d %s: %d/%d positions done, %d failure%s so far\n",
			      ev->step, ev->steps_total, ev->label, ev->positions_done,
			      ev->positions_total, ev->failures, ev->failures == 1 ? "" : "s");
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

/* The execution options (--poll-ms, --stop-after, --stall-timeout-ms) into a->ro. */
static int check_exec(struct cli_call *c)
{
	struct run_args *a = c->args;
	runner_options_default(&a->ro);
	long long poll = a->ro.poll_ms, stop = a->ro.stop_after_steps,
		  stall = a->ro.stall_timeout_ms;
	int rc = cli_parse_ll(c, "--poll-ms", a->poll_ms, 1, 60000, &poll);
	if (rc)
		return rc;
	rc = cli_parse_ll(c, "--stop-after", a->stop_after, 0, INT_MAX, &stop);
	if (rc)
		return rc;
	rc = cli_parse_ll(c, "--stall-timeout-ms", a->stall_ms, 0, INT_MAX, &stall);
	if (rc)
		return rc;
	a->ro.poll_ms = (int)poll;
	a->ro.stop_after_steps = (int)stop;
	a->ro.stall_timeout_ms = (int)stall;
	return ML_OK;
}

/* One positional of run create/start/manual: a POSITION=BARCODE slot, or (ids) a run id. */
static int take_positional(struct cli_call *c, const char *p, int ids)
{
	struct run_args *a = c->args;
	struct task_spec *t = &a->spec;
	int64_t id;
	if (ids && cli_is_id(p, &id)) {
		if (a->nids + 1 >= RUN_MAX_MANY)
			return cli_call_usage(c, "at most %d runs at once", RUN_MAX_MANY - 1);
		a->ids[a->nids++] = id;
		return ML_OK;
	}
	if (!strchr(p, '=') || p[0] == '-')
		return cli_call_usage(c, "run %s: unexpected argument '%s'", c->cmd->name, p);
	if (t->nslots >= RUN_MAX_SLOTS)
		return ml_errorf(&c->err, ML_EINVAL, "more than %d positions", RUN_MAX_SLOTS);
	return task_parse_slot_arg(p, &a->slots[t->nslots++], &c->err);
}

/* The task part of the line (bench, scheme, positions; ids when allowed) into a->spec. */
static int check_task(struct cli_call *c, int ids)
{
	struct run_args *a = c->args;
	struct task_spec *t = &a->spec;
	t->bench_code = a->bench;
	t->scheme_code = a->scheme;
	t->date = a->date;
	t->backdate_reason = a->reason;
	t->temperature_c = a->temperature;
	t->humidity_pct = a->humidity;
	t->manual = a->manual != NULL;
	t->slots = a->slots;
	int rc = ML_OK;
	for (int i = 0; i < a->ntasks && !rc; i++) {
		int64_t id;
		if (!cli_is_id(a->tasks[i], &id))
			return cli_call_usage(c, "--task needs a run id, got '%s'", a->tasks[i]);
		rc = take_positional(c, a->tasks[i], 1);
	}
	for (int i = 0; i < c->npos && !rc; i++)
		rc = take_positional(c, c->pos[i], ids);
	return rc;
}

/* A task is described on the line (else only run ids were given). */
static int has_task(const struct run_args *a)
{
	return a->bench || a->map || a->spec.nslots;
}

/* Validate the task, add the --map file's positions, create it: *run_id. */
static int create_run(struct cli_ctx *ctx, struct cli_call *c, struct task_spec *t,
		      struct task_slot *slots, const char *map_file, int64_t *run_id)
{
	struct task_slot *from_file = NULL;
	char *text = NULL;
	size_t nfile = 0;
	int rc = ML_OK;
	if (!t->bench_code || !t->scheme_code || (!map_file && !t->nslots))
		return cli_call_usage(
			c,
			"a task needs --bench, --scheme and --map FILE or POSITION=BARCODE arguments");
	if (map_file) {
		text = read_file(map_file, &c->err);
		if (!text) {
			rc = ML_EIO;
			goto out;
		}
		rc = task_parse_map(text, &from_file, &nfile, &c->err);
		if (rc)
			goto out;
		for (size_t k = 0; k < nfile && t->nslots < RUN_MAX_SLOTS; k++)
			slots[t->nslots++] = from_file[k];
	}
	t->slots = slots;
	rc = cli_call_db(ctx, c);
	if (rc)
		goto out;
	rc = task_create(c->db, t, run_id, &c->err);
out:
	free(text);
	free(from_file);
	return rc;
}

/* Execute runs ids[0..n-1] (one thread per bench when n > 1) and report each. */
static int execute(struct cli_ctx *ctx, struct cli_call *c, const int64_t *ids, size_t n)
{
	struct run_args *a = c->args;
	struct progress prog = { .json = ctx->json };
	struct ml_buf b = ML_BUF_INIT;
	int any_failed = 0;
	struct runner_outcome *out = calloc(n, sizeof(*out));
	if (!out)
		return ml_errorf(&c->err, ML_ENOMEM, "out of memory (%zu runs)", n);
	pthread_mutex_init(&prog.mu, NULL);
	a->ro.on_event = on_event;
	a->ro.event_arg = &prog;
	a->ro.cancel = &cancel_flag;
	catch_signals();
	int rc = n == 1 ? runner_execute(ctx->conninfo, ids[0], &a->ro, out, &c->err)
			: runner_execute_many(ctx->conninfo, ids, n, &a->ro, out, &c->err);
	for (size_t i = 0; i < n; i++) {
		any_failed |= out[i].failed > 0;
		if (out[i].code && n > 1)
			fprintf(stderr, "meterlab: run %" PRId64 ": %s: %s\n", out[i].run_id,
				ml_strerror(out[i].code), out[i].msg);
		else if (!out[i].code && !ctx->json)
			ml_buf_printf(&b, "run %" PRId64 ": %s, %d passed, %d failed%s\n",
				      out[i].run_id, out[i].status, out[i].passed, out[i].failed,
				      out[i].untested ? ", some not present (moved to reverify)"
						      : "");
	}
	if (rc && n > 1) /* every run's error is printed above */
		rc = cli_call_reported(c, rc);
	if (rc)
		goto out;
	rc = cli_emit(c, &b, 0);
	if (any_failed)
		c->exit = CLI_FAIL;
out:
	free(out);
	ml_buf_free(&b);
	pthread_mutex_destroy(&prog.mu);
	return rc;
}

/* ---- create / start / resume / start-many ---- */

static int check_create(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	return check_task(c, 0);
}

static int print_run_id(struct cli_ctx *ctx, struct cli_call *c, int64_t id)
{
	if (ctx->json)
		return cli_printf(c, "{\"run_id\":%" PRId64 "}\n", id);
	return cli_printf(c, "%" PRId64 "\n", id);
}

static int run_create(struct cli_ctx *ctx, struct cli_call *c)
{
	struct run_args *a = c->args;
	int64_t id = 0;
	int rc = create_run(ctx, c, &a->spec, a->slots, a->map, &id);
	if (rc)
		return rc;
	return print_run_id(ctx, c, id);
}

static int check_start(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct run_args *a = c->args;
	(void)ctx;
	int rc = check_exec(c);
	if (rc)
		return rc;
	rc = check_task(c, 1);
	if (rc)
		return rc;
	if (!a->nids && !has_task(a))
		return cli_call_usage(c, "run start needs run ids or --bench/--scheme/--map (see "
					 "--help)");
	return ML_OK;
}

static int run_start(struct cli_ctx *ctx, struct cli_call *c)
{
	struct run_args *a = c->args;
	int rc = ML_OK;
	if (has_task(a))
		rc = create_run(ctx, c, &a->spec, a->slots, a->map, &a->ids[a->nids++]);
	if (rc)
		return rc;
	return execute(ctx, c, a->ids, a->nids);
}

static int check_resume(struct cli_ctx *ctx, struct cli_call *c)
{
	struct run_args *a = c->args;
	(void)ctx;
	int rc = check_exec(c);
	for (int i = 0; i < c->npos && !rc; i++) {
		if (!cli_is_id(c->pos[i], &a->ids[a->nids]) || a->nids + 1 >= RUN_MAX_MANY)
			return cli_call_usage(c, "run resume: unexpected argument '%s'", c->pos[i]);
		a->nids++;
	}
	return rc;
}

static int run_resume(struct cli_ctx *ctx, struct cli_call *c)
{
	struct run_args *a = c->args;
	return execute(ctx, c, a->ids, a->nids);
}

static int check_start_many(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	if (c->pos[0][0] == '-')
		return cli_call_usage(c, "run start-many: unexpected argument '%s'", c->pos[0]);
	return check_exec(c);
}

/* start-many FILE: one task per line "BENCH SCHEME MAPFILE" (spaces or commas); all run at once. */
static int run_start_many(struct cli_ctx *ctx, struct cli_call *c)
{
	struct run_args *a = c->args;
	const char *file = c->pos[0];
	char *save = NULL, *text = read_file(file, &c->err);
	int rc = ML_OK;
	if (!text)
		return ML_EIO;
	a->nids = 0;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *s2 = NULL, *f[3];
		int k = 0;
		for (char *t = strtok_r(line, " \t,\r", &s2); t && k < 3;
		     t = strtok_r(NULL, " \t,\r", &s2))
			f[k++] = t;
		if (k == 0 || f[0][0] == '#')
			continue;
		if (k != 3 || a->nids + 1 >= RUN_MAX_MANY) {
			rc = cli_call_usage(c,
					    "%s: each line needs BENCH SCHEME MAPFILE (at most %d)",
					    file, RUN_MAX_MANY - 1);
			goto out;
		}
		/* each task from its own spec and slots: the line's map is its only source */
		struct task_spec t = { .bench_code = f[0], .scheme_code = f[1] };
		memset(a->slots, 0, sizeof(a->slots));
		rc = create_run(ctx, c, &t, a->slots, f[2], &a->ids[a->nids++]);
		if (rc)
			goto out;
	}
	if (!a->nids) {
		rc = cli_call_usage(c, "%s lists no task", file);
		goto out;
	}
	rc = execute(ctx, c, a->ids, a->nids);
out:
	free(text);
	return rc;
}

/* ---- abort / manual ---- */

static int check_abort(struct cli_ctx *ctx, struct cli_call *c)
{
	struct run_args *a = c->args;
	(void)ctx;
	if (!cli_is_id(c->pos[0], &a->ids[0]))
		return cli_call_usage(c, "run abort: unexpected argument '%s'", c->pos[0]);
	return ML_OK;
}

static int run_abort(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct run_args *a = c->args;
	int64_t id = a->ids[0];
	int rc = runner_abort(c->db, id, a->reason, &c->err);
	if (rc)
		return rc;
	if (ctx->json)
		return cli_printf(c, "{\"run_id\":%" PRId64 ",\"status\":\"aborted\"}\n", id);
	return cli_printf(c, "run %" PRId64 " aborted\n", id);
}

static int check_manual(struct cli_ctx *ctx, struct cli_call *c)
{
	struct run_args *a = c->args;
	(void)ctx;
	int rc = check_task(c, 1);
	a->spec.manual = 1;
	if (rc)
		return rc;
	if (a->nids > 1)
		return cli_call_usage(c, "run manual: unexpected argument '%s'", c->pos[1]);
	return ML_OK;
}

static int run_manual(struct cli_ctx *ctx, struct cli_call *c)
{
	struct run_args *a = c->args;
	int64_t id = a->nids ? a->ids[0] : 0;
	int passed = 0, failed = 0, rc = ML_OK;
	char *text = NULL;
	if (!id && (rc = create_run(ctx, c, &a->spec, a->slots, a->map, &id)))
		goto out;
	text = read_file(a->file, &c->err);
	if (!text) {
		rc = ML_EIO;
		goto out;
	}
	rc = cli_call_db(ctx, c);
	if (rc)
		goto out;
	rc = manual_record(c->db, id, text, &passed, &failed, &c->err);
	if (rc)
		goto out;
	if (failed)
		c->exit = CLI_FAIL;
	if (ctx->json)
		rc = cli_printf(c, "{\"run_id\":%" PRId64 ",\"passed\":%d,\"failed\":%d}\n", id,
				passed, failed);
	else
		rc = cli_printf(c, "run %" PRId64 ": finished, %d passed, %d failed\n", id, passed,
				failed);
out:
	free(text);
	return rc;
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

static void show_head(struct ml_buf *b, const PGresult *h)
{
	ml_buf_printf(
		b,
		"run %s  bench %s  scheme %s v%s  model %s  %s  status %s  date %s  steps %s/%s\n",
		db_get(h, 0, "run_id"), db_get(h, 0, "bench"), db_get(h, 0, "scheme_code"),
		db_get(h, 0, "scheme_version"), db_get(h, 0, "model"), db_get(h, 0, "mode"),
		db_get(h, 0, "status"), db_get(h, 0, "run_date"), db_get(h, 0, "steps_done"),
		db_get(h, 0, "steps_total"));
	ml_buf_printf(b, "operator %s\n", db_get(h, 0, "operator"));
	if (db_get(h, 0, "backdated_reason"))
		ml_buf_printf(b, "recorded %s by %s for the date above: %s\n",
			      db_get(h, 0, "created_at"), db_get(h, 0, "backdated_by"),
			      db_get(h, 0, "backdated_reason"));
	if (db_get(h, 0, "last_error"))
		ml_buf_printf(b, "last error: %s\n", db_get(h, 0, "last_error"));
}

/* Position, barcode, one column per item tested in this run, overall, valid until. */
static void show_conclusions(struct ml_buf *b, const PGresult *pos, const PGresult *c)
{
	ml_buf_printf(b, "\n%3s %-22s", "POS", "BARCODE");
	for (size_t k = 0; k < NITEMS; k++) {
		if (item_present(c, items[k]))
			ml_buf_printf(b, " %-8s", items[k]);
	}
	ml_buf_puts(b, " VALID UNTIL\n");
	int pass = 0, fail = 0;
	for (int r = 0; r < PQntuples(pos); r++) {
		const char *a = db_get(pos, r, "asset_id");
		ml_buf_printf(b, "%3s %-22s", db_get(pos, r, "position"),
			      db_get(pos, r, "barcode"));
		for (size_t k = 0; k < NITEMS; k++) {
			const char *v = concl(c, a, items[k]);
			if (item_present(c, items[k]))
				ml_buf_printf(b, " %-8s", v ? v : "-");
		}
		const char *o = concl(c, a, "overall"), *u = concl_until(c, a);
		pass += o && !strcmp(o, "pass");
		fail += o && !strcmp(o, "fail");
		ml_buf_printf(b, " %s\n", u ? u : "");
	}
	ml_buf_printf(b, "\n%d passed, %d failed, %d not concluded\n", pass, fail,
		      PQntuples(pos) - pass - fail);
}

static void show_steps(struct ml_buf *b, const PGresult *sr)
{
	ml_buf_printf(b, "\n%4s %3s %-28s %3s %10s %8s %8s %7s %s\n", "STEP", "POS", "LABEL", "N",
		      "MEAN", "ROUNDED", "LIMIT", "VERDICT", "NOTE");
	for (int r = 0; r < PQntuples(sr); r++) {
		char m[DEC4_FMT_MAX], rd[DEC4_FMT_MAX], lim[DEC4_FMT_MAX], pulses[32] = "";
		const char *iv = db_get(sr, r, "interval_e4"), *mean = db_get(sr, r, "mean_e4");
		if (!mean && db_get(sr, r, "pulses"))
			snprintf(pulses, sizeof(pulses), "%s pulses", db_get(sr, r, "pulses"));
		ml_buf_printf(b, "%4d %3s %-28s %3s %10s %8s %8s %7s %s\n",
			      atoi(db_get(sr, r, "step_no")) + 1, db_get(sr, r, "position"),
			      db_get(sr, r, "label"), db_get(sr, r, "n_readings"),
			      mean ? dec_text(mean, NULL, m, sizeof(m)) : pulses,
			      dec_text(db_get(sr, r, "rounded_e4"), iv, rd, sizeof(rd)),
			      dec_text(db_get(sr, r, "limit_e4"), NULL, lim, sizeof(lim)),
			      db_get(sr, r, "verdict"), db_get(sr, r, "note"));
	}
}

static void show_readings(struct ml_buf *b, const PGresult *rd)
{
	ml_buf_printf(b, "\n%4s %3s %3s %10s %10s %8s %6s %s\n", "STEP", "POS", "#", "VALUE",
		      "VALUE2", "PULSES", "RESULT", "MEASURED AT");
	for (int r = 0; r < PQntuples(rd); r++) {
		char v[DEC4_FMT_MAX], v2[DEC4_FMT_MAX];
		const char *p = db_get(rd, r, "pulses");
		ml_buf_printf(
			b, "%4d %3s %3s %10s %10s %8s %6s %s\n", atoi(db_get(rd, r, "step_no")) + 1,
			db_get(rd, r, "position"), db_get(rd, r, "reading_no"),
			dec_text(db_get(rd, r, "value_e4"), NULL, v, sizeof(v)),
			dec_text(db_get(rd, r, "value2_e4"), NULL, v2, sizeof(v2)), p ? p : "",
			db_get(rd, r, "bench_result"), db_get(rd, r, "measured_at"));
	}
}

static void show_text(struct ml_buf *b, const PGresult *h, const PGresult *pos, const PGresult *c,
		      const PGresult *sr, const PGresult *rd)
{
	show_head(b, h);
	show_conclusions(b, pos, c);
	if (sr)
		show_steps(b, sr);
	if (rd)
		show_readings(b, rd);
}

/* Row r as an object: the num columns as raw JSON numbers, the str columns as strings. */
static void json_row(struct ml_buf *b, const PGresult *res, int r, const char *const *num,
		     const char *const *str)
{
	int first = 1;
	ml_buf_putc(b, '{');
	for (const char *const *c = num; *c; c++, first = 0)
		ml_json_kv_raw(b, first, *c, db_get(res, r, *c));
	for (const char *const *c = str; *c; c++, first = 0)
		ml_json_kv_str(b, first, *c, db_get(res, r, *c));
	ml_buf_putc(b, '}');
}

static void json_rows(struct ml_buf *b, const char *key, const PGresult *res,
		      const char *const *num, const char *const *str)
{
	ml_buf_printf(b, ",\"%s\":[", key);
	for (int r = 0; r < PQntuples(res); r++) {
		if (r)
			ml_buf_putc(b, ',');
		json_row(b, res, r, num, str);
	}
	ml_buf_putc(b, ']');
}

static void show_json(struct ml_buf *b, const PGresult *h, const PGresult *pos, const PGresult *c,
		      const PGresult *sr, const PGresult *rd)
{
	static const char *const hn[] = { "run_id", "scheme_version", "steps_total", "steps_done",
					  NULL };
	static const char *const hs[] = { "bench",
					  "scheme_code",
					  "model",
					  "mode",
					  "status",
					  "run_date",
					  "operator",
					  "started_at",
					  "finished_at",
					  "last_error",
					  "created_at",
					  "backdated_by",
					  "backdated_reason",
					  NULL };
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
	json_row(b, h, 0, hn, hs);
	b->len--; /* reopen the run object */
	json_rows(b, "positions", pos, pn, ps);
	json_rows(b, "conclusions", c, cn, cs);
	json_rows(b, "results", sr, sn, ss);
	json_rows(b, "readings", rd, rn, rs);
	ml_buf_putc(b, '}');
}

static int check_show(struct cli_ctx *ctx, struct cli_call *c)
{
	struct run_args *a = c->args;
	(void)ctx;
	if (!cli_is_id(c->pos[0], &a->ids[0]))
		return cli_call_usage(c, "run show: unexpected argument '%s'", c->pos[0]);
	return ML_OK;
}

static int run_show(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct run_args *a = c->args;
	int steps = ctx->json || a->steps, readings = ctx->json || a->readings;
	struct run_detail d;
	struct ml_buf b = ML_BUF_INIT;
	int rc = run_detail_get(c->db, a->ids[0], steps, readings, &d, &c->err);
	if (rc)
		return rc;
	if (ctx->json)
		show_json(&b, d.head, d.positions, d.conclusions, d.results, d.readings);
	else
		show_text(&b, d.head, d.positions, d.conclusions, d.results, d.readings);
	rc = cli_emit(c, &b, ctx->json);
	run_detail_free(&d);
	ml_buf_free(&b);
	return rc;
}

static int run_list_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	const struct run_args *a = c->args;
	static const char *const ln[] = { "run_id", "steps_total", "steps_done", "positions",
					  NULL };
	static const char *const ls[] = {
		"bench", "scheme_code", "mode", "status", "run_date", NULL
	};
	struct run_filter f = { .status = a->status, .limit = 1000 };
	PGresult *res = NULL;
	int rc = run_list(c->db, &f, &res, &c->err);
	if (rc)
		goto out;
	if (ctx->json)
		ml_buf_putc(&b, '[');
	else
		ml_buf_printf(&b, "%6s %-12s %-24s %-7s %-20s %-10s %5s %4s\n", "RUN", "BENCH",
			      "SCHEME", "MODE", "STATUS", "DATE", "STEPS", "POS");
	for (int r = 0; r < PQntuples(res); r++) {
		/* Is a process executing it now? (the runner's lock, lab/run_query.h) */
		int executing = !strcmp(db_get(res, r, "executing"), "t");
		if (ctx->json) {
			if (r)
				ml_buf_putc(&b, ',');
			json_row(&b, res, r, ln, ls);
			b.len--; /* reopen the object */
			ml_json_kv_raw(&b, 0, "executing", executing ? "true" : "false");
			ml_buf_putc(&b, '}');
			continue;
		}
		/* 'running' without an executor: the process died; 'run resume' continues it */
		int orphan = !strcmp(db_get(res, r, "status"), "running") && !executing;
		ml_buf_printf(&b, "%6s %-12s %-24s %-7s %-20s %-10s %2s/%-2s %4s\n",
			      db_get(res, r, "run_id"), db_get(res, r, "bench"),
			      db_get(res, r, "scheme_code"), db_get(res, r, "mode"),
			      orphan ? "running(no executor)" : db_get(res, r, "status"),
			      db_get(res, r, "run_date"), db_get(res, r, "steps_done"),
			      db_get(res, r, "steps_total"), db_get(res, r, "positions"));
	}
	if (ctx->json)
		ml_buf_putc(&b, ']');
	PQclear(res);
	rc = cli_emit(c, &b, ctx->json);
out:
	ml_buf_free(&b);
	return rc;
}

/* ---- the table ---- */

/* clang-format off */
#define TASK_OPTS                                                   \
	CLI_OPT("bench", struct run_args, bench),                   \
	CLI_OPT("scheme", struct run_args, scheme),                 \
	CLI_OPT("map", struct run_args, map),                       \
	CLI_OPT("date", struct run_args, date),                     \
	CLI_OPT("temperature", struct run_args, temperature),       \
	CLI_OPT("humidity", struct run_args, humidity),             \
	CLI_OPT("reason", struct run_args, reason)
#define EXEC_OPTS                                                   \
	CLI_OPT("poll-ms", struct run_args, poll_ms),               \
	CLI_OPT("stop-after", struct run_args, stop_after),         \
	CLI_OPT("stall-timeout-ms", struct run_args, stall_ms)
/* clang-format on */

static const struct cli_opt create_opts[] = {
	TASK_OPTS,
	CLI_FLAG("manual", struct run_args, manual),
	CLI_OPT_END,
};

static const struct cli_opt start_opts[] = {
	TASK_OPTS,
	EXEC_OPTS,
	CLI_FLAG("manual", struct run_args, manual),
	CLI_LIST("task", struct run_args, tasks, ntasks),
	CLI_OPT_END,
};

static const struct cli_opt exec_opts[] = {
	EXEC_OPTS,
	CLI_OPT_END,
};

static const struct cli_opt abort_opts[] = {
	CLI_OPT("reason", struct run_args, reason),
	CLI_OPT_END,
};

static const struct cli_opt manual_opts[] = {
	TASK_OPTS,
	CLI_FLAG("manual", struct run_args, manual),
	CLI_REQ("file", struct run_args, file),
	CLI_OPT_END,
};

static const struct cli_opt show_opts[] = {
	CLI_FLAG("steps", struct run_args, steps),
	CLI_FLAG("readings", struct run_args, readings),
	CLI_OPT_END,
};

static const struct cli_opt list_opts[] = {
	CLI_OPT("status", struct run_args, status),
	CLI_OPT_END,
};

#define CREATE_HELP                                                                                          \
	"  --bench CODE         registered bench (meterlab standard bench-add)\n"                            \
	"  --scheme CODE        verification scheme (meterlab scheme ...)\n"                                 \
	"  --map FILE           position map, one 'position,barcode' per line ('-' = stdin)\n"               \
	"  POSITION=BARCODE     positions given as arguments (with or instead of --map)\n"                   \
	"  --temperature C      ambient temperature in the lab, ℃, at most one decimal (stored exactly)\n" \
	"  --humidity RH        ambient relative humidity, %RH, at most one decimal\n"                       \
	"  --date YYYY-MM-DD --reason TEXT\n"                                                                \
	"                       record paper work done earlier (manual runs; permission\n"                   \
	"                       record.backdate): the reason is shown on the run, and the bench's\n"         \
	"                       standards must have been valid on that date\n"                               \
	"The run's date is the database server's date; its operator is you (the database login,\n"           \
	"permission run.create); the scheme's ACTIVE version is used (meterlab scheme activate)."

#define EXEC_HELP                                                                                               \
	"  --poll-ms N          reading_seq polling interval (default 5)\n"                                     \
	"  --stall-timeout-ms N give up when no position changes for this long (default 30000)\n"               \
	"  --stop-after N       stop (status interrupted) after N steps; resume later\n"                        \
	"Results, the conclusion and the asset moves are recorded as you (permission run.execute).\n"           \
	"Progress goes to stderr; with --json one event object per line goes to stdout.\n"                      \
	"Ctrl-C / SIGTERM stops cleanly: positions stopped, source off, run 'interrupted' (resume it later).\n" \
	"Exit status 0 when every asset passed, 1 when some failed verification."

static const struct cli_cmd run_cmds[] = {
	{ .name = "create",
	  .check = check_create,
	  .run = run_create,
	  CLI_ARGS(struct run_args, create_opts),
	  .max_pos = 4 * RUN_MAX_SLOTS,
	  .summary = "create a verification task (bench + scheme + positions)",
	  .help = "usage: meterlab run create --bench CODE --scheme CODE (--map FILE | POS=BARCODE ...) [--manual]\n\n"
		  "Create a verification task: validates positions, barcodes, asset states, the scheme against\n"
		  "the model and the bench's reference-standard certificates; then moves the assets to\n"
		  "'verifying'. Prints the run id. --manual: readings will be typed in (meterlab run manual).\n\n" CREATE_HELP },
	{ .name = "start",
	  .check = check_start,
	  .run = run_start,
	  CLI_ARGS(struct run_args, start_opts),
	  .max_pos = 4 * RUN_MAX_SLOTS,
	  .summary = "execute runs (or create and execute a task)",
	  .help = "usage: meterlab run start [ID ...] [--task ID ...] [options]\n"
		  "       meterlab run start --bench CODE --scheme CODE (--map FILE | POS=BARCODE ...) [options]\n\n"
		  "Execute pending runs (several at once: one thread per bench), or create a task and run it.\n\n" CREATE_HELP
		  "\n" EXEC_HELP },
	{ .name = "start-many",
	  .check = check_start_many,
	  .run = run_start_many,
	  CLI_ARGS(struct run_args, exec_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "run start-many needs a FILE",
	  .summary = "create and execute many tasks concurrently, one per bench",
	  .help = "usage: meterlab run start-many FILE [options]\n\n"
		  "FILE has one task per line: BENCH SCHEME MAPFILE (separated by spaces or commas; '#'\n"
		  "comments). Every task is created first (all are validated before any runs), then all\n"
		  "run concurrently, one thread and one bench connection per task.\n\n" EXEC_HELP },
	{ .name = "resume",
	  .check = check_resume,
	  .run = run_resume,
	  CLI_ARGS(struct run_args, exec_opts),
	  .min_pos = 1,
	  .max_pos = 4 * RUN_MAX_MANY,
	  .need = "run resume needs a run id",
	  .summary = "continue interrupted runs from the first incomplete step",
	  .help = "usage: meterlab run resume ID [ID ...] [options]\n\n"
		  "Continue interrupted runs (killed process, lost bench) from the first incomplete step;\n"
		  "completed steps are kept, an incomplete step is redone.\n\n" EXEC_HELP },
	{ .name = "abort",
	  .check = check_abort,
	  .run = run_abort,
	  CLI_ARGS(struct run_args, abort_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "run abort needs a run id",
	  .flags = CLI_NEED_DB,
	  .summary = "cancel an unfinished run (assets -> reverify)",
	  .help = "usage: meterlab run abort ID [--reason TEXT]\n\n"
		  "Cancel a run that has not finished: its assets still on the bench go to 'reverify'\n"
		  "(verify_abort), the run to 'aborted', whatever happened to its assets meanwhile. Refused\n"
		  "while a process executes the run (stop it there first)." },
	{ .name = "manual",
	  .check = check_manual,
	  .run = run_manual,
	  CLI_ARGS(struct run_args, manual_opts),
	  .max_pos = 4 * RUN_MAX_SLOTS,
	  .need = "run manual needs --file FILE",
	  .summary = "manual verification: typed-in or imported readings",
	  .help = "usage: meterlab run manual ID --file FILE\n"
		  "       meterlab run manual --bench CODE --scheme CODE (--map FILE | POS=BARCODE ...) --file FILE\n\n"
		  "Manual verification (手工检定): readings typed in or imported. FILE ('-' = stdin) has one line\n"
		  "per position and step:  POSITION, STEP, value1, value2, ...\n"
		  "STEP is the step label or its number; creep/start/constant take 'pulses=N[, elapsed=S]\n"
		  "[, register=KWH]'; CT/VT values are 'ratio / phase'. Every measurement the scheme requires\n"
		  "must be there: its number of readings, the creep test's elapsed time (its whole window)\n"
		  "and the moment the starting pulse came. Everything is judged before anything is stored;\n"
		  "results go to the same tables as a driven run, then the assets move (permission\n"
		  "run.manual).\n\n" CREATE_HELP },
	{ .name = "show",
	  .check = check_show,
	  .run = run_show,
	  CLI_ARGS(struct run_args, show_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "run show needs one run id",
	  .flags = CLI_NEED_DB,
	  .summary = "readings, results and conclusions of a run",
	  .help = "usage: meterlab run show ID [--steps] [--readings] [--json]\n\n"
		  "The run and its positions with per-item and overall conclusions (the results table).\n"
		  "--steps adds every step result (mean, rounded value, limit, verdict), --readings every raw\n"
		  "reading. --json always includes all of them (values are dec4: value x 10000)." },
	{ .name = "list",
	  .run = run_list_cmd,
	  CLI_ARGS(struct run_args, list_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "list runs",
	  .help = "usage: meterlab run list [--status STATUS] [--json]\n\n"
		  "Runs, newest first. STATUS: pending, running, interrupted, finished, aborted.\n"
		  "'running(no executor)': the executing process died (killed, power loss); 'meterlab run "
		  "resume ID' continues it." },
	{ .name = NULL },
};

const struct cli_cmd cmd_run = {
	.name = "run",
	.help = "Verification runs on benches (检定任务).",
	.sub = run_cmds,
};
