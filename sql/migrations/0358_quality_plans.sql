-- 0358: the quality report's aggregates plan as their data needs, whatever
-- the statistics say (issue 10: no plan that depends on luck).
--
-- Measured on bench_quality's data (850 000 meters, 10.2 M result rows;
-- twelve months = 4.2 M rows of run_step_result), bench/RESULTS.md
-- "Session 23":
--
-- 1. ml_floor_div was STRICT. A STRICT SQL function whose body is not
--    itself strict (its CASE is not) cannot be inlined, so the error
--    histogram's bin called it through the SQL-function executor once per
--    scanned row (2.8 M calls in twelve months; auto_explain shows each as
--    its own plan). NULL in still gives NULL out without STRICT: a / b and
--    a % b are NULL, the CASE gives 0, NULL - 0 is NULL.
--
-- 2. A LANGUAGE sql function is planned without its arguments' values, so
--    the period's row count is a default guess (25 558 estimated against
--    4 200 000 read), while the groups are estimated from the product of
--    the grouping columns' distinct counts (1.2 M estimated against 1 708
--    real). The planner then sorts every scanned row for a GroupAggregate —
--    on disk, 200 MB, even at the functions' 64 MB work_mem — instead of
--    hashing the few thousand groups. enable_sort = off makes it hash; since
--    PostgreSQL 13 a hash aggregate that outgrows its memory spills to disk
--    instead of failing, so this is safe whatever the real group count. The
--    final ORDER BY still sorts (there is no other way; the setting only
--    penalises a sort that has an alternative).
--
-- 3. ml_trace_runs named each bench's reference standards with a
--    subquery per returned row (175 080 rows for one standard over a year);
--    they are now aggregated once per bench and joined.
--
-- Tried and dropped: `jit = off` on every quality function. Paired on the
-- same data (bench/quality_ab.sh, 3 rounds), the aggregates over
-- run_conclusion and the field records took 1.3-1.6 times as long without
-- JIT (its compiled expressions and tuple deforming pay on those scans).
-- On the two functions of 2. JIT's compile is most of a one-month call
-- (0.95 s with it, 0.37 s without, in two different pairings); turning it
-- off for those two only is to be paired on its own.

CREATE OR REPLACE FUNCTION ml_floor_div(a bigint, b bigint) RETURNS bigint
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN a / b - CASE WHEN a % b < 0 THEN 1 ELSE 0 END;

ALTER FUNCTION ml_quality_points(date, date, text, text) SET enable_sort = off;
ALTER FUNCTION ml_quality_point_failures(date, date, text, text) SET enable_sort = off;

-- As 0270, except that `standards` comes from one aggregate per bench.
CREATE OR REPLACE FUNCTION ml_trace_runs(p_standard text, p_bench text, p_since date, p_until date DEFAULT NULL)
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
	WITH bstd AS (
		SELECT bs.bench_id, string_agg(rs.code, ',' ORDER BY rs.code) AS codes
		FROM lab_bench_standard bs JOIN reference_standard rs ON rs.standard_id = bs.standard_id
		GROUP BY bs.bench_id)
	SELECT r.run_id, r.run_date, r.status, b.code, bstd.codes,
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
	LEFT JOIN bstd ON bstd.bench_id = b.bench_id
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
