#include "sql/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Prepared-statement cache (db_set_statement_cache): statements are keyed by
 * their text (not its address: some callers build SQL in stack buffers),
 * prepared once per connection as "mls_N" and executed by name afterwards.
 */
#define STMT_CACHE_SLOTS 512 /* open addressing; at most half of it used */

struct stmt_slot {
	char *sql; /* owned copy; NULL = empty */
	unsigned long hash;
	int nparams;
	unsigned long id; /* statement name mls_<id>, unique for the connection's life */
};

struct db {
	PGconn *conn;
	struct stmt_slot *stmts; /* NULL: cache off */
	int nstmts;
	unsigned long prepared, hits;
	db_tx_hook_fn hook; /* db_set_tx_hook; NULL: none */
	void *hook_arg;
	int in_hook; /* the hook's own statements are not hooked */
	/* db_prologue_arm: a prepared statement to send before the next one (not owned) */
	enum db_prologue_state pro_state;
	char pro_name[64];
	int pro_n;
	const char *const *pro_params;
	PGresult *pro_res; /* the prologue's result once sent (owned; db_prologue_end frees it) */
};

/*
 * Drops NOTICEs (e.g. a migration's "relation already exists, skipping");
 * WARNINGs and INFOs still reach stderr, as libpq's default receiver prints
 * them. This replaces a `SET client_min_messages = warning` at connect,
 * which cost every connection -- every CLI command -- a round trip.
 */
static void drop_notices(void *arg, const PGresult *res)
{
	(void)arg;
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	if (severity && !strcmp(severity, "NOTICE"))
		return;
	fputs(PQresultErrorMessage(res), stderr);
}

int db_connect(const char *conninfo, struct db **out, struct ml_error *err)
{
	*out = NULL;
	if (!conninfo || !*conninfo)
		conninfo = getenv("METERLAB_DB");
	if (!conninfo)
		conninfo = "";
	PGconn *conn = PQconnectdb(conninfo);
	if (!conn)
		return ml_errorf(err, ML_ENOMEM, "cannot allocate a database connection");
	if (PQstatus(conn) != CONNECTION_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		size_t l = strlen(msg);
		while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
			msg[--l] = '\0';
		PQfinish(conn);
		return ml_errorf(err, ML_EDB, "cannot connect to the database: %s", msg);
	}
	struct db *db = calloc(1, sizeof(*db));
	if (!db) {
		PQfinish(conn);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	db->conn = conn;
	PQsetNoticeReceiver(conn, drop_notices, NULL);
	*out = db;
	return ML_OK;
}

static void stmt_cache_clear(struct db *db)
{
	if (!db->stmts)
		return;
	for (int i = 0; i < STMT_CACHE_SLOTS; i++) {
		free(db->stmts[i].sql);
		db->stmts[i].sql = NULL;
	}
	db->nstmts = 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	stmt_cache_clear(db);
	free(db->stmts);
	PQclear(db->pro_res);
	PQfinish(db->conn);
	free(db);
}

int db_set_statement_cache(struct db *db, int on)
{
	if (!on) {
		stmt_cache_clear(db);
		free(db->stmts);
		db->stmts = NULL;
		return ML_OK;
	}
	if (!db->stmts)
		db->stmts = calloc(STMT_CACHE_SLOTS, sizeof(*db->stmts));
	return db->stmts ? ML_OK : ML_ENOMEM;
}

void db_statement_cache_reset(struct db *db)
{
	stmt_cache_clear(db);
}

void db_statement_cache_stats(const struct db *db, unsigned long *prepared, unsigned long *hits)
{
	*prepared = db->prepared;
	*hits = db->hits;
}

PGconn *db_conn(struct db *db)
{
	return db->conn;
}

int db_sqlstate_code(const char *st)
{
	if (!st)
		return ML_EDB;
	if (!strcmp(st, "23505"))
		return ML_EEXISTS;
	if (!strcmp(st, "40001") || !strcmp(st, "40P01") || !strcmp(st, "55P03"))
		return ML_ECONFLICT;
	if (!strncmp(st, "22", 2) || !strncmp(st, "23", 2))
		return ML_EINVAL;
	/* 42501 insufficient privilege (ml_require, grants), 28000 no such user */
	if (!strcmp(st, "42501") || !strcmp(st, "28000"))
		return ML_EPERM;
	/* 55000 object not in prerequisite state: a rule of a state machine */
	if (!strcmp(st, "55000"))
		return ML_ESTATE;
	/* P0002 no data found: a function was given a key that names nothing */
	if (!strcmp(st, "P0002"))
		return ML_ENOTFOUND;
	return ML_EDB;
}

int db_result_error(struct db *db, const PGresult *res, const char *what, struct ml_error *err)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *prim = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	if (!prim)
		prim = PQerrorMessage(db->conn);
	return ml_errorf(err, db_sqlstate_code(st), "%s: %s%s%s [SQLSTATE %s]",
			 what ? what : "database", prim, detail ? " — " : "", detail ? detail : "",
			 st ? st : "none");
}

