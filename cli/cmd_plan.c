/*
 * meterlab plan — production planning (plan/planning.h, issue 15): the
 * stores' demand, safety stock, netting, and the day-by-day verification
 * plan. Thin: one library call per command; the person is the database
 * login.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets/registry.h"
#include "cli/cli.h"
#include "common/json.h"
#include "lab/decimal.h"
#include "plan/actual.h"
#include "plan/inspect.h"
#include "plan/planning.h"
#include "plan/rotation.h"

struct plan_args {
	const char *store, *model, *quantity, *due, *ref, *file, *reason, *to, *from, *csv;
	const char *month, *team, *until, *cls, *status, *working, *note, *lots;
	const char *lot, *level, *aql, *seed;
	const char *limit, *after;
	long long n, nlimit, nafter;
	int64_t id;
};

static int report_problems(struct cli_call *c, const char *file,
			   const struct plan_demand_report *rep)
{
	for (size_t i = 0; i < rep->nproblems; i++)
		fprintf(stderr, "%s:%zu: %s\n", file ? file : "row", rep->problems[i].line,
			rep->problems[i].msg);
	(void)c;
	return ML_OK;
}

static int demand_add_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	struct plan_demand_in row = { a->store, a->model, a->quantity, a->due, a->ref };
	struct plan_demand_report rep;
	int rc = plan_demand_add(c->db, &row, 1, &rep, &c->err);
	plan_demand_report_free(&rep);
	if (rc)
		return rc;
	return cli_printf(c, "demand recorded: %s x %s for %s by %s\n", a->quantity, a->model,
			  a->store, a->due);
}

static int demand_import_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	char *data = NULL;
	size_t len = 0;
	int rc = asset_read_file(a->file, &data, &len, &c->err);
	if (rc)
		return rc;
	struct plan_demand_report rep;
	rc = plan_demand_import(c->db, data, len, &rep, &c->err);
	free(data);
	if (rc)
		report_problems(c, a->file, &rep);
	size_t added = rep.added;
	plan_demand_report_free(&rep);
	if (rc)
		return rc;
	return cli_printf(c, "%zu demand rows recorded from %s\n", added, a->file);
}

static int demand_list_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	PGresult *res = NULL;
	int rc = plan_demand_list(c->db, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int id_check(struct cli_ctx *ctx, struct cli_call *c)
{
	struct plan_args *a = c->args;
	(void)ctx;
	return cli_parse_id(c, "demand id", c->pos[0], &a->id);
}

static int demand_cancel_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	int rc = plan_demand_cancel(c->db, a->id, a->reason, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "demand %" PRId64 " cancelled\n", a->id);
}

static int quantity_check(struct cli_ctx *ctx, struct cli_call *c)
{
	struct plan_args *a = c->args;
	(void)ctx;
	return cli_parse_ll(c, "--quantity", a->quantity, 0, 1000000, &a->n);
}

static int safety_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	int rc = plan_safety_set(c->db, a->store, a->model, (int)a->n, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "safety stock of %s at %s: %lld\n", a->model, a->store, a->n);
}

static int setting_check(struct cli_ctx *ctx, struct cli_call *c)
{
	struct plan_args *a = c->args;
	(void)ctx;
	return cli_parse_ll(c, "value", c->pos[1], 0, 100000, &a->n);
}

static int setting_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	int rc = plan_setting_set(c->db, c->pos[0], (int)a->n, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "%s = %lld\n", c->pos[0], a->n);
}

static int netting_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	PGresult *res = NULL;
	int rc = plan_netting(c->db, a->to, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int show_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	struct plan_view v;
	struct ml_buf b = ML_BUF_INIT;
	int rc = plan_build(c->db, a->from, a->to, &v, &c->err);
	if (rc)
		return rc;
	if (ctx->json)
		plan_format_json(&v, &b);
	else if (a->csv)
		plan_format_csv(&v, &b);
	else
		plan_format_text(&v, &b);
	plan_view_free(&v);
	rc = cli_emit(c, &b, ctx->json);
	ml_buf_free(&b);
	return rc;
}

static int rotation_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	PGresult *res = NULL;
	int rc = rotation_list(c->db, a->month, a->team, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int inspection_due_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	PGresult *res = NULL;
	int rc = inspection_due(c->db, a->until, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int inspection_class_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	long n = 0;
	int rc = inspection_class_set(c->db, c->pos, (size_t)c->npos, a->cls, &n, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "%ld metering points: inspection class %s\n", n, a->cls);
}

static int rotation_orders_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	long n = 0;
	int rc = rotation_orders_open(c->db, a->month, a->team, &n, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "%ld rotation swap orders opened for %s\n", n, a->month);
}

/* The page options: --limit 1..SWAP_ORDER_PAGE_MAX (default 1000, as the
 * server's), --after an order id; a bad one is a usage error naming it. */
