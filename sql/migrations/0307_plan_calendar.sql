-- 0307: the working-day calendar of the verification plan and plan against
-- actual (issue 15).
--
-- Calendar: which days the benches work is data — the working week
-- (plan_weekday, ISO day numbers; Monday to Friday by default) and dated
-- exceptions (plan_calendar: a public holiday off, or a weekend made a
-- working day, as the Chinese holiday arrangements 调休 do), each with a
-- note and the person who set it, logged in plan_log. The scheduler plans
-- only on the working days ml_plan_working_days gives (plan/planning.c).
--
-- Plan against actual: a plan is computed, not stored, so a plan that is
-- to be compared later is saved (plan_snapshot, its runs as planned); the
-- comparison per planned day and bench counts the runs finished on that
-- bench that day (verification_run.run_date, status finished), the assets
-- they verified and passed; per planned lot, the day it was planned to be
-- done (its last planned run) against the day it was released — none of
-- its assets left waiting (arrived, sampling, verifying, reverify), on the
-- day of its last finished run.

CREATE TABLE plan_weekday (
	isodow int PRIMARY KEY CHECK (isodow BETWEEN 1 AND 7),
	working boolean NOT NULL
);
INSERT INTO plan_weekday (isodow, working) VALUES (1, true), (2, true), (3, true), (4, true), (5, true), (6, false),
	(7, false);
