/*
 * schedule.c — earliest-due-date scheduling of verification runs on benches
 * (see schedule.h for the objective). O(days × benches × runs a day ×
 * (demands + lots)); a province plans thousands of lots, not millions.
 */
#include "plan/schedule.h"

#include <stdlib.h>
#include <string.h>

void sched_out_free(struct sched_out *out)
{
	if (!out)
		return;
	free(out->runs);
	free(out->met_day);
	free(out->short_of);
	memset(out, 0, sizeof *out);
}

/* Whether demand x comes before y: earlier due date, then lower id. */
static int before(const struct sched_demand *x, const struct sched_demand *y)
{
	return x->due_day != y->due_day ? x->due_day < y->due_day : x->id < y->id;
}

static int check(const struct sched_in *in, struct ml_error *err)
{
	if (in->days < 1 || in->days > 3660)
		return ml_errorf(err, ML_EINVAL, "plan of %d days: 1 to 3660", in->days);
	if (in->day_minutes < 1)
		return ml_errorf(err, ML_EINVAL, "a bench day of %lld minutes",
				 (long long)in->day_minutes);
	for (size_t i = 0; i < in->nbenches; i++)
		if (in->benches[i].positions < 1)
			return ml_errorf(err, ML_EINVAL, "bench %s has %d positions",
					 in->benches[i].code, in->benches[i].positions);
	for (size_t i = 0; i < in->nmodels; i++)
		if (in->models[i].run_minutes < 1)
			return ml_errorf(err, ML_EINVAL, "model %s: a run of %lld minutes",
					 in->models[i].code, (long long)in->models[i].run_minutes);
	for (size_t i = 0; i < in->nlots; i++)
		if (in->lots[i].model >= in->nmodels || in->lots[i].assets < 0)
			return ml_errorf(err, ML_EINVAL,
					 "lot %s: model index or asset count out of range",
					 in->lots[i].code);
	for (size_t i = 0; i < in->ndemands; i++)
		if (in->demands[i].model >= in->nmodels || in->demands[i].quantity < 0)
			return ml_errorf(err, ML_EINVAL,
					 "demand %lld: model index or quantity out of range",
					 (long long)in->demands[i].id);
	return ML_OK;
}

/* The first lot (oldest) of model m with assets left, or nlots. */
static size_t lot_of(const struct sched_in *in, const int64_t *left, size_t m)
{
	for (size_t l = 0; l < in->nlots; l++)
		if (in->lots[l].model == m && left[l] > 0)
			return l;
	return in->nlots;
}

int sched_plan(const struct sched_in *in, struct sched_out *out, struct ml_error *err)
{
	memset(out, 0, sizeof *out);
	int rc = check(in, err);
	if (rc)
		return rc;
	int64_t *lot_left = calloc(in->nlots + 1, sizeof *lot_left);
	int64_t *dem_left = calloc(in->ndemands + 1, sizeof *dem_left);
	size_t *order = calloc(in->ndemands + 1, sizeof *order);
	size_t cap = 64;
	out->runs = malloc(cap * sizeof *out->runs);
	out->met_day = malloc((in->ndemands + 1) * sizeof *out->met_day);
	out->short_of = calloc(in->ndemands + 1, sizeof *out->short_of);
	if (!lot_left || !dem_left || !order || !out->runs || !out->met_day || !out->short_of) {
		rc = ml_errorf(err, ML_ENOMEM, "out of memory planning %zu lots and %zu demands",
			       in->nlots, in->ndemands);
		goto out;
	}
	for (size_t l = 0; l < in->nlots; l++)
		lot_left[l] = in->lots[l].assets;
	for (size_t k = 0; k < in->ndemands; k++) {
		dem_left[k] = in->demands[k].quantity;
		out->met_day[k] = dem_left[k] == 0 ? 0 : -1;
		order[k] = k;
	}
	/* insertion sort by due date (stable, no shared state: callers may plan on threads) */
	for (size_t i = 1; i < in->ndemands; i++) {
		size_t k = order[i], j = i;
		for (; j > 0 && before(&in->demands[k], &in->demands[order[j - 1]]); j--)
			order[j] = order[j - 1];
		order[j] = k;
	}

	for (int d = 0; d < in->days && !rc; d++) {
		for (size_t b = 0; b < in->nbenches && !rc; b++) {
			const struct sched_bench *bench = &in->benches[b];
			int64_t t = in->day_minutes;
			for (;;) {
				size_t m = in->nmodels, lot = in->nlots;
				/* (1) the earliest-due demand this bench can serve now */
				for (size_t i = 0; i < in->ndemands && m == in->nmodels; i++) {
					const struct sched_demand *dm = &in->demands[order[i]];
					const struct sched_model *mo = &in->models[dm->model];
					if (dem_left[order[i]] > 0 &&
					    !strcmp(mo->bench_kind, bench->kind) &&
					    mo->run_minutes <= t &&
					    (lot = lot_of(in, lot_left, dm->model)) < in->nlots)
						m = dm->model;
				}
				/* (2) else fill the bench with the oldest lot it can verify */
				for (size_t l = 0; l < in->nlots && m == in->nmodels; l++) {
					const struct sched_model *mo =
						&in->models[in->lots[l].model];
					if (lot_left[l] > 0 &&
					    !strcmp(mo->bench_kind, bench->kind) &&
					    mo->run_minutes <= t) {
						m = in->lots[l].model;
						lot = l;
					}
				}
				if (m == in->nmodels)
					break;
				int64_t n = lot_left[lot] < bench->positions ? lot_left[lot]
									     : bench->positions;
				lot_left[lot] -= n;
				t -= in->models[m].run_minutes;
				struct sched_run run = {
					.day = d, .bench = b, .model = m, .lot = lot, .assets = n
				};
				int64_t give = n;
				for (size_t i = 0; i < in->ndemands && give > 0; i++) {
					size_t k = order[i];
					if (in->demands[k].model != m || dem_left[k] == 0)
						continue;
					int64_t s = dem_left[k] < give ? dem_left[k] : give;
					dem_left[k] -= s;
					give -= s;
					run.for_demand += s;
					if (!run.demand_id)
						run.demand_id = in->demands[k].id;
					if (dem_left[k] == 0)
						out->met_day[k] = d;
				}
				if (out->nruns == cap) {
					struct sched_run *r = realloc(out->runs,
								      2 * cap * sizeof *r);
					if (!r) {
						rc = ml_errorf(err, ML_ENOMEM,
							       "out of memory at %zu runs",
							       out->nruns);
						break;
					}
					out->runs = r;
					cap *= 2;
				}
				out->runs[out->nruns++] = run;
			}
		}
	}
	for (size_t k = 0; k < in->ndemands; k++)
		out->short_of[k] = dem_left[k];
out:
	free(lot_left);
	free(dem_left);
	free(order);
	if (rc)
		sched_out_free(out);
	return rc;
}
