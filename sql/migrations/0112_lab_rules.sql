-- 0112: the lab's rules in the database (issue 8, part A): settings, the
-- regulation limits as data, schemes that cannot be looser than the
-- regulation and that new runs use only once activated, and reference
-- standards, their certificates and benches. Writes go only through the
-- SECURITY DEFINER functions below (ml_require, actor from the session,
-- history in the same transaction); meterlab_app keeps SELECT.

-- ---- exact arithmetic helpers (lab/decimal.c in SQL) ----

-- n / d rounded half to even (GB/T 8170), exact on numeric integers.
CREATE FUNCTION ml_div_he(n numeric, d numeric) RETURNS numeric
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT sign(n) * sign(d) * CASE WHEN 2 * mod(abs(n), abs(d)) > abs(d)
					     OR (2 * mod(abs(n), abs(d)) = abs(d) AND mod(div(abs(n), abs(d)), 2) = 1)
					THEN div(abs(n), abs(d)) + 1 ELSE div(abs(n), abs(d)) END
$$;

-- Largest x with x² ≤ v (v ≥ 0), exact.
CREATE FUNCTION ml_isqrt(v numeric) RETURNS numeric
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = public, pg_temp AS $$
DECLARE
	x numeric := floor(sqrt(v));
BEGIN
	WHILE x * x > v LOOP
		x := x - 1;
	END LOOP;
	WHILE (x + 1) * (x + 1) <= v LOOP
		x := x + 1;
	END LOOP;
	RETURN x;
END
$$;

