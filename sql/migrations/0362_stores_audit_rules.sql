-- 0362: the warehouse rules a bare move, a count or a seal race went round
-- (audit of 2026-12-07, stores findings 1, 2, 4, 5, 6, 8).
--
-- ml_asset_move (last 0175):
--   * return_to_maker and scrap are no bare moves (42501, like verify_*):
--     the transitions in_stock|arrived|sampling -> returned_to_maker (0200,
--     0273) exist for the rejected lot (ml_lot_sample_decide) and every
--     retirement for ml_retire_approve — both through ml_asset_apply — so
--     one person could retire a good meter with a move, skipping the second
--     person;
--   * an asset on an open distribution order moves only with the order
--     (a bare receive_secondary of an in-transit meter left the order stuck
--     for good), an asset on a pending retirement request not at all until
--     it is decided (55000, naming the order or request);
--   * issue puts the asset at a field team: no --location (it stayed in the
--     store as 'issued'), a store or a lab is refused (22023).
-- ml_order_asset_problem (0201; create, pick, dispatch): an asset on a
-- pending retirement request is not put on an order.
-- ml_count_submit / ml_count_confirm (last 0206): a shortage on an open order
-- or a pending retirement is not adjustable; the confirmation locks the
-- assets it adjusts and refuses (naming the count and the asset) every line
-- whose asset is no longer as counted — location, state, slot, or a state
-- change since the count — or is now on an open order or pending
-- retirement, no longer only a surplus that left its store.
-- ml_seal_destroy (0225): locks the seals before judging them and destroys
-- only seals still in store, issued or removed, so a seal applied
-- concurrently is never marked destroyed.
-- Same signatures; CREATE OR REPLACE keeps the grants.

-- The move of 0175 with the refusals above (problems 9 and 10, issue in 7,
-- retirement actions raised like verify_*).
CREATE OR REPLACE FUNCTION ml_asset_move(p_barcodes text[], p_actions text[], p_locations text[] DEFAULT NULL,
			      p_reasons text[] DEFAULT NULL, p_details jsonb[] DEFAULT NULL)
	RETURNS SETOF ml_move_refusal
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_actor_id();
	n integer := coalesce(cardinality(p_barcodes), 0);
	a text;
	refusals ml_move_refusal[];
	changes ml_asset_change[];
