/*
 * bench_cert_issue.c — issuing throughput of the certificate workflow:
 * approve = lock drafts, allocate gap-free numbers, render, store PDF +
 * SHA-256, mark issued, commit (reports/cert_workflow.h).
 *
 * In one run, on N checked drafts of finished runs (made by the test helper
 * tests/data/reports/make_run.sql: meter certificates and notices), drafted
 * by a technician and checked by a checker, R repetitions of:
 *   single   N approvals, one transaction each, one renderer
 *   batch1   one approval of all N (one transaction), one renderer
 *   batch2   one approval of all N, two renderers (two threads)
 *   fresh    N approvals, each on a connection of its own, opened and
 *            closed around it (timed with it), and a new renderer: what
 *            each `meterlab cert approve` process pays, whose backend has
 *            read nothing yet and whose renderer has made no font program
 * The renderers of the other modes live through the whole benchmark, as
 * the server's do (cert_approve_threads keeps them): a document whose
 * characters a recent one used takes its embedded font program from the
 * renderer's cache (cert_render.c); how often is printed at the end.
 * Only the approve call is timed (drafting and checking are not). Medians
 * and ratios are printed; rates are per wall-clock second. Then where the
 * time went, per certificate (cert_approve_timed): the database's issue
 * begin (with the BEGIN: run checks, numbers, documents), rendering, and
 * the finish (the PDFs, the finish and the COMMIT in one round trip).
 *
 * The approver is a person (issue 8): the approval runs through the
 * database's issuing functions on that person's login (bench_approver).
 *
 * With --fill ROWS it then adds ROWS step results of other runs (the DBA,
 * one statement: half in this month's partition, half spread over every
 * month since 2024-01, as a lab's history grows), analyses, and measures
 * the same again: the issuing rate on a fresh and on a fuller database in
 * one run.
 *
 * Needs a migrated scratch database where it may add an issuer "BENCH",
 * people and runs (superuser, as scripts/bench gives it):
 * bench_cert_issue --db CONNINFO [-n N] [-r RUNS] [--fill ROWS] [--mode MODE]
 * (--mode: that mode alone, e.g. to profile its statements with
 * pg_stat_statements).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "reports/cert_doc.h"
#include "reports/cert_source.h"
#include "reports/cert_store.h"
#include "reports/cert_workflow.h"

enum {
	M_SINGLE,
	M_BATCH1,
	M_BATCH2,
	M_FRESH,
	M_COUNT
};
static const char *const mode_name[M_COUNT] = { "single", "batch1", "batch2", "fresh" };

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The issuer, the run maker and three people; the DBA's connection. */
static int setup(struct db *db, struct ml_error *err)
{
	FILE *f = fopen(ML_SOURCE_DIR "/tests/data/reports/make_run.sql", "rb");
	if (!f)
		return ml_errorf(err, ML_EIO, "cannot open %s",
				 ML_SOURCE_DIR "/tests/data/reports/make_run.sql");
	struct ml_buf sql = ML_BUF_INIT;
	char chunk[4096];
	size_t n;
	int rc = ML_OK;
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = ml_buf_append(&sql, chunk, n);
	fclose(f);
	PGresult *res = rc ? NULL
			   : PQexec(db_conn(db), ml_buf_str(&sql)); /* static file: a script */
	if (!rc && PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = db_result_error(db, res, "loading make_run.sql", err);
	PQclear(res);
	ml_buf_free(&sql);
	if (!rc)
		rc = db_cmd(
			db,
			"INSERT INTO issuer (id, name, authorization_no, number_prefix) "
			"VALUES ('BENCH', '基准测试计量中心', '(测)法计(2026)00000号', 'BENCH') "
			"ON CONFLICT (id) DO NOTHING",
			0, NULL, err);
	/* bench_operator ran the runs (their verifier, 0366; a run needs one, 0370) */
	static const char *const people[][3] = { { "bench_operator", "基准操作",
						   "{lab_technician}" },
						 { "bench_tech", "基准检定", "{lab_technician}" },
						 { "bench_checker", "基准核验", "{checker}" },
						 { "bench_approver", "基准批准", "{approver}" } };
	for (size_t i = 0; i < 4 && !rc; i++)
		rc = db_cmd(db,
			    "SELECT ml_user_add($1, $2, $3::text[]) WHERE NOT EXISTS "
			    "(SELECT 1 FROM app_user WHERE login = $1)",
			    3, people[i], err);
	return rc;
}

/* n checked drafts of a new run; ids into out (position order). */
static int make_drafts(struct db *dba, struct db *tech, struct db *checker, int n, unsigned seq,
		       long long *out, struct ml_error *err)
{
	char tag[32], cnt[16];
	snprintf(tag, sizeof(tag), "bench%u", seq);
	snprintf(cnt, sizeof(cnt), "%d", n);
	const char *p[2] = { tag, cnt };
	PGresult *res = NULL;
	int rc = db_query_one(dba, "SELECT wf_make_run($1, $2::int, $2::int / 4, 'bench_operator')",
			      2, p, &res, err);
	long long run = rc ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	long long *ids = NULL;
	size_t m = 0, created = 0;
	if (!rc)
		rc = cert_source_drafts(tech, run, "BENCH", &ids, &m, &created, err);
	if (!rc && m != (size_t)n)
		rc = ml_errorf(err, ML_EINTERNAL, "run %lld gave %zu drafts, not %d", run, m, n);
	for (size_t i = 0; !rc && i < m; i++)
		out[i] = ids[i];
	free(ids);
	return rc ? rc : cert_check(checker, out, (size_t)n, err);
}

/* conninfo of the same database as login (the bench's own cast). */
static int connect_as(const char *ci, const char *login, struct db **out, struct ml_error *err)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s user=%s", ci ? ci : "", login);
	return db_connect(buf, out, err);
}

