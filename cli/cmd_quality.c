/*
 * meterlab quality report|alerts — the quality analysis of issue 14
 * (quality/quality.h, quality/alerts.h, reports/quality_render.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "quality/alerts.h"
#include "quality/quality.h"
#include "reports/quality_render.h"
#include "sql/db.h"

struct quality_args {
	const char *from, *to, *maker, *model, *out, *csv, *alpha, *method, *all;
};

static const struct cli_opt report_opts[] = {
	CLI_REQ("from", struct quality_args, from),
	CLI_REQ("to", struct quality_args, to),
	CLI_OPT("maker", struct quality_args, maker),
	CLI_OPT("model", struct quality_args, model),
	CLI_REQ("out", struct quality_args, out),
	CLI_OPT("csv", struct quality_args, csv),
	CLI_OPT("alpha", struct quality_args, alpha),
	CLI_OPT("method", struct quality_args, method),
	CLI_OPT_END,
};

static const struct cli_opt alerts_opts[] = {
	CLI_REQ("from", struct quality_args, from),
	CLI_REQ("to", struct quality_args, to),
	CLI_OPT("alpha", struct quality_args, alpha),
	CLI_OPT("method", struct quality_args, method),
	CLI_FLAG("all", struct quality_args, all),
	CLI_OPT_END,
};

static int check_method(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	const struct quality_args *a = c->args;
	enum quality_correction m;
	return a->method ? quality_correction_parse(a->method, &m, &c->err) : ML_OK;
}

/* The flags of the period (all units, tested or not, in the order of ml_quality_alert_units). */
static int compute_alerts(struct db *db, const struct quality_args *a, struct quality_alert **out,
			  size_t *n, struct ml_error *err)
{
	struct quality_unit *u = NULL;
	struct quality_alert_opts o = { a->alpha ? a->alpha : "0.05", QUALITY_HOLM };
	int rc = quality_alert_units_load(db, a->from, a->to, &u, n, err);
	if (rc)
		return rc;
	if (a->method && (rc = quality_correction_parse(a->method, &o.method, err)))
		goto out;
	rc = quality_alerts_compute(u, *n, &o, out, err);
out:
	free(u);
	return rc;
}

static int write_file(const char *path, const struct ml_buf *b, struct ml_error *err)
{
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return ml_errorf(err, ML_EIO, "cannot write %s: %s", path, strerror(errno));
	int bad = b->len && fwrite(b->data, 1, b->len, fp) != b->len;
	bad |= fclose(fp) != 0;
	return bad ? ml_errorf(err, ML_EIO, "writing %s failed", path) : ML_OK;
}

static int issuer_name(struct db *db, char *out, size_t size, struct ml_error *err)
{
	PGresult *r = NULL;
	int rc = db_exec(db, "SELECT name FROM issuer WHERE is_default", 0, NULL, PGRES_TUPLES_OK,
			 &r, err);
	out[0] = 0;
	if (!rc && PQntuples(r) == 1)
		snprintf(out, size, "%s", db_get(r, 0, "name"));
	PQclear(r);
	return rc;
}

static int quality_report_run(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct quality_args *a = c->args;
	struct quality_report r;
	struct quality_alert *al = NULL;
	struct ml_buf pdf = ML_BUF_INIT, b = ML_BUF_INIT;
	size_t n = 0;
	char issuer[256];
	memset(&r, 0, sizeof r);
	struct quality_filter f = { a->from, a->to, a->maker, a->model };
	int rc = quality_report_load(c->db, &f, &r, &c->err);
	if (rc)
		goto out;
	if ((rc = compute_alerts(c->db, a, &al, &n, &c->err)))
		goto out;
	if ((rc = issuer_name(c->db, issuer, sizeof issuer, &c->err)))
		goto out;
	struct quality_render_opts o = { 0 };
	o.issuer = issuer[0] ? issuer : NULL;
	o.alerts = al;
	o.n_alerts = n;
	o.alert_method = a->method ? a->method : "holm";
	o.alpha = a->alpha ? a->alpha : "0.05";
	if ((rc = quality_render(&r, &o, &pdf, &c->err)))
		goto out;
	if ((rc = write_file(a->out, &pdf, &c->err)))
		goto out;
	if (a->csv && (rc = quality_report_csv(&r, a->csv, &c->err)))
		goto out;
	const struct quality_verdict_row *t = quality_verdict_total(&r);
	const struct quality_field_row *fl = quality_field_total(&r);
	size_t flagged = 0;
	for (size_t i = 0; i < n; i++)
		flagged += al[i].flagged != 0;
	char rate[32], frate[32];
	quality_ratio(t ? t->fail : 0, t ? t->n : 0, 100, 2, rate);
	quality_fault_rate(fl ? fl->faults : 0, fl ? fl->exposure_days : 0, frate);
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_str(&b, 1, "pdf", a->out);
		ml_json_kv_str(&b, 0, "csv", a->csv);
		ml_json_kv_int(&b, 0, "bytes", (int64_t)pdf.len);
		ml_json_kv_str(&b, 0, "from", r.from);
		ml_json_kv_str(&b, 0, "to", r.to);
		ml_json_kv_int(&b, 0, "verified", t ? t->n : 0);
		ml_json_kv_int(&b, 0, "failed", t ? t->fail : 0);
		ml_json_kv_str(&b, 0, "fail_rate_pct", rate);
		ml_json_kv_int(&b, 0, "asset_days", fl ? fl->exposure_days : 0);
		ml_json_kv_int(&b, 0, "faults", fl ? fl->faults : 0);
		ml_json_kv_str(&b, 0, "faults_per_1000_asset_years", frate);
		ml_json_kv_int(&b, 0, "alerts", (int64_t)flagged);
		ml_buf_putc(&b, '}');
	} else {
		ml_buf_printf(
			&b,
			"quality report %s .. %s: %lld verified, %lld failed (%s %%); %lld faults "
			"in %lld asset-days (%s per 1000 asset-years); %zu alerts\n"
			"PDF %s (%zu bytes)%s%s",
			r.from, r.to, (long long)(t ? t->n : 0), (long long)(t ? t->fail : 0), rate,
			(long long)(fl ? fl->faults : 0), (long long)(fl ? fl->exposure_days : 0),
			frate, flagged, a->out, pdf.len, a->csv ? ", CSV in " : "",
			a->csv ? a->csv : "");
	}
	rc = cli_emit(c, &b, 1);
