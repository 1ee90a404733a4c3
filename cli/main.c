/*
 * main.c — the meterlab command. Thin: global options, then one table
 * dispatches to cli/cmd_NAME.c. Libraries do the work and return errors.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_cmd commands[] = {
	{ "db", cmd_db, "database migrations and status" },
	{ "user", cmd_user, "people, roles and permissions; who am I" },
	{ "asset", cmd_asset,
	  "asset registry: receive deliveries, move through the lifecycle, show, list" },
	{ "bench", cmd_bench, "verification benches: probe a bench, run the bench simulator" },
	{ "judge", cmd_judge, "judge readings by the regulation (manual verification)" },
	{ "scheme", cmd_scheme, "verification schemes: defaults, import, export" },
	{ "standard", cmd_standard, "reference standards and their calibration certificates" },
	{ "run", cmd_run, "verification runs: start, resume, show" },
	{ "sample", cmd_sample, "arrival sampling plans (GB/T 2828.1 / ISO 2859-1)" },
	{ "cert", cmd_cert, "verification certificates and result notices" },
	{ NULL, NULL, NULL },
};

static const char *const top_help =
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
	rc = cli_dispatch(&ctx, "", top_help, commands, argc, argv);
	db_close(ctx.db);
	return rc;
}
