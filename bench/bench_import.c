/*
 * bench_import — delivery import throughput: asset_receive (COPY into a
 * staging table, set-based checks, INSERT … SELECT) versus the naive way
 * (one INSERT per asset and per event, all in one transaction).
 *
 *   METERLAB_DB='host=… dbname=…' build/bench/bench_import [--db CONNINFO]
 *       [--rows N (100000)] [--reps R (5)] [--naive-rows M (5000)]
 *
 * The database must be migrated (meterlab db migrate) and CONNINFO (key=value
 * form) must be the DBA's: the bench adds the person "bench.clerk" (warehouse
 * clerk and administrator) when missing and imports as that person through
 * the database's functions (issue 8), while the naive way writes directly as
 * the DBA. It creates a manufacturer/model "BENCH" if missing and imports
 * each repetition into a fresh lot with fresh barcodes (serials from the
 * current time), so it can be re-run on the same database; the rows stay
 * (history is append-only).
 * Prints the median rows/s of each method and their ratio, same run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assets/barcode.h"
#include "assets/registry.h"
#include "bench_time.h"
#include "common/buf.h"
#include "sql/db.h"

static int ensure_model(struct db *db, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(db, "SELECT 1 FROM device_model WHERE code = 'BENCH'", 0, NULL,
			 PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	int have = PQntuples(res) > 0;
	PQclear(res);
	if (have)
		return ML_OK;
	rc = asset_manufacturer_add(db, "BENCH", "bench manufacturer", err);
	if (rc && rc != ML_EEXISTS)
		return rc;
	struct asset_model m = { .code = "BENCH",
				 .manufacturer_code = "BENCH",
				 .name = "bench meter",
				 .kind = "meter_1p",
				 .accuracy_class = "1",
				 .connection = "direct",
				 .wiring = "1p2w",
				 .un_v = "220",
				 .ib_a = "5",
				 .imax_a = "60",
				 .constant_imp = "1200",
				 .verification_period_months = "96" };
	return asset_model_add(db, &m, err);
}

/* n rows of fresh valid barcodes starting at serial base. */
static int make_csv(struct ml_buf *b, unsigned long long base, long n)
{
	char bc[23];
	int rc = ml_buf_puts(b, "barcode,model_code,production_batch,production_date\n");
	for (long i = 0; i < n && !rc; i++) {
		rc = barcode_make("41300", "01", base + (unsigned long long)i, bc, NULL);
		if (!rc)
			rc = ml_buf_printf(b, "%s,BENCH,B%ld,2026-09-14\n", bc, i / 1000);
	}
	return rc;
}

static int run_copy(struct db *db, unsigned long long base, long n, int rep, double *secs,
		    struct ml_error *err)
{
	struct ml_buf b = ML_BUF_INIT;
	if (make_csv(&b, base, n)) {
		ml_buf_free(&b);
		return ml_errorf(err, ML_ENOMEM, "cannot build the CSV");
	}
	char lot[64];
	snprintf(lot, sizeof(lot), "BENCH-%llu-%d", base, rep);
	struct asset_receive_opts o = { .lot_code = lot };
	struct asset_import_report r;
	double t0 = now_s();
	int rc = asset_receive(db, &o, ml_buf_str(&b), b.len, &r, err);
	*secs = now_s() - t0;
	if (!rc && r.rows != (size_t)n)
		rc = ml_errorf(err, ML_EINTERNAL, "imported %zu rows, expected %ld", r.rows, n);
	asset_import_report_free(&r);
	ml_buf_free(&b);
	return rc;
}

