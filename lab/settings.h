/*
 * settings.h — every verification rule the reference marks [M]/unverified
 * (or that a centre legitimately chooses) is a setting, not a constant.
 *
 * One declarative table (key, type, default, description; style.md habit
 * 12) drives defaults, parsing, validation, `meterlab scheme settings` and
 * storage in the lab_setting table (migration 0020). A centre changes a
 * value with `meterlab scheme settings set KEY VALUE`; the runner and the
 * judge read a struct lab_settings loaded once per run (parse into a new
 * struct, then use it: a bad row never half-applies).
 *
 * struct lab_settings is plain data; copy it freely. Thread-safe as data.
 */
#ifndef ML_LAB_SETTINGS_H
#define ML_LAB_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct db;

#define LAB_SETTING_LIST_MAX 8

struct lab_settings {
	/* judging (§1.11) */
	int verdict_on_rounded; /* 1: verdict on the rounded value (JJG practice, [M]); 0: on the mean */
	int64_t internal_coeff_e4; /* internal acceptance limit, % of the regulation limit (60 % → 600000) */
	/* basic error (§1.3, §4.2) */
	int basic_readings;   /* readings per point when the step says 0 (default 2) */
	int basic_ref_pulses; /* N_ref: pulses per reading at Ib, PF 1 (default 2) */
	int64_t basic_min_reading_ms; /* 0 = off; else pulses raised so one reading lasts at least this long */
	int half_imax;         /* 0.5Imax points: -1 auto (Imax ≥ 4 Ib), 0 never, 1 always */
	int unbalanced;        /* single-element points for 3-phase meters (1 default) */
	int settle_timeout_ms; /* source settle timeout when the step says 0 */
	/* creep (§1.7) */
	int64_t creep_voltage_pct_e4; /* 115 % Un */
	int creep_max_pulses;         /* pass when pulses ≤ this (default 1, [M]) */
	int64_t creep_k_0_2s, creep_k_0_5s, creep_k_1,
		creep_k_2; /* K of Δt = K·10⁶/(C·m·Un·Imax) min */
	/* starting (§1.6) */
	int start_min_pulses; /* pass when ≥ this many pulses before the time limit (default 1, [M]) */
	int64_t start_coeff_e4;       /* the 1.2 of t₀ = 1.2·60·1000/(C·m·Un·Ist) */
	int64_t start_time_factor_e4; /* time limit = t₀ × factor (1.0 default; LYTest waits 1.5) */
	/* constant test (§1.8) */
	int constant_by_pulses;      /* 1: |pulse difference| ≤ max; 0: |γ| ≤ class index */
	int constant_max_pulse_diff; /* default 1 */
	int64_t constant_energy_wh_e4; /* energy to register, Wh × 1e4 (default 100 Wh = 0.1 kWh, [M]) */
	/* clock (§1.9) */
	int64_t clock_limit_e4;    /* s/d (0.5) */
	int clock_readings;        /* default 5 */
	int64_t clock_interval_e4; /* rounding interval of clock error s/d (0.01, [M]) */
	/* letter classes (§1.5): Itr as % of Ib (direct) / In (transformer), [M] */
	int64_t itr_pct_direct_e4, itr_pct_transformer_e4;
	/* letter classes: Imin as % of Itr (direct class A / other direct / transformer), [M] */
	int64_t imin_pct_direct_a_e4, imin_pct_direct_e4, imin_pct_transformer_e4;
	int64_t letter_creep_voltage_pct_e4; /* revised profile creep voltage, 110 % Un ([C] LYTest, ModelTest) */
	/* instrument transformers (§2, points [M]) */
	int ct_points_s_n;
	int64_t ct_points_s_e4
		[LAB_SETTING_LIST_MAX]; /* % of rated current, S classes: 1,5,20,100,120 */
	int ct_points_n;
	int64_t ct_points_e4[LAB_SETTING_LIST_MAX]; /* other classes: 5,20,100,120 */
	int vt_points_n;
	int64_t vt_points_e4[LAB_SETTING_LIST_MAX]; /* % of rated voltage: 80,100,120 */
	int burdens_n;
	int64_t burdens_e4[LAB_SETTING_LIST_MAX]; /* % of rated burden: 100,25 */
	int64_t xfmr_round_frac_e4; /* rounding interval = this fraction × limit at 100 % (10 % → 100000), [M] */
	int xfmr_readings; /* default 1 */
	/* §1.11 [M]: when |mean| lies in [low, high] % of the limit, ask for more readings (0 = off) */
	int64_t recheck_low_pct_e4, recheck_high_pct_e4;
	int recheck_readings;
	/* arrival sampling, ISO 2859-1 clause 9 switching rules ([M], domain 3.4) */
	int sw_tighten_rejects, sw_tighten_window, sw_normal_after_accepts, sw_reduced_score;
	int sw_score_ac2, sw_score_ac01, sw_discontinue_rejects;
	/* stores (issue 11): months in stock after verification before re-verification */
	int stock_reverify_months;
	int sampling_required; /* 1: an arrived lot is verified only once its sample accepted it */
	/* arrival sampling defaults per kind of device ([M]: the State Grid plan is not sourced):
	 * AQL % × 1e4 and general inspection level 1..3 (I, II, III) */
	int64_t sampling_aql_meter_e4, sampling_aql_xfmr_e4, sampling_aql_conc_e4;
	int sampling_level_meter, sampling_level_xfmr, sampling_level_conc;
};