out:
	quality_report_free(&r);
	free(al);
	ml_buf_free(&pdf);
	ml_buf_free(&b);
	return rc;
}

static const char *metric_name(enum quality_metric m)
{
	return m == QUALITY_FIELD ? "field" : "verify";
}

static void alert_json(struct ml_buf *b, const struct quality_alert *x, int first)
{
	char t[64], r1[32], r2[32];
	int field = x->unit.metric == QUALITY_FIELD;
	ml_buf_puts(b, first ? "{" : ",{");
	ml_json_kv_str(b, 1, "metric", metric_name(x->unit.metric));
	ml_json_kv_str(b, 0, "dim", x->unit.dim);
	ml_json_kv_str(b, 0, "key", x->unit.key);
	ml_json_kv_str(b, 0, "peer", x->unit.peer);
	ml_json_kv_int(b, 0, "n", x->unit.n);
	ml_json_kv_int(b, 0, "x", x->unit.x);
	ml_json_kv_int(b, 0, "peer_n", x->peer_n);
	ml_json_kv_int(b, 0, "peer_x", x->peer_x);
	ml_json_kv_str(b, 0, field ? "rate_per_1000_asset_years" : "rate_pct",
		       field ? quality_fault_rate(x->unit.x, x->unit.n, r1)
			     : quality_ratio(x->unit.x, x->unit.n, 100, 2, r1));
	ml_json_kv_str(b, 0, field ? "peer_rate_per_1000_asset_years" : "peer_rate_pct",
		       field ? quality_fault_rate(x->peer_x, x->peer_n, r2)
			     : quality_ratio(x->peer_x, x->peer_n, 100, 2, r2));
	ml_json_kv_bool(b, 0, "tested", x->tested);
	if (x->tested) {
		snprintf(t, sizeof t, "%.6g", x->p);
		ml_json_kv_raw(b, 0, "p", t);
		snprintf(t, sizeof t, "%llu/%llu", (unsigned long long)x->t_num,
			 (unsigned long long)x->t_den);
		ml_json_kv_str(b, 0, "threshold", t);
		ml_json_kv_int(b, 0, "family_size", (int64_t)x->family_size);
		ml_json_kv_int(b, 0, "rank", (int64_t)x->rank);
	}
	ml_json_kv_bool(b, 0, "flagged", x->flagged);
	ml_buf_putc(b, '}');
}

static void alert_text(struct ml_buf *b, const struct quality_alert *x)
{
	char r1[32], r2[32], t[48];
	int field = x->unit.metric == QUALITY_FIELD;
	snprintf(t, sizeof t, "%llu/%llu", (unsigned long long)x->t_num,
		 (unsigned long long)x->t_den);
	ml_buf_printf(b, "%-6s %-6s %-16s %-10s %8lld/%-10lld %10s  %8lld/%-10lld %10s  ",
		      metric_name(x->unit.metric), x->unit.dim, x->unit.key, x->unit.peer,
		      (long long)x->unit.x, (long long)x->unit.n,
		      field ? quality_fault_rate(x->unit.x, x->unit.n, r1)
			    : quality_ratio(x->unit.x, x->unit.n, 100, 2, r1),
		      (long long)x->peer_x, (long long)x->peer_n,
		      field ? quality_fault_rate(x->peer_x, x->peer_n, r2)
			    : quality_ratio(x->peer_x, x->peer_n, 100, 2, r2));
	if (x->tested)
		ml_buf_printf(b, "%-10.3g %-10s %2zu  %s\n", x->p, t, x->family_size,
			      x->flagged ? "FLAG" : "-");
	else
		ml_buf_puts(b, "(alone in its peer group: not tested)\n");
}

