/*
 * bench_watch — the monitoring rules (issue 15: "all rules evaluated over a
 * registry of 10 M assets in under a minute") over a registry grown by
 * bench_gen, with field data added for the rules that read it.
 *
 *   build/bench/bench_watch --db CONNINFO [--reps 5]
 *
 * CONNINFO (key=value form) must be the DBA's, on a migrated database that
 * holds a registry (bench_gen --to N; scripts/bench watch [--watch-to N]).
 * When the registry has no installations yet, the DBA adds them once, with
 * triggers off (what the field flow would have written, faster): a metering
 * point and an active installation for every installed asset; for one in
 * 200 a previous installation removed at a reading above the current
 * install reading (reading_backwards trips); an applied seal on all but one
 * in 100 (unsealed_install trips); 50 reference standards, certificates
 * ending every 20 days. The person "bench.watch" (manager) is added when
 * missing. Triggers being off, the rules' derived candidates (0310: the
 * previous removal reading on each installation, the unsealed list) are then
 * rebuilt once by ml_watch_field_rebuild, as a DBA does after a bulk load.
 *
 * Measured, each as the median over --reps: every rule's query alone
 * (ml_watch_detect, the anomalies it finds), then ml_watch_run of all rules
 * as bench.watch — the first run (opens an item for every anomaly) once,
 * then the steady state (every anomaly already open) — which is what cron
 * runs — and, last, `meterlab watch run`'s library call (watch_run), which
 * also computes the quality issue's early warning for the quality_flag rule
 * in C before the rules run. Prints the registry size and rows of the tables
 * the rules read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "plan/watch.h"
#include "sql/db.h"

static const char *arg(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return def;
}

static long long scalar(struct db *db, const char *sql, struct ml_error *err, int *rc)
{
	PGresult *res = NULL;
	*rc = db_query_one(db, sql, 0, NULL, &res, err);
	if (*rc)
		return -1;
	long long v = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static const char *const setup_sql[] = {
	"SET session_replication_role = replica",
	"INSERT INTO metering_point (code, account_no, address, site_id, created_by) "
	"SELECT 'BP' || a.asset_id, 'A' || a.asset_id, 'bench address', a.location_id, "
	" (SELECT user_id FROM app_user WHERE login = 'bench.watch') "
	"FROM asset a WHERE a.state = 'installed' AND a.location_id IS NOT NULL",
	"INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, installed_at, install_kwh) "
	"SELECT a.asset_id, p.point_id, 'meter', "
	" (SELECT location_id FROM location WHERE kind = 'field_team' ORDER BY location_id LIMIT 1), "
	" p.created_by, a.state_changed_at, (a.asset_id % 5000) "
	"FROM asset a JOIN metering_point p ON p.code = 'BP' || a.asset_id WHERE a.state = 'installed'",
	"INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, installed_at, install_kwh, "
	" removed_by, removed_at, remove_kwh, remove_reason) "
	"SELECT i.asset_id, i.point_id, 'meter', i.team_id, i.installed_by, i.installed_at - interval '400 days', 0, "
	" i.installed_by, i.installed_at - interval '1 day', i.install_kwh + 10, 'rotation' "
	"FROM installation i WHERE i.asset_id % 200 = 0",
	"INSERT INTO seal (code, batch, state, installation_id, asset_id) "
	"SELECT 'BSEAL' || i.installation_id, 'BENCH', 'applied', i.installation_id, i.asset_id "
	"FROM installation i WHERE i.removed_at IS NULL AND i.asset_id % 100 <> 0",
	"INSERT INTO reference_standard (code, name, accuracy_class) "
	"SELECT 'BSTD' || g, 'bench standard', '0.05' FROM generate_series(1, 50) g",
	"INSERT INTO standard_certificate (standard_id, cert_no, issuer, valid_from, valid_until) "
	"SELECT standard_id, 'BC' || standard_id, 'NIM', current_date - 300, current_date - 30 + 20 * (standard_id % 50)::int "
	"FROM reference_standard WHERE code LIKE 'BSTD%'",
	"SET session_replication_role = origin",
};

int main(int argc, char **argv)
{
	int reps = atoi(arg(argc, argv, "--reps", "5"));
	const char *ci = arg(argc, argv, "--db", getenv("METERLAB_DB"));
	if (reps < 1 || reps > 50 || !ci) {
		fprintf(stderr, "usage: bench_watch --db CONNINFO [--reps R (5)]\n");
		return 2;
	}
	struct ml_error err = ML_ERROR_INIT;
	struct db *dba = NULL, *mgr = NULL;
	PGresult *rules = NULL, *res = NULL;
	char cm[1024];
	snprintf(cm, sizeof cm, "%s user=bench.watch", ci);
	double t[50], sum = 0;
	int rc = db_connect(ci, &dba, &err);
	if (rc)
		goto out;
	if (!scalar(dba, "SELECT count(*) FROM app_user WHERE login = 'bench.watch'", &err, &rc) &&
	    !rc)
		rc = db_cmd(dba, "SELECT ml_user_add('bench.watch', 'bench.watch', '{manager}')", 0,
			    NULL, &err);
	if (rc || (rc = db_connect(cm, &mgr, &err)))
		goto out;
	long long assets = scalar(dba, "SELECT sum(n) FROM asset_count_model", &err, &rc);
	if (rc)
		goto out;
	if (scalar(dba, "SELECT count(*) FROM installation", &err, &rc) == 0 && !rc) {
		double t0 = now_s();
		rc = db_begin(dba,
			      &err); /* all or nothing: a re-run finds no half-made field data */
		for (size_t i = 0; i < sizeof setup_sql / sizeof *setup_sql && !rc; i++)
			rc = db_cmd(dba, setup_sql[i], 0, NULL, &err);
		if ((rc = db_finish(dba, rc, &err)))
			goto out;
		printf("setup: field data added in %.1f s\n", now_s() - t0);
		t0 = now_s();
		if ((rc = db_cmd(dba, "SELECT * FROM ml_watch_field_rebuild()", 0, NULL, &err)))
			goto out;
		printf("setup: derived candidates rebuilt in %.1f s\n", now_s() - t0);
		if ((rc = db_cmd(
			     dba,
			     "ANALYZE metering_point, installation, seal, installation_unsealed", 0,
			     NULL, &err)))
			goto out;
	}
	if (rc)
		goto out;
	printf("registry: %lld assets, %lld installations, %lld seals, %lld in transit, %lld in stock\n",
	       assets, scalar(dba, "SELECT count(*) FROM installation", &err, &rc),
	       scalar(dba, "SELECT count(*) FROM seal", &err, &rc),
	       scalar(dba,
		      "SELECT coalesce(sum(n), 0) FROM asset_count_model WHERE state = 'in_transit'",
		      &err, &rc),
	       scalar(dba,
		      "SELECT coalesce(sum(n), 0) FROM asset_count_model WHERE state IN ('in_stock', 'secondary_stock')",
		      &err, &rc));
	if (rc || (rc = db_exec(dba, "SELECT code, threshold FROM watch_rule ORDER BY code", 0,
				NULL, PGRES_TUPLES_OK, &rules, &err)))
		goto out;
	for (int r = 0; r < PQntuples(rules) && !rc; r++) {
		const char *p[2] = { PQgetvalue(rules, r, 0),
				     PQgetisnull(rules, r, 1) ? NULL : PQgetvalue(rules, r, 1) };
		long long found = 0;
		for (int i = 0; i < reps && !rc; i++) {
			double t0 = now_s();
			rc = db_query_one(mgr, "SELECT count(*) FROM ml_watch_detect($1, $2::int)",
					  2, p, &res, &err);
			t[i] = now_s() - t0;
			if (!rc)
				found = atoll(PQgetvalue(res, 0, 0));
			PQclear(res);
			res = NULL;
		}
		if (rc)
			break;
		double m = median(t, reps);
		sum += m;
		printf("  rule %-24s median %8.3f s  %9lld anomalies\n", p[0], m, found);
	}
	if (rc)
		goto out;
	printf("  %-29s        %8.3f s\n", "sum of the rules", sum);
	/* The same run's ratio for 0310: the two rules as 0300-0308 computed them (a
	 * window over every meter installation; an anti-join of every active one with
	 * every seal), counted over the same data. */
	static const char *const before_0310[][2] = {
		{ "reading_backwards",
		  "SELECT count(*) FROM (SELECT i.install_kwh, lag(i.remove_kwh) OVER w AS prev "
		  "FROM installation i WHERE i.element = 'meter' "
		  "WINDOW w AS (PARTITION BY i.asset_id ORDER BY i.installed_at, i.installation_id)) x "
		  "WHERE x.install_kwh * 100 < x.prev * 100 - $1::int" },
		{ "unsealed_install",
		  "SELECT count(*) FROM installation i JOIN asset a ON a.asset_id = i.asset_id "
		  "JOIN metering_point p ON p.point_id = i.point_id "
		  "WHERE i.removed_at IS NULL AND i.element = 'meter' "
		  "AND i.installed_at < now() - make_interval(hours => $1::int) "
		  "AND NOT EXISTS (SELECT 1 FROM seal s WHERE s.installation_id = i.installation_id "
		  "AND s.state = 'applied')" },
	};
	for (size_t k = 0; k < sizeof before_0310 / sizeof *before_0310 && !rc; k++) {
		PGresult *th = NULL;
		const char *code[1] = { before_0310[k][0] };
		if ((rc = db_query_one(dba, "SELECT threshold FROM watch_rule WHERE code = $1", 1,
				       code, &th, &err)))
			break;
		char thv[32];
		snprintf(thv, sizeof thv, "%s", PQgetvalue(th, 0, 0));
		PQclear(th);
		const char *p[1] = { thv };
		long long found = 0;
		for (int i = 0; i < reps && !rc; i++) {
			double t0 = now_s();
			rc = db_query_one(dba, before_0310[k][1], 1, p, &res, &err);
			t[i] = now_s() - t0;
			if (!rc)
				found = atoll(PQgetvalue(res, 0, 0));
			PQclear(res);
			res = NULL;
		}
		if (!rc)
			printf("  before 0310: %-17s median %8.3f s  %9lld anomalies\n", code[0],
			       median(t, reps), found);
	}
	if (rc)
		goto out;
	double t0 = now_s();
	if ((rc = db_exec(mgr, "SELECT sum(n_opened) FROM ml_watch_run()", 0, NULL, PGRES_TUPLES_OK,
			  &res, &err)))
		goto out;
	printf("  watch run (first: opens %s items)  %8.3f s\n", PQgetvalue(res, 0, 0),
	       now_s() - t0);
	PQclear(res);
	res = NULL;
	for (int i = 0; i < reps && !rc; i++) {
		t0 = now_s();
		rc = db_exec(mgr, "SELECT sum(n_opened) FROM ml_watch_run()", 0, NULL,
			     PGRES_TUPLES_OK, &res, &err);
		t[i] = now_s() - t0;
		PQclear(res);
		res = NULL;
	}
	if (rc)
		goto out;
	printf("  watch run (steady state)       median %8.3f s  (%d runs)\n", median(t, reps),
	       reps);
	for (int i = 0; i < reps && !rc; i++) {
		t0 = now_s();
		rc = watch_run(mgr, NULL, &res, &err);
		t[i] = now_s() - t0;
		PQclear(res);
		res = NULL;
	}
	if (!rc)
		printf("  meterlab watch run (+ early warning) median %8.3f s  (%d runs)\n",
		       median(t, reps), reps);
out:
	PQclear(res);
	PQclear(rules);
	db_close(mgr);
	db_close(dba);
	if (rc) {
		fprintf(stderr, "bench_watch: %s\n", err.msg);
		return 1;
	}
	return 0;
}
