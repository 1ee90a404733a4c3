-- 0347 (issue 10): the setting readers and the step recorder's actor
-- default are PL/pgSQL, so a session plans their statements once.
--
-- Why: ml_setting, ml_setting_e4 (0112) and ml_actor_id_or_null (0252)
-- were SQL functions with SET search_path, which PostgreSQL never inlines:
-- it plans their statements again in every statement that calls them (an
-- SQL function keeps its plans only for the calling statement). Each
-- recorded step calls them from ml_run_record_step and run_step's default
-- (recorded_by), as do every rule check that reads a setting: one call as
-- its own statement cost 0.076–0.084 ms as SQL against 0.042–0.043 ms as
-- PL/pgSQL (ml_setting), 0.071–0.072 against 0.045–0.046 ms
-- (ml_actor_id_or_null), pgbench, prepared, 5 000 calls, two rounds each
-- (bench/RESULTS.md "Session 11"). 0331 did the same for ml_asset_place.
--
-- The answers are the same: the stored value, else the default (NULL for
-- an unknown key); e4 converts as 0112 did (dec4 × 10 000 cast to bigint,
-- bool yes → 1, else the value as an integer); the actor is the service
-- session's user for meterlab_service, else the app_user of the login, else
-- NULL. CREATE OR REPLACE keeps the owner and the grants.

CREATE OR REPLACE FUNCTION ml_setting(p_key text) RETURNS text
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN coalesce((SELECT value FROM lab_setting WHERE key = p_key),
			(SELECT default_value FROM lab_setting_def WHERE key = p_key));
END
$$;

CREATE OR REPLACE FUNCTION ml_setting_e4(p_key text) RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	t text;
	v text;
BEGIN
	SELECT d.type INTO t FROM lab_setting_def d WHERE d.key = p_key;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	v := ml_setting(p_key);
	RETURN CASE t WHEN 'dec4' THEN (v::numeric * 10000)::bigint
		      WHEN 'bool' THEN CASE v WHEN 'yes' THEN 1 ELSE 0 END
		      ELSE v::bigint END;
END
$$;

CREATE OR REPLACE FUNCTION ml_actor_id_or_null() RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF session_user::text = 'meterlab_service' THEN
		RETURN (ml_service_session()).user_id;
	END IF;
	RETURN (SELECT user_id FROM app_user WHERE login = session_user::text);
END
$$;
