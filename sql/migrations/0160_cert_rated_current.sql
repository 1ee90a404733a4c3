-- 0160: certificates of transformer-operated meters name their load points
-- by the rated current In (额定电流), direct ones by the basic current Ib
-- (基本电流) — JJG 596-2012; issue 9. The runner's step labels now say
-- "0.05In cosφ=1.0 H" for a transformer-operated meter (lab/plan.c
-- point_label); the error table of the certificate parses the label to
-- print the current in amperes, so it accepts In as well as Ib and Imax.
-- A model's ib_a holds Ib or In by its connection (one column, as the
-- State Grid data model keeps one rated current). The function is 0141's
-- ml_cert_run_docs with only that expression changed.
CREATE OR REPLACE FUNCTION ml_cert_run_docs(p_run bigint) RETURNS TABLE (asset_id bigint, pos int, content jsonb)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
WITH r AS (
	SELECT r.run_id, to_char(r.run_date, 'YYYY-MM-DD') AS run_date, b.name AS place,
	       r.ambient_temp_c::text || ' ℃' AS temperature, r.ambient_rh_pct::text || ' %RH' AS humidity,
	       m.code AS model, m.name AS instrument, m.kind, coalesce(m.accuracy_class || '级', '') AS accuracy_class,
	       mf.name AS manufacturer,
	       CASE WHEN m.kind IN ('meter_1p', 'meter_3p') THEN
		 concat_ws(' ', trim_scale(m.un_v) || 'V', trim_scale(m.ib_a) || '(' || trim_scale(m.imax_a) || ')A',
		   m.constant_imp || 'imp/kWh', CASE m.connection WHEN 'direct' THEN '直接接入' ELSE '经互感器接入' END)
	       WHEN m.kind = 'ct' THEN concat_ws(' ', trim_scale(m.ct_primary_a) || '/' || trim_scale(m.ct_secondary_a) || 'A',
		   trim_scale(m.rated_burden_va) || 'VA')
	       WHEN m.kind = 'vt' THEN concat_ws(' ', trim_scale(m.vt_primary_v) || '/' || trim_scale(m.vt_secondary_v) || 'V',
		   trim_scale(m.rated_burden_va) || 'VA') ELSE '' END AS spec,
	       (SELECT default_client FROM issuer WHERE is_default) AS client,
	       coalesce(r.started_at, r.created_at) AS t
	FROM verification_run r JOIN lab_bench b ON b.bench_id = r.bench_id
	JOIN device_model m ON m.model_id = r.model_id JOIN manufacturer mf ON mf.manufacturer_id = m.manufacturer_id
	WHERE r.run_id = p_run),
std AS (
	SELECT coalesce(jsonb_agg(jsonb_build_object('name', rs.name, 'range', rs.range_text,
			'accuracy', rs.accuracy_class || '级', 'cert_no', sc.cert_no,
			'valid_until', to_char(sc.valid_until, 'YYYY-MM-DD')) ORDER BY rs.standard_id), '[]') AS j
	FROM verification_run r JOIN lab_bench_standard bs ON bs.bench_id = r.bench_id
	JOIN reference_standard rs ON rs.standard_id = bs.standard_id
	LEFT JOIN LATERAL (SELECT c.cert_no, c.valid_until FROM standard_certificate c WHERE c.standard_id = rs.standard_id
	  AND c.valid_from <= r.run_date AND c.valid_until >= r.run_date ORDER BY c.valid_until DESC LIMIT 1) sc ON true
	WHERE r.run_id = p_run),
lim AS (
	SELECT cert_setting_at('creep.max_pulses', r.t, ml_cert_setting_default('creep.max_pulses')) AS creep,
	       cert_setting_at('start.min_pulses', r.t, ml_cert_setting_default('start.min_pulses')) AS start
	FROM r),
d AS (
	SELECT s.asset_id, CASE WHEN s.kind IN ('ct', 'vt') THEN 'xfmr' ELSE s.kind END AS kind,
	  string_agg(DISTINCT nullif(cert_note_text(s.note), ''), '；') AS notes,
	  string_agg(CASE s.kind
	    WHEN 'creep' THEN s.pulses || ' 个脉冲（限值 ≤' || lim.creep || '）'
	    WHEN 'start' THEN s.pulses || ' 个脉冲（限值 ≥' || lim.start || '）'
	    WHEN 'clock' THEN cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)) || ' s/d'
	    WHEN 'constant' THEN CASE WHEN s.pulses = 0 THEN '无脉冲输出'
	      ELSE '误差 γ=' || cert_fmt_e4(s.gamma_e4, 2) || '%' END END, '；' ORDER BY s.step_no) AS measured
	FROM run_step_result s, lim WHERE s.run_id = p_run GROUP BY 1, 2),
it AS (
	SELECT c.asset_id, jsonb_agg(jsonb_build_object(
		'name', CASE c.item WHEN 'creep' THEN '潜动试验' WHEN 'start' THEN '起动试验' WHEN 'basic' THEN '基本误差'
			WHEN 'constant' THEN '仪表常数试验' WHEN 'clock' THEN '日计时误差' WHEN 'ratio' THEN '比值差'
			WHEN 'phase' THEN '相位差' ELSE c.item END,
		'conclusion', CASE c.verdict WHEN 'pass' THEN '合格' WHEN 'fail' THEN '不合格' END,
		'detail', coalesce(d.notes, d.measured))
	  ORDER BY array_position(ARRAY['creep', 'start', 'basic', 'constant', 'clock', 'ratio', 'phase'], c.item)) AS j
	FROM run_conclusion c LEFT JOIN d ON d.asset_id = c.asset_id
	  AND d.kind = CASE WHEN c.item IN ('ratio', 'phase') THEN 'xfmr' ELSE c.item END
	WHERE c.run_id = p_run AND c.item <> 'overall' GROUP BY c.asset_id),
