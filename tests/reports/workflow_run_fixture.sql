-- A finished verification run of three single-phase meters on one bench,
-- inserted directly into the runner's tables (migrations 0002, 0030, 0031)
-- for the certificate tests: positions 1 and 3 pass, position 2 fails its
-- basic error at 0.1Ib cosφ=0.5L. Values are ×10⁴ integers as the runner
-- stores them.
INSERT INTO manufacturer (code, name) VALUES ('DEMOMFR', '示范电气有限公司');
INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, connection, wiring, un_v, ib_a,
			  imax_a, constant_imp, verification_period_months)
SELECT 'DDZY285-Z', manufacturer_id, '单相费控智能电能表', 'meter_1p', '1', 'direct', '1p2w', 220, 5, 60, 1200, 96
FROM manufacturer WHERE code = 'DEMOMFR';
INSERT INTO lot (code, manufacturer_id, model_id, supplier, file_sha256, row_count, received_by)
SELECT 'LOT-T1', manufacturer_id, model_id, '示范电气', repeat('a', 64), 3, 'tester' FROM device_model
WHERE code = 'DDZY285-Z';
INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, state)
SELECT b, m.model_id, l.lot_id, 'B1', date '2026-09-01', 'verifying'
FROM (VALUES ('4130001000000446529641'), ('4130001000000461395474'), ('4130001000000461595133')) v(b),
     device_model m, lot l WHERE m.code = 'DDZY285-Z' AND l.code = 'LOT-T1';

INSERT INTO reference_standard (code, name, accuracy_class, range_text)
VALUES ('STD-1P-01', '单相交流电能表标准装置', '0.05', '220V (0.1~100)A');
INSERT INTO standard_certificate (standard_id, cert_no, issuer, valid_from, valid_until)
SELECT standard_id, '国量标[2025]第0417号', '示范省计量院', date '2025-07-01', date '2027-06-30'
FROM reference_standard WHERE code = 'STD-1P-01';
INSERT INTO lab_bench (code, name, uri, kind, positions)
VALUES ('B1', '单相电能表检定装置1号', 'tcp://127.0.0.1:1502', 'meter-1p', 3);
INSERT INTO lab_bench_standard SELECT b.bench_id, s.standard_id FROM lab_bench b, reference_standard s
WHERE b.code = 'B1' AND s.code = 'STD-1P-01';

-- The scheme the run followed (a certificate needs results of every step of it, 0141).
INSERT INTO scheme (code, version, name, kinds, classes, connection)
VALUES ('JJG596-1P', 1, 'JJG 596 单相1级', 'meter_1p', '1', 'direct');
INSERT INTO scheme_step (scheme_id, seq, kind, point_base, mult_e4, pf, element, readings)
SELECT s.scheme_id, v.seq, v.kind, v.base, v.mult, v.pf, 0, v.readings FROM scheme s,
     (VALUES (1, 1, NULL::int, 0, NULL::int, 0), (2, 2, NULL, 0, NULL, 0), (3, 3, 2, 10000, 1, 2),
	     (4, 3, 1, 1000, 2, 2)) AS v(seq, kind, base, mult, pf, readings)
WHERE s.code = 'JJG596-1P';

-- Its operator is a person, as ml_run_create records the authenticated user
-- (0113): mlt_operator 郑检测 of the test cast (tests/support/pgtest.h), who
-- neither drafts, checks nor approves; a run without one cannot be certified
-- (0370).
INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, scheme_text, mode, status,
			      steps_total, operator, operator_id, run_date, started_at, finished_at, ambient_temp_c,
			      ambient_rh_pct)
SELECT b.bench_id, m.model_id, 'JJG596-1P', 1, 'creep; start; basic Imax 1.0 H; basic 0.1Ib 0.5L H', 'driven',
       'finished', 4, u.display_name, u.user_id, date '2026-11-20', now(), now(), 21.2, 53
FROM lab_bench b, device_model m, app_user u WHERE b.code = 'B1' AND m.code = 'DDZY285-Z' AND u.login = 'mlt_operator';

