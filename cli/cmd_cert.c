/*
 * meterlab cert issue|check|approve|show|list|print|verify|revise —
 * verification certificates and result notices (reports/cert_workflow.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/json.h"
#include "reports/cert_doc.h"
#include "reports/cert_source.h"
#include "reports/cert_store.h"
#include "reports/cert_verify.h"
#include "reports/cert_workflow.h"

#define MAX_POS 256
#define MAX_SET 16
#define MAX_THREADS 8

/* Positionals and repeated --set values of one command line (they point into argv). */
struct args {
	const char *pos[MAX_POS];
	int npos;
	const char *sets[MAX_SET];
	int nsets;
};

static int parse_args(int argc, char **argv, const struct cli_opt *opts, struct args *a)
{
	a->npos = 0;
	return cli_parse_opts(argc, argv, opts, a->pos, MAX_POS, &a->npos);
}

/* ---- output ---- */

static const char *kind_name(int kind)
{
	return kind == CERT_KIND_NOTICE ? "notice" : "certificate";
}

static const char *status_of(const struct cert_record *r)
{
	return r->withdrawn ? "withdrawn" : r->superseded_by ? "superseded" : r->state;
}

static int record_json(struct ml_buf *b, const struct cert_record *r, const char *path)
{
	int rc = ml_buf_putc(b, '{');
	rc |= ml_json_kv_int(b, 1, "id", r->id);
	rc |= ml_json_kv_int(b, 0, "asset_id", r->asset_id);
	rc |= r->run_id ? ml_json_kv_int(b, 0, "run_id", r->run_id)
			: ml_json_kv_raw(b, 0, "run_id", "null");
	rc |= ml_json_kv_str(b, 0, "kind", kind_name(r->kind));
	rc |= ml_json_kv_str(b, 0, "state", r->state);
	rc |= ml_json_kv_str(b, 0, "status", status_of(r));
	rc |= ml_json_kv_str(b, 0, "cert_no", r->cert_no[0] ? r->cert_no : NULL);
	rc |= ml_json_kv_int(b, 0, "revision", r->revision);
	rc |= ml_json_kv_str(b, 0, "barcode", r->barcode);
	rc |= ml_json_kv_str(b, 0, "conclusion", r->conclusion);
	rc |= ml_json_kv_str(b, 0, "issuer", r->issuer_id);
	rc |= ml_json_kv_str(b, 0, "verifier", r->verifier);
	rc |= ml_json_kv_str(b, 0, "checker", r->checker[0] ? r->checker : NULL);
	rc |= ml_json_kv_str(b, 0, "approver", r->approver[0] ? r->approver : NULL);
	rc |= ml_json_kv_str(b, 0, "created_at", r->created_at);
	rc |= ml_json_kv_str(b, 0, "checked_at", r->checked_at[0] ? r->checked_at : NULL);
	rc |= ml_json_kv_str(b, 0, "approved_at", r->approved_at[0] ? r->approved_at : NULL);
	rc |= ml_json_kv_str(b, 0, "issued_on", r->issued_on[0] ? r->issued_on : NULL);
	rc |= ml_json_kv_str(b, 0, "verify_code", r->verify_code[0] ? r->verify_code : NULL);
	rc |= ml_json_kv_str(b, 0, "sha256", r->sha256[0] ? r->sha256 : NULL);
	rc |= r->revises_id ? ml_json_kv_int(b, 0, "revises_id", r->revises_id)
			    : ml_json_kv_raw(b, 0, "revises_id", "null");
	rc |= ml_json_kv_str(b, 0, "revise_reason", r->revise_reason[0] ? r->revise_reason : NULL);
	rc |= r->superseded_by ? ml_json_kv_int(b, 0, "superseded_by", r->superseded_by)
			       : ml_json_kv_raw(b, 0, "superseded_by", "null");
	rc |= ml_json_kv_str(b, 0, "withdrawn_at", r->withdrawn ? r->withdrawn_at : NULL);
	rc |= ml_json_kv_str(b, 0, "withdrawn_by", r->withdrawn ? r->withdrawn_by : NULL);
	rc |= ml_json_kv_str(b, 0, "withdraw_reason", r->withdrawn ? r->withdraw_reason : NULL);
	if (path)
		rc |= ml_json_kv_str(b, 0, "path", path);
	return rc | ml_buf_putc(b, '}');
}

static int record_line(struct ml_buf *b, const struct cert_record *r, const char *path)
{
	char no[64];
	if (r->cert_no[0])
		snprintf(no, sizeof(no), "%s/%d", r->cert_no, r->revision);
	else
		snprintf(no, sizeof(no), "-");
	int rc = ml_buf_printf(b, "%-6lld %-11s %-10s %-17s %s %s", r->id, kind_name(r->kind),
			       status_of(r), no, r->barcode, r->conclusion);
	if (path)
		rc |= ml_buf_printf(b, " %s", path);
	return rc | ml_buf_putc(b, '\n');
}

