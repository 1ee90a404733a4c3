/*
 * h_plan.c — planning over HTTP (issue 15): swap work orders, recording an
 * on-site inspection, the working-day calendar, a saved plan against
 * actual and the monitoring work items (稽查监控). Thin over plan/inspect.h,
 * plan/rotation.h, plan/actual.h and plan/watch.h, the
 * same calls as `meterlab plan …`; every rule and refusal is the
 * database's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/actual.h"
#include "plan/inspect.h"
#include "plan/rotation.h"
#include "plan/watch.h"
#include "server/srv.h"

/* the default page of the plan and watch listings (as seals and in-transit)
 * and their largest, which the route table's limit parameters state */
#define PLAN_PAGE_DEFAULT 1000
#define PLAN_PAGE_MAX 10000
_Static_assert(PLAN_PAGE_MAX == WATCH_PAGE_MAX && PLAN_PAGE_MAX == SWAP_ORDER_PAGE_MAX,
	       "one page size for both listings");

/* A string field of the JSON body (NULL when absent); points into rq->in. */
static const char *body_str(const struct req *rq, const char *name)
{
	return json_string_value(json_object_get(rq->in, name));
}

/* The strings of a JSON array field (validated as PT_STRINGS by the router):
 * *v malloc'd (pointing into rq->in), caller frees. */
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

static int rows(struct req *rq, int rc, PGresult *res)
{
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:o}", "items", json_rows(res)));
	PQclear(res);
	return ML_OK;
}

/* ?limit= as a page size, or the default page when absent: a listing is
 * never unbounded. The router checks 0..10000; 0 is answered here as the
 * router answers a bad query parameter (400 naming it and the value).
 * Returns 0, or 1 when the 400 is answered. */
static int page_limit(struct req *rq, int *limit)
{
	const char *lim = req_query(rq, "limit");
	*limit = lim ? atoi(lim) : PLAN_PAGE_DEFAULT;
	if (*limit >= 1)
		return 0;
	char msg[160];
	snprintf(msg, sizeof msg, "query parameter 'limit' must be an integer 1..%d, not '%.16s'",
		 PLAN_PAGE_MAX, lim);
	req_error(rq, 400, "wrong_type", msg, json_pack("{s:s}", "parameter", "limit"));
	return 1;
}

/* A page with its keyset cursor: "next" is the last id when more follow (pass
 * it as ?after=), null on the last page; "total" counts every page. */
static json_t *page_json(PGresult *res, long long total, int64_t next)
{
	return json_pack("{s:o, s:I, s:o}", "items", json_rows(res), "total", (json_int_t)total,
			 "next", next ? json_integer((json_int_t)next) : json_null());
}

/* GET /api/plan/orders?status=&team=&month=&after=&limit=: a page of
 * swap_order_list in id order, with the exact total and overdue counts. */
int h_plan_orders(struct req *rq, struct ml_error *err)
{
	const char *after = req_query(rq, "after");
	struct swap_order_page pg = { .after = after ? strtoll(after, NULL, 10) : 0 };
	if (page_limit(rq, &pg.limit))
		return ML_OK; /* answered: 400 */
	PGresult *res = NULL;
	int rc = swap_order_list(rq->db, req_query(rq, "status"), req_query(rq, "team"),
				 req_query(rq, "month"), &pg, &res, err);
	if (rc)
		return rc;
	json_t *v = page_json(res, pg.total, pg.next);
	json_object_set_new(v, "overdue", json_integer((json_int_t)pg.overdue));
	req_json(rq, 200, v);
	PQclear(res);
	return ML_OK;
}

/* POST /api/plan/orders/{id}/cancel {reason}: swap_order_cancel (swap.order). */
int h_plan_order_cancel(struct req *rq, struct ml_error *err)
{
	int64_t id = strtoll(req_seg(rq, 0), NULL, 10);
	int rc = swap_order_cancel(rq->db, id, body_str(rq, "reason"), err);
	if (!rc)
		req_json(rq, 200,
			 json_pack("{s:I, s:s}", "order", (json_int_t)id, "status", "cancelled"));
	return rc;
}

/* POST /api/plan/inspections {point, standard, errors: ["Ib 1.0: r1, r2", …], date?, note?}:
 * inspect_parse each load point, then inspect_record (inspection.record). */
