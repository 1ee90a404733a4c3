/*
 * json.h — minimal JSON writer for --json output and event streams.
 * Writes into an ml_buf; strings are escaped per RFC 8259 (UTF-8 passed
 * through, control characters as \u00XX). No reader: meterlab does not
 * parse JSON.
 *
 * Every function returns ML_OK or ML_ENOMEM and, like every append, leaves
 * the buffer marked failed (buf.h): a run of calls may be checked once.
 */
#ifndef ML_JSON_H
#define ML_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Append s as a quoted JSON string; NULL becomes null. */
int ml_json_str(struct ml_buf *b, const char *s);
/* Append "key": with the key escaped; caller writes the value next. */
int ml_json_key(struct ml_buf *b, const char *key);
/* "key":"value" / "key":123 / "key":true, with a leading comma when first==0. */
int ml_json_kv_str(struct ml_buf *b, int first, const char *key, const char *val);
int ml_json_kv_int(struct ml_buf *b, int first, const char *key, int64_t val);
int ml_json_kv_bool(struct ml_buf *b, int first, const char *key, int val);
/* Raw JSON value (number text, nested object) copied as-is. */
int ml_json_kv_raw(struct ml_buf *b, int first, const char *key, const char *raw);

#ifdef __cplusplus
}
#endif
#endif
