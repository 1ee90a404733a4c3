-- 0273: arrival sampling that decides the lot (issue 14, GB/T 2828.1 /
-- ISO 2859-1): the draw is recorded with its seed, the lot is quarantined
-- until decided, the verdict comes from the sample's own verification
-- results by Ac/Re, a person confirms it, an accepted lot is released and a
-- rejected one goes back to the maker whole; the switching state per
-- supplier and model follows clause 9 (ml_sampling_switch, 0272).
--
-- The database computes the plan (ml_sampling_plan), the sample
-- (ml_sample_draw_indices, algorithm chacha20-fy-v1 over the lot's barcodes
-- in ascending order: anyone can redo the draw from the recorded seed with
-- `meterlab sample select --lot L --seed HEX` or tests/lab/sampling_draw_ref.py)
-- and the verdict: no client is trusted with any of them.

INSERT INTO app_permission (perm, description) VALUES
	('sample.draw', 'draw the arrival sample of a lot (the lot is quarantined until decided)'),
	('sample.decide', 'confirm the accept/reject verdict of a lot''s arrival sampling');
INSERT INTO app_role_permission (role, perm) VALUES
	('lab_technician', 'sample.draw'), ('quality_analyst', 'sample.draw'),
	('quality_analyst', 'sample.decide'), ('approver', 'sample.decide'), ('manager', 'sample.decide');

-- A rejected lot goes back whole: its drawn assets too, whether still in
-- sampling or verified into stock (assets/asset_state.c holds the same rows).
ALTER TABLE asset_transition DISABLE TRIGGER asset_transition_fixed;
INSERT INTO asset_transition (from_state, action, to_state, to_secondary) VALUES
	('sampling', 'return_to_maker', 'returned_to_maker', false),
	('in_stock', 'return_to_maker', 'returned_to_maker', false);
ALTER TABLE asset_transition ENABLE TRIGGER asset_transition_fixed;

CREATE TABLE lot_sampling (
	lot_id bigint PRIMARY KEY REFERENCES lot (lot_id),
	supplier text NOT NULL,
	model_id bigint NOT NULL REFERENCES device_model (model_id),
	level text NOT NULL,
	aql text NOT NULL,
	severity text NOT NULL CHECK (severity IN ('normal', 'tightened', 'reduced')),
	lot_size int NOT NULL,
	code_letter text NOT NULL,
	plan_letter text NOT NULL,
	sample_size int NOT NULL,
	ac int NOT NULL,
	re int NOT NULL,
	unverified_plan boolean NOT NULL,
	seed bytea NOT NULL CHECK (length(seed) = 32),
	algorithm text NOT NULL DEFAULT 'chacha20-fy-v1',
	drawn_by bigint NOT NULL REFERENCES app_user (user_id),
	drawn_at timestamptz NOT NULL DEFAULT now(),
	status text NOT NULL DEFAULT 'sampling' CHECK (status IN ('sampling', 'accepted', 'rejected')),
	-- the verdict the database computed from the sample's results, and when
	verdict text CHECK (verdict IN ('accept', 'reject')),
	nonconforming int,
	judged int,
	verdict_at timestamptz,
	-- the person who confirmed it
	confirmed_by bigint REFERENCES app_user (user_id),
	confirmed_at timestamptz,
	confirm_note text,
	switch_outcome text,
	CHECK ((status = 'sampling') = (confirmed_by IS NULL))
);
CREATE TABLE lot_sample_item (
	lot_id bigint NOT NULL REFERENCES lot_sampling (lot_id),
	asset_id bigint NOT NULL REFERENCES asset (asset_id),
	draw_order int NOT NULL,
	PRIMARY KEY (lot_id, asset_id),
	UNIQUE (lot_id, draw_order)
);
-- Clause 9 switching state per supplier and model (a new pair starts normal).
CREATE TABLE sampling_switch (
	supplier text NOT NULL,
	model_id bigint NOT NULL REFERENCES device_model (model_id),
	state ml_switch_state NOT NULL,
	changed_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (supplier, model_id)
);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON lot_sampling, lot_sample_item, sampling_switch FROM PUBLIC, meterlab_app;
GRANT SELECT ON lot_sampling, lot_sample_item, sampling_switch TO meterlab_app;

