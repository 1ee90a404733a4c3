/* bench_codec.c — register codecs (bench-protocol.md §2). See bench_codec.h. */
#include "devices/bench_codec.h"

#include <stdio.h>
#include <string.h>

uint32_t bcodec_get_u32(const uint16_t *r)
{
	return ((uint32_t)r[0] << 16) | (uint32_t)r[1];
}

int32_t bcodec_get_i32(const uint16_t *r)
{
	/* memcpy instead of a cast: the conversion of values >= 2^31 is well defined. */
	uint32_t u = bcodec_get_u32(r);
	int32_t v;
	memcpy(&v, &u, sizeof(v));
	return v;
}

void bcodec_put_u32(uint16_t *r, uint32_t v)
{
	r[0] = (uint16_t)(v >> 16);
	r[1] = (uint16_t)(v & 0xFFFFu);
}

void bcodec_put_i32(uint16_t *r, int32_t v)
{
	uint32_t u;
	memcpy(&u, &v, sizeof(u));
	bcodec_put_u32(r, u);
}

float bcodec_get_f32(const uint16_t *r)
{
	uint32_t u = bcodec_get_u32(r);
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

void bcodec_put_f32(uint16_t *r, float v)
{
	uint32_t u;
	memcpy(&u, &v, sizeof(u));
	bcodec_put_u32(r, u);
}

static uint16_t swap16(uint16_t v)
{
	return (uint16_t)((v << 8) | (v >> 8));
}

/* Rearrange two registers between the given order and ABCD (each order is its own inverse). */
static void to_abcd(const uint16_t *in, uint16_t *out, enum bcodec_order o)
{
	switch (o) {
	case BCODEC_DCBA:
		out[0] = swap16(in[1]);
		out[1] = swap16(in[0]);
		break;
	case BCODEC_BADC:
		out[0] = swap16(in[0]);
		out[1] = swap16(in[1]);
		break;
	case BCODEC_CDAB:
		out[0] = in[1];
		out[1] = in[0];
		break;
	default:
		out[0] = in[0];
		out[1] = in[1];
		break;
	}
}

uint32_t bcodec_get_u32_order(const uint16_t *r, enum bcodec_order o)
{
	uint16_t t[2];
	to_abcd(r, t, o);
	return bcodec_get_u32(t);
}

void bcodec_put_u32_order(uint16_t *r, uint32_t v, enum bcodec_order o)
{
	uint16_t t[2];
	bcodec_put_u32(t, v);
	to_abcd(t, r, o);
}

float bcodec_get_f32_order(const uint16_t *r, enum bcodec_order o)
{
	uint16_t t[2];
	to_abcd(r, t, o);
	return bcodec_get_f32(t);
}

void bcodec_put_f32_order(uint16_t *r, float v, enum bcodec_order o)
{
	uint16_t t[2];
	bcodec_put_f32(t, v);
	to_abcd(t, r, o);
}

void bcodec_get_str(const uint16_t *r, int nregs, char *out, size_t out_size)
{
	size_t k = 0;
	if (!out_size)
		return;
	for (int i = 0; i < 2 * nregs && k + 1 < out_size; i++) {
		char c = (char)((i % 2 == 0) ? (r[i / 2] >> 8) : (r[i / 2] & 0xFF));
		if (c == '\0')
			break;
		out[k++] = c;
	}
	out[k] = '\0';
}

void bcodec_put_str(uint16_t *r, int nregs, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	for (int i = 0; i < nregs; i++) {
		size_t a = (size_t)2 * (size_t)i;
		unsigned hi = a < len ? (unsigned char)s[a] : 0;
		unsigned lo = a + 1 < len ? (unsigned char)s[a + 1] : 0;
		r[i] = (uint16_t)((hi << 8) | lo);
	}
}

int bcodec_dec4_parse(const char *s, int32_t *out)
{
	if (!s)
		return -1;
	int neg = 0;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	int64_t v = 0;
	int digits = 0, decimals = -1;
	for (; *s; s++) {
		if (*s == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (*s < '0' || *s > '9')
			return -1;
		if (decimals >= 0 && ++decimals > 4)
			return -1;
		v = v * 10 + (*s - '0');
		if (v > (int64_t)INT32_MAX * 10)
			return -1;
		digits++;
	}
	if (!digits)
		return -1;
	for (int d = decimals < 0 ? 0 : decimals; d < 4; d++)
		v *= 10;
	if (neg)
		v = -v;
	if (v > INT32_MAX || v < INT32_MIN)
		return -1;
	*out = (int32_t)v;
	return 0;
}

const char *bcodec_dec4_format(int32_t v, char *buf, size_t len)
{
	int64_t a = v < 0 ? -(int64_t)v : v;
	char frac[5];
	snprintf(frac, sizeof(frac), "%04d", (int)(a % 10000));
	/* Trim trailing zeros but keep one decimal: 12.5000 -> 12.5, 3.0000 -> 3.0. */
	int n = 4;
	while (n > 1 && frac[n - 1] == '0')
		n--;
	frac[n] = '\0';
	snprintf(buf, len, "%s%lld.%s", v < 0 ? "-" : "", (long long)(a / 10000), frac);
	return buf;
}
