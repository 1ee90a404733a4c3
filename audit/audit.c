/*
 * audit.c — recompute the hash chains of 0140 in one snapshot.
 *
 * Every query is built here from fixed text and quoted identifiers, and
 * uses only built-in functions (sha256, to_jsonb, jsonb_strip_nulls,
 * int8send, convert_to), never a function of the schema: the owner who
 * could tamper with the rows could also replace a verification function.
 * The hash of a row and of a block are written exactly as the chain trigger
 * writes them (ml_audit_rows_sql and ml_audit_block_hash in 0140), with the
 * same session settings (time zone UTC, …) so the JSON text is the same.
 */
#include "audit/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

/* The chains this build knows: a chain missing from the ledger, or defined
 * there differently (another table or key, fewer columns hashed), is a
 * finding, not something to trust. Others found in the ledger (added by a
 * later migration) are verified from the ledger's own definition. */
struct chain_def {
	const char *chain, *table, *key, *filter_column, *filter_value;
	int on_update;
	/* optional: SELECT <key>, <text> of the first row whose stored data
	 * contradicts itself (e.g. PDF bytes vs their recorded hash) */
	const char *extra_sql;
	const char *extra_what;
	/* optional: a second text of the table's row t whose sha256 is also
	 * accepted as the row's hash, hashed as it is (0345: a PDF row recorded
	 * since then is hashed with its bytes replaced by their digest; rows
	 * recorded before keep the whole row's text) */
	const char *digest_row;
};

static const struct chain_def known[] = {
	{ "app_user_log", "app_user_log", "log_id", NULL, NULL, 0, NULL, NULL, NULL },
	{ "asset_event", "asset_event", "event_id", NULL, NULL, 0, NULL, NULL, NULL },
	{ "cert_backdate", "cert_backdate", "cert_id", NULL, NULL, 0, NULL, NULL, NULL },
	{ "cert_discard_log", "cert_discard_log", "cert_id", NULL, NULL, 0, NULL, NULL, NULL },
	{ "cert_pdf", "cert_pdf", "cert_id", NULL, NULL, 0,
	  "SELECT cert_id, sha256 FROM public.cert_pdf "
	  "WHERE sha256 IS DISTINCT FROM encode(sha256(pdf), 'hex') ORDER BY cert_id LIMIT 1",
	  "its stored PDF bytes no longer have the recorded SHA-256",
	  "ROW(t.asset_id, t.cert_id, 'sha256:' || encode(sha256(t.pdf), 'hex'), t.sha256, "
	  "t.stored_at)" },
	{ "cert_supersession", "cert_supersession", "new_id", NULL, NULL, 0, NULL, NULL, NULL },
	{ "cert_withdrawal", "cert_withdrawal", "cert_id", NULL, NULL, 0, NULL, NULL, NULL },
	{ "certificate", "certificate", "id", "state", "issued", 1, NULL, NULL, NULL },
	{ "lab_setting_log", "lab_setting_log", "log_id", NULL, NULL, 0, NULL, NULL, NULL },
};
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* Settings the text of a row depends on: pinned as the trigger pins them. */
static const char *const session_sql =
	"SELECT set_config('DateStyle', 'ISO, YMD', true), set_config('TimeZone', 'UTC', true), "
	"set_config('IntervalStyle', 'postgres', true), "
	"set_config('extra_float_digits', '1', true), set_config('bytea_output', 'hex', true), "
	"set_config('search_path', 'pg_catalog, pg_temp', true)";

static const char *const block_sql =
	"SELECT block_no, problem FROM ("
	" SELECT b.block_no, CASE"
	"  WHEN b.block_no <> row_number() OVER w THEN 'the blocks before it are missing'"
	"  WHEN b.prev_hash <> coalesce(lag(b.block_hash) OVER w, decode(repeat('00', 32), 'hex'))"
	"   THEN 'it does not link to the block before it (blocks removed, replaced or inserted)'"
	"  WHEN length(b.row_hashes) IS DISTINCT FROM 32 * cardinality(b.row_keys)"
	"   OR coalesce(cardinality(b.row_keys), 0) = 0 THEN 'its keys and hashes do not pair up'"
	"  WHEN b.block_hash IS DISTINCT FROM sha256(b.prev_hash || convert_to(b.chain, 'UTF8')"
	"   || int8send(b.block_no) || int8send((extract(epoch FROM b.created_at) * 1000000)::bigint)"
	"   || (SELECT string_agg(int8send(x.k), '\\x'::bytea ORDER BY x.o)"
	"     FROM unnest(b.row_keys) WITH ORDINALITY x(k, o)) || b.row_hashes)"
	"   THEN 'its hash does not match its content (a recorded key, hash or time was changed)'"
	"  END AS problem"
	" FROM public.audit_block b WHERE b.chain = $1 WINDOW w AS (ORDER BY b.block_no)) s "
	"WHERE problem IS NOT NULL ORDER BY block_no LIMIT 1";

