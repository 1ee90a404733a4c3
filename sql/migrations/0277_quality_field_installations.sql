-- 0277: field fault rates from the field records (issue 14 asks for them
-- "from the fault reports, as the warehouse/field issue records them; until
-- then from lifecycle events"; issue 11 has landed): service intervals are
-- the installation rows (installed_at .. removed_at), faults are the
-- fault_report rows, by the day they were reported.
--
-- Speed (bench/bench_quality, 850 000 assets, 837 000 installations, 10 M
-- result rows): 0270 rebuilt the service intervals from the whole
-- lifecycle history with a window over every install/remove/fault event
-- ever written and computed seven age-bucket boundaries in timestamptz
-- arithmetic for every interval: ml_quality_field and
-- ml_quality_alert_units took 10-15 s a call whatever the period. Reading
-- the installations instead still joins every one to its asset (the lot and
-- model) — about a second at this size, ten at a province's. So the
-- service intervals are counted, as the asset counts of 0170 are: one row
-- per (lot, model, installation day, removal day) with the number of
-- installations, kept by a statement trigger on installation; a period's
-- exposure is a sum over that small table, the age buckets are computed per
-- distinct (installation day, removal day) pair, and only the few assets
-- with two intervals in one period are read from the installations.
--
-- Days: the field figures count calendar days of China Standard Time, the
-- zone of the certificates' dates (ml_cert_today, 0141), whatever the
-- server's or the session's zone: a stored day cannot follow each reader's
-- zone. The day of installation counts, the day of removal does not.
--
-- A fault's months in service: from its installation's installed_at to the
-- time the meter was taken out for it (removed_at; the field flow removes a
-- faulty meter before the fault is reported) or, for a report that names no
-- installation, bucket 0.

-- The day of a moment in China Standard Time.
CREATE FUNCTION ml_cst_day(t timestamptz) RETURNS date
	LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN (t AT TIME ZONE 'Asia/Shanghai')::date;
-- The first moment of a China Standard Time day.
CREATE FUNCTION ml_cst_start(d date) RETURNS timestamptz
	LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN d::timestamp AT TIME ZONE 'Asia/Shanghai';

-- Installations counted by lot, model, installation day and removal day
-- ('infinity' while installed). Derived data: only the trigger writes it.
CREATE TABLE quality_service_count (
	lot_id bigint NOT NULL,
	model_id bigint NOT NULL,
	d0 date NOT NULL,
	d1 date NOT NULL,
	n bigint NOT NULL,
	PRIMARY KEY (lot_id, model_id, d0, d1)
);
REVOKE ALL ON quality_service_count FROM PUBLIC;
GRANT SELECT ON quality_service_count TO meterlab_app;

-- Statement-level, like asset_counts_apply (0170): every statement touches
-- its counter rows in key order, so two single-statement changes cannot
-- deadlock on them; two field teams installing meters of one lot on one day
-- serialise on that row until the shorter transaction commits. Rows that
-- drop to 0 are kept; readers skip n = 0.
CREATE FUNCTION quality_service_count_apply() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO quality_service_count AS c (lot_id, model_id, d0, d1, n)
		SELECT a.lot_id, a.model_id, ml_cst_day(i.installed_at), coalesce(ml_cst_day(i.removed_at), 'infinity'),
		       count(*)
		FROM new_rows i JOIN asset a ON a.asset_id = i.asset_id
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
		ON CONFLICT (lot_id, model_id, d0, d1) DO UPDATE SET n = c.n + EXCLUDED.n;
	ELSIF TG_OP = 'UPDATE' THEN
		INSERT INTO quality_service_count AS c (lot_id, model_id, d0, d1, n)
		SELECT a.lot_id, a.model_id, x.d0, x.d1, sum(x.d)
		FROM (SELECT asset_id, ml_cst_day(installed_at) AS d0,
			     coalesce(ml_cst_day(removed_at), 'infinity') AS d1, 1 AS d FROM new_rows
		      UNION ALL
		      SELECT asset_id, ml_cst_day(installed_at), coalesce(ml_cst_day(removed_at), 'infinity'), -1
		      FROM old_rows) x
		JOIN asset a ON a.asset_id = x.asset_id
		GROUP BY 1, 2, 3, 4 HAVING sum(x.d) <> 0 ORDER BY 1, 2, 3, 4
		ON CONFLICT (lot_id, model_id, d0, d1) DO UPDATE SET n = c.n + EXCLUDED.n;
	ELSIF TG_OP = 'DELETE' THEN
		UPDATE quality_service_count c SET n = c.n - o.n
		FROM (SELECT a.lot_id, a.model_id, ml_cst_day(i.installed_at) AS d0,
			     coalesce(ml_cst_day(i.removed_at), 'infinity') AS d1, count(*) AS n
		      FROM old_rows i JOIN asset a ON a.asset_id = i.asset_id
		      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4) o
		WHERE c.lot_id = o.lot_id AND c.model_id = o.model_id AND c.d0 = o.d0 AND c.d1 = o.d1;
	ELSE -- TRUNCATE
		DELETE FROM quality_service_count;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER quality_service_count_insert AFTER INSERT ON installation
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quality_service_count_apply();
CREATE TRIGGER quality_service_count_update AFTER UPDATE ON installation
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION quality_service_count_apply();
CREATE TRIGGER quality_service_count_delete AFTER DELETE ON installation
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION quality_service_count_apply();
CREATE TRIGGER quality_service_count_truncate AFTER TRUNCATE ON installation
	FOR EACH STATEMENT EXECUTE FUNCTION quality_service_count_apply();

-- Recount from the installations: the migration's backfill, and the DBA's
-- after a bulk load with triggers off (bench_quality does).
CREATE FUNCTION ml_quality_service_recount() RETURNS bigint
	LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
	DELETE FROM quality_service_count;
	INSERT INTO quality_service_count (lot_id, model_id, d0, d1, n)
	SELECT a.lot_id, a.model_id, ml_cst_day(i.installed_at), coalesce(ml_cst_day(i.removed_at), 'infinity'), count(*)
	FROM installation i JOIN asset a ON a.asset_id = i.asset_id
	GROUP BY 1, 2, 3, 4;
	SELECT count(*) FROM quality_service_count;
$$;
REVOKE ALL ON FUNCTION ml_quality_service_recount() FROM PUBLIC;
SELECT ml_quality_service_recount();
-- Faults of a period by the day they were reported; installations removed
-- in a period (the only way one asset has two intervals in a period).
CREATE INDEX fault_report_reported ON fault_report (reported_at);
CREATE INDEX installation_removed ON installation (removed_at) WHERE removed_at IS NOT NULL;

DROP FUNCTION ml_quality_field_rows(date, date);

-- The months-in-service buckets [lo, hi) of the fault-rate tables.
CREATE FUNCTION ml_quality_ages() RETURNS TABLE (lo int, hi int)
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	VALUES (0, 3), (3, 6), (6, 12), (12, 24), (24, 36), (36, 60), (60, 1200)
$$;

-- The counted service intervals with at least one day in [p_from, p_to]:
-- d0 the installation day, d1 the first day not counted (the removal day
-- or p_to + 1), n installations; only the models of the filter.
CREATE FUNCTION ml_quality_counted(p_from date, p_to date, p_maker text, p_model text)
	RETURNS TABLE (lot_id bigint, model_id bigint, d0 date, d1 date, n bigint)
	LANGUAGE sql STABLE AS $$
	SELECT c.lot_id, c.model_id, c.d0, least(c.d1, p_to + 1), c.n
	FROM quality_service_count c
	WHERE c.n <> 0 AND c.d0 <= p_to AND c.d1 > p_from AND least(c.d1, p_to + 1) > greatest(c.d0, p_from)
	  AND ((p_maker IS NULL AND p_model IS NULL)
	       OR c.model_id IN (SELECT ml_quality_models(p_maker, p_model)))
$$;

-- The intervals in the period of the assets that have more than one there
-- (an asset removed in the period and installed again), one row each.
CREATE FUNCTION ml_quality_multi(p_from date, p_to date, p_maker text, p_model text)
	RETURNS TABLE (lot_id bigint, model_id bigint, asset_id bigint, d0 date, d1 date)
	LANGUAGE sql STABLE AS $$
	SELECT a.lot_id, a.model_id, x.asset_id, x.d0, x.d1
	FROM (SELECT iv.*, count(*) OVER (PARTITION BY iv.asset_id) AS k
	      FROM (SELECT DISTINCT r.asset_id FROM installation r
		    WHERE r.removed_at >= ml_cst_start(p_from + 1) AND r.removed_at < ml_cst_start(p_to + 1)) c
	      -- each candidate's installations by index (OFFSET 0: not flattened into a scan of all)
	      CROSS JOIN LATERAL (
		    SELECT i.asset_id, ml_cst_day(i.installed_at) AS d0,
			   least(coalesce(ml_cst_day(i.removed_at), 'infinity'), p_to + 1) AS d1
		    FROM installation i
		    WHERE i.asset_id = c.asset_id AND i.installed_at < ml_cst_start(p_to + 1)
		      AND (i.removed_at IS NULL OR i.removed_at >= ml_cst_start(p_from + 1))
		    OFFSET 0) iv
	      WHERE iv.d1 > greatest(iv.d0, p_from)) x
	JOIN asset a ON a.asset_id = x.asset_id  -- only the few assets left
	WHERE x.k > 1
	  AND ((p_maker IS NULL AND p_model IS NULL)
	       OR a.model_id IN (SELECT ml_quality_models(p_maker, p_model)))
$$;

-- The faults reported in [p_from, p_to] with the model, the lot and the
-- months-in-service bucket of each (its installation's age when the meter
-- was taken out; bucket 0 when the report names no installation).
CREATE FUNCTION ml_quality_faults(p_from date, p_to date, p_maker text, p_model text)
	RETURNS TABLE (lot_id bigint, model_id bigint, asset_id bigint, lo int, month date)
	LANGUAGE sql STABLE AS $$
	SELECT a.lot_id, a.model_id, f.asset_id,
	       coalesce((SELECT max(g.lo) FROM ml_quality_ages() g
			 WHERE coalesce(i.removed_at, f.reported_at) >= i.installed_at + make_interval(months => g.lo)), 0),
	       date_trunc('month', ml_cst_day(f.reported_at))::date
	FROM fault_report f
	JOIN asset a ON a.asset_id = f.asset_id
	LEFT JOIN installation i ON i.installation_id = f.installation_id
	WHERE f.reported_at >= ml_cst_start(p_from) AND f.reported_at < ml_cst_start(p_to + 1)
	  AND ((p_maker IS NULL AND p_model IS NULL)
	       OR a.model_id IN (SELECT ml_quality_models(p_maker, p_model)))
$$;

-- Field fault rates: assets in service, exposure in asset-days and faults,
-- by maker, model, lot, months-in-service bucket ('age', key lo) and total.
-- The counts give the exposure per lot directly and, per distinct (d0, d1),
-- the days in each bucket. "Assets" counts each asset once: for the few
-- with several intervals in the period the extra intervals are subtracted,
-- from those assets' own installations.
CREATE OR REPLACE FUNCTION ml_quality_field(p_from date, p_to date, p_maker text DEFAULT NULL,
					    p_model text DEFAULT NULL)
	RETURNS TABLE (dim text, key text, maker text, assets bigint, exposure_days bigint, faults bigint)
	LANGUAGE sql STABLE AS $$
	WITH cnt AS MATERIALIZED (SELECT * FROM ml_quality_counted(p_from, p_to, p_maker, p_model)),
	mv AS MATERIALIZED (SELECT * FROM ml_quality_multi(p_from, p_to, p_maker, p_model)),
	fl AS MATERIALIZED (SELECT * FROM ml_quality_faults(p_from, p_to, p_maker, p_model)),
	lots AS (
		SELECT model_id, lot_id, sum(n) AS assets, sum(days) AS days, sum(faults) AS faults
		FROM (SELECT model_id, lot_id, sum(n) AS n, sum(n * (d1 - greatest(d0, p_from))) AS days,
			     0 AS faults
		      FROM cnt GROUP BY 1, 2
		      UNION ALL SELECT model_id, lot_id, count(DISTINCT asset_id) - count(*), 0, 0
		      FROM mv GROUP BY 1, 2
		      UNION ALL SELECT model_id, lot_id, 0, 0, count(*) FROM fl GROUP BY 1, 2) z
		GROUP BY 1, 2),
	shapes AS (SELECT d0, d1, sum(n) AS n FROM cnt GROUP BY 1, 2),
	cut AS (  -- days in each bucket of each distinct (d0, d1)
		SELECT s.n, g.lo,
		       least(s.d1, (s.d0 + make_interval(months => g.hi))::date)
		       - greatest(s.d0, p_from, (s.d0 + make_interval(months => g.lo))::date) AS days
		FROM shapes s CROSS JOIN ml_quality_ages() g),
	mcut AS (  -- the multi-interval assets: intervals in a bucket beyond each asset's first
		SELECT g.lo, count(DISTINCT m.asset_id) - count(*) AS extra
		FROM mv m CROSS JOIN ml_quality_ages() g
		WHERE least(m.d1, (m.d0 + make_interval(months => g.hi))::date)
		      > greatest(m.d0, p_from, (m.d0 + make_interval(months => g.lo))::date)
		GROUP BY g.lo),
	ages AS (
		SELECT lo, sum(n) AS assets, sum(days) AS days, sum(faults) AS faults
		FROM (SELECT lo, sum(n) AS n, sum(n * days) AS days, 0 AS faults FROM cut WHERE days > 0 GROUP BY lo
		      UNION ALL SELECT lo, extra, 0, 0 FROM mcut
		      UNION ALL SELECT lo, 0, 0, count(*) FROM fl GROUP BY lo) z
		GROUP BY lo),
	named AS (
		SELECT f.code AS maker, m.code AS model, l.code AS lot, p.assets, p.days, p.faults
		FROM lots p JOIN device_model m ON m.model_id = p.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
		JOIN lot l ON l.lot_id = p.lot_id)
	SELECT CASE WHEN grouping(model) = 0 THEN 'model' WHEN grouping(maker) = 0 THEN 'maker'
		    WHEN grouping(lot) = 0 THEN 'lot' ELSE 'total' END,
	       coalesce(model, maker, lot, ''),
	       CASE WHEN grouping(model) = 0 OR grouping(lot) = 0 THEN min(maker) END,
	       sum(assets)::bigint, sum(days)::bigint, sum(faults)::bigint
	FROM named
	GROUP BY GROUPING SETS ((maker), (model), (lot), ())
	UNION ALL
	SELECT 'age', lo::text, NULL, assets::bigint, days::bigint, faults::bigint FROM ages
	ORDER BY 1, 2
$$;

CREATE OR REPLACE FUNCTION ml_quality_alert_units(p_from date, p_to date)
	RETURNS TABLE (metric text, dim text, key text, peer text, n bigint, x bigint)
	LANGUAGE sql STABLE AS $$
	WITH v AS (  -- one scan of the period's verdicts, grouped by ids
		SELECT r.model_id, a.lot_id, count(*) AS n, count(*) FILTER (WHERE rc.verdict = 'fail') AS x
		FROM run_conclusion rc
		JOIN verification_run r ON r.run_id = rc.run_id
		JOIN asset a ON a.asset_id = rc.asset_id
		WHERE rc.item = 'overall' AND rc.concluded_at >= p_from AND rc.concluded_at < p_to + 1
		GROUP BY 1, 2),
	fl AS (  -- asset-days in service and faults per lot
		SELECT model_id, lot_id, sum(n) AS n, sum(x) AS x
		FROM (SELECT model_id, lot_id, sum(n * (d1 - greatest(d0, p_from))) AS n, 0 AS x
		      FROM ml_quality_counted(p_from, p_to, NULL, NULL) GROUP BY 1, 2
		      UNION ALL
		      SELECT model_id, lot_id, 0, count(*) FROM ml_quality_faults(p_from, p_to, NULL, NULL)
		      GROUP BY 1, 2) z
		GROUP BY 1, 2),
	named AS (
		SELECT g.metric, f.code AS maker, m.code AS model, m.kind, l.code AS lot, g.n, g.x
		FROM (SELECT 'verify' AS metric, * FROM v UNION ALL SELECT 'field', * FROM fl) g
		JOIN device_model m ON m.model_id = g.model_id
		JOIN manufacturer f ON f.manufacturer_id = m.manufacturer_id
		JOIN lot l ON l.lot_id = g.lot_id)
	SELECT metric, CASE WHEN grouping(lot) = 0 THEN 'lot' WHEN grouping(maker) = 0 THEN 'maker' ELSE 'model' END,
	       coalesce(lot, maker, model), CASE WHEN grouping(lot) = 0 THEN model ELSE kind END,
	       sum(n)::bigint, sum(x)::bigint
	FROM named
	GROUP BY GROUPING SETS ((metric, lot, model), (metric, model, kind), (metric, maker, kind))
	ORDER BY 1, 2, 4, 3
$$;

-- Monthly field trend: exposure per calendar month by a sweep over the days
-- the in-service count changes (+n from an interval's first day in the
-- period, -n from its first day not counted), and faults by report month.
CREATE OR REPLACE FUNCTION ml_quality_field_months(p_from date, p_to date, p_maker text DEFAULT NULL,
						   p_model text DEFAULT NULL)
	RETURNS TABLE (month text, exposure_days bigint, faults bigint)
	LANGUAGE sql STABLE AS $$
	WITH cnt AS MATERIALIZED (SELECT greatest(d0, p_from) AS d0, d1, n
				  FROM ml_quality_counted(p_from, p_to, p_maker, p_model)),
	delta AS (
		SELECT d, sum(c) AS c FROM (SELECT d0 AS d, n AS c FROM cnt UNION ALL SELECT d1, -n FROM cnt) z
		GROUP BY d),
	steps AS (  -- from day d the count is `active` until the next change
		SELECT d, sum(c) OVER (ORDER BY d) AS active, lead(d, 1, p_to + 1) OVER (ORDER BY d) AS d_next
		FROM delta),
	fm AS (SELECT month AS m0, count(*) AS n FROM ml_quality_faults(p_from, p_to, p_maker, p_model) GROUP BY 1),
	months AS (
		SELECT m::date AS m0, (m + interval '1 month')::date AS m1
		FROM generate_series(date_trunc('month', p_from::timestamp),
				     date_trunc('month', p_to::timestamp), interval '1 month') m)
	SELECT to_char(months.m0, 'YYYY-MM'),
	       coalesce((SELECT sum(st.active * greatest(0, least(st.d_next, months.m1, p_to + 1)
							       - greatest(st.d, months.m0, p_from)))
			 FROM steps st WHERE st.d < months.m1 AND st.d_next > months.m0), 0)::bigint,
	       coalesce((SELECT fm.n FROM fm WHERE fm.m0 = months.m0), 0)::bigint
	FROM months
	ORDER BY 1
$$;

DROP FUNCTION ml_quality_service(date);
GRANT EXECUTE ON FUNCTION ml_cst_day(timestamptz), ml_cst_start(date), ml_quality_ages(),
	ml_quality_counted(date, date, text, text), ml_quality_multi(date, date, text, text),
	ml_quality_faults(date, date, text, text) TO meterlab_app;
DROP INDEX asset_event_field;

-- CREATE OR REPLACE drops 0271's settings: hash, do not sort on disk.
ALTER FUNCTION ml_quality_field(date, date, text, text) SET work_mem = '64MB';
ALTER FUNCTION ml_quality_field_months(date, date, text, text) SET work_mem = '64MB';
ALTER FUNCTION ml_quality_alert_units(date, date) SET work_mem = '64MB';
