-- 0300: closed-loop monitoring (稽查监控, issue 15). Rules find anomalies
-- in the data the other parts keep; each anomaly becomes a work item with its
-- evidence, the role and place that must act, and a due date; a person closes
-- it with a rectification note, and only with a reason while the condition
-- still holds. The same anomaly is never open twice.
--
-- A rule is a small query (ml_watch_detect) with a threshold that is data
-- (watch_rule, changed by ml_watch_rule_set with a log). Each anomaly has a
-- stable key: the thing and the episode (an asset's transit since a given
-- moment, an installation, a standard's current certificate, a withdrawn
-- certificate, a run), so a new episode is a new item and the same one is
-- not. Work items are truth: no login writes watch_item; only the SECURITY
-- DEFINER functions below do, recording the person from ml_require.

INSERT INTO app_permission (perm, description) VALUES
	('watch.run', 'evaluate the monitoring rules, opening work items for new anomalies'),
	('watch.close', 'close a monitoring work item of one''s role with a rectification note'),
	('watch.rule', 'change a monitoring rule''s threshold, due days, role or whether it runs');
INSERT INTO app_role_permission (role, perm) VALUES
	('manager', 'watch.run'), ('admin', 'watch.run'), ('quality_analyst', 'watch.run'), ('auditor', 'watch.run'),
	('manager', 'watch.close'), ('quality_analyst', 'watch.close'), ('warehouse_clerk', 'watch.close'),
	('lab_technician', 'watch.close'), ('field_member', 'watch.close'), ('approver', 'watch.close'),
	('manager', 'watch.rule'), ('admin', 'watch.rule');

-- ---- rules ----
CREATE TABLE watch_rule (
	code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]{1,39}$'),
	title text NOT NULL,
	threshold int CHECK (threshold BETWEEN 0 AND 100000),
	unit text NOT NULL CHECK (unit IN ('days', 'hours', 'kwh_cents', 'setting')),
	due_days int NOT NULL CHECK (due_days BETWEEN 0 AND 366),
	role text NOT NULL REFERENCES app_role (role),
	enabled boolean NOT NULL DEFAULT true,
	updated_by bigint REFERENCES app_user (user_id),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK ((unit = 'setting') = (threshold IS NULL))
);
INSERT INTO watch_rule (code, title, threshold, unit, due_days, role) VALUES
	('transit_overdue', 'asset in transit longer than the threshold', 7, 'days', 3, 'warehouse_clerk'),
	('stock_reverify_age', 'stock past its validity or its re-verification age (setting stock.reverify_months)',
	 NULL, 'setting', 14, 'warehouse_clerk'),
	('reading_backwards', 'register installed lower than it was removed at the previous installation (beyond the threshold)',
	 0, 'kwh_cents', 14, 'field_member'),
	('unsealed_install', 'meter installed without an applied seal for longer than the threshold', 24, 'hours', 7,
	 'field_member'),
	('standard_cert_expiring', 'reference standard whose certificate ends within the threshold (or has ended)', 30,
	 'days', 14, 'lab_technician'),
	('cert_withdrawn', 'certificate withdrawn and the asset holds no later current certificate', 0, 'days', 14,
	 'quality_analyst'),
	('cert_revised', 'certificate revised within the threshold: review who holds the old one', 30, 'days', 7,
	 'approver'),
	('run_interrupted', 'verification run interrupted and not resumed for longer than the threshold', 24, 'hours', 2,
	 'lab_technician');

CREATE TABLE watch_rule_log (
	code text NOT NULL REFERENCES watch_rule (code),
	log_id bigint GENERATED ALWAYS AS IDENTITY,
	old jsonb NOT NULL,
	new jsonb NOT NULL,
	reason text NOT NULL,
	changed_by bigint NOT NULL REFERENCES app_user (user_id),
	changed_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (code, log_id)
);

