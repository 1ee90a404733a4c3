/*
 * cmd_order.c — `meterlab order ...`: distribution orders (配送) between
 * stores (stores/stores.h).
 */
#include <stdlib.h>
#include <string.h>

#include "assets/registry.h"
#include "cli/cli.h"
#include "common/json.h"
#include "stores/stores.h"

#define ORDER_MAX_LINES 200
/* barcodes still in transit named on `order receive`'s summary line */
#define RECEIVE_SHOW 20

struct order_args {
	const char *from, *to, *note, *file, *reason, *status;
	const char *line[ORDER_MAX_LINES];
	int nline;
	const char *missing[1000];
	int nmissing;
	int64_t id;
	struct order_line lines[ORDER_MAX_LINES];
	char models[ORDER_MAX_LINES][72];
};

static int check_id(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	struct order_args *a = c->args;
	return cli_parse_id(c, "order", c->pos[0], &a->id);
}

/* --line MODEL:QTY */
static int check_create(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	struct order_args *a = c->args;
	for (int i = 0; i < a->nline; i++) {
		const char *colon = strrchr(a->line[i], ':');
		long long q = 0;
		size_t mlen = colon ? (size_t)(colon - a->line[i]) : 0;
		if (!colon || mlen == 0 || mlen >= sizeof(a->models[i]) ||
		    cli_strtoll(colon + 1, 1, 1000000, &q))
			return cli_call_usage(
				c, "--line '%s' is not MODEL:QUANTITY (quantity 1..1000000)",
				a->line[i]);
		memcpy(a->models[i], a->line[i], mlen);
		a->models[i][mlen] = '\0';
		a->lines[i] = (struct order_line){ .model = a->models[i], .quantity = (int)q };
	}
	return ML_OK;
}

