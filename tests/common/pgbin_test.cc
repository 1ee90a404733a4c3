#include <gtest/gtest.h>

#include <stdint.h>
#include <string.h>

#include <string>

#include "../support/pgtest.h"
#include "sql/pgbin.h"

/* What the server reads from one binary array parameter, as text: the
 * layout (sql/pgbin.h) is array_recv's, so a wrong byte is an error or a
 * wrong value here, never a silent one in the step recorder. */
static std::string server_text(struct db *db, const char *cast, struct pgbin_arr *a)
{
	int len = -1;
	const char *p[1] = { pgbin_arr_finish(a, &len) };
	EXPECT_NE(nullptr, p[0]) << "rc " << a->rc;
	if (!p[0])
		return "(not encoded)";
	int lens[1] = { len }, fmts[1] = { 1 };
	std::string sql = std::string("SELECT $1::") + cast + "::text";
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	int rc = db_exec_params(db, sql.c_str(), 1, p, lens, fmts, PGRES_TUPLES_OK, &res, &err);
	EXPECT_EQ(ML_OK, rc) << err.msg;
	std::string out = rc ? std::string("(error) ") + err.msg : PQgetvalue(res, 0, 0);
	PQclear(res);
	return out;
}

/* Every element type the step recorder sends, with NULLs, negatives, the
 * extremes and empty arrays; once unnamed and once through the statement
 * cache (PQexecPrepared), as the runner's connection sends them. */
TEST(PgBin, ArraysRoundTripThroughTheServer)
{
	std::string ci = pgtest_fresh_db("pgbin");
	struct db *db = pgtest_connect(ci);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_cmd(db, "SET TimeZone = 'UTC'", 0, nullptr, &err)) << err.msg;
	for (int cached = 0; cached < 2; cached++) {
		ASSERT_EQ(ML_OK, db_set_statement_cache(db, cached));
		struct pgbin_arr a;
		pgbin_arr_init(&a, PGBIN_INT8);
		for (int64_t v : { (int64_t)-1700, (int64_t)0, INT64_MIN, INT64_MAX, (int64_t)42 })
			pgbin_arr_int(&a, v, 0);
		pgbin_arr_int(&a, 7, 1);
		EXPECT_EQ("{-1700,0,-9223372036854775808,9223372036854775807,42,NULL}",
			  server_text(db, "bigint[]", &a));
		pgbin_arr_free(&a);

		pgbin_arr_init(&a, PGBIN_INT4);
		pgbin_arr_int(&a, 0, 1);
		pgbin_arr_int(&a, INT32_MIN, 0);
		pgbin_arr_int(&a, -1, 0);
		pgbin_arr_int(&a, INT32_MAX, 0);
		EXPECT_EQ("{NULL,-2147483648,-1,2147483647}", server_text(db, "int[]", &a));
		pgbin_arr_free(&a);

		/* µs since the Unix epoch: after 2000 (PostgreSQL's zero), before it, before 1970 */
		pgbin_arr_init(&a, PGBIN_TIMESTAMPTZ);
		pgbin_arr_ts(&a, INT64_C(1796554740123456), 0); /* 2026-12-06 10:59:00.123456 */
		pgbin_arr_ts(&a, 0, 1);
		pgbin_arr_ts(&a, INT64_C(946684799999999), 0); /* 1999-12-31 23:59:59.999999 */
		pgbin_arr_ts(&a, INT64_C(-1), 0);              /* 1969-12-31 23:59:59.999999 */
		EXPECT_EQ(
			"{\"2026-12-06 10:59:00.123456+00\",NULL,\"1999-12-31 23:59:59.999999+00\","
			"\"1969-12-31 23:59:59.999999+00\"}",
			server_text(db, "timestamptz[]", &a));
		pgbin_arr_free(&a);

		/* text needs no quoting in binary: quotes, backslashes, braces, commas, "NULL" */
		pgbin_arr_init(&a, PGBIN_TEXT);
		for (const char *s : { "pass", "a \"q\" \\ {x,y}", "", "NULL", "wiring fault ç" })
			pgbin_arr_text(&a, s);
		pgbin_arr_text(&a, nullptr);
		EXPECT_EQ("{pass,\"a \\\"q\\\" \\\\ {x,y}\",\"\",\"NULL\",\"wiring fault ç\",NULL}",
			  server_text(db, "text[]", &a));
		pgbin_arr_free(&a);

		for (auto t :
		     { std::make_pair(PGBIN_INT8, "bigint[]"), std::make_pair(PGBIN_INT4, "int[]"),
		       std::make_pair(PGBIN_TEXT, "text[]"),
		       std::make_pair(PGBIN_TIMESTAMPTZ, "timestamptz[]") }) {
			pgbin_arr_init(&a, t.first);
			EXPECT_EQ("{}", server_text(db, t.second, &a)) << t.second;
			pgbin_arr_free(&a);
		}
	}
	/* the element type must be the cast's: the server refuses another */
	struct pgbin_arr a;
	pgbin_arr_init(&a, PGBIN_INT4);
	pgbin_arr_int(&a, 1, 0);
	int len = 0;
	const char *p[1] = { pgbin_arr_finish(&a, &len) };
	int lens[1] = { len }, fmts[1] = { 1 };
	EXPECT_NE(ML_OK, db_exec_params(db, "SELECT $1::bigint[]", 1, p, lens, fmts,
					PGRES_TUPLES_OK, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "instead of expected 20 (bigint)")) << err.msg;
	pgbin_arr_free(&a);
	db_close(db);
}