-- ---- work items ----
CREATE TABLE watch_item (
	item_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	rule text NOT NULL REFERENCES watch_rule (code),
	anomaly_key text NOT NULL CHECK (length(anomaly_key) BETWEEN 1 AND 200),
	asset_id bigint REFERENCES asset (asset_id),
	place_id bigint REFERENCES location (location_id),
	role text NOT NULL REFERENCES app_role (role),
	summary text NOT NULL,
	evidence jsonb NOT NULL,
	opened_by bigint NOT NULL REFERENCES app_user (user_id),
	opened_at timestamptz NOT NULL DEFAULT now(),
	due_on date NOT NULL,
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	cleared_at timestamptz,        -- the last run did not find the condition (NULL: it still holds)
	status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
	closed_by bigint REFERENCES app_user (user_id),
	closed_at timestamptz,
	note text,                     -- the rectification: what was done
	reason text,                   -- why closed while the condition held
	condition_held boolean,        -- at closing, re-evaluated by the rule
	CHECK ((status = 'closed') = (closed_by IS NOT NULL) AND (status = 'closed') = (closed_at IS NOT NULL)
	       AND (status = 'closed') = (note IS NOT NULL) AND (status = 'closed') = (condition_held IS NOT NULL)),
	CHECK (NOT coalesce(condition_held, false) OR reason IS NOT NULL)
);
-- Never a second open item for the same anomaly, whoever runs the rules at once.
CREATE UNIQUE INDEX watch_item_one_open ON watch_item (rule, anomaly_key) WHERE status = 'open';
CREATE INDEX watch_item_key ON watch_item (rule, anomaly_key, item_id);
CREATE INDEX watch_item_open ON watch_item (status, due_on) WHERE status = 'open';

-- A closed item is final, for every writer; items are never deleted.
CREATE FUNCTION watch_item_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
		RAISE EXCEPTION 'watch items are history: % refused', TG_OP USING ERRCODE = '42501';
	END IF;
	IF OLD.status = 'closed' THEN
		RAISE EXCEPTION 'work item % is closed: it cannot change', OLD.item_id USING ERRCODE = '55000';
	END IF;
	IF NEW.item_id <> OLD.item_id OR NEW.rule <> OLD.rule OR NEW.anomaly_key <> OLD.anomaly_key
	   OR NEW.opened_by <> OLD.opened_by OR NEW.opened_at <> OLD.opened_at OR NEW.evidence <> OLD.evidence
	   OR NEW.due_on <> OLD.due_on THEN
		RAISE EXCEPTION 'work item %: what was found and when is fixed', OLD.item_id USING ERRCODE = '55000';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER watch_item_guard BEFORE UPDATE OR DELETE ON watch_item
	FOR EACH ROW EXECUTE FUNCTION watch_item_guard();
CREATE TRIGGER watch_item_no_truncate BEFORE TRUNCATE ON watch_item
	FOR EACH STATEMENT EXECUTE FUNCTION watch_item_guard();
CREATE TRIGGER watch_rule_log_append_only BEFORE UPDATE OR DELETE ON watch_rule_log
	FOR EACH ROW EXECUTE FUNCTION watch_item_guard();

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON watch_rule, watch_rule_log, watch_item FROM PUBLIC, meterlab_app;
GRANT SELECT ON watch_rule, watch_rule_log, watch_item TO meterlab_app;

-- ---- the rules ----

-- The anomalies rule p_rule finds now with threshold p_threshold; p_key, when
-- given, restricts the answer to one anomaly (closing re-checks one). Each
-- branch is one set-based query; keys name the thing and its episode.
CREATE FUNCTION ml_watch_detect(p_rule text, p_threshold int, p_key text DEFAULT NULL)
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
	ELSE
		RAISE EXCEPTION 'unknown monitoring rule ''%''', left(p_rule, 60) USING ERRCODE = 'P0002';
	END IF;
END
$$;
GRANT EXECUTE ON FUNCTION ml_watch_detect(text, int, text) TO meterlab_app;

-- Evaluate the enabled rules (or the named ones): open an item for every new
-- anomaly, note on the open ones whether their condition still holds. An
-- anomaly closed while its condition held (waived with a reason) is not
-- opened again; one closed as gone is opened again if it comes back.
-- One row per rule: found, opened, open after the run, cleared (open, not found).
CREATE FUNCTION ml_watch_run(p_rules text[] DEFAULT NULL)
	RETURNS TABLE (rule_code text, n_found bigint, n_opened bigint, n_open bigint, n_cleared bigint)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	actor bigint := ml_require('watch.run');
	r watch_rule;
	bad text;
