/*
 * meterlab judge — judge typed-in readings of one point against the
 * regulation limit and the internal acceptance limit (lab/judge.h).
 * Exit 0 pass, 1 fail (regulation; with --strict also internal), 3 bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "lab/decimal.h"
#include "lab/judge.h"
#include "lab/limits.h"

static const char usage[] =
	"usage: meterlab judge --class CLASS [--connection direct|transformer] --point POINT [--pf PF]\n"
	"                      [--element H|A|B|C] [--ib AMPS --imax AMPS] --readings R1,R2,...\n"
	"                      [--internal PCT] [--limit PCT] [--on-mean] [--strict] [--json]\n"
	"       meterlab judge --kind ct|vt --class CLASS --percent P --readings R1,... [--phase P1,...]\n\n"
	"Judge the readings (errors in %) of one load point the way a verification run does:\n"
	"mean, rounding to the class interval (GB/T 8170, half to even, one step), the limit of\n"
	"JJG 596-2012 (or the letter-class profile, IEC 61869-2/-3 for CT/VT) and the internal\n"
	"acceptance limit (--internal percent of the limit; default: setting judge.internal_coefficient,\n"
	"60 built in; stored settings are used when a database is configured with --db or METERLAB_DB).\n\n"
	"  --class       meter 0.2S 0.5S 1 2 A..E; CT 0.1 0.2 0.2S 0.5 0.5S 1 3 5; VT 0.1 0.2 0.5 1 3\n"
	"  --point       0.05Ib, 0.1Ib, Ib, In, 0.5Imax, Imax, Itr, 10Itr, Imin\n"
	"  --pf          1.0 (default), 0.5L, 0.8C, 0.25L, 0.5C\n"
	"  --ib/--imax   rated currents, needed only for Imax points below 0.2Imax\n"
	"  --on-mean     judge the unrounded mean instead of the rounded value\n"
	"  --strict      exit 1 also when only the internal limit is exceeded\n\n"
	"Exit status: 0 pass, 1 fail, 3 invalid input (the message names the value).";

struct judge_args {
	const char *cls, *conn, *point, *pf, *element, *readings, *phase, *internal, *limit, *kind,
		*percent, *ib, *imax, *on_mean, *strict;
};

static const struct cli_opt judge_opts[] = {
	CLI_REQ("class", struct judge_args, cls),
	CLI_OPT("connection", struct judge_args, conn),
	CLI_OPT("point", struct judge_args, point),
	CLI_OPT("pf", struct judge_args, pf),
	CLI_OPT("element", struct judge_args, element),
	CLI_REQ("readings", struct judge_args, readings),
	CLI_OPT("phase", struct judge_args, phase),
	CLI_OPT("internal", struct judge_args, internal),
	CLI_OPT("limit", struct judge_args, limit),
	CLI_OPT("kind", struct judge_args, kind),
	CLI_OPT("percent", struct judge_args, percent),
	CLI_OPT("ib", struct judge_args, ib),
	CLI_OPT("imax", struct judge_args, imax),
	CLI_FLAG("on-mean", struct judge_args, on_mean),
	CLI_FLAG("strict", struct judge_args, strict),
	CLI_OPT_END,
};

/* "r1,r2,..." → dec4 values; err names the bad one. */
static int parse_list(const char *s, const char *what, int64_t *v, int *n, struct ml_error *err)
{
	char buf[1024], *save = NULL;
	if (strlen(s) >= sizeof buf)
		return ml_errorf(err, ML_EINVAL, "%s: list too long", what);
	memcpy(buf, s, strlen(s) + 1);
	*n = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n == JUDGE_MAX_READINGS)
			return ml_errorf(err, ML_EINVAL, "%s: more than %d values", what,
					 JUDGE_MAX_READINGS);
		if (dec4_parse(t, &v[(*n)++], err))
			return ml_error_prefix(err, "%s: ", what), ML_EINVAL;
	}
	return *n ? ML_OK : ml_errorf(err, ML_EINVAL, "%s: no values", what);
}

