-- 0275: arrival sampling as a gate (issue 14). State Grid runs three quality
-- gates before a meter is installed: the full-performance test, the sampling
-- test of the delivered batch, and 100 % acceptance verification
-- (domain.md §3.1). With the setting sampling.required = yes (the lab's
-- approver sets it: meterlab scheme settings set sampling.required yes), an arrived
-- meter goes on a bench for verification only when its lot's arrival sample
-- has been drawn and the lot accepted; the drawn meters themselves (state
-- sampling) are verified to judge the lot. Default no: whether every lot is
-- sampled is the centre's policy, which the reference does not fix ([M]).
-- Re-verification (reverify -> verifying) is not arrival and is not held.
-- lab/settings.c has the same row; the regulation data's guard is lifted for this statement only.
ALTER TABLE lab_setting_def DISABLE TRIGGER lab_setting_def_fixed;
INSERT INTO lab_setting_def (key, type, default_value, min_v, max_v) VALUES
	('sampling.required', 'bool', 'no', 0, 1);
ALTER TABLE lab_setting_def ENABLE TRIGGER lab_setting_def_fixed;

CREATE FUNCTION lot_sampling_required_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	l record;
BEGIN
	IF ml_setting('sampling.required') <> 'yes' THEN
		RETURN NEW;
	END IF;
	SELECT lo.code, s.status INTO l FROM lot lo LEFT JOIN lot_sampling s ON s.lot_id = lo.lot_id
	WHERE lo.lot_id = NEW.lot_id;
	IF l.status IS DISTINCT FROM 'accepted' THEN
		RAISE EXCEPTION 'asset % is in lot %, whose arrival sample is %: verification for stock waits until the lot is sampled and accepted (meterlab sample draw --lot %; setting sampling.required)',
			NEW.barcode, l.code, CASE l.status WHEN 'sampling' THEN 'being judged' WHEN 'rejected' THEN 'rejected'
			ELSE 'not drawn' END, l.code USING ERRCODE = '55000';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER asset_lot_sampling_required BEFORE UPDATE OF state ON asset
	FOR EACH ROW WHEN (OLD.state = 'arrived' AND NEW.state = 'verifying')
	EXECUTE FUNCTION lot_sampling_required_check();
