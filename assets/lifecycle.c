/*
 * lifecycle.c — lookups and all-or-nothing lifecycle moves against
 * PostgreSQL. The transition rules live in asset_state.c; this file checks
 * every move against them, then applies all state changes as
 * compare-and-set updates with their history events in one statement.
 */
#include "assets/lifecycle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets/asset_priv.h"
#include "assets/barcode.h"

/* Columns read by lookup and by the batch pre-check. */
#define ASSET_SELECT                                                                             \
	"SELECT a.asset_id, a.barcode, a.model_id, m.code AS model_code, lot.code AS lot_code, " \
	"a.state, coalesce(l.code, '') AS location, coalesce(l.kind, '') AS location_kind, "     \
	"coalesce(to_char(a.valid_until, 'YYYY-MM-DD'), '') AS valid_until, "                    \
	"(a.valid_until IS NOT NULL AND a.valid_until < current_date) AS expired "               \
	"FROM asset a JOIN device_model m ON m.model_id = a.model_id "                           \
	"JOIN lot ON lot.lot_id = a.lot_id LEFT JOIN location l ON l.location_id = a.location_id "

static int info_from_row(const PGresult *res, int row, struct asset_info *out, struct ml_error *err)
{
	memset(out, 0, sizeof(*out));
	out->asset_id = strtoll(db_get(res, row, "asset_id"), NULL, 10);
	out->model_id = strtoll(db_get(res, row, "model_id"), NULL, 10);
	snprintf(out->barcode, sizeof(out->barcode), "%s", db_get(res, row, "barcode"));
	snprintf(out->model_code, sizeof(out->model_code), "%s", db_get(res, row, "model_code"));
	snprintf(out->lot_code, sizeof(out->lot_code), "%s", db_get(res, row, "lot_code"));
	snprintf(out->location, sizeof(out->location), "%s", db_get(res, row, "location"));
	snprintf(out->valid_until, sizeof(out->valid_until), "%s", db_get(res, row, "valid_until"));
	return asset_state_parse(db_get(res, row, "state"), &out->state, err);
}

int asset_lookup(struct db *db, const char *barcode, struct asset_info *out, struct ml_error *err)
{
	int rc = barcode_validate(barcode, err);
	if (rc)
		return rc;
	PGresult *res = NULL;
	const char *p[1] = { barcode };
	rc = db_exec(db, ASSET_SELECT "WHERE a.barcode = $1", 1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res) == 0)
		rc = ml_errorf(err, ML_ENOTFOUND, "asset with barcode '%s' is not registered",
			       barcode);
	else
		rc = info_from_row(res, 0, out, err);
	PQclear(res);
	return rc;
}

void asset_move_report_free(struct asset_move_report *rep)
{
	if (!rep)
		return;
	free(rep->refused);
	rep->refused = NULL;
	rep->nrefused = 0;
}

/* ---- batch state: one entry per move, filled by the pre-check ---- */

struct plan {
	const struct asset_move *mv;
	size_t n;
	long long *asset_id;
	enum asset_state *from, *to;
	const char **loc_id; /* location_id text, NULL = keep; points into locs result */
	PGresult *assets;    /* rows ordered by barcode */
	PGresult *locs;
	struct asset_refusal *ref;
	size_t nref;
	unsigned char *bad; /* bad[i]: move i already refused */
	int first_code;
};

