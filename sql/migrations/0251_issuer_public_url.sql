-- 0251: the certificate's QR code opens the public verification page
-- (issue 12, "Public verification").
--
-- The issuer's public base URL is part of the issuer's data, like its name
-- and authorisation number: the metering centre sets it (as meterlab_owner)
-- to the address at which `meterlab serve` answers from outside, e.g.
--   UPDATE issuer SET public_base_url = 'https://jl.example.cn' WHERE id = 'DEMO';
-- A certificate issued while it is set carries, in its QR code,
--   BASE/verify/NUMBER?code=CODE
-- which any phone opens without a login (GET /verify/{number}). While it is
-- empty the QR code carries the MLCERT1 claim as before. Either way the
-- PDF's document keywords keep the MLCERT1 claim that ml_cert_issue_pdf
-- checks and `meterlab cert verify FILE` reads offline.
--
-- Only scheme, host, optional port and path: no query, fragment, spaces or
-- trailing slash, so the URL built below is always well formed.
ALTER TABLE issuer ADD COLUMN public_base_url text NOT NULL DEFAULT ''
	CONSTRAINT issuer_public_base_url_form
	CHECK (public_base_url = ''
	       OR public_base_url ~ '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*$');

-- The URL is fixed when the certificate is issued, from the issuer's data
-- at that moment, like the rest of the issuer block of the document
-- (ml_cert_issue_begin fills cert_issuing.doc in one UPDATE; this adds one
-- key to it). Numbers (JL2026-000001) and codes (ABCD-EFGH) are URL-safe by
-- their CHECKs, so nothing needs escaping.
CREATE FUNCTION ml_cert_issuing_qr_url() RETURNS trigger
	LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
	base text;
BEGIN
	SELECT public_base_url INTO base FROM issuer WHERE id = NEW.issuer_id;
	IF base <> '' THEN
		NEW.doc := NEW.doc || jsonb_build_object('qr_url', base || '/verify/' || NEW.cert_no || '?code='
			|| NEW.verify_code);
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER cert_issuing_qr_url BEFORE UPDATE OF doc ON cert_issuing
	FOR EACH ROW WHEN (OLD.doc IS NULL AND NEW.doc IS NOT NULL)
	EXECUTE FUNCTION ml_cert_issuing_qr_url();
