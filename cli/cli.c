/*
 * cli.c — the one shared path every command goes through (cli_run), the
 * option parser, and the helpers command bodies use. Command files hold
 * only their table rows and the work (CONTRIBUTING.md, "Adding a command").
 */
#include "cli/cli.h"

#include "common/json.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_exit_code(int code)
{
	switch (code) {
	case ML_OK:
		return CLI_OK;
	case ML_EINVAL:
	case ML_ECONFIG:
		return CLI_INVALID;
	case ML_ENOTFOUND:
		return CLI_NOTFOUND;
	case ML_ECONFLICT:
	case ML_ESTATE:
	case ML_EEXISTS:
		return CLI_CONFLICT;
	case ML_EDB:
		return CLI_DB;
	case ML_EIO:
	case ML_EDEVICE:
	case ML_ETIMEOUT:
	case ML_EPROTO:
		return CLI_DEVICE;
	case ML_EPDF:
		return CLI_FAIL;
	case ML_EPERM:
		return CLI_PERM;
	default:
		return CLI_INTERNAL;
	}
}

int cli_fail(const struct ml_error *err)
{
	fprintf(stderr, "meterlab: %s: %s\n", ml_strerror(err->code),
		err->msg[0] ? err->msg : "(no detail)");
	return cli_exit_code(err->code);
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("meterlab: usage error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	return CLI_USAGE;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
		if (!strcmp(argv[i], "--"))
			break;
	}
	return 0;
}

/* ---- the shared path ---- */

static void group_help(FILE *f, const char *path, const struct cli_cmd *g)
{
	fprintf(f, "usage: %s <command> [options]\n", path);
	if (g->help && *g->help)
		fprintf(f, "\n%s\n", g->help);
	fprintf(f, "\ncommands:\n");
	for (const struct cli_cmd *c = g->sub; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fprintf(f, "\nRun '%s <command> --help' for a command's options.\n", path);
}

static int run_group(struct cli_ctx *ctx, const struct cli_cmd *g, const char *path, int argc,
		     char **argv)
{
	if (argc < 2) {
		group_help(stderr, path, g);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		group_help(stdout, path, g);
		return CLI_OK;
	}
	const struct cli_cmd *c = g->sub;
	while (c->name && strcmp(c->name, argv[1]))
		c++;
	if (!c->name)
		return cli_usage("unknown command '%s %s' (see '%s --help')", path, argv[1], path);
	size_t len = strlen(path) + strlen(c->name) + 2;
	char *sub = malloc(len);
	if (!sub) {
		fputs("meterlab: out of memory\n", stderr);
		return CLI_INTERNAL;
	}
	snprintf(sub, len, "%s %s", path, c->name);
	int rc = cli_run(ctx, c, sub, argc - 1, argv + 1);
	free(sub);
	return rc;
}

/* The value slot of option o in the argument struct at base. */
static const char **slot(void *base, const struct cli_opt *o)
{
	return (const char **)((char *)base + o->off);
}

/* Positional count and required options, after parsing: CLI_OK or a usage error. */
static int check_line(const struct cli_call *c)
{
	const struct cli_cmd *cmd = c->cmd;
	if (c->npos > cmd->max_pos)
		return cli_usage("unexpected argument '%s' (see '%s --help')", c->pos[cmd->max_pos],
				 c->path);
	int missing = c->npos < cmd->min_pos;
	for (const struct cli_opt *o = cmd->opts; o && o->name && !missing; o++)
		missing = o->required && !*slot(c->args, o);
	if (!missing)
		return CLI_OK;
	if (cmd->need)
		return cli_usage("%s", cmd->need);
	return cli_usage("'%s' needs more arguments (see '%s --help')", c->path, c->path);
}

/*
 * A check or run function's result as an exit code: its own exit code on
 * success or when it already reported, else the library error it filled.
 */
static int exit_of(struct cli_call *c, int rc)
{
	if (rc == ML_OK)
		return c->exit;
	if (c->reported)
		return c->exit ? c->exit : CLI_INTERNAL;
	if (c->err.code == ML_OK) /* e.g. an output buffer that failed: no message was set */
		c->err.code = rc;
	return cli_fail(&c->err);
}

static int run_leaf(struct cli_ctx *ctx, const struct cli_cmd *cmd, const char *path, int argc,
		    char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("%s\n", cmd->help);
		return fflush(stdout) ? CLI_FAIL : CLI_OK;
	}
	struct cli_call c = { .cmd = cmd, .path = path, .argc = argc, .argv = argv };
	int rc = CLI_INTERNAL;
	c.args = calloc(1, cmd->args_size ? cmd->args_size : 1);
	c.pos = calloc((size_t)argc, sizeof(*c.pos));
	if (!c.args || !c.pos) {
		fputs("meterlab: out of memory\n", stderr);
		goto out;
	}
	rc = cli_parse_opts(argc, argv, cmd->opts, c.args, c.pos, argc, &c.npos);
	if (rc)
		goto out;
	rc = check_line(&c);
	if (rc)
		goto out;
	if (cmd->check) {
		rc = exit_of(&c, cmd->check(ctx, &c));
		if (rc)
			goto out;
	}
	if (cmd->flags & CLI_NEED_DB) {
		rc = exit_of(&c, cli_call_db(ctx, &c));
		if (rc)
			goto out;
	}
	rc = exit_of(&c, cmd->run(ctx, &c));
out:
	free(c.pos);
	free(c.args);
	return rc;
}

