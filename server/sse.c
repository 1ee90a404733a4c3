/*
 * sse.c — Server-Sent Events for live run progress.
 *
 * Source: the database announces run status changes and completed steps on
 * channel ml_run (triggers of 0250_server_auth.sql on verification_run and
 * run_step), at commit; one listener thread holds a connection that LISTENs
 * and fans every notification out to the streams that want it (one run, or
 * all runs for a bench board). The runner writes its tables as always and
 * knows nothing of this.
 *
 * Streams never block a daemon thread (tech-notes key fact 2): when a
 * stream has nothing to send, its reader suspends the connection and
 * returns 0; a new event or the heartbeat resumes it. Suspended connections
 * neither time out nor notice a client that left, so every stream gets a
 * comment line each heartbeat; a closed socket then fails the write and
 * the daemon frees the stream. Every minute (--sse-recheck) each stream's
 * session is checked again (ml_api_enter): a stream ends with its session
 * (logout, expiry, revocation, a disabled user). The check waits at most
 * SSE_RECHECK_LOCK_TIMEOUT for the session row: this thread serves every
 * stream.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/srv.h"

#define SSE_MAX_PENDING (256 * 1024) /* a client this far behind is dropped (it reconnects) */
/*
 * The re-check's wait for the session row (ml_api_enter moves the idle
 * clock: an UPDATE). A transaction of the same session that holds the row
 * (a request that moved the clock, a logout, a password change) must not
 * stall this thread, which fans out every event and heartbeat: past this
 * the stream counts as live until the next re-check.
 */
#define SSE_RECHECK_LOCK_TIMEOUT "50ms"
#define IDEM_PURGE_S 600 /* idempotency keys older than 24 hours are deleted this often */

struct sse_stream {
	struct sse_hub *hub;
	struct MHD_Connection *c;
	int64_t run_id; /* 0 = every run */
	char token_param[AUTH_HASH_HEX_LEN + 1];
	char perm[32];
	struct ml_buf pending;
	size_t off;
	int suspended;
	int closed;
	struct sse_stream *prev, *next;
};

struct sse_hub {
	struct srv *srv;
	pthread_mutex_t mu;
	struct sse_stream *head;
	unsigned count;
	pthread_t thr;
	int started;
	int stop;
	int wake[2];
	char *conninfo;
	unsigned heartbeat;
	unsigned recheck; /* seconds */
	unsigned long seq;
};

/* Caller holds h->mu. */
static void wake_stream(struct sse_stream *st)
{
	if (st->suspended) {
		st->suspended = 0;
		MHD_resume_connection(st->c);
	}
}

