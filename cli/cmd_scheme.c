/*
 * meterlab scheme default|list|show|export|import|retire|plan|settings —
 * verification schemes (lab/scheme.h), their planned bench steps
 * (lab/plan.h) and the lab settings (lab/settings.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "lab/decimal.h"
#include "lab/plan.h"
#include "lab/scheme.h"
#include "lab/settings.h"

#define RATING_USAGE                                                                                          \
	"rating: --kind meter_1p|meter_3p|ct|vt --class CLASS [--connection direct|transformer]\n"            \
	"        [--wiring 1p2w|3p4w|3p3w] [--un VOLTS] [--ib AMPS] [--imax AMPS] [--constant IMP_PER_KWH]\n" \
	"        [--freq HZ] [--clock-freq HZ]   CT/VT: [--primary A|V] [--secondary A|V] [--burden VA]\n"    \
	"        [--burden-pf PF]   (defaults: direct, 1p2w or 3p4w by kind, 50 Hz, clock 1 Hz)"

struct rating_args {
	const char *v[14];
};
static const char *const rating_opts[14] = { "--kind",       "--class",    "--connection",
					     "--wiring",     "--un",       "--ib",
					     "--imax",       "--constant", "--freq",
					     "--clock-freq", "--primary",  "--secondary",
					     "--burden",     "--burden-pf" };

static int rating_opt(int argc, char **argv, int *i, struct rating_args *ra)
{
	for (int k = 0; k < 14; k++)
		if (cli_take_opt(argc, argv, i, rating_opts[k], &ra->v[k]))
			return 1;
	return 0;
}

static int milli_opt(const char *s, const char *name, int64_t *out, struct ml_error *err)
{
	if (!s)
		return ML_OK;
	if (dec_parse(s, 3, out, err) || *out < 0)
		return ml_errorf(err, ML_EINVAL, "%s '%s' must be a non-negative decimal", name, s);
	return ML_OK;
}

static int build_rating(const struct rating_args *ra, struct model_rating *r, struct ml_error *err)
{
	memset(r, 0, sizeof *r);
	if (!ra->v[0] || !ra->v[1])
		return ml_errorf(err, ML_EINVAL, "--kind and --class are required");
	int rc = model_kind_parse(ra->v[0], &r->kind, err);
	if (!rc && strlen(ra->v[1]) >= sizeof r->accuracy_class)
		rc = ml_errorf(err, ML_EINVAL, "--class '%s' too long", ra->v[1]);
	if (rc)
		return rc;
	snprintf(r->accuracy_class, sizeof r->accuracy_class, "%s", ra->v[1]);
	r->connection = CONN_DIRECT;
	r->wiring = r->kind == MODEL_METER_3P ? WIRING_3P4W : WIRING_1P2W;
	rc = ra->v[2] ? model_connection_parse(ra->v[2], &r->connection, err) : ML_OK;
	rc = rc || !ra->v[3] ? rc : model_wiring_parse(ra->v[3], &r->wiring, err);
	int64_t constant = 0, freq = 50000, clk = 1000, pf = 800;
	rc = rc ? rc : milli_opt(ra->v[4], "--un", &r->un_mv, err);
	rc = rc ? rc : milli_opt(ra->v[5], "--ib", &r->ib_ma, err);
	rc = rc ? rc : milli_opt(ra->v[6], "--imax", &r->imax_ma, err);
	rc = rc || !ra->v[7] ? rc : dec_parse(ra->v[7], 0, &constant, err);
	rc = rc ? rc : milli_opt(ra->v[8], "--freq", &freq, err);
	rc = rc ? rc : milli_opt(ra->v[9], "--clock-freq", &clk, err);
	rc = rc ? rc : milli_opt(ra->v[10], "--primary", &r->rated_primary_milli, err);
	rc = rc ? rc : milli_opt(ra->v[11], "--secondary", &r->rated_secondary_milli, err);
	rc = rc ? rc : milli_opt(ra->v[12], "--burden", &r->rated_burden_mva, err);
	rc = rc ? rc : milli_opt(ra->v[13], "--burden-pf", &pf, err);
	r->constant = constant;
	r->freq_mhz = freq;
	r->clock_freq_mhz = clk;
	r->burden_pf_milli = pf;
	return rc;
}

/* Settings: from the database when one is configured, else built in. */
static int load_settings(struct cli_ctx *ctx, int need_db, struct lab_settings *set,
			 struct db **dbp)
{
	lab_settings_defaults(set);
	if (!need_db && !ctx->conninfo && !getenv("METERLAB_DB"))
		return CLI_OK;
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	if (lab_settings_load(db, set, &err))
		return cli_fail(&err);
	if (dbp)
		*dbp = db;
	return CLI_OK;
}

