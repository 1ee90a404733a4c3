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
