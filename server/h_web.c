/*
 * h_web.c — the API routes the web pages (web/, issue 13) need beyond the
 * ones every integration uses: what a checker is about to sign (a draft's
 * preview PDF), the figures of the manager's page, counts, seals (receive,
 * issue, destroy, a seal's history), fault outcomes and a manual run's
 * readings — each over the library call the CLI makes (stores/, field/,
 * lab/).
 *
 * Thin over the libraries like the other handlers, in the request's
 * transaction that began with ml_api_enter (the route's permission checked
 * in the database); the rules are the database's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "field/field.h"
#include "lab/manual.h"
#include "quality/quality.h"
#include "reports/cert_doc.h"
#include "reports/cert_store.h"
#include "server/srv.h"
#include "stores/stores.h"

/*
 * One renderer for previews (parsing the font is the slow part), used by one
 * request at a time: a libharu document is not shared across threads
 * (reports/cert_doc.h). Made on first use, freed at exit by nobody: it lives
 * as long as the process.
 */
static pthread_mutex_t preview_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cert_renderer *preview_r;

/*
 * GET /api/certificates/{id}/preview: the certificate as its approver would
 * issue it, rendered from the draft's frozen content, so the checker and
 * the approver see what they sign. It has no number, no issue date of its
 * own and no verification code yet: those fields say 草稿 (draft), and the
 * PDF is never stored. An issued certificate's PDF is the stored one
 * (GET /api/certificates/{id}/pdf).
 */
int h_cert_preview(struct req *rq, struct ml_error *err)
{
	long long id = strtoll(req_seg(rq, 0), NULL, 10);
	struct cert_content *c = NULL;
	struct ml_buf pdf = ML_BUF_INIT;
	int rc = cert_content_load(rq->db, id, &c, err);
	if (rc)
		goto out;
	struct cert_doc doc = *cert_content_doc(c);
	char today[16], no[48];
	/* today in China Standard Time (UTC+8, no daylight saving), the zone of
	 * the certificates' dates (ml_cert_today, 0141), whatever the server's */
	time_t now = time(NULL) + 8 * 3600;
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	snprintf(no, sizeof(no), "草稿-%lld", id);
	if (!doc.cert_no || !doc.cert_no[0])
		doc.cert_no = no;
	if (!doc.issued_on || !doc.issued_on[0])
		doc.issued_on = today;
	if (!doc.checker || !doc.checker[0])
		doc.checker = "（待核验）";
	if (!doc.approver || !doc.approver[0])
		doc.approver = "（待批准）";
	if (!doc.verify_code || !doc.verify_code[0])
		doc.verify_code = "草稿";
	if (!doc.qr_payload || !doc.qr_payload[0])
		doc.qr_payload = "草稿 未签发";
	pthread_mutex_lock(&preview_mu);
	if (!preview_r)
		rc = cert_renderer_new(NULL, &preview_r, err);
	if (!rc)
		rc = cert_render(preview_r, &doc, &pdf, err);
	pthread_mutex_unlock(&preview_mu);
	if (rc)
		goto out;
	rc = req_raw(rq, 200, "application/pdf", pdf.data, pdf.len);
	if (rc)
		ml_errorf(err, ML_ENOMEM, "out of memory");
out:
	cert_content_free(c);
	ml_buf_free(&pdf);
	return rc;
}

/*
 * GET /api/field/team: the field team of the person (the field pages list
 * the team's meters and seals with /api/assets and /api/seals), or nulls.
 */
