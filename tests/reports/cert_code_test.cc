/*
 * The printed verification code, pinned (issue 9): fixed vectors computed
 * independently (Python's hmac + hashlib, Crockford base32 of the first 40
 * bits of HMAC-SHA256(key, "<number>|<revision>|<barcode>")), so a change to
 * the derivation in C (reports/cert_verify.c, used by `cert verify` offline)
 * or in the database (ml_cert_code, 0141, which prints it) cannot pass
 * unnoticed — every certificate already on paper carries a code made this way.
 */
#include <gtest/gtest.h>

#include <string>

#include "../support/pgtest.h"
#include "reports/cert_verify.h"

namespace
{

struct vec {
	const char *key, *no;
	int rev;
	const char *barcode, *code;
};

const vec kVectors[] = {
	{ "0123456789abcdef0123456789abcdef", "JL2026-000001", 0, "4130001000000446529641",
	  "46J4-91H1" },
	{ "0123456789abcdef0123456789abcdef", "JL2026-000001", 1, "4130001000000446529641",
	  "Z43Z-VKM0" },
	{ "fedcba9876543210fedcba9876543210", "JL2026-000001", 0, "4130001000000446529641",
	  "C3GB-WRZ9" },
	{ "0123456789abcdef0123456789abcdef", "JL2026-123456", 7, "4130001000000461395474",
	  "WXHN-JDC4" },
	/* a key as the database makes them (64 hex digits), a number in UTF-8 */
	{ "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "检2026-000042", 0,
	  "4130001000000461595133", "AVZK-2C80" },
};

} // namespace

TEST(CertCode, CMatchesFixedVectors)
{
	for (const vec &v : kVectors) {
		struct ml_error err = ML_ERROR_INIT;
		char code[CERT_VCODE_LEN];
		ASSERT_EQ(ML_OK, cert_verify_code(v.key, v.no, v.rev, v.barcode, code, &err))
			<< err.msg;
		EXPECT_STREQ(v.code, code) << v.no << " rev " << v.rev << " key " << v.key;
	}
}

TEST(CertCode, DatabaseMatchesFixedVectors)
{
	std::string ci = pgtest_fresh_db("cert_code");
	struct db *db = pgtest_connect(ci); /* the DBA: ml_cert_code is executable by no login */
	ASSERT_NE(nullptr, db);
	int i = 0;
	for (const vec &v : kVectors) {
		std::string id = "VEC" + std::to_string(i++), rev = std::to_string(v.rev);
		struct ml_error err = ML_ERROR_INIT;
		const char *ins[] = { id.c_str() };
		ASSERT_EQ(ML_OK,
			  db_cmd(db,
				 "INSERT INTO issuer (id, name, authorization_no, number_prefix) "
				 "VALUES ($1, 'vector', 'X', 'VEC')",
				 1, ins, &err))
			<< err.msg;
		const char *key[] = { id.c_str(), v.key };
		ASSERT_EQ(ML_OK,
			  db_cmd(db, "UPDATE issuer_key SET verify_key = $2 WHERE issuer_id = $1",
				 2, key, &err))
			<< err.msg;
		const char *p[] = { id.c_str(), v.no, rev.c_str(), v.barcode };
		PGresult *res = nullptr;
		ASSERT_EQ(ML_OK, db_query_one(db, "SELECT ml_cert_code($1, $2, $3::int, $4)", 4, p,
					      &res, &err))
			<< err.msg;
		EXPECT_STREQ(v.code, PQgetvalue(res, 0, 0)) << v.no << " rev " << v.rev;
		PQclear(res);
	}
	db_close(db);
}
