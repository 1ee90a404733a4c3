/*
 * credential.c — passwords (Argon2id) and tokens (random 256 bits, stored
 * as BLAKE2b-256) with libsodium, and the database calls that store them.
 */
#include "auth/credential.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "common/text.h"
#include "sql/pgarr.h"

int auth_crypto_init(struct ml_error *err)
{
	if (sodium_init() < 0)
		return ml_errorf(err, ML_EINTERNAL, "libsodium could not be initialised");
	return ML_OK;
}

int auth_token_new(char text[AUTH_TOKEN_TEXT_LEN + 1], unsigned char hash[AUTH_TOKEN_HASH_BYTES],
		   struct ml_error *err)
{
	unsigned char raw[AUTH_TOKEN_BYTES];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(text, AUTH_TOKEN_TEXT_LEN + 1, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	int rc = crypto_generichash(hash, AUTH_TOKEN_HASH_BYTES, raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	return rc ? ml_errorf(err, ML_EINTERNAL, "BLAKE2b failed") : ML_OK;
}

/* Decode exactly AUTH_TOKEN_TEXT_LEN base64url characters into 32 bytes. */
static int token_bytes(const char *text, size_t len, unsigned char raw[AUTH_TOKEN_BYTES])
{
	if (len != AUTH_TOKEN_TEXT_LEN)
		return -1;
	size_t n = 0;
	const char *end = NULL;
	if (sodium_base642bin(raw, AUTH_TOKEN_BYTES, text, len, NULL, &n, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
	    n != AUTH_TOKEN_BYTES || end != text + len)
		return -1;
	return 0;
}

int auth_token_hash(const char *text, size_t len, unsigned char hash[AUTH_TOKEN_HASH_BYTES],
		    struct ml_error *err)
{
	unsigned char raw[AUTH_TOKEN_BYTES];
	if (!text || token_bytes(text, len, raw))
		return ml_errorf(err, ML_EINVAL,
				 "a token is %d base64url characters (A-Z a-z 0-9 - _)",
				 AUTH_TOKEN_TEXT_LEN);
	int rc = crypto_generichash(hash, AUTH_TOKEN_HASH_BYTES, raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	return rc ? ml_errorf(err, ML_EINTERNAL, "BLAKE2b failed") : ML_OK;
}

void auth_hash_param(const unsigned char hash[AUTH_TOKEN_HASH_BYTES],
		     char out[AUTH_HASH_HEX_LEN + 1])
{
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, AUTH_HASH_HEX_LEN - 1, hash, AUTH_TOKEN_HASH_BYTES);
}

int auth_token_derive(const char *token_text, size_t len, const char *label,
		      char out[AUTH_TOKEN_TEXT_LEN + 1], struct ml_error *err)
{
	unsigned char raw[AUTH_TOKEN_BYTES], d[32];
	if (!token_text || token_bytes(token_text, len, raw))
		return ml_errorf(err, ML_EINVAL, "malformed token");
	int rc = crypto_generichash(d, sizeof(d), (const unsigned char *)label, strlen(label), raw,
				    sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	if (rc)
		return ml_errorf(err, ML_EINTERNAL, "BLAKE2b failed");
	sodium_bin2base64(out, AUTH_TOKEN_TEXT_LEN + 1, d, sizeof(d),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return ML_OK;
}

int auth_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && sodium_memcmp(a, b, alen) == 0;
}

int auth_password_policy(const char *pw, const char *login, struct ml_error *err)
{
	if (!pw)
		return ml_errorf(err, ML_EINVAL, "a password is required");
	size_t chars = 0, len = strlen(pw);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		int n = ml_utf8_decode((const unsigned char *)pw + i, len - i, &cp);
		if (n <= 0)
			return ml_errorf(err, ML_EINVAL, "the password is not valid UTF-8");
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return ml_errorf(err, ML_EINVAL,
					 "the password contains a control character");
		i += (size_t)n;
		chars++;
	}
	if (chars < AUTH_PASSWORD_MIN || chars > AUTH_PASSWORD_MAX)
		return ml_errorf(err, ML_EINVAL,
				 "a password has %d to %d characters (this one has %zu)",
				 AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX, chars);
	if (login && !strcmp(pw, login))
		return ml_errorf(err, ML_EINVAL, "the password must not be the login");
	return ML_OK;
}

struct auth_pwcost auth_pwcost_default(void)
{
	struct auth_pwcost c = { crypto_pwhash_OPSLIMIT_INTERACTIVE,
				 crypto_pwhash_MEMLIMIT_INTERACTIVE };
	return c;
}

int auth_password_hash(const char *password, struct auth_pwcost cost, char out[AUTH_PWHASH_MAX],
		       struct ml_error *err)
{
	if (crypto_pwhash_str_alg(out, password, strlen(password), cost.ops, cost.mem,
				  crypto_pwhash_ALG_ARGON2ID13))
		return ml_errorf(err, ML_ENOMEM,
				 "Argon2id could not allocate its memory (%zu bytes)", cost.mem);
	return ML_OK;
}

int auth_password_verify(const char *hash, const char *password)
{
	if (!hash || !password || strnlen(hash, AUTH_PWHASH_MAX) >= AUTH_PWHASH_MAX)
		return 0;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int auth_password_needs_rehash(const char *hash, struct auth_pwcost cost)
{
	return crypto_pwhash_str_needs_rehash(hash, cost.ops, cost.mem) != 0;
}

int auth_user_set_password(struct db *db, const char *login, const char *password,
			   struct auth_pwcost cost, int *ended, struct ml_error *err)
{
	char h[AUTH_PWHASH_MAX];
	int rc = auth_login_check(login, err);
	if (!rc)
		rc = auth_password_policy(password, login, err);
	if (!rc)
		rc = auth_password_hash(password, cost, h, err);
	if (rc)
		return rc;
	const char *p[2] = { login, h };
	PGresult *res = NULL;
	rc = db_query_one(db, "SELECT ml_user_set_password($1, $2)", 2, p, &res, err);
	if (!rc && ended)
		*ended = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	sodium_memzero(h, sizeof(h));
	return rc;
}

int auth_password_change(struct db *db, const char *login, const char *password,
			 struct auth_pwcost cost, int *ended, struct ml_error *err)
{
	char h[AUTH_PWHASH_MAX];
	int rc = auth_password_policy(password, login, err);
	if (!rc)
		rc = auth_password_hash(password, cost, h, err);
	if (rc)
		return rc;
	const char *p[1] = { h };
	PGresult *res = NULL;
	rc = db_query_one(db, "SELECT ml_password_change($1)", 1, p, &res, err);
	if (!rc && ended)
		*ended = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	sodium_memzero(h, sizeof(h));
	return rc;
}

int auth_api_token_create(struct db *db, const char *label, const char *const *roles, size_t nroles,
			  long long ttl_seconds, char token[AUTH_TOKEN_TEXT_LEN + 1],
			  int64_t *token_id, struct ml_error *err)
{
	token[0] = '\0';
	int rc = ml_text_check(label, 100, 0, "token label", err);
	if (rc)
		return rc;
	if (!nroles)
		return ml_errorf(err, ML_EINVAL,
				 "an API token needs at least one role it may act with");
	unsigned char hash[AUTH_TOKEN_HASH_BYTES];
	char hp[AUTH_HASH_HEX_LEN + 1], ttl[40], text[AUTH_TOKEN_TEXT_LEN + 1];
	if ((rc = auth_token_new(text, hash, err)))
		return rc;
	auth_hash_param(hash, hp);
	snprintf(ttl, sizeof(ttl), "%lld seconds", ttl_seconds);
	struct pgarr a;
	pgarr_init(&a);
	for (size_t i = 0; i < nroles; i++)
		pgarr_add(&a, roles[i]);
	const char *p[4] = { hp, label, pgarr_finish(&a), ttl };
	PGresult *res = NULL;
	rc = p[2] ? db_query_one(
			    db,
			    "SELECT ml_api_token_create($1::bytea, $2, $3::text[], $4::interval)",
			    4, p, &res, err)
		  : ml_errorf(err, ML_ENOMEM, "out of memory");
	if (!rc) {
		if (token_id)
			*token_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		memcpy(token, text, sizeof(text));
	}
	sodium_memzero(text, sizeof(text));
	PQclear(res);
	pgarr_free(&a);
	return rc;
}

int auth_api_token_revoke(struct db *db, int64_t token_id, const char *reason, struct ml_error *err)
{
	int rc = ml_text_check(reason, 500, ML_TEXT_MULTILINE, "reason", err);
	if (rc)
		return rc;
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, token_id);
	const char *p[2] = { id, reason };
	return db_cmd(db, "SELECT ml_api_token_revoke($1::bigint, $2)", 2, p, err);
}

int auth_api_token_list(struct db *db, const char *login, PGresult **out, struct ml_error *err)
{
	const char *p[1] = { login };
	return db_exec(
		db,
		"SELECT token_id, login, label, roles, "
		"to_char(created_at, 'YYYY-MM-DD HH24:MI:SSOF') AS created_at, "
		"to_char(expires_at, 'YYYY-MM-DD HH24:MI:SSOF') AS expires_at, "
		"to_char(last_seen_at, 'YYYY-MM-DD HH24:MI:SSOF') AS last_seen_at, "
		"to_char(revoked_at, 'YYYY-MM-DD HH24:MI:SSOF') AS revoked_at, revoked_reason "
		"FROM ml_api_token_list($1)",
		1, p, PGRES_TUPLES_OK, out, err);
}
