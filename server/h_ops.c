/*
 * h_ops.c — operations routes: /healthz, /metrics, /api/openapi.json.
 * Public: they show no user data.
 */
#include <string.h>

#include "server/srv.h"

int h_healthz(struct req *rq, struct ml_error *err)
{
	struct db *db = pool_get(rq->srv->pool, 1000);
	int ok = 0;
	if (db) {
		PGresult *res = NULL;
		ok = !db_query_one(db, "SELECT 1", 0, NULL, &res, err);
		PQclear(res);
		pool_put(rq->srv->pool, db);
	}
	int down = atomic_load(&rq->srv->shutting_down);
	req_json(rq, ok && !down ? 200 : 503,
		 json_pack("{s:s, s:s}", "status",
			   down ? "stopping"
			   : ok ? "ok"
				: "degraded",
			   "db",
			   ok   ? "ok"
			   : db ? "error"
				: "no free connection"));
	return ML_OK;
}

int h_metrics(struct req *rq, struct ml_error *err)
{
	struct ml_buf b = ML_BUF_INIT;
	int rc = metrics_render(rq->srv->metrics, rq->srv, &b);
	if (!rc)
		rc = req_raw(rq, 200, "text/plain; version=0.0.4; charset=utf-8",
			     b.len ? ml_buf_str(&b) : "", b.len);
	ml_buf_free(&b);
	return rc ? ml_errorf(err, ML_ENOMEM, "out of memory") : ML_OK;
}

int h_openapi(struct req *rq, struct ml_error *err)
{
	json_t *doc = openapi_document();
	if (!doc)
		return ml_errorf(err, ML_EINTERNAL, "the OpenAPI document could not be built");
	req_json(rq, 200, doc);
	return ML_OK;
}
