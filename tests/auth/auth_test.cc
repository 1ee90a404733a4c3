/*
 * People, roles and the authenticated actor (auth/auth.h,
 * 0100_identity.sql), tried as an attacker would: with each person's own
 * database login, with the service login, and directly in SQL.
 */
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "../support/pgtest.h"
#include "auth/auth.h"

namespace
{

class Auth : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		ci_ = new std::string(pgtest_fresh_db("auth"));
	}
	static void TearDownTestSuite()
	{
		delete ci_;
	}
	static std::string &ci()
	{
		return *ci_;
	}
	static std::string *ci_;

	/* Run SQL as login; returns the ml_err code (0 ok) and the message. */
	static int sql_as(const char *login, const char *sql, std::string *msg = nullptr,
			  std::string *value = nullptr)
	{
		struct db *db = pgtest_connect(login ? pgtest_as(ci(), login) : ci());
		struct ml_error err = ML_ERROR_INIT;
		PGresult *res = nullptr;
		int rc = db_exec(db, sql, 0, nullptr, PGRES_TUPLES_OK, &res, &err);
		if (!rc && value && res && PQntuples(res) > 0)
			*value = PQgetvalue(res, 0, 0);
		PQclear(res);
		if (msg)
			*msg = err.msg;
		db_close(db);
		return rc;
	}
};
std::string *Auth::ci_ = nullptr;

std::string unique_login(const char *prefix)
{
	static int n = 0;
	return std::string(prefix) + std::to_string(getpid()) + "_" + std::to_string(n++);
}

TEST_F(Auth, EveryTestPersonIsWhoTheirLoginSays)
{
	const char *const who[][2] = { { "mlt_tech", "lab_technician" },
				       { "mlt_checker", "checker" },
				       { "mlt_approver", "approver" },
				       { "mlt_clerk", "warehouse_clerk" } };
	for (const auto &w : who) {
		struct db *db = pgtest_connect(pgtest_as(ci(), w[0]));
		struct auth_user u;
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, auth_whoami(db, &u, &err)) << err.msg;
		EXPECT_STREQ(w[0], u.login);
		EXPECT_STREQ(w[1], u.roles);
		EXPECT_TRUE(u.active);
		EXPECT_GT(u.user_id, 0);
		db_close(db);
	}
}

TEST_F(Auth, ALoginThatIsNoMeterlabUserCannotAct)
{
	/* the DBA (superuser of the test cluster) is not a person */
	struct db *db = pgtest_connect(ci());
	struct auth_user u;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EPERM, auth_whoami(db, &u, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "is not a meterlab user")) << err.msg;
	db_close(db);
}

TEST_F(Auth, RequireNamesThePermissionAndTheRolesThatHoldIt)
{
	std::string msg;
	EXPECT_EQ(ML_EPERM, sql_as("mlt_clerk", "SELECT ml_require('cert.approve')", &msg));
	EXPECT_NE(std::string::npos, msg.find("cert.approve")) << msg;
	EXPECT_NE(std::string::npos, msg.find("approver")) << msg;
	EXPECT_NE(std::string::npos, msg.find("mlt_clerk")) << msg;
	std::string id;
	EXPECT_EQ(ML_OK, sql_as("mlt_approver", "SELECT ml_require('cert.approve')", &msg, &id));
	EXPECT_FALSE(id.empty());
	/* a misspelt permission is a bug, not a refusal */
	EXPECT_EQ(ML_EDB, sql_as("mlt_approver", "SELECT ml_require('cert.aprove')", &msg));
}

