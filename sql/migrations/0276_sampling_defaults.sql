-- 0276: the level and AQL of an arrival sample when the person drawing it
-- names none (issue 14: "defaults per model kind as settings"), one pair per
-- kind of device: meters (meter_1p, meter_3p), transformers (ct, vt) and
-- concentrators. The State Grid arrival-sampling plan is not sourced
-- (domain.md §3.1, [M]), so these are settings with defaults (AQL 1.0 for
-- meters and transformers, 2.5 for concentrators; level II, ISO 2859-1
-- 10.1 "unless otherwise specified"), which the approver changes with
-- meterlab scheme settings set. lab/settings.c has the same rows.
ALTER TABLE lab_setting_def DISABLE TRIGGER lab_setting_def_fixed;
INSERT INTO lab_setting_def (key, type, default_value, min_v, max_v) VALUES
	('sampling.aql.meter', 'dec4', '1.0', 100, 65000),
	('sampling.aql.transformer', 'dec4', '1.0', 100, 65000),
	('sampling.aql.concentrator', 'dec4', '2.5', 100, 65000),
	('sampling.level.meter', 'int', '2', 1, 3),
	('sampling.level.transformer', 'int', '2', 1, 3),
	('sampling.level.concentrator', 'int', '2', 1, 3);
ALTER TABLE lab_setting_def ENABLE TRIGGER lab_setting_def_fixed;

-- The defaults of a lot: by the kind of its meters' model. NULL columns when
-- the lot has no assets (the draw then names the lot).
CREATE FUNCTION ml_lot_sample_defaults(p_lot text, OUT level text, OUT aql text)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT (ARRAY['I', 'II', 'III'])[ml_setting('sampling.level.' || k.g)::int], ml_setting('sampling.aql.' || k.g)
	FROM (SELECT 1) one LEFT JOIN LATERAL (
		SELECT CASE m.kind WHEN 'ct' THEN 'transformer' WHEN 'vt' THEN 'transformer'
			WHEN 'concentrator' THEN 'concentrator' ELSE 'meter' END AS g
		FROM lot l JOIN asset a ON a.lot_id = l.lot_id JOIN device_model m ON m.model_id = a.model_id
		WHERE l.code = p_lot LIMIT 1) k ON true
$$;
GRANT EXECUTE ON FUNCTION ml_lot_sample_defaults(text) TO meterlab_app;
