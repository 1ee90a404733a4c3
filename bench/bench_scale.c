/*
 * bench_scale — the everyday read commands at province scale (issue 10):
 * how long a clerk waits for `asset lot list`, `asset location list`,
 * `asset stock`, `asset list` with filters and pages, and `asset show`, on
 * whatever registry the database holds (grow it with bench_gen).
 *
 *   bench_scale [--db CONNINFO] --cli PATH/meterlab [--reps R (7)] [--show N (200)]
 *               [--writes W (0)]
 *
 * Two figures per command:
 *   process  the whole `meterlab …` process, spawned as a clerk runs it:
 *            start-up, connection, a new backend's first queries, output
 *            (stdout to /dev/null);
 *   sql      the library call behind it (the same SQL) on a warm connection,
 *            measured at the client (so it includes one or a few round trips).
 * The commands are run round-robin, R rounds, so a burst of load on this
 * shared machine hits all of them alike; each figure is the median of R with
 * the range (min–max). In each round the library calls run before the
 * processes: a call timed right after a process shared the 2 cores with that
 * process's exiting backend (the SQL of `asset show` measured about twice its
 * quiet time that way). `asset show` runs N different random assets: p50 and
 * p99 over them, and its SQL also on N other assets with the statement cache
 * on (as the server runs it). The process floor (`meterlab --help`, and a bare connect +
 * `SELECT 1`) is printed for reference: it does not depend on the registry.
 *
 * With --writes W, then W rounds of (`asset receive` of a fresh 100 000-row
 * delivery, `psql \\copy` of the same file into a plain table, and into
 * bench_indexed_copy: the asset table's columns, checks and four indexes
 * without its triggers and events — the floor of the import's asset rows
 * alone), the order rotating, and W moves of 10 000 random assets of that delivery (`asset
 * move sample --file`): these grow the registry by 100 000 assets per round. The
 * writes run as the person bench.person (added when missing), so --db must
 * be the DBA's conninfo in key=value form.
 *
 * The filter values are taken from the data: a lot in the middle of the
 * registry, the busiest secondary store, the busiest customer district, the
 * commonest model, the commonest and the rarest state.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "assets/barcode.h"
#include "assets/lifecycle.h"
#include "assets/registry.h"
#include "bench_time.h"
#include "sql/db.h"

extern char **environ;

/* Sorts v; the value at quantile q (0..1, nearest rank). */
static double quantile(double *v, int n, double q)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	int k = (int)(q * n + 0.999999) - 1;
	return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

static const char *g_conninfo;
static const char *g_cli;

/* Spawn `meterlab --db C args…` with stdout/stderr to /dev/null; wall ms, or -1 on failure. */
static double run_cli(const char *const *args)
{
	const char *argv[32];
	int n = 0;
	argv[n++] = g_cli;
	argv[n++] = "--db";
	argv[n++] = g_conninfo;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	double t0 = now_ms();
	int rc = posix_spawn(&pid, g_cli, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		fprintf(stderr, "bench_scale: cannot run %s: %s\n", g_cli, strerror(rc));
		return -1;
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	double t = now_ms() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench_scale: meterlab");
		for (int i = 3; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, " failed (status %d)\n", st);
		return -1;
	}
	return t;
}

static int pick(struct db *db, const char *sql, char *out, size_t size, const char *fallback,
		struct ml_error *err);

/* Spawn argv[0] (a path) with stdout/stderr to /dev/null; wall ms, or -1 on failure. */
static double run_argv(const char *const *argv)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	double t0 = now_ms();
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		fprintf(stderr, "bench_scale: cannot run %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	double t = now_ms() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench_scale: %s failed (status %d)\n", argv[0], st);
		return -1;
	}
	return t;
}

/* ---- the writes: a delivery against psql \copy, a 10 000-barcode move ---- */

