/*
 * The database's barcode check (ml_barcode_ok, ml_barcode_check_digit: 0111,
 * rewritten without regular expressions in 0173 for the delivery import's
 * speed) must agree with the C one (barcode_validate) on every input: the
 * import refuses in the database what a client might have let through.
 */
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"

namespace
{

struct sql_verdict {
	bool ok;
	std::string digit; /* "" when NULL */
};

sql_verdict ask(struct db *db, const std::string &b)
{
	const char *p[1] = { b.c_str() };
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	sql_verdict v{ false, "?" };
	if (db_query_one(db, "SELECT ml_barcode_ok($1), ml_barcode_check_digit($1)", 1, p, &res,
			 &err)) {
		ADD_FAILURE() << b << ": " << err.msg;
		return v;
	}
	v.ok = !strcmp(PQgetvalue(res, 0, 0), "t");
	v.digit = PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1);
	PQclear(res);
	return v;
}

} // namespace

TEST(BarcodeSql, AgreesWithTheCCheckOnEveryKindOfInput)
{
	std::string ci = pgtest_fresh_db("barcode_sql");
	struct db *db = pgtest_connect(ci);
	ASSERT_NE(nullptr, db);
	std::vector<std::string> in = {
		"4130001000000446529641",
		"4130001000000461395474",
		"4130001000000461595133",
		"4130001000000461409508",
		"",
		"413000100000044652964",
		"41300010000004465296410",
		"41300010000004465X9641",
		" 130001000000446529641",
		"413000100000044652964 ",
		"４130001000000446529641", /* a fullwidth digit: not [0-9] */
		"\xd9\xa3"
		"13000100000044652964", /* ARABIC-INDIC THREE + 20 digits */
		"0000000000000000000000",
		"9999999999999999999999",
	};
	/* every check digit of the real ones, and random digit strings */
	for (int d = 0; d < 10; d++)
		in.push_back(std::string("413000100000044652964") + char('0' + d));
	std::mt19937_64 rng(20261204);
	for (int i = 0; i < 2000; i++) {
		std::string s;
		for (int k = 0; k < 22; k++)
			s += char('0' + rng() % 10);
		in.push_back(s);
	}
	int valid = 0;
	for (const std::string &b : in) {
		struct ml_error err = ML_ERROR_INIT;
		bool c_ok = barcode_validate(b.c_str(), &err) == ML_OK;
		sql_verdict v = ask(db, b);
		EXPECT_EQ(c_ok, v.ok) << "'" << b << "': C says " << (c_ok ? "valid" : err.msg);
		valid += c_ok;
		bool digits21 = b.size() >= 21 && b.find_first_not_of("0123456789") >= 21;
		if (digits21)
			EXPECT_EQ(std::to_string(barcode_check_digit(b.substr(0, 21).c_str())),
				  v.digit)
				<< b;
		else
			EXPECT_EQ("", v.digit) << b;
	}
	/* the random strings hit both outcomes (about one in ten is valid) */
	EXPECT_GT(valid, 150);
	EXPECT_LT(valid, 400);
	db_close(db);
}
