/*
 * meterlab audit verify — recompute the tamper-evidence chains of the
 * history and of the issued certificates (audit/audit.h, migration 0140).
 *
 * Exit 0 when every chain is intact (and passes through the anchor given
 * with --expect), 1 when something was changed, removed, inserted outside
 * the chain or cut back: the first bad row or block of each chain is named.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "common/json.h"

struct audit_args {
	const char *expect;
};

static void report_json(struct ml_buf *b, const struct audit_report *r)
{
	ml_buf_putc(b, '{');
	ml_json_kv_bool(b, 1, "ok", r->ok);
	ml_json_kv_str(b, 0, "anchor", r->anchor);
	if (r->expect_checked) {
		ml_json_kv_bool(b, 0, "expect_ok", r->expect_ok);
		ml_json_kv_str(b, 0, "expect_problem", r->expect_ok ? NULL : r->expect_problem);
	}
	ml_buf_putc(b, ',');
	ml_json_key(b, "chains");
	ml_buf_putc(b, '[');
	for (size_t i = 0; i < r->n; i++) {
		const struct audit_chain_report *c = &r->chains[i];
		ml_buf_puts(b, i ? ",{" : "{");
		ml_json_kv_str(b, 1, "chain", c->chain);
		ml_json_kv_str(b, 0, "table", c->table);
		ml_json_kv_int(b, 0, "blocks", c->blocks);
		ml_json_kv_int(b, 0, "rows", c->rows);
		ml_json_kv_str(b, 0, "head", c->head);
		ml_json_kv_bool(b, 0, "ok", c->ok);
		ml_json_kv_bool(b, 0, "known", c->known);
		ml_json_kv_str(b, 0, "problem", c->ok ? NULL : c->problem);
		ml_json_kv_str(b, 0, "kind", c->ok ? NULL : c->bad_kind);
		if (!c->ok && c->bad_block)
			ml_json_kv_int(b, 0, "block", c->bad_block);
		if (!c->ok && c->bad_key)
			ml_json_kv_int(b, 0, "key", c->bad_key);
		ml_buf_putc(b, '}');
	}
	ml_buf_puts(b, "]}");
}

static void report_text(struct ml_buf *b, const struct audit_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct audit_chain_report *c = &r->chains[i];
		ml_buf_printf(b, "%-18s %-8s %8lld blocks %10lld rows  head %.16s…%s\n", c->chain,
			      c->ok ? "ok" : "TAMPERED", c->blocks, c->rows, c->head,
			      c->known ? "" : "  (chain not known to this build)");
		if (!c->ok)
			ml_buf_printf(b, "  first problem: %s\n", c->problem);
	}
	if (r->expect_checked)
		ml_buf_printf(b, "anchor given:   %s\n",
			      r->expect_ok ? "the chains pass through it" : r->expect_problem);
	ml_buf_printf(
		b, "%s\nanchor: %s",
		r->ok ? "AUDIT OK: every chain recomputes to its recorded hashes"
		      : "AUDIT FAILED: history or certificates were changed outside the rules",
		r->anchor);
}

static int audit_verify_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct audit_args *a = c->args;
	struct audit_report r;
	struct ml_buf b = ML_BUF_INIT;
	int rc = audit_verify(c->db, a->expect, &r, &c->err);
	if (rc)
		return rc;
	if (ctx->json)
		report_json(&b, &r);
	else
		report_text(&b, &r);
	rc = cli_emit(c, &b, 1);
	if (!r.ok)
		c->exit = CLI_FAIL;
	ml_buf_free(&b);
	audit_report_free(&r);
	return rc;
}

static const struct cli_opt verify_opts[] = {
	CLI_OPT("expect", struct audit_args, expect),
	CLI_OPT_END,
};

static const struct cli_cmd audit_cmds[] = {
	{ .name = "verify",
	  .run = audit_verify_cmd,
	  CLI_ARGS(struct audit_args, verify_opts),
	  .flags = CLI_NEED_DB,
	  .summary = "recompute the hash chains; name the first changed, removed or inserted row",
	  .help = "usage: meterlab audit verify [--expect ANCHOR] [--json]\n\n"
		  "Recompute, in one snapshot, the hash of every row of the chained tables (asset\n"
		  "history, issued certificates and their PDFs, supersessions, withdrawals, discards,\n"
		  "back-dates, people and settings logs) and of every block of the ledger, and report\n"
		  "per chain the first row changed, removed or inserted outside the chain, or the first\n"
		  "block that does not link — whoever did it, the schema's owner included. Permission\n"
		  "audit.verify (auditor, administrator).\n\n"
		  "The last line is the ANCHOR of the current heads (chain=block,…@sha256). Record it\n"
		  "outside the database (log book, mail to the quality manager); a later\n"
		  "'audit verify --expect ANCHOR' checks that the chains still pass through those very\n"
		  "blocks, which catches an owner who rewrote rows and recomputed every hash after\n"
		  "them. Exit 0 when intact, 1 when not." },
	{ .name = NULL },
};

const struct cli_cmd cmd_audit = {
	.name = "audit",
	.help = "Tamper evidence: verify the hash chains of the history and the certificates.",
	.sub = audit_cmds,
};
