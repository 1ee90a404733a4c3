-- 0225: field work (issue 11, field half): metering points (计量点),
-- installation, removal and swap with register readings and seals (计量印证),
-- fault reports with their analysis or arbitration verification (仲裁检定).
--
-- The place of an installed asset is its metering point: the installation
-- row names the point, and asset.location_id is the point's customer site
-- (a location of kind customer_site: the district the point lies in), so
-- stock by place counts installed meters at their sites, never at the team
-- that installed them. Removal gives the asset back to the remover's team.
--
-- Every write is a SECURITY DEFINER function that checks ml_require(perm),
-- the state and the rules, and changes assets only through ml_asset_apply
-- (0110) with the actor id. Readings are exact decimals (numeric, kWh with at
-- most 2 decimals as a register shows them), never floating point.

INSERT INTO app_permission (perm, description) VALUES
	('field.point', 'add and import metering points'),
	('seal.manage', 'receive seals, issue them to teams and technicians, destroy them'),
	('fault.analyse', 'record the outcome of a fault analysis or arbitration verification');
INSERT INTO app_role_permission (role, perm) VALUES
	('manager', 'field.point'), ('admin', 'field.point'),
	('warehouse_clerk', 'seal.manage'), ('manager', 'seal.manage'),
	('lab_technician', 'fault.analyse'), ('quality_analyst', 'fault.analyse');

-- ---- metering points ----
CREATE TABLE metering_point (
	point_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_.-]{1,64}$'),
	account_no text NOT NULL CHECK (account_no ~ '^[A-Za-z0-9_-]{1,32}$'),
	address text NOT NULL CHECK (ml_text_ok(address, 200)),
	site_id bigint NOT NULL REFERENCES location (location_id),
	created_by bigint NOT NULL REFERENCES app_user (user_id),
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX metering_point_account ON metering_point (account_no);

-- Elements of a point: the meter, and a low-voltage CT per phase.
CREATE TABLE installation (
	installation_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	asset_id bigint NOT NULL REFERENCES asset (asset_id),
	point_id bigint NOT NULL REFERENCES metering_point (point_id),
	element text NOT NULL CHECK (element IN ('meter', 'ct_a', 'ct_b', 'ct_c')),
	team_id bigint NOT NULL REFERENCES location (location_id),
	installed_by bigint NOT NULL REFERENCES app_user (user_id),
	installed_at timestamptz NOT NULL DEFAULT now(),
	install_kwh numeric NOT NULL CHECK (install_kwh >= 0 AND scale(install_kwh) <= 2),
	install_tariffs jsonb NOT NULL DEFAULT '{}',
	removed_by bigint REFERENCES app_user (user_id),
	removed_at timestamptz,
	remove_kwh numeric CHECK (remove_kwh >= 0 AND scale(remove_kwh) <= 2),
	remove_reason text CHECK (remove_reason IN ('rotation', 'fault', 'upgrade', 'complaint', 'other')),
	remove_note text,
	replaced_by bigint REFERENCES installation (installation_id),
	CHECK ((removed_at IS NULL) = (removed_by IS NULL) AND (removed_at IS NULL) = (remove_kwh IS NULL)
	       AND (removed_at IS NULL) = (remove_reason IS NULL)),
	CHECK (remove_kwh IS NULL OR remove_kwh >= install_kwh)
);
-- At most one active meter per point and element, one active installation
-- per asset: the database decides a race (two teams at one point).
CREATE UNIQUE INDEX installation_point_active ON installation (point_id, element) WHERE removed_at IS NULL;
CREATE UNIQUE INDEX installation_asset_active ON installation (asset_id) WHERE removed_at IS NULL;
CREATE INDEX installation_asset ON installation (asset_id, installation_id);
CREATE INDEX installation_point ON installation (point_id, installation_id);

