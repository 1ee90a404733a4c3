/*
 * order.c — distribution orders (配送) between stores (stores.h, 0201).
 */
#include <stdlib.h>
#include <string.h>

#include "stores/stores_priv.h"

static const char *const outcome_names[ORDER_OUTCOME_COUNT] = {
	[ORDER_RECEIVED] = "received",   [ORDER_ALREADY_RECEIVED] = "already_received",
	[ORDER_DUPLICATE] = "duplicate", [ORDER_MISSING_REPORTED] = "missing_reported",
	[ORDER_EXTRA] = "extra",         [ORDER_WRONG] = "wrong",
};

const char *order_outcome_name(enum order_outcome o)
{
	return (unsigned)o < ORDER_OUTCOME_COUNT ? outcome_names[o] : NULL;
}

static enum order_outcome outcome_parse(const char *s)
{
	for (int i = 0; i < ORDER_OUTCOME_COUNT; i++)
		if (!strcmp(s, outcome_names[i]))
			return (enum order_outcome)i;
	return ORDER_WRONG;
}

void order_receive_report_free(struct order_receive_report *rep)
{
	if (!rep)
		return;
	free(rep->scans);
	free(rep->page);
	rep->scans = NULL;
	rep->page = NULL;
	rep->nscans = rep->npage = rep->in_transit = 0;
}

int order_create(struct db *db, const char *from, const char *to, const struct order_line *lines,
		 size_t nlines, const char *const *barcodes, size_t nbarcodes, const char *note,
		 int64_t *order_id, struct ml_error *err)
{
	struct pgarr models, qty, bcs;
	PGresult *res = NULL;
	pgarr_init(&models);
	pgarr_init(&qty);
	for (size_t i = 0; i < nlines; i++) {
		pgarr_add(&models, lines[i].model);
		pgarr_add_i64(&qty, lines[i].quantity);
	}
	const char *m = pgarr_finish(&models), *q = pgarr_finish(&qty);
	const char *b = stores_codes_array(&bcs, barcodes, nbarcodes);
	int rc = m && q && b ? ML_OK : ml_errorf(err, ML_ENOMEM, "order: out of memory");
	if (!rc) {
		const char *p[6] = { from, to, m, q, b, note };
		rc = db_query_one(
			db, "SELECT ml_order_create($1, $2, $3::text[], $4::int[], $5::text[], $6)",
			6, p, &res, err);
		if (rc)
			ml_error_prefix(err, "order from %s to %s: ", from ? from : "?",
					to ? to : "?");
		else if (order_id)
			*order_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	}
	PQclear(res);
	pgarr_free(&models);
	pgarr_free(&qty);
	pgarr_free(&bcs);
	return rc;
}

int order_pick(struct db *db, int64_t order_id, const char *const *barcodes, size_t n,
	       struct stock_scan_report *rep, struct ml_error *err)
{
	struct stock_scan_report local;
	struct pgarr a;
	char id[24];
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	snprintf(id, sizeof(id), "%lld", (long long)order_id);
	const char *arr = stores_codes_array(&a, barcodes, n);
	int rc = arr ? ML_OK : ml_errorf(err, ML_ENOMEM, "pick: out of memory for %zu codes", n);
	if (!rc) {
		const char *p[2] = { id, arr };
		char what[48];
		snprintf(what, sizeof(what), "pick on order %s", id);
		rc = stores_scan_call(db, what,
				      "SELECT * FROM ml_order_pick($1::bigint, $2::text[])", 2, p,
				      n, rep, err);
	}
	pgarr_free(&a);
	if (rep == &local)
		stock_scan_report_free(&local);
	return rc;
}

int order_dispatch(struct db *db, int64_t order_id, size_t *count, struct ml_error *err)
{
	char id[24];
	PGresult *res = NULL;
	snprintf(id, sizeof(id), "%lld", (long long)order_id);
	const char *p[1] = { id };
	if (count)
		*count = 0;
	int rc = db_query_one(db, "SELECT ml_order_dispatch($1::bigint)", 1, p, &res, err);
	if (rc)
		return rc;
	if (count)
		*count = (size_t)strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return ML_OK;
}

