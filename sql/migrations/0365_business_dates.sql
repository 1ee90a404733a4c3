-- 0365: business dates are China's whatever the caller's TimeZone, and a
-- verification's validity ends the day before the same date one period on.
--
-- 1. The session clock. current_date, localtime, a timestamptz cast to date
--    or formatted with to_char, date_trunc on a timestamptz, and a date
--    compared with a timestamptz all follow the session's TimeZone setting
--    (PGTZ, or SET TimeZone in the session): a technician could move the
--    day a function saw by a day either way, and on a server in UTC every
--    call between 00:00 and 08:00 China time took the previous day. 0360
--    pinned ml_run_create alone; the other functions that take a business
--    date from the clock or from a moment (a site inspection's date and its
--    check that it is not in the future, an in-service sample's defer date
--    and inspection due date, the swap orders' due and overdue, the watch
--    rules' expiry and overdue tests, the validity checks at issue and at
--    receipt, the plan's past-due tests, the quality months) followed the
--    caller. They are now pinned the same way: SET TimeZone = 'Asia/Shanghai'
--    on the function, the zone the certificates print (ml_cert_today, 0141;
--    China has no daylight saving time, so it is UTC+8 all year). Inside a
--    pinned function every one of those constructs is China's; the value a
--    function returns as timestamptz is a moment and does not depend on it.
--    ml_issue_problem is a small SQL function inlined into set-based
--    queries (stores/stock.c), which a SET clause would prevent: it names
--    the zone itself (ml_cert_today, AT TIME ZONE). SQL sent by the C code
--    outside a function uses ml_cert_today() for "today".
--    Guard: tests/lab/dates_test.cc (Dates.NoFunctionDatesByTheSessionZone)
--    lists every function whose source uses one of those constructs and has
--    no TimeZone setting; a later CREATE OR REPLACE drops the setting, so a
--    redefinition must restate it.
--
-- 2. valid_until. ml_run_conclude (0113, last 0361), ml_cert_run_problem
--    (0141, last 0361) and ml_cert_revise (0141) computed it as
--    run_date + period − 1 day. PostgreSQL clamps a date that does not
--    exist to the month's last day first, so a run on 2024-02-29 with a
--    one-year period was valid until 2025-02-27, a day short: 2025-02-28 is
--    the day before the anniversary (there is no 2025-02-29; the period
--    runs to the end of February). 有效期至 is the last day of the validity,
--    the day before the same date one period later (domain.md §1.12: a
--    certificate verified 2020-06-20 with an 8-year period is 有效期至
--    2028-06-19). (run_date − 1) + period is not right either: a run on
--    2023-03-01 with a year would end 2024-02-28 instead of 2024-02-29, a
--    run on 2024-05-01 with a month 2024-05-30 instead of 2024-05-31.
--    ml_valid_until gives the day before the same date `period` on, or, when
--    that date does not exist in its month (29 February of a common year,
--    the 31st of a 30-day month), the month's last day. The three functions
--    are restated whole with it; the certificate's 有效期至 is the
--    conclusion's valid_until (ml_cert_draft), which ml_cert_run_problem
--    checks against the same rule, and the asset's valid_until is set from
--    it (ml_run_conclude), so the two agree.

-- ---- 2. the end of a verification's validity ----

-- The last day of a validity of p_months months from p_from (domain.md
-- §1.12): the day before the same date p_months later, or that month's last
-- day when the same date does not exist in it (date + interval clamps to
-- the month's end; a clamped day differs from p_from's). Dates only: no zone.
CREATE FUNCTION ml_valid_until(p_from date, p_months int) RETURNS date
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN
	CASE WHEN extract(day FROM p_from + make_interval(months => p_months)) = extract(day FROM p_from)
	     THEN (p_from + make_interval(months => p_months))::date - 1
	     ELSE (p_from + make_interval(months => p_months))::date END;


-- 0361's conclusion; valid_until by ml_valid_until.
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
	until := ml_valid_until(r.run_date, period);
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

-- 0361's check; the rule for valid_until by ml_valid_until.
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
	SELECT ml_valid_until(r.run_date, m.verification_period_months) INTO until
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
	       (ml_valid_until(r.run_date, m.verification_period_months)) AS rule INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	JOIN device_model m ON m.model_id = r.model_id
	WHERE p.run_id = p_run AND p.asset_id = ANY (concluded) AND o.verdict = 'pass'
	  AND o.valid_until IS DISTINCT FROM ml_valid_until(r.run_date, m.verification_period_months)
	ORDER BY p.position LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) is concluded valid until %s; the rule gives %s', p_run,
			      bad.barcode, bad.position, coalesce(bad.valid_until::text, 'no date'), bad.rule);
	END IF;
	END IF;
	RETURN NULL;
END
$$;

