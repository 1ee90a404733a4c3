-- Test and benchmark helper (not a migration): wf_make_run(tag, n, n_fail
-- [, operator login [, run date [, period in months]]]) inserts, as the DBA,
-- a complete finished verification run of n
-- single-phase class-1 meters — the scheme it followed (creep, start, two
-- basic-error points), every step completed, a result of every step and a
-- conclusion of every item for every meter, valid until the rule — as the
-- runner would have left it (lab/runner.c); the last n_fail meters fail the
-- basic error at 0.1Ib cosφ=0.5L. The meters end in_stock (or failed), each
-- with the validity of its run. Returns the run id. Barcodes are 22 digits
-- with a valid check digit (domain.md §5.2), unique per tag.
-- The run's operator is a person (operator_id, as ml_run_create records the
-- authenticated user, 0113): by default mlt_operator 郑检测 of the test cast
-- (tests/support/pgtest.h), a technician who neither drafts, checks nor
-- approves; a run without one cannot be certified (0370). The validity is
-- stored as the runner before 0365 computed it, run date + period − 1 day:
-- for the default 96 months that is the rule's (ml_valid_until) on every
-- date; another period and a run date of 29 February give the one-day-short
-- date 0370 restates.
DROP FUNCTION IF EXISTS wf_make_run(text, int, int);
CREATE OR REPLACE FUNCTION wf_barcode(body21 text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT body21 || ((10 - (SELECT sum(substr(body21, k, 1)::int * CASE WHEN k % 2 = 1 THEN 3 ELSE 1 END)
				 FROM generate_series(1, 21) k) % 10) % 10)::text
$$;

CREATE OR REPLACE FUNCTION wf_make_run(p_tag text, p_n int, p_fail int DEFAULT 0,
				       p_operator text DEFAULT 'mlt_operator', p_run_date date DEFAULT NULL,
				       p_period int DEFAULT 96) RETURNS bigint
	LANGUAGE plpgsql AS $$
DECLARE
	op app_user;
	-- ml_run_create's date (0360 pins it to Asia/Shanghai): China's day, not the
	-- session's — between 16:00 and 24:00 UTC a UTC session is a day behind
	day date := coalesce(p_run_date, ml_cert_today());
	mcode text := CASE WHEN p_period = 96 THEN 'WF-DDZY285' ELSE 'WF-DDZY285-' || p_period END;
	mf bigint;
	mdl bigint;
	lt bigint;
	bench bigint;
	run bigint;
	base bigint;
BEGIN
	INSERT INTO manufacturer (code, name) VALUES ('WFMFR', '示范电气有限公司') ON CONFLICT (code) DO NOTHING;
	SELECT * INTO op FROM app_user WHERE login = p_operator;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'wf_make_run: operator % is not a meterlab user', p_operator;
	END IF;
	SELECT manufacturer_id INTO mf FROM manufacturer WHERE code = 'WFMFR';
	INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, connection, wiring, un_v, ib_a,
				  imax_a, constant_imp, verification_period_months)
	VALUES (mcode, mf, '单相费控智能电能表', 'meter_1p', '1', 'direct', '1p2w', 220, 5, 60, 1200, p_period)
	ON CONFLICT (code) DO NOTHING;
	SELECT model_id INTO mdl FROM device_model WHERE code = mcode;
	INSERT INTO reference_standard (code, name, accuracy_class, range_text)
	VALUES ('WF-STD', '单相交流电能表标准装置', '0.05', '220V (0.1~100)A') ON CONFLICT (code) DO NOTHING;
	IF NOT EXISTS (SELECT 1 FROM standard_certificate c JOIN reference_standard s USING (standard_id)
		       WHERE s.code = 'WF-STD') THEN
		INSERT INTO standard_certificate (standard_id, cert_no, issuer, valid_from, valid_until)
		SELECT standard_id, '国量标[2025]第0417号', '示范省计量院', date '2020-01-01', date '2099-12-31'
		FROM reference_standard WHERE code = 'WF-STD';
	END IF;
	INSERT INTO lab_bench (code, name, uri, kind, positions)
	VALUES ('WF-B', '单相电能表检定装置1号', 'tcp://127.0.0.1:1502', 'meter-1p', 96) ON CONFLICT (code) DO NOTHING;
	SELECT bench_id INTO bench FROM lab_bench WHERE code = 'WF-B';
	INSERT INTO lab_bench_standard (bench_id, standard_id)
	SELECT bench, standard_id FROM reference_standard WHERE code = 'WF-STD' ON CONFLICT DO NOTHING;
	IF NOT EXISTS (SELECT 1 FROM scheme WHERE code = 'WF-S' AND version = 1) THEN
		INSERT INTO scheme (code, version, name, kinds, classes, connection)
		VALUES ('WF-S', 1, 'JJG 596 单相1级（测试）', 'meter_1p', '1', 'direct');
		INSERT INTO scheme_step (scheme_id, seq, kind, point_base, mult_e4, pf, element, readings)
		SELECT s.scheme_id, v.seq, v.kind, v.base, v.mult, v.pf, 0, v.readings FROM scheme s,
		     (VALUES (1, 1, NULL::int, 0, NULL::int, 0), (2, 2, NULL, 0, NULL, 0), (3, 3, 2, 10000, 1, 2),
			     (4, 3, 1, 1000, 2, 2)) AS v(seq, kind, base, mult, pf, readings)
		WHERE s.code = 'WF-S' AND s.version = 1;
	END IF;

	INSERT INTO lot (code, manufacturer_id, model_id, supplier, file_sha256, row_count, received_by)
	VALUES ('WF-LOT-' || p_tag, mf, mdl, '示范电气', encode(sha256(convert_to('WF-LOT-' || p_tag, 'UTF8')), 'hex'),
		p_n, 'tester')
	RETURNING lot_id INTO lt;
	-- 14 digits of serial: the lot id keeps tags apart
	base := lt * 100000;
	INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, scheme_text, mode, status,
				      steps_total, operator, operator_id, run_date, started_at, finished_at, ambient_temp_c,
				      ambient_rh_pct)
	VALUES (bench, mdl, 'WF-S', 1, 'creep; start; basic Imax 1.0 H; basic 0.1Ib 0.5L H', 'driven', 'finished', 4,
		op.display_name, op.user_id, day, now(), now(), 21.2, 53)
	RETURNING run_id INTO run;
	INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, state, valid_until)
	SELECT wf_barcode('4130009' || lpad((base + g)::text, 14, '0')), mdl, lt, 'B1', date '2026-01-01',
	       CASE WHEN g > p_n - p_fail THEN 'failed' ELSE 'in_stock' END,
	       CASE WHEN g > p_n - p_fail THEN NULL
		    ELSE (day + make_interval(months => p_period))::date - 1 END
	FROM generate_series(1, p_n) g;
	INSERT INTO run_position (asset_id, run_id, position, barcode)
	SELECT a.asset_id, run, row_number() OVER (ORDER BY a.asset_id), a.barcode FROM asset a WHERE a.lot_id = lt;
	INSERT INTO run_step (run_id, step_no, kind, label, started_at)
	SELECT run, s.step_no, s.kind, s.label, now() FROM
	     (VALUES (0, 'creep', 'creep'), (1, 'start', 'start'), (2, 'basic', 'Imax cosφ=1.0 H'),
		     (3, 'basic', '0.1Ib cosφ=0.5L H')) AS s(step_no, kind, label);
	INSERT INTO run_step_result (asset_id, run_id, step_no, position, kind, label, n_readings, mean_e4, rounded_e4,
				     pulses, limit_e4, internal_limit_e4, interval_e4, verdict, internal_verdict, measured_at,
				     reading_no, reading_value_e4, reading_value2_e4, reading_pulses, reading_bench_result,
				     reading_at)
	SELECT p.asset_id, run, s.step_no, p.position, s.kind, s.label, s.n,
	       CASE WHEN p.position > p_n - p_fail AND s.step_no = 3 THEN 12000 ELSE s.mean END,
	       CASE WHEN p.position > p_n - p_fail AND s.step_no = 3 THEN 12000 ELSE s.rnd END, s.pulses, s.lim, s.ilim,
	       s.intv, CASE WHEN p.position > p_n - p_fail AND s.step_no = 3 THEN 'fail' ELSE s.verdict END, 'none', now(),
	       -- the step's two readings of each position (0349: stored in its result row)
	       CASE WHEN s.rv IS NOT NULL THEN ARRAY[1, 2] END,
	       CASE WHEN p.position > p_n - p_fail AND s.step_no = 3 THEN ARRAY[12000, 12000]::bigint[] ELSE s.rv END,
	       CASE WHEN s.rv IS NOT NULL THEN ARRAY[NULL, NULL]::bigint[] END,
	       CASE WHEN s.rv IS NOT NULL THEN ARRAY[NULL, NULL]::bigint[] END,
	       CASE WHEN s.rv IS NOT NULL THEN ARRAY[0, 0]::smallint[] END,
	       CASE WHEN s.rv IS NOT NULL THEN ARRAY[now(), now()] END
	FROM run_position p,
	     (VALUES (0, 'creep', 'creep', 0, NULL::bigint, NULL::bigint, 0::bigint, NULL::bigint, NULL::bigint,
		      NULL::bigint, 'pass', NULL::bigint[]),
		     (1, 'start', 'start', 0, NULL, NULL, 3, NULL, NULL, NULL, 'pass', NULL),
		     (2, 'basic', 'Imax cosφ=1.0 H', 2, -1705, -2000, NULL, 10000, 6000, 1000, 'pass', ARRAY[-1691, -1719]),
		     (3, 'basic', '0.1Ib cosφ=0.5L H', 2, 4200, 4000, NULL, 10000, 6000, 1000, 'pass', ARRAY[4100, 4300]))
	     AS s(step_no, kind, label, n, mean, rnd, pulses, lim, ilim, intv, verdict, rv)
	WHERE p.run_id = run;
	INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict, valid_until)
	SELECT p.asset_id, run, i.item,
	       CASE WHEN p.position > p_n - p_fail AND i.item IN ('basic', 'overall') THEN 'fail' ELSE 'pass' END, 'none',
	       CASE WHEN i.item = 'overall' AND p.position <= p_n - p_fail
		    THEN (day + make_interval(months => p_period))::date - 1 END
	FROM run_position p, (VALUES ('creep'), ('start'), ('basic'), ('overall')) AS i(item)
	WHERE p.run_id = run;
	RETURN run;
END
$$;
