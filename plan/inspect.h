/*
 * inspect.h — recording an on-site inspection (现场检验, issue 15;
 * sql/migrations/0305_site_inspection.sql).
 *
 * The errors measured at each load point with a portable standard are
 * judged here with the lab's engine (lab/judge.h: judge_meter_limit for the
 * JJG 596-2012 limit and the class's rounding interval, judge_readings for
 * the exact mean, the GB/T 8170 half-even rounding in one step and the
 * verdict; no binary floating point), then recorded by one call of
 * ml_site_inspect, which recomputes every figure from the readings and
 * refuses one that does not follow. Acting as the connection's person
 * (permission inspection.record).
 */
#ifndef ML_PLAN_INSPECT_H
#define ML_PLAN_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "lab/judge.h"
#include "lab/scheme.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INSPECT_LABEL_MAX 61
#define INSPECT_MAX_POINTS 32

/* One load point as measured. */
struct inspect_point {
	char label[INSPECT_LABEL_MAX]; /* "Ib 1.0", "0.2Ib 0.5L A" */
	struct load_point point;
	int n;
	int64_t readings_e4[JUDGE_MAX_READINGS]; /* error % × 10 000, exact */
};

/*
 * Parse one load point's text: "CURRENT PF [ELEMENT]: r1, r2 ..." — CURRENT
 * as a scheme writes it ("Ib", "0.2Ib", "Imax", "In"), PF "1.0", "0.5L",
 * "0.8C", ELEMENT H (default), A, B, C; readings are exact decimals
 * separated by commas or blanks ("+0.12, -0.08"), at most 4 decimals and
 * JUDGE_MAX_READINGS of them. ML_EINVAL names the text and the bad part.
 */
int inspect_parse(const char *text, struct inspect_point *out, struct ml_error *err) ML_MUSTCHECK;

struct inspect_in {
	const char *point;    /* metering point code */
	const char *standard; /* reference standard code (portable) */
	const char *date;     /* YYYY-MM-DD, NULL: today (the server's) */
	const char *note;     /* NULL or free text */
	const struct inspect_point *points;
	size_t npoints; /* 1..INSPECT_MAX_POINTS */
};

struct inspect_out {
	int64_t inspection_id;
	int pass;         /* 1: every point within its limit */
	int64_t order_id; /* the swap work order a failure opened (or the open one kept); 0: none */
	char barcode[32]; /* the inspected meter */
	size_t npoints;
	struct judge_value value[INSPECT_MAX_POINTS]; /* per point, in input order */
};

/*
 * Judge and record. ML_ENOTFOUND: unknown point or standard; ML_ESTATE: no
 * installed meter at the point, or the standard has no certificate valid
 * on the day; ML_EINVAL: a point the regulation has no limit for, too few
 * readings (lab setting basic.readings), a date in the future; ML_EPERM
 * without inspection.record. Nothing is recorded on a refusal.
 */
int inspect_record(struct db *db, const struct inspect_in *in, struct inspect_out *out,
		   struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
