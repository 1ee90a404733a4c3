/* pgbin.c — one-dimensional arrays as binary parameters (see pgbin.h). */
#include "sql/pgbin.h"

#include <limits.h>
#include <string.h>

#define HDR 20 /* ndim, flags, element type, length, lower bound */

/* 2000-01-01 00:00 UTC in µs since the Unix epoch: PostgreSQL's timestamp zero. */
#define PG_EPOCH_US INT64_C(946684800000000)

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void be64(unsigned char *p, uint64_t v)
{
	be32(p, (uint32_t)(v >> 32));
	be32(p + 4, (uint32_t)v);
}

void pgbin_arr_init(struct pgbin_arr *a, enum pgbin_type type)
{
	static const unsigned char zero[HDR];
	ml_buf_init(&a->b, ML_BUF_DEFAULT_MAX);
	a->type = type;
	a->n = 0;
	a->has_null = 0;
	a->bad = 0;
	a->rc = ml_buf_append(&a->b, zero, HDR);
}

/* One element: its length word and bytes (len -1: NULL, no bytes). */
static void put(struct pgbin_arr *a, const void *p, int32_t len)
{
	if (a->rc)
		return;
	if (a->n == INT_MAX) {
		a->rc = ML_ENOMEM;
		return;
	}
	unsigned char w[4];
	be32(w, (uint32_t)len);
	a->rc = ml_buf_append(&a->b, w, 4);
	if (!a->rc && len > 0)
		a->rc = ml_buf_append(&a->b, p, (size_t)len);
	if (!a->rc) {
		a->n++;
		a->has_null |= len < 0;
	}
}

void pgbin_arr_int(struct pgbin_arr *a, int64_t v, int isnull)
{
	unsigned char w[8];
	if (!a->rc && a->type != PGBIN_INT8 && a->type != PGBIN_INT4)
		a->rc = ML_EINVAL;
	else if (isnull)
		put(a, NULL, -1);
	else if (a->type == PGBIN_INT8) {
		be64(w, (uint64_t)v);
		put(a, w, 8);
	} else if (v < INT32_MIN || v > INT32_MAX) {
		if (!a->rc) {
			a->rc = ML_EINVAL;
			a->bad = v;
		}
	} else {
		be32(w, (uint32_t)(int32_t)v);
		put(a, w, 4);
	}
}

void pgbin_arr_ts(struct pgbin_arr *a, int64_t unix_us, int isnull)
{
	unsigned char w[8];
	if (!a->rc && a->type != PGBIN_TIMESTAMPTZ)
		a->rc = ML_EINVAL;
	else if (isnull)
		put(a, NULL, -1);
	else if (unix_us < INT64_MIN + PG_EPOCH_US) {
		if (!a->rc) {
			a->rc = ML_EINVAL;
			a->bad = unix_us;
		}
	} else {
		be64(w, (uint64_t)(unix_us - PG_EPOCH_US));
		put(a, w, 8);
	}
}

void pgbin_arr_text(struct pgbin_arr *a, const char *s)
{
	size_t l = s ? strlen(s) : 0;
	if (!a->rc && (a->type != PGBIN_TEXT || l > INT32_MAX))
		a->rc = ML_EINVAL;
	else
		put(a, s, s ? (int32_t)l : -1);
}

const char *pgbin_arr_finish(struct pgbin_arr *a, int *len)
{
	*len = 0;
	if (a->rc || a->b.len > INT_MAX)
		return NULL;
	unsigned char *h = (unsigned char *)a->b.data;
	/* An empty array has no dimensions (array_send of '{}'): 12 bytes. */
	be32(h, a->n ? 1 : 0);
	be32(h + 4, (uint32_t)a->has_null);
	be32(h + 8, (uint32_t)a->type);
	be32(h + 12, (uint32_t)a->n);
	be32(h + 16, 1);
	*len = a->n ? (int)a->b.len : 12;
	return a->b.data;
}

void pgbin_arr_free(struct pgbin_arr *a)
{
	ml_buf_free(&a->b);
}
