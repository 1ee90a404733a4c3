-- 0306: rotations as swap work orders (周期轮换工单, issue 15). The rotation
-- list of a month (ml_rotation_list, 0302) becomes one swap_order (0305) per
-- installed meter due or overdue, for the team that installed it, due the
-- day its verification validity ends (JJG 596-2012 period, domain.md
-- §1.12). An order is open until the field flow replaces that meter at that
-- point — `meterlab field swap` (ml_swap) or a removal followed by an
-- installation at the same point and element — when a trigger on
-- installation marks it done with the new installation and the installer;
-- or a person with swap.order cancels it with a reason. Overdue = open past
-- its due date, computed when listed.

-- Open the rotation orders of a month (first day of it), optionally for one
-- team; meters with an open order (e.g. a failed inspection's) are skipped.
-- Returns how many were opened.
CREATE FUNCTION ml_rotation_orders_open(p_month date, p_team text DEFAULT NULL) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('swap.order');
	m date := date_trunc('month', p_month)::date;
	n int;
BEGIN
	IF p_month IS NULL THEN
		RAISE EXCEPTION 'a rotation month is needed' USING ERRCODE = '22023';
	END IF;
	IF p_team IS NOT NULL AND NOT EXISTS (SELECT 1 FROM location WHERE code = p_team AND kind = 'field_team') THEN
		RAISE EXCEPTION 'unknown field team %', quote_literal(p_team) USING ERRCODE = 'P0002';
	END IF;
	INSERT INTO swap_order (kind, installation_id, point_id, asset_id, team_id, month, due_on, opened_by)
	SELECT 'rotation', i.installation_id, i.point_id, i.asset_id, i.team_id, m, a.valid_until, actor
	FROM installation i JOIN asset a ON a.asset_id = i.asset_id
	JOIN location t ON t.location_id = i.team_id
	WHERE i.removed_at IS NULL AND i.element = 'meter'
	  AND a.valid_until < (m + interval '1 month')::date
	  AND (p_team IS NULL OR t.code = p_team)
	ORDER BY i.installation_id
	ON CONFLICT (installation_id) WHERE status = 'open' DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

CREATE FUNCTION ml_swap_order_cancel(p_order bigint, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('swap.order');
	reason text := ml_clean_text('reason', p_reason, 500);
	o swap_order;
BEGIN
	SELECT * INTO o FROM swap_order WHERE order_id = p_order FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no swap order %', coalesce(p_order::text, 'NULL') USING ERRCODE = 'P0002';
	END IF;
	IF o.status <> 'open' THEN
		RAISE EXCEPTION 'swap order % is %: only an open order is cancelled', p_order, o.status
			USING ERRCODE = '55000';
	END IF;
	UPDATE swap_order SET status = 'cancelled', cancel_reason = reason, closed_by = actor, closed_at = now()
	WHERE order_id = p_order;
END
$$;

-- A meter installed at a point and element whose ordered meter is no
-- longer there completes the order (ml_swap removes, then installs: the
-- installation's insert sees the removal of the same statement).
CREATE FUNCTION swap_order_done() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = public, pg_temp AS $$
BEGIN
	UPDATE swap_order o SET status = 'done', done_installation_id = NEW.installation_id,
		closed_by = NEW.installed_by, closed_at = now()
	FROM installation prev
	WHERE o.status = 'open' AND o.point_id = NEW.point_id AND prev.installation_id = o.installation_id
	  AND prev.element = NEW.element AND prev.removed_at IS NOT NULL
	  AND prev.installation_id <> NEW.installation_id;
	RETURN NULL;
END
$$;
CREATE TRIGGER swap_order_done AFTER INSERT ON installation FOR EACH ROW EXECUTE FUNCTION swap_order_done();
CREATE INDEX swap_order_point_open ON swap_order (point_id) WHERE status = 'open';

-- Swap orders with their state: p_status open | done | cancelled | overdue
-- (open past due) | all; team code and month (first day) filters optional.
CREATE FUNCTION ml_swap_orders(p_status text, p_team text DEFAULT NULL, p_month date DEFAULT NULL)
	RETURNS TABLE (id bigint, kind text, status text, overdue boolean, team text, point text, barcode text,
		       due_on date, month text, inspection bigint, opened_at timestamptz, closed_at timestamptz,
		       replaced_by text, note text)
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
	IF coalesce(p_status, 'open') NOT IN ('open', 'done', 'cancelled', 'overdue', 'all') THEN
		RAISE EXCEPTION 'swap order status % is not open, done, cancelled, overdue or all', quote_literal(p_status)
			USING ERRCODE = '22023';
	END IF;
	RETURN QUERY
	SELECT o.order_id, o.kind, o.status, o.status = 'open' AND o.due_on < current_date, t.code, p.code,
	       a.barcode::text, o.due_on, to_char(o.month, 'YYYY-MM'), o.inspection_id, o.opened_at, o.closed_at,
	       (SELECT na.barcode::text FROM installation ni JOIN asset na ON na.asset_id = ni.asset_id
		WHERE ni.installation_id = o.done_installation_id),
	       o.cancel_reason
	FROM swap_order o JOIN location t ON t.location_id = o.team_id
	JOIN metering_point p ON p.point_id = o.point_id
	JOIN asset a ON a.asset_id = o.asset_id
	WHERE CASE coalesce(p_status, 'open') WHEN 'all' THEN true
		WHEN 'overdue' THEN o.status = 'open' AND o.due_on < current_date
		ELSE o.status = coalesce(p_status, 'open') END
	  AND (p_team IS NULL OR t.code = p_team)
	  AND (p_month IS NULL OR o.month = date_trunc('month', p_month)::date
	       OR (o.month IS NULL AND date_trunc('month', o.due_on) = date_trunc('month', p_month)))
	ORDER BY t.code, o.due_on, o.order_id;
END
$$;

GRANT EXECUTE ON FUNCTION ml_rotation_orders_open(date, text), ml_swap_order_cancel(bigint, text),
	ml_swap_orders(text, text, date) TO meterlab_app;
