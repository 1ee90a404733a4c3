-- 0201: distribution orders (配送) between stores (issue 11, i11w).
--
-- open (picking) -> dispatched (the picked assets are in_transit on the
-- order) -> closed (every dispatched asset received, or reported missing:
-- then it is 'lost' with who reported it and why). An open order may be
-- cancelled (its planned and picked assets are released). An asset is on at
-- most one open order (partial unique index): of two clerks picking the same
-- asset at once exactly one wins, the other is refused naming the barcode.

CREATE TABLE dist_order (
	order_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	from_id bigint NOT NULL REFERENCES location (location_id),
	to_id bigint NOT NULL REFERENCES location (location_id),
	status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dispatched', 'closed', 'cancelled')),
	note text,
	created_by bigint NOT NULL REFERENCES app_user (user_id),
	created_at timestamptz NOT NULL DEFAULT now(),
	dispatched_by bigint REFERENCES app_user (user_id),
	dispatched_at timestamptz,
	closed_by bigint REFERENCES app_user (user_id),
	closed_at timestamptz,
	close_reason text,
	CHECK (from_id <> to_id)
);
CREATE INDEX dist_order_status ON dist_order (status, order_id);

-- What the order asks for: a model and a quantity. by_barcode: the line was
-- given as barcodes, which are planned items of the order from its creation.
CREATE TABLE dist_order_line (
	order_id bigint NOT NULL REFERENCES dist_order (order_id),
	line_no integer NOT NULL,
	model_id bigint NOT NULL REFERENCES device_model (model_id),
	quantity integer NOT NULL CHECK (quantity > 0),
	by_barcode boolean NOT NULL DEFAULT false,
	PRIMARY KEY (order_id, line_no)
);

CREATE TABLE dist_order_item (
	order_id bigint NOT NULL REFERENCES dist_order (order_id),
	asset_id bigint NOT NULL REFERENCES asset (asset_id),
	line_no integer NOT NULL,
	status text NOT NULL CHECK (status IN ('planned', 'picked', 'in_transit', 'received', 'missing', 'released')),
	open boolean GENERATED ALWAYS AS (status IN ('planned', 'picked', 'in_transit')) STORED,
	picked_by bigint,
	picked_at timestamptz,
	received_by bigint,
	received_at timestamptz,
	missing_by bigint,
	missing_reason text,
	PRIMARY KEY (order_id, asset_id),
	FOREIGN KEY (order_id, line_no) REFERENCES dist_order_line (order_id, line_no)
);
CREATE UNIQUE INDEX dist_order_item_one_open ON dist_order_item (asset_id) WHERE open;

CREATE FUNCTION ml_order_row(p_order bigint, p_lock boolean) RETURNS dist_order
	LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
	o dist_order;
BEGIN
	IF p_lock THEN
		SELECT * INTO o FROM dist_order WHERE order_id = p_order FOR UPDATE;
	ELSE
		SELECT * INTO o FROM dist_order WHERE order_id = p_order;
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'distribution order % does not exist', p_order USING ERRCODE = 'P0002';
	END IF;
	RETURN o;
END
$$;

-- Why an asset cannot leave p_from on an order now, or NULL.
CREATE FUNCTION ml_order_asset_problem(p_code text, p_asset asset, p_from bigint, p_from_code text, p_months bigint)
	RETURNS text LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT CASE
		WHEN NOT coalesce(ml_barcode_ok(p_code), false) THEN ml_barcode_problem(p_code)
		WHEN p_asset.asset_id IS NULL THEN format('asset %s is not registered', p_code)
		WHEN p_asset.state NOT IN ('in_stock', 'secondary_stock') OR p_asset.location_id IS DISTINCT FROM p_from THEN
			format('asset %s is not in store %s (it is ''%s'' at %s)', p_code, p_from_code, p_asset.state,
			       coalesce((SELECT l.code FROM location l WHERE l.location_id = p_asset.location_id), 'no location'))
		WHEN ml_issue_problem(p_asset.valid_until, p_asset.verified_at, p_months) IS NOT NULL THEN
			format('asset %s is not valid for issue: %s', p_code,
			       ml_issue_problem(p_asset.valid_until, p_asset.verified_at, p_months))
	END
