/*
 * A run's status (lab/run_status.h): names round-trip, the C table of legal
 * changes equals the database's run_status_transition (0113) for the changes
 * ml_run_status makes, finished and aborted are terminal, and the one change
 * function refuses an illegal change before asking the database.
 */
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "../support/pgtest.h"
#include "lab/run_status.h"

TEST(RunStatus, NamesRoundTripAndUnknownIsRefused)
{
	for (int i = 0; i < RUN_STATUS_COUNT; i++) {
		enum run_status s;
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, run_status_parse(run_status_name((enum run_status)i), &s, &err));
		EXPECT_EQ(i, (int)s);
	}
	enum run_status s;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, run_status_parse("done", &s, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'done'")) << err.msg;
	EXPECT_EQ(nullptr, run_status_name(RUN_STATUS_COUNT));
	EXPECT_TRUE(run_status_terminal(RUN_FINISHED));
	EXPECT_TRUE(run_status_terminal(RUN_ABORTED));
	for (int to = 0; to < RUN_STATUS_COUNT; to++) {
		EXPECT_FALSE(run_status_can(RUN_FINISHED, (enum run_status)to));
		EXPECT_FALSE(run_status_can(RUN_ABORTED, (enum run_status)to));
	}
	/* every unfinished run can always be ended (sql/README: the database guards the truth) */
	for (auto from : { RUN_PENDING, RUN_RUNNING, RUN_INTERRUPTED })
		EXPECT_TRUE(run_status_can(from, RUN_ABORTED));
	EXPECT_TRUE(run_status_can(RUN_RUNNING, RUN_FINISHED));
	EXPECT_FALSE(run_status_can(RUN_PENDING, RUN_FINISHED));
}

TEST(RunStatus, TheTableIsTheDatabases)
{
	std::string ci = pgtest_fresh_db("runstatus");
	struct db *db = pgtest_connect(ci);
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_exec(db, "SELECT from_status, to_status FROM run_status_transition", 0,
				 nullptr, PGRES_TUPLES_OK, &res, &err))
		<< err.msg;
	std::set<std::string> sql;
	for (int i = 0; i < PQntuples(res); i++)
		sql.insert(std::string(PQgetvalue(res, i, 0)) + ">" + PQgetvalue(res, i, 1));
	PQclear(res);
	std::set<std::string> c;
	for (int f = 0; f < RUN_STATUS_COUNT; f++)
		for (auto to : { RUN_RUNNING, RUN_INTERRUPTED })
			if (run_status_can((enum run_status)f, to))
				c.insert(std::string(run_status_name((enum run_status)f)) + ">" +
					 run_status_name(to));
	EXPECT_EQ(sql, c);
	EXPECT_EQ(6u, c.size());
	/* the change function refuses before asking the database */
	enum run_status cur = RUN_FINISHED;
	EXPECT_EQ(ML_ESTATE, run_status_change(db, 999999, &cur, RUN_RUNNING, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "is finished")) << err.msg;
	EXPECT_EQ(RUN_FINISHED, cur);
	cur = RUN_RUNNING;
	EXPECT_EQ(ML_EINTERNAL, run_status_change(db, 999999, &cur, RUN_FINISHED, nullptr, &err));
	db_close(db);
}
