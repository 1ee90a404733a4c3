/*
 * h_stores.c — the warehouse and the field over HTTP (issue 11 through the
 * server of issue 12): thin over stores/stores.h and field/field.h, the same
 * calls as `meterlab stock|order|field|seal|point`. Every rule is in the
 * database functions those call; a handler only moves JSON in and out.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "assets/lifecycle.h"
#include "field/field.h"
#include "server/srv.h"
#include "stores/stores.h"

/* ---- body helpers ---- */

static const char *body_str(const struct req *rq, const char *name)
{
	return json_string_value(json_object_get(rq->in, name));
}

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

static int64_t seg_id(const struct req *rq)
{
	return strtoll(req_seg(rq, 0), NULL, 10);
}

/* A scan report: 200 with the count, or the refusals (rc already set). */
static json_t *scan_json(const struct stock_scan_report *rep)
{
	json_t *refused = json_array();
	for (size_t i = 0; i < rep->nrefused; i++)
		json_array_append_new(refused, json_pack("{s:I, s:s, s:s}", "index",
							 (json_int_t)rep->refused[i].index + 1,
							 "code", rep->refused[i].code, "message",
							 rep->refused[i].msg));
	return json_pack("{s:I, s:o}", "done", (json_int_t)rep->done, "refused", refused);
}

/* Answer a scan operation: 200 {done}, or 422/404/409 with every refusal. */
static int scan_answer(struct req *rq, int rc, struct stock_scan_report *rep, struct ml_error *err)
{
	if (rc && rep->nrefused) {
		int status = rc == ML_ENOTFOUND ? 404 : rc == ML_ESTATE ? 409 : 422;
		req_error(rq, status, "refused", err->msg, scan_json(rep));
		stock_scan_report_free(rep);
		return ML_OK;
	}
	if (!rc)
		req_json(rq, 200, scan_json(rep));
	stock_scan_report_free(rep);
	return rc;
}

/* ---- stock ---- */

