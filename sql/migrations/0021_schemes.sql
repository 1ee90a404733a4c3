-- 0021: verification schemes (检定方案) and their steps.
--
-- A scheme is versioned: saving a code again adds version n+1 and never
-- edits an older one, because verification results name the exact scheme
-- version they were run with. Retiring a code hides it from list/load
-- (retired_at is the only column the application may update).
-- Step codes (kind, point_base, pf, element) are the enums of lab/scheme.h.

CREATE TABLE scheme (
	scheme_id  bigserial PRIMARY KEY,
	code       text NOT NULL CHECK (code ~ '^[A-Za-z0-9._-]{1,32}$'),
	version    int NOT NULL CHECK (version >= 1),
	name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
	kinds      text NOT NULL DEFAULT '' CHECK (length(kinds) <= 63),
	classes    text NOT NULL DEFAULT '' CHECK (length(classes) <= 63),
	connection text NOT NULL DEFAULT '' CHECK (connection IN ('', 'direct', 'transformer')),
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by text NOT NULL DEFAULT current_user,
	retired_at timestamptz,
	UNIQUE (code, version)
);

CREATE TABLE scheme_step (
	scheme_id         bigint NOT NULL REFERENCES scheme (scheme_id),
	seq               int NOT NULL CHECK (seq >= 1),
	kind              smallint NOT NULL CHECK (kind BETWEEN 1 AND 7),
	point_base        smallint CHECK (point_base BETWEEN 1 AND 4),
	mult_e4           bigint NOT NULL DEFAULT 0 CHECK (mult_e4 >= 0),
	pf                smallint CHECK (pf BETWEEN 1 AND 5),
	element           smallint NOT NULL DEFAULT 0 CHECK (element BETWEEN 0 AND 3),
	readings          int NOT NULL DEFAULT 0 CHECK (readings BETWEEN 0 AND 32),
	pulses            int NOT NULL DEFAULT 0 CHECK (pulses BETWEEN 0 AND 65535),
	settle_timeout_ms int NOT NULL DEFAULT 0 CHECK (settle_timeout_ms >= 0),
	percent_e4        bigint NOT NULL DEFAULT 0 CHECK (percent_e4 >= 0),
	burden_pct_e4     bigint NOT NULL DEFAULT 0 CHECK (burden_pct_e4 >= 0),
	limit_e4          bigint NOT NULL DEFAULT 0 CHECK (limit_e4 >= 0),
	duration_ms       bigint NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
	energy_wh_e4      bigint NOT NULL DEFAULT 0 CHECK (energy_wh_e4 >= 0),
	PRIMARY KEY (scheme_id, seq)
);

CREATE FUNCTION scheme_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'scheme' AND TG_OP = 'UPDATE'
	   AND (NEW.scheme_id, NEW.code, NEW.version, NEW.name, NEW.kinds, NEW.classes, NEW.connection,
		NEW.created_at, NEW.created_by)
	   IS NOT DISTINCT FROM (OLD.scheme_id, OLD.code, OLD.version, OLD.name, OLD.kinds, OLD.classes,
		OLD.connection, OLD.created_at, OLD.created_by) THEN
		RETURN NEW; -- only retired_at changed
	END IF;
	RAISE EXCEPTION 'scheme versions are immutable (% on % refused); save a new version', TG_OP, TG_TABLE_NAME
		USING ERRCODE = '55000';
END
$$;
CREATE TRIGGER scheme_immutable BEFORE UPDATE OR DELETE ON scheme
	FOR EACH ROW EXECUTE FUNCTION scheme_refuse_change();
CREATE TRIGGER scheme_step_immutable BEFORE UPDATE OR DELETE ON scheme_step
	FOR EACH ROW EXECUTE FUNCTION scheme_refuse_change();

GRANT SELECT, INSERT ON scheme, scheme_step TO meterlab_app;
GRANT UPDATE (retired_at) ON scheme TO meterlab_app;
GRANT USAGE ON SEQUENCE scheme_scheme_id_seq TO meterlab_app;
