-- 0271: the quality aggregates of 0270, rewritten to aggregate on integer
-- ids first and name things afterwards (bench/bench_quality on 10 M result
-- rows: the first versions grouped the scanned rows by maker code, lot code
-- and a numeric histogram bin with GROUPING SETS, which sorted every row —
-- on disk at the default work_mem — instead of hashing a few thousand
-- groups). Same signatures and results; each function now:
--   1. scans the period once and hash-aggregates by model id (and lot id,
--      month, item, load point, histogram bin) — integers only, the bin by
--      integer floor division;
--   2. joins the few thousand groups to models, makers and lots;
--   3. rolls them up per maker / model / lot / total with GROUPING SETS over
--      the small pre-aggregate.
-- A maker or model filter becomes a set of model ids checked per row.

-- floor(a / b) for b > 0, in integers
CREATE FUNCTION ml_floor_div(a bigint, b bigint) RETURNS bigint
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN a / b - CASE WHEN a % b < 0 THEN 1 ELSE 0 END;

-- The models a report covers (every model when both filters are NULL).
CREATE FUNCTION ml_quality_models(p_maker text, p_model text) RETURNS SETOF bigint
	LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT m.model_id FROM device_model m JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
	WHERE (p_maker IS NULL OR f.code = p_maker) AND (p_model IS NULL OR m.code = p_model)
$$;

CREATE OR REPLACE FUNCTION ml_quality_verdicts(p_from date, p_to date, p_maker text DEFAULT NULL,
					       p_model text DEFAULT NULL)
	RETURNS TABLE (dim text, key text, name text, maker text, n bigint, pass bigint, fail bigint,
		       internal_fail bigint)
	LANGUAGE sql STABLE AS $$
	WITH g AS (  -- one scan: groups by model, lot and month
		SELECT r.model_id, a.lot_id, to_char(rc.concluded_at, 'YYYY-MM') AS month, count(*) AS n,
		       count(*) FILTER (WHERE rc.verdict = 'pass') AS pass,
		       count(*) FILTER (WHERE rc.verdict = 'fail') AS fail,
		       count(*) FILTER (WHERE rc.internal_verdict = 'fail') AS ifail
		FROM run_conclusion rc
		JOIN verification_run r ON r.run_id = rc.run_id
		JOIN asset a ON a.asset_id = rc.asset_id
		WHERE rc.item = 'overall' AND rc.concluded_at >= p_from AND rc.concluded_at < p_to + 1
		  AND ((p_maker IS NULL AND p_model IS NULL)
		       OR r.model_id IN (SELECT ml_quality_models(p_maker, p_model)))
		GROUP BY 1, 2, 3),
	c AS (
		SELECT f.code AS maker, f.name AS maker_name, m.code AS model, m.name AS model_name,
		       l.code AS lot, g.month, g.n, g.pass, g.fail, g.ifail
		FROM g JOIN device_model m ON m.model_id = g.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
		JOIN lot l ON l.lot_id = g.lot_id)
	-- grouping(maker, model, lot, month): a set bit is a column aggregated over
	SELECT CASE grouping(maker, model, lot, month) WHEN 7 THEN 'maker' WHEN 3 THEN 'model' WHEN 1 THEN 'lot'
		    WHEN 14 THEN 'month' ELSE 'total' END,
	       CASE grouping(maker, model, lot, month) WHEN 7 THEN maker WHEN 3 THEN model WHEN 1 THEN lot
		    WHEN 14 THEN month ELSE '' END,
	       CASE grouping(maker, model, lot, month) WHEN 7 THEN min(maker_name) WHEN 3 THEN min(model_name)
		    WHEN 1 THEN model ELSE '' END,
	       maker,
	       sum(n)::bigint, sum(pass)::bigint, sum(fail)::bigint, sum(ifail)::bigint
	FROM c
	GROUP BY GROUPING SETS ((maker), (maker, model), (maker, model, lot), (month), ())
	ORDER BY 1, 2
$$;

CREATE OR REPLACE FUNCTION ml_quality_items(p_from date, p_to date, p_maker text DEFAULT NULL,
					    p_model text DEFAULT NULL)
	RETURNS TABLE (dim text, key text, item text, n bigint, fail bigint)
	LANGUAGE sql STABLE AS $$
	WITH g AS (
		SELECT r.model_id, rc.item, count(*) AS n, count(*) FILTER (WHERE rc.verdict = 'fail') AS fail
		FROM run_conclusion rc
		JOIN verification_run r ON r.run_id = rc.run_id
		WHERE rc.item <> 'overall' AND rc.concluded_at >= p_from AND rc.concluded_at < p_to + 1
		  AND ((p_maker IS NULL AND p_model IS NULL)
		       OR r.model_id IN (SELECT ml_quality_models(p_maker, p_model)))
		GROUP BY 1, 2),
	c AS (
		SELECT f.code AS maker, m.code AS model, g.item, g.n, g.fail
		FROM g JOIN device_model m ON m.model_id = g.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id)
	SELECT CASE WHEN grouping(model) = 0 THEN 'model' WHEN grouping(maker) = 0 THEN 'maker'
		    ELSE 'total' END,
	       coalesce(model, maker, ''), item, sum(n)::bigint, sum(fail)::bigint
	FROM c
	GROUP BY GROUPING SETS ((item), (maker, item), (model, item))
	ORDER BY 1, 2, 3
$$;

