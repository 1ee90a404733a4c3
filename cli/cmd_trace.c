/*
 * meterlab standard trace — reverse traceability of a reference standard
 * or a bench (quality/trace.h): the recall list as text, JSON or CSV.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "quality/trace.h"

struct trace_args {
	const char *bench, *since, *until, *csv, *flag, *reason;
};

static const struct cli_opt trace_opts[] = {
	CLI_OPT("bench", struct trace_args, bench),
	CLI_REQ("since", struct trace_args, since),
	CLI_OPT("until", struct trace_args, until),
	CLI_FLAG("csv", struct trace_args, csv),
	CLI_FLAG("flag", struct trace_args, flag),
	CLI_OPT("reason", struct trace_args, reason),
	CLI_OPT_END,
};

static int trace_check(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct trace_args *a = c->args;
	if ((c->npos == 1) == (a->bench != NULL))
		return cli_call_usage(
			c, "standard trace needs a standard CODE or --bench CODE, not both");
	if (a->csv && ctx->json)
		return cli_call_usage(c, "standard trace: --csv and --json exclude each other");
	if (!a->flag != !a->reason)
		return cli_call_usage(
			c, "standard trace: --flag needs --reason R (and --reason, --flag)");
	return ML_OK;
}

static int trace_run(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct trace_args *a = c->args;
	struct trace_list t;
	struct ml_buf b = ML_BUF_INIT;
	memset(&t, 0, sizeof t);
	int rc = trace_load(c->db, c->npos ? c->pos[0] : NULL, a->bench, a->since, a->until, &t,
			    &c->err);
	if (rc)
		goto out;
	if (a->flag) {
		/* the same window and subject as the list printed below */
		size_t n = 0;
		rc = trace_flag(c->db, c->npos ? c->pos[0] : NULL, a->bench, a->since, a->until,
				a->reason, &n, &c->err);
		if (rc)
			goto out;
		fprintf(stderr, "%zu assets flagged for re-verification\n", n);
	}
	if (ctx->json)
		trace_json(&t, &b);
	else if (a->csv)
		trace_csv(&t, &b);
	else
		trace_text(&t, &b);
	rc = cli_emit(c, &b, ctx->json);
out:
	trace_list_free(&t);
	ml_buf_free(&b);
	return rc;
}

const struct cli_cmd cmd_standard_trace = {
	.name = "trace",
	.check = trace_check,
	.run = trace_run,
	CLI_ARGS(struct trace_args, trace_opts),
	.min_pos = 0,
	.max_pos = 1,
	.need = "standard trace needs --since YYYY-MM-DD",
	.flags = CLI_NEED_DB,
	.summary =
		"recall list: runs, certificates and whereabouts of a standard's or bench's work",
	.help = "usage: meterlab standard trace CODE --since YYYY-MM-DD [--until YYYY-MM-DD] [--csv|--json]\n"
		"       meterlab standard trace --bench CODE --since YYYY-MM-DD [--until YYYY-MM-DD] [--csv|--json]\n\n"
		"When a reference standard is found out of tolerance or its certificate is withdrawn (or a\n"
		"bench is found faulty): every run dated in the window on a bench that uses the standard (or\n"
		"on the bench), each asset of those runs with its verdict, its current certificate from the\n"
		"run (revisions followed; withdrawn ones named) and where the asset is now (in stock and\n"
		"where, installed at which site, returned, scrapped). Text, JSON or CSV.\n\n"
		"--flag --reason R flags every listed asset still in the centre's hands for\n"
		"re-verification, all or nothing: it can no longer be issued, dispatched or installed\n"
		"until it passes verification again. Permission trace.flag (quality analyst, manager).",
};
