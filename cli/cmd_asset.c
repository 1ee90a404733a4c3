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

#define MAX_POS 8

static const char *default_actor(const char *given)
{
	if (given && *given)
		return given;
	const char *u = getenv("USER");
	return u && *u ? u : "unknown";
}

/* ---- catalogue ---- */

static int manufacturer_add(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(argc, argv,
		     "usage: meterlab asset manufacturer add CODE --name NAME\n\n"
		     "Register a manufacturer (code: letters, digits, _ . -; e.g. HX)."))
		return CLI_OK;
	const char *name = NULL, *pos[MAX_POS];
	int npos;
	const struct cli_opt opts[] = { CLI_OPT("name", &name), CLI_OPT_END };
	int rc = cli_parse_opts(argc, argv, opts, pos, MAX_POS, &npos);
	if (rc)
		return rc;
	if (npos < 2 || strcmp(pos[0], "add") || npos > 2)
		return cli_usage("expected 'meterlab asset manufacturer add CODE --name NAME'");
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	if (asset_manufacturer_add(db, pos[1], name, &err))
		return cli_fail(&err);
	if (!ctx->json)
		printf("manufacturer %s added\n", pos[1]);
	else
		printf("{\"manufacturer\":\"%s\",\"added\":true}\n", pos[1]);
	return CLI_OK;
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

static int model_add(struct cli_ctx *ctx, int argc, char **argv)
{
	struct asset_model m = { 0 };
	const char *pos[MAX_POS];
	int npos;
	const struct cli_opt opts[] = {
		CLI_OPT("code", &m.code),
		CLI_OPT("manufacturer", &m.manufacturer_code),
		CLI_OPT("name", &m.name),
		CLI_OPT("kind", &m.kind),
		CLI_OPT("class", &m.accuracy_class),
		CLI_OPT("reactive-class", &m.reactive_class),
		CLI_OPT("connection", &m.connection),
		CLI_OPT("wiring", &m.wiring),
		CLI_OPT("un", &m.un_v),
		CLI_OPT("ib", &m.ib_a),
		CLI_OPT("imax", &m.imax_a),
		CLI_OPT("constant", &m.constant_imp),
		CLI_OPT("clock-hz", &m.clock_freq_hz),
		CLI_OPT("ct-primary", &m.ct_primary_a),
		CLI_OPT("ct-secondary", &m.ct_secondary_a),
		CLI_OPT("vt-primary", &m.vt_primary_v),
		CLI_OPT("vt-secondary", &m.vt_secondary_v),
		CLI_OPT("burden", &m.rated_burden_va),
		CLI_OPT("period", &m.verification_period_months),
		CLI_OPT_END,
	};
	int rc = cli_parse_opts(argc, argv, opts, pos, MAX_POS, &npos);
	if (rc)
		return rc;
	if (npos)
		return cli_usage("unexpected argument '%s'", pos[0]);
	if (!m.code || !m.manufacturer_code || !m.name || !m.kind || !m.verification_period_months)
		return cli_usage(
			"model add needs --code, --manufacturer, --name, --kind and --period");
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	if (asset_model_add(db, &m, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json)
		rc = ml_buf_puts(&b, "{") || ml_json_kv_str(&b, 1, "model", m.code) ||
		     ml_buf_puts(&b, ",\"added\":true}");
	else
		rc = ml_buf_printf(&b, "model %s added", m.code);
	return cli_finish(&b, rc, 1);
}

static int model_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv) || argc < 2) {
		puts(model_help);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (!strcmp(argv[1], "add"))
		return model_add(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "list"))
		return cli_usage("unknown 'meterlab asset model %s' (add or list)", argv[1]);
	if (argc > 2)
		return cli_usage("unexpected argument '%s'", argv[2]);
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = NULL;
	if (asset_model_list(db, &res, &err))
		return cli_fail(&err);
	return cli_print_result(ctx, res);
}

