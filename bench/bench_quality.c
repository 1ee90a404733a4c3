/*
 * bench_quality — the quality aggregates (issue 14) at province scale.
 *
 *   bench_quality --db CONNINFO [--results N (10000000)] [--reps R (5)] [--measure-only]
 *
 * Generate: on a registry grown by bench_gen (issue 10: assets, lots and a
 * lifecycle history with verify_start/verify_pass/verify_fail events in
 * bench runs of 24, installs, removals, fault reports), this adds what the
 * lab would have written for those verifications, at COPY speed, until the
 * result table holds N rows: one verification_run per bench run (40
 * benches, two reference standards), run_position, 12 run_step_result rows
 * per meter (creep, start, eight basic load points, constant, clock;
 * errors drawn per maker with its own bias and spread, deterministic),
 * run_conclusion (five items and the overall verdict, which follows the
 * event: a verify_fail meter fails one load point). It continues after the
 * verifications it already wrote, so it can be run again. Then, once, the
 * field records the fault rates read (installations, fault reports),
 * derived from the lifecycle's install/remove/fault_report events.
 *
 * Measure: every aggregate of migration 0270 behind `meterlab quality
 * report` and `quality alerts`, over three periods (the last month, the last
 * twelve months, everything), plus the whole report (load + PDF render),
 * the alerts (load + exact tests) and a standard's recall list over a year.
 * The calls run round-robin, R rounds, so a burst of load on this shared
 * machine hits all of them alike; each figure is the median of R (min–max),
 * measured at the client on a warm connection.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "common/buf.h"
#include "quality/alerts.h"
#include "quality/quality.h"
#include "quality/trace.h"
#include "reports/quality_render.h"
#include "sql/db.h"

static uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static int die(const struct ml_error *err)
{
	fprintf(stderr, "bench_quality: %s\n", err->msg);
	return 1;
}

static int64_t scalar(struct db *db, const char *sql, struct ml_error *err, int *rc)
{
	PGresult *r = NULL;
	*rc = db_query_one(db, sql, 0, NULL, &r, err);
	int64_t v = *rc ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

/* ---- generation ---- */

#define N_BENCH 40
#define N_STEPS 12

static const struct {
	const char *kind, *label;
} steps[N_STEPS] = {
	{ "creep", "creep" },
	{ "start", "start" },
	{ "basic", "Imax cosφ=1.0 H" },
	{ "basic", "Imax cosφ=0.5L H" },
	{ "basic", "0.5Imax cosφ=1.0 H" },
	{ "basic", "Ib cosφ=1.0 H" },
	{ "basic", "Ib cosφ=0.5L H" },
	{ "basic", "0.2Ib cosφ=0.5L H" },
	{ "basic", "0.1Ib cosφ=1.0 H" },
	{ "basic", "0.05Ib cosφ=1.0 H" },
	{ "constant", "constant Imax cosφ=1.0 H" },
	{ "clock", "clock" },
};

/* Error bias and spread per maker (× 10⁻⁴ %): makers run differently close to the limits. */
static const int64_t bias[6] = { -300, -100, 0, 150, 300, -200 };
static const int64_t spread[6] = { 800, 1200, 1500, 1000, 2000, 900 };

static int setup_benches(struct db *db, struct ml_error *err)
{
	int rc = db_cmd(
		db,
		"INSERT INTO reference_standard (code, name, accuracy_class, range_text) "
		"SELECT c, '单相标准装置 ' || c, '0.05', '' FROM (VALUES ('STD-Q1'), ('STD-Q2')) v(c) "
		"ON CONFLICT DO NOTHING",
		0, NULL, err);
	if (!rc)
		rc = db_cmd(
			db,
			"INSERT INTO lab_bench (code, name, uri, kind, positions) "
			"SELECT 'BQ' || lpad(i::text, 2, '0'), '检定装置 ' || i, 'tcp://127.0.0.1:' || "
			"(2000 + i), 'meter-1p', 24 FROM generate_series(1, 40) i ON CONFLICT DO NOTHING",
			0, NULL, err);
	if (!rc)
		rc = db_cmd(db,
			    "INSERT INTO lab_bench_standard SELECT b.bench_id, s.standard_id "
			    "FROM lab_bench b JOIN reference_standard s ON s.code = CASE WHEN "
			    "substr(b.code, 3)::int <= 20 THEN 'STD-Q1' ELSE 'STD-Q2' END "
			    "WHERE b.code LIKE 'BQ%' ON CONFLICT DO NOTHING",
			    0, NULL, err);
	return rc;
}

