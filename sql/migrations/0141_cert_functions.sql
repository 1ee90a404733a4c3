-- 0141: certificates are written only through functions that check the
-- rules (issue 8, part B). Who signs is the authenticated user.
--
-- 《计量检定印、证管理办法》 and JJF 1069-2012: the verifier 检定员, the
-- checker 核验员 and the approver 批准人 sign a certificate; they are three
-- different people, and only an approver approves (ISO/IEC 17025:2017
-- 7.8.2.1 (o): the person authorising the report is identified). Users are
-- compared by id (two people may share a name); the certificate prints their
-- display names, frozen into the record when each of them signs.
--
--   ml_cert_draft(run, issuer)   cert.draft    verifier = the caller; the
--                                              content is built here from a
--                                              finished run whose results
--                                              cover every step of its scheme
--   ml_cert_check(ids)           cert.check    checker = the caller
--   ml_cert_issue_begin(ids)     cert.approve  numbers, codes, the issue date
--   ml_cert_issue_pdf(id, pdf)   cert.approve  the rendered bytes (reports/)
--   ml_cert_issue_finish()       cert.approve  issued: approver = the caller
--   ml_cert_revise(id, reason, set) cert.revise  a corrected draft
--   ml_cert_withdraw(id, reason) cert.withdraw
--   ml_cert_discard(id, reason)  the draft's verifier, or an approver
--   ml_cert_backdate(id, date, reason) record.backdate (admin)
--
-- The application role keeps SELECT only (the revokes at the end).

-- ---- the verification key: readable by no login ----

CREATE TABLE issuer_key (
	issuer_id text PRIMARY KEY REFERENCES issuer (id),
	verify_key text NOT NULL CHECK (length(verify_key) >= 32)
);
INSERT INTO issuer_key (issuer_id, verify_key) SELECT id, verify_key FROM issuer;
ALTER TABLE issuer DROP COLUMN verify_key;

-- A new issuing body gets a random key of its own (the DBA adds issuers).
CREATE FUNCTION issuer_key_create() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	INSERT INTO issuer_key (issuer_id, verify_key) VALUES (NEW.id, encode(gen_random_bytes(32), 'hex'));
	RETURN NULL;
END
$$;
CREATE TRIGGER issuer_key_create AFTER INSERT ON issuer FOR EACH ROW EXECUTE FUNCTION issuer_key_create();

-- The printed verification code (reports/cert_verify.h): the first 40 bits
-- of HMAC-SHA256(key, "<number>|<revision>|<barcode>") in Crockford base32,
-- "XXXX-XXXX". Internal: executable by no login.
CREATE FUNCTION ml_cert_code(p_issuer text, p_no text, p_rev int, p_barcode text) RETURNS text
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	k text;
	bits bigint;
	a text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
	o text := '';
BEGIN
	SELECT verify_key INTO k FROM issuer_key WHERE issuer_id = p_issuer;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'issuer % has no verification key', p_issuer USING ERRCODE = '55000';
	END IF;
	bits := ('x' || encode(substring(hmac(convert_to(p_no || '|' || p_rev || '|' || p_barcode, 'UTF8'),
					      convert_to(k, 'UTF8'), 'sha256') FROM 1 FOR 5), 'hex'))::bit(40)::bigint;
	FOR i IN 0..7 LOOP
		IF i = 4 THEN
			o := o || '-';
		END IF;
		o := o || substr(a, ((bits >> (35 - 5 * i)) & 31)::int + 1, 1);
	END LOOP;
	RETURN o;
END
$$;

-- ---- signers are users ----

ALTER TABLE certificate
	ADD COLUMN verifier_id bigint REFERENCES app_user (user_id),
	ADD COLUMN checker_id bigint REFERENCES app_user (user_id),
	ADD COLUMN approver_id bigint REFERENCES app_user (user_id);
-- verifier / checker / approver now hold the display names frozen at signing.
-- Names are not people: the three-person rule compares ids.
ALTER TABLE certificate DROP CONSTRAINT certificate_check, DROP CONSTRAINT certificate_check1;
ALTER TABLE certificate
	ADD CONSTRAINT certificate_three_people CHECK (
		(checker_id IS NULL OR checker_id <> verifier_id)
		AND (approver_id IS NULL OR (approver_id <> verifier_id AND approver_id <> checker_id))),
	-- rows from before 0141 carry names only (NOT VALID: checked for new rows)
	ADD CONSTRAINT certificate_signer_ids CHECK (
		verifier_id IS NOT NULL AND (state = 'draft' OR checker_id IS NOT NULL)
		AND (state <> 'issued' OR approver_id IS NOT NULL)) NOT VALID;

CREATE OR REPLACE FUNCTION certificate_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		IF OLD.state = 'issued' THEN
			RAISE EXCEPTION 'certificate % is issued and cannot be deleted', OLD.cert_no
				USING ERRCODE = 'integrity_constraint_violation';
		END IF;
		RETURN OLD;
	END IF;
	IF OLD.state = 'issued' THEN
		RAISE EXCEPTION 'certificate % revision % is issued and cannot be changed; issue a revision',
			OLD.cert_no, OLD.revision USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	IF NEW.content IS DISTINCT FROM OLD.content OR NEW.verifier IS DISTINCT FROM OLD.verifier
	   OR NEW.verifier_id IS DISTINCT FROM OLD.verifier_id
	   OR NEW.asset_id <> OLD.asset_id OR NEW.kind <> OLD.kind OR NEW.barcode <> OLD.barcode
	   OR NEW.run_id IS DISTINCT FROM OLD.run_id OR NEW.issuer_id <> OLD.issuer_id
	   OR NEW.revision <> OLD.revision OR NEW.revises_id IS DISTINCT FROM OLD.revises_id THEN
		RAISE EXCEPTION 'certificate draft %: content and signatures already given cannot change', OLD.id
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	IF OLD.checker_id IS NOT NULL AND (NEW.checker_id IS DISTINCT FROM OLD.checker_id
					    OR NEW.checker IS DISTINCT FROM OLD.checker) THEN
		RAISE EXCEPTION 'certificate draft %: already checked by %', OLD.id, OLD.checker
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION certificate_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.state <> 'draft' OR NEW.cert_no IS NOT NULL OR NEW.checker IS NOT NULL OR NEW.approver IS NOT NULL
	   OR NEW.checker_id IS NOT NULL OR NEW.approver_id IS NOT NULL THEN
		RAISE EXCEPTION 'a certificate is created as a draft (got state %, number %)', NEW.state, NEW.cert_no
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NEW;
END
$$;

ALTER TABLE cert_supersession ADD COLUMN revised_by_id bigint REFERENCES app_user (user_id);
ALTER TABLE cert_withdrawal ADD COLUMN withdrawn_by_id bigint REFERENCES app_user (user_id);
ALTER TABLE cert_discard_log
	ADD COLUMN verifier_id bigint,
	ADD COLUMN checker_id bigint,
	ADD COLUMN discarded_by_id bigint REFERENCES app_user (user_id);

-- ---- numbers: unique across everything an issuer issues ----