/* BOOL/INT/TRI: int field; I64: int64_t field; DEC4: int64_t × 1e4; DEC4_LIST: int64_t[] + int count. */
enum lab_setting_type {
	LAB_SET_BOOL = 1,
	LAB_SET_INT = 2,
	LAB_SET_DEC4 = 3,
	LAB_SET_DEC4_LIST = 4,
	LAB_SET_TRI = 5, /* auto / yes / no → -1 / 1 / 0 */
	LAB_SET_I64 = 6,
};

struct lab_setting_desc {
	const char *key; /* "judge.verdict_on_rounded" */
	enum lab_setting_type type;
	const char *def;    /* default as text */
	const char *source; /* evidence tag: "[M]", "[C] LYTest", "JJG 596-2012 §..." */
	const char *description;
	size_t offset;       /* of the field in struct lab_settings */
	size_t count_offset; /* DEC4_LIST: of its int count */
	int64_t min, max;    /* allowed range (DEC4 in e4 units) */
};

/* The table, in display order. Static storage; *n receives the count. */
const struct lab_setting_desc *lab_settings_table(size_t *n);

/* Fill s with the defaults of the table. */
void lab_settings_defaults(struct lab_settings *s);

/* Set key from text (validated; err names key and value). s is unchanged on failure. */
int lab_settings_set(struct lab_settings *s, const char *key, const char *value,
		     struct ml_error *err) ML_MUSTCHECK;

/* Current value of key as text into out (reset first). ML_ENOTFOUND for an unknown key. */
int lab_settings_get(const struct lab_settings *s, const char *key, struct ml_buf *out,
		     struct ml_error *err) ML_MUSTCHECK;

/*
 * Defaults overlaid with the rows of lab_setting. Built in a copy: on any
 * bad row s is left unchanged and err names the key.
 */
int lab_settings_load(struct db *db, struct lab_settings *s, struct ml_error *err) ML_MUSTCHECK;

/* Validate and store one value (upsert). ML_ENOTFOUND for an unknown key, ML_EINVAL for a bad value. */
int lab_settings_store(struct db *db, const char *key, const char *value,
		       struct ml_error *err) ML_MUSTCHECK;
/* Remove a stored value so the default applies again. */
int lab_settings_reset(struct db *db, const char *key, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
