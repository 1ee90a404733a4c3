-- 0310: the two monitoring rules over every meter installation read only
-- their candidates (issue 15's benchmark: all rules over 10 M assets in under
-- a minute). At 1 M assets they were 6 of the rules' 6.4 s and grow with the
-- installations: reading_backwards ordered every meter installation per asset
-- (a window over ~9 M rows at 10 M assets) and unsealed_install anti-joined
-- every active installation with every seal (seal had no index on
-- installation_id).
--
-- reading_backwards: each meter installation keeps the removal reading of the
-- asset's previous meter installation (prev_installation_id, prev_remove_kwh),
-- set when it is inserted and refreshed when an earlier installation's
-- reading or date changes, so it always equals the window of 0300
-- (lag(remove_kwh) over the asset's installations by installed_at,
-- installation_id). A partial index holds the rows installed below it.
--
-- unsealed_install: installation_unsealed lists the active meter installations
-- with no applied seal, kept by row triggers on installation (insert,
-- removal) and seal (apply, remove, move). The rule checks the conditions
-- again on each listed row, so the list narrows the scan and never decides.
--
-- Both are derived data: meterlab_app cannot write them (the columns are set
-- by a BEFORE trigger whatever an INSERT gives; the table has no grants), and
-- ml_watch_field_rebuild() recomputes both from scratch (the migration's
-- backfill; the DBA's after a bulk load with triggers off, as bench_watch
-- does).

ALTER TABLE installation ADD COLUMN prev_installation_id bigint, ADD COLUMN prev_remove_kwh numeric;
COMMENT ON COLUMN installation.prev_remove_kwh IS
	'derived (0310): remove_kwh of the asset''s previous meter installation; kept by triggers';

CREATE INDEX seal_installation ON seal (installation_id) WHERE installation_id IS NOT NULL;

CREATE TABLE installation_unsealed (
	installation_id bigint PRIMARY KEY REFERENCES installation (installation_id) ON DELETE CASCADE
);
REVOKE ALL ON installation_unsealed FROM PUBLIC, meterlab_app;

-- The asset's previous meter installation before (at, id), by the index installation_asset.
CREATE FUNCTION installation_prev_set() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	NEW.prev_installation_id := NULL;
	NEW.prev_remove_kwh := NULL;
	IF NEW.element = 'meter' THEN
		SELECT p.installation_id, p.remove_kwh INTO NEW.prev_installation_id, NEW.prev_remove_kwh
		FROM installation p
		WHERE p.asset_id = NEW.asset_id AND p.element = 'meter'
		  AND (p.installed_at, p.installation_id) < (NEW.installed_at, NEW.installation_id)
		ORDER BY p.installed_at DESC, p.installation_id DESC LIMIT 1;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER installation_prev BEFORE INSERT ON installation
	FOR EACH ROW EXECUTE FUNCTION installation_prev_set();

-- Recompute the previous-installation columns of one asset's meter
-- installations (a handful of rows); writes only the rows that change.
CREATE FUNCTION installation_prev_refresh(p_asset bigint) RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
	UPDATE installation i SET prev_installation_id = w.prev_id, prev_remove_kwh = w.prev_kwh
	FROM (SELECT x.installation_id,
		     CASE WHEN x.element = 'meter' THEN lag(x.installation_id) OVER w END AS prev_id,
		     CASE WHEN x.element = 'meter' THEN lag(x.remove_kwh) OVER w END AS prev_kwh
	      FROM installation x WHERE x.asset_id = p_asset
	      WINDOW w AS (PARTITION BY x.element = 'meter' ORDER BY x.installed_at, x.installation_id)) w
	WHERE i.installation_id = w.installation_id
	  AND (i.prev_installation_id IS DISTINCT FROM w.prev_id OR i.prev_remove_kwh IS DISTINCT FROM w.prev_kwh);
$$;
REVOKE ALL ON FUNCTION installation_prev_refresh(bigint) FROM PUBLIC;

-- After an insert that is not the asset's latest (a back-dated record), or a
-- change of a reading, date, element or asset: the followers' columns change.
-- The refresh's own UPDATE sets only the prev_ columns, so it does not fire this.
CREATE FUNCTION installation_prev_follow() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND (OLD.asset_id <> NEW.asset_id OR OLD.element <> NEW.element
				 OR OLD.installed_at <> NEW.installed_at) THEN
		PERFORM installation_prev_refresh(OLD.asset_id);
		PERFORM installation_prev_refresh(NEW.asset_id);
	ELSIF EXISTS (SELECT 1 FROM installation f
		      WHERE f.asset_id = NEW.asset_id AND f.installation_id <> NEW.installation_id
			AND (f.installed_at, f.installation_id) > (NEW.installed_at, NEW.installation_id)) THEN
		PERFORM installation_prev_refresh(NEW.asset_id);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER installation_prev_follow_insert AFTER INSERT ON installation
	FOR EACH ROW EXECUTE FUNCTION installation_prev_follow();
