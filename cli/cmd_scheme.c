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
#include "common/text.h"
#include "lab/decimal.h"
#include "lab/plan.h"
#include "lab/scheme.h"
#include "lab/settings.h"

#define RATING_USAGE                                                                                          \
	"rating: --kind meter_1p|meter_3p|ct|vt --class CLASS [--connection direct|transformer]\n"            \
	"        [--wiring 1p2w|3p4w|3p3w] [--un VOLTS] [--ib AMPS] [--imax AMPS] [--constant IMP_PER_KWH]\n" \
	"        [--freq HZ] [--clock-freq HZ]   CT/VT: [--primary A|V] [--secondary A|V] [--burden VA]\n"    \
	"        [--burden-pf PF]   (defaults: direct, 1p2w or 3p4w by kind, 50 Hz, clock 1 Hz)"

/* Options of every scheme subcommand; each row's table says which it takes. */
struct scheme_args {
	/* the rating of a model (RATING_USAGE) */
	const char *kind, *cls, *conn, *wiring, *un, *ib, *imax, *constant, *freq, *clock_freq,
		*primary, *secondary, *burden, *burden_pf;
	const char *code, *save, *version, *def;
};

/* clang-format off */
#define RATING_OPTS                                                \
	CLI_OPT("kind", struct scheme_args, kind),                 \
	CLI_OPT("class", struct scheme_args, cls),                 \
	CLI_OPT("connection", struct scheme_args, conn),           \
	CLI_OPT("wiring", struct scheme_args, wiring),             \
	CLI_OPT("un", struct scheme_args, un),                     \
	CLI_OPT("ib", struct scheme_args, ib),                     \
	CLI_OPT("imax", struct scheme_args, imax),                 \
	CLI_OPT("constant", struct scheme_args, constant),         \
	CLI_OPT("freq", struct scheme_args, freq),                 \
	CLI_OPT("clock-freq", struct scheme_args, clock_freq),     \
	CLI_OPT("primary", struct scheme_args, primary),           \
	CLI_OPT("secondary", struct scheme_args, secondary),       \
	CLI_OPT("burden", struct scheme_args, burden),             \
	CLI_OPT("burden-pf", struct scheme_args, burden_pf)
/* clang-format on */

static int milli_opt(const char *s, const char *name, int64_t *out, struct ml_error *err)
{
	if (!s)
		return ML_OK;
	if (dec_parse(s, 3, out, err) || *out < 0)
		return ml_errorf(err, ML_EINVAL, "%s '%s' must be a non-negative decimal", name, s);
	return ML_OK;
}

static int build_rating(const struct scheme_args *ra, struct model_rating *r, struct ml_error *err)
{
	memset(r, 0, sizeof *r);
	if (!ra->kind || !ra->cls)
		return ml_errorf(err, ML_EINVAL, "--kind and --class are required");
	int rc = model_kind_parse(ra->kind, &r->kind, err);
	if (rc)
		return rc;
	if (strlen(ra->cls) >= sizeof r->accuracy_class)
		return ml_errorf(err, ML_EINVAL, "--class '%s' too long", ra->cls);
	snprintf(r->accuracy_class, sizeof r->accuracy_class, "%s", ra->cls);
	r->connection = CONN_DIRECT;
	r->wiring = r->kind == MODEL_METER_3P ? WIRING_3P4W : WIRING_1P2W;
	int64_t constant = 0, freq = 50000, clk = 1000, pf = 800;
	if (ra->conn && (rc = model_connection_parse(ra->conn, &r->connection, err)))
		return rc;
	if (ra->wiring && (rc = model_wiring_parse(ra->wiring, &r->wiring, err)))
		return rc;
	rc = milli_opt(ra->un, "--un", &r->un_mv, err);
	if (rc)
		return rc;
	rc = milli_opt(ra->ib, "--ib", &r->ib_ma, err);
	if (rc)
		return rc;
	rc = milli_opt(ra->imax, "--imax", &r->imax_ma, err);
	if (rc)
		return rc;
	if (ra->constant && (rc = dec_parse(ra->constant, 0, &constant, err)))
		return rc;
	rc = milli_opt(ra->freq, "--freq", &freq, err);
	if (rc)
		return rc;
	rc = milli_opt(ra->clock_freq, "--clock-freq", &clk, err);
	if (rc)
		return rc;
	rc = milli_opt(ra->primary, "--primary", &r->rated_primary_milli, err);
	if (rc)
		return rc;
	rc = milli_opt(ra->secondary, "--secondary", &r->rated_secondary_milli, err);
	if (rc)
		return rc;
	rc = milli_opt(ra->burden, "--burden", &r->rated_burden_mva, err);
	if (rc)
		return rc;
	rc = milli_opt(ra->burden_pf, "--burden-pf", &pf, err);
	r->constant = constant;
	r->freq_mhz = freq;
	r->clock_freq_mhz = clk;
	r->burden_pf_milli = pf;
	return rc;
}