static int print_scheme(const struct scheme *s, int json, struct ml_buf *b, struct ml_error *err);

static int out_scheme(int json, const struct scheme *s)
{
	struct ml_buf b = ML_BUF_INIT;
	struct ml_error err = ML_ERROR_INIT;
	int rc = print_scheme(s, json, &b, &err) ? cli_fail(&err) : cli_out(&b, json);
	ml_buf_free(&b);
	return rc;
}

static int sch_default(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab scheme default RATING [--code CODE] [--save] [--json]\n" RATING_USAGE
		    "\n\n"
		    "Generate the regulation scheme for a model from the JJG 596-2012 point tables (meters, incl.\n"
		    "single-element points of three-phase meters; 0.5Imax when Imax >= 4 Ib, so give --ib/--imax)\n"
		    "or the IEC 61869 point lists (CT/VT, settings ct.points*, vt.points, xfmr.burdens).\n"
		    "Prints the scheme text; --save stores it as a new version of CODE (default e.g. JJG596-1P-D-1)."))
		return CLI_OK;
	struct rating_args ra = { { 0 } };
	const char *code = NULL;
	int save = 0;
	for (int i = 1; i < argc; i++) {
		if (rating_opt(argc, argv, &i, &ra) ||
		    cli_take_opt(argc, argv, &i, "--code", &code))
			continue;
		if (!strcmp(argv[i], "--save"))
			save = 1;
		else if (!strncmp(argv[i], "--save=", 7)) /* --save=CODE */
			save = 1, code = argv[i] + 7;
		else
			return cli_usage("scheme default: unexpected argument '%s' (see --help)",
					 argv[i]);
	}
	struct model_rating r;
	struct lab_settings set;
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = NULL;
	struct scheme *s = NULL;
	if (build_rating(&ra, &r, &err))
		return cli_fail(&err);
	int rc = load_settings(ctx, save, &set, &db);
	if (rc)
		return rc;
	if (scheme_default(&r, &set, code, &s, &err) || (save && scheme_db_save(db, s, &err))) {
		scheme_free(s);
		return cli_fail(&err);
	}
	if (save && !ctx->json)
		fprintf(stderr, "saved scheme %s version %d (%zu steps)\n", s->code, s->version,
			s->nsteps);
	rc = out_scheme(ctx->json, s);
	scheme_free(s);
	return rc;
}

static int load_arg(struct cli_ctx *ctx, int argc, char **argv, const char *cmd, struct scheme **s)
{
	const char *code = NULL, *ver = NULL;
	for (int i = 1; i < argc; i++) {
		if (cli_take_opt(argc, argv, &i, "--version", &ver))
			continue;
		if (argv[i][0] == '-' || code)
			return cli_usage("scheme %s: unexpected argument '%s'", cmd, argv[i]);
		code = argv[i];
	}
	if (!code)
		return cli_usage("scheme %s needs a scheme code", cmd);
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	int64_t v = 0;
	if (ver && (dec_parse(ver, 0, &v, &err) || v < 1 || v > 1000000)) {
		ml_errorf(&err, ML_EINVAL, "--version '%s' must be a positive integer", ver);
		return cli_fail(&err);
	}
	rc = ver ? scheme_db_load_version(db, code, (int)v, s, &err)
		 : scheme_db_load(db, code, s, &err);
	return rc ? cli_fail(&err) : CLI_OK;
}

static int sch_show(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab scheme show CODE [--version N] [--json]\n       meterlab scheme export CODE "
		    "[--version N]\n\nPrint a stored scheme (latest version unless --version) in the text format that "
		    "'scheme import' reads; show --json gives the steps as JSON."))
		return CLI_OK;
	struct scheme *s = NULL;
	int rc = load_arg(ctx, argc, argv, argv[0], &s);
	if (rc)
		return rc;
	/* export is always the text format, so it can be imported again */
	rc = out_scheme(strcmp(argv[0], "export") ? ctx->json : 0, s);
	scheme_free(s);
	return rc;
}

