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

/* Options of the user subcommands; each row's table says which it takes. */
struct user_args {
	const char *name, *team, *reason, *none;
	const char *roles[MAX_ROLES];
	int nroles;
	char rolebuf[1024]; /* --role values split at commas */
};

/* Roles may also be given comma-separated: --role checker,approver. */
static int split_roles(struct cli_call *c)
{
	struct user_args *a = c->args;
	char *buf = a->rolebuf;
	const size_t cap = sizeof(a->rolebuf);
	const char *out[MAX_ROLES];
	size_t used = 0;
	int n = 0;
	for (int i = 0; i < a->nroles; i++) {
		size_t l = strlen(a->roles[i]);
		if (used + l + 1 > cap)
			return cli_call_usage(c, "too many roles");
		memcpy(buf + used, a->roles[i], l + 1);
		for (char *tok = buf + used, *end; tok; tok = end) {
			end = strchr(tok, ',');
			if (end)
				*end++ = '\0';
			if (!*tok)
				continue;
			if (n == MAX_ROLES)
				return cli_call_usage(c, "too many roles (at most %d)", MAX_ROLES);
			out[n++] = tok;
		}
		used += l + 1;
	}
	memcpy(a->roles, out, sizeof(out[0]) * (size_t)n);
	a->nroles = n;
	return ML_OK;
}

static int done(struct cli_ctx *ctx, struct cli_call *c, const char *what)
{
	const char *login = c->pos[0];
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json) {
		ml_buf_puts(&b, "{");
		ml_json_kv_str(&b, 1, "login", login);
		ml_json_kv_str(&b, 0, "done", what);
		ml_buf_puts(&b, "}");
	} else {
		ml_buf_printf(&b, "user %s: %s", login, what);
	}
	int rc = cli_emit(c, &b, 1);
	ml_buf_free(&b);
	return rc;
}

