/*
 * plan.h — turn a scheme step + model rating + settings into a step the
 * runner executes directly on a bench (devices/bench.h), with the limits
 * the judge applies to its readings. Pure: no I/O, no globals.
 *
 * Formulas (domain.md):
 *   m = 1 (1p2w), 3 (3p4w), √3 (3p3w)                          §1.6
 *   creep: U = 115 % Un, no current, Δt = K·10⁶/(C·m·Un·Imax) min  §1.7
 *   start: I = Ist (class, connection), t₀ = 1.2·60·1000/(C·m·Un·Ist) min §1.6
 *   basic: pulses N = round(N_ref · I/Ib · cosφ) (÷3 for one element of a
 *          3-phase meter), ≥ 1, raised to last basic_min_reading_ms  §4.2
 *   constant: run energy E at the point, time = E/P             §1.8
 *   clock: clock readings of 60 clock pulses each               §1.9
 * Durations are integer milliseconds computed with integer arithmetic (√3
 * via an exact integer square root), so a verdict never hangs on float
 * rounding; the bench's float fields are filled from them last.
 */
#ifndef ML_LAB_PLAN_H
#define ML_LAB_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "devices/bench.h"
#include "lab/scheme.h"
#include "lab/settings.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PLAN_LABEL_MAX 64

struct plan_step {
	int index; /* position in the scheme, 0-based */
	enum scheme_step_kind kind;
	char label[PLAN_LABEL_MAX]; /* "Imax cosφ=1.0 H", "creep", "CT 5% 100%VA" (UTF-8) */
	struct load_point point;    /* basic/constant */
	/* bench setup */
	enum bench_mode mode;
	struct bench_source source; /* meters: source setpoints (creep: 115 % U, zero current) */
	struct bench_position_config pos; /* template for every position (enabled = 1) */
	int has_xfmr;
	struct bench_xfmr_setpoint xfmr; /* CT/VT steps */
	int readings;                    /* readings to collect (basic, clock, xfmr) */
	int settle_timeout_ms;
	int64_t duration_ms; /* creep/start/constant/clock time limit (= pos.time_limit) */
	int64_t reading_ms; /* basic: device time one reading should take, pulses·3.6e12/(P_mW·C) */
	/* exact setpoints (the floats in source are derived from these) */
	int64_t voltage_mv; /* per phase */
	int64_t current_ua; /* per loaded element, µA */
	int64_t power_mw;   /* total active power of the loaded elements, mW */
	/* judging */
	int64_t limit_e4;          /* regulation limit ± (%; s/d clock; % ratio error) */
	int64_t internal_limit_e4; /* internal acceptance limit (coefficient × limit) */
	int64_t interval_e4;       /* rounding interval */
	int64_t limit2_e4;         /* CT/VT phase displacement limit, minutes (0 = none) */
	int64_t internal_limit2_e4;
	int64_t interval2_e4; /* rounding interval of the phase displacement */
	int max_pulses;       /* creep: pass when counted ≤ this */
	int min_pulses;       /* start: pass when counted ≥ this before duration */
	int64_t energy_wh_e4; /* constant: energy run, Wh × 1e4 */
	char clause[48];      /* regulation clause of the limit ("JJG 596-2012 table 1") */
};

/*
 * Plan one step. Returns ML_EINVAL (err names the step and the value)
 * when the rating lacks what the step needs (e.g. a constant of 0), when
 * the class has no limit at that point, or when a quantity overflows.
 * index is copied into out->index.
 */
int plan_make_step(const struct scheme_step *step, int index, const struct model_rating *r,
		   const struct lab_settings *set, struct plan_step *out,
		   struct ml_error *err) ML_MUSTCHECK;

/* Plan every step of a scheme. *out malloc'd (caller frees), *n = s->nsteps. All-or-nothing. */
int plan_scheme(const struct scheme *s, const struct model_rating *r,
		const struct lab_settings *set, struct plan_step **out, size_t *n,
		struct ml_error *err) ML_MUSTCHECK;

/* Exact durations, exposed for tests and reports (ms, rounded half-even). */
int plan_creep_ms(const struct model_rating *r, const struct lab_settings *set, int64_t *ms,
		  struct ml_error *err) ML_MUSTCHECK;
/* Starting current Ist in µA (§1.6 table: class, connection). */
int plan_start_current_ua(const struct model_rating *r, const struct lab_settings *set, int64_t *ua,
			  struct ml_error *err) ML_MUSTCHECK;
int plan_start_ms(const struct model_rating *r, const struct lab_settings *set, int64_t *ms,
		  struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
