/*
 * h_lab.c — benches, reference standards, runs and their live progress:
 * thin over lab/standard.h and lab/run_query.h, the same calls as the
 * CLI's `standard` and `run list|show`.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lab/run_query.h"
#include "lab/runner.h"
#include "lab/standard.h"
#include "lab/task.h"
#include "server/srv.h"

static json_t *bench_json(const struct bench_rec *b)
{
	json_t *stds = json_array();
	for (int i = 0; i < b->n_standards; i++)
		json_array_append_new(stds, json_string(b->standards[i]));
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:o}", "bench_id", (json_int_t)b->bench_id,
			 "code", b->code, "name", b->name, "uri", b->uri, "kind", b->kind,
			 "positions", b->positions, "standards", stds);
}

static json_t *cert_json(const struct standard_cert *c)
{
	if (!c->cert_no[0])
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:s}", "cert_no", c->cert_no, "issuer", c->issuer,
			 "valid_from", c->valid_from, "valid_until", c->valid_until);
}

static json_t *standard_json(const struct standard_rec *s)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "standard_id",
			 (json_int_t)s->standard_id, "code", s->code, "name", s->name,
			 "accuracy_class", s->accuracy_class, "range", s->range_text, "certificate",
			 cert_json(&s->cert));
}

int h_bench_list(struct req *rq, struct ml_error *err)
{
	struct bench_rec *b = NULL;
	size_t n = 0;
	int rc = standard_bench_list(rq->db, &b, &n, err);
	if (rc)
		return rc;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, bench_json(&b[i]));
	free(b);
	req_json(rq, 200, json_pack("{s:o}", "items", a));
	return ML_OK;
}

int h_bench_get(struct req *rq, struct ml_error *err)
{
	struct bench_rec b;
	int rc = standard_bench_get(rq->db, req_seg(rq, 0), &b, err);
	if (rc)
		return rc;
	req_json(rq, 200, bench_json(&b));
	return ML_OK;
}

int h_standard_list(struct req *rq, struct ml_error *err)
{
	struct standard_rec *s = NULL;
	size_t n = 0;
	int rc = standard_list(rq->db, &s, &n, err);
	if (rc)
		return rc;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, standard_json(&s[i]));
	free(s);
	req_json(rq, 200, json_pack("{s:o}", "items", a));
	return ML_OK;
}

int h_standard_get(struct req *rq, struct ml_error *err)
{
	struct standard_rec s;
	struct standard_cert *c = NULL;
	size_t n = 0;
	int rc = standard_get(rq->db, req_seg(rq, 0), &s, err);
	if (!rc)
		rc = standard_certs(rq->db, s.code, &c, &n, err);
	if (rc)
		return rc;
	json_t *o = standard_json(&s), *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, cert_json(&c[i]));
	free(c);
	json_object_set_new(o, "certificates", a);
	req_json(rq, 200, o);
	return ML_OK;
}

int h_run_list(struct req *rq, struct ml_error *err)
{
	struct run_filter f = { 0 };
	f.status = req_query(rq, "status");
	f.bench = req_query(rq, "bench");
	const char *before = req_query(rq, "before"), *limit = req_query(rq, "limit");
	f.before_id = before ? strtoll(before, NULL, 10) : 0;
	f.limit = limit ? strtol(limit, NULL, 10) : 100;
	if (limit && f.limit == 0)
		return ml_errorf(err, ML_EINVAL, "limit 0 is outside 1..1000");
	PGresult *res = NULL;
	int rc = run_list(rq->db, &f, &res, err);
	if (rc)
		return rc;
	int n = PQntuples(res);
	json_t *next = n == f.limit ? json_integer(strtoll(db_get(res, n - 1, "run_id"), NULL, 10))
				    : json_null();
	req_json(rq, 200, json_pack("{s:o, s:o}", "items", json_rows(res), "next_before", next));
	PQclear(res);
	return ML_OK;
}

static int64_t path_id(struct req *rq)
{
	return strtoll(req_seg(rq, 0), NULL, 10);
}

static int flag(struct req *rq, const char *name)
{
	const char *v = req_query(rq, name);
	return v && !strcmp(v, "true");
}

int h_run_get(struct req *rq, struct ml_error *err)
{
	struct run_detail d;
	int rc = run_detail_get(rq->db, path_id(rq), flag(rq, "results"), flag(rq, "readings"), &d,
				err);
	if (rc)
		return rc;
	json_t *o = json_row(d.head, 0);
	json_object_set_new(o, "positions", json_rows(d.positions));
	json_object_set_new(o, "conclusions", json_rows(d.conclusions));
	if (d.results)
		json_object_set_new(o, "results", json_rows(d.results));
	if (d.readings)
		json_object_set_new(o, "readings", json_rows(d.readings));
	run_detail_free(&d);
	req_json(rq, 200, o);
	return ML_OK;
}

/*
 * A stream that begins with the run's state now, as a "snapshot" event (the
 * client needs no second request). The stream is registered before that
 * state is read, so a change committed in between is not lost: its event
 * is queued on the stream, before or after the snapshot, and the snapshot
 * is never older than the events that follow it. (Read first and
 * registered second, a run that started or ended between the two was shown
 * to the client as it had been.)
 */
