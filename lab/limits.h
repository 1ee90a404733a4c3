/*
 * limits.h — accuracy classes and load-point arithmetic shared by the
 * judge, the planner and the scheme generator (internal to lab/, but
 * public so tests can reach it). Pure and thread-safe.
 */
#ifndef ML_LAB_LIMITS_H
#define ML_LAB_LIMITS_H

#include <stdint.h>

#include "common/ml_error.h"
#include "lab/scheme.h"
#include "lab/settings.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Active-energy meter classes: JJG 596-2012 (§1.4) and the letter profile (§1.5). */
enum meter_class {
	MCLS_0_2S = 1,
	MCLS_0_5S = 2,
	MCLS_1 = 3,
	MCLS_2 = 4,
	MCLS_A = 5, /* ≈ 2 */
	MCLS_B = 6, /* ≈ 1 */
	MCLS_C = 7, /* ≈ 0.5S */
	MCLS_D = 8, /* ≈ 0.2S */
	MCLS_E = 9, /* ≈ 0.1S */
};

/* "0.2S", "0.5s", "1", "1.0", "2", "2.0", "A".."E" (case-insensitive). err names the text. */
int limits_meter_class(const char *text, enum meter_class *out, struct ml_error *err) ML_MUSTCHECK;
const char *limits_meter_class_text(enum meter_class c); /* canonical: "0.2S", "1", "B" */
int limits_is_letter(enum meter_class c);
/* Class index in % × 1e4 (0.2S → 2000, 1 → 10000, A → 20000, by the §1.1 correspondence). */
int64_t limits_class_index_e4(enum meter_class c);

/*
 * Load current of a point relative to Ib (In for transformer-operated) in
 * units of 1e-4 (0.1Ib → 1000, Imax of a 5(60) A meter → 120000). Itr and
 * Imin points convert through the letter settings. Imax points need
 * ib_ma/imax_ma; when they are 0 the lower bound mult × Ib is returned with
 * *lower_bound = 1 (Imax ≥ Ib).
 */
int limits_point_rel_ib(const struct load_point *pt, enum meter_class c, enum model_connection conn,
			int64_t ib_ma, int64_t imax_ma, const struct lab_settings *set,
			int64_t *rel_e4, int *lower_bound, struct ml_error *err) ML_MUSTCHECK;

/* Itr and Imin relative to Ib/In (e4) for a letter class (settings letter.*). */
int64_t limits_itr_rel_e4(enum model_connection conn, const struct lab_settings *set);
int64_t limits_imin_rel_e4(enum meter_class c, enum model_connection conn,
			   const struct lab_settings *set);

#ifdef __cplusplus
}
#endif
#endif