TEST_F(Auth, OnlyAnAdminAddsPeople)
{
	struct db *db = pgtest_connect(pgtest_as(ci(), "mlt_tech"));
	struct ml_error err = ML_ERROR_INIT;
	const char *roles[] = { "approver" };
	std::string login = unique_login("mlt_x");
	EXPECT_EQ(ML_EPERM,
		  auth_user_add(db, login.c_str(), "冒名者", roles, 1, nullptr, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "user.admin")) << err.msg;
	/* nor by calling the function itself, nor by writing the tables */
	std::string msg;
	EXPECT_EQ(ML_EPERM, sql_as("mlt_tech",
				   "INSERT INTO app_user (login, display_name) "
				   "VALUES ('mlt_evil', '坏人')",
				   &msg));
	EXPECT_EQ(ML_EPERM,
		  sql_as("mlt_tech",
			 "INSERT INTO app_user_role (user_id, role) SELECT user_id, 'approver' "
			 "FROM app_user WHERE login = 'mlt_tech'",
			 &msg));
	EXPECT_EQ(ML_EPERM, sql_as("mlt_tech",
				   "INSERT INTO app_role_permission VALUES ('lab_technician', "
				   "'cert.approve')",
				   &msg));
	EXPECT_EQ(ML_EPERM,
		  sql_as("mlt_tech", "UPDATE app_user SET active = true WHERE login = 'mlt_tech'",
			 &msg));
	EXPECT_EQ(ML_EPERM, sql_as("mlt_admin", "DELETE FROM app_user_log", &msg));
	db_close(db);

	db = pgtest_connect(pgtest_as(ci(), "mlt_admin"));
	int64_t id = 0;
	ASSERT_EQ(ML_OK, auth_user_add(db, login.c_str(), "钱新人", roles, 1, nullptr, &id, &err))
		<< err.msg;
	EXPECT_GT(id, 0);
	db_close(db);
	db = pgtest_connect(pgtest_as(ci(), login.c_str()));
	struct auth_user u;
	ASSERT_EQ(ML_OK, auth_whoami(db, &u, &err)) << err.msg;
	EXPECT_STREQ("钱新人", u.display_name);
	EXPECT_STREQ("approver", u.roles);
	db_close(db);
}

TEST_F(Auth, LookAlikeLoginsAreRefusedNotSecondPeople)
{
	struct db *db = pgtest_connect(pgtest_as(ci(), "mlt_admin"));
	const char *roles[] = { "approver" };
	const char *const bad[] = {
		"chief.liu\xE2\x80\x8B", /* zero-width space */
		"chief.l\xD1\x96u",      /* Cyrillic і */
		"\xEF\xBD\x83hief.liu",  /* fullwidth ｃ */
		"Chief.Liu",             /* upper case */
		"pg_liu",
		"meterlab_x",
		"x", /* reserved, too short */
	};
	for (const char *login : bad) {
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_EINVAL,
			  auth_user_add(db, login, "刘总", roles, 1, nullptr, nullptr, &err))
			<< login;
		EXPECT_NE(nullptr, strstr(err.msg, "login")) << err.msg;
	}
	db_close(db);
	/* The database refuses them too, whatever the client sends. */
	std::string msg;
	EXPECT_EQ(ML_EINVAL,
		  sql_as("mlt_admin",
			 "SELECT ml_user_add(E'chief.liu\\u200b', '刘总', '{approver}')", &msg));
	EXPECT_EQ(ML_EINVAL,
		  sql_as("mlt_admin", "SELECT ml_user_add('chief.l\u0456u', '刘总', '{approver}')",
			 &msg));
	/* and display names with invisible characters */
	EXPECT_EQ(ML_EINVAL,
		  sql_as("mlt_admin", "SELECT ml_user_add('mlt_zw', E'刘\\u200b总', '{approver}')",
			 &msg));
	EXPECT_EQ(ML_EINVAL,
		  sql_as("mlt_admin", "SELECT ml_user_add('mlt_zw', '刘总 ', '{approver}')", &msg));
	EXPECT_EQ(ML_EINVAL,
		  sql_as("mlt_admin", "SELECT ml_user_add('mlt_zw', '刘总', '{approver,boss}')",
			 &msg));
	EXPECT_NE(std::string::npos, msg.find("unknown role \"boss\"")) << msg;
}

TEST_F(Auth, DisplayNamesAreStoredNormalised)
{
	std::string login = unique_login("mlt_nfd");
	std::string sql = "SELECT ml_user_add('" + login + "', E'Jose\\u0301', '{auditor}')";
	ASSERT_EQ(ML_OK, sql_as("mlt_admin", sql.c_str()));
	std::string v;
	sql = "SELECT display_name = E'Jos\\u00e9' FROM app_user WHERE login = '" + login + "'";
	ASSERT_EQ(ML_OK, sql_as("mlt_admin", sql.c_str(), nullptr, &v));
	EXPECT_EQ("t", v);
}

