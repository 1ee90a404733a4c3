/*
 * decimal.h — exact decimal arithmetic for judging (no binary floating point).
 *
 * Judged quantities are "dec4": an int64_t holding value × 10 000, so
 * −0.1705 % is −1705, 0.5 s/d is 5000, 30′ is 300000. Rounding intervals
 * are dec4 too (0.02 → 200, 0.05 → 500, 0.1 → 1000, 0.2 → 2000).
 *
 * Rounding follows GB/T 8170 as applied by JJG 596-2012 (domain §1.11):
 * divide by the interval, round half to even ("逢五奇进偶不进"), multiply
 * back; sign kept; always from the exact value in one step, never in two.
 *
 * Other exact scales used in lab/: milli-units (mV, mA, mVA, mHz: value ×
 * 1000) for ratings and setpoints, and integer milliseconds for durations.
 *
 * All functions are pure and thread-safe. Values are bounded by
 * DEC4_ABS_MAX so sums of up to DEC4_MAX_TERMS terms never overflow.
 */
#ifndef ML_LAB_DECIMAL_H
#define ML_LAB_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DEC4_SCALE 10000
/* |value| accepted by the parsers: 10^14 units (10^10 in the value). */
#define DEC4_ABS_MAX INT64_C(100000000000000)
#define DEC4_MAX_TERMS 1000
/* Size enough for any formatted dec4 / milli value including sign and NUL. */
#define DEC4_FMT_MAX 32

/*
 * Parse exact decimal text into value × 10^scale_digits (scale_digits 0..6;
 * 4 for dec4, 3 for milli-units). Accepts an optional sign ('+', '-' or
 * the UTF-8 minus U+2212), digits, optional '.' and up to scale_digits
 * fraction digits; leading/trailing blanks allowed. More fraction digits
 * than the scale is ML_EINVAL (no silent rounding of typed-in readings);
 * so is anything else ("1e-3", "", "0.1.2"). err names the text.
 */
int dec_parse(const char *s, int scale_digits, int64_t *out, struct ml_error *err) ML_MUSTCHECK;
static inline int dec4_parse(const char *s, int64_t *out, struct ml_error *err)
{
	return dec_parse(s, 4, out, err);
}

/*
 * Format v (value × 10^scale_digits) with exactly `decimals` fraction
 * digits (0..scale_digits). Digits below `decimals` must be zero, else the
 * function rounds half-even to `decimals` (documented, but judging code
 * always rounds explicitly first). flags: DEC_FMT_PLUS writes '+' for
 * positive values; DEC_FMT_NEG_ZERO writes "-0.0…" for a zero (used for a
 * rounded zero whose mean was negative, as State Grid uploads do, §1.11).
 * Writes into buf (len ≥ DEC4_FMT_MAX recommended) and returns buf.
 */
#define DEC_FMT_PLUS 1
#define DEC_FMT_NEG_ZERO 2
char *dec_format(int64_t v, int scale_digits, int decimals, int flags, char *buf, size_t len);
static inline char *dec4_format(int64_t v, int decimals, char *buf, size_t len)
{
	return dec_format(v, 4, decimals, 0, buf, len);
}

/* Number of fraction digits needed to show multiples of interval_e4 (0.02 → 2, 0.1 → 1, 1 → 0). */
int dec4_interval_decimals(int64_t interval_e4);
/* Fewest fraction digits (0..4) that show v exactly (−0.1705 → 4, 0.5 → 1). */
int dec4_min_decimals(int64_t v);

/* num/den rounded half to even to an integer; den > 0. Exact for all int64 inputs. */
int64_t dec_div_half_even(int64_t num, int64_t den);

/*
 * Round v to a multiple of interval (both in the same units, interval > 0),
 * half to even, in one step: 0.15 @0.1 → 0.2, 0.25 @0.1 → 0.2,
 * −0.25 @0.1 → −0.2, 0.3 @0.2 → 0.4, 0.1 @0.2 → 0.0.
 */
int64_t dec_round_to(int64_t v, int64_t interval);

/*
 * Mean of n readings (1..DEC4_MAX_TERMS, each |r| ≤ DEC4_ABS_MAX).
 * *mean_e4 receives the mean rounded half-even to 1e-4 (what is displayed as
 * "average"); *rounded (optional) receives the exact mean rounded to
 * interval_e4 in one step — computed from the exact sum, never from the
 * displayed mean. *sign (optional) receives the sign of the exact mean
 * (−1, 0, +1) so a rounded zero can keep it. ML_EINVAL on bad n/values.
 */
int dec4_mean(const int64_t *r, int n, int64_t interval_e4, int64_t *mean_e4, int64_t *rounded,
	      int *sign, struct ml_error *err) ML_MUSTCHECK;

/* a × b / c rounded half-even, with a 128-bit intermediate; c ≠ 0. ML_EINVAL on overflow. */
int dec_muldiv(int64_t a, int64_t b, int64_t c, int64_t *out, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
