/*
 * task.h — a verification task (检定任务): bench + scheme + the assets
 * scanned into the bench's positions. Creating a task validates everything
 * the run will need, so a run never starts on bad input:
 *   - every position is within the bench's 1..N and used once;
 *   - every barcode is registered, mounted once, in a state that allows
 *     verify_start (assets/lifecycle.h), and all share one device model;
 *   - the bench kind suits the model kind;
 *   - the scheme plans for the model (lab/plan.h) without error;
 *   - every reference standard of the bench has a certificate valid on the
 *     run date (lab/standard.h).
 * Then ml_run_create (0113) checks all of it again in the database (with
 * the ACTIVE scheme version, the model's durations, one unfinished run per
 * bench, the person's permission run.create) and writes, in one transaction,
 * the run row (status pending, the server's date, the authenticated operator,
 * the scheme version by id), its positions, and the assets' verify_start
 * moves; any failure leaves nothing behind.
 *
 * Thread-safety: functions use only the connection they are given.
 */
#ifndef ML_LAB_TASK_H
#define ML_LAB_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "lab/scheme.h"
#include "lab/settings.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

struct task_slot {
	int position;     /* 1-based, as printed on the bench */
	char barcode[40]; /* 22-digit asset barcode (longer input is kept to name it in errors) */
};

struct task_spec {
	const char *bench_code;
	const char *scheme_code;
	/* NULL: the server's date. A day in the past records paper work done earlier: manual runs
	 * only, permission record.backdate and backdate_reason required (shown on the run). */
	const char *date;
	const char *backdate_reason;
	int manual; /* 1: readings are typed in (meterlab run manual) */
	/* ambient temperature ℃ / relative humidity %, decimal text with at most one decimal
	 * (stored exactly, never rounded: "21.25" is refused); NULL = not recorded */
	const char *temperature_c;
	const char *humidity_pct;
	const struct task_slot *slots;
	size_t nslots;
};

/*
 * Parse a position map: one "position,barcode" per line; blank lines, '#'
 * comments and a header line "position,barcode" are skipped. *out is
 * malloc'd (free()); ML_EINVAL names the line and value on bad input.
 */
int task_parse_map(const char *text, struct task_slot **out, size_t *n,
		   struct ml_error *err) ML_MUSTCHECK;

/* Parse one "POS=BARCODE" argument into slot. */
int task_parse_slot_arg(const char *arg, struct task_slot *slot, struct ml_error *err) ML_MUSTCHECK;

/*
 * Validate and create the run (see above). *run_id receives the new id.
 * Refusals: ML_EINVAL (position range, duplicates, malformed barcode),
 * ML_ENOTFOUND (bench, scheme, barcode), ML_ESTATE (asset state,
 * traceability), each naming the value; err lists every problem found
 * with the asset checks, not just the first.
 */
int task_create(struct db *db, const struct task_spec *spec, int64_t *run_id,
		struct ml_error *err) ML_MUSTCHECK;

/*
 * The rating of a device model from table device_model (as plan_step
 * needs it) and its verification period in months.
 */
int task_load_rating(struct db *db, int64_t model_id, struct model_rating *r, int *period_months,
		     struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
