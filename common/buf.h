/*
 * buf.h — growable, bounded byte/string buffer (curl dynbuf / git strbuf).
 *
 * A buffer always holds a NUL-terminated string in data (data may be NULL
 * before the first append). Every buffer has a maximum size; an append that
 * would pass it fails with ML_ENOMEM and leaves the buffer unchanged, so a
 * runaway input cannot eat the machine. The owner releases with ml_buf_free.
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
};

#define ML_BUF_DEFAULT_MAX ((size_t)1 << 30)
/* clang-format off */
#define ML_BUF_INIT { NULL, 0, 0, ML_BUF_DEFAULT_MAX }
/* clang-format on */

void ml_buf_init(struct ml_buf *b, size_t max);
void ml_buf_free(struct ml_buf *b);
void ml_buf_reset(struct ml_buf *b); /* len = 0, keeps memory */
int ml_buf_append(struct ml_buf *b, const void *p, size_t n) ML_MUSTCHECK;
int ml_buf_puts(struct ml_buf *b, const char *s) ML_MUSTCHECK;
int ml_buf_putc(struct ml_buf *b, char c) ML_MUSTCHECK;
int ml_buf_printf(struct ml_buf *b, const char *fmt, ...) ML_PRINTF(2, 3) ML_MUSTCHECK;
int ml_buf_vprintf(struct ml_buf *b, const char *fmt, va_list ap) ML_MUSTCHECK;
/* Hand over the string; the caller frees it with free(). Buffer is reset. */
char *ml_buf_detach(struct ml_buf *b, size_t *len);
/* "" when empty: never NULL. Valid until the next change. */
const char *ml_buf_str(const struct ml_buf *b);

#ifdef __cplusplus
}
#endif
#endif
