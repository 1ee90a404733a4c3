-- 0309: state-based rotation by in-service sampling (状态轮换, issue 15).
--
-- Instead of replacing every meter at the end of its verification period,
-- a centre may sample the installed meters of a lot (domain.md §1.12 and
-- §5.1: Shanghai moving to state-based rotation after sampling in-service
-- meters, [S] cowatch.cn; the rule itself is the centre's policy, [M]):
-- turned on by the plan setting rotation.state_based, a person with
-- swap.order draws a sample of a lot's installed meters — the ISO 2859-1 /
-- GB/T 2828.1 plan for the number installed (ml_sampling_plan, normal
-- severity) and the recorded-seed draw of arrival sampling
-- (ml_sample_draw_indices, algorithm chacha20-fy-v1, over the installed
-- meters in barcode order), so anyone can redo it — and a swap work order
-- (kind sample) brings each drawn meter to the lab. Their verification
-- results judge the lot by Ac/Re, confirmed by a person with sample.decide:
--   accept — the lot's installed meters stay in service: no rotation list
--            names them before the deferral date (today + the plan setting
--            rotation.extend_months);
--   reject — every installed meter of the lot is on the rotation list from
--            the decision on ('rejected'), whatever its validity.
-- With the setting off the rotation list is the period rule of 0302.

INSERT INTO plan_setting (key, value, min_v, max_v, description) VALUES
	('rotation.state_based', 0, 0, 1,
	 '1: state-based rotation — in-service samples of a lot defer or bring forward its rotation'),
	('rotation.extend_months', 24, 1, 96,
	 'months an accepted in-service sample keeps its lot''s installed meters off the rotation list');

ALTER TABLE swap_order DROP CONSTRAINT swap_order_kind_check;
ALTER TABLE swap_order ADD CONSTRAINT swap_order_kind_check CHECK (kind IN ('rotation', 'inspection', 'sample'));

CREATE TABLE inservice_sample (
	sample_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	lot_id bigint NOT NULL REFERENCES lot (lot_id),
	level text NOT NULL,
	aql text NOT NULL,
	installed int NOT NULL,
	sample_size int NOT NULL,
	ac int NOT NULL,
	re int NOT NULL,
	seed bytea NOT NULL CHECK (length(seed) = 32),
	drawn_by bigint NOT NULL REFERENCES app_user (user_id),
	drawn_at timestamptz NOT NULL DEFAULT now(),
	verdict text CHECK (verdict IN ('accept', 'reject')),
	nonconforming int,
	decided_by bigint REFERENCES app_user (user_id),
	decided_at timestamptz,
	defer_until date,
	note text,
	CHECK ((verdict IS NULL) = (decided_at IS NULL)),
	CHECK ((verdict = 'accept') = (defer_until IS NOT NULL))
);
CREATE UNIQUE INDEX inservice_sample_open ON inservice_sample (lot_id) WHERE verdict IS NULL;
CREATE TABLE inservice_sample_item (
	sample_id bigint NOT NULL REFERENCES inservice_sample (sample_id),
	asset_id bigint NOT NULL REFERENCES asset (asset_id),
	installation_id bigint NOT NULL REFERENCES installation (installation_id),
	draw_order int NOT NULL,
	PRIMARY KEY (sample_id, asset_id)
);
CREATE FUNCTION inservice_sample_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'UPDATE' OR OLD.verdict IS NOT NULL OR NEW.sample_id <> OLD.sample_id OR NEW.lot_id <> OLD.lot_id
	   OR NEW.seed <> OLD.seed OR NEW.sample_size <> OLD.sample_size OR NEW.drawn_at <> OLD.drawn_at THEN
		RAISE EXCEPTION 'an in-service sample is history once drawn and final once decided: % refused', TG_OP
			USING ERRCODE = '55000';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER inservice_sample_guard BEFORE UPDATE OR DELETE ON inservice_sample
	FOR EACH ROW EXECUTE FUNCTION inservice_sample_guard();
CREATE TRIGGER inservice_sample_item_append_only BEFORE UPDATE OR DELETE ON inservice_sample_item
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON inservice_sample, inservice_sample_item FROM PUBLIC, meterlab_app;
GRANT SELECT ON inservice_sample, inservice_sample_item TO meterlab_app;

-- Draw the in-service sample of a lot; returns the drawn meters in draw order.
CREATE FUNCTION ml_inservice_sample_draw(p_lot text, p_level text, p_aql text, p_seed bytea DEFAULT NULL)
	RETURNS TABLE (draw int, barcode text, point text, swap_order_id bigint)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('swap.order');
	seed bytea := coalesce(p_seed, gen_random_bytes(32));
	l lot;
	n int;
	ids bigint[];
	insts bigint[];
	pl record;
	idx int[];
	sid bigint;
BEGIN
	IF (SELECT value FROM plan_setting WHERE key = 'rotation.state_based') <> 1 THEN
		RAISE EXCEPTION 'state-based rotation is off (plan setting rotation.state_based)' USING ERRCODE = '55000';
	END IF;
	SELECT * INTO l FROM lot WHERE code = p_lot;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown lot %', coalesce(quote_literal(p_lot), 'NULL') USING ERRCODE = 'P0002';
	END IF;
	IF length(seed) <> 32 THEN
		RAISE EXCEPTION 'the seed must be 32 bytes (64 hex digits)' USING ERRCODE = '22023';
	END IF;
	IF EXISTS (SELECT 1 FROM inservice_sample s WHERE s.lot_id = l.lot_id AND s.verdict IS NULL) THEN
		RAISE EXCEPTION 'lot % has an undecided in-service sample', l.code USING ERRCODE = '55000';
	END IF;
	SELECT array_agg(a.asset_id ORDER BY a.barcode), array_agg(i.installation_id ORDER BY a.barcode), count(*)
	INTO ids, insts, n
	FROM installation i JOIN asset a ON a.asset_id = i.asset_id
	WHERE a.lot_id = l.lot_id AND i.removed_at IS NULL AND i.element = 'meter';
	IF n < 2 THEN
		RAISE EXCEPTION 'lot % has % installed meters: nothing to sample', l.code, n USING ERRCODE = '55000';
	END IF;
	SELECT * INTO pl FROM ml_sampling_plan(n, p_level, p_aql, 'normal');
	idx := ml_sample_draw_indices(seed, n, pl.sample_size);
	INSERT INTO inservice_sample (lot_id, level, aql, installed, sample_size, ac, re, seed, drawn_by)
	VALUES (l.lot_id, p_level, pl.aql, n, pl.sample_size, pl.ac, pl.re, seed, actor) RETURNING sample_id INTO sid;
	INSERT INTO inservice_sample_item (sample_id, asset_id, installation_id, draw_order)
	SELECT sid, ids[x.i + 1], insts[x.i + 1], x.o::int FROM unnest(idx) WITH ORDINALITY x(i, o);
	INSERT INTO swap_order (kind, installation_id, point_id, asset_id, team_id, due_on, opened_by)
	SELECT 'sample', i.installation_id, i.point_id, i.asset_id, i.team_id,
	       current_date + (SELECT value FROM plan_setting WHERE key = 'swap.inspection_days'), actor
	FROM inservice_sample_item s JOIN installation i ON i.installation_id = s.installation_id
	WHERE s.sample_id = sid ORDER BY s.draw_order
	ON CONFLICT (installation_id) WHERE status = 'open' DO NOTHING;
	RETURN QUERY
	SELECT s.draw_order, a.barcode::text, p.code,
	       (SELECT o.order_id FROM swap_order o WHERE o.installation_id = s.installation_id AND o.status = 'open')
	FROM inservice_sample_item s JOIN asset a ON a.asset_id = s.asset_id
	JOIN installation i ON i.installation_id = s.installation_id JOIN metering_point p ON p.point_id = i.point_id
	WHERE s.sample_id = sid ORDER BY s.draw_order;
END
$$;

-- Judge and confirm the lot's open in-service sample from the drawn meters'
-- verifications concluded since the draw (the last one of each counts):
-- reject as soon as Re are nonconforming, accept when all are judged and at
-- most Ac are; refused while neither holds. Returns the verdict.
CREATE FUNCTION ml_inservice_sample_decide(p_lot text, p_note text DEFAULT NULL) RETURNS text
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('sample.decide');
	s inservice_sample;
	bad int;
	judged int;
	v text;
BEGIN
	SELECT x.* INTO s FROM inservice_sample x JOIN lot l ON l.lot_id = x.lot_id
	WHERE l.code = p_lot AND x.verdict IS NULL FOR UPDATE OF x;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'lot % has no undecided in-service sample', coalesce(quote_literal(p_lot), 'NULL')
			USING ERRCODE = 'P0002';
	END IF;
	SELECT count(*) FILTER (WHERE c.verdict = 'fail'), count(c.verdict) INTO bad, judged
	FROM inservice_sample_item it
	LEFT JOIN LATERAL (SELECT rc.verdict FROM run_conclusion rc JOIN verification_run r ON r.run_id = rc.run_id
			   WHERE rc.asset_id = it.asset_id AND rc.item = 'overall' AND rc.concluded_at >= s.drawn_at
			   ORDER BY rc.concluded_at DESC, rc.run_id DESC LIMIT 1) c ON true
	WHERE it.sample_id = s.sample_id;
	v := CASE WHEN bad >= s.re THEN 'reject' WHEN judged = s.sample_size AND bad <= s.ac THEN 'accept' END;
	IF v IS NULL THEN
		RAISE EXCEPTION 'lot %: % of % drawn meters verified since the draw, % nonconforming (Ac %, Re %): not decidable yet',
			p_lot, judged, s.sample_size, bad, s.ac, s.re USING ERRCODE = '55000';
	END IF;
	UPDATE inservice_sample SET verdict = v, nonconforming = bad, decided_by = actor, decided_at = now(),
		note = CASE WHEN p_note IS NULL THEN NULL ELSE ml_clean_text('note', p_note, 500) END,
		defer_until = CASE WHEN v = 'accept' THEN (current_date + make_interval(months =>
			(SELECT value FROM plan_setting WHERE key = 'rotation.extend_months')))::date END
	WHERE sample_id = s.sample_id;
	RETURN v;
END
$$;

-- The rotation list (0302's columns), with state-based rotation when the
-- setting is on: a lot's latest decided in-service sample defers (accept,
-- until defer_until) or brings forward (reject, status 'rejected') its
-- installed meters.
CREATE OR REPLACE FUNCTION ml_rotation_list(p_month date, p_team text DEFAULT NULL)
	RETURNS TABLE (team text, status text, barcode text, model text, point text, address text, installed_on date,
		       valid_until date)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	WITH sb AS (SELECT value = 1 AS active FROM plan_setting WHERE key = 'rotation.state_based'),
	m AS (SELECT date_trunc('month', p_month)::date AS first,
		     (date_trunc('month', p_month) + interval '1 month')::date AS next)
	SELECT t.code,
	       CASE WHEN sb.active AND d.verdict = 'reject' THEN 'rejected'
		    WHEN a.valid_until < m.first THEN 'overdue' ELSE 'due' END,
	       a.barcode::text, dm.code, p.code, p.address, i.installed_at::date, a.valid_until
	FROM installation i JOIN asset a ON a.asset_id = i.asset_id
	JOIN device_model dm ON dm.model_id = a.model_id
	JOIN metering_point p ON p.point_id = i.point_id
	JOIN location t ON t.location_id = i.team_id
	CROSS JOIN sb CROSS JOIN m
	LEFT JOIN LATERAL (SELECT s.verdict, s.defer_until, s.decided_at FROM inservice_sample s
			   WHERE s.lot_id = a.lot_id AND s.verdict IS NOT NULL
			   ORDER BY s.decided_at DESC LIMIT 1) d ON sb.active
	WHERE i.removed_at IS NULL AND i.element = 'meter'
	  AND (p_team IS NULL OR t.code = p_team)
	  AND CASE WHEN sb.active AND d.verdict = 'reject' THEN d.decided_at < m.next
		   WHEN sb.active AND d.verdict = 'accept' AND d.defer_until >= m.next THEN false
		   ELSE a.valid_until < m.next END
	ORDER BY t.code, a.valid_until, p.code
$$;

-- Rotation orders from that list: a rejected lot's meters due within the
-- swap days, the others the day their validity ends.
CREATE OR REPLACE FUNCTION ml_rotation_orders_open(p_month date, p_team text DEFAULT NULL) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('swap.order');
	m date := date_trunc('month', p_month)::date;
	n int;
BEGIN
	IF p_month IS NULL THEN
		RAISE EXCEPTION 'a rotation month is needed' USING ERRCODE = '22023';
	END IF;
	IF p_team IS NOT NULL AND NOT EXISTS (SELECT 1 FROM location WHERE code = p_team AND kind = 'field_team') THEN
		RAISE EXCEPTION 'unknown field team %', quote_literal(p_team) USING ERRCODE = 'P0002';
	END IF;
	INSERT INTO swap_order (kind, installation_id, point_id, asset_id, team_id, month, due_on, opened_by)
	SELECT 'rotation', i.installation_id, i.point_id, i.asset_id, i.team_id, m,
	       CASE WHEN r.status = 'rejected'
		    THEN current_date + (SELECT value FROM plan_setting WHERE key = 'swap.inspection_days')
		    ELSE a.valid_until END, actor
	FROM ml_rotation_list(m, p_team) r JOIN asset a ON a.barcode = r.barcode::bpchar
	JOIN installation i ON i.asset_id = a.asset_id AND i.removed_at IS NULL AND i.element = 'meter'
	ORDER BY i.installation_id
	ON CONFLICT (installation_id) WHERE status = 'open' DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

GRANT EXECUTE ON FUNCTION ml_inservice_sample_draw(text, text, text, bytea), ml_inservice_sample_decide(text, text)
	TO meterlab_app;