static int start_stream(struct req *rq, int64_t run_id, struct ml_error *err)
{
	struct sse_stream *st = NULL;
	struct MHD_Response *resp = sse_response(rq->srv->hub, rq->conn, run_id, rq->token_param,
						 srv_routes[rq->route].perm, &st);
	if (!resp)
		return ml_errorf(err, ML_ENOMEM, "cannot open an event stream");
	if (run_id) {
		struct run_detail d;
		int rc = run_detail_get(rq->db, run_id, 0, 0, &d, err);
		if (rc) {
			MHD_destroy_response(resp); /* unregisters the stream */
			return rc;
		}
		json_t *o = json_pack(
			"{s:I, s:s, s:s, s:o, s:o}", "run_id", (json_int_t)run_id, "event",
			"snapshot", "status", db_get(d.head, 0, "status"), "steps_done",
			json_integer(strtoll(db_get(d.head, 0, "steps_done"), NULL, 10)),
			"steps_total",
			json_integer(strtoll(db_get(d.head, 0, "steps_total"), NULL, 10)));
		run_detail_free(&d);
		char *data = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		size_t n = data ? strlen(data) + 32 : 0;
		char *first = data ? malloc(n) : NULL;
		if (first) {
			snprintf(first, n, "event: run\ndata: %s\n\n", data);
			sse_send(rq->srv->hub, st, first);
		}
		free(first);
		free(data);
		if (!first) {
			MHD_destroy_response(resp);
			return ml_errorf(err, ML_ENOMEM, "cannot open an event stream");
		}
	}
	rq->resp = resp;
	rq->is_stream = 1;
	rq->status = 200;
	return ML_OK;
}

int h_run_events(struct req *rq, struct ml_error *err)
{
	return start_stream(rq, path_id(rq), err);
}

int h_runs_events(struct req *rq, struct ml_error *err)
{
	return start_stream(rq, 0, err);
}

/* ---- creating and aborting runs (lab/task.h, lab/runner.h: `meterlab run create|abort`) ---- */

/*
 * POST /api/runs {bench, scheme, positions: ["1=BARCODE", …], manual?,
 * temperature?, humidity?}: the task is validated in C and again by
 * ml_run_create in the database, which records the person of the session
 * as the operator and moves the assets to verifying — all or nothing.
 * It is executed by POST /api/runs/{id}/start (server/runjob.c) or on the
 * lab machine by `meterlab run start ID`.
 */
int h_run_create(struct req *rq, struct ml_error *err)
{
	json_t *pos = json_object_get(rq->in, "positions");
	size_t n = json_array_size(pos);
	struct task_slot *slots = calloc(n ? n : 1, sizeof *slots);
	if (!slots)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	int rc = ML_OK;
	for (size_t i = 0; i < n && !rc; i++)
		rc = task_parse_slot_arg(json_string_value(json_array_get(pos, i)), &slots[i], err);
	struct task_spec t = {
		.bench_code = json_string_value(json_object_get(rq->in, "bench")),
		.scheme_code = json_string_value(json_object_get(rq->in, "scheme")),
		.manual = json_is_true(json_object_get(rq->in, "manual")),
		.temperature_c = json_string_value(json_object_get(rq->in, "temperature")),
		.humidity_pct = json_string_value(json_object_get(rq->in, "humidity")),
		.slots = slots,
		.nslots = n,
	};
	int64_t id = 0;
	if (!rc)
		rc = task_create(rq->db, &t, &id, err);
	free(slots);
	if (rc)
		return rc;
	req_json(rq, 201, json_pack("{s:I, s:s}", "run_id", (json_int_t)id, "status", "pending"));
	return ML_OK;
}

