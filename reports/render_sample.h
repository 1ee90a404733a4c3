/*
 * render_sample.h — realistic sample certificate content for the renderer's
 * tests, the benchmark (bench/bench_cert.c) and demos.
 *
 * The values follow the State Grid Henan record in domain.md §6.1 (single-
 * phase smart meter DDZY285-Z, JJG 596-2012) and a JJG 313-2010 current
 * transformer; `seq` varies names, numbers and readings deterministically
 * so a batch of samples exercises different glyph sets.
 */
#ifndef ML_RENDER_SAMPLE_H
#define ML_RENDER_SAMPLE_H

#include "reports/cert_doc.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cert_sample_kind {
	CERT_SAMPLE_METER = 1, /* certificate, 合格 */
	CERT_SAMPLE_METER_NOTICE =
		2, /* result notice, 不合格 (one basic-error point and 日计时 fail) */
	CERT_SAMPLE_CT = 3, /* current transformer certificate */
};

/*
 * Storage for one sample: .doc points into the other members, so keep the
 * struct alive (and unmoved) while rendering. Plain data; no free needed.
 */
struct cert_sample {
	struct cert_doc doc;
	struct cert_standard standards[2];
	struct cert_item items[8];
	struct cert_error_row errors[12];
	struct cert_xfmr_row xfmr[8];
	char cert_no[32], record_no[32], barcode[32], client[96], verify_code[16], qr[160],
		supersedes[48];
	char readings[12][48], mean[12][16], rounded[12][16], ratio[8][16], phase[8][16];
};

/* Fill *s with sample `kind` number `seq` (any value; 0 = the reference sample). */
void cert_sample_fill(struct cert_sample *s, enum cert_sample_kind kind, unsigned seq);

#ifdef __cplusplus
}
#endif
#endif
