/*
 * sampling_draw.h — the random selection of a lot's sample, reproducible
 * from a recorded seed (ISO 2859-1:1999 clause 8: the sample is drawn by
 * simple random sampling; here anyone holding the seed and the lot's list
 * can redo the draw and get the same barcodes).
 *
 * Algorithm "chacha20-fy-v1", documented so it can be re-implemented
 * (tests/lab/sampling_draw_ref.py is an independent Python version):
 *
 *   1. The list: the lot's barcodes in ascending order (22 ASCII digits, so
 *      byte order = numeric order), indices 0 .. n-1.
 *   2. The generator: the ChaCha20 block function of RFC 8439 §2.3 with
 *      key = the 32-byte seed, nonce = the 12 ASCII bytes "ML-2859-DRW1",
 *      block counter 0, 1, 2, ...; the keystream is read 8 bytes at a time
 *      as little-endian unsigned 64-bit integers (a counter-based generator:
 *      the i-th number depends only on the seed and i).
 *   3. uniform(m) for 1 <= m < 2^64: draw x until x >= (2^64 mod m), then
 *      return x mod m (rejection: exactly uniform, no modulo bias).
 *   4. A partial Fisher–Yates shuffle of 0 .. n-1: for i = 0 .. k-1,
 *      j = i + uniform(n - i), swap positions i and j; the sample is the
 *      first k entries, in draw order.
 *
 * The seed is 32 bytes from the kernel's CSPRNG (getrandom), recorded as 64
 * lower-case hex digits. Pure computation apart from sampling_seed_new();
 * thread-safe.
 */
#ifndef ML_LAB_SAMPLING_DRAW_H
#define ML_LAB_SAMPLING_DRAW_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SAMPLING_SEED_LEN 32
#define SAMPLING_DRAW_ALGORITHM "chacha20-fy-v1"

/* A fresh seed from getrandom(2). ML_EIO when the kernel gives none. */
int sampling_seed_new(uint8_t seed[SAMPLING_SEED_LEN], struct ml_error *err) ML_MUSTCHECK;
/* 64 hex digits (either case) -> seed; ML_EINVAL naming the text otherwise. */
int sampling_seed_parse(const char *hex, uint8_t seed[SAMPLING_SEED_LEN],
			struct ml_error *err) ML_MUSTCHECK;
/* seed -> 64 lower-case hex digits and a NUL. */
void sampling_seed_hex(const uint8_t seed[SAMPLING_SEED_LEN], char out[2 * SAMPLING_SEED_LEN + 1]);

/* RFC 8439 §2.3: one 64-byte ChaCha20 block. */
void sampling_chacha20_block(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12],
			     uint8_t out[64]);

struct sampling_rng {
	uint8_t key[32];
	uint32_t counter; /* next block */
	uint8_t block[64];
	int pos; /* bytes of block used; 64 = empty */
};

void sampling_rng_init(struct sampling_rng *r, const uint8_t seed[SAMPLING_SEED_LEN]);
uint64_t sampling_rng_u64(struct sampling_rng *r);
/* Uniform in [0, m); m >= 1. */
uint64_t sampling_rng_below(struct sampling_rng *r, uint64_t m);

/*
 * Draw k of the n items of an ordered list: out[0 .. k-1] receive indices
 * into the list, in draw order. ML_EINVAL when k > n; ML_ENOMEM. n may be 0
 * only with k 0. The caller owns out (k entries).
 */
int sampling_draw(const uint8_t seed[SAMPLING_SEED_LEN], size_t n, size_t k, size_t *out,
		  struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
