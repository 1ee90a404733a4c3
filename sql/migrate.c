/*
 * migrate.c — append-only numbered migrations.
 *
 * Each file in sql/migrations is applied once, in its own transaction,
 * and recorded with the sha256 of its text. A file whose text changed after
 * it was applied is refused: history of the schema is append-only, like the
 * data it holds. The checksum is computed by the server (sha256()) so client
 * and server agree byte for byte.
 */
#include "sql/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Arbitrary constant for pg_advisory_lock: one migrator at a time per database. */
#define MIGRATE_LOCK_KEY "7340031"

static const char *const ensure_table_sql = "CREATE TABLE IF NOT EXISTS schema_migrations ("
					    " version text PRIMARY KEY,"
					    " name text NOT NULL,"
					    " checksum text NOT NULL,"
					    " applied_at timestamptz NOT NULL DEFAULT now())";

/*
 * After every migration, in its transaction: everything in schema public
 * belongs to meterlab_owner, whoever ran the migration (a superuser in
 * tests, a DBA member of meterlab_owner in production). SECURITY DEFINER
 * functions therefore run as the owner, never as a superuser; PUBLIC loses
 * its default EXECUTE on them (each migration grants its callers), and one
 * without a pinned search_path is refused (a caller's objects could
 * otherwise shadow the ones it means). Objects of extensions are left alone.
 * Before 0100 there is no owner-run function yet; the sweep is harmless.
 */
static const char *const ownership_sql =
	"DO $sweep$\n"
	"DECLARE r record;\n"
	"BEGIN\n"
	"  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'meterlab_owner') THEN RETURN; END IF;\n"
	"  FOR r IN SELECT c.oid::regclass AS obj, c.relkind FROM pg_class c\n"
	"    JOIN pg_namespace n ON n.oid = c.relnamespace\n"
	"    WHERE n.nspname = 'public' AND c.relkind IN ('r','p','v','m','f','c')\n"
	"      AND c.relowner <> 'meterlab_owner'::regrole\n"
	"      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass\n"
	"                      AND d.objid = c.oid AND d.deptype = 'e')\n"
	"  LOOP\n"
	"    EXECUTE format(CASE r.relkind WHEN 'v' THEN 'ALTER VIEW %s OWNER TO meterlab_owner'\n"
	"                   WHEN 'm' THEN 'ALTER MATERIALIZED VIEW %s OWNER TO meterlab_owner'\n"
	"                   WHEN 'c' THEN 'ALTER TYPE %s OWNER TO meterlab_owner'\n"
	"                   ELSE 'ALTER TABLE %s OWNER TO meterlab_owner' END, r.obj);\n"
	"  END LOOP;\n"
	/* sequences not owned by a column (those followed their table) */
	"  FOR r IN SELECT c.oid::regclass AS obj FROM pg_class c\n"
	"    JOIN pg_namespace n ON n.oid = c.relnamespace\n"
	"    WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relowner <> 'meterlab_owner'::regrole\n"
	"      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass\n"
	"                      AND d.objid = c.oid AND d.deptype IN ('a','i','e'))\n"
	"  LOOP EXECUTE format('ALTER SEQUENCE %s OWNER TO meterlab_owner', r.obj); END LOOP;\n"
	"  FOR r IN SELECT t.oid::regtype AS obj FROM pg_type t\n"
	"    JOIN pg_namespace n ON n.oid = t.typnamespace\n"
	"    WHERE n.nspname = 'public' AND t.typtype IN ('e','d','r') AND t.typowner <> 'meterlab_owner'::regrole\n"
	"      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass\n"
	"                      AND d.objid = t.oid AND d.deptype = 'e')\n"
	"  LOOP EXECUTE format('ALTER TYPE %s OWNER TO meterlab_owner', r.obj); END LOOP;\n"
	"  FOR r IN SELECT p.oid::regprocedure AS obj, p.prosecdef,\n"
	"      coalesce(EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%'), false) AS pinned\n"
	"    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace\n"
	"    WHERE n.nspname = 'public'\n"
	"      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass\n"
	"                      AND d.objid = p.oid AND d.deptype = 'e')\n"
	"  LOOP\n"
	"    IF r.prosecdef AND NOT r.pinned THEN\n"
	"      RAISE EXCEPTION 'SECURITY DEFINER function % has no SET search_path', r.obj;\n"
	"    END IF;\n"
	"    IF (SELECT proowner FROM pg_proc WHERE oid = r.obj::oid) <> 'meterlab_owner'::regrole THEN\n"
	"      EXECUTE format('ALTER ROUTINE %s OWNER TO meterlab_owner', r.obj);\n"
	"    END IF;\n"
	"    IF r.prosecdef THEN EXECUTE format('REVOKE EXECUTE ON ROUTINE %s FROM PUBLIC', r.obj); END IF;\n"
	"  END LOOP;\n"
	"END\n"
	"$sweep$";

