/* result.c — batched storage of readings, step results and conclusions (see result.h). */
#include "lab/result.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "sql/pgbin.h"

int64_t result_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "2026-11-26 10:59:00.123456+00": a timestamptz literal, always UTC. */
static int put_ts(struct ml_buf *b, int64_t us)
{
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	return ml_buf_printf(b, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			     (int)(us % 1000000));
}

/* ---- step commit ---- */

enum {
	RD_ASSET,
	RD_NO,
	RD_POS,
	RD_VALUE,
	RD_VALUE2,
	RD_PULSES,
	RD_RESULT,
	RD_AT,
	RD_N
};

/* The array of each parameter, in parameter order: element types as record_sql casts them. */
static const enum pgbin_type rd_type[RD_N] = {
	PGBIN_INT8, PGBIN_INT4, PGBIN_INT4, PGBIN_INT8,
	PGBIN_INT8, PGBIN_INT8, PGBIN_INT4, PGBIN_TIMESTAMPTZ
};

static void reading_arrays(struct pgbin_arr *a, const struct result_reading *r)
{
	pgbin_arr_int(&a[RD_ASSET], r->asset_id, 0);
	pgbin_arr_int(&a[RD_NO], r->reading_no, 0);
	pgbin_arr_int(&a[RD_POS], r->position, 0);
	pgbin_arr_int(&a[RD_VALUE], r->value_e4, 0);
	pgbin_arr_int(&a[RD_VALUE2], r->value2_e4, !r->has_value2);
	pgbin_arr_int(&a[RD_PULSES], r->pulses, r->pulses < 0);
	pgbin_arr_int(&a[RD_RESULT], r->bench_result, 0);
	pgbin_arr_ts(&a[RD_AT], r->at_us, 0);
}

enum {
	COL_ASSET,
	COL_POS,
	COL_N,
	COL_MEAN,
	COL_ROUNDED,
	COL_MEAN2,
	COL_ROUNDED2,
	COL_PULSES,
	COL_LIMIT,
	COL_ILIMIT,
	COL_INTERVAL,
	COL_LIMIT2,
	COL_ILIMIT2,
	COL_INTERVAL2,
	COL_GAMMA,
	COL_VERDICT,
	COL_IVERDICT,
	COL_VERDICT2,
	COL_VERDICT1,
	COL_NOTE,
	COL_ELAPSED,
	NCOLS
};

static int has_value(enum scheme_step_kind k)
{
	return k == STEP_BASIC || k == STEP_CLOCK || k == STEP_CT || k == STEP_VT;
}

static const enum pgbin_type col_type[NCOLS] = {
	PGBIN_INT8, PGBIN_INT4, PGBIN_INT4, PGBIN_INT8, PGBIN_INT8, PGBIN_INT8, PGBIN_INT8,
	PGBIN_INT8, PGBIN_INT8, PGBIN_INT8, PGBIN_INT8, PGBIN_INT8, PGBIN_INT8, PGBIN_INT8,
	PGBIN_INT8, PGBIN_TEXT, PGBIN_TEXT, PGBIN_TEXT, PGBIN_TEXT, PGBIN_TEXT, PGBIN_INT8
};

static void row_arrays(struct pgbin_arr *a, const struct result_row *row)
{
	const struct judge_step_result *r = &row->r;
	int v = has_value(r->kind) && r->value.n > 0,
	    x = (r->kind == STEP_CT || r->kind == STEP_VT) && r->value2.n > 0;
	int p = r->kind == STEP_CREEP || r->kind == STEP_START || r->kind == STEP_CONSTANT;
	pgbin_arr_int(&a[COL_ASSET], row->asset_id, 0);
	pgbin_arr_int(&a[COL_POS], row->position, 0);
	pgbin_arr_int(&a[COL_N], r->value.n, 0);
	pgbin_arr_int(&a[COL_MEAN], r->value.mean_e4, !v);
	pgbin_arr_int(&a[COL_ROUNDED], r->value.rounded_e4, !v);
	pgbin_arr_int(&a[COL_MEAN2], r->value2.mean_e4, !x);
	pgbin_arr_int(&a[COL_ROUNDED2], r->value2.rounded_e4, !x);
	pgbin_arr_int(&a[COL_PULSES], r->pulses, !p);
	pgbin_arr_int(&a[COL_LIMIT], r->value.limit_e4, !v);
	pgbin_arr_int(&a[COL_ILIMIT], r->value.internal_limit_e4, !v);
	pgbin_arr_int(&a[COL_INTERVAL], r->value.interval_e4, !v);
	pgbin_arr_int(&a[COL_LIMIT2], r->value2.limit_e4, !x);
	pgbin_arr_int(&a[COL_ILIMIT2], r->value2.internal_limit_e4, !x);
	pgbin_arr_int(&a[COL_INTERVAL2], r->value2.interval_e4, !x);
	pgbin_arr_int(&a[COL_GAMMA], r->gamma_e4, r->kind != STEP_CONSTANT);
	pgbin_arr_text(&a[COL_VERDICT], judge_verdict_name(r->verdict));
	pgbin_arr_text(&a[COL_IVERDICT], judge_verdict_name(r->internal_verdict));
	pgbin_arr_text(&a[COL_VERDICT2], judge_verdict_name(x ? r->value2.verdict : JUDGE_NONE));
	pgbin_arr_text(&a[COL_VERDICT1], judge_verdict_name(x ? r->value.verdict : JUDGE_NONE));
	pgbin_arr_text(&a[COL_NOTE], row->note);
	pgbin_arr_int(&a[COL_ELAPSED], r->elapsed_ms,
		      r->kind != STEP_CREEP && r->kind != STEP_START);
}

