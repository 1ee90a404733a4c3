-- 0174: the delivery import checks a clean file in one pass and lets the
-- barcode index find duplicates (issue 10, phase 2).
--
-- Measured with auto_explain (100 000 rows, 100 k registry, loaded machine):
-- the checks of 0173 took 2.3 s of 7.4 s — fourteen scans of the staged rows,
-- a hash aggregate of every barcode for duplicates within the file (0.23 s)
-- and one index probe per row for "already registered" (0.37 s) — before the
-- INSERT, whose unique index on barcode probes every barcode again anyway.
--
-- Now, for the usual file (nothing wrong with it): ONE grouped scan of the
-- staged rows judges every row's barcode (form and check digit) and missing
-- values, and each distinct (model, batch, date, box) once; the lot's model
-- and maker come from the same groups (0173 scanned and sorted the rows
-- again for them). Then the rows are inserted in a subtransaction: a barcode
-- that is in the file twice or already registered makes the barcode index
-- raise unique_violation, which rolls the subtransaction back and runs the
-- full check of 0173 (every problem, same messages, same order), exactly as
-- before. A file with any problem takes that full check at once. Same
-- signature, same results and messages; all or nothing as before.

-- The full check of 0173, unchanged, as an internal function: every problem of
-- the staged rows of transaction p_me, ordered by line and column; NULL when
-- there is none. Runs as its caller: only ml_asset_receive (the owner) may read
-- the staging table.
CREATE FUNCTION ml_receive_problems(p_me xid8) RETURNS ml_row_problem[]
	LANGUAGE plpgsql SET search_path = public, pg_temp SET work_mem = '64MB' AS $$
DECLARE
	problems ml_row_problem[];
BEGIN
	WITH s AS MATERIALIZED (SELECT s.line, s.barcode, s.model_code, s.production_batch, s.production_date, s.box_code
				FROM asset_receive_stage s WHERE s.stage_xid = p_me),
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
	RETURN problems;
END
$$;
REVOKE ALL ON FUNCTION ml_receive_problems(xid8) FROM PUBLIC;

