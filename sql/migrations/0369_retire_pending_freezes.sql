-- 0369: a pending retirement freezes the asset on every path; `stock where`
-- says whether an asset may be issued by the rules the issue applies
-- (stores audit of 2026-12-07, finding 8 and the rest of finding 6).
--
-- 0362 made a bare move, an order and a count leave an asset on a pending
-- retirement request alone, but every other way to change an asset still
-- moved it: a stock re-verification send, a run mounting it (verify_start),
-- an order's dispatch of an asset picked before the request, a fault report
-- on a removed meter, a lot's rejection. The approval then failed for good on
-- its compare-and-set, or retired what was moved on. Now:
--   * ml_asset_apply (last 0175), the one way every function changes an
--     asset, refuses a change of state or place of an asset on a pending
--     request (55000, naming the asset and the request), whoever calls it;
--   * ml_retire_approve (0202) clears its items' pending flag first (it is the
--     one caller meant to move them), and refuses a request whose asset is on
--     an open distribution order, naming both;
--   * ml_retire_request (0202) locks the assets before judging them, so a
--     concurrent move either is seen or sees the request;
--   * ml_stock_reverify_send (0200) names the request among its per-line
--     refusals (the guard above would refuse the whole batch anyway).
-- ml_asset_issue_problem(asset_id): why an asset may not be issued now, or
-- NULL: the lifecycle (a state with an 'issue' transition), no open order,
-- no pending retirement, and the validity rule (ml_issue_problem, the one
-- the issue trigger of 0204 applies). `meterlab stock where` printed "valid
-- for issue" from the dates alone, for a lost or scrapped meter too.
-- Same signatures otherwise; CREATE OR REPLACE keeps the grants.

-- The apply of 0175 with the guard at its end.
CREATE OR REPLACE FUNCTION ml_asset_apply(p_actor bigint, p_changes ml_asset_change[]) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
	SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off AS $$
DECLARE
	login text;
	n bigint := coalesce(cardinality(p_changes), 0);
	done bigint;
	done_ids bigint[];
	bad record;
BEGIN
	IF n = 0 THEN
		RETURN 0;
	END IF;
	SELECT u.login INTO login FROM app_user u WHERE u.user_id = p_actor;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'ml_asset_apply: actor % is not a meterlab user', p_actor USING ERRCODE = '28000';
	END IF;
	-- the lifecycle: a listed transition, or no change of state
	SELECT c.asset_id, c.from_state, c.to_state, c.action INTO bad
	FROM unnest(p_changes) c
	WHERE c.asset_id IS NULL OR c.from_state IS NULL OR c.to_state IS NULL OR c.action IS NULL
	   OR (c.from_state <> c.to_state AND NOT EXISTS (
		SELECT 1 FROM asset_transition t
		WHERE t.from_state = c.from_state AND t.action = c.action AND t.to_state = c.to_state))
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'ml_asset_apply: asset % cannot go from % to % by %', bad.asset_id,
			coalesce(bad.from_state, 'NULL'), coalesce(bad.to_state, 'NULL'), coalesce(bad.action, 'NULL')
			USING ERRCODE = '55000';
	END IF;
	SELECT c.asset_id INTO bad FROM unnest(p_changes) c GROUP BY c.asset_id HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'ml_asset_apply: asset % appears more than once', bad.asset_id USING ERRCODE = '22023';
	END IF;

	WITH c AS (SELECT * FROM unnest(p_changes) ORDER BY asset_id),
	upd AS (
		UPDATE asset a SET state = c.to_state,
			location_id = coalesce(c.location_id, a.location_id),
			valid_until = CASE WHEN c.set_valid_until THEN c.valid_until ELSE a.valid_until END,
			state_changed_at = CASE WHEN c.to_state <> c.from_state THEN now() ELSE a.state_changed_at END
		FROM c WHERE a.asset_id = c.asset_id AND a.state = c.from_state
		RETURNING a.asset_id, a.location_id, c.from_state, c.to_state, c.action, c.reason, c.details),
	ev AS (
		INSERT INTO asset_event (asset_id, actor, actor_id, location_id, from_state, to_state, action, reason,
					 details)
		SELECT upd.asset_id, login, p_actor, upd.location_id, upd.from_state, upd.to_state, upd.action, upd.reason,
		       coalesce(upd.details, '{}'::jsonb)
		FROM upd
		RETURNING asset_id)
	SELECT coalesce(array_agg(asset_id), '{}') INTO done_ids FROM ev;
	done := cardinality(done_ids);

	IF done <> n THEN
		-- someone changed an asset after the caller checked it: nothing is applied
		SELECT c.asset_id, a.barcode, c.from_state, a.state INTO bad
		FROM unnest(p_changes) c LEFT JOIN asset a USING (asset_id)
		WHERE c.asset_id <> ALL (done_ids) LIMIT 1;
		RAISE EXCEPTION 'asset % was changed by someone else (it is now ''%'', no longer ''%''); nothing moved',
			coalesce(bad.barcode::text, bad.asset_id::text), coalesce(bad.state, 'not registered'), bad.from_state
			USING ERRCODE = '40001';
	END IF;
	-- a pending retirement request freezes the asset (0369, stores finding 8):
	-- no change of its state or place (a change that keeps both, like a put-away
	-- into a slot, a seal or a certificate, is allowed: the approval's
	-- compare-and-set is on the state). Checked after the UPDATE on purpose: the
	-- UPDATE waits for the asset locks of a concurrent ml_retire_request, so this
	-- statement (a new snapshot) sees a request committed meanwhile. The
	-- approval itself clears its items' pending flag before it applies.
	SELECT a.barcode, r.request_id INTO bad
	FROM unnest(p_changes) c JOIN retire_request_item r ON r.asset_id = c.asset_id AND r.pending
	JOIN asset a ON a.asset_id = c.asset_id
	WHERE c.to_state <> c.from_state OR c.location_id IS NOT NULL
	ORDER BY c.asset_id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'asset % is on pending retirement request %: it does not move until a second person approves or rejects it (meterlab retire approve|reject %); nothing moved',
			bad.barcode, bad.request_id, bad.request_id USING ERRCODE = '55000';
	END IF;
	RETURN done;
