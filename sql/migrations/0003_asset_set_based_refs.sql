-- 0003: set-based reference checks on asset instead of row-by-row foreign keys.
--
-- Why: bench/bench_import showed the three foreign keys of asset (model,
-- lot, location) costing more than everything else in a 100 000-row
-- delivery import: each row fires three RI triggers, each an index probe
-- plus a FOR KEY SHARE lock on the same catalogue row (about 8.6 s of an
-- 11.7 s import on the shared build machine, versus 0.7 s without them).
-- The same integrity is kept with
--   1. one statement-level AFTER INSERT/UPDATE trigger per statement that
--      checks all new rows in one join (SQLSTATE 23503, like a foreign key),
--   2. reference rows that can never be deleted or truncated (models, lots
--      and locations are history: an asset must always resolve them).
-- Together these are the foreign-key guarantee without per-row cost.

ALTER TABLE asset
	DROP CONSTRAINT asset_model_id_fkey,
	DROP CONSTRAINT asset_lot_id_fkey,
	DROP CONSTRAINT asset_location_id_fkey;

CREATE FUNCTION asset_refs_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	bad record;
BEGIN
	SELECT n.barcode, n.model_id, n.lot_id, n.location_id,
	       m.model_id IS NULL AS no_model, l.lot_id IS NULL AS no_lot,
	       (n.location_id IS NOT NULL AND loc.location_id IS NULL) AS no_location
	INTO bad
	FROM new_rows n
	LEFT JOIN device_model m ON m.model_id = n.model_id
	LEFT JOIN lot l ON l.lot_id = n.lot_id
	LEFT JOIN location loc ON loc.location_id = n.location_id
	WHERE m.model_id IS NULL OR l.lot_id IS NULL
	   OR (n.location_id IS NOT NULL AND loc.location_id IS NULL)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'asset % refers to a missing %', bad.barcode,
			CASE WHEN bad.no_model THEN 'device_model ' || bad.model_id
			     WHEN bad.no_lot THEN 'lot ' || bad.lot_id
			     ELSE 'location ' || bad.location_id END
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER asset_refs_insert AFTER INSERT ON asset
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION asset_refs_check();
CREATE TRIGGER asset_refs_update AFTER UPDATE ON asset
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION asset_refs_check();

CREATE FUNCTION reference_row_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% rows are kept for history: % refused', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER device_model_keep BEFORE DELETE ON device_model
	FOR EACH ROW EXECUTE FUNCTION reference_row_keep();
CREATE TRIGGER device_model_keep_truncate BEFORE TRUNCATE ON device_model
	FOR EACH STATEMENT EXECUTE FUNCTION reference_row_keep();
CREATE TRIGGER lot_keep BEFORE DELETE ON lot
	FOR EACH ROW EXECUTE FUNCTION reference_row_keep();
CREATE TRIGGER lot_keep_truncate BEFORE TRUNCATE ON lot
	FOR EACH STATEMENT EXECUTE FUNCTION reference_row_keep();
CREATE TRIGGER location_keep BEFORE DELETE ON location
	FOR EACH ROW EXECUTE FUNCTION reference_row_keep();
CREATE TRIGGER location_keep_truncate BEFORE TRUNCATE ON location
	FOR EACH STATEMENT EXECUTE FUNCTION reference_row_keep();
