/* Placeholder until the 'run' command lands; replace this whole file. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	fprintf(stderr, "meterlab: 'run' is not available in this build yet\n");
	return CLI_FAIL;
}
