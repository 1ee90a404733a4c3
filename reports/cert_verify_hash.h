/*
 * cert_verify_hash.h — SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for
 * certificate hashes and verification codes. Small, dependency-free and
 * pinned by test vectors (FIPS 180-4 examples, RFC 4231), so the hash a
 * certificate was stored with can always be recomputed the same way.
 * Pure functions; thread-safe.
 */
#ifndef ML_CERT_VERIFY_HASH_H
#define ML_CERT_VERIFY_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CERT_SHA256_LEN 32

struct cert_sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	unsigned char block[64];
	size_t used; /* bytes waiting in block */
};

void cert_sha256_init(struct cert_sha256 *s);
void cert_sha256_update(struct cert_sha256 *s, const void *data, size_t len);
void cert_sha256_final(struct cert_sha256 *s, unsigned char out[CERT_SHA256_LEN]);

/* One-shot SHA-256 as 64 lowercase hex digits plus NUL. */
void cert_sha256_hex(const void *data, size_t len, char hex[2 * CERT_SHA256_LEN + 1]);

/* HMAC-SHA256(key, msg). */
void cert_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
		      unsigned char out[CERT_SHA256_LEN]);

#ifdef __cplusplus
}
#endif
#endif
