-- 0360: four holes an audit found in the database's guard (2026-12-07).
--
-- 1. Temporary tables. Five SECURITY DEFINER functions stage their input in
--    a temporary table (putaway_scan 0200, pick_scan 0201, count_scan and
--    count_expected 0206, plan_demand_in 0301, watch_found 0300) created
--    with CREATE TEMP TABLE IF NOT EXISTS and then written by its bare name,
--    which resolves to pg_temp (the name is not in public). PostgreSQL gives
--    PUBLIC the TEMPORARY privilege on every database, so any login could
--    create that table first, with a trigger of its own in pg_temp, and the
--    function then fired the caller's trigger as meterlab_owner: a warehouse
--    clerk or an auditor became the owner (and, through its CREATEROLE, a
--    member of pg_execute_server_program). No login needs temporary
--    objects: only the owner's functions create them. So PUBLIC loses
--    TEMPORARY on this database and the owner is granted it; the migration
--    fails when it cannot establish that (it must then be run by the
--    database's owner or a superuser), rather than leave the hole open.
--
-- 2. The last administrator. ml_keep_an_admin read app_user_role without a
--    lock: two administrators taking each other's admin role at the same
--    time both saw the other one left and both committed, leaving none. The
--    check now takes one transaction lock for every change that can remove
--    an administrator, and reads after it (VOLATILE: a fresh snapshot that
--    sees the change the lock waited for).
--
-- 3. Arrival sampling (0273, GB/T 2828.1 clause 7/8: the lot is judged from
--    the inspection of its sample). The verdict counted a drawn asset as
--    judged when its state was anything but sampling/verifying/reverify and
--    as nonconforming only while its state was 'failed'; so a drawn meter
--    moved back to arrived (sample_return) without any test counted as
--    judged and conforming, and a failed one scrapped or returned to the
--    maker stopped counting as nonconforming: a bad lot could be accepted
--    with none of its sample measured. A drawn asset is now judged by its
--    own verifications concluded since the draw: judged when it has one,
--    nonconforming when any of them failed (a failure is not undone by a
--    later pass). The quarantine also had two gaps: any asset of the lot
--    moved to 'sampling' by hand could then be verified for stock (the
--    exception was for OLD.state = 'sampling', not for the drawn assets),
--    and a drawn asset whose run was abandoned (reverify) could never be
--    verified again, so the lot could never be decided. Now only the drawn
--    assets are verified during quarantine, from sampling or reverify, and
--    a drawn asset cannot be returned to 'arrived' until the lot is decided.
--
-- 4. The date of a run. ml_run_create took "today" from current_date, which
--    follows the caller's TimeZone setting (PGTZ, or SET TimeZone): a
--    technician could date a bench run yesterday or tomorrow without the
--    record.backdate permission (backdated_by stayed empty), and so pass the
--    check that the standards' certificates are valid on the run's date, or
--    add a day to valid_until; and on a server in UTC every run started
--    between 00:00 and 08:00 in China took the previous day. The run's date
--    is now China Standard Time, the zone the certificates print
--    (ml_cert_today, 0141), whatever the session's zone.

-- ---- 1. temporary objects: the owner's alone ----
DO $$
DECLARE
	db text := current_database();
BEGIN
	-- Identifiers, not values: DDL takes no parameters, %I quotes the name.
	EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', db);
	EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO meterlab_owner', db);
	IF EXISTS (SELECT 1 FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
		   WHERE d.datname = db AND a.grantee = 0 AND a.privilege_type = 'TEMPORARY') THEN
		RAISE EXCEPTION 'PUBLIC still holds TEMPORARY on database %: run this migration as the database''s owner or a superuser', db
			USING ERRCODE = '42501';
	END IF;
	IF has_database_privilege('meterlab_app', db, 'TEMPORARY') THEN
		RAISE EXCEPTION 'meterlab_app may create temporary objects in database % (a grant to it or to a role it belongs to): revoke it', db
			USING ERRCODE = '42501';
	END IF;
END
$$;

-- ---- 2. one change of administrators at a time ----
CREATE OR REPLACE FUNCTION ml_keep_an_admin(p_user_id bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	-- Held to the end of the transaction: a concurrent change waits, then
	-- sees this one committed.
	PERFORM pg_advisory_xact_lock(hashtext('meterlab.admins'));
	IF EXISTS (SELECT 1 FROM app_user_role WHERE user_id = p_user_id AND role = 'admin')
	   AND NOT EXISTS (SELECT 1 FROM app_user_role r JOIN app_user u USING (user_id)
			   WHERE r.role = 'admin' AND u.active AND u.user_id <> p_user_id) THEN
		RAISE EXCEPTION 'this would leave no active administrator' USING ERRCODE = '55000';
	END IF;
END
$$;

-- ---- 3. arrival sampling ----

-- The sample's tally since the draw: judged = drawn assets with an overall
-- conclusion of a run concluded since p_since; nonconforming = those with a
-- failed one. Runs as its caller (the definer functions below).
CREATE FUNCTION ml_lot_sample_tally(p_lot_id bigint, p_since timestamptz, OUT nonconforming int, OUT judged int)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT (count(*) FILTER (WHERE c.fails > 0))::int, (count(*) FILTER (WHERE c.n > 0))::int
	FROM lot_sample_item i
	CROSS JOIN LATERAL (SELECT count(*) AS n, count(*) FILTER (WHERE rc.verdict = 'fail') AS fails
			    FROM run_conclusion rc
			    WHERE rc.asset_id = i.asset_id AND rc.item = 'overall' AND rc.concluded_at >= p_since) c
	WHERE i.lot_id = p_lot_id
$$;
REVOKE ALL ON FUNCTION ml_lot_sample_tally(bigint, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION lot_quarantine_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	ls record;
	drawn boolean;
BEGIN
	SELECT l.code, s.sample_size INTO ls
	FROM lot_sampling s JOIN lot l ON l.lot_id = s.lot_id
	WHERE s.lot_id = NEW.lot_id AND s.status = 'sampling';
	IF NOT FOUND THEN
		RETURN NEW;
	END IF;
	drawn := EXISTS (SELECT 1 FROM lot_sample_item i WHERE i.lot_id = NEW.lot_id AND i.asset_id = NEW.asset_id);
	IF NEW.state = 'arrived' THEN
		IF drawn THEN
			RAISE EXCEPTION 'asset % was drawn in the arrival sample of lot %: it stays in the sample until the lot is decided (verify it; meterlab sample decide)',
				NEW.barcode, ls.code USING ERRCODE = '55000';
		END IF;
		RETURN NEW;
	END IF;
	IF drawn AND NEW.state = 'verifying' AND OLD.state IN ('sampling', 'reverify') THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'asset % is in lot %, quarantined: its arrival sample (% assets) is being judged; % is refused until the lot is accepted (meterlab sample decide)',
		NEW.barcode, ls.code, ls.sample_size,
		CASE NEW.state WHEN 'verifying' THEN 'verification for stock' WHEN 'issued' THEN 'issue'
		WHEN 'in_transit' THEN 'dispatch' ELSE 'installation' END
		USING ERRCODE = '55000';
END
$$;
DROP TRIGGER asset_lot_quarantine ON asset;
CREATE TRIGGER asset_lot_quarantine BEFORE UPDATE OF state ON asset
	FOR EACH ROW WHEN (NEW.state IN ('verifying', 'issued', 'in_transit', 'installed', 'arrived')
			   AND NEW.state IS DISTINCT FROM OLD.state)
	EXECUTE FUNCTION lot_quarantine_check();

-- Judge the lot from its sample now (0273, with the tally above): reject as
-- soon as Re are nonconforming, accept when all are judged and at most Ac
-- are. Records and returns the verdict (NULL: not yet decidable).
CREATE OR REPLACE FUNCTION ml_lot_sample_judge(p_lot text, OUT verdict text, OUT nonconforming int, OUT judged int,
					       OUT sample_size int, OUT ac int, OUT re int)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	s lot_sampling;
BEGIN
	PERFORM ml_require('sample.draw');
	SELECT ls.* INTO s FROM lot_sampling ls JOIN lot l ON l.lot_id = ls.lot_id WHERE l.code = p_lot FOR UPDATE OF ls;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'lot % has no arrival sample (meterlab sample draw --lot %)', coalesce(quote_literal(p_lot), 'NULL'),
			p_lot USING ERRCODE = 'P0002';
	END IF;
	SELECT tl.nonconforming, tl.judged INTO nonconforming, judged FROM ml_lot_sample_tally(s.lot_id, s.drawn_at) tl;
	sample_size := s.sample_size;
	ac := s.ac;
	re := s.re;
	verdict := CASE WHEN nonconforming >= s.re THEN 'reject'
			WHEN judged = s.sample_size AND nonconforming <= s.ac THEN 'accept' END;
	IF s.status = 'sampling' THEN
		UPDATE lot_sampling SET verdict = ml_lot_sample_judge.verdict, nonconforming = ml_lot_sample_judge.nonconforming,
			judged = ml_lot_sample_judge.judged, verdict_at = now()
		WHERE lot_id = s.lot_id;
	END IF;
END
$$;

-- A person confirms the computed verdict (0273; the tally above).
CREATE OR REPLACE FUNCTION ml_lot_sample_decide(p_lot text, p_decision text, p_note text DEFAULT NULL) RETURNS text
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('sample.decide');
	s lot_sampling;
	j record;
	sw ml_switch_state;
	nxt record;
	tighter int;
	t sampling_plan_cell;
	back ml_asset_change[];
	note text := CASE WHEN p_note IS NULL THEN NULL ELSE ml_clean_text('note', p_note, 500) END;
BEGIN
	IF p_decision IS NULL OR p_decision NOT IN ('accept', 'reject') THEN
		RAISE EXCEPTION 'decision % is not accept or reject', coalesce(quote_literal(left(p_decision, 20)), 'NULL')
			USING ERRCODE = '22023';
	END IF;
	SELECT ls.* INTO s FROM lot_sampling ls JOIN lot l ON l.lot_id = ls.lot_id WHERE l.code = p_lot FOR UPDATE OF ls;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'lot % has no arrival sample', coalesce(quote_literal(p_lot), 'NULL') USING ERRCODE = 'P0002';
	END IF;
	IF s.status <> 'sampling' THEN
		RAISE EXCEPTION 'lot % is already %', p_lot, s.status USING ERRCODE = '55000';
	END IF;
	SELECT tl.nonconforming AS nc, tl.judged INTO j FROM ml_lot_sample_tally(s.lot_id, s.drawn_at) tl;
	IF NOT (j.nc >= s.re OR (j.judged = s.sample_size AND j.nc <= s.ac)) THEN
		RAISE EXCEPTION 'lot % cannot be decided yet: % of % drawn assets verified, % nonconforming (Ac %, Re %)',
			p_lot, j.judged, s.sample_size, j.nc, s.ac, s.re USING ERRCODE = '55000';
	END IF;
	IF (j.nc >= s.re) <> (p_decision = 'reject') THEN
		RAISE EXCEPTION 'lot %: the sample gives % (% nonconforming of %, Ac %, Re %); the confirmation ''%'' differs from it',
			p_lot, CASE WHEN j.nc >= s.re THEN 'reject' ELSE 'accept' END, j.nc, s.sample_size, s.ac, s.re, p_decision
			USING ERRCODE = '55000';
	END IF;
	-- clause 9: one original lot, accepted or not (9.3.3.2: one step tighter for Ac >= 2)
	SELECT (w.state).* INTO sw FROM sampling_switch w WHERE w.supplier = s.supplier AND w.model_id = s.model_id FOR UPDATE;
	IF NOT FOUND THEN
		sw := ROW('normal', false, 0, 0, 0, 0)::ml_switch_state;
	END IF;
	SELECT * INTO t FROM sampling_plan_cell c WHERE c.severity = 'normal' AND c.letter = s.plan_letter
	  AND c.aql::numeric < s.aql::numeric ORDER BY c.aql::numeric DESC LIMIT 1;
	tighter := CASE WHEN s.severity = 'normal' AND FOUND AND t.use_letter = s.plan_letter
			THEN (j.nc <= t.ac)::int END;
	SELECT * INTO nxt FROM ml_sampling_switch(sw, 'lot', ml_sampling_rules(), true, p_decision = 'accept', s.ac, tighter);
	INSERT INTO sampling_switch (supplier, model_id, state) VALUES (s.supplier, s.model_id, nxt.state)
	ON CONFLICT (supplier, model_id) DO UPDATE SET state = EXCLUDED.state, changed_at = now();
	UPDATE lot_sampling SET status = CASE p_decision WHEN 'accept' THEN 'accepted' ELSE 'rejected' END,
		verdict = p_decision, nonconforming = j.nc, judged = j.judged, verdict_at = now(),
		confirmed_by = actor, confirmed_at = now(), confirm_note = note, switch_outcome = nxt.outcome
	WHERE lot_id = s.lot_id;
	IF p_decision = 'reject' THEN
		-- the whole lot goes back: drawn assets still in sampling, those
		-- verified into stock or failed, and all the rest (GB/T 2828.1: a
		-- rejected lot is not accepted in part)
		SELECT array_agg(ROW(a.asset_id, a.state, 'returned_to_maker', 'return_to_maker', NULL, false, NULL,
			'lot ' || p_lot || ' rejected on arrival sampling',
			jsonb_build_object('lot', p_lot, 'nonconforming', j.nc, 'sample', s.sample_size))::ml_asset_change)
		INTO back FROM asset a
		WHERE a.lot_id = s.lot_id AND a.state IN ('arrived', 'sampling', 'in_stock', 'failed');
		IF EXISTS (SELECT 1 FROM asset a WHERE a.lot_id = s.lot_id
			   AND a.state NOT IN ('arrived', 'sampling', 'in_stock', 'failed', 'returned_to_maker', 'scrapped')) THEN
			RAISE EXCEPTION 'lot %: some assets are neither in the lab nor in stock (%); bring them back first',
				p_lot, (SELECT string_agg(DISTINCT a.state, ', ') FROM asset a WHERE a.lot_id = s.lot_id
					AND a.state NOT IN ('arrived', 'sampling', 'in_stock', 'failed', 'returned_to_maker', 'scrapped'))
				USING ERRCODE = '55000';
		END IF;
		PERFORM ml_asset_apply(actor, back);
	END IF;
	RETURN nxt.outcome;
END
$$;

-- ---- 4. the run's date is China's ----
-- Pinned on the function, so current_date inside it (run_date, the
-- back-dating test, the standards' validity on that day) is China's date
-- whatever the caller set.
ALTER FUNCTION ml_run_create(text, text, text, int[], text[], numeric, numeric, date, text)
	SET TimeZone = 'Asia/Shanghai';