int order_receive(struct db *db, int64_t order_id, const char *const *barcodes, size_t n,
		  struct order_receive_report *rep, struct ml_error *err)
{
	struct order_receive_report local;
	struct pgarr a;
	char id[24];
	PGresult *res = NULL, *miss = NULL, *cnt = NULL;
	int own = 0;
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	snprintf(id, sizeof(id), "%lld", (long long)order_id);
	const char *arr = stores_codes_array(&a, barcodes, n);
	int rc = arr ? ML_OK : ml_errorf(err, ML_ENOMEM, "receive: out of memory for %zu codes", n);
	if (!rc)
		rc = stores_tx_open(db, "order_receive", &own, err);
	if (rc)
		goto out;
	const char *p[2] = { id, arr };
	rc = db_exec(db,
		     "SELECT idx, code, outcome, msg FROM ml_order_receive($1::bigint, $2::text[])",
		     2, p, PGRES_TUPLES_OK, &res, err);
	/* What is left: a count and one bounded page, never the whole list (an
	 * order of 100 000 meters answered megabytes to every scan). The page is
	 * order_in_transit's first, so its last barcode is the cursor for the
	 * rest. Both read in the receipt's transaction: what it left. */
	if (!rc)
		rc = db_query_one(db,
				  "SELECT count(*) FROM dist_order_item "
				  "WHERE order_id = $1::bigint AND status = 'in_transit'",
				  1, p, &cnt, err);
	if (!rc)
		rc = order_in_transit(db, order_id, NULL, ORDER_RECEIVE_PAGE, &miss, err);
	if (!rc) {
		size_t ns = (size_t)PQntuples(res), nm = (size_t)PQntuples(miss);
		rep->scans = ns ? calloc(ns, sizeof(*rep->scans)) : NULL;
		rep->page = nm ? calloc(nm, sizeof(*rep->page)) : NULL;
		if ((ns && !rep->scans) || (nm && !rep->page))
			rc = ml_errorf(err, ML_ENOMEM, "receive: out of memory for %zu scans", ns);
		for (size_t i = 0; i < ns && !rc; i++) {
			struct order_scan *s = &rep->scans[i];
			s->index = (size_t)strtoul(PQgetvalue(res, (int)i, 0), NULL, 10) - 1;
			snprintf(s->code, sizeof(s->code), "%s", PQgetvalue(res, (int)i, 1));
			s->outcome = outcome_parse(PQgetvalue(res, (int)i, 2));
			snprintf(s->msg, sizeof(s->msg), "%s", PQgetvalue(res, (int)i, 3));
			rep->n[s->outcome]++;
		}
		for (size_t i = 0; i < nm && !rc; i++)
			snprintf(rep->page[i], sizeof(rep->page[i]), "%s",
				 PQgetvalue(miss, (int)i, 0));
		if (!rc) {
			rep->nscans = ns;
			rep->npage = nm;
			rep->in_transit = (size_t)strtoull(PQgetvalue(cnt, 0, 0), NULL, 10);
		}
	}
	rc = stores_tx_close(db, "order_receive", own, rc, err);
out:
	PQclear(res);
	PQclear(miss);
	PQclear(cnt);
	pgarr_free(&a);
	if (rc && rep != &local)
		order_receive_report_free(rep);
	if (rep == &local)
		order_receive_report_free(&local);
	return rc;
}

int order_close(struct db *db, int64_t order_id, const char *const *missing, size_t n,
		const char *reason, size_t *lost, struct ml_error *err)
{
	struct pgarr a;
	char id[24];
	PGresult *res = NULL;
	if (lost)
		*lost = 0;
	snprintf(id, sizeof(id), "%lld", (long long)order_id);
	const char *arr = stores_codes_array(&a, missing, n);
	int rc = arr ? ML_OK : ml_errorf(err, ML_ENOMEM, "close: out of memory");
	if (!rc) {
		const char *p[3] = { id, arr, reason };
		rc = db_query_one(db, "SELECT ml_order_close($1::bigint, $2::text[], $3)", 3, p,
				  &res, err);
		if (!rc && lost)
			*lost = (size_t)strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	}
	PQclear(res);
	pgarr_free(&a);
	return rc;
}

