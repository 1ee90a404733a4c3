/*
 * meterlab cert issue|check|approve|show|list|print|verify|revise|withdraw|
 * discard|backdate|issuer — verification certificates and result notices
 * (reports/cert_workflow.h). Each person runs their own step as themselves
 * (their database login): there is no option naming a signer or a date.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/json.h"
#include "field/field.h"
#include "reports/cert_doc.h"
#include "reports/cert_source.h"
#include "reports/cert_store.h"
#include "reports/cert_verify.h"
#include "reports/cert_workflow.h"

#define MAX_POS 256
#define MAX_SET 16

/* Options of every cert subcommand; each row's table says which it takes. */
struct cert_args {
	const char *dir, *threads, *run, *asset, *state, *number, *out, *code, *qr, *reason,
		*issuer, *date;
	const char *sets[MAX_SET];
	int nsets;
	int64_t run_id, asset_id, id; /* filled by the check functions */
};

/* ---- output ---- */

static const char *kind_name(int kind)
{
	return kind == CERT_KIND_NOTICE ? "notice" : "certificate";
}

static const char *status_of(const struct cert_record *r)
{
	if (r->withdrawn)
		return "withdrawn";
	return r->superseded_by ? "superseded" : r->state;
}

/* "key":id, or "key":null when id is 0. */
static void kv_id(struct ml_buf *b, const char *key, long long id)
{
	if (id)
		ml_json_kv_int(b, 0, key, id);
	else
		ml_json_kv_raw(b, 0, key, "null");
}

/* "key":"s", or "key":null when s is empty (or when !when). */
static void kv_opt(struct ml_buf *b, const char *key, const char *s, int when)
{
	ml_json_kv_str(b, 0, key, when && s[0] ? s : NULL);
}

static void record_json(struct ml_buf *b, const struct cert_record *r, const char *path)
{
	ml_buf_putc(b, '{');
	ml_json_kv_int(b, 1, "id", r->id);
	ml_json_kv_int(b, 0, "asset_id", r->asset_id);
	kv_id(b, "run_id", r->run_id);
	ml_json_kv_str(b, 0, "kind", kind_name(r->kind));
	ml_json_kv_str(b, 0, "state", r->state);
	ml_json_kv_str(b, 0, "status", status_of(r));
	kv_opt(b, "cert_no", r->cert_no, 1);
	ml_json_kv_int(b, 0, "revision", r->revision);
	ml_json_kv_str(b, 0, "barcode", r->barcode);
	ml_json_kv_str(b, 0, "conclusion", r->conclusion);
	ml_json_kv_str(b, 0, "issuer", r->issuer_id);
	ml_json_kv_str(b, 0, "verifier", r->verifier);
	kv_opt(b, "verifier_login", r->verifier_login, 1);
	kv_opt(b, "checker", r->checker, 1);
	kv_opt(b, "checker_login", r->checker_login, 1);
	kv_opt(b, "approver", r->approver, 1);
	kv_opt(b, "approver_login", r->approver_login, 1);
	ml_json_kv_str(b, 0, "created_at", r->created_at);
	kv_opt(b, "checked_at", r->checked_at, 1);
	kv_opt(b, "approved_at", r->approved_at, 1);
	kv_opt(b, "issued_on", r->issued_on, 1);
	kv_opt(b, "verify_code", r->verify_code, 1);
	kv_opt(b, "sha256", r->sha256, 1);
	kv_id(b, "revises_id", r->revises_id);
	kv_opt(b, "revise_reason", r->revise_reason, 1);
	kv_id(b, "superseded_by", r->superseded_by);
	/* withdrawal fields only for a withdrawn one (empty strings are kept) */
	ml_json_kv_str(b, 0, "withdrawn_at", r->withdrawn ? r->withdrawn_at : NULL);
	ml_json_kv_str(b, 0, "withdrawn_by", r->withdrawn ? r->withdrawn_by : NULL);
	ml_json_kv_str(b, 0, "withdraw_reason", r->withdrawn ? r->withdraw_reason : NULL);
	/* an issue date recorded by an administrator (ml_cert_backdate) */
	ml_json_kv_str(b, 0, "backdated_on", r->backdated ? r->backdated_on : NULL);
	ml_json_kv_str(b, 0, "backdated_by", r->backdated ? r->backdated_by : NULL);
	ml_json_kv_str(b, 0, "backdate_reason", r->backdated ? r->backdate_reason : NULL);
	if (path)
		ml_json_kv_str(b, 0, "path", path);
	ml_buf_putc(b, '}');
}

static void record_line(struct ml_buf *b, const struct cert_record *r, const char *path)
{
	char no[64];
	if (r->cert_no[0])
		snprintf(no, sizeof(no), "%s/%d", r->cert_no, r->revision);
	else
		snprintf(no, sizeof(no), "-");
	ml_buf_printf(b, "%-6lld %-11s %-10s %-17s %s %s", r->id, kind_name(r->kind), status_of(r),
		      no, r->barcode, r->conclusion);
	if (path)
		ml_buf_printf(b, " %s", path);
	ml_buf_putc(b, '\n');
}

