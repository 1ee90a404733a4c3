-- Constructed quality data with known answers (tests/quality). Values are
-- the runner's ×10⁴ integers. Three makers, four models, six lots, one
-- bench per standard, runs in November and December 2026, field history.
--   lot  model  maker  assets  failing (overall)           run date    bench
--   LA1  MA-1   MA     100     #100                        2026-11-10  B1 (STD-A)
--   LA2  MA-1   MA     100     #100                        2026-12-05  B1
--   LB1  MB-1   MB     100     #100                        2026-11-12  B2 (STD-B)
--   LB2  MB-1   MB      50     #1..#10 (the bad lot)        2026-12-08  B2
--   LC1  MC-1   MC     200     #100, #200                  2026-11-20  B1
--   LC2  MC-2   MC      20     none (CT model, other kind) 2026-12-01  B3 (STD-B)
-- Each meter has two basic load points: 'Imax cosφ=1.0 H' with error
-- (i mod 11 − 5)·100 and 'Ib cosφ=1.0 H' with error (i mod 7 − 3)·100,
-- limit ±1.0 % (10000), internal ±0.6 % (6000); a failing asset reads
-- +1.5 % (15000) at Ib instead. Items: basic (fails with the asset), creep
-- (passes). Field: every passed asset of LA1, LB1 and LC1 is installed on
-- 2026-11-15 10:00; #1..#5 of LB1 report a fault on 2026-12-10 12:00, #1 of
-- LA1 on 2026-12-20 12:00; LB1 #6 is removed on 2026-12-01 12:00.
-- Every time is China Standard Time and says so (+08, AT TIME ZONE
-- 'Asia/Shanghai'): a zone-less literal takes the session's zone, and from
-- PGTZ=Etc/GMT+12 the installations fell on China's next day (the field
-- figures count China's days, 0277) and the known answers moved.
INSERT INTO manufacturer (code, name) VALUES ('MA', '甲电气'), ('MB', '乙仪表'), ('MC', '丙科技');
INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, connection, wiring, un_v, ib_a,
			  imax_a, constant_imp, verification_period_months)
SELECT v.code, f.manufacturer_id, v.name, 'meter_1p', '1', 'direct', '1p2w', 220, 5, 60, 1200, 96
FROM (VALUES ('MA-1', 'MA', '单相表A'), ('MB-1', 'MB', '单相表B'), ('MC-1', 'MC', '单相表C')) v(code, maker, name)
JOIN manufacturer f ON f.code = v.maker;
INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, ct_primary_a, ct_secondary_a,
			  rated_burden_va, verification_period_months)
SELECT 'MC-2', manufacturer_id, '电流互感器C', 'ct', '0.2S', 100, 5, 10, 120 FROM manufacturer WHERE code = 'MC';
INSERT INTO lot (code, manufacturer_id, model_id, supplier, file_sha256, row_count, received_by)
SELECT v.lot, m.manufacturer_id, m.model_id, 'fixture', md5(v.lot) || md5(v.lot), v.n, 'fixture'
FROM (VALUES ('LA1', 'MA-1', 100), ('LA2', 'MA-1', 100), ('LB1', 'MB-1', 100), ('LB2', 'MB-1', 50),
	     ('LC1', 'MC-1', 200), ('LC2', 'MC-2', 20)) v(lot, model, n)
JOIN device_model m ON m.code = v.model;
-- barcodes: 41300 + lot number (2 digits) + index (5 digits) + filler to 22 digits
INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, state)
SELECT '41300' || lpad(l.lot_id::text, 2, '0') || lpad(i::text, 5, '0') || '0000000000', l.model_id, l.lot_id,
       'B1', date '2026-08-01', 'verifying'
FROM lot l, generate_series(1, l.row_count) i;

INSERT INTO reference_standard (code, name, accuracy_class, range_text)
VALUES ('STD-A', '单相标准装置A', '0.05', ''), ('STD-B', '单相标准装置B', '0.05', '');
INSERT INTO lab_bench (code, name, uri, kind, positions)
VALUES ('B1', '一号台', 'tcp://127.0.0.1:1', 'meter-1p', 96), ('B2', '二号台', 'tcp://127.0.0.1:2', 'meter-1p', 96),
       ('B3', '互感器台', 'tcp://127.0.0.1:3', 'transformer', 96);
INSERT INTO lab_bench_standard SELECT b.bench_id, s.standard_id FROM lab_bench b, reference_standard s
WHERE (b.code, s.code) IN (('B1', 'STD-A'), ('B2', 'STD-B'), ('B3', 'STD-B'));

