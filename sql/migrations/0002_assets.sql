-- 0002: asset registry — catalogue, locations, arrival lots, assets and the
-- append-only, time-partitioned lifecycle history. See sql/README.md for
-- the design (reference tables, distribution column asset_id, partitions).

-- ---- catalogue (small reference tables) ----
CREATE TABLE manufacturer (
	manufacturer_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE device_model (
	model_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_./-]{1,64}$'),
	manufacturer_id bigint NOT NULL REFERENCES manufacturer,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	kind text NOT NULL CHECK (kind IN ('meter_1p', 'meter_3p', 'ct', 'vt', 'concentrator')),
	accuracy_class text CHECK (accuracy_class ~ '^[0-9A-Za-z.]{1,8}$'),
	reactive_class text CHECK (reactive_class ~ '^[0-9A-Za-z.]{1,8}$'),
	connection text CHECK (connection IN ('direct', 'transformer')),
	wiring text CHECK (wiring IN ('1p2w', '3p4w', '3p3w')),
	un_v numeric CHECK (un_v > 0),
	ib_a numeric CHECK (ib_a > 0),
	imax_a numeric CHECK (imax_a > 0),
	constant_imp integer CHECK (constant_imp > 0),
	clock_freq_hz numeric DEFAULT 1 CHECK (clock_freq_hz > 0),
	ct_primary_a numeric CHECK (ct_primary_a > 0),
	ct_secondary_a numeric CHECK (ct_secondary_a > 0),
	vt_primary_v numeric CHECK (vt_primary_v > 0),
	vt_secondary_v numeric CHECK (vt_secondary_v > 0),
	rated_burden_va numeric CHECK (rated_burden_va > 0),
	verification_period_months integer NOT NULL CHECK (verification_period_months BETWEEN 1 AND 600),
	created_at timestamptz NOT NULL DEFAULT now(),
	-- meters carry a connection; transformers and concentrators do not
	CHECK ((kind IN ('meter_1p', 'meter_3p')) = (connection IS NOT NULL)),
	CHECK (imax_a IS NULL OR ib_a IS NULL OR imax_a >= ib_a)
);

-- ---- locations / stores ----
CREATE TABLE location (
	location_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_.-]{1,64}$'),
	name text NOT NULL,
	kind text NOT NULL CHECK (kind IN ('central_store', 'secondary_store', 'bench', 'lab', 'field_team',
					   'customer_site', 'maker')),
	parent_id bigint REFERENCES location
);
INSERT INTO location (code, name, kind) VALUES ('CENTRAL', 'Central store (中心库房)', 'central_store');

-- ---- arrival lots ----
CREATE TABLE lot (
	lot_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_./-]{1,64}$'),
	manufacturer_id bigint REFERENCES manufacturer,
	model_id bigint REFERENCES device_model,  -- NULL when the delivery mixes models
	supplier text,
	file_name text,
	file_sha256 text NOT NULL UNIQUE CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
	row_count integer NOT NULL CHECK (row_count >= 0),
	received_by text NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now()
);

-- ---- assets (hot table, distribution column asset_id) ----
CREATE TABLE asset (
	asset_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	barcode char(22) NOT NULL UNIQUE CHECK (barcode ~ '^[0-9]{22}$'),
	model_id bigint NOT NULL REFERENCES device_model,
	lot_id bigint NOT NULL REFERENCES lot,
	production_batch text NOT NULL CHECK (length(production_batch) BETWEEN 1 AND 64),
	production_date date NOT NULL,
	box_code text,
	state text NOT NULL DEFAULT 'arrived' CHECK (state IN (
		'arrived', 'sampling', 'verifying', 'in_stock', 'failed', 'in_transit', 'secondary_stock',
		'issued', 'installed', 'removed', 'fault_analysis', 'reverify', 'returned_to_maker', 'scrapped')),
	location_id bigint REFERENCES location,
	valid_until date,
	state_changed_at timestamptz NOT NULL DEFAULT now(),
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX asset_lot_idx ON asset (lot_id, asset_id);
CREATE INDEX asset_state_idx ON asset (state, asset_id);
CREATE INDEX asset_model_idx ON asset (model_id, asset_id);
CREATE INDEX asset_location_idx ON asset (location_id, asset_id);

-- ---- lifecycle history: append-only, range-partitioned by month ----
CREATE SEQUENCE asset_event_seq AS bigint;
CREATE TABLE asset_event (
	asset_id bigint NOT NULL,
	event_id bigint NOT NULL DEFAULT nextval('asset_event_seq'),
	occurred_at timestamptz NOT NULL DEFAULT now(),
	actor text NOT NULL,
	location_id bigint,
	from_state text,  -- NULL for the creating 'receive' event
	to_state text NOT NULL,
	action text NOT NULL,
	reason text,
	details jsonb NOT NULL DEFAULT '{}',
	PRIMARY KEY (asset_id, occurred_at, event_id)
) PARTITION BY RANGE (occurred_at);
ALTER SEQUENCE asset_event_seq OWNED BY asset_event.event_id;

-- Monthly partitions from 2024-01 to 2035-12, plus a default partition so a
-- clock far off never loses an event. Later migrations (or maintenance)
-- add partitions ahead and split the default if it ever holds rows.
DO $$
DECLARE
	m date := date '2024-01-01';
BEGIN
	WHILE m < date '2036-01-01' LOOP
		EXECUTE format('CREATE TABLE %I PARTITION OF asset_event FOR VALUES FROM (%L) TO (%L)',
			       'asset_event_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
		m := (m + interval '1 month')::date;
	END LOOP;
END
$$;
CREATE TABLE asset_event_default PARTITION OF asset_event DEFAULT;
CREATE INDEX asset_event_time_brin ON asset_event USING brin (occurred_at);

CREATE FUNCTION asset_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'asset_event is append-only: % refused', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER asset_event_no_update_delete BEFORE UPDATE OR DELETE ON asset_event
	FOR EACH ROW EXECUTE FUNCTION asset_event_append_only();
CREATE TRIGGER asset_event_no_truncate BEFORE TRUNCATE ON asset_event
	FOR EACH STATEMENT EXECUTE FUNCTION asset_event_append_only();

-- ---- privileges of the application role ----
REVOKE ALL ON manufacturer, device_model, location, lot, asset, asset_event FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON manufacturer, device_model, location TO meterlab_app;
GRANT SELECT, INSERT ON lot TO meterlab_app;
GRANT SELECT, INSERT, UPDATE ON asset TO meterlab_app;
GRANT SELECT, INSERT ON asset_event TO meterlab_app;
REVOKE UPDATE, DELETE, TRUNCATE ON asset_event FROM meterlab_app;
GRANT USAGE ON SEQUENCE asset_event_seq TO meterlab_app;
