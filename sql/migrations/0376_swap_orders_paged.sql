-- 0376: the swap work order listing is paged (planning/monitoring listings
-- audit). ml_swap_orders (0306) returned every order of a state in one
-- result, ordered by team and due date, with no LIMIT: GET /api/plan/orders
-- could not be paged and a large service area answered one request with
-- everything. It now returns one keyset page ordered by the unique order_id
-- (as the other paged listings: seals by code, assets by asset_id): orders
-- after p_after (NULL: from the first), at most p_limit (1..10000). The
-- exact counts a page cannot give (how many match, how many of those are
-- overdue) come from ml_swap_orders_count, which also says whether orders
-- follow a page's last one, so the caller's "next" is null exactly on the
-- last page.
--
-- "Today" for overdue is China's business day: both functions pin the zone
-- (as 0365 did for the old listing).

DROP FUNCTION ml_swap_orders(text, text, date);

-- The arguments both take: status open | done | cancelled | overdue (open
-- past due) | all, named when not; a page of 1..10000, never unbounded (as
-- the seal and in-transit pages).
CREATE FUNCTION ml_swap_order_args_check(p_status text, p_limit int) RETURNS void
	LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF coalesce(p_status, 'open') NOT IN ('open', 'done', 'cancelled', 'overdue', 'all') THEN
		RAISE EXCEPTION 'swap order status % is not open, done, cancelled, overdue or all', quote_literal(p_status)
			USING ERRCODE = '22023';
	END IF;
	IF p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
		RAISE EXCEPTION 'limit % is not 1..10000', coalesce(p_limit::text, 'NULL') USING ERRCODE = '22023';
	END IF;
END
$$;

CREATE FUNCTION ml_swap_orders(p_status text, p_team text, p_month date, p_after bigint, p_limit int)
	RETURNS TABLE (id bigint, kind text, status text, overdue boolean, team text, point text, barcode text,
		       due_on date, month text, inspection bigint, opened_at timestamptz, closed_at timestamptz,
		       replaced_by text, note text)
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp SET TimeZone = 'Asia/Shanghai' AS $$
BEGIN
	PERFORM ml_swap_order_args_check(p_status, p_limit);
	-- keyset on the primary key: a page costs its rows, not the offset
	RETURN QUERY
	SELECT o.order_id, o.kind, o.status, o.status = 'open' AND o.due_on < current_date, t.code, p.code,
	       a.barcode::text, o.due_on, to_char(o.month, 'YYYY-MM'), o.inspection_id, o.opened_at, o.closed_at,
	       (SELECT na.barcode::text FROM installation ni JOIN asset na ON na.asset_id = ni.asset_id
		WHERE ni.installation_id = o.done_installation_id),
	       o.cancel_reason
	FROM swap_order o JOIN location t ON t.location_id = o.team_id
	JOIN metering_point p ON p.point_id = o.point_id
	JOIN asset a ON a.asset_id = o.asset_id
	WHERE (p_after IS NULL OR o.order_id > p_after)
	  AND CASE coalesce(p_status, 'open') WHEN 'all' THEN true
		WHEN 'overdue' THEN o.status = 'open' AND o.due_on < current_date
		ELSE o.status = coalesce(p_status, 'open') END
	  AND (p_team IS NULL OR t.code = p_team)
	  AND (p_month IS NULL OR o.month = date_trunc('month', p_month)::date
	       OR (o.month IS NULL AND date_trunc('month', o.due_on) = date_trunc('month', p_month)))
	ORDER BY o.order_id
	LIMIT p_limit;
END
$$;

-- How many orders match (total), how many of them are overdue, and whether
-- any matching order comes after p_last (a page's last id; NULL: none).
CREATE FUNCTION ml_swap_orders_count(p_status text, p_team text, p_month date, p_last bigint,
				     OUT total bigint, OUT overdue bigint, OUT more boolean)
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp SET TimeZone = 'Asia/Shanghai' AS $$
BEGIN
	PERFORM ml_swap_order_args_check(p_status, 1); -- no page here
	SELECT count(*), count(*) FILTER (WHERE o.status = 'open' AND o.due_on < current_date),
	       coalesce(bool_or(o.order_id > p_last), false)
	INTO total, overdue, more
	FROM swap_order o JOIN location t ON t.location_id = o.team_id
	-- the same filter as ml_swap_orders
	WHERE CASE coalesce(p_status, 'open') WHEN 'all' THEN true
		WHEN 'overdue' THEN o.status = 'open' AND o.due_on < current_date
		ELSE o.status = coalesce(p_status, 'open') END
	  AND (p_team IS NULL OR t.code = p_team)
	  AND (p_month IS NULL OR o.month = date_trunc('month', p_month)::date
	       OR (o.month IS NULL AND date_trunc('month', o.due_on) = date_trunc('month', p_month)));
END
$$;

GRANT EXECUTE ON FUNCTION ml_swap_order_args_check(text, int), ml_swap_orders(text, text, date, bigint, int),
	ml_swap_orders_count(text, text, date, bigint) TO meterlab_app;
