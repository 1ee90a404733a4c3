/*
 * pgarr.h — PostgreSQL array literal builder ("{"a","b",NULL}"), passed as
 * ONE text parameter and cast in SQL ($1::text[]): values never become SQL
 * text. Elements are double-quoted with " and \ backslash-escaped; NULL
 * becomes NULL. Used by every part that sends a batch to one statement.
 */
#ifndef ML_SQL_PGARR_H
#define ML_SQL_PGARR_H

#include <stddef.h>

#include "common/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pgarr {
	struct ml_buf b;
	size_t n;
	int rc; /* first append failure, sticky */
};
void pgarr_init(struct pgarr *a);
void pgarr_add(struct pgarr *a, const char *s);
void pgarr_add_i64(struct pgarr *a, long long v);
/* Close the literal; returns the string (owned by a) or NULL on failure. */
const char *pgarr_finish(struct pgarr *a);
void pgarr_free(struct pgarr *a);

#ifdef __cplusplus
}
#endif
#endif
