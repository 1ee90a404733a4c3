-- 0303: the overdue rotations and on-site inspections of 0302 as monitoring
-- rules (issue 15): an installed meter past its verification validity, a
-- classed metering point past its inspection due date. ml_watch_detect is
-- 0300's with these two branches added (CREATE OR REPLACE keeps its owner
-- and grants); the thresholds are days of grace.

INSERT INTO watch_rule (code, title, threshold, unit, due_days, role) VALUES
	('rotation_overdue', 'installed meter past its verification validity, not rotated (beyond the threshold)', 0,
	 'days', 14, 'field_member'),
	('inspection_overdue', 'metering point past its on-site inspection due date (beyond the threshold)', 0, 'days',
	 14, 'field_member');

CREATE OR REPLACE FUNCTION ml_watch_detect(p_rule text, p_threshold int, p_key text DEFAULT NULL)
	RETURNS TABLE (anomaly_key text, asset_id bigint, place_id bigint, summary text, evidence jsonb)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	th int := coalesce(p_threshold, 0);
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
		-- one anomaly per store, model and lot (a delivery ages together)
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
			AND ml_issue_problem(a.valid_until, a.verified_at, ml_setting_e4('stock.reverify_months')) IS NOT NULL
		      GROUP BY a.location_id, a.model_id, a.lot_id) s
		JOIN lot l ON l.lot_id = s.lot_id JOIN device_model m ON m.model_id = s.model_id
		LEFT JOIN location loc ON loc.location_id = s.location_id
		WHERE p_key IS NULL OR p_key = 'stock:' || s.location_id || ':' || s.model_id || ':' || s.lot_id;
	ELSIF p_rule = 'reading_backwards' THEN
		RETURN QUERY
		SELECT 'installation:' || w.installation_id, w.asset_id, w.team_id,
		       format('asset %s installed at %s kWh on %s, removed at %s kWh from its previous installation',
			      a.barcode, w.install_kwh, to_char(w.installed_at, 'YYYY-MM-DD'), w.prev_remove_kwh),
		       jsonb_build_object('barcode', a.barcode, 'installation', w.installation_id,
					  'install_kwh', w.install_kwh::text, 'previous_installation', w.prev_id,
					  'previous_remove_kwh', w.prev_remove_kwh::text)
		FROM (SELECT i.installation_id, i.asset_id, i.team_id, i.install_kwh, i.installed_at,
			     lag(i.remove_kwh) OVER w AS prev_remove_kwh, lag(i.installation_id) OVER w AS prev_id
		      FROM installation i WHERE i.element = 'meter'
		      WINDOW w AS (PARTITION BY i.asset_id ORDER BY i.installed_at, i.installation_id)) w
		JOIN asset a ON a.asset_id = w.asset_id
		WHERE w.install_kwh * 100 < w.prev_remove_kwh * 100 - th
		  AND (p_key IS NULL OR p_key = 'installation:' || w.installation_id);
	ELSIF p_rule = 'unsealed_install' THEN
		RETURN QUERY
		SELECT 'installation:' || i.installation_id, i.asset_id, i.team_id,
		       format('meter %s at point %s installed on %s without an applied seal', a.barcode, p.code,
			      to_char(i.installed_at, 'YYYY-MM-DD')),
		       jsonb_build_object('barcode', a.barcode, 'point', p.code, 'installation', i.installation_id,
					  'installed_at', i.installed_at)
		FROM installation i JOIN asset a ON a.asset_id = i.asset_id
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
		-- an installed meter past its verification validity (the rotation list's 'overdue')
		RETURN QUERY
		SELECT 'installation:' || i.installation_id, i.asset_id, i.team_id,
		       format('meter %s at point %s: verification validity ended on %s, not rotated', a.barcode, p.code,
			      a.valid_until),
		       jsonb_build_object('barcode', a.barcode, 'point', p.code, 'valid_until', a.valid_until,
					  'installation', i.installation_id)
		FROM installation i JOIN asset a ON a.asset_id = i.asset_id
		JOIN metering_point p ON p.point_id = i.point_id
		WHERE i.removed_at IS NULL AND i.element = 'meter' AND a.valid_until < current_date - th
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
	ELSE
		RAISE EXCEPTION 'unknown monitoring rule ''%''', left(p_rule, 60) USING ERRCODE = 'P0002';
	END IF;
END
$$;
