-- 0344: a chained row's hash no longer depends on the client's encoding,
-- and no longer walks the row's text character by character.
--
-- Why: the row hash (0140) is sha256(textsend(rtrim(row::text, ',)') || ')')).
-- 1. textsend gives the text's bytes in the session's client_encoding, which
--    the chain triggers do not pin (they pin DateStyle, TimeZone and the rest
--    for the same reason): a row with Chinese text written by a client
--    connected with client_encoding GBK (a Chinese Windows console's
--    default) was hashed over its GBK bytes — '表' is b1 ed there, e8 a1 a8
--    in UTF8 — and `audit verify`, connected in UTF8, then reported the
--    untouched row as changed (tests/audit: RowHashesAreTheStoredText…).
-- 2. rtrim of text in a multibyte database first measures every character
--    of the string and allocates two arrays as long as it, whatever it
--    trims: for a certificate PDF's row (about 80 KB of hex text) 0.4 ms to
--    3.4 ms a row depending on the backend's memory, against 0.18 ms for the
--    whole expression below (a loop of 200 in one session, same row).
--
-- Now: sha256(rtrim(convert_to(row::text, getdatabaseencoding()), '\x2c29')
-- || '\x29'). convert_to to the database's own encoding is the text as
-- stored, whoever asks. Trimming the bytes 0x2C and 0x29 from the end
-- removes exactly the characters ',' and ')' that rtrim removed: every
-- encoding PostgreSQL allows for a database is ASCII-safe (a byte below
-- 0x80 is always that ASCII character, never part of a multibyte one).
-- For every client in the database's encoding (libpq's default, and every
-- meterlab program) the bytes are exactly what textsend gave, so every
-- block written so far still verifies; a row written before by a client in
-- another encoding keeps a hash no verifier could reproduce, as before.
-- The verifier (audit/audit.c) computes the same expression.
--
-- ml_audit_rows_sql and ml_audit_trigger_sql are re-created whole (landed
-- migrations are checksummed and CREATE OR REPLACE needs the whole body);
-- only the row hash expression differs from 0140. Each registered chain's
-- trigger function is then written again from the new text (CREATE OR
-- REPLACE keeps its owner and privileges).

CREATE OR REPLACE FUNCTION ml_audit_rows_sql(p_key text, p_filter_column text, p_filter_value text, p_source text)
	RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT format('SELECT array_agg(k), string_agg(int8send(k), ''\x''::bytea), string_agg(h, ''\x''::bytea) '
		      'FROM (SELECT n.%1$I AS k, sha256(rtrim(convert_to(n::text, getdatabaseencoding()), ''\x2c29''::bytea) || ''\x29''::bytea) AS h '
		      'FROM %2$s n %3$s) x',
		      p_key, p_source,
		      CASE WHEN p_filter_column IS NULL THEN ''
			   ELSE format('WHERE n.%I::text = %L', p_filter_column, p_filter_value) END)
$$;

CREATE OR REPLACE FUNCTION ml_audit_trigger_sql(p_chain text, p_key text, p_filter_column text, p_filter_value text)
	RETURNS text LANGUAGE sql IMMUTABLE AS $sql$
	SELECT format($f$
CREATE FUNCTION %1$I() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = public, pg_temp SET DateStyle = 'ISO, YMD' SET TimeZone = 'UTC'
	SET IntervalStyle = 'postgres' SET extra_float_digits = 1 SET bytea_output = 'hex' AS $b$
DECLARE
	v_keys bigint[];
	v_key_bytes bytea;
	v_hashes bytea;
	v_block bigint;
	v_prev bytea;
	v_hash bytea;
BEGIN
	SELECT array_agg(x.k), string_agg(int8send(x.k), '\x'::bytea), string_agg(x.h, '\x'::bytea)
	INTO v_keys, v_key_bytes, v_hashes
	FROM (SELECT n.%2$I AS k, sha256(rtrim(convert_to(n::text, getdatabaseencoding()), '\x2c29'::bytea) || '\x29'::bytea) AS h FROM ml_new n %3$s) x;
	IF v_keys IS NULL THEN
		RETURN NULL;
	END IF;
	IF length(v_key_bytes) IS DISTINCT FROM 8 * cardinality(v_keys) THEN
		RAISE EXCEPTION 'audit chain %%: a row without a key cannot be chained', %4$L USING ERRCODE = '23502';
	END IF;
	WITH head AS (SELECT c.chain, c.blocks, c.head_hash FROM audit_chain c WHERE c.chain = %4$L FOR UPDATE)
	UPDATE audit_chain c SET blocks = head.blocks + 1, rows = c.rows + cardinality(v_keys),
		head_hash = sha256(head.head_hash || convert_to(head.chain, 'UTF8') || int8send(head.blocks + 1)
				   || int8send((extract(epoch FROM now()) * 1000000)::bigint) || v_key_bytes || v_hashes),
		updated_at = now()
	FROM head WHERE c.chain = head.chain
	RETURNING c.blocks, head.head_hash, c.head_hash INTO v_block, v_prev, v_hash;
	INSERT INTO audit_block (chain, block_no, prev_hash, row_keys, row_hashes, created_at, block_hash)
	VALUES (%4$L, v_block, v_prev, v_keys, v_hashes, now(), v_hash);
	RETURN NULL;
END
$b$$f$,
		      'ml_audit_' || p_chain, p_key,
		      CASE WHEN p_filter_column IS NULL THEN ''
			   ELSE format('WHERE n.%I::text = %L', p_filter_column, p_filter_value) END,
		      p_chain)
$sql$;

DO $$
DECLARE
	c record;
	ddl text;
BEGIN
	FOR c IN SELECT chain, key_column, filter_column, filter_value FROM audit_chain ORDER BY chain LOOP
		ddl := ml_audit_trigger_sql(c.chain, c.key_column, c.filter_column, c.filter_value);
		IF ddl !~ '^\s*CREATE FUNCTION ' THEN
			RAISE EXCEPTION 'audit chain %: unexpected trigger text', c.chain;
		END IF;
		EXECUTE regexp_replace(ddl, '^\s*CREATE FUNCTION ', 'CREATE OR REPLACE FUNCTION ');
	END LOOP;
END
$$;
