/*
 * alerts.h — early warning (issue 14): a lot, model or maker whose
 * verification failure rate or field fault rate stands out from its peers.
 *
 * The tests, and why they fit small counts:
 *   verification failures — Fisher's exact test, one-sided: the unit's
 *     failures among its verifications against the peers' in the 2 x 2
 *     table (unit, peers) x (failed, passed), conditional on the margins,
 *     so the null distribution of the unit's failures is hypergeometric
 *     with no large-sample approximation (qx_hyper_tail_le). A lot of 50
 *     meters with 3 failures is judged as exactly as one of 50 000.
 *   field faults — the exact conditional test of two Poisson rates: given
 *     the F faults of the unit and its peers together, each fault belongs
 *     to the unit with probability (its asset-days in service)/(all
 *     asset-days) when the rates are equal, so the unit's faults are
 *     binomial(F, a/b) (qx_binom_tail_le). Exposure, not asset count: a
 *     lot installed last month is not compared with one in service for
 *     years as if they were alike.
 * Peers: a lot against the other lots of its model; a model against the
 * other models of its kind (meter_1p, meter_3p, ct, vt); a maker's models
 * of one kind against the other makers' of that kind. A unit alone in its
 * peer group is not tested.
 * Multiple comparisons: each family (metric × dim, e.g. "lots, verification")
 * is corrected on its own, by Holm's step-down procedure (default; the
 * family-wise error rate stays at α whatever the dependence between the
 * tests — they share the peers' data) or Benjamini–Hochberg's step-up
 * procedure (false discovery rate α; assumes independence or positive
 * dependence — more flags, for screening). Both are decided by exact
 * comparisons p <= t with t a rational threshold α/(m−j+1) or α·j/m, never
 * by rounded p-values; p is carried as a double for display only.
 */
#ifndef ML_QUALITY_ALERTS_H
#define ML_QUALITY_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct db;

enum quality_metric {
	QUALITY_VERIFY = 0, /* n verifications, x failed */
	QUALITY_FIELD = 1,  /* n asset-days in service, x faults */
};

enum quality_correction {
	QUALITY_HOLM = 0,
	QUALITY_BH = 1,
};

struct quality_unit {
	enum quality_metric metric;
	char dim[8];   /* "lot" | "model" | "maker" */
	char key[72];  /* its code */
	char peer[72]; /* its peer group: a lot's model, a model's or maker's kind */
	int64_t n, x;
};

struct quality_alert {
	struct quality_unit unit;
	int tested;             /* 0: alone in its peer group */
	int64_t peer_n, peer_x; /* the peers together, without the unit */
	size_t family_size;     /* m: units tested in the family (metric, dim) */
	size_t rank;            /* smallest j with p <= t_j, 1..m; 0 when none */
	double p;               /* one-sided p-value, for display only */
	uint64_t t_num, t_den;  /* the threshold that decided (flagged: p <= t; not: the first
				  threshold of the procedure, p > t) */
	int flagged;
};

struct quality_alert_opts {
	const char *alpha;              /* "0.05": a decimal in (0, 1), at most 6 places */
	enum quality_correction method; /* QUALITY_HOLM */
};

int quality_correction_parse(const char *s, enum quality_correction *out,
			     struct ml_error *err) ML_MUSTCHECK; /* "holm" | "bh" */
const char *quality_correction_name(enum quality_correction c);

/*
 * Test every unit against its peers and correct within each family.
 * *out (malloc'd, n entries, in the order of units; caller frees) on
 * success. ML_EINVAL names a bad alpha or a unit with x > n.
 */
int quality_alerts_compute(const struct quality_unit *units, size_t n,
			   const struct quality_alert_opts *o, struct quality_alert **out,
			   struct ml_error *err) ML_MUSTCHECK;

/* The units of the period from the database (ml_quality_alert_units). *out malloc'd. */
int quality_alert_units_load(struct db *db, const char *from, const char *to,
			     struct quality_unit **out, size_t *n,
			     struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
