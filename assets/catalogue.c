/*
 * catalogue.c — manufacturers, device models, locations, and the read-only
 * listings (assets, history). Everything goes through parameters.
 */
#include "assets/registry.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "assets/asset_priv.h"
#include "assets/lifecycle.h"

int asset_decimal_ok(const char *s)
{
	int digits = 0, points = 0;
	if (!s || !*s || strlen(s) > 30)
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == '.')
			points++;
		else if (*p >= '0' && *p <= '9')
			digits++;
		else
			return 0;
	}
	return digits > 0 && points <= 1 && s[0] != '.' && s[strlen(s) - 1] != '.';
}

static int is_integer(const char *s)
{
	return asset_decimal_ok(s) && !strchr(s, '.');
}

static int one_of(const char *s, const char *const *set)
{
	for (; *set; set++) {
		if (!strcmp(s, *set))
			return 1;
	}
	return 0;
}

int asset_manufacturer_add(struct db *db, const char *code, const char *name, struct ml_error *err)
{
	if (!code || !*code)
		return ml_errorf(err, ML_EINVAL, "manufacturer code is required");
	if (!name || !*name)
		return ml_errorf(err, ML_EINVAL, "manufacturer '%s' needs a name", code);
	const char *p[2] = { code, name };
	return db_cmd(db, "SELECT ml_manufacturer_add($1, $2)", 2, p, err);
}

/* Field-by-field checks so the message names the field and value. */
static int model_check(const struct asset_model *m, struct ml_error *err)
{
	static const char *const kinds[] = { "meter_1p", "meter_3p",     "ct",
					     "vt",       "concentrator", NULL };
	static const char *const conns[] = { "direct", "transformer", NULL };
	static const char *const wirings[] = { "1p2w", "3p4w", "3p3w", NULL };
	if (!m->code || !*m->code || !m->manufacturer_code || !m->name || !m->kind)
		return ml_errorf(err, ML_EINVAL, "a model needs code, manufacturer, name and kind");
	if (!one_of(m->kind, kinds))
		return ml_errorf(
			err, ML_EINVAL,
			"model %s: kind '%s' is not one of meter_1p meter_3p ct vt concentrator",
			m->code, m->kind);
	if (m->connection && !one_of(m->connection, conns))
		return ml_errorf(err, ML_EINVAL,
				 "model %s: connection '%s' is not direct or transformer", m->code,
				 m->connection);
	int meter = !strncmp(m->kind, "meter_", 6);
	if (meter != (m->connection != NULL))
		return ml_errorf(err, ML_EINVAL, "model %s: %s", m->code,
				 meter ? "a meter needs --connection direct|transformer"
				       : "only meters have a connection");
	if (m->wiring && !one_of(m->wiring, wirings))
		return ml_errorf(err, ML_EINVAL, "model %s: wiring '%s' is not 1p2w, 3p4w or 3p3w",
				 m->code, m->wiring);
	const char *const dec[][2] = {
		{ "un_v", m->un_v },
		{ "ib_a", m->ib_a },
		{ "imax_a", m->imax_a },
		{ "clock_freq_hz", m->clock_freq_hz },
		{ "ct_primary_a", m->ct_primary_a },
		{ "ct_secondary_a", m->ct_secondary_a },
		{ "vt_primary_v", m->vt_primary_v },
		{ "vt_secondary_v", m->vt_secondary_v },
		{ "rated_burden_va", m->rated_burden_va },
	};
	for (size_t i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
		if (dec[i][1] && !asset_decimal_ok(dec[i][1]))
			return ml_errorf(err, ML_EINVAL,
					 "model %s: %s '%s' is not a decimal number", m->code,
					 dec[i][0], dec[i][1]);
	}
	if (m->constant_imp && !is_integer(m->constant_imp))
		return ml_errorf(err, ML_EINVAL,
				 "model %s: constant_imp '%s' is not an integer (imp/kWh)", m->code,
				 m->constant_imp);
	if (!m->verification_period_months || !is_integer(m->verification_period_months))
		return ml_errorf(
			err, ML_EINVAL,
			"model %s: verification_period_months '%s' must be a whole number of months",
			m->code,
			m->verification_period_months ? m->verification_period_months : "");
	return ML_OK;
}

