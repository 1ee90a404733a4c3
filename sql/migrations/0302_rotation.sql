-- 0302: periodic rotation and on-site inspection due dates (周期轮换,
-- 现场检验, issue 15).
--
-- Rotation: an installed meter is due when its verification validity ends
-- (asset.valid_until: run date + the model's verification period − 1 day,
-- JJG 596-2012 / domain.md §1.12); the rotation list of a month names, per
-- installing team, every active meter installation whose validity ends in
-- that month, and the overdue ones (ended before it).
--
-- Inspection: a metering point's inspection class (DL/T 448-2000, domain.md
-- §1.12: class I every 3 months, II every 6, III every 12; intervals are
-- data in inspection_class) gives its next on-site inspection: the last
-- inspection (or the installation of its current meter) + the interval in
-- calendar months. PostgreSQL's date + interval 'n months' keeps the day and
-- clamps it to the month's last day (2025-11-30 + 3 months = 2026-02-28,
-- 2023-11-30 + 3 months = 2024-02-29), which is how a due date "every three
-- months" is read: never later than the same day n months on.

INSERT INTO app_permission (perm, description) VALUES
	('inspection.class', 'set the inspection class of metering points and the inspection intervals');
INSERT INTO app_role_permission (role, perm) VALUES ('manager', 'inspection.class'), ('admin', 'inspection.class');

CREATE TABLE inspection_class (
	class text PRIMARY KEY CHECK (class IN ('I', 'II', 'III', 'IV', 'V')),
	months int NOT NULL CHECK (months BETWEEN 1 AND 120),
	source text NOT NULL
);
INSERT INTO inspection_class (class, months, source) VALUES
	('I', 3, 'DL/T 448-2000 (domain.md §1.12): class I installations at least every 3 months'),
	('II', 6, 'DL/T 448-2000 (domain.md §1.12): class II every 6 months'),
	('III', 12, 'DL/T 448-2000 (domain.md §1.12): class III yearly');

CREATE TABLE point_inspection_class (
	point_id bigint PRIMARY KEY REFERENCES metering_point (point_id),
	class text NOT NULL REFERENCES inspection_class (class),
	set_by bigint NOT NULL REFERENCES app_user (user_id),
	set_at timestamptz NOT NULL DEFAULT now()
);
-- The inspections done (recording with the portable standard comes with the
-- inspection workflow; the due dates read the latest date here).
CREATE TABLE point_inspection (
	inspection_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	point_id bigint NOT NULL REFERENCES metering_point (point_id),
	inspected_on date NOT NULL,
	recorded_by bigint NOT NULL REFERENCES app_user (user_id),
	recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX point_inspection_point ON point_inspection (point_id, inspected_on);

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON inspection_class, point_inspection_class, point_inspection
	FROM PUBLIC, meterlab_app;
GRANT SELECT ON inspection_class, point_inspection_class, point_inspection TO meterlab_app;

-- The next due date after a date for a class: that date + the class's months.
CREATE FUNCTION ml_inspection_next(p_from date, p_class text) RETURNS date
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT (p_from + make_interval(months => c.months))::date FROM inspection_class c WHERE c.class = p_class
$$;

CREATE FUNCTION ml_point_inspection_class_set(p_points text[], p_class text) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('inspection.class');
	bad text;
	n bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM inspection_class WHERE class = p_class) THEN
		RAISE EXCEPTION 'inspection class % is not one of %', coalesce(quote_literal(p_class), 'NULL'),
			(SELECT string_agg(class, ', ' ORDER BY months) FROM inspection_class) USING ERRCODE = '22023';
	END IF;
	SELECT string_agg(x, ', ') INTO bad FROM unnest(p_points) x
	WHERE NOT EXISTS (SELECT 1 FROM metering_point p WHERE p.code = x);
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'unknown metering point(s): %', left(bad, 200) USING ERRCODE = 'P0002';
	END IF;
	INSERT INTO point_inspection_class (point_id, class, set_by)
	SELECT p.point_id, p_class, actor FROM metering_point p WHERE p.code = ANY (p_points)
	ON CONFLICT (point_id) DO UPDATE SET class = EXCLUDED.class, set_by = actor, set_at = now();
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

CREATE FUNCTION ml_inspection_class_set(p_class text, p_months int) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('inspection.class');
BEGIN
	IF p_months IS NULL OR p_months NOT BETWEEN 1 AND 120 THEN
		RAISE EXCEPTION 'inspection interval % months is not in 1..120', coalesce(p_months::text, 'NULL')
			USING ERRCODE = '22023';
	END IF;
	UPDATE inspection_class SET months = p_months,
		source = format('set to %s months by %s on %s', p_months, (SELECT login FROM app_user WHERE user_id = actor),
				current_date)
	WHERE class = p_class;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'inspection class % is not one of I, II, III', coalesce(quote_literal(p_class), 'NULL')
			USING ERRCODE = 'P0002';
	END IF;
END
$$;

-- The rotation list of the month containing p_month: per team, every active
-- meter installation whose validity ends in that month ('due') or ended
-- before it ('overdue'). One index range per team would need an index on
-- valid_until of installed assets; the installations are read once.
CREATE FUNCTION ml_rotation_list(p_month date, p_team text DEFAULT NULL)
	RETURNS TABLE (team text, status text, barcode text, model text, point text, address text, installed_on date,
		       valid_until date)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT t.code, CASE WHEN a.valid_until < date_trunc('month', p_month)::date THEN 'overdue' ELSE 'due' END,
	       a.barcode::text, m.code, p.code, p.address, i.installed_at::date, a.valid_until
	FROM installation i JOIN asset a ON a.asset_id = i.asset_id
	JOIN device_model m ON m.model_id = a.model_id
	JOIN metering_point p ON p.point_id = i.point_id
	JOIN location t ON t.location_id = i.team_id
	WHERE i.removed_at IS NULL AND i.element = 'meter'
	  AND a.valid_until < (date_trunc('month', p_month) + interval '1 month')::date
	  AND (p_team IS NULL OR t.code = p_team)
	ORDER BY t.code, a.valid_until, p.code
$$;

-- The next on-site inspection of every classed point with a meter: the last
-- inspection, or the installation of the current meter, + the interval.
CREATE FUNCTION ml_inspection_due(p_until date)
	RETURNS TABLE (point text, class text, team text, last_inspected date, installed_on date, due_on date,
		       overdue boolean)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT x.code, x.class, x.team, x.last, x.installed, x.due, x.due < current_date
	FROM (SELECT p.code, c.class, t.code AS team, li.last, i.installed_at::date AS installed,
		     ml_inspection_next(coalesce(li.last, i.installed_at::date), c.class) AS due
	      FROM point_inspection_class c JOIN metering_point p ON p.point_id = c.point_id
	      JOIN installation i ON i.point_id = p.point_id AND i.removed_at IS NULL AND i.element = 'meter'
	      JOIN location t ON t.location_id = i.team_id
	      LEFT JOIN LATERAL (SELECT max(pi.inspected_on) AS last FROM point_inspection pi
				 WHERE pi.point_id = p.point_id) li ON true) x
	WHERE x.due <= p_until
	ORDER BY x.due, x.code
$$;

GRANT EXECUTE ON FUNCTION ml_point_inspection_class_set(text[], text), ml_inspection_class_set(text, int),
	ml_rotation_list(date, text), ml_inspection_due(date), ml_inspection_next(date, text) TO meterlab_app;