-- ---- quarantine ----
-- While a lot's sample is being judged, none of its assets may be verified
-- for stock, issued, dispatched or installed; only the drawn ones are
-- verified (sampling -> verifying). A trigger, so every writer is held to
-- it (runs, moves, the warehouse and field functions, the owner).
CREATE FUNCTION lot_quarantine_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	ls record;
BEGIN
	SELECT l.code, s.status, s.sample_size INTO ls
	FROM lot_sampling s JOIN lot l ON l.lot_id = s.lot_id
	WHERE s.lot_id = NEW.lot_id AND s.status = 'sampling';
	IF FOUND AND NOT (OLD.state = 'sampling' AND NEW.state = 'verifying') THEN
		RAISE EXCEPTION 'asset % is in lot %, quarantined: its arrival sample (% assets) is being judged; % is refused until the lot is accepted (meterlab sample decide)',
			NEW.barcode, ls.code, ls.sample_size,
			CASE NEW.state WHEN 'verifying' THEN 'verification for stock' WHEN 'issued' THEN 'issue'
			WHEN 'in_transit' THEN 'dispatch' ELSE 'installation' END
			USING ERRCODE = '55000';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER asset_lot_quarantine BEFORE UPDATE OF state ON asset
	FOR EACH ROW WHEN (NEW.state IN ('verifying', 'issued', 'in_transit', 'installed') AND NEW.state IS DISTINCT FROM OLD.state)
	EXECUTE FUNCTION lot_quarantine_check();

-- ---- the draw ----

CREATE FUNCTION ml_sampling_rules() RETURNS int[]
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT ARRAY[ml_setting_e4('sampling.switch.tighten_rejects'),
		     ml_setting_e4('sampling.switch.tighten_window'),
		     ml_setting_e4('sampling.switch.normal_after_accepts'),
		     ml_setting_e4('sampling.switch.reduced_score'),
		     ml_setting_e4('sampling.switch.score_ac2'),
		     ml_setting_e4('sampling.switch.score_ac01'),
		     ml_setting_e4('sampling.switch.discontinue_rejects')]::int[]
$$;

-- Draw the sample of a lot whose assets have all just arrived: the plan at
-- the supplier+model's current severity, the sample from the seed (random
-- when NULL), the drawn assets moved to sampling, everything recorded.
CREATE FUNCTION ml_lot_sample_draw(p_lot text, p_level text, p_aql text, p_seed bytea DEFAULT NULL)
	RETURNS TABLE (draw_order int, barcode text)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('sample.draw');
	l lot;
	sup text;
	n int;
	not_arrived int;
	models int;
	sw ml_switch_state;
	pl record;
	seed bytea := coalesce(p_seed, gen_random_bytes(32));
	idx int[];
	ids bigint[];
	bcs text[];
