/*
 * rotation.c — rotation lists and inspection due dates: thin calls of the
 * functions of sql/migrations/0302_rotation.sql, which hold the rules.
 */
#include "plan/rotation.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

int rotation_list(struct db *db, const char *month, const char *team, PGresult **out,
		  struct ml_error *err)
{
	if (!month || strlen(month) != 7 || month[4] != '-')
		return ml_errorf(err, ML_EINVAL, "month '%s' is not YYYY-MM",
				 month ? month : "(none)");
	char first[11];
	memcpy(first, month, 7);
	memcpy(first + 7, "-01", 4);
	const char *p[2] = { first, team };
	return db_exec(
		db,
		"SELECT team, status, barcode, model, point, address, installed_on, valid_until "
		"FROM ml_rotation_list($1::date, $2)",
		2, p, PGRES_TUPLES_OK, out, err);
}

int inspection_due(struct db *db, const char *until, PGresult **out, struct ml_error *err)
{
	const char *p[1] = { until };
	return db_exec(db,
		       "SELECT point, class, team, last_inspected, installed_on, due_on, overdue "
		       "FROM ml_inspection_due(coalesce($1::date, ml_cert_today()))",
		       1, p, PGRES_TUPLES_OK, out, err);
}

int inspection_class_set(struct db *db, const char *const *points, size_t n, const char *cls,
			 long *count, struct ml_error *err)
{
	struct ml_buf a = ML_BUF_INIT;
	PGresult *res = NULL;
	ml_buf_putc(&a, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			ml_buf_putc(&a, ',');
		ml_buf_putc(&a, '"');
		for (const char *s = points[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				ml_buf_putc(&a, '\\');
			ml_buf_putc(&a, *s);
		}
		ml_buf_putc(&a, '"');
	}
	ml_buf_putc(&a, '}');
	int rc = ml_buf_failed(&a) ? ml_errorf(err, ML_ENOMEM, "out of memory for %zu points", n)
				   : ML_OK;
	if (!rc) {
		const char *p[2] = { a.data, cls };
		rc = db_query_one(db, "SELECT ml_point_inspection_class_set($1::text[], $2)", 2, p,
				  &res, err);
	}
	if (!rc && count)
		*count = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	ml_buf_free(&a);
	return rc;
}

/* "YYYY-MM" → "YYYY-MM-01" in first (11 bytes); ML_EINVAL otherwise. */
static int month_first(const char *month, char first[11], struct ml_error *err)
{
	if (!month || strlen(month) != 7 || month[4] != '-')
		return ml_errorf(err, ML_EINVAL, "month '%s' is not YYYY-MM",
				 month ? month : "(none)");
	memcpy(first, month, 7);
	memcpy(first + 7, "-01", 4);
	return ML_OK;
}

int rotation_orders_open(struct db *db, const char *month, const char *team, long *opened,
			 struct ml_error *err)
{
	char first[11];
	PGresult *res = NULL;
	int rc = month_first(month, first, err);
	if (rc)
		return rc;
	const char *p[2] = { first, team };
	rc = db_query_one(db, "SELECT ml_rotation_orders_open($1::date, $2)", 2, p, &res, err);
	if (!rc && opened)
		*opened = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

int swap_order_cancel(struct db *db, int64_t id, const char *reason, struct ml_error *err)
{
	char ids[24];
	snprintf(ids, sizeof ids, "%" PRId64, id);
	const char *p[2] = { ids, reason };
	return db_cmd(db, "SELECT ml_swap_order_cancel($1::bigint, $2)", 2, p, err);
}

int swap_order_list(struct db *db, const char *status, const char *team, const char *month,
		    struct swap_order_page *pg, PGresult **out, struct ml_error *err)
{
	char first[11], after[24], lim[16], last[24];
	*out = NULL;
	if (pg->limit < 0 || pg->limit > SWAP_ORDER_PAGE_MAX)
		return ml_errorf(err, ML_EINVAL, "limit %d is not 1..%d", pg->limit,
				 SWAP_ORDER_PAGE_MAX);
	if (pg->after < 0)
		return ml_errorf(err, ML_EINVAL, "after %" PRId64 " is not an order id", pg->after);
	int rc = month ? month_first(month, first, err) : ML_OK;
	if (rc)
		return rc;
	snprintf(after, sizeof after, "%" PRId64, pg->after);
	snprintf(lim, sizeof lim, "%d", pg->limit ? pg->limit : SWAP_ORDER_PAGE_MAX);
	const char *p[5] = { status, team, month ? first : NULL, pg->after ? after : NULL, lim };
	PGresult *res = NULL, *cnt = NULL;
	rc = db_exec(db,
		     "SELECT id, kind, status, overdue, team, point, barcode, due_on, month, "
		     "inspection, opened_at, closed_at, replaced_by, note "
		     "FROM ml_swap_orders($1, $2, $3::date, $4::bigint, $5::int)",
		     5, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	/* the counts over the whole filter, and whether any order follows this
	 * page's last one: "next" is then null exactly on the last page */
	int n = PQntuples(res);
	snprintf(last, sizeof last, "%s", n ? PQgetvalue(res, n - 1, 0) : "");
	const char *q[4] = { status, team, month ? first : NULL, n ? last : NULL };
	rc = db_query_one(db,
			  "SELECT total, overdue, more FROM ml_swap_orders_count($1, $2, $3::date, "
			  "$4::bigint)",
			  4, q, &cnt, err);
	if (rc) {
		PQclear(res);
		return rc;
	}
	pg->total = strtoll(db_get(cnt, 0, "total"), NULL, 10);
	pg->overdue = strtoll(db_get(cnt, 0, "overdue"), NULL, 10);
	pg->next = !strcmp(db_get(cnt, 0, "more"), "t") ? strtoll(last, NULL, 10) : 0;
	PQclear(cnt);
	*out = res;
	return ML_OK;
}

int inservice_sample_draw(struct db *db, const char *lot, const char *level, const char *aql,
			  const char *seed_hex, PGresult **out, struct ml_error *err)
{
	const char *p[4] = { lot, level ? level : "II", aql, seed_hex };
	return db_exec(
		db,
		"SELECT draw, barcode, point, swap_order_id FROM ml_inservice_sample_draw($1, $2, "
		"$3, decode($4, 'hex'))",
		4, p, PGRES_TUPLES_OK, out, err);
}

int inservice_sample_decide(struct db *db, const char *lot, const char *note, char verdict[8],
			    struct ml_error *err)
{
	PGresult *res = NULL;
	const char *p[2] = { lot, note };
	int rc = db_query_one(db, "SELECT ml_inservice_sample_decide($1, $2)", 2, p, &res, err);
	if (!rc)
		snprintf(verdict, 8, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}