-- A number is registered once, for one asset (certificate's own unique keys
-- hold asset_id, the distribution column; this is the lookup table that
-- holds the number alone, like asset_barcode would on Citus). Revisions keep
-- the number: the foreign key below ties every certificate carrying a number
-- to the asset it was registered for.
CREATE TABLE cert_number (
	issuer_id text NOT NULL REFERENCES issuer (id),
	cert_no text NOT NULL,
	asset_id bigint NOT NULL,
	year int NOT NULL,
	serial int NOT NULL CHECK (serial >= 1),
	registered_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (issuer_id, cert_no),
	UNIQUE (issuer_id, cert_no, asset_id),
	UNIQUE (issuer_id, year, serial)
);
INSERT INTO cert_number (issuer_id, cert_no, asset_id, year, serial)
SELECT issuer_id, cert_no, asset_id, issue_year, serial FROM certificate WHERE revision = 0 AND cert_no IS NOT NULL;
ALTER TABLE certificate ADD CONSTRAINT certificate_number_registered
	FOREIGN KEY (issuer_id, cert_no, asset_id) REFERENCES cert_number (issuer_id, cert_no, asset_id);
CREATE TRIGGER cert_number_append_only BEFORE UPDATE OR DELETE ON cert_number
	FOR EACH ROW EXECUTE FUNCTION cert_append_only();
CREATE TRIGGER cert_number_no_truncate BEFORE TRUNCATE ON cert_number
	FOR EACH STATEMENT EXECUTE FUNCTION cert_append_only();

-- "<prefix><year>-<serial>", at least six digits (JL2026-000123); never cut.
CREATE FUNCTION ml_cert_number(p_prefix text, p_year int, p_serial int) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT
	RETURN p_prefix || p_year || '-' || lpad(p_serial::text, greatest(6, length(p_serial::text)), '0');

-- ---- back-dating: an explicit administrator action, shown on the record ----

CREATE TABLE cert_backdate (
	asset_id bigint NOT NULL,
	cert_id bigint NOT NULL PRIMARY KEY,
	issued_on date NOT NULL,
	reason text NOT NULL CHECK (ml_text_ok(reason, 500)),
	by_id bigint NOT NULL REFERENCES app_user (user_id),
	by_name text NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER cert_backdate_append_only BEFORE UPDATE OR DELETE ON cert_backdate
	FOR EACH ROW EXECUTE FUNCTION cert_append_only();
CREATE TRIGGER cert_backdate_no_truncate BEFORE TRUNCATE ON cert_backdate
	FOR EACH STATEMENT EXECUTE FUNCTION cert_append_only();

-- ---- issuing in progress (one transaction) ----

-- ml_cert_issue_begin allocates and records here what the PDF must carry;
-- ml_cert_issue_pdf accepts bytes only for a row of the caller's own
-- transaction; ml_cert_issue_finish marks the certificates issued and
-- empties it. A transaction that began an issue and did not finish it
-- cannot commit (the deferred trigger), so numbers stay gap-free.
CREATE TABLE cert_issuing (
	cert_id bigint PRIMARY KEY,
	asset_id bigint NOT NULL,
	txid bigint NOT NULL,
	approver_id bigint NOT NULL,
	approver text NOT NULL,
	issuer_id text NOT NULL,
	revision int NOT NULL,
	cert_no text NOT NULL,
	year int NOT NULL,
	serial int NOT NULL,
	issued_on date NOT NULL,
	supersedes text,
	verify_code text,
	qr text,
	doc jsonb,
	pdf_sha256 text
);
CREATE FUNCTION cert_issuing_finished() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM cert_issuing WHERE cert_id = NEW.cert_id) THEN
		RAISE EXCEPTION 'certificate %: issuing was begun but not finished in this transaction', NEW.cert_id
			USING ERRCODE = '55000';
	END IF;
	RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER cert_issuing_finished AFTER INSERT ON cert_issuing
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cert_issuing_finished();

-- ---- content from a run ----

-- Default of a lab setting a certificate prints (lab_setting_def, 0112,
-- kept equal to lab/settings.c by tests/lab).
CREATE FUNCTION ml_cert_setting_default(p_key text) RETURNS text
	LANGUAGE sql STABLE
	RETURN (SELECT default_value FROM lab_setting_def WHERE key = p_key);

-- Why the certificates of run p_run cannot be drafted or issued, or NULL.
-- Issuing needs a finished run whose results cover every item of its scheme
-- (JJG 596-2012 §1.2, JJG 313/314: a certificate states every verification
-- item): the scheme version the run names, every step of it completed, for
-- every concluded asset a result of every step and a conclusion of every
-- item, an overall 合格 only when every item passed, valid until exactly the
-- rule (the model's verification period from the verification date, §1.12).
CREATE FUNCTION ml_cert_run_problem(p_run bigint) RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
	r verification_run;
	n int;
	bad record;
BEGIN
	SELECT * INTO r FROM verification_run WHERE run_id = p_run;
	IF NOT FOUND THEN
		RETURN format('run %s not found', p_run);
	END IF;
	IF r.status <> 'finished' THEN
		RETURN format('run %s is %s, not finished: certificates come from finished runs only', p_run, r.status);
	END IF;
	SELECT count(*) INTO n FROM scheme s JOIN scheme_step st USING (scheme_id)
	WHERE s.code = r.scheme_code AND s.version = r.scheme_version;
	IF n = 0 THEN
		RETURN format('run %s names scheme %s version %s, which does not exist: no certificate without the scheme it followed',
			      p_run, r.scheme_code, r.scheme_version);
	END IF;
	IF n <> r.steps_total THEN
		RETURN format('run %s records %s steps, its scheme %s version %s has %s', p_run, r.steps_total,
			      r.scheme_code, r.scheme_version, n);
	END IF;
	SELECT st.seq, (ARRAY['creep', 'start', 'basic', 'constant', 'clock', 'ct', 'vt'])[st.kind] AS kind INTO bad
	FROM scheme s JOIN scheme_step st USING (scheme_id)
	WHERE s.code = r.scheme_code AND s.version = r.scheme_version
	  AND NOT EXISTS (SELECT 1 FROM run_step x WHERE x.run_id = p_run AND x.step_no = st.seq - 1
			  AND x.kind = (ARRAY['creep', 'start', 'basic', 'constant', 'clock', 'ct', 'vt'])[st.kind])
	ORDER BY st.seq LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s has no completed step %s (%s) of scheme %s version %s', p_run, bad.seq, bad.kind,
			      r.scheme_code, r.scheme_version);
	END IF;
	SELECT p.position, p.barcode, x.step_no, x.kind INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	JOIN run_step x ON x.run_id = p.run_id
	WHERE p.run_id = p_run AND NOT EXISTS (SELECT 1 FROM run_step_result s WHERE s.run_id = p_run
					      AND s.asset_id = p.asset_id AND s.step_no = x.step_no)
	ORDER BY p.position, x.step_no LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) has a conclusion but no result of step %s (%s)', p_run,
			      bad.barcode, bad.position, bad.step_no + 1, bad.kind);
	END IF;
	SELECT p.position, p.barcode, i.item INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	CROSS JOIN (SELECT DISTINCT unnest(CASE WHEN x.kind IN ('ct', 'vt') THEN ARRAY['ratio', 'phase'] ELSE ARRAY[x.kind] END)
		    AS item FROM run_step x WHERE x.run_id = p_run) i
	WHERE p.run_id = p_run AND NOT EXISTS (SELECT 1 FROM run_conclusion c WHERE c.run_id = p_run
					      AND c.asset_id = p.asset_id AND c.item = i.item)
	ORDER BY p.position, i.item LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) has no conclusion of item %s', p_run, bad.barcode,
			      bad.position, bad.item);
	END IF;
	SELECT p.position, p.barcode, c.item INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	JOIN run_conclusion c ON c.run_id = p.run_id AND c.asset_id = p.asset_id AND c.item <> 'overall'
	WHERE p.run_id = p_run AND o.verdict = 'pass' AND c.verdict <> 'pass'
	ORDER BY p.position LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) is concluded 合格 although item %s failed', p_run,
			      bad.barcode, bad.position, bad.item);
	END IF;
	SELECT p.position, p.barcode, o.valid_until,
	       ((r.run_date + make_interval(months => m.verification_period_months))::date - 1) AS rule INTO bad
	FROM run_position p JOIN run_conclusion o ON o.run_id = p.run_id AND o.asset_id = p.asset_id AND o.item = 'overall'
	JOIN device_model m ON m.model_id = r.model_id
	WHERE p.run_id = p_run AND o.verdict = 'pass'
	  AND o.valid_until IS DISTINCT FROM (r.run_date + make_interval(months => m.verification_period_months))::date - 1
	ORDER BY p.position LIMIT 1;
	IF FOUND THEN
		RETURN format('run %s: asset %s (position %s) is concluded valid until %s; the rule gives %s', p_run,
			      bad.barcode, bad.position, coalesce(bad.valid_until::text, 'no date'), bad.rule);
	END IF;
	RETURN NULL;