static int timed_approve(const char *ci, struct db *db, int mode, const long long *ids, int n,
			 struct cert_renderer **r, double *secs, struct cert_issue_times *parts,
			 struct ml_error *err)
{
	struct cert_issue_opts o = { r, mode == M_BATCH2 ? 2 : 1 };
	double t0 = now();
	int rc = ML_OK;
	if (mode == M_FRESH) {
		/* as a new process: its own connection and a new renderer, which has
		 * made no font program yet (cert_render.c) */
		for (int i = 0; i < n && !rc; i++) {
			struct db *one = NULL;
			struct cert_renderer *nr = NULL;
			rc = connect_as(ci, "bench_approver", &one, err);
			if (!rc)
				rc = cert_renderer_new(NULL, &nr, err);
			struct cert_issue_opts fo = { &nr, 1 };
			if (!rc)
				rc = cert_approve_timed(one, &ids[i], 1, &fo, parts, err);
			cert_renderer_free(nr);
			db_close(one);
		}
	} else if (mode == M_SINGLE) {
		for (int i = 0; i < n && !rc; i++)
			rc = cert_approve_timed(db, &ids[i], 1, &o, parts, err);
	} else {
		rc = cert_approve_timed(db, ids, (size_t)n, &o, parts, err);
	}
	*secs = now() - t0;
	return rc;
}

/*
 * rows step results of runs that do not exist (run ids from 10^9), all
 * distinct keys, in one INSERT as the DBA. Results carry no foreign key;
 * the issuing check reads by run id, so these only make its indexes and
 * partitions as large as a lab's history makes them.
 */
static int fill_results(struct db *db, long rows, double *secs, struct ml_error *err)
{
	char nrows[24];
	snprintf(nrows, sizeof(nrows), "%ld", rows);
	const char *p[1] = { nrows };
	double t0 = now();
	int rc = db_cmd(
		db,
		"INSERT INTO run_step_result (asset_id, run_id, step_no, position, kind, label, "
		"n_readings, mean_e4, rounded_e4, limit_e4, internal_limit_e4, interval_e4, "
		"verdict, internal_verdict, measured_at) "
		"SELECT 1000000000 + g, 1000000000 + g / 480, (g / 48) % 10, g % 48 + 1, 'basic', "
		"'Ib cosφ=1.0 H', 2, -1700, -1700, 10000, 6000, 1000, 'pass', 'pass', "
		"CASE WHEN g % 2 = 0 THEN date_trunc('month', now()) + (now() - date_trunc('month', "
		"now())) * (g % 9973) / 9973.0 ELSE timestamptz '2024-01-01' + (now() - timestamptz "
		"'2024-01-01') * (g % 99991) / 99991.0 END "
		"FROM generate_series(1, $1::bigint) g",
		1, p, err);
	if (!rc)
		rc = db_cmd(db, "ANALYZE run_step_result", 0, NULL, err);
	*secs = now() - t0;
	return rc;
}

static int parse(int argc, char **argv, const char **ci, int *n, int *runs, long *fill, int *only)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			*ci = argv[++i];
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
			const char *m = argv[++i];
			*only = -2;
			for (int k = 0; k < M_COUNT; k++)
				if (!strcmp(m, mode_name[k]))
					*only = k;
		} else if (!strcmp(argv[i], "--fill") && i + 1 < argc)
			*fill = atol(argv[++i]);
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			*n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			*runs = atoi(argv[++i]);
		else
			return -1;
	}
	return *ci && *n >= 1 && *n <= 96 && *runs >= 1 && *runs <= 99 && *fill >= 0 &&
			       *fill <= 1000000000L && *only >= -1
		       ? 0
		       : -1;
}

