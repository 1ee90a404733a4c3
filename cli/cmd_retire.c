/*
 * cmd_retire.c — `meterlab retire ...`: return to the maker (warranty, 返厂)
 * and scrapping (报废), each with a reason and a second person's approval
 * (stores/stores.h).
 */
#include <string.h>

#include "cli/cli.h"
#include "stores/stores.h"

struct retire_args {
	const char *reason, *to, *file, *note, *status;
	enum retire_action action;
	int64_t id;
};

static int check_request(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	struct retire_args *a = c->args;
	if (!strcmp(c->pos[0], "scrap"))
		a->action = RETIRE_SCRAP;
	else if (!strcmp(c->pos[0], "return_to_maker") || !strcmp(c->pos[0], "return"))
		a->action = RETIRE_RETURN_TO_MAKER;
	else
		return cli_call_usage(c, "retirement '%s' is not scrap or return_to_maker",
				      c->pos[0]);
	return ML_OK;
}

static int request(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct retire_args *a = c->args;
	struct cli_scan s;
	int64_t id = 0;
	int rc = cli_scan_load(c, a->file, 1, &s);
	if (!rc)
		rc = cli_call_db(ctx, c);
	if (!rc)
		rc = retire_request(c->db, a->action, s.v, s.n, a->reason, a->to, &id, &c->err);
	if (!rc)
		rc = ctx->json
			     ? cli_printf(c, "{\"request_id\":%lld,\"assets\":%zu}\n",
					  (long long)id, s.n)
			     : cli_printf(
				       c,
				       "retirement request %lld: %zu assets; a second person approves with: "
				       "meterlab retire approve %lld\n",
				       (long long)id, s.n, (long long)id);
	cli_scan_free(&s);
	return rc;
}

static int check_id(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	struct retire_args *a = c->args;
	return cli_parse_id(c, "request", c->pos[0], &a->id);
}

static int approve(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct retire_args *a = c->args;
	size_t n = 0;
	int rc = retire_approve(c->db, a->id, a->note, &n, &c->err);
	if (rc)
		return rc;
	return ctx->json ? cli_printf(c, "{\"request_id\":%lld,\"retired\":%zu}\n",
				      (long long)a->id, n)
			 : cli_printf(c, "request %lld approved: %zu assets retired\n",
				      (long long)a->id, n);
}

static int reject(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	const struct retire_args *a = c->args;
	int rc = retire_reject(c->db, a->id, a->note, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "request %lld rejected\n", (long long)a->id);
}

static int list(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct retire_args *a = c->args;
	PGresult *res = NULL;
	int rc = retire_list(c->db, a->status, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static const struct cli_opt request_opts[] = {
	CLI_REQ("reason", struct retire_args, reason),
	CLI_OPT("to", struct retire_args, to),
	CLI_OPT("file", struct retire_args, file),
	CLI_OPT_END,
};
static const struct cli_opt approve_opts[] = {
	CLI_OPT("note", struct retire_args, note),
	CLI_OPT_END,
};
static const struct cli_opt reject_opts[] = {
	CLI_REQ("note", struct retire_args, note),
	CLI_OPT_END,
};
static const struct cli_opt list_opts[] = {
	CLI_OPT("status", struct retire_args, status),
	CLI_OPT_END,
};

static const struct cli_cmd retire_cmds[] = {
	{ .name = "request",
	  .run = request,
	  .check = check_request,
	  CLI_ARGS(struct retire_args, request_opts),
	  .min_pos = 1,
	  .max_pos = 100000,
	  .need = "retire request needs scrap|return_to_maker --reason TEXT",
	  .summary = "request a scrapping or a return to the maker, with a reason",
	  .help = "usage: meterlab retire request scrap|return_to_maker --reason TEXT [--to MAKER]\n"
		  "       [BARCODE...] [--file FILE] [--json]\n\n"
		  "Nothing changes until a second person with the asset.retire permission approves." },
	{ .name = "approve",
	  .run = approve,
	  .check = check_id,
	  CLI_ARGS(struct retire_args, approve_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "retire approve needs REQUEST",
	  .flags = CLI_NEED_DB,
	  .summary = "approve a retirement request (a second person)",
	  .help = "usage: meterlab retire approve REQUEST [--note TEXT] [--json]" },
	{ .name = "reject",
	  .run = reject,
	  .check = check_id,
	  CLI_ARGS(struct retire_args, reject_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "retire reject needs REQUEST --note TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "reject a retirement request (a second person)",
	  .help = "usage: meterlab retire reject REQUEST --note TEXT" },
	{ .name = "list",
	  .run = list,
	  CLI_ARGS(struct retire_args, list_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "retirement requests, newest first",
	  .help = "usage: meterlab retire list [--status pending|approved|rejected] [--json]" },
	{ .name = NULL },
};

const struct cli_cmd cmd_retire = {
	.name = "retire",
	.help = "Return to the maker and scrapping, with a second person's approval.",
	.sub = retire_cmds
};
