/*
 * limits.c — the regulation limit tables (JJG 596-2012, letter classes,
 * IEC 61869-2/-3) and the class/point arithmetic behind them.
 *
 * All values are dec4 (% × 1e4, minutes × 1e4). Every table names its
 * source in domain.md; ranges marked [M] there are settings or documented
 * choices here.
 */
#include "lab/limits.h"

#include <string.h>
#include <strings.h>

#include "lab/decimal.h"
#include "lab/judge.h"


static const struct {
	const char *text;
	enum meter_class cls;
} class_names[] = {
	{ "0.2S", MCLS_0_2S }, { "0.5S", MCLS_0_5S }, { "1", MCLS_1 }, { "1.0", MCLS_1 },
	{ "2", MCLS_2 },       { "2.0", MCLS_2 },     { "A", MCLS_A }, { "B", MCLS_B },
	{ "C", MCLS_C },       { "D", MCLS_D },       { "E", MCLS_E },
};

int limits_meter_class(const char *text, enum meter_class *out, struct ml_error *err)
{
	for (size_t i = 0; text && i < sizeof(class_names) / sizeof(class_names[0]); i++) {
		if (strcasecmp(text, class_names[i].text) == 0) {
			*out = class_names[i].cls;
			return ML_OK;
		}
	}
	return ml_errorf(err, ML_EINVAL,
			 "meter accuracy class '%s' is not one of 0.2S, 0.5S, 1, 2, A, B, C, D, E",
			 text ? text : "");
}

const char *limits_meter_class_text(enum meter_class c)
{
	static const char *const t[] = { "?", "0.2S", "0.5S", "1", "2", "A", "B", "C", "D", "E" };
	return c >= MCLS_0_2S && c <= MCLS_E ? t[c] : "?";
}

int limits_is_letter(enum meter_class c)
{
	return c >= MCLS_A;
}

int64_t limits_class_index_e4(enum meter_class c)
{
	/* §1.1: A ≈ 2, B ≈ 1, C ≈ 0.5S, D ≈ 0.2S, E ≈ 0.1S */
	static const int64_t v[] = { 0, 2000, 5000, 10000, 20000, 20000, 10000, 5000, 2000, 1000 };
	return c >= MCLS_0_2S && c <= MCLS_E ? v[c] : 0;
}

int64_t limits_itr_rel_e4(enum model_connection conn, const struct lab_settings *set)
{
	/* pct × 1e4 → fraction × 1e4: divide by 100 */
	return (conn == CONN_TRANSFORMER ? set->itr_pct_transformer_e4 : set->itr_pct_direct_e4) /
	       100;
}

int64_t limits_imin_rel_e4(enum meter_class c, enum model_connection conn,
			   const struct lab_settings *set)
{
	int64_t pct = conn == CONN_TRANSFORMER ? set->imin_pct_transformer_e4
		      : c == MCLS_A            ? set->imin_pct_direct_a_e4
					       : set->imin_pct_direct_e4;
	return dec_div_half_even(limits_itr_rel_e4(conn, set) * pct, 1000000);
}

int limits_point_rel_ib(const struct load_point *pt, enum meter_class c, enum model_connection conn,
			int64_t ib_ma, int64_t imax_ma, const struct lab_settings *set,
			int64_t *rel_e4, int *lower_bound, struct ml_error *err)
{
	*lower_bound = 0;
	switch (pt->base) {
	case POINT_IB:
		*rel_e4 = pt->mult_e4;
		return ML_OK;
	case POINT_IMAX:
		if (ib_ma > 0 && imax_ma > 0)
			return dec_muldiv(pt->mult_e4, imax_ma, ib_ma, rel_e4, err);
		*rel_e4 = pt->mult_e4;
		*lower_bound = 1;
		return ML_OK;
	case POINT_ITR:
		*rel_e4 = dec_div_half_even(pt->mult_e4 * limits_itr_rel_e4(conn, set), DEC4_SCALE);
		return ML_OK;
	case POINT_IMIN:
		*rel_e4 = dec_div_half_even(pt->mult_e4 * limits_imin_rel_e4(c, conn, set),
					    DEC4_SCALE);
		return ML_OK;
	}
	return ml_errorf(err, ML_EINVAL, "unknown point base %d", (int)pt->base);
}

/* ---- JJG 596-2012 basic-error limits (domain §1.4) ---- */

/* Column order of every row: 0.2S, 0.5S, 1, 2 (index = class − 1). */
struct band {
	int64_t lo_direct, lo_transformer_s,
		lo_transformer; /* lower bound of the band, I/Ib × 1e4 */
	int64_t lim[4];         /* 0 = no limit for that class */
};

