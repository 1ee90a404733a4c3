-- 0175: a bulk move reads and writes the assets it moves by index, whatever
-- the size of the registry (issue 10, phase 2).
--
-- Measured with auto_explain (10 000 random installed assets removed in one
-- move, 400 000-asset registry): both the pre-check of ml_asset_move (the
-- batch joined to asset by barcode) and the UPDATE of ml_asset_apply (the
-- changes joined to asset by id) ran as a hash join over a sequential scan of
-- the WHOLE asset table — 10 000 index probes cost more than a scan to the
-- planner until the table is several million rows — so the move grew with
-- the registry (0.67 s at 100 k, 2.15 s at 1 M, 10.6 s at 10 M).
--
-- ml_asset_move: the asset of each barcode is an index probe (LATERAL …
-- LIMIT 1 is always a nested loop over the barcode index).
-- ml_asset_apply: the UPDATE is planned without hash or merge joins (the
-- function's own settings), i.e. one probe of asset_pkey per change, the
-- changes taken in asset_id order so heap and index pages are visited in
-- order; the events are written from the UPDATE's RETURNING (no join back to
-- the changes); JIT off: no statement here runs long enough to repay it, and
-- the estimated cost of 10 000 probes crossed jit_above_cost. Same
-- signatures, same checks, messages and SQLSTATEs.

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
	RETURN done;
END
$$;

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
		IF a IS NULL OR ml_move_permission(a) IS NULL THEN
			RAISE EXCEPTION 'unknown lifecycle action ''%'' (valid: sample, sample_return, dispatch, receive_secondary, issue, install, return_unused, remove, fault_report, reuse, return_to_maker, scrap)',
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
		       t.to_state
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
		LEFT JOIN asset_transition t ON t.from_state = x.state AND t.action = m.action
			AND t.to_secondary = (m.action = 'return_unused' AND coalesce(l.kind, cl.kind) = 'secondary_store')),
	q AS (
		SELECT p.*, CASE
			WHEN NOT p.bc_ok THEN 1
			WHEN p.idx <> p.first_idx THEN 2
			WHEN p.asset_id IS NULL THEN 3
			WHEN p.loc_code IS NOT NULL AND p.loc_id IS NULL THEN 4
			WHEN p.run_id IS NOT NULL THEN 5
			WHEN p.to_state IS NULL THEN 6
			WHEN (p.action = 'receive_secondary' AND coalesce(p.loc_kind, p.cur_kind, '') <> 'secondary_store')
			  OR (p.action = 'return_unused'
			      AND coalesce(p.loc_kind, p.cur_kind, '') NOT IN ('secondary_store', 'central_store')) THEN 7
			-- an asset past its verification period must not go to the field (JJG 596-2012, domain §1.12)
			WHEN p.action = 'issue' AND (p.valid_until IS NULL OR p.valid_until < current_date) THEN 8
			END AS problem
		FROM p)
	SELECT array_agg(ROW(q.idx, q.barcode, CASE WHEN q.problem IN (3, 4) THEN 'P0002'
						   WHEN q.problem IN (5, 6, 8) THEN '55000' ELSE '22023' END,
		CASE q.problem
		WHEN 1 THEN ml_barcode_problem(q.barcode)
		WHEN 2 THEN format('asset %s appears more than once in the batch (moves %s and %s)', q.barcode, q.first_idx, q.idx)
		WHEN 3 THEN format('asset %s is not registered', q.barcode)
		WHEN 4 THEN format('asset %s: location ''%s'' does not exist', q.barcode, q.loc_code)
		WHEN 5 THEN format('asset %s is mounted on run %s (%s) on bench %s: only that run moves it (meterlab run resume %s, or meterlab run abort %s)',
				   q.barcode, q.run_id, q.run_status, q.bench, q.run_id, q.run_id)
		WHEN 6 THEN format('asset %s is ''%s'': action ''%s'' is not allowed in state ''%s''', q.barcode, q.state,
				   q.action, q.state)
		WHEN 7 THEN format('asset %s: %s puts it in %s, but ''%s'' is %s; give --location STORE', q.barcode, q.action,
				   CASE q.action WHEN 'receive_secondary' THEN 'a secondary store' ELSE 'a store' END,
				   coalesce(q.loc_code, q.cur_code, '(no location)'),
				   coalesce('a ' || coalesce(q.loc_kind, q.cur_kind), 'not a store'))
		WHEN 8 THEN format('asset %s cannot be issued: verification %s; re-verify it first', q.barcode,
				   CASE WHEN q.valid_until IS NULL THEN 'validity is not recorded'
					ELSE 'expired on ' || q.valid_until END)
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
