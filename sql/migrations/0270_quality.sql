-- 0270: quality analysis (issue 14) — read-only aggregates over the
-- verification results and the lifecycle history, for `meterlab quality
-- report|alerts` (quality/). Nothing here writes: the functions run with
-- the caller's rights (SECURITY INVOKER) over tables every meterlab login
-- may read.
--
-- Periods: a verification belongs to the day its conclusion was written
-- (run_conclusion.concluded_at), a measurement to the day it was measured
-- (run_step_result.measured_at, the partition key, so a report reads only
-- the months it covers), a field fault to the day it was reported. Days are
-- the database session's calendar days; p_to is inclusive.
--
-- Numbers are exact: counts are bigint; sums of errors (× 10 000) are
-- numeric (sum of bigint); the mean and the variance are exact rationals
-- handed out as numeric; nothing here judges.

-- Verifications by conclusion date: the quality report's period scans.
CREATE INDEX run_conclusion_concluded ON run_conclusion (concluded_at) WHERE item = 'overall';
CREATE INDEX run_conclusion_item_concluded ON run_conclusion (concluded_at, item) WHERE item <> 'overall';

-- Field service from the lifecycle until issue 11's installation records:
-- only install / remove / fault_report events, per asset in time order.
CREATE INDEX asset_event_field ON asset_event (asset_id, occurred_at, event_id)
	WHERE action IN ('install', 'remove', 'fault_report');

-- Overall verdicts (pass rate) by maker, model, lot and month, and the total,
-- in one scan (GROUPING SETS). dim: 'maker' | 'model' | 'lot' | 'month' |
-- 'total'; name: the maker's or model's name, a lot's model code.
CREATE FUNCTION ml_quality_verdicts(p_from date, p_to date, p_maker text DEFAULT NULL,
				    p_model text DEFAULT NULL)
	RETURNS TABLE (dim text, key text, name text, maker text, n bigint, pass bigint, fail bigint,
		       internal_fail bigint)
	LANGUAGE sql STABLE AS $$
	WITH c AS (
		SELECT f.code AS maker, f.name AS maker_name, m.code AS model, m.name AS model_name,
		       l.code AS lot, to_char(rc.concluded_at, 'YYYY-MM') AS month, rc.verdict,
		       rc.internal_verdict
		FROM run_conclusion rc
		JOIN verification_run r ON r.run_id = rc.run_id
		JOIN device_model m ON m.model_id = r.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
		JOIN asset a ON a.asset_id = rc.asset_id
		JOIN lot l ON l.lot_id = a.lot_id
		WHERE rc.item = 'overall' AND rc.concluded_at >= p_from AND rc.concluded_at < p_to + 1
		  AND (p_maker IS NULL OR f.code = p_maker) AND (p_model IS NULL OR m.code = p_model))
	-- grouping(maker, model, lot, month): a set bit is a column aggregated over
	SELECT CASE grouping(maker, model, lot, month) WHEN 7 THEN 'maker' WHEN 3 THEN 'model' WHEN 1 THEN 'lot'
		    WHEN 14 THEN 'month' ELSE 'total' END,
	       CASE grouping(maker, model, lot, month) WHEN 7 THEN maker WHEN 3 THEN model WHEN 1 THEN lot
		    WHEN 14 THEN month ELSE '' END,
	       CASE grouping(maker, model, lot, month) WHEN 7 THEN min(maker_name) WHEN 3 THEN min(model_name)
		    WHEN 1 THEN model ELSE '' END,
	       maker,
	       count(*), count(*) FILTER (WHERE verdict = 'pass'), count(*) FILTER (WHERE verdict = 'fail'),
	       count(*) FILTER (WHERE internal_verdict = 'fail')
	FROM c
	GROUP BY GROUPING SETS ((maker), (maker, model), (maker, model, lot), (month), ())
	ORDER BY 1, 2
$$;