-- ---- seals ----
CREATE TABLE seal (
	seal_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_.-]{4,32}$'),
	batch text NOT NULL CHECK (batch ~ '^[A-Za-z0-9_./-]{1,64}$'),
	state text NOT NULL DEFAULT 'in_store' CHECK (state IN ('in_store', 'issued', 'applied', 'removed', 'destroyed')),
	holder_team_id bigint REFERENCES location (location_id),
	holder_user_id bigint REFERENCES app_user (user_id),
	installation_id bigint REFERENCES installation (installation_id),
	asset_id bigint REFERENCES asset (asset_id),
	changed_at timestamptz NOT NULL DEFAULT now(),
	-- issued to exactly one holder; applied to exactly one installation
	CHECK (state <> 'issued' OR (holder_team_id IS NULL) <> (holder_user_id IS NULL)),
	CHECK (state NOT IN ('applied', 'removed') OR asset_id IS NOT NULL)
);
-- A seal's whole life, append-only: who received, issued, applied, removed
-- or destroyed it, when.
CREATE TABLE seal_event (
	seal_id bigint NOT NULL REFERENCES seal (seal_id),
	event_id bigint GENERATED ALWAYS AS IDENTITY,
	action text NOT NULL CHECK (action IN ('receive', 'issue', 'apply', 'remove', 'destroy')),
	actor_id bigint NOT NULL REFERENCES app_user (user_id),
	at timestamptz NOT NULL DEFAULT now(),
	details jsonb NOT NULL DEFAULT '{}',
	PRIMARY KEY (seal_id, event_id)
);
CREATE FUNCTION seal_event_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'seal_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER seal_event_append_only BEFORE UPDATE OR DELETE ON seal_event
	FOR EACH ROW EXECUTE FUNCTION seal_event_refuse();
CREATE TRIGGER seal_event_no_truncate BEFORE TRUNCATE ON seal_event
	FOR EACH STATEMENT EXECUTE FUNCTION seal_event_refuse();

-- ---- faults ----
-- The symptom list is data (a sensible default set; the DBA may add rows).
CREATE TABLE fault_symptom (
	code text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9_]{1,31}$'),
	name_zh text NOT NULL,
	active boolean NOT NULL DEFAULT true
);
INSERT INTO fault_symptom (code, name_zh) VALUES
	('NO_DISPLAY', '黑屏/不显示'), ('STOPPED', '停走'), ('FAST', '走快'), ('SLOW', '走慢'),
	('CLOCK', '时钟异常'), ('BATTERY', '电池欠压'), ('COMM', '通信故障'), ('RELAY', '负荷开关异常'),
	('BURNT', '烧毁'), ('SEAL_BROKEN', '封印破坏'), ('CARD', '费控/读卡故障'), ('OTHER', '其他');

CREATE TABLE fault_report (
	fault_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	asset_id bigint NOT NULL REFERENCES asset (asset_id),
	installation_id bigint REFERENCES installation (installation_id),
	symptom text NOT NULL REFERENCES fault_symptom (code),
	description text NOT NULL CHECK (ml_text_ok(description, 500)),
	kind text NOT NULL CHECK (kind IN ('analysis', 'arbitration')),
	complaint_ref text CHECK (complaint_ref IS NULL OR ml_text_ok(complaint_ref, 64)),
	reported_by bigint NOT NULL REFERENCES app_user (user_id),
	reported_at timestamptz NOT NULL DEFAULT now(),
	outcome text CHECK (outcome IN ('maker', 'usage', 'external', 'no_fault_found')),
	outcome_note text,
	outcome_by bigint REFERENCES app_user (user_id),
	outcome_at timestamptz,
	CHECK (kind = 'analysis' OR complaint_ref IS NOT NULL),
	CHECK ((outcome IS NULL) = (outcome_by IS NULL) AND (outcome IS NULL) = (outcome_at IS NULL))
);
CREATE INDEX fault_report_asset ON fault_report (asset_id, fault_id);

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON metering_point, installation, seal, seal_event, fault_symptom, fault_report
	FROM PUBLIC, meterlab_app;
GRANT SELECT ON metering_point, installation, seal, seal_event, fault_symptom, fault_report TO meterlab_app;

-- ---- helpers ----

-- The actor's team (a field_team location) or an error naming the person.
CREATE FUNCTION ml_actor_team(p_actor bigint) RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	t bigint;
	who text;
