/*
 * cert_workflow.c — the three signatures and issuing.
 *
 * Approving runs in one transaction: lock the drafts (FOR UPDATE, in id
 * order so concurrent approvers cannot deadlock), validate the signers,
 * allocate numbers, render (in worker threads, each with its own renderer),
 * store PDF + hash, mark issued, record supersessions, commit. Any failure
 * rolls everything back, numbers included.
 */
#include "reports/cert_workflow.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "reports/cert_number.h"
#include "reports/cert_store.h"
#include "reports/cert_verify.h"
#include "reports/cert_verify_hash.h"

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Sorted, duplicate-free copy of ids (caller frees). */
static int sorted_ids(const long long *ids, size_t n, long long **out, size_t *nout,
		      struct ml_error *err)
{
	long long *s = malloc((n ? n : 1) * sizeof(*s));
	if (!s)
		return ml_errorf(err, ML_ENOMEM, "out of memory for %zu certificate ids", n);
	memcpy(s, ids, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_ll);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m == 0 || s[m - 1] != s[i])
			s[m++] = s[i];
	}
	*out = s;
	*nout = m;
	return ML_OK;
}

/* Lock one certificate row for the rest of the transaction and read it. */
static int lock_record(struct db *db, long long id, struct cert_record *rec, struct ml_error *err)
{
	char sid[24];
	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[1] = { sid };
	PGresult *res = NULL;
	int rc = db_exec(db, "SELECT 1 FROM certificate WHERE id = $1::bigint FOR UPDATE", 1, p,
			 PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	int found = PQntuples(res);
	PQclear(res);
	if (!found)
		return ml_errorf(err, ML_ENOTFOUND, "certificate %lld not found", id);
	return cert_get(db, id, rec, err);
}

static int same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* ---- check ---- */

static int validate_check(const struct cert_record *r, const char *checker, struct ml_error *err)
{
	if (strcmp(r->state, "draft"))
		return ml_errorf(
			err, ML_ESTATE,
			"certificate %lld is %s (checked by %s), not a draft: it cannot be "
			"checked again",
			r->id, r->state, r->checker);
	if (same(r->verifier, checker))
		return ml_errorf(err, ML_ESTATE,
				 "certificate %lld: %s verified it and cannot also check it; the "
				 "verifier, checker and approver must be three different people",
				 r->id, checker);
	return ML_OK;
}

/* Lock, validate, then one UPDATE for all (compare-and-set on state). */
static int check_locked(struct db *db, const long long *ids, size_t n, const char *checker,
			struct ml_error *err)
{
	struct cert_record *r = calloc(n ? n : 1, sizeof(*r));
	struct ml_buf arr = ML_BUF_INIT;
	int rc = r ? cert_get_many(db, ids, n, 1, r, err)
		   : ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++)
		rc = validate_check(&r[i], checker, err);
	int brc = ml_buf_putc(&arr, '{');
	for (size_t i = 0; i < n && !brc; i++)
		brc = ml_buf_printf(&arr, i ? ",%lld" : "%lld", ids[i]);
	brc |= ml_buf_putc(&arr, '}');
	if (!rc && brc)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory for %zu ids", n);
	PGresult *res = NULL;
	const char *p[2] = { ml_buf_str(&arr), checker };
	if (!rc)
		rc = db_exec(
			db,
			"UPDATE certificate SET state = 'checked', checker = $2, checked_at = now() "
			"WHERE id = ANY($1::bigint[]) AND state = 'draft'",
			2, p, PGRES_COMMAND_OK, &res, err);
	if (!rc && strtoull(PQcmdTuples(res), NULL, 10) != n)
		rc = ml_errorf(err, ML_ECONFLICT,
			       "certificates changed while being checked; try again");
	PQclear(res);
	ml_buf_free(&arr);
	free(r);
	return rc;
}

/* Corrections, withdrawals and discards are logged with why: 1..250 bytes. */
static int check_reason(const char *what, const char *reason, struct ml_error *err)
{
	if (!reason || !*reason || strlen(reason) > 250)
		return ml_errorf(err, ML_EINVAL, "%s needs a reason of 1 to 250 bytes", what);
	return ML_OK;
}

int cert_check(struct db *db, const long long *ids, size_t n, const char *checker,
	       struct ml_error *err)
{
	int rc = cert_valid_name("checker", checker, err);
	long long *s = NULL;
	size_t m = 0;
	if (!rc)
		rc = sorted_ids(ids, n, &s, &m, err);
	if (!rc)
		rc = db_begin(db, err);
	if (!rc)
		rc = check_locked(db, s, m, checker, err);
	rc = db_finish(db, rc, err);
	free(s);
	return rc;
}

