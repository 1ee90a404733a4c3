-- 0342 (issue 10): `asset list` with a model, state or place filter and no
-- lot reads each probe's own index range in one pass, so an empty or sparse
-- page no longer walks the primary key.
--
-- Why: 0172 cut pages window by window on asset_id, each probe written as
-- equalities on (model_id, state) plus asset_id > lo AND asset_id <= wh,
-- expecting the (model_id, state, asset_id) index to serve it. With the
-- model and state fixed by equalities the primary key yields the same order,
-- and for a narrow window the planner took it (Index Scan using asset_pkey,
-- Filter: model_id = p.m AND state = p.s, estimated 18 rows of 500): correct
-- answers, but when the model's assets lie elsewhere the windows grow
-- fourfold up to the whole table and every row of it is read. Measured on a
-- 1 M-asset registry (bench_gen): `asset list --model M --after 500000` for a
-- model whose assets all lie below 500000 took 250-390 ms, the first page of
-- a model whose assets start at 800001 520-580 ms (seconds at 10 M).
--
-- Now, without a lot, a probe is
--   model_id = m AND (state, asset_id) > (s, lo) AND state <= s
--   ORDER BY state, asset_id LIMIT k
-- (with location_id = v first for a place): the row comparison positions
-- the scan of the (model_id, state, asset_id) or (location_id, model_id,
-- state, asset_id) index exactly at (m, s, lo), and `state <= s` is a
-- required key on the column after an equality, so the scan stops where the
-- pair's entries end or after k entries. No condition is usable by the
-- primary key, so no plan can walk it; each probe reads at most k index
-- entries and no window is needed. (0172's note is right that a row
-- comparison as an upper bound does not stop a PostgreSQL 15 scan when a
-- later column decides it; here the upper bound is the plain `state <= s`.)
-- Same 17 filter/page cases on the 1 M registry: identical ids, 0.5-1.5 ms
-- each against 0.5-580 ms. A lot still narrows windows to its id range
-- (asset_lot_span), as before: its windows are bounded by the lot.

CREATE OR REPLACE FUNCTION asset_page(p_state text, p_model text, p_lot text, p_location text,
			   p_after bigint, p_limit integer)
	RETURNS SETOF bigint LANGUAGE plpgsql STABLE ROWS 100
	SET search_path = public, pg_temp AS $$
DECLARE
	v_model bigint;
	v_lot bigint;
	v_lot_model bigint;
	v_loc bigint;
	lo bigint := greatest(p_after, 0);  -- exclusive
	hi bigint;                           -- inclusive
	total numeric;
	w bigint;
	wh bigint;
	need integer;
	ids bigint[] := '{}';
	got bigint[];
	p_models bigint[];
	p_states text[];
