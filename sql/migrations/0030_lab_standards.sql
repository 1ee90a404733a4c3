-- 0030: reference standards, their calibration certificates, and benches.
--
-- Traceability (JJF 1069 / ISO/IEC 17025 6.5): every verification names the
-- measurement standard used and a certificate of that standard valid on the
-- verification date. Certificates are history: a recalibration adds a row,
-- nothing is edited. The application role may read and append only.

CREATE TABLE reference_standard (
	standard_id    bigserial PRIMARY KEY,
	code           text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9._-]{1,40}$'),
	name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	accuracy_class text NOT NULL CHECK (accuracy_class ~ '^[0-9]+(\.[0-9]+)?S?$'),
	range_text     text NOT NULL DEFAULT '',
	created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE standard_certificate (
	cert_id      bigserial PRIMARY KEY,
	standard_id  bigint NOT NULL REFERENCES reference_standard (standard_id),
	cert_no      text NOT NULL CHECK (length(cert_no) BETWEEN 1 AND 80),
	issuer       text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 200),
	valid_from   date NOT NULL,
	valid_until  date NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	CHECK (valid_until >= valid_from),
	UNIQUE (standard_id, cert_no)
);
CREATE INDEX standard_certificate_validity ON standard_certificate (standard_id, valid_until);

-- A bench (检定装置) the runner drives through devices/bench.h, or a manual
-- bench (uri 'manual') whose readings are typed in.
CREATE TABLE lab_bench (
	bench_id   bigserial PRIMARY KEY,
	code       text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9._-]{1,40}$'),
	name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	uri        text NOT NULL CHECK (length(uri) BETWEEN 1 AND 300),
	kind       text NOT NULL CHECK (kind IN ('meter-1p', 'meter-3p', 'transformer')),
	positions  int NOT NULL CHECK (positions BETWEEN 1 AND 96),
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lab_bench_standard (
	bench_id    bigint NOT NULL REFERENCES lab_bench (bench_id),
	standard_id bigint NOT NULL REFERENCES reference_standard (standard_id),
	PRIMARY KEY (bench_id, standard_id)
);

-- History tables: refuse edits even from roles that could be granted them.
CREATE FUNCTION lab_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'table % is append-only (% refused)', TG_TABLE_NAME, TG_OP
		USING ERRCODE = '55000';
END
$$;

CREATE TRIGGER standard_certificate_append_only BEFORE UPDATE OR DELETE ON standard_certificate
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();

GRANT SELECT, INSERT ON reference_standard, standard_certificate, lab_bench, lab_bench_standard TO meterlab_app;
GRANT USAGE ON SEQUENCE reference_standard_standard_id_seq, standard_certificate_cert_id_seq,
	lab_bench_bench_id_seq TO meterlab_app;