CREATE TABLE plan_calendar (
	day date PRIMARY KEY,
	working boolean NOT NULL,
	note text NOT NULL,
	set_by bigint NOT NULL REFERENCES app_user (user_id),
	set_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plan_snapshot (
	snapshot_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	from_day date NOT NULL,
	to_day date NOT NULL CHECK (to_day >= from_day),
	saved_by bigint NOT NULL REFERENCES app_user (user_id),
	saved_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE plan_snapshot_run (
	snapshot_id bigint NOT NULL REFERENCES plan_snapshot (snapshot_id),
	seq int NOT NULL,
	day date NOT NULL,
	bench_id bigint NOT NULL REFERENCES lab_bench (bench_id),
	lot_id bigint NOT NULL REFERENCES lot (lot_id),
	model_id bigint NOT NULL REFERENCES device_model (model_id),
	assets int NOT NULL CHECK (assets > 0),
	demand_id bigint REFERENCES plan_demand (demand_id),
	PRIMARY KEY (snapshot_id, seq)
);
CREATE TRIGGER plan_snapshot_append_only BEFORE UPDATE OR DELETE ON plan_snapshot
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();
CREATE TRIGGER plan_snapshot_run_append_only BEFORE UPDATE OR DELETE ON plan_snapshot_run
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON plan_weekday, plan_calendar, plan_snapshot, plan_snapshot_run
	FROM PUBLIC, meterlab_app;
GRANT SELECT ON plan_weekday, plan_calendar, plan_snapshot, plan_snapshot_run TO meterlab_app;

CREATE FUNCTION ml_plan_working(p_day date) RETURNS boolean
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT coalesce((SELECT c.working FROM plan_calendar c WHERE c.day = p_day),
			(SELECT w.working FROM plan_weekday w WHERE w.isodow = extract(isodow FROM p_day)::int))
$$;

-- The working days from p_from to p_to, in order.
CREATE FUNCTION ml_plan_working_days(p_from date, p_to date) RETURNS SETOF date
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT d::date FROM generate_series(p_from, p_to, interval '1 day') d
	LEFT JOIN plan_calendar c ON c.day = d::date
	JOIN plan_weekday w ON w.isodow = extract(isodow FROM d)::int
	WHERE coalesce(c.working, w.working)
	ORDER BY 1
$$;

-- A dated exception (p_working NULL removes it: the weekday rule applies again).
CREATE FUNCTION ml_plan_calendar_set(p_day date, p_working boolean, p_note text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('plan.edit');
	old text;
	v_note text;
BEGIN
	IF p_day IS NULL THEN
		RAISE EXCEPTION 'a calendar day is needed' USING ERRCODE = '22023';
	END IF;
	SELECT CASE WHEN working THEN 'working' ELSE 'off' END || ': ' || c.note INTO old FROM plan_calendar c
	WHERE c.day = p_day;
	IF p_working IS NULL THEN
		DELETE FROM plan_calendar WHERE day = p_day;
	ELSE
		v_note := ml_clean_text('note', p_note, 200);
		INSERT INTO plan_calendar (day, working, note, set_by) VALUES (p_day, p_working, v_note, actor)
		ON CONFLICT (day) DO UPDATE SET working = EXCLUDED.working, note = EXCLUDED.note, set_by = actor,
			set_at = now();
	END IF;
	INSERT INTO plan_log (what, old, new, changed_by)
	VALUES ('calendar ' || p_day, old,
		CASE WHEN p_working IS NULL THEN 'weekday rule' ELSE CASE WHEN p_working THEN 'working' ELSE 'off' END
			|| ': ' || v_note END, actor);
END
$$;

CREATE FUNCTION ml_plan_weekday_set(p_isodow int, p_working boolean) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('plan.edit');
	old boolean;
BEGIN
	SELECT working INTO old FROM plan_weekday WHERE isodow = p_isodow FOR UPDATE;
	IF NOT FOUND OR p_working IS NULL THEN
		RAISE EXCEPTION 'weekday % is not 1 (Monday) .. 7 (Sunday), or working is not yes/no',
			coalesce(p_isodow::text, 'NULL') USING ERRCODE = '22023';
	END IF;
	UPDATE plan_weekday SET working = p_working WHERE isodow = p_isodow;
	INSERT INTO plan_log (what, old, new, changed_by)
	VALUES ('weekday ' || p_isodow, old::text, p_working::text, actor);
END
$$;

-- The calendar from p_from to p_to: every day, working or not, and why.
CREATE FUNCTION ml_plan_calendar(p_from date, p_to date)
	RETURNS TABLE (day date, weekday int, working boolean, why text)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT d::date, extract(isodow FROM d)::int, coalesce(c.working, w.working),
	       coalesce(c.note, CASE WHEN w.working THEN 'working week' ELSE 'weekend' END)
	FROM generate_series(p_from, p_to, interval '1 day') d
	LEFT JOIN plan_calendar c ON c.day = d::date
	JOIN plan_weekday w ON w.isodow = extract(isodow FROM d)::int
	ORDER BY 1
$$;

-- Save a computed plan (plan.edit): its runs, each on a working day of the
-- range, a bench, a lot and model by code. Returns the snapshot id.
CREATE FUNCTION ml_plan_save(p_from date, p_to date, p_days date[], p_benches text[], p_lots text[],
			     p_models text[], p_assets int[], p_demands bigint[]) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('plan.edit');
	n int := coalesce(cardinality(p_days), 0);
	sid bigint;
	bad record;
BEGIN
	IF p_from IS NULL OR p_to IS NULL OR p_to < p_from OR p_to - p_from > 366 THEN
		RAISE EXCEPTION 'a plan from % to %: 1 to 366 days', p_from, p_to USING ERRCODE = '22023';
	END IF;
	IF coalesce(cardinality(p_benches), 0) <> n OR coalesce(cardinality(p_lots), 0) <> n
	   OR coalesce(cardinality(p_models), 0) <> n OR coalesce(cardinality(p_assets), 0) <> n
	   OR coalesce(cardinality(p_demands), 0) <> n THEN
		RAISE EXCEPTION 'the runs'' arrays do not have one entry per run (% runs)', n USING ERRCODE = '22023';
	END IF;
	SELECT x.i, x.d, x.b, x.l, x.m, x.a INTO bad
	FROM unnest(p_days, p_benches, p_lots, p_models, p_assets) WITH ORDINALITY x(d, b, l, m, a, i)
	WHERE x.d IS NULL OR x.d < p_from OR x.d > p_to OR NOT ml_plan_working(x.d)
	   OR NOT EXISTS (SELECT 1 FROM lab_bench WHERE code = x.b) OR NOT EXISTS (SELECT 1 FROM lot WHERE code = x.l)
	   OR NOT EXISTS (SELECT 1 FROM device_model WHERE code = x.m) OR x.a IS NULL OR x.a < 1
	ORDER BY x.i LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % (% % lot % model % x %) is not on a working day of the plan, or names nothing known',
			bad.i, bad.d, bad.b, bad.l, bad.m, bad.a USING ERRCODE = '22023';
	END IF;
	INSERT INTO plan_snapshot (from_day, to_day, saved_by) VALUES (p_from, p_to, actor) RETURNING snapshot_id INTO sid;
	INSERT INTO plan_snapshot_run (snapshot_id, seq, day, bench_id, lot_id, model_id, assets, demand_id)
	SELECT sid, x.i, x.d, b.bench_id, l.lot_id, m.model_id, x.a, nullif(x.dm, 0)
	FROM unnest(p_days, p_benches, p_lots, p_models, p_assets, p_demands) WITH ORDINALITY x(d, b, l, m, a, dm, i)
	JOIN lab_bench b ON b.code = x.b JOIN lot l ON l.code = x.l JOIN device_model m ON m.code = x.m;
	INSERT INTO plan_log (what, new, changed_by) VALUES ('plan saved', sid || ': ' || p_from || '..' || p_to || ', '
		|| n || ' runs', actor);
	RETURN sid;
END
$$;

-- Plan against actual per working day and bench of a saved plan.
CREATE FUNCTION ml_plan_actual(p_snapshot bigint)
	RETURNS TABLE (day date, bench text, planned_runs bigint, planned_assets bigint, actual_runs bigint,
		       actual_assets bigint, actual_passed bigint)
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
	s plan_snapshot;
BEGIN
	SELECT * INTO s FROM plan_snapshot WHERE snapshot_id = p_snapshot;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no saved plan %', coalesce(p_snapshot::text, 'NULL') USING ERRCODE = 'P0002';
	END IF;
	RETURN QUERY
	WITH pl AS (
		SELECT r.day AS d, r.bench_id, count(*) AS runs, sum(r.assets)::bigint AS assets
		FROM plan_snapshot_run r WHERE r.snapshot_id = p_snapshot GROUP BY r.day, r.bench_id),
	ac AS (
		SELECT v.run_date AS d, v.bench_id, count(*) AS runs,
		       sum((SELECT count(*) FROM run_position rp WHERE rp.run_id = v.run_id))::bigint AS assets,
		       sum((SELECT count(*) FROM run_conclusion rc WHERE rc.run_id = v.run_id AND rc.item = 'overall'
			    AND rc.verdict = 'pass'))::bigint AS passed
		FROM verification_run v
		WHERE v.status = 'finished' AND v.run_date BETWEEN s.from_day AND s.to_day
		GROUP BY v.run_date, v.bench_id)
	SELECT coalesce(pl.d, ac.d), b.code, coalesce(pl.runs, 0), coalesce(pl.assets, 0), coalesce(ac.runs, 0),
	       coalesce(ac.assets, 0), coalesce(ac.passed, 0)
	FROM pl FULL JOIN ac ON ac.d = pl.d AND ac.bench_id = pl.bench_id
	JOIN lab_bench b ON b.bench_id = coalesce(pl.bench_id, ac.bench_id)
	ORDER BY 1, 2;
END
$$;

-- Per lot of a saved plan: the day its last run was planned, the day it was
-- released (nothing of it left waiting; the day of its last finished run),
-- and whether that was on time.
CREATE FUNCTION ml_plan_lot_release(p_snapshot bigint)
	RETURNS TABLE (lot text, planned_on date, released_on date, status text)
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM plan_snapshot WHERE snapshot_id = p_snapshot) THEN
		RAISE EXCEPTION 'no saved plan %', coalesce(p_snapshot::text, 'NULL') USING ERRCODE = 'P0002';
	END IF;
	RETURN QUERY
	SELECT l.code, x.planned, x.released,
	       CASE WHEN x.released IS NULL THEN CASE WHEN x.planned < current_date THEN 'late, not released'
						       ELSE 'not yet' END
		    WHEN x.released <= x.planned THEN 'on time' ELSE 'late' END
	FROM (SELECT r.lot_id, max(r.day) AS planned,
		     CASE WHEN NOT EXISTS (SELECT 1 FROM asset a WHERE a.lot_id = r.lot_id
					   AND a.state IN ('arrived', 'sampling', 'verifying', 'reverify'))
			  THEN (SELECT max(v.run_date) FROM verification_run v
				WHERE v.status = 'finished' AND EXISTS (
					SELECT 1 FROM run_position rp JOIN asset a ON a.asset_id = rp.asset_id
					WHERE rp.run_id = v.run_id AND a.lot_id = r.lot_id)) END AS released
	      FROM plan_snapshot_run r WHERE r.snapshot_id = p_snapshot GROUP BY r.lot_id) x
	JOIN lot l ON l.lot_id = x.lot_id
	ORDER BY x.planned, l.code;
END
$$;

GRANT EXECUTE ON FUNCTION ml_plan_working(date), ml_plan_working_days(date, date),
	ml_plan_calendar_set(date, boolean, text), ml_plan_weekday_set(int, boolean), ml_plan_calendar(date, date),
	ml_plan_save(date, date, date[], text[], text[], text[], int[], bigint[]), ml_plan_actual(bigint),
	ml_plan_lot_release(bigint) TO meterlab_app;
