/*
 * run_query.h — reading runs: the list and one run with its positions,
 * conclusions, step results and readings. The one place both fronts (the
 * CLI's `run list|show` and the server's /api/runs) read runs from.
 *
 * Results come back as PGresults so each front formats them its own way;
 * the caller owns them (run_list: PQclear; run_detail_free for a detail).
 * Thread-safety: one struct db per thread.
 */
#ifndef ML_LAB_RUN_QUERY_H
#define ML_LAB_RUN_QUERY_H

#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

struct run_filter {
	const char *status; /* NULL = any; pending running interrupted finished aborted */
	const char *bench;  /* bench code, NULL = any */
	int64_t before_id; /* keyset paging, newest first: run_id < before_id; 0 = from the newest */
	long limit;        /* 1..1000, 0 -> 100 */
};

/*
 * Runs, newest first. Columns: run_id, bench, scheme_code, mode, status,
 * run_date, steps_total, steps_done, positions, executing ('true' when a
 * process holds the runner's lock on it now; 'running' without an executor
 * means the process died and `run resume` continues it).
 * ML_EINVAL for an unknown status or a limit out of range.
 */
int run_list(struct db *db, const struct run_filter *f, PGresult **out,
	     struct ml_error *err) ML_MUSTCHECK;

struct run_detail {
	PGresult *head;        /* one row: run_id, bench, scheme_code, scheme_version, model,
				* mode, status, run_date, operator ("name (login)"), started_at,
				* finished_at, last_error, steps_total, created_at,
				* backdated_by, backdated_reason (NULL unless back-dated),
				* steps_done */
	PGresult *positions;   /* position, asset_id, barcode — by position */
	PGresult *conclusions; /* asset_id, item, verdict, internal_verdict, valid_until */
	PGresult *results;     /* result columns but the readings, by step and position (or NULL) */
	PGresult *readings;    /* step_no, position, asset_id, reading_no, value_e4, value2_e4,
				* pulses, bench_result, measured_at (or NULL) */
};

/*
 * One run. results/readings are read only when asked for (they can be
 * thousands of rows). ML_ENOTFOUND when there is no such run. On failure
 * nothing is left in out.
 */
int run_detail_get(struct db *db, int64_t run_id, int with_results, int with_readings,
		   struct run_detail *out, struct ml_error *err) ML_MUSTCHECK;
void run_detail_free(struct run_detail *d); /* NULL-safe; clears the struct */

#ifdef __cplusplus
}
#endif
#endif
