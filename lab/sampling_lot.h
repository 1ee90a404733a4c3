/*
 * sampling_lot.h — arrival sampling that decides a lot (issue 14): draw,
 * judge, decide, through the database functions of 0273 (the database
 * computes the plan, the draw and the verdict; see sql/README.md). Each call
 * is one statement acting as the connection's person.
 */
#ifndef ML_LAB_SAMPLING_LOT_H
#define ML_LAB_SAMPLING_LOT_H

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Draw lot's sample at level/aql (seed_hex: 64 hex digits, or NULL for a
 * random one, recorded either way). level or aql NULL: the settings
 * sampling.level.KIND / sampling.aql.KIND of the lot's kind of device
 * (meter, transformer, concentrator; 0276). *drawn: draw_order, barcode
 * (caller PQclear()s). Permission sample.draw. */
int sampling_lot_draw(struct db *db, const char *lot, const char *level, const char *aql,
		      const char *seed_hex, PGresult **drawn, struct ml_error *err) ML_MUSTCHECK;

struct sampling_lot_verdict {
	char verdict[8]; /* "accept", "reject", or "" when not yet decidable */
	int nonconforming, judged, sample_size, ac, re;
};
int sampling_lot_judge(struct db *db, const char *lot, struct sampling_lot_verdict *out,
		       struct ml_error *err) ML_MUSTCHECK;

/* Confirm "accept" or "reject" (must equal the computed verdict); *outcome
 * (cap bytes) gets the switching outcome (stay, to_tightened, …). Permission
 * sample.decide. */
int sampling_lot_decide(struct db *db, const char *lot, const char *decision, const char *note,
			char *outcome, size_t cap, struct ml_error *err) ML_MUSTCHECK;

/* The lot's sampling record (one row; caller PQclear()s). */
int sampling_lot_show(struct db *db, const char *lot, PGresult **out,
		      struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