/* ---- approve and issue ---- */

struct issue_item {
	struct cert_record rec;
	struct cert_content *content;
	PGresult *issuer; /* issuer row: strings referenced by the doc */
	int owns_issuer;  /* items of one issuer share the first one's row */
	char cert_no[48];
	int year, serial;
	char supersedes[64];
	char vcode[CERT_VCODE_LEN];
	char qr[256];
	struct ml_buf pdf;
	char sha[65];
	int rc;
	struct ml_error err;
};

static void items_free(struct issue_item *it, size_t n)
{
	for (size_t i = 0; it && i < n; i++) {
		cert_content_free(it[i].content);
		if (it[i].owns_issuer)
			PQclear(it[i].issuer);
		ml_buf_free(&it[i].pdf);
	}
	free(it);
}

static int validate_approval(const struct cert_record *r, const char *approver,
			     struct ml_error *err)
{
	if (!strcmp(r->state, "draft"))
		return ml_errorf(err, ML_ESTATE,
				 "certificate %lld is a draft: it must be checked before it is "
				 "approved",
				 r->id);
	if (!strcmp(r->state, "issued"))
		return ml_errorf(err, ML_ESTATE,
				 "certificate %lld is already issued as %s revision %d", r->id,
				 r->cert_no, r->revision);
	if (same(r->verifier, approver) || same(r->checker, approver))
		return ml_errorf(
			err, ML_ESTATE,
			"certificate %lld: %s already signed it as %s and cannot also "
			"approve it; the verifier, checker and approver must be three different people",
			r->id, approver, same(r->verifier, approver) ? "verifier" : "checker");
	return ML_OK;
}

/* The issuer row of items[i], loaded once per issuer of the batch. */
static int load_issuer(struct db *db, struct issue_item *items, size_t i, struct ml_error *err)
{
	for (size_t j = 0; j < i; j++) {
		if (!strcmp(items[j].rec.issuer_id, items[i].rec.issuer_id)) {
			items[i].issuer = items[j].issuer;
			return ML_OK;
		}
	}
	const char *p[1] = { items[i].rec.issuer_id };
	items[i].owns_issuer = 1;
	return db_query_one(
		db,
		"SELECT name, authorization_no, address, postcode, phone, fax, email, number_prefix, "
		"verify_key FROM issuer WHERE id = $1",
		1, p, &items[i].issuer, err);
}

/* Serials for the originals of items[i]'s issuer: one block per issuer,
 * handed out in id order (the items are sorted by id). */
static int alloc_block(struct db *db, struct issue_item *items, size_t n, size_t i, int year,
		       struct ml_error *err)
{
	int count = 0, first = 0;
	for (size_t j = i; j < n; j++)
		count += !items[j].rec.revises_id &&
			 !strcmp(items[j].rec.issuer_id, items[i].rec.issuer_id);
	int rc = cert_number_alloc(db, items[i].rec.issuer_id, year, count, &first, err);
	for (size_t j = i; j < n && !rc; j++) {
		if (items[j].rec.revises_id ||
		    strcmp(items[j].rec.issuer_id, items[i].rec.issuer_id))
			continue;
		items[j].year = year;
		items[j].serial = first++;
	}
	return rc;
}

/* A revision carries the number of the certificate it corrects, which must
 * still be issued and current. */
static int revision_number(struct db *db, struct issue_item *it, struct ml_error *err)
{
	struct cert_record old;
	int rc = lock_record(db, it->rec.revises_id, &old, err);
	if (rc)
		return rc;
	if (strcmp(old.state, "issued") || old.superseded_by || old.withdrawn)
		return ml_errorf(err, ML_ESTATE, "certificate %lld revises %lld, which is %s",
				 it->rec.id, old.id,
				 old.superseded_by ? "already superseded"
				 : old.withdrawn   ? "withdrawn"
						   : "not issued");
	snprintf(it->cert_no, sizeof(it->cert_no), "%s", old.cert_no);
	/* Printed as "第N版，替代 <this>" by the renderer. */
	if (old.revision == 0)
		snprintf(it->supersedes, sizeof(it->supersedes), "%s（原证书）", old.cert_no);
	else
		snprintf(it->supersedes, sizeof(it->supersedes), "%s 第%d版", old.cert_no,
			 old.revision);
	PGresult *res = NULL;
	char sid[24];
	snprintf(sid, sizeof(sid), "%lld", old.id);
	const char *p[1] = { sid };
	rc = db_query_one(db, "SELECT issue_year, serial FROM certificate WHERE id = $1::bigint", 1,
			  p, &res, err);
	if (rc)
		return rc;
	it->year = atoi(PQgetvalue(res, 0, 0));
	it->serial = atoi(PQgetvalue(res, 0, 1));
	PQclear(res);
	return ML_OK;
}