static int read_all(const char *path, struct ml_buf *b, struct ml_error *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f)
		return ml_errorf(err, ML_EIO, "cannot open '%s'", path);
	char chunk[4096];
	size_t n;
	int rc = ML_OK;
	while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc = ml_buf_append(b, chunk, n) ? ml_errorf(err, ML_ENOMEM, "'%s' too large", path)
						: ML_OK;
	if (!rc && ferror(f))
		rc = ml_errorf(err, ML_EIO, "reading '%s' failed", path);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int sch_import(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab scheme import FILE|- [--code CODE] [--json]\n\n"
		    "Read a scheme in the text format (see 'scheme export') and store it as a new version of its\n"
		    "code (or of --code). Nothing is stored when any line is invalid; the error names the line."))
		return CLI_OK;
	const char *path = NULL, *code = NULL;
	for (int i = 1; i < argc; i++) {
		if (cli_take_opt(argc, argv, &i, "--code", &code))
			continue;
		if ((argv[i][0] == '-' && argv[i][1]) || path)
			return cli_usage("scheme import: unexpected argument '%s'", argv[i]);
		path = argv[i];
	}
	if (!path)
		return cli_usage("scheme import needs a FILE (or - for stdin)");
	struct ml_buf text = ML_BUF_INIT;
	struct ml_error err = ML_ERROR_INIT;
	struct scheme *s = NULL;
	int rc = read_all(path, &text, &err) || scheme_parse_text(ml_buf_str(&text), &s, &err);
	ml_buf_free(&text);
	if (rc)
		return cli_fail(&err);
	if (code && (strlen(code) >= sizeof s->code || !*code)) {
		scheme_free(s);
		ml_errorf(&err, ML_EINVAL, "--code '%s' invalid", code);
		return cli_fail(&err);
	}
	if (code)
		snprintf(s->code, sizeof s->code, "%s", code);
	struct db *db;
	rc = cli_db(ctx, &db);
	if (!rc && scheme_db_save(db, s, &err))
		rc = cli_fail(&err);
	if (!rc) {
		struct ml_buf b = ML_BUF_INIT;
		int bad = ctx->json
				  ? ml_buf_printf(&b,
						  "{\"code\":\"%s\",\"version\":%d,\"steps\":%zu}",
						  s->code, s->version, s->nsteps)
				  : ml_buf_printf(&b, "imported scheme %s version %d (%zu steps)",
						  s->code, s->version, s->nsteps);
		rc = bad ? CLI_INTERNAL : cli_out(&b, 1);
		ml_buf_free(&b);
	}
	scheme_free(s);
	return rc;
}

static int sch_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct db *db;
	int rc = cli_start_noargs(ctx, argc, argv,
				  "usage: meterlab scheme list [--json]\n\n"
				  "Stored schemes (latest version of each code, retired ones "
				  "hidden).",
				  &db);
	if (rc || !db)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct scheme_summary *v = NULL;
	size_t n = 0;
	if (scheme_db_list(db, &v, &n, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	rc = ctx->json ? ml_buf_putc(&b, '[')
		       : ml_buf_printf(&b, "%-32s %4s %5s  %-20s %-10s %-12s %s\n", "CODE", "VER",
				       "STEPS", "KINDS", "CLASSES", "CONNECTION", "NAME");
	for (size_t i = 0; i < n; i++) {
		if (ctx->json) {
			rc |= ml_buf_puts(&b, i ? ",{" : "{");
			rc |= ml_json_kv_str(&b, 1, "code", v[i].code);
			rc |= ml_json_kv_int(&b, 0, "version", v[i].version);
			rc |= ml_json_kv_str(&b, 0, "name", v[i].name);
			rc |= ml_json_kv_str(&b, 0, "kinds", v[i].kinds);
			rc |= ml_json_kv_str(&b, 0, "classes", v[i].classes);
			rc |= ml_json_kv_str(&b, 0, "connection", v[i].connection);
			rc |= ml_json_kv_int(&b, 0, "steps", v[i].nsteps);
			rc |= ml_buf_putc(&b, '}');
		} else {
			rc |= ml_buf_printf(&b, "%-32s %4d %5d  %-20s %-10s %-12s %s\n", v[i].code,
					    v[i].version, v[i].nsteps, v[i].kinds, v[i].classes,
					    v[i].connection, v[i].name);
		}
	}
	if (ctx->json)
		rc |= ml_buf_putc(&b, ']');
	free(v);
	return cli_finish(&b, rc, ctx->json);
}

static int sch_retire(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab scheme retire CODE\n\nHide a scheme from list/load. Its versions stay stored "
		    "(results name the version they ran); importing the code again revives it."))
		return CLI_OK;
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("scheme retire needs exactly one scheme code");
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	if (scheme_db_retire(db, argv[1], &err))
		return cli_fail(&err);
	if (!ctx->json)
		printf("retired scheme %s\n", argv[1]);
	else
		printf("{\"retired\":\"%s\"}\n", argv[1]);
	return fflush(stdout) ? CLI_INTERNAL : CLI_OK;
}

