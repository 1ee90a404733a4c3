-- 0100: people, roles and permissions, and the authenticated actor.
--
-- Who did something is the authenticated user, never a typed name (issue 8;
-- JJF 1069-2012 and ISO/IEC 17025:2017 7.8.2.1 (o): the persons authorising
-- a report are identified). Design (sql/README.md, "Identity"):
--
--   * every person is a row of app_user with roles; for the command line
--     the person also has a PostgreSQL LOGIN role of the same name, member
--     of the group role meterlab_app (privileges of the application);
--   * the server logs in as meterlab_service and, per transaction, proves
--     which user it acts for with ml_session_assume(token hash) — only a
--     live session whose token the user holds will do;
--   * ml_actor_id() is the authenticated user: for meterlab_service the
--     assumed session, for anyone else the app_user whose login is
--     session_user (SET ROLE cannot change session_user; a person's own
--     login cannot claim another name, and the meterlab.session setting is
--     ignored for everyone but the service);
--   * ml_require(permission) checks the actor's roles against one table,
--     app_role_permission, and returns the actor id for the record.
--
-- Roles are cluster-wide in PostgreSQL: a cluster serves one meterlab
-- database for person logins.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'meterlab_service') THEN
		CREATE ROLE meterlab_service LOGIN;
	END IF;
	IF NOT pg_has_role('meterlab_service', 'meterlab_app', 'MEMBER') THEN
		GRANT meterlab_app TO meterlab_service;
	END IF;
	-- The owner creates the person logins (ml_user_add runs as the owner).
	IF NOT (SELECT rolcreaterole FROM pg_roles WHERE rolname = 'meterlab_owner') THEN
		ALTER ROLE meterlab_owner CREATEROLE;
	END IF;
END
$$;

-- Input hygiene for every free text a person types (names, reasons,
-- details): NFC-normalised UTF-8, 1..maxlen characters, no control or
-- invisible format characters (NUL, C0/C1, soft hyphen, zero-width and
-- bidirectional marks, BOM), no leading or trailing white space (ASCII or
-- U+3000). The C side checks the same before sending (common/text.h).
CREATE FUNCTION ml_text_ok(t text, maxlen int) RETURNS boolean
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT t IS NOT NULL
	   AND length(t) BETWEEN 1 AND maxlen
	   AND t IS NFC NORMALIZED
	   AND t !~ '[\u0001-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]'
	   AND t !~ '^[ \u3000]' AND t !~ '[ \u3000]$'
$$;

-- ---- roles and permissions (one table maps roles to permissions) ----

CREATE TABLE app_role (
	role text PRIMARY KEY CHECK (role ~ '^[a-z][a-z_]{1,31}$'),
	name_zh text NOT NULL,
	description text NOT NULL
);

