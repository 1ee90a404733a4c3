-- 0301: production planning (生产计划, issue 15): demand of the stores,
-- safety stock, and netting as State Grid's asset analytics define it
-- (domain.md §5.1: 合格品库存抵扣 = 合格在库库存 − 未配送库存 − 安全库存):
-- qualified stock available = qualified in stock − promised to open
-- distribution orders − safety stock; the demand it does not cover, in due
-- order, is verification work for the scheduler (plan/schedule.c).
-- Written only by SECURITY DEFINER functions that check ml_require and
-- record the person.

INSERT INTO app_permission (perm, description) VALUES
	('plan.demand', 'record, import and cancel the demand of stores'),
	('plan.edit', 'set safety stock and the planning settings');
INSERT INTO app_role_permission (role, perm) VALUES
	('manager', 'plan.demand'), ('admin', 'plan.demand'), ('warehouse_clerk', 'plan.demand'),
	('manager', 'plan.edit'), ('admin', 'plan.edit');

CREATE TABLE plan_demand (
	demand_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	store_id bigint NOT NULL REFERENCES location (location_id),
	model_id bigint NOT NULL REFERENCES device_model (model_id),
	quantity int NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
	due_on date NOT NULL,
	ref text CHECK (ref IS NULL OR ml_text_ok(ref, 64)),
	status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cancelled')),
	created_by bigint NOT NULL REFERENCES app_user (user_id),
	created_at timestamptz NOT NULL DEFAULT now(),
	cancelled_by bigint REFERENCES app_user (user_id),
	cancel_reason text,
	CHECK ((status = 'cancelled') = (cancelled_by IS NOT NULL))
);
CREATE INDEX plan_demand_open ON plan_demand (model_id, due_on, demand_id) WHERE status = 'open';

CREATE TABLE plan_safety_stock (
	store_id bigint NOT NULL REFERENCES location (location_id),
	model_id bigint NOT NULL REFERENCES device_model (model_id),
	quantity int NOT NULL CHECK (quantity BETWEEN 0 AND 1000000),
	updated_by bigint NOT NULL REFERENCES app_user (user_id),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (store_id, model_id)
);

-- Planning settings: whole numbers in a range (the bench day, the time to
-- mount and unmount a run), changed by plan.edit with a log.
CREATE TABLE plan_setting (
	key text PRIMARY KEY,
	value int NOT NULL,
	min_v int NOT NULL,
	max_v int NOT NULL,
	description text NOT NULL,
	CHECK (value BETWEEN min_v AND max_v)
);
INSERT INTO plan_setting (key, value, min_v, max_v, description) VALUES
	('plan.bench_minutes_per_day', 450, 30, 1440, 'minutes a bench runs per working day'),
	('plan.run_overhead_minutes', 15, 0, 240, 'minutes to mount, connect and unmount one run'),
	('plan.default_run_minutes', 60, 1, 1440, 'planned duration of a run when no active scheme suits the model');