static int record_detail(struct ml_buf *b, const struct cert_record *r)
{
	int rc = ml_buf_printf(b, "id:            %lld\nkind:          %s\nstatus:        %s\n",
			       r->id, kind_name(r->kind), status_of(r));
	rc |= ml_buf_printf(b, "number:        %s\nrevision:      %d\n",
			    r->cert_no[0] ? r->cert_no : "-", r->revision);
	rc |= ml_buf_printf(b, "asset:         %lld (barcode %s)\n", r->asset_id, r->barcode);
	if (r->run_id)
		rc |= ml_buf_printf(b, "run:           %lld\n", r->run_id);
	rc |= ml_buf_printf(b, "conclusion:    %s\nissuer:        %s\n", r->conclusion,
			    r->issuer_id);
	rc |= ml_buf_printf(b, "verifier:      %s (%s)\n", r->verifier, r->created_at);
	if (r->checker[0])
		rc |= ml_buf_printf(b, "checker:       %s (%s)\n", r->checker, r->checked_at);
	if (r->approver[0])
		rc |= ml_buf_printf(b, "approver:      %s (%s)\n", r->approver, r->approved_at);
	if (r->issued_on[0])
		rc |= ml_buf_printf(b, "issued on:     %s\nverify code:   %s\nsha256:        %s\n",
				    r->issued_on, r->verify_code, r->sha256);
	if (r->revises_id)
		rc |= ml_buf_printf(b, "revises:       %lld (reason: %s)\n", r->revises_id,
				    r->revise_reason);
	if (r->superseded_by)
		rc |= ml_buf_printf(b, "superseded by: %lld\n", r->superseded_by);
	if (r->withdrawn)
		rc |= ml_buf_printf(b, "withdrawn:     %s by %s (reason: %s)\n", r->withdrawn_at,
				    r->withdrawn_by, r->withdraw_reason);
	return rc;
}

/* Print records (with optional paths) as a JSON array or lines. */
static int print_records(struct cli_ctx *ctx, const struct cert_record *r, size_t n,
			 char *const *paths)
{
	struct ml_buf b = ML_BUF_INIT;
	int rc = ctx->json ? ml_buf_putc(&b, '[') : ML_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		if (ctx->json && i)
			rc = ml_buf_putc(&b, ',');
		const char *p = paths ? paths[i] : NULL;
		rc |= ctx->json ? record_json(&b, &r[i], p) : record_line(&b, &r[i], p);
	}
	if (ctx->json)
		rc |= ml_buf_putc(&b, ']');
	if (!rc)
		rc = cli_out(&b, ctx->json);
	else
		rc = CLI_INTERNAL;
	ml_buf_free(&b);
	return rc;
}

static int print_ids(struct cli_ctx *ctx, struct db *db, const long long *ids, size_t n,
		     char *const *paths)
{
	struct cert_record *r = calloc(n ? n : 1, sizeof(*r));
	struct ml_error err = ML_ERROR_INIT;
	if (!r)
		return CLI_INTERNAL;
	for (size_t i = 0; i < n; i++) {
		if (cert_get(db, ids[i], &r[i], &err)) {
			free(r);
			return cli_fail(&err);
		}
	}
	int rc = print_records(ctx, r, n, paths);
	free(r);
	return rc;
}

/* ---- files ---- */

/* Write bytes to path via a temporary file and rename, so a reader never sees half a PDF. */
static int write_file(const char *path, const char *data, size_t len, struct ml_error *err)
{
	char tmp[4096];
	char ebuf[128];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return ml_errorf(err, ML_EINVAL, "path '%s' is too long", path);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return ml_errorf(err, ML_EIO, "cannot create '%s': %s", tmp,
				 ml_errno_str(errno, ebuf, sizeof(ebuf)));
	size_t w = fwrite(data, 1, len, f);
	int bad = w != len || fflush(f) != 0 || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return ml_errorf(err, ML_EIO, "cannot write '%s': %s", path,
				 ml_errno_str(e, ebuf, sizeof(ebuf)));
	}
	return ML_OK;
}

static int write_pdf(struct db *db, long long id, const char *path, struct ml_error *err)
{
	struct ml_buf pdf = ML_BUF_INIT;
	int rc = cert_pdf_get(db, id, &pdf, NULL, err);
	if (!rc)
		rc = write_file(path, pdf.data, pdf.len, err);
	ml_buf_free(&pdf);
	return rc;
}

/* DIR/<number>.pdf, or DIR/<number>-r<rev>.pdf for a revision. *path malloc'd. */
static int out_path(const char *dir, const struct cert_record *r, char **path)
{
	size_t len = strlen(dir) + sizeof(r->cert_no) + 32;
	*path = malloc(len);
	if (!*path)
		return ML_ENOMEM;
	if (r->revision)
		snprintf(*path, len, "%s/%s-r%d.pdf", dir, r->cert_no, r->revision);
	else
		snprintf(*path, len, "%s/%s.pdf", dir, r->cert_no);
	return ML_OK;
}

