/*
 * cmd_stock.c — `meterlab stock ...`: slots, put-away by scanning, stock
 * counts, where an asset is, the re-verification list and send (stores/).
 */
#include <stdlib.h>
#include <string.h>

#include "assets/registry.h"
#include "cli/cli.h"
#include "common/json.h"
#include "stores/stores.h"

struct stock_args {
	const char *kind, *parent, *name, *file, *lab, *reason;
	const char *store, *slot, *model, *state, *lot, *older, *by_slot;
	struct stock_filter f;
	int64_t id;
};

int cli_scan_load(struct cli_call *c, const char *file, int first_pos, struct cli_scan *s)
{
	memset(s, 0, sizeof(*s));
	size_t npos = c->npos > first_pos ? (size_t)(c->npos - first_pos) : 0;
	size_t nfile = 0;
	int rc = ML_OK;
	if (file) {
		size_t len = 0;
		rc = asset_read_file(file, &s->data, &len, &c->err);
		/* a spreadsheet's "CSV UTF-8" starts with a BOM */
		size_t skip = len >= 3 && !memcmp(s->data, "\xEF\xBB\xBF", 3) ? 3 : 0;
		if (!rc)
			rc = stock_scan_parse(s->data + skip, len - skip, &s->fcodes, &nfile,
					      &s->fline, &c->err);
		if (rc) {
			ml_error_prefix(&c->err, "%s: ", file);
			return rc;
		}
	}
	s->n = npos + nfile;
	s->v = calloc(s->n ? s->n : 1, sizeof(*s->v));
	s->line = calloc(s->n ? s->n : 1, sizeof(*s->line));
	if (!s->v || !s->line)
		return ml_errorf(&c->err, ML_ENOMEM, "out of memory (%zu codes)", s->n);
	for (size_t i = 0; i < npos; i++)
		s->v[i] = c->pos[first_pos + (int)i];
	for (size_t i = 0; i < nfile; i++) {
		s->v[npos + i] = s->fcodes[i];
		s->line[npos + i] = s->fline[i];
	}
	if (s->n == 0)
		return cli_call_usage(
			c,
			"nothing scanned (give codes as arguments or --file FILE, - for standard input)");
	return ML_OK;
}

void cli_scan_free(struct cli_scan *s)
{
	free(s->v);
	free(s->line);
	free(s->fcodes);
	free(s->fline);
	free(s->data);
	memset(s, 0, sizeof(*s));
}

int cli_scan_report(struct cli_ctx *ctx, struct cli_call *c, const struct cli_scan *s,
		    const struct stock_scan_report *rep, const char *what, int ok)
{
	struct ml_buf b = ML_BUF_INIT;
	int rc = ML_OK;
	if (!ctx->json && !ok) {
		for (size_t i = 0; i < rep->nrefused; i++) {
			size_t k = rep->refused[i].index;
			int in_file = k < s->n && s->line[k];
			fprintf(stderr, "refused (%s %zu) %s: %s\n", in_file ? "line" : "argument",
				in_file ? s->line[k] : k + 1, rep->refused[i].code,
				rep->refused[i].msg);
		}
		return ML_OK;
	}
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_str(&b, 1, "operation", what);
		ml_json_kv_int(&b, 0, "done", (int64_t)rep->done);
		ml_buf_puts(&b, ",\"refused\":[");
		for (size_t i = 0; i < rep->nrefused; i++) {
			const struct stock_refusal *r = &rep->refused[i];
			ml_buf_puts(&b, i ? ",{" : "{");
			ml_json_kv_str(&b, 1, "code", r->code);
			ml_json_kv_int(&b, 0, "index", (int64_t)r->index);
			ml_json_kv_int(&b, 0, "line",
				       r->index < s->n ? (int64_t)s->line[r->index] : 0);
			ml_json_kv_str(&b, 0, "error", ml_strerror(r->err));
			ml_json_kv_str(&b, 0, "reason", r->msg);
			ml_buf_putc(&b, '}');
		}
		ml_buf_puts(&b, "]}");
	} else {
		ml_buf_printf(&b, "%s: %zu asset%s", what, rep->done, rep->done == 1 ? "" : "s");
	}
	if (ok)
		rc = cli_emit(c, &b, 1);
	else
		cli_emit_detail(&b);
	ml_buf_free(&b);
	return rc;
}