static int location_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv) || argc < 2) {
		puts("usage: meterlab asset location add CODE --name NAME --kind KIND [--parent CODE]\n"
		     "       meterlab asset location list [--json]\n\n"
		     "Stores and places an asset can be: KIND is central_store, secondary_store (city/county\n"
		     "二级表库), bench, lab, field_team, customer_site or maker. CENTRAL (central store) exists.");
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	const char *name = NULL, *kind = NULL, *parent = NULL, *pos[MAX_POS];
	int npos;
	const struct cli_opt opts[] = { CLI_OPT("name", &name), CLI_OPT("kind", &kind),
					CLI_OPT("parent", &parent), CLI_OPT_END };
	int rc = cli_parse_opts(argc, argv, opts, pos, MAX_POS, &npos);
	if (rc)
		return rc;
	int add = npos == 2 && !strcmp(pos[0], "add");
	if (!add && !(npos == 1 && !strcmp(pos[0], "list")))
		return cli_usage(
			"expected 'location add CODE --name NAME --kind KIND' or 'location list'");
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	if (add) {
		if (asset_location_add(db, pos[1], name, kind, parent, &err))
			return cli_fail(&err);
		if (!ctx->json)
			printf("location %s added\n", pos[1]);
		else
			printf("{\"location\":\"%s\",\"added\":true}\n", pos[1]);
		return CLI_OK;
	}
	PGresult *res = NULL;
	if (asset_location_list(db, &res, &err))
		return cli_fail(&err);
	return cli_print_result(ctx, res);
}

/* ---- receive ---- */

static const char receive_help[] =
	"usage: meterlab asset receive --lot LOT --file FILE|- [--supplier TEXT] [--actor NAME]\n"
	"                             [--location STORE]\n\n"
	"Receive a supplier delivery into a new arrival lot, all rows or none. FILE is CSV (UTF-8),\n"
	"first line a header naming the columns, in any order:\n"
	"  barcode           22-digit State Grid asset barcode (mod-10 check digit verified)\n"
	"  model_code        an existing model (meterlab asset model list)\n"
	"  production_batch  manufacturer's batch, 1-64 characters\n"
	"  production_date   YYYY-MM-DD\n"
	"  box_code          optional column: packing box barcode\n"
	"Every bad row is reported (line, column, value, reason): bad barcode, unknown model, bad\n"
	"date, duplicate within the file, barcode already registered; then nothing is imported\n"
	"(exit 3). Importing the same file again, or reusing a lot code, is refused (exit 5).\n"
	"Assets start in state 'arrived' at STORE (default CENTRAL).";

static int print_issues(struct cli_ctx *ctx, const char *lot, const struct asset_import_report *rep)
{
	struct ml_buf b = ML_BUF_INIT;
	int rc = ML_OK;
	if (ctx->json) {
		rc = ml_buf_putc(&b, '{') || ml_json_kv_str(&b, 1, "lot", lot) ||
		     ml_json_kv_int(&b, 0, "imported", 0) || ml_buf_puts(&b, ",\"issues\":[");
		for (size_t i = 0; i < rep->nissues && !rc; i++) {
			const struct asset_import_issue *is = &rep->issues[i];
			rc = ml_buf_puts(&b, i ? ",{" : "{") ||
			     ml_json_kv_int(&b, 1, "line", is->line) ||
			     ml_json_kv_str(&b, 0, "column", is->column) ||
			     ml_json_kv_str(&b, 0, "value", is->value) ||
			     ml_json_kv_str(&b, 0, "reason", is->reason) || ml_buf_putc(&b, '}');
		}
		if (!rc)
			rc = ml_buf_puts(&b, "]}");
		if (!rc)
			rc = cli_out(&b, 1);
	} else {
		for (size_t i = 0; i < rep->nissues; i++) {
			const struct asset_import_issue *is = &rep->issues[i];
			fprintf(stderr, "line %ld%s%s%s%s%s: %s\n", is->line,
				is->column[0] ? ", " : "", is->column, is->value[0] ? " '" : "",
				is->value, is->value[0] ? "'" : "", is->reason);
		}
	}
	ml_buf_free(&b);
	return rc;
}