static const char *const head_sql =
	"SELECT count(*), coalesce(max(block_no), 0), coalesce(sum(cardinality(row_keys)), 0), "
	"coalesce((SELECT encode(block_hash, 'hex') FROM public.audit_block WHERE chain = $1 "
	"  ORDER BY block_no DESC LIMIT 1), repeat('0', 64)) "
	"FROM public.audit_block WHERE chain = $1";

struct chain_row {
	char chain[64], table[64], key[64], fcol[64], fval[64];
	int on_update;
	long long blocks, rows;
	char head[65];
};

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static int load_chains(struct db *db, struct chain_row **out, size_t *n, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(
		db,
		"SELECT chain, table_name, key_column, filter_column, filter_value, "
		"on_update::int, blocks, rows, encode(head_hash, 'hex') FROM public.audit_chain ORDER BY chain",
		0, NULL, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	size_t m = (size_t)PQntuples(res);
	struct chain_row *c = calloc(m ? m : 1, sizeof(*c));
	if (!c) {
		PQclear(res);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < m; i++) {
		int r = (int)i;
		copy(c[i].chain, sizeof(c[i].chain), PQgetvalue(res, r, 0));
		copy(c[i].table, sizeof(c[i].table), PQgetvalue(res, r, 1));
		copy(c[i].key, sizeof(c[i].key), PQgetvalue(res, r, 2));
		copy(c[i].fcol, sizeof(c[i].fcol),
		     PQgetisnull(res, r, 3) ? NULL : PQgetvalue(res, r, 3));
		copy(c[i].fval, sizeof(c[i].fval),
		     PQgetisnull(res, r, 4) ? NULL : PQgetvalue(res, r, 4));
		c[i].on_update = atoi(PQgetvalue(res, r, 5));
		c[i].blocks = strtoll(PQgetvalue(res, r, 6), NULL, 10);
		c[i].rows = strtoll(PQgetvalue(res, r, 7), NULL, 10);
		copy(c[i].head, sizeof(c[i].head), PQgetvalue(res, r, 8));
	}
	PQclear(res);
	*out = c;
	*n = m;
	return ML_OK;
}

static const struct chain_def *known_def(const char *chain)
{
	for (size_t i = 0; i < N_KNOWN; i++) {
		if (!strcmp(known[i].chain, chain))
			return &known[i];
	}
	return NULL;
}

static int same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static void set_problem(struct audit_chain_report *r, const char *kind, long long block,
			long long key, const char *msg)
{
	if (!r->ok)
		return; /* the first problem is the one reported */
	r->ok = 0;
	copy(r->bad_kind, sizeof(r->bad_kind), kind);
	r->bad_block = block;
	r->bad_key = key;
	copy(r->problem, sizeof(r->problem), msg);
}

/* The chain trigger exists and fires; the table shows every row to everyone. */
static int check_table(struct db *db, const struct chain_def *d, struct audit_chain_report *r,
		       struct ml_error *err)
{
	char tg[160];
	snprintf(tg, sizeof(tg), "%s_audit_insert", d->chain);
	const char *p[2] = { d->table, tg };
	PGresult *res = NULL;
	int rc = db_exec(
		db,
		"SELECT c.relkind::text, c.relrowsecurity::int, "
		"(SELECT t.tgenabled::text FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = $2) "
		"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE n.nspname = 'public' AND c.relname = $1",
		2, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	char msg[AUDIT_PROBLEM_MAX] = "";
	if (PQntuples(res) != 1 || !strchr("rp", PQgetvalue(res, 0, 0)[0]))
		snprintf(msg, sizeof(msg), "table %s is missing or is not a table", d->table);
	else if (atoi(PQgetvalue(res, 0, 1)))
		snprintf(msg, sizeof(msg),
			 "table %s has row-level security: readers may be shown other rows than "
			 "the ones chained",
			 d->table);
	else if (PQgetisnull(res, 0, 2) || !strchr("OA", PQgetvalue(res, 0, 2)[0]))
		snprintf(msg, sizeof(msg),
			 "the chain trigger %s is %s: rows inserted meanwhile are not chained", tg,
			 PQgetisnull(res, 0, 2) ? "missing" : "disabled");
	if (msg[0])
		set_problem(r, "definition", 0, 0, msg);
	PQclear(res);
	return ML_OK;
}

static int check_blocks(struct db *db, const char *chain, struct audit_chain_report *r,
			struct ml_error *err)
{
	const char *p[1] = { chain };
	PGresult *res = NULL;
	int rc = db_exec(db, block_sql, 1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res)) {
		char msg[AUDIT_PROBLEM_MAX];
		snprintf(msg, sizeof(msg), "block %s: %s", PQgetvalue(res, 0, 0),
			 PQgetvalue(res, 0, 1));
		set_problem(r, "block", strtoll(PQgetvalue(res, 0, 0), NULL, 10), 0, msg);
	}
	PQclear(res);
	return ML_OK;
}

/* The ledger's blocks: count, rows and the last hash; the head row must agree. */
static int check_head(struct db *db, const struct chain_row *c, struct audit_chain_report *r,
		      struct ml_error *err)
{
	const char *p[1] = { c->chain };
	PGresult *res = NULL;
	int rc = db_query_one(db, head_sql, 1, p, &res, err);
	if (rc)
		return rc;
	long long count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	r->blocks = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	r->rows = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	copy(r->head, sizeof(r->head), PQgetvalue(res, 0, 3));
	PQclear(res);
	if (count != r->blocks || c->blocks != r->blocks || c->rows != r->rows ||
	    strcmp(c->head, r->head)) {
		char msg[AUDIT_PROBLEM_MAX];
		snprintf(
			msg, sizeof(msg),
			"the chain's head row (%lld blocks, %lld rows, %.16s…) does not agree with "
			"its blocks (%lld, %lld rows, last %.16s…)",
			c->blocks, c->rows, c->head, r->blocks, r->rows, r->head);
		set_problem(r, "block", r->blocks, 0, msg);
	}
	return ML_OK;
}

static int quote_ident(struct db *db, const char *s, char *out, size_t n, struct ml_error *err)
{
	char *q = PQescapeIdentifier(db_conn(db), s, strlen(s));
	if (!q)
		return ml_errorf(err, ML_EINTERNAL, "cannot quote identifier '%s'", s);
	int len = snprintf(out, n, "%s", q);
	PQfreemem(q);
	return len < 0 || (size_t)len >= n
		       ? ml_errorf(err, ML_EINVAL, "identifier '%s' too long", s)
		       : ML_OK;
}

/* The row of key k, as JSON (shortened), for the report. */
static void describe_row(struct db *db, const char *table_q, const char *key_q, const char *k,
			 char *out, size_t n)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT left(jsonb_strip_nulls(to_jsonb(t) - 'pdf' - 'content')::text, 240) FROM "
		 "public.%s t WHERE t.%s = $1::bigint",
		 table_q, key_q);
	const char *p[1] = { k };
	PGresult *res = NULL;
	struct ml_error ignore = ML_ERROR_INIT;
	out[0] = '\0';
	if (!db_exec(db, sql, 1, p, PGRES_TUPLES_OK, &res, &ignore) && PQntuples(res))
		copy(out, n, PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* The first row (in chain order) whose recorded hash its row no longer has,
 * whose row is gone, or which is in the table but in no block. */
static int check_rows(struct db *db, const struct chain_def *d, struct audit_chain_report *r,
		      struct ml_error *err)
{
	char tq[160], kq[160], fq[160] = "";
	int rc = quote_ident(db, d->table, tq, sizeof(tq), err);
	if (!rc)
		rc = quote_ident(db, d->key, kq, sizeof(kq), err);
	if (!rc && d->filter_column)
		rc = quote_ident(db, d->filter_column, fq, sizeof(fq), err);
	if (rc)
		return rc;
	char filter[256];
	if (d->filter_column)
		snprintf(filter, sizeof(filter), "(t.%s::text = $2)", fq);
	else
		snprintf(filter, sizeof(filter), "($2::text IS NULL)");
	struct ml_buf sql = ML_BUF_INIT;
	rc = ml_buf_printf(
		&sql,
		/* each block's hashes read once, then cut 32 bytes per row; both materialized
		 * so that no row of the join carries its block's whole hash string along */
		"WITH blk AS MATERIALIZED (SELECT block_no, row_keys, row_hashes || '\\x'::bytea AS hs "
		" FROM public.audit_block WHERE chain = $1), "
		"rec AS MATERIALIZED (SELECT b.block_no, x.o, x.k, "
		" substring(b.hs FROM (x.o::int - 1) * 32 + 1 FOR 32) AS h "
		" FROM blk b CROSS JOIN LATERAL unnest(b.row_keys) WITH ORDINALITY x(k, o)), "
		/* the row hash of 0140 on the text as stored (database encoding, whatever
		 * the session's client_encoding; bytes trimmed: 0344); h2 the chain's
		 * digest form if it has one (0345), else NULL */
		"act AS (SELECT t.%s AS k, sha256(rtrim(convert_to(t::text, getdatabaseencoding()), "
		" '\\x2c29'::bytea) || '\\x29'::bytea) AS h, "
		" sha256(convert_to((%s)::text, getdatabaseencoding())) AS h2, "
		" %s AS f FROM public.%s t) "
		"SELECT rec.block_no, rec.o, coalesce(rec.k, act.k), CASE WHEN act.k IS NULL THEN "
		"'removed' WHEN rec.k IS NULL THEN 'unchained' ELSE 'changed' END "
		"FROM rec FULL JOIN act ON act.k = rec.k "
		"WHERE (rec.k IS NULL AND act.f) OR act.k IS NULL OR rec.h IS DISTINCT FROM act.h "
		"AND rec.h IS DISTINCT FROM act.h2 AND rec.k IS NOT NULL "
		"ORDER BY rec.block_no NULLS LAST, rec.o, act.k LIMIT 1",
		kq, d->digest_row ? d->digest_row : "NULL::text", filter, tq);
	if (rc) {
		ml_buf_free(&sql);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	const char *p[2] = { d->chain, d->filter_value };
	PGresult *res = NULL;
	rc = db_exec(db, ml_buf_str(&sql), 2, p, PGRES_TUPLES_OK, &res, err);
	ml_buf_free(&sql);
	if (rc)
		return rc;
	if (PQntuples(res)) {
		const char *kind = PQgetvalue(res, 0, 3), *key = PQgetvalue(res, 0, 2);
		char row[256], what[AUDIT_PROBLEM_MAX];
		describe_row(db, tq, kq, key, row, sizeof(row));
		if (!strcmp(kind, "removed"))
			snprintf(what, sizeof(what), "%s %s %s (block %s, row %s) was removed",
				 d->table, d->key, key, PQgetvalue(res, 0, 0),
				 PQgetvalue(res, 0, 1));
		else if (!strcmp(kind, "changed"))
			snprintf(
				what, sizeof(what),
				"%s %s %s (block %s, row %s) was changed after it was recorded: %s",
				d->table, d->key, key, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
				row);
		else
			snprintf(what, sizeof(what),
				 "%s %s %s is in no block: it was inserted outside the chain: %s",
				 d->table, d->key, key, row);
		set_problem(r, kind,
			    PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10),
			    strtoll(key, NULL, 10), what);
	}
	PQclear(res);
	if (!rc && r->ok && d->extra_sql) {
		rc = db_exec(db, d->extra_sql, 0, NULL, PGRES_TUPLES_OK, &res, err);
		if (!rc && PQntuples(res)) {
			char what[AUDIT_PROBLEM_MAX];
			snprintf(what, sizeof(what), "%s %s %s: %s", d->table, d->key,
				 PQgetvalue(res, 0, 0), d->extra_what);
			set_problem(r, "changed", 0, strtoll(PQgetvalue(res, 0, 0), NULL, 10),
				    what);
		}
		PQclear(res);
	}
	return rc;
}

static int verify_chain(struct db *db, const struct chain_row *c, struct audit_chain_report *r,
			struct ml_error *err)
{
	copy(r->chain, sizeof(r->chain), c->chain);
	copy(r->table, sizeof(r->table), c->table);
	r->ok = 1;
	const struct chain_def *k = known_def(c->chain);
	struct chain_def fromdb = { c->chain,
				    c->table,
				    c->key,
				    c->fcol[0] ? c->fcol : NULL,
				    c->fcol[0] ? c->fval : NULL,
				    c->on_update,
				    NULL,
				    NULL,
				    NULL };
	r->known = k != NULL;
	if (k && (!same(k->table, c->table) || !same(k->key, c->key) ||
		  !same(k->filter_column, c->fcol) || !same(k->filter_value, c->fval) ||
		  k->on_update != c->on_update)) {
		char msg[AUDIT_PROBLEM_MAX];
		snprintf(msg, sizeof(msg),
			 "the ledger defines chain %s differently from this build (table %s, key "
			 "%s): verified as this build defines it",
			 c->chain, c->table, c->key);
		set_problem(r, "definition", 0, 0, msg);
	}
	const struct chain_def *d = k ? k : &fromdb;
	int rc = check_head(db, c, r, err);
	if (!rc)
		rc = check_table(db, d, r, err);
	if (!rc)
		rc = check_blocks(db, c->chain, r, err);
	if (!rc)
		rc = check_rows(db, d, r, err);
	return rc;
}

/* Known chains the ledger lacks. */
static void missing_chains(const struct chain_row *c, size_t n, struct audit_report *out)
{
	for (size_t i = 0; i < N_KNOWN; i++) {
		int found = 0;
		for (size_t j = 0; j < n && !found; j++)
			found = !strcmp(c[j].chain, known[i].chain);
		if (found)
			continue;
		struct audit_chain_report *r = &out->chains[out->n++];
		memset(r, 0, sizeof(*r));
		copy(r->chain, sizeof(r->chain), known[i].chain);
		copy(r->table, sizeof(r->table), known[i].table);
		r->known = 1;
		r->ok = 1;
		copy(r->head, sizeof(r->head), ZERO_HASH);
		char msg[AUDIT_PROBLEM_MAX];
		snprintf(msg, sizeof(msg),
			 "chain %s is missing from the ledger: %s is not protected", known[i].chain,
			 known[i].table);
		set_problem(r, "definition", 0, 0, msg);
	}
}

/* sha256 of text, as hex (the server's built-in). */
static int sha256_text(struct db *db, const char *text, char hex[65], struct ml_error *err)
{
	const char *p[1] = { text };
	PGresult *res = NULL;
	int rc = db_query_one(db, "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", 1, p,
			      &res, err);
	if (!rc)
		copy(hex, 65, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/* The anchor of the current heads: "chain=n,…@sha256("chain:n:hash\n"…)". */
static int make_anchor(struct db *db, struct audit_report *out, struct ml_error *err)
{
	struct ml_buf text = ML_BUF_INIT, tok = ML_BUF_INIT;
	int rc = ML_OK;
	for (size_t i = 0; i < out->n && !rc; i++) {
		const struct audit_chain_report *r = &out->chains[i];
		rc = ml_buf_printf(&text, "%s:%lld:%s\n", r->chain, r->blocks, r->head);
		rc |= ml_buf_printf(&tok, "%s%s=%lld", i ? "," : "", r->chain, r->blocks);
	}
	char hex[65];
	if (rc)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	if (!rc)
		rc = sha256_text(db, ml_buf_str(&text), hex, err);
	if (!rc && snprintf(out->anchor, sizeof(out->anchor), "%s@%s", ml_buf_str(&tok), hex) >=
			   (int)sizeof(out->anchor))
		rc = ml_errorf(err, ML_EINTERNAL, "anchor longer than %d bytes", AUDIT_ANCHOR_MAX);
	ml_buf_free(&text);
	ml_buf_free(&tok);
	return rc;
}

/* Check a recorded anchor: every chain it names still passes through that
 * block with that hash (the combined hash is recomputed from the blocks). */
static int check_expect(struct db *db, const char *expect, struct audit_report *out,
			struct ml_error *err)
{
	out->expect_checked = 1;
	const char *at = strrchr(expect, '@');
	if (!at || strlen(at + 1) != 64 || at == expect || strlen(expect) >= AUDIT_ANCHOR_MAX)
		return ml_errorf(
			err, ML_EINVAL,
			"anchor '%.80s' is not of the form chain=block,…@hash (as printed by "
			"audit verify)",
			expect);
	char list[AUDIT_ANCHOR_MAX];
	snprintf(list, sizeof(list), "%.*s", (int)(at - expect), expect);
	struct ml_buf text = ML_BUF_INIT;
	int rc = ML_OK;
	out->expect_ok = 1;
	for (char *save = NULL, *item = strtok_r(list, ",", &save); item && !rc;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		char *end = NULL;
		long long n = eq ? strtoll(eq + 1, &end, 10) : -1;
		if (!eq || eq == item || !end || *end || n < 0) {
			rc = ml_errorf(err, ML_EINVAL, "anchor item '%s' is not chain=block", item);
			break;
		}
		*eq = '\0';
		char hash[65] = ZERO_HASH;
		if (n > 0) {
			char nb[24];
			snprintf(nb, sizeof(nb), "%lld", n);
			const char *p[2] = { item, nb };
			PGresult *res = NULL;
			rc = db_exec(db,
				     "SELECT encode(block_hash, 'hex') FROM public.audit_block "
				     "WHERE chain = $1 AND block_no = $2::bigint",
				     2, p, PGRES_TUPLES_OK, &res, err);
			if (!rc && PQntuples(res))
				copy(hash, sizeof(hash), PQgetvalue(res, 0, 0));
			else if (!rc && out->expect_ok) {
				out->expect_ok = 0;
				snprintf(
					out->expect_problem, sizeof(out->expect_problem),
					"chain %s has no block %lld any more: the chain was cut back "
					"or removed after the anchor was taken",
					item, n);
			}
			PQclear(res);
		}
		if (!rc && ml_buf_printf(&text, "%s:%lld:%s\n", item, n, hash))
			rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	char hex[65];
	if (!rc)
		rc = sha256_text(db, ml_buf_str(&text), hex, err);
	if (!rc && out->expect_ok && strcmp(hex, at + 1)) {
		out->expect_ok = 0;
		snprintf(out->expect_problem, sizeof(out->expect_problem),
			 "the chains no longer pass through the anchored blocks (hash %.16s…, "
			 "expected %.16s…): history up to the anchor was rewritten",
			 hex, at + 1);
	}
	ml_buf_free(&text);
	return rc;
}

static int verify_in_tx(struct db *db, const char *expect, struct audit_report *out,
			struct ml_error *err)
{
	int rc = db_cmd(db, session_sql, 0, NULL, err);
	struct chain_row *c = NULL;
	size_t n = 0;
	if (!rc)
		rc = load_chains(db, &c, &n, err);
	if (!rc && !(out->chains = calloc(n + N_KNOWN, sizeof(*out->chains))))
		rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		rc = verify_chain(db, &c[i], &out->chains[i], err);
		out->n++;
	}
	if (!rc)
		missing_chains(c, n, out);
	if (!rc)
		rc = make_anchor(db, out, err);
	if (!rc && expect)
		rc = check_expect(db, expect, out, err);
	free(c);
	out->ok = !rc;
	for (size_t i = 0; i < out->n; i++)
		out->ok &= out->chains[i].ok;
	if (out->expect_checked)
		out->ok &= out->expect_ok;
	return rc;
}

int audit_verify(struct db *db, const char *expect, struct audit_report *out, struct ml_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = db_cmd(db, "SELECT ml_require('audit.verify')", 0, NULL, err);
	if (rc)
		return rc;
	/* One snapshot for every query: rows and blocks committed together are seen together. */
	rc = db_cmd(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err);
	if (!rc)
		rc = verify_in_tx(db, expect, out, err);
	db_rollback(db); /* read only: nothing to keep */
	if (rc)
		audit_report_free(out);
	return rc;
}

void audit_report_free(struct audit_report *r)
{
	if (!r)
		return;
	free(r->chains);
	r->chains = NULL;
	r->n = 0;
}