static void record_detail(struct ml_buf *b, const struct cert_record *r)
{
	ml_buf_printf(b, "id:            %lld\nkind:          %s\nstatus:        %s\n", r->id,
		      kind_name(r->kind), status_of(r));
	ml_buf_printf(b, "number:        %s\nrevision:      %d\n", r->cert_no[0] ? r->cert_no : "-",
		      r->revision);
	ml_buf_printf(b, "asset:         %lld (barcode %s)\n", r->asset_id, r->barcode);
	if (r->run_id)
		ml_buf_printf(b, "run:           %lld\n", r->run_id);
	ml_buf_printf(b, "conclusion:    %s\nissuer:        %s\n", r->conclusion, r->issuer_id);
	ml_buf_printf(b, "verifier:      %s [%s] (%s)\n", r->verifier, r->verifier_login,
		      r->created_at);
	if (r->checker[0])
		ml_buf_printf(b, "checker:       %s [%s] (%s)\n", r->checker, r->checker_login,
			      r->checked_at);
	if (r->approver[0])
		ml_buf_printf(b, "approver:      %s [%s] (%s)\n", r->approver, r->approver_login,
			      r->approved_at);
	if (r->issued_on[0])
		ml_buf_printf(b, "issued on:     %s\nverify code:   %s\nsha256:        %s\n",
			      r->issued_on, r->verify_code, r->sha256);
	if (r->backdated)
		ml_buf_printf(b, "back-dated:    issue date %s recorded by %s on %s (reason: %s)\n",
			      r->backdated_on, r->backdated_by, r->backdated_at,
			      r->backdate_reason);
	if (r->revises_id)
		ml_buf_printf(b, "revises:       %lld (reason: %s)\n", r->revises_id,
			      r->revise_reason);
	if (r->superseded_by)
		ml_buf_printf(b, "superseded by: %lld\n", r->superseded_by);
	if (r->withdrawn)
		ml_buf_printf(b, "withdrawn:     %s by %s (reason: %s)\n", r->withdrawn_at,
			      r->withdrawn_by, r->withdraw_reason);
}

/* Print records (with optional paths) as a JSON array or lines. */
static int print_records(struct cli_ctx *ctx, struct cli_call *c, const struct cert_record *r,
			 size_t n, char *const *paths)
{
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json)
		ml_buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		const char *p = paths ? paths[i] : NULL;
		if (ctx->json && i)
			ml_buf_putc(&b, ',');
		if (ctx->json)
			record_json(&b, &r[i], p);
		else
			record_line(&b, &r[i], p);
	}
	if (ctx->json)
		ml_buf_putc(&b, ']');
	int rc = cli_emit(c, &b, ctx->json);
	ml_buf_free(&b);
	return rc;
}

static int print_ids(struct cli_ctx *ctx, struct cli_call *c, const long long *ids, size_t n,
		     char *const *paths)
{
	struct cert_record *r = calloc(n ? n : 1, sizeof(*r));
	int rc = r ? ML_OK : ml_errorf(&c->err, ML_ENOMEM, "out of memory (%zu records)", n);
	for (size_t i = 0; i < n && !rc; i++)
		rc = cert_get(c->db, ids[i], &r[i], &c->err);
	if (rc)
		goto out;
	rc = print_records(ctx, c, r, n, paths);
out:
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
	if (rc)
		goto out;
	rc = write_file(path, pdf.data, pdf.len, err);
out:
	ml_buf_free(&pdf);
	return rc;
}