TEST_F(Auth, DisabledPeopleCannotActAndCanBeEnabledAgain)
{
	std::string login = unique_login("mlt_dis");
	std::string ci_user = pgtest_user(ci(), login.c_str(), "临时工", "warehouse_clerk");
	struct db *admin = pgtest_connect(pgtest_as(ci(), "mlt_admin"));
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, auth_user_disable(admin, login.c_str(), "", &err));
	ASSERT_EQ(ML_OK, auth_user_disable(admin, login.c_str(), "left the company", &err))
		<< err.msg;
	EXPECT_EQ(ML_ESTATE, auth_user_disable(admin, login.c_str(), "again", &err));
	/* the login is switched off */
	struct db *db = nullptr;
	EXPECT_NE(ML_OK, db_connect(ci_user.c_str(), &db, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "not permitted to log in")) << err.msg;
	ASSERT_EQ(ML_OK, auth_user_enable(admin, login.c_str(), &err)) << err.msg;
	db = pgtest_connect(ci_user);
	struct auth_user u;
	EXPECT_EQ(ML_OK, auth_whoami(db, &u, &err)) << err.msg;
	db_close(db);
	/* the log holds both, by the admin */
	std::string v;
	std::string sql = "SELECT string_agg(l.action || ':' || l.by_login, ',' ORDER BY l.log_id) "
			  "FROM app_user_log l JOIN app_user u USING (user_id) WHERE u.login = '" +
			  login + "'";
	ASSERT_EQ(ML_OK, sql_as("mlt_auditor", sql.c_str(), nullptr, &v));
	EXPECT_EQ("add:postgres,disable:mlt_admin,enable:mlt_admin", v);
	db_close(admin);
}

TEST_F(Auth, TheLastAdministratorKeepsTheRole)
{
	std::string fresh = pgtest_fresh_db("authadm");
	struct db *admin = pgtest_connect(pgtest_as(fresh, "mlt_admin"));
	struct ml_error err = ML_ERROR_INIT;
	const char *roles[] = { "auditor" };
	EXPECT_EQ(ML_ESTATE, auth_user_set_roles(admin, "mlt_admin", roles, 1, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "no active administrator")) << err.msg;
	const char *roles2[] = { "admin", "auditor" };
	EXPECT_EQ(ML_OK, auth_user_set_roles(admin, "mlt_admin", roles2, 2, &err)) << err.msg;
	db_close(admin);
}

/*
 * Two administrators taking each other's admin role at the same moment: the
 * second waits for the first (one lock for every change that can remove an
 * administrator, 0360) and is then refused, so one administrator is left.
 * Before 0360 neither waited and both committed: no administrator at all.
 */
TEST_F(Auth, TwoAdministratorsCannotDemoteEachOtherAtOnce)
{
	std::string fresh = pgtest_fresh_db("authadm2");
	pgtest_user(fresh, "mlt_admin2", "第二管理员", "admin");
	struct db *a = pgtest_connect(pgtest_as(fresh, "mlt_admin"));
	struct db *b = pgtest_connect(pgtest_as(fresh, "mlt_admin2"));
	PGresult *res = PQexec(db_conn(a), "BEGIN");
	ASSERT_EQ(PGRES_COMMAND_OK, PQresultStatus(res));
	PQclear(res);
	res = PQexec(db_conn(a), "SELECT ml_user_set_roles('mlt_admin2', '{auditor}')");
	ASSERT_EQ(PGRES_TUPLES_OK, PQresultStatus(res)) << PQerrorMessage(db_conn(a));
	PQclear(res);
	/* b's demotion of a, while a's of b is not committed yet */
	ASSERT_EQ(1, PQsendQuery(db_conn(b), "SELECT ml_user_set_roles('mlt_admin', '{auditor}')"));
	usleep(300 * 1000);
	ASSERT_EQ(1, PQconsumeInput(db_conn(b)));
	EXPECT_EQ(1, PQisBusy(db_conn(b))) << "the second change should wait for the first";
	res = PQexec(db_conn(a), "COMMIT");
	EXPECT_EQ(PGRES_COMMAND_OK, PQresultStatus(res));
	PQclear(res);
	bool refused = false;
	std::string msg;
	while ((res = PQgetResult(db_conn(b))) != nullptr) {
		if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
			refused = true;
			msg = PQresultErrorMessage(res);
		}
		PQclear(res);
	}
	EXPECT_TRUE(refused) << "both demotions went through";
	EXPECT_NE(std::string::npos, msg.find("no active administrator")) << msg;
	db_close(a);
	db_close(b);
	struct db *dba = pgtest_connect(fresh);
	res = PQexec(db_conn(dba),
		     "SELECT string_agg(u.login, ',' ORDER BY u.login) FROM app_user_role r "
		     "JOIN app_user u USING (user_id) WHERE r.role = 'admin' AND u.active");
	ASSERT_EQ(PGRES_TUPLES_OK, PQresultStatus(res));
	EXPECT_STREQ("mlt_admin", PQgetvalue(res, 0, 0));
	PQclear(res);
	db_close(dba);
}

