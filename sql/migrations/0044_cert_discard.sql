-- 0044: discarding a draft that will not be issued (wrong content, or an
-- abandoned revision that would otherwise block the next one). Only drafts
-- and checked certificates can go (the guard trigger of 0040 refuses issued
-- rows); who discarded what, and why, stays in an append-only log.
CREATE TABLE cert_discard_log (
	asset_id bigint NOT NULL,
	cert_id bigint NOT NULL,
	run_id bigint,
	barcode text NOT NULL,
	revision int NOT NULL,
	state text NOT NULL,
	content jsonb NOT NULL,
	verifier text NOT NULL,
	checker text,
	reason text NOT NULL CHECK (btrim(reason) <> ''),
	discarded_by text NOT NULL CHECK (btrim(discarded_by) <> ''),
	discarded_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (asset_id, cert_id)
);
CREATE TRIGGER cert_discard_log_append_only BEFORE UPDATE OR DELETE ON cert_discard_log
	FOR EACH ROW EXECUTE FUNCTION cert_append_only();

REVOKE ALL ON cert_discard_log FROM PUBLIC;
GRANT SELECT, INSERT ON cert_discard_log TO meterlab_app;
GRANT DELETE ON certificate TO meterlab_app;
