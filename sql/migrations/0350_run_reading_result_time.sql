-- 0350 (issue 10): the run_reading view also gives the time of the result
-- row that holds each reading (result_at), so a reader can bound it by a
-- run's span and read only the partitions of that span.
--
-- Why: run_step_result is partitioned by the result's measured_at (the time
-- the recorder stored it), but a reading's own measured_at is the time the
-- bench took it and is not the partition key: a query on run_reading by run
-- alone visits every monthly partition. `run show` therefore spelled out the
-- view's unnest (0349) to bound the result's time; it now selects from the
-- view with result_at bounded, and the view is the one place that knows how
-- the readings are stored.
--
-- CREATE OR REPLACE VIEW may only add columns at the end: the 0349 columns
-- stay as they were (names, types, order, rows), and so do the owner and
-- the grants.
CREATE OR REPLACE VIEW run_reading AS
SELECT s.asset_id, s.run_id, s.step_no, u.reading_no, s.position, u.value_e4, u.value2_e4, u.pulses, u.bench_result,
       u.measured_at, s.measured_at AS result_at
FROM run_step_result s,
     unnest(s.reading_no, s.reading_value_e4, s.reading_value2_e4, s.reading_pulses, s.reading_bench_result,
	    s.reading_at) AS u(reading_no, value_e4, value2_e4, pulses, bench_result, measured_at);
