/*
 * runjob.c — runs executed by `meterlab serve` (POST /api/runs/{id}/start).
 *
 * Each run executes in a thread of its own with lab/runner.h's
 * runner_execute, exactly as `meterlab run start` does on the lab machine:
 * its own bench connection and its own database connection, resumable,
 * announced to the event streams by the database's triggers (0250). The
 * connection is the service's login, so the person is proven per
 * transaction: the request that starts the run (the technician's session,
 * run.execute checked by ml_api_enter) creates a job session for (person,
 * run) with ml_run_job_begin (0252) from a fresh random token, and the
 * runner's connection begins every transaction with ml_session_assume(its
 * hash) (db_set_tx_hook). The hash lives only in this process's memory and,
 * as a hash, in auth_session; when the runner stops — finished, interrupted,
 * cancelled — ml_run_job_end revokes it, so it can never be replayed.
 *
 * Stopping: a run is cancelled through runner_options.cancel — the runner
 * stops the positions, switches the source off and leaves the run
 * 'interrupted' (resumable), the same path as ^C on `meterlab run start`. An
 * abort request cancels the run and waits for the runner to let go before
 * ml_run_abort; SIGTERM cancels every run and waits for them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lab/runner.h"
#include "server/srv.h"

/* A job session outlives no run by more than this: a server that dies
 * mid-run leaves a session nobody holds the token of, expiring by itself.
 * A run longer than this ends interrupted (resumable). */
#define JOB_TTL "48 hours"

struct runjob {
	struct runjobs *owner;
	int64_t run_id;
	char hash_param[AUTH_HASH_HEX_LEN + 1]; /* the job session's token hash, as a bytea param */
	volatile sig_atomic_t cancel;
	pthread_t th;
	int thread_started;
	int holds;   /* a request reads this job: not freed until it lets go (mu) */
	int started; /* the runner reported START (the run is running) or ended */
	int ended;   /* runner_execute returned and the session was ended */
	struct runner_outcome out;
	struct runjob *next;
};

struct runjobs {
	struct srv *srv;
	unsigned max;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct runjob *list; /* every job whose thread has not been joined */
	unsigned active;     /* jobs not ended (reserved ones included) */
	int stopping;
};

int runjobs_new(struct srv *s, unsigned max, struct runjobs **out, struct ml_error *err)
{
	struct runjobs *j = calloc(1, sizeof(*j));
	if (!j)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	j->srv = s;
	j->max = max;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	*out = j;
	return ML_OK;
}

/* Join and free the ended jobs (mu held). */
static void reap(struct runjobs *js)
{
	for (struct runjob **pp = &js->list; *pp;) {
		struct runjob *j = *pp;
		if (j->ended && !j->holds) {
			*pp = j->next;
			if (j->thread_started)
				pthread_join(j->th, NULL);
			sodium_memzero(j->hash_param, sizeof(j->hash_param));
			free(j);
		} else {
			pp = &j->next;
		}
	}
}

static struct runjob *find(struct runjobs *js, int64_t run_id)
{
	for (struct runjob *j = js->list; j; j = j->next)
		if (j->run_id == run_id && !j->ended)
			return j;
	return NULL;
}

unsigned runjobs_active(struct runjobs *js)
{
	if (!js)
		return 0;
	pthread_mutex_lock(&js->mu);
	unsigned n = js->active;
	pthread_mutex_unlock(&js->mu);
	return n;
}

void runjobs_stats(struct runjobs *js, unsigned *max, unsigned *busy)
{
	*max = *busy = 0;
	if (!js)
		return;
	pthread_mutex_lock(&js->mu);
	*max = js->max;
	*busy = js->active;
	pthread_mutex_unlock(&js->mu);
}

static void mark_ended(struct runjob *j)
{
	struct runjobs *js = j->owner;
	pthread_mutex_lock(&js->mu);
	j->started = 1;
	j->ended = 1;
	js->active--;
	pthread_cond_broadcast(&js->cv);
	pthread_mutex_unlock(&js->mu);
}

/* The transaction hook of the runner's connection: act for the job's person. */
static int assume_job(struct db *db, void *arg, struct ml_error *err)
{
	const struct runjob *j = arg;
	const char *p[1] = { j->hash_param };
	return db_cmd(db, "SELECT ml_session_assume($1::bytea)", 1, p, err);
}

static int on_connect(void *arg, struct db *db, struct ml_error *err)
{
	(void)err;
	db_set_tx_hook(db, assume_job, arg);
	return ML_OK;
}

