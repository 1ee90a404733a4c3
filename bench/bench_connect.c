/*
 * bench_connect: what every CLI command pays before its own SQL — a new
 * connection (libpq's startup, authentication, a backend forked by the
 * server) and its first statement. Each round opens connections three ways,
 * the order rotating from round to round:
 *
 *   db_connect  db_connect (sql/db.c) + `SELECT 1`: what a command does now.
 *               (The statement goes by PQexec in all three ways, so that
 *               only the connection's set-up differs.)
 *   with SET    libpq connect + `SET client_min_messages = warning` +
 *               `SELECT 1`: what db_connect did until Session 24, when the
 *               SET gave way to a client-side notice receiver.
 *   bare        libpq connect + `SELECT 1`, no receiver: the floor.
 *
 * Prints the median over the rounds of each way's whole time, of its
 * connect and of its statements after connect, and db_connect / with SET.
 *   bench_connect [--db CONNINFO] [--rounds N (300)]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql/db.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum {
	WAY_DB,
	WAY_SET,
	WAY_BARE,
	NWAYS
};
static const char *const way_name[NWAYS] = { "db_connect", "with SET", "bare" };

/* One connection the given way; its connect and statement times in µs. */
static int one(const char *conninfo, int way, double *conn_us, double *stmt_us)
{
	double t0 = now_us(), t1;
	int ok;
	if (way == WAY_DB) {
		struct db *db = NULL;
		struct ml_error err = ML_ERROR_INIT;
		if (db_connect(conninfo, &db, &err)) {
			fprintf(stderr, "bench_connect: %s\n", err.msg);
			return -1;
		}
		t1 = now_us();
		/* the same statement as the other ways, by the simple protocol */
		PGresult *r = PQexec(db_conn(db), "SELECT 1");
		ok = PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
		db_close(db);
	} else {
		PGconn *c = PQconnectdb(conninfo);
		if (PQstatus(c) != CONNECTION_OK) {
			fprintf(stderr, "bench_connect: %s", PQerrorMessage(c));
			PQfinish(c);
			return -1;
		}
		t1 = now_us();
		ok = 1;
		if (way == WAY_SET) {
			PGresult *r = PQexec(c, "SET client_min_messages = warning");
			ok = PQresultStatus(r) == PGRES_COMMAND_OK;
			PQclear(r);
		}
		PGresult *r = PQexec(c, "SELECT 1");
		ok = ok && PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
		PQfinish(c);
	}
	*conn_us = t1 - t0;
	*stmt_us = now_us() - t1;
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *conninfo = NULL;
	int rounds = 300;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			conninfo = argv[++i];
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench_connect [--db CONNINFO] [--rounds N]\n");
			return 2;
		}
	}
	if (rounds < 1) {
		fprintf(stderr, "bench_connect: --rounds must be at least 1\n");
		return 2;
	}
	if (!conninfo)
		conninfo = getenv("METERLAB_DB") ? getenv("METERLAB_DB") : "";
	double *v = calloc((size_t)rounds * NWAYS * 3, sizeof(double));
	if (!v)
		return 1;
	/* v[(way * 3 + k) * rounds + r]: k 0 whole, 1 connect, 2 statements */
	for (int r = 0; r < rounds; r++)
		for (int j = 0; j < NWAYS; j++) {
			int way = (r + j) % NWAYS;
			double c, s;
			if (one(conninfo, way, &c, &s)) {
				free(v);
				return 1;
			}
			v[(way * 3 + 0) * rounds + r] = c + s;
			v[(way * 3 + 1) * rounds + r] = c;
			v[(way * 3 + 2) * rounds + r] = s;
		}
	double m[NWAYS][3];
	printf("bench_connect: %d rounds, medians in ms\n", rounds);
	printf("  %-12s %8s %8s %12s\n", "", "whole", "connect", "statements");
	for (int w = 0; w < NWAYS; w++) {
		for (int k = 0; k < 3; k++)
			m[w][k] = median(v + (size_t)(w * 3 + k) * rounds, rounds);
		printf("  %-12s %8.2f %8.2f %12.3f\n", way_name[w], m[w][0] / 1e3, m[w][1] / 1e3,
		       m[w][2] / 1e3);
	}
	printf("  db_connect / with SET: whole %.3f, statements %.2f\n",
	       m[WAY_DB][0] / m[WAY_SET][0], m[WAY_DB][2] / m[WAY_SET][2]);
	free(v);
	return 0;
}
