/*
 * quality.h — the quality side of the metering centre (issue 14): what
 * `meterlab quality report` prints, drawn from the aggregates of migration
 * 0270 (SQL does the scanning and grouping; this part copies the rows out,
 * derives the descriptive figures in exact integer arithmetic and writes
 * CSV). The PDF is drawn by reports/quality_render.h from a struct
 * quality_report; the early warning is quality/alerts.h; reverse
 * traceability quality/trace.h.
 *
 * Figures are exact: counts are integers; a mean is rounded half-to-even
 * from the exact rational Σx/n; a standard deviation is the exact floor of
 * the square root of the exact sample variance; shares and rates are
 * rounded half-to-even from exact ratios. None of them judges anything.
 *
 * Memory: a struct quality_report owns its arrays; quality_report_free().
 */
#ifndef ML_QUALITY_QUALITY_H
#define ML_QUALITY_QUALITY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct db;

#define QUALITY_HIST_BINS 32 /* tenths of the limit, bins -16 .. 15 (QUALITY_HIST_LOW = -16) */
#define QUALITY_HIST_LOW (-16)

struct quality_filter {
	const char *from, *to; /* YYYY-MM-DD, inclusive (required) */
	const char *maker;     /* manufacturer code or NULL */
	const char *model;     /* device model code or NULL */
};

/* Overall verdicts: dim "maker" | "model" | "lot" | "month" | "total". */
struct quality_verdict_row {
	char dim[8], key[72], name[208], maker[40]; /* name: maker/model name, a lot's model */
	int64_t n, pass, fail, internal_fail;
};

/* Failure modes by test item: dim "total" | "maker" | "model". */
struct quality_item_row {
	char dim[8], key[72], item[16];
	int64_t n, fail;
};

/* Error distribution of one load point (and limit): dim "total" | "maker". */
struct quality_point_row {
	char dim[8], key[72], kind[8], label[96];
	int64_t limit_e4, internal_limit_e4; /* ± limits, % × 10 000 */
	int64_t n, fail, internal_fail;
	int64_t min_e4, max_e4;
	int64_t mean_e6; /* mean error, % × 10⁶ (two more places than the results) */
	int64_t sd_e6;   /* sample standard deviation, % × 10⁶; 0 when n < 2 */
	int64_t hist[QUALITY_HIST_BINS];
};

/* A load point that failed: per maker. */
struct quality_point_fail_row {
	char maker[40], kind[8], label[96];
	int64_t n, fail, internal_fail;
};

/* Field service: dim "maker" | "model" | "lot" | "age" | "total" (age: key = the bucket's
 * lower bound in months). exposure in asset-days within the period. */
struct quality_field_row {
	char dim[8], key[72], maker[40];
	int64_t assets, exposure_days, faults;
};

/* Month by month, the trend: verifications and field. */
struct quality_month_row {
	char month[8]; /* YYYY-MM */
	int64_t n, fail, exposure_days, faults;
};

struct quality_report {
	char from[11], to[11], maker[40], model[72];
	char generated_at[40]; /* the database's clock in China Standard Time */
	struct quality_verdict_row *verdicts;
	size_t n_verdicts;
	struct quality_item_row *items;
	size_t n_items;
	struct quality_point_row *points;
	size_t n_points;
	struct quality_point_fail_row *point_fails;
	size_t n_point_fails;
	struct quality_field_row *field;
	size_t n_field;
	struct quality_month_row *months;
	size_t n_months;
};

/*
 * Load every table of the report for the filter, in one read-only
 * transaction (one snapshot). ML_EINVAL names a bad date or a from after
 * to; ML_ENOTFOUND an unknown maker or model code. *out is filled (and must
 * be freed) only on success.
 */
int quality_report_load(struct db *db, const struct quality_filter *f, struct quality_report *out,
			struct ml_error *err) ML_MUSTCHECK;
void quality_report_free(struct quality_report *r); /* NULL-safe; leaves it empty */

/* Rows of one dim of the verdicts (or field) table, in key order: pointers into r. */
size_t quality_verdicts_of(const struct quality_report *r, const char *dim,
			   const struct quality_verdict_row **out, size_t cap);
const struct quality_verdict_row *quality_verdict_total(const struct quality_report *r);
const struct quality_field_row *quality_field_total(const struct quality_report *r);

/* ---- exact figures ---- */

/*
 * num/den × scale as a decimal with `places` places, rounded half to even
 * ("12.35" for 247/2000, scale 100, places 2); "-" when den is 0. buf ≥ 32.
 */
char *quality_ratio(int64_t num, int64_t den, int64_t scale, int places, char *buf);
/* A value in units of 10^-places ("-0.001234" for -1234, 6) into buf ≥ 32. */
char *quality_fixed(int64_t v, int places, char *buf);
/* Faults per 1000 asset-years, 2 places: faults · 365 250 / exposure_days. */
char *quality_fault_rate(int64_t faults, int64_t exposure_days, char *buf);

/*
 * Mean (% × 10⁶, half to even) and sample standard deviation (% × 10⁶,
 * floor of the exact root) from n and the exact sums Σx, Σx² of values in
 * % × 10⁴, given as decimal integer text (PostgreSQL numeric). ML_EINVAL for
 * text that is not an integer or out of range.
 */
int quality_moments(int64_t n, const char *sum_e4, const char *sumsq_e8, int64_t *mean_e6,
		    int64_t *sd_e6, struct ml_error *err) ML_MUSTCHECK;

/* ---- CSV (RFC 4180, UTF-8, header row) ---- */

/*
 * Write the report's tables as CSV files into dir (created if missing):
 * verdicts.csv, items.csv, points.csv (with the histogram as columns
 * b-16 .. b15), point_failures.csv, field.csv, months.csv. ML_EIO names the
 * file.
 */
int quality_report_csv(const struct quality_report *r, const char *dir,
		       struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
