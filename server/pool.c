/*
 * pool.c — a fixed pool of database connections of the meterlab_service
 * login, each with the prepared-statement cache on (sql/db.h). A request
 * takes one for its transaction and gives it back; a connection that broke
 * is reset (and its statement cache forgotten) before it is handed out
 * again, so a database restart costs the requests in flight, not the server.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/srv.h"

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct db **all;
	struct db **idle; /* ring: the connection given back longest ago is taken first, so the
			   * COMMIT a GET sent without waiting has long been answered */
	unsigned size, nidle, head;
	unsigned long waits, timeouts, resets;
};

/* The service login must be the service: a person's login here would act as that person. */
static int check_conn(struct db *db, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_query_one(db,
			      "SELECT session_user::text = 'meterlab_service', "
			      "to_regproc('ml_api_enter') IS NOT NULL",
			      0, NULL, &res, err);
	if (rc)
		return rc;
	int svc = PQgetvalue(res, 0, 0)[0] == 't', mig = PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	if (!svc)
		return ml_errorf(err, ML_ECONFIG,
				 "the server must connect as the meterlab_service login (--db "
				 "'... user=meterlab_service'); it acts for people only through "
				 "their sessions");
	if (!mig)
		return ml_errorf(err, ML_ECONFIG,
				 "the database lacks the server's functions: run 'meterlab db "
				 "migrate' as the schema owner first");
	return ML_OK;
}

/* Statements every connection has prepared (the hot path of every request). */
static int prepare(struct db *db, struct ml_error *err)
{
	PGresult *r = PQprepare(
		db_conn(db), POOL_ENTER_STMT,
		"SELECT user_id, login, session_id, kind FROM ml_api_enter($1::bytea, $2)", 2,
		NULL);
	int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
	int rc = ok ? ML_OK : db_result_error(db, r, "preparing ml_api_enter", err);
	PQclear(r);
	return rc;
}

int pool_open(const char *conninfo, unsigned size, struct pool **out, struct ml_error *err)
{
	*out = NULL;
	struct pool *p = calloc(1, sizeof(*p));
	if (!p)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	p->all = calloc(size, sizeof(*p->all));
	p->idle = calloc(size, sizeof(*p->idle));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	int rc = p->all && p->idle ? ML_OK : ml_errorf(err, ML_ENOMEM, "out of memory");
	for (unsigned i = 0; !rc && i < size; i++) {
		rc = db_connect(conninfo, &p->all[i], err);
		if (!rc)
			p->size++; /* counted once open: pool_close closes it on any later failure */
		if (!rc)
			rc = i == 0 ? check_conn(p->all[i], err) : ML_OK;
		if (!rc)
			rc = prepare(p->all[i], err);
		if (!rc)
			rc = db_set_statement_cache(p->all[i], 1);
		if (!rc)
			p->idle[p->nidle++] = p->all[i];
	}
	if (rc) {
		pool_close(p);
		return rc;
	}
	*out = p;
	return ML_OK;
}

void pool_close(struct pool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->size; i++)
		db_close(p->all[i]);
	free(p->all);
	free(p->idle);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

struct db *pool_get(struct pool *p, unsigned wait_ms)
{
	pthread_mutex_lock(&p->mu);
	if (!p->nidle) {
		p->waits++;
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += wait_ms / 1000;
		dl.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		while (!p->nidle) {
			if (pthread_cond_timedwait(&p->cv, &p->mu, &dl)) {
				if (!p->nidle) {
					p->timeouts++;
					pthread_mutex_unlock(&p->mu);
					return NULL;
				}
			}
		}
	}
	struct db *db = p->idle[p->head];
	p->head = (p->head + 1) % p->size;
	p->nidle--;
	pthread_mutex_unlock(&p->mu);
	PGconn *c = db_conn(db);
	/* The result of a COMMIT sent without waiting (a GET's), if any. */
	PGresult *r;
	while (PQstatus(c) == CONNECTION_OK && (r = PQgetResult(c)) != NULL)
		PQclear(r);
	if (PQstatus(c) != CONNECTION_OK) {
		/* The server went away (restart, network): one reconnect attempt. */
		PQreset(c);
		db_statement_cache_reset(db);
		struct ml_error ignore = ML_ERROR_INIT;
		if (PQstatus(c) == CONNECTION_OK && prepare(db, &ignore))
			(void)0; /* the request using it will fail and say why */
		pthread_mutex_lock(&p->mu);
		p->resets++;
		pthread_mutex_unlock(&p->mu);
	}
	return db;
}

void pool_put(struct pool *p, struct db *db)
{
	if (!db)
		return;
	PGconn *c = db_conn(db);
	/* Left in a transaction (not a COMMIT on its way): roll it back. */
	if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE &&
	    PQtransactionStatus(c) != PQTRANS_ACTIVE)
		db_rollback(db);
	pthread_mutex_lock(&p->mu);
	p->idle[(p->head + p->nidle) % p->size] = db;
	p->nidle++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void pool_stats(struct pool *p, unsigned *size, unsigned *in_use, unsigned long *waits,
		unsigned long *timeouts, unsigned long *resets)
{
	pthread_mutex_lock(&p->mu);
	*size = p->size;
	*in_use = p->size - p->nidle;
	*waits = p->waits;
	*timeouts = p->timeouts;
	*resets = p->resets;
	pthread_mutex_unlock(&p->mu);
}
