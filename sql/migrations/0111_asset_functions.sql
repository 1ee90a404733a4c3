-- 0111: the asset registry's truth is written only through functions
-- (issue 8, part A): catalogue (manufacturers, device models, locations),
-- delivery import, lifecycle moves. Each is SECURITY DEFINER, owned by
-- meterlab_owner, with a pinned search_path; it checks the permission
-- (ml_require), the input, the state and the rules, records the actor id
-- from the session and writes the history in the same transaction. The
-- direct INSERT/UPDATE grants of meterlab_app on these tables are revoked at
-- the end: people read, functions write.

-- ---- small checks shared by the functions ----

-- A State Grid asset barcode: 22 digits, mod-10 check digit with weights
-- 3/1 from the left (domain.md §5.2, assets/barcode.c). Written out so that a
-- 100 000-row delivery checks in one pass without a subquery per row.
CREATE FUNCTION ml_barcode_check_digit(b text) RETURNS int
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN b ~ '^[0-9]{21}' THEN (10 - (substr(b, 1, 1)::int * 3 + substr(b, 2, 1)::int + substr(b, 3, 1)::int * 3 + substr(b, 4, 1)::int + substr(b, 5, 1)::int * 3 + substr(b, 6, 1)::int + substr(b, 7, 1)::int * 3 + substr(b, 8, 1)::int + substr(b, 9, 1)::int * 3 + substr(b, 10, 1)::int + substr(b, 11, 1)::int * 3 + substr(b, 12, 1)::int + substr(b, 13, 1)::int * 3 + substr(b, 14, 1)::int + substr(b, 15, 1)::int * 3 + substr(b, 16, 1)::int + substr(b, 17, 1)::int * 3 + substr(b, 18, 1)::int + substr(b, 19, 1)::int * 3 + substr(b, 20, 1)::int + substr(b, 21, 1)::int * 3) % 10) % 10 END
$$;

CREATE FUNCTION ml_barcode_ok(b text) RETURNS boolean
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN b ~ '^[0-9]{22}$' THEN substr(b, 22, 1)::int = ml_barcode_check_digit(b) ELSE false END
$$;

-- Why a barcode is not valid, in the words of barcode_validate(); NULL when it is.
CREATE FUNCTION ml_barcode_problem(b text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
		WHEN b IS NULL OR b = '' THEN 'barcode is missing'
		WHEN length(b) <> 22 THEN format('barcode ''%s'' has %s characters; a State Grid asset barcode has 22 digits',
						 b, length(b))
		WHEN b !~ '^[0-9]{22}$' THEN format('barcode ''%s'' has a non-digit ''%s'' at position %s', b,
						   substring(b from '[^0-9]'), position(substring(b from '[^0-9]') in b))
		WHEN NOT ml_barcode_ok(b) THEN format('barcode ''%s'' has check digit %s, expected %s (mod-10, weights 3/1)',
						      b, substr(b, 22, 1), ml_barcode_check_digit(b))
	END
$$;

-- A whole calendar date written YYYY-MM-DD (no time, no trailing text, no
-- 2026-02-30): the text form every date of a file or an option must have.
CREATE FUNCTION ml_date_ok(t text) RETURNS boolean
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN t ~ '^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
		THEN substr(t, 9, 2)::int <=
			extract(day FROM (make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, 1)
					  + interval '1 month - 1 day'))::int
		ELSE false END
$$;

-- Refuse a free text that is not clean (ml_text_ok, 0100), naming the field;
-- returns it NFC-normalised. NULL passes when not required.
CREATE FUNCTION ml_clean_text(p_what text, p_value text, p_max int, p_required boolean DEFAULT true)
	RETURNS text LANGUAGE plpgsql IMMUTABLE SET search_path = public, pg_temp AS $$
BEGIN
	IF p_value IS NULL THEN
		IF p_required THEN
			RAISE EXCEPTION '% is required', p_what USING ERRCODE = '22023';
		END IF;
		RETURN NULL;
	END IF;
	IF NOT ml_text_ok(normalize(p_value, NFC), p_max) THEN
		RAISE EXCEPTION '% % is not valid: 1–% characters, no control or invisible characters, no leading or trailing space',
			p_what, quote_literal(left(p_value, 80)), p_max USING ERRCODE = '22023';
	END IF;
	RETURN normalize(p_value, NFC);
