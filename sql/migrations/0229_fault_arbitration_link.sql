-- 0229: an arbitration verification (仲裁检定) is linked to the complaint that
-- asked for it by columns, not by "same asset, later date" (issue 11: "the
-- lab verifies the meter and issues a certificate or result notice through
-- the existing runner and certificate workflow, linked to the complaint").
-- The fault report of kind 'arbitration' (it carries the customer's complaint
-- reference) gets the verification run that answered it and the certificate
-- or result notice issued from that run for that meter. Only
-- ml_fault_arbitration_link sets them, checking each rule below; the links
-- are never changed once set (a revision of the certificate is found from it
-- through revises_id, a withdrawal through cert_withdrawal).

ALTER TABLE fault_report
	ADD COLUMN arbitration_run_id bigint REFERENCES verification_run (run_id),
	ADD COLUMN arbitration_cert_id bigint,
	ADD COLUMN arbitration_linked_by bigint REFERENCES app_user (user_id),
	ADD COLUMN arbitration_linked_at timestamptz,
	ADD CONSTRAINT fault_report_arbitration_cert FOREIGN KEY (asset_id, arbitration_cert_id)
		REFERENCES certificate (asset_id, id),
	ADD CONSTRAINT fault_report_arbitration_kind
		CHECK (kind = 'arbitration' OR (arbitration_run_id IS NULL AND arbitration_cert_id IS NULL)),
	ADD CONSTRAINT fault_report_arbitration_order
		CHECK (arbitration_cert_id IS NULL OR arbitration_run_id IS NOT NULL),
	ADD CONSTRAINT fault_report_arbitration_who
		CHECK ((arbitration_run_id IS NULL) = (arbitration_linked_by IS NULL));
CREATE INDEX fault_report_arbitration_run ON fault_report (arbitration_run_id) WHERE arbitration_run_id IS NOT NULL;
CREATE INDEX fault_report_arbitration_cert ON fault_report (arbitration_cert_id) WHERE arbitration_cert_id IS NOT NULL;

-- Link the run (and, once issued, the certificate or result notice) that
-- answered an arbitration request. Permission fault.analyse (lab technician,
-- quality analyst). Rules, each refused naming the value:
--   the fault report exists and is an arbitration (has a complaint);
--   the run verified this fault's meter (a position of the run) and was
--   created after the fault was reported, and was not abandoned;
--   a run already linked is never replaced by another;
--   the certificate is of this run and this meter, issued (a draft or a
--   checked one answers nobody) and not withdrawn; never replaced either.
-- Calling again with the same run (to add the certificate) is allowed.
CREATE FUNCTION ml_fault_arbitration_link(p_fault bigint, p_run bigint, p_cert bigint DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('fault.analyse');
	f fault_report;
	r verification_run;
	c certificate;
	bc text;
BEGIN
	SELECT * INTO f FROM fault_report WHERE fault_id = p_fault FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no fault report %', coalesce(p_fault::text, 'NULL') USING ERRCODE = 'P0002';
	END IF;
	SELECT barcode INTO bc FROM asset WHERE asset_id = f.asset_id;
	IF f.kind <> 'arbitration' THEN
		RAISE EXCEPTION 'fault report % (asset %) is a fault analysis, not an arbitration: it names no customer complaint',
			p_fault, bc USING ERRCODE = '55000';
	END IF;
	SELECT * INTO r FROM verification_run WHERE run_id = p_run;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no verification run %', coalesce(p_run::text, 'NULL') USING ERRCODE = 'P0002';
	END IF;
	IF f.arbitration_run_id IS NOT NULL AND f.arbitration_run_id <> p_run THEN
		RAISE EXCEPTION 'fault report % (complaint %) is already answered by run %, not %', p_fault,
			f.complaint_ref, f.arbitration_run_id, p_run USING ERRCODE = '55000';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM run_position WHERE run_id = p_run AND asset_id = f.asset_id) THEN
		RAISE EXCEPTION 'run % did not verify asset % of fault report % (complaint %)', p_run, bc, p_fault,
			f.complaint_ref USING ERRCODE = '22023';
	END IF;
	IF r.created_at < f.reported_at THEN
		RAISE EXCEPTION 'run % was created on % before fault report % (complaint %) of % was made: it cannot answer it',
			p_run, to_char(r.created_at, 'YYYY-MM-DD HH24:MI'), p_fault, f.complaint_ref,
			to_char(f.reported_at, 'YYYY-MM-DD HH24:MI') USING ERRCODE = '22023';
	END IF;
	IF r.status = 'aborted' THEN
		RAISE EXCEPTION 'run % was abandoned: it answers no complaint', p_run USING ERRCODE = '55000';
	END IF;
	IF p_cert IS NOT NULL THEN
		SELECT * INTO c FROM certificate WHERE id = p_cert;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'no certificate %', p_cert USING ERRCODE = 'P0002';
		END IF;
		IF f.arbitration_cert_id IS NOT NULL AND f.arbitration_cert_id <> p_cert THEN
			RAISE EXCEPTION 'fault report % (complaint %) is already answered by certificate %, not %', p_fault,
				f.complaint_ref, f.arbitration_cert_id, p_cert USING ERRCODE = '55000';
		END IF;
		IF c.asset_id <> f.asset_id OR c.run_id IS DISTINCT FROM p_run THEN
			RAISE EXCEPTION 'certificate % is for asset % from run %, not for asset % from run %', p_cert,
				c.barcode, coalesce(c.run_id::text, 'none'), bc, p_run USING ERRCODE = '22023';
		END IF;
		IF c.state <> 'issued' THEN
			RAISE EXCEPTION 'certificate % is a % %: only an issued one answers a complaint', p_cert, c.state,
				CASE c.kind WHEN 1 THEN 'certificate' ELSE 'result notice' END USING ERRCODE = '55000';
		END IF;
		IF EXISTS (SELECT 1 FROM cert_withdrawal w WHERE w.asset_id = c.asset_id AND w.cert_id = c.id) THEN
			RAISE EXCEPTION 'certificate % (%) was withdrawn: it answers no complaint', p_cert, c.cert_no
				USING ERRCODE = '55000';
		END IF;
	END IF;
	UPDATE fault_report SET arbitration_run_id = p_run,
		arbitration_cert_id = coalesce(p_cert, arbitration_cert_id),
		arbitration_linked_by = coalesce(arbitration_linked_by, actor),
		arbitration_linked_at = coalesce(arbitration_linked_at, now())
	WHERE fault_id = p_fault;
END
$$;

-- The arbitration a certificate answered (NULL when none): for `cert show`.
CREATE FUNCTION ml_cert_arbitration(p_cert bigint) RETURNS TABLE (fault_id bigint, complaint text, reported_at timestamptz)
	LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
	SELECT f.fault_id, f.complaint_ref, f.reported_at FROM fault_report f
	WHERE f.arbitration_cert_id = p_cert
$$;

REVOKE ALL ON FUNCTION ml_fault_arbitration_link(bigint, bigint, bigint), ml_cert_arbitration(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ml_fault_arbitration_link(bigint, bigint, bigint), ml_cert_arbitration(bigint)
	TO meterlab_app;
