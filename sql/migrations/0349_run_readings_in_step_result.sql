-- 0349 (issue 10): a step's readings are stored in its result rows, one
-- array per field, instead of one row each in run_reading; run_reading
-- becomes a view that gives the same rows as before.
--
-- Why: a 48-position bench's step wrote 96 reading rows and 48 result rows:
-- 144 heap insertions, 144 btree insertions and their WAL, each row routed
-- to its monthly partition. The readings' INSERT was the largest part of a
-- recorded step (0.47 ms of ~1.7 ms server time, bench/RESULTS.md "Session
-- 12"). Every reading of a position belongs to exactly one step result
-- (ml_run_record_step refuses a reading of an asset that is not a position
-- of the run, and a step without a result for every position), and every
-- reader reads readings by run and step (run show, the certificate's
-- readings column, the tests): so the readings ride in the result row they
-- belong to. A step's rows inserted as the recorder does, in a PL/pgSQL
-- loop (2 000 steps, four rounds alternating): 96 reading rows plus 48
-- result rows 0.31–0.46 ms, 48 result rows carrying their readings
-- 0.22–0.28 ms; the server time of a recorded step fell 11 % in a paired
-- run (bench/RESULTS.md "Session 13"). On disk 274 → 212 bytes per
-- reading, its share of the results included: a billion readings are no
-- longer a billion rows with their own headers and index entries.
--
-- What stays the same: run_reading has the columns, types and rows it had,
-- now as a view (SELECT only — it was append-only for everybody, and the
-- application could never write it except through ml_run_record_step, 0113).
-- Each reading keeps its own measured_at, reading number, pulses and bench
-- result code; its position is its result's (the recorder has always
-- required a reading's position to be its asset's position in the run).
-- The old key refused a second copy of the same reading (asset, reading
-- number, time) within a step; the recorder now refuses it by name.
-- History stays append-only: the result rows' trigger covers the arrays.
--
-- Moving the readings rewrites every step result once (UPDATE with the
-- append-only trigger off inside this migration's transaction) and drops
-- the reading partitions: on a database with years of results, run it in
-- a maintenance window. It refuses, naming the first one, readings that no
-- step result holds (only a hand-made insert could leave one) rather than
-- drop them.

DO $$
DECLARE
	o record;
BEGIN
	SELECT x.run_id, x.step_no, x.asset_id, x.reading_no INTO o FROM run_reading x
	WHERE NOT EXISTS (SELECT 1 FROM run_step_result s
			  WHERE s.run_id = x.run_id AND s.step_no = x.step_no AND s.asset_id = x.asset_id
			    AND s.position = x.position)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % step %: reading % of asset % has no step result of that asset at that position; '
			'add the result or remove the reading before this migration', o.run_id, o.step_no + 1,
			o.reading_no, o.asset_id USING ERRCODE = '55000';
	END IF;
	SELECT s.run_id, s.step_no, s.asset_id, count(*) AS n INTO o FROM run_step_result s
	GROUP BY s.run_id, s.step_no, s.asset_id HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'run % step %: asset % has % step results; its readings would belong to each', o.run_id,
			o.step_no + 1, o.asset_id, o.n USING ERRCODE = '55000';
	END IF;
END
$$;

-- Parallel arrays, element i of each is one reading (readers order by
-- reading number). NULL when the step took no readings of the position
-- (creep, start).
ALTER TABLE run_step_result
	ADD COLUMN reading_no int[],
	ADD COLUMN reading_value_e4 bigint[],   -- run_reading.value_e4
	ADD COLUMN reading_value2_e4 bigint[],  -- run_reading.value2_e4 (CT/VT phase)
	ADD COLUMN reading_pulses bigint[],
	ADD COLUMN reading_bench_result smallint[],  -- protocol §3.3 result code
	ADD COLUMN reading_at timestamptz[],
	-- all six or none; one-dimensional and of one length; reading numbers
	-- from 1 (0031's CHECK); value, result code and time never NULL (0031's
	-- NOT NULL columns). A CHECK passes on NULL, so every term is NOT NULL.
	ADD CONSTRAINT run_step_result_readings CHECK (CASE
		WHEN reading_no IS NULL THEN num_nonnulls(reading_value_e4, reading_value2_e4, reading_pulses,
							  reading_bench_result, reading_at) = 0
		ELSE num_nulls(reading_value_e4, reading_value2_e4, reading_pulses, reading_bench_result, reading_at) = 0
		     AND array_ndims(reading_no) = 1
		     AND cardinality(reading_value_e4) = cardinality(reading_no)
		     AND cardinality(reading_value2_e4) = cardinality(reading_no)
		     AND cardinality(reading_pulses) = cardinality(reading_no)
		     AND cardinality(reading_bench_result) = cardinality(reading_no)
		     AND cardinality(reading_at) = cardinality(reading_no)
		     AND array_position(reading_no, NULL) IS NULL AND array_position(reading_value_e4, NULL) IS NULL
		     AND array_position(reading_bench_result, NULL) IS NULL AND array_position(reading_at, NULL) IS NULL
		     AND 1 <= ALL (reading_no) END);

ALTER TABLE run_step_result DISABLE TRIGGER run_step_result_append_only;
UPDATE run_step_result s
SET reading_no = g.no, reading_value_e4 = g.v, reading_value2_e4 = g.v2, reading_pulses = g.pl,
    reading_bench_result = g.br, reading_at = g.at
FROM (SELECT x.run_id, x.step_no, x.asset_id,
	     array_agg(x.reading_no ORDER BY x.reading_no, x.measured_at) AS no,
	     array_agg(x.value_e4 ORDER BY x.reading_no, x.measured_at) AS v,
	     array_agg(x.value2_e4 ORDER BY x.reading_no, x.measured_at) AS v2,
	     array_agg(x.pulses ORDER BY x.reading_no, x.measured_at) AS pl,
	     array_agg(x.bench_result ORDER BY x.reading_no, x.measured_at) AS br,
	     array_agg(x.measured_at ORDER BY x.reading_no, x.measured_at) AS at
      FROM run_reading x GROUP BY x.run_id, x.step_no, x.asset_id) g
WHERE s.run_id = g.run_id AND s.step_no = g.step_no AND s.asset_id = g.asset_id;
ALTER TABLE run_step_result ENABLE TRIGGER run_step_result_append_only;

-- Whoever could read the table reads the view (from the table's ACL: its
-- owner keeps ownership of the view, PUBLIC was revoked by 0031).
CREATE TEMP TABLE run_reading_readers ON COMMIT DROP AS
SELECT DISTINCT a.grantee::regrole::text AS grantee
FROM pg_class c, aclexplode(c.relacl) a
WHERE c.oid = 'run_reading'::regclass AND a.privilege_type = 'SELECT' AND a.grantee <> c.relowner
  AND a.grantee <> 0;

DROP TABLE run_reading;

-- The rows of the former table. A view over a join with a function is not
-- updatable: INSERT, UPDATE and DELETE are refused to everybody.
CREATE VIEW run_reading AS
SELECT s.asset_id, s.run_id, s.step_no, u.reading_no, s.position, u.value_e4, u.value2_e4, u.pulses, u.bench_result,
       u.measured_at
FROM run_step_result s,
     unnest(s.reading_no, s.reading_value_e4, s.reading_value2_e4, s.reading_pulses, s.reading_bench_result,
	    s.reading_at) AS u(reading_no, value_e4, value2_e4, pulses, bench_result, measured_at);
REVOKE ALL ON run_reading FROM PUBLIC;

DO $$
DECLARE
	g record;
BEGIN
	FOR g IN SELECT grantee FROM run_reading_readers LOOP
		EXECUTE format('GRANT SELECT ON run_reading TO %s', g.grantee);  -- regrole text: quoted as needed
	END LOOP;
END
$$;

-- 0348's recorder with the readings stored in the result rows (the last
-- statement), a reading given twice refused by name, and a step recorded
-- twice found by ON CONFLICT instead of an exception block; every other
-- check, message and row as before.
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