END
$$;

-- The content (JSON of reports/cert_doc.h, content fields) of every
-- concluded asset of a run, in position order: a certificate (检定证书)
-- for 合格, a result notice (检定结果通知书) listing the failed items for 不合格
-- (JJF 1069-2012, domain.md §6.1). Numbers are the judged ×10⁴ integers
-- formatted by cert_fmt_e4 (0041), never re-rounded; the runner's notes are
-- printed in Chinese wording (cert_note_text, 0045); creep and starting
-- limits as they were when the run started (cert_setting_at, 0046). The
-- verifier is added by ml_cert_draft.
CREATE FUNCTION ml_cert_run_docs(p_run bigint) RETURNS TABLE (asset_id bigint, pos int, content jsonb)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
WITH r AS (
	SELECT r.run_id, to_char(r.run_date, 'YYYY-MM-DD') AS run_date, b.name AS place,
	       r.ambient_temp_c::text || ' ℃' AS temperature, r.ambient_rh_pct::text || ' %RH' AS humidity,
	       m.code AS model, m.name AS instrument, m.kind, coalesce(m.accuracy_class || '级', '') AS accuracy_class,
	       mf.name AS manufacturer,
	       CASE WHEN m.kind IN ('meter_1p', 'meter_3p') THEN
		 concat_ws(' ', trim_scale(m.un_v) || 'V', trim_scale(m.ib_a) || '(' || trim_scale(m.imax_a) || ')A',
		   m.constant_imp || 'imp/kWh', CASE m.connection WHEN 'direct' THEN '直接接入' ELSE '经互感器接入' END)
	       WHEN m.kind = 'ct' THEN concat_ws(' ', trim_scale(m.ct_primary_a) || '/' || trim_scale(m.ct_secondary_a) || 'A',
		   trim_scale(m.rated_burden_va) || 'VA')
	       WHEN m.kind = 'vt' THEN concat_ws(' ', trim_scale(m.vt_primary_v) || '/' || trim_scale(m.vt_secondary_v) || 'V',
		   trim_scale(m.rated_burden_va) || 'VA') ELSE '' END AS spec,
	       (SELECT default_client FROM issuer WHERE is_default) AS client,
	       coalesce(r.started_at, r.created_at) AS t
	FROM verification_run r JOIN lab_bench b ON b.bench_id = r.bench_id
	JOIN device_model m ON m.model_id = r.model_id JOIN manufacturer mf ON mf.manufacturer_id = m.manufacturer_id
	WHERE r.run_id = p_run),
std AS (
	SELECT coalesce(jsonb_agg(jsonb_build_object('name', rs.name, 'range', rs.range_text,
			'accuracy', rs.accuracy_class || '级', 'cert_no', sc.cert_no,
			'valid_until', to_char(sc.valid_until, 'YYYY-MM-DD')) ORDER BY rs.standard_id), '[]') AS j
	FROM verification_run r JOIN lab_bench_standard bs ON bs.bench_id = r.bench_id
	JOIN reference_standard rs ON rs.standard_id = bs.standard_id
	LEFT JOIN LATERAL (SELECT c.cert_no, c.valid_until FROM standard_certificate c WHERE c.standard_id = rs.standard_id
	  AND c.valid_from <= r.run_date AND c.valid_until >= r.run_date ORDER BY c.valid_until DESC LIMIT 1) sc ON true
	WHERE r.run_id = p_run),
lim AS (
	SELECT cert_setting_at('creep.max_pulses', r.t, ml_cert_setting_default('creep.max_pulses')) AS creep,
	       cert_setting_at('start.min_pulses', r.t, ml_cert_setting_default('start.min_pulses')) AS start
	FROM r),
d AS (
	SELECT s.asset_id, CASE WHEN s.kind IN ('ct', 'vt') THEN 'xfmr' ELSE s.kind END AS kind,
	  string_agg(DISTINCT nullif(cert_note_text(s.note), ''), '；') AS notes,
	  string_agg(CASE s.kind
	    WHEN 'creep' THEN s.pulses || ' 个脉冲（限值 ≤' || lim.creep || '）'
	    WHEN 'start' THEN s.pulses || ' 个脉冲（限值 ≥' || lim.start || '）'
	    WHEN 'clock' THEN cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)) || ' s/d'
	    WHEN 'constant' THEN CASE WHEN s.pulses = 0 THEN '无脉冲输出'
	      ELSE '误差 γ=' || cert_fmt_e4(s.gamma_e4, 2) || '%' END END, '；' ORDER BY s.step_no) AS measured
	FROM run_step_result s, lim WHERE s.run_id = p_run GROUP BY 1, 2),
it AS (
	SELECT c.asset_id, jsonb_agg(jsonb_build_object(
		'name', CASE c.item WHEN 'creep' THEN '潜动试验' WHEN 'start' THEN '起动试验' WHEN 'basic' THEN '基本误差'
			WHEN 'constant' THEN '仪表常数试验' WHEN 'clock' THEN '日计时误差' WHEN 'ratio' THEN '比值差'
			WHEN 'phase' THEN '相位差' ELSE c.item END,
		'conclusion', CASE c.verdict WHEN 'pass' THEN '合格' WHEN 'fail' THEN '不合格' END,
		'detail', coalesce(d.notes, d.measured))
	  ORDER BY array_position(ARRAY['creep', 'start', 'basic', 'constant', 'clock', 'ratio', 'phase'], c.item)) AS j
	FROM run_conclusion c LEFT JOIN d ON d.asset_id = c.asset_id
	  AND d.kind = CASE WHEN c.item IN ('ratio', 'phase') THEN 'xfmr' ELSE c.item END
	WHERE c.run_id = p_run AND c.item <> 'overall' GROUP BY c.asset_id),
rd AS (
	SELECT x.asset_id, x.step_no, string_agg(cert_fmt_e4(x.value_e4, 4), ' | ' ORDER BY x.reading_no) AS readings
	FROM run_reading x WHERE x.run_id = p_run GROUP BY x.asset_id, x.step_no),
