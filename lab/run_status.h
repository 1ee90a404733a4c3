/*
 * run_status.h — a verification run's status: one enum, one table of legal
 * changes, one function that performs a change (pgbouncer's
 * change_client_state is the model). The database holds the same rules
 * (run_status_transition and ml_run_status, 0113; finished and aborted are
 * set only by ml_run_conclude and ml_run_abort) and a test keeps the two
 * tables equal, so a status is never a string compared here and there.
 */
#ifndef ML_LAB_RUN_STATUS_H
#define ML_LAB_RUN_STATUS_H

#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

enum run_status {
	RUN_PENDING = 0,     /* created, no step executed */
	RUN_RUNNING = 1,     /* a runner (or a manual entry) is at it */
	RUN_INTERRUPTED = 2, /* stopped (error, request, crash); resumable */
	RUN_FINISHED = 3,    /* concluded: the assets moved (terminal) */
	RUN_ABORTED = 4,     /* ended without a conclusion (terminal) */
	RUN_STATUS_COUNT
};

/* "pending" … "aborted"; NULL for a value outside the enum. Static storage. */
const char *run_status_name(enum run_status s);
/* ML_EINVAL naming s when it is not a status. */
int run_status_parse(const char *s, enum run_status *out, struct ml_error *err) ML_MUSTCHECK;
/* 1 when the status may change from -> to (to == from included where the table says so). */
int run_status_can(enum run_status from, enum run_status to);
/* 1 for finished and aborted: nothing changes a run any more. */
int run_status_terminal(enum run_status s);

/*
 * The one way the lab changes a run's status to running or interrupted:
 * checks the table, then asks the database (ml_run_status, which checks
 * again, as the connection's person) and updates *cur. error: the reason
 * recorded with an interruption (NULL otherwise). ML_ESTATE naming both
 * statuses when the change is not legal.
 */
int run_status_change(struct db *db, int64_t run_id, enum run_status *cur, enum run_status to,
		      const char *error, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
