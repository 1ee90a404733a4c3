-- 0113: verification runs are written only through functions (issue 8,
-- part A). A run is created with the server's date by a person with
-- run.create (or, for paper work done earlier, by one with record.backdate
-- and a reason, shown on the run); its status changes by one function with
-- a table of legal transitions; its readings and step results are recorded
-- by one function that refuses a pass without complete results; its
-- conclusions are computed IN the database from the stored results, and only
-- that conclusion moves the assets verify_pass (valid until the run date +
-- the model's verification period − 1 day) or verify_fail. One unfinished run
-- per bench; every run can always be ended (resume or abort).

-- ---- what a run records ----

ALTER TABLE verification_run
	ADD COLUMN operator_id bigint REFERENCES app_user (user_id),
	ADD COLUMN scheme_id bigint REFERENCES scheme (scheme_id),
	ADD COLUMN backdated_by bigint REFERENCES app_user (user_id),
	ADD COLUMN backdated_reason text,
	ALTER COLUMN scheme_text DROP NOT NULL,
	ADD CONSTRAINT verification_run_backdate CHECK ((backdated_by IS NULL) = (backdated_reason IS NULL));
COMMENT ON COLUMN verification_run.operator IS
	'display name of operator_id when the run was created (printed on certificates); the truth is operator_id';
COMMENT ON COLUMN verification_run.scheme_text IS
	'runs before 0113: the scheme snapshot; later runs name the immutable version scheme_id';

-- creep/start: how long the bench (or the stopwatch) ran, for the rules below
ALTER TABLE run_step_result ADD COLUMN elapsed_ms bigint;

-- One unfinished run per bench: a second run started on a bench knocked the
-- first out. Existing duplicates must be ended first (meterlab run abort).
DO $$
DECLARE
	dup record;
BEGIN
	SELECT bench_id, string_agg(run_id::text, ', ' ORDER BY run_id) AS runs INTO dup FROM verification_run
	WHERE status IN ('pending', 'running', 'interrupted') GROUP BY bench_id HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'bench % has several unfinished runs (%): end all but one with meterlab run abort before migrating',
			dup.bench_id, dup.runs;
	END IF;
END
$$;
CREATE UNIQUE INDEX verification_run_one_unfinished_per_bench ON verification_run (bench_id)
	WHERE status IN ('pending', 'running', 'interrupted');

-- The legal status changes of ml_run_status (finished and aborted are set
-- only by ml_run_conclude and ml_run_abort).
CREATE TABLE run_status_transition (
	from_status text NOT NULL,
	to_status text NOT NULL,
	PRIMARY KEY (from_status, to_status)
);
INSERT INTO run_status_transition VALUES
	('pending', 'running'), ('interrupted', 'running'), ('running', 'running'),
	('pending', 'interrupted'), ('running', 'interrupted'), ('interrupted', 'interrupted');
CREATE TRIGGER run_status_transition_fixed BEFORE INSERT OR UPDATE OR DELETE ON run_status_transition
	FOR EACH ROW EXECUTE FUNCTION reg_table_fixed();

-- ---- the rules that depend on the model (lab/plan.c in SQL) ----

-- num / (den · m), m = 1, 3 or √3 by wiring (domain.md §1.6 "m"), exactly as plan.c div_by_m.
CREATE FUNCTION ml_div_by_m(num numeric, den numeric, wiring text) RETURNS bigint
	LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE coalesce(wiring, '1p2w')
		WHEN '3p4w' THEN ml_div_he(num, den * 3)
		WHEN '3p3w' THEN ml_div_he(ml_isqrt(div(ml_div_he(num * 1000, den) ^ 2, 3)), 1000)
		ELSE ml_div_he(num, den) END::bigint
$$;

-- Minimum creep (no-load) time of a model in ms: Δt = K·10⁶/(C·m·Un·Imax) min
-- (JJG 596-2012, domain.md §1.7), revised profile 10⁵/(1.1·b·C·m·U·Imin) h;
-- NULL when the rating cannot give one.
CREATE FUNCTION ml_rule_creep_ms(p_model bigint) RETURNS bigint
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
	m device_model;
	c text;
	un numeric; ib numeric; imax numeric; imin_ua numeric;
BEGIN
	SELECT * INTO m FROM device_model WHERE model_id = p_model;
	c := ml_meter_class(m.accuracy_class);
	un := round(m.un_v * 1000); ib := round(m.ib_a * 1000); imax := round(m.imax_a * 1000);
	IF c IS NULL OR coalesce(m.constant_imp, 0) <= 0 OR coalesce(un, 0) <= 0 OR coalesce(imax, 0) <= 0
	   OR coalesce(ib, 0) <= 0 THEN
		RETURN NULL;
	END IF;
	IF c NOT IN ('A', 'B', 'C', 'D', 'E') THEN
		RETURN ml_div_by_m(ml_setting_e4(CASE c WHEN '0.2S' THEN 'creep.k_0_2s' WHEN '0.5S' THEN 'creep.k_0_5s'
						  WHEN '1' THEN 'creep.k_1' ELSE 'creep.k_2' END) * 60000000000000000::numeric,
				   m.constant_imp * un * imax, m.wiring);
	END IF;
	imin_ua := div(ml_imin_rel_e4(c, m.connection) * ib, 10);
	IF imin_ua <= 0 THEN
		RETURN NULL;
	END IF;
	RETURN ml_div_by_m(36000000000000000000000000::numeric,
			   11 * (SELECT b_e4 FROM reg_letter_limit WHERE class = c) * m.constant_imp * un * imin_ua, m.wiring);
END
$$;

-- Time limit of the starting test in ms: t₀ = 1.2·60·1000/(C·m·Un·Ist) min ×
-- start.time_factor (domain.md §1.6), revised profile (1 + Est)·3.6·10⁶/(C·Pst).
CREATE FUNCTION ml_rule_start_ms(p_model bigint) RETURNS bigint
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
	m device_model;
	c text;
	tr boolean;
	un numeric; ib numeric; ist numeric; f numeric; coeff numeric;
BEGIN
	SELECT * INTO m FROM device_model WHERE model_id = p_model;
	c := ml_meter_class(m.accuracy_class);
	un := round(m.un_v * 1000); ib := round(m.ib_a * 1000);
	tr := m.connection = 'transformer';
	IF c IS NULL OR coalesce(m.constant_imp, 0) <= 0 OR coalesce(un, 0) <= 0 OR coalesce(ib, 0) <= 0 THEN
		RETURN NULL;
	END IF;
	IF c NOT IN ('A', 'B', 'C', 'D', 'E') THEN
		-- Ist/Ib × 1e4: 0.2S/0.5S 0.001In; 1: 0.004Ib / 0.002In; 2: 0.005Ib / 0.003In
		f := CASE WHEN tr THEN CASE c WHEN '0.2S' THEN 10 WHEN '0.5S' THEN 10 WHEN '1' THEN 20 ELSE 30 END
			  ELSE CASE c WHEN '1' THEN 40 WHEN '2' THEN 50 ELSE 0 END END;
		ist := div(ib * f, 10);
		coeff := ml_setting_e4('start.coefficient');
	ELSE
		f := CASE WHEN c = 'A' THEN 500 WHEN c = 'E' OR (tr AND c <> 'B') THEN 200 ELSE 400 END;
		ist := ml_div_he(ib * ml_itr_rel_e4(m.connection) * f, 100000);
		coeff := 10000 + div((SELECT b_e4 FROM reg_letter_limit WHERE class = c), 100);
	END IF;
	IF ist <= 0 THEN
		RETURN NULL;
	END IF;
	RETURN ml_div_by_m(coeff * 360000000000000::numeric * ml_setting_e4('start.time_factor'),
			   m.constant_imp * un * ist * 10000, m.wiring);
END
$$;

-- The step rules against one model: ml_scheme_step_problem with the model's
-- class, connection and rating (exact bands for Imax points), plus the creep
-- and start durations, which depend on the meter constant and rating.
CREATE FUNCTION ml_model_step_problem(p_model bigint, s ml_scheme_step_in) RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
	m device_model;
	lim bigint;
	rule bigint;
	p text;
BEGIN
	SELECT * INTO m FROM device_model WHERE model_id = p_model;
	p := ml_scheme_step_problem(m.kind, CASE WHEN m.kind IN ('ct', 'vt') THEN ml_xfmr_class(m.accuracy_class)
						 ELSE ml_meter_class(m.accuracy_class) END,
				    coalesce(m.connection, ''), s);
	IF p IS NOT NULL THEN
		RETURN p;
	END IF;
	IF s.kind = 3 AND s.limit_e4 > 0 THEN
		lim := ml_reg_meter_limit(m.accuracy_class, m.connection, s.point_base, s.mult_e4, s.pf, s.element,
					  round(m.ib_a * 1000)::bigint, round(m.imax_a * 1000)::bigint);
		IF lim IS NULL OR s.limit_e4 > lim THEN
			RETURN format('limit=%s%% is wider than the regulation limit %s of model %s at this point (JJG 596-2012 §1.4)',
				      trim_scale(s.limit_e4 / 10000.0), coalesce('±' || trim_scale(lim / 10000.0) || '%', '(none)'), m.code);
		END IF;
	END IF;
	IF s.kind = 1 AND s.duration_ms > 0 THEN
		rule := ml_rule_creep_ms(p_model);
		IF rule IS NULL OR s.duration_ms < rule THEN
			RETURN format('duration=%s s is shorter than the creep time %s s of model %s (Δt = K·10⁶/(C·m·Un·Imax), JJG 596-2012, domain.md §1.7)',
				      trim_scale(s.duration_ms / 1000.0), coalesce(trim_scale(rule / 1000.0)::text, '(unknown)'), m.code);
		END IF;
	END IF;
	IF s.kind = 2 AND s.duration_ms > 0 THEN
		rule := ml_rule_start_ms(p_model);
		IF rule IS NULL OR s.duration_ms > rule THEN
			RETURN format('duration=%s s is longer than the starting time limit %s s of model %s (t₀ × start.time_factor, domain.md §1.6)',
				      trim_scale(s.duration_ms / 1000.0), coalesce(trim_scale(rule / 1000.0)::text, '(unknown)'), m.code);
		END IF;
	END IF;
	RETURN NULL;
END
$$;

-- Every reference standard of a bench has a calibration certificate valid
-- on the date (JJF 1069, ISO/IEC 17025 6.5); raises 55000 naming it.
CREATE FUNCTION ml_check_traceability(p_bench bigint, p_date date) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
	bad record;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM lab_bench_standard WHERE bench_id = p_bench) THEN
		RAISE EXCEPTION 'bench id % has no reference standard: cannot verify (traceability)', p_bench
			USING ERRCODE = '55000';
	END IF;
	SELECT b.code AS bench, s.code AS standard, max(c.valid_until) AS latest INTO bad
	FROM lab_bench b JOIN lab_bench_standard bs USING (bench_id) JOIN reference_standard s USING (standard_id)
	LEFT JOIN standard_certificate c ON c.standard_id = s.standard_id
	WHERE b.bench_id = p_bench GROUP BY b.code, s.code
	HAVING NOT coalesce(bool_or(c.valid_from <= p_date AND c.valid_until >= p_date), false)
	ORDER BY s.code LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'bench ''%'': reference standard ''%'' has no calibration certificate valid on % (%)',
			bad.bench, bad.standard, p_date,
			coalesce('latest valid until ' || bad.latest, 'no certificate') USING ERRCODE = '55000';
	END IF;