static void refuse(struct plan *p, size_t i, int code, const char *fmt, ...) ML_PRINTF(4, 5);
static void refuse(struct plan *p, size_t i, int code, const char *fmt, ...)
{
	if (p->bad[i])
		return; /* one reason per move is enough */
	p->bad[i] = 1;
	struct asset_refusal *r = &p->ref[p->nref++];
	r->index = i;
	r->code = code;
	snprintf(r->barcode, sizeof(r->barcode), "%s", p->mv[i].barcode ? p->mv[i].barcode : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	if (!p->first_code)
		p->first_code = code;
}

static int plan_alloc(struct plan *p, const struct asset_move *mv, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->mv = mv;
	p->n = n;
	p->asset_id = calloc(n, sizeof(*p->asset_id));
	p->from = calloc(n, sizeof(*p->from));
	p->to = calloc(n, sizeof(*p->to));
	p->loc_id = calloc(n, sizeof(*p->loc_id));
	p->ref = calloc(n, sizeof(*p->ref));
	p->bad = calloc(n, 1);
	return p->asset_id && p->from && p->to && p->loc_id && p->ref && p->bad ? ML_OK : ML_ENOMEM;
}

static void plan_free(struct plan *p)
{
	free(p->asset_id);
	free(p->from);
	free(p->to);
	free(p->loc_id);
	free(p->ref);
	free(p->bad);
	PQclear(p->assets);
	PQclear(p->locs);
}

/* qsort has no context argument in C17: the base is thread-local. */
static _Thread_local const char *const *sort_base;
static int cmp_idx(const void *a, const void *b)
{
	return strcmp(sort_base[*(const size_t *)a], sort_base[*(const size_t *)b]);
}

/* Syntax checks in C: barcode well-formed, not twice in the batch, dates. */
static int check_syntax(struct plan *p)
{
	const char **bc = calloc(p->n, sizeof(*bc));
	size_t *idx = calloc(p->n, sizeof(*idx));
	if (!bc || !idx) {
		free(bc);
		free(idx);
		return ML_ENOMEM;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct ml_error e = ML_ERROR_INIT;
		bc[i] = p->mv[i].barcode ? p->mv[i].barcode : "";
		idx[i] = i;
		if (barcode_validate(p->mv[i].barcode, &e))
			refuse(p, i, e.code, "%s", e.msg);
		else if (!asset_action_name(p->mv[i].action))
			refuse(p, i, ML_EINVAL, "asset %s: unknown action %d", bc[i],
			       (int)p->mv[i].action);
		else if (p->mv[i].valid_until && !asset_date_ok(p->mv[i].valid_until))
			refuse(p, i, ML_EINVAL,
			       "asset %s: valid_until '%s' is not a date YYYY-MM-DD", bc[i],
			       p->mv[i].valid_until);
		else if (p->mv[i].valid_until && p->mv[i].action != ASSET_ACT_VERIFY_PASS)
			/* it used to be ignored silently: the clerk believed a validity was recorded */
			refuse(p, i, ML_EINVAL,
			       "asset %s: valid_until '%s' is set by verify_pass only, not by %s",
			       bc[i], p->mv[i].valid_until, asset_action_name(p->mv[i].action));
	}
	sort_base = bc;
	qsort(idx, p->n, sizeof(*idx), cmp_idx);
	for (size_t k = 1; k < p->n; k++) {
		if (*bc[idx[k]] && !strcmp(bc[idx[k]], bc[idx[k - 1]]))
			refuse(p, idx[k], ML_EINVAL,
			       "asset %s appears more than once in the batch (moves %zu and %zu)",
			       bc[idx[k]], idx[k - 1] + 1, idx[k] + 1);
	}
	free(bc);
	free(idx);
	return ML_OK;
}

/*
 * Fetch every asset and location the batch names, in two queries. The array
 * is bpchar[] so the comparison uses the barcode index (text[] would cast
 * the column and scan the whole table).
 */
static int fetch(struct db *db, struct plan *p, struct ml_error *err)
{
	struct pgarr bcs, locs;
	pgarr_init(&bcs);
	pgarr_init(&locs);
	for (size_t i = 0; i < p->n; i++) {
		pgarr_add(&bcs, p->mv[i].barcode ? p->mv[i].barcode : "");
		if (p->mv[i].location)
			pgarr_add(&locs, p->mv[i].location);
	}
	const char *pb[1] = { pgarr_finish(&bcs) };
	const char *pl[1] = { pgarr_finish(&locs) };
	int rc = !pb[0] || !pl[0] ? ml_errorf(err, ML_ENOMEM, "out of memory building the batch")
				  : ML_OK;
	if (!rc)
		rc = db_exec(db,
			     ASSET_SELECT "WHERE a.barcode = ANY($1::bpchar[]) ORDER BY a.barcode",
			     1, pb, PGRES_TUPLES_OK, &p->assets, err);
	if (!rc)
		rc = db_exec(
			db,
			"SELECT location_id, code, kind FROM location WHERE code = ANY($1::text[])",
			1, pl, PGRES_TUPLES_OK, &p->locs, err);
	pgarr_free(&bcs);
	pgarr_free(&locs);
	return rc;
}

static int find_asset_row(const PGresult *res, const char *bc)
{
	int lo = 0, hi = PQntuples(res) - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int c = strcmp(PQgetvalue(res, mid, 1), bc);
		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int find_loc_row(const PGresult *res, const char *code)
{
	for (int r = 0; r < PQntuples(res); r++) {
		if (!strcmp(PQgetvalue(res, r, 1), code))
			return r;
	}
	return -1;
}

/* Check one move against the state machine and the verification period. */
static void check_move(struct plan *p, size_t i)
{
	const struct asset_move *m = &p->mv[i];
	int row = find_asset_row(p->assets, m->barcode);
	if (row < 0) {
		refuse(p, i, ML_ENOTFOUND, "asset %s is not registered", m->barcode);
		return;
	}
	struct asset_info info;
	struct ml_error e = ML_ERROR_INIT;
	if (info_from_row(p->assets, row, &info, &e)) {
		refuse(p, i, e.code, "asset %s: %s", m->barcode, e.msg);
		return;
	}
	/* Where the asset ends up: the given location, else where it is now. */
	const char *dest = info.location, *dest_kind = db_get(p->assets, row, "location_kind");
	if (m->location) {
		int lr = find_loc_row(p->locs, m->location);
		if (lr < 0) {
			refuse(p, i, ML_ENOTFOUND, "asset %s: location '%s' does not exist",
			       m->barcode, m->location);
			return;
		}
		p->loc_id[i] = PQgetvalue(p->locs, lr, 0);
		dest = m->location;
		dest_kind = PQgetvalue(p->locs, lr, 2);
	}
	int to_secondary = !strcmp(dest_kind, "secondary_store");
	if (asset_next_state(info.state, m->action, to_secondary, &p->to[i], &e)) {
		refuse(p, i, e.code, "asset %s is '%s': %s", m->barcode,
		       asset_state_name(info.state), e.msg);
		return;
	}
	/* secondary_stock and in_stock say the asset is in a store (二级表库 /
	 * central store, domain.md §5.1): an unused meter is not "in stock" at a
	 * field team, nor received into a secondary store that is the central one. */
	int store_ok = m->action == ASSET_ACT_RECEIVE_SECONDARY ? to_secondary
		       : m->action == ASSET_ACT_RETURN_UNUSED
			       ? to_secondary || !strcmp(dest_kind, "central_store")
			       : 1;
	if (!store_ok) {
		refuse(p, i, ML_EINVAL,
		       "asset %s: %s puts it in %s, but '%s' is %s%s; give --location STORE",
		       m->barcode, asset_action_name(m->action),
		       m->action == ASSET_ACT_RECEIVE_SECONDARY ? "a secondary store" : "a store",
		       dest[0] ? dest : "(no location)", dest_kind[0] ? "a " : "not a store",
		       dest_kind);
		return;
	}
	/* An asset past its verification period must not go to the field (JJG 596-2012 §1.12 period). */
	if (m->action == ASSET_ACT_ISSUE &&
	    (!info.valid_until[0] || db_get(p->assets, row, "expired")[0] == 't')) {
		refuse(p, i, ML_ESTATE,
		       "asset %s cannot be issued: verification %s%s; re-verify it first",
		       m->barcode, info.valid_until[0] ? "expired on " : "validity is not recorded",
		       info.valid_until);
		return;
	}
	p->asset_id[i] = info.asset_id;
	p->from[i] = info.state;
}

/*
 * One statement: compare-and-set every asset (state must still be the one
 * we checked) and append one event per updated asset. RETURNING tells which
 * assets were updated; any missing one lost a race.
 */
static const char *const apply_sql =
	"WITH u AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::date[], "
	"  $6::text[], $7::text[], $8::text[], $9::text[]) "
	"  AS u(asset_id, from_state, to_state, loc, vu, action, actor, reason, details)), "
	"upd AS (UPDATE asset a SET state = u.to_state, location_id = coalesce(u.loc, a.location_id), "
	"  valid_until = CASE WHEN u.action = 'verify_pass' THEN coalesce(u.vu, "
	"    (current_date + make_interval(months => m.verification_period_months))::date - 1) "
	"    ELSE a.valid_until END, "
	"  state_changed_at = now() "
	"  FROM u, device_model m WHERE a.asset_id = u.asset_id AND a.state = u.from_state "
	"  AND m.model_id = a.model_id RETURNING a.asset_id, a.location_id) "
	"INSERT INTO asset_event (asset_id, actor, location_id, from_state, to_state, action, reason, details) "
	"SELECT u.asset_id, u.actor, upd.location_id, u.from_state, u.to_state, u.action, u.reason, "
	"  coalesce(u.details, '{}')::jsonb FROM u JOIN upd ON upd.asset_id = u.asset_id RETURNING asset_id";

enum {
	A_ID,
	A_FROM,
	A_TO,
	A_LOC,
	A_VU,
	A_ACT,
	A_ACTOR,
	A_REASON,
	A_DETAILS,
	A_N
};

static int build_arrays(const struct plan *p, struct pgarr *a, const char **params)
{
	for (int k = 0; k < A_N; k++)
		pgarr_init(&a[k]);
	for (size_t i = 0; i < p->n; i++) {
		const struct asset_move *m = &p->mv[i];
		pgarr_add_i64(&a[A_ID], p->asset_id[i]);
		pgarr_add(&a[A_FROM], asset_state_name(p->from[i]));
		pgarr_add(&a[A_TO], asset_state_name(p->to[i]));
		pgarr_add(&a[A_LOC], p->loc_id[i]);
		pgarr_add(&a[A_VU], m->action == ASSET_ACT_VERIFY_PASS ? m->valid_until : NULL);
		pgarr_add(&a[A_ACT], asset_action_name(m->action));
		pgarr_add(&a[A_ACTOR], m->actor && *m->actor ? m->actor : "unknown");
		pgarr_add(&a[A_REASON], m->reason);
		pgarr_add(&a[A_DETAILS], m->details_json);
	}
	int rc = ML_OK;
	for (int k = 0; k < A_N; k++) {
		params[k] = pgarr_finish(&a[k]);
		if (!params[k])
			rc = ML_ENOMEM;
	}
	return rc;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

/* Refuse every move whose asset is not in the RETURNING set (lost a race). */
static void mark_lost(struct plan *p, const PGresult *res)
{
	size_t nres = (size_t)PQntuples(res);
	long long *done = calloc(nres ? nres : 1, sizeof(*done));
	for (size_t r = 0; done && r < nres; r++)
		done[r] = strtoll(PQgetvalue(res, (int)r, 0), NULL, 10);
	if (done)
		qsort(done, nres, sizeof(*done), cmp_ll);
	for (size_t i = 0; i < p->n; i++) {
		int found = done && bsearch(&p->asset_id[i], done, nres, sizeof(*done), cmp_ll);
		if (!found)
			refuse(p, i, ML_ECONFLICT,
			       "asset %s was changed by someone else (it is no longer '%s'); %s refused, nothing moved",
			       p->mv[i].barcode, asset_state_name(p->from[i]),
			       asset_action_name(p->mv[i].action));
	}
	free(done);
}

static int apply(struct db *db, struct plan *p, struct ml_error *err)
{
	struct pgarr a[A_N];
	const char *params[A_N];
	int rc = build_arrays(p, a, params);
	PGresult *res = NULL;
	if (rc)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory building the batch");
	else
		rc = db_exec(db, apply_sql, A_N, params, PGRES_TUPLES_OK, &res, err);
	if (!rc && (size_t)PQntuples(res) != p->n) {
		mark_lost(p, res);
		rc = ML_ECONFLICT;
	}
	PQclear(res);
	for (int k = 0; k < A_N; k++)
		pgarr_free(&a[k]);
	return rc;
}

static int summarise(struct plan *p, struct ml_error *err)
{
	const struct asset_refusal *r0 = &p->ref[0];
	for (size_t k = 1; k < p->nref; k++) {
		if (p->ref[k].index < r0->index)
			r0 = &p->ref[k];
	}
	if (p->nref == 1)
		return ml_errorf(err, r0->code, "%s", r0->msg);
	return ml_errorf(err, r0->code, "%zu of %zu moves refused, nothing moved; first: %s",
			 p->nref, p->n, r0->msg);
}

static int cmp_ref(const void *a, const void *b)
{
	size_t x = ((const struct asset_refusal *)a)->index,
	       y = ((const struct asset_refusal *)b)->index;
	return x < y ? -1 : x > y;
}

static int run_batch(struct db *db, struct plan *p, struct ml_error *err)
{
	int rc = check_syntax(p);
	if (rc)
		return ml_errorf(err, rc, "out of memory checking the batch");
	rc = fetch(db, p, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < p->n; i++) {
		if (!p->bad[i])
			check_move(p, i);
	}
	if (p->nref)
		return summarise(p, err);
	int own = 0;
	rc = asset_tx_open(db, "asset_move_batch", &own, err);
	if (rc)
		return rc;
	rc = apply(db, p, err);
	if (rc == ML_ECONFLICT && p->nref)
		(void)summarise(p, err);
	return asset_tx_close(db, "asset_move_batch", own, rc, err);
}

int asset_move_batch(struct db *db, const struct asset_move *moves, size_t n,
		     struct asset_move_report *rep, struct ml_error *err)
{
	if (rep)
		memset(rep, 0, sizeof(*rep));
	if (n == 0)
		return ML_OK;
	struct plan p;
	int rc = plan_alloc(&p, moves, n);
	if (rc) {
		plan_free(&p);
		return ml_errorf(err, ML_ENOMEM, "out of memory for %zu moves", n);
	}
	rc = run_batch(db, &p, err);
	qsort(p.ref, p.nref, sizeof(*p.ref), cmp_ref);
	if (rep) {
		rep->moved = rc ? 0 : n;
		rep->nrefused = p.nref;
		rep->refused = p.ref;
		p.ref = NULL;
	}
	plan_free(&p);
	return rc;
}

int asset_move_one(struct db *db, const struct asset_move *move, struct ml_error *err)
{
	return asset_move_batch(db, move, 1, NULL, err);
}

int asset_swap(struct db *db, const char *old_barcode, const char *new_barcode, const char *actor,
	       const char *location, const char *reason, struct asset_move_report *rep,
	       struct ml_error *err)
{
	char d_old[96], d_new[96];
	/* Barcodes are validated by the batch before use; %.22s keeps the JSON well-formed regardless. */
	snprintf(d_old, sizeof(d_old), "{\"swap\":true,\"replaced_by\":\"%.22s\"}",
		 new_barcode ? new_barcode : "");
	snprintf(d_new, sizeof(d_new), "{\"swap\":true,\"replaces\":\"%.22s\"}",
		 old_barcode ? old_barcode : "");
	struct asset_move mv[2] = {
		{ .barcode = old_barcode,
		  .action = ASSET_ACT_REMOVE,
		  .actor = actor,
		  .reason = reason,
		  .details_json = d_old },
		{ .barcode = new_barcode,
		  .action = ASSET_ACT_INSTALL,
		  .actor = actor,
		  .location = location,
		  .reason = reason,
		  .details_json = d_new },
	};
	return asset_move_batch(db, mv, 2, rep, err);
}
