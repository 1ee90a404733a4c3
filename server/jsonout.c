/*
 * jsonout.c — query results as JSON. Integers stay integers, booleans
 * booleans; numeric stays a string (exact decimal: a float would round);
 * json/jsonb and a "details" text column are embedded as JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "server/srv.h"

/* PostgreSQL type OIDs (pg_type.dat; stable across versions). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_JSON 114
#define OID_JSONB 3802

static json_t *value(const PGresult *res, int r, int c)
{
	if (PQgetisnull(res, r, c))
		return json_null();
	const char *v = PQgetvalue(res, r, c);
	Oid t = PQftype(res, c);
	switch (t) {
	case OID_BOOL:
		return json_boolean(v[0] == 't');
	case OID_INT8:
	case OID_INT2:
	case OID_INT4:
		return json_integer(strtoll(v, NULL, 10));
	case OID_JSON:
	case OID_JSONB:
		break;
	default:
		if (strcmp(PQfname(res, c), "details")) {
			json_t *s = json_stringn(v, (size_t)PQgetlength(res, r, c));
			return s ? s : json_string("(not valid UTF-8)");
		}
	}
	json_error_t je;
	json_t *j = json_loadb(v, (size_t)PQgetlength(res, r, c), JSON_DECODE_ANY, &je);
	return j ? j : json_null();
}

json_t *json_row(const PGresult *res, int r)
{
	json_t *o = json_object();
	for (int c = 0; c < PQnfields(res) && o; c++)
		json_object_set_new(o, PQfname(res, c), value(res, r, c));
	return o;
}

json_t *json_rows(const PGresult *res)
{
	json_t *a = json_array();
	for (int r = 0; r < PQntuples(res) && a; r++)
		json_array_append_new(a, json_row(res, r));
	return a;
}
