-- 0140: tamper evidence — the history tables are chained by hashes in
-- insertion order (issue 8, part B; sql/README.md "Tamper evidence").
--
-- Privileges and append-only triggers stop every login, but not the owner
-- of the schema (who can disable a trigger, or drop it) nor a superuser.
-- What they change must at least be visible: every chained table gets a
-- statement-level AFTER trigger that appends ONE block per inserting
-- statement to a ledger:
--
--   block = (chain, block_no, prev_hash, row_keys[], row_hashes[], created_at,
--            block_hash = sha256(prev_hash | chain | block_no | created_at |
--                                key1 | hash1 | key2 | hash2 | …))
--   row hash = sha256(jsonb_strip_nulls(to_jsonb(row) - excluded columns)::text)
--
-- with the rows of the statement in key order, prev_hash the previous
-- block's hash (32 zero bytes before the first), and the chain's head row
-- (audit_chain) locked by the inserting transaction until it ends, so blocks
-- follow each other in the order the transactions took the head. The cost is
-- set-based: a 100 000-event delivery or a 10 000-asset move is one block
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
-- Row hashes are over jsonb with NULL fields stripped, so a later migration
-- may add NULLABLE columns (NULL in old rows) to a chained table without
-- changing old hashes; a column added with a non-NULL default changes every
-- old row's hash and must not be added to a chained table. Hashes are
-- computed with TimeZone UTC, IntervalStyle postgres, extra_float_digits 1
-- (pinned below and by the verifier), so a session's settings do not matter.

CREATE EXTENSION IF NOT EXISTS pgcrypto; -- hmac(), gen_random_bytes(): part of Debian's postgresql-15

CREATE TABLE audit_chain (
	chain text PRIMARY KEY CHECK (chain ~ '^[a-z][a-z0-9_]{1,62}$'),
	table_name text NOT NULL,                 -- the chained table (schema public)
	key_column text NOT NULL,                 -- a bigint column, unique in the table
	exclude_columns text[] NOT NULL DEFAULT '{}', -- not hashed (e.g. PDF bytes, hashed in another column)
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
	row_hashes bytea[] NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	block_hash bytea NOT NULL,
	db_user text NOT NULL DEFAULT session_user, -- not hashed: who wrote it, for the investigation
	PRIMARY KEY (chain, block_no)
);

-- The bytes a block hash covers, also written out by the verifier
-- (audit/audit.c, block_sql): prev | chain | block_no | created_at (µs since
-- the epoch) | each row's key and hash, in order.
CREATE FUNCTION ml_audit_block_hash(p_prev bytea, p_chain text, p_block bigint, p_at timestamptz,
				    p_body bytea) RETURNS bytea
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT sha256(p_prev || convert_to(p_chain, 'UTF8') || int8send(p_block)
		      || int8send((extract(epoch FROM p_at) * 1000000)::bigint) || coalesce(p_body, '\x'::bytea))
$$;

-- The SELECT that hashes the rows of a relation (the statement's transition
-- table, or the whole table for the first block) for chain c: returns one
-- row (keys, hashes, body) with the rows in key order.
CREATE FUNCTION ml_audit_rows_sql(c audit_chain, p_source text) RETURNS text
	LANGUAGE sql IMMUTABLE AS $$
	SELECT format('SELECT array_agg(k ORDER BY k), array_agg(h ORDER BY k), '
		      'string_agg(int8send(k) || h, ''\x''::bytea ORDER BY k) FROM ('
		      'SELECT n.%1$I AS k, sha256(convert_to(jsonb_strip_nulls(to_jsonb(n) - %2$L::text[])::text, ''UTF8'')) AS h '
		      'FROM %3$s n %4$s) x',
		      c.key_column, c.exclude_columns, p_source,
		      CASE WHEN c.filter_column IS NULL THEN ''
			   ELSE format('WHERE n.%I::text = %L', c.filter_column, c.filter_value) END)
$$;

-- Append one block (internal: the chain triggers and ml_audit_chain_add).
CREATE FUNCTION ml_audit_append_block(p_chain text, p_keys bigint[], p_hashes bytea[], p_body bytea)
	RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	prev bytea;
	n bigint;
	h bytea;