BEGIN
	SELECT * INTO l FROM lot WHERE code = p_lot FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'lot % does not exist', coalesce(quote_literal(p_lot), 'NULL') USING ERRCODE = 'P0002';
	END IF;
	IF EXISTS (SELECT 1 FROM lot_sampling s WHERE s.lot_id = l.lot_id) THEN
		RAISE EXCEPTION 'lot % was already sampled (%): a lot is sampled once', l.code,
			(SELECT s.status FROM lot_sampling s WHERE s.lot_id = l.lot_id) USING ERRCODE = '55000';
	END IF;
	IF length(seed) <> 32 THEN
		RAISE EXCEPTION 'the seed must be 32 bytes (64 hex digits)' USING ERRCODE = '22023';
	END IF;
	SELECT count(*), count(*) FILTER (WHERE a.state <> 'arrived'), count(DISTINCT a.model_id),
	       array_agg(a.asset_id ORDER BY a.barcode), array_agg(a.barcode::text ORDER BY a.barcode)
	INTO n, not_arrived, models, ids, bcs
	FROM asset a WHERE a.lot_id = l.lot_id;
	IF not_arrived > 0 THEN
		RAISE EXCEPTION 'lot %: % of its % assets are no longer ''arrived''; a lot is sampled on arrival, before any is verified',
			l.code, not_arrived, n USING ERRCODE = '55000';
	END IF;
	IF models <> 1 THEN
		RAISE EXCEPTION 'lot % mixes % models: sample one model per lot', l.code, models USING ERRCODE = '22023';
	END IF;
	sup := coalesce(l.supplier, (SELECT m.code FROM manufacturer m JOIN device_model d ON d.manufacturer_id = m.manufacturer_id
				     WHERE d.model_id = (SELECT model_id FROM asset WHERE lot_id = l.lot_id LIMIT 1)));
	SELECT (s.state).* INTO sw FROM sampling_switch s
	WHERE s.supplier = sup AND s.model_id = (SELECT model_id FROM asset WHERE lot_id = l.lot_id LIMIT 1);
	IF NOT FOUND THEN
		sw := ROW('normal', false, 0, 0, 0, 0)::ml_switch_state;
	END IF;
	IF sw.discontinued THEN
		RAISE EXCEPTION 'sampling inspection of % from supplier % is discontinued (ISO 2859-1 9.4); lots are not accepted until corrective action',
			(SELECT code FROM device_model WHERE model_id = (SELECT model_id FROM asset WHERE lot_id = l.lot_id LIMIT 1)), sup
			USING ERRCODE = '55000';
	END IF;
	SELECT * INTO pl FROM ml_sampling_plan(n, p_level, p_aql, sw.severity);
	idx := ml_sample_draw_indices(seed, n, pl.sample_size);
	INSERT INTO lot_sampling (lot_id, supplier, model_id, level, aql, severity, lot_size, code_letter, plan_letter,
				  sample_size, ac, re, unverified_plan, seed, drawn_by)
	VALUES (l.lot_id, sup, (SELECT model_id FROM asset WHERE lot_id = l.lot_id LIMIT 1), p_level, pl.aql, sw.severity, n,
		pl.code_letter, pl.plan_letter, pl.sample_size, pl.ac, pl.re, pl.unverified, seed, actor);
	INSERT INTO lot_sample_item (lot_id, asset_id, draw_order)
	SELECT l.lot_id, ids[i.x + 1], i.o::int FROM unnest(idx) WITH ORDINALITY i(x, o);
	PERFORM ml_asset_apply(actor, array_agg(ROW(ids[i.x + 1], 'arrived', 'sampling', 'sample', NULL, false, NULL,
		'arrival sample of lot ' || l.code, jsonb_build_object('lot', l.code, 'draw', i.o))::ml_asset_change))
	FROM unnest(idx) WITH ORDINALITY i(x, o);
	RETURN QUERY SELECT i.o::int, bcs[i.x + 1] FROM unnest(idx) WITH ORDINALITY i(x, o) ORDER BY i.o;
END
$$;

-- ---- the verdict and its confirmation ----

-- Judge the lot from its sample now: a drawn asset that failed verification
-- (state failed, or its last run concluded fail) is nonconforming; reject as
-- soon as Re are nonconforming, accept when all are judged and at most Ac
-- are. Records and returns the verdict (NULL: not yet decidable).
CREATE FUNCTION ml_lot_sample_judge(p_lot text, OUT verdict text, OUT nonconforming int, OUT judged int,
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
	SELECT count(*) FILTER (WHERE a.state = 'failed'),
	       count(*) FILTER (WHERE a.state NOT IN ('sampling', 'verifying', 'reverify'))
	INTO nonconforming, judged
	FROM lot_sample_item i JOIN asset a ON a.asset_id = i.asset_id WHERE i.lot_id = s.lot_id;
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

-- A person confirms the computed verdict (it is recomputed here; a
-- confirmation that differs from it is refused). Accept releases the lot;
-- reject sends every asset of the lot back to the maker. The switching state
-- of the supplier and model moves by clause 9.
CREATE FUNCTION ml_lot_sample_decide(p_lot text, p_decision text, p_note text DEFAULT NULL) RETURNS text
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
	SELECT count(*) FILTER (WHERE a.state = 'failed') AS nc,
	       count(*) FILTER (WHERE a.state NOT IN ('sampling', 'verifying', 'reverify')) AS judged
	INTO j FROM lot_sample_item i JOIN asset a ON a.asset_id = i.asset_id WHERE i.lot_id = s.lot_id;
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

REVOKE ALL ON FUNCTION ml_lot_sample_draw(text, text, text, bytea), ml_lot_sample_judge(text),
	ml_lot_sample_decide(text, text, text), ml_sampling_rules() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ml_lot_sample_draw(text, text, text, bytea), ml_lot_sample_judge(text),
	ml_lot_sample_decide(text, text, text) TO meterlab_app;