int h_plan_inspect(struct req *rq, struct ml_error *err)
{
	const char **texts = NULL;
	size_t n = 0;
	struct inspect_point *pts = NULL;
	struct inspect_out *o = NULL;
	int rc = body_strs(rq, "errors", &texts, &n, err);
	if (rc)
		goto out;
	if (n == 0 || n > INSPECT_MAX_POINTS) {
		rc = ml_errorf(err, ML_EINVAL, "%zu load points: an inspection has 1 to %d", n,
			       INSPECT_MAX_POINTS);
		goto out;
	}
	pts = calloc(n, sizeof *pts);
	o = calloc(1, sizeof *o);
	if (!pts || !o) {
		rc = ml_errorf(err, ML_ENOMEM, "out of memory for %zu load points", n);
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = inspect_parse(texts[i], &pts[i], err);
	if (rc)
		goto out;
	struct inspect_in in = { .point = body_str(rq, "point"),
				 .standard = body_str(rq, "standard"),
				 .date = body_str(rq, "date"),
				 .note = body_str(rq, "note"),
				 .points = pts,
				 .npoints = n };
	if ((rc = inspect_record(rq->db, &in, o, err)))
		goto out;
	json_t *points = json_array();
	for (size_t i = 0; i < o->npoints; i++) {
		char r[32];
		json_array_append_new(
			points, json_pack("{s:s, s:I, s:s, s:I, s:s}", "point", pts[i].label,
					  "mean_e4", (json_int_t)o->value[i].mean_e4, "rounded",
					  judge_rounded_text(&o->value[i], r, sizeof r), "limit_e4",
					  (json_int_t)o->value[i].limit_e4, "verdict",
					  judge_verdict_name(o->value[i].verdict)));
	}
	json_t *v = json_pack("{s:I, s:s, s:s, s:o}", "inspection", (json_int_t)o->inspection_id,
			      "meter", o->barcode, "verdict", o->pass ? "pass" : "fail", "points",
			      points);
	if (v && o->order_id)
		json_object_set_new(v, "swap_order", json_integer((json_int_t)o->order_id));
	req_json(rq, 201, v);
out:
	free(texts);
	free(pts);
	free(o);
	return rc;
}

/* GET /api/plan/calendar?from=&to=: every day, working or not, and why. */
int h_plan_calendar(struct req *rq, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = plan_calendar_show(rq->db, req_query(rq, "from"), req_query(rq, "to"), &res, err);
	return rows(rq, rc, res);
}

/* GET /api/plan/actual/{id}?lots=true: a saved plan against the runs done (or its lots). */
int h_plan_actual(struct req *rq, struct ml_error *err)
{
	int64_t id = strtoll(req_seg(rq, 0), NULL, 10);
	const char *lots = req_query(rq, "lots");
	PGresult *res = NULL;
	int rc = lots && !strcmp(lots, "true") ? plan_lot_release(rq->db, id, &res, err)
					       : plan_actual(rq->db, id, &res, err);
	return rows(rq, rc, res);
}

/* GET /api/watch/items?status=&rule=&place=&role=&overdue=&after=&limit=: a page of
 * watch_list in id order, with the exact total. */
int h_watch_list(struct req *rq, struct ml_error *err)
{
	const char *od = req_query(rq, "overdue"), *after = req_query(rq, "after");
	struct watch_filter f = { .status = req_query(rq, "status"),
				  .rule = req_query(rq, "rule"),
				  .place = req_query(rq, "place"),
				  .role = req_query(rq, "role"),
				  .overdue = od && !strcmp(od, "true"),
				  .after = after ? strtoll(after, NULL, 10) : 0 };
	struct watch_page pg = { 0 };
	if (page_limit(rq, &f.limit))
		return ML_OK; /* answered: 400 */
	PGresult *res = NULL;
	int rc = watch_list(rq->db, &f, &res, &pg, err);
	if (rc)
		return rc;
	req_json(rq, 200, page_json(res, pg.total, pg.next));
	PQclear(res);
	return ML_OK;
}

/* GET /api/watch/items/{id}: watch_show, the evidence as JSON ("details"). */
int h_watch_show(struct req *rq, struct ml_error *err)
{
	int64_t id = strtoll(req_seg(rq, 0), NULL, 10);
	PGresult *res = NULL;
	int rc = watch_show(rq->db, id, &res, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_row(res, 0));
	PQclear(res);
	return ML_OK;
}

/* POST /api/watch/items/{id}/close {note, reason?}: watch_close (watch.close and the
 * item's role or manager); refused (409) while the condition holds and no reason is given. */
int h_watch_close(struct req *rq, struct ml_error *err)
{
	int64_t id = strtoll(req_seg(rq, 0), NULL, 10);
	int held = 0;
	int rc = watch_close(rq->db, id, body_str(rq, "note"), body_str(rq, "reason"), &held, err);
	if (!rc)
		req_json(rq, 200,
			 json_pack("{s:I, s:s, s:b}", "item", (json_int_t)id, "status", "closed",
				   "condition_held", held));
	return rc;
}
