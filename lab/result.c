/* result.c — batched storage of readings, step results and conclusions (see result.h). */
#include "lab/result.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"

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

/* ---- PostgreSQL array literals, passed as ONE text parameter each ---- */

struct arr {
	struct ml_buf b;
	int n;
};

static int arr_sep(struct arr *a)
{
	return ml_buf_putc(&a->b, a->n++ ? ',' : '{');
}

static int arr_ll(struct arr *a, int64_t v, int isnull)
{
	int rc = arr_sep(a);
	return rc ? rc : isnull ? ml_buf_puts(&a->b, "NULL") : ml_buf_printf(&a->b, "%" PRId64, v);
}

/* Element quoted: backslash and double quote escaped per array-literal rules. */
static int arr_str(struct arr *a, const char *s)
{
	int rc = arr_sep(a) || ml_buf_putc(&a->b, '"');
	for (const char *p = s; *p && !rc; p++)
		rc = (*p == '"' || *p == '\\') ? ml_buf_putc(&a->b, '\\') || ml_buf_putc(&a->b, *p)
					       : ml_buf_putc(&a->b, *p);
	return rc || ml_buf_putc(&a->b, '"');
}

static const char *arr_done(struct arr *a)
{
	if (a->n == 0)
		(void)!ml_buf_putc(&a->b, '{');
	(void)!ml_buf_putc(&a->b, '}');
	return ml_buf_str(&a->b);
}

/* ---- step commit ---- */

static int copy_readings(struct db *db, int64_t run_id, int step_no,
			 const struct result_reading *rd, size_t n, struct ml_error *err)
{
	if (n == 0)
		return ML_OK;
	struct ml_buf b = ML_BUF_INIT;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct result_reading *r = &rd[i];
		rc = ml_buf_printf(&b, "%" PRId64 "\t%" PRId64 "\t%d\t%d\t%d\t%" PRId64 "\t",
				   r->asset_id, run_id, step_no, r->reading_no, r->position,
				   r->value_e4);
		rc = rc || (r->has_value2 ? ml_buf_printf(&b, "%" PRId64 "\t", r->value2_e4)
					  : ml_buf_puts(&b, "\\N\t"));
		rc = rc || (r->pulses >= 0 ? ml_buf_printf(&b, "%" PRId64 "\t", r->pulses)
					   : ml_buf_puts(&b, "\\N\t"));
		rc = rc || ml_buf_printf(&b, "%d\t", r->bench_result) || put_ts(&b, r->at_us) ||
		     ml_buf_putc(&b, '\n');
	}
	if (rc)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory formatting %zu readings", n);
	else
		rc = db_copy_in(
			db,
			"COPY run_reading (asset_id, run_id, step_no, reading_no, position, value_e4, value2_e4, "
			"pulses, bench_result, measured_at) FROM STDIN",
			b.data, b.len, err);
	ml_buf_free(&b);
	return rc;
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
	NCOLS
};

static int has_value(enum scheme_step_kind k)
{
	return k == STEP_BASIC || k == STEP_CLOCK || k == STEP_CT || k == STEP_VT;
}

static int row_arrays(struct arr *a, const struct result_row *row)
{
	const struct judge_step_result *r = &row->r;
	int v = has_value(r->kind) && r->value.n > 0,
	    x = (r->kind == STEP_CT || r->kind == STEP_VT) && r->value2.n > 0;
	int p = r->kind == STEP_CREEP || r->kind == STEP_START || r->kind == STEP_CONSTANT;
	int rc = arr_ll(&a[COL_ASSET], row->asset_id, 0) || arr_ll(&a[COL_POS], row->position, 0) ||
		 arr_ll(&a[COL_N], r->value.n, 0) || arr_ll(&a[COL_MEAN], r->value.mean_e4, !v) ||
		 arr_ll(&a[COL_ROUNDED], r->value.rounded_e4, !v) ||
		 arr_ll(&a[COL_MEAN2], r->value2.mean_e4, !x) ||
		 arr_ll(&a[COL_ROUNDED2], r->value2.rounded_e4, !x) ||
		 arr_ll(&a[COL_PULSES], r->pulses, !p) ||
		 arr_ll(&a[COL_LIMIT], r->value.limit_e4, !v) ||
		 arr_ll(&a[COL_ILIMIT], r->value.internal_limit_e4, !v) ||
		 arr_ll(&a[COL_INTERVAL], r->value.interval_e4, !v) ||
		 arr_ll(&a[COL_LIMIT2], r->value2.limit_e4, !x) ||
		 arr_ll(&a[COL_ILIMIT2], r->value2.internal_limit_e4, !x) ||
		 arr_ll(&a[COL_INTERVAL2], r->value2.interval_e4, !x) ||
		 arr_ll(&a[COL_GAMMA], r->gamma_e4, r->kind != STEP_CONSTANT);
	rc = rc || arr_str(&a[COL_VERDICT], judge_verdict_name(r->verdict)) ||
	     arr_str(&a[COL_IVERDICT], judge_verdict_name(r->internal_verdict)) ||
	     arr_str(&a[COL_VERDICT2], judge_verdict_name(x ? r->value2.verdict : JUDGE_NONE)) ||
	     arr_str(&a[COL_VERDICT1], judge_verdict_name(x ? r->value.verdict : JUDGE_NONE)) ||
	     arr_str(&a[COL_NOTE], row->note);
	return rc;
}

