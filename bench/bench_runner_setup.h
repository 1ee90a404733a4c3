/*
 * bench_runner_setup.h — shared setup of the runner benchmarks: a fresh
 * database on the cluster named by METERLAB_BENCH_PG (or METERLAB_TEST_PG),
 * migrated, with the demo model (class 1, 220 V 5(60) A, 1200 imp/kWh),
 * a reference standard, a bench and a scheme. Header-only (static
 * functions) because every bench/bench_*.c is its own executable.
 */
#ifndef ML_BENCH_RUNNER_SETUP_H
#define ML_BENCH_RUNNER_SETUP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "assets/barcode.h"
#include "lab/scheme.h"
#include "lab/standard.h"
#include "lab/task.h"
#include "sql/db.h"

#include "bench_time.h"

static void brs_die(const char *what, const struct ml_error *err)
{
	fprintf(stderr, "bench: %s: %s\n", what, err ? err->msg : "");
	exit(1);
}

static void brs_sql(struct db *db, const char *sql)
{
	struct ml_error err = ML_ERROR_INIT;
	if (db_cmd(db, sql, 0, NULL, &err))
		brs_die(sql, &err);
}

/* Create and migrate database `name`; *ci receives its conninfo (static buffer of the caller). */
static struct db *brs_fresh_db(const char *name, char *ci, size_t cap)
{
	const char *admin = getenv("METERLAB_BENCH_PG");
	if (!admin || !*admin)
		admin = getenv("METERLAB_TEST_PG");
	if (!admin || !*admin) {
		fprintf(stderr,
			"bench: set METERLAB_BENCH_PG (admin conninfo of a PostgreSQL cluster, e.g. from "
			"scripts/dev-pg start)\n");
		exit(2);
	}
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = NULL;
	if (db_connect(admin, &db, &err))
		brs_die("connect", &err);
	char sql[256];
	/* The name is built by the program from a fixed prefix and the pid: no outside input. */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\"", name);
	brs_sql(db, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
	brs_sql(db, sql);
	db_close(db);
	snprintf(ci, cap, "%s dbname=%s", admin, name);
	if (db_connect(ci, &db, &err) || db_migrate(db, NULL, 0, NULL, &err))
		brs_die("migrate", &err);
	return db;
}

/*
 * The person the benchmarks act as (issue 8: every write of truth names an
 * authenticated user with the right roles): "bench.person", lab technician,
 * approver and administrator, added by the DBA (db) when missing. *out
 * receives dba_ci with user=bench.person.
 */
static void brs_person(struct db *db, const char *dba_ci, char *out, size_t cap)
{
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = NULL;
	if (db_query_one(db, "SELECT count(*) FROM app_user WHERE login = 'bench.person'", 0, NULL,
			 &res, &err))
		brs_die("person", &err);
	int have = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!have)
		brs_sql(db, "SELECT ml_user_add('bench.person', '基准测试员', "
			    "'{lab_technician,approver,admin}')");
	snprintf(out, cap, "%s user=bench.person", dba_ci);
}

static void brs_drop_db(const char *name)
{
	/* ML_BENCH_KEEP_DB=1 leaves the database for a look afterwards (EXPLAIN, profiling). */
	const char *keep = getenv("ML_BENCH_KEEP_DB");
	if (keep && !strcmp(keep, "1")) {
		fprintf(stderr, "bench: database %s kept (ML_BENCH_KEEP_DB=1)\n", name);
		return;
	}
	const char *admin = getenv("METERLAB_BENCH_PG");
	if (!admin || !*admin)
		admin = getenv("METERLAB_TEST_PG");
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = NULL;
	if (db_connect(admin, &db, &err))
		return;
	char sql[256];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\"", name);
	(void)!db_cmd(db, sql, 0, NULL, &err);
	db_close(db);
}

