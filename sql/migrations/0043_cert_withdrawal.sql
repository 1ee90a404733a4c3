-- 0043: withdrawal (作废) of an issued certificate without a replacement,
-- e.g. issued for the wrong asset. Like a supersession it is a separate,
-- append-only record: the issued row and its PDF are never touched, and a
-- presented copy verifies as genuine but withdrawn.
CREATE TABLE cert_withdrawal (
	asset_id bigint NOT NULL,
	cert_id bigint NOT NULL,
	reason text NOT NULL CHECK (btrim(reason) <> ''),
	withdrawn_by text NOT NULL CHECK (btrim(withdrawn_by) <> ''),
	withdrawn_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (asset_id, cert_id),
	FOREIGN KEY (asset_id, cert_id) REFERENCES certificate (asset_id, id)
);

-- Only an issued certificate that is still current can be withdrawn.
CREATE FUNCTION cert_withdrawal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM certificate c WHERE c.asset_id = NEW.asset_id AND c.id = NEW.cert_id
		       AND c.state = 'issued')
	   OR EXISTS (SELECT 1 FROM cert_supersession s WHERE s.asset_id = NEW.asset_id AND s.old_id = NEW.cert_id) THEN
		RAISE EXCEPTION 'certificate % is not an issued, current certificate: it cannot be withdrawn', NEW.cert_id
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER cert_withdrawal_guard BEFORE INSERT ON cert_withdrawal
	FOR EACH ROW EXECUTE FUNCTION cert_withdrawal_guard();
CREATE TRIGGER cert_withdrawal_append_only BEFORE UPDATE OR DELETE ON cert_withdrawal
	FOR EACH ROW EXECUTE FUNCTION cert_append_only();

-- A withdrawn certificate cannot be superseded by a revision afterwards.
CREATE FUNCTION cert_supersession_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM cert_withdrawal w WHERE w.asset_id = NEW.asset_id AND w.cert_id = NEW.old_id) THEN
		RAISE EXCEPTION 'certificate % was withdrawn: it cannot be revised', NEW.old_id
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER cert_supersession_guard BEFORE INSERT ON cert_supersession
	FOR EACH ROW EXECUTE FUNCTION cert_supersession_guard();

REVOKE ALL ON cert_withdrawal FROM PUBLIC;
GRANT SELECT, INSERT ON cert_withdrawal TO meterlab_app;
