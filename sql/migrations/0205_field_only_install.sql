-- 0205: an asset is installed and removed only through the metering-point
-- flow (issue 11: "every asset is at every moment in exactly one known place
-- ... a metering point"). The bare lifecycle moves `install` and `remove`
-- (ml_asset_move, 0111) recorded a customer site but no metering point, no
-- register reading and no seal, so they went round the field's rules: one
-- meter per point and element, the final reading not below the initial one,
-- seals issued to the team and used once, the asset at its point.
--
-- A trigger, so the rule holds for every writer that changes an asset's
-- state through the lifecycle (ml_asset_move, the warehouse and field
-- functions, anything later, the schema owner):
--   issued -> installed      needs the asset's active `installation` row at a
--                            point whose site is the asset's new location —
--                            only ml_install (0225) writes one, just before it
--                            moves the asset;
--   installed -> removed | fault_analysis
--                            needs the installation closed in this same
--                            transaction (removed_at = now(): ml_remove,
--                            ml_swap) and none left active.
-- Only the lifecycle's own transitions are judged (asset_transition: nothing
-- else enters or leaves 'installed'); a DBA writing a test fixture straight
-- from another state is not a lifecycle move (as 0204).
CREATE FUNCTION asset_field_guard() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = public, pg_temp AS $$
DECLARE
	pt text;
BEGIN
	IF NEW.state = 'installed' THEN
		IF NOT EXISTS (SELECT 1 FROM installation i JOIN metering_point p ON p.point_id = i.point_id
			       WHERE i.asset_id = NEW.asset_id AND i.removed_at IS NULL
				 AND p.site_id IS NOT DISTINCT FROM NEW.location_id) THEN
			RAISE EXCEPTION 'asset % is installed only at a metering point, with its register reading and seals: meterlab field install % --point POINT --reading KWH [--seal SEAL] (a bare move records none of them)',
				NEW.barcode, NEW.barcode USING ERRCODE = '55000';
		END IF;
		RETURN NEW;
	END IF;
	SELECT p.code INTO pt FROM installation i JOIN metering_point p ON p.point_id = i.point_id
	WHERE i.asset_id = NEW.asset_id AND i.removed_at IS NULL;
	IF FOUND OR NOT EXISTS (SELECT 1 FROM installation i WHERE i.asset_id = NEW.asset_id AND i.removed_at = now()) THEN
		RAISE EXCEPTION 'asset % is installed%: it is taken out of service only with its final reading, reason and seals: meterlab field remove % --reading KWH --reason R, or meterlab field swap (a bare % is refused)',
			NEW.barcode, coalesce(' at metering point ' || pt, ' (no metering point recorded)'), NEW.barcode,
			CASE NEW.state WHEN 'fault_analysis' THEN 'fault_report' ELSE 'remove' END USING ERRCODE = '55000';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER asset_field_guard BEFORE UPDATE OF state ON asset
	FOR EACH ROW WHEN ((OLD.state = 'issued' AND NEW.state = 'installed')
			   OR (OLD.state = 'installed' AND NEW.state IN ('removed', 'fault_analysis')))
	EXECUTE FUNCTION asset_field_guard();