/*
 * Balanced load / single-phase, §1.4 table 1. Transformer lower bounds:
 * S classes 0.01In (PF 1) / 0.02In (0.5L, 0.8C) [C] LYTest; classes 1/2
 * 0.02In / 0.05In [S] cshnkj. The upper band starts at 0.1Ib/0.05In (PF 1)
 * and 0.2Ib/0.1In (0.5L, 0.8C); Imax is the upper end of every band.
 */
static const struct band bal_pf1[2] = {
	{ 500, 100, 200, { 4000, 10000, 15000, 25000 } },
	{ 1000, 500, 500, { 2000, 5000, 10000, 20000 } },
};
static const struct band bal_pf05[2] = {
	{ 1000, 200, 500, { 5000, 10000, 15000, 25000 } },
	{ 2000, 1000, 1000, { 3000, 6000, 10000, 20000 } },
};
/* Single element loaded (three-phase meters), §1.4 table 2. */
static const struct band single_pf1 = { 1000, 500, 500, { 3000, 6000, 20000, 30000 } };
static const struct band single_pf05 = { 2000, 1000, 1000, { 4000, 10000, 20000, 30000 } };
/* 0.25L and 0.5C "special request" rows: current range [M], applied at any current as LYTest does. */
static const int64_t lim_pf025l[4] = { 5000, 10000, 35000, 0 };
static const int64_t lim_pf05c[4] = { 5000, 10000, 25000, 0 };

static int64_t band_lo(const struct band *b, enum meter_class c, enum model_connection conn)
{
	if (conn == CONN_DIRECT)
		return b->lo_direct;
	return c <= MCLS_0_5S ? b->lo_transformer_s : b->lo_transformer;
}

/* Pick the band containing rel (two-band tables: low, high). */
static int pick_band(const struct band *bands, int nb, enum meter_class c,
		     enum model_connection conn, int64_t rel, int64_t *lim)
{
	for (int i = nb - 1; i >= 0; i--) {
		if (rel >= band_lo(&bands[i], c, conn)) {
			*lim = bands[i].lim[c - 1];
			return *lim > 0;
		}
	}
	return 0;
}

static int jjg_limit(enum meter_class c, enum model_connection conn, const struct load_point *pt,
		     int64_t rel, struct judge_limit *out)
{
	int64_t lim = 0;
	int ok = 0;
	if (pt->element != ELEM_H) {
		out->clause = "JJG 596-2012 single-element table (domain 1.4)";
		if (pt->pf == PF_1)
			ok = pick_band(&single_pf1, 1, c, conn, rel, &lim);
		else if (pt->pf == PF_0_5L)
			ok = pick_band(&single_pf05, 1, c, conn, rel, &lim);
	} else {
		out->clause = "JJG 596-2012 balanced-load table (domain 1.4)";
		if (pt->pf == PF_1)
			ok = pick_band(bal_pf1, 2, c, conn, rel, &lim);
		else if (pt->pf == PF_0_5L || pt->pf == PF_0_8C)
			ok = pick_band(bal_pf05, 2, c, conn, rel, &lim);
		else if (pt->pf == PF_0_25L)
			ok = (lim = lim_pf025l[c - 1]) > 0;
		else if (pt->pf == PF_0_5C)
			ok = (lim = lim_pf05c[c - 1]) > 0;
	}
	out->limit_e4 = lim;
	return ok;
}

/* ---- letter classes, domain §1.5 (LYTest GetdzA…GetdzD, GetActiveE) ---- */

static int letter_limit(enum meter_class c, enum model_connection conn, const struct load_point *pt,
			int64_t rel, const struct lab_settings *set, struct judge_limit *out)
{
	/* columns: below Itr PF 1, below Itr PF≠1, from Itr PF 1, from Itr PF 0.5L…0.8C */
	static const int64_t t[5][4] = {
		{ 25000, 25000, 20000, 20000 }, /* A */
		{ 15000, 15000, 10000, 10000 }, /* B */
		{ 10000, 10000, 5000, 6000 },   /* C */
		{ 4000, 5000, 2000, 3000 },     /* D */
		{ 2000, 2500, 1000, 1500 },     /* E */
	};
	out->clause = "letter-class profile (domain 1.5)";
	if (pt->element != ELEM_H || !(pt->pf == PF_1 || pt->pf == PF_0_5L || pt->pf == PF_0_8C))
		return 0;
	if (rel < limits_imin_rel_e4(c, conn, set))
		return 0;
	int col = (rel >= limits_itr_rel_e4(conn, set) ? 2 : 0) + (pt->pf != PF_1);
	out->limit_e4 = t[c - MCLS_A][col];
	return 1;
}