CREATE OR REPLACE FUNCTION ml_quality_points(p_from date, p_to date, p_maker text DEFAULT NULL,
					     p_model text DEFAULT NULL)
	RETURNS TABLE (dim text, key text, kind text, label text, limit_e4 bigint,
		       internal_limit_e4 bigint, n bigint, sum_e4 numeric, sumsq_e8 numeric, min_e4 bigint,
		       max_e4 bigint, fail bigint, internal_fail bigint, bins int[], counts bigint[])
	LANGUAGE sql STABLE AS $$
	WITH g AS (  -- one scan: groups by model, load point, limits and histogram bin
		SELECT r.model_id, s.kind, s.label, s.limit_e4, s.internal_limit_e4,
		       least(greatest(ml_floor_div(s.mean_e4 * 10, s.limit_e4), -16), 15)::int AS bin,
		       count(*) AS n, sum(s.mean_e4) AS sx, sum(s.mean_e4 * s.mean_e4) AS sxx,
		       min(s.mean_e4) AS lo, max(s.mean_e4) AS hi,
		       count(*) FILTER (WHERE s.verdict = 'fail') AS fail,
		       count(*) FILTER (WHERE s.internal_verdict = 'fail') AS ifail
		FROM run_step_result s
		JOIN verification_run r ON r.run_id = s.run_id
		WHERE s.measured_at >= p_from AND s.measured_at < p_to + 1
		  AND s.kind IN ('basic', 'ct', 'vt') AND s.mean_e4 IS NOT NULL AND s.limit_e4 > 0
		  AND ((p_maker IS NULL AND p_model IS NULL)
		       OR r.model_id IN (SELECT ml_quality_models(p_maker, p_model)))
		GROUP BY 1, 2, 3, 4, 5, 6),
	b AS (
		SELECT grouping(f.code) AS gr, f.code AS maker, g.kind, g.label, g.limit_e4,
		       g.internal_limit_e4, g.bin, sum(g.n) AS n, sum(g.sx) AS sx, sum(g.sxx) AS sxx,
		       min(g.lo) AS lo, max(g.hi) AS hi, sum(g.fail) AS fail, sum(g.ifail) AS ifail
		FROM g JOIN device_model m ON m.model_id = g.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
		GROUP BY GROUPING SETS ((g.kind, g.label, g.limit_e4, g.internal_limit_e4, g.bin),
					(f.code, g.kind, g.label, g.limit_e4, g.internal_limit_e4, g.bin)))
	SELECT CASE WHEN gr = 0 THEN 'maker' ELSE 'total' END, coalesce(maker, ''), kind, label, limit_e4,
	       internal_limit_e4, sum(n)::bigint, sum(sx), sum(sxx), min(lo), max(hi), sum(fail)::bigint,
	       sum(ifail)::bigint, array_agg(bin ORDER BY bin), array_agg(n::bigint ORDER BY bin)
	FROM b
	GROUP BY gr, maker, kind, label, limit_e4, internal_limit_e4
	ORDER BY 1, 2, 3, 4, 5
$$;

CREATE OR REPLACE FUNCTION ml_quality_point_failures(p_from date, p_to date, p_maker text DEFAULT NULL,
						     p_model text DEFAULT NULL)
	RETURNS TABLE (maker text, kind text, label text, n bigint, fail bigint, internal_fail bigint)
	LANGUAGE sql STABLE AS $$
	WITH g AS (
		SELECT r.model_id, s.kind, s.label, count(*) AS n,
		       count(*) FILTER (WHERE s.verdict = 'fail') AS fail,
		       count(*) FILTER (WHERE s.internal_verdict = 'fail') AS ifail
		FROM run_step_result s
		JOIN verification_run r ON r.run_id = s.run_id
		WHERE s.measured_at >= p_from AND s.measured_at < p_to + 1
		  AND ((p_maker IS NULL AND p_model IS NULL)
		       OR r.model_id IN (SELECT ml_quality_models(p_maker, p_model)))
		GROUP BY 1, 2, 3)
	SELECT f.code, g.kind, g.label, sum(g.n)::bigint, sum(g.fail)::bigint, sum(g.ifail)::bigint
	FROM g JOIN device_model m ON m.model_id = g.model_id
	JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
	GROUP BY f.code, g.kind, g.label
	HAVING sum(g.fail) > 0
	ORDER BY 5 DESC, 1, 2, 3
$$;

GRANT EXECUTE ON FUNCTION ml_floor_div(bigint, bigint), ml_quality_models(text, text) TO meterlab_app;

-- The planner estimates the groups of these scans from the product of the
-- columns' distinct counts (millions) and, at the default work_mem of 4 MB,
-- sorts every scanned row on disk instead of hashing the few thousand real
-- groups; measured on the bench data, 64 MB lets it hash. Reports are run
-- by few people at a time, so the memory is affordable.
ALTER FUNCTION ml_quality_verdicts(date, date, text, text) SET work_mem = '64MB';
ALTER FUNCTION ml_quality_items(date, date, text, text) SET work_mem = '64MB';
ALTER FUNCTION ml_quality_points(date, date, text, text) SET work_mem = '64MB';
ALTER FUNCTION ml_quality_point_failures(date, date, text, text) SET work_mem = '64MB';
ALTER FUNCTION ml_quality_field(date, date, text, text) SET work_mem = '64MB';
ALTER FUNCTION ml_quality_field_months(date, date, text, text) SET work_mem = '64MB';
ALTER FUNCTION ml_quality_alert_units(date, date) SET work_mem = '64MB';