CREATE TABLE app_permission (
	perm text PRIMARY KEY CHECK (perm ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'),
	description text NOT NULL
);

CREATE TABLE app_role_permission (
	role text NOT NULL REFERENCES app_role,
	perm text NOT NULL REFERENCES app_permission,
	PRIMARY KEY (role, perm)
);

INSERT INTO app_role (role, name_zh, description) VALUES
	('lab_technician', '检定员', 'verifies meters and transformers on benches or by hand; drafts certificates'),
	('checker', '核验员', 'checks certificate drafts (second person)'),
	('approver', '批准人', 'approves and issues certificates (third person); owns lab rules: settings, scheme activation'),
	('warehouse_clerk', '库管员', 'receives deliveries, stores, distributes and issues assets'),
	('field_member', '装接人员', 'installs, swaps and removes meters in the field; reports faults'),
	('quality_analyst', '质量分析员', 'samples lots, analyses faults and quality, traces standards'),
	('manager', '管理人员', 'plans work, approves retirements, follows monitoring'),
	('auditor', '审计员', 'reads everything and verifies the audit chain; changes nothing'),
	('admin', '系统管理员', 'manages people and roles, catalogue and reference data; records back-dated work');

INSERT INTO app_permission (perm, description) VALUES
	('user.admin', 'add people, change their roles and teams, disable and enable them'),
	('catalogue.edit', 'add manufacturers, device models and locations'),
	('asset.receive', 'receive a supplier delivery into a store'),
	('asset.move.store', 'store moves: dispatch, receive at a secondary store, issue, return unused'),
	('asset.move.field', 'field moves: install, remove, swap, report a fault'),
	('asset.move.lab', 'lab moves: draw for sampling and return, send for re-verification'),
	('asset.retire', 'return to the maker, scrap'),
	('run.create', 'create a verification run (task)'),
	('run.execute', 'start, resume and abort runs on benches'),
	('run.manual', 'record a manual verification'),
	('scheme.edit', 'save verification schemes (new versions are inactive)'),
	('scheme.activate', 'activate or retire a scheme version for new runs'),
	('setting.edit', 'change lab settings (verification rules marked configurable)'),
	('standard.edit', 'register reference standards, their certificates and benches'),
	('cert.draft', 'draft certificates from concluded runs (verifier)'),
	('cert.check', 'check certificate drafts (checker)'),
	('cert.approve', 'approve and issue certificates (approver)'),
	('cert.revise', 'issue a revision of a certificate'),
	('cert.withdraw', 'withdraw an issued certificate'),
	('record.backdate', 'record work done earlier (from paper), with a reason'),
	('audit.verify', 'verify the tamper-evidence chain');

INSERT INTO app_role_permission (role, perm) VALUES
	('admin', 'user.admin'), ('admin', 'catalogue.edit'), ('admin', 'standard.edit'),
	('admin', 'record.backdate'), ('admin', 'audit.verify'),
	('warehouse_clerk', 'asset.receive'), ('warehouse_clerk', 'asset.move.store'),
	('field_member', 'asset.move.field'),
	('lab_technician', 'asset.move.lab'), ('lab_technician', 'run.create'),
	('lab_technician', 'run.execute'), ('lab_technician', 'run.manual'),
	('lab_technician', 'scheme.edit'), ('lab_technician', 'cert.draft'),
	('checker', 'cert.check'),
	('approver', 'cert.approve'), ('approver', 'cert.revise'), ('approver', 'cert.withdraw'),
	('approver', 'scheme.activate'), ('approver', 'setting.edit'),
	('quality_analyst', 'asset.move.lab'), ('quality_analyst', 'asset.retire'),
	('manager', 'asset.retire'),
	('auditor', 'audit.verify');

-- ---- people ----

CREATE TABLE app_user (
	user_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- ASCII only, so 'chief.liu' with a zero-width space, a Cyrillic 'і'
	-- or fullwidth letters is refused rather than becoming a second person.
	-- It is also the PostgreSQL login name of the person.
	login text NOT NULL UNIQUE
		CHECK (login ~ '^[a-z][a-z0-9._-]{1,31}$' AND login !~ '^(pg_|meterlab)'
		       AND login NOT IN ('postgres', 'public', 'none', 'current_user', 'session_user')),
	display_name text NOT NULL CHECK (ml_text_ok(display_name, 64)),
	team_location_id bigint REFERENCES location (location_id),
	active boolean NOT NULL DEFAULT true,
	password_hash text, -- issue 12: Argon2id string (libsodium crypto_pwhash_str)
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by bigint REFERENCES app_user (user_id), -- NULL: the schema owner bootstrapped it
	created_by_login text NOT NULL DEFAULT session_user
);

CREATE TABLE app_user_role (
	user_id bigint NOT NULL REFERENCES app_user (user_id),
	role text NOT NULL REFERENCES app_role (role),
	granted_at timestamptz NOT NULL DEFAULT now(),
	granted_by bigint REFERENCES app_user (user_id),
	PRIMARY KEY (user_id, role)
);

-- Every change to people and roles, append-only.
CREATE TABLE app_user_log (
	log_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES app_user (user_id),
	action text NOT NULL CHECK (action IN ('add', 'roles', 'team', 'name', 'disable', 'enable')),
	detail jsonb NOT NULL DEFAULT '{}',
	by_user_id bigint REFERENCES app_user (user_id),
	by_login text NOT NULL DEFAULT session_user,
	at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION app_user_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'app_user_log is append-only (% refused)', TG_OP USING ERRCODE = '55000';
END
$$;
CREATE TRIGGER app_user_log_append_only BEFORE UPDATE OR DELETE ON app_user_log
	FOR EACH ROW EXECUTE FUNCTION app_user_log_refuse();
CREATE TRIGGER app_user_log_no_truncate BEFORE TRUNCATE ON app_user_log
	FOR EACH STATEMENT EXECUTE FUNCTION app_user_log_refuse();

-- People are history too (certificates name them): never deleted.
CREATE FUNCTION app_user_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% rows are never deleted (disable the user instead)', TG_TABLE_NAME
		USING ERRCODE = '55000';
END
$$;
CREATE TRIGGER app_user_no_delete BEFORE DELETE ON app_user
	FOR EACH ROW EXECUTE FUNCTION app_user_refuse_delete();
CREATE TRIGGER app_user_no_truncate BEFORE TRUNCATE ON app_user
	FOR EACH STATEMENT EXECUTE FUNCTION app_user_refuse_delete();

-- ---- sessions of the service (issue 12 adds logins, tokens, expiry policy) ----

CREATE TABLE auth_session (
	session_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES app_user (user_id),
	token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32), -- BLAKE2b-256 of the token
	kind text NOT NULL CHECK (kind IN ('browser', 'api')),
	scope_roles text[],            -- API tokens: the only roles this token may use
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	idle_timeout interval,         -- NULL: no idle limit
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	revoked_at timestamptz,
	revoked_reason text
);
CREATE INDEX auth_session_user ON auth_session (user_id) WHERE revoked_at IS NULL;

-- ---- the actor ----

-- The live session of the service's current transaction, or NULL.
CREATE FUNCTION ml_service_session() RETURNS auth_session
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	h text := current_setting('meterlab.session', true);
	s auth_session;
BEGIN
	IF session_user::text <> 'meterlab_service' OR h IS NULL OR h !~ '^[0-9a-f]{64}$' THEN
		RETURN NULL;
	END IF;
	SELECT * INTO s FROM auth_session
	WHERE token_hash = decode(h, 'hex') AND revoked_at IS NULL AND expires_at > now()
	  AND (idle_timeout IS NULL OR last_seen_at + idle_timeout > now());
	RETURN s;
END
$$;

-- The authenticated user's id; raises 28000 when there is none.
CREATE FUNCTION ml_actor_id() RETURNS bigint
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
		SELECT * INTO u FROM app_user WHERE user_id = s.user_id;
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
	RETURN u.user_id;
END
$$;

-- The roles in effect: the user's roles, narrowed by an API token's scope.
CREATE FUNCTION ml_actor_roles() RETURNS text[]
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	uid bigint := ml_actor_id();
	s auth_session := ml_service_session();
	r text[];
BEGIN
	SELECT coalesce(array_agg(role ORDER BY role), '{}') INTO r FROM app_user_role
	WHERE user_id = uid AND (s.scope_roles IS NULL OR role = ANY (s.scope_roles));
	RETURN r;
END
$$;

CREATE FUNCTION ml_has(p_perm text) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT EXISTS (SELECT 1 FROM app_role_permission
		       WHERE perm = p_perm AND role = ANY (ml_actor_roles()))
$$;

-- Check a permission; returns the actor's id for the record.
CREATE FUNCTION ml_require(p_perm text) RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	uid bigint := ml_actor_id();
	u app_user;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM app_permission WHERE perm = p_perm) THEN
		RAISE EXCEPTION 'unknown permission "%"', p_perm USING ERRCODE = 'XX000';
	END IF;
	IF ml_has(p_perm) THEN
		RETURN uid;
	END IF;
	SELECT * INTO u FROM app_user WHERE user_id = uid;
	RAISE EXCEPTION 'user % (%) may not do this: it needs permission "%", held by role(s) %; the user has %',
		u.login, u.display_name, p_perm,
		(SELECT coalesce(string_agg(role, ', ' ORDER BY role), 'none') FROM app_role_permission WHERE perm = p_perm),
		(SELECT CASE WHEN cardinality(r) = 0 THEN 'no role' ELSE 'role(s) ' || array_to_string(r, ', ') END
		 FROM ml_actor_roles() r)
		USING ERRCODE = '42501';