/*
 * POST /api/runs/{id}/abort {reason?}: ml_run_abort — the assets still on
 * the bench go back to reverify. A run this server executes is stopped
 * first (server/runjob.c: cancelled, so it ends interrupted and its job
 * session is revoked), then aborted as the person asking, whose run.execute
 * ml_api_enter has checked; refused (409) while another process executes
 * it. Runs on the slow lane: stopping a runner takes up to a step's poll.
 *
 * What ml_run_abort would refuse whatever the runner does (no such run, a
 * run already finished or aborted, a reason that is not clean text) is
 * refused before the runner is stopped: an answer "nothing written" must
 * not have interrupted the run. In ml_run_abort's order (0113): no run 404,
 * a run already ended 409, then the reason 422 with ml_clean_text, the
 * check ml_run_abort makes, as a statement of its own. (It was a column of
 * the status query whose value nobody read: with the reason a constant of
 * the statement's plan, PostgreSQL may fold the IMMUTABLE call while
 * planning, so a bad reason was answered 422 before the run was even
 * looked up — "no run" and "already aborted" came out as a bad reason.)
 * The run's row is read without a lock: the runner being stopped writes it.
 */
int h_run_abort(struct req *rq, struct ml_error *err)
{
	int64_t id = strtoll(req_seg(rq, 0), NULL, 10);
	const char *reason = json_string_value(json_object_get(rq->in, "reason"));
	char ids[24];
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	const char *p[1] = { ids };
	PGresult *res = NULL;
	int rc = db_exec(rq->db, "SELECT status FROM verification_run WHERE run_id = $1::bigint", 1,
			 p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	char status[32] = "";
	if (PQntuples(res) == 1)
		snprintf(status, sizeof(status), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!status[0])
		return ml_errorf(err, ML_ENOTFOUND, "no run %" PRId64, id);
	if (strcmp(status, "pending") && strcmp(status, "running") && strcmp(status, "interrupted"))
		return ml_errorf(err, ML_ESTATE, "run %" PRId64 " is already %s", id, status);
	rc = db_cmd(rq->db, "SELECT ml_clean_text('reason', $1, 500, false)", 1, &reason, err);
	if (rc)
		return rc;
	if (runjobs_stop_run(rq->srv->jobs, id, 30) < 0)
		return ml_errorf(err, ML_ECONFLICT,
				 "run %" PRId64 " is still stopping on its bench; try again", id);
	rc = runner_abort(rq->db, id, reason, err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:I, s:s}", "run_id", (json_int_t)id, "status", "aborted"));
	return ML_OK;
}

/* POST /api/standards/{code}/certificates: a (re)calibration certificate of
 * a reference standard (standard_certify; permission standard.edit). The
 * benches using it may run again once it is valid on the run date. */
int h_standard_certify(struct req *rq, struct ml_error *err)
{
	struct standard_cert c = { 0 };
	const char *f[4] = { json_string_value(json_object_get(rq->in, "cert_no")),
			     json_string_value(json_object_get(rq->in, "issuer")),
			     json_string_value(json_object_get(rq->in, "valid_from")),
			     json_string_value(json_object_get(rq->in, "valid_until")) };
	char *dst[4] = { c.cert_no, c.issuer, c.valid_from, c.valid_until };
	size_t len[4] = { sizeof c.cert_no, sizeof c.issuer, sizeof c.valid_from,
			  sizeof c.valid_until };
	static const char *const name[4] = { "cert_no", "issuer", "valid_from", "valid_until" };
	for (int i = 0; i < 4; i++) {
		if (strlen(f[i]) >= len[i])
			return ml_errorf(err, ML_EINVAL,
					 "%s '%.40s…' is longer than %zu characters", name[i], f[i],
					 len[i] - 1);
		memcpy(dst[i], f[i], strlen(f[i]) + 1);
	}
	if (!standard_date_ok(c.valid_from) || !standard_date_ok(c.valid_until))
		return ml_errorf(err, ML_EINVAL, "valid_from '%s' / valid_until '%s': YYYY-MM-DD",
				 c.valid_from, c.valid_until);
	int rc = standard_certify(rq->db, req_seg(rq, 0), &c, err);
	if (rc)
		return rc;
	req_json(rq, 201, cert_json(&c));
	return ML_OK;
}
