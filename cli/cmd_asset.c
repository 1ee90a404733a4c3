/*
 * meterlab asset … — the asset registry: catalogue, locations, receiving
 * deliveries, lifecycle moves, listing and history (assets/README.md).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "assets/lifecycle.h"
#include "assets/registry.h"
#include "cli/cli.h"
#include "common/json.h"
#include "common/text.h"

/* Options of every asset subcommand; each row's table says which it takes. */
struct asset_args {
	const char *name, *kind, *parent;
	const char *file, *location, *reason, *details;
	const char *limit, *after;
	struct asset_receive_opts recv;
	struct asset_filter filter;
	struct asset_stock_filter stock;
	const char *all_places, *totals;
};

/* ---- catalogue ---- */

static int manufacturer_add(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	const struct asset_args *a = c->args;
	int rc = asset_manufacturer_add(c->db, c->pos[0], a->name, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_str(&b, 1, "manufacturer", c->pos[0]);
		ml_buf_puts(&b, ",\"added\":true}");
	} else {
		ml_buf_printf(&b, "manufacturer %s added", c->pos[0]);
	}
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

static const char model_help[] =
	"usage: meterlab asset model add --code CODE --manufacturer MFR --name NAME --kind KIND\n"
	"                 --period MONTHS [--class C] [--reactive-class C] [--connection direct|transformer]\n"
	"                 [--wiring 1p2w|3p4w|3p3w] [--un V] [--ib A] [--imax A] [--constant IMP_PER_KWH]\n"
	"                 [--clock-hz HZ] [--ct-primary A] [--ct-secondary A] [--vt-primary V]\n"
	"                 [--vt-secondary V] [--burden VA]\n"
	"       meterlab asset model list [--json]\n\n"
	"Manage the device-model catalogue. KIND is meter_1p, meter_3p, ct, vt or concentrator;\n"
	"meters need --connection (direct: --ib is Ib; transformer-operated: --ib is In).\n"
	"--period is the verification period in months (e.g. 96 for class 1/2 meters, 72 for\n"
	"0.2S/0.5S; domain.md §1.12 — configurable per model). Numbers are exact decimals.\n"
	"Example: meterlab asset model add --code DDZY285-Z --manufacturer HX --name 'DDZY285-Z single-phase'\n"
	"         --kind meter_1p --class 1 --connection direct --wiring 1p2w --un 220 --ib 5 --imax 60\n"
	"         --constant 1200 --period 96";

static int model_add(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	const struct asset_model *m = c->args;
	int rc = asset_model_add(c->db, m, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_puts(&b, "{");
		ml_json_kv_str(&b, 1, "model", m->code);
		ml_buf_puts(&b, ",\"added\":true}");
	} else {
		ml_buf_printf(&b, "model %s added", m->code);
	}
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

static int model_list(struct cli_ctx *ctx, struct cli_call *c)
{
	PGresult *res = NULL;
	int rc = asset_model_list(c->db, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static const char location_help[] =
	"usage: meterlab asset location add CODE --name NAME --kind KIND [--parent CODE]\n"
	"       meterlab asset location list [--json]\n\n"
	"Stores and places an asset can be: KIND is central_store, secondary_store (city/county\n"
	"二级表库), bench, lab, field_team, customer_site or maker. CENTRAL (central store) exists.";

static int location_add(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	const struct asset_args *a = c->args;
	int rc = asset_location_add(c->db, c->pos[0], a->name, a->kind, a->parent, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_str(&b, 1, "location", c->pos[0]);
		ml_buf_puts(&b, ",\"added\":true}");
	} else {
		ml_buf_printf(&b, "location %s added", c->pos[0]);
	}
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

static int location_list(struct cli_ctx *ctx, struct cli_call *c)
{
	PGresult *res = NULL;
	int rc = asset_location_list(c->db, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

/* ---- receive ---- */

static const char receive_help[] =
	"usage: meterlab asset receive --lot LOT --file FILE|- [--supplier TEXT] [--location STORE]\n\n"
	"Receive a supplier delivery into a new arrival lot, all rows or none. FILE is CSV (UTF-8),\n"
	"first line a header naming the columns, in any order:\n"
	"  barcode           22-digit State Grid asset barcode (mod-10 check digit verified)\n"
	"  model_code        an existing model (meterlab asset model list)\n"
	"  production_batch  manufacturer's batch, 1-64 characters\n"
	"  production_date   YYYY-MM-DD, not in the future, not more than 20 years ago\n"
	"  box_code          optional column: packing box barcode\n"
	"Every bad row is reported (line, column, value, reason): bad barcode, unknown model, bad\n"
	"date, a NUL byte or control character, duplicate within the file, barcode already\n"
	"registered; then nothing is imported (exit 3). Importing the same file again, or reusing a\n"
	"lot code, is refused (exit 5). Assets start in state 'arrived' at STORE (default CENTRAL).\n"
	"The receiver recorded is you, the database login (permission asset.receive, warehouse clerk).";

static void print_issues(struct cli_ctx *ctx, const char *lot,
			 const struct asset_import_report *rep)
{
	if (!ctx->json) {
		for (size_t i = 0; i < rep->nissues; i++) {
			const struct asset_import_issue *is = &rep->issues[i];
			fprintf(stderr, "line %ld%s%s%s%s%s: %s\n", is->line,
				is->column[0] ? ", " : "", is->column, is->value[0] ? " '" : "",
				is->value, is->value[0] ? "'" : "", is->reason);
		}
		return;
	}
	struct ml_buf b = ML_BUF_INIT;
	ml_buf_putc(&b, '{');
	ml_json_kv_str(&b, 1, "lot", lot);
	ml_json_kv_int(&b, 0, "imported", 0);
	ml_buf_puts(&b, ",\"issues\":[");
	for (size_t i = 0; i < rep->nissues; i++) {
		const struct asset_import_issue *is = &rep->issues[i];
		ml_buf_puts(&b, i ? ",{" : "{");
		ml_json_kv_int(&b, 1, "line", is->line);
		ml_json_kv_str(&b, 0, "column", is->column);
		ml_json_kv_str(&b, 0, "value", is->value);
		ml_json_kv_str(&b, 0, "reason", is->reason);
		ml_buf_putc(&b, '}');
	}
	ml_buf_puts(&b, "]}");
	/* The detail of a refusal the shared path reports: no exit code of its own. */
	cli_emit_detail(&b);
	ml_buf_free(&b);
}

static int receive_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	struct asset_args *a = c->args;
	struct asset_receive_opts *o = &a->recv;
	struct asset_import_report rep;
	struct ml_buf b = ML_BUF_INIT;
	char *data = NULL;
	size_t len = 0;
	memset(&rep, 0, sizeof(rep));
	o->file_name = a->file;
	int rc = asset_read_file(a->file, &data, &len, &c->err);
	if (rc)
		goto out;
	rc = cli_call_db(ctx, c);
	if (rc)
		goto out;
	rc = asset_receive(c->db, o, data, len, &rep, &c->err);
	if (rc) {
		print_issues(ctx, o->lot_code, &rep);
		goto out;
	}
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_str(&b, 1, "lot", o->lot_code);
		ml_json_kv_int(&b, 0, "lot_id", rep.lot_id);
		ml_json_kv_int(&b, 0, "imported", (int64_t)rep.rows);
		ml_json_kv_str(&b, 0, "sha256", rep.sha256);
		ml_buf_putc(&b, '}');
	} else {
		ml_buf_printf(&b, "lot %s: received %zu asset%s (state arrived), file sha256 %s",
			      o->lot_code, rep.rows, rep.rows == 1 ? "" : "s", rep.sha256);
	}
	rc = cli_emit(c, &b, 1);
out:
	asset_import_report_free(&rep);
	ml_buf_free(&b);
	free(data);
	return rc;
}

/* ---- move / swap ---- */

static const char move_help[] =
	"usage: meterlab asset move ACTION [--file FILE | -] [BARCODE...] [--location CODE]\n"
	"                          [--reason TEXT] [--details JSON]\n\n"
	"Apply one lifecycle action to every listed asset, all or nothing: when any asset is\n"
	"refused, every refused barcode is reported with its reason and nothing moves (exit 5, or\n"
	"4 for an unknown barcode/location, 3 for a malformed one). Barcodes come from the\n"
	"arguments, from FILE, or from standard input ('-'): one per line, the first comma-separated\n"
	"field counts, blank lines, '#' comments and a 'barcode' header line are skipped.\n"
	"ACTION (state -> state), and the permission it needs:\n"
	"  sample            arrived -> sampling            sample_return  sampling -> arrived   (lab)\n"
	"  dispatch          in_stock -> in_transit         receive_secondary in_transit -> secondary_stock\n"
	"  issue             in_stock|secondary_stock -> issued at a field team (--location TEAM;\n"
	"                    refused after valid_until)\n"
	"  return_unused     issued -> in_stock, or secondary_stock when --location is a secondary store\n"
	"  fault_report      removed -> fault_analysis\n"
	"  reuse             removed|fault_analysis -> reverify\n"
	"install and remove are no moves: an asset is installed, removed and swapped at a metering\n"
	"point with its register readings and seals (meterlab field install|remove|swap).\n"
	"return_to_maker and scrap are no moves either: a retirement is requested and a second\n"
	"person approves it (meterlab retire request|approve); a lot rejected on arrival sampling\n"
	"goes back to the maker by its decision (meterlab sample decide reject).\n"
	"Store moves (dispatch … return_unused) need asset.move.store, fault_report\n"
	"asset.move.field, lab moves (sample, sample_return, reuse) asset.move.lab.\n"
	"verify_start/pass/fail/abort are not moves: only a run mounts, concludes (valid_until\n"
	"from the model's period) or aborts (meterlab run).\n"
	"An asset mounted on an unfinished run is moved only by that run, one on an open\n"
	"distribution order only by the order (meterlab order), and one on a pending retirement\n"
	"request not at all until a second person decides it.\n"
	"--location moves the asset to that place (e.g. a secondary store for dispatch);\n"
	"receive_secondary must end at a secondary store, return_unused at a store.\n"
	"The actor recorded is you, the database login.";

struct bc_list {
	char **v;
	long *line;
	size_t n, cap;
	char *data; /* file contents the entries point into */
};

static int bc_push(struct bc_list *l, char *s, long line)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->v, nc * sizeof(*v));
		if (v)
			l->v = v;
		long *ln = v ? realloc(l->line, nc * sizeof(*ln)) : NULL;
		if (!v || !ln)
			return ML_ENOMEM;
		l->line = ln;
		l->cap = nc;
	}
	l->v[l->n] = s;
	l->line[l->n++] = line;
	return ML_OK;
}

/* Split file contents (modified in place) into barcodes. */
static int bc_parse(struct bc_list *l)
{
	long line = 0;
	char *start = l->data;
	/* A spreadsheet's "CSV UTF-8" starts with a BOM: without this the header
	 * line was read as a malformed barcode and the whole move refused. */
	if (start && !strncmp(start, "\xEF\xBB\xBF", 3))
		start += 3;
	for (char *s = start, *next; s && *s; s = next) {
		next = strchr(s, '\n');
		if (next)
			*next++ = '\0';
		line++;
		s[strcspn(s, ",\r")] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		char *e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (!*s || *s == '#' || !strcmp(s, "barcode"))
			continue;
		if (bc_push(l, s, line))
			return ML_ENOMEM;
	}
	return ML_OK;
}

/* The moved count (ok), or every refusal; JSON either way. Returns cli_emit's result. */
static int print_move_report(struct cli_ctx *ctx, struct cli_call *c, const struct bc_list *l,
			     const struct asset_move_report *rep, const char *action, int ok)
{
	struct ml_buf b = ML_BUF_INIT;
	int rc = ML_OK;
	if (!ctx->json && !ok) {
		for (size_t i = 0; i < rep->nrefused; i++) {
			size_t k = rep->refused[i].index;
			/* line 0 marks a barcode given as an argument: name its position instead */
			fprintf(stderr, "refused (%s %ld) %s: %s\n",
				l->line[k] ? "line" : "argument",
				l->line[k] ? l->line[k] : (long)k + 1, rep->refused[i].barcode,
				rep->refused[i].msg);
		}
		return ML_OK;
	}
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_str(&b, 1, "action", action);
		ml_json_kv_int(&b, 0, "moved", (int64_t)rep->moved);
		ml_buf_puts(&b, ",\"refused\":[");
		for (size_t i = 0; i < rep->nrefused; i++) {
			const struct asset_refusal *r = &rep->refused[i];
			ml_buf_puts(&b, i ? ",{" : "{");
			ml_json_kv_str(&b, 1, "barcode", r->barcode);
			ml_json_kv_int(&b, 0, "line", l->line[r->index]);
			ml_json_kv_int(&b, 0, "index", (int64_t)r->index);
			ml_json_kv_str(&b, 0, "error", ml_strerror(r->code));
			ml_json_kv_str(&b, 0, "reason", r->msg);
			ml_buf_putc(&b, '}');
		}
		ml_buf_puts(&b, "]}");
	} else {
		ml_buf_printf(&b, "%s: moved %zu asset%s", action, rep->moved,
			      rep->moved == 1 ? "" : "s");
	}
	if (ok)
		rc = cli_emit(c, &b, 1);
	else
		cli_emit_detail(&b); /* the refusal is the error the shared path reports */
	ml_buf_free(&b);
	return rc;
}

static int load_barcodes(const char *file, const char **pos, int npos, struct bc_list *l,
			 struct ml_error *err)
{
	for (int i = 1; i < npos; i++) {
		if (!strcmp(pos[i], "-") && !file) {
			file = "-";
			continue;
		}
		if (bc_push(l, (char *)pos[i], 0))
			return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	if (!file)
		return ML_OK;
	size_t len;
	int rc = asset_read_file(file, &l->data, &len, err);
	/* a NUL byte would silently end the list as a C string: refused, naming the line */
	if (!rc)
		rc = ml_text_file_check(l->data, len, file, err);
	if (rc)
		return rc;
	if (bc_parse(l))
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	return ML_OK;
}

static int move_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct asset_args *a = c->args;
	struct asset_move tmpl = { .location = a->location,
				   .reason = a->reason,
				   .details_json = a->details };
	struct bc_list l = { 0 };
	struct asset_move *mv = NULL;
	struct asset_move_report rep = { 0 };
	int rc = asset_action_parse(c->pos[0], &tmpl.action, &c->err);
	if (rc)
		goto out;
	rc = load_barcodes(a->file, c->pos, c->npos, &l, &c->err);
	if (rc)
		goto out;
	if (l.n == 0) {
		rc = cli_call_usage(
			c, "no barcodes given (arguments, --file FILE or - for standard input)");
		goto out;
	}
	mv = calloc(l.n, sizeof(*mv));
	if (!mv) {
		rc = ml_errorf(&c->err, ML_ENOMEM, "out of memory (%zu barcodes)", l.n);
		goto out;
	}
	rc = cli_call_db(ctx, c);
	if (rc)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		mv[i] = tmpl;
		mv[i].barcode = l.v[i];
	}
	rc = asset_move_batch(c->db, mv, l.n, &rep, &c->err);
	if (rc) {
		print_move_report(ctx, c, &l, &rep, c->pos[0], 0);
		goto out;
	}
	rc = print_move_report(ctx, c, &l, &rep, c->pos[0], 1);
out:
	asset_move_report_free(&rep);
	free(mv);
	free(l.v);
	free(l.line);
	free(l.data);
	return rc;
}

