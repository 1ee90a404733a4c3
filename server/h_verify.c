/*
 * h_verify.c — public verification of a certificate: GET /verify/NUMBER
 * ?code=…[&rev=…][&barcode=…], the URL a certificate's QR code carries.
 *
 * No login; rate-limited per client address (a guesser of codes gets 429).
 * The answer is one of: current (genuine and current), superseded (genuine,
 * replaced by revision N), withdrawn, unknown. A known number with a wrong
 * code is "unknown" too: the page confirms what the paper says, it does not
 * tell a guesser which numbers exist. The check is the library's
 * cert_verify_claim, the same as `meterlab cert verify --number`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/cert_doc.h"
#include "reports/cert_verify.h"
#include "server/srv.h"

static int number_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(((struct cert_claim *)0)->cert_no))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* Append s with the HTML metacharacters escaped (the buffer remembers a failure). */
static void html_escape(struct ml_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			ml_buf_puts(b, "&lt;");
			break;
		case '>':
			ml_buf_puts(b, "&gt;");
			break;
		case '&':
			ml_buf_puts(b, "&amp;");
			break;
		case '"':
			ml_buf_puts(b, "&quot;");
			break;
		case '\'':
			ml_buf_puts(b, "&#39;");
			break;
		default:
			ml_buf_putc(b, *s);
		}
	}
}

static int wants_html(struct req *rq)
{
	const char *f = req_query(rq, "format");
	if (f)
		return !strcmp(f, "html");
	const char *a = req_hdr(rq, "Accept");
	return a && strstr(a, "text/html");
}

/* The small page a phone shows after scanning the QR code (zh-CN). */
static int page(struct req *rq, const json_t *o)
{
	const char *st = json_string_value(json_object_get(o, "status"));
	const char *headline = !strcmp(st, "current")      ? "证书真实有效"
			       : !strcmp(st, "superseded") ? "证书真实，但已被新版本替代"
			       : !strcmp(st, "withdrawn") ? "证书已作废"
							  : "查无此证书";
	const char *color = !strcmp(st, "current") ? "#1b7f3b" : "#b3261e";
	struct ml_buf b = ML_BUF_INIT;
	ml_buf_printf(&b,
		      "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
		      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
		      "<title>证书查验</title><style>body{font-family:sans-serif;margin:1.5em;"
		      "max-width:36em}h1{color:%s;font-size:1.4em}dt{color:#555;margin-top:"
		      ".6em}dd{margin:0;font-weight:bold}</style></head><body>"
		      "<h1 id=\"status\" data-status=\"%s\">",
		      color, st);
	html_escape(&b, headline);
	ml_buf_puts(&b, "</h1><dl>");
	static const char *const fields[][2] = {
		{ "number", "证书编号" },
		{ "revision", "版本" },
		{ "kind", "类别" },
		{ "issued_on", "签发日期" },
		{ "conclusion", "结论" },
		{ "barcode", "资产条码" },
		{ "superseded_by_revision", "现行版本" },
		{ "withdrawn_at", "作废时间" },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = json_object_get(o, fields[i][0]);
		if (!v || json_is_null(v))
			continue;
		char num[32];
		const char *text = json_is_string(v) ? json_string_value(v) : NULL;
		if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			text = num;
		}
		if (!strcmp(fields[i][0], "kind"))
			text = !strcmp(text, "certificate") ? "检定证书" : "检定结果通知书";
		ml_buf_printf(&b, "<dt>%s</dt><dd id=\"%s\">", fields[i][1], fields[i][0]);
		html_escape(&b, text);
		ml_buf_puts(&b, "</dd>");
	}
	ml_buf_puts(&b, "</dl><p>核对纸质证书上的编号、条码与结论是否与本页一致。</p>"
			"</body></html>");
	int rc = ml_buf_failed(&b);
	if (!rc)
		rc = req_raw(rq, 200, "text/html; charset=utf-8", ml_buf_str(&b), b.len);
	ml_buf_free(&b);
	if (!rc)
		req_header(rq, "Content-Security-Policy",
			   "default-src 'none'; style-src 'unsafe-inline'");
	return rc;
}

int h_verify(struct req *rq, struct ml_error *err)
{
	unsigned retry = 0;
	if (!ratelimit_take(rq->srv->verify_rl, rq->addr, &retry)) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%u", retry);
		req_error(rq, 429, "rate_limited",
			  "too many verification requests; try again later",
			  json_pack("{s:i}", "retry_after", (int)retry));
		req_header(rq, "Retry-After", ra);
		return ML_OK;
	}
	const char *number = req_seg(rq, 0), *code = req_query(rq, "code");
	const char *rev = req_query(rq, "rev"), *barcode = req_query(rq, "barcode");
	const char *fmt = req_query(rq, "format");
	if (fmt && strcmp(fmt, "json") && strcmp(fmt, "html"))
		return ml_errorf(err, ML_EINVAL, "format '%s' is not json or html", fmt);
	json_t *o = json_pack("{s:s, s:s}", "status", "unknown", "number", number);
	struct cert_claim claim;
	memset(&claim, 0, sizeof(claim));
	int plausible = number_ok(number) && strlen(code) < sizeof(claim.code) &&
			(!barcode || strlen(barcode) < sizeof(claim.barcode));
	if (plausible) {
		snprintf(claim.cert_no, sizeof(claim.cert_no), "%s", number);
		snprintf(claim.code, sizeof(claim.code), "%s", code);
		snprintf(claim.barcode, sizeof(claim.barcode), "%s", barcode ? barcode : "");
		claim.revision = rev ? atoi(rev) : -1;
		struct cert_verify_result v;
		int rc = cert_verify_claim(rq->db, &claim, &v, err);
		if (rc) {
			json_decref(o);
			return rc;
		}
		const char *st = v.status == CERT_VERIFY_CURRENT      ? "current"
				 : v.status == CERT_VERIFY_SUPERSEDED ? "superseded"
				 : v.status == CERT_VERIFY_WITHDRAWN  ? "withdrawn"
								      : NULL;
		if (st) {
			json_object_set_new(o, "status", json_string(st));
			json_object_set_new(o, "revision", json_integer(v.match.revision));
			json_object_set_new(o, "kind",
					    json_string(v.match.kind == CERT_KIND_CERTIFICATE
								? "certificate"
								: "result_notice"));
			json_object_set_new(o, "issued_on", json_string(v.match.issued_on));
			json_object_set_new(o, "conclusion", json_string(v.match.conclusion));
			json_object_set_new(o, "barcode", json_string(v.match.barcode));
			if (v.status == CERT_VERIFY_SUPERSEDED)
				json_object_set_new(o, "superseded_by_revision",
						    json_integer(v.current.revision));
			if (v.status == CERT_VERIFY_WITHDRAWN)
				json_object_set_new(o, "withdrawn_at",
						    json_string(v.match.withdrawn_at));
		}
	}
	if (wants_html(rq)) {
		int rc = page(rq, o);
		json_decref(o);
		return rc ? ml_errorf(err, ML_ENOMEM, "out of memory") : ML_OK;
	}
	req_json(rq, 200, o);
	return ML_OK;
}