/*
 * No login creates temporary objects (0360): a definer function stages its
 * input in a temporary table of the owner's; a table of the same name made
 * first by the caller, with the caller's trigger on it, would have run that
 * trigger as the owner. The owner's functions still stage their input.
 */
TEST_F(Auth, NoLoginCreatesTemporaryObjects)
{
	const char *const who[] = { "mlt_clerk", "mlt_auditor", "mlt_manager",
				    "mlt_admin", "mlt_tech",    "mlt_field" };
	for (const char *w : who) {
		std::string msg;
		EXPECT_NE(ML_OK,
			  sql_as(w, "CREATE TEMP TABLE putaway_scan (idx int, code text)", &msg))
			<< w << " created a temporary table";
		EXPECT_NE(std::string::npos, msg.find("permission denied")) << w << ": " << msg;
		EXPECT_NE(
			ML_OK,
			sql_as(w,
			       "CREATE FUNCTION pg_temp.evil() RETURNS trigger LANGUAGE plpgsql AS "
			       "'BEGIN RETURN NULL; END'",
			       &msg))
			<< w << " created a temporary function";
	}
	std::string msg;
	EXPECT_NE(ML_OK,
		  sql_as("meterlab_service", "CREATE TEMP TABLE watch_found (k text)", &msg));
	/* the owner's function still makes its own: a refusal per code, no error */
	std::string v;
	EXPECT_EQ(ML_OK,
		  sql_as("mlt_clerk", "SELECT count(*) FROM ml_stock_putaway(ARRAY['NOSLOT', '1'])",
			 &msg, &v))
		<< msg;
	EXPECT_EQ("2", v);
}

TEST_F(Auth, APersonCannotClaimAnotherIdentity)
{
	/* The service's session setting is ignored for a person's login. */
	struct db *db = pgtest_connect(pgtest_as(ci(), "mlt_tech"));
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK,
		  db_cmd(db, "SELECT set_config('meterlab.session', repeat('ab', 32), false)", 0,
			 nullptr, &err));
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK,
		  db_query_one(db, "SELECT login FROM app_user WHERE user_id = ml_actor_id()", 0,
			       nullptr, &res, &err));
	EXPECT_STREQ("mlt_tech", PQgetvalue(res, 0, 0));
	PQclear(res);
	/* SET ROLE does not change the actor either */
	EXPECT_EQ(ML_OK, db_cmd(db, "SET ROLE meterlab_app", 0, nullptr, &err)) << err.msg;
	ASSERT_EQ(ML_OK,
		  db_query_one(db, "SELECT login FROM app_user WHERE user_id = ml_actor_id()", 0,
			       nullptr, &res, &err));
	EXPECT_STREQ("mlt_tech", PQgetvalue(res, 0, 0));
	PQclear(res);
	db_close(db);
	/* Only the service may assume or create sessions. */
	std::string msg;
	EXPECT_EQ(ML_EPERM,
		  sql_as("mlt_tech", "SELECT ml_session_assume(decode(repeat('ab', 32), 'hex'))",
			 &msg));
	EXPECT_EQ(ML_EPERM,
		  sql_as("mlt_admin",
			 "SELECT ml_session_create(1, decode(repeat('ab', 32), 'hex'), 'api', "
			 "'1 day')",
			 &msg));
	/* and nobody reads sessions or password hashes */
	EXPECT_EQ(ML_EPERM, sql_as("mlt_auditor", "SELECT token_hash FROM auth_session", &msg));
	EXPECT_EQ(ML_EPERM, sql_as("mlt_auditor", "SELECT password_hash FROM app_user", &msg));
	EXPECT_EQ(ML_OK, sql_as("mlt_auditor", "SELECT login, display_name FROM app_user", &msg))
		<< msg;
}

