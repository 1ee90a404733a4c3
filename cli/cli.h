/*
 * cli.h — shared plumbing of the meterlab command: context, subcommand
 * tables, exit codes. Only the CLI turns library errors into exit codes.
 *
 * Exit codes (documented in README.md, stable):
 *   0 success            1 failure (e.g. a verification judged a failure, a check failed)
 *   2 usage error        3 invalid input         4 not found
 *   5 conflict / state / duplicate               6 database error
 *   7 device, I/O or timeout                     8 internal error
 *   9 permission denied (not a meterlab user, or lacks the role)
 */
#ifndef ML_CLI_H
#define ML_CLI_H

#include <stdint.h>
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
	CLI_PERM = 9,
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
int cli_dispatch(struct cli_ctx *ctx, const char *group, const char *group_help,
		 const struct cli_cmd *table, int argc, char **argv);

/* The database connection, opened on first use. Returns ML_OK or prints and returns the error code. */
int cli_db(struct cli_ctx *ctx, struct db **out);

/*
 * Print a query result on stdout — an aligned text table with a header, or
 * with --json an array of objects (values as strings or null; a column
 * named "details" is raw JSON) — and PQclear it. Returns an exit code.
 */
int cli_print_result(struct cli_ctx *ctx, PGresult *res);
/* Row r as one JSON object / every row as an array, the same way (for composed output). */
int cli_json_row(struct ml_buf *b, const PGresult *res, int r) ML_MUSTCHECK;
int cli_json_rows(struct ml_buf *b, const PGresult *res) ML_MUSTCHECK;

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
/* When argv asks for help, print text (plus a newline) to stdout and return 1: callers return CLI_OK. */
int cli_help(int argc, char **argv, const char *text);
/*
 * Finish output built in b: CLI_INTERNAL when built is nonzero (building b
 * failed), else cli_out(b, nl). Frees b either way; returns the exit code.
 */
int cli_finish(struct ml_buf *b, int built, int nl);
/*
 * The start of a command that takes no arguments: on -h/--help prints help
 * to stdout and returns CLI_OK with *db NULL; an argument is a usage error;
 * else opens the database into *db. Callers: if (rc || !db) return rc;
 */
int cli_start_noargs(struct cli_ctx *ctx, int argc, char **argv, const char *help, struct db **db);

/* ---- option parsing and numbers, shared by every command ---- */

/*
 * One "--name VALUE" or "--name=VALUE" at argv[*i], for hand-written loops.
 * On a match stores the value (it points into argv) in *val, advances *i past
 * a separate value and returns 1. Returns 0 when argv[*i] is something else or
 * when "--name" is the last argument with no value: the caller then reports
 * argv[*i] as an unexpected argument.
 */
int cli_take_opt(int argc, char **argv, int *i, const char *name, const char **val);

enum cli_opt_kind {
	CLI_OPT_VALUE, /* --name VALUE or --name=VALUE; a repeat overrides */
	CLI_OPT_FLAG,  /* --name alone; stores "1" */
	CLI_OPT_LIST,  /* repeatable --name VALUE; appends to an array of cap */
};

/* One row of an option table; the table ends with a row whose name is NULL. */
struct cli_opt {
	const char *name; /* without the leading "--" */
	const char **val; /* where the value goes (an array of cap for LIST) */
	enum cli_opt_kind kind;
	int *count; /* LIST only: how many values are stored */
	int cap;    /* LIST only: capacity of val */
};

/* Table rows: a valued option, a flag, a repeatable option, the end. */
#define CLI_OPT(name, val)                            \
	{                                             \
		(name), (val), CLI_OPT_VALUE, NULL, 0 \
	}
#define CLI_FLAG(name, val)                          \
	{                                            \
		(name), (val), CLI_OPT_FLAG, NULL, 0 \
	}
#define CLI_LIST(name, arr, count, cap)                     \
	{                                                   \
		(name), (arr), CLI_OPT_LIST, (count), (cap) \
	}
#define CLI_OPT_END                                \
	{                                          \
		NULL, NULL, CLI_OPT_VALUE, NULL, 0 \
	}

/*
 * Parse argv[1..argc-1] by table: options start with "--" (anything else,
 * and "--" alone, is a positional, stored in pos up to maxpos; *npos counts
 * them). Values point into argv. An unknown option, a missing value, too
 * many values or positionals print a usage error naming the argument and
 * return CLI_USAGE; otherwise CLI_OK.
 */
int cli_parse_opts(int argc, char **argv, const struct cli_opt *opts, const char **pos, int maxpos,
		   int *npos);

/*
 * s as a decimal integer in lo..hi (no sign-less junk, no spaces, no overflow).
 * Returns 0 and sets *out, or -1 with nothing printed (callers that try a word
 * as a number, or report their own message).
 */
int cli_strtoll(const char *s, long long lo, long long hi, long long *out);
/*
 * The same, printing a usage error that names what and s on failure
 * ("--limit 'x' is not a whole number", "--port '70000' is not in 0..65535")
 * and returning CLI_USAGE; CLI_OK otherwise.
 */
int cli_parse_ll(const char *what, const char *s, long long lo, long long hi, long long *out);
/* 1 when s is a positive database id (1..INT64_MAX, stored in *out), else 0; prints nothing. */
int cli_is_id(const char *s, int64_t *out);
/* The same, printing "<what> '<s>' is not a positive number" and returning CLI_USAGE on failure. */
int cli_parse_id(const char *what, const char *s, int64_t *out);

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
int cmd_user(struct cli_ctx *ctx, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