/* ---- scheme plan ---- */

static int plan_row_json(struct ml_buf *b, const struct plan_step *p, int first)
{
	char t[DEC4_FMT_MAX];
	int rc = ml_buf_puts(b, first ? "{" : ",{");
	rc |= ml_json_kv_int(b, 1, "step", p->index + 1);
	rc |= ml_json_kv_str(b, 0, "kind", scheme_step_kind_name(p->kind));
	rc |= ml_json_kv_str(b, 0, "label", p->label);
	rc |= ml_json_kv_int(b, 0, "mode", p->mode);
	rc |= ml_json_kv_str(b, 0, "voltage_v", dec_format(p->voltage_mv, 3, 3, 0, t, sizeof t));
	rc |= ml_json_kv_str(b, 0, "current_a", dec_format(p->current_ua, 6, 6, 0, t, sizeof t));
	rc |= ml_json_kv_str(b, 0, "phi_deg",
			     dec4_format(point_pf_phi_e4(p->point.pf), 4, t, sizeof t));
	rc |= ml_json_kv_int(b, 0, "element_mask", p->source.element_mask);
	rc |= ml_json_kv_int(b, 0, "pulses", p->pos.pulses);
	rc |= ml_json_kv_int(b, 0, "readings", p->readings);
	rc |= ml_json_kv_int(b, 0, "duration_ms", p->duration_ms);
	rc |= ml_json_kv_str(b, 0, "limit",
			     dec4_format(p->limit_e4, dec4_min_decimals(p->limit_e4), t, sizeof t));
	rc |= ml_json_kv_str(b, 0, "internal_limit",
			     dec4_format(p->internal_limit_e4,
					 dec4_min_decimals(p->internal_limit_e4), t, sizeof t));
	rc |= ml_json_kv_str(
		b, 0, "interval",
		dec4_format(p->interval_e4, dec4_min_decimals(p->interval_e4), t, sizeof t));
	if (p->limit2_e4)
		rc |= ml_json_kv_str(
			b, 0, "phase_limit_min",
			dec4_format(p->limit2_e4, dec4_min_decimals(p->limit2_e4), t, sizeof t));
	rc |= ml_json_kv_str(b, 0, "clause", p->clause);
	rc |= ml_buf_putc(b, '}');
	return rc;
}

/* decimals of a limit: at least those of the rounding interval ("1.0" for class 1) */
static int shown_decimals(const struct plan_step *p, int64_t v)
{
	int a = p->interval_e4 > 0 ? dec4_interval_decimals(p->interval_e4) : 0,
	    b = dec4_min_decimals(v);
	return a > b ? a : b;
}

static int plan_row_text(struct ml_buf *b, const struct plan_step *p)
{
	char u[DEC4_FMT_MAX], i[DEC4_FMT_MAX], l[DEC4_FMT_MAX], il[DEC4_FMT_MAX], d[DEC4_FMT_MAX];
	return ml_buf_printf(
		b, "%3d  %-24s %9s V %10s A  pulses %5u  x%-2d %10s s  limit %-6s internal %s\n",
		p->index + 1, p->label, dec_format(p->voltage_mv, 3, 1, 0, u, sizeof u),
		dec_format(p->current_ua, 6, 4, 0, i, sizeof i), p->pos.pulses, p->readings,
		dec_format(p->duration_ms, 3, 1, 0, d, sizeof d),
		p->limit_e4 ? dec4_format(p->limit_e4, shown_decimals(p, p->limit_e4), l, sizeof l)
			    : "-",
		p->internal_limit_e4
			? dec4_format(p->internal_limit_e4, shown_decimals(p, p->internal_limit_e4),
				      il, sizeof il)
			: "-");
}

