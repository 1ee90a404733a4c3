/*
 * scheme_default.c — regulation schemes generated from the point tables.
 *
 * Meters: JJG 596-2012 load points as selected by LYTest "规程选点"
 * (domain §1.3, LYTest JJGPoints.cs); letter classes: the revised profile
 * (JJG596Points202X.cs). CT/VT: the [M] point lists of the settings
 * (ct.points_s, ct.points, vt.points, xfmr.burdens); classes 3/5 CTs at
 * 50 % and 120 % of rated current and 50 %/100 % burden (§2.1 table).
 * Step order: creep, start, basic (balanced, then single elements),
 * constant, clock — the order a bench runs them.
 */
#include <stdio.h>
#include <string.h>

#include "lab/decimal.h"
#include "lab/judge.h"
#include "lab/limits.h"
#include "lab/scheme.h"

#define MAXP 6

/* One power-factor row of a point table: multiples of a base, 0-terminated. */
struct pf_row {
	enum point_pf pf;
	enum point_base base[MAXP];
	int64_t mult[MAXP];
};

#define IMAX_ POINT_IMAX
#define IB_ POINT_IB
#define ITR_ POINT_ITR
#define IMIN_ POINT_IMIN
#define HALF -1 /* marks the optional 0.5Imax point */

/* Direct-connected, balanced / single-phase (classes 1 and 2). */
static const struct pf_row direct_pf1 = { PF_1,
					  { IMAX_, IMAX_, IB_, IB_, IB_ },
					  { 10000, HALF, 10000, 1000, 500 } };
static const struct pf_row direct_pf05l = { PF_0_5L,
					    { IMAX_, IMAX_, IB_, IB_, IB_ },
					    { 10000, HALF, 10000, 2000, 1000 } };
static const struct pf_row direct_pf08c = { PF_0_8C,
					    { IMAX_, IMAX_, IB_, IB_, IB_ },
					    { 10000, HALF, 10000, 2000, 1000 } };
/* Direct-connected, single element. */
static const struct pf_row direct_u_pf1 = { PF_1, { IMAX_, IB_, IB_ }, { 10000, 10000, 1000 } };
static const struct pf_row direct_u_pf05l = { PF_0_5L,
					      { IMAX_, IB_, IB_ },
					      { 10000, 10000, 2000 } };
/* Transformer-operated, balanced, classes 1 and 2. */
static const struct pf_row tr_pf1 = { PF_1, { IMAX_, IB_, IB_, IB_ }, { 10000, 10000, 500, 200 } };
static const struct pf_row tr_pf05l = { PF_0_5L,
					{ IMAX_, IB_, IB_, IB_ },
					{ 10000, 10000, 1000, 500 } };
static const struct pf_row tr_pf08c = { PF_0_8C,
					{ IMAX_, IB_, IB_, IB_ },
					{ 10000, 10000, 1000, 500 } };
/* Transformer-operated, balanced, 0.5S / 0.2S. */
static const struct pf_row trs_pf1 = { PF_1, { IMAX_, IB_, IB_, IB_ }, { 10000, 10000, 500, 100 } };
static const struct pf_row trs_pf05l = { PF_0_5L,
					 { IMAX_, IB_, IB_, IB_ },
					 { 10000, 10000, 1000, 200 } };
static const struct pf_row trs_pf08c = { PF_0_8C,
					 { IMAX_, IB_, IB_, IB_ },
					 { 10000, 10000, 1000, 200 } };
/* Transformer-operated, single element. */
static const struct pf_row tr_u_pf1 = { PF_1, { IMAX_, IB_, IB_ }, { 10000, 10000, 500 } };
static const struct pf_row tr_u_pf05l = { PF_0_5L, { IMAX_, IB_, IB_ }, { 10000, 10000, 1000 } };
/* Letter classes (revised profile). */
static const struct pf_row let_pf1 = { PF_1,
				       { IMAX_, IMAX_, ITR_, ITR_, IMIN_ },
				       { 10000, HALF, 100000, 10000, 10000 } };
static const struct pf_row let_a_pf1 = { PF_1,
					 { IMAX_, IMAX_, ITR_, ITR_ },
					 { 10000, HALF, 100000, 10000 } };
static const struct pf_row let_pf05l = { PF_0_5L,
					 { IMAX_, IMAX_, ITR_, ITR_ },
					 { 10000, HALF, 100000, 10000 } };
static const struct pf_row let_pf08c = { PF_0_8C,
					 { IMAX_, IMAX_, ITR_, ITR_ },
					 { 10000, HALF, 100000, 10000 } };

