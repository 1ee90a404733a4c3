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

/*
 * Every fresh database holds the same cast of test people, each with a
 * PostgreSQL login of the same name (roles are cluster-wide, so the logins
 * are shared by every test database; the app_user rows are per database):
 *   mlt_admin (admin)            mlt_clerk (warehouse_clerk)
 *   mlt_tech, mlt_tech2 (lab_technician)
 *   mlt_operator (lab_technician: the operator of the runs the DBA fixtures
 *     insert, tests/data/reports/make_run.sql; a person who neither drafts,
 *     checks nor approves their certificates, 0366/0370)
 *   mlt_checker (checker)        mlt_approver (approver)
 *   mlt_field (field_member)     mlt_analyst (quality_analyst)
 *   mlt_manager (manager)        mlt_auditor (auditor)
 * Connect as one with pgtest_as(conninfo, "mlt_tech").
 */
std::string pgtest_as(const std::string &conninfo, const char *login);

/*
 * Add a person to the database (as the DBA, i.e. the admin conninfo):
 * roles comma-separated, team a field_team location code or nullptr.
 * Returns the conninfo connecting as that person. Aborts on failure.
 */
std::string pgtest_user(const std::string &conninfo, const char *login, const char *display_name,
			const char *roles_csv, const char *team = nullptr);

/* Same database, connecting as another role (e.g. "meterlab_app"). */
std::string pgtest_as_role(const std::string &conninfo, const char *role);

/* Connect or abort. Caller db_close()s. */
struct db *pgtest_connect(const std::string &conninfo);

/* Connect and set the session's TimeZone, or abort. Set after connecting, not
 * by options='-c TimeZone=…': libpq sends PGTZ after the options, so a run
 * under PGTZ would otherwise test that zone instead. */
struct db *pgtest_connect_in_zone(const std::string &conninfo, const std::string &zone);

/* Run a shell command, capture stdout (and stderr when merge), return exit status. */
int pgtest_run(const std::string &cmd, std::string *out, bool merge_stderr = false);

/* Path of the built meterlab CLI and of a file in the source tree. */
std::string pgtest_cli();
std::string pgtest_src(const char *rel);

/* A shell-quoted copy of s ('...'). */
std::string pgtest_sq(const std::string &s);

/* The 22-digit barcode 4130001 + serial (14 digits) + its check digit
 * (mod 10, weights 3/1 from the left; domain.md §5.2). */
std::string pgtest_barcode(long serial);

#endif