/* A delivery CSV of n fresh assets from serial base. */
static int write_delivery(const char *path, unsigned long long base, int n, const char *model)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "barcode,model_code,production_batch,production_date\n");
	char bc[23];
	for (int i = 0; i < n; i++) {
		if (barcode_make("41300", "01", base + (unsigned long long)i, bc, NULL))
			break;
		fprintf(f, "%s,%s,B%d,2026-09-14\n", bc, model, i / 1000);
	}
	return fclose(f) ? -1 : 0;
}

/*
 * The writes run as a person (issue 8: the actor is the authenticated login):
 * "bench.person", a warehouse clerk, lab technician and field-team member of
 * GEN-T001 (made by bench_gen), added by the DBA when missing. Its conninfo is the DBA's with
 * the user replaced (key=value form).
 */
static char g_person_ci[1024];

static int ensure_person(struct db *db, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_query_one(db, "SELECT count(*) FROM app_user WHERE login = 'bench.person'", 0,
			      NULL, &res, err);
	if (rc)
		return rc;
	int have = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!have)
		rc = db_exec(db,
			     "SELECT ml_user_add('bench.person', '基准测试员', "
			     "'{warehouse_clerk,lab_technician,field_member,admin}', 'GEN-T001')",
			     0, NULL, PGRES_TUPLES_OK, NULL, err);
	snprintf(g_person_ci, sizeof(g_person_ci), "%s user=bench.person", g_conninfo);
	return rc;
}

/* run_cli as the person. */
static double run_cli_person(const char *const *args)
{
	const char *saved = g_conninfo;
	g_conninfo = g_person_ci;
	double t = run_cli(args);
	g_conninfo = saved;
	return t;
}

