-- 0202: stock counts (盘点) and retirement approvals (issue 11, i11w).
--
-- A count of a store or of one slot is submitted by scanning (the same
-- stream as put-away: slot, its assets, slot ...). The database compares
-- the scans with what it holds: surplus (scanned, not expected here),
-- shortage (expected, not scanned), wrong slot (here, but in another slot),
-- unregistered (no such asset). Nothing changes until a SECOND person
-- confirms the count (the database compares the user ids): then every
-- adjustment becomes a history event with the reason — a shortage is
-- recorded lost, a surplus moves here (or, when it was lost, is found and
-- goes to re-verification), a wrong slot is corrected.
--
-- Return to the maker (warranty, 返厂) and scrapping (报废) are requested
-- with a reason and applied only when a second person with asset.retire
-- approves; both are recorded on the request and in the history.

CREATE TABLE stock_count (
	count_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	store_id bigint NOT NULL REFERENCES location (location_id),
	slot_id bigint REFERENCES store_slot (slot_id),
	status text NOT NULL DEFAULT 'counted' CHECK (status IN ('counted', 'confirmed', 'rejected')),
	scans integer NOT NULL,
	counted_by bigint NOT NULL REFERENCES app_user (user_id),
	counted_at timestamptz NOT NULL DEFAULT now(),
	decided_by bigint REFERENCES app_user (user_id),
	decided_at timestamptz,
	reason text,
	CHECK (decided_by IS NULL OR decided_by <> counted_by)
);

CREATE TABLE stock_count_line (
	count_id bigint NOT NULL REFERENCES stock_count (count_id),
	line_no integer NOT NULL,
	kind text NOT NULL CHECK (kind IN ('surplus', 'shortage', 'wrong_slot', 'unregistered')),
	code text NOT NULL,
	asset_id bigint REFERENCES asset (asset_id),
	state text,                 -- the asset's state when counted
	location_id bigint,         -- the asset's location when counted
	expected_slot bigint REFERENCES store_slot (slot_id),
	found_slot bigint REFERENCES store_slot (slot_id),
	adjustable boolean NOT NULL,
	note text NOT NULL,
	PRIMARY KEY (count_id, line_no)
);

-- Count by scanning. p_slot NULL: the whole store, scans as a put-away
-- stream (assets before the first slot are found without a slot); else one
-- slot, every scan an asset found in it. Returns the count id; its lines are
-- the differences. A slot barcode that does not exist (or is of another
-- store) refuses the whole count, naming it.
CREATE FUNCTION ml_count_submit(p_store text, p_slot text, p_codes text[]) RETURNS bigint
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

	WITH expected AS (
		SELECT a.asset_id, a.barcode, a.state, a.location_id, x.slot_id
		FROM asset a LEFT JOIN asset_slot x ON x.asset_id = a.asset_id
		WHERE CASE WHEN p_slot IS NULL THEN a.location_id = st.location_id AND a.state IN ('in_stock', 'secondary_stock')
			   ELSE x.slot_id = sl.slot_id END),
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
		       a.state = 'lost' OR (a.state IN ('in_stock', 'secondary_stock') AND (a.location_id = st.location_id
			OR (SELECT l.kind FROM location l WHERE l.location_id = a.location_id) = st.kind))
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
					      AND (SELECT l.kind FROM location l WHERE l.location_id = a.location_id) = st.kind
					 THEN ': it moves here' ELSE ': not adjustable, investigate' END END
		FROM found f JOIN asset a ON a.asset_id = f.asset_id LEFT JOIN asset_slot x ON x.asset_id = a.asset_id
		WHERE NOT EXISTS (SELECT 1 FROM expected e WHERE e.asset_id = f.asset_id)
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

-- Confirm a count (a second person: not the one who counted) and apply
-- its adjustable lines with p_reason: shortage -> lost (lose), surplus ->
-- moved here (count_adjust) or found (find -> reverify), wrong slot ->
-- the slot where it was found. Returns the number of assets adjusted.
CREATE FUNCTION ml_count_confirm(p_count bigint, p_reason text) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.confirm');
	c stock_count;
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
	SELECT array_agg(ROW(l.asset_id, l.state,
			     CASE WHEN l.kind = 'shortage' THEN 'lost' WHEN l.state = 'lost' THEN 'reverify' ELSE l.state END,
			     CASE WHEN l.kind = 'shortage' THEN 'lose' WHEN l.state = 'lost' THEN 'find' ELSE 'count_adjust' END,
			     CASE WHEN l.kind = 'surplus' THEN c.store_id END, false, NULL,
			     format('stock count %s (%s): %s', p_count, l.kind, p_reason),
			     jsonb_build_object('count', p_count, 'kind', l.kind, 'counted_by', c.counted_by,
						'found_slot', (SELECT s.barcode FROM store_slot s WHERE s.slot_id = l.found_slot)))::ml_asset_change
			 ORDER BY l.line_no)
	INTO changes FROM stock_count_line l WHERE l.count_id = p_count AND l.adjustable;
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