er AS (
	SELECT s.asset_id, jsonb_agg(jsonb_build_object(
		'load', split_part(s.label, ' cosφ=', 1),
		'current', (SELECT trim_scale(coalesce(nullif(mm[1], '')::numeric, 1) * CASE mm[2] WHEN 'Ib' THEN m.ib_a
				WHEN 'Imax' THEN m.imax_a END) || ' A'
			    FROM regexp_match(split_part(s.label, ' cosφ=', 1), '^([0-9.]*)(Ib|Imax)$') mm),
		'pf', split_part(split_part(s.label, ' cosφ=', 2), ' ', 1),
		'element', cert_element_text(split_part(split_part(s.label, ' cosφ=', 2), ' ', 2)),
		'readings', rd.readings,
		'mean', cert_fmt_e4(s.mean_e4, 4),
		'rounded', cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)),
		'limit', '±' || round(s.limit_e4::numeric / 10000, cert_e4_places(s.interval_e4)),
		'verdict', CASE s.verdict WHEN 'pass' THEN '合格' WHEN 'fail' THEN '不合格' END)
	  ORDER BY s.step_no) AS j
	FROM run_step_result s JOIN verification_run v ON v.run_id = s.run_id
	JOIN device_model m ON m.model_id = v.model_id
	LEFT JOIN rd ON rd.asset_id = s.asset_id AND rd.step_no = s.step_no
	WHERE s.run_id = p_run AND s.kind = 'basic' GROUP BY s.asset_id),
xf AS (
	SELECT s.asset_id, jsonb_agg(jsonb_build_object(
		'percent', split_part(s.label, ' ', 2),
		'burden', coalesce((SELECT trim_scale(bb[1]::numeric * m.rated_burden_va / 100) || ' VA'
				    FROM regexp_match(split_part(s.label, ' ', 3), '^([0-9.]+)%VA$') bb),
				   split_part(s.label, ' ', 3)),
		'ratio_error', cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)),
		'phase', cert_fmt_e4(s.rounded2_e4, cert_e4_places(coalesce(s.interval2_e4, 10000))),
		'ratio_limit', '±' || round(s.limit_e4::numeric / 10000, cert_e4_places(s.interval_e4)),
		'phase_limit', '±' || round(s.limit2_e4::numeric / 10000, cert_e4_places(coalesce(s.interval2_e4, 10000))),
		'verdict', CASE WHEN s.verdict = 'fail' OR s.verdict2 = 'fail' THEN '不合格'
				WHEN s.verdict = 'pass' THEN '合格' END)
	  ORDER BY s.step_no) AS j
	FROM run_step_result s JOIN verification_run v ON v.run_id = s.run_id
	JOIN device_model m ON m.model_id = v.model_id
	WHERE s.run_id = p_run AND s.kind IN ('ct', 'vt') GROUP BY s.asset_id)
SELECT p.asset_id, p.position,
       jsonb_strip_nulls(jsonb_build_object(
	'kind', CASE WHEN o.verdict = 'pass' THEN 1 ELSE 2 END,
	'record_no', 'R' || p_run || '-' || lpad(p.position::text, 2, '0'),
	'client', r.client, 'instrument', r.instrument, 'model', r.model, 'spec', r.spec,
	'barcode', p.barcode::text, 'manufacturer', r.manufacturer,
	'regulation', CASE r.kind WHEN 'ct' THEN 'JJG 313-2010 测量用电流互感器'
			WHEN 'vt' THEN 'JJG 314-2010 测量用电压互感器' ELSE 'JJG 596-2012 电子式交流电能表' END,
	'accuracy_class', r.accuracy_class,
	'conclusion', CASE WHEN o.verdict = 'pass' THEN '合格' ELSE '不合格' END,
	'verified_on', r.run_date,
	'valid_until', CASE WHEN o.verdict = 'pass' THEN to_char(o.valid_until, 'YYYY-MM-DD') END,
	'place', r.place, 'temperature', r.temperature, 'humidity', r.humidity,
	'standards', std.j, 'items', coalesce(it.j, '[]'), 'errors', coalesce(er.j, '[]'),
	'xfmr', coalesce(xf.j, '[]')))
FROM run_position p
JOIN run_conclusion o ON o.asset_id = p.asset_id AND o.run_id = p.run_id AND o.item = 'overall'
CROSS JOIN r CROSS JOIN std
LEFT JOIN it ON it.asset_id = p.asset_id LEFT JOIN er ON er.asset_id = p.asset_id LEFT JOIN xf ON xf.asset_id = p.asset_id
WHERE p.run_id = p_run
ORDER BY p.position
$$;

-- ---- small shared checks ----