static int slot_add(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct stock_args *a = c->args;
	int64_t id = 0;
	int rc = stock_slot_add(c->db, c->pos[0], c->pos[1], a->kind, a->parent, a->name, &id,
				&c->err);
	if (rc)
		return rc;
	if (ctx->json)
		return cli_printf(c, "{\"slot_id\":%lld}\n", (long long)id);
	return cli_printf(c, "slot %s added to store %s\n", c->pos[1], c->pos[0]);
}

static int putaway(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct stock_args *a = c->args;
	struct cli_scan s;
	struct stock_scan_report rep = { 0 };
	int rc = cli_scan_load(c, a->file, 0, &s);
	if (!rc)
		rc = cli_call_db(ctx, c);
	if (!rc) {
		rc = stock_putaway(c->db, s.v, s.n, &rep, &c->err);
		int r2 = cli_scan_report(ctx, c, &s, &rep, "put away", rc == ML_OK);
		if (!rc)
			rc = r2;
	}
	stock_scan_report_free(&rep);
	cli_scan_free(&s);
	return rc;
}

static int check_counts(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	struct stock_args *a = c->args;
	long long m = 0;
	int rc = cli_parse_ll(c, "--older-than-months", a->older, 1, 1200, &m);
	if (rc)
		return rc;
	a->f = (struct stock_filter){ .store = a->store,
				      .slot = a->slot,
				      .model = a->model,
				      .state = a->state,
				      .lot = a->lot,
				      .min_age_months = (int)m,
				      .by_slot = a->by_slot != NULL || a->slot != NULL };
	return ML_OK;
}

