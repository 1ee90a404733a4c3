/*
 * cert_workflow.c — the signatures and issuing, through the database's
 * certificate functions (migration 0141).
 *
 * Approving runs in one transaction: ml_cert_issue_begin locks the
 * certificates (in id order, so concurrent approvers cannot deadlock),
 * checks the signers and the runs, allocates numbers and codes and returns
 * each document to render; the documents are rendered here (in worker
 * threads, each with its own renderer); ml_cert_issue_pdf stores each PDF
 * after checking it carries the allocated claim; ml_cert_issue_finish marks
 * them issued. Any failure rolls everything back, numbers included.
 */
#include "reports/cert_workflow.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/text.h"
#include "reports/cert_store.h"
#include "sql/pgarr.h"

/* "{1,2,3}" for a bigint[] parameter; NULL on failure. a is freed by the caller. */
static const char *id_array(struct pgarr *a, const long long *ids, size_t n)
{
	pgarr_init(a);
	for (size_t i = 0; i < n; i++)
		pgarr_add_i64(a, ids[i]);
	return pgarr_finish(a);
}

/* Reasons are logged with the record: typed text, 1..250 characters. */
static int check_reason(const char *what, const char *reason, size_t max, struct ml_error *err)
{
	if (!reason)
		return ml_errorf(err, ML_EINVAL, "%s needs a reason", what);
	return ml_text_check(reason, max, 0, what, err);
}

/* ---- check ---- */

int cert_check(struct db *db, const long long *ids, size_t n, struct ml_error *err)
{
	if (n == 0)
		return ml_errorf(err, ML_EINVAL, "no certificates to check");
	struct pgarr a;
	const char *arr = id_array(&a, ids, n);
	int rc = arr ? ML_OK : ml_errorf(err, ML_ENOMEM, "out of memory for %zu ids", n);
	const char *p[1] = { arr };
	/* One statement: all are checked or none. */
	if (!rc)
		rc = db_cmd(db, "SELECT ml_cert_check($1::bigint[])", 1, p, err);
	pgarr_free(&a);
	return rc;
}

/* ---- approve and issue ---- */

struct issue_item {
	long long id;
	struct cert_content *content;
	struct ml_buf pdf;
	int rc;
	struct ml_error err;
};

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
					       "rendering certificate %lld (%s): ", items[i].id,
					       cert_content_doc(items[i].content)->cert_no);
		}
	}
	return ML_OK;
}

const char cert_issue_docs_sql[] =
	"SELECT b.n, b.cert_id, b.doc "
	"FROM ml_cert_issue_begin($1::bigint[]) WITH ORDINALITY b(cert_id, doc, n)";

/*
 * BEGIN (when the approval owns its transaction) and ml_cert_issue_begin
 * with every document it allocated taken apart, in one round trip (one
 * statement for N documents, pipelined behind the BEGIN).
 */
