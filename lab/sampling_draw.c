/*
 * sampling_draw.c — ChaCha20 (RFC 8439) as a counter-based generator and
 * the partial Fisher–Yates draw of a lot's sample (algorithm in the header).
 */
#include "lab/sampling_draw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Domain separation: another use of the same seed gets another stream. */
static const uint8_t draw_nonce[12] = {
	'M', 'L', '-', '2', '8', '5', '9', '-', 'D', 'R', 'W', '1'
};

static uint32_t rotl(uint32_t v, int c)
{
	return (v << c) | (v >> (32 - c));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define QR(a, b, c, d)               \
	do {                         \
		a += b;              \
		d = rotl(d ^ a, 16); \
		c += d;              \
		b = rotl(b ^ c, 12); \
		a += b;              \
		d = rotl(d ^ a, 8);  \
		c += d;              \
		b = rotl(b ^ c, 7);  \
	} while (0)

void sampling_chacha20_block(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12],
			     uint8_t out[64])
{
	/* RFC 8439 §2.3: constants, key, counter, nonce; 20 rounds (10 double rounds) */
	uint32_t in[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };
	for (int i = 0; i < 8; i++)
		in[4 + i] = le32(key + 4 * i);
	in[12] = counter;
	for (int i = 0; i < 3; i++)
		in[13 + i] = le32(nonce + 4 * i);
	uint32_t x[16];
	memcpy(x, in, sizeof x);
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++) {
		uint32_t v = x[i] + in[i];
		out[4 * i] = (uint8_t)v;
		out[4 * i + 1] = (uint8_t)(v >> 8);
		out[4 * i + 2] = (uint8_t)(v >> 16);
		out[4 * i + 3] = (uint8_t)(v >> 24);
	}
}

void sampling_rng_init(struct sampling_rng *r, const uint8_t seed[SAMPLING_SEED_LEN])
{
	memcpy(r->key, seed, sizeof r->key);
	r->counter = 0;
	r->pos = 64;
}

uint64_t sampling_rng_u64(struct sampling_rng *r)
{
	if (r->pos > 56) {
		/* 64 is a multiple of 8: a number never straddles two blocks */
		sampling_chacha20_block(r->key, r->counter++, draw_nonce, r->block);
		r->pos = 0;
	}
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | r->block[r->pos + i];
	r->pos += 8;
	return v;
}

uint64_t sampling_rng_below(struct sampling_rng *r, uint64_t m)
{
	/* (2^64 mod m) values at the bottom are rejected: the rest split evenly */
	uint64_t threshold = (0 - m) % m;
	for (;;) {
		uint64_t x = sampling_rng_u64(r);
		if (x >= threshold)
			return x % m;
	}
}

int sampling_draw(const uint8_t seed[SAMPLING_SEED_LEN], size_t n, size_t k, size_t *out,
		  struct ml_error *err)
{
	if (k > n)
		return ml_errorf(err, ML_EINVAL, "cannot draw %zu items from a list of %zu", k, n);
	if (k == 0)
		return ML_OK;
	size_t *idx = malloc(n * sizeof *idx);
	if (!idx)
		return ml_errorf(err, ML_ENOMEM, "out of memory drawing from %zu items", n);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	struct sampling_rng r;
	sampling_rng_init(&r, seed);
	for (size_t i = 0; i < k; i++) {
		size_t j = i + (size_t)sampling_rng_below(&r, (uint64_t)(n - i));
		size_t t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
		out[i] = idx[i];
	}
	free(idx);
	return ML_OK;
}

int sampling_seed_new(uint8_t seed[SAMPLING_SEED_LEN], struct ml_error *err)
{
	size_t got = 0;
	while (got < SAMPLING_SEED_LEN) {
		ssize_t r = getrandom(seed + got, SAMPLING_SEED_LEN - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return ml_errorf(err, ML_EIO, "getrandom: %s", strerror(errno));
		got += (size_t)r;
	}
	return ML_OK;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

int sampling_seed_parse(const char *hex, uint8_t seed[SAMPLING_SEED_LEN], struct ml_error *err)
{
	if (!hex || strlen(hex) != 2 * SAMPLING_SEED_LEN)
		return ml_errorf(err, ML_EINVAL, "seed '%.80s' is not %d hex digits",
				 hex ? hex : "", 2 * SAMPLING_SEED_LEN);
	for (int i = 0; i < SAMPLING_SEED_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ml_errorf(err, ML_EINVAL, "seed '%s' is not %d hex digits", hex,
					 2 * SAMPLING_SEED_LEN);
		seed[i] = (uint8_t)(hi << 4 | lo);
	}
	return ML_OK;
}

void sampling_seed_hex(const uint8_t seed[SAMPLING_SEED_LEN], char out[2 * SAMPLING_SEED_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < SAMPLING_SEED_LEN; i++) {
		out[2 * i] = digits[seed[i] >> 4];
		out[2 * i + 1] = digits[seed[i] & 15];
	}
	out[2 * SAMPLING_SEED_LEN] = 0;
}