static int assign_number(struct db *db, struct issue_item *items, size_t n, size_t i, int year,
			 struct ml_error *err)
{
	struct issue_item *it = &items[i];
	int rc = load_issuer(db, items, i, err);
	if (rc)
		return rc;
	if (it->rec.revises_id) {
		rc = revision_number(db, it, err);
	} else {
		if (!it->serial)
			rc = alloc_block(db, items, n, i, year, err);
		if (!rc)
			rc = cert_number_format(db_get(it->issuer, 0, "number_prefix"), year,
						it->serial, it->cert_no, sizeof(it->cert_no), err);
	}
	if (!rc)
		rc = cert_verify_code(db_get(it->issuer, 0, "verify_key"), it->cert_no,
				      it->rec.revision, it->rec.barcode, it->vcode, err);
	if (!rc)
		rc = cert_qr_payload(it->cert_no, it->rec.revision, it->rec.barcode, it->vcode,
				     it->qr, sizeof(it->qr), err);
	return rc;
}

/* Fill the workflow fields of the frozen content. */
static void complete_doc(struct issue_item *it, const char *approver, const char *issued_on)
{
	struct cert_doc *d = cert_content_doc(it->content);
	const PGresult *is = it->issuer;
	d->kind = (enum cert_kind)it->rec.kind;
	d->cert_no = it->cert_no;
	d->revision = it->rec.revision;
	d->supersedes = it->supersedes[0] ? it->supersedes : NULL;
	d->issuer = (struct cert_issuer){
		.name = db_get(is, 0, "name"),
		.authorization_no = db_get(is, 0, "authorization_no"),
		.address = db_get(is, 0, "address"),
		.postcode = db_get(is, 0, "postcode"),
		.phone = db_get(is, 0, "phone"),
		.fax = db_get(is, 0, "fax"),
		.email = db_get(is, 0, "email"),
	};
	d->verifier = it->rec.verifier;
	d->checker = it->rec.checker;
	d->approver = approver;
	d->issued_on = issued_on;
	d->verify_code = it->vcode;
	d->qr_payload = it->qr;
	if (d->kind == CERT_KIND_NOTICE)
		d->valid_until = NULL; /* a notice has no validity (JJF 1069-2012) */
}

struct render_pool {
	struct issue_item *items;
	size_t n;
	atomic_size_t next;
};

struct render_worker {
	struct render_pool *pool;
	struct cert_renderer *r;
	pthread_t th;
};

static void *render_loop(void *arg)
{
	struct render_worker *w = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&w->pool->next, 1);
		if (i >= w->pool->n)
			break;
		struct issue_item *it = &w->pool->items[i];
		it->rc = cert_render(w->r, cert_content_doc(it->content), &it->pdf, &it->err);
		if (!it->rc)
			cert_sha256_hex(it->pdf.data, it->pdf.len, it->sha);
	}
	return NULL;
}

/* Render every item, one thread per renderer (the calling thread is one of them). */
static int render_all(struct issue_item *items, size_t n, const struct cert_issue_opts *o,
		      struct ml_error *err)
{
	struct render_pool pool = { .items = items, .n = n };
	atomic_init(&pool.next, 0);
	size_t nw = o->n_renderers < n ? o->n_renderers : n;
	struct render_worker w[16];
	if (nw > 16)
		nw = 16;
	size_t started = 1;
	for (size_t i = 0; i < nw; i++)
		w[i] = (struct render_worker){ .pool = &pool, .r = o->renderers[i] };
	for (size_t i = 1; i < nw; i++) {
		if (pthread_create(&w[i].th, NULL, render_loop, &w[i]))
			break; /* fewer threads: the loop below still renders everything */
		started++;
	}
	if (nw)
		render_loop(&w[0]);
	for (size_t i = 1; i < started; i++)
		pthread_join(w[i].th, NULL);
	for (size_t i = 0; i < n; i++) {
		if (items[i].rc) {
			*err = items[i].err;
			return ml_error_prefix(err,
					       "rendering certificate %lld (%s): ", items[i].rec.id,
					       items[i].cert_no);
		}
	}
	return ML_OK;
}

