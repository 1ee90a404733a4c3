-- 0305: recording an on-site inspection (现场检验, issue 15) and swap work
-- orders (换表工单) — a failed inspection opens one; rotations open them
-- from the rotation list (0306).
--
-- An inspection of a metering point's installed meter names the portable
-- reference standard used — it must hold a calibration certificate valid on
-- the inspection day, the rule a bench's standards follow (JJF 1069,
-- ISO/IEC 17025 6.5; ml_check_traceability, 0113) — and the errors measured
-- at the load points. The client judges them with the lab's engine
-- (lab/judge.c: judge_meter_limit, judge_readings — exact decimals, GB/T 8170
-- half-even rounding to the class's interval in one step, domain.md §1.11);
-- this function recomputes every figure from the readings with the same
-- rules the database applies to a bench's results (ml_reg_meter_limit, the
-- JJG 596-2012 tables of 0112; ml_div_he) and refuses any figure or verdict
-- that does not follow, in either direction. The limits are the basic-error
-- limits of the meter's class at each load point ([M]: the on-site
-- operating-condition allowances of DL/T 448-2000 are not sourced; the
-- regulation's own limits are the strict reading).
--
-- The result goes on the asset's history (ml_asset_apply, action
-- site_inspect, the state unchanged) and on the point's inspection record,
-- which moves the next due date (ml_inspection_due reads the latest
-- inspected_on, 0302). A failed inspection opens a swap work order for the
-- team that installed the meter, due plan setting swap.inspection_days
-- after the inspection; an open order for the same installation (e.g. its
-- rotation) is kept rather than doubled.

INSERT INTO app_permission (perm, description) VALUES
	('inspection.record', 'record an on-site inspection of a metering point with a portable standard'),
	('swap.order', 'open rotation swap work orders from the rotation list and cancel swap work orders');
INSERT INTO app_role_permission (role, perm) VALUES
	('field_member', 'inspection.record'), ('manager', 'inspection.record'), ('admin', 'inspection.record'),
	('manager', 'swap.order'), ('admin', 'swap.order');

INSERT INTO plan_setting (key, value, min_v, max_v, description) VALUES
	('swap.inspection_days', 7, 0, 365, 'days after a failed on-site inspection by which its swap is due');

-- The inspection record of 0302 gains what was inspected and with what.
-- Rows before 0305 (due dates only) keep these empty.
ALTER TABLE point_inspection
	ADD COLUMN installation_id bigint REFERENCES installation (installation_id),
	ADD COLUMN asset_id bigint REFERENCES asset (asset_id),
	ADD COLUMN standard_id bigint REFERENCES reference_standard (standard_id),
	ADD COLUMN standard_cert_id bigint REFERENCES standard_certificate (cert_id),
	ADD COLUMN verdict text CHECK (verdict IN ('pass', 'fail')),
	ADD COLUMN note text;

-- One row per load point: the readings as measured (% × 10 000) and what
-- follows from them.
CREATE TABLE point_inspection_result (
	inspection_id bigint NOT NULL REFERENCES point_inspection (inspection_id),
	seq int NOT NULL,
	label text NOT NULL,
	point_base int NOT NULL,
	mult_e4 bigint NOT NULL,
	pf int NOT NULL,
	element int NOT NULL,
	readings_e4 bigint[] NOT NULL,
	mean_e4 bigint NOT NULL,
	rounded_e4 bigint NOT NULL,
	limit_e4 bigint NOT NULL,
	interval_e4 bigint NOT NULL,
	verdict text NOT NULL CHECK (verdict IN ('pass', 'fail')),
	PRIMARY KEY (inspection_id, seq)
);