/* The service acts for the holder of a live session, in one transaction only. */
TEST_F(Auth, TheServiceActsOnlyForALiveSessionInItsTransaction)
{
	struct db *svc = pgtest_connect(pgtest_as(ci(), "meterlab_service"));
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = nullptr;
	EXPECT_EQ(ML_EPERM, db_query_one(svc, "SELECT ml_actor_id()", 0, nullptr, &res, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "acts for no user")) << err.msg;

	const char *tok_clerk = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *tok_old = "2222222222222222222222222222222222222222222222222222222222222222";
	std::string mk =
		"SELECT ml_session_create((SELECT user_id FROM app_user WHERE login = $1), "
		"decode($2, 'hex'), $3, $4::interval, NULL, $5::text[])";
	const char *p1[5] = { "mlt_clerk", tok_clerk, "browser", "1 hour", nullptr };
	ASSERT_EQ(ML_OK, db_cmd(svc, mk.c_str(), 5, p1, &err)) << err.msg;
	const char *p2[5] = { "mlt_clerk", tok_old, "browser", "-1 second", nullptr };
	ASSERT_EQ(ML_OK, db_cmd(svc, mk.c_str(), 5, p2, &err)) << err.msg;
	const char *assume = "SELECT ml_session_assume(decode($1, 'hex'))";
	const char *who = "SELECT login FROM app_user WHERE user_id = ml_actor_id()";
	ASSERT_EQ(ML_OK, db_begin(svc, &err));
	const char *pa[1] = { tok_clerk };
	ASSERT_EQ(ML_OK, db_cmd(svc, assume, 1, pa, &err)) << err.msg;
	ASSERT_EQ(ML_OK, db_query_one(svc, who, 0, nullptr, &res, &err)) << err.msg;
	EXPECT_STREQ("mlt_clerk", PQgetvalue(res, 0, 0));
	PQclear(res);
	ASSERT_EQ(ML_OK, db_commit(svc, &err));
	/* the next transaction acts for nobody */
	EXPECT_EQ(ML_EPERM, db_query_one(svc, who, 0, nullptr, &res, &err));

	/* an expired session is refused */
	const char *po[1] = { tok_old };
	ASSERT_EQ(ML_OK, db_begin(svc, &err));
	EXPECT_EQ(ML_EPERM, db_cmd(svc, assume, 1, po, &err));
	db_rollback(svc);
	/* setting the GUC by hand to an unknown token acts for nobody */
	ASSERT_EQ(ML_OK, db_begin(svc, &err));
	ASSERT_EQ(ML_OK,
		  db_cmd(svc, "SELECT set_config('meterlab.session', repeat('ab', 32), true)", 0,
			 nullptr, &err));
	EXPECT_EQ(ML_EPERM, db_query_one(svc, who, 0, nullptr, &res, &err));
	db_rollback(svc);

	/* revoked: refused */
	ASSERT_EQ(ML_OK, db_cmd(svc, "SELECT ml_session_revoke(decode($1, 'hex'), 'logout')", 1, pa,
				&err));
	ASSERT_EQ(ML_OK, db_begin(svc, &err));
	EXPECT_EQ(ML_EPERM, db_cmd(svc, assume, 1, pa, &err));
	db_rollback(svc);
	db_close(svc);
}

/*
 * 0340: ml_api_enter proves the session in one statement, and the server
 * sends it with the request's one read in one pipeline as one implicit
 * transaction (db_prologue_arm). Attacked: every kind of dead session, a
 * person's own login, a missing permission, the read skipped when the proof
 * fails, nothing left over for the next transaction, a second statement,
 * and the internal actor function called directly.
 */