static int opt_dec(const char *s, int scale, const char *what, int64_t *out, struct ml_error *err)
{
	if (dec_parse(s, scale, out, err))
		return ml_error_prefix(err, "%s: ", what), ML_EINVAL;
	return ML_OK;
}

struct outcome {
	char title[160];
	struct judge_limit lim;
	struct judge_value v, v2;
	int has2;
	int64_t coeff_e4;
};

/* The optional point options (--pf, --element, --connection, --ib, --imax) into pt, conn, ib, imax. */
static int point_opts(const struct judge_args *a, struct load_point *pt,
		      enum model_connection *conn, int64_t *ib, int64_t *imax, struct ml_error *err)
{
	int rc = ML_OK;
	if (a->pf && (rc = point_pf_parse(a->pf, &pt->pf, err)))
		return rc;
	if (a->element && (rc = point_element_parse(a->element, &pt->element, err)))
		return rc;
	if (a->conn && (rc = model_connection_parse(a->conn, conn, err)))
		return rc;
	if (a->ib && (rc = opt_dec(a->ib, 3, "--ib", ib, err)))
		return rc;
	if (a->imax && (rc = opt_dec(a->imax, 3, "--imax", imax, err)))
		return rc;
	return rc;
}

static int meter_limit(const struct judge_args *a, const struct lab_settings *set,
		       struct outcome *o, struct ml_error *err)
{
	struct load_point pt = { POINT_IB, DEC4_SCALE, PF_1, ELEM_H };
	enum model_connection conn = CONN_DIRECT;
	enum meter_class c;
	int64_t ib = 0, imax = 0;
	char cur[24];
	if (!a->point)
		return ml_errorf(err, ML_EINVAL, "--point is required for meters");
	int rc = point_current_parse(a->point, &pt.base, &pt.mult_e4, err);
	if (rc)
		return rc;
	rc = point_opts(a, &pt, &conn, &ib, &imax, err);
	if (rc)
		return rc;
	rc = judge_meter_limit(a->cls, conn, &pt, ib, imax, set, &o->lim, err);
	if (rc)
		return rc;
	rc = limits_meter_class(a->cls, &c, err);
	if (rc)
		return rc;
	snprintf(o->title, sizeof o->title, "%s cos\u03c6=%s %s (class %s, %s)",
		 point_current_text(pt.base, pt.mult_e4, cur, sizeof cur), point_pf_text(pt.pf),
		 point_element_text(pt.element), limits_meter_class_text(c),
		 model_connection_name(conn));
	return ML_OK;
}

static int xfmr_limit(const struct judge_args *a, const struct lab_settings *set, struct outcome *o,
		      struct ml_error *err)
{
	int64_t pct;
	int ct = !strcmp(a->kind, "ct");
	if (!ct && strcmp(a->kind, "vt"))
		return ml_errorf(err, ML_EINVAL, "--kind '%s' is not meter, ct or vt", a->kind);
	if (!a->percent)
		return ml_errorf(err, ML_EINVAL, "--percent is required for %s", a->kind);
	int rc = opt_dec(a->percent, 4, "--percent", &pct, err);
	if (rc)
		return rc;
	if (ct)
		rc = judge_ct_limit(a->cls, pct, set, &o->lim, err);
	else
		rc = judge_vt_limit(a->cls, pct, set, &o->lim, err);
	if (rc)
		return rc;
	snprintf(o->title, sizeof o->title, "%s class %s at %s %% of rated", ct ? "CT" : "VT",
		 a->cls, a->percent);
	return ML_OK;
}

