-- 0031: verification runs (检定任务): the task (bench + scheme + positions),
-- step progress, every raw reading, per-step results and per-item/overall
-- conclusions.
--
-- Design for growth (sql/README.md): readings and step results are
-- range-partitioned by measured_at (monthly), and every hot table carries
-- asset_id, the distribution column, in its primary key. Results are
-- history: the application role may INSERT and SELECT them, never UPDATE
-- or DELETE (grants below plus append-only triggers). Only a run's status
-- columns are updatable, by column-level grant.
--
-- Resumability: a step's readings, its results and its run_step row are
-- committed in ONE transaction, so a step either exists completely or not
-- at all; the PRIMARY KEY (run_id, step_no) of run_step makes a second
-- completion of the same step fail and roll back, so a resumed run can
-- never duplicate readings.

CREATE TABLE verification_run (
	run_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	bench_id       bigint NOT NULL REFERENCES lab_bench (bench_id),
	model_id       bigint NOT NULL REFERENCES device_model (model_id),
	scheme_code    text NOT NULL,
	scheme_version int NOT NULL,
	scheme_text    text NOT NULL,   -- snapshot: a resumed run repeats exactly these steps
	mode           text NOT NULL CHECK (mode IN ('driven', 'manual')),
	status         text NOT NULL DEFAULT 'pending'
	               CHECK (status IN ('pending', 'running', 'interrupted', 'finished', 'aborted')),
	steps_total    int NOT NULL CHECK (steps_total BETWEEN 1 AND 256),
	operator       text NOT NULL CHECK (length(operator) BETWEEN 1 AND 64),
	run_date       date NOT NULL DEFAULT current_date,
	created_at     timestamptz NOT NULL DEFAULT now(),
	started_at     timestamptz,
	finished_at    timestamptz,
	last_error     text
);
CREATE INDEX verification_run_status ON verification_run (status, run_id);

-- Position -> asset map of a run (barcodes scanned into positions).
CREATE TABLE run_position (
	asset_id bigint NOT NULL REFERENCES asset (asset_id),
	run_id   bigint NOT NULL REFERENCES verification_run (run_id),
	position int NOT NULL CHECK (position BETWEEN 1 AND 96),
	barcode  char(22) NOT NULL,
	PRIMARY KEY (asset_id, run_id),
	UNIQUE (run_id, position)
);

-- One row per completed step; absence means "not done yet" (redo on resume).
CREATE TABLE run_step (
	run_id       bigint NOT NULL REFERENCES verification_run (run_id),
	step_no      int NOT NULL CHECK (step_no >= 0),
	kind         text NOT NULL,
	label        text NOT NULL,
	started_at   timestamptz NOT NULL,
	completed_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (run_id, step_no)
);

-- Every reading as the bench (or the operator) gave it: raw dec4.
CREATE TABLE run_reading (
	asset_id     bigint NOT NULL,
	run_id       bigint NOT NULL,
	step_no      int NOT NULL,
	reading_no   int NOT NULL CHECK (reading_no >= 1),
	position     int NOT NULL,
	value_e4     bigint NOT NULL,   -- error %, clock s/d, ratio error % (× 10 000)
	value2_e4    bigint,            -- CT/VT phase displacement, minutes (× 10 000)
	pulses       bigint,
	bench_result smallint NOT NULL DEFAULT 0,  -- protocol §3.3 result code
	measured_at  timestamptz NOT NULL,
	PRIMARY KEY (asset_id, run_id, step_no, reading_no, measured_at)
) PARTITION BY RANGE (measured_at);

