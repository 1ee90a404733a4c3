/* A database holding tests/data/quality/fixture.sql (constructed data with known answers). */
#ifndef ML_TEST_QUALITY_FIXTURE_H
#define ML_TEST_QUALITY_FIXTURE_H

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "../support/pgtest.h"

/* Run a script file of the repository in one transaction. */
static inline void quality_run_script(const std::string &ci, const char *rel)
{
	std::ifstream f(pgtest_src(rel));
	std::stringstream ss;
	ss << f.rdbuf();
	ASSERT_FALSE(ss.str().empty()) << rel;
	struct db *db = pgtest_connect(ci);
	/* Static fixture text from the repository, run as one script. */
	PGresult *res = PQexec(db_conn(db), ("BEGIN;" + ss.str() + "COMMIT;").c_str());
	EXPECT_EQ(PGRES_COMMAND_OK, PQresultStatus(res)) << PQerrorMessage(db_conn(db));
	PQclear(res);
	db_close(db);
}

/* One database per test binary, with the quality fixture. */
static inline const std::string &quality_db()
{
	static std::string ci;
	if (ci.empty()) {
		ci = pgtest_fresh_db("quality");
		quality_run_script(ci, "tests/data/quality/fixture.sql");
	}
	return ci;
}

#endif
