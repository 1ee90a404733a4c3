/*
 * quality_render.h — the quality report (质量分析报告) as an A4 PDF in the
 * certificates' typography (embedded subset wqy-zenhei, reports/pdf_font.h):
 * summary table, horizontal bar charts of the fail rate by maker, model and
 * lot, failure modes by test item and load point, one histogram of the
 * errors per load point with the internal and the regulation limit lines,
 * field fault rates by months in service, the monthly trend lines, the
 * early-warning flags and the definitions used.
 *
 * Figures printed are the exact ones of quality/quality.h (text made by
 * quality_ratio and friends); only bar lengths and point positions are
 * floating point, and they decide nothing.
 */
#ifndef ML_QUALITY_RENDER_H
#define ML_QUALITY_RENDER_H

#include <stddef.h>

#include "common/buf.h"
#include "common/ml_error.h"
#include "quality/alerts.h"
#include "quality/quality.h"

#ifdef __cplusplus
extern "C" {
#endif

struct quality_render_opts {
	const char *font_path; /* NULL: wqy-zenhei */
	int font_face;
	const char *issuer;  /* 编制单位 printed under the title; NULL: omitted */
	const char *created; /* "YYYY-MM-DD" CreationDate; NULL: from r->generated_at */
	const struct quality_alert *alerts; /* flags to list (only flagged ones print) */
	size_t n_alerts;
	const char *alert_method; /* "holm" | "bh", for the note */
	const char *alpha;
};

/*
 * Render r into pdf (appended). ML_EPDF for a libharu failure, ML_ENOMEM,
 * ML_EINVAL for a report without a period. One call per thread at a time
 * (the font is parsed per call).
 */
int quality_render(const struct quality_report *r, const struct quality_render_opts *o,
		   struct ml_buf *pdf, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
