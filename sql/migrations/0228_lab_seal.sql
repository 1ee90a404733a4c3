-- 0228: sealing a verified meter in the lab (issue 11: seals are "issued to
-- teams and to lab technicians, applied to exactly one installation or
-- verified meter"; 计量印证). After a meter passes verification the
-- technician closes it with lead/plastic seals of their own (JJG 596-2012 §6:
-- a verified meter is sealed by the verifying body): the seal is issued to
-- that person (ml_seal_issue with a login, 0225), used once, and the meter's
-- history records it. A seal applied in the lab names the asset and no
-- installation; seal list shows it on the meter. (Not yet: a meter opened
-- again for re-verification keeps its old lab seals 'applied' in the records.)

INSERT INTO app_permission (perm, description) VALUES
	('seal.apply', 'seal a verified meter in the lab with one''s own seals');
INSERT INTO app_role_permission (role, perm) VALUES ('lab_technician', 'seal.apply');

-- Seals on an asset (lab seals, and the meter's seals at installations).
CREATE INDEX seal_asset ON seal (asset_id) WHERE asset_id IS NOT NULL;

-- Apply the technician's own seals to one verified meter; returns how many.
-- Refused, naming the value: an asset not verified (only in_stock or
-- secondary_stock after a passed verification), a seal not registered, not
-- issued (in store, applied, removed, destroyed: a seal is used once), issued
-- to a team or to another person, or listed twice. Seals are taken FOR
-- UPDATE: one seal applied to two meters at once goes to exactly one.
CREATE FUNCTION ml_seal_apply(p_barcode text, p_codes text[]) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('seal.apply');
	a asset;
	s record;
	c text;
	ids bigint[] := '{}';
BEGIN
	IF coalesce(cardinality(p_codes), 0) = 0 THEN
		RAISE EXCEPTION 'no seal codes given' USING ERRCODE = '22023';
	END IF;
	SELECT * INTO a FROM asset WHERE barcode = p_barcode::bpchar;
	IF NOT FOUND OR NOT coalesce(ml_barcode_ok(p_barcode), false) THEN
		RAISE EXCEPTION 'asset % is not registered', coalesce(quote_literal(p_barcode), 'NULL') USING ERRCODE = 'P0002';
	END IF;
	IF a.state NOT IN ('in_stock', 'secondary_stock') OR a.valid_until IS NULL THEN
		RAISE EXCEPTION 'asset % is ''%'': only a meter that passed verification (in stock, with a validity) is sealed in the lab',
			a.barcode, a.state USING ERRCODE = '55000';
	END IF;
	FOREACH c IN ARRAY p_codes LOOP
		SELECT sl.*, t.code AS team, u.login AS person INTO s
		FROM seal sl LEFT JOIN location t ON t.location_id = sl.holder_team_id
		LEFT JOIN app_user u ON u.user_id = sl.holder_user_id
		WHERE sl.code = c FOR UPDATE OF sl;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'seal % is not registered', coalesce(quote_literal(c), 'NULL') USING ERRCODE = 'P0002';
		END IF;
		IF s.seal_id = ANY (ids) THEN
			RAISE EXCEPTION 'seal % is listed twice', c USING ERRCODE = '22023';
		END IF;
		IF s.state <> 'issued' THEN
			RAISE EXCEPTION 'seal % is % (%): a seal is used once', c, s.state,
				CASE s.state WHEN 'applied' THEN 'already applied to ' || coalesce((SELECT barcode FROM asset
					WHERE asset_id = s.asset_id)::text, 'a meter')
				WHEN 'in_store' THEN 'not issued yet' ELSE 'no longer usable' END USING ERRCODE = '55000';
		END IF;
		IF s.holder_user_id IS DISTINCT FROM actor THEN
			RAISE EXCEPTION 'seal % is issued to %, not to you: a technician seals with their own seals', c,
				coalesce('team ' || s.team, s.person) USING ERRCODE = '42501';
		END IF;
		ids := ids || s.seal_id;
	END LOOP;
	UPDATE seal SET state = 'applied', asset_id = a.asset_id, installation_id = NULL, changed_at = now()
	WHERE seal_id = ANY (ids);
	INSERT INTO seal_event (seal_id, action, actor_id, details)
	SELECT x, 'apply', actor, jsonb_build_object('asset', a.barcode, 'lab', true) FROM unnest(ids) x;
	-- the meter's history: same state, the seals named
	PERFORM ml_asset_apply(actor, ARRAY[ROW(a.asset_id, a.state, a.state, 'seal', NULL, false, NULL, NULL,
		jsonb_build_object('seals', p_codes))::ml_asset_change]);
	RETURN cardinality(ids);
END
$$;

REVOKE ALL ON FUNCTION ml_seal_apply(text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ml_seal_apply(text, text[]) TO meterlab_app;