int h_stock_counts(struct req *rq, struct ml_error *err)
{
	struct stock_filter f = { 0 };
	f.store = req_query(rq, "store");
	f.slot = req_query(rq, "slot");
	f.model = req_query(rq, "model");
	f.state = req_query(rq, "state");
	f.lot = req_query(rq, "lot");
	PGresult *res = NULL;
	int rc = stock_counts(rq->db, &f, &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

/* The slots of a store: the count page checks a slot code while scanning (W5). */
int h_slot_list(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = stock_slot_list(rq->db, req_query(rq, "store"), &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

int h_stock_putaway(struct req *rq, struct ml_error *err)
{
	const char **codes = NULL;
	size_t n = 0;
	struct stock_scan_report rep = { 0 };
	int rc = body_strs(rq, "codes", &codes, &n, err);
	if (!rc)
		rc = stock_putaway(rq->db, codes, n, &rep, err);
	free(codes);
	return scan_answer(rq, rc, &rep, err);
}

int h_asset_where(struct req *rq, struct ml_error *err)
{
	char place[512];
	int rc = stock_place(rq->db, req_seg(rq, 0), place, sizeof place, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:s, s:s}", "barcode", req_seg(rq, 0), "where", place));
	return ML_OK;
}

/* ---- distribution orders ---- */

int h_order_list(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = order_list(rq->db, req_query(rq, "status"), &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

/* GET /api/orders/{id}?after=&limit=: the lines with their counts, and a page
 * of the barcodes still in transit in barcode order (keyset: after = the
 * previous page's next). The receiving page rebuilds its missing list from
 * these after a reload: closing must name every one of them (ml_order_close).
 * "next" is this page's last barcode when the page is full, else null. */
int h_order_get(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL, *tr = NULL;
	const char *lim = req_query(rq, "limit");
	int limit = lim ? atoi(lim) : 1000;
	int rc = order_show(rq->db, seg_id(rq), &res, err);
	if (!rc)
		rc = order_in_transit(rq->db, seg_id(rq), req_query(rq, "after"), limit, &tr, err);
	if (rc) {
		PQclear(res);
		return rc;
	}
	int n = PQntuples(tr), full = limit ? limit : ORDER_TRANSIT_PAGE_MAX;
	json_t *codes = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(codes, json_string(PQgetvalue(tr, i, 0)));
	json_t *next = n > 0 && n == full ? json_string(PQgetvalue(tr, n - 1, 0)) : json_null();
	req_json(rq, 200,
		 json_pack("{s:I, s:o, s:o, s:o}", "order_id", (json_int_t)seg_id(rq), "lines",
			   json_rows(res), "in_transit", codes, "next", next));
	PQclear(res);
	PQclear(tr);
	return ML_OK;
}

int h_order_create(struct req *rq, struct ml_error *err)
{
	const char **lines_s = NULL, **barcodes = NULL;
	size_t nl = 0, nb = 0;
	struct order_line *lines = NULL;
	char **models = NULL;
	int64_t id = 0;
	int rc = body_strs(rq, "lines", &lines_s, &nl, err);
	if (!rc)
		rc = body_strs(rq, "barcodes", &barcodes, &nb, err);
	if (!rc) {
		lines = calloc(nl ? nl : 1, sizeof *lines);
		models = calloc(nl ? nl : 1, sizeof *models);
		if (!lines || !models)
			rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	/* "MODEL:QTY", as on the command line */
	for (size_t i = 0; i < nl && !rc; i++) {
		const char *colon = strrchr(lines_s[i], ':');
		char *end = NULL;
		long q = colon ? strtol(colon + 1, &end, 10) : 0;
		if (!colon || colon == lines_s[i] || !end || *end || q < 1 || q > 1000000) {
			rc = ml_errorf(err, ML_EINVAL, "order line '%s' is not MODEL:QUANTITY",
				       lines_s[i]);
			break;
		}
		models[i] = strndup(lines_s[i], (size_t)(colon - lines_s[i]));
		if (!models[i])
			rc = ml_errorf(err, ML_ENOMEM, "out of memory");
		lines[i].model = models[i];
		lines[i].quantity = (int)q;
	}
	if (!rc)
		rc = order_create(rq->db, body_str(rq, "from"), body_str(rq, "to"), lines, nl,
				  barcodes, nb, body_str(rq, "note"), &id, err);
	if (!rc)
		req_json(rq, 201, json_pack("{s:I}", "order_id", (json_int_t)id));
	for (size_t i = 0; models && i < nl; i++)
		free(models[i]);
	free(models);
	free(lines);
	free(lines_s);
	free(barcodes);
	return rc;
}

int h_order_pick(struct req *rq, struct ml_error *err)
{
	const char **codes = NULL;
	size_t n = 0;
	struct stock_scan_report rep = { 0 };
	int rc = body_strs(rq, "barcodes", &codes, &n, err);
	if (!rc)
		rc = order_pick(rq->db, seg_id(rq), codes, n, &rep, err);
	free(codes);
	return scan_answer(rq, rc, &rep, err);
}

int h_order_dispatch(struct req *rq, struct ml_error *err)
{
	size_t n = 0;
	int rc = order_dispatch(rq->db, seg_id(rq), &n, err);
	if (!rc)
		req_json(rq, 200, json_pack("{s:I}", "dispatched", (json_int_t)n));
	return rc;
}

/* POST /api/orders/{id}/receive: every scan's outcome (what this call
 * received, and every other scan by name with why), the counts per outcome,
 * how many are still in transit (in_transit_count, exact) and the first page
 * of them in barcode order (in_transit, at most ORDER_RECEIVE_PAGE). next is
 * that page's last barcode when more remain, else null: the rest is
 * GET /api/orders/{id}?after=next, the same keyset. Never the whole list: an
 * order of 100 000 meters received scan by scan answered megabytes to every
 * scan (and stored each under its Idempotency-Key). */
int h_order_receive(struct req *rq, struct ml_error *err)
{
	const char **codes = NULL;
	size_t n = 0;
	struct order_receive_report rep = { 0 };
	int rc = body_strs(rq, "barcodes", &codes, &n, err);
	if (!rc)
		rc = order_receive(rq->db, seg_id(rq), codes, n, &rep, err);
	free(codes);
	if (!rc) {
		json_t *scans = json_array(), *page = json_array(), *counts = json_object();
		for (size_t i = 0; i < rep.nscans; i++)
			json_array_append_new(scans,
					      json_pack("{s:I, s:s, s:s, s:s}", "index",
							(json_int_t)rep.scans[i].index + 1, "code",
							rep.scans[i].code, "outcome",
							order_outcome_name(rep.scans[i].outcome),
							"message", rep.scans[i].msg));
		for (int k = 0; k < ORDER_OUTCOME_COUNT; k++)
			json_object_set_new(counts, order_outcome_name((enum order_outcome)k),
					    json_integer((json_int_t)rep.n[k]));
		for (size_t i = 0; i < rep.npage; i++)
			json_array_append_new(page, json_string(rep.page[i]));
		json_t *next = rep.in_transit > rep.npage && rep.npage > 0
				       ? json_string(rep.page[rep.npage - 1])
				       : json_null();
		req_json(rq, 200,
			 json_pack("{s:I, s:o, s:o, s:I, s:o, s:o}", "order_id",
				   (json_int_t)seg_id(rq), "scans", scans, "counts", counts,
				   "in_transit_count", (json_int_t)rep.in_transit, "in_transit",
				   page, "next", next));
	}
	order_receive_report_free(&rep);
	return rc;
}

int h_order_close(struct req *rq, struct ml_error *err)
{
	const char **missing = NULL;
	size_t n = 0, lost = 0;
	int rc = body_strs(rq, "missing", &missing, &n, err);
	if (!rc)
		rc = order_close(rq->db, seg_id(rq), missing, n, body_str(rq, "reason"), &lost,
				 err);
	free(missing);
	if (!rc)
		req_json(rq, 200, json_pack("{s:b, s:I}", "closed", 1, "lost", (json_int_t)lost));
	return rc;
}

/* ---- field ---- */

int h_point_get(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = field_point_show(rq->db, req_seg(rq, 0), &res, err);
	if (rc)
		return rc;
	req_json(rq, 200,
		 json_pack("{s:s, s:o}", "point", req_seg(rq, 0), "installations", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

int h_field_install(struct req *rq, struct ml_error *err)
{
	const char **seals = NULL;
	size_t n = 0;
	int64_t id = 0;
	int rc = body_strs(rq, "seals", &seals, &n, err);
	if (!rc) {
		struct field_install_in in = { .barcode = body_str(rq, "barcode"),
					       .point = body_str(rq, "point"),
					       .element = body_str(rq, "element"),
					       .kwh = body_str(rq, "reading"),
					       .seals = seals,
					       .nseals = n };
		rc = field_install(rq->db, &in, &id, err);
	}
	free(seals);
	if (!rc)
		req_json(rq, 201, json_pack("{s:I}", "installation", (json_int_t)id));
	return rc;
}

int h_field_remove(struct req *rq, struct ml_error *err)
{
	const char **seals = NULL;
	size_t n = 0;
	int64_t id = 0;
	int rc = body_strs(rq, "seals", &seals, &n, err);
	if (!rc) {
		struct field_remove_in r = { .barcode = body_str(rq, "barcode"),
					     .kwh = body_str(rq, "reading"),
					     .reason = body_str(rq, "reason"),
					     .note = body_str(rq, "note"),
					     .seals = seals,
					     .nseals = n };
		rc = field_remove(rq->db, &r, &id, err);
	}
	free(seals);
	if (!rc)
		req_json(rq, 200, json_pack("{s:I}", "installation", (json_int_t)id));
	return rc;
}

int h_field_swap(struct req *rq, struct ml_error *err)
{
	const char **seals = NULL;
	size_t n = 0;
	int64_t id = 0;
	int rc = body_strs(rq, "seals", &seals, &n, err);
	if (!rc) {
		struct field_remove_in old = { .barcode = body_str(rq, "old"),
					       .kwh = body_str(rq, "old_reading"),
					       .reason = body_str(rq, "reason") };
		struct field_install_in repl = { .barcode = body_str(rq, "new"),
						 .kwh = body_str(rq, "reading"),
						 .seals = seals,
						 .nseals = n };
		rc = field_swap(rq->db, &old, &repl, &id, err);
	}
	free(seals);
	if (!rc)
		req_json(rq, 201, json_pack("{s:I}", "installation", (json_int_t)id));
	return rc;
}

int h_field_fault(struct req *rq, struct ml_error *err)
{
	int64_t id = 0;
	int rc = field_fault_report(rq->db, body_str(rq, "barcode"), body_str(rq, "symptom"),
				    body_str(rq, "description"), body_str(rq, "complaint"),
				    body_str(rq, "lab"), &id, err);
	if (!rc)
		req_json(rq, 201, json_pack("{s:I}", "fault", (json_int_t)id));
	return rc;
}

/* GET /api/seals?code=&team=&state=&mine=&after=&limit=: a page of seals by
 * code (keyset: after = the previous page's last code); "next" is this page's
 * last code when the page is full (there may be more), else null. */
int h_seal_list(struct req *rq, struct ml_error *err)
{
	const char *lim = req_query(rq, "limit"), *mine = req_query(rq, "mine");
	struct field_seal_filter f = { .code = req_query(rq, "code"),
				       .team = req_query(rq, "team"),
				       .state = req_query(rq, "state"),
				       .after = req_query(rq, "after"),
				       .mine = mine && !strcmp(mine, "true"),
				       .limit = lim ? atoi(lim) : 1000 };
	PGresult *res = NULL;
	int rc = field_seal_list(rq->db, &f, &res, err);
	if (rc)
		return rc;
	int n = PQntuples(res), full = f.limit ? f.limit : FIELD_SEAL_PAGE_MAX;
	json_t *next = n > 0 && n == full ? json_string(db_get(res, n - 1, "code")) : json_null();
	req_json(rq, 200, json_pack("{s:o, s:o}", "items", json_rows(res), "next", next));
	PQclear(res);
	return ML_OK;
}

/* POST /api/seals/apply {barcode, codes}: field_seal_apply — a lab technician
 * seals a verified meter with seals issued to them (all or nothing, 0228). */
int h_seal_apply(struct req *rq, struct ml_error *err)
{
	const char **codes = NULL;
	size_t n = 0, count = 0;
	int rc = body_strs(rq, "codes", &codes, &n, err);
	if (!rc)
		rc = field_seal_apply(rq->db, body_str(rq, "barcode"), codes, n, &count, err);
	free(codes);
	if (!rc)
		req_json(rq, 200, json_pack("{s:I}", "applied", (json_int_t)count));
	return rc;
}

/* GET /api/faults/{id}: field_fault_show — the report, its outcome and the
 * arbitration run and certificate that answered it (0229). */
int h_fault_get(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = field_fault_show(rq->db, strtoll(req_seg(rq, 0), NULL, 10), &res, err);
	if (rc)
		return rc;
	json_t *rows = json_rows(res);
	PQclear(res);
	json_t *one = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	req_json(rq, 200, one);
	return ML_OK;
}

/* POST /api/faults/{id}/arbitration {run, cert?}: field_fault_arbitration —
 * the run and the certificate that answered an arbitration complaint. */
int h_fault_arbitration(struct req *rq, struct ml_error *err)
{
	int64_t id = strtoll(req_seg(rq, 0), NULL, 10);
	int64_t run = (int64_t)json_integer_value(json_object_get(rq->in, "run"));
	int64_t cert = (int64_t)json_integer_value(json_object_get(rq->in, "cert"));
	int rc = field_fault_arbitration(rq->db, id, run, cert, err);
	if (!rc)
		req_json(rq, 200,
			 json_pack("{s:I, s:I, s:o}", "fault", (json_int_t)id, "run",
				   (json_int_t)run, "cert",
				   cert > 0 ? json_integer(cert) : json_null()));
	return rc;
}

/* ---- lifecycle moves (asset_move_batch: all or nothing, every refusal listed) ---- */

int h_asset_move(struct req *rq, struct ml_error *err)
{
	enum asset_action act;
	int rc = asset_action_parse(body_str(rq, "action"), &act, err);
	if (rc)
		return rc;
	const char **codes = NULL;
	size_t n = 0;
	struct asset_move *moves = NULL;
	struct asset_move_report rep = { 0 };
	rc = body_strs(rq, "barcodes", &codes, &n, err);
	if (!rc && !(moves = calloc(n ? n : 1, sizeof *moves)))
		rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		moves[i].barcode = codes[i];
		moves[i].action = act;
		moves[i].location = body_str(rq, "location");
		moves[i].reason = body_str(rq, "reason");
	}
	if (!rc)
		rc = asset_move_batch(rq->db, moves, n, &rep, err);
	if (rc && rep.nrefused) {
		json_t *refused = json_array();
		for (size_t i = 0; i < rep.nrefused; i++)
			json_array_append_new(refused,
					      json_pack("{s:I, s:s, s:s}", "index",
							(json_int_t)rep.refused[i].index + 1,
							"code", rep.refused[i].barcode, "message",
							rep.refused[i].msg));
		int status = rc == ML_ENOTFOUND ? 404
			     : rc == ML_EPERM   ? 403
			     : rc == ML_EINVAL  ? 422
						: 409;
		req_error(rq, status, status == 403 ? "forbidden" : "refused", err->msg,
			  json_pack("{s:o}", "refused", refused));
		rc = ML_OK;
	} else if (!rc) {
		req_json(rq, 200, json_pack("{s:I}", "moved", (json_int_t)rep.moved));
	}
	asset_move_report_free(&rep);
	free(moves);
	free(codes);
	return rc;
}

/* ---- retirement: return to the maker (返厂) and scrap (报废), two people ---- */

int h_retire_list(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = retire_list(rq->db, req_query(rq, "status"), &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

/* POST /api/retirements {action, barcodes, reason, to?}: the request; a
 * second person approves it (the database compares the two users). */
int h_retire_request(struct req *rq, struct ml_error *err)
{
	const char *a = body_str(rq, "action");
	enum retire_action act;
	if (!strcmp(a, "return_to_maker"))
		act = RETIRE_RETURN_TO_MAKER;
	else if (!strcmp(a, "scrap"))
		act = RETIRE_SCRAP;
	else
		return ml_errorf(err, ML_EINVAL,
				 "action '%s' is not a retirement: return_to_maker or scrap", a);
	const char **codes = NULL;
	size_t n = 0;
	int64_t id = 0;
	int rc = body_strs(rq, "barcodes", &codes, &n, err);
	if (!rc)
		rc = retire_request(rq->db, act, codes, n, body_str(rq, "reason"),
				    body_str(rq, "to"), &id, err);
	free(codes);
	if (rc)
		return rc;
	req_json(rq, 201,
		 json_pack("{s:I, s:s, s:I}", "request_id", (json_int_t)id, "status", "pending",
			   "assets", (json_int_t)n));
	return ML_OK;
}

int h_retire_approve(struct req *rq, struct ml_error *err)
{
	size_t count = 0;
	int rc = retire_approve(rq->db, seg_id(rq), body_str(rq, "note"), &count, err);
	if (rc)
		return rc;
	req_json(rq, 200,
		 json_pack("{s:I, s:s, s:I}", "request_id", (json_int_t)seg_id(rq), "status",
			   "approved", "retired", (json_int_t)count));
	return ML_OK;
}

int h_retire_reject(struct req *rq, struct ml_error *err)
{
	int rc = retire_reject(rq->db, seg_id(rq), body_str(rq, "note"), err);
	if (rc)
		return rc;
	req_json(rq, 200,
		 json_pack("{s:I, s:s}", "request_id", (json_int_t)seg_id(rq), "status",
			   "rejected"));
	return ML_OK;
}
