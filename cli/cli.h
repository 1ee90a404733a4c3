/*
 * cli.h — shared plumbing of the meterlab command: context, subcommand
 * tables, exit codes. Only the CLI turns library errors into exit codes.
 *
 * Exit codes (documented in README.md, stable):
 *   0 success            1 failure (e.g. a verification judged a failure, a check failed)
 *   2 usage error        3 invalid input         4 not found
 *   5 conflict / state / duplicate               6 database error
 *   7 device, I/O or timeout                     8 internal error
 */
#ifndef ML_CLI_H
#define ML_CLI_H

#include <stdio.h>

#include "common/buf.h"
#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cli_exit {
	CLI_OK = 0,
	CLI_FAIL = 1,
	CLI_USAGE = 2,
	CLI_INVALID = 3,
	CLI_NOTFOUND = 4,
	CLI_CONFLICT = 5,
	CLI_DB = 6,
	CLI_DEVICE = 7,
	CLI_INTERNAL = 8,
};

struct cli_ctx {
	const char *conninfo; /* --db, else METERLAB_DB, else PG* variables */
	int json;             /* --json: machine-readable output on stdout */
	struct db *db;        /* opened on first cli_db() */
};

struct cli_cmd {
	const char *name;
	int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
};

/*
 * Run argv[1] from table (argv[0] is the group name, e.g. "asset").
 * Prints the group's help for -h/--help/no argument. Returns an exit code.
 */
int cli_dispatch(struct cli_ctx *ctx, const char *group, const char *group_help, const struct cli_cmd *table,
		 int argc, char **argv);

/* The database connection, opened on first use. Returns ML_OK or prints and returns the error code. */
int cli_db(struct cli_ctx *ctx, struct db **out);

/* Map an ml_err code to an exit code. */
int cli_exit_code(int ml_code);
/* Print "meterlab: <kind>: message" to stderr and return the mapped exit code. */
int cli_fail(const struct ml_error *err);
/* Print a usage error to stderr and return CLI_USAGE. */
int cli_usage(const char *fmt, ...) ML_PRINTF(1, 2);
/* Write b to stdout (plus a newline when nl) and check the stream; returns exit code. */
int cli_out(const struct ml_buf *b, int nl);
/* True when argv contains -h or --help (sub-subcommands use it before doing work). */
int cli_wants_help(int argc, char **argv);

/* Top-level commands, one file each (cli/cmd_NAME.c). */
int cmd_db(struct cli_ctx *ctx, int argc, char **argv);
int cmd_asset(struct cli_ctx *ctx, int argc, char **argv);
int cmd_bench(struct cli_ctx *ctx, int argc, char **argv);
int cmd_judge(struct cli_ctx *ctx, int argc, char **argv);
int cmd_scheme(struct cli_ctx *ctx, int argc, char **argv);
int cmd_standard(struct cli_ctx *ctx, int argc, char **argv);
int cmd_run(struct cli_ctx *ctx, int argc, char **argv);
int cmd_sample(struct cli_ctx *ctx, int argc, char **argv);
int cmd_cert(struct cli_ctx *ctx, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
