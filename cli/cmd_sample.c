/*
 * meterlab sample plan — arrival sampling plans by ISO 2859-1 / GB/T 2828.1
 * (normal inspection, single sampling; lab/sampling.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "lab/decimal.h"
#include "lab/sampling.h"

static void render(const struct sampling_plan *p, int json, struct ml_buf *b)
{
	const char *arrow = p->arrow > 0 ? "down" : p->arrow < 0 ? "up" : "none";
	if (json) {
		ml_buf_putc(b, '{');
		ml_json_kv_int(b, 1, "lot_size", p->lot_size);
		ml_json_kv_str(b, 0, "level", sampling_level_name(p->level));
		ml_json_kv_str(b, 0, "aql", p->aql);
		ml_json_kv_str(b, 0, "inspection", "normal");
		ml_buf_printf(b, ",\"code_letter\":\"%c\",\"plan_letter\":\"%c\"", p->code_letter,
			      p->plan_letter);
		ml_json_kv_str(b, 0, "arrow", arrow);
		ml_json_kv_int(b, 0, "sample_size", p->sample_size);
		ml_json_kv_int(b, 0, "ac", p->ac);
		ml_json_kv_int(b, 0, "re", p->re);
		ml_json_kv_bool(b, 0, "full_inspection", p->full_inspection);
		ml_json_kv_bool(b, 0, "unverified", p->unverified);
		ml_buf_putc(b, '}');
		return;
	}
	ml_buf_printf(
		b,
		"lot size      %u\nlevel         %s (normal inspection, single sampling)\nAQL           %s %%\n",
		p->lot_size, sampling_level_name(p->level), p->aql);
	ml_buf_printf(b, "code letter   %c", p->code_letter);
	if (p->arrow)
		ml_buf_printf(b, " (arrow %s: plan of letter %c)", arrow, p->plan_letter);
	ml_buf_printf(
		b,
		"\nsample size   %u%s\naccept (Ac)   %d nonconforming or fewer\nreject (Re)   %d or more",
		p->sample_size,
		p->full_inspection
			? " (100 % inspection: the plan's sample is not smaller than the lot)"
			: "",
		p->ac, p->re);
	if (p->unverified)
		ml_buf_puts(
			b,
			"\nWARNING: this cell of Table 2-A is unverified in the reference; check the standard");
}

struct plan_args {
	const char *lot, *level, *aql;
};

static const struct cli_opt plan_opts[] = {
	CLI_REQ("lot-size", struct plan_args, lot),
	CLI_OPT("level", struct plan_args, level),
	CLI_REQ("aql", struct plan_args, aql),
	CLI_OPT_END,
};

static int sample_plan(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	struct ml_buf b = ML_BUF_INIT;
	struct sampling_plan p;
	enum sampling_level lv;
	int64_t n;
	int rc = ML_OK;
	if (dec_parse(a->lot, 0, &n, NULL) || n < 2 || n > UINT32_MAX) {
		rc = ml_errorf(&c->err, ML_EINVAL,
			       "--lot-size '%s' must be a whole number of at least 2", a->lot);
		goto out;
	}
	rc = sampling_level_parse(a->level ? a->level : "II", &lv, &c->err);
	if (rc)
		goto out;
	rc = sampling_plan_normal((uint32_t)n, lv, a->aql, &p, &c->err);
	if (rc)
		goto out;
	render(&p, ctx->json, &b);
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

static const struct cli_cmd sample_cmds[] = {
	{ .name = "plan",
	  .run = sample_plan,
	  CLI_ARGS(struct plan_args, plan_opts),
	  .need = "sample plan needs --lot-size and --aql (see --help)",
	  .summary = "sampling plan for a lot (ISO 2859-1 normal single sampling)",
	  .help = "usage: meterlab sample plan --lot-size N [--level II] --aql AQL [--json]\n\n"
		  "Sample size code letter (ISO 2859-1 Table 1) and normal single sampling plan (Table 2-A,\n"
		  "arrows resolved) for an arriving lot. Levels S-1 S-2 S-3 S-4 I II III (default II);\n"
		  "AQL 0.010 0.015 0.025 0.040 0.065 0.10 0.15 0.25 0.40 0.65 1.0 1.5 2.5 4.0 6.5 (% nonconforming).\n"
		  "When the plan's sample size reaches the lot size, every item is inspected.\n"
		  "Tightened/reduced inspection and the switching rules are not provided (unverified in the\n"
		  "reference); the plan printed is always the normal-inspection plan." },
	{ .name = NULL },
};

const struct cli_cmd cmd_sample = {
	.name = "sample",
	.help = "Arrival (lot acceptance) sampling, ISO 2859-1 / GB/T 2828.1.",
	.sub = sample_cmds,
};
