-- 0226: where an asset is (ml_asset_place, 0200/0201) knows the field: an
-- installed asset is at its metering point (issue 11: "an installed asset is
-- at its metering point, not at the field team"), an issued one with its
-- team, a removed one with the team that removed it.
CREATE OR REPLACE FUNCTION ml_asset_place(p_asset_id bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT CASE
		WHEN s.barcode IS NOT NULL THEN 'slot ' || s.barcode || ' of store ' || l.code
		WHEN a.state IN ('in_stock', 'secondary_stock') THEN 'store ' || l.code || ' (not put away)'
		WHEN o.order_id IS NOT NULL THEN format('in transit on distribution order %s from %s to %s', o.order_id,
			(SELECT code FROM location WHERE location_id = o.from_id), (SELECT code FROM location WHERE location_id = o.to_id))
		WHEN a.state = 'lost' THEN 'lost (last at ' || coalesce(l.code, 'no location') || ')'
		WHEN mp.point_id IS NOT NULL THEN format('metering point %s (%s; account %s, %s; site %s) since %s',
			mp.code, inst.element, mp.account_no, mp.address, l.code, to_char(inst.installed_at, 'YYYY-MM-DD'))
		WHEN a.state = 'issued' THEN 'field team ' || l.code || ' (issued)'
		WHEN a.state = 'removed' THEN 'field team ' || l.code || ' (removed from service)'
		ELSE coalesce(l.kind || ' ' || l.code, 'no location') END
	FROM asset a LEFT JOIN location l ON l.location_id = a.location_id
	LEFT JOIN asset_slot x ON x.asset_id = a.asset_id LEFT JOIN store_slot s ON s.slot_id = x.slot_id
	LEFT JOIN dist_order_item i ON i.asset_id = a.asset_id AND i.status = 'in_transit'
	LEFT JOIN dist_order o ON o.order_id = i.order_id
	LEFT JOIN installation inst ON inst.asset_id = a.asset_id AND inst.removed_at IS NULL
	LEFT JOIN metering_point mp ON mp.point_id = inst.point_id
	WHERE a.asset_id = p_asset_id
$$;
