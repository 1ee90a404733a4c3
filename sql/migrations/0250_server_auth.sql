-- 0250: the server (issue 12) — passwords, API tokens, login throttling and
-- the authentication log, idempotency keys, read permissions for the API,
-- and run-progress notifications.
--
-- Built on 0100 (sql/README.md, "Identity"): the server logs in as
-- meterlab_service and, per transaction, proves whom it acts for with a
-- session token the user holds (ml_session_assume). This migration adds
-- what the service needs to create such sessions from a password (Argon2id
-- computed by the server with libsodium; only the hash reaches the
-- database, and only the service reads it back), and what a person needs to
-- hold a revocable API token scoped to some of their roles.

-- ---- read permissions (the API checks them per route with ml_require) ----

INSERT INTO app_permission (perm, description) VALUES
	('asset.read', 'read assets, their history, the catalogue and locations'),
	('lab.read', 'read benches, reference standards, schemes and runs'),
	('cert.read', 'read certificates and download their PDFs');

INSERT INTO app_role_permission (role, perm)
SELECT r, 'asset.read' FROM unnest(ARRAY['lab_technician', 'checker', 'approver', 'warehouse_clerk',
	'field_member', 'quality_analyst', 'manager', 'auditor', 'admin']) r;
INSERT INTO app_role_permission (role, perm)
SELECT r, p FROM unnest(ARRAY['lab_technician', 'checker', 'approver', 'quality_analyst', 'manager',
	'auditor', 'admin']) r CROSS JOIN unnest(ARRAY['lab.read', 'cert.read']) p;

-- ---- passwords: only Argon2id strings are stored ----

-- The form crypto_pwhash_str writes ($argon2id$v=19$m=…,t=…,p=…$salt$hash):
-- a plain password stored by mistake is refused, not kept.
CREATE FUNCTION ml_password_hash_ok(h text) RETURNS boolean
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT h IS NOT NULL AND length(h) < 128
	   AND h ~ '^\$argon2id\$v=19\$m=[0-9]{1,10},t=[0-9]{1,10},p=[0-9]{1,3}\$[A-Za-z0-9+/]{16,}\$[A-Za-z0-9+/]{16,}$'
$$;
ALTER TABLE app_user ADD CONSTRAINT app_user_password_hash_form
	CHECK (password_hash IS NULL OR ml_password_hash_ok(password_hash));

-- ---- sessions: a label for API tokens, the address a browser logged in from ----

ALTER TABLE auth_session
	ADD COLUMN label text CHECK (label IS NULL OR ml_text_ok(label, 100)),
	ADD COLUMN client_addr inet;

-- ---- the authentication log (append-only) ----