/* The limits, --limit override and --internal coefficient, then the verdict on the readings. */
static int evaluate(const struct judge_args *a, struct lab_settings set, struct outcome *o,
		    struct ml_error *err)
{
	int64_t r[JUDGE_MAX_READINGS], r2[JUDGE_MAX_READINGS], override = 0;
	int n = 0, n2 = 0, rc = ML_OK;
	int meter = !a->kind || !strcmp(a->kind, "meter");
	if (a->internal &&
	    (rc = lab_settings_set(&set, "judge.internal_coefficient", a->internal, err)))
		return rc;
	rc = parse_list(a->readings, "--readings", r, &n, err);
	if (rc)
		return rc;
	if (a->limit && (rc = opt_dec(a->limit, 4, "--limit", &override, err)))
		return rc;
	if (a->limit && override <= 0)
		return ml_errorf(err, ML_EINVAL, "--limit '%s' must be a positive percentage",
				 a->limit);
	rc = meter ? meter_limit(a, &set, o, err) : xfmr_limit(a, &set, o, err);
	if (rc)
		return rc;
	if (override > 0)
		o->lim.limit_e4 = override;
	/* as in plan_make_step: the internal coefficient applies to meter basic error; CT/VT only when asked */
	o->coeff_e4 = meter || a->internal ? set.internal_coeff_e4 : 1000000;
	int on_rounded = a->on_mean ? 0 : set.verdict_on_rounded;
	rc = judge_readings(r, n, o->lim.limit_e4,
			    judge_internal_limit(o->lim.limit_e4, o->coeff_e4), o->lim.interval_e4,
			    on_rounded, &o->v, err);
	if (rc || meter || !a->phase || o->lim.limit2_e4 <= 0)
		return rc;
	rc = parse_list(a->phase, "--phase", r2, &n2, err);
	if (rc)
		return rc;
	if (n2 != n)
		return ml_errorf(err, ML_EINVAL, "--phase has %d values, --readings %d", n2, n);
	o->has2 = 1;
	return judge_readings(r2, n2, o->lim.limit2_e4,
			      judge_internal_limit(o->lim.limit2_e4, o->coeff_e4),
			      o->lim.interval2_e4, on_rounded, &o->v2, err);
}

static const char *d4(int64_t v, int dec, char *b)
{
	return dec4_format(v, dec, b, DEC4_FMT_MAX);
}

/* A limit shown with at least the decimals of the rounding interval ("1.0" at interval 0.1). */
static const char *lim_text(const struct judge_value *v, int64_t lim, char *b)
{
	int d = dec4_interval_decimals(v->interval_e4), m = dec4_min_decimals(lim);
	return d4(lim, d > m ? d : m, b);
}

static void print_text(struct ml_buf *b, const char *what, const struct judge_value *v,
		       const char *unit, int on_mean)
{
	char t1[DEC4_FMT_MAX], t2[DEC4_FMT_MAX], t3[DEC4_FMT_MAX];
	ml_buf_printf(b, "%-10s", what);
	for (int i = 0; i < v->n; i++)
		ml_buf_printf(b, " %s",
			      d4(v->readings_e4[i], dec4_min_decimals(v->readings_e4[i]), t1));
	ml_buf_printf(b, "\nmean       %s\nrounded    %s (interval %s)\n", d4(v->mean_e4, 4, t1),
		      judge_rounded_text(v, t2, sizeof t2),
		      d4(v->interval_e4, dec4_min_decimals(v->interval_e4), t3));
	ml_buf_printf(b, "limit      \u00b1%s %s\n", lim_text(v, v->limit_e4, t1), unit);
	ml_buf_printf(b, "internal   \u00b1%s %s\n", lim_text(v, v->internal_limit_e4, t1), unit);
	ml_buf_printf(b, "verdict    %s (regulation, on the %s), %s (internal)\n",
		      judge_verdict_name(v->verdict), on_mean ? "mean" : "rounded value",
		      judge_verdict_name(v->internal_verdict));
}