-- Swap work orders: kind rotation (0306) or inspection; open → done (the
-- field's swap replaced that meter, closed by a trigger on installation) or
-- cancelled (with a reason). Overdue = open past due_on (computed, never
-- stored). One open order per installation.
CREATE TABLE swap_order (
	order_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind text NOT NULL CHECK (kind IN ('rotation', 'inspection')),
	installation_id bigint NOT NULL REFERENCES installation (installation_id),
	point_id bigint NOT NULL REFERENCES metering_point (point_id),
	asset_id bigint NOT NULL REFERENCES asset (asset_id),
	team_id bigint NOT NULL REFERENCES location (location_id),
	month date,
	inspection_id bigint REFERENCES point_inspection (inspection_id),
	due_on date NOT NULL,
	status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
	opened_by bigint NOT NULL REFERENCES app_user (user_id),
	opened_at timestamptz NOT NULL DEFAULT now(),
	done_installation_id bigint REFERENCES installation (installation_id),
	closed_by bigint REFERENCES app_user (user_id),
	closed_at timestamptz,
	cancel_reason text,
	CHECK ((status = 'open') = (closed_at IS NULL)),
	CHECK (status <> 'done' OR done_installation_id IS NOT NULL),
	CHECK (status <> 'cancelled' OR cancel_reason IS NOT NULL),
	CHECK ((kind = 'rotation') = (month IS NOT NULL)),
	CHECK ((kind = 'inspection') = (inspection_id IS NOT NULL))
);
CREATE UNIQUE INDEX swap_order_open ON swap_order (installation_id) WHERE status = 'open';
CREATE INDEX swap_order_team ON swap_order (team_id, status, due_on);

CREATE FUNCTION swap_order_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
		RAISE EXCEPTION 'swap work orders are history: % refused', TG_OP USING ERRCODE = '42501';
	END IF;
	IF OLD.status <> 'open' THEN
		RAISE EXCEPTION 'swap order % is %: it cannot change', OLD.order_id, OLD.status USING ERRCODE = '55000';
	END IF;
	IF NEW.order_id <> OLD.order_id OR NEW.kind <> OLD.kind OR NEW.installation_id <> OLD.installation_id
	   OR NEW.opened_by <> OLD.opened_by OR NEW.opened_at <> OLD.opened_at OR NEW.due_on <> OLD.due_on THEN
		RAISE EXCEPTION 'swap order %: what was ordered and when is fixed', OLD.order_id USING ERRCODE = '55000';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER swap_order_guard BEFORE UPDATE OR DELETE ON swap_order
	FOR EACH ROW EXECUTE FUNCTION swap_order_guard();
CREATE TRIGGER swap_order_no_truncate BEFORE TRUNCATE ON swap_order
	FOR EACH STATEMENT EXECUTE FUNCTION swap_order_guard();
-- Inspections are history (rows of 0302 included).
CREATE TRIGGER point_inspection_append_only BEFORE UPDATE OR DELETE ON point_inspection
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();
CREATE TRIGGER point_inspection_result_append_only BEFORE UPDATE OR DELETE ON point_inspection_result
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON point_inspection_result, swap_order FROM PUBLIC, meterlab_app;
GRANT SELECT ON point_inspection_result, swap_order TO meterlab_app;

-- The portable standard's certificate valid on p_date (the bench rule of
-- ml_check_traceability for one standard); refuses naming the standard and
-- its latest certificate. Returns the certificate.
CREATE FUNCTION ml_standard_valid_cert(p_standard text, p_date date) RETURNS standard_certificate
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
	s reference_standard;
	c standard_certificate;
	latest date;
BEGIN
	SELECT * INTO s FROM reference_standard WHERE code = p_standard;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown reference standard %', coalesce(quote_literal(p_standard), 'NULL')
			USING ERRCODE = 'P0002';
	END IF;
	SELECT * INTO c FROM standard_certificate x WHERE x.standard_id = s.standard_id
	  AND x.valid_from <= p_date AND x.valid_until >= p_date ORDER BY x.valid_until DESC, x.cert_id DESC LIMIT 1;
	IF NOT FOUND THEN
		SELECT max(valid_until) INTO latest FROM standard_certificate WHERE standard_id = s.standard_id;
		RAISE EXCEPTION 'reference standard ''%'' has no calibration certificate valid on % (%)', s.code, p_date,
			coalesce('latest valid until ' || latest, 'no certificate') USING ERRCODE = '55000';
	END IF;
	RETURN c;
END
$$;

