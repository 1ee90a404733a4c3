/*
 * h_assets.c — asset lookup by barcode, lists, history, catalogue: thin
 * over the assets library (assets/registry.h, assets/lifecycle.h), the
 * same calls as `meterlab asset show|list`.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "assets/lifecycle.h"
#include "assets/registry.h"
#include "server/srv.h"

static json_t *asset_json(const struct asset_info *a)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?, s:s?}", "asset_id",
			 (json_int_t)a->asset_id, "barcode", a->barcode, "model", a->model_code,
			 "lot", a->lot_code, "state", asset_state_name(a->state), "location",
			 a->location[0] ? a->location : NULL, "valid_until",
			 a->valid_until[0] ? a->valid_until : NULL);
}

int h_asset_get(struct req *rq, struct ml_error *err)
{
	struct asset_info a;
	int rc = asset_lookup(rq->db, req_seg(rq, 0), &a, err);
	if (rc)
		return rc;
	req_json(rq, 200, asset_json(&a));
	return ML_OK;
}

int h_asset_list(struct req *rq, struct ml_error *err)
{
	struct asset_filter f = { 0 };
	f.state = req_query(rq, "state");
	f.model = req_query(rq, "model");
	f.lot = req_query(rq, "lot");
	f.location = req_query(rq, "location");
	const char *after = req_query(rq, "after"), *limit = req_query(rq, "limit");
	f.after_id = after ? strtoll(after, NULL, 10) : 0;
	f.limit = limit ? strtol(limit, NULL, 10) : 100;
	if (limit && f.limit == 0)
		return ml_errorf(err, ML_EINVAL, "limit 0 is outside 1..10000");
	PGresult *res = NULL;
	int rc = asset_list(rq->db, &f, &res, err);
	if (rc)
		return rc;
	int n = PQntuples(res);
	json_t *next = n == f.limit
			       ? json_integer(strtoll(db_get(res, n - 1, "asset_id"), NULL, 10))
			       : json_null();
	req_json(rq, 200, json_pack("{s:o, s:o}", "items", json_rows(res), "next_after", next));
	PQclear(res);
	return ML_OK;
}

int h_asset_history(struct req *rq, struct ml_error *err)
{
	struct asset_info a;
	int rc = asset_lookup(rq->db, req_seg(rq, 0), &a, err);
	PGresult *res = NULL;
	if (!rc)
		rc = asset_history(rq->db, a.asset_id, &res, err);
	if (rc)
		return rc;
	req_json(rq, 200,
		 json_pack("{s:o, s:o}", "asset", asset_json(&a), "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

int h_model_list(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = asset_model_list(rq->db, &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

int h_location_list(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = asset_location_list(rq->db, &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

/* ---- deliveries: POST /api/deliveries (asset_receive, `meterlab asset receive`) ---- */

/*
 * The delivery file travels as a JSON string ("csv"): a browser reads the
 * chosen file and posts it as application/json like every other change
 * (the CSRF defence needs no multipart exception). The route takes up to
 * --max-upload and runs on the slow lane: 100 000 rows take seconds.
 * Every bad row comes back with its line, column, value and reason (422),
 * and nothing is written.
 */
int h_delivery_receive(struct req *rq, struct ml_error *err)
{
	json_t *csv = json_object_get(rq->in, "csv");
	struct asset_receive_opts o = {
		.lot_code = json_string_value(json_object_get(rq->in, "lot")),
		.supplier = json_string_value(json_object_get(rq->in, "supplier")),
		.location = json_string_value(json_object_get(rq->in, "location")),
		.file_name = json_string_value(json_object_get(rq->in, "file_name")),
	};
	struct asset_import_report rep = { 0 };
	int rc = asset_receive(rq->db, &o, json_string_value(csv), json_string_length(csv), &rep,
			       err);
	if (rc == ML_EINVAL && rep.nissues) {
		json_t *issues = json_array();
		for (size_t i = 0; i < rep.nissues; i++) {
			const struct asset_import_issue *x = &rep.issues[i];
			json_array_append_new(issues,
					      json_pack("{s:I, s:s, s:s, s:s}", "line",
							(json_int_t)x->line, "column", x->column,
							"value", x->value, "reason", x->reason));
		}
		req_error(rq, 422, "invalid_rows", err->msg, json_pack("{s:o}", "issues", issues));
		rc = ML_OK;
	} else if (!rc) {
		req_json(rq, 201,
			 json_pack("{s:s, s:I, s:I, s:s}", "lot", o.lot_code, "lot_id",
				   (json_int_t)rep.lot_id, "rows", (json_int_t)rep.rows, "sha256",
				   rep.sha256));
	}
	asset_import_report_free(&rep);
	return rc;
}