/* install, remove and swap are the metering-point flow's (field/, 0205): the
 * bare forms are refused before the database is opened, naming the command. */
static int field_only(struct cli_call *c, const char *what, const char *cmd)
{
	return ml_errorf(&c->err, ML_EINVAL,
			 "%s records no metering point, register reading or seal; use %s", what,
			 cmd);
}

static int check_move(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	if (!strcmp(c->pos[0], "install"))
		return field_only(
			c, "asset move install",
			"meterlab field install BARCODE --point P --reading KWH [--seal S]");
	if (!strcmp(c->pos[0], "remove"))
		return field_only(
			c, "asset move remove",
			"meterlab field remove BARCODE --reading KWH --reason R [--seal S]");
	return ML_OK;
}

static int check_swap(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	return field_only(c, "asset swap",
			  "meterlab field swap OLD NEW --old-reading KWH --reason R --reading KWH "
			  "[--seal S]");
}

/* ---- show / list ---- */

static void show_text(struct ml_buf *b, const struct asset_info *a, const char *place,
		      const PGresult *model, const PGresult *hist)
{
	ml_buf_printf(b, "barcode      %s\nmodel        %s", a->barcode, a->model_code);
	for (int r = 0; r < PQntuples(model); r++) {
		if (strcmp(db_get(model, r, "code"), a->model_code))
			continue;
		const char *cls = db_get(model, r, "accuracy_class");
		ml_buf_printf(b, " (%s %s, %s, class %s, period %s months)",
			      db_get(model, r, "manufacturer"), db_get(model, r, "name"),
			      db_get(model, r, "kind"), cls ? cls : "-",
			      db_get(model, r, "verification_period_months"));
	}
	ml_buf_printf(
		b,
		"\nlot          %s\nstate        %s\nlocation     %s\nwhere        %s\nvalid until  "
		"%s\nhistory:\n",
		a->lot_code, asset_state_name(a->state), a->location[0] ? a->location : "-",
		place[0] ? place : "-", a->valid_until[0] ? a->valid_until : "-");
	for (int r = 0; r < PQntuples(hist); r++) {
		const char *from = db_get(hist, r, "from_state"),
			   *loc = db_get(hist, r, "location");
		const char *reason = db_get(hist, r, "reason");
		ml_buf_printf(b, "  %s  %-17s %s -> %s  by %s%s%s%s%s\n",
			      db_get(hist, r, "occurred_at"), db_get(hist, r, "action"),
			      from ? from : "(new)", db_get(hist, r, "to_state"),
			      db_get(hist, r, "actor"), loc ? " at " : "", loc ? loc : "",
			      reason ? ": " : "", reason ? reason : "");
	}
}

