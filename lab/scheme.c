/*
 * scheme.c — model ratings, load points, scheme objects and validation.
 * Text format: scheme_text.c; defaults: scheme_default.c; DB: scheme_db.c.
 */
#include "lab/scheme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lab/decimal.h"
#include "lab/limits.h"

static const char *const kind_names[] = { NULL, "meter_1p", "meter_3p", "ct", "vt" };
static const char *const conn_names[] = { NULL, "direct", "transformer" };
static const char *const wiring_names[] = { "1p2w", "3p4w", "3p3w" };

const char *model_kind_name(enum model_kind k)
{
	return k >= MODEL_METER_1P && k <= MODEL_VT ? kind_names[k] : NULL;
}

static int lookup(const char *const *names, int lo, int hi, const char *s, int *out)
{
	for (int i = lo; s && i <= hi; i++) {
		if (strcasecmp(names[i], s) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

int model_kind_parse(const char *s, enum model_kind *out, struct ml_error *err)
{
	int v;
	if (lookup(kind_names, 1, 4, s, &v))
		return ml_errorf(err, ML_EINVAL,
				 "model kind '%s' is not meter_1p, meter_3p, ct or vt", s ? s : "");
	*out = (enum model_kind)v;
	return ML_OK;
}

const char *model_connection_name(enum model_connection c)
{
	return c == CONN_DIRECT || c == CONN_TRANSFORMER ? conn_names[c] : NULL;
}

int model_connection_parse(const char *s, enum model_connection *out, struct ml_error *err)
{
	int v;
	if (lookup(conn_names, 1, 2, s, &v))
		return ml_errorf(err, ML_EINVAL, "connection '%s' is not direct or transformer",
				 s ? s : "");
	*out = (enum model_connection)v;
	return ML_OK;
}

const char *model_wiring_name(enum model_wiring w)
{
	return w >= WIRING_1P2W && w <= WIRING_3P3W ? wiring_names[w] : NULL;
}

int model_wiring_parse(const char *s, enum model_wiring *out, struct ml_error *err)
{
	int v;
	if (lookup(wiring_names, 0, 2, s, &v))
		return ml_errorf(err, ML_EINVAL, "wiring '%s' is not 1p2w, 3p4w or 3p3w",
				 s ? s : "");
	*out = (enum model_wiring)v;
	return ML_OK;
}

static int need_pos(int64_t v, const char *field, struct ml_error *err)
{
	return v > 0 ? ML_OK
		     : ml_errorf(err, ML_EINVAL, "model rating: %s must be positive (got %lld)",
				 field, (long long)v);
}

int model_rating_check(const struct model_rating *r, struct ml_error *err)
{
	if (!model_kind_name(r->kind))
		return ml_errorf(err, ML_EINVAL, "model rating: unknown kind %d", (int)r->kind);
	if (r->kind == MODEL_CT || r->kind == MODEL_VT) {
		int rc;
		if ((rc = need_pos(r->rated_primary_milli, "rated primary", err)) ||
		    (rc = need_pos(r->rated_secondary_milli, "rated secondary", err)))
			return rc;
		return need_pos(r->rated_burden_mva, "rated burden", err);
	}
	enum meter_class c;
	int rc = limits_meter_class(r->accuracy_class, &c, err);
	if (rc)
		return rc;
	if (!model_connection_name(r->connection))
		return ml_errorf(err, ML_EINVAL, "model rating: unknown connection %d",
				 (int)r->connection);
	if (!model_wiring_name(r->wiring))
		return ml_errorf(err, ML_EINVAL, "model rating: unknown wiring %d", (int)r->wiring);
	if ((r->kind == MODEL_METER_1P) != (r->wiring == WIRING_1P2W))
		return ml_errorf(err, ML_EINVAL, "model rating: wiring %s does not fit kind %s",
				 model_wiring_name(r->wiring), model_kind_name(r->kind));
	if ((rc = need_pos(r->un_mv, "Un", err)) || (rc = need_pos(r->ib_ma, "Ib", err)) ||
	    (rc = need_pos(r->imax_ma, "Imax", err)) ||
	    (rc = need_pos(r->constant, "meter constant", err)))
		return rc;
	if (r->imax_ma < r->ib_ma)
		return ml_errorf(err, ML_EINVAL, "model rating: Imax %lld mA below Ib %lld mA",
				 (long long)r->imax_ma, (long long)r->ib_ma);
	return ML_OK;
}

/* ---- load points ---- */

int point_current_parse(const char *s, enum point_base *base, int64_t *mult_e4,
			struct ml_error *err)
{
	static const struct {
		const char *suffix;
		enum point_base base;
	} b[] = { { "Imax", POINT_IMAX },
		  { "Imin", POINT_IMIN },
		  { "Itr", POINT_ITR },
		  { "Ib", POINT_IB },
		  { "In", POINT_IB } };
	size_t len = s ? strlen(s) : 0;
	for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
		size_t sl = strlen(b[i].suffix);
		if (len < sl || strcasecmp(s + len - sl, b[i].suffix) != 0)
			continue;
		char num[32];
		if (len - sl >= sizeof num)
			break;
		memcpy(num, s, len - sl);
		num[len - sl] = '\0';
		int64_t m = DEC4_SCALE;
		if (num[0] && (dec4_parse(num, &m, NULL) || m <= 0 || m > 100 * DEC4_SCALE))
			break;
		*base = b[i].base;
		*mult_e4 = m;
		return ML_OK;
	}
	return ml_errorf(err, ML_EINVAL,
			 "load point '%s' is not like 0.1Ib, Ib, In, 0.5Imax, Imax, 10Itr or Imin",
			 s ? s : "");
}

char *point_current_text(enum point_base base, int64_t mult_e4, char *buf, size_t len)
{
	return point_current_text_for(base, mult_e4, 0, buf, len);
}

char *point_current_text_for(enum point_base base, int64_t mult_e4, enum model_connection conn,
			     char *buf, size_t len)
{
	const char *const n[] = { "?", conn == CONN_TRANSFORMER ? "In" : "Ib", "Imax", "Itr",
				  "Imin" };
	char m[DEC4_FMT_MAX] = "";
	if (mult_e4 != DEC4_SCALE)
		dec4_format(mult_e4, dec4_min_decimals(mult_e4), m, sizeof m);
	snprintf(buf, len, "%s%s", m, base >= POINT_IB && base <= POINT_IMIN ? n[base] : "?");
	return buf;
}

static const char *const pf_names[] = { NULL, "1.0", "0.5L", "0.8C", "0.25L", "0.5C" };

int point_pf_parse(const char *s, enum point_pf *out, struct ml_error *err)
{
	int v;
	if (s && strcmp(s, "1") == 0)
		s = "1.0";
	if (lookup(pf_names, 1, 5, s, &v))
		return ml_errorf(err, ML_EINVAL,
				 "power factor '%s' is not 1.0, 0.5L, 0.8C, 0.25L or 0.5C",
				 s ? s : "");
	*out = (enum point_pf)v;
	return ML_OK;
}

const char *point_pf_text(enum point_pf pf)
{
	return pf >= PF_1 && pf <= PF_0_5C ? pf_names[pf] : "?";
}

int point_element_parse(const char *s, enum point_element *out, struct ml_error *err)
{
	static const char *const n[] = { "H", "A", "B", "C" };
	int v;
	if (s && (strcasecmp(s, "ABC") == 0 || strcasecmp(s, "all") == 0))
		s = "H";
	if (lookup(n, 0, 3, s, &v))
		return ml_errorf(err, ML_EINVAL, "element '%s' is not H (all), A, B or C",
				 s ? s : "");
	*out = (enum point_element)v;
	return ML_OK;
}

const char *point_element_text(enum point_element e)
{
	static const char *const n[] = { "H", "A", "B", "C" };
	return e >= ELEM_H && e <= ELEM_C ? n[e] : "?";
}

int64_t point_pf_phi_e4(enum point_pf pf)
{
	/* degrees × 1e4, current lagging positive: acos(0.8) = 36.8699°, acos(0.25) = 75.5225° */
	static const int64_t phi[] = { 0, 0, 600000, -368699, 755225, -600000 };
	return pf >= PF_1 && pf <= PF_0_5C ? phi[pf] : 0;
}

int64_t point_pf_cos_e4(enum point_pf pf)
{
	static const int64_t c[] = { 0, 10000, 5000, 8000, 2500, 5000 };
	return pf >= PF_1 && pf <= PF_0_5C ? c[pf] : 0;
}

/* ---- steps and schemes ---- */

static const char *const step_names[] = { NULL,       "creep", "start", "basic",
					  "constant", "clock", "ct",    "vt" };

const char *scheme_step_kind_name(enum scheme_step_kind k)
{
	return k >= STEP_CREEP && k <= STEP_VT ? step_names[k] : NULL;
}

static int code_ok(const char *code)
{
	size_t n = code ? strlen(code) : 0;
	if (n == 0 || n >= SCHEME_CODE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = code[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int scheme_new(const char *code, const char *name, struct scheme **out, struct ml_error *err)
{
	if (!code_ok(code))
		return ml_errorf(err, ML_EINVAL,
				 "scheme code '%s' must be 1..%d of A-Z a-z 0-9 . _ -",
				 code ? code : "", SCHEME_CODE_MAX - 1);
	if (!name || !name[0] || strlen(name) >= SCHEME_NAME_MAX)
		return ml_errorf(err, ML_EINVAL, "scheme name must be 1..%d bytes",
				 SCHEME_NAME_MAX - 1);
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20)
			return ml_errorf(err, ML_EINVAL,
					 "scheme name contains a control character");
	struct scheme *s = calloc(1, sizeof *s);
	if (!s)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	memcpy(s->code, code, strlen(code) + 1);
	memcpy(s->name, name, strlen(name) + 1);
	*out = s;
	return ML_OK;
}

void scheme_free(struct scheme *s)
{
	if (!s)
		return;
	free(s->steps);
	free(s);
}

static int step_err(const struct scheme_step *st, const char *what, struct ml_error *err)
{
	return ml_errorf(err, ML_EINVAL, "%s step: %s",
			 scheme_step_kind_name(st->kind) ? scheme_step_kind_name(st->kind) : "?",
			 what);
}

static int check_point(const struct scheme_step *st, struct ml_error *err)
{
	const struct load_point *p = &st->point;
	if (p->base < POINT_IB || p->base > POINT_IMIN || p->mult_e4 <= 0 ||
	    p->mult_e4 > 100 * DEC4_SCALE)
		return step_err(st, "load current missing or out of range", err);
	if (p->pf < PF_1 || p->pf > PF_0_5C)
		return step_err(st, "power factor missing", err);
	if (p->element < ELEM_H || p->element > ELEM_C)
		return step_err(st, "bad element", err);
	return ML_OK;
}

int scheme_step_check(const struct scheme_step *st, struct ml_error *err)
{
	if (!scheme_step_kind_name(st->kind))
		return ml_errorf(err, ML_EINVAL, "unknown step kind %d", (int)st->kind);
	if (st->readings < 0 || st->readings > 32)
		return step_err(st, "readings must be 0..32", err);
	if (st->pulses < 0 || st->pulses > 65535)
		return step_err(st, "pulses must be 0..65535", err);
	if (st->settle_timeout_ms < 0 || st->limit_e4 < 0 || st->duration_ms < 0 ||
	    st->energy_wh_e4 < 0)
		return step_err(st, "negative override", err);
	if (st->duration_ms > 7 * 24 * 3600 * INT64_C(1000))
		return step_err(st, "duration over 7 days", err);
	if (st->kind == STEP_BASIC || st->kind == STEP_CONSTANT)
		return check_point(st, err);
	if (st->kind == STEP_CT || st->kind == STEP_VT) {
		if (st->percent_e4 <= 0 || st->percent_e4 > 200 * DEC4_SCALE)
			return step_err(st, "percent of rated must be in (0, 200]", err);
		if (st->burden_pct_e4 <= 0 || st->burden_pct_e4 > 200 * DEC4_SCALE)
			return step_err(st, "burden percent must be in (0, 200]", err);
	}
	return ML_OK;
}

int scheme_add_step(struct scheme *s, const struct scheme_step *step, struct ml_error *err)
{
	int rc = scheme_step_check(step, err);
	if (rc)
		return ml_error_prefix(err, "step %zu: ", s->nsteps + 1), rc;
	if (s->nsteps >= SCHEME_MAX_STEPS)
		return ml_errorf(err, ML_EINVAL, "scheme %s: more than %d steps", s->code,
				 SCHEME_MAX_STEPS);
	struct scheme_step *n = realloc(s->steps, sizeof *n * (s->nsteps + 1));
	if (!n)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	n[s->nsteps++] = *step;
	s->steps = n;
	return ML_OK;
}

static int step_equal(const struct scheme_step *a, const struct scheme_step *b)
{
	int point = a->kind != STEP_BASIC && a->kind != STEP_CONSTANT;
	return a->kind == b->kind &&
	       (point || (a->point.base == b->point.base && a->point.mult_e4 == b->point.mult_e4 &&
			  a->point.pf == b->point.pf && a->point.element == b->point.element)) &&
	       a->readings == b->readings && a->pulses == b->pulses &&
	       a->settle_timeout_ms == b->settle_timeout_ms && a->percent_e4 == b->percent_e4 &&
	       a->burden_pct_e4 == b->burden_pct_e4 && a->limit_e4 == b->limit_e4 &&
	       a->duration_ms == b->duration_ms && a->energy_wh_e4 == b->energy_wh_e4;
}

int scheme_equal(const struct scheme *a, const struct scheme *b)
{
	if (strcmp(a->code, b->code) || strcmp(a->name, b->name) || strcmp(a->kinds, b->kinds) ||
	    strcmp(a->classes, b->classes) || strcmp(a->connection, b->connection) ||
	    a->nsteps != b->nsteps)
		return 0;
	for (size_t i = 0; i < a->nsteps; i++)
		if (!step_equal(&a->steps[i], &b->steps[i]))
			return 0;
	return 1;
}

/* Is item in the comma list (case-insensitive)? An empty list admits anything. */
static int in_list(const char *list, const char *item)
{
	if (!list[0])
		return 1;
	size_t n = strlen(item);
	for (const char *p = list; *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == n && strncasecmp(p, item, n) == 0)
			return 1;
		p = c ? c + 1 : p + l;
	}
	return 0;
}

int scheme_suits(const struct scheme *s, const struct model_rating *r, struct ml_error *err)
{
	const char *kind = model_kind_name(r->kind);
	int meter = r->kind == MODEL_METER_1P || r->kind == MODEL_METER_3P;
	if (!kind || !in_list(s->kinds, kind))
		return ml_errorf(err, ML_EINVAL, "scheme %s suits kinds '%s', not %s", s->code,
				 s->kinds, kind ? kind : "?");
	if (!in_list(s->classes, r->accuracy_class))
		return ml_errorf(err, ML_EINVAL, "scheme %s suits classes '%s', not %s", s->code,
				 s->classes, r->accuracy_class);
	if (meter && s->connection[0] &&
	    strcmp(s->connection, model_connection_name(r->connection)
					  ? model_connection_name(r->connection)
					  : ""))
		return ml_errorf(err, ML_EINVAL, "scheme %s is for %s meters, not %s", s->code,
				 s->connection,
				 model_connection_name(r->connection)
					 ? model_connection_name(r->connection)
					 : "?");
	return ML_OK;
}
