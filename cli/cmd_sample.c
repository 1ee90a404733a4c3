/*
 * meterlab sample plan|select — arrival sampling by ISO 2859-1 / GB/T 2828.1:
 * single sampling plans under normal, tightened and reduced inspection
 * (lab/sampling.h), and the reproducible draw of a lot's sample from a seed
 * (lab/sampling_draw.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "lab/decimal.h"
#include "lab/sampling.h"
#include "lab/sampling_draw.h"
#include "lab/sampling_lot.h"
#include "sql/db.h"

static void render(const struct sampling_plan *p, int json, struct ml_buf *b)
{
	const char *arrow = p->arrow > 0 ? "down" : p->arrow < 0 ? "up" : "none";
	if (json) {
		ml_buf_putc(b, '{');
		ml_json_kv_int(b, 1, "lot_size", p->lot_size);
		ml_json_kv_str(b, 0, "level", sampling_level_name(p->level));
		ml_json_kv_str(b, 0, "aql", p->aql);
		ml_json_kv_str(b, 0, "inspection", sampling_severity_name(p->severity));
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
		"lot size      %u\nlevel         %s (%s inspection, single sampling, Table %s)\nAQL           %s %%\n",
		p->lot_size, sampling_level_name(p->level), sampling_severity_name(p->severity),
		p->severity == SAMPLING_TIGHTENED ? "2-B"
		: p->severity == SAMPLING_REDUCED ? "2-C"
						  : "2-A",
		p->aql);
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
			"\nWARNING: this cell is unverified (Table 2-A edge cell, or Table 2-C, which has one "
			"source); check the standard");
}

struct plan_args {
	const char *lot, *level, *aql, *severity;
};

static const struct cli_opt plan_opts[] = {
	CLI_REQ("lot-size", struct plan_args, lot),
	CLI_OPT("level", struct plan_args, level),
	CLI_REQ("aql", struct plan_args, aql),
	CLI_OPT("severity", struct plan_args, severity),
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
	enum sampling_severity sv = SAMPLING_NORMAL;
	if (a->severity && (rc = sampling_severity_parse(a->severity, &sv, &c->err)))
		goto out;
	rc = sampling_plan_for((uint32_t)n, lv, a->aql, sv, &p, &c->err);
	if (rc)
		goto out;
	render(&p, ctx->json, &b);
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

struct select_args {
	const char *lot, *seed, *size, *level, *aql, *severity;
};

static const struct cli_opt select_opts[] = {
	CLI_REQ("lot", struct select_args, lot),
	CLI_OPT("seed", struct select_args, seed),
	CLI_OPT("size", struct select_args, size),
	CLI_OPT("level", struct select_args, level),
	CLI_OPT("aql", struct select_args, aql),
	CLI_OPT("severity", struct select_args, severity),
	CLI_OPT_END,
};

static int select_check(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	const struct select_args *a = c->args;
	if (!a->size == !a->aql)
		return cli_call_usage(
			c, "sample select needs --size N or --aql AQL (the plan's size), "
			   "not both");
	if (a->size && (a->level || a->severity))
		return cli_call_usage(c, "sample select: --level and --severity go with --aql");
	return ML_OK;
}

/* The lot's barcodes in ascending order (the draw's list) and the SHA-256 of the list. */
static int lot_list(struct db *db, const char *lot, PGresult **rows, char *sha, size_t sha_size,
		    struct ml_error *err)
{
	const char *p[1] = { lot };
	PGresult *r = NULL;
	int rc = db_query_one(
		db,
		"SELECT count(*) AS n, encode(sha256(convert_to(coalesce(string_agg("
		"a.barcode, E'\\n' ORDER BY a.barcode), ''), 'UTF8')), 'hex') AS sha "
		"FROM lot l LEFT JOIN asset a ON a.lot_id = l.lot_id WHERE l.code = $1 "
		"GROUP BY l.lot_id",
		1, p, &r, err);
	if (rc == ML_ENOTFOUND || (!rc && PQntuples(r) != 1)) {
		PQclear(r);
		return ml_errorf(err, ML_ENOTFOUND, "no lot '%s'", lot);
	}
	if (rc)
		return rc;
	snprintf(sha, sha_size, "%s", db_get(r, 0, "sha"));
	PQclear(r);
	return db_exec(db,
		       "SELECT a.barcode FROM asset a JOIN lot l ON l.lot_id = a.lot_id "
		       "WHERE l.code = $1 ORDER BY a.barcode",
		       1, p, PGRES_TUPLES_OK, rows, err);
}