static int show_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	/* the asset, where exactly it is (slot, order in transit, team or
	   metering point: issue 11), its model and its history: two round trips */
	struct asset_view v;
	struct ml_buf b = ML_BUF_INIT;
	int rc = asset_view_get(c->db, c->pos[0], &v, &c->err);
	if (rc)
		return rc;
	const struct asset_info *a = &v.a;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_int(&b, 1, "asset_id", a->asset_id);
		ml_json_kv_str(&b, 0, "barcode", a->barcode);
		ml_json_kv_str(&b, 0, "model_code", a->model_code);
		ml_json_kv_str(&b, 0, "lot", a->lot_code);
		ml_json_kv_str(&b, 0, "state", asset_state_name(a->state));
		ml_json_kv_str(&b, 0, "location", a->location[0] ? a->location : NULL);
		ml_json_kv_str(&b, 0, "where", v.place[0] ? v.place : NULL);
		ml_json_kv_str(&b, 0, "valid_until", a->valid_until[0] ? a->valid_until : NULL);
		ml_buf_puts(&b, ",\"model\":");
		if (PQntuples(v.model))
			cli_json_row(&b, v.model, 0);
		else
			ml_buf_puts(&b, "null");
		ml_buf_puts(&b, ",\"history\":");
		cli_json_rows(&b, v.history);
		ml_buf_putc(&b, '}');
	} else {
		show_text(&b, a, v.place, v.model, v.history);
	}
	rc = cli_emit(c, &b, ctx->json);
	asset_view_free(&v);
	ml_buf_free(&b);
	return rc;
}

