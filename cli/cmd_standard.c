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

static void setf(char *dst, size_t cap, const char *v)
{
	snprintf(dst, cap, "%s", v ? v : "");
}

static int cert_opt(int argc, char **argv, int *i, struct standard_cert *c)
{
	const char *v = NULL;
	if (cli_take_opt(argc, argv, i, "--cert-no", &v))
		setf(c->cert_no, sizeof(c->cert_no), v);
	else if (cli_take_opt(argc, argv, i, "--issuer", &v))
		setf(c->issuer, sizeof(c->issuer), v);
	else if (cli_take_opt(argc, argv, i, "--valid-from", &v))
		setf(c->valid_from, sizeof(c->valid_from), v);
	else if (cli_take_opt(argc, argv, i, "--valid-until", &v))
		setf(c->valid_until, sizeof(c->valid_until), v);
	else
		return 0;
	return 1;
}

static int std_add(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab standard add --code CODE --name NAME --class CLASS [--range TEXT]\n"
		    "         --cert-no NO --issuer ORG --valid-from YYYY-MM-DD --valid-until YYYY-MM-DD\n\n"
		    "Register a reference standard (e.g. the bench's standard meter) with its first calibration\n"
		    "certificate. A bench can verify only while its standards hold a valid certificate."))
		return CLI_OK;
	struct standard_rec s = { 0 };
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (cli_take_opt(argc, argv, &i, "--code", &v))
			setf(s.code, sizeof(s.code), v);
		else if (cli_take_opt(argc, argv, &i, "--name", &v))
			setf(s.name, sizeof(s.name), v);
		else if (cli_take_opt(argc, argv, &i, "--class", &v))
			setf(s.accuracy_class, sizeof(s.accuracy_class), v);
		else if (cli_take_opt(argc, argv, &i, "--range", &v))
			setf(s.range_text, sizeof(s.range_text), v);
		else if (!cert_opt(argc, argv, &i, &s.cert))
			return cli_usage("standard add: unexpected argument '%s'", argv[i]);
	}
	if (!s.code[0] || !s.name[0] || !s.accuracy_class[0] || !s.cert.cert_no[0])
		return cli_usage(
			"standard add needs --code, --name, --class and --cert-no (see --help)");
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	int64_t id = 0;
	if (standard_add(db, &s, &id, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json)
		rc = ml_buf_printf(&b, "{\"standard_id\":%" PRId64 ",\"code\":", id) ||
		     ml_json_str(&b, s.code) || ml_buf_putc(&b, '}');
	else
		rc = ml_buf_printf(&b,
				   "standard %s registered (id %" PRId64
				   "), certificate %s valid until %s",
				   s.code, id, s.cert.cert_no, s.cert.valid_until);
	return cli_finish(&b, rc, 1);
}

static int std_certify(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab standard certify CODE --cert-no NO --issuer ORG --valid-from YYYY-MM-DD\n"
		    "         --valid-until YYYY-MM-DD\n\n"
		    "Record a recalibration certificate of a reference standard (certificates are never edited)."))
		return CLI_OK;
	const char *code = NULL;
	struct standard_cert c = { 0 };
	for (int i = 1; i < argc; i++) {
		if (cert_opt(argc, argv, &i, &c))
			continue;
		if (argv[i][0] == '-' || code)
			return cli_usage("standard certify: unexpected argument '%s'", argv[i]);
		code = argv[i];
	}
	if (!code)
		return cli_usage("standard certify needs the standard's CODE");
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	if (standard_certify(db, code, &c, &err))
		return cli_fail(&err);
	if (!ctx->json)
		printf("standard %s: certificate %s valid %s .. %s recorded\n", code, c.cert_no,
		       c.valid_from, c.valid_until);
	else
		printf("{\"code\":\"%s\",\"recorded\":true}\n", code);
	return CLI_OK;
}

