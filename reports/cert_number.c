#include "reports/cert_number.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cert_number_alloc(struct db *db, const char *issuer_id, int year, int count, int *first,
		      struct ml_error *err)
{
	if (PQtransactionStatus(db_conn(db)) != PQTRANS_INTRANS)
		return ml_errorf(err, ML_EINTERNAL,
				 "certificate numbers for %s/%d must be allocated inside the "
				 "issuing transaction",
				 issuer_id, year);
	if (count < 1 || year < 2000 || year > 9999)
		return ml_errorf(err, ML_EINVAL,
				 "cannot allocate %d certificate numbers for year %d", count, year);
	char y[8], c[12];
	snprintf(y, sizeof(y), "%d", year);
	snprintf(c, sizeof(c), "%d", count);
	const char *p[3] = { issuer_id, y, c };
	/* The first issue of a year creates the row; concurrent creators wait on
	 * the unique key and then do nothing. */
	int rc = db_cmd(
		db,
		"INSERT INTO cert_counter (issuer_id, year) VALUES ($1, $2::int) ON CONFLICT DO NOTHING",
		2, p, err);
	PGresult *res = NULL;
	if (!rc)
		rc = db_query_one(
			db,
			"UPDATE cert_counter SET last_serial = last_serial + $3::int "
			"WHERE issuer_id = $1 AND year = $2::int RETURNING last_serial - $3::int + 1",
			3, p, &res, err);
	if (rc)
		return ml_error_prefix(
			err, "certificate number for issuer %s, year %d: ", issuer_id, year);
	*first = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return ML_OK;
}

int cert_number_format(const char *prefix, int year, int serial, char *out, size_t len,
		       struct ml_error *err)
{
	if (!prefix || !*prefix || strlen(prefix) > 8 || year < 2000 || year > 9999 || serial < 1)
		return ml_errorf(err, ML_EINVAL,
				 "certificate number parts '%s' %d %d are not valid",
				 prefix ? prefix : "", year, serial);
	int n = snprintf(out, len, "%s%04d-%06d", prefix, year, serial);
	if (n < 0 || (size_t)n >= len)
		return ml_errorf(err, ML_EINVAL,
				 "certificate number buffer of %zu bytes is too small", len);
	return ML_OK;
}