$$;

-- Create an order: lines by model and quantity (parallel arrays), and/or by
-- barcodes (planned items, one line per model). Returns the order id.
-- Refused as a whole, naming the first bad model, barcode or store.
CREATE FUNCTION ml_order_create(p_from text, p_to text, p_models text[], p_quantities integer[],
				p_barcodes text[], p_note text DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.order');
	f location;
	t location;
	id bigint;
	bad record;
	months bigint := ml_setting_e4('stock.reverify_months');
	nm int := coalesce(cardinality(p_models), 0);
BEGIN
	SELECT * INTO f FROM location WHERE code = p_from;
	IF NOT FOUND OR f.kind NOT IN ('central_store', 'secondary_store') THEN
		RAISE EXCEPTION 'from-store ''%'' is not a store', p_from USING ERRCODE = '22023';
	END IF;
	SELECT * INTO t FROM location WHERE code = p_to;
	IF NOT FOUND OR t.kind NOT IN ('central_store', 'secondary_store') THEN
		RAISE EXCEPTION 'to-store ''%'' is not a store', p_to USING ERRCODE = '22023';
	END IF;
	IF f.location_id = t.location_id THEN
		RAISE EXCEPTION 'an order goes from one store to another, not from % to itself', p_from USING ERRCODE = '22023';
	END IF;
	IF nm <> coalesce(cardinality(p_quantities), 0) THEN
		RAISE EXCEPTION 'each model line needs a quantity (% models, % quantities)', nm,
			coalesce(cardinality(p_quantities), 0) USING ERRCODE = '22023';
	END IF;
	IF nm = 0 AND coalesce(cardinality(p_barcodes), 0) = 0 THEN
		RAISE EXCEPTION 'an order needs lines: models with quantities, or barcodes' USING ERRCODE = '22023';
	END IF;
	SELECT x.m, x.q INTO bad FROM unnest(p_models, p_quantities) x(m, q)
	WHERE x.q IS NULL OR x.q <= 0 OR x.q > 1000000 OR NOT EXISTS (SELECT 1 FROM device_model d WHERE d.code = x.m) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'order line % x %: %', coalesce(bad.m, 'NULL'), coalesce(bad.q::text, 'NULL'),
			CASE WHEN bad.q IS NULL OR bad.q <= 0 OR bad.q > 1000000 THEN 'quantity must be 1–1000000'
			     ELSE 'unknown model' END USING ERRCODE = '22023';
	END IF;
	SELECT m INTO bad FROM unnest(p_models) m GROUP BY m HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'model % has more than one line: give one line per model', bad.m USING ERRCODE = '22023';
	END IF;
	SELECT x.code, ml_order_asset_problem(x.code, a, f.location_id, f.code, months) AS problem,
	       (SELECT i.order_id FROM dist_order_item i WHERE i.asset_id = a.asset_id AND i.open) AS other,
	       count(*) OVER (PARTITION BY x.code) AS n
	INTO bad FROM unnest(p_barcodes) x(code) LEFT JOIN asset a ON ml_barcode_ok(x.code) AND a.barcode = x.code::bpchar
	ORDER BY (ml_order_asset_problem(x.code, a, f.location_id, f.code, months) IS NULL
		  AND NOT EXISTS (SELECT 1 FROM dist_order_item i WHERE i.asset_id = a.asset_id AND i.open)) LIMIT 1;
	IF FOUND AND (bad.problem IS NOT NULL OR bad.other IS NOT NULL OR bad.n > 1) THEN
		RAISE EXCEPTION '%; no order created', coalesce(bad.problem,
			CASE WHEN bad.other IS NOT NULL THEN format('asset %s is already on open distribution order %s', bad.code, bad.other)
			     ELSE format('asset %s is listed twice', bad.code) END) USING ERRCODE = '22023';
	END IF;

	INSERT INTO dist_order (from_id, to_id, note, created_by)
	VALUES (f.location_id, t.location_id, ml_clean_text('note', p_note, 500, false), actor) RETURNING order_id INTO id;
	INSERT INTO dist_order_line (order_id, line_no, model_id, quantity)
	SELECT id, x.i, d.model_id, x.q FROM unnest(p_models, p_quantities) WITH ORDINALITY x(m, q, i)
	JOIN device_model d ON d.code = x.m;
	INSERT INTO dist_order_line (order_id, line_no, model_id, quantity, by_barcode)
	SELECT id, nm + row_number() OVER (ORDER BY a.model_id), a.model_id, count(*), true
	FROM unnest(p_barcodes) x(code) JOIN asset a ON a.barcode = x.code::bpchar GROUP BY a.model_id;
	BEGIN
		INSERT INTO dist_order_item (order_id, asset_id, line_no, status)
		SELECT id, a.asset_id, l.line_no, 'planned'
		FROM unnest(p_barcodes) x(code) JOIN asset a ON a.barcode = x.code::bpchar
		JOIN dist_order_line l ON l.order_id = id AND l.by_barcode AND l.model_id = a.model_id;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'an asset of the list was put on another order at the same time; no order created'
			USING ERRCODE = '40001';
	END;
	RETURN id;
END
$$;

-- Pick by scanning barcodes against the lines of an open order, all or
-- nothing: every refusal is returned naming the barcode (wrong model,
-- over-picking, not in the from-store, not valid for issue, on another open
-- order, already picked). A pick that lost a race to another clerk raises
-- 40001 naming the barcode; nothing is picked then.
CREATE FUNCTION ml_order_pick(p_order bigint, p_barcodes text[]) RETURNS SETOF ml_scan_refusal
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.order');
	o dist_order := ml_order_row(p_order, true);
	fcode text := (SELECT code FROM location WHERE location_id = o.from_id);
	months bigint := ml_setting_e4('stock.reverify_months');
	refusals ml_scan_refusal[];
	want int;
	got int;
	lost text;
BEGIN
	IF o.status <> 'open' THEN
		RAISE EXCEPTION 'distribution order % is %: only an open order is picked', p_order, o.status USING ERRCODE = '55000';
	END IF;
	IF coalesce(cardinality(p_barcodes), 0) = 0 THEN
		RAISE EXCEPTION 'nothing scanned' USING ERRCODE = '22023';
	END IF;
	CREATE TEMP TABLE IF NOT EXISTS pick_scan (idx int, code text, asset_id bigint, model_id bigint, first_idx int,
		problem text, mine text, other bigint, line_no int, planned boolean, rnk bigint, room bigint,
		sqlstate text) ON COMMIT DROP;
	TRUNCATE pick_scan;
	INSERT INTO pick_scan (idx, code, asset_id, model_id, first_idx, problem, mine, other)
	SELECT x.i, x.code, a.asset_id, a.model_id, min(x.i) OVER (PARTITION BY x.code),
	       ml_order_asset_problem(x.code, a, o.from_id, fcode, months), mi.status, oi.order_id
	FROM unnest(p_barcodes) WITH ORDINALITY x(code, i)
	LEFT JOIN asset a ON ml_barcode_ok(x.code) AND a.barcode = x.code::bpchar
	LEFT JOIN dist_order_item mi ON mi.order_id = p_order AND mi.asset_id = a.asset_id AND mi.open
	LEFT JOIN dist_order_item oi ON oi.order_id <> p_order AND oi.asset_id = a.asset_id AND oi.open;
	-- the line: the planned item's, else the model line (not by barcode) of its model
	UPDATE pick_scan p SET line_no = coalesce(
		(SELECT i.line_no FROM dist_order_item i WHERE i.order_id = p_order AND i.asset_id = p.asset_id AND i.open),
		(SELECT l.line_no FROM dist_order_line l WHERE l.order_id = p_order AND l.model_id = p.model_id
		 AND NOT l.by_barcode)),
		planned = p.mine = 'planned';
	-- over-picking: rank the unplanned picks of a line against what is left of it
	UPDATE pick_scan p SET rnk = r.rnk, room = r.room
	FROM (SELECT s.idx, row_number() OVER (PARTITION BY s.line_no ORDER BY s.idx) AS rnk,
		     l.quantity - (SELECT count(*) FROM dist_order_item i WHERE i.order_id = p_order
				   AND i.line_no = l.line_no AND i.status = 'picked') AS room
	      FROM pick_scan s JOIN dist_order_line l ON l.order_id = p_order AND l.line_no = s.line_no
	      WHERE NOT coalesce(s.planned, false) AND s.mine IS NULL AND s.idx = s.first_idx
		AND s.problem IS NULL AND s.other IS NULL) r
	WHERE r.idx = p.idx;
	UPDATE pick_scan p SET problem = CASE
		WHEN p.problem IS NOT NULL AND p.asset_id IS NULL THEN p.problem
		WHEN p.idx <> p.first_idx THEN format('asset %s is scanned twice (scans %s and %s)', p.code, p.first_idx, p.idx)
		WHEN p.mine = 'picked' THEN format('asset %s is already picked on order %s', p.code, p_order)
		WHEN p.other IS NOT NULL THEN format('asset %s is on another open distribution order (%s)', p.code, p.other)
		WHEN p.problem IS NOT NULL THEN p.problem
		WHEN p.line_no IS NULL THEN format('asset %s is model %s, which order %s does not ask for (wrong model)', p.code,
						   (SELECT d.code FROM device_model d WHERE d.model_id = p.model_id), p_order)
		WHEN p.rnk > p.room THEN format('asset %s would over-pick line %s of order %s (%s of model %s wanted, %s already picked)',
						p.code, p.line_no, p_order,
						(SELECT l.quantity FROM dist_order_line l WHERE l.order_id = p_order AND l.line_no = p.line_no),
						(SELECT d.code FROM device_model d WHERE d.model_id = p.model_id),
						(SELECT l.quantity FROM dist_order_line l WHERE l.order_id = p_order AND l.line_no = p.line_no)
						- p.room)
		END,
		sqlstate = CASE WHEN p.asset_id IS NULL AND coalesce(ml_barcode_ok(p.code), false) THEN 'P0002'
				WHEN p.asset_id IS NULL THEN '22023' ELSE '55000' END;
	SELECT array_agg(ROW(p.idx, p.code, p.sqlstate, p.problem)::ml_scan_refusal ORDER BY p.idx) INTO refusals
	FROM pick_scan p WHERE p.problem IS NOT NULL;
	IF refusals IS NOT NULL THEN
		RETURN QUERY SELECT * FROM unnest(refusals);
		RETURN;
	END IF;
	UPDATE dist_order_item i SET status = 'picked', picked_by = actor, picked_at = now()
	FROM pick_scan p WHERE p.planned AND i.order_id = p_order AND i.asset_id = p.asset_id AND i.status = 'planned';
	SELECT count(*) INTO want FROM pick_scan p WHERE NOT coalesce(p.planned, false);
	-- a concurrent pick of the same asset on another order waits on the index
	-- here until that one commits, then this row is skipped: exactly one wins
	WITH ins AS (
		INSERT INTO dist_order_item (order_id, asset_id, line_no, status, picked_by, picked_at)
		SELECT p_order, p.asset_id, p.line_no, 'picked', actor, now() FROM pick_scan p
		WHERE NOT coalesce(p.planned, false) ORDER BY p.asset_id
		ON CONFLICT (asset_id) WHERE open DO NOTHING
		RETURNING asset_id)
	SELECT count(*), (SELECT p.code FROM pick_scan p WHERE NOT coalesce(p.planned, false)
			  AND p.asset_id NOT IN (SELECT asset_id FROM ins) ORDER BY p.idx LIMIT 1)
	INTO got, lost FROM ins;
	IF got <> want THEN
		RAISE EXCEPTION 'asset % was just picked by someone else (on another order); nothing picked', lost
			USING ERRCODE = '40001';
	END IF;
	RETURN;
END
$$;

-- Dispatch an open order: every picked asset goes in_transit on it (state
-- in_transit, event 'dispatch' naming the order; its slot is dropped).
-- Refused when nothing is picked or a planned barcode is not picked yet
-- (pick it, or cancel the order), naming it. Lines picked short are allowed:
-- the order's lines show picked against wanted. Returns the number dispatched.
CREATE FUNCTION ml_order_dispatch(p_order bigint) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.order');
	o dist_order := ml_order_row(p_order, true);
	fcode text := (SELECT code FROM location WHERE location_id = o.from_id);
	months bigint := ml_setting_e4('stock.reverify_months');
	bad record;
	changes ml_asset_change[];
	n bigint;
BEGIN
	IF o.status <> 'open' THEN
		RAISE EXCEPTION 'distribution order % is %: only an open order is dispatched', p_order, o.status
			USING ERRCODE = '55000';
	END IF;
	SELECT a.barcode INTO bad FROM dist_order_item i JOIN asset a USING (asset_id)
	WHERE i.order_id = p_order AND i.status = 'planned' ORDER BY a.barcode LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'asset % is planned on order % but not picked: pick it (or cancel the order)', bad.barcode, p_order
			USING ERRCODE = '55000';
	END IF;
	SELECT a.barcode, ml_order_asset_problem(a.barcode, a, o.from_id, fcode, months) AS problem INTO bad
	FROM dist_order_item i JOIN asset a USING (asset_id)
	WHERE i.order_id = p_order AND i.status = 'picked'
	  AND ml_order_asset_problem(a.barcode, a, o.from_id, fcode, months) IS NOT NULL LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'order % cannot be dispatched: %', p_order, bad.problem USING ERRCODE = '55000';
	END IF;
	SELECT array_agg(ROW(a.asset_id, a.state, 'in_transit', 'dispatch', NULL, false, NULL, NULL,
			     jsonb_build_object('order', p_order))::ml_asset_change ORDER BY a.asset_id)
	INTO changes FROM dist_order_item i JOIN asset a USING (asset_id) WHERE i.order_id = p_order AND i.status = 'picked';
	IF changes IS NULL THEN
		RAISE EXCEPTION 'distribution order % has nothing picked' , p_order USING ERRCODE = '55000';
	END IF;
	n := ml_asset_apply(actor, changes);
	UPDATE dist_order_item SET status = 'in_transit' WHERE order_id = p_order AND status = 'picked';
	UPDATE dist_order SET status = 'dispatched', dispatched_by = actor, dispatched_at = now() WHERE order_id = p_order;
	RETURN n;
END
$$;

-- Receive at the destination by scanning. Every scan gets an outcome:
-- received (now stock of the destination), already_received, duplicate
-- (scanned twice in this list), missing_reported, extra (a registered asset
-- not on this order), wrong (not a registered asset, or in transit on
-- another order). Received assets are applied in one transaction; the others
-- are reported and change nothing. What is still missing is what remains
-- in_transit on the order (stores/order.h: order_show).
CREATE TYPE ml_receive_outcome AS (idx integer, code text, outcome text, msg text);
CREATE FUNCTION ml_order_receive(p_order bigint, p_barcodes text[]) RETURNS SETOF ml_receive_outcome
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.order');
	o dist_order := ml_order_row(p_order, true);
	t location := (SELECT l FROM location l WHERE l.location_id = o.to_id);
	res ml_receive_outcome[];
	changes ml_asset_change[];
BEGIN
	IF o.status <> 'dispatched' THEN
		RAISE EXCEPTION 'distribution order % is %: only a dispatched order is received', p_order, o.status
			USING ERRCODE = '55000';
	END IF;
	WITH c AS (SELECT x.code, x.i::int AS idx, min(x.i) OVER (PARTITION BY x.code)::int AS first_idx
		   FROM unnest(p_barcodes) WITH ORDINALITY x(code, i)),
	p AS (SELECT c.*, a.asset_id, a.state, mi.status AS mine,
		     (SELECT i.order_id FROM dist_order_item i WHERE i.asset_id = a.asset_id AND i.open
		      AND i.order_id <> p_order) AS other
	      FROM c LEFT JOIN asset a ON ml_barcode_ok(c.code) AND a.barcode = c.code::bpchar
	      LEFT JOIN dist_order_item mi ON mi.order_id = p_order AND mi.asset_id = a.asset_id),
	q AS (SELECT p.*, CASE
		WHEN p.idx <> p.first_idx THEN 'duplicate'
		WHEN p.asset_id IS NULL THEN 'wrong'
		WHEN p.mine = 'in_transit' THEN 'received'
		WHEN p.mine = 'received' THEN 'already_received'
		WHEN p.mine = 'missing' THEN 'missing_reported'
		WHEN p.other IS NOT NULL THEN 'wrong'
		ELSE 'extra' END AS outcome FROM p)
	SELECT array_agg(ROW(q.idx, q.code, q.outcome, CASE q.outcome
			WHEN 'duplicate' THEN format('asset %s scanned again (first scan %s)', q.code, q.first_idx)
			WHEN 'wrong' THEN CASE WHEN q.asset_id IS NULL
				THEN coalesce(ml_barcode_problem(q.code), format('asset %s is not registered', q.code))
				ELSE format('asset %s belongs to distribution order %s, not %s', q.code, q.other, p_order) END
			WHEN 'received' THEN format('asset %s received', q.code)
			WHEN 'already_received' THEN format('asset %s was already received on order %s', q.code, p_order)
			WHEN 'missing_reported' THEN format('asset %s was reported missing on order %s: it is recorded lost (a stock count finds it)',
							   q.code, p_order)
			ELSE format('asset %s is not on order %s (extra)', q.code, p_order) END)::ml_receive_outcome ORDER BY q.idx),
	       array_agg(ROW(q.asset_id, 'in_transit',
			     CASE WHEN t.kind = 'central_store' THEN 'in_stock' ELSE 'secondary_stock' END,
			     CASE WHEN t.kind = 'central_store' THEN 'receive_central' ELSE 'receive_secondary' END,
			     t.location_id, false, NULL, NULL, jsonb_build_object('order', p_order))::ml_asset_change
			 ORDER BY q.asset_id) FILTER (WHERE q.outcome = 'received')
	INTO res, changes FROM q;
	IF changes IS NOT NULL THEN
		PERFORM ml_asset_apply(actor, changes);
		UPDATE dist_order_item i SET status = 'received', received_by = actor, received_at = now()
		FROM unnest(changes) c WHERE i.order_id = p_order AND i.asset_id = c.asset_id;
	END IF;
	RETURN QUERY SELECT * FROM unnest(res);
END
$$;

-- Close a dispatched order. Every asset still in transit on it must be
-- listed in p_missing (reported missing, with p_reason): each becomes
-- 'lost' (event 'lose' by the reporting person, naming the order). Refused,
-- naming an asset, when one in transit is not listed or a listed one is not
-- in transit on this order.
CREATE FUNCTION ml_order_close(p_order bigint, p_missing text[], p_reason text DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.order');
	o dist_order := ml_order_row(p_order, true);
	bad record;
	changes ml_asset_change[];
	n_open bigint;
BEGIN
	IF o.status <> 'dispatched' THEN
		RAISE EXCEPTION 'distribution order % is %: only a dispatched order is closed', p_order, o.status
			USING ERRCODE = '55000';
	END IF;
	SELECT x.code INTO bad FROM unnest(p_missing) x(code)
	WHERE NOT EXISTS (SELECT 1 FROM dist_order_item i JOIN asset a USING (asset_id)
			  WHERE i.order_id = p_order AND i.status = 'in_transit' AND a.barcode = x.code::bpchar
			  AND ml_barcode_ok(x.code)) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'asset % is not in transit on order %: only what was dispatched and not received is reported missing',
			bad.code, p_order USING ERRCODE = '22023';
	END IF;
	SELECT count(*) INTO n_open FROM dist_order_item i WHERE i.order_id = p_order AND i.status = 'in_transit';
	SELECT a.barcode INTO bad FROM dist_order_item i JOIN asset a USING (asset_id)
	WHERE i.order_id = p_order AND i.status = 'in_transit' AND a.barcode::text <> ALL (coalesce(p_missing, '{}'))
	ORDER BY a.barcode LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'order % cannot close: asset % was dispatched but neither received nor reported missing (% still in transit)',
			p_order, bad.barcode, n_open USING ERRCODE = '55000';
	END IF;
	IF n_open > 0 THEN
		p_reason := ml_clean_text('reason (why the assets are missing)', p_reason, 500, true);
	ELSE
		p_reason := ml_clean_text('reason', p_reason, 500, false);
	END IF;
	SELECT array_agg(ROW(a.asset_id, 'in_transit', 'lost', 'lose', NULL, false, NULL,
			     'lost in transit on distribution order ' || p_order || ': ' || p_reason,
			     jsonb_build_object('order', p_order))::ml_asset_change ORDER BY a.asset_id)
	INTO changes FROM dist_order_item i JOIN asset a USING (asset_id) WHERE i.order_id = p_order AND i.status = 'in_transit';
	PERFORM ml_asset_apply(actor, changes);
	UPDATE dist_order_item SET status = 'missing', missing_by = actor, missing_reason = p_reason
	WHERE order_id = p_order AND status = 'in_transit';
	UPDATE dist_order SET status = 'closed', closed_by = actor, closed_at = now(), close_reason = p_reason
	WHERE order_id = p_order;
	RETURN n_open;
END
$$;

-- Cancel an open order (nothing dispatched yet): its items are released.
CREATE FUNCTION ml_order_cancel(p_order bigint, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.order');
	o dist_order := ml_order_row(p_order, true);
BEGIN
	IF o.status <> 'open' THEN
		RAISE EXCEPTION 'distribution order % is %: only an open order is cancelled', p_order, o.status
			USING ERRCODE = '55000';
	END IF;
	p_reason := ml_clean_text('reason', p_reason, 500, true);
	UPDATE dist_order_item SET status = 'released' WHERE order_id = p_order AND open;
	UPDATE dist_order SET status = 'cancelled', closed_by = actor, closed_at = now(), close_reason = p_reason
	WHERE order_id = p_order;
END
$$;

-- The place of an asset knows orders now.
CREATE OR REPLACE FUNCTION ml_asset_place(p_asset_id bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT CASE
		WHEN s.barcode IS NOT NULL THEN 'slot ' || s.barcode || ' of store ' || l.code
		WHEN a.state IN ('in_stock', 'secondary_stock') THEN 'store ' || l.code || ' (not put away)'
		WHEN o.order_id IS NOT NULL THEN format('in transit on distribution order %s from %s to %s', o.order_id,
			(SELECT code FROM location WHERE location_id = o.from_id), (SELECT code FROM location WHERE location_id = o.to_id))
		WHEN a.state = 'lost' THEN 'lost (last at ' || coalesce(l.code, 'no location') || ')'
		ELSE coalesce(l.kind || ' ' || l.code, 'no location') END
	FROM asset a LEFT JOIN location l ON l.location_id = a.location_id
	LEFT JOIN asset_slot x ON x.asset_id = a.asset_id LEFT JOIN store_slot s ON s.slot_id = x.slot_id
	LEFT JOIN dist_order_item i ON i.asset_id = a.asset_id AND i.status = 'in_transit'
	LEFT JOIN dist_order o ON o.order_id = i.order_id
	WHERE a.asset_id = p_asset_id
$$;

REVOKE ALL ON store_slot, asset_slot, dist_order, dist_order_line, dist_order_item FROM PUBLIC;
GRANT SELECT ON store_slot, asset_slot, dist_order, dist_order_line, dist_order_item TO meterlab_app;
GRANT EXECUTE ON FUNCTION ml_asset_valid_for_issue(bigint), ml_slot_add(text, text, text, text, text),
	ml_stock_putaway(text[]), ml_asset_place(bigint), ml_stock_reverify_list(text),
	ml_stock_reverify_send(text[], text, text),
	ml_order_create(text, text, text[], integer[], text[], text), ml_order_pick(bigint, text[]),
	ml_order_dispatch(bigint), ml_order_receive(bigint, text[]), ml_order_close(bigint, text[], text),
	ml_order_cancel(bigint, text) TO meterlab_app;
