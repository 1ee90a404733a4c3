-- 0171: asset history partitioned by asset_id ranges instead of by month
-- (issue 10; the design and its measured trade-off are in sql/README.md,
-- "Partitioning").
--
-- Why: the question asked of asset_event thousands of times a day is "this
-- asset's history" (asset show, the lab, the field). Partitioned by month,
-- that query could prune nothing: it probed the primary key of all 145
-- partitions, and a new connection first had to open all of them — 20 ms of
-- planning for a 7-row answer, 30 ms per asset show. Partitioned by ranges
-- of asset_id, it prunes to one partition at plan time.
--
-- Asset ids grow with arrival time (identity), so an id range is an arrival
-- cohort: partitions still fill roughly in time order, old cohorts can be
-- detached and archived together once every asset in them is retired
-- (retention of a lifecycle record follows the asset, not the calendar —
-- detaching a month would cut the middle out of living assets' histories),
-- and rows are appended in time order inside each partition, which keeps
-- the BRIN index on occurred_at precise for time-range queries.
--
-- Ranges of 4 000 000 ids (about 28 M events each at 7 events per asset),
-- created ahead up to 120 000 000 (a province receiving 5–10 M meters a year
-- for more than a decade); a DEFAULT partition takes any later id so no
-- event is ever refused — a later migration adds ranges (and moves such rows
-- out of the default partition), as for the monthly design. Not more ahead:
-- a new connection builds the partition descriptor of every partition the
-- first time it reads the table (about 10 µs each, measured).
--
-- The table is rebuilt under the same name; everything later migrations may
-- have added to it (columns, constraints and defaults via LIKE; indexes,
-- triggers, owner, table and column grants) is carried over generically, so
-- this migration composes with the integrity work that precedes it in file
-- order. Row-level security policies are not carried: the migration stops if
-- any exist.

LOCK TABLE asset_event IN ACCESS EXCLUSIVE MODE;
ALTER TABLE asset_event RENAME TO asset_event_by_month;
ALTER TABLE asset_event_default RENAME TO asset_event_by_month_default;
ALTER SEQUENCE asset_event_seq OWNED BY NONE;

CREATE TABLE asset_event (LIKE asset_event_by_month INCLUDING DEFAULTS INCLUDING CONSTRAINTS
	INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS
	INCLUDING STATISTICS) PARTITION BY RANGE (asset_id);

DO $$
DECLARE
	lo bigint := 0;
	step constant bigint := 4000000;
BEGIN
	WHILE lo < 120000000 LOOP
		EXECUTE format('CREATE TABLE %I PARTITION OF asset_event FOR VALUES FROM (%s) TO (%s)',
			       'asset_event_a' || to_char(lo / 1000000, 'FM000') || 'm',
			       CASE WHEN lo = 0 THEN 'MINVALUE' ELSE lo::text END, lo + step);
		lo := lo + step;
	END LOOP;
END
$$;
CREATE TABLE asset_event_default PARTITION OF asset_event DEFAULT;

-- Time order inside each partition keeps BRIN on occurred_at useful.
INSERT INTO asset_event SELECT * FROM asset_event_by_month ORDER BY occurred_at, event_id;

DO $$
DECLARE
	old constant regclass := 'asset_event_by_month';
	ddl text[] := '{}';
	d text;
	r record;
BEGIN
	IF EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = old) THEN
		RAISE EXCEPTION '0171 cannot carry row-level security policies of asset_event';
	END IF;
	SELECT ddl || format('ALTER TABLE asset_event OWNER TO %I', pg_get_userbyid(relowner))
	INTO ddl FROM pg_class WHERE oid = old;
	-- indexes other than the old key and the BRIN index (re-created below)
	FOR r IN SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		 WHERE i.indrelid = old AND c.relname NOT IN ('asset_event_pkey', 'asset_event_time_brin') LOOP
		ddl := ddl || replace(r.def, ' ON ONLY public.asset_event_by_month ', ' ON public.asset_event ');
	END LOOP;
	FOR r IN SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = old AND NOT tgisinternal LOOP
		ddl := ddl || replace(r.def, ' ON public.asset_event_by_month ', ' ON public.asset_event ');
	END LOOP;
	FOR r IN SELECT a.grantee, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
		 WHERE c.oid = old AND a.grantee <> c.relowner LOOP
		ddl := ddl || format('GRANT %s ON asset_event TO %s', r.privilege_type,
				     CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END);
	END LOOP;
	FOR r IN SELECT att.attname, a.grantee, a.privilege_type
		 FROM pg_attribute att, aclexplode(att.attacl) a
		 WHERE att.attrelid = old AND att.attacl IS NOT NULL AND NOT att.attisdropped LOOP
		ddl := ddl || format('GRANT %s (%I) ON asset_event TO %s', r.privilege_type, r.attname,
				     CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END);
	END LOOP;
	DROP TABLE asset_event_by_month;
	ALTER TABLE asset_event ADD PRIMARY KEY (asset_id, event_id);
	CREATE INDEX asset_event_time_brin ON asset_event USING brin (occurred_at);
	FOREACH d IN ARRAY ddl LOOP
		EXECUTE d;
	END LOOP;
END
$$;

ALTER SEQUENCE asset_event_seq OWNED BY asset_event.event_id;
ANALYZE asset_event;