-- Failure modes, by test item: conclusions of each item and how many failed,
-- overall and per maker and per model. dim: 'total' | 'maker' | 'model'.
CREATE FUNCTION ml_quality_items(p_from date, p_to date, p_maker text DEFAULT NULL,
				 p_model text DEFAULT NULL)
	RETURNS TABLE (dim text, key text, item text, n bigint, fail bigint)
	LANGUAGE sql STABLE AS $$
	WITH c AS (
		SELECT f.code AS maker, m.code AS model, rc.item, rc.verdict
		FROM run_conclusion rc
		JOIN verification_run r ON r.run_id = rc.run_id
		JOIN device_model m ON m.model_id = r.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
		WHERE rc.item <> 'overall' AND rc.concluded_at >= p_from AND rc.concluded_at < p_to + 1
		  AND (p_maker IS NULL OR f.code = p_maker) AND (p_model IS NULL OR m.code = p_model))
	SELECT CASE WHEN grouping(model) = 0 THEN 'model' WHEN grouping(maker) = 0 THEN 'maker'
		    ELSE 'total' END,
	       coalesce(model, maker, ''), item, count(*), count(*) FILTER (WHERE verdict = 'fail')
	FROM c
	GROUP BY GROUPING SETS ((item), (maker, item), (model, item))
	ORDER BY 1, 2, 3
$$;

-- Error distribution per load point (basic error of meters, ratio error of
-- CTs/VTs), for results measured in the period: count, exact sums for the
-- mean and the variance, extremes, how many failed the regulation limit and
-- the internal limit, and a histogram in tenths of the limit: bin b counts
-- errors x with b <= 10·x/limit < b+1, b from -16 (all below -1.5 limit) to
-- 15 (1.5 limit and above), given sparsely as bins[] and counts[]. Grouped
-- by load point and limit (limits differ by class), overall and per maker.
-- dim: 'total' | 'maker'.
CREATE FUNCTION ml_quality_points(p_from date, p_to date, p_maker text DEFAULT NULL,
				  p_model text DEFAULT NULL)
	RETURNS TABLE (dim text, key text, kind text, label text, limit_e4 bigint,
		       internal_limit_e4 bigint, n bigint, sum_e4 numeric, sumsq_e8 numeric, min_e4 bigint,
		       max_e4 bigint, fail bigint, internal_fail bigint, bins int[], counts bigint[])
	LANGUAGE sql STABLE AS $$
	WITH s AS (
		SELECT f.code AS maker, s.kind, s.label, s.limit_e4, s.internal_limit_e4, s.mean_e4 AS x,
		       s.verdict, s.internal_verdict,
		       least(greatest(floor(s.mean_e4 * 10 / s.limit_e4::numeric), -16), 15)::int AS bin
		FROM run_step_result s
		JOIN verification_run r ON r.run_id = s.run_id
		JOIN device_model m ON m.model_id = r.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
		WHERE s.measured_at >= p_from AND s.measured_at < p_to + 1
		  AND s.kind IN ('basic', 'ct', 'vt') AND s.mean_e4 IS NOT NULL AND s.limit_e4 > 0
		  AND (p_maker IS NULL OR f.code = p_maker) AND (p_model IS NULL OR m.code = p_model)),
	b AS (
		SELECT grouping(maker) AS g, maker, kind, label, limit_e4, internal_limit_e4, bin,
		       count(*) AS n, sum(x) AS sx, sum(x * x) AS sxx, min(x) AS lo, max(x) AS hi,
		       count(*) FILTER (WHERE verdict = 'fail') AS fail,
		       count(*) FILTER (WHERE internal_verdict = 'fail') AS ifail
		FROM s
		GROUP BY GROUPING SETS ((kind, label, limit_e4, internal_limit_e4, bin),
					(maker, kind, label, limit_e4, internal_limit_e4, bin)))
	SELECT CASE WHEN g = 0 THEN 'maker' ELSE 'total' END, coalesce(maker, ''), kind, label, limit_e4,
	       internal_limit_e4, sum(n)::bigint, sum(sx), sum(sxx), min(lo), max(hi), sum(fail)::bigint,
	       sum(ifail)::bigint, array_agg(bin ORDER BY bin), array_agg(n ORDER BY bin)
	FROM b
	GROUP BY g, maker, kind, label, limit_e4, internal_limit_e4
	ORDER BY 1, 2, 3, 4, 5
