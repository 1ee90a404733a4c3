/*
 * h_quality.c — reverse traceability (标准量传) over HTTP: thin over
 * quality/trace.h, the same calls as `meterlab standard trace`.
 */
#include <stdlib.h>
#include <string.h>

#include "quality/trace.h"
#include "server/srv.h"

/* GET /api/trace?standard=CODE|bench=CODE&since=DATE[&until=DATE]: every run
 * in the window, its certificates and where each asset is now. */
int h_trace(struct req *rq, struct ml_error *err)
{
	const char *std = req_query(rq, "standard"), *bench = req_query(rq, "bench");
	if (!std == !bench)
		return ml_errorf(err, ML_EINVAL, "give standard=CODE or bench=CODE (one of them)");
	struct trace_list t = { 0 };
	int rc = trace_load(rq->db, std, bench, req_query(rq, "since"), req_query(rq, "until"), &t,
			    err);
	if (rc)
		return rc;
	struct ml_buf b = ML_BUF_INIT;
	trace_json(&t, &b);
	trace_list_free(&t);
	json_error_t je;
	json_t *v = ml_buf_failed(&b) ? NULL : json_loadb(b.data, b.len, 0, &je);
	ml_buf_free(&b);
	if (!v)
		return ml_errorf(err, ML_ENOMEM, "the trace could not be encoded");
	req_json(rq, 200, v);
	return ML_OK;
}

/* POST /api/trace/flag {standard|bench, since, until?, reason}: every asset of
 * the trace still in the centre's hands flagged for re-verification, all or
 * nothing (trace_flag, 0274; permission trace.flag). */
int h_trace_flag(struct req *rq, struct ml_error *err)
{
	const char *std = json_string_value(json_object_get(rq->in, "standard"));
	const char *bench = json_string_value(json_object_get(rq->in, "bench"));
	if (!std == !bench)
		return ml_errorf(err, ML_EINVAL, "give standard or bench (one of them)");
	size_t n = 0;
	int rc = trace_flag(rq->db, std, bench, json_string_value(json_object_get(rq->in, "since")),
			    json_string_value(json_object_get(rq->in, "until")),
			    json_string_value(json_object_get(rq->in, "reason")), &n, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:I}", "flagged", (json_int_t)n));
	return ML_OK;
}
