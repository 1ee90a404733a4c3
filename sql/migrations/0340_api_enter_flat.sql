-- 0340: the session proof of every API request, and every permission check,
-- read the session once (issue 12: asset lookup ≥ 5 000 requests/s).
--
-- What is checked does not change; only how often the same rows are read.
-- Before, one ml_api_enter read the session row three times (ml_session_assume
-- through ml_service_session, again in ml_actor_id, again for the result)
-- through four nested SECURITY DEFINER functions, each of which saves and
-- restores search_path; and one ml_has read it three times (ml_actor_roles →
-- ml_actor_id, ml_actor_roles itself, and the job-session test of 0252), so an
-- ml_require read it four times. PostgreSQL's CPU was two thirds of an
-- authenticated read.
--
-- Not done: caching the proven session in a transaction-local setting for
-- later calls. Any login can write any 'meterlab.*' setting
-- (set_config is not restricted for custom settings), so such a cache would
-- have to carry a MAC under a secret kept in a table, bound to the one
-- transaction: reading that secret costs what reading the session row by its
-- unique index costs, and a replayed value would be a forged identity. The
-- token hash in meterlab.session stays the only proof, re-checked against
-- auth_session by every ml_service_session().

-- The authenticated actor in one read: what ml_actor_id() checks (the same
-- refusals, the same messages), plus the session's kind and role scope (NULL
-- for a person's own login). Internal: called by the functions below only
-- (SECURITY DEFINER, so db_migrate's sweep leaves it executable by no login).
CREATE FUNCTION ml_actor_ctx(OUT user_id bigint, OUT kind text, OUT scope_roles text[])
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	u app_user;
	s auth_session;
BEGIN
	IF session_user::text = 'meterlab_service' THEN
		s := ml_service_session();
		IF s.session_id IS NULL THEN
			RAISE EXCEPTION 'the service acts for no user in this transaction (no live session assumed)'
				USING ERRCODE = '28000';
		END IF;
		SELECT * INTO u FROM app_user WHERE app_user.user_id = s.user_id;
	ELSE
		SELECT * INTO u FROM app_user WHERE login = session_user::text;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'database login "%" is not a meterlab user', session_user
				USING ERRCODE = '28000',
				      HINT = 'an administrator adds people with: meterlab user add LOGIN --name NAME --role ROLE';
		END IF;
	END IF;
	IF NOT u.active THEN
		RAISE EXCEPTION 'user % (%) is disabled', u.login, u.display_name USING ERRCODE = '28000';
	END IF;
	user_id := u.user_id;
	kind := s.kind;
	scope_roles := s.scope_roles;
END
$$;

-- 0100's ml_actor_roles: the user's roles narrowed by the token's scope.
CREATE OR REPLACE FUNCTION ml_actor_roles() RETURNS text[]
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	a record := ml_actor_ctx();
	r text[];
BEGIN
	SELECT coalesce(array_agg(role ORDER BY role), '{}') INTO r FROM app_user_role
	WHERE app_user_role.user_id = a.user_id AND (a.scope_roles IS NULL OR role = ANY (a.scope_roles));
	RETURN r;
END
$$;

-- 0252's ml_has (a job session holds run.execute only), one read of the session.
CREATE OR REPLACE FUNCTION ml_has(p_perm text) RETURNS boolean
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	a record := ml_actor_ctx();
BEGIN
	IF a.kind = 'job' AND p_perm IS DISTINCT FROM 'run.execute' THEN
		RETURN false;
	END IF;
	RETURN EXISTS (SELECT 1 FROM app_user_role r JOIN app_role_permission rp ON rp.role = r.role
		       WHERE r.user_id = a.user_id AND rp.perm = p_perm
			 AND (a.scope_roles IS NULL OR r.role = ANY (a.scope_roles)));
END
$$;

-- 0100's ml_require, one read of the session (the refusal's message reads more).
CREATE OR REPLACE FUNCTION ml_require(p_perm text) RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	a record := ml_actor_ctx();
	u app_user;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM app_permission WHERE perm = p_perm) THEN
		RAISE EXCEPTION 'unknown permission "%"', p_perm USING ERRCODE = 'XX000';
	END IF;
	IF (a.kind IS DISTINCT FROM 'job' OR p_perm = 'run.execute')
	   AND EXISTS (SELECT 1 FROM app_user_role r JOIN app_role_permission rp ON rp.role = r.role
		       WHERE r.user_id = a.user_id AND rp.perm = p_perm
			 AND (a.scope_roles IS NULL OR r.role = ANY (a.scope_roles))) THEN
		RETURN a.user_id;
	END IF;
	SELECT * INTO u FROM app_user WHERE app_user.user_id = a.user_id;
	RAISE EXCEPTION 'user % (%) may not do this: it needs permission "%", held by role(s) %; the user has %',
		u.login, u.display_name, p_perm,
		(SELECT coalesce(string_agg(role, ', ' ORDER BY role), 'none') FROM app_role_permission WHERE perm = p_perm),
		(SELECT CASE WHEN cardinality(r) = 0 THEN 'no role' ELSE 'role(s) ' || array_to_string(r, ', ') END
		 FROM ml_actor_roles() r)
		USING ERRCODE = '42501';