static int begin_items(struct db *db, const char *arr, int own, struct issue_item **out, size_t *n,
		       struct ml_error *err)
{
	*out = NULL;
	*n = 0;
	struct ml_buf sql;
	if (cert_content_sql(&sql, cert_issue_docs_sql, 1)) {
		ml_buf_free(&sql);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	const char *p[2] = { arr, CERT_CONTENT_ARRAYS };
	struct db_stmt st[2] = { { "BEGIN", 0, NULL, NULL, NULL, PGRES_COMMAND_OK },
				 { sql.data, 2, p, NULL, NULL, PGRES_TUPLES_OK } };
	PGresult *res[2] = { NULL, NULL };
	int rc = db_pipeline(db, st + !own, own ? 2 : 1, res + !own, err);
	ml_buf_free(&sql);
	PQclear(res[0]);
	struct cert_content **docs = NULL;
	long long *ids = NULL;
	size_t m = 0;
	if (!rc)
		rc = cert_content_take(res[1], &docs, &ids, &m, err);
	if (rc)
		return rc;
	struct issue_item *it = calloc(m ? m : 1, sizeof(*it));
	if (!it)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory for %zu certificates", m);
	for (size_t i = 0; i < m; i++) {
		if (!it) {
			cert_content_free(docs[i]);
			continue;
		}
		ml_buf_init(&it[i].pdf, ML_BUF_DEFAULT_MAX);
		it[i].id = ids[i];
		it[i].content = docs[i];
	}
	free(docs);
	free(ids);
	*out = it;
	*n = it ? m : 0;
	return rc;
}

/*
 * PDFs stored per round trip. The client sends a pipeline's statements
 * before it reads their results, so the server's replies must fit in the
 * socket's buffer meanwhile (libpq, "Pipeline Mode"): 32 replies of about
 * 100 bytes do.
 */
enum {
	PDFS_PER_TRIP = 32
};

/*
 * Every PDF (ml_cert_issue_pdf checks each carries its allocated claim;
 * binary parameters: no hex doubling), ml_cert_issue_finish and, when the
 * approval owns its transaction, COMMIT, pipelined: one round trip for up
 * to PDFS_PER_TRIP certificates. The transaction is open throughout (BEGIN
 * in begin_items, or the caller's), so each trip's sync ends nothing; a
 * failure skips what follows it, the COMMIT included.
 */
static int finish_items(struct db *db, const struct issue_item *it, size_t n, int own,
			struct ml_error *err)
{
	/* one PDF's parameters: the id's text and the bytes (binary) */
	struct pdf_param {
		char cid[24];
		const char *vals[2];
		int lens[2];
	};
	static const int fmts[2] = { 0, 1 };
	struct db_stmt *st = calloc(n + 2, sizeof(*st));
	struct pdf_param *pp = calloc(n ? n : 1, sizeof(*pp));
	int rc = st && pp ? ML_OK
			  : ml_errorf(err, ML_ENOMEM, "out of memory for %zu certificates", n);
	for (size_t i = 0; i < n && !rc; i++) {
		snprintf(pp[i].cid, sizeof(pp[i].cid), "%lld", it[i].id);
		pp[i].vals[0] = pp[i].cid;
		pp[i].vals[1] = it[i].pdf.data;
		pp[i].lens[1] = (int)it[i].pdf.len;
		st[i] = (struct db_stmt){ "SELECT ml_cert_issue_pdf($1::bigint, $2::bytea)",
					  2,
					  pp[i].vals,
					  pp[i].lens,
					  fmts,
					  PGRES_COMMAND_OK };
	}
	if (!rc) {
		st[n] = (struct db_stmt){
			"SELECT ml_cert_issue_finish()", 0, NULL, NULL, NULL, PGRES_COMMAND_OK
		};
		st[n + 1] = (struct db_stmt){ "COMMIT", 0, NULL, NULL, NULL, PGRES_COMMAND_OK };
		size_t total = n + 1 + (own != 0);
		for (size_t at = 0; at < total && !rc; at += PDFS_PER_TRIP)
			rc = db_pipeline(db, st + at,
					 total - at < PDFS_PER_TRIP ? total - at : PDFS_PER_TRIP,
					 NULL, err);
		if (rc)
			rc = ml_error_prefix(err, "issuing: ");
	}
	free(st);
	free(pp);
	return rc;
}

static void items_free(struct issue_item *it, size_t n)
{
	for (size_t i = 0; it && i < n; i++) {
		cert_content_free(it[i].content);
		ml_buf_free(&it[i].pdf);
	}
	free(it);
}

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Seconds since *t0; restarts *t0. */
static double lap(double *t0)
{
	double t = mono(), d = t - *t0;
	*t0 = t;
	return d;
}

/* own: the approval opens and commits its transaction (rolled back by the
 * caller on failure). */
static int approve(struct db *db, const char *arr, int own, const struct cert_issue_opts *o,
		   struct cert_issue_times *tm, struct ml_error *err)
{
	struct issue_item *it = NULL;
	size_t n = 0;
	double t0 = mono();
	int rc = begin_items(db, arr, own, &it, &n, err);
	tm->begin = lap(&t0);
	if (!rc)
		rc = render_all(it, n, o, err);
	tm->render = lap(&t0);
	if (!rc)
		rc = finish_items(db, it, n, own, err);
	tm->finish = lap(&t0);
	items_free(it, n);
	return rc;
}

int cert_approve(struct db *db, const long long *ids, size_t n, const struct cert_issue_opts *opts,
		 struct ml_error *err)
{
	return cert_approve_timed(db, ids, n, opts, NULL, err);
}

int cert_approve_timed(struct db *db, const long long *ids, size_t n,
		       const struct cert_issue_opts *opts, struct cert_issue_times *tm,
		       struct ml_error *err)
{
	if (!opts || !opts->renderers || opts->n_renderers < 1)
		return ml_errorf(err, ML_EINTERNAL, "cert_approve needs at least one renderer");
	if (n == 0)
		return ml_errorf(err, ML_EINVAL, "no certificates to approve");
	struct pgarr a;
	const char *arr = id_array(&a, ids, n);
	/* Inside a caller's transaction (the server's request) it is the caller's to finish. */
	int own = PQtransactionStatus(db_conn(db)) == PQTRANS_IDLE;
	int rc = arr ? ML_OK : ml_errorf(err, ML_ENOMEM, "out of memory for %zu ids", n);
	/* timed always (a few clock reads), added to *tm when asked */
	struct cert_issue_times d = { 0, 0, 0 };
	if (!rc)
		rc = approve(db, arr, own, opts, &d, err);
	if (rc && own)
		db_rollback(db);
	if (tm) {
		tm->begin += d.begin;
		tm->render += d.render;
		tm->finish += d.finish;
	}
	pgarr_free(&a);
	return rc;
}

/* ---- revise ---- */

static int overrides_json(const struct cert_override *ov, size_t n, struct ml_buf *b,
			  struct ml_error *err)
{
	int rc = ml_buf_putc(b, '{');
	for (size_t i = 0; i < n && !rc; i++) {
		if (!ov[i].field || !ov[i].value)
			return ml_errorf(err, ML_EINVAL, "revision field %zu has no name or value",
					 i + 1);
		rc = ml_text_check(ov[i].value, 128, 0, ov[i].field, err);
		if (rc)
			return rc;
		rc = ml_json_kv_str(b, i == 0, ov[i].field, ov[i].value);
	}
	rc |= ml_buf_putc(b, '}');
	return rc ? ml_errorf(err, ML_ENOMEM, "revision overrides too large") : ML_OK;
}

int cert_revise(struct db *db, long long id, const char *reason, const struct cert_override *ov,
		size_t n_ov, long long *new_id, struct ml_error *err)
{
	int rc = check_reason("a revision", reason, 250, err);
	struct ml_buf json = ML_BUF_INIT;
	if (!rc)
		rc = overrides_json(ov, n_ov, &json, err);
	char sid[24];
	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[3] = { sid, reason, ml_buf_str(&json) };
	PGresult *res = NULL;
	if (!rc)
		rc = db_query_one(db, "SELECT ml_cert_revise($1::bigint, $2, $3::jsonb)", 3, p,
				  &res, err);
	if (!rc && new_id)
		*new_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	ml_buf_free(&json);
	return rc;
}

/* ---- withdraw, discard, back-date ---- */

static int call_with_reason(struct db *db, const char *sql, long long id, const char *what,
			    const char *reason, struct ml_error *err)
{
	int rc = check_reason(what, reason, 250, err);
	char sid[24];
	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[2] = { sid, reason };
	return rc ? rc : db_cmd(db, sql, 2, p, err);
}

int cert_withdraw(struct db *db, long long id, const char *reason, struct ml_error *err)
{
	return call_with_reason(db, "SELECT ml_cert_withdraw($1::bigint, $2)", id, "a withdrawal",
				reason, err);
}

int cert_discard(struct db *db, long long id, const char *reason, struct ml_error *err)
{
	return call_with_reason(db, "SELECT ml_cert_discard($1::bigint, $2)", id,
				"discarding a draft", reason, err);
}

int cert_backdate(struct db *db, long long id, const char *date, const char *reason,
		  struct ml_error *err)
{
	int rc = check_reason("back-dating", reason, 500, err);
	if (!rc && !date)
		rc = ml_errorf(err, ML_EINVAL, "back-dating needs the issue date");
	char sid[24];
	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[3] = { sid, date, reason };
	return rc ? rc : db_cmd(db, "SELECT ml_cert_backdate($1::bigint, $2, $3)", 3, p, err);
}

/*
 * Renderers outlive an approval: a process that approves again (the
 * server, one request after another) takes one back with the font
 * programs it made (cert_render.c keeps the last few; the certificates of
 * one run or customer share them). At most CERT_APPROVE_MAX_THREADS wait
 * here, each in one thread's hands at a time, until the process ends.
 */
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cert_renderer *spare[CERT_APPROVE_MAX_THREADS];
static size_t n_spare;

static int renderer_take(struct cert_renderer **r, struct ml_error *err)
{
	pthread_mutex_lock(&spare_lock);
	*r = n_spare ? spare[--n_spare] : NULL;
	pthread_mutex_unlock(&spare_lock);
	return *r ? ML_OK : cert_renderer_new(NULL, r, err);
}

static void renderer_give_back(struct cert_renderer *r)
{
	pthread_mutex_lock(&spare_lock);
	if (n_spare < CERT_APPROVE_MAX_THREADS) {
		spare[n_spare++] = r;
		r = NULL;
	}
	pthread_mutex_unlock(&spare_lock);
	cert_renderer_free(r);
}

int cert_approve_threads(struct db *db, const long long *ids, size_t n, int threads,
			 struct ml_error *err)
{
	struct cert_renderer *r[CERT_APPROVE_MAX_THREADS] = { 0 };
	size_t nr = 0;
	int rc = ML_OK;
	if (threads < 1 || threads > CERT_APPROVE_MAX_THREADS)
		return ml_errorf(err, ML_EINVAL, "%d rendering threads is not 1..%d", threads,
				 CERT_APPROVE_MAX_THREADS);
	while (nr < (size_t)threads && !rc) {
		rc = renderer_take(&r[nr], err);
		nr += !rc;
	}
	if (!rc) {
		struct cert_issue_opts o = { r, nr };
		rc = cert_approve(db, ids, n, &o, err);
	}
	for (size_t i = 0; i < nr; i++)
		renderer_give_back(r[i]);
	return rc;
}
