/*
 * report.c — load the quality report's tables from the aggregates of
 * migration 0270 in one read-only snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "quality/quality.h"
#include "quality/quality_priv.h"
#include "sql/db.h"

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src) ? (src) : "")

static int64_t i64(const PGresult *r, int row, const char *col)
{
	const char *v = db_get(r, row, col);
	return v ? strtoll(v, NULL, 10) : 0;
}

static int check_filter(struct db *db, const struct quality_filter *f, struct ml_error *err)
{
	if (!quality_date_ok(f->from))
		return ml_errorf(err, ML_EINVAL, "--from '%s' is not a date YYYY-MM-DD",
				 f->from ? f->from : "");
	if (!quality_date_ok(f->to))
		return ml_errorf(err, ML_EINVAL, "--to '%s' is not a date YYYY-MM-DD",
				 f->to ? f->to : "");
	if (strcmp(f->from, f->to) > 0)
		return ml_errorf(err, ML_EINVAL, "--from %s is after --to %s", f->from, f->to);
	if (f->maker) {
		PGresult *r = NULL;
		const char *p[1] = { f->maker };
		int rc = db_exec(db, "SELECT 1 FROM manufacturer WHERE code = $1", 1, p,
				 PGRES_TUPLES_OK, &r, err);
		int found = !rc && PQntuples(r) == 1;
		PQclear(r);
		if (rc)
			return rc;
		if (!found)
			return ml_errorf(err, ML_ENOTFOUND, "no manufacturer '%s'", f->maker);
	}
	if (f->model) {
		PGresult *r = NULL;
		const char *p[1] = { f->model };
		int rc = db_exec(db, "SELECT 1 FROM device_model WHERE code = $1", 1, p,
				 PGRES_TUPLES_OK, &r, err);
		int found = !rc && PQntuples(r) == 1;
		PQclear(r);
		if (rc)
			return rc;
		if (!found)
			return ml_errorf(err, ML_ENOTFOUND, "no device model '%s'", f->model);
	}
	return ML_OK;
}

/* Run one aggregate; *res on success. */
static int fetch(struct db *db, const char *sql, const struct quality_filter *f, PGresult **res,
		 struct ml_error *err)
{
	const char *p[4] = { f->from, f->to, f->maker, f->model };
	return db_exec(db, sql, 4, p, PGRES_TUPLES_OK, res, err);
}

static void *alloc_rows(int n, size_t size)
{
	return calloc(n > 0 ? (size_t)n : 1, size);
}

static int load_verdicts(struct db *db, const struct quality_filter *f, struct quality_report *q,
			 struct ml_error *err)
{
	PGresult *r = NULL;
	int rc = fetch(db, "SELECT * FROM ml_quality_verdicts($1::date, $2::date, $3, $4)", f, &r,
		       err);
	if (rc)
		return rc;
	int n = PQntuples(r);
	q->verdicts = alloc_rows(n, sizeof *q->verdicts);
	if (!q->verdicts) {
		PQclear(r);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		struct quality_verdict_row *v = &q->verdicts[i];
		COPY(v->dim, db_get(r, i, "dim"));
		COPY(v->key, db_get(r, i, "key"));
		COPY(v->name, db_get(r, i, "name"));
		COPY(v->maker, db_get(r, i, "maker"));
		v->n = i64(r, i, "n");
		v->pass = i64(r, i, "pass");
		v->fail = i64(r, i, "fail");
		v->internal_fail = i64(r, i, "internal_fail");
	}
	q->n_verdicts = (size_t)n;
	PQclear(r);
	return ML_OK;
}

static int load_items(struct db *db, const struct quality_filter *f, struct quality_report *q,
		      struct ml_error *err)
{
	PGresult *r = NULL;
	int rc = fetch(db, "SELECT * FROM ml_quality_items($1::date, $2::date, $3, $4)", f, &r,
		       err);
	if (rc)
		return rc;
	int n = PQntuples(r);
	q->items = alloc_rows(n, sizeof *q->items);
	if (!q->items) {
		PQclear(r);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		struct quality_item_row *v = &q->items[i];
		COPY(v->dim, db_get(r, i, "dim"));
		COPY(v->key, db_get(r, i, "key"));
		COPY(v->item, db_get(r, i, "item"));
		v->n = i64(r, i, "n");
		v->fail = i64(r, i, "fail");
	}
	q->n_items = (size_t)n;
	PQclear(r);
	return ML_OK;
}