/* The naive import: one INSERT per asset and one per event, one transaction. */
static int run_naive(struct db *db, unsigned long long base, long n, int rep, double *secs,
		     struct ml_error *err)
{
	char lot[64], sha[65], bc[23], id[24];
	snprintf(lot, sizeof(lot), "NAIVE-%llu-%d", base, rep);
	snprintf(sha, sizeof(sha), "%064llx", base * 100 + (unsigned long long)rep);
	double t0 = now_s();
	int rc = db_begin(db, err);
	PGresult *res = NULL;
	const char *lp[2] = { lot, sha };
	if (!rc)
		rc = db_query_one(db,
				  "INSERT INTO lot (code, file_sha256, row_count, received_by) "
				  "VALUES ($1, $2, 0, 'bench') RETURNING lot_id",
				  2, lp, &res, err);
	if (!rc) {
		snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	for (long i = 0; i < n && !rc; i++) {
		rc = barcode_make("41300", "01", base + (unsigned long long)i, bc, err);
		const char *p[2] = { bc, id };
		if (!rc)
			rc = db_query_one(
				db,
				"INSERT INTO asset (barcode, model_id, lot_id, production_batch, "
				"production_date, location_id) SELECT $1, model_id, $2::bigint, 'B', "
				"'2026-09-14', 1 FROM device_model WHERE code = 'BENCH' RETURNING asset_id",
				2, p, &res, err);
		if (rc)
			break;
		const char *ep[1] = { PQgetvalue(res, 0, 0) };
		rc = db_cmd(
			db,
			"INSERT INTO asset_event (asset_id, actor, location_id, to_state, action) "
			"VALUES ($1::bigint, 'bench', 1, 'arrived', 'receive')",
			1, ep, err);
		PQclear(res);
	}
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	*secs = now_s() - t0;
	return rc;
}

static const char *arg(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	}
	return def;
}

int main(int argc, char **argv)
{
	long n = atol(arg(argc, argv, "--rows", "100000"));
	int reps = atoi(arg(argc, argv, "--reps", "5"));
	long naive_n = atol(arg(argc, argv, "--naive-rows", "5000"));
	if (n < 1 || reps < 1 || reps > 50 || naive_n < 1) {
		fprintf(stderr,
			"usage: bench_import [--db CONNINFO] [--rows N] [--reps R] [--naive-rows M]\n");
		return 2;
	}
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = NULL, *clerk = NULL;
	const char *ci = arg(argc, argv, "--db", getenv("METERLAB_DB"));
	char pci[1024];
	snprintf(pci, sizeof(pci), "%s user=bench.clerk", ci ? ci : "");
	PGresult *res = NULL;
	int bad = db_connect(ci, &db, &err) ||
		  db_query_one(db, "SELECT count(*) FROM app_user WHERE login = 'bench.clerk'", 0,
			       NULL, &res, &err);
	if (!bad && atoi(PQgetvalue(res, 0, 0)) == 0)
		bad = db_cmd(
			db,
			"SELECT ml_user_add('bench.clerk', '基准库管员', '{warehouse_clerk,admin}')",
			0, NULL, &err);
	PQclear(res);
	if (bad || db_connect(pci, &clerk, &err) || ensure_model(clerk, &err)) {
		fprintf(stderr, "bench_import: %s\n", err.msg);
		db_close(db);
		db_close(clerk);
		return 1;
	}
	/* serials from the clock: fresh barcodes on every run of the bench */
	unsigned long long base = ((unsigned long long)time(NULL) % 100000ULL) * 100000000ULL;
	double tc[50], tn[50];
	int rc = 0;
	for (int r = 0; r < reps && !rc; r++) {
		rc = run_copy(clerk, base + (unsigned long long)r * 1000000ULL, n, r, &tc[r], &err);
		if (!rc)
			rc = run_naive(db, base + 60000000ULL + (unsigned long long)r * 1000000ULL,
				       naive_n, r, &tn[r], &err);
		if (!rc)
			printf("rep %d: copy %ld rows in %.3f s, naive %ld rows in %.3f s\n", r + 1,
			       n, tc[r], naive_n, tn[r]);
	}
	db_close(db);
	db_close(clerk);
	if (rc) {
		fprintf(stderr, "bench_import: %s\n", err.msg);
		return 1;
	}
	double rc_rate = (double)n / median(tc, reps), rn_rate = (double)naive_n / median(tn, reps);
	printf("asset_receive (COPY+staging): median %.0f rows/s over %d reps of %ld rows\n",
	       rc_rate, reps, n);
	printf("row-by-row inserts, one tx:   median %.0f rows/s over %d reps of %ld rows\n",
	       rn_rate, reps, naive_n);
	printf("ratio: %.1fx\n", rc_rate / rn_rate);
	return 0;
}
