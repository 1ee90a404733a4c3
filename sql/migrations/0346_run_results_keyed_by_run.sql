-- 0346 (issue 10): a run's readings and step results are keyed by run and
-- step, in one index each instead of two.
--
-- Why: since 0031 each of `run_reading` and `run_step_result` carried a
-- primary key led by asset_id, (asset_id, run_id, step_no, …), and a second
-- index (run_id, step_no) for reading them. Every reader reads them by run
-- (run show, result.c's step list, the certificate content and run check of
-- 0160/0343, the quality report by measured_at), none by asset alone, so
-- the asset-led key served only uniqueness, and every reading row paid two
-- btree insertions. The runner writes a step as 96 readings and 48 results
-- (a 48-position bench), so ingest paid 144 insertions into indexes no
-- query uses. Inserting a step's 96 readings into a monthly partition took
-- 0.45 ms with both indexes and 0.27 ms with the run-led key alone (1 000
-- steps, three rounds, same session; bench/RESULTS.md "Session 11").
--
-- The new keys have the same columns, so they refuse the same duplicates:
-- a reading is still unique per (run, step, asset, reading number, time),
-- a step result per (run, step, asset, time). Their order puts run and
-- step first: a step's rows are appended at the right edge of the index
-- (steps of a run only increase) instead of at 48 places, and reading a
-- run, or a step of a run, is a range of the key. asset_id stays in both
-- keys (the distribution column for Citus, sql/README.md).
--
-- Rebuilding the keys locks the two tables and rewrites their indexes in
-- this migration's transaction: on a database with years of results, run it
-- in a maintenance window (measured on 10 M readings and 5 M step results:
-- bench/RESULTS.md "Session 11").

ALTER TABLE run_reading DROP CONSTRAINT run_reading_pkey;
ALTER TABLE run_reading ADD CONSTRAINT run_reading_pkey
	PRIMARY KEY (run_id, step_no, asset_id, reading_no, measured_at);
DROP INDEX run_reading_run;

ALTER TABLE run_step_result DROP CONSTRAINT run_step_result_pkey;
ALTER TABLE run_step_result ADD CONSTRAINT run_step_result_pkey
	PRIMARY KEY (run_id, step_no, asset_id, measured_at);
DROP INDEX run_step_result_run;
