/*
 * run_query.c — reading runs (run list, run show), for the CLI and the
 * server alike.
 */
#include "lab/run_query.h"
#include "lab/run_status.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lab/result.h"
#include "lab/runner.h"

int run_list(struct db *db, const struct run_filter *f, PGresult **out, struct ml_error *err)
{
	*out = NULL;
	long limit = f && f->limit ? f->limit : 100;
	if (limit < 1 || limit > 1000)
		return ml_errorf(err, ML_EINVAL, "limit %ld is outside 1..1000", limit);
	const char *status = f ? f->status : NULL;
	enum run_status st;
	int vrc;
	if (status && (vrc = run_status_parse(status, &st, err)))
		return vrc;
	if (f && f->before_id < 0)
		return ml_errorf(err, ML_EINVAL, "before %" PRId64 " is negative", f->before_id);
	char before[24], lim[24];
	snprintf(before, sizeof(before), "%" PRId64, f && f->before_id ? f->before_id : INT64_MAX);
	snprintf(lim, sizeof(lim), "%ld", limit);
	const char *p[4] = { status, f ? f->bench : NULL, before, lim };
	return db_exec(
		db,
		"SELECT r.run_id, b.code AS bench, r.scheme_code, r.mode, r.status, "
		"r.run_date::text AS run_date, r.steps_total, "
		"(SELECT count(*) FROM run_step s WHERE s.run_id = r.run_id) AS steps_done, "
		"(SELECT count(*) FROM run_position p WHERE p.run_id = r.run_id) AS positions, "
		/* Is a process executing it now? (the runner's session advisory lock) */
		"EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = " RUN_LOCK_CLASS
		" AND l.objid = r.run_id AND l.objsubid = 2 AND l.granted) "
		"AS executing "
		"FROM verification_run r JOIN lab_bench b USING (bench_id) "
		"WHERE ($1::text IS NULL OR r.status = $1) AND ($2::text IS NULL OR b.code = $2) "
		"AND r.run_id < $3::bigint ORDER BY r.run_id DESC LIMIT $4::integer",
		4, p, PGRES_TUPLES_OK, out, err);
}

void run_detail_free(struct run_detail *d)
{
	if (!d)
		return;
	PQclear(d->head);
	PQclear(d->positions);
	PQclear(d->conclusions);
	PQclear(d->results);
	PQclear(d->readings);
	memset(d, 0, sizeof(*d));
}

static int q(struct db *db, const char *sql, int n, const char *const *p, PGresult **res,
	     struct ml_error *err)
{
	return db_exec(db, sql, n, p, PGRES_TUPLES_OK, res, err);
}

int run_detail_get(struct db *db, int64_t run_id, int with_results, int with_readings,
		   struct run_detail *out, struct ml_error *err)
{
	memset(out, 0, sizeof(*out));
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, run_id);
	const char *p1[1] = { id };
	int rc = q(
		db,
		"SELECT r.run_id, b.code AS bench, r.scheme_code, r.scheme_version, m.code AS model, "
		"r.mode, r.status, r.run_date::text AS run_date, "
		"coalesce(o.display_name || ' (' || o.login || ')', r.operator) AS operator, "
		"r.started_at::text AS started_at, r.finished_at::text AS finished_at, r.last_error, "
		"r.steps_total, to_char(r.created_at, 'YYYY-MM-DD HH24:MI') AS created_at, "
		"bd.display_name || ' (' || bd.login || ')' AS backdated_by, r.backdated_reason, "
		"(SELECT count(*) FROM run_step s WHERE s.run_id = r.run_id) AS steps_done "
		"FROM verification_run r JOIN lab_bench b USING (bench_id) "
		"JOIN device_model m USING (model_id) "
		"LEFT JOIN app_user o ON o.user_id = r.operator_id "
		"LEFT JOIN app_user bd ON bd.user_id = r.backdated_by WHERE r.run_id = $1::bigint",
		1, p1, &out->head, err);
	if (!rc && PQntuples(out->head) != 1)
		rc = ml_errorf(err, ML_ENOTFOUND, "no run %" PRId64, run_id);
	if (!rc)
		rc = q(db,
		       "SELECT position, asset_id, barcode FROM run_position WHERE run_id = $1::bigint "
		       "ORDER BY position",
		       1, p1, &out->positions, err);
	if (!rc)
		rc = q(db,
		       "SELECT asset_id, item, verdict, internal_verdict, valid_until::text AS valid_until "
		       "FROM run_conclusion WHERE run_id = $1::bigint ORDER BY asset_id, item",
		       1, p1, &out->conclusions, err);
	char from[40], to[40];
	const char *p3[3] = { id, from, to };
	if (!rc && (with_results || with_readings))
		rc = result_run_span(db, run_id, from, to, err);
	if (!rc && with_results)
		rc = q(db,
		       /* the columns a result had before its readings moved into it (0349) */
		       "SELECT asset_id, run_id, step_no, position, kind, label, n_readings, mean_e4, "
		       "rounded_e4, mean2_e4, rounded2_e4, pulses, limit_e4, internal_limit_e4, "
		       "interval_e4, limit2_e4, internal_limit2_e4, interval2_e4, gamma_e4, verdict, "
		       "internal_verdict, verdict2, note, measured_at, verdict1, elapsed_ms "
		       "FROM run_step_result WHERE run_id = $1::bigint AND measured_at >= "
		       "$2::timestamptz AND measured_at < $3::timestamptz ORDER BY step_no, position",
		       3, p3, &out->results, err);
	if (!rc && with_readings)
		rc = q(db,
		       /* bounded by the time of the result rows that hold the readings
			* (result_at, the partition key, 0350), so the run's span prunes
			* the partitions; a reading's own time cannot */
		       "SELECT step_no, position, asset_id, reading_no, value_e4, value2_e4, pulses, "
		       "bench_result, measured_at::text AS measured_at FROM run_reading "
		       "WHERE run_id = $1::bigint AND result_at >= $2::timestamptz AND "
		       "result_at < $3::timestamptz ORDER BY step_no, position, reading_no",
		       3, p3, &out->readings, err);
	if (rc)
		run_detail_free(out);
	return rc;
}
