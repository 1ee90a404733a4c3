#include "sql/db.h"

#include <stdlib.h>
#include <string.h>

struct db {
	PGconn *conn;
};

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
	/* Quiet NOTICEs (e.g. "relation already exists, skipping"); errors still reach us. */
	PGresult *r = PQexec(conn, "SET client_min_messages = warning");
	PQclear(r);
	*out = db;
	return ML_OK;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	PQfinish(db->conn);
	free(db);
}

PGconn *db_conn(struct db *db)
{
	return db->conn;
}

static int code_for_sqlstate(const char *st)
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
	return ml_errorf(err, code_for_sqlstate(st), "%s: %s%s%s [SQLSTATE %s]",
			 what ? what : "database", prim, detail ? " — " : "", detail ? detail : "",
			 st ? st : "none");
}

int db_exec(struct db *db, const char *sql, int nparams, const char *const *params,
	    ExecStatusType expect, PGresult **out, struct ml_error *err)
{
	if (out)
		*out = NULL;
	PGresult *res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
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
	return simple(db, "BEGIN", err);
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
	if (col < 0 || row >= PQntuples(res) || PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

int db_copy_in(struct db *db, const char *copy_sql, const char *data, size_t len,
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
