-- 0343 (issue 10): the run check of a certificate approval counts the run's
-- results in the partitions of the run's time, chosen when the statement is
-- planned, not when it starts.
--
-- Why: 0341 counted them with a generic plan (force_generic_plan), the
-- window written as `measured_at >= r.created_at - interval '1 day'`.
-- timestamptz − interval is only stable, so neither plan could prune by it
-- at planning: a generic plan over run_step_result names all 145 monthly
-- partitions and both indexes of each, and PostgreSQL 15 opens and locks
-- every one of them at each call before run-time pruning leaves one or two
-- (165 locks held after one ml_cert_run_problem). In a session that has not
-- yet read those partitions (every `meterlab cert approve` process) the
-- first call loaded all of them: 111–153 ms (five fresh sessions, a run of
-- 96 positions, PostgreSQL defaults), now 31–53 ms with 29 locks. A later
-- call in the same session plans the count each time: 1.65–2.0 ms against
-- 1.3–1.7 ms; in bench_cert_issue's one-per-transaction approvals the
-- issue begin went from 4.8–5.7 to 4.5–4.6 ms a certificate (three
-- alternating pairs), the locks no longer taken and released each time.
--
-- Now the bounds are computed first and handed to ml_run_result_pairs,
-- which plans its one statement with them as constants (force_custom_plan:
-- a plan for the values, every call), so the planner opens only the
-- partitions the window can touch. The count and the fallback over every
-- partition are as in 0341, and so are the answers.
--
-- ml_cert_run_problem is re-created whole because CREATE OR REPLACE needs
-- the whole body (landed migrations are checksummed); only the first count
-- of results differs from 0341.

-- The distinct (asset, step) pairs among p_assets × p_steps that have a
-- result of run p_run measured in [p_lo, p_hi). Caller: ml_cert_run_problem.
CREATE FUNCTION ml_run_result_pairs(p_run bigint, p_lo timestamptz, p_hi timestamptz, p_assets bigint[], p_steps int[])
	RETURNS bigint
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
	n bigint;
BEGIN
	SELECT count(DISTINCT (s.asset_id, s.step_no)) INTO n FROM run_step_result s
	WHERE s.run_id = p_run AND s.measured_at >= p_lo AND s.measured_at < p_hi
	  AND s.asset_id = ANY (p_assets) AND s.step_no = ANY (p_steps);
	RETURN n;
END
$$;

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