-- The acting user's display name (the name a certificate prints).
CREATE FUNCTION ml_user_name(p_user bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
	RETURN (SELECT display_name FROM app_user WHERE user_id = p_user);

CREATE FUNCTION ml_cert_reason(p_what text, p_reason text, p_max int DEFAULT 250) RETURNS text
	LANGUAGE plpgsql IMMUTABLE SET search_path = public, pg_temp AS $$
BEGIN
	IF p_reason IS NULL OR NOT ml_text_ok(normalize(p_reason, NFC), p_max) THEN
		RAISE EXCEPTION '% needs a reason of 1 to % characters, without control or invisible characters or edge spaces (got %)',
			p_what, p_max, coalesce(quote_literal(left(p_reason, 80)), 'none') USING ERRCODE = '22023';
	END IF;
	RETURN normalize(p_reason, NFC);
END
$$;

-- A whole calendar date written YYYY-MM-DD (no time, no trailing text, no 2026-02-30).
CREATE FUNCTION ml_cert_date(p_what text, p_value text) RETURNS date
	LANGUAGE plpgsql IMMUTABLE SET search_path = public, pg_temp AS $$
DECLARE
	d date;
BEGIN
	IF p_value IS NOT NULL AND p_value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
		BEGIN
			d := make_date(substr(p_value, 1, 4)::int, substr(p_value, 6, 2)::int, substr(p_value, 9, 2)::int);
		EXCEPTION WHEN others THEN
			d := NULL;
		END;
	END IF;
	IF d IS NULL THEN
		RAISE EXCEPTION '% % is not a date (YYYY-MM-DD)', p_what, coalesce(quote_literal(left(p_value, 40)), 'NULL')
			USING ERRCODE = '22007';
	END IF;
	RETURN d;
END
$$;

-- Lock certificate p_id for the rest of the transaction (P0002 when none).
CREATE FUNCTION ml_cert_lock(p_id bigint) RETURNS certificate
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	c certificate;
BEGIN
	SELECT * INTO c FROM certificate WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'certificate % not found', p_id USING ERRCODE = 'P0002';
	END IF;
	RETURN c;
END
$$;

-- An issued certificate that is still current (not superseded, not
-- withdrawn; for a revision also: no revision pending), or 55000 naming why not.
CREATE FUNCTION ml_cert_require_current(c certificate, p_what text, p_no_pending boolean) RETURNS void
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	x record;
BEGIN
	IF c.state <> 'issued' THEN
		RAISE EXCEPTION 'certificate % is a % (not issued): it cannot be %', c.id, c.state, p_what
			USING ERRCODE = '55000',
			      HINT = 'a draft is corrected by discarding it and drafting again, and is simply not approved';
	END IF;
	SELECT new_id INTO x FROM cert_supersession WHERE asset_id = c.asset_id AND old_id = c.id;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate % (% revision %) is superseded by certificate %: only the current revision can be %',
			c.id, c.cert_no, c.revision, x.new_id, p_what USING ERRCODE = '55000';
	END IF;
	SELECT withdrawn_at, withdrawn_by INTO x FROM cert_withdrawal WHERE asset_id = c.asset_id AND cert_id = c.id;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate % (%) was withdrawn on % by %: it cannot be %', c.id, c.cert_no,
			to_char(x.withdrawn_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), x.withdrawn_by, p_what
			USING ERRCODE = '55000';
	END IF;
	SELECT id INTO x FROM certificate WHERE asset_id = c.asset_id AND revises_id = c.id;
	IF FOUND AND p_no_pending THEN
		RAISE EXCEPTION 'certificate % already has a pending revision (draft %): it cannot be %', c.id, x.id, p_what
			USING ERRCODE = '55000', HINT = 'issue or discard the pending revision first';
	END IF;
END
$$;

-- Today in China Standard Time: the zone of the printed dates and of the
-- PDF CreationDate (reports/cert_render.c), whatever the server's zone.
CREATE FUNCTION ml_cert_today() RETURNS date
	LANGUAGE sql STABLE RETURN (now() AT TIME ZONE 'Asia/Shanghai')::date;

-- ---- draft (verifier) ----

CREATE FUNCTION ml_cert_draft(p_run bigint, p_issuer text DEFAULT NULL)
	RETURNS TABLE (cert_id bigint, created boolean)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.draft');
	who text := ml_user_name(uid);
	iss text;
	problem text;
	new_ids bigint[];
BEGIN
	PERFORM 1 FROM verification_run WHERE run_id = p_run FOR SHARE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run % not found', p_run USING ERRCODE = 'P0002';
	END IF;
	problem := ml_cert_run_problem(p_run);
	IF problem IS NOT NULL THEN
		RAISE EXCEPTION '%', problem USING ERRCODE = '55000';
	END IF;
	SELECT id INTO iss FROM issuer WHERE id = coalesce(p_issuer, (SELECT id FROM issuer WHERE is_default));
	IF NOT FOUND THEN
		RAISE EXCEPTION 'issuing body % not found', coalesce(p_issuer, '(default)') USING ERRCODE = 'P0002';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM run_conclusion WHERE run_id = p_run AND item = 'overall') THEN
		RAISE EXCEPTION 'run % has no concluded assets: nothing to certify', p_run USING ERRCODE = '55000';
	END IF;
	WITH ins AS (
		INSERT INTO certificate (asset_id, run_id, issuer_id, kind, barcode, content, verifier, verifier_id)
		SELECT d.asset_id, p_run, iss, (d.content ->> 'kind')::smallint, d.content ->> 'barcode',
		       d.content || jsonb_build_object('verifier', who), who, uid
		FROM ml_cert_run_docs(p_run) d
		WHERE NOT EXISTS (SELECT 1 FROM certificate c WHERE c.asset_id = d.asset_id AND c.run_id = p_run
				  AND c.revision = 0)
		ON CONFLICT (asset_id, run_id) WHERE revision = 0 AND run_id IS NOT NULL DO NOTHING
		RETURNING id)
	SELECT coalesce(array_agg(id), '{}') INTO new_ids FROM ins;
	RETURN QUERY
		SELECT c.id, c.id = ANY (new_ids) FROM certificate c
		JOIN run_position p ON p.asset_id = c.asset_id AND p.run_id = c.run_id
		WHERE c.run_id = p_run AND c.revision = 0 ORDER BY p.position;
END
$$;

-- ---- check (checker) ----

CREATE FUNCTION ml_cert_check(p_ids bigint[]) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.check');
	who text := ml_user_name(uid);
	bad record;
	n bigint;
BEGIN
	IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
		RAISE EXCEPTION 'no certificates to check' USING ERRCODE = '22023';
	END IF;
	PERFORM 1 FROM certificate WHERE id = ANY (p_ids) ORDER BY id FOR UPDATE; -- id order: no deadlock
	SELECT x INTO bad FROM unnest(p_ids) x WHERE NOT EXISTS (SELECT 1 FROM certificate c WHERE c.id = x) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate % not found', bad.x USING ERRCODE = 'P0002';
	END IF;
	SELECT c.id, c.state, c.checker INTO bad FROM certificate c
	WHERE c.id = ANY (p_ids) AND c.state <> 'draft' ORDER BY c.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate % is % (checked by %), not a draft: it cannot be checked again', bad.id,
			bad.state, bad.checker USING ERRCODE = '55000';
	END IF;
	SELECT c.id INTO bad FROM certificate c WHERE c.id = ANY (p_ids) AND c.verifier_id = uid ORDER BY c.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate %: % drafted it as verifier and cannot also check it; the verifier, checker and approver must be three different people',
			bad.id, who USING ERRCODE = '55000';
	END IF;
	UPDATE certificate SET state = 'checked', checker_id = uid, checker = who, checked_at = now()
	WHERE id = ANY (p_ids) AND state = 'draft';
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- ---- approve and issue (approver) ----

CREATE FUNCTION ml_cert_issue_begin(p_ids bigint[]) RETURNS TABLE (cert_id bigint, doc jsonb)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.approve');
	who text := ml_user_name(uid);
	today date := ml_cert_today();
	yr int := extract(year FROM ml_cert_today())::int;
	tx bigint := txid_current();
	bad record;
	r record;
	problem text;
	first_serial int;