static void free_paths(char **paths, size_t n)
{
	for (size_t i = 0; paths && i < n; i++)
		free(paths[i]);
	free(paths);
}

/* Write every issued certificate among ids into dir; print records with paths. */
static int write_dir_and_print(struct cli_ctx *ctx, struct db *db, const long long *ids, size_t n,
			       const char *dir)
{
	struct ml_error err = ML_ERROR_INIT;
	char **paths = dir ? calloc(n ? n : 1, sizeof(*paths)) : NULL;
	if (dir && !paths)
		return CLI_INTERNAL;
	int rc = ML_OK;
	for (size_t i = 0; dir && i < n && !rc; i++) {
		struct cert_record r;
		rc = cert_get(db, ids[i], &r, &err);
		if (rc || strcmp(r.state, "issued"))
			continue;
		if (out_path(dir, &r, &paths[i]))
			rc = ml_errorf(&err, ML_ENOMEM, "out of memory");
		else
			rc = write_pdf(db, r.id, paths[i], &err);
	}
	int ec = rc ? cli_fail(&err) : print_ids(ctx, db, ids, n, paths);
	free_paths(paths, n);
	return ec;
}

/* ---- renderers ---- */

struct renderers {
	struct cert_renderer *r[MAX_THREADS];
	size_t n;
};

static int renderers_open(struct renderers *rs, const char *threads, struct ml_error *err)
{
	long n = 2; /* the machine's two cores: rendering dominates issuing */
	memset(rs, 0, sizeof(*rs));
	if (threads) {
		long long v;
		if (cli_strtoll(threads, 1, MAX_THREADS, &v))
			return ml_errorf(err, ML_EINVAL, "--threads '%s' is not 1..%d", threads,
					 MAX_THREADS);
		n = (long)v;
	}
	for (long i = 0; i < n; i++) {
		int rc = cert_renderer_new(NULL, &rs->r[i], err);
		if (rc)
			return rc;
		rs->n++;
	}
	return ML_OK;
}

static void renderers_close(struct renderers *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		cert_renderer_free(rs->r[i]);
	rs->n = 0;
}

static int approve_ids(struct db *db, const long long *ids, size_t n, const char *approver,
		       const char *issued_on, const char *threads, struct ml_error *err)
{
	struct renderers rs;
	size_t want = n < 2 && !threads ? 1 : 0;
	int rc = renderers_open(&rs, want ? "1" : threads, err);
	if (!rc) {
		struct cert_issue_opts o = { issued_on, rs.r, rs.n };
		rc = cert_approve(db, ids, n, approver, &o, err);
	}
	renderers_close(&rs);
	return rc;
}

/* ---- commands ---- */

static int resolve_ids(struct db *db, const struct args *a, long long **ids, struct ml_error *err)
{
	*ids = calloc((size_t)(a->npos ? a->npos : 1), sizeof(**ids));
	if (!*ids)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (int i = 0; i < a->npos; i++) {
		struct cert_record r;
		int rc = cert_find(db, a->pos[i], &r, err);
		if (rc)
			return rc;
		(*ids)[i] = r.id;
	}
	return ML_OK;
}

static int cert_check_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab cert check ID... --by NAME [--json]\n\n"
		    "Record NAME as the checker (核验员) of the draft certificates ID (ids or numbers).\n"
		    "The checker must not be the verifier. All or none are checked."))
		return CLI_OK;
	const char *by = NULL;
	const struct cli_opt opts[] = { CLI_OPT("by", &by), CLI_OPT_END };
	struct args a;
	int rc = parse_args(argc, argv, opts, &a);
	if (rc)
		return rc;
	if (!a.npos || !by)
		return cli_usage("cert check needs at least one ID and --by NAME");
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	long long *ids = NULL;
	rc = resolve_ids(db, &a, &ids, &err);
	if (!rc)
		rc = cert_check(db, ids, (size_t)a.npos, by, &err);
	int ec = rc ? cli_fail(&err) : print_ids(ctx, db, ids, (size_t)a.npos, NULL);
	free(ids);
	return ec;
}

static int cert_approve_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab cert approve ID... --by NAME [--issued-on YYYY-MM-DD] [--out-dir DIR]\n"
		    "                              [--threads N] [--json]\n\n"
		    "Sign checked certificates as approver (批准人) and issue them: allocate numbers, render\n"
		    "and store the PDFs. The approver must be neither the verifier nor the checker.\n"
		    "All or none are issued. --out-dir also writes the stored PDFs as DIR/NUMBER.pdf."))
		return CLI_OK;
	const char *by = NULL, *on = NULL, *dir = NULL, *threads = NULL;
	const struct cli_opt opts[] = { CLI_OPT("by", &by), CLI_OPT("issued-on", &on),
					CLI_OPT("out-dir", &dir), CLI_OPT("threads", &threads),
					CLI_OPT_END };
	struct args a;
	int rc = parse_args(argc, argv, opts, &a);
	if (rc)
		return rc;
	if (!a.npos || !by)
		return cli_usage("cert approve needs at least one ID and --by NAME");
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	long long *ids = NULL;
	rc = resolve_ids(db, &a, &ids, &err);
	if (!rc)
		rc = approve_ids(db, ids, (size_t)a.npos, by, on, threads, &err);
	int ec = rc ? cli_fail(&err) : write_dir_and_print(ctx, db, ids, (size_t)a.npos, dir);
	free(ids);
	return ec;
}