/* Worth preparing: data statements (not SAVEPOINT and other utility commands). */
static int cacheable(const char *sql)
{
	while (*sql == ' ' || *sql == '\n' || *sql == '\t')
		sql++;
	static const char *const kw[] = { "SELECT", "WITH", "INSERT", "UPDATE", "DELETE" };
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
		size_t l = strlen(kw[i]);
		if (!strncmp(sql, kw[i], l) && (sql[l] == ' ' || sql[l] == '\n'))
			return 1;
	}
	return 0;
}

/*
 * The cached statement for sql, preparing it on first use; NULL when the
 * statement is to be sent unnamed (cache off or full, not cacheable, or
 * preparing failed: the unnamed execution then reports the error).
 */
static const struct stmt_slot *stmt_lookup(struct db *db, const char *sql, int nparams)
{
	if (!db->stmts || !cacheable(sql))
		return NULL;
	unsigned long h = 1469598103934665603UL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = (h ^ *p) * 1099511628211UL;
	unsigned i = (unsigned)(h % STMT_CACHE_SLOTS);
	for (; db->stmts[i].sql; i = (i + 1) % STMT_CACHE_SLOTS) {
		if (db->stmts[i].hash == h && db->stmts[i].nparams == nparams &&
		    !strcmp(db->stmts[i].sql, sql)) {
			db->hits++;
			return &db->stmts[i];
		}
	}
	/* Inside a failed transaction nothing can be prepared; keep half the slots free. */
	if (db->nstmts >= STMT_CACHE_SLOTS / 2 || PQtransactionStatus(db->conn) == PQTRANS_INERROR)
		return NULL;
	char name[24];
	snprintf(name, sizeof(name), "mls_%lu", db->prepared);
	PGresult *r = PQprepare(db->conn, name, sql, nparams, NULL);
	int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok)
		return NULL;
	char *copy = strdup(sql);
	if (!copy)
		return NULL;
	struct stmt_slot *s = &db->stmts[i];
	s->sql = copy;
	s->hash = h;
	s->nparams = nparams;
	s->id = db->prepared++;
	db->nstmts++;
	return s;
}

void db_set_tx_hook(struct db *db, db_tx_hook_fn fn, void *arg)
{
	db->hook = fn;
	db->hook_arg = arg;
}

/* A hooked connection outside a transaction: the next statement gets its own, hooked. */
static int needs_own_tx(struct db *db)
{
	return db->hook && !db->in_hook && PQtransactionStatus(db->conn) == PQTRANS_IDLE;
}

