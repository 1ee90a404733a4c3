/*
 * bench_history — the history design's trade-off, measured (issue 10,
 * sql/README.md "Partitioning"): asset_event partitioned by ranges of
 * asset_id (migration 0171) against the same rows partitioned by month
 * (the design of 0002), on the registry the database holds.
 *
 *   bench_history [--db CONNINFO] [--reps R (7)] [--assets N (200)] [--keep]
 *
 * It copies asset_event into asset_event_by_month_copy (monthly partitions
 * 2024-01 .. 2035-12 + default, key (asset_id, occurred_at, event_id), BRIN
 * on occurred_at: 0002's layout), in time order, then measures, alternating
 * the two tables in every round (paired), medians with ranges:
 *   per-asset   the history query of `asset show` for N random assets, on a
 *               warm connection, and on a new connection (a new backend's
 *               first read of the table: opening the partitions);
 *   one day     count(*) of the events of the busiest day;
 *   one month   count(*) of the events of the busiest month;
 * and prints each table's size. Retention (what DETACH PARTITION can take
 * away) is a property of the key, described in sql/README.md. The copy is
 * dropped at the end unless --keep.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "sql/db.h"

static const char *const copy_sql[] = {
	"CREATE TABLE asset_event_by_month_copy (LIKE asset_event INCLUDING DEFAULTS) "
	"PARTITION BY RANGE (occurred_at)",
	"DO $$ DECLARE m date := date '2024-01-01'; BEGIN WHILE m < date '2036-01-01' LOOP "
	"EXECUTE format('CREATE TABLE %I PARTITION OF asset_event_by_month_copy FOR VALUES FROM (%L) TO (%L)', "
	"'asset_event_bmc_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date); "
	"m := (m + interval '1 month')::date; END LOOP; END $$",
	"CREATE TABLE asset_event_bmc_default PARTITION OF asset_event_by_month_copy DEFAULT",
	"INSERT INTO asset_event_by_month_copy SELECT * FROM asset_event ORDER BY occurred_at, event_id",
	"ALTER TABLE asset_event_by_month_copy ADD PRIMARY KEY (asset_id, occurred_at, event_id)",
	"CREATE INDEX ON asset_event_by_month_copy USING brin (occurred_at)",
	"ANALYZE asset_event_by_month_copy",
	NULL,
};

/* The history query of asset_history() (assets/catalogue.c) on table t. */
static void history_sql(char *out, size_t n, const char *t)
{
	snprintf(
		out, n,
		"SELECT e.event_id, to_char(e.occurred_at, 'YYYY-MM-DD HH24:MI:SS TZ') AS occurred_at, "
		"e.actor, l.code AS location, e.from_state, e.to_state, e.action, e.reason, "
		"e.details::text AS details FROM %s e LEFT JOIN location l ON l.location_id = e.location_id "
		"WHERE e.asset_id = $1::bigint ORDER BY e.occurred_at, e.event_id",
		t);
}

static int timed(struct db *db, const char *sql, int np, const char *const *p, double *ms,
		 long long *rows, struct ml_error *err)
{
	PGresult *res = NULL;
	double t0 = now_ms();
	int rc = db_exec(db, sql, np, p, PGRES_TUPLES_OK, &res, err);
	*ms = now_ms() - t0;
	if (!rc && rows)
		*rows = PQntuples(res) == 1 && PQnfields(res) == 1 ? atoll(PQgetvalue(res, 0, 0))
								   : PQntuples(res);
	PQclear(res);
	return rc;
}

