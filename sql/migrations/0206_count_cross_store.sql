-- 0206: a stock count's surplus that the records place in ANOTHER store
-- (issue 11: "adjustments become history events with reasons and need a
-- second person's confirmation"). 0202/0203 moved a surplus here only when
-- the other store was of the same kind (secondary -> secondary); one
-- recorded in the central store and found in a city store (or back) was
-- "not adjustable, investigate", so the records kept the meter where it was
-- not. Now it is adjustable like the others: nothing changes at the count;
-- the second person's confirmation (store.confirm, not the counter: the
-- database compares user ids) with its reason moves it here, and the state
-- follows the store's kind — in_stock in the central store, secondary_stock
-- in a secondary one — by the new lifecycle action count_transfer (never a
-- bare move: ml_move_permission knows no permission for it). The history
-- event names the count, the kind, the reason and the store it was recorded
-- in. Still not adjustable: a meter on an open distribution order, and
-- anything not in stock (issued, installed, in the lab …): those are
-- investigated, not booked.

ALTER TABLE asset_transition DISABLE TRIGGER asset_transition_fixed;
INSERT INTO asset_transition (from_state, action, to_state, to_secondary) VALUES
	('in_stock', 'count_transfer', 'secondary_stock', false),
	('secondary_stock', 'count_transfer', 'in_stock', false);
ALTER TABLE asset_transition ENABLE TRIGGER asset_transition_fixed;

-- The submit of 0203 with one change: a stock asset recorded in another
-- store (of either kind) is an adjustable surplus ("it moves here from S").
CREATE OR REPLACE FUNCTION ml_count_submit(p_store text, p_slot text, p_codes text[]) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.count');
	st location;
	sl store_slot;
	bad record;
	id bigint;