TEST_F(Auth, ApiEnterProvesTheSessionForOneImplicitTransactionOnly)
{
	std::string login = unique_login("mlt_ent");
	pgtest_user(ci(), login.c_str(), "入口", "warehouse_clerk");
	struct db *svc = pgtest_connect(pgtest_as(ci(), "meterlab_service"));
	struct ml_error err = ML_ERROR_INIT;
	const char *live = "5151515151515151515151515151515151515151515151515151515151515151";
	const char *expired = "5252525252525252525252525252525252525252525252525252525252525252";
	const char *idle = "5353535353535353535353535353535353535353535353535353535353535353";
	const char *revoked = "5454545454545454545454545454545454545454545454545454545454545454";
	const char *scoped = "5555555555555555555555555555555555555555555555555555555555555555";
	std::string mk =
		"SELECT ml_session_create((SELECT user_id FROM app_user WHERE login = $1), "
		"decode($2, 'hex'), $3, $4::interval, $5::interval, $6::text[])";
	struct {
		const char *tok, *kind, *ttl, *idle, *scope;
	} mkp[] = { { live, "browser", "1 hour", nullptr, nullptr },
		    { expired, "browser", "-1 second", nullptr, nullptr },
		    { idle, "browser", "1 hour", "-1 second", nullptr },
		    { revoked, "api", "1 hour", nullptr, nullptr },
		    { scoped, "api", "1 hour", nullptr, "{warehouse_clerk}" } };
	for (auto &m : mkp) {
		const char *p[6] = { login.c_str(), m.tok, m.kind, m.ttl, m.idle, m.scope };
		ASSERT_EQ(ML_OK, db_cmd(svc, mk.c_str(), 6, p, &err)) << err.msg;
	}
	const char *pr[1] = { revoked };
	ASSERT_EQ(ML_OK,
		  db_cmd(svc, "SELECT ml_session_revoke(decode($1, 'hex'), 'test')", 1, pr, &err));
	PGresult *r = PQprepare(db_conn(svc), "enter",
				"SELECT user_id, login, session_id, kind FROM "
				"ml_api_enter(decode($1, 'hex'), $2)",
				2, nullptr);
	ASSERT_EQ(PGRES_COMMAND_OK, PQresultStatus(r));
	PQclear(r);
	const char *who = "SELECT login FROM app_user WHERE user_id = ml_actor_id()";

	/* The live session: the read runs as the person, in the proof's transaction. */
	const char *pl[2] = { live, "asset.read" };
	db_prologue_arm(svc, "enter", 2, pl);
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, db_exec(svc, who, 0, nullptr, PGRES_TUPLES_OK, &res, &err)) << err.msg;
	EXPECT_EQ(login, PQgetvalue(res, 0, 0));
	PQclear(res);
	const PGresult *ent = nullptr;
	ASSERT_EQ(DB_PRO_OK, db_prologue_settle(svc, &ent, &err));
	EXPECT_EQ(login, PQgetvalue(ent, 0, 1));
	EXPECT_STREQ("browser", PQgetvalue(ent, 0, 3));
	/* a second statement would run outside the proven transaction: refused */
	EXPECT_EQ(ML_EINTERNAL, db_exec(svc, who, 0, nullptr, PGRES_TUPLES_OK, &res, &err));
	EXPECT_EQ(ML_EINTERNAL, db_begin(svc, &err));
	db_prologue_end(svc);
	EXPECT_EQ(PQTRANS_IDLE, PQtransactionStatus(db_conn(svc)));
	/* the implicit transaction ended at the sync: the next one acts for nobody */
	EXPECT_EQ(ML_EPERM, db_query_one(svc, who, 0, nullptr, &res, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "acts for no user")) << err.msg;

	/* Dead sessions: 28000, and the statement after the proof never runs (a
	 * session it would have created does not exist). */
	int n = 0;
	for (const char *dead :
	     { expired, idle, revoked,
	       "5656565656565656565656565656565656565656565656565656565656565656" }) {
		const char *pd[2] = { dead, "asset.read" };
		db_prologue_arm(svc, "enter", 2, pd);
		std::string witness = std::string(62, '9') + std::to_string(10 + n++);
		const char *pw[2] = { login.c_str(), witness.c_str() };
		EXPECT_EQ(ML_EPERM,
			  db_exec(svc,
				  "SELECT ml_session_create((SELECT user_id FROM app_user WHERE "
				  "login = $1), decode($2, 'hex'), 'api', '1 hour')",
				  2, pw, PGRES_TUPLES_OK, nullptr, &err));
		EXPECT_NE(nullptr, strstr(err.msg, "SQLSTATE 28000")) << dead << ": " << err.msg;
		EXPECT_EQ(DB_PRO_FAILED, db_prologue_settle(svc, nullptr, &err));
		db_prologue_end(svc);
		std::string v;
		ASSERT_EQ(ML_OK, sql_as(nullptr,
					("SELECT count(*) FROM auth_session WHERE token_hash = "
					 "decode('" +
					 witness + "', 'hex')")
						.c_str(),
					nullptr, &v));
		EXPECT_EQ("0", v) << dead;
		EXPECT_EQ(PQTRANS_IDLE, PQtransactionStatus(db_conn(svc)));
	}
	/* A permission the person lacks: refused with ml_require's message; a
	 * scoped token holds only its scope. */
	const char *pp[2] = { live, "cert.approve" };
	db_prologue_arm(svc, "enter", 2, pp);
	EXPECT_EQ(ML_EPERM, db_exec(svc, who, 0, nullptr, PGRES_TUPLES_OK, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "needs permission \"cert.approve\"")) << err.msg;
	db_prologue_end(svc);
	const char *ps[2] = { scoped, "asset.receive" };
	db_prologue_arm(svc, "enter", 2, ps);
	ASSERT_EQ(ML_OK, db_exec(svc, "SELECT ml_has('asset.receive'), ml_has('cert.approve')", 0,
				 nullptr, PGRES_TUPLES_OK, &res, &err))
		<< err.msg;
	EXPECT_STREQ("t", PQgetvalue(res, 0, 0));
	EXPECT_STREQ("f", PQgetvalue(res, 0, 1));
	PQclear(res);
	db_prologue_end(svc);
	/* Without a statement the proof runs alone when settled. */
	const char *pn[2] = { expired, "asset.read" };
	db_prologue_arm(svc, "enter", 2, pn);
	EXPECT_EQ(DB_PRO_FAILED, db_prologue_settle(svc, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "SQLSTATE 28000")) << err.msg;
	db_prologue_end(svc);
	/* A disabled person's live session is refused too. */
	std::string dis = "SELECT ml_user_disable('" + login + "', 'test')";
	ASSERT_EQ(ML_OK, sql_as("mlt_admin", dis.c_str()));
	db_prologue_arm(svc, "enter", 2, pl);
	EXPECT_EQ(ML_EPERM, db_exec(svc, who, 0, nullptr, PGRES_TUPLES_OK, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "SQLSTATE 28000")) << err.msg;
	db_prologue_end(svc);
	db_close(svc);

	/* Only the service enters; nobody calls the internal actor function. */
	std::string msg;
	EXPECT_EQ(ML_EPERM,
		  sql_as("mlt_tech",
			 "SELECT * FROM ml_api_enter(decode(repeat('51', 32), 'hex'), NULL)",
			 &msg));
	EXPECT_NE(std::string::npos, msg.find("permission denied for function ml_api_enter"))
		<< msg;
	EXPECT_EQ(ML_EPERM, sql_as("mlt_tech", "SELECT * FROM ml_actor_ctx()", &msg));
	EXPECT_NE(std::string::npos, msg.find("permission denied for function ml_actor_ctx"))
		<< msg;
	EXPECT_EQ(ML_EPERM, sql_as("meterlab_service", "SELECT * FROM ml_actor_ctx()", &msg));
}

