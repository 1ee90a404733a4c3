/*
 * barcode.h — State Grid 22-digit metering-asset barcode (Q/GDW 1205).
 *
 * Layout (domain.md §5.2): digits 1–5 user-unit code (1–2 managing unit,
 * 3 unit category, 4–5 reserved "00"), 6–7 asset type, 8–21 serial,
 * 22 check digit. The check digit is a GS1-style mod 10: weight 3 on
 * positions 1,3,…,21 (from the left), weight 1 on 2,4,…,20,
 * check = (10 − sum mod 10) mod 10. The algorithm is inferred (it fits every
 * real barcode found) and not confirmed against Q/GDW 1205, so the layout
 * checks beyond length/digits/check digit are left to configuration.
 */
#ifndef ML_BARCODE_H
#define ML_BARCODE_H

#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BARCODE_LEN 22

/* Check digit (0..9) for the first 21 digits of s, or -1 if not 21 digits. */
int barcode_check_digit(const char *first21);

/*
 * Validate a barcode. Returns ML_OK or ML_EINVAL with a message naming the
 * value and the reason (length, non-digit at position n, wrong check digit
 * with the expected one).
 */
int barcode_validate(const char *s, struct ml_error *err);

/* Fill out[23] with a valid barcode built from unit(5) + type(2) + serial (≤14 digits, zero-padded). */
int barcode_make(const char *unit5, const char *type2, unsigned long long serial, char out[23],
		 struct ml_error *err);

#ifdef __cplusplus
}
#endif
#endif