/* Only the form here: asset_list() checks the range and names the value. */
static int check_list(struct cli_ctx *ctx, struct cli_call *c)
{
	struct asset_args *a = c->args;
	long long n;
	int rc;
	(void)ctx;
	if (a->limit) {
		rc = cli_parse_ll(c, "--limit", a->limit, LONG_MIN, LONG_MAX, &n);
		if (rc)
			return rc;
		a->filter.limit = (long)n;
	}
	if (a->after) {
		rc = cli_parse_ll(c, "--after", a->after, INT64_MIN, INT64_MAX, &n);
		if (rc)
			return rc;
		a->filter.after_id = n;
	}
	return ML_OK;
}

static int list_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct asset_args *a = c->args;
	PGresult *res = NULL;
	int rc = asset_list(c->db, &a->filter, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int check_stock(struct cli_ctx *ctx, struct cli_call *c)
{
	struct asset_args *a = c->args;
	(void)ctx;
	if (a->all_places && a->totals)
		return cli_call_usage(c, "--all-places and --totals exclude each other");
	a->stock.scope = a->totals       ? ASSET_STOCK_TOTALS
			 : a->all_places ? ASSET_STOCK_PLACES
					 : ASSET_STOCK_STORES;
	return ML_OK;
}

static int stock_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct asset_args *a = c->args;
	PGresult *res = NULL;
	int rc = asset_stock(c->db, &a->stock, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

static int lot_list(struct cli_ctx *ctx, struct cli_call *c)
{
	PGresult *res = NULL;
	int rc = asset_lot_list(c->db, &res, &c->err);
	if (rc)
		return rc;
	return cli_print_result(ctx, c, res);
}

/* ---- the tables ---- */

static const struct cli_opt manufacturer_opts[] = {
	CLI_OPT("name", struct asset_args, name),
	CLI_OPT_END,
};

static const struct cli_cmd manufacturer_cmds[] = {
	{ .name = "add",
	  .run = manufacturer_add,
	  CLI_ARGS(struct asset_args, manufacturer_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "expected 'meterlab asset manufacturer add CODE --name NAME'",
	  .flags = CLI_NEED_DB,
	  .summary = "add a manufacturer",
	  .help = "usage: meterlab asset manufacturer add CODE --name NAME\n\n"
		  "Register a manufacturer (code: letters, digits, _ . -; e.g. HX)." },
	{ .name = NULL },
};

static const struct cli_opt model_opts[] = {
	CLI_REQ("code", struct asset_model, code),
	CLI_REQ("manufacturer", struct asset_model, manufacturer_code),
	CLI_REQ("name", struct asset_model, name),
	CLI_REQ("kind", struct asset_model, kind),
	CLI_OPT("class", struct asset_model, accuracy_class),
	CLI_OPT("reactive-class", struct asset_model, reactive_class),
	CLI_OPT("connection", struct asset_model, connection),
	CLI_OPT("wiring", struct asset_model, wiring),
	CLI_OPT("un", struct asset_model, un_v),
	CLI_OPT("ib", struct asset_model, ib_a),
	CLI_OPT("imax", struct asset_model, imax_a),
	CLI_OPT("constant", struct asset_model, constant_imp),
	CLI_OPT("clock-hz", struct asset_model, clock_freq_hz),
	CLI_OPT("ct-primary", struct asset_model, ct_primary_a),
	CLI_OPT("ct-secondary", struct asset_model, ct_secondary_a),
	CLI_OPT("vt-primary", struct asset_model, vt_primary_v),
	CLI_OPT("vt-secondary", struct asset_model, vt_secondary_v),
	CLI_OPT("burden", struct asset_model, rated_burden_va),
	CLI_REQ("period", struct asset_model, verification_period_months),
	CLI_OPT_END,
};

static const char model_need[] =
	"model add needs --code, --manufacturer, --name, --kind and --period";

static const struct cli_cmd model_cmds[] = {
	{ .name = "add",
	  .run = model_add,
	  CLI_ARGS(struct asset_model, model_opts),
	  .need = model_need,
	  .flags = CLI_NEED_DB,
	  .summary = "add a device model",
	  .help = model_help },
	{ .name = "list",
	  .run = model_list,
	  .flags = CLI_NEED_DB,
	  .summary = "list the device models",
	  .help = model_help },
	{ .name = NULL },
};

static const struct cli_opt location_opts[] = {
	CLI_OPT("name", struct asset_args, name),
	CLI_OPT("kind", struct asset_args, kind),
	CLI_OPT("parent", struct asset_args, parent),
	CLI_OPT_END,
};

static const struct cli_cmd location_cmds[] = {
	{ .name = "add",
	  .run = location_add,
	  CLI_ARGS(struct asset_args, location_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "expected 'location add CODE --name NAME --kind KIND' or 'location list'",
	  .flags = CLI_NEED_DB,
	  .summary = "add a store or place",
	  .help = location_help },
	{ .name = "list",
	  .run = location_list,
	  .flags = CLI_NEED_DB,
	  .summary = "list stores and places",
	  .help = location_help },
	{ .name = NULL },
};

static const char lot_help[] =
	"usage: meterlab asset lot list [--json]\n\n"
	"Arrival lots, newest first: manufacturer, model (when the lot has one), supplier,\n"
	"asset count and how many assets of the lot are in each state.";

static const struct cli_cmd lot_cmds[] = {
	{ .name = "list",
	  .run = lot_list,
	  .flags = CLI_NEED_DB,
	  .summary = "arrival lots with per-state counts",
	  .help = lot_help },
	{ .name = NULL },
};

static const struct cli_opt receive_opts[] = {
	CLI_REQ("lot", struct asset_args, recv.lot_code),
	CLI_REQ("file", struct asset_args, file),
	CLI_OPT("supplier", struct asset_args, recv.supplier),
	CLI_OPT("location", struct asset_args, recv.location),
	CLI_OPT_END,
};

static const struct cli_opt move_opts[] = {
	CLI_OPT("file", struct asset_args, file),
	CLI_OPT("location", struct asset_args, location),
	CLI_OPT("reason", struct asset_args, reason),
	CLI_OPT("details", struct asset_args, details),
	CLI_OPT_END,
};

static const struct cli_opt swap_opts[] = {
	CLI_OPT("location", struct asset_args, location),
	CLI_OPT("reason", struct asset_args, reason),
	CLI_OPT_END,
};

static const struct cli_opt list_opts[] = {
	CLI_OPT("state", struct asset_args, filter.state),
	CLI_OPT("model", struct asset_args, filter.model),
	CLI_OPT("lot", struct asset_args, filter.lot),
	CLI_OPT("location", struct asset_args, filter.location),
	CLI_OPT("limit", struct asset_args, limit),
	CLI_OPT("after", struct asset_args, after),
	CLI_OPT_END,
};

static const struct cli_opt stock_opts[] = {
	CLI_OPT("state", struct asset_args, stock.state),
	CLI_OPT("model", struct asset_args, stock.model),
	CLI_OPT("location", struct asset_args, stock.location),
	CLI_FLAG("all-places", struct asset_args, all_places),
	CLI_FLAG("totals", struct asset_args, totals),
	CLI_OPT_END,
};

static const struct cli_cmd asset_cmds[] = {
	{ .name = "receive",
	  .run = receive_cmd,
	  CLI_ARGS(struct asset_args, receive_opts),
	  .need = "receive needs --lot LOT and --file FILE (see --help)",
	  .summary = "receive a supplier delivery (CSV) into a new lot",
	  .help = receive_help },
	{ .name = "move",
	  .check = check_move,
	  .run = move_cmd,
	  CLI_ARGS(struct asset_args, move_opts),
	  .min_pos = 1,
	  .max_pos = 8,
	  .need = "move needs an ACTION (see 'meterlab asset move --help')",
	  .summary = "apply a lifecycle action to assets, all or nothing",
	  .help = move_help },
	{ .name = "swap",
	  .check = check_swap,
	  .run = check_swap, /* never reached: the check refuses */
	  CLI_ARGS(struct asset_args, swap_opts),
	  .min_pos = 2,
	  .max_pos = 2,
	  .need = "swap needs OLD_BARCODE and NEW_BARCODE",
	  .summary = "replaced by meterlab field swap (refused)",
	  .help = "usage: meterlab asset swap OLD NEW   (refused, exit 3)\n\n"
		  "A swap is done at the metering point with both register readings and the seals,\n"
		  "in one transaction:\n"
		  "  meterlab field swap OLD NEW --old-reading KWH --reason R --reading KWH [--seal S]...\n"
		  "This bare form recorded none of them and is refused." },
	{ .name = "show",
	  .run = show_cmd,
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "show needs exactly one BARCODE",
	  .flags = CLI_NEED_DB,
	  .summary = "one asset with its model and whole history",
	  .help = "usage: meterlab asset show BARCODE [--json]\n\n"
		  "Show one asset: model, lot, state, location, valid-until and its whole history\n"
		  "(every lifecycle event, oldest first)." },
	{ .name = "list",
	  .check = check_list,
	  .run = list_cmd,
	  CLI_ARGS(struct asset_args, list_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "list assets with filters and paging",
	  .help = "usage: meterlab asset list [--state S] [--model CODE] [--lot LOT] [--location CODE]\n"
		  "                           [--limit N] [--after ASSET_ID] [--json]\n\n"
		  "List assets ordered by asset_id, at most N (default 100, max 10000). Page with\n"
		  "--after: pass the last asset_id of the previous page." },
	{ .name = "stock",
	  .check = check_stock,
	  .run = stock_cmd,
	  CLI_ARGS(struct asset_args, stock_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "stock counts by location, model and state",
	  .help = "usage: meterlab asset stock [--location CODE] [--model CODE] [--state S]\n"
		  "                            [--all-places | --totals] [--json]\n\n"
		  "How many assets there are by place, model and state: by default in every store\n"
		  "(central and secondary), with --all-places at every place (field teams, customer\n"
		  "districts, benches…), with --totals province-wide per model and state. The\n"
		  "database keeps these counts up to date with every change, so the answer does not\n"
		  "take longer as the registry grows." },
	{ .name = "model",
	  .sub = model_cmds,
	  .summary = "device-model catalogue (add, list)",
	  .help = model_help },
	{ .name = "manufacturer",
	  .sub = manufacturer_cmds,
	  .summary = "add a manufacturer",
	  .help = "Manufacturers of the catalogue." },
	{ .name = "location",
	  .sub = location_cmds,
	  .summary = "stores and places (add, list)",
	  .help = location_help },
	{ .name = "lot",
	  .sub = lot_cmds,
	  .summary = "arrival lots with per-state counts (list)",
	  .help = lot_help },
	{ .name = NULL },
};

const struct cli_cmd cmd_asset = {
	.name = "asset",
	.help = "The asset registry: catalogue, deliveries, lifecycle (assets/README.md).",
	.sub = asset_cmds,
};
