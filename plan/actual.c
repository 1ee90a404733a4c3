/*
 * actual.c — the plan's calendar and plan against actual: thin calls of
 * 0307's functions, and saving a computed plan's runs.
 */
#include "plan/actual.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "plan/planning.h"

/* "yes" → "true", "no" → "false", "default" → NULL (when allowed); else ML_EINVAL. */
static int working_param(const char *w, int allow_default, const char **out, struct ml_error *err)
{
	if (w && !strcmp(w, "yes"))
		*out = "true";
	else if (w && !strcmp(w, "no"))
		*out = "false";
	else if (w && allow_default && !strcmp(w, "default"))
		*out = NULL;
	else
		return ml_errorf(err, ML_EINVAL, "working '%s' is not yes, no%s", w ? w : "(none)",
				 allow_default ? " or default" : "");
	return ML_OK;
}

int plan_calendar_set(struct db *db, const char *day, const char *working, const char *note,
		      struct ml_error *err)
{
	const char *w = NULL;
	int rc = working_param(working, 1, &w, err);
	if (rc)
		return rc;
	const char *p[3] = { day, w, note };
	return db_cmd(db, "SELECT ml_plan_calendar_set($1::date, $2::boolean, $3)", 3, p, err);
}

int plan_weekday_set(struct db *db, int isodow, const char *working, struct ml_error *err)
{
	const char *w = NULL;
	int rc = working_param(working, 0, &w, err);
	if (rc)
		return rc;
	char d[16];
	snprintf(d, sizeof d, "%d", isodow);
	const char *p[2] = { d, w };
	return db_cmd(db, "SELECT ml_plan_weekday_set($1::int, $2::boolean)", 2, p, err);
}

int plan_calendar_show(struct db *db, const char *from, const char *to, PGresult **out,
		       struct ml_error *err)
{
	const char *p[2] = { from, to };
	return db_exec(
		db, "SELECT day, weekday, working, why FROM ml_plan_calendar($1::date, $2::date)",
		2, p, PGRES_TUPLES_OK, out, err);
}

/* Append one array element: quoted text, or a bare number. */
static void put_elem(struct ml_buf *b, size_t i, const char *s, int quote)
{
	ml_buf_puts(b, i ? "," : "{");
	if (!quote) {
		ml_buf_puts(b, s);
		return;
	}
	ml_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			ml_buf_putc(b, '\\');
		ml_buf_putc(b, *s);
	}
	ml_buf_putc(b, '"');
}

int plan_save(struct db *db, const char *from, const char *to, int64_t *id, struct ml_error *err)
{
	struct plan_view v;
	struct ml_buf a[6] = { ML_BUF_INIT, ML_BUF_INIT, ML_BUF_INIT,
			       ML_BUF_INIT, ML_BUF_INIT, ML_BUF_INIT };
	PGresult *res = NULL;
	int rc = plan_build(db, from, to, &v, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < v.out.nruns; i++) {
		const struct sched_run *r = &v.out.runs[i];
		char day[11], n[24], dm[24];
		snprintf(day, sizeof day, "%s", PQgetvalue(v.workdays, r->day, 0));
		snprintf(n, sizeof n, "%" PRId64, r->assets);
		snprintf(dm, sizeof dm, "%" PRId64, r->demand_id);
		put_elem(&a[0], i, day, 0);
		put_elem(&a[1], i, v.bench[r->bench].code, 1);
		put_elem(&a[2], i, v.lot[r->lot].code, 1);
		put_elem(&a[3], i, v.model[r->model].code, 1);
		put_elem(&a[4], i, n, 0);
		put_elem(&a[5], i, dm, 0);
	}
	int failed = 0;
	for (size_t k = 0; k < 6; k++) {
		if (v.out.nruns == 0)
			ml_buf_putc(&a[k], '{');
		ml_buf_putc(&a[k], '}');
		if (ml_buf_failed(&a[k]))
			failed = 1;
	}
	if (failed) {
		rc = ml_errorf(err, ML_ENOMEM, "out of memory saving %zu runs", v.out.nruns);
		goto out;
	}
	const char *p[8] = { v.from,    v.to,      a[0].data, a[1].data,
			     a[2].data, a[3].data, a[4].data, a[5].data };
	rc = db_query_one(
		db,
		"SELECT ml_plan_save($1::date, $2::date, $3::date[], $4::text[], $5::text[], "
		"$6::text[], $7::int[], $8::bigint[])",
		8, p, &res, err);
	if (!rc && id)
		*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
out:
	PQclear(res);
	for (size_t k = 0; k < 6; k++)
		ml_buf_free(&a[k]);
	plan_view_free(&v);
	return rc;
}

int plan_actual(struct db *db, int64_t id, PGresult **out, struct ml_error *err)
{
	char s[24];
	snprintf(s, sizeof s, "%" PRId64, id);
	const char *p[1] = { s };
	return db_exec(
		db,
		"SELECT day, bench, planned_runs, planned_assets, actual_runs, actual_assets, "
		"actual_passed FROM ml_plan_actual($1::bigint)",
		1, p, PGRES_TUPLES_OK, out, err);
}

int plan_lot_release(struct db *db, int64_t id, PGresult **out, struct ml_error *err)
{
	char s[24];
	snprintf(s, sizeof s, "%" PRId64, id);
	const char *p[1] = { s };
	return db_exec(
		db,
		"SELECT lot, planned_on, released_on, status FROM ml_plan_lot_release($1::bigint)",
		1, p, PGRES_TUPLES_OK, out, err);
}