$$;

-- Failed load points: which step (load point) failed how often, per maker.
-- (The distribution above carries the same counts per limit; this one
-- names the load points whatever the limit, for the failure-mode table.)
CREATE FUNCTION ml_quality_point_failures(p_from date, p_to date, p_maker text DEFAULT NULL,
					  p_model text DEFAULT NULL)
	RETURNS TABLE (maker text, kind text, label text, n bigint, fail bigint, internal_fail bigint)
	LANGUAGE sql STABLE AS $$
	SELECT f.code, s.kind, s.label, count(*), count(*) FILTER (WHERE s.verdict = 'fail'),
	       count(*) FILTER (WHERE s.internal_verdict = 'fail')
	FROM run_step_result s
	JOIN verification_run r ON r.run_id = s.run_id
	JOIN device_model m ON m.model_id = r.model_id
	JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
	WHERE s.measured_at >= p_from AND s.measured_at < p_to + 1
	  AND (p_maker IS NULL OR f.code = p_maker) AND (p_model IS NULL OR m.code = p_model)
	GROUP BY f.code, s.kind, s.label
	HAVING count(*) FILTER (WHERE s.verdict = 'fail') > 0
	ORDER BY 5 DESC, 1, 2, 3
$$;

-- Field service intervals from the lifecycle (until issue 11 records
-- installations): an 'install' event opens one, the asset's next 'remove'
-- or 'fault_report' closes it (or nothing: still in service). A fault is a
-- 'fault_report' event; its age is the time since the asset's latest
-- install before it.
CREATE FUNCTION ml_quality_service(p_to date)
	RETURNS TABLE (asset_id bigint, action text, at timestamptz, installed_at timestamptz,
		       ended_at timestamptz)
	LANGUAGE sql STABLE AS $$
	SELECT asset_id, action, occurred_at,
	       CASE WHEN action = 'install' THEN occurred_at ELSE last_install END,
	       CASE WHEN action = 'install' THEN next_at END
	FROM (SELECT e.asset_id, e.action, e.occurred_at,
		     lead(e.occurred_at) OVER w AS next_at,
		     max(e.occurred_at) FILTER (WHERE e.action = 'install') OVER w AS last_install
	      FROM asset_event e
	      WHERE e.action IN ('install', 'remove', 'fault_report') AND e.occurred_at < p_to + 1
	      WINDOW w AS (PARTITION BY e.asset_id ORDER BY e.occurred_at, e.event_id)) ev
	WHERE action IN ('install', 'fault_report')
$$;

-- Field exposure and faults in the period, per asset and age bucket: an
-- interval's exposure in asset-days (an exact integer: the calendar days it
-- spent installed within the period) split by months in service (buckets
-- from lo to the next lo), and each fault reported in the period with the
-- bucket of its age.
CREATE FUNCTION ml_quality_field_rows(p_from date, p_to date)
	RETURNS TABLE (asset_id bigint, lo int, days int, faults int)
	LANGUAGE sql STABLE AS $$
	WITH sv AS (SELECT * FROM ml_quality_service(p_to)),
	ages (lo, hi) AS (VALUES (0, 3), (3, 6), (6, 12), (12, 24), (24, 36), (36, 60), (60, 1200))
	SELECT * FROM (
		SELECT sv.asset_id, ages.lo,
		       greatest(0, least(coalesce(sv.ended_at, 'infinity'), (p_to + 1)::timestamptz,
					 sv.installed_at + make_interval(months => ages.hi))::date
				   - greatest(sv.installed_at, p_from::timestamptz,
					      sv.installed_at + make_interval(months => ages.lo))::date) AS days,
		       0 AS faults
		FROM sv CROSS JOIN ages
		WHERE sv.action = 'install' AND coalesce(sv.ended_at, 'infinity') > p_from) e
	WHERE days > 0
	UNION ALL
	SELECT sv.asset_id,
	       coalesce((SELECT max(ages.lo) FROM ages
			 WHERE sv.at >= sv.installed_at + make_interval(months => ages.lo)), 0),
	       0, 1
	FROM sv
	WHERE sv.action = 'fault_report' AND sv.at >= p_from AND sv.at < p_to + 1
