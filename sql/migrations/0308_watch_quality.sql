-- 0308: the quality issue's failure-rate flag as a monitoring rule (issue 15,
-- "a lot or model whose failure rate the quality issue flags").
--
-- The flag is computed by the early warning of issue 14 (quality/alerts.c:
-- Fisher's exact test of a lot's, model's or maker's verification failures
-- against its peers, the exact Poisson-rate test of field faults per
-- asset-day, Holm's correction per family; exact rational comparisons, no
-- rounded p-values), in C, not in SQL. So `watch run` (plan/watch.c) first
-- computes it over the rule's window — the last `threshold` days — and
-- records the flagged units here (ml_quality_flags_record, permission
-- watch.run, the same statement's transaction as the run); the rule reads
-- them. The flagged set is replaced at each recording: closing an item
-- re-evaluates against the latest recording, so an item closes as fixed
-- once the unit is no longer flagged. Alpha 0.05 with Holm's procedure, the
-- quality report's defaults.

CREATE TABLE quality_flag (
	metric text NOT NULL CHECK (metric IN ('verify', 'field')),
	dim text NOT NULL CHECK (dim IN ('lot', 'model', 'maker')),
	unit_key text NOT NULL,
	peer text NOT NULL,
	n bigint NOT NULL,
	x bigint NOT NULL,
	peer_n bigint NOT NULL,
	peer_x bigint NOT NULL,
	p text NOT NULL,
	period_from date NOT NULL,
	period_to date NOT NULL,
	recorded_by bigint NOT NULL REFERENCES app_user (user_id),
	recorded_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (metric, dim, unit_key)
);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON quality_flag FROM PUBLIC, meterlab_app;
GRANT SELECT ON quality_flag TO meterlab_app;

INSERT INTO watch_rule (code, title, threshold, unit, due_days, role) VALUES
	('quality_flag', 'lot, model or maker whose failure or fault rate the early warning flags (window: the '
	 'threshold in days)', 90, 'days', 14, 'quality_analyst');

-- Replace the flagged set (watch.run). Arrays: one entry per flagged unit.
CREATE FUNCTION ml_quality_flags_record(p_from date, p_to date, p_metric text[], p_dim text[], p_key text[],
					p_peer text[], p_n bigint[], p_x bigint[], p_peer_n bigint[], p_peer_x bigint[],
					p_p text[]) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('watch.run');
	k int := coalesce(cardinality(p_key), 0);
	n int;
BEGIN
	IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
		RAISE EXCEPTION 'the early warning''s period % .. % is not a range', p_from, p_to USING ERRCODE = '22023';
	END IF;
	IF coalesce(cardinality(p_metric), 0) <> k OR coalesce(cardinality(p_dim), 0) <> k
	   OR coalesce(cardinality(p_peer), 0) <> k OR coalesce(cardinality(p_n), 0) <> k
	   OR coalesce(cardinality(p_x), 0) <> k OR coalesce(cardinality(p_peer_n), 0) <> k
	   OR coalesce(cardinality(p_peer_x), 0) <> k OR coalesce(cardinality(p_p), 0) <> k THEN
		RAISE EXCEPTION 'the flagged units'' arrays do not have one entry per unit (% units)', k
			USING ERRCODE = '22023';
	END IF;
	DELETE FROM quality_flag;
	INSERT INTO quality_flag (metric, dim, unit_key, peer, n, x, peer_n, peer_x, p, period_from, period_to,
				  recorded_by)
	SELECT t.m, t.d, t.k, t.pe, t.n, t.x, t.pn, t.px, t.p, p_from, p_to, actor
	FROM unnest(p_metric, p_dim, p_key, p_peer, p_n, p_x, p_peer_n, p_peer_x, p_p) t(m, d, k, pe, n, x, pn, px, p);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
GRANT EXECUTE ON FUNCTION ml_quality_flags_record(date, date, text[], text[], text[], text[], bigint[], bigint[],
	bigint[], bigint[], text[]) TO meterlab_app;

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
