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