-- Record an inspection. Arrays, one entry per load point: label, point base
-- / multiple / power factor / element (the codes of scheme_step), how many
-- readings, and the client's mean, rounded value, limit, interval and
-- verdict; p_readings holds every point's readings in order (% × 10 000).
CREATE FUNCTION ml_site_inspect(p_point text, p_standard text, p_date date, p_labels text[], p_base int[],
				p_mult bigint[], p_pf int[], p_element int[], p_counts int[], p_readings bigint[],
				p_mean bigint[], p_rounded bigint[], p_limit bigint[], p_interval bigint[],
				p_verdict text[], p_note text DEFAULT NULL,
				OUT inspection_id bigint, OUT verdict text, OUT order_id bigint)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('inspection.record');
	day date := coalesce(p_date, current_date);
	pt metering_point;
	inst installation;
	a asset;
	m device_model;
	cert standard_certificate;
	n int := coalesce(cardinality(p_labels), 0);
	need int := ml_setting_e4('basic.readings');
	on_rounded boolean := ml_setting('judge.verdict_on_rounded') = 'yes';
	ivl bigint;
	lim bigint;
	off int := 0;
	k int;
	r bigint[];
	s1 numeric;
	mean bigint;
	rnd bigint;
	v text;
	note text := CASE WHEN p_note IS NULL THEN NULL ELSE ml_clean_text('note', p_note, 500) END;
	lbl text;
	worst text := 'pass';
