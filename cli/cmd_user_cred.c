/*
 * meterlab user password|token … — the credentials of the server's users
 * (auth/credential.h). The password is hashed here (Argon2id) and only the
 * hash goes to the database; an API token is generated here, shown once,
 * and only its hash is stored. Who runs the command is the database login,
 * as for every user subcommand.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/credential.h"
#include "cli/cli.h"
#include "common/json.h"

#define MAX_ROLES 16
#define PW_MAX 1100 /* bytes read for a password (the rule: at most 128 characters) */

/*
 * One line from stdin without its newline; echo off when stdin is a
 * terminal. 0, -1 at end of input, -2 when the line is longer than len.
 */
static int read_secret(const char *prompt, char *out, size_t len)
{
	int tty = isatty(STDIN_FILENO);
	struct termios old, noecho;
	if (tty) {
		fputs(prompt, stderr);
		tcgetattr(STDIN_FILENO, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	}
	char *r = fgets(out, (int)len, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputs("\n", stderr);
	}
	if (!r)
		return -1;
	size_t n = strlen(out);
	if (n && out[n - 1] != '\n' && !feof(stdin))
		return -2;
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return 0;
}

static int password_run(struct cli_ctx *ctx, struct cli_call *c)
{
	char pw[PW_MAX], again[PW_MAX];
	struct ml_buf b = ML_BUF_INIT;
	int ended = 0;
	int rc = auth_crypto_init(&c->err);
	if (rc)
		goto out;
	int r = read_secret("new password: ", pw, sizeof(pw));
	if (r == -2) {
		rc = cli_call_usage(c, "the password is longer than %d bytes", PW_MAX - 2);
		goto out;
	}
	if (r) {
		rc = cli_call_usage(c, "no password given on standard input");
		goto out;
	}
	if (isatty(STDIN_FILENO) &&
	    (read_secret("again: ", again, sizeof(again)) || strcmp(pw, again))) {
		rc = cli_call_usage(c, "the two passwords differ");
		goto out;
	}
	if (c->npos) {
		rc = auth_user_set_password(c->db, c->pos[0], pw, auth_pwcost_default(), &ended,
					    &c->err);
	} else {
		struct auth_user u;
		rc = auth_whoami(c->db, &u, &c->err);
		if (!rc)
			rc = auth_password_change(c->db, u.login, pw, auth_pwcost_default(), &ended,
						  &c->err);
	}
	if (rc)
		goto out;
	if (ctx->json)
		ml_buf_printf(&b, "{\"password\":\"set\",\"sessions_ended\":%d}", ended);
	else
		ml_buf_printf(&b, "password set; %d session(s) and API token(s) ended", ended);
	rc = cli_emit(c, &b, 1);
out:
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(again, sizeof(again));
	ml_buf_free(&b);
	return rc;
}

const struct cli_cmd cmd_user_password = {
	.name = "password",
	.run = password_run,
	.max_pos = 1,
	.flags = CLI_NEED_DB,
	.help = "usage: meterlab user password [LOGIN]\n\n"
		"Set a password for logging in to the server (meterlab serve).\n"
		"Without LOGIN: change your own; every other session and API token of yours ends.\n"
		"With LOGIN: an administrator sets or resets that person's password; every\n"
		"session and API token of theirs ends. The password is read from the terminal\n"
		"twice (not echoed), or as one line from standard input. Rules: 10-128\n"
		"characters, no control characters, not the login. Only an Argon2id hash of it\n"
		"reaches the database.",
};

struct token_args {
	const char *label, *days, *reason;
	const char *roles[MAX_ROLES];
	int nroles;
	long long ndays;
	int64_t id;
};

static int create_check(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	struct token_args *a = c->args;
	a->ndays = 90;
	if (!a->nroles)
		return cli_call_usage(c, "user token create needs at least one --role");
	return cli_parse_ll(c, "--days", a->days, 1, 366, &a->ndays);
}

static int create_run(struct cli_ctx *ctx, struct cli_call *c)
{
	struct token_args *a = c->args;
	char token[AUTH_TOKEN_TEXT_LEN + 1] = "";
	int64_t id = 0;
	struct ml_buf b = ML_BUF_INIT;
	int rc = auth_crypto_init(&c->err);
	if (rc)
		goto out;
	rc = auth_api_token_create(c->db, a->label, a->roles, (size_t)a->nroles, a->ndays * 86400,
				   token, &id, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_puts(&b, "{");
		ml_json_kv_int(&b, 1, "token_id", id);
		ml_json_kv_str(&b, 0, "token", token);
		ml_json_kv_int(&b, 0, "days", a->ndays);
		ml_buf_puts(&b, "}");
	} else {
		ml_buf_printf(&b,
			      "%s\n(API token %" PRId64
			      ", valid %lld days; shown only now: keep it "
			      "secret; revoke with 'meterlab user token revoke %" PRId64 "')",
			      token, id, a->ndays, id);
	}
	rc = cli_emit(c, &b, 1);
out:
	sodium_memzero(token, sizeof(token));
	ml_buf_free(&b);
	return rc;
}

static int list_run(struct cli_ctx *ctx, struct cli_call *c)
{
	PGresult *res = NULL;
	int rc = auth_api_token_list(c->db, c->npos ? c->pos[0] : NULL, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int revoke_check(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	struct token_args *a = c->args;
	return cli_parse_id(c, "token id", c->pos[0], &a->id);
}

static int revoke_run(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct token_args *a = c->args;
	int rc = auth_api_token_revoke(c->db, a->id, a->reason, &c->err);
	if (rc)
		return rc;
	if (ctx->json)
		return cli_printf(c, "{\"token_id\":%" PRId64 ",\"revoked\":true}\n", a->id);
	return cli_printf(c, "API token %" PRId64 " revoked\n", a->id);
}

static const struct cli_opt create_opts[] = {
	CLI_REQ("label", struct token_args, label),
	CLI_OPT("days", struct token_args, days),
	CLI_LIST("role", struct token_args, roles, nroles),
	CLI_OPT_END,
};
static const struct cli_opt revoke_opts[] = {
	CLI_REQ("reason", struct token_args, reason),
	CLI_OPT_END,
};

static const struct cli_cmd token_cmds[] = {
	{ .name = "create",
	  .check = create_check,
	  .run = create_run,
	  CLI_ARGS(struct token_args, create_opts),
	  .need = "user token create needs --label TEXT and at least one --role ROLE",
	  .flags = CLI_NEED_DB,
	  .summary = "an API token for yourself, acting with some of your roles",
	  .help = "usage: meterlab user token create --label TEXT --role ROLE [--role ROLE…] "
		  "[--days N]\n\n"
		  "Create an API token for yourself (a machine, an integration): it acts as you,\n"
		  "with only the roles given (roles you hold), for N days (default 90, at most\n"
		  "366). The token is printed once and never stored; the server takes it as\n"
		  "'Authorization: Bearer TOKEN'." },
	{ .name = "list",
	  .run = list_run,
	  .max_pos = 1,
	  .flags = CLI_NEED_DB,
	  .summary = "your API tokens (a person's, for an administrator)",
	  .help = "usage: meterlab user token list [LOGIN] [--json]\n\n"
		  "API tokens, newest first: yours, or LOGIN's with the admin role. Never the "
		  "secret." },
	{ .name = "revoke",
	  .check = revoke_check,
	  .run = revoke_run,
	  CLI_ARGS(struct token_args, revoke_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "user token revoke needs an ID and --reason TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "revoke an API token (it stops working at once)",
	  .help = "usage: meterlab user token revoke ID --reason TEXT\n\n"
		  "Revoke an API token: yours, or anyone's with the admin role." },
	{ .name = NULL },
};

const struct cli_cmd cmd_user_token = {
	.name = "token",
	.help = "API tokens for machines and integrations (Authorization: Bearer TOKEN).",
	.sub = token_cmds,
};