rd AS (
	SELECT x.asset_id, x.step_no, string_agg(cert_fmt_e4(x.value_e4, 4), ' | ' ORDER BY x.reading_no) AS readings
	FROM run_reading x WHERE x.run_id = p_run GROUP BY x.asset_id, x.step_no),
er AS (
	SELECT s.asset_id, jsonb_agg(jsonb_build_object(
		'load', split_part(s.label, ' cosφ=', 1),
		'current', (SELECT trim_scale(coalesce(nullif(mm[1], '')::numeric, 1) * CASE mm[2] WHEN 'Ib' THEN m.ib_a
				WHEN 'In' THEN m.ib_a WHEN 'Imax' THEN m.imax_a END) || ' A'
			    FROM regexp_match(split_part(s.label, ' cosφ=', 1), '^([0-9.]*)(Ib|In|Imax)$') mm),
		'pf', split_part(split_part(s.label, ' cosφ=', 2), ' ', 1),
		'element', cert_element_text(split_part(split_part(s.label, ' cosφ=', 2), ' ', 2)),
		'readings', rd.readings,
		'mean', cert_fmt_e4(s.mean_e4, 4),
		'rounded', cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)),
		'limit', '±' || round(s.limit_e4::numeric / 10000, cert_e4_places(s.interval_e4)),
		'verdict', CASE s.verdict WHEN 'pass' THEN '合格' WHEN 'fail' THEN '不合格' END)
	  ORDER BY s.step_no) AS j
	FROM run_step_result s JOIN verification_run v ON v.run_id = s.run_id
	JOIN device_model m ON m.model_id = v.model_id
	LEFT JOIN rd ON rd.asset_id = s.asset_id AND rd.step_no = s.step_no
	WHERE s.run_id = p_run AND s.kind = 'basic' GROUP BY s.asset_id),
xf AS (
	SELECT s.asset_id, jsonb_agg(jsonb_build_object(
		'percent', split_part(s.label, ' ', 2),
		'burden', coalesce((SELECT trim_scale(bb[1]::numeric * m.rated_burden_va / 100) || ' VA'
				    FROM regexp_match(split_part(s.label, ' ', 3), '^([0-9.]+)%VA$') bb),
				   split_part(s.label, ' ', 3)),
		'ratio_error', cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)),
		'phase', cert_fmt_e4(s.rounded2_e4, cert_e4_places(coalesce(s.interval2_e4, 10000))),
		'ratio_limit', '±' || round(s.limit_e4::numeric / 10000, cert_e4_places(s.interval_e4)),
		'phase_limit', '±' || round(s.limit2_e4::numeric / 10000, cert_e4_places(coalesce(s.interval2_e4, 10000))),
		'verdict', CASE WHEN s.verdict = 'fail' OR s.verdict2 = 'fail' THEN '不合格'
				WHEN s.verdict = 'pass' THEN '合格' END)
	  ORDER BY s.step_no) AS j
	FROM run_step_result s JOIN verification_run v ON v.run_id = s.run_id
	JOIN device_model m ON m.model_id = v.model_id
	WHERE s.run_id = p_run AND s.kind IN ('ct', 'vt') GROUP BY s.asset_id)
SELECT p.asset_id, p.position,
       jsonb_strip_nulls(jsonb_build_object(
	'kind', CASE WHEN o.verdict = 'pass' THEN 1 ELSE 2 END,
	'record_no', 'R' || p_run || '-' || lpad(p.position::text, 2, '0'),
	'client', r.client, 'instrument', r.instrument, 'model', r.model, 'spec', r.spec,
	'barcode', p.barcode::text, 'manufacturer', r.manufacturer,
	'regulation', CASE r.kind WHEN 'ct' THEN 'JJG 313-2010 测量用电流互感器'
			WHEN 'vt' THEN 'JJG 314-2010 测量用电压互感器' ELSE 'JJG 596-2012 电子式交流电能表' END,
	'accuracy_class', r.accuracy_class,
	'conclusion', CASE WHEN o.verdict = 'pass' THEN '合格' ELSE '不合格' END,
	'verified_on', r.run_date,
	'valid_until', CASE WHEN o.verdict = 'pass' THEN to_char(o.valid_until, 'YYYY-MM-DD') END,
	'place', r.place, 'temperature', r.temperature, 'humidity', r.humidity,
	'standards', std.j, 'items', coalesce(it.j, '[]'), 'errors', coalesce(er.j, '[]'),
	'xfmr', coalesce(xf.j, '[]')))
FROM run_position p
JOIN run_conclusion o ON o.asset_id = p.asset_id AND o.run_id = p.run_id AND o.item = 'overall'
CROSS JOIN r CROSS JOIN std
LEFT JOIN it ON it.asset_id = p.asset_id LEFT JOIN er ON er.asset_id = p.asset_id LEFT JOIN xf ON xf.asset_id = p.asset_id
WHERE p.run_id = p_run
ORDER BY p.position
$$;