/* One meter of a run, as read from its events. */
struct meter {
	int64_t asset, t, model, maker;
	char barcode[23];
	int fail;
};

static void ts_text(struct ml_buf *b, int64_t unix_s)
{
	time_t tt = (time_t)unix_s;
	struct tm tm;
	gmtime_r(&tt, &tm);
	ml_buf_printf(b, "%04d-%02d-%02d %02d:%02d:%02d+00", tm.tm_year + 1900, tm.tm_mon + 1,
		      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* An error of maker mk at step s: bias + sum of four uniforms (roughly normal), deterministic. */
static int64_t error_of(int64_t asset, int s, int mk)
{
	uint64_t h = mix64((uint64_t)asset * 131 + (uint64_t)s);
	int64_t x = 0;
	for (int k = 0; k < 4; k++)
		x += (int64_t)((h >> (16 * k)) & 0xFFFF) - 32768;
	return bias[mk] + x * spread[mk] / (2 * 32768);
}

static int64_t round_to(int64_t v, int64_t q)
{
	int64_t f = v >= 0 ? v / q : -((-v + q - 1) / q), r = v - f * q;
	if (2 * r > q || (2 * r == q && (f & 1)))
		f++;
	return f * q;
}

struct gen {
	struct db *db;
	int64_t bench0; /* bench_id of BQ01 */
	struct ml_buf runs, pos, res, con;
	int64_t rows;
};

/* The runs of a batch of meters (grouped by start time and lot: one run each). */
static int write_batch(struct gen *G, const struct meter *m, size_t n, int64_t *run_next,
		       struct ml_error *err)
{
	/* runs first, to learn their ids (one COPY: the identity numbers them in order) */
	ml_buf_reset(&G->runs);
	size_t runs = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && m[i].t == m[i - 1].t && m[i].model == m[i - 1].model)
			continue;
		int64_t k = *run_next + (int64_t)runs++;
		ml_buf_printf(&G->runs,
			      "%" PRId64 "\t%" PRId64
			      "\tBQ-SCHEME\t1\tbench\tdriven\tfinished\t12\t"
			      "tech.bench\t",
			      G->bench0 + k % N_BENCH, m[i].model);
		time_t tt = (time_t)m[i].t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		ml_buf_printf(&G->runs, "%04d-%02d-%02d\t", tm.tm_year + 1900, tm.tm_mon + 1,
			      tm.tm_mday);
		ts_text(&G->runs, m[i].t);
		ml_buf_putc(&G->runs, '\t');
		ts_text(&G->runs, m[i].t + 75 * 60);
		ml_buf_putc(&G->runs, '\n');
	}
	PGresult *r = NULL;
	int rc = db_query_one(G->db, "SELECT coalesce(max(run_id), 0) FROM verification_run", 0,
			      NULL, &r, err);
	if (rc)
		return rc;
	int64_t before = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if ((rc = db_copy_in(
		     G->db,
		     "COPY verification_run (bench_id, model_id, scheme_code, scheme_version, "
		     "scheme_text, mode, status, steps_total, operator, run_date, started_at, "
		     "finished_at) FROM STDIN",
		     G->runs.data, G->runs.len, err)))
		return rc;
	/* identities in one session's COPY are consecutive: check, then number the runs */
	char b0[24];
	snprintf(b0, sizeof b0, "%" PRId64, before);
	const char *p0[1] = { b0 };
	if ((rc = db_query_one(G->db,
			       "SELECT min(run_id), max(run_id), count(*) FROM verification_run "
			       "WHERE run_id > $1::bigint",
			       1, p0, &r, err)))
		return rc;
	int64_t first = strtoll(PQgetvalue(r, 0, 0), NULL, 10),
		last = strtoll(PQgetvalue(r, 0, 1), NULL, 10),
		cnt = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	PQclear(r);
	if (cnt != (int64_t)runs || last - first + 1 != cnt)
		return ml_errorf(err, ML_EINTERNAL,
				 "run ids are not consecutive: %zu runs, ids %" PRId64 "..%" PRId64
				 " (%" PRId64 ")",
				 runs, first, last, cnt);
	ml_buf_reset(&G->pos);
	ml_buf_reset(&G->res);
	ml_buf_reset(&G->con);
	int64_t run = first - 1;
	int position = 0;
	for (size_t i = 0; i < n; i++) {
		if (!i || m[i].t != m[i - 1].t || m[i].model != m[i - 1].model) {
			run++;
			position = 0;
		}
		position++;
		const struct meter *x = &m[i];
		int mk = (int)(x->maker % 6);
		ml_buf_printf(&G->pos, "%" PRId64 "\t%" PRId64 "\t%d\t%s\n", x->asset, run,
			      position, x->barcode);
		int failing = x->fail ? 2 + (int)(mix64((uint64_t)x->asset) % 8) : -1;
		int internal_fail = 0;
		for (int s = 0; s < N_STEPS; s++) {
			int64_t t = x->t + 300 * s;
			const char *verdict = "pass", *ivd = "pass";
			ml_buf_printf(&G->res, "%" PRId64 "\t%" PRId64 "\t%d\t%d\t%s\t%s\t",
				      x->asset, run, s, position, steps[s].kind, steps[s].label);
			if (!strcmp(steps[s].kind, "basic")) {
				int64_t e = error_of(x->asset, s, mk);
				if (s == failing)
					e = (e >= 0 ? 1 : -1) *
					    (10500 +
					     (int64_t)(mix64((uint64_t)x->asset + 7) % 6000));
				if (e > 10000 || e < -10000)
					verdict = "fail";
				if (e > 6000 || e < -6000) {
					ivd = "fail";
					internal_fail = 1;
				}
				ml_buf_printf(&G->res,
					      "2\t%" PRId64 "\t%" PRId64
					      "\t\\N\t10000\t6000\t1000\t%s\t%s\t",
					      e, round_to(e, 1000), verdict, ivd);
			} else {
				ml_buf_printf(&G->res,
					      "1\t\\N\t\\N\t%d\t\\N\t\\N\t\\N\tpass\tnone\t",
					      steps[s].kind[0] == 's' ? 2 : 0);
			}
			ts_text(&G->res, t);
			ml_buf_putc(&G->res, '\n');
			G->rows++;
		}
		static const char *const items[] = { "creep",    "start", "basic",
						     "constant", "clock", "overall" };
		for (int k = 0; k < 6; k++) {
			int f = x->fail && (k == 2 || k == 5);
			int fi = (k == 2 || k == 5) && internal_fail;
			ml_buf_printf(&G->con, "%" PRId64 "\t%" PRId64 "\t%s\t%s\t%s\t", x->asset,
				      run, items[k], f ? "fail" : "pass", fi ? "fail" : "pass");
			if (k == 5 && !f)
				ml_buf_puts(&G->con, "2034-12-31\t");
			else
				ml_buf_puts(&G->con, "\\N\t");
			ts_text(&G->con, x->t + 75 * 60);
			ml_buf_putc(&G->con, '\n');
		}
	}
	*run_next += (int64_t)runs;
	if (ml_buf_failed(&G->pos) || ml_buf_failed(&G->res) || ml_buf_failed(&G->con))
		return ml_errorf(err, ML_ENOMEM, "out of memory building a batch");
	if ((rc = db_copy_in(G->db,
			     "COPY run_position (asset_id, run_id, position, barcode) FROM STDIN",
			     G->pos.data, G->pos.len, err)))
		return rc;
	if ((rc = db_copy_in(
		     G->db,
		     "COPY run_step_result (asset_id, run_id, step_no, position, kind, label, "
		     "n_readings, mean_e4, rounded_e4, pulses, limit_e4, internal_limit_e4, "
		     "interval_e4, verdict, internal_verdict, measured_at) FROM STDIN",
		     G->res.data, G->res.len, err)))
		return rc;
	return db_copy_in(G->db,
			  "COPY run_conclusion (asset_id, run_id, item, verdict, internal_verdict, "
			  "valid_until, concluded_at) FROM STDIN",
			  G->con.data, G->con.len, err);
}