static int cert_show_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab cert show ID|NUMBER[/REV] [--json]\n\n"
		    "Show one certificate: by id, by number (the current revision) or NUMBER/REV."))
		return CLI_OK;
	const struct cli_opt opts[] = { CLI_OPT_END };
	struct args a;
	int rc = parse_args(argc, argv, opts, &a);
	if (rc)
		return rc;
	if (a.npos != 1)
		return cli_usage("cert show needs exactly one ID or NUMBER");
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct cert_record r;
	if (cert_find(db, a.pos[0], &r, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	rc = ctx->json ? record_json(&b, &r, NULL) : record_detail(&b, &r);
	return cli_finish(&b, rc, ctx->json);
}

static int cert_list_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab cert list [--run ID] [--asset ID] [--number NUMBER]\n"
		    "                          [--state draft|checked|issued|current|superseded|withdrawn] [--json]\n\n"
		    "List certificates and result notices, oldest first. --state withdrawn lists withdrawn\n"
		    "ones; current = issued, neither superseded nor withdrawn."))
		return CLI_OK;
	const char *run = NULL, *asset = NULL, *state = NULL, *number = NULL;
	const struct cli_opt opts[] = { CLI_OPT("run", &run), CLI_OPT("asset", &asset),
					CLI_OPT("state", &state), CLI_OPT("number", &number),
					CLI_OPT_END };
	struct args a;
	int rc = parse_args(argc, argv, opts, &a);
	if (rc)
		return rc;
	if (a.npos)
		return cli_usage("unexpected argument '%s'", a.pos[0]);
	struct cert_filter f = { .state = state, .cert_no = number };
	int64_t run_id = 0, asset_id = 0;
	if ((run && (rc = cli_parse_id("--run", run, &run_id))) ||
	    (asset && (rc = cli_parse_id("--asset", asset, &asset_id))))
		return rc;
	f.run_id = run_id;
	f.asset_id = asset_id;
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct cert_record *r = NULL;
	size_t n = 0;
	if (cert_list(db, &f, &r, &n, &err))
		return cli_fail(&err);
	rc = print_records(ctx, r, n, NULL);
	free(r);
	return rc;
}

static int cert_print_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab cert print ID|NUMBER[/REV] --out FILE [--json]\n\n"
		    "Write the stored PDF of an issued certificate — the exact issued bytes, checked\n"
		    "against their stored SHA-256, not a new rendering."))
		return CLI_OK;
	const char *out = NULL;
	const struct cli_opt opts[] = { CLI_OPT("out", &out), CLI_OPT_END };
	struct args a;
	int rc = parse_args(argc, argv, opts, &a);
	if (rc)
		return rc;
	if (a.npos != 1 || !out)
		return cli_usage("cert print needs one ID or NUMBER and --out FILE");
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct cert_record r;
	rc = cert_find(db, a.pos[0], &r, &err);
	if (!rc && strcmp(r.state, "issued"))
		rc = ml_errorf(&err, ML_ESTATE,
			       "certificate %lld is a %s: only issued certificates have a PDF",
			       r.id, r.state);
	if (!rc)
		rc = write_pdf(db, r.id, out, &err);
	if (rc)
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	rc = ctx->json ? record_json(&b, &r, out) : record_line(&b, &r, out);
	if (!ctx->json && b.len)
		b.data[--b.len] = '\0'; /* cli_out adds the newline */
	return cli_finish(&b, rc, 1);
}

static int verify_json(struct ml_buf *b, const char *file, const struct cert_verify_result *v,
		       int genuine)
{
	int rc = ml_buf_putc(b, '{');
	rc |= ml_json_kv_str(b, 1, "file", file);
	rc |= ml_json_kv_str(b, 0, "status", cert_verify_status_name(v->status));
	rc |= ml_json_kv_bool(b, 0, "genuine", genuine);
	rc |= ml_json_kv_str(b, 0, "sha256", v->sha256[0] ? v->sha256 : NULL);
	rc |= ml_json_kv_str(b, 0, "claimed_cert_no", v->has_claim ? v->claim.cert_no : NULL);
	rc |= ml_buf_putc(b, ',') | ml_json_key(b, "certificate");
	rc |= v->match.id ? record_json(b, &v->match, NULL) : ml_buf_puts(b, "null");
	rc |= ml_buf_putc(b, ',') | ml_json_key(b, "current");
	rc |= v->current.id ? record_json(b, &v->current, NULL) : ml_buf_puts(b, "null");
	return rc | ml_buf_putc(b, '}');
}