static int sch_plan(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab scheme plan (CODE | --default) RATING [--json]\n" RATING_USAGE
		    "\n\n"
		    "Show what a run would do for a model: per step the source setpoints, pulses per reading,\n"
		    "readings, time limit (creep/start/constant/clock) or expected duration (basic), the\n"
		    "regulation limit and the internal acceptance limit. Uses stored settings when a database\n"
		    "is configured. --default plans the regulation scheme without storing it."))
		return CLI_OK;
	struct rating_args ra = { { 0 } };
	const char *code = NULL;
	int def = 0;
	for (int i = 1; i < argc; i++) {
		if (rating_opt(argc, argv, &i, &ra))
			continue;
		if (!strcmp(argv[i], "--default"))
			def = 1;
		else if (argv[i][0] != '-' && !code)
			code = argv[i];
		else
			return cli_usage("scheme plan: unexpected argument '%s' (see --help)",
					 argv[i]);
	}
	if (!code == !def)
		return cli_usage("scheme plan needs a scheme CODE or --default");
	struct model_rating r;
	struct lab_settings set;
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = NULL;
	struct scheme *s = NULL;
	if (build_rating(&ra, &r, &err))
		return cli_fail(&err);
	int rc = load_settings(ctx, !def, &set, &db);
	if (rc)
		return rc;
	if (def ? scheme_default(&r, &set, NULL, &s, &err) : scheme_db_load(db, code, &s, &err))
		return cli_fail(&err);
	struct plan_step *ps = NULL;
	size_t n = 0;
	rc = plan_scheme(s, &r, &set, &ps, &n, &err);
	scheme_free(s);
	if (rc)
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	rc = ctx->json ? ml_buf_putc(&b, '[') : 0;
	for (size_t k = 0; k < n; k++)
		rc |= ctx->json ? plan_row_json(&b, &ps[k], k == 0) : plan_row_text(&b, &ps[k]);
	if (ctx->json)
		rc |= ml_buf_putc(&b, ']');
	free(ps);
	return cli_finish(&b, rc, ctx->json);
}

/* ---- scheme settings ---- */

static int settings_show(struct cli_ctx *ctx, const struct lab_settings *set)
{
	size_t n;
	const struct lab_setting_desc *t = lab_settings_table(&n);
	struct ml_buf b = ML_BUF_INIT, v = ML_BUF_INIT;
	int rc = ctx->json ? ml_buf_putc(&b, '[') : 0;
	for (size_t i = 0; i < n && !rc; i++) {
		rc |= lab_settings_get(set, t[i].key, &v, NULL);
		int changed = strcmp(ml_buf_str(&v), t[i].def) != 0;
		if (ctx->json) {
			rc |= ml_buf_puts(&b, i ? ",{" : "{");
			rc |= ml_json_kv_str(&b, 1, "key", t[i].key);
			rc |= ml_json_kv_str(&b, 0, "value", ml_buf_str(&v));
			rc |= ml_json_kv_str(&b, 0, "default", t[i].def);
			rc |= ml_json_kv_str(&b, 0, "source", t[i].source);
			rc |= ml_json_kv_str(&b, 0, "description", t[i].description);
			rc |= ml_buf_putc(&b, '}');
		} else {
			rc |= ml_buf_printf(&b, "%-30s %-16s%s%s%s\n    %s; source: %s\n", t[i].key,
					    ml_buf_str(&v), changed ? " (default " : "",
					    changed ? t[i].def : "", changed ? ")" : "",
					    t[i].description, t[i].source);
		}
	}
	if (ctx->json)
		rc |= ml_buf_putc(&b, ']');
	rc = cli_finish(&b, rc, ctx->json);
	ml_buf_free(&v);
	return rc;
}

