-- 0252: a run started over HTTP (issue 12, "start a run over HTTP") — a
-- delegated job session, and the person recorded on every step and
-- conclusion.
--
-- The runner holds a bench for minutes to hours and writes each step in its
-- own transaction. From the command line it is the technician's own
-- database login, so ml_actor_id() is that person. The server logs in as
-- meterlab_service and proves the person per transaction with a session
-- the person holds (0100): a browser session is too short-lived (30 min
-- idle) and belongs to the browser. So when a technician starts a run, the
-- request's own transaction — where ml_api_enter has just proved the person
-- and their run.execute — creates a *job session* for (person, run) with
-- ml_run_job_begin: a new random token whose hash only the server process
-- holds, kind 'job', bound to that one run. The runner's connections begin
-- every transaction with ml_session_assume(that hash) (sql/db.c's
-- transaction hook), so every row it writes records the technician, and
-- ml_run_job_end revokes the session when the runner stops, whatever the
-- outcome. What a job session may do (checked in the database, not trusted
-- to the server):
--   * permission run.execute only (ml_has), even if the person holds more;
--   * only its own run (ml_run_require: status, steps, conclusion, abort);
--   * never an HTTP request (ml_api_enter), never a password change or an
--     API token (like an API token, it is not a password login);
--   * the roles of the session that started it (scope_roles copied), so a
--     token scoped to lab_technician cannot start a wider job;
--   * it ends with the person: disabling them or a password change revokes
--     it like every other session (the run is then interrupted, resumable).

-- ---- the session kind ----

ALTER TABLE auth_session DROP CONSTRAINT auth_session_kind_check;
ALTER TABLE auth_session
	ADD CONSTRAINT auth_session_kind_check CHECK (kind IN ('browser', 'api', 'job')),
	ADD COLUMN job_run_id bigint REFERENCES verification_run (run_id),
	ADD CONSTRAINT auth_session_job_run CHECK ((kind = 'job') = (job_run_id IS NOT NULL));
CREATE INDEX auth_session_job ON auth_session (job_run_id) WHERE job_run_id IS NOT NULL;

ALTER TABLE auth_log DROP CONSTRAINT auth_log_event_check;
ALTER TABLE auth_log ADD CONSTRAINT auth_log_event_check
	CHECK (event IN ('login_ok', 'login_bad_password', 'login_unknown_user', 'login_disabled',
			 'login_no_password', 'login_throttled', 'logout', 'password_set', 'password_changed',
			 'token_created', 'token_revoked', 'job_started', 'job_ended'));

-- ---- who recorded a step and a conclusion ----