-- 0141's revision; the period's end by ml_valid_until.
CREATE OR REPLACE FUNCTION ml_cert_revise(p_id bigint, p_reason text, p_set jsonb DEFAULT '{}') RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.revise');
	reason text := ml_cert_reason('a revision', p_reason);
	o certificate := ml_cert_lock(p_id);
	f record;
	v text;
	ov jsonb := '{}';
	t numeric;
	v_run_date date;
	verified date;
	v_until date;
	v_rule date;
	period int;
	nid bigint;
BEGIN
	PERFORM ml_cert_require_current(o, 'revised', true);
	IF p_set IS NULL OR jsonb_typeof(p_set) <> 'object' THEN
		RAISE EXCEPTION 'the corrections of a revision are a JSON object FIELD: "VALUE"' USING ERRCODE = '22023';
	END IF;
	SELECT v2.run_date INTO v_run_date FROM verification_run v2 WHERE v2.run_id = o.run_id;
	SELECT m.verification_period_months INTO period FROM asset a JOIN device_model m ON m.model_id = a.model_id
	WHERE a.asset_id = o.asset_id;
	verified := (o.content ->> 'verified_on')::date;
	FOR f IN SELECT key, value FROM jsonb_each(p_set) ORDER BY key LOOP
		IF jsonb_typeof(f.value) <> 'string' THEN
			RAISE EXCEPTION 'revision field %: the value must be text', f.key USING ERRCODE = '22023';
		END IF;
		v := f.value #>> '{}';
		CASE f.key
		WHEN 'client', 'place', 'record_no', 'model', 'spec', 'manufacturer', 'instrument' THEN
			IF NOT ml_text_ok(normalize(v, NFC), 128) THEN
				RAISE EXCEPTION 'revision field % = %: 1–128 characters, no control or invisible characters, no leading or trailing space',
					f.key, quote_literal(left(v, 80)) USING ERRCODE = '22023';
			END IF;
			ov := ov || jsonb_build_object(f.key, normalize(v, NFC));
		WHEN 'temperature' THEN
			-- as the run records it (0033): −20..60 ℃, one decimal; nothing is rounded
			IF v !~ '^-?[0-9]{1,3}(\.[0-9])?( ?℃)?$' THEN
				RAISE EXCEPTION 'temperature % is not a temperature in ℃ with at most one decimal (e.g. 21.5)',
					quote_literal(left(v, 40)) USING ERRCODE = '22023';
			END IF;
			t := substring(v FROM '^-?[0-9]+(?:\.[0-9])?')::numeric;
			IF t < -20 OR t > 60 THEN
				RAISE EXCEPTION 'temperature % ℃ cannot be the temperature of a verification (−20 to 60 ℃)', t
					USING ERRCODE = '22023';
			END IF;
			ov := ov || jsonb_build_object(f.key, t::numeric(4, 1)::text || ' ℃');
		WHEN 'humidity' THEN
			IF v !~ '^[0-9]{1,3}(\.[0-9])?( ?%RH)?$' THEN
				RAISE EXCEPTION 'humidity % is not a relative humidity in %%RH with at most one decimal (e.g. 53)',
					quote_literal(left(v, 40)) USING ERRCODE = '22023';
			END IF;
			t := substring(v FROM '^[0-9]+(?:\.[0-9])?')::numeric;
			IF t > 100 THEN
				RAISE EXCEPTION 'humidity % %%RH cannot be (0 to 100 %%RH)', t USING ERRCODE = '22023';
			END IF;
			ov := ov || jsonb_build_object(f.key, t::numeric(4, 1)::text || ' %RH');
		WHEN 'verified_on' THEN
			verified := ml_cert_date('verification date', v);
			IF v_run_date IS NOT NULL AND verified <> v_run_date THEN
				RAISE EXCEPTION 'verification date % is not the date of run % (%): a certificate states the day its verification was done',
					verified, o.run_id, v_run_date USING ERRCODE = '22023';
			END IF;
			ov := ov || jsonb_build_object(f.key, to_char(verified, 'YYYY-MM-DD'));
		WHEN 'valid_until' THEN
			IF o.kind <> 1 THEN
				RAISE EXCEPTION 'certificate % is a result notice (不合格): it has no validity to correct', o.id
					USING ERRCODE = '22023';
			END IF;
			v_until := ml_cert_date('valid until', v);
			ov := ov || jsonb_build_object(f.key, to_char(v_until, 'YYYY-MM-DD'));
		ELSE
			RAISE EXCEPTION 'field % cannot be corrected by a revision (allowed: client, place, temperature, humidity, record_no, model, spec, manufacturer, instrument, verified_on, valid_until)',
				quote_literal(left(f.key, 40)) USING ERRCODE = '22023';
		END CASE;
	END LOOP;
	-- Validity: after the verification, at most the model's verification
	-- period from it (the rule the run applied, domain.md §1.12).
	IF v_until IS NOT NULL THEN
		v_rule := ml_valid_until(verified, period);
		IF v_until <= verified OR v_until > v_rule THEN
			RAISE EXCEPTION 'valid until % is outside the verification period: verified on %, the model''s period of % months ends %',
				v_until, verified, period, v_rule USING ERRCODE = '22023';
		END IF;
	END IF;
	INSERT INTO certificate (asset_id, run_id, issuer_id, kind, barcode, content, revision, revises_id, revise_reason,
				 verifier, verifier_id)
	VALUES (o.asset_id, o.run_id, o.issuer_id, o.kind, o.barcode,
		o.content || ov || jsonb_build_object('verifier', ml_user_name(uid)), o.revision + 1, o.id, reason,
		ml_user_name(uid), uid)
	RETURNING id INTO nid;
	RETURN nid;