static int write_step(struct db *db, int reps, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = ensure_person(db, err);
	if (rc)
		return rc;
	rc = db_cmd(db,
		    "CREATE TABLE IF NOT EXISTS bench_plain_copy (barcode text, model_code text, "
		    "production_batch text, production_date date)",
		    0, NULL, err);
	/* The floor of the import's own rows: the asset table's columns, defaults,
	 * checks and four indexes (LIKE … INCLUDING ALL copies no triggers), the
	 * references fixed by defaults so \copy can fill it from the same file. */
	if (!rc)
		rc = db_cmd(
			db,
			"CREATE TABLE IF NOT EXISTS bench_indexed_copy (LIKE asset INCLUDING ALL, "
			"model_code text)",
			0, NULL, err);
	if (!rc)
		rc = db_cmd(db,
			    "ALTER TABLE bench_indexed_copy ALTER model_id SET DEFAULT 1, "
			    "ALTER lot_id SET DEFAULT 1, ALTER location_id SET DEFAULT 1",
			    0, NULL, err);
	char maxid[24] = "0", model[64] = "";
	if (!rc)
		rc = pick(db, "SELECT max(asset_id) FROM asset", maxid, sizeof(maxid), "0", err);
	if (!rc)
		rc = pick(db, "SELECT code FROM device_model ORDER BY model_id LIMIT 1", model,
			  sizeof(model), "NONE", err);
	if (rc)
		return rc;
	double *rcv = calloc((size_t)reps, sizeof(double)),
	       *cpy = calloc((size_t)reps, sizeof(double)),
	       *icp = calloc((size_t)reps, sizeof(double)),
	       *psql1 = calloc((size_t)reps, sizeof(double)),
	       *mv = calloc((size_t)reps, sizeof(double));
	char path[64], lot[64], copycmd[160], icopycmd[256], mvpath[64];
	snprintf(path, sizeof(path), "/tmp/bench_scale_delivery_%d.csv", (int)getpid());
	snprintf(mvpath, sizeof(mvpath), "/tmp/bench_scale_move_%d.txt", (int)getpid());
	snprintf(copycmd, sizeof(copycmd),
		 "\\copy bench_plain_copy FROM '%s' WITH (FORMAT csv, HEADER)", path);
	snprintf(icopycmd, sizeof(icopycmd),
		 "\\copy bench_indexed_copy (barcode, model_code, production_batch, "
		 "production_date) FROM '%s' WITH (FORMAT csv, HEADER)",
		 path);
	for (int r = 0; r < reps && !rc; r++) {
		/* fresh serials each time, far from the generated ones and from earlier runs */
		unsigned long long base = 700000000000ULL + strtoull(maxid, NULL, 10) * 4 +
					  (unsigned long long)r * 100000;
		if (write_delivery(path, base, 100000, model)) {
			rc = ml_errorf(err, ML_EIO, "cannot write %s", path);
			break;
		}
		snprintf(lot, sizeof(lot), "BENCH-%llu", base);
		const char *recv[] = { "asset", "receive", "--lot", lot, "--file", path, NULL };
		const char *cp[] = { "psql", "-X", "-q", g_conninfo, "-c", copycmd, NULL };
		const char *icp_argv[] = { "psql", "-X", "-q", g_conninfo, "-c", icopycmd, NULL };
		const char *p1[] = { "psql", "-X", "-q", g_conninfo, "-c", "SELECT 1", NULL };
		/* the three in one round, the order rotating */
		for (int j = 0; j < 3 && !rc; j++) {
			int w = (r + j) % 3;
			if (w == 0)
				rcv[r] = run_cli_person(recv);
			else if (w == 1)
				cpy[r] = run_argv(cp);
			else
				icp[r] = run_argv(icp_argv);
		}
		psql1[r] = run_argv(p1);
		if (rcv[r] < 0 || cpy[r] < 0 || icp[r] < 0 || psql1[r] < 0)
			rc = ml_errorf(err, ML_EINTERNAL, "a receive or a copy failed");
		/* 10 000 assets of the fresh delivery at random, drawn for sampling in one
		 * move. (Until 0205 this removed 10 000 random installed assets from
		 * service; removal is the metering point's now, with readings: no bare move.) */
		const char *lp[1] = { lot };
		if (!rc)
			rc = db_exec(
				db,
				"SELECT a.barcode FROM asset a JOIN lot l ON l.lot_id = a.lot_id "
				"WHERE l.code = $1 AND a.state = 'arrived' ORDER BY random() LIMIT 10000",
				1, lp, PGRES_TUPLES_OK, &res, err);
		if (!rc) {
			FILE *f = fopen(mvpath, "w");
			for (int i = 0; f && i < PQntuples(res); i++)
				fprintf(f, "%s\n", PQgetvalue(res, i, 0));
			int n = PQntuples(res);
			PQclear(res);
			if (!f || fclose(f) || n < 10000) {
				rc = ml_errorf(err, ML_EINTERNAL,
					       "only %d arrived assets found in %s", n, lot);
				break;
			}
			const char *m[] = { "asset", "move", "sample", "--file", mvpath, NULL };
			mv[r] = run_cli_person(m);
			if (mv[r] < 0)
				rc = ml_errorf(err, ML_EINTERNAL, "the move failed");
		}
	}
	if (!rc) {
		double rm = median(rcv, reps), cm = median(cpy, reps), pm = median(psql1, reps);
		double mm = median(mv, reps);
		printf("  %-52s %7.0f ms (%6.0f–%6.0f)\n", "asset receive, 100 000-row delivery",
		       rm, rcv[0], rcv[reps - 1]);
		printf("  %-52s %7.0f ms (%6.0f–%6.0f)   psql -c 'SELECT 1' alone %.0f ms\n",
		       "the same file by psql \\copy into a plain table", cm, cpy[0], cpy[reps - 1],
		       pm);
		printf("  %-52s %7.1fx (same rounds, order rotating; %d rounds)\n",
		       "ratio receive / \\copy", rm / cm, reps);
		double im = median(icp, reps);
		printf("  %-52s %7.0f ms (%6.0f–%6.0f)\n",
		       "psql \\copy into asset's columns, checks, 4 indexes", im, icp[0],
		       icp[reps - 1]);
		printf("  %-52s %7.1fx / %.1fx (same rounds)\n",
		       "ratio that floor / \\copy; receive / that floor", im / cm, rm / im);
		printf("  %-52s %7.0f ms (%6.0f–%6.0f)\n",
		       "asset move sample, 10 000 random barcodes (file)", mm, mv[0], mv[reps - 1]);
	}
	unlink(path);
	unlink(mvpath);
	free(rcv);
	free(cpy);
	free(icp);
	free(psql1);
	free(mv);
	return rc;
}