int asset_model_add(struct db *db, const struct asset_model *m, struct ml_error *err)
{
	int rc = model_check(m, err);
	if (rc)
		return rc;
	const char *p[19] = { m->code,
			      m->manufacturer_code,
			      m->name,
			      m->kind,
			      m->accuracy_class,
			      m->reactive_class,
			      m->connection,
			      m->wiring,
			      m->un_v,
			      m->ib_a,
			      m->imax_a,
			      m->constant_imp,
			      m->clock_freq_hz,
			      m->ct_primary_a,
			      m->ct_secondary_a,
			      m->vt_primary_v,
			      m->vt_secondary_v,
			      m->rated_burden_va,
			      m->verification_period_months };
	rc = db_cmd(
		db,
		"SELECT ml_model_add($1, $2, $3, $4, $5, $6, $7, $8, $9::numeric, $10::numeric, "
		"$11::numeric, $12::integer, $13::numeric, $14::numeric, $15::numeric, $16::numeric, "
		"$17::numeric, $18::numeric, $19::integer)",
		19, p, err);
	if (rc == ML_EINVAL && !strstr(err ? err->msg : "", m->code))
		ml_error_prefix(err, "model %s: ", m->code);
	return rc;
}

int asset_location_add(struct db *db, const char *code, const char *name, const char *kind,
		       const char *parent_code, struct ml_error *err)
{
	static const char *const kinds[] = { "central_store", "secondary_store", "bench", "lab",
					     "field_team",    "customer_site",   "maker", NULL };
	if (!code || !*code || !name || !*name || !kind)
		return ml_errorf(err, ML_EINVAL, "a location needs code, name and kind");
	if (!one_of(kind, kinds))
		return ml_errorf(
			err, ML_EINVAL,
			"location %s: kind '%s' is not one of central_store secondary_store bench lab "
			"field_team customer_site maker",
			code, kind);
	const char *p[4] = { code, name, kind, parent_code };
	return db_cmd(db, "SELECT ml_location_add($1, $2, $3, $4)", 4, p, err);
}

int asset_model_list(struct db *db, PGresult **out, struct ml_error *err)
{
	return db_exec(db, ASSET_MODEL_SELECT "ORDER BY m.code", 0, NULL, PGRES_TUPLES_OK, out,
		       err);
}

int asset_model_get(struct db *db, int64_t model_id, PGresult **out, struct ml_error *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, model_id);
	const char *p[1] = { id };
	int rc = db_query_one(db, ASSET_MODEL_SELECT "WHERE m.model_id = $1::bigint", 1, p, out,
			      err);
	if (rc == ML_ENOTFOUND)
		return ml_errorf(err, rc, "device model %s does not exist", id);
	return rc;
}

/* Counts come from asset_count_place (migration 0170), maintained by triggers:
 * reading them does not grow with the registry. */
int asset_location_list(struct db *db, PGresult **out, struct ml_error *err)
{
	return db_exec(
		db,
		"SELECT l.code, l.name, l.kind, p.code AS parent, coalesce(c.n, 0) AS assets "
		"FROM location l LEFT JOIN location p ON p.location_id = l.parent_id "
		"LEFT JOIN (SELECT location_id, sum(n) AS n FROM asset_count_place GROUP BY location_id) c "
		"ON c.location_id = l.location_id ORDER BY l.code",
		0, NULL, PGRES_TUPLES_OK, out, err);
}

/* Per-state counts from asset_count_lot (0170), not from the assets. */
int asset_lot_list(struct db *db, PGresult **out, struct ml_error *err)
{
	return db_exec(
		db,
		"SELECT l.code, f.code AS manufacturer, m.code AS model, l.supplier, l.row_count AS assets, "
		"(SELECT string_agg(c.state || ':' || c.n, ' ' ORDER BY c.state) FROM asset_count_lot c "
		"  WHERE c.lot_id = l.lot_id AND c.n > 0) AS states, "
		"to_char(l.received_at, 'YYYY-MM-DD HH24:MI') AS received_at, "
		"coalesce(u.display_name || ' (' || u.login || ')', l.received_by) AS received_by "
		"FROM lot l LEFT JOIN manufacturer f USING (manufacturer_id) "
		"LEFT JOIN app_user u ON u.user_id = l.received_by_id "
		"LEFT JOIN device_model m ON m.model_id = l.model_id ORDER BY l.received_at DESC, l.lot_id DESC",
		0, NULL, PGRES_TUPLES_OK, out, err);
}