BEGIN
	IF n = 0 THEN
		RETURN;
	END IF;
	IF coalesce(cardinality(p_actions), 0) <> n OR coalesce(cardinality(p_locations), n) <> n
	   OR coalesce(cardinality(p_reasons), n) <> n OR coalesce(cardinality(p_details), n) <> n THEN
		RAISE EXCEPTION 'ml_asset_move: the arrays must have one entry per barcode (% barcodes)', n
			USING ERRCODE = '22023';
	END IF;
	FOR a IN SELECT DISTINCT x FROM unnest(p_actions) x ORDER BY 1 LOOP
		IF a IN ('verify_start', 'verify_pass', 'verify_fail', 'verify_abort') THEN
			RAISE EXCEPTION '% is not a move: it comes only from a verification run (%), never from a bare move', a,
				CASE a WHEN 'verify_start' THEN 'mounting the asset with meterlab run create'
				WHEN 'verify_abort' THEN 'meterlab run abort'
				ELSE 'the conclusion of a run with complete results; valid_until comes from the model''s verification period' END
				USING ERRCODE = '42501';
		END IF;
		-- a retirement is no move (0362): only a second person's approval of a
		-- retirement request (ml_retire_approve) or a lot rejected on sampling
		-- (ml_lot_sample_decide) applies it
		IF a IN ('return_to_maker', 'scrap') THEN
			RAISE EXCEPTION 'asset %: % is not a move: an asset is retired only when a second person approves a retirement request (meterlab retire request %, then retire approve), or with its lot rejected on arrival sampling',
				(SELECT x.b FROM unnest(p_barcodes, p_actions) x(b, act) WHERE x.act = a LIMIT 1), a, a
				USING ERRCODE = '42501';
		END IF;
		IF a IS NULL OR ml_move_permission(a) IS NULL THEN
			RAISE EXCEPTION 'unknown lifecycle action ''%'' (valid: sample, sample_return, dispatch, receive_secondary, issue, install, return_unused, remove, fault_report, reuse)',
				a USING ERRCODE = '22023';
		END IF;
		PERFORM ml_require(ml_move_permission(a));
	END LOOP;
	IF EXISTS (SELECT 1 FROM unnest(p_reasons) r WHERE r IS NOT NULL AND NOT ml_text_ok(normalize(r, NFC), 500)) THEN
		PERFORM ml_clean_text('reason', r, 500) FROM unnest(p_reasons) r
		WHERE r IS NOT NULL AND NOT ml_text_ok(normalize(r, NFC), 500);
	END IF;
	IF EXISTS (SELECT 1 FROM unnest(p_details) d WHERE d IS NOT NULL
		   AND (jsonb_typeof(d) <> 'object' OR length(d::text) > 2000)) THEN
		RAISE EXCEPTION 'details of a move must be a JSON object of at most 2000 characters' USING ERRCODE = '22023';
	END IF;

	WITH m AS (
		SELECT x.i::int AS idx, x.b AS barcode, x.act AS action, x.loc AS loc_code,
		       normalize(x.reason, NFC) AS reason, x.details,
		       min(x.i) OVER (PARTITION BY x.b)::int AS first_idx, coalesce(ml_barcode_ok(x.b), false) AS bc_ok
		FROM unnest(p_barcodes, p_actions, coalesce(p_locations, array_fill(NULL::text, ARRAY[n])),
			    coalesce(p_reasons, array_fill(NULL::text, ARRAY[n])),
			    coalesce(p_details, array_fill(NULL::jsonb, ARRAY[n])))
			WITH ORDINALITY AS x(b, act, loc, reason, details, i)),
	p AS (
		SELECT m.*, x.asset_id, x.state, x.valid_until, cl.code AS cur_code, cl.kind AS cur_kind,
		       l.location_id AS loc_id, l.kind AS loc_kind, run.run_id, run.status AS run_status, run.bench,
		       ord.order_id AS ord_id, ord.status AS ord_status, ret.request_id AS ret_id, t.to_state
		FROM m
		-- one probe of the barcode index per move, never a scan of the registry (0175)
		LEFT JOIN LATERAL (SELECT x.asset_id, x.state, x.valid_until, x.location_id FROM asset x
				   WHERE m.bc_ok AND x.barcode = m.barcode::bpchar LIMIT 1) x ON true
		LEFT JOIN location cl ON cl.location_id = x.location_id
		LEFT JOIN location l ON l.code = m.loc_code
		LEFT JOIN LATERAL (SELECT r.run_id, r.status, b.code AS bench FROM run_position rp
				   JOIN verification_run r ON r.run_id = rp.run_id JOIN lab_bench b ON b.bench_id = r.bench_id
				   WHERE x.state = 'verifying' AND rp.asset_id = x.asset_id
				     AND r.status IN ('pending', 'running', 'interrupted') LIMIT 1) run ON true
		-- an asset on an open distribution order or a pending retirement (0362): index probes
		LEFT JOIN LATERAL (SELECT i.order_id, i.status FROM dist_order_item i
				   WHERE i.asset_id = x.asset_id AND i.open LIMIT 1) ord ON true
		LEFT JOIN LATERAL (SELECT r.request_id FROM retire_request_item r
				   WHERE r.asset_id = x.asset_id AND r.pending LIMIT 1) ret ON true
		LEFT JOIN asset_transition t ON t.from_state = x.state AND t.action = m.action
			AND t.to_secondary = (m.action = 'return_unused' AND coalesce(l.kind, cl.kind) = 'secondary_store')),
	q AS (
		SELECT p.*, CASE
			WHEN NOT p.bc_ok THEN 1
			WHEN p.idx <> p.first_idx THEN 2
			WHEN p.asset_id IS NULL THEN 3
			WHEN p.loc_code IS NOT NULL AND p.loc_id IS NULL THEN 4
			WHEN p.run_id IS NOT NULL THEN 5
			WHEN p.ord_id IS NOT NULL THEN 9
			WHEN p.ret_id IS NOT NULL THEN 10
			WHEN p.to_state IS NULL THEN 6
			WHEN (p.action = 'receive_secondary' AND coalesce(p.loc_kind, p.cur_kind, '') <> 'secondary_store')
			  OR (p.action = 'return_unused'
			      AND coalesce(p.loc_kind, p.cur_kind, '') NOT IN ('secondary_store', 'central_store'))
			  -- issued to a field team, never left in a store or sent to a lab (0362)
			  OR (p.action = 'issue' AND coalesce(p.loc_kind, p.cur_kind, '') <> 'field_team') THEN 7
			-- an asset past its verification period must not go to the field (JJG 596-2012, domain §1.12)
			WHEN p.action = 'issue' AND (p.valid_until IS NULL OR p.valid_until < current_date) THEN 8
			END AS problem
		FROM p)
	SELECT array_agg(ROW(q.idx, q.barcode, CASE WHEN q.problem IN (3, 4) THEN 'P0002'
						   WHEN q.problem IN (5, 6, 8, 9, 10) THEN '55000' ELSE '22023' END,
		CASE q.problem
		WHEN 1 THEN ml_barcode_problem(q.barcode)
		WHEN 2 THEN format('asset %s appears more than once in the batch (moves %s and %s)', q.barcode, q.first_idx, q.idx)
		WHEN 3 THEN format('asset %s is not registered', q.barcode)
		WHEN 4 THEN format('asset %s: location ''%s'' does not exist', q.barcode, q.loc_code)
		WHEN 5 THEN format('asset %s is mounted on run %s (%s) on bench %s: only that run moves it (meterlab run resume %s, or meterlab run abort %s)',
				   q.barcode, q.run_id, q.run_status, q.bench, q.run_id, q.run_id)
		WHEN 6 THEN format('asset %s is ''%s'': action ''%s'' is not allowed in state ''%s''', q.barcode, q.state,
				   q.action, q.state)
		WHEN 7 THEN format('asset %s: %s puts it in %s, but ''%s'' is %s; give --location %s', q.barcode, q.action,
				   CASE q.action WHEN 'receive_secondary' THEN 'a secondary store' WHEN 'issue' THEN 'a field team'
				   ELSE 'a store' END,
				   coalesce(q.loc_code, q.cur_code, '(no location)'),
				   coalesce('a ' || coalesce(q.loc_kind, q.cur_kind), 'no place'),
				   CASE q.action WHEN 'issue' THEN 'TEAM' ELSE 'STORE' END)
		WHEN 8 THEN format('asset %s cannot be issued: verification %s; re-verify it first', q.barcode,
				   CASE WHEN q.valid_until IS NULL THEN 'validity is not recorded'
					ELSE 'expired on ' || q.valid_until END)
		WHEN 9 THEN format('asset %s is %s on distribution order %s: only the order moves it (%s)', q.barcode,
				   q.ord_status, q.ord_id,
				   CASE q.ord_status WHEN 'in_transit'
					THEN format('meterlab order receive %s, or order close %s --missing %s', q.ord_id, q.ord_id,
						       q.barcode)
					ELSE format('meterlab order dispatch %s, or order cancel %s', q.ord_id, q.ord_id) END)
		WHEN 10 THEN format('asset %s is on pending retirement request %s: it does not move until a second person approves or rejects it (meterlab retire approve|reject %s)',
				    q.barcode, q.ret_id, q.ret_id)
		END)::ml_move_refusal ORDER BY q.idx) FILTER (WHERE q.problem IS NOT NULL),
	       array_agg(ROW(q.asset_id, q.state, q.to_state, q.action, q.loc_id, false, NULL, q.reason,
			     q.details)::ml_asset_change ORDER BY q.idx)
	INTO refusals, changes FROM q;

	IF refusals IS NOT NULL THEN
		RETURN QUERY SELECT * FROM unnest(refusals);
		RETURN;
	END IF;
	PERFORM ml_asset_apply(actor, changes);
	RETURN;
