/*
 * judge.h — verdicts from readings, with exact decimal arithmetic.
 *
 * Pure functions, no I/O, no globals: safe from any thread. Limits come
 * from the tables of JJG 596-2012 (domain §1.4 balanced and single-element
 * tables), the letter-class profile (§1.5), IEC 61869-2 CT (§2.1) and
 * IEC 61869-3 VT (§2.2); rounding intervals from §1.11. Every basic-error
 * result records the mean, the rounded value, the regulation limit, the
 * internal acceptance limit and a verdict against each.
 *
 * Verdict on the rounded value or on the mean is the setting
 * judge.verdict_on_rounded (JJG practice "判断是否超差以修约后的数据为准" is
 * [M]; LYTest judges the mean). A value exactly on the limit passes
 * (|x| ≤ limit).
 */
#ifndef ML_LAB_JUDGE_H
#define ML_LAB_JUDGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/ml_error.h"
#include "lab/plan.h"
#include "lab/scheme.h"
#include "lab/settings.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Stored in result rows: explicit, append-only. */
enum judge_verdict {
	JUDGE_NONE = 0,
	JUDGE_PASS = 1,
	JUDGE_FAIL = 2
};
const char *judge_verdict_name(enum judge_verdict v); /* "none", "pass", "fail" */

/* Per-item conclusions of a position (MT_DETECT_RSLT *_CONC_CODE, §1.2). Append-only. */
enum judge_item {
	JUDGE_ITEM_CREEP = 0,
	JUDGE_ITEM_START = 1,
	JUDGE_ITEM_BASIC = 2,
	JUDGE_ITEM_CONSTANT = 3,
	JUDGE_ITEM_CLOCK = 4,
	JUDGE_ITEM_RATIO = 5, /* CT/VT ratio error */
	JUDGE_ITEM_PHASE = 6, /* CT/VT phase displacement */
	JUDGE_ITEM_COUNT = 7,
};
const char *judge_item_name(enum judge_item it); /* "creep", "start", "basic", ... */

/* ---- limits ---- */

struct judge_limit {
	int64_t limit_e4;     /* ± limit: % (meters, ratio error) */
	int64_t interval_e4;  /* rounding interval of the value */
	int64_t limit2_e4;    /* phase displacement limit, minutes; 0 = not specified */
	int64_t interval2_e4; /* rounding interval of the phase displacement */
	const char *clause;   /* static text citing the table */
};

/*
 * Basic-error limit of a meter (active energy) at a point. cls: "0.2S",
 * "0.5S", "1", "2" (JJG 596-2012 §1.4) or "A".."E" (letter profile §1.5).
 * ib_ma/imax_ma locate Imax-based points; pass 0/0 when unknown (then an
 * Imax-based point below 0.2·Imax is ML_EINVAL because its range is
 * unknown). ML_EINVAL names the class/point when the table has no limit.
 */
int judge_meter_limit(const char *cls, enum model_connection conn, const struct load_point *pt,
		      int64_t ib_ma, int64_t imax_ma, const struct lab_settings *set,
		      struct judge_limit *out, struct ml_error *err) ML_MUSTCHECK;
/* Error rounding interval of a meter class (§1.11: 0.2S 0.02, 0.5S 0.05, 1 0.1, 2 0.2, letters by analogue). */
int judge_meter_interval(const char *cls, int64_t *interval_e4, struct ml_error *err) ML_MUSTCHECK;
/* CT limits at percent of rated current (IEC 61869-2 §2.1; S classes from 1 %, others from 5 %, class 3/5 at 50–120 %). */
int judge_ct_limit(const char *cls, int64_t percent_e4, const struct lab_settings *set,
		   struct judge_limit *out, struct ml_error *err) ML_MUSTCHECK;
/* VT limits (IEC 61869-3 §2.2; 80–120 % of rated voltage). */
int judge_vt_limit(const char *cls, int64_t percent_e4, const struct lab_settings *set,
		   struct judge_limit *out, struct ml_error *err) ML_MUSTCHECK;
/* Internal acceptance limit = limit × coeff (% × 1e4), rounded toward zero to 1e-4 (never looser). */
int64_t judge_internal_limit(int64_t limit_e4, int64_t coeff_e4);

/* ---- values ---- */

#define JUDGE_MAX_READINGS 32

struct judge_value {
	int n;
	int64_t readings_e4[JUDGE_MAX_READINGS];
	int64_t mean_e4;    /* mean, half-even to 1e-4 (displayed "average") */
	int64_t rounded_e4; /* exact mean rounded to interval in one step */
	int sign;           /* sign of the exact mean: a rounded 0 is shown "-0.0" when −1 */
	int64_t limit_e4, internal_limit_e4, interval_e4;
	enum judge_verdict verdict;          /* against the regulation limit */
	enum judge_verdict internal_verdict; /* against the internal acceptance limit */
};