struct gen {
	struct scheme *s;
	int half_imax;
	struct ml_error *err;
};

static int add(struct gen *g, const struct scheme_step *st)
{
	return scheme_add_step(g->s, st, g->err);
}

static int add_row(struct gen *g, const struct pf_row *row, enum point_element el)
{
	for (int i = 0; i < MAXP && row->mult[i]; i++) {
		struct scheme_step st;
		memset(&st, 0, sizeof st);
		st.kind = STEP_BASIC;
		st.point.base = row->base[i];
		st.point.mult_e4 = row->mult[i] == HALF ? 5000 : row->mult[i];
		if (row->mult[i] == HALF && !g->half_imax)
			continue;
		st.point.pf = row->pf;
		st.point.element = el;
		int rc = add(g, &st);
		if (rc)
			return rc;
	}
	return ML_OK;
}

static int add_rows(struct gen *g, const struct pf_row *const *rows, enum point_element el)
{
	int rc = ML_OK;
	for (; *rows && !rc; rows++)
		rc = add_row(g, *rows, el);
	return rc;
}

static int meter_basic(struct gen *g, const struct model_rating *r, enum meter_class c,
		       const struct lab_settings *set)
{
	const struct pf_row *bal[4] = { 0 }, *unb[3] = { 0 };
	int direct = r->connection == CONN_DIRECT;
	if (limits_is_letter(c)) {
		bal[0] = c == MCLS_A ? &let_a_pf1 : &let_pf1;
		bal[1] = &let_pf05l;
		bal[2] = c == MCLS_A ? NULL : &let_pf08c;
	} else if (direct) {
		if (c == MCLS_0_2S || c == MCLS_0_5S)
			return ml_errorf(
				g->err, ML_EINVAL,
				"JJG 596-2012 has no point list for class %s direct-connected meters "
				"(S classes are transformer-operated)",
				limits_meter_class_text(c));
		bal[0] = &direct_pf1, bal[1] = &direct_pf05l,
		bal[2] = c == MCLS_1 ? &direct_pf08c : NULL;
		unb[0] = &direct_u_pf1, unb[1] = &direct_u_pf05l;
	} else if (c == MCLS_0_2S || c == MCLS_0_5S) {
		bal[0] = &trs_pf1, bal[1] = &trs_pf05l, bal[2] = &trs_pf08c;
		unb[0] = &tr_u_pf1, unb[1] = &tr_u_pf05l;
	} else {
		bal[0] = &tr_pf1, bal[1] = &tr_pf05l, bal[2] = c == MCLS_1 ? &tr_pf08c : NULL;
		unb[0] = &tr_u_pf1, unb[1] = &tr_u_pf05l;
	}
	int rc = add_rows(g, bal, ELEM_H);
	if (rc || r->kind != MODEL_METER_3P || !set->unbalanced || !unb[0])
		return rc;
	for (int e = ELEM_A; e <= ELEM_C && !rc; e++)
		if (e != ELEM_B || r->wiring != WIRING_3P3W) /* 3p3w meters have no B element */
			rc = add_rows(g, unb, (enum point_element)e);
	return rc;
}

static int meter_scheme(struct gen *g, const struct model_rating *r, const struct lab_settings *set)
{
	enum meter_class c;
	int rc = limits_meter_class(r->accuracy_class, &c, g->err);
	if (rc)
		return rc;
	/* 0.5Imax when Imax ≥ 4 Ib (LYTest flag Imax4Ib) and only for direct meters (§1.3 tables) */
	g->half_imax = set->half_imax < 0 ? (r->ib_ma > 0 && r->imax_ma >= 4 * r->ib_ma)
					  : set->half_imax;
	g->half_imax = g->half_imax && (r->connection == CONN_DIRECT || limits_is_letter(c));
	struct scheme_step st;
	memset(&st, 0, sizeof st);
	st.kind = STEP_CREEP;
	if ((rc = add(g, &st)))
		return rc;
	st.kind = STEP_START;
	if ((rc = add(g, &st)) || (rc = meter_basic(g, r, c, set)))
		return rc;
	st.kind = STEP_CONSTANT;
	st.point = (struct load_point){ POINT_IMAX, 10000, PF_1, ELEM_H };
	if ((rc = add(g, &st)))
		return rc;
	memset(&st, 0, sizeof st);
	st.kind = STEP_CLOCK;
	return add(g, &st);
}

