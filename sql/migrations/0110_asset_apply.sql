-- 0110: the one internal primitive that changes an asset's state or validity
-- and writes its history event (issue 8, part A).
--
-- Every function that moves assets (lifecycle moves, swap, runs, manual
-- verification, and part B's certificate revision that keeps valid_until
-- consistent) ends in ml_asset_apply(). It is NOT executable by any login:
-- callers are SECURITY DEFINER functions that already checked the
-- permission (ml_require), the state and the rules, and pass the actor id
-- they got from ml_require / ml_actor_id().
--
-- What it guarantees by itself, whoever calls it:
--   * the lifecycle table below: (from_state, action) -> to_state, or a change
--     that keeps the state (from_state = to_state: a validity or location
--     correction, e.g. a certificate revision);
--   * compare-and-set: every asset must still be in from_state; otherwise
--     nothing is applied (SQLSTATE 40001, ML_ECONFLICT) naming the asset;
--   * one asset_event per change in the same statement (actor id and login,
--     location after the change, from/to, action, reason, details).

-- Who did it: the app_user id (0100). No foreign key: asset_event is
-- partitioned and takes 100 000-row batches, where per-row RI checks cost more
-- than the insert (0003); only SECURITY DEFINER functions write events, always
-- with an id from ml_actor_id(), and app_user rows are never deleted.
ALTER TABLE asset_event ADD COLUMN actor_id bigint;

-- The lifecycle as data (assets/asset_state.c is the same table for the C
-- side; tests/assets compare the two). return_unused has two targets: a
-- secondary store or the central store (to_secondary).
CREATE TABLE asset_transition (
	from_state text NOT NULL,
	action text NOT NULL,
	to_state text NOT NULL,
	to_secondary boolean NOT NULL DEFAULT false,
	PRIMARY KEY (from_state, action, to_secondary)
);
INSERT INTO asset_transition (from_state, action, to_state, to_secondary) VALUES
	('arrived', 'sample', 'sampling', false),
	('arrived', 'verify_start', 'verifying', false),
	('sampling', 'sample_return', 'arrived', false),
	('sampling', 'verify_start', 'verifying', false),
	('verifying', 'verify_pass', 'in_stock', false),
	('verifying', 'verify_fail', 'failed', false),
	('verifying', 'verify_abort', 'reverify', false),
	('in_stock', 'verify_start', 'verifying', false),
	('in_stock', 'dispatch', 'in_transit', false),
	('in_stock', 'issue', 'issued', false),
	('failed', 'return_to_maker', 'returned_to_maker', false),
	('failed', 'scrap', 'scrapped', false),
	('in_transit', 'receive_secondary', 'secondary_stock', false),
	('secondary_stock', 'issue', 'issued', false),
	('issued', 'install', 'installed', false),
	('issued', 'return_unused', 'in_stock', false),
	('issued', 'return_unused', 'secondary_stock', true),
	('installed', 'remove', 'removed', false),
	('installed', 'fault_report', 'fault_analysis', false),
	('removed', 'fault_report', 'fault_analysis', false),
	('removed', 'reuse', 'reverify', false),
	('removed', 'scrap', 'scrapped', false),
	('fault_analysis', 'reuse', 'reverify', false),
	('fault_analysis', 'return_to_maker', 'returned_to_maker', false),
	('fault_analysis', 'scrap', 'scrapped', false),
	('reverify', 'verify_start', 'verifying', false);

CREATE FUNCTION asset_transition_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'asset_transition is the lifecycle (change it with a migration): % refused', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER asset_transition_fixed BEFORE INSERT OR UPDATE OR DELETE ON asset_transition
	FOR EACH ROW EXECUTE FUNCTION asset_transition_refuse();
CREATE TRIGGER asset_transition_no_truncate BEFORE TRUNCATE ON asset_transition
	FOR EACH STATEMENT EXECUTE FUNCTION asset_transition_refuse();