/*
 * One call of ml_run_record_step (0113) stores the step: its completion
 * mark, every reading and the result of every position, in one statement's
 * transaction. The database refuses what the rules do not support (a pass
 * without the scheme's reading count, a mean that does not follow from the
 * readings, a limit wider than the regulation, creep cut short …) and a
 * second completion of the same step (ML_EEXISTS). Arrays travel as one
 * binary parameter each (sql/pgbin.h: the server reads them without parsing
 * text), the five scalars as text; each array's element type is its cast's.
 */
static const char *const record_sql =
	"SELECT ml_run_record_step($1::bigint, $2::int, $3, $4, $5::timestamptz, $6::bigint[], $7::int[], "
	"$8::int[], $9::bigint[], $10::bigint[], $11::bigint[], $12::int[], $13::timestamptz[], $14::bigint[], "
	"$15::int[], $16::int[], $17::bigint[], $18::bigint[], $19::bigint[], $20::bigint[], $21::bigint[], "
	"$22::bigint[], $23::bigint[], $24::bigint[], $25::bigint[], $26::bigint[], $27::bigint[], $28::bigint[], "
	"$29::text[], $30::text[], $31::text[], $32::text[], $33::text[], $34::bigint[])";

enum {
	NP = 5 + RD_N + NCOLS
};

/* One step's parameters for record_sql: binary arrays, the scalars as text. */
struct step_params {
	char rid[24], sno[16];
	struct ml_buf started;
	struct pgbin_arr a[RD_N + NCOLS];
	const char *p[NP];
	int len[NP], fmt[NP];
};

static void step_params_free(struct step_params *sp)
{
	for (int c = 0; c < RD_N + NCOLS; c++)
		pgbin_arr_free(&sp->a[c]);
	ml_buf_free(&sp->started);
}

/* Fills *sp (freed by step_params_free, also after a failure). */
static int step_params_build(struct step_params *sp, int64_t run_id, const struct result_step *s,
			     struct ml_error *err)
{
	memset(sp, 0, sizeof(*sp));
	sp->started = (struct ml_buf)ML_BUF_INIT;
	snprintf(sp->rid, sizeof(sp->rid), "%" PRId64, run_id);
	snprintf(sp->sno, sizeof(sp->sno), "%d", s->ps->index);
	struct pgbin_arr *a = sp->a;
	for (int c = 0; c < RD_N; c++)
		pgbin_arr_init(&a[c], rd_type[c]);
	for (int c = 0; c < NCOLS; c++)
		pgbin_arr_init(&a[RD_N + c], col_type[c]);
	for (size_t i = 0; i < s->nrd; i++)
		reading_arrays(a, &s->rd[i]);
	for (size_t i = 0; i < s->nrows; i++)
		row_arrays(a + RD_N, &s->rows[i]);
	int rc = put_ts(&sp->started, s->started_us);
	sp->p[0] = sp->rid;
	sp->p[1] = sp->sno;
	sp->p[2] = scheme_step_kind_name(s->ps->kind);
	sp->p[3] = s->ps->label;
	sp->p[4] = ml_buf_str(&sp->started);
	/* ml_run_record_step's parameter names, for a message that names the array */
	static const char *const arr_name[RD_N + NCOLS] = {
		"r_asset",    "r_reading_no",   "r_position", "r_value",    "r_value2",
		"r_pulses",   "r_bench_result", "r_at",       "s_asset",    "s_position",
		"s_n",        "s_mean",         "s_rounded",  "s_mean2",    "s_rounded2",
		"s_pulses",   "s_limit",        "s_ilimit",   "s_interval", "s_limit2",
		"s_ilimit2",  "s_interval2",    "s_gamma",    "s_verdict",  "s_iverdict",
		"s_verdict2", "s_verdict1",     "s_note",     "s_elapsed"
	};
	int bad = -1;
	for (int c = 0; c < RD_N + NCOLS; c++) {
		sp->p[5 + c] = pgbin_arr_finish(&a[c], &sp->len[5 + c]);
		sp->fmt[5 + c] = 1;
		if (!sp->p[5 + c] && !rc) {
			rc = a[c].rc;
			bad = c;
		}
	}
	if (rc == ML_ENOMEM)
		return ml_errorf(err, ML_ENOMEM, "out of memory formatting %zu readings", s->nrd);
	if (rc)
		return ml_errorf(err, ML_EINVAL,
				 "run %" PRId64 " step %d: value %" PRId64
				 " in %s (element %d) does not "
				 "fit its column's type",
				 run_id, s->ps->index + 1, bad >= 0 ? a[bad].bad : 0,
				 bad >= 0 ? arr_name[bad] : "?", bad >= 0 ? a[bad].n + 1 : 0);
	return ML_OK;
}

