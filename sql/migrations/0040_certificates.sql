-- 0040: verification certificates (检定证书) and result notices (检定结果通知书).
--
-- Workflow (JJF 1069-2012 / 《计量检定印、证管理办法》: the verifier 检定员,
-- the checker 核验员 and the approver 批准人 sign; ISO/IEC 17025:2017
-- 7.8.2.1 (o) the person authorising the report is identified):
--   draft    created from a finished run, signed by the verifier
--   checked  reviewed by a checker (a different person)
--   issued   approved by an approver (a third person): number allocated,
--            PDF rendered and stored, never changed again.
-- A correction is a new row (revision + 1, same number) plus a row in
-- cert_supersession; the superseded certificate's row is not touched.
--
-- asset_id is the distribution column of the hot tables (every key holds it).

-- The issuing body. Seeded with demo values; the metering centre edits them
-- (as meterlab_owner) before going live. verify_key is the secret behind the
-- printed verification code (HMAC-SHA256, see reports/cert_verify.h).
CREATE TABLE issuer (
	id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,32}$'),
	name text NOT NULL,
	authorization_no text NOT NULL,
	address text NOT NULL DEFAULT '',
	postcode text NOT NULL DEFAULT '',
	phone text NOT NULL DEFAULT '',
	fax text NOT NULL DEFAULT '',
	email text NOT NULL DEFAULT '',
	number_prefix text NOT NULL CHECK (number_prefix ~ '^[A-Z]{1,8}$'),
	verify_key text NOT NULL CHECK (length(verify_key) >= 32),
	is_default boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX issuer_one_default ON issuer (is_default) WHERE is_default;

INSERT INTO issuer (id, name, authorization_no, address, postcode, phone, fax, email, number_prefix,
		    verify_key, is_default)
VALUES ('DEMO', '示范省电力公司计量中心', '(示)法计(2026)00001号', '示范省示范市计量路1号', '450000',
	'0371-00000000', '0371-00000001', 'jlzx@example.com', 'JL',
	encode(sha256(convert_to(random()::text || clock_timestamp()::text || 'meterlab', 'UTF8')), 'hex'),
	true);

-- One counter row per (issuer, year). Issuing increments it with
-- UPDATE ... RETURNING inside the issuing transaction: the row lock
-- serialises issuers and a rollback gives the numbers back (no gaps).
CREATE TABLE cert_counter (
	issuer_id text NOT NULL REFERENCES issuer (id),
	year int NOT NULL CHECK (year BETWEEN 2000 AND 9999),
	last_serial int NOT NULL DEFAULT 0 CHECK (last_serial >= 0),
	PRIMARY KEY (issuer_id, year)
);

CREATE TABLE certificate (
	asset_id bigint NOT NULL,
	id bigint GENERATED ALWAYS AS IDENTITY,
	run_id bigint,
	issuer_id text NOT NULL REFERENCES issuer (id),
	kind smallint NOT NULL CHECK (kind IN (1, 2)), -- 1 certificate 合格, 2 result notice 不合格
	barcode text NOT NULL,
	content jsonb NOT NULL,            -- frozen cert_doc content (what the checker saw)
	revision int NOT NULL DEFAULT 0 CHECK (revision >= 0),
	revises_id bigint,                 -- the certificate this one corrects
	revise_reason text,
	state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'checked', 'issued')),
	verifier text NOT NULL CHECK (btrim(verifier) <> ''),
	created_at timestamptz NOT NULL DEFAULT now(),
	checker text,
	checked_at timestamptz,
	approver text,
	approved_at timestamptz,
	cert_no text,
	issue_year int,
	serial int,
	issued_on date,
	verify_code text,
	PRIMARY KEY (asset_id, id),
	UNIQUE (asset_id, issuer_id, cert_no, revision),
	UNIQUE (asset_id, revises_id),     -- one revision at a time corrects a certificate
	-- Four eyes (three signatures): three different people.
	CHECK (checker IS NULL OR checker <> verifier),
	CHECK (approver IS NULL OR (checker IS NOT NULL AND approver <> verifier AND approver <> checker)),
	CHECK (state = 'draft' OR checker IS NOT NULL),
	CHECK ((state = 'issued') = (cert_no IS NOT NULL AND approver IS NOT NULL AND issued_on IS NOT NULL
				      AND verify_code IS NOT NULL)),
	CHECK ((revision = 0) = (revises_id IS NULL))
);
CREATE INDEX certificate_id ON certificate (id);
CREATE INDEX certificate_run ON certificate (run_id);
CREATE INDEX certificate_no ON certificate (cert_no, revision);

