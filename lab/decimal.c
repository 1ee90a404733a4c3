/*
 * decimal.c — exact decimal parsing, formatting and GB/T 8170 rounding.
 *
 * Everything is integer arithmetic on scaled values; the one place a
 * product could overflow int64 (dec_muldiv) uses a 128-bit intermediate.
 */
#include "lab/decimal.h"

#include <stdio.h>
#include <string.h>

static int64_t pow10i(int d)
{
	int64_t p = 1;
	while (d-- > 0)
		p *= 10;
	return p;
}

static const char *skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Sign prefix: '+', '-' or UTF-8 U+2212 (E2 88 92), which typed readings copied from documents contain. */
static const char *parse_sign(const char *p, int *neg)
{
	*neg = 0;
	if (*p == '+' || *p == '-') {
		*neg = *p == '-';
		return p + 1;
	}
	if ((unsigned char)p[0] == 0xE2 && (unsigned char)p[1] == 0x88 &&
	    (unsigned char)p[2] == 0x92) {
		*neg = 1;
		return p + 3;
	}
	return p;
}

int dec_parse(const char *s, int scale_digits, int64_t *out, struct ml_error *err)
{
	if (!s)
		return ml_errorf(err, ML_EINVAL, "missing decimal value");
	if (scale_digits < 0 || scale_digits > 6)
		return ml_errorf(err, ML_EINTERNAL, "decimal scale %d out of range", scale_digits);
	int neg;
	const char *p = parse_sign(skip_blank(s), &neg);
	int64_t v = 0, limit = DEC4_ABS_MAX;
	int digits = 0, frac = -1;
	for (; *p; p++) {
		if (*p == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			break;
		if (frac >= 0 && ++frac > scale_digits)
			return ml_errorf(err, ML_EINVAL, "'%s': more than %d decimal places", s,
					 scale_digits);
		v = v * 10 + (*p - '0');
		if (v > limit)
			return ml_errorf(err, ML_EINVAL, "'%s': value too large", s);
		digits++;
	}
	if (*skip_blank(p) != '\0' || digits == 0)
		return ml_errorf(err, ML_EINVAL, "'%s' is not a decimal number", s);
	int64_t mul = pow10i(scale_digits - (frac > 0 ? frac : 0));
	/* checked before multiplying: the scaled value must stay within the bound */
	if (v > limit / mul)
		return ml_errorf(err, ML_EINVAL, "'%s': value too large", s);
	v *= mul;
	*out = neg ? -v : v;
	return ML_OK;
}

int64_t dec_div_half_even(int64_t num, int64_t den)
{
	/* C division truncates toward zero; work on magnitudes in 128 bits so INT64_MIN is safe. */
	__int128 n = num, d = den;
	int neg = n < 0;
	if (neg)
		n = -n;
	__int128 q = n / d, r = n % d;
	__int128 twice = 2 * r;
	if (twice > d || (twice == d && (q & 1)))
		q++;
	return (int64_t)(neg ? -q : q);
}

int64_t dec_round_to(int64_t v, int64_t interval)
{
	return dec_div_half_even(v, interval) * interval;
}

char *dec_format(int64_t v, int scale_digits, int decimals, int flags, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	if (decimals < 0)
		decimals = 0;
	if (decimals > scale_digits)
		decimals = scale_digits;
	int64_t unit = pow10i(scale_digits - decimals);
	int64_t q = dec_div_half_even(v, unit); /* value × 10^decimals */
	int neg = q < 0 || (q == 0 && (flags & DEC_FMT_NEG_ZERO));
	uint64_t mag = q < 0 ? (uint64_t)0 - (uint64_t)q : (uint64_t)q;
	uint64_t p = (uint64_t)pow10i(decimals);
	const char *sign = neg ? "-" : (flags & DEC_FMT_PLUS) && q > 0 ? "+" : "";
	if (decimals == 0)
		snprintf(buf, len, "%s%llu", sign, (unsigned long long)mag);
	else
		snprintf(buf, len, "%s%llu.%0*llu", sign, (unsigned long long)(mag / p), decimals,
			 (unsigned long long)(mag % p));
	return buf;
}

int dec4_interval_decimals(int64_t interval_e4)
{
	int d = 0;
	int64_t unit = DEC4_SCALE;
	while (d < 4 && interval_e4 % unit != 0) {
		d++;
		unit /= 10;
	}
	return d;
}

int dec4_min_decimals(int64_t v)
{
	return v == 0 ? 0 : dec4_interval_decimals(v < 0 ? -v : v);
}

int dec4_mean(const int64_t *r, int n, int64_t interval_e4, int64_t *mean_e4, int64_t *rounded,
	      int *sign, struct ml_error *err)
{
	if (n < 1 || n > DEC4_MAX_TERMS)
		return ml_errorf(err, ML_EINVAL, "number of readings %d out of range 1..%d", n,
				 DEC4_MAX_TERMS);
	if (interval_e4 <= 0 && rounded)
		return ml_errorf(err, ML_EINVAL, "rounding interval %lld must be positive",
				 (long long)interval_e4);
	int64_t sum = 0;
	for (int i = 0; i < n; i++) {
		if (r[i] > DEC4_ABS_MAX || r[i] < -DEC4_ABS_MAX)
			return ml_errorf(err, ML_EINVAL, "reading %d out of range", i + 1);
		sum += r[i]; /* ≤ 1000 · 10^14: fits int64 */
	}
	if (mean_e4)
		*mean_e4 = dec_div_half_even(sum, n);
	/* One step (GB/T 8170): sum / (n · interval), half to even, times interval. */
	if (rounded)
		*rounded = dec_div_half_even(sum, (int64_t)n * interval_e4) * interval_e4;
	if (sign)
		*sign = sum < 0 ? -1 : sum > 0;
	return ML_OK;
}

int dec_muldiv(int64_t a, int64_t b, int64_t c, int64_t *out, struct ml_error *err)
{
	if (c == 0)
		return ml_errorf(err, ML_EINVAL, "division by zero");
	__int128 n = (__int128)a * b, d = c;
	if (d < 0) {
		n = -n;
		d = -d;
	}
	int neg = n < 0;
	if (neg)
		n = -n;
	__int128 q = n / d, r = n % d;
	if (2 * r > d || (2 * r == d && (q & 1)))
		q++;
	if (q > INT64_MAX)
		return ml_errorf(err, ML_EINVAL, "value overflows (%lld × %lld / %lld)",
				 (long long)a, (long long)b, (long long)c);
	*out = (int64_t)(neg ? -q : q);
	return ML_OK;
}
