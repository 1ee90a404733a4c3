/* runner.c — execute and resume verification runs on benches (see runner.h). */
#include "lab/runner.h"
#include "lab/run_status.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assets/lifecycle.h"
#include "lab/judge.h"
#include "lab/plan.h"
#include "lab/result.h"
#include "lab/scheme.h"
#include "lab/settings.h"
#include "lab/standard.h"
#include "lab/task.h"

#define MAX_POS 96

struct slot {
	int position; /* 1-based */
	int64_t asset_id;
	char barcode[23];
};

struct run {
	struct db *db;
	struct bench *bench;
	const struct runner_options *opt;
	int64_t run_id;
	enum run_status status;
	char mode[8]; /* driven | manual */
	char run_date[11];
	struct bench_rec br;
	int bench_positions; /* from the bench's identity */
	int nslots;
	struct slot slot[MAX_POS];
	int64_t model_id;
	int64_t scheme_id; /* 0: a run before 0113, planned from scheme_text */
	int period_months;
	struct model_rating rating;
	struct lab_settings set;
	struct scheme *sch;
	struct plan_step *plan;
	size_t nplan;
	unsigned char done[SCHEME_MAX_STEPS];
	int failures;
	int reconnects;
	uint16_t seq;
	struct writer *writer; /* step-commit thread, NULL when none is running */
	int locked;            /* this session holds the run's executor lock */
};

/* What the runner saw at one position during one step. */
struct obs {
	uint16_t last_seq;
	int n, missed, finished;
	/* readings this position takes in the step: the plan's, or more once a recheck was asked for */
	int want;
	int64_t value[JUDGE_MAX_READINGS], value2[JUDGE_MAX_READINGS], at[JUDGE_MAX_READINGS];
	uint32_t pulses;
	int64_t elapsed_ms, last_value, last_value2;
	/* constant test: the register (Wh) at the start (seen while running) and at the end */
	uint32_t reg0, reg1;
	int reg_seen; /* reg0 was taken from a poll while the position was running */
	int bench_result;
	/* basic: the bench's elapsed time (ms) when the pulse count last changed */
	uint32_t quiet_pulses;
	int64_t quiet_from_ms;
	/*
	 * Not measured, not a meter defect (nothing mounted; a register the
	 * bench cannot send exactly): no verdict, the asset goes back to reverify.
	 */
	int no_verdict;
	char note[ML_ERROR_MSG_MAX];
};

void runner_options_default(struct runner_options *o)
{
	memset(o, 0, sizeof(*o));
	o->poll_ms = 5;
	o->stall_timeout_ms = 30000;
	o->max_reconnects = 3;
}

static void emit(const struct run *r, enum runner_event_kind kind, int step, const char *label,
		 int done, const char *msg)
{
	if (!r->opt->on_event)
		return;
	struct runner_event ev = {
		.kind = kind,
		.run_id = r->run_id,
		.bench = r->br.code,
		.step = step,
		.steps_total = (int)r->nplan,
		.label = label ? label : "",
		.positions_done = done,
		.positions_total = r->nslots,
		.failures = r->failures,
		.message = msg ? msg : "",
	};
	r->opt->on_event(r->opt->event_arg, &ev);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- loading ---- */

/*
 * The lock's second key is an int4: run ids up to 2^32 - 1 map onto it one to
 * one (as the unsigned objid pg_locks shows); a larger id is refused rather
 * than silently sharing a lock with another run (a province makes ~10^5 runs
 * a year, so this is a guard, not a limit anyone meets).
 */
static int lock_key(int64_t run_id, char *key, size_t len, struct ml_error *err)
{
	if (run_id < 0 || run_id > (int64_t)UINT32_MAX)
		return ml_errorf(err, ML_EINTERNAL,
				 "run %" PRId64
				 " is beyond the runner's lock key space (0..%" PRIu32 ")",
				 run_id, UINT32_MAX);
	snprintf(key, len, "%" PRId32, (int32_t)(uint32_t)run_id);
	return ML_OK;
}

static int lock_run(struct run *r, struct ml_error *err)
{
	char id[24], key[16];
	snprintf(id, sizeof(id), "%" PRId64, r->run_id);
	int rc = lock_key(r->run_id, key, sizeof key, err);
	if (rc)
		return rc;
	const char *p[1] = { key };
	PGresult *res = NULL;
	rc = db_query_one(r->db, "SELECT pg_try_advisory_lock(" RUN_LOCK_CLASS ", $1::int)", 1, p,
			  &res, err);
	if (rc)
		return rc;
	int ok = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	r->locked = ok;
	return ok ? ML_OK
		  : ml_errorf(err, ML_ECONFLICT, "run %s is being executed by another process", id);
}

static int load_positions(struct run *r, const char *id, struct ml_error *err)
{
	const char *p[1] = { id };
	PGresult *res = NULL;
	int rc = db_exec(
		r->db,
		"SELECT position, asset_id, barcode FROM run_position WHERE run_id = $1::bigint "
		"ORDER BY position",
		1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res) > MAX_POS) {
		/* The database allows positions 1..96 (0031), so this cannot happen
		 * unless that check changes: refuse rather than drop the rest. */
		rc = ml_errorf(err, ML_EINTERNAL,
			       "run %s has %d positions; the runner drives at most %d", id,
			       PQntuples(res), MAX_POS);
		PQclear(res);
		return rc;
	}
	r->nslots = PQntuples(res);
	for (int i = 0; i < r->nslots; i++) {
		r->slot[i].position = atoi(db_get(res, i, "position"));
		r->slot[i].asset_id = strtoll(db_get(res, i, "asset_id"), NULL, 10);
		snprintf(r->slot[i].barcode, sizeof(r->slot[i].barcode), "%s",
			 db_get(res, i, "barcode"));
	}
	PQclear(res);
	return r->nslots ? ML_OK : ml_errorf(err, ML_EINTERNAL, "run %s has no positions", id);
}