static int receive_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(argc, argv, receive_help))
		return CLI_OK;
	struct asset_receive_opts o = { 0 };
	const char *file = NULL, *pos[MAX_POS];
	int npos;
	const struct cli_opt opts[] = {
		CLI_OPT("lot", &o.lot_code),      CLI_OPT("file", &file),
		CLI_OPT("supplier", &o.supplier), CLI_OPT("actor", &o.actor),
		CLI_OPT("location", &o.location), CLI_OPT_END
	};
	int rc = cli_parse_opts(argc, argv, opts, pos, MAX_POS, &npos);
	if (rc)
		return rc;
	if (npos)
		return cli_usage("unexpected argument '%s'", pos[0]);
	if (!o.lot_code || !file)
		return cli_usage("receive needs --lot LOT and --file FILE (see --help)");
	o.actor = default_actor(o.actor);
	o.file_name = file;
	struct ml_error err = ML_ERROR_INIT;
	char *data = NULL;
	size_t len = 0;
	if (asset_read_file(file, &data, &len, &err))
		return cli_fail(&err);
	struct db *db;
	if ((rc = cli_db(ctx, &db))) {
		free(data);
		return rc;
	}
	struct asset_import_report rep;
	rc = asset_receive(db, &o, data, len, &rep, &err);
	free(data);
	if (rc) {
		if (print_issues(ctx, o.lot_code, &rep))
			rc = ML_EINTERNAL;
		asset_import_report_free(&rep);
		return cli_fail(&err);
	}
	if (ctx->json)
		printf("{\"lot\":\"%s\",\"lot_id\":%" PRId64
		       ",\"imported\":%zu,\"sha256\":\"%s\"}\n",
		       o.lot_code, rep.lot_id, rep.rows, rep.sha256);
	else
		printf("lot %s: received %zu asset%s (state arrived), file sha256 %s\n", o.lot_code,
		       rep.rows, rep.rows == 1 ? "" : "s", rep.sha256);
	asset_import_report_free(&rep);
	return fflush(stdout) ? CLI_FAIL : CLI_OK;
}

/* ---- move / swap ---- */

static const char move_help[] =
	"usage: meterlab asset move ACTION [--file FILE | -] [BARCODE...] [--actor NAME]\n"
	"                          [--location CODE] [--reason TEXT] [--details JSON] [--valid-until DATE]\n\n"
	"Apply one lifecycle action to every listed asset, all or nothing: when any asset is\n"
	"refused, every refused barcode is reported with its reason and nothing moves (exit 5, or\n"
	"4 for an unknown barcode/location, 3 for a malformed one). Barcodes come from the\n"
	"arguments, from FILE, or from standard input ('-'): one per line, the first comma-separated\n"
	"field counts, blank lines, '#' comments and a 'barcode' header line are skipped.\n"
	"ACTION (state -> state):\n"
	"  sample            arrived -> sampling            sample_return  sampling -> arrived\n"
	"  verify_start      arrived|sampling|reverify|in_stock -> verifying\n"
	"  verify_pass       verifying -> in_stock (sets valid_until; --valid-until or the model's period)\n"
	"  verify_fail       verifying -> failed            verify_abort   verifying -> reverify\n"
	"  dispatch          in_stock -> in_transit         receive_secondary in_transit -> secondary_stock\n"
	"  issue             in_stock|secondary_stock -> issued (refused after valid_until)\n"
	"  install           issued -> installed\n"
	"  return_unused     issued -> in_stock, or secondary_stock when --location is a secondary store\n"
	"  remove            installed -> removed           fault_report   installed|removed -> fault_analysis\n"
	"  reuse             removed|fault_analysis -> reverify\n"
	"  return_to_maker   failed|fault_analysis -> returned_to_maker\n"
	"  scrap             failed|fault_analysis|removed -> scrapped\n"
	"--location moves the asset to that place (e.g. a secondary store for dispatch);\n"
	"receive_secondary must end at a secondary store, return_unused at a store.\n"
	"See also 'meterlab asset swap' (remove + install in one transaction).";

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

