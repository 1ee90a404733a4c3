/*
 * meterlab point | field | seal — the field teams' work (field/field.h,
 * issue 11): metering points, install / remove / swap with readings and
 * seals, fault reports and their outcome, and seals. Thin: every command is
 * one library call; the person is the database login.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets/registry.h"
#include "cli/cli.h"
#include "common/json.h"
#include "field/field.h"

/* ---- point ---- */

struct point_args {
	const char *file;
};

static int point_import_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct point_args *a = c->args;
	char *data = NULL;
	size_t len = 0;
	int rc = asset_read_file(a->file, &data, &len, &c->err);
	if (rc)
		return rc;
	struct field_point_report rep;
	rc = field_point_import(c->db, data, len, &rep, &c->err);
	free(data);
	struct ml_buf b = ML_BUF_INIT;
	if (rc && rep.nproblems) {
		/* every refused line, then the shared path prints the first as the error */
		for (size_t i = 0; i < rep.nproblems; i++)
			fprintf(stderr, "%s:%zu: %s\n", a->file, rep.problems[i].line,
				rep.problems[i].msg);
	} else if (!rc) {
		if (ctx->json) {
			ml_buf_putc(&b, '{');
			ml_json_kv_int(&b, 1, "added", (long long)rep.added);
			ml_buf_putc(&b, '}');
		} else {
			ml_buf_printf(&b, "%zu metering points added", rep.added);
		}
		rc = cli_emit(c, &b, 1);
	}
	ml_buf_free(&b);
	field_point_report_free(&rep);
	return rc;
}

static int point_show_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	PGresult *res = NULL;
	int rc = field_point_show(c->db, c->pos[0], &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static const struct cli_opt point_import_opts[] = {
	CLI_REQ("file", struct point_args, file),
	CLI_OPT_END,
};

static const struct cli_cmd point_cmds[] = {
	{ .name = "import",
	  .run = point_import_cmd,
	  CLI_ARGS(struct point_args, point_import_opts),
	  .need = "--file F.csv",
	  .flags = CLI_NEED_DB,
	  .summary = "add metering points from CSV (code,account,address,site), all or nothing",
	  .help = "usage: meterlab point import --file POINTS.csv\n\n"
		  "Add metering points (计量点). The header is code,account,address,site; site is a\n"
		  "customer_site location (the district the point lies in). Every bad line is printed\n"
		  "with its number and nothing is added. Permission field.point (manager, admin)." },
	{ .name = "show",
	  .run = point_show_cmd,
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "POINT",
	  .flags = CLI_NEED_DB,
	  .summary = "a metering point and every meter installed there, newest first",
	  .help = "usage: meterlab point show POINT [--json]\n\n"
		  "The point, and each installation: element, meter, when and by whom installed and\n"
		  "removed, the readings, the removal reason and the seals." },
	{ .name = NULL },
};

const struct cli_cmd cmd_point = {
	.name = "point",
	.help = "Metering points (计量点): import, show.",
	.sub = point_cmds,
};

/* ---- field ---- */

struct field_args {
	const char *point, *element, *reading, *tariffs, *reason, *note;
	const char *old_reading, *symptom, *description, *complaint, *lab, *outcome;
	const char *run, *cert;
	const char *seals[16];
	int nseals;
	const char *open;
};

static int print_id(struct cli_ctx *ctx, struct cli_call *c, const char *key, const char *text,
		    int64_t id)
{
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_int(&b, 1, key, id);
		ml_buf_putc(&b, '}');
	} else {
		ml_buf_printf(&b, "%s %" PRId64, text, id);
	}
	int rc = cli_emit(c, &b, 1);
	ml_buf_free(&b);
	return rc;
}

static int install_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct field_args *a = c->args;
	struct field_install_in in = { .barcode = c->pos[0],
				       .point = a->point,
				       .element = a->element,
				       .kwh = a->reading,
				       .tariffs_json = a->tariffs,
				       .seals = a->seals,
				       .nseals = (size_t)a->nseals };
	int64_t id = 0;
	int rc = field_install(c->db, &in, &id, &c->err);
	if (rc)
		return rc;
	return print_id(ctx, c, "installation", "installed: installation", id);
}

