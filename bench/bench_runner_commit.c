/*
 * bench_runner_commit — result rows committed per second: the runner's
 * batched step commit (result_commit_step: one call of ml_run_record_step
 * with every reading and result as arrays, checked by the database and
 * stored with the step mark in one transaction, as the technician) versus
 * row by row (one parameterised INSERT per result row with its readings —
 * per reading and per result before 0349 stored readings in their result
 * row — same transaction per step, written directly by the DBA: the
 * unchecked floor), in the same run, alternating trials. TRIALS × STEPS
 * batched steps must fit the scheme (256 steps). A step = 48 positions × 2
 * readings (96 readings + 48 results, counted as 144 rows, the rows of the
 * run_reading view and run_step_result, + 1 mark), as a 48-position bench
 * produces per basic-error point.
 *
 * (The brief names this benchmark bench_result_commit; files of this part
 * are named bench_runner*, so it lives here under that prefix.)
 *
 * With STREAMS > 1 it then measures the batched commit from STREAMS
 * benches at once, as a lab runs them (lab/runner.c: one thread and one
 * connection per bench): STREAMS threads, each its own connection, bench,
 * 48 assets and run, each committing STEPS_PER_TRIAL steps; rows of all of
 * them over the wall time, TRIALS times, alternating with one stream alone
 * on the same kind of run, medians of both and their ratio; then the same
 * two grouped as the runner's writer groups the steps that wait for the
 * database (result_commit_steps, up to RESULT_GROUP_MAX steps a
 * transaction): here every step waits, so this is the saturated rate.
 *
 * usage: METERLAB_BENCH_PG='host=... user=postgres' bench_runner_commit [TRIALS] [STEPS_PER_TRIAL] [STREAMS]
 */
#include <pthread.h>

#include "bench_runner_setup.h"

#include "lab/decimal.h"
#include "lab/judge.h"
#include "lab/result.h"

#define NPOS 48
#define NREAD 2

#define NSTEPS 256 /* SCHEME_MAX_STEPS: the batched steps are steps of the run's scheme */
static char scheme_text[NSTEPS * 48 + 128];

struct step_data {
	struct plan_step ps;
	struct result_reading rd[NPOS * NREAD];
	struct result_row rows[NPOS];
};

static void fill(struct step_data *d, int step_no, const int64_t *asset_ids)
{
	memset(d, 0, sizeof(*d));
	d->ps.index = step_no;
	d->ps.kind = STEP_BASIC;
	snprintf(d->ps.label, sizeof(d->ps.label), "Ib cos=1.0 H #%d", step_no);
	int64_t now = result_now_us();
	for (int p = 0; p < NPOS; p++) {
		int64_t v[NREAD];
		for (int k = 0; k < NREAD; k++) {
			struct result_reading *x = &d->rd[p * NREAD + k];
			*x = (struct result_reading){ .asset_id = asset_ids[p],
						      .position = p + 1,
						      .reading_no = k + 1,
						      .value_e4 = -1700 + p + k,
						      .pulses = -1,
						      .at_us = now };
			v[k] = x->value_e4;
		}
		struct result_row *r = &d->rows[p];
		r->asset_id = asset_ids[p];
		r->position = p + 1;
		r->r.index = step_no;
		r->r.kind = STEP_BASIC;
		r->r.value.n = NREAD;
		/* what the judge would store: the database checks mean and rounding against the readings */
		int sign = 0;
		(void)!dec4_mean(v, NREAD, 1000, &r->r.value.mean_e4, &r->r.value.rounded_e4, &sign,
				 NULL);
		r->r.value.limit_e4 = 10000;
		r->r.value.internal_limit_e4 = 6000;
		r->r.value.interval_e4 = 1000;
		r->r.verdict = r->r.internal_verdict = JUDGE_PASS;
	}
}

static int64_t batched(struct db *db, int64_t run, struct step_data *d, const int64_t *ids,
		       int first, int steps)
{
	struct ml_error err = ML_ERROR_INIT;
	for (int s = 0; s < steps; s++) {
		fill(d, first + s, ids);
		if (result_commit_step(db, run, &d->ps, result_now_us(), d->rd, NPOS * NREAD,
				       d->rows, NPOS, &err))
			brs_die("batched commit", &err);
	}
	return (int64_t)steps * (NPOS * NREAD + NPOS + 1);
}

/*
 * The runner's writer when the database is behind (lab/runner.c): the steps
 * waiting in its queue, RESULT_GROUP_MAX at most, in one result_commit_steps
 * call. Here every step is ready at once, so every call takes the most: the
 * rate a saturated database reaches, not what a bench sees when it keeps up.
 * d holds RESULT_GROUP_MAX steps.
 */