TEST_F(Auth, ApiTokenScopeNarrowsRoles)
{
	std::string login = unique_login("mlt_two");
	pgtest_user(ci(), login.c_str(), "双岗", "warehouse_clerk,auditor");
	struct db *svc = pgtest_connect(pgtest_as(ci(), "meterlab_service"));
	struct ml_error err = ML_ERROR_INIT;
	const char *tok = "4444444444444444444444444444444444444444444444444444444444444444";
	const char *p[2] = { login.c_str(), tok };
	ASSERT_EQ(
		ML_OK,
		db_cmd(svc,
		       "SELECT ml_session_create((SELECT user_id FROM app_user WHERE login = $1), "
		       "decode($2, 'hex'), 'api', '1 hour', NULL, '{auditor}')",
		       2, p, &err))
		<< err.msg;
	ASSERT_EQ(ML_OK, db_begin(svc, &err));
	const char *pt[1] = { tok };
	ASSERT_EQ(ML_OK, db_cmd(svc, "SELECT ml_session_assume(decode($1, 'hex'))", 1, pt, &err));
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, db_query_one(svc,
				      "SELECT ml_has('asset.receive'), ml_has('audit.verify'), "
				      "array_to_string(ml_actor_roles(), ',')",
				      0, nullptr, &res, &err));
	EXPECT_STREQ("f", PQgetvalue(res, 0, 0));
	EXPECT_STREQ("t", PQgetvalue(res, 0, 1));
	EXPECT_STREQ("auditor", PQgetvalue(res, 0, 2));
	PQclear(res);
	db_rollback(svc);
	db_close(svc);
}