static int exec_one(struct db *db, const char *sql, int nparams, const char *const *params,
		    const int *lengths, const int *formats, ExecStatusType expect, PGresult **out,
		    struct ml_error *err)
{
	const struct stmt_slot *slot = stmt_lookup(db, sql, nparams);
	PGresult *res;
	if (slot) {
		char name[24];
		snprintf(name, sizeof(name), "mls_%lu", slot->id);
		res = PQexecPrepared(db->conn, name, nparams, params, lengths, formats, 0);
	} else {
		res = PQexecParams(db->conn, sql, nparams, NULL, params, lengths, formats, 0);
	}
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	/* A command may be a call of a database function (SELECT fn(...)):
	 * its rows are of no interest, its success is. */
	if (expect == PGRES_COMMAND_OK && st == PGRES_TUPLES_OK)
		st = PGRES_COMMAND_OK;
	if (st != expect) {
		int rc = db_result_error(db, res, "database", err);
		PQclear(res);
		return rc;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return ML_OK;
}

/* ---- a prologue and one statement in one round trip (db_prologue_arm) ---- */

void db_prologue_arm(struct db *db, const char *stmt_name, int nparams, const char *const *params)
{
	PQclear(db->pro_res);
	db->pro_res = NULL;
	snprintf(db->pro_name, sizeof(db->pro_name), "%s", stmt_name);
	db->pro_n = nparams;
	db->pro_params = params;
	db->pro_state = DB_PRO_ARMED;
}

static int prologue_spent(struct ml_error *err)
{
	return ml_errorf(err, ML_EINTERNAL,
			 "a second statement after a one-statement transaction (db_prologue_arm): "
			 "it would run outside the transaction its prologue proved");
}

/* The prologue's outcome from its result (kept for db_prologue_settle). */
static int prologue_outcome(struct db *db, PGresult *pro, struct ml_error *err)
{
	db->pro_res = pro;
	if (pro && PQresultStatus(pro) == PGRES_TUPLES_OK) {
		db->pro_state = DB_PRO_OK;
		return ML_OK;
	}
	db->pro_state = DB_PRO_FAILED;
	return db_result_error(db, pro, "database", err);
}

/*
 * The prologue and the statement in one pipeline, one sync: PostgreSQL runs
 * the messages up to the sync as one implicit transaction (no BEGIN, no
 * COMMIT), and skips the statement when the prologue fails — its error is
 * then ours. The prepared statement of the cache is made first (once per
 * connection), outside the pipeline.
 */
static int exec_prologue(struct db *db, const char *sql, int nparams, const char *const *params,
			 const int *lengths, const int *formats, ExecStatusType expect,
			 PGresult **out, struct ml_error *err)
{
	PGconn *c = db->conn;
	const struct stmt_slot *slot = stmt_lookup(db, sql, nparams);
	char name[24] = "";
	if (slot)
		snprintf(name, sizeof(name), "mls_%lu", slot->id);
	db->pro_state = DB_PRO_FAILED; /* until the prologue's result says otherwise */
	if (!PQenterPipelineMode(c))
		return ml_errorf(err, ML_EDB, "database connection busy: %s", PQerrorMessage(c));
	int sent = PQsendQueryPrepared(c, db->pro_name, db->pro_n, db->pro_params, NULL, NULL, 0) &&
		   (slot ? PQsendQueryPrepared(c, name, nparams, params, lengths, formats, 0)
			 : PQsendQueryParams(c, sql, nparams, NULL, params, lengths, formats, 0)) &&
		   PQpipelineSync(c);
	int rc = sent ? ML_OK : ml_errorf(err, ML_EDB, "database: %s", PQerrorMessage(c));
	PGresult *pro = NULL, *res = NULL;
	/* Results: the prologue's, NULL, the statement's, NULL, then the sync. */
	for (int nulls = 0; sent && nulls < 3;) {
		PGresult *r = PQgetResult(c);
		if (!r) {
			if (PQstatus(c) != CONNECTION_OK) {
				rc = ml_errorf(err, ML_EDB, "database connection lost: %s",
					       PQerrorMessage(c));
				break;
			}
			nulls++;
			continue;
		}
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (nulls == 0 && !pro)
			pro = r;
		else if (nulls == 1 && !res)
			res = r;
		else
			PQclear(r);
	}
	PQexitPipelineMode(c);
	if (rc) {
		PQclear(pro);
		PQclear(res);
		return rc;
	}
	rc = prologue_outcome(db, pro, err);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (expect == PGRES_COMMAND_OK && st == PGRES_TUPLES_OK)
		st = PGRES_COMMAND_OK;
	if (!rc && st != expect)
		rc = db_result_error(db, res, "database", err);
	if (!rc && out)
		*out = res;
	else
		PQclear(res);
	return rc;
}

enum db_prologue_state db_prologue_settle(struct db *db, const PGresult **res, struct ml_error *err)
{
	if (db->pro_state == DB_PRO_ARMED) {
		PGresult *r = PQexecPrepared(db->conn, db->pro_name, db->pro_n, db->pro_params,
					     NULL, NULL, 0);
		(void)prologue_outcome(db, r, err);
	} else if (db->pro_state == DB_PRO_FAILED) {
		(void)db_result_error(db, db->pro_res, "database", err);
	}
	if (res)
		*res = db->pro_state == DB_PRO_OK ? db->pro_res : NULL;
	return db->pro_state;
}

void db_prologue_end(struct db *db)
{
	PQclear(db->pro_res);
	db->pro_res = NULL;
	db->pro_params = NULL;
	db->pro_state = DB_PRO_OFF;
}

/* ---- statements in one round trip (db_pipeline) ---- */

int db_pipeline(struct db *db, const struct db_stmt *st, size_t n, PGresult **out,
		struct ml_error *err)
{
	return db_pipeline_at(db, st, n, out, NULL, err);
}

int db_pipeline_at(struct db *db, const struct db_stmt *st, size_t n, PGresult **out,
		   size_t *failed, struct ml_error *err)
{
	size_t at_dummy;
	if (!failed)
		failed = &at_dummy;
	*failed = n;
	for (size_t i = 0; out && i < n; i++)
		out[i] = NULL;
	if (db->pro_state != DB_PRO_OFF)
		return prologue_spent(err);
	if (n == 0)
		return ML_OK;
	if (db->hook && !db->in_hook && !strcmp(st[0].sql, "BEGIN")) {
		/* the hook's statements must follow BEGIN before any other */
		int rc = db_begin(db, err);
		if (rc)
			*failed = 0;
		if (!rc && out && !(out[0] = PQmakeEmptyPGresult(db->conn, PGRES_COMMAND_OK)))
			rc = ml_errorf(err, ML_ENOMEM, "out of memory");
		if (!rc) {
			size_t f = n - 1;
			rc = db_pipeline_at(db, st + 1, n - 1, out ? out + 1 : NULL, &f, err);
			if (rc)
				*failed = f + 1;
		}
		if (rc && out) {
			PQclear(out[0]);
			out[0] = NULL;
		}
		return rc;
	}
	PGconn *c = db->conn;
	/* Prepared statements are made (once per connection) before the pipeline. */
	unsigned long *slot = calloc(n, sizeof(*slot));
	if (!slot)
		return ml_errorf(err, ML_ENOMEM, "out of memory for %zu statements", n);
	for (size_t i = 0; i < n; i++) {
		const struct stmt_slot *sl = stmt_lookup(db, st[i].sql, st[i].nparams);
		slot[i] = sl ? sl->id + 1 : 0;
	}
	if (!PQenterPipelineMode(c)) {
		free(slot);
		return ml_errorf(err, ML_EDB, "database connection busy: %s", PQerrorMessage(c));
	}
	int sent = 1;
	for (size_t i = 0; i < n && sent; i++) {
		char name[24];
		snprintf(name, sizeof(name), "mls_%lu", slot[i] - 1);
		sent = slot[i] ? PQsendQueryPrepared(c, name, st[i].nparams, st[i].params,
						     st[i].lengths, st[i].formats, 0)
			       : PQsendQueryParams(c, st[i].sql, st[i].nparams, NULL, st[i].params,
						   st[i].lengths, st[i].formats, 0);
	}
	free(slot);
	sent = sent && PQpipelineSync(c);
	int rc = sent ? ML_OK : ml_errorf(err, ML_EDB, "database: %s", PQerrorMessage(c));
	/* Each statement's result then NULL (an aborted one's PGRES_PIPELINE_ABORTED),
	 * then the sync's. The first failure is the error: the rest were skipped. */
	size_t i = 0;
	for (int done = !sent; !done;) {
		PGresult *r = PQgetResult(c);
		if (!r) {
			if (PQstatus(c) != CONNECTION_OK) {
				if (!rc)
					rc = ml_errorf(err, ML_EDB, "database connection lost: %s",
						       PQerrorMessage(c));
				break;
			}
			i++;
			continue;
		}
		ExecStatusType s = PQresultStatus(r);
		if (s == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			done = 1;
			continue;
		}
		if (i < n && !rc) {
			ExecStatusType want = st[i].expect;
			if (want == PGRES_COMMAND_OK && s == PGRES_TUPLES_OK)
				s = PGRES_COMMAND_OK;
			if (s != want) {
				rc = db_result_error(db, r, "database", err);
				*failed = i;
			}
		}
		if (i < n && out && !out[i])
			out[i] = r;
		else
			PQclear(r);
	}
	PQexitPipelineMode(c);
	for (size_t k = 0; rc && out && k < n; k++) {
		PQclear(out[k]);
		out[k] = NULL;
	}
	return rc;
}

int db_exec(struct db *db, const char *sql, int nparams, const char *const *params,
	    ExecStatusType expect, PGresult **out, struct ml_error *err)
{
	return db_exec_params(db, sql, nparams, params, NULL, NULL, expect, out, err);
}

int db_exec_params(struct db *db, const char *sql, int nparams, const char *const *params,
		   const int *lengths, const int *formats, ExecStatusType expect, PGresult **out,
		   struct ml_error *err)
{
	if (out)
		*out = NULL;
	if (db->pro_state == DB_PRO_ARMED)
		return exec_prologue(db, sql, nparams, params, lengths, formats, expect, out, err);
	if (db->pro_state != DB_PRO_OFF)
		return prologue_spent(err);
	if (!needs_own_tx(db))
		return exec_one(db, sql, nparams, params, lengths, formats, expect, out, err);
	PGresult *res = NULL;
	int rc = db_begin(db, err);
	if (!rc)
		rc = exec_one(db, sql, nparams, params, lengths, formats, expect, &res, err);
	rc = db_finish(db, rc, err);
	if (!rc && out)
		*out = res;
	else
		PQclear(res);
	return rc;
}

int db_cmd(struct db *db, const char *sql, int nparams, const char *const *params,
	   struct ml_error *err)
{
	return db_exec(db, sql, nparams, params, PGRES_COMMAND_OK, NULL, err);
}

int db_query_one(struct db *db, const char *sql, int nparams, const char *const *params,
		 PGresult **out, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(db, sql, nparams, params, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res) != 1) {
		int n = PQntuples(res);
		PQclear(res);
		return ml_errorf(err, n == 0 ? ML_ENOTFOUND : ML_EINTERNAL,
				 "expected one row, got %d", n);
	}
	*out = res;
	return ML_OK;
}