/* ---- the commands ---- */

enum kind {
	K_LOTS,
	K_LOCATIONS,
	K_STOCK,
	K_LIST
};

struct cmd {
	const char *label;
	enum kind kind;
	struct asset_filter f; /* K_LIST */
	const char *args[16];
	struct asset_stock_filter sf; /* K_STOCK */
	double *proc, *sql;
	int rows;
};

static char s_lot[64], s_lot_after[24], s_store[64], s_district[64], s_model[64], s_model2[64],
	s_common[32], s_rare[32], s_mid[24], s_max[24];

static int lib_call(struct db *db, struct cmd *c, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc;
	switch (c->kind) {
	case K_LOTS:
		rc = asset_lot_list(db, &res, err);
		break;
	case K_LOCATIONS:
		rc = asset_location_list(db, &res, err);
		break;
	case K_STOCK:
		rc = asset_stock(db, &c->sf, &res, err);
		break;
	default:
		rc = asset_list(db, &c->f, &res, err);
		break;
	}
	if (!rc)
		c->rows = PQntuples(res);
	PQclear(res);
	return rc;
}

/* The first column of the first row of sql, or fallback when there is none (a small registry). */
static int pick(struct db *db, const char *sql, char *out, size_t size, const char *fallback,
		struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(db, sql, 0, NULL, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	snprintf(out, size, "%s",
		 PQntuples(res) && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : fallback);
	PQclear(res);
	return ML_OK;
}

static int choose_values(struct db *db, struct ml_error *err)
{
	int rc = pick(db, "SELECT max(asset_id) FROM asset", s_max, sizeof(s_max), "0", err);
	if (!rc)
		snprintf(s_mid, sizeof(s_mid), "%lld", atoll(s_max) / 2);
	if (!rc)
		rc = pick(
			db,
			"SELECT l.code FROM asset a JOIN lot l USING (lot_id) "
			"WHERE a.asset_id >= (SELECT max(asset_id) / 2 FROM asset) ORDER BY a.asset_id LIMIT 1",
			s_lot, sizeof(s_lot), "NONE", err);
	if (!rc)
		rc = pick(
			db,
			"SELECT (first_id + last_id) / 2 FROM asset_lot_span s JOIN lot l USING (lot_id) "
			"WHERE l.code = (SELECT l.code FROM asset a JOIN lot l USING (lot_id) "
			"WHERE a.asset_id >= (SELECT max(asset_id) / 2 FROM asset) ORDER BY a.asset_id LIMIT 1)",
			s_lot_after, sizeof(s_lot_after), "0", err);
	if (!rc)
		rc = pick(
			db,
			"SELECT l.code FROM asset_count_place c JOIN location l USING (location_id) "
			"WHERE l.kind = 'secondary_store' GROUP BY l.code ORDER BY sum(c.n) DESC, 1 LIMIT 1",
			s_store, sizeof(s_store), "CENTRAL", err);
	if (!rc)
		rc = pick(
			db,
			"SELECT l.code FROM asset_count_place c JOIN location l USING (location_id) "
			"WHERE l.kind = 'customer_site' GROUP BY l.code ORDER BY sum(c.n) DESC, 1 LIMIT 1",
			s_district, sizeof(s_district), "CENTRAL", err);
	if (!rc)
		rc = pick(
			db,
			"SELECT m.code FROM asset_count_place c JOIN device_model m USING (model_id) "
			"GROUP BY m.code ORDER BY sum(c.n) DESC, 1 LIMIT 1",
			s_model, sizeof(s_model), "NONE", err);
	if (!rc)
		rc = pick(
			db,
			"SELECT m.code FROM asset_count_place c JOIN device_model m USING (model_id) "
			"GROUP BY m.code ORDER BY sum(c.n) DESC, 1 OFFSET 1 LIMIT 1",
			s_model2, sizeof(s_model2), s_model, err);
	if (!rc)
		rc = pick(db,
			  "SELECT state FROM asset_count_place GROUP BY 1 HAVING sum(n) > 0 "
			  "ORDER BY sum(n) DESC, 1 LIMIT 1",
			  s_common, sizeof(s_common), "arrived", err);
	if (!rc)
		rc = pick(db,
			  "SELECT state FROM asset_count_place GROUP BY 1 HAVING sum(n) > 0 "
			  "ORDER BY sum(n), 1 LIMIT 1",
			  s_rare, sizeof(s_rare), "arrived", err);
	return rc;
}

#define F(...) ((struct asset_filter){ __VA_ARGS__ })

static int setup_cmds(struct cmd *c)
{
	int n = 0;
	c[n++] = (struct cmd){ "asset lot list", K_LOTS, F(0), { "asset", "lot", "list" } };
	c[n++] = (struct cmd){
		"asset location list", K_LOCATIONS, F(0), { "asset", "location", "list" }
	};
	c[n++] = (struct cmd){
		"asset stock (every store, model, state)", K_STOCK, F(0), { "asset", "stock" }
	};
	c[n++] = (struct cmd){ "asset stock --location STORE",
			       K_STOCK,
			       F(0),
			       { "asset", "stock", "--location", s_store },
			       .sf = { .location = s_store } };
	c[n++] = (struct cmd){
		"asset stock --all-places --model M --state COMMON",
		K_STOCK,
		F(0),
		{ "asset", "stock", "--all-places", "--model", s_model, "--state", s_common },
		.sf = { .model = s_model, .state = s_common, .scope = ASSET_STOCK_PLACES }
	};
	c[n++] = (struct cmd){ "asset stock --totals",
			       K_STOCK,
			       F(0),
			       { "asset", "stock", "--totals" },
			       .sf = { .scope = ASSET_STOCK_TOTALS } };
	c[n++] = (struct cmd){
		"asset list --lot L", K_LIST, F(.lot = s_lot), { "asset", "list", "--lot", s_lot }
	};
	c[n++] = (struct cmd){ "asset list --lot L --after (middle of L)",
			       K_LIST,
			       F(.lot = s_lot, .after_id = atoll(s_lot_after)),
			       { "asset", "list", "--lot", s_lot, "--after", s_lot_after } };
	c[n++] = (struct cmd){ "asset list --lot L --after MAX (empty page)",
			       K_LIST,
			       F(.lot = s_lot, .after_id = atoll(s_max)),
			       { "asset", "list", "--lot", s_lot, "--after", s_max } };
	c[n++] = (struct cmd){ "asset list --lot L --state RARE",
			       K_LIST,
			       F(.lot = s_lot, .state = s_rare),
			       { "asset", "list", "--lot", s_lot, "--state", s_rare } };
	c[n++] = (struct cmd){ "asset list --lot L --location DISTRICT",
			       K_LIST,
			       F(.lot = s_lot, .location = s_district),
			       { "asset", "list", "--lot", s_lot, "--location", s_district } };
	c[n++] = (struct cmd){ "asset list --location STORE --after MID",
			       K_LIST,
			       F(.location = s_store, .after_id = atoll(s_mid)),
			       { "asset", "list", "--location", s_store, "--after", s_mid } };
	c[n++] = (struct cmd){ "asset list --location STORE --state COMMON",
			       K_LIST,
			       F(.location = s_store, .state = s_common),
			       { "asset", "list", "--location", s_store, "--state", s_common } };
	c[n++] = (struct cmd){ "asset list --location DISTRICT --model M2",
			       K_LIST,
			       F(.location = s_district, .model = s_model2),
			       { "asset", "list", "--location", s_district, "--model", s_model2 } };
	c[n++] = (struct cmd){ "asset list --location CENTRAL --model M --state RARE",
			       K_LIST,
			       F(.location = "CENTRAL", .model = s_model, .state = s_rare),
			       { "asset", "list", "--location", "CENTRAL", "--model", s_model,
				 "--state", s_rare } };
	c[n++] = (struct cmd){ "asset list --model M --after MID",
			       K_LIST,
			       F(.model = s_model, .after_id = atoll(s_mid)),
			       { "asset", "list", "--model", s_model, "--after", s_mid } };
	c[n++] = (struct cmd){ "asset list --model M --state RARE",
			       K_LIST,
			       F(.model = s_model, .state = s_rare),
			       { "asset", "list", "--model", s_model, "--state", s_rare } };
	c[n++] = (struct cmd){ "asset list --state RARE --after MID",
			       K_LIST,
			       F(.state = s_rare, .after_id = atoll(s_mid)),
			       { "asset", "list", "--state", s_rare, "--after", s_mid } };
	c[n++] = (struct cmd){ "asset list --state COMMON --after MID",
			       K_LIST,
			       F(.state = s_common, .after_id = atoll(s_mid)),
			       { "asset", "list", "--state", s_common, "--after", s_mid } };
	c[n++] = (struct cmd){ "asset list --after MID --limit 1000",
			       K_LIST,
			       F(.after_id = atoll(s_mid), .limit = 1000),
			       { "asset", "list", "--after", s_mid, "--limit", "1000" } };
	return n;
}

/* ---- asset show ---- */

/* The library call of `asset show` (cli/cmd_asset.c): the asset, its place,
   model and history in two round trips (asset_view_get). */
static int show_sql(struct db *db, const char *bc, struct ml_error *err)
{
	struct asset_view v;
	int rc = asset_view_get(db, bc, &v, err);
	if (!rc && PQntuples(v.history) < 1)
		rc = ml_errorf(err, ML_EINTERNAL, "asset %s has no history", bc);
	if (!rc && PQntuples(v.model) != 1)
		rc = ml_errorf(err, ML_EINTERNAL, "asset %s has no model", bc);
	asset_view_free(&v);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_scale [--db CONNINFO] --cli PATH [--reps R] [--show N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int reps = 7, nshow = 200, writes = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--db") && i + 1 < argc)
			g_conninfo = argv[++i];
		else if (!strcmp(a, "--cli") && i + 1 < argc)
			g_cli = argv[++i];
		else if (!strcmp(a, "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(a, "--show") && i + 1 < argc)
			nshow = atoi(argv[++i]);
		else if (!strcmp(a, "--writes") && i + 1 < argc)
			writes = atoi(argv[++i]);
		else
			usage();
	}
	if (!g_cli || reps < 1 || nshow < 1)
		usage();
	if (!g_conninfo)
		g_conninfo = getenv("METERLAB_DB") ? getenv("METERLAB_DB") : "";
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = NULL;
	if (db_connect(g_conninfo, &db, &err) || choose_values(db, &err)) {
		fprintf(stderr, "bench_scale: %s\n", err.msg);
		db_close(db);
		return 6;
	}
	PGresult *res = NULL;
	long long nassets = 0, nevents = 0;
	if (!db_query_one(
		    db,
		    "SELECT (SELECT sum(n) FROM asset_count_lot), "
		    "(SELECT sum(c.reltuples)::bigint FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid "
		    " WHERE i.inhparent = 'asset_event'::regclass)",
		    0, NULL, &res, &err)) {
		nassets = atoll(PQgetvalue(res, 0, 0));
		nevents = atoll(PQgetvalue(res, 0, 1));
		PQclear(res);
	}
	printf("bench_scale: %lld assets, ~%lld events; %d rounds; lot L=%s, STORE=%s, DISTRICT=%s, "
	       "M=%s, M2=%s, COMMON=%s, RARE=%s, MID=%s, MAX=%s\n",
	       nassets, nevents, reps, s_lot, s_store, s_district, s_model, s_model2, s_common,
	       s_rare, s_mid, s_max);

	struct cmd cmds[32];
	int nc = setup_cmds(cmds);
	for (int i = 0; i < nc; i++) {
		cmds[i].proc = calloc((size_t)reps, sizeof(double));
		cmds[i].sql = calloc((size_t)reps, sizeof(double));
	}
	double *floor_help = calloc((size_t)reps, sizeof(double));
	double *floor_conn = calloc((size_t)reps, sizeof(double));
	int rc = 0;
	/* one warm-up round of everything (page cache, plan caches), not counted */
	for (int i = 0; i < nc && !rc; i++)
		rc = lib_call(db, &cmds[i], &err) || run_cli(cmds[i].args) < 0;
	for (int r = 0; r < reps && !rc; r++) {
		const char *help[] = { "--help", NULL };
		floor_help[r] = run_cli(help);
		double t0 = now_ms();
		struct db *c2 = NULL;
		rc = db_connect(g_conninfo, &c2, &err);
		if (!rc)
			rc = db_query_one(c2, "SELECT 1", 0, NULL, &res, &err);
		if (!rc)
			PQclear(res);
		db_close(c2);
		floor_conn[r] = now_ms() - t0;
		/* the library calls of the round first, then its processes: a
		   process's backend is still exiting when waitpid returns, and on
		   2 cores a call timed right after it shares the CPU with that */
		for (int i = 0; i < nc && !rc; i++) {
			double s0 = now_ms();
			rc = lib_call(db, &cmds[i], &err);
			cmds[i].sql[r] = now_ms() - s0;
		}
		for (int i = 0; i < nc && !rc; i++) {
			cmds[i].proc[r] = run_cli(cmds[i].args);
			if (cmds[i].proc[r] < 0)
				rc = ML_EINTERNAL;
		}
	}
	if (rc) {
		fprintf(stderr, "bench_scale: %s\n", err.msg[0] ? err.msg : "a command failed");
		db_close(db);
		return 6;
	}
	printf("  %-52s %8s %17s %8s %17s %6s\n", "command", "process", "(range)", "sql", "(range)",
	       "rows");
	for (int i = 0; i < nc; i++) {
		double pmin, pmax, smin, smax;
		double pm = median(cmds[i].proc, reps), sm = median(cmds[i].sql, reps);
		pmin = cmds[i].proc[0], pmax = cmds[i].proc[reps - 1];
		smin = cmds[i].sql[0], smax = cmds[i].sql[reps - 1];
		printf("  %-52s %5.1f ms (%6.1f–%6.1f) %5.2f ms (%6.2f–%6.2f) %6d\n", cmds[i].label,
		       pm, pmin, pmax, sm, smin, smax, cmds[i].rows);
	}
	double hm = median(floor_help, reps), cm = median(floor_conn, reps);
	printf("  process floor: meterlab --help %.1f ms (%.1f–%.1f); connect + SELECT 1 %.1f ms "
	       "(%.1f–%.1f)\n",
	       hm, floor_help[0], floor_help[reps - 1], cm, floor_conn[0], floor_conn[reps - 1]);

	/*
	 * asset show: N random assets, each once as SQL on the warm connection
	 * (unnamed statements: parsed and planned at every call, as a library
	 * call on a CLI connection runs them), and N other random assets as SQL
	 * on a second warm connection with the statement cache on, as the
	 * server's pool runs them (db.h). The two
	 * SQL sides alternate which goes first; each asset is read once, so
	 * neither finds the other's pages in shared buffers. Then the first N
	 * once each as a `meterlab asset show` process.
	 */
	char **bcs = calloc((size_t)nshow * 2 + 6, sizeof(char *));
	double *sp = calloc((size_t)nshow, sizeof(double)),
	       *ss = calloc((size_t)nshow, sizeof(double)),
	       *sc = calloc((size_t)nshow, sizeof(double));
	struct db *cached = NULL;
	char n_s[24];
	snprintf(n_s, sizeof(n_s), "%d", nshow * 2 + 6);
	const char *pn[1] = { n_s };
	/* the same assets in every run: a fixed seed */
	rc = db_exec(db, "SELECT setseed(0.42)", 0, NULL, PGRES_TUPLES_OK, NULL, &err);
	if (!rc)
		rc = db_exec(
			db,
			"SELECT (SELECT barcode FROM asset WHERE asset_id >= r ORDER BY asset_id LIMIT 1) "
			"FROM (SELECT 1 + floor(random() * (SELECT max(asset_id) FROM asset))::bigint AS r "
			"FROM generate_series(1, $1::integer)) s",
			1, pn, PGRES_TUPLES_OK, &res, &err);
	int ns = rc || PQntuples(res) < 8 ? 0 : (PQntuples(res) - 6) / 2;
	for (int i = 0; i < 2 * ns + 6 && ns > 0; i++)
		bcs[i] = strdup(PQgetvalue(res, i, 0));
	PQclear(res);
	if (!rc && (rc = db_connect(g_conninfo, &cached, &err)) == 0)
		rc = db_set_statement_cache(cached, 1);
	/* the cache prepares a statement at its first use and PostgreSQL tries
	   custom plans for its first five executions: warm past both on six
	   assets that are not measured */
	for (int i = 0; i < 6 && !rc && ns > 0; i++)
		rc = show_sql(cached, bcs[2 * ns + i], &err);
	/* every SQL read first, then the processes (see the rounds above) */
	for (int i = 0; i < ns && !rc; i++) {
		for (int k = 0; k < 2 && !rc; k++) {
			double s0 = now_ms();
			if ((i + k) % 2 == 0) {
				rc = show_sql(db, bcs[i], &err);
				ss[i] = now_ms() - s0;
			} else {
				rc = show_sql(cached, bcs[ns + i], &err);
				sc[i] = now_ms() - s0;
			}
		}
	}
	for (int i = 0; i < ns && !rc; i++) {
		const char *args[] = { "asset", "show", bcs[i], NULL };
		sp[i] = run_cli(args);
		if (sp[i] < 0)
			rc = ML_EINTERNAL;
	}
	double s50 = 0, s99 = 0, smax = 0, q50 = 0, q99 = 0, c50 = 0, c99 = 0;
	if (!rc && ns > 0) {
		s50 = quantile(sp, ns, 0.5);
		s99 = quantile(sp, ns, 0.99);
		smax = sp[ns - 1];
		q50 = quantile(ss, ns, 0.5);
		q99 = quantile(ss, ns, 0.99);
		c50 = quantile(sc, ns, 0.5);
		c99 = quantile(sc, ns, 0.99);
	}
	if (!rc && ns > 0) {
		printf("  %-52s p50 %5.1f ms  p99 %5.1f ms  (max %.1f) — sql p50 %.2f ms  p99 %.2f ms  "
		       "(%d assets)\n",
		       "asset show BARCODE", s50, s99, smax, q50, q99, ns);
		printf("  %-52s sql p50 %.2f ms  p99 %.2f ms (%d other assets); unnamed/prepared "
		       "p50 %.2fx\n",
		       "asset show, SQL with prepared statements (server)", c50, c99, ns,
		       c50 > 0 ? q50 / c50 : 0);
	} else
		fprintf(stderr, "bench_scale: asset show: %s\n", err.msg);
	for (int i = 0; i < 2 * ns + 6 && ns > 0; i++)
		free(bcs[i]);
	free(bcs);
	free(sp);
	free(ss);
	free(sc);
	db_close(cached);
	for (int i = 0; i < nc; i++) {
		free(cmds[i].proc);
		free(cmds[i].sql);
	}
	if (!rc && writes > 0) {
		rc = write_step(db, writes, &err);
		if (rc)
			fprintf(stderr, "bench_scale: %s\n", err.msg);
	}
	free(floor_help);
	free(floor_conn);
	db_close(db);
	return rc ? 6 : 0;
}