BEGIN
	SELECT * INTO st FROM location WHERE code = p_store;
	IF NOT FOUND OR st.kind NOT IN ('central_store', 'secondary_store') THEN
		RAISE EXCEPTION 'store ''%'' is not a store', p_store USING ERRCODE = '22023';
	END IF;
	IF p_slot IS NOT NULL THEN
		SELECT * INTO sl FROM store_slot WHERE barcode = p_slot AND store_id = st.location_id;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'slot ''%'' is not a slot of store %', p_slot, p_store USING ERRCODE = 'P0002';
		END IF;
	END IF;
	CREATE TEMP TABLE IF NOT EXISTS count_scan (idx int, code text, slot_code text, slot_id bigint, asset_id bigint,
		first_idx int) ON COMMIT DROP;
	TRUNCATE count_scan;
	INSERT INTO count_scan
	SELECT s.idx, s.code, coalesce(p_slot, s.slot_barcode), coalesce(sl.slot_id, ss.slot_id), a.asset_id,
	       min(s.idx) OVER (PARTITION BY s.code)
	FROM ml_scan_slots(p_codes) s
	LEFT JOIN store_slot ss ON p_slot IS NULL AND ss.barcode = s.slot_barcode AND ss.store_id = st.location_id
	LEFT JOIN asset a ON NOT s.is_slot AND a.barcode = s.code::bpchar
	WHERE p_slot IS NOT NULL OR NOT s.is_slot OR ss.slot_id IS NULL;
	-- a temporary table has no statistics: without them the planner joins 10 000 scans by nested loops
	ANALYZE count_scan;
	-- slot scans that name nothing of this store
	SELECT c.code INTO bad FROM count_scan c
	WHERE c.code !~ '^[0-9]{22}$' AND (p_slot IS NOT NULL OR c.slot_id IS NULL) ORDER BY c.idx LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION '% (scan %); nothing counted',
			format('%s is not a slot of store %s%s', bad.code, p_store,
			       CASE WHEN p_slot IS NOT NULL THEN ' (a slot count scans only asset barcodes)' ELSE '' END),
			(SELECT min(idx) FROM count_scan WHERE code = bad.code) USING ERRCODE = '22023';
	END IF;
	INSERT INTO stock_count (store_id, slot_id, scans, counted_by)
	VALUES (st.location_id, sl.slot_id, coalesce(cardinality(p_codes), 0), actor) RETURNING count_id INTO id;

	-- what the records hold here, analysed too: a store that just received its
	-- first 10 000 assets has statistics saying it holds none
	CREATE TEMP TABLE IF NOT EXISTS count_expected (asset_id bigint, barcode text, state text, location_id bigint,
		slot_id bigint) ON COMMIT DROP;
	TRUNCATE count_expected;
	IF p_slot IS NULL THEN
		INSERT INTO count_expected
		SELECT a.asset_id, a.barcode, a.state, a.location_id, x.slot_id
		FROM asset a LEFT JOIN asset_slot x ON x.asset_id = a.asset_id
		WHERE a.location_id = st.location_id AND a.state IN ('in_stock', 'secondary_stock');
	ELSE
		INSERT INTO count_expected
		SELECT a.asset_id, a.barcode, a.state, a.location_id, x.slot_id
		FROM asset_slot x JOIN asset a ON a.asset_id = x.asset_id WHERE x.slot_id = sl.slot_id;
	END IF;
	ANALYZE count_expected;
	WITH expected AS (SELECT * FROM count_expected),
	found AS (SELECT c.* FROM count_scan c WHERE c.idx = c.first_idx AND c.code ~ '^[0-9]{22}$'),
	diff AS (
		-- unregistered
		SELECT f.idx AS ord, 'unregistered' AS kind, f.code, NULL::bigint AS asset_id, NULL AS state,
		       NULL::bigint AS location_id, NULL::bigint AS expected_slot, f.slot_id AS found_slot, false AS adjustable,
		       coalesce(ml_barcode_problem(f.code), format('asset %s is not registered', f.code)) AS note
		FROM found f WHERE f.asset_id IS NULL
		UNION ALL
		-- surplus: found here, not expected here
		SELECT f.idx, CASE WHEN a.location_id = st.location_id AND a.state IN ('in_stock', 'secondary_stock')
				   THEN 'wrong_slot' ELSE 'surplus' END,
		       f.code, a.asset_id, a.state, a.location_id, x.slot_id, f.slot_id,
		       -- in stock in any store (this one: a wrong slot), or lost; never on an open order
		       a.state = 'lost' OR (a.state IN ('in_stock', 'secondary_stock')
			AND (SELECT l.kind FROM location l WHERE l.location_id = a.location_id) IN ('central_store', 'secondary_store'))
		       AND NOT EXISTS (SELECT 1 FROM dist_order_item i WHERE i.asset_id = a.asset_id AND i.open),
		       CASE WHEN a.location_id = st.location_id AND a.state IN ('in_stock', 'secondary_stock')
			    THEN format('asset %s found in slot %s, recorded in %s', f.code, coalesce(f.slot_code, '(none)'),
					coalesce((SELECT s.barcode FROM store_slot s WHERE s.slot_id = x.slot_id), '(no slot)'))
			    WHEN a.state = 'lost' THEN format('asset %s was recorded lost: found here, it goes to re-verification', f.code)
			    ELSE format('asset %s is recorded ''%s'' at %s', f.code, a.state,
					coalesce((SELECT l.code FROM location l WHERE l.location_id = a.location_id), 'no location'))
				 || CASE WHEN EXISTS (SELECT 1 FROM dist_order_item i WHERE i.asset_id = a.asset_id AND i.open)
					 THEN ' and is on an open distribution order: not adjustable, investigate'
					 WHEN a.state IN ('in_stock', 'secondary_stock')
					      AND (SELECT l.kind FROM location l WHERE l.location_id = a.location_id)
						  IN ('central_store', 'secondary_store')
					 THEN format(': it moves here from store %s when confirmed%s',
						     (SELECT l.code FROM location l WHERE l.location_id = a.location_id),
						     CASE WHEN a.state <> CASE st.kind WHEN 'central_store' THEN 'in_stock'
									   ELSE 'secondary_stock' END
							  THEN format(' (%s -> %s)', a.state, CASE st.kind WHEN 'central_store'
								THEN 'in_stock' ELSE 'secondary_stock' END)
							  ELSE '' END)
					 ELSE ': not adjustable, investigate' END END
		FROM found f JOIN asset a ON a.asset_id = f.asset_id LEFT JOIN asset_slot x ON x.asset_id = a.asset_id
		-- a join, not NOT EXISTS under an OR (that is a subplan per scan: 10 000 x 10 000)
		LEFT JOIN expected e ON e.asset_id = f.asset_id
		WHERE e.asset_id IS NULL
		   OR (p_slot IS NULL AND f.slot_id IS NOT NULL AND f.slot_id IS DISTINCT FROM x.slot_id)
		UNION ALL
		-- shortage: expected here, not found (a slot count: only what lies in the slot)
		SELECT 1000000000 + row_number() OVER (ORDER BY e.barcode), 'shortage', e.barcode::text, e.asset_id, e.state,
		       e.location_id, e.slot_id, NULL, e.state IN ('in_stock', 'secondary_stock'),
		       format('asset %s was not found (recorded in %s)', e.barcode,
			      coalesce((SELECT s.barcode FROM store_slot s WHERE s.slot_id = e.slot_id), 'no slot'))
		FROM expected e WHERE NOT EXISTS (SELECT 1 FROM found f WHERE f.asset_id = e.asset_id))
	INSERT INTO stock_count_line (count_id, line_no, kind, code, asset_id, state, location_id, expected_slot, found_slot,
				      adjustable, note)
	SELECT id, row_number() OVER (ORDER BY d.ord), d.kind, d.code, d.asset_id, d.state, d.location_id, d.expected_slot,
	       d.found_slot, d.adjustable, d.note
	FROM diff d;
	-- a slot count that found an asset of this store in the slot: wrong slot, not surplus
	UPDATE stock_count_line SET kind = 'wrong_slot'
	WHERE count_id = id AND kind = 'surplus' AND location_id = st.location_id AND state IN ('in_stock', 'secondary_stock');
	RETURN id;
