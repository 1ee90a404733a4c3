/*
 * judge.c — verdicts from readings (pure, exact integer arithmetic).
 */
#include "lab/judge.h"

#include <string.h>

#include "lab/decimal.h"

const char *judge_verdict_name(enum judge_verdict v)
{
	return v == JUDGE_PASS ? "pass" : v == JUDGE_FAIL ? "fail" : "none";
}

const char *judge_item_name(enum judge_item it)
{
	static const char *const n[JUDGE_ITEM_COUNT] = { "creep", "start", "basic", "constant",
							 "clock", "ratio", "phase" };
	return it >= 0 && it < JUDGE_ITEM_COUNT ? n[it] : "?";
}

static enum judge_verdict within(int64_t v, int64_t limit)
{
	return (v < 0 ? -v : v) <= limit ? JUDGE_PASS : JUDGE_FAIL;
}

/* |sum / n| ≤ limit without dividing: the unrounded mean judged exactly. */
static enum judge_verdict mean_within(const int64_t *r, int n, int64_t limit)
{
	int64_t sum = 0;
	for (int i = 0; i < n; i++)
		sum += r[i];
	return within(sum, limit * n);
}

int judge_readings(const int64_t *readings_e4, int n, int64_t limit_e4, int64_t internal_limit_e4,
		   int64_t interval_e4, int on_rounded, struct judge_value *out,
		   struct ml_error *err)
{
	if (n < 1 || n > JUDGE_MAX_READINGS)
		return ml_errorf(err, ML_EINVAL, "%d readings: expected 1..%d", n,
				 JUDGE_MAX_READINGS);
	if (limit_e4 <= 0 || internal_limit_e4 < 0 || interval_e4 <= 0)
		return ml_errorf(err, ML_EINVAL, "limit %lld / interval %lld must be positive",
				 (long long)limit_e4, (long long)interval_e4);
	memset(out, 0, sizeof *out);
	int rc = dec4_mean(readings_e4, n, interval_e4, &out->mean_e4, &out->rounded_e4, &out->sign,
			   err);
	if (rc)
		return rc;
	out->n = n;
	memcpy(out->readings_e4, readings_e4, sizeof(int64_t) * (size_t)n);
	out->limit_e4 = limit_e4;
	out->internal_limit_e4 = internal_limit_e4 ? internal_limit_e4 : limit_e4;
	out->interval_e4 = interval_e4;
	if (on_rounded) {
		out->verdict = within(out->rounded_e4, limit_e4);
		out->internal_verdict = within(out->rounded_e4, out->internal_limit_e4);
	} else {
		out->verdict = mean_within(readings_e4, n, limit_e4);
		out->internal_verdict = mean_within(readings_e4, n, out->internal_limit_e4);
	}
	return ML_OK;
}

char *judge_rounded_text(const struct judge_value *v, char *buf, size_t len)
{
	/* "+0.2" / "-0.2" / "-0.0": State Grid uploads keep the mean's sign on a rounded zero (§1.11). */
	int flags = DEC_FMT_PLUS | (v->rounded_e4 == 0 && v->sign < 0 ? DEC_FMT_NEG_ZERO : 0);
	return dec_format(v->rounded_e4, 4, dec4_interval_decimals(v->interval_e4), flags, buf,
			  len);
}

enum judge_verdict judge_creep(uint32_t pulses, int max_pulses)
{
	return (int64_t)pulses <= max_pulses ? JUDGE_PASS : JUDGE_FAIL;
}

enum judge_verdict judge_start(uint32_t pulses, int64_t elapsed_ms, int64_t time_limit_ms,
			       int min_pulses)
{
	return (int64_t)pulses >= min_pulses && elapsed_ms <= time_limit_ms ? JUDGE_PASS
									    : JUDGE_FAIL;
}

