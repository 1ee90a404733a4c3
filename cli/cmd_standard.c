/*
 * meterlab standard add|certify|list|show|bench-add|bench-list —
 * reference standards, their calibration certificates, and benches.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "lab/standard.h"

struct std_args {
	const char *code, *name, *cls, *range, *uri, *kind, *positions;
	const char *cert_no, *issuer, *valid_from, *valid_until;
	const char *standards[STANDARD_BENCH_MAX_STD];
	int nstandards;
	struct standard_rec s; /* filled by the check functions */
	struct bench_rec b;
};

/* Copy option v into a fixed field; a value that does not fit is refused, never cut. */
static int setf(struct cli_call *c, const char *opt, char *dst, size_t cap, const char *v)
{
	if (!v)
		v = "";
	if (strlen(v) >= cap)
		return ml_errorf(&c->err, ML_EINVAL, "%s '%s' is longer than %zu bytes", opt, v,
				 cap - 1);
	memcpy(dst, v, strlen(v) + 1);
	return ML_OK;
}

static int set_cert(struct cli_call *c, struct standard_cert *dst)
{
	const struct std_args *a = c->args;
	int rc = setf(c, "--cert-no", dst->cert_no, sizeof(dst->cert_no), a->cert_no);
	if (rc)
		return rc;
	rc = setf(c, "--issuer", dst->issuer, sizeof(dst->issuer), a->issuer);
	if (rc)
		return rc;
	rc = setf(c, "--valid-from", dst->valid_from, sizeof(dst->valid_from), a->valid_from);
	if (rc)
		return rc;
	rc = setf(c, "--valid-until", dst->valid_until, sizeof(dst->valid_until), a->valid_until);
	return rc;
}

static int check_add(struct cli_ctx *ctx, struct cli_call *c)
{
	struct std_args *a = c->args;
	struct standard_rec *s = &a->s;
	(void)ctx;
	int rc = setf(c, "--code", s->code, sizeof(s->code), a->code);
	if (rc)
		return rc;
	rc = setf(c, "--name", s->name, sizeof(s->name), a->name);
	if (rc)
		return rc;
	rc = setf(c, "--class", s->accuracy_class, sizeof(s->accuracy_class), a->cls);
	if (rc)
		return rc;
	rc = setf(c, "--range", s->range_text, sizeof(s->range_text), a->range);
	if (rc)
		return rc;
	rc = set_cert(c, &s->cert);
	return rc;
}

