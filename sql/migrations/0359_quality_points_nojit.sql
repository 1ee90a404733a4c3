-- 0359: the error distribution and the point failures run without JIT
-- (issue 10: no plan that depends on luck; JIT where it cannot pay).
--
-- Both functions hash a few thousand groups out of the period's
-- run_step_result rows (0358). Their plans are estimated far above the JIT
-- thresholds whatever the period, so every call compiled its expressions:
-- over one month (340 k rows) the compile was most of the call. Paired on
-- the same data (bench/quality_ab.sh, 10.2 M result rows, 3 rounds;
-- bench/RESULTS.md "Session 24") this is measured against 0358 over one
-- month, twelve months and everything.
--
-- The other quality aggregates keep JIT: paired, they took 1.3-1.6 times
-- as long without it (0358's comment).

ALTER FUNCTION ml_quality_points(date, date, text, text) SET jit = off;
ALTER FUNCTION ml_quality_point_failures(date, date, text, text) SET jit = off;