/* Settings: from the database when one is configured (or need_db), else built in. */
static int load_settings(struct cli_ctx *ctx, struct cli_call *c, int need_db,
			 struct lab_settings *set)
{
	lab_settings_defaults(set);
	if (!need_db && !ctx->conninfo && !getenv("METERLAB_DB"))
		return ML_OK;
	int rc = cli_call_db(ctx, c);
	if (rc)
		return rc;
	return lab_settings_load(c->db, set, &c->err);
}

static int print_scheme(const struct scheme *s, int json, struct ml_buf *b, struct ml_error *err);

static int out_scheme(struct cli_call *c, int json, const struct scheme *s)
{
	struct ml_buf b = ML_BUF_INIT;
	int rc = print_scheme(s, json, &b, &c->err);
	if (rc)
		goto out;
	rc = cli_emit(c, &b, json);
out:
	ml_buf_free(&b);
	return rc;
}

static int sch_default(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct scheme_args *a = c->args;
	const char *code = a->save && *a->save ? a->save : a->code; /* --save=CODE */
	struct model_rating r;
	struct lab_settings set;
	struct scheme *s = NULL;
	int rc = build_rating(a, &r, &c->err);
	if (rc)
		goto out;
	rc = load_settings(ctx, c, a->save != NULL, &set);
	if (rc)
		goto out;
	rc = scheme_default(&r, &set, code, &s, &c->err);
	if (rc)
		goto out;
	if (a->save && (rc = scheme_db_save(c->db, s, &c->err)))
		goto out;
	if (a->save && !ctx->json)
		fprintf(stderr,
			"saved scheme %s version %d (%zu steps), inactive until activated "
			"(meterlab scheme activate %s)\n",
			s->code, s->version, s->nsteps, s->code);
	rc = out_scheme(c, ctx->json, s);
out:
	scheme_free(s);
	return rc;
}

static int check_version(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct scheme_args *a = c->args;
	int64_t v = 0;
	(void)ctx;
	if (a->version && (dec_parse(a->version, 0, &v, NULL) || v < 1 || v > 1000000))
		return ml_errorf(&c->err, ML_EINVAL, "--version '%s' must be a positive integer",
				 a->version);
	return ML_OK;
}

