/*
 * cert_store.c — reading certificate rows, frozen JSON content, stored PDF
 * bytes.
 *
 * The JSON (built by the database, migration 0141) is taken apart by
 * PostgreSQL itself (jsonb_each_text / jsonb_array_elements), so meterlab
 * needs no JSON parser. One descriptor table per cert_doc part maps keys to
 * fields.
 */
#include "reports/cert_store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/cert_verify_hash.h"

struct field {
	const char *key;
	size_t off; /* offset of a const char * member */
};

#define F(type, m)                           \
	{                                    \
#m, offsetof(struct type, m) \
	}

/* Fields of struct cert_doc: the content frozen in a draft, then the
 * workflow fields of a document being issued (ml_cert_issue_begin). */
static const struct field doc_fields[] = {
	F(cert_doc, record_no),
	F(cert_doc, client),
	F(cert_doc, instrument),
	F(cert_doc, model),
	F(cert_doc, spec),
	F(cert_doc, barcode),
	F(cert_doc, manufacturer),
	F(cert_doc, regulation),
	F(cert_doc, accuracy_class),
	F(cert_doc, conclusion),
	F(cert_doc, verifier),
	F(cert_doc, verified_on),
	F(cert_doc, valid_until),
	F(cert_doc, place),
	F(cert_doc, temperature),
	F(cert_doc, humidity),
	F(cert_doc, cert_no),
	F(cert_doc, supersedes),
	F(cert_doc, checker),
	F(cert_doc, approver),
	F(cert_doc, issued_on),
	F(cert_doc, verify_code),
	F(cert_doc, qr_payload),
	F(cert_doc, qr_url),
	{ "issuer_name", offsetof(struct cert_doc, issuer.name) },
	{ "issuer_authorization_no", offsetof(struct cert_doc, issuer.authorization_no) },
	{ "issuer_address", offsetof(struct cert_doc, issuer.address) },
	{ "issuer_postcode", offsetof(struct cert_doc, issuer.postcode) },
	{ "issuer_phone", offsetof(struct cert_doc, issuer.phone) },
	{ "issuer_fax", offsetof(struct cert_doc, issuer.fax) },
	{ "issuer_email", offsetof(struct cert_doc, issuer.email) },
};
static const struct field std_fields[] = {
	F(cert_standard, name),    F(cert_standard, range),       F(cert_standard, accuracy),
	F(cert_standard, cert_no), F(cert_standard, valid_until),
};
static const struct field item_fields[] = {
	F(cert_item, name),
	F(cert_item, conclusion),
	F(cert_item, detail),
};
static const struct field err_fields[] = {
	F(cert_error_row, load),    F(cert_error_row, current),  F(cert_error_row, pf),
	F(cert_error_row, element), F(cert_error_row, readings), F(cert_error_row, mean),
	F(cert_error_row, rounded), F(cert_error_row, limit),    F(cert_error_row, verdict),
};
static const struct field xfmr_fields[] = {
	F(cert_xfmr_row, percent), F(cert_xfmr_row, burden),      F(cert_xfmr_row, ratio_error),
	F(cert_xfmr_row, phase),   F(cert_xfmr_row, ratio_limit), F(cert_xfmr_row, phase_limit),
	F(cert_xfmr_row, verdict),
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))

struct array_desc {
	const char *key;
	size_t elem;    /* sizeof one row struct */
	size_t arr_off; /* offset of the row pointer in cert_doc */
	size_t n_off;   /* offset of the count in cert_doc */
	const struct field *fields;
	size_t nfields;
};

static const struct array_desc arrays[] = {
	{ "standards", sizeof(struct cert_standard), offsetof(struct cert_doc, standards),
	  offsetof(struct cert_doc, n_standards), std_fields, NF(std_fields) },
	{ "items", sizeof(struct cert_item), offsetof(struct cert_doc, items),
	  offsetof(struct cert_doc, n_items), item_fields, NF(item_fields) },
	{ "errors", sizeof(struct cert_error_row), offsetof(struct cert_doc, errors),
	  offsetof(struct cert_doc, n_errors), err_fields, NF(err_fields) },
	{ "xfmr", sizeof(struct cert_xfmr_row), offsetof(struct cert_doc, xfmr),
	  offsetof(struct cert_doc, n_xfmr), xfmr_fields, NF(xfmr_fields) },
};
#define N_ARRAYS NF(arrays)

