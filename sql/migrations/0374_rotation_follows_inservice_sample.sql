-- 0374: rotation under state-based rotation follows the in-service sample
-- everywhere (planning audit, findings 1, 2 and 3).
--
-- 1. A rejected in-service sample (0309) put "every installed meter of the
--    lot" on the rotation list as 'rejected' for as long as it was the lot's
--    latest decision: a meter of that lot swapped out, verified again by the
--    lab (passed: asset.verified_at after the rejection, a new validity,
--    JJG 596-2012 period, domain.md §1.12) and installed again was still
--    'rejected', so each month's rotation orders swapped the freshly
--    verified meter again within swap.inspection_days, for ever. The
--    rejection judged the meters in service then; one verified since has had
--    exactly the verification the rejection asked for, and follows its new
--    validity.
-- 2. The monitoring rule rotation_overdue (0303/0310) read only the
--    validity: with state-based rotation on, a lot whose sample was accepted
--    (deferred: off the rotation list until its deferral) got a work item
--    per meter, "validity ended, not rotated", which could only be closed
--    with a waiver while the deferral ran; and a rejected lot's meters were
--    never overdue while their validity ran, however long the swap waited.
--    The rule now takes the day the list makes a meter due: the validity;
--    accepted, not before the deferral ends; rejected, the decision's day +
--    swap.inspection_days (the due date the rotation orders give, 0309).
-- 3. Cancelling the swap order of a meter drawn for an undecided in-service
--    sample (its 'sample' order, or the rotation order it kept) left the
--    meter in the field unverified: the sample could never be decided
--    (ml_inservice_sample_decide waits for every drawn meter, or Re
--    failures) and the lot never drawn again (one undecided sample per lot),
--    with no work item or order to show it. A drawn unit is part of the
--    sample (GB/T 2828.1 / ISO 2859-1 judge the sample drawn, domain.md §3);
--    its order is now refused cancellation until the sample is decided.
--
-- 1 and 2 read the lots' latest decided samples from one function,
-- ml_rotation_lot_decisions (none while rotation.state_based is 0: the
-- period rule of 0302 exactly). ml_rotation_list and ml_watch_detect are
-- restated whole (CREATE OR REPLACE keeps owner and grants, not the SET
-- clauses, so 0365's TimeZone = 'Asia/Shanghai' is restated with them);
-- ml_watch_detect is 0310's with only the rotation_overdue branch changed.

-- The latest decided in-service sample of each lot while state-based
-- rotation is on; no rows when it is off.
CREATE FUNCTION ml_rotation_lot_decisions()
	RETURNS TABLE (lot_id bigint, verdict text, decided_at timestamptz, defer_until date)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT DISTINCT ON (s.lot_id) s.lot_id, s.verdict, s.decided_at, s.defer_until
	FROM inservice_sample s
	WHERE s.verdict IS NOT NULL
	  AND (SELECT v.value FROM plan_setting v WHERE v.key = 'rotation.state_based') = 1
	ORDER BY s.lot_id, s.decided_at DESC, s.sample_id DESC
$$;
GRANT EXECUTE ON FUNCTION ml_rotation_lot_decisions() TO meterlab_app;

-- The rotation list (0309's columns and statuses): 'rejected' only for a
-- meter not verified again since its lot's rejection.
CREATE OR REPLACE FUNCTION ml_rotation_list(p_month date, p_team text DEFAULT NULL)
	RETURNS TABLE (team text, status text, barcode text, model text, point text, address text, installed_on date,
		       valid_until date)
	LANGUAGE sql STABLE SET search_path = public, pg_temp SET TimeZone = 'Asia/Shanghai' AS $$
	WITH m AS (SELECT date_trunc('month', p_month)::date AS first,
		     (date_trunc('month', p_month) + interval '1 month')::date AS next)
	SELECT t.code,
	       CASE WHEN r.rejected THEN 'rejected' WHEN a.valid_until < m.first THEN 'overdue' ELSE 'due' END,
	       a.barcode::text, dm.code, p.code, p.address, i.installed_at::date, a.valid_until
	FROM installation i JOIN asset a ON a.asset_id = i.asset_id
	JOIN device_model dm ON dm.model_id = a.model_id
	JOIN metering_point p ON p.point_id = i.point_id
	JOIN location t ON t.location_id = i.team_id
	CROSS JOIN m
	LEFT JOIN ml_rotation_lot_decisions() d ON d.lot_id = a.lot_id
	CROSS JOIN LATERAL (SELECT coalesce(d.verdict = 'reject' AND coalesce(a.verified_at < d.decided_at, true),
					    false) AS rejected) r
	WHERE i.removed_at IS NULL AND i.element = 'meter'
	  AND (p_team IS NULL OR t.code = p_team)
	  AND CASE WHEN r.rejected THEN d.decided_at < m.next
		   WHEN d.verdict = 'accept' AND d.defer_until >= m.next THEN false
		   ELSE a.valid_until < m.next END
	ORDER BY t.code, a.valid_until, p.code
$$;

CREATE OR REPLACE FUNCTION ml_watch_detect(p_rule text, p_threshold int, p_key text DEFAULT NULL)
	RETURNS TABLE (anomaly_key text, asset_id bigint, place_id bigint, summary text, evidence jsonb)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'Asia/Shanghai' AS $$
#variable_conflict use_column
DECLARE
	th int := coalesce(p_threshold, 0);
	reverify_months bigint;
BEGIN
	IF p_rule = 'transit_overdue' THEN
		-- key: the asset and the moment its transit began
		RETURN QUERY
		SELECT 'asset:' || a.asset_id || '@' || to_char(a.state_changed_at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS'),
		       a.asset_id, a.location_id,
		       format('asset %s in transit since %s (%s days)', a.barcode,
			      to_char(a.state_changed_at, 'YYYY-MM-DD'), (current_date - a.state_changed_at::date)),
		       jsonb_build_object('barcode', a.barcode, 'since', a.state_changed_at,
					  'order', (SELECT max(i.order_id) FROM dist_order_item i
						    WHERE i.asset_id = a.asset_id AND i.status = 'in_transit'))
		FROM asset a
		WHERE a.state = 'in_transit' AND a.state_changed_at < now() - make_interval(days => th)
		  AND (p_key IS NULL OR p_key = 'asset:' || a.asset_id || '@'
		       || to_char(a.state_changed_at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS'));
	ELSIF p_rule = 'stock_reverify_age' THEN
		-- one anomaly per store, model and lot (a delivery ages together); the setting is
		-- read once (0310): ml_setting_e4 is SECURITY DEFINER, so it was called per stock
		-- asset (786 000 calls at 10 M assets), where the inlined ml_issue_problem is cheap
		reverify_months := ml_setting_e4('stock.reverify_months');
		RETURN QUERY
		SELECT 'stock:' || s.location_id || ':' || s.model_id || ':' || s.lot_id, NULL::bigint, s.location_id,
		       format('%s assets of lot %s (model %s) at %s are past validity or re-verification age', s.n,
			      l.code, m.code, loc.code),
		       jsonb_build_object('assets', s.n, 'lot', l.code, 'model', m.code, 'store', loc.code,
					  'oldest_verified', s.oldest, 'first_valid_until', s.first_valid,
					  'barcodes', to_jsonb(s.sample))
		FROM (SELECT a.location_id, a.model_id, a.lot_id, count(*) AS n, min(a.verified_at) AS oldest,
			     min(a.valid_until) AS first_valid, (array_agg(a.barcode::text ORDER BY a.asset_id))[1:10] AS sample
		      FROM asset a
		      WHERE a.state IN ('in_stock', 'secondary_stock')
			AND ml_issue_problem(a.valid_until, a.verified_at, reverify_months) IS NOT NULL
		      GROUP BY a.location_id, a.model_id, a.lot_id) s
		JOIN lot l ON l.lot_id = s.lot_id JOIN device_model m ON m.model_id = s.model_id
		LEFT JOIN location loc ON loc.location_id = s.location_id
		WHERE p_key IS NULL OR p_key = 'stock:' || s.location_id || ':' || s.model_id || ':' || s.lot_id;
	ELSIF p_rule = 'reading_backwards' THEN
		-- 0310: the previous installation's removal reading is kept on each installation, and the
		-- partial index installation_reading_backwards holds exactly the meters installed below it
		-- (th >= 0 by watch_rule's CHECK, so the threshold's condition implies the index's)
		RETURN QUERY
		SELECT 'installation:' || i.installation_id, i.asset_id, i.team_id,
		       format('asset %s installed at %s kWh on %s, removed at %s kWh from its previous installation',
			      a.barcode, i.install_kwh, to_char(i.installed_at, 'YYYY-MM-DD'), i.prev_remove_kwh),
		       jsonb_build_object('barcode', a.barcode, 'installation', i.installation_id,
					  'install_kwh', i.install_kwh::text, 'previous_installation', i.prev_installation_id,
					  'previous_remove_kwh', i.prev_remove_kwh::text)
		FROM installation i JOIN asset a ON a.asset_id = i.asset_id
		WHERE i.element = 'meter' AND i.install_kwh < i.prev_remove_kwh
		  AND i.install_kwh * 100 < i.prev_remove_kwh * 100 - th
		  AND (p_key IS NULL OR p_key = 'installation:' || i.installation_id);
	ELSIF p_rule = 'unsealed_install' THEN
		-- 0310: installation_unsealed lists the active meter installations without an applied
		-- seal; the conditions are checked again here, so the list only narrows the scan
		RETURN QUERY
		SELECT 'installation:' || i.installation_id, i.asset_id, i.team_id,
		       format('meter %s at point %s installed on %s without an applied seal', a.barcode, p.code,
			      to_char(i.installed_at, 'YYYY-MM-DD')),
		       jsonb_build_object('barcode', a.barcode, 'point', p.code, 'installation', i.installation_id,
					  'installed_at', i.installed_at)
		FROM installation_unsealed u JOIN installation i ON i.installation_id = u.installation_id
		JOIN asset a ON a.asset_id = i.asset_id
		JOIN metering_point p ON p.point_id = i.point_id
		WHERE i.removed_at IS NULL AND i.element = 'meter' AND i.installed_at < now() - make_interval(hours => th)
		  AND NOT EXISTS (SELECT 1 FROM seal s WHERE s.installation_id = i.installation_id AND s.state = 'applied')
		  AND (p_key IS NULL OR p_key = 'installation:' || i.installation_id);
	ELSIF p_rule = 'standard_cert_expiring' THEN
		-- the standard's latest certificate; a new certificate is a new episode
		RETURN QUERY
		SELECT 'standard:' || s.standard_id || ':' || c.cert_id, NULL::bigint, NULL::bigint,
		       format('standard %s: certificate %s %s on %s', s.code, c.cert_no,
			      CASE WHEN c.valid_until < current_date THEN 'ended' ELSE 'ends' END, c.valid_until),
		       jsonb_build_object('standard', s.code, 'certificate', c.cert_no, 'valid_until', c.valid_until,
					  'benches', (SELECT coalesce(jsonb_agg(b.code ORDER BY b.code), '[]')
						      FROM lab_bench_standard bs JOIN lab_bench b ON b.bench_id = bs.bench_id
						      WHERE bs.standard_id = s.standard_id))
		FROM reference_standard s
		CROSS JOIN LATERAL (SELECT * FROM standard_certificate c WHERE c.standard_id = s.standard_id
				    ORDER BY c.valid_until DESC, c.cert_id DESC LIMIT 1) c
		WHERE c.valid_until < current_date + th
		  AND (p_key IS NULL OR p_key = 'standard:' || s.standard_id || ':' || c.cert_id);
	ELSIF p_rule = 'cert_withdrawn' THEN
		RETURN QUERY
		SELECT 'certificate:' || w.cert_id, a.asset_id, a.location_id,
		       format('certificate %s of asset %s withdrawn on %s (%s); the asset holds no later certificate',
			      coalesce(c.cert_no, c.id::text), a.barcode, to_char(w.withdrawn_at, 'YYYY-MM-DD'), w.reason),
		       jsonb_build_object('barcode', a.barcode, 'certificate', c.cert_no, 'withdrawn_at', w.withdrawn_at,
					  'reason', w.reason, 'asset_state', a.state)
		FROM cert_withdrawal w JOIN certificate c ON c.asset_id = w.asset_id AND c.id = w.cert_id
		JOIN asset a ON a.asset_id = w.asset_id
		WHERE w.withdrawn_at >= now() - make_interval(days => CASE WHEN th = 0 THEN 36600 ELSE th END)
		  AND a.state NOT IN ('scrapped', 'returned_to_maker')
		  AND NOT EXISTS (SELECT 1 FROM certificate n WHERE n.asset_id = w.asset_id AND n.id > w.cert_id
				  AND n.state = 'issued'
				  AND NOT EXISTS (SELECT 1 FROM cert_withdrawal x WHERE x.asset_id = n.asset_id AND x.cert_id = n.id))
		  AND (p_key IS NULL OR p_key = 'certificate:' || w.cert_id);
	ELSIF p_rule = 'cert_revised' THEN
		RETURN QUERY
		SELECT 'revision:' || s.new_id, a.asset_id, a.location_id,
		       format('certificate %s of asset %s revised on %s: %s', coalesce(o.cert_no, o.id::text), a.barcode,
			      to_char(s.superseded_at, 'YYYY-MM-DD'), s.reason),
		       jsonb_build_object('barcode', a.barcode, 'certificate', o.cert_no, 'revision', n.revision,
					  'reason', s.reason, 'revised_by', s.revised_by, 'at', s.superseded_at)
		FROM cert_supersession s JOIN certificate o ON o.asset_id = s.asset_id AND o.id = s.old_id
		JOIN certificate n ON n.asset_id = s.asset_id AND n.id = s.new_id
		JOIN asset a ON a.asset_id = s.asset_id
		WHERE s.superseded_at >= now() - make_interval(days => th)
		  AND (p_key IS NULL OR p_key = 'revision:' || s.new_id);
	ELSIF p_rule = 'run_interrupted' THEN
		RETURN QUERY
		SELECT 'run:' || r.run_id, NULL::bigint, NULL::bigint,
		       format('run %s on bench %s interrupted, last activity %s', r.run_id, b.code,
			      to_char(r.last_at, 'YYYY-MM-DD HH24:MI')),
		       jsonb_build_object('run', r.run_id, 'bench', b.code, 'last_activity', r.last_at,
					  'error', r.last_error, 'assets',
					  (SELECT count(*) FROM run_position rp WHERE rp.run_id = r.run_id))
		FROM (SELECT v.run_id, v.bench_id, v.last_error,
			     greatest(v.created_at, v.started_at,
				      (SELECT max(st.completed_at) FROM run_step st WHERE st.run_id = v.run_id)) AS last_at
		      FROM verification_run v WHERE v.status = 'interrupted') r
		JOIN lab_bench b ON b.bench_id = r.bench_id
		WHERE r.last_at < now() - make_interval(hours => th)
		  AND (p_key IS NULL OR p_key = 'run:' || r.run_id);
	ELSIF p_rule = 'rotation_overdue' THEN
		-- an installed meter past the day the rotation list (ml_rotation_list) makes it due:
		-- its verification validity, or with state-based rotation its lot's latest in-service
		-- sample (0309, 0374): accepted, not before the deferral ends; rejected (and not
		-- verified again since), swap.inspection_days after the rejection
		RETURN QUERY
		SELECT 'installation:' || i.installation_id, i.asset_id, i.team_id,
		       format('meter %s at point %s: %s, not rotated', a.barcode, p.code,
			      CASE WHEN x.rejected
				   THEN format('lot %s rejected by its in-service sample on %s, swap due on %s',
					       (SELECT l.code FROM lot l WHERE l.lot_id = d.lot_id),
					       to_char(d.decided_at, 'YYYY-MM-DD'), x.due)
				   WHEN d.verdict = 'accept'
				   THEN format('verification validity ended on %s, its lot''s in-service deferral on %s',
					       a.valid_until, d.defer_until)
				   ELSE format('verification validity ended on %s', a.valid_until) END),
		       jsonb_build_object('barcode', a.barcode, 'point', p.code, 'valid_until', a.valid_until,
					  'installation', i.installation_id)
		       || CASE WHEN d.lot_id IS NULL THEN '{}'::jsonb
			       ELSE jsonb_build_object('in_service_sample', d.verdict, 'decided_at', d.decided_at,
						       'defer_until', d.defer_until, 'due_on', x.due) END
		FROM installation i JOIN asset a ON a.asset_id = i.asset_id
		JOIN metering_point p ON p.point_id = i.point_id
		LEFT JOIN ml_rotation_lot_decisions() d ON d.lot_id = a.lot_id
		CROSS JOIN LATERAL (SELECT coalesce(d.verdict = 'reject' AND coalesce(a.verified_at < d.decided_at, true),
						    false) AS rejected) r
		CROSS JOIN LATERAL (SELECT r.rejected,
					   CASE WHEN r.rejected
						THEN (d.decided_at::date + (SELECT s.value FROM plan_setting s
									    WHERE s.key = 'swap.inspection_days'))
						WHEN d.verdict = 'accept' THEN greatest(a.valid_until, d.defer_until)
						ELSE a.valid_until END AS due) x
		WHERE i.removed_at IS NULL AND i.element = 'meter' AND x.due < current_date - th
		  AND (p_key IS NULL OR p_key = 'installation:' || i.installation_id);
	ELSIF p_rule = 'inspection_overdue' THEN
		-- a classed point past its on-site inspection due date; the due date is the episode
		RETURN QUERY
		SELECT 'point:' || x.point_id || '@' || x.due, x.asset_id, x.team_id,
		       format('point %s (class %s): on-site inspection due on %s', x.code, x.class, x.due),
		       jsonb_build_object('point', x.code, 'class', x.class, 'due_on', x.due, 'last_inspected', x.last)
		FROM (SELECT p.point_id, p.code, c.class, i.asset_id, i.team_id, li.last,
			     ml_inspection_next(coalesce(li.last, i.installed_at::date), c.class) AS due
		      FROM point_inspection_class c JOIN metering_point p ON p.point_id = c.point_id
		      JOIN installation i ON i.point_id = p.point_id AND i.removed_at IS NULL AND i.element = 'meter'
		      LEFT JOIN LATERAL (SELECT max(pi.inspected_on) AS last FROM point_inspection pi
					 WHERE pi.point_id = p.point_id) li ON true) x
		WHERE x.due < current_date - th
		  AND (p_key IS NULL OR p_key = 'point:' || x.point_id || '@' || x.due);
	ELSIF p_rule = 'quality_flag' THEN
		-- a lot, model or maker the quality issue's early warning flags (0308: recorded by
		-- the watch run from quality/alerts.c over the last th days); the unit is the key
		RETURN QUERY
		SELECT 'quality:' || q.metric || ':' || q.dim || ':' || q.unit_key, NULL::bigint, NULL::bigint,
		       format('%s %s: %s %s of %s (peers %s: %s of %s), flagged by the early warning (p = %s, %s .. %s)',
			      q.dim, q.unit_key, q.x, CASE q.metric WHEN 'verify' THEN 'failed verifications'
							ELSE 'field faults in asset-days' END,
			      q.n, q.peer, q.peer_x, q.peer_n, q.p, q.period_from, q.period_to),
		       jsonb_build_object('metric', q.metric, 'dim', q.dim, 'unit', q.unit_key, 'peer', q.peer, 'n', q.n,
					  'x', q.x, 'peer_n', q.peer_n, 'peer_x', q.peer_x, 'p', q.p, 'from', q.period_from,
					  'to', q.period_to, 'recorded_at', q.recorded_at)
		FROM quality_flag q
		WHERE p_key IS NULL OR p_key = 'quality:' || q.metric || ':' || q.dim || ':' || q.unit_key;
	ELSE
		RAISE EXCEPTION 'unknown monitoring rule ''%''', left(p_rule, 60) USING ERRCODE = 'P0002';
	END IF;
END
$$;

-- 0306's cancellation, refused for the order of a meter drawn for its lot's
-- undecided in-service sample (3. above).
CREATE OR REPLACE FUNCTION ml_swap_order_cancel(p_order bigint, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('swap.order');
	reason text := ml_clean_text('reason', p_reason, 500);
	o swap_order;
	lot_code text;
BEGIN
	SELECT * INTO o FROM swap_order WHERE order_id = p_order FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no swap order %', coalesce(p_order::text, 'NULL') USING ERRCODE = 'P0002';
	END IF;
	IF o.status <> 'open' THEN
		RAISE EXCEPTION 'swap order % is %: only an open order is cancelled', p_order, o.status
			USING ERRCODE = '55000';
	END IF;
	SELECT l.code INTO lot_code FROM inservice_sample_item it JOIN inservice_sample s ON s.sample_id = it.sample_id
	JOIN lot l ON l.lot_id = s.lot_id
	WHERE it.installation_id = o.installation_id AND s.verdict IS NULL;
	IF FOUND THEN
		RAISE EXCEPTION 'swap order % brings a meter drawn for the undecided in-service sample of lot % to the lab: '
			'the sample is judged as drawn, so the order is not cancelled before the sample is decided',
			p_order, lot_code USING ERRCODE = '55000';
	END IF;
	UPDATE swap_order SET status = 'cancelled', cancel_reason = reason, closed_by = actor, closed_at = now()
	WHERE order_id = p_order;
END
$$;