END
$$;

-- ---- 1. the business day is China's ----

-- Pinned on the function (as ml_run_create, 0360): current_date, the casts
-- of moments to dates and the month arithmetic inside are China's whatever
-- the caller set. Each one takes a business date from the clock or from a
-- stored moment:
-- receipt: a production date in the future or more than 20 years back
ALTER FUNCTION ml_asset_receive(text, text, text, text, text, boolean) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_receive_problems(xid8) SET TimeZone = 'Asia/Shanghai';
-- moves: an issue of an asset whose valid_until has passed
ALTER FUNCTION ml_asset_move(text[], text[], text[], text[], jsonb[]) SET TimeZone = 'Asia/Shanghai';
-- the day of an installation named in a refusal
ALTER FUNCTION ml_asset_place(bigint) SET TimeZone = 'Asia/Shanghai';
-- the re-verification list: the day each asset was verified
ALTER FUNCTION ml_stock_reverify_list(text) SET TimeZone = 'Asia/Shanghai';
-- the moments of a run and a fault named in a refusal
ALTER FUNCTION ml_fault_arbitration_link(bigint, bigint, bigint) SET TimeZone = 'Asia/Shanghai';
-- the month of each conclusion in the pass rates
ALTER FUNCTION ml_quality_verdicts(date, date, text, text) SET TimeZone = 'Asia/Shanghai';
-- a fault's months in service: a moment plus months is counted on the
-- zone's calendar (installed 30 January 04:00 China time plus a month is
-- 29 February in China, 28 February in UTC)
ALTER FUNCTION ml_quality_faults(date, date, text, text) SET TimeZone = 'Asia/Shanghai';
-- watch rules: expiry, overdue, days in transit, due dates, timeliness
ALTER FUNCTION ml_watch_detect(text, int, text) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_watch_run(text[]) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_watch_timeliness(date, date) SET TimeZone = 'Asia/Shanghai';
-- plan: a demand's due date in the past, a lot late for release
ALTER FUNCTION ml_plan_demand_add(text[], text[], text[], text[], text[]) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_plan_lot_release(bigint) SET TimeZone = 'Asia/Shanghai';
-- site inspection: its date (not in the future, not before the
-- installation's day), the classes' due dates from the installation day
ALTER FUNCTION ml_inspection_class_set(text, int) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_inspection_due(date) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_site_inspect(text, text, date, text[], int[], bigint[], int[], int[], int[], bigint[], bigint[],
			       bigint[], bigint[], bigint[], text[], text) SET TimeZone = 'Asia/Shanghai';
-- rotation: the list's installation days, the orders' due and overdue
-- dates, an in-service sample's inspection date and the defer it grants
ALTER FUNCTION ml_rotation_list(date, text) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_rotation_orders_open(date, text) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_swap_orders(text, text, date) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_inservice_sample_draw(text, text, text, bytea) SET TimeZone = 'Asia/Shanghai';
ALTER FUNCTION ml_inservice_sample_decide(text, text) SET TimeZone = 'Asia/Shanghai';

-- 0200's validity rule for issue and install, with the zone named: it is
-- inlined into set-based queries (stores/stock.c), which a SET clause would
-- stop. "More than p_months ago" is counted on China's calendar.
CREATE OR REPLACE FUNCTION ml_issue_problem(p_valid_until date, p_verified_at timestamptz, p_months bigint)
	RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE
		WHEN p_valid_until IS NULL THEN 'its verification validity is not recorded'
		WHEN p_valid_until < ml_cert_today() THEN 'its verification expired on ' || p_valid_until
		WHEN p_verified_at IS NOT NULL AND p_verified_at
			< ((now() AT TIME ZONE 'Asia/Shanghai') - make_interval(months => p_months::int)) AT TIME ZONE 'Asia/Shanghai'
		THEN format('it was verified on %s, more than %s months ago (setting stock.reverify_months)',
			    to_char(p_verified_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), p_months)
	END
$$;