static int remove_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct field_args *a = c->args;
	struct field_remove_in r = { .barcode = c->pos[0],
				     .kwh = a->reading,
				     .reason = a->reason,
				     .note = a->note,
				     .seals = a->seals,
				     .nseals = (size_t)a->nseals };
	int64_t id = 0;
	int rc = field_remove(c->db, &r, &id, &c->err);
	if (rc)
		return rc;
	return print_id(ctx, c, "installation", "removed: installation", id);
}

static int swap_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct field_args *a = c->args;
	struct field_remove_in old = { .barcode = c->pos[0],
				       .kwh = a->old_reading,
				       .reason = a->reason };
	struct field_install_in repl = { .barcode = c->pos[1],
					 .kwh = a->reading,
					 .tariffs_json = a->tariffs,
					 .seals = a->seals,
					 .nseals = (size_t)a->nseals };
	int64_t id = 0;
	int rc = field_swap(c->db, &old, &repl, &id, &c->err);
	if (rc)
		return rc;
	return print_id(ctx, c, "installation", "swapped: new installation", id);
}

static int fault_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct field_args *a = c->args;
	int64_t id = 0;
	int rc = field_fault_report(c->db, c->pos[0], a->symptom, a->description, a->complaint,
				    a->lab, &id, &c->err);
	if (rc)
		return rc;
	return print_id(ctx, c, "fault", "fault report", id);
}

static int outcome_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct field_args *a = c->args;
	(void)ctx;
	int64_t id = 0;
	int rc = cli_parse_id(c, "fault id", c->pos[0], &id);
	if (!rc)
		rc = field_fault_outcome(c->db, id, a->outcome, a->note, &c->err);
	if (rc)
		return rc;
	return cli_printf(c, "fault %" PRId64 ": %s\n", id, a->outcome);
}

static int arbitration_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct field_args *a = c->args;
	(void)ctx;
	int64_t id = 0, run = 0, cert = 0;
	int rc = cli_parse_id(c, "fault id", c->pos[0], &id);
	if (!rc)
		rc = cli_parse_id(c, "--run", a->run, &run);
	if (!rc && a->cert)
		rc = cli_parse_id(c, "--cert", a->cert, &cert);
	if (!rc)
		rc = field_fault_arbitration(c->db, id, run, cert, &c->err);
	if (rc)
		return rc;
	if (cert)
		return cli_printf(c,
				  "fault %" PRId64 ": answered by run %" PRId64
				  " and certificate %" PRId64 "\n",
				  id, run, cert);
	return cli_printf(c, "fault %" PRId64 ": answered by run %" PRId64 "\n", id, run);
}