static int std_json(struct ml_buf *b, const struct standard_rec *s)
{
	int rc = ml_buf_putc(b, '{');
	rc = rc || ml_json_kv_int(b, 1, "standard_id", s->standard_id);
	rc = rc || ml_json_kv_str(b, 0, "code", s->code);
	rc = rc || ml_json_kv_str(b, 0, "name", s->name);
	rc = rc || ml_json_kv_str(b, 0, "class", s->accuracy_class);
	rc = rc || ml_json_kv_str(b, 0, "range", s->range_text);
	rc = rc || ml_json_kv_str(b, 0, "cert_no", s->cert.cert_no[0] ? s->cert.cert_no : NULL);
	rc = rc || ml_json_kv_str(b, 0, "issuer", s->cert.issuer[0] ? s->cert.issuer : NULL);
	rc = rc ||
	     ml_json_kv_str(b, 0, "valid_from", s->cert.valid_from[0] ? s->cert.valid_from : NULL);
	rc = rc || ml_json_kv_str(b, 0, "valid_until",
				  s->cert.valid_until[0] ? s->cert.valid_until : NULL);
	return rc || ml_buf_putc(b, '}');
}

static int std_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct db *db;
	int rc = cli_start_noargs(ctx, argc, argv,
				  "usage: meterlab standard list [--json]\n\n"
				  "List reference standards with their latest certificate.",
				  &db);
	if (rc || !db)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct standard_rec *v = NULL;
	size_t n = 0;
	if (standard_list(db, &v, &n, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	rc = ctx->json ? ml_buf_putc(&b, '[')
		       : ml_buf_printf(&b, "%-16s %-6s %-24s %-12s %s\n", "CODE", "CLASS",
				       "CERTIFICATE", "VALID UNTIL", "NAME");
	for (size_t i = 0; i < n && !rc; i++) {
		if (ctx->json)
			rc = (i && ml_buf_putc(&b, ',')) || std_json(&b, &v[i]);
		else
			rc = ml_buf_printf(&b, "%-16s %-6s %-24s %-12s %s\n", v[i].code,
					   v[i].accuracy_class, v[i].cert.cert_no,
					   v[i].cert.valid_until, v[i].name);
	}
	if (ctx->json && !rc)
		rc = ml_buf_putc(&b, ']');
	free(v);
	return cli_finish(&b, rc, ctx->json);
}

static int std_show(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab standard show CODE [--json]\n\nShow a reference standard and all its certificates."))
		return CLI_OK;
	if (argc != 2)
		return cli_usage("standard show needs exactly one CODE");
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct standard_rec s;
	struct standard_cert *c = NULL;
	size_t n = 0;
	if (standard_get(db, argv[1], &s, &err) || standard_certs(db, argv[1], &c, &n, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json) {
		rc = std_json(&b, &s);
		b.len--; /* reopen the object to append the certificate history */
		rc = rc || ml_buf_puts(&b, ",\"certificates\":[");
		for (size_t i = 0; i < n && !rc; i++)
			rc = ml_buf_puts(&b, i ? ",{" : "{") ||
			     ml_json_kv_str(&b, 1, "cert_no", c[i].cert_no) ||
			     ml_json_kv_str(&b, 0, "issuer", c[i].issuer) ||
			     ml_json_kv_str(&b, 0, "valid_from", c[i].valid_from) ||
			     ml_json_kv_str(&b, 0, "valid_until", c[i].valid_until) ||
			     ml_buf_putc(&b, '}');
		rc = rc || ml_buf_puts(&b, "]}");
	} else {
		rc = ml_buf_printf(&b, "standard %s: %s\nclass %s  range %s\ncertificates:\n",
				   s.code, s.name, s.accuracy_class, s.range_text);
		for (size_t i = 0; i < n && !rc; i++)
			rc = ml_buf_printf(&b, "  %-24s %s .. %s  %s\n", c[i].cert_no,
					   c[i].valid_from, c[i].valid_until, c[i].issuer);
	}
	free(c);
	return cli_finish(&b, rc, ctx->json);
}

static int bench_add(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab standard bench-add --code CODE --name NAME --uri URI --kind KIND --positions N\n"
		    "         --standard STDCODE [--standard STDCODE ...]\n\n"
		    "Register a verification bench. URI is tcp://HOST:PORT (Modbus TCP, see bench-protocol.md),\n"
		    "rtu:/dev/ttyUSB0?baud=19200&unit=1, or 'manual' for a bench whose readings are typed in.\n"
		    "KIND is meter-1p, meter-3p or transformer; N is 1..96; each --standard names a registered\n"
		    "reference standard the bench uses (its certificate must be valid on the run date)."))
		return CLI_OK;
	struct bench_rec b = { 0 };
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (cli_take_opt(argc, argv, &i, "--code", &v))
			setf(b.code, sizeof(b.code), v);
		else if (cli_take_opt(argc, argv, &i, "--name", &v))
			setf(b.name, sizeof(b.name), v);
		else if (cli_take_opt(argc, argv, &i, "--uri", &v))
			setf(b.uri, sizeof(b.uri), v);
		else if (cli_take_opt(argc, argv, &i, "--kind", &v))
			setf(b.kind, sizeof(b.kind), v);
		else if (cli_take_opt(argc, argv, &i, "--positions", &v)) {
			long long n;
			int rc = cli_parse_ll("--positions", v, 1, INT_MAX, &n);
			if (rc)
				return rc;
			b.positions = (int)n;
		} else if (cli_take_opt(argc, argv, &i, "--standard", &v) &&
			   b.n_standards < STANDARD_BENCH_MAX_STD)
			setf(b.standards[b.n_standards++], sizeof(b.standards[0]), v);
		else
			return cli_usage("standard bench-add: unexpected argument '%s'", argv[i]);
	}
	if (!b.code[0] || !b.uri[0] || !b.kind[0] || !b.positions || !b.n_standards)
		return cli_usage(
			"bench-add needs --code, --uri, --kind, --positions and --standard (see --help)");
	if (!b.name[0])
		setf(b.name, sizeof(b.name), b.code);
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	int64_t id = 0;
	if (standard_bench_add(db, &b, &id, &err))
		return cli_fail(&err);
	if (ctx->json)
		printf("{\"bench_id\":%" PRId64 "}\n", id);
	else
		printf("bench %s registered (id %" PRId64 "), %d positions at %s\n", b.code, id,
		       b.positions, b.uri);
	return CLI_OK;
}