static int load_row(struct run *r, const char *id, char **scheme_text, int64_t *bench_id,
		    struct ml_error *err)
{
	const char *p[1] = { id };
	PGresult *res = NULL;
	int rc = db_query_one(
		r->db,
		"SELECT bench_id, model_id, scheme_id, scheme_text, status, mode, run_date::text AS run_date "
		"FROM verification_run WHERE run_id = $1::bigint",
		1, p, &res, err);
	if (rc == ML_ENOTFOUND)
		return ml_errorf(err, ML_ENOTFOUND, "no run %s", id);
	if (rc)
		return rc;
	*bench_id = strtoll(db_get(res, 0, "bench_id"), NULL, 10);
	r->model_id = strtoll(db_get(res, 0, "model_id"), NULL, 10);
	const char *sid = db_get(res, 0, "scheme_id");
	r->scheme_id = sid ? strtoll(sid, NULL, 10) : 0;
	rc = run_status_parse(db_get(res, 0, "status"), &r->status, err);
	if (rc) {
		PQclear(res);
		return rc;
	}
	snprintf(r->mode, sizeof(r->mode), "%s", db_get(res, 0, "mode"));
	snprintf(r->run_date, sizeof(r->run_date), "%s", db_get(res, 0, "run_date"));
	/* runs before 0113 carry a text snapshot; later ones name the immutable version */
	const char *text = db_get(res, 0, "scheme_text");
	*scheme_text = strdup(text ? text : "");
	PQclear(res);
	if (!*scheme_text)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	if (run_status_terminal(r->status))
		return ml_errorf(err, ML_ESTATE, "run %s is already %s", id,
				 run_status_name(r->status));
	return ML_OK;
}

static int load_run(struct run *r, struct ml_error *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, r->run_id);
	char *text = NULL;
	int64_t bench_id = 0;
	int rc = load_row(r, id, &text, &bench_id, err);
	/* A manual run has no bench to drive; trying would mark it interrupted and lock out its readings. */
	if (!rc && strcmp(r->mode, "driven"))
		rc = ml_errorf(
			err, ML_ESTATE,
			"run %s is a %s run: type its readings with 'meterlab run manual %s'", id,
			r->mode, id);
	if (!rc)
		rc = load_positions(r, id, err);
	if (!rc)
		rc = standard_bench_get_id(r->db, bench_id, &r->br, err);
	if (!rc)
		rc = task_load_rating(r->db, r->model_id, &r->rating, &r->period_months, err);
	if (!rc)
		rc = lab_settings_load(r->db, &r->set, err);
	if (!rc)
		rc = r->scheme_id ? scheme_db_load_id(r->db, r->scheme_id, &r->sch, err)
				  : scheme_parse_text(text, &r->sch, err);
	if (!rc)
		rc = plan_scheme(r->sch, &r->rating, &r->set, &r->plan, &r->nplan, err);
	if (!rc && r->nplan > SCHEME_MAX_STEPS)
		rc = ml_errorf(err, ML_EINTERNAL, "run %s: %zu steps", id, r->nplan);
	if (!rc)
		rc = result_done_steps(r->db, r->run_id, r->done, sizeof(r->done), err);
	free(text);
	return rc;
}

/* Status changes: the one table and function of lab/run_status.h (and ml_run_status, 0113). */
static int set_status(struct run *r, enum run_status to, const char *error, struct ml_error *err)
{
	return run_status_change(r->db, r->run_id, &r->status, to, error, err);
}

/* ---- bench ---- */

static int open_bench(struct run *r, struct ml_error *err)
{
	static const struct bench_options zero;
	const struct bench_options *bo = memcmp(&r->opt->bench, &zero, sizeof(zero))
						 ? &r->opt->bench
						 : NULL;
	int rc = bench_open(r->br.uri, bo, &r->bench, err);
	struct bench_identity id;
	if (!rc)
		rc = bench_identify(r->bench, &id, err);
	if (rc)
		return rc;
	r->bench_positions = id.positions;
	for (int i = 0; i < r->nslots; i++) {
		if (r->slot[i].position > id.positions)
			return ml_errorf(err, ML_ECONFIG,
					 "bench '%s' reports %d positions; position %d is mounted",
					 r->br.code, id.positions, r->slot[i].position);
	}
	return ML_OK;
}

