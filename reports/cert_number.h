/*
 * cert_number.h — gap-free certificate numbers per issuing body and year.
 *
 * Numbers are "<prefix><year>-<serial>", serial zero-padded to six digits
 * (JL2026-000123). Each (issuer, year) has one counter row (cert_counter);
 * allocation is UPDATE ... RETURNING inside the caller's issuing
 * transaction, so the row lock serialises concurrent issuers and a rolled
 * back issue gives its numbers back: issued numbers are 1..N without gaps
 * or duplicates.
 */
#ifndef ML_CERT_NUMBER_H
#define ML_CERT_NUMBER_H

#include <stddef.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Reserve count consecutive serials for (issuer_id, year); *first receives
 * the first one. Must run inside an open transaction (ML_EINTERNAL
 * otherwise: outside one, a later failure could not give the numbers back).
 */
int cert_number_alloc(struct db *db, const char *issuer_id, int year, int count, int *first,
		      struct ml_error *err) ML_MUSTCHECK;

/* Format a number into out (len >= 24 is always enough). ML_EINVAL on bad parts. */
int cert_number_format(const char *prefix, int year, int serial, char *out, size_t len,
		       struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
