-- 0373: a bulk move looks up open orders and pending retirements as sets
-- (issue 10, province scale; re-measured 2026-12-07).
--
-- 0362 added two per-meter lookups to ml_asset_move's pre-check, each a
-- LATERAL (… LIMIT 1) subquery: the planner can only run them as a nested
-- loop, one rescan of dist_order_item and one of retire_request_item for
-- every barcode of the batch (20 000 for a 10 000-barcode move), even when
-- the tables hold nothing open. Both are at most one row per asset — the
-- unique partial indexes dist_order_item_one_open (asset_id) WHERE open and
-- retire_request_item_one_pending (asset_id) WHERE pending (0201, 0202) —
-- so a plain LEFT JOIN gives the same row per move and lets the planner
-- read each table once (a hash of the open items, of the pending requests).
-- Measured with bench/scale_probe.py probes-ab (bench/RESULTS.md,
-- 2026-12-07). The rules are unchanged: the same refusals (problems 9 and
-- 10, naming the order or the request), all or nothing; ml_asset_apply's
-- pending check (0369) is already one statement.
-- Same signature; CREATE OR REPLACE keeps the grants, but replaces the
-- function's settings, so 0365's TimeZone is given again in the header.

-- The move of 0362 (TimeZone of 0365) with the two lookups as joins.
CREATE OR REPLACE FUNCTION ml_asset_move(p_barcodes text[], p_actions text[], p_locations text[] DEFAULT NULL,
			      p_reasons text[] DEFAULT NULL, p_details jsonb[] DEFAULT NULL)
	RETURNS SETOF ml_move_refusal
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'Asia/Shanghai' AS $$
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
		-- an asset on an open distribution order or a pending retirement (0362), joined as sets (0373):
		-- the unique partial indexes dist_order_item_one_open and retire_request_item_one_pending allow
		-- at most one row per asset, so each stays one row per move without LIMIT 1
		LEFT JOIN dist_order_item ord ON ord.asset_id = x.asset_id AND ord.open
		LEFT JOIN retire_request_item ret ON ret.asset_id = x.asset_id AND ret.pending
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