static int simple(struct db *db, const char *sql, struct ml_error *err)
{
	PGresult *res = PQexec(db->conn, sql);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		int rc = db_result_error(db, res, sql, err);
		PQclear(res);
		return rc;
	}
	PQclear(res);
	return ML_OK;
}

int db_begin(struct db *db, struct ml_error *err)
{
	if (db->pro_state != DB_PRO_OFF)
		return prologue_spent(err);
	int rc = simple(db, "BEGIN", err);
	if (rc || !db->hook || db->in_hook)
		return rc;
	db->in_hook = 1;
	rc = db->hook(db, db->hook_arg, err);
	db->in_hook = 0;
	if (rc)
		db_rollback(db);
	return rc;
}

int db_commit(struct db *db, struct ml_error *err)
{
	return simple(db, "COMMIT", err);
}

void db_rollback(struct db *db)
{
	if (PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		PGresult *r = PQexec(db->conn, "ROLLBACK");
		PQclear(r);
	}
}

int db_finish(struct db *db, int rc, struct ml_error *err)
{
	if (!rc)
		rc = db_commit(db, err);
	if (rc)
		db_rollback(db);
	return rc;
}

const char *db_get(const PGresult *res, int row, const char *name)
{
	int col = PQfnumber(res, name);
	if (col < 0) {
		/* A misspelled or dropped column is a bug in the caller's SQL, not
		 * data: returning NULL made it look like SQL NULL and callers fed it
		 * to atoi/strcmp as "no value" (issue 9). Stop loudly instead. */
		fprintf(stderr, "meterlab: internal error: db_get: the result has no column '%s'\n",
			name ? name : "(null)");
		abort();
	}
	if (row >= PQntuples(res) || PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

static int copy_in(struct db *db, const char *copy_sql, const char *data, size_t len,
		   struct ml_error *err);

int db_copy_in(struct db *db, const char *copy_sql, const char *data, size_t len,
	       struct ml_error *err)
{
	if (db->pro_state != DB_PRO_OFF)
		return prologue_spent(err);
	if (!needs_own_tx(db))
		return copy_in(db, copy_sql, data, len, err);
	int rc = db_begin(db, err);
	if (!rc)
		rc = copy_in(db, copy_sql, data, len, err);
	return db_finish(db, rc, err);
}

static int copy_in(struct db *db, const char *copy_sql, const char *data, size_t len,
		   struct ml_error *err)
{
	PGresult *res = PQexec(db->conn, copy_sql);
	if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
		int rc = db_result_error(db, res, "COPY", err);
		PQclear(res);
		return rc;
	}
	PQclear(res);
	/* PQputCopyData takes an int length: feed large inputs in chunks. */
	const size_t chunk = 1 << 20;
	int sent = 1;
	for (size_t off = 0; off < len && sent; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		sent = PQputCopyData(db->conn, data + off, (int)n) == 1;
	}
	/* End the COPY exactly once (with an error message when sending failed,
	 * which makes the server fail it) and always drain the results: returning
	 * with a result pending left the connection busy for the next command. */
	int rc = ML_OK;
	if (PQputCopyEnd(db->conn, sent ? NULL : "client send failed") != 1 || !sent)
		rc = ml_errorf(err, ML_EDB, "COPY: sending data failed: %s",
			       PQerrorMessage(db->conn));
	while ((res = PQgetResult(db->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == ML_OK)
			rc = db_result_error(db, res, "COPY", err);
		PQclear(res);
	}
	return rc;
}
