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

#include "bench_time.h"
#include "sql/db.h"

enum {
	WAY_DB,
	WAY_SET,
	WAY_BARE,
	NWAYS
};
static const char *const way_name[NWAYS] = { "db_connect", "with SET", "bare" };

/* One connection the given way; its connect and statement times in ms. */
static int one(const char *conninfo, int way, double *conn_ms, double *stmt_ms)
{
	double t0 = now_ms(), t1;
	int ok;
	if (way == WAY_DB) {
		struct db *db = NULL;
		struct ml_error err = ML_ERROR_INIT;
		if (db_connect(conninfo, &db, &err)) {
			fprintf(stderr, "bench_connect: %s\n", err.msg);
			return -1;
		}
		t1 = now_ms();
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
		t1 = now_ms();
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
	*conn_ms = t1 - t0;
	*stmt_ms = now_ms() - t1;
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
		printf("  %-12s %8.2f %8.2f %12.3f\n", way_name[w], m[w][0], m[w][1], m[w][2]);
	}
	printf("  db_connect / with SET: whole %.3f, statements %.2f\n",
	       m[WAY_DB][0] / m[WAY_SET][0], m[WAY_DB][2] / m[WAY_SET][2]);
	free(v);
	return 0;
}
