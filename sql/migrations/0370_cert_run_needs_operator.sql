-- 0370: a certificate names as verifier only a person the system knows did
-- the verification; conclusions dated by the rule before 0365 are restated.
--
-- 1. No authenticated operator, no certificate.
--    A 检定证书 / 检定结果通知书 carries the signature of the verifier
--    (检定员), the person who did the verification, checked and approved by
--    two others (domain.md §6.1; 《计量检定印、证管理办法》, JJF 1069-2012).
--    0366 made the verifier the run's operator (verification_run.operator_id,
--    the authenticated person who created the run, 0113) but kept a fallback:
--    a run with no operator_id (made before 0113, or loaded by the DBA, whose
--    `operator` is a typed name nobody proved) got the DRAFTER printed as
--    检定员 — a person who did not measure, on a legal document, and the
--    three-person rule then checked a signer the record cannot back. The
--    project's rule is that who did something is the authenticated user,
--    never a typed name. Now ml_cert_run_verifier (0366), which ml_cert_draft
--    and ml_cert_revise ask for the verifier, refuses such a run (55000, as
--    the other refusals of ml_cert_draft that name the run's state): "run R
--    has no authenticated operator …; verify the meter again". A certificate
--    made from no run has no operator either and is refused the same way.
--    Drafts made before 0370 for such a run keep what they recorded (a draft
--    is discarded and the meter verified again; issued rows never change).
--
-- 2. valid_until by the rule of 0365.
--    Before 0365, ml_run_conclude stored valid_until = run_date + period −
--    1 day, one day short of ml_valid_until (the day before the same date
--    one period on, or that month's last day, domain.md §1.12) for a run on
--    a day whose anniversary does not exist (29 February with a period not a
--    multiple of 48 months; the 31st with a period that lands on a 30-day
--    month, …). 0365 made ml_cert_run_problem compare the stored date with
--    the rule, so such a conclusion, not certified before 0365, could never be
--    certified. ml_fix_old_valid_until() restates those conclusions, and
--    only those: an overall 合格 conclusion whose stored date is exactly the
--    old formula's and differs from the rule's, of which no certificate
--    exists in any state (an issued certificate printed its date and never
--    changes, 0140; a draft carries its date in its content and is discarded
--    and drafted again, after which this function can be run again).
--    - The asset: when its valid_until is still the old date (its validity
--      came from this conclusion; a later verification moved it on), it
--      takes the rule's date through ml_asset_apply (the one path that
--      changes an asset, with its history event), action
--      'valid_until_restate', state unchanged; when it is not, the event is
--      still written (set_valid_until false) so the asset's history records
--      that its conclusion was restated. The event's reason names the rule,
--      its details the run, the old and the new date and this migration.
--      The actor is the person calling it when the caller is a meterlab
--      user, otherwise (the migration itself, run by the DBA) the run's
--      operator, whose conclusion is restated: ml_asset_apply names a
--      person, and the migration has none. A run with neither (no operator)
--      is left as it is: it cannot be certified anyway (1.).
--    - The conclusion row: run_conclusion is append-only
--      (run_conclusion_append_only, 0031); the trigger is disabled around
--      the one UPDATE of valid_until, as 0349 did for run_step_result, in
--      this transaction (no other session sees it disabled; the ALTER locks
--      the table against concurrent writers until commit).
--    The run is locked FOR UPDATE first, so a concurrent ml_cert_draft (FOR
--    SHARE on the run) either drafted before (then the conclusion is
--    certified and skipped) or waits and sees the restated date. All in the
--    caller's transaction. Returns the number of conclusions restated.
--    Executable by no login (the DBA, a member of meterlab_owner, may run it
--    again).

-- ---- 1. the verifier is an authenticated operator, or nobody ----

CREATE OR REPLACE FUNCTION ml_cert_run_verifier(p_run bigint, p_caller bigint, OUT verifier_id bigint, OUT verifier text)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	r record;
BEGIN
	IF p_run IS NULL THEN
		RAISE EXCEPTION 'the certificate was made from no run: no authenticated operator can sign it as verifier (检定员); verify the meter again'
			USING ERRCODE = '55000';
	END IF;
	SELECT x.operator_id, x.operator INTO r FROM verification_run x WHERE x.run_id = p_run;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run % not found', p_run USING ERRCODE = 'P0002';
	END IF;
	-- 0370: the verifier is the person who ran it (0366), never the caller
	IF r.operator_id IS NULL THEN
		RAISE EXCEPTION 'run % has no authenticated operator (operator % is a name recorded before 0113 or by the DBA, not a person who signed in): nobody can sign its certificates as verifier (检定员); verify the meter again',
			p_run, coalesce(quote_literal(r.operator), '(none)') USING ERRCODE = '55000';
	END IF;
	verifier_id := r.operator_id;
	verifier := r.operator;
END
$$;
REVOKE ALL ON FUNCTION ml_cert_run_verifier(bigint, bigint) FROM PUBLIC;

-- ---- 2. conclusions dated by the rule before 0365 ----

CREATE FUNCTION ml_fix_old_valid_until() RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	caller bigint := ml_actor_id_or_null();
	act record;
	changes ml_asset_change[];
	n int;
BEGIN
	CREATE TEMP TABLE fix_vu ON COMMIT DROP AS
	SELECT c.asset_id, c.run_id, coalesce(caller, r.operator_id) AS actor, c.valid_until AS old_until,
	       ml_valid_until(r.run_date, m.verification_period_months) AS new_until,
	       r.run_date, m.verification_period_months AS period
	FROM run_conclusion c JOIN verification_run r ON r.run_id = c.run_id
	JOIN device_model m ON m.model_id = r.model_id
	WHERE c.item = 'overall' AND c.verdict = 'pass'
	  AND c.valid_until = (r.run_date + make_interval(months => m.verification_period_months))::date - 1
	  AND c.valid_until <> ml_valid_until(r.run_date, m.verification_period_months)
	  AND coalesce(caller, r.operator_id) IS NOT NULL
	  AND NOT EXISTS (SELECT 1 FROM certificate x WHERE x.asset_id = c.asset_id AND x.run_id = c.run_id);
	IF NOT EXISTS (SELECT 1 FROM fix_vu) THEN
		DROP TABLE fix_vu;
		RETURN 0;
	END IF;
	-- the runs against drafting meanwhile, then the assets; the certificate
	-- test is repeated under the lock (a draft committed before it counts)
	PERFORM 1 FROM verification_run r WHERE r.run_id IN (SELECT run_id FROM fix_vu) ORDER BY r.run_id FOR UPDATE;
	DELETE FROM fix_vu f WHERE EXISTS (SELECT 1 FROM certificate x WHERE x.asset_id = f.asset_id AND x.run_id = f.run_id);
	PERFORM 1 FROM asset a WHERE a.asset_id IN (SELECT asset_id FROM fix_vu) ORDER BY a.asset_id FOR UPDATE;

	FOR act IN SELECT DISTINCT actor FROM fix_vu ORDER BY actor LOOP
		SELECT array_agg(ROW(a.asset_id, a.state, a.state, 'valid_until_restate', NULL,
				     a.valid_until IS NOT DISTINCT FROM f.old_until, f.new_until,
				     'valid until restated by the rule of 0365 (domain.md §1.12: the day before the same date '
				     || f.period || ' months on, or that month''s last day): ' || f.old_until || ' → ' || f.new_until,
				     jsonb_build_object('run_id', f.run_id, 'run_date', f.run_date, 'old_valid_until', f.old_until,
							'valid_until', f.new_until, 'migration', '0370',
							'asset_valid_until_set', a.valid_until IS NOT DISTINCT FROM f.old_until)
				    )::ml_asset_change ORDER BY a.asset_id)
		INTO changes
		FROM fix_vu f JOIN asset a ON a.asset_id = f.asset_id
		WHERE f.actor = act.actor;
		PERFORM ml_asset_apply(act.actor, changes);
	END LOOP;

	ALTER TABLE run_conclusion DISABLE TRIGGER run_conclusion_append_only;
	UPDATE run_conclusion c SET valid_until = f.new_until
	FROM fix_vu f
	WHERE c.asset_id = f.asset_id AND c.run_id = f.run_id AND c.item = 'overall' AND c.valid_until = f.old_until;
	GET DIAGNOSTICS n = ROW_COUNT;
	ALTER TABLE run_conclusion ENABLE TRIGGER run_conclusion_append_only;
	DROP TABLE fix_vu;
	RETURN n;
END
$$;
REVOKE ALL ON FUNCTION ml_fix_old_valid_until() FROM PUBLIC;

-- once, now (a script's last statement is a command: the migrator expects no rows)
DO $$
BEGIN
	RAISE NOTICE '0370: % conclusion(s) restated to the rule of 0365', ml_fix_old_valid_until();
END
$$;
