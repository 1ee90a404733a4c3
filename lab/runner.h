/*
 * runner.h — executes verification runs on benches (devices/bench.h only).
 *
 * For each step of the run's scheme snapshot not yet completed: plan it
 * (lab/plan.h), apply the source and wait until stable, configure the
 * positions, start them, collect readings by watching reading_seq (polling
 * every poll_ms; never sleeping in place of watching), stop at the step's
 * readings count or when the bench ends a timed test (creep, start,
 * constant), judge each position (lab/judge.h) and commit the step's
 * readings and results in one transaction (lab/result.h). At the end the
 * database computes the conclusions and moves every asset verify_pass /
 * verify_fail in ONE transaction with the run's 'finished' status
 * (ml_run_conclude); status changes go through ml_run_status. Everything is
 * recorded as the user of the conninfo's login (issue 8), or, for the
 * server's meterlab_service login, as the person whose job session
 * opt->on_connect assumes in every transaction (issue 12). An asset the bench
 * reported as not present (position sensor) in some step was not verified:
 * it is given no conclusion and moves verify_abort (-> reverify).
 *
 * Resumable: a killed process or a dropped bench leaves the run 'running'
 * or 'interrupted'; runner_execute() on it again continues from the first
 * incomplete step. A run is executed by one process at a time (a session
 * advisory lock; a second executor receives ML_ECONFLICT). A bench I/O failure
 * inside a step closes the bench, reopens it and redoes the step, up to
 * max_reconnects times per run; after that the run is 'interrupted'. A
 * single "device busy" exception or a short heartbeat stall in a step is
 * redone once on the same connection before the run is interrupted. Every
 * error message names the bench and the step it happened in.
 *
 * Threads: each runner_execute() opens its own database connection and its
 * own bench connection, so runner_execute_many() runs one thread per run.
 */
#ifndef ML_LAB_RUNNER_H
#define ML_LAB_RUNNER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "devices/bench.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Advisory-lock class for "run N is being executed": the runner holds
 * pg_try_advisory_lock(RUN_LOCK_CLASS, run_id as int4, two's complement) for
 * a run's whole execution; in pg_locks it shows as classid RUN_LOCK_CLASS,
 * objid run_id (an unsigned oid), objsubid 2. Run ids above 2^32 - 1 are
 * refused, never wrapped onto another run's lock.
 */
#define RUN_LOCK_CLASS "7340032"

enum runner_event_kind {
	RUNNER_EV_START = 1,    /* run loaded; steps_total, positions_total set */
	RUNNER_EV_STEP = 2,     /* a step begins */
	RUNNER_EV_PROGRESS = 3, /* positions_done changed within the step */
	RUNNER_EV_STEP_DONE =
		4, /* a step ended on the bench; its commit is in flight (see runner.c) */
	RUNNER_EV_RECONNECT = 5, /* bench I/O failed; message says why; the step is redone */
	RUNNER_EV_FINISHED = 6,  /* conclusions committed; passed/failed set */
	RUNNER_EV_ERROR = 7,     /* the run stopped (interrupted); message says why */
};

struct runner_event {
	enum runner_event_kind kind;
	int64_t run_id;
	const char *bench; /* bench code */
	int step;          /* 1-based; 0 outside steps */
	int steps_total;
	const char *label; /* step label, "" outside steps */
	int positions_done, positions_total;
	int failures; /* failed step results so far in this run */
	int passed,
		failed; /* FINISHED: assets passed / failed overall (not-present assets are neither) */
	const char *message; /* RECONNECT / ERROR detail, else "" */
};

/* Called from the runner's thread; with runner_execute_many it must be thread-safe. */
typedef void (*runner_event_fn)(void *arg, const struct runner_event *ev);

struct runner_options {
	int poll_ms;          /* reading_seq polling interval (default 5) */
	int stall_timeout_ms; /* no change on any position for this long -> ML_ETIMEOUT (default 30000) */
	int max_reconnects; /* per run (default 3) */
	int stop_after_steps; /* testing/maintenance: stop (interrupted) after this many steps; 0 = run all */
	struct bench_options bench; /* connection options; zero fields take bench.h defaults */
	/* Set to non-zero (e.g. from a SIGINT handler) to stop: positions stop, the source is switched off,
	 * the run becomes 'interrupted' (resumable) and runner_execute returns ML_ESTATE. May be NULL. */
	volatile sig_atomic_t *cancel;
	runner_event_fn on_event;
	void *event_arg;
	/*
	 * Called once on the runner's database connection right after it opens,
	 * before anything is read or locked (NULL: nothing). The server sets a
	 * transaction hook there (sql/db.h db_set_tx_hook) that proves, in each
	 * transaction, the person the run is executed for; a failure stops the
	 * run before it is touched. From the runner's thread.
	 */
	int (*on_connect)(void *arg, struct db *db, struct ml_error *err);
	void *connect_arg;
};

void runner_options_default(struct runner_options *o);

struct runner_outcome {
	int64_t run_id;
	int code; /* ML_OK or the error code */
	char msg[ML_ERROR_MSG_MAX];
	char status[16];    /* the run's status afterwards */
	int passed, failed; /* assets, when finished */
	int untested; /* assets the bench never saw (not present): back to reverify, no conclusion */
};

/*
 * Execute (or resume) run_id: status pending, running (no live executor)
 * or interrupted. ML_ESTATE for a finished/aborted run, ML_ECONFLICT when
 * another process executes it. conninfo as for db_connect. out optional.
 */
int runner_execute(const char *conninfo, int64_t run_id, const struct runner_options *opt,
		   struct runner_outcome *out, struct ml_error *err) ML_MUSTCHECK;

/*
 * Execute n runs concurrently, one thread per run (each its own DB and
 * bench connection). out[0..n-1] receives each outcome. Returns ML_OK when
 * all succeeded, else the first failing run's code (err names it).
 */
int runner_execute_many(const char *conninfo, const int64_t *run_ids, size_t n,
			const struct runner_options *opt, struct runner_outcome *out,
			struct ml_error *err) ML_MUSTCHECK;

/*
 * Conclude a run whose steps are all recorded: ml_run_conclude (0113)
 * computes the per-item and overall conclusions in the database from the
 * stored step results, moves every asset still on the bench verify_pass
 * (valid until the run date + the model's verification period − 1 day),
 * verify_fail or verify_abort (a position the bench never saw), and marks the
 * run finished — one transaction, recorded as the connection's user
 * (run.execute; run.manual for a manual run). passed/failed optional.
 */
int runner_conclude(struct db *db, int64_t run_id, int *passed, int *failed,
		    struct ml_error *err) ML_MUSTCHECK;

/*
 * End a run that is not finished (ml_run_abort): assets still on the bench
 * go back to reverify, the run is aborted, with the reason (may be NULL) on
 * the run and the events. Always possible, whatever happened to its assets,
 * unless a process is executing it (ML_ECONFLICT).
 */
int runner_abort(struct db *db, int64_t run_id, const char *reason,
		 struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