static int create(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct order_args *a = c->args;
	struct order_file f = { 0 };
	struct order_line *lines = NULL;
	const char **bcs = NULL;
	char *data = NULL;
	size_t len = 0;
	int64_t id = 0;
	int rc = ML_OK;
	if (a->file) {
		rc = asset_read_file(a->file, &data, &len, &c->err);
		if (!rc)
			rc = order_file_parse(data, len, &f, &c->err);
		if (rc) {
			ml_error_prefix(&c->err, "%s: ", a->file);
			goto out;
		}
	}
	size_t nl = (size_t)a->nline + f.nlines, nb = (size_t)c->npos + f.nbarcodes;
	if (nl + nb == 0) {
		rc = cli_call_usage(
			c, "an order needs --line MODEL:QTY, barcodes, or --file LINES.csv");
		goto out;
	}
	lines = calloc(nl + 1, sizeof(*lines));
	bcs = calloc(nb + 1, sizeof(*bcs));
	if (!lines || !bcs) {
		rc = ml_errorf(&c->err, ML_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(lines, a->lines, (size_t)a->nline * sizeof(*lines));
	if (f.nlines)
		memcpy(lines + a->nline, f.lines, f.nlines * sizeof(*lines));
	for (int i = 0; i < c->npos; i++)
		bcs[i] = c->pos[i];
	if (f.nbarcodes)
		memcpy(bcs + c->npos, f.barcodes, f.nbarcodes * sizeof(*bcs));
	rc = cli_call_db(ctx, c);
	if (!rc)
		rc = order_create(c->db, a->from, a->to, lines, nl, bcs, nb, a->note, &id, &c->err);
	if (!rc)
		rc = ctx->json ? cli_printf(c, "{\"order_id\":%lld}\n", (long long)id)
			       : cli_printf(c, "order %lld created: %s -> %s\n", (long long)id,
					    a->from, a->to);
out:
	free(lines);
	free(bcs);
	free(data);
	order_file_free(&f);
	return rc;
}

static int pick(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct order_args *a = c->args;
	struct cli_scan s;
	struct stock_scan_report rep = { 0 };
	int rc = cli_scan_load(c, a->file, 1, &s);
	if (!rc)
		rc = cli_call_db(ctx, c);
	if (!rc) {
		rc = order_pick(c->db, a->id, s.v, s.n, &rep, &c->err);
		int r2 = cli_scan_report(ctx, c, &s, &rep, "picked", rc == ML_OK);
		if (!rc)
			rc = r2;
	}
	stock_scan_report_free(&rep);
	cli_scan_free(&s);
	return rc;
}

static int dispatch(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct order_args *a = c->args;
	size_t n = 0;
	int rc = order_dispatch(c->db, a->id, &n, &c->err);
	if (rc)
		return rc;
	return ctx->json ? cli_printf(c, "{\"order_id\":%lld,\"dispatched\":%zu}\n",
				      (long long)a->id, n)
			 : cli_printf(c, "order %lld dispatched: %zu assets in transit\n",
				      (long long)a->id, n);
}

static int receive(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct order_args *a = c->args;
	struct cli_scan s;
	struct order_receive_report rep = { 0 };
	struct ml_buf b = ML_BUF_INIT;
	int rc = cli_scan_load(c, a->file, 1, &s);
	if (!rc)
		rc = cli_call_db(ctx, c);
	if (!rc)
		rc = order_receive(c->db, a->id, s.v, s.n, &rep, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_int(&b, 1, "order_id", a->id);
		for (int k = 0; k < ORDER_OUTCOME_COUNT; k++)
			ml_json_kv_int(&b, 0, order_outcome_name((enum order_outcome)k),
				       (int64_t)rep.n[k]);
		ml_buf_puts(&b, ",\"scans\":[");
		for (size_t i = 0; i < rep.nscans; i++) {
			ml_buf_puts(&b, i ? ",{" : "{");
			ml_json_kv_str(&b, 1, "code", rep.scans[i].code);
			ml_json_kv_str(&b, 0, "outcome", order_outcome_name(rep.scans[i].outcome));
			ml_json_kv_str(&b, 0, "message", rep.scans[i].msg);
			ml_buf_putc(&b, '}');
		}
		/* what is left: a count and the first page, as the API answers
		 * (the whole list is `order in-transit`) */
		ml_buf_puts(&b, "]");
		ml_json_kv_int(&b, 0, "in_transit_count", (int64_t)rep.in_transit);
		ml_buf_puts(&b, ",\"in_transit\":[");
		for (size_t i = 0; i < rep.npage; i++) {
			if (i)
				ml_buf_putc(&b, ',');
			ml_json_str(&b, rep.page[i]);
		}
		ml_buf_puts(&b, "]");
		ml_json_kv_str(&b, 0, "next",
			       rep.in_transit > rep.npage && rep.npage ? rep.page[rep.npage - 1]
								       : NULL);
		ml_buf_putc(&b, '}');
	} else {
		for (size_t i = 0; i < rep.nscans; i++)
			if (rep.scans[i].outcome != ORDER_RECEIVED)
				ml_buf_printf(&b, "%s: %s\n",
					      order_outcome_name(rep.scans[i].outcome),
					      rep.scans[i].msg);
		ml_buf_printf(
			&b,
			"order %lld: %zu received, %zu extra, %zu wrong, %zu duplicate; %zu still missing",
			(long long)a->id, rep.n[ORDER_RECEIVED], rep.n[ORDER_EXTRA],
			rep.n[ORDER_WRONG], rep.n[ORDER_DUPLICATE], rep.in_transit);
		/* a few names on the line, not 100 000: the rest on request */
		size_t show = rep.npage < RECEIVE_SHOW ? rep.npage : RECEIVE_SHOW;
		for (size_t i = 0; i < show; i++)
			ml_buf_printf(&b, "%s%s", i ? " " : ": ", rep.page[i]);
		if (rep.in_transit > show)
			ml_buf_printf(&b, " … and %zu more (meterlab order in-transit %lld)",
				      rep.in_transit - show, (long long)a->id);
	}
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	order_receive_report_free(&rep);
	cli_scan_free(&s);
	return rc;
}

/* Every barcode still in transit, one a line (or a JSON array), read a page
 * of ORDER_TRANSIT_PAGE_MAX at a time: what `order close --missing` must
 * name. Asked for, so printed whole however long. */
static int in_transit(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct order_args *a = c->args;
	struct ml_buf b = ML_BUF_INIT;
	PGresult *res = NULL;
	char after[72] = "";
	size_t total = 0;
	int rc = order_show(c->db, a->id, &res, &c->err); /* an unknown order is 404, not empty */
	PQclear(res);
	res = NULL;
	if (ctx->json)
		ml_buf_printf(&b, "{\"order_id\":%lld,\"in_transit\":[", (long long)a->id);
	while (!rc) {
		rc = order_in_transit(c->db, a->id, total ? after : NULL, 0, &res, &c->err);
		if (rc)
			break;
		int n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			if (ctx->json) {
				if (total + (size_t)i)
					ml_buf_putc(&b, ',');
				ml_json_str(&b, PQgetvalue(res, i, 0));
			} else {
				ml_buf_printf(&b, "%s\n", PQgetvalue(res, i, 0));
			}
		}
		total += (size_t)n;
		if (n > 0)
			snprintf(after, sizeof(after), "%s", PQgetvalue(res, n - 1, 0));
		PQclear(res);
		res = NULL;
		if (n < ORDER_TRANSIT_PAGE_MAX)
			break;
	}
	if (!rc) {
		if (ctx->json)
			ml_buf_puts(&b, "]}\n");
		else
			ml_buf_printf(&b, "order %lld: %zu still in transit\n", (long long)a->id,
				      total);
		rc = cli_emit(c, &b, 0);
	}
	ml_buf_free(&b);
	return rc;
}

static int close_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct order_args *a = c->args;
	size_t lost = 0;
	int rc = order_close(c->db, a->id, a->missing, (size_t)a->nmissing, a->reason, &lost,
			     &c->err);
	if (rc)
		return rc;
	return ctx->json
		       ? cli_printf(c, "{\"order_id\":%lld,\"lost\":%zu}\n", (long long)a->id, lost)
		       : cli_printf(c, "order %lld closed; %zu reported missing (recorded lost)\n",
				    (long long)a->id, lost);
}