static int configure(struct run *r, const struct plan_step *ps, struct ml_error *err)
{
	struct bench_position_config cfg[MAX_POS];
	for (int p = 0; p < r->bench_positions; p++) {
		cfg[p] = ps->pos;
		cfg[p].enabled = 0;
	}
	for (int i = 0; i < r->nslots; i++)
		cfg[r->slot[i].position - 1].enabled = 1;
	return bench_configure_positions(r->bench, 0, r->bench_positions, cfg, err);
}

static int apply_source(struct run *r, const struct plan_step *ps, struct ml_error *err)
{
	r->seq = (uint16_t)(r->seq + 1 ? r->seq + 1 : 1);
	int rc = ps->has_xfmr ? bench_set_transformer(r->bench, &ps->xfmr, r->seq, err)
			      : bench_set_source(r->bench, &ps->source, r->seq, err);
	if (rc)
		return rc;
	int timeout = ps->settle_timeout_ms > 0 ? ps->settle_timeout_ms : 60000;
	return bench_wait_stable(r->bench, r->seq, timeout, err);
}

/* ---- observing one step ---- */

static int counts_readings(enum scheme_step_kind k)
{
	return k == STEP_BASIC || k == STEP_CLOCK || k == STEP_CT || k == STEP_VT;
}

static const char *fault_note(int result)
{
	switch (result) {
	case BENCH_RES_NO_PULSES:
		return "no pulses from the meter";
	case BENCH_RES_UNSTABLE:
		return "unstable pulses";
	case BENCH_RES_WIRING:
		return "wiring fault";
	case BENCH_RES_COMM:
		return "meter communication fault";
	default:
		return "position fault";
	}
}

static int wanted(const struct plan_step *ps, const struct obs *o)
{
	return o->want > ps->readings ? o->want : ps->readings;
}

/*
 * A basic-error position that has its planned readings and whose mean is
 * near the limit (settings judge.recheck_low / judge.recheck_high, % of the
 * limit; domain.md §1.11 [M] "extra readings near the limit") takes
 * judge.recheck_readings more before it is judged: judge_step says so
 * (out.recheck), exactly as it will judge the step, and only once (with
 * the extra readings n exceeds the plan and it no longer asks). The step's
 * result then carries every reading, and its mean is taken over all of
 * them. 1 when the position goes on reading.
 */
static int recheck_more(const struct run *r, const struct plan_step *ps, struct obs *o)
{
	if (ps->kind != STEP_BASIC || o->want > ps->readings || r->set.recheck_low_pct_e4 <= 0 ||
	    o->n != ps->readings)
		return 0;
	struct judge_step_input in;
	struct judge_step_result res;
	struct ml_error e = ML_ERROR_INIT;
	memset(&in, 0, sizeof(in));
	in.n = o->n;
	memcpy(in.value_e4, o->value, sizeof(in.value_e4));
	in.pulses = o->pulses;
	in.elapsed_ms = o->elapsed_ms;
	if (judge_step(ps, &in, &r->set, &res, &e) || !res.recheck)
		return 0;
	int more = ps->readings + r->set.recheck_readings;
	o->want = more < JUDGE_MAX_READINGS ? more : JUDGE_MAX_READINGS;
	return o->want > o->n;
}

static void take_reading(const struct plan_step *ps, const struct bench_position_status *st,
			 struct obs *o)
{
	uint16_t delta = (uint16_t)(st->reading_seq - o->last_seq);
	o->last_seq = st->reading_seq;
	o->last_value = st->value_e4;
	o->last_value2 = st->value2_e4;
	if (!counts_readings(ps->kind) || o->n >= wanted(ps, o) || o->n >= JUDGE_MAX_READINGS)
		return;
	/* "value" holds only the latest reading: a skipped one cannot be recovered, count it. */
	o->missed += delta - 1;
	o->value[o->n] = st->value_e4;
	o->value2[o->n] = st->value2_e4;
	o->at[o->n] = result_now_us();
	o->n++;
}

/*
 * The runner's own bound on a basic-error step (bench-protocol.md §5): a
 * position whose pulse count has not moved for three times the time one
 * reading should take is finished as failed with "no pulses", whether or
 * not the bench raises result 1 itself, so one dead meter cannot hold the
 * step (and the bench) forever. Measured on the bench's elapsed device
 * time, so the bound is the same at any time scale. 1 when it fired.
 */
static int no_pulses_bound(const struct plan_step *ps, const struct bench_position_status *st,
			   struct obs *o)
{
	if (ps->kind != STEP_BASIC || ps->reading_ms <= 0)
		return 0;
	if (st->pulses != o->quiet_pulses || o->elapsed_ms < o->quiet_from_ms) {
		o->quiet_pulses = st->pulses;
		o->quiet_from_ms = o->elapsed_ms;
		return 0;
	}
	int64_t quiet = o->elapsed_ms - o->quiet_from_ms;
	if (quiet <= 3 * ps->reading_ms)
		return 0;
	snprintf(o->note, sizeof(o->note),
		 "%s: none counted for %" PRId64 " ms, 3 times the %" PRId64
		 " ms one reading takes",
		 fault_note(BENCH_RES_NO_PULSES), quiet, ps->reading_ms);
	o->finished = 1;
	o->at[0] = result_now_us();
	return 1;
}