/* Queue text on one stream (caller holds the lock). */
static void push(struct sse_stream *st, const char *text, size_t n)
{
	if (st->closed)
		return;
	if (st->pending.len - st->off + n > SSE_MAX_PENDING ||
	    ml_buf_append(&st->pending, text, n)) {
		st->closed = 1; /* too slow a reader: end it, it will reconnect */
	}
	wake_stream(st);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct sse_stream *st = cls;
	struct sse_hub *h = st->hub;
	pthread_mutex_lock(&h->mu);
	size_t avail = st->pending.len - st->off;
	if (avail) {
		size_t n = avail < max ? avail : max;
		memcpy(buf, ml_buf_str(&st->pending) + st->off, n);
		st->off += n;
		if (st->off == st->pending.len) {
			ml_buf_reset(&st->pending);
			st->off = 0;
		}
		pthread_mutex_unlock(&h->mu);
		return (ssize_t)n;
	}
	if (st->closed) {
		pthread_mutex_unlock(&h->mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	st->suspended = 1;
	MHD_suspend_connection(st->c);
	pthread_mutex_unlock(&h->mu);
	return 0;
}

static void sse_free(void *cls)
{
	struct sse_stream *st = cls;
	struct sse_hub *h = st->hub;
	pthread_mutex_lock(&h->mu);
	if (st->prev)
		st->prev->next = st->next;
	else
		h->head = st->next;
	if (st->next)
		st->next->prev = st->prev;
	h->count--;
	pthread_mutex_unlock(&h->mu);
	ml_buf_free(&st->pending);
	free(st);
}

struct MHD_Response *sse_response(struct sse_hub *h, struct MHD_Connection *c, int64_t run_id,
				  const char *token_param, const char *perm,
				  struct sse_stream **stream)
{
	struct sse_stream *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->hub = h;
	st->c = c;
	st->run_id = run_id;
	snprintf(st->token_param, sizeof(st->token_param), "%s", token_param);
	snprintf(st->perm, sizeof(st->perm), "%s", perm ? perm : "");
	ml_buf_init(&st->pending, SSE_MAX_PENDING * 2);
	/* A reconnecting EventSource waits this long; then it refetches the run. */
	ml_buf_puts(&st->pending, "retry: 3000\n\n");
	if (ml_buf_failed(&st->pending)) {
		ml_buf_free(&st->pending);
		free(st);
		return NULL;
	}
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read,
								   st, sse_free);
	if (!r) {
		ml_buf_free(&st->pending);
		free(st);
		return NULL;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	pthread_mutex_lock(&h->mu);
	st->next = h->head;
	if (h->head)
		h->head->prev = st;
	h->head = st;
	h->count++;
	if (h->stop)
		st->closed = 1;
	pthread_mutex_unlock(&h->mu);
	if (stream)
		*stream = st;
	return r;
}

void sse_send(struct sse_hub *h, struct sse_stream *st, const char *text)
{
	pthread_mutex_lock(&h->mu);
	push(st, text, strlen(text));
	pthread_mutex_unlock(&h->mu);
}

unsigned sse_hub_streams(struct sse_hub *h)
{
	if (!h)
		return 0;
	pthread_mutex_lock(&h->mu);
	unsigned n = h->count;
	pthread_mutex_unlock(&h->mu);
	return n;
}

/* One notification payload to every stream that wants its run. */
static void broadcast(struct sse_hub *h, const char *payload)
{
	json_error_t je;
	json_t *j = json_loads(payload, 0, &je);
	json_int_t run = j ? json_integer_value(json_object_get(j, "run_id")) : 0;
	/* Re-encoded compactly: one line of data, whatever the trigger wrote. */
	char *data = run > 0 ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!data)
		return;
	payload = data;
	pthread_mutex_lock(&h->mu);
	char head[64];
	int hn = snprintf(head, sizeof(head), "id: %lu\nevent: run\ndata: ", ++h->seq);
	for (struct sse_stream *st = h->head; st; st = st->next) {
		if (st->run_id && st->run_id != run)
			continue;
		push(st, head, (size_t)hn);
		push(st, payload, strlen(payload));
		push(st, "\n\n", 2);
	}
	pthread_mutex_unlock(&h->mu);
	free(data);
}

static void to_all(struct sse_hub *h, const char *text)
{
	pthread_mutex_lock(&h->mu);
	for (struct sse_stream *st = h->head; st; st = st->next)
		push(st, text, strlen(text));
	pthread_mutex_unlock(&h->mu);
}

/*
 * End the streams whose session is no longer live (or no longer has the
 * permission). The tokens are copied under the lock; the database is asked
 * without it.
 */
static void recheck_sessions(struct sse_hub *h)
{
	struct item {
		struct sse_stream *st;
		char tp[AUTH_HASH_HEX_LEN + 1];
		char perm[32];
		int dead;
	} *items = NULL;
	size_t n = 0;
	pthread_mutex_lock(&h->mu);
	items = calloc(h->count ? h->count : 1, sizeof(*items));
	for (struct sse_stream *st = h->head; st && items; st = st->next) {
		if (st->closed)
			continue;
		items[n].st = st;
		memcpy(items[n].tp, st->token_param, sizeof(items[n].tp));
		memcpy(items[n].perm, st->perm, sizeof(items[n].perm));
		n++;
	}
	pthread_mutex_unlock(&h->mu);
	if (!items)
		return;
	struct db *db = n ? pool_get(h->srv->pool, 1000) : NULL;
	for (size_t i = 0; i < n && db; i++) {
		struct ml_error err = ML_ERROR_INIT;
		const char *p[2] = { items[i].tp, items[i].perm[0] ? items[i].perm : NULL };
		int rc = db_begin(db, &err);
		/* A lock_timeout (55P03) is ML_ECONFLICT, not ML_EPERM: the stream lives
		 * on and is checked again next time. */
		if (!rc)
			rc = db_cmd(db,
				    "SELECT set_config('lock_timeout', '" SSE_RECHECK_LOCK_TIMEOUT
				    "', true)",
				    0, NULL, &err);
		if (!rc)
			rc = db_cmd(db, "SELECT user_id FROM ml_api_enter($1::bytea, $2)", 2, p,
				    &err);
		db_rollback(db);
		items[i].dead = rc == ML_EPERM;
	}
	if (db)
		pool_put(h->srv->pool, db);
	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < n; i++) {
		if (!items[i].dead)
			continue;
		/* Still listed? (it may have ended meanwhile) */
		for (struct sse_stream *st = h->head; st; st = st->next) {
			if (st == items[i].st) {
				const char *bye =
					"event: end\ndata: {\"reason\":\"session ended\"}\n\n";
				push(st, bye, strlen(bye));
				st->closed = 1;
				wake_stream(st);
				break;
			}
		}
	}
	pthread_mutex_unlock(&h->mu);
	free(items);
}

/*
 * Delete the idempotency keys older than 24 hours (ml_idem_purge, 0250;
 * meterlab_service only, which the pool connects as). ml_idem_claim drops
 * an old key only when the same key comes back: without this, every
 * change's stored answer would stay for ever. Several servers may purge at
 * once: the DELETE is idempotent. A failure is logged and tried again at
 * the next turn.
 */
