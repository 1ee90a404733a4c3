/*
 * meterlab watch — closed-loop monitoring (plan/watch.h, issue 15): run the
 * rules, list, show and close the work items they open, the rules and their
 * thresholds, timeliness per place. Thin: one library call per command; the
 * person is the database login.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli/cli.h"
#include "plan/watch.h"

struct watch_args {
	const char *rule, *status, *place, *role, *overdue, *all;
	const char *note, *reason;
	const char *threshold, *due_days, *enabled, *from, *to;
	const char *limit, *after;
	int64_t id;
	long long nlimit, nafter;
};

static int run_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct watch_args *a = c->args;
	PGresult *res = NULL;
	int rc = watch_run(c->db, a->rule, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

/* The page options: --limit 1..WATCH_PAGE_MAX (default 1000, as the
 * server's), --after a work item id; a bad one is a usage error naming it. */
static int list_check(struct cli_ctx *ctx, struct cli_call *c)
{
	struct watch_args *a = c->args;
	(void)ctx;
	a->nlimit = 1000; /* the server's default page */
	int rc = cli_parse_ll(c, "--limit", a->limit, 1, WATCH_PAGE_MAX, &a->nlimit);
	if (!rc)
		rc = cli_parse_ll(c, "--after", a->after, 0, INT64_MAX, &a->nafter);
	return rc;
}

static int list_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct watch_args *a = c->args;
	struct watch_filter f = { .status = a->all ? "all" : a->status,
				  .rule = a->rule,
				  .place = a->place,
				  .role = a->role,
				  .overdue = a->overdue != NULL,
				  .after = a->nafter,
				  .limit = (int)a->nlimit };
	struct watch_page pg = { 0 };
	PGresult *res = NULL;
	int rc = watch_list(c->db, &f, &res, &pg, &c->err);
	if (rc)
		return rc;
	int n = PQntuples(res);
	rc = cli_print_result(ctx, c, res);
	/* on stderr: standard output stays the table (or the JSON array) */
	if (!rc && pg.next)
		fprintf(stderr, "%d of %lld work items shown; the next page: --after %" PRId64 "\n",
			n, pg.total, pg.next);
	return rc;
}

static int id_check(struct cli_ctx *ctx, struct cli_call *c)
{
	struct watch_args *a = c->args;
	(void)ctx;
	return cli_parse_id(c, "work item id", c->pos[0], &a->id);
}

static int show_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct watch_args *a = c->args;
	PGresult *res = NULL;
	int rc = watch_show(c->db, a->id, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int close_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct watch_args *a = c->args;
	(void)ctx;
	int held = 0;
	int rc = watch_close(c->db, a->id, a->note, a->reason, &held, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "work item %" PRId64 " closed (%s)\n", a->id,
			  held ? "condition still holds: closed with the reason"
			       : "condition gone");
}

static int rules_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	PGresult *res = NULL;
	int rc = watch_rules(c->db, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int rule_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct watch_args *a = c->args;
	(void)ctx;
	int rc = watch_rule_set(c->db, c->pos[0], a->threshold, a->due_days, a->role, a->enabled,
				a->reason, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "rule %s changed\n", c->pos[0]);
}

