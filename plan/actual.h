/*
 * actual.h — the working-day calendar of the verification plan and plan
 * against actual (issue 15; sql/migrations/0307_plan_calendar.sql). Each
 * call is one statement acting as the connection's person; *out is the
 * caller's (PQclear).
 */
#ifndef ML_PLAN_ACTUAL_H
#define ML_PLAN_ACTUAL_H

#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A dated exception to the working week (plan.edit): working "yes" (e.g. a
 * weekend made a working day), "no" (a holiday), or "default" (remove the
 * exception: the weekday rule applies). note required unless default.
 */
int plan_calendar_set(struct db *db, const char *day, const char *working, const char *note,
		      struct ml_error *err) ML_MUSTCHECK;

/* The working week (plan.edit): ISO weekday 1 (Monday) .. 7 (Sunday), working "yes"|"no". */
int plan_weekday_set(struct db *db, int isodow, const char *working,
		     struct ml_error *err) ML_MUSTCHECK;

/* Every day from..to (YYYY-MM-DD): day, weekday, working, why. */
int plan_calendar_show(struct db *db, const char *from, const char *to, PGresult **out,
		       struct ml_error *err) ML_MUSTCHECK;

/* Compute the plan from..to (plan_build) and save its runs (plan.edit); *id: the saved plan. */
int plan_save(struct db *db, const char *from, const char *to, int64_t *id,
	      struct ml_error *err) ML_MUSTCHECK;

/*
 * A saved plan against what was done, per day and bench: day, bench,
 * planned_runs, planned_assets, actual_runs, actual_assets, actual_passed
 * (finished runs by run date). ML_ENOTFOUND for an unknown plan.
 */
int plan_actual(struct db *db, int64_t id, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

/* Per lot of a saved plan: lot, planned_on, released_on, status (on time | late | not yet | late, not released). */
int plan_lot_release(struct db *db, int64_t id, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