/* DIR/<number>.pdf, or DIR/<number>-r<rev>.pdf for a revision. *path malloc'd (caller frees). */
static int out_path(const char *dir, const struct cert_record *r, char **path, struct ml_error *err)
{
	size_t len = strlen(dir) + sizeof(r->cert_no) + 32;
	*path = malloc(len);
	if (!*path)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
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

/* Write every issued certificate among ids into dir (when given); print records with paths. */
static int write_dir_and_print(struct cli_ctx *ctx, struct cli_call *c, const long long *ids,
			       size_t n, const char *dir)
{
	char **paths = NULL;
	int rc = ML_OK;
	if (dir && !(paths = calloc(n ? n : 1, sizeof(*paths)))) {
		rc = ml_errorf(&c->err, ML_ENOMEM, "out of memory (%zu paths)", n);
		goto out;
	}
	for (size_t i = 0; dir && i < n; i++) {
		struct cert_record r;
		rc = cert_get(c->db, ids[i], &r, &c->err);
		if (rc)
			goto out;
		if (r.st != CERT_ISSUED)
			continue;
		rc = out_path(dir, &r, &paths[i], &c->err);
		if (rc)
			goto out;
		rc = write_pdf(c->db, r.id, paths[i], &c->err);
		if (rc)
			goto out;
	}
	rc = print_ids(ctx, c, ids, n, paths);
out:
	free_paths(paths, n);
	return rc;
}

static int approve_ids(struct db *db, const long long *ids, size_t n, const char *threads,
		       struct ml_error *err)
{
	long long t = n < 2 && !threads ? 1 : 2; /* the machine's two cores: rendering dominates */
	if (threads && cli_strtoll(threads, 1, CERT_APPROVE_MAX_THREADS, &t))
		return ml_errorf(err, ML_EINVAL, "--threads '%s' is not 1..%d", threads,
				 CERT_APPROVE_MAX_THREADS);
	return cert_state_change(db, ids, n, CERT_CHECKED, CERT_ISSUED, (int)t, err);
}

/* ---- commands ---- */

/*
 * The certificates a check or an approval is about: the positionals (ids or
 * numbers), or with --run the run's certificates in state st (its drafts for
 * the checker, its checked ones for the approver). *ids malloc'd (caller frees).
 */
static int resolve_ids(struct cli_call *c, enum cert_state st, long long **ids, size_t *n)
{
	const struct cert_args *a = c->args;
	*n = 0;
	if (a->run)
		return cert_ids_of_run(c->db, a->run_id, cert_state_name(st), ids, n, &c->err);
	*ids = calloc((size_t)(c->npos ? c->npos : 1), sizeof(**ids));
	if (!*ids)
		return ml_errorf(&c->err, ML_ENOMEM, "out of memory");
	for (int i = 0; i < c->npos; i++) {
		struct cert_record r;
		int rc = cert_find(c->db, c->pos[i], &r, &c->err);
		if (rc)
			return rc;
		(*ids)[(*n)++] = r.id;
	}
	return ML_OK;
}

/* IDs... or --run RUN, not both. */
static int check_ids_or_run(struct cli_ctx *ctx, struct cli_call *c)
{
	struct cert_args *a = c->args;
	(void)ctx;
	if (!c->npos == !a->run)
		return cli_call_usage(c, "%s needs certificate IDs or --run RUN (not both)",
				      c->path);
	return a->run ? cli_parse_id(c, "--run", a->run, &a->run_id) : ML_OK;
}

static int cert_check_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	long long *ids = NULL;
	size_t n = 0;
	int rc = resolve_ids(c, CERT_DRAFT, &ids, &n);
	if (rc)
		goto out;
	rc = cert_state_change(c->db, ids, n, CERT_DRAFT, CERT_CHECKED, 0, &c->err);
	if (rc)
		goto out;
	rc = print_ids(ctx, c, ids, n, NULL);
out:
	free(ids);
	return rc;
}

static int cert_approve_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct cert_args *a = c->args;
	long long *ids = NULL;
	size_t n = 0;
	int rc = resolve_ids(c, CERT_CHECKED, &ids, &n);
	if (rc)
		goto out;
	rc = approve_ids(c->db, ids, n, a->threads, &c->err);
	if (rc)
		goto out;
	rc = write_dir_and_print(ctx, c, ids, n, a->dir);
out:
	free(ids);
	return rc;
}

/* The complaints a certificate answered as an arbitration verification
 * (field/, 0229): a text line each, or a JSON member "arbitration". */
static void arbitration_detail(struct ml_buf *b, const PGresult *res, int json)
{
	if (!PQntuples(res))
		return;
	if (json)
		ml_buf_puts(b, ",\"arbitration\":[");
	for (int i = 0; i < PQntuples(res); i++) {
		if (json) {
			ml_buf_puts(b, i ? ",{" : "{");
			ml_json_kv_int(b, 1, "fault_id",
				       strtoll(db_get(res, i, "fault_id"), NULL, 10));
			ml_json_kv_str(b, 0, "complaint", db_get(res, i, "complaint"));
			ml_json_kv_str(b, 0, "reported_on", db_get(res, i, "reported_on"));
			ml_buf_putc(b, '}');
		} else {
			ml_buf_printf(b, "arbitration:   complaint %s (fault report %s of %s)\n",
				      db_get(res, i, "complaint"), db_get(res, i, "fault_id"),
				      db_get(res, i, "reported_on"));
		}
	}
	if (json)
		ml_buf_putc(b, ']');
}

static int cert_show_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	struct cert_record r;
	PGresult *arb = NULL;
	int rc = cert_find(c->db, c->pos[0], &r, &c->err);
	if (rc)
		goto out;
	rc = field_cert_arbitration(c->db, r.id, &arb, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		record_json(&b, &r, NULL);
		if (b.len && b.data[b.len - 1] == '}') { /* one more member before the close */
			b.len--;
			arbitration_detail(&b, arb, 1);
			ml_buf_putc(&b, '}');
		}
	} else {
		record_detail(&b, &r);
		arbitration_detail(&b, arb, 0);
	}
	rc = cli_emit(c, &b, ctx->json);
out:
	PQclear(arb);
	ml_buf_free(&b);
	return rc;
}