static void purge_idempotency(struct sse_hub *h)
{
	struct db *db = pool_get(h->srv->pool, 1000);
	if (!db)
		return;
	struct ml_error err = ML_ERROR_INIT;
	if (db_cmd(db, "SELECT ml_idem_purge()", 0, NULL, &err))
		srv_log(h->srv, "idempotency_purge", err.msg);
	pool_put(h->srv->pool, db);
}

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *listener(void *arg)
{
	struct sse_hub *h = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	PGconn *c = NULL;
	double next_beat = mono() + h->heartbeat, next_check = mono() + h->recheck;
	double next_purge = mono(); /* first at start: a restart catches up */
	int had_conn = 0;
	for (;;) {
		pthread_mutex_lock(&h->mu);
		int stop = h->stop;
		pthread_mutex_unlock(&h->mu);
		if (stop)
			break;
		if (!c || PQstatus(c) != CONNECTION_OK) {
			if (c)
				PQfinish(c);
			c = PQconnectdb(h->conninfo);
			PGresult *r = c && PQstatus(c) == CONNECTION_OK ? PQexec(c, "LISTEN ml_run")
									: NULL;
			int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
			PQclear(r);
			if (!ok) {
				PQfinish(c);
				c = NULL;
			} else if (had_conn) {
				/* Events may have been missed while the listener was away. */
				to_all(h, "event: resync\ndata: {}\n\n");
			}
			had_conn |= ok;
		}
		double now = mono();
		double next = next_beat < next_purge ? next_beat : next_purge;
		if (next_check < next)
			next = next_check;
		int wait_ms = (int)((next - now) * 1000);
		if (wait_ms < 0)
			wait_ms = 0;
		if (!c && wait_ms > 1000)
			wait_ms = 1000;
		struct pollfd pf[2] = { { h->wake[0], POLLIN, 0 },
					{ c ? PQsocket(c) : -1, POLLIN, 0 } };
		poll(pf, c ? 2 : 1, wait_ms);
		if (pf[0].revents & POLLIN) {
			char tmp[64];
			ssize_t rd = read(h->wake[0], tmp, sizeof(tmp));
			(void)rd;
		}
		if (c && (pf[1].revents & (POLLIN | POLLERR | POLLHUP))) {
			PQconsumeInput(c);
			PGnotify *nt;
			while ((nt = PQnotifies(c)) != NULL) {
				broadcast(h, nt->extra);
				PQfreemem(nt);
			}
		}
		now = mono();
		if (now >= next_beat) {
			to_all(h, ": ping\n\n");
			next_beat = now + h->heartbeat;
		}
		if (now >= next_check) {
			recheck_sessions(h);
			next_check = now + h->recheck;
		}
		if (now >= next_purge) {
			purge_idempotency(h);
			next_purge = mono() + IDEM_PURGE_S;
		}
	}
	if (c)
		PQfinish(c);
	return NULL;
}

int sse_hub_start(struct srv *s, const char *conninfo, unsigned heartbeat_s, struct sse_hub **out,
		  struct ml_error *err)
{
	*out = NULL;
	struct sse_hub *h = calloc(1, sizeof(*h));
	if (!h)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	h->srv = s;
	h->heartbeat = heartbeat_s ? heartbeat_s : 15;
	h->recheck = s->cfg.sse_recheck ? s->cfg.sse_recheck : 60;
	h->conninfo = strdup(conninfo ? conninfo : "");
	pthread_mutex_init(&h->mu, NULL);
	h->wake[0] = h->wake[1] = -1;
	if (!h->conninfo || pipe(h->wake)) {
		sse_hub_free(h);
		return ml_errorf(err, ML_ENOMEM, "cannot set up the event listener");
	}
	if (pthread_create(&h->thr, NULL, listener, h)) {
		sse_hub_free(h);
		return ml_errorf(err, ML_EINTERNAL, "cannot start the event listener thread");
	}
	h->started = 1;
	*out = h;
	return ML_OK;
}

void sse_hub_close_streams(struct sse_hub *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	for (struct sse_stream *st = h->head; st; st = st->next) {
		const char *bye = "event: end\ndata: {\"reason\":\"server shutting down\"}\n\n";
		push(st, bye, strlen(bye));
		st->closed = 1;
		wake_stream(st);
	}
	pthread_mutex_unlock(&h->mu);
	if (h->wake[1] >= 0) {
		ssize_t w = write(h->wake[1], "x", 1);
		(void)w;
	}
	if (h->started) {
		pthread_join(h->thr, NULL);
		h->started = 0;
	}
}

void sse_hub_free(struct sse_hub *h)
{
	if (!h)
		return;
	sse_hub_close_streams(h);
	if (h->wake[0] >= 0)
		close(h->wake[0]);
	if (h->wake[1] >= 0)
		close(h->wake[1]);
	pthread_mutex_destroy(&h->mu);
	free(h->conninfo);
	free(h);
}