END
$$;

-- The confirm of 0202 with the state following the store: a surplus in
-- stock elsewhere becomes in_stock (central store) or secondary_stock
-- (secondary store) here, by count_transfer when that changes the state;
-- the event's details name the store it was recorded in. Refused, naming
-- the asset, when it changed since the count (compare-and-set on the state
-- counted, ml_asset_apply) — and when it left the store it was counted in.
CREATE OR REPLACE FUNCTION ml_count_confirm(p_count bigint, p_reason text) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.confirm');
	c stock_count;
	here text;
	moved record;
	changes ml_asset_change[];
	n bigint;
BEGIN
	SELECT * INTO c FROM stock_count WHERE count_id = p_count FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'stock count % does not exist', p_count USING ERRCODE = 'P0002';
	END IF;
	IF c.status <> 'counted' THEN
		RAISE EXCEPTION 'stock count % is already %', p_count, c.status USING ERRCODE = '55000';
	END IF;
	IF c.counted_by = actor THEN
		RAISE EXCEPTION 'stock count %: you counted it; a second person confirms the adjustments', p_count
			USING ERRCODE = '42501';
	END IF;
	p_reason := ml_clean_text('reason', p_reason, 500, true);
	here := CASE (SELECT kind FROM location WHERE location_id = c.store_id) WHEN 'central_store' THEN 'in_stock'
		ELSE 'secondary_stock' END;
	-- a surplus whose asset moved since the count (another store's count, an order) is not booked blindly
	SELECT l.code, l.location_id, a.location_id AS now_at INTO moved
	FROM stock_count_line l JOIN asset a ON a.asset_id = l.asset_id
	WHERE l.count_id = p_count AND l.adjustable AND l.kind = 'surplus' AND l.state IN ('in_stock', 'secondary_stock')
	  AND a.location_id IS DISTINCT FROM l.location_id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'stock count %: asset % moved since it was counted (now at %); count again', p_count, moved.code,
			coalesce((SELECT code FROM location WHERE location_id = moved.now_at), 'no location') USING ERRCODE = '40001';
	END IF;
	SELECT array_agg(ROW(l.asset_id, l.state, t.to_state,
			     CASE WHEN l.kind = 'shortage' THEN 'lose' WHEN l.state = 'lost' THEN 'find'
				  WHEN t.to_state <> l.state THEN 'count_transfer' ELSE 'count_adjust' END,
			     CASE WHEN l.kind = 'surplus' THEN c.store_id END, false, NULL,
			     format('stock count %s (%s): %s', p_count, l.kind, p_reason),
			     jsonb_build_object('count', p_count, 'kind', l.kind, 'counted_by', c.counted_by,
						'found_slot', (SELECT s.barcode FROM store_slot s WHERE s.slot_id = l.found_slot))
			     || CASE WHEN l.kind = 'surplus' AND l.location_id IS DISTINCT FROM c.store_id
				     THEN jsonb_build_object('recorded_at', (SELECT code FROM location WHERE location_id = l.location_id))
				     ELSE '{}'::jsonb END)::ml_asset_change
			 ORDER BY l.line_no)
	INTO changes
	FROM stock_count_line l
	CROSS JOIN LATERAL (SELECT CASE WHEN l.kind = 'shortage' THEN 'lost' WHEN l.state = 'lost' THEN 'reverify'
					WHEN l.kind = 'surplus' THEN here ELSE l.state END AS to_state) t
	WHERE l.count_id = p_count AND l.adjustable;
	n := ml_asset_apply(actor, changes);
	INSERT INTO asset_slot (asset_id, slot_id, placed_by)
	SELECT l.asset_id, l.found_slot, actor FROM stock_count_line l
	WHERE l.count_id = p_count AND l.adjustable AND l.kind IN ('surplus', 'wrong_slot') AND l.found_slot IS NOT NULL
	  AND l.state IN ('in_stock', 'secondary_stock')
	ON CONFLICT (asset_id) DO UPDATE SET slot_id = EXCLUDED.slot_id, placed_at = now(), placed_by = EXCLUDED.placed_by;
	UPDATE stock_count SET status = 'confirmed', decided_by = actor, decided_at = now(), reason = p_reason
	WHERE count_id = p_count;
	RETURN n;
END
$$;