BEGIN
	SELECT string_agg(x, ', ') INTO bad FROM unnest(p_rules) x WHERE NOT EXISTS (SELECT 1 FROM watch_rule w WHERE w.code = x);
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'unknown monitoring rule(s): %', bad USING ERRCODE = 'P0002';
	END IF;
	FOR r IN SELECT * FROM watch_rule w
		 WHERE (p_rules IS NULL AND w.enabled) OR w.code = ANY (p_rules) ORDER BY w.code LOOP
		-- one evaluation per rule at a time: two runs at once do not race on the same keys
		PERFORM pg_advisory_xact_lock(hashtext('meterlab.watch'), hashtext(r.code));
		CREATE TEMP TABLE IF NOT EXISTS watch_found (anomaly_key text PRIMARY KEY, asset_id bigint, place_id bigint,
							     summary text, evidence jsonb) ON COMMIT DROP;
		TRUNCATE watch_found;
		INSERT INTO watch_found SELECT * FROM ml_watch_detect(r.code, r.threshold);
		rule_code := r.code;
		SELECT count(*) INTO n_found FROM watch_found;
		WITH ins AS (
			INSERT INTO watch_item (rule, anomaly_key, asset_id, place_id, role, summary, evidence, opened_by, due_on)
			SELECT r.code, f.anomaly_key, f.asset_id, f.place_id, r.role, f.summary, f.evidence, actor,
			       current_date + r.due_days
			FROM watch_found f
			WHERE NOT EXISTS (SELECT 1 FROM watch_item i WHERE i.rule = r.code AND i.anomaly_key = f.anomaly_key
					  AND (i.status = 'open' OR i.condition_held))
			ON CONFLICT (rule, anomaly_key) WHERE status = 'open' DO NOTHING
			RETURNING 1)
		SELECT count(*) INTO n_opened FROM ins;
		UPDATE watch_item i SET last_seen_at = now(), cleared_at = NULL
		FROM watch_found f WHERE i.rule = r.code AND i.status = 'open' AND i.anomaly_key = f.anomaly_key;
		WITH c AS (
			UPDATE watch_item i SET cleared_at = coalesce(i.cleared_at, now())
			WHERE i.rule = r.code AND i.status = 'open'
			  AND NOT EXISTS (SELECT 1 FROM watch_found f WHERE f.anomaly_key = i.anomaly_key)
			RETURNING 1)
		SELECT count(*) INTO n_cleared FROM c;
		SELECT count(*) INTO n_open FROM watch_item i WHERE i.rule = r.code AND i.status = 'open';
		RETURN NEXT;
	END LOOP;
END
$$;

-- Close an item: the person holds its role (or is a manager), writes what was
-- done (note); the rule is evaluated again for this anomaly now, and while it
-- still holds closing needs a reason. Returns whether the condition held.
CREATE FUNCTION ml_watch_close(p_item bigint, p_note text, p_reason text DEFAULT NULL)
	RETURNS boolean
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('watch.close');
	it watch_item;
	r watch_rule;
	held boolean;
BEGIN
	SELECT * INTO it FROM watch_item WHERE item_id = p_item FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'work item % does not exist', p_item USING ERRCODE = 'P0002';
	END IF;
	IF it.status <> 'open' THEN
		RAISE EXCEPTION 'work item % is already closed', p_item USING ERRCODE = '55000';
	END IF;
	IF NOT (it.role = ANY (ml_actor_roles()) OR 'manager' = ANY (ml_actor_roles())) THEN
		RAISE EXCEPTION 'work item % is assigned to role %: % does not hold it (nor manager)', p_item, it.role,
			(SELECT login FROM app_user WHERE user_id = actor) USING ERRCODE = '42501';
	END IF;
	p_note := ml_clean_text('rectification note', p_note, 1000, true);
	p_reason := ml_clean_text('reason', p_reason, 1000, false);
	SELECT * INTO r FROM watch_rule WHERE code = it.rule;
	held := EXISTS (SELECT 1 FROM ml_watch_detect(r.code, r.threshold, it.anomaly_key));
	IF held AND p_reason IS NULL THEN
		RAISE EXCEPTION 'work item %: the condition still holds (%): fix it first, or close it with a reason',
			p_item, it.summary USING ERRCODE = '55000';
	END IF;
	UPDATE watch_item SET status = 'closed', closed_by = actor, closed_at = now(), note = p_note,
		reason = p_reason, condition_held = held,
		cleared_at = CASE WHEN held THEN NULL ELSE coalesce(cleared_at, now()) END
	WHERE item_id = p_item;
	RETURN held;
