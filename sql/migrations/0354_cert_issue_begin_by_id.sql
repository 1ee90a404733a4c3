-- 0354 (issue 10): an approval finds its certificates by id alone, in
-- plans that do not depend on statistics.
--
-- Why: four statements of ml_cert_issue_begin read the certificates being
-- approved with `id = ANY (p_ids)` and a test of the revision (`revision =
-- 0` for originals: the run check's and the numbering's grouping and the
-- numbering's INSERT; `revision > 0` for revisions). Their plans are made
-- once per session (force_generic_plan, 0345). When `certificate` has no
-- statistics — a fresh database, or one whose certificates were loaded in
-- bulk and not yet analysed — PostgreSQL estimates `id = ANY (…)` on the
-- non-unique index certificate_id at 0.5 % of the table per element and
-- chose to AND it with a scan of the index certificate_no (cert_no,
-- revision) for `revision = 0`: that scan reads the whole index, every
-- certificate ever made. Measured on a database of 200 096 certificates
-- without statistics (EXPLAIN ANALYZE of the generic plan): the numbering's
-- grouping read 162 index pages and took 42 ms for one certificate; the
-- revisions' statement read 165 pages; with statistics each reads 2–4.
--
-- Now each of them takes the certificates from a MATERIALIZED common table
-- expression that selects them by id alone: PostgreSQL plans a
-- materialised CTE on its own and does not push the outer query's
-- conditions into it, so the revision test cannot become an index
-- condition. The rows, the order of numbering, the checks and the messages
-- are 0352's; only where the rows are read from changed.

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
	-- (0354: the certificates are found by id alone, see the header)
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
	-- Revisions keep the number of the certificate they correct.
	WITH c AS MATERIALIZED (SELECT x.id, x.asset_id, x.issuer_id, x.revision, x.revises_id FROM certificate x
				WHERE x.id = ANY (p_ids))
	INSERT INTO cert_issuing (cert_id, asset_id, txid, approver_id, approver, issuer_id, revision, cert_no, year, serial,
				  issued_on, supersedes)
	SELECT c.id, c.asset_id, tx, uid, who, c.issuer_id, c.revision, o.cert_no, o.issue_year, o.serial,
	       coalesce(b.issued_on, today),
	       CASE WHEN o.revision = 0 THEN o.cert_no || '（原证书）' ELSE o.cert_no || ' 第' || o.revision || '版' END
	FROM c JOIN certificate o ON o.id = c.revises_id LEFT JOIN cert_backdate b ON b.cert_id = c.id
	WHERE c.revision > 0;
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
