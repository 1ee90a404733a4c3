-- 0353 (issue 10): the run check reads the run's conclusions once, by the
-- run's key, in a plan that does not depend on statistics.
--
-- Why: with pg_stat_statements (track = all, bench_cert_issue --mode
-- single on a fresh database) the check that no asset is concluded 合格
-- with a failed item read 438 buffers a certificate (0.39 ms), the largest
-- statement of the check, though it found nothing. Its plan, like those of
-- the concluded assets and the validity check, was made before the tables
-- had statistics and kept for the session (force_generic_plan, 0341): with
-- `item = 'overall'` in WHERE, PostgreSQL chose the partial index
-- run_conclusion_concluded (item = 'overall') and filtered by run, that is,
-- it read the overall conclusion of every run in the database. On a fresh
-- database that is the bench's run; on a database loaded in bulk and not
-- yet analysed, it is every run ever concluded — in each approval.
--
-- Now one statement reads the run's conclusions (or the certified assets'
-- ones, 0352) by the run's key or the primary key, with the item tests in
-- FILTER clauses and aggregates where no index can match them, grouped by
-- asset: the concluded assets, how many conclusions of the run's items they
-- have, whether any is 合格 with a failed item, whether any passing one has
-- another validity date than the rule's. The statements that name the
-- first offending position run only when one of these says so. The checks,
-- their order and their messages are 0352's.

CREATE OR REPLACE FUNCTION ml_cert_run_problem(p_run bigint, p_assets bigint[]) RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
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