static int check_list(struct cli_ctx *ctx, struct cli_call *c)
{
	struct cert_args *a = c->args;
	(void)ctx;
	int rc;
	if (a->run && (rc = cli_parse_id(c, "--run", a->run, &a->run_id)))
		return rc;
	if (a->asset && (rc = cli_parse_id(c, "--asset", a->asset, &a->asset_id)))
		return rc;
	return ML_OK;
}

static int cert_list_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct cert_args *a = c->args;
	struct cert_filter f = { .state = a->state, .cert_no = a->number };
	struct cert_record *r = NULL;
	size_t n = 0;
	f.run_id = a->run_id;
	f.asset_id = a->asset_id;
	int rc = cert_list(c->db, &f, &r, &n, &c->err);
	if (rc)
		goto out;
	rc = print_records(ctx, c, r, n, NULL);
out:
	free(r);
	return rc;
}

static int cert_print_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	const struct cert_args *a = c->args;
	struct cert_record r;
	int rc = cert_find(c->db, c->pos[0], &r, &c->err);
	if (rc)
		goto out;
	if (r.st != CERT_ISSUED) {
		rc = ml_errorf(&c->err, ML_ESTATE,
			       "certificate %lld is a %s: only issued certificates have a PDF",
			       r.id, r.state);
		goto out;
	}
	rc = write_pdf(c->db, r.id, a->out, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		record_json(&b, &r, a->out);
	} else {
		record_line(&b, &r, a->out);
		if (b.len)
			b.data[--b.len] = '\0'; /* cli_emit adds the newline */
	}
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

static void verify_json(struct ml_buf *b, const char *file, const struct cert_verify_result *v,
			int genuine)
{
	ml_buf_putc(b, '{');
	ml_json_kv_str(b, 1, "file", file);
	ml_json_kv_str(b, 0, "status", cert_verify_status_name(v->status));
	ml_json_kv_bool(b, 0, "genuine", genuine);
	ml_json_kv_str(b, 0, "sha256", v->sha256[0] ? v->sha256 : NULL);
	ml_json_kv_str(b, 0, "claimed_cert_no", v->has_claim ? v->claim.cert_no : NULL);
	ml_buf_putc(b, ',');
	ml_json_key(b, "certificate");
	if (v->match.id)
		record_json(b, &v->match, NULL);
	else
		ml_buf_puts(b, "null");
	ml_buf_putc(b, ',');
	ml_json_key(b, "current");
	if (v->current.id)
		record_json(b, &v->current, NULL);
	else
		ml_buf_puts(b, "null");
	ml_buf_putc(b, '}');
}

/* One or two lines; a file was hashed when v->sha256 is set, else a printed number/code was checked. */
static void verify_text(struct ml_buf *b, const char *file, const struct cert_verify_result *v,
			int genuine)
{
	const struct cert_record *m = &v->match;
	if (genuine) {
		ml_buf_printf(
			b,
			"%s: GENUINE — %s %s revision %d (barcode %s, issued %s, verify code %s)\n",
			file, kind_name(m->kind), m->cert_no, m->revision, m->barcode, m->issued_on,
			m->verify_code);
		if (v->status == CERT_VERIFY_WITHDRAWN)
			ml_buf_printf(b, "WITHDRAWN on %s by %s: %s — not valid", m->withdrawn_at,
				      m->withdrawn_by, m->withdraw_reason);
		else if (v->status == CERT_VERIFY_SUPERSEDED)
			ml_buf_printf(b, "SUPERSEDED by revision %d (id %lld, issued %s): %s",
				      v->current.revision, v->current.id, v->current.issued_on,
				      v->current.revise_reason);
		else
			ml_buf_puts(b, "CURRENT: this is the valid revision");
	} else if (!v->sha256[0] && v->status == CERT_VERIFY_FORGED) {
		ml_buf_printf(
			b,
			"%s: NOT GENUINE — certificate %s exists but the verification code or barcode "
			"does not match",
			file, m->cert_no);
	} else if (!v->sha256[0]) {
		ml_buf_printf(b, "%s: NOT GENUINE — no certificate %s was issued here", file,
			      v->claim.cert_no);
	} else if (v->status == CERT_VERIFY_FORGED) {
		ml_buf_printf(
			b,
			"%s: NOT GENUINE — claims %s revision %d but differs from the issued document "
			"(sha256 %s)",
			file, m->cert_no, m->revision, v->sha256);
	} else {
		ml_buf_printf(b, "%s: NOT GENUINE — matches no certificate issued here (sha256 %s)",
			      file, v->sha256);
	}
}