-- NFC of a text; ASCII text (the usual batch and box) is NFC already and
-- skips normalize(), which costs about a microsecond a call.
CREATE FUNCTION ml_nfc(t text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN octet_length(t) = length(t) THEN t ELSE normalize(t, NFC) END
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
	bad boolean;
	models text[];
	lot_no bigint;
	cname text;
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

	-- One pass: how many rows, whether any would be refused, which models.
	-- Per row only the barcode and the missing values are judged; batches,
	-- dates, boxes and models repeat, so each distinct combination is judged
	-- once (the same rules as ml_receive_problems; anything judged bad, or
	-- unknown, sends the file to the full check, which names it).
	-- The staging table's statistics are those of an empty table, so the
	-- planner sorts rather than hashes the groups: COLLATE "C" makes that
	-- sort compare bytes (equality is the same under any deterministic
	-- collation), not strcoll() of the locale (0.6 s of 100 000 rows).
	WITH g0 AS (
		SELECT s.model_code COLLATE "C" AS model_code, s.production_batch COLLATE "C" AS production_batch,
		       s.production_date COLLATE "C" AS production_date, s.box_code COLLATE "C" AS box_code,
		       count(*) AS n, bool_or(s.barcode IS NULL OR NOT ml_barcode_ok(s.barcode)) AS bad_barcode
		FROM asset_receive_stage s WHERE s.stage_xid = me GROUP BY 1, 2, 3, 4),
	g AS (
		SELECT g0.model_code COLLATE "default" AS model_code, g0.production_batch COLLATE "default" AS production_batch,
		       g0.production_date COLLATE "default" AS production_date, g0.box_code COLLATE "default" AS box_code,
		       g0.n, g0.bad_barcode
		FROM g0)
	SELECT coalesce(sum(g.n), 0),
	       coalesce(bool_or(coalesce(
			g.bad_barcode OR g.model_code IS NULL OR g.production_batch IS NULL OR g.production_date IS NULL
			OR NOT EXISTS (SELECT 1 FROM device_model m WHERE m.code = g.model_code)
			OR NOT ml_text_ok(normalize(g.production_batch, NFC), 64)
			OR CASE WHEN ml_date_ok(g.production_date)
				THEN g.production_date::date > current_date OR g.production_date::date < current_date - 7305
				ELSE true END
			OR (g.box_code IS NOT NULL AND g.box_code <> '' AND NOT ml_text_ok(normalize(g.box_code, NFC), 64)),
			true)), false),
	       array_agg(DISTINCT g.model_code)
	INTO n, bad, models FROM g;
	IF n = 0 THEN
		RAISE EXCEPTION 'the delivery has no rows; nothing imported' USING ERRCODE = '22023';
	END IF;
	IF bad OR p_check_only THEN
		problems := ml_receive_problems(me);
		IF problems IS NOT NULL OR p_check_only THEN
			DELETE FROM asset_receive_stage s WHERE s.stage_xid = me;
			RETURN QUERY SELECT * FROM unnest(problems);
			RETURN;
		END IF;
	END IF;

	BEGIN
		INSERT INTO lot (code, manufacturer_id, model_id, supplier, file_name, file_sha256, row_count, received_by,
				 received_by_id)
		SELECT p_lot, CASE WHEN count(DISTINCT m.manufacturer_id) = 1 THEN min(m.manufacturer_id) END,
		       CASE WHEN count(DISTINCT m.model_id) = 1 THEN min(m.model_id) END, p_supplier, p_file_name, p_sha256,
		       n, actor_login, actor
		FROM device_model m WHERE m.code = ANY (models)
		RETURNING lot_id INTO lot_no;
		WITH ins AS (
			INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, box_code, state, location_id)
			SELECT s.barcode, m.model_id, lot_no, ml_nfc(s.production_batch), s.production_date::date,
			       nullif(ml_nfc(s.box_code), ''), 'arrived', loc.location_id
			FROM asset_receive_stage s JOIN device_model m ON m.code = s.model_code
			WHERE s.stage_xid = me ORDER BY s.line
			RETURNING asset_id, location_id)
		INSERT INTO asset_event (asset_id, actor, actor_id, location_id, from_state, to_state, action, details)
		SELECT ins.asset_id, actor_login, actor, ins.location_id, NULL, 'arrived', 'receive',
		       jsonb_build_object('lot', p_lot)
		FROM ins;
	EXCEPTION WHEN unique_violation THEN
		-- The barcode index refused a barcode in the file twice or already
		-- registered (or, concurrently, the lot code or the file): nothing of
		-- the subtransaction stays; the full check names every problem.
		GET STACKED DIAGNOSTICS cname = CONSTRAINT_NAME;
		IF cname = 'asset_barcode_key' THEN
			problems := ml_receive_problems(me);
		END IF;
		IF problems IS NULL THEN
			RAISE EXCEPTION 'lot ''%'' or this file was imported concurrently; nothing imported', p_lot
				USING ERRCODE = '23505';
		END IF;
		DELETE FROM asset_receive_stage s WHERE s.stage_xid = me;
		RETURN QUERY SELECT * FROM unnest(problems);
		RETURN;
	END;
	DELETE FROM asset_receive_stage s WHERE s.stage_xid = me;
	RETURN;
END
$$;

-- 0170's reference check took three passes over a delivery's transition table
-- (one per referenced table, 0.2 s for 100 000 rows); the distinct
-- combinations of one statement are few, so one pass collects them. Same
-- guarantee, SQLSTATE and message.
CREATE OR REPLACE FUNCTION asset_refs_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	missing text;
	holder text;
BEGIN
	WITH d AS MATERIALIZED (SELECT DISTINCT model_id, lot_id, location_id FROM new_rows)
	SELECT 'device_model ' || r.id INTO missing
	FROM (SELECT DISTINCT model_id AS id FROM d) r
	WHERE NOT EXISTS (SELECT 1 FROM device_model m WHERE m.model_id = r.id)
	UNION ALL
	SELECT 'lot ' || r.id FROM (SELECT DISTINCT lot_id AS id FROM d) r
	WHERE NOT EXISTS (SELECT 1 FROM lot l WHERE l.lot_id = r.id)
	UNION ALL
	SELECT 'location ' || r.id FROM (SELECT DISTINCT location_id AS id FROM d WHERE location_id IS NOT NULL) r
	WHERE NOT EXISTS (SELECT 1 FROM location l WHERE l.location_id = r.id)
	LIMIT 1;
	IF FOUND THEN
		-- name an asset holding the missing id (the message 0003 gave)
		SELECT n.barcode INTO holder FROM new_rows n
		WHERE missing IN ('device_model ' || n.model_id, 'lot ' || n.lot_id,
				  'location ' || n.location_id) LIMIT 1;
		RAISE EXCEPTION 'asset % refers to a missing %', holder, missing
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NULL;
END
$$;