static int store_pdf(struct db *db, const struct issue_item *it, struct ml_error *err)
{
	char aid[24], cid[24];
	snprintf(aid, sizeof(aid), "%lld", it->rec.asset_id);
	snprintf(cid, sizeof(cid), "%lld", it->rec.id);
	const char *vals[4] = { aid, cid, it->pdf.data, it->sha };
	int lens[4] = { 0, 0, (int)it->pdf.len, 0 };
	int fmts[4] = { 0, 0, 1, 0 }; /* the PDF goes as binary: no hex doubling, no escaping */
	PGresult *res = PQexecParams(db_conn(db),
				     "INSERT INTO cert_pdf (asset_id, cert_id, pdf, sha256) "
				     "VALUES ($1::bigint, $2::bigint, $3::bytea, $4)",
				     4, NULL, vals, lens, fmts, 0);
	int rc = ML_OK;
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = db_result_error(db, res, "storing certificate PDF", err);
	PQclear(res);
	return rc;
}

static int mark_issued(struct db *db, const struct issue_item *it, const char *approver,
		       const char *issued_on, struct ml_error *err)
{
	char cid[24], year[8], serial[16];
	snprintf(cid, sizeof(cid), "%lld", it->rec.id);
	snprintf(year, sizeof(year), "%d", it->year);
	snprintf(serial, sizeof(serial), "%d", it->serial);
	const char *p[7] = { cid, approver, it->cert_no, year, serial, issued_on, it->vcode };
	int rc = db_cmd(
		db,
		"UPDATE certificate SET state = 'issued', approver = $2, approved_at = now(), cert_no = $3, "
		"issue_year = $4::int, serial = $5::int, issued_on = $6::date, verify_code = $7 "
		"WHERE id = $1::bigint AND state = 'checked'",
		7, p, err);
	if (rc || !it->rec.revises_id)
		return rc;
	char aid[24], old[24];
	snprintf(aid, sizeof(aid), "%lld", it->rec.asset_id);
	snprintf(old, sizeof(old), "%lld", it->rec.revises_id);
	const char *q[5] = { aid, old, cid, it->rec.revise_reason, approver };
	return db_cmd(
		db,
		"INSERT INTO cert_supersession (asset_id, old_id, new_id, reason, revised_by) "
		"VALUES ($1::bigint, $2::bigint, $3::bigint, $4, $5)",
		5, q, err);
}