BEGIN
	IF p_limit < 1 THEN
		RETURN;
	END IF;
	IF p_model IS NOT NULL THEN
		SELECT model_id INTO v_model FROM device_model WHERE code = p_model;
		IF NOT FOUND THEN RETURN; END IF;
	END IF;
	IF p_location IS NOT NULL THEN
		SELECT location_id INTO v_loc FROM location WHERE code = p_location;
		IF NOT FOUND THEN RETURN; END IF;
	END IF;
	IF p_lot IS NOT NULL THEN
		SELECT l.lot_id, l.model_id, s.first_id - 1, s.last_id INTO v_lot, v_lot_model, lo, hi
		FROM lot l JOIN asset_lot_span s USING (lot_id) WHERE l.code = p_lot;
		IF NOT FOUND THEN RETURN; END IF;
		lo := greatest(lo, p_after);
		IF v_model IS NOT NULL AND v_lot_model IS NOT NULL AND v_model <> v_lot_model THEN
			RETURN;
		END IF;
		v_model := coalesce(v_model, v_lot_model); -- a single-model delivery
	ELSE
		SELECT max(asset_id) INTO hi FROM asset;
	END IF;
	IF hi IS NULL OR lo >= hi THEN
		RETURN;
	END IF;

	-- the probes (only combinations the counts say are not empty) and how
	-- many rows they hold
	IF v_loc IS NOT NULL THEN
		SELECT array_agg(model_id ORDER BY model_id, state), array_agg(state ORDER BY model_id, state), sum(n)
		INTO p_models, p_states, total FROM asset_count_place
		WHERE location_id = v_loc AND n > 0 AND (v_model IS NULL OR model_id = v_model)
		  AND (p_state IS NULL OR state = p_state);
	ELSIF v_model IS NOT NULL OR v_lot IS NOT NULL OR p_state IS NOT NULL THEN
		SELECT array_agg(model_id ORDER BY model_id, state), array_agg(state ORDER BY model_id, state), sum(n)
		INTO p_models, p_states, total FROM asset_count_model
		WHERE n > 0 AND (v_model IS NULL OR model_id = v_model) AND (p_state IS NULL OR state = p_state)
		  AND (v_lot IS NULL OR state IN (SELECT c.state FROM asset_count_lot c
						 WHERE c.lot_id = v_lot AND c.n > 0));
	ELSE
		SELECT sum(n) INTO total FROM asset_count_model;
	END IF;
	IF v_lot IS NOT NULL AND total IS NOT NULL THEN
		SELECT least(total, coalesce(sum(n), 0)) INTO total FROM asset_count_lot
		WHERE lot_id = v_lot AND (p_state IS NULL OR state = p_state);
	END IF;
	-- no probe (no such combination) or nothing counted: an empty page
	IF coalesce(total, 0) = 0 OR (p_models IS NULL AND (v_loc IS NOT NULL OR v_model IS NOT NULL
			OR v_lot IS NOT NULL OR p_state IS NOT NULL)) THEN
		RETURN;
	END IF;

	-- Without a lot each probe reads the first p_limit entries of its own
	-- index range after lo, in one pass (see the header): no windows.
	IF v_lot IS NULL AND p_models IS NOT NULL THEN
		IF v_loc IS NOT NULL THEN
			RETURN QUERY SELECT x.asset_id FROM unnest(p_models, p_states) p(m, s)
				CROSS JOIN LATERAL (SELECT a.asset_id FROM asset a
					WHERE a.location_id = v_loc AND a.model_id = p.m
					  AND (a.state, a.asset_id) > (p.s, lo) AND a.state <= p.s
					ORDER BY a.state, a.asset_id LIMIT p_limit) x
				ORDER BY 1 LIMIT p_limit;
		ELSE
			RETURN QUERY SELECT x.asset_id FROM unnest(p_models, p_states) p(m, s)
				CROSS JOIN LATERAL (SELECT a.asset_id FROM asset a
					WHERE a.model_id = p.m AND (a.state, a.asset_id) > (p.s, lo) AND a.state <= p.s
					ORDER BY a.state, a.asset_id LIMIT p_limit) x
				ORDER BY 1 LIMIT p_limit;
		END IF;
		RETURN;
	END IF;

	-- A lot (or no filter): windows of about two pages at the filter's
	-- density, growing 4x when sparse, within the lot's id range.
	w := greatest(64, ceil(2.0 * p_limit * (hi - lo) / total))::bigint;
	LOOP
		need := p_limit - cardinality(ids);
		wh := least(hi, lo + w);
		IF v_loc IS NOT NULL THEN
			SELECT array_agg(id ORDER BY id) INTO got FROM (
				SELECT x.asset_id AS id FROM unnest(p_models, p_states) p(m, s)
				CROSS JOIN LATERAL (SELECT a.asset_id FROM asset a
					WHERE a.location_id = v_loc AND a.model_id = p.m AND a.state = p.s
					  AND a.asset_id > lo AND a.asset_id <= wh
					  AND (v_lot IS NULL OR a.lot_id = v_lot)
					ORDER BY a.location_id, a.model_id, a.state, a.asset_id LIMIT need) x
				ORDER BY 1 LIMIT need) q;
		ELSIF p_models IS NOT NULL THEN
			SELECT array_agg(id ORDER BY id) INTO got FROM (
				SELECT x.asset_id AS id FROM unnest(p_models, p_states) p(m, s)
				CROSS JOIN LATERAL (SELECT a.asset_id FROM asset a
					WHERE a.model_id = p.m AND a.state = p.s
					  AND a.asset_id > lo AND a.asset_id <= wh
					  AND (v_lot IS NULL OR a.lot_id = v_lot)
					ORDER BY a.model_id, a.state, a.asset_id LIMIT need) x
				ORDER BY 1 LIMIT need) q;
		ELSE
			SELECT array_agg(a.asset_id ORDER BY a.asset_id) INTO got FROM (
				SELECT a.asset_id FROM asset a WHERE a.asset_id > lo AND a.asset_id <= wh
				ORDER BY a.asset_id LIMIT need) a;
		END IF;
		ids := ids || coalesce(got, '{}');
		EXIT WHEN cardinality(ids) >= p_limit OR wh >= hi;
		lo := wh;
		w := w * 4;
	END LOOP;
	RETURN QUERY SELECT unnest(ids);
END
$$;
