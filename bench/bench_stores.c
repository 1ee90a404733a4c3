/*
 * bench_stores — the warehouse's bulk operations on N barcodes (issue 11:
 * "a bulk operation on 10 000 barcodes finishes in about a second"):
 * put-away, pick, dispatch, receive, put-away at the destination, a store
 * count of a slot stream and its confirmation, each one library call
 * (stores/stores.h) through the database's functions, as people.
 *
 *   build/bench/bench_stores --db CONNINFO [--n 10000] [--reps 5]
 *
 * CONNINFO (key=value form) must be the DBA's, on a migrated database that
 * may already hold a registry (bench_gen --to N): the size is printed. The
 * bench adds the people "bench.clerk" (warehouse clerk, administrator) and
 * "bench.clerk2" (warehouse clerk: the count's second person) when missing.
 * Each repetition, the DBA writes N fresh verified assets (in_stock at
 * CENTRAL; only a run could verify them otherwise, as the tests do) and a
 * fresh destination store, then the clerks run the flow; 10 assets are left
 * out of the count, so the confirmation records 10 shortages. Rows stay
 * (history is append-only), so the bench can be re-run on the same database.
 * Prints the median seconds of each operation over the repetitions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assets/barcode.h"
#include "assets/registry.h"
#include "bench_time.h"
#include "sql/db.h"
#include "stores/stores.h"

enum {
	OP_PUTAWAY,
	OP_PICK,
	OP_DISPATCH,
	OP_RECEIVE,
	OP_PUTAWAY2,
	OP_COUNT,
	OP_CONFIRM,
	OP_N
};
static const char *const op_names[OP_N] = { "put-away",
					    "pick",
					    "dispatch",
					    "receive",
					    "put-away (destination)",
					    "count (store)",
					    "count confirm (10 shortages)" };

static const char *arg(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return def;
}

static int add_person(struct db *db, const char *login, const char *roles, struct ml_error *err)
{
	PGresult *res = NULL;
	const char *p[2] = { login, roles };
	int rc = db_query_one(db, "SELECT count(*) FROM app_user WHERE login = $1", 1, p, &res,
			      err);
	if (rc)
		return rc;
	int have = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (have)
		return ML_OK;
	return db_cmd(db, "SELECT ml_user_add($1, $1, $2::text[])", 2, p, err);
}

static int setup(struct db *dba, struct db *clerk, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(clerk, "SELECT 1 FROM device_model WHERE code = 'BENCH-S'", 0, NULL,
			 PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	int have = PQntuples(res) > 0;
	PQclear(res);
	if (have)
		return ML_OK;
	rc = asset_manufacturer_add(clerk, "BENCH-S", "bench manufacturer", err);
	if (rc && rc != ML_EEXISTS)
		return rc;
	struct asset_model m = { .code = "BENCH-S",
				 .manufacturer_code = "BENCH-S",
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
	rc = asset_model_add(clerk, &m, err);
	if (!rc)
		rc = db_cmd(
			dba,
			"INSERT INTO lot (code, model_id, received_by, file_sha256, row_count) "
			"SELECT 'BENCH-S', model_id, 'bench', repeat('5', 64), 0 FROM device_model "
			"WHERE code = 'BENCH-S'",
			0, NULL, err);
	return rc;
}

/* n fresh verified assets at CENTRAL from serial base; their barcodes into codes[]. */
static int fresh_stock(struct db *dba, unsigned long long base, long n, char (*bcs)[23],
		       struct ml_error *err)
{
	char b[24], nn[24];
	for (long i = 0; i < n; i++)
		if (barcode_make("41399", "07", base + (unsigned long long)i, bcs[i], err))
			return ML_EINVAL;
	snprintf(b, sizeof(b), "%llu", base);
	snprintf(nn, sizeof(nn), "%ld", n);
	const char *p[2] = { b, nn };
	return db_cmd(
		dba,
		"INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, state, "
		" location_id, valid_until, verified_at) "
		"SELECT x.b || ml_barcode_check_digit(x.b), m.model_id, l.lot_id, 'B', date '2026-01-01', "
		" 'in_stock', (SELECT location_id FROM location WHERE code = 'CENTRAL'), "
		" current_date + 3000, now() - interval '1 month' "
		"FROM generate_series(0, $2::bigint - 1) i, device_model m, lot l, "
		" LATERAL (SELECT '4139907' || lpad(($1::bigint + i)::text, 14, '0') AS b) x "
		"WHERE m.code = 'BENCH-S' AND l.code = 'BENCH-S'",
		2, p, err);
}

