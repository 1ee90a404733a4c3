-- 0330 (issue 10, h10): an asset leaves its storage slot in one statement per
-- UPDATE of asset, not one trigger call per row.
--
-- Numbered after every range of the session because it replaces a trigger of
-- 0200 (issue 11's range): migrations apply in file-name order, so a fresh
-- database must have created asset_slot before this runs.
--
-- 0200's asset_slot_leaves was an AFTER UPDATE … FOR EACH ROW trigger: a bulk
-- move of 10 000 assets called its PL/pgSQL function 10 000 times, each
-- running one DELETE by primary key — about 0.2 s of a 10 000-barcode move
-- (auto_explain, issue 10 phase 2), nearly every move firing it because every
-- state outside the stores leaves the slot. Now one statement-level trigger
-- reads the statement's transition tables (which asset_counts_update of 0170
-- already makes PostgreSQL keep) and deletes the leaving assets' slot rows in
-- one DELETE by primary key.
--
-- Same rule as 0200: an asset whose location changed, or whose state is not
-- a stock state after the update, is in no slot. The row trigger fired only
-- when location_id or state was in the UPDATE's SET list; PostgreSQL does not
-- allow a column list with transition tables, so this one looks at every
-- UPDATE of asset. The only writer of asset is ml_asset_apply (0110/0175),
-- which always sets both columns, so the two are the same for every function;
-- for a DBA's UPDATE of other columns the difference is that an asset outside
-- the stores that still had a slot row (which 0200 never lets happen) loses it.
-- Timing is unchanged: AFTER ROW and AFTER STATEMENT triggers both run at the
-- end of the statement, before the next statement of the function.

DROP TRIGGER asset_slot_leaves ON asset;
DROP FUNCTION asset_slot_drop();

-- Its own join settings: it fires inside ml_asset_apply's UPDATE, whose
-- function settings (0175: enable_hashjoin and enable_mergejoin off) would
-- otherwise hold here too and join the two transition tables by a nested
-- loop — 10 000 × 10 000 comparisons, 19 s for a move of 10 000 assets that
-- stay in stock (found by the test of this migration).
CREATE FUNCTION asset_slot_drop_leaving() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = public, pg_temp SET enable_hashjoin = on SET enable_mergejoin = on AS $$
BEGIN
	-- `= ANY (array)` is an index scan of asset_slot's key whatever the sizes
	-- (a join to the transition table could be planned as a scan of every
	-- slotted asset of the province).
	DELETE FROM asset_slot s
	WHERE s.asset_id = ANY (ARRAY(
		SELECT n.asset_id FROM slot_new n
		WHERE n.state NOT IN ('in_stock', 'secondary_stock')
		UNION ALL
		SELECT n.asset_id FROM slot_new n JOIN slot_old o ON o.asset_id = n.asset_id
		WHERE n.state IN ('in_stock', 'secondary_stock') AND o.location_id IS DISTINCT FROM n.location_id));
	RETURN NULL;
END
$$;
CREATE TRIGGER asset_slot_leaves AFTER UPDATE ON asset
	REFERENCING OLD TABLE AS slot_old NEW TABLE AS slot_new
	FOR EACH STATEMENT EXECUTE FUNCTION asset_slot_drop_leaving();