int judge_constant(int64_t register_delta_kwh_e4, uint32_t pulses, int64_t constant,
		   int64_t limit_e4, const struct lab_settings *set, int64_t *gamma_e4,
		   int64_t *diff, enum judge_verdict *v, struct ml_error *err)
{
	if (constant <= 0 || constant > 100000000)
		return ml_errorf(err, ML_EINVAL, "meter constant %lld out of range",
				 (long long)constant);
	if (register_delta_kwh_e4 < 0 || register_delta_kwh_e4 > DEC4_ABS_MAX)
		return ml_errorf(err, ML_EINVAL, "register increment %lld out of range",
				 (long long)register_delta_kwh_e4);
	/* 10⁶ kWh: keeps every product below in int64 */
	if (register_delta_kwh_e4 > INT64_C(10000000000))
		return ml_errorf(err, ML_EINVAL,
				 "register increment %lld × 1e-4 kWh is implausibly large",
				 (long long)register_delta_kwh_e4);
	/* ΔW·C pulses the register says were produced, × 1e4; minus the pulses counted × 1e4 (≤ 10¹⁸) */
	__int128 d_e4 = (__int128)register_delta_kwh_e4 * constant - (__int128)pulses * DEC4_SCALE;
	*diff = dec_div_half_even((int64_t)d_e4, DEC4_SCALE);
	if (pulses == 0) {
		/* no pulse output at all: the register/pulse comparison is impossible, the test fails */
		*gamma_e4 = 0;
		*v = JUDGE_FAIL;
		return ML_OK;
	}
	if (dec_muldiv((int64_t)d_e4, 100, (int64_t)pulses, gamma_e4, err))
		return ml_errorf(err, ML_EINVAL,
				 "constant test error overflows (register %lld, pulses %u)",
				 (long long)register_delta_kwh_e4, pulses);
	__int128 mag = d_e4 < 0 ? -d_e4 : d_e4;
	if (set->constant_by_pulses)
		*v = mag <= (__int128)set->constant_max_pulse_diff * DEC4_SCALE ? JUDGE_PASS
										: JUDGE_FAIL;
	else /* |γ| ≤ class index, compared exactly: |d|·100 ≤ limit·pulses */
		*v = mag * 100 <= (__int128)limit_e4 * pulses ? JUDGE_PASS : JUDGE_FAIL;
	return ML_OK;
}

static enum judge_verdict both(enum judge_verdict a, enum judge_verdict b)
{
	if (a == JUDGE_FAIL || b == JUDGE_FAIL)
		return JUDGE_FAIL;
	return a == JUDGE_PASS || b == JUDGE_PASS ? JUDGE_PASS : JUDGE_NONE;
}

static int judge_xfmr_step(const struct plan_step *ps, const struct judge_step_input *in,
			   const struct lab_settings *set, struct judge_step_result *out,
			   struct ml_error *err)
{
	int rc = judge_readings(in->value_e4, in->n, ps->limit_e4, ps->internal_limit_e4,
				ps->interval_e4, set->verdict_on_rounded, &out->value, err);
	if (rc || ps->limit2_e4 <= 0) {
		out->verdict = out->value.verdict;
		out->internal_verdict = out->value.internal_verdict;
		return rc;
	}
	rc = judge_readings(in->value2_e4, in->n, ps->limit2_e4, ps->internal_limit2_e4,
			    ps->interval2_e4, set->verdict_on_rounded, &out->value2, err);
	out->verdict = both(out->value.verdict, out->value2.verdict);
	out->internal_verdict = both(out->value.internal_verdict, out->value2.internal_verdict);
	return rc;
}

/*
 * §1.11 [M]: some practice takes more readings when the mean is close to
 * the limit. |mean| / limit within [low %, high %] (high 0 = unbounded),
 * compared exactly: low·limit·n ≤ |sum|·100 ≤ high·limit·n (pct in e4).
 * Only a recheck already taken (n > planned readings) stops asking.
 */