int main(int argc, char **argv)
{
	const char *conninfo = NULL;
	int reps = 7, nassets = 200, keep = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			conninfo = argv[++i];
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--assets") && i + 1 < argc)
			nassets = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--keep"))
			keep = 1;
		else {
			fprintf(stderr, "usage: bench_history [--db CONNINFO] [--reps R] "
					"[--assets N] [--keep]\n");
			return 2;
		}
	}
	if (reps < 1 || nassets < 1)
		return 2;
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = NULL;
	int rc = db_connect(conninfo, &db, &err);
	PGresult *res = NULL;
	double t0 = now_ms();
	if (!rc)
		rc = db_cmd(db, "DROP TABLE IF EXISTS asset_event_by_month_copy", 0, NULL, &err);
	for (int i = 0; copy_sql[i] && !rc; i++)
		rc = db_cmd(db, copy_sql[i], 0, NULL, &err);
	double t_copy = now_ms() - t0;
	/* the busiest day and month, and N random assets (fixed seed) */
	char day[16] = "", month[16] = "";
	if (!rc)
		rc = db_query_one(
			db,
			"SELECT to_char(d, 'YYYY-MM-DD'), to_char(date_trunc('month', d), 'YYYY-MM-DD') FROM ("
			"SELECT occurred_at::date AS d, count(*) FROM asset_event GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1) s",
			0, NULL, &res, &err);
	if (!rc) {
		snprintf(day, sizeof(day), "%s", PQgetvalue(res, 0, 0));
		snprintf(month, sizeof(month), "%s", PQgetvalue(res, 0, 1));
		PQclear(res);
	}
	char **ids = calloc((size_t)nassets, sizeof(char *));
	int nids = 0;
	if (!rc)
		rc = db_exec(db, "SELECT setseed(0.42)", 0, NULL, PGRES_TUPLES_OK, NULL, &err);
	char nas[24];
	snprintf(nas, sizeof(nas), "%d", nassets);
	const char *pn[1] = { nas };
	if (!rc)
		rc = db_exec(
			db,
			"SELECT 1 + floor(random() * (SELECT max(asset_id) FROM asset))::bigint "
			"FROM generate_series(1, $1::integer)",
			1, pn, PGRES_TUPLES_OK, &res, &err);
	if (!rc) {
		nids = PQntuples(res);
		for (int i = 0; i < nids; i++)
			ids[i] = strdup(PQgetvalue(res, i, 0));
		PQclear(res);
	}
	static const char *const tables[2] = { "asset_event", "asset_event_by_month_copy" };
	static const char *const names[2] = { "by asset_id range (0171)",
					      "by month (0002 layout)" };
	double *warm[2], *cold[2], *dayt[2], *mont[2];
	long long dayrows[2] = { 0, 0 }, monrows[2] = { 0, 0 };
	for (int k = 0; k < 2; k++) {
		warm[k] = calloc((size_t)nids + 1, sizeof(double));
		cold[k] = calloc((size_t)nids + 1, sizeof(double));
		dayt[k] = calloc((size_t)reps, sizeof(double));
		mont[k] = calloc((size_t)reps, sizeof(double));
	}
	char hsql[2][1024], dsql[2][256], msql[2][256];
	for (int k = 0; k < 2; k++) {
		history_sql(hsql[k], sizeof(hsql[k]), tables[k]);
		snprintf(
			dsql[k], sizeof(dsql[k]),
			"SELECT count(*) FROM %s WHERE occurred_at >= $1::date AND occurred_at < $1::date + 1",
			tables[k]);
		snprintf(msql[k], sizeof(msql[k]),
			 "SELECT count(*) FROM %s WHERE occurred_at >= $1::date "
			 "AND occurred_at < ($1::date + interval '1 month')",
			 tables[k]);
	}
	/* per-asset reads: each asset on both tables, the order alternating */
	for (int i = 0; i < nids && !rc; i++) {
		const char *p[1] = { ids[i] };
		for (int j = 0; j < 2 && !rc; j++) {
			int k = (i + j) % 2;
			rc = timed(db, hsql[k], 1, p, &warm[k][i], NULL, &err);
			/* a new connection: the backend's first read of the table */
			struct db *c2 = NULL;
			if (!rc)
				rc = db_connect(conninfo, &c2, &err);
			if (!rc)
				rc = timed(c2, hsql[k], 1, p, &cold[k][i], NULL, &err);
			db_close(c2);
		}
	}
	const char *pd[1] = { day }, *pm[1] = { month };
	for (int r = 0; r < reps && !rc; r++) {
		for (int j = 0; j < 2 && !rc; j++) {
			int k = (r + j) % 2;
			rc = timed(db, dsql[k], 1, pd, &dayt[k][r], &dayrows[k], &err);
			if (!rc)
				rc = timed(db, msql[k], 1, pm, &mont[k][r], &monrows[k], &err);
		}
	}
	if (!rc) {
		printf("bench_history: %d assets, %d rounds; busiest day %s, its month %s; copy made in %.1f s\n",
		       nids, reps, day, month, t_copy / 1e3);
		printf("  %-26s %22s %22s %26s %26s %12s\n", "asset_event partitioned",
		       "per-asset warm p50", "per-asset new conn p50", "one day (count)",
		       "one month (count)", "size");
		for (int k = 0; k < 2; k++) {
			char szq[256];
			snprintf(
				szq, sizeof(szq),
				"SELECT pg_size_pretty(sum(pg_total_relation_size(relid))) || ' / ' || "
				"count(*) - 1 || ' parts' FROM pg_partition_tree('%s')",
				tables[k]);
			char size[64] = "?";
			if (!db_query_one(db, szq, 0, NULL, &res, &err)) {
				snprintf(size, sizeof(size), "%s", PQgetvalue(res, 0, 0));
				PQclear(res);
			}
			double wm = median(warm[k], nids), cm = median(cold[k], nids);
			double dm = median(dayt[k], reps), mm = median(mont[k], reps);
			printf("  %-26s %9.2f ms (%5.2f–%6.2f) %9.2f ms (%5.2f–%6.2f) %8.1f ms (%6.1f–%6.1f) %7lld %8.1f ms "
			       "(%6.1f–%6.1f) %8lld  %s\n",
			       names[k], wm, warm[k][0], warm[k][nids - 1], cm, cold[k][0],
			       cold[k][nids - 1], dm, dayt[k][0], dayt[k][reps - 1], dayrows[k], mm,
			       mont[k][0], mont[k][reps - 1], monrows[k], size);
		}
		printf("  ratio month-partitioned / asset-range: per-asset warm %.1fx, new connection %.1fx; "
		       "one day %.2fx, one month %.2fx\n",
		       median(warm[1], nids) / median(warm[0], nids),
		       median(cold[1], nids) / median(cold[0], nids),
		       median(dayt[1], reps) / median(dayt[0], reps),
		       median(mont[1], reps) / median(mont[0], reps));
	}
	if (!keep && db &&
	    db_cmd(db, "DROP TABLE IF EXISTS asset_event_by_month_copy", 0, NULL, &err))
		fprintf(stderr, "bench_history: dropping the copy: %s\n", err.msg);
	if (rc)
		fprintf(stderr, "bench_history: %s\n", err.msg);
	for (int i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	for (int k = 0; k < 2; k++) {
		free(warm[k]);
		free(cold[k]);
		free(dayt[k]);
		free(mont[k]);
	}
	db_close(db);
	return rc ? 6 : 0;
}
