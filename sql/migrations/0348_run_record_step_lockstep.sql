-- 0348 (issue 10): the step recorder reads its argument arrays without
-- materialising them, and finds an asset given twice without a subquery
-- per position.
--
-- Why: `FROM unnest(a, b, c, ...)` is ROWS FROM (unnest(a), unnest(b), ...):
-- the function scan writes every array into its own tuplestore before the
-- first row is read — 21 tuplestores for a step's 48 results, 8 for its 96
-- readings. The same arrays unnested in a select list (a ProjectSet node)
-- are read in lockstep, row by row, with the same answer: shorter arrays
-- padded with NULLs, no rows for empty or NULL arrays (PostgreSQL 10+). A
-- step's 48 results into a table: 0.10–0.15 ms as ROWS FROM, 0.045 ms in
-- a select list; its 96 readings 0.07 against 0.04 ms (2 000 calls, three
-- rounds, bench/RESULTS.md "Session 12"). The check that no asset is given
-- twice ran `(SELECT count(*) FROM unnest(s_asset) y WHERE y = x.a)` once
-- per position (48 subplan executions a step); an asset is now refused
-- when it appears earlier in the array (`x.a = ANY (s_asset[:i - 1])`).
--
-- Everything else is 0113's function unchanged: the same arguments, checks,
-- messages and rows. CREATE OR REPLACE keeps the owner and the grants.

-- Record one completed step: its readings and the judged result of every
-- position, in one transaction. Refuses a 'pass' that the stored readings
-- and the rules do not support (0113 lists the checks). Arrays are
-- parallel: one element per reading (r_*), one per position (s_*).
CREATE OR REPLACE FUNCTION ml_run_record_step(
	p_run bigint, p_step int, p_kind text, p_label text, p_started timestamptz,
	r_asset bigint[], r_reading_no int[], r_position int[], r_value bigint[], r_value2 bigint[], r_pulses bigint[],
	r_bench_result int[], r_at timestamptz[],
	s_asset bigint[], s_position int[], s_n int[], s_mean bigint[], s_rounded bigint[], s_mean2 bigint[],
	s_rounded2 bigint[], s_pulses bigint[], s_limit bigint[], s_ilimit bigint[], s_interval bigint[], s_limit2 bigint[],
	s_ilimit2 bigint[], s_interval2 bigint[], s_gamma bigint[], s_verdict text[], s_iverdict text[], s_verdict2 text[],
	s_verdict1 text[], s_note text[], s_elapsed bigint[]) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	r verification_run := ml_run_row(p_run);
	actor bigint := ml_run_require(r);
	m device_model;
	st scheme_step;
	k int;
	need bigint;
	reg bigint; reg2 bigint := 0;
	v_ivl bigint; v_ivl2 bigint := 0;
	dur bigint;
	on_rounded boolean := ml_setting('judge.verdict_on_rounded') = 'yes';
	xl record;
	at100 bigint; ph100 bigint;
	bad record;
	npos int;