/* The register of a constant test (Wh); a 1.0 bench's refused one leaves the position unjudged. */
static void take_register(const struct run *r, int pos, const struct bench_position_status *st,
			  struct obs *o)
{
	uint32_t wh = 0;
	struct ml_error e = ML_ERROR_INIT;
	if (bench_position_register(r->bench, pos, st, &wh, &e)) {
		snprintf(o->note, sizeof(o->note), "%s", e.msg);
		o->no_verdict = 1;
		o->finished = 1;
		return;
	}
	/*
	 * While a position runs the bench shows the register it read at the
	 * start, once done the final read (§5). The start value must come from
	 * a poll while running: a read before the start command misses the
	 * energy the meter registers until the start (γ skewed by
	 * gap/duration, ~0.1-0.3 % at 1000x).
	 */
	if (st->state == BENCH_POS_RUNNING && !o->reg_seen) {
		o->reg0 = wh;
		o->reg_seen = 1;
	}
	o->reg1 = wh;
}

static void observe(const struct run *r, int pos, const struct plan_step *ps,
		    const struct bench_position_status *st, struct obs *o)
{
	if (o->finished)
		return;
	if (!st->present) {
		snprintf(o->note, sizeof(o->note), "no device present at the position");
		o->no_verdict = 1;
		o->finished = 1;
		return;
	}
	if (st->reading_seq != o->last_seq)
		take_reading(ps, st, o);
	o->pulses = st->pulses;
	o->elapsed_ms = (int64_t)llround((double)st->elapsed * 1000.0);
	o->bench_result = st->result;
	if (ps->kind == STEP_CONSTANT) {
		take_register(r, pos, st, o);
		if (o->finished)
			return;
	}
	int ended = st->state == BENCH_POS_DONE || st->state == BENCH_POS_FAULT;
	int faulty = st->state == BENCH_POS_FAULT || st->result == BENCH_RES_WIRING ||
		     st->result == BENCH_RES_COMM || st->result == BENCH_RES_UNSTABLE ||
		     (counts_readings(ps->kind) && st->result == BENCH_RES_NO_PULSES);
	if (counts_readings(ps->kind) && o->n >= wanted(ps, o)) {
		if (!recheck_more(r, ps, o))
			o->finished = 1;
	} else if (ended || (faulty && st->result != BENCH_RES_OK)) {
		o->finished = 1;
		if (faulty || counts_readings(ps->kind))
			snprintf(o->note, sizeof(o->note), "%s", fault_note(st->result));
		o->at[0] = result_now_us();
	} else {
		no_pulses_bound(ps, st, o);
	}
}

static int poll_until_done(struct run *r, const struct plan_step *ps, struct obs *obs,
			   struct ml_error *err)
{
	struct bench_position_status st[MAX_POS];
	int64_t last_change = mono_ms();
	int last_done = -1;
	uint64_t last_sig = 0;
	for (;;) {
		int rc = bench_read_positions(r->bench, 0, r->bench_positions, st, err);
		if (rc)
			return rc;
		int ndone = 0;
		uint64_t sig = 0;
		for (int i = 0; i < r->nslots; i++) {
			const struct bench_position_status *s = &st[r->slot[i].position - 1];
			observe(r, r->slot[i].position - 1, ps, s, &obs[i]);
			ndone += obs[i].finished;
			sig = sig * 1000003u + s->reading_seq * 31u + s->state + s->pulses +
			      (uint64_t)(s->elapsed * 1000.0f);
		}
		if (ndone != last_done)
			emit(r, RUNNER_EV_PROGRESS, ps->index + 1, ps->label, ndone, NULL);
		last_done = ndone;
		if (ndone == r->nslots)
			return ML_OK;
		if (r->opt->cancel && *r->opt->cancel)
			return ml_errorf(err, ML_ESTATE,
					 "bench '%s' step %d (%s): cancelled by the operator",
					 r->br.code, ps->index + 1, ps->label);
		if (sig != last_sig) {
			last_sig = sig;
			last_change = mono_ms();
		} else if (mono_ms() - last_change > r->opt->stall_timeout_ms) {
			return ml_errorf(
				err, ML_ETIMEOUT, "bench '%s' step %d (%s): no progress for %d ms",
				r->br.code, ps->index + 1, ps->label, r->opt->stall_timeout_ms);
		}
		sleep_ms(r->opt->poll_ms);
	}
}

/* ---- judging and storing one step ---- */