-- Reject a count (a second person): nothing is adjusted; count again.
CREATE FUNCTION ml_count_reject(p_count bigint, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.confirm');
	c stock_count;
BEGIN
	SELECT * INTO c FROM stock_count WHERE count_id = p_count FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'stock count % does not exist', p_count USING ERRCODE = 'P0002';
	END IF;
	IF c.status <> 'counted' THEN
		RAISE EXCEPTION 'stock count % is already %', p_count, c.status USING ERRCODE = '55000';
	END IF;
	IF c.counted_by = actor THEN
		RAISE EXCEPTION 'stock count %: you counted it; a second person decides', p_count USING ERRCODE = '42501';
	END IF;
	UPDATE stock_count SET status = 'rejected', decided_by = actor, decided_at = now(),
		reason = ml_clean_text('reason', p_reason, 500, true)
	WHERE count_id = p_count;
END
$$;

-- ---- retirement: return to the maker, scrap ----

CREATE TABLE retire_request (
	request_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	action text NOT NULL CHECK (action IN ('return_to_maker', 'scrap')),
	reason text NOT NULL,
	to_location_id bigint REFERENCES location (location_id),
	status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
	requested_by bigint NOT NULL REFERENCES app_user (user_id),
	requested_at timestamptz NOT NULL DEFAULT now(),
	decided_by bigint REFERENCES app_user (user_id),
	decided_at timestamptz,
	decision_note text,
	CHECK (decided_by IS NULL OR decided_by <> requested_by)
);
CREATE TABLE retire_request_item (
	request_id bigint NOT NULL REFERENCES retire_request (request_id),
	asset_id bigint NOT NULL REFERENCES asset (asset_id),
	from_state text NOT NULL,
	pending boolean NOT NULL DEFAULT true,
	PRIMARY KEY (request_id, asset_id)
);
CREATE UNIQUE INDEX retire_request_item_one_pending ON retire_request_item (asset_id) WHERE pending;

-- Request a return to the maker or a scrapping of assets, with a reason
-- (p_to: a maker location for a return, or NULL). Each asset must be in a
-- state that takes the action (failed, fault_analysis, removed; a lot
-- rejected on sampling: arrived) and on no other pending request or open
-- order. Refused as a whole naming the first bad barcode. Returns the request.
CREATE FUNCTION ml_retire_request(p_action text, p_barcodes text[], p_reason text, p_to text DEFAULT NULL)
	RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('asset.retire.request');
	dest location;
	bad record;
	id bigint;
BEGIN
	IF p_action IS NULL OR p_action NOT IN ('return_to_maker', 'scrap') THEN
		RAISE EXCEPTION 'retirement action ''%'' is not return_to_maker or scrap', p_action USING ERRCODE = '22023';
	END IF;
	p_reason := ml_clean_text('reason', p_reason, 500, true);
	IF p_to IS NOT NULL THEN
		SELECT * INTO dest FROM location WHERE code = p_to;
		IF NOT FOUND OR dest.kind <> 'maker' OR p_action <> 'return_to_maker' THEN
			RAISE EXCEPTION 'location ''%'' is not a maker location (only a return to the maker names one)', p_to
				USING ERRCODE = '22023';
		END IF;
	END IF;
	IF coalesce(cardinality(p_barcodes), 0) = 0 THEN
		RAISE EXCEPTION 'no asset to retire' USING ERRCODE = '22023';
	END IF;
	SELECT x.code, a.asset_id, a.state, count(*) OVER (PARTITION BY x.code) AS n,
	       (SELECT r.request_id FROM retire_request_item r WHERE r.asset_id = a.asset_id AND r.pending) AS pend,
	       (SELECT i.order_id FROM dist_order_item i WHERE i.asset_id = a.asset_id AND i.open) AS ord,
	       EXISTS (SELECT 1 FROM asset_transition t WHERE t.from_state = a.state AND t.action = p_action) AS can
	INTO bad FROM unnest(p_barcodes) x(code) LEFT JOIN asset a ON ml_barcode_ok(x.code) AND a.barcode = x.code::bpchar
	ORDER BY (a.asset_id IS NOT NULL AND count(*) OVER (PARTITION BY x.code) = 1
		  AND NOT EXISTS (SELECT 1 FROM retire_request_item r WHERE r.asset_id = a.asset_id AND r.pending)
		  AND NOT EXISTS (SELECT 1 FROM dist_order_item i WHERE i.asset_id = a.asset_id AND i.open)
		  AND EXISTS (SELECT 1 FROM asset_transition t WHERE t.from_state = a.state AND t.action = p_action)) LIMIT 1;
	IF bad.asset_id IS NULL OR bad.n > 1 OR bad.pend IS NOT NULL OR bad.ord IS NOT NULL OR NOT bad.can THEN
		RAISE EXCEPTION '%; nothing requested', CASE
			WHEN bad.asset_id IS NULL THEN coalesce(ml_barcode_problem(bad.code), format('asset %s is not registered', bad.code))
			WHEN bad.n > 1 THEN format('asset %s is listed twice', bad.code)
			WHEN bad.pend IS NOT NULL THEN format('asset %s is already on pending retirement request %s', bad.code, bad.pend)
			WHEN bad.ord IS NOT NULL THEN format('asset %s is on open distribution order %s', bad.code, bad.ord)
			ELSE format('asset %s is ''%s'': %s is not allowed in that state', bad.code, bad.state, p_action) END
			USING ERRCODE = CASE WHEN bad.asset_id IS NULL THEN 'P0002' WHEN bad.n > 1 THEN '22023' ELSE '55000' END;
	END IF;
	INSERT INTO retire_request (action, reason, to_location_id, requested_by)
	VALUES (p_action, p_reason, dest.location_id, actor) RETURNING request_id INTO id;
	BEGIN
		INSERT INTO retire_request_item (request_id, asset_id, from_state)
		SELECT id, a.asset_id, a.state FROM unnest(p_barcodes) x(code) JOIN asset a ON a.barcode = x.code::bpchar;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'an asset of the list was put on another retirement request at the same time; nothing requested'
			USING ERRCODE = '40001';
	END;
	RETURN id;
END
$$;

-- Approve a pending request: a second person with asset.retire (not the
-- requester). Every asset must still be in the state it had when requested
-- (compare-and-set); each gets the event with the request's reason, the
-- requester and the approver. Returns the number of assets retired.
CREATE FUNCTION ml_retire_approve(p_request bigint, p_note text DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('asset.retire');
	r retire_request;
	changes ml_asset_change[];
	n bigint;
BEGIN
	SELECT * INTO r FROM retire_request WHERE request_id = p_request FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'retirement request % does not exist', p_request USING ERRCODE = 'P0002';
	END IF;
	IF r.status <> 'pending' THEN
		RAISE EXCEPTION 'retirement request % is already %', p_request, r.status USING ERRCODE = '55000';
	END IF;
	IF r.requested_by = actor THEN
		RAISE EXCEPTION 'retirement request %: you requested it; a second person approves', p_request
			USING ERRCODE = '42501';
	END IF;
	p_note := ml_clean_text('note', p_note, 500, false);
	SELECT array_agg(ROW(i.asset_id, i.from_state,
			     CASE r.action WHEN 'scrap' THEN 'scrapped' ELSE 'returned_to_maker' END, r.action,
			     r.to_location_id, false, NULL, r.reason,
			     jsonb_build_object('request', p_request, 'requested_by', r.requested_by, 'approved_by', actor,
						'note', p_note))::ml_asset_change ORDER BY i.asset_id)
	INTO changes FROM retire_request_item i WHERE i.request_id = p_request;
	n := ml_asset_apply(actor, changes);
	UPDATE retire_request_item SET pending = false WHERE request_id = p_request;
	UPDATE retire_request SET status = 'approved', decided_by = actor, decided_at = now(), decision_note = p_note
	WHERE request_id = p_request;
	RETURN n;
END
$$;

CREATE FUNCTION ml_retire_reject(p_request bigint, p_note text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('asset.retire');
	r retire_request;
BEGIN
	SELECT * INTO r FROM retire_request WHERE request_id = p_request FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'retirement request % does not exist', p_request USING ERRCODE = 'P0002';
	END IF;
	IF r.status <> 'pending' THEN
		RAISE EXCEPTION 'retirement request % is already %', p_request, r.status USING ERRCODE = '55000';
	END IF;
	IF r.requested_by = actor THEN
		RAISE EXCEPTION 'retirement request %: you requested it; a second person decides', p_request
			USING ERRCODE = '42501';
	END IF;
	UPDATE retire_request_item SET pending = false WHERE request_id = p_request;
	UPDATE retire_request SET status = 'rejected', decided_by = actor, decided_at = now(),
		decision_note = ml_clean_text('note', p_note, 500, true)
	WHERE request_id = p_request;
END
$$;

REVOKE ALL ON stock_count, stock_count_line, retire_request, retire_request_item FROM PUBLIC;
GRANT SELECT ON stock_count, stock_count_line, retire_request, retire_request_item TO meterlab_app;
GRANT EXECUTE ON FUNCTION ml_count_submit(text, text, text[]), ml_count_confirm(bigint, text),
	ml_count_reject(bigint, text), ml_retire_request(text, text[], text, text), ml_retire_approve(bigint, text),
	ml_retire_reject(bigint, text) TO meterlab_app;