static int std_add(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	const struct standard_rec *s = &((struct std_args *)c->args)->s;
	int64_t id = 0;
	int rc = standard_add(c->db, s, &id, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_printf(&b, "{\"standard_id\":%" PRId64 ",\"code\":", id);
		ml_json_str(&b, s->code);
		ml_buf_putc(&b, '}');
	} else {
		ml_buf_printf(&b,
			      "standard %s registered (id %" PRId64
			      "), certificate %s valid until %s",
			      s->code, id, s->cert.cert_no, s->cert.valid_until);
	}
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

static int check_certify(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	return set_cert(c, &((struct std_args *)c->args)->s.cert);
}

static int std_certify(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	const struct standard_cert *cert = &((struct std_args *)c->args)->s.cert;
	const char *code = c->pos[0];
	int rc = standard_certify(c->db, code, cert, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_puts(&b, "{");
		ml_json_kv_str(&b, 1, "code", code);
		ml_buf_puts(&b, ",\"recorded\":true}");
	} else {
		ml_buf_printf(&b, "standard %s: certificate %s valid %s .. %s recorded", code,
			      cert->cert_no, cert->valid_from, cert->valid_until);
	}
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

static void std_json(struct ml_buf *b, const struct standard_rec *s)
{
	ml_buf_putc(b, '{');
	ml_json_kv_int(b, 1, "standard_id", s->standard_id);
	ml_json_kv_str(b, 0, "code", s->code);
	ml_json_kv_str(b, 0, "name", s->name);
	ml_json_kv_str(b, 0, "class", s->accuracy_class);
	ml_json_kv_str(b, 0, "range", s->range_text);
	ml_json_kv_str(b, 0, "cert_no", s->cert.cert_no[0] ? s->cert.cert_no : NULL);
	ml_json_kv_str(b, 0, "issuer", s->cert.issuer[0] ? s->cert.issuer : NULL);
	ml_json_kv_str(b, 0, "valid_from", s->cert.valid_from[0] ? s->cert.valid_from : NULL);
	ml_json_kv_str(b, 0, "valid_until", s->cert.valid_until[0] ? s->cert.valid_until : NULL);
	ml_buf_putc(b, '}');
}

static int std_list(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	struct standard_rec *v = NULL;
	size_t n = 0;
	int rc = standard_list(c->db, &v, &n, &c->err);
	if (rc)
		goto out;
	if (ctx->json)
		ml_buf_putc(&b, '[');
	else
		ml_buf_printf(&b, "%-16s %-6s %-24s %-12s %s\n", "CODE", "CLASS", "CERTIFICATE",
			      "VALID UNTIL", "NAME");
	for (size_t i = 0; i < n; i++) {
		if (!ctx->json) {
			ml_buf_printf(&b, "%-16s %-6s %-24s %-12s %s\n", v[i].code,
				      v[i].accuracy_class, v[i].cert.cert_no, v[i].cert.valid_until,
				      v[i].name);
			continue;
		}
		if (i)
			ml_buf_putc(&b, ',');
		std_json(&b, &v[i]);
	}
	if (ctx->json)
		ml_buf_putc(&b, ']');
	free(v);
	rc = cli_emit(c, &b, ctx->json);
out:
	ml_buf_free(&b);
	return rc;
}

static int std_show(struct cli_ctx *ctx, struct cli_call *c)
{
	struct standard_rec s;
	struct standard_cert *v = NULL;
	struct ml_buf b = ML_BUF_INIT;
	size_t n = 0;
	int rc = standard_get(c->db, c->pos[0], &s, &c->err);
	if (rc)
		goto out;
	rc = standard_certs(c->db, c->pos[0], &v, &n, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		std_json(&b, &s);
		b.len--; /* reopen the object to append the certificate history */
		ml_buf_puts(&b, ",\"certificates\":[");
		for (size_t i = 0; i < n; i++) {
			ml_buf_puts(&b, i ? ",{" : "{");
			ml_json_kv_str(&b, 1, "cert_no", v[i].cert_no);
			ml_json_kv_str(&b, 0, "issuer", v[i].issuer);
			ml_json_kv_str(&b, 0, "valid_from", v[i].valid_from);
			ml_json_kv_str(&b, 0, "valid_until", v[i].valid_until);
			ml_buf_putc(&b, '}');
		}
		ml_buf_puts(&b, "]}");
	} else {
		ml_buf_printf(&b, "standard %s: %s\nclass %s  range %s\ncertificates:\n", s.code,
			      s.name, s.accuracy_class, s.range_text);
		for (size_t i = 0; i < n; i++)
			ml_buf_printf(&b, "  %-24s %s .. %s  %s\n", v[i].cert_no, v[i].valid_from,
				      v[i].valid_until, v[i].issuer);
	}
	rc = cli_emit(c, &b, ctx->json);
out:
	free(v);
	ml_buf_free(&b);
	return rc;
}

static int check_bench_add(struct cli_ctx *ctx, struct cli_call *c)
{
	struct std_args *a = c->args;
	struct bench_rec *b = &a->b;
	long long n = 0;
	(void)ctx;
	int rc = cli_parse_ll(c, "--positions", a->positions, 1, INT_MAX, &n);
	if (rc)
		return rc;
	rc = setf(c, "--code", b->code, sizeof(b->code), a->code);
	if (rc)
		return rc;
	rc = setf(c, "--name", b->name, sizeof(b->name), a->name ? a->name : a->code);
	if (rc)
		return rc;
	rc = setf(c, "--uri", b->uri, sizeof(b->uri), a->uri);
	if (rc)
		return rc;
	rc = setf(c, "--kind", b->kind, sizeof(b->kind), a->kind);
	if (rc)
		return rc;
	for (int k = 0; k < a->nstandards && !rc; k++)
		rc = setf(c, "--standard", b->standards[k], sizeof(b->standards[k]),
			  a->standards[k]);
	if (rc)
		return rc;
	if (!a->nstandards)
		return cli_call_usage(c, "bench-add needs --code, --uri, --kind, --positions and "
					 "--standard (see --help)");
	b->positions = (int)n;
	b->n_standards = a->nstandards;
	return ML_OK;
}

static int bench_add(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct bench_rec *b = &((struct std_args *)c->args)->b;
	int64_t id = 0;
	int rc = standard_bench_add(c->db, b, &id, &c->err);
	if (rc)
		return rc;
	if (ctx->json)
		return cli_printf(c, "{\"bench_id\":%" PRId64 "}\n", id);
	return cli_printf(c, "bench %s registered (id %" PRId64 "), %d positions at %s\n", b->code,
			  id, b->positions, b->uri);
}

static void bench_json(struct ml_buf *b, const struct bench_rec *v)
{
	ml_buf_putc(b, '{');
	ml_json_kv_int(b, 1, "bench_id", v->bench_id);
	ml_json_kv_str(b, 0, "code", v->code);
	ml_json_kv_str(b, 0, "name", v->name);
	ml_json_kv_str(b, 0, "uri", v->uri);
	ml_json_kv_str(b, 0, "kind", v->kind);
	ml_json_kv_int(b, 0, "positions", v->positions);
	ml_buf_puts(b, ",\"standards\":[");
	for (int k = 0; k < v->n_standards; k++) {
		if (k)
			ml_buf_putc(b, ',');
		ml_json_str(b, v->standards[k]);
	}
	ml_buf_puts(b, "]}");
}

static int bench_list(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	struct bench_rec *v = NULL;
	size_t n = 0;
	int rc = standard_bench_list(c->db, &v, &n, &c->err);
	if (rc)
		goto out;
	if (ctx->json)
		ml_buf_putc(&b, '[');
	else
		ml_buf_printf(&b, "%-12s %-11s %4s %-28s %s\n", "CODE", "KIND", "POS", "URI",
			      "STANDARDS");
	for (size_t i = 0; i < n; i++) {
		if (ctx->json) {
			if (i)
				ml_buf_putc(&b, ',');
			bench_json(&b, &v[i]);
			continue;
		}
		ml_buf_printf(&b, "%-12s %-11s %4d %-28s", v[i].code, v[i].kind, v[i].positions,
			      v[i].uri);
		for (int k = 0; k < v[i].n_standards; k++)
			ml_buf_printf(&b, "%s%s", k ? "," : " ", v[i].standards[k]);
		ml_buf_putc(&b, '\n');
	}
	if (ctx->json)
		ml_buf_putc(&b, ']');
	free(v);
	rc = cli_emit(c, &b, ctx->json);
out:
	ml_buf_free(&b);
	return rc;
}

static const struct cli_opt add_opts[] = {
	CLI_REQ("code", struct std_args, code),
	CLI_REQ("name", struct std_args, name),
	CLI_REQ("class", struct std_args, cls),
	CLI_OPT("range", struct std_args, range),
	CLI_REQ("cert-no", struct std_args, cert_no),
	CLI_OPT("issuer", struct std_args, issuer),
	CLI_OPT("valid-from", struct std_args, valid_from),
	CLI_OPT("valid-until", struct std_args, valid_until),
	CLI_OPT_END,
};

static const struct cli_opt certify_opts[] = {
	CLI_OPT("cert-no", struct std_args, cert_no),
	CLI_OPT("issuer", struct std_args, issuer),
	CLI_OPT("valid-from", struct std_args, valid_from),
	CLI_OPT("valid-until", struct std_args, valid_until),
	CLI_OPT_END,
};

static const struct cli_opt bench_add_opts[] = {
	CLI_REQ("code", struct std_args, code),
	CLI_OPT("name", struct std_args, name),
	CLI_REQ("uri", struct std_args, uri),
	CLI_REQ("kind", struct std_args, kind),
	CLI_REQ("positions", struct std_args, positions),
	CLI_LIST("standard", struct std_args, standards, nstandards),
	CLI_OPT_END,
};

static const struct cli_cmd standard_cmds[] = {
	{ .name = "add",
	  .check = check_add,
	  .run = std_add,
	  CLI_ARGS(struct std_args, add_opts),
	  .need = "standard add needs --code, --name, --class and --cert-no (see --help)",
	  .flags = CLI_NEED_DB,
	  .summary = "register a reference standard with its calibration certificate",
	  .help = "usage: meterlab standard add --code CODE --name NAME --class CLASS [--range TEXT]\n"
		  "         --cert-no NO --issuer ORG --valid-from YYYY-MM-DD --valid-until YYYY-MM-DD\n\n"
		  "Register a reference standard (e.g. the bench's standard meter) with its first calibration\n"
		  "certificate. A bench can verify only while its standards hold a valid certificate." },
	{ .name = "certify",
	  .check = check_certify,
	  .run = std_certify,
	  CLI_ARGS(struct std_args, certify_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "standard certify needs the standard's CODE",
	  .flags = CLI_NEED_DB,
	  .summary = "record a recalibration certificate",
	  .help = "usage: meterlab standard certify CODE --cert-no NO --issuer ORG --valid-from YYYY-MM-DD\n"
		  "         --valid-until YYYY-MM-DD\n\n"
		  "Record a recalibration certificate of a reference standard (certificates are never edited)." },
	{ .name = "list",
	  .run = std_list,
	  .flags = CLI_NEED_DB,
	  .summary = "list reference standards",
	  .help = "usage: meterlab standard list [--json]\n\n"
		  "List reference standards with their latest certificate." },
	{ .name = "show",
	  .run = std_show,
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "standard show needs exactly one CODE",
	  .flags = CLI_NEED_DB,
	  .summary = "show a standard and its certificate history",
	  .help = "usage: meterlab standard show CODE [--json]\n\n"
		  "Show a reference standard and all its certificates." },
	{ .name = "bench-add",
	  .check = check_bench_add,
	  .run = bench_add,
	  CLI_ARGS(struct std_args, bench_add_opts),
	  .need = "bench-add needs --code, --uri, --kind, --positions and --standard (see --help)",
	  .flags = CLI_NEED_DB,
	  .summary = "register a verification bench and the standards it uses",
	  .help = "usage: meterlab standard bench-add --code CODE --name NAME --uri URI --kind KIND --positions N\n"
		  "         --standard STDCODE [--standard STDCODE ...]\n\n"
		  "Register a verification bench. URI is tcp://HOST:PORT (Modbus TCP, see bench-protocol.md),\n"
		  "rtu:/dev/ttyUSB0?baud=19200&unit=1, or 'manual' for a bench whose readings are typed in.\n"
		  "KIND is meter-1p, meter-3p or transformer; N is 1..96; each --standard names a registered\n"
		  "reference standard the bench uses (its certificate must be valid on the run date)." },
	{ .name = "trace",
	  .impl = &cmd_standard_trace,
	  .summary = "recall list of a standard or a bench: runs, certificates, whereabouts" },
	{ .name = "bench-list",
	  .run = bench_list,
	  .flags = CLI_NEED_DB,
	  .summary = "list registered benches",
	  .help = "usage: meterlab standard bench-list [--json]\n\n"
		  "List registered benches and their standards." },
	{ .name = NULL },
};

const struct cli_cmd cmd_standard = {
	.name = "standard",
	.help = "Reference standards (traceability) and verification benches.\n"
		"A run starts only when every standard of its bench has a certificate valid on the run date.",
	.sub = standard_cmds,
};
