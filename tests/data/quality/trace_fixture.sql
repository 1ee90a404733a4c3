-- On top of tests/reports/workflow_run_fixture.sql (run 1 on bench B1 with
-- standard STD-1P-01, 2026-11-20, three meters, position 2 failed; run 2 on
-- CT1, 2026-11-21, one CT): the moves the trace must find. The test then
-- issues the certificates through the workflow (reports/cert_workflow.h):
--   position 1: certificate issued, then revision 1 issued, which supersedes it;
--               the meter is installed at customer site SITE-9
--   position 2: result notice issued and withdrawn; the meter went back to the maker
--   position 3: a draft only; the meter is in the central store
-- Plus: CT1 uses a standard of its own; an older run on B1 (2026-10-01) before the window;
-- bench B2 with STD-1P-01 too (a standard moves between benches' lists: both count).
INSERT INTO location (code, name, kind) VALUES ('SITE-9', '示范小区9号台区', 'customer_site'),
	('MAKER-DEMO', '示范电气（返厂）', 'maker');
INSERT INTO reference_standard (code, name, accuracy_class, range_text)
VALUES ('STD-CT-01', '互感器校验仪', '0.05', '');
INSERT INTO lab_bench_standard SELECT b.bench_id, s.standard_id FROM lab_bench b, reference_standard s
WHERE b.code = 'CT1' AND s.code = 'STD-CT-01';
INSERT INTO lab_bench (code, name, uri, kind, positions) VALUES ('B2', '单相电能表检定装置2号', 'tcp://127.0.0.1:1504',
	'meter-1p', 3);
INSERT INTO lab_bench_standard SELECT b.bench_id, s.standard_id FROM lab_bench b, reference_standard s
WHERE b.code = 'B2' AND s.code = 'STD-1P-01';

UPDATE asset SET state = 'installed', location_id = (SELECT location_id FROM location WHERE code = 'SITE-9')
WHERE barcode = (SELECT barcode FROM run_position WHERE run_id = 1 AND position = 1);
UPDATE asset SET state = 'returned_to_maker', location_id = (SELECT location_id FROM location WHERE code = 'MAKER-DEMO')
WHERE barcode = (SELECT barcode FROM run_position WHERE run_id = 1 AND position = 2);
UPDATE asset SET state = 'in_stock', location_id = (SELECT location_id FROM location WHERE code = 'CENTRAL')
WHERE barcode = (SELECT barcode FROM run_position WHERE run_id = 1 AND position = 3);

-- an older run on B1, outside a window starting 2026-11-01; and a run on B2 inside it
INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, scheme_text, mode, status,
			      steps_total, operator, run_date)
SELECT b.bench_id, m.model_id, 'OLD', 1, 'x', 'driven', 'aborted', 1, '张三', date '2026-10-01'
FROM lab_bench b, device_model m WHERE b.code = 'B1' AND m.code = 'DDZY285-Z';
INSERT INTO run_position (asset_id, run_id, position, barcode)
SELECT a.asset_id, r.run_id, 1, a.barcode FROM asset a, verification_run r
WHERE a.barcode = '4130001000000446529641' AND r.scheme_code = 'OLD';
INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, scheme_text, mode, status,
			      steps_total, operator, run_date)
SELECT b.bench_id, m.model_id, 'ON-B2', 1, 'x', 'driven', 'interrupted', 1, '张三', date '2026-11-28'
FROM lab_bench b, device_model m WHERE b.code = 'B2' AND m.code = 'DDZY285-Z';
INSERT INTO run_position (asset_id, run_id, position, barcode)
SELECT a.asset_id, r.run_id, 2, a.barcode FROM asset a, verification_run r
WHERE a.barcode = '4130001000000461595133' AND r.scheme_code = 'ON-B2';
