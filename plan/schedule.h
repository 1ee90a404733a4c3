/*
 * schedule.h — the verification scheduler (生产计划, issue 15): which lots
 * to verify on which bench on which day. Pure: no I/O, no clock; the same
 * input gives the same plan (plan/planning.c feeds it from the database).
 *
 * Objective, in order: (1) meet due dates — every bench-day, a run serves
 * the open demand with the earliest due date (then the lowest id) whose
 * model the bench can verify and for which verifiable assets remain (EDD:
 * with one bench kind and runs of equal length this minimises the largest
 * lateness); (2) fill benches — capacity left over verifies the remaining
 * lots, oldest first. A run verifies up to the bench's positions of one
 * model from one lot (lots in the given order: oldest first) and takes the
 * model's run minutes (the scheme's planned duration plus mounting) out of
 * the bench's day. Days are working days 0..days-1.
 */
#ifndef ML_PLAN_SCHEDULE_H
#define ML_PLAN_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sched_bench {
	const char *code;
	const char *kind; /* meter-1p, meter-3p, transformer (lab_bench.kind) */
	int positions;
};
struct sched_model {
	const char *code;
	const char *bench_kind; /* the bench kind that verifies it */
	int64_t run_minutes;    /* one run, mounting included; > 0 */
};
struct sched_lot {
	const char *code;
	size_t model; /* index into models */
	int64_t assets;
};
struct sched_demand {
	int64_t id;
	size_t model;
	int64_t quantity; /* assets to verify for it */
	int due_day;      /* day index of its due date (negative: already overdue) */
};
struct sched_in {
	const struct sched_bench *benches;
	size_t nbenches;
	const struct sched_model *models;
	size_t nmodels;
	const struct sched_lot *lots;
	size_t nlots;
	const struct sched_demand *demands;
	size_t ndemands;
	int days;            /* 1..3660 */
	int64_t day_minutes; /* a bench's working minutes per day */
};

struct sched_run {
	int day;
	size_t bench, model, lot; /* indexes into the input */
	int64_t assets;           /* mounted on the run */
	int64_t for_demand;       /* of which serve demand (the rest fill the bench) */
	int64_t demand_id;        /* the earliest-due demand it serves, 0 for a fill run */
};
struct sched_out {
	struct sched_run *runs; /* in day, bench order */
	size_t nruns;
	int *met_day; /* per demand: the day its last asset is verified, -1 when not in the horizon */
	int64_t *short_of; /* per demand: assets not scheduled within the horizon */
};

/*
 * Plan. ML_EINVAL naming the value for an index out of range, a bench
 * without positions, a run of 0 minutes, days outside 1..3660. *out's arrays
 * malloc'd: free with sched_out_free.
 */
int sched_plan(const struct sched_in *in, struct sched_out *out, struct ml_error *err) ML_MUSTCHECK;
void sched_out_free(struct sched_out *out); /* NULL-safe, also after a failure */

#ifdef __cplusplus
}
#endif
#endif