/* One or two lines; a file was hashed when v->sha256 is set, else a printed number/code was checked. */
static int verify_text(struct ml_buf *b, const char *file, const struct cert_verify_result *v,
		       int genuine)
{
	const struct cert_record *m = &v->match;
	if (genuine) {
		int rc = ml_buf_printf(
			b,
			"%s: GENUINE — %s %s revision %d (barcode %s, issued %s, verify code %s)\n",
			file, kind_name(m->kind), m->cert_no, m->revision, m->barcode, m->issued_on,
			m->verify_code);
		if (v->status == CERT_VERIFY_WITHDRAWN)
			return rc | ml_buf_printf(b, "WITHDRAWN on %s by %s: %s — not valid",
						  m->withdrawn_at, m->withdrawn_by,
						  m->withdraw_reason);
		if (v->status == CERT_VERIFY_SUPERSEDED)
			return rc | ml_buf_printf(
					    b, "SUPERSEDED by revision %d (id %lld, issued %s): %s",
					    v->current.revision, v->current.id,
					    v->current.issued_on, v->current.revise_reason);
		return rc | ml_buf_puts(b, "CURRENT: this is the valid revision");
	}
	if (!v->sha256[0] && v->status == CERT_VERIFY_FORGED)
		return ml_buf_printf(
			b,
			"%s: NOT GENUINE — certificate %s exists but the verification code or barcode "
			"does not match",
			file, m->cert_no);
	if (!v->sha256[0])
		return ml_buf_printf(b, "%s: NOT GENUINE — no certificate %s was issued here", file,
				     v->claim.cert_no);
	if (v->status == CERT_VERIFY_FORGED)
		return ml_buf_printf(
			b,
			"%s: NOT GENUINE — claims %s revision %d but differs from the issued document "
			"(sha256 %s)",
			file, m->cert_no, m->revision, v->sha256);
	return ml_buf_printf(b, "%s: NOT GENUINE — matches no certificate issued here (sha256 %s)",
			     file, v->sha256);
}

/* Exit 0 when genuine (current or superseded), 1 when not genuine or withdrawn. */
static int verify_output(struct cli_ctx *ctx, const char *file, const struct cert_verify_result *v)
{
	struct ml_buf b = ML_BUF_INIT;
	int genuine = v->status == CERT_VERIFY_CURRENT || v->status == CERT_VERIFY_SUPERSEDED ||
		      v->status == CERT_VERIFY_WITHDRAWN;
	int rc = ctx->json ? verify_json(&b, file, v, genuine) : verify_text(&b, file, v, genuine);
	rc = cli_finish(&b, rc, 1);
	return rc ? rc : (genuine && v->status != CERT_VERIFY_WITHDRAWN ? CLI_OK : CLI_FAIL);
}

static int read_file(const char *path, struct ml_buf *b, struct ml_error *err)
{
	char ebuf[128];
	FILE *f = fopen(path, "rb");
	if (!f)
		return ml_errorf(err, ML_EIO, "cannot open '%s': %s", path,
				 ml_errno_str(errno, ebuf, sizeof(ebuf)));
	char chunk[65536];
	size_t n;
	int rc = ML_OK;
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = ml_buf_append(b, chunk, n);
	if (!rc && ferror(f))
		rc = ml_errorf(err, ML_EIO, "cannot read '%s'", path);
	else if (rc)
		rc = ml_errorf(err, ML_EINVAL, "'%s' is larger than %zu bytes", path, b->max);
	fclose(f);
	return rc;
}

/* cert verify --number NO[/REV] --code CODE | --qr PAYLOAD */
static int verify_printed(struct cli_ctx *ctx, const char *number, const char *code, const char *qr)
{
	struct ml_error err = ML_ERROR_INIT;
	struct cert_claim c;
	memset(&c, 0, sizeof(c));
	if (qr) {
		if (cert_qr_parse(qr, strlen(qr), &c, &err))
			return cli_fail(&err);
	} else {
		const char *slash = strchr(number, '/');
		size_t nl = slash ? (size_t)(slash - number) : strlen(number);
		if (nl == 0 || nl >= sizeof(c.cert_no) || strlen(code) >= sizeof(c.code))
			return cli_usage(
				"--number '%s' / --code '%s' are not a certificate number and code",
				number, code);
		long long rev = -1;
		if (slash && cli_strtoll(slash + 1, 0, 9999, &rev))
			return cli_usage("--number '%s': revision '%s' is not a number 0..9999",
					 number, slash + 1);
		memcpy(c.cert_no, number, nl);
		c.revision = (int)rev;
		snprintf(c.code, sizeof(c.code), "%s", code);
	}
	struct db *db;
	int rc = cli_db(ctx, &db);
	if (rc)
		return rc;
	struct cert_verify_result v;
	if (cert_verify_claim(db, &c, &v, &err))
		return cli_fail(&err);
	return verify_output(ctx, qr ? "QR payload" : c.cert_no, &v);
}

