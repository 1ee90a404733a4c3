-- 0341 (issue 10): issuing one certificate per transaction near the rate of
-- a batch — ml_cert_run_problem (0141) with the same checks, answers and
-- messages, its two per-position probes replaced by counts.
--
-- Every issuing transaction checks the runs of its certificates
-- (ml_cert_issue_begin → ml_cert_run_problem), so approving the 96
-- certificates of a run one by one checks that run 96 times. The check that
-- every concluded asset has a result of every step probed run_step_result
-- once per position and step without its partition key, so each probe
-- descended the (run_id, step_no) index of every one of the 145 monthly
-- partitions (4.1 ms of a 14.5 ms ml_cert_issue_begin on a fresh database,
-- pg_stat_statements, bench_cert_issue -n 96; more as partitions fill), and
-- the item check probed run_conclusion per position and item (2.1 ms), the
-- validity check joined positions, conclusions and the model (0.8 ms). Now
-- the run's results are counted once, not probed per position and step, its
-- conclusions once by the run's key, and the validity dates compared with
-- the rule's date computed once. Each reads one table by the run's key, so
-- the plan has no join whose order depends on statistics (fresh tables
-- after a bulk load have none). Only when a check falls short does the
-- function look for the first position to name, as before.
--
-- The count reads first the partitions of the run's time, where
-- ml_run_record_step put its results; rows loaded otherwise (the test
-- fixtures, a migration from an older system) carry the times they were
-- measured, so a shortfall there counts again in every partition: the
-- answers are 0141's. With 145 partitions, planning a statement over
-- run_step_result costs more than running it (1.3 ms at every call,
-- pg_stat_statements.track_planning) and the plan is the same for every
-- run, so the function keeps one (force_generic_plan; the partitions are
-- then chosen when the statement starts).

CREATE OR REPLACE FUNCTION ml_cert_run_problem(p_run bigint) RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	r verification_run;
	n int;
	bad record;
	concluded bigint[];
	steps int[];
	items text[];
	until date;
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
	-- Counted first, each table read once by the run's key: the concluded
	-- assets, the completed steps and their items, then the distinct
	-- (asset, step) results of those and the conclusions of those items.
	-- Only a shortfall looks for the first position to name.
	SELECT array_agg(o.asset_id) INTO concluded FROM run_conclusion o WHERE o.run_id = p_run AND o.item = 'overall';
	SELECT array_agg(x.step_no),
	       array_agg(DISTINCT i) FILTER (WHERE i IS NOT NULL)
	INTO steps, items
	FROM run_step x
	LEFT JOIN LATERAL unnest(CASE WHEN x.kind IN ('ct', 'vt') THEN ARRAY['ratio', 'phase'] ELSE ARRAY[x.kind] END) i ON true
	WHERE x.run_id = p_run;
	-- The results ml_run_record_step stored are in the partitions of the
	-- run's time (the window ml_run_conclude concludes from, 0113): counted
	-- there first, which reads one or two partitions. Rows loaded otherwise
	-- keep their own times, so a shortfall counts again in every partition.
	SELECT count(DISTINCT (s.asset_id, s.step_no)) INTO n FROM run_step_result s
	WHERE s.run_id = p_run AND s.measured_at >= r.created_at - interval '1 day'
	  AND s.measured_at < coalesce(r.finished_at, now()) + interval '1 day'
	  AND s.asset_id = ANY (concluded) AND s.step_no = ANY (steps);
	IF n IS DISTINCT FROM coalesce(cardinality(concluded), 0) * coalesce(cardinality(steps), 0) THEN
		SELECT count(DISTINCT (s.asset_id, s.step_no)) INTO n FROM run_step_result s
		WHERE s.run_id = p_run AND s.asset_id = ANY (concluded) AND s.step_no = ANY (steps);
	END IF;
	IF n IS DISTINCT FROM coalesce(cardinality(concluded), 0) * coalesce(cardinality(steps), 0) THEN
	SELECT p.position, p.barcode, x.step_no, x.kind INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	JOIN run_step x ON x.run_id = p.run_id
	WHERE p.run_id = p_run AND NOT EXISTS (SELECT 1 FROM run_step_result s WHERE s.run_id = p_run
					      AND s.asset_id = p.asset_id AND s.step_no = x.step_no)
	ORDER BY p.position, x.step_no LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) has a conclusion but no result of step %s (%s)', p_run,
			      bad.barcode, bad.position, bad.step_no + 1, bad.kind);
	END IF;
	END IF;
	SELECT count(*) INTO n FROM run_conclusion c
	WHERE c.run_id = p_run AND c.asset_id = ANY (concluded) AND c.item = ANY (items);
	IF n IS DISTINCT FROM coalesce(cardinality(concluded), 0) * coalesce(cardinality(items), 0) THEN
	SELECT p.position, p.barcode, i.item INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	CROSS JOIN (SELECT DISTINCT unnest(CASE WHEN x.kind IN ('ct', 'vt') THEN ARRAY['ratio', 'phase'] ELSE ARRAY[x.kind] END)
		    AS item FROM run_step x WHERE x.run_id = p_run) i
	WHERE p.run_id = p_run AND NOT EXISTS (SELECT 1 FROM run_conclusion c WHERE c.run_id = p_run
					      AND c.asset_id = p.asset_id AND c.item = i.item)
	ORDER BY p.position, i.item LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) has no conclusion of item %s', p_run, bad.barcode,
			      bad.position, bad.item);
	END IF;
	END IF;
	SELECT p.position, p.barcode, c.item INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	JOIN run_conclusion c ON c.run_id = p.run_id AND c.asset_id = p.asset_id AND c.item <> 'overall'
	WHERE p.run_id = p_run AND o.verdict = 'pass' AND c.verdict <> 'pass'
	ORDER BY p.position LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) is concluded 合格 although item %s failed', p_run,
			      bad.barcode, bad.position, bad.item);
	END IF;
	-- The rule's date once, then the run's passing conclusions by its key;
	-- the position is looked up only for one that differs.
	SELECT (r.run_date + make_interval(months => m.verification_period_months))::date - 1 INTO until
	FROM device_model m WHERE m.model_id = r.model_id;
	IF EXISTS (SELECT 1 FROM run_conclusion o WHERE o.run_id = p_run AND o.item = 'overall' AND o.verdict = 'pass'
		   AND o.valid_until IS DISTINCT FROM until) THEN
	SELECT p.position, p.barcode, o.valid_until,
	       ((r.run_date + make_interval(months => m.verification_period_months))::date - 1) AS rule INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	JOIN device_model m ON m.model_id = r.model_id
	WHERE p.run_id = p_run AND o.verdict = 'pass'
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

-- A certificate PDF is compressed already (libharu's Flate streams and font
-- subsets): pglz tried it on every insert and stored it as it was (40 364
-- bytes on average in bench_cert_issue, pg_column_size equal to length), at
-- about a millisecond each. EXTERNAL keeps it out of line without the try.
ALTER TABLE cert_pdf ALTER COLUMN pdf SET STORAGE EXTERNAL;