END
$$;

-- Change a rule (NULL keeps a field), logged with the person and a reason.
CREATE FUNCTION ml_watch_rule_set(p_code text, p_threshold int, p_due_days int, p_role text, p_enabled boolean,
				  p_reason text)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('watch.rule');
	o watch_rule;
	n watch_rule;
BEGIN
	SELECT * INTO o FROM watch_rule WHERE code = p_code FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown monitoring rule ''%''', left(p_code, 60) USING ERRCODE = 'P0002';
	END IF;
	IF p_threshold IS NOT NULL AND o.unit = 'setting' THEN
		RAISE EXCEPTION 'rule % takes its threshold from a setting (stock.reverify_months): meterlab setting set',
			p_code USING ERRCODE = '22023';
	END IF;
	IF p_threshold IS NOT NULL AND p_threshold NOT BETWEEN 0 AND 100000 THEN
		RAISE EXCEPTION 'threshold % is not in 0 .. 100000', p_threshold USING ERRCODE = '22023';
	END IF;
	IF p_due_days IS NOT NULL AND p_due_days NOT BETWEEN 0 AND 366 THEN
		RAISE EXCEPTION 'due days % is not in 0 .. 366', p_due_days USING ERRCODE = '22023';
	END IF;
	IF p_role IS NOT NULL AND NOT EXISTS (SELECT 1 FROM app_role WHERE role = p_role) THEN
		RAISE EXCEPTION 'unknown role ''%''', left(p_role, 40) USING ERRCODE = 'P0002';
	END IF;
	p_reason := ml_clean_text('reason', p_reason, 500, true);
	UPDATE watch_rule SET threshold = coalesce(p_threshold, threshold), due_days = coalesce(p_due_days, due_days),
		role = coalesce(p_role, role), enabled = coalesce(p_enabled, enabled), updated_by = actor, updated_at = now()
	WHERE code = p_code RETURNING * INTO n;
	INSERT INTO watch_rule_log (code, old, new, reason, changed_by)
	VALUES (p_code, jsonb_build_object('threshold', o.threshold, 'due_days', o.due_days, 'role', o.role, 'enabled', o.enabled),
		jsonb_build_object('threshold', n.threshold, 'due_days', n.due_days, 'role', n.role, 'enabled', n.enabled),
		p_reason, actor);
END
$$;

-- Timeliness per place (及时率): items opened in [from, to), how many were
-- closed, closed by their due date, the share closed in time, and how many
-- are open past due today. Place NULL (the lab's own rules) is 'centre'.
CREATE FUNCTION ml_watch_timeliness(p_from date, p_to date)
	RETURNS TABLE (place text, opened bigint, closed bigint, closed_in_time bigint, share_in_time numeric,
		       open_overdue bigint)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT coalesce(l.code, 'centre'), count(*), count(*) FILTER (WHERE i.status = 'closed'),
	       count(*) FILTER (WHERE i.status = 'closed' AND i.closed_at::date <= i.due_on),
	       round(count(*) FILTER (WHERE i.status = 'closed' AND i.closed_at::date <= i.due_on) * 100.0
		     / count(*), 1),
	       count(*) FILTER (WHERE i.status = 'open' AND i.due_on < current_date)
	FROM watch_item i LEFT JOIN location l ON l.location_id = i.place_id
	WHERE i.opened_at >= p_from AND i.opened_at < p_to
	GROUP BY 1 ORDER BY 1
$$;

GRANT EXECUTE ON FUNCTION ml_watch_run(text[]), ml_watch_close(bigint, text, text),
	ml_watch_rule_set(text, int, int, text, boolean, text), ml_watch_timeliness(date, date) TO meterlab_app;