int judge_meter_interval(const char *cls, int64_t *interval_e4, struct ml_error *err)
{
	enum meter_class c;
	int rc = limits_meter_class(cls, &c, err);
	if (rc)
		return rc;
	/*
	 * §1.11 (LYTest Number.cs DicJianJu): 0.2S 0.02, 0.5S 0.05, 1 0.1, 2 0.2.
	 * Letter classes take the interval of their numeric counterpart
	 * (§1.1 correspondence; E ≈ 0.1S takes 0.01 like the 0.1 reference class).
	 */
	*interval_e4 = limits_class_index_e4(c) / 10;
	return ML_OK;
}

static int point_err(const char *cls, const struct load_point *pt, const char *why,
		     struct ml_error *err)
{
	char cur[24];
	return ml_errorf(err, ML_EINVAL, "class %s has no limit at %s cos\u03c6=%s element %s: %s",
			 cls, point_current_text(pt->base, pt->mult_e4, cur, sizeof cur),
			 point_pf_text(pt->pf), point_element_text(pt->element), why);
}

int judge_meter_limit(const char *cls, enum model_connection conn, const struct load_point *pt,
		      int64_t ib_ma, int64_t imax_ma, const struct lab_settings *set,
		      struct judge_limit *out, struct ml_error *err)
{
	enum meter_class c;
	int64_t rel;
	int lower;
	int rc = limits_meter_class(cls, &c, err);
	if (!rc && conn != CONN_DIRECT && conn != CONN_TRANSFORMER)
		rc = ml_errorf(err, ML_EINVAL, "connection %d is neither direct nor transformer",
			       (int)conn);
	if (!rc && !limits_is_letter(c) && (pt->base == POINT_ITR || pt->base == POINT_IMIN))
		return point_err(cls, pt, "Itr/Imin points belong to the letter classes", err);
	if (rc)
		return rc;
	rc = limits_point_rel_ib(pt, c, conn, ib_ma, imax_ma, set, &rel, &lower, err);
	if (rc)
		return rc;
	if (lower && pt->mult_e4 < 2000)
		return point_err(cls, pt, "give Ib and Imax to locate this point", err);
	if (!lower && pt->base != POINT_IMAX && imax_ma > 0 && ib_ma > 0 &&
	    rel > imax_ma * DEC4_SCALE / ib_ma)
		return point_err(cls, pt, "above Imax", err);
	memset(out, 0, sizeof *out);
	int ok = limits_is_letter(c) ? letter_limit(c, conn, pt, rel, set, out)
				     : jjg_limit(c, conn, pt, rel, out);
	if (!ok)
		return point_err(cls, pt, "outside the regulation table", err);
	return judge_meter_interval(cls, &out->interval_e4, err);
}

/* ---- instrument transformers, domain §2.1 / §2.2 ---- */

struct xfmr_row {
	const char *cls;
	int64_t pct[5];   /* % × 1e4; 0 ends the row */
	int64_t ratio[5]; /* ± % × 1e4 */
	int64_t phase[5]; /* ± minutes × 1e4; all 0 = not specified */
};

/* IEC 61869-2 (dowei-electric, scribd CT-VT-Accuracy [S]); JJG 313-2010 same values for 0.1…0.5S [M]. */
static const struct xfmr_row ct_rows[] = {
	{ "0.1",
	  { 50000, 200000, 1000000, 1200000 },
	  { 4000, 2000, 1000, 1000 },
	  { 150000, 80000, 50000, 50000 } },
	{ "0.2",
	  { 50000, 200000, 1000000, 1200000 },
	  { 7500, 3500, 2000, 2000 },
	  { 300000, 150000, 100000, 100000 } },
	{ "0.2S",
	  { 10000, 50000, 200000, 1000000, 1200000 },
	  { 7500, 3500, 2000, 2000, 2000 },
	  { 300000, 150000, 100000, 100000, 100000 } },
	{ "0.5",
	  { 50000, 200000, 1000000, 1200000 },
	  { 15000, 7500, 5000, 5000 },
	  { 900000, 450000, 300000, 300000 } },
	{ "0.5S",
	  { 10000, 50000, 200000, 1000000, 1200000 },
	  { 15000, 7500, 5000, 5000, 5000 },
	  { 900000, 450000, 300000, 300000, 300000 } },
	{ "1",
	  { 50000, 200000, 1000000, 1200000 },
	  { 30000, 15000, 10000, 10000 },
	  { 1800000, 900000, 600000, 600000 } },
	{ "3", { 500000, 1200000 }, { 30000, 30000 }, { 0 } },
	{ "5", { 500000, 1200000 }, { 50000, 50000 }, { 0 } },
};