$$;

-- Field fault rates in the period: assets in service, exposure in
-- asset-days and faults reported, by maker, model, lot, months in service
-- at the time (age buckets; the exposure is split by age too) and in total.
-- dim: 'maker' | 'model' | 'lot' | 'age' | 'total'; for 'age', key is the
-- bucket's lower bound in months.
CREATE FUNCTION ml_quality_field(p_from date, p_to date, p_maker text DEFAULT NULL,
				 p_model text DEFAULT NULL)
	RETURNS TABLE (dim text, key text, maker text, assets bigint, exposure_days bigint, faults bigint)
	LANGUAGE sql STABLE AS $$
	WITH x AS (
		SELECT f.code AS maker, m.code AS model, l.code AS lot, u.asset_id, u.lo, u.days, u.faults
		FROM ml_quality_field_rows(p_from, p_to) u
		JOIN asset a ON a.asset_id = u.asset_id
		JOIN device_model m ON m.model_id = a.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
		JOIN lot l ON l.lot_id = a.lot_id
		WHERE (p_maker IS NULL OR f.code = p_maker) AND (p_model IS NULL OR m.code = p_model))
	SELECT CASE WHEN grouping(model) = 0 THEN 'model' WHEN grouping(maker) = 0 THEN 'maker'
		    WHEN grouping(lot) = 0 THEN 'lot' WHEN grouping(lo) = 0 THEN 'age' ELSE 'total' END,
	       coalesce(model, maker, lot, lo::text, ''),
	       CASE WHEN grouping(model) = 0 OR grouping(lot) = 0 THEN min(maker) END,
	       count(DISTINCT asset_id) FILTER (WHERE days > 0), sum(days)::bigint, sum(faults)::bigint
	FROM x
	GROUP BY GROUPING SETS ((maker), (model), (lot), (lo), ())
	ORDER BY 1, 2
$$;

-- The units the early warning compares with their peers (quality/alerts.c),
-- for the whole period: metric 'verify' (n verifications, x failed) or
-- 'field' (n asset-days in service, x faults); dim 'lot' (peers: the other
-- lots of its model), 'model' (peers: the other models of its kind) or
-- 'maker' (its models of one kind; peers: the other makers' models of that
-- kind).
CREATE FUNCTION ml_quality_alert_units(p_from date, p_to date)
	RETURNS TABLE (metric text, dim text, key text, peer text, n bigint, x bigint)
	LANGUAGE sql STABLE AS $$
	WITH v AS (
		SELECT f.code AS maker, m.code AS model, m.kind, l.code AS lot, rc.verdict
		FROM run_conclusion rc
		JOIN verification_run r ON r.run_id = rc.run_id
		JOIN device_model m ON m.model_id = r.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
		JOIN asset a ON a.asset_id = rc.asset_id
		JOIN lot l ON l.lot_id = a.lot_id
		WHERE rc.item = 'overall' AND rc.concluded_at >= p_from AND rc.concluded_at < p_to + 1),
	fl AS (
		SELECT f.code AS maker, m.code AS model, m.kind, l.code AS lot, u.days, u.faults
		FROM ml_quality_field_rows(p_from, p_to) u
		JOIN asset a ON a.asset_id = u.asset_id
		JOIN device_model m ON m.model_id = a.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
		JOIN lot l ON l.lot_id = a.lot_id)
	SELECT 'verify', CASE WHEN grouping(lot) = 0 THEN 'lot' WHEN grouping(maker) = 0 THEN 'maker'
			      ELSE 'model' END,
	       coalesce(lot, maker, model), CASE WHEN grouping(lot) = 0 THEN model ELSE kind END,
	       count(*), count(*) FILTER (WHERE verdict = 'fail')
	FROM v GROUP BY GROUPING SETS ((lot, model), (model, kind), (maker, kind))
	UNION ALL
	SELECT 'field', CASE WHEN grouping(lot) = 0 THEN 'lot' WHEN grouping(maker) = 0 THEN 'maker'
			     ELSE 'model' END,
	       coalesce(lot, maker, model), CASE WHEN grouping(lot) = 0 THEN model ELSE kind END,
	       sum(days)::bigint, sum(faults)::bigint
	FROM fl GROUP BY GROUPING SETS ((lot, model), (model, kind), (maker, kind))
	ORDER BY 1, 2, 4, 3
