/*
 * lifecycle.c — lookups and all-or-nothing lifecycle moves against
 * PostgreSQL. The transition rules live in asset_state.c; this file checks
 * every move against them, then applies all state changes as
 * compare-and-set updates with their history events in one statement.
 */
#include "assets/lifecycle.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets/asset_priv.h"
#include "assets/barcode.h"

/* Columns read by lookup. */
#define ASSET_SELECT                                                                             \
	"SELECT a.asset_id, a.barcode, a.model_id, m.code AS model_code, lot.code AS lot_code, " \
	"a.state, coalesce(l.code, '') AS location, coalesce(l.kind, '') AS location_kind, "     \
	"coalesce(to_char(a.valid_until, 'YYYY-MM-DD'), '') AS valid_until, "                    \
	"(a.valid_until IS NOT NULL AND a.valid_until < ml_cert_today()) AS expired "            \
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

int asset_view_get(struct db *db, const char *barcode, struct asset_view *out, struct ml_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = barcode_validate(barcode, err);
	if (rc)
		return rc;
	/* 1: the asset and its place, by barcode */
	const char *p[1] = { barcode };
	PGresult *res[3] = { NULL, NULL, NULL };
	rc = db_exec(db,
		     "SELECT v.*, ml_asset_place(v.asset_id) AS place FROM (" ASSET_SELECT
		     "WHERE a.barcode = $1) v",
		     1, p, PGRES_TUPLES_OK, &res[0], err);
	if (rc)
		return rc;
	if (PQntuples(res[0]) == 0)
		rc = ml_errorf(err, ML_ENOTFOUND, "asset with barcode '%s' is not registered",
			       barcode);
	else
		rc = info_from_row(res[0], 0, &out->a, err);
	if (!rc) {
		const char *w = db_get(res[0], 0, "place");
		snprintf(out->place, sizeof(out->place), "%s", w ? w : "");
	}
	PQclear(res[0]);
	if (rc)
		return rc;
	/*
	 * 2: its model and history together, by their ids. The history is not
	 * in the first trip on purpose: found by the barcode in a subquery, its
	 * asset id is unknown when an unnamed statement (a CLI connection) is
	 * planned, so the planner opens every partition of asset_event instead
	 * of the asset's one. Paired on 100 000 assets (bench/show_ab.sh), one
	 * trip for all three made the process 1.14x slower and its SQL 1.16x.
	 */
	char mid[24], aid[24];
	snprintf(mid, sizeof(mid), "%" PRId64, out->a.model_id);
	snprintf(aid, sizeof(aid), "%" PRId64, out->a.asset_id);
	const char *pm[1] = { mid }, *pa[1] = { aid };
	const struct db_stmt st[2] = {
		{ ASSET_MODEL_SELECT "WHERE m.model_id = $1::bigint", 1, pm, NULL, NULL,
		  PGRES_TUPLES_OK },
		{ ASSET_HISTORY_SELECT "WHERE e.asset_id = $1::bigint" ASSET_HISTORY_ORDER, 1, pa,
		  NULL, NULL, PGRES_TUPLES_OK },
	};
	rc = db_pipeline(db, st, 2, res + 1, err);
	if (rc)
		return rc;
	out->model = res[1];
	out->history = res[2];
	return ML_OK;
}

void asset_view_free(struct asset_view *v)
{
	if (!v)
		return;
	PQclear(v->model);
	PQclear(v->history);
	v->model = v->history = NULL;
}

void asset_move_report_free(struct asset_move_report *rep)
{
	if (!rep)
		return;
	free(rep->refused);
	rep->refused = NULL;
	rep->nrefused = 0;
}

/*
 * The moves are checked and applied by the database (ml_asset_move, 0111):
 * the permission of each action, the lifecycle table, locations and store
 * kinds, expiry, duplicates, assets mounted on a run — every refusal comes
 * back as a row, and nothing is applied unless all moves are legal. The
 * actor is the authenticated user of the connection, never an argument.
 */
static int add_refusal(struct asset_move_report *rep, size_t *cap, size_t index,
		       const char *barcode, int code, const char *msg)
{
	if (rep->nrefused == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct asset_refusal *r = realloc(rep->refused, ncap * sizeof(*r));
		if (!r)
			return ML_ENOMEM;
		rep->refused = r;
		*cap = ncap;
	}
	struct asset_refusal *r = &rep->refused[rep->nrefused++];
	memset(r, 0, sizeof(*r));
	r->index = index;
	r->code = code;
	snprintf(r->barcode, sizeof(r->barcode), "%s", barcode ? barcode : "");
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
	return ML_OK;
}

