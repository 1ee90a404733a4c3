/* meterlab db migrate|status — schema migrations (sql/migrations). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"

static const char *state_name(enum db_migration_state s)
{
	return s == DB_MIG_APPLIED ? "applied" : s == DB_MIG_PENDING ? "pending" : "changed";
}

static void status_out(struct ml_buf *b, int json, const struct db_migration_status *st, size_t n)
{
	if (json)
		ml_buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (json) {
			ml_buf_puts(b, i ? ",{" : "{");
			ml_json_kv_str(b, 1, "version", st[i].version);
			ml_json_kv_str(b, 0, "name", st[i].name);
			ml_json_kv_str(b, 0, "state", state_name(st[i].state));
			ml_json_kv_str(b, 0, "applied_at",
				       st[i].applied_at[0] ? st[i].applied_at : NULL);
			ml_json_kv_str(b, 0, "checksum", st[i].checksum);
			ml_buf_putc(b, '}');
		} else {
			ml_buf_printf(b, "%-8s %-40s %-8s %s\n", st[i].version, st[i].name,
				      state_name(st[i].state), st[i].applied_at);
		}
	}
	if (json)
		ml_buf_putc(b, ']');
}

static int db_status(struct cli_ctx *ctx, struct cli_call *c)
{
	struct db_migration_status *st = NULL;
	struct ml_buf b = ML_BUF_INIT;
	size_t n = 0;
	int rc = db_migrate_status(c->db, NULL, 0, &st, &n, &c->err);
	if (rc)
		goto out;
	status_out(&b, ctx->json, st, n);
	rc = cli_emit(c, &b, ctx->json);
	for (size_t i = 0; i < n && !rc; i++) {
		if (st[i].state == DB_MIG_CHANGED)
			rc = ml_errorf(&c->err, ML_ECONFLICT,
				       "an applied migration was changed; add a new migration "
				       "instead");
	}
out:
	free(st);
	ml_buf_free(&b);
	return rc;
}

static int db_migrate_cmd(struct cli_ctx *ctx, struct cli_call *c)
{
	int applied = 0;
	int rc = db_migrate(c->db, NULL, 0, &applied, &c->err);
	if (rc)
		return rc;
	if (ctx->json)
		return cli_printf(c, "{\"applied\":%d}\n", applied);
	return cli_printf(c, "applied %d migration%s\n", applied, applied == 1 ? "" : "s");
}

static const struct cli_cmd db_cmds[] = {
	{ .name = "migrate",
	  .run = db_migrate_cmd,
	  .flags = CLI_NEED_DB,
	  .summary = "apply pending migrations",
	  .help = "usage: meterlab db migrate\n\n"
		  "Apply pending migrations, each in one transaction, recording its checksum.\n"
		  "Run it as the owner role; refuses when an applied migration file was changed." },
	{ .name = "status",
	  .run = db_status,
	  .flags = CLI_NEED_DB,
	  .summary = "list applied and pending migrations",
	  .help = "usage: meterlab db status [--json]\n\n"
		  "List every migration built into this binary: applied (with time), pending, or\n"
		  "changed after it was applied (an error)." },
	{ .name = NULL },
};

const struct cli_cmd cmd_db = { .name = "db",
				.help = "Schema migrations (sql/migrations).",
				.sub = db_cmds };
