/* field.c — field work through the database functions of 0225 (see field.h). */
#include "field/field.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "sql/pgarr.h"

/* ---- small helpers ---- */

/* codes as one text[] literal in a (owned by a); NULL on out of memory. */
static const char *codes_array(struct pgarr *a, const char *const *codes, size_t n)
{
	pgarr_init(a);
	for (size_t i = 0; i < n; i++)
		pgarr_add(a, codes[i]);
	return pgarr_finish(a);
}

/* One statement returning one bigint (an id or a count) into *out (may be NULL). */
static int call_i64(struct db *db, const char *sql, int np, const char *const *p, int64_t *out,
		    struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_query_one(db, sql, np, p, &res, err);
	if (rc)
		return rc;
	if (out)
		*out = PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return ML_OK;
}

static int call_count(struct db *db, const char *sql, int np, const char *const *p, size_t *count,
		      struct ml_error *err)
{
	int64_t v = 0;
	int rc = call_i64(db, sql, np, p, &v, err);
	if (!rc && count)
		*count = (size_t)v;
	return rc;
}

/* ---- CSV (RFC 4180 subset: comma, double quotes with "" inside, CR LF or LF) ---- */

struct csv_row {
	char *f[8];
	size_t n;
};

/* Parse the next record of [*p, end) into row (fields malloc'd; csv_row_free).
 * Returns 1 for a record, 0 at the end, -1 on a malformed record (unterminated
 * quote), -2 for a record of more fields than row holds, -3 out of memory. */
static void csv_row_free(struct csv_row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i]);
	r->n = 0;
}

static int csv_next(const char **p, const char *end, struct csv_row *row)
{
	const char *s = *p;
	row->n = 0;
	if (s >= end)
		return 0;
	for (;;) {
		struct ml_buf b = ML_BUF_INIT;
		if (s < end && *s == '"') {
			s++;
			for (;;) {
				if (s >= end) {
					ml_buf_free(&b);
					return -1;
				}
				if (*s == '"') {
					if (s + 1 < end && s[1] == '"') {
						ml_buf_putc(&b, '"');
						s += 2;
						continue;
					}
					s++;
					break;
				}
				ml_buf_putc(&b, *s++);
			}
		}
		while (s < end && *s != ',' && *s != '\n' && *s != '\r')
			ml_buf_putc(&b, *s++);
		char *v = ml_buf_failed(&b) ? NULL : strdup(ml_buf_str(&b));
		ml_buf_free(&b);
		if (!v || row->n == sizeof row->f / sizeof row->f[0]) {
			free(v);
			csv_row_free(row);
			return v ? -2 : -3;
		}
		row->f[row->n++] = v;
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (s < end && *s == '\r')
			s++;
		if (s < end && *s == '\n')
			s++;
		*p = s;
		return 1;
	}
}

void field_point_report_free(struct field_point_report *rep)
{
	if (!rep)
		return;
	free(rep->problems);
	rep->problems = NULL;
	rep->nproblems = 0;
}

static int add_problem(struct field_point_report *rep, size_t line, const char *code,
		       const char *msg)
{
	struct field_problem *np = realloc(rep->problems,
					   (rep->nproblems + 1) * sizeof *rep->problems);
	if (!np)
		return ML_ENOMEM;
	rep->problems = np;
	struct field_problem *x = &np[rep->nproblems++];
	x->line = line;
	snprintf(x->code, sizeof x->code, "%s", code ? code : "");
	snprintf(x->msg, sizeof x->msg, "%s", msg);
	return ML_OK;
}