BEGIN
	IF day > current_date THEN
		RAISE EXCEPTION 'inspection date % is in the future', day USING ERRCODE = '22023';
	END IF;
	SELECT * INTO pt FROM metering_point WHERE code = p_point;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown metering point %', coalesce(quote_literal(p_point), 'NULL') USING ERRCODE = 'P0002';
	END IF;
	-- the installed meter, locked so a swap cannot pass between the check and the record
	SELECT * INTO inst FROM installation i WHERE i.point_id = pt.point_id AND i.element = 'meter'
	  AND i.removed_at IS NULL FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'metering point % has no installed meter: nothing to inspect', pt.code USING ERRCODE = '55000';
	END IF;
	IF day < inst.installed_at::date THEN
		RAISE EXCEPTION 'inspection date % is before the meter at % was installed (%)', day, pt.code,
			inst.installed_at::date USING ERRCODE = '22023';
	END IF;
	cert := ml_standard_valid_cert(p_standard, day);
	SELECT * INTO a FROM asset WHERE asset_id = inst.asset_id;
	SELECT * INTO m FROM device_model WHERE model_id = a.model_id;
	IF m.kind NOT IN ('meter_1p', 'meter_3p') THEN
		RAISE EXCEPTION 'the device at % (model %) is not an energy meter', pt.code, m.code USING ERRCODE = '22023';
	END IF;
	IF n = 0 THEN
		RAISE EXCEPTION 'an inspection needs the errors of at least one load point' USING ERRCODE = '22023';
	END IF;
	IF coalesce(cardinality(p_base), -1) <> n OR coalesce(cardinality(p_mult), -1) <> n
	   OR coalesce(cardinality(p_pf), -1) <> n OR coalesce(cardinality(p_element), -1) <> n
	   OR coalesce(cardinality(p_counts), -1) <> n OR coalesce(cardinality(p_mean), -1) <> n
	   OR coalesce(cardinality(p_rounded), -1) <> n OR coalesce(cardinality(p_limit), -1) <> n
	   OR coalesce(cardinality(p_interval), -1) <> n OR coalesce(cardinality(p_verdict), -1) <> n
	   OR (SELECT coalesce(sum(c), 0) FROM unnest(p_counts) c) <> coalesce(cardinality(p_readings), 0) THEN
		RAISE EXCEPTION 'the load points'' arrays do not have one entry per point (% points)', n
			USING ERRCODE = '22023';
	END IF;
	ivl := div(ml_meter_class_index(m.accuracy_class), 10);

	-- pass 1: every point judged and checked; nothing is written before the verdict is known
	-- (the inspection record is append-only)
	FOR i IN 1 .. n LOOP
		lbl := ml_clean_text('load point', p_labels[i], 60);
		k := p_counts[i];
		IF k IS NULL OR k < need OR k > 32 THEN
			RAISE EXCEPTION 'load point %: % readings; the rule is % to 32 (setting basic.readings)', lbl,
				coalesce(k::text, 'NULL'), need USING ERRCODE = '22023';
		END IF;
		r := p_readings[off + 1 : off + k];
		off := off + k;
		IF EXISTS (SELECT 1 FROM unnest(r) x WHERE x IS NULL OR abs(x) > 1000000000) THEN
			RAISE EXCEPTION 'load point %: a reading is missing or beyond ±100000 %%', lbl USING ERRCODE = '22023';
		END IF;
		lim := ml_reg_meter_limit(m.accuracy_class, m.connection, p_base[i], p_mult[i], p_pf[i], p_element[i],
					  round(m.ib_a * 1000)::bigint, round(m.imax_a * 1000)::bigint);
		IF lim IS NULL THEN
			RAISE EXCEPTION 'load point %: JJG 596-2012 has no limit there for class % (%)', lbl, m.accuracy_class,
				m.connection USING ERRCODE = '22023';
		END IF;
		SELECT sum(x) INTO s1 FROM unnest(r) x;
		mean := ml_div_he(s1, k);
		rnd := ml_div_he(s1, k * ivl) * ivl;
		v := CASE WHEN (on_rounded AND abs(rnd) <= lim) OR (NOT on_rounded AND abs(s1) <= lim * k) THEN 'pass'
			  ELSE 'fail' END;
		IF p_mean[i] IS DISTINCT FROM mean OR p_rounded[i] IS DISTINCT FROM rnd OR p_limit[i] IS DISTINCT FROM lim
		   OR p_interval[i] IS DISTINCT FROM ivl OR p_verdict[i] IS DISTINCT FROM v THEN
			RAISE EXCEPTION 'load point %: mean %, rounded %, limit %, interval %, verdict % do not follow from the '
				'readings (mean %, rounded %, limit ±%, interval %: %)', lbl, p_mean[i], p_rounded[i], p_limit[i],
				p_interval[i], p_verdict[i], mean, rnd, lim, ivl, v USING ERRCODE = '22023';
		END IF;
		IF v = 'fail' THEN
			worst := 'fail';
		END IF;
	END LOOP;
	verdict := worst;

	-- pass 2: the record (the figures were checked equal to the submitted ones)
	INSERT INTO point_inspection (point_id, inspected_on, recorded_by, installation_id, asset_id, standard_id,
				      standard_cert_id, verdict, note)
	VALUES (pt.point_id, day, actor, inst.installation_id, a.asset_id, cert.standard_id, cert.cert_id, worst, note)
	RETURNING point_inspection.inspection_id INTO inspection_id;
	off := 0;
	FOR i IN 1 .. n LOOP
		k := p_counts[i];
		INSERT INTO point_inspection_result (inspection_id, seq, label, point_base, mult_e4, pf, element,
						     readings_e4, mean_e4, rounded_e4, limit_e4, interval_e4, verdict)
		VALUES (inspection_id, i, ml_clean_text('load point', p_labels[i], 60), p_base[i], p_mult[i], p_pf[i],
			p_element[i], p_readings[off + 1 : off + k], p_mean[i], p_rounded[i], p_limit[i], p_interval[i],
			p_verdict[i]);
		off := off + k;
	END LOOP;

	IF worst = 'fail' THEN
		INSERT INTO swap_order (kind, installation_id, point_id, asset_id, team_id, inspection_id, due_on, opened_by)
		VALUES ('inspection', inst.installation_id, pt.point_id, a.asset_id, inst.team_id, inspection_id,
			day + (SELECT value FROM plan_setting WHERE key = 'swap.inspection_days'), actor)
		ON CONFLICT (installation_id) WHERE status = 'open' DO NOTHING
		RETURNING swap_order.order_id INTO order_id;
		IF order_id IS NULL THEN
			SELECT o.order_id INTO order_id FROM swap_order o
			WHERE o.installation_id = inst.installation_id AND o.status = 'open';
		END IF;
	END IF;
	PERFORM ml_asset_apply(actor, ARRAY[ROW(a.asset_id, a.state, a.state, 'site_inspect', NULL, false, NULL,
		format('on-site inspection at %s with standard %s: %s', pt.code, p_standard, worst),
		jsonb_build_object('inspection', inspection_id, 'point', pt.code, 'standard', p_standard,
				   'certificate', cert.cert_no, 'verdict', worst, 'on', day, 'swap_order', order_id))
		::ml_asset_change]);
END
$$;

GRANT EXECUTE ON FUNCTION ml_site_inspect(text, text, date, text[], int[], bigint[], int[], int[], int[], bigint[],
	bigint[], bigint[], bigint[], bigint[], text[], text) TO meterlab_app;
