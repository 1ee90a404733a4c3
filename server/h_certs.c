/*
 * h_certs.c — certificates over HTTP (issue 12): the list, one record, the
 * stored PDF, and the checker's and approver's signatures and a withdrawal,
 * one certificate or a whole run at a time. Thin over reports/cert_store.h
 * and reports/cert_workflow.h, the same calls as `meterlab cert …`; the
 * database functions compare the signers (four eyes) and keep the numbers.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reports/cert_store.h"
#include "reports/cert_workflow.h"
#include "server/srv.h"

static json_t *cert_json(const struct cert_record *c)
{
	return json_pack(
		"{s:I, s:I, s:I, s:s, s:i, s:s, s:s?, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, "
		"s:b}",
		"id", (json_int_t)c->id, "asset_id", (json_int_t)c->asset_id, "run_id",
		(json_int_t)c->run_id, "kind",
		c->kind == CERT_KIND_NOTICE ? "notice" : "certificate", "revision", c->revision,
		"state", c->state, "cert_no", c->cert_no[0] ? c->cert_no : NULL, "barcode",
		c->barcode, "verifier", c->verifier[0] ? c->verifier : NULL, "checker",
		c->checker[0] ? c->checker : NULL, "approver", c->approver[0] ? c->approver : NULL,
		"issued_on", c->issued_on[0] ? c->issued_on : NULL, "verify_code",
		c->verify_code[0] ? c->verify_code : NULL, "conclusion",
		c->conclusion[0] ? c->conclusion : NULL, "withdrawn", c->withdrawn);
}

static long long seg_ll(const struct req *rq)
{
	return strtoll(req_seg(rq, 0), NULL, 10);
}

int h_cert_list(struct req *rq, struct ml_error *err)
{
	struct cert_filter f = { 0 };
	const char *run = req_query(rq, "run");
	f.run_id = run ? strtoll(run, NULL, 10) : 0;
	f.state = req_query(rq, "state");
	f.cert_no = req_query(rq, "number");
	struct cert_record *recs = NULL;
	size_t n = 0;
	int rc = cert_list(rq->db, &f, &recs, &n, err);
	if (rc)
		return rc;
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, cert_json(&recs[i]));
	free(recs);
	req_json(rq, 200, json_pack("{s:o}", "items", items));
	return ML_OK;
}

int h_cert_get(struct req *rq, struct ml_error *err)
{
	struct cert_record c;
	int rc = cert_get(rq->db, seg_ll(rq), &c, err);
	if (rc)
		return rc;
	req_json(rq, 200, cert_json(&c));
	return ML_OK;
}

int h_cert_pdf(struct req *rq, struct ml_error *err)
{
	struct ml_buf pdf = ML_BUF_INIT;
	char sha[65];
	int rc = cert_pdf_get(rq->db, seg_ll(rq), &pdf, sha, err);
	if (!rc) {
		req_header(rq, "X-Content-SHA256", sha);
		rc = req_raw(rq, 200, "application/pdf", pdf.data, pdf.len);
	}
	ml_buf_free(&pdf);
	return rc;
}

/* The answer to a signature: the records as they are now. */
static int signed_answer(struct req *rq, int status, const long long *ids, size_t n,
			 struct ml_error *err)
{
	struct cert_record *recs = calloc(n ? n : 1, sizeof *recs);
	if (!recs)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	int rc = cert_get_many(rq->db, ids, n, recs, err);
	if (!rc) {
		json_t *items = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(items, cert_json(&recs[i]));
		req_json(rq, status, json_pack("{s:o}", "items", items));
	}
	free(recs);
	return rc;
}

int h_cert_check(struct req *rq, struct ml_error *err)
{
	long long id = seg_ll(rq);
	int rc = cert_state_change(rq->db, &id, 1, CERT_DRAFT, CERT_CHECKED, 0, err);
	if (rc)
		return rc;
	return signed_answer(rq, 200, &id, 1, err);
}

int h_cert_approve(struct req *rq, struct ml_error *err)
{
	long long id = seg_ll(rq);
	int rc = cert_state_change(rq->db, &id, 1, CERT_CHECKED, CERT_ISSUED, 1, err);
	if (rc)
		return rc;
	return signed_answer(rq, 200, &id, 1, err);
}

int h_cert_withdraw(struct req *rq, struct ml_error *err)
{
	long long id = seg_ll(rq);
	const char *reason = json_string_value(json_object_get(rq->in, "reason"));
	int rc = cert_withdraw(rq->db, id, reason, err);
	if (rc)
		return rc;
	return signed_answer(rq, 200, &id, 1, err);
}

/* Every certificate of a run in state from, moved to the next state. */
static int run_step(struct req *rq, enum cert_state from, enum cert_state to, struct ml_error *err)
{
	long long *ids = NULL;
	size_t n = 0;
	int rc = cert_ids_of_run(rq->db, seg_ll(rq), cert_state_name(from), &ids, &n, err);
	if (!rc)
		rc = cert_state_change(rq->db, ids, n, from, to, 2, err);
	if (!rc)
		rc = signed_answer(rq, 200, ids, n, err);
	free(ids);
	return rc;
}

int h_run_cert_check(struct req *rq, struct ml_error *err)
{
	return run_step(rq, CERT_DRAFT, CERT_CHECKED, err);
}

int h_run_cert_approve(struct req *rq, struct ml_error *err)
{
	return run_step(rq, CERT_CHECKED, CERT_ISSUED, err);
}

/*
 * POST /api/certificates/{id}/revise {reason, client?, place?, …}: a
 * correction of an issued, current certificate (cert_revise): a new draft
 * with the overrides, the same number once issued; the person of the
 * session is its verifier, so two others check and approve it. The fields
 * a revision may change are cert_revise's whitelist, one body field each.
 */
static const char *const revisable[] = { "client",     "place",       "temperature", "humidity",
					 "record_no",  "model",       "spec",        "manufacturer",
					 "instrument", "verified_on", "valid_until" };

int h_cert_revise(struct req *rq, struct ml_error *err)
{
	struct cert_override ov[sizeof revisable / sizeof revisable[0]];
	size_t n = 0;
	for (size_t i = 0; i < sizeof revisable / sizeof revisable[0]; i++) {
		const char *v = json_string_value(json_object_get(rq->in, revisable[i]));
		if (v)
			ov[n++] = (struct cert_override){ revisable[i], v };
	}
	if (!n)
		return ml_errorf(err, ML_EINVAL,
				 "a revision changes at least one field (client, place, "
				 "temperature, humidity, record_no, model, spec, manufacturer, "
				 "instrument, verified_on, valid_until)");
	long long id = 0;
	int rc = cert_revise(rq->db, seg_ll(rq),
			     json_string_value(json_object_get(rq->in, "reason")), ov, n, &id, err);
	if (rc)
		return rc;
	return signed_answer(rq, 201, &id, 1, err);
}
