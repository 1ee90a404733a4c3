-- 0371: a quality report's period is made of China's days whatever the
-- caller's TimeZone (0365's rule, sql/README.md "Business dates").
--
-- The report's period is two dates, p_from and p_to. ml_quality_items,
-- ml_quality_points, ml_quality_point_failures and ml_quality_alert_units
-- select the period's results by comparing a moment (concluded_at,
-- measured_at) with those dates: `concluded_at >= p_from AND concluded_at <
-- p_to + 1`. PostgreSQL turns a date compared with a timestamptz into the
-- first moment of that day in the SESSION's zone, so the period's ends moved
-- with the caller: from a session in UTC-12 a result concluded on
-- 1 December 09:00 China time (the previous evening there) fell into
-- November's report, and the failure modes, the error distribution and the
-- alerts no longer counted the same results as the pass rates
-- (ml_quality_verdicts, pinned by 0365) or the field figures (China days by
-- ml_cst_day/ml_cst_start, 0277). 0365 missed them: its guard looked for a
-- cast or a date function on a moment, not for a moment compared with a date.
--
-- Pinned as 0365 pinned ml_quality_verdicts: SET TimeZone =
-- 'Asia/Shanghai' on the function, the zone of the certificates' dates
-- (ml_cert_today, 0141). These functions already carry SET clauses
-- (work_mem, jit, enable_sort: 0270, 0359), so they were never inlined and
-- the pin changes no plan. ALTER ... SET adds the setting and keeps the
-- others. The guard Dates.NoFunctionDatesByTheSessionZone
-- (tests/lab/dates_test.cc) now also lists an unpinned function that
-- compares a moment column with one of its date parameters.
ALTER FUNCTION ml_quality_items(date, date, text, text) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_quality_points(date, date, text, text) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_quality_point_failures(date, date, text, text) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_quality_alert_units(date, date) SET TimeZone = 'Asia/Shanghai';