CREATE TRIGGER installation_prev_follow_update AFTER UPDATE OF remove_kwh, installed_at, element, asset_id
	ON installation FOR EACH ROW EXECUTE FUNCTION installation_prev_follow();

-- Is each of these installations an active meter installation with no
-- applied seal? Deletes and re-inserts their rows of installation_unsealed.
CREATE FUNCTION installation_unsealed_sync(p_ids bigint[]) RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
	DELETE FROM installation_unsealed WHERE installation_id = ANY (p_ids);
	INSERT INTO installation_unsealed (installation_id)
	SELECT i.installation_id FROM installation i
	WHERE i.installation_id = ANY (p_ids) AND i.removed_at IS NULL AND i.element = 'meter'
	  AND NOT EXISTS (SELECT 1 FROM seal s WHERE s.installation_id = i.installation_id AND s.state = 'applied');
$$;
REVOKE ALL ON FUNCTION installation_unsealed_sync(bigint[]) FROM PUBLIC;

CREATE FUNCTION installation_unsealed_on_installation() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	PERFORM installation_unsealed_sync(ARRAY[NEW.installation_id]);
	RETURN NULL;
END
$$;
CREATE TRIGGER installation_unsealed_insert AFTER INSERT ON installation
	FOR EACH ROW EXECUTE FUNCTION installation_unsealed_on_installation();
CREATE TRIGGER installation_unsealed_update AFTER UPDATE OF removed_at, element ON installation
	FOR EACH ROW EXECUTE FUNCTION installation_unsealed_on_installation();

-- A seal counts while it is applied to an installation: any change that
-- makes or unmakes that for the old or the new installation re-checks both.
CREATE FUNCTION installation_unsealed_on_seal() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	o bigint := CASE WHEN TG_OP <> 'INSERT' AND OLD.state = 'applied' THEN OLD.installation_id END;
	n bigint := CASE WHEN TG_OP <> 'DELETE' AND NEW.state = 'applied' THEN NEW.installation_id END;
BEGIN
	IF o IS DISTINCT FROM n THEN
		PERFORM installation_unsealed_sync(array_remove(ARRAY[o, n], NULL));
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER installation_unsealed_seal AFTER INSERT OR DELETE OR UPDATE OF state, installation_id ON seal
	FOR EACH ROW EXECUTE FUNCTION installation_unsealed_on_seal();

-- Both derived sets from scratch. Owner only (not granted to meterlab_app).
CREATE FUNCTION ml_watch_field_rebuild() RETURNS TABLE (backwards bigint, unsealed bigint)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	UPDATE installation i SET prev_installation_id = w.prev_id, prev_remove_kwh = w.prev_kwh
	FROM (SELECT x.installation_id, lag(x.installation_id) OVER w AS prev_id, lag(x.remove_kwh) OVER w AS prev_kwh
	      FROM installation x WHERE x.element = 'meter'
	      WINDOW w AS (PARTITION BY x.asset_id ORDER BY x.installed_at, x.installation_id)) w
	WHERE i.installation_id = w.installation_id
	  AND (i.prev_installation_id IS DISTINCT FROM w.prev_id OR i.prev_remove_kwh IS DISTINCT FROM w.prev_kwh);
	UPDATE installation SET prev_installation_id = NULL, prev_remove_kwh = NULL
	WHERE element <> 'meter' AND (prev_installation_id IS NOT NULL OR prev_remove_kwh IS NOT NULL);
	DELETE FROM installation_unsealed;
	INSERT INTO installation_unsealed (installation_id)
	SELECT i.installation_id FROM installation i
	WHERE i.removed_at IS NULL AND i.element = 'meter'
	  AND NOT EXISTS (SELECT 1 FROM seal s WHERE s.installation_id = i.installation_id AND s.state = 'applied');
	RETURN QUERY SELECT (SELECT count(*) FROM installation WHERE element = 'meter' AND install_kwh < prev_remove_kwh),
			    (SELECT count(*) FROM installation_unsealed);
END
$$;
REVOKE ALL ON FUNCTION ml_watch_field_rebuild() FROM PUBLIC;
SELECT * FROM ml_watch_field_rebuild();

CREATE INDEX installation_reading_backwards ON installation (installation_id)
	WHERE element = 'meter' AND install_kwh < prev_remove_kwh;

CREATE OR REPLACE FUNCTION ml_watch_detect(p_rule text, p_threshold int, p_key text DEFAULT NULL)
	RETURNS TABLE (anomaly_key text, asset_id bigint, place_id bigint, summary text, evidence jsonb)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