static void on_event(void *arg, const struct runner_event *ev)
{
	struct runjob *j = arg;
	if (ev->kind == RUNNER_EV_START) {
		struct runjobs *js = j->owner;
		pthread_mutex_lock(&js->mu);
		j->started = 1;
		pthread_cond_broadcast(&js->cv);
		pthread_mutex_unlock(&js->mu);
	}
	if (ev->kind == RUNNER_EV_RECONNECT || ev->kind == RUNNER_EV_ERROR) {
		char msg[ML_ERROR_MSG_MAX + 64];
		snprintf(msg, sizeof(msg), "run %" PRId64 ": %s", ev->run_id, ev->message);
		srv_log(j->owner->srv, ev->kind == RUNNER_EV_ERROR ? "run_error" : "run_reconnect",
			msg);
	}
}

/* The runner stopped: end the job session (its own connection: the runner's is closed). */
static void end_session(struct runjob *j)
{
	struct srv *s = j->owner->srv;
	char outcome[ML_ERROR_MSG_MAX + 64];
	snprintf(outcome, sizeof(outcome), "%s%s%s", j->out.status[0] ? j->out.status : "not run",
		 j->out.code ? ": " : "", j->out.code ? j->out.msg : "");
	struct ml_error e = ML_ERROR_INIT;
	int rc = ML_EDB;
	/* A database that is briefly away must not leave the session live: try a few times. */
	for (int attempt = 0; attempt < 5 && rc; attempt++) {
		struct db *db = NULL;
		rc = db_connect(s->cfg.conninfo, &db, &e);
		const char *p[2] = { j->hash_param, outcome };
		if (!rc)
			rc = db_cmd(db, "SELECT ml_run_job_end($1::bytea, $2)", 2, p, &e);
		db_close(db);
		if (rc) {
			struct timespec ts = { 1, 0 };
			nanosleep(&ts, NULL);
		}
	}
	char msg[2 * ML_ERROR_MSG_MAX + 128];
	if (rc)
		snprintf(msg, sizeof(msg),
			 "run %" PRId64 ": its job session could not be ended (it expires after "
			 "%s): %s",
			 j->run_id, JOB_TTL, e.msg);
	else
		snprintf(msg, sizeof(msg), "run %" PRId64 " stopped: %s", j->run_id, outcome);
	srv_log(s, rc ? "run_job_error" : "run_end", msg);
}

static void *job_main(void *arg)
{
	struct runjob *j = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	struct runner_options o;
	runner_options_default(&o);
	o.cancel = &j->cancel;
	o.on_event = on_event;
	o.event_arg = j;
	o.on_connect = on_connect;
	o.connect_arg = j;
	struct ml_error e = ML_ERROR_INIT;
	(void)!runner_execute(j->owner->srv->cfg.conninfo, j->run_id, &o, &j->out, &e);
	end_session(j);
	mark_ended(j);
	return NULL;
}