BEGIN
	IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
		RAISE EXCEPTION 'no certificates to approve' USING ERRCODE = '22023';
	END IF;
	IF EXISTS (SELECT 1 FROM cert_issuing g WHERE g.txid = tx) THEN
		RAISE EXCEPTION 'an issue is already in progress in this transaction' USING ERRCODE = '55000';
	END IF;
	PERFORM 1 FROM certificate c WHERE c.id = ANY (p_ids) ORDER BY c.id FOR UPDATE;
	SELECT x INTO bad FROM unnest(p_ids) x WHERE NOT EXISTS (SELECT 1 FROM certificate c WHERE c.id = x) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate % not found', bad.x USING ERRCODE = 'P0002';
	END IF;
	SELECT c.id, c.state, c.cert_no, c.revision INTO bad FROM certificate c
	WHERE c.id = ANY (p_ids) AND c.state <> 'checked' ORDER BY c.id LIMIT 1;
	IF FOUND THEN
		IF bad.state = 'draft' THEN
			RAISE EXCEPTION 'certificate % is a draft: it must be checked before it is approved', bad.id
				USING ERRCODE = '55000';
		END IF;
		RAISE EXCEPTION 'certificate % is already issued as % revision %', bad.id, bad.cert_no, bad.revision
			USING ERRCODE = '55000';
	END IF;
	SELECT c.id, CASE WHEN c.verifier_id = uid THEN 'verifier' ELSE 'checker' END AS role INTO bad
	FROM certificate c WHERE c.id = ANY (p_ids) AND (c.verifier_id = uid OR c.checker_id = uid) ORDER BY c.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate %: % already signed it as % and cannot also approve it; the verifier, checker and approver must be three different people',
			bad.id, who, bad.role USING ERRCODE = '55000';
	END IF;
	-- A revision corrects a certificate that is still issued and current.
	FOR r IN SELECT c.id, c.revises_id FROM certificate c WHERE c.id = ANY (p_ids) AND c.revises_id IS NOT NULL
		 ORDER BY c.id LOOP
		PERFORM 1 FROM certificate o WHERE o.id = r.revises_id FOR UPDATE;
		IF EXISTS (SELECT 1 FROM cert_supersession s WHERE s.old_id = r.revises_id) THEN
			RAISE EXCEPTION 'certificate % revises %, which is already superseded', r.id, r.revises_id
				USING ERRCODE = '55000';
		ELSIF EXISTS (SELECT 1 FROM cert_withdrawal w WHERE w.cert_id = r.revises_id) THEN
			RAISE EXCEPTION 'certificate % revises %, which is withdrawn', r.id, r.revises_id USING ERRCODE = '55000';
		ELSIF NOT EXISTS (SELECT 1 FROM certificate o WHERE o.id = r.revises_id AND o.state = 'issued') THEN
			RAISE EXCEPTION 'certificate % revises %, which is not issued', r.id, r.revises_id USING ERRCODE = '55000';
		END IF;
	END LOOP;
	-- Originals come from runs that are (still) complete.
	FOR r IN SELECT DISTINCT c.run_id FROM certificate c WHERE c.id = ANY (p_ids) AND c.revision = 0 LOOP
		problem := CASE WHEN r.run_id IS NULL THEN 'certificate made from no run' ELSE ml_cert_run_problem(r.run_id) END;
		IF problem IS NOT NULL THEN
			RAISE EXCEPTION 'cannot issue: %', problem USING ERRCODE = '55000';
		END IF;
	END LOOP;

	-- Originals: the next numbers of their issuer in this year, in id order.
	FOR r IN SELECT c.issuer_id, count(*)::int AS n FROM certificate c WHERE c.id = ANY (p_ids) AND c.revision = 0
		 GROUP BY c.issuer_id ORDER BY c.issuer_id LOOP
		INSERT INTO cert_counter (issuer_id, year) VALUES (r.issuer_id, yr) ON CONFLICT DO NOTHING;
		UPDATE cert_counter k SET last_serial = k.last_serial + r.n WHERE k.issuer_id = r.issuer_id AND k.year = yr
		RETURNING k.last_serial - r.n + 1 INTO first_serial;
		INSERT INTO cert_issuing (cert_id, asset_id, txid, approver_id, approver, issuer_id, revision, cert_no, year,
					  serial, issued_on)
		SELECT c.id, c.asset_id, tx, uid, who, c.issuer_id, 0, ml_cert_number(i.number_prefix, yr, first_serial + c.rn - 1),
		       yr, first_serial + c.rn - 1, coalesce(b.issued_on, today)
		FROM (SELECT x.*, row_number() OVER (ORDER BY x.id)::int AS rn FROM certificate x
		      WHERE x.id = ANY (p_ids) AND x.revision = 0 AND x.issuer_id = r.issuer_id) c
		JOIN issuer i ON i.id = c.issuer_id LEFT JOIN cert_backdate b ON b.cert_id = c.id;
	END LOOP;
	-- Revisions keep the number of the certificate they correct.
	INSERT INTO cert_issuing (cert_id, asset_id, txid, approver_id, approver, issuer_id, revision, cert_no, year, serial,
				  issued_on, supersedes)
	SELECT c.id, c.asset_id, tx, uid, who, c.issuer_id, c.revision, o.cert_no, o.issue_year, o.serial,
	       coalesce(b.issued_on, today),
	       CASE WHEN o.revision = 0 THEN o.cert_no || '（原证书）' ELSE o.cert_no || ' 第' || o.revision || '版' END
	FROM certificate c JOIN certificate o ON o.id = c.revises_id LEFT JOIN cert_backdate b ON b.cert_id = c.id
	WHERE c.id = ANY (p_ids) AND c.revision > 0;
	-- A number is registered once per issuer, for one asset.
	INSERT INTO cert_number (issuer_id, cert_no, asset_id, year, serial)
	SELECT g.issuer_id, g.cert_no, g.asset_id, g.year, g.serial FROM cert_issuing g WHERE g.txid = tx AND g.revision = 0;

	SELECT g.cert_id, g.issued_on, c.content ->> 'verified_on' AS v INTO bad
	FROM cert_issuing g JOIN certificate c ON c.id = g.cert_id
	WHERE g.txid = tx AND g.issued_on < (c.content ->> 'verified_on')::date LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate %: issue date % is before the verification date %', bad.cert_id, bad.issued_on, bad.v
			USING ERRCODE = '55000';
	END IF;

	UPDATE cert_issuing g SET verify_code = ml_cert_code(g.issuer_id, g.cert_no, g.revision, c.barcode)
	FROM certificate c WHERE c.id = g.cert_id AND g.txid = tx;
	UPDATE cert_issuing g SET qr = 'MLCERT1;NO=' || g.cert_no || ';REV=' || g.revision || ';BC=' || c.barcode
				  || ';VC=' || g.verify_code
	FROM certificate c WHERE c.id = g.cert_id AND g.txid = tx;
	-- What is rendered: the frozen content, the workflow fields, the signers'
	-- names as frozen when each signed, the issuing body as it is now.
	UPDATE cert_issuing g SET doc = jsonb_strip_nulls(
		(CASE WHEN c.kind = 2 THEN c.content - 'valid_until' ELSE c.content END) || jsonb_build_object(
		'kind', c.kind, 'cert_no', g.cert_no, 'revision', g.revision, 'supersedes', g.supersedes,
		'issuer_name', i.name, 'issuer_authorization_no', i.authorization_no, 'issuer_address', i.address,
		'issuer_postcode', i.postcode, 'issuer_phone', i.phone, 'issuer_fax', i.fax, 'issuer_email', i.email,
		'verifier', c.verifier, 'checker', c.checker, 'approver', g.approver,
		'issued_on', to_char(g.issued_on, 'YYYY-MM-DD'), 'verify_code', g.verify_code, 'qr_payload', g.qr))
	FROM certificate c JOIN issuer i ON i.id = c.issuer_id WHERE c.id = g.cert_id AND g.txid = tx;
	RETURN QUERY SELECT g.cert_id, g.doc FROM cert_issuing g WHERE g.txid = tx ORDER BY g.cert_id;
END
$$;

-- The rendered PDF of a certificate being issued in the caller's own
-- transaction. The bytes must carry exactly what was allocated for it: the
-- document title is the number, the document keywords the QR payload
-- (number, revision, barcode, verification code), and no other claim.
CREATE FUNCTION ml_cert_issue_pdf(p_id bigint, p_pdf bytea) RETURNS text
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.approve');
	g cert_issuing;
	sha text;
	p int;
BEGIN
	SELECT * INTO g FROM cert_issuing WHERE cert_id = p_id AND txid = txid_current() AND approver_id = uid;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'certificate % is not being issued by you in this transaction: no PDF can be stored for it',
			p_id USING ERRCODE = '55000', HINT = 'ml_cert_issue_begin allocates the number first';
	END IF;
	IF g.pdf_sha256 IS NOT NULL THEN
		RAISE EXCEPTION 'certificate %: its PDF is already stored', p_id USING ERRCODE = '55000';
	END IF;
	IF p_pdf IS NULL OR length(p_pdf) < 200 OR length(p_pdf) > 16777216
	   OR substring(p_pdf FROM 1 FOR 5) <> '\x255044462d'::bytea -- %PDF-
	   OR position('\x2525454f46'::bytea IN substring(p_pdf FROM greatest(1, length(p_pdf) - 1023))) = 0 THEN -- %%EOF
		RAISE EXCEPTION 'certificate %: the bytes are not a PDF document of at most 16 MiB', g.cert_no
			USING ERRCODE = '22023';
	END IF;
	p := position(convert_to('MLCERT1;', 'UTF8') IN p_pdf);
	IF position(convert_to('/Keywords (' || g.qr || ')', 'UTF8') IN p_pdf) = 0
	   OR position(convert_to('/Title (' || g.cert_no || ')', 'UTF8') IN p_pdf) = 0 THEN
		RAISE EXCEPTION 'certificate %: the PDF does not carry the number, revision, barcode and verification code allocated for it (%)',
			g.cert_no, g.qr USING ERRCODE = '22023';
	END IF;
	IF position(convert_to('MLCERT1;', 'UTF8') IN substring(p_pdf FROM p + 8)) > 0 THEN
		RAISE EXCEPTION 'certificate %: the PDF carries more than one certificate claim', g.cert_no
			USING ERRCODE = '22023';
	END IF;
	sha := encode(sha256(p_pdf), 'hex');
	INSERT INTO cert_pdf (asset_id, cert_id, pdf, sha256) VALUES (g.asset_id, g.cert_id, p_pdf, sha);
	UPDATE cert_issuing SET pdf_sha256 = sha WHERE cert_id = p_id;
	RETURN sha;
