/*
 * bench_cert_issue.c — issuing throughput of the certificate workflow:
 * approve = lock drafts, allocate gap-free numbers, render, store PDF +
 * SHA-256, mark issued, commit (reports/cert_workflow.h).
 *
 * In one run, on the same kind of N checked drafts (reports/render_sample.c
 * content: meter certificates, notices, CT certificates), R repetitions of:
 *   single   N approvals, one transaction each, one renderer
 *   batch1   one approval of all N (one transaction), one renderer
 *   batch2   one approval of all N, two renderers (two threads)
 * Only the approve call is timed (drafting and checking are not). Medians
 * and ratios are printed; rates are per wall-clock second.
 *
 * Needs a migrated scratch database where it may add an issuer "BENCH"
 * (owner or superuser): bench_cert_issue [--db CONNINFO] [-n N] [-r RUNS].
 * Without --db, METERLAB_DB / PG* variables are used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reports/cert_doc.h"
#include "reports/cert_store.h"
#include "reports/cert_workflow.h"
#include "reports/render_sample.h"

enum {
	M_SINGLE,
	M_BATCH1,
	M_BATCH2,
	M_COUNT
};
static const char *const mode_name[M_COUNT] = { "single", "batch1", "batch2" };

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int setup_issuer(struct db *db, struct ml_error *err)
{
	return db_cmd(
		db,
		"INSERT INTO issuer (id, name, authorization_no, number_prefix, verify_key) "
		"VALUES ('BENCH', '基准测试计量中心', '(测)法计(2026)00000号', 'BENCH', repeat('b', 40)) "
		"ON CONFLICT (id) DO NOTHING",
		0, NULL, err);
}

/* n checked drafts with sample content; ids into out. */
static int make_drafts(struct db *db, int n, unsigned seq0, long long *out, struct ml_error *err)
{
	static const enum cert_sample_kind kinds[] = { CERT_SAMPLE_METER, CERT_SAMPLE_METER,
						       CERT_SAMPLE_METER_NOTICE, CERT_SAMPLE_CT };
	struct cert_sample *s = malloc(sizeof(*s));
	if (!s)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	int rc = ML_OK;
	for (int i = 0; i < n && !rc; i++) {
		cert_sample_fill(s, kinds[i % 4], seq0 + (unsigned)i);
		/* asset ids far above real ones; the bench issuer keeps numbers apart */
		rc = cert_draft_create(db, 900000000000LL + seq0 + i, 0, "BENCH", &s->doc,
				       "bench-verifier", &out[i], err);
	}
	free(s);
	return rc ? rc : cert_check(db, out, (size_t)n, "bench-checker", err);
}

static int timed_approve(struct db *db, int mode, const long long *ids, int n,
			 struct cert_renderer **r, double *secs, struct ml_error *err)
{
	struct cert_issue_opts o = { "2026-11-26", r, mode == M_BATCH2 ? 2 : 1 };
	double t0 = now();
	int rc = ML_OK;
	if (mode == M_SINGLE) {
		for (int i = 0; i < n && !rc; i++)
			rc = cert_approve(db, &ids[i], 1, "bench-approver", &o, err);
	} else {
		rc = cert_approve(db, ids, (size_t)n, "bench-approver", &o, err);
	}
	*secs = now() - t0;
	return rc;
}

static int parse(int argc, char **argv, const char **ci, int *n, int *runs)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			*ci = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			*n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			*runs = atoi(argv[++i]);
		else
			return -1;
	}
	return *n >= 1 && *n <= 10000 && *runs >= 1 && *runs <= 99 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *ci = NULL;
	int n = 24, runs = 3;
	if (parse(argc, argv, &ci, &n, &runs)) {
		fprintf(stderr,
			"usage: bench_cert_issue [--db CONNINFO] [-n N (1..10000)] [-r RUNS (1..99)]\n");
		return 2;
	}
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = NULL;
	struct cert_renderer *r[2] = { NULL, NULL };
	long long *ids = calloc((size_t)n, sizeof(*ids));
	double t[M_COUNT][99];
	int rc = ids ? db_connect(ci, &db, &err) : ML_ENOMEM;
	if (!rc)
		rc = setup_issuer(db, &err);
	for (int i = 0; i < 2 && !rc; i++)
		rc = cert_renderer_new(NULL, &r[i], &err);
	unsigned seq = (unsigned)time(NULL) % 100000 * 1000;
	for (int k = 0; k < runs && !rc; k++) {
		for (int m = 0; m < M_COUNT && !rc; m++) {
			rc = make_drafts(db, n, seq, ids, &err);
			seq += (unsigned)n;
			if (!rc)
				rc = timed_approve(db, m, ids, n, r, &t[m][k], &err);
		}
	}
	if (rc) {
		fprintf(stderr, "bench_cert_issue: %s\n", err.msg);
	} else {
		double med[M_COUNT];
		printf("certificates issued per run: %d, runs: %d (medians)\n", n, runs);
		for (int m = 0; m < M_COUNT; m++) {
			med[m] = median(t[m], runs);
			printf("  %-7s %8.3f s  %7.1f certificates/s\n", mode_name[m], med[m],
			       n / med[m]);
		}
		printf("  batch1 vs single: %.2fx   batch2 vs batch1: %.2fx\n",
		       med[M_SINGLE] / med[M_BATCH1], med[M_BATCH1] / med[M_BATCH2]);
	}
	cert_renderer_free(r[0]);
	cert_renderer_free(r[1]);
	db_close(db);
	free(ids);
	return rc ? 1 : 0;
}