END
$$;

-- A code (manufacturer, model, location, lot …): ASCII letters, digits and . _ - (/ where allowed).
CREATE FUNCTION ml_check_code(p_what text, p_value text, p_pattern text) RETURNS text
	LANGUAGE plpgsql IMMUTABLE SET search_path = public, pg_temp AS $$
BEGIN
	IF p_value IS NULL OR p_value !~ p_pattern THEN
		RAISE EXCEPTION '% % is not valid (%)', p_what, coalesce(quote_literal(left(p_value, 80)), 'NULL'),
			CASE p_pattern
				WHEN '^[A-Za-z0-9_.-]{1,32}$' THEN '1–32 ASCII letters, digits, . _ -'
				WHEN '^[A-Za-z0-9_.-]{1,64}$' THEN '1–64 ASCII letters, digits, . _ -'
				WHEN '^[A-Za-z0-9_./-]{1,64}$' THEN '1–64 ASCII letters, digits, . _ / -'
				ELSE 'pattern ' || p_pattern END
			USING ERRCODE = '22023';
	END IF;
	RETURN p_value;
END
$$;

-- Display of a person for printed records: "王建国 (tech.wang)".
CREATE FUNCTION ml_user_label(p_user_id bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT display_name || ' (' || login || ')' FROM app_user WHERE user_id = p_user_id
$$;

-- ---- who did it, on the catalogue and lots ----

ALTER TABLE lot ADD COLUMN received_by_id bigint REFERENCES app_user (user_id);
ALTER TABLE manufacturer ADD COLUMN created_by bigint REFERENCES app_user (user_id);
ALTER TABLE device_model ADD COLUMN created_by bigint REFERENCES app_user (user_id);
ALTER TABLE location ADD COLUMN created_by bigint REFERENCES app_user (user_id);

-- A device model's rating decides limits, durations and the verification
-- period (valid_until) of every verification of its assets: once added it
-- cannot change, for anyone (the owner included). Only the display name may
-- be corrected, by a migration or the DBA.
CREATE FUNCTION device_model_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF (NEW.code, NEW.manufacturer_id, NEW.kind, NEW.accuracy_class, NEW.reactive_class, NEW.connection,
	    NEW.wiring, NEW.un_v, NEW.ib_a, NEW.imax_a, NEW.constant_imp, NEW.clock_freq_hz, NEW.ct_primary_a,
	    NEW.ct_secondary_a, NEW.vt_primary_v, NEW.vt_secondary_v, NEW.rated_burden_va,
	    NEW.verification_period_months, NEW.created_at, NEW.created_by)
	   IS DISTINCT FROM
	   (OLD.code, OLD.manufacturer_id, OLD.kind, OLD.accuracy_class, OLD.reactive_class, OLD.connection,
	    OLD.wiring, OLD.un_v, OLD.ib_a, OLD.imax_a, OLD.constant_imp, OLD.clock_freq_hz, OLD.ct_primary_a,
	    OLD.ct_secondary_a, OLD.vt_primary_v, OLD.vt_secondary_v, OLD.rated_burden_va,
	    OLD.verification_period_months, OLD.created_at, OLD.created_by) THEN
		RAISE EXCEPTION 'device model % is fixed once added (class, rating and verification period decide every verification of its assets); add a new model instead',
			OLD.code USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER device_model_fixed BEFORE UPDATE ON device_model
	FOR EACH ROW EXECUTE FUNCTION device_model_fixed();

-- ---- catalogue ----

CREATE FUNCTION ml_manufacturer_add(p_code text, p_name text) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('catalogue.edit');
	id bigint;
BEGIN
	PERFORM ml_check_code('manufacturer code', p_code, '^[A-Za-z0-9_.-]{1,32}$');
	INSERT INTO manufacturer (code, name, created_by)
	VALUES (p_code, ml_clean_text('manufacturer name', p_name, 200), actor)
	RETURNING manufacturer_id INTO id;
	RETURN id;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'manufacturer ''%'' already exists', p_code USING ERRCODE = '23505';
END
$$;

-- Meter accuracy classes (JJG 596-2012 §1.4 and the letter profile §1.5) and
-- transformer classes (IEC 61869-2/-3 tables, domain.md §2), as lab/limits.c knows them.
CREATE FUNCTION ml_model_class_ok(p_kind text, p_class text) RETURNS boolean
	LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN p_kind IN ('meter_1p', 'meter_3p') THEN upper(p_class) IN ('0.2S', '0.5S', '1', '1.0', '2', '2.0', 'A', 'B', 'C', 'D', 'E')
		WHEN p_kind = 'ct' THEN upper(p_class) IN ('0.1', '0.2', '0.2S', '0.5', '0.5S', '1', '1.0', '3', '3.0', '5', '5.0')
		WHEN p_kind = 'vt' THEN upper(p_class) IN ('0.1', '0.2', '0.5', '1', '1.0', '3', '3.0')
		ELSE true END
$$;

CREATE FUNCTION ml_model_add(p_code text, p_manufacturer text, p_name text, p_kind text, p_class text,
			     p_reactive_class text, p_connection text, p_wiring text, p_un_v numeric,
			     p_ib_a numeric, p_imax_a numeric, p_constant_imp integer, p_clock_freq_hz numeric,
			     p_ct_primary_a numeric, p_ct_secondary_a numeric, p_vt_primary_v numeric,
			     p_vt_secondary_v numeric, p_rated_burden_va numeric, p_period_months integer)
	RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('catalogue.edit');
	mfr bigint;
	id bigint;
	meter boolean := p_kind IN ('meter_1p', 'meter_3p');
BEGIN
	PERFORM ml_check_code('model code', p_code, '^[A-Za-z0-9_./-]{1,64}$');
	SELECT manufacturer_id INTO mfr FROM manufacturer WHERE code = p_manufacturer;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model %: manufacturer ''%'' does not exist', p_code, p_manufacturer USING ERRCODE = 'P0002';
	END IF;
	IF p_kind IS NULL OR p_kind NOT IN ('meter_1p', 'meter_3p', 'ct', 'vt', 'concentrator') THEN
		RAISE EXCEPTION 'model %: kind ''%'' is not one of meter_1p meter_3p ct vt concentrator', p_code, p_kind
			USING ERRCODE = '22023';
	END IF;
	IF p_class IS NOT NULL AND NOT ml_model_class_ok(p_kind, p_class) THEN
		RAISE EXCEPTION 'model %: accuracy class ''%'' is not a class of a % (JJG 596-2012 §1.4, IEC 61869)',
			p_code, p_class, p_kind USING ERRCODE = '22023';
	END IF;
	IF meter AND p_connection IS NULL OR NOT meter AND p_connection IS NOT NULL THEN
		RAISE EXCEPTION 'model %: %', p_code,
			CASE WHEN meter THEN 'a meter needs a connection (direct or transformer)'
			     ELSE 'only meters have a connection' END USING ERRCODE = '22023';
	END IF;
	-- JJG 596-2012 / domain.md §1.12: a meter is verified at least every 8 years (96 months).
	IF meter AND p_period_months > 96 THEN
		RAISE EXCEPTION 'model %: verification period % months is longer than the 96 months (8 years) of the regulation for meters (domain.md §1.12)',
			p_code, p_period_months USING ERRCODE = '22023';
	END IF;
	INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, reactive_class, connection, wiring,
				  un_v, ib_a, imax_a, constant_imp, clock_freq_hz, ct_primary_a, ct_secondary_a,
				  vt_primary_v, vt_secondary_v, rated_burden_va, verification_period_months, created_by)
	VALUES (p_code, mfr, ml_clean_text('model name', p_name, 200), p_kind, p_class, p_reactive_class, p_connection,
		p_wiring, p_un_v, p_ib_a, p_imax_a, p_constant_imp, coalesce(p_clock_freq_hz, 1), p_ct_primary_a,
		p_ct_secondary_a, p_vt_primary_v, p_vt_secondary_v, p_rated_burden_va, p_period_months, actor)
	RETURNING model_id INTO id;
	RETURN id;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'device model ''%'' already exists', p_code USING ERRCODE = '23505';
