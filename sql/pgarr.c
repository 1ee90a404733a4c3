/* pgarr.c — PostgreSQL array literals as one text parameter (see pgarr.h). */
#include "sql/pgarr.h"

void pgarr_init(struct pgarr *a)
{
	ml_buf_init(&a->b, ML_BUF_DEFAULT_MAX);
	a->n = 0;
	a->rc = ml_buf_putc(&a->b, '{');
}

void pgarr_add(struct pgarr *a, const char *s)
{
	if (a->rc)
		return;
	if (a->n++)
		a->rc = ml_buf_putc(&a->b, ',');
	if (!a->rc && !s) {
		a->rc = ml_buf_puts(&a->b, "NULL");
		return;
	}
	if (!a->rc)
		a->rc = ml_buf_putc(&a->b, '"');
	for (const char *p = s; !a->rc && *p; p++) {
		if (*p == '"' || *p == '\\')
			a->rc = ml_buf_putc(&a->b, '\\');
		if (!a->rc)
			a->rc = ml_buf_putc(&a->b, *p);
	}
	if (!a->rc)
		a->rc = ml_buf_putc(&a->b, '"');
}

void pgarr_add_i64(struct pgarr *a, long long v)
{
	if (a->rc)
		return;
	if (a->n++)
		a->rc = ml_buf_putc(&a->b, ',');
	if (!a->rc)
		a->rc = ml_buf_printf(&a->b, "%lld", v);
}

const char *pgarr_finish(struct pgarr *a)
{
	if (!a->rc)
		a->rc = ml_buf_putc(&a->b, '}');
	return a->rc ? NULL : ml_buf_str(&a->b);
}

void pgarr_free(struct pgarr *a)
{
	ml_buf_free(&a->b);
}