int order_cancel(struct db *db, int64_t order_id, const char *reason, struct ml_error *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%lld", (long long)order_id);
	const char *p[2] = { id, reason };
	return db_cmd(db, "SELECT ml_order_cancel($1::bigint, $2)", 2, p, err);
}

int order_show(struct db *db, int64_t order_id, PGresult **out, struct ml_error *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%lld", (long long)order_id);
	const char *p[1] = { id };
	*out = NULL;
	int rc = db_exec(
		db,
		"SELECT o.order_id, o.status, f.code AS from, t.code AS to, l.line_no AS line, "
		" m.code AS model, l.quantity AS wanted, l.by_barcode, "
		" count(i.asset_id) FILTER (WHERE i.status = 'planned') AS planned, "
		" count(i.asset_id) FILTER (WHERE i.status = 'picked') AS picked, "
		" count(i.asset_id) FILTER (WHERE i.status = 'in_transit') AS in_transit, "
		" count(i.asset_id) FILTER (WHERE i.status = 'received') AS received, "
		" count(i.asset_id) FILTER (WHERE i.status = 'missing') AS missing "
		"FROM dist_order o JOIN location f ON f.location_id = o.from_id "
		"JOIN location t ON t.location_id = o.to_id "
		"JOIN dist_order_line l ON l.order_id = o.order_id "
		"JOIN device_model m ON m.model_id = l.model_id "
		"LEFT JOIN dist_order_item i ON i.order_id = o.order_id AND i.line_no = l.line_no "
		"WHERE o.order_id = $1::bigint GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY l.line_no",
		1, p, PGRES_TUPLES_OK, out, err);
	if (rc)
		return rc;
	if (PQntuples(*out) == 0) {
		PQclear(*out);
		*out = NULL;
		return ml_errorf(err, ML_ENOTFOUND, "distribution order %s does not exist", id);
	}
	return ML_OK;
}

int order_in_transit(struct db *db, int64_t order_id, const char *after, int limit, PGresult **out,
		     struct ml_error *err)
{
	char id[24], lim[16];
	*out = NULL;
	if (limit < 0 || limit > ORDER_TRANSIT_PAGE_MAX)
		return ml_errorf(err, ML_EINVAL, "limit %d is not 1..%d", limit,
				 ORDER_TRANSIT_PAGE_MAX);
	snprintf(id, sizeof(id), "%lld", (long long)order_id);
	snprintf(lim, sizeof(lim), "%d", limit ? limit : ORDER_TRANSIT_PAGE_MAX);
	const char *p[3] = { id, after, lim };
	/* keyset on the barcode (bpchar: compared as text); order_receive's
	 * page is this one's first */
	return db_exec(db,
		       "SELECT a.barcode::text AS barcode FROM dist_order_item i "
		       "JOIN asset a USING (asset_id) "
		       "WHERE i.order_id = $1::bigint AND i.status = 'in_transit' "
		       "AND ($2::text IS NULL OR a.barcode::text > $2::text) "
		       "ORDER BY a.barcode::text LIMIT $3::int",
		       3, p, PGRES_TUPLES_OK, out, err);
}

int order_list(struct db *db, const char *status, PGresult **out, struct ml_error *err)
{
	const char *p[1] = { status };
	*out = NULL;
	return db_exec(
		db,
		"SELECT o.order_id, o.status, f.code AS from, t.code AS to, "
		" (SELECT login FROM app_user WHERE user_id = o.created_by) AS created_by, "
		" to_char(o.created_at, 'YYYY-MM-DD HH24:MI') AS created_at, "
		" (SELECT count(*) FROM dist_order_item i WHERE i.order_id = o.order_id "
		"  AND i.status <> 'released') AS assets "
		"FROM dist_order o JOIN location f ON f.location_id = o.from_id "
		"JOIN location t ON t.location_id = o.to_id "
		"WHERE $1::text IS NULL OR o.status = $1 ORDER BY o.order_id DESC LIMIT 1000",
		1, p, PGRES_TUPLES_OK, out, err);
}