-- The exact issued bytes, so a certificate can be produced again without
-- re-rendering; sha256 is computed here from the stored bytes.
CREATE TABLE cert_pdf (
	asset_id bigint NOT NULL,
	cert_id bigint NOT NULL,
	pdf bytea NOT NULL,
	sha256 text NOT NULL,
	stored_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (asset_id, cert_id),
	FOREIGN KEY (asset_id, cert_id) REFERENCES certificate (asset_id, id),
	CHECK (sha256 = encode(sha256(pdf), 'hex'))
);
CREATE INDEX cert_pdf_sha256 ON cert_pdf (sha256);

-- "Superseded by" without altering the superseded row: append-only.
CREATE TABLE cert_supersession (
	asset_id bigint NOT NULL,
	old_id bigint NOT NULL,
	new_id bigint NOT NULL,
	reason text NOT NULL CHECK (btrim(reason) <> ''),
	revised_by text NOT NULL,
	superseded_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (asset_id, old_id),
	UNIQUE (asset_id, new_id),
	FOREIGN KEY (asset_id, old_id) REFERENCES certificate (asset_id, id),
	FOREIGN KEY (asset_id, new_id) REFERENCES certificate (asset_id, id)
);

-- An issued certificate is never changed or deleted; a draft may move
-- forward but its frozen content and verifier may not change after the
-- fact (the checker signed what they saw).
CREATE FUNCTION certificate_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
	   OR NEW.asset_id <> OLD.asset_id OR NEW.kind <> OLD.kind OR NEW.barcode <> OLD.barcode
	   OR NEW.revision <> OLD.revision OR NEW.revises_id IS DISTINCT FROM OLD.revises_id THEN
		RAISE EXCEPTION 'certificate draft %: content and signatures already given cannot change', OLD.id
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	IF OLD.checker IS NOT NULL AND NEW.checker IS DISTINCT FROM OLD.checker THEN
		RAISE EXCEPTION 'certificate draft %: already checked by %', OLD.id, OLD.checker
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER certificate_guard BEFORE UPDATE OR DELETE ON certificate
	FOR EACH ROW EXECUTE FUNCTION certificate_guard();

CREATE FUNCTION cert_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER cert_pdf_append_only BEFORE UPDATE OR DELETE ON cert_pdf
	FOR EACH ROW EXECUTE FUNCTION cert_append_only();
CREATE TRIGGER cert_supersession_append_only BEFORE UPDATE OR DELETE ON cert_supersession
	FOR EACH ROW EXECUTE FUNCTION cert_append_only();

-- The application role reads and appends; it may move drafts forward (the
-- trigger guards issued rows) and advance counters, nothing else.
REVOKE ALL ON issuer, cert_counter, certificate, cert_pdf, cert_supersession FROM PUBLIC;
GRANT SELECT ON issuer TO meterlab_app;
GRANT SELECT, INSERT, UPDATE ON cert_counter TO meterlab_app;
GRANT SELECT, INSERT ON certificate TO meterlab_app;
GRANT UPDATE (state, checker, checked_at, approver, approved_at, cert_no, issue_year, serial, issued_on,
	      verify_code) ON certificate TO meterlab_app;
GRANT SELECT, INSERT ON cert_pdf, cert_supersession TO meterlab_app;
