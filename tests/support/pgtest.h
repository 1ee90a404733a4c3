/*
 * pgtest.h — test fixtures against a real PostgreSQL.
 *
 * scripts/test starts a private cluster and exports METERLAB_TEST_PG, an
 * admin conninfo (superuser, Unix socket). Each suite asks for a fresh
 * database of its own, created and migrated here, so suites can run in
 * parallel without seeing each other's rows.
 */
#ifndef ML_PGTEST_H
#define ML_PGTEST_H

#include <string>

#include "sql/db.h"

/* Admin conninfo from METERLAB_TEST_PG; fails the test (ADD_FAILURE) when unset. */
std::string pgtest_admin_conninfo();

/*
 * Create database "mlt_<tag>_<pid>_<n>", apply the built-in migrations and
 * return its conninfo (admin user). Aborts the test binary on failure:
 * nothing meaningful can run without it.
 */
std::string pgtest_fresh_db(const char *tag);

/* Same database, connecting as another role (e.g. "meterlab_app"). */
std::string pgtest_as_role(const std::string &conninfo, const char *role);

/* Connect or abort. Caller db_close()s. */
struct db *pgtest_connect(const std::string &conninfo);

/* Run a shell command, capture stdout (and stderr when merge), return exit status. */
int pgtest_run(const std::string &cmd, std::string *out, bool merge_stderr = false);

/* Path of the built meterlab CLI and of a file in the source tree. */
std::string pgtest_cli();
std::string pgtest_src(const char *rel);

/* A shell-quoted copy of s ('...'). */
std::string pgtest_sq(const std::string &s);

#endif
