-- 0022: scheme_refuse_change() from 0021 evaluated NEW.code on scheme_step
-- rows (and on DELETE), so refusals surfaced as "record new has no field
-- code" instead of the intended message. Same rule, nested tests.
CREATE OR REPLACE FUNCTION scheme_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'scheme' AND TG_OP = 'UPDATE' THEN
		IF (NEW.scheme_id, NEW.code, NEW.version, NEW.name, NEW.kinds, NEW.classes, NEW.connection,
		    NEW.created_at, NEW.created_by)
		   IS NOT DISTINCT FROM (OLD.scheme_id, OLD.code, OLD.version, OLD.name, OLD.kinds, OLD.classes,
		    OLD.connection, OLD.created_at, OLD.created_by) THEN
			RETURN NEW; -- only retired_at changed
		END IF;
	END IF;
	RAISE EXCEPTION 'scheme versions are immutable (% on % refused); save a new version', TG_OP, TG_TABLE_NAME
		USING ERRCODE = '55000';
END
$$;