END
$$;

CREATE FUNCTION ml_location_add(p_code text, p_name text, p_kind text, p_parent text) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('catalogue.edit');
	parent bigint;
	id bigint;
BEGIN
	PERFORM ml_check_code('location code', p_code, '^[A-Za-z0-9_.-]{1,64}$');
	IF p_kind IS NULL OR p_kind NOT IN ('central_store', 'secondary_store', 'bench', 'lab', 'field_team',
					    'customer_site', 'maker') THEN
		RAISE EXCEPTION 'location %: kind ''%'' is not one of central_store secondary_store bench lab field_team customer_site maker',
			p_code, p_kind USING ERRCODE = '22023';
	END IF;
	IF p_parent IS NOT NULL THEN
		SELECT location_id INTO parent FROM location WHERE code = p_parent;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'location %: parent location ''%'' does not exist', p_code, p_parent
				USING ERRCODE = 'P0002';
		END IF;
	END IF;
	INSERT INTO location (code, name, kind, parent_id, created_by)
	VALUES (p_code, ml_clean_text('location name', p_name, 200), p_kind, parent, actor)
	RETURNING location_id INTO id;
	RETURN id;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'location ''%'' already exists', p_code USING ERRCODE = '23505';
END
$$;

-- ---- receiving a delivery ----