static int64_t grouped(struct db *db, int64_t run, struct step_data *d, const int64_t *ids,
		       int first, int steps)
{
	struct ml_error err = ML_ERROR_INIT;
	struct result_step g[RESULT_GROUP_MAX];
	for (int s = 0; s < steps; s += RESULT_GROUP_MAX) {
		size_t n = 0;
		for (; n < RESULT_GROUP_MAX && s + (int)n < steps; n++) {
			fill(&d[n], first + s + (int)n, ids);
			g[n] = (struct result_step){ &d[n].ps,     result_now_us(), d[n].rd,
						     NPOS * NREAD, d[n].rows,       NPOS };
		}
		size_t done = 0;
		if (result_commit_steps(db, run, g, n, &done, &err) || done != n)
			brs_die("grouped commit", &err);
	}
	return (int64_t)steps * (NPOS * NREAD + NPOS + 1);
}

static void row_cmd(struct db *db, const char *sql, int n, const char *const *p)
{
	struct ml_error err = ML_ERROR_INIT;
	if (db_cmd(db, sql, n, p, &err))
		brs_die("row insert", &err);
}

static void one_step_rows(struct db *db, const char *rid, const struct step_data *d)
{
	char sno[16], a[24], pos[8], m[24];
	snprintf(sno, sizeof(sno), "%d", d->ps.index);
	const char *pm[3] = { rid, sno, d->ps.label };
	row_cmd(db,
		"INSERT INTO run_step (run_id, step_no, kind, label, started_at) VALUES ($1::bigint, $2::int, "
		"'basic', $3, now())",
		3, pm);
	/* one INSERT per result row, carrying its position's readings (0349:
	 * readings are stored in their result row) */
	_Static_assert(NREAD == 2, "the row-by-row INSERT spells out two readings per position");
	for (int i = 0; i < NPOS; i++) {
		const struct result_row *r = &d->rows[i];
		const struct result_reading *x = &d->rd[i * NREAD];
		char no[32], v[64];
		snprintf(a, sizeof(a), "%" PRId64, r->asset_id);
		snprintf(pos, sizeof(pos), "%d", r->position);
		snprintf(m, sizeof(m), "%" PRId64, r->r.value.mean_e4);
		snprintf(no, sizeof(no), "{%d,%d}", x[0].reading_no, x[1].reading_no);
		snprintf(v, sizeof(v), "{%" PRId64 ",%" PRId64 "}", x[0].value_e4, x[1].value_e4);
		const char *p[8] = { a, rid, sno, pos, d->ps.label, m, no, v };
		row_cmd(db,
			"INSERT INTO run_step_result (asset_id, run_id, step_no, position, kind, label, n_readings, "
			"mean_e4, rounded_e4, limit_e4, internal_limit_e4, interval_e4, verdict, internal_verdict, "
			"measured_at, reading_no, reading_value_e4, reading_value2_e4, reading_pulses, "
			"reading_bench_result, reading_at) VALUES ($1::bigint, $2::bigint, $3::int, $4::int, 'basic', "
			"$5, 2, $6::bigint, -2000, 10000, 6000, 1000, 'pass', 'pass', now(), $7::int[], $8::bigint[], "
			"'{NULL,NULL}', '{NULL,NULL}', '{0,0}', ARRAY[now(), now()])",
			8, p);
	}
}

static int64_t row_by_row(struct db *db, int64_t run, struct step_data *d, const int64_t *ids,
			  int first, int steps)
{
	struct ml_error err = ML_ERROR_INIT;
	char rid[24];
	snprintf(rid, sizeof(rid), "%" PRId64, run);
	for (int s = 0; s < steps; s++) {
		fill(d, first + s, ids);
		if (db_begin(db, &err))
			brs_die("begin", &err);
		one_step_rows(db, rid, d);
		if (db_commit(db, &err))
			brs_die("commit", &err);
	}
	return (int64_t)steps * (NPOS * NREAD + NPOS + 1);
}

