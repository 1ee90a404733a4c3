#include "cli/cli.h"

#include <stdarg.h>
#include <string.h>

int cli_exit_code(int code)
{
	switch (code) {
	case ML_OK: return CLI_OK;
	case ML_EINVAL: case ML_ECONFIG: return CLI_INVALID;
	case ML_ENOTFOUND: return CLI_NOTFOUND;
	case ML_ECONFLICT: case ML_ESTATE: case ML_EEXISTS: return CLI_CONFLICT;
	case ML_EDB: return CLI_DB;
	case ML_EIO: case ML_EDEVICE: case ML_ETIMEOUT: case ML_EPROTO: return CLI_DEVICE;
	case ML_EPDF: return CLI_FAIL;
	default: return CLI_INTERNAL;
	}
}

int cli_fail(const struct ml_error *err)
{
	fprintf(stderr, "meterlab: %s: %s\n", ml_strerror(err->code), err->msg[0] ? err->msg : "(no detail)");
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

int cli_dispatch(struct cli_ctx *ctx, const char *group, const char *help, const struct cli_cmd *table,
		 int argc, char **argv)
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
	return cli_usage("unknown command 'meterlab%s%s %s' (see 'meterlab%s%s --help')", sp, group, argv[1], sp, group);
}