static int cert_verify_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab cert verify FILE.pdf [--json]\n"
		    "       meterlab cert verify --number NUMBER[/REV] --code CODE [--json]\n"
		    "       meterlab cert verify --qr PAYLOAD [--json]\n\n"
		    "Check a presented PDF against the issued documents: genuine only when it matches a\n"
		    "stored issued PDF byte for byte (SHA-256). Or check the number and verification code\n"
		    "printed on a paper certificate, or the text scanned from its QR code. Reports current\n"
		    "or superseded (and by which revision). Exit 0 when genuine, 1 when not genuine\n"
		    "(forged or unknown) or withdrawn."))
		return CLI_OK;
	const char *number = NULL, *code = NULL, *qr = NULL;
	const struct cli_opt opts[] = { CLI_OPT("number", &number), CLI_OPT("code", &code),
					CLI_OPT("qr", &qr), CLI_OPT_END };
	struct args a;
	int rc = parse_args(argc, argv, opts, &a);
	if (rc)
		return rc;
	if (qr || number || code) {
		if (a.npos || (qr && (number || code)) || (!qr && (!number || !code)))
			return cli_usage(
				"cert verify takes FILE, or --number with --code, or --qr");
		return verify_printed(ctx, number, code, qr);
	}
	if (a.npos != 1)
		return cli_usage("cert verify needs exactly one FILE");
	struct ml_error err = ML_ERROR_INIT;
	struct ml_buf pdf;
	ml_buf_init(&pdf, (size_t)64 << 20); /* no certificate is 64 MiB */
	if (read_file(a.pos[0], &pdf, &err)) {
		ml_buf_free(&pdf);
		return cli_fail(&err);
	}
	struct db *db;
	if ((rc = cli_db(ctx, &db))) {
		ml_buf_free(&pdf);
		return rc;
	}
	struct cert_verify_result v;
	rc = cert_verify_pdf(db, pdf.data ? pdf.data : "", pdf.len, &v, &err);
	ml_buf_free(&pdf);
	return rc ? cli_fail(&err) : verify_output(ctx, a.pos[0], &v);
}

/* "field=value" -> override (pointers into the argument). */
static int split_sets(const struct args *a, struct cert_override *ov, char *store, size_t store_len)
{
	size_t used = 0;
	for (int i = 0; i < a->nsets; i++) {
		const char *eq = strchr(a->sets[i], '=');
		size_t kl = eq ? (size_t)(eq - a->sets[i]) : 0;
		if (!eq || !kl || used + kl + 1 > store_len)
			return cli_usage("--set '%s' is not FIELD=VALUE", a->sets[i]);
		memcpy(store + used, a->sets[i], kl);
		store[used + kl] = '\0';
		ov[i] = (struct cert_override){ store + used, eq + 1 };
		used += kl + 1;
	}
	return CLI_OK;
}

static int cert_revise_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab cert revise ID|NUMBER --reason TEXT --by NAME [--set FIELD=VALUE]...\n"
		    "                            [--checker NAME --approver NAME [--issued-on DATE] [--out-dir DIR]]\n"
		    "                            [--json]\n\n"
		    "Correct an issued certificate: a new revision with the same number supersedes it when\n"
		    "issued; the old one stays stored, unchanged, and is reported as superseded.\n"
		    "NAME (--by) is the revision's verifier. FIELD: client, place, temperature, humidity,\n"
		    "record_no, model, spec, manufacturer, instrument, verified_on, valid_until.\n"
		    "With --checker and --approver the revision is checked and issued at once."))
		return CLI_OK;
	const char *reason = NULL, *by = NULL, *checker = NULL, *approver = NULL, *on = NULL,
		   *dir = NULL;
	struct args a = { .nsets = 0 };
	const struct cli_opt opts[] = { CLI_OPT("reason", &reason),
					CLI_OPT("by", &by),
					CLI_LIST("set", a.sets, &a.nsets, MAX_SET),
					CLI_OPT("checker", &checker),
					CLI_OPT("approver", &approver),
					CLI_OPT("issued-on", &on),
					CLI_OPT("out-dir", &dir),
					CLI_OPT_END };
	int rc = parse_args(argc, argv, opts, &a);
	if (rc)
		return rc;
	if (a.npos != 1 || !reason || !by)
		return cli_usage("cert revise needs one ID or NUMBER, --reason TEXT and --by NAME");
	if (approver && !checker)
		return cli_usage(
			"--approver needs --checker (a revision is checked before it is approved)");
	struct ml_error err = ML_ERROR_INIT;
	/* Refuse a doomed carry-through before the revision draft is created. */
	if ((checker && !strcmp(checker, by)) ||
	    (approver && (!strcmp(approver, by) || !strcmp(approver, checker)))) {
		ml_errorf(
			&err, ML_ESTATE,
			"the reviser (%s), checker (%s) and approver (%s) must be three different "
			"people",
			by, checker, approver ? approver : "-");
		return cli_fail(&err);
	}
	struct cert_override ov[MAX_SET];
	char keys[1024];
	if ((rc = split_sets(&a, ov, keys, sizeof(keys))))
		return rc;
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct cert_record r;
	long long nid = 0;
	rc = cert_find(db, a.pos[0], &r, &err);
	if (!rc)
		rc = cert_revise(db, r.id, reason, by, ov, (size_t)a.nsets, &nid, &err);
	if (!rc && checker)
		rc = cert_check(db, &nid, 1, checker, &err);
	if (!rc && approver)
		rc = approve_ids(db, &nid, 1, approver, on, NULL, &err);
	return rc ? cli_fail(&err) : write_dir_and_print(ctx, db, &nid, 1, dir);
}