static int sch_show(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct scheme_args *a = c->args;
	struct scheme *s = NULL;
	int64_t v = 0;
	int rc;
	if (a->version && !dec_parse(a->version, 0, &v, NULL))
		rc = scheme_db_load_version(c->db, c->pos[0], (int)v, &s, &c->err);
	else
		rc = scheme_db_load(c->db, c->pos[0], &s, &c->err);
	/* export is always the text format, so it can be imported again */
	if (rc)
		goto out;
	rc = out_scheme(c, strcmp(c->cmd->name, "export") ? ctx->json : 0, s);
out:
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
	while (!ml_buf_failed(b) && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		ml_buf_append(b, chunk, n);
	if (ml_buf_failed(b))
		rc = ml_errorf(err, ML_ENOMEM, "'%s' too large", path);
	else if (ferror(f))
		rc = ml_errorf(err, ML_EIO, "reading '%s' failed", path);
	if (f != stdin)
		fclose(f);
	/* a NUL byte would silently end the scheme as a C string: refused, naming the line */
	if (!rc && b->len)
		rc = ml_text_file_check(b->data, b->len, path, err);
	return rc;
}

static int sch_import(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct scheme_args *a = c->args;
	struct ml_buf text = ML_BUF_INIT, b = ML_BUF_INIT;
	struct scheme *s = NULL;
	int rc = read_all(c->pos[0], &text, &c->err);
	if (rc)
		goto out;
	rc = scheme_parse_text(ml_buf_str(&text), &s, &c->err);
	if (rc)
		goto out;
	if (a->code && (strlen(a->code) >= sizeof s->code || !*a->code)) {
		rc = ml_errorf(&c->err, ML_EINVAL, "--code '%s' invalid", a->code);
		goto out;
	}
	if (a->code)
		snprintf(s->code, sizeof s->code, "%s", a->code);
	rc = cli_call_db(ctx, c);
	if (rc)
		goto out;
	rc = scheme_db_save(c->db, s, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_puts(&b, "{");
		ml_json_kv_str(&b, 1, "code", s->code);
		ml_json_kv_int(&b, 0, "version", s->version);
		ml_json_kv_int(&b, 0, "steps", (int64_t)s->nsteps);
		ml_buf_puts(&b, "}");
	} else {
		ml_buf_printf(&b,
			      "imported scheme %s version %d (%zu steps), inactive until activated "
			      "(meterlab scheme activate %s %d)",
			      s->code, s->version, s->nsteps, s->code, s->version);
	}
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&text);
	ml_buf_free(&b);
	scheme_free(s);
	return rc;
}

static int sch_list(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	struct scheme_summary *v = NULL;
	size_t n = 0;
	int rc = scheme_db_list(c->db, &v, &n, &c->err);
	if (rc)
		goto out;
	if (ctx->json)
		ml_buf_putc(&b, '[');
	else
		ml_buf_printf(&b, "%-32s %4s %6s %5s  %-20s %-10s %-12s %s\n", "CODE", "VER",
			      "ACTIVE", "STEPS", "KINDS", "CLASSES", "CONNECTION", "NAME");
	for (size_t i = 0; i < n; i++) {
		if (!ctx->json) {
			char act[16];
			snprintf(act, sizeof act, "%d", v[i].active_version);
			ml_buf_printf(&b, "%-32s %4d %6s %5d  %-20s %-10s %-12s %s\n", v[i].code,
				      v[i].version, v[i].active_version ? act : "-", v[i].nsteps,
				      v[i].kinds, v[i].classes, v[i].connection, v[i].name);
			continue;
		}
		ml_buf_puts(&b, i ? ",{" : "{");
		ml_json_kv_str(&b, 1, "code", v[i].code);
		ml_json_kv_int(&b, 0, "version", v[i].version);
		ml_json_kv_int(&b, 0, "active_version", v[i].active_version);
		ml_json_kv_str(&b, 0, "name", v[i].name);
		ml_json_kv_str(&b, 0, "kinds", v[i].kinds);
		ml_json_kv_str(&b, 0, "classes", v[i].classes);
		ml_json_kv_str(&b, 0, "connection", v[i].connection);
		ml_json_kv_int(&b, 0, "steps", v[i].nsteps);
		ml_buf_putc(&b, '}');
	}
	if (ctx->json)
		ml_buf_putc(&b, ']');
	free(v);
	rc = cli_emit(c, &b, ctx->json);
out:
	ml_buf_free(&b);
	return rc;
}