static int cancel(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	const struct order_args *a = c->args;
	int rc = order_cancel(c->db, a->id, a->reason, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "order %lld cancelled\n", (long long)a->id);
}

static int show(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct order_args *a = c->args;
	PGresult *res = NULL;
	int rc = order_show(c->db, a->id, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int list(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct order_args *a = c->args;
	PGresult *res = NULL;
	int rc = order_list(c->db, a->status, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static const struct cli_opt create_opts[] = {
	CLI_REQ("from", struct order_args, from),         CLI_REQ("to", struct order_args, to),
	CLI_LIST("line", struct order_args, line, nline), CLI_OPT("note", struct order_args, note),
	CLI_OPT("file", struct order_args, file),         CLI_OPT_END,
};
static const struct cli_opt file_opts[] = {
	CLI_OPT("file", struct order_args, file),
	CLI_OPT_END,
};
static const struct cli_opt close_opts[] = {
	CLI_LIST("missing", struct order_args, missing, nmissing),
	CLI_OPT("reason", struct order_args, reason),
	CLI_OPT_END,
};
static const struct cli_opt cancel_opts[] = {
	CLI_REQ("reason", struct order_args, reason),
	CLI_OPT_END,
};
/* no options, but the argument struct all the same: check_id writes its id */
static const struct cli_opt no_opts[] = {
	CLI_OPT_END,
};
static const struct cli_opt list_opts[] = {
	CLI_OPT("status", struct order_args, status),
	CLI_OPT_END,
};

static const struct cli_cmd order_cmds[] = {
	{ .name = "create",
	  .run = create,
	  .check = check_create,
	  CLI_ARGS(struct order_args, create_opts),
	  .max_pos = 100000,
	  .need = "order create needs --from STORE --to STORE",
	  .summary = "create a distribution order: lines by model and quantity, or barcodes",
	  .help = "usage: meterlab order create --from STORE --to STORE [--line MODEL:QTY]... [BARCODE...]\n"
		  "       [--file LINES.csv] [--note TEXT] [--json]\n\n"
		  "LINES.csv rows are MODEL,QUANTITY or a barcode in the first column. Barcodes are planned\n"
		  "on the order at once; an asset is on at most one open order." },
	{ .name = "pick",
	  .run = pick,
	  .check = check_id,
	  CLI_ARGS(struct order_args, file_opts),
	  .min_pos = 1,
	  .max_pos = 100000,
	  .need = "order pick needs ORDER",
	  .summary = "pick scanned assets against the order's lines, all or nothing",
	  .help = "usage: meterlab order pick ORDER [BARCODE...] [--file SCANS] [--json]\n\n"
		  "Refused, naming the barcode and its line: wrong model, over-picking, not in the\n"
		  "from-store, not valid for issue, on another open order; nothing is picked then." },
	{ .name = "dispatch",
	  .run = dispatch,
	  .check = check_id,
	  CLI_ARGS(struct order_args, no_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "order dispatch needs ORDER",
	  .flags = CLI_NEED_DB,
	  .summary = "dispatch the picked assets: in transit on the order",
	  .help = "usage: meterlab order dispatch ORDER [--json]" },
	{ .name = "receive",
	  .run = receive,
	  .check = check_id,
	  CLI_ARGS(struct order_args, file_opts),
	  .min_pos = 1,
	  .max_pos = 100000,
	  .need = "order receive needs ORDER",
	  .summary = "receive at the destination by scanning; reports missing, extra, wrong",
	  .help = "usage: meterlab order receive ORDER [BARCODE...] [--file SCANS] [--json]" },
	{ .name = "in-transit",
	  .run = in_transit,
	  .check = check_id,
	  CLI_ARGS(struct order_args, no_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "order in-transit needs ORDER",
	  .flags = CLI_NEED_DB,
	  .summary = "every barcode of the order still in transit (not yet received), one a line",
	  .help = "usage: meterlab order in-transit ORDER [--json]\n\n"
		  "What `order receive` counts as still missing, all of it (receive names the first\n"
		  "20): what `order close --missing` must name." },
	{ .name = "close",
	  .run = close_cmd,
	  .check = check_id,
	  CLI_ARGS(struct order_args, close_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "order close needs ORDER",
	  .flags = CLI_NEED_DB,
	  .summary = "close a received order; what never arrived is reported missing (lost)",
	  .help = "usage: meterlab order close ORDER [--missing BARCODE]... [--reason TEXT] [--json]\n\n"
		  "Refused while an asset is neither received nor listed with --missing; listed ones are\n"
		  "recorded lost in transit, by you, with the reason." },
	{ .name = "cancel",
	  .run = cancel,
	  .check = check_id,
	  CLI_ARGS(struct order_args, cancel_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "order cancel needs ORDER --reason TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "cancel an order not dispatched yet",
	  .help = "usage: meterlab order cancel ORDER --reason TEXT" },
	{ .name = "show",
	  .run = show,
	  .check = check_id,
	  CLI_ARGS(struct order_args, no_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "order show needs ORDER",
	  .flags = CLI_NEED_DB,
	  .summary = "an order's lines: wanted, picked, in transit, received, missing",
	  .help = "usage: meterlab order show ORDER [--json]" },
	{ .name = "list",
	  .run = list,
	  CLI_ARGS(struct order_args, list_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "distribution orders, newest first",
	  .help = "usage: meterlab order list [--status open|dispatched|closed|cancelled] [--json]" },
	{ .name = NULL },
};

const struct cli_cmd cmd_order = { .name = "order",
				   .help = "Distribution orders (配送) between stores.",
				   .sub = order_cmds };
