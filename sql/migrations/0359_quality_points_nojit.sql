-- 0359: the error distribution and the point failures run without JIT
-- (issue 10: no plan that depends on luck; JIT where it cannot pay).
--
-- Both functions hash a few thousand groups out of the period's
-- run_step_result rows (0358). Their plans are estimated far above the JIT
-- thresholds whatever the period, so every call compiled its expressions:
-- over one month (340 k rows) the compile was most of the call. Paired
-- against 0358 on the same data (bench/quality_ab.sh, 10.2 M result rows,
-- 3 rounds, quiet machine; bench/RESULTS.md "Session 24"), B lower in 3 of
-- 3 rounds in every cell:
--   error distribution  month 0.32 s against 0.91 (0.35), year 2.02
--                       against 3.06 (0.66), everything 4.81 against 6.28
--   point failures      month 0.27 against 0.62 (0.44), year 1.93 against
--                       2.92 (0.66), everything 4.70 against 6.32
--   the whole report    month 0.74 against 1.62 (0.46), year 5.56 against
--                       7.58 (0.73), everything 12.9 against 17.4 (0.74)
-- and the same answers (md5 of every aggregate's rows, 24 of 24).
--
-- The other quality aggregates keep JIT: paired, they took 1.3-1.6 times
-- as long without it (0358's comment).

ALTER FUNCTION ml_quality_points(date, date, text, text) SET jit = off;
ALTER FUNCTION ml_quality_point_failures(date, date, text, text) SET jit = off;