/* The owner owns everything; definer functions are pinned and not PUBLIC. */
TEST_F(Auth, SchemaObjectsBelongToTheOwnerAndDefinerFunctionsArePinned)
{
	std::string v;
	ASSERT_EQ(ML_OK, sql_as(nullptr,
				"SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
				"c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN "
				"('r','p','v','m','S') AND c.relowner <> 'meterlab_owner'::regrole",
				nullptr, &v));
	EXPECT_EQ("0", v);
	ASSERT_EQ(ML_OK,
		  sql_as(nullptr,
			 "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = "
			 "p.pronamespace WHERE n.nspname = 'public' AND p.prosecdef AND "
			 "(p.proowner <> 'meterlab_owner'::regrole OR NOT coalesce("
			 "(SELECT bool_or(c LIKE 'search_path=%') FROM unnest(p.proconfig) c), "
			 "false) OR has_function_privilege('public', p.oid, 'EXECUTE'))",
			 nullptr, &v));
	EXPECT_EQ("0", v);
	ASSERT_EQ(ML_OK, sql_as(nullptr,
				"SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = "
				"p.pronamespace WHERE n.nspname = 'public' AND p.prosecdef",
				nullptr, &v));
	EXPECT_GE(std::stoi(v), 15);
	/* the application's group and the service cannot log in as the owner */
	ASSERT_EQ(ML_OK, sql_as(nullptr,
				"SELECT pg_has_role('meterlab_app', 'meterlab_owner', 'MEMBER') OR "
				"pg_has_role('meterlab_service', 'meterlab_owner', 'MEMBER')",
				nullptr, &v));
	EXPECT_EQ("f", v);
}

TEST_F(Auth, CliUserCommands)
{
	std::string out;
	std::string cli = pgtest_cli() + " --db " + pgtest_sq(pgtest_as(ci(), "mlt_tech"));
	ASSERT_EQ(0, pgtest_run(cli + " user whoami", &out)) << out;
	EXPECT_EQ("mlt_tech (王检定) — roles: lab_technician\n", out);
	ASSERT_EQ(0, pgtest_run(cli + " --json user whoami", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"display_name\":\"王检定\"")) << out;
	/* a technician may not add people: exit 9, naming the permission */
	EXPECT_EQ(9,
		  pgtest_run(cli + " user add mlt_cli_x --name 某人 --role approver", &out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("user.admin")) << out;

	std::string admin = pgtest_cli() + " --db " + pgtest_sq(pgtest_as(ci(), "mlt_admin"));
	std::string login = unique_login("mlt_cli");
	ASSERT_EQ(0, pgtest_run(admin + " user add " + login +
					" --name 孙新 --role checker,approver --role auditor",
				&out, true))
		<< out;
	ASSERT_EQ(0, pgtest_run(admin + " user list", &out)) << out;
	EXPECT_NE(std::string::npos, out.find(login)) << out;
	EXPECT_NE(std::string::npos, out.find("approver,auditor,checker")) << out;
	/* a zero-width space in a login: invalid input, exit 3, shown plainly */
	EXPECT_EQ(3, pgtest_run(admin + " user add " + pgtest_sq("chief.liu\xE2\x80\x8B") +
					" --name 刘 --role approver",
				&out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("U+200B")) << out;
	EXPECT_EQ(2, pgtest_run(admin + " user add " + login + " extra --name x --role approver",
				&out, true));
	ASSERT_EQ(0, pgtest_run(admin + " user permissions", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("cert.approve")) << out;
	/* the DBA is no user */
	std::string dba = pgtest_cli() + " --db " + pgtest_sq(ci());
	EXPECT_EQ(9, pgtest_run(dba + " user whoami", &out, true)) << out;
}

} // namespace