static int fault_show_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	int64_t id = 0;
	PGresult *res = NULL;
	int rc = cli_parse_id(c, "fault id", c->pos[0], &id);
	if (!rc)
		rc = field_fault_show(c->db, id, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int faults_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct field_args *a = c->args;
	PGresult *res = NULL;
	int rc = field_fault_list(c->db, a->open != NULL, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static const struct cli_opt install_opts[] = {
	CLI_REQ("point", struct field_args, point),
	CLI_OPT("element", struct field_args, element),
	CLI_REQ("reading", struct field_args, reading),
	CLI_OPT("tariffs", struct field_args, tariffs),
	CLI_LIST("seal", struct field_args, seals, nseals),
	CLI_OPT_END,
};
static const struct cli_opt remove_opts[] = {
	CLI_REQ("reading", struct field_args, reading),
	CLI_REQ("reason", struct field_args, reason),
	CLI_OPT("note", struct field_args, note),
	CLI_LIST("seal", struct field_args, seals, nseals),
	CLI_OPT_END,
};
static const struct cli_opt swap_opts[] = {
	CLI_REQ("old-reading", struct field_args, old_reading),
	CLI_REQ("reason", struct field_args, reason),
	CLI_REQ("reading", struct field_args, reading),
	CLI_OPT("tariffs", struct field_args, tariffs),
	CLI_LIST("seal", struct field_args, seals, nseals),
	CLI_OPT_END,
};
static const struct cli_opt fault_opts[] = {
	CLI_REQ("symptom", struct field_args, symptom),
	CLI_REQ("description", struct field_args, description),
	CLI_OPT("complaint", struct field_args, complaint),
	CLI_REQ("lab", struct field_args, lab),
	CLI_OPT_END,
};
static const struct cli_opt arbitration_opts[] = {
	CLI_REQ("run", struct field_args, run),
	CLI_OPT("cert", struct field_args, cert),
	CLI_OPT_END,
};
static const struct cli_opt outcome_opts[] = {
	CLI_REQ("outcome", struct field_args, outcome),
	CLI_OPT("note", struct field_args, note),
	CLI_OPT_END,
};
static const struct cli_opt faults_opts[] = {
	CLI_FLAG("open", struct field_args, open),
	CLI_OPT_END,
};

static const struct cli_cmd field_cmds[] = {
	{ .name = "install",
	  .run = install_cmd,
	  CLI_ARGS(struct field_args, install_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "BARCODE --point P --reading KWH",
	  .flags = CLI_NEED_DB,
	  .summary = "install a meter issued to your team at a metering point",
	  .help = "usage: meterlab field install BARCODE --point P --reading KWH [--element meter]\n"
		  "                              [--tariffs JSON] [--seal CODE]...\n\n"
		  "Install at point P (element meter, ct_a, ct_b or ct_c) with the initial register\n"
		  "reading in kWh (at most 2 decimals; --tariffs '{\"peak\":\"1.2\",\"valley\":\"3\"}'\n"
		  "for the tariff registers) and the seals applied, each issued to your team or to\n"
		  "you and never used before. Refused: a meter not issued to your team, a verification\n"
		  "expired or too old (stock.reverify_months), a point that already has one. The\n"
		  "meter is then at the point's site. Permission asset.move.field." },
	{ .name = "remove",
	  .run = remove_cmd,
	  CLI_ARGS(struct field_args, remove_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "BARCODE --reading KWH --reason R",
	  .flags = CLI_NEED_DB,
	  .summary = "remove an installed meter with its final reading and reason",
	  .help = "usage: meterlab field remove BARCODE --reading KWH --reason R [--note T]\n"
		  "                             [--seal CODE]...\n\n"
		  "R is rotation, fault, upgrade, complaint or other. The final reading may not be\n"
		  "below the initial one. Every seal on the meter is broken; --seal names the ones\n"
		  "you removed (each must be on it). The meter goes back to your team." },
	{ .name = "swap",
	  .run = swap_cmd,
	  CLI_ARGS(struct field_args, swap_opts),
	  .min_pos = 2,
	  .max_pos = 2,
	  .need = "OLD NEW --old-reading KWH --reason R --reading KWH",
	  .flags = CLI_NEED_DB,
	  .summary = "remove OLD and install NEW at its point, in one transaction",
	  .help = "usage: meterlab field swap OLD NEW --old-reading KWH --reason R --reading KWH\n"
		  "                           [--tariffs JSON] [--seal CODE]...\n\n"
		  "Both happen or neither: a refusal of the new meter leaves the old one installed." },
	{ .name = "fault",
	  .run = fault_cmd,
	  CLI_ARGS(struct field_args, fault_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "BARCODE --symptom S --description T --lab L",
	  .flags = CLI_NEED_DB,
	  .summary = "report a removed meter's fault and send it to the lab",
	  .help = "usage: meterlab field fault BARCODE --symptom S --description T --lab LAB\n"
		  "                            [--complaint REF]\n\n"
		  "S is a symptom code (NO_DISPLAY, STOPPED, FAST, SLOW, CLOCK, BATTERY, COMM, RELAY,\n"
		  "BURNT, SEAL_BROKEN, CARD, OTHER). With --complaint the lab verifies the meter for\n"
		  "arbitration (仲裁检定) on that customer complaint; otherwise it analyses the fault." },
	{ .name = "outcome",
	  .run = outcome_cmd,
	  CLI_ARGS(struct field_args, outcome_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "FAULT_ID --outcome O",
	  .flags = CLI_NEED_DB,
	  .summary = "record the lab's finding on a fault (another person than the reporter)",
	  .help = "usage: meterlab field outcome FAULT_ID --outcome O [--note T]\n\n"
		  "O is maker, usage, external or no_fault_found. Permission fault.analyse (lab\n"
		  "technician, quality analyst); once per fault." },
	{ .name = "arbitration",
	  .run = arbitration_cmd,
	  CLI_ARGS(struct field_args, arbitration_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "FAULT_ID --run RUN [--cert CERT_ID]",
	  .flags = CLI_NEED_DB,
	  .summary = "link an arbitration complaint to the run and certificate that answered it",
	  .help = "usage: meterlab field arbitration FAULT_ID --run RUN [--cert CERT_ID]\n\n"
		  "The arbitration verification (仲裁检定) of a customer complaint is an ordinary run and\n"
		  "certificate or result notice; this records which ones answered the complaint. The run\n"
		  "must have verified the meter after the fault was reported (not abandoned); the\n"
		  "certificate must be that run's for that meter, issued and not withdrawn. Once set, a\n"
		  "link is never replaced; run it again with the same --run to add --cert. Shown by\n"
		  "'field fault-show' and 'cert show'. Permission fault.analyse." },
	{ .name = "fault-show",
	  .run = fault_show_cmd,
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "FAULT_ID",
	  .flags = CLI_NEED_DB,
	  .summary = "one fault report with its outcome, arbitration run and certificate",
	  .help = "usage: meterlab field fault-show FAULT_ID [--json]" },
	{ .name = "faults",
	  .run = faults_cmd,
	  CLI_ARGS(struct field_args, faults_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "fault reports (--open: those without an outcome)",
	  .help = "usage: meterlab field faults [--open] [--json]" },
	{ .name = NULL },
};

const struct cli_cmd cmd_field = {
	.name = "field",
	.help = "Field work: install, remove, swap, fault reports.",
	.sub = field_cmds,
};

/* ---- seal ---- */

struct seal_args {
	const char *batch, *team, *person, *reason, *state, *file;
};

static int seal_codes(struct cli_call *c, const char *file, struct cli_scan *s)
{
	return cli_scan_load(c, file, 0, s);
}

static int seal_done(struct cli_ctx *ctx, struct cli_call *c, const char *what, size_t n)
{
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_int(&b, 1, what, (long long)n);
		ml_buf_putc(&b, '}');
	} else {
		ml_buf_printf(&b, "%zu seals %s", n, what);
	}
	int rc = cli_emit(c, &b, 1);
	ml_buf_free(&b);
	return rc;
}

static int seal_receive_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct seal_args *a = c->args;
	struct cli_scan s;
	size_t n = 0;
	int rc = seal_codes(c, a->file, &s);
	if (!rc)
		rc = field_seal_receive(c->db, s.v, s.n, a->batch, &n, &c->err);
	cli_scan_free(&s);
	if (rc)
		return rc;
	return seal_done(ctx, c, "received", n);
}

static int seal_issue_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct seal_args *a = c->args;
	struct cli_scan s;
	size_t n = 0;
	int rc = seal_codes(c, a->file, &s);
	if (!rc)
		rc = field_seal_issue(c->db, s.v, s.n, a->team, a->person, &n, &c->err);
	cli_scan_free(&s);
	if (rc)
		return rc;
	return seal_done(ctx, c, "issued", n);
}

static int seal_destroy_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct seal_args *a = c->args;
	struct cli_scan s;
	size_t n = 0;
	int rc = seal_codes(c, a->file, &s);
	if (!rc)
		rc = field_seal_destroy(c->db, s.v, s.n, a->reason, &n, &c->err);
	cli_scan_free(&s);
	if (rc)
		return rc;
	return seal_done(ctx, c, "destroyed", n);
}

static int seal_apply_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct seal_args *a = c->args;
	struct cli_scan s;
	size_t n = 0;
	int rc = cli_scan_load(c, a->file, 1, &s);
	if (!rc)
		rc = field_seal_apply(c->db, c->pos[0], s.v, s.n, &n, &c->err);
	cli_scan_free(&s);
	if (rc)
		return rc;
	return seal_done(ctx, c, "applied", n);
}

static int seal_list_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct seal_args *a = c->args;
	PGresult *res = NULL;
	struct field_seal_filter f = { .code = c->npos ? c->pos[0] : NULL,
				       .team = a->team,
				       .state = a->state };
	int rc = field_seal_list(c->db, &f, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static const struct cli_opt seal_receive_opts[] = {
	CLI_REQ("batch", struct seal_args, batch),
	CLI_OPT("file", struct seal_args, file),
	CLI_OPT_END,
};
static const struct cli_opt seal_issue_opts[] = {
	CLI_OPT("team", struct seal_args, team),
	CLI_OPT("person", struct seal_args, person),
	CLI_OPT("file", struct seal_args, file),
	CLI_OPT_END,
};
static const struct cli_opt seal_destroy_opts[] = {
	CLI_REQ("reason", struct seal_args, reason),
	CLI_OPT("file", struct seal_args, file),
	CLI_OPT_END,
};
static const struct cli_opt seal_apply_opts[] = {
	CLI_OPT("file", struct seal_args, file),
	CLI_OPT_END,
};
static const struct cli_opt seal_list_opts[] = {
	CLI_OPT("team", struct seal_args, team),
	CLI_OPT("state", struct seal_args, state),
	CLI_OPT_END,
};

static const struct cli_cmd seal_cmds[] = {
	{ .name = "receive",
	  .run = seal_receive_cmd,
	  CLI_ARGS(struct seal_args, seal_receive_opts),
	  .max_pos = 100000,
	  .need = "CODE... --batch B",
	  .flags = CLI_NEED_DB,
	  .summary = "register a batch of seals (codes as arguments or --file, one per line)",
	  .help = "usage: meterlab seal receive --batch B (CODE...|--file F)\n\n"
		  "All or nothing; a code already registered or given twice is refused.\n"
		  "Permission seal.manage (warehouse clerk, manager)." },
	{ .name = "issue",
	  .run = seal_issue_cmd,
	  CLI_ARGS(struct seal_args, seal_issue_opts),
	  .max_pos = 100000,
	  .need = "CODE... --team T | --person LOGIN",
	  .flags = CLI_NEED_DB,
	  .summary = "issue seals in store to a field team or to a person (a lab technician)",
	  .help = "usage: meterlab seal issue (--team T|--person LOGIN) (CODE...|--file F)" },
	{ .name = "destroy",
	  .run = seal_destroy_cmd,
	  CLI_ARGS(struct seal_args, seal_destroy_opts),
	  .max_pos = 100000,
	  .need = "CODE... --reason R",
	  .flags = CLI_NEED_DB,
	  .summary = "destroy seals (damaged, removed ones)",
	  .help = "usage: meterlab seal destroy --reason R (CODE...|--file F)" },
	{ .name = "apply",
	  .run = seal_apply_cmd,
	  CLI_ARGS(struct seal_args, seal_apply_opts),
	  .min_pos = 1,
	  .max_pos = 100000,
	  .need = "apply needs BARCODE and SEAL... (or --file F)",
	  .flags = CLI_NEED_DB,
	  .summary = "seal a verified meter in the lab with your own seals",
	  .help = "usage: meterlab seal apply BARCODE (SEAL...|--file F)\n\n"
		  "The lab technician closes a meter that passed verification (in stock) with seals\n"
		  "issued to them (meterlab seal issue --person LOGIN). All or nothing: a seal not\n"
		  "issued to you, already used or listed twice is refused, naming it. The meter's\n"
		  "history records the seals.\n"
		  "Permission seal.apply (lab technician)." },
	{ .name = "list",
	  .run = seal_list_cmd,
	  CLI_ARGS(struct seal_args, seal_list_opts),
	  .max_pos = 1,
	  .flags = CLI_NEED_DB,
	  .summary = "where every seal is: state, holder, meter and metering point",
	  .help = "usage: meterlab seal list [CODE] [--team T] [--state S] [--json]\n\n"
		  "S is in_store, issued, applied, removed or destroyed." },
	{ .name = NULL },
};

const struct cli_cmd cmd_seal = {
	.name = "seal",
	.help = "Seals (计量印证): receive, issue, destroy, list.",
	.sub = seal_cmds,
};