/* A value the array's type cannot hold fails the array, never a wrong element. */
TEST(PgBin, RefusesValuesOfAnotherTypeOrRange)
{
	struct pgbin_arr a;
	int len = 0;
	pgbin_arr_init(&a, PGBIN_INT4);
	pgbin_arr_int(&a, 1, 0);
	pgbin_arr_int(&a, INT64_C(2147483648), 0);
	EXPECT_EQ(nullptr, pgbin_arr_finish(&a, &len));
	EXPECT_EQ(ML_EINVAL, a.rc);
	EXPECT_EQ(INT64_C(2147483648), a.bad); /* for a message that names it */
	EXPECT_EQ(1, a.n);                     /* the element before it */
	pgbin_arr_free(&a);

	pgbin_arr_init(&a, PGBIN_INT8);
	pgbin_arr_text(&a, "1");
	EXPECT_EQ(nullptr, pgbin_arr_finish(&a, &len));
	pgbin_arr_free(&a);

	pgbin_arr_init(&a, PGBIN_TEXT);
	pgbin_arr_ts(&a, 0, 0);
	EXPECT_EQ(nullptr, pgbin_arr_finish(&a, &len));
	pgbin_arr_free(&a);

	pgbin_arr_init(&a, PGBIN_TIMESTAMPTZ);
	pgbin_arr_ts(&a, INT64_MIN, 0);
	EXPECT_EQ(nullptr, pgbin_arr_finish(&a, &len));
	EXPECT_EQ(INT64_MIN, a.bad);
	pgbin_arr_free(&a);

	/* the layout itself: one int8 element, big-endian, after a 20-byte header */
	pgbin_arr_init(&a, PGBIN_INT8);
	pgbin_arr_int(&a, -2, 0);
	const unsigned char *b = (const unsigned char *)pgbin_arr_finish(&a, &len);
	ASSERT_NE(nullptr, b);
	const unsigned char want[] = { 0,  0, 0,    1,    0,    0,    0,    0,    0,    0,   0,
				       20, 0, 0,    0,    1,    0,    0,    0,    1,    0,   0,
				       0,  8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	ASSERT_EQ((int)sizeof(want), len);
	EXPECT_EQ(0, memcmp(want, b, sizeof(want)));
	pgbin_arr_free(&a);
}
