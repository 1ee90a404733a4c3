/*
 * buf.h — growable, bounded byte/string buffer (curl dynbuf / git strbuf).
 *
 * A buffer always holds a NUL-terminated string in data (data may be NULL
 * before the first append). Every buffer has a maximum size; an append that
 * would pass it fails with ML_ENOMEM and leaves the buffer unchanged, so a
 * runaway input cannot eat the machine. The owner releases with ml_buf_free.
 *
 * A failed append is remembered: every later append fails too, until
 * ml_buf_reset. So output can be built with a run of appends whose results
 * are not checked one by one, and checked once with ml_buf_failed() before
 * the text is used (cli_emit does; CONTRIBUTING.md, "Errors").
 */
#ifndef ML_BUF_H
#define ML_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ml_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	int failed; /* an append failed since init/reset: the contents are incomplete */
};

#define ML_BUF_DEFAULT_MAX ((size_t)1 << 30)
/* clang-format off */
#define ML_BUF_INIT { NULL, 0, 0, ML_BUF_DEFAULT_MAX, 0 }
/* clang-format on */

void ml_buf_init(struct ml_buf *b, size_t max);
void ml_buf_free(struct ml_buf *b);
void ml_buf_reset(struct ml_buf *b); /* len = 0 and failed = 0, keeps memory */
/* Appends return ML_OK, or ML_ENOMEM (past max, out of memory, or an earlier failure). */
int ml_buf_append(struct ml_buf *b, const void *p, size_t n);
int ml_buf_puts(struct ml_buf *b, const char *s);
int ml_buf_putc(struct ml_buf *b, char c);
int ml_buf_printf(struct ml_buf *b, const char *fmt, ...) ML_PRINTF(2, 3);
int ml_buf_vprintf(struct ml_buf *b, const char *fmt, va_list ap);
/* ML_ENOMEM when an append failed since init/reset (the contents are incomplete), else ML_OK. */
int ml_buf_failed(const struct ml_buf *b);
/* Hand over the string; the caller frees it with free(). Buffer is reset. */
char *ml_buf_detach(struct ml_buf *b, size_t *len);
/* "" when empty: never NULL. Valid until the next change. */
const char *ml_buf_str(const struct ml_buf *b);

#ifdef __cplusplus
}
#endif
#endif
