/*
 * meterlab plan — production planning (plan/planning.h, issue 15): the
 * stores' demand, safety stock, netting, and the day-by-day verification
 * plan. Thin: one library call per command; the person is the database
 * login.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "assets/registry.h"
#include "cli/cli.h"
#include "plan/planning.h"
#include "plan/rotation.h"

struct plan_args {
	const char *store, *model, *quantity, *due, *ref, *file, *reason, *to, *from, *csv;
	const char *month, *team, *until, *cls;
	long long n;
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
		  "plan.default_run_minutes (whole minutes). Permission plan.edit." },
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
