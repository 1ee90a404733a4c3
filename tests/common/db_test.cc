#include <gtest/gtest.h>

#include <stdlib.h>
#include <string.h>

#include "../support/pgtest.h"

/* Migration runner against a real PostgreSQL: apply, idempotence, refusal of a changed file. */
TEST(Migrate, AppliesOnceAndRefusesChangedFile)
{
	std::string ci = pgtest_fresh_db("migrate");
	struct db *db = pgtest_connect(ci);
	struct ml_error err = ML_ERROR_INIT;

	size_t n = 0;
	const struct db_migration *builtin = db_migrations_builtin(&n);
	ASSERT_GT(n, 0u);

	/* pgtest_fresh_db already migrated: nothing left to apply. */
	int applied = -1;
	ASSERT_EQ(ML_OK, db_migrate(db, nullptr, 0, &applied, &err)) << err.msg;
	EXPECT_EQ(0, applied);

	/* A new migration appended to the list is applied, once. */
	std::vector<struct db_migration> list(builtin, builtin + n);
	list.push_back({ "9990", "9990_test.sql", "CREATE TABLE mig_probe (x int);" });
	ASSERT_EQ(ML_OK, db_migrate(db, list.data(), list.size(), &applied, &err)) << err.msg;
	EXPECT_EQ(1, applied);
	ASSERT_EQ(ML_OK, db_migrate(db, list.data(), list.size(), &applied, &err)) << err.msg;
	EXPECT_EQ(0, applied);

	/* Changing an applied file is refused and applies nothing else. */
	list.back().sql = "CREATE TABLE mig_probe (x bigint);";
	list.push_back({ "9991", "9991_next.sql", "CREATE TABLE mig_next (x int);" });
	EXPECT_EQ(ML_ECONFLICT, db_migrate(db, list.data(), list.size(), &applied, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "9990_test.sql")) << err.msg;
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, db_query_one(db, "SELECT to_regclass('mig_next') IS NULL", 0, nullptr,
				      &res, &err));
	EXPECT_STREQ("t", PQgetvalue(res, 0, 0));
	PQclear(res);

	struct db_migration_status *st = nullptr;
	size_t sn = 0;
	ASSERT_EQ(ML_OK, db_migrate_status(db, list.data(), list.size(), &st, &sn, &err));
	ASSERT_EQ(list.size(), sn);
	EXPECT_EQ(DB_MIG_CHANGED, st[sn - 2].state);
	EXPECT_EQ(DB_MIG_PENDING, st[sn - 1].state);
	EXPECT_EQ(DB_MIG_APPLIED, st[0].state);
	free(st);
	db_close(db);
}

/* A failing migration rolls back entirely: no half-applied schema. */
TEST(Migrate, FailedMigrationLeavesNothing)
{
	std::string ci = pgtest_fresh_db("migfail");
	struct db *db = pgtest_connect(ci);
	struct ml_error err = ML_ERROR_INIT;
	size_t n = 0;
	const struct db_migration *builtin = db_migrations_builtin(&n);
	std::vector<struct db_migration> list(builtin, builtin + n);
	list.push_back({ "9992", "9992_bad.sql",
			 "CREATE TABLE half (x int); SELECT no_such_function();" });
	EXPECT_EQ(ML_EDB, db_migrate(db, list.data(), list.size(), nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "9992_bad.sql")) << err.msg;
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK,
		  db_query_one(db, "SELECT to_regclass('half') IS NULL", 0, nullptr, &res, &err));
	EXPECT_STREQ("t", PQgetvalue(res, 0, 0));
	PQclear(res);
	db_close(db);
}

TEST(Db, MapsSqlstateToErrorCodes)
{
	std::string ci = pgtest_fresh_db("sqlstate");
	struct db *db = pgtest_connect(ci);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_cmd(db, "CREATE TABLE u (k text PRIMARY KEY)", 0, nullptr, &err));
	const char *p[1] = { "a" };
	ASSERT_EQ(ML_OK, db_cmd(db, "INSERT INTO u VALUES ($1)", 1, p, &err));
	EXPECT_EQ(ML_EEXISTS, db_cmd(db, "INSERT INTO u VALUES ($1)", 1, p, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "23505")) << err.msg;
	const char *bad[1] = { "x" };
	EXPECT_EQ(ML_EINVAL, db_cmd(db, "SELECT $1::int", 1, bad, &err));
	db_close(db);
}

/* A connection drops the server's NOTICEs (migrations' "already exists,
 * skipping") and still shows its WARNINGs. The NOTICEs are dropped by the
 * client, not by a SET at connect, which cost every command a round trip. */
TEST(Db, DropsNoticesAndShowsWarnings)
{
	std::string ci = pgtest_fresh_db("notices");
	struct db *db = pgtest_connect(ci);
	struct ml_error err = ML_ERROR_INIT;
	testing::internal::CaptureStderr();
	int rc = db_cmd(db,
			"DO $$ BEGIN RAISE NOTICE 'a notice nobody needs'; "
			"RAISE WARNING 'a warning someone does'; END $$",
			0, nullptr, &err);
	std::string said = testing::internal::GetCapturedStderr();
	ASSERT_EQ(ML_OK, rc) << err.msg;
	EXPECT_EQ(std::string::npos, said.find("a notice nobody needs")) << said;
	EXPECT_NE(std::string::npos, said.find("WARNING:  a warning someone does")) << said;
	db_close(db);
}

/* db_get: SQL NULL and a row past the end are NULL; a column the result does
 * not have is a bug in the caller's SQL and stops the process loudly (it used
 * to look like SQL NULL, issue 9). */
