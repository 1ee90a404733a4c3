-- 0004: the ids that 0003's set-based reference checks rely on never change.
--
-- Why: 0003 replaced asset's foreign keys by a statement trigger on asset
-- plus "reference rows are never deleted". A foreign key also refuses a
-- change of the referenced key; nothing did that here, and an identity
-- column still accepts UPDATE … SET id = DEFAULT. Re-keying a model, lot or
-- location orphaned the assets pointing at the old id, and re-keying an asset
-- orphaned its history (asset_event.asset_id has no foreign key: the table
-- is partitioned and append-only). Refuse any change of these ids.

CREATE FUNCTION reference_key_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '%.% % is referenced by other rows and cannot change (to %)', TG_TABLE_NAME, TG_ARGV[0],
		to_jsonb(OLD) ->> TG_ARGV[0], to_jsonb(NEW) ->> TG_ARGV[0]
		USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER device_model_key_fixed BEFORE UPDATE OF model_id ON device_model
	FOR EACH ROW WHEN (OLD.model_id IS DISTINCT FROM NEW.model_id)
	EXECUTE FUNCTION reference_key_fixed('model_id');
CREATE TRIGGER lot_key_fixed BEFORE UPDATE OF lot_id ON lot
	FOR EACH ROW WHEN (OLD.lot_id IS DISTINCT FROM NEW.lot_id)
	EXECUTE FUNCTION reference_key_fixed('lot_id');
CREATE TRIGGER location_key_fixed BEFORE UPDATE OF location_id ON location
	FOR EACH ROW WHEN (OLD.location_id IS DISTINCT FROM NEW.location_id)
	EXECUTE FUNCTION reference_key_fixed('location_id');
CREATE TRIGGER asset_key_fixed BEFORE UPDATE OF asset_id ON asset
	FOR EACH ROW WHEN (OLD.asset_id IS DISTINCT FROM NEW.asset_id)
	EXECUTE FUNCTION reference_key_fixed('asset_id');