END
$$;

-- ---- creating a run ----

-- Create a run: bench, the ACTIVE version of a scheme, positions and the
-- assets' barcodes; mounts the assets (verify_start) in the same
-- transaction. run_date is the server's date; p_date (a day in the past,
-- with p_reason) records paper work done earlier: manual runs only, needs
-- record.backdate, shown on the run, refused past a standard's certificate
-- and before the assets arrived. Temperature and humidity are stored
-- exactly (one decimal at most) or refused. Returns the run id.
CREATE FUNCTION ml_run_create(p_bench text, p_scheme text, p_mode text, p_positions int[], p_barcodes text[],
			      p_temp numeric DEFAULT NULL, p_rh numeric DEFAULT NULL, p_date date DEFAULT NULL,
			      p_reason text DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	backdated boolean := p_date IS NOT NULL AND p_date <> current_date;
	actor bigint;
	b lab_bench;
	s scheme;
	n int := coalesce(cardinality(p_barcodes), 0);
	model bigint;
	mkind text;
	bad record;
	problem text;
	rid bigint;
	day date := coalesce(p_date, current_date);
	changes ml_asset_change[];
BEGIN
	IF backdated THEN
		actor := ml_require('record.backdate');
		IF p_mode <> 'manual' THEN
			RAISE EXCEPTION 'only a manual verification (typed from paper) can be recorded for an earlier date; a bench runs today'
				USING ERRCODE = '22023';
		END IF;
		IF p_date > current_date THEN
			RAISE EXCEPTION 'verification date % is in the future (the server''s date is %)', p_date, current_date
				USING ERRCODE = '22023';
		END IF;
		p_reason := ml_clean_text('reason for recording earlier work', p_reason, 500);
	ELSE
		actor := ml_require('run.create');
		IF p_reason IS NOT NULL THEN
			RAISE EXCEPTION 'a reason is only for recording earlier work (with its date)' USING ERRCODE = '22023';
		END IF;
	END IF;
	IF p_mode IS NULL OR p_mode NOT IN ('driven', 'manual') THEN
		RAISE EXCEPTION 'mode % is not driven or manual', quote_literal(p_mode) USING ERRCODE = '22023';
	END IF;
	IF p_temp IS NOT NULL AND (p_temp <> round(p_temp, 1) OR p_temp NOT BETWEEN -20 AND 60) THEN
		RAISE EXCEPTION 'temperature % ℃ is not a lab reading: -20 .. 60 ℃ with at most one decimal (stored exactly, never rounded)',
			p_temp USING ERRCODE = '22023';
	END IF;
	IF p_rh IS NOT NULL AND (p_rh <> round(p_rh, 1) OR p_rh NOT BETWEEN 0 AND 100) THEN
		RAISE EXCEPTION 'humidity % %%RH is not a reading: 0 .. 100 with at most one decimal (stored exactly, never rounded)',
			p_rh USING ERRCODE = '22023';
	END IF;
	SELECT * INTO b FROM lab_bench WHERE code = p_bench;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no bench ''%''', p_bench USING ERRCODE = 'P0002';
	END IF;
	IF p_mode = 'driven' AND b.uri = 'manual' THEN
		RAISE EXCEPTION 'bench ''%'' is a manual bench: create a manual run', b.code USING ERRCODE = '22023';
	END IF;
	-- one unfinished run per bench (also the partial unique index)
	PERFORM pg_advisory_xact_lock(hashtext('meterlab.bench'), b.bench_id::int);
	SELECT run_id, status INTO bad FROM verification_run
	WHERE bench_id = b.bench_id AND status IN ('pending', 'running', 'interrupted') LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'bench ''%'' has an unfinished run % (%): finish it (meterlab run resume %) or abort it first',
			b.code, bad.run_id, bad.status, bad.run_id USING ERRCODE = '55000';
	END IF;
	IF n NOT BETWEEN 1 AND 96 OR coalesce(cardinality(p_positions), 0) <> n THEN
		RAISE EXCEPTION 'a run needs 1..96 positions, one barcode each (got % positions, % barcodes)',
			coalesce(cardinality(p_positions), 0), n USING ERRCODE = '22023';
	END IF;
	SELECT x.p, x.bc INTO bad FROM unnest(p_positions, p_barcodes) x(p, bc)
	WHERE x.p IS NULL OR x.p NOT BETWEEN 1 AND b.positions LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'position % is outside the bench''s 1..%', bad.p, b.positions USING ERRCODE = '22023';
	END IF;
	SELECT x.p INTO bad FROM unnest(p_positions) x(p) GROUP BY x.p HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'position % is used twice', bad.p USING ERRCODE = '22023';
	END IF;
	SELECT x.bc INTO bad FROM unnest(p_barcodes) x(bc) GROUP BY x.bc HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'barcode % is mounted twice', bad.bc USING ERRCODE = '22023';
	END IF;
	SELECT x.p, x.bc, a.asset_id, a.state INTO bad
	FROM unnest(p_positions, p_barcodes) x(p, bc)
	LEFT JOIN asset a ON coalesce(ml_barcode_ok(x.bc), false) AND a.barcode = x.bc::bpchar
	WHERE a.asset_id IS NULL OR NOT EXISTS (SELECT 1 FROM asset_transition t WHERE t.from_state = a.state
						 AND t.action = 'verify_start')
	ORDER BY x.p LIMIT 1;
	IF FOUND THEN
		IF bad.asset_id IS NULL THEN
			RAISE EXCEPTION 'position %: %', bad.p,
				coalesce(ml_barcode_problem(bad.bc), format('asset with barcode ''%s'' is not registered', bad.bc))
				USING ERRCODE = CASE WHEN ml_barcode_ok(bad.bc) THEN 'P0002' ELSE '22023' END;
		END IF;
		RAISE EXCEPTION 'position %: asset % is ''%'', which does not allow verification', bad.p, bad.bc, bad.state
			USING ERRCODE = '55000';
	END IF;
	SELECT count(DISTINCT a.model_id), min(a.model_id) INTO bad
	FROM unnest(p_barcodes) x(bc) JOIN asset a ON a.barcode = x.bc::bpchar;
	IF bad.count <> 1 THEN
		RAISE EXCEPTION 'the assets of a run must share one device model (% models)', bad.count USING ERRCODE = '22023';
	END IF;
	model := bad.min;
	SELECT kind INTO mkind FROM device_model WHERE model_id = model;
	IF NOT (b.kind = 'meter-1p' AND mkind = 'meter_1p' OR b.kind = 'meter-3p' AND mkind IN ('meter_1p', 'meter_3p')
		OR b.kind = 'transformer' AND mkind IN ('ct', 'vt')) THEN
		RAISE EXCEPTION 'bench ''%'' (%) cannot verify model kind ''%''', b.code, b.kind, mkind USING ERRCODE = '22023';
	END IF;
	-- the version new runs use: the activated one (0112)
	SELECT * INTO s FROM scheme WHERE scheme_id = ml_scheme_active(p_scheme);
	IF NOT FOUND THEN
		RAISE EXCEPTION 'scheme % has no active version (a person with scheme.activate activates a saved version: meterlab scheme activate %)',
			p_scheme, p_scheme USING ERRCODE = 'P0002';
	END IF;
	IF s.kinds <> '' AND NOT mkind = ANY (string_to_array(s.kinds, ','))
	   OR s.classes <> '' AND NOT EXISTS (SELECT 1 FROM device_model m, unnest(string_to_array(s.classes, ',')) c
					      WHERE m.model_id = model AND upper(c) IN (upper(m.accuracy_class),
						upper(ml_meter_class(m.accuracy_class)), upper(ml_xfmr_class(m.accuracy_class))))
	   OR s.connection <> '' AND s.connection IS DISTINCT FROM (SELECT connection FROM device_model WHERE model_id = model) THEN
		RAISE EXCEPTION 'scheme % version % suits kinds ''%'', classes ''%'', connection ''%'': not this model', s.code,
			s.version, s.kinds, s.classes, s.connection USING ERRCODE = '22023';
	END IF;
	SELECT st.seq, ml_model_step_problem(model, ROW(st.kind, st.point_base, st.mult_e4, st.pf, st.element, st.readings,
		st.pulses, st.settle_timeout_ms, st.percent_e4, st.burden_pct_e4, st.limit_e4, st.duration_ms,
		st.energy_wh_e4)::ml_scheme_step_in) AS problem, st.kind INTO bad
	FROM scheme_step st WHERE st.scheme_id = s.scheme_id
	  AND ml_model_step_problem(model, ROW(st.kind, st.point_base, st.mult_e4, st.pf, st.element, st.readings,
		st.pulses, st.settle_timeout_ms, st.percent_e4, st.burden_pct_e4, st.limit_e4, st.duration_ms,
		st.energy_wh_e4)::ml_scheme_step_in) IS NOT NULL
	ORDER BY st.seq LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'scheme % version % step % (%): %', s.code, s.version, bad.seq, ml_step_kind_name(bad.kind),
			bad.problem USING ERRCODE = '22023';
	END IF;
	IF backdated AND EXISTS (SELECT 1 FROM unnest(p_barcodes) x(bc) JOIN asset a ON a.barcode = x.bc::bpchar
				 WHERE a.created_at::date > p_date) THEN
		RAISE EXCEPTION 'verification date % is before the assets were received', p_date USING ERRCODE = '22023';
	END IF;
	PERFORM ml_check_traceability(b.bench_id, day);

	INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, scheme_id, mode, steps_total,
				      operator, operator_id, run_date, ambient_temp_c, ambient_rh_pct, backdated_by,
				      backdated_reason)
	SELECT b.bench_id, model, s.code, s.version, s.scheme_id, p_mode,
	       (SELECT count(*) FROM scheme_step WHERE scheme_id = s.scheme_id), u.display_name, actor, day, p_temp, p_rh,
	       CASE WHEN backdated THEN actor END, CASE WHEN backdated THEN p_reason END
	FROM app_user u WHERE u.user_id = actor
	RETURNING run_id INTO rid;
	INSERT INTO run_position (run_id, asset_id, position, barcode)
	SELECT rid, a.asset_id, x.p, a.barcode FROM unnest(p_positions, p_barcodes) x(p, bc)
	JOIN asset a ON a.barcode = x.bc::bpchar;
	SELECT array_agg(ROW(a.asset_id, a.state, 'verifying', 'verify_start', NULL, false, NULL,
			     'mounted on bench ' || b.code, jsonb_build_object('run_id', rid))::ml_asset_change)
	INTO changes FROM unnest(p_barcodes) x(bc) JOIN asset a ON a.barcode = x.bc::bpchar;
	PERFORM ml_asset_apply(actor, changes);
	RETURN rid;