END
$$;

-- The DBA (a member of meterlab_owner, e.g. the role that runs migrations)
-- may bootstrap the first administrator without being a meterlab user.
CREATE FUNCTION ml_is_schema_admin() RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT pg_has_role(session_user, 'meterlab_owner', 'MEMBER')
$$;

-- user.admin, or the DBA; returns the acting user id (NULL for the DBA).
CREATE FUNCTION ml_require_user_admin() RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF ml_is_schema_admin() AND NOT EXISTS (SELECT 1 FROM app_user WHERE login = session_user::text) THEN
		RETURN NULL;
	END IF;
	RETURN ml_require('user.admin');
END
$$;

CREATE FUNCTION ml_check_roles(p_roles text[]) RETURNS void
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	bad text;
BEGIN
	IF p_roles IS NULL OR cardinality(p_roles) = 0 THEN
		RAISE EXCEPTION 'a user needs at least one role (one of: %)',
			(SELECT string_agg(role, ', ' ORDER BY role) FROM app_role) USING ERRCODE = '22023';
	END IF;
	SELECT r INTO bad FROM unnest(p_roles) r WHERE r IS NULL OR r NOT IN (SELECT role FROM app_role) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'unknown role "%" (one of: %)', bad,
			(SELECT string_agg(role, ', ' ORDER BY role) FROM app_role) USING ERRCODE = '22023';
	END IF;
