/*
 * cli.h — the shared plumbing of the meterlab command: one table row per
 * command, one path that runs a row, exit codes. Only the CLI turns library
 * errors into exit codes (CONTRIBUTING.md, "Adding a command").
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

#include <stddef.h>
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
	struct db *db;        /* opened on first use; main() closes it */
};

/* ---- option tables ---- */

enum cli_opt_kind {
	CLI_OPT_VALUE,    /* --name VALUE or --name=VALUE; a repeat overrides */
	CLI_OPT_FLAG,     /* --name alone; stores "1" */
	CLI_OPT_LIST,     /* repeatable --name VALUE; appends to an array */
	CLI_OPT_OPTIONAL, /* --name alone stores "", --name=VALUE stores VALUE */
};

/*
 * One row of an option table; the table ends with CLI_OPT_END. Values land
 * in the command's argument struct (struct cli_cmd.args_size bytes, zeroed)
 * at offset off, as const char * pointing into argv (never freed).
 */
struct cli_opt {
	const char *name; /* without the leading "--" */
	enum cli_opt_kind kind;
	size_t off; /* offset of the const char * (LIST: of the array) in the argument struct */
	size_t count_off; /* LIST only: offset of the int count */
	int cap;          /* LIST only: length of the array */
	int required;     /* missing: usage error with the command's 'need' text */
};

/*
 * Rows: CLI_OPT("lot", struct receive_args, lot) stores --lot into the
 * receive_args member lot (a const char *; the compiler checks the type).
 */
/* clang-format off */
#define CLI_FIELD_(type, field) \
	(offsetof(type, field) + 0 * sizeof((const char **){ &((type *)0)->field }))
#define CLI_OPT(name, type, field) { (name), CLI_OPT_VALUE, CLI_FIELD_(type, field), 0, 0, 0 }
#define CLI_REQ(name, type, field) { (name), CLI_OPT_VALUE, CLI_FIELD_(type, field), 0, 0, 1 }
#define CLI_FLAG(name, type, field) { (name), CLI_OPT_FLAG, CLI_FIELD_(type, field), 0, 0, 0 }
#define CLI_OPTIONAL(name, type, field) \
	{ (name), CLI_OPT_OPTIONAL, CLI_FIELD_(type, field), 0, 0, 0 }
#define CLI_LIST(name, type, arr, count)                                                    \
	{ (name), CLI_OPT_LIST, CLI_FIELD_(type, arr[0]), offsetof(type, count),          \
	  (int)(sizeof(((type *)0)->arr) / sizeof(((type *)0)->arr[0])), 0 }
#define CLI_OPT_END { NULL, CLI_OPT_VALUE, 0, 0, 0, 0 }
/* clang-format on */

/*
 * Parse argv[1..argc-1] by table into the struct at base: options start
 * with "--" (anything else, and "--" alone, is a positional, stored in pos
 * up to maxpos; *npos counts them). An unknown option, a missing value, a
 * flag given a value, too many values of a LIST or too many positionals
 * print a usage error naming the argument and return CLI_USAGE; else CLI_OK.
 * opts may be NULL (no options).
 */
int cli_parse_opts(int argc, char **argv, const struct cli_opt *opts, void *base, const char **pos,
		   int maxpos, int *npos);

/* ---- commands ---- */

struct cli_cmd;

/*
 * One invocation of a command, built by the shared path (cli_run) and handed
 * to the row's check and run functions. Everything in it is owned by the
 * shared path; pointers into argv live as long as the process.
 */
struct cli_call {
	const struct cli_cmd *cmd;
	const char *path; /* "meterlab asset swap", for messages */
	int argc;         /* the command's own words: argv[0] is its name */
	char **argv;
	const char **pos; /* positional arguments (into argv), npos of them */
	int npos;
	void *args;          /* the row's argument struct, options filled in */
	struct db *db;       /* open when the row has CLI_NEED_DB (else NULL until cli_call_db) */
	struct ml_error err; /* the library error of a failed call: the shared path prints it */
	int exit;            /* exit code when run succeeds (CLI_FAIL for a judged failure) */
	int reported;        /* the failure was already printed: exit with 'exit' as is */
};

