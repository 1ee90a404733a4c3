-- 0020: lab settings — every verification rule the reference marks
-- unverified ([M]) or that a centre chooses (internal acceptance
-- coefficient, creep pulses, point lists...). Keys and defaults live in
-- lab/settings.c (one declarative table); a row here overrides a default.
-- The application validates values before storing them; the log keeps who
-- changed which rule when, because results depend on it (ISO/IEC 17025 7.5).

CREATE TABLE lab_setting (
	key        text PRIMARY KEY CHECK (key ~ '^[a-z0-9_.]{1,64}$'),
	value      text NOT NULL CHECK (length(value) <= 200),
	updated_at timestamptz NOT NULL DEFAULT now(),
	updated_by text NOT NULL DEFAULT current_user
);

CREATE TABLE lab_setting_log (
	log_id     bigserial PRIMARY KEY,
	key        text NOT NULL,
	old_value  text,            -- NULL: was the default
	new_value  text,            -- NULL: reset to the default
	changed_at timestamptz NOT NULL DEFAULT now(),
	changed_by text NOT NULL DEFAULT current_user
);

CREATE FUNCTION lab_setting_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'lab_setting_log is append-only (% refused)', TG_OP USING ERRCODE = '55000';
END
$$;
CREATE TRIGGER lab_setting_log_append_only BEFORE UPDATE OR DELETE ON lab_setting_log
	FOR EACH ROW EXECUTE FUNCTION lab_setting_log_refuse();

-- Settings are configuration: the application may change them; the log is append-only.
GRANT SELECT, INSERT, UPDATE, DELETE ON lab_setting TO meterlab_app;
GRANT SELECT, INSERT ON lab_setting_log TO meterlab_app;
GRANT USAGE ON SEQUENCE lab_setting_log_log_id_seq TO meterlab_app;