static void brs_catalogue(struct db *db)
{
	brs_sql(db, "INSERT INTO manufacturer (code, name) VALUES ('HX', 'bench maker')");
	brs_sql(db,
		"INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, connection, wiring, un_v, "
		"ib_a, imax_a, constant_imp, verification_period_months) SELECT 'DDZY285-Z', manufacturer_id, 'meter', "
		"'meter_1p', '1', 'direct', '1p2w', 220, 5, 60, 1200, 96 FROM manufacturer");
	brs_sql(db,
		"INSERT INTO lot (code, model_id, received_by, file_sha256, row_count) SELECT 'LOT-BENCH', model_id, "
		"'bench', encode(sha256('bench'), 'hex'), 0 FROM device_model");
}

/* n assets with serials first..first+n-1; barcodes into bcs[n][23]. */
static void brs_assets(struct db *db, int n, unsigned long long first, char (*bcs)[23])
{
	struct ml_error err = ML_ERROR_INIT;
	for (int i = 0; i < n; i++) {
		if (barcode_make("41300", "01", first + (unsigned long long)i, bcs[i], &err))
			brs_die("barcode", &err);
		const char *p[1] = { bcs[i] };
		if (db_cmd(db,
			   "INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date) "
			   "SELECT $1, model_id, lot_id, 'B', date '2026-09-01' FROM lot",
			   1, p, &err))
			brs_die("asset", &err);
	}
}

/* Standard, bench and the ACTIVE scheme, written by the person (ci) through the functions. */
static void brs_registry(const char *ci, const char *bench_uri, int positions,
			 const char *scheme_text)
{
	struct db *db = NULL;
	struct ml_error err = ML_ERROR_INIT;
	if (db_connect(ci, &db, &err))
		brs_die("connect", &err);
	struct standard_rec s;
	memset(&s, 0, sizeof(s));
	snprintf(s.code, sizeof(s.code), "STD");
	snprintf(s.name, sizeof(s.name), "standard meter");
	snprintf(s.accuracy_class, sizeof(s.accuracy_class), "0.05");
	snprintf(s.cert.cert_no, sizeof(s.cert.cert_no), "CAL-1");
	snprintf(s.cert.issuer, sizeof(s.cert.issuer), "institute");
	snprintf(s.cert.valid_from, sizeof(s.cert.valid_from), "2020-01-01");
	snprintf(s.cert.valid_until, sizeof(s.cert.valid_until), "2099-12-31");
	if (standard_add(db, &s, NULL, &err))
		brs_die("standard", &err);
	struct bench_rec b;
	memset(&b, 0, sizeof(b));
	snprintf(b.code, sizeof(b.code), "BENCH");
	snprintf(b.name, sizeof(b.name), "bench");
	snprintf(b.uri, sizeof(b.uri), "%s", bench_uri);
	snprintf(b.kind, sizeof(b.kind), "meter-1p");
	b.positions = positions;
	b.n_standards = 1;
	snprintf(b.standards[0], sizeof(b.standards[0]), "STD");
	if (standard_bench_add(db, &b, NULL, &err))
		brs_die("bench", &err);
	struct scheme *sch = NULL;
	if (scheme_parse_text(scheme_text, &sch, &err) || scheme_db_save(db, sch, &err) ||
	    scheme_db_activate(db, sch->code, sch->version, NULL, &err))
		brs_die("scheme", &err);
	scheme_free(sch);
	db_close(db);
}

static int64_t brs_task(struct db *db, const char *scheme, int n, char (*bcs)[23])
{
	struct task_slot slots[96];
	for (int i = 0; i < n; i++) {
		slots[i].position = i + 1;
		memcpy(slots[i].barcode, bcs[i], 23);
	}
	struct task_spec spec;
	memset(&spec, 0, sizeof(spec));
	spec.bench_code = "BENCH";
	spec.scheme_code = scheme;
	spec.slots = slots;
	spec.nslots = (size_t)n;
	struct ml_error err = ML_ERROR_INIT;
	int64_t id = 0;
	if (task_create(db, &spec, &id, &err))
		brs_die("task", &err);
	return id;
}

#endif