static int summarise(const struct asset_move_report *rep, size_t n, struct ml_error *err)
{
	const struct asset_refusal *r0 = &rep->refused[0];
	if (rep->nrefused == 1)
		return ml_errorf(err, r0->code, "%s", r0->msg);
	return ml_errorf(err, r0->code, "%zu of %zu moves refused, nothing moved; first: %s",
			 rep->nrefused, n, r0->msg);
}

/* Refusals the library finds before asking the database. */
static int precheck(const struct asset_move *moves, size_t n, struct asset_move_report *rep,
		    size_t *cap)
{
	int rc = ML_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		char msg[256];
		const struct asset_move *m = &moves[i];
		const char *bc = m->barcode ? m->barcode : "";
		if (m->action == ASSET_ACT_INSTALL || m->action == ASSET_ACT_REMOVE)
			/* A bare move records no metering point, reading or seal (0205). */
			snprintf(
				msg, sizeof(msg),
				"asset %s: %s is no bare move; it is done at a metering point with "
				"its register reading and seals: meterlab field %s (or field swap)",
				bc, asset_action_name(m->action), asset_action_name(m->action));
		else if (asset_action_name(m->action))
			continue;
		else
			snprintf(msg, sizeof(msg), "asset %s: unknown action %d", bc,
				 (int)m->action);
		rc = add_refusal(rep, cap, i, m->barcode, ML_EINVAL, msg);
	}
	return rc;
}

enum {
	A_BC,
	A_ACT,
	A_LOC,
	A_REASON,
	A_DETAILS,
	A_N
};

static int call_move(struct db *db, const struct asset_move *moves, size_t n,
		     struct asset_move_report *rep, size_t *cap, struct ml_error *err)
{
	struct pgarr a[A_N];
	const char *params[A_N];
	int rc = ML_OK;
	for (int k = 0; k < A_N; k++)
		pgarr_init(&a[k]);
	for (size_t i = 0; i < n; i++) {
		pgarr_add(&a[A_BC], moves[i].barcode);
		pgarr_add(&a[A_ACT], asset_action_name(moves[i].action));
		pgarr_add(&a[A_LOC], moves[i].location);
		pgarr_add(&a[A_REASON], moves[i].reason);
		pgarr_add(&a[A_DETAILS], moves[i].details_json);
	}
	for (int k = 0; k < A_N; k++) {
		params[k] = pgarr_finish(&a[k]);
		if (!params[k])
			rc = ml_errorf(err, ML_ENOMEM, "out of memory building %zu moves", n);
	}
	PGresult *res = NULL;
	if (!rc)
		rc = db_exec(
			db,
			"SELECT idx, barcode, code, msg FROM ml_asset_move($1::text[], $2::text[], "
			"$3::text[], $4::text[], $5::jsonb[])",
			A_N, params, PGRES_TUPLES_OK, &res, err);
	for (int r = 0; !rc && res && r < PQntuples(res); r++) {
		long idx = strtol(db_get(res, r, "idx"), NULL, 10);
		if (add_refusal(rep, cap, idx > 0 ? (size_t)idx - 1 : 0, db_get(res, r, "barcode"),
				db_sqlstate_code(db_get(res, r, "code")), db_get(res, r, "msg")))
			rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	PQclear(res);
	for (int k = 0; k < A_N; k++)
		pgarr_free(&a[k]);
	return rc;
}

int asset_move_batch(struct db *db, const struct asset_move *moves, size_t n,
		     struct asset_move_report *rep, struct ml_error *err)
{
	struct asset_move_report local;
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	if (n == 0)
		return ML_OK;
	size_t cap = 0;
	int rc = precheck(moves, n, rep, &cap);
	if (rc)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory checking %zu moves", n);
	else if (rep->nrefused)
		rc = summarise(rep, n, err);
	int own = 0;
	if (!rc)
		rc = asset_tx_open(db, "asset_move_batch", &own, err);
	if (!rc) {
		rc = call_move(db, moves, n, rep, &cap, err);
		if (!rc && rep->nrefused)
			rc = summarise(rep, n, err);
		rc = asset_tx_close(db, "asset_move_batch", own, rc, err);
	}
	rep->moved = rc ? 0 : n;
	if (rep == &local)
		asset_move_report_free(&local);
	return rc;
}

int asset_move_one(struct db *db, const struct asset_move *move, struct ml_error *err)
{
	return asset_move_batch(db, move, 1, NULL, err);
}
