#include "pgtest.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

std::string pgtest_admin_conninfo()
{
	const char *c = getenv("METERLAB_TEST_PG");
	if (!c || !*c) {
		fprintf(stderr, "METERLAB_TEST_PG is not set: run the suite through scripts/test, "
				"which starts a private PostgreSQL cluster\n");
		abort();
	}
	return c;
}

struct db *pgtest_connect(const std::string &conninfo)
{
	struct db *db = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	if (db_connect(conninfo.c_str(), &db, &err)) {
		fprintf(stderr, "pgtest: %s\n", err.msg);
		abort();
	}
	return db;
}

struct db *pgtest_connect_in_zone(const std::string &conninfo, const std::string &zone)
{
	struct db *db = pgtest_connect(conninfo);
	struct ml_error err = ML_ERROR_INIT;
	const char *p[1] = { zone.c_str() };
	PGresult *res = nullptr;
	if (db_exec(db, "SELECT set_config('TimeZone', $1, false)", 1, p, PGRES_TUPLES_OK, &res,
		    &err)) {
		fprintf(stderr, "pgtest: TimeZone %s: %s\n", zone.c_str(), err.msg);
		abort();
	}
	PQclear(res);
	return db;
}

static void add_test_cast(const std::string &ci);

std::string pgtest_fresh_db(const char *tag)
{
	static std::atomic<int> counter{ 0 };
	std::string name = std::string("mlt_") + tag + "_" + std::to_string(getpid()) + "_" +
			   std::to_string(counter++);
	std::string admin = pgtest_admin_conninfo();
	struct db *db = pgtest_connect(admin);
	struct ml_error err = ML_ERROR_INIT;
	/* CREATE DATABASE takes no parameters; the name is built here from a
	 * fixed prefix, the tag given by test code, and numbers. */
	std::string sql = "CREATE DATABASE \"" + name + "\"";
	if (db_cmd(db, sql.c_str(), 0, nullptr, &err)) {
		fprintf(stderr, "pgtest: %s\n", err.msg);
		abort();
	}
	db_close(db);
	std::string ci = admin + " dbname=" + name;
	db = pgtest_connect(ci);
	if (db_migrate(db, nullptr, 0, nullptr, &err)) {
		fprintf(stderr, "pgtest: migrate %s: %s\n", name.c_str(), err.msg);
		abort();
	}
	db_close(db);
	add_test_cast(ci);
	return ci;
}

std::string pgtest_as(const std::string &conninfo, const char *login)
{
	return conninfo + " user=" + login;
}

std::string pgtest_user(const std::string &conninfo, const char *login, const char *display_name,
			const char *roles_csv, const char *team)
{
	std::string roles = std::string("{") + roles_csv + "}";
	const char *p[4] = { login, display_name, roles.c_str(), team };
	struct ml_error err = ML_ERROR_INIT;
	/* Logins are cluster-wide: test binaries running at once may create
	 * the same one at the same moment; the loser's retry finds it. */
	for (int attempt = 0;; attempt++) {
		struct db *db = pgtest_connect(conninfo);
		int rc = db_cmd(db, "SELECT ml_user_add($1, $2, $3::text[], $4)", 4, p, &err);
		db_close(db);
		if (!rc)
			break;
		if (attempt == 5) {
			fprintf(stderr, "pgtest: user %s: %s\n", login, err.msg);
			abort();
		}
		usleep(20000 * (attempt + 1));
	}
	return pgtest_as(conninfo, login);
}

static void add_test_cast(const std::string &ci)
{
	static const char *const cast[][3] = {
		{ "mlt_admin", "系统管理员甲", "admin" },
		{ "mlt_clerk", "李库管", "warehouse_clerk" },
		{ "mlt_tech", "王检定", "lab_technician" },
		{ "mlt_tech2", "赵检定", "lab_technician" },
		{ "mlt_operator", "郑检测", "lab_technician" },
		{ "mlt_checker", "张核验", "checker" },
		{ "mlt_approver", "刘批准", "approver" },
		{ "mlt_field", "陈装接", "field_member" },
		{ "mlt_analyst", "孙分析", "quality_analyst" },
		{ "mlt_manager", "周经理", "manager" },
		{ "mlt_auditor", "吴审计", "auditor" },
	};
	for (const auto &c : cast)
		pgtest_user(ci, c[0], c[1], c[2]);
}

std::string pgtest_as_role(const std::string &conninfo, const char *role)
{
	return conninfo + " user=" + role;
}

int pgtest_run(const std::string &cmd, std::string *out, bool merge_stderr)
{
	std::string full = cmd + (merge_stderr ? " 2>&1" : "");
	FILE *p = popen(full.c_str(), "r");
	if (!p)
		return -1;
	char buf[4096];
	size_t n;
	if (out)
		out->clear();
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		if (out)
			out->append(buf, n);
	}
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string pgtest_cli()
{
	return ML_CLI_PATH;
}

std::string pgtest_src(const char *rel)
{
	return std::string(ML_SOURCE_DIR) + "/" + rel;
}

std::string pgtest_sq(const std::string &s)
{
	std::string r = "'";
	for (char c : s) {
		if (c == '\'')
			r += "'\\''";
		else
			r += c;
	}
	return r + "'";
}

std::string pgtest_barcode(long serial)
{
	char body[32];
	snprintf(body, sizeof(body), "4130001%014ld", serial);
	int sum = 0;
	for (int i = 0; i < 21; i++)
		sum += (body[i] - '0') * (i % 2 == 0 ? 3 : 1);
	return std::string(body) + (char)('0' + (10 - sum % 10) % 10);
}