static int sample_select(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct select_args *a = c->args;
	PGresult *rows = NULL;
	struct ml_buf b = ML_BUF_INIT;
	size_t *idx = NULL;
	uint8_t seed[SAMPLING_SEED_LEN];
	char seedhex[2 * SAMPLING_SEED_LEN + 1], sha[65];
	struct sampling_plan p;
	int have_plan = 0;
	int rc = a->seed ? sampling_seed_parse(a->seed, seed, &c->err)
			 : sampling_seed_new(seed, &c->err);
	if (rc)
		goto out;
	sampling_seed_hex(seed, seedhex);
	if ((rc = lot_list(c->db, a->lot, &rows, sha, sizeof sha, &c->err)))
		goto out;
	size_t n = (size_t)PQntuples(rows), k = 0;
	if (a->size) {
		long long v = 0;
		if (cli_strtoll(a->size, 0, (long long)n, &v)) {
			rc = ml_errorf(&c->err, ML_EINVAL,
				       "--size '%s' is not a number of 0..%zu (the lot)", a->size,
				       n);
			goto out;
		}
		k = (size_t)v;
	} else {
		enum sampling_level lv;
		enum sampling_severity sv = SAMPLING_NORMAL;
		if ((rc = sampling_level_parse(a->level ? a->level : "II", &lv, &c->err)) ||
		    (a->severity && (rc = sampling_severity_parse(a->severity, &sv, &c->err))) ||
		    (rc = sampling_plan_for((uint32_t)n, lv, a->aql, sv, &p, &c->err)))
			goto out;
		have_plan = 1;
		k = p.sample_size;
	}
	idx = calloc(k ? k : 1, sizeof *idx);
	if (!idx) {
		rc = ml_errorf(&c->err, ML_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = sampling_draw(seed, n, k, idx, &c->err)))
		goto out;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_str(&b, 1, "lot", a->lot);
		ml_json_kv_int(&b, 0, "lot_size", (int64_t)n);
		ml_json_kv_str(&b, 0, "list_sha256", sha);
		ml_json_kv_str(&b, 0, "algorithm", SAMPLING_DRAW_ALGORITHM);
		ml_json_kv_str(&b, 0, "seed", seedhex);
		if (have_plan) {
			ml_buf_puts(&b, ",\"plan\":");
			render(&p, 1, &b);
		}
		ml_buf_puts(&b, ",\"barcodes\":[");
		for (size_t i = 0; i < k; i++) {
			if (i)
				ml_buf_putc(&b, ',');
			ml_json_str(&b, PQgetvalue(rows, (int)idx[i], 0));
		}
		ml_buf_puts(&b, "]}");
	} else {
		ml_buf_printf(&b, "lot %s: %zu assets (list sha256 %s)\nalgorithm %s\nseed %s\n",
			      a->lot, n, sha, SAMPLING_DRAW_ALGORITHM, seedhex);
		if (have_plan)
			ml_buf_printf(
				&b,
				"plan %s, %s, AQL %s: code letter %c, sample %u, Ac %d, Re %d%s\n",
				sampling_severity_name(p.severity), sampling_level_name(p.level),
				p.aql, p.code_letter, p.sample_size, p.ac, p.re,
				p.unverified ? " (unverified cell)" : "");
		ml_buf_printf(&b, "selected %zu, in draw order:", k);
		for (size_t i = 0; i < k; i++)
			ml_buf_printf(&b, "\n%4zu  %s", i + 1, PQgetvalue(rows, (int)idx[i], 0));
	}
	rc = cli_emit(c, &b, 1);
out:
	PQclear(rows);
	free(idx);
	ml_buf_free(&b);
	return rc;
}

/* ---- a lot's sampling that decides it (0273) ---- */

struct lot_args {
	const char *lot, *level, *aql, *seed, *note;
};