static int issue_date(struct db *db, const char *given, char out[12], struct ml_error *err)
{
	const char *p[1] = { given };
	PGresult *res = NULL;
	/* Today in China Standard Time, the zone of the printed dates and of the
	 * PDF CreationDate (reports/cert_render.c), whatever the server's zone. */
	int rc = db_query_one(
		db,
		"SELECT to_char(coalesce($1::date, (now() AT TIME ZONE 'Asia/Shanghai')::date), 'YYYY-MM-DD')",
		1, p, &res, err);
	if (rc)
		return ml_error_prefix(err, "issue date '%s': ", given ? given : "today");
	snprintf(out, 12, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ML_OK;
}

static int prepare_items(struct db *db, struct issue_item *it, size_t n, const char *approver,
			 const char *date, struct ml_error *err)
{
	int rc = ML_OK;
	for (size_t i = 0; i < n && !rc; i++)
		rc = validate_approval(&it[i].rec, approver, err);
	for (size_t i = 0; i < n && !rc; i++) {
		rc = assign_number(db, it, n, i, atoi(date), err);
		if (!rc)
			rc = cert_content_load(db, it[i].rec.id, &it[i].content, err);
		if (!rc)
			complete_doc(&it[i], approver, date);
	}
	return rc;
}

static int approve_locked(struct db *db, const long long *ids, size_t n, const char *approver,
			  const struct cert_issue_opts *o, struct ml_error *err)
{
	char date[12];
	struct issue_item *it = calloc(n ? n : 1, sizeof(*it));
	if (!it)
		return ml_errorf(err, ML_ENOMEM, "out of memory for %zu certificates", n);
	struct cert_record *recs = calloc(n ? n : 1, sizeof(*recs));
	int rc = recs ? issue_date(db, o->issued_on, date, err)
		      : ml_errorf(err, ML_ENOMEM, "out of memory");
	if (!rc)
		rc = cert_get_many(db, ids, n, 1, recs, err);
	for (size_t i = 0; i < n; i++) {
		ml_buf_init(&it[i].pdf, ML_BUF_DEFAULT_MAX);
		if (!rc)
			it[i].rec = recs[i];
	}
	free(recs);
	if (!rc)
		rc = prepare_items(db, it, n, approver, date, err);
	if (!rc)
		rc = render_all(it, n, o, err);
	for (size_t i = 0; i < n && !rc; i++) {
		rc = store_pdf(db, &it[i], err);
		if (!rc)
			rc = mark_issued(db, &it[i], approver, date, err);
	}
	items_free(it, n);
	return rc;
}

int cert_approve(struct db *db, const long long *ids, size_t n, const char *approver,
		 const struct cert_issue_opts *opts, struct ml_error *err)
{
	if (!opts || !opts->renderers || opts->n_renderers < 1)
		return ml_errorf(err, ML_EINTERNAL, "cert_approve needs at least one renderer");
	int rc = cert_valid_name("approver", approver, err);
	long long *s = NULL;
	size_t m = 0;
	if (!rc)
		rc = sorted_ids(ids, n, &s, &m, err);
	if (!rc)
		rc = db_begin(db, err);
	if (!rc)
		rc = approve_locked(db, s, m, approver, opts, err);
	rc = db_finish(db, rc, err);
	free(s);
	return rc;
}

/* ---- revise ---- */

static int override_allowed(const char *f)
{
	static const char *const ok[] = { "client",      "place",        "temperature",
					  "humidity",    "record_no",    "model",
					  "spec",        "manufacturer", "instrument",
					  "verified_on", "valid_until" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (!strcmp(f, ok[i]))
			return 1;
	}
	return 0;
}

static int overrides_json(const char *by, const struct cert_override *ov, size_t n,
			  struct ml_buf *b, struct ml_error *err)
{
	int rc = ml_buf_putc(b, '{');
	rc |= ml_json_kv_str(b, 1, "verifier", by);
	for (size_t i = 0; i < n && !rc; i++) {
		if (!ov[i].field || !override_allowed(ov[i].field))
			return ml_errorf(
				err, ML_EINVAL,
				"field '%s' cannot be corrected by a revision (allowed: client, "
				"place, temperature, humidity, record_no, model, spec, manufacturer, "
				"instrument, verified_on, valid_until)",
				ov[i].field ? ov[i].field : "");
		rc = ml_json_kv_str(b, 0, ov[i].field, ov[i].value);
	}
	rc |= ml_buf_putc(b, '}');
	return rc ? ml_errorf(err, ML_ENOMEM, "revision overrides too large") : ML_OK;
}

static int revise_checks(struct db *db, long long id, struct ml_error *err)
{
	struct cert_record r;
	int rc = lock_record(db, id, &r, err);
	if (rc)
		return rc;
	if (strcmp(r.state, "issued"))
		return ml_errorf(err, ML_ESTATE,
				 "certificate %lld is a %s, not issued: correct the draft's source "
				 "instead of revising",
				 id, r.state);
	if (r.superseded_by)
		return ml_errorf(err, ML_ESTATE,
				 "certificate %lld (%s revision %d) is already superseded by "
				 "certificate %lld: revise the current revision",
				 id, r.cert_no, r.revision, r.superseded_by);
	if (r.withdrawn)
		return ml_errorf(err, ML_ESTATE,
				 "certificate %lld (%s) was withdrawn on %s: it cannot be revised",
				 id, r.cert_no, r.withdrawn_at);
	char sid[24];
	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[1] = { sid };
	PGresult *res = NULL;
	rc = db_exec(db, "SELECT id FROM certificate WHERE revises_id = $1::bigint", 1, p,
		     PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res))
		rc = ml_errorf(err, ML_ESTATE,
			       "certificate %lld already has a pending revision (draft %s)", id,
			       PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

static int insert_revision(struct db *db, long long id, const char *reason, const char *by,
			   const char *json, long long *new_id, struct ml_error *err)
{
	char sid[24];
	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[4] = { sid, reason, json, by };
	PGresult *res = NULL;
	int rc = db_query_one(
		db,
		"INSERT INTO certificate (asset_id, run_id, issuer_id, kind, barcode, content, revision, "
		"revises_id, revise_reason, verifier) "
		"SELECT asset_id, run_id, issuer_id, kind, barcode, content || $3::jsonb, revision + 1, id, "
		"$2, $4 FROM certificate WHERE id = $1::bigint AND state = 'issued' RETURNING id",
		4, p, &res, err);
	if (rc)
		return rc;
	if (new_id)
		*new_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return ML_OK;
}

int cert_revise(struct db *db, long long id, const char *reason, const char *by,
		const struct cert_override *ov, size_t n_ov, long long *new_id,
		struct ml_error *err)
{
	int rc = check_reason("a revision", reason, err);
	if (!rc)
		rc = cert_valid_name("reviser", by, err);
	struct ml_buf json = ML_BUF_INIT;
	if (!rc)
		rc = overrides_json(by, ov, n_ov, &json, err);
	if (!rc)
		rc = db_begin(db, err);
	if (!rc)
		rc = revise_checks(db, id, err);
	if (!rc)
		rc = insert_revision(db, id, reason, by, json.data, new_id, err);
	rc = db_finish(db, rc, err);
	ml_buf_free(&json);
	return rc;
}

/* ---- withdraw ---- */

static int withdraw_locked(struct db *db, long long id, const char *reason, const char *by,
			   struct ml_error *err)
{
	struct cert_record r;
	int rc = lock_record(db, id, &r, err);
	if (rc)
		return rc;
	if (strcmp(r.state, "issued"))
		return ml_errorf(err, ML_ESTATE,
				 "certificate %lld is a %s: only issued certificates are withdrawn "
				 "(a draft is simply not approved)",
				 id, r.state);
	if (r.superseded_by)
		return ml_errorf(
			err, ML_ESTATE,
			"certificate %lld (%s revision %d) is superseded by certificate %lld: "
			"withdraw the current revision",
			id, r.cert_no, r.revision, r.superseded_by);
	if (r.withdrawn)
		return ml_errorf(err, ML_ESTATE,
				 "certificate %lld (%s) was already withdrawn on %s by %s", id,
				 r.cert_no, r.withdrawn_at, r.withdrawn_by);
	char aid[24], cid[24];
	snprintf(aid, sizeof(aid), "%lld", r.asset_id);
	snprintf(cid, sizeof(cid), "%lld", id);
	const char *p[4] = { aid, cid, reason, by };
	return db_cmd(db,
		      "INSERT INTO cert_withdrawal (asset_id, cert_id, reason, withdrawn_by) "
		      "VALUES ($1::bigint, $2::bigint, $3, $4)",
		      4, p, err);
}

int cert_withdraw(struct db *db, long long id, const char *reason, const char *by,
		  struct ml_error *err)
{
	int rc = check_reason("a withdrawal", reason, err);
	if (!rc)
		rc = cert_valid_name("withdrawing person", by, err);
	if (!rc)
		rc = db_begin(db, err);
	if (!rc)
		rc = withdraw_locked(db, id, reason, by, err);
	return db_finish(db, rc, err);
}

/* ---- discard ---- */

static int discard_locked(struct db *db, long long id, const char *reason, const char *by,
			  struct ml_error *err)
{
	struct cert_record r;
	int rc = lock_record(db, id, &r, err);
	if (rc)
		return rc;
	if (!strcmp(r.state, "issued"))
		return ml_errorf(
			err, ML_ESTATE,
			"certificate %lld is issued as %s: an issued certificate is withdrawn "
			"or revised, never discarded",
			id, r.cert_no);
	char sid[24];
	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[3] = { sid, reason, by };
	rc = db_cmd(
		db,
		"INSERT INTO cert_discard_log (asset_id, cert_id, run_id, barcode, revision, state, content, verifier, "
		"checker, reason, discarded_by) SELECT asset_id, id, run_id, barcode, revision, state, content, "
		"verifier, checker, $2, $3 FROM certificate WHERE id = $1::bigint",
		3, p, err);
	if (!rc)
		rc = db_cmd(db,
			    "DELETE FROM certificate WHERE id = $1::bigint AND state <> 'issued'",
			    1, p, err);
	return rc;
}

int cert_discard(struct db *db, long long id, const char *reason, const char *by,
		 struct ml_error *err)
{
	int rc = check_reason("discarding a draft", reason, err);
	if (!rc)
		rc = cert_valid_name("discarding person", by, err);
	if (!rc)
		rc = db_begin(db, err);
	if (!rc)
		rc = discard_locked(db, id, reason, by, err);
	return db_finish(db, rc, err);
}
