/*
 * figures.c — exact decimal figures of the quality report: ratios rounded
 * half to even, the mean and the sample standard deviation from exact sums
 * (128-bit integers; no binary floating point).
 */
#include <stdio.h>
#include <string.h>

#include "quality/quality.h"
#include "quality/quality_priv.h"

typedef __int128 i128;
typedef unsigned __int128 u128;

/* q = round_half_even(a / b) for b > 0 */
static i128 div_half_even(i128 a, i128 b)
{
	i128 q = a / b, r = a % b;
	if (r < 0) { /* floor division */
		q -= 1;
		r += b;
	}
	i128 twice = 2 * r;
	if (twice > b || (twice == b && (q & 1)))
		q += 1;
	return q;
}

static char *fixed128(i128 v, int places, char *buf)
{
	char digits[48];
	int neg = v < 0;
	u128 u = neg ? (u128)(-v) : (u128)v;
	int n = 0;
	do {
		digits[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	while (n <= places)
		digits[n++] = '0';
	char *p = buf;
	if (neg)
		*p++ = '-';
	for (int i = n - 1; i >= 0; i--) {
		*p++ = digits[i];
		if (i == places && places > 0)
			*p++ = '.';
	}
	*p = 0;
	return buf;
}

char *quality_fixed(int64_t v, int places, char *buf)
{
	return fixed128(v, places, buf);
}

char *quality_ratio(int64_t num, int64_t den, int64_t scale, int places, char *buf)
{
	if (den == 0) {
		buf[0] = '-';
		buf[1] = '\0';
		return buf;
	}
	i128 p10 = 1;
	for (int i = 0; i < places; i++)
		p10 *= 10;
	i128 a = (i128)num * scale * p10, b = den;
	if (b < 0) {
		a = -a;
		b = -b;
	}
	return fixed128(div_half_even(a, b), places, buf);
}

char *quality_fault_rate(int64_t faults, int64_t exposure_days, char *buf)
{
	/* per 1000 asset-years of 365.25 days: faults · 1000 · 365.25 / days */
	return quality_ratio(faults * 365250, exposure_days * 1000, 1000, 2, buf);
}

static int parse_i128(const char *s, i128 *out)
{
	if (!s || !*s)
		return -1;
	int neg = *s == '-';
	if (neg || *s == '+')
		s++;
	if (!*s)
		return -1;
	i128 v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > ((i128)1 << 120))
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/* floor(sqrt(v)) for v >= 0 */
static u128 isqrt(u128 v)
{
	if (v < 2)
		return v;
	u128 x = v, y = (x + 1) / 2;
	while (y < x) {
		x = y;
		y = (x + v / x) / 2;
	}
	return x;
}

int quality_moments(int64_t n, const char *sum_e4, const char *sumsq_e8, int64_t *mean_e6,
		    int64_t *sd_e6, struct ml_error *err)
{
	i128 s, ss;
	if (n <= 0 || parse_i128(sum_e4, &s) || parse_i128(sumsq_e8, &ss) || ss < 0)
		return ml_errorf(err, ML_EINVAL, "moments: n %lld, sums '%s' '%s' are not usable",
				 (long long)n, sum_e4 ? sum_e4 : "", sumsq_e8 ? sumsq_e8 : "");
	*mean_e6 = (int64_t)div_half_even(s * 100, n);
	*sd_e6 = 0;
	if (n >= 2) {
		/* s² = (nΣx² − (Σx)²) / (n(n−1)) in (e4)²; sd_e6 = floor(sqrt(s² · 10⁴)) */
		i128 num = (i128)n * ss - s * s;
		if (num < 0)
			return ml_errorf(err, ML_EINTERNAL, "moments: negative variance");
		i128 den = (i128)n * (n - 1);
		/* floor(sqrt(num·10⁴/den)) = floor(sqrt(floor(num·10⁴/den))) */
		if (num > ((i128)1 << 110))
			return ml_errorf(err, ML_EINVAL, "moments: sums too large");
		*sd_e6 = (int64_t)isqrt((u128)(num * 10000 / den));
	}
	return ML_OK;
}

int quality_date_ok(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}
