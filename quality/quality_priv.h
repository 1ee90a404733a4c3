/* quality_priv.h — helpers shared inside quality/ (not an API). */
#ifndef ML_QUALITY_PRIV_H
#define ML_QUALITY_PRIV_H

#include <stdint.h>

#include "common/buf.h"

/* 1 when s is a real calendar date YYYY-MM-DD (years 1900..9999). */
int quality_date_ok(const char *s);
/* One CSV field (RFC 4180: quoted when it holds a comma, quote, CR or LF). */
void quality_csv_field(struct ml_buf *b, const char *s);
/* n fields separated by commas and CRLF. */
void quality_csv_row(struct ml_buf *b, int n, const char *const *f);

#endif
