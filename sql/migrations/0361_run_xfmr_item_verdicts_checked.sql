-- 0361: a transformer step's item verdicts are checked against its readings.
--
-- The hole: ml_run_record_step (0113, last 0349) re-checked a position's
-- result against the readings, the limits and the rounding only when the
-- step's combined `verdict` was 'pass'. A CT/VT step has two items, and
-- ml_run_conclude (0032, last 0356) concludes them from `verdict1` (ratio
-- error) and `verdict2` (phase displacement), never from `verdict`. So a
-- person with run.execute or run.manual could record verdict 'fail',
-- verdict1 'pass', verdict2 'pass' with any readings: a class 0.2S CT with
-- a ratio error of +5.00 % against ±0.20 % (IEC 61869-2 / JJG 313-2010 at
-- 100 % of rated current, domain.md §2.1) was concluded 合格, went to
-- in_stock, and got a certificate 合格 whose own table (drawn from the
-- step's `verdict`, 0357) said 不合格. The manual path (lab/manual.c) stores
-- through the same function, so it had the same hole; no other function
-- writes step results or conclusions.
--
-- Now, for a ct/vt step, ml_run_record_step checks every pass that a
-- conclusion can be drawn from, with the same exact integer arithmetic:
-- * verdict1 'pass' (or the step's 'pass'): the ratio error readings, the
--   limit within the regulation's for the class and point (IEC 61869-2 /
--   JJG 313-2010 for CTs, domain.md §2.1; IEC 61869-3 / JJG 314-2010 for
--   VTs, §2.2; reg_xfmr_limit), the rounding interval, the mean and rounded
--   value, the judged value within the limit;
-- * verdict2 'pass' (or the step's 'pass' where the class has a phase
--   limit): the same for the phase displacement; a class without a phase
--   limit (CT 3, 5; VT 3) has no phase item that can pass;
-- * the step's verdict is its items' (lab/judge.c both(), what the runner
--   and the manual path send): 'fail' when an item fails, else 'pass' when
--   an item passes; items both 'none' (no phase limit, or no readings) leave
--   the step's verdict to stand for the ratio item, as ml_run_conclude
--   reads it. Where the class has a phase limit a passing step has both
--   items judged 'pass'.
-- The refusal names the run, step, position, barcode, item, value and
-- limit. Results recorded before this migration are not rewritten (they
-- are history): ml_run_conclude refuses to conclude a run with a
-- contradicting transformer step (55000: abort it and verify again), and
-- ml_cert_run_problem refuses a certificate for one. Such rows are found by
--   SELECT run_id, step_no, asset_id FROM run_step_result
--   WHERE kind IN ('ct', 'vt') AND NOT ml_xfmr_verdicts_agree(verdict, verdict1, verdict2);
-- (a scan of every result: run it when convenient, not in this migration).
--
-- Each function is re-created whole (CREATE OR REPLACE needs the whole
-- body; landed migrations are checksummed): the recorder from 0349, the
-- conclusion from 0356, the certificate check from 0353 with 0355's
-- enable_seqscan = on. Everything else in them is unchanged.

-- A value × 1e4 as text with its four decimals (5.0000, -0.0500), with a
-- '+' on a positive one when p_sign.
CREATE FUNCTION ml_e4_text(v bigint, p_sign boolean) RETURNS text
	LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_sign AND v > 0 THEN '+' ELSE '' END || (v::numeric / 10000)::numeric(24, 4)::text
$$;

-- Whether a transformer step's verdict is the one its items give
-- (lab/judge.c both()): items both 'none' leave the verdict to stand for
-- the ratio item; otherwise it is 'fail' when an item fails, else 'pass'.
CREATE FUNCTION ml_xfmr_verdicts_agree(p_verdict text, p_verdict1 text, p_verdict2 text) RETURNS boolean
	LANGUAGE sql IMMUTABLE AS $$
	SELECT (p_verdict1 = 'none' AND p_verdict2 = 'none')
	    OR p_verdict = CASE WHEN p_verdict1 = 'fail' OR p_verdict2 = 'fail' THEN 'fail' ELSE 'pass' END
$$;

-- 0349's recorder; a transformer step's items checked (see above), the
-- barcode in the refusal.
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
	-- for the messages of a transformer step: its point and what is measured there
	pct text;
	rated text := CASE p_kind WHEN 'ct' THEN 'current' ELSE 'voltage' END;
	clause text := CASE p_kind WHEN 'ct' THEN 'IEC 61869-2 / JJG 313-2010, domain.md §2.1'
				   ELSE 'IEC 61869-3 / JJG 314-2010, domain.md §2.2' END;
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
	-- the same reading twice (0031-0348: refused by run_reading's key)
	SELECT y.a, y.no, y.at INTO bad
	FROM (SELECT unnest(r_asset) a, unnest(r_reading_no) no, unnest(r_at) at) y
	GROUP BY y.a, y.no, y.at HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % step %: reading % of asset % (measured %) is given twice', p_run, p_step + 1, bad.no,
			bad.a, bad.at USING ERRCODE = '22023';
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
		pct := coalesce(trim_scale(st.percent_e4 / 10000.0)::text, '?');
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
		       unnest(s_verdict) verdict, unnest(s_elapsed) elapsed, unnest(s_gamma) gamma,
		       unnest(s_verdict1) verdict1, unnest(s_verdict2) verdict2),
	rd AS (
		SELECT x.a AS asset_id, count(*) AS n, sum(x.v) AS s1, sum(x.v2) AS s2, count(x.v2) AS n2
		FROM (SELECT unnest(r_asset) a, unnest(r_value) v, unnest(r_value2) v2) x GROUP BY x.a),
	chk AS (
		SELECT res.pos, a.barcode, CASE
		-- 0361: a transformer step has two items, and ml_run_conclude
		-- concludes the ratio item from verdict1 and the phase item from
		-- verdict2 (0032), not from the step's verdict: each item verdict
		-- that says pass is checked against the readings and the limit of
		-- its own quantity, whatever the step's verdict says, and the
		-- step's verdict must be the one its items give
		WHEN k IN (6, 7) THEN coalesce(
			-- ratio error (%): the ratio item's pass, or the step's when it
			-- carries no item verdicts (no phase limit, or no readings)
			CASE WHEN res.verdict = 'pass' OR res.verdict1 = 'pass' THEN CASE
			WHEN coalesce(rd.n, 0) < need OR rd.n <> res.n
				THEN format('%s readings where the scheme requires %s', coalesce(rd.n, 0), need)
			WHEN reg IS NULL OR res.lim IS NULL OR res.lim <= 0 OR res.lim > reg
				THEN format('ratio error limit %s %% is not within the regulation limit %s (class %s at %s %% of rated %s, %s)',
					    coalesce(ml_e4_text(res.lim, false), 'NULL'), coalesce('±' || ml_e4_text(reg, false) || ' %', '(none at this point)'),
					    m.accuracy_class, pct, rated, clause)
			WHEN res.ilim IS NULL OR res.ilim > res.lim THEN 'internal limit wider than the limit'
			WHEN res.ivl IS DISTINCT FROM v_ivl
				THEN format('rounding interval %s is not the rule''s %s', coalesce(res.ivl::text, 'NULL'), v_ivl)
			WHEN res.mean IS DISTINCT FROM ml_div_he(rd.s1, rd.n)
			     OR res.rounded IS DISTINCT FROM ml_div_he(rd.s1, rd.n * v_ivl) * v_ivl
				THEN 'the mean or the rounded value of the ratio error does not follow from the readings'
			-- the same exact comparison as the meters' (judge.c mean_within / within)
			WHEN (on_rounded AND abs(res.rounded) > res.lim) OR (NOT on_rounded AND abs(rd.s1) > res.lim * rd.n)
				THEN format('ratio error %s %% (%s) is beyond the limit ±%s %% (class %s at %s %% of rated %s, %s): '
					    'a value beyond the limit is judged pass (item ratio %s, step %s)',
					    ml_e4_text(CASE WHEN on_rounded THEN res.rounded ELSE res.mean END, true),
					    CASE WHEN on_rounded THEN 'rounded' ELSE 'mean' END, ml_e4_text(res.lim, false),
					    m.accuracy_class, pct, rated, clause, res.verdict1, res.verdict)
			END END,
			-- phase displacement (minutes): the phase item's pass, or the
			-- step's pass where the class has a phase limit
			CASE WHEN (res.verdict = 'pass' AND reg2 > 0) OR res.verdict2 = 'pass' THEN CASE
			WHEN reg2 <= 0
				THEN format('class %s has no phase displacement limit at %s %% of rated %s (%s): '
					    'the phase item cannot pass', m.accuracy_class, pct, rated, clause)
			WHEN coalesce(rd.n, 0) < need OR rd.n <> res.n OR rd.n2 <> rd.n
				THEN format('the phase displacement does not support a pass: %s of %s readings carry one, the scheme requires %s',
					    coalesce(rd.n2, 0), coalesce(rd.n, 0), need)
			WHEN res.lim2 IS NULL OR res.lim2 <= 0 OR res.lim2 > reg2
				THEN format('the phase displacement does not support a pass: limit %s′ is not within the regulation limit ±%s′ '
					    '(class %s at %s %% of rated %s, %s)', coalesce(ml_e4_text(res.lim2, false), 'NULL'), ml_e4_text(reg2, false),
					    m.accuracy_class, pct, rated, clause)
			WHEN res.mean2 IS DISTINCT FROM ml_div_he(rd.s2, rd.n)
			     OR res.rounded2 IS DISTINCT FROM ml_div_he(rd.s2, rd.n * v_ivl2) * v_ivl2
				THEN 'the phase displacement does not support a pass: its mean or rounded value does not follow from the readings'
			WHEN (on_rounded AND abs(res.rounded2) > res.lim2) OR (NOT on_rounded AND abs(rd.s2) > res.lim2 * rd.n)
				THEN format('the phase displacement does not support a pass: %s′ (%s) is beyond the limit ±%s′ '
					    '(class %s at %s %% of rated %s, %s; item phase %s, step %s)',
					    ml_e4_text(CASE WHEN on_rounded THEN res.rounded2 ELSE res.mean2 END, true),
					    CASE WHEN on_rounded THEN 'rounded' ELSE 'mean' END, ml_e4_text(res.lim2, false),
					    m.accuracy_class, pct, rated, clause, res.verdict2, res.verdict)
			END END,
			-- the step's verdict is its items' (lab/judge.c both()): fail
			-- when an item fails, else pass when one passes; with a phase
			-- limit a passing step has both items judged, and passed
			CASE WHEN NOT ml_xfmr_verdicts_agree(res.verdict, res.verdict1, res.verdict2)
				THEN format('the step''s verdict %s contradicts its items (ratio %s, phase %s): '
					    'it is fail when an item fails, pass when the items pass', res.verdict,
					    res.verdict1, res.verdict2)
			     WHEN res.verdict = 'pass' AND reg2 > 0 AND (res.verdict1 <> 'pass' OR res.verdict2 <> 'pass')
				THEN format('a pass of class %s at %s %% needs both items judged pass (ratio %s, phase %s)',
					    m.accuracy_class, pct, res.verdict1, res.verdict2)
			END)
		WHEN res.verdict <> 'pass' THEN NULL
		WHEN k IN (3, 5) THEN CASE
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
		FROM res LEFT JOIN rd USING (asset_id) LEFT JOIN asset a ON a.asset_id = res.asset_id)
	SELECT chk.pos, chk.barcode, chk.problem INTO bad FROM chk WHERE chk.problem IS NOT NULL ORDER BY chk.pos LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % step % (%), position % (asset %): pass refused: %', p_run, p_step + 1, p_label, bad.pos,
			bad.barcode, bad.problem USING ERRCODE = '22023';
	END IF;

	-- ON CONFLICT, not an exception block: a block with EXCEPTION starts a
	-- subtransaction at every call (and its own transaction id for the
	-- rows written in it) only to catch a step recorded twice
	INSERT INTO run_step (run_id, step_no, kind, label, started_at) VALUES (p_run, p_step, p_kind, p_label, p_started)
	ON CONFLICT (run_id, step_no) DO NOTHING;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run %: step % (%) was already completed', p_run, p_step + 1, p_label USING ERRCODE = '23505';
	END IF;
	-- each position's readings ride in its result row (0349) as parallel
	-- arrays (one Agg feeds every array_agg the same rows in the same
	-- order, so element i of each is one reading; readers order by reading
	-- number); every reading's asset has a result (the checks above), so the
	-- join loses none
	INSERT INTO run_step_result (run_id, step_no, kind, label, measured_at, asset_id, position, n_readings, mean_e4,
				     rounded_e4, mean2_e4, rounded2_e4, pulses, limit_e4, internal_limit_e4, interval_e4,
				     limit2_e4, internal_limit2_e4, interval2_e4, gamma_e4, verdict, internal_verdict, verdict2,
				     verdict1, note, elapsed_ms, reading_no, reading_value_e4, reading_value2_e4,
				     reading_pulses, reading_bench_result, reading_at)
	SELECT p_run, p_step, p_kind, p_label, now(), x.*, g.no, g.v, g.v2, g.pl, g.br, g.at
	FROM (SELECT unnest(s_asset) a, unnest(s_position), unnest(s_n), unnest(s_mean), unnest(s_rounded),
		     unnest(s_mean2), unnest(s_rounded2), unnest(s_pulses), unnest(s_limit), unnest(s_ilimit),
		     unnest(s_interval), unnest(s_limit2), unnest(s_ilimit2), unnest(s_interval2), unnest(s_gamma),
		     unnest(s_verdict), unnest(s_iverdict), unnest(s_verdict2), unnest(s_verdict1), unnest(s_note),
		     unnest(s_elapsed)) x
	LEFT JOIN (SELECT y.a, array_agg(y.no) no, array_agg(y.v) v, array_agg(y.v2) v2, array_agg(y.pl) pl,
			  array_agg(coalesce(y.br, 0)::smallint) br, array_agg(y.at) at
		   FROM (SELECT unnest(r_asset) a, unnest(r_reading_no) no, unnest(r_value) v, unnest(r_value2) v2,
				unnest(r_pulses) pl, unnest(r_bench_result) br, unnest(r_at) at) y
		   GROUP BY y.a) g ON g.a = x.a;
END
$$;

-- 0356's conclusion; a contradicting transformer step refused first.
CREATE OR REPLACE FUNCTION ml_run_conclude(p_run bigint, OUT passed int, OUT failed int, OUT untested int)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
	SET plan_cache_mode = force_custom_plan AS $$
DECLARE
	r verification_run := ml_run_row(p_run);
	actor bigint := ml_run_require(r);
	done int;
	period int;
	until date;
	changes ml_asset_change[];
	skipped text;
	lo timestamptz;
	hi timestamptz;
	bad record;
BEGIN
	IF r.status <> 'running' THEN
		RAISE EXCEPTION 'run % is %: only a running run is concluded', p_run, r.status USING ERRCODE = '55000';
	END IF;
	SELECT count(*) INTO done FROM run_step WHERE run_id = p_run;
	IF done <> r.steps_total THEN
		RAISE EXCEPTION 'run % has % of % steps completed: cannot conclude', p_run, done, r.steps_total
			USING ERRCODE = '55000';
	END IF;
	SELECT verification_period_months INTO period FROM device_model WHERE model_id = r.model_id;
	until := (r.run_date + make_interval(months => period))::date - 1;
	-- the window of the run's results, as values the planner prunes by (see above)
	lo := r.created_at - interval '1 day';
	hi := coalesce(r.finished_at, now()) + interval '1 day';
	-- 0361: a transformer step whose verdict contradicts its items (only
	-- a step recorded before 0361 can) concludes nothing: its ratio and
	-- phase items would be concluded from item verdicts nobody checked
	SELECT p.position, p.barcode, s.step_no, s.label, s.verdict, s.verdict1, s.verdict2 INTO bad
	FROM run_step_result s JOIN run_position p ON p.run_id = s.run_id AND p.asset_id = s.asset_id
	WHERE s.run_id = p_run AND s.measured_at >= lo AND s.measured_at < hi AND s.kind IN ('ct', 'vt')
	  AND NOT ml_xfmr_verdicts_agree(s.verdict, s.verdict1, s.verdict2)
	ORDER BY p.position, s.step_no LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % step % (%), position % (asset %): the step''s verdict % contradicts its items '
			'(ratio %, phase %): not concluded; abort the run and verify again', p_run, bad.step_no + 1, bad.label,
			bad.position, bad.barcode, bad.verdict, bad.verdict1, bad.verdict2 USING ERRCODE = '55000';
	END IF;

	WITH res AS (
		SELECT s.asset_id, s.kind, s.verdict, s.internal_verdict, s.verdict1, s.verdict2
		FROM run_step_result s
		WHERE s.run_id = p_run AND s.measured_at >= lo AND s.measured_at < hi),
	items AS (
		SELECT asset_id, CASE kind WHEN 'ct' THEN 'ratio' WHEN 'vt' THEN 'ratio' ELSE kind END AS item,
		       CASE WHEN kind IN ('ct', 'vt') AND verdict1 <> 'none' THEN verdict1 ELSE verdict END AS v,
		       CASE WHEN kind IN ('ct', 'vt') THEN CASE WHEN verdict1 <> 'none' THEN verdict1 ELSE verdict END
			    ELSE internal_verdict END AS iv
		FROM res
		UNION ALL
		SELECT asset_id, 'phase', verdict2, verdict2 FROM res WHERE kind IN ('ct', 'vt')),
	folded AS (
		SELECT asset_id, item,
		       CASE WHEN bool_or(v = 'fail') THEN 'fail' WHEN bool_or(v = 'pass') THEN 'pass' ELSE 'none' END AS v,
		       CASE WHEN bool_or(iv = 'fail') THEN 'fail' WHEN bool_or(iv = 'pass') THEN 'pass' ELSE 'none' END AS iv
		FROM items GROUP BY asset_id, item),
	tested AS (
		SELECT p.asset_id, NOT EXISTS (SELECT 1 FROM res WHERE res.asset_id = p.asset_id AND res.verdict = 'none') AS ok
		FROM run_position p WHERE p.run_id = p_run),
	overall AS (
		SELECT f.asset_id,
		       CASE WHEN bool_or(f.v = 'fail') THEN 'fail' WHEN bool_or(f.v = 'pass') THEN 'pass' ELSE 'none' END AS v,
		       CASE WHEN bool_or(f.iv = 'fail') THEN 'fail' WHEN bool_or(f.iv = 'pass') THEN 'pass' ELSE 'none' END AS iv
		FROM folded f GROUP BY f.asset_id)
	INSERT INTO run_conclusion (run_id, asset_id, item, verdict, internal_verdict, valid_until)
	SELECT p_run, c.asset_id, c.item, c.v, c.iv, CASE WHEN c.item = 'overall' AND c.v = 'pass' THEN until END
	FROM (SELECT asset_id, item, v, iv FROM folded WHERE v <> 'none'
	      UNION ALL SELECT asset_id, 'overall', v, iv FROM overall WHERE v <> 'none') c
	JOIN tested t ON t.asset_id = c.asset_id AND t.ok;

	SELECT count(*) FILTER (WHERE c.verdict = 'pass'), count(*) FILTER (WHERE c.verdict = 'fail')
	INTO passed, failed FROM run_conclusion c WHERE c.run_id = p_run AND c.item = 'overall';
	SELECT count(*) - passed - failed INTO untested FROM run_position WHERE run_id = p_run;

	-- move the assets still on the bench; one moved away by the DBA meanwhile is named, not fatal
	SELECT array_agg(ROW(a.asset_id, 'verifying',
			     CASE c.verdict WHEN 'pass' THEN 'in_stock' WHEN 'fail' THEN 'failed' ELSE 'reverify' END,
			     CASE c.verdict WHEN 'pass' THEN 'verify_pass' WHEN 'fail' THEN 'verify_fail' ELSE 'verify_abort' END,
			     NULL, c.verdict = 'pass', CASE WHEN c.verdict = 'pass' THEN until END,
			     CASE c.verdict WHEN 'pass' THEN 'verification passed' WHEN 'fail' THEN 'verification failed'
				  ELSE 'not present on the bench: not verified' END,
			     jsonb_build_object('run_id', p_run))::ml_asset_change ORDER BY p.position)
		 FILTER (WHERE a.state = 'verifying'),
	       string_agg(a.barcode || ' (' || a.state || ')', ', ' ORDER BY p.position) FILTER (WHERE a.state <> 'verifying')
	INTO changes, skipped
	FROM run_position p JOIN asset a ON a.asset_id = p.asset_id
	LEFT JOIN run_conclusion c ON c.run_id = p_run AND c.asset_id = p.asset_id AND c.item = 'overall'
	WHERE p.run_id = p_run;
	PERFORM ml_asset_apply(actor, changes);
	UPDATE verification_run SET status = 'finished', finished_at = now(),
		last_error = CASE WHEN skipped IS NOT NULL THEN 'not moved, no longer on the bench: ' || skipped END
	WHERE run_id = p_run;
END
$$;

-- 0353's check (with 0355's enable_seqscan = on); a contradicting
-- transformer step of a certified asset is named.
CREATE OR REPLACE FUNCTION ml_cert_run_problem(p_run bigint, p_assets bigint[]) RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan
	SET enable_seqscan = on AS $$