END
$$;

-- 0252's ml_api_enter in one statement: the session by its token hash, live
-- (not revoked, not expired, not idle too long — ml_service_session's test),
-- its user active (ml_actor_id's), not a job session (0252), and the route's
-- permission with the token's scope, read together; then the proof recorded
-- for the transaction (meterlab.session, as ml_session_assume records it) and
-- the idle clock moved at most every 30 seconds. The refusals are those of
-- 0252: 42501 for another login, 28000 "no live session for this token" or
-- "user … is disabled", and a missing permission raised by ml_require.
CREATE OR REPLACE FUNCTION ml_api_enter(p_token_hash bytea, p_perm text,
				       OUT user_id bigint, OUT login text, OUT session_id bigint, OUT kind text)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	seen timestamptz;
	active boolean;
	dname text;
	ok boolean;
BEGIN
	IF session_user::text <> 'meterlab_service' THEN
		RAISE EXCEPTION 'only the meterlab service assumes sessions' USING ERRCODE = '42501';
	END IF;
	SELECT s.user_id, u.login, s.session_id, s.kind, s.last_seen_at, u.active, u.display_name,
	       p_perm IS NULL OR EXISTS (
		SELECT 1 FROM app_user_role r JOIN app_role_permission rp ON rp.role = r.role
		WHERE r.user_id = s.user_id AND rp.perm = p_perm
		  AND (s.scope_roles IS NULL OR r.role = ANY (s.scope_roles)))
	INTO user_id, login, session_id, kind, seen, active, dname, ok
	FROM auth_session s JOIN app_user u ON u.user_id = s.user_id
	WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now()
	  AND (s.idle_timeout IS NULL OR s.last_seen_at + s.idle_timeout > now());
	IF NOT FOUND OR kind = 'job' THEN
		RAISE EXCEPTION 'no live session for this token' USING ERRCODE = '28000';
	END IF;
	IF NOT active THEN
		RAISE EXCEPTION 'user % (%) is disabled', login, dname USING ERRCODE = '28000';
	END IF;
	PERFORM set_config('meterlab.session', encode(p_token_hash, 'hex'), true);
	IF seen < now() - interval '30 seconds' THEN
		UPDATE auth_session a SET last_seen_at = now() WHERE a.session_id = ml_api_enter.session_id;
	END IF;
	IF NOT ok THEN
		PERFORM ml_require(p_perm);
		RAISE EXCEPTION 'permission % refused', p_perm USING ERRCODE = '42501';
	END IF;
END
$$;