static int timeliness_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct watch_args *a = c->args;
	PGresult *res = NULL;
	int rc = watch_timeliness(c->db, a->from, a->to, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static const struct cli_opt run_opts[] = {
	CLI_OPT("rule", struct watch_args, rule),
	CLI_OPT_END,
};
static const struct cli_opt list_opts[] = {
	CLI_OPT("status", struct watch_args, status),
	CLI_FLAG("all", struct watch_args, all),
	CLI_OPT("rule", struct watch_args, rule),
	CLI_OPT("place", struct watch_args, place),
	CLI_OPT("role", struct watch_args, role),
	CLI_FLAG("overdue", struct watch_args, overdue),
	CLI_OPT("limit", struct watch_args, limit),
	CLI_OPT("after", struct watch_args, after),
	CLI_OPT_END,
};
static const struct cli_opt close_opts[] = {
	CLI_REQ("note", struct watch_args, note),
	CLI_OPT("reason", struct watch_args, reason),
	CLI_OPT_END,
};
static const struct cli_opt rule_opts[] = {
	CLI_OPT("threshold", struct watch_args, threshold),
	CLI_OPT("due-days", struct watch_args, due_days),
	CLI_OPT("role", struct watch_args, role),
	CLI_OPT("enabled", struct watch_args, enabled),
	CLI_REQ("reason", struct watch_args, reason),
	CLI_OPT_END,
};
static const struct cli_opt timeliness_opts[] = {
	CLI_OPT("from", struct watch_args, from),
	CLI_OPT("to", struct watch_args, to),
	CLI_OPT_END,
};

static const struct cli_cmd watch_cmds[] = {
	{ .name = "run",
	  .run = run_cmd,
	  CLI_ARGS(struct watch_args, run_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "evaluate the monitoring rules and open work items for new anomalies",
	  .help = "usage: meterlab watch run [--rule CODE] [--json]\n\n"
		  "Evaluates every enabled rule (or one) once: a new anomaly opens a work item with\n"
		  "its evidence, role, place and due date; an anomaly already open is not opened\n"
		  "again; open items whose condition is no longer found are marked 'gone' (a person\n"
		  "still closes them). For cron or the server's scheduler. Permission watch.run." },
	{ .name = "list",
	  .run = list_cmd,
	  .check = list_check,
	  CLI_ARGS(struct watch_args, list_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "work items (open by default)",
	  .help = "usage: meterlab watch list [--status open|closed|all | --all] [--rule CODE]\n"
		  "                           [--place CODE] [--role ROLE] [--overdue]\n"
		  "                           [--limit N] [--after ID] [--json]\n\n"
		  "A page of items in id order: --limit of them (1..10000, default 1000) after\n"
		  "--after; when more follow, standard error names the next page's --after.\n"
		  "condition: holds (the last run found it), gone (not found since), fixed / waived\n"
		  "(closed with the condition gone / closed with a reason while it held). Place\n"
		  "'centre' is the lab's own items (standards, runs)." },
	{ .name = "show",
	  .run = show_cmd,
	  .check = id_check,
	  CLI_ARGS(struct watch_args, NULL),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "ID",
	  .flags = CLI_NEED_DB,
	  .summary = "one work item with its evidence",
	  .help = "usage: meterlab watch show ID [--json]" },
	{ .name = "close",
	  .run = close_cmd,
	  .check = id_check,
	  CLI_ARGS(struct watch_args, close_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "ID --note TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "close a work item with the rectification note",
	  .help = "usage: meterlab watch close ID --note TEXT [--reason TEXT]\n\n"
		  "The rule is evaluated again for this anomaly: while its condition still holds\n"
		  "the item closes only with --reason (why it is accepted), and is then not opened\n"
		  "again. Permission watch.close and the item's role (or manager); an item at a\n"
		  "field team only by a member of that team (or a manager)." },
	{ .name = "rules",
	  .run = rules_cmd,
	  .flags = CLI_NEED_DB,
	  .summary = "the rules with their thresholds, due days and roles",
	  .help = "usage: meterlab watch rules [--json]" },
	{ .name = "rule",
	  .run = rule_cmd,
	  CLI_ARGS(struct watch_args, rule_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "CODE --reason TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "change a rule's threshold, due days, role or whether it runs",
	  .help = "usage: meterlab watch rule CODE [--threshold N] [--due-days N] [--role ROLE]\n"
		  "                           [--enabled yes|no] --reason TEXT\n\n"
		  "Logged with the person and the reason. Permission watch.rule (manager, admin)." },
	{ .name = "timeliness",
	  .run = timeliness_cmd,
	  CLI_ARGS(struct watch_args, timeliness_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "share of work items closed by their due date, per place (及时率)",
	  .help = "usage: meterlab watch timeliness [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]\n\n"
		  "Items opened in [from, to) (default: this month up to today)." },
	{ .name = NULL },
};

const struct cli_cmd cmd_watch = {
	.name = "watch",
	.help = "Closed-loop monitoring (稽查监控): rules find anomalies, work items track them.",
	.sub = watch_cmds,
};
