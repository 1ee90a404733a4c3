/*
 * rotation.c — rotation lists and inspection due dates: thin calls of the
 * functions of sql/migrations/0302_rotation.sql, which hold the rules.
 */
#include "plan/rotation.h"

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
		       "FROM ml_inspection_due(coalesce($1::date, current_date))",
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