static void judge_obs(const struct run *r, const struct plan_step *ps, const struct obs *o,
		      struct result_row *row)
{
	struct ml_error e = ML_ERROR_INIT;
	struct judge_step_input in;
	memset(&in, 0, sizeof(in));
	in.n = o->n;
	memcpy(in.value_e4, o->value, sizeof(in.value_e4));
	memcpy(in.value2_e4, o->value2, sizeof(in.value2_e4));
	in.pulses = o->pulses;
	in.elapsed_ms = o->elapsed_ms;
	/* Wh to kWh × 1e4, exact: the register travels as u32 Wh (protocol 1.1 §3.3) */
	in.register_delta_kwh_e4 = ((int64_t)o->reg1 - (int64_t)o->reg0) * 10;
	if (!o->note[0] && !judge_step(ps, &in, &r->set, &row->r, &e))
		return;
	/* The bench could not measure this position (or the judge refused the input): it fails the step. */
	memset(&row->r, 0, sizeof(row->r));
	row->r.index = ps->index;
	row->r.kind = ps->kind;
	snprintf(row->r.label, sizeof(row->r.label), "%s", ps->label);
	row->r.value.n = o->n;
	/* Not measured (nothing mounted) is no verdict: the asset goes back to reverify, not to failed. */
	row->r.verdict = row->r.internal_verdict = o->no_verdict ? JUDGE_NONE : JUDGE_FAIL;
	snprintf(row->note, sizeof(row->note), "%.*s", (int)sizeof(row->note) - 1,
		 o->note[0] ? o->note : e.msg);
}

/*
 * The readings of a step: every reading of a counting step; one row for a
 * timed step (creep, start, constant) whose value is the step's own result
 * as judged (γ of the constant test, 0 for creep/start; like manual runs),
 * never the bench's value register, which still holds the previous test's
 * reading in those modes.
 */
static size_t collect_readings(const struct run *r, const struct plan_step *ps,
			       const struct obs *obs, const struct result_row *rows,
			       struct result_reading *rd)
{
	size_t n = 0;
	for (int i = 0; i < r->nslots; i++) {
		const struct obs *o = &obs[i];
		int timed = !counts_readings(ps->kind);
		int cnt = timed ? (o->finished && !o->note[0]) : o->n;
		for (int k = 0; k < cnt; k++) {
			struct result_reading *x = &rd[n++];
			x->asset_id = r->slot[i].asset_id;
			x->position = r->slot[i].position;
			x->reading_no = k + 1;
			x->value_e4 = timed ? rows[i].r.gamma_e4 : o->value[k];
			x->has_value2 = ps->kind == STEP_CT || ps->kind == STEP_VT;
			x->value2_e4 = o->value2[k];
			x->pulses = timed ? (int64_t)o->pulses : -1;
			x->bench_result = timed ? o->bench_result : 0;
			x->at_us = o->at[k];
		}
	}
	return n;
}

/*
 * Step commits run on a writer thread so the bench goes on with the next
 * steps while PostgreSQL stores the finished ones, in order (a FIFO; the
 * thread has the run's connection to itself until writer_wait()). The
 * steps that waited while a commit was under way are stored together
 * (writer_main). After a refused step nothing more is committed (the steps
 * before it are) and the error surfaces at the next store_step() or
 * writer_wait(), which stops the run; resume redoes from that step because
 * its run_step mark was never committed.
 */
struct commit_job {
	const struct plan_step *ps;
	int64_t started;
	struct result_reading *rd;
	size_t nrd;
	struct result_row *rows;
	int fails;
	struct commit_job *next;
};

struct writer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct run *r;
	struct commit_job *head, *tail;
	int closing;
	int rc; /* first commit failure; guarded by mu */
	struct ml_error err;
};

static void job_free(struct commit_job *j)
{
	if (!j)
		return;
	free(j->rd);
	free(j->rows);
	free(j);
}

/* Takes the queued jobs into out, at most RESULT_GROUP_MAX, oldest first; 0 once closing and empty. */
static size_t writer_pop(struct writer *w, struct commit_job **out)
{
	size_t n = 0;
	pthread_mutex_lock(&w->mu);
	while (!w->head && !w->closing)
		pthread_cond_wait(&w->cv, &w->mu);
	while (w->head && n < RESULT_GROUP_MAX) {
		struct commit_job *j = w->head;
		w->head = j->next;
		j->next = NULL;
		out[n++] = j;
	}
	if (!w->head)
		w->tail = NULL;
	pthread_mutex_unlock(&w->mu);
	return n;
}

/*
 * The steps that queued up while the last commit was under way are stored
 * together (result_commit_steps: one transaction, one WAL flush): when the
 * database keeps up, each step is committed alone as soon as it is judged;
 * when it falls behind (many benches at once), a flush serves several steps
 * and the writer catches up instead of falling further behind.
 */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct commit_job *j[RESULT_GROUP_MAX];
	struct result_step s[RESULT_GROUP_MAX];
	size_t n;
	while ((n = writer_pop(w, j)) > 0) {
		struct ml_error e = ML_ERROR_INIT;
		for (size_t i = 0; i < n; i++)
			s[i] = (struct result_step){
				j[i]->ps,  j[i]->started, j[i]->rd,
				j[i]->nrd, j[i]->rows,    (size_t)w->r->nslots
			};
		int rc = w->rc ? w->rc /* after a failure: drop the rest */
			       : result_commit_steps(w->r->db, w->r->run_id, s, n, NULL, &e);
		if (rc && !w->rc) {
			pthread_mutex_lock(&w->mu);
			w->rc = rc;
			w->err = e;
			pthread_mutex_unlock(&w->mu);
		}
		for (size_t i = 0; i < n; i++)
			job_free(j[i]);
	}
	return NULL;
}

