/* Placeholder until the 'cert' command lands; replace this whole file. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_cert(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	fprintf(stderr, "meterlab: 'cert' is not available in this build yet\n");
	return CLI_FAIL;
}
