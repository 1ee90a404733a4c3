/*
 * meterlab user … — people, roles and permissions (auth/auth.h). Who runs
 * a command is the database login it connects with (--db / METERLAB_DB /
 * PGUSER), never an option; `user whoami` shows it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "common/json.h"

#define MAX_ROLES 16
#define MAX_POS 4

/* Options every user subcommand may take; each subcommand says which it needs. */
struct user_args {
	const char *pos[MAX_POS];
	int npos;
	const char *name, *team, *reason, *none;
	const char *roles[MAX_ROLES];
	int nroles;
	char rolebuf[1024]; /* --role values split at commas */
};

/* Help, then parse; *db is opened unless help was printed. Returns an exit code. */
static int user_start(struct cli_ctx *ctx, int argc, char **argv, const char *help, int npos,
		      struct user_args *a, struct db **db)
{
	*db = NULL;
	memset(a, 0, sizeof(*a));
	if (cli_help(argc, argv, help))
		return CLI_OK;
	const struct cli_opt opts[] = {
		CLI_OPT("name", &a->name),
		CLI_OPT("team", &a->team),
		CLI_OPT("reason", &a->reason),
		CLI_FLAG("none", &a->none),
		CLI_LIST("role", a->roles, &a->nroles, MAX_ROLES),
		CLI_OPT_END,
	};
	int rc = cli_parse_opts(argc, argv, opts, a->pos, MAX_POS, &a->npos);
	if (rc)
		return rc;
	if (a->npos != npos) {
		int l = (int)strcspn(help, "\n");
		return cli_usage("expected: %.*s", l, help);
	}
	return cli_db(ctx, db);
}

/* Roles may also be given comma-separated: --role checker,approver. */
static int split_roles(struct user_args *a)
{
	char *buf = a->rolebuf;
	const size_t cap = sizeof(a->rolebuf);
	const char *out[MAX_ROLES];
	size_t used = 0;
	int n = 0;
	for (int i = 0; i < a->nroles; i++) {
		size_t l = strlen(a->roles[i]);
		if (used + l + 1 > cap)
			return cli_usage("too many roles");
		memcpy(buf + used, a->roles[i], l + 1);
		for (char *tok = buf + used, *end; tok; tok = end) {
			end = strchr(tok, ',');
			if (end)
				*end++ = '\0';
			if (!*tok)
				continue;
			if (n == MAX_ROLES)
				return cli_usage("too many roles (at most %d)", MAX_ROLES);
			out[n++] = tok;
		}
		used += l + 1;
	}
	memcpy(a->roles, out, sizeof(out[0]) * (size_t)n);
	a->nroles = n;
	return CLI_OK;
}

static int done(struct cli_ctx *ctx, const char *login, const char *what)
{
	struct ml_buf b = ML_BUF_INIT;
	int rc = ctx->json ? ml_buf_puts(&b, "{") || ml_json_kv_str(&b, 1, "login", login) ||
				     ml_json_kv_str(&b, 0, "done", what) || ml_buf_puts(&b, "}")
			   : ml_buf_printf(&b, "user %s: %s", login, what);
	return cli_finish(&b, rc, 1);
}