static void set_str(void *base, size_t off, const char *s)
{
	memcpy((char *)base + off, &s, sizeof(s));
}

/* ---- records ---- */

#define RECORD_SELECT                                                                                                   \
	"SELECT c.id, c.asset_id, coalesce(c.run_id, 0) AS run_id, coalesce(c.revises_id, 0) AS revises_id, "           \
	"coalesce(s.new_id, 0) AS superseded_by, c.kind, c.revision, c.state, c.issuer_id, c.barcode, "                 \
	"coalesce(c.cert_no, '') AS cert_no, c.verifier, coalesce(c.checker, '') AS checker, "                          \
	"coalesce(c.approver, '') AS approver, coalesce(uv.login, '') AS verifier_login, "                              \
	"coalesce(uc.login, '') AS checker_login, coalesce(ua.login, '') AS approver_login, "                           \
	"to_char(c.created_at, 'YYYY-MM-DD HH24:MI:SSOF') AS created_at, "                                              \
	"coalesce(to_char(c.checked_at, 'YYYY-MM-DD HH24:MI:SSOF'), '') AS checked_at, "                                \
	"coalesce(to_char(c.approved_at, 'YYYY-MM-DD HH24:MI:SSOF'), '') AS approved_at, "                              \
	"coalesce(to_char(c.issued_on, 'YYYY-MM-DD'), '') AS issued_on, "                                               \
	"coalesce(c.verify_code, '') AS verify_code, coalesce(p.sha256, '') AS sha256, "                                \
	"coalesce(c.revise_reason, '') AS revise_reason, coalesce(c.content->>'conclusion', '') AS conclusion, "        \
	"(w.cert_id IS NOT NULL)::int AS withdrawn, coalesce(w.reason, '') AS withdraw_reason, "                        \
	"coalesce(w.withdrawn_by, '') AS withdrawn_by, "                                                                \
	"coalesce(to_char(w.withdrawn_at, 'YYYY-MM-DD HH24:MI:SSOF'), '') AS withdrawn_at, "                            \
	"(b.cert_id IS NOT NULL)::int AS backdated, coalesce(to_char(b.issued_on, 'YYYY-MM-DD'), '') AS backdated_on, " \
	"coalesce(b.reason, '') AS backdate_reason, coalesce(b.by_name, '') AS backdated_by, "                          \
	"coalesce(to_char(b.recorded_at, 'YYYY-MM-DD HH24:MI:SSOF'), '') AS backdated_at "                              \
	"FROM certificate c "                                                                                           \
	"LEFT JOIN cert_supersession s ON s.asset_id = c.asset_id AND s.old_id = c.id "                                 \
	"LEFT JOIN cert_withdrawal w ON w.asset_id = c.asset_id AND w.cert_id = c.id "                                  \
	"LEFT JOIN cert_pdf p ON p.asset_id = c.asset_id AND p.cert_id = c.id "                                         \
	"LEFT JOIN cert_backdate b ON b.cert_id = c.id "                                                                \
	"LEFT JOIN app_user uv ON uv.user_id = c.verifier_id LEFT JOIN app_user uc ON uc.user_id = c.checker_id "       \
	"LEFT JOIN app_user ua ON ua.user_id = c.approver_id "

static void copy_col(char *dst, size_t len, const PGresult *res, int row, const char *col)
{
	const char *v = db_get(res, row, col);
	snprintf(dst, len, "%s", v ? v : "");
}

static long long int_col(const PGresult *res, int row, const char *col)
{
	const char *v = db_get(res, row, col);
	return v ? strtoll(v, NULL, 10) : 0;
}