int h_field_team(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(rq->db,
			 "SELECT l.code AS team, l.name FROM app_user u LEFT JOIN location l "
			 "ON l.location_id = u.team_location_id WHERE u.user_id = ml_actor_id()",
			 0, NULL, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	req_json(rq, 200,
		 PQntuples(res) ? json_row(res, 0) : json_pack("{s:n, s:n}", "team", "name"));
	PQclear(res);
	return ML_OK;
}

/* Rows of one query as a JSON array under key of o (the query takes no parameters). */
static int rows_into(struct req *rq, json_t *o, const char *key, const char *sql,
		     struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(rq->db, sql, 0, NULL, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	json_object_set_new(o, key, json_rows(res));
	PQclear(res);
	return ML_OK;
}

/*
 * GET /api/summary: the manager's page — stock by store and state (from the
 * trigger-kept counts of 0170, not the assets), assets whose verification
 * runs out within 90 days while still in the centre's hands or issued,
 * today's runs by status, and the pass rate by model over the last 90 days
 * (the rate an exact decimal string, rounded half to even by quality_ratio,
 * never a float).
 */
int h_summary(struct req *rq, struct ml_error *err)
{
	json_t *o = json_object();
	int rc = rows_into(rq, o, "stock",
			   "SELECT l.code AS store, l.name, c.state, sum(c.n)::bigint AS assets "
			   "FROM asset_count_place c JOIN location l USING (location_id) "
			   "WHERE l.kind IN ('central_store', 'secondary_store') AND c.n > 0 "
			   "GROUP BY 1, 2, 3 ORDER BY 1, 3",
			   err);
	if (!rc)
		rc = rows_into(rq, o, "expiring",
			       "SELECT a.barcode, m.code AS model, a.state, l.code AS location, "
			       "a.valid_until FROM asset a JOIN device_model m USING (model_id) "
			       "LEFT JOIN location l USING (location_id) "
			       "WHERE a.valid_until < ml_cert_today() + 90 AND a.state IN "
			       "('in_stock', 'secondary_stock', 'issued') "
			       "ORDER BY a.valid_until, a.barcode LIMIT 50",
			       err);
	if (!rc)
		rc = rows_into(rq, o, "runs_today",
			       "SELECT status, count(*) AS runs FROM verification_run "
			       "WHERE run_date = ml_cert_today() GROUP BY status ORDER BY status",
			       err);
	PGresult *res = NULL;
	if (!rc)
		rc = db_exec(rq->db,
			     "SELECT m.code AS model, m.name, count(*) AS verified, "
			     "count(*) FILTER (WHERE c.verdict = 'pass') AS passed "
			     "FROM run_conclusion c JOIN verification_run r USING (run_id) "
			     "JOIN device_model m ON m.model_id = r.model_id "
			     "WHERE c.item = 'overall' AND r.run_date > ml_cert_today() - 90 "
			     "GROUP BY 1, 2 ORDER BY 1",
			     0, NULL, PGRES_TUPLES_OK, &res, err);
	if (!rc) {
		json_t *a = json_rows(res);
		for (size_t i = 0; i < json_array_size(a); i++) {
			json_t *row = json_array_get(a, i);
			char rate[32];
			quality_ratio(json_integer_value(json_object_get(row, "passed")),
				      json_integer_value(json_object_get(row, "verified")), 100, 1,
				      rate);
			json_object_set_new(row, "pass_rate", json_string(rate));
		}
		json_object_set_new(o, "pass_rate", a);
		json_object_set_new(o, "pass_rate_days", json_integer(90));
	}
	PQclear(res);
	if (rc) {
		json_decref(o);
		return rc;
	}
	req_json(rq, 200, o);
	return ML_OK;
}

/* ---- stock counts (盘点) for the count page ---- */

/*
 * POST /api/stock/counts {store, slot?, codes}: submit a count (nothing
 * changes yet); the answer lists every difference — surplus, shortage,
 * wrong slot, unregistered — as stock_count_submit found them. A code that
 * is neither an asset nor a slot of the store refuses the count (422).
 */
int h_count_submit(struct req *rq, struct ml_error *err)
{
	json_t *a = json_object_get(rq->in, "codes");
	size_t n = json_array_size(a);
	const char **codes = calloc(n ? n : 1, sizeof *codes);
	struct stock_count_report rep;
	memset(&rep, 0, sizeof(rep));
	if (!codes)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		codes[i] = json_string_value(json_array_get(a, i));
	int rc = stock_count_submit(rq->db, json_string_value(json_object_get(rq->in, "store")),
				    json_string_value(json_object_get(rq->in, "slot")), codes, n,
				    &rep, err);
	free(codes);
	if (!rc) {
		json_t *sum = json_object(), *lines = json_array();
		for (int k = 0; k < COUNT_KIND_COUNT; k++)
			json_object_set_new(sum, count_kind_name((enum count_kind)k),
					    json_integer((json_int_t)rep.n[k]));
		for (size_t i = 0; i < rep.nlines; i++)
			json_array_append_new(lines,
					      json_pack("{s:s, s:s, s:b, s:s}", "kind",
							count_kind_name(rep.lines[i].kind), "code",
							rep.lines[i].code, "adjustable",
							rep.lines[i].adjustable, "note",
							rep.lines[i].note));
		req_json(rq, 201,
			 json_pack("{s:I, s:o, s:o}", "count_id", (json_int_t)rep.count_id,
				   "summary", sum, "lines", lines));
	}
	stock_count_report_free(&rep);
	return rc;
}

/* POST /api/stock/counts/{id}/confirm {reason}: a second person applies the
 * count's adjustable lines (the database refuses the counter). */
int h_count_confirm(struct req *rq, struct ml_error *err)
{
	size_t adjusted = 0;
	int rc = stock_count_confirm(rq->db, strtoll(req_seg(rq, 0), NULL, 10),
				     json_string_value(json_object_get(rq->in, "reason")),
				     &adjusted, err);
	if (!rc)
		req_json(rq, 200,
			 json_pack("{s:b, s:I}", "confirmed", 1, "adjusted", (json_int_t)adjusted));
	return rc;
}

/* GET /api/stock/counts/{id}: stock_count_show — the count's status, its
 * counter and every line, so the second person sees what they confirm. */
int h_count_show(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = stock_count_show(rq->db, strtoll(req_seg(rq, 0), NULL, 10), &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

/* POST /api/stock/counts/{id}/reject {reason}: stock_count_reject (nothing adjusted). */
int h_count_reject(struct req *rq, struct ml_error *err)
{
	int64_t id = strtoll(req_seg(rq, 0), NULL, 10);
	int rc = stock_count_reject(rq->db, id,
				    json_string_value(json_object_get(rq->in, "reason")), err);
	if (!rc)
		req_json(rq, 200,
			 json_pack("{s:I, s:b}", "count_id", (json_int_t)id, "rejected", 1));
	return rc;
}

/* GET /api/retirements/{id}: retire_show — the assets a second person approves. */
int h_retire_show(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = retire_show(rq->db, strtoll(req_seg(rq, 0), NULL, 10), &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

/* ---- the re-verification list ---- */

/*
 * GET /api/stock/reverify?store=: stock that may not be issued (expired, or
 * verified longer ago than stock.reverify_months), from the stores' own
 * ml_stock_reverify_list — the rows of `meterlab stock reverify-list`.
 */
int h_reverify_list(struct req *rq, struct ml_error *err)
{
	const char *p[1] = { req_query(rq, "store") };
	PGresult *res = NULL;
	int rc = db_exec(rq->db, "SELECT * FROM ml_stock_reverify_list($1)", 1, p, PGRES_TUPLES_OK,
			 &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

/* POST /api/stock/reverify/send {barcodes, lab, reason}: all or nothing, every refusal listed. */
int h_reverify_send(struct req *rq, struct ml_error *err)
{
	json_t *a = json_object_get(rq->in, "barcodes");
	size_t n = json_array_size(a);
	const char **codes = calloc(n ? n : 1, sizeof *codes);
	struct stock_scan_report rep;
	memset(&rep, 0, sizeof(rep));
	if (!codes)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		codes[i] = json_string_value(json_array_get(a, i));
	int rc = stock_reverify_send(
		rq->db, codes, n, json_string_value(json_object_get(rq->in, "lab")),
		json_string_value(json_object_get(rq->in, "reason")), &rep, err);
	free(codes);
	json_t *refused = json_array();
	for (size_t i = 0; i < rep.nrefused; i++)
		json_array_append_new(refused, json_pack("{s:I, s:s, s:s}", "index",
							 (json_int_t)rep.refused[i].index + 1,
							 "code", rep.refused[i].code, "message",
							 rep.refused[i].msg));
	if (rc && rep.nrefused) {
		req_error(rq,
			  rc == ML_ENOTFOUND ? 404
			  : rc == ML_ESTATE  ? 409
					     : 422,
			  "refused", err->msg, json_pack("{s:o}", "refused", refused));
		rc = ML_OK;
	} else if (!rc) {
		req_json(rq, 200,
			 json_pack("{s:I, s:o}", "done", (json_int_t)rep.done, "refused", refused));
	} else {
		json_decref(refused);
	}
	stock_scan_report_free(&rep);
	return rc;
}

/* ---- seals (计量印证): the store receives, issues and destroys; anyone reads ---- */

/* The strings of a JSON array field (validated as PT_STRINGS by the router):
 * *v malloc'd (points into rq->in), caller frees. */
static int body_strs(const struct req *rq, const char *name, const char ***v, size_t *n,
		     struct ml_error *err)
{
	json_t *a = json_object_get(rq->in, name);
	*n = json_is_array(a) ? json_array_size(a) : 0;
	*v = calloc(*n ? *n : 1, sizeof **v);
	if (!*v)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < *n; i++)
		(*v)[i] = json_string_value(json_array_get(a, i));
	return ML_OK;
}

static const char *body_str(const struct req *rq, const char *name)
{
	return json_string_value(json_object_get(rq->in, name));
}

/* POST /api/seals/receive {batch, codes}: field_seal_receive, all or nothing. */
int h_seal_receive(struct req *rq, struct ml_error *err)
{
	const char **codes = NULL;
	size_t n = 0, count = 0;
	int rc = body_strs(rq, "codes", &codes, &n, err);
	if (!rc)
		rc = field_seal_receive(rq->db, codes, n, body_str(rq, "batch"), &count, err);
	free(codes);
	if (!rc)
		req_json(rq, 201, json_pack("{s:I}", "received", (json_int_t)count));
	return rc;
}

/* POST /api/seals/issue {codes, team | login}: field_seal_issue, all or nothing. */
int h_seal_issue(struct req *rq, struct ml_error *err)
{
	const char **codes = NULL;
	size_t n = 0, count = 0;
	int rc = body_strs(rq, "codes", &codes, &n, err);
	if (!rc)
		rc = field_seal_issue(rq->db, codes, n, body_str(rq, "team"), body_str(rq, "login"),
				      &count, err);
	free(codes);
	if (!rc)
		req_json(rq, 200, json_pack("{s:I}", "issued", (json_int_t)count));
	return rc;
}

/* POST /api/seals/destroy {codes, reason}: field_seal_destroy, all or nothing. */
int h_seal_destroy(struct req *rq, struct ml_error *err)
{
	const char **codes = NULL;
	size_t n = 0, count = 0;
	int rc = body_strs(rq, "codes", &codes, &n, err);
	if (!rc)
		rc = field_seal_destroy(rq->db, codes, n, body_str(rq, "reason"), &count, err);
	free(codes);
	if (!rc)
		req_json(rq, 200, json_pack("{s:I}", "destroyed", (json_int_t)count));
	return rc;
}

/* GET /api/seals/{code}/history: field_seal_history, oldest first. */
int h_seal_history(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = field_seal_history(rq->db, req_seg(rq, 0), &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

/* ---- fault reports and the lab's finding ---- */

/* GET /api/faults?open=: field_fault_list. */
int h_fault_list(struct req *rq, struct ml_error *err)
{
	const char *open = req_query(rq, "open");
	PGresult *res = NULL;
	int rc = field_fault_list(rq->db, open && !strcmp(open, "true"), &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

/* POST /api/faults/{id}/outcome {outcome, note?}: field_fault_outcome (the
 * database refuses the reporter and a second outcome). */
int h_fault_outcome(struct req *rq, struct ml_error *err)
{
	int64_t id = strtoll(req_seg(rq, 0), NULL, 10);
	int rc = field_fault_outcome(rq->db, id, body_str(rq, "outcome"), body_str(rq, "note"),
				     err);
	if (!rc)
		req_json(rq, 200,
			 json_pack("{s:I, s:s}", "fault", (json_int_t)id, "outcome",
				   body_str(rq, "outcome")));
	return rc;
}

/* ---- manual verification (手工检定): the readings typed in ---- */

/*
 * POST /api/runs/{id}/manual {readings}: manual_record, the call behind
 * `meterlab run manual` — judged with the driven runs' functions, every
 * step and the conclusion stored in the request's one transaction, or
 * nothing (bad input names its line).
 */
int h_run_manual(struct req *rq, struct ml_error *err)
{
	int64_t id = strtoll(req_seg(rq, 0), NULL, 10);
	int passed = 0, failed = 0;
	int rc = manual_record(rq->db, id, body_str(rq, "readings"), &passed, &failed, err);
	if (!rc)
		req_json(rq, 200,
			 json_pack("{s:I, s:i, s:i}", "run", (json_int_t)id, "passed", passed,
				   "failed", failed));
	return rc;
}