static int print_move_report(struct cli_ctx *ctx, const struct bc_list *l,
			     const struct asset_move_report *rep, const char *action, int ok)
{
	struct ml_buf b = ML_BUF_INIT;
	int rc = ML_OK;
	if (ctx->json) {
		rc = ml_buf_putc(&b, '{') || ml_json_kv_str(&b, 1, "action", action) ||
		     ml_json_kv_int(&b, 0, "moved", (int64_t)rep->moved) ||
		     ml_buf_puts(&b, ",\"refused\":[");
		for (size_t i = 0; i < rep->nrefused && !rc; i++) {
			const struct asset_refusal *r = &rep->refused[i];
			rc = ml_buf_puts(&b, i ? ",{" : "{") ||
			     ml_json_kv_str(&b, 1, "barcode", r->barcode) ||
			     ml_json_kv_int(&b, 0, "line", l->line[r->index]) ||
			     ml_json_kv_int(&b, 0, "index", (int64_t)r->index) ||
			     ml_json_kv_str(&b, 0, "error", ml_strerror(r->code)) ||
			     ml_json_kv_str(&b, 0, "reason", r->msg) || ml_buf_putc(&b, '}');
		}
		if (!rc)
			rc = ml_buf_puts(&b, "]}");
		if (!rc)
			rc = cli_out(&b, 1);
	} else if (ok) {
		rc = ml_buf_printf(&b, "%s: moved %zu asset%s", action, rep->moved,
				   rep->moved == 1 ? "" : "s");
		if (!rc)
			rc = cli_out(&b, 1);
	} else {
		for (size_t i = 0; i < rep->nrefused; i++) {
			size_t k = rep->refused[i].index;
			/* line 0 marks a barcode given as an argument: name its position instead */
			fprintf(stderr, "refused (%s %ld) %s: %s\n",
				l->line[k] ? "line" : "argument",
				l->line[k] ? l->line[k] : (long)k + 1, rep->refused[i].barcode,
				rep->refused[i].msg);
		}
	}
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
	if (!rc && bc_parse(l))
		rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	return rc;
}

static int move_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(argc, argv, move_help))
		return CLI_OK;
	const char *file = NULL, *pos[MAX_POS];
	struct asset_move tmpl = { 0 };
	int npos;
	const struct cli_opt opts[] = { CLI_OPT("file", &file),
					CLI_OPT("actor", &tmpl.actor),
					CLI_OPT("location", &tmpl.location),
					CLI_OPT("reason", &tmpl.reason),
					CLI_OPT("details", &tmpl.details_json),
					CLI_OPT("valid-until", &tmpl.valid_until),
					CLI_OPT_END };
	int rc = cli_parse_opts(argc, argv, opts, pos, MAX_POS, &npos);
	if (rc)
		return rc;
	if (npos < 1)
		return cli_usage("move needs an ACTION (see 'meterlab asset move --help')");
	struct ml_error err = ML_ERROR_INIT;
	if (asset_action_parse(pos[0], &tmpl.action, &err))
		return cli_fail(&err);
	tmpl.actor = default_actor(tmpl.actor);
	struct bc_list l = { 0 };
	struct asset_move *mv = NULL;
	struct asset_move_report rep = { 0 };
	struct db *db = NULL;
	rc = load_barcodes(file, pos, npos, &l, &err) ? cli_fail(&err) : CLI_OK;
	if (!rc && l.n == 0)
		rc = cli_usage(
			"no barcodes given (arguments, --file FILE or - for standard input)");
	if (!rc && !(mv = calloc(l.n, sizeof(*mv))))
		rc = CLI_INTERNAL;
	if (!rc)
		rc = cli_db(ctx, &db);
	if (!rc) {
		for (size_t i = 0; i < l.n; i++) {
			mv[i] = tmpl;
			mv[i].barcode = l.v[i];
		}
		int ml = asset_move_batch(db, mv, l.n, &rep, &err);
		rc = print_move_report(ctx, &l, &rep, pos[0], ml == ML_OK) ? CLI_INTERNAL : CLI_OK;
		if (ml)
			rc = cli_fail(&err);
	}
	asset_move_report_free(&rep);
	free(mv);
	free(l.v);
	free(l.line);
	free(l.data);
	return rc;
}

