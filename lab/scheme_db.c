/*
 * scheme_db.c — schemes in PostgreSQL (tables scheme, scheme_step, 0021).
 * Versions are immutable; saving adds version n+1 in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/scheme.h"
#include "sql/db.h"

#define I64(buf, v) (snprintf(buf, sizeof buf, "%lld", (long long)(v)), buf)

static int insert_step(struct db *db, const char *scheme_id, int seq, const struct scheme_step *st,
		       struct ml_error *err)
{
	char b[15][24];
	int point = st->kind == STEP_BASIC || st->kind == STEP_CONSTANT;
	const char *p[15] = {
		scheme_id,
		I64(b[1], seq),
		I64(b[2], st->kind),
		point ? I64(b[3], st->point.base) : NULL,
		point ? I64(b[4], st->point.mult_e4) : "0",
		point ? I64(b[5], st->point.pf) : NULL,
		point ? I64(b[6], st->point.element) : "0",
		I64(b[7], st->readings),
		I64(b[8], st->pulses),
		I64(b[9], st->settle_timeout_ms),
		I64(b[10], st->percent_e4),
		I64(b[11], st->burden_pct_e4),
		I64(b[12], st->limit_e4),
		I64(b[13], st->duration_ms),
		I64(b[14], st->energy_wh_e4),
	};
	return db_cmd(
		db,
		"INSERT INTO scheme_step (scheme_id, seq, kind, point_base, mult_e4, pf, element, readings, pulses, "
		"settle_timeout_ms, percent_e4, burden_pct_e4, limit_e4, duration_ms, energy_wh_e4) "
		"VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
		15, p, err);
}

static int save_tx(struct db *db, struct scheme *s, struct ml_error *err)
{
	PGresult *res = NULL;
	const char *pc[] = { s->code };
	/* serialise savers of one code: version = max + 1 must not race */
	int rc = db_exec(db,
			 "SELECT pg_advisory_xact_lock(hashtext('meterlab.scheme'), hashtext($1))",
			 1, pc, PGRES_TUPLES_OK, NULL, err);
	rc = rc ? rc
		: db_cmd(db,
			 "UPDATE scheme SET retired_at = NULL WHERE code = $1 AND retired_at IS NOT NULL",
			 1, pc, err);
	const char *pi[] = { s->code, s->name, s->kinds, s->classes, s->connection };
	rc = rc ? rc
		: db_query_one(
			  db,
			  "INSERT INTO scheme (code, version, name, kinds, classes, connection) "
			  "SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5 FROM scheme WHERE code = $1 "
			  "RETURNING scheme_id, version",
			  5, pi, &res, err);
	if (rc)
		return rc;
	char id[24];
	snprintf(id, sizeof id, "%s", db_get(res, 0, "scheme_id"));
	int version = atoi(db_get(res, 0, "version"));
	PQclear(res);
	for (size_t i = 0; i < s->nsteps && !rc; i++)
		rc = insert_step(db, id, (int)i + 1, &s->steps[i], err);
	if (!rc)
		s->version = version;
	return rc;
}

int scheme_db_save(struct db *db, struct scheme *s, struct ml_error *err)
{
	if (s->nsteps == 0)
		return ml_errorf(err, ML_EINVAL, "scheme %s has no steps", s->code);
	for (size_t i = 0; i < s->nsteps; i++)
		if (scheme_step_check(&s->steps[i], err))
			return ml_error_prefix(err, "scheme %s step %zu: ", s->code, i + 1),
			       ML_EINVAL;
	int rc = db_begin(db, err);
	rc = rc ? rc : save_tx(db, s, err);
	rc = rc ? rc : db_commit(db, err);
	if (rc)
		db_rollback(db);
	return rc;
}

static int64_t col64(const PGresult *res, int row, const char *name)
{
	const char *v = db_get(res, row, name);
	return v ? strtoll(v, NULL, 10) : 0;
}

