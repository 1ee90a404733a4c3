/*
 * import.c — receiving a supplier delivery (到货接收, domain.md §5.1) from
 * a CSV file into a new lot, all or nothing.
 *
 * Why COPY + staging: 100 000 rows must import in seconds. Rows are parsed
 * and checked in C (barcode check digit, dates, lengths), streamed with
 * COPY into a temporary table, checked against the catalogue and the
 * registry in three set-based queries, then inserted with INSERT … SELECT.
 * Every problem of every row is collected before anything is written.
 */
#include "assets/registry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets/asset_priv.h"
#include "assets/barcode.h"

enum col {
	C_BARCODE,
	C_MODEL,
	C_BATCH,
	C_DATE,
	C_BOX,
	C_N
};
static const char *const col_names[C_N] = { "barcode", "model_code", "production_batch",
					    "production_date", "box_code" };
#define MAX_FIELDS 16

struct importer {
	int pos[C_N]; /* field index of each column, -1 when absent */
	int nfields;  /* fields in the header */
	struct ml_buf copy;
	struct asset_import_issue *issues;
	size_t nissues, cap;
	size_t rows;
	int oom;
};

void asset_import_report_free(struct asset_import_report *rep)
{
	if (!rep)
		return;
	free(rep->issues);
	rep->issues = NULL;
	rep->nissues = 0;
}

/* Drop a multi-byte UTF-8 sequence cut short by truncation at the end of s. */
static void utf8_cut(char *s)
{
	size_t l = strlen(s), k = l;
	while (k && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
		k--;
	if (!k || (unsigned char)s[k - 1] < 0xC0)
		return; /* ends in ASCII (or has no lead byte to judge) */
	unsigned char lead = (unsigned char)s[k - 1];
	size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	if (l - (k - 1) < need)
		s[k - 1] = '\0';
}

static void issue(struct importer *im, long line, const char *column, const char *value,
		  const char *fmt, ...) ML_PRINTF(5, 6);
static void issue(struct importer *im, long line, const char *column, const char *value,
		  const char *fmt, ...)
{
	if (im->nissues == im->cap) {
		size_t ncap = im->cap ? im->cap * 2 : 64;
		void *p = realloc(im->issues, ncap * sizeof(*im->issues));
		if (!p) {
			im->oom = 1;
			return;
		}
		im->issues = p;
		im->cap = ncap;
	}
	struct asset_import_issue *is = &im->issues[im->nissues++];
	is->line = line;
	snprintf(is->column, sizeof(is->column), "%s", column ? column : "");
	snprintf(is->value, sizeof(is->value), "%s", value ? value : "");
	utf8_cut(is->value);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(is->reason, sizeof(is->reason), fmt, ap);
	va_end(ap);
}

/*
 * Split one line in place into fields (RFC 4180 quoting without embedded
 * newlines). Returns the field count, or -1 for a malformed quote; more
 * than MAX_FIELDS fields returns MAX_FIELDS + 1.
 */
static int split_fields(char *s, char **f)
{
	int n = 0;
	for (;;) {
		if (n == MAX_FIELDS)
			return MAX_FIELDS + 1;
		char *w = s;
		f[n++] = s;
		if (*s == '"') {
			char *r = s + 1;
			for (;;) {
				if (!*r)
					return -1;
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else {
					*w++ = *r++;
				}
			}
			if (*r && *r != ',')
				return -1;
			s = r;
		} else {
			while (*s && *s != ',')
				s++;
			w = s;
		}
		char sep = *s;
		*w = '\0';
		if (sep != ',')
			return n;
		s++;
	}
}

/* Trim trailing CR and surrounding blanks in place. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t l = strlen(s);
	while (l && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
		s[--l] = '\0';
	return s;
}

static int parse_header(struct importer *im, char *line)
{
	char *f[MAX_FIELDS];
	if (!strncmp(line, "\xEF\xBB\xBF", 3)) /* UTF-8 BOM written by spreadsheet programs */
		line += 3;
	int n = split_fields(line, f);
	for (int c = 0; c < C_N; c++)
		im->pos[c] = -1;
	if (n < 0 || n > MAX_FIELDS) {
		issue(im, 1, "", "", "header is not a valid CSV line of at most %d columns",
		      MAX_FIELDS);
		return ML_EINVAL;
	}
	im->nfields = n;
	for (int i = 0; i < n; i++) {
		char *name = trim(f[i]);
		int c = 0;
		while (c < C_N && strcmp(name, col_names[c]))
			c++;
		if (c == C_N)
			issue(im, 1, name, name,
			      "unknown column (expected barcode,model_code,production_batch,"
			      "production_date[,box_code])");
		else if (im->pos[c] >= 0)
			issue(im, 1, name, name, "column appears twice in the header");
		else
			im->pos[c] = i;
	}
	for (int c = 0; c < C_BOX; c++) {
		if (im->pos[c] < 0)
			issue(im, 1, col_names[c], "",
			      "required column '%s' is missing from the header", col_names[c]);
	}
	return im->nissues ? ML_EINVAL : ML_OK;
}

