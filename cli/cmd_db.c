/* meterlab db migrate|status — schema migrations (sql/migrations). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"

static const char *state_name(enum db_migration_state s)
{
	return s == DB_MIG_APPLIED ? "applied" : s == DB_MIG_PENDING ? "pending" : "changed";
}

static int db_status(struct cli_ctx *ctx, int argc, char **argv)
{
	struct db *db;
	int rc = cli_start_noargs(
		ctx, argc, argv,
		"usage: meterlab db status [--json]\n\n"
		"List every migration built into this binary: applied (with time), "
		"pending, or changed after it was applied (an error).",
		&db);
	if (rc || !db)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	struct db_migration_status *st = NULL;
	size_t n = 0;
	if (db_migrate_status(db, NULL, 0, &st, &n, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	int bad = 0;
	if (ctx->json)
		rc |= ml_buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		bad |= st[i].state == DB_MIG_CHANGED;
		if (ctx->json) {
			rc |= ml_buf_puts(&b, i ? ",{" : "{");
			rc |= ml_json_kv_str(&b, 1, "version", st[i].version);
			rc |= ml_json_kv_str(&b, 0, "name", st[i].name);
			rc |= ml_json_kv_str(&b, 0, "state", state_name(st[i].state));
			rc |= ml_json_kv_str(&b, 0, "applied_at",
					     st[i].applied_at[0] ? st[i].applied_at : NULL);
			rc |= ml_json_kv_str(&b, 0, "checksum", st[i].checksum);
			rc |= ml_buf_putc(&b, '}');
		} else {
			rc |= ml_buf_printf(&b, "%-8s %-40s %-8s %s\n", st[i].version, st[i].name,
					    state_name(st[i].state), st[i].applied_at);
		}
	}
	if (ctx->json)
		rc |= ml_buf_putc(&b, ']');
	free(st);
	if (rc) {
		ml_buf_free(&b);
		return CLI_INTERNAL;
	}
	rc = cli_out(&b, ctx->json);
	ml_buf_free(&b);
	if (!rc && bad) {
		fprintf(stderr,
			"meterlab: conflict: an applied migration was changed; add a new migration instead\n");
		return CLI_CONFLICT;
	}
	return rc;
}

static int db_migrate_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct db *db;
	int rc = cli_start_noargs(
		ctx, argc, argv,
		"usage: meterlab db migrate\n\n"
		"Apply pending migrations, each in one transaction, recording its "
		"checksum.\nRun it as the owner role; refuses when an applied migration file was changed.",
		&db);
	if (rc || !db)
		return rc;
	struct ml_error err = ML_ERROR_INIT;
	int applied = 0;
	if (db_migrate(db, NULL, 0, &applied, &err))
		return cli_fail(&err);
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json)
		rc = ml_buf_printf(&b, "{\"applied\":%d}", applied);
	else
		rc = ml_buf_printf(&b, "applied %d migration%s", applied, applied == 1 ? "" : "s");
	if (!rc)
		rc = cli_out(&b, 1);
	ml_buf_free(&b);
	return rc;
}

int cmd_db(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd table[] = {
		{ "migrate", db_migrate_cmd, "apply pending migrations" },
		{ "status", db_status, "list applied and pending migrations" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(ctx, "db", "Schema migrations (sql/migrations).", table, argc, argv);
}