/* Exit 0 when genuine (current or superseded), 1 when not genuine or withdrawn. */
static int verify_output(struct cli_ctx *ctx, struct cli_call *c, const char *file,
			 const struct cert_verify_result *v)
{
	struct ml_buf b = ML_BUF_INIT;
	int genuine = v->status == CERT_VERIFY_CURRENT || v->status == CERT_VERIFY_SUPERSEDED ||
		      v->status == CERT_VERIFY_WITHDRAWN;
	if (ctx->json)
		verify_json(&b, file, v, genuine);
	else
		verify_text(&b, file, v, genuine);
	int rc = cli_emit(c, &b, 1);
	ml_buf_free(&b);
	if (!genuine || v->status == CERT_VERIFY_WITHDRAWN)
		c->exit = CLI_FAIL;
	return rc;
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
	while (!ml_buf_failed(b) && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ml_buf_append(b, chunk, n);
	if (ml_buf_failed(b))
		rc = ml_errorf(err, ML_EINVAL, "'%s' is larger than %zu bytes", path, b->max);
	else if (ferror(f))
		rc = ml_errorf(err, ML_EIO, "cannot read '%s'", path);
	fclose(f);
	return rc;
}

/* cert verify FILE | --number NO[/REV] --code CODE | --qr PAYLOAD: the form of the line. */
static int check_verify(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct cert_args *a = c->args;
	(void)ctx;
	if (a->qr || a->number || a->code) {
		if (c->npos || (a->qr && (a->number || a->code)) ||
		    (!a->qr && (!a->number || !a->code)))
			return cli_call_usage(
				c, "cert verify takes FILE, or --number with --code, or --qr");
		return ML_OK;
	}
	if (c->npos != 1)
		return cli_call_usage(c, "cert verify needs exactly one FILE");
	return ML_OK;
}

/* The claim printed on paper (--number/--code) or scanned from the QR code. */
static int printed_claim(struct cli_call *c, struct cert_claim *claim)
{
	const struct cert_args *a = c->args;
	memset(claim, 0, sizeof(*claim));
	if (a->qr)
		return cert_qr_parse(a->qr, strlen(a->qr), claim, &c->err);
	const char *slash = strchr(a->number, '/');
	size_t nl = slash ? (size_t)(slash - a->number) : strlen(a->number);
	if (nl == 0 || nl >= sizeof(claim->cert_no) || strlen(a->code) >= sizeof(claim->code))
		return cli_call_usage(
			c, "--number '%s' / --code '%s' are not a certificate number and code",
			a->number, a->code);
	long long rev = -1;
	if (slash && cli_strtoll(slash + 1, 0, 9999, &rev))
		return cli_call_usage(c, "--number '%s': revision '%s' is not a number 0..9999",
				      a->number, slash + 1);
	memcpy(claim->cert_no, a->number, nl);
	claim->revision = (int)rev;
	snprintf(claim->code, sizeof(claim->code), "%s", a->code);
	return ML_OK;
}

static int cert_verify_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct cert_args *a = c->args;
	struct cert_verify_result v;
	struct cert_claim claim;
	struct ml_buf pdf;
	ml_buf_init(&pdf, (size_t)64 << 20); /* no certificate is 64 MiB */
	const char *what = a->qr ? "QR payload" : c->npos ? c->pos[0] : NULL;
	int rc;
	if (c->npos)
		rc = read_file(c->pos[0], &pdf, &c->err);
	else
		rc = printed_claim(c, &claim);
	if (rc)
		goto out;
	rc = cli_call_db(ctx, c);
	if (rc)
		goto out;
	if (c->npos)
		rc = cert_verify_pdf(c->db, pdf.data ? pdf.data : "", pdf.len, &v, &c->err);
	else
		rc = cert_verify_claim(c->db, &claim, &v, &c->err);
	if (rc)
		goto out;
	rc = verify_output(ctx, c, what ? what : claim.cert_no, &v);
out:
	ml_buf_free(&pdf);
	return rc;
}

/* "field=value" -> override (pointers into the argument). */
static int split_sets(struct cli_call *c, struct cert_override *ov, char *store, size_t store_len)
{
	const struct cert_args *a = c->args;
	size_t used = 0;
	for (int i = 0; i < a->nsets; i++) {
		const char *eq = strchr(a->sets[i], '=');
		size_t kl = eq ? (size_t)(eq - a->sets[i]) : 0;
		if (!eq || !kl || used + kl + 1 > store_len)
			return cli_call_usage(c, "--set '%s' is not FIELD=VALUE", a->sets[i]);
		memcpy(store + used, a->sets[i], kl);
		store[used + kl] = '\0';
		ov[i] = (struct cert_override){ store + used, eq + 1 };
		used += kl + 1;
	}
	return ML_OK;
}

static int check_revise(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	struct cert_override ov[MAX_SET];
	char keys[1024];
	return split_sets(c, ov, keys, sizeof(keys));
}

/* The reviser drafts the revision (its verifier stays the run's operator); a checker and another
 * approver then sign it with 'cert check' and 'cert approve'. */
static int cert_revise_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct cert_args *a = c->args;
	struct cert_override ov[MAX_SET];
	struct cert_record r;
	char keys[1024];
	long long nid = 0;
	int rc = split_sets(c, ov, keys, sizeof(keys));
	if (rc)
		return rc;
	rc = cert_find(c->db, c->pos[0], &r, &c->err);
	if (rc)
		return rc;
	rc = cert_revise(c->db, r.id, a->reason, ov, (size_t)a->nsets, &nid, &c->err);
	if (rc)
		return rc;
	return print_ids(ctx, c, &nid, 1, NULL);
}

