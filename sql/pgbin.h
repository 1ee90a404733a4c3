/*
 * pgbin.h — one-dimensional PostgreSQL arrays as BINARY parameters (libpq
 * parameter format 1), in the layout array_send writes and array_recv reads:
 *
 *   int32 ndim (0 or 1), int32 has-NULLs flag (0 or 1), Oid element type,
 *   for ndim 1: int32 length, int32 lower bound (1),
 *   then per element: int32 byte length (-1 = NULL) and the element's own
 *   binary form (int4 / int8: big-endian; timestamptz: big-endian int64 µs
 *   since 2000-01-01 00:00 UTC; text: its bytes, no terminator).
 *
 * All integers big-endian. Why: a step's 29 arrays as text literals were
 * parsed element by element at bind (array_in, int8in, timestamptz_in):
 * ~4 % of the recording backend (bench/RESULTS.md "Session 12"), and printed
 * by the client. The statement must give each parameter its array type
 * ($1::bigint[]) and the element type here must be that type's exactly:
 * array_recv refuses another ("binary data has array element type …
 * instead of expected …").
 *
 * Values never become SQL text; text elements travel in the client encoding
 * and are converted and checked by the server as text parameters are.
 */
#ifndef ML_SQL_PGBIN_H
#define ML_SQL_PGBIN_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types (pg_type OIDs, fixed since PostgreSQL 7). */
enum pgbin_type {
	PGBIN_INT8 = 20,
	PGBIN_INT4 = 23,
	PGBIN_TEXT = 25,
	PGBIN_TIMESTAMPTZ = 1184
};

struct pgbin_arr {
	struct ml_buf b; /* header (20 bytes, filled in by pgbin_arr_finish), then the elements */
	enum pgbin_type type;
	int n;
	int has_null;
	int rc; /* first failure (ML_ENOMEM, or ML_EINVAL for a value of another type), sticky */
	int64_t bad; /* with ML_EINVAL: the value that did not fit (0 for a wrong element type) */
};

void pgbin_arr_init(struct pgbin_arr *a, enum pgbin_type type);
/*
 * Append one element; isnull (or s == NULL for text) appends SQL NULL. An
 * element of another type than the array's, or an int4 value outside
 * int32, makes the array fail (pgbin_arr_finish returns NULL), never a
 * silently wrong value. A timestamp is µs since the Unix epoch, UTC.
 */
void pgbin_arr_int(struct pgbin_arr *a, int64_t v, int isnull); /* PGBIN_INT8 or PGBIN_INT4 */
void pgbin_arr_ts(struct pgbin_arr *a, int64_t unix_us, int isnull);
void pgbin_arr_text(struct pgbin_arr *a, const char *s);
/*
 * The parameter's bytes (owned by a, valid until it changes or is freed)
 * and their count in *len; NULL when an append failed (a->rc says why).
 */
const char *pgbin_arr_finish(struct pgbin_arr *a, int *len);
void pgbin_arr_free(struct pgbin_arr *a);

#ifdef __cplusplus
}
#endif
#endif