static int swap_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab asset swap OLD_BARCODE NEW_BARCODE [--actor NAME] [--location CODE]\n"
		    "                           [--reason TEXT]\n\n"
		    "Replace an installed meter in one transaction: OLD (installed) is removed and NEW\n"
		    "(issued) is installed, at --location when given. Either refusal leaves both unchanged."))
		return CLI_OK;
	const char *actor = NULL, *location = NULL, *reason = NULL, *pos[MAX_POS];
	int npos;
	const struct cli_opt opts[] = { CLI_OPT("actor", &actor), CLI_OPT("location", &location),
					CLI_OPT("reason", &reason), CLI_OPT_END };
	int rc = cli_parse_opts(argc, argv, opts, pos, MAX_POS, &npos);
	if (rc)
		return rc;
	if (npos != 2)
		return cli_usage("swap needs OLD_BARCODE and NEW_BARCODE");
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct asset_move_report rep = { 0 };
	char *bcs[2] = { (char *)pos[0], (char *)pos[1] };
	long lines[2] = { 0, 0 };
	struct bc_list l = { .v = bcs, .line = lines, .n = 2 };
	int ml = asset_swap(db, pos[0], pos[1], default_actor(actor), location, reason, &rep, &err);
	rc = print_move_report(ctx, &l, &rep, "swap", ml == ML_OK) ? CLI_INTERNAL : CLI_OK;
	asset_move_report_free(&rep);
	return ml ? cli_fail(&err) : rc;
}

/* ---- show / list ---- */

static int show_text(struct ml_buf *b, const struct asset_info *a, const PGresult *model,
		     const PGresult *hist)
{
	int rc = ml_buf_printf(b, "barcode      %s\nmodel        %s", a->barcode, a->model_code);
	for (int r = 0; r < PQntuples(model) && !rc; r++) {
		if (!strcmp(PQgetvalue(model, r, 1), a->model_code))
			rc = ml_buf_printf(b, " (%s %s, %s, class %s, period %s months)",
					   db_get(model, r, "manufacturer"),
					   db_get(model, r, "name"), db_get(model, r, "kind"),
					   db_get(model, r, "accuracy_class")
						   ? db_get(model, r, "accuracy_class")
						   : "-",
					   db_get(model, r, "verification_period_months"));
	}
	if (!rc)
		rc = ml_buf_printf(
			b,
			"\nlot          %s\nstate        %s\nlocation     %s\nvalid until  %s\nhistory:\n",
			a->lot_code, asset_state_name(a->state), a->location[0] ? a->location : "-",
			a->valid_until[0] ? a->valid_until : "-");
	for (int r = 0; r < PQntuples(hist) && !rc; r++) {
		const char *from = db_get(hist, r, "from_state"),
			   *loc = db_get(hist, r, "location");
		const char *reason = db_get(hist, r, "reason");
		rc = ml_buf_printf(b, "  %s  %-17s %s -> %s  by %s%s%s%s%s\n",
				   db_get(hist, r, "occurred_at"), db_get(hist, r, "action"),
				   from ? from : "(new)", db_get(hist, r, "to_state"),
				   db_get(hist, r, "actor"), loc ? " at " : "", loc ? loc : "",
				   reason ? ": " : "", reason ? reason : "");
	}
	return rc;
}

