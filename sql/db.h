/*
 * db.h — the one place meterlab talks to libpq.
 *
 * Every value goes to PostgreSQL as a parameter (PQexecParams); no caller
 * ever formats a value into SQL text. Errors are mapped from SQLSTATE,
 * never from message text:
 *   23505 unique violation            -> ML_EEXISTS
 *   40001 serialization, 40P01 deadlock, 55P03 lock not available -> ML_ECONFLICT
 *   22xxx data exception, 23xxx other integrity -> ML_EINVAL
 *   42501 insufficient privilege, 28000 not a meterlab user -> ML_EPERM
 *   55000 object not in prerequisite state (a state rule)   -> ML_ESTATE
 *   P0002 no data found (a function's key names nothing)    -> ML_ENOTFOUND
 *   anything else                     -> ML_EDB
 * The message carries PostgreSQL's primary message and detail.
 *
 * A struct db is one connection; it is not thread-safe: use one per thread.
 */
#ifndef ML_DB_H
#define ML_DB_H

#include <libpq-fe.h>
#include <stddef.h>

#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct db;

/*
 * Open a connection. conninfo is a libpq conninfo string or URI; when NULL
 * or empty the METERLAB_DB environment variable is used, and when that is
 * unset too, libpq's own PG* variables decide. On success *out owns the
 * connection; free it with db_close().
 */
int db_connect(const char *conninfo, struct db **out, struct ml_error *err) ML_MUSTCHECK;
void db_close(struct db *db); /* NULL-safe */
PGconn *db_conn(struct db *db);

/*
 * Prepared statements for a long-lived connection (the server's pool):
 * with the cache on, db_exec prepares each distinct data statement (SELECT,
 * WITH, INSERT, UPDATE, DELETE) once and afterwards executes it by name, so
 * library calls skip parsing and planning. Keyed by the statement's text; at
 * most 256 statements per connection, the rest run unnamed. Call
 * db_statement_cache_reset after PQreset (the server forgets prepared
 * statements with the session). Off by default: the CLI's short-lived
 * connections gain nothing from it.
 */
int db_set_statement_cache(struct db *db, int on) ML_MUSTCHECK;
void db_statement_cache_reset(struct db *db);
/* Statements prepared and executions that reused one, since the connection opened. */
void db_statement_cache_stats(const struct db *db, unsigned long *prepared, unsigned long *hits);

/*
 * Run one parameterised statement. params are text values (NULL = SQL NULL).
 * expect is PGRES_COMMAND_OK or PGRES_TUPLES_OK. On success, when out is
 * non-NULL, *out receives the result and the caller PQclear()s it; when out
 * is NULL the result is cleared here.
 */