static void record_from(const PGresult *res, int row, struct cert_record *r)
{
	memset(r, 0, sizeof(*r));
	r->id = int_col(res, row, "id");
	r->asset_id = int_col(res, row, "asset_id");
	r->run_id = int_col(res, row, "run_id");
	r->revises_id = int_col(res, row, "revises_id");
	r->superseded_by = int_col(res, row, "superseded_by");
	r->kind = (int)int_col(res, row, "kind");
	r->revision = (int)int_col(res, row, "revision");
#define C(m) copy_col(r->m, sizeof(r->m), res, row, #m)
	C(state);
	/* the CHECK of certificate.state allows only the enum's names (a test
	 * keeps them equal), so this cannot fail on a row that was read */
	struct ml_error ignore = ML_ERROR_INIT;
	if (cert_state_parse(r->state, &r->st, &ignore))
		r->st = CERT_STATE_COUNT;
	C(issuer_id);
	C(barcode);
	C(cert_no);
	C(verifier);
	C(checker);
	C(approver);
	C(verifier_login);
	C(checker_login);
	C(approver_login);
	C(created_at);
	C(checked_at);
	C(approved_at);
	C(issued_on);
	C(verify_code);
	C(sha256);
	C(revise_reason);
	C(conclusion);
	C(withdraw_reason);
	C(withdrawn_by);
	C(withdrawn_at);
	C(backdated_on);
	C(backdate_reason);
	C(backdated_by);
	C(backdated_at);
#undef C
	r->withdrawn = (int)int_col(res, row, "withdrawn");
	r->backdated = (int)int_col(res, row, "backdated");
}

static int one_record(struct db *db, const char *sql, int np, const char *const *p, const char *ref,
		      struct cert_record *out, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(db, sql, np, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res) == 0)
		rc = ml_errorf(err, ML_ENOTFOUND, "certificate '%s' not found", ref);
	else
		record_from(res, 0, out);
	PQclear(res);
	return rc;
}

int cert_get(struct db *db, long long id, struct cert_record *out, struct ml_error *err)
{
	char sid[24];
	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[1] = { sid };
	return one_record(db, RECORD_SELECT "WHERE c.id = $1", 1, p, sid, out, err);
}

/* "{1,2,3}": a bigint[] parameter. */
static int id_array(const long long *ids, size_t n, struct ml_buf *b)
{
	int rc = ml_buf_putc(b, '{');
	for (size_t i = 0; i < n && !rc; i++)
		rc = ml_buf_printf(b, i ? ",%lld" : "%lld", ids[i]);
	return rc ? rc : ml_buf_putc(b, '}');
}

static int get_many(struct db *db, const char *arr, const long long *ids, size_t n,
		    struct cert_record *out, struct ml_error *err)
{
	const char *p[1] = { arr };
	PGresult *res = NULL;
	int rc = db_exec(db, RECORD_SELECT "WHERE c.id = ANY($1::bigint[]) ORDER BY c.id", 1, p,
			 PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	size_t got = (size_t)PQntuples(res), j = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (j < got && strtoll(db_get(res, (int)j, "id"), NULL, 10) == ids[i])
			record_from(res, (int)j++, &out[i]);
		else
			rc = ml_errorf(err, ML_ENOTFOUND, "certificate %lld not found", ids[i]);
	}
	PQclear(res);
	return rc;
}

int cert_get_many(struct db *db, const long long *ids, size_t n, struct cert_record *out,
		  struct ml_error *err)
{
	for (size_t i = 1; i < n; i++) {
		if (ids[i] <= ids[i - 1])
			return ml_errorf(err, ML_EINTERNAL,
					 "cert_get_many needs ascending ids (%lld after %lld)",
					 ids[i], ids[i - 1]);
	}
	struct ml_buf arr = ML_BUF_INIT;
	if (id_array(ids, n, &arr)) {
		ml_buf_free(&arr);
		return ml_errorf(err, ML_ENOMEM, "out of memory for %zu ids", n);
	}
	int rc = get_many(db, ml_buf_str(&arr), ids, n, out, err);
	ml_buf_free(&arr);
	return rc;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
	}
	return 1;
}

int cert_find(struct db *db, const char *ref, struct cert_record *out, struct ml_error *err)
{
	if (!ref || !*ref || strlen(ref) > 60)
		return ml_errorf(err, ML_EINVAL,
				 "certificate reference '%s' is not an id or a number",
				 ref ? ref : "");
	if (all_digits(ref) && strlen(ref) < 19)
		return cert_get(db, strtoll(ref, NULL, 10), out, err);
	char no[64];
	snprintf(no, sizeof(no), "%s", ref);
	char *slash = strchr(no, '/');
	const char *rev = NULL;
	if (slash) {
		*slash = '\0';
		rev = slash + 1;
		if (!all_digits(rev) || strlen(rev) > 6)
			return ml_errorf(
				err, ML_EINVAL,
				"certificate reference '%s': revision '%s' is not a number", ref,
				rev);
	}
	const char *p[2] = { no, rev };
	return one_record(db,
			  RECORD_SELECT
			  "WHERE c.cert_no = $1 AND ($2::int IS NULL OR c.revision = $2::int) "
			  "ORDER BY c.revision DESC LIMIT 1",
			  2, p, ref, out, err);
}