END
$$;

CREATE FUNCTION ml_team_id(p_team text) RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	id bigint;
BEGIN
	IF p_team IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT location_id INTO id FROM location WHERE code = p_team AND kind = 'field_team';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'team "%" is not a field_team location', p_team USING ERRCODE = 'P0002';
	END IF;
	RETURN id;
END
$$;

-- Never take the admin role (or the account) of the last active
-- administrator: called before a change that would, with that user's id.
CREATE FUNCTION ml_keep_an_admin(p_user_id bigint) RETURNS void
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM app_user_role WHERE user_id = p_user_id AND role = 'admin')
	   AND NOT EXISTS (SELECT 1 FROM app_user_role r JOIN app_user u USING (user_id)
			   WHERE r.role = 'admin' AND u.active AND u.user_id <> p_user_id) THEN
		RAISE EXCEPTION 'this would leave no active administrator' USING ERRCODE = '55000';
	END IF;
END
$$;

-- Add a person: the app_user row, roles, and the PostgreSQL login (created
-- when missing; an existing login is linked only when it holds no special
-- power). Returns the new user id.
CREATE FUNCTION ml_user_add(p_login text, p_display_name text, p_roles text[], p_team text DEFAULT NULL)
	RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	by_id bigint := ml_require_user_admin();
	r pg_roles;
	uid bigint;
BEGIN
	IF p_login IS NULL OR p_login !~ '^[a-z][a-z0-9._-]{1,31}$' THEN
		RAISE EXCEPTION 'login "%" is not valid: 2–32 characters, lower-case ASCII letters, digits, . _ -, starting with a letter',
			p_login USING ERRCODE = '22023';
	END IF;
	IF NOT ml_text_ok(normalize(p_display_name, NFC), 64) THEN
		RAISE EXCEPTION 'display name "%" is not valid: 1–64 characters, no control or invisible characters, no leading or trailing space',
			p_display_name USING ERRCODE = '22023';
	END IF;
	PERFORM ml_check_roles(p_roles);
	INSERT INTO app_user (login, display_name, team_location_id, created_by)
	VALUES (p_login, normalize(p_display_name, NFC), ml_team_id(p_team), by_id)
	RETURNING user_id INTO uid;
	INSERT INTO app_user_role (user_id, role, granted_by)
	SELECT uid, x, by_id FROM (SELECT DISTINCT unnest(p_roles) AS x) d;
	INSERT INTO app_user_log (user_id, action, detail, by_user_id)
	VALUES (uid, 'add', jsonb_build_object('display_name', p_display_name, 'roles', p_roles, 'team', p_team), by_id);

	SELECT * INTO r FROM pg_roles WHERE rolname = p_login;
	IF NOT FOUND THEN
		EXECUTE format('CREATE ROLE %I LOGIN', p_login);
	ELSIF r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls
	      OR pg_has_role(p_login, 'meterlab_owner', 'MEMBER') THEN
		RAISE EXCEPTION 'database role "%" exists with special powers and cannot be a person''s login', p_login
			USING ERRCODE = '42501';
	END IF;
	IF NOT pg_has_role(p_login, 'meterlab_app', 'MEMBER') THEN
		EXECUTE format('GRANT meterlab_app TO %I', p_login);
	END IF;
	RETURN uid;
END
$$;

