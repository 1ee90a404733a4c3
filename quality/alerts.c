/*
 * alerts.c — the early warning: exact one-sided tests of each unit against
 * its peers, Holm or Benjamini–Hochberg within each family (alerts.h).
 */
#include "quality/alerts.h"

#include <stdlib.h>
#include <string.h>

#include "quality/exact.h"
#include "quality/quality_priv.h"
#include "sql/db.h"

int quality_correction_parse(const char *s, enum quality_correction *out, struct ml_error *err)
{
	if (s && !strcmp(s, "holm")) {
		*out = QUALITY_HOLM;
		return ML_OK;
	}
	if (s && !strcmp(s, "bh")) {
		*out = QUALITY_BH;
		return ML_OK;
	}
	return ml_errorf(err, ML_EINVAL, "correction '%s' is not holm or bh", s ? s : "");
}

const char *quality_correction_name(enum quality_correction c)
{
	return c == QUALITY_BH ? "bh" : "holm";
}

/* "0.05" -> 5/100; a decimal strictly between 0 and 1 with at most 6 places. */
static int parse_alpha(const char *s, uint64_t *num, uint64_t *den, struct ml_error *err)
{
	const char *p = s;
	uint64_t a = 0, b = 1;
	int places = 0;
	if (!p || *p != '0' || p[1] != '.' || !p[2])
		goto bad;
	p += 2;
	for (; *p; p++, places++) {
		if (*p < '0' || *p > '9' || places >= 6)
			goto bad;
		a = a * 10 + (uint64_t)(*p - '0');
		b *= 10;
	}
	if (a == 0)
		goto bad;
	*num = a;
	*den = b;
	return ML_OK;
bad:
	return ml_errorf(
		err, ML_EINVAL,
		"alpha '%s' is not a decimal between 0 and 1 with at most 6 places (e.g. 0.05)",
		s ? s : "");
}

/* threshold j (1..m): Holm α/(m−j+1), BH α·j/m */
static void threshold(enum quality_correction c, uint64_t a, uint64_t b, size_t m, size_t j,
		      uint64_t *num, uint64_t *den)
{
	if (c == QUALITY_BH) {
		*num = a * j;
		*den = b * m;
	} else {
		*num = a;
		*den = b * (m - j + 1);
	}
}

/* p_i <= num/den, exactly */
static int p_le(const struct quality_alert *x, uint64_t num, uint64_t den)
{
	const struct quality_unit *u = &x->unit;
	if (u->metric == QUALITY_VERIFY)
		return qx_hyper_tail_le((uint64_t)(u->n + x->peer_n), (uint64_t)(u->x + x->peer_x),
					(uint64_t)u->n, (uint64_t)u->x, num, den) == 1;
	return qx_binom_tail_le((uint64_t)(u->x + x->peer_x), (uint64_t)u->n,
				(uint64_t)(u->n + x->peer_n), (uint64_t)u->x, num, den) == 1;
}

static double p_display(const struct quality_alert *x)
{
	const struct quality_unit *u = &x->unit;
	if (u->metric == QUALITY_VERIFY)
		return qx_hyper_tail((uint64_t)(u->n + x->peer_n), (uint64_t)(u->x + x->peer_x),
				     (uint64_t)u->n, (uint64_t)u->x);
	return qx_binom_tail((uint64_t)(u->x + x->peer_x), (uint64_t)u->n,
			     (uint64_t)(u->n + x->peer_n), (uint64_t)u->x);
}

static int same_family(const struct quality_unit *a, const struct quality_unit *b)
{
	return a->metric == b->metric && !strcmp(a->dim, b->dim);
}

/* The peers of unit i: the other units of its family and peer group. */
static void peers(const struct quality_unit *u, size_t n, size_t i, struct quality_alert *out)
{
	size_t count = 0;
	for (size_t k = 0; k < n; k++) {
		if (k == i || !same_family(&u[k], &u[i]) || strcmp(u[k].peer, u[i].peer))
			continue;
		out->peer_n += u[k].n;
		out->peer_x += u[k].x;
		count++;
	}
	/* a peer group without exposure or verifications cannot be compared with */
	out->tested = count > 0 && out->peer_n > 0 && u[i].n > 0;
}