static int valid_state_filter(const char *s)
{
	static const char *const ok[] = { "draft",      "checked",   "issued",
					  "superseded", "withdrawn", "current" };
	for (size_t i = 0; i < NF(ok); i++) {
		if (!strcmp(s, ok[i]))
			return 1;
	}
	return 0;
}

int cert_list(struct db *db, const struct cert_filter *f, struct cert_record **out, size_t *n,
	      struct ml_error *err)
{
	static const struct cert_filter none = { 0 };
	*out = NULL;
	*n = 0;
	if (!f)
		f = &none;
	if (f->state && !valid_state_filter(f->state))
		return ml_errorf(
			err, ML_EINVAL,
			"state '%s' is not one of draft, checked, issued, superseded, withdrawn, current",
			f->state);
	char run[24], asset[24];
	snprintf(run, sizeof(run), "%lld", f->run_id);
	snprintf(asset, sizeof(asset), "%lld", f->asset_id);
	const char *p[4] = { run, asset, f->state, f->cert_no };
	PGresult *res = NULL;
	int rc = db_exec(
		db,
		RECORD_SELECT
		"WHERE ($1::bigint = 0 OR c.run_id = $1::bigint) AND ($2::bigint = 0 OR c.asset_id = $2::bigint) "
		"AND ($3::text IS NULL OR CASE $3::text WHEN 'superseded' THEN s.new_id IS NOT NULL "
		"  WHEN 'withdrawn' THEN w.cert_id IS NOT NULL "
		"  WHEN 'current' THEN c.state = 'issued' AND s.new_id IS NULL AND w.cert_id IS NULL "
		"  ELSE c.state = $3::text END) "
		"AND ($4::text IS NULL OR c.cert_no = $4::text) ORDER BY c.id",
		4, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	size_t rows = (size_t)PQntuples(res);
	struct cert_record *r = calloc(rows ? rows : 1, sizeof(*r));
	if (!r) {
		PQclear(res);
		return ml_errorf(err, ML_ENOMEM, "out of memory listing %zu certificates", rows);
	}
	for (size_t i = 0; i < rows; i++)
		record_from(res, (int)i, &r[i]);
	PQclear(res);
	*out = r;
	*n = rows;
	return ML_OK;
}

/* ---- stored PDF ---- */

int cert_pdf_get(struct db *db, long long id, struct ml_buf *pdf, char *sha256,
		 struct ml_error *err)
{
	char sid[24];
	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[1] = { sid };
	/* Binary result format: the bytes come back as they were stored. */
	PGresult *res = PQexecParams(
		db_conn(db),
		"SELECT p.pdf, p.sha256 FROM cert_pdf p JOIN certificate c "
		"ON c.asset_id = p.asset_id AND c.id = p.cert_id WHERE c.id = $1::bigint",
		1, NULL, p, NULL, NULL, 1);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		int rc = db_result_error(db, res, "stored certificate PDF", err);
		PQclear(res);
		return rc;
	}
	int rc = ML_OK;
	if (PQntuples(res) != 1) {
		rc = ml_errorf(err, ML_ENOTFOUND,
			       "certificate %lld has no stored PDF (not issued?)", id);
		goto out;
	}
	const char *bytes = PQgetvalue(res, 0, 0);
	size_t len = (size_t)PQgetlength(res, 0, 0);
	char hex[65], stored[65];
	snprintf(stored, sizeof(stored), "%.*s", PQgetlength(res, 0, 1), PQgetvalue(res, 0, 1));
	cert_sha256_hex(bytes, len, hex);
	if (strcmp(hex, stored)) {
		rc = ml_errorf(err, ML_EINTERNAL,
			       "certificate %lld: stored PDF hash %s does not match its bytes (%s)",
			       id, stored, hex);
		goto out;
	}
	if (ml_buf_append(pdf, bytes, len)) {
		rc = ml_errorf(err, ML_ENOMEM, "certificate %lld: PDF of %zu bytes does not fit",
			       id, len);
		goto out;
	}
	if (sha256)
		memcpy(sha256, hex, sizeof(hex));
out:
	PQclear(res);
	return rc;
}

