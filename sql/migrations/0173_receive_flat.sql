-- 0173: the delivery import's cost stops growing with the registry (issue 10).
--
-- Measured with auto_explain at 1 M assets (bench_scale --writes): the checks
-- of ml_asset_receive took 1.14 s of 3.03 s for 100 000 rows, mostly judging
-- every row's batch, date and box text although a delivery repeats a handful
-- of them, and the "already registered" check was a hash join against the
-- whole asset table at 10 M (3.5 s). Now: each distinct value is judged once,
-- the registry is probed by index per row, duplicates are found by one
-- aggregate, and the function runs with a work_mem that keeps its sorts of
-- 100 000 rows in memory (two spilled to disk at the default 4 MB).
-- Same signature, same messages and order of problems (tests/assets).

-- The barcode's form and check digit, as before (0111; C: assets/barcode.c),
-- computed without regular expressions: the two regexes and 21 text-to-int
-- casts cost 7.4 µs a barcode (0.74 s of a 100 000-row delivery), ltrim and
-- ascii arithmetic 1.8 µs. Only ASCII digits count as digits, as in [0-9].
-- tests/assets/barcode_sql_test.cc compares these with barcode_validate().
CREATE OR REPLACE FUNCTION ml_barcode_check_digit(b text) RETURNS int
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN length(b) >= 21 AND ltrim(left(b, 21), '0123456789') = '' THEN
		(10 - (3 * (ascii(substr(b, 1, 1)) + ascii(substr(b, 3, 1)) + ascii(substr(b, 5, 1)) + ascii(substr(b, 7, 1))
			    + ascii(substr(b, 9, 1)) + ascii(substr(b, 11, 1)) + ascii(substr(b, 13, 1)) + ascii(substr(b, 15, 1))
			    + ascii(substr(b, 17, 1)) + ascii(substr(b, 19, 1)) + ascii(substr(b, 21, 1)))
		       + ascii(substr(b, 2, 1)) + ascii(substr(b, 4, 1)) + ascii(substr(b, 6, 1)) + ascii(substr(b, 8, 1))
		       + ascii(substr(b, 10, 1)) + ascii(substr(b, 12, 1)) + ascii(substr(b, 14, 1)) + ascii(substr(b, 16, 1))
		       + ascii(substr(b, 18, 1)) + ascii(substr(b, 20, 1))
		       - 48 * 43) % 10) % 10 END  -- 43 = 11 digits weighted 3 + 10 weighted 1 ('0' is 48)
$$;

CREATE OR REPLACE FUNCTION ml_barcode_ok(b text) RETURNS boolean
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN octet_length(b) = 22 AND ltrim(b, '0123456789') = ''
		THEN ascii(substr(b, 22, 1)) - 48 = ml_barcode_check_digit(b) ELSE false END
$$;

CREATE OR REPLACE FUNCTION ml_asset_receive(p_lot text, p_supplier text, p_file_name text, p_sha256 text,
				 p_location text DEFAULT 'CENTRAL', p_check_only boolean DEFAULT false)
	RETURNS SETOF ml_row_problem
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET work_mem = '64MB' AS $$
DECLARE
	actor bigint := ml_require('asset.receive');
	actor_login text := (SELECT login FROM app_user WHERE user_id = actor);
	me xid8 := pg_current_xact_id();
	prev record;
	loc location;
	n bigint;
	lot_no bigint;
	problems ml_row_problem[];