-- One change of one asset.
CREATE TYPE ml_asset_change AS (
	asset_id bigint,
	from_state text,      -- compare-and-set: the state the caller checked
	to_state text,
	action text,          -- asset_event.action: a lifecycle action, or e.g. 'cert_revise' when from = to
	location_id bigint,   -- where the asset is afterwards; NULL keeps its location
	set_valid_until boolean, -- true: valid_until := valid_until below (NULL clears it)
	valid_until date,
	reason text,
	details jsonb         -- NULL -> '{}'
);

-- Apply changes all or nothing; returns how many assets changed (= the
-- number of changes). An asset may appear once per call.
CREATE FUNCTION ml_asset_apply(p_actor bigint, p_changes ml_asset_change[]) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	login text;
	n bigint := coalesce(cardinality(p_changes), 0);
	done bigint;
	done_ids bigint[];
	bad record;
BEGIN
	IF n = 0 THEN
		RETURN 0;
	END IF;
	SELECT u.login INTO login FROM app_user u WHERE u.user_id = p_actor;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'ml_asset_apply: actor % is not a meterlab user', p_actor USING ERRCODE = '28000';
	END IF;
	-- the lifecycle: a listed transition, or no change of state
	SELECT c.asset_id, c.from_state, c.to_state, c.action INTO bad
	FROM unnest(p_changes) c
	WHERE c.asset_id IS NULL OR c.from_state IS NULL OR c.to_state IS NULL OR c.action IS NULL
	   OR (c.from_state <> c.to_state AND NOT EXISTS (
		SELECT 1 FROM asset_transition t
		WHERE t.from_state = c.from_state AND t.action = c.action AND t.to_state = c.to_state))
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'ml_asset_apply: asset % cannot go from % to % by %', bad.asset_id,
			coalesce(bad.from_state, 'NULL'), coalesce(bad.to_state, 'NULL'), coalesce(bad.action, 'NULL')
			USING ERRCODE = '55000';
	END IF;
	SELECT c.asset_id INTO bad FROM unnest(p_changes) c GROUP BY c.asset_id HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'ml_asset_apply: asset % appears more than once', bad.asset_id USING ERRCODE = '22023';
	END IF;

	WITH c AS (SELECT * FROM unnest(p_changes)),
	upd AS (
		UPDATE asset a SET state = c.to_state,
			location_id = coalesce(c.location_id, a.location_id),
			valid_until = CASE WHEN c.set_valid_until THEN c.valid_until ELSE a.valid_until END,
			state_changed_at = CASE WHEN c.to_state <> c.from_state THEN now() ELSE a.state_changed_at END
		FROM c WHERE a.asset_id = c.asset_id AND a.state = c.from_state
		RETURNING a.asset_id, a.location_id),
	ev AS (
		INSERT INTO asset_event (asset_id, actor, actor_id, location_id, from_state, to_state, action, reason,
					 details)
		SELECT c.asset_id, login, p_actor, upd.location_id, c.from_state, c.to_state, c.action, c.reason,
		       coalesce(c.details, '{}'::jsonb)
		FROM c JOIN upd USING (asset_id)
		RETURNING asset_id)
	SELECT coalesce(array_agg(asset_id), '{}') INTO done_ids FROM ev;
	done := cardinality(done_ids);

	IF done <> n THEN
		-- someone changed an asset after the caller checked it: nothing is applied
		SELECT c.asset_id, a.barcode, c.from_state, a.state INTO bad
		FROM unnest(p_changes) c LEFT JOIN asset a USING (asset_id)
		WHERE c.asset_id <> ALL (done_ids) LIMIT 1;
		RAISE EXCEPTION 'asset % was changed by someone else (it is now ''%'', no longer ''%''); nothing moved',
			coalesce(bad.barcode::text, bad.asset_id::text), coalesce(bad.state, 'not registered'), bad.from_state
			USING ERRCODE = '40001';
	END IF;
	RETURN done;
END
$$;
-- Internal: no EXECUTE for PUBLIC (the migration sweep revokes it), none for
-- meterlab_app. SECURITY DEFINER functions owned by meterlab_owner call it.

REVOKE ALL ON asset_transition FROM PUBLIC;
GRANT SELECT ON asset_transition TO meterlab_app;
