/*
 * trace.c — the recall list of a reference standard or a bench
 * (ml_trace_runs, migration 0270) and its text, JSON and CSV renderings.
 */
#include "quality/trace.h"

#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "quality/quality_priv.h"
#include "sql/db.h"

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src) ? (src) : "")

int trace_load(struct db *db, const char *standard, const char *bench, const char *since,
	       const char *until, struct trace_list *out, struct ml_error *err)
{
	if (!standard == !bench)
		return ml_errorf(err, ML_EINVAL, "trace needs a standard or a bench (one of them)");
	if (!quality_date_ok(since))
		return ml_errorf(err, ML_EINVAL, "--since '%s' is not a date YYYY-MM-DD",
				 since ? since : "");
	if (until && !quality_date_ok(until))
		return ml_errorf(err, ML_EINVAL, "--until '%s' is not a date YYYY-MM-DD", until);
	if (until && strcmp(since, until) > 0)
		return ml_errorf(err, ML_EINVAL, "--since %s is after --until %s", since, until);
	const char *p[4] = { standard, bench, since, until };
	PGresult *r = NULL;
	int rc = db_exec(db, "SELECT * FROM ml_trace_runs($1, $2, $3::date, $4::date)", 4, p,
			 PGRES_TUPLES_OK, &r, err);
	if (rc)
		return rc;
	struct trace_list t;
	memset(&t, 0, sizeof t);
	COPY(t.what, standard ? "standard" : "bench");
	COPY(t.code, standard ? standard : bench);
	COPY(t.since, since);
	COPY(t.until, until);
	int n = PQntuples(r);
	t.rows = calloc(n ? (size_t)n : 1, sizeof *t.rows);
	if (!t.rows) {
		PQclear(r);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	int64_t last_run = -1;
	for (int i = 0; i < n; i++) {
		struct trace_row *x = &t.rows[i];
		x->run_id = strtoll(db_get(r, i, "run_id"), NULL, 10);
		COPY(x->run_date, db_get(r, i, "run_date"));
		COPY(x->run_status, db_get(r, i, "run_status"));
		COPY(x->bench, db_get(r, i, "bench"));
		COPY(x->standards, db_get(r, i, "standards"));
		x->position = atoi(db_get(r, i, "pos"));
		COPY(x->barcode, db_get(r, i, "barcode"));
		COPY(x->model, db_get(r, i, "model"));
		COPY(x->maker, db_get(r, i, "maker"));
		COPY(x->verdict, db_get(r, i, "verdict"));
		COPY(x->cert_no, db_get(r, i, "cert_no"));
		const char *rev = db_get(r, i, "cert_revision");
		x->cert_revision = rev ? atoi(rev) : -1;
		COPY(x->cert_kind, db_get(r, i, "cert_kind"));
		COPY(x->cert_state, db_get(r, i, "cert_state"));
		COPY(x->cert_issued_on, db_get(r, i, "cert_issued_on"));
		COPY(x->cert_status, db_get(r, i, "cert_status"));
		COPY(x->asset_state, db_get(r, i, "asset_state"));
		COPY(x->location, db_get(r, i, "location"));
		COPY(x->location_name, db_get(r, i, "location_name"));
		COPY(x->location_kind, db_get(r, i, "location_kind"));
		COPY(x->valid_until, db_get(r, i, "valid_until"));
		COPY(x->state_since, db_get(r, i, "state_since"));
		if (x->run_id != last_run)
			t.runs++;
		last_run = x->run_id;
		t.certificates += !strcmp(x->cert_status, "current");
		t.installed += !strcmp(x->asset_state, "installed");
	}
	t.n = (size_t)n;
	PQclear(r);
	*out = t;
	return ML_OK;
}

void trace_list_free(struct trace_list *t)
{
	if (!t)
		return;
	free(t->rows);
	memset(t, 0, sizeof *t);
}

/* The certificate column as one word: "JL2026-000017/1 (withdrawn)". */
static void cert_text(const struct trace_row *x, char *buf, size_t size)
{
	if (!x->cert_no[0] && x->cert_revision < 0) {
		snprintf(buf, size, "-");
		return;
	}
	char rev[16] = "";
	if (x->cert_revision > 0)
		snprintf(rev, sizeof rev, "/%d", x->cert_revision);
	snprintf(buf, size, "%s%s%s%s%s", x->cert_no[0] ? x->cert_no : x->cert_state, rev,
		 strcmp(x->cert_status, "current") ? " (" : "",
		 strcmp(x->cert_status, "current") ? x->cert_status : "",
		 strcmp(x->cert_status, "current") ? ")" : "");
}

void trace_text(const struct trace_list *t, struct ml_buf *b)
{
	ml_buf_printf(b,
		      "%s %s, runs dated %s .. %s: %zu runs, %zu assets, %zu current "
		      "certificates, %zu assets installed\n",
		      t->what, t->code, t->since, t->until[0] ? t->until : "today", t->runs, t->n,
		      t->certificates, t->installed);
	ml_buf_printf(b, "%-8s %-10s %-8s %4s %-22s %-12s %-7s %-28s %-14s %s\n", "run", "date",
		      "bench", "pos", "barcode", "model", "verdict", "certificate", "state",
		      "where");
	for (size_t i = 0; i < t->n; i++) {
		const struct trace_row *x = &t->rows[i];
		char cert[96];
		cert_text(x, cert, sizeof cert);
		ml_buf_printf(b, "%-8lld %-10s %-8s %4d %-22s %-12s %-7s %-28s %-14s %s%s%s\n",
			      (long long)x->run_id, x->run_date, x->bench, x->position, x->barcode,
			      x->model, x->verdict[0] ? x->verdict : "-", cert, x->asset_state,
			      x->location[0] ? x->location : "-", x->location_name[0] ? " " : "",
			      x->location_name);
	}
}

/* "key": text, or null for "" */
static void kv_text(struct ml_buf *b, const char *key, const char *v)
{
	ml_json_kv_str(b, 0, key, v && v[0] ? v : NULL);
}

void trace_json(const struct trace_list *t, struct ml_buf *b)
{
	ml_buf_putc(b, '{');
	ml_json_kv_str(b, 1, t->what, t->code);
	ml_json_kv_str(b, 0, "since", t->since);
	kv_text(b, "until", t->until);
	ml_json_kv_int(b, 0, "runs", (int64_t)t->runs);
	ml_json_kv_int(b, 0, "assets", (int64_t)t->n);
	ml_json_kv_int(b, 0, "current_certificates", (int64_t)t->certificates);
	ml_json_kv_int(b, 0, "installed", (int64_t)t->installed);
	ml_buf_puts(b, ",\"rows\":[");
	for (size_t i = 0; i < t->n; i++) {
		const struct trace_row *x = &t->rows[i];
		ml_buf_puts(b, i ? ",{" : "{");
		ml_json_kv_int(b, 1, "run_id", x->run_id);
		ml_json_kv_str(b, 0, "run_date", x->run_date);
		ml_json_kv_str(b, 0, "run_status", x->run_status);
		ml_json_kv_str(b, 0, "bench", x->bench);
		ml_json_kv_str(b, 0, "standards", x->standards);
		ml_json_kv_int(b, 0, "position", x->position);
		ml_json_kv_str(b, 0, "barcode", x->barcode);
		ml_json_kv_str(b, 0, "model", x->model);
		ml_json_kv_str(b, 0, "maker", x->maker);
		kv_text(b, "verdict", x->verdict);
		if (x->cert_revision >= 0) {
			ml_buf_puts(b, ",\"certificate\":{");
			ml_json_kv_str(b, 1, "number", x->cert_no[0] ? x->cert_no : NULL);
			ml_json_kv_int(b, 0, "revision", x->cert_revision);
			ml_json_kv_str(b, 0, "kind", x->cert_kind);
			ml_json_kv_str(b, 0, "state", x->cert_state);
			kv_text(b, "issued_on", x->cert_issued_on);
			ml_json_kv_str(b, 0, "status", x->cert_status);
			ml_buf_putc(b, '}');
		} else {
			ml_json_kv_raw(b, 0, "certificate", "null");
		}
		ml_json_kv_str(b, 0, "asset_state", x->asset_state);
		kv_text(b, "location", x->location);
		kv_text(b, "location_name", x->location_name);
		kv_text(b, "location_kind", x->location_kind);
		kv_text(b, "valid_until", x->valid_until);
		ml_json_kv_str(b, 0, "state_since", x->state_since);
		ml_buf_putc(b, '}');
	}
	ml_buf_puts(b, "]}");
}

void trace_csv(const struct trace_list *t, struct ml_buf *b)
{
	static const char *const head[] = {
		"run_id",      "run_date",      "run_status", "bench",         "standards",
		"position",    "barcode",       "model",      "maker",         "verdict",
		"cert_no",     "cert_revision", "cert_kind",  "cert_state",    "cert_issued_on",
		"cert_status", "asset_state",   "location",   "location_name", "location_kind",
		"valid_until", "state_since",
	};
	enum {
		NCOL = sizeof head / sizeof head[0]
	};
	quality_csv_row(b, NCOL, head);
	for (size_t i = 0; i < t->n; i++) {
		const struct trace_row *x = &t->rows[i];
		char run[24], pos[12], rev[12] = "";
		snprintf(run, sizeof run, "%lld", (long long)x->run_id);
		snprintf(pos, sizeof pos, "%d", x->position);
		if (x->cert_revision >= 0)
			snprintf(rev, sizeof rev, "%d", x->cert_revision);
		const char *f[NCOL] = { run,
					x->run_date,
					x->run_status,
					x->bench,
					x->standards,
					pos,
					x->barcode,
					x->model,
					x->maker,
					x->verdict,
					x->cert_no,
					rev,
					x->cert_kind,
					x->cert_state,
					x->cert_issued_on,
					x->cert_status,
					x->asset_state,
					x->location,
					x->location_name,
					x->location_kind,
					x->valid_until,
					x->state_since };
		quality_csv_row(b, NCOL, f);
	}
}

int trace_flag(struct db *db, const char *standard, const char *bench, const char *since,
	       const char *until, const char *reason, size_t *flagged, struct ml_error *err)
{
	const char *p[5] = { standard, bench, since, until, reason };
	PGresult *res = NULL;
	int rc = db_query_one(db, "SELECT ml_trace_flag($1, $2, $3::date, $4::date, $5)", 5, p,
			      &res, err);
	if (rc)
		return rc;
	if (flagged)
		*flagged = (size_t)strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return ML_OK;
}