/* Ids among the run's originals that are in state st. */
static size_t ids_in_state(struct db *db, const long long *ids, size_t n, const char *st,
			   long long *out, struct ml_error *err, int *rc)
{
	size_t m = 0;
	for (size_t i = 0; i < n && !*rc; i++) {
		struct cert_record r;
		*rc = cert_get(db, ids[i], &r, err);
		if (!*rc && !strcmp(r.state, st))
			out[m++] = ids[i];
	}
	return m;
}

static int issue_run(struct db *db, long long run, const char *by, const char *issuer,
		     const char *checker, const char *approver, const char *on, const char *threads,
		     long long **ids, size_t *n, struct ml_error *err)
{
	size_t created = 0;
	int rc = cert_source_drafts(db, run, by, issuer, ids, n, &created, err);
	long long *sel = rc ? NULL : calloc(*n ? *n : 1, sizeof(*sel));
	if (!rc && !sel)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	if (!rc && checker) {
		size_t m = ids_in_state(db, *ids, *n, "draft", sel, err, &rc);
		if (!rc && m)
			rc = cert_check(db, sel, m, checker, err);
	}
	if (!rc && approver) {
		size_t m = ids_in_state(db, *ids, *n, "checked", sel, err, &rc);
		if (!rc && m)
			rc = approve_ids(db, sel, m, approver, on, threads, err);
	}
	free(sel);
	return rc;
}

static int cert_issue_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab cert issue --run ID [--by VERIFIER] [--issuer ID]\n"
		    "                           [--checker NAME [--approver NAME]] [--issued-on YYYY-MM-DD]\n"
		    "                           [--out-dir DIR] [--threads N] [--json]\n\n"
		    "Create draft certificates (合格) and result notices (不合格) for every asset of a finished\n"
		    "run (the verifier is the run's operator unless --by). With --checker the drafts are\n"
		    "checked, with --approver also issued (three different people). --out-dir writes the\n"
		    "issued PDFs as DIR/NUMBER.pdf; each line shows id, kind, status, number, barcode,\n"
		    "conclusion and path. Repeating the command continues where it stopped."))
		return CLI_OK;
	const char *run = NULL, *by = NULL, *issuer = NULL, *checker = NULL, *approver = NULL,
		   *on = NULL, *dir = NULL, *threads = NULL;
	const struct cli_opt opts[] = { CLI_OPT("run", &run),
					CLI_OPT("by", &by),
					CLI_OPT("issuer", &issuer),
					CLI_OPT("checker", &checker),
					CLI_OPT("approver", &approver),
					CLI_OPT("issued-on", &on),
					CLI_OPT("out-dir", &dir),
					CLI_OPT("threads", &threads),
					CLI_OPT_END };
	struct args a;
	int64_t run_id = 0;
	int rc = parse_args(argc, argv, opts, &a);
	if (rc)
		return rc;
	if (a.npos)
		return cli_usage("unexpected argument '%s'", a.pos[0]);
	if (!run)
		return cli_usage("cert issue needs --run ID");
	if ((rc = cli_parse_id("--run", run, &run_id)))
		return rc;
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	long long *ids = NULL;
	size_t n = 0;
	rc = issue_run(db, run_id, by, issuer, checker, approver, on, threads, &ids, &n, &err);
	int ec = rc ? cli_fail(&err) : write_dir_and_print(ctx, db, ids, n, dir);
	free(ids);
	return ec;
}

static int cert_withdraw_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab cert withdraw ID|NUMBER --reason TEXT --by NAME [--json]\n\n"
		    "Withdraw (作废) an issued, current certificate without a replacement (e.g. issued for\n"
		    "the wrong asset). The certificate and its PDF stay stored unchanged; a presented copy\n"
		    "then verifies as genuine but withdrawn (exit 1). To correct one, use 'cert revise'."))
		return CLI_OK;
	const char *reason = NULL, *by = NULL;
	const struct cli_opt opts[] = { CLI_OPT("reason", &reason), CLI_OPT("by", &by),
					CLI_OPT_END };
	struct args a;
	int rc = parse_args(argc, argv, opts, &a);
	if (rc)
		return rc;
	if (a.npos != 1 || !reason || !by)
		return cli_usage(
			"cert withdraw needs one ID or NUMBER, --reason TEXT and --by NAME");
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct cert_record r;
	rc = cert_find(db, a.pos[0], &r, &err);
	if (!rc)
		rc = cert_withdraw(db, r.id, reason, by, &err);
	return rc ? cli_fail(&err) : print_ids(ctx, db, &r.id, 1, NULL);
}