static int user_whoami(struct cli_ctx *ctx, int argc, char **argv)
{
	struct db *db;
	int rc = cli_start_noargs(
		ctx, argc, argv,
		"usage: meterlab user whoami [--json]\n\n"
		"Show the meterlab user this connection acts for (from the database "
		"login) and the roles in effect.",
		&db);
	if (rc || !db)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct auth_user u;
	if (auth_whoami(db, &u, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json)
		rc = ml_buf_puts(&b, "{") || ml_json_kv_int(&b, 1, "user_id", u.user_id) ||
		     ml_json_kv_str(&b, 0, "login", u.login) ||
		     ml_json_kv_str(&b, 0, "display_name", u.display_name) ||
		     ml_json_kv_str(&b, 0, "team", u.team[0] ? u.team : NULL) ||
		     ml_json_kv_str(&b, 0, "roles", u.roles) || ml_buf_puts(&b, "}");
	else
		rc = ml_buf_printf(&b, "%s (%s) — roles: %s%s%s", u.login, u.display_name,
				   u.roles[0] ? u.roles : "none", u.team[0] ? " — team " : "",
				   u.team);
	return cli_finish(&b, rc, 1);
}

static int user_add(struct cli_ctx *ctx, int argc, char **argv)
{
	struct user_args a;
	struct db *db;
	int rc = user_start(
		ctx, argc, argv,
		"usage: meterlab user add LOGIN --name DISPLAY_NAME --role ROLE [--role ROLE…] "
		"[--team TEAM]\n\n"
		"Add a person. LOGIN is lower-case ASCII (letters, digits, . _ -) and is also the\n"
		"person's PostgreSQL login, created when missing. DISPLAY_NAME is the real name\n"
		"printed on certificates (e.g. 王建国). Roles: lab_technician, checker, approver,\n"
		"warehouse_clerk, field_member, quality_analyst, manager, auditor, admin (also\n"
		"comma-separated). --team names the field_team location of a field member.\n"
		"Needs the admin role, or a DBA connection to add the first administrator.",
		1, &a, &db);
	if (rc || !db)
		return rc;
	if ((rc = split_roles(&a)))
		return rc;
	if (!a.name || !a.nroles)
		return cli_usage("user add needs --name and at least one --role");
	struct ml_error err = ML_ERROR_INIT;
	int64_t id = 0;
	if (auth_user_add(db, a.pos[0], a.name, a.roles, (size_t)a.nroles, a.team, &id, &err))
		return cli_fail(&err);
	return done(ctx, a.pos[0], "added");
}

static int user_roles(struct cli_ctx *ctx, int argc, char **argv)
{
	struct user_args a;
	struct db *db;
	int rc = user_start(ctx, argc, argv,
			    "usage: meterlab user roles LOGIN --role ROLE [--role ROLE…]\n\n"
			    "Replace the person's roles (admin role needed). The last active "
			    "administrator keeps the admin role.",
			    1, &a, &db);
	if (rc || !db)
		return rc;
	if ((rc = split_roles(&a)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	if (auth_user_set_roles(db, a.pos[0], a.roles, (size_t)a.nroles, &err))
		return cli_fail(&err);
	return done(ctx, a.pos[0], "roles set");
}

static int user_team(struct cli_ctx *ctx, int argc, char **argv)
{
	struct user_args a;
	struct db *db;
	int rc = user_start(ctx, argc, argv,
			    "usage: meterlab user team LOGIN (--team TEAM | --none)\n\n"
			    "Set the field team (a field_team location) of a person, or clear it.",
			    1, &a, &db);
	if (rc || !db)
		return rc;
	if (!a.team == !a.none)
		return cli_usage("user team needs exactly one of --team TEAM and --none");
	struct ml_error err = ML_ERROR_INIT;
	if (auth_user_set_team(db, a.pos[0], a.team, &err))
		return cli_fail(&err);
	return done(ctx, a.pos[0], a.team ? "team set" : "team cleared");
}

static int user_rename(struct cli_ctx *ctx, int argc, char **argv)
{
	struct user_args a;
	struct db *db;
	int rc = user_start(ctx, argc, argv,
			    "usage: meterlab user rename LOGIN --name DISPLAY_NAME\n\n"
			    "Change the display name printed on certificates issued from now on.",
			    1, &a, &db);
	if (rc || !db)
		return rc;
	if (!a.name)
		return cli_usage("user rename needs --name");
	struct ml_error err = ML_ERROR_INIT;
	if (auth_user_set_name(db, a.pos[0], a.name, &err))
		return cli_fail(&err);
	return done(ctx, a.pos[0], "renamed");
}

static int user_disable(struct cli_ctx *ctx, int argc, char **argv)
{
	struct user_args a;
	struct db *db;
	int rc = user_start(
		ctx, argc, argv,
		"usage: meterlab user disable LOGIN --reason TEXT\n\n"
		"Disable a person: they can no longer act, their sessions end and their "
		"database login is switched off. History keeps their name.",
		1, &a, &db);
	if (rc || !db)
		return rc;
	if (!a.reason)
		return cli_usage("user disable needs --reason");
	struct ml_error err = ML_ERROR_INIT;
	if (auth_user_disable(db, a.pos[0], a.reason, &err))
		return cli_fail(&err);
	return done(ctx, a.pos[0], "disabled");
}

static int user_enable(struct cli_ctx *ctx, int argc, char **argv)
{
	struct user_args a;
	struct db *db;
	int rc = user_start(ctx, argc, argv,
			    "usage: meterlab user enable LOGIN\n\nEnable a disabled person again.",
			    1, &a, &db);
	if (rc || !db)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	if (auth_user_enable(db, a.pos[0], &err))
		return cli_fail(&err);
	return done(ctx, a.pos[0], "enabled");
}

static int user_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct db *db;
	int rc = cli_start_noargs(ctx, argc, argv,
				  "usage: meterlab user list [--json]\n\n"
				  "Every person with roles, team and whether active.",
				  &db);
	if (rc || !db)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = NULL;
	if (auth_user_list(db, &res, &err))
		return cli_fail(&err);
	return cli_print_result(ctx, res);
}

static int user_permissions(struct cli_ctx *ctx, int argc, char **argv)
{
	struct db *db;
	int rc = cli_start_noargs(ctx, argc, argv,
				  "usage: meterlab user permissions [--json]\n\n"
				  "The role → permission table (app_role_permission).",
				  &db);
	if (rc || !db)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = NULL;
	if (auth_permission_list(db, &res, &err))
		return cli_fail(&err);
	return cli_print_result(ctx, res);
}

static const struct cli_cmd user_cmds[] = {
	{ "whoami", user_whoami, "who this connection acts for, and the roles in effect" },
	{ "add", user_add, "add a person with roles (and their database login)" },
	{ "roles", user_roles, "replace a person's roles" },
	{ "team", user_team, "set or clear a person's field team" },
	{ "rename", user_rename, "change the display name printed on certificates" },
	{ "disable", user_disable, "disable a person (with a reason)" },
	{ "enable", user_enable, "enable a disabled person" },
	{ "list", user_list, "every person with roles and team" },
	{ "permissions", user_permissions, "the role → permission table" },
	{ NULL, NULL, NULL },
};

int cmd_user(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "user",
			    "People, roles and permissions. Who runs a command is the database "
			    "login it connects with.",
			    user_cmds, argc, argv);
}