INSERT INTO run_position (asset_id, run_id, position, barcode)
SELECT a.asset_id, r.run_id, row_number() OVER (ORDER BY a.barcode), a.barcode
FROM asset a, verification_run r WHERE a.lot_id = (SELECT lot_id FROM lot WHERE code = 'LOT-T1');
INSERT INTO run_step (run_id, step_no, kind, label, started_at)
SELECT r.run_id, s.step_no, s.kind, s.label, timestamptz '2026-11-20 08:30:00+08' FROM verification_run r,
     (VALUES (0, 'creep', 'creep'), (1, 'start', 'start'), (2, 'basic', 'Imax cosφ=1.0 H'),
	     (3, 'basic', '0.1Ib cosφ=0.5L H')) AS s(step_no, kind, label)
WHERE r.scheme_code = 'JJG596-1P';

INSERT INTO run_step_result (asset_id, run_id, step_no, position, kind, label, n_readings, mean_e4, rounded_e4,
			     pulses, limit_e4, internal_limit_e4, interval_e4, verdict, internal_verdict, measured_at,
			     reading_no, reading_value_e4, reading_value2_e4, reading_pulses, reading_bench_result,
			     reading_at)
SELECT p.asset_id, p.run_id, s.step_no, p.position, s.kind, s.label, s.n,
       CASE WHEN p.position = 2 AND s.step_no = 3 THEN 12000 ELSE s.mean END,
       CASE WHEN p.position = 2 AND s.step_no = 3 THEN 12000 ELSE s.rnd END, s.pulses, s.lim, s.ilim,
       s.intv, CASE WHEN p.position = 2 AND s.step_no = 3 THEN 'fail' ELSE s.verdict END, 'none',
       timestamptz '2026-11-20 09:00:00+08',
       -- the step's two readings of each position (0349: stored in its result row);
       -- position 2 read +1.2 % at 0.1Ib 0.5L: fails the ±1.0 limit
       CASE WHEN s.rv IS NOT NULL THEN ARRAY[1, 2] END,
       CASE WHEN p.position = 2 AND s.step_no = 3 THEN ARRAY[12000, 12000]::bigint[] ELSE s.rv END,
       CASE WHEN s.rv IS NOT NULL THEN ARRAY[NULL, NULL]::bigint[] END,
       CASE WHEN s.rv IS NOT NULL THEN ARRAY[NULL, NULL]::bigint[] END,
       CASE WHEN s.rv IS NOT NULL THEN ARRAY[0, 0]::smallint[] END,
       CASE WHEN s.rv IS NOT NULL THEN ARRAY[timestamptz '2026-11-20 09:00:00+08',
                                            timestamptz '2026-11-20 09:00:00+08'] END
FROM run_position p,
     (VALUES (0, 'creep', 'creep', 0, NULL::bigint, NULL::bigint, 0::bigint, NULL::bigint, NULL::bigint, NULL::bigint, 'pass', NULL::bigint[]),
	     (1, 'start', 'start', 0, NULL, NULL, 3, NULL, NULL, NULL, 'pass', NULL),
	     (2, 'basic', 'Imax cosφ=1.0 H', 2, -1705, -2000, NULL, 10000, 6000, 1000, 'pass', ARRAY[-1691, -1719]),
	     (3, 'basic', '0.1Ib cosφ=0.5L H', 2, 4200, 4000, NULL, 10000, 6000, 1000, 'pass', ARRAY[4100, 4300]))
     AS s(step_no, kind, label, n, mean, rnd, pulses, lim, ilim, intv, verdict, rv);
INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict, valid_until)
SELECT p.asset_id, p.run_id, i.item,
       CASE WHEN p.position = 2 AND i.item IN ('basic', 'overall') THEN 'fail' ELSE 'pass' END, 'none',
       CASE WHEN i.item = 'overall' AND p.position <> 2 THEN date '2034-11-19' END
FROM run_position p, (VALUES ('creep'), ('start'), ('basic'), ('overall')) AS i(item);

