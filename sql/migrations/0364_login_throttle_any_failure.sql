-- 0364: the per-account login throttle counts every refused attempt for
-- the login text, whatever the outcome (server audit, finding 2).
--
-- 0250 counted only login_bad_password per account. An unknown login is
-- recorded as login_unknown_user, so the sixth wrong password for a real
-- account answered 429 while an unknown login answered 401 for ever: the
-- throttle told which logins exist, which the dummy Argon2id hash and the
-- one 401 for every failure are there to hide. Now login_unknown_user,
-- login_no_password and login_disabled count too (the per-address count
-- already took all four; login_throttled counts for neither, or a
-- throttled login would never open again). The count is still per login
-- text since its last good login, within the window.
--
-- Restates 0250's ml_login_lookup whole (CREATE OR REPLACE keeps its owner
-- and grants: meterlab_service only). "event LIKE 'login%'" is the partial
-- indexes' predicate, so the planner may use them.

CREATE OR REPLACE FUNCTION ml_login_lookup(p_login text, p_addr inet, p_window interval, p_account_limit int,
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
	SELECT max(l.at) INTO last_ok FROM auth_log l
	WHERE l.login = p_login AND l.event LIKE 'login%' AND l.event = 'login_ok' AND l.at > since;
	SELECT l.at INTO a FROM auth_log l
	WHERE l.login = p_login AND l.at > greatest(since, last_ok) AND l.event LIKE 'login%'
	  AND l.event IN ('login_bad_password', 'login_unknown_user', 'login_disabled', 'login_no_password')
	ORDER BY l.at DESC OFFSET greatest(p_account_limit, 1) - 1 LIMIT 1;
	SELECT l.at INTO b FROM auth_log l
	WHERE l.client_addr = p_addr AND l.at > since AND l.event LIKE 'login%'
	  AND l.event IN ('login_bad_password', 'login_unknown_user', 'login_disabled', 'login_no_password')
	ORDER BY l.at DESC OFFSET greatest(p_address_limit, 1) - 1 LIMIT 1;
	throttled_until := greatest(a, b) + p_window;
END
$$;