-- The authenticated person, or NULL for a login that is no meterlab user
-- (the DBA's fixtures): never raises, so it can be a column default.
CREATE FUNCTION ml_actor_id_or_null() RETURNS bigint
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT CASE WHEN session_user::text = 'meterlab_service' THEN (ml_service_session()).user_id
		    ELSE (SELECT user_id FROM app_user WHERE login = session_user::text) END
$$;

-- Rows before 0252 stay NULL (who ran a step was not recorded then; the
-- run's operator and the assets' history events name the person). Only the
-- SECURITY DEFINER run functions insert these rows and never name the column.
ALTER TABLE run_step ADD COLUMN recorded_by bigint REFERENCES app_user (user_id);
ALTER TABLE run_step ALTER COLUMN recorded_by SET DEFAULT ml_actor_id_or_null();
ALTER TABLE run_conclusion ADD COLUMN recorded_by bigint REFERENCES app_user (user_id);
ALTER TABLE run_conclusion ALTER COLUMN recorded_by SET DEFAULT ml_actor_id_or_null();

-- ---- what a job session may do ----

-- 0100's ml_has, and a job session holds run.execute only.
CREATE OR REPLACE FUNCTION ml_has(p_perm text) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT EXISTS (SELECT 1 FROM app_role_permission
		       WHERE perm = p_perm AND role = ANY (ml_actor_roles()))
	   AND (p_perm = 'run.execute' OR (ml_service_session()).kind IS DISTINCT FROM 'job')
$$;

-- 0113's ml_run_require, and a job session acts on its own run only.
CREATE OR REPLACE FUNCTION ml_run_require(r verification_run) RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	s auth_session := ml_service_session();
BEGIN
	IF s.kind = 'job' AND s.job_run_id IS DISTINCT FROM r.run_id THEN
		RAISE EXCEPTION 'this job session executes run % only, not run %', s.job_run_id, r.run_id
			USING ERRCODE = '42501';
	END IF;
	IF r.mode = 'driven' THEN
		RETURN ml_require('run.execute');
	END IF;
	IF r.backdated_by IS NOT NULL AND ml_has('record.backdate') THEN
		RETURN ml_actor_id();
	END IF;
	RETURN ml_require('run.manual');
END
$$;

-- 0250's ml_api_enter, and a job session is never an HTTP request's.
CREATE OR REPLACE FUNCTION ml_api_enter(p_token_hash bytea, p_perm text,
				       OUT user_id bigint, OUT login text, OUT session_id bigint, OUT kind text)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	ok boolean;
BEGIN
	user_id := ml_session_assume(p_token_hash);
	SELECT u.login, s.session_id, s.kind,
	       p_perm IS NULL OR EXISTS (
		SELECT 1 FROM app_user_role r JOIN app_role_permission rp ON rp.role = r.role
		WHERE r.user_id = s.user_id AND rp.perm = p_perm
		  AND (s.scope_roles IS NULL OR r.role = ANY (s.scope_roles)))
	INTO login, session_id, kind, ok
	FROM auth_session s JOIN app_user u ON u.user_id = s.user_id
	WHERE s.token_hash = p_token_hash;
	IF kind = 'job' THEN
		PERFORM set_config('meterlab.session', '', true);
		RAISE EXCEPTION 'no live session for this token' USING ERRCODE = '28000';
	END IF;
	IF NOT ok THEN
		PERFORM ml_require(p_perm);
		RAISE EXCEPTION 'permission % refused', p_perm USING ERRCODE = '42501';
	END IF;
END
$$;

-- 0250's ml_password_change, and a job session cannot change a password.
CREATE OR REPLACE FUNCTION ml_password_change(p_hash text) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	uid bigint := ml_actor_id();
	s auth_session := ml_service_session();
	n int;
BEGIN
	IF NOT ml_password_hash_ok(p_hash) THEN
		RAISE EXCEPTION 'a password is stored only as an Argon2id hash string (crypto_pwhash_str)'
			USING ERRCODE = '22023';
	END IF;
	IF s.kind IN ('api', 'job') THEN
		RAISE EXCEPTION 'an API token or a job session cannot change a password' USING ERRCODE = '42501';
	END IF;
	UPDATE app_user SET password_hash = p_hash WHERE user_id = uid;
	UPDATE auth_session SET revoked_at = now(), revoked_reason = 'password changed'
	WHERE auth_session.user_id = uid AND revoked_at IS NULL AND session_id IS DISTINCT FROM s.session_id;
	GET DIAGNOSTICS n = ROW_COUNT;
	INSERT INTO auth_log (event, login, user_id, session_id, detail)
	SELECT 'password_changed', u.login, uid, s.session_id, jsonb_build_object('sessions_ended', n)
	FROM app_user u WHERE u.user_id = uid;
	RETURN n;
END
$$;

-- A job session cannot make API tokens (0250's check is on the kind: it
-- refused 'api'; a trigger refuses inserts of API tokens from a job).
CREATE FUNCTION ml_auth_session_no_token_from_job() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF NEW.kind = 'api' AND (ml_service_session()).kind = 'job' THEN
		RAISE EXCEPTION 'a job session cannot create API tokens' USING ERRCODE = '42501';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER auth_session_no_token_from_job BEFORE INSERT ON auth_session
	FOR EACH ROW EXECUTE FUNCTION ml_auth_session_no_token_from_job();

-- ---- starting and ending a job (service only) ----

-- In the request's transaction, after ml_api_enter proved the person and
-- run.execute: a job session for (person, run), with the token hash the
-- server made. Refused when the run is not a driven run that can run
-- (55000), when a process executes it now or another server is starting it
-- (55P03). Returns the job session's id.
CREATE FUNCTION ml_run_job_begin(p_run bigint, p_token_hash bytea, p_ttl interval) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	s auth_session;
	uid bigint;
	r verification_run;
	other bigint;
	sid bigint;
BEGIN
	PERFORM ml_require_service();
	s := ml_service_session();
	IF s.kind = 'job' THEN
		RAISE EXCEPTION 'a job session cannot start another job' USING ERRCODE = '42501';
	END IF;
	uid := ml_require('run.execute');
	r := ml_run_row(p_run); -- locks the run: two starts at once are taken in turn
	IF r.mode <> 'driven' THEN
		RAISE EXCEPTION 'run % is a % run: its readings are typed in (meterlab run manual %), no bench executes it',
			p_run, r.mode, p_run USING ERRCODE = '55000';
	END IF;
	IF r.status NOT IN ('pending', 'running', 'interrupted') THEN
		RAISE EXCEPTION 'run % is already %', p_run, r.status USING ERRCODE = '55000';
	END IF;
	-- the runner holds this lock while it executes the run (lab/runner.c)
	IF NOT pg_try_advisory_xact_lock(7340032, p_run::int) THEN
		RAISE EXCEPTION 'run % is being executed by another process (meterlab run start on the lab machine, or another server)',
			p_run USING ERRCODE = '55P03';
	END IF;
	-- A live job session whose runner holds no lock (checked just above) is
	-- a runner starting (it takes the lock within moments of the commit) or
	-- one that is gone: a server that died mid-run. After a minute it is the
	-- latter; it is ended, so the run can be resumed at once.
	SELECT a.session_id INTO other FROM auth_session a
	WHERE a.kind = 'job' AND a.job_run_id = p_run AND a.revoked_at IS NULL AND a.expires_at > now()
	  AND a.created_at > now() - interval '1 minute';
	IF FOUND THEN
		RAISE EXCEPTION 'run % is already being started by a server (job session %)', p_run, other
			USING ERRCODE = '55P03';
	END IF;
	WITH gone AS (
		UPDATE auth_session a SET revoked_at = now(), revoked_reason = 'run job gone: no runner holds the run'
		WHERE a.kind = 'job' AND a.job_run_id = p_run AND a.revoked_at IS NULL
		RETURNING a.session_id, a.user_id)
	INSERT INTO auth_log (event, login, user_id, session_id, detail)
	SELECT 'job_ended', u.login, g.user_id, g.session_id,
	       jsonb_build_object('run_id', p_run, 'outcome', 'gone: no runner held the run when it was started again')
	FROM gone g JOIN app_user u ON u.user_id = g.user_id;
	IF p_token_hash IS NULL OR length(p_token_hash) <> 32 THEN
		RAISE EXCEPTION 'token hash must be 32 bytes (BLAKE2b-256)' USING ERRCODE = '22023';
	END IF;
	IF p_ttl IS NULL OR p_ttl < interval '1 minute' OR p_ttl > interval '7 days' THEN
		RAISE EXCEPTION 'job session lifetime % is outside 1 minute .. 7 days', p_ttl USING ERRCODE = '22023';
	END IF;
	INSERT INTO auth_session (user_id, token_hash, kind, scope_roles, expires_at, label, client_addr, job_run_id)
	VALUES (uid, p_token_hash, 'job', s.scope_roles, now() + p_ttl, 'run ' || p_run, s.client_addr, p_run)
	RETURNING session_id INTO sid;
	INSERT INTO auth_log (event, login, user_id, session_id, detail)
	SELECT 'job_started', u.login, uid, sid,
	       jsonb_build_object('run_id', p_run, 'via_session', s.session_id, 'expires_at', now() + p_ttl)
	FROM app_user u WHERE u.user_id = uid;
	RETURN sid;
END
$$;

-- The runner stopped (finished, interrupted, failed): the job session ends.
-- Returns false when it had already ended (revoked, e.g. the person was
-- disabled meanwhile).
CREATE FUNCTION ml_run_job_end(p_token_hash bytea, p_outcome text) RETURNS boolean
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	s auth_session;
BEGIN
	PERFORM ml_require_service();
	UPDATE auth_session SET revoked_at = now(), revoked_reason = 'run job ended'
	WHERE token_hash = p_token_hash AND kind = 'job' AND revoked_at IS NULL
	RETURNING * INTO s;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	INSERT INTO auth_log (event, login, user_id, session_id, detail)
	SELECT 'job_ended', u.login, u.user_id, s.session_id,
	       jsonb_build_object('run_id', s.job_run_id, 'outcome', left(coalesce(p_outcome, ''), 2000))
	FROM app_user u WHERE u.user_id = s.user_id;
	RETURN true;
END
$$;

GRANT EXECUTE ON FUNCTION ml_actor_id_or_null() TO meterlab_app;
GRANT EXECUTE ON FUNCTION ml_run_job_begin(bigint, bytea, interval), ml_run_job_end(bytea, text)
	TO meterlab_service;
