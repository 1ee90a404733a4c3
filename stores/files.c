/*
 * files.c — the warehouse's files: order lines (CSV) and count sheets
 * (stores.h). Scan lists are stock_scan_parse (stock.c).
 */
#include <stdlib.h>
#include <string.h>

#include "stores/stores_priv.h"

void order_file_free(struct order_file *f)
{
	if (!f)
		return;
	free(f->block);
	memset(f, 0, sizeof(*f));
}

/* Field [s, e) trimmed of blanks and one pair of double quotes. */
static void trim(const char *d, size_t *s, size_t *e)
{
	while (*s < *e && (d[*s] == ' ' || d[*s] == '\t'))
		(*s)++;
	while (*e > *s && (d[*e - 1] == ' ' || d[*e - 1] == '\t'))
		(*e)--;
	if (*e - *s >= 2 && d[*s] == '"' && d[*e - 1] == '"') {
		(*s)++;
		(*e)--;
	}
}

int order_file_parse(const char *data, size_t len, struct order_file *out, struct ml_error *err)
{
	memset(out, 0, sizeof(*out));
	size_t rows = 1;
	for (size_t i = 0; i < len; i++)
		rows += data[i] == '\n';
	/* lines, barcode pointers, then the strings (each at most its row) */
	size_t head = rows * (sizeof(struct order_line) + sizeof(char *));
	char *block = malloc(head + len + rows);
	if (!block)
		return ml_errorf(err, ML_ENOMEM, "order file: out of memory (%zu bytes)", len);
	struct order_line *lines = (struct order_line *)(void *)block;
	const char **bcs = (const char **)(void *)(block + rows * sizeof(struct order_line));
	char *w = block + head;
	size_t nl = 0, nb = 0, lineno = 0, pos = 0;
	int rc = ML_OK;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		pos = 3;
	while (pos < len && !rc) {
		size_t end = pos;
		while (end < len && data[end] != '\n')
			end++;
		lineno++;
		size_t e = end > pos && data[end - 1] == '\r' ? end - 1 : end;
		for (size_t i = pos; i < e && !rc; i++) {
			unsigned char ch = (unsigned char)data[i];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				rc = ml_errorf(
					err, ML_EINVAL,
					"order file line %zu: control character 0x%02x; nothing read",
					lineno, ch);
		}
		size_t s1 = pos, e1 = pos;
		while (e1 < e && data[e1] != ',')
			e1++;
		size_t s2 = e1 < e ? e1 + 1 : e, e2 = s2;
		while (e2 < e && data[e2] != ',')
			e2++;
		trim(data, &s1, &e1);
		trim(data, &s2, &e2);
		int first = nl + nb == 0;
		int skip = e1 == s1 || data[s1] == '#' ||
			   (first && ((e1 - s1 == 5 && !strncmp(data + s1, "model", 5)) ||
				      (e1 - s1 == 7 && !strncmp(data + s1, "barcode", 7))));
		int is_bc = e1 - s1 == 22 && strspn(data + s1, "0123456789") >= 22;
		if (!rc && !skip && e1 - s1 > 64)
			rc = ml_errorf(
				err, ML_EINVAL,
				"order file line %zu: first field of %zu characters (at most 64); nothing read",
				lineno, e1 - s1);
		if (!rc && !skip && !is_bc) {
			char q[16];
			long long v = 0;
			size_t ql = e2 - s2;
			int ok = ql > 0 && ql < sizeof(q);
			if (ok) {
				memcpy(q, data + s2, ql);
				q[ql] = '\0';
				char *endp = NULL;
				v = strtoll(q, &endp, 10);
				ok = *endp == '\0' && strspn(q, "0123456789") == ql && v >= 1 &&
				     v <= 1000000;
			}
			if (!ok)
				rc = ml_errorf(
					err, ML_EINVAL,
					"order file line %zu: '%.*s' needs a quantity 1..1000000 in the "
					"second column (MODEL,QUANTITY), or is not a 22-digit barcode; "
					"nothing read",
					lineno, (int)(e1 - s1), data + s1);
			else {
				memcpy(w, data + s1, e1 - s1);
				w[e1 - s1] = '\0';
				lines[nl++] = (struct order_line){ .model = w, .quantity = (int)v };
				w += e1 - s1 + 1;
			}
		} else if (!rc && !skip) {
			memcpy(w, data + s1, 22);
			w[22] = '\0';
			bcs[nb++] = w;
			w += 23;
		}
		pos = end + 1;
	}
	if (rc) {
		free(block);
		return rc;
	}
	*out = (struct order_file){
		.lines = lines, .nlines = nl, .barcodes = bcs, .nbarcodes = nb, .block = block
	};
	return ML_OK;
}

int stock_sheet_csv(struct db *db, const char *store, const char *slot, struct ml_buf *out,
		    size_t *count, struct ml_error *err)
{
	const char *p[2] = { store, slot };
	PGresult *res = NULL;
	if (count)
		*count = 0;
	int rc = db_exec(
		db,
		"SELECT coalesce(s.barcode, '') AS slot, a.barcode, m.code AS model, lt.code AS lot, "
		/* China's day, not the session zone's (as stock_counts) */
		" a.state, (a.verified_at AT TIME ZONE 'Asia/Shanghai')::date AS verified_on "
		"FROM asset a JOIN location l ON l.location_id = a.location_id "
		"JOIN device_model m ON m.model_id = a.model_id JOIN lot lt ON lt.lot_id = a.lot_id "
		"LEFT JOIN asset_slot x ON x.asset_id = a.asset_id "
		"LEFT JOIN store_slot s ON s.slot_id = x.slot_id "
		"WHERE l.code = $1 AND a.state IN ('in_stock', 'secondary_stock') "
		" AND ($2::text IS NULL OR s.barcode = $2) ORDER BY 1, 2",
		2, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return ml_error_prefix(err, "count sheet: ");
	int nf = PQnfields(res);
	for (int j = 0; j < nf; j++) {
		if (j)
			ml_buf_putc(out, ',');
		stores_csv_field(out, PQfname(res, j));
	}
	ml_buf_putc(out, '\n');
	for (int i = 0; i < PQntuples(res); i++) {
		for (int j = 0; j < nf; j++) {
			if (j)
				ml_buf_putc(out, ',');
			stores_csv_field(out, PQgetvalue(res, i, j));
		}
		ml_buf_putc(out, '\n');
	}
	if (count)
		*count = (size_t)PQntuples(res);
	PQclear(res);
	return ml_buf_failed(out) ? ml_errorf(err, ML_ENOMEM, "count sheet: out of memory") : ML_OK;
}