BEGIN
	SELECT u.team_location_id, u.login INTO t, who FROM app_user u WHERE u.user_id = p_actor;
	IF t IS NULL THEN
		RAISE EXCEPTION '% is not a member of a field team (meterlab user team LOGIN TEAM)', who
			USING ERRCODE = '42501';
	END IF;
	RETURN t;
END
$$;

-- A register reading in kWh as text: exact, non-negative, at most 2 decimals.
CREATE FUNCTION ml_reading(p_what text, p_value text) RETURNS numeric
	LANGUAGE plpgsql IMMUTABLE SET search_path = public, pg_temp AS $$
BEGIN
	IF p_value IS NULL OR p_value !~ '^[0-9]{1,10}(\.[0-9]{1,2})?$' THEN
		RAISE EXCEPTION '% % is not a register reading in kWh (digits, at most 2 decimals, e.g. 12345.67)',
			p_what, coalesce(quote_literal(left(p_value, 40)), 'NULL') USING ERRCODE = '22023';
	END IF;
	RETURN p_value::numeric;
END
$$;

-- Tariff registers (尖峰平谷) as {"name": "kWh text"}: every value a reading.
CREATE FUNCTION ml_tariffs(p_tariffs jsonb) RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE SET search_path = public, pg_temp AS $$
DECLARE
	k text;
	v jsonb;
	o jsonb := '{}';