static int check_issue(struct cli_ctx *ctx, struct cli_call *c)
{
	struct cert_args *a = c->args;
	(void)ctx;
	return cli_parse_id(c, "--run", a->run, &a->run_id);
}

/* Drafts for every concluded asset of the run: its operator verifies, the caller drafts (0366). */
static int cert_issue_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct cert_args *a = c->args;
	long long *ids = NULL;
	size_t n = 0, created = 0;
	int rc = cert_source_drafts(c->db, a->run_id, a->issuer, &ids, &n, &created, &c->err);
	if (rc)
		goto out;
	rc = print_ids(ctx, c, ids, n, NULL);
out:
	free(ids);
	return rc;
}

static int cert_withdraw_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct cert_args *a = c->args;
	struct cert_record r;
	int rc = cert_find(c->db, c->pos[0], &r, &c->err);
	if (rc)
		return rc;
	rc = cert_withdraw(c->db, r.id, a->reason, &c->err);
	if (rc)
		return rc;
	rc = print_ids(ctx, c, &r.id, 1, NULL);
	return rc;
}

static int check_discard(struct cli_ctx *ctx, struct cli_call *c)
{
	struct cert_args *a = c->args;
	(void)ctx;
	return cli_parse_id(c, "certificate id", c->pos[0], &a->id);
}

static int cert_discard_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct cert_args *a = c->args;
	int rc = cert_discard(c->db, a->id, a->reason, &c->err);
	if (rc)
		return rc;
	if (ctx->json)
		return cli_printf(c, "{\"discarded\":%lld}\n", (long long)a->id);
	return cli_printf(c, "discarded draft %lld\n", (long long)a->id);
}

static int cert_backdate_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct cert_args *a = c->args;
	struct cert_record r;
	int rc = cert_find(c->db, c->pos[0], &r, &c->err);
	if (rc)
		return rc;
	rc = cert_backdate(c->db, r.id, a->date, a->reason, &c->err);
	if (rc)
		return rc;
	return print_ids(ctx, c, &r.id, 1, NULL);
}

static void issuer_out(struct cli_ctx *ctx, struct ml_buf *b, const PGresult *res)
{
	static const char *const cols[] = { "id",
					    "name",
					    "authorization_no",
					    "address",
					    "postcode",
					    "phone",
					    "fax",
					    "email",
					    "number_prefix",
					    "default_client",
					    "public_base_url",
					    "is_default" };
	if (ctx->json)
		ml_buf_putc(b, '[');
	for (int i = 0; i < PQntuples(res); i++) {
		if (ctx->json)
			ml_buf_puts(b, i ? ",{" : "{");
		for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
			if (ctx->json)
				ml_json_kv_str(b, k == 0, cols[k], db_get(res, i, cols[k]));
			else
				ml_buf_printf(b, "%-17s %s\n", cols[k], db_get(res, i, cols[k]));
		}
		ml_buf_putc(b, ctx->json ? '}' : '\n');
	}
	if (ctx->json)
		ml_buf_putc(b, ']');
}

static int cert_issuer_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	PGresult *res = NULL;
	int rc = cert_issuer_list(c->db, &res, &c->err);
	if (rc)
		goto out;
	issuer_out(ctx, &b, res);
	PQclear(res);
	rc = cli_emit(c, &b, ctx->json);
out:
	ml_buf_free(&b);
	return rc;
}

/* ---- the table ---- */

static const struct cli_opt check_opts[] = {
	CLI_OPT("run", struct cert_args, run),
	CLI_OPT_END,
};

static const struct cli_opt approve_opts[] = {
	CLI_OPT("run", struct cert_args, run),
	CLI_OPT("out-dir", struct cert_args, dir),
	CLI_OPT("threads", struct cert_args, threads),
	CLI_OPT_END,
};

static const struct cli_opt list_opts[] = {
	CLI_OPT("run", struct cert_args, run),
	CLI_OPT("asset", struct cert_args, asset),
	CLI_OPT("state", struct cert_args, state),
	CLI_OPT("number", struct cert_args, number),
	CLI_OPT_END,
};

static const struct cli_opt print_opts[] = {
	CLI_REQ("out", struct cert_args, out),
	CLI_OPT_END,
};

static const struct cli_opt verify_opts[] = {
	CLI_OPT("number", struct cert_args, number),
	CLI_OPT("code", struct cert_args, code),
	CLI_OPT("qr", struct cert_args, qr),
	CLI_OPT_END,
};

static const struct cli_opt revise_opts[] = {
	CLI_REQ("reason", struct cert_args, reason),
	CLI_LIST("set", struct cert_args, sets, nsets),
	CLI_OPT_END,
};

static const struct cli_opt issue_opts[] = {
	CLI_REQ("run", struct cert_args, run),
	CLI_OPT("issuer", struct cert_args, issuer),
	CLI_OPT_END,
};