int main(int argc, char **argv)
{
	long n = atol(arg(argc, argv, "--n", "10000"));
	int reps = atoi(arg(argc, argv, "--reps", "5"));
	const char *ci = arg(argc, argv, "--db", getenv("METERLAB_DB"));
	if (n < 20 || n > 1000000 || reps < 1 || reps > 50 || !ci) {
		fprintf(stderr,
			"usage: bench_stores --db CONNINFO [--n N (10000)] [--reps R (5)]\n");
		return 2;
	}
	struct ml_error err = ML_ERROR_INIT;
	struct db *dba = NULL, *clerk = NULL, *clerk2 = NULL;
	char c1[1024], c2[1024];
	snprintf(c1, sizeof(c1), "%s user=bench.clerk", ci);
	snprintf(c2, sizeof(c2), "%s user=bench.clerk2", ci);
	char(*bcs)[23] = calloc((size_t)n, sizeof(*bcs));
	const char **scan = calloc((size_t)n + 1, sizeof(*scan));
	double t[OP_N][50];
	PGresult *res = NULL;
	int rc = bcs && scan ? ML_OK : ml_errorf(&err, ML_ENOMEM, "out of memory");
	if (!rc)
		rc = db_connect(ci, &dba, &err);
	if (!rc)
		rc = add_person(dba, "bench.clerk", "{warehouse_clerk,admin}", &err);
	if (!rc)
		rc = add_person(dba, "bench.clerk2", "{warehouse_clerk}", &err);
	if (!rc)
		rc = db_connect(c1, &clerk, &err);
	if (!rc)
		rc = db_connect(c2, &clerk2, &err);
	if (!rc)
		rc = setup(dba, clerk, &err);
	if (!rc)
		rc = db_query_one(
			dba,
			"SELECT count(*), pg_size_pretty(pg_database_size(current_database())) FROM asset",
			0, NULL, &res, &err);
	if (!rc) {
		printf("bench_stores: registry of %s assets (database %s), %ld barcodes per operation, %d reps\n",
		       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), n, reps);
		PQclear(res);
	}
	/* serials from the clock: fresh barcodes on every run of the bench */
	unsigned long long base = (unsigned long long)time(NULL) % 1000000ULL * 100000000ULL;
	for (int r = 0; r < reps && !rc; r++) {
		char store[32], slot[40], slot2[40];
		unsigned long long b0 = base + (unsigned long long)r * (unsigned long long)n;
		snprintf(store, sizeof(store), "BS-%llu", b0 % 100000000000ULL);
		snprintf(slot, sizeof(slot), "S-%s", store);
		snprintf(slot2, sizeof(slot2), "D-%s", store);
		const char *lp[2] = { store, NULL };
		rc = fresh_stock(dba, b0, n, bcs, &err);
		if (!rc)
			rc = db_cmd(
				dba,
				"INSERT INTO location (code, name, kind) VALUES ($1, $1, 'secondary_store')",
				1, lp, &err);
		if (!rc)
			rc = stock_slot_add(clerk, "CENTRAL", slot, "pallet", NULL, NULL, NULL,
					    &err);
		if (!rc)
			rc = stock_slot_add(clerk, store, slot2, "pallet", NULL, NULL, NULL, &err);
		if (rc)
			break;
		struct stock_scan_report rep = { 0 };
		struct order_receive_report rr = { 0 };
		struct stock_count_report cr = { 0 };
		struct order_line line = { .model = "BENCH-S", .quantity = (int)n };
		int64_t order = 0;
		size_t k = 0;
		scan[0] = slot;
		for (long i = 0; i < n; i++)
			scan[i + 1] = bcs[i];
		double t0 = now_s();
		rc = stock_putaway(clerk, scan, (size_t)n + 1, &rep, &err);
		t[OP_PUTAWAY][r] = now_s() - t0;
		stock_scan_report_free(&rep);
		if (!rc)
			rc = order_create(clerk, "CENTRAL", store, &line, 1, NULL, 0, NULL, &order,
					  &err);
		t0 = now_s();
		if (!rc)
			rc = order_pick(clerk, order, scan + 1, (size_t)n, &rep, &err);
		t[OP_PICK][r] = now_s() - t0;
		stock_scan_report_free(&rep);
		t0 = now_s();
		if (!rc)
			rc = order_dispatch(clerk, order, &k, &err);
		t[OP_DISPATCH][r] = now_s() - t0;
		t0 = now_s();
		if (!rc)
			rc = order_receive(clerk2, order, scan + 1, (size_t)n, &rr, &err);
		t[OP_RECEIVE][r] = now_s() - t0;
		if (!rc && rr.n[ORDER_RECEIVED] != (size_t)n)
			rc = ml_errorf(&err, ML_EINTERNAL, "received %zu of %ld",
				       rr.n[ORDER_RECEIVED], n);
		order_receive_report_free(&rr);
		if (!rc)
			rc = order_close(clerk2, order, NULL, 0, NULL, NULL, &err);
		scan[0] = slot2;
		t0 = now_s();
		if (!rc)
			rc = stock_putaway(clerk2, scan, (size_t)n + 1, &rep, &err);
		t[OP_PUTAWAY2][r] = now_s() - t0;
		stock_scan_report_free(&rep);
		t0 = now_s();
		if (!rc)
			rc = stock_count_submit(clerk, store, NULL, scan, (size_t)n + 1 - 10, &cr,
						&err);
		t[OP_COUNT][r] = now_s() - t0;
		if (!rc && cr.n[COUNT_SHORTAGE] != 10)
			rc = ml_errorf(&err, ML_EINTERNAL, "count found %zu shortages, expected 10",
				       cr.n[COUNT_SHORTAGE]);
		int64_t cid = cr.count_id;
		stock_count_report_free(&cr);
		t0 = now_s();
		if (!rc)
			rc = stock_count_confirm(clerk2, cid, "bench count", &k, &err);
		t[OP_CONFIRM][r] = now_s() - t0;
	}
	if (rc) {
		fprintf(stderr, "bench_stores: %s\n", err.msg);
	} else {
		for (int op = 0; op < OP_N; op++) {
			double v[50];
			memcpy(v, t[op], sizeof(double) * (size_t)reps);
			printf("  %-30s median %7.3f s  (%.0f barcodes/s)\n", op_names[op],
			       median(v, reps), (double)n / median(v, reps));
		}
	}
	free(bcs);
	free(scan);
	db_close(dba);
	db_close(clerk);
	db_close(clerk2);
	return rc ? 1 : 0;
}