CREATE FUNCTION ml_user_row(p_login text) RETURNS app_user
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	u app_user;
BEGIN
	SELECT * INTO u FROM app_user WHERE login = p_login;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no user with login "%"', p_login USING ERRCODE = 'P0002';
	END IF;
	RETURN u;
END
$$;

-- Replace a person's roles.
CREATE FUNCTION ml_user_set_roles(p_login text, p_roles text[]) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	by_id bigint := ml_require_user_admin();
	u app_user := ml_user_row(p_login);
	old text[];
BEGIN
	PERFORM ml_check_roles(p_roles);
	IF 'admin' <> ALL (p_roles) THEN
		PERFORM ml_keep_an_admin(u.user_id);
	END IF;
	SELECT array_agg(role ORDER BY role) INTO old FROM app_user_role WHERE user_id = u.user_id;
	DELETE FROM app_user_role WHERE user_id = u.user_id AND role <> ALL (p_roles);
	INSERT INTO app_user_role (user_id, role, granted_by)
	SELECT u.user_id, x, by_id FROM (SELECT DISTINCT unnest(p_roles) AS x) d
	ON CONFLICT DO NOTHING;
	INSERT INTO app_user_log (user_id, action, detail, by_user_id)
	VALUES (u.user_id, 'roles', jsonb_build_object('old', old, 'new', p_roles), by_id);
END
$$;