static int cert_discard_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_help(
		    argc, argv,
		    "usage: meterlab cert discard ID --reason TEXT --by NAME [--json]\n\n"
		    "Discard a draft or checked certificate that will not be issued (e.g. an abandoned\n"
		    "revision). It is kept in an append-only log with the reason; issued certificates are\n"
		    "never discarded (use 'cert withdraw' or 'cert revise')."))
		return CLI_OK;
	const char *reason = NULL, *by = NULL;
	const struct cli_opt opts[] = { CLI_OPT("reason", &reason), CLI_OPT("by", &by),
					CLI_OPT_END };
	struct args a;
	int64_t id = 0;
	int rc = parse_args(argc, argv, opts, &a);
	if (rc)
		return rc;
	if (a.npos != 1 || !reason || !by)
		return cli_usage("cert discard needs one ID, --reason TEXT and --by NAME");
	if ((rc = cli_parse_id("certificate id", a.pos[0], &id)))
		return rc;
	struct db *db;
	if ((rc = cli_db(ctx, &db)))
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	if (cert_discard(db, id, reason, by, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	rc = ctx->json ? ml_buf_printf(&b, "{\"discarded\":%lld}", (long long)id)
		       : ml_buf_printf(&b, "discarded draft %lld", (long long)id);
	return cli_finish(&b, rc, 1);
}

static int issuer_out(struct cli_ctx *ctx, const PGresult *res)
{
	static const char *const cols[] = {
		"id",  "name",  "authorization_no", "address",        "postcode",  "phone",
		"fax", "email", "number_prefix",    "default_client", "is_default"
	};
	struct ml_buf b = ML_BUF_INIT;
	int rc = ctx->json ? ml_buf_putc(&b, '[') : ML_OK;
	for (int i = 0; i < PQntuples(res) && !rc; i++) {
		if (ctx->json)
			rc = ml_buf_puts(&b, i ? ",{" : "{");
		for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]) && !rc; c++) {
			if (ctx->json)
				rc = ml_json_kv_str(&b, c == 0, cols[c], db_get(res, i, cols[c]));
			else
				rc = ml_buf_printf(&b, "%-17s %s\n", cols[c],
						   db_get(res, i, cols[c]));
		}
		rc |= ctx->json ? ml_buf_putc(&b, '}') : ml_buf_putc(&b, '\n');
	}
	if (ctx->json)
		rc |= ml_buf_putc(&b, ']');
	return cli_finish(&b, rc, ctx->json);
}

static int cert_issuer_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct db *db;
	int rc = cli_start_noargs(
		ctx, argc, argv,
		"usage: meterlab cert issuer [--json]\n\n"
		"Show the issuing bodies printed on certificates (name, authorisation number, address,\n"
		"numbering prefix). They are configuration: the owner role edits table issuer. The key\n"
		"behind the verification codes is never shown.",
		&db);
	if (rc || !db)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	PGresult *res = NULL;
	if (db_exec(db,
		    "SELECT id, name, authorization_no, address, postcode, phone, fax, email, number_prefix, "
		    "default_client, CASE WHEN is_default THEN 'yes' ELSE 'no' END AS is_default FROM issuer ORDER BY id",
		    0, NULL, PGRES_TUPLES_OK, &res, &err))
		return cli_fail(&err);
	rc = issuer_out(ctx, res);
	PQclear(res);
	return rc;
}

int cmd_cert(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd table[] = {
		{ "issue", cert_issue_cmd,
		  "draft (and check/issue) the certificates of a finished run" },
		{ "check", cert_check_cmd, "sign drafts as checker (核验员)" },
		{ "approve", cert_approve_cmd,
		  "sign as approver (批准人) and issue: number, PDF, hash" },
		{ "show", cert_show_cmd, "show one certificate by id or number" },
		{ "list", cert_list_cmd, "list certificates (by run, asset, state, number)" },
		{ "print", cert_print_cmd, "write the stored PDF of an issued certificate" },
		{ "verify", cert_verify_cmd,
		  "check a presented PDF: genuine, current, superseded" },
		{ "revise", cert_revise_cmd, "correct an issued certificate with a new revision" },
		{ "withdraw", cert_withdraw_cmd,
		  "withdraw (作废) an issued certificate without replacement" },
		{ "discard", cert_discard_cmd, "discard a draft that will not be issued (logged)" },
		{ "issuer", cert_issuer_cmd, "show the issuing bodies printed on certificates" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(
		ctx, "cert",
		"Verification certificates (检定证书) and result notices (检定结果通知书):\n"
		"draft -> checked -> issued, three different signers, gap-free numbers,\n"
		"immutable stored PDFs, revisions, verification.",
		table, argc, argv);
}