/* Append a COPY text-format field: \N for NULL, backslash escapes otherwise. */
static int copy_field(struct ml_buf *b, const char *s, char end)
{
	int rc = ML_OK;
	if (!s) {
		rc = ml_buf_puts(b, "\\N");
	} else {
		for (const char *p = s; *p && !rc; p++) {
			if (*p == '\\')
				rc = ml_buf_puts(b, "\\\\");
			else if (*p == '\t')
				rc = ml_buf_puts(b, "\\t");
			else
				rc = ml_buf_putc(b, *p);
		}
	}
	return rc ? rc : ml_buf_putc(b, end);
}

enum text_fault {
	TEXT_OK,
	TEXT_NOT_UTF8,
	TEXT_CONTROL
};

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, surrogates or > U+10FFFF), 0 if none. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
	else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	}
	return n;
}

/*
 * The file must be UTF-8 text: bytes of another encoding (GBK from a
 * Chinese-locale spreadsheet) or control characters (a CR inside a field)
 * would otherwise reach COPY and fail as one database error naming no line.
 * A tab is allowed (COPY escapes it).
 */
static enum text_fault text_fault(const char *v)
{
	enum text_fault f = TEXT_OK;
	for (const unsigned char *p = (const unsigned char *)v; *p;) {
		if (*p >= 0x80) {
			size_t n = utf8_seq(p);
			if (!n)
				return TEXT_NOT_UTF8;
			p += n;
			continue;
		}
		if ((*p < 0x20 && *p != '\t') || *p == 0x7F)
			f = TEXT_CONTROL;
		p++;
	}
	return f;
}

/* Characters (not bytes) of well-formed UTF-8: the schema's length(…) ≤ 64 counts characters. */
static size_t utf8_chars(const char *v)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		n += (*p & 0xC0) != 0x80;
	return n;
}

/* v with control bytes (and, when all_high, every byte >= 0x80) written as \xHH, into out. */
static void escape_bytes(const char *v, int all_high, char *out, size_t size)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)v; *p && o + 5 < size; p++) {
		if (*p < 0x20 || *p == 0x7F || (all_high && *p >= 0x80))
			o += (size_t)snprintf(out + o, size - o, "\\x%02X", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
}

/* Check one field with the rule of its column; return it, or NULL (-> staged as NULL) when bad. */
static const char *check_field(struct importer *im, long line, int c, const char *v)
{
	struct ml_error e = ML_ERROR_INIT;
	enum text_fault tf = text_fault(v);
	if (tf != TEXT_OK) {
		char shown[sizeof(im->issues[0].value)];
		escape_bytes(v, tf == TEXT_NOT_UTF8, shown, sizeof(shown));
		issue(im, line, col_names[c], shown, "%s",
		      tf == TEXT_NOT_UTF8 ? "not valid UTF-8 (save the delivery file as UTF-8 CSV)"
					  : "contains a control character");
		return NULL;
	}
	switch (c) {
	case C_BARCODE:
		if (barcode_validate(v, &e) == ML_OK)
			return v;
		issue(im, line, col_names[c], v, "%s", e.msg);
		return NULL;
	case C_DATE:
		if (asset_date_ok(v))
			return v;
		issue(im, line, col_names[c], v, "not a calendar date YYYY-MM-DD");
		return NULL;
	case C_BOX:
		if (utf8_chars(v) <= 64)
			return *v ? v : NULL;
		issue(im, line, col_names[c], v, "longer than 64 characters");
		return NULL;
	default:
		if (*v && utf8_chars(v) <= 64)
			return v;
		issue(im, line, col_names[c], v, *v ? "longer than 64 characters" : "empty");
		return NULL;
	}
}

static void parse_row(struct importer *im, long line, char *s)
{
	char *f[MAX_FIELDS];
	int n = split_fields(s, f);
	if (n != im->nfields) {
		if (n < 0)
			issue(im, line, "", "", "malformed quoting");
		else
			issue(im, line, "", "", "has %d fields, the header has %d",
			      n > MAX_FIELDS ? n - 1 : n, im->nfields);
		return;
	}
	int rc = ml_buf_printf(&im->copy, "%ld\t", line);
	for (int c = 0; c < C_N && !rc; c++) {
		const char *v = im->pos[c] >= 0 ? check_field(im, line, c, trim(f[im->pos[c]]))
						: NULL;
		rc = copy_field(&im->copy, v, c == C_N - 1 ? '\n' : '\t');
	}
	if (rc)
		im->oom = 1;
	im->rows++;
}

/* Parse the whole file (modified in place) into im->copy and im->issues. */
static void parse_csv(struct importer *im, char *data, size_t len)
{
	char *end = data + len, *s = data;
	long line = 0;
	int header = 1;
	while (s < end && !im->oom) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		char *e = nl ? nl : end;
		line++;
		/* A NUL byte would end the line here as a C string and drop the rest
		 * silently: the line is refused, naming where the byte is. */
		char *nul = memchr(s, '\0', (size_t)(e - s));
		*e = '\0';
		if (nul) {
			issue(im, line, "", "", "contains a NUL byte (\\x00) at character %ld",
			      (long)(nul - s) + 1);
			if (header)
				return;
			im->rows++;
			s = e + 1;
			continue;
		}
		char *t = trim(s);
		if (header) {
			if (parse_header(im, t))
				return;
			header = 0;
		} else if (*t) {
			parse_row(im, line, t);
		}
		s = e + 1;
	}
	if (header)
		issue(im, 1, "", "", "the file is empty (a header line is required)");
	else if (im->rows == 0)
		issue(im, 2, "", "", "the delivery has no rows");
}