CREATE FUNCTION ml_user_set_team(p_login text, p_team text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	by_id bigint := ml_require_user_admin();
	u app_user := ml_user_row(p_login);
BEGIN
	UPDATE app_user SET team_location_id = ml_team_id(p_team) WHERE user_id = u.user_id;
	INSERT INTO app_user_log (user_id, action, detail, by_user_id)
	VALUES (u.user_id, 'team', jsonb_build_object('team', p_team), by_id);
END
$$;

CREATE FUNCTION ml_user_set_name(p_login text, p_display_name text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	by_id bigint := ml_require_user_admin();
	u app_user := ml_user_row(p_login);
BEGIN
	IF NOT ml_text_ok(normalize(p_display_name, NFC), 64) THEN
		RAISE EXCEPTION 'display name "%" is not valid: 1–64 characters, no control or invisible characters, no leading or trailing space',
			p_display_name USING ERRCODE = '22023';
	END IF;
	UPDATE app_user SET display_name = normalize(p_display_name, NFC) WHERE user_id = u.user_id;
	INSERT INTO app_user_log (user_id, action, detail, by_user_id)
	VALUES (u.user_id, 'name', jsonb_build_object('old', u.display_name, 'new', p_display_name), by_id);
END
$$;

-- Disable: the person can no longer act (ml_actor_id refuses), every
-- session of theirs ends, and their PostgreSQL login is switched off.
CREATE FUNCTION ml_user_disable(p_login text, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	by_id bigint := ml_require_user_admin();
	u app_user := ml_user_row(p_login);
BEGIN
	IF NOT ml_text_ok(p_reason, 500) THEN
		RAISE EXCEPTION 'a reason is needed to disable a user (1–500 characters, no control characters)'
			USING ERRCODE = '22023';
	END IF;
	IF NOT u.active THEN
		RAISE EXCEPTION 'user % is already disabled', p_login USING ERRCODE = '55000';
	END IF;
	PERFORM ml_keep_an_admin(u.user_id);
	UPDATE app_user SET active = false WHERE user_id = u.user_id;
	UPDATE auth_session SET revoked_at = now(), revoked_reason = 'user disabled'
	WHERE user_id = u.user_id AND revoked_at IS NULL;
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login AND rolcanlogin) THEN
		EXECUTE format('ALTER ROLE %I NOLOGIN', p_login);
	END IF;
	INSERT INTO app_user_log (user_id, action, detail, by_user_id)
	VALUES (u.user_id, 'disable', jsonb_build_object('reason', p_reason), by_id);
END
$$;

CREATE FUNCTION ml_user_enable(p_login text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	by_id bigint := ml_require_user_admin();
	u app_user := ml_user_row(p_login);
BEGIN
	IF u.active THEN
		RAISE EXCEPTION 'user % is already active', p_login USING ERRCODE = '55000';
	END IF;
	UPDATE app_user SET active = true WHERE user_id = u.user_id;
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login AND NOT rolcanlogin) THEN
		EXECUTE format('ALTER ROLE %I LOGIN', p_login);
	END IF;
	INSERT INTO app_user_log (user_id, action, detail, by_user_id)
	VALUES (u.user_id, 'enable', '{}', by_id);
END
$$;

-- ---- the service: sessions ----

-- Create a session for a user the service has authenticated (password or
-- API token checked by the server with libsodium). Only meterlab_service.
CREATE FUNCTION ml_session_create(p_user_id bigint, p_token_hash bytea, p_kind text, p_ttl interval,
				  p_idle interval DEFAULT NULL, p_scope_roles text[] DEFAULT NULL)
	RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	sid bigint;
BEGIN
	IF session_user::text <> 'meterlab_service' THEN
		RAISE EXCEPTION 'only the meterlab service creates sessions' USING ERRCODE = '42501';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM app_user WHERE user_id = p_user_id AND active) THEN
		RAISE EXCEPTION 'user % does not exist or is disabled', p_user_id USING ERRCODE = '28000';
	END IF;
	IF p_scope_roles IS NOT NULL THEN
		PERFORM ml_check_roles(p_scope_roles);
	END IF;
	INSERT INTO auth_session (user_id, token_hash, kind, scope_roles, expires_at, idle_timeout)
	VALUES (p_user_id, p_token_hash, p_kind, p_scope_roles, now() + p_ttl, p_idle)
	RETURNING session_id INTO sid;
	RETURN sid;
END
$$;

-- Act for the holder of a token in this transaction (set_config(..., true)
-- ends with the transaction). Returns the user id; raises 28000 when the
-- session is unknown, revoked, expired, idle too long or its user disabled.
CREATE FUNCTION ml_session_assume(p_token_hash bytea) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	s auth_session;
BEGIN
	IF session_user::text <> 'meterlab_service' THEN
		RAISE EXCEPTION 'only the meterlab service assumes sessions' USING ERRCODE = '42501';
	END IF;
	PERFORM set_config('meterlab.session', encode(p_token_hash, 'hex'), true);
	s := ml_service_session();
	IF s.session_id IS NULL THEN
		PERFORM set_config('meterlab.session', '', true);
		RAISE EXCEPTION 'no live session for this token' USING ERRCODE = '28000';
	END IF;
	-- Keep the idle clock moving without writing on every request.
	IF s.last_seen_at < now() - interval '30 seconds' THEN
		UPDATE auth_session SET last_seen_at = now() WHERE session_id = s.session_id;
	END IF;
	RETURN ml_actor_id();
END
$$;

CREATE FUNCTION ml_session_revoke(p_token_hash bytea, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF session_user::text <> 'meterlab_service' THEN
		RAISE EXCEPTION 'only the meterlab service revokes sessions' USING ERRCODE = '42501';
	END IF;
	UPDATE auth_session SET revoked_at = now(), revoked_reason = p_reason
	WHERE token_hash = p_token_hash AND revoked_at IS NULL;
END
$$;

-- ---- what the application may read and call ----

REVOKE ALL ON app_role, app_permission, app_role_permission, app_user, app_user_role, app_user_log,
	auth_session FROM PUBLIC;
GRANT SELECT ON app_role, app_permission, app_role_permission, app_user_role, app_user_log TO meterlab_app;
-- Not password_hash.
GRANT SELECT (user_id, login, display_name, team_location_id, active, created_at, created_by, created_by_login)
	ON app_user TO meterlab_app;
-- Sessions (and their token hashes) are read by no login role.

-- EXECUTE: the sweep in db_migrate revokes PUBLIC's default EXECUTE on every
-- SECURITY DEFINER function; each migration grants what its callers need.
GRANT EXECUTE ON FUNCTION ml_text_ok(text, int), ml_actor_id(), ml_actor_roles(), ml_has(text), ml_require(text),
	ml_user_add(text, text, text[], text), ml_user_set_roles(text, text[]), ml_user_set_team(text, text),
	ml_user_set_name(text, text), ml_user_disable(text, text), ml_user_enable(text) TO meterlab_app;
GRANT EXECUTE ON FUNCTION ml_session_create(bigint, bytea, text, interval, interval, text[]),
	ml_session_assume(bytea), ml_session_revoke(bytea, text) TO meterlab_service;
