/*
 * result.h — storage of verification results (tables of migration 0031):
 * raw readings, judged step results, step completion marks, conclusions.
 *
 * A step is committed in ONE call of the database function
 * ml_run_record_step: its readings and its results as arrays (one parameter
 * per column, unnest in SQL) and its run_step row. Never row by row; the
 * application cannot write these tables directly (issue 8). A crash before the commit loses the step entirely,
 * so a resumed run redoes it; the run_step primary key makes a second
 * completion of the same step fail, so readings are never duplicated.
 *
 * The same functions store manual verifications (meterlab run manual), so
 * both kinds of run read back identically.
 *
 * Thread-safety: uses only the given connection.
 */
#ifndef ML_LAB_RESULT_H
#define ML_LAB_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "lab/judge.h"
#include "lab/plan.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One raw reading, as the bench or the operator gave it. */
struct result_reading {
	int64_t asset_id;
	int position;   /* 1-based */
	int reading_no; /* 1.. within the step and position */
	int64_t value_e4;
	int has_value2;
	int64_t value2_e4;
	int64_t pulses;   /* < 0: not applicable (stored NULL) */
	int bench_result; /* protocol §3.3 result code */
	int64_t at_us;    /* measurement time, µs since the Unix epoch (UTC) */
};

/* The judged result of one step for one position. */
struct result_row {
	int64_t asset_id;
	int position;
	struct judge_step_result r;
	/* why a position failed, or was not judged, without a judgement ("no pulses", "wiring fault") */
	char note[320];
};

/* Current wall-clock time in µs since the epoch (measured_at of readings). */
int64_t result_now_us(void);

/*
 * Commit one completed step (readings + results + run_step) in one
 * transaction through ml_run_record_step (0113; permission run.execute for a
 * driven run, run.manual for a manual one). The database refuses a 'pass'
 * that the readings and the rules do not support (ML_EINVAL naming the
 * position and the rule) and a step already completed (ML_EEXISTS); nothing
 * is written then.
 */
int result_commit_step(struct db *db, int64_t run_id, const struct plan_step *ps,
		       int64_t started_us, const struct result_reading *rd, size_t nrd,
		       const struct result_row *rows, size_t nrows,
		       struct ml_error *err) ML_MUSTCHECK;

/* One completed step, as result_commit_step takes it; the arrays are the caller's. */
struct result_step {
	const struct plan_step *ps;
	int64_t started_us;
	const struct result_reading *rd;
	size_t nrd;
	const struct result_row *rows;
	size_t nrows;
};

/* The most steps result_commit_steps stores in one transaction. */
#define RESULT_GROUP_MAX 16

/*
 * Commit completed steps of one run in order, as result_commit_step would
 * one by one, but up to RESULT_GROUP_MAX of them in one transaction sent in
 * one round trip (db_pipeline): one WAL flush for the group instead of one
 * per step. The runner's writer hands over the steps that wait while a
 * commit is under way (lab/runner.c), so a bench that the database keeps up
 * with still commits each step alone. When a step is refused, the steps
 * before it are committed (again in one transaction), the refused one and
 * those after it are not, and the error is the refused step's, exactly as
 * one by one. *committed (may be NULL) receives how many steps are stored.
 */
int result_commit_steps(struct db *db, int64_t run_id, const struct result_step *steps, size_t n,
			size_t *committed, struct ml_error *err) ML_MUSTCHECK;

/* done[i] = 1 for each completed step_no i < cap (others 0). */
int result_done_steps(struct db *db, int64_t run_id, unsigned char *done, size_t cap,
		      struct ml_error *err) ML_MUSTCHECK;

/*
 * Bounds of measured_at for a run's rows: from = created_at − 1 day,
 * to = (finished_at or now) + 1 day, as timestamptz text. Queries pass them
 * as parameters so the planner prunes the monthly partitions instead of
 * opening all of them (measured: 90–140 ms per query on a cold connection
 * without the bounds).
 */
int result_run_span(struct db *db, int64_t run_id, char from[40], char to[40],
		    struct ml_error *err) ML_MUSTCHECK;

/*
 * Rebuild the per-position conclusions of completed steps from the stored
 * step results (judge_position_add over each), for the assets in asset_ids
 * (jp[i] belongs to asset_ids[i]); *failures counts step results that
 * failed. untested (optional, n entries) is set to 1 for an asset with a
 * step result of verdict 'none' (the bench saw no device at its position):
 * such an asset was not verified completely and must not be concluded.
 */
int result_fold_positions(struct db *db, int64_t run_id, const int64_t *asset_ids, size_t n,
			  struct judge_position *jp, int *failures, int *untested,
			  struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