static const char *const insert_results_sql =
	"INSERT INTO run_step_result (run_id, step_no, kind, label, measured_at, asset_id, position, n_readings, "
	"mean_e4, rounded_e4, mean2_e4, rounded2_e4, pulses, limit_e4, internal_limit_e4, interval_e4, limit2_e4, "
	"internal_limit2_e4, interval2_e4, gamma_e4, verdict, internal_verdict, verdict2, verdict1, note) "
	"SELECT $1::bigint, $2::int, $3, $4, $5::timestamptz, * FROM unnest($6::bigint[], $7::int[], $8::int[], "
	"$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], "
	"$16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[], $20::bigint[], $21::text[], $22::text[], "
	"$23::text[], $24::text[], $25::text[])";

static int insert_results(struct db *db, const char *rid, const char *sno,
			  const struct plan_step *ps, const char *ts, const struct result_row *rows,
			  size_t n, struct ml_error *err)
{
	struct arr a[NCOLS];
	for (int c = 0; c < NCOLS; c++) {
		ml_buf_init(&a[c].b, ML_BUF_DEFAULT_MAX);
		a[c].n = 0;
	}
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = row_arrays(a, &rows[i]);
	const char *p[5 + NCOLS] = { rid, sno, scheme_step_kind_name(ps->kind), ps->label, ts };
	for (int c = 0; c < NCOLS; c++)
		p[5 + c] = arr_done(&a[c]);
	if (rc)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory formatting %zu results", n);
	else if (n)
		rc = db_cmd(db, insert_results_sql, 5 + NCOLS, p, err);
	for (int c = 0; c < NCOLS; c++)
		ml_buf_free(&a[c].b);
	return rc;
}

static int insert_step_mark(struct db *db, const char *rid, const char *sno,
			    const struct plan_step *ps, const char *started, struct ml_error *err)
{
	const char *p[5] = { rid, sno, scheme_step_kind_name(ps->kind), ps->label, started };
	int rc = db_cmd(db,
			"INSERT INTO run_step (run_id, step_no, kind, label, started_at) "
			"VALUES ($1::bigint, $2::int, $3, $4, $5::timestamptz)",
			5, p, err);
	if (rc == ML_EEXISTS)
		ml_errorf(err, ML_EEXISTS, "run %s: step %d (%s) was already completed", rid,
			  ps->index + 1, ps->label);
	return rc;
}

int result_commit_step(struct db *db, int64_t run_id, const struct plan_step *ps,
		       int64_t started_us, const struct result_reading *rd, size_t nrd,
		       const struct result_row *rows, size_t nrows, struct ml_error *err)
{
	char rid[24], sno[16];
	snprintf(rid, sizeof(rid), "%" PRId64, run_id);
	snprintf(sno, sizeof(sno), "%d", ps->index);
	struct ml_buf started = ML_BUF_INIT, now = ML_BUF_INIT;
	int rc = put_ts(&started, started_us) || put_ts(&now, result_now_us());
	if (rc)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	if (!rc)
		rc = db_begin(db, err);
	/* The mark first: a second completion of the step fails before any COPY. */
	if (!rc)
		rc = insert_step_mark(db, rid, sno, ps, ml_buf_str(&started), err);
	if (!rc)
		rc = copy_readings(db, run_id, ps->index, rd, nrd, err);
	if (!rc)
		rc = insert_results(db, rid, sno, ps, ml_buf_str(&now), rows, nrows, err);
	if (!rc)
		rc = db_commit(db, err);
	if (rc)
		db_rollback(db);
	ml_buf_free(&started);
	ml_buf_free(&now);
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

static int conclusion_arrays(const int64_t *ids, const struct judge_position *jp, size_t n,
			     struct arr *a)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		for (int it = 0; it <= JUDGE_ITEM_COUNT && !rc; it++) {
			int overall = it == JUDGE_ITEM_COUNT;
			enum judge_verdict v = overall ? jp[i].overall : jp[i].item[it];
			enum judge_verdict iv = overall ? jp[i].overall_internal
							: jp[i].item_internal[it];
			if (v == JUDGE_NONE)
				continue; /* item not tested */
			rc = arr_ll(&a[0], ids[i], 0) ||
			     arr_str(&a[1],
				     overall ? "overall" : judge_item_name((enum judge_item)it)) ||
			     arr_str(&a[2], judge_verdict_name(v)) ||
			     arr_str(&a[3], judge_verdict_name(iv));
		}
	}
	return rc;
}

int result_insert_conclusions(struct db *db, int64_t run_id, const int64_t *asset_ids,
			      const struct judge_position *jp, size_t n, const char *valid_until,
			      struct ml_error *err)
{
	struct arr a[4];
	for (int c = 0; c < 4; c++) {
		ml_buf_init(&a[c].b, ML_BUF_DEFAULT_MAX);
		a[c].n = 0;
	}
	int rc = conclusion_arrays(asset_ids, jp, n, a);
	char rid[24];
	snprintf(rid, sizeof(rid), "%" PRId64, run_id);
	const char *p[6] = {
		rid, valid_until, arr_done(&a[0]), arr_done(&a[1]), arr_done(&a[2]), arr_done(&a[3])
	};
	if (rc)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	else
		rc = db_cmd(
			db,
			"INSERT INTO run_conclusion (run_id, asset_id, item, verdict, internal_verdict, valid_until) "
			"SELECT $1::bigint, a, i, v, iv, CASE WHEN i = 'overall' AND v = 'pass' THEN $2::date END "
			"FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[]) AS t(a, i, v, iv)",
			6, p, err);
	for (int c = 0; c < 4; c++)
		ml_buf_free(&a[c].b);
	return rc;
}
