-- 0227: ml_asset_place names the state where the place alone does not say
-- what the asset is doing there (a failed meter in the central store is not
-- stock; a scrapped one is nowhere to be used): "failed at store CENTRAL",
-- "scrapped (last at CENTRAL)", "fault_analysis at lab LAB".
CREATE OR REPLACE FUNCTION ml_asset_place(p_asset_id bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT CASE
		WHEN s.barcode IS NOT NULL THEN 'slot ' || s.barcode || ' of store ' || l.code
		WHEN a.state IN ('in_stock', 'secondary_stock') THEN 'store ' || l.code || ' (not put away)'
		WHEN o.order_id IS NOT NULL THEN format('in transit on distribution order %s from %s to %s', o.order_id,
			(SELECT code FROM location WHERE location_id = o.from_id), (SELECT code FROM location WHERE location_id = o.to_id))
		WHEN a.state IN ('lost', 'scrapped', 'returned_to_maker')
			THEN a.state || ' (last at ' || coalesce(l.code, 'no location') || ')'
		WHEN mp.point_id IS NOT NULL THEN format('metering point %s (%s; account %s, %s; site %s) since %s',
			mp.code, inst.element, mp.account_no, mp.address, l.code, to_char(inst.installed_at, 'YYYY-MM-DD'))
		WHEN a.state = 'issued' THEN 'field team ' || l.code || ' (issued)'
		WHEN a.state = 'removed' THEN 'field team ' || l.code || ' (removed from service)'
		ELSE a.state || ' at ' || coalesce(replace(l.kind, '_', ' ') || ' ' || l.code, 'no location') END
	FROM asset a LEFT JOIN location l ON l.location_id = a.location_id
	LEFT JOIN asset_slot x ON x.asset_id = a.asset_id LEFT JOIN store_slot s ON s.slot_id = x.slot_id
	LEFT JOIN dist_order_item i ON i.asset_id = a.asset_id AND i.status = 'in_transit'
	LEFT JOIN dist_order o ON o.order_id = i.order_id
	LEFT JOIN installation inst ON inst.asset_id = a.asset_id AND inst.removed_at IS NULL
	LEFT JOIN metering_point mp ON mp.point_id = inst.point_id
	WHERE a.asset_id = p_asset_id
$$;