END
$$;

-- ---- status, results, conclusion, abort ----

-- Who may act on a run: run.execute (driven), run.manual (manual), or the
-- record.backdate holder for a back-dated manual run. Returns the actor.
CREATE FUNCTION ml_run_require(r verification_run) RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF r.mode = 'driven' THEN
		RETURN ml_require('run.execute');
	END IF;
	IF r.backdated_by IS NOT NULL AND ml_has('record.backdate') THEN
		RETURN ml_actor_id();
	END IF;
	RETURN ml_require('run.manual');
END
$$;

CREATE FUNCTION ml_run_row(p_run bigint) RETURNS verification_run
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	r verification_run;
BEGIN
	SELECT * INTO r FROM verification_run WHERE run_id = p_run FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no run %', p_run USING ERRCODE = 'P0002';
	END IF;
	RETURN r;
END
$$;

-- Change a run's status along run_status_transition; 'running' needs the
-- bench's standards valid on the run date.
CREATE FUNCTION ml_run_status(p_run bigint, p_status text, p_error text DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	r verification_run := ml_run_row(p_run);
	actor bigint := ml_run_require(r);
BEGIN
	IF NOT EXISTS (SELECT 1 FROM run_status_transition WHERE from_status = r.status AND to_status = p_status) THEN
		RAISE EXCEPTION 'run % is %: it cannot become % (finished comes from its conclusion, aborted from meterlab run abort)',
			p_run, r.status, coalesce(p_status, 'NULL') USING ERRCODE = '55000';
	END IF;
	IF p_error IS NOT NULL AND length(p_error) > 2000 THEN
		RAISE EXCEPTION 'error text of % characters is longer than 2000', length(p_error) USING ERRCODE = '22023';
	END IF;
	IF p_status = 'running' THEN
		PERFORM ml_check_traceability(r.bench_id, r.run_date);
	END IF;
	UPDATE verification_run SET status = p_status, started_at = coalesce(started_at, now()), last_error = p_error
	WHERE run_id = p_run;
END
$$;

-- Record one completed step: its readings and the judged result of every
-- position, in one transaction. Refuses a 'pass' that the stored readings
-- and the rules do not support: fewer readings than the scheme requires,
-- a limit wider than the regulation, a rounding interval other than the
-- class's, a mean or rounded value that does not follow from the readings,
-- a judged value beyond the limit, creep shorter than its time or with too
-- many pulses, a start without its pulse in time. Arrays are parallel: one
-- element per reading (r_*), one per position (s_*).
CREATE FUNCTION ml_run_record_step(
	p_run bigint, p_step int, p_kind text, p_label text, p_started timestamptz,
	r_asset bigint[], r_reading_no int[], r_position int[], r_value bigint[], r_value2 bigint[], r_pulses bigint[],
	r_bench_result int[], r_at timestamptz[],
	s_asset bigint[], s_position int[], s_n int[], s_mean bigint[], s_rounded bigint[], s_mean2 bigint[],
	s_rounded2 bigint[], s_pulses bigint[], s_limit bigint[], s_ilimit bigint[], s_interval bigint[], s_limit2 bigint[],
	s_ilimit2 bigint[], s_interval2 bigint[], s_gamma bigint[], s_verdict text[], s_iverdict text[], s_verdict2 text[],
	s_verdict1 text[], s_note text[], s_elapsed bigint[]) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	r verification_run := ml_run_row(p_run);
	actor bigint := ml_run_require(r);
	m device_model;
	st scheme_step;
	k int;
	need bigint;
	reg bigint; reg2 bigint := 0;
	v_ivl bigint; v_ivl2 bigint := 0;
	dur bigint;
	on_rounded boolean := ml_setting('judge.verdict_on_rounded') = 'yes';
	xl record;
	at100 bigint; ph100 bigint;
	bad record;
	npos int;
BEGIN
	IF r.status <> 'running' THEN
		RAISE EXCEPTION 'run % is %: results are recorded while it is running', p_run, r.status USING ERRCODE = '55000';
	END IF;
	IF p_step IS NULL OR p_step NOT BETWEEN 0 AND r.steps_total - 1 THEN
		RAISE EXCEPTION 'run % has steps 1..%, not %', p_run, r.steps_total, coalesce(p_step + 1, 0) USING ERRCODE = '22023';
	END IF;
	k := array_position(ARRAY['creep', 'start', 'basic', 'constant', 'clock', 'ct', 'vt'], p_kind);
	IF r.scheme_id IS NOT NULL THEN
		SELECT * INTO st FROM scheme_step WHERE scheme_id = r.scheme_id AND seq = p_step + 1;
		IF k IS DISTINCT FROM st.kind::int THEN
			RAISE EXCEPTION 'run % step %: the scheme says %, not %', p_run, p_step + 1, ml_step_kind_name(st.kind),
				p_kind USING ERRCODE = '22023';
		END IF;
	ELSIF k IS NULL THEN
		RAISE EXCEPTION 'unknown step kind %', quote_literal(p_kind) USING ERRCODE = '22023';
	END IF;
	p_label := ml_clean_text('step label', p_label, 100);
	IF p_started IS NULL OR p_started < r.created_at - interval '1 hour' OR p_started > now() + interval '5 minutes' THEN
		RAISE EXCEPTION 'step start time % is outside the run (created %, now %)', p_started, r.created_at, now()
			USING ERRCODE = '22023';
	END IF;
	SELECT count(*) INTO npos FROM run_position WHERE run_id = p_run;
	IF coalesce(cardinality(s_asset), 0) <> npos THEN
		RAISE EXCEPTION 'run % step %: % results for % positions: every position has one', p_run, p_step + 1,
			coalesce(cardinality(s_asset), 0), npos USING ERRCODE = '22023';
	END IF;
	SELECT x.a, x.p INTO bad FROM unnest(s_asset, s_position) x(a, p)
	LEFT JOIN run_position rp ON rp.run_id = p_run AND rp.asset_id = x.a AND rp.position = x.p
	WHERE rp.asset_id IS NULL OR (SELECT count(*) FROM unnest(s_asset) y WHERE y = x.a) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % step %: asset % at position % is not a position of the run (or twice)', p_run, p_step + 1,
			bad.a, bad.p USING ERRCODE = '22023';
	END IF;
	SELECT x.a, x.p, x.no, x.at INTO bad FROM unnest(r_asset, r_position, r_reading_no, r_at) x(a, p, no, at)
	LEFT JOIN run_position rp ON rp.run_id = p_run AND rp.asset_id = x.a AND rp.position = x.p
	WHERE rp.asset_id IS NULL OR x.no IS NULL OR x.no < 1 OR x.at IS NULL
	   OR x.at < r.created_at - interval '1 hour' OR x.at > now() + interval '5 minutes' LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % step %: reading % of asset % at position % (measured %) does not belong to the run',
			p_run, p_step + 1, bad.no, bad.a, bad.p, bad.at USING ERRCODE = '22023';
	END IF;

	-- what the rules require of this step for this model
	SELECT * INTO m FROM device_model WHERE model_id = r.model_id;
	need := CASE k WHEN 3 THEN coalesce(nullif(st.readings, 0), ml_setting_e4('basic.readings'))
		       WHEN 5 THEN coalesce(nullif(st.readings, 0), ml_setting_e4('clock.readings'))
		       WHEN 6 THEN coalesce(nullif(st.readings, 0), ml_setting_e4('xfmr.readings'))
		       WHEN 7 THEN coalesce(nullif(st.readings, 0), ml_setting_e4('xfmr.readings')) END;
	IF k = 3 THEN
		reg := ml_reg_meter_limit(m.accuracy_class, m.connection, st.point_base, st.mult_e4, st.pf, st.element,
					  round(m.ib_a * 1000)::bigint, round(m.imax_a * 1000)::bigint);
		v_ivl := div(ml_meter_class_index(m.accuracy_class), 10);
	ELSIF k = 5 THEN
		reg := ml_setting_e4('clock.limit');
		v_ivl := ml_setting_e4('clock.interval');
	ELSIF k IN (6, 7) THEN
		SELECT * INTO xl FROM ml_reg_xfmr_limit(p_kind, m.accuracy_class, st.percent_e4);
		reg := xl.ratio_e4;
		reg2 := coalesce(xl.phase_e4, 0);
		SELECT l.ratio_e4, l.phase_e4 INTO at100, ph100 FROM reg_xfmr_limit l
		WHERE l.kind = p_kind AND l.class = ml_xfmr_class(m.accuracy_class)
		  AND l.idx = (SELECT count(*) - 2 FROM reg_xfmr_limit z WHERE z.kind = l.kind AND z.class = l.class);
		v_ivl := greatest(ml_div_he(at100::numeric * ml_setting_e4('xfmr.round_fraction'), 1000000), 1);
		v_ivl2 := CASE WHEN ph100 > 0 THEN ml_div_he(ph100::numeric * ml_setting_e4('xfmr.round_fraction'), 1000000) ELSE 0 END;
	ELSIF k = 4 THEN
		reg := ml_meter_class_index(m.accuracy_class);
	ELSIF k = 1 THEN
		dur := greatest(coalesce(nullif(st.duration_ms, 0), 0), ml_rule_creep_ms(r.model_id));
	ELSIF k = 2 THEN
		dur := coalesce(nullif(st.duration_ms, 0), ml_rule_start_ms(r.model_id));
	END IF;

	WITH res AS (
		SELECT * FROM unnest(s_asset, s_position, s_n, s_mean, s_rounded, s_mean2, s_rounded2, s_pulses, s_limit,
				     s_ilimit, s_interval, s_limit2, s_verdict, s_elapsed, s_gamma)
			AS t(asset_id, pos, n, mean, rounded, mean2, rounded2, pulses, lim, ilim, ivl, lim2, verdict, elapsed,
			     gamma)),
	rd AS (
		SELECT x.a AS asset_id, count(*) AS n, sum(x.v) AS s1, sum(x.v2) AS s2, count(x.v2) AS n2
		FROM unnest(r_asset, r_value, r_value2) x(a, v, v2) GROUP BY x.a),
	chk AS (
		SELECT res.pos, CASE
		WHEN res.verdict <> 'pass' THEN NULL
		WHEN k IN (3, 5, 6, 7) THEN CASE
			WHEN coalesce(rd.n, 0) < need OR rd.n <> res.n
				THEN format('%s readings where the scheme requires %s', coalesce(rd.n, 0), need)
			WHEN reg IS NULL OR res.lim IS NULL OR res.lim <= 0 OR res.lim > reg
				THEN format('limit %s is not within the regulation limit %s', coalesce(res.lim::text, 'NULL'),
					    coalesce(reg::text, '(none at this point)'))
			WHEN res.ilim IS NULL OR res.ilim > res.lim THEN 'internal limit wider than the limit'
			WHEN res.ivl IS DISTINCT FROM v_ivl
				THEN format('rounding interval %s is not the rule''s %s', coalesce(res.ivl::text, 'NULL'), v_ivl)
			WHEN res.mean IS DISTINCT FROM ml_div_he(rd.s1, rd.n)
			     OR res.rounded IS DISTINCT FROM ml_div_he(rd.s1, rd.n * v_ivl) * v_ivl
				THEN 'the mean or the rounded value does not follow from the readings'
			WHEN (on_rounded AND abs(res.rounded) > res.lim) OR (NOT on_rounded AND abs(rd.s1) > res.lim * rd.n)
				THEN 'a value beyond the limit is judged pass'
			WHEN k IN (6, 7) AND reg2 > 0 AND (rd.n2 <> rd.n OR res.lim2 IS NULL OR res.lim2 > reg2
				OR res.mean2 IS DISTINCT FROM ml_div_he(rd.s2, rd.n)
				OR res.rounded2 IS DISTINCT FROM ml_div_he(rd.s2, rd.n * v_ivl2) * v_ivl2
				OR (on_rounded AND abs(res.rounded2) > res.lim2) OR (NOT on_rounded AND abs(rd.s2) > res.lim2 * rd.n))
				THEN 'the phase displacement does not support a pass'
			END
		WHEN k = 1 THEN CASE
			WHEN res.pulses IS NULL OR res.pulses > ml_setting_e4('creep.max_pulses')
				THEN format('%s pulses in the creep test (at most %s pass, setting creep.max_pulses)',
					    coalesce(res.pulses::text, 'no count of'), ml_setting_e4('creep.max_pulses'))
			WHEN dur IS NULL OR res.elapsed IS NULL OR res.elapsed + 1000 < dur
				THEN format('the creep test ran %s s; the rule is %s s (domain.md §1.7)',
					    coalesce(trim_scale(res.elapsed / 1000.0)::text, 'no recorded time:'),
					    coalesce(trim_scale(dur / 1000.0)::text, '(unknown)'))
			END
		WHEN k = 2 THEN CASE
			WHEN res.pulses IS NULL OR res.pulses < ml_setting_e4('start.min_pulses')
				THEN format('%s pulses in the starting test (at least %s, setting start.min_pulses)',
					    coalesce(res.pulses::text, 'no count of'), ml_setting_e4('start.min_pulses'))
			WHEN dur IS NULL OR res.elapsed IS NULL OR res.elapsed <= 0 OR res.elapsed > dur
				THEN format('the meter started after %s s; the limit is %s s (domain.md §1.6)',
					    coalesce(trim_scale(res.elapsed / 1000.0)::text, 'no recorded time:'),
					    coalesce(trim_scale(dur / 1000.0)::text, '(unknown)'))
			END
		WHEN k = 4 THEN CASE
			WHEN coalesce(res.pulses, 0) <= 0 THEN 'no pulses in the constant test'
			WHEN ml_setting('constant.by_pulses') = 'no' AND (res.gamma IS NULL OR abs(res.gamma) > reg)
				THEN 'the constant-test error does not support a pass (|γ| ≤ class index, domain.md §1.8)'
			END
		END AS problem
		FROM res LEFT JOIN rd USING (asset_id))
	SELECT chk.pos, chk.problem INTO bad FROM chk WHERE chk.problem IS NOT NULL ORDER BY chk.pos LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % step % (%), position %: pass refused: %', p_run, p_step + 1, p_label, bad.pos, bad.problem
			USING ERRCODE = '22023';
	END IF;

	BEGIN
		INSERT INTO run_step (run_id, step_no, kind, label, started_at) VALUES (p_run, p_step, p_kind, p_label, p_started);
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'run %: step % (%) was already completed', p_run, p_step + 1, p_label USING ERRCODE = '23505';
	END;
	INSERT INTO run_reading (asset_id, run_id, step_no, reading_no, position, value_e4, value2_e4, pulses, bench_result,
				 measured_at)
	SELECT x.a, p_run, p_step, x.no, x.p, x.v, x.v2, x.pl, coalesce(x.br, 0), x.at
	FROM unnest(r_asset, r_reading_no, r_position, r_value, r_value2, r_pulses, r_bench_result, r_at)
		x(a, no, p, v, v2, pl, br, at);
	INSERT INTO run_step_result (run_id, step_no, kind, label, measured_at, asset_id, position, n_readings, mean_e4,
				     rounded_e4, mean2_e4, rounded2_e4, pulses, limit_e4, internal_limit_e4, interval_e4,
				     limit2_e4, internal_limit2_e4, interval2_e4, gamma_e4, verdict, internal_verdict, verdict2,
				     verdict1, note, elapsed_ms)
	SELECT p_run, p_step, p_kind, p_label, now(), t.*
	FROM unnest(s_asset, s_position, s_n, s_mean, s_rounded, s_mean2, s_rounded2, s_pulses, s_limit, s_ilimit,
		    s_interval, s_limit2, s_ilimit2, s_interval2, s_gamma, s_verdict, s_iverdict, s_verdict2, s_verdict1,
		    s_note, s_elapsed) t;
END
$$;

-- Conclude a run whose steps are all recorded: per-item and overall
-- conclusions computed here from the stored step results (an asset with a
-- step the bench could not measure gets none), then every mounted asset
-- still on the bench moves verify_pass (valid until run date + the model's
-- period − 1 day, domain.md §1.12), verify_fail or verify_abort, and the run
-- is finished — one transaction. Returns passed, failed, untested.
CREATE FUNCTION ml_run_conclude(p_run bigint, OUT passed int, OUT failed int, OUT untested int)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	r verification_run := ml_run_row(p_run);
	actor bigint := ml_run_require(r);
	done int;
	period int;
	until date;
	changes ml_asset_change[];
	skipped text;
BEGIN
	IF r.status <> 'running' THEN
		RAISE EXCEPTION 'run % is %: only a running run is concluded', p_run, r.status USING ERRCODE = '55000';
	END IF;
	SELECT count(*) INTO done FROM run_step WHERE run_id = p_run;
	IF done <> r.steps_total THEN
		RAISE EXCEPTION 'run % has % of % steps completed: cannot conclude', p_run, done, r.steps_total
			USING ERRCODE = '55000';
	END IF;
	SELECT verification_period_months INTO period FROM device_model WHERE model_id = r.model_id;
	until := (r.run_date + make_interval(months => period))::date - 1;

	WITH res AS (
		SELECT s.asset_id, s.kind, s.verdict, s.internal_verdict, s.verdict1, s.verdict2
		FROM run_step_result s
		WHERE s.run_id = p_run AND s.measured_at >= r.created_at - interval '1 day'
		  AND s.measured_at < coalesce(r.finished_at, now()) + interval '1 day'),
	items AS (
		SELECT asset_id, CASE kind WHEN 'ct' THEN 'ratio' WHEN 'vt' THEN 'ratio' ELSE kind END AS item,
		       CASE WHEN kind IN ('ct', 'vt') AND verdict1 <> 'none' THEN verdict1 ELSE verdict END AS v,
		       CASE WHEN kind IN ('ct', 'vt') THEN CASE WHEN verdict1 <> 'none' THEN verdict1 ELSE verdict END
			    ELSE internal_verdict END AS iv
		FROM res
		UNION ALL
		SELECT asset_id, 'phase', verdict2, verdict2 FROM res WHERE kind IN ('ct', 'vt')),
	folded AS (
		SELECT asset_id, item,
		       CASE WHEN bool_or(v = 'fail') THEN 'fail' WHEN bool_or(v = 'pass') THEN 'pass' ELSE 'none' END AS v,
		       CASE WHEN bool_or(iv = 'fail') THEN 'fail' WHEN bool_or(iv = 'pass') THEN 'pass' ELSE 'none' END AS iv
		FROM items GROUP BY asset_id, item),
	tested AS (
		SELECT p.asset_id, NOT EXISTS (SELECT 1 FROM res WHERE res.asset_id = p.asset_id AND res.verdict = 'none') AS ok
		FROM run_position p WHERE p.run_id = p_run),
	overall AS (
		SELECT f.asset_id,
		       CASE WHEN bool_or(f.v = 'fail') THEN 'fail' WHEN bool_or(f.v = 'pass') THEN 'pass' ELSE 'none' END AS v,
		       CASE WHEN bool_or(f.iv = 'fail') THEN 'fail' WHEN bool_or(f.iv = 'pass') THEN 'pass' ELSE 'none' END AS iv
		FROM folded f GROUP BY f.asset_id)
	INSERT INTO run_conclusion (run_id, asset_id, item, verdict, internal_verdict, valid_until)
	SELECT p_run, c.asset_id, c.item, c.v, c.iv, CASE WHEN c.item = 'overall' AND c.v = 'pass' THEN until END
	FROM (SELECT asset_id, item, v, iv FROM folded WHERE v <> 'none'
	      UNION ALL SELECT asset_id, 'overall', v, iv FROM overall WHERE v <> 'none') c
	JOIN tested t ON t.asset_id = c.asset_id AND t.ok;

	SELECT count(*) FILTER (WHERE c.verdict = 'pass'), count(*) FILTER (WHERE c.verdict = 'fail')
	INTO passed, failed FROM run_conclusion c WHERE c.run_id = p_run AND c.item = 'overall';
	SELECT count(*) - passed - failed INTO untested FROM run_position WHERE run_id = p_run;

	-- move the assets still on the bench; one moved away by the DBA meanwhile is named, not fatal
	SELECT array_agg(ROW(a.asset_id, 'verifying',
			     CASE c.verdict WHEN 'pass' THEN 'in_stock' WHEN 'fail' THEN 'failed' ELSE 'reverify' END,
			     CASE c.verdict WHEN 'pass' THEN 'verify_pass' WHEN 'fail' THEN 'verify_fail' ELSE 'verify_abort' END,
			     NULL, c.verdict = 'pass', CASE WHEN c.verdict = 'pass' THEN until END,
			     CASE c.verdict WHEN 'pass' THEN 'verification passed' WHEN 'fail' THEN 'verification failed'
				  ELSE 'not present on the bench: not verified' END,
			     jsonb_build_object('run_id', p_run))::ml_asset_change ORDER BY p.position)
		 FILTER (WHERE a.state = 'verifying'),
	       string_agg(a.barcode || ' (' || a.state || ')', ', ' ORDER BY p.position) FILTER (WHERE a.state <> 'verifying')
	INTO changes, skipped
	FROM run_position p JOIN asset a ON a.asset_id = p.asset_id
	LEFT JOIN run_conclusion c ON c.run_id = p_run AND c.asset_id = p.asset_id AND c.item = 'overall'
	WHERE p.run_id = p_run;
	PERFORM ml_asset_apply(actor, changes);
	UPDATE verification_run SET status = 'finished', finished_at = now(),
		last_error = CASE WHEN skipped IS NOT NULL THEN 'not moved, no longer on the bench: ' || skipped END
	WHERE run_id = p_run;
END
$$;

-- End an unfinished run without a conclusion: assets still on the bench go
-- back to reverify, the run is aborted. Always possible, whatever happened to
-- its assets, unless a process is executing it right now.
CREATE FUNCTION ml_run_abort(p_run bigint, p_reason text DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	r verification_run := ml_run_row(p_run);
	actor bigint := ml_run_require(r);
	changes ml_asset_change[];
BEGIN
	IF r.status NOT IN ('pending', 'running', 'interrupted') THEN
		RAISE EXCEPTION 'run % is already %', p_run, r.status USING ERRCODE = '55000';
	END IF;
	-- the runner holds this lock while it executes the run (lab/runner.c)
	IF NOT pg_try_advisory_xact_lock(7340032, p_run::int) THEN
		RAISE EXCEPTION 'run % is being executed by another process: stop it there first', p_run USING ERRCODE = '55P03';
	END IF;
	p_reason := ml_clean_text('reason', p_reason, 500, false);
	SELECT array_agg(ROW(a.asset_id, 'verifying', 'reverify', 'verify_abort', NULL, false, NULL,
			     coalesce('run aborted: ' || p_reason, 'run aborted'), jsonb_build_object('run_id', p_run))::ml_asset_change
			 ORDER BY p.position)
	INTO changes FROM run_position p JOIN asset a ON a.asset_id = p.asset_id
	WHERE p.run_id = p_run AND a.state = 'verifying';
	PERFORM ml_asset_apply(actor, changes);
	UPDATE verification_run SET status = 'aborted', started_at = coalesce(started_at, now()), finished_at = now(),
		last_error = coalesce('aborted: ' || p_reason, last_error)
	WHERE run_id = p_run;
END
$$;

-- ---- what people may do now ----

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON verification_run, run_position, run_step, run_reading, run_step_result,
	run_conclusion FROM meterlab_app;
REVOKE ALL ON run_status_transition FROM PUBLIC;
GRANT SELECT ON run_status_transition TO meterlab_app;
GRANT EXECUTE ON FUNCTION ml_run_create(text, text, text, int[], text[], numeric, numeric, date, text),
	ml_run_status(bigint, text, text),
	ml_run_record_step(bigint, int, text, text, timestamptz, bigint[], int[], int[], bigint[], bigint[], bigint[], int[],
			   timestamptz[], bigint[], int[], int[], bigint[], bigint[], bigint[], bigint[], bigint[], bigint[],
			   bigint[], bigint[], bigint[], bigint[], bigint[], bigint[], text[], text[], text[], text[], text[],
			   bigint[]),
	ml_run_conclude(bigint), ml_run_abort(bigint, text) TO meterlab_app;