int result_commit_step(struct db *db, int64_t run_id, const struct plan_step *ps,
		       int64_t started_us, const struct result_reading *rd, size_t nrd,
		       const struct result_row *rows, size_t nrows, struct ml_error *err)
{
	const struct result_step s = { ps, started_us, rd, nrd, rows, nrows };
	return result_commit_steps(db, run_id, &s, 1, NULL, err);
}

/* At most RESULT_GROUP_MAX steps: alone as one statement, else BEGIN … COMMIT in one pipeline. */
static int commit_group(struct db *db, int64_t run_id, const struct result_step *steps, size_t n,
			size_t *committed, struct ml_error *err)
{
	struct step_params sp[RESULT_GROUP_MAX];
	struct db_stmt st[RESULT_GROUP_MAX + 2];
	size_t built = 0;
	int rc = ML_OK;
	for (; built < n && !rc; built++)
		rc = step_params_build(&sp[built], run_id, &steps[built], err);
	/* a step that cannot be sent fails alone: the steps before it are stored */
	size_t bad = rc ? built - 1 : n, failed = n;
	if (rc) {
		struct ml_error e = ML_ERROR_INIT;
		size_t c = 0;
		if (bad > 0 && commit_group(db, run_id, steps, bad, &c, &e)) {
			*err = e;
			rc = e.code;
		}
		*committed = c;
		goto out;
	}
	if (n == 1) {
		rc = db_exec_params(db, record_sql, NP, sp[0].p, sp[0].len, sp[0].fmt,
				    PGRES_COMMAND_OK, NULL, err);
		*committed = rc ? 0 : 1;
		goto out;
	}
	st[0] = (struct db_stmt){ .sql = "BEGIN", .expect = PGRES_COMMAND_OK };
	for (size_t i = 0; i < n; i++)
		st[1 + i] = (struct db_stmt){ .sql = record_sql,
					      .nparams = NP,
					      .params = sp[i].p,
					      .lengths = sp[i].len,
					      .formats = sp[i].fmt,
					      .expect = PGRES_COMMAND_OK };
	st[n + 1] = (struct db_stmt){ .sql = "COMMIT", .expect = PGRES_COMMAND_OK };
	rc = db_pipeline_at(db, st, n + 2, NULL, &failed, err);
	if (!rc) {
		*committed = n;
		goto out;
	}
	db_rollback(db);
	*committed = 0;
	/* step failed - 1 was refused: store those before it, report its error */
	if (failed >= 2 && failed <= n) {
		struct ml_error e = ML_ERROR_INIT;
		size_t c = 0;
		if (commit_group(db, run_id, steps, failed - 1, &c, &e)) {
			*err = e;
			rc = e.code;
		}
		*committed = c;
	}
out:
	for (size_t i = 0; i < built; i++)
		step_params_free(&sp[i]);
	return rc;
}

int result_commit_steps(struct db *db, int64_t run_id, const struct result_step *steps, size_t n,
			size_t *committed, struct ml_error *err)
{
	size_t done = 0;
	int rc = ML_OK;
	while (done < n && !rc) {
		size_t k = n - done < RESULT_GROUP_MAX ? n - done : RESULT_GROUP_MAX, c = 0;
		rc = commit_group(db, run_id, steps + done, k, &c, err);
		done += c;
	}
	if (committed)
		*committed = done;
	return rc;
}

