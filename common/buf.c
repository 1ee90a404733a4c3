#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ml_buf_init(struct ml_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : ML_BUF_DEFAULT_MAX;
	b->failed = 0;
}

void ml_buf_free(struct ml_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

void ml_buf_reset(struct ml_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->data)
		b->data[0] = '\0';
}

int ml_buf_failed(const struct ml_buf *b)
{
	return b->failed ? ML_ENOMEM : ML_OK;
}

/* Room for extra more bytes and the NUL; a failure is remembered (buf.h). */
static int grow(struct ml_buf *b, size_t extra)
{
	if (b->failed || extra > b->max || b->len + extra + 1 > b->max) {
		b->failed = 1;
		return ML_ENOMEM;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return ML_OK;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->failed = 1;
		return ML_ENOMEM;
	}
	b->data = p;
	b->cap = cap;
	return ML_OK;
}

int ml_buf_append(struct ml_buf *b, const void *p, size_t n)
{
	if (grow(b, n))
		return ML_ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return ML_OK;
}

int ml_buf_puts(struct ml_buf *b, const char *s)
{
	return ml_buf_append(b, s, strlen(s));
}

int ml_buf_putc(struct ml_buf *b, char c)
{
	return ml_buf_append(b, &c, 1);
}

int ml_buf_vprintf(struct ml_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->failed = 1;
		return ML_EINVAL;
	}
	if (grow(b, (size_t)n))
		return ML_ENOMEM;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return ML_OK;
}

int ml_buf_printf(struct ml_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ml_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *ml_buf_detach(struct ml_buf *b, size_t *len)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
	return p;
}

const char *ml_buf_str(const struct ml_buf *b)
{
	return b->data ? b->data : "";
}