END
$$;

-- The submit of 0206 with one change: a shortage on an open order or a
-- pending retirement is not adjustable (its note says why).
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
		-- never adjustable when the asset is on an open distribution order (picked: it is
		-- the order's to dispatch) or on a pending retirement request (0362)
		SELECT 1000000000 + row_number() OVER (ORDER BY e.barcode), 'shortage', e.barcode::text, e.asset_id, e.state,
		       e.location_id, e.slot_id, NULL,
		       e.state IN ('in_stock', 'secondary_stock') AND o.order_id IS NULL AND r.request_id IS NULL,
		       format('asset %s was not found (recorded in %s)', e.barcode,
			      coalesce((SELECT s.barcode FROM store_slot s WHERE s.slot_id = e.slot_id), 'no slot'))
		       || CASE WHEN o.order_id IS NOT NULL
			       THEN format(' and is %s on open distribution order %s: not adjustable, investigate', o.status,
					   o.order_id)
			       WHEN r.request_id IS NOT NULL
			       THEN format(' and is on pending retirement request %s: not adjustable, investigate', r.request_id)
			       ELSE '' END
		FROM expected e
		LEFT JOIN dist_order_item o ON o.asset_id = e.asset_id AND o.open
		LEFT JOIN retire_request_item r ON r.asset_id = e.asset_id AND r.pending
		WHERE NOT EXISTS (SELECT 1 FROM found f WHERE f.asset_id = e.asset_id))
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