int result_done_steps(struct db *db, int64_t run_id, unsigned char *done, size_t cap,
		      struct ml_error *err)
{
	memset(done, 0, cap);
	char rid[24];
	snprintf(rid, sizeof(rid), "%" PRId64, run_id);
	const char *p[1] = { rid };
	PGresult *res = NULL;
	int rc = db_exec(db, "SELECT step_no FROM run_step WHERE run_id = $1::bigint", 1, p,
			 PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	for (int r = 0; r < PQntuples(res); r++) {
		long s = strtol(PQgetvalue(res, r, 0), NULL, 10);
		if (s >= 0 && (size_t)s < cap)
			done[s] = 1;
	}
	PQclear(res);
	return ML_OK;
}

static enum judge_verdict verdict_of(const char *s)
{
	return !s                   ? JUDGE_NONE
	       : !strcmp(s, "pass") ? JUDGE_PASS
	       : !strcmp(s, "fail") ? JUDGE_FAIL
				    : JUDGE_NONE;
}

static enum scheme_step_kind kind_of(const char *s)
{
	for (int k = STEP_CREEP; k <= STEP_VT; k++) {
		const char *name = scheme_step_kind_name((enum scheme_step_kind)k);
		if (name && !strcmp(name, s))
			return (enum scheme_step_kind)k;
	}
	return STEP_BASIC;
}

/* A judge_step_result carrying what the stored row holds: enough for judge_position_add. */
static void row_to_result(const PGresult *res, int r, struct judge_step_result *out)
{
	memset(out, 0, sizeof(*out));
	out->index = atoi(db_get(res, r, "step_no"));
	out->kind = kind_of(db_get(res, r, "kind"));
	out->verdict = verdict_of(db_get(res, r, "verdict"));
	out->internal_verdict = verdict_of(db_get(res, r, "internal_verdict"));
	out->value.verdict = out->verdict;
	out->value.internal_verdict = out->internal_verdict;
	/*
	 * CT/VT: the ratio item is the ratio-only verdict (0032), not the step's
	 * combined one. Transformer steps have no internal coefficient (plan.c
	 * set_limits with 0), so their internal verdicts equal the regulation ones.
	 */
	enum judge_verdict v1 = verdict_of(db_get(res, r, "verdict1"));
	if ((out->kind == STEP_CT || out->kind == STEP_VT) && v1 != JUDGE_NONE)
		out->value.verdict = out->value.internal_verdict = v1;
	out->value2.verdict = verdict_of(db_get(res, r, "verdict2"));
	out->value2.internal_verdict = out->value2.verdict;
	out->value.n = atoi(db_get(res, r, "n_readings"));
	out->value2.n = out->value2.verdict == JUDGE_NONE ? 0 : out->value.n;
}

int result_run_span(struct db *db, int64_t run_id, char from[40], char to[40], struct ml_error *err)
{
	char rid[24];
	snprintf(rid, sizeof(rid), "%" PRId64, run_id);
	const char *p[1] = { rid };
	PGresult *res = NULL;
	/* A day of slack: measured_at comes from the runner host's clock, created_at from the server's. */
	int rc = db_query_one(
		db,
		"SELECT (created_at - interval '1 day')::text, "
		"(coalesce(finished_at, now()) + interval '1 day')::text FROM verification_run "
		"WHERE run_id = $1::bigint",
		1, p, &res, err);
	if (rc == ML_ENOTFOUND)
		return ml_errorf(err, ML_ENOTFOUND, "no run %s", rid);
	if (!rc) {
		snprintf(from, 40, "%s", PQgetvalue(res, 0, 0));
		snprintf(to, 40, "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return rc;
}

int result_fold_positions(struct db *db, int64_t run_id, const int64_t *asset_ids, size_t n,
			  struct judge_position *jp, int *failures, int *untested,
			  struct ml_error *err)
{
	for (size_t i = 0; i < n; i++) {
		judge_position_init(&jp[i]);
		if (untested)
			untested[i] = 0;
	}
	if (failures)
		*failures = 0;
	char rid[24], from[40], to[40];
	snprintf(rid, sizeof(rid), "%" PRId64, run_id);
	int rc = result_run_span(db, run_id, from, to, err);
	if (rc)
		return rc;
	const char *p[3] = { rid, from, to };
	PGresult *res = NULL;
	rc = db_exec(
		db,
		"SELECT asset_id, step_no, kind, verdict, internal_verdict, verdict2, verdict1, n_readings "
		"FROM run_step_result WHERE run_id = $1::bigint AND measured_at >= $2::timestamptz "
		"AND measured_at < $3::timestamptz ORDER BY step_no, position",
		3, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	for (int r = 0; r < PQntuples(res); r++) {
		int64_t a = strtoll(db_get(res, r, "asset_id"), NULL, 10);
		struct judge_step_result sr;
		row_to_result(res, r, &sr);
		for (size_t i = 0; i < n; i++) {
			if (asset_ids[i] != a)
				continue;
			if (sr.verdict == JUDGE_NONE && untested)
				untested[i] = 1;
			else
				judge_position_add(&jp[i], &sr);
		}
		if (failures && sr.verdict == JUDGE_FAIL)
			(*failures)++;
	}
	PQclear(res);
	return ML_OK;
}
