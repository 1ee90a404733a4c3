-- 0140: tamper evidence — the history tables are chained by hashes in
-- insertion order (issue 8, part B; sql/README.md "Tamper evidence").
--
-- Privileges and append-only triggers stop every login, but not the owner
-- of the schema (who can disable a trigger, or drop it) nor a superuser.
-- What they change must at least be visible: every chained table gets a
-- statement-level AFTER trigger that appends ONE block per inserting
-- statement to a ledger:
--
--   row hash   = sha256(the row's text, trailing NULL fields dropped)
--   block      = (chain, block_no, prev_hash, row_keys[], row_hashes (32
--                 bytes per row, concatenated), created_at, block_hash)
--   block_hash = sha256(prev_hash | chain | block_no | created_at in µs |
--                       key1 | key2 | … (8 bytes each) | row_hashes)
--
-- with prev_hash the previous block's hash (32 zero bytes before the
-- first), and the chain's head row (audit_chain) locked by the inserting
-- transaction until it ends, so blocks follow each other in the order the
-- transactions took the head. The cost is set-based: a 100 000-event
-- delivery or a 10 000-asset move is one block, hashed in one pass
-- (bench/bench_audit measures the cost per event).
--
-- `meterlab audit verify` (audit/audit.c) recomputes every row hash from the
-- table and every block hash from its content with built-in functions, in
-- SQL it sends itself (not in functions the owner could replace), and
-- reports the first row changed, removed or inserted outside the chain, and
-- the first block that does not link. An owner who recomputes the whole
-- chain after a change passes that check; the head hash printed by
-- `audit verify` and recorded outside the database (`--expect ANCHOR`)
-- catches it for everything up to the anchor.
--
-- The row's text is the record output "(v1,v2,…)" with the trailing NULL
-- fields (the trailing commas) removed, so a later migration may add
-- NULLABLE columns (NULL in old rows) to a chained table without changing
-- old hashes; a column added with a non-NULL default, or a column dropped,
-- changes every old row's hash and must not happen to a chained table. The
-- text of dates and times depends on session settings: hashes are computed
-- with DateStyle ISO, TimeZone UTC, IntervalStyle postgres,
-- extra_float_digits 1 and bytea_output hex (pinned below and by the
-- verifier).

CREATE EXTENSION IF NOT EXISTS pgcrypto; -- hmac(), gen_random_bytes() for 0141: part of Debian's postgresql-15

CREATE TABLE audit_chain (
	chain text PRIMARY KEY CHECK (chain ~ '^[a-z][a-z0-9_]{1,62}$'),
	table_name text NOT NULL,                 -- the chained table (schema public)
	key_column text NOT NULL,                 -- a bigint column, unique in the table
	filter_column text,                       -- only rows where filter_column = filter_value are chained
	filter_value text,
	on_update boolean NOT NULL DEFAULT false, -- chained when updated into the filter (issued certificates)
	blocks bigint NOT NULL DEFAULT 0,
	rows bigint NOT NULL DEFAULT 0,
	head_hash bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000',
	updated_at timestamptz,
	CHECK ((filter_column IS NULL) = (filter_value IS NULL))
);

CREATE TABLE audit_block (
	chain text NOT NULL,
	block_no bigint NOT NULL CHECK (block_no >= 1),
	prev_hash bytea NOT NULL,
	row_keys bigint[] NOT NULL,
	row_hashes bytea NOT NULL CHECK (length(row_hashes) = 32 * cardinality(row_keys)),
	created_at timestamptz NOT NULL DEFAULT now(),
	block_hash bytea NOT NULL,
	db_user text NOT NULL DEFAULT session_user, -- not hashed: who wrote it, for the investigation
	PRIMARY KEY (chain, block_no)
);
-- Hashes do not compress: storing them as they are saves the attempt.
ALTER TABLE audit_block ALTER COLUMN row_keys SET STORAGE EXTERNAL,
	ALTER COLUMN row_hashes SET STORAGE EXTERNAL;

-- The SELECT that hashes the rows of a relation (the whole table for the
-- first block; the triggers below write the same query for their
-- transition table): one row (keys, key bytes, hashes), the three
-- aggregated in one pass, so in the same order.
CREATE FUNCTION ml_audit_rows_sql(p_key text, p_filter_column text, p_filter_value text, p_source text)
	RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT format('SELECT array_agg(k), string_agg(int8send(k), ''\x''::bytea), string_agg(h, ''\x''::bytea) '
		      'FROM (SELECT n.%1$I AS k, sha256(textsend(rtrim(n::text, '',)'') || '')'')) AS h '
		      'FROM %2$s n %3$s) x',
		      p_key, p_source,
		      CASE WHEN p_filter_column IS NULL THEN ''
			   ELSE format('WHERE n.%I::text = %L', p_filter_column, p_filter_value) END)
$$;

-- Append one block (internal: ml_audit_chain_add; the chain triggers do
-- the same inline). One statement takes the head row (its lock orders the
-- blocks and is held until the transaction ends; a waiting transaction reads
-- the head its predecessor left) and moves it forward; one inserts the block.
CREATE FUNCTION ml_audit_append_block(p_chain text, p_keys bigint[], p_key_bytes bytea, p_hashes bytea)
	RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	n bigint;
	prev bytea;
	h bytea;
