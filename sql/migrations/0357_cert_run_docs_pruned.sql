-- 0357 (issue 10): a run's certificate documents are made from the
-- partitions of the run's time, chosen when the statement is planned.
--
-- Why: ml_cert_run_docs (0141, 0160) read the run's step results three
-- times, and its readings once more through the run_reading view, by
-- run_id alone. run_step_result is partitioned by the time each result was
-- stored, so every one of those four scans named all 145 monthly
-- partitions, and a LANGUAGE sql function is planned at every call: on a
-- run of 24 meters (bench_runner_overhead's), EXPLAIN ANALYZE of the body
-- gave 168 ms of planning and 84 ms of execution, and each call took
-- 180-280 ms, in a warm session too. Every `meterlab cert draft` of a run
-- (and the server's) paid it, and it grows with the partitions the years
-- add.
--
-- Now the function is PL/pgSQL: it computes the run's window first, the
-- one its conclusion reads (ml_run_conclude, 0356: from a day before the
-- run was created to a day after it finished; every result is stored by
-- the recorder inside it, at the time of its transaction), and returns the
-- same query with each read of results bounded by it. With the bounds as
-- constants of the plan (force_custom_plan) the planner opens only the
-- partitions they can touch. Rows loaded otherwise (by a DBA, or the test
-- fixtures that spread results over months) keep their own times: as in
-- ml_cert_run_problem (0343), the results of the concluded assets' steps
-- are counted in the window first, and any shortfall reads every
-- partition, as before. Columns, rows, ROWS 1 (0351), the grants and the
-- documents are unchanged; a run that does not exist gives no rows, as
-- before. #variable_conflict use_column: the body names the result's
-- columns (asset_id, pos, content) as table columns, as it did in SQL.
--
-- The per-asset parts (it, er, xf) are MATERIALIZED: the positions are
-- estimated at one row, so the planner joined them by nested loops and
-- recomputed each aggregate over the whole run once per position (loops=24
-- in the plan, quadratic in the run's size). Computed once, the call on
-- the same run took 13-17 ms in a warm session and 55-60 ms in a new one,
-- against 180-280 ms before; its 24 documents were identical.

CREATE OR REPLACE FUNCTION ml_cert_run_docs(p_run bigint) RETURNS TABLE (asset_id bigint, pos int, content jsonb)
	LANGUAGE plpgsql STABLE ROWS 1 SET search_path = public, pg_temp SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
	lo timestamptz;
	hi timestamptz;
	concluded bigint[];
	steps int[];
BEGIN
	SELECT r.created_at - interval '1 day', coalesce(r.finished_at, now()) + interval '1 day' INTO lo, hi
	FROM verification_run r WHERE r.run_id = p_run;
	-- every concluded asset has a result of every completed step in the
	-- window (counted there, as ml_cert_run_problem does); rows loaded
	-- otherwise keep their own times, and then every partition is read
	SELECT array_agg(o.asset_id) INTO concluded FROM run_conclusion o WHERE o.run_id = p_run AND o.item = 'overall';
	SELECT array_agg(x.step_no) INTO steps FROM run_step x WHERE x.run_id = p_run;
	IF ml_run_result_pairs(p_run, lo, hi, concluded, steps)
	   IS DISTINCT FROM coalesce(cardinality(concluded), 0) * coalesce(cardinality(steps), 0) THEN
		lo := '-infinity';
		hi := 'infinity';
	END IF;
	RETURN QUERY
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
		FROM run_step_result s, lim WHERE s.run_id = p_run AND s.measured_at >= lo AND s.measured_at < hi GROUP BY 1, 2),
	it AS MATERIALIZED (
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
		FROM run_reading x WHERE x.run_id = p_run AND x.result_at >= lo AND x.result_at < hi
		GROUP BY x.asset_id, x.step_no),
	er AS MATERIALIZED (
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
		WHERE s.run_id = p_run AND s.measured_at >= lo AND s.measured_at < hi AND s.kind = 'basic' GROUP BY s.asset_id),
	xf AS MATERIALIZED (
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
		WHERE s.run_id = p_run AND s.measured_at >= lo AND s.measured_at < hi AND s.kind IN ('ct', 'vt')
		GROUP BY s.asset_id)
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
	ORDER BY p.position;
END
$$;
