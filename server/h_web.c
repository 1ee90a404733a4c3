/*
 * h_web.c — the API routes the web pages (web/, issue 13) need beyond the
 * ones every integration uses: what a checker is about to sign (a draft's
 * preview PDF) and the figures of the manager's page.
 *
 * Thin over the libraries like the other handlers; reading only, in the
 * request's transaction that began with ml_api_enter (the route's
 * permission checked in the database).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reports/cert_doc.h"
#include "reports/cert_store.h"
#include "server/srv.h"

/*
 * One renderer for previews (parsing the font is the slow part), used by one
 * request at a time: a libharu document is not shared across threads
 * (reports/cert_doc.h). Made on first use, freed at exit by nobody: it lives
 * as long as the process.
 */
static pthread_mutex_t preview_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cert_renderer *preview_r;

/*
 * GET /api/certificates/{id}/preview: the certificate as its approver would
 * issue it, rendered from the draft's frozen content, so the checker and
 * the approver see what they sign. It has no number, no issue date of its
 * own and no verification code yet: those fields say 草稿 (draft), and the
 * PDF is never stored. An issued certificate's PDF is the stored one
 * (GET /api/certificates/{id}/pdf).
 */
int h_cert_preview(struct req *rq, struct ml_error *err)
{
	long long id = strtoll(req_seg(rq, 0), NULL, 10);
	struct cert_content *c = NULL;
	struct ml_buf pdf = ML_BUF_INIT;
	int rc = cert_content_load(rq->db, id, &c, err);
	if (rc)
		goto out;
	struct cert_doc doc = *cert_content_doc(c);
	char today[16], no[48];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	snprintf(no, sizeof(no), "草稿-%lld", id);
	if (!doc.cert_no || !doc.cert_no[0])
		doc.cert_no = no;
	if (!doc.issued_on || !doc.issued_on[0])
		doc.issued_on = today;
	if (!doc.checker || !doc.checker[0])
		doc.checker = "（待核验）";
	if (!doc.approver || !doc.approver[0])
		doc.approver = "（待批准）";
	if (!doc.verify_code || !doc.verify_code[0])
		doc.verify_code = "草稿";
	if (!doc.qr_payload || !doc.qr_payload[0])
		doc.qr_payload = "草稿 未签发";
	pthread_mutex_lock(&preview_mu);
	if (!preview_r)
		rc = cert_renderer_new(NULL, &preview_r, err);
	if (!rc)
		rc = cert_render(preview_r, &doc, &pdf, err);
	pthread_mutex_unlock(&preview_mu);
	if (rc)
		goto out;
	rc = req_raw(rq, 200, "application/pdf", pdf.data, pdf.len);
	if (rc)
		ml_errorf(err, ML_ENOMEM, "out of memory");
out:
	cert_content_free(c);
	ml_buf_free(&pdf);
	return rc;
}
