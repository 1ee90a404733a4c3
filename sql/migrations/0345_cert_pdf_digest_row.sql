-- 0345 (issue 10): an approval's PDF row is chained by its digest, and the
-- issue begin keeps its plans.
--
-- 1. The cert_pdf chain hashes a new row's text with the PDF bytes replaced
--    by their SHA-256:
--
--      sha256(convert_to(ROW(asset_id, cert_id,
--                            'sha256:' || encode(sha256(pdf), 'hex'),
--                            sha256, stored_at)::text, getdatabaseencoding()))
--
--    Why: the row hash of 0140/0344 is taken over the row's text, and a
--    48 KB certificate's text is its PDF in hex, 96 KB, copied four times
--    on the way (record text, convert_to, rtrim, the closing ')'): 1.27 ms
--    a row in a loop of 200 in one session, of which sha256 over the PDF
--    itself is 0.09 ms. Most of it is the backend's memory: the copies are
--    too big for PostgreSQL's pooled chunks, glibc gives them fresh pages
--    and trims them at the end of the statement, and on this VM the page
--    faults dominate (perf: 38 % of the backend in the kernel's fault
--    path, 25 % in memmove). In bench_cert_issue's one-per-transaction
--    approvals the PDF store went from 1.75–3.43 to 1.44–1.52 ms a
--    certificate (three alternating pairs on one database).
--
--    The PDF stays covered: its digest is in the hashed text, and the row's
--    own sha256 column (also hashed) must equal it (CHECK of 0040, and
--    `audit verify` checks every stored PDF against it). 'sha256:' cannot
--    begin a bytea's text ('"\\x…"'), so no row hashed by one form has the
--    text of a row hashed by the other. `audit verify` (audit/audit.c)
--    accepts a cert_pdf row whose recorded hash is either form — rows
--    recorded before this migration keep 0344's, as blocks are never
--    rewritten. A column added to cert_pdf later must be added to this
--    ROW(...) here and in audit.c, or it is not covered.
--
--    The trigger is written from ml_audit_trigger_sql (0344) with the hash
--    expression replaced (exactly one occurrence, checked), as 0344 wrote
--    every chain's trigger; a later migration that writes every trigger
--    again from ml_audit_trigger_sql must keep this replacement for
--    cert_pdf (rows hashed by 0344's form still verify; they are slower).
--
-- 2. ml_cert_issue_begin plans its statements once per session
--    (force_generic_plan, as ml_cert_run_problem since 0341; the results
--    count inside it keeps its custom plan, 0343). Why: its statements on
--    `id = ANY (p_ids)` were planned again at every call — a custom plan
--    for a one-element array always looks cheaper than the generic one —
--    about 1 ms of planning in each approval (pg_stat_statements with
--    track_planning: the two cert_issuing INSERTs 0.35 ms, the lock and
--    existence checks 0.2 ms, …); every one of them reads by primary key
--    or the transaction's own cert_issuing rows, the same plan for one
--    certificate or a batch of 96. The begin went from 4.13–4.59 to
--    3.47–4.30 ms a certificate (three alternating pairs).

DO $$
DECLARE
	full_hash CONSTANT text := $h$sha256(rtrim(convert_to(n::text, getdatabaseencoding()), '\x2c29'::bytea) || '\x29'::bytea)$h$;
	digest_hash CONSTANT text := $h$sha256(convert_to(ROW(n.asset_id, n.cert_id, 'sha256:' || encode(sha256(n.pdf), 'hex'), n.sha256, n.stored_at)::text, getdatabaseencoding()))$h$;
	c record;
	ddl text;
BEGIN
	SELECT chain, key_column, filter_column, filter_value INTO c FROM audit_chain WHERE chain = 'cert_pdf';
	IF NOT FOUND OR c.key_column <> 'cert_id' OR c.filter_column IS NOT NULL THEN
		RAISE EXCEPTION 'audit chain cert_pdf: not as 0141 registered it';
	END IF;
	ddl := ml_audit_trigger_sql(c.chain, c.key_column, c.filter_column, c.filter_value);
	IF ddl !~ '^\s*CREATE FUNCTION ' OR array_length(string_to_array(ddl, full_hash), 1) IS DISTINCT FROM 2 THEN
		RAISE EXCEPTION 'audit chain cert_pdf: unexpected trigger text';
	END IF;
	EXECUTE regexp_replace(replace(ddl, full_hash, digest_hash), '^\s*CREATE FUNCTION ', 'CREATE OR REPLACE FUNCTION ');
END
$$;

ALTER FUNCTION ml_cert_issue_begin(bigint[]) SET plan_cache_mode = force_generic_plan;
