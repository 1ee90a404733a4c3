/*
 * asset_priv.h — helpers shared by the assets library's .c files; not a
 * public interface (tests may use them).
 */
#ifndef ML_ASSETS_PRIV_H
#define ML_ASSETS_PRIV_H

#include "common/buf.h"
#include "common/ml_error.h"
#include "sql/pgarr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A device model's columns (asset_model_list, asset_model_get, asset_view_get). */
#define ASSET_MODEL_SELECT                                                                       \
	"SELECT m.model_id, m.code, f.code AS manufacturer, m.name, m.kind, m.accuracy_class, "  \
	"m.reactive_class, m.connection, m.wiring, m.un_v::text AS un_v, m.ib_a::text AS ib_a, " \
	"m.imax_a::text AS imax_a, m.constant_imp, m.clock_freq_hz::text AS clock_freq_hz, "     \
	"m.ct_primary_a::text AS ct_primary_a, m.ct_secondary_a::text AS ct_secondary_a, "       \
	"m.vt_primary_v::text AS vt_primary_v, m.vt_secondary_v::text AS vt_secondary_v, "       \
	"m.rated_burden_va::text AS rated_burden_va, m.verification_period_months "              \
	"FROM device_model m JOIN manufacturer f USING (manufacturer_id) "

/*
 * One asset's history (asset_history, asset_view_get), followed by the
 * condition on e.asset_id and ASSET_HISTORY_ORDER. The place and the person
 * are read per event by their keys, not joined: a prepared statement's
 * generic plan cannot know that an asset has a handful of events (it
 * estimated 37 rows over every partition), and hashed all 2 408 locations
 * to join them to 7 events: 0.37 of the 0.98 ms that EXPLAIN ANALYZE gave
 * the read on 100 000 assets (issue 10, asset show).
 */
#define ASSET_HISTORY_SELECT                                                                     \
	"SELECT e.event_id, to_char(e.occurred_at, 'YYYY-MM-DD HH24:MI:SS TZ') AS occurred_at, " \
	"coalesce((SELECT u.display_name || ' (' || u.login || ')' FROM app_user u "             \
	"WHERE u.user_id = e.actor_id), e.actor) AS actor, "                                     \
	"(SELECT l.code FROM location l WHERE l.location_id = e.location_id) AS location, "      \
	"e.from_state, e.to_state, e.action, e.reason, e.details::text AS details "              \
	"FROM asset_event e "
#define ASSET_HISTORY_ORDER " ORDER BY e.occurred_at, e.event_id"

/* 1 when s is a calendar date YYYY-MM-DD (Gregorian, years 1900..2199). */
int asset_date_ok(const char *s);

/*
 * Run a unit of work all-or-nothing whether or not the caller has a
 * transaction open: with none, BEGIN/COMMIT here (*own = 1); inside one, a
 * SAVEPOINT named sp that is rolled back on failure. sp is a fixed
 * identifier from code, never input.
 */
struct db;
int asset_tx_open(struct db *db, const char *sp, int *own, struct ml_error *err) ML_MUSTCHECK;
/* Finish: commit/release when rc == ML_OK, else roll back; returns rc or the commit's error. */
int asset_tx_close(struct db *db, const char *sp, int own, int rc, struct ml_error *err);

#ifdef __cplusplus
}
#endif
#endif