/*
 * The field records quality reads (0277: installations and fault reports),
 * derived once from bench_gen's lifecycle history as the field flow would
 * have written them, with triggers off (the DBA's bulk load): an install
 * opens an installation at a metering point of its own, the asset's next
 * install, remove or fault_report event closes it (reason 'fault' for a
 * fault), and each fault_report event is a fault report on the
 * installation it closed. The service counts are then recounted once.
 */
static const char *const field_sql[] = {
	"SET session_replication_role = replica",
	"INSERT INTO app_user (login, display_name) SELECT 'bench.field', 'bench field' "
	"WHERE NOT EXISTS (SELECT 1 FROM app_user WHERE login = 'bench.field')",
	"INSERT INTO location (code, name, kind) SELECT 'BQ-TEAM', 'bench team', 'field_team' "
	"WHERE NOT EXISTS (SELECT 1 FROM location WHERE code = 'BQ-TEAM')",
	"CREATE TEMP TABLE bq_service AS "
	"SELECT asset_id, occurred_at AS installed_at, location_id, next_at, next_action FROM ("
	" SELECT e.asset_id, e.action, e.occurred_at, e.location_id,"
	"  lead(e.occurred_at) OVER w AS next_at, lead(e.action) OVER w AS next_action"
	" FROM asset_event e WHERE e.action IN ('install', 'remove', 'fault_report')"
	" WINDOW w AS (PARTITION BY e.asset_id ORDER BY e.occurred_at, e.event_id)) ev "
	"WHERE action = 'install'",
	"INSERT INTO metering_point (code, account_no, address, site_id, created_by) "
	"SELECT DISTINCT ON (s.asset_id) 'BQP' || s.asset_id, 'A' || s.asset_id, 'bench address', "
	" coalesce(s.location_id, (SELECT min(location_id) FROM location)), "
	" (SELECT user_id FROM app_user WHERE login = 'bench.field') FROM bq_service s",
	"INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, installed_at, "
	" install_kwh, removed_by, removed_at, remove_kwh, remove_reason) "
	"SELECT s.asset_id, p.point_id, 'meter', (SELECT location_id FROM location WHERE code = 'BQ-TEAM'), "
	" p.created_by, s.installed_at, 0, CASE WHEN s.next_at IS NOT NULL THEN p.created_by END, s.next_at, "
	" CASE WHEN s.next_at IS NOT NULL THEN 1 END, "
	" CASE s.next_action WHEN 'fault_report' THEN 'fault' WHEN 'remove' THEN 'rotation' "
	"  WHEN 'install' THEN 'other' END "
	"FROM bq_service s JOIN metering_point p ON p.code = 'BQP' || s.asset_id",
	"INSERT INTO fault_report (asset_id, installation_id, symptom, description, kind, reported_by, "
	" reported_at) "
	"SELECT e.asset_id, (SELECT i.installation_id FROM installation i WHERE i.asset_id = e.asset_id "
	"  AND i.installed_at <= e.occurred_at ORDER BY i.installed_at DESC LIMIT 1), "
	" 'OTHER', 'bench', 'analysis', (SELECT user_id FROM app_user WHERE login = 'bench.field'), "
	" e.occurred_at FROM asset_event e WHERE e.action = 'fault_report'",
	"SET session_replication_role = origin",
	/* the service counts the trigger would have kept (0277) */
	"SELECT ml_quality_service_recount()",
	"ANALYZE metering_point, installation, fault_report, quality_service_count",
};