BEGIN
	IF p_tariffs IS NULL THEN
		RETURN o;
	END IF;
	IF jsonb_typeof(p_tariffs) <> 'object' THEN
		RAISE EXCEPTION 'tariff readings must be a JSON object of name: kWh' USING ERRCODE = '22023';
	END IF;
	FOR k, v IN SELECT * FROM jsonb_each(p_tariffs) LOOP
		IF k NOT IN ('sharp', 'peak', 'flat', 'valley') THEN
			RAISE EXCEPTION 'tariff register ''%'' is not sharp, peak, flat or valley', left(k, 40)
				USING ERRCODE = '22023';
		END IF;
		o := o || jsonb_build_object(k, ml_reading('tariff ' || k, v #>> '{}')::text);
	END LOOP;
	RETURN o;
END
$$;

-- ---- metering points ----

-- Add points, all or nothing; returns one row per refused entry (1-based
-- index, code, reason) and adds nothing then.
CREATE TYPE ml_field_problem AS (idx integer, code text, msg text);
CREATE FUNCTION ml_point_add(p_codes text[], p_accounts text[], p_addresses text[], p_sites text[])
	RETURNS SETOF ml_field_problem
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('field.point');
	n int := coalesce(cardinality(p_codes), 0);
	problems ml_field_problem[];
BEGIN
	IF coalesce(cardinality(p_accounts), 0) <> n OR coalesce(cardinality(p_addresses), 0) <> n
	   OR coalesce(cardinality(p_sites), 0) <> n THEN
		RAISE EXCEPTION 'ml_point_add: one account, address and site per code (% codes)', n USING ERRCODE = '22023';
	END IF;
	WITH m AS (
		SELECT x.i::int AS idx, x.c, x.a, normalize(x.ad, NFC) AS ad, x.s,
		       min(x.i) OVER (PARTITION BY x.c)::int AS first
		FROM unnest(p_codes, p_accounts, p_addresses, p_sites) WITH ORDINALITY x(c, a, ad, s, i)),
	p AS (
		SELECT m.idx, m.c, CASE
			WHEN m.c IS NULL OR m.c !~ '^[A-Za-z0-9_.-]{1,64}$'
				THEN format('metering point code %s is not 1-64 letters, digits, _ . -', coalesce(quote_literal(m.c), 'NULL'))
			WHEN m.idx <> m.first THEN format('metering point %s appears twice (entries %s and %s)', m.c, m.first, m.idx)
			WHEN EXISTS (SELECT 1 FROM metering_point mp WHERE mp.code = m.c)
				THEN format('metering point %s already exists', m.c)
			WHEN m.a IS NULL OR m.a !~ '^[A-Za-z0-9_-]{1,32}$'
				THEN format('metering point %s: account number %s is not 1-32 letters, digits, _ -', m.c,
					    coalesce(quote_literal(m.a), 'NULL'))
			WHEN NOT coalesce(ml_text_ok(m.ad, 200), false)
				THEN format('metering point %s: address is empty, longer than 200 characters or has control characters', m.c)
			WHEN NOT EXISTS (SELECT 1 FROM location l WHERE l.code = m.s AND l.kind = 'customer_site')
				THEN format('metering point %s: site %s is not a customer_site location', m.c, coalesce(quote_literal(m.s), 'NULL'))
			END AS msg
		FROM m)
	SELECT array_agg(ROW(p.idx, p.c, p.msg)::ml_field_problem ORDER BY p.idx) FILTER (WHERE p.msg IS NOT NULL)
	INTO problems FROM p;
	IF problems IS NOT NULL THEN
		RETURN QUERY SELECT * FROM unnest(problems);
		RETURN;
	END IF;
	INSERT INTO metering_point (code, account_no, address, site_id, created_by)
	SELECT x.c, x.a, normalize(x.ad, NFC), l.location_id, actor
	FROM unnest(p_codes, p_accounts, p_addresses, p_sites) WITH ORDINALITY x(c, a, ad, s, i)
	JOIN location l ON l.code = x.s ORDER BY x.i;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'a metering point of this list was added concurrently; nothing added' USING ERRCODE = '40001';
END
$$;

-- ---- install, remove, swap ----

-- Check and lock the seals a team applies; returns their ids. Each must be
-- issued to the team (or to the person) and unused.
CREATE FUNCTION ml_seals_take(p_actor bigint, p_team bigint, p_seals text[]) RETURNS bigint[]
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	s record;
	ids bigint[] := '{}';
	c text;
BEGIN
	FOREACH c IN ARRAY coalesce(p_seals, '{}') LOOP
		-- FOR UPDATE: two installations taking one seal at once wait for
		-- each other, and the second sees it applied.
		SELECT * INTO s FROM seal WHERE code = c FOR UPDATE;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'seal % is not registered', coalesce(quote_literal(c), 'NULL') USING ERRCODE = 'P0002';
		END IF;
		IF s.state <> 'issued' THEN
			RAISE EXCEPTION 'seal % is % (%): a seal is used once', c, s.state,
				CASE s.state WHEN 'applied' THEN 'already applied' WHEN 'in_store' THEN 'not issued yet'
				ELSE 'no longer usable' END USING ERRCODE = '55000';
		END IF;
		IF s.holder_team_id IS DISTINCT FROM p_team AND s.holder_user_id IS DISTINCT FROM p_actor THEN
			RAISE EXCEPTION 'seal % is not issued to your team (%) or to you', c,
				(SELECT code FROM location WHERE location_id = p_team) USING ERRCODE = '42501';
		END IF;
		IF s.seal_id = ANY (ids) THEN
			RAISE EXCEPTION 'seal % is listed twice', c USING ERRCODE = '22023';
		END IF;
		ids := ids || s.seal_id;
	END LOOP;
	RETURN ids;
END
$$;

-- Install one asset at a point: returns the installation id.
CREATE FUNCTION ml_install(p_barcode text, p_point text, p_element text, p_kwh text, p_tariffs jsonb,
			   p_seals text[])
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('asset.move.field');
	team bigint;
	a asset;
	mp metering_point;
	why text;
	inst bigint;
	seals bigint[];
	kwh numeric := ml_reading('initial reading', p_kwh);
	tariffs jsonb := ml_tariffs(p_tariffs);
	el text := coalesce(p_element, 'meter');
BEGIN
	IF el NOT IN ('meter', 'ct_a', 'ct_b', 'ct_c') THEN
		RAISE EXCEPTION 'element % is not meter, ct_a, ct_b or ct_c', quote_literal(left(el, 20)) USING ERRCODE = '22023';
	END IF;
	SELECT * INTO a FROM asset WHERE barcode = p_barcode::bpchar;
	IF NOT FOUND OR NOT coalesce(ml_barcode_ok(p_barcode), false) THEN
		RAISE EXCEPTION 'asset % is not registered', coalesce(quote_literal(p_barcode), 'NULL') USING ERRCODE = 'P0002';
	END IF;
	SELECT * INTO mp FROM metering_point WHERE code = p_point;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'metering point % does not exist', coalesce(quote_literal(p_point), 'NULL') USING ERRCODE = 'P0002';
	END IF;
	IF a.state <> 'issued' THEN
		RAISE EXCEPTION 'asset % is ''%'': only an asset issued to a field team can be installed', a.barcode, a.state
			USING ERRCODE = '55000';
	END IF;
	team := ml_actor_team(actor);
	IF a.location_id IS DISTINCT FROM team THEN
		RAISE EXCEPTION 'asset % is issued to %, not to your team %', a.barcode,
			(SELECT code FROM location WHERE location_id = a.location_id),
			(SELECT code FROM location WHERE location_id = team) USING ERRCODE = '42501';
	END IF;
	why := ml_asset_valid_for_issue(a.asset_id);
	IF why IS NOT NULL THEN
		RAISE EXCEPTION '%', why USING ERRCODE = '55000';
	END IF;
	IF EXISTS (SELECT 1 FROM installation i WHERE i.point_id = mp.point_id AND i.element = el AND i.removed_at IS NULL) THEN
		RAISE EXCEPTION 'metering point % already has a % installed (%); remove it or swap', mp.code, el,
			(SELECT x.barcode FROM installation i JOIN asset x ON x.asset_id = i.asset_id
			 WHERE i.point_id = mp.point_id AND i.element = el AND i.removed_at IS NULL) USING ERRCODE = '55000';
	END IF;
	seals := ml_seals_take(actor, team, p_seals);
	BEGIN
		INSERT INTO installation (asset_id, point_id, element, team_id, installed_by, install_kwh, install_tariffs)
		VALUES (a.asset_id, mp.point_id, el, team, actor, kwh, tariffs) RETURNING installation_id INTO inst;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'metering point % got a % installed by someone else at the same moment; nothing installed',
			mp.code, el USING ERRCODE = '40001';
	END;
	UPDATE seal SET state = 'applied', installation_id = inst, asset_id = a.asset_id, changed_at = now()
	WHERE seal_id = ANY (seals);
	INSERT INTO seal_event (seal_id, action, actor_id, details)
	SELECT x, 'apply', actor, jsonb_build_object('installation', inst, 'point', mp.code, 'asset', a.barcode)
	FROM unnest(seals) x;
	PERFORM ml_asset_apply(actor, ARRAY[ROW(a.asset_id, 'issued', 'installed', 'install', mp.site_id, false, NULL,
		NULL, jsonb_build_object('point', mp.code, 'element', el, 'installation', inst, 'kwh', kwh::text,
					 'seals', coalesce(p_seals, '{}')))::ml_asset_change]);
	RETURN inst;
END
$$;

-- Remove the asset installed at a point (or by barcode); returns the
-- installation id closed. Every seal on it is broken (removed); listed seals
-- must be among them.
CREATE FUNCTION ml_remove(p_barcode text, p_kwh text, p_reason text, p_note text, p_seals text[])
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('asset.move.field');
	team bigint;
	a asset;
	i installation;
	kwh numeric := ml_reading('final reading', p_kwh);
	c text;
	note text := CASE WHEN p_note IS NULL THEN NULL ELSE ml_clean_text('note', p_note, 500) END;
BEGIN
	IF p_reason IS NULL OR p_reason NOT IN ('rotation', 'fault', 'upgrade', 'complaint', 'other') THEN
		RAISE EXCEPTION 'reason % is not rotation, fault, upgrade, complaint or other',
			coalesce(quote_literal(left(p_reason, 40)), 'NULL') USING ERRCODE = '22023';
	END IF;
	SELECT * INTO a FROM asset WHERE barcode = p_barcode::bpchar;
	IF NOT FOUND OR NOT coalesce(ml_barcode_ok(p_barcode), false) THEN
		RAISE EXCEPTION 'asset % is not registered', coalesce(quote_literal(p_barcode), 'NULL') USING ERRCODE = 'P0002';
	END IF;
	SELECT * INTO i FROM installation WHERE asset_id = a.asset_id AND removed_at IS NULL FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'asset % is ''%'', not installed at a metering point', a.barcode, a.state USING ERRCODE = '55000';
	END IF;
	team := ml_actor_team(actor);
	IF kwh < i.install_kwh THEN
		RAISE EXCEPTION 'final reading % kWh of % is below its initial reading % kWh at installation; check the register',
			kwh, a.barcode, i.install_kwh USING ERRCODE = '22023';
	END IF;
	FOREACH c IN ARRAY coalesce(p_seals, '{}') LOOP
		IF NOT EXISTS (SELECT 1 FROM seal s WHERE s.code = c AND s.installation_id = i.installation_id AND s.state = 'applied') THEN
			RAISE EXCEPTION 'seal % is not on asset % at this installation', coalesce(quote_literal(c), 'NULL'), a.barcode
				USING ERRCODE = '22023';
		END IF;
	END LOOP;
	UPDATE installation SET removed_by = actor, removed_at = now(), remove_kwh = kwh, remove_reason = p_reason,
		remove_note = note
	WHERE installation_id = i.installation_id;
	INSERT INTO seal_event (seal_id, action, actor_id, details)
	SELECT s.seal_id, 'remove', actor, jsonb_build_object('installation', i.installation_id, 'asset', a.barcode)
	FROM seal s WHERE s.installation_id = i.installation_id AND s.state = 'applied';
	UPDATE seal SET state = 'removed', changed_at = now() WHERE installation_id = i.installation_id AND state = 'applied';
	PERFORM ml_asset_apply(actor, ARRAY[ROW(a.asset_id, 'installed', 'removed', 'remove', team, false, NULL, note,
		jsonb_build_object('point', (SELECT code FROM metering_point WHERE point_id = i.point_id),
				   'installation', i.installation_id, 'kwh', kwh::text, 'reason', p_reason))::ml_asset_change]);
	RETURN i.installation_id;
END
$$;

-- Swap: remove the old asset and install the new one at the same point and
-- element, in one transaction (one statement). Returns the new installation.
CREATE FUNCTION ml_swap(p_old text, p_old_kwh text, p_reason text, p_new text, p_new_kwh text, p_tariffs jsonb,
			p_seals text[])
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	old_inst bigint;
	new_inst bigint;
	pt text;
	el text;
BEGIN
	old_inst := ml_remove(p_old, p_old_kwh, p_reason, NULL, NULL);
	SELECT mp.code, i.element INTO pt, el FROM installation i JOIN metering_point mp ON mp.point_id = i.point_id
	WHERE i.installation_id = old_inst;
	new_inst := ml_install(p_new, pt, el, p_new_kwh, p_tariffs, p_seals);
	UPDATE installation SET replaced_by = new_inst WHERE installation_id = old_inst;
	RETURN new_inst;
END
$$;

-- ---- seals ----

CREATE FUNCTION ml_seal_receive(p_codes text[], p_batch text) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('seal.manage');
	bad text;
	n int;
BEGIN
	IF p_batch IS NULL OR p_batch !~ '^[A-Za-z0-9_./-]{1,64}$' THEN
		RAISE EXCEPTION 'seal batch % is not 1-64 letters, digits, _ . / -', coalesce(quote_literal(p_batch), 'NULL')
			USING ERRCODE = '22023';
	END IF;
	SELECT c INTO bad FROM unnest(p_codes) c WHERE c IS NULL OR c !~ '^[A-Za-z0-9_.-]{4,32}$' LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'seal code % is not 4-32 letters, digits, _ . -', coalesce(quote_literal(bad), 'NULL')
			USING ERRCODE = '22023';
	END IF;
	SELECT c INTO bad FROM unnest(p_codes) c GROUP BY c HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'seal % appears twice in the batch; nothing received', bad USING ERRCODE = '22023';
	END IF;
	SELECT s.code INTO bad FROM seal s WHERE s.code = ANY (p_codes) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'seal % is already registered; nothing received', bad USING ERRCODE = '23505';
	END IF;
	WITH ins AS (INSERT INTO seal (code, batch) SELECT c, p_batch FROM unnest(p_codes) c RETURNING seal_id)
	INSERT INTO seal_event (seal_id, action, actor_id, details)
	SELECT seal_id, 'receive', actor, jsonb_build_object('batch', p_batch) FROM ins;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- Issue seals to a team (p_team) or to a person (p_login, e.g. a lab
-- technician who seals verified meters); all or nothing.
CREATE FUNCTION ml_seal_issue(p_codes text[], p_team text, p_login text) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('seal.manage');
	t bigint;
	u bigint;
	bad record;
	n int;
BEGIN
	IF (p_team IS NULL) = (p_login IS NULL) THEN
		RAISE EXCEPTION 'seals are issued to a team or to a person, exactly one of them' USING ERRCODE = '22023';
	END IF;
	t := ml_team_id(p_team);
	IF p_login IS NOT NULL THEN
		SELECT user_id INTO u FROM app_user WHERE login = p_login AND active;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'person % is not an active meterlab user', quote_literal(p_login) USING ERRCODE = 'P0002';
		END IF;
	END IF;
	SELECT c, s.state INTO bad FROM unnest(p_codes) c LEFT JOIN seal s ON s.code = c
	WHERE s.seal_id IS NULL OR s.state <> 'in_store' LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'seal % %; nothing issued', coalesce(quote_literal(bad.c), 'NULL'),
			CASE WHEN bad.state IS NULL THEN 'is not registered' ELSE 'is ' || bad.state || ', not in store' END
			USING ERRCODE = CASE WHEN bad.state IS NULL THEN 'P0002' ELSE '55000' END;
	END IF;
	UPDATE seal SET state = 'issued', holder_team_id = t, holder_user_id = u, changed_at = now()
	WHERE code = ANY (p_codes) AND state = 'in_store';
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n <> (SELECT count(DISTINCT c) FROM unnest(p_codes) c) THEN
		RAISE EXCEPTION 'a seal of this list was issued concurrently; nothing issued' USING ERRCODE = '40001';
	END IF;
	INSERT INTO seal_event (seal_id, action, actor_id, details)
	SELECT s.seal_id, 'issue', actor, jsonb_build_object('team', p_team, 'person', p_login)
	FROM seal s WHERE s.code = ANY (p_codes);
	RETURN n;
END
$$;

CREATE FUNCTION ml_seal_destroy(p_codes text[], p_reason text) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('seal.manage');
	reason text := ml_clean_text('reason', p_reason, 500);
	bad record;
	n int;
BEGIN
	SELECT c, s.state INTO bad FROM unnest(p_codes) c LEFT JOIN seal s ON s.code = c
	WHERE s.seal_id IS NULL OR s.state NOT IN ('in_store', 'issued', 'removed') LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'seal % %; nothing destroyed', coalesce(quote_literal(bad.c), 'NULL'),
			CASE WHEN bad.state IS NULL THEN 'is not registered' ELSE 'is ' || bad.state END
			USING ERRCODE = CASE WHEN bad.state IS NULL THEN 'P0002' ELSE '55000' END;
	END IF;
	INSERT INTO seal_event (seal_id, action, actor_id, details)
	SELECT s.seal_id, 'destroy', actor, jsonb_build_object('reason', reason) FROM seal s WHERE s.code = ANY (p_codes);
	UPDATE seal SET state = 'destroyed', holder_team_id = NULL, holder_user_id = NULL, changed_at = now()
	WHERE code = ANY (p_codes);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- ---- faults ----

-- Report a fault of a removed asset and send it to the lab (fault_analysis):
-- for analysis, or for arbitration verification on a customer's complaint
-- (p_complaint names it). Returns the fault id.
CREATE FUNCTION ml_fault_report(p_barcode text, p_symptom text, p_description text, p_complaint text, p_lab text)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('asset.move.field');
	a asset;
	lab bigint;
	inst bigint;
	f bigint;
	descr text := ml_clean_text('description', p_description, 500);
	complaint text := CASE WHEN p_complaint IS NULL THEN NULL ELSE ml_clean_text('complaint', p_complaint, 64) END;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM fault_symptom WHERE code = p_symptom AND active) THEN
		RAISE EXCEPTION 'symptom % is not one of: %', coalesce(quote_literal(p_symptom), 'NULL'),
			(SELECT string_agg(code, ', ' ORDER BY code) FROM fault_symptom WHERE active) USING ERRCODE = '22023';
	END IF;
	SELECT location_id INTO lab FROM location WHERE code = p_lab AND kind = 'lab';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'lab % is not a location of kind lab', coalesce(quote_literal(p_lab), 'NULL') USING ERRCODE = 'P0002';
	END IF;
	SELECT * INTO a FROM asset WHERE barcode = p_barcode::bpchar;
	IF NOT FOUND OR NOT coalesce(ml_barcode_ok(p_barcode), false) THEN
		RAISE EXCEPTION 'asset % is not registered', coalesce(quote_literal(p_barcode), 'NULL') USING ERRCODE = 'P0002';
	END IF;
	IF a.state <> 'removed' THEN
		RAISE EXCEPTION 'asset % is ''%'': a fault is reported on a removed meter (remove it with reason fault or complaint first)',
			a.barcode, a.state USING ERRCODE = '55000';
	END IF;
	SELECT installation_id INTO inst FROM installation WHERE asset_id = a.asset_id ORDER BY removed_at DESC NULLS LAST LIMIT 1;
	INSERT INTO fault_report (asset_id, installation_id, symptom, description, kind, complaint_ref, reported_by)
	VALUES (a.asset_id, inst, p_symptom, descr, CASE WHEN complaint IS NULL THEN 'analysis' ELSE 'arbitration' END,
		complaint, actor) RETURNING fault_id INTO f;
	PERFORM ml_asset_apply(actor, ARRAY[ROW(a.asset_id, 'removed', 'fault_analysis', 'fault_report', lab, false, NULL,
		descr, jsonb_build_object('fault', f, 'symptom', p_symptom, 'complaint', complaint))::ml_asset_change]);
	RETURN f;
END
$$;

-- The lab's finding; recorded once, by someone other than the reporter.
CREATE FUNCTION ml_fault_outcome(p_fault bigint, p_outcome text, p_note text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('fault.analyse');
	f fault_report;
BEGIN
	IF p_outcome IS NULL OR p_outcome NOT IN ('maker', 'usage', 'external', 'no_fault_found') THEN
		RAISE EXCEPTION 'outcome % is not maker, usage, external or no_fault_found',
			coalesce(quote_literal(left(p_outcome, 40)), 'NULL') USING ERRCODE = '22023';
	END IF;
	SELECT * INTO f FROM fault_report WHERE fault_id = p_fault FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no fault report %', p_fault USING ERRCODE = 'P0002';
	END IF;
	IF f.outcome IS NOT NULL THEN
		RAISE EXCEPTION 'fault report % already has its outcome (%)', p_fault, f.outcome USING ERRCODE = '55000';
	END IF;
	IF f.reported_by = actor THEN
		RAISE EXCEPTION 'the person who reported fault % cannot also judge it', p_fault USING ERRCODE = '42501';
	END IF;
	UPDATE fault_report SET outcome = p_outcome, outcome_note = ml_clean_text('note', p_note, 500, false),
		outcome_by = actor, outcome_at = now()
	WHERE fault_id = p_fault;
END
$$;

REVOKE ALL ON FUNCTION ml_actor_team(bigint), ml_seals_take(bigint, bigint, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION ml_point_add(text[], text[], text[], text[]),
	ml_install(text, text, text, text, jsonb, text[]), ml_remove(text, text, text, text, text[]),
	ml_swap(text, text, text, text, text, jsonb, text[]), ml_seal_receive(text[], text),
	ml_seal_issue(text[], text, text), ml_seal_destroy(text[], text),
	ml_fault_report(text, text, text, text, text), ml_fault_outcome(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ml_point_add(text[], text[], text[], text[]),
	ml_install(text, text, text, text, jsonb, text[]), ml_remove(text, text, text, text, text[]),
	ml_swap(text, text, text, text, text, jsonb, text[]), ml_seal_receive(text[], text),
	ml_seal_issue(text[], text, text), ml_seal_destroy(text[], text),
	ml_fault_report(text, text, text, text, text), ml_fault_outcome(bigint, text, text),
	ml_reading(text, text), ml_tariffs(jsonb) TO meterlab_app;