/* sha256 of the raw bytes, computed by the server so no crypto library is needed. */
static int file_sha256(struct db *db, const char *data, size_t len, char out[65],
		       struct ml_error *err)
{
	if (len > 0x7fffffff)
		return ml_errorf(err, ML_EINVAL, "delivery file of %zu bytes is too large", len);
	const char *vals[1] = { data };
	int lens[1] = { (int)len };
	int fmts[1] = { 1 }; /* binary: the bytes as they are, whatever the encoding */
	PGresult *res = PQexecParams(db_conn(db), "SELECT encode(sha256($1::bytea), 'hex')", 1,
				     NULL, vals, lens, fmts, 0);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		int rc = db_result_error(db, res, "checksum", err);
		PQclear(res);
		return rc;
	}
	snprintf(out, 65, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ML_OK;
}

/*
 * The rows go to the database's staging table (COPY; the application may
 * only INSERT there, and only rows of its own transaction), then ONE call of
 * ml_asset_receive checks them set-based (barcodes, models, texts, dates,
 * duplicates, already registered) and — when nothing is wrong — inserts the
 * lot, the assets and their events with the authenticated user as actor.
 */
static int stage(struct db *db, struct importer *im, struct ml_error *err)
{
	return db_copy_in(db,
			  "COPY asset_receive_stage (line, barcode, model_code, production_batch, "
			  "production_date, box_code) FROM STDIN",
			  ml_buf_str(&im->copy), im->copy.len, err);
}

/* 1 when the parser already reported a problem at (line, column). */
static int reported(const struct importer *im, size_t upto, long line, const char *column)
{
	for (size_t i = 0; i < upto; i++) {
		if (im->issues[i].line == line && !strcmp(im->issues[i].column, column))
			return 1;
	}
	return 0;
}