-- Every login attempt (with its outcome), logout, password change and token
-- change. Failed logins are counted from here for throttling, per account
-- and per address (ml_login_lookup), so several server processes share one
-- count and the evidence stays.
CREATE TABLE auth_log (
	log_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	event text NOT NULL CHECK (event IN ('login_ok', 'login_bad_password', 'login_unknown_user',
		'login_disabled', 'login_no_password', 'login_throttled', 'logout', 'password_set',
		'password_changed', 'token_created', 'token_revoked')),
	login text NOT NULL CHECK (length(login) BETWEEN 1 AND 64), -- as given for login attempts
	user_id bigint REFERENCES app_user (user_id),
	client_addr inet,
	session_id bigint,
	by_user_id bigint REFERENCES app_user (user_id), -- who did it, when not the user (admin)
	by_login text NOT NULL DEFAULT session_user,
	detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX auth_log_login_fail ON auth_log (login, at) WHERE event LIKE 'login%';
CREATE INDEX auth_log_addr_fail ON auth_log (client_addr, at) WHERE event LIKE 'login%';
CREATE INDEX auth_log_user ON auth_log (user_id, at);

CREATE FUNCTION ml_append_only_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = '55000';
END
$$;
CREATE TRIGGER auth_log_append_only BEFORE UPDATE OR DELETE ON auth_log
	FOR EACH ROW EXECUTE FUNCTION ml_append_only_refuse();
CREATE TRIGGER auth_log_no_truncate BEFORE TRUNCATE ON auth_log
	FOR EACH STATEMENT EXECUTE FUNCTION ml_append_only_refuse();

CREATE FUNCTION ml_require_service() RETURNS void
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF session_user::text <> 'meterlab_service' THEN
		RAISE EXCEPTION 'only the meterlab service may do this' USING ERRCODE = '42501';
	END IF;
END
$$;

-- ---- logins (service only) ----

-- What the service needs to check a password and whether to try at all.
-- user_id/password_hash are NULL for an unknown login. A login is throttled
-- when p_account_limit bad passwords for it (since its last good login) or
-- p_address_limit failed attempts from p_addr fall within p_window;
-- throttled_until is when the oldest of those leaves the window.
CREATE FUNCTION ml_login_lookup(p_login text, p_addr inet, p_window interval, p_account_limit int,
				p_address_limit int,
				OUT user_id bigint, OUT password_hash text, OUT active boolean,
				OUT throttled_until timestamptz)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	u app_user;
	since timestamptz := now() - p_window;
	last_ok timestamptz;
	a timestamptz;
	b timestamptz;
BEGIN
	PERFORM ml_require_service();
	SELECT * INTO u FROM app_user WHERE login = p_login;
	user_id := u.user_id;
	password_hash := u.password_hash;
	active := u.active;
	SELECT max(l.at) INTO last_ok FROM auth_log l WHERE l.login = p_login AND l.event = 'login_ok' AND l.at > since;
	SELECT l.at INTO a FROM auth_log l
	WHERE l.login = p_login AND l.event = 'login_bad_password' AND l.at > greatest(since, last_ok)
	ORDER BY l.at DESC OFFSET greatest(p_account_limit, 1) - 1 LIMIT 1;
	SELECT l.at INTO b FROM auth_log l
	WHERE l.client_addr = p_addr AND l.at > since
	  AND l.event IN ('login_bad_password', 'login_unknown_user', 'login_disabled', 'login_no_password')
	ORDER BY l.at DESC OFFSET greatest(p_address_limit, 1) - 1 LIMIT 1;
	throttled_until := greatest(a, b) + p_window;
END
$$;

-- Record a refused login attempt (the service's own transaction, committed
-- even though the login failed).
CREATE FUNCTION ml_login_record(p_login text, p_addr inet, p_event text, p_detail jsonb DEFAULT '{}')
	RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	PERFORM ml_require_service();
	IF p_event NOT IN ('login_bad_password', 'login_unknown_user', 'login_disabled', 'login_no_password',
			   'login_throttled') THEN
		RAISE EXCEPTION 'ml_login_record records refused logins, not "%"', p_event USING ERRCODE = '22023';
	END IF;
	INSERT INTO auth_log (event, login, user_id, client_addr, detail)
	VALUES (p_event, p_login, (SELECT u.user_id FROM app_user u WHERE u.login = p_login), p_addr,
		coalesce(p_detail, '{}'));
END
$$;

-- A good password: create the browser session and log the login.
CREATE FUNCTION ml_login_session(p_user_id bigint, p_token_hash bytea, p_addr inet, p_ttl interval,
				 p_idle interval) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	sid bigint;
BEGIN
	PERFORM ml_require_service();
	sid := ml_session_create(p_user_id, p_token_hash, 'browser', p_ttl, p_idle, NULL);
	UPDATE auth_session SET client_addr = p_addr WHERE session_id = sid;
	INSERT INTO auth_log (event, login, user_id, client_addr, session_id)
	SELECT 'login_ok', u.login, u.user_id, p_addr, sid FROM app_user u WHERE u.user_id = p_user_id;
	RETURN sid;
END
$$;

-- After a good password whose hash has weaker parameters than the service
-- now uses: store the new hash, unless the password changed meanwhile.
CREATE FUNCTION ml_login_rehash(p_user_id bigint, p_old_hash text, p_new_hash text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	PERFORM ml_require_service();
	IF NOT ml_password_hash_ok(p_new_hash) THEN
		RAISE EXCEPTION 'not an Argon2id hash string' USING ERRCODE = '22023';
	END IF;
	UPDATE app_user SET password_hash = p_new_hash WHERE user_id = p_user_id AND password_hash = p_old_hash;
END
$$;

-- Log out: end the session of this token (the one assumed in this transaction).
CREATE FUNCTION ml_session_logout(p_token_hash bytea, p_addr inet) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	s auth_session;
BEGIN
	PERFORM ml_require_service();
	UPDATE auth_session SET revoked_at = now(), revoked_reason = 'logout'
	WHERE token_hash = p_token_hash AND revoked_at IS NULL
	RETURNING * INTO s;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no live session for this token' USING ERRCODE = '28000';
	END IF;
	INSERT INTO auth_log (event, login, user_id, client_addr, session_id)
	SELECT 'logout', u.login, u.user_id, p_addr, s.session_id FROM app_user u WHERE u.user_id = s.user_id;
END
$$;

-- The API's way in, one round trip per request: assume the session of the
-- token (ml_session_assume: live, not idle too long, user active), check
-- the route's permission when it has one, and say who it is. This runs on
-- every request, so the permission is read the way ml_has reads it (the
-- user's roles narrowed by the token's scope, app_role_permission) in one
-- EXISTS; a refusal is raised by ml_require itself, so its message is the
-- same everywhere. The roles in effect are ml_actor_roles() (whoami).
CREATE FUNCTION ml_api_enter(p_token_hash bytea, p_perm text,
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
	IF NOT ok THEN
		PERFORM ml_require(p_perm);
		RAISE EXCEPTION 'permission % refused', p_perm USING ERRCODE = '42501';
	END IF;
END
$$;

-- The assumed user's password hash (to check the old password before a
-- change made through the server). Service only.
CREATE FUNCTION ml_service_password_hash() RETURNS text
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	PERFORM ml_require_service();
	RETURN (SELECT password_hash FROM app_user WHERE user_id = ml_actor_id());
END
$$;

-- ---- passwords ----

-- An administrator sets or resets a person's password (the hash is
-- computed by the client). Every session and API token of the person ends:
-- whoever held the old password may have made one. Returns how many ended.
CREATE FUNCTION ml_user_set_password(p_login text, p_hash text) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	by_id bigint := ml_require_user_admin();
	u app_user := ml_user_row(p_login);
	n int;
BEGIN
	IF NOT ml_password_hash_ok(p_hash) THEN
		RAISE EXCEPTION 'a password is stored only as an Argon2id hash string (crypto_pwhash_str)'
			USING ERRCODE = '22023';
	END IF;
	UPDATE app_user SET password_hash = p_hash WHERE user_id = u.user_id;
	UPDATE auth_session SET revoked_at = now(), revoked_reason = 'password set by an administrator'
	WHERE auth_session.user_id = u.user_id AND revoked_at IS NULL;
	GET DIAGNOSTICS n = ROW_COUNT;
	INSERT INTO auth_log (event, login, user_id, by_user_id, detail)
	VALUES ('password_set', u.login, u.user_id, by_id, jsonb_build_object('sessions_ended', n));
	RETURN n;
END
$$;

-- A person changes their own password: from the command line (their own
-- database login proves who they are) or through the server (which checks
-- the old password first). Every other session and API token of theirs
-- ends; the server session making the change stays. Returns how many ended.
CREATE FUNCTION ml_password_change(p_hash text) RETURNS int
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
	-- An API token cannot change the password of the person it stands for.
	IF s.kind = 'api' THEN
		RAISE EXCEPTION 'an API token cannot change a password' USING ERRCODE = '42501';
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

-- ---- API tokens ----

-- A person makes a token for themselves (the secret is generated and shown
-- by the client; only its BLAKE2b-256 arrives). The token acts with the
-- given roles only, which must be roles the person holds in effect now (a
-- scoped token cannot make a wider one).
CREATE FUNCTION ml_api_token_create(p_token_hash bytea, p_label text, p_scope_roles text[], p_ttl interval)
	RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	uid bigint := ml_actor_id();
	s auth_session := ml_service_session();
	mine text[] := ml_actor_roles();
	bad text;
	sid bigint;
BEGIN
	-- A token does not make tokens: it could outlive itself.
	IF s.kind = 'api' THEN
		RAISE EXCEPTION 'an API token cannot create API tokens' USING ERRCODE = '42501';
	END IF;
	IF NOT ml_text_ok(p_label, 100) THEN
		RAISE EXCEPTION 'token label "%" is not valid: 1–100 characters, no control or invisible characters, no leading or trailing space',
			p_label USING ERRCODE = '22023';
	END IF;
	PERFORM ml_check_roles(p_scope_roles);
	SELECT r INTO bad FROM unnest(p_scope_roles) r WHERE r <> ALL (mine) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'a token cannot hold role "%": the user holds %', bad,
			CASE WHEN cardinality(mine) = 0 THEN 'no role' ELSE array_to_string(mine, ', ') END
			USING ERRCODE = '42501';
	END IF;
	IF p_ttl IS NULL OR p_ttl < interval '1 minute' OR p_ttl > interval '366 days' THEN
		RAISE EXCEPTION 'token lifetime % is outside 1 minute .. 366 days', p_ttl USING ERRCODE = '22023';
	END IF;
	IF length(p_token_hash) <> 32 THEN
		RAISE EXCEPTION 'token hash must be 32 bytes (BLAKE2b-256)' USING ERRCODE = '22023';
	END IF;
	INSERT INTO auth_session (user_id, token_hash, kind, scope_roles, expires_at, label)
	VALUES (uid, p_token_hash, 'api', (SELECT array_agg(DISTINCT r ORDER BY r) FROM unnest(p_scope_roles) r),
		now() + p_ttl, p_label)
	RETURNING session_id INTO sid;
	INSERT INTO auth_log (event, login, user_id, session_id, detail)
	SELECT 'token_created', u.login, uid, sid,
	       jsonb_build_object('label', p_label, 'roles', p_scope_roles, 'expires_at', now() + p_ttl,
				  'via_session', s.session_id)
	FROM app_user u WHERE u.user_id = uid;
	RETURN sid;
END
$$;

-- Revoke an API token: one's own, or anyone's with user.admin.
CREATE FUNCTION ml_api_token_revoke(p_token_id bigint, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	uid bigint := ml_actor_id();
	t auth_session;
	by_id bigint;
BEGIN
	IF NOT ml_text_ok(p_reason, 500) THEN
		RAISE EXCEPTION 'a reason is needed to revoke a token (1–500 characters, no control characters)'
			USING ERRCODE = '22023';
	END IF;
	SELECT * INTO t FROM auth_session WHERE session_id = p_token_id AND kind = 'api' FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no API token %', p_token_id USING ERRCODE = 'P0002';
	END IF;
	IF t.user_id <> uid THEN
		-- Someone else's token: only an administrator, and the refusal does
		-- not tell a non-administrator whether the id exists.
		IF NOT ml_has('user.admin') THEN
			RAISE EXCEPTION 'no API token %', p_token_id USING ERRCODE = 'P0002';
		END IF;
		by_id := uid;
	END IF;
	IF t.revoked_at IS NOT NULL THEN
		RAISE EXCEPTION 'API token % was already revoked at %', p_token_id, t.revoked_at USING ERRCODE = '55000';
	END IF;
	UPDATE auth_session SET revoked_at = now(), revoked_reason = p_reason WHERE session_id = t.session_id;
	INSERT INTO auth_log (event, login, user_id, session_id, by_user_id, detail)
	SELECT 'token_revoked', u.login, u.user_id, t.session_id, by_id, jsonb_build_object('reason', p_reason)
	FROM app_user u WHERE u.user_id = t.user_id;
END
$$;

-- API tokens of a person (NULL: one's own; another's needs user.admin),
-- newest first. Never the hash.
CREATE FUNCTION ml_api_token_list(p_login text DEFAULT NULL)
	RETURNS TABLE (token_id bigint, login text, label text, roles text, created_at timestamptz,
		       expires_at timestamptz, last_seen_at timestamptz, revoked_at timestamptz,
		       revoked_reason text)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	uid bigint := ml_actor_id();
	who bigint := uid;
BEGIN
	IF p_login IS NOT NULL THEN
		who := (ml_user_row(p_login)).user_id;
		IF who <> uid THEN
			PERFORM ml_require('user.admin');
		END IF;
	END IF;
	RETURN QUERY
	SELECT s.session_id, u.login, s.label, array_to_string(s.scope_roles, ','), s.created_at, s.expires_at,
	       s.last_seen_at, s.revoked_at, s.revoked_reason
	FROM auth_session s JOIN app_user u ON u.user_id = s.user_id
	WHERE s.user_id = who AND s.kind = 'api'
	ORDER BY s.session_id DESC;
END
$$;

-- ---- idempotency keys (service only, inside the operation's transaction) ----

-- A POST with an Idempotency-Key: the first request claims (user, key) in
-- the transaction of the operation and stores its response there, so the
-- row exists exactly when the operation committed. A retry finds it and
-- gets the same response; a concurrent duplicate waits on the row and then
-- replays; a failed operation rolls the claim back, so a retry runs again.
CREATE TABLE api_idempotency (
	user_id bigint NOT NULL REFERENCES app_user (user_id),
	idem_key text NOT NULL CHECK (idem_key ~ '^[\x21-\x7e]{8,128}$'),
	request_hash bytea NOT NULL CHECK (length(request_hash) = 32), -- method, path and body
	status int CHECK (status BETWEEN 200 AND 299),
	body text,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);

-- state: 'new' (claimed: run the operation, then ml_idem_store), 'replay'
-- (status and body of the stored response), 'mismatch' (the key was used
-- for a different request). Keys are kept 24 hours.
CREATE FUNCTION ml_idem_claim(p_key text, p_request_hash bytea, OUT state text, OUT status int, OUT body text)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	uid bigint;
	r api_idempotency;
BEGIN
	PERFORM ml_require_service();
	uid := ml_actor_id();
	DELETE FROM api_idempotency i WHERE i.user_id = uid AND i.idem_key = p_key
	  AND i.created_at < now() - interval '24 hours';
	INSERT INTO api_idempotency (user_id, idem_key, request_hash) VALUES (uid, p_key, p_request_hash)
	ON CONFLICT DO NOTHING;
	IF FOUND THEN
		state := 'new';
		RETURN;
	END IF;
	SELECT * INTO r FROM api_idempotency i WHERE i.user_id = uid AND i.idem_key = p_key;
	IF r.request_hash <> p_request_hash THEN
		state := 'mismatch';
	ELSE
		state := 'replay';
		status := r.status;
		body := r.body;
	END IF;
END
$$;

CREATE FUNCTION ml_idem_store(p_key text, p_status int, p_body text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	PERFORM ml_require_service();
	UPDATE api_idempotency SET status = p_status, body = p_body
	WHERE user_id = ml_actor_id() AND idem_key = p_key AND status IS NULL;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'idempotency key % was not claimed in this transaction', p_key USING ERRCODE = 'XX000';
	END IF;
END
$$;

CREATE FUNCTION ml_idem_purge() RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	n int;
BEGIN
	PERFORM ml_require_service();
	DELETE FROM api_idempotency WHERE created_at < now() - interval '24 hours';
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- ---- run progress for the server's event streams ----

-- Run status changes and completed steps are announced on channel ml_run
-- (delivered at commit, so a listener never sees what rolled back). The
-- runner writes these tables as it always did: it needs no change. The
-- payload is small; a listener reads details with the run.
CREATE FUNCTION ml_run_notify() RETURNS trigger
	LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
	IF TG_TABLE_NAME = 'verification_run' THEN
		PERFORM pg_notify('ml_run', json_build_object('run_id', NEW.run_id, 'bench_id', NEW.bench_id,
			'event', 'status', 'status', NEW.status, 'steps_total', NEW.steps_total)::text);
	ELSE
		PERFORM pg_notify('ml_run', json_build_object('run_id', NEW.run_id, 'event', 'step',
			'step_no', NEW.step_no, 'kind', NEW.kind)::text);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER verification_run_notify_insert AFTER INSERT ON verification_run
	FOR EACH ROW EXECUTE FUNCTION ml_run_notify();
CREATE TRIGGER verification_run_notify_status AFTER UPDATE ON verification_run
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION ml_run_notify();
CREATE TRIGGER run_step_notify AFTER INSERT ON run_step
	FOR EACH ROW EXECUTE FUNCTION ml_run_notify();

-- ---- grants ----

REVOKE ALL ON auth_log, api_idempotency FROM PUBLIC;
-- Nobody reads the tables directly: the log through auditors' tools later,
-- idempotency rows only through the functions.
GRANT EXECUTE ON FUNCTION ml_password_hash_ok(text) TO meterlab_app;
GRANT EXECUTE ON FUNCTION ml_user_set_password(text, text), ml_password_change(text),
	ml_api_token_create(bytea, text, text[], interval), ml_api_token_revoke(bigint, text),
	ml_api_token_list(text) TO meterlab_app;
GRANT EXECUTE ON FUNCTION ml_login_lookup(text, inet, interval, int, int),
	ml_login_record(text, inet, text, jsonb), ml_login_session(bigint, bytea, inet, interval, interval),
	ml_login_rehash(bigint, text, text), ml_session_logout(bytea, inet), ml_api_enter(bytea, text),
	ml_service_password_hash(), ml_idem_claim(text, bytea), ml_idem_store(text, int, text),
	ml_idem_purge() TO meterlab_service;