static int sample_draw(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct lot_args *a = c->args;
	PGresult *res = NULL;
	int rc = sampling_lot_draw(c->db, a->lot, a->level, a->aql, a->seed, &res, &c->err);
	if (rc)
		return rc;
	PQclear(res);
	rc = sampling_lot_show(c->db, a->lot, &res, &c->err);
	if (rc)
		return rc;
	if (!ctx->json) {
		rc = cli_printf(c,
				"lot %s quarantined: sample of %s drawn (plan %s, Ac %s Re %s, %s "
				"inspection), seed %s\n",
				a->lot, db_get(res, 0, "sample_size"),
				db_get(res, 0, "plan_letter"), db_get(res, 0, "ac"),
				db_get(res, 0, "re"), db_get(res, 0, "severity"),
				db_get(res, 0, "seed"));
		PQclear(res);
		if (rc)
			return rc;
		const char *p[1] = { a->lot };
		rc = db_exec(c->db,
			     "SELECT i.draw_order, a.barcode, a.state FROM lot_sample_item i "
			     "JOIN asset a USING (asset_id) JOIN lot l ON l.lot_id = i.lot_id "
			     "WHERE l.code = $1 ORDER BY i.draw_order",
			     1, p, PGRES_TUPLES_OK, &res, &c->err);
		if (rc)
			return rc;
	}
	return cli_print_result(ctx, c, res);
}

static int sample_judge(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct lot_args *a = c->args;
	struct sampling_lot_verdict v;
	int rc = sampling_lot_judge(c->db, a->lot, &v, &c->err);
	if (rc)
		return rc;
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_str(&b, 1, "verdict", v.verdict[0] ? v.verdict : NULL);
		ml_json_kv_int(&b, 0, "nonconforming", v.nonconforming);
		ml_json_kv_int(&b, 0, "judged", v.judged);
		ml_json_kv_int(&b, 0, "sample_size", v.sample_size);
		ml_json_kv_int(&b, 0, "ac", v.ac);
		ml_json_kv_int(&b, 0, "re", v.re);
		ml_buf_putc(&b, '}');
	} else {
		ml_buf_printf(&b,
			      "lot %s: %d of %d drawn assets verified, %d nonconforming (Ac %d, "
			      "Re %d): %s",
			      a->lot, v.judged, v.sample_size, v.nonconforming, v.ac, v.re,
			      v.verdict[0] ? v.verdict : "not decidable yet");
	}
	rc = cli_emit(c, &b, 1);
	ml_buf_free(&b);
	return rc;
}

static int sample_decide(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct lot_args *a = c->args;
	(void)ctx;
	char outcome[32];
	int rc = sampling_lot_decide(c->db, a->lot, c->pos[0], a->note, outcome, sizeof outcome,
				     &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "lot %s: %s confirmed; switching (ISO 2859-1 clause 9): %s\n", a->lot,
			  c->pos[0], outcome);
}