static void json_value(struct ml_buf *b, const char *key, const struct judge_value *v)
{
	char t[DEC4_FMT_MAX];
	ml_json_key(b, key);
	ml_buf_puts(b, "{\"readings\":[");
	for (int i = 0; i < v->n; i++) {
		ml_buf_puts(b, i ? "," : "");
		ml_json_str(b, d4(v->readings_e4[i], dec4_min_decimals(v->readings_e4[i]), t));
	}
	ml_buf_putc(b, ']');
	ml_json_kv_str(b, 0, "mean", d4(v->mean_e4, 4, t));
	ml_json_kv_str(b, 0, "rounded", judge_rounded_text(v, t, sizeof t));
	ml_json_kv_str(b, 0, "interval", d4(v->interval_e4, dec4_min_decimals(v->interval_e4), t));
	ml_json_kv_str(b, 0, "limit", lim_text(v, v->limit_e4, t));
	ml_json_kv_str(b, 0, "internal_limit", lim_text(v, v->internal_limit_e4, t));
	ml_json_kv_str(b, 0, "verdict", judge_verdict_name(v->verdict));
	ml_json_kv_str(b, 0, "internal_verdict", judge_verdict_name(v->internal_verdict));
	ml_buf_putc(b, '}');
}

static void render(const struct outcome *o, int json, int on_mean, struct ml_buf *b)
{
	char t[DEC4_FMT_MAX];
	if (!json) {
		ml_buf_printf(b, "point      %s\n", o->title);
		print_text(b, "readings", &o->v, "%", on_mean);
		if (o->has2)
			print_text(b, "phase", &o->v2, "min", on_mean);
		ml_buf_printf(b, "source     %s; internal = %s %% of the limit", o->lim.clause,
			      d4(o->coeff_e4, dec4_min_decimals(o->coeff_e4), t));
		return;
	}
	ml_buf_putc(b, '{');
	ml_json_kv_str(b, 1, "point", o->title);
	ml_json_kv_str(b, 0, "judged_on", on_mean ? "mean" : "rounded");
	ml_json_kv_str(b, 0, "internal_coefficient",
		       d4(o->coeff_e4, dec4_min_decimals(o->coeff_e4), t));
	ml_json_kv_str(b, 0, "clause", o->lim.clause);
	ml_buf_putc(b, ',');
	json_value(b, "error", &o->v);
	if (o->has2) {
		ml_buf_putc(b, ',');
		json_value(b, "phase", &o->v2);
	}
	ml_buf_putc(b, '}');
}

static int judge_run(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct judge_args *a = c->args;
	struct ml_buf b = ML_BUF_INIT;
	struct lab_settings set;
	struct outcome o;
	int rc = ML_OK;
	memset(&o, 0, sizeof o);
	lab_settings_defaults(&set);
	/* a centre's stored settings apply when a database is configured; otherwise the built-in defaults */
	if (ctx->conninfo || getenv("METERLAB_DB")) {
		rc = cli_call_db(ctx, c);
		if (rc)
			goto out;
		rc = lab_settings_load(c->db, &set, &c->err);
		if (rc)
			goto out;
	}
	rc = evaluate(a, set, &o, &c->err);
	if (rc)
		goto out;
	int on_mean = a->on_mean || !set.verdict_on_rounded;
	render(&o, ctx->json, on_mean, &b);
	rc = cli_emit(c, &b, 1);
	if (rc)
		goto out;
	enum judge_verdict v = o.has2 && o.v2.verdict == JUDGE_FAIL ? JUDGE_FAIL : o.v.verdict;
	enum judge_verdict vi = o.has2 && o.v2.internal_verdict == JUDGE_FAIL
					? JUDGE_FAIL
					: o.v.internal_verdict;
	if (v == JUDGE_FAIL || (a->strict && vi == JUDGE_FAIL))
		c->exit = CLI_FAIL;
out:
	ml_buf_free(&b);
	return rc;
}

const struct cli_cmd cmd_judge = {
	.name = "judge",
	.run = judge_run,
	CLI_ARGS(struct judge_args, judge_opts),
	.need = "judge needs --class and --readings (see --help)",
	.help = usage,
};
