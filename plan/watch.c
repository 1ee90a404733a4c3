/*
 * watch.c — closed-loop monitoring: thin calls of the functions of
 * sql/migrations/0300_watch.sql, which hold the rules and the refusals.
 */
#include "plan/watch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "quality/alerts.h"

/* Append one PostgreSQL array element (text quoted, numbers bare). */
static void arr_put(struct ml_buf *b, size_t i, const char *s, int quote)
{
	ml_buf_puts(b, i ? "," : "");
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

/*
 * The quality issue's early warning over the quality_flag rule's window
 * (its threshold in days, ending today), its flagged units recorded for the
 * rule (0308). Nothing when the rule is disabled. Inside the caller's
 * transaction.
 */
static int quality_flags_refresh(struct db *db, struct ml_error *err)
{
	PGresult *res = NULL;
	struct quality_unit *units = NULL;
	struct quality_alert *alerts = NULL;
	size_t n = 0;
	struct ml_buf a[9];
	for (size_t k = 0; k < 9; k++)
		a[k] = (struct ml_buf)ML_BUF_INIT;
	char from[11], to[11];
	int rc = db_exec(
		db,
		"SELECT (ml_cert_today() - threshold)::text AS f, ml_cert_today()::text AS t FROM watch_rule "
		"WHERE code = 'quality_flag' AND enabled",
		0, NULL, PGRES_TUPLES_OK, &res, err);
	if (rc || PQntuples(res) == 0)
		goto out;
	snprintf(from, sizeof from, "%s", db_get(res, 0, "f"));
	snprintf(to, sizeof to, "%s", db_get(res, 0, "t"));
	PQclear(res);
	res = NULL;
	if ((rc = quality_alert_units_load(db, from, to, &units, &n, err)))
		goto out;
	struct quality_alert_opts o = { "0.05", QUALITY_HOLM };
	if (n && (rc = quality_alerts_compute(units, n, &o, &alerts, err)))
		goto out;
	size_t f = 0;
	for (size_t i = 0; i < n; i++) {
		const struct quality_alert *q = &alerts[i];
		if (!q->flagged)
			continue;
		char num[4][24], p[32];
		snprintf(num[0], sizeof num[0], "%" PRId64, q->unit.n);
		snprintf(num[1], sizeof num[1], "%" PRId64, q->unit.x);
		snprintf(num[2], sizeof num[2], "%" PRId64, q->peer_n);
		snprintf(num[3], sizeof num[3], "%" PRId64, q->peer_x);
		snprintf(p, sizeof p, "%.3g",
			 q->p); /* for display only: the flag was decided exactly */
		arr_put(&a[0], f, q->unit.metric == QUALITY_VERIFY ? "verify" : "field", 1);
		arr_put(&a[1], f, q->unit.dim, 1);
		arr_put(&a[2], f, q->unit.key, 1);
		arr_put(&a[3], f, q->unit.peer, 1);
		for (int k = 0; k < 4; k++)
			arr_put(&a[4 + k], f, num[k], 0);
		arr_put(&a[8], f, p, 1);
		f++;
	}
	struct ml_buf lit[9];
	int failed = 0;
	for (size_t k = 0; k < 9; k++) {
		lit[k] = (struct ml_buf)ML_BUF_INIT;
		ml_buf_printf(&lit[k], "{%s}", a[k].data ? a[k].data : "");
		if (ml_buf_failed(&a[k]) || ml_buf_failed(&lit[k]))
			failed = 1;
	}
	if (failed)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory for %zu flagged units", f);
	else {
		const char *pp[11] = { from,        to,          lit[0].data, lit[1].data,
				       lit[2].data, lit[3].data, lit[4].data, lit[5].data,
				       lit[6].data, lit[7].data, lit[8].data };
		rc = db_query_one(db,
				  "SELECT ml_quality_flags_record($1::date, $2::date, $3::text[], "
				  "$4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], "
				  "$9::bigint[], $10::bigint[], $11::text[])",
				  11, pp, &res, err);
	}
	for (size_t k = 0; k < 9; k++)
		ml_buf_free(&lit[k]);
out:
	PQclear(res);
	free(units);
	free(alerts);
	for (size_t k = 0; k < 9; k++)
		ml_buf_free(&a[k]);
	return rc;
}

int watch_run(struct db *db, const char *rule, PGresult **out, struct ml_error *err)
{
	const char *p[1] = { rule };
	const char *sql =
		"SELECT rule_code AS rule, n_found AS found, n_opened AS opened, n_open AS open, "
		"n_cleared AS cleared FROM ml_watch_run(CASE WHEN $1::text IS NULL THEN NULL "
		"ELSE ARRAY[$1::text] END)";
	if (rule && strcmp(rule, "quality_flag"))
		return db_exec(db, sql, 1, p, PGRES_TUPLES_OK, out, err);
	/* the early warning's flags first, in the run's transaction */
	int rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = quality_flags_refresh(db, err);
	if (!rc)
		rc = db_exec(db, sql, 1, p, PGRES_TUPLES_OK, out, err);
	rc = db_finish(db, rc, err);
	if (rc && *out) {
		PQclear(*out);
		*out = NULL;
	}
	return rc;
}

/* watch_list's filter, shared by its page and its count ($1..$5) */
#define WATCH_LIST_FROM                                                              \
	"FROM watch_item i LEFT JOIN location l ON l.location_id = i.place_id "      \
	"WHERE ($1 = 'all' OR i.status = $1) AND ($2::text IS NULL OR i.rule = $2) " \
	"AND ($3::text IS NULL OR coalesce(l.code, 'centre') = $3) "                 \
	"AND ($4::text IS NULL OR i.role = $4) "                                     \
	"AND (NOT $5::boolean OR (i.status = 'open' AND i.due_on < ml_cert_today())) "

int watch_list(struct db *db, const struct watch_filter *f, PGresult **out, struct watch_page *pg,
	       struct ml_error *err)
{
	*out = NULL;
	const char *status = f && f->status ? f->status : "open";
	if (strcmp(status, "open") && strcmp(status, "closed") && strcmp(status, "all"))
		return ml_errorf(err, ML_EINVAL, "status '%s' is not open, closed or all", status);
	int limit = f ? f->limit : 0;
	int64_t after = f ? f->after : 0;
	if (limit < 0 || limit > WATCH_PAGE_MAX)
		return ml_errorf(err, ML_EINVAL, "limit %d is not 1..%d", limit, WATCH_PAGE_MAX);
	if (after < 0)
		return ml_errorf(err, ML_EINVAL, "after %" PRId64 " is not a work item id", after);
	char afters[24], lim[16], last[24];
	snprintf(afters, sizeof afters, "%" PRId64, after);
	snprintf(lim, sizeof lim, "%d", limit ? limit : WATCH_PAGE_MAX);
	const char *p[7] = { status,
			     f ? f->rule : NULL,
			     f ? f->place : NULL,
			     f ? f->role : NULL,
			     f && f->overdue ? "t" : "f",
			     afters,
			     lim };
	PGresult *res = NULL, *cnt = NULL;
	/* keyset on the primary key: a page costs its rows, not the offset */
	int rc = db_exec(
		db,
		"SELECT i.item_id AS id, i.rule, i.status, to_char(i.opened_at, 'YYYY-MM-DD') AS opened, "
		"i.due_on AS due, (i.status = 'open' AND i.due_on < ml_cert_today()) AS overdue, i.role, "
		"coalesce(l.code, 'centre') AS place, i.summary, "
		"CASE WHEN i.status = 'closed' THEN CASE WHEN i.condition_held THEN 'waived' ELSE 'fixed' END "
		"WHEN i.cleared_at IS NOT NULL THEN 'gone' ELSE 'holds' END AS condition " WATCH_LIST_FROM
		"AND i.item_id > $6::bigint ORDER BY i.item_id LIMIT $7::int",
		7, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	/* the count over the whole filter, and whether any item follows this
	 * page's last one: "next" is then null exactly on the last page */
	int n = PQntuples(res);
	snprintf(last, sizeof last, "%s", n ? PQgetvalue(res, n - 1, 0) : "0");
	p[5] = last;
	rc = db_query_one(
		db,
		"SELECT count(*) AS total, coalesce(bool_or(i.item_id > $6::bigint), false) "
		"AS more " WATCH_LIST_FROM,
		6, p, &cnt, err);
	if (rc) {
		PQclear(res);
		return rc;
	}
	pg->total = strtoll(db_get(cnt, 0, "total"), NULL, 10);
	pg->next = n && !strcmp(db_get(cnt, 0, "more"), "t") ? strtoll(last, NULL, 10) : 0;
	PQclear(cnt);
	*out = res;
	return ML_OK;
}

int watch_show(struct db *db, int64_t id, PGresult **out, struct ml_error *err)
{
	char ids[24];
	snprintf(ids, sizeof ids, "%" PRId64, id);
	const char *p[1] = { ids };
	PGresult *res = NULL;
	int rc = db_exec(
		db,
		"SELECT i.item_id AS id, i.rule, r.title, i.status, i.anomaly_key AS key, a.barcode, "
		"coalesce(l.code, 'centre') AS place, i.role, i.summary, "
		"to_char(i.opened_at, 'YYYY-MM-DD HH24:MI') AS opened, uo.login AS opened_by, i.due_on AS due, "
		"to_char(i.last_seen_at, 'YYYY-MM-DD HH24:MI') AS last_seen, "
		"to_char(i.cleared_at, 'YYYY-MM-DD HH24:MI') AS cleared, "
		"to_char(i.closed_at, 'YYYY-MM-DD HH24:MI') AS closed, uc.login AS closed_by, i.note, i.reason, "
		"i.condition_held, i.evidence AS details "
		"FROM watch_item i JOIN watch_rule r ON r.code = i.rule "
		"LEFT JOIN asset a ON a.asset_id = i.asset_id LEFT JOIN location l ON l.location_id = i.place_id "
		"JOIN app_user uo ON uo.user_id = i.opened_by LEFT JOIN app_user uc ON uc.user_id = i.closed_by "
		"WHERE i.item_id = $1::bigint",
		1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return ml_errorf(err, ML_ENOTFOUND, "work item %" PRId64 " does not exist", id);
	}
	*out = res;
	return ML_OK;
}

int watch_close(struct db *db, int64_t id, const char *note, const char *reason, int *held,
		struct ml_error *err)
{
	char ids[24];
	snprintf(ids, sizeof ids, "%" PRId64, id);
	const char *p[3] = { ids, note, reason };
	PGresult *res = NULL;
	int rc = db_query_one(db, "SELECT ml_watch_close($1::bigint, $2, $3) AS held", 3, p, &res,
			      err);
	if (rc)
		return rc;
	if (held)
		*held = !strcmp(db_get(res, 0, "held"), "t");
	PQclear(res);
	return ML_OK;
}

int watch_rules(struct db *db, PGresult **out, struct ml_error *err)
{
	return db_exec(
		db,
		"SELECT code, title, coalesce(threshold::text, ml_setting('stock.reverify_months') "
		"|| ' months (stock.reverify_months)') AS threshold, unit, due_days, role, enabled "
		"FROM watch_rule ORDER BY code",
		0, NULL, PGRES_TUPLES_OK, out, err);
}

/* A whole number 0..max as text, or an error naming it. */
static int whole(const char *what, const char *s, long max, struct ml_error *err)
{
	if (!s)
		return ML_OK;
	long v = 0;
	size_t n = strlen(s);
	if (n == 0 || n > 6)
		return ml_errorf(err, ML_EINVAL, "%s '%s' is not a whole number 0..%ld", what, s,
				 max);
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ml_errorf(err, ML_EINVAL, "%s '%s' is not a whole number 0..%ld",
					 what, s, max);
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return ml_errorf(err, ML_EINVAL, "%s '%s' is not a whole number 0..%ld", what, s,
				 max);
	return ML_OK;
}

int watch_rule_set(struct db *db, const char *code, const char *threshold, const char *due_days,
		   const char *role, const char *enabled, const char *reason, struct ml_error *err)
{
	int rc = whole("threshold", threshold, 100000, err);
	if (rc)
		return rc;
	if ((rc = whole("due days", due_days, 366, err)))
		return rc;
	const char *en = NULL;
	if (enabled) {
		if (!strcmp(enabled, "yes"))
			en = "t";
		else if (!strcmp(enabled, "no"))
			en = "f";
		else
			return ml_errorf(err, ML_EINVAL, "enabled '%s' is not yes or no", enabled);
	}
	const char *p[6] = { code, threshold, due_days, role, en, reason };
	return db_cmd(db, "SELECT ml_watch_rule_set($1, $2::int, $3::int, $4, $5::boolean, $6)", 6,
		      p, err);
}

int watch_timeliness(struct db *db, const char *from, const char *to, PGresult **out,
		     struct ml_error *err)
{
	const char *p[2] = { from, to };
	return db_exec(
		db,
		"SELECT place, opened, closed, closed_in_time, share_in_time, open_overdue "
		"FROM ml_watch_timeliness(coalesce($1::date, date_trunc('month', ml_cert_today())::date), "
		"coalesce($2::date, ml_cert_today() + 1))",
		2, p, PGRES_TUPLES_OK, out, err);
}
