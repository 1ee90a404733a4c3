/*
 * sampling.h — arrival (lot acceptance) sampling by ISO 2859-1 / GB/T 2828.1
 * (domain §3): Table 1 sample size code letters and the single sampling
 * plans of Table 2-A (normal), Table 2-B (tightened) and Table 2-C
 * (reduced inspection), AQL 0.010–6.5 % nonconforming, with the tables'
 * arrows resolved. Sources of 2-B and 2-C: lab/iso2859-1-tightened-reduced.json
 * (2-B: two independent sources agree on every cell; 2-C, the 1999 table
 * without Ac/Re gaps: one source, so every reduced plan is flagged
 * unverified). The switching rules between the three are in
 * lab/sampling_switch.h; the random draw of a sample in lab/sampling_draw.h.
 *
 * Pure functions over static tables; thread-safe.
 */
#ifndef ML_LAB_SAMPLING_H
#define ML_LAB_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Inspection levels; codes may be stored: append-only. */
enum sampling_level {
	SAMPLING_S1 = 1,
	SAMPLING_S2,
	SAMPLING_S3,
	SAMPLING_S4,
	SAMPLING_I,
	SAMPLING_II,
	SAMPLING_III
};

int sampling_level_parse(const char *s, enum sampling_level *out,
			 struct ml_error *err) ML_MUSTCHECK;
const char *sampling_level_name(enum sampling_level l); /* "S-1" … "III" */

/* AQL columns of Table 2-A as text ("0.010" … "6.5"); static storage. */
const char *const *sampling_aqls(size_t *n);

/* Severity of inspection (ISO 2859-1 clause 9); codes may be stored: append-only. */
enum sampling_severity {
	SAMPLING_NORMAL = 0,
	SAMPLING_TIGHTENED = 1,
	SAMPLING_REDUCED = 2
};

/* "normal", "tightened", "reduced"; "?" otherwise. Static storage. */
const char *sampling_severity_name(enum sampling_severity s);
int sampling_severity_parse(const char *s, enum sampling_severity *out,
			    struct ml_error *err) ML_MUSTCHECK;

struct sampling_plan {
	uint32_t lot_size;
	enum sampling_level level;
	enum sampling_severity severity; /* which table: 2-A, 2-B or 2-C */
	char aql[8];                     /* canonical column text, "1.0" */
	char code_letter;                /* Table 1 */
	char plan_letter; /* letter whose plan is used after following an arrow ('S': 2-B only) */
	int arrow;        /* 0 none, +1 followed ↓, -1 followed ↑ */
	uint32_t sample_size; /* of the plan; the lot size when full_inspection */
	int ac, re;           /* accept when nonconforming ≤ ac, reject when ≥ re */
	int full_inspection;  /* the plan's sample ≥ lot size: inspect 100 % */
	int unverified; /* a cell the sources could not verify (Table 2-A edge, every 2-C cell) */
	int aql_column; /* index into sampling_aqls() */
};

/*
 * Normal single sampling plan for a lot. aql: one of the Table 2-A
 * columns, any exact spelling ("1", "1.0", "0.15", ".15"). ML_EINVAL names
 * a bad lot size (< 2), level or AQL; a cell without any plan (R at 0.015)
 * is ML_EINVAL saying it is unverified.
 */
int sampling_plan_normal(uint32_t lot_size, enum sampling_level level, const char *aql,
			 struct sampling_plan *out, struct ml_error *err) ML_MUSTCHECK;

/* The same for any severity: Table 2-A, 2-B or 2-C. */
int sampling_plan_for(uint32_t lot_size, enum sampling_level level, const char *aql,
		      enum sampling_severity severity, struct sampling_plan *out,
		      struct ml_error *err) ML_MUSTCHECK;

/*
 * ISO 2859-1:1999 9.3.3.2 a) 1): under normal inspection with Ac >= 2, the
 * switching score gains 3 when the lot "would have been accepted if the AQL
 * had been one step tighter". Evaluated on the sample actually taken: the
 * Table 2-A plan of the same letter (p->plan_letter, same sample size) in
 * the next tighter AQL column. Returns 1 accepted, 0 not accepted, -1 when
 * not comparable (not a normal-inspection plan, no tighter column, or a
 * tighter cell with another sample size): callers treat -1 as not
 * accepted, which is the conservative reading.
 */
int sampling_accepted_one_step_tighter(const struct sampling_plan *p, uint32_t nonconforming);

/* Lot decision: 1 accepted (d ≤ Ac), 0 not accepted (d ≥ Re). */
int sampling_lot_accepted(const struct sampling_plan *p, uint32_t nonconforming);

#ifdef __cplusplus
}
#endif
#endif
