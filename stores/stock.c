/*
 * stock.c — slots, put-away, stock queries, validity and re-verification
 * (stores.h). The rules live in the database functions (0200); this side
 * builds the arrays, runs one transaction and turns refusals into reports.
 */
#include <stdlib.h>
#include <string.h>

#include "sql/pgarr.h"
#include "stores/stores_priv.h"

void stock_scan_report_free(struct stock_scan_report *rep)
{
	if (!rep)
		return;
	free(rep->refused);
	rep->refused = NULL;
	rep->nrefused = 0;
}

int stores_tx_open(struct db *db, const char *sp, int *own, struct ml_error *err)
{
	char sql[96];
	*own = PQtransactionStatus(db_conn(db)) == PQTRANS_IDLE;
	if (*own)
		return db_begin(db, err);
	snprintf(sql, sizeof(sql), "SAVEPOINT %s", sp);
	return db_cmd(db, sql, 0, NULL, err);
}

int stores_tx_close(struct db *db, const char *sp, int own, int rc, struct ml_error *err)
{
	char sql[96];
	if (own) {
		if (rc) {
			db_rollback(db);
			return rc;
		}
		return db_commit(db, err);
	}
	if (!rc) {
		snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT %s", sp);
		return db_cmd(db, sql, 0, NULL, err);
	}
	/* Best effort: if even this fails the caller's transaction is aborted
	 * and the caller rolls it back anyway. */
	struct ml_error ignore = ML_ERROR_INIT;
	snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT %s", sp);
	int r2 = db_cmd(db, sql, 0, NULL, &ignore);
	snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT %s", sp);
	if (r2 == ML_OK)
		r2 = db_cmd(db, sql, 0, NULL, &ignore);
	(void)r2;
	return rc;
}

const char *stores_codes_array(struct pgarr *a, const char *const *codes, size_t n)
{
	pgarr_init(a);
	for (size_t i = 0; i < n; i++)
		pgarr_add(a, codes[i]);
	return pgarr_finish(a);
}

/* Run a function returning ml_scan_refusal rows (idx, code, sqlstate, msg)
 * in one transaction; fill rep; roll back when anything was refused. */
int stores_scan_call(struct db *db, const char *what, const char *sql, int np,
		     const char *const *params, size_t n, struct stock_scan_report *rep,
		     struct ml_error *err)
{
	PGresult *res = NULL;
	int own = 0;
	int rc = stores_tx_open(db, "stores_scan", &own, err);
	if (rc)
		return rc;
	rc = db_exec(db, sql, np, params, PGRES_TUPLES_OK, &res, err);
	int nr = rc ? 0 : PQntuples(res);
	if (!rc && nr > 0) {
		rep->refused = calloc((size_t)nr, sizeof(*rep->refused));
		if (!rep->refused) {
			rc = ml_errorf(err, ML_ENOMEM, "%s: out of memory for %d refusals", what,
				       nr);
		} else {
			for (int i = 0; i < nr; i++) {
				struct stock_refusal *r = &rep->refused[i];
				r->index = (size_t)strtoul(PQgetvalue(res, i, 0), NULL, 10) - 1;
				snprintf(r->code, sizeof(r->code), "%s", PQgetvalue(res, i, 1));
				r->err = db_sqlstate_code(PQgetvalue(res, i, 2));
				snprintf(r->msg, sizeof(r->msg), "%s", PQgetvalue(res, i, 3));
			}
			rep->nrefused = (size_t)nr;
			rc = ml_errorf(err, rep->refused[0].err,
				       "%s: %zu of %zu refused, nothing changed; %s", what,
				       rep->nrefused, n, rep->refused[0].msg);
		}
	}
	PQclear(res);
	rc = stores_tx_close(db, "stores_scan", own, rc, err);
	rep->done = rc ? 0 : n;
	return rc;
}