static int writer_failed(struct writer *w, struct ml_error *err)
{
	pthread_mutex_lock(&w->mu);
	int rc = w->rc;
	if (rc && err)
		*err = w->err;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* Wait until every queued commit is done and stop the writer; its first error becomes ours. */
static int writer_wait(struct run *r, struct ml_error *err)
{
	struct writer *w = r->writer;
	if (!w)
		return ML_OK;
	pthread_mutex_lock(&w->mu);
	w->closing = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	int rc = writer_failed(w, err);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	r->writer = NULL;
	return rc;
}

static int writer_submit(struct run *r, struct commit_job *j, struct ml_error *err)
{
	if (!r->writer) {
		struct writer *w = calloc(1, sizeof(*w));
		if (!w)
			return ml_errorf(err, ML_ENOMEM, "out of memory");
		w->r = r;
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
		if (pthread_create(&w->th, NULL, writer_main, w)) {
			pthread_mutex_destroy(&w->mu);
			pthread_cond_destroy(&w->cv);
			free(w);
			return ml_errorf(err, ML_EINTERNAL,
					 "cannot start the result writer thread");
		}
		r->writer = w;
	}
	struct writer *w = r->writer;
	int rc = writer_failed(w, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&w->mu);
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return ML_OK;
}

static int store_step(struct run *r, const struct plan_step *ps, int64_t started,
		      const struct obs *obs, struct ml_error *err)
{
	struct commit_job *j = calloc(1, sizeof(*j));
	if (j) {
		j->rd = calloc((size_t)r->nslots * JUDGE_MAX_READINGS, sizeof(*j->rd));
		j->rows = calloc((size_t)r->nslots, sizeof(*j->rows));
	}
	if (!j || !j->rd || !j->rows) {
		job_free(j);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	j->ps = ps;
	j->started = started;
	for (int i = 0; i < r->nslots; i++) {
		j->rows[i].asset_id = r->slot[i].asset_id;
		j->rows[i].position = r->slot[i].position;
		judge_obs(r, ps, &obs[i], &j->rows[i]);
		j->fails += j->rows[i].r.verdict == JUDGE_FAIL;
	}
	j->nrd = collect_readings(r, ps, obs, j->rows, j->rd);
	r->failures += j->fails; /* judged now; progress shows them at once */
	int rc = writer_submit(r, j, err);
	if (rc)
		job_free(j);
	return rc;
}

/*
 * A constant test that ended before the first poll after the start left no
 * start reading: the position cannot be judged (not a meter defect). The
 * step is redone like any timing failure (retryable ML_ETIMEOUT).
 */
static int check_register_start(const struct run *r, const struct plan_step *ps,
				const struct obs *obs, struct ml_error *err)
{
	for (int i = 0; i < r->nslots; i++) {
		if (!obs[i].reg_seen && !obs[i].note[0])
			return ml_errorf(
				err, ML_ETIMEOUT,
				"bench '%s' step %d (%s): position %d ended the constant test before the "
				"runner saw its start register reading (poll every %d ms)",
				r->br.code, ps->index + 1, ps->label, r->slot[i].position,
				r->opt->poll_ms);
	}
	return ML_OK;
}

static int exec_step(struct run *r, const struct plan_step *ps, struct ml_error *err)
{
	int64_t started = result_now_us();
	struct obs *obs = calloc((size_t)r->nslots, sizeof(*obs));
	if (!obs)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	int rc = apply_source(r, ps, err);
	if (!rc)
		rc = configure(r, ps, err);
	if (!rc)
		rc = bench_all_command(r->bench, BENCH_CMD_START, err);
	if (!rc)
		rc = poll_until_done(r, ps, obs, err);
	if (!rc && ps->kind == STEP_CONSTANT)
		rc = check_register_start(r, ps, obs, err);
	if (!rc)
		rc = bench_all_command(r->bench, BENCH_CMD_STOP, err);
	if (!rc)
		rc = store_step(r, ps, started, obs, err);
	free(obs);
	/* every message names the step it happened in (the bench's own messages do not) */
	if (rc && err && !strstr(err->msg, " step "))
		ml_error_prefix(err, "bench '%s' step %d (%s): ", r->br.code, ps->index + 1,
				ps->label);
	return rc;
}

static int retryable(int rc)
{
	return rc == ML_EIO || rc == ML_ETIMEOUT || rc == ML_EPROTO;
}

/*
 * A bench that is busy for a moment (exception 06 while its source settles)
 * or whose heartbeat stalled briefly is not a broken bench: the step is redone
 * once on the same connection before the run is interrupted (issue 8). The
 * device layer reports both as ML_EDEVICE; its message says which
 * (bench_modbus.c "device busy", bench.c "heartbeat").
 */
static int transient_device(int rc, const struct ml_error *e)
{
	return rc == ML_EDEVICE && (strstr(e->msg, "device busy") || strstr(e->msg, "heartbeat"));
}

/* Run one step; on bench I/O trouble reopen the bench and redo the step. */
static int step_with_retry(struct run *r, const struct plan_step *ps, struct ml_error *err)
{
	int transient_left = 1;
	for (;;) {
		struct ml_error e = ML_ERROR_INIT;
		int rc = r->bench ? ML_OK : open_bench(r, &e);
		if (!rc)
			rc = exec_step(r, ps, &e);
		if (!rc)
			return ML_OK;
		if (transient_device(rc, &e) && transient_left) {
			transient_left--;
			emit(r, RUNNER_EV_RECONNECT, ps->index + 1, ps->label, 0, e.msg);
			if (r->bench) {
				/* positions stopped before the step starts again (best effort) */
				struct ml_error ignore = ML_ERROR_INIT;
				(void)!bench_all_command(r->bench, BENCH_CMD_STOP, &ignore);
			}
			sleep_ms(500);
			continue;
		}
		if (!retryable(rc) || r->reconnects >= r->opt->max_reconnects) {
			*err = e;
			return rc;
		}
		r->reconnects++;
		emit(r, RUNNER_EV_RECONNECT, ps->index + 1, ps->label, 0, e.msg);
		bench_close(r->bench);
		r->bench = NULL;
		sleep_ms(100 * r->reconnects);
	}
}

/* ---- the end of a run ---- */

/*
 * The conclusion is computed by the database from the stored step results
 * (ml_run_conclude, 0113): per-item and overall verdicts, valid_until from
 * the run date and the model's verification period, the assets' moves and
 * the 'finished' status in one transaction. Nothing of it is an argument.
 */
static int conclude(struct run *r, struct runner_outcome *out, struct ml_error *err)
{
	struct judge_position jp[MAX_POS];
	int64_t ids[MAX_POS];
	for (int i = 0; i < r->nslots; i++)
		ids[i] = r->slot[i].asset_id;
	/* failures of this run's steps, for the FINISHED event (also after a resume) */
	int rc = result_fold_positions(r->db, r->run_id, ids, (size_t)r->nslots, jp, &r->failures,
				       NULL, err);
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, r->run_id);
	const char *p[1] = { id };
	PGresult *res = NULL;
	if (!rc)
		rc = db_query_one(
			r->db, "SELECT passed, failed, untested FROM ml_run_conclude($1::bigint)",
			1, p, &res, err);
	if (rc)
		return rc;
	out->passed = atoi(db_get(res, 0, "passed"));
	out->failed = atoi(db_get(res, 0, "failed"));
	out->untested = atoi(db_get(res, 0, "untested"));
	PQclear(res);
	r->status = RUN_FINISHED; /* by ml_run_conclude, in the same transaction */
	return ML_OK;
}

/* ---- driving a whole run ---- */

static int drive(struct run *r, struct runner_outcome *out, struct ml_error *err)
{
	int rc = standard_check_bench(r->db, r->br.bench_id, r->run_date, err);
	if (!rc)
		rc = set_status(r, RUN_RUNNING, NULL, err);
	if (rc)
		return rc;
	emit(r, RUNNER_EV_START, 0, NULL, 0, NULL);
	int executed = 0;
	for (size_t i = 0; i < r->nplan; i++) {
		if (r->done[i])
			continue;
		if (r->opt->stop_after_steps && executed == r->opt->stop_after_steps)
			return writer_wait(r, err)
				       ? err->code
				       : set_status(r, RUN_INTERRUPTED, "stopped on request", err);
		const struct plan_step *ps = &r->plan[i];
		if (r->opt->cancel && *r->opt->cancel)
			return ml_errorf(err, ML_ESTATE,
					 "run %" PRId64
					 ": cancelled by the operator before step %d",
					 r->run_id, ps->index + 1);
		emit(r, RUNNER_EV_STEP, ps->index + 1, ps->label, 0, NULL);
		if ((rc = step_with_retry(r, ps, err)))
			return rc;
		r->done[i] = 1;
		executed++;
		emit(r, RUNNER_EV_STEP_DONE, ps->index + 1, ps->label, r->nslots, NULL);
	}
	if (r->bench) {
		struct ml_error ignore = ML_ERROR_INIT;
		(void)!bench_source_off(
			r->bench, &ignore); /* leave the bench safe; failures here change nothing */
	}
	rc = writer_wait(r, err);
	if (!rc)
		rc = conclude(r, out, err);
	if (!rc && r->opt->on_event) {
		struct runner_event ev = { .kind = RUNNER_EV_FINISHED,
					   .run_id = r->run_id,
					   .bench = r->br.code,
					   .steps_total = (int)r->nplan,
					   .positions_total = r->nslots,
					   .failures = r->failures,
					   .passed = out->passed,
					   .failed = out->failed,
					   .label = "",
					   .message = "" };
		r->opt->on_event(r->opt->event_arg, &ev);
	}
	return rc;
}

static void run_release(struct run *r)
{
	/* Unlock before closing: the server drops a closed session's locks only
	 * when its backend has exited, so an abort right after could find the run
	 * still "being executed". Best effort: closing releases it anyway. */
	if (r->locked) {
		char key[16] = "0";
		struct ml_error ignore = ML_ERROR_INIT;
		(void)!lock_key(r->run_id, key, sizeof key,
				&ignore); /* it was taken with this key */
		const char *p[1] = { key };
		db_rollback(r->db);
		(void)!db_exec(r->db, "SELECT pg_advisory_unlock(" RUN_LOCK_CLASS ", $1::int)", 1,
			       p, PGRES_TUPLES_OK, NULL, &ignore);
	}
	bench_close(r->bench);
	scheme_free(r->sch);
	free(r->plan);
	db_close(r->db);
	free(r);
}

int runner_execute(const char *conninfo, int64_t run_id, const struct runner_options *opt,
		   struct runner_outcome *out, struct ml_error *err)
{
	struct runner_options defaults;
	runner_options_default(&defaults);
	struct runner_outcome tmp;
	out = out ? out : &tmp;
	memset(out, 0, sizeof(*out));
	out->run_id = run_id;
	struct run *r = calloc(1, sizeof(*r));
	if (!r)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	r->run_id = run_id;
	r->opt = opt ? opt : &defaults;
	struct ml_error e = ML_ERROR_INIT;
	int rc = db_connect(conninfo, &r->db, &e);
	/*
	 * The run's connection lives as long as the run and records every step
	 * with the same statement (result_commit_step), hundreds of times a run:
	 * prepared once, each step skips parsing and planning its call (issue 10).
	 */
	if (!rc && db_set_statement_cache(r->db, 1))
		rc = ml_errorf(&e, ML_ENOMEM, "out of memory for the statement cache");
	if (!rc && r->opt->on_connect)
		rc = r->opt->on_connect(r->opt->connect_arg, r->db, &e);
	if (!rc)
		rc = lock_run(r, &e);
	if (!rc)
		rc = load_run(r, &e);
	int loaded = !rc;
	if (!rc)
		rc = drive(r, out, &e);
	if (rc && r->bench) {
		/* Leave a stopped bench behind: positions stopped, source off (best effort, errors change nothing). */
		struct ml_error ignore = ML_ERROR_INIT;
		(void)!bench_all_command(r->bench, BENCH_CMD_STOP, &ignore);
		(void)!bench_source_off(r->bench, &ignore);
	}
	if (r->writer) {
		struct ml_error ignore = ML_ERROR_INIT;
		(void)!writer_wait(
			r,
			&ignore); /* the run already failed; queued commits may or may not land */
	}
	if (rc && loaded && !run_status_terminal(r->status)) {
		struct ml_error ignore = ML_ERROR_INIT;
		db_rollback(r->db);
		(void)!set_status(r, RUN_INTERRUPTED, e.msg, &ignore);
		emit(r, RUNNER_EV_ERROR, 0, NULL, 0, e.msg);
	}
	out->code = rc;
	snprintf(out->msg, sizeof(out->msg), "%s", e.msg);
	snprintf(out->status, sizeof(out->status), "%s", loaded ? run_status_name(r->status) : "");
	run_release(r);
	if (rc && err)
		*err = e;
	return rc;
}

/* ---- many benches ---- */

struct worker {
	pthread_t th;
	const char *conninfo;
	int64_t run_id;
	const struct runner_options *opt;
	struct runner_outcome *out;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ml_error e = ML_ERROR_INIT;
	(void)!runner_execute(w->conninfo, w->run_id, w->opt, w->out, &e);
	return NULL;
}

int runner_execute_many(const char *conninfo, const int64_t *run_ids, size_t n,
			const struct runner_options *opt, struct runner_outcome *out,
			struct ml_error *err)
{
	struct worker *w = calloc(n ? n : 1, sizeof(*w));
	if (!w)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	size_t started = 0;
	int rc = ML_OK;
	for (size_t i = 0; i < n; i++) {
		w[i] = (struct worker){
			.conninfo = conninfo, .run_id = run_ids[i], .opt = opt, .out = &out[i]
		};
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i])) {
			rc = ml_errorf(err, ML_EINTERNAL, "cannot start a thread for run %" PRId64,
				       run_ids[i]);
			break;
		}
		started++;
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(w[i].th, NULL);
	for (size_t i = 0; i < started && !rc; i++) {
		if (out[i].code)
			rc = ml_errorf(err, out[i].code, "run %" PRId64 ": %s", out[i].run_id,
				       out[i].msg);
	}
	free(w);
	return rc;
}

int runner_conclude(struct db *db, int64_t run_id, int *passed, int *failed, struct ml_error *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, run_id);
	const char *p[1] = { id };
	PGresult *res = NULL;
	int rc = db_query_one(db, "SELECT passed, failed FROM ml_run_conclude($1::bigint)", 1, p,
			      &res, err);
	if (!rc && passed)
		*passed = atoi(PQgetvalue(res, 0, 0));
	if (!rc && failed)
		*failed = atoi(PQgetvalue(res, 0, 1));
	PQclear(res);
	return rc;
}

/* ---- abort ---- */

int runner_abort(struct db *db, int64_t run_id, const char *reason, struct ml_error *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, run_id);
	const char *p[2] = { id, reason };
	return db_cmd(db, "SELECT ml_run_abort($1::bigint, $2)", 2, p, err);
}
