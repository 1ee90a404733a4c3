-- 0170: province scale (issue 10) — stock counts maintained, not recomputed,
-- and the reference check of asset at statement cost.
--
-- Why: at 10 M assets `asset lot list` counted every asset of every lot
-- (3.1 s) and `asset location list` every asset of every place (1.6 s, 2.2 s
-- with 2 400 places at 1 M). The counts clerks ask for — per lot and state,
-- per place, model and state (stock by store/state/model), per model and
-- state — are kept in small tables by statement-level triggers with
-- transition tables on asset:
-- whatever writes asset (the import, moves, the SECURITY DEFINER functions of
-- issue 8, later warehouse functions, an owner's manual fix) keeps them right,
-- in the same transaction, with one aggregate per statement (not per row).
--
-- Concurrency: a counter row is locked from the statement that changes it
-- until commit, so two transactions moving assets out of the same
-- (place, model, state) serialise on it for the rest of the shorter one.
-- Every statement touches its counter rows in key order (ORDER BY in the
-- upsert), so two single-statement changes cannot deadlock on them.
--
-- Rows whose count drops to 0 are kept (the set of combinations is small and
-- reused); readers filter n > 0. No CHECK (n >= 0): the upsert of a negative
-- delta would be checked as an insert before ON CONFLICT turns it into an
-- update. tests/assets compare every count with the assets after each kind
-- of change.

CREATE TABLE asset_count_lot (
	lot_id bigint NOT NULL,
	state text NOT NULL,
	n bigint NOT NULL,
	PRIMARY KEY (lot_id, state)
);

-- location_id 0 stands for "no location" (asset.location_id IS NULL): a
-- primary key cannot hold NULL.
CREATE TABLE asset_count_place (
	location_id bigint NOT NULL,
	model_id bigint NOT NULL,
	state text NOT NULL,
	n bigint NOT NULL,
	PRIMARY KEY (location_id, model_id, state)
);

-- Province-wide by model and state (tiny: models x states).
CREATE TABLE asset_count_model (
	model_id bigint NOT NULL,
	state text NOT NULL,
	n bigint NOT NULL,
	PRIMARY KEY (model_id, state)
);

-- The id range of each lot's assets. A delivery's assets are inserted by one
-- statement and get consecutive ids, so "the assets of lot L" is a range of
-- asset_id (wider only when two deliveries are imported at the same moment
-- and their ids interleave) — listing a lot needs no index of its own
-- (0172). Only inserts move it; an asset's lot never changes (below).
CREATE TABLE asset_lot_span (
	lot_id bigint PRIMARY KEY,
	first_id bigint NOT NULL,
	last_id bigint NOT NULL CHECK (last_id >= first_id)
);

-- One function for the three events; TG_OP says which transition tables exist.
-- SECURITY DEFINER: the counts are derived data that no login role may write;
-- whoever may change asset changes them through this function only.
CREATE FUNCTION asset_counts_apply() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO asset_count_lot AS c (lot_id, state, n)
		SELECT lot_id, state, count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (lot_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
		INSERT INTO asset_count_place AS c (location_id, model_id, state, n)
		SELECT coalesce(location_id, 0), model_id, state, count(*) FROM new_rows
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
		ON CONFLICT (location_id, model_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
		INSERT INTO asset_count_model AS c (model_id, state, n)
		SELECT model_id, state, count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (model_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
		INSERT INTO asset_lot_span AS c (lot_id, first_id, last_id)
		SELECT lot_id, min(asset_id), max(asset_id) FROM new_rows GROUP BY 1 ORDER BY 1
		ON CONFLICT (lot_id) DO UPDATE SET first_id = least(c.first_id, EXCLUDED.first_id),
			last_id = greatest(c.last_id, EXCLUDED.last_id);
	ELSIF TG_OP = 'UPDATE' THEN
		INSERT INTO asset_count_lot AS c (lot_id, state, n)
		SELECT lot_id, state, sum(d) FROM (
			SELECT lot_id, state, -1 AS d FROM old_rows
			UNION ALL SELECT lot_id, state, 1 FROM new_rows) x
		GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2
		ON CONFLICT (lot_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
		INSERT INTO asset_count_place AS c (location_id, model_id, state, n)
		SELECT loc, model_id, state, sum(d) FROM (
			SELECT coalesce(location_id, 0) AS loc, model_id, state, -1 AS d FROM old_rows
			UNION ALL SELECT coalesce(location_id, 0), model_id, state, 1 FROM new_rows) x
		GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
		ON CONFLICT (location_id, model_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
		INSERT INTO asset_count_model AS c (model_id, state, n)
		SELECT model_id, state, sum(d) FROM (
			SELECT model_id, state, -1 AS d FROM old_rows
			UNION ALL SELECT model_id, state, 1 FROM new_rows) x
		GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2
		ON CONFLICT (model_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
	ELSIF TG_OP = 'DELETE' THEN
		UPDATE asset_count_lot c SET n = c.n - o.n
		FROM (SELECT lot_id, state, count(*) AS n FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2) o
		WHERE c.lot_id = o.lot_id AND c.state = o.state;
		UPDATE asset_count_place c SET n = c.n - o.n
		FROM (SELECT coalesce(location_id, 0) AS loc, model_id, state, count(*) AS n FROM old_rows
		      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3) o
		WHERE c.location_id = o.loc AND c.model_id = o.model_id AND c.state = o.state;
		UPDATE asset_count_model c SET n = c.n - o.n
		FROM (SELECT model_id, state, count(*) AS n FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2) o
		WHERE c.model_id = o.model_id AND c.state = o.state;
	ELSE -- TRUNCATE
		DELETE FROM asset_count_lot;
		DELETE FROM asset_count_place;
		DELETE FROM asset_count_model;
		DELETE FROM asset_lot_span;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER asset_counts_insert AFTER INSERT ON asset
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION asset_counts_apply();
CREATE TRIGGER asset_counts_update AFTER UPDATE ON asset
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION asset_counts_apply();
CREATE TRIGGER asset_counts_delete AFTER DELETE ON asset
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION asset_counts_apply();
CREATE TRIGGER asset_counts_truncate AFTER TRUNCATE ON asset
	FOR EACH STATEMENT EXECUTE FUNCTION asset_counts_apply();

-- The counts of the assets already registered; SHARE mode keeps writers out
-- until this migration commits, so none is counted twice or missed.
LOCK TABLE asset IN SHARE MODE;
INSERT INTO asset_count_lot (lot_id, state, n)
SELECT lot_id, state, count(*) FROM asset GROUP BY 1, 2;
INSERT INTO asset_count_place (location_id, model_id, state, n)
SELECT coalesce(location_id, 0), model_id, state, count(*) FROM asset GROUP BY 1, 2, 3;
INSERT INTO asset_count_model (model_id, state, n)
SELECT model_id, state, count(*) FROM asset GROUP BY 1, 2;
INSERT INTO asset_lot_span (lot_id, first_id, last_id)
SELECT lot_id, min(asset_id), max(asset_id) FROM asset GROUP BY 1;

-- The lot an asset arrived in is history (and asset_lot_span relies on it).
CREATE FUNCTION asset_lot_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'asset %: its arrival lot is history and cannot change (lot % to %)',
		OLD.barcode, OLD.lot_id, NEW.lot_id USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER asset_lot_fixed BEFORE UPDATE OF lot_id ON asset
	FOR EACH ROW WHEN (OLD.lot_id IS DISTINCT FROM NEW.lot_id) EXECUTE FUNCTION asset_lot_fixed();

-- 0003's reference check joined every new row to device_model, lot and
-- location: an index probe per row and per table (Index Only Scan using
-- lot_pkey … loops=100000 in a 100 000-row delivery). The referenced ids of
-- one statement are few; check each distinct id once. Same guarantee, same
-- SQLSTATE and message.
CREATE OR REPLACE FUNCTION asset_refs_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	missing text;
	holder text;
BEGIN
	SELECT 'device_model ' || r.id INTO missing
	FROM (SELECT DISTINCT model_id AS id FROM new_rows) r
	WHERE NOT EXISTS (SELECT 1 FROM device_model m WHERE m.model_id = r.id)
	UNION ALL
	SELECT 'lot ' || r.id FROM (SELECT DISTINCT lot_id AS id FROM new_rows) r
	WHERE NOT EXISTS (SELECT 1 FROM lot l WHERE l.lot_id = r.id)
	UNION ALL
	SELECT 'location ' || r.id FROM (SELECT DISTINCT location_id AS id FROM new_rows
					 WHERE location_id IS NOT NULL) r
	WHERE NOT EXISTS (SELECT 1 FROM location l WHERE l.location_id = r.id)
	LIMIT 1;
	IF FOUND THEN
		-- name an asset holding the missing id (the message 0003 gave)
		SELECT n.barcode INTO holder FROM new_rows n
		WHERE missing IN ('device_model ' || n.model_id, 'lot ' || n.lot_id,
				  'location ' || n.location_id) LIMIT 1;
		RAISE EXCEPTION 'asset % refers to a missing %', holder, missing
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NULL;
END
$$;

-- Owned by the schema owner: the SECURITY DEFINER trigger function writes
-- the counts with the owner's rights, login roles only read them.
ALTER TABLE asset_count_lot OWNER TO meterlab_owner;
ALTER TABLE asset_count_place OWNER TO meterlab_owner;
ALTER TABLE asset_count_model OWNER TO meterlab_owner;
ALTER TABLE asset_lot_span OWNER TO meterlab_owner;
ALTER FUNCTION asset_counts_apply() OWNER TO meterlab_owner;
REVOKE ALL ON asset_count_lot, asset_count_place, asset_count_model, asset_lot_span FROM PUBLIC;
GRANT SELECT ON asset_count_lot, asset_count_place, asset_count_model, asset_lot_span TO meterlab_app;