$$;

-- Monthly field trend of the whole selection: exposure per calendar month by
-- a sweep over the days the in-service count changes (each interval adds
-- +1 from its first day in the period and -1 after its last), and faults.
CREATE FUNCTION ml_quality_field_months(p_from date, p_to date, p_maker text DEFAULT NULL,
					p_model text DEFAULT NULL)
	RETURNS TABLE (month text, exposure_days bigint, faults bigint)
	LANGUAGE sql STABLE AS $$
	WITH sv AS (
		SELECT s.* FROM ml_quality_service(p_to) s
		JOIN asset a ON a.asset_id = s.asset_id
		JOIN device_model m ON m.model_id = a.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
		WHERE (p_maker IS NULL OR f.code = p_maker) AND (p_model IS NULL OR m.code = p_model)),
	iv AS (
		SELECT greatest(installed_at, p_from::timestamptz)::date AS d0,
		       least(coalesce(ended_at, 'infinity'), (p_to + 1)::timestamptz)::date AS d1
		FROM sv WHERE action = 'install' AND coalesce(ended_at, 'infinity') > p_from),
	delta AS (
		SELECT d, sum(c) AS c FROM (SELECT d0 AS d, 1 AS c FROM iv WHERE d1 > d0
					    UNION ALL SELECT d1, -1 FROM iv WHERE d1 > d0) z
		GROUP BY d),
	steps AS (  -- from day d the count is `active` until the next change
		SELECT d, sum(c) OVER (ORDER BY d) AS active, lead(d, 1, p_to + 1) OVER (ORDER BY d) AS d_next
		FROM delta),
	months AS (
		SELECT m::date AS m0, (m + interval '1 month')::date AS m1
		FROM generate_series(date_trunc('month', p_from::timestamp),
				     date_trunc('month', p_to::timestamp), interval '1 month') m)
	SELECT to_char(months.m0, 'YYYY-MM'),
	       coalesce((SELECT sum(st.active * greatest(0, least(st.d_next, months.m1, p_to + 1)
							       - greatest(st.d, months.m0, p_from)))
			 FROM steps st WHERE st.d < months.m1 AND st.d_next > months.m0), 0)::bigint,
	       (SELECT count(*) FROM sv WHERE sv.action = 'fault_report' AND sv.at >= greatest(months.m0, p_from)
		AND sv.at < least(months.m1, p_to + 1))
	FROM months
	ORDER BY 1
$$;

