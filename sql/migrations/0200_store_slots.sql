-- 0200: the warehouse (issue 11, i11w): storage slots under a store, put-away
-- by scanning, the validity rule for issue and install, the re-verification
-- list and sending stock to the lab; the new lifecycle steps the warehouse
-- needs (stores/README.md, /work/coord/i11-places.md).
--
-- Every write is a SECURITY DEFINER function that checks ml_require(perm),
-- the state and the rules, and changes assets only through ml_asset_apply
-- (0110) with the actor id: people read these tables, functions write them.

-- ---- permissions (0100's one table) ----
INSERT INTO app_permission (perm, description) VALUES
	('store.slot', 'add storage slots under a store, put assets away and move them between slots'),
	('store.order', 'create, pick, dispatch, receive and close distribution orders'),
	('store.count', 'count a store or a slot by scanning'),
	('store.confirm', 'confirm the adjustments of a stock count (a second person)'),
	('store.reverify', 'send assets from stock to the lab for re-verification'),
	('asset.retire.request', 'request a return to the maker or a scrapping, with a reason');
INSERT INTO app_role_permission (role, perm) VALUES
	('warehouse_clerk', 'store.slot'), ('warehouse_clerk', 'store.order'), ('warehouse_clerk', 'store.count'),
	('warehouse_clerk', 'store.confirm'), ('warehouse_clerk', 'store.reverify'),
	('warehouse_clerk', 'asset.retire.request'),
	('manager', 'store.confirm'),
	('quality_analyst', 'asset.retire.request');

-- ---- lifecycle additions (assets/asset_state.c holds the same rows) ----
-- lost: recorded lost (in transit on a distribution order, or short in a
-- stock count) with who reported it; found again only by a count, then it
-- must be re-verified (nobody knows where it has been).
ALTER TABLE asset DROP CONSTRAINT asset_state_check;
ALTER TABLE asset ADD CONSTRAINT asset_state_check CHECK (state IN (
	'arrived', 'sampling', 'verifying', 'in_stock', 'failed', 'in_transit', 'secondary_stock',
	'issued', 'installed', 'removed', 'fault_analysis', 'reverify', 'returned_to_maker', 'scrapped', 'lost'));

ALTER TABLE asset_transition DISABLE TRIGGER asset_transition_fixed;
INSERT INTO asset_transition (from_state, action, to_state, to_secondary) VALUES
	-- stock re-verification (库存复检): to the lab, waiting for a run
	('in_stock', 'reverify_send', 'reverify', false),
	('secondary_stock', 'reverify_send', 'reverify', false),
	-- distribution orders between any two stores
	('secondary_stock', 'dispatch', 'in_transit', false),
	('in_transit', 'receive_central', 'in_stock', false),
	-- lost in transit, or short in a count; found again by a count
	('in_transit', 'lose', 'lost', false),
	('in_stock', 'lose', 'lost', false),
	('secondary_stock', 'lose', 'lost', false),
	('lost', 'find', 'reverify', false),
	-- a lot rejected on arrival sampling goes back whole (issue 14)
	('arrived', 'return_to_maker', 'returned_to_maker', false);
ALTER TABLE asset_transition ENABLE TRIGGER asset_transition_fixed;

-- ---- when an asset was verified ----
-- The stock-wait clock (State Grid practice: re-verify a meter that waited
-- more than stock.reverify_months in stock since its verification) starts
-- when a verification passes (verifying -> in_stock, run or manual record).
-- Assets verified before this migration take the time of their last
-- verify_pass event. NULL (never verified, or rows written by the DBA):
-- only valid_until judges them.
ALTER TABLE asset ADD COLUMN verified_at timestamptz;
CREATE FUNCTION asset_verified_at_set() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.verified_at := now();
	RETURN NEW;
END
$$;
CREATE TRIGGER asset_verified_at BEFORE UPDATE OF state ON asset
	FOR EACH ROW WHEN (OLD.state = 'verifying' AND NEW.state = 'in_stock')
	EXECUTE FUNCTION asset_verified_at_set();
UPDATE asset a SET verified_at = e.at
FROM (SELECT asset_id, max(occurred_at) AS at FROM asset_event WHERE action = 'verify_pass' GROUP BY asset_id) e
WHERE e.asset_id = a.asset_id;

-- The setting (lab/settings.c has the same row; [M]: State Grid practice, not a regulation clause).
ALTER TABLE lab_setting_def DISABLE TRIGGER lab_setting_def_fixed;
INSERT INTO lab_setting_def (key, type, default_value, min_v, max_v) VALUES ('stock.reverify_months', 'int', '6', 1, 96);
ALTER TABLE lab_setting_def ENABLE TRIGGER lab_setting_def_fixed;

-- Why an asset may not be issued or installed now, or NULL when it may: the
-- verification is past valid_until (JJG 596-2012, domain.md §1.12), or it
-- waited longer than stock.reverify_months since it was verified. Pure, for
-- set-based callers; p_months from ml_setting_e4('stock.reverify_months').
CREATE FUNCTION ml_issue_problem(p_valid_until date, p_verified_at timestamptz, p_months bigint)
	RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE
		WHEN p_valid_until IS NULL THEN 'its verification validity is not recorded'
		WHEN p_valid_until < current_date THEN 'its verification expired on ' || p_valid_until
		WHEN p_verified_at IS NOT NULL AND p_verified_at < now() - make_interval(months => p_months::int)
		THEN format('it was verified on %s, more than %s months ago (setting stock.reverify_months)',
			    to_char(p_verified_at, 'YYYY-MM-DD'), p_months)
	END
$$;

-- The one validity rule for issue (stores) and install (field, i11f): NULL
-- when the asset may go to the field, else the reason, naming the barcode.
CREATE FUNCTION ml_asset_valid_for_issue(p_asset_id bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT CASE WHEN a.asset_id IS NULL THEN format('asset id %s is not registered', p_asset_id)
		ELSE 'asset ' || a.barcode || ' cannot be issued or installed: '
			|| ml_issue_problem(a.valid_until, a.verified_at, ml_setting_e4('stock.reverify_months'))
			|| '; re-verify it first' END
	FROM (SELECT 1) one LEFT JOIN asset a ON a.asset_id = p_asset_id
$$;

-- ---- storage slots ----
CREATE TABLE store_slot (
	slot_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	store_id bigint NOT NULL REFERENCES location (location_id),
	-- its own label; never 22 digits, so a scan stream tells slots from assets
	barcode text NOT NULL UNIQUE CHECK (barcode ~ '^[A-Za-z0-9_.-]{1,64}$' AND barcode !~ '^[0-9]{22}$'),
	kind text NOT NULL CHECK (kind IN ('area', 'shelf', 'box', 'pallet')),
	parent_id bigint REFERENCES store_slot (slot_id),
	name text,
	created_by bigint NOT NULL REFERENCES app_user (user_id),
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX store_slot_store ON store_slot (store_id, slot_id);

-- Where in its store an asset lies. Written only by the stores functions;
-- the row goes when the asset leaves the store (trigger below), so an asset
-- is never in a slot of a store it left.
CREATE TABLE asset_slot (
	asset_id bigint PRIMARY KEY REFERENCES asset (asset_id),
	slot_id bigint NOT NULL REFERENCES store_slot (slot_id),
	placed_at timestamptz NOT NULL DEFAULT now(),
	placed_by bigint NOT NULL
);
CREATE INDEX asset_slot_slot ON asset_slot (slot_id, asset_id);

CREATE FUNCTION asset_slot_drop() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = public, pg_temp AS $$
BEGIN
	DELETE FROM asset_slot WHERE asset_id = NEW.asset_id;
	RETURN NULL;
END
$$;
CREATE TRIGGER asset_slot_leaves AFTER UPDATE OF location_id, state ON asset
	FOR EACH ROW WHEN (OLD.location_id IS DISTINCT FROM NEW.location_id
			   OR NEW.state NOT IN ('in_stock', 'secondary_stock'))
	EXECUTE FUNCTION asset_slot_drop();

CREATE FUNCTION ml_slot_add(p_store text, p_barcode text, p_kind text, p_parent text DEFAULT NULL,
			    p_name text DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.slot');
	st location;
	par store_slot;
	id bigint;
BEGIN
	SELECT * INTO st FROM location WHERE code = p_store;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'store ''%'' does not exist', p_store USING ERRCODE = 'P0002';
	END IF;
	IF st.kind NOT IN ('central_store', 'secondary_store') THEN
		RAISE EXCEPTION 'slots are in stores, but ''%'' is a %', st.code, st.kind USING ERRCODE = '22023';
	END IF;
	IF p_barcode IS NULL OR p_barcode !~ '^[A-Za-z0-9_.-]{1,64}$' OR p_barcode ~ '^[0-9]{22}$' THEN
		RAISE EXCEPTION 'slot barcode % is not valid (1–64 ASCII letters, digits, . _ -; not 22 digits, which is an asset barcode)',
			coalesce(quote_literal(left(p_barcode, 80)), 'NULL') USING ERRCODE = '22023';
	END IF;
	IF p_kind IS NULL OR p_kind NOT IN ('area', 'shelf', 'box', 'pallet') THEN
		RAISE EXCEPTION 'slot %: kind ''%'' is not one of area shelf box pallet', p_barcode, p_kind
			USING ERRCODE = '22023';
	END IF;
	IF p_parent IS NOT NULL THEN
		SELECT * INTO par FROM store_slot WHERE barcode = p_parent;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'slot %: parent slot ''%'' does not exist', p_barcode, p_parent USING ERRCODE = 'P0002';
		END IF;
		IF par.store_id <> st.location_id THEN
			RAISE EXCEPTION 'slot %: parent slot ''%'' is in another store', p_barcode, p_parent
				USING ERRCODE = '22023';
		END IF;
	END IF;
	INSERT INTO store_slot (store_id, barcode, kind, parent_id, name, created_by)
	VALUES (st.location_id, p_barcode, p_kind, par.slot_id, ml_clean_text('slot name', p_name, 200, false), actor)
	RETURNING slot_id INTO id;
	RETURN id;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'slot ''%'' already exists', p_barcode USING ERRCODE = '23505';
END
$$;

-- One refused code of a scan list: 1-based index, the code scanned, SQLSTATE, message naming the code.
CREATE TYPE ml_scan_refusal AS (idx integer, code text, sqlstate text, msg text);

-- A scan stream: a slot barcode, then the assets that go into it, then
-- another slot … Returns each asset code with its slot (index order);
-- codes before the first slot get NULL.
CREATE FUNCTION ml_scan_slots(p_codes text[])
	RETURNS TABLE (idx integer, code text, is_slot boolean, slot_barcode text)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	WITH c AS (SELECT x.code, x.i::int AS idx, NOT coalesce(x.code ~ '^[0-9]{22}$', false) AS is_slot
		   FROM unnest(p_codes) WITH ORDINALITY AS x(code, i)),
	g AS (SELECT c.*, count(*) FILTER (WHERE c.is_slot) OVER (ORDER BY c.idx) AS grp FROM c)
	SELECT g.idx, g.code, g.is_slot,
	       first_value(CASE WHEN g.is_slot THEN g.code END) OVER (PARTITION BY g.grp ORDER BY g.idx)
	FROM g ORDER BY g.idx
$$;

-- Put away by scanning: slot barcode, then asset barcodes, and again. Each
-- asset must be verified stock (in_stock or secondary_stock) of the slot's
-- store; an asset already in a slot moves to the new one. All or nothing:
-- every refusal is returned (no row: done), one 'put_away' event per asset
-- (state kept, details name the slot and the previous one).
CREATE FUNCTION ml_stock_putaway(p_codes text[]) RETURNS SETOF ml_scan_refusal
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.slot');
	refusals ml_scan_refusal[];
	changes ml_asset_change[];
BEGIN
	IF coalesce(cardinality(p_codes), 0) = 0 THEN
		RAISE EXCEPTION 'nothing scanned: a put-away is a slot barcode followed by asset barcodes' USING ERRCODE = '22023';
	END IF;
	CREATE TEMP TABLE IF NOT EXISTS putaway_scan (idx int, code text, is_slot boolean, slot_code text,
		slot_id bigint, slot_store bigint, asset_id bigint, state text, location_id bigint, prev_slot bigint,
		first_idx int, problem text, sqlstate text) ON COMMIT DROP;
	TRUNCATE putaway_scan;
	INSERT INTO putaway_scan
	SELECT s.idx, s.code, s.is_slot, s.slot_barcode, sl.slot_id, sl.store_id, a.asset_id, a.state, a.location_id,
	       x.slot_id, min(s.idx) FILTER (WHERE NOT s.is_slot) OVER (PARTITION BY s.code)
	FROM ml_scan_slots(p_codes) s
	LEFT JOIN store_slot sl ON sl.barcode = s.slot_barcode
	LEFT JOIN asset a ON NOT s.is_slot AND a.barcode = s.code::bpchar
	LEFT JOIN asset_slot x ON x.asset_id = a.asset_id;
	UPDATE putaway_scan p SET (problem, sqlstate) = (SELECT q.m, q.s FROM (VALUES (CASE
		WHEN p.is_slot AND p.slot_id IS NULL THEN format('slot %s does not exist (or a mistyped asset barcode)', p.code)
		WHEN p.is_slot THEN NULL
		WHEN p.slot_code IS NULL THEN format('asset %s was scanned before any slot: scan the slot barcode first', p.code)
		WHEN NOT ml_barcode_ok(p.code) THEN ml_barcode_problem(p.code)
		WHEN p.idx <> p.first_idx THEN format('asset %s is scanned twice (scans %s and %s)', p.code, p.first_idx, p.idx)
		WHEN p.asset_id IS NULL THEN format('asset %s is not registered', p.code)
		WHEN p.state NOT IN ('in_stock', 'secondary_stock') THEN
			format('asset %s is ''%s'': only verified stock is put away', p.code, p.state)
		WHEN p.slot_id IS NOT NULL AND p.location_id IS DISTINCT FROM p.slot_store THEN
			format('asset %s is not in the store of slot %s (it is at %s)', p.code, p.slot_code,
			       coalesce((SELECT l.code FROM location l WHERE l.location_id = p.location_id), 'no location'))
		END, CASE WHEN p.is_slot OR (p.slot_code IS NOT NULL AND p.asset_id IS NULL AND ml_barcode_ok(p.code)
					   AND p.idx = p.first_idx) THEN 'P0002'
			  WHEN p.state IS NOT NULL AND p.state NOT IN ('in_stock', 'secondary_stock') THEN '55000'
			  ELSE '22023' END)) q(m, s))
	WHERE NOT (p.is_slot AND p.slot_id IS NOT NULL);
	SELECT array_agg(ROW(p.idx, p.code, p.sqlstate, p.problem)::ml_scan_refusal ORDER BY p.idx) INTO refusals
	FROM putaway_scan p WHERE p.problem IS NOT NULL
	  -- an asset after an unknown slot is not reported again
	  AND NOT (NOT p.is_slot AND p.slot_code IS NOT NULL AND p.slot_id IS NULL);
	IF refusals IS NOT NULL THEN
		RETURN QUERY SELECT * FROM unnest(refusals);
		RETURN;
	END IF;
	SELECT array_agg(ROW(p.asset_id, p.state, p.state, 'put_away', NULL, false, NULL, NULL,
			     jsonb_build_object('slot', p.slot_code, 'from_slot',
						(SELECT s.barcode FROM store_slot s WHERE s.slot_id = p.prev_slot)))::ml_asset_change
			 ORDER BY p.idx)
	INTO changes FROM putaway_scan p WHERE NOT p.is_slot;
	PERFORM ml_asset_apply(actor, changes);
	INSERT INTO asset_slot (asset_id, slot_id, placed_by)
	SELECT p.asset_id, p.slot_id, actor FROM putaway_scan p WHERE NOT p.is_slot
	ON CONFLICT (asset_id) DO UPDATE SET slot_id = EXCLUDED.slot_id, placed_at = now(), placed_by = EXCLUDED.placed_by;
	RETURN;
END
$$;

-- ---- stock: what is where ----

-- The place of an asset in words: "slot S-01 of store CENTRAL", "on
-- distribution order 7 in transit from CENTRAL to CITY-A", or its location.
-- (i11f extends this for metering points.)
CREATE FUNCTION ml_asset_place(p_asset_id bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT CASE
		WHEN s.barcode IS NOT NULL THEN 'slot ' || s.barcode || ' of store ' || l.code
		WHEN a.state IN ('in_stock', 'secondary_stock') THEN 'store ' || l.code || ' (not put away)'
		ELSE coalesce(l.kind || ' ' || l.code, 'no location') END
	FROM asset a LEFT JOIN location l ON l.location_id = a.location_id
	LEFT JOIN asset_slot x ON x.asset_id = a.asset_id LEFT JOIN store_slot s ON s.slot_id = x.slot_id
	WHERE a.asset_id = p_asset_id
$$;

-- The re-verification list: stock that may not be issued any more (expired,
-- or waited too long since verification), oldest verification first.
CREATE FUNCTION ml_stock_reverify_list(p_store text DEFAULT NULL)
	RETURNS TABLE (barcode text, model text, lot text, store text, slot text, state text, valid_until date,
		       verified_on date, reason text)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT a.barcode::text, m.code, lt.code, l.code, s.barcode, a.state, a.valid_until, a.verified_at::date,
	       ml_issue_problem(a.valid_until, a.verified_at, ml_setting_e4('stock.reverify_months'))
	FROM asset a JOIN location l ON l.location_id = a.location_id JOIN device_model m ON m.model_id = a.model_id
	JOIN lot lt ON lt.lot_id = a.lot_id
	LEFT JOIN asset_slot x ON x.asset_id = a.asset_id LEFT JOIN store_slot s ON s.slot_id = x.slot_id
	WHERE a.state IN ('in_stock', 'secondary_stock') AND (p_store IS NULL OR l.code = p_store)
	  AND ml_issue_problem(a.valid_until, a.verified_at, ml_setting_e4('stock.reverify_months')) IS NOT NULL
	ORDER BY a.verified_at NULLS FIRST, a.valid_until, a.barcode
$$;

-- Send stock to the lab for re-verification (库存复检), all or nothing:
-- every asset must be in_stock or secondary_stock and on no open
-- distribution order; p_lab is a lab location. State reverify, event
-- 'reverify_send' with the reason; the slot is dropped (it left the store).
CREATE FUNCTION ml_stock_reverify_send(p_barcodes text[], p_lab text, p_reason text DEFAULT NULL)
	RETURNS SETOF ml_scan_refusal
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('store.reverify');
	lab location;
	refusals ml_scan_refusal[];
	changes ml_asset_change[];
BEGIN
	SELECT * INTO lab FROM location WHERE code = coalesce(p_lab, '');
	IF NOT FOUND OR lab.kind <> 'lab' THEN
		RAISE EXCEPTION 'location ''%'' is not a lab: re-verification goes to a lab location', p_lab
			USING ERRCODE = '22023';
	END IF;
	p_reason := ml_clean_text('reason', p_reason, 500, false);
	IF coalesce(cardinality(p_barcodes), 0) = 0 THEN
		RAISE EXCEPTION 'no asset to send' USING ERRCODE = '22023';
	END IF;
	WITH c AS (SELECT x.code, x.i::int AS idx, min(x.i) OVER (PARTITION BY x.code)::int AS first_idx
		   FROM unnest(p_barcodes) WITH ORDINALITY x(code, i)),
	p AS (SELECT c.*, a.asset_id, a.state, ml_barcode_ok(c.code) AS ok,
		     (SELECT i.order_id FROM dist_order_item i WHERE i.asset_id = a.asset_id AND i.open) AS on_order
	      FROM c LEFT JOIN asset a ON ml_barcode_ok(c.code) AND a.barcode = c.code::bpchar),
	q AS (SELECT p.*, CASE
		WHEN NOT coalesce(p.ok, false) THEN ml_barcode_problem(p.code)
		WHEN p.idx <> p.first_idx THEN format('asset %s is listed twice (%s and %s)', p.code, p.first_idx, p.idx)
		WHEN p.asset_id IS NULL THEN format('asset %s is not registered', p.code)
		WHEN p.state NOT IN ('in_stock', 'secondary_stock') THEN
			format('asset %s is ''%s'': only stock is sent for re-verification', p.code, p.state)
		WHEN p.on_order IS NOT NULL THEN format('asset %s is on open distribution order %s', p.code, p.on_order)
		END AS problem FROM p)
	SELECT array_agg(ROW(q.idx, q.code, CASE WHEN q.asset_id IS NULL THEN 'P0002' ELSE '55000' END, q.problem)::ml_scan_refusal
			 ORDER BY q.idx) FILTER (WHERE q.problem IS NOT NULL),
	       array_agg(ROW(q.asset_id, q.state, 'reverify', 'reverify_send', lab.location_id, false, NULL,
			     coalesce(p_reason, 'stock re-verification'), NULL)::ml_asset_change ORDER BY q.idx)
	INTO refusals, changes FROM q;
	IF refusals IS NOT NULL THEN
		RETURN QUERY SELECT * FROM unnest(refusals);
		RETURN;
	END IF;
	PERFORM ml_asset_apply(actor, changes);
	RETURN;
END
$$;
