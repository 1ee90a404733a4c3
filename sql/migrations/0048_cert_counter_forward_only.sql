-- 0048: the number counter only moves forward.
--
-- Certificate numbers are unique only through cert_counter: certificate's
-- unique keys all hold asset_id (the distribution column, see 0040), so
-- nothing else stops one number going to two assets. meterlab_app may
-- UPDATE the counter (issuing increments it, reports/cert_number.c), and
-- before this a decrement, a changed year or issuer, or (as owner) a
-- deleted row would hand out numbers already printed on issued
-- certificates. A rollback of the issuing transaction still gives its
-- numbers back (no gaps): that undoes the row, it fires no trigger.
CREATE FUNCTION cert_counter_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'cert_counter % / %: a number counter is never deleted', OLD.issuer_id, OLD.year
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	IF NEW.issuer_id <> OLD.issuer_id OR NEW.year <> OLD.year OR NEW.last_serial < OLD.last_serial THEN
		RAISE EXCEPTION 'cert_counter % / % at %: it only counts forward (got % / % at %)', OLD.issuer_id,
			OLD.year, OLD.last_serial, NEW.issuer_id, NEW.year, NEW.last_serial
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER cert_counter_guard BEFORE UPDATE OR DELETE ON cert_counter
	FOR EACH ROW EXECUTE FUNCTION cert_counter_guard();
