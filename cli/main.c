/*
 * main.c — the meterlab command. Thin: global options, then the table of
 * top-level commands goes through the one shared path (cli_run, cli.c).
 * Each command lives in cli/cmd_NAME.c; libraries do the work.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char top_help[] =
	"meterlab — metering asset and verification lab management\n"
	"\n"
	"global options (anywhere on the line):\n"
	"  --db CONNINFO   libpq conninfo or URI (default: $METERLAB_DB, then PG* variables)\n"
	"  --json          machine-readable output\n"
	"  -h, --help      help for any command\n"
	"\n"
	"exit codes: 0 ok, 1 failure, 2 usage, 3 invalid input, 4 not found,\n"
	"            5 conflict/state/duplicate, 6 database, 7 device/I-O/timeout, 8 internal,\n"
	"            9 permission denied";

static const struct cli_cmd commands[] = {
	{ .name = "db", .impl = &cmd_db, .summary = "database migrations and status" },
	{ .name = "user", .impl = &cmd_user, .summary = "people, roles and permissions; who am I" },
	{ .name = "asset",
	  .impl = &cmd_asset,
	  .summary = "asset registry: receive deliveries, move through the lifecycle, show, list" },
	{ .name = "bench",
	  .impl = &cmd_bench,
	  .summary = "verification benches: probe a bench, run the bench simulator" },
	{ .name = "judge",
	  .impl = &cmd_judge,
	  .summary = "judge readings by the regulation (manual verification)" },
	{ .name = "scheme",
	  .impl = &cmd_scheme,
	  .summary = "verification schemes: defaults, import, export" },
	{ .name = "standard",
	  .impl = &cmd_standard,
	  .summary = "reference standards and their calibration certificates" },
	{ .name = "run", .impl = &cmd_run, .summary = "verification runs: start, resume, show" },
	{ .name = "sample",
	  .impl = &cmd_sample,
	  .summary = "arrival sampling plans (GB/T 2828.1 / ISO 2859-1)" },
	{ .name = "cert",
	  .impl = &cmd_cert,
	  .summary = "verification certificates and result notices" },
	{ .name = "quality",
	  .impl = &cmd_quality,
	  .summary = "quality report (PDF, CSV) and early warning" },
	{ .name = "serve",
	  .impl = &cmd_serve,
	  .summary = "the HTTP/JSON API server (logins, sessions, API tokens)" },
	{ .name = "stock",
	  .impl = &cmd_stock,
	  .summary = "warehouse stock: slots, put-away, counts, re-verification list" },
	{ .name = "order",
	  .impl = &cmd_order,
	  .summary = "distribution orders between stores: create, pick, dispatch, receive, close" },
	{ .name = "retire",
	  .impl = &cmd_retire,
	  .summary = "return to the maker and scrapping, approved by a second person" },
	{ .name = "point",
	  .impl = &cmd_point,
	  .summary = "metering points (计量点): import, show" },
	{ .name = "field",
	  .impl = &cmd_field,
	  .summary = "field work: install, remove, swap with readings and seals; fault reports" },
	{ .name = "seal",
	  .impl = &cmd_seal,
	  .summary = "seals (计量印证): receive, issue to teams, destroy, where each is" },
	{ .name = "plan",
	  .impl = &cmd_plan,
	  .summary = "production planning (生产计划): demand, netting, the verification plan" },
	{ .name = "watch",
	  .impl = &cmd_watch,
	  .summary = "monitoring (稽查监控): run the rules, list, show and close work items" },
	{ .name = "audit",
	  .impl = &cmd_audit,
	  .summary = "tamper evidence: verify the hash chains of history and certificates" },
	{ .name = NULL },
};

static const struct cli_cmd meterlab = { .name = "meterlab", .help = top_help, .sub = commands };

/* Pull --db/--json out of argv wherever they appear, so every command takes them. */
static int take_globals(struct cli_ctx *ctx, int *argc, char **argv)
{
	int w = 1;
	for (int r = 1; r < *argc; r++) {
		if (!strcmp(argv[r], "--json")) {
			ctx->json = 1;
		} else if (!strcmp(argv[r], "--db")) {
			if (r + 1 >= *argc)
				return cli_usage("--db needs a conninfo value");
			ctx->conninfo = argv[++r];
		} else if (!strncmp(argv[r], "--db=", 5)) {
			ctx->conninfo = argv[r] + 5;
		} else {
			argv[w++] = argv[r];
		}
	}
	*argc = w;
	argv[w] = NULL;
	return CLI_OK;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { 0 };
	int rc = take_globals(&ctx, &argc, argv);
	if (rc)
		return rc;
	rc = cli_run(&ctx, &meterlab, "meterlab", argc, argv);
	db_close(ctx.db);
	return rc;
}
