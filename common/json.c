#include "common/json.h"

#include <inttypes.h>
#include <string.h>

int ml_json_str(struct ml_buf *b, const char *s)
{
	if (!s)
		return ml_buf_puts(b, "null");
	int rc = ml_buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
		switch (*p) {
		case '"':
			rc = ml_buf_puts(b, "\\\"");
			break;
		case '\\':
			rc = ml_buf_puts(b, "\\\\");
			break;
		case '\n':
			rc = ml_buf_puts(b, "\\n");
			break;
		case '\r':
			rc = ml_buf_puts(b, "\\r");
			break;
		case '\t':
			rc = ml_buf_puts(b, "\\t");
			break;
		default:
			if (*p < 0x20)
				rc = ml_buf_printf(b, "\\u%04x", *p);
			else
				rc = ml_buf_putc(b, (char)*p);
		}
	}
	return rc ? rc : ml_buf_putc(b, '"');
}

int ml_json_key(struct ml_buf *b, const char *key)
{
	int rc = ml_json_str(b, key);
	return rc ? rc : ml_buf_putc(b, ':');
}

static int lead(struct ml_buf *b, int first, const char *key)
{
	int rc = first ? ML_OK : ml_buf_putc(b, ',');
	return rc ? rc : ml_json_key(b, key);
}

int ml_json_kv_str(struct ml_buf *b, int first, const char *key, const char *val)
{
	int rc = lead(b, first, key);
	return rc ? rc : ml_json_str(b, val);
}

int ml_json_kv_int(struct ml_buf *b, int first, const char *key, int64_t val)
{
	int rc = lead(b, first, key);
	return rc ? rc : ml_buf_printf(b, "%" PRId64, val);
}

int ml_json_kv_bool(struct ml_buf *b, int first, const char *key, int val)
{
	int rc = lead(b, first, key);
	return rc ? rc : ml_buf_puts(b, val ? "true" : "false");
}

int ml_json_kv_raw(struct ml_buf *b, int first, const char *key, const char *raw)
{
	int rc = lead(b, first, key);
	return rc ? rc : ml_buf_puts(b, raw ? raw : "null");
}