-- one run per lot (positions are 1..96 on a real bench; the fixture uses one run per lot for
-- lots up to 96 and splits the others into runs of 96)
CREATE TEMP TABLE fx_run AS
SELECT l.lot_id, l.code AS lot, (i - 1) / 96 AS part, v.bench, v.d FROM lot l
JOIN (VALUES ('LA1', 'B1', date '2026-11-10'), ('LA2', 'B1', date '2026-12-05'), ('LB1', 'B2', date '2026-11-12'),
	     ('LB2', 'B2', date '2026-12-08'), ('LC1', 'B1', date '2026-11-20'), ('LC2', 'B3', date '2026-12-01'))
     v(lot, bench, d) ON v.lot = l.code,
     generate_series(1, l.row_count) i GROUP BY 1, 2, 3, 4, 5;
INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, scheme_text, mode, status,
			      steps_total, operator, run_date, started_at, finished_at)
SELECT b.bench_id, l.model_id, 'FX-' || f.lot || '-' || f.part, 1, 'fixture', 'driven', 'finished', 3, 'fixture',
       f.d, (f.d + time '09:00') AT TIME ZONE 'Asia/Shanghai', (f.d + time '10:00') AT TIME ZONE 'Asia/Shanghai'
FROM fx_run f JOIN lab_bench b ON b.code = f.bench JOIN lot l ON l.lot_id = f.lot_id;
CREATE TEMP TABLE fx_asset AS
SELECT a.asset_id, a.barcode, l.code AS lot, substr(a.barcode, 8, 5)::int AS i, r.run_id, r.run_date,
       ((substr(a.barcode, 8, 5)::int - 1) % 96) + 1 AS pos,
       CASE WHEN l.code = 'LB2' THEN substr(a.barcode, 8, 5)::int <= 10
	    WHEN l.code = 'LC2' THEN false
	    ELSE substr(a.barcode, 8, 5)::int % 100 = 0 END AS bad
FROM asset a JOIN lot l ON l.lot_id = a.lot_id
JOIN verification_run r ON r.scheme_code = 'FX-' || l.code || '-' || ((substr(a.barcode, 8, 5)::int - 1) / 96);
INSERT INTO run_position (asset_id, run_id, position, barcode) SELECT asset_id, run_id, pos, barcode FROM fx_asset;
INSERT INTO run_step_result (asset_id, run_id, step_no, position, kind, label, n_readings, mean_e4, rounded_e4,
			     limit_e4, internal_limit_e4, interval_e4, verdict, internal_verdict, measured_at)
SELECT x.asset_id, x.run_id, p.step_no, x.pos, CASE WHEN x.lot = 'LC2' THEN 'ct' ELSE 'basic' END,
       CASE WHEN x.lot = 'LC2' THEN p.ct_label ELSE p.label END, 2, v.e, v.e, 10000, 6000, 1000,
       CASE WHEN abs(v.e) > 10000 THEN 'fail' ELSE 'pass' END, CASE WHEN abs(v.e) > 6000 THEN 'fail' ELSE 'pass' END,
       (x.run_date + time '09:30') AT TIME ZONE 'Asia/Shanghai'
FROM fx_asset x
CROSS JOIN (VALUES (0, 'Imax cosφ=1.0 H', 'CT 100% 100%VA'), (1, 'Ib cosφ=1.0 H', 'CT 5% 100%VA')) p(step_no, label, ct_label)
CROSS JOIN LATERAL (SELECT CASE WHEN p.step_no = 0 THEN (x.i % 11 - 5) * 100
				WHEN x.bad THEN 15000 ELSE (x.i % 7 - 3) * 100 END AS e) v;
INSERT INTO run_step (run_id, step_no, kind, label, started_at)
SELECT DISTINCT run_id, step_no, kind, label, measured_at FROM run_step_result
WHERE run_id IN (SELECT run_id FROM fx_asset);
INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict, valid_until, concluded_at)
SELECT x.asset_id, x.run_id, it.item,
       CASE WHEN x.bad AND it.item IN ('basic', 'overall') THEN 'fail' ELSE 'pass' END,
       CASE WHEN x.bad AND it.item IN ('basic', 'overall') THEN 'fail' ELSE 'pass' END,
       CASE WHEN it.item = 'overall' AND NOT x.bad THEN date '2034-11-30' END, (x.run_date + time '10:00') AT TIME ZONE 'Asia/Shanghai'
FROM fx_asset x CROSS JOIN (VALUES ('creep'), ('basic'), ('overall')) it(item);
UPDATE asset a SET state = CASE WHEN x.bad THEN 'failed' ELSE 'in_stock' END,
		   valid_until = CASE WHEN x.bad THEN NULL ELSE date '2034-11-30' END
FROM fx_asset x WHERE x.asset_id = a.asset_id;