-- Judged result of one step for one asset.
CREATE TABLE run_step_result (
	asset_id          bigint NOT NULL,
	run_id            bigint NOT NULL,
	step_no           int NOT NULL,
	position          int NOT NULL,
	kind              text NOT NULL,
	label             text NOT NULL,
	n_readings        int NOT NULL,
	mean_e4           bigint,        -- mean of the readings (× 10 000), NULL for creep/start
	rounded_e4        bigint,        -- mean rounded to the interval in one step (§1.11)
	mean2_e4          bigint,        -- CT/VT phase displacement mean
	rounded2_e4       bigint,
	pulses            bigint,        -- creep/start/constant: pulses counted
	limit_e4          bigint,        -- regulation limit ±
	internal_limit_e4 bigint,        -- applied internal acceptance limit ±
	interval_e4       bigint,        -- rounding interval
	limit2_e4         bigint,
	internal_limit2_e4 bigint,
	interval2_e4      bigint,
	gamma_e4          bigint,        -- constant test: register error %
	verdict           text NOT NULL CHECK (verdict IN ('none', 'pass', 'fail')),
	internal_verdict  text NOT NULL CHECK (internal_verdict IN ('none', 'pass', 'fail')),
	verdict2          text NOT NULL DEFAULT 'none' CHECK (verdict2 IN ('none', 'pass', 'fail')), -- CT/VT phase
	note              text NOT NULL DEFAULT '',
	measured_at       timestamptz NOT NULL,
	PRIMARY KEY (asset_id, run_id, step_no, measured_at)
) PARTITION BY RANGE (measured_at);

-- Per-item conclusions (judge_item_name) and the overall one; the overall
-- regulation verdict decides verify_pass / verify_fail of the asset.
CREATE TABLE run_conclusion (
	asset_id     bigint NOT NULL,
	run_id       bigint NOT NULL,
	item         text NOT NULL CHECK (item IN ('creep', 'start', 'basic', 'constant', 'clock', 'ratio', 'phase',
	                                           'overall')),
	verdict      text NOT NULL CHECK (verdict IN ('pass', 'fail')),
	internal_verdict text NOT NULL CHECK (internal_verdict IN ('none', 'pass', 'fail')),
	valid_until  date,              -- overall pass: verification valid until
	concluded_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (asset_id, run_id, item)
);
CREATE INDEX run_conclusion_run ON run_conclusion (run_id);

-- Monthly partitions 2024-01 .. 2035-12 and a default partition so a clock
-- far off never loses a reading.
DO $$
DECLARE
	m date := date '2024-01-01';
BEGIN
	WHILE m < date '2036-01-01' LOOP
		EXECUTE format('CREATE TABLE %I PARTITION OF run_reading FOR VALUES FROM (%L) TO (%L)',
			       'run_reading_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
		EXECUTE format('CREATE TABLE %I PARTITION OF run_step_result FOR VALUES FROM (%L) TO (%L)',
			       'run_step_result_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
		m := (m + interval '1 month')::date;
	END LOOP;
END
$$;
CREATE TABLE run_reading_default PARTITION OF run_reading DEFAULT;
CREATE TABLE run_step_result_default PARTITION OF run_step_result DEFAULT;
CREATE INDEX run_reading_run ON run_reading (run_id, step_no);
CREATE INDEX run_step_result_run ON run_step_result (run_id, step_no);
CREATE INDEX run_reading_time_brin ON run_reading USING brin (measured_at);

CREATE TRIGGER run_position_append_only BEFORE UPDATE OR DELETE ON run_position
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();
CREATE TRIGGER run_step_append_only BEFORE UPDATE OR DELETE ON run_step
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();
CREATE TRIGGER run_reading_append_only BEFORE UPDATE OR DELETE ON run_reading
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();
CREATE TRIGGER run_step_result_append_only BEFORE UPDATE OR DELETE ON run_step_result
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();
CREATE TRIGGER run_conclusion_append_only BEFORE UPDATE OR DELETE ON run_conclusion
	FOR EACH ROW EXECUTE FUNCTION lab_refuse_change();

REVOKE ALL ON verification_run, run_position, run_step, run_reading, run_step_result, run_conclusion FROM PUBLIC;
GRANT SELECT, INSERT ON verification_run, run_position, run_step, run_reading, run_step_result, run_conclusion
	TO meterlab_app;
GRANT UPDATE (status, started_at, finished_at, last_error) ON verification_run TO meterlab_app;