static int counts(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct stock_args *a = c->args;
	PGresult *res = NULL;
	int rc = stock_counts(c->db, &a->f, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int where(struct cli_ctx *ctx, struct cli_call *c)
{
	struct stock_whereabouts w;
	int rc = stock_where(c->db, c->pos[0], &w, &c->err);
	if (rc)
		return rc;
	if (ctx->json) {
		struct ml_buf b = ML_BUF_INIT;
		ml_buf_putc(&b, '{');
		ml_json_kv_str(&b, 1, "barcode", c->pos[0]);
		ml_json_kv_str(&b, 0, "place", w.place);
		ml_json_kv_str(&b, 0, "state", w.state);
		ml_json_kv_bool(&b, 0, "issuable", !w.why[0]);
		ml_json_kv_str(&b, 0, "not_issuable", w.why[0] ? w.why : NULL);
		ml_buf_putc(&b, '}');
		rc = cli_emit(c, &b, 1);
		ml_buf_free(&b);
		return rc;
	}
	/* the state as recorded, and "issuable" only when the issue's own rules
	 * (ml_asset_issue_problem) would take it now */
	if (w.why[0])
		return cli_printf(c, "%s: %s\nstate %s: not issuable: %s\n", c->pos[0], w.place,
				  w.state, w.why);
	return cli_printf(c, "%s: %s\nstate %s: issuable\n", c->pos[0], w.place, w.state);
}

static int reverify_list(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	const struct stock_args *a = c->args;
	struct ml_buf b = ML_BUF_INIT;
	int rc = stock_reverify_csv(c->db, a->store, &b, NULL, &c->err);
	if (!rc)
		rc = cli_emit(c, &b, 0);
	ml_buf_free(&b);
	return rc;
}

static int sheet(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	const struct stock_args *a = c->args;
	struct ml_buf b = ML_BUF_INIT;
	int rc = stock_sheet_csv(c->db, c->pos[0], a->slot, &b, NULL, &c->err);
	if (!rc)
		rc = cli_emit(c, &b, 0);
	ml_buf_free(&b);
	return rc;
}

static int reverify_send(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct stock_args *a = c->args;
	struct cli_scan s;
	struct stock_scan_report rep = { 0 };
	int rc = cli_scan_load(c, a->file, 0, &s);
	if (!rc)
		rc = cli_call_db(ctx, c);
	if (!rc) {
		rc = stock_reverify_send(c->db, s.v, s.n, a->lab, a->reason, &rep, &c->err);
		int r2 = cli_scan_report(ctx, c, &s, &rep, "sent for re-verification", rc == ML_OK);
		if (!rc)
			rc = r2;
	}
	stock_scan_report_free(&rep);
	cli_scan_free(&s);
	return rc;
}

static int count_submit(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct stock_args *a = c->args;
	struct cli_scan s;
	struct stock_count_report rep = { 0 };
	struct ml_buf b = ML_BUF_INIT;
	int rc = cli_scan_load(c, a->file, 1, &s);
	if (!rc)
		rc = cli_call_db(ctx, c);
	if (!rc)
		rc = stock_count_submit(c->db, c->pos[0], a->slot, s.v, s.n, &rep, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_int(&b, 1, "count_id", rep.count_id);
		for (int k = 0; k < COUNT_KIND_COUNT; k++)
			ml_json_kv_int(&b, 0, count_kind_name((enum count_kind)k),
				       (int64_t)rep.n[k]);
		ml_buf_puts(&b, ",\"lines\":[");
		for (size_t i = 0; i < rep.nlines; i++) {
			ml_buf_puts(&b, i ? ",{" : "{");
			ml_json_kv_str(&b, 1, "kind", count_kind_name(rep.lines[i].kind));
			ml_json_kv_str(&b, 0, "code", rep.lines[i].code);
			ml_buf_printf(&b, ",\"adjustable\":%s",
				      rep.lines[i].adjustable ? "true" : "false");
			ml_json_kv_str(&b, 0, "note", rep.lines[i].note);
			ml_buf_putc(&b, '}');
		}
		ml_buf_puts(&b, "]}");
	} else {
		for (size_t i = 0; i < rep.nlines; i++)
			ml_buf_printf(&b, "%-12s %s%s\n", count_kind_name(rep.lines[i].kind),
				      rep.lines[i].note,
				      rep.lines[i].adjustable ? "" : " [not adjustable]");
		ml_buf_printf(
			&b,
			"count %lld: %zu surplus, %zu shortage, %zu wrong slot, %zu unregistered; "
			"a second person confirms with: meterlab stock count-confirm %lld --reason TEXT",
			(long long)rep.count_id, rep.n[COUNT_SURPLUS], rep.n[COUNT_SHORTAGE],
			rep.n[COUNT_WRONG_SLOT], rep.n[COUNT_UNREGISTERED],
			(long long)rep.count_id);
	}
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	stock_count_report_free(&rep);
	cli_scan_free(&s);
	return rc;
}

static int check_count_id(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	struct stock_args *a = c->args;
	return cli_parse_id(c, "count", c->pos[0], &a->id);
}

static int count_confirm(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct stock_args *a = c->args;
	size_t n = 0;
	int rc = stock_count_confirm(c->db, a->id, a->reason, &n, &c->err);
	if (rc)
		return rc;
	return ctx->json ? cli_printf(c, "{\"count_id\":%lld,\"adjusted\":%zu}\n", (long long)a->id,
				      n)
			 : cli_printf(c, "count %lld confirmed: %zu assets adjusted\n",
				      (long long)a->id, n);
}

static int count_reject(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	const struct stock_args *a = c->args;
	int rc = stock_count_reject(c->db, a->id, a->reason, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "count %lld rejected: nothing adjusted\n", (long long)a->id);
}

static int count_show(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct stock_args *a = c->args;
	PGresult *res = NULL;
	int rc = stock_count_show(c->db, a->id, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static const struct cli_opt slot_opts[] = {
	CLI_REQ("kind", struct stock_args, kind),
	CLI_OPT("parent", struct stock_args, parent),
	CLI_OPT("name", struct stock_args, name),
	CLI_OPT_END,
};
static const struct cli_opt file_opts[] = {
	CLI_OPT("file", struct stock_args, file),
	CLI_OPT_END,
};
static const struct cli_opt count_opts[] = {
	CLI_OPT("store", struct stock_args, store),
	CLI_OPT("slot", struct stock_args, slot),
	CLI_OPT("model", struct stock_args, model),
	CLI_OPT("state", struct stock_args, state),
	CLI_OPT("lot", struct stock_args, lot),
	CLI_OPT("older-than-months", struct stock_args, older),
	CLI_FLAG("by-slot", struct stock_args, by_slot),
	CLI_OPT_END,
};
static const struct cli_opt list_opts[] = {
	CLI_OPT("store", struct stock_args, store),
	CLI_OPT_END,
};
static const struct cli_opt send_opts[] = {
	CLI_REQ("lab", struct stock_args, lab),
	CLI_OPT("reason", struct stock_args, reason),
	CLI_OPT("file", struct stock_args, file),
	CLI_OPT_END,
};

static const struct cli_opt cnt_opts[] = {
	CLI_OPT("slot", struct stock_args, slot),
	CLI_OPT("file", struct stock_args, file),
	CLI_OPT_END,
};
static const struct cli_opt sheet_opts[] = {
	CLI_OPT("slot", struct stock_args, slot),
	CLI_OPT_END,
};
static const struct cli_opt reason_opts[] = {
	CLI_REQ("reason", struct stock_args, reason),
	CLI_OPT_END,
};

static const struct cli_cmd stock_cmds[] = {
	{ .name = "slot-add",
	  .run = slot_add,
	  CLI_ARGS(struct stock_args, slot_opts),
	  .min_pos = 2,
	  .max_pos = 2,
	  .need = "stock slot-add needs STORE SLOT --kind area|shelf|box|pallet",
	  .flags = CLI_NEED_DB,
	  .summary = "add a storage slot (area, shelf, box, pallet) under a store",
	  .help = "usage: meterlab stock slot-add STORE SLOT --kind area|shelf|box|pallet [--parent SLOT] "
		  "[--name TEXT] [--json]\n\n"
		  "SLOT is the slot's own barcode label (not 22 digits: those are assets)." },
	{ .name = "put-away",
	  .run = putaway,
	  CLI_ARGS(struct stock_args, file_opts),
	  .max_pos = 100000,
	  .summary = "put verified stock into slots by scanning: SLOT, then its assets, ...",
	  .help = "usage: meterlab stock put-away [CODE...] [--file SCANS] [--json]\n\n"
		  "The scan stream: a slot barcode, then the asset barcodes that go into it, then another\n"
		  "slot ... (arguments, then the file: one code per line, a scanner's dump or the first\n"
		  "column of a CSV). An asset already in a slot moves. All or nothing: every refused code\n"
		  "is reported with its line and nothing is put away (exit 5 or 4)." },
	{ .name = "counts",
	  .run = counts,
	  .check = check_counts,
	  CLI_ARGS(struct stock_args, count_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "stock counts by store, slot, model, lot and state",
	  .help = "usage: meterlab stock counts [--store CODE] [--slot SLOT] [--model CODE] [--state S]\n"
		  "       [--lot CODE] [--older-than-months N] [--by-slot] [--json]\n\n"
		  "Assets in stores grouped by store (and slot), model, lot and state, with the oldest\n"
		  "verification and how many may not be issued (expired, or verified longer ago than\n"
		  "the setting stock.reverify_months)." },
	{ .name = "where",
	  .run = where,
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "stock where needs BARCODE",
	  .flags = CLI_NEED_DB,
	  .summary = "where an asset is, its state, and whether it may be issued",
	  .help = "usage: meterlab stock where BARCODE [--json]\n\n"
		  "Issuable only as asset move issue would take it now: in stock (in_stock or\n"
		  "secondary_stock), on no open order and no pending retirement request, its\n"
		  "verification valid and not older than the setting stock.reverify_months." },
	{ .name = "reverify-list",
	  .run = reverify_list,
	  CLI_ARGS(struct stock_args, list_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "CSV of the stock that must be re-verified before issue",
	  .help = "usage: meterlab stock reverify-list [--store CODE]\n\n"
		  "Stock past its valid_until, or verified longer ago than stock.reverify_months\n"
		  "(default 6, State Grid practice), oldest first, as CSV on standard output." },
	{ .name = "reverify-send",
	  .run = reverify_send,
	  CLI_ARGS(struct stock_args, send_opts),
	  .max_pos = 100000,
	  .need = "stock reverify-send needs --lab LAB",
	  .summary = "send stock to the lab for re-verification, all or nothing",
	  .help = "usage: meterlab stock reverify-send --lab LAB [--reason TEXT] [BARCODE...] [--file FILE]\n\n"
		  "FILE may be the reverify-list CSV (the first column is read)." },
	{ .name = "count",
	  .run = count_submit,
	  CLI_ARGS(struct stock_args, cnt_opts),
	  .min_pos = 1,
	  .max_pos = 100000,
	  .need = "stock count needs STORE",
	  .summary = "count a store or one slot by scanning (盘点): surplus, shortage, wrong slot",
	  .help = "usage: meterlab stock count STORE [--slot SLOT] [CODE...] [--file SCANS] [--json]\n\n"
		  "A store count scans like a put-away (slot, its assets, slot ...); a slot count scans\n"
		  "its assets. Nothing changes until a second person confirms (stock count-confirm)." },
	{ .name = "sheet",
	  .run = sheet,
	  CLI_ARGS(struct stock_args, sheet_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "stock sheet needs STORE",
	  .flags = CLI_NEED_DB,
	  .summary = "the count sheet (CSV): what the records hold, slot by slot",
	  .help = "usage: meterlab stock sheet STORE [--slot SLOT]\n\n"
		  "CSV on standard output: slot,barcode,model,lot,state,verified_on." },
	{ .name = "count-confirm",
	  .run = count_confirm,
	  .check = check_count_id,
	  CLI_ARGS(struct stock_args, reason_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "stock count-confirm needs COUNT --reason TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "confirm a count (not the counter): its adjustments become history",
	  .help = "usage: meterlab stock count-confirm COUNT --reason TEXT [--json]\n\n"
		  "Shortages are recorded lost, surpluses move here (a lost one goes to re-verification),\n"
		  "wrong slots are corrected; each with an event naming the count and the reason." },
	{ .name = "count-reject",
	  .run = count_reject,
	  .check = check_count_id,
	  CLI_ARGS(struct stock_args, reason_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "stock count-reject needs COUNT --reason TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "reject a count (not the counter): nothing adjusted",
	  .help = "usage: meterlab stock count-reject COUNT --reason TEXT" },
	{ .name = "count-show",
	  .run = count_show,
	  .check = check_count_id,
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "stock count-show needs COUNT",
	  .flags = CLI_NEED_DB,
	  .summary = "a count's differences and who counted and decided",
	  .help = "usage: meterlab stock count-show COUNT [--json]" },
	{ .name = NULL },
};

const struct cli_cmd cmd_stock = {
	.name = "stock",
	.help = "Stock in the stores: slots, put-away, counts, re-verification.",
	.sub = stock_cmds
};