BEGIN
	IF p_keys IS NULL OR cardinality(p_keys) = 0 THEN
		RETURN;
	END IF;
	IF array_position(p_keys, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'audit chain %: a row without a key cannot be chained', p_chain USING ERRCODE = '23502';
	END IF;
	-- The head row lock orders the blocks; held until this transaction ends.
	SELECT head_hash, blocks + 1 INTO prev, n FROM audit_chain WHERE chain = p_chain FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'audit chain % is not registered', p_chain USING ERRCODE = 'XX000';
	END IF;
	h := ml_audit_block_hash(prev, p_chain, n, now(), p_body);
	INSERT INTO audit_block (chain, block_no, prev_hash, row_keys, row_hashes, created_at, block_hash)
	VALUES (p_chain, n, prev, p_keys, p_hashes, now(), h);
	UPDATE audit_chain SET blocks = n, rows = rows + cardinality(p_keys), head_hash = h, updated_at = now()
	WHERE chain = p_chain;
END
$$;

-- The chain trigger: FOR EACH STATEMENT, REFERENCING NEW TABLE AS ml_new,
-- TG_ARGV[0] the chain. The transition table is visible only to queries of
-- this function, so the rows are hashed here.
CREATE FUNCTION ml_audit_chain_trigger() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = public, pg_temp SET TimeZone = 'UTC' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' AS $$
DECLARE
	c audit_chain;
	k bigint[];
	h bytea[];
	body bytea;
BEGIN
	SELECT * INTO c FROM audit_chain WHERE chain = TG_ARGV[0];
	IF NOT FOUND THEN
		RAISE EXCEPTION 'audit chain % is not registered', TG_ARGV[0] USING ERRCODE = 'XX000';
	END IF;
	EXECUTE ml_audit_rows_sql(c, 'ml_new') INTO k, h, body;
	PERFORM ml_audit_append_block(c.chain, k, h, body);
	RETURN NULL;
END
$$;

-- Register a chain on a table (for migrations, run by the DBA: invoker's
-- rights, so it also sees tables the migration has just created): the head
-- row, the trigger, and a first block holding the rows already there.
CREATE FUNCTION ml_audit_chain_add(p_chain text, p_table text, p_key text, p_exclude text[] DEFAULT '{}',
				   p_filter_column text DEFAULT NULL, p_filter_value text DEFAULT NULL,
				   p_on_update boolean DEFAULT false) RETURNS void
	LANGUAGE plpgsql
	SET search_path = public, pg_temp SET TimeZone = 'UTC' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' AS $$
DECLARE
	c audit_chain;
	k bigint[];
	h bytea[];
	body bytea;
BEGIN
	INSERT INTO audit_chain (chain, table_name, key_column, exclude_columns, filter_column, filter_value, on_update)
	VALUES (p_chain, p_table, p_key, p_exclude, p_filter_column, p_filter_value, p_on_update)
	RETURNING * INTO c;
	EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS ml_new '
		       'FOR EACH STATEMENT EXECUTE FUNCTION ml_audit_chain_trigger(%L)',
		       p_chain || '_audit_insert', p_table, p_chain);
	IF p_on_update THEN
		EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS ml_new '
			       'FOR EACH STATEMENT EXECUTE FUNCTION ml_audit_chain_trigger(%L)',
			       p_chain || '_audit_update', p_table, p_chain);
	END IF;
	EXECUTE ml_audit_rows_sql(c, format('%I', p_table)) INTO k, h, body;
	PERFORM ml_audit_append_block(c.chain, k, h, body);
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
	IF (NEW.chain, NEW.table_name, NEW.key_column, NEW.exclude_columns, NEW.filter_column, NEW.filter_value,
	    NEW.on_update)
	   IS DISTINCT FROM (OLD.chain, OLD.table_name, OLD.key_column, OLD.exclude_columns, OLD.filter_column,
			     OLD.filter_value, OLD.on_update)
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
REVOKE EXECUTE ON FUNCTION ml_audit_chain_add(text, text, text, text[], text, text, boolean) FROM PUBLIC;
GRANT SELECT ON audit_chain, audit_block TO meterlab_app;