/* ---- content loaded back ---- */

/* The result a statement's documents point into, freed with the last of them.
 * Not atomic: the documents of one result are freed by one thread (renderer
 * threads only read them). */
struct content_res {
	PGresult *res;
	size_t refs;
};

struct cert_content {
	struct cert_doc doc;
	struct content_res *shared; /* every string of doc points into shared->res */
	void *rows[N_ARRAYS];
};

struct cert_doc *cert_content_doc(struct cert_content *c)
{
	return &c->doc;
}

void cert_content_free(struct cert_content *c)
{
	if (!c)
		return;
	if (c->shared && --c->shared->refs == 0) {
		PQclear(c->shared->res);
		free(c->shared);
	}
	for (size_t i = 0; i < N_ARRAYS; i++)
		free(c->rows[i]);
	free(c);
}

/* base + base_off is the struct the field offsets refer to. (The whole
 * object is passed as base so compilers checking object sizes see it.) */
static void set_by_key(void *base, size_t base_off, const struct field *f, size_t n,
		       const char *key, const char *val)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(f[i].key, key)) {
			set_str(base, base_off + f[i].off, val);
			return;
		}
	}
}

/*
 * Every document of the CTE c (n orders the documents, k names each,
 * content is the document) taken apart in the statement that makes them:
 * section 0 holds a document's scalar fields, section a + 1 the rows of
 * arrays[a] (ord 1.., NULL key for an empty object), sorted by document,
 * section and row; every document has at least its section-0 row. The
 * array names are the statement's last parameter (%d). The documents are
 * never a table scan of their own here, so no row estimate of a
 * certificate table can push this part of the plan over the JIT or
 * parallel thresholds (issue 10).
 */
enum {
	COL_N,
	COL_KEY,
	COL_KIND,
	COL_SEC,
	COL_ORD,
	COL_FKEY,
	COL_FVAL
};
#define CONTENT_SQL                                                                                               \
	"WITH c AS MATERIALIZED (SELECT d.n, d.k, d.content FROM (%s) d(n, k, content)) "                         \
	"SELECT c.n, c.k, (c.content->>'kind')::int AS kind, 0::bigint AS sec, 0::bigint AS ord, "                \
	"j.key, j.value FROM c "                                                                                  \
	"LEFT JOIN LATERAL jsonb_each_text(c.content) j "                                                         \
	"ON jsonb_typeof(c.content -> j.key) IN ('string', 'number') "                                            \
	"UNION ALL "                                                                                              \
	"SELECT c.n, c.k, (c.content->>'kind')::int, a.sec, e.ord, f.key, f.value FROM c "                        \
	"CROSS JOIN LATERAL unnest($%d::text[]) WITH ORDINALITY a(name, sec) "                                    \
	"CROSS JOIN LATERAL jsonb_array_elements(coalesce(c.content -> a.name, '[]')) WITH ORDINALITY e(v, ord) " \
	"LEFT JOIN LATERAL jsonb_each_text(e.v) f ON true "                                                       \
	"ORDER BY 1, 4, 5"

static size_t col_size(const PGresult *res, int row, int col)
{
	return (size_t)strtoull(PQgetvalue(res, row, col), NULL, 10);
}

/* Rows [r0, r1) of res are one document's. */
static int alloc_arrays(struct cert_content *c, int r0, int r1, struct ml_error *err)
{
	const PGresult *res = c->shared->res;
	size_t n[N_ARRAYS] = { 0 };
	for (int i = r0; i < r1; i++) {
		size_t sec = col_size(res, i, COL_SEC), ord = col_size(res, i, COL_ORD);
		if (sec >= 1 && sec <= N_ARRAYS && ord > n[sec - 1])
			n[sec - 1] = ord;
	}
	for (size_t a = 0; a < N_ARRAYS; a++) {
		c->rows[a] = calloc(n[a] ? n[a] : 1, arrays[a].elem);
		if (!c->rows[a])
			return ml_errorf(err, ML_ENOMEM, "out of memory loading %zu %s", n[a],
					 arrays[a].key);
		void *ptr = c->rows[a];
		memcpy((char *)&c->doc + arrays[a].arr_off, &ptr, sizeof(ptr));
		memcpy((char *)&c->doc + arrays[a].n_off, &n[a], sizeof(n[a]));
	}
	return ML_OK;
}