TEST(Db, GetTellsNullFromAMissingColumn)
{
	std::string ci = pgtest_fresh_db("dbget");
	struct db *db = pgtest_connect(ci);
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, db_query_one(db, "SELECT 'v' AS here, NULL::text AS empty", 0, nullptr,
				      &res, &err))
		<< err.msg;
	EXPECT_STREQ("v", db_get(res, 0, "here"));
	EXPECT_EQ(nullptr, db_get(res, 0, "empty"));
	EXPECT_EQ(nullptr, db_get(res, 1, "here"));
	EXPECT_DEATH((void)db_get(res, 0, "hree"), "no column 'hree'");
	PQclear(res);
	db_close(db);
}

static long long count_rows(struct db *db, const char *sql)
{
	PGresult *r = PQexec(db_conn(db), sql);
	long long n = r && PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : -1;
	PQclear(r);
	return n;
}

static int hook_calls;
static int set_name_hook(struct db *db, void *, struct ml_error *err)
{
	hook_calls++;
	return db_cmd(db, "SELECT set_config('application_name', 'hooked', true)", 0, nullptr, err);
}

/* db_pipeline (one round trip for several statements, the certificate
 * approval's): results in order, binary parameters, a failure skips the rest
 * (a COMMIT after it too) and is the error, nothing is half written, and a
 * transaction hook still runs right after BEGIN. */
TEST(Db, PipelineRunsInOrderAndStopsAtTheFirstFailure)
{
	std::string ci = pgtest_fresh_db("pipeline");
	struct db *db = pgtest_connect(ci);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_cmd(db, "CREATE TABLE t (x int PRIMARY KEY)", 0, nullptr, &err));
	const char *one[1] = { "1" }, *two[1] = { "2" }, *three[1] = { "3" };
	const char bytes[3] = { 'a', '\0', 'b' };
	const char *bin[1] = { bytes };
	const int blen[1] = { 3 }, bfmt[1] = { 1 };
	struct db_stmt ok[] = {
		{ "BEGIN", 0, nullptr, nullptr, nullptr, PGRES_COMMAND_OK },
		{ "INSERT INTO t VALUES ($1::int)", 1, one, nullptr, nullptr, PGRES_COMMAND_OK },
		{ "SELECT x + 41 FROM t", 0, nullptr, nullptr, nullptr, PGRES_TUPLES_OK },
		{ "SELECT length($1::bytea)", 1, bin, blen, bfmt, PGRES_TUPLES_OK },
		{ "COMMIT", 0, nullptr, nullptr, nullptr, PGRES_COMMAND_OK },
	};
	PGresult *out[5];
	ASSERT_EQ(ML_OK, db_pipeline(db, ok, 5, out, &err)) << err.msg;
	EXPECT_STREQ("42", PQgetvalue(out[2], 0, 0));
	EXPECT_STREQ("3", PQgetvalue(out[3], 0, 0)) << "a binary parameter keeps its NUL";
	for (PGresult *r : out)
		PQclear(r);
	EXPECT_EQ(PQTRANS_IDLE, PQtransactionStatus(db_conn(db)));
	EXPECT_EQ(1, count_rows(db, "SELECT count(*) FROM t"));

	/* the duplicate fails: the insert of 3 and the COMMIT are skipped */
	struct db_stmt bad[] = {
		{ "BEGIN", 0, nullptr, nullptr, nullptr, PGRES_COMMAND_OK },
		{ "INSERT INTO t VALUES ($1::int)", 1, two, nullptr, nullptr, PGRES_COMMAND_OK },
		{ "INSERT INTO t VALUES ($1::int)", 1, one, nullptr, nullptr, PGRES_COMMAND_OK },
		{ "INSERT INTO t VALUES ($1::int)", 1, three, nullptr, nullptr, PGRES_COMMAND_OK },
		{ "COMMIT", 0, nullptr, nullptr, nullptr, PGRES_COMMAND_OK },
	};
	for (PGresult *&r : out)
		r = reinterpret_cast<PGresult *>(1); /* must come back NULL */
	EXPECT_EQ(ML_EEXISTS, db_pipeline(db, bad, 5, out, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "23505")) << err.msg;
	for (PGresult *r : out)
		EXPECT_EQ(nullptr, r);
	EXPECT_EQ(PQTRANS_INERROR, PQtransactionStatus(db_conn(db))) << "not committed";
	db_rollback(db);
	EXPECT_EQ(1, count_rows(db, "SELECT count(*) FROM t"));
	EXPECT_EQ(0, count_rows(db, "SELECT count(*) FROM t WHERE x IN (2, 3)"));

	/* without BEGIN the statements up to the sync are one implicit transaction */
	EXPECT_EQ(ML_EEXISTS, db_pipeline(db, bad + 1, 2, nullptr, &err));
	EXPECT_EQ(PQTRANS_IDLE, PQtransactionStatus(db_conn(db)));
	EXPECT_EQ(0, count_rows(db, "SELECT count(*) FROM t WHERE x = 2"));

	/* a transaction hook runs right after BEGIN, before the other statements */
	db_set_tx_hook(db, set_name_hook, nullptr);
	struct db_stmt hooked[] = {
		{ "BEGIN", 0, nullptr, nullptr, nullptr, PGRES_COMMAND_OK },
		{ "SELECT current_setting('application_name')", 0, nullptr, nullptr, nullptr,
		  PGRES_TUPLES_OK },
		{ "COMMIT", 0, nullptr, nullptr, nullptr, PGRES_COMMAND_OK },
	};
	ASSERT_EQ(ML_OK, db_pipeline(db, hooked, 3, out, &err)) << err.msg;
	EXPECT_EQ(1, hook_calls);
	EXPECT_STREQ("hooked", PQgetvalue(out[1], 0, 0));
	for (int i = 0; i < 3; i++)
		PQclear(out[i]);
	db_set_tx_hook(db, nullptr, nullptr);
	db_close(db);
}