static int checksum_of(struct db *db, const char *sql, char out[65], struct ml_error *err)
{
	const char *p[1] = { sql };
	PGresult *res = NULL;
	int rc = db_query_one(db, "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", 1, p,
			      &res, err);
	if (rc)
		return rc;
	snprintf(out, 65, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ML_OK;
}

int db_migrate_status(struct db *db, const struct db_migration *list, size_t count,
		      struct db_migration_status **out, size_t *n, struct ml_error *err)
{
	*out = NULL;
	*n = 0;
	if (!list)
		list = db_migrations_builtin(&count);
	PGresult *res = NULL;
	int have_table = 0;
	int rc = db_query_one(db, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL,
			      &res, err);
	if (rc)
		return rc;
	have_table = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	res = NULL;
	if (have_table) {
		rc = db_exec(
			db,
			"SELECT version, checksum, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS TZ') AS at "
			"FROM schema_migrations",
			0, NULL, PGRES_TUPLES_OK, &res, err);
		if (rc)
			return rc;
	}
	struct db_migration_status *st = calloc(count ? count : 1, sizeof(*st));
	if (!st) {
		PQclear(res);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < count; i++) {
		snprintf(st[i].version, sizeof(st[i].version), "%s", list[i].version);
		snprintf(st[i].name, sizeof(st[i].name), "%s", list[i].name);
		rc = checksum_of(db, list[i].sql, st[i].checksum, err);
		if (rc) {
			free(st);
			PQclear(res);
			return rc;
		}
		st[i].state = DB_MIG_PENDING;
		for (int r = 0; res && r < PQntuples(res); r++) {
			if (strcmp(PQgetvalue(res, r, 0), list[i].version))
				continue;
			st[i].state = strcmp(PQgetvalue(res, r, 1), st[i].checksum)
					      ? DB_MIG_CHANGED
					      : DB_MIG_APPLIED;
			snprintf(st[i].applied_at, sizeof(st[i].applied_at), "%s",
				 PQgetvalue(res, r, 2));
		}
	}
	PQclear(res);
	*out = st;
	*n = count;
	return ML_OK;
}

static int apply_one(struct db *db, const struct db_migration *m, const char *checksum,
		     struct ml_error *err)
{
	int rc = db_begin(db, err);
	if (rc)
		return rc;
	/* Migration files are static text from this repository, not values:
	 * they run as a multi-statement script. */
	PGresult *res = PQexec(db_conn(db), m->sql);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = db_result_error(db, res, m->name, err);
		PQclear(res);
		db_rollback(db);
		return rc;
	}
	PQclear(res);
	rc = db_cmd(db, ownership_sql, 0, NULL, err);
	if (rc) {
		ml_error_prefix(err, "%s (ownership sweep): ", m->name);
		db_rollback(db);
		return rc;
	}
	const char *p[3] = { m->version, m->name, checksum };
	rc = db_cmd(db,
		    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
		    3, p, err);
	if (!rc)
		rc = db_commit(db, err);
	if (rc)
		db_rollback(db);
	return rc;
}

int db_migrate(struct db *db, const struct db_migration *list, size_t count, int *applied,
	       struct ml_error *err)
{
	if (applied)
		*applied = 0;
	if (!list)
		list = db_migrations_builtin(&count);
	int rc = db_exec(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL,
			 PGRES_TUPLES_OK, NULL, err);
	if (rc)
		return rc;
	struct db_migration_status *st = NULL;
	size_t n = 0;
	rc = db_cmd(db, ensure_table_sql, 0, NULL, err);
	if (!rc)
		rc = db_migrate_status(db, list, count, &st, &n, err);
	for (size_t i = 0; !rc && i < n; i++) {
		if (st[i].state == DB_MIG_CHANGED)
			rc = ml_errorf(
				err, ML_ECONFLICT,
				"migration %s was changed after it was applied (checksum now %.12s…); "
				"applied migrations are append-only: add a new migration instead",
				st[i].name, st[i].checksum);
	}
	for (size_t i = 0; !rc && i < n; i++) {
		if (st[i].state != DB_MIG_PENDING)
			continue;
		rc = apply_one(db, &list[i], st[i].checksum, err);
		/*
		 * Roles are cluster-wide: when two databases of one cluster are
		 * migrated at the same moment, both may pass 0001's "role exists?"
		 * check and one CREATE ROLE then fails with a unique violation.
		 * The failed migration rolled back whole, and the second attempt
		 * sees the role: retry once. Concurrent GRANT/ALTER ROLE of the same
		 * role fail instead with "tuple concurrently updated" (XX000), so
		 * any failure is retried once. A migration that is simply wrong
		 * fails the same way again and is reported.
		 */
		if (rc && rc != ML_ENOMEM)
			rc = apply_one(db, &list[i], st[i].checksum, err);
		if (!rc && applied)
			(*applied)++;
	}
	free(st);
	PGresult *r = PQexec(db_conn(db), "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
	PQclear(r);
	return rc;
}