static int show_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab asset show BARCODE [--json]\n\n"
		    "Show one asset: model, lot, state, location, valid-until and its whole history\n"
		    "(every lifecycle event, oldest first)."))
		return CLI_OK;
	if (argc != 2)
		return cli_usage("show needs exactly one BARCODE");
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct asset_info a;
	PGresult *hist = NULL, *model = NULL;
	if (asset_lookup(db, argv[1], &a, &err) || asset_history(db, a.asset_id, &hist, &err))
		return cli_fail(&err);
	if (asset_model_get(db, a.model_id, &model, &err)) {
		PQclear(hist);
		return cli_fail(&err);
	}
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json) {
		rc = ml_buf_putc(&b, '{') || ml_json_kv_int(&b, 1, "asset_id", a.asset_id) ||
		     ml_json_kv_str(&b, 0, "barcode", a.barcode) ||
		     ml_json_kv_str(&b, 0, "model_code", a.model_code) ||
		     ml_json_kv_str(&b, 0, "lot", a.lot_code) ||
		     ml_json_kv_str(&b, 0, "state", asset_state_name(a.state)) ||
		     ml_json_kv_str(&b, 0, "location", a.location[0] ? a.location : NULL) ||
		     ml_json_kv_str(&b, 0, "valid_until",
				    a.valid_until[0] ? a.valid_until : NULL) ||
		     ml_buf_puts(&b, ",\"model\":") ||
		     (PQntuples(model) ? cli_json_row(&b, model, 0) : ml_buf_puts(&b, "null")) ||
		     ml_buf_puts(&b, ",\"history\":") || cli_json_rows(&b, hist) ||
		     ml_buf_putc(&b, '}');
	} else {
		rc = show_text(&b, &a, model, hist);
	}
	PQclear(hist);
	PQclear(model);
	return cli_finish(&b, rc, ctx->json);
}

static int list_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab asset list [--state S] [--model CODE] [--lot LOT] [--location CODE]\n"
		    "                           [--limit N] [--after ASSET_ID] [--json]\n\n"
		    "List assets ordered by asset_id, at most N (default 100, max 10000). Page with\n"
		    "--after: pass the last asset_id of the previous page."))
		return CLI_OK;
	struct asset_filter f = { 0 };
	const char *limit = NULL, *after = NULL, *pos[MAX_POS];
	int npos;
	const struct cli_opt opts[] = { CLI_OPT("state", &f.state),
					CLI_OPT("model", &f.model),
					CLI_OPT("lot", &f.lot),
					CLI_OPT("location", &f.location),
					CLI_OPT("limit", &limit),
					CLI_OPT("after", &after),
					CLI_OPT_END };
	int rc = cli_parse_opts(argc, argv, opts, pos, MAX_POS, &npos);
	if (rc)
		return rc;
	if (npos)
		return cli_usage("unexpected argument '%s'", pos[0]);
	/* Only the form here: asset_list() checks the range and names the value. */
	long long n;
	if (limit && (rc = cli_parse_ll("--limit", limit, LONG_MIN, LONG_MAX, &n)))
		return rc;
	f.limit = limit ? (long)n : 0;
	if (after && (rc = cli_parse_ll("--after", after, INT64_MIN, INT64_MAX, &n)))
		return rc;
	f.after_id = after ? n : 0;
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = NULL;
	if (asset_list(db, &f, &res, &err))
		return cli_fail(&err);
	return cli_print_result(ctx, res);
}

static int lot_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab asset lot list [--json]\n\n"
		    "Arrival lots, newest first: manufacturer, model (when the lot has one), supplier,\n"
		    "asset count and how many assets of the lot are in each state."))
		return CLI_OK;
	if (argc != 2 || strcmp(argv[1], "list"))
		return cli_usage("expected 'meterlab asset lot list'");
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = NULL;
	if (asset_lot_list(db, &res, &err))
		return cli_fail(&err);
	return cli_print_result(ctx, res);
}

int cmd_asset(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd table[] = {
		{ "receive", receive_cmd, "receive a supplier delivery (CSV) into a new lot" },
		{ "move", move_cmd, "apply a lifecycle action to assets, all or nothing" },
		{ "swap", swap_cmd, "remove an installed meter and install its replacement" },
		{ "show", show_cmd, "one asset with its model and whole history" },
		{ "list", list_cmd, "list assets with filters and paging" },
		{ "model", model_cmd, "device-model catalogue (add, list)" },
		{ "manufacturer", manufacturer_add, "add a manufacturer" },
		{ "location", location_cmd, "stores and places (add, list)" },
		{ "lot", lot_cmd, "arrival lots with per-state counts (list)" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(
		ctx, "asset",
		"The asset registry: catalogue, deliveries, lifecycle (assets/README.md).", table,
		argc, argv);
}