int cli_run(struct cli_ctx *ctx, const struct cli_cmd *cmd, const char *path, int argc, char **argv)
{
	if (cmd->impl)
		cmd = cmd->impl;
	return cmd->sub ? run_group(ctx, cmd, path, argc, argv)
			: run_leaf(ctx, cmd, path, argc, argv);
}

/* ---- helpers for command bodies ---- */

int cli_call_db(struct cli_ctx *ctx, struct cli_call *c)
{
	if (!ctx->db) {
		int rc = db_connect(ctx->conninfo, &ctx->db, &c->err);
		if (rc)
			return rc;
	}
	c->db = ctx->db;
	return ML_OK;
}

int cli_call_usage(struct cli_call *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("meterlab: usage error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	c->exit = CLI_USAGE;
	c->reported = 1;
	return ML_EINVAL;
}

int cli_call_reported(struct cli_call *c, int rc)
{
	c->exit = cli_exit_code(rc);
	c->reported = 1;
	return rc;
}

int cli_emit(struct cli_call *c, const struct ml_buf *b, int nl)
{
	if (ml_buf_failed(b))
		return ML_ENOMEM;
	fwrite(ml_buf_str(b), 1, b->len, stdout);
	if (nl)
		fputc('\n', stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "meterlab: cannot write to standard output\n");
		c->exit = CLI_FAIL;
		c->reported = 1;
		return ML_EIO;
	}
	return ML_OK;
}

void cli_emit_detail(const struct ml_buf *b)
{
	if (ml_buf_failed(b))
		return;
	fwrite(ml_buf_str(b), 1, b->len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

int cli_printf(struct cli_call *c, const char *fmt, ...)
{
	struct ml_buf b = ML_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	ml_buf_vprintf(&b, fmt, ap); /* a failure is seen by cli_emit */
	va_end(ap);
	int rc = cli_emit(c, &b, 0);
	ml_buf_free(&b);
	return rc;
}

/* ---- option parsing and numbers ---- */

static const struct cli_opt *find_opt(const struct cli_opt *opts, const char *name, size_t len)
{
	for (const struct cli_opt *o = opts; o && o->name; o++) {
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	}
	return NULL;
}

/* Store one value of o (a LIST appends while there is room). */
static int store_opt(const struct cli_opt *o, void *base, const char *v)
{
	if (o->kind != CLI_OPT_LIST) {
		*slot(base, o) = v;
		return CLI_OK;
	}
	int *count = (int *)((char *)base + o->count_off);
	if (*count >= o->cap)
		return cli_usage("at most %d --%s options", o->cap, o->name);
	slot(base, o)[(*count)++] = v;
	return CLI_OK;
}

int cli_parse_opts(int argc, char **argv, const struct cli_opt *opts, void *base, const char **pos,
		   int maxpos, int *npos)
{
	*npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) || !a[2]) {
			if (*npos >= maxpos)
				return cli_usage("unexpected argument '%s' (at most %d)", a,
						 maxpos);
			pos[(*npos)++] = a;
			continue;
		}
		const char *eq = strchr(a + 2, '=');
		const struct cli_opt *o = find_opt(opts, a + 2,
						   eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (!o)
			return cli_usage("unknown option '%s' (see --help)", a);
		if (o->kind == CLI_OPT_FLAG || (o->kind == CLI_OPT_OPTIONAL && !eq)) {
			if (eq)
				return cli_usage("option '--%s' takes no value", o->name);
			*slot(base, o) = o->kind == CLI_OPT_FLAG ? "1" : "";
			continue;
		}
		const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
		if (!v)
			return cli_usage("option '--%s' needs a value", o->name);
		int rc = store_opt(o, base, v);
		if (rc)
			return rc;
	}
	return CLI_OK;
}