static const struct cli_opt reason_opts[] = {
	CLI_REQ("reason", struct cert_args, reason),
	CLI_OPT_END,
};

static const struct cli_opt backdate_opts[] = {
	CLI_REQ("date", struct cert_args, date),
	CLI_REQ("reason", struct cert_args, reason),
	CLI_OPT_END,
};

static const struct cli_cmd cert_cmds[] = {
	{ .name = "issue",
	  .check = check_issue,
	  .run = cert_issue_cmd,
	  CLI_ARGS(struct cert_args, issue_opts),
	  .need = "cert issue needs --run ID",
	  .flags = CLI_NEED_DB,
	  .summary = "draft the certificates of a finished run (verifier: its operator)",
	  .help = "usage: meterlab cert issue --run ID [--issuer ID] [--json]\n\n"
		  "Draft (permission cert.draft) the certificates (合格) and result notices (不合格) of\n"
		  "every concluded asset of a finished run whose results cover every step of its\n"
		  "scheme. Their verifier (检定员) is the person who ran the run (its operator); you —\n"
		  "the user connected to the database — are recorded as the drafter. Then a checker\n"
		  "signs ('cert check --run ID') and an approver issues ('cert approve --run ID'): three\n"
		  "different people, neither of them the operator or the drafter. Repeating\n"
		  "the command continues where it stopped; each line shows id, kind, status, number,\n"
		  "barcode and conclusion." },
	{ .name = "check",
	  .check = check_ids_or_run,
	  .run = cert_check_cmd,
	  CLI_ARGS(struct cert_args, check_opts),
	  .max_pos = MAX_POS,
	  .flags = CLI_NEED_DB,
	  .summary = "sign drafts as checker (核验员)",
	  .help = "usage: meterlab cert check ID|NUMBER... [--json]\n"
		  "       meterlab cert check --run RUN [--json]\n\n"
		  "Sign draft certificates as checker (核验员): you, the user connected to the database\n"
		  "(permission cert.check), neither their verifier (the run's operator) nor their\n"
		  "drafter. With --run, every draft of the run. All or none are checked." },
	{ .name = "approve",
	  .check = check_ids_or_run,
	  .run = cert_approve_cmd,
	  CLI_ARGS(struct cert_args, approve_opts),
	  .max_pos = MAX_POS,
	  .flags = CLI_NEED_DB,
	  .summary = "sign as approver (批准人) and issue: number, PDF, hash",
	  .help = "usage: meterlab cert approve ID|NUMBER... [--out-dir DIR] [--threads N] [--json]\n"
		  "       meterlab cert approve --run RUN [--out-dir DIR] [--threads N] [--json]\n\n"
		  "Sign checked certificates as approver (批准人) and issue them: you, the user connected\n"
		  "to the database (permission cert.approve), not their verifier, checker or drafter.\n"
		  "The database allocates the numbers and verification codes and dates them today (its\n"
		  "clock, China Standard Time); the PDFs are rendered and stored with their SHA-256. With\n"
		  "--run, every checked certificate of the run. All or none are issued. --out-dir also\n"
		  "writes the stored PDFs as DIR/NUMBER.pdf." },
	{ .name = "show",
	  .run = cert_show_cmd,
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "cert show needs exactly one ID or NUMBER",
	  .flags = CLI_NEED_DB,
	  .summary = "show one certificate by id or number",
	  .help = "usage: meterlab cert show ID|NUMBER[/REV] [--json]\n\n"
		  "Show one certificate: by id, by number (the current revision) or NUMBER/REV. Signers\n"
		  "are shown with the names the certificate prints and their logins [in brackets]." },
	{ .name = "list",
	  .check = check_list,
	  .run = cert_list_cmd,
	  CLI_ARGS(struct cert_args, list_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "list certificates (by run, asset, state, number)",
	  .help = "usage: meterlab cert list [--run ID] [--asset ID] [--number NUMBER]\n"
		  "                          [--state draft|checked|issued|current|superseded|withdrawn] [--json]\n\n"
		  "List certificates and result notices, oldest first. --state withdrawn lists withdrawn\n"
		  "ones; current = issued, neither superseded nor withdrawn." },
	{ .name = "print",
	  .run = cert_print_cmd,
	  CLI_ARGS(struct cert_args, print_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "cert print needs one ID or NUMBER and --out FILE",
	  .flags = CLI_NEED_DB,
	  .summary = "write the stored PDF of an issued certificate",
	  .help = "usage: meterlab cert print ID|NUMBER[/REV] --out FILE [--json]\n\n"
		  "Write the stored PDF of an issued certificate — the exact issued bytes, checked\n"
		  "against their stored SHA-256, not a new rendering." },
	{ .name = "verify",
	  .check = check_verify,
	  .run = cert_verify_cmd,
	  CLI_ARGS(struct cert_args, verify_opts),
	  .max_pos = 1,
	  .summary = "check a presented PDF: genuine, current, superseded",
	  .help = "usage: meterlab cert verify FILE.pdf [--json]\n"
		  "       meterlab cert verify --number NUMBER[/REV] --code CODE [--json]\n"
		  "       meterlab cert verify --qr PAYLOAD [--json]\n\n"
		  "Check a presented PDF against the issued documents: genuine only when it matches a\n"
		  "stored issued PDF byte for byte (SHA-256). Or check the number and verification code\n"
		  "printed on a paper certificate, or the text scanned from its QR code, against the\n"
		  "codes the database computed at issue. Reports current or superseded (and by which\n"
		  "revision). Exit 0 when genuine, 1 when not genuine (forged or unknown) or withdrawn." },
	{ .name = "revise",
	  .check = check_revise,
	  .run = cert_revise_cmd,
	  CLI_ARGS(struct cert_args, revise_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "cert revise needs one ID or NUMBER and --reason TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "correct an issued certificate with a new revision",
	  .help = "usage: meterlab cert revise ID|NUMBER --reason TEXT [--set FIELD=VALUE]... [--json]\n\n"
		  "Correct an issued certificate (permission cert.revise): a new draft revision with the\n"
		  "same number, drafted by you (its verifier stays the run's operator). A checker and\n"
		  "another approver sign it like any draft ('cert check', 'cert approve'); when issued\n"
		  "it supersedes the old one, which stays stored, unchanged, and is reported as\n"
		  "superseded, and the asset's validity follows it. FIELD: client, place, temperature\n"
		  "(℃, −20..60, one decimal), humidity (%RH, 0..100), record_no, model, spec,\n"
		  "manufacturer, instrument, verified_on (only the run's date), valid_until (within the\n"
		  "model's verification period)." },
	{ .name = "withdraw",
	  .run = cert_withdraw_cmd,
	  CLI_ARGS(struct cert_args, reason_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "cert withdraw needs one ID or NUMBER and --reason TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "withdraw (作废) an issued certificate without replacement",
	  .help = "usage: meterlab cert withdraw ID|NUMBER --reason TEXT [--json]\n\n"
		  "Withdraw (作废) an issued, current certificate without a replacement (e.g. issued for\n"
		  "the wrong asset): permission cert.withdraw, recorded with you and the reason. The\n"
		  "certificate and its PDF stay stored unchanged; a presented copy then verifies as\n"
		  "genuine but withdrawn (exit 1). To correct one, use 'cert revise'." },
	{ .name = "discard",
	  .check = check_discard,
	  .run = cert_discard_cmd,
	  CLI_ARGS(struct cert_args, reason_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "cert discard needs one ID and --reason TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "discard a draft that will not be issued (logged)",
	  .help = "usage: meterlab cert discard ID --reason TEXT [--json]\n\n"
		  "Discard a draft or checked certificate that will not be issued (e.g. an abandoned\n"
		  "revision): its drafter, its verifier or an approver. It is kept in an append-only log\n"
		  "with you and the reason; issued certificates are never discarded (use 'cert\n"
		  "withdraw' or 'cert revise')." },
	{ .name = "backdate",
	  .run = cert_backdate_cmd,
	  CLI_ARGS(struct cert_args, backdate_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "cert backdate needs one ID or NUMBER, --date YYYY-MM-DD and --reason TEXT",
	  .flags = CLI_NEED_DB,
	  .summary = "record an earlier issue date for a draft (administrator, with a reason)",
	  .help = "usage: meterlab cert backdate ID|NUMBER --date YYYY-MM-DD --reason TEXT [--json]\n\n"
		  "Record that a certificate not yet issued carries an earlier issue date (work done on\n"
		  "paper and entered late): permission record.backdate (administrator). The date is not\n"
		  "in the future and not before the verification; it, you and the reason are shown with\n"
		  "the certificate ('cert show'). Dates are otherwise always the database's clock." },
	{ .name = "issuer",
	  .run = cert_issuer_cmd,
	  .flags = CLI_NEED_DB,
	  .summary = "show the issuing bodies printed on certificates",
	  .help = "usage: meterlab cert issuer [--json]\n\n"
		  "Show the issuing bodies printed on certificates (name, authorisation number, address,\n"
		  "numbering prefix, public base URL). They are configuration: the DBA edits table\n"
		  "issuer. With public_base_url set (e.g. https://jl.example.cn), the QR code of every\n"
		  "certificate issued from then on opens BASE/verify/NUMBER?code=CODE, the public\n"
		  "verification page of `meterlab serve`. The key behind the verification codes is\n"
		  "readable by no login: the database computes the codes." },
	{ .name = NULL },
};

const struct cli_cmd cmd_cert = {
	.name = "cert",
	.help = "Verification certificates (检定证书) and result notices (检定结果通知书):\n"
		"draft -> checked -> issued, signed by three different people, each as themselves,\n"
		"gap-free numbers,\n"
		"immutable stored PDFs, revisions, verification.",
	.sub = cert_cmds,
};