static int orders_check(struct cli_ctx *ctx, struct cli_call *c)
{
	struct plan_args *a = c->args;
	(void)ctx;
	a->nlimit = 1000;
	int rc = cli_parse_ll(c, "--limit", a->limit, 1, SWAP_ORDER_PAGE_MAX, &a->nlimit);
	if (!rc)
		rc = cli_parse_ll(c, "--after", a->after, 0, INT64_MAX, &a->nafter);
	return rc;
}

static int orders_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	struct swap_order_page pg = { .after = a->nafter, .limit = (int)a->nlimit };
	PGresult *res = NULL;
	int rc = swap_order_list(c->db, a->status, a->team, a->month, &pg, &res, &c->err);
	if (rc)
		return rc;
	int n = PQntuples(res);
	rc = cli_print_result(ctx, c, res);
	/* on stderr: standard output stays the table (or the JSON array) */
	if (!rc && pg.next)
		fprintf(stderr, "%d of %lld orders shown; the next page: --after %" PRId64 "\n", n,
			pg.total, pg.next);
	return rc;
}

static int order_id_check(struct cli_ctx *ctx, struct cli_call *c)
{
	struct plan_args *a = c->args;
	(void)ctx;
	return cli_parse_id(c, "swap order id", c->pos[0], &a->id);
}

static int order_cancel_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	int rc = swap_order_cancel(c->db, a->id, a->reason, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "swap order %" PRId64 " cancelled\n", a->id);
}

static const struct cli_opt orders_opts[] = {
	CLI_OPT("status", struct plan_args, status), CLI_OPT("team", struct plan_args, team),
	CLI_OPT("month", struct plan_args, month),   CLI_OPT("limit", struct plan_args, limit),
	CLI_OPT("after", struct plan_args, after),   CLI_OPT_END,
};
static const struct cli_opt order_cancel_opts[] = {
	CLI_REQ("reason", struct plan_args, reason),
	CLI_OPT_END,
};

static int calendar_show_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	PGresult *res = NULL;
	int rc = plan_calendar_show(c->db, a->from, a->to, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int calendar_set_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	int rc = plan_calendar_set(c->db, c->pos[0], a->working, a->note, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "%s: %s\n", c->pos[0],
			  !strcmp(a->working, "default") ? "the weekday rule applies"
			  : !strcmp(a->working, "yes")   ? "a working day"
							 : "no bench work");
}

static int weekday_check(struct cli_ctx *ctx, struct cli_call *c)
{
	struct plan_args *a = c->args;
	(void)ctx;
	return cli_parse_ll(c, "weekday", c->pos[0], 1, 7, &a->n);
}

static int calendar_weekday_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	int rc = plan_weekday_set(c->db, (int)a->n, a->working, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "weekday %lld: %s\n", a->n,
			  !strcmp(a->working, "yes") ? "working" : "off");
}

static int save_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	int64_t id = 0;
	int rc = plan_save(c->db, a->from, a->to, &id, &c->err);
	if (rc)
		return rc;
	return cli_printf(c,
			  "plan %" PRId64 " saved (%s .. %s): meterlab plan actual %" PRId64 "\n",
			  id, a->from, a->to, id);
}

static int plan_id_check(struct cli_ctx *ctx, struct cli_call *c)
{
	struct plan_args *a = c->args;
	(void)ctx;
	return cli_parse_id(c, "saved plan id", c->pos[0], &a->id);
}

