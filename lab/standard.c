/* standard.c — reference standards, certificates and benches (see standard.h). */
#include "lab/standard.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/pgarr.h"

static void copy_col(char *dst, size_t cap, const PGresult *res, int row, const char *col)
{
	const char *v = db_get(res, row, col);
	snprintf(dst, cap, "%s", v ? v : "");
}

int standard_date_ok(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++) {
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static int check_cert(const struct standard_cert *c, struct ml_error *err)
{
	if (!c->cert_no[0])
		return ml_errorf(err, ML_EINVAL, "certificate number is empty");
	if (!c->issuer[0])
		return ml_errorf(err, ML_EINVAL, "certificate '%s': issuer is empty", c->cert_no);
	if (!standard_date_ok(c->valid_from))
		return ml_errorf(err, ML_EINVAL,
				 "certificate '%s': valid-from '%s' is not YYYY-MM-DD", c->cert_no,
				 c->valid_from);
	if (!standard_date_ok(c->valid_until))
		return ml_errorf(err, ML_EINVAL,
				 "certificate '%s': valid-until '%s' is not YYYY-MM-DD", c->cert_no,
				 c->valid_until);
	if (strcmp(c->valid_until, c->valid_from) < 0)
		return ml_errorf(err, ML_EINVAL,
				 "certificate '%s': valid-until %s is before valid-from %s",
				 c->cert_no, c->valid_until, c->valid_from);
	return ML_OK;
}

/*
 * Writes go through ml_standard_add / ml_standard_certify / ml_bench_add
 * (0112; permission standard.edit): the database checks the texts and the
 * whole dates again and records the person.
 */
int standard_add(struct db *db, const struct standard_rec *s, int64_t *id_out, struct ml_error *err)
{
	if (!s->code[0] || !s->name[0] || !s->accuracy_class[0])
		return ml_errorf(
			err, ML_EINVAL,
			"a standard needs a code, a name and an accuracy class (code '%s')",
			s->code);
	int rc = check_cert(&s->cert, err);
	if (rc)
		return rc;
	const char *p[8] = {
		s->code,         s->name,        s->accuracy_class,  s->range_text,
		s->cert.cert_no, s->cert.issuer, s->cert.valid_from, s->cert.valid_until
	};
	PGresult *res = NULL;
	rc = db_query_one(db, "SELECT ml_standard_add($1, $2, $3, $4, $5, $6, $7, $8)", 8, p, &res,
			  err);
	if (!rc && id_out)
		*id_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

int standard_certify(struct db *db, const char *code, const struct standard_cert *c,
		     struct ml_error *err)
{
	int rc = check_cert(c, err);
	if (rc)
		return rc;
	const char *p[5] = { code, c->cert_no, c->issuer, c->valid_from, c->valid_until };
	return db_cmd(db, "SELECT ml_standard_certify($1, $2, $3, $4, $5)", 5, p, err);
}

/* Latest certificate per standard via LATERAL: one round trip for list and show. */
static const char *const std_select =
	"SELECT s.standard_id, s.code, s.name, s.accuracy_class, s.range_text, c.cert_no, c.issuer, "
	"c.valid_from::text AS valid_from, c.valid_until::text AS valid_until "
	"FROM reference_standard s LEFT JOIN LATERAL (SELECT * FROM standard_certificate c "
	"WHERE c.standard_id = s.standard_id ORDER BY valid_until DESC, cert_id DESC LIMIT 1) c ON true ";

static void std_from_row(const PGresult *res, int r, struct standard_rec *o)
{
	memset(o, 0, sizeof(*o));
	o->standard_id = strtoll(db_get(res, r, "standard_id"), NULL, 10);
	copy_col(o->code, sizeof(o->code), res, r, "code");
	copy_col(o->name, sizeof(o->name), res, r, "name");
	copy_col(o->accuracy_class, sizeof(o->accuracy_class), res, r, "accuracy_class");
	copy_col(o->range_text, sizeof(o->range_text), res, r, "range_text");
	copy_col(o->cert.cert_no, sizeof(o->cert.cert_no), res, r, "cert_no");
	copy_col(o->cert.issuer, sizeof(o->cert.issuer), res, r, "issuer");
	copy_col(o->cert.valid_from, sizeof(o->cert.valid_from), res, r, "valid_from");
	copy_col(o->cert.valid_until, sizeof(o->cert.valid_until), res, r, "valid_until");
}

int standard_get(struct db *db, const char *code, struct standard_rec *out, struct ml_error *err)
{
	char sql[1024];
	snprintf(sql, sizeof(sql), "%sWHERE s.code = $1", std_select);
	const char *p[1] = { code };
	PGresult *res = NULL;
	int rc = db_query_one(db, sql, 1, p, &res, err);
	if (rc == ML_ENOTFOUND)
		return ml_errorf(err, ML_ENOTFOUND, "no reference standard '%s'", code);
	if (rc)
		return rc;
	std_from_row(res, 0, out);
	PQclear(res);
	return ML_OK;
}

int standard_list(struct db *db, struct standard_rec **out, size_t *n, struct ml_error *err)
{
	*out = NULL;
	*n = 0;
	char sql[1024];
	snprintf(sql, sizeof(sql), "%sORDER BY s.code", std_select);
	PGresult *res = NULL;
	int rc = db_exec(db, sql, 0, NULL, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	int rows = PQntuples(res);
	struct standard_rec *v = calloc(rows ? (size_t)rows : 1, sizeof(*v));
	if (!v) {
		PQclear(res);
		return ml_errorf(err, ML_ENOMEM, "out of memory listing %d standards", rows);
	}
	for (int r = 0; r < rows; r++)
		std_from_row(res, r, &v[r]);
	PQclear(res);
	*out = v;
	*n = (size_t)rows;
	return ML_OK;
}

int standard_certs(struct db *db, const char *code, struct standard_cert **out, size_t *n,
		   struct ml_error *err)
{
	*out = NULL;
	*n = 0;
	const char *p[1] = { code };
	PGresult *res = NULL;
	int rc = db_exec(
		db,
		"SELECT c.cert_no, c.issuer, c.valid_from::text AS valid_from, c.valid_until::text AS valid_until "
		"FROM standard_certificate c JOIN reference_standard s USING (standard_id) WHERE s.code = $1 "
		"ORDER BY c.valid_until DESC, c.cert_id DESC",
		1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	int rows = PQntuples(res);
	struct standard_cert *v = calloc(rows ? (size_t)rows : 1, sizeof(*v));
	if (!v) {
		PQclear(res);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (int r = 0; r < rows; r++) {
		copy_col(v[r].cert_no, sizeof(v[r].cert_no), res, r, "cert_no");
		copy_col(v[r].issuer, sizeof(v[r].issuer), res, r, "issuer");
		copy_col(v[r].valid_from, sizeof(v[r].valid_from), res, r, "valid_from");
		copy_col(v[r].valid_until, sizeof(v[r].valid_until), res, r, "valid_until");
	}
	PQclear(res);
	*out = v;
	*n = (size_t)rows;
	return ML_OK;
}

/* ---- benches ---- */

static int bench_valid(const struct bench_rec *b, struct ml_error *err)
{
	if (!b->code[0] || !b->name[0] || !b->uri[0])
		return ml_errorf(err, ML_EINVAL,
				 "a bench needs a code, a name and a URI (code '%s')", b->code);
	if (strcmp(b->kind, "meter-1p") && strcmp(b->kind, "meter-3p") &&
	    strcmp(b->kind, "transformer"))
		return ml_errorf(err, ML_EINVAL,
				 "bench '%s': kind '%s' is not meter-1p, meter-3p or transformer",
				 b->code, b->kind);
	if (b->positions < 1 || b->positions > 96)
		return ml_errorf(err, ML_EINVAL, "bench '%s': %d positions is outside 1..96",
				 b->code, b->positions);
	if (b->n_standards < 1 || b->n_standards > STANDARD_BENCH_MAX_STD)
		return ml_errorf(err, ML_EINVAL,
				 "bench '%s' must name 1..%d reference standards (got %d)", b->code,
				 STANDARD_BENCH_MAX_STD, b->n_standards);
	return ML_OK;
}

int standard_bench_add(struct db *db, const struct bench_rec *b, int64_t *id_out,
		       struct ml_error *err)
{
	int rc = bench_valid(b, err);
	if (rc)
		return rc;
	struct pgarr stds;
	pgarr_init(&stds);
	for (int i = 0; i < b->n_standards; i++)
		pgarr_add(&stds, b->standards[i]);
	char pos[16];
	snprintf(pos, sizeof(pos), "%d", b->positions);
	const char *p[6] = { b->code, b->name, b->uri, b->kind, pos, pgarr_finish(&stds) };
	PGresult *res = NULL;
	rc = !p[5] ? ml_errorf(err, ML_ENOMEM, "out of memory")
		   : db_query_one(db, "SELECT ml_bench_add($1, $2, $3, $4, $5::int, $6::text[])", 6,
				  p, &res, err);
	if (!rc && id_out)
		*id_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	pgarr_free(&stds);
	return rc;
}

static const char *const bench_select =
	"SELECT b.bench_id, b.code, b.name, b.uri, b.kind, b.positions, "
	"coalesce((SELECT string_agg(s.code, ',' ORDER BY s.code) FROM lab_bench_standard bs "
	"JOIN reference_standard s USING (standard_id) WHERE bs.bench_id = b.bench_id), '') AS standards "
	"FROM lab_bench b ";

static void bench_from_row(const PGresult *res, int r, struct bench_rec *o)
{
	memset(o, 0, sizeof(*o));
	o->bench_id = strtoll(db_get(res, r, "bench_id"), NULL, 10);
	copy_col(o->code, sizeof(o->code), res, r, "code");
	copy_col(o->name, sizeof(o->name), res, r, "name");
	copy_col(o->uri, sizeof(o->uri), res, r, "uri");
	copy_col(o->kind, sizeof(o->kind), res, r, "kind");
	o->positions = atoi(db_get(res, r, "positions"));
	char list[STANDARD_BENCH_MAX_STD * 42 + 1];
	copy_col(list, sizeof(list), res, r, "standards");
	char *save = NULL;
	for (char *t = strtok_r(list, ",", &save); t && o->n_standards < STANDARD_BENCH_MAX_STD;
	     t = strtok_r(NULL, ",", &save))
		snprintf(o->standards[o->n_standards++], sizeof(o->standards[0]), "%s", t);
}

static int bench_get_where(struct db *db, const char *where, const char *val, struct bench_rec *out,
			   struct ml_error *err)
{
	char sql[1024];
	snprintf(sql, sizeof(sql), "%s%s", bench_select, where);
	const char *p[1] = { val };
	PGresult *res = NULL;
	int rc = db_query_one(db, sql, 1, p, &res, err);
	if (rc == ML_ENOTFOUND)
		return ml_errorf(err, ML_ENOTFOUND, "no bench '%s'", val);
	if (rc)
		return rc;
	bench_from_row(res, 0, out);
	PQclear(res);
	return ML_OK;
}

int standard_bench_get(struct db *db, const char *code, struct bench_rec *out, struct ml_error *err)
{
	return bench_get_where(db, "WHERE b.code = $1", code, out, err);
}

int standard_bench_get_id(struct db *db, int64_t bench_id, struct bench_rec *out,
			  struct ml_error *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, bench_id);
	return bench_get_where(db, "WHERE b.bench_id = $1::bigint", id, out, err);
}

int standard_bench_list(struct db *db, struct bench_rec **out, size_t *n, struct ml_error *err)
{
	*out = NULL;
	*n = 0;
	char sql[1024];
	snprintf(sql, sizeof(sql), "%sORDER BY b.code", bench_select);
	PGresult *res = NULL;
	int rc = db_exec(db, sql, 0, NULL, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	int rows = PQntuples(res);
	struct bench_rec *v = calloc(rows ? (size_t)rows : 1, sizeof(*v));
	if (!v) {
		PQclear(res);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (int r = 0; r < rows; r++)
		bench_from_row(res, r, &v[r]);
	PQclear(res);
	*out = v;
	*n = (size_t)rows;
	return ML_OK;
}

int standard_check_bench(struct db *db, int64_t bench_id, const char *date, struct ml_error *err)
{
	if (!standard_date_ok(date))
		return ml_errorf(err, ML_EINVAL, "verification date '%s' is not YYYY-MM-DD", date);
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, bench_id);
	const char *p[2] = { id, date };
	PGresult *res = NULL;
	/* Per standard of the bench: is any certificate valid on the date, and the latest one for the message. */
	int rc = db_exec(db,
			 "SELECT b.code AS bench, s.code AS standard, "
			 "bool_or(c.valid_from <= $2::date AND c.valid_until >= $2::date) AS ok, "
			 "max(c.valid_until)::text AS latest "
			 "FROM lab_bench b JOIN lab_bench_standard bs USING (bench_id) "
			 "JOIN reference_standard s USING (standard_id) "
			 "LEFT JOIN standard_certificate c ON c.standard_id = s.standard_id "
			 "WHERE b.bench_id = $1::bigint GROUP BY b.code, s.code ORDER BY s.code",
			 2, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res) == 0)
		rc = ml_errorf(
			err, ML_ESTATE,
			"bench id %s has no reference standard: cannot verify (traceability)", id);
	for (int r = 0; !rc && r < PQntuples(res); r++) {
		const char *ok = db_get(res, r, "ok");
		if (ok && ok[0] == 't')
			continue;
		const char *latest = db_get(res, r, "latest");
		rc = ml_errorf(
			err, ML_ESTATE,
			"bench '%s': reference standard '%s' has no calibration certificate valid on %s (%s%s)",
			db_get(res, r, "bench"), db_get(res, r, "standard"), date,
			latest ? "latest valid until " : "no certificate", latest ? latest : "");
	}
	PQclear(res);
	return rc;
}