static int setup_field(struct db *db, struct ml_error *err)
{
	int rc = 0;
	if (scalar(db, "SELECT count(*) FROM installation", err, &rc) > 0 || rc)
		return rc;
	double t0 = now_ms();
	for (size_t i = 0; i < sizeof field_sql / sizeof field_sql[0] && !rc; i++)
		rc = db_cmd(db, field_sql[i], 0, NULL, err);
	if (rc)
		return rc;
	printf("field records: %" PRId64 " installations, %" PRId64 " fault reports (%.1f s)\n",
	       scalar(db, "SELECT count(*) FROM installation", err, &rc),
	       scalar(db, "SELECT count(*) FROM fault_report", err, &rc), (now_ms() - t0) / 1e3);
	return rc;
}

static int generate(struct db *db, int64_t target, struct ml_error *err)
{
	int rc = 0;
	int64_t have = scalar(db, "SELECT count(*) FROM run_step_result", err, &rc);
	if (rc)
		return rc;
	if (have >= target) {
		printf("results: %" PRId64 " rows already (target %" PRId64 ")\n", have, target);
		return ML_OK;
	}
	if ((rc = setup_benches(db, err)))
		return rc;
	struct gen G = { .db = db,
			 .runs = ML_BUF_INIT,
			 .pos = ML_BUF_INIT,
			 .res = ML_BUF_INIT,
			 .con = ML_BUF_INIT };
	G.bench0 = scalar(db, "SELECT bench_id FROM lab_bench WHERE code = 'BQ01'", err, &rc);
	if (rc)
		return rc;
	/* meters already verified here (a re-run continues after them) */
	int64_t done_t = scalar(
		db,
		"SELECT coalesce(extract(epoch FROM max(started_at))::bigint, 0) FROM "
		"verification_run WHERE scheme_code = 'BQ-SCHEME'",
		err, &rc);
	if (rc)
		return rc;
	char dt[24];
	snprintf(dt, sizeof dt, "%" PRId64, done_t);
	const char *p[1] = { dt };
	if ((rc = db_cmd(db, "BEGIN", 0, NULL, err)))
		return rc;
	rc = db_cmd(
		db,
		"DECLARE v NO SCROLL CURSOR FOR "
		"SELECT x.asset_id, extract(epoch FROM x.occurred_at)::bigint AS t, a.barcode, "
		"       a.model_id, m.manufacturer_id, x.outcome = 'verify_fail' AS fail "
		"FROM (SELECT e.asset_id, e.action, e.occurred_at, lead(e.action) OVER "
		"        (PARTITION BY e.asset_id ORDER BY e.occurred_at, e.event_id) AS outcome "
		"      FROM asset_event e WHERE e.action IN ('verify_start', 'verify_pass', "
		"        'verify_fail', 'verify_abort')) x "
		"JOIN asset a ON a.asset_id = x.asset_id JOIN device_model m ON m.model_id = a.model_id "
		"WHERE x.action = 'verify_start' AND x.outcome IN ('verify_pass', 'verify_fail') "
		"  AND x.occurred_at > to_timestamp($1::bigint) "
		"ORDER BY x.occurred_at, a.model_id, x.asset_id",
		1, p, err);
	if (rc)
		goto out;
	size_t cap = 50000;
	struct meter *m = calloc(cap, sizeof *m);
	if (!m) {
		rc = ml_errorf(err, ML_ENOMEM, "out of memory");
		goto out;
	}
	double t0 = now_ms();
	int64_t run_next = 0, meters = 0;
	while (!rc && have + G.rows < target) {
		PGresult *r = NULL;
		if ((rc = db_exec(db, "FETCH 48000 FROM v", 0, NULL, PGRES_TUPLES_OK, &r, err)))
			break;
		int rows = PQntuples(r);
		size_t n = 0;
		for (int i = 0; i < rows; i++) {
			struct meter *x = &m[n++];
			x->asset = strtoll(PQgetvalue(r, i, 0), NULL, 10);
			x->t = strtoll(PQgetvalue(r, i, 1), NULL, 10);
			snprintf(x->barcode, sizeof x->barcode, "%s", PQgetvalue(r, i, 2));
			x->model = strtoll(PQgetvalue(r, i, 3), NULL, 10);
			x->maker = strtoll(PQgetvalue(r, i, 4), NULL, 10);
			x->fail = PQgetvalue(r, i, 5)[0] == 't';
		}
		PQclear(r);
		if (!rows)
			break;
		/* a bench run cut by a batch boundary becomes two runs: harmless here */
		rc = write_batch(&G, m, n, &run_next, err);
		meters += (int64_t)n;
		fprintf(stderr, "\r  %" PRId64 " meters, %" PRId64 " result rows, %.0f rows/s",
			meters, have + G.rows, (double)G.rows / ((now_ms() - t0) / 1e3));
	}
	fprintf(stderr, "\n");
	free(m);
	if (!rc)
		rc = db_cmd(db, "COMMIT", 0, NULL, err);
	if (!rc) {
		double s = (now_ms() - t0) / 1e3;
		printf("generated %" PRId64 " result rows for %" PRId64 " meters in %" PRId64
		       " runs: %.1f s, %.0f result rows/s (with positions and conclusions)\n",
		       G.rows, meters, run_next, s, (double)G.rows / s);
		rc = db_cmd(db, "ANALYZE", 0, NULL, err);
	}
out:
	if (rc)
		db_rollback(db);
	ml_buf_free(&G.runs);
	ml_buf_free(&G.pos);
	ml_buf_free(&G.res);
	ml_buf_free(&G.con);
	return rc;
}