static void fill_content(struct cert_content *c, int r0, int r1)
{
	const PGresult *res = c->shared->res;
	c->doc.kind = (enum cert_kind)atoi(PQgetvalue(res, r0, COL_KIND));
	for (int i = r0; i < r1; i++) {
		if (PQgetisnull(res, i, COL_FKEY))
			continue;
		size_t sec = col_size(res, i, COL_SEC), ord = col_size(res, i, COL_ORD);
		const char *k = PQgetvalue(res, i, COL_FKEY), *v = PQgetvalue(res, i, COL_FVAL);
		if (sec == 0 && !strcmp(k, "revision")) {
			c->doc.revision = atoi(v);
		} else if (sec == 0) {
			set_by_key(c, offsetof(struct cert_content, doc), doc_fields,
				   NF(doc_fields), k, v);
		} else if (sec <= N_ARRAYS && ord >= 1) {
			const struct array_desc *d = &arrays[sec - 1];
			set_by_key(c->rows[sec - 1], (ord - 1) * d->elem, d->fields, d->nfields, k,
				   v);
		}
	}
}

/* One document from rows [r0, r1) of sh->res; takes a reference on sh. */
static int one_content(struct content_res *sh, int r0, int r1, struct cert_content **out,
		       struct ml_error *err)
{
	*out = NULL;
	if (PQgetisnull(sh->res, r0, COL_KIND))
		return ml_errorf(err, ML_EINVAL, "the document of %s has no kind",
				 PQgetvalue(sh->res, r0, COL_KEY));
	struct cert_content *c = calloc(1, sizeof(*c));
	if (!c)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	c->shared = sh;
	sh->refs++;
	int rc = alloc_arrays(c, r0, r1, err);
	if (rc) {
		cert_content_free(c);
		return rc;
	}
	fill_content(c, r0, r1);
	*out = c;
	return ML_OK;
}

int cert_content_take(PGresult *res, struct cert_content ***out, long long **keys, size_t *n,
		      struct ml_error *err)
{
	*out = NULL;
	*keys = NULL;
	*n = 0;
	int rows = PQntuples(res), docs = 0;
	for (int i = 0; i < rows; i++)
		docs += i == 0 || strcmp(PQgetvalue(res, i, COL_N), PQgetvalue(res, i - 1, COL_N));
	struct content_res *sh = calloc(1, sizeof(*sh));
	struct cert_content **c = calloc(docs ? (size_t)docs : 1, sizeof(*c));
	long long *k = calloc(docs ? (size_t)docs : 1, sizeof(*k));
	if (!sh || !c || !k) {
		free(sh), free(c), free(k);
		PQclear(res);
		return ml_errorf(err, ML_ENOMEM, "out of memory for %d documents", docs);
	}
	sh->res = res;
	sh->refs = 1; /* this function's, dropped below */
	int rc = ML_OK;
	size_t m = 0;
	for (int r0 = 0, r1; r0 < rows && !rc; r0 = r1) {
		for (r1 = r0 + 1;
		     r1 < rows && !strcmp(PQgetvalue(res, r1, COL_N), PQgetvalue(res, r0, COL_N));
		     r1++)
			;
		k[m] = strtoll(PQgetvalue(res, r0, COL_KEY), NULL, 10);
		rc = one_content(sh, r0, r1, &c[m], err);
		m += !rc;
	}
	if (--sh->refs == 0) {
		PQclear(res);
		free(sh);
	}
	if (rc) {
		for (size_t i = 0; i < m; i++)
			cert_content_free(c[i]);
		free(c), free(k);
		return rc;
	}
	*out = c;
	*keys = k;
	*n = m;
	return ML_OK;
}

int cert_content_sql(struct ml_buf *sql, const char *docs_sql, int np)
{
	ml_buf_init(sql, ML_BUF_DEFAULT_MAX);
	/* docs_sql is the caller's constant text: values travel only as parameters */
	return ml_buf_printf(sql, CONTENT_SQL, docs_sql, np + 1) || ml_buf_failed(sql) ? ML_ENOMEM
										       : ML_OK;
}