CREATE TABLE plan_log (
	log_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	what text NOT NULL,
	old text,
	new text,
	changed_by bigint NOT NULL REFERENCES app_user (user_id),
	changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER plan_log_append_only BEFORE UPDATE OR DELETE ON plan_log
	FOR EACH ROW EXECUTE FUNCTION watch_item_guard();

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON plan_demand, plan_safety_stock, plan_setting, plan_log
	FROM PUBLIC, meterlab_app;
GRANT SELECT ON plan_demand, plan_safety_stock, plan_setting, plan_log TO meterlab_app;

-- Record demand rows, all or nothing: one problem row per refused entry
-- (1-based index, the value, the reason) and nothing recorded then.
CREATE FUNCTION ml_plan_demand_add(p_stores text[], p_models text[], p_quantities text[], p_dues text[],
				   p_refs text[])
	RETURNS SETOF ml_field_problem
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('plan.demand');
	n int := coalesce(cardinality(p_stores), 0);
	bad int;
BEGIN
	IF n = 0 OR n > 100000 OR cardinality(p_models) <> n OR cardinality(p_quantities) <> n
	   OR cardinality(p_dues) <> n OR (p_refs IS NOT NULL AND cardinality(p_refs) <> n) THEN
		RAISE EXCEPTION 'demand: 1 to 100000 rows with a store, model, quantity and due date each'
			USING ERRCODE = '22023';
	END IF;
	CREATE TEMP TABLE IF NOT EXISTS plan_demand_in (idx int, store text, model text, qty text, due text, ref text,
							store_id bigint, model_id bigint, problem text, code text) ON COMMIT DROP;
	TRUNCATE plan_demand_in;
	INSERT INTO plan_demand_in (idx, store, model, qty, due, ref, store_id, model_id)
	SELECT i, p_stores[i], p_models[i], p_quantities[i], p_dues[i], nullif(p_refs[i], ''),
	       (SELECT l.location_id FROM location l WHERE l.code = p_stores[i]
		AND l.kind IN ('central_store', 'secondary_store')),
	       (SELECT m.model_id FROM device_model m WHERE m.code = p_models[i])
	FROM generate_series(1, n) i;
	UPDATE plan_demand_in SET (problem, code) = (SELECT x.m, x.c FROM (VALUES
		(CASE WHEN store_id IS NULL THEN format('store %s is not a central or secondary store', coalesce(store, 'NULL')) END, store),
		(CASE WHEN model_id IS NULL THEN format('model %s is not in the catalogue', coalesce(model, 'NULL')) END, model),
		(CASE WHEN qty IS NULL OR qty !~ '^[0-9]{1,7}$' OR qty::int NOT BETWEEN 1 AND 1000000
		      THEN format('quantity %s is not a whole number 1..1000000', coalesce(qty, 'NULL')) END, qty),
		(CASE WHEN NOT ml_date_ok(due) THEN format('due date %s is not a date YYYY-MM-DD', coalesce(due, 'NULL'))
		      WHEN due::date < current_date THEN format('due date %s is in the past', due) END, due),
		(CASE WHEN ref IS NOT NULL AND NOT ml_text_ok(ref, 64) THEN format('reference %s is not 1-64 clean characters',
		      quote_literal(left(ref, 70))) END, ref)) x(m, c) WHERE x.m IS NOT NULL LIMIT 1);
	SELECT count(*) INTO bad FROM plan_demand_in WHERE problem IS NOT NULL;
	IF bad > 0 THEN
		RETURN QUERY SELECT idx, code, problem FROM plan_demand_in WHERE problem IS NOT NULL ORDER BY idx;
		RETURN;
	END IF;
	INSERT INTO plan_demand (store_id, model_id, quantity, due_on, ref, created_by)
	SELECT store_id, model_id, qty::int, due::date, ref, actor FROM plan_demand_in ORDER BY idx;
	INSERT INTO plan_log (what, new, changed_by) VALUES ('demand', n || ' rows', actor);
END
$$;

CREATE FUNCTION ml_plan_demand_cancel(p_id bigint, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('plan.demand');
BEGIN
	p_reason := ml_clean_text('reason', p_reason, 500, true);
	UPDATE plan_demand SET status = 'cancelled', cancelled_by = actor, cancel_reason = p_reason
	WHERE demand_id = p_id AND status = 'open';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'demand % is not an open demand', p_id USING ERRCODE = 'P0002';
	END IF;
END
$$;

CREATE FUNCTION ml_plan_safety_set(p_store text, p_model text, p_quantity int) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('plan.edit');
	s bigint := (SELECT location_id FROM location WHERE code = p_store AND kind IN ('central_store', 'secondary_store'));
	m bigint := (SELECT model_id FROM device_model WHERE code = p_model);
	old int;
BEGIN
	IF s IS NULL THEN
		RAISE EXCEPTION 'store % is not a central or secondary store', coalesce(p_store, 'NULL') USING ERRCODE = 'P0002';
	END IF;
	IF m IS NULL THEN
		RAISE EXCEPTION 'model % is not in the catalogue', coalesce(p_model, 'NULL') USING ERRCODE = 'P0002';
	END IF;
	IF p_quantity IS NULL OR p_quantity NOT BETWEEN 0 AND 1000000 THEN
		RAISE EXCEPTION 'safety stock % is not in 0..1000000', coalesce(p_quantity::text, 'NULL') USING ERRCODE = '22023';
	END IF;
	SELECT quantity INTO old FROM plan_safety_stock WHERE store_id = s AND model_id = m;
	INSERT INTO plan_safety_stock (store_id, model_id, quantity, updated_by) VALUES (s, m, p_quantity, actor)
	ON CONFLICT (store_id, model_id) DO UPDATE SET quantity = EXCLUDED.quantity, updated_by = actor, updated_at = now();
	INSERT INTO plan_log (what, old, new, changed_by)
	VALUES ('safety ' || p_store || ' ' || p_model, old::text, p_quantity::text, actor);
END
$$;

CREATE FUNCTION ml_plan_setting_set(p_key text, p_value int) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('plan.edit');
	d plan_setting;
BEGIN
	SELECT * INTO d FROM plan_setting WHERE key = p_key FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown planning setting ''%''', left(p_key, 60) USING ERRCODE = 'P0002';
	END IF;
	IF p_value IS NULL OR p_value NOT BETWEEN d.min_v AND d.max_v THEN
		RAISE EXCEPTION 'setting %: % is not in % .. %', p_key, coalesce(p_value::text, 'NULL'), d.min_v, d.max_v
			USING ERRCODE = '22023';
	END IF;
	UPDATE plan_setting SET value = p_value WHERE key = p_key;
	INSERT INTO plan_log (what, old, new, changed_by) VALUES (p_key, d.value::text, p_value::text, actor);
END
$$;

-- Netting per model, for the open demand due up to p_to: qualified in stock
-- (in_stock and secondary_stock, from the maintained counts), promised to
-- open distribution orders (their lines, not yet dispatched), safety stock
-- over every store, available = max(0, stock − promised − safety), and the
-- shortfall the lab must verify.
CREATE FUNCTION ml_plan_netting(p_to date)
	RETURNS TABLE (model text, model_id bigint, demand bigint, qualified bigint, promised bigint, safety bigint,
		       available bigint, shortfall bigint)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	WITH d AS (SELECT pd.model_id, sum(pd.quantity)::bigint AS demand FROM plan_demand pd
		   WHERE pd.status = 'open' AND pd.due_on <= p_to GROUP BY pd.model_id),
	q AS (SELECT c.model_id, sum(c.n)::bigint AS n FROM asset_count_model c
	      WHERE c.state IN ('in_stock', 'secondary_stock') GROUP BY c.model_id),
	p AS (SELECT l.model_id, sum(l.quantity)::bigint AS n FROM dist_order o JOIN dist_order_line l ON l.order_id = o.order_id
	      WHERE o.status = 'open' GROUP BY l.model_id),
	s AS (SELECT ss.model_id, sum(ss.quantity)::bigint AS n FROM plan_safety_stock ss GROUP BY ss.model_id)
	SELECT m.code, d.model_id, d.demand, coalesce(q.n, 0), coalesce(p.n, 0), coalesce(s.n, 0),
	       greatest(0, coalesce(q.n, 0) - coalesce(p.n, 0) - coalesce(s.n, 0)),
	       greatest(0, d.demand - greatest(0, coalesce(q.n, 0) - coalesce(p.n, 0) - coalesce(s.n, 0)))
	FROM d JOIN device_model m ON m.model_id = d.model_id
	LEFT JOIN q ON q.model_id = d.model_id LEFT JOIN p ON p.model_id = d.model_id LEFT JOIN s ON s.model_id = d.model_id
	ORDER BY m.code
$$;

-- Each open demand due up to p_to with what the available stock covers (in
-- due order per model: the earliest due is served first) and what is left
-- to verify.
CREATE FUNCTION ml_plan_demand_work(p_to date)
	RETURNS TABLE (demand_id bigint, store text, model text, model_id bigint, model_kind text, quantity int,
		       due_on date, from_stock bigint, to_verify bigint)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT x.demand_id, x.store, x.model, x.model_id, x.kind, x.quantity, x.due_on,
	       least(x.quantity, greatest(0, x.available - (x.cum - x.quantity))),
	       x.quantity - least(x.quantity, greatest(0, x.available - (x.cum - x.quantity)))
	FROM (SELECT pd.demand_id, l.code AS store, m.code AS model, m.model_id, m.kind, pd.quantity, pd.due_on,
		     n.available,
		     sum(pd.quantity) OVER (PARTITION BY pd.model_id ORDER BY pd.due_on, pd.demand_id) AS cum
	      FROM plan_demand pd JOIN location l ON l.location_id = pd.store_id
	      JOIN device_model m ON m.model_id = pd.model_id
	      JOIN ml_plan_netting(p_to) n ON n.model_id = pd.model_id
	      WHERE pd.status = 'open' AND pd.due_on <= p_to) x
	ORDER BY x.due_on, x.demand_id
$$;

-- What can be verified: per lot and model, the assets arrived or sent for
-- re-verification, except lots held by an undecided arrival sample (0273:
-- lot_sampling.status 'sampling'). One index range per model and state
-- (asset_model_state_idx), never a scan of every asset.
CREATE FUNCTION ml_plan_verifiable()
	RETURNS TABLE (lot text, lot_id bigint, model text, model_id bigint, model_kind text, assets bigint)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT l.code, l.lot_id, m.code, m.model_id, m.kind, sum(x.n)::bigint
	FROM asset_count_model c JOIN device_model m ON m.model_id = c.model_id
	CROSS JOIN LATERAL (SELECT a.lot_id, count(*) AS n FROM asset a
			    WHERE a.model_id = c.model_id AND a.state = c.state GROUP BY a.lot_id) x
	JOIN lot l ON l.lot_id = x.lot_id
	WHERE c.state IN ('arrived', 'reverify') AND c.n > 0
	  AND NOT EXISTS (SELECT 1 FROM lot_sampling s WHERE s.lot_id = l.lot_id AND s.status = 'sampling')
	GROUP BY l.code, l.lot_id, m.code, m.model_id, m.kind
	ORDER BY l.lot_id, m.code
$$;

GRANT EXECUTE ON FUNCTION ml_plan_demand_add(text[], text[], text[], text[], text[]), ml_plan_demand_cancel(bigint, text),
	ml_plan_safety_set(text, text, int), ml_plan_setting_set(text, int), ml_plan_netting(date),
	ml_plan_demand_work(date), ml_plan_verifiable() TO meterlab_app;