int asset_stock(struct db *db, const struct asset_stock_filter *f, PGresult **out,
		struct ml_error *err)
{
	enum asset_state st;
	if (f->state && asset_state_parse(f->state, &st, err))
		return ML_EINVAL;
	if (f->scope == ASSET_STOCK_TOTALS) {
		if (f->location)
			return ml_errorf(err, ML_EINVAL,
					 "province-wide totals are not per location ('%s')",
					 f->location);
		const char *p[2] = { f->state, f->model };
		return db_exec(
			db,
			"SELECT m.code AS model, c.state, c.n AS assets FROM asset_count_model c "
			"JOIN device_model m ON m.model_id = c.model_id WHERE c.n > 0 "
			"AND ($1::text IS NULL OR c.state = $1) AND ($2::text IS NULL OR m.code = $2) "
			"ORDER BY 1, 2",
			2, p, PGRES_TUPLES_OK, out, err);
	}
	/* A named location is shown whatever its kind; otherwise STORES keeps the stores. */
	const char *p[4] = { f->state, f->model, f->location,
			     f->scope == ASSET_STOCK_STORES && !f->location ? "t" : "f" };
	return db_exec(
		db,
		"SELECT coalesce(l.code, '-') AS location, l.kind, m.code AS model, c.state, c.n AS assets "
		"FROM asset_count_place c JOIN device_model m ON m.model_id = c.model_id "
		"LEFT JOIN location l ON l.location_id = c.location_id "
		"WHERE c.n > 0 AND ($1::text IS NULL OR c.state = $1) AND ($2::text IS NULL OR m.code = $2) "
		"AND ($3::text IS NULL OR l.code = $3) "
		"AND (NOT $4::boolean OR l.kind IN ('central_store', 'secondary_store')) ORDER BY 1, 3, 4",
		4, p, PGRES_TUPLES_OK, out, err);
}

int asset_list(struct db *db, const struct asset_filter *f, PGresult **out, struct ml_error *err)
{
	long limit = f->limit ? f->limit : 100;
	if (limit < 1 || limit > 10000)
		return ml_errorf(err, ML_EINVAL, "limit %ld is outside 1..10000", limit);
	enum asset_state st;
	if (f->state && asset_state_parse(f->state, &st, err))
		return ML_EINVAL;
	char after[24], lim[24];
	snprintf(after, sizeof(after), "%" PRId64, f->after_id);
	snprintf(lim, sizeof(lim), "%ld", limit);
	const char *p[6] = { f->state, f->model, f->lot, f->location, after, lim };
	/* asset_page (migration 0172) picks the page's ids from exact index ranges;
	 * this only fetches those rows. */
	return db_exec(
		db,
		"SELECT a.asset_id, a.barcode, m.code AS model_code, lot.code AS lot_code, a.production_batch, "
		"a.production_date, a.state, l.code AS location, a.valid_until, "
		"to_char(a.state_changed_at, 'YYYY-MM-DD HH24:MI:SS') AS state_changed_at "
		"FROM asset_page($1, $2, $3, $4, $5::bigint, $6::integer) WITH ORDINALITY p(id, ord) "
		"JOIN asset a ON a.asset_id = p.id JOIN device_model m ON m.model_id = a.model_id "
		"JOIN lot ON lot.lot_id = a.lot_id LEFT JOIN location l ON l.location_id = a.location_id "
		"ORDER BY p.ord",
		6, p, PGRES_TUPLES_OK, out, err);
}

int asset_history(struct db *db, int64_t asset_id, PGresult **out, struct ml_error *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, asset_id);
	const char *p[1] = { id };
	return db_exec(db, ASSET_HISTORY_SELECT "WHERE e.asset_id = $1::bigint" ASSET_HISTORY_ORDER,
		       1, p, PGRES_TUPLES_OK, out, err);
}
