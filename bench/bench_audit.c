/*
 * bench_audit.c — the cost of the tamper-evidence chain (migration 0140)
 * per history event, against the same inserts without the chain, in one run.
 *
 * Inserts into asset_event the way the lifecycle writes it (one statement
 * per move batch, like ml_asset_apply and the delivery import), in four
 * shapes: single events each in its own transaction (a move at the
 * counter), statements of 100, of 10 000 (a bulk move) and of 100 000 (a
 * delivery import). Each repetition runs every shape twice — with the
 * chain trigger enabled and disabled (ALTER TABLE … DISABLE TRIGGER, as the
 * owner) — alternating which goes first, so both see the same cluster
 * state. Reported: the median time per event of each, the ratio, and the
 * added microseconds per event; then the time audit_verify takes per
 * chained row.
 *
 * Needs a migrated scratch database and a role that may disable triggers
 * on asset_event (the owner or a superuser, as scripts/bench gives it):
 *   bench_audit --db CONNINFO [-r REPS] [--singles N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "bench_time.h"
#include "sql/db.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One statement of n events for assets first..first+n-1 (ml_asset_apply's shape). */
static int insert_events(struct db *db, long long first, long long n, struct ml_error *err)
{
	char a[24], b[24];
	snprintf(a, sizeof(a), "%lld", first);
	snprintf(b, sizeof(b), "%lld", first + n - 1);
	const char *p[2] = { a, b };
	return db_cmd(
		db,
		"INSERT INTO asset_event (asset_id, actor, actor_id, from_state, to_state, action, "
		"reason, details) SELECT g, 'bench', 1, 'arrived', 'verifying', 'verify_start', "
		"'bench', '{\"run_id\": 1}' FROM generate_series($1::bigint, $2::bigint) g",
		2, p, err);
}

static int set_chain(struct db *db, int on, struct ml_error *err)
{
	return db_cmd(db,
		      on ? "ALTER TABLE asset_event ENABLE TRIGGER asset_event_audit_insert"
			 : "ALTER TABLE asset_event DISABLE TRIGGER asset_event_audit_insert",
		      0, NULL, err);
}

enum {
	S_SINGLE,
	S_100,
	S_10K,
	S_100K,
	S_COUNT
};
static const char *const shape_name[S_COUNT] = { "1 per transaction", "100 per statement",
						 "10 000 per statement", "100 000 per statement" };
static const long long shape_rows[S_COUNT] = { 1, 100, 10000, 100000 };

/* Seconds per event for one shape; asset ids continue from *next. */
static int measure(struct db *db, int shape, int singles, long long *next, double *per_event,
		   struct ml_error *err)
{
	long long stmts = shape == S_SINGLE ? singles : 1, n = shape_rows[shape];
	double t0 = now();
	int rc = ML_OK;
	for (long long i = 0; i < stmts && !rc; i++) {
		rc = insert_events(db, *next, n, err);
		*next += n;
	}
	*per_event = (now() - t0) / (double)(stmts * n);
	return rc;
}

int main(int argc, char **argv)
{
	const char *ci = NULL;
	int reps = 5, singles = 2000;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			ci = argv[++i];
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--singles") && i + 1 < argc)
			singles = atoi(argv[++i]);
		else
			ci = NULL, i = argc;
	}
	if (!ci || reps < 1 || reps > 31 || singles < 10 || singles > 100000) {
		fprintf(stderr,
			"usage: bench_audit --db CONNINFO [-r REPS (1..31)] [--singles N]\n");
		return 2;
	}
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = NULL;
	double t[2][S_COUNT][31];
	long long next = 1;
	int rc = db_connect(ci, &db, &err);
	for (int k = 0; k < reps && !rc; k++) {
		for (int s = 0; s < S_COUNT && !rc; s++) {
			for (int j = 0; j < 2 && !rc; j++) {
				int on = (k + s + j) % 2; /* alternate which goes first */
				rc = set_chain(db, on, &err);
				if (!rc)
					rc = measure(db, s, singles, &next, &t[on][s][k], &err);
			}
		}
	}
	if (!rc)
		rc = set_chain(db, 1, &err);
	/* The rows inserted without the chain join it now, in one block (as the DBA
	 * would after a maintenance window), so that the verification below runs
	 * on an intact ledger. */
	if (!rc)
		rc = db_cmd(
			db,
			"DO $$ DECLARE k bigint[]; kb bytea; h bytea; BEGIN "
			"SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL TimeZone = 'UTC'; "
			"SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 1; "
			"SET LOCAL bytea_output = 'hex'; "
			"EXECUTE ml_audit_rows_sql('event_id', NULL, NULL, '(SELECT e.* FROM asset_event e "
			"LEFT JOIN (SELECT unnest(row_keys) AS k FROM audit_block WHERE chain = "
			"''asset_event'') c ON c.k = e.event_id WHERE c.k IS NULL)') INTO k, kb, h; "
			"PERFORM ml_audit_append_block('asset_event', k, kb, h); END $$",
			0, NULL, &err);
	if (rc) {
		fprintf(stderr, "bench_audit: %s\n", err.msg);
		db_close(db);
		return 1;
	}
	printf("asset_event inserts, medians of %d repetitions (%d single-event transactions per "
	       "repetition)\n",
	       reps, singles);
	printf("  %-22s %14s %14s %8s %14s\n", "shape", "chained µs/ev", "plain µs/ev", "ratio",
	       "added µs/ev");
	for (int s = 0; s < S_COUNT; s++) {
		double on = median(t[1][s], reps) * 1e6, off = median(t[0][s], reps) * 1e6;
		printf("  %-22s %14.2f %14.2f %8.3f %14.2f\n", shape_name[s], on, off, on / off,
		       on - off);
	}
	/* Verification: every row of every chain, against the rows inserted above. */
	db_close(db);
	db = NULL;
	char auditor[1024];
	snprintf(auditor, sizeof(auditor), "%s user=bench_auditor", ci);
	struct db *adm = NULL;
	rc = db_connect(ci, &adm, &err);
	if (!rc)
		rc = db_cmd(
			adm,
			"SELECT ml_user_add('bench_auditor', '基准审计', '{auditor}') WHERE NOT EXISTS "
			"(SELECT 1 FROM app_user WHERE login = 'bench_auditor')",
			0, NULL, &err);
	db_close(adm);
	double vt[31];
	long long rows = 0;
	for (int k = 0; k < 3 && !rc; k++) {
		struct audit_report r;
		rc = db_connect(auditor, &db, &err);
		double t0 = now();
		if (!rc)
			rc = audit_verify(db, NULL, &r, &err);
		vt[k] = now() - t0;
		if (!rc) {
			rows = 0;
			for (size_t i = 0; i < r.n; i++)
				rows += r.chains[i].rows;
			if (!r.ok)
				rc = ml_errorf(&err, ML_EINTERNAL, "the chain does not verify");
			audit_report_free(&r);
		}
		db_close(db);
		db = NULL;
	}
	if (rc) {
		fprintf(stderr, "bench_audit: %s\n", err.msg);
		return 1;
	}
	double v = median(vt, 3);
	printf("audit verify of %lld chained rows: %.2f s median of 3, %.2f µs per row\n", rows, v,
	       v / (double)rows * 1e6);
	return 0;
}