-- ---- settings (lab/settings.c's table as data) ----

-- Every setting the C table knows: type, default and allowed range (DEC4 in
-- units of 1e-4, like the C table). tests/lab compare the two row by row.
CREATE TABLE lab_setting_def (
	key text PRIMARY KEY,
	type text NOT NULL CHECK (type IN ('bool', 'int', 'i64', 'dec4', 'dec4_list', 'tri')),
	default_value text NOT NULL,
	min_v bigint NOT NULL,
	max_v bigint NOT NULL
);
INSERT INTO lab_setting_def (key, type, default_value, min_v, max_v) VALUES
	('judge.verdict_on_rounded', 'bool', 'yes', 0, 1),
	('judge.internal_coefficient', 'dec4', '60', 10000, 1000000),
	('basic.readings', 'int', '2', 1, 32),
	('basic.ref_pulses', 'int', '2', 1, 1000),
	('basic.min_reading_ms', 'i64', '0', 0, 3600000),
	('scheme.half_imax', 'tri', 'auto', -1, 1),
	('scheme.unbalanced', 'bool', 'yes', 0, 1),
	('source.settle_timeout_ms', 'int', '20000', 1000, 600000),
	('creep.voltage_pct', 'dec4', '115', 800000, 1300000),
	('creep.max_pulses', 'int', '1', 0, 10),
	('creep.k_0_2s', 'i64', '900', 1, 100000),
	('creep.k_0_5s', 'i64', '600', 1, 100000),
	('creep.k_1', 'i64', '600', 1, 100000),
	('creep.k_2', 'i64', '480', 1, 100000),
	('start.min_pulses', 'int', '1', 1, 10),
	('start.coefficient', 'dec4', '1.2', 1000, 100000),
	('start.time_factor', 'dec4', '1.0', 1000, 100000),
	('constant.by_pulses', 'bool', 'no', 0, 1),
	('constant.max_pulse_diff', 'int', '1', 0, 1000),
	('constant.energy_wh', 'dec4', '1000', 10000, 10000000000),
	('clock.limit', 'dec4', '0.5', 1, 600000),
	('clock.readings', 'int', '5', 1, 32),
	('clock.interval', 'dec4', '0.01', 1, 10000),
	('letter.itr_pct_direct', 'dec4', '10', 1, 1000000),
	('letter.itr_pct_transformer', 'dec4', '5', 1, 1000000),
	('letter.imin_pct_direct_a', 'dec4', '50', 1, 1000000),
	('letter.imin_pct_direct', 'dec4', '40', 1, 1000000),
	('letter.imin_pct_transformer', 'dec4', '20', 1, 1000000),
	('letter.creep_voltage_pct', 'dec4', '110', 800000, 1300000),
	('ct.points_s', 'dec4_list', '1,5,20,100,120', 1, 2000000),
	('ct.points', 'dec4_list', '5,20,100,120', 1, 2000000),
	('vt.points', 'dec4_list', '80,100,120', 1, 2000000),
	('xfmr.burdens', 'dec4_list', '100,25', 1, 2000000),
	('xfmr.round_fraction', 'dec4', '10', 1, 1000000),
	('xfmr.readings', 'int', '1', 1, 32),
	('judge.recheck_low', 'dec4', '0', 0, 2000000),
	('judge.recheck_high', 'dec4', '0', 0, 10000000),
	('judge.recheck_readings', 'int', '2', 1, 30);

ALTER TABLE lab_setting ADD COLUMN updated_by_id bigint REFERENCES app_user (user_id);
ALTER TABLE lab_setting_log ADD COLUMN changed_by_id bigint REFERENCES app_user (user_id);
ALTER TABLE lab_setting_log ADD COLUMN reason text;
CREATE TRIGGER lab_setting_log_no_truncate BEFORE TRUNCATE ON lab_setting_log
	FOR EACH STATEMENT EXECUTE FUNCTION lab_setting_log_refuse();

-- The effective value of a setting: the stored one, else the default.
CREATE FUNCTION ml_setting(p_key text) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT coalesce((SELECT value FROM lab_setting WHERE key = p_key),
			(SELECT default_value FROM lab_setting_def WHERE key = p_key))
$$;
-- Numeric settings in the C units: DEC4 × 1e4, integers as they are.
CREATE FUNCTION ml_setting_e4(p_key text) RETURNS bigint
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT CASE d.type WHEN 'dec4' THEN (ml_setting(p_key)::numeric * 10000)::bigint
			   WHEN 'bool' THEN CASE ml_setting(p_key) WHEN 'yes' THEN 1 ELSE 0 END
			   ELSE ml_setting(p_key)::bigint END
	FROM lab_setting_def d WHERE d.key = p_key
$$;

-- A value as lab/settings.c stores it (normalised by the client), checked
-- against the type and range of the key; raises 22023 naming key and value.
CREATE FUNCTION ml_setting_check(p_key text, p_value text) RETURNS void
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	d lab_setting_def;
	v text;
	n int := 0;
	ok boolean := true;
BEGIN
	SELECT * INTO d FROM lab_setting_def WHERE key = p_key;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown setting ''%''', p_key USING ERRCODE = 'P0002';
	END IF;
	IF p_value IS NULL OR length(p_value) > 200 THEN
		ok := false;
	ELSIF d.type = 'bool' THEN
		ok := p_value IN ('yes', 'no');
	ELSIF d.type = 'tri' THEN
		ok := p_value IN ('auto', 'yes', 'no');
	ELSIF d.type IN ('int', 'i64') THEN
		ok := p_value ~ '^-?[0-9]{1,18}$' AND p_value::bigint BETWEEN d.min_v AND d.max_v;
	ELSE
		FOREACH v IN ARRAY CASE WHEN d.type = 'dec4' THEN ARRAY[p_value] ELSE string_to_array(p_value, ',') END LOOP
			n := n + 1;
			ok := ok AND v ~ '^[0-9]{1,14}(\.[0-9]{1,4})?$' AND (v::numeric * 10000) BETWEEN d.min_v AND d.max_v;
		END LOOP;
		ok := ok AND n BETWEEN 1 AND 8;
	END IF;
	IF NOT ok THEN
		RAISE EXCEPTION 'setting %: value % is not a valid % in % .. %', p_key, coalesce(quote_literal(left(p_value, 80)), 'NULL'),
			d.type, CASE WHEN d.type LIKE 'dec4%' THEN trim_scale(d.min_v / 10000.0)::text ELSE d.min_v::text END,
			CASE WHEN d.type LIKE 'dec4%' THEN trim_scale(d.max_v / 10000.0)::text ELSE d.max_v::text END
			USING ERRCODE = '22023';
	END IF;
END
$$;

-- Change a setting (p_value NULL: back to the default), logged with the
-- person and a reason, in one transaction. Needs setting.edit.
CREATE FUNCTION ml_setting_set(p_key text, p_value text, p_reason text DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('setting.edit');
	actor_login text := (SELECT login FROM app_user WHERE user_id = actor);
	old text;
BEGIN
	IF p_value IS NOT NULL THEN
		PERFORM ml_setting_check(p_key, p_value);
	ELSIF NOT EXISTS (SELECT 1 FROM lab_setting_def WHERE key = p_key) THEN
		RAISE EXCEPTION 'unknown setting ''%''', p_key USING ERRCODE = 'P0002';
	END IF;
	p_reason := ml_clean_text('reason', p_reason, 500, false);
	PERFORM pg_advisory_xact_lock(hashtext('meterlab.setting'), hashtext(p_key));
	SELECT value INTO old FROM lab_setting WHERE key = p_key;
	IF p_value IS NULL AND old IS NULL THEN
		RAISE EXCEPTION 'setting % already has its default value', p_key USING ERRCODE = 'P0002';
	END IF;
	INSERT INTO lab_setting_log (key, old_value, new_value, changed_by, changed_by_id, reason)
	VALUES (p_key, old, p_value, actor_login, actor, p_reason);
	IF p_value IS NULL THEN
		DELETE FROM lab_setting WHERE key = p_key;
	ELSE
		INSERT INTO lab_setting (key, value, updated_by, updated_by_id) VALUES (p_key, p_value, actor_login, actor)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(),
			updated_by = EXCLUDED.updated_by, updated_by_id = EXCLUDED.updated_by_id;
	END IF;
END
$$;

-- ---- the regulation limits as data (lab/limits.c's tables, same layout) ----

-- JJG 596-2012 §1.4 (domain.md): bands of I/Ib (× 1e4) with the lower bound
-- per connection (transformer S classes vs classes 1 and 2), limits ± % × 1e4
-- for 0.2S, 0.5S, 1, 2 (0 = no limit).
CREATE TABLE reg_meter_band (
	tbl text NOT NULL CHECK (tbl IN ('bal_pf1', 'bal_pf05', 'single_pf1', 'single_pf05')),
	band int NOT NULL,
	lo_direct bigint NOT NULL,
	lo_transformer_s bigint NOT NULL,
	lo_transformer bigint NOT NULL,
	lim bigint[] NOT NULL CHECK (cardinality(lim) = 4),
	PRIMARY KEY (tbl, band)
);
INSERT INTO reg_meter_band VALUES
	('bal_pf1', 0, 500, 100, 200, '{4000,10000,15000,25000}'),
	('bal_pf1', 1, 1000, 500, 500, '{2000,5000,10000,20000}'),
	('bal_pf05', 0, 1000, 200, 500, '{5000,10000,15000,25000}'),
	('bal_pf05', 1, 2000, 1000, 1000, '{3000,6000,10000,20000}'),
	('single_pf1', 0, 1000, 500, 500, '{3000,6000,20000,30000}'),
	('single_pf05', 0, 2000, 1000, 1000, '{4000,10000,20000,30000}');
-- 0.25L and 0.5C "special request" rows (any current, as lab/limits.c applies them).
CREATE TABLE reg_meter_special (
	pf int PRIMARY KEY CHECK (pf IN (4, 5)),
	lim bigint[] NOT NULL CHECK (cardinality(lim) = 4)
);
INSERT INTO reg_meter_special VALUES (4, '{5000,10000,35000,0}'), (5, '{5000,10000,25000,0}');
-- Letter classes (domain.md §1.5): below Itr PF 1, below Itr PF ≠ 1, from Itr PF 1, from Itr PF 0.5L…0.8C.
CREATE TABLE reg_letter_limit (
	class text PRIMARY KEY CHECK (class IN ('A', 'B', 'C', 'D', 'E')),
	lim bigint[] NOT NULL CHECK (cardinality(lim) = 4),
	b_e4 bigint NOT NULL -- limit at Imin PF 1: creep/start constant of the revised profile (§1.6, §1.7)
);
INSERT INTO reg_letter_limit VALUES
	('A', '{25000,25000,20000,20000}', 25000), ('B', '{15000,15000,10000,10000}', 15000),
	('C', '{10000,10000,5000,6000}', 10000), ('D', '{4000,5000,2000,3000}', 4000),
	('E', '{2000,2500,1000,1500}', 2000);
-- IEC 61869-2 CT and 61869-3 VT (domain.md §2.1, §2.2): limit points, ratio ± % × 1e4, phase ± min × 1e4 (0 = none).
CREATE TABLE reg_xfmr_limit (
	kind text NOT NULL CHECK (kind IN ('ct', 'vt')),
	class text NOT NULL,
	idx int NOT NULL,
	pct_e4 bigint NOT NULL,
	ratio_e4 bigint NOT NULL,
	phase_e4 bigint NOT NULL,
	PRIMARY KEY (kind, class, idx)
);
INSERT INTO reg_xfmr_limit (kind, class, idx, pct_e4, ratio_e4, phase_e4)
SELECT r.kind, r.class, i - 1, r.pct[i], r.ratio[i], coalesce(r.phase[i], 0)
FROM (VALUES
	('ct', '0.1', '{50000,200000,1000000,1200000}'::bigint[], '{4000,2000,1000,1000}'::bigint[], '{150000,80000,50000,50000}'::bigint[]),
	('ct', '0.2', '{50000,200000,1000000,1200000}', '{7500,3500,2000,2000}', '{300000,150000,100000,100000}'),
	('ct', '0.2S', '{10000,50000,200000,1000000,1200000}', '{7500,3500,2000,2000,2000}', '{300000,150000,100000,100000,100000}'),
	('ct', '0.5', '{50000,200000,1000000,1200000}', '{15000,7500,5000,5000}', '{900000,450000,300000,300000}'),
	('ct', '0.5S', '{10000,50000,200000,1000000,1200000}', '{15000,7500,5000,5000,5000}', '{900000,450000,300000,300000,300000}'),
	('ct', '1', '{50000,200000,1000000,1200000}', '{30000,15000,10000,10000}', '{1800000,900000,600000,600000}'),
	('ct', '3', '{500000,1200000}', '{30000,30000}', '{}'),
	('ct', '5', '{500000,1200000}', '{50000,50000}', '{}'),
	('vt', '0.1', '{800000,1200000}', '{1000,1000}', '{50000,50000}'),
	('vt', '0.2', '{800000,1200000}', '{2000,2000}', '{100000,100000}'),
	('vt', '0.5', '{800000,1200000}', '{5000,5000}', '{200000,200000}'),
	('vt', '1', '{800000,1200000}', '{10000,10000}', '{400000,400000}'),
	('vt', '3', '{800000,1200000}', '{30000,30000}', '{}')) r(kind, class, pct, ratio, phase),
	generate_subscripts(r.pct, 1) i;

CREATE FUNCTION reg_table_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is regulation data (change it with a migration): % refused', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER reg_meter_band_fixed BEFORE INSERT OR UPDATE OR DELETE ON reg_meter_band
	FOR EACH ROW EXECUTE FUNCTION reg_table_fixed();
CREATE TRIGGER reg_meter_special_fixed BEFORE INSERT OR UPDATE OR DELETE ON reg_meter_special
	FOR EACH ROW EXECUTE FUNCTION reg_table_fixed();
CREATE TRIGGER reg_letter_limit_fixed BEFORE INSERT OR UPDATE OR DELETE ON reg_letter_limit
	FOR EACH ROW EXECUTE FUNCTION reg_table_fixed();
CREATE TRIGGER reg_xfmr_limit_fixed BEFORE INSERT OR UPDATE OR DELETE ON reg_xfmr_limit
	FOR EACH ROW EXECUTE FUNCTION reg_table_fixed();
CREATE TRIGGER lab_setting_def_fixed BEFORE INSERT OR UPDATE OR DELETE ON lab_setting_def
	FOR EACH ROW EXECUTE FUNCTION reg_table_fixed();

-- Meter class text as lab/limits.c reads it: 0.2S 0.5S 1 2 A–E (case-insensitive, 1.0 = 1).
CREATE FUNCTION ml_meter_class(p text) RETURNS text
	LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE upper(p) WHEN '0.2S' THEN '0.2S' WHEN '0.5S' THEN '0.5S' WHEN '1' THEN '1' WHEN '1.0' THEN '1'
		WHEN '2' THEN '2' WHEN '2.0' THEN '2' WHEN 'A' THEN 'A' WHEN 'B' THEN 'B' WHEN 'C' THEN 'C'
		WHEN 'D' THEN 'D' WHEN 'E' THEN 'E' END
$$;
-- Class index % × 1e4 (§1.1: A ≈ 2, B ≈ 1, C ≈ 0.5S, D ≈ 0.2S, E ≈ 0.1S).
CREATE FUNCTION ml_meter_class_index(p text) RETURNS bigint
	LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE ml_meter_class(p) WHEN '0.2S' THEN 2000 WHEN '0.5S' THEN 5000 WHEN '1' THEN 10000 WHEN '2' THEN 20000
		WHEN 'A' THEN 20000 WHEN 'B' THEN 10000 WHEN 'C' THEN 5000 WHEN 'D' THEN 2000 WHEN 'E' THEN 1000 END
$$;

-- Itr and Imin relative to Ib/In × 1e4 for the letter classes (settings letter.*; limits.c).
CREATE FUNCTION ml_itr_rel_e4(p_conn text) RETURNS bigint
	LANGUAGE sql STABLE AS $$
	SELECT div(ml_setting_e4(CASE p_conn WHEN 'transformer' THEN 'letter.itr_pct_transformer'
				       ELSE 'letter.itr_pct_direct' END), 100)::bigint
$$;
CREATE FUNCTION ml_imin_rel_e4(p_class text, p_conn text) RETURNS bigint
	LANGUAGE sql STABLE AS $$
	SELECT ml_div_he(ml_itr_rel_e4(p_conn)::numeric *
			 ml_setting_e4(CASE WHEN p_conn = 'transformer' THEN 'letter.imin_pct_transformer'
					    WHEN ml_meter_class(p_class) = 'A' THEN 'letter.imin_pct_direct_a'
					    ELSE 'letter.imin_pct_direct' END), 1000000)::bigint
$$;

-- The basic-error limit (± % × 1e4) of a meter class at a load point, as
-- judge_meter_limit() computes it; NULL where the regulation table has none.
-- base: 1 Ib, 2 Imax, 3 Itr, 4 Imin; pf: 1 1.0, 2 0.5L, 3 0.8C, 4 0.25L,
-- 5 0.5C; element 0 = H (balanced), 1–3 one element. ib_ma/imax_ma locate
-- Imax-based points; without them an Imax point below 0.2 Imax has no limit.
CREATE FUNCTION ml_reg_meter_limit(p_class text, p_conn text, p_base int, p_mult_e4 bigint, p_pf int, p_element int,
				   p_ib_ma bigint DEFAULT NULL, p_imax_ma bigint DEFAULT NULL)
	RETURNS bigint LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
	c text := ml_meter_class(p_class);
	ci int;
	letter boolean;
	rel numeric;
	lower_bound boolean := false;
	b reg_meter_band;
	lo bigint;
	lim bigint;
	itr bigint;
BEGIN
	IF c IS NULL OR p_conn NOT IN ('direct', 'transformer') OR p_base NOT BETWEEN 1 AND 4 THEN
		RETURN NULL;
	END IF;
	letter := c IN ('A', 'B', 'C', 'D', 'E');
	ci := CASE c WHEN '0.2S' THEN 1 WHEN '0.5S' THEN 2 WHEN '1' THEN 3 WHEN '2' THEN 4 END;
	IF NOT letter AND p_base IN (3, 4) THEN
		RETURN NULL;
	END IF;
	IF p_base = 1 THEN
		rel := p_mult_e4;
	ELSIF p_base = 2 THEN
		IF coalesce(p_ib_ma, 0) > 0 AND coalesce(p_imax_ma, 0) > 0 THEN
			rel := ml_div_he(p_mult_e4::numeric * p_imax_ma, p_ib_ma);
		ELSE
			rel := p_mult_e4;
			lower_bound := true;
		END IF;
	ELSIF p_base = 3 THEN
		rel := ml_div_he(p_mult_e4::numeric * ml_itr_rel_e4(p_conn), 10000);
	ELSE
		rel := ml_div_he(p_mult_e4::numeric * ml_imin_rel_e4(c, p_conn), 10000);
	END IF;
	IF lower_bound AND p_mult_e4 < 2000 THEN
		RETURN NULL;
	END IF;
	IF NOT lower_bound AND p_base <> 2 AND coalesce(p_imax_ma, 0) > 0 AND coalesce(p_ib_ma, 0) > 0
	   AND rel > div(p_imax_ma::numeric * 10000, p_ib_ma) THEN
		RETURN NULL; -- above Imax
	END IF;
	IF letter THEN
		IF p_element <> 0 OR p_pf NOT IN (1, 2, 3) OR rel < ml_imin_rel_e4(c, p_conn) THEN
			RETURN NULL;
		END IF;
		itr := ml_itr_rel_e4(p_conn);
		SELECT l.lim[1 + CASE WHEN rel >= itr THEN 2 ELSE 0 END + CASE WHEN p_pf <> 1 THEN 1 ELSE 0 END]
		INTO lim FROM reg_letter_limit l WHERE l.class = c;
		RETURN lim;
	END IF;
	IF p_element = 0 AND p_pf IN (4, 5) THEN
		SELECT s.lim[ci] INTO lim FROM reg_meter_special s WHERE s.pf = p_pf;
		RETURN nullif(lim, 0);
	END IF;
	FOR b IN SELECT * FROM reg_meter_band
		 WHERE tbl = CASE WHEN p_element <> 0 THEN CASE p_pf WHEN 1 THEN 'single_pf1' WHEN 2 THEN 'single_pf05' END
				  ELSE CASE WHEN p_pf = 1 THEN 'bal_pf1' WHEN p_pf IN (2, 3) THEN 'bal_pf05' END END
		 ORDER BY band DESC LOOP
		lo := CASE WHEN p_conn = 'direct' THEN b.lo_direct WHEN ci <= 2 THEN b.lo_transformer_s
			   ELSE b.lo_transformer END;
		IF rel >= lo THEN
			RETURN nullif(b.lim[ci], 0);
		END IF;
	END LOOP;
	RETURN NULL;
END
$$;

-- Transformer class text as limits.c's find_row reads it ("1.0" = "1", "0.2s" = "0.2S").
CREATE FUNCTION ml_xfmr_class(p text) RETURNS text
	LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p IS NULL OR length(p) >= 8 THEN NULL
		    ELSE regexp_replace(regexp_replace(p, '^(.+)\.0$', '\1'), 's$', 'S') END
$$;

-- CT/VT ratio-error limit (± % × 1e4) and phase limit (minutes × 1e4, 0 =
-- none) at percent of rated, interpolated on the broken line as limits.c does;
-- NULL outside the table.
CREATE FUNCTION ml_reg_xfmr_limit(p_kind text, p_class text, p_pct_e4 bigint, OUT ratio_e4 bigint, OUT phase_e4 bigint)
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
	c text := ml_xfmr_class(p_class);
	n int;
	k int;
	x0 bigint; x1 bigint; r0 bigint; r1 bigint; f0 bigint; f1 bigint;
BEGIN
	SELECT count(*) INTO n FROM reg_xfmr_limit l WHERE l.kind = p_kind AND l.class = c;
	IF n < 2 OR p_pct_e4 < (SELECT l.pct_e4 FROM reg_xfmr_limit l WHERE l.kind = p_kind AND l.class = c AND l.idx = 0)
	   OR p_pct_e4 > (SELECT l.pct_e4 FROM reg_xfmr_limit l WHERE l.kind = p_kind AND l.class = c AND l.idx = n - 1) THEN
		RETURN;
	END IF;
	SELECT count(*) INTO k FROM reg_xfmr_limit l WHERE l.kind = p_kind AND l.class = c AND l.idx BETWEEN 1 AND n - 2
	  AND l.pct_e4 < p_pct_e4;
	SELECT l.pct_e4, l.ratio_e4, l.phase_e4 INTO x0, r0, f0 FROM reg_xfmr_limit l
	WHERE l.kind = p_kind AND l.class = c AND l.idx = k;
	SELECT l.pct_e4, l.ratio_e4, l.phase_e4 INTO x1, r1, f1 FROM reg_xfmr_limit l
	WHERE l.kind = p_kind AND l.class = c AND l.idx = k + 1;
	IF p_pct_e4 = x0 THEN
		ratio_e4 := r0;
		phase_e4 := f0;
	ELSE
		ratio_e4 := r0 + ml_div_he((r1 - r0)::numeric * (p_pct_e4 - x0), x1 - x0);
		phase_e4 := CASE WHEN f0 = 0 THEN 0 ELSE f0 + ml_div_he((f1 - f0)::numeric * (p_pct_e4 - x0), x1 - x0) END;
	END IF;
END
$$;

-- ---- schemes: saved inactive, activated by a person with scheme.activate ----

ALTER TABLE scheme ADD COLUMN created_by_id bigint REFERENCES app_user (user_id);

-- Which version of a code new runs use: the latest row per code (NULL
-- scheme_id = the code was retired). Append-only.
CREATE TABLE scheme_activation (
	log_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code text NOT NULL,
	scheme_id bigint REFERENCES scheme (scheme_id),
	action text NOT NULL CHECK (action IN ('activate', 'retire')),
	at timestamptz NOT NULL DEFAULT now(),
	by_id bigint REFERENCES app_user (user_id), -- NULL: migration 0112 (versions active before)
	CHECK ((action = 'activate') = (scheme_id IS NOT NULL))
);
CREATE INDEX scheme_activation_code ON scheme_activation (code, log_id DESC);
CREATE TRIGGER scheme_activation_append_only BEFORE UPDATE OR DELETE ON scheme_activation
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();
-- What was in use before this migration stays in use: the latest live version of each code.
INSERT INTO scheme_activation (code, scheme_id, action)
SELECT DISTINCT ON (code) code, scheme_id, 'activate' FROM scheme WHERE retired_at IS NULL
ORDER BY code, version DESC;

-- The version new runs of a code use, or NULL (never activated, or retired).
CREATE FUNCTION ml_scheme_active(p_code text) RETURNS bigint
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT scheme_id FROM scheme_activation WHERE code = p_code ORDER BY log_id DESC LIMIT 1
$$;

-- One step as the client sends it (lab/scheme.h struct scheme_step).
CREATE TYPE ml_scheme_step_in AS (
	kind smallint, point_base smallint, mult_e4 bigint, pf smallint, element smallint, readings int,
	pulses int, settle_timeout_ms int, percent_e4 bigint, burden_pct_e4 bigint, limit_e4 bigint,
	duration_ms bigint, energy_wh_e4 bigint);

CREATE FUNCTION ml_step_kind_name(k int) RETURNS text
	LANGUAGE sql IMMUTABLE AS $$
	SELECT (ARRAY['creep', 'start', 'basic', 'constant', 'clock', 'ct', 'vt'])[k]
$$;

-- Why one step is looser than the regulation (domain.md §1, §2 and the
-- unverified rules the settings hold), or NULL. classes/connection: what the
-- scheme declares it suits ('' = any: every class / both connections are
-- checked). The same rules as lab/scheme_rules.c.
CREATE FUNCTION ml_scheme_step_problem(p_kinds text, p_classes text, p_connection text, s ml_scheme_step_in)
	RETURNS text LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
	cls text;
	conn text;
	lim bigint;
	xl record;
	need int;
	compared int := 0;
	meter_classes text[] := ARRAY['0.2S', '0.5S', '1', '2', 'A', 'B', 'C', 'D', 'E'];
	xfmr_classes text[];
	classes text[] := CASE WHEN coalesce(p_classes, '') = '' THEN NULL
			       ELSE string_to_array(replace(p_classes, ' ', ''), ',') END;
BEGIN
	IF s.kind IS NULL OR s.kind NOT BETWEEN 1 AND 7 THEN
		RETURN format('unknown step kind %s', coalesce(s.kind::text, 'NULL'));
	END IF;
	IF s.readings IS NULL OR s.pulses IS NULL OR s.settle_timeout_ms IS NULL OR s.limit_e4 IS NULL
	   OR s.duration_ms IS NULL OR s.energy_wh_e4 IS NULL OR s.percent_e4 IS NULL OR s.burden_pct_e4 IS NULL
	   OR (s.kind IN (3, 4) AND (s.point_base IS NULL OR s.mult_e4 IS NULL OR s.pf IS NULL OR s.element IS NULL)) THEN
		RETURN 'a value of the step is missing';
	END IF;
	IF s.readings NOT BETWEEN 0 AND 32 OR s.pulses NOT BETWEEN 0 AND 65535 OR s.settle_timeout_ms < 0
	   OR s.limit_e4 < 0 OR s.duration_ms < 0 OR s.energy_wh_e4 < 0 OR s.duration_ms > 604800000 THEN
		RETURN 'readings 0..32, pulses 0..65535, no negative override, duration at most 7 days';
	END IF;
	IF s.kind IN (3, 4) AND (s.point_base NOT BETWEEN 1 AND 4 OR s.mult_e4 NOT BETWEEN 1 AND 1000000
				  OR s.pf NOT BETWEEN 1 AND 5 OR s.element NOT BETWEEN 0 AND 3) THEN
		RETURN 'load point (current, power factor, element) missing or out of range';
	END IF;
	IF s.kind IN (6, 7) AND (s.percent_e4 NOT BETWEEN 1 AND 2000000 OR s.burden_pct_e4 NOT BETWEEN 1 AND 2000000) THEN
		RETURN 'percent of rated and burden percent must be in (0, 200]';
	END IF;
	-- reading counts: never fewer than the lab's rule (0 = the rule itself)
	need := CASE s.kind WHEN 3 THEN ml_setting_e4('basic.readings') WHEN 5 THEN ml_setting_e4('clock.readings')
			    WHEN 6 THEN ml_setting_e4('xfmr.readings') WHEN 7 THEN ml_setting_e4('xfmr.readings') END;
	IF need IS NOT NULL AND s.readings > 0 AND s.readings < need THEN
		RETURN format('readings=%s is fewer than the %s readings the rule requires (setting %s, domain.md %s)',
			      s.readings, need, CASE s.kind WHEN 3 THEN 'basic.readings' WHEN 5 THEN 'clock.readings'
			      ELSE 'xfmr.readings' END, CASE s.kind WHEN 3 THEN '§1.11' WHEN 5 THEN '§1.9' ELSE '§2' END);
	END IF;
	IF s.kind = 3 AND s.limit_e4 > 0 THEN
		FOREACH cls IN ARRAY coalesce(classes, meter_classes) LOOP
			FOREACH conn IN ARRAY CASE WHEN coalesce(p_connection, '') = '' THEN ARRAY['direct', 'transformer']
						   ELSE ARRAY[p_connection] END LOOP
				lim := ml_reg_meter_limit(cls, conn, s.point_base, s.mult_e4, s.pf, s.element);
				CONTINUE WHEN lim IS NULL;
				compared := compared + 1;
				IF s.limit_e4 > lim THEN
					RETURN format('limit=%s%% is wider than the regulation limit ±%s%% of class %s (%s) at this point (JJG 596-2012 §1.4, domain.md §1.4/§1.5)',
						      trim_scale(s.limit_e4 / 10000.0), trim_scale(lim / 10000.0), cls, conn);
				END IF;
			END LOOP;
		END LOOP;
		IF compared = 0 THEN
			RETURN format('limit=%s%% cannot be compared with the regulation: no class the scheme suits has a limit at this point (declare classes= and connection=)',
				      trim_scale(s.limit_e4 / 10000.0));
		END IF;
	END IF;
	IF s.kind IN (6, 7) AND s.limit_e4 > 0 THEN
		xfmr_classes := ARRAY(SELECT DISTINCT class FROM reg_xfmr_limit WHERE kind = ml_step_kind_name(s.kind));
		FOREACH cls IN ARRAY coalesce(classes, xfmr_classes) LOOP
			SELECT * INTO xl FROM ml_reg_xfmr_limit(ml_step_kind_name(s.kind), cls, s.percent_e4);
			CONTINUE WHEN xl.ratio_e4 IS NULL;
			compared := compared + 1;
			IF s.limit_e4 > xl.ratio_e4 THEN
				RETURN format('limit=%s%% is wider than the regulation ratio-error limit ±%s%% of class %s at %s%% of rated (IEC 61869, domain.md §2)',
					      trim_scale(s.limit_e4 / 10000.0), trim_scale(xl.ratio_e4 / 10000.0), cls,
					      trim_scale(s.percent_e4 / 10000.0));
			END IF;
		END LOOP;
		IF compared = 0 THEN
			RETURN format('limit=%s%% cannot be compared with the regulation: no class the scheme suits has a limit at %s%% of rated',
				      trim_scale(s.limit_e4 / 10000.0), trim_scale(s.percent_e4 / 10000.0));
		END IF;
	END IF;
	IF s.kind = 5 AND s.limit_e4 > ml_setting_e4('clock.limit') THEN
		RETURN format('limit=%s s/d is wider than the daily clock error limit ±%s s/d (setting clock.limit, domain.md §1.9)',
			      trim_scale(s.limit_e4 / 10000.0), trim_scale(ml_setting_e4('clock.limit') / 10000.0));
	END IF;
	IF s.kind = 4 THEN
		IF s.limit_e4 > 0 THEN
			FOREACH cls IN ARRAY coalesce(classes, meter_classes) LOOP
				CONTINUE WHEN ml_meter_class_index(cls) IS NULL;
				IF s.limit_e4 > ml_meter_class_index(cls) THEN
					RETURN format('limit=%s%% is wider than the class index %s%% of class %s (constant test, domain.md §1.8)',
						      trim_scale(s.limit_e4 / 10000.0), trim_scale(ml_meter_class_index(cls) / 10000.0), cls);
				END IF;
			END LOOP;
		END IF;
		IF s.energy_wh_e4 > 0 AND s.energy_wh_e4 < ml_setting_e4('constant.energy_wh') THEN
			RETURN format('energy=%s Wh is less than the %s Wh the constant test must register (setting constant.energy_wh, domain.md §1.8)',
				      trim_scale(s.energy_wh_e4 / 10000.0), trim_scale(ml_setting_e4('constant.energy_wh') / 10000.0));
		END IF;
		IF s.duration_ms > 0 THEN
			RETURN 'duration= would cut the constant test short of its energy: set energy= (domain.md §1.8)';
		END IF;
	END IF;
	-- creep and start durations depend on the model's constant and rating:
	-- checked when a run is created (ml_run_create, 0113)
	RETURN NULL;
END
$$;

-- Save a new version of a scheme: checked step by step against the
-- regulation (refused naming the step and the rule), stored INACTIVE: new
-- runs keep using the active version until a person with scheme.activate
-- activates this one. Needs scheme.edit. Returns the version.
CREATE FUNCTION ml_scheme_save(p_code text, p_name text, p_kinds text, p_classes text, p_connection text,
			       p_steps ml_scheme_step_in[]) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('scheme.edit');
	actor_login text := (SELECT login FROM app_user WHERE user_id = actor);
	sid bigint;
	ver int;
	i int;
	problem text;
BEGIN
	PERFORM ml_check_code('scheme code', p_code, '^[A-Za-z0-9._-]{1,32}$');
	p_name := ml_clean_text('scheme name', p_name, 128);
	IF coalesce(p_kinds, '') !~ '^([a-z0-9_]+(,[a-z0-9_]+)*)?$' OR length(coalesce(p_kinds, '')) > 63
	   OR coalesce(p_classes, '') !~ '^([0-9A-Za-z.]+(,[0-9A-Za-z.]+)*)?$' OR length(coalesce(p_classes, '')) > 63 THEN
		RAISE EXCEPTION 'scheme %: kinds % / classes % are not comma lists', p_code, quote_literal(p_kinds),
			quote_literal(p_classes) USING ERRCODE = '22023';
	END IF;
	IF coalesce(cardinality(p_steps), 0) NOT BETWEEN 1 AND 256 THEN
		RAISE EXCEPTION 'scheme % has % steps (1..256)', p_code, coalesce(cardinality(p_steps), 0) USING ERRCODE = '22023';
	END IF;
	FOR i IN 1 .. cardinality(p_steps) LOOP
		problem := ml_scheme_step_problem(p_kinds, p_classes, p_connection, p_steps[i]);
		IF problem IS NOT NULL THEN
			RAISE EXCEPTION 'scheme % step % (%): %', p_code, i, coalesce(ml_step_kind_name(p_steps[i].kind), '?'), problem
				USING ERRCODE = '22023';
		END IF;
	END LOOP;
	-- serialise savers of one code: version = max + 1 must not race
	PERFORM pg_advisory_xact_lock(hashtext('meterlab.scheme'), hashtext(p_code));
	INSERT INTO scheme (code, version, name, kinds, classes, connection, created_by, created_by_id)
	SELECT p_code, coalesce(max(version), 0) + 1, p_name, coalesce(p_kinds, ''), coalesce(p_classes, ''),
	       coalesce(p_connection, ''), actor_login, actor
	FROM scheme WHERE code = p_code
	RETURNING scheme_id, version INTO sid, ver;
	INSERT INTO scheme_step (scheme_id, seq, kind, point_base, mult_e4, pf, element, readings, pulses,
				 settle_timeout_ms, percent_e4, burden_pct_e4, limit_e4, duration_ms, energy_wh_e4)
	SELECT sid, o::int, s.kind, CASE WHEN s.kind IN (3, 4) THEN s.point_base END,
	       CASE WHEN s.kind IN (3, 4) THEN s.mult_e4 ELSE 0 END, CASE WHEN s.kind IN (3, 4) THEN s.pf END,
	       CASE WHEN s.kind IN (3, 4) THEN s.element ELSE 0 END, s.readings, s.pulses, s.settle_timeout_ms,
	       s.percent_e4, s.burden_pct_e4, s.limit_e4, s.duration_ms, s.energy_wh_e4
	FROM unnest(p_steps) WITH ORDINALITY AS s(kind, point_base, mult_e4, pf, element, readings, pulses,
						   settle_timeout_ms, percent_e4, burden_pct_e4, limit_e4, duration_ms,
						   energy_wh_e4, o);
	RETURN ver;
END
$$;

-- Make a version the one new runs use (p_version NULL: the latest). Needs scheme.activate.
CREATE FUNCTION ml_scheme_activate(p_code text, p_version int DEFAULT NULL) RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('scheme.activate');
	s scheme;
BEGIN
	SELECT * INTO s FROM scheme WHERE code = p_code AND (p_version IS NULL OR version = p_version)
	ORDER BY version DESC LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'scheme % version % not found', p_code, coalesce(p_version::text, '(latest)') USING ERRCODE = 'P0002';
	END IF;
	IF ml_scheme_active(p_code) = s.scheme_id THEN
		RAISE EXCEPTION 'scheme % version % is already the active one', p_code, s.version USING ERRCODE = '55000';
	END IF;
	UPDATE scheme SET retired_at = NULL WHERE code = p_code AND retired_at IS NOT NULL;
	INSERT INTO scheme_activation (code, scheme_id, action, by_id) VALUES (p_code, s.scheme_id, 'activate', actor);
	RETURN s.version;
END
$$;

-- Retire a code: no version of it is used by new runs (versions are kept). Needs scheme.activate.
CREATE FUNCTION ml_scheme_retire(p_code text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('scheme.activate');
BEGIN
	IF NOT EXISTS (SELECT 1 FROM scheme WHERE code = p_code AND retired_at IS NULL) THEN
		RAISE EXCEPTION 'scheme % not found (or already retired)', p_code USING ERRCODE = 'P0002';
	END IF;
	UPDATE scheme SET retired_at = now() WHERE code = p_code AND retired_at IS NULL;
	INSERT INTO scheme_activation (code, scheme_id, action, by_id) VALUES (p_code, NULL, 'retire', actor);
END
$$;

-- ---- reference standards, their certificates, benches ----

ALTER TABLE reference_standard ADD COLUMN created_by bigint REFERENCES app_user (user_id);
ALTER TABLE standard_certificate ADD COLUMN created_by bigint REFERENCES app_user (user_id);
ALTER TABLE lab_bench ADD COLUMN created_by bigint REFERENCES app_user (user_id);
CREATE TRIGGER standard_certificate_no_truncate BEFORE TRUNCATE ON standard_certificate
	FOR EACH STATEMENT EXECUTE FUNCTION lab_refuse_change();

CREATE FUNCTION ml_check_date(p_what text, p_value text) RETURNS date
	LANGUAGE plpgsql IMMUTABLE SET search_path = public, pg_temp AS $$
BEGIN
	IF NOT coalesce(ml_date_ok(p_value), false) THEN
		RAISE EXCEPTION '% % is not a whole calendar date YYYY-MM-DD', p_what, coalesce(quote_literal(left(p_value, 40)), 'NULL')
			USING ERRCODE = '22023';
	END IF;
	RETURN p_value::date;
END
$$;

-- Add a calibration certificate of a standard (history: never edited).
CREATE FUNCTION ml_standard_certify(p_code text, p_cert_no text, p_issuer text, p_valid_from text, p_valid_until text)
	RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('standard.edit');
	sid bigint;
	vf date := ml_check_date('certificate ' || coalesce(p_cert_no, '') || ': valid-from', p_valid_from);
	vu date := ml_check_date('certificate ' || coalesce(p_cert_no, '') || ': valid-until', p_valid_until);
	id bigint;
BEGIN
	SELECT standard_id INTO sid FROM reference_standard WHERE code = p_code;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no reference standard ''%''', p_code USING ERRCODE = 'P0002';
	END IF;
	p_cert_no := ml_clean_text('certificate number', p_cert_no, 80);
	p_issuer := ml_clean_text('certificate ' || p_cert_no || ': issuer', p_issuer, 200);
	IF vu < vf THEN
		RAISE EXCEPTION 'certificate ''%'': valid-until % is before valid-from %', p_cert_no, vu, vf USING ERRCODE = '22023';
	END IF;
	INSERT INTO standard_certificate (standard_id, cert_no, issuer, valid_from, valid_until, created_by)
	VALUES (sid, p_cert_no, p_issuer, vf, vu, actor) RETURNING cert_id INTO id;
	RETURN id;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'standard ''%'' already has certificate ''%''', p_code, p_cert_no USING ERRCODE = '23505';
END
$$;

-- Register a standard with its first certificate, in one transaction.
CREATE FUNCTION ml_standard_add(p_code text, p_name text, p_class text, p_range text, p_cert_no text,
				p_issuer text, p_valid_from text, p_valid_until text) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('standard.edit');
	id bigint;
BEGIN
	PERFORM ml_check_code('standard code', p_code, '^[A-Za-z0-9._-]{1,40}$');
	IF p_class IS NULL OR p_class !~ '^[0-9]+(\.[0-9]+)?S?$' THEN
		RAISE EXCEPTION 'reference standard ''%'': accuracy class % is not like 0.05, 0.1 or 0.2S', p_code,
			coalesce(quote_literal(p_class), 'NULL') USING ERRCODE = '22023';
	END IF;
	BEGIN
		INSERT INTO reference_standard (code, name, accuracy_class, range_text, created_by)
		VALUES (p_code, ml_clean_text('standard name', p_name, 200), p_class,
			coalesce(ml_clean_text('range', nullif(p_range, ''), 200, false), ''), actor)
		RETURNING standard_id INTO id;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'reference standard ''%'' already exists', p_code USING ERRCODE = '23505';
	END;
	PERFORM ml_standard_certify(p_code, p_cert_no, p_issuer, p_valid_from, p_valid_until);
	RETURN id;
END
$$;

CREATE FUNCTION ml_bench_add(p_code text, p_name text, p_uri text, p_kind text, p_positions int, p_standards text[])
	RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('standard.edit');
	id bigint;
	missing text;
BEGIN
	PERFORM ml_check_code('bench code', p_code, '^[A-Za-z0-9._-]{1,40}$');
	p_name := ml_clean_text('bench name', p_name, 200);
	IF p_uri IS NULL OR NOT (p_uri = 'manual' OR p_uri ~ '^tcp://[A-Za-z0-9.:\[\]-]{1,255}$'
				 OR p_uri ~ '^rtu:/[A-Za-z0-9/_.-]{1,200}(\?[A-Za-z0-9=&_.-]{0,90})?$') THEN
		RAISE EXCEPTION 'bench %: URI % is not tcp://HOST:PORT, rtu:/dev/…?baud=…, or manual', p_code,
			coalesce(quote_literal(left(p_uri, 100)), 'NULL') USING ERRCODE = '22023';
	END IF;
	IF p_kind IS NULL OR p_kind NOT IN ('meter-1p', 'meter-3p', 'transformer') THEN
		RAISE EXCEPTION 'bench ''%'': kind ''%'' is not meter-1p, meter-3p or transformer', p_code, p_kind
			USING ERRCODE = '22023';
	END IF;
	IF p_positions IS NULL OR p_positions NOT BETWEEN 1 AND 96 THEN
		RAISE EXCEPTION 'bench ''%'': % positions is outside 1..96', p_code, p_positions USING ERRCODE = '22023';
	END IF;
	IF coalesce(cardinality(p_standards), 0) NOT BETWEEN 1 AND 8 THEN
		RAISE EXCEPTION 'bench ''%'' must name 1..8 reference standards (got %)', p_code,
			coalesce(cardinality(p_standards), 0) USING ERRCODE = '22023';
	END IF;
	IF (SELECT count(DISTINCT x) FROM unnest(p_standards) x) <> cardinality(p_standards) THEN
		RAISE EXCEPTION 'bench ''%'': a reference standard is listed twice', p_code USING ERRCODE = '22023';
	END IF;
	SELECT x INTO missing FROM unnest(p_standards) x WHERE NOT EXISTS (SELECT 1 FROM reference_standard s WHERE s.code = x)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'no reference standard ''%''', missing USING ERRCODE = 'P0002';
	END IF;
	BEGIN
		INSERT INTO lab_bench (code, name, uri, kind, positions, created_by)
		VALUES (p_code, p_name, p_uri, p_kind, p_positions, actor) RETURNING bench_id INTO id;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'bench ''%'' already exists', p_code USING ERRCODE = '23505';
	END;
	INSERT INTO lab_bench_standard (bench_id, standard_id)
	SELECT id, s.standard_id FROM reference_standard s WHERE s.code = ANY (p_standards);
	RETURN id;
END
$$;

-- ---- what people may do now ----

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON lab_setting, lab_setting_log, scheme, scheme_step, reference_standard,
	standard_certificate, lab_bench, lab_bench_standard FROM meterlab_app;
REVOKE ALL ON lab_setting_def, reg_meter_band, reg_meter_special, reg_letter_limit, reg_xfmr_limit, scheme_activation
	FROM PUBLIC;
GRANT SELECT ON lab_setting_def, reg_meter_band, reg_meter_special, reg_letter_limit, reg_xfmr_limit, scheme_activation
	TO meterlab_app;
GRANT EXECUTE ON FUNCTION ml_setting(text), ml_setting_e4(text), ml_setting_check(text, text),
	ml_setting_set(text, text, text), ml_scheme_active(text),
	ml_scheme_save(text, text, text, text, text, ml_scheme_step_in[]), ml_scheme_activate(text, int),
	ml_scheme_retire(text), ml_standard_certify(text, text, text, text, text),
	ml_standard_add(text, text, text, text, text, text, text, text),
	ml_bench_add(text, text, text, text, int, text[]) TO meterlab_app;