/* ---- measurement ---- */

struct call {
	const char *name;
	const char *sql; /* $1 from, $2 to */
	double ms[64];
	int64_t rows;
};

static int measure(struct db *db, int reps, struct ml_error *err)
{
	int rc = 0;
	printf("data: %" PRId64 " result rows, %" PRId64 " conclusions, %" PRId64 " runs, %" PRId64
	       " assets, %" PRId64 " events, %" PRId64 " installations, %" PRId64
	       " fault reports\n",
	       scalar(db, "SELECT count(*) FROM run_step_result", err, &rc),
	       scalar(db, "SELECT count(*) FROM run_conclusion", err, &rc),
	       scalar(db, "SELECT count(*) FROM verification_run", err, &rc),
	       scalar(db, "SELECT count(*) FROM asset", err, &rc),
	       scalar(db, "SELECT count(*) FROM asset_event", err, &rc),
	       scalar(db, "SELECT count(*) FROM installation", err, &rc),
	       scalar(db, "SELECT count(*) FROM fault_report", err, &rc));
	if (rc)
		return rc;
	PGresult *r = NULL;
	if ((rc = db_query_one(
		     db,
		     "SELECT to_char(max(concluded_at), 'YYYY-MM-DD') AS hi, "
		     "to_char(date_trunc('month', max(concluded_at)) - interval '1 month', "
		     "'YYYY-MM-DD') AS m0, "
		     "to_char(date_trunc('month', max(concluded_at)) - interval '1 day', "
		     "'YYYY-MM-DD') AS m1, "
		     "to_char(date_trunc('month', max(concluded_at)) - interval '12 month', "
		     "'YYYY-MM-DD') AS y0, to_char(min(concluded_at), 'YYYY-MM-DD') AS lo "
		     "FROM run_conclusion WHERE item = 'overall'",
		     0, NULL, &r, err)))
		return rc;
	char periods[3][2][11];
	snprintf(periods[0][0], 11, "%s", db_get(r, 0, "m0"));
	snprintf(periods[0][1], 11, "%s", db_get(r, 0, "m1"));
	snprintf(periods[1][0], 11, "%s", db_get(r, 0, "y0"));
	snprintf(periods[1][1], 11, "%s", db_get(r, 0, "m1"));
	snprintf(periods[2][0], 11, "%s", db_get(r, 0, "lo"));
	snprintf(periods[2][1], 11, "%s", db_get(r, 0, "hi"));
	PQclear(r);
	static const char *const pname[3] = { "one month", "twelve months", "everything" };
	struct call calls[] = {
		{ "verdicts (pass rate)", "SELECT * FROM ml_quality_verdicts($1::date, $2::date)" },
		{ "items (failure modes)", "SELECT * FROM ml_quality_items($1::date, $2::date)" },
		{ "points (error distribution)",
		  "SELECT * FROM ml_quality_points($1::date, $2::date)" },
		{ "point failures", "SELECT * FROM ml_quality_point_failures($1::date, $2::date)" },
		{ "field (fault rates)", "SELECT * FROM ml_quality_field($1::date, $2::date)" },
		{ "field months (trend)",
		  "SELECT * FROM ml_quality_field_months($1::date, $2::date)" },
		{ "alert units", "SELECT * FROM ml_quality_alert_units($1::date, $2::date)" },
		{ "maker filter: verdicts",
		  "SELECT * FROM ml_quality_verdicts($1::date, $2::date, "
		  "(SELECT code FROM manufacturer ORDER BY manufacturer_id "
		  "LIMIT 1))" },
	};
	enum {
		NCALL = sizeof calls / sizeof calls[0]
	};
	if (reps > 64)
		reps = 64;
	for (int pi = 0; pi < 3; pi++) {
		const char *p[2] = { periods[pi][0], periods[pi][1] };
		double report[64], render[64], alerts[64], trace[64];
		size_t report_bytes = 0, flags = 0;
		for (int rep = 0; rep < reps; rep++) {
			for (int c = 0; c < NCALL; c++) {
				double t0 = now_ms();
				if ((rc = db_exec(db, calls[c].sql, 2, p, PGRES_TUPLES_OK, &r,
						  err)))
					return rc;
				calls[c].ms[rep] = now_ms() - t0;
				calls[c].rows = PQntuples(r);
				PQclear(r);
			}
			/* the whole report: one snapshot of every table, then the PDF */
			struct quality_report q;
			struct quality_filter f = { p[0], p[1], NULL, NULL };
			double t0 = now_ms();
			if ((rc = quality_report_load(db, &f, &q, err)))
				return rc;
			report[rep] = now_ms() - t0;
			struct ml_buf pdf = ML_BUF_INIT;
			t0 = now_ms();
			rc = quality_render(&q, NULL, &pdf, err);
			render[rep] = now_ms() - t0;
			report_bytes = pdf.len;
			ml_buf_free(&pdf);
			quality_report_free(&q);
			if (rc)
				return rc;
			struct quality_unit *u = NULL;
			struct quality_alert *a = NULL;
			size_t n = 0;
			t0 = now_ms();
			struct quality_alert_opts o = { "0.05", QUALITY_HOLM };
			if ((rc = quality_alert_units_load(db, p[0], p[1], &u, &n, err)) ||
			    (rc = quality_alerts_compute(u, n, &o, &a, err))) {
				free(u);
				return rc;
			}
			alerts[rep] = now_ms() - t0;
			flags = 0;
			for (size_t i = 0; i < n; i++)
				flags += a[i].flagged != 0;
			free(u);
			free(a);
			struct trace_list tl;
			t0 = now_ms();
			if ((rc = trace_load(db, "STD-Q1", NULL, p[0], p[1], &tl, err)))
				return rc;
			trace[rep] = now_ms() - t0;
			trace_list_free(&tl);
		}
		printf("\n%s (%s .. %s), median of %d (min-max), ms:\n", pname[pi], p[0], p[1],
		       reps);
		for (int c = 0; c < NCALL; c++) {
			double lo = calls[c].ms[0], hi = calls[c].ms[0];
			for (int k = 1; k < reps; k++) {
				lo = calls[c].ms[k] < lo ? calls[c].ms[k] : lo;
				hi = calls[c].ms[k] > hi ? calls[c].ms[k] : hi;
			}
			printf("  %-30s %9.1f  (%.1f-%.1f)  %" PRId64 " rows\n", calls[c].name,
			       median(calls[c].ms, reps), lo, hi, calls[c].rows);
		}
		printf("  %-30s %9.1f\n", "report: load all tables", median(report, reps));
		printf("  %-30s %9.1f  (%zu bytes)\n", "report: render PDF", median(render, reps),
		       report_bytes);
		printf("  %-30s %9.1f  (%zu flagged)\n", "alerts: load + exact tests",
		       median(alerts, reps), flags);
		printf("  %-30s %9.1f\n", "trace STD-Q1 over the period", median(trace, reps));
	}
	return ML_OK;
}

int main(int argc, char **argv)
{
	const char *conninfo = NULL;
	int64_t target = 10000000;
	int reps = 5, measure_only = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			conninfo = argv[++i];
		else if (!strcmp(argv[i], "--results") && i + 1 < argc)
			target = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--measure-only"))
			measure_only = 1;
		else {
			fprintf(stderr,
				"usage: bench_quality --db CONNINFO [--results N] [--reps R] "
				"[--measure-only]\n");
			return 2;
		}
	}
	if (reps < 1)
		reps = 1;
	setvbuf(stdout, NULL, _IOLBF, 0); /* progress reaches a log file as it happens */
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = NULL;
	if (db_connect(conninfo, &db, &err))
		return die(&err);
	int rc = measure_only ? ML_OK : generate(db, target, &err);
	if (!rc && !measure_only)
		rc = setup_field(db, &err);
	if (!rc)
		rc = measure(db, reps, &err);
	db_close(db);
	return rc ? die(&err) : 0;
}
