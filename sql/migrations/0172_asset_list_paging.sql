-- 0172: `asset list` with any filter and any page in bounded time (issue 10).
--
-- Why: the listing joined lot/model/location by code and walked the primary
-- key in asset_id order, filtering as it went. A page with few or no matches
-- walked to the end of the table (`asset list --lot L --after N`: Rows
-- Removed by Join Filter: 5 000 000, 1.7 s at 10 M). How long it took
-- depended on where the matching rows were.
--
-- Now every filter is served by index ranges whose leading columns are
-- exactly equalities, followed by asset_id:
--   (location_id, model_id, state, asset_id)  stock at a place, by model/state
--   (model_id, state, asset_id)               a model, a state, by model/state
--   a lot                                     its id range (asset_lot_span, 0170)
-- A filter that fixes fewer columns than an index has is a merge of several
-- exact ranges ("probes"): the (model, state) pairs present at a place, the
-- models present in a state — read from the maintained counts (0170), so
-- empty combinations are never visited. A page is cut from the merged ranges
-- window by window in asset_id order, each window sized from the counts to
-- hold about two pages, growing fourfold while too sparse; so a page reads
-- about two pages of index entries whatever the filter and wherever the page
-- starts. A lot narrows the windows to its id range.
--
-- Each probe is ordered by exactly its index's columns (ORDER BY model_id,
-- state, asset_id LIMIT k with equalities on model_id and state and a window
-- on asset_id): that index yields the order with every condition as a scan
-- key (start and stop), while the primary key would have to sort — so a
-- cached generic plan cannot drift to walking the primary key with a filter
-- (with ORDER BY asset_id it did: Rows Removed by Filter: 502 700 per probe,
-- 0.3–5 s at 1 M). Row comparisons ((model_id, state, asset_id) > (…)) look
-- tidier but do not stop the scan at their upper bound in PostgreSQL 15:
-- 375 buffers per empty probe.
--
-- These two replace the four single-column indexes of 0002 (lot, state,
-- model, location): every asset the import inserts and every move updates
-- four indexes instead of six (about 1.3 µs each per row, measured).

CREATE INDEX asset_place_idx ON asset (location_id, model_id, state, asset_id);
CREATE INDEX asset_model_state_idx ON asset (model_id, state, asset_id);
DROP INDEX asset_lot_idx, asset_state_idx, asset_model_idx, asset_location_idx;

-- Ids of one page of assets matching every given filter (NULL = any), in
-- asset_id order, after p_after, at most p_limit. Unknown codes match
-- nothing. The caller validates p_state and p_limit.
CREATE FUNCTION asset_page(p_state text, p_model text, p_lot text, p_location text,
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

	-- windows of about two pages at the filter's density, growing 4x when sparse
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

GRANT EXECUTE ON FUNCTION asset_page(text, text, text, text, bigint, integer) TO meterlab_app;
