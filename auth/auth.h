/*
 * auth.h — people, roles and permissions (issue 8), and the authenticated
 * user of a connection.
 *
 * Identity is never an argument. The database knows who is connected:
 * a person's own PostgreSQL login (the command line), or the
 * meterlab_service login acting for a session it proved with a token
 * (ml_session_assume, the server). Every function of the database that
 * writes truth calls ml_require(permission) and records the user it
 * returns. This library only manages people and reads who is connected;
 * the rules live in sql/migrations/0100_identity.sql.
 *
 * Roles (app_role): lab_technician 检定员, checker 核验员, approver 批准人,
 * warehouse_clerk 库管员, field_member 装接人员, quality_analyst 质量分析员,
 * manager 管理人员, auditor 审计员, admin 系统管理员. `meterlab user
 * permissions` prints the role → permission table.
 *
 * Thread-safety: one struct db per thread.
 */
#ifndef ML_AUTH_H
#define ML_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AUTH_LOGIN_MAX 32        /* characters (ASCII) */
#define AUTH_DISPLAY_NAME_MAX 64 /* characters */

struct auth_user {
	int64_t user_id;
	char login[AUTH_LOGIN_MAX + 1];
	char display_name[AUTH_DISPLAY_NAME_MAX * 4 + 1]; /* UTF-8 */
	char team[65]; /* field team location code, "" when none */
	int active;
	char roles[512]; /* comma-separated role codes in effect, sorted */
};

/*
 * The user this connection acts for. ML_EPERM when the login is not a
 * meterlab user or the user is disabled (the message says which and how
 * to fix it).
 */
int auth_whoami(struct db *db, struct auth_user *out, struct ml_error *err) ML_MUSTCHECK;

/* 1 when the connected user holds permission perm (e.g. "cert.approve"), 0 when not, <0 on error. */
int auth_has(struct db *db, const char *perm, struct ml_error *err);

/*
 * Check a login as meterlab accepts it: 2–32 characters of lower-case ASCII
 * letters, digits, '.', '_' and '-', starting with a letter — so a name with
 * a zero-width space, Cyrillic or fullwidth letters is refused rather than
 * becoming a second person. ML_EINVAL names the value and the rule.
 */
int auth_login_check(const char *login, struct ml_error *err) ML_MUSTCHECK;

/*
 * Add a person with roles (role codes, at least one) and an optional field
 * team (location code of kind field_team; NULL for none). Creates the
 * person's PostgreSQL login when missing. Needs permission user.admin, or a
 * DBA connection (member of meterlab_owner) to bootstrap the first admin.
 * *user_id (optional) receives the new id.
 */
int auth_user_add(struct db *db, const char *login, const char *display_name,
		  const char *const *roles, size_t nroles, const char *team, int64_t *user_id,
		  struct ml_error *err) ML_MUSTCHECK;

/* Replace the person's roles (user.admin). The last active admin keeps the admin role. */
int auth_user_set_roles(struct db *db, const char *login, const char *const *roles, size_t nroles,
			struct ml_error *err) ML_MUSTCHECK;
/* Set or clear (team NULL) the person's field team (user.admin). */
int auth_user_set_team(struct db *db, const char *login, const char *team,
		       struct ml_error *err) ML_MUSTCHECK;
/* Change the display name printed on certificates (user.admin). */
int auth_user_set_name(struct db *db, const char *login, const char *display_name,
		       struct ml_error *err) ML_MUSTCHECK;
/* Disable (a reason is required): the person can no longer act, sessions end, login off. */
int auth_user_disable(struct db *db, const char *login, const char *reason,
		      struct ml_error *err) ML_MUSTCHECK;
int auth_user_enable(struct db *db, const char *login, struct ml_error *err) ML_MUSTCHECK;

/*
 * People with their roles and team, ordered by login: columns login,
 * display_name, roles, team, active, created_at. *out is the caller's
 * (PQclear).
 */
int auth_user_list(struct db *db, PGresult **out, struct ml_error *err) ML_MUSTCHECK;
/* The role → permission table: columns role, name_zh, permissions. *out is the caller's. */
int auth_permission_list(struct db *db, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
