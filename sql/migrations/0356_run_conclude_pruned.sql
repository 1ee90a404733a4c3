-- 0356 (issue 10): a run's conclusion reads its results from the
-- partitions of the run's time, chosen when the statement is planned.
--
-- Why: ml_run_conclude (0113) selected the run's step results with the
-- window written as `measured_at >= r.created_at - interval '1 day'`.
-- timestamptz - interval is only stable, so the planner could not prune
-- run_step_result by it: it expanded all 145 monthly partitions (opening
-- each, with its indexes, and estimating its size) and left the choice to
-- run-time pruning. A run is concluded once, on the connection that drove
-- it, which has not read those partitions before, so every conclusion paid
-- for loading all of them. perf over three runs of bench_runner_overhead
-- (24 positions, 6 steps): 75 % of the conclusion's 100-113 ms was
-- planning, 47 % in expand_inherited_rtentry; the runner's end (the last
-- step's commit to the end of runner_execute) was 106-138 ms.
--
-- Now the bounds are computed first, into variables, so the plan for the
-- call has them as constants and opens only the partitions the window can
-- touch (the pattern of 0343's ml_run_result_pairs). plan_cache_mode =
-- force_custom_plan keeps it so in a session that concludes many runs (a
-- server's connection), where a generic plan would again name every
-- partition. The conclusion itself is unchanged: same statements, same
-- window, same answers.
--
-- Re-created whole because CREATE OR REPLACE needs the whole body (landed
-- migrations are checksummed); only the window's lines differ from 0113.

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
