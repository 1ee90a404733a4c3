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
		*percent, *ib, *imax;
	int on_mean, strict;
};

static int parse_args(int argc, char **argv, struct judge_args *a)
{
	const char *on_mean = NULL, *strict = NULL, *pos[1];
	const struct cli_opt opts[] = {
		CLI_OPT("class", &a->cls),       CLI_OPT("connection", &a->conn),
		CLI_OPT("point", &a->point),     CLI_OPT("pf", &a->pf),
		CLI_OPT("element", &a->element), CLI_OPT("readings", &a->readings),
		CLI_OPT("phase", &a->phase),     CLI_OPT("internal", &a->internal),
		CLI_OPT("limit", &a->limit),     CLI_OPT("kind", &a->kind),
		CLI_OPT("percent", &a->percent), CLI_OPT("ib", &a->ib),
		CLI_OPT("imax", &a->imax),       CLI_FLAG("on-mean", &on_mean),
		CLI_FLAG("strict", &strict),     CLI_OPT_END,
	};
	int npos, rc = cli_parse_opts(argc, argv, opts, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos)
		return cli_usage("judge: unexpected argument '%s' (see --help)", pos[0]);
	a->on_mean = on_mean != NULL;
	a->strict = strict != NULL;
	if (!a->cls || !a->readings)
		return cli_usage("judge needs --class and --readings (see --help)");
	return CLI_OK;
}

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

static int meter_limit(const struct judge_args *a, const struct lab_settings *set,
		       struct outcome *o, struct ml_error *err)
{
	struct load_point pt = { POINT_IB, DEC4_SCALE, PF_1, ELEM_H };
	enum model_connection conn = CONN_DIRECT;
	int64_t ib = 0, imax = 0;
	if (!a->point)
		return ml_errorf(err, ML_EINVAL, "--point is required for meters");
	int rc = point_current_parse(a->point, &pt.base, &pt.mult_e4, err);
	rc = rc || !a->pf ? rc : point_pf_parse(a->pf, &pt.pf, err);
	rc = rc || !a->element ? rc : point_element_parse(a->element, &pt.element, err);
	rc = rc || !a->conn ? rc : model_connection_parse(a->conn, &conn, err);
	rc = rc || !a->ib ? rc : opt_dec(a->ib, 3, "--ib", &ib, err);
	rc = rc || !a->imax ? rc : opt_dec(a->imax, 3, "--imax", &imax, err);
	rc = rc ? rc : judge_meter_limit(a->cls, conn, &pt, ib, imax, set, &o->lim, err);
	if (rc)
		return rc;
	enum meter_class c;
	rc = limits_meter_class(a->cls, &c, err);
	char cur[24];
	snprintf(o->title, sizeof o->title, "%s cos\u03c6=%s %s (class %s, %s)",
		 point_current_text(pt.base, pt.mult_e4, cur, sizeof cur), point_pf_text(pt.pf),
		 point_element_text(pt.element), limits_meter_class_text(c),
		 model_connection_name(conn));
	return rc;
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
	rc = rc   ? rc
	     : ct ? judge_ct_limit(a->cls, pct, set, &o->lim, err)
		  : judge_vt_limit(a->cls, pct, set, &o->lim, err);
	if (!rc)
		snprintf(o->title, sizeof o->title, "%s class %s at %s %% of rated",
			 ct ? "CT" : "VT", a->cls, a->percent);
	return rc;
}

