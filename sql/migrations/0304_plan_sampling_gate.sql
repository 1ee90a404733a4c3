-- 0304: the plan respects arrival sampling as a gate (0275, issue 14): with
-- sampling.required = yes an arrived meter is verifiable only once its lot's
-- sample accepted the lot, so the scheduler does not plan what a bench would
-- refuse. Re-verification is not held. Otherwise as 0301.
CREATE OR REPLACE FUNCTION ml_plan_verifiable()
	RETURNS TABLE (lot text, lot_id bigint, model text, model_id bigint, model_kind text, assets bigint)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT l.code, l.lot_id, m.code, m.model_id, m.kind, sum(x.n)::bigint
	FROM asset_count_model c JOIN device_model m ON m.model_id = c.model_id
	CROSS JOIN LATERAL (SELECT a.lot_id, count(*) AS n FROM asset a
			    WHERE a.model_id = c.model_id AND a.state = c.state GROUP BY a.lot_id) x
	JOIN lot l ON l.lot_id = x.lot_id
	WHERE c.state IN ('arrived', 'reverify') AND c.n > 0
	  AND NOT EXISTS (SELECT 1 FROM lot_sampling s WHERE s.lot_id = l.lot_id AND s.status = 'sampling')
	  AND (c.state = 'reverify' OR ml_setting('sampling.required') <> 'yes'
	       OR EXISTS (SELECT 1 FROM lot_sampling s WHERE s.lot_id = l.lot_id AND s.status = 'accepted'))
	GROUP BY l.code, l.lot_id, m.code, m.model_id, m.kind
	ORDER BY l.lot_id, m.code
$$;
