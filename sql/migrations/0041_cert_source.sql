-- 0041: certificates made from verification runs (reports/cert_source.c).

-- A run's original certificates point at the run; at most one original per
-- asset and run, so issuing a run twice (or concurrently) cannot make
-- duplicates. Revisions copy run_id and are told apart by revision > 0.
ALTER TABLE certificate ADD CONSTRAINT certificate_run_fk
	FOREIGN KEY (run_id) REFERENCES verification_run (run_id);
CREATE UNIQUE INDEX certificate_one_per_run ON certificate (asset_id, run_id)
	WHERE revision = 0 AND run_id IS NOT NULL;

-- 送检单位 printed when nothing more specific is known (e.g. new meters the
-- centre verifies for its own grid company). Editable demo value.
ALTER TABLE issuer ADD COLUMN default_client text NOT NULL DEFAULT '';
UPDATE issuer SET default_client = '示范省电力公司' WHERE id = 'DEMO';

-- Exact decimal text of a value stored × 10 000 (the runner's *_e4
-- columns): explicit '+' on positive values, exactly `decimals` places.
-- numeric arithmetic only: what is printed is what was judged.
CREATE FUNCTION cert_fmt_e4(v bigint, decimals int) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT
	RETURN CASE WHEN v > 0 THEN '+' ELSE '' END || round(v::numeric / 10000, decimals)::text;

-- Decimal places of a rounding interval stored × 10 000 (0.1 -> 1, 0.05 -> 2).
CREATE FUNCTION cert_e4_places(interval_e4 bigint) RETURNS int
	LANGUAGE sql IMMUTABLE STRICT
	RETURN scale(trim_scale(interval_e4::numeric / 10000));