static int load_steps(struct db *db, struct scheme *s, const char *scheme_id, struct ml_error *err)
{
	PGresult *res = NULL;
	const char *p[] = { scheme_id };
	int rc = db_exec(db, "SELECT * FROM scheme_step WHERE scheme_id = $1 ORDER BY seq", 1, p,
			 PGRES_TUPLES_OK, &res, err);
	for (int i = 0; !rc && i < PQntuples(res); i++) {
		struct scheme_step st;
		memset(&st, 0, sizeof st);
		st.kind = (enum scheme_step_kind)col64(res, i, "kind");
		st.point.base = (enum point_base)col64(res, i, "point_base");
		st.point.mult_e4 = col64(res, i, "mult_e4");
		st.point.pf = (enum point_pf)col64(res, i, "pf");
		st.point.element = (enum point_element)col64(res, i, "element");
		st.readings = (int)col64(res, i, "readings");
		st.pulses = (int)col64(res, i, "pulses");
		st.settle_timeout_ms = (int)col64(res, i, "settle_timeout_ms");
		st.percent_e4 = col64(res, i, "percent_e4");
		st.burden_pct_e4 = col64(res, i, "burden_pct_e4");
		st.limit_e4 = col64(res, i, "limit_e4");
		st.duration_ms = col64(res, i, "duration_ms");
		st.energy_wh_e4 = col64(res, i, "energy_wh_e4");
		if (st.kind != STEP_BASIC && st.kind != STEP_CONSTANT) {
			st.point.base = 0;
			st.point.pf = 0;
		}
		rc = scheme_add_step(s, &st, err);
	}
	PQclear(res);
	return rc;
}

static int load_where(struct db *db, const char *sql, int np, const char *const *params,
		      const char *what, struct scheme **out, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(db, sql, np, params, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return ml_errorf(err, ML_ENOTFOUND, "scheme %s not found", what);
	}
	struct scheme *s = NULL;
	rc = scheme_new(db_get(res, 0, "code"), db_get(res, 0, "name"), &s, err);
	if (!rc) {
		snprintf(s->kinds, sizeof s->kinds, "%s", db_get(res, 0, "kinds"));
		snprintf(s->classes, sizeof s->classes, "%s", db_get(res, 0, "classes"));
		snprintf(s->connection, sizeof s->connection, "%s", db_get(res, 0, "connection"));
		s->version = (int)col64(res, 0, "version");
		rc = load_steps(db, s, db_get(res, 0, "scheme_id"), err);
	}
	PQclear(res);
	if (rc) {
		scheme_free(s);
		return rc;
	}
	*out = s;
	return ML_OK;
}

int scheme_db_load(struct db *db, const char *code, struct scheme **out, struct ml_error *err)
{
	const char *p[] = { code };
	return load_where(
		db,
		"SELECT * FROM scheme WHERE code = $1 AND retired_at IS NULL ORDER BY version DESC LIMIT 1",
		1, p, code, out, err);
}

int scheme_db_load_version(struct db *db, const char *code, int version, struct scheme **out,
			   struct ml_error *err)
{
	char v[24], what[64];
	snprintf(v, sizeof v, "%d", version);
	snprintf(what, sizeof what, "%.40s version %d", code ? code : "", version);
	const char *p[] = { code, v };
	return load_where(db, "SELECT * FROM scheme WHERE code = $1 AND version = $2", 2, p, what,
			  out, err);
}

int scheme_db_retire(struct db *db, const char *code, struct ml_error *err)
{
	PGresult *res = NULL;
	const char *p[] = { code };
	int rc = db_exec(
		db, "UPDATE scheme SET retired_at = now() WHERE code = $1 AND retired_at IS NULL",
		1, p, PGRES_COMMAND_OK, &res, err);
	if (rc)
		return rc;
	int n = atoi(PQcmdTuples(res));
	PQclear(res);
	return n > 0 ? ML_OK
		     : ml_errorf(err, ML_ENOTFOUND, "scheme %s not found (or already retired)",
				 code);
}

int scheme_db_list(struct db *db, struct scheme_summary **out, size_t *n, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(
		db,
		"SELECT DISTINCT ON (s.code) s.code, s.name, s.kinds, s.classes, s.connection, s.version, "
		"(SELECT count(*) FROM scheme_step t WHERE t.scheme_id = s.scheme_id) AS nsteps "
		"FROM scheme s WHERE s.retired_at IS NULL ORDER BY s.code, s.version DESC",
		0, NULL, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	int rows = PQntuples(res);
	struct scheme_summary *v = calloc(rows ? (size_t)rows : 1, sizeof *v);
	if (!v) {
		PQclear(res);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (int i = 0; i < rows; i++) {
		snprintf(v[i].code, sizeof v[i].code, "%s", db_get(res, i, "code"));
		snprintf(v[i].name, sizeof v[i].name, "%s", db_get(res, i, "name"));
		snprintf(v[i].kinds, sizeof v[i].kinds, "%s", db_get(res, i, "kinds"));
		snprintf(v[i].classes, sizeof v[i].classes, "%s", db_get(res, i, "classes"));
		snprintf(v[i].connection, sizeof v[i].connection, "%s",
			 db_get(res, i, "connection"));
		v[i].version = (int)col64(res, i, "version");
		v[i].nsteps = (int)col64(res, i, "nsteps");
	}
	PQclear(res);
	*out = v;
	*n = (size_t)rows;
	return ML_OK;
}