-- field history (lifecycle events; the CENTRAL store and a customer site)
INSERT INTO location (code, name, kind) VALUES ('SITE-1', '示范台区', 'customer_site');
INSERT INTO asset_event (asset_id, occurred_at, actor, location_id, from_state, to_state, action)
SELECT x.asset_id, timestamptz '2026-11-15 10:00:00+08', 'fixture', (SELECT location_id FROM location WHERE code = 'SITE-1'),
       'issued', 'installed', 'install'
FROM fx_asset x WHERE x.lot IN ('LA1', 'LB1', 'LC1') AND NOT x.bad;
INSERT INTO asset_event (asset_id, occurred_at, actor, from_state, to_state, action)
SELECT x.asset_id, CASE WHEN x.lot = 'LB1' THEN timestamptz '2026-12-10 12:00:00+08' ELSE timestamptz '2026-12-20 12:00:00+08' END,
       'fixture', 'installed', 'fault_analysis', 'fault_report'
FROM fx_asset x WHERE (x.lot = 'LB1' AND x.i <= 5) OR (x.lot = 'LA1' AND x.i = 1);
INSERT INTO asset_event (asset_id, occurred_at, actor, from_state, to_state, action)
SELECT x.asset_id, timestamptz '2026-12-01 12:00:00+08', 'fixture', 'installed', 'removed', 'remove'
FROM fx_asset x WHERE x.lot = 'LB1' AND x.i = 6;
-- the states their history ends in, written straight from in_stock (a fixture, not the
-- lifecycle: 0205 judges installed -> removed|fault_analysis, which only the field's
-- ml_remove makes, closing the metering point's installation)
UPDATE asset a SET state = 'installed', location_id = (SELECT location_id FROM location WHERE code = 'SITE-1')
FROM fx_asset x WHERE x.asset_id = a.asset_id AND x.lot IN ('LA1', 'LB1', 'LC1') AND NOT x.bad
AND NOT ((x.lot = 'LB1' AND x.i <= 6) OR (x.lot = 'LA1' AND x.i = 1));
UPDATE asset a SET state = 'fault_analysis', location_id = NULL
FROM fx_asset x WHERE x.asset_id = a.asset_id AND ((x.lot = 'LB1' AND x.i <= 5) OR (x.lot = 'LA1' AND x.i = 1));
UPDATE asset a SET state = 'removed', location_id = NULL FROM fx_asset x WHERE x.asset_id = a.asset_id AND x.lot = 'LB1' AND x.i = 6;

-- the same field history as the field flow records it (quality reads these,
-- 0277): a metering point and an installation per installed asset, the
-- faulty and the removed meters taken out when the events say, and one
-- fault report per fault (reported when the meter was taken out)
INSERT INTO location (code, name, kind) VALUES ('TEAM-FX', '装表一班', 'field_team');
INSERT INTO app_user (login, display_name) VALUES ('fixture.field', '现场人员');
INSERT INTO metering_point (code, account_no, address, site_id, created_by)
SELECT 'FXP' || x.asset_id, 'ACC' || x.asset_id, '示范台区 ' || x.i || ' 号',
       (SELECT location_id FROM location WHERE code = 'SITE-1'), (SELECT user_id FROM app_user WHERE login = 'fixture.field')
FROM fx_asset x WHERE x.lot IN ('LA1', 'LB1', 'LC1') AND NOT x.bad;
INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, installed_at, install_kwh)
SELECT x.asset_id, p.point_id, 'meter', (SELECT location_id FROM location WHERE code = 'TEAM-FX'), p.created_by,
       timestamptz '2026-11-15 10:00:00+08', 0
FROM fx_asset x JOIN metering_point p ON p.code = 'FXP' || x.asset_id;
UPDATE installation i
SET removed_by = i.installed_by, remove_kwh = 12.5,
    removed_at = CASE WHEN x.lot = 'LB1' AND x.i <= 5 THEN timestamptz '2026-12-10 12:00:00+08'
		      WHEN x.lot = 'LB1' THEN timestamptz '2026-12-01 12:00:00+08' ELSE timestamptz '2026-12-20 12:00:00+08' END,
    remove_reason = CASE WHEN x.lot = 'LB1' AND x.i = 6 THEN 'other' ELSE 'fault' END
FROM fx_asset x
WHERE x.asset_id = i.asset_id AND ((x.lot = 'LB1' AND x.i <= 6) OR (x.lot = 'LA1' AND x.i = 1));
INSERT INTO fault_report (asset_id, installation_id, symptom, description, kind, reported_by, reported_at)
SELECT i.asset_id, i.installation_id, 'STOPPED', '停走', 'analysis', i.installed_by, i.removed_at
FROM installation i WHERE i.remove_reason = 'fault';