int main(int argc, char **argv)
{
	const char *ci = NULL;
	int n = 24, runs = 3;
	long fill = 0;
	int only = -1; /* --mode: one mode alone, to profile its statements */
	if (parse(argc, argv, &ci, &n, &runs, &fill, &only)) {
		fprintf(stderr, "usage: bench_cert_issue --db CONNINFO [-n N (1..96, one run)] "
				"[-r RUNS (1..99)] [--fill ROWS] "
				"[--mode single|batch1|batch2|fresh]\n");
		return 2;
	}
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = NULL, *tech = NULL, *checker = NULL, *approver = NULL;
	struct cert_renderer *r[2] = { NULL, NULL };
	long long *ids = calloc((size_t)n, sizeof(*ids));
	double t[M_COUNT][99];
	int rc = ids ? db_connect(ci, &db, &err) : ML_ENOMEM;
	if (!rc)
		rc = setup(db, &err);
	if (!rc)
		rc = connect_as(ci, "bench_tech", &tech, &err);
	if (!rc)
		rc = connect_as(ci, "bench_checker", &checker, &err);
	if (!rc)
		rc = connect_as(ci, "bench_approver", &approver, &err);
	for (int i = 0; i < 2 && !rc; i++)
		rc = cert_renderer_new(NULL, &r[i], &err);
	unsigned seq = (unsigned)time(NULL) % 100000 * 100;
	for (int phase = 0; phase < (fill > 0 ? 2 : 1) && !rc; phase++) {
		double fill_secs = 0;
		struct cert_issue_times parts[M_COUNT];
		memset(parts, 0, sizeof(parts));
		if (phase == 1)
			rc = fill_results(db, fill, &fill_secs, &err);
		for (int k = 0; k < runs && !rc; k++) {
			for (int m = 0; m < M_COUNT && !rc; m++) {
				if (only >= 0 && m != only) {
					t[m][k] = 0;
					continue;
				}
				rc = make_drafts(db, tech, checker, n, seq++, ids, &err);
				if (!rc)
					rc = timed_approve(ci, approver, m, ids, n, r, &t[m][k],
							   &parts[m], &err);
			}
		}
		if (rc)
			break;
		double med[M_COUNT];
		if (phase == 1)
			printf("after adding %ld step results of other runs (%.1f s with ANALYZE):\n",
			       fill, fill_secs);
		printf("certificates issued per run: %d, runs: %d (medians)\n", n, runs);
		for (int m = 0; m < M_COUNT; m++) {
			med[m] = median(t[m], runs);
			if (only >= 0 && m != only)
				continue;
			printf("  %-7s %8.3f s  %7.1f certificates/s\n", mode_name[m], med[m],
			       n / med[m]);
		}
		if (only < 0)
			printf("  batch1 vs single: %.2fx   batch2 vs batch1: %.2fx   fresh/single time: %.2fx\n",
			       med[M_SINGLE] / med[M_BATCH1], med[M_BATCH1] / med[M_BATCH2],
			       med[M_FRESH] / med[M_SINGLE]);
		/* the wall time of each part of cert_approve, per certificate (means over all runs) */
		printf("  per certificate, ms (fresh: without connecting): begin (BEGIN, checks, "
		       "numbers, documents) / render / finish (store PDFs, finish, COMMIT)\n");
		for (int m = 0; m < M_COUNT; m++) {
			if (only >= 0 && m != only)
				continue;
			double k = 1e3 / ((double)runs * n);
			printf("  %-7s %5.2f / %5.2f / %5.2f\n", mode_name[m], parts[m].begin * k,
			       parts[m].render * k, parts[m].finish * k);
		}
	}
	for (int i = 0; i < 2 && !rc; i++) {
		unsigned long hits = 0, made = 0;
		cert_renderer_font_stats(r[i], &hits, &made);
		printf("renderer %d: font program found in its cache %lu times, made %lu times\n",
		       i + 1, hits, made);
	}
	if (rc)
		fprintf(stderr, "bench_cert_issue: %s\n", err.msg);
	cert_renderer_free(r[0]);
	cert_renderer_free(r[1]);
	db_close(approver);
	db_close(checker);
	db_close(tech);
	db_close(db);
	free(ids);
	return rc ? 1 : 0;
}