/* The asset ids of barcodes bcs (positions in order). */
static void asset_ids(struct db *db, char (*bcs)[23], int64_t *ids)
{
	struct ml_error err = ML_ERROR_INIT;
	for (int i = 0; i < NPOS; i++) {
		PGresult *res = NULL;
		const char *p[1] = { bcs[i] };
		if (db_query_one(db, "SELECT asset_id FROM asset WHERE barcode = $1", 1, p, &res,
				 &err))
			brs_die("assets", &err);
		ids[i] = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
}

#define MAX_STREAMS 8

/* One bench of the concurrent phase: its own connection, run and assets. */
struct stream {
	struct db *db;
	int64_t run, ids[NPOS];
	int next; /* next step of its run */
	int steps;
	int group;           /* commit as grouped() instead of batched() */
	struct step_data *d; /* RESULT_GROUP_MAX steps */
};

static void *stream_main(void *arg)
{
	struct stream *st = arg;
	if (st->group)
		(void)grouped(st->db, st->run, st->d, st->ids, st->next, st->steps);
	else
		(void)batched(st->db, st->run, st->d, st->ids, st->next, st->steps);
	st->next += st->steps;
	return NULL;
}

/* Bench BENCH<k> with its own 48 assets and a running run of the COMMIT scheme. */
static void stream_setup(struct db *dba, const char *pci, int k, struct stream *st, int steps)
{
	struct ml_error err = ML_ERROR_INIT;
	struct bench_rec b;
	memset(&b, 0, sizeof(b));
	snprintf(b.code, sizeof(b.code), "BENCH%d", k);
	snprintf(b.name, sizeof(b.name), "bench %d", k);
	snprintf(b.uri, sizeof(b.uri), "tcp://127.0.0.1:1");
	snprintf(b.kind, sizeof(b.kind), "meter-1p");
	b.positions = NPOS;
	b.n_standards = 1;
	snprintf(b.standards[0], sizeof(b.standards[0]), "STD");
	if (db_connect(pci, &st->db, &err) || db_set_statement_cache(st->db, 1) ||
	    standard_bench_add(st->db, &b, NULL, &err))
		brs_die("stream bench", &err);
	char bcs[NPOS][23];
	brs_assets(dba, NPOS, 100000ULL * (unsigned long long)(k + 1), bcs);
	struct task_slot slots[NPOS];
	for (int i = 0; i < NPOS; i++) {
		slots[i].position = i + 1;
		memcpy(slots[i].barcode, bcs[i], 23);
	}
	struct task_spec spec;
	memset(&spec, 0, sizeof(spec));
	spec.bench_code = b.code;
	spec.scheme_code = "COMMIT";
	spec.slots = slots;
	spec.nslots = NPOS;
	if (task_create(st->db, &spec, &st->run, &err))
		brs_die("stream task", &err);
	char rid[24];
	snprintf(rid, sizeof(rid), "%" PRId64, st->run);
	const char *pr[1] = { rid };
	if (db_cmd(st->db, "SELECT ml_run_status($1::bigint, 'running')", 1, pr, &err))
		brs_die("stream status", &err);
	asset_ids(dba, bcs, st->ids);
	st->next = 0;
	st->steps = steps;
	st->d = malloc(RESULT_GROUP_MAX * sizeof(*st->d));
	if (!st->d)
		brs_die("out of memory", NULL);
}

/* Rows per second of n streams committing at once (wall time of the slowest). */
static double streams_round(struct stream *st, int n, int group)
{
	pthread_t th[MAX_STREAMS];
	for (int i = 0; i < n; i++)
		st[i].group = group;
	double t0 = now_s();
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, stream_main, &st[i]))
			brs_die("thread", NULL);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return (double)n * st[0].steps * (NPOS * NREAD + NPOS + 1) / (now_s() - t0);
}