int field_point_import(struct db *db, const char *csv, size_t len, struct field_point_report *rep,
		       struct ml_error *err)
{
	static const char *const header[] = { "code", "account", "address", "site" };
	memset(rep, 0, sizeof *rep);
	struct pgarr col[4];
	size_t *lines = NULL, nrows = 0;
	struct csv_row row = { { 0 }, 0 };
	PGresult *res = NULL;
	int rc = ML_OK;
	for (int k = 0; k < 4; k++)
		pgarr_init(&col[k]);
	const char *p = csv, *end = csv + len;
	size_t line = 0;
	int r;
	/* a spreadsheet's "CSV UTF-8" starts with a byte order mark */
	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	while ((r = csv_next(&p, end, &row)) == 1) {
		line++;
		if (line == 1) {
			int ok = row.n == 4;
			for (size_t k = 0; ok && k < 4; k++)
				ok = !strcmp(row.f[k], header[k]);
			csv_row_free(&row);
			if (!ok) {
				rc = ml_errorf(
					err, ML_EINVAL,
					"line 1: the header must be code,account,address,site");
				goto out;
			}
			continue;
		}
		if (row.n == 1 && !row.f[0][0]) { /* an empty line */
			csv_row_free(&row);
			continue;
		}
		if (row.n != 4) {
			char m[96];
			snprintf(m, sizeof m, "has %zu fields; code,account,address,site are 4",
				 row.n);
			rc = add_problem(rep, line, row.f[0], m);
		} else {
			for (int k = 0; k < 4; k++)
				pgarr_add(&col[k], row.f[k]);
			size_t *nl = realloc(lines, (nrows + 1) * sizeof *lines);
			if (!nl)
				rc = ML_ENOMEM;
			else
				(lines = nl)[nrows++] = line;
		}
		csv_row_free(&row);
		if (rc) {
			rc = ml_errorf(err, ML_ENOMEM, "out of memory reading the metering points");
			goto out;
		}
	}
	if (r == -3) {
		rc = ml_errorf(err, ML_ENOMEM, "out of memory reading the metering points");
		goto out;
	}
	if (r == -2) {
		rc = ml_errorf(err, ML_EINVAL,
			       "line %zu: more than %zu fields; code,account,address,site are 4",
			       line + 1, sizeof row.f / sizeof row.f[0]);
		goto out;
	}
	if (r < 0) {
		rc = ml_errorf(err, ML_EINVAL, "line %zu: a quoted field is not closed", line + 1);
		goto out;
	}
	if (!nrows && !rep->nproblems) {
		rc = ml_errorf(err, ML_EINVAL, "the file has no metering points");
		goto out;
	}
	const char *a[4];
	for (int k = 0; k < 4; k++) {
		if (!(a[k] = pgarr_finish(&col[k]))) {
			rc = ml_errorf(err, ML_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!rep->nproblems) {
		rc = db_exec(db,
			     "SELECT idx, code, msg FROM ml_point_add($1::text[], $2::text[], "
			     "$3::text[], $4::text[])",
			     4, a, PGRES_TUPLES_OK, &res, err);
		if (rc)
			goto out;
		for (int i = 0; i < PQntuples(res) && !rc; i++) {
			size_t idx = strtoull(PQgetvalue(res, i, 0), NULL, 10);
			rc = add_problem(rep, idx >= 1 && idx <= nrows ? lines[idx - 1] : idx,
					 PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
		}
		if (rc) {
			rc = ml_errorf(err, ML_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (rep->nproblems) {
		rc = ml_errorf(err, ML_EINVAL, "line %zu: %s (%zu problem%s; nothing imported)",
			       rep->problems[0].line, rep->problems[0].msg, rep->nproblems,
			       rep->nproblems == 1 ? "" : "s");
		goto out;
	}
	rep->added = nrows;
out:
	PQclear(res);
	free(lines);
	for (int k = 0; k < 4; k++)
		pgarr_free(&col[k]);
	return rc;
}

int field_point_show(struct db *db, const char *point, PGresult **out, struct ml_error *err)
{
	const char *p[1] = { point };
	PGresult *res = NULL;
	int rc = db_query_one(db, "SELECT 1 FROM metering_point WHERE code = $1", 1, p, &res, err);
	PQclear(res);
	if (rc == ML_ENOTFOUND)
		return ml_errorf(err, ML_ENOTFOUND, "metering point '%s' does not exist",
				 point ? point : "");
	if (rc)
		return rc;
	return db_exec(
		db,
		"SELECT mp.code AS point, mp.account_no AS account, mp.address, l.code AS site, "
		"i.element, a.barcode, to_char(i.installed_at, 'YYYY-MM-DD HH24:MI') AS installed_at, "
		"ui.login AS installed_by, i.install_kwh::text AS install_kwh, "
		"to_char(i.removed_at, 'YYYY-MM-DD HH24:MI') AS removed_at, ur.login AS removed_by, "
		"i.remove_kwh::text AS remove_kwh, i.remove_reason, "
		"(SELECT string_agg(s.code, ' ' ORDER BY s.code) FROM seal s "
		" WHERE s.installation_id = i.installation_id) AS seals "
		"FROM metering_point mp JOIN location l ON l.location_id = mp.site_id "
		"LEFT JOIN installation i ON i.point_id = mp.point_id "
		"LEFT JOIN asset a ON a.asset_id = i.asset_id "
		"LEFT JOIN app_user ui ON ui.user_id = i.installed_by "
		"LEFT JOIN app_user ur ON ur.user_id = i.removed_by "
		"WHERE mp.code = $1 ORDER BY i.installation_id DESC NULLS LAST",
		1, p, PGRES_TUPLES_OK, out, err);
}

/* ---- install, remove, swap ---- */

int field_install(struct db *db, const struct field_install_in *in, int64_t *installation_id,
		  struct ml_error *err)
{
	struct pgarr s;
	const char *seals = codes_array(&s, in->seals, in->nseals);
	if (!seals) {
		pgarr_free(&s);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	const char *p[6] = {
		in->barcode, in->point, in->element, in->kwh, in->tariffs_json, seals
	};
	int rc = call_i64(db, "SELECT ml_install($1, $2, $3, $4, $5::jsonb, $6::text[])", 6, p,
			  installation_id, err);
	pgarr_free(&s);
	return rc;
}

int field_remove(struct db *db, const struct field_remove_in *in, int64_t *installation_id,
		 struct ml_error *err)
{
	struct pgarr s;
	const char *seals = codes_array(&s, in->seals, in->nseals);
	if (!seals) {
		pgarr_free(&s);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	const char *p[5] = { in->barcode, in->kwh, in->reason, in->note, seals };
	int rc = call_i64(db, "SELECT ml_remove($1, $2, $3, $4, $5::text[])", 5, p, installation_id,
			  err);
	pgarr_free(&s);
	return rc;
}

int field_swap(struct db *db, const struct field_remove_in *old,
	       const struct field_install_in *repl, int64_t *installation_id, struct ml_error *err)
{
	struct pgarr s;
	const char *seals = codes_array(&s, repl->seals, repl->nseals);
	if (!seals) {
		pgarr_free(&s);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	const char *p[7] = { old->barcode, old->kwh,           old->reason, repl->barcode,
			     repl->kwh,    repl->tariffs_json, seals };
	int rc = call_i64(db, "SELECT ml_swap($1, $2, $3, $4, $5, $6::jsonb, $7::text[])", 7, p,
			  installation_id, err);
	pgarr_free(&s);
	return rc;
}

/* ---- seals ---- */

static int seal_call(struct db *db, const char *sql, const char *const *codes, size_t n,
		     const char *a2, const char *a3, int np, size_t *count, struct ml_error *err)
{
	if (!n)
		return ml_errorf(err, ML_EINVAL, "no seal codes given");
	struct pgarr s;
	const char *arr = codes_array(&s, codes, n);
	if (!arr) {
		pgarr_free(&s);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	const char *p[3] = { arr, a2, a3 };
	int rc = call_count(db, sql, np, p, count, err);
	pgarr_free(&s);
	return rc;
}

int field_seal_receive(struct db *db, const char *const *codes, size_t n, const char *batch,
		       size_t *count, struct ml_error *err)
{
	return seal_call(db, "SELECT ml_seal_receive($1::text[], $2)", codes, n, batch, NULL, 2,
			 count, err);
}

int field_seal_issue(struct db *db, const char *const *codes, size_t n, const char *team,
		     const char *login, size_t *count, struct ml_error *err)
{
	return seal_call(db, "SELECT ml_seal_issue($1::text[], $2, $3)", codes, n, team, login, 3,
			 count, err);
}

int field_seal_destroy(struct db *db, const char *const *codes, size_t n, const char *reason,
		       size_t *count, struct ml_error *err)
{
	return seal_call(db, "SELECT ml_seal_destroy($1::text[], $2)", codes, n, reason, NULL, 2,
			 count, err);
}

int field_seal_apply(struct db *db, const char *barcode, const char *const *codes, size_t n,
		     size_t *count, struct ml_error *err)
{
	/* the barcode goes second: seal_call puts the codes first */
	return seal_call(db, "SELECT ml_seal_apply($2, $1::text[])", codes, n, barcode, NULL, 2,
			 count, err);
}

int field_seal_list(struct db *db, const struct field_seal_filter *f, PGresult **out,
		    struct ml_error *err)
{
	if (f->limit < 0 || f->limit > FIELD_SEAL_PAGE_MAX)
		return ml_errorf(err, ML_EINVAL, "seal page size %d is not 1..%d", f->limit,
				 FIELD_SEAL_PAGE_MAX);
	char lim[16];
	snprintf(lim, sizeof lim, "%d", f->limit ? f->limit : FIELD_SEAL_PAGE_MAX);
	const char *p[6] = { f->code, f->team, f->state, f->after, f->mine ? "t" : "f", lim };
	/* keyset paging on the unique code (its index): a page costs its rows, not the offset */
	return db_exec(
		db,
		"SELECT s.code, s.batch, s.state, coalesce(t.code, u.login, '') AS holder, "
		"coalesce(a.barcode, '') AS asset, coalesce(mp.code, '') AS point, "
		"to_char(s.changed_at, 'YYYY-MM-DD HH24:MI') AS changed_at "
		"FROM seal s LEFT JOIN location t ON t.location_id = s.holder_team_id "
		"LEFT JOIN app_user u ON u.user_id = s.holder_user_id "
		"LEFT JOIN asset a ON a.asset_id = s.asset_id "
		"LEFT JOIN installation i ON i.installation_id = s.installation_id "
		"LEFT JOIN metering_point mp ON mp.point_id = i.point_id "
		"WHERE ($1::text IS NULL OR s.code = $1) AND ($2::text IS NULL OR t.code = $2) "
		"AND ($3::text IS NULL OR s.state = $3) AND ($4::text IS NULL OR s.code > $4) "
		"AND (NOT $5::boolean OR (s.state = 'issued' AND (s.holder_user_id = "
		"ml_actor_id_or_null() OR s.holder_team_id = (SELECT team_location_id FROM app_user "
		"WHERE user_id = ml_actor_id_or_null())))) "
		"ORDER BY s.code LIMIT $6::int",
		6, p, PGRES_TUPLES_OK, out, err);
}

int field_seal_history(struct db *db, const char *code, PGresult **out, struct ml_error *err)
{
	const char *p[1] = { code };
	PGresult *res = NULL;
	*out = NULL;
	int rc = db_exec(db, "SELECT seal_id FROM seal WHERE code = $1", 1, p, PGRES_TUPLES_OK,
			 &res, err);
	if (rc)
		return rc;
	int known = PQntuples(res) == 1;
	PQclear(res);
	if (!known)
		return ml_errorf(err, ML_ENOTFOUND, "seal '%s' is not registered", code);
	return db_exec(
		db,
		"SELECT e.action, to_char(e.at, 'YYYY-MM-DD HH24:MI') AS at, u.login AS actor, "
		"u.display_name AS actor_name, e.details "
		"FROM seal s JOIN seal_event e USING (seal_id) "
		"JOIN app_user u ON u.user_id = e.actor_id "
		"WHERE s.code = $1 ORDER BY e.event_id",
		1, p, PGRES_TUPLES_OK, out, err);
}

/* ---- faults ---- */

int field_fault_report(struct db *db, const char *barcode, const char *symptom,
		       const char *description, const char *complaint, const char *lab,
		       int64_t *fault_id, struct ml_error *err)
{
	const char *p[5] = { barcode, symptom, description, complaint, lab };
	return call_i64(db, "SELECT ml_fault_report($1, $2, $3, $4, $5)", 5, p, fault_id, err);
}

int field_fault_outcome(struct db *db, int64_t fault_id, const char *outcome, const char *note,
			struct ml_error *err)
{
	char id[24];
	snprintf(id, sizeof id, "%" PRId64, fault_id);
	const char *p[3] = { id, outcome, note };
	return db_cmd(db, "SELECT ml_fault_outcome($1::bigint, $2, $3)", 3, p, err);
}

int field_fault_list(struct db *db, int open_only, PGresult **out, struct ml_error *err)
{
	const char *p[1] = { open_only ? "t" : "f" };
	return db_exec(
		db,
		"SELECT f.fault_id, a.barcode, f.symptom, fs.name_zh AS symptom_zh, f.kind, "
		"coalesce(f.complaint_ref, '') AS complaint, f.description, ur.login AS reported_by, "
		"to_char(f.reported_at, 'YYYY-MM-DD') AS reported_on, coalesce(f.outcome, '') AS outcome, "
		"coalesce(uo.login, '') AS outcome_by "
		"FROM fault_report f JOIN asset a ON a.asset_id = f.asset_id "
		"JOIN fault_symptom fs ON fs.code = f.symptom "
		"JOIN app_user ur ON ur.user_id = f.reported_by "
		"LEFT JOIN app_user uo ON uo.user_id = f.outcome_by "
		"WHERE NOT $1::boolean OR f.outcome IS NULL ORDER BY f.fault_id",
		1, p, PGRES_TUPLES_OK, out, err);
}

/* ---- arbitration ---- */

int field_fault_arbitration(struct db *db, int64_t fault_id, int64_t run_id, int64_t cert_id,
			    struct ml_error *err)
{
	char f[24], r[24], c[24];
	snprintf(f, sizeof f, "%" PRId64, fault_id);
	snprintf(r, sizeof r, "%" PRId64, run_id);
	snprintf(c, sizeof c, "%" PRId64, cert_id);
	const char *p[3] = { f, r, cert_id > 0 ? c : NULL };
	return db_cmd(db, "SELECT ml_fault_arbitration_link($1::bigint, $2::bigint, $3::bigint)", 3,
		      p, err);
}

int field_fault_show(struct db *db, int64_t fault_id, PGresult **out, struct ml_error *err)
{
	char f[24];
	snprintf(f, sizeof f, "%" PRId64, fault_id);
	const char *p[1] = { f };
	int rc = db_query_one(
		db,
		"SELECT f.fault_id, a.barcode, f.symptom, fs.name_zh AS symptom_zh, f.kind, "
		"coalesce(f.complaint_ref, '') AS complaint, f.description, ur.login AS reported_by, "
		"to_char(f.reported_at, 'YYYY-MM-DD HH24:MI') AS reported_at, "
		"coalesce(f.outcome, '') AS outcome, coalesce(uo.login, '') AS outcome_by, "
		"coalesce(f.outcome_note, '') AS outcome_note, "
		"coalesce(f.arbitration_run_id::text, '') AS run_id, coalesce(r.status, '') AS run_status, "
		"coalesce(r.run_date::text, '') AS run_date, "
		"coalesce(f.arbitration_cert_id::text, '') AS cert_id, coalesce(c.cert_no, '') AS cert_no, "
		"CASE c.kind WHEN 1 THEN 'certificate' WHEN 2 THEN 'result_notice' ELSE '' END "
		"AS cert_kind, coalesce(c.state, '') AS cert_state, coalesce(ul.login, '') AS linked_by "
		"FROM fault_report f JOIN asset a ON a.asset_id = f.asset_id "
		"JOIN fault_symptom fs ON fs.code = f.symptom "
		"JOIN app_user ur ON ur.user_id = f.reported_by "
		"LEFT JOIN app_user uo ON uo.user_id = f.outcome_by "
		"LEFT JOIN app_user ul ON ul.user_id = f.arbitration_linked_by "
		"LEFT JOIN verification_run r ON r.run_id = f.arbitration_run_id "
		"LEFT JOIN certificate c ON c.asset_id = f.asset_id AND c.id = f.arbitration_cert_id "
		"WHERE f.fault_id = $1::bigint",
		1, p, out, err);
	if (rc == ML_ENOTFOUND)
		return ml_errorf(err, ML_ENOTFOUND, "no fault report %" PRId64, fault_id);
	return rc;
}

int field_cert_arbitration(struct db *db, int64_t cert_id, PGresult **out, struct ml_error *err)
{
	char c[24];
	snprintf(c, sizeof c, "%" PRId64, cert_id);
	const char *p[1] = { c };
	return db_exec(
		db,
		"SELECT fault_id, complaint, to_char(reported_at, 'YYYY-MM-DD') AS reported_on "
		"FROM ml_cert_arbitration($1::bigint) ORDER BY fault_id",
		1, p, PGRES_TUPLES_OK, out, err);
}