-- Staging for ml_asset_receive: the client COPYs the parsed rows here (it
-- may INSERT, nothing else), then calls the function in the same
-- transaction. A row belongs to the transaction that staged it (the CHECK
-- forces it: nobody can stage rows into someone else's import); the
-- function reads and deletes only its own transaction's rows. UNLOGGED: the
-- rows live for one transaction. Every value is text so that the function
-- can report each bad value as a row problem.
CREATE UNLOGGED TABLE asset_receive_stage (
	stage_xid xid8 NOT NULL DEFAULT pg_current_xact_id() CHECK (stage_xid = pg_current_xact_id()),
	line integer NOT NULL,
	barcode text,
	model_code text,
	production_batch text,
	production_date text,
	box_code text
);

CREATE TYPE ml_row_problem AS (line integer, col text, val text, reason text);

-- The problems of the staged delivery, one row per bad value (line, column,
-- value, reason), and — when there is none — the lot, its assets and their
-- 'receive' events, set-based. Returns the problems; no row means imported.
-- A required value staged as NULL (the client refused it and reported it
-- itself) is returned as 'missing'. p_check_only: the client found problems
-- of its own (rows it could not even stage): report, never insert.
CREATE FUNCTION ml_asset_receive(p_lot text, p_supplier text, p_file_name text, p_sha256 text,
				 p_location text DEFAULT 'CENTRAL', p_check_only boolean DEFAULT false)
	RETURNS SETOF ml_row_problem
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('asset.receive');
	actor_login text := (SELECT login FROM app_user WHERE user_id = actor);
	me xid8 := pg_current_xact_id();
	prev record;
	loc location;
	n bigint;
	lot_no bigint;
	problems ml_row_problem[];
BEGIN
	PERFORM ml_check_code('lot code', p_lot, '^[A-Za-z0-9_./-]{1,64}$');
	p_supplier := ml_clean_text('supplier', p_supplier, 200, false);
	p_file_name := ml_clean_text('file name', p_file_name, 255, false);
	IF p_sha256 IS NULL OR p_sha256 !~ '^[0-9a-f]{64}$' THEN
		RAISE EXCEPTION 'file checksum % is not a sha256 in hex', coalesce(quote_literal(left(p_sha256, 80)), 'NULL')
			USING ERRCODE = '22023';
	END IF;
	SELECT l.code, l.file_sha256 = p_sha256 AS same_file, to_char(l.received_at, 'YYYY-MM-DD HH24:MI') AS at
	INTO prev FROM lot l WHERE l.code = p_lot OR l.file_sha256 = p_sha256 ORDER BY l.code = p_lot DESC LIMIT 1;
	IF FOUND THEN
		IF prev.same_file THEN
			RAISE EXCEPTION 'this file was already imported as lot ''%'' on %; nothing imported', prev.code, prev.at
				USING ERRCODE = '23505';
		END IF;
		RAISE EXCEPTION 'lot ''%'' already exists (received %); nothing imported', p_lot, prev.at
			USING ERRCODE = '23505';
	END IF;
	SELECT * INTO loc FROM location l WHERE l.code = coalesce(p_location, 'CENTRAL');
	IF NOT FOUND THEN
		RAISE EXCEPTION 'store location ''%'' does not exist; nothing imported', p_location USING ERRCODE = 'P0002';
	END IF;
	IF loc.kind NOT IN ('central_store', 'secondary_store') THEN
		RAISE EXCEPTION 'a delivery is received into a store, but ''%'' is a %; nothing imported', loc.code, loc.kind
			USING ERRCODE = '22023';
	END IF;
	SELECT count(*) INTO n FROM asset_receive_stage s WHERE s.stage_xid = me;
	IF n = 0 THEN
		RAISE EXCEPTION 'the delivery has no rows; nothing imported' USING ERRCODE = '22023';
	END IF;

	WITH s AS (SELECT * FROM asset_receive_stage s WHERE s.stage_xid = me),
	p AS (
		SELECT s.line, 'barcode' AS col, s.barcode AS val, ml_barcode_problem(s.barcode) AS reason
		FROM s WHERE s.barcode IS NOT NULL AND NOT ml_barcode_ok(s.barcode)
		UNION ALL
		SELECT s.line, 'model_code', s.model_code, 'unknown model code'
		FROM s WHERE s.model_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM device_model m WHERE m.code = s.model_code)
		UNION ALL
		SELECT s.line, 'production_batch', s.production_batch,
		       CASE WHEN s.production_batch = '' THEN 'empty' WHEN length(s.production_batch) > 64
			    THEN 'longer than 64 characters'
			    ELSE 'contains a control or invisible character, or leading/trailing space' END
		FROM s WHERE s.production_batch IS NOT NULL AND NOT ml_text_ok(normalize(s.production_batch, NFC), 64)
		UNION ALL
		SELECT s.line, 'production_date', s.production_date,
		       CASE WHEN NOT ml_date_ok(s.production_date) THEN 'not a calendar date YYYY-MM-DD'
			    WHEN s.production_date::date > current_date
			    THEN 'in the future (the server''s date is ' || current_date || ')'
			    ELSE 'more than 20 years before the server''s date: not the production date of a new delivery' END
		FROM s WHERE s.production_date IS NOT NULL
		  AND CASE WHEN ml_date_ok(s.production_date)
			   THEN s.production_date::date > current_date OR s.production_date::date < current_date - 7305
			   ELSE true END
		UNION ALL
		SELECT s.line, 'box_code', s.box_code,
		       CASE WHEN length(s.box_code) > 64 THEN 'longer than 64 characters'
			    ELSE 'contains a control or invisible character, or leading/trailing space' END
		FROM s WHERE s.box_code IS NOT NULL AND s.box_code <> '' AND NOT ml_text_ok(normalize(s.box_code, NFC), 64)
		UNION ALL
		SELECT d.line, 'barcode', d.barcode, 'duplicate within the file (first on line ' || d.first || ')'
		FROM (SELECT s.line, s.barcode, min(s.line) OVER (PARTITION BY s.barcode) AS first
		      FROM s WHERE s.barcode IS NOT NULL) d WHERE d.line <> d.first
		UNION ALL
		SELECT s.line, 'barcode', s.barcode, 'barcode already registered (lot ' || l.code || ', state ' || a.state || ')'
		FROM s JOIN asset a ON a.barcode = s.barcode::bpchar JOIN lot l ON l.lot_id = a.lot_id
		WHERE length(s.barcode) = 22
		UNION ALL
		SELECT s.line, c.col, NULL, c.col || ' is missing'
		FROM s CROSS JOIN LATERAL (VALUES ('barcode', s.barcode), ('model_code', s.model_code),
			('production_batch', s.production_batch), ('production_date', s.production_date)) c(col, v)
		WHERE c.v IS NULL)
	SELECT array_agg(ROW(p.line, p.col, p.val, p.reason)::ml_row_problem ORDER BY p.line, p.col) INTO problems FROM p;
	IF problems IS NOT NULL OR p_check_only THEN
		DELETE FROM asset_receive_stage s WHERE s.stage_xid = me;
		RETURN QUERY SELECT * FROM unnest(problems);
		RETURN;
	END IF;

	BEGIN
		INSERT INTO lot (code, manufacturer_id, model_id, supplier, file_name, file_sha256, row_count, received_by,
				 received_by_id)
		SELECT p_lot, CASE WHEN count(DISTINCT m.manufacturer_id) = 1 THEN min(m.manufacturer_id) END,
		       CASE WHEN count(DISTINCT m.model_id) = 1 THEN min(m.model_id) END, p_supplier, p_file_name, p_sha256,
		       count(*), actor_login, actor
		FROM asset_receive_stage s JOIN device_model m ON m.code = s.model_code WHERE s.stage_xid = me
		RETURNING lot_id INTO lot_no;
		WITH ins AS (
			INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, box_code, state, location_id)
			SELECT s.barcode, m.model_id, lot_no, normalize(s.production_batch, NFC), s.production_date::date,
			       nullif(normalize(s.box_code, NFC), ''), 'arrived', loc.location_id
			FROM asset_receive_stage s JOIN device_model m ON m.code = s.model_code
			WHERE s.stage_xid = me ORDER BY s.line
			RETURNING asset_id, location_id)
		INSERT INTO asset_event (asset_id, actor, actor_id, location_id, from_state, to_state, action, details)
		SELECT ins.asset_id, actor_login, actor, ins.location_id, NULL, 'arrived', 'receive',
		       jsonb_build_object('lot', p_lot)
		FROM ins;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'lot ''%'' or this file was imported concurrently; nothing imported', p_lot
			USING ERRCODE = '23505';
	END;
	DELETE FROM asset_receive_stage s WHERE s.stage_xid = me;
	RETURN;
