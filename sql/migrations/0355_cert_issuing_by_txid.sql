-- 0355 (issue 10): the approval's work table is read through its
-- transaction's key, never whole.
--
-- Why: cert_issuing holds the numbers, codes and PDF digests of the
-- certificates an approval is issuing, for the length of its transaction:
-- ml_cert_issue_begin inserts them, ml_cert_issue_pdf records each PDF's
-- digest, ml_cert_issue_finish deletes them. Its only key was cert_id, so
-- every statement that selects the transaction's rows (`txid = tx`)
-- scanned the table sequentially, and a deleted row's page stays in the
-- table until autovacuum (a minute apart by default) vacuums it. The
-- plans are made once per session when the table is small, so nothing
-- ever switched to an index either. Measured with bench_cert_issue --mode
-- single -n 96 -r 20 on a fresh database (1 920 approvals in 14 s, one
-- certificate each): the table grew to 644 pages, and each approval's
-- begin read 1 937 buffers, its finish 1 504, where the first 288
-- approvals read 149–170 and 59–64; each statement on the work table read
-- 220–345 buffers. At the goal's 100 approvals a second the table grows by
-- thousands of pages between two vacuums, and every approval pays for all
-- of them.
--
-- Now:
-- * the table's key is (txid, cert_id): the transaction's rows, in the
--   order the begin returns them. Every statement names the transaction
--   (the PDF's UPDATE and the deferred check at COMMIT now too);
-- * the three functions and the deferred check plan with enable_seqscan
--   off, so the key is used whatever the table's size was when the session
--   made its plans, and with jit off, since a plan that still holds a
--   disabled sequential scan (small tables without a usable index, in
--   functions they call) is costed above jit_above_cost. Their other
--   statements read by keys already (certificates by id, numbers by issuer
--   and year); the run check keeps the settings its plans were measured
--   with (0352, 0353);
-- * the rendered document is returned by the begin, no longer stored in
--   the work table and read back: the largest column (1–2 kB a
--   certificate) and its UPDATE, the table's largest row versions, are
--   gone, and with them the trigger that added the public verification
--   address to the stored document (0251), whose rule the returning query
--   now applies itself.
-- * a revision's corrected certificate is read by its key (asset_id, id),
--   one lookup per revision (a LATERAL subquery with OFFSET 0, which the
--   planner cannot turn into another join), and the finish takes the
--   transaction's certificates from a materialised CTE joined by id alone
--   before testing `revision > 0` (0354's pattern). On `certificate`
--   without statistics the begin joined the corrected certificate with a
--   merge join over the id index from its start, and the finish ANDed the
--   id index with a scan of the index certificate_no for `revision > 0`,
--   at every approval. Measured with 20 000 older certificates and no
--   statistics (CertWorkflow.ARevisionIsApprovedByKeysWithoutStatistics):
--   one revision's approval read 5 166 blocks of `certificate` and made a
--   sequential scan of it; with this migration's work-table part alone
--   5 267; with all of it 131. On 200 000 certificates, EXPLAIN ANALYZE
--   of the begin's revision statement: 50 480 buffers and 650 ms (2.3 s
--   with enable_seqscan off) against 9 buffers and 0.3 ms.
-- * every statement that joins the work table to the certificates reads
--   each certificate by its key (asset_id, id) in a LATERAL subquery with
--   OFFSET 0 (or a scalar subquery), one lookup per row, and the finish
--   marks the certificates issued by their ids: without statistics the
--   planner estimates tens of certificates per id and had merge joins
--   over the whole id index in reach (one test run of
--   AnApprovalFindsItsCertificatesByIdWithoutStatistics read 634 buffers
--   in the begin instead of 120, once in four runs).
-- The rows, numbers, checks, messages and documents are 0354's.

-- The transaction's rows, in the order the begin returns them. No other
-- index: a unique index on cert_id alone would offer the planner a walk of
-- every entry, live or dead, in cert_id order (seen: 625 buffers for the
-- begin's last statement with 20 000 deleted rows). One certificate is
-- never begun by two transactions at once: the begin locks it FOR UPDATE,
-- and once it is issued its state refuses a second approval.
ALTER TABLE cert_issuing DROP CONSTRAINT cert_issuing_pkey, ADD PRIMARY KEY (txid, cert_id);

DROP TRIGGER cert_issuing_qr_url ON cert_issuing;
DROP FUNCTION ml_cert_issuing_qr_url();
ALTER TABLE cert_issuing DROP COLUMN doc;

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

-- The PDF's row by the whole key (0141's body; only the UPDATE's key and
-- the settings are new).
CREATE OR REPLACE FUNCTION ml_cert_issue_pdf(p_id bigint, p_pdf bytea) RETURNS text
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET enable_seqscan = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.approve');
	g cert_issuing;
	sha text;
	p int;
BEGIN
	SELECT * INTO g FROM cert_issuing WHERE cert_id = p_id AND txid = txid_current() AND approver_id = uid;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'certificate % is not being issued by you in this transaction: no PDF can be stored for it',
			p_id USING ERRCODE = '55000', HINT = 'ml_cert_issue_begin allocates the number first';
	END IF;
	IF g.pdf_sha256 IS NOT NULL THEN
		RAISE EXCEPTION 'certificate %: its PDF is already stored', p_id USING ERRCODE = '55000';
	END IF;
	IF p_pdf IS NULL OR length(p_pdf) < 200 OR length(p_pdf) > 16777216
	   OR substring(p_pdf FROM 1 FOR 5) <> '\x255044462d'::bytea -- %PDF-
	   OR position('\x2525454f46'::bytea IN substring(p_pdf FROM greatest(1, length(p_pdf) - 1023))) = 0 THEN -- %%EOF
		RAISE EXCEPTION 'certificate %: the bytes are not a PDF document of at most 16 MiB', g.cert_no
			USING ERRCODE = '22023';
	END IF;
	p := position(convert_to('MLCERT1;', 'UTF8') IN p_pdf);
	IF position(convert_to('/Keywords (' || g.qr || ')', 'UTF8') IN p_pdf) = 0
	   OR position(convert_to('/Title (' || g.cert_no || ')', 'UTF8') IN p_pdf) = 0 THEN
		RAISE EXCEPTION 'certificate %: the PDF does not carry the number, revision, barcode and verification code allocated for it (%)',
			g.cert_no, g.qr USING ERRCODE = '22023';
	END IF;
	IF position(convert_to('MLCERT1;', 'UTF8') IN substring(p_pdf FROM p + 8)) > 0 THEN
		RAISE EXCEPTION 'certificate %: the PDF carries more than one certificate claim', g.cert_no
			USING ERRCODE = '22023';
	END IF;
	sha := encode(sha256(p_pdf), 'hex');
	INSERT INTO cert_pdf (asset_id, cert_id, pdf, sha256) VALUES (g.asset_id, g.cert_id, p_pdf, sha);
	UPDATE cert_issuing SET pdf_sha256 = sha WHERE txid = g.txid AND cert_id = p_id;
	RETURN sha;
END
$$;

-- The finish (0141's body): the certificates it marks issued by their ids;
-- its statements on revisions take the transaction's certificates from a
-- materialised CTE, one lookup by key per row of the work table, and each
-- corrected certificate and its asset by key, one lookup per revision (the
-- planner had a merge join over the whole asset key ready for them).
CREATE OR REPLACE FUNCTION ml_cert_issue_finish() RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET enable_seqscan = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.approve');
	tx bigint := txid_current();
	bad record;
	n bigint;
	ids bigint[];
	changes ml_asset_change[];
BEGIN
	IF NOT EXISTS (SELECT 1 FROM cert_issuing WHERE txid = tx AND approver_id = uid) THEN
		RAISE EXCEPTION 'nothing is being issued by you in this transaction' USING ERRCODE = '55000';
	END IF;
	SELECT cert_id, cert_no INTO bad FROM cert_issuing WHERE txid = tx AND approver_id = uid AND pdf_sha256 IS NULL
	ORDER BY cert_id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate % (%): no PDF was stored for it', bad.cert_id, bad.cert_no USING ERRCODE = '55000';
	END IF;
	-- The certificates by their ids (0355), whatever the planner thinks of
	-- the work table's size.
	SELECT array_agg(g.cert_id ORDER BY g.cert_id) INTO ids FROM cert_issuing g WHERE g.txid = tx AND g.approver_id = uid;
	UPDATE certificate c SET state = 'issued', approver_id = uid, approver = g.approver, approved_at = now(),
		cert_no = g.cert_no, issue_year = g.year, serial = g.serial, issued_on = g.issued_on,
		verify_code = g.verify_code
	FROM cert_issuing g WHERE c.id = ANY (ids) AND g.cert_id = c.id AND g.txid = tx AND g.approver_id = uid
	AND c.state = 'checked';
	GET DIAGNOSTICS n = ROW_COUNT;
	WITH c AS MATERIALIZED (SELECT x.asset_id, x.revises_id, x.id, x.revise_reason, x.revision, g.approver
				FROM cert_issuing g
				CROSS JOIN LATERAL (SELECT x.* FROM certificate x WHERE x.asset_id = g.asset_id AND x.id = g.cert_id
						    OFFSET 0) x
				WHERE g.txid = tx)
	INSERT INTO cert_supersession (asset_id, old_id, new_id, reason, revised_by, revised_by_id)
	SELECT c.asset_id, c.revises_id, c.id, c.revise_reason, c.approver, uid FROM c WHERE c.revision > 0;

	-- An asset's validity came from the certificate now corrected: it
	-- follows the correction (one history event, by the approver).
	WITH mine AS MATERIALIZED (SELECT x.asset_id, x.id, x.kind, x.revision, x.revises_id, x.revise_reason, x.cert_no,
					  x.content
				   FROM cert_issuing g
				   CROSS JOIN LATERAL (SELECT x.* FROM certificate x
						       WHERE x.asset_id = g.asset_id AND x.id = g.cert_id OFFSET 0) x
				   WHERE g.txid = tx)
	SELECT array_agg(ROW(a.asset_id, a.state, a.state, 'cert_revise', NULL, true, (c.content ->> 'valid_until')::date,
			     format('certificate %s revision %s: %s', c.cert_no, c.revision, c.revise_reason),
			     jsonb_build_object('cert_id', c.id, 'cert_no', c.cert_no, 'revision', c.revision,
						'valid_until_before', a.valid_until))::ml_asset_change ORDER BY a.asset_id)
	INTO changes
	FROM (SELECT DISTINCT ON (m.asset_id) m.* FROM mine m WHERE m.revision > 0 AND m.kind = 1
	      ORDER BY m.asset_id, m.id DESC) c
	CROSS JOIN LATERAL (SELECT o.content FROM certificate o WHERE o.asset_id = c.asset_id AND o.id = c.revises_id
			    OFFSET 0) o
	CROSS JOIN LATERAL (SELECT a.asset_id, a.state, a.valid_until FROM asset a WHERE a.asset_id = c.asset_id OFFSET 0) a
	WHERE (c.content ->> 'valid_until') IS DISTINCT FROM (o.content ->> 'valid_until')
	  AND a.valid_until IS NOT DISTINCT FROM (o.content ->> 'valid_until')::date;
	IF changes IS NOT NULL THEN
		PERFORM ml_asset_apply(uid, changes);
	END IF;
	DELETE FROM cert_issuing WHERE txid = tx AND approver_id = uid;
	RETURN n;
END
$$;

-- The deferred check at COMMIT: each begun certificate's row, by the key.
CREATE OR REPLACE FUNCTION cert_issuing_finished() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET enable_seqscan = off AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM cert_issuing WHERE txid = NEW.txid AND cert_id = NEW.cert_id) THEN
		RAISE EXCEPTION 'certificate %: issuing was begun but not finished in this transaction', NEW.cert_id
			USING ERRCODE = '55000';
	END IF;
	RETURN NULL;
END
$$;
-- The run check keeps the plans it was measured with (0352, 0353): where
-- it reads a small partition whole, that stays cheaper than its index.
ALTER FUNCTION ml_cert_run_problem(bigint, bigint[]) SET enable_seqscan = on;
