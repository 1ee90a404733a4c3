/*
 * inspect.c — an on-site inspection judged by the lab's engine and recorded
 * by ml_site_inspect (0305), which checks every figure again.
 */
#include "plan/inspect.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "lab/decimal.h"
#include "lab/settings.h"

/* Next blank-separated word of [*s, end) into w (NUL-terminated); 0 when none. */
static int next_word(const char **s, const char *end, char *w, size_t len)
{
	const char *p = *s;
	while (p < end && isspace((unsigned char)*p))
		p++;
	const char *q = p;
	while (q < end && !isspace((unsigned char)*q) && *q != ',')
		q++;
	if (q == p || (size_t)(q - p) >= len)
		return q != p ? -1 : 0;
	memcpy(w, p, (size_t)(q - p));
	w[q - p] = '\0';
	*s = q;
	return 1;
}

int inspect_parse(const char *text, struct inspect_point *out, struct ml_error *err)
{
	memset(out, 0, sizeof *out);
	const char *colon = text ? strchr(text, ':') : NULL;
	if (!colon)
		return ml_errorf(err, ML_EINVAL,
				 "load point '%s' is not 'CURRENT PF [ELEMENT]: r1, r2 ...'",
				 text ? text : "(none)");
	const char *s = text;
	char cur[24], pf[16], el[8], extra[8];
	int w1 = next_word(&s, colon, cur, sizeof cur);
	int w2 = next_word(&s, colon, pf, sizeof pf);
	int w3 = next_word(&s, colon, el, sizeof el);
	int w4 = next_word(&s, colon, extra, sizeof extra);
	if (w1 != 1 || w2 != 1 || w3 < 0 || w4 != 0)
		return ml_errorf(err, ML_EINVAL,
				 "load point '%.*s' is not 'CURRENT PF [ELEMENT]' (e.g. 'Ib 1.0', "
				 "'0.2Ib 0.5L A')",
				 (int)(colon - text), text);
	int rc = point_current_parse(cur, &out->point.base, &out->point.mult_e4, err);
	if (!rc)
		rc = point_pf_parse(pf, &out->point.pf, err);
	if (!rc && w3 == 1)
		rc = point_element_parse(el, &out->point.element, err);
	else if (!rc)
		out->point.element = ELEM_H;
	if (rc)
		return ml_error_prefix(err, "load point '%.*s': ", (int)(colon - text), text);
	/* the label as the text wrote it, blanks collapsed */
	snprintf(out->label, sizeof out->label, "%s %s%s%s", cur, pf, w3 == 1 ? " " : "",
		 w3 == 1 ? el : "");
	const char *p = colon + 1;
	for (;;) {
		while (*p && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (!*p)
			break;
		const char *q = p;
		while (*q && !isspace((unsigned char)*q) && *q != ',')
			q++;
		char num[40];
		if ((size_t)(q - p) >= sizeof num)
			return ml_errorf(err, ML_EINVAL,
					 "load point '%s': reading '%.*s' is too long", out->label,
					 (int)(q - p), p);
		memcpy(num, p, (size_t)(q - p));
		num[q - p] = '\0';
		if (out->n == JUDGE_MAX_READINGS)
			return ml_errorf(err, ML_EINVAL, "load point '%s': more than %d readings",
					 out->label, JUDGE_MAX_READINGS);
		rc = dec4_parse(num, &out->readings_e4[out->n], err);
		if (rc)
			return ml_error_prefix(err, "load point '%s': error ", out->label);
		out->n++;
		p = q;
	}
	if (out->n == 0)
		return ml_errorf(err, ML_EINVAL, "load point '%s': no readings after ':'",
				 out->label);
	return ML_OK;
}

/* A PostgreSQL array literal of n int64 values read by get(i). */
static void put_i64_array(struct ml_buf *b, size_t n, int64_t (*get)(const void *, size_t),
			  const void *ctx)
{
	ml_buf_putc(b, '{');
	for (size_t i = 0; i < n; i++)
		ml_buf_printf(b, "%s%" PRId64, i ? "," : "", get(ctx, i));
	ml_buf_putc(b, '}');
}

static int64_t get_base(const void *c, size_t i)
{
	return ((const struct inspect_point *)c)[i].point.base;
}
static int64_t get_mult(const void *c, size_t i)
{
	return ((const struct inspect_point *)c)[i].point.mult_e4;
}
static int64_t get_pf(const void *c, size_t i)
{
	return ((const struct inspect_point *)c)[i].point.pf;
}
static int64_t get_elem(const void *c, size_t i)
{
	return ((const struct inspect_point *)c)[i].point.element;
}
static int64_t get_n(const void *c, size_t i)
{
	return ((const struct inspect_point *)c)[i].n;
}
static int64_t get_mean(const void *c, size_t i)
{
	return ((const struct judge_value *)c)[i].mean_e4;
}
static int64_t get_rounded(const void *c, size_t i)
{
	return ((const struct judge_value *)c)[i].rounded_e4;
}
static int64_t get_limit(const void *c, size_t i)
{
	return ((const struct judge_value *)c)[i].limit_e4;
}
static int64_t get_interval(const void *c, size_t i)
{
	return ((const struct judge_value *)c)[i].interval_e4;
}

int inspect_record(struct db *db, const struct inspect_in *in, struct inspect_out *out,
		   struct ml_error *err)
{
	PGresult *res = NULL;
	struct ml_buf arr[11];
	struct lab_settings set;
	int rc;
	for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
		arr[i] = (struct ml_buf)ML_BUF_INIT;
	memset(out, 0, sizeof *out);
	if (!in->point || !in->standard) {
		rc = ml_errorf(err, ML_EINVAL,
			       "an inspection needs a metering point and a standard");
		goto out;
	}
	if (in->npoints == 0 || in->npoints > INSPECT_MAX_POINTS) {
		rc = ml_errorf(err, ML_EINVAL, "%zu load points: an inspection has 1 to %d",
			       in->npoints, INSPECT_MAX_POINTS);
		goto out;
	}
	/* the installed meter's rating: what the limits depend on */
	const char *p1[1] = { in->point };
	rc = db_exec(
		db,
		"SELECT p.code, a.barcode::text AS barcode, m.accuracy_class, m.connection, "
		"round(m.ib_a * 1000)::bigint AS ib_ma, round(m.imax_a * 1000)::bigint AS imax_ma "
		"FROM metering_point p LEFT JOIN installation i ON i.point_id = p.point_id "
		"AND i.element = 'meter' AND i.removed_at IS NULL "
		"LEFT JOIN asset a ON a.asset_id = i.asset_id "
		"LEFT JOIN device_model m ON m.model_id = a.model_id WHERE p.code = $1",
		1, p1, PGRES_TUPLES_OK, &res, err);
	if (rc)
		goto out;
	if (PQntuples(res) == 0) {
		rc = ml_errorf(err, ML_ENOTFOUND, "unknown metering point '%s'", in->point);
		goto out;
	}
	if (PQgetisnull(res, 0, PQfnumber(res, "barcode"))) {
		rc = ml_errorf(err, ML_ESTATE,
			       "metering point %s has no installed meter: nothing to inspect",
			       in->point);
		goto out;
	}
	snprintf(out->barcode, sizeof out->barcode, "%s", db_get(res, 0, "barcode"));
	char cls[16];
	snprintf(cls, sizeof cls, "%s", db_get(res, 0, "accuracy_class"));
	enum model_connection conn;
	if ((rc = model_connection_parse(db_get(res, 0, "connection"), &conn, err)))
		goto out;
	int64_t ib = strtoll(db_get(res, 0, "ib_ma"), NULL, 10);
	int64_t imax = strtoll(db_get(res, 0, "imax_ma"), NULL, 10);
	PQclear(res);
	res = NULL;
	if ((rc = lab_settings_load(db, &set, err)))
		goto out;

	/* the lab's engine: limit and interval of the class at the point, then the readings */
	out->pass = 1;
	for (size_t i = 0; i < in->npoints && !rc; i++) {
		const struct inspect_point *pt = &in->points[i];
		struct judge_limit lim;
		if (pt->n < set.basic_readings) {
			rc = ml_errorf(
				err, ML_EINVAL,
				"load point '%s': %d readings; the rule is at least %d (setting "
				"basic.readings)",
				pt->label, pt->n, set.basic_readings);
			break;
		}
		rc = judge_meter_limit(cls, conn, &pt->point, ib, imax, &set, &lim, err);
		if (!rc)
			rc = judge_readings(pt->readings_e4, pt->n, lim.limit_e4, 0,
					    lim.interval_e4, set.verdict_on_rounded, &out->value[i],
					    err);
		if (rc)
			ml_error_prefix(err, "load point '%s' (class %s): ", pt->label, cls);
		else if (out->value[i].verdict != JUDGE_PASS)
			out->pass = 0;
	}
	if (rc)
		goto out;
	out->npoints = in->npoints;

	/* arrays for the database: labels, point codes, counts, readings, figures, verdicts */
	ml_buf_putc(&arr[0], '{');
	ml_buf_putc(&arr[9], '{');
	ml_buf_putc(&arr[10], '{');
	for (size_t i = 0; i < in->npoints; i++) {
		ml_buf_puts(&arr[0], i ? ",\"" : "\"");
		for (const char *s = in->points[i].label; *s; s++) {
			if (*s == '"' || *s == '\\')
				ml_buf_putc(&arr[0], '\\');
			ml_buf_putc(&arr[0], *s);
		}
		ml_buf_putc(&arr[0], '"');
		for (int k = 0; k < in->points[i].n; k++)
			ml_buf_printf(&arr[9], "%s%" PRId64, arr[9].len > 1 ? "," : "",
				      in->points[i].readings_e4[k]);
		ml_buf_printf(&arr[10], "%s%s", i ? "," : "",
			      judge_verdict_name(out->value[i].verdict));
	}
	ml_buf_putc(&arr[0], '}');
	ml_buf_putc(&arr[9], '}');
	ml_buf_putc(&arr[10], '}');
	put_i64_array(&arr[1], in->npoints, get_base, in->points);
	put_i64_array(&arr[2], in->npoints, get_mult, in->points);
	put_i64_array(&arr[3], in->npoints, get_pf, in->points);
	put_i64_array(&arr[4], in->npoints, get_elem, in->points);
	put_i64_array(&arr[5], in->npoints, get_n, in->points);
	put_i64_array(&arr[6], in->npoints, get_mean, out->value);
	put_i64_array(&arr[7], in->npoints, get_rounded, out->value);
	put_i64_array(&arr[8], in->npoints, get_limit, out->value);
	struct ml_buf ivl = ML_BUF_INIT;
	put_i64_array(&ivl, in->npoints, get_interval, out->value);
	int failed = ml_buf_failed(&ivl);
	for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
		if (ml_buf_failed(&arr[i]))
			failed = 1;
	if (failed) {
		ml_buf_free(&ivl);
		rc = ml_errorf(err, ML_ENOMEM, "out of memory for %zu load points", in->npoints);
		goto out;
	}
	const char *p[16] = { in->point,   in->standard, in->date,     arr[0].data,
			      arr[1].data, arr[2].data,  arr[3].data,  arr[4].data,
			      arr[5].data, arr[9].data,  arr[6].data,  arr[7].data,
			      arr[8].data, ivl.data,     arr[10].data, in->note };
	rc = db_query_one(
		db,
		"SELECT inspection_id, verdict, order_id FROM ml_site_inspect($1, $2, $3::date, "
		"$4::text[], $5::int[], $6::bigint[], $7::int[], $8::int[], $9::int[], "
		"$10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], "
		"$15::text[], $16)",
		16, p, &res, err);
	ml_buf_free(&ivl);
	if (rc)
		goto out;
	out->inspection_id = strtoll(db_get(res, 0, "inspection_id"), NULL, 10);
	if (strcmp(db_get(res, 0, "verdict"), out->pass ? "pass" : "fail")) {
		rc = ml_errorf(err, ML_EINTERNAL,
			       "the database's verdict '%s' differs from the lab's",
			       db_get(res, 0, "verdict"));
		goto out;
	}
	if (!PQgetisnull(res, 0, PQfnumber(res, "order_id")))
		out->order_id = strtoll(db_get(res, 0, "order_id"), NULL, 10);
out:
	PQclear(res);
	for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
		ml_buf_free(&arr[i]);
	return rc;
}