/* IEC 61869-3 / BS EN 60044-2 [S]: one value over 80–120 % of rated voltage. */
static const struct xfmr_row vt_rows[] = {
	{ "0.1", { 800000, 1200000 }, { 1000, 1000 }, { 50000, 50000 } },
	{ "0.2", { 800000, 1200000 }, { 2000, 2000 }, { 100000, 100000 } },
	{ "0.5", { 800000, 1200000 }, { 5000, 5000 }, { 200000, 200000 } },
	{ "1", { 800000, 1200000 }, { 10000, 10000 }, { 400000, 400000 } },
	{ "3", { 800000, 1200000 }, { 30000, 30000 }, { 0 } },
};

static const struct xfmr_row *find_row(const struct xfmr_row *rows, size_t n, const char *cls)
{
	if (!cls)
		return NULL;
	/* "1.0" and "3.0" are common spellings of 1 and 3 */
	char norm[8];
	size_t len = strlen(cls);
	if (len >= sizeof norm)
		return NULL;
	memcpy(norm, cls, len + 1);
	if (len > 2 && strcmp(norm + len - 2, ".0") == 0)
		norm[len - 2] = '\0';
	if (len > 0 && (norm[len - 1] == 's'))
		norm[len - 1] = 'S';
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].cls, norm) == 0)
			return &rows[i];
	return NULL;
}

/* Linear interpolation on the broken line joining the limit points (JJG 313 error-curve rule [S] asctinc). */
static int64_t interp(const int64_t *x, const int64_t *y, int k, int64_t p)
{
	if (p == x[k])
		return y[k];
	return y[k] + dec_div_half_even((y[k + 1] - y[k]) * (p - x[k]), x[k + 1] - x[k]);
}

static int xfmr_limit(const struct xfmr_row *row, const char *what, const char *cls, int64_t pct,
		      const struct lab_settings *set, struct judge_limit *out, struct ml_error *err)
{
	char pt[DEC4_FMT_MAX];
	if (!row)
		return ml_errorf(err, ML_EINVAL,
				 "%s accuracy class '%s' is not in the IEC 61869 table", what,
				 cls ? cls : "");
	int n = 0;
	while (n < 5 && row->pct[n])
		n++;
	if (pct < row->pct[0] || pct > row->pct[n - 1])
		return ml_errorf(err, ML_EINVAL, "%s class %s has no limit at %s %% of rated", what,
				 cls, dec4_format(pct, dec4_min_decimals(pct), pt, sizeof pt));
	int k = 0;
	while (k < n - 2 && pct > row->pct[k + 1])
		k++;
	memset(out, 0, sizeof *out);
	out->limit_e4 = interp(row->pct, row->ratio, k, pct);
	out->limit2_e4 = row->phase[0] ? interp(row->pct, row->phase, k, pct) : 0;
	/* rounding interval: a fraction of the limit at 100 % ([M] setting xfmr.round_fraction) */
	int64_t at100 = row->ratio[n - 2], ph100 = row->phase[n - 2];
	out->interval_e4 = dec_div_half_even(at100 * set->xfmr_round_frac_e4, 1000000);
	out->interval2_e4 = ph100 ? dec_div_half_even(ph100 * set->xfmr_round_frac_e4, 1000000) : 0;
	if (out->interval_e4 <= 0)
		out->interval_e4 = 1;
	out->clause = what[0] == 'C' ? "IEC 61869-2 / JJG 313-2010 (domain 2.1)"
				     : "IEC 61869-3 / JJG 314-2010 (domain 2.2)";
	return ML_OK;
}

int judge_ct_limit(const char *cls, int64_t percent_e4, const struct lab_settings *set,
		   struct judge_limit *out, struct ml_error *err)
{
	return xfmr_limit(find_row(ct_rows, sizeof ct_rows / sizeof ct_rows[0], cls), "CT", cls,
			  percent_e4, set, out, err);
}

int judge_vt_limit(const char *cls, int64_t percent_e4, const struct lab_settings *set,
		   struct judge_limit *out, struct ml_error *err)
{
	return xfmr_limit(find_row(vt_rows, sizeof vt_rows / sizeof vt_rows[0], cls), "VT", cls,
			  percent_e4, set, out, err);
}

int64_t judge_internal_limit(int64_t limit_e4, int64_t coeff_e4)
{
	/* limit × coeff% / 100, truncated toward zero: an internal limit is never looser than exact */
	return (int64_t)(((__int128)limit_e4 * coeff_e4) / 1000000);
}