static int near_limit(const struct judge_step_input *in, int64_t limit_e4,
		      const struct lab_settings *set)
{
	if (set->recheck_low_pct_e4 <= 0)
		return 0;
	__int128 sum = 0;
	for (int i = 0; i < in->n; i++)
		sum += in->value_e4[i];
	if (sum < 0)
		sum = -sum;
	__int128 scaled = sum * 1000000, base = (__int128)limit_e4 * in->n;
	if (scaled < base * set->recheck_low_pct_e4)
		return 0;
	return set->recheck_high_pct_e4 <= 0 || scaled <= base * set->recheck_high_pct_e4;
}

int judge_step(const struct plan_step *ps, const struct judge_step_input *in,
	       const struct lab_settings *set, struct judge_step_result *out, struct ml_error *err)
{
	memset(out, 0, sizeof *out);
	out->index = ps->index;
	out->kind = ps->kind;
	memcpy(out->label, ps->label, sizeof out->label);
	out->pulses = in->pulses;
	out->elapsed_ms = in->elapsed_ms;
	int rc = ML_OK;
	switch (ps->kind) {
	case STEP_BASIC:
	case STEP_CLOCK:
		rc = judge_readings(in->value_e4, in->n, ps->limit_e4, ps->internal_limit_e4,
				    ps->interval_e4, set->verdict_on_rounded, &out->value, err);
		out->verdict = out->value.verdict;
		out->internal_verdict = out->value.internal_verdict;
		out->recheck = !rc && ps->kind == STEP_BASIC && in->n <= ps->readings &&
			       near_limit(in, ps->limit_e4, set);
		break;
	case STEP_CT:
	case STEP_VT:
		rc = judge_xfmr_step(ps, in, set, out, err);
		break;
	case STEP_CREEP:
		out->verdict = out->internal_verdict = judge_creep(in->pulses, ps->max_pulses);
		break;
	case STEP_START:
		out->verdict = out->internal_verdict = judge_start(in->pulses, in->elapsed_ms,
								   ps->duration_ms, ps->min_pulses);
		break;
	case STEP_CONSTANT:
		rc = judge_constant(in->register_delta_kwh_e4, in->pulses,
				    (int64_t)ps->pos.constant, ps->limit_e4, set, &out->gamma_e4,
				    &out->pulse_diff, &out->verdict, err);
		out->internal_verdict = out->verdict;
		break;
	default:
		rc = ml_errorf(err, ML_EINVAL, "step %d: unknown kind %d", ps->index + 1,
			       (int)ps->kind);
	}
	if (rc)
		ml_error_prefix(err, "step %d (%s): ", ps->index + 1, ps->label);
	return rc;
}

void judge_position_init(struct judge_position *p)
{
	memset(p, 0, sizeof *p);
}

static void fold(enum judge_verdict *acc, enum judge_verdict v)
{
	*acc = both(*acc, v);
}

void judge_position_add(struct judge_position *p, const struct judge_step_result *r)
{
	static const int item_of[] = { [STEP_CREEP] = JUDGE_ITEM_CREEP,
				       [STEP_START] = JUDGE_ITEM_START,
				       [STEP_BASIC] = JUDGE_ITEM_BASIC,
				       [STEP_CONSTANT] = JUDGE_ITEM_CONSTANT,
				       [STEP_CLOCK] = JUDGE_ITEM_CLOCK };
	if (r->kind == STEP_CT || r->kind == STEP_VT) {
		fold(&p->item[JUDGE_ITEM_RATIO], r->value.verdict);
		fold(&p->item_internal[JUDGE_ITEM_RATIO], r->value.internal_verdict);
		fold(&p->item[JUDGE_ITEM_PHASE], r->value2.verdict);
		fold(&p->item_internal[JUDGE_ITEM_PHASE], r->value2.internal_verdict);
	} else if (r->kind >= STEP_CREEP && r->kind <= STEP_CLOCK) {
		fold(&p->item[item_of[r->kind]], r->verdict);
		fold(&p->item_internal[item_of[r->kind]], r->internal_verdict);
	}
	p->overall = p->overall_internal = JUDGE_NONE;
	for (int i = 0; i < JUDGE_ITEM_COUNT; i++) {
		fold(&p->overall, p->item[i]);
		fold(&p->overall_internal, p->item_internal[i]);
	}
}
