/*
 * sampling.h — arrival (lot acceptance) sampling by ISO 2859-1 / GB/T 2828.1
 * (domain §3): Table 1 sample size code letters and Table 2-A single
 * sampling plans for normal inspection, AQL 0.010–6.5 % nonconforming,
 * with the table's arrows resolved. Tightened/reduced inspection and the
 * switching rules are [M] (not reconstructed) and deliberately absent:
 * every plan returned here is a normal-inspection plan.
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

struct sampling_plan {
	uint32_t lot_size;
	enum sampling_level level;
	char aql[8];          /* canonical column text, "1.0" */
	char code_letter;     /* Table 1 */
	char plan_letter;     /* letter whose plan is used after following an arrow */
	int arrow;            /* 0 none, +1 followed ↓, -1 followed ↑ */
	uint32_t sample_size; /* of the plan; the lot size when full_inspection */
	int ac, re;           /* accept when nonconforming ≤ ac, reject when ≥ re */
	int full_inspection;  /* the plan's sample ≥ lot size: inspect 100 % */
	int unverified;       /* cell at the table edge the reference could not verify */
};

/*
 * Normal single sampling plan for a lot. aql: one of the Table 2-A
 * columns, any exact spelling ("1", "1.0", "0.15", ".15"). ML_EINVAL names
 * a bad lot size (< 2), level or AQL; a cell without any plan (R at 0.015)
 * is ML_EINVAL saying it is unverified.
 */
int sampling_plan_normal(uint32_t lot_size, enum sampling_level level, const char *aql,
			 struct sampling_plan *out, struct ml_error *err) ML_MUSTCHECK;

/* Lot decision: 1 accepted (d ≤ Ac), 0 not accepted (d ≥ Re). */
int sampling_lot_accepted(const struct sampling_plan *p, uint32_t nonconforming);

#ifdef __cplusplus
}
#endif
#endif