static int receive_in_sql(struct db *db, const struct asset_receive_opts *o, struct importer *im,
			  struct asset_import_report *rep, struct ml_error *err)
{
	const char *loc = o->location ? o->location : "CENTRAL";
	const char *p[6] = { o->lot_code, o->supplier, o->file_name,
			     rep->sha256, loc,         im->nissues ? "true" : "false" };
	PGresult *res = NULL;
	int rc = db_exec(db,
			 "SELECT line, col, val, reason FROM ml_asset_receive($1, $2, $3, $4, $5, "
			 "$6::boolean)",
			 6, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	size_t parsed = im->nissues;
	for (int r = 0; r < PQntuples(res); r++) {
		long line = strtol(PQgetvalue(res, r, 0), NULL, 10);
		const char *col = PQgetvalue(res, r, 1);
		/* a value the parser refused was staged as NULL: the database calls it missing */
		if (reported(im, parsed, line, col))
			continue;
		issue(im, line, col, db_get(res, r, "val"), "%s", PQgetvalue(res, r, 3));
	}
	PQclear(res);
	if (im->nissues)
		return ML_OK;
	p[0] = o->lot_code;
	rc = db_query_one(db, "SELECT lot_id, row_count FROM lot WHERE code = $1", 1, p, &res, err);
	if (!rc) {
		rep->lot_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		rep->rows = (size_t)strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	}
	PQclear(res);
	return rc;
}

static int summarise(struct importer *im, struct asset_import_report *rep, struct ml_error *err)
{
	const struct asset_import_issue *is = &im->issues[0];
	int rc = ml_errorf(
		err, ML_EINVAL,
		"%zu problem%s in the delivery, nothing imported; first: line %ld%s%s: %s",
		im->nissues, im->nissues == 1 ? "" : "s", is->line, is->column[0] ? " column " : "",
		is->column, is->reason);
	rep->issues = im->issues;
	rep->nissues = im->nissues;
	im->issues = NULL;
	return rc;
}

static int cmp_issue(const void *a, const void *b)
{
	const struct asset_import_issue *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return strcmp(x->column, y->column);
}

static int receive_tx(struct db *db, const struct asset_receive_opts *o, struct importer *im,
		      struct asset_import_report *rep, struct ml_error *err)
{
	/* every row had a problem the parser reported: nothing to stage or check further */
	int rc = im->copy.len ? stage(db, im, err) : ML_OK;
	if (!rc && im->copy.len)
		rc = receive_in_sql(db, o, im, rep, err);
	if (!rc && im->oom)
		rc = ml_errorf(err, ML_ENOMEM, "out of memory collecting problems");
	if (!rc && im->nissues) {
		qsort(im->issues, im->nissues, sizeof(*im->issues), cmp_issue);
		return summarise(im, rep, err);
	}
	return rc;
}

int asset_receive(struct db *db, const struct asset_receive_opts *o, const char *data, size_t len,
		  struct asset_import_report *rep, struct ml_error *err)
{
	memset(rep, 0, sizeof(*rep));
	if (!o->lot_code || !*o->lot_code)
		return ml_errorf(err, ML_EINVAL, "a lot code is required");
	int rc = file_sha256(db, data, len, rep->sha256, err);
	if (rc)
		return rc;
	struct importer im = { .copy = ML_BUF_INIT };
	char *copy = malloc(len + 1);
	if (!copy)
		return ml_errorf(err, ML_ENOMEM, "out of memory for a %zu-byte delivery", len);
	memcpy(copy, data, len);
	copy[len] = '\0';
	parse_csv(&im, copy, len);
	free(copy);
	if (im.oom) {
		rc = ml_errorf(err, ML_ENOMEM, "out of memory parsing the delivery");
	} else if (im.nissues && im.pos[C_BARCODE] < 0) {
		rc = summarise(&im, rep, err); /* header unusable: nothing to check in SQL */
	} else if (im.rows == 0) {
		rc = summarise(&im, rep, err);
	} else {
		int own = 0;
		rc = asset_tx_open(db, "asset_receive", &own, err);
		if (!rc)
			rc = asset_tx_close(db, "asset_receive", own,
					    receive_tx(db, o, &im, rep, err), err);
	}
	if (rc) {
		rep->rows = 0;
		rep->lot_id = 0;
	}
	free(im.issues);
	ml_buf_free(&im.copy);
	return rc;
}

int asset_read_file(const char *path, char **data, size_t *len, struct ml_error *err)
{
	*data = NULL;
	*len = 0;
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		char eb[128];
		return ml_errorf(err, ML_EIO, "cannot open '%s': %s", path,
				 ml_errno_str(errno, eb, sizeof(eb)));
	}
	struct ml_buf b = ML_BUF_INIT;
	char chunk[65536];
	size_t n;
	int rc = ML_OK;
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = ml_buf_append(&b, chunk, n);
	if (!rc && ferror(f))
		rc = ml_errorf(err, ML_EIO, "error reading '%s'", path);
	else if (rc)
		rc = ml_errorf(err, rc, "'%s' is too large", path);
	if (f != stdin)
		fclose(f);
	if (rc) {
		ml_buf_free(&b);
		return rc;
	}
	if (!b.data && ml_buf_puts(&b, "") != ML_OK)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	*data = ml_buf_detach(&b, len);
	return ML_OK;
}