END
$$;

-- Mark everything begun in this transaction issued (one statement: one
-- block of the certificate chain), record supersessions, and keep each
-- asset's validity equal to its current certificate.
CREATE FUNCTION ml_cert_issue_finish() RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.approve');
	tx bigint := txid_current();
	bad record;
	n bigint;
	changes ml_asset_change[];
BEGIN
	IF NOT EXISTS (SELECT 1 FROM cert_issuing WHERE txid = tx AND approver_id = uid) THEN
		RAISE EXCEPTION 'nothing is being issued by you in this transaction' USING ERRCODE = '55000';
	END IF;
	SELECT cert_id, cert_no INTO bad FROM cert_issuing WHERE txid = tx AND approver_id = uid AND pdf_sha256 IS NULL
	ORDER BY cert_id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'certificate % (%): no PDF was stored for it', bad.cert_id, bad.cert_no USING ERRCODE = '55000';
	END IF;
	UPDATE certificate c SET state = 'issued', approver_id = uid, approver = g.approver, approved_at = now(),
		cert_no = g.cert_no, issue_year = g.year, serial = g.serial, issued_on = g.issued_on,
		verify_code = g.verify_code
	FROM cert_issuing g WHERE g.cert_id = c.id AND g.txid = tx AND g.approver_id = uid AND c.state = 'checked';
	GET DIAGNOSTICS n = ROW_COUNT;
	INSERT INTO cert_supersession (asset_id, old_id, new_id, reason, revised_by, revised_by_id)
	SELECT c.asset_id, c.revises_id, c.id, c.revise_reason, g.approver, uid
	FROM cert_issuing g JOIN certificate c ON c.id = g.cert_id WHERE g.txid = tx AND c.revision > 0;

	-- An asset's validity came from the certificate now corrected: it
	-- follows the correction (one history event, by the approver).
	SELECT array_agg(ROW(a.asset_id, a.state, a.state, 'cert_revise', NULL, true, (c.content ->> 'valid_until')::date,
			     format('certificate %s revision %s: %s', c.cert_no, c.revision, c.revise_reason),
			     jsonb_build_object('cert_id', c.id, 'cert_no', c.cert_no, 'revision', c.revision,
						'valid_until_before', a.valid_until))::ml_asset_change ORDER BY a.asset_id)
	INTO changes
	FROM (SELECT DISTINCT ON (c.asset_id) c.* FROM cert_issuing g JOIN certificate c ON c.id = g.cert_id
	      WHERE g.txid = tx AND c.revision > 0 AND c.kind = 1 ORDER BY c.asset_id, c.id DESC) c
	JOIN certificate o ON o.id = c.revises_id
	JOIN asset a ON a.asset_id = c.asset_id
	WHERE (c.content ->> 'valid_until') IS DISTINCT FROM (o.content ->> 'valid_until')
	  AND a.valid_until IS NOT DISTINCT FROM (o.content ->> 'valid_until')::date;
	IF changes IS NOT NULL THEN
		PERFORM ml_asset_apply(uid, changes);
	END IF;
	DELETE FROM cert_issuing WHERE txid = tx AND approver_id = uid;
	RETURN n;
END
$$;

-- ---- revise ----

CREATE FUNCTION ml_cert_revise(p_id bigint, p_reason text, p_set jsonb DEFAULT '{}') RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.revise');
	reason text := ml_cert_reason('a revision', p_reason);
	o certificate := ml_cert_lock(p_id);
	f record;
	v text;
	ov jsonb := '{}';
	t numeric;
	v_run_date date;
	verified date;
	v_until date;
	v_rule date;
	period int;
	nid bigint;
BEGIN
	PERFORM ml_cert_require_current(o, 'revised', true);
	IF p_set IS NULL OR jsonb_typeof(p_set) <> 'object' THEN
		RAISE EXCEPTION 'the corrections of a revision are a JSON object FIELD: "VALUE"' USING ERRCODE = '22023';
	END IF;
	SELECT v2.run_date INTO v_run_date FROM verification_run v2 WHERE v2.run_id = o.run_id;
	SELECT m.verification_period_months INTO period FROM asset a JOIN device_model m ON m.model_id = a.model_id
	WHERE a.asset_id = o.asset_id;
	verified := (o.content ->> 'verified_on')::date;
	FOR f IN SELECT key, value FROM jsonb_each(p_set) ORDER BY key LOOP
		IF jsonb_typeof(f.value) <> 'string' THEN
			RAISE EXCEPTION 'revision field %: the value must be text', f.key USING ERRCODE = '22023';
		END IF;
		v := f.value #>> '{}';
		CASE f.key
		WHEN 'client', 'place', 'record_no', 'model', 'spec', 'manufacturer', 'instrument' THEN
			IF NOT ml_text_ok(normalize(v, NFC), 128) THEN
				RAISE EXCEPTION 'revision field % = %: 1–128 characters, no control or invisible characters, no leading or trailing space',
					f.key, quote_literal(left(v, 80)) USING ERRCODE = '22023';
			END IF;
			ov := ov || jsonb_build_object(f.key, normalize(v, NFC));
		WHEN 'temperature' THEN
			-- as the run records it (0033): −20..60 ℃, one decimal; nothing is rounded
			IF v !~ '^-?[0-9]{1,3}(\.[0-9])?( ?℃)?$' THEN
				RAISE EXCEPTION 'temperature % is not a temperature in ℃ with at most one decimal (e.g. 21.5)',
					quote_literal(left(v, 40)) USING ERRCODE = '22023';
			END IF;
			t := substring(v FROM '^-?[0-9]+(?:\.[0-9])?')::numeric;
			IF t < -20 OR t > 60 THEN
				RAISE EXCEPTION 'temperature % ℃ cannot be the temperature of a verification (−20 to 60 ℃)', t
					USING ERRCODE = '22023';
			END IF;
			ov := ov || jsonb_build_object(f.key, t::numeric(4, 1)::text || ' ℃');
		WHEN 'humidity' THEN
			IF v !~ '^[0-9]{1,3}(\.[0-9])?( ?%RH)?$' THEN
				RAISE EXCEPTION 'humidity % is not a relative humidity in %%RH with at most one decimal (e.g. 53)',
					quote_literal(left(v, 40)) USING ERRCODE = '22023';
			END IF;
			t := substring(v FROM '^[0-9]+(?:\.[0-9])?')::numeric;
			IF t > 100 THEN
				RAISE EXCEPTION 'humidity % %%RH cannot be (0 to 100 %%RH)', t USING ERRCODE = '22023';
			END IF;
			ov := ov || jsonb_build_object(f.key, t::numeric(4, 1)::text || ' %RH');
		WHEN 'verified_on' THEN
			verified := ml_cert_date('verification date', v);
			IF v_run_date IS NOT NULL AND verified <> v_run_date THEN
				RAISE EXCEPTION 'verification date % is not the date of run % (%): a certificate states the day its verification was done',
					verified, o.run_id, v_run_date USING ERRCODE = '22023';
			END IF;
			ov := ov || jsonb_build_object(f.key, to_char(verified, 'YYYY-MM-DD'));
		WHEN 'valid_until' THEN
			IF o.kind <> 1 THEN
				RAISE EXCEPTION 'certificate % is a result notice (不合格): it has no validity to correct', o.id
					USING ERRCODE = '22023';
			END IF;
			v_until := ml_cert_date('valid until', v);
			ov := ov || jsonb_build_object(f.key, to_char(v_until, 'YYYY-MM-DD'));
		ELSE
			RAISE EXCEPTION 'field % cannot be corrected by a revision (allowed: client, place, temperature, humidity, record_no, model, spec, manufacturer, instrument, verified_on, valid_until)',
				quote_literal(left(f.key, 40)) USING ERRCODE = '22023';
		END CASE;
	END LOOP;
	-- Validity: after the verification, at most the model's verification
	-- period from it (the rule the run applied, domain.md §1.12).
	IF v_until IS NOT NULL THEN
		v_rule := (verified + make_interval(months => period))::date - 1;
		IF v_until <= verified OR v_until > v_rule THEN
			RAISE EXCEPTION 'valid until % is outside the verification period: verified on %, the model''s period of % months ends %',
				v_until, verified, period, v_rule USING ERRCODE = '22023';
		END IF;
	END IF;
	INSERT INTO certificate (asset_id, run_id, issuer_id, kind, barcode, content, revision, revises_id, revise_reason,
				 verifier, verifier_id)
	VALUES (o.asset_id, o.run_id, o.issuer_id, o.kind, o.barcode,
		o.content || ov || jsonb_build_object('verifier', ml_user_name(uid)), o.revision + 1, o.id, reason,
		ml_user_name(uid), uid)
	RETURNING id INTO nid;
	RETURN nid;