BEGIN
	IF p_keys IS NULL THEN
		RETURN;
	END IF;
	IF length(p_key_bytes) IS DISTINCT FROM 8 * cardinality(p_keys) THEN
		RAISE EXCEPTION 'audit chain %: a row without a key cannot be chained', p_chain USING ERRCODE = '23502';
	END IF;
	WITH head AS (SELECT c.chain, c.blocks, c.head_hash FROM audit_chain c WHERE c.chain = p_chain FOR UPDATE)
	UPDATE audit_chain c SET blocks = head.blocks + 1, rows = c.rows + cardinality(p_keys),
		head_hash = sha256(head.head_hash || convert_to(p_chain, 'UTF8') || int8send(head.blocks + 1)
				   || int8send((extract(epoch FROM now()) * 1000000)::bigint) || p_key_bytes || p_hashes),
		updated_at = now()
	FROM head WHERE c.chain = head.chain
	RETURNING c.blocks, head.head_hash, c.head_hash INTO n, prev, h;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'audit chain % is not registered', p_chain USING ERRCODE = 'XX000';
	END IF;
	INSERT INTO audit_block (chain, block_no, prev_hash, row_keys, row_hashes, created_at, block_hash)
	VALUES (p_chain, n, prev, p_keys, p_hashes, now(), h);
END
$$;

-- The chain trigger of a chain: generated by ml_audit_chain_add with the
-- chain's query written out (static SQL: planned once per session, where
-- EXECUTE would plan it for every statement), FOR EACH STATEMENT,
-- REFERENCING NEW TABLE AS ml_new — the transition table is visible only to
-- queries of the trigger function itself, so the rows are hashed there.
CREATE FUNCTION ml_audit_trigger_sql(p_chain text, p_key text, p_filter_column text, p_filter_value text)
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
	FROM (SELECT n.%2$I AS k, sha256(textsend(rtrim(n::text, ',)') || ')')) AS h FROM ml_new n %3$s) x;
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

-- Register a chain on a table (for migrations, run by the DBA: invoker's
-- rights, so it also sees tables the migration has just created): the head
-- row, the trigger function and trigger(s), and a first block holding the
-- rows already there.
CREATE FUNCTION ml_audit_chain_add(p_chain text, p_table text, p_key text, p_filter_column text DEFAULT NULL,
				   p_filter_value text DEFAULT NULL, p_on_update boolean DEFAULT false) RETURNS void
	LANGUAGE plpgsql
	SET search_path = public, pg_temp SET DateStyle = 'ISO, YMD' SET TimeZone = 'UTC'
	SET IntervalStyle = 'postgres' SET extra_float_digits = 1 SET bytea_output = 'hex' AS $$
DECLARE
	k bigint[];
	kb bytea;
	h bytea;
BEGIN
	INSERT INTO audit_chain (chain, table_name, key_column, filter_column, filter_value, on_update)
	VALUES (p_chain, p_table, p_key, p_filter_column, p_filter_value, p_on_update);
	EXECUTE ml_audit_trigger_sql(p_chain, p_key, p_filter_column, p_filter_value);
	EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS ml_new '
		       'FOR EACH STATEMENT EXECUTE FUNCTION %I()', p_chain || '_audit_insert', p_table,
		       'ml_audit_' || p_chain);
	IF p_on_update THEN
		EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS ml_new '
			       'FOR EACH STATEMENT EXECUTE FUNCTION %I()', p_chain || '_audit_update', p_table,
			       'ml_audit_' || p_chain);
	END IF;
	EXECUTE ml_audit_rows_sql(p_key, p_filter_column, p_filter_value, format('%I', p_table)) INTO k, kb, h;
	PERFORM ml_audit_append_block(p_chain, k, kb, h);
END
$$;

-- The ledger itself is append-only for everyone, the owner included (who
-- can disable these triggers: that is what the hashes and the anchor are for).
CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_block_append_only BEFORE UPDATE OR DELETE ON audit_block
	FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_block_no_truncate BEFORE TRUNCATE ON audit_block
	FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
	FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

-- A chain's definition never changes and its head only moves forward by one block.
CREATE FUNCTION audit_chain_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'audit chain % cannot be removed', OLD.chain USING ERRCODE = '42501';
	END IF;
	IF (NEW.chain, NEW.table_name, NEW.key_column, NEW.filter_column, NEW.filter_value, NEW.on_update)
	   IS DISTINCT FROM (OLD.chain, OLD.table_name, OLD.key_column, OLD.filter_column, OLD.filter_value,
			     OLD.on_update)
	   OR NEW.blocks <> OLD.blocks + 1 OR NEW.rows < OLD.rows THEN
		RAISE EXCEPTION 'audit chain %: the definition is fixed and the head moves forward one block at a time',
			OLD.chain USING ERRCODE = '42501';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER audit_chain_guard BEFORE UPDATE OR DELETE ON audit_chain
	FOR EACH ROW EXECUTE FUNCTION audit_chain_guard();

-- The history of assets, and of people and roles.
SELECT ml_audit_chain_add('asset_event', 'asset_event', 'event_id');
SELECT ml_audit_chain_add('app_user_log', 'app_user_log', 'log_id');
SELECT ml_audit_chain_add('lab_setting_log', 'lab_setting_log', 'log_id');

-- Everyone may read the ledger (auditors verify it); nobody writes it but
-- the chain triggers (SECURITY DEFINER, run as the owner).
REVOKE ALL ON audit_chain, audit_block FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ml_audit_chain_add(text, text, text, text, text, boolean) FROM PUBLIC;
GRANT SELECT ON audit_chain, audit_block TO meterlab_app;