static int sch_retire(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	int rc = scheme_db_retire(c->db, c->pos[0], &c->err);
	if (rc)
		goto out;
	if (!ctx->json)
		return cli_printf(c, "retired scheme %s\n", c->pos[0]);
	ml_buf_puts(&b, "{");
	ml_json_kv_str(&b, 1, "retired", c->pos[0]);
	ml_buf_puts(&b, "}");
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

static int sch_activate(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct scheme_args *a = c->args;
	struct ml_buf b = ML_BUF_INIT;
	int64_t v = 0;
	if (a->version && dec_parse(a->version, 0, &v, NULL))
		return ml_errorf(&c->err, ML_EINVAL, "--version '%s' must be a positive integer",
				 a->version);
	int activated = 0;
	int rc = scheme_db_activate(c->db, c->pos[0], (int)v, &activated, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_puts(&b, "{");
		ml_json_kv_str(&b, 1, "code", c->pos[0]);
		ml_json_kv_int(&b, 0, "active_version", activated);
		ml_buf_puts(&b, "}");
	} else {
		ml_buf_printf(&b, "scheme %s version %d is now the one new runs use", c->pos[0],
			      activated);
	}
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

/* ---- scheme plan ---- */

static void plan_row_json(struct ml_buf *b, const struct plan_step *p, int first)
{
	char t[DEC4_FMT_MAX];
	ml_buf_puts(b, first ? "{" : ",{");
	ml_json_kv_int(b, 1, "step", p->index + 1);
	ml_json_kv_str(b, 0, "kind", scheme_step_kind_name(p->kind));
	ml_json_kv_str(b, 0, "label", p->label);
	ml_json_kv_int(b, 0, "mode", p->mode);
	ml_json_kv_str(b, 0, "voltage_v", dec_format(p->voltage_mv, 3, 3, 0, t, sizeof t));
	ml_json_kv_str(b, 0, "current_a", dec_format(p->current_ua, 6, 6, 0, t, sizeof t));
	ml_json_kv_str(b, 0, "phi_deg", dec4_format(point_pf_phi_e4(p->point.pf), 4, t, sizeof t));
	ml_json_kv_int(b, 0, "element_mask", p->source.element_mask);
	ml_json_kv_int(b, 0, "pulses", p->pos.pulses);
	ml_json_kv_int(b, 0, "readings", p->readings);
	ml_json_kv_int(b, 0, "duration_ms", p->duration_ms);
	ml_json_kv_str(b, 0, "limit",
		       dec4_format(p->limit_e4, dec4_min_decimals(p->limit_e4), t, sizeof t));
	ml_json_kv_str(b, 0, "internal_limit",
		       dec4_format(p->internal_limit_e4, dec4_min_decimals(p->internal_limit_e4), t,
				   sizeof t));
	ml_json_kv_str(b, 0, "interval",
		       dec4_format(p->interval_e4, dec4_min_decimals(p->interval_e4), t, sizeof t));
	if (p->limit2_e4)
		ml_json_kv_str(
			b, 0, "phase_limit_min",
			dec4_format(p->limit2_e4, dec4_min_decimals(p->limit2_e4), t, sizeof t));
	ml_json_kv_str(b, 0, "clause", p->clause);
	ml_buf_putc(b, '}');
}

/* decimals of a limit: at least those of the rounding interval ("1.0" for class 1) */
static int shown_decimals(const struct plan_step *p, int64_t v)
{
	int a = p->interval_e4 > 0 ? dec4_interval_decimals(p->interval_e4) : 0,
	    b = dec4_min_decimals(v);
	return a > b ? a : b;
}

static void plan_row_text(struct ml_buf *b, const struct plan_step *p)
{
	char u[DEC4_FMT_MAX], i[DEC4_FMT_MAX], l[DEC4_FMT_MAX], il[DEC4_FMT_MAX], d[DEC4_FMT_MAX];
	ml_buf_printf(
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

static int check_plan(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct scheme_args *a = c->args;
	(void)ctx;
	if (!c->npos == !a->def)
		return cli_call_usage(c, "scheme plan needs a scheme CODE or --default");
	return ML_OK;
}

static int sch_plan(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct scheme_args *a = c->args;
	struct model_rating r;
	struct lab_settings set;
	struct scheme *s = NULL;
	struct plan_step *ps = NULL;
	struct ml_buf b = ML_BUF_INIT;
	size_t n = 0;
	int rc = build_rating(a, &r, &c->err);
	if (rc)
		goto out;
	rc = load_settings(ctx, c, !a->def, &set);
	if (rc)
		goto out;
	if (a->def)
		rc = scheme_default(&r, &set, NULL, &s, &c->err);
	else
		rc = scheme_db_load(c->db, c->pos[0], &s, &c->err);
	if (rc)
		goto out;
	rc = plan_scheme(s, &r, &set, &ps, &n, &c->err);
	if (rc)
		goto out;
	if (ctx->json)
		ml_buf_putc(&b, '[');
	for (size_t k = 0; k < n; k++) {
		if (ctx->json)
			plan_row_json(&b, &ps[k], k == 0);
		else
			plan_row_text(&b, &ps[k]);
	}
	if (ctx->json)
		ml_buf_putc(&b, ']');
	rc = cli_emit(c, &b, ctx->json);
out:
	scheme_free(s);
	free(ps);
	ml_buf_free(&b);
	return rc;
}

/* ---- scheme settings ---- */

static int settings_show(struct cli_ctx *ctx, struct cli_call *c, const struct lab_settings *set)
{
	size_t n;
	const struct lab_setting_desc *t = lab_settings_table(&n);
	struct ml_buf b = ML_BUF_INIT, v = ML_BUF_INIT;
	int rc = ML_OK;
	if (ctx->json)
		ml_buf_putc(&b, '[');
	for (size_t i = 0; i < n && !rc; i++) {
		rc = lab_settings_get(set, t[i].key, &v, &c->err);
		int changed = strcmp(ml_buf_str(&v), t[i].def) != 0;
		if (!ctx->json) {
			ml_buf_printf(&b, "%-30s %-16s%s%s%s\n    %s; source: %s\n", t[i].key,
				      ml_buf_str(&v), changed ? " (default " : "",
				      changed ? t[i].def : "", changed ? ")" : "", t[i].description,
				      t[i].source);
			continue;
		}
		ml_buf_puts(&b, i ? ",{" : "{");
		ml_json_kv_str(&b, 1, "key", t[i].key);
		ml_json_kv_str(&b, 0, "value", ml_buf_str(&v));
		ml_json_kv_str(&b, 0, "default", t[i].def);
		ml_json_kv_str(&b, 0, "source", t[i].source);
		ml_json_kv_str(&b, 0, "description", t[i].description);
		ml_buf_putc(&b, '}');
	}
	if (ctx->json)
		ml_buf_putc(&b, ']');
	if (rc)
		goto out;
	rc = cli_emit(c, &b, ctx->json);
out:
	ml_buf_free(&b);
	ml_buf_free(&v);
	return rc;
}

/* settings [list] | settings set KEY VALUE | settings reset KEY */
static int check_settings(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	if (c->npos == 0 || (c->npos == 1 && !strcmp(c->pos[0], "list")))
		return ML_OK;
	if ((c->npos == 3 && !strcmp(c->pos[0], "set")) ||
	    (c->npos == 2 && !strcmp(c->pos[0], "reset")))
		return ML_OK;
	return cli_call_usage(c, "scheme settings: expected 'set KEY VALUE' or 'reset KEY' (see "
				 "--help)");
}

static int sch_settings(struct cli_ctx *ctx, struct cli_call *c)
{
	struct lab_settings set;
	int rc;
	if (c->npos <= 1) {
		rc = load_settings(ctx, c, 0, &set);
		if (rc)
			return rc;
		return settings_show(ctx, c, &set);
	}
	int set_cmd = !strcmp(c->pos[0], "set");
	rc = cli_call_db(ctx, c);
	if (rc)
		return rc;
	if (set_cmd)
		rc = lab_settings_store(c->db, c->pos[1], c->pos[2], &c->err);
	else
		rc = lab_settings_reset(c->db, c->pos[1], &c->err);
	if (rc || ctx->json)
		return rc;
	return cli_printf(c, "%s %s\n", c->pos[1], set_cmd ? "stored" : "reset to its default");
}

/* ---- scheme printing ---- */

/* One step as JSON; the output buffer's failure is seen by cli_emit. */
static int step_json(struct ml_buf *b, const struct scheme_step *st, enum model_connection conn,
		     int first, struct ml_error *err)
{
	struct ml_buf line = ML_BUF_INIT;
	int rc = scheme_step_format_for(st, conn, &line, err);
	if (rc)
		goto out;
	char cur[24];
	ml_buf_puts(b, first ? "{" : ",{");
	ml_json_kv_str(b, 1, "kind", scheme_step_kind_name(st->kind));
	if (st->kind == STEP_BASIC || st->kind == STEP_CONSTANT) {
		ml_json_kv_str(b, 0, "current",
			       point_current_text_for(st->point.base, st->point.mult_e4, conn, cur,
						      sizeof cur));
		ml_json_kv_str(b, 0, "pf", point_pf_text(st->point.pf));
		ml_json_kv_str(b, 0, "element", point_element_text(st->point.element));
	}
	ml_json_kv_int(b, 0, "readings", st->readings);
	ml_json_kv_int(b, 0, "pulses", st->pulses);
	ml_json_kv_str(b, 0, "line", ml_buf_str(&line));
	ml_buf_putc(b, '}');
out:
	ml_buf_free(&line);
	return rc;
}

static int print_scheme(const struct scheme *s, int json, struct ml_buf *b, struct ml_error *err)
{
	if (!json)
		return scheme_format_text(s, b, err);
	ml_buf_putc(b, '{');
	ml_json_kv_str(b, 1, "code", s->code);
	ml_json_kv_int(b, 0, "version", s->version);
	ml_json_kv_str(b, 0, "name", s->name);
	ml_json_kv_str(b, 0, "kinds", s->kinds);
	ml_json_kv_str(b, 0, "classes", s->classes);
	ml_json_kv_str(b, 0, "connection", s->connection);
	ml_buf_puts(b, ",\"steps\":[");
	int rc = ML_OK;
	for (size_t i = 0; i < s->nsteps && !rc; i++)
		rc = step_json(b, &s->steps[i], scheme_connection(s), i == 0, err);
	ml_buf_puts(b, "]}");
	return rc;
}

static const struct cli_opt default_opts[] = {
	RATING_OPTS,
	CLI_OPT("code", struct scheme_args, code),
	CLI_OPTIONAL("save", struct scheme_args, save),
	CLI_OPT_END,
};

static const struct cli_opt plan_opts[] = {
	RATING_OPTS,
	CLI_FLAG("default", struct scheme_args, def),
	CLI_OPT_END,
};

static const struct cli_opt show_opts[] = {
	CLI_OPT("version", struct scheme_args, version),
	CLI_OPT_END,
};

static const struct cli_opt import_opts[] = {
	CLI_OPT("code", struct scheme_args, code),
	CLI_OPT_END,
};

static const char show_help[] =
	"usage: meterlab scheme show CODE [--version N] [--json]\n"
	"       meterlab scheme export CODE [--version N]\n\n"
	"Print a stored scheme (the active version unless --version) in the text format that 'scheme "
	"import' reads; show --json gives the steps as JSON.";

static const struct cli_cmd scheme_cmds[] = {
	{ .name = "default",
	  .run = sch_default,
	  CLI_ARGS(struct scheme_args, default_opts),
	  .summary = "generate (and --save) the regulation scheme for a model",
	  .help = "usage: meterlab scheme default RATING [--code CODE] [--save] [--json]\n" RATING_USAGE
		  "\n\n"
		  "Generate the regulation scheme for a model from the JJG 596-2012 point tables (meters, incl.\n"
		  "single-element points of three-phase meters; 0.5Imax when Imax >= 4 Ib, so give --ib/--imax)\n"
		  "or the IEC 61869 point lists (CT/VT, settings ct.points*, vt.points, xfmr.burdens).\n"
		  "Prints the scheme text; --save stores it as a new version of CODE (default e.g. JJG596-1P-D-1),\n"
		  "inactive until a person with scheme.activate activates it (meterlab scheme activate)." },
	{ .name = "list",
	  .run = sch_list,
	  .flags = CLI_NEED_DB,
	  .summary = "stored schemes",
	  .help = "usage: meterlab scheme list [--json]\n\n"
		  "Stored schemes: the latest version of each code (VER) and the version new runs use\n"
		  "(ACTIVE, '-' when none is activated); retired ones hidden." },
	{ .name = "show",
	  .check = check_version,
	  .run = sch_show,
	  CLI_ARGS(struct scheme_args, show_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "scheme show needs a scheme code",
	  .flags = CLI_NEED_DB,
	  .summary = "print a stored scheme (text or --json)",
	  .help = show_help },
	{ .name = "export",
	  .check = check_version,
	  .run = sch_show,
	  CLI_ARGS(struct scheme_args, show_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "scheme export needs a scheme code",
	  .flags = CLI_NEED_DB,
	  .summary = "print a stored scheme in the text format 'import' reads",
	  .help = show_help },
	{ .name = "import",
	  .run = sch_import,
	  CLI_ARGS(struct scheme_args, import_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "scheme import needs a FILE (or - for stdin)",
	  .summary = "store a scheme from a text file as a new version",
	  .help = "usage: meterlab scheme import FILE|- [--code CODE] [--json]\n\n"
		  "Read a scheme in the text format (see 'scheme export') and store it as a new version of its\n"
		  "code (or of --code). Nothing is stored when any line is invalid; the error names the line.\n"
		  "The database refuses a scheme looser than the regulation (a limit wider than the regulation\n"
		  "limit at that point, fewer readings than the rule, less constant-test energy; creep/start\n"
		  "durations are checked against the model when a run is created), naming the step and the\n"
		  "rule. The new version is INACTIVE: runs keep the active one until 'scheme activate'\n"
		  "(permission scheme.edit to import, scheme.activate to activate)." },
	{ .name = "activate",
	  .run = sch_activate,
	  CLI_ARGS(struct scheme_args, show_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "scheme activate needs a scheme code",
	  .flags = CLI_NEED_DB,
	  .summary = "make a saved version the one new runs use",
	  .help = "usage: meterlab scheme activate CODE [--version N]\n\n"
		  "Make version N (default: the latest) of CODE the version new runs use. Needs permission\n"
		  "scheme.activate (approver); recorded with the person in scheme_activation." },
	{ .name = "retire",
	  .run = sch_retire,
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "scheme retire needs exactly one scheme code",
	  .flags = CLI_NEED_DB,
	  .summary = "hide a scheme (versions are kept)",
	  .help = "usage: meterlab scheme retire CODE\n\n"
		  "Hide a scheme from list/load: new runs cannot use it (permission scheme.activate). Its\n"
		  "versions stay stored (results name the version they ran); activating a version revives it." },
	{ .name = "plan",
	  .check = check_plan,
	  .run = sch_plan,
	  CLI_ARGS(struct scheme_args, plan_opts),
	  .max_pos = 1,
	  .summary = "show the bench steps, durations and limits a run would use",
	  .help = "usage: meterlab scheme plan (CODE | --default) RATING [--json]\n" RATING_USAGE
		  "\n\n"
		  "Show what a run would do for a model: per step the source setpoints, pulses per reading,\n"
		  "readings, time limit (creep/start/constant/clock) or expected duration (basic), the\n"
		  "regulation limit and the internal acceptance limit. Uses stored settings when a database\n"
		  "is configured. --default plans the regulation scheme without storing it." },
	{ .name = "settings",
	  .check = check_settings,
	  .run = sch_settings,
	  .max_pos = 3,
	  .summary = "show or change the lab settings (unverified rules, coefficients)",
	  .help = "usage: meterlab scheme settings [--json]\n"
		  "       meterlab scheme settings set KEY VALUE\n"
		  "       meterlab scheme settings reset KEY\n\n"
		  "The verification rules a centre may set (every rule the reference leaves unverified, the\n"
		  "internal acceptance coefficient, point lists ...), their values, defaults and sources.\n"
		  "Without a database only the built-in defaults are shown. Changes need permission\n"
		  "setting.edit (approver); the database checks the value and logs who changed what\n"
		  "(lab_setting_log)." },
	{ .name = NULL },
};

const struct cli_cmd cmd_scheme = {
	.name = "scheme",
	.help = "Verification schemes (JJG 596-2012, JJG 313/314, IEC 61869).",
	.sub = scheme_cmds,
};
