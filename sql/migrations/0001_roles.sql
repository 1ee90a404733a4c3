-- 0001: database roles.
-- meterlab_owner owns the schema and runs migrations; meterlab_app is what
-- the CLI and services log in as: it may read and append, but it can never
-- UPDATE, DELETE or TRUNCATE history (grants in later migrations).
-- Roles are cluster-wide, so create them only when missing.
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'meterlab_owner') THEN
		CREATE ROLE meterlab_owner NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'meterlab_app') THEN
		CREATE ROLE meterlab_app LOGIN;
	END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO meterlab_app;
