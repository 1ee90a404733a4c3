/*
 * planning.h — production planning (生产计划, issue 15): the stores'
 * demand, safety stock, netting (sql/migrations/0301_plan_demand.sql) and
 * the day-by-day verification plan (the scheduler of schedule.h fed from
 * the database: benches, lots that can be verified, the demand the stock
 * does not cover, and each model's run length from its active scheme's
 * planned duration, lab/plan.c). Each write is one statement acting as the
 * connection's person.
 */
#ifndef ML_PLAN_PLANNING_H
#define ML_PLAN_PLANNING_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/ml_error.h"
#include "plan/schedule.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One refused demand row: 1-based row (or file line), the value, why. */
struct plan_problem {
	size_t line;
	char code[72];
	char msg[320];
};
struct plan_demand_report {
	size_t added;
	struct plan_problem *problems; /* malloc'd */
	size_t nproblems;
};
void plan_demand_report_free(struct plan_demand_report *rep); /* NULL-safe */

/* One demand row (store code, model code, quantity, due YYYY-MM-DD, ref or NULL). */
struct plan_demand_in {
	const char *store, *model, *quantity, *due, *ref;
};

/*
 * Record demand rows, all or nothing (permission plan.demand). A refusal:
 * ML_EINVAL with every refused row in rep->problems (line = index + 1),
 * nothing recorded.
 */
int plan_demand_add(struct db *db, const struct plan_demand_in *rows, size_t n,
		    struct plan_demand_report *rep, struct ml_error *err) ML_MUSTCHECK;
/*
 * The same from CSV text: header store,model,quantity,due[,ref]; blank and
 * '#' lines skipped; no quoted fields. Problems name the file line.
 */
int plan_demand_import(struct db *db, const char *csv, size_t len, struct plan_demand_report *rep,
		       struct ml_error *err) ML_MUSTCHECK;
int plan_demand_cancel(struct db *db, int64_t id, const char *reason,
		       struct ml_error *err) ML_MUSTCHECK;
/* Open demand: id, store, model, quantity, due, ref, by. */
int plan_demand_list(struct db *db, PGresult **out, struct ml_error *err) ML_MUSTCHECK;
int plan_safety_set(struct db *db, const char *store, const char *model, int quantity,
		    struct ml_error *err) ML_MUSTCHECK;
int plan_setting_set(struct db *db, const char *key, int value, struct ml_error *err) ML_MUSTCHECK;
/* Netting per model for demand due up to `to`: model, demand, qualified, promised, safety, available, shortfall. */
int plan_netting(struct db *db, const char *to, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

/* A plan as built from the database; every string points into the results it holds. */
struct plan_view {
	char from[11], to[11];
	int days;
	int64_t day_minutes, overhead_minutes;
	PGresult *benches, *demands, *lots, *models;
	PGresult *workdays; /* the working days of the range (0307), one per scheduler day */
	struct sched_bench *bench;
	struct sched_model *model;
	struct sched_lot *lot;
	struct sched_demand *demand;
	int64_t *from_stock; /* per demand */
	char (*model_source)
		[96]; /* per model: the scheme whose duration was used, or the default */
	struct sched_in in;
	struct sched_out out;
};
void plan_view_free(struct plan_view *v); /* NULL-safe */

/*
 * Build the plan for the days from..to (YYYY-MM-DD, at most 366 days).
 * Every day is a working day of every bench (plan.bench_minutes_per_day).
 */
int plan_build(struct db *db, const char *from, const char *to, struct plan_view *v,
	       struct ml_error *err) ML_MUSTCHECK;

/* The plan as text, JSON or CSV (runs; then demands with their expected dates) appended to b. */
void plan_format_text(const struct plan_view *v, struct ml_buf *b);
void plan_format_json(const struct plan_view *v, struct ml_buf *b);
void plan_format_csv(const struct plan_view *v, struct ml_buf *b);

#ifdef __cplusplus
}
#endif
#endif
