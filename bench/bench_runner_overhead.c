/*
 * bench_runner_overhead — runner wall time versus the scheme's physical
 * minimum, on the real Modbus TCP simulator at time scale 1000.
 *
 * Physical minimum (device time) = Σ over the scheme's steps of what the
 * regulation makes the bench wait for: creep window Δt (JJG 596-2012,
 * domain §1.7), for each basic point readings × pulses × pulse period at
 * that load (pulse period = 3.6e6 / (P · C) s, §4.2), clock readings × 60
 * clock pulses (§1.9). Source settling (the simulator's settle_s per step)
 * is not in the minimum: it is reported as part of the overhead.
 *
 * Each repetition runs a fresh task of 24 positions (all good meters, so
 * every asset returns to in_stock and can be verified again). Reports the
 * median wall time, the minimum divided by the time scale, their ratio and
 * the overhead in %.
 *
 * usage: METERLAB_BENCH_PG='host=... user=postgres' bench_runner_overhead [REPS] [TIME_SCALE]
 */
#include "bench_runner_setup.h"

#include "devices/benchsim.h"
#include "lab/plan.h"
#include "lab/runner.h"
#include "lab/settings.h"

static const char *const scheme_text = "scheme code=OVH name=\"overhead\"\n"
				       "suits kinds=meter_1p classes=1 connection=direct\n"
				       "creep\n"
				       "basic I=Imax pf=1.0 element=H readings=2\n"
				       "basic I=Ib pf=1.0 element=H readings=2\n"
				       "basic I=Ib pf=0.5L element=H readings=2\n"
				       "basic I=0.1Ib pf=1.0 element=H readings=2\n"
				       "clock readings=5\n";

static const char *const scenario = "kind meter\npositions 24\nsettle_s 2\n[1-24]\nconstant 1200\nib 5\nerror 0.05\n";

/* Device-time minimum of one planned step, ms (see the header comment). */
static double step_min_ms(const struct plan_step *ps, const struct model_rating *r)
{
	switch (ps->kind) {
	case STEP_CREEP:
		return (double)ps->duration_ms;
	case STEP_BASIC:
		return ps->readings * (double)ps->pos.pulses * 3.6e12 / ((double)ps->power_mw * (double)r->constant);
	case STEP_CLOCK:
		return ps->readings * 60.0 * 1e6 / (double)r->clock_freq_mhz;
	default:
		return (double)ps->duration_ms;
	}
}

static double physical_min_ms(struct db *db, struct ml_error *err)
{
	struct scheme *sch = NULL;
	struct model_rating r;
	struct lab_settings set;
	struct plan_step *ps = NULL;
	size_t n = 0;
	if (scheme_parse_text(scheme_text, &sch, err) || task_load_rating(db, 1, &r, NULL, err) ||
	    lab_settings_load(db, &set, err) || plan_scheme(sch, &r, &set, &ps, &n, err))
		brs_die("plan", err);
	double total = 0;
	printf("  steps (device-time minimum, ms / pulses per reading):");
	for (size_t i = 0; i < n; i++) {
		total += step_min_ms(&ps[i], &r);
		printf(" %.0f/%d", step_min_ms(&ps[i], &r), ps[i].pos.pulses);
	}
	printf("\n");
	free(ps);
	scheme_free(sch);
	return total;
}

/* Per-step wall time from the runner's events, to show where overhead goes (last run only). */
static double step_t0[16], step_wall[16], run_t0, first_step_at, finished_at, last_done;
static void on_event(void *arg, const struct runner_event *ev)
{
	(void)arg;
	double t = brs_now();
	if (ev->kind == RUNNER_EV_START)
		first_step_at = t - run_t0;
	if (ev->kind == RUNNER_EV_STEP && ev->step < 16)
		step_t0[ev->step] = t;
	if (ev->kind == RUNNER_EV_STEP_DONE && ev->step < 16) {
		step_wall[ev->step] = t - step_t0[ev->step];
		last_done = t;
	}
	if (ev->kind == RUNNER_EV_FINISHED)
		finished_at = t - last_done;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	double scale = argc > 2 ? atof(argv[2]) : 1000.0;
	if (reps < 1 || reps > 50 || scale <= 0)
		return fprintf(stderr, "usage: bench_runner_overhead [REPS 1..50] [TIME_SCALE]\n"), 2;
	char name[64], ci[512], uri[64];
	snprintf(name, sizeof(name), "mlb_runner_overhead_%d", (int)getpid());
	struct db *db = brs_fresh_db(name, ci, sizeof(ci));
	struct ml_error err = ML_ERROR_INIT;
	struct benchsim_scenario *sc = NULL;
	struct benchsim *sim = NULL;
	struct benchsim_options so = { .time_scale = scale };
	if (benchsim_scenario_parse(scenario, "overhead", &sc, &err) || benchsim_start(sc, &so, &sim, &err))
		brs_die("simulator", &err);
	benchsim_scenario_free(sc);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", benchsim_port(sim));
	brs_catalogue(db);
	brs_registry(db, uri, 24, scheme_text);
	char bcs[24][23];
	brs_assets(db, 24, 1000, bcs);
	double min_ms = physical_min_ms(db, &err);

	struct runner_options o;
	runner_options_default(&o);
	o.poll_ms = 1;
	o.on_event = on_event;
	double wall[50];
	for (int k = 0; k < reps; k++) {
		int64_t run = brs_task(db, "OVH", 24, bcs);
		double t0 = brs_now();
		run_t0 = t0;
		struct runner_outcome out;
		if (runner_execute(ci, run, &o, &out, &err))
			brs_die("run", &err);
		double t1 = brs_now();
		wall[k] = (t1 - t0) * 1000.0;
		if (out.passed != 24)
			fprintf(stderr, "bench: run %" PRId64 ": %d passed (expected 24)\n", run, out.passed);
	}
	double med = brs_median(wall, reps), ideal = min_ms / scale;
	printf("bench_runner_overhead: 24 positions, 6 steps, time scale %.0f, %d runs\n", scale, reps);
	printf("  physical minimum  %.0f s device time = %.1f ms at this scale\n", min_ms / 1000.0, ideal);
	printf("  runner wall time  median %.1f ms (min %.1f, max %.1f)\n", med, wall[0], wall[reps - 1]);
	printf("  ratio             %.4f  -> overhead %.2f %% (includes source settling, 6 x 2 s device time = %.1f ms)\n",
	       med / ideal, (med / ideal - 1.0) * 100.0, 12000.0 / scale);
	printf("  last run: setup before first step %.1f ms, after last step %.1f ms; steps (wall ms):",
	       first_step_at * 1000.0, finished_at * 1000.0);
	for (int i = 1; i <= 6; i++)
		printf(" %.1f", step_wall[i] * 1000.0);
	printf("\n");
	benchsim_stop(sim);
	db_close(db);
	brs_drop_db(name);
	return 0;
}
