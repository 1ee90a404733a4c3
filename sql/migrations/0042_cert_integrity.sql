-- 0042: certificates enter the table only as drafts, and an issued
-- certificate always has its stored PDF.
--
-- Issuing (reports/cert_workflow.c) stores the PDF while the row is
-- 'checked' and marks it 'issued' in the same transaction; these rules make
-- any other path fail, whoever connects.

-- The application role may insert only the columns of a draft.
REVOKE INSERT ON certificate FROM meterlab_app;
GRANT INSERT (asset_id, run_id, issuer_id, kind, barcode, content, revision, revises_id, revise_reason, verifier)
	ON certificate TO meterlab_app;

CREATE FUNCTION certificate_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.state <> 'draft' OR NEW.cert_no IS NOT NULL OR NEW.checker IS NOT NULL OR NEW.approver IS NOT NULL THEN
		RAISE EXCEPTION 'a certificate is created as a draft (got state %, number %)', NEW.state, NEW.cert_no
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER certificate_insert_guard BEFORE INSERT ON certificate
	FOR EACH ROW EXECUTE FUNCTION certificate_insert_guard();

-- A PDF is stored for a certificate being issued (checked), never for a draft.
CREATE FUNCTION cert_pdf_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM certificate c WHERE c.asset_id = NEW.asset_id AND c.id = NEW.cert_id
		       AND c.state = 'checked') THEN
		RAISE EXCEPTION 'certificate % is not being issued: no PDF can be stored for it', NEW.cert_id
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER cert_pdf_insert_guard BEFORE INSERT ON cert_pdf
	FOR EACH ROW EXECUTE FUNCTION cert_pdf_insert_guard();

-- Checked at commit: every certificate that became issued has its PDF.
CREATE FUNCTION certificate_issued_has_pdf() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.state = 'issued' AND NOT EXISTS (SELECT 1 FROM cert_pdf p WHERE p.asset_id = NEW.asset_id
						AND p.cert_id = NEW.id) THEN
		RAISE EXCEPTION 'certificate % was marked issued without a stored PDF', NEW.cert_no
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER certificate_issued_has_pdf AFTER UPDATE OF state ON certificate
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION certificate_issued_has_pdf();
