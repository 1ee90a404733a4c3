/*
 * user.c — people and roles through the database's functions
 * (0100_identity.sql): the library checks the input early for a precise
 * message, the functions check the permission and write the log.
 */
#include "auth/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "sql/pgarr.h"

int auth_login_check(const char *login, struct ml_error *err)
{
	size_t n = login ? strlen(login) : 0;
	int ok = n >= 2 && n <= AUTH_LOGIN_MAX && login[0] >= 'a' && login[0] <= 'z';
	for (size_t i = 0; ok && i < n; i++) {
		char c = login[i];
		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		     c == '-';
	}
	if (ok && strncmp(login, "pg_", 3) && strncmp(login, "meterlab", 8))
		return ML_OK;
	struct ml_error tmp = ML_ERROR_INIT;
	/* Show invisible or non-ASCII characters plainly: they are the usual trap. */
	if (login && ml_text_check(login, 64, 0, "login", &tmp))
		return ml_errorf(err, ML_EINVAL, "%s; a login is lower-case ASCII only", tmp.msg);
	return ml_errorf(err, ML_EINVAL,
			 "login '%s' is not valid: 2–%d characters of lower-case ASCII letters, "
			 "digits, '.', '_' and '-', starting with a letter (not pg_… or meterlab…)",
			 login ? login : "", AUTH_LOGIN_MAX);
}

static int check_name(const char *name, struct ml_error *err)
{
	return ml_text_check(name, AUTH_DISPLAY_NAME_MAX, 0, "display name", err);
}

/* Roles as one array-literal parameter; NULL on allocation failure. */
static const char *roles_param(struct pgarr *a, const char *const *roles, size_t n)
{
	pgarr_init(a);
	for (size_t i = 0; i < n; i++)
		pgarr_add(a, roles[i]);
	return pgarr_finish(a);
}

int auth_whoami(struct db *db, struct auth_user *out, struct ml_error *err)
{
	memset(out, 0, sizeof(*out));
	PGresult *res = NULL;
	int rc = db_query_one(
		db,
		"SELECT u.user_id, u.login, u.display_name, coalesce(l.code, '') AS team, "
		"u.active, array_to_string(ml_actor_roles(), ',') AS roles "
		"FROM app_user u LEFT JOIN location l ON l.location_id = u.team_location_id "
		"WHERE u.user_id = ml_actor_id()",
		0, NULL, &res, err);
	if (rc)
		return rc;
	out->user_id = strtoll(db_get(res, 0, "user_id"), NULL, 10);
	snprintf(out->login, sizeof(out->login), "%s", db_get(res, 0, "login"));
	snprintf(out->display_name, sizeof(out->display_name), "%s",
		 db_get(res, 0, "display_name"));
	snprintf(out->team, sizeof(out->team), "%s", db_get(res, 0, "team"));
	out->active = db_get(res, 0, "active")[0] == 't';
	snprintf(out->roles, sizeof(out->roles), "%s", db_get(res, 0, "roles"));
	PQclear(res);
	return ML_OK;
}

int auth_has(struct db *db, const char *perm, struct ml_error *err)
{
	PGresult *res = NULL;
	const char *p[1] = { perm };
	int rc = db_query_one(db, "SELECT ml_has($1)", 1, p, &res, err);
	if (rc)
		return -rc;
	int yes = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return yes;
}

int auth_user_add(struct db *db, const char *login, const char *display_name,
		  const char *const *roles, size_t nroles, const char *team, int64_t *user_id,
		  struct ml_error *err)
{
	int rc = auth_login_check(login, err);
	if (!rc)
		rc = check_name(display_name, err);
	if (!rc && !nroles)
		rc = ml_errorf(err, ML_EINVAL, "user %s needs at least one role", login);
	if (rc)
		return rc;
	struct pgarr a;
	const char *p[4] = { login, display_name, roles_param(&a, roles, nroles), team };
	PGresult *res = NULL;
	if (!p[2])
		rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	else
		rc = db_query_one(db, "SELECT ml_user_add($1, $2, $3::text[], $4)", 4, p, &res,
				  err);
	if (!rc && user_id)
		*user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	pgarr_free(&a);
	return rc;
}

int auth_user_set_roles(struct db *db, const char *login, const char *const *roles, size_t nroles,
			struct ml_error *err)
{
	if (!nroles)
		return ml_errorf(err, ML_EINVAL, "user %s needs at least one role", login);
	struct pgarr a;
	const char *p[2] = { login, roles_param(&a, roles, nroles) };
	int rc = p[1] ? db_cmd(db, "SELECT ml_user_set_roles($1, $2::text[])", 2, p, err)
		      : ml_errorf(err, ML_ENOMEM, "out of memory");
	pgarr_free(&a);
	return rc;
}

int auth_user_set_team(struct db *db, const char *login, const char *team, struct ml_error *err)
{
	const char *p[2] = { login, team };
	return db_cmd(db, "SELECT ml_user_set_team($1, $2)", 2, p, err);
}

int auth_user_set_name(struct db *db, const char *login, const char *display_name,
		       struct ml_error *err)
{
	int rc = check_name(display_name, err);
	const char *p[2] = { login, display_name };
	return rc ? rc : db_cmd(db, "SELECT ml_user_set_name($1, $2)", 2, p, err);
}

int auth_user_disable(struct db *db, const char *login, const char *reason, struct ml_error *err)
{
	int rc = ml_text_check(reason, 500, ML_TEXT_MULTILINE, "reason", err);
	const char *p[2] = { login, reason };
	return rc ? rc : db_cmd(db, "SELECT ml_user_disable($1, $2)", 2, p, err);
}

int auth_user_enable(struct db *db, const char *login, struct ml_error *err)
{
	const char *p[1] = { login };
	return db_cmd(db, "SELECT ml_user_enable($1)", 1, p, err);
}

int auth_user_list(struct db *db, PGresult **out, struct ml_error *err)
{
	return db_exec(db,
		       "SELECT u.login, u.display_name, "
		       "coalesce((SELECT string_agg(role, ',' ORDER BY role) FROM app_user_role r "
		       "WHERE r.user_id = u.user_id), '') AS roles, coalesce(l.code, '') AS team, "
		       "u.active, to_char(u.created_at, 'YYYY-MM-DD HH24:MI') AS created_at "
		       "FROM app_user u LEFT JOIN location l ON l.location_id = u.team_location_id "
		       "ORDER BY u.login",
		       0, NULL, PGRES_TUPLES_OK, out, err);
}

int auth_permission_list(struct db *db, PGresult **out, struct ml_error *err)
{
	return db_exec(
		db,
		"SELECT r.role, r.name_zh, coalesce(string_agg(p.perm, ',' ORDER BY p.perm), '') "
		"AS permissions FROM app_role r "
		"LEFT JOIN app_role_permission p ON p.role = r.role "
		"GROUP BY r.role, r.name_zh ORDER BY r.role",
		0, NULL, PGRES_TUPLES_OK, out, err);
}
