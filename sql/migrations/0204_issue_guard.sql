-- 0204: the validity rule for issue and install holds for every path, not
-- only the warehouse's functions: a bare `asset move issue|install`, the
-- field functions (i11f) and anything later all end in ml_asset_apply's
-- UPDATE of asset, where this guard refuses an asset whose verification
-- expired or that was verified longer ago than stock.reverify_months
-- (ml_issue_problem, 0200; State Grid practice, JJG 596-2012 for validity).
-- The WHEN clause keeps every other update free of it: only the lifecycle's
-- ways in (stock -> issued, issued -> installed) are judged; a DBA writing a
-- test fixture straight into 'installed' is not a lifecycle move.
CREATE FUNCTION asset_issue_guard() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = public, pg_temp AS $$
DECLARE
	why text := ml_issue_problem(NEW.valid_until, NEW.verified_at, ml_setting_e4('stock.reverify_months'));
BEGIN
	IF why IS NOT NULL THEN
		RAISE EXCEPTION 'asset % cannot be %: %; re-verify it first (meterlab stock reverify-list)', NEW.barcode,
			CASE NEW.state WHEN 'issued' THEN 'issued' ELSE 'installed' END, why USING ERRCODE = '55000';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER asset_issue_guard BEFORE UPDATE OF state ON asset
	FOR EACH ROW WHEN (NEW.state IN ('issued', 'installed') AND OLD.state IN ('in_stock', 'secondary_stock', 'issued')
			   AND OLD.state IS DISTINCT FROM NEW.state)
	EXECUTE FUNCTION asset_issue_guard();