static int sch_settings(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab scheme settings [--json]\n       meterlab scheme settings set KEY VALUE\n"
		    "       meterlab scheme settings reset KEY\n\n"
		    "The verification rules a centre may set (every rule the reference leaves unverified, the\n"
		    "internal acceptance coefficient, point lists ...), their values, defaults and sources.\n"
		    "Without a database only the built-in defaults are shown. Changes are logged (lab_setting_log)."))
		return CLI_OK;
	struct lab_settings set;
	struct ml_error err = ML_ERROR_INIT;
	if (argc == 1 || (argc == 2 && !strcmp(argv[1], "list"))) {
		int rc = load_settings(ctx, 0, &set, NULL);
		return rc ? rc : settings_show(ctx, &set);
	}
	int set_cmd = !strcmp(argv[1], "set"), reset = !strcmp(argv[1], "reset");
	if ((set_cmd && argc != 4) || (reset && argc != 3) || (!set_cmd && !reset))
		return cli_usage(
			"scheme settings: expected 'set KEY VALUE' or 'reset KEY' (see --help)");
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	if (set_cmd ? lab_settings_store(db, argv[2], argv[3], &err)
		    : lab_settings_reset(db, argv[2], &err))
		return cli_fail(&err);
	if (!ctx->json)
		printf("%s %s\n", argv[2], set_cmd ? "stored" : "reset to its default");
	return fflush(stdout) ? CLI_INTERNAL : CLI_OK;
}

/* ---- scheme printing ---- */

static int step_json(struct ml_buf *b, const struct scheme_step *st, int first,
		     struct ml_error *err)
{
	struct ml_buf line = ML_BUF_INIT;
	int rc = scheme_step_format(st, &line, err);
	if (rc) {
		ml_buf_free(&line);
		return rc;
	}
	char cur[24];
	int point = st->kind == STEP_BASIC || st->kind == STEP_CONSTANT;
	int bad = ml_buf_puts(b, first ? "{" : ",{");
	bad |= ml_json_kv_str(b, 1, "kind", scheme_step_kind_name(st->kind));
	if (point) {
		bad |= ml_json_kv_str(
			b, 0, "current",
			point_current_text(st->point.base, st->point.mult_e4, cur, sizeof cur));
		bad |= ml_json_kv_str(b, 0, "pf", point_pf_text(st->point.pf));
		bad |= ml_json_kv_str(b, 0, "element", point_element_text(st->point.element));
	}
	bad |= ml_json_kv_int(b, 0, "readings", st->readings);
	bad |= ml_json_kv_int(b, 0, "pulses", st->pulses);
	bad |= ml_json_kv_str(b, 0, "line", ml_buf_str(&line));
	bad |= ml_buf_putc(b, '}');
	ml_buf_free(&line);
	return bad ? ml_errorf(err, ML_ENOMEM, "out of memory") : ML_OK;
}

static int print_scheme(const struct scheme *s, int json, struct ml_buf *b, struct ml_error *err)
{
	if (!json)
		return scheme_format_text(s, b, err);
	int rc = ml_buf_putc(b, '{');
	rc |= ml_json_kv_str(b, 1, "code", s->code);
	rc |= ml_json_kv_int(b, 0, "version", s->version);
	rc |= ml_json_kv_str(b, 0, "name", s->name);
	rc |= ml_json_kv_str(b, 0, "kinds", s->kinds);
	rc |= ml_json_kv_str(b, 0, "classes", s->classes);
	rc |= ml_json_kv_str(b, 0, "connection", s->connection);
	rc |= ml_buf_puts(b, ",\"steps\":[");
	if (rc)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->nsteps; i++)
		if ((rc = step_json(b, &s->steps[i], i == 0, err)))
			return rc;
	return ml_buf_puts(b, "]}") ? ml_errorf(err, ML_ENOMEM, "out of memory") : ML_OK;
}

int cmd_scheme(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd table[] = {
		{ "default", sch_default,
		  "generate (and --save) the regulation scheme for a model" },
		{ "list", sch_list, "stored schemes" },
		{ "show", sch_show, "print a stored scheme (text or --json)" },
		{ "export", sch_show, "print a stored scheme in the text format 'import' reads" },
		{ "import", sch_import, "store a scheme from a text file as a new version" },
		{ "retire", sch_retire, "hide a scheme (versions are kept)" },
		{ "plan", sch_plan, "show the bench steps, durations and limits a run would use" },
		{ "settings", sch_settings,
		  "show or change the lab settings (unverified rules, coefficients)" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(ctx, "scheme",
			    "Verification schemes (JJG 596-2012, JJG 313/314, IEC 61869).", table,
			    argc, argv);
}