static int actual_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	PGresult *res = NULL;
	int rc = a->lots ? plan_lot_release(c->db, a->id, &res, &c->err)
			 : plan_actual(c->db, a->id, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static const struct cli_opt range_opts[] = {
	CLI_REQ("from", struct plan_args, from),
	CLI_REQ("to", struct plan_args, to),
	CLI_OPT_END,
};
static const struct cli_opt calendar_set_opts[] = {
	CLI_REQ("working", struct plan_args, working),
	CLI_OPT("note", struct plan_args, note),
	CLI_OPT_END,
};
static const struct cli_opt weekday_opts[] = {
	CLI_REQ("working", struct plan_args, working),
	CLI_OPT_END,
};
static const struct cli_opt actual_opts[] = {
	CLI_FLAG("lots", struct plan_args, lots),
	CLI_OPT_END,
};

static const struct cli_cmd calendar_cmds[] = {
	{ .name = "show",
	  .run = calendar_show_cmd,
	  CLI_ARGS(struct plan_args, range_opts),
	  .need = "--from YYYY-MM-DD --to YYYY-MM-DD",
	  .flags = CLI_NEED_DB,
	  .summary = "every day of a range: working or not, and why",
	  .help = "usage: meterlab plan calendar show --from YYYY-MM-DD --to YYYY-MM-DD [--json]" },
	{ .name = "set",
	  .run = calendar_set_cmd,
	  CLI_ARGS(struct plan_args, calendar_set_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "YYYY-MM-DD --working yes|no|default --note TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "a holiday (no) or a make-up working day (yes); default removes it",
	  .help = "usage: meterlab plan calendar set YYYY-MM-DD --working yes|no|default [--note TEXT]\n\n"
		  "A dated exception to the working week (节假日, 调休); the note is required\n"
		  "unless default. Permission plan.edit; logged." },
	{ .name = "weekday",
	  .run = calendar_weekday_cmd,
	  .check = weekday_check,
	  CLI_ARGS(struct plan_args, weekday_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "1..7 --working yes|no",
	  .flags = CLI_NEED_DB,
	  .summary = "the working week: ISO weekday 1 (Monday) .. 7 (Sunday)",
	  .help = "usage: meterlab plan calendar weekday 1..7 --working yes|no\n\n"
		  "Monday to Friday work by default. Permission plan.edit; logged." },
	{ .name = NULL },
};

static int inservice_draw_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	PGresult *res = NULL;
	int rc = inservice_sample_draw(c->db, a->lot, a->level, a->aql, a->seed, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int inservice_decide_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct plan_args *a = c->args;
	(void)ctx;
	char verdict[8] = "";
	int rc = inservice_sample_decide(c->db, a->lot, a->note, verdict, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "lot %s: %s (%s)\n", a->lot, verdict,
			  !strcmp(verdict, "accept")
				  ? "its installed meters stay in service: rotation deferred"
				  : "every installed meter of the lot is on the rotation list");
}

static const struct cli_opt inservice_draw_opts[] = {
	CLI_REQ("lot", struct plan_args, lot),
	CLI_REQ("aql", struct plan_args, aql),
	CLI_OPT("level", struct plan_args, level),
	CLI_OPT("seed", struct plan_args, seed),
	CLI_OPT_END,
};
static const struct cli_opt inservice_decide_opts[] = {
	CLI_REQ("lot", struct plan_args, lot),
	CLI_OPT("note", struct plan_args, note),
	CLI_OPT_END,
};
static const struct cli_cmd inservice_cmds[] = {
	{ .name = "draw",
	  .run = inservice_draw_cmd,
	  CLI_ARGS(struct plan_args, inservice_draw_opts),
	  .need = "--lot LOT --aql AQL",
	  .flags = CLI_NEED_DB,
	  .summary = "draw the in-service sample of a lot's installed meters",
	  .help = "usage: meterlab plan inservice draw --lot LOT --aql AQL [--level I|II|III]\n"
		  "                                    [--seed HEX] [--json]\n\n"
		  "With plan setting rotation.state_based = 1: the GB/T 2828.1 plan for the number\n"
		  "installed, the recorded-seed draw over the installed meters in barcode order, a\n"
		  "swap work order per drawn meter. Permission swap.order." },
	{ .name = "decide",
	  .run = inservice_decide_cmd,
	  CLI_ARGS(struct plan_args, inservice_decide_opts),
	  .need = "--lot LOT",
	  .flags = CLI_NEED_DB,
	  .summary = "judge and confirm a lot's in-service sample (accept defers, reject rotates)",
	  .help = "usage: meterlab plan inservice decide --lot LOT [--note TEXT]\n\n"
		  "From the drawn meters' verifications since the draw: reject at Re nonconforming,\n"
		  "accept when all are verified and at most Ac failed. Accept keeps the lot's\n"
		  "installed meters off the rotation list for rotation.extend_months; reject puts\n"
		  "all of them on it. Permission sample.decide." },
	{ .name = NULL },
};

struct inspect_args {
	const char *standard, *date, *note;
	const char *errors[INSPECT_MAX_POINTS];
	int nerrors;
	struct inspect_point pts[INSPECT_MAX_POINTS]; /* parsed by inspect_check */
};

/* Every --errors parsed before the database is opened: bad text is exit 3 naming it. */
static int inspect_check(struct cli_ctx *ctx, struct cli_call *c)
{
	struct inspect_args *a = c->args;
	(void)ctx;
	if (a->nerrors == 0)
		return cli_call_usage(c,
				      "give the errors of at least one load point with --errors");
	for (int i = 0; i < a->nerrors; i++) {
		int rc = inspect_parse(a->errors[i], &a->pts[i], &c->err);
		if (rc)
			return rc;
	}
	return ML_OK;
}

static int inspect_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct inspect_args *a = c->args;
	struct inspect_in in = { .point = c->pos[0],
				 .standard = a->standard,
				 .date = a->date,
				 .note = a->note,
				 .points = a->pts,
				 .npoints = (size_t)a->nerrors };
	struct inspect_out *o = calloc(1, sizeof *o);
	if (!o)
		return ml_errorf(&c->err, ML_ENOMEM, "out of memory");
	int rc = inspect_record(c->db, &in, o, &c->err);
	if (rc) {
		free(o);
		return rc;
	}
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_int(&b, 1, "inspection", o->inspection_id);
		ml_json_kv_str(&b, 0, "point", c->pos[0]);
		ml_json_kv_str(&b, 0, "meter", o->barcode);
		ml_json_kv_str(&b, 0, "verdict", o->pass ? "pass" : "fail");
		if (o->order_id)
			ml_json_kv_int(&b, 0, "swap_order", o->order_id);
		ml_buf_putc(&b, ',');
		ml_json_key(&b, "points");
		ml_buf_putc(&b, '[');
		for (size_t i = 0; i < o->npoints; i++) {
			char m[DEC4_FMT_MAX], r[DEC4_FMT_MAX], l[DEC4_FMT_MAX];
			ml_buf_puts(&b, i ? ",{" : "{");
			ml_json_kv_str(&b, 1, "point", a->pts[i].label);
			ml_json_kv_str(&b, 0, "mean",
				       dec4_format(o->value[i].mean_e4, 4, m, sizeof m));
			ml_json_kv_str(&b, 0, "rounded",
				       judge_rounded_text(&o->value[i], r, sizeof r));
			ml_json_kv_str(&b, 0, "limit",
				       dec4_format(o->value[i].limit_e4,
						   dec4_min_decimals(o->value[i].limit_e4), l,
						   sizeof l));
			ml_json_kv_str(&b, 0, "verdict", judge_verdict_name(o->value[i].verdict));
			ml_buf_putc(&b, '}');
		}
		ml_buf_puts(&b, "]}");
	} else {
		ml_buf_printf(&b, "inspection %" PRId64 " of %s (meter %s): %s\n", o->inspection_id,
			      c->pos[0], o->barcode, o->pass ? "pass" : "FAIL");
		for (size_t i = 0; i < o->npoints; i++) {
			char m[DEC4_FMT_MAX], r[DEC4_FMT_MAX], l[DEC4_FMT_MAX];
			ml_buf_printf(
				&b, "  %-16s mean %9s  rounded %7s  limit ±%-5s %s\n",
				a->pts[i].label, dec4_format(o->value[i].mean_e4, 4, m, sizeof m),
				judge_rounded_text(&o->value[i], r, sizeof r),
				dec4_format(o->value[i].limit_e4,
					    dec4_min_decimals(o->value[i].limit_e4), l, sizeof l),
				judge_verdict_name(o->value[i].verdict));
		}
		if (o->order_id)
			ml_buf_printf(&b,
				      "swap work order %" PRId64 " open for the installing team\n",
				      o->order_id);
	}
	if (!o->pass)
		c->exit = CLI_FAIL;
	free(o);
	rc = cli_emit(c, &b, ctx->json);
	ml_buf_free(&b);
	return rc;
}

static const struct cli_opt inspect_opts[] = {
	CLI_REQ("standard", struct inspect_args, standard),
	CLI_OPT("date", struct inspect_args, date),
	CLI_OPT("note", struct inspect_args, note),
	CLI_LIST("errors", struct inspect_args, errors, nerrors),
	CLI_OPT_END,
};

static const struct cli_opt rotation_opts[] = {
	CLI_REQ("month", struct plan_args, month),
	CLI_OPT("team", struct plan_args, team),
	CLI_OPT_END,
};
static const struct cli_opt due_opts[] = {
	CLI_OPT("until", struct plan_args, until),
	CLI_OPT_END,
};
static const struct cli_opt class_opts[] = {
	CLI_REQ("class", struct plan_args, cls),
	CLI_OPT_END,
};

static const struct cli_opt add_opts[] = {
	CLI_REQ("store", struct plan_args, store),       CLI_REQ("model", struct plan_args, model),
	CLI_REQ("quantity", struct plan_args, quantity), CLI_REQ("due", struct plan_args, due),
	CLI_OPT("ref", struct plan_args, ref),           CLI_OPT_END,
};
static const struct cli_opt import_opts[] = {
	CLI_REQ("file", struct plan_args, file),
	CLI_OPT_END,
};
static const struct cli_opt cancel_opts[] = {
	CLI_REQ("reason", struct plan_args, reason),
	CLI_OPT_END,
};
static const struct cli_opt safety_opts[] = {
	CLI_REQ("store", struct plan_args, store),
	CLI_REQ("model", struct plan_args, model),
	CLI_REQ("quantity", struct plan_args, quantity),
	CLI_OPT_END,
};
static const struct cli_opt netting_opts[] = {
	CLI_OPT("to", struct plan_args, to),
	CLI_OPT_END,
};
static const struct cli_opt show_opts[] = {
	CLI_REQ("from", struct plan_args, from),
	CLI_REQ("to", struct plan_args, to),
	CLI_FLAG("csv", struct plan_args, csv),
	CLI_OPT_END,
};

static const struct cli_cmd demand_cmds[] = {
	{ .name = "add",
	  .run = demand_add_cmd,
	  CLI_ARGS(struct plan_args, add_opts),
	  .need = "--store S --model M --quantity N --due YYYY-MM-DD",
	  .flags = CLI_NEED_DB,
	  .summary = "record a store's demand for a model by a date",
	  .help = "usage: meterlab plan demand add --store S --model M --quantity N --due YYYY-MM-DD\n"
		  "                                [--ref TEXT]\n\n"
		  "S is a central or secondary store. Permission plan.demand (clerk, manager)." },
	{ .name = "import",
	  .run = demand_import_cmd,
	  CLI_ARGS(struct plan_args, import_opts),
	  .need = "--file DEMAND.csv",
	  .flags = CLI_NEED_DB,
	  .summary = "record demand rows from CSV, all or nothing",
	  .help = "usage: meterlab plan demand import --file DEMAND.csv\n\n"
		  "Rows store,model,quantity,due[,ref] (a header line 'store,...' and blank or #\n"
		  "lines are skipped; no quoted fields). Every refused row is printed with its line\n"
		  "and nothing is recorded." },
	{ .name = "list",
	  .run = demand_list_cmd,
	  .flags = CLI_NEED_DB,
	  .summary = "open demand by due date",
	  .help = "usage: meterlab plan demand list [--json]" },
	{ .name = "cancel",
	  .run = demand_cancel_cmd,
	  .check = id_check,
	  CLI_ARGS(struct plan_args, cancel_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "ID --reason TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "cancel an open demand",
	  .help = "usage: meterlab plan demand cancel ID --reason TEXT" },
	{ .name = NULL },
};

static const struct cli_cmd plan_cmds[] = {
	{ .name = "demand",
	  .help = "The stores' demand (需求).",
	  .summary = "demand: add, import, list, cancel",
	  .sub = demand_cmds },
	{ .name = "safety",
	  .run = safety_cmd,
	  .check = quantity_check,
	  CLI_ARGS(struct plan_args, safety_opts),
	  .need = "--store S --model M --quantity N",
	  .flags = CLI_NEED_DB,
	  .summary = "set the safety stock of a model at a store",
	  .help = "usage: meterlab plan safety --store S --model M --quantity N\n\n"
		  "Netting keeps it out of the qualified stock available. Permission plan.edit." },
	{ .name = "setting",
	  .run = setting_cmd,
	  .check = setting_check,
	  .min_pos = 2,
	  .max_pos = 2,
	  .need = "KEY VALUE",
	  .flags = CLI_NEED_DB,
	  .summary = "set a planning setting (bench minutes a day, run overhead, default run)",
	  .help = "usage: meterlab plan setting KEY VALUE\n\n"
		  "KEY: plan.bench_minutes_per_day, plan.run_overhead_minutes,\n"
		  "plan.default_run_minutes (whole minutes), swap.inspection_days (days a failed\n"
		  "inspection's swap is due), rotation.state_based (0|1), rotation.extend_months.\n"
		  "Permission plan.edit." },
	{ .name = "netting",
	  .run = netting_cmd,
	  CLI_ARGS(struct plan_args, netting_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "qualified stock against demand per model (合格品库存抵扣)",
	  .help = "usage: meterlab plan netting [--to YYYY-MM-DD] [--json]\n\n"
		  "available = qualified in stock - promised to open orders - safety stock;\n"
		  "shortfall = demand due by --to (default: all open demand) - available\n"
		  "(domain.md §5.1)." },
	{ .name = "show",
	  .run = show_cmd,
	  CLI_ARGS(struct plan_args, show_opts),
	  .need = "--from YYYY-MM-DD --to YYYY-MM-DD",
	  .flags = CLI_NEED_DB,
	  .summary = "the day-by-day verification plan and when each demand is met",
	  .help = "usage: meterlab plan show --from YYYY-MM-DD --to YYYY-MM-DD [--csv | --json]\n\n"
		  "Runs per day and bench (lot, model, assets, the demand served) and each open\n"
		  "demand's expected date. Objective: meet due dates first (earliest due first),\n"
		  "then fill the benches with the oldest lots. A run takes the model's active\n"
		  "scheme's planned duration plus plan.run_overhead_minutes out of the bench's\n"
		  "plan.bench_minutes_per_day; lots under arrival sampling wait." },
	{ .name = "inservice",
	  .help = "State-based rotation (状态轮换): in-service samples of installed lots.",
	  .summary = "inservice: draw, decide",
	  .sub = inservice_cmds },
	{ .name = "calendar",
	  .help = "The working days of the verification plan (holidays and weekends as data).",
	  .summary = "calendar: show, set, weekday",
	  .sub = calendar_cmds },
	{ .name = "save",
	  .run = save_cmd,
	  CLI_ARGS(struct plan_args, range_opts),
	  .need = "--from YYYY-MM-DD --to YYYY-MM-DD",
	  .flags = CLI_NEED_DB,
	  .summary = "save the computed plan, to compare it with what was done",
	  .help = "usage: meterlab plan save --from YYYY-MM-DD --to YYYY-MM-DD\n\n"
		  "The runs of meterlab plan show, stored with the person. Permission plan.edit." },
	{ .name = "actual",
	  .run = actual_cmd,
	  .check = plan_id_check,
	  CLI_ARGS(struct plan_args, actual_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "ID",
	  .flags = CLI_NEED_DB,
	  .summary = "a saved plan against the runs done and the lots released",
	  .help = "usage: meterlab plan actual ID [--lots] [--json]\n\n"
		  "Per day and bench: runs and assets planned, runs finished, assets verified and\n"
		  "passed. --lots: per planned lot, the day its last run was planned and the day\n"
		  "it was released (nothing of it left waiting for verification)." },
	{ .name = "rotation",
	  .run = rotation_cmd,
	  CLI_ARGS(struct plan_args, rotation_opts),
	  .need = "--month YYYY-MM",
	  .flags = CLI_NEED_DB,
	  .summary = "the rotation list of a month per team (周期轮换)",
	  .help = "usage: meterlab plan rotation --month YYYY-MM [--team T] [--json]\n\n"
		  "Installed meters whose verification validity ends in the month (due) or ended\n"
		  "before it (overdue), per installing team; each is swapped with meterlab field swap." },
	{ .name = "inspection-due",
	  .run = inspection_due_cmd,
	  CLI_ARGS(struct plan_args, due_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "on-site inspections due (现场检验) by inspection class",
	  .help = "usage: meterlab plan inspection-due [--until YYYY-MM-DD] [--json]\n\n"
		  "The last inspection (or the installation of the current meter) + the class's\n"
		  "interval (DL/T 448-2000: I 3 months, II 6, III 12), clamped to the month's end." },
	{ .name = "rotation-orders",
	  .run = rotation_orders_cmd,
	  CLI_ARGS(struct plan_args, rotation_opts),
	  .need = "--month YYYY-MM",
	  .flags = CLI_NEED_DB,
	  .summary = "open the month's rotation swap work orders per team",
	  .help = "usage: meterlab plan rotation-orders --month YYYY-MM [--team T]\n\n"
		  "One swap work order per meter of the month's rotation list (due or overdue)\n"
		  "without an open order, for the team that installed it, due the day its\n"
		  "validity ends. meterlab field swap of that meter at that point completes it.\n"
		  "Permission swap.order (manager)." },
	{ .name = "orders",
	  .run = orders_cmd,
	  .check = orders_check,
	  CLI_ARGS(struct plan_args, orders_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "swap work orders (rotation, failed inspection) by state",
	  .help = "usage: meterlab plan orders [--status open|done|cancelled|overdue|all]\n"
		  "                            [--team T] [--month YYYY-MM] [--limit N]\n"
		  "                            [--after ID] [--json]\n\n"
		  "Default: open orders; overdue = open past the due date. A page in id order:\n"
		  "--limit orders (1..10000, default 1000) after --after; when more follow,\n"
		  "standard error names the next page's --after." },
	{ .name = "order-cancel",
	  .run = order_cancel_cmd,
	  .check = order_id_check,
	  CLI_ARGS(struct plan_args, order_cancel_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "ID --reason TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "cancel an open swap work order",
	  .help = "usage: meterlab plan order-cancel ID --reason TEXT\n\nPermission swap.order." },
	{ .name = "inspect",
	  .run = inspect_cmd,
	  .check = inspect_check,
	  CLI_ARGS(struct inspect_args, inspect_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "POINT --standard CODE --errors 'Ib 1.0: r1, r2' ...",
	  .flags = CLI_NEED_DB,
	  .summary = "record an on-site inspection (现场检验) judged like the lab",
	  .help = "usage: meterlab plan inspect POINT --standard CODE --errors 'CURRENT PF [EL]: r1, r2'\n"
		  "                             [--errors ...] [--date YYYY-MM-DD] [--note TEXT] [--json]\n\n"
		  "The errors (%) measured at each load point with the portable standard CODE\n"
		  "(its certificate must be valid on the day), e.g. --errors 'Ib 1.0: +0.12, +0.10'\n"
		  "--errors '0.2Ib 0.5L: -0.31, -0.27'. Judged with the lab's engine (JJG 596-2012\n"
		  "limits of the meter's class, exact mean, GB/T 8170 rounding); the database checks\n"
		  "every figure again. The result goes on the meter's history and moves the point's\n"
		  "next inspection date; a failure (exit 1) opens a swap work order for the team.\n"
		  "Permission inspection.record (field member, manager)." },
	{ .name = "inspection-class",
	  .run = inspection_class_cmd,
	  CLI_ARGS(struct plan_args, class_opts),
	  .min_pos = 1,
	  .max_pos = 10000,
	  .need = "--class I|II|III POINT...",
	  .flags = CLI_NEED_DB,
	  .summary = "give metering points an inspection class",
	  .help = "usage: meterlab plan inspection-class --class I|II|III POINT...\n\n"
		  "Permission inspection.class (manager, admin)." },
	{ .name = NULL },
};

const struct cli_cmd cmd_plan = {
	.name = "plan",
	.help = "Production planning (生产计划): demand, netting, the verification plan.",
	.sub = plan_cmds,
};