END
$$;

-- The request of 0202, locking its assets first.
CREATE OR REPLACE FUNCTION ml_retire_request(p_action text, p_barcodes text[], p_reason text, p_to text DEFAULT NULL)
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
	-- the assets are locked first (0369): a move applied concurrently either
	-- finished before (then the checks below, a new snapshot, see its state) or
	-- waits for this request and then finds it pending (ml_asset_apply)
	PERFORM 1 FROM asset a
	WHERE a.barcode IN (SELECT x::bpchar FROM unnest(p_barcodes) x WHERE coalesce(ml_barcode_ok(x), false))
	ORDER BY a.asset_id FOR SHARE;
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

-- The approval of 0202: no open order; pending cleared before the change.
CREATE OR REPLACE FUNCTION ml_retire_approve(p_request bigint, p_note text DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('asset.retire');
	r retire_request;
	bad record;
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
	-- never retire an asset an open order holds (0369): the order would then
	-- dispatch or receive a retired meter, or stay stuck on it
	SELECT a.barcode, i.order_id, i.status INTO bad
	FROM retire_request_item ri JOIN asset a ON a.asset_id = ri.asset_id
	JOIN dist_order_item i ON i.asset_id = ri.asset_id AND i.open
	WHERE ri.request_id = p_request ORDER BY a.barcode LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'retirement request %: asset % is % on open distribution order %; cancel the order or reject the request',
			p_request, bad.barcode, bad.status, bad.order_id USING ERRCODE = '55000';
	END IF;
	-- no longer pending before the change: ml_asset_apply refuses to move an
	-- asset on a pending request (0369); all of it is one transaction
	UPDATE retire_request_item SET pending = false WHERE request_id = p_request;
	SELECT array_agg(ROW(i.asset_id, i.from_state,
			     CASE r.action WHEN 'scrap' THEN 'scrapped' ELSE 'returned_to_maker' END, r.action,
			     r.to_location_id, false, NULL, r.reason,
			     jsonb_build_object('request', p_request, 'requested_by', r.requested_by, 'approved_by', actor,
						'note', p_note))::ml_asset_change ORDER BY i.asset_id)
	INTO changes FROM retire_request_item i WHERE i.request_id = p_request;
	n := ml_asset_apply(actor, changes);
	UPDATE retire_request SET status = 'approved', decided_by = actor, decided_at = now(), decision_note = p_note
	WHERE request_id = p_request;
	RETURN n;
END
$$;

-- The send of 0200 with the pending retirement among its refusals.
CREATE OR REPLACE FUNCTION ml_stock_reverify_send(p_barcodes text[], p_lab text, p_reason text DEFAULT NULL)
	RETURNS SETOF ml_scan_refusal
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.reverify');
	lab location;
	refusals ml_scan_refusal[];
	changes ml_asset_change[];
BEGIN
	SELECT * INTO lab FROM location WHERE code = coalesce(p_lab, '');
	IF NOT FOUND OR lab.kind <> 'lab' THEN
		RAISE EXCEPTION 'location ''%'' is not a lab: re-verification goes to a lab location', p_lab
			USING ERRCODE = '22023';
	END IF;
	p_reason := ml_clean_text('reason', p_reason, 500, false);
	IF coalesce(cardinality(p_barcodes), 0) = 0 THEN
		RAISE EXCEPTION 'no asset to send' USING ERRCODE = '22023';
	END IF;
	WITH c AS (SELECT x.code, x.i::int AS idx, min(x.i) OVER (PARTITION BY x.code)::int AS first_idx
		   FROM unnest(p_barcodes) WITH ORDINALITY x(code, i)),
	p AS (SELECT c.*, a.asset_id, a.state, ml_barcode_ok(c.code) AS ok,
		     (SELECT i.order_id FROM dist_order_item i WHERE i.asset_id = a.asset_id AND i.open) AS on_order,
		     (SELECT r.request_id FROM retire_request_item r WHERE r.asset_id = a.asset_id AND r.pending) AS retiring
	      FROM c LEFT JOIN asset a ON ml_barcode_ok(c.code) AND a.barcode = c.code::bpchar),
	q AS (SELECT p.*, CASE
		WHEN NOT coalesce(p.ok, false) THEN ml_barcode_problem(p.code)
		WHEN p.idx <> p.first_idx THEN format('asset %s is listed twice (%s and %s)', p.code, p.first_idx, p.idx)
		WHEN p.asset_id IS NULL THEN format('asset %s is not registered', p.code)
		WHEN p.state NOT IN ('in_stock', 'secondary_stock') THEN
			format('asset %s is ''%s'': only stock is sent for re-verification', p.code, p.state)
		WHEN p.on_order IS NOT NULL THEN format('asset %s is on open distribution order %s', p.code, p.on_order)
		WHEN p.retiring IS NOT NULL THEN
			format('asset %s is on pending retirement request %s: it does not move until a second person approves or rejects it (meterlab retire approve|reject %s)',
			       p.code, p.retiring, p.retiring)
		END AS problem FROM p)
	SELECT array_agg(ROW(q.idx, q.code, CASE WHEN q.asset_id IS NULL THEN 'P0002' ELSE '55000' END, q.problem)::ml_scan_refusal
			 ORDER BY q.idx) FILTER (WHERE q.problem IS NOT NULL),
	       array_agg(ROW(q.asset_id, q.state, 'reverify', 'reverify_send', lab.location_id, false, NULL,
			     coalesce(p_reason, 'stock re-verification'), NULL)::ml_asset_change ORDER BY q.idx)
	INTO refusals, changes FROM q;
	IF refusals IS NOT NULL THEN
		RETURN QUERY SELECT * FROM unnest(refusals);
		RETURN;
	END IF;
	PERFORM ml_asset_apply(actor, changes);
	RETURN;
END
$$;

-- Why the asset may not be issued now, or NULL when `asset move issue` to a
-- field team would take it: the same sources the move and the apply use —
-- the lifecycle table (an 'issue' transition from its state), an open
-- distribution order and a pending retirement request (0362, the guard
-- above), and ml_issue_problem (validity and stock wait, the issue trigger
-- of 0204; JJG 596-2012, domain §1.12). The reason does not repeat the
-- barcode; the caller names it.
CREATE FUNCTION ml_asset_issue_problem(p_asset_id bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT CASE
		WHEN a.asset_id IS NULL THEN format('asset id %s is not registered', p_asset_id)
		WHEN NOT EXISTS (SELECT 1 FROM asset_transition t WHERE t.from_state = a.state AND t.action = 'issue')
		THEN format('it is ''%s''; only an asset in %s is issued', a.state,
			    (SELECT string_agg(t.from_state, ' or ' ORDER BY t.from_state) FROM asset_transition t
			     WHERE t.action = 'issue'))
		WHEN o.order_id IS NOT NULL
		THEN format('it is %s on open distribution order %s: only the order moves it', o.status, o.order_id)
		WHEN r.request_id IS NOT NULL
		THEN format('it is on pending retirement request %s: it does not move until a second person approves or rejects it (meterlab retire approve|reject %s)',
			    r.request_id, r.request_id)
		ELSE ml_issue_problem(a.valid_until, a.verified_at, ml_setting_e4('stock.reverify_months'))
		     || '; re-verify it first' END
	FROM (SELECT 1) one LEFT JOIN asset a ON a.asset_id = p_asset_id
	LEFT JOIN LATERAL (SELECT i.order_id, i.status FROM dist_order_item i
			   WHERE i.asset_id = a.asset_id AND i.open LIMIT 1) o ON true
	LEFT JOIN LATERAL (SELECT x.request_id FROM retire_request_item x
			   WHERE x.asset_id = a.asset_id AND x.pending LIMIT 1) r ON true
$$;
REVOKE ALL ON FUNCTION ml_asset_issue_problem(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ml_asset_issue_problem(bigint) TO meterlab_app;
