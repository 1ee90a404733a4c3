-- 0363: an Idempotency-Key whose request was refused is not kept as done
-- (web audit S1).
--
-- Until now the server committed the claim of an idempotent request whose
-- handler answered a refusal itself (a scan's 409/422 naming the refused
-- codes, a delivery's bad rows): the claim stayed with status and body NULL,
-- ml_idem_claim answered 'replay' for it, and every retry for 24 hours got
-- "500 {}" instead of running, even after the cause was fixed. The server
-- now rolls such a claim back with the rest of the refused request
-- (server/http.c, run_route). A claim committed without an answer names a
-- change that was never made, so its key is free: ml_idem_claim takes it
-- again, and the rows the old behaviour left are removed here.

CREATE OR REPLACE FUNCTION ml_idem_claim(p_key text, p_request_hash bytea, OUT state text, OUT status int, OUT body text)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	uid bigint;
	r api_idempotency;
BEGIN
	PERFORM ml_require_service();
	uid := ml_actor_id();
	-- expired, or committed without an answer (a refusal before 0363): nothing to replay
	DELETE FROM api_idempotency i WHERE i.user_id = uid AND i.idem_key = p_key
	  AND (i.created_at < now() - interval '24 hours' OR i.status IS NULL);
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

DELETE FROM api_idempotency WHERE status IS NULL;