static int sample_show(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct lot_args *a = c->args;
	PGresult *res = NULL;
	int rc = sampling_lot_show(c->db, a->lot, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static const struct cli_opt draw_opts[] = {
	CLI_REQ("lot", struct lot_args, lot),
	CLI_OPT("level", struct lot_args, level),
	CLI_OPT("aql", struct lot_args, aql),
	CLI_OPT("seed", struct lot_args, seed),
	CLI_OPT_END,
};
static const struct cli_opt lot_opts[] = {
	CLI_REQ("lot", struct lot_args, lot),
	CLI_OPT("note", struct lot_args, note),
	CLI_OPT_END,
};

static const struct cli_cmd sample_cmds[] = {
	{ .name = "plan",
	  .run = sample_plan,
	  CLI_ARGS(struct plan_args, plan_opts),
	  .need = "sample plan needs --lot-size and --aql (see --help)",
	  .summary = "sampling plan for a lot (ISO 2859-1 single sampling)",
	  .help = "usage: meterlab sample plan --lot-size N [--level II] --aql AQL\n"
		  "         [--severity normal|tightened|reduced] [--json]\n\n"
		  "Sample size code letter (ISO 2859-1 Table 1) and the single sampling plan for an arriving\n"
		  "lot: Table 2-A (normal, default), 2-B (tightened) or 2-C (reduced), arrows resolved.\n"
		  "Levels S-1 S-2 S-3 S-4 I II III (default II); AQL 0.010 0.015 0.025 0.040 0.065 0.10 0.15\n"
		  "0.25 0.40 0.65 1.0 1.5 2.5 4.0 6.5 (% nonconforming). When the plan's sample size reaches\n"
		  "the lot size, every item is inspected. Table 2-C has one source: its plans print as\n"
		  "unverified (lab/README.md, 'Sampling tables 2-B and 2-C: sources')." },
	{ .name = "select",
	  .check = select_check,
	  .run = sample_select,
	  CLI_ARGS(struct select_args, select_opts),
	  .need = "sample select needs --lot (see --help)",
	  .flags = CLI_NEED_DB,
	  .summary = "which barcodes a seed draws from a lot (reproduce a draw)",
	  .help = "usage: meterlab sample select --lot LOT (--size N | --aql AQL [--level II]\n"
		  "         [--severity normal]) [--seed HEX64] [--json]\n\n"
		  "The random sample of a lot, reproducible: the lot's barcodes in ascending order, a\n"
		  "ChaCha20 stream keyed by the 32-byte seed (a fresh one from the kernel when --seed is\n"
		  "absent; always printed), a partial Fisher-Yates shuffle (algorithm chacha20-fy-v1,\n"
		  "lab/sampling_draw.h; tests/lab/sampling_draw_ref.py redoes it in plain Python). The\n"
		  "size is --size or the sampling plan's. Prints the list's SHA-256, so a second party can\n"
		  "check it holds the same list. Records and moves nothing." },
	{ .name = "draw",
	  .run = sample_draw,
	  CLI_ARGS(struct lot_args, draw_opts),
	  .need = "sample draw needs --lot",
	  .flags = CLI_NEED_DB,
	  .summary = "draw and record a lot's arrival sample; the lot is quarantined until decided",
	  .help = "usage: meterlab sample draw --lot LOT [--aql AQL] [--level II] [--seed HEX64]\n\n"
		  "Without --aql / --level: the settings sampling.aql.KIND and sampling.level.KIND of the\n"
		  "lot's kind of device (meter, transformer, concentrator; meterlab scheme settings).\n"
		  "The database computes the plan at the supplier and model's current severity (ISO\n"
		  "2859-1 clause 9), draws the sample from the seed (random when absent; recorded, so\n"
		  "'sample select --lot LOT --seed HEX' redoes it), moves the drawn assets to sampling and\n"
		  "quarantines the lot: none of its other assets may be verified, issued, dispatched or\n"
		  "installed until the lot is accepted. Permission sample.draw." },
	{ .name = "judge",
	  .run = sample_judge,
	  CLI_ARGS(struct lot_args, lot_opts),
	  .need = "sample judge needs --lot",
	  .flags = CLI_NEED_DB,
	  .summary = "the verdict (Ac/Re) the sample's verification results give so far",
	  .help = "usage: meterlab sample judge --lot LOT [--json]" },
	{ .name = "decide",
	  .run = sample_decide,
	  CLI_ARGS(struct lot_args, lot_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "accept|reject --lot LOT",
	  .flags = CLI_NEED_DB,
	  .summary = "confirm the verdict: accept releases the lot, reject returns it to the maker",
	  .help = "usage: meterlab sample decide accept|reject --lot LOT [--note T]\n\n"
		  "A person with sample.decide (quality analyst, approver, manager) confirms the verdict\n"
		  "the database computes from the sample's results; a confirmation that differs from it\n"
		  "is refused. Reject sends every asset of the lot back to the maker." },
	{ .name = "show",
	  .run = sample_show,
	  CLI_ARGS(struct lot_args, lot_opts),
	  .need = "sample show needs --lot",
	  .flags = CLI_NEED_DB,
	  .summary = "a lot's sampling record: plan, seed, who drew, verdict, who confirmed",
	  .help = "usage: meterlab sample show --lot LOT [--json]" },
	{ .name = NULL },
};

const struct cli_cmd cmd_sample = {
	.name = "sample",
	.help = "Arrival (lot acceptance) sampling, ISO 2859-1 / GB/T 2828.1.",
	.sub = sample_cmds,
};