static int bench_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct db *db;
	int rc = cli_start_noargs(ctx, argc, argv,
				  "usage: meterlab standard bench-list [--json]\n\n"
				  "List registered benches and their standards.",
				  &db);
	if (rc || !db)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct bench_rec *v = NULL;
	size_t n = 0;
	if (standard_bench_list(db, &v, &n, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	rc = ctx->json ? ml_buf_putc(&b, '[')
		       : ml_buf_printf(&b, "%-12s %-11s %4s %-28s %s\n", "CODE", "KIND", "POS",
				       "URI", "STANDARDS");
	for (size_t i = 0; i < n && !rc; i++) {
		if (ctx->json) {
			rc = (i && ml_buf_putc(&b, ',')) || ml_buf_putc(&b, '{') ||
			     ml_json_kv_int(&b, 1, "bench_id", v[i].bench_id) ||
			     ml_json_kv_str(&b, 0, "code", v[i].code) ||
			     ml_json_kv_str(&b, 0, "name", v[i].name) ||
			     ml_json_kv_str(&b, 0, "uri", v[i].uri) ||
			     ml_json_kv_str(&b, 0, "kind", v[i].kind) ||
			     ml_json_kv_int(&b, 0, "positions", v[i].positions) ||
			     ml_buf_puts(&b, ",\"standards\":[");
			for (int k = 0; k < v[i].n_standards && !rc; k++)
				rc = (k && ml_buf_putc(&b, ',')) ||
				     ml_json_str(&b, v[i].standards[k]);
			rc = rc || ml_buf_puts(&b, "]}");
		} else {
			rc = ml_buf_printf(&b, "%-12s %-11s %4d %-28s", v[i].code, v[i].kind,
					   v[i].positions, v[i].uri);
			for (int k = 0; k < v[i].n_standards && !rc; k++)
				rc = ml_buf_printf(&b, "%s%s", k ? "," : " ", v[i].standards[k]);
			rc = rc || ml_buf_putc(&b, '\n');
		}
	}
	if (ctx->json && !rc)
		rc = ml_buf_putc(&b, ']');
	free(v);
	return cli_finish(&b, rc, ctx->json);
}

int cmd_standard(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd table[] = {
		{ "add", std_add,
		  "register a reference standard with its calibration certificate" },
		{ "certify", std_certify, "record a recalibration certificate" },
		{ "list", std_list, "list reference standards" },
		{ "show", std_show, "show a standard and its certificate history" },
		{ "bench-add", bench_add,
		  "register a verification bench and the standards it uses" },
		{ "bench-list", bench_list, "list registered benches" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(
		ctx, "standard",
		"Reference standards (traceability) and verification benches.\n"
		"A run starts only when every standard of its bench has a certificate valid on the run date.",
		table, argc, argv);
}