static int xfmr_points(struct gen *g, enum scheme_step_kind kind, const int64_t *pts, int npts,
		       const int64_t *burdens, int nb)
{
	int rc = ML_OK;
	for (int b = 0; b < nb && !rc; b++) {
		for (int i = 0; i < npts && !rc; i++) {
			struct scheme_step st;
			memset(&st, 0, sizeof st);
			st.kind = kind;
			st.percent_e4 = pts[i];
			st.burden_pct_e4 = burdens[b];
			rc = add(g, &st);
		}
	}
	return rc;
}

static int xfmr_scheme(struct gen *g, const struct model_rating *r, const struct lab_settings *set)
{
	const char *cls = r->accuracy_class;
	size_t n = strlen(cls);
	struct judge_limit lim;
	int rc = r->kind == MODEL_VT ? judge_vt_limit(cls, 1000000, set, &lim, g->err)
				     : judge_ct_limit(cls, 1000000, set, &lim, g->err);
	if (rc)
		return rc;
	if (r->kind == MODEL_VT)
		return xfmr_points(g, STEP_VT, set->vt_points_e4, set->vt_points_n, set->burdens_e4,
				   set->burdens_n);
	if (!strcmp(cls, "3") || !strcmp(cls, "5") || !strcmp(cls, "3.0") || !strcmp(cls, "5.0")) {
		static const int64_t pts[] = { 500000, 1200000 }, burd[] = { 1000000, 500000 };
		return xfmr_points(g, STEP_CT, pts, 2, burd, 2);
	}
	if (n > 0 && (cls[n - 1] == 'S' || cls[n - 1] == 's'))
		return xfmr_points(g, STEP_CT, set->ct_points_s_e4, set->ct_points_s_n,
				   set->burdens_e4, set->burdens_n);
	return xfmr_points(g, STEP_CT, set->ct_points_e4, set->ct_points_n, set->burdens_e4,
			   set->burdens_n);
}

static int fill_header(struct scheme *s, const struct model_rating *r)
{
	snprintf(s->kinds, sizeof s->kinds, "%s", model_kind_name(r->kind));
	snprintf(s->classes, sizeof s->classes, "%s", r->accuracy_class);
	if (r->kind == MODEL_METER_1P || r->kind == MODEL_METER_3P)
		snprintf(s->connection, sizeof s->connection, "%s",
			 model_connection_name(r->connection));
	s->version = 0;
	return ML_OK;
}

int scheme_default(const struct model_rating *r, const struct lab_settings *set, const char *code,
		   struct scheme **out, struct ml_error *err)
{
	if (!model_kind_name(r->kind))
		return ml_errorf(err, ML_EINVAL, "unknown model kind %d", (int)r->kind);
	int meter = r->kind == MODEL_METER_1P || r->kind == MODEL_METER_3P;
	if (meter && !model_connection_name(r->connection))
		return ml_errorf(err, ML_EINVAL, "unknown connection %d", (int)r->connection);
	/* JJG596-1P-D-1, JJG596-3P-T-0.5S, JJG313-CT-0.2S, JJG314-VT-0.2: always within SCHEME_CODE_MAX */
	static const char *const reg[] = { NULL, "JJG596-1P", "JJG596-3P", "JJG313-CT",
					   "JJG314-VT" };
	char defcode[SCHEME_CODE_MAX], name[SCHEME_NAME_MAX];
	if (strlen(r->accuracy_class) >= MODEL_CLASS_MAX)
		return ml_errorf(err, ML_EINVAL, "accuracy class too long");
	snprintf(defcode, sizeof defcode, "%s%s-%s", reg[r->kind],
		 !meter                         ? ""
		 : r->connection == CONN_DIRECT ? "-D"
						: "-T",
		 r->accuracy_class);
	snprintf(name, sizeof name, "%s %s%s%s class %s",
		 meter                 ? "JJG 596-2012"
		 : r->kind == MODEL_CT ? "JJG 313 / IEC 61869-2"
				       : "JJG 314 / IEC 61869-3",
		 model_kind_name(r->kind), meter ? " " : "",
		 meter ? model_connection_name(r->connection) : "", r->accuracy_class);
	struct gen g = { NULL, 0, err };
	int rc = scheme_new(code && code[0] ? code : defcode, name, &g.s, err);
	if (rc)
		return rc;
	fill_header(g.s, r);
	rc = meter ? meter_scheme(&g, r, set) : xfmr_scheme(&g, r, set);
	if (rc) {
		scheme_free(g.s);
		return rc;
	}
	*out = g.s;
	return ML_OK;
}