DECLARE
	r verification_run;
	n int;
	bad record;
	concluded bigint[];
	steps int[];
	items text[];
	until date;
	n_items bigint;
	contradicts boolean;
	misdated boolean;
BEGIN
	SELECT * INTO r FROM verification_run WHERE run_id = p_run;
	IF NOT FOUND THEN
		RETURN format('run %s not found', p_run);
	END IF;
	IF r.status <> 'finished' THEN
		RETURN format('run %s is %s, not finished: certificates come from finished runs only', p_run, r.status);
	END IF;
	SELECT count(*) INTO n FROM scheme s JOIN scheme_step st USING (scheme_id)
	WHERE s.code = r.scheme_code AND s.version = r.scheme_version;
	IF n = 0 THEN
		RETURN format('run %s names scheme %s version %s, which does not exist: no certificate without the scheme it followed',
			      p_run, r.scheme_code, r.scheme_version);
	END IF;
	IF n <> r.steps_total THEN
		RETURN format('run %s records %s steps, its scheme %s version %s has %s', p_run, r.steps_total,
			      r.scheme_code, r.scheme_version, n);
	END IF;
	SELECT st.seq, (ARRAY['creep', 'start', 'basic', 'constant', 'clock', 'ct', 'vt'])[st.kind] AS kind INTO bad
	FROM scheme s JOIN scheme_step st USING (scheme_id)
	WHERE s.code = r.scheme_code AND s.version = r.scheme_version
	  AND NOT EXISTS (SELECT 1 FROM run_step x WHERE x.run_id = p_run AND x.step_no = st.seq - 1
			  AND x.kind = (ARRAY['creep', 'start', 'basic', 'constant', 'clock', 'ct', 'vt'])[st.kind])
	ORDER BY st.seq LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s has no completed step %s (%s) of scheme %s version %s', p_run, bad.seq, bad.kind,
			      r.scheme_code, r.scheme_version);
	END IF;
	-- Counted first, each table read once by the run's key: the completed
	-- steps and their items, the rule's validity date, then the
	-- conclusions of the run (0353: in one statement, grouped by asset),
	-- then the distinct (asset, step) results of the concluded assets.
	-- Only a shortfall looks for the first position to name.
	SELECT array_agg(x.step_no),
	       array_agg(DISTINCT i) FILTER (WHERE i IS NOT NULL)
	INTO steps, items
	FROM run_step x
	LEFT JOIN LATERAL unnest(CASE WHEN x.kind IN ('ct', 'vt') THEN ARRAY['ratio', 'phase'] ELSE ARRAY[x.kind] END) i ON true
	WHERE x.run_id = p_run;
	SELECT (r.run_date + make_interval(months => m.verification_period_months))::date - 1 INTO until
	FROM device_model m WHERE m.model_id = r.model_id;
	-- Which item a row is stays in FILTER clauses and aggregates, out of
	-- WHERE: `item = 'overall'` in WHERE matches the partial index
	-- run_conclusion_concluded, which a plan made before the table has
	-- statistics (a fresh or freshly loaded database; the plan is then
	-- kept for the session) scanned for every run's overall conclusions.
	IF p_assets IS NULL THEN
		SELECT array_agg(a.asset_id) FILTER (WHERE a.concluded), sum(a.n) FILTER (WHERE a.concluded),
		       bool_or(a.pass AND a.failed), bool_or(a.misdated)
		INTO concluded, n_items, contradicts, misdated
		FROM (SELECT c.asset_id, bool_or(c.item = 'overall') AS concluded,
			     count(*) FILTER (WHERE c.item = ANY (items)) AS n,
			     bool_or(c.item = 'overall' AND c.verdict = 'pass') AS pass,
			     bool_or(c.item <> 'overall' AND c.verdict <> 'pass') AS failed,
			     bool_or(c.item = 'overall' AND c.verdict = 'pass' AND c.valid_until IS DISTINCT FROM until) AS misdated
		      FROM run_conclusion c WHERE c.run_id = p_run GROUP BY c.asset_id) a;
	ELSE
		SELECT array_agg(a.asset_id) FILTER (WHERE a.concluded), sum(a.n) FILTER (WHERE a.concluded),
		       bool_or(a.pass AND a.failed), bool_or(a.misdated)
		INTO concluded, n_items, contradicts, misdated
		FROM (SELECT c.asset_id, bool_or(c.item = 'overall') AS concluded,
			     count(*) FILTER (WHERE c.item = ANY (items)) AS n,
			     bool_or(c.item = 'overall' AND c.verdict = 'pass') AS pass,
			     bool_or(c.item <> 'overall' AND c.verdict <> 'pass') AS failed,
			     bool_or(c.item = 'overall' AND c.verdict = 'pass' AND c.valid_until IS DISTINCT FROM until) AS misdated
		      FROM run_conclusion c WHERE c.asset_id = ANY (p_assets) AND c.run_id = p_run GROUP BY c.asset_id) a;
		-- A certificate attests a conclusion: an asset asked about must have
		-- one in this run (the whole-run form cannot tell a conclusion
		-- removed after drafting from a position never concluded).
		SELECT x, a.barcode INTO bad FROM unnest(p_assets) x LEFT JOIN asset a ON a.asset_id = x
		WHERE x <> ALL (coalesce(concluded, '{}')) ORDER BY x LIMIT 1;
		IF FOUND THEN
			RETURN format('run %s: asset %s has no overall conclusion in it', p_run, coalesce(bad.barcode, bad.x::text));
		END IF;
	END IF;
	-- The results ml_run_record_step stored are in the partitions of the
	-- run's time (the window ml_run_conclude concludes from, 0113): counted
	-- there first, which reads one or two partitions. Rows loaded otherwise
	-- keep their own times, so a shortfall counts again in every partition.
	n := ml_run_result_pairs(p_run, r.created_at - interval '1 day', coalesce(r.finished_at, now()) + interval '1 day',
				 concluded, steps);
	IF n IS DISTINCT FROM coalesce(cardinality(concluded), 0) * coalesce(cardinality(steps), 0) THEN
		SELECT count(DISTINCT (s.asset_id, s.step_no)) INTO n FROM run_step_result s
		WHERE s.run_id = p_run AND s.asset_id = ANY (concluded) AND s.step_no = ANY (steps);
	END IF;
	IF n IS DISTINCT FROM coalesce(cardinality(concluded), 0) * coalesce(cardinality(steps), 0) THEN
	SELECT p.position, p.barcode, x.step_no, x.kind INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	JOIN run_step x ON x.run_id = p.run_id
	WHERE p.run_id = p_run AND p.asset_id = ANY (concluded) AND NOT EXISTS (SELECT 1 FROM run_step_result s WHERE s.run_id = p_run
					      AND s.asset_id = p.asset_id AND s.step_no = x.step_no)
	ORDER BY p.position, x.step_no LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) has a conclusion but no result of step %s (%s)', p_run,
			      bad.barcode, bad.position, bad.step_no + 1, bad.kind);
	END IF;
	END IF;
	IF coalesce(n_items, 0) IS DISTINCT FROM coalesce(cardinality(concluded), 0) * coalesce(cardinality(items), 0) THEN
	SELECT p.position, p.barcode, i.item INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	CROSS JOIN (SELECT DISTINCT unnest(CASE WHEN x.kind IN ('ct', 'vt') THEN ARRAY['ratio', 'phase'] ELSE ARRAY[x.kind] END)
		    AS item FROM run_step x WHERE x.run_id = p_run) i
	WHERE p.run_id = p_run AND p.asset_id = ANY (concluded) AND NOT EXISTS (SELECT 1 FROM run_conclusion c WHERE c.run_id = p_run
					      AND c.asset_id = p.asset_id AND c.item = i.item)
	ORDER BY p.position, i.item LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) has no conclusion of item %s', p_run, bad.barcode,
			      bad.position, bad.item);
	END IF;
	END IF;
	IF contradicts THEN
	SELECT p.position, p.barcode, c.item INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	JOIN run_conclusion c ON c.run_id = p.run_id AND c.asset_id = p.asset_id AND c.item <> 'overall'
	WHERE p.run_id = p_run AND p.asset_id = ANY (concluded) AND o.verdict = 'pass' AND c.verdict <> 'pass'
	ORDER BY p.position LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) is concluded 合格 although item %s failed', p_run,
			      bad.barcode, bad.position, bad.item);
	END IF;
	END IF;
	-- 0361: a certificate of a transformer attests its ratio and phase
	-- items, concluded from the steps' item verdicts; a step whose verdict
	-- contradicts them (recorded before 0361 checked them) attests nothing
	IF 'ratio' = ANY (items) THEN
	SELECT p.position, p.barcode, s.step_no, s.label, s.verdict, s.verdict1, s.verdict2 INTO bad
	FROM run_step_result s JOIN run_position p ON p.run_id = s.run_id AND p.asset_id = s.asset_id
	WHERE s.run_id = p_run AND s.asset_id = ANY (concluded) AND s.kind IN ('ct', 'vt')
	  AND s.measured_at >= r.created_at - interval '1 day' AND s.measured_at < coalesce(r.finished_at, now()) + interval '1 day'
	  AND NOT ml_xfmr_verdicts_agree(s.verdict, s.verdict1, s.verdict2)
	ORDER BY p.position, s.step_no LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) step %s (%s) is %s although its items say ratio %s, phase %s: '
			      'its item conclusions were never checked against the readings', p_run, bad.barcode, bad.position,
			      bad.step_no + 1, bad.label, bad.verdict, bad.verdict1, bad.verdict2);
	END IF;
	END IF;
	IF misdated THEN
	SELECT p.position, p.barcode, o.valid_until,
	       ((r.run_date + make_interval(months => m.verification_period_months))::date - 1) AS rule INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	JOIN device_model m ON m.model_id = r.model_id
	WHERE p.run_id = p_run AND p.asset_id = ANY (concluded) AND o.verdict = 'pass'
	  AND o.valid_until IS DISTINCT FROM (r.run_date + make_interval(months => m.verification_period_months))::date - 1
	ORDER BY p.position LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) is concluded valid until %s; the rule gives %s', p_run,
			      bad.barcode, bad.position, coalesce(bad.valid_until::text, 'no date'), bad.rule);
	END IF;
	END IF;
	RETURN NULL;
END
$$;
