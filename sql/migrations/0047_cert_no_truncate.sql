-- 0047: TRUNCATE fires no row triggers, so the append-only and issued-row
-- guards of 0040/0043/0044 did not stop `TRUNCATE certificate CASCADE` by
-- the owning role: every issued certificate, its PDF and the number
-- counters (gap-free numbering) could vanish in one statement. Refuse it
-- on every certificate table, whoever connects (meterlab_app has no
-- TRUNCATE privilege anyway).
CREATE TRIGGER certificate_no_truncate BEFORE TRUNCATE ON certificate
	FOR EACH STATEMENT EXECUTE FUNCTION cert_append_only();
CREATE TRIGGER cert_pdf_no_truncate BEFORE TRUNCATE ON cert_pdf
	FOR EACH STATEMENT EXECUTE FUNCTION cert_append_only();
CREATE TRIGGER cert_supersession_no_truncate BEFORE TRUNCATE ON cert_supersession
	FOR EACH STATEMENT EXECUTE FUNCTION cert_append_only();
CREATE TRIGGER cert_withdrawal_no_truncate BEFORE TRUNCATE ON cert_withdrawal
	FOR EACH STATEMENT EXECUTE FUNCTION cert_append_only();
CREATE TRIGGER cert_discard_log_no_truncate BEFORE TRUNCATE ON cert_discard_log
	FOR EACH STATEMENT EXECUTE FUNCTION cert_append_only();
CREATE TRIGGER cert_counter_no_truncate BEFORE TRUNCATE ON cert_counter
	FOR EACH STATEMENT EXECUTE FUNCTION cert_append_only();
