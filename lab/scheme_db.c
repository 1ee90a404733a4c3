/*
 * scheme_db.c — schemes in PostgreSQL (tables scheme, scheme_step, 0021).
 * Versions are immutable; saving adds version n+1 in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "lab/scheme.h"
#include "sql/db.h"

#define I64(buf, v) (snprintf(buf, sizeof buf, "%lld", (long long)(v)), buf)

/*
 * Saving goes through ml_scheme_save (0112): the steps travel as ONE array
 * parameter of the composite type ml_scheme_step_in, the database checks
 * every step against the regulation (limits no wider, reading counts and the
 * constant-test energy no smaller than the rules; refused naming the step
 * and the rule) and stores an INACTIVE version; scheme.activate makes it the
 * one new runs use.
 */
static int steps_literal(const struct scheme *s, struct ml_buf *b)
{
	int rc = ml_buf_putc(b, '{');
	for (size_t i = 0; i < s->nsteps && !rc; i++) {
		const struct scheme_step *st = &s->steps[i];
		int point = st->kind == STEP_BASIC || st->kind == STEP_CONSTANT;
		/* composite "(kind,base,mult,pf,element,readings,pulses,settle,percent,burden,limit,duration,energy)";
		 * an empty field is NULL */
		rc = ml_buf_printf(b, "%s\"(%d,", i ? "," : "", (int)st->kind);
		rc = rc ||
		     (point ? ml_buf_printf(b, "%d,", (int)st->point.base) : ml_buf_puts(b, ","));
		rc = rc || ml_buf_printf(b, "%lld,", point ? (long long)st->point.mult_e4 : 0LL);
		rc = rc ||
		     (point ? ml_buf_printf(b, "%d,", (int)st->point.pf) : ml_buf_puts(b, ","));
		rc = rc ||
		     ml_buf_printf(b, "%d,%d,%d,%d,%lld,%lld,%lld,%lld,%lld)\"",
				   point ? (int)st->point.element : 0, st->readings, st->pulses,
				   st->settle_timeout_ms, (long long)st->percent_e4,
				   (long long)st->burden_pct_e4, (long long)st->limit_e4,
				   (long long)st->duration_ms, (long long)st->energy_wh_e4);
	}
	return rc || ml_buf_putc(b, '}');
}

int scheme_db_save(struct db *db, struct scheme *s, struct ml_error *err)
{
	if (s->nsteps == 0)
		return ml_errorf(err, ML_EINVAL, "scheme %s has no steps", s->code);
	for (size_t i = 0; i < s->nsteps; i++)
		if (scheme_step_check(&s->steps[i], err))
			return ml_error_prefix(err, "scheme %s step %zu: ", s->code, i + 1),
			       ML_EINVAL;
	struct ml_buf steps = ML_BUF_INIT;
	if (steps_literal(s, &steps)) {
		ml_buf_free(&steps);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	const char *p[6] = { s->code,    s->name,       s->kinds,
			     s->classes, s->connection, ml_buf_str(&steps) };
	PGresult *res = NULL;
	int rc = db_query_one(db,
			      "SELECT ml_scheme_save($1, $2, $3, $4, $5, $6::ml_scheme_step_in[])",
			      6, p, &res, err);
	if (!rc)
		s->version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	ml_buf_free(&steps);
	return rc;
}

int scheme_db_activate(struct db *db, const char *code, int version, int *activated,
		       struct ml_error *err)
{
	char v[16];
	snprintf(v, sizeof v, "%d", version);
	const char *p[2] = { code, version > 0 ? v : NULL };
	PGresult *res = NULL;
	int rc = db_query_one(db, "SELECT ml_scheme_activate($1, $2::int)", 2, p, &res, err);
	if (!rc && activated)
		*activated = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
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
	char what[80];
	snprintf(what, sizeof what, "%.40s (no active version)", code ? code : "");
	return load_where(db, "SELECT * FROM scheme WHERE scheme_id = ml_scheme_active($1)", 1, p,
			  what, out, err);
}

int scheme_db_load_id(struct db *db, int64_t scheme_id, struct scheme **out, struct ml_error *err)
{
	char id[24], what[40];
	snprintf(id, sizeof id, "%lld", (long long)scheme_id);
	snprintf(what, sizeof what, "id %s", id);
	const char *p[] = { id };
	return load_where(db, "SELECT * FROM scheme WHERE scheme_id = $1::bigint", 1, p, what, out,
			  err);
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
	const char *p[] = { code };
	return db_cmd(db, "SELECT ml_scheme_retire($1)", 1, p, err);
}

int scheme_db_list(struct db *db, struct scheme_summary **out, size_t *n, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(
		db,
		"SELECT DISTINCT ON (s.code) s.code, s.name, s.kinds, s.classes, s.connection, s.version, "
		"(SELECT count(*) FROM scheme_step t WHERE t.scheme_id = s.scheme_id) AS nsteps, "
		"coalesce((SELECT a.version FROM scheme a WHERE a.scheme_id = ml_scheme_active(s.code)), 0) "
		"AS active_version FROM scheme s WHERE s.retired_at IS NULL ORDER BY s.code, s.version DESC",
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
		v[i].active_version = (int)col64(res, i, "active_version");
	}
	PQclear(res);
	*out = v;
	*n = (size_t)rows;
	return ML_OK;
}