int db_exec(struct db *db, const char *sql, int nparams, const char *const *params,
	    ExecStatusType expect, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

/*
 * db_exec with parameters in binary too (sql/pgbin.h): lengths[i] and
 * formats[i] as PQexecParams takes them (format 1: params[i] is lengths[i]
 * bytes of the type's binary form; 0: text, length ignored); both NULL:
 * every parameter text, as db_exec. Everything else as db_exec: the
 * statement cache, the transaction hook, an armed prologue.
 */
int db_exec_params(struct db *db, const char *sql, int nparams, const char *const *params,
		   const int *lengths, const int *formats, ExecStatusType expect, PGresult **out,
		   struct ml_error *err) ML_MUSTCHECK;

/*
 * Shorthands: a command (also a call "SELECT fn(...)" whose rows are
 * discarded), and a query that must return exactly one row.
 */
int db_cmd(struct db *db, const char *sql, int nparams, const char *const *params,
	   struct ml_error *err) ML_MUSTCHECK;
int db_query_one(struct db *db, const char *sql, int nparams, const char *const *params,
		 PGresult **out, struct ml_error *err) ML_MUSTCHECK;

/*
 * A transaction hook: fn runs as the first statement of every transaction
 * of this connection — right after db_begin's BEGIN, and around a statement
 * db_exec (or db_copy_in) is given outside a transaction, which then runs
 * as BEGIN; fn; statement; COMMIT instead of autocommit. The server's
 * runner uses it to prove, per transaction, the person a job acts for
 * (SELECT ml_session_assume(hash): a transaction-local setting, so each
 * transaction needs it again). When fn fails, the transaction is rolled
 * back and its error is the statement's. arg is the caller's and must
 * outlive the hook; fn NULL removes it. Statements fn runs itself are not
 * hooked again.
 */
typedef int (*db_tx_hook_fn)(struct db *db, void *arg, struct ml_error *err);
void db_set_tx_hook(struct db *db, db_tx_hook_fn fn, void *arg);

/*
 * A one-statement transaction in one round trip (the server's hot reads):
 * after db_prologue_arm, the next db_exec sends the prepared statement
 * stmt_name (with params) and then its own statement in one pipeline with
 * one sync and no BEGIN/COMMIT. PostgreSQL runs the messages up to a sync as
 * one implicit transaction, so a transaction-local setting the prologue
 * makes (ml_api_enter's proof of the session) holds for the statement, and
 * when the prologue fails the statement is skipped and the prologue's error
 * is db_exec's. After that db_exec, db_begin and db_copy_in refuse
 * (ML_EINTERNAL) until db_prologue_end: a second statement would run in a
 * transaction the prologue did not prove. params must stay valid until
 * db_prologue_settle. The connection must be outside a transaction.
 *
 * db_prologue_settle: when no statement was made (still ARMED), runs the
 * prologue alone; then says how it went: DB_PRO_OK (*res the prologue's
 * result, owned by db), or DB_PRO_FAILED (err set: its error). */
enum db_prologue_state {
	DB_PRO_OFF = 0,
	DB_PRO_ARMED,
	DB_PRO_OK,
	DB_PRO_FAILED
};
void db_prologue_arm(struct db *db, const char *stmt_name, int nparams, const char *const *params);
enum db_prologue_state db_prologue_settle(struct db *db, const PGresult **res,
					  struct ml_error *err);
void db_prologue_end(struct db *db); /* back to ordinary statements; frees the result */

/*
 * Statements sent together, one round trip for all: PostgreSQL runs them in
 * order up to one sync and skips the rest once one fails, whose error is
 * the return value. They run in the open transaction, or in one that
 * "BEGIN" among them opens — the sync then ends nothing, and a "COMMIT"
 * among them commits only when every statement before it succeeded; with
 * neither, the sync commits them as one implicit transaction. After a
 * failure inside an explicit transaction the caller rolls back
 * (db_rollback). A first statement "BEGIN" on a connection with a
 * transaction hook runs as db_begin, hook and all, before the rest are
 * sent. Values only as parameters (lengths/formats NULL for text, as
 * PQexecParams). On success out (NULL: not wanted), when given, holds n
 * results owned by the caller (PQclear); on failure none.
 */
struct db_stmt {
	const char *sql;
	int nparams;
	const char *const *params;
	const int *lengths;
	const int *formats;
	ExecStatusType expect; /* PGRES_COMMAND_OK accepts rows too, as db_cmd */
};
int db_pipeline(struct db *db, const struct db_stmt *st, size_t n, PGresult **out,
		struct ml_error *err) ML_MUSTCHECK;
/* db_pipeline that also says, on failure, which statement failed: *failed is
 * its index (n when none was to blame: the connection, the sync). */
int db_pipeline_at(struct db *db, const struct db_stmt *st, size_t n, PGresult **out,
		   size_t *failed, struct ml_error *err) ML_MUSTCHECK;

/* Transactions. db_rollback is safe to call when no transaction is open. */
int db_begin(struct db *db, struct ml_error *err) ML_MUSTCHECK;
int db_commit(struct db *db, struct ml_error *err) ML_MUSTCHECK;
void db_rollback(struct db *db);
/*
 * End the transaction a multi-step change opened: commit when rc is ML_OK,
 * roll back otherwise. Returns the final code (a failed COMMIT is reported),
 * so a change reads: rc = db_begin(); if (!rc) rc = step(); return db_finish(db, rc, err).
 */
int db_finish(struct db *db, int rc, struct ml_error *err);

/* The ml_err code of a SQLSTATE (table above); ML_EDB for NULL or an unlisted one. */
int db_sqlstate_code(const char *sqlstate);

/* Map a failed result to an ml_err code and message (prefix names the operation). */
int db_result_error(struct db *db, const PGresult *res, const char *what, struct ml_error *err);

/*
 * Value of column `name` in row `row` (points into res), or NULL for SQL NULL
 * or a row past the end. A column the result does not have is a programming
 * error: the process stops with a message naming it (never a silent NULL).
 */
const char *db_get(const PGresult *res, int row, const char *name);

/*
 * COPY FROM STDIN helper: start `copy_sql` (a COPY ... FROM STDIN statement),
 * send the bytes, finish. Text format is the caller's business.
 */
int db_copy_in(struct db *db, const char *copy_sql, const char *data, size_t len,
	       struct ml_error *err) ML_MUSTCHECK;

/* ---- migrations (sql/migrations/NNNN_name.sql, embedded at build time) ---- */

struct db_migration {
	const char *version; /* "0001" */
	const char *name;    /* "0001_init.sql" */
	const char *sql;     /* file contents */
};

/* The migrations built into this binary, in order. Static storage. */
const struct db_migration *db_migrations_builtin(size_t *count);

enum db_migration_state {
	DB_MIG_APPLIED = 0,
	DB_MIG_PENDING = 1,
	DB_MIG_CHANGED = 2
};

struct db_migration_status {
	char version[16];
	char name[128];
	enum db_migration_state state;
	char applied_at[40]; /* "" when pending */
	char checksum[65];   /* sha256 hex of the file as it is now */
};

/*
 * List applied/pending migrations. *out is malloc'd (caller frees); *n set.
 * list/count NULL = the built-in list.
 */
int db_migrate_status(struct db *db, const struct db_migration *list, size_t count,
		      struct db_migration_status **out, size_t *n,
		      struct ml_error *err) ML_MUSTCHECK;

/*
 * Apply pending migrations, each in its own transaction, recording version
 * and sha256 checksum in schema_migrations. Refuses (ML_ECONFLICT, nothing
 * applied) when an applied file's checksum changed. Serialised across
 * processes with an advisory lock. *applied (optional) counts new ones.
 */
int db_migrate(struct db *db, const struct db_migration *list, size_t count, int *applied,
	       struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