BEGIN
	PERFORM ml_check_code('lot code', p_lot, '^[A-Za-z0-9_./-]{1,64}$');
	p_supplier := ml_clean_text('supplier', p_supplier, 200, false);
	p_file_name := ml_clean_text('file name', p_file_name, 255, false);
	IF p_sha256 IS NULL OR p_sha256 !~ '^[0-9a-f]{64}$' THEN
		RAISE EXCEPTION 'file checksum % is not a sha256 in hex', coalesce(quote_literal(left(p_sha256, 80)), 'NULL')
			USING ERRCODE = '22023';
	END IF;
	SELECT l.code, l.file_sha256 = p_sha256 AS same_file, to_char(l.received_at, 'YYYY-MM-DD HH24:MI') AS at
	INTO prev FROM lot l WHERE l.code = p_lot OR l.file_sha256 = p_sha256 ORDER BY l.code = p_lot DESC LIMIT 1;
	IF FOUND THEN
		IF prev.same_file THEN
			RAISE EXCEPTION 'this file was already imported as lot ''%'' on %; nothing imported', prev.code, prev.at
				USING ERRCODE = '23505';
		END IF;
		RAISE EXCEPTION 'lot ''%'' already exists (received %); nothing imported', p_lot, prev.at
			USING ERRCODE = '23505';
	END IF;
	SELECT * INTO loc FROM location l WHERE l.code = coalesce(p_location, 'CENTRAL');
	IF NOT FOUND THEN
		RAISE EXCEPTION 'store location ''%'' does not exist; nothing imported', p_location USING ERRCODE = 'P0002';
	END IF;
	IF loc.kind NOT IN ('central_store', 'secondary_store') THEN
		RAISE EXCEPTION 'a delivery is received into a store, but ''%'' is a %; nothing imported', loc.code, loc.kind
			USING ERRCODE = '22023';
	END IF;
	SELECT count(*) INTO n FROM asset_receive_stage s WHERE s.stage_xid = me;
	IF n = 0 THEN
		RAISE EXCEPTION 'the delivery has no rows; nothing imported' USING ERRCODE = '22023';
	END IF;

	WITH s AS MATERIALIZED (SELECT s.line, s.barcode, s.model_code, s.production_batch, s.production_date, s.box_code
				FROM asset_receive_stage s WHERE s.stage_xid = me),
	-- A delivery repeats a few models, batches and dates over its rows: each
	-- distinct value is judged once, then the (usually empty) set of bad
	-- values is joined back to name every line that carries one. OFFSET 0
	-- keeps the planner from pushing the judgement below the DISTINCT (it
	-- did: every row was judged again).
	bad_model AS (
		SELECT d.v FROM (SELECT DISTINCT s.model_code AS v FROM s WHERE s.model_code IS NOT NULL OFFSET 0) d
		WHERE NOT EXISTS (SELECT 1 FROM device_model m WHERE m.code = d.v)),
	bad_batch AS (
		SELECT d.v, CASE WHEN d.v = '' THEN 'empty' WHEN length(d.v) > 64 THEN 'longer than 64 characters'
			    ELSE 'contains a control or invisible character, or leading/trailing space' END AS reason
		FROM (SELECT DISTINCT s.production_batch AS v FROM s WHERE s.production_batch IS NOT NULL OFFSET 0) d
		WHERE NOT ml_text_ok(normalize(d.v, NFC), 64)),
	bad_date AS (
		SELECT d.v, CASE WHEN NOT ml_date_ok(d.v) THEN 'not a calendar date YYYY-MM-DD'
			    WHEN d.v::date > current_date THEN 'in the future (the server''s date is ' || current_date || ')'
			    ELSE 'more than 20 years before the server''s date: not the production date of a new delivery' END AS reason
		FROM (SELECT DISTINCT s.production_date AS v FROM s WHERE s.production_date IS NOT NULL OFFSET 0) d
		WHERE CASE WHEN ml_date_ok(d.v) THEN d.v::date > current_date OR d.v::date < current_date - 7305 ELSE true END),
	bad_box AS (
		SELECT d.v, CASE WHEN length(d.v) > 64 THEN 'longer than 64 characters'
			    ELSE 'contains a control or invisible character, or leading/trailing space' END AS reason
		FROM (SELECT DISTINCT s.box_code AS v FROM s WHERE s.box_code IS NOT NULL AND s.box_code <> '' OFFSET 0) d
		WHERE NOT ml_text_ok(normalize(d.v, NFC), 64)),
	dup AS (
		SELECT s.barcode, min(s.line) AS first FROM s WHERE s.barcode IS NOT NULL GROUP BY s.barcode
		HAVING count(*) > 1),
	p AS (
		SELECT s.line, 'barcode' AS col, s.barcode AS val, ml_barcode_problem(s.barcode) AS reason
		FROM s WHERE s.barcode IS NOT NULL AND NOT ml_barcode_ok(s.barcode)
		UNION ALL
		SELECT s.line, 'model_code', s.model_code, 'unknown model code' FROM s JOIN bad_model b ON b.v = s.model_code
		UNION ALL
		SELECT s.line, 'production_batch', s.production_batch, b.reason FROM s JOIN bad_batch b ON b.v = s.production_batch
		UNION ALL
		SELECT s.line, 'production_date', s.production_date, b.reason FROM s JOIN bad_date b ON b.v = s.production_date
		UNION ALL
		SELECT s.line, 'box_code', s.box_code, b.reason FROM s JOIN bad_box b ON b.v = s.box_code
		UNION ALL
		SELECT s.line, 'barcode', s.barcode, 'duplicate within the file (first on line ' || d.first || ')'
		FROM s JOIN dup d ON d.barcode = s.barcode WHERE s.line <> d.first
		UNION ALL
		-- One index probe per row (LATERAL … LIMIT 1 is always a nested loop):
		-- the planner's hash join against the whole registry grew with it
		-- (3.5 s of 6.2 s at 10 M, issue 10); a delivery's new barcodes are
		-- neighbours in the index, so the probes touch few pages.
		SELECT s.line, 'barcode', s.barcode, 'barcode already registered (lot ' || l.code || ', state ' || a.state || ')'
		FROM s CROSS JOIN LATERAL (SELECT x.state, x.lot_id FROM asset x WHERE x.barcode = s.barcode::bpchar LIMIT 1) a
		JOIN lot l ON l.lot_id = a.lot_id
		WHERE length(s.barcode) = 22
		UNION ALL
		SELECT s.line, 'barcode', NULL, 'barcode is missing' FROM s WHERE s.barcode IS NULL
		UNION ALL
		SELECT s.line, 'model_code', NULL, 'model_code is missing' FROM s WHERE s.model_code IS NULL
		UNION ALL
		SELECT s.line, 'production_batch', NULL, 'production_batch is missing' FROM s WHERE s.production_batch IS NULL
		UNION ALL
		SELECT s.line, 'production_date', NULL, 'production_date is missing' FROM s WHERE s.production_date IS NULL)
	SELECT array_agg(ROW(p.line, p.col, p.val, p.reason)::ml_row_problem ORDER BY p.line, p.col) INTO problems FROM p;
	IF problems IS NOT NULL OR p_check_only THEN
		DELETE FROM asset_receive_stage s WHERE s.stage_xid = me;
		RETURN QUERY SELECT * FROM unnest(problems);
		RETURN;
	END IF;

	BEGIN
		INSERT INTO lot (code, manufacturer_id, model_id, supplier, file_name, file_sha256, row_count, received_by,
				 received_by_id)
		SELECT p_lot, CASE WHEN count(DISTINCT m.manufacturer_id) = 1 THEN min(m.manufacturer_id) END,
		       CASE WHEN count(DISTINCT m.model_id) = 1 THEN min(m.model_id) END, p_supplier, p_file_name, p_sha256,
		       count(*), actor_login, actor
		FROM asset_receive_stage s JOIN device_model m ON m.code = s.model_code WHERE s.stage_xid = me
		RETURNING lot_id INTO lot_no;
		WITH ins AS (
			INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, box_code, state, location_id)
			SELECT s.barcode, m.model_id, lot_no, normalize(s.production_batch, NFC), s.production_date::date,
			       nullif(normalize(s.box_code, NFC), ''), 'arrived', loc.location_id
			FROM asset_receive_stage s JOIN device_model m ON m.code = s.model_code
			WHERE s.stage_xid = me ORDER BY s.line
			RETURNING asset_id, location_id)
		INSERT INTO asset_event (asset_id, actor, actor_id, location_id, from_state, to_state, action, details)
		SELECT ins.asset_id, actor_login, actor, ins.location_id, NULL, 'arrived', 'receive',
		       jsonb_build_object('lot', p_lot)
		FROM ins;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'lot ''%'' or this file was imported concurrently; nothing imported', p_lot
			USING ERRCODE = '23505';
	END;
	DELETE FROM asset_receive_stage s WHERE s.stage_xid = me;
	RETURN;
END
$$;