/*
 * A command's check or run function. Returns ML_OK or an enum ml_err code,
 * with c->err filled for the shared path to print ("meterlab: <kind>:
 * <message>") and map to the exit code. Never returns an exit code.
 */
typedef int cli_fn(struct cli_ctx *ctx, struct cli_call *c);

enum cli_cmd_flags {
	CLI_NEED_DB = 1 << 0, /* the shared path opens the database between check and run */
};

/*
 * One table row per command (git's commands[], curl's option table). A row
 * with sub is a group: it dispatches its first word to sub (ending with a
 * row whose name is NULL); a row with impl runs that row under its own
 * name. Otherwise the shared path does, in order:
 *   -h/--help anywhere        print help, exit 0
 *   parse opts into args      usage error (exit 2) naming the argument
 *   positionals / required    more than max_pos: "unexpected argument";
 *                             fewer than min_pos or a CLI_REQ missing: need
 *   check (optional)          validate and convert arguments; no I/O, no allocation
 *   CLI_NEED_DB               open the database (exit 6, or 9 for a refused login)
 *   run                       the work; c->err printed and mapped on failure
 */
struct cli_cmd {
	const char *name;
	const char *summary;        /* one line in the group's list */
	const char *help;           /* --help text: usage line(s), blank line, description */
	const struct cli_cmd *sub;  /* a group: its commands */
	const struct cli_cmd *impl; /* this row is that command (defined in its own file) */
	cli_fn *check;
	cli_fn *run;
	const struct cli_opt *opts; /* NULL: no options */
	size_t args_size;           /* sizeof the struct opts fill (0: none) */
	int min_pos, max_pos;
	const char *need; /* usage error when positionals are too few or a CLI_REQ is missing */
	unsigned flags;   /* enum cli_cmd_flags */
};

/* Row shorthand: .opts and .args_size of an argument struct type. */
#define CLI_ARGS(type, table) .opts = (table), .args_size = sizeof(type)

/* Run argv (argv[0] is cmd's name) through cmd: the one shared path. Returns the exit code. */
int cli_run(struct cli_ctx *ctx, const struct cli_cmd *cmd, const char *path, int argc,
	    char **argv);

/* ---- helpers for check and run functions (all return enum ml_err) ---- */

/* Open the database now (commands that need it only sometimes). Sets c->db. */
int cli_call_db(struct cli_ctx *ctx, struct cli_call *c) ML_MUSTCHECK;
/*
 * Print a usage error now (a line found wrong while running, e.g. in a task
 * file) and return ML_EINVAL with the call marked reported: exit 2.
 */
int cli_call_usage(struct cli_call *c, const char *fmt, ...) ML_PRINTF(2, 3);
/*
 * The command printed the failure rc itself (e.g. one line per run of
 * several): mark the call reported with rc's exit code, and return rc.
 */
int cli_call_reported(struct cli_call *c, int rc);
/*
 * Write b to stdout (plus a newline when nl) and check the stream. ML_ENOMEM
 * when building b failed; on a write failure prints "cannot write to
 * standard output" and marks the call reported (exit 1). b stays the caller's.
 */
int cli_emit(struct cli_call *c, const struct ml_buf *b, int nl) ML_MUSTCHECK;
/*
 * Write b and a newline to stdout as the detail of a failure the shared path
 * is about to report (e.g. every refused row as JSON): the failure's exit
 * code stands, so a write error here is not reported separately.
 */
void cli_emit_detail(const struct ml_buf *b);
/* Format, then cli_emit (no newline added: put it in fmt). */
int cli_printf(struct cli_call *c, const char *fmt, ...) ML_PRINTF(2, 3) ML_MUSTCHECK;
/*
 * Print a query result — an aligned text table with a header, or with --json
 * an array of objects (values as strings or null; a column named "details"
 * is raw JSON) — and PQclear it.
 */
int cli_print_result(struct cli_ctx *ctx, struct cli_call *c, PGresult *res) ML_MUSTCHECK;
/* Row r as one JSON object / every row as an array, the same way (for composed output). */
void cli_json_row(struct ml_buf *b, const PGresult *res, int r);
void cli_json_rows(struct ml_buf *b, const PGresult *res);

