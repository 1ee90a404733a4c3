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

int cli_out(const struct ml_buf *b, int nl)
{
	fwrite(ml_buf_str(b), 1, b->len, stdout);
	if (nl)
		fputc('\n', stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "meterlab: cannot write to standard output\n");
		return CLI_FAIL;
	}
	return CLI_OK;
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

int cli_help(int argc, char **argv, const char *text)
{
	if (!cli_wants_help(argc, argv))
		return 0;
	puts(text);
	return 1;
}

int cli_finish(struct ml_buf *b, int built, int nl)
{
	int rc = built ? CLI_INTERNAL : cli_out(b, nl);
	ml_buf_free(b);
	return rc;
}

int cli_start_noargs(struct cli_ctx *ctx, int argc, char **argv, const char *help, struct db **db)
{
	*db = NULL;
	if (cli_help(argc, argv, help))
		return CLI_OK;
	if (argc > 1)
		return cli_usage("unexpected argument '%s'", argv[1]);
	return cli_db(ctx, db);
}

int cli_db(struct cli_ctx *ctx, struct db **out)
{
	if (!ctx->db) {
		struct ml_error err = ML_ERROR_INIT;
		if (db_connect(ctx->conninfo, &ctx->db, &err))
			return cli_fail(&err);
	}
	*out = ctx->db;
	return CLI_OK;
}

static void group_help(FILE *f, const char *group, const char *help, const struct cli_cmd *table)
{
	const char *sp = *group ? " " : "";
	fprintf(f, "usage: meterlab%s%s <command> [options]\n", sp, group);
	if (help && *help)
		fprintf(f, "\n%s\n", help);
	fprintf(f, "\ncommands:\n");
	for (const struct cli_cmd *c = table; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fprintf(f, "\nRun 'meterlab%s%s <command> --help' for a command's options.\n", sp, group);
}

int cli_dispatch(struct cli_ctx *ctx, const char *group, const char *help,
		 const struct cli_cmd *table, int argc, char **argv)
{
	if (argc < 2) {
		group_help(stderr, group, help, table);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		group_help(stdout, group, help, table);
		return CLI_OK;
	}
	for (const struct cli_cmd *c = table; c->name; c++) {
		if (!strcmp(c->name, argv[1]))
			return c->fn(ctx, argc - 1, argv + 1);
	}
	const char *sp = *group ? " " : "";
	return cli_usage("unknown command 'meterlab%s%s %s' (see 'meterlab%s%s --help')", sp, group,
			 argv[1], sp, group);
}

int cli_take_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t l = strlen(name);
	if (strncmp(argv[*i], name, l))
		return 0;
	if (argv[*i][l] == '=') {
		*val = argv[*i] + l + 1;
		return 1;
	}
	if (argv[*i][l] != '\0' || *i + 1 >= argc)
		return 0;
	*val = argv[++*i];
	return 1;
}

static const struct cli_opt *find_opt(const struct cli_opt *opts, const char *name, size_t len)
{
	for (const struct cli_opt *o = opts; o->name; o++) {
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	}
	return NULL;
}

/* Store one value of o (a LIST appends while there is room). */
static int store_opt(const struct cli_opt *o, const char *v)
{
	if (o->kind != CLI_OPT_LIST) {
		*o->val = v;
		return CLI_OK;
	}
	if (*o->count >= o->cap)
		return cli_usage("at most %d --%s options", o->cap, o->name);
	o->val[(*o->count)++] = v;
	return CLI_OK;
}

int cli_parse_opts(int argc, char **argv, const struct cli_opt *opts, const char **pos, int maxpos,
		   int *npos)
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
		if (o->kind == CLI_OPT_FLAG) {
			if (eq)
				return cli_usage("option '--%s' takes no value", o->name);
			*o->val = "1";
			continue;
		}
		const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
		if (!v)
			return cli_usage("option '--%s' needs a value", o->name);
		int rc = store_opt(o, v);
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

int cli_parse_ll(const char *what, const char *s, long long lo, long long hi, long long *out)
{
	if (!cli_strtoll(s, lo, hi, out))
		return CLI_OK;
	long long any;
	if (cli_strtoll(s, LLONG_MIN, LLONG_MAX, &any))
		return cli_usage("%s '%s' is not a whole number", what, s ? s : "");
	return cli_usage("%s '%s' is not in %lld..%lld", what, s, lo, hi);
}

int cli_is_id(const char *s, int64_t *out)
{
	long long v;
	if (cli_strtoll(s, 1, INT64_MAX, &v))
		return 0;
	*out = v;
	return 1;
}

int cli_parse_id(const char *what, const char *s, int64_t *out)
{
	if (!cli_is_id(s, out))
		return cli_usage("%s '%s' is not a positive number", what, s ? s : "");
	return CLI_OK;
}

/* ---- printing query results ---- */

/* Row r of a result as one JSON object (values as strings or null; details is raw JSON). */
int cli_json_row(struct ml_buf *b, const PGresult *res, int r)
{
	int rc = ml_buf_putc(b, '{');
	for (int c = 0; c < PQnfields(res) && !rc; c++) {
		const char *v = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
		if (!strcmp(PQfname(res, c), "details") && v)
			rc = ml_json_kv_raw(b, c == 0, "details", v);
		else
			rc = ml_json_kv_str(b, c == 0, PQfname(res, c), v);
	}
	return rc ? rc : ml_buf_putc(b, '}');
}

/* Every row of a result as a JSON array of objects. */
int cli_json_rows(struct ml_buf *b, const PGresult *res)
{
	int rc = ml_buf_putc(b, '[');
	for (int r = 0; r < PQntuples(res) && !rc; r++) {
		if (r)
			rc = ml_buf_putc(b, ',');
		if (!rc)
			rc = cli_json_row(b, res, r);
	}
	return rc ? rc : ml_buf_putc(b, ']');
}

/* Print a result as an aligned text table with a header. */
static int text_rows(struct ml_buf *b, const PGresult *res)
{
	int nf = PQnfields(res), rc = ML_OK;
	int w[32] = { 0 };
	for (int c = 0; c < nf && c < 32; c++) {
		w[c] = (int)strlen(PQfname(res, c));
		for (int r = 0; r < PQntuples(res); r++) {
			int l = PQgetlength(res, r, c);
			w[c] = l > w[c] ? l : w[c];
		}
	}
	for (int r = -1; r < PQntuples(res) && !rc; r++) {
		for (int c = 0; c < nf && c < 32 && !rc; c++) {
			const char *v = r < 0 ? PQfname(res, c) : PQgetvalue(res, r, c);
			if (c + 1 < nf)
				rc = ml_buf_printf(b, "%-*s  ", w[c], v);
			else
				rc = ml_buf_puts(b, v);
		}
		if (!rc)
			rc = ml_buf_putc(b, '\n');
	}
	return rc;
}

int cli_print_result(struct cli_ctx *ctx, PGresult *res)
{
	struct ml_buf b = ML_BUF_INIT;
	int rc = ctx->json ? cli_json_rows(&b, res) : text_rows(&b, res);
	PQclear(res);
	if (!rc)
		rc = cli_out(&b, ctx->json);
	else
		rc = CLI_INTERNAL;
	ml_buf_free(&b);
	return rc;
}
