/*
 * csv.c — the quality report's tables as CSV files (RFC 4180, UTF-8, one
 * header row), the same figures as the PDF.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "quality/quality.h"
#include "quality/quality_priv.h"

void quality_csv_field(struct ml_buf *b, const char *s)
{
	if (!s)
		s = "";
	if (!strpbrk(s, ",\"\r\n")) {
		ml_buf_puts(b, s);
		return;
	}
	ml_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			ml_buf_putc(b, '"');
		ml_buf_putc(b, *s);
	}
	ml_buf_putc(b, '"');
}

void quality_csv_row(struct ml_buf *b, int n, const char *const *f)
{
	for (int i = 0; i < n; i++) {
		if (i)
			ml_buf_putc(b, ',');
		quality_csv_field(b, f[i]);
	}
	ml_buf_puts(b, "\r\n");
}

static int write_file(const char *dir, const char *name, const struct ml_buf *b,
		      struct ml_error *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return ml_errorf(err, ML_EIO, "cannot write %s: %s", path, strerror(errno));
	size_t len = b->len;
	int bad = len && fwrite(ml_buf_str(b), 1, len, fp) != len;
	bad |= fclose(fp) != 0;
	return bad ? ml_errorf(err, ML_EIO, "writing %s failed: %s", path, strerror(errno)) : ML_OK;
}

#define I(v) (snprintf(num[k], sizeof num[k], "%lld", (long long)(v)), num[k++])

static void verdicts_csv(const struct quality_report *r, struct ml_buf *b)
{
	static const char *const head[] = { "dim",          "key",    "name",   "maker",
					    "verified",     "passed", "failed", "failed_internal",
					    "fail_rate_pct" };
	quality_csv_row(b, 9, head);
	for (size_t i = 0; i < r->n_verdicts; i++) {
		const struct quality_verdict_row *v = &r->verdicts[i];
		char num[5][32], rate[32];
		int k = 0;
		const char *f[9] = { v->dim,
				     v->key,
				     v->name,
				     v->maker,
				     I(v->n),
				     I(v->pass),
				     I(v->fail),
				     I(v->internal_fail),
				     quality_ratio(v->fail, v->n, 100, 2, rate) };
		quality_csv_row(b, 9, f);
	}
}

static void items_csv(const struct quality_report *r, struct ml_buf *b)
{
	static const char *const head[] = { "dim",       "key",    "item",
					    "concluded", "failed", "fail_rate_pct" };
	quality_csv_row(b, 6, head);
	for (size_t i = 0; i < r->n_items; i++) {
		const struct quality_item_row *v = &r->items[i];
		char num[2][32], rate[32];
		int k = 0;
		const char *f[6] = {
			v->dim,  v->key,     v->item,
			I(v->n), I(v->fail), quality_ratio(v->fail, v->n, 100, 2, rate)
		};
		quality_csv_row(b, 6, f);
	}
}

static void points_csv(const struct quality_report *r, struct ml_buf *b)
{
	const char *head[16 + QUALITY_HIST_BINS] = { "dim",
						     "key",
						     "kind",
						     "label",
						     "limit_pct",
						     "internal_limit_pct",
						     "results",
						     "failed",
						     "failed_internal",
						     "mean_pct",
						     "sd_pct",
						     "min_pct",
						     "max_pct",
						     "beyond_internal_pct" };
	char bins[QUALITY_HIST_BINS][12];
	for (int i = 0; i < QUALITY_HIST_BINS; i++) {
		snprintf(bins[i], sizeof bins[i], "b%d", i + QUALITY_HIST_LOW);
		head[14 + i] = bins[i];
	}
	int ncol = 14 + QUALITY_HIST_BINS;
	quality_csv_row(b, ncol, head);
	for (size_t i = 0; i < r->n_points; i++) {
		const struct quality_point_row *v = &r->points[i];
		char num[3 + QUALITY_HIST_BINS][32], d[7][32];
		int k = 0;
		const char *f[14 + QUALITY_HIST_BINS] = {
			v->dim,
			v->key,
			v->kind,
			v->label,
			quality_fixed(v->limit_e4, 4, d[0]),
			quality_fixed(v->internal_limit_e4, 4, d[1]),
			I(v->n),
			I(v->fail),
			I(v->internal_fail),
			quality_fixed(v->mean_e6, 6, d[2]),
			quality_fixed(v->sd_e6, 6, d[3]),
			quality_fixed(v->min_e4, 4, d[4]),
			quality_fixed(v->max_e4, 4, d[5]),
			quality_ratio(v->internal_fail, v->n, 100, 2, d[6]),
		};
		for (int h = 0; h < QUALITY_HIST_BINS; h++)
			f[14 + h] = I(v->hist[h]);
		quality_csv_row(b, ncol, f);
	}
}

static void point_fails_csv(const struct quality_report *r, struct ml_buf *b)
{
	static const char *const head[] = { "maker",   "kind",   "label",
					    "results", "failed", "failed_internal" };
	quality_csv_row(b, 6, head);
	for (size_t i = 0; i < r->n_point_fails; i++) {
		const struct quality_point_fail_row *v = &r->point_fails[i];
		char num[3][32];
		int k = 0;
		const char *f[6] = { v->maker, v->kind,    v->label,
				     I(v->n),  I(v->fail), I(v->internal_fail) };
		quality_csv_row(b, 6, f);
	}
}

static void field_csv(const struct quality_report *r, struct ml_buf *b)
{
	static const char *const head[] = { "dim",
					    "key",
					    "maker",
					    "assets",
					    "asset_days",
					    "faults",
					    "faults_per_1000_asset_years" };
	quality_csv_row(b, 7, head);
	for (size_t i = 0; i < r->n_field; i++) {
		const struct quality_field_row *v = &r->field[i];
		char num[3][32], rate[32];
		int k = 0;
		const char *f[7] = { v->dim,
				     v->key,
				     v->maker,
				     I(v->assets),
				     I(v->exposure_days),
				     I(v->faults),
				     quality_fault_rate(v->faults, v->exposure_days, rate) };
		quality_csv_row(b, 7, f);
	}
}

static void months_csv(const struct quality_report *r, struct ml_buf *b)
{
	static const char *const head[] = { "month",
					    "verified",
					    "failed",
					    "fail_rate_pct",
					    "asset_days",
					    "faults",
					    "faults_per_1000_asset_years" };
	quality_csv_row(b, 7, head);
	for (size_t i = 0; i < r->n_months; i++) {
		const struct quality_month_row *v = &r->months[i];
		char num[4][32], rate[2][32];
		int k = 0;
		const char *f[7] = { v->month,
				     I(v->n),
				     I(v->fail),
				     quality_ratio(v->fail, v->n, 100, 2, rate[0]),
				     I(v->exposure_days),
				     I(v->faults),
				     quality_fault_rate(v->faults, v->exposure_days, rate[1]) };
		quality_csv_row(b, 7, f);
	}
}

int quality_report_csv(const struct quality_report *r, const char *dir, struct ml_error *err)
{
	if (mkdir(dir, 0777) && errno != EEXIST)
		return ml_errorf(err, ML_EIO, "cannot create %s: %s", dir, strerror(errno));
	static const struct {
		const char *name;
		void (*fn)(const struct quality_report *, struct ml_buf *);
	} files[] = {
		{ "verdicts.csv", verdicts_csv }, { "items.csv", items_csv },
		{ "points.csv", points_csv },     { "point_failures.csv", point_fails_csv },
		{ "field.csv", field_csv },       { "months.csv", months_csv },
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct ml_buf b = ML_BUF_INIT;
		files[i].fn(r, &b);
		int rc = ml_buf_failed(&b) ? ml_errorf(err, ML_ENOMEM, "out of memory building %s",
						       files[i].name)
					   : write_file(dir, files[i].name, &b, err);
		ml_buf_free(&b);
		if (rc)
			return rc;
	}
	return ML_OK;
}