static int evaluate(const struct judge_args *a, struct lab_settings set, struct outcome *o,
		    struct ml_error *err)
{
	int64_t r[JUDGE_MAX_READINGS], r2[JUDGE_MAX_READINGS], override = 0;
	int n = 0, n2 = 0;
	int rc = a->internal
			 ? lab_settings_set(&set, "judge.internal_coefficient", a->internal, err)
			 : ML_OK;
	rc = rc ? rc : parse_list(a->readings, "--readings", r, &n, err);
	rc = rc || !a->limit ? rc : opt_dec(a->limit, 4, "--limit", &override, err);
	if (!rc && a->limit && override <= 0)
		rc = ml_errorf(err, ML_EINVAL, "--limit '%s' must be a positive percentage",
			       a->limit);
	int meter = !a->kind || !strcmp(a->kind, "meter");
	rc = rc ? rc : meter ? meter_limit(a, &set, o, err) : xfmr_limit(a, &set, o, err);
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
	if (!rc && n2 != n)
		rc = ml_errorf(err, ML_EINVAL, "--phase has %d values, --readings %d", n2, n);
	o->has2 = !rc;
	return rc ? rc
		  : judge_readings(r2, n2, o->lim.limit2_e4,
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

static int print_text(struct ml_buf *b, const char *what, const struct judge_value *v,
		      const char *unit, int on_mean)
{
	char t1[DEC4_FMT_MAX], t2[DEC4_FMT_MAX], t3[DEC4_FMT_MAX];
	int rc = ml_buf_printf(b, "%-10s", what);
	for (int i = 0; i < v->n; i++)
		rc |= ml_buf_printf(
			b, " %s", d4(v->readings_e4[i], dec4_min_decimals(v->readings_e4[i]), t1));
	rc |= ml_buf_printf(b, "\nmean       %s\nrounded    %s (interval %s)\n",
			    d4(v->mean_e4, 4, t1), judge_rounded_text(v, t2, sizeof t2),
			    d4(v->interval_e4, dec4_min_decimals(v->interval_e4), t3));
	rc |= ml_buf_printf(b, "limit      \u00b1%s %s\n", lim_text(v, v->limit_e4, t1), unit);
	rc |= ml_buf_printf(b, "internal   \u00b1%s %s\n", lim_text(v, v->internal_limit_e4, t1),
			    unit);
	rc |= ml_buf_printf(b, "verdict    %s (regulation, on the %s), %s (internal)\n",
			    judge_verdict_name(v->verdict), on_mean ? "mean" : "rounded value",
			    judge_verdict_name(v->internal_verdict));
	return rc;
}

static int json_value(struct ml_buf *b, const char *key, const struct judge_value *v)
{
	char t[DEC4_FMT_MAX];
	int rc = ml_json_key(b, key);
	rc |= ml_buf_puts(b, "{\"readings\":[");
	for (int i = 0; i < v->n; i++) {
		rc |= ml_buf_puts(b, i ? "," : "");
		rc |= ml_json_str(b,
				  d4(v->readings_e4[i], dec4_min_decimals(v->readings_e4[i]), t));
	}
	rc |= ml_buf_putc(b, ']');
	rc |= ml_json_kv_str(b, 0, "mean", d4(v->mean_e4, 4, t));
	rc |= ml_json_kv_str(b, 0, "rounded", judge_rounded_text(v, t, sizeof t));
	rc |= ml_json_kv_str(b, 0, "interval",
			     d4(v->interval_e4, dec4_min_decimals(v->interval_e4), t));
	rc |= ml_json_kv_str(b, 0, "limit", lim_text(v, v->limit_e4, t));
	rc |= ml_json_kv_str(b, 0, "internal_limit", lim_text(v, v->internal_limit_e4, t));
	rc |= ml_json_kv_str(b, 0, "verdict", judge_verdict_name(v->verdict));
	rc |= ml_json_kv_str(b, 0, "internal_verdict", judge_verdict_name(v->internal_verdict));
	rc |= ml_buf_putc(b, '}');
	return rc;
}

static int render(const struct outcome *o, int json, int on_mean, struct ml_buf *b)
{
	char t[DEC4_FMT_MAX];
	if (!json) {
		int rc = ml_buf_printf(b, "point      %s\n", o->title);
		rc |= print_text(b, "readings", &o->v, "%", on_mean);
		if (o->has2)
			rc |= print_text(b, "phase", &o->v2, "min", on_mean);
		rc |= ml_buf_printf(b, "source     %s; internal = %s %% of the limit",
				    o->lim.clause,
				    d4(o->coeff_e4, dec4_min_decimals(o->coeff_e4), t));
		return rc;
	}
	int rc = ml_buf_putc(b, '{');
	rc |= ml_json_kv_str(b, 1, "point", o->title);
	rc |= ml_json_kv_str(b, 0, "judged_on", on_mean ? "mean" : "rounded");
	rc |= ml_json_kv_str(b, 0, "internal_coefficient",
			     d4(o->coeff_e4, dec4_min_decimals(o->coeff_e4), t));
	rc |= ml_json_kv_str(b, 0, "clause", o->lim.clause);
	rc |= ml_buf_putc(b, ',');
	rc |= json_value(b, "error", &o->v);
	if (o->has2) {
		rc |= ml_buf_putc(b, ',');
		rc |= json_value(b, "phase", &o->v2);
	}
	rc |= ml_buf_putc(b, '}');
	return rc;
}

int cmd_judge(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(argc, argv, usage))
		return CLI_OK;
	struct judge_args a;
	memset(&a, 0, sizeof a);
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	struct outcome o;
	memset(&o, 0, sizeof o);
	struct ml_error err = ML_ERROR_INIT;
	struct lab_settings set;
	lab_settings_defaults(&set);
	/* a centre's stored settings apply when a database is configured; otherwise the built-in defaults */
	if (ctx->conninfo || getenv("METERLAB_DB")) {
		struct db *db;
		rc = cli_db(ctx, &db);
		if (rc)
			return rc;
		if (lab_settings_load(db, &set, &err))
			return cli_fail(&err);
	}
	if (evaluate(&a, set, &o, &err))
		return cli_fail(&err);
	int on_mean = a.on_mean || !set.verdict_on_rounded;
	struct ml_buf b = ML_BUF_INIT;
	if (render(&o, ctx->json, on_mean, &b)) {
		ml_buf_free(&b);
		return CLI_INTERNAL;
	}
	rc = cli_out(&b, 1);
	ml_buf_free(&b);
	if (rc)
		return rc;
	enum judge_verdict v = o.has2 && o.v2.verdict == JUDGE_FAIL ? JUDGE_FAIL : o.v.verdict;
	enum judge_verdict vi = o.has2 && o.v2.internal_verdict == JUDGE_FAIL
					? JUDGE_FAIL
					: o.v.internal_verdict;
	return v == JUDGE_FAIL || (a.strict && vi == JUDGE_FAIL) ? CLI_FAIL : CLI_OK;
}
