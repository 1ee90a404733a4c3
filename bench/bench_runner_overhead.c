/*
 * bench_runner_overhead — runner wall time versus the scheme's physical
 * minimum, on the real Modbus TCP simulator (default time scale 1000).
 *
 * Two minimums, both in device time divided by the time scale:
 *  - measurement minimum = Σ over the steps of what the regulation makes
 *    the bench measure: creep window Δt (JJG 596-2012, domain §1.7), for
 *    each basic point readings × pulses × pulse period at that load (pulse
 *    period = 3.6e6 / (P · C) s, §4.2), clock readings × 60 clock pulses
 *    (§1.9);
 *  - physical minimum = the measurement minimum + source settling per step
 *    (the scenario's settle_s, here 2 s). Settling is physical: the bench
 *    refuses configuration and commands while its source settles (protocol
 *    §5), so no runner can start measuring earlier. It is NOT runner
 *    overhead; the runner's overhead is wall / physical minimum − 1.
 * Both ratios are printed.
 *
 * Where the rest goes (medians over the runs, from the runner's events):
 * setup = runner_execute() entry to RUNNER_EV_START (database connection,
 * executor lock, loading the run, bench standard check, status 'running');
 * per step = step wall − (its measurement minimum + settling): opening the
 * bench (first step), source commands and waiting for stable, configuring
 * and starting positions, reading latency of the poll loop (poll_ms 1),
 * stop; end = the last RUNNER_EV_STEP_DONE to the return of
 * runner_execute() (source off, the last step's commit, conclusions and
 * asset moves in one transaction, closing connections).
 *
 * Each repetition runs a fresh task of 24 positions (all good meters, so
 * every asset returns to in_stock and can be verified again).
 *
 * After each run, outside its time: the run's certificate documents
 * (ml_cert_run_docs, what a draft is made from) in a new session and again
 * in it (0357). ML_BENCH_KEEP_DB=1 keeps the database for a look afterwards.
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

#define SETTLE_S 2 /* the scenario's settle_s */
#define MAX_STEPS 16
static const char *const scenario =
	"kind meter\npositions 24\nsettle_s 2\n[1-24]\nconstant 1200\nib 5\nerror 0.05\n";

/* Device-time minimum of one planned step, ms (see the header comment). */
static double step_min_ms(const struct plan_step *ps, const struct model_rating *r)
{
	switch (ps->kind) {
	case STEP_CREEP:
		return (double)ps->duration_ms;
	case STEP_BASIC:
		return ps->readings * (double)ps->pos.pulses * 3.6e12 /
		       ((double)ps->power_mw * (double)r->constant);
	case STEP_CLOCK:
		return ps->readings * 60.0 * 1e6 / (double)r->clock_freq_mhz;
	default:
		return (double)ps->duration_ms;
	}
}

/* Measurement minimum of every step into step_ms[] (device ms); returns the number of steps. */
static int measurement_min_ms(struct db *db, double *step_ms, struct ml_error *err)
{
	struct scheme *sch = NULL;
	struct model_rating r;
	struct lab_settings set;
	struct plan_step *ps = NULL;
	size_t n = 0;
	if (scheme_parse_text(scheme_text, &sch, err) || task_load_rating(db, 1, &r, NULL, err) ||
	    lab_settings_load(db, &set, err) || plan_scheme(sch, &r, &set, &ps, &n, err))
		brs_die("plan", err);
	if (n > MAX_STEPS)
		brs_die("plan: too many steps", NULL);
	printf("  steps (measurement minimum, device ms / pulses per reading):");
	for (size_t i = 0; i < n; i++) {
		step_ms[i] = step_min_ms(&ps[i], &r);
		printf(" %.0f/%d", step_ms[i], ps[i].pos.pulses);
	}
	printf("\n");
	free(ps);
	scheme_free(sch);
	return (int)n;
}

/* Event times of the current run (s, monotonic), to show where the overhead goes. */
static double step_t0[MAX_STEPS + 1], step_wall[MAX_STEPS + 1], started_at, last_done;
static void on_event(void *arg, const struct runner_event *ev)
{
	(void)arg;
	double t = now_s();
	if (ev->kind == RUNNER_EV_START)
		started_at = t;
	if (ev->kind == RUNNER_EV_STEP && ev->step <= MAX_STEPS)
		step_t0[ev->step] = t;
	if (ev->kind == RUNNER_EV_STEP_DONE && ev->step <= MAX_STEPS) {
		step_wall[ev->step] = t - step_t0[ev->step];
		last_done = t;
	}
}

/*
 * The documents a certificate draft is made from (ml_cert_run_docs), read
 * for the finished run: once in a new session (as `meterlab cert draft`
 * does), then again in it. Connecting is not timed.
 */