-- The confirm of 0206: a surplus in stock elsewhere becomes in_stock
-- (central store) or secondary_stock (secondary store) here, by
-- count_transfer when that changes the state; the event's details name the
-- store it was recorded in. Refused, naming the count and the asset, when
-- any adjusted asset is no longer as counted (0362: every line, not only a
-- surplus that left its store) or is now on an open order or a pending
-- retirement.
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
	-- no line is booked blindly (0362): every adjusted asset is locked, then must
	-- be as counted — same place, state and slot, no state change since the
	-- count (an order there and back, another count), on no open order and no
	-- pending retirement; else the whole confirmation is refused, naming it
	PERFORM 1 FROM asset a WHERE a.asset_id IN (SELECT l.asset_id FROM stock_count_line l
						     WHERE l.count_id = p_count AND l.adjustable)
	ORDER BY a.asset_id FOR UPDATE;
	SELECT l.code, l.kind, a.location_id AS now_at, a.state AS now_state, a.state_changed_at, x.slot_id AS now_slot,
	       (a.location_id IS DISTINCT FROM l.location_id OR a.state IS DISTINCT FROM l.state) AS elsewhere,
	       x.slot_id IS DISTINCT FROM l.expected_slot AS reslotted INTO moved
	FROM stock_count_line l JOIN asset a ON a.asset_id = l.asset_id LEFT JOIN asset_slot x ON x.asset_id = a.asset_id
	WHERE l.count_id = p_count AND l.adjustable
	  AND (a.location_id IS DISTINCT FROM l.location_id OR a.state IS DISTINCT FROM l.state
	       OR a.state_changed_at > c.counted_at OR x.slot_id IS DISTINCT FROM l.expected_slot)
	ORDER BY l.line_no LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'stock count %: asset % (%) moved since it was counted (now %); count again', p_count, moved.code,
			moved.kind,
			CASE WHEN moved.elsewhere
			     THEN format('''%s'' at %s', moved.now_state,
					 coalesce((SELECT code FROM location WHERE location_id = moved.now_at), 'no location'))
			     WHEN moved.reslotted
			     THEN format('in slot %s', coalesce((SELECT s.barcode FROM store_slot s WHERE s.slot_id = moved.now_slot),
								 '(none)'))
			     ELSE format('''%s'' again, after a change at %s', moved.now_state, moved.state_changed_at) END
			USING ERRCODE = '40001';
	END IF;
	SELECT l.code, i.order_id, i.status INTO moved
	FROM stock_count_line l JOIN dist_order_item i ON i.asset_id = l.asset_id AND i.open
	WHERE l.count_id = p_count AND l.adjustable ORDER BY l.line_no LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'stock count %: asset % is now % on open distribution order %: the order moves it; count again',
			p_count, moved.code, moved.status, moved.order_id USING ERRCODE = '55000';
	END IF;
	SELECT l.code, r.request_id INTO moved
	FROM stock_count_line l JOIN retire_request_item r ON r.asset_id = l.asset_id AND r.pending
	WHERE l.count_id = p_count AND l.adjustable ORDER BY l.line_no LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'stock count %: asset % is now on pending retirement request %: decide it first, or count again',
			p_count, moved.code, moved.request_id USING ERRCODE = '55000';
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

-- Why an asset cannot leave p_from on an order now, or NULL. 0362: not while
-- it is on a pending retirement request.
CREATE OR REPLACE FUNCTION ml_order_asset_problem(p_code text, p_asset asset, p_from bigint, p_from_code text,
						  p_months bigint)
	RETURNS text LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT CASE
		WHEN NOT coalesce(ml_barcode_ok(p_code), false) THEN ml_barcode_problem(p_code)
		WHEN p_asset.asset_id IS NULL THEN format('asset %s is not registered', p_code)
		WHEN p_asset.state NOT IN ('in_stock', 'secondary_stock') OR p_asset.location_id IS DISTINCT FROM p_from THEN
			format('asset %s is not in store %s (it is ''%s'' at %s)', p_code, p_from_code, p_asset.state,
			       coalesce((SELECT l.code FROM location l WHERE l.location_id = p_asset.location_id), 'no location'))
		WHEN EXISTS (SELECT 1 FROM retire_request_item r WHERE r.asset_id = p_asset.asset_id AND r.pending) THEN
			format('asset %s is on pending retirement request %s', p_code,
			       (SELECT r.request_id FROM retire_request_item r WHERE r.asset_id = p_asset.asset_id AND r.pending))
		WHEN ml_issue_problem(p_asset.valid_until, p_asset.verified_at, p_months) IS NOT NULL THEN
			format('asset %s is not valid for issue: %s', p_code,
			       ml_issue_problem(p_asset.valid_until, p_asset.verified_at, p_months))
	END
$$;

-- Destroy seals (in store, issued or removed), all or nothing. 0362: the
-- seals are locked first (as ml_seals_take and ml_seal_apply lock the seals
-- they apply), judged after the lock, and the UPDATE changes only seals still
-- destroyable: a seal applied by a transaction that committed first is
-- refused, naming it, never destroyed on its asset.
CREATE OR REPLACE FUNCTION ml_seal_destroy(p_codes text[], p_reason text) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('seal.manage');
	reason text := ml_clean_text('reason', p_reason, 500);
	bad record;
	n int;
BEGIN
	PERFORM 1 FROM seal s WHERE s.code = ANY (p_codes) ORDER BY s.seal_id FOR UPDATE;
	SELECT c, s.state INTO bad FROM unnest(p_codes) c LEFT JOIN seal s ON s.code = c
	WHERE s.seal_id IS NULL OR s.state NOT IN ('in_store', 'issued', 'removed') LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'seal % %; nothing destroyed', coalesce(quote_literal(bad.c), 'NULL'),
			CASE WHEN bad.state IS NULL THEN 'is not registered' ELSE 'is ' || bad.state END
			USING ERRCODE = CASE WHEN bad.state IS NULL THEN 'P0002' ELSE '55000' END;
	END IF;
	UPDATE seal SET state = 'destroyed', holder_team_id = NULL, holder_user_id = NULL, changed_at = now()
	WHERE code = ANY (p_codes) AND state IN ('in_store', 'issued', 'removed');
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n <> (SELECT count(DISTINCT c) FROM unnest(p_codes) c) THEN
		RAISE EXCEPTION 'a seal of this list was changed concurrently; nothing destroyed' USING ERRCODE = '40001';
	END IF;
	INSERT INTO seal_event (seal_id, action, actor_id, details)
	SELECT s.seal_id, 'destroy', actor, jsonb_build_object('reason', reason) FROM seal s WHERE s.code = ANY (p_codes);
	RETURN n;
END
$$;
