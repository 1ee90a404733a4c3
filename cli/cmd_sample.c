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

static int render(const struct sampling_plan *p, int json, struct ml_buf *b)
{
	int rc = 0;
	const char *arrow = p->arrow > 0 ? "down" : p->arrow < 0 ? "up" : "none";
	if (json) {
		rc |= ml_buf_putc(b, '{');
		rc |= ml_json_kv_int(b, 1, "lot_size", p->lot_size);
		rc |= ml_json_kv_str(b, 0, "level", sampling_level_name(p->level));
		rc |= ml_json_kv_str(b, 0, "aql", p->aql);
		rc |= ml_json_kv_str(b, 0, "inspection", "normal");
		rc |= ml_buf_printf(b, ",\"code_letter\":\"%c\",\"plan_letter\":\"%c\"",
				    p->code_letter, p->plan_letter);
		rc |= ml_json_kv_str(b, 0, "arrow", arrow);
		rc |= ml_json_kv_int(b, 0, "sample_size", p->sample_size);
		rc |= ml_json_kv_int(b, 0, "ac", p->ac);
		rc |= ml_json_kv_int(b, 0, "re", p->re);
		rc |= ml_json_kv_bool(b, 0, "full_inspection", p->full_inspection);
		rc |= ml_json_kv_bool(b, 0, "unverified", p->unverified);
		rc |= ml_buf_putc(b, '}');
		return rc;
	}
	rc |= ml_buf_printf(
		b,
		"lot size      %u\nlevel         %s (normal inspection, single sampling)\nAQL           %s %%\n",
		p->lot_size, sampling_level_name(p->level), p->aql);
	rc |= ml_buf_printf(b, "code letter   %c", p->code_letter);
	if (p->arrow)
		rc |= ml_buf_printf(b, " (arrow %s: plan of letter %c)", arrow, p->plan_letter);
	rc |= ml_buf_printf(
		b,
		"\nsample size   %u%s\naccept (Ac)   %d nonconforming or fewer\nreject (Re)   %d or more",
		p->sample_size,
		p->full_inspection
			? " (100 % inspection: the plan's sample is not smaller than the lot)"
			: "",
		p->ac, p->re);
	if (p->unverified)
		rc |= ml_buf_puts(
			b,
			"\nWARNING: this cell of Table 2-A is unverified in the reference; check the standard");
	return rc;
}

static int sample_plan(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab sample plan --lot-size N [--level II] --aql AQL [--json]\n\n"
		    "Sample size code letter (ISO 2859-1 Table 1) and normal single sampling plan (Table 2-A,\n"
		    "arrows resolved) for an arriving lot. Levels S-1 S-2 S-3 S-4 I II III (default II);\n"
		    "AQL 0.010 0.015 0.025 0.040 0.065 0.10 0.15 0.25 0.40 0.65 1.0 1.5 2.5 4.0 6.5 (% nonconforming).\n"
		    "When the plan's sample size reaches the lot size, every item is inspected.\n"
		    "Tightened/reduced inspection and the switching rules are not provided (unverified in the\n"
		    "reference); the plan printed is always the normal-inspection plan."))
		return CLI_OK;
	const char *lot = NULL, *level = "II", *aql = NULL;
	for (int i = 1; i < argc; i++) {
		if (!cli_take_opt(argc, argv, &i, "--lot-size", &lot) &&
		    !cli_take_opt(argc, argv, &i, "--level", &level) &&
		    !cli_take_opt(argc, argv, &i, "--aql", &aql))
			return cli_usage("sample plan: unexpected argument '%s' (see --help)",
					 argv[i]);
	}
	if (!lot || !aql)
		return cli_usage("sample plan needs --lot-size and --aql (see --help)");
	struct ml_error err = ML_ERROR_INIT;
	int64_t n;
	enum sampling_level lv;
	if (dec_parse(lot, 0, &n, NULL) || n < 2 || n > UINT32_MAX) {
		ml_errorf(&err, ML_EINVAL, "--lot-size '%s' must be a whole number of at least 2",
			  lot);
		return cli_fail(&err);
	}
	struct sampling_plan p;
	if (sampling_level_parse(level, &lv, &err) ||
	    sampling_plan_normal((uint32_t)n, lv, aql, &p, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	int rc = render(&p, ctx->json, &b) ? CLI_INTERNAL : cli_out(&b, 1);
	ml_buf_free(&b);
	return rc;
}

int cmd_sample(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd table[] = {
		{ "plan", sample_plan,
		  "sampling plan for a lot (ISO 2859-1 normal single sampling)" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(ctx, "sample",
			    "Arrival (lot acceptance) sampling, ISO 2859-1 / GB/T 2828.1.", table,
			    argc, argv);
}