static int user_whoami(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	struct auth_user u;
	int rc = auth_whoami(c->db, &u, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_puts(&b, "{");
		ml_json_kv_int(&b, 1, "user_id", u.user_id);
		ml_json_kv_str(&b, 0, "login", u.login);
		ml_json_kv_str(&b, 0, "display_name", u.display_name);
		ml_json_kv_str(&b, 0, "team", u.team[0] ? u.team : NULL);
		ml_json_kv_str(&b, 0, "roles", u.roles);
		ml_buf_puts(&b, "}");
	} else {
		ml_buf_printf(&b, "%s (%s) — roles: %s%s%s", u.login, u.display_name,
			      u.roles[0] ? u.roles : "none", u.team[0] ? " — team " : "", u.team);
	}
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

static int check_roles(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	return split_roles(c);
}

static int user_add(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct user_args *a = c->args;
	int64_t id = 0;
	int rc = auth_user_add(c->db, c->pos[0], a->name, a->roles, (size_t)a->nroles, a->team, &id,
			       &c->err);
	if (rc)
		return rc;
	return done(ctx, c, "added");
}

static int user_roles(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct user_args *a = c->args;
	int rc = auth_user_set_roles(c->db, c->pos[0], a->roles, (size_t)a->nroles, &c->err);
	if (rc)
		return rc;
	return done(ctx, c, "roles set");
}

static int check_team(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct user_args *a = c->args;
	(void)ctx;
	if (!a->team == !a->none)
		return cli_call_usage(c, "user team needs exactly one of --team TEAM and --none");
	return ML_OK;
}

static int user_team(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct user_args *a = c->args;
	int rc = auth_user_set_team(c->db, c->pos[0], a->team, &c->err);
	if (rc)
		return rc;
	return done(ctx, c, a->team ? "team set" : "team cleared");
}

static int user_rename(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct user_args *a = c->args;
	int rc = auth_user_set_name(c->db, c->pos[0], a->name, &c->err);
	if (rc)
		return rc;
	return done(ctx, c, "renamed");
}

static int user_disable(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct user_args *a = c->args;
	int rc = auth_user_disable(c->db, c->pos[0], a->reason, &c->err);
	if (rc)
		return rc;
	return done(ctx, c, "disabled");
}

static int user_enable(struct cli_ctx *ctx, struct cli_call *c)
{
	int rc = auth_user_enable(c->db, c->pos[0], &c->err);
	if (rc)
		return rc;
	return done(ctx, c, "enabled");
}

static int user_list(struct cli_ctx *ctx, struct cli_call *c)
{
	PGresult *res = NULL;
	int rc = auth_user_list(c->db, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int user_permissions(struct cli_ctx *ctx, struct cli_call *c)
{
	PGresult *res = NULL;
	int rc = auth_permission_list(c->db, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static const struct cli_opt add_opts[] = {
	CLI_REQ("name", struct user_args, name),
	CLI_LIST("role", struct user_args, roles, nroles),
	CLI_OPT("team", struct user_args, team),
	CLI_OPT_END,
};
static const struct cli_opt roles_opts[] = {
	CLI_LIST("role", struct user_args, roles, nroles),
	CLI_OPT_END,
};
static const struct cli_opt team_opts[] = {
	CLI_OPT("team", struct user_args, team),
	CLI_FLAG("none", struct user_args, none),
	CLI_OPT_END,
};
static const struct cli_opt rename_opts[] = {
	CLI_REQ("name", struct user_args, name),
	CLI_OPT_END,
};
static const struct cli_opt disable_opts[] = {
	CLI_REQ("reason", struct user_args, reason),
	CLI_OPT_END,
};

static int check_add(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct user_args *a = c->args;
	int rc = check_roles(ctx, c);
	if (rc)
		return rc;
	if (!a->nroles)
		return cli_call_usage(c, "user add needs --name and at least one --role");
	return ML_OK;
}

static const struct cli_cmd user_cmds[] = {
	{ .name = "whoami",
	  .run = user_whoami,
	  .flags = CLI_NEED_DB,
	  .summary = "who this connection acts for, and the roles in effect",
	  .help = "usage: meterlab user whoami [--json]\n\n"
		  "Show the meterlab user this connection acts for (from the database login) and "
		  "the roles in effect." },
	{ .name = "add",
	  .check = check_add,
	  .run = user_add,
	  CLI_ARGS(struct user_args, add_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "user add needs LOGIN, --name and at least one --role",
	  .flags = CLI_NEED_DB,
	  .summary = "add a person with roles (and their database login)",
	  .help = "usage: meterlab user add LOGIN --name DISPLAY_NAME --role ROLE [--role ROLE…] "
		  "[--team TEAM]\n\n"
		  "Add a person. LOGIN is lower-case ASCII (letters, digits, . _ -) and is also the\n"
		  "person's PostgreSQL login, created when missing. DISPLAY_NAME is the real name\n"
		  "printed on certificates (e.g. 王建国). Roles: lab_technician, checker, approver,\n"
		  "warehouse_clerk, field_member, quality_analyst, manager, auditor, admin (also\n"
		  "comma-separated). --team names the field_team location of a field member.\n"
		  "Needs the admin role, or a DBA connection to add the first administrator." },
	{ .name = "roles",
	  .check = check_roles,
	  .run = user_roles,
	  CLI_ARGS(struct user_args, roles_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "expected: usage: meterlab user roles LOGIN --role ROLE [--role ROLE…]",
	  .flags = CLI_NEED_DB,
	  .summary = "replace a person's roles",
	  .help = "usage: meterlab user roles LOGIN --role ROLE [--role ROLE…]\n\n"
		  "Replace the person's roles (admin role needed). The last active administrator "
		  "keeps the admin role." },
	{ .name = "team",
	  .check = check_team,
	  .run = user_team,
	  CLI_ARGS(struct user_args, team_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "expected: usage: meterlab user team LOGIN (--team TEAM | --none)",
	  .flags = CLI_NEED_DB,
	  .summary = "set or clear a person's field team",
	  .help = "usage: meterlab user team LOGIN (--team TEAM | --none)\n\n"
		  "Set the field team (a field_team location) of a person, or clear it." },
	{ .name = "rename",
	  .run = user_rename,
	  CLI_ARGS(struct user_args, rename_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "user rename needs LOGIN and --name",
	  .flags = CLI_NEED_DB,
	  .summary = "change the display name printed on certificates",
	  .help = "usage: meterlab user rename LOGIN --name DISPLAY_NAME\n\n"
		  "Change the display name printed on certificates issued from now on." },
	{ .name = "disable",
	  .run = user_disable,
	  CLI_ARGS(struct user_args, disable_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "user disable needs LOGIN and --reason",
	  .flags = CLI_NEED_DB,
	  .summary = "disable a person (with a reason)",
	  .help = "usage: meterlab user disable LOGIN --reason TEXT\n\n"
		  "Disable a person: they can no longer act, their sessions end and their database "
		  "login is switched off. History keeps their name." },
	{ .name = "enable",
	  .run = user_enable,
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "expected: usage: meterlab user enable LOGIN",
	  .flags = CLI_NEED_DB,
	  .summary = "enable a disabled person",
	  .help = "usage: meterlab user enable LOGIN\n\nEnable a disabled person again." },
	{ .name = "list",
	  .run = user_list,
	  .flags = CLI_NEED_DB,
	  .summary = "every person with roles and team",
	  .help = "usage: meterlab user list [--json]\n\n"
		  "Every person with roles, team and whether active." },
	{ .name = "permissions",
	  .run = user_permissions,
	  .flags = CLI_NEED_DB,
	  .summary = "the role → permission table",
	  .help = "usage: meterlab user permissions [--json]\n\n"
		  "The role → permission table (app_role_permission)." },
	{ .name = "password",
	  .impl = &cmd_user_password,
	  .summary = "set your password for the server (or a person's, as an administrator)" },
	{ .name = "token", .impl = &cmd_user_token, .summary = "API tokens: create, list, revoke" },
	{ .name = NULL },
};

const struct cli_cmd cmd_user = {
	.name = "user",
	.help = "People, roles and permissions. Who runs a command is the database login it "
		"connects with.",
	.sub = user_cmds,
};