END
$$;

-- ---- lifecycle moves ----

-- The permission a lifecycle action needs (0100's table of permissions).
-- verify_start/pass/fail/abort have none: they come only from runs
-- (mounting on a bench, a run's conclusion, an abort), never from a move.
CREATE FUNCTION ml_move_permission(p_action text) RETURNS text
	LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN p_action IN ('dispatch', 'receive_secondary', 'issue', 'return_unused') THEN 'asset.move.store'
		WHEN p_action IN ('install', 'remove', 'fault_report') THEN 'asset.move.field'
		WHEN p_action IN ('sample', 'sample_return', 'reuse') THEN 'asset.move.lab'
		WHEN p_action IN ('return_to_maker', 'scrap') THEN 'asset.retire'
	END
$$;

-- Move assets, all or nothing. Parallel arrays, one entry per move
-- (locations, reasons, details may be NULL arrays or hold NULLs). Returns
-- every refusal (index 1-based, barcode, SQLSTATE-like code, message; one
-- reason per move); no row means every move was applied with its event. A
-- move whose asset was changed concurrently raises 40001 (ml_asset_apply)
-- and nothing is applied.
CREATE TYPE ml_move_refusal AS (idx integer, barcode text, code text, msg text);

CREATE FUNCTION ml_asset_move(p_barcodes text[], p_actions text[], p_locations text[] DEFAULT NULL,
			      p_reasons text[] DEFAULT NULL, p_details jsonb[] DEFAULT NULL)
	RETURNS SETOF ml_move_refusal
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_actor_id();
	n integer := coalesce(cardinality(p_barcodes), 0);
	a text;
	refusals ml_move_refusal[];
	changes ml_asset_change[];
BEGIN
	IF n = 0 THEN
		RETURN;
	END IF;
	IF coalesce(cardinality(p_actions), 0) <> n OR coalesce(cardinality(p_locations), n) <> n
	   OR coalesce(cardinality(p_reasons), n) <> n OR coalesce(cardinality(p_details), n) <> n THEN
		RAISE EXCEPTION 'ml_asset_move: the arrays must have one entry per barcode (% barcodes)', n
			USING ERRCODE = '22023';
	END IF;
	FOR a IN SELECT DISTINCT x FROM unnest(p_actions) x ORDER BY 1 LOOP
		IF a IN ('verify_start', 'verify_pass', 'verify_fail', 'verify_abort') THEN
			RAISE EXCEPTION '% is not a move: it comes only from a verification run (%), never from a bare move', a,
				CASE a WHEN 'verify_start' THEN 'mounting the asset with meterlab run create'
				WHEN 'verify_abort' THEN 'meterlab run abort'
				ELSE 'the conclusion of a run with complete results; valid_until comes from the model''s verification period' END
				USING ERRCODE = '42501';
		END IF;
		IF a IS NULL OR ml_move_permission(a) IS NULL THEN
			RAISE EXCEPTION 'unknown lifecycle action ''%'' (valid: sample, sample_return, dispatch, receive_secondary, issue, install, return_unused, remove, fault_report, reuse, return_to_maker, scrap)',
				a USING ERRCODE = '22023';
		END IF;
		PERFORM ml_require(ml_move_permission(a));
	END LOOP;
	IF EXISTS (SELECT 1 FROM unnest(p_reasons) r WHERE r IS NOT NULL AND NOT ml_text_ok(normalize(r, NFC), 500)) THEN
		PERFORM ml_clean_text('reason', r, 500) FROM unnest(p_reasons) r
		WHERE r IS NOT NULL AND NOT ml_text_ok(normalize(r, NFC), 500);
	END IF;
	IF EXISTS (SELECT 1 FROM unnest(p_details) d WHERE d IS NOT NULL
		   AND (jsonb_typeof(d) <> 'object' OR length(d::text) > 2000)) THEN
		RAISE EXCEPTION 'details of a move must be a JSON object of at most 2000 characters' USING ERRCODE = '22023';
	END IF;

	WITH m AS (
		SELECT x.i::int AS idx, x.b AS barcode, x.act AS action, x.loc AS loc_code,
		       normalize(x.reason, NFC) AS reason, x.details,
		       min(x.i) OVER (PARTITION BY x.b)::int AS first_idx, coalesce(ml_barcode_ok(x.b), false) AS bc_ok
		FROM unnest(p_barcodes, p_actions, coalesce(p_locations, array_fill(NULL::text, ARRAY[n])),
			    coalesce(p_reasons, array_fill(NULL::text, ARRAY[n])),
			    coalesce(p_details, array_fill(NULL::jsonb, ARRAY[n])))
			WITH ORDINALITY AS x(b, act, loc, reason, details, i)),
	p AS (
		SELECT m.*, x.asset_id, x.state, x.valid_until, cl.code AS cur_code, cl.kind AS cur_kind,
		       l.location_id AS loc_id, l.kind AS loc_kind, run.run_id, run.status AS run_status, run.bench,
		       t.to_state
		FROM m
		LEFT JOIN asset x ON m.bc_ok AND x.barcode = m.barcode::bpchar
		LEFT JOIN location cl ON cl.location_id = x.location_id
		LEFT JOIN location l ON l.code = m.loc_code
		LEFT JOIN LATERAL (SELECT r.run_id, r.status, b.code AS bench FROM run_position rp
				   JOIN verification_run r ON r.run_id = rp.run_id JOIN lab_bench b ON b.bench_id = r.bench_id
				   WHERE x.state = 'verifying' AND rp.asset_id = x.asset_id
				     AND r.status IN ('pending', 'running', 'interrupted') LIMIT 1) run ON true
		LEFT JOIN asset_transition t ON t.from_state = x.state AND t.action = m.action
			AND t.to_secondary = (m.action = 'return_unused' AND coalesce(l.kind, cl.kind) = 'secondary_store')),
	q AS (
		SELECT p.*, CASE
			WHEN NOT p.bc_ok THEN 1
			WHEN p.idx <> p.first_idx THEN 2
			WHEN p.asset_id IS NULL THEN 3
			WHEN p.loc_code IS NOT NULL AND p.loc_id IS NULL THEN 4
			WHEN p.run_id IS NOT NULL THEN 5
			WHEN p.to_state IS NULL THEN 6
			WHEN (p.action = 'receive_secondary' AND coalesce(p.loc_kind, p.cur_kind, '') <> 'secondary_store')
			  OR (p.action = 'return_unused'
			      AND coalesce(p.loc_kind, p.cur_kind, '') NOT IN ('secondary_store', 'central_store')) THEN 7
			-- an asset past its verification period must not go to the field (JJG 596-2012, domain §1.12)
			WHEN p.action = 'issue' AND (p.valid_until IS NULL OR p.valid_until < current_date) THEN 8
			END AS problem
		FROM p)
	SELECT array_agg(ROW(q.idx, q.barcode, CASE WHEN q.problem IN (3, 4) THEN 'P0002'
						   WHEN q.problem IN (5, 6, 8) THEN '55000' ELSE '22023' END,
		CASE q.problem
		WHEN 1 THEN ml_barcode_problem(q.barcode)
		WHEN 2 THEN format('asset %s appears more than once in the batch (moves %s and %s)', q.barcode, q.first_idx, q.idx)
		WHEN 3 THEN format('asset %s is not registered', q.barcode)
		WHEN 4 THEN format('asset %s: location ''%s'' does not exist', q.barcode, q.loc_code)
		WHEN 5 THEN format('asset %s is mounted on run %s (%s) on bench %s: only that run moves it (meterlab run resume %s, or meterlab run abort %s)',
				   q.barcode, q.run_id, q.run_status, q.bench, q.run_id, q.run_id)
		WHEN 6 THEN format('asset %s is ''%s'': action ''%s'' is not allowed in state ''%s''', q.barcode, q.state,
				   q.action, q.state)
		WHEN 7 THEN format('asset %s: %s puts it in %s, but ''%s'' is %s; give --location STORE', q.barcode, q.action,
				   CASE q.action WHEN 'receive_secondary' THEN 'a secondary store' ELSE 'a store' END,
				   coalesce(q.loc_code, q.cur_code, '(no location)'),
				   coalesce('a ' || coalesce(q.loc_kind, q.cur_kind), 'not a store'))
		WHEN 8 THEN format('asset %s cannot be issued: verification %s; re-verify it first', q.barcode,
				   CASE WHEN q.valid_until IS NULL THEN 'validity is not recorded'
					ELSE 'expired on ' || q.valid_until END)
		END)::ml_move_refusal ORDER BY q.idx) FILTER (WHERE q.problem IS NOT NULL),
	       array_agg(ROW(q.asset_id, q.state, q.to_state, q.action, q.loc_id, false, NULL, q.reason,
			     q.details)::ml_asset_change ORDER BY q.idx)
	INTO refusals, changes FROM q;

	IF refusals IS NOT NULL THEN
		RETURN QUERY SELECT * FROM unnest(refusals);
		RETURN;
	END IF;
	PERFORM ml_asset_apply(actor, changes);
	RETURN;
END
$$;

-- ---- what people may do now ----

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON manufacturer, device_model, location, lot, asset, asset_event
	FROM meterlab_app;
REVOKE ALL ON asset_receive_stage FROM PUBLIC;
GRANT INSERT ON asset_receive_stage TO meterlab_app;
GRANT EXECUTE ON FUNCTION ml_user_label(bigint), ml_manufacturer_add(text, text),
	ml_model_add(text, text, text, text, text, text, text, text, numeric, numeric, numeric, integer, numeric, numeric,
		     numeric, numeric, numeric, numeric, integer),
	ml_location_add(text, text, text, text), ml_asset_receive(text, text, text, text, text, boolean),
	ml_asset_move(text[], text[], text[], text[], jsonb[]) TO meterlab_app;
