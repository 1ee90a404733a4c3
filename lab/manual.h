/*
 * manual.h — manual verification (手工检定) for benches meterlab cannot
 * drive: the operator types the readings in (or imports a file), they are
 * judged with the same judge functions (judge_manual_text) and stored in the
 * same tables exactly like a driven run (lab/result.h), then the assets
 * move through runner_conclude().
 *
 * Input text: one line per position and step,
 *     POSITION, STEP, value1, value2, ...
 * where STEP is the step's label or its 1-based number and the values
 * follow judge_manual_text's syntax (creep/start/constant:
 * "pulses=N[, elapsed=S][, register=KWH]"; CT/VT: "ratio / phase").
 * '#' comments and blank lines are ignored.
 *
 * All positions are judged before anything is written: bad input (an
 * unknown position, a missing step, a malformed value) is ML_EINVAL naming
 * the line and nothing is stored.
 */
#ifndef ML_LAB_MANUAL_H
#define ML_LAB_MANUAL_H

#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Record and conclude a manual run (created with task_spec.manual = 1, status pending). */
int manual_record(struct db *db, int64_t run_id, const char *text, int *passed, int *failed,
		  struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
