/*
 * count.c — stock counts (盘点) and retirement requests with a second
 * person's approval (stores.h, 0202).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stores/stores_priv.h"

static const char *const kind_names[COUNT_KIND_COUNT] = {
	[COUNT_SURPLUS] = "surplus",
	[COUNT_SHORTAGE] = "shortage",
	[COUNT_WRONG_SLOT] = "wrong_slot",
	[COUNT_UNREGISTERED] = "unregistered",
};

const char *count_kind_name(enum count_kind k)
{
	return (unsigned)k < COUNT_KIND_COUNT ? kind_names[k] : NULL;
}

void stock_count_report_free(struct stock_count_report *rep)
{
	if (!rep)
		return;
	free(rep->lines);
	rep->lines = NULL;
	rep->nlines = 0;
}

static enum count_kind kind_parse(const char *s)
{
	for (int i = 0; i < COUNT_KIND_COUNT; i++)
		if (!strcmp(s, kind_names[i]))
			return (enum count_kind)i;
	return COUNT_UNREGISTERED;
}

int stock_count_submit(struct db *db, const char *store, const char *slot, const char *const *codes,
		       size_t n, struct stock_count_report *rep, struct ml_error *err)
{
	struct stock_count_report local;
	struct pgarr a;
	PGresult *id = NULL, *res = NULL;
	int own = 0;
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	const char *arr = stores_codes_array(&a, codes, n);
	int rc = arr ? ML_OK : ml_errorf(err, ML_ENOMEM, "count: out of memory for %zu codes", n);
	if (!rc)
		rc = stores_tx_open(db, "stock_count", &own, err);
	if (rc)
		goto out;
	const char *p[3] = { store, slot, arr };
	rc = db_query_one(db, "SELECT ml_count_submit($1, $2, $3::text[])", 3, p, &id, err);
	if (!rc) {
		const char *q[1] = { PQgetvalue(id, 0, 0) };
		rep->count_id = strtoll(q[0], NULL, 10);
		rc = db_exec(db,
			     "SELECT kind, code, adjustable, note FROM stock_count_line "
			     "WHERE count_id = $1::bigint ORDER BY line_no",
			     1, q, PGRES_TUPLES_OK, &res, err);
	}
	if (!rc && PQntuples(res) > 0) {
		size_t nl = (size_t)PQntuples(res);
		rep->lines = calloc(nl, sizeof(*rep->lines));
		if (!rep->lines)
			rc = ml_errorf(err, ML_ENOMEM, "count: out of memory for %zu lines", nl);
		for (size_t i = 0; i < nl && !rc; i++) {
			struct count_line *l = &rep->lines[i];
			l->kind = kind_parse(PQgetvalue(res, (int)i, 0));
			snprintf(l->code, sizeof(l->code), "%s", PQgetvalue(res, (int)i, 1));
			l->adjustable = PQgetvalue(res, (int)i, 2)[0] == 't';
			snprintf(l->note, sizeof(l->note), "%s", PQgetvalue(res, (int)i, 3));
			rep->n[l->kind]++;
		}
		if (!rc)
			rep->nlines = nl;
	}
	rc = stores_tx_close(db, "stock_count", own, rc, err);
out:
	PQclear(id);
	PQclear(res);
	pgarr_free(&a);
	if (rc || rep == &local)
		stock_count_report_free(rep);
	return rc;
}

static int call_id_text(struct db *db, const char *sql, int64_t id, const char *text, size_t *count,
			struct ml_error *err)
{
	char s[24];
	PGresult *res = NULL;
	snprintf(s, sizeof(s), "%lld", (long long)id);
	const char *p[2] = { s, text };
	if (count)
		*count = 0;
	int rc = db_query_one(db, sql, 2, p, &res, err);
	if (rc)
		return rc;
	if (count)
		*count = (size_t)strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return ML_OK;
}

int stock_count_confirm(struct db *db, int64_t count_id, const char *reason, size_t *adjusted,
			struct ml_error *err)
{
	return call_id_text(db, "SELECT ml_count_confirm($1::bigint, $2)", count_id, reason,
			    adjusted, err);
}

int stock_count_reject(struct db *db, int64_t count_id, const char *reason, struct ml_error *err)
{
	return call_id_text(db, "SELECT ml_count_reject($1::bigint, $2)::text", count_id, reason,
			    NULL, err);
}

int stock_count_show(struct db *db, int64_t count_id, PGresult **out, struct ml_error *err)
{
	char s[24];
	snprintf(s, sizeof(s), "%lld", (long long)count_id);
	const char *p[1] = { s };
	*out = NULL;
	int rc = db_exec(
		db,
		"SELECT c.count_id, c.status, l.code AS store, s.barcode AS slot, "
		" (SELECT login FROM app_user WHERE user_id = c.counted_by) AS counted_by, "
		" (SELECT login FROM app_user WHERE user_id = c.decided_by) AS decided_by, "
		" x.line_no AS line, x.kind, x.code, x.adjustable, x.note "
		"FROM stock_count c JOIN location l ON l.location_id = c.store_id "
		"LEFT JOIN store_slot s ON s.slot_id = c.slot_id "
		"LEFT JOIN stock_count_line x ON x.count_id = c.count_id "
		"WHERE c.count_id = $1::bigint ORDER BY x.line_no",
		1, p, PGRES_TUPLES_OK, out, err);
	if (rc)
		return rc;
	if (PQntuples(*out) == 0) {
		PQclear(*out);
		*out = NULL;
		return ml_errorf(err, ML_ENOTFOUND, "stock count %s does not exist", s);
	}
	return ML_OK;
}

int retire_request(struct db *db, enum retire_action action, const char *const *barcodes, size_t n,
		   const char *reason, const char *to, int64_t *request_id, struct ml_error *err)
{
	struct pgarr a;
	PGresult *res = NULL;
	const char *act = action == RETIRE_SCRAP ? "scrap" : "return_to_maker";
	const char *arr = stores_codes_array(&a, barcodes, n);
	int rc = arr ? ML_OK : ml_errorf(err, ML_ENOMEM, "retire: out of memory");
	if (!rc) {
		const char *p[4] = { act, arr, reason, to };
		rc = db_query_one(db, "SELECT ml_retire_request($1, $2::text[], $3, $4)", 4, p,
				  &res, err);
		if (!rc && request_id)
			*request_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	}
	PQclear(res);
	pgarr_free(&a);
	return rc;
}

int retire_approve(struct db *db, int64_t request_id, const char *note, size_t *count,
		   struct ml_error *err)
{
	return call_id_text(db, "SELECT ml_retire_approve($1::bigint, $2)", request_id, note, count,
			    err);
}

int retire_reject(struct db *db, int64_t request_id, const char *note, struct ml_error *err)
{
	return call_id_text(db, "SELECT ml_retire_reject($1::bigint, $2)::text", request_id, note,
			    NULL, err);
}

int retire_list(struct db *db, const char *status, PGresult **out, struct ml_error *err)
{
	const char *p[1] = { status };
	*out = NULL;
	return db_exec(
		db,
		"SELECT r.request_id, r.action, r.status, "
		" (SELECT count(*) FROM retire_request_item i WHERE i.request_id = r.request_id) AS assets, "
		" r.reason, (SELECT login FROM app_user WHERE user_id = r.requested_by) AS requested_by, "
		" (SELECT login FROM app_user WHERE user_id = r.decided_by) AS decided_by "
		"FROM retire_request r WHERE $1::text IS NULL OR r.status = $1 "
		"ORDER BY r.request_id DESC LIMIT 1000",
		1, p, PGRES_TUPLES_OK, out, err);
}

int retire_show(struct db *db, int64_t request_id, PGresult **out, struct ml_error *err)
{
	char id[24];
	snprintf(id, sizeof id, "%" PRId64, request_id);
	const char *p[1] = { id };
	PGresult *res = NULL;
	*out = NULL;
	int rc = db_exec(db, "SELECT 1 FROM retire_request WHERE request_id = $1::bigint", 1, p,
			 PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	int known = PQntuples(res) == 1;
	PQclear(res);
	if (!known)
		return ml_errorf(err, ML_ENOTFOUND, "retirement request %s does not exist", id);
	return db_exec(db,
		       "SELECT a.barcode, m.code AS model, i.from_state, a.state, "
		       "ml_asset_place(a.asset_id) AS place "
		       "FROM retire_request_item i JOIN asset a USING (asset_id) "
		       "JOIN device_model m USING (model_id) "
		       "WHERE i.request_id = $1::bigint ORDER BY a.barcode",
		       1, p, PGRES_TUPLES_OK, out, err);
}