int cli_strtoll(const char *s, long long lo, long long hi, long long *out)
{
	if (!s || !(*s == '-' || *s == '+' || (*s >= '0' && *s <= '9')))
		return -1;
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_ll(struct cli_call *c, const char *what, const char *s, long long lo, long long hi,
		 long long *out)
{
	if (!s || !cli_strtoll(s, lo, hi, out))
		return ML_OK;
	long long any;
	if (cli_strtoll(s, LLONG_MIN, LLONG_MAX, &any))
		return cli_call_usage(c, "%s '%s' is not a whole number", what, s ? s : "");
	return cli_call_usage(c, "%s '%s' is not in %lld..%lld", what, s, lo, hi);
}

int cli_is_id(const char *s, int64_t *out)
{
	long long v;
	if (cli_strtoll(s, 1, INT64_MAX, &v))
		return 0;
	*out = v;
	return 1;
}

int cli_parse_id(struct cli_call *c, const char *what, const char *s, int64_t *out)
{
	if (!cli_is_id(s, out))
		return cli_call_usage(c, "%s '%s' is not a positive number", what, s ? s : "");
	return ML_OK;
}

/* ---- printing query results ---- */

void cli_json_row(struct ml_buf *b, const PGresult *res, int r)
{
	ml_buf_putc(b, '{');
	for (int c = 0; c < PQnfields(res); c++) {
		const char *v = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
		if (!strcmp(PQfname(res, c), "details") && v)
			ml_json_kv_raw(b, c == 0, "details", v);
		else
			ml_json_kv_str(b, c == 0, PQfname(res, c), v);
	}
	ml_buf_putc(b, '}');
}

void cli_json_rows(struct ml_buf *b, const PGresult *res)
{
	ml_buf_putc(b, '[');
	for (int r = 0; r < PQntuples(res); r++) {
		if (r)
			ml_buf_putc(b, ',');
		cli_json_row(b, res, r);
	}
	ml_buf_putc(b, ']');
}

/* An aligned text table with a header. */
static void text_rows(struct ml_buf *b, const PGresult *res)
{
	int nf = PQnfields(res);
	int w[32] = { 0 };
	for (int c = 0; c < nf && c < 32; c++) {
		w[c] = (int)strlen(PQfname(res, c));
		for (int r = 0; r < PQntuples(res); r++) {
			int l = PQgetlength(res, r, c);
			w[c] = l > w[c] ? l : w[c];
		}
	}
	for (int r = -1; r < PQntuples(res); r++) {
		for (int c = 0; c < nf && c < 32; c++) {
			const char *v = r < 0 ? PQfname(res, c) : PQgetvalue(res, r, c);
			if (c + 1 < nf)
				ml_buf_printf(b, "%-*s  ", w[c], v);
			else
				ml_buf_puts(b, v);
		}
		ml_buf_putc(b, '\n');
	}
}

int cli_print_result(struct cli_ctx *ctx, struct cli_call *c, PGresult *res)
{
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json)
		cli_json_rows(&b, res);
	else
		text_rows(&b, res);
	PQclear(res);
	int rc = cli_emit(c, &b, ctx->json);
	ml_buf_free(&b);
	return rc;
}
