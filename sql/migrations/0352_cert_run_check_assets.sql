-- 0352 (issue 10): an approval checks the run of its certificates for the
-- assets it certifies, not every position again.
--
-- Why: every issuing transaction checks the run of its originals
-- (ml_cert_issue_begin → ml_cert_run_problem, 0141/0341/0343), and the
-- check counted the results and conclusions of every concluded position:
-- approving the 96 certificates of a run one per transaction counted the
-- run's 384 result pairs 96 times. With pg_stat_statements (track = all,
-- 288 approvals of bench_cert_issue --mode single, a run of 96 positions ×
-- 4 steps) the run check was about 0.85 of the begin's 2.5 ms a
-- certificate: the result pairs 0.42, the conclusions 0.13, the
-- pass/fail consistency 0.13. In a loop, the whole-run check costs 0.83 ms
-- a call, the same check for one asset 0.39 ms.
--
-- What stays checked at every approval: the run exists and is finished,
-- its scheme exists with as many steps as the run records, every step of
-- the scheme was completed; and for each certified asset, that it has an
-- overall conclusion in the run (new: the whole-run form cannot tell a
-- conclusion removed after drafting from a position never concluded), a
-- result of every step, a conclusion of every item, no 合格 overall with a
-- failed item, and the validity date the rule gives. Drafting
-- (ml_cert_draft, `cert source`) still checks every position of the
-- run, so no certificate is drafted from an incomplete run; what an
-- approval adds is that the record behind each certificate it issues is
-- still whole. The run's tables are append-only (lab_refuse_change) and
-- written only by the recorder while the run is running, so between
-- drafting and approval only someone who lifts those guards (a superuser)
-- can change them: tests/reports/workflow_test.cc tries that.
--
-- The checks are 0343's with the concluded assets restricted to p_assets
-- (NULL: every concluded position, as before), so the answers and messages
-- are the same; the position-naming queries also read only those assets.

CREATE FUNCTION ml_cert_run_problem(p_run bigint, p_assets bigint[]) RETURNS text
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
	IF p_assets IS NULL THEN
		SELECT array_agg(o.asset_id) INTO concluded FROM run_conclusion o WHERE o.run_id = p_run AND o.item = 'overall';
	ELSE
		SELECT array_agg(o.asset_id) INTO concluded FROM run_conclusion o
		WHERE o.asset_id = ANY (p_assets) AND o.run_id = p_run AND o.item = 'overall';
		-- A certificate attests a conclusion: an asset asked about must have
		-- one in this run (the whole-run form cannot tell a conclusion
		-- removed after drafting from a position never concluded).
		SELECT x, a.barcode INTO bad FROM unnest(p_assets) x LEFT JOIN asset a ON a.asset_id = x
		WHERE x <> ALL (coalesce(concluded, '{}')) ORDER BY x LIMIT 1;
		IF FOUND THEN
			RETURN format('run %s: asset %s has no overall conclusion in it', p_run, coalesce(bad.barcode, bad.x::text));
		END IF;
	END IF;
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
	WHERE p.run_id = p_run AND p.asset_id = ANY (concluded) AND NOT EXISTS (SELECT 1 FROM run_step_result s WHERE s.run_id = p_run
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
	WHERE p.run_id = p_run AND p.asset_id = ANY (concluded) AND NOT EXISTS (SELECT 1 FROM run_conclusion c WHERE c.run_id = p_run
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
	WHERE p.run_id = p_run AND p.asset_id = ANY (concluded) AND o.verdict = 'pass' AND c.verdict <> 'pass'
	ORDER BY p.position LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) is concluded 合格 although item %s failed', p_run,
			      bad.barcode, bad.position, bad.item);
	END IF;
	-- The rule's date once, then the run's passing conclusions by its key;
	-- the position is looked up only for one that differs.
	SELECT (r.run_date + make_interval(months => m.verification_period_months))::date - 1 INTO until
	FROM device_model m WHERE m.model_id = r.model_id;
	IF EXISTS (SELECT 1 FROM run_conclusion o WHERE o.run_id = p_run AND o.asset_id = ANY (concluded) AND o.item = 'overall' AND o.verdict = 'pass'
		   AND o.valid_until IS DISTINCT FROM until) THEN
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

-- The whole-run form, as drafting and `cert source` ask it (0141, 0341,
-- 0343): the same body, every concluded position.
CREATE OR REPLACE FUNCTION ml_cert_run_problem(p_run bigint) RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
	RETURN ml_cert_run_problem(p_run, NULL);
END
$$;