/* Remove a reserved job that never got a thread. */
static void unreserve(struct runjobs *js, struct runjob *j)
{
	pthread_mutex_lock(&js->mu);
	for (struct runjob **pp = &js->list; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	js->active--;
	pthread_cond_broadcast(&js->cv);
	pthread_mutex_unlock(&js->mu);
	sodium_memzero(j->hash_param, sizeof(j->hash_param));
	free(j);
}

/*
 * POST /api/runs/{id}/start (RF_SLOW | RF_NO_TX). In one transaction of the
 * person's session: run.execute (ml_api_enter, first, so every role meets
 * the same refusal whatever this server's capacity), this server's
 * capacity, and the job session (ml_run_job_begin), committed before the
 * runner's thread starts so its connection can assume it. Answers 202 once
 * the runner reports the run running (at most 10 s); a runner that fails
 * before that answers its error.
 */
int h_run_start(struct req *rq, struct ml_error *err)
{
	struct runjobs *js = rq->srv->jobs;
	int64_t run_id = strtoll(req_seg(rq, 0), NULL, 10);
	int rc = req_enter(rq, err);
	if (rc)
		return rc < 0 ? ML_OK : rc;
	/* refusals below leave the transaction open: the pool rolls it back */
	if (!js || !js->max) {
		req_error(rq, 503, "no_runner",
			  "this server executes no runs (start it with --runners N), or run "
			  "`meterlab run start ID` on the lab machine",
			  NULL);
		return ML_OK;
	}
	struct runjob *j = calloc(1, sizeof(*j));
	if (!j)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	j->owner = js;
	j->run_id = run_id;
	pthread_mutex_lock(&js->mu);
	reap(js);
	int other = find(js, run_id) != NULL;
	int full = js->active >= js->max, stopping = js->stopping;
	if (!other && !full && !stopping) {
		j->next = js->list;
		js->list = j;
		js->active++;
		j->holds = 1; /* this handler reads it until it answers */
	}
	unsigned max = js->max;
	pthread_mutex_unlock(&js->mu);
	if (other || full || stopping) {
		free(j);
		if (other)
			return ml_errorf(err, ML_ECONFLICT,
					 "run %" PRId64 " is being executed by this server",
					 run_id);
		char msg[200];
		if (stopping)
			snprintf(msg, sizeof(msg), "the server is stopping");
		else
			snprintf(msg, sizeof(msg),
				 "this server already executes %u run(s), its limit (--runners)",
				 max);
		req_header(rq, "Retry-After", "60");
		req_error(rq, 503, stopping ? "stopping" : "runner_busy", msg, NULL);
		return ML_OK;
	}
	char token[AUTH_TOKEN_TEXT_LEN + 1], id[24];
	unsigned char th[AUTH_TOKEN_HASH_BYTES];
	rc = auth_token_new(token, th, err);
	sodium_memzero(token, sizeof(token)); /* the hash is what the service presents */
	auth_hash_param(th, j->hash_param);
	sodium_memzero(th, sizeof(th));
	snprintf(id, sizeof(id), "%" PRId64, run_id);
	const char *p[3] = { id, j->hash_param, JOB_TTL };
	PGresult *res = NULL;
	if (!rc)
		rc = db_query_one(rq->db,
				  "SELECT ml_run_job_begin($1::bigint, $2::bytea, $3::interval)", 3,
				  p, &res, err);
	int64_t sid = rc ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	rc = db_finish(rq->db, rc, err);
	pool_put(rq->srv->pool, rq->db); /* not held while the runner starts */
	rq->db = NULL;
	if (rc) {
		unreserve(js, j);
		return rc;
	}
	pthread_mutex_lock(&js->mu);
	j->thread_started = !pthread_create(&j->th, NULL, job_main, j);
	pthread_mutex_unlock(&js->mu);
	if (!j->thread_started) {
		end_session(j); /* nothing was executed */
		unreserve(js, j);
		return ml_errorf(err, ML_EINTERNAL, "cannot start a runner thread for run %s", id);
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&js->mu);
	while (!j->started && pthread_cond_timedwait(&js->cv, &js->mu, &until) == 0)
		;
	int ended = j->ended, started = j->started;
	struct runner_outcome out = j->out;
	j->holds--;
	pthread_mutex_unlock(&js->mu);
	if (ended && out.code)
		return ml_errorf(err, out.code, "%s", out.msg);
	req_json(rq, 202,
		 json_pack("{s:I, s:s, s:I}", "run_id", (json_int_t)run_id, "status",
			   ended     ? out.status
			   : started ? "running"
				     : "starting",
			   "job_session_id", (json_int_t)sid));
	return ML_OK;
}

/*
 * Stop the run if this server executes it: cancel, then wait (up to
 * wait_s) until the runner has let go of the run and its session ended.
 * 0: not executed here; 1: stopped; -1: still stopping after wait_s.
 */
int runjobs_stop_run(struct runjobs *js, int64_t run_id, unsigned wait_s)
{
	if (!js)
		return 0;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_s;
	pthread_mutex_lock(&js->mu);
	struct runjob *j = find(js, run_id);
	int r = 0;
	if (j) {
		j->cancel = 1;
		j->holds++;
		while (!j->ended && pthread_cond_timedwait(&js->cv, &js->mu, &until) == 0)
			;
		j->holds--;
		r = j->ended ? 1 : -1;
	}
	pthread_mutex_unlock(&js->mu);
	return r;
}

/* Shutdown, first half: no new runs, every run cancelled (they end interrupted). */
void runjobs_cancel_all(struct runjobs *js)
{
	if (!js)
		return;
	pthread_mutex_lock(&js->mu);
	js->stopping = 1;
	for (struct runjob *j = js->list; j; j = j->next)
		j->cancel = 1;
	pthread_mutex_unlock(&js->mu);
}

/* Shutdown, second half: wait for every runner to end, then free everything. */
void runjobs_free(struct runjobs *js)
{
	if (!js)
		return;
	runjobs_cancel_all(js);
	pthread_mutex_lock(&js->mu);
	while (js->active)
		pthread_cond_wait(&js->cv, &js->mu);
	reap(js);
	pthread_mutex_unlock(&js->mu);
	pthread_mutex_destroy(&js->mu);
	pthread_cond_destroy(&js->cv);
	free(js);
}