int cert_content_query(struct db *db, const char *docs_sql, int np, const char *const *p,
		       struct cert_content ***out, long long **keys, size_t *n,
		       struct ml_error *err)
{
	*out = NULL;
	*keys = NULL;
	*n = 0;
	enum {
		MAXP = 8
	};
	if (np < 0 || np >= MAXP)
		return ml_errorf(err, ML_EINTERNAL, "cert_content_query: %d parameters", np);
	const char *pp[MAXP];
	for (int i = 0; i < np; i++)
		pp[i] = p[i];
	pp[np] = CERT_CONTENT_ARRAYS; /* the order of arrays[] */
	struct ml_buf sql;
	if (cert_content_sql(&sql, docs_sql, np)) {
		ml_buf_free(&sql);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	PGresult *res = NULL;
	int rc = db_exec(db, sql.data, np + 1, pp, PGRES_TUPLES_OK, &res, err);
	ml_buf_free(&sql);
	if (!rc)
		rc = cert_content_take(res, out, keys, n, err);
	return rc ? ml_error_prefix(err, "certificate document: ") : ML_OK;
}

/* Exactly one document from a statement of cert_content_query's form. */
static int content_one(struct db *db, const char *docs_sql, const char *param, const char *what,
		       struct cert_content **out, struct ml_error *err)
{
	*out = NULL;
	struct cert_content **c = NULL;
	long long *keys = NULL;
	size_t n = 0;
	const char *p[1] = { param };
	int rc = cert_content_query(db, docs_sql, 1, p, &c, &keys, &n, err);
	if (!rc && n == 0)
		rc = ml_errorf(err, ML_ENOTFOUND, "%s not found", what);
	else if (!rc && n > 1)
		rc = ml_errorf(err, ML_EINTERNAL, "%s: %zu documents, not one", what, n);
	if (!rc)
		*out = c[0];
	for (size_t i = rc ? 0 : 1; i < n; i++)
		cert_content_free(c[i]);
	free(c);
	free(keys);
	return rc;
}

int cert_content_parse(struct db *db, const char *json, struct cert_content **out,
		       struct ml_error *err)
{
	return content_one(db, "SELECT 1::bigint, 0::bigint, $1::jsonb", json,
			   "certificate document", out, err);
}

int cert_content_load(struct db *db, long long id, struct cert_content **out, struct ml_error *err)
{
	char sid[24], what[48];
	snprintf(sid, sizeof(sid), "%lld", id);
	snprintf(what, sizeof(what), "certificate %s", sid);
	/* The row's kind wins over the content's (they are equal for every draft).
	 * Ids are unique; LIMIT 1 keeps the estimate at one row (issue 10). */
	return content_one(db,
			   "SELECT 1::bigint, id, content || jsonb_build_object('kind', kind) "
			   "FROM certificate WHERE id = $1::bigint LIMIT 1",
			   sid, what, out, err);
}

int cert_ids_of_run(struct db *db, long long run_id, const char *st, long long **ids, size_t *n,
		    struct ml_error *err)
{
	struct cert_filter f = { .run_id = run_id, .state = st };
	struct cert_record *r = NULL;
	size_t m = 0;
	*ids = NULL;
	*n = 0;
	int rc = cert_list(db, &f, &r, &m, err);
	if (rc)
		return rc;
	if (!m) {
		free(r);
		return ml_errorf(err, ML_ENOTFOUND, "run %lld has no %s certificates", run_id,
				 st ? st : "");
	}
	*ids = calloc(m, sizeof(**ids));
	if (!*ids) {
		free(r);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < m; i++)
		(*ids)[i] = r[i].id;
	*n = m;
	free(r);
	return ML_OK;
}

int cert_issuer_list(struct db *db, PGresult **out, struct ml_error *err)
{
	return db_exec(db,
		       "SELECT id, name, authorization_no, address, postcode, phone, fax, email, "
		       "number_prefix, default_client, public_base_url, "
		       "CASE WHEN is_default THEN 'yes' ELSE 'no' END AS is_default "
		       "FROM issuer ORDER BY id",
		       0, NULL, PGRES_TUPLES_OK, out, err);
}