static void docs_ms(const char *ci, int64_t run, double *first, double *again)
{
	struct ml_error err = ML_ERROR_INIT;
	struct db *d = NULL;
	if (db_connect(ci, &d, &err))
		brs_die("connect", &err);
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, run);
	const char *p[1] = { id };
	double *out[2] = { first, again };
	for (int i = 0; i < 2; i++) {
		PGresult *res = NULL;
		double t0 = now_s();
		if (db_query_one(d, "SELECT count(*) FROM ml_cert_run_docs($1::bigint)", 1, p, &res,
				 &err))
			brs_die("documents", &err);
		*out[i] = (now_s() - t0) * 1000.0;
		if (atoi(PQgetvalue(res, 0, 0)) != 24)
			fprintf(stderr, "bench: run %" PRId64 ": %s documents (expected 24)\n", run,
				PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	db_close(d);
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	double scale = argc > 2 ? atof(argv[2]) : 1000.0;
	if (reps < 1 || reps > 50 || scale <= 0)
		return fprintf(stderr, "usage: bench_runner_overhead [REPS 1..50] [TIME_SCALE]\n"),
		       2;
	char name[64], ci[512], uri[64];
	snprintf(name, sizeof(name), "mlb_runner_overhead_%d", (int)getpid());
	struct db *db = brs_fresh_db(name, ci, sizeof(ci));
	struct ml_error err = ML_ERROR_INIT;
	struct benchsim_scenario *sc = NULL;
	struct benchsim *sim = NULL;
	struct benchsim_options so = { .time_scale = scale };
	if (benchsim_scenario_parse(scenario, "overhead", &sc, &err) ||
	    benchsim_start(sc, &so, &sim, &err))
		brs_die("simulator", &err);
	benchsim_scenario_free(sc);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", benchsim_port(sim));
	char pci[600];
	brs_person(db, ci, pci, sizeof(pci));
	brs_catalogue(db);
	brs_registry(pci, uri, 24, scheme_text);
	struct db *pdb = NULL;
	if (db_connect(pci, &pdb, &err))
		brs_die("connect", &err);
	char bcs[24][23];
	brs_assets(db, 24, 1000, bcs);
	double step_min[MAX_STEPS];
	int nsteps = measurement_min_ms(db, step_min, &err);
	double measure_ms = 0;
	for (int i = 0; i < nsteps; i++)
		measure_ms += step_min[i] / scale;
	double settle_ms = SETTLE_S * 1000.0 / scale, physical_ms = measure_ms + nsteps * settle_ms;

	struct runner_options o;
	runner_options_default(&o);
	o.poll_ms = 1;
	o.on_event = on_event;
	double wall[50], setup[50], end[50], stepo[MAX_STEPS][50], stepsum[50];
	double docs_new[50], docs_warm[50];
	for (int k = 0; k < reps; k++) {
		int64_t run = brs_task(pdb, "OVH", 24, bcs);
		double t0 = now_s();
		struct runner_outcome out;
		if (runner_execute(pci, run, &o, &out, &err))
			brs_die("run", &err);
		double t1 = now_s();
		wall[k] = (t1 - t0) * 1000.0;
		setup[k] = (started_at - t0) * 1000.0;
		end[k] = (t1 - last_done) * 1000.0;
		stepsum[k] = 0;
		for (int i = 0; i < nsteps; i++) {
			stepo[i][k] = step_wall[i + 1] * 1000.0 - step_min[i] / scale - settle_ms;
			stepsum[k] += stepo[i][k];
		}
		if (out.passed != 24)
			fprintf(stderr, "bench: run %" PRId64 ": %d passed (expected 24)\n", run,
				out.passed);
		docs_ms(pci, run, &docs_new[k], &docs_warm[k]);
	}
	double med = median(wall, reps);
	printf("bench_runner_overhead: 24 positions, %d steps, time scale %.0f, %d runs\n", nsteps,
	       scale, reps);
	printf("  measurement minimum  %.1f ms (%.0f s device time)\n", measure_ms,
	       measure_ms * scale / 1000.0);
	printf("  + source settling    %d x %d s device time = %.1f ms (physical: the bench refuses commands while settling)\n",
	       nsteps, SETTLE_S, nsteps * settle_ms);
	printf("  physical minimum     %.1f ms\n", physical_ms);
	printf("  runner wall time     median %.1f ms (min %.1f, max %.1f)\n", med, wall[0],
	       wall[reps - 1]);
	printf("  ratio wall / physical minimum     %.4f -> runner overhead %.2f %%\n",
	       med / physical_ms, (med / physical_ms - 1.0) * 100.0);
	printf("  ratio wall / measurement minimum  %.4f -> overhead incl. settling %.2f %%\n",
	       med / measure_ms, (med / measure_ms - 1.0) * 100.0);
	printf("  where the runner overhead goes (medians, ms): setup %.1f, steps %.1f (",
	       median(setup, reps), median(stepsum, reps));
	for (int i = 0; i < nsteps; i++)
		printf("%s%.2f", i ? " " : "", median(stepo[i], reps));
	printf("), end %.1f\n", median(end, reps));
	printf("  the run's certificate documents (ml_cert_run_docs, 24 positions; not part of the run's time):\n"
	       "    medians %.1f ms in a new session, %.1f ms called again in it\n",
	       median(docs_new, reps), median(docs_warm, reps));
	benchsim_stop(sim);
	db_close(pdb);
	db_close(db);
	brs_drop_db(name);
	return 0;
}