-- Reverse traceability (标准量传): every run on a bench that used the
-- standard (or on the bench) whose run date is in [p_since, p_until], one row
-- per run and asset, with the run's overall verdict, the asset's current
-- certificate from that run (the latest revision; withdrawn or superseded
-- named), and where the asset is now. JJF 1069 / ISO/IEC 17025 6.5: a
-- standard found out of tolerance makes every result it supported suspect.
CREATE FUNCTION ml_trace_runs(p_standard text, p_bench text, p_since date, p_until date DEFAULT NULL)
	RETURNS TABLE (run_id bigint, run_date date, run_status text, bench text, standards text,
		       pos int, barcode text, model text, maker text, verdict text, cert_no text,
		       cert_revision int, cert_kind text, cert_state text, cert_issued_on date,
		       cert_status text, asset_state text, location text, location_name text,
		       location_kind text, valid_until date, state_since timestamptz)
	LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF p_standard IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reference_standard WHERE code = p_standard) THEN
		RAISE EXCEPTION 'no reference standard "%"', p_standard USING ERRCODE = 'P0002';
	END IF;
	IF p_bench IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lab_bench WHERE code = p_bench) THEN
		RAISE EXCEPTION 'no bench "%"', p_bench USING ERRCODE = 'P0002';
	END IF;
	RETURN QUERY
	SELECT r.run_id, r.run_date, r.status, b.code,
	       (SELECT string_agg(rs.code, ',' ORDER BY rs.code) FROM lab_bench_standard bs
		JOIN reference_standard rs ON rs.standard_id = bs.standard_id WHERE bs.bench_id = b.bench_id),
	       p.position, p.barcode::text, m.code, f.code,
	       (SELECT rc.verdict FROM run_conclusion rc WHERE rc.asset_id = p.asset_id AND rc.run_id = r.run_id
		AND rc.item = 'overall'),
	       c.cert_no, c.revision, CASE c.kind WHEN 1 THEN 'certificate' WHEN 2 THEN 'notice' END, c.state,
	       c.issued_on,
	       CASE WHEN c.id IS NULL THEN NULL
		    WHEN EXISTS (SELECT 1 FROM cert_withdrawal w WHERE w.asset_id = c.asset_id AND w.cert_id = c.id)
		    THEN 'withdrawn'
		    WHEN c.state <> 'issued' THEN 'not issued'
		    ELSE 'current' END,
	       a.state, loc.code, loc.name, loc.kind, a.valid_until, a.state_changed_at
	FROM verification_run r
	JOIN lab_bench b ON b.bench_id = r.bench_id
	JOIN run_position p ON p.run_id = r.run_id
	JOIN asset a ON a.asset_id = p.asset_id
	JOIN device_model m ON m.model_id = a.model_id
	JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
	LEFT JOIN location loc ON loc.location_id = a.location_id
	LEFT JOIN LATERAL (
		-- the run's certificate for the asset that no revision supersedes
		SELECT ce.* FROM certificate ce
		WHERE ce.asset_id = p.asset_id AND ce.run_id = r.run_id
		  AND NOT EXISTS (SELECT 1 FROM cert_supersession s WHERE s.asset_id = ce.asset_id
				  AND s.old_id = ce.id)
		ORDER BY ce.revision DESC, ce.id DESC LIMIT 1) c ON true
	WHERE r.run_date >= p_since AND (p_until IS NULL OR r.run_date <= p_until)
	  AND (p_bench IS NULL OR b.code = p_bench)
	  AND (p_standard IS NULL OR EXISTS (
		SELECT 1 FROM lab_bench_standard bs JOIN reference_standard rs ON rs.standard_id = bs.standard_id
		WHERE bs.bench_id = r.bench_id AND rs.code = p_standard))
	ORDER BY r.run_date, r.run_id, p.position;
END
$$;
CREATE INDEX verification_run_bench_date ON verification_run (bench_id, run_date);

GRANT EXECUTE ON FUNCTION ml_quality_verdicts(date, date, text, text), ml_quality_items(date, date, text, text),
	ml_quality_points(date, date, text, text), ml_quality_point_failures(date, date, text, text),
	ml_quality_service(date), ml_quality_field_rows(date, date), ml_quality_field(date, date, text, text),
	ml_quality_alert_units(date, date),
	ml_quality_field_months(date, date, text, text), ml_trace_runs(text, text, date, date) TO meterlab_app;