-- The whole body again (CREATE OR REPLACE needs it), with its attributes
-- (ROWS 1: 0351; force_generic_plan: 0345); only the run loop differs.
CREATE OR REPLACE FUNCTION ml_cert_issue_begin(p_ids bigint[]) RETURNS TABLE (cert_id bigint, doc jsonb)
	LANGUAGE plpgsql SECURITY DEFINER ROWS 1 SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.approve');
	who text := ml_user_name(uid);
	today date := ml_cert_today();
	yr int := extract(year FROM ml_cert_today())::int;
	tx bigint := txid_current();
	bad record;
	r record;
	problem text;
	first_serial int;
BEGIN
	IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
		RAISE EXCEPTION 'no certificates to approve' USING ERRCODE = '22023';
	END IF;
	IF EXISTS (SELECT 1 FROM cert_issuing g WHERE g.txid = tx) THEN
		RAISE EXCEPTION 'an issue is already in progress in this transaction' USING ERRCODE = '55000';
	END IF;
	PERFORM 1 FROM certificate c WHERE c.id = ANY (p_ids) ORDER BY c.id FOR UPDATE;
	SELECT x INTO bad FROM unnest(p_ids) x WHERE NOT EXISTS (SELECT 1 FROM certificate c WHERE c.id = x) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate % not found', bad.x USING ERRCODE = 'P0002';
	END IF;
	SELECT c.id, c.state, c.cert_no, c.revision INTO bad FROM certificate c
	WHERE c.id = ANY (p_ids) AND c.state <> 'checked' ORDER BY c.id LIMIT 1;
	IF FOUND THEN
		IF bad.state = 'draft' THEN
			RAISE EXCEPTION 'certificate % is a draft: it must be checked before it is approved', bad.id
				USING ERRCODE = '55000';
		END IF;
		RAISE EXCEPTION 'certificate % is already issued as % revision %', bad.id, bad.cert_no, bad.revision
			USING ERRCODE = '55000';
	END IF;
	SELECT c.id, CASE WHEN c.verifier_id = uid THEN 'verifier' ELSE 'checker' END AS role INTO bad
	FROM certificate c WHERE c.id = ANY (p_ids) AND (c.verifier_id = uid OR c.checker_id = uid) ORDER BY c.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate %: % already signed it as % and cannot also approve it; the verifier, checker and approver must be three different people',
			bad.id, who, bad.role USING ERRCODE = '55000';
	END IF;
	-- A revision corrects a certificate that is still issued and current.
	FOR r IN SELECT c.id, c.revises_id FROM certificate c WHERE c.id = ANY (p_ids) AND c.revises_id IS NOT NULL
		 ORDER BY c.id LOOP
		PERFORM 1 FROM certificate o WHERE o.id = r.revises_id FOR UPDATE;
		IF EXISTS (SELECT 1 FROM cert_supersession s WHERE s.old_id = r.revises_id) THEN
			RAISE EXCEPTION 'certificate % revises %, which is already superseded', r.id, r.revises_id
				USING ERRCODE = '55000';
		ELSIF EXISTS (SELECT 1 FROM cert_withdrawal w WHERE w.cert_id = r.revises_id) THEN
			RAISE EXCEPTION 'certificate % revises %, which is withdrawn', r.id, r.revises_id USING ERRCODE = '55000';
		ELSIF NOT EXISTS (SELECT 1 FROM certificate o WHERE o.id = r.revises_id AND o.state = 'issued') THEN
			RAISE EXCEPTION 'certificate % revises %, which is not issued', r.id, r.revises_id USING ERRCODE = '55000';
		END IF;
	END LOOP;
	-- Originals come from runs that are (still) finished and complete for
	-- the assets they certify (0352: the run's other positions were checked
	-- when it was drafted).
	FOR r IN SELECT c.run_id, array_agg(c.asset_id ORDER BY c.asset_id) AS assets FROM certificate c
		 WHERE c.id = ANY (p_ids) AND c.revision = 0 GROUP BY c.run_id ORDER BY c.run_id LOOP
		problem := CASE WHEN r.run_id IS NULL THEN 'certificate made from no run'
				ELSE ml_cert_run_problem(r.run_id, r.assets) END;
		IF problem IS NOT NULL THEN
			RAISE EXCEPTION 'cannot issue: %', problem USING ERRCODE = '55000';
		END IF;
	END LOOP;

	-- Originals: the next numbers of their issuer in this year, in id order.
	FOR r IN SELECT c.issuer_id, count(*)::int AS n FROM certificate c WHERE c.id = ANY (p_ids) AND c.revision = 0
		 GROUP BY c.issuer_id ORDER BY c.issuer_id LOOP
		INSERT INTO cert_counter (issuer_id, year) VALUES (r.issuer_id, yr) ON CONFLICT DO NOTHING;
		UPDATE cert_counter k SET last_serial = k.last_serial + r.n WHERE k.issuer_id = r.issuer_id AND k.year = yr
		RETURNING k.last_serial - r.n + 1 INTO first_serial;
		INSERT INTO cert_issuing (cert_id, asset_id, txid, approver_id, approver, issuer_id, revision, cert_no, year,
					  serial, issued_on)
		SELECT c.id, c.asset_id, tx, uid, who, c.issuer_id, 0, ml_cert_number(i.number_prefix, yr, first_serial + c.rn - 1),
		       yr, first_serial + c.rn - 1, coalesce(b.issued_on, today)
		FROM (SELECT x.*, row_number() OVER (ORDER BY x.id)::int AS rn FROM certificate x
		      WHERE x.id = ANY (p_ids) AND x.revision = 0 AND x.issuer_id = r.issuer_id) c
		JOIN issuer i ON i.id = c.issuer_id LEFT JOIN cert_backdate b ON b.cert_id = c.id;
	END LOOP;
	-- Revisions keep the number of the certificate they correct.
	INSERT INTO cert_issuing (cert_id, asset_id, txid, approver_id, approver, issuer_id, revision, cert_no, year, serial,
				  issued_on, supersedes)
	SELECT c.id, c.asset_id, tx, uid, who, c.issuer_id, c.revision, o.cert_no, o.issue_year, o.serial,
	       coalesce(b.issued_on, today),
	       CASE WHEN o.revision = 0 THEN o.cert_no || '（原证书）' ELSE o.cert_no || ' 第' || o.revision || '版' END
	FROM certificate c JOIN certificate o ON o.id = c.revises_id LEFT JOIN cert_backdate b ON b.cert_id = c.id
	WHERE c.id = ANY (p_ids) AND c.revision > 0;
	-- A number is registered once per issuer, for one asset.
	INSERT INTO cert_number (issuer_id, cert_no, asset_id, year, serial)
	SELECT g.issuer_id, g.cert_no, g.asset_id, g.year, g.serial FROM cert_issuing g WHERE g.txid = tx AND g.revision = 0;

	SELECT g.cert_id, g.issued_on, c.content ->> 'verified_on' AS v INTO bad
	FROM cert_issuing g JOIN certificate c ON c.id = g.cert_id
	WHERE g.txid = tx AND g.issued_on < (c.content ->> 'verified_on')::date LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate %: issue date % is before the verification date %', bad.cert_id, bad.issued_on, bad.v
			USING ERRCODE = '55000';
	END IF;

	UPDATE cert_issuing g SET verify_code = ml_cert_code(g.issuer_id, g.cert_no, g.revision, c.barcode)
	FROM certificate c WHERE c.id = g.cert_id AND g.txid = tx;
	UPDATE cert_issuing g SET qr = 'MLCERT1;NO=' || g.cert_no || ';REV=' || g.revision || ';BC=' || c.barcode
				  || ';VC=' || g.verify_code
	FROM certificate c WHERE c.id = g.cert_id AND g.txid = tx;
	-- What is rendered: the frozen content, the workflow fields, the signers'
	-- names as frozen when each signed, the issuing body as it is now.
	UPDATE cert_issuing g SET doc = jsonb_strip_nulls(
		(CASE WHEN c.kind = 2 THEN c.content - 'valid_until' ELSE c.content END) || jsonb_build_object(
		'kind', c.kind, 'cert_no', g.cert_no, 'revision', g.revision, 'supersedes', g.supersedes,
		'issuer_name', i.name, 'issuer_authorization_no', i.authorization_no, 'issuer_address', i.address,
		'issuer_postcode', i.postcode, 'issuer_phone', i.phone, 'issuer_fax', i.fax, 'issuer_email', i.email,
		'verifier', c.verifier, 'checker', c.checker, 'approver', g.approver,
		'issued_on', to_char(g.issued_on, 'YYYY-MM-DD'), 'verify_code', g.verify_code, 'qr_payload', g.qr))
	FROM certificate c JOIN issuer i ON i.id = c.issuer_id WHERE c.id = g.cert_id AND g.txid = tx;
	RETURN QUERY SELECT g.cert_id, g.doc FROM cert_issuing g WHERE g.txid = tx ORDER BY g.cert_id;
END
$$;