-- A finished CT run (JJG 313-2010): one 100/5 A class 0.2S CT, rated burden
-- 10 VA, at 5 % and 100 % of rated current with 25 % burden.
INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, ct_primary_a, ct_secondary_a,
			  rated_burden_va, verification_period_months)
SELECT 'LMZJ1-0.5', manufacturer_id, '测量用电流互感器', 'ct', '0.2S', 100, 5, 10, 120
FROM manufacturer WHERE code = 'DEMOMFR';
INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, state)
SELECT '4130002000000000009012', m.model_id, l.lot_id, 'C1', date '2026-10-01', 'verifying'
FROM device_model m, lot l WHERE m.code = 'LMZJ1-0.5' AND l.code = 'LOT-T1';
INSERT INTO lab_bench (code, name, uri, kind, positions)
VALUES ('CT1', '互感器检定装置1号', 'tcp://127.0.0.1:1503', 'transformer', 6);
INSERT INTO scheme (code, version, name, kinds, classes, connection)
VALUES ('JJG313-CT', 1, 'JJG 313 电流互感器', 'ct', '0.2S', '');
INSERT INTO scheme_step (scheme_id, seq, kind, percent_e4, burden_pct_e4, readings)
SELECT s.scheme_id, v.seq, 6, v.pct, 250000, 1 FROM scheme s, (VALUES (1, 50000), (2, 1000000)) AS v(seq, pct)
WHERE s.code = 'JJG313-CT';
INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, scheme_text, mode, status,
			      steps_total, operator, operator_id, run_date, started_at, finished_at)
SELECT b.bench_id, m.model_id, 'JJG313-CT', 1, 'ct percent=5 burden=25; ct percent=100 burden=25', 'driven',
       'finished', 2, u.display_name, u.user_id, date '2026-11-21', now(), now()
FROM lab_bench b, device_model m, app_user u WHERE b.code = 'CT1' AND m.code = 'LMZJ1-0.5' AND u.login = 'mlt_operator';
INSERT INTO run_position (asset_id, run_id, position, barcode)
SELECT a.asset_id, r.run_id, 1, a.barcode FROM asset a, verification_run r
WHERE a.barcode = '4130002000000000009012' AND r.scheme_code = 'JJG313-CT';
INSERT INTO run_step (run_id, step_no, kind, label, started_at)
SELECT r.run_id, s.step_no, 'ct', s.label, timestamptz '2026-11-21 09:30:00+08' FROM verification_run r,
     (VALUES (0, 'CT 5% 25%VA'), (1, 'CT 100% 25%VA')) AS s(step_no, label)
WHERE r.scheme_code = 'JJG313-CT';
INSERT INTO run_step_result (asset_id, run_id, step_no, position, kind, label, n_readings, mean_e4, rounded_e4,
			     mean2_e4, rounded2_e4, limit_e4, internal_limit_e4, interval_e4, limit2_e4,
			     internal_limit2_e4, interval2_e4, verdict, internal_verdict, verdict2, measured_at)
SELECT p.asset_id, p.run_id, s.step_no, 1, 'ct', s.label, 1, s.m, s.r, s.m2, s.r2, s.lim, s.lim, s.intv, s.lim2,
       s.lim2, s.intv2, 'pass', 'none', 'pass', timestamptz '2026-11-21 10:00:00+08'
FROM run_position p JOIN verification_run r ON r.run_id = p.run_id AND r.scheme_code = 'JJG313-CT',
     (VALUES (0, 'CT 5% 25%VA', 1180, 1200, 41000, 40000, 3500, 200, 150000, 10000),
	     (1, 'CT 100% 25%VA', 190, 200, 11000, 10000, 2000, 200, 100000, 10000))
     AS s(step_no, label, m, r, m2, r2, lim, intv, lim2, intv2);
INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict, valid_until)
SELECT p.asset_id, p.run_id, i.item, 'pass', 'none', CASE WHEN i.item = 'overall' THEN date '2036-11-20' END
FROM run_position p JOIN verification_run r ON r.run_id = p.run_id AND r.scheme_code = 'JJG313-CT',
     (VALUES ('ratio'), ('phase'), ('overall')) AS i(item);
