-- 0274: reverse traceability acts (issue 14): when a reference standard is
-- found out of tolerance (or its certificate withdrawn), or a bench faulty,
-- every asset its runs verified in the window is flagged for re-verification
-- in one step, all or nothing. A flagged asset may not be issued, dispatched
-- or installed (a trigger, for every writer) until it passes verification
-- again, which clears the flag; installed ones are on the list for the field
-- to swap (meterlab standard trace … --flag prints the same recall list).
INSERT INTO app_permission (perm, description) VALUES
	('trace.flag', 'flag every asset a suspect standard or bench verified for re-verification');
INSERT INTO app_role_permission (role, perm) VALUES
	('quality_analyst', 'trace.flag'), ('manager', 'trace.flag');

CREATE TABLE reverify_flag (
	flag_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	asset_id bigint NOT NULL REFERENCES asset (asset_id),
	what text NOT NULL CHECK (what IN ('standard', 'bench')),
	code text NOT NULL,
	since date NOT NULL,
	until date,
	reason text NOT NULL,
	flagged_by bigint NOT NULL REFERENCES app_user (user_id),
	flagged_at timestamptz NOT NULL DEFAULT now(),
	cleared_at timestamptz
);
CREATE UNIQUE INDEX reverify_flag_active ON reverify_flag (asset_id) WHERE cleared_at IS NULL;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON reverify_flag FROM PUBLIC, meterlab_app;
GRANT SELECT ON reverify_flag TO meterlab_app;

-- Flag the assets of the trace (ml_trace_runs, 0270) that are still in the
-- centre's hands (not returned to the maker or scrapped); an asset already
-- flagged keeps its flag. Returns how many were newly flagged.
CREATE FUNCTION ml_trace_flag(p_standard text, p_bench text, p_since date, p_until date, p_reason text)
	RETURNS int
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('trace.flag');
	reason text := ml_clean_text('reason', p_reason, 500);
	n int;
BEGIN
	IF (p_standard IS NULL) = (p_bench IS NULL) THEN
		RAISE EXCEPTION 'flag by a standard or by a bench, exactly one of them' USING ERRCODE = '22023';
	END IF;
	INSERT INTO reverify_flag (asset_id, what, code, since, until, reason, flagged_by)
	SELECT DISTINCT a.asset_id, CASE WHEN p_standard IS NULL THEN 'bench' ELSE 'standard' END,
	       coalesce(p_standard, p_bench), p_since, p_until, reason, actor
	FROM ml_trace_runs(p_standard, p_bench, p_since, p_until) t
	JOIN asset a ON a.barcode = t.barcode::bpchar
	WHERE a.state NOT IN ('returned_to_maker', 'scrapped')
	ON CONFLICT (asset_id) WHERE cleared_at IS NULL DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

CREATE FUNCTION asset_flag_guard() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = public, pg_temp AS $$
DECLARE
	f reverify_flag;
BEGIN
	SELECT * INTO f FROM reverify_flag WHERE asset_id = NEW.asset_id AND cleared_at IS NULL;
	IF FOUND THEN
		RAISE EXCEPTION 'asset % is flagged for re-verification (trace of % % since %: %); verify it again first',
			NEW.barcode, f.what, f.code, f.since, f.reason USING ERRCODE = '55000';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER asset_flag_guard BEFORE UPDATE OF state ON asset
	FOR EACH ROW WHEN (NEW.state IN ('issued', 'in_transit', 'installed') AND OLD.state IS DISTINCT FROM NEW.state)
	EXECUTE FUNCTION asset_flag_guard();

-- Passing verification again clears the flag.
CREATE FUNCTION asset_flag_clear() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = public, pg_temp AS $$
BEGIN
	UPDATE reverify_flag SET cleared_at = now() WHERE asset_id = NEW.asset_id AND cleared_at IS NULL;
	RETURN NULL;
END
$$;
CREATE TRIGGER asset_flag_clear AFTER UPDATE OF state ON asset
	FOR EACH ROW WHEN (OLD.state = 'verifying' AND NEW.state = 'in_stock')
	EXECUTE FUNCTION asset_flag_clear();

REVOKE ALL ON FUNCTION ml_trace_flag(text, text, date, date, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ml_trace_flag(text, text, date, date, text) TO meterlab_app;