/*
 * Judge n readings against ±limit and ±internal_limit (0 = no internal
 * limit: internal_verdict = verdict). on_rounded selects the judged
 * quantity. ML_EINVAL for n outside 1..JUDGE_MAX_READINGS or a limit ≤ 0.
 */
int judge_readings(const int64_t *readings_e4, int n, int64_t limit_e4, int64_t internal_limit_e4,
		   int64_t interval_e4, int on_rounded, struct judge_value *out,
		   struct ml_error *err) ML_MUSTCHECK;

/* Text of a rounded value with the interval's decimals and the mean's sign ("-0.2", "+0.2", "-0.0"). */
char *judge_rounded_text(const struct judge_value *v, char *buf, size_t len);

/* Creep: pass when pulses ≤ max_pulses. */
enum judge_verdict judge_creep(uint32_t pulses, int max_pulses);
/* Starting: pass when ≥ min_pulses were counted within time_limit_ms. */
enum judge_verdict judge_start(uint32_t pulses, int64_t elapsed_ms, int64_t time_limit_ms,
			       int min_pulses);
/*
 * Constant test from the bench's data: register increment (kWh × 1e4),
 * counted pulses, constant C (imp/kWh). *gamma_e4 = (ΔW·C − pulses)/pulses
 * × 100 % (the register against the pulse output), *diff = ΔW·C − pulses
 * (rounded half-even to a whole pulse). Verdict per settings: by pulses
 * (|diff| ≤ max) or by error (|γ| ≤ limit_e4, the class index).
 */
int judge_constant(int64_t register_delta_kwh_e4, uint32_t pulses, int64_t constant,
		   int64_t limit_e4, const struct lab_settings *set, int64_t *gamma_e4,
		   int64_t *diff, enum judge_verdict *v, struct ml_error *err) ML_MUSTCHECK;

/* ---- a whole step ---- */

struct judge_step_input {
	int n;                                 /* readings collected (basic, clock, ct/vt) */
	int64_t value_e4[JUDGE_MAX_READINGS];  /* error %, clock s/d, ratio error % */
	int64_t value2_e4[JUDGE_MAX_READINGS]; /* CT/VT phase displacement, minutes */
	uint32_t pulses;                       /* creep/start/constant: pulses counted */
	int64_t elapsed_ms;                    /* creep/start: time when the test ended */
	int64_t register_delta_kwh_e4;         /* constant: register increment */
};

struct judge_step_result {
	int index; /* plan_step.index */
	enum scheme_step_kind kind;
	char label[PLAN_LABEL_MAX];
	struct judge_value value;  /* basic, clock, CT/VT ratio error */
	struct judge_value value2; /* CT/VT phase displacement */
	uint32_t pulses;
	int64_t elapsed_ms; /* creep/start: how long the test ran (stored, checked by the database) */
	int64_t gamma_e4, pulse_diff;        /* constant */
	enum judge_verdict verdict;          /* overall regulation verdict of the step */
	enum judge_verdict internal_verdict; /* against internal limits */
	int recheck; /* basic error: more readings advised (settings judge.recheck_*, §1.11 [M]); 0 otherwise */
};

/* Judge the readings of one planned step. ML_EINVAL when the input does not fit the step (n = 0 …). */
int judge_step(const struct plan_step *ps, const struct judge_step_input *in,
	       const struct lab_settings *set, struct judge_step_result *out,
	       struct ml_error *err) ML_MUSTCHECK;

/* ---- a position (one meter/transformer) ---- */

struct judge_position {
	enum judge_verdict item[JUDGE_ITEM_COUNT]; /* NONE = item not tested */
	enum judge_verdict item_internal[JUDGE_ITEM_COUNT];
	enum judge_verdict overall,
		overall_internal; /* FAIL if any item fails, PASS if ≥ 1 passed */
};
void judge_position_init(struct judge_position *p);
/* Fold one step result into the item conclusions and the overall conclusion. */
void judge_position_add(struct judge_position *p, const struct judge_step_result *r);

/*
 * Manual verification: judge typed-in readings for one position. text has
 * one line per step: "LABEL, r1, r2, ..." (values as decimal text; for
 * CT/VT "LABEL, ratio1 / phase1, ..." with '/' separating the phase; for
 * creep/start/constant "LABEL, pulses=N[, elapsed=S][, register=KWH]").
 * '#' comments and blank lines are ignored; LABEL must match a
 * plan_step.label (case-insensitive) or its 1-based step number.
 * *out malloc'd (caller frees), *nout results in text order; pos updated.
 * Bad input is ML_EINVAL naming the line and the value; nothing is returned then.
 */
int judge_manual_text(const struct plan_step *steps, size_t nsteps, const char *text,
		      const struct lab_settings *set, struct judge_step_result **out, size_t *nout,
		      struct judge_position *pos, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
