/*
 * plan.c — scheme step + rating + settings → bench setpoints and limits.
 *
 * Units inside: mV, µA, mW, ms, and dec4 (× 1e4). Every duration is an
 * exact rational rounded once to a millisecond; products use 128-bit
 * intermediates. Floats appear only when filling the bench structs.
 */
#include "lab/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/decimal.h"
#include "lab/judge.h"
#include "lab/limits.h"

typedef __int128 i128;

static uint64_t isqrt_u128(unsigned __int128 v)
{
	uint64_t lo = 0, hi = UINT64_MAX >> 1;
	while (lo < hi) { /* largest x with x² ≤ v */
		uint64_t mid = lo + (hi - lo + 1) / 2;
		if ((unsigned __int128)mid * mid <= v)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static int64_t div128_half_even(i128 num, i128 den)
{
	int neg = (num < 0) != (den < 0);
	if (num < 0)
		num = -num;
	if (den < 0)
		den = -den;
	i128 q = num / den, r = num % den;
	if (2 * r > den || (2 * r == den && (q & 1)))
		q++;
	return (int64_t)(neg ? -q : q);
}

/*
 * num / (den · m) rounded to an integer, m = 1, 3 or √3 by wiring (§1.6 "_m").
 * For √3: R = num/den in 1/1000 units, then R/√3 = √(R²/3) with an exact
 * integer square root — well below 1 ms of error, no float.
 */
static int64_t div_by_m(i128 num, i128 den, enum model_wiring w)
{
	if (w == WIRING_1P2W)
		return div128_half_even(num, den);
	if (w == WIRING_3P4W)
		return div128_half_even(num, den * 3);
	int64_t r = div128_half_even(num * 1000, den);
	uint64_t t = isqrt_u128((unsigned __int128)r * (unsigned __int128)r / 3);
	return div128_half_even((i128)t, 1000);
}

static int loaded_elements(enum model_wiring w, enum point_element e)
{
	if (e != ELEM_H)
		return 1;
	return w == WIRING_1P2W ? 1 : w == WIRING_3P4W ? 3 : 2;
}

static uint16_t element_mask(enum model_wiring w, enum point_element e)
{
	if (e != ELEM_H)
		return (uint16_t)(1u << (e - 1));
	return w == WIRING_1P2W ? 1 : w == WIRING_3P4W ? 7 : 5;
}

/*
 * Active power of the loaded elements in mW. 3p3w: √3·U·I·cosφ balanced
 * (two elements on line voltage); one element of a 3p3w meter carries on
 * average √3/2·U·I·cosφ. Only used for pulse counts and run times.
 */
static int64_t power_mw(enum model_wiring w, enum point_element e, int64_t u_mv, int64_t i_ua,
			int64_t cos_e4)
{
	i128 p_e = (i128)u_mv * i_ua * cos_e4; /* mV·µA·1e4 = 1e-6 mW · 1e4 */
	if (w != WIRING_3P3W)
		return div128_half_even(p_e * loaded_elements(w, e), (i128)10000 * 1000000);
	int64_t one = div128_half_even(p_e, (i128)10000 * 1000000);
	uint64_t root = isqrt_u128((unsigned __int128)3 * (unsigned __int128)one *
				   (unsigned __int128)one);
	return e == ELEM_H ? (int64_t)root : (int64_t)(root / 2);
}

static int need(int64_t v, const char *what, struct ml_error *err)
{
	return v > 0 ? ML_OK : ml_errorf(err, ML_EINVAL, "model rating lacks %s", what);
}

/* ---- exact durations ---- */

static int64_t creep_k(enum meter_class c, const struct lab_settings *set)
{
	return c == MCLS_0_2S   ? set->creep_k_0_2s
	       : c == MCLS_0_5S ? set->creep_k_0_5s
	       : c == MCLS_1    ? set->creep_k_1
				: set->creep_k_2;
}

/* b (and Est) of the revised profile: limit at Imin, PF 1 (§1.7, ModelTest). */
static int64_t letter_b_e4(enum meter_class c)
{
	static const int64_t b[] = { 25000, 15000, 10000, 4000, 2000 };
	return b[c - MCLS_A];
}

int plan_creep_ms(const struct model_rating *r, const struct lab_settings *set, int64_t *ms,
		  struct ml_error *err)
{
	enum meter_class c;
	int rc;
	if ((rc = limits_meter_class(r->accuracy_class, &c, err)) ||
	    (rc = need(r->constant, "a meter constant", err)) || (rc = need(r->un_mv, "Un", err)) ||
	    (rc = need(r->imax_ma, "Imax", err)) || (rc = need(r->ib_ma, "Ib", err)))
		return rc;
	if (!limits_is_letter(c)) {
		/* Δt = K·10⁶/(C·m·Un·Imax) min → ms = K·6·10¹⁶/(C·m·mV·mA) (JJG 596-2012, §1.7) */
		i128 num = (i128)creep_k(c, set) * 60000000000000000LL;
		*ms = div_by_m(num, (i128)r->constant * r->un_mv * r->imax_ma, r->wiring);
		return ML_OK;
	}
	/* revised profile: Δt = 10⁵/(1.1·b·C·m·U·Imin) h → ms = 3.6·10²⁵/(11·b_e4·C·m·mV·µA) */
	int64_t imin_ua = limits_imin_rel_e4(c, r->connection, set) * r->ib_ma / 10;
	rc = need(imin_ua, "a usable Imin", err);
	if (rc)
		return rc;
	i128 num = (i128)36000000000000LL * 1000000000000LL;
	*ms = div_by_m(num, (i128)11 * letter_b_e4(c) * r->constant * r->un_mv * imin_ua,
		       r->wiring);
	return ML_OK;
}

int plan_start_current_ua(const struct model_rating *r, const struct lab_settings *set, int64_t *ua,
			  struct ml_error *err)
{
	enum meter_class c;
	int rc = limits_meter_class(r->accuracy_class, &c, err);
	if (rc)
		return rc;
	int tr = r->connection == CONN_TRANSFORMER;
	/* Ist/Ib × 1e4, §1.6 table: 0.2S/0.5S 0.001In; 1: 0.004Ib / 0.002In; 2: 0.005Ib / 0.003In */
	static const int64_t direct[] = { 0, 0, 0, 40, 50 }, trans[] = { 0, 10, 10, 20, 30 };
	if (!limits_is_letter(c)) {
		int64_t f = tr ? trans[c] : direct[c];
		if (!f)
			return ml_errorf(err, ML_EINVAL,
					 "no starting current for class %s direct-connected meters",
					 r->accuracy_class);
		*ua = r->ib_ma * f / 10;
		return need(*ua, "a usable Ib", err);
	}
	/* revised profile (§1.6): 0.05Itr (A), 0.04Itr (B; C/D direct), 0.02Itr (C/D transformer, E) */
	int64_t f = c == MCLS_A ? 500 : (c == MCLS_E || (tr && c != MCLS_B)) ? 200 : 400;
	*ua = dec_div_half_even(r->ib_ma * limits_itr_rel_e4(r->connection, set) * f, 100000);
	return need(*ua, "a usable Ib", err);
}

int plan_start_ms(const struct model_rating *r, const struct lab_settings *set, int64_t *ms,
		  struct ml_error *err)
{
	enum meter_class c;
	int64_t ist_ua = 0;
	int rc;
	if ((rc = limits_meter_class(r->accuracy_class, &c, err)) ||
	    (rc = need(r->constant, "a meter constant", err)) || (rc = need(r->un_mv, "Un", err)) ||
	    (rc = plan_start_current_ua(r, set, &ist_ua, err)))
		return rc;
	/*
	 * JJG 596-2012: t₀ = 1.2·60·1000/(C·m·Un·Ist) min → ms = coeff_e4·3.6·10¹⁴/(C·m·mV·µA).
	 * Revised profile: T = (1 + Est)·3.6·10⁶/(C·Pst) s, Est = b (ModelTest) → (1e4 + b_e4)·3.6·10¹⁴/(…).
	 */
	int64_t coeff = limits_is_letter(c) ? DEC4_SCALE + letter_b_e4(c) / 100
					    : set->start_coeff_e4;
	i128 num = (i128)coeff * 360000000000000LL * set->start_time_factor_e4;
	*ms = div_by_m(num, (i128)r->constant * r->un_mv * ist_ua * DEC4_SCALE, r->wiring);
	return ML_OK;
}

/* ---- setpoints ---- */

static void set_source(struct plan_step *ps, const struct model_rating *r, int64_t u_mv,
		       int64_t i_ua, const struct load_point *pt)
{
	struct bench_source *s = &ps->source;
	memset(s, 0, sizeof *s);
	s->wiring = (uint16_t)r->wiring;
	s->energy = r->reactive ? 1 : 0;
	s->freq = r->freq_mhz > 0 ? (float)r->freq_mhz / 1000.0f : 50.0f;
	int phases = r->wiring == WIRING_1P2W ? 1 : 3;
	s->element_mask = i_ua > 0 ? element_mask(r->wiring, pt->element) : 0;
	for (int k = 0; k < phases; k++) {
		s->u[k] = (float)u_mv / 1000.0f;
		if (s->element_mask & (1u << k)) {
			s->i[k] = (float)i_ua / 1e6f;
			s->phi[k] = (float)point_pf_phi_e4(pt->pf) / 1e4f;
		}
	}
	ps->voltage_mv = u_mv;
	ps->current_ua = i_ua;
	ps->power_mw = i_ua > 0 ? power_mw(r->wiring, pt->element, u_mv, i_ua,
					   point_pf_cos_e4(pt->pf))
				: 0;
}

static void set_pos(struct plan_step *ps, enum bench_mode mode, const struct model_rating *r,
		    int pulses)
{
	memset(&ps->pos, 0, sizeof ps->pos);
	ps->mode = mode;
	ps->pos.mode = (uint16_t)mode;
	ps->pos.constant = (uint32_t)r->constant;
	ps->pos.pulses = (uint16_t)pulses;
	ps->pos.time_limit = (float)ps->duration_ms / 1000.0f;
	ps->pos.enabled = 1;
	ps->pos.clock_freq = r->clock_freq_mhz > 0 ? (float)r->clock_freq_mhz / 1000.0f : 1.0f;
}

/* "0.5Ib cosφ=0.5L H" — In for a transformer-operated meter (JJG 596-2012). */
static void point_label(struct plan_step *ps, const struct model_rating *r, const char *prefix)
{
	char cur[24];
	point_current_text_for(ps->point.base, ps->point.mult_e4, r->connection, cur, sizeof cur);
	snprintf(ps->label, sizeof ps->label, "%s%s cos\u03c6=%s %s", prefix, cur,
		 point_pf_text(ps->point.pf), point_element_text(ps->point.element));
}

/* The element must exist on the meter: 1p2w meters have only H, 3p3w meters no B element. */
static int check_element(const struct load_point *pt, const struct model_rating *r,
			 struct ml_error *err)
{
	if (r->reactive)
		return ml_errorf(
			err, ML_EINVAL,
			"reactive-energy limits are not implemented (domain 1.3 lists points only)");
	if (pt->element != ELEM_H && r->wiring == WIRING_1P2W)
		return ml_errorf(err, ML_EINVAL, "element %s on a single-phase meter",
				 point_element_text(pt->element));
	if (pt->element == ELEM_B && r->wiring == WIRING_3P3W)
		return ml_errorf(err, ML_EINVAL, "element B on a three-phase three-wire meter");
	return ML_OK;
}

/* Load current of a point in µA from the rating. */
static int point_current_ua(const struct load_point *pt, const struct model_rating *r,
			    const struct lab_settings *set, int64_t *ua, struct ml_error *err)
{
	enum meter_class c;
	int64_t rel;
	int lower;
	int rc;
	if ((rc = limits_meter_class(r->accuracy_class, &c, err)) ||
	    (rc = need(r->ib_ma, "Ib", err)) || (rc = need(r->imax_ma, "Imax", err)) ||
	    (rc = limits_point_rel_ib(pt, c, r->connection, r->ib_ma, r->imax_ma, set, &rel, &lower,
				      err)))
		return rc;
	*ua = dec_div_half_even(rel * r->ib_ma, 10); /* mA × rel_e4 / 1e4 × 1000 */
	return need(*ua, "a usable load current", err);
}

/*
 * Pulses per reading (§4.2, LYTest SetLapCount): N = round(N_ref · I/Ib · cosφ),
 * ÷3 for one element of a three-phase meter, at least 1; then raised so a
 * reading lasts basic.min_reading_ms when that is set.
 */
static int basic_pulses(const struct plan_step *ps, const struct model_rating *r,
			const struct lab_settings *set)
{
	int single3 = ps->point.element != ELEM_H;
	i128 num = (i128)set->basic_ref_pulses * ps->current_ua * point_pf_cos_e4(ps->point.pf);
	i128 den = (i128)r->ib_ma * 1000 * DEC4_SCALE * (single3 ? 3 : 1);
	int64_t n = div128_half_even(num, den);
	if (set->basic_min_reading_ms > 0 && ps->power_mw > 0) {
		i128 p = (i128)set->basic_min_reading_ms * ps->power_mw * r->constant;
		int64_t need_n = (int64_t)((p + 3600000000000LL - 1) /
					   3600000000000LL); /* ceil(t·P·C/3.6e12) */
		if (need_n > n)
			n = need_n;
	}
	return n < 1 ? 1 : n > 65535 ? 65535 : (int)n;
}

/* Time for `pulses` DUT pulses at the step's power: pulses·3.6e12/(P_mW·C) ms. */
static int64_t pulses_ms(const struct plan_step *ps, const struct model_rating *r, int64_t pulses)
{
	if (ps->power_mw <= 0 || r->constant <= 0)
		return 0;
	return div128_half_even((i128)pulses * 3600000000000LL, (i128)ps->power_mw * r->constant);
}

static void set_limits(struct plan_step *ps, const struct judge_limit *lim, int64_t override_e4,
		       int64_t coeff_e4)
{
	ps->limit_e4 = override_e4 > 0 ? override_e4 : lim->limit_e4;
	ps->interval_e4 = lim->interval_e4;
	ps->internal_limit_e4 = coeff_e4 > 0 ? judge_internal_limit(ps->limit_e4, coeff_e4)
					     : ps->limit_e4;
	ps->limit2_e4 = lim->limit2_e4;
	ps->interval2_e4 = lim->interval2_e4;
	ps->internal_limit2_e4 = coeff_e4 > 0 ? judge_internal_limit(lim->limit2_e4, coeff_e4)
					      : lim->limit2_e4;
	snprintf(ps->clause, sizeof ps->clause, "%s", lim->clause ? lim->clause : "");
}

static int plan_basic(const struct scheme_step *st, const struct model_rating *r,
		      const struct lab_settings *set, struct plan_step *ps, struct ml_error *err)
{
	int64_t i_ua;
	struct judge_limit lim;
	ps->point = st->point;
	int rc;
	if ((rc = check_element(&st->point, r, err)) ||
	    (rc = point_current_ua(&st->point, r, set, &i_ua, err)) ||
	    (rc = judge_meter_limit(r->accuracy_class, r->connection, &st->point, r->ib_ma,
				    r->imax_ma, set, &lim, err)))
		return rc;
	set_source(ps, r, r->un_mv, i_ua, &st->point);
	point_label(ps, r, "");
	/* the internal acceptance coefficient applies to basic error (Henan / ModelTest practice, §1.11) */
	set_limits(ps, &lim, st->limit_e4, set->internal_coeff_e4);
	ps->readings = st->readings ? st->readings : set->basic_readings;
	int pulses = st->pulses ? st->pulses : basic_pulses(ps, r, set);
	ps->duration_ms = pulses_ms(
		ps, r, (int64_t)pulses * ps->readings); /* expected, for runner timeouts */
	/* the runner's "no pulses" bound uses the bench's formula (bench-protocol.md §5) */
	ps->reading_ms = pulses_ms(ps, r, pulses);
	set_pos(ps, BENCH_MODE_BASIC, r, pulses);
	ps->pos.time_limit = 0; /* not used in mode 1 */
	return ML_OK;
}

static int plan_creep(const struct scheme_step *st, const struct model_rating *r,
		      const struct lab_settings *set, struct plan_step *ps, struct ml_error *err)
{
	enum meter_class c;
	int rc = limits_meter_class(r->accuracy_class, &c, err);
	int64_t ms = st->duration_ms;
	if (!rc && !ms)
		rc = plan_creep_ms(r, set, &ms, err);
	if (rc)
		return rc;
	/* §1.7: 115 % Un (110 % in the revised profile), current circuits open */
	int64_t pct = limits_is_letter(c) ? set->letter_creep_voltage_pct_e4
					  : set->creep_voltage_pct_e4;
	ps->point = (struct load_point){ POINT_IB, 0, PF_1, ELEM_H };
	set_source(ps, r, dec_div_half_even(r->un_mv * pct, 1000000), 0, &ps->point);
	ps->duration_ms = ms;
	ps->max_pulses = set->creep_max_pulses;
	set_pos(ps, BENCH_MODE_CREEP, r, ps->max_pulses);
	snprintf(ps->label, sizeof ps->label, "creep");
	return ML_OK;
}

static int plan_start(const struct scheme_step *st, const struct model_rating *r,
		      const struct lab_settings *set, struct plan_step *ps, struct ml_error *err)
{
	int64_t ist_ua, ms = st->duration_ms;
	int rc = plan_start_current_ua(r, set, &ist_ua, err);
	if (!rc && !ms)
		rc = plan_start_ms(r, set, &ms, err);
	if (rc)
		return rc;
	ps->point = (struct load_point){ POINT_IB, 0, PF_1, ELEM_H };
	set_source(ps, r, r->un_mv, ist_ua, &ps->point);
	ps->duration_ms = ms;
	ps->min_pulses = set->start_min_pulses;
	set_pos(ps, BENCH_MODE_START, r, ps->min_pulses);
	snprintf(ps->label, sizeof ps->label, "start");
	return ML_OK;
}

static int plan_constant(const struct scheme_step *st, const struct model_rating *r,
			 const struct lab_settings *set, struct plan_step *ps, struct ml_error *err)
{
	enum meter_class c;
	int64_t i_ua;
	ps->point = st->point;
	int rc;
	if ((rc = limits_meter_class(r->accuracy_class, &c, err)) ||
	    (rc = check_element(&st->point, r, err)) ||
	    (rc = point_current_ua(&st->point, r, set, &i_ua, err)))
		return rc;
	set_source(ps, r, r->un_mv, i_ua, &st->point);
	point_label(ps, r, "constant ");
	ps->energy_wh_e4 = st->energy_wh_e4 ? st->energy_wh_e4 : set->constant_energy_wh_e4;
	/* run time = E / P: Wh·1e4 · 360000 / mW = ms */
	ps->duration_ms = st->duration_ms
				  ? st->duration_ms
				  : div128_half_even((i128)ps->energy_wh_e4 * 360000, ps->power_mw);
	/* §1.8: |γ| ≤ class index (LYTest ConstantVerify2) */
	struct judge_limit lim = { limits_class_index_e4(c), 1, 0, 0,
				   "JJG 596-2012 constant test (domain 1.8)" };
	set_limits(ps, &lim, st->limit_e4, 0);
	ps->interval_e4 = 0;
	set_pos(ps, BENCH_MODE_CONSTANT, r, 0);
	return ML_OK;
}

static int plan_clock(const struct scheme_step *st, const struct model_rating *r,
		      const struct lab_settings *set, struct plan_step *ps)
{
	ps->point = (struct load_point){ POINT_IB, 0, PF_1, ELEM_H };
	set_source(ps, r, r->un_mv, 0, &ps->point);
	ps->readings = st->readings ? st->readings : set->clock_readings;
	/* §1.9: one reading per 60 clock pulses; the limit allows twice the nominal time */
	int64_t f = r->clock_freq_mhz > 0 ? r->clock_freq_mhz : 1000;
	ps->duration_ms = st->duration_ms
				  ? st->duration_ms
				  : div128_half_even((i128)ps->readings * 60 * 1000000 * 2, f);
	struct judge_limit lim = { set->clock_limit_e4, set->clock_interval_e4, 0, 0,
				   "daily clock error (domain 1.9)" };
	set_limits(ps, &lim, st->limit_e4, 0);
	set_pos(ps, BENCH_MODE_CLOCK, r, 0);
	snprintf(ps->label, sizeof ps->label, "clock");
	return ML_OK;
}

static int plan_xfmr(const struct scheme_step *st, const struct model_rating *r,
		     const struct lab_settings *set, struct plan_step *ps, struct ml_error *err)
{
	int ct = st->kind == STEP_CT;
	if ((ct && r->kind != MODEL_CT) || (!ct && r->kind != MODEL_VT))
		return ml_errorf(err, ML_EINVAL, "%s step on a %s model", ct ? "CT" : "VT",
				 model_kind_name(r->kind));
	struct judge_limit lim;
	int rc = ct ? judge_ct_limit(r->accuracy_class, st->percent_e4, set, &lim, err)
		    : judge_vt_limit(r->accuracy_class, st->percent_e4, set, &lim, err);
	if (rc || (rc = need(r->rated_burden_mva, "a rated burden", err)))
		return rc;
	set_limits(ps, &lim, st->limit_e4, 0);
	ps->readings = st->readings ? st->readings : set->xfmr_readings;
	ps->has_xfmr = 1;
	ps->xfmr.kind = ct ? 0 : 1;
	ps->xfmr.rated_primary = (float)r->rated_primary_milli / 1000.0f;
	ps->xfmr.rated_secondary = (float)r->rated_secondary_milli / 1000.0f;
	ps->xfmr.percent = (float)st->percent_e4 / 1e4f;
	int64_t burden_mva = dec_div_half_even(r->rated_burden_mva * st->burden_pct_e4, 1000000);
	ps->xfmr.burden_va = (float)burden_mva / 1000.0f;
	ps->xfmr.burden_pf = (float)(r->burden_pf_milli > 0 ? r->burden_pf_milli : 800) / 1000.0f;
	set_pos(ps, BENCH_MODE_TRANSFORMER, r, 0);
	ps->pos.constant = 0;
	char p[DEC4_FMT_MAX], b[DEC4_FMT_MAX];
	snprintf(ps->label, sizeof ps->label, "%s %s%% %s%%VA", ct ? "CT" : "VT",
		 dec4_format(st->percent_e4, dec4_min_decimals(st->percent_e4), p, sizeof p),
		 dec4_format(st->burden_pct_e4, dec4_min_decimals(st->burden_pct_e4), b, sizeof b));
	return ML_OK;
}

/* The checks and the step's own planning; plan_make_step names the step in an error. */
static int plan_step_body(const struct scheme_step *step, const struct model_rating *r,
			  const struct lab_settings *set, struct plan_step *ps,
			  struct ml_error *err)
{
	int meter = r->kind == MODEL_METER_1P || r->kind == MODEL_METER_3P;
	int rc;
	if ((rc = scheme_step_check(step, err)))
		return rc;
	if (meter == (step->kind == STEP_CT || step->kind == STEP_VT))
		return ml_errorf(err, ML_EINVAL, "%s step does not apply to a %s",
				 scheme_step_kind_name(step->kind), model_kind_name(r->kind));
	if ((rc = model_rating_check(r, err)))
		return rc;
	switch (step->kind) {
	case STEP_BASIC:
		return plan_basic(step, r, set, ps, err);
	case STEP_CREEP:
		return plan_creep(step, r, set, ps, err);
	case STEP_START:
		return plan_start(step, r, set, ps, err);
	case STEP_CONSTANT:
		return plan_constant(step, r, set, ps, err);
	case STEP_CLOCK:
		return plan_clock(step, r, set, ps);
	default:
		return plan_xfmr(step, r, set, ps, err);
	}
}

int plan_make_step(const struct scheme_step *step, int index, const struct model_rating *r,
		   const struct lab_settings *set, struct plan_step *out, struct ml_error *err)
{
	struct plan_step ps;
	memset(&ps, 0, sizeof ps);
	ps.index = index;
	ps.kind = step->kind;
	ps.settle_timeout_ms = step->settle_timeout_ms ? step->settle_timeout_ms
						       : set->settle_timeout_ms;
	int rc = plan_step_body(step, r, set, &ps, err);
	if (rc)
		return ml_error_prefix(err, "step %d (%s): ", index + 1,
				       scheme_step_kind_name(step->kind)),
		       rc;
	*out = ps;
	return ML_OK;
}

int plan_scheme(const struct scheme *s, const struct model_rating *r,
		const struct lab_settings *set, struct plan_step **out, size_t *n,
		struct ml_error *err)
{
	struct plan_step *v = calloc(s->nsteps ? s->nsteps : 1, sizeof *v);
	if (!v)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->nsteps; i++) {
		int rc = plan_make_step(&s->steps[i], (int)i, r, set, &v[i], err);
		if (rc) {
			free(v);
			return ml_error_prefix(err, "scheme %s: ", s->code), rc;
		}
	}
	*out = v;
	*n = s->nsteps;
	return ML_OK;
}