/* One family: ranks by binary search over the increasing thresholds, then the procedure. */
static int decide_family(struct quality_alert *al, size_t n, size_t first,
			 const struct quality_alert_opts *o, uint64_t a, uint64_t b,
			 struct ml_error *err)
{
	size_t m = 0;
	for (size_t i = first; i < n; i++)
		if (same_family(&al[i].unit, &al[first].unit) && al[i].tested)
			m++;
	if (m == 0)
		return ML_OK;
	size_t *count = calloc(m + 2, sizeof *count); /* count[j]: units with rank j */
	if (!count)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = first; i < n; i++) {
		struct quality_alert *x = &al[i];
		if (!same_family(&x->unit, &al[first].unit) || !x->tested)
			continue;
		x->family_size = m;
		size_t lo = 1, hi = m + 1; /* the smallest j with p <= t_j lies in [lo, hi] */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			uint64_t tn, td;
			threshold(o->method, a, b, m, mid, &tn, &td);
			if (p_le(x, tn, td))
				hi = mid;
			else
				lo = mid + 1;
		}
		x->rank = lo <= m ? lo : 0;
		count[lo]++;
	}
	/* Holm: the largest R with c_j >= j for every j <= R; BH: the largest k with c_k >= k;
	 * c_j = units with rank <= j */
	size_t cut = 0, c = 0;
	for (size_t j = 1; j <= m; j++) {
		c += count[j];
		if (c >= j)
			cut = j;
		else if (o->method == QUALITY_HOLM)
			break;
	}
	free(count);
	for (size_t i = first; i < n; i++) {
		struct quality_alert *x = &al[i];
		if (!same_family(&x->unit, &al[first].unit) || !x->tested)
			continue;
		x->flagged = x->rank >= 1 && x->rank <= cut;
		threshold(o->method, a, b, m, cut ? cut : 1, &x->t_num, &x->t_den);
	}
	return ML_OK;
}

int quality_alerts_compute(const struct quality_unit *units, size_t n,
			   const struct quality_alert_opts *o, struct quality_alert **out,
			   struct ml_error *err)
{
	uint64_t a = 0, b = 1;
	int rc = parse_alpha(o->alpha, &a, &b, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (units[i].n < 0 || units[i].x < 0 ||
		    (units[i].metric == QUALITY_VERIFY && units[i].x > units[i].n))
			return ml_errorf(err, ML_EINVAL, "unit %s %s: %lld of %lld is impossible",
					 units[i].dim, units[i].key, (long long)units[i].x,
					 (long long)units[i].n);
	struct quality_alert *al = calloc(n ? n : 1, sizeof *al);
	if (!al)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		al[i].unit = units[i];
		peers(units, n, i, &al[i]);
		if (al[i].tested)
			al[i].p = p_display(&al[i]);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = same_family(&units[k], &units[i]);
		if (!seen)
			rc = decide_family(al, n, i, o, a, b, err);
	}
	if (rc) {
		free(al);
		return rc;
	}
	*out = al;
	return ML_OK;
}

int quality_alert_units_load(struct db *db, const char *from, const char *to,
			     struct quality_unit **out, size_t *n, struct ml_error *err)
{
	if (!quality_date_ok(from) || !quality_date_ok(to))
		return ml_errorf(err, ML_EINVAL, "period '%s' .. '%s' is not two dates YYYY-MM-DD",
				 from ? from : "", to ? to : "");
	if (strcmp(from, to) > 0)
		return ml_errorf(err, ML_EINVAL, "--from %s is after --to %s", from, to);
	const char *p[2] = { from, to };
	PGresult *r = NULL;
	int rc = db_exec(db, "SELECT * FROM ml_quality_alert_units($1::date, $2::date)", 2, p,
			 PGRES_TUPLES_OK, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct quality_unit *u = calloc(rows ? (size_t)rows : 1, sizeof *u);
	if (!u) {
		PQclear(r);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (int i = 0; i < rows; i++) {
		u[i].metric = !strcmp(db_get(r, i, "metric"), "field") ? QUALITY_FIELD
								       : QUALITY_VERIFY;
		snprintf(u[i].dim, sizeof u[i].dim, "%s", db_get(r, i, "dim"));
		snprintf(u[i].key, sizeof u[i].key, "%s", db_get(r, i, "key"));
		snprintf(u[i].peer, sizeof u[i].peer, "%s", db_get(r, i, "peer"));
		u[i].n = strtoll(db_get(r, i, "n"), NULL, 10);
		u[i].x = strtoll(db_get(r, i, "x"), NULL, 10);
	}
	PQclear(r);
	*out = u;
	*n = (size_t)rows;
	return ML_OK;
}
