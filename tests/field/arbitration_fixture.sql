-- On top of tests/reports/workflow_run_fixture.sql: the fault reports of
-- tests/field/arbitration_test.cc, written as the DBA (the field tests cover
-- ml_fault_report): an arbitration on complaint TS-1 for run 1's position-1
-- meter and a fault analysis for position 3's, both reported before the run
-- was created; an arbitration on TS-3 for position 3 reported after it.
INSERT INTO fault_report (asset_id, symptom, description, kind, complaint_ref, reported_by, reported_at)
SELECT p.asset_id, 'FAST', '用户反映走快', v.kind, v.ref, (SELECT user_id FROM app_user WHERE login = 'mlt_field'),
       r.created_at + v.off
FROM run_position p JOIN verification_run r ON r.run_id = p.run_id,
     (VALUES (1, 'arbitration', 'TS-1', interval '-1 day'), (3, 'analysis', NULL, interval '-1 day'),
	     (3, 'arbitration', 'TS-3', interval '1 day')) v(pos, kind, ref, off)
WHERE p.run_id = 1 AND p.position = v.pos;