int main(int argc, char **argv)
{
	int trials = argc > 1 ? atoi(argv[1]) : 5, steps = argc > 2 ? atoi(argv[2]) : 40,
	    nstreams = argc > 3 ? atoi(argv[3]) : 1;
	if (trials < 1 || trials > 50 || steps < 1 || steps > 1000 || nstreams < 1 ||
	    nstreams > MAX_STREAMS)
		return fprintf(stderr,
			       "usage: bench_runner_commit [TRIALS 1..50] [STEPS 1..1000] "
			       "[STREAMS 1..%d]\n",
			       MAX_STREAMS),
		       2;
	/* the streams' runs take their steps twice: one by one, then grouped */
	if (trials * steps * (nstreams > 1 ? 2 : 1) > NSTEPS)
		return fprintf(stderr,
			       "bench_runner_commit: TRIALS x STEPS (x 2 with STREAMS > 1) must be "
			       "at most %d\n",
			       NSTEPS),
		       2;
	int off = snprintf(scheme_text, sizeof(scheme_text),
			   "scheme code=COMMIT name=\"commit\"\n"
			   "suits kinds=meter_1p classes=1 connection=direct\n");
	for (int i = 0; i < NSTEPS; i++)
		off += snprintf(scheme_text + off, sizeof(scheme_text) - (size_t)off,
				"basic I=Ib pf=1.0 element=H readings=2\n");
	char name[64], ci[512], pci[600];
	snprintf(name, sizeof(name), "mlb_runner_commit_%d", (int)getpid());
	struct db *db = brs_fresh_db(name, ci, sizeof(ci));
	brs_person(db, ci, pci, sizeof(pci));
	brs_catalogue(db);
	brs_registry(pci, "tcp://127.0.0.1:1", NPOS, scheme_text);
	char bcs[NPOS][23];
	brs_assets(db, NPOS, 1000, bcs);
	struct db *pdb = NULL;
	struct ml_error err = ML_ERROR_INIT;
	/* prepared statements on the writing connection, as lab/runner.c's run connection */
	if (db_connect(pci, &pdb, &err) || db_set_statement_cache(pdb, 1))
		brs_die("connect", &err);
	int64_t run = brs_task(pdb, "COMMIT", NPOS, bcs), ids[NPOS];
	char rid[24];
	snprintf(rid, sizeof(rid), "%" PRId64, run);
	const char *pr[1] = { rid };
	if (db_cmd(pdb, "SELECT ml_run_status($1::bigint, 'running')", 1, pr, &err))
		brs_die("status", &err);
	asset_ids(db, bcs, ids);
	struct step_data *d = malloc(sizeof(*d));
	double rate_b[50], rate_r[50];
	int next_b = 0,
	    next_r = 1000; /* row-by-row steps are beyond the scheme: the DBA writes them */
	for (int t = 0; t < trials; t++) {
		double t0 = now_s();
		int64_t rows = batched(pdb, run, d, ids, next_b, steps);
		rate_b[t] = (double)rows / (now_s() - t0);
		next_b += steps;
		t0 = now_s();
		rows = row_by_row(db, run, d, ids, next_r, steps);
		rate_r[t] = (double)rows / (now_s() - t0);
		next_r += steps;
	}
	double mb = median(rate_b, trials), mr = median(rate_r, trials);
	double rate_1[50], rate_n[50], rate_g1[50], rate_gn[50];
	struct stream st[MAX_STREAMS + 1];
	if (nstreams > 1) {
		/* streams 0..n-1 together; stream n alone: runs that start alike */
		for (int k = 0; k <= nstreams; k++)
			stream_setup(db, pci, k + 2, &st[k], steps);
		for (int t = 0; t < trials; t++) {
			rate_1[t] = streams_round(&st[nstreams], 1, 0);
			rate_n[t] = streams_round(st, nstreams, 0);
			rate_g1[t] = streams_round(&st[nstreams], 1, 1);
			rate_gn[t] = streams_round(st, nstreams, 1);
		}
	}
	printf("bench_runner_commit: %d trials x %d steps x (%d readings + %d results + 1 mark) rows\n",
	       trials, steps, NPOS * NREAD, NPOS);
	printf("  batched (ml_run_record_step: arrays, checked)       median %.0f rows/s\n", mb);
	printf("  row by row (one INSERT per result, same transactions) median %.0f rows/s\n", mr);
	printf("  ratio batched / row-by-row                          %.1fx\n", mb / mr);
	if (nstreams > 1) {
		double m1 = median(rate_1, trials), mn = median(rate_n, trials);
		printf("  batched, one bench alone (own run)                  median %.0f rows/s\n",
		       m1);
		printf("  batched, %d benches at once (all rows / wall time)   median %.0f rows/s\n",
		       nstreams, mn);
		printf("  ratio %d benches / one                               %.2fx\n", nstreams,
		       mn / m1);
		double g1 = median(rate_g1, trials), gn = median(rate_gn, trials);
		printf("  grouped as the runner's writer when behind (up to %d steps a transaction):\n",
		       RESULT_GROUP_MAX);
		printf("  grouped, one bench alone (own run)                  median %.0f rows/s\n",
		       g1);
		printf("  grouped, %d benches at once (all rows / wall time)   median %.0f rows/s\n",
		       nstreams, gn);
		printf("  ratio grouped / one by one, %d benches at once       %.2fx\n", nstreams,
		       gn / mn);
		for (int k = 0; k <= nstreams; k++) {
			free(st[k].d);
			db_close(st[k].db);
		}
	}
	free(d);
	db_close(pdb);
	db_close(db);
	brs_drop_db(name);
	return 0;
}