/* "{-1,0,15}" -> ints; returns how many, -1 on a malformed array. */
static int int_array(const char *s, int64_t *out, int cap)
{
	if (!s || *s != '{')
		return -1;
	int n = 0;
	for (s++; *s && *s != '}';) {
		char *end;
		long long v = strtoll(s, &end, 10);
		if (end == s || n >= cap)
			return -1;
		out[n++] = v;
		s = *end == ',' ? end + 1 : end;
	}
	return *s == '}' ? n : -1;
}

/* The sparse histogram (bins[], counts[]) of row i into v->hist. */
static int hist_of(const PGresult *r, int i, struct quality_point_row *v, struct ml_error *err)
{
	int64_t bins[QUALITY_HIST_BINS], counts[QUALITY_HIST_BINS];
	int nb = int_array(db_get(r, i, "bins"), bins, QUALITY_HIST_BINS);
	int nc = int_array(db_get(r, i, "counts"), counts, QUALITY_HIST_BINS);
	if (nb < 0 || nb != nc)
		return ml_errorf(err, ML_EINTERNAL, "histogram of %s is malformed", v->label);
	for (int k = 0; k < nb; k++) {
		int64_t b = bins[k] - QUALITY_HIST_LOW;
		if (b < 0 || b >= QUALITY_HIST_BINS)
			return ml_errorf(err, ML_EINTERNAL, "histogram bin %lld out of range",
					 (long long)bins[k]);
		v->hist[b] = counts[k];
	}
	return ML_OK;
}

