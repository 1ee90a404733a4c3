/*
 * credential.h — passwords and tokens of the server's users (issue 12), on
 * libsodium: Argon2id password hashes (crypto_pwhash_str, never a
 * home-made hash) and 256-bit random tokens of which only a BLAKE2b-256
 * hash is ever stored (auth_session.token_hash, 0100/0250).
 *
 * The database never sees a password or a token: a password becomes an
 * Argon2id string here (client side: the CLI or the server), a token its
 * hash. The functions that store them (0250_server_auth.sql) check the
 * permission, end sessions and write the log.
 *
 * Call auth_crypto_init() once in main() before threads start. Everything
 * else is thread-safe.
 */
#ifndef ML_AUTH_CREDENTIAL_H
#define ML_AUTH_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AUTH_TOKEN_BYTES 32      /* 256 random bits */
#define AUTH_TOKEN_TEXT_LEN 43   /* base64url without padding */
#define AUTH_TOKEN_HASH_BYTES 32 /* BLAKE2b-256 */
#define AUTH_HASH_HEX_LEN 66     /* "\\x" + 64 hex digits: a bytea parameter in text form */
#define AUTH_PWHASH_MAX 128      /* crypto_pwhash_STRBYTES */
#define AUTH_PASSWORD_MIN 10     /* characters */
#define AUTH_PASSWORD_MAX 128    /* characters */

/* sodium_init(); ML_EINTERNAL when libsodium cannot start. */
int auth_crypto_init(struct ml_error *err) ML_MUSTCHECK;

/*
 * A new token: text (43 characters + NUL) is what the holder presents,
 * hash its BLAKE2b-256 (what the database stores).
 */
int auth_token_new(char text[AUTH_TOKEN_TEXT_LEN + 1], unsigned char hash[AUTH_TOKEN_HASH_BYTES],
		   struct ml_error *err) ML_MUSTCHECK;

/*
 * The hash of a presented token. ML_EINVAL unless text is exactly 43
 * base64url characters decoding to 32 bytes (the message never repeats the
 * token).
 */
int auth_token_hash(const char *text, size_t len, unsigned char hash[AUTH_TOKEN_HASH_BYTES],
		    struct ml_error *err) ML_MUSTCHECK;

/* "\\x" + hex of a hash, the text form of a bytea parameter (out: AUTH_HASH_HEX_LEN + 1). */
void auth_hash_param(const unsigned char hash[AUTH_TOKEN_HASH_BYTES],
		     char out[AUTH_HASH_HEX_LEN + 1]);

/*
 * A key derived from a token for another purpose (e.g. the CSRF token of a
 * browser session): BLAKE2b-256 keyed with the token's bytes over label,
 * as base64url text (43 + NUL). Deterministic, so nothing is stored.
 */
int auth_token_derive(const char *token_text, size_t len, const char *label,
		      char out[AUTH_TOKEN_TEXT_LEN + 1], struct ml_error *err) ML_MUSTCHECK;

/* Constant-time comparison of two strings of the same length (0 when they differ in length). */
int auth_equal(const char *a, size_t alen, const char *b, size_t blen);

/*
 * The password rules: valid UTF-8, AUTH_PASSWORD_MIN..AUTH_PASSWORD_MAX
 * characters, no control characters, not the login itself. ML_EINVAL says
 * which rule (never the password).
 */
int auth_password_policy(const char *password, const char *login,
			 struct ml_error *err) ML_MUSTCHECK;

/* Argon2id cost used for new hashes (libsodium's INTERACTIVE: 2 passes, 64 MiB). */
struct auth_pwcost {
	unsigned long long ops;
	size_t mem;
};
struct auth_pwcost auth_pwcost_default(void);

/* Hash a password (after auth_password_policy) into out (crypto_pwhash_str form). */
int auth_password_hash(const char *password, struct auth_pwcost cost, char out[AUTH_PWHASH_MAX],
		       struct ml_error *err) ML_MUSTCHECK;
/* 1 when password matches hash, 0 when not (or hash is malformed). */
int auth_password_verify(const char *hash, const char *password);
/* 1 when hash was made with other parameters than cost (re-hash after a good login). */
int auth_password_needs_rehash(const char *hash, struct auth_pwcost cost);

/* ---- stored through the database's functions (0250_server_auth.sql) ---- */

/*
 * An administrator sets or resets LOGIN's password (user.admin, or the DBA):
 * every session and API token of that person ends (*ended, optional, counts
 * them).
 */
int auth_user_set_password(struct db *db, const char *login, const char *password,
			   struct auth_pwcost cost, int *ended, struct ml_error *err) ML_MUSTCHECK;

/*
 * The connected person changes their own password; every other session and
 * API token of theirs ends (the server session making the change stays).
 */
int auth_password_change(struct db *db, const char *login, const char *password,
			 struct auth_pwcost cost, int *ended, struct ml_error *err) ML_MUSTCHECK;

/*
 * A new API token for the connected person, acting with roles only (a
 * subset of the person's roles), valid ttl_seconds. token receives the
 * secret (shown once, never stored), *token_id its id for revocation.
 */
int auth_api_token_create(struct db *db, const char *label, const char *const *roles, size_t nroles,
			  long long ttl_seconds, char token[AUTH_TOKEN_TEXT_LEN + 1],
			  int64_t *token_id, struct ml_error *err) ML_MUSTCHECK;

/* Revoke an API token: one's own, or anyone's with user.admin. A reason is required. */
int auth_api_token_revoke(struct db *db, int64_t token_id, const char *reason,
			  struct ml_error *err) ML_MUSTCHECK;

/*
 * API tokens of login (NULL: one's own; another's needs user.admin), newest
 * first: token_id, login, label, roles, created_at, expires_at,
 * last_seen_at, revoked_at, revoked_reason. *out is the caller's (PQclear).
 */
int auth_api_token_list(struct db *db, const char *login, PGresult **out,
			struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