END
$$;

-- ---- withdraw, discard, back-date ----

CREATE FUNCTION ml_cert_withdraw(p_id bigint, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.withdraw');
	reason text := ml_cert_reason('a withdrawal', p_reason);
	c certificate := ml_cert_lock(p_id);
BEGIN
	PERFORM ml_cert_require_current(c, 'withdrawn', false);
	INSERT INTO cert_withdrawal (asset_id, cert_id, reason, withdrawn_by, withdrawn_by_id)
	VALUES (c.asset_id, c.id, reason, ml_user_name(uid), uid);
END
$$;

-- A draft or checked certificate that will not be issued: by its verifier,
-- or by an approver. Copied to the append-only log, then deleted.
CREATE FUNCTION ml_cert_discard(p_id bigint, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_actor_id();
	reason text := ml_cert_reason('discarding a draft', p_reason);
	c certificate := ml_cert_lock(p_id);
BEGIN
	IF c.state = 'issued' THEN
		RAISE EXCEPTION 'certificate % is issued as %: an issued certificate is withdrawn or revised, never discarded',
			c.id, c.cert_no USING ERRCODE = '55000';
	END IF;
	IF c.verifier_id IS DISTINCT FROM uid AND NOT ml_has('cert.approve') THEN
		RAISE EXCEPTION 'user % may not discard certificate %: only its verifier (%) or an approver may',
			ml_user_name(uid), c.id, c.verifier USING ERRCODE = '42501';
	END IF;
	INSERT INTO cert_discard_log (asset_id, cert_id, run_id, barcode, revision, state, content, verifier, checker, reason,
				      discarded_by, verifier_id, checker_id, discarded_by_id)
	VALUES (c.asset_id, c.id, c.run_id, c.barcode, c.revision, c.state, c.content, c.verifier, c.checker, reason,
		ml_user_name(uid), c.verifier_id, c.checker_id, uid);
	DELETE FROM certificate WHERE id = c.id AND state <> 'issued';
END
$$;

-- Record that a certificate not yet issued is to carry an earlier issue
-- date (paper work entered late): an administrator's explicit action with a
-- reason, shown with the certificate. The date is not in the future and not
-- before the verification.
CREATE FUNCTION ml_cert_backdate(p_id bigint, p_date text, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('record.backdate');
	reason text := ml_cert_reason('back-dating', p_reason, 500);
	d date := ml_cert_date('issue date', p_date);
	c certificate := ml_cert_lock(p_id);
BEGIN
	IF c.state = 'issued' THEN
		RAISE EXCEPTION 'certificate % was issued on %: a back-dated issue date is recorded before approval',
			c.id, c.issued_on USING ERRCODE = '55000';
	END IF;
	IF EXISTS (SELECT 1 FROM cert_backdate WHERE cert_id = c.id) THEN
		RAISE EXCEPTION 'certificate % already has a back-dated issue date', c.id USING ERRCODE = '55000';
	END IF;
	IF d > ml_cert_today() THEN
		RAISE EXCEPTION 'issue date % is in the future (today is %)', d, ml_cert_today() USING ERRCODE = '22023';
	END IF;
	IF d < (c.content ->> 'verified_on')::date THEN
		RAISE EXCEPTION 'issue date % is before the verification (%)', d, c.content ->> 'verified_on'
			USING ERRCODE = '22023';
	END IF;
	INSERT INTO cert_backdate (asset_id, cert_id, issued_on, reason, by_id, by_name)
	VALUES (c.asset_id, c.id, d, reason, uid, ml_user_name(uid));
END
$$;

-- ---- tamper evidence for the certificate tables (0140) ----

SELECT ml_audit_chain_add('certificate', 'certificate', 'id', 'state', 'issued', true);
SELECT ml_audit_chain_add('cert_pdf', 'cert_pdf', 'cert_id'); -- the PDF bytes are part of the row hash
SELECT ml_audit_chain_add('cert_supersession', 'cert_supersession', 'new_id');
SELECT ml_audit_chain_add('cert_withdrawal', 'cert_withdrawal', 'cert_id');
SELECT ml_audit_chain_add('cert_discard_log', 'cert_discard_log', 'cert_id');
SELECT ml_audit_chain_add('cert_backdate', 'cert_backdate', 'cert_id');

-- ---- privileges: people read, functions write ----

REVOKE ALL ON issuer, issuer_key, cert_counter, certificate, cert_pdf, cert_supersession, cert_withdrawal,
	cert_discard_log, cert_number, cert_backdate, cert_issuing FROM meterlab_app, PUBLIC;
GRANT SELECT ON issuer, cert_counter, certificate, cert_pdf, cert_supersession, cert_withdrawal, cert_discard_log,
	cert_number, cert_backdate TO meterlab_app;
-- issuer_key and cert_issuing: no login role reads or writes them.

GRANT EXECUTE ON FUNCTION ml_cert_draft(bigint, text), ml_cert_check(bigint[]), ml_cert_issue_begin(bigint[]),
	ml_cert_issue_pdf(bigint, bytea), ml_cert_issue_finish(), ml_cert_revise(bigint, text, jsonb),
	ml_cert_withdraw(bigint, text), ml_cert_discard(bigint, text), ml_cert_backdate(bigint, text, text)
	TO meterlab_app;