static int load_points(struct db *db, const struct quality_filter *f, struct quality_report *q,
		       struct ml_error *err)
{
	PGresult *r = NULL;
	int rc = fetch(db, "SELECT * FROM ml_quality_points($1::date, $2::date, $3, $4)", f, &r,
		       err);
	if (rc)
		return rc;
	int n = PQntuples(r);
	q->points = alloc_rows(n, sizeof *q->points);
	if (!q->points) {
		PQclear(r);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (int i = 0; i < n && !rc; i++) {
		struct quality_point_row *v = &q->points[i];
		COPY(v->dim, db_get(r, i, "dim"));
		COPY(v->key, db_get(r, i, "key"));
		COPY(v->kind, db_get(r, i, "kind"));
		COPY(v->label, db_get(r, i, "label"));
		v->limit_e4 = i64(r, i, "limit_e4");
		v->internal_limit_e4 = i64(r, i, "internal_limit_e4");
		v->n = i64(r, i, "n");
		v->fail = i64(r, i, "fail");
		v->internal_fail = i64(r, i, "internal_fail");
		v->min_e4 = i64(r, i, "min_e4");
		v->max_e4 = i64(r, i, "max_e4");
		rc = quality_moments(v->n, db_get(r, i, "sum_e4"), db_get(r, i, "sumsq_e8"),
				     &v->mean_e6, &v->sd_e6, err);
		if (rc)
			break;
		rc = hist_of(r, i, v, err);
	}
	q->n_points = (size_t)n;
	PQclear(r);
	return rc;
}

static int load_point_fails(struct db *db, const struct quality_filter *f, struct quality_report *q,
			    struct ml_error *err)
{
	PGresult *r = NULL;
	int rc = fetch(db, "SELECT * FROM ml_quality_point_failures($1::date, $2::date, $3, $4)", f,
		       &r, err);
	if (rc)
		return rc;
	int n = PQntuples(r);
	q->point_fails = alloc_rows(n, sizeof *q->point_fails);
	if (!q->point_fails) {
		PQclear(r);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		struct quality_point_fail_row *v = &q->point_fails[i];
		COPY(v->maker, db_get(r, i, "maker"));
		COPY(v->kind, db_get(r, i, "kind"));
		COPY(v->label, db_get(r, i, "label"));
		v->n = i64(r, i, "n");
		v->fail = i64(r, i, "fail");
		v->internal_fail = i64(r, i, "internal_fail");
	}
	q->n_point_fails = (size_t)n;
	PQclear(r);
	return ML_OK;
}

static int load_field(struct db *db, const struct quality_filter *f, struct quality_report *q,
		      struct ml_error *err)
{
	PGresult *r = NULL;
	int rc = fetch(db, "SELECT * FROM ml_quality_field($1::date, $2::date, $3, $4)", f, &r,
		       err);
	if (rc)
		return rc;
	int n = PQntuples(r);
	q->field = alloc_rows(n, sizeof *q->field);
	if (!q->field) {
		PQclear(r);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		struct quality_field_row *v = &q->field[i];
		COPY(v->dim, db_get(r, i, "dim"));
		COPY(v->key, db_get(r, i, "key"));
		COPY(v->maker, db_get(r, i, "maker"));
		v->assets = i64(r, i, "assets");
		v->exposure_days = i64(r, i, "exposure_days");
		v->faults = i64(r, i, "faults");
	}
	q->n_field = (size_t)n;
	PQclear(r);
	return ML_OK;
}

/* Months: the field trend has every month of the period; verdicts add their counts. */
static int load_months(struct db *db, const struct quality_filter *f, struct quality_report *q,
		       struct ml_error *err)
{
	PGresult *r = NULL;
	int rc = fetch(db, "SELECT * FROM ml_quality_field_months($1::date, $2::date, $3, $4)", f,
		       &r, err);
	if (rc)
		return rc;
	int n = PQntuples(r);
	q->months = alloc_rows(n, sizeof *q->months);
	if (!q->months) {
		PQclear(r);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		struct quality_month_row *m = &q->months[i];
		COPY(m->month, db_get(r, i, "month"));
		m->exposure_days = i64(r, i, "exposure_days");
		m->faults = i64(r, i, "faults");
		for (size_t k = 0; k < q->n_verdicts; k++) {
			const struct quality_verdict_row *v = &q->verdicts[k];
			if (!strcmp(v->dim, "month") && !strcmp(v->key, m->month)) {
				m->n = v->n;
				m->fail = v->fail;
			}
		}
	}
	q->n_months = (size_t)n;
	PQclear(r);
	return ML_OK;
}

int quality_report_load(struct db *db, const struct quality_filter *f, struct quality_report *out,
			struct ml_error *err)
{
	struct quality_report q;
	PGresult *r = NULL;
	memset(&q, 0, sizeof q);
	int rc = db_cmd(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err);
	if (rc)
		return rc;
	if ((rc = check_filter(db, f, err)))
		goto out;
	COPY(q.from, f->from);
	COPY(q.to, f->to);
	COPY(q.maker, f->maker);
	COPY(q.model, f->model);
	/* China's clock whatever the session's zone (0365): the PDF's CreationDate
	 * takes this date as +08:00 (quality_render.c), as the certificates' dates. */
	rc = db_query_one(db,
			  "SELECT to_char(now() AT TIME ZONE 'Asia/Shanghai', "
			  "'YYYY-MM-DD HH24:MI:SS \"CST\"') AS at",
			  0, NULL, &r, err);
	if (rc)
		goto out;
	COPY(q.generated_at, db_get(r, 0, "at"));
	if ((rc = load_verdicts(db, f, &q, err)) || (rc = load_items(db, f, &q, err)) ||
	    (rc = load_points(db, f, &q, err)) || (rc = load_point_fails(db, f, &q, err)) ||
	    (rc = load_field(db, f, &q, err)) || (rc = load_months(db, f, &q, err)))
		goto out;
	*out = q;
	memset(&q, 0, sizeof q);
out:
	PQclear(r);
	db_rollback(db); /* read only: nothing to keep */
	quality_report_free(&q);
	return rc;
}

void quality_report_free(struct quality_report *r)
{
	if (!r)
		return;
	free(r->verdicts);
	free(r->items);
	free(r->points);
	free(r->point_fails);
	free(r->field);
	free(r->months);
	memset(r, 0, sizeof *r);
}

size_t quality_verdicts_of(const struct quality_report *r, const char *dim,
			   const struct quality_verdict_row **out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_verdicts; i++)
		if (!strcmp(r->verdicts[i].dim, dim)) {
			if (n < cap)
				out[n] = &r->verdicts[i];
			n++;
		}
	return n;
}

const struct quality_verdict_row *quality_verdict_total(const struct quality_report *r)
{
	for (size_t i = 0; i < r->n_verdicts; i++)
		if (!strcmp(r->verdicts[i].dim, "total"))
			return &r->verdicts[i];
	return NULL;
}

const struct quality_field_row *quality_field_total(const struct quality_report *r)
{
	for (size_t i = 0; i < r->n_field; i++)
		if (!strcmp(r->field[i].dim, "total"))
			return &r->field[i];
	return NULL;
}