BEGIN
	IF r.status <> 'running' THEN
		RAISE EXCEPTION 'run % is %: results are recorded while it is running', p_run, r.status USING ERRCODE = '55000';
	END IF;
	IF p_step IS NULL OR p_step NOT BETWEEN 0 AND r.steps_total - 1 THEN
		RAISE EXCEPTION 'run % has steps 1..%, not %', p_run, r.steps_total, coalesce(p_step + 1, 0) USING ERRCODE = '22023';
	END IF;
	k := array_position(ARRAY['creep', 'start', 'basic', 'constant', 'clock', 'ct', 'vt'], p_kind);
	IF r.scheme_id IS NOT NULL THEN
		SELECT * INTO st FROM scheme_step WHERE scheme_id = r.scheme_id AND seq = p_step + 1;
		IF k IS DISTINCT FROM st.kind::int THEN
			RAISE EXCEPTION 'run % step %: the scheme says %, not %', p_run, p_step + 1, ml_step_kind_name(st.kind),
				p_kind USING ERRCODE = '22023';
		END IF;
	ELSIF k IS NULL THEN
		RAISE EXCEPTION 'unknown step kind %', quote_literal(p_kind) USING ERRCODE = '22023';
	END IF;
	p_label := ml_clean_text('step label', p_label, 100);
	IF p_started IS NULL OR p_started < r.created_at - interval '1 hour' OR p_started > now() + interval '5 minutes' THEN
		RAISE EXCEPTION 'step start time % is outside the run (created %, now %)', p_started, r.created_at, now()
			USING ERRCODE = '22023';
	END IF;
	SELECT count(*) INTO npos FROM run_position WHERE run_id = p_run;
	IF coalesce(cardinality(s_asset), 0) <> npos THEN
		RAISE EXCEPTION 'run % step %: % results for % positions: every position has one', p_run, p_step + 1,
			coalesce(cardinality(s_asset), 0), npos USING ERRCODE = '22023';
	END IF;
	SELECT x.a, x.p INTO bad FROM (SELECT unnest(s_asset) a, unnest(s_position) p, generate_subscripts(s_asset, 1) i) x
	LEFT JOIN run_position rp ON rp.run_id = p_run AND rp.asset_id = x.a AND rp.position = x.p
	WHERE rp.asset_id IS NULL OR x.a = ANY (s_asset[:x.i - 1]) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % step %: asset % at position % is not a position of the run (or twice)', p_run, p_step + 1,
			bad.a, bad.p USING ERRCODE = '22023';
	END IF;
	SELECT x.a, x.p, x.no, x.at INTO bad
	FROM (SELECT unnest(r_asset) a, unnest(r_position) p, unnest(r_reading_no) no, unnest(r_at) at) x
	LEFT JOIN run_position rp ON rp.run_id = p_run AND rp.asset_id = x.a AND rp.position = x.p
	WHERE rp.asset_id IS NULL OR x.no IS NULL OR x.no < 1 OR x.at IS NULL
	   OR x.at < r.created_at - interval '1 hour' OR x.at > now() + interval '5 minutes' LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % step %: reading % of asset % at position % (measured %) does not belong to the run',
			p_run, p_step + 1, bad.no, bad.a, bad.p, bad.at USING ERRCODE = '22023';
	END IF;

	-- what the rules require of this step for this model
	SELECT * INTO m FROM device_model WHERE model_id = r.model_id;
	need := CASE k WHEN 3 THEN coalesce(nullif(st.readings, 0), ml_setting_e4('basic.readings'))
		       WHEN 5 THEN coalesce(nullif(st.readings, 0), ml_setting_e4('clock.readings'))
		       WHEN 6 THEN coalesce(nullif(st.readings, 0), ml_setting_e4('xfmr.readings'))
		       WHEN 7 THEN coalesce(nullif(st.readings, 0), ml_setting_e4('xfmr.readings')) END;
	IF k = 3 THEN
		reg := ml_reg_meter_limit(m.accuracy_class, m.connection, st.point_base, st.mult_e4, st.pf, st.element,
					  round(m.ib_a * 1000)::bigint, round(m.imax_a * 1000)::bigint);
		v_ivl := div(ml_meter_class_index(m.accuracy_class), 10);
	ELSIF k = 5 THEN
		reg := ml_setting_e4('clock.limit');
		v_ivl := ml_setting_e4('clock.interval');
	ELSIF k IN (6, 7) THEN
		SELECT * INTO xl FROM ml_reg_xfmr_limit(p_kind, m.accuracy_class, st.percent_e4);
		reg := xl.ratio_e4;
		reg2 := coalesce(xl.phase_e4, 0);
		SELECT l.ratio_e4, l.phase_e4 INTO at100, ph100 FROM reg_xfmr_limit l
		WHERE l.kind = p_kind AND l.class = ml_xfmr_class(m.accuracy_class)
		  AND l.idx = (SELECT count(*) - 2 FROM reg_xfmr_limit z WHERE z.kind = l.kind AND z.class = l.class);
		v_ivl := greatest(ml_div_he(at100::numeric * ml_setting_e4('xfmr.round_fraction'), 1000000), 1);
		v_ivl2 := CASE WHEN ph100 > 0 THEN ml_div_he(ph100::numeric * ml_setting_e4('xfmr.round_fraction'), 1000000) ELSE 0 END;
	ELSIF k = 4 THEN
		reg := ml_meter_class_index(m.accuracy_class);
	ELSIF k = 1 THEN
		dur := greatest(coalesce(nullif(st.duration_ms, 0), 0), ml_rule_creep_ms(r.model_id));
	ELSIF k = 2 THEN
		dur := coalesce(nullif(st.duration_ms, 0), ml_rule_start_ms(r.model_id));
	END IF;

	WITH res AS (
		SELECT unnest(s_asset) asset_id, unnest(s_position) pos, unnest(s_n) n, unnest(s_mean) mean,
		       unnest(s_rounded) rounded, unnest(s_mean2) mean2, unnest(s_rounded2) rounded2, unnest(s_pulses) pulses,
		       unnest(s_limit) lim, unnest(s_ilimit) ilim, unnest(s_interval) ivl, unnest(s_limit2) lim2,
		       unnest(s_verdict) verdict, unnest(s_elapsed) elapsed, unnest(s_gamma) gamma),
	rd AS (
		SELECT x.a AS asset_id, count(*) AS n, sum(x.v) AS s1, sum(x.v2) AS s2, count(x.v2) AS n2
		FROM (SELECT unnest(r_asset) a, unnest(r_value) v, unnest(r_value2) v2) x GROUP BY x.a),
	chk AS (
		SELECT res.pos, CASE
		WHEN res.verdict <> 'pass' THEN NULL
		WHEN k IN (3, 5, 6, 7) THEN CASE
			WHEN coalesce(rd.n, 0) < need OR rd.n <> res.n
				THEN format('%s readings where the scheme requires %s', coalesce(rd.n, 0), need)
			WHEN reg IS NULL OR res.lim IS NULL OR res.lim <= 0 OR res.lim > reg
				THEN format('limit %s is not within the regulation limit %s', coalesce(res.lim::text, 'NULL'),
					    coalesce(reg::text, '(none at this point)'))
			WHEN res.ilim IS NULL OR res.ilim > res.lim THEN 'internal limit wider than the limit'
			WHEN res.ivl IS DISTINCT FROM v_ivl
				THEN format('rounding interval %s is not the rule''s %s', coalesce(res.ivl::text, 'NULL'), v_ivl)
			WHEN res.mean IS DISTINCT FROM ml_div_he(rd.s1, rd.n)
			     OR res.rounded IS DISTINCT FROM ml_div_he(rd.s1, rd.n * v_ivl) * v_ivl
				THEN 'the mean or the rounded value does not follow from the readings'
			WHEN (on_rounded AND abs(res.rounded) > res.lim) OR (NOT on_rounded AND abs(rd.s1) > res.lim * rd.n)
				THEN 'a value beyond the limit is judged pass'
			WHEN k IN (6, 7) AND reg2 > 0 AND (rd.n2 <> rd.n OR res.lim2 IS NULL OR res.lim2 > reg2
				OR res.mean2 IS DISTINCT FROM ml_div_he(rd.s2, rd.n)
				OR res.rounded2 IS DISTINCT FROM ml_div_he(rd.s2, rd.n * v_ivl2) * v_ivl2
				OR (on_rounded AND abs(res.rounded2) > res.lim2) OR (NOT on_rounded AND abs(rd.s2) > res.lim2 * rd.n))
				THEN 'the phase displacement does not support a pass'
			END
		WHEN k = 1 THEN CASE
			WHEN res.pulses IS NULL OR res.pulses > ml_setting_e4('creep.max_pulses')
				THEN format('%s pulses in the creep test (at most %s pass, setting creep.max_pulses)',
					    coalesce(res.pulses::text, 'no count of'), ml_setting_e4('creep.max_pulses'))
			WHEN dur IS NULL OR res.elapsed IS NULL OR res.elapsed + 1000 < dur
				THEN format('the creep test ran %s s; the rule is %s s (domain.md §1.7)',
					    coalesce(trim_scale(res.elapsed / 1000.0)::text, 'no recorded time:'),
					    coalesce(trim_scale(dur / 1000.0)::text, '(unknown)'))
			END
		WHEN k = 2 THEN CASE
			WHEN res.pulses IS NULL OR res.pulses < ml_setting_e4('start.min_pulses')
				THEN format('%s pulses in the starting test (at least %s, setting start.min_pulses)',
					    coalesce(res.pulses::text, 'no count of'), ml_setting_e4('start.min_pulses'))
			WHEN dur IS NULL OR res.elapsed IS NULL OR res.elapsed <= 0 OR res.elapsed > dur
				THEN format('the meter started after %s s; the limit is %s s (domain.md §1.6)',
					    coalesce(trim_scale(res.elapsed / 1000.0)::text, 'no recorded time:'),
					    coalesce(trim_scale(dur / 1000.0)::text, '(unknown)'))
			END
		WHEN k = 4 THEN CASE
			WHEN coalesce(res.pulses, 0) <= 0 THEN 'no pulses in the constant test'
			WHEN ml_setting('constant.by_pulses') = 'no' AND (res.gamma IS NULL OR abs(res.gamma) > reg)
				THEN 'the constant-test error does not support a pass (|γ| ≤ class index, domain.md §1.8)'
			END
		END AS problem
		FROM res LEFT JOIN rd USING (asset_id))
	SELECT chk.pos, chk.problem INTO bad FROM chk WHERE chk.problem IS NOT NULL ORDER BY chk.pos LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % step % (%), position %: pass refused: %', p_run, p_step + 1, p_label, bad.pos, bad.problem
			USING ERRCODE = '22023';
	END IF;

	BEGIN
		INSERT INTO run_step (run_id, step_no, kind, label, started_at) VALUES (p_run, p_step, p_kind, p_label, p_started);
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'run %: step % (%) was already completed', p_run, p_step + 1, p_label USING ERRCODE = '23505';
	END;
	INSERT INTO run_reading (asset_id, run_id, step_no, reading_no, position, value_e4, value2_e4, pulses, bench_result,
				 measured_at)
	SELECT x.a, p_run, p_step, x.no, x.p, x.v, x.v2, x.pl, coalesce(x.br, 0), x.at
	FROM (SELECT unnest(r_asset) a, unnest(r_reading_no) no, unnest(r_position) p, unnest(r_value) v,
		     unnest(r_value2) v2, unnest(r_pulses) pl, unnest(r_bench_result) br, unnest(r_at) at) x;
	INSERT INTO run_step_result (run_id, step_no, kind, label, measured_at, asset_id, position, n_readings, mean_e4,
				     rounded_e4, mean2_e4, rounded2_e4, pulses, limit_e4, internal_limit_e4, interval_e4,
				     limit2_e4, internal_limit2_e4, interval2_e4, gamma_e4, verdict, internal_verdict, verdict2,
				     verdict1, note, elapsed_ms)
	SELECT p_run, p_step, p_kind, p_label, now(), unnest(s_asset), unnest(s_position), unnest(s_n), unnest(s_mean),
	       unnest(s_rounded), unnest(s_mean2), unnest(s_rounded2), unnest(s_pulses), unnest(s_limit), unnest(s_ilimit),
	       unnest(s_interval), unnest(s_limit2), unnest(s_ilimit2), unnest(s_interval2), unnest(s_gamma),
	       unnest(s_verdict), unnest(s_iverdict), unnest(s_verdict2), unnest(s_verdict1), unnest(s_note),
	       unnest(s_elapsed);
END
$$;
