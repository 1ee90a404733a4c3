/*
 * cert_doc.h — the content of one verification certificate (检定证书) or
 * verification result notice (检定结果通知书), as plain data, and the PDF
 * renderer that turns it into bytes.
 *
 * Content rules: ../shared/reference/domain.md §6.1 (JJF 1069-2012 cover,
 * inner page and results page; a certificate when the conclusion is 合格,
 * a result notice — listing the failed items — when it is 不合格) and
 * ISO/IEC 17025:2017 7.8.2.1 cross-check.
 *
 * All strings are UTF-8 and borrowed: the caller keeps them alive while
 * rendering. Numbers are pre-formatted text (exact decimals from the judge),
 * so the document prints exactly what was judged. NULL or "" prints as "—"
 * where a field is optional.
 */
#ifndef ML_CERT_DOC_H
#define ML_CERT_DOC_H

#include <stddef.h>

#include "common/buf.h"
#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cert_kind {
	CERT_KIND_CERTIFICATE = 1, /* 检定证书: conclusion 合格 */
	CERT_KIND_NOTICE = 2,      /* 检定结果通知书: conclusion 不合格 */
};

struct cert_issuer {
	const char *name;             /* 检定机构名称 */
	const char *authorization_no; /* 授权证书号 */
	const char *address, *postcode, *phone, *fax, *email;
};

/* A reference standard used (inner page). */
struct cert_standard {
	const char *name;        /* 单相交流电能表标准装置 */
	const char *range;       /* 测量范围, e.g. "220V (0.1~100)A" */
	const char *accuracy;    /* 准确度等级/不确定度, e.g. "0.05级" */
	const char *cert_no;     /* the standard's own certificate number */
	const char *valid_until; /* YYYY-MM-DD */
};

/* Per-item conclusion (results page): 潜动, 起动, 基本误差, 常数, 日计时 … */
struct cert_item {
	const char *name;       /* "潜动试验" */
	const char *conclusion; /* "合格" / "不合格" */
	const char *detail;     /* optional: "0 pulses in 37.9 min", "+0.12 s/d" */
};

/* One basic-error row (meters). */
struct cert_error_row {
	const char *load;     /* "Imax", "0.1Ib" */
	const char *current;  /* "60 A" */
	const char *pf;       /* "1.0", "0.5L", "0.8C" */
	const char *element;  /* "合元" / "A" / "B" / "C" */
	const char *readings; /* "-0.1691 | -0.1719" */
	const char *mean;     /* "-0.1705" */
	const char *rounded;  /* "-0.2" */
	const char *limit;    /* "±1.0" */
	const char *verdict;  /* "合格" / "不合格" */
};

/* One ratio-error / phase-displacement row (CTs/VTs). */
struct cert_xfmr_row {
	const char *percent;     /* "5%" */
	const char *burden;      /* "2.5 VA" */
	const char *ratio_error; /* "+0.12" (%) */
	const char *phase;       /* "+4.0" (′) */
	const char *ratio_limit; /* "±0.75" */
	const char *phase_limit; /* "±30" */
	const char *verdict;
};

struct cert_doc {
	enum cert_kind kind;
	const char *cert_no;    /* 证书编号, e.g. "JL2026-000123" */
	int revision;           /* 0 for the original, 1.. for corrections */
	const char *supersedes; /* certificate number (and revision) replaced, or NULL */
	const char *record_no;  /* 原始记录号 */
	struct cert_issuer issuer;
	const char *client;     /* 送检单位 */
	const char *instrument; /* 器具名称: 单相费控智能电能表 */
	const char *model;      /* 型号/规格: DDZY285-Z */
	const char *spec;       /* "220V 5(60)A 1200imp/kWh 直接接入" */
	const char *barcode;    /* 22-digit asset barcode = 出厂编号 for State Grid assets */
	const char *manufacturer;
	const char *regulation;     /* 检定依据: "JJG 596-2012 电子式交流电能表" */
	const char *accuracy_class; /* "1级" */
	const char
		*conclusion; /* "合格" / "不合格" (class prefix added by the renderer when合格) */
	const char *verifier, *checker, *approver;
	const char *verified_on; /* 检定日期 YYYY-MM-DD */
	const char *valid_until; /* 有效期至 YYYY-MM-DD; NULL for a notice */
	const char *issued_on; /* 签发日期 — also the PDF CreationDate, so output is reproducible */
	const char *place;       /* 检定地点 */
	const char *temperature; /* "21.2 ℃" */
	const char *humidity;    /* "53 %RH" */
	const struct cert_standard *standards;
	size_t n_standards;
	const struct cert_item *items;
	size_t n_items;
	const struct cert_error_row *errors;
	size_t n_errors;
	const struct cert_xfmr_row *xfmr;
	size_t n_xfmr;
	const char *verify_code; /* printed verification code (also in the QR payload) */
	const char *
		qr_payload; /* the MLCERT1 claim: document keywords, and the QR code unless qr_url */
	/* BASE/verify/NUMBER?code=CODE when the issuer has a public base URL
	 * (0251): then the QR code encodes this, so a phone opens the public
	 * verification page. NULL or "": the QR code encodes qr_payload. */
	const char *qr_url;
};

struct cert_renderer;

struct cert_render_opts {
	const char *font_path; /* TrueType CJK font; NULL = default (fonts-wqy-zenhei face 0) */
	int font_face;         /* face index in a .ttc */
	int full_font; /* 1 = let libharu embed the whole face (slow baseline, for benches); 0 = subset */
};

/*
 * A renderer holds the parsed font and reusable buffers; create one per
 * thread (libharu documents are not shared across threads). opts may be NULL.
 * *out is owned by the caller: cert_renderer_free().
 */
int cert_renderer_new(const struct cert_render_opts *opts, struct cert_renderer **out,
		      struct ml_error *err) ML_MUSTCHECK;
void cert_renderer_free(struct cert_renderer *r); /* NULL-safe */

/*
 * How many documents this renderer embedded a font program from its cache
 * (the same characters as a recent document) and how many made one.
 */
void cert_renderer_font_stats(const struct cert_renderer *r, unsigned long *hits,
			      unsigned long *misses);

/*
 * Render doc to PDF bytes appended to *pdf (the caller owns and frees the
 * buffer). Deterministic: the same doc gives the same bytes (CreationDate
 * from doc->issued_on, no random IDs).
 */
int cert_render(struct cert_renderer *r, const struct cert_doc *doc, struct ml_buf *pdf,
		struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