/* ---- exit codes and messages (the shared path uses these; so may check functions) ---- */

/* Map an ml_err code to an exit code. */
int cli_exit_code(int ml_code);
/* Print "meterlab: <kind>: message" to stderr and return the mapped exit code. */
int cli_fail(const struct ml_error *err);
/* Print a usage error to stderr and return CLI_USAGE. */
int cli_usage(const char *fmt, ...) ML_PRINTF(1, 2);
/* True when argv contains -h or --help before a "--". */
int cli_wants_help(int argc, char **argv);

/* ---- numbers (for check functions) ---- */

/*
 * s as a decimal integer in lo..hi (no junk, no spaces, no overflow).
 * Returns 0 and sets *out, or -1 with nothing printed.
 */
int cli_strtoll(const char *s, long long lo, long long hi, long long *out);
/*
 * The same, as a usage error naming what and s ("--limit 'x' is not a whole
 * number", "--port '70000' is not in 0..65535"): returns ML_OK, or prints,
 * marks c reported (exit 2) and returns ML_EINVAL. s NULL (an option not
 * given) is ML_OK with *out untouched, so *out may hold the default.
 */
int cli_parse_ll(struct cli_call *c, const char *what, const char *s, long long lo, long long hi,
		 long long *out);
/* 1 when s is a positive database id (1..INT64_MAX, stored in *out), else 0; prints nothing. */
int cli_is_id(const char *s, int64_t *out);
/* The same as a usage error: "<what> '<s>' is not a positive number" (exit 2). */
int cli_parse_id(struct cli_call *c, const char *what, const char *s, int64_t *out);

/* ---- the command groups, one file each (cli/cmd_NAME.c) ---- */

/* Top-level commands: main.c's table names them with .impl. */
extern const struct cli_cmd cmd_db;
extern const struct cli_cmd cmd_user;
extern const struct cli_cmd cmd_asset;
extern const struct cli_cmd cmd_bench;
extern const struct cli_cmd cmd_judge;
extern const struct cli_cmd cmd_scheme;
extern const struct cli_cmd cmd_standard;
extern const struct cli_cmd cmd_run;
extern const struct cli_cmd cmd_sample;
extern const struct cli_cmd cmd_cert;
extern const struct cli_cmd cmd_quality;
/* Rows defined in their own file and listed in another group's table. */
extern const struct cli_cmd cmd_standard_trace; /* standard trace (cmd_trace.c) */
extern const struct cli_cmd cmd_serve;
/* `user password` and `user token` (cmd_user_cred.c), rows of cmd_user. */
extern const struct cli_cmd cmd_user_password;
extern const struct cli_cmd cmd_user_token;
extern const struct cli_cmd cmd_audit;
/* The warehouse (stores/, issue 11): cmd_stock.c, cmd_order.c. */
extern const struct cli_cmd cmd_stock;
extern const struct cli_cmd cmd_order;
extern const struct cli_cmd cmd_retire; /* cmd_retire.c */
/* The field teams (field/, issue 11): cmd_field.c. */
extern const struct cli_cmd cmd_point;
extern const struct cli_cmd cmd_field;
extern const struct cli_cmd cmd_seal;
/* Planning and monitoring (plan/, issue 15): cmd_plan.c, cmd_watch.c. */
extern const struct cli_cmd cmd_plan;
extern const struct cli_cmd cmd_watch;

/* Scanned codes from positionals (from first_pos on) and --file (cmd_stock.c). */
struct cli_scan {
	const char **v; /* n codes: into argv or fcodes */
	size_t *line;   /* source line of each (0: an argument) */
	size_t n;
	char **fcodes, *data; /* owned */
	size_t *fline;
};
struct stock_scan_report;
/* Load codes; a usage error when there is none. cli_scan_free always. */
int cli_scan_load(struct cli_call *c, const char *file, int first_pos, struct cli_scan *s);
void cli_scan_free(struct cli_scan *s);
/* Print a scan report: every refusal naming its line (stderr), or the count / JSON. */
int cli_scan_report(struct cli_ctx *ctx, struct cli_call *c, const struct cli_scan *s,
		    const struct stock_scan_report *rep, const char *what, int ok);

#ifdef __cplusplus
}
#endif
#endif