-- 0170's counts took one pass over the transition tables per count table
-- (four for a delivery: 0.26 s of 100 000 rows under load). Now one pass
-- aggregates a statement's rows to (lot, place, model, state) — a delivery
-- is one or a few combinations, a 10 000-asset move a few hundred — and the
-- upserts read that. The same tables in the same order, each in key order,
-- so the locking of 0170 is unchanged.
CREATE TYPE ml_count_delta AS (lot_id bigint, location_id bigint, model_id bigint, state text, n bigint,
			       first_id bigint, last_id bigint);

CREATE OR REPLACE FUNCTION asset_counts_apply() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	d ml_count_delta[];
BEGIN
	IF TG_OP = 'INSERT' THEN
		SELECT array_agg(ROW(lot_id, coalesce(location_id, 0), model_id, state, n, lo, hi)::ml_count_delta)
		INTO d FROM (SELECT lot_id, location_id, model_id, state, count(*) AS n, min(asset_id) AS lo,
				    max(asset_id) AS hi
			     FROM new_rows GROUP BY 1, 2, 3, 4) x;
	ELSIF TG_OP = 'UPDATE' THEN
		SELECT array_agg(ROW(lot_id, loc, model_id, state, n, NULL, NULL)::ml_count_delta)
		INTO d FROM (SELECT lot_id, loc, model_id, state, sum(dn) AS n FROM (
				SELECT lot_id, coalesce(location_id, 0) AS loc, model_id, state, -1 AS dn FROM old_rows
				UNION ALL SELECT lot_id, coalesce(location_id, 0), model_id, state, 1 FROM new_rows) u
			     GROUP BY 1, 2, 3, 4 HAVING sum(dn) <> 0) x;
	ELSIF TG_OP = 'DELETE' THEN
		SELECT array_agg(ROW(lot_id, coalesce(location_id, 0), model_id, state, -n, NULL, NULL)::ml_count_delta)
		INTO d FROM (SELECT lot_id, location_id, model_id, state, count(*) AS n FROM old_rows GROUP BY 1, 2, 3, 4) x;
	ELSE -- TRUNCATE
		DELETE FROM asset_count_lot;
		DELETE FROM asset_count_place;
		DELETE FROM asset_count_model;
		DELETE FROM asset_lot_span;
		RETURN NULL;
	END IF;
	IF d IS NULL THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'DELETE' THEN
		-- as 0170: deleting never creates a counter row
		UPDATE asset_count_lot c SET n = c.n + o.n
		FROM (SELECT lot_id, state, sum(n) AS n FROM unnest(d) GROUP BY 1, 2 ORDER BY 1, 2) o
		WHERE c.lot_id = o.lot_id AND c.state = o.state;
		UPDATE asset_count_place c SET n = c.n + o.n
		FROM (SELECT location_id, model_id, state, sum(n) AS n FROM unnest(d) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3) o
		WHERE c.location_id = o.location_id AND c.model_id = o.model_id AND c.state = o.state;
		UPDATE asset_count_model c SET n = c.n + o.n
		FROM (SELECT model_id, state, sum(n) AS n FROM unnest(d) GROUP BY 1, 2 ORDER BY 1, 2) o
		WHERE c.model_id = o.model_id AND c.state = o.state;
		RETURN NULL;
	END IF;
	INSERT INTO asset_count_lot AS c (lot_id, state, n)
	SELECT lot_id, state, sum(n) FROM unnest(d) GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
	ON CONFLICT (lot_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
	INSERT INTO asset_count_place AS c (location_id, model_id, state, n)
	SELECT location_id, model_id, state, sum(n) FROM unnest(d) GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3
	ON CONFLICT (location_id, model_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
	INSERT INTO asset_count_model AS c (model_id, state, n)
	SELECT model_id, state, sum(n) FROM unnest(d) GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
	ON CONFLICT (model_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO asset_lot_span AS c (lot_id, first_id, last_id)
		SELECT lot_id, min(first_id), max(last_id) FROM unnest(d) GROUP BY 1 ORDER BY 1
		ON CONFLICT (lot_id) DO UPDATE SET first_id = least(c.first_id, EXCLUDED.first_id),
			last_id = greatest(c.last_id, EXCLUDED.last_id);
	END IF;
	RETURN NULL;
END
$$;