static int quality_alerts_run(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct quality_args *a = c->args;
	struct quality_alert *al = NULL;
	struct ml_buf b = ML_BUF_INIT;
	size_t n = 0, flagged = 0;
	int rc = compute_alerts(c->db, a, &al, &n, &c->err);
	if (rc)
		goto out;
	for (size_t i = 0; i < n; i++)
		flagged += al[i].flagged != 0;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_str(&b, 1, "from", a->from);
		ml_json_kv_str(&b, 0, "to", a->to);
		ml_json_kv_str(&b, 0, "method", a->method ? a->method : "holm");
		ml_json_kv_str(&b, 0, "alpha", a->alpha ? a->alpha : "0.05");
		ml_json_kv_int(&b, 0, "flagged", (int64_t)flagged);
		ml_buf_puts(&b, ",\"units\":[");
		int first = 1;
		for (size_t i = 0; i < n; i++)
			if (a->all || al[i].flagged) {
				alert_json(&b, &al[i], first);
				first = 0;
			}
		ml_buf_puts(&b, "]}");
		rc = cli_emit(c, &b, 1);
		goto out;
	}
	ml_buf_printf(
		&b,
		"early warning %s .. %s: %zu of %zu units flagged (%s, alpha %s; verification: "
		"Fisher's exact test, field: exact Poisson-rate test; one-sided, against the peer "
		"group)\n",
		a->from, a->to, flagged, n, a->method ? a->method : "holm",
		a->alpha ? a->alpha : "0.05");
	ml_buf_printf(&b, "%-6s %-6s %-16s %-10s %19s %10s  %19s %10s  %-10s %-10s %2s\n", "metric",
		      "dim", "unit", "peers", "x/n", "rate", "peers x/n", "peer rate", "p",
		      "threshold", "m");
	for (size_t i = 0; i < n; i++)
		if (a->all || al[i].flagged)
			alert_text(&b, &al[i]);
	ml_buf_puts(&b, "rates: verification % failed; field faults per 1000 asset-years (n in "
			"asset-days)");
	rc = cli_emit(c, &b, 1);
out:
	free(al);
	ml_buf_free(&b);
	return rc;
}

static const struct cli_cmd quality_cmds[] = {
	{ .name = "report",
	  .check = check_method,
	  .run = quality_report_run,
	  CLI_ARGS(struct quality_args, report_opts),
	  .need = "quality report needs --from, --to and --out (see --help)",
	  .flags = CLI_NEED_DB,
	  .summary = "the quality report of a period as PDF (and CSV)",
	  .help = "usage: meterlab quality report --from YYYY-MM-DD --to YYYY-MM-DD [--maker CODE]\n"
		  "         [--model CODE] --out FILE.pdf [--csv DIR] [--alpha 0.05] [--method holm|bh] [--json]\n\n"
		  "Pass rate by maker, model, lot and month; failure modes by test item and load point;\n"
		  "error distribution per load point (mean, spread, share beyond the internal limit, a\n"
		  "histogram with the limit lines); field fault rates by maker, model, lot and months in\n"
		  "service; monthly trends; the early-warning flags (see quality alerts). --to is inclusive.\n"
		  "--csv DIR writes the same figures as CSV files (verdicts, items, points,\n"
		  "point_failures, field, months)." },
	{ .name = "alerts",
	  .check = check_method,
	  .run = quality_alerts_run,
	  CLI_ARGS(struct quality_args, alerts_opts),
	  .need = "quality alerts needs --from and --to (see --help)",
	  .flags = CLI_NEED_DB,
	  .summary = "lots, models and makers that stand out from their peers",
	  .help = "usage: meterlab quality alerts --from YYYY-MM-DD --to YYYY-MM-DD [--alpha 0.05]\n"
		  "         [--method holm|bh] [--all] [--json]\n\n"
		  "Each lot (peers: the other lots of its model), model (peers: the other models of its\n"
		  "kind) and maker (its models of one kind against the other makers') is tested one-sided:\n"
		  "verification failures with Fisher's exact test, field faults with the exact conditional\n"
		  "test of two Poisson rates (exposure in asset-days). Within each family the flags are\n"
		  "corrected by Holm (family-wise error rate alpha, default) or Benjamini-Hochberg (false\n"
		  "discovery rate alpha, --method bh). Decisions are exact integer comparisons; p is printed\n"
		  "for reading. --all lists every unit, flagged or not." },
	{ .name = NULL },
};

const struct cli_cmd cmd_quality = {
	.name = "quality",
	.help = "Quality analysis: report (PDF, CSV) and early warning.",
	.sub = quality_cmds,
};