int stock_slot_add(struct db *db, const char *store, const char *barcode, const char *kind,
		   const char *parent, const char *name, int64_t *slot_id, struct ml_error *err)
{
	const char *p[5] = { store, barcode, kind, parent, name };
	PGresult *res = NULL;
	int rc = db_query_one(db, "SELECT ml_slot_add($1, $2, $3, $4, $5)", 5, p, &res, err);
	if (rc)
		return ml_error_prefix(err, "slot %s: ", barcode ? barcode : "(none)");
	if (slot_id)
		*slot_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return ML_OK;
}

int stock_slot_list(struct db *db, const char *store, PGresult **out, struct ml_error *err)
{
	*out = NULL;
	if (!store || !*store)
		return ml_errorf(err, ML_EINVAL, "slots: a store code is required");
	const char *p[1] = { store };
	PGresult *res = NULL;
	int rc = db_exec(db,
			 "SELECT 1 FROM location WHERE code = $1 "
			 "AND kind IN ('central_store', 'secondary_store')",
			 1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return ml_error_prefix(err, "slots of %s: ", store);
	int found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		return ml_errorf(err, ML_ENOTFOUND, "store '%s' not found", store);
	rc = db_exec(db,
		     "SELECT s.barcode, s.kind, s.name, p.barcode AS parent FROM store_slot s "
		     "JOIN location l ON l.location_id = s.store_id "
		     "LEFT JOIN store_slot p ON p.slot_id = s.parent_id "
		     "WHERE l.code = $1 ORDER BY s.barcode",
		     1, p, PGRES_TUPLES_OK, out, err);
	return rc ? ml_error_prefix(err, "slots of %s: ", store) : ML_OK;
}

int stock_putaway(struct db *db, const char *const *codes, size_t n, struct stock_scan_report *rep,
		  struct ml_error *err)
{
	struct stock_scan_report local;
	struct pgarr a;
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	const char *arr = stores_codes_array(&a, codes, n);
	int rc = arr ? ML_OK
		     : ml_errorf(err, ML_ENOMEM, "put-away: out of memory for %zu codes", n);
	if (!rc) {
		const char *p[1] = { arr };
		size_t assets = 0;
		for (size_t i = 0; i < n; i++)
			assets += codes[i] && strlen(codes[i]) == 22 &&
				  strspn(codes[i], "0123456789") == 22;
		rc = stores_scan_call(db, "put-away", "SELECT * FROM ml_stock_putaway($1::text[])",
				      1, p, n, rep, err);
		rep->done = rc ? 0 : assets;
	}
	pgarr_free(&a);
	if (rep == &local)
		stock_scan_report_free(&local);
	return rc;
}

int stock_counts(struct db *db, const struct stock_filter *f, PGresult **out, struct ml_error *err)
{
	static const struct stock_filter none;
	char months[16];
	if (!f)
		f = &none;
	*out = NULL;
	snprintf(months, sizeof(months), "%d", f->min_age_months > 0 ? f->min_age_months : 0);
	const char *p[8] = {
		f->store, f->slot, f->model, f->state, f->lot, months, f->by_slot ? "t" : "f"
	};
	int rc = db_exec(
		db,
		"SELECT l.code AS store, CASE WHEN $7::boolean THEN coalesce(s.barcode, '-') END AS slot, "
		" m.code AS model, lt.code AS lot, a.state, count(*) AS assets, "
		/* China's day, as the certificates print it (0141 ml_cert_today):
		 * the session's zone is whatever the server runs in */
		" (min(a.verified_at) AT TIME ZONE 'Asia/Shanghai')::date AS oldest_verified, "
		" count(*) FILTER (WHERE ml_issue_problem(a.valid_until, a.verified_at, "
		"  ml_setting_e4('stock.reverify_months')) IS NOT NULL) AS not_valid "
		"FROM asset a JOIN location l ON l.location_id = a.location_id "
		" AND l.kind IN ('central_store', 'secondary_store') "
		"JOIN device_model m ON m.model_id = a.model_id JOIN lot lt ON lt.lot_id = a.lot_id "
		"LEFT JOIN asset_slot x ON x.asset_id = a.asset_id "
		"LEFT JOIN store_slot s ON s.slot_id = x.slot_id "
		"WHERE ($1::text IS NULL OR l.code = $1) AND ($2::text IS NULL OR s.barcode = $2) "
		" AND ($3::text IS NULL OR m.code = $3) AND ($4::text IS NULL OR a.state = $4) "
		" AND ($5::text IS NULL OR lt.code = $5) "
		" AND ($6::int = 0 OR a.verified_at < now() - make_interval(months => $6::int)) "
		"GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
		7, p, PGRES_TUPLES_OK, out, err);
	return rc ? ml_error_prefix(err, "stock counts: ") : ML_OK;
}

int stock_where(struct db *db, const char *barcode, struct stock_whereabouts *out,
		struct ml_error *err)
{
	const char *p[1] = { barcode };
	PGresult *res = NULL;
	memset(out, 0, sizeof(*out));
	int rc = db_exec(db,
			 "SELECT ml_asset_place(asset_id), state, ml_asset_issue_problem(asset_id) "
			 "FROM asset WHERE ml_barcode_ok($1) AND barcode = $1::bpchar",
			 1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res) == 0) {
		rc = ml_errorf(err, ML_ENOTFOUND, "asset %s is not registered", barcode);
	} else {
		snprintf(out->place, sizeof(out->place), "%s", PQgetvalue(res, 0, 0));
		snprintf(out->state, sizeof(out->state), "%s", PQgetvalue(res, 0, 1));
		snprintf(out->why, sizeof(out->why), "%s", PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return rc;
}

int stock_place(struct db *db, const char *barcode, char *place, size_t cap, struct ml_error *err)
{
	const char *p[1] = { barcode };
	PGresult *res = NULL;
	if (cap)
		place[0] = '\0';
	int rc = db_exec(db,
			 "SELECT ml_asset_place(asset_id) FROM asset "
			 "WHERE ml_barcode_ok($1) AND barcode = $1::bpchar",
			 1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res) == 0)
		rc = ml_errorf(err, ML_ENOTFOUND, "asset %s is not registered", barcode);
	else if (cap)
		snprintf(place, cap, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/* One CSV field (RFC 4180 quoting when needed). */
void stores_csv_field(struct ml_buf *b, const char *s)
{
	if (!s)
		s = "";
	if (!strpbrk(s, ",\"\r\n")) {
		ml_buf_puts(b, s);
		return;
	}
	ml_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			ml_buf_putc(b, '"');
		ml_buf_putc(b, *s);
	}
	ml_buf_putc(b, '"');
}

int stock_reverify_csv(struct db *db, const char *store, struct ml_buf *out, size_t *count,
		       struct ml_error *err)
{
	const char *p[1] = { store };
	PGresult *res = NULL;
	if (count)
		*count = 0;
	int rc = db_exec(db, "SELECT * FROM ml_stock_reverify_list($1)", 1, p, PGRES_TUPLES_OK,
			 &res, err);
	if (rc)
		return ml_error_prefix(err, "re-verification list: ");
	int nf = PQnfields(res);
	for (int j = 0; j < nf; j++) {
		if (j)
			ml_buf_putc(out, ',');
		stores_csv_field(out, PQfname(res, j));
	}
	ml_buf_putc(out, '\n');
	for (int i = 0; i < PQntuples(res); i++) {
		for (int j = 0; j < nf; j++) {
			if (j)
				ml_buf_putc(out, ',');
			stores_csv_field(out, PQgetvalue(res, i, j));
		}
		ml_buf_putc(out, '\n');
	}
	if (count)
		*count = (size_t)PQntuples(res);
	PQclear(res);
	if (ml_buf_failed(out))
		return ml_errorf(err, ML_ENOMEM, "re-verification list: out of memory");
	return ML_OK;
}

int stock_reverify_send(struct db *db, const char *const *barcodes, size_t n, const char *lab,
			const char *reason, struct stock_scan_report *rep, struct ml_error *err)
{
	struct stock_scan_report local;
	struct pgarr a;
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	const char *arr = stores_codes_array(&a, barcodes, n);
	int rc = arr ? ML_OK
		     : ml_errorf(err, ML_ENOMEM, "re-verify: out of memory for %zu codes", n);
	if (!rc) {
		const char *p[3] = { arr, lab, reason };
		rc = stores_scan_call(db, "send for re-verification",
				      "SELECT * FROM ml_stock_reverify_send($1::text[], $2, $3)", 3,
				      p, n, rep, err);
	}
	pgarr_free(&a);
	if (rep == &local)
		stock_scan_report_free(&local);
	return rc;
}

int stock_scan_parse(const char *data, size_t len, char ***codes, size_t *n, size_t **lines,
		     struct ml_error *err)
{
	*codes = NULL;
	*n = 0;
	if (lines)
		*lines = NULL;
	size_t cap_lines = 1;
	for (size_t i = 0; i < len; i++)
		cap_lines += data[i] == '\n';
	/* one block: the pointer array, then the strings (each at most its line) */
	char **block = malloc(cap_lines * sizeof(char *) + len + cap_lines);
	size_t *ln = lines ? malloc(cap_lines * sizeof(size_t)) : NULL;
	if (!block || (lines && !ln)) {
		free(block);
		free(ln);
		return ml_errorf(err, ML_ENOMEM, "scan list: out of memory (%zu bytes)", len);
	}
	char *w = (char *)(block + cap_lines);
	size_t k = 0, lineno = 0, pos = 0;
	int rc = ML_OK;
	while (pos < len && !rc) {
		size_t end = pos;
		while (end < len && data[end] != '\n')
			end++;
		lineno++;
		size_t e = end;
		if (e > pos && data[e - 1] == '\r')
			e--;
		/* the first CSV field, unquoted when quoted */
		size_t fs = pos, fe = pos;
		while (fe < e && data[fe] != ',')
			fe++;
		while (fs < fe && (data[fs] == ' ' || data[fs] == '\t'))
			fs++;
		while (fe > fs && (data[fe - 1] == ' ' || data[fe - 1] == '\t'))
			fe--;
		if (fe - fs >= 2 && data[fs] == '"' && data[fe - 1] == '"') {
			fs++;
			fe--;
		}
		for (size_t i = pos; i < e && !rc; i++) {
			unsigned char ch = (unsigned char)data[i];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				rc = ml_errorf(
					err, ML_EINVAL,
					"scan list line %zu: control character 0x%02x at column %zu; "
					"nothing read",
					lineno, ch, i - pos + 1);
		}
		if (!rc && fe - fs > 64)
			rc = ml_errorf(
				err, ML_EINVAL,
				"scan list line %zu: code of %zu characters (at most 64); nothing read",
				lineno, fe - fs);
		int header = k == 0 && ((fe - fs == 7 && !strncmp(data + fs, "barcode", 7)) ||
					(fe - fs == 4 && !strncmp(data + fs, "code", 4)));
		int comment = fe > fs && data[fs] == '#';
		if (!rc && fe > fs && !header && !comment) {
			memcpy(w, data + fs, fe - fs);
			w[fe - fs] = '\0';
			block[k] = w;
			if (ln)
				ln[k] = lineno;
			k++;
			w += fe - fs + 1;
		}
		pos = end + 1;
	}
	if (rc) {
		free(block);
		free(ln);
		return rc;
	}
	*codes = block;
	*n = k;
	if (lines)
		*lines = ln;
	return ML_OK;
}
