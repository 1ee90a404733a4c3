/* stores_priv.h — helpers shared by the stores/ sources (not an API). */
#ifndef ML_STORES_PRIV_H
#define ML_STORES_PRIV_H

#include <stdio.h>

#include "sql/pgarr.h"
#include "stores/stores.h"

/* A transaction of our own, or a savepoint inside the caller's (*own = 0). */
int stores_tx_open(struct db *db, const char *sp, int *own, struct ml_error *err);
/* Commit/rollback (own) or release/rollback-to the savepoint; returns rc or the commit's error. */
int stores_tx_close(struct db *db, const char *sp, int own, int rc, struct ml_error *err);
/* The codes as one text[] literal (owned by a; NULL on out of memory). */
const char *stores_codes_array(struct pgarr *a, const char *const *codes, size_t n);
/* Run a function returning ml_scan_refusal rows; fill rep; roll back on any refusal. */
int stores_scan_call(struct db *db, const char *what, const char *sql, int np,
		     const char *const *params, size_t n, struct stock_scan_report *rep,
		     struct ml_error *err);
/* One CSV field, quoted when needed. */
void stores_csv_field(struct ml_buf *b, const char *s);

#endif
