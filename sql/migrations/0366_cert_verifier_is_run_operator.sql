-- 0366: the verifier (检定员) of a certificate is the person who did the
-- verification, the operator of its run, not whoever drafted it.
--
-- The rule: a 检定证书 / 检定结果通知书 carries the signatures of the
-- verifier 检定员, the checker 核验员 and the approver 批准人
-- (《计量检定印、证管理办法》, JJF 1069-2012; domain.md §6.1 "Cover |
-- Handwritten (or authorised electronic) signatures of verifier (检定员),
-- checker (核验员), approver (批准人)"), three different people, so that the
-- one who measured is checked and approved by two others.
--
-- The hole: ml_cert_draft (0141) recorded and printed as verifier the
-- person who DRAFTED the certificate, and never read the run's operator
-- (verification_run.operator_id, the authenticated person who created the
-- run, 0113). ml_cert_check refused only that drafter, ml_cert_issue_begin
-- (0355) only the drafter and the checker. So technician A ran the
-- verification, technician B drafted its certificates (printed as 检定员),
-- and A checked (or approved) the certificates of his own measurement.
-- ml_cert_revise (0141) did the same for a revision (verifier = reviser).
--
-- Now:
-- * draft and revise: verifier_id / verifier (and the content's printed
--   "verifier") are the run's operator_id and the operator name frozen on
--   the run when it was created (0113: "printed on certificates"); the
--   caller is recorded as drafter_id / drafter. A run without an
--   authenticated operator (made before 0113, or loaded by the DBA) has
--   no person to name: its drafter signs as verifier, as before.
-- * check refuses the verifier and the drafter; approve refuses the
--   verifier, the checker and the drafter; the messages name the
--   certificate and the person (and the run whose operator is refused).
--   A constraint keeps the drafter off the checker and approver lines.
-- * discard: the drafter or the verifier, or an approver.
-- Certificates already drafted or issued are not touched: their recorded
-- verifier stays what was signed (issued rows are immutable and chained,
-- 0140; the new columns are NULL in them and trail the row, so their
-- hashes do not change).
--
-- Also (at the end): the limits a certificate prints are the exact limits
-- the steps were judged against, no longer rounded to the rounding
-- interval (cert_limit_text, ml_cert_run_docs).

ALTER TABLE certificate
	ADD COLUMN drafter_id bigint REFERENCES app_user (user_id),
	ADD COLUMN drafter text;
COMMENT ON COLUMN certificate.drafter_id IS
	'who drafted it (0366); the verifier is the run''s operator. NULL in rows drafted before 0366 (drafter = verifier)';
-- The drafter signs no second line (existing rows: NULL, nothing to check;
-- a drafter who is the verifier is certificate_three_people's).
ALTER TABLE certificate ADD CONSTRAINT certificate_drafter_not_signer CHECK (
	drafter_id IS NULL OR drafter_id = verifier_id
	OR (checker_id IS DISTINCT FROM drafter_id AND approver_id IS DISTINCT FROM drafter_id)) NOT VALID;
ALTER TABLE cert_discard_log
	ADD COLUMN drafter_id bigint,
	ADD COLUMN drafter text;

-- 0141's guard, and the drafter is frozen like the verifier.
CREATE OR REPLACE FUNCTION certificate_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		IF OLD.state = 'issued' THEN
			RAISE EXCEPTION 'certificate % is issued and cannot be deleted', OLD.cert_no
				USING ERRCODE = 'integrity_constraint_violation';
		END IF;
		RETURN OLD;
	END IF;
	IF OLD.state = 'issued' THEN
		RAISE EXCEPTION 'certificate % revision % is issued and cannot be changed; issue a revision',
			OLD.cert_no, OLD.revision USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	IF NEW.content IS DISTINCT FROM OLD.content OR NEW.verifier IS DISTINCT FROM OLD.verifier
	   OR NEW.verifier_id IS DISTINCT FROM OLD.verifier_id
	   OR NEW.drafter_id IS DISTINCT FROM OLD.drafter_id OR NEW.drafter IS DISTINCT FROM OLD.drafter
	   OR NEW.asset_id <> OLD.asset_id OR NEW.kind <> OLD.kind OR NEW.barcode <> OLD.barcode
	   OR NEW.run_id IS DISTINCT FROM OLD.run_id OR NEW.issuer_id <> OLD.issuer_id
	   OR NEW.revision <> OLD.revision OR NEW.revises_id IS DISTINCT FROM OLD.revises_id THEN
		RAISE EXCEPTION 'certificate draft %: content and signatures already given cannot change', OLD.id
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	IF OLD.checker_id IS NOT NULL AND (NEW.checker_id IS DISTINCT FROM OLD.checker_id
					    OR NEW.checker IS DISTINCT FROM OLD.checker) THEN
		RAISE EXCEPTION 'certificate draft %: already checked by %', OLD.id, OLD.checker
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NEW;
END
$$;

-- The verifier of a run's certificates: its operator, as the run recorded
-- them; the caller when the run names no authenticated person (see above).
-- Internal: executable by no login.
CREATE FUNCTION ml_cert_run_verifier(p_run bigint, p_caller bigint, OUT verifier_id bigint, OUT verifier text)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT coalesce(r.operator_id, p_caller), CASE WHEN r.operator_id IS NULL THEN ml_user_name(p_caller) ELSE r.operator END
	FROM (SELECT 1) one LEFT JOIN verification_run r ON r.run_id = p_run
$$;
REVOKE ALL ON FUNCTION ml_cert_run_verifier(bigint, bigint) FROM PUBLIC;

-- How a refused signer already stands on a certificate, for the messages
-- of check and approve: "signed it as verifier (检定员, the operator of run
-- 12)", "already signed it as checker", "drafted it". Internal.
CREATE FUNCTION ml_cert_signer_text(p_role text, p_run bigint, p_user bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT CASE p_role
		WHEN 'verifier' THEN 'signed it as verifier (检定员'
			|| CASE WHEN EXISTS (SELECT 1 FROM verification_run r WHERE r.run_id = p_run AND r.operator_id = p_user)
				THEN ', the operator of run ' || p_run ELSE '' END || ')'
		WHEN 'checker' THEN 'already signed it as checker'
		ELSE 'drafted it' END
$$;
REVOKE ALL ON FUNCTION ml_cert_signer_text(text, bigint, bigint) FROM PUBLIC;

-- ---- draft: the verifier is the run's operator, the caller drafts ----

CREATE OR REPLACE FUNCTION ml_cert_draft(p_run bigint, p_issuer text DEFAULT NULL)
	RETURNS TABLE (cert_id bigint, created boolean)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.draft');
	who text := ml_user_name(uid);
	v record;
	iss text;
	problem text;
	new_ids bigint[];
BEGIN
	PERFORM 1 FROM verification_run WHERE run_id = p_run FOR SHARE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run % not found', p_run USING ERRCODE = 'P0002';
	END IF;
	problem := ml_cert_run_problem(p_run);
	IF problem IS NOT NULL THEN
		RAISE EXCEPTION '%', problem USING ERRCODE = '55000';
	END IF;
	SELECT id INTO iss FROM issuer WHERE id = coalesce(p_issuer, (SELECT id FROM issuer WHERE is_default));
	IF NOT FOUND THEN
		RAISE EXCEPTION 'issuing body % not found', coalesce(p_issuer, '(default)') USING ERRCODE = 'P0002';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM run_conclusion WHERE run_id = p_run AND item = 'overall') THEN
		RAISE EXCEPTION 'run % has no concluded assets: nothing to certify', p_run USING ERRCODE = '55000';
	END IF;
	SELECT * INTO v FROM ml_cert_run_verifier(p_run, uid);
	WITH ins AS (
		INSERT INTO certificate (asset_id, run_id, issuer_id, kind, barcode, content, verifier, verifier_id, drafter,
					 drafter_id)
		SELECT d.asset_id, p_run, iss, (d.content ->> 'kind')::smallint, d.content ->> 'barcode',
		       d.content || jsonb_build_object('verifier', v.verifier), v.verifier, v.verifier_id, who, uid
		FROM ml_cert_run_docs(p_run) d
		WHERE NOT EXISTS (SELECT 1 FROM certificate c WHERE c.asset_id = d.asset_id AND c.run_id = p_run
				  AND c.revision = 0)
		ON CONFLICT (asset_id, run_id) WHERE revision = 0 AND run_id IS NOT NULL DO NOTHING
		RETURNING id)
	SELECT coalesce(array_agg(id), '{}') INTO new_ids FROM ins;
	RETURN QUERY
		SELECT c.id, c.id = ANY (new_ids) FROM certificate c
		JOIN run_position p ON p.asset_id = c.asset_id AND p.run_id = c.run_id
		WHERE c.run_id = p_run AND c.revision = 0 ORDER BY p.position;
END
$$;

-- ---- check: neither the verifier (the run's operator) nor the drafter ----

CREATE OR REPLACE FUNCTION ml_cert_check(p_ids bigint[]) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.check');
	who text := ml_user_name(uid);
	bad record;
	n bigint;
BEGIN
	IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
		RAISE EXCEPTION 'no certificates to check' USING ERRCODE = '22023';
	END IF;
	PERFORM 1 FROM certificate WHERE id = ANY (p_ids) ORDER BY id FOR UPDATE; -- id order: no deadlock
	SELECT x INTO bad FROM unnest(p_ids) x WHERE NOT EXISTS (SELECT 1 FROM certificate c WHERE c.id = x) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate % not found', bad.x USING ERRCODE = 'P0002';
	END IF;
	SELECT c.id, c.state, c.checker INTO bad FROM certificate c
	WHERE c.id = ANY (p_ids) AND c.state <> 'draft' ORDER BY c.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate % is % (checked by %), not a draft: it cannot be checked again', bad.id,
			bad.state, bad.checker USING ERRCODE = '55000';
	END IF;
	SELECT c.id, c.run_id, CASE WHEN c.verifier_id = uid THEN 'verifier' ELSE 'drafter' END AS role INTO bad
	FROM certificate c WHERE c.id = ANY (p_ids) AND (c.verifier_id = uid OR c.drafter_id = uid) ORDER BY c.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate %: % %, and cannot also check it; the verifier, checker and approver must be three different people',
			bad.id, who, ml_cert_signer_text(bad.role, bad.run_id, uid) USING ERRCODE = '55000';
	END IF;
	UPDATE certificate SET state = 'checked', checker_id = uid, checker = who, checked_at = now()
	WHERE id = ANY (p_ids) AND state = 'draft';
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- ---- approve: neither the verifier, the checker nor the drafter ----
-- 0355's body; only the signer check is new.

CREATE OR REPLACE FUNCTION ml_cert_issue_begin(p_ids bigint[]) RETURNS TABLE (cert_id bigint, doc jsonb)
	LANGUAGE plpgsql SECURITY DEFINER ROWS 1 SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan
	SET enable_seqscan = off SET jit = off AS $$
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
	-- 0366: the verifier is the run's operator; the one who drafted the
	-- certificate (when someone else) may not approve it either.
	SELECT c.id, c.run_id, CASE WHEN c.verifier_id = uid THEN 'verifier' WHEN c.checker_id = uid THEN 'checker'
				    ELSE 'drafter' END AS role INTO bad
	FROM certificate c WHERE c.id = ANY (p_ids) AND (c.verifier_id = uid OR c.checker_id = uid OR c.drafter_id = uid)
	ORDER BY c.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate %: % %, and cannot also approve it; the verifier, checker and approver must be three different people',
			bad.id, who, ml_cert_signer_text(bad.role, bad.run_id, uid) USING ERRCODE = '55000';
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
	-- (0354: the certificates are found by id alone)
	FOR r IN WITH c AS MATERIALIZED (SELECT x.run_id, x.asset_id, x.revision FROM certificate x WHERE x.id = ANY (p_ids))
		 SELECT c.run_id, array_agg(c.asset_id ORDER BY c.asset_id) AS assets FROM c
		 WHERE c.revision = 0 GROUP BY c.run_id ORDER BY c.run_id LOOP
		problem := CASE WHEN r.run_id IS NULL THEN 'certificate made from no run'
				ELSE ml_cert_run_problem(r.run_id, r.assets) END;
		IF problem IS NOT NULL THEN
			RAISE EXCEPTION 'cannot issue: %', problem USING ERRCODE = '55000';
		END IF;
	END LOOP;

	-- Originals: the next numbers of their issuer in this year, in id order.
	FOR r IN WITH c AS MATERIALIZED (SELECT x.issuer_id, x.revision FROM certificate x WHERE x.id = ANY (p_ids))
		 SELECT c.issuer_id, count(*)::int AS n FROM c WHERE c.revision = 0
		 GROUP BY c.issuer_id ORDER BY c.issuer_id LOOP
		INSERT INTO cert_counter (issuer_id, year) VALUES (r.issuer_id, yr) ON CONFLICT DO NOTHING;
		UPDATE cert_counter k SET last_serial = k.last_serial + r.n WHERE k.issuer_id = r.issuer_id AND k.year = yr
		RETURNING k.last_serial - r.n + 1 INTO first_serial;
		WITH mine AS MATERIALIZED (SELECT x.id, x.asset_id, x.issuer_id, x.revision FROM certificate x
					    WHERE x.id = ANY (p_ids))
		INSERT INTO cert_issuing (cert_id, asset_id, txid, approver_id, approver, issuer_id, revision, cert_no, year,
					  serial, issued_on)
		SELECT c.id, c.asset_id, tx, uid, who, c.issuer_id, 0, ml_cert_number(i.number_prefix, yr, first_serial + c.rn - 1),
		       yr, first_serial + c.rn - 1, coalesce(b.issued_on, today)
		FROM (SELECT x.*, row_number() OVER (ORDER BY x.id)::int AS rn FROM mine x
		      WHERE x.revision = 0 AND x.issuer_id = r.issuer_id) c
		JOIN issuer i ON i.id = c.issuer_id LEFT JOIN cert_backdate b ON b.cert_id = c.id;
	END LOOP;
	-- Revisions keep the number of the certificate they correct (0355: the
	-- corrected certificate by its key, one lookup per revision).
	WITH c AS MATERIALIZED (SELECT x.id, x.asset_id, x.issuer_id, x.revision, x.revises_id FROM certificate x
				WHERE x.id = ANY (p_ids))
	INSERT INTO cert_issuing (cert_id, asset_id, txid, approver_id, approver, issuer_id, revision, cert_no, year, serial,
				  issued_on, supersedes)
	SELECT c.id, c.asset_id, tx, uid, who, c.issuer_id, c.revision, o.cert_no, o.issue_year, o.serial,
	       coalesce(b.issued_on, today),
	       CASE WHEN o.revision = 0 THEN o.cert_no || '（原证书）' ELSE o.cert_no || ' 第' || o.revision || '版' END
	FROM c CROSS JOIN LATERAL (SELECT o.cert_no, o.issue_year, o.serial, o.revision FROM certificate o
				   WHERE o.asset_id = c.asset_id AND o.id = c.revises_id OFFSET 0) o
	LEFT JOIN cert_backdate b ON b.cert_id = c.id
	WHERE c.revision > 0;
	-- A number is registered once per issuer, for one asset.
	INSERT INTO cert_number (issuer_id, cert_no, asset_id, year, serial)
	SELECT g.issuer_id, g.cert_no, g.asset_id, g.year, g.serial FROM cert_issuing g WHERE g.txid = tx AND g.revision = 0;

	-- (0355: each certificate by its key, one lookup per row of the work
	-- table, here and below)
	SELECT g.cert_id, g.issued_on, c.content ->> 'verified_on' AS v INTO bad
	FROM cert_issuing g CROSS JOIN LATERAL (SELECT c.content FROM certificate c
						WHERE c.asset_id = g.asset_id AND c.id = g.cert_id OFFSET 0) c
	WHERE g.txid = tx AND g.issued_on < (c.content ->> 'verified_on')::date LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate %: issue date % is before the verification date %', bad.cert_id, bad.issued_on, bad.v
			USING ERRCODE = '55000';
	END IF;

	UPDATE cert_issuing g SET verify_code = ml_cert_code(g.issuer_id, g.cert_no, g.revision,
		(SELECT c.barcode FROM certificate c WHERE c.asset_id = g.asset_id AND c.id = g.cert_id))
	WHERE g.txid = tx;
	UPDATE cert_issuing g SET qr = 'MLCERT1;NO=' || g.cert_no || ';REV=' || g.revision || ';BC='
		|| (SELECT c.barcode FROM certificate c WHERE c.asset_id = g.asset_id AND c.id = g.cert_id) || ';VC=' || g.verify_code
	WHERE g.txid = tx;
	-- What is rendered: the frozen content, the workflow fields, the signers'
	-- names as frozen when each signed, the issuing body as it is now, and
	-- the public verification address when the issuer has one (0251; 0355:
	-- returned, no longer stored in the work table).
	RETURN QUERY SELECT g.cert_id, jsonb_strip_nulls(
		(CASE WHEN c.kind = 2 THEN c.content - 'valid_until' ELSE c.content END) || jsonb_build_object(
		'kind', c.kind, 'cert_no', g.cert_no, 'revision', g.revision, 'supersedes', g.supersedes,
		'issuer_name', i.name, 'issuer_authorization_no', i.authorization_no, 'issuer_address', i.address,
		'issuer_postcode', i.postcode, 'issuer_phone', i.phone, 'issuer_fax', i.fax, 'issuer_email', i.email,
		'verifier', c.verifier, 'checker', c.checker, 'approver', g.approver,
		'issued_on', to_char(g.issued_on, 'YYYY-MM-DD'), 'verify_code', g.verify_code, 'qr_payload', g.qr))
		|| CASE WHEN i.public_base_url <> '' THEN jsonb_build_object('qr_url', i.public_base_url || '/verify/' || g.cert_no
									   || '?code=' || g.verify_code)
			ELSE '{}'::jsonb END
	FROM cert_issuing g
	CROSS JOIN LATERAL (SELECT c.kind, c.content, c.verifier, c.checker FROM certificate c
			    WHERE c.asset_id = g.asset_id AND c.id = g.cert_id OFFSET 0) c
	JOIN issuer i ON i.id = g.issuer_id
	WHERE g.txid = tx ORDER BY g.cert_id;
END
$$;


-- ---- revise: the verifier is the run's operator, the reviser drafts (0141's body otherwise) ----

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
	ver record;
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
		v_rule := ml_valid_until(verified, period);  -- 0365: the day before the anniversary
		IF v_until <= verified OR v_until > v_rule THEN
			RAISE EXCEPTION 'valid until % is outside the verification period: verified on %, the model''s period of % months ends %',
				v_until, verified, period, v_rule USING ERRCODE = '22023';
		END IF;
	END IF;
	-- 0366: the verifier is still the run's operator; the reviser drafts.
	SELECT * INTO ver FROM ml_cert_run_verifier(o.run_id, uid);
	INSERT INTO certificate (asset_id, run_id, issuer_id, kind, barcode, content, revision, revises_id, revise_reason,
				 verifier, verifier_id, drafter, drafter_id)
	VALUES (o.asset_id, o.run_id, o.issuer_id, o.kind, o.barcode,
		o.content || ov || jsonb_build_object('verifier', ver.verifier), o.revision + 1, o.id, reason,
		ver.verifier, ver.verifier_id, ml_user_name(uid), uid)
	RETURNING id INTO nid;
	RETURN nid;
END
$$;

-- ---- discard: by its drafter or verifier, or an approver (0141's body otherwise) ----

CREATE OR REPLACE FUNCTION ml_cert_discard(p_id bigint, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_actor_id();
	reason text := ml_cert_reason('discarding a draft', p_reason);
	c certificate := ml_cert_lock(p_id);
BEGIN
	IF c.state = 'issued' THEN
		RAISE EXCEPTION 'certificate % is issued as %: an issued certificate is withdrawn or revised, never discarded',
			c.id, c.cert_no USING ERRCODE = '55000';
	END IF;
	IF c.verifier_id IS DISTINCT FROM uid AND c.drafter_id IS DISTINCT FROM uid AND NOT ml_has('cert.approve') THEN
		RAISE EXCEPTION 'user % may not discard certificate %: only its drafter (%), its verifier (%) or an approver may',
			ml_user_name(uid), c.id, coalesce(c.drafter, c.verifier), c.verifier USING ERRCODE = '42501';
	END IF;
	INSERT INTO cert_discard_log (asset_id, cert_id, run_id, barcode, revision, state, content, verifier, checker, reason,
				      discarded_by, verifier_id, checker_id, discarded_by_id, drafter_id, drafter)
	VALUES (c.asset_id, c.id, c.run_id, c.barcode, c.revision, c.state, c.content, c.verifier, c.checker, reason,
		ml_user_name(uid), c.verifier_id, c.checker_id, uid, c.drafter_id, c.drafter);
	DELETE FROM certificate WHERE id = c.id AND state <> 'issued';
END
$$;

-- ---- printed limits: exactly the limit judged against (0366) ----
--
-- ml_cert_run_docs (0141, 0160, 0357) printed every limit rounded to the
-- decimals of the step's rounding interval: '±' || round(limit, places
-- (interval)). A limit with more decimals than its interval was printed
-- as a different number: a class 0.5 CT at 20 % of rated current has
-- ±0.75 % / ±45′ (IEC 61869-2 / JJG 313-2010, domain.md §2.1), and with
-- a ratio rounding interval of 0.1 % (xfmr.round_fraction 20, one fifth of
-- the 0.5 % at rated) the certificate said ±0.8 %, a limit the regulation
-- does not have and the step was not judged against (judged: 0.75). The
-- same held for phase limits and for meter limits. A certificate states
-- the limit as the regulation's table states it (ISO/IEC 17025:2017
-- 7.8.6: which specification is met): the exact stored limit, with at
-- least the interval's decimals so it lines up with the rounded results
-- (±1.0 at an interval of 0.1, ±0.75 at 0.1, ±0.20 at 0.02). Exact
-- decimal arithmetic on the ×10⁴ integer: numeric, never float.
CREATE FUNCTION cert_limit_text(p_limit_e4 bigint, p_interval_e4 bigint) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT
	RETURN '±' || round(p_limit_e4::numeric / 10000,
			    greatest(cert_e4_places(p_interval_e4), scale(trim_scale(p_limit_e4::numeric / 10000))));

-- 0357's body; only the three limits are printed by cert_limit_text.
CREATE OR REPLACE FUNCTION ml_cert_run_docs(p_run bigint) RETURNS TABLE (asset_id bigint, pos int, content jsonb)
	LANGUAGE plpgsql STABLE ROWS 1 SET search_path = public, pg_temp SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
	lo timestamptz;
	hi timestamptz;
	concluded bigint[];
	steps int[];
BEGIN
	SELECT r.created_at - interval '1 day', coalesce(r.finished_at, now()) + interval '1 day' INTO lo, hi
	FROM verification_run r WHERE r.run_id = p_run;
	-- every concluded asset has a result of every completed step in the
	-- window (counted there, as ml_cert_run_problem does); rows loaded
	-- otherwise keep their own times, and then every partition is read
	SELECT array_agg(o.asset_id) INTO concluded FROM run_conclusion o WHERE o.run_id = p_run AND o.item = 'overall';
	SELECT array_agg(x.step_no) INTO steps FROM run_step x WHERE x.run_id = p_run;
	IF ml_run_result_pairs(p_run, lo, hi, concluded, steps)
	   IS DISTINCT FROM coalesce(cardinality(concluded), 0) * coalesce(cardinality(steps), 0) THEN
		lo := '-infinity';
		hi := 'infinity';
	END IF;
	RETURN QUERY
	WITH r AS (
		SELECT r.run_id, to_char(r.run_date, 'YYYY-MM-DD') AS run_date, b.name AS place,
		       r.ambient_temp_c::text || ' ℃' AS temperature, r.ambient_rh_pct::text || ' %RH' AS humidity,
		       m.code AS model, m.name AS instrument, m.kind, coalesce(m.accuracy_class || '级', '') AS accuracy_class,
		       mf.name AS manufacturer,
		       CASE WHEN m.kind IN ('meter_1p', 'meter_3p') THEN
			 concat_ws(' ', trim_scale(m.un_v) || 'V', trim_scale(m.ib_a) || '(' || trim_scale(m.imax_a) || ')A',
			   m.constant_imp || 'imp/kWh', CASE m.connection WHEN 'direct' THEN '直接接入' ELSE '经互感器接入' END)
		       WHEN m.kind = 'ct' THEN concat_ws(' ', trim_scale(m.ct_primary_a) || '/' || trim_scale(m.ct_secondary_a) || 'A',
			   trim_scale(m.rated_burden_va) || 'VA')
		       WHEN m.kind = 'vt' THEN concat_ws(' ', trim_scale(m.vt_primary_v) || '/' || trim_scale(m.vt_secondary_v) || 'V',
			   trim_scale(m.rated_burden_va) || 'VA') ELSE '' END AS spec,
		       (SELECT default_client FROM issuer WHERE is_default) AS client,
		       coalesce(r.started_at, r.created_at) AS t
		FROM verification_run r JOIN lab_bench b ON b.bench_id = r.bench_id
		JOIN device_model m ON m.model_id = r.model_id JOIN manufacturer mf ON mf.manufacturer_id = m.manufacturer_id
		WHERE r.run_id = p_run),
	std AS (
		SELECT coalesce(jsonb_agg(jsonb_build_object('name', rs.name, 'range', rs.range_text,
				'accuracy', rs.accuracy_class || '级', 'cert_no', sc.cert_no,
				'valid_until', to_char(sc.valid_until, 'YYYY-MM-DD')) ORDER BY rs.standard_id), '[]') AS j
		FROM verification_run r JOIN lab_bench_standard bs ON bs.bench_id = r.bench_id
		JOIN reference_standard rs ON rs.standard_id = bs.standard_id
		LEFT JOIN LATERAL (SELECT c.cert_no, c.valid_until FROM standard_certificate c WHERE c.standard_id = rs.standard_id
		  AND c.valid_from <= r.run_date AND c.valid_until >= r.run_date ORDER BY c.valid_until DESC LIMIT 1) sc ON true
		WHERE r.run_id = p_run),
	lim AS (
		SELECT cert_setting_at('creep.max_pulses', r.t, ml_cert_setting_default('creep.max_pulses')) AS creep,
		       cert_setting_at('start.min_pulses', r.t, ml_cert_setting_default('start.min_pulses')) AS start
		FROM r),
	d AS (
		SELECT s.asset_id, CASE WHEN s.kind IN ('ct', 'vt') THEN 'xfmr' ELSE s.kind END AS kind,
		  string_agg(DISTINCT nullif(cert_note_text(s.note), ''), '；') AS notes,
		  string_agg(CASE s.kind
		    WHEN 'creep' THEN s.pulses || ' 个脉冲（限值 ≤' || lim.creep || '）'
		    WHEN 'start' THEN s.pulses || ' 个脉冲（限值 ≥' || lim.start || '）'
		    WHEN 'clock' THEN cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)) || ' s/d'
		    WHEN 'constant' THEN CASE WHEN s.pulses = 0 THEN '无脉冲输出'
		      ELSE '误差 γ=' || cert_fmt_e4(s.gamma_e4, 2) || '%' END END, '；' ORDER BY s.step_no) AS measured
		FROM run_step_result s, lim WHERE s.run_id = p_run AND s.measured_at >= lo AND s.measured_at < hi GROUP BY 1, 2),
	it AS MATERIALIZED (
		SELECT c.asset_id, jsonb_agg(jsonb_build_object(
			'name', CASE c.item WHEN 'creep' THEN '潜动试验' WHEN 'start' THEN '起动试验' WHEN 'basic' THEN '基本误差'
				WHEN 'constant' THEN '仪表常数试验' WHEN 'clock' THEN '日计时误差' WHEN 'ratio' THEN '比值差'
				WHEN 'phase' THEN '相位差' ELSE c.item END,
			'conclusion', CASE c.verdict WHEN 'pass' THEN '合格' WHEN 'fail' THEN '不合格' END,
			'detail', coalesce(d.notes, d.measured))
		  ORDER BY array_position(ARRAY['creep', 'start', 'basic', 'constant', 'clock', 'ratio', 'phase'], c.item)) AS j
		FROM run_conclusion c LEFT JOIN d ON d.asset_id = c.asset_id
		  AND d.kind = CASE WHEN c.item IN ('ratio', 'phase') THEN 'xfmr' ELSE c.item END
		WHERE c.run_id = p_run AND c.item <> 'overall' GROUP BY c.asset_id),
	rd AS (
		SELECT x.asset_id, x.step_no, string_agg(cert_fmt_e4(x.value_e4, 4), ' | ' ORDER BY x.reading_no) AS readings
		FROM run_reading x WHERE x.run_id = p_run AND x.result_at >= lo AND x.result_at < hi
		GROUP BY x.asset_id, x.step_no),
	er AS MATERIALIZED (
		SELECT s.asset_id, jsonb_agg(jsonb_build_object(
			'load', split_part(s.label, ' cosφ=', 1),
			'current', (SELECT trim_scale(coalesce(nullif(mm[1], '')::numeric, 1) * CASE mm[2] WHEN 'Ib' THEN m.ib_a
					WHEN 'In' THEN m.ib_a WHEN 'Imax' THEN m.imax_a END) || ' A'
				    FROM regexp_match(split_part(s.label, ' cosφ=', 1), '^([0-9.]*)(Ib|In|Imax)$') mm),
			'pf', split_part(split_part(s.label, ' cosφ=', 2), ' ', 1),
			'element', cert_element_text(split_part(split_part(s.label, ' cosφ=', 2), ' ', 2)),
			'readings', rd.readings,
			'mean', cert_fmt_e4(s.mean_e4, 4),
			'rounded', cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)),
			'limit', cert_limit_text(s.limit_e4, s.interval_e4),
			'verdict', CASE s.verdict WHEN 'pass' THEN '合格' WHEN 'fail' THEN '不合格' END)
		  ORDER BY s.step_no) AS j
		FROM run_step_result s JOIN verification_run v ON v.run_id = s.run_id
		JOIN device_model m ON m.model_id = v.model_id
		LEFT JOIN rd ON rd.asset_id = s.asset_id AND rd.step_no = s.step_no
		WHERE s.run_id = p_run AND s.measured_at >= lo AND s.measured_at < hi AND s.kind = 'basic' GROUP BY s.asset_id),
	xf AS MATERIALIZED (
		SELECT s.asset_id, jsonb_agg(jsonb_build_object(
			'percent', split_part(s.label, ' ', 2),
			'burden', coalesce((SELECT trim_scale(bb[1]::numeric * m.rated_burden_va / 100) || ' VA'
					    FROM regexp_match(split_part(s.label, ' ', 3), '^([0-9.]+)%VA$') bb),
					   split_part(s.label, ' ', 3)),
			'ratio_error', cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)),
			'phase', cert_fmt_e4(s.rounded2_e4, cert_e4_places(coalesce(s.interval2_e4, 10000))),
			'ratio_limit', cert_limit_text(s.limit_e4, s.interval_e4),
			'phase_limit', cert_limit_text(s.limit2_e4, coalesce(s.interval2_e4, 10000)),
			'verdict', CASE WHEN s.verdict = 'fail' OR s.verdict2 = 'fail' THEN '不合格'
					WHEN s.verdict = 'pass' THEN '合格' END)
		  ORDER BY s.step_no) AS j
		FROM run_step_result s JOIN verification_run v ON v.run_id = s.run_id
		JOIN device_model m ON m.model_id = v.model_id
		WHERE s.run_id = p_run AND s.measured_at >= lo AND s.measured_at < hi AND s.kind IN ('ct', 'vt')
		GROUP BY s.asset_id)
	SELECT p.asset_id, p.position,
	       jsonb_strip_nulls(jsonb_build_object(
		'kind', CASE WHEN o.verdict = 'pass' THEN 1 ELSE 2 END,
		'record_no', 'R' || p_run || '-' || lpad(p.position::text, 2, '0'),
		'client', r.client, 'instrument', r.instrument, 'model', r.model, 'spec', r.spec,
		'barcode', p.barcode::text, 'manufacturer', r.manufacturer,
		'regulation', CASE r.kind WHEN 'ct' THEN 'JJG 313-2010 测量用电流互感器'
				WHEN 'vt' THEN 'JJG 314-2010 测量用电压互感器' ELSE 'JJG 596-2012 电子式交流电能表' END,
		'accuracy_class', r.accuracy_class,
		'conclusion', CASE WHEN o.verdict = 'pass' THEN '合格' ELSE '不合格' END,
		'verified_on', r.run_date,
		'valid_until', CASE WHEN o.verdict = 'pass' THEN to_char(o.valid_until, 'YYYY-MM-DD') END,
		'place', r.place, 'temperature', r.temperature, 'humidity', r.humidity,
		'standards', std.j, 'items', coalesce(it.j, '[]'), 'errors', coalesce(er.j, '[]'),
		'xfmr', coalesce(xf.j, '[]')))
	FROM run_position p
	JOIN run_conclusion o ON o.asset_id = p.asset_id AND o.run_id = p.run_id AND o.item = 'overall'
	CROSS JOIN r CROSS JOIN std
	LEFT JOIN it ON it.asset_id = p.asset_id LEFT JOIN er ON er.asset_id = p.asset_id LEFT JOIN xf ON xf.asset_id = p.asset_id
	WHERE p.run_id = p_run
	ORDER BY p.position;
END
$$;
