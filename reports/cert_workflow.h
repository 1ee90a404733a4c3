/*
 * cert_workflow.h — check, approve (= issue), revise.
 *
 * Three signatures by three different people (《计量检定印、证管理办法》,
 * JJF 1069-2012 cover: 检定员 / 核验员 / 批准人): the verifier who made the
 * draft, a checker, an approver. A certificate is issued only when the
 * approver signs: in that one transaction its number is allocated
 * (reports/cert_number.h), the PDF is rendered and stored with its SHA-256,
 * and the row becomes immutable (trigger + grants, migration 0040).
 *
 * Every function that touches several certificates does so in one
 * transaction: all succeed or nothing changes. Refusals are ML_ESTATE with
 * a message naming the certificate and the people involved.
 */
#ifndef ML_CERT_WORKFLOW_H
#define ML_CERT_WORKFLOW_H

#include <stddef.h>

#include "common/ml_error.h"
#include "reports/cert_doc.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mark drafts as checked by checker (draft -> checked). ML_ESTATE when one
 * is not a draft or checker is its verifier. */
int cert_check(struct db *db, const long long *ids, size_t n, const char *checker,
	       struct ml_error *err) ML_MUSTCHECK;

struct cert_issue_opts {
	const char *issued_on; /* "YYYY-MM-DD"; NULL = today in China Standard Time */
	struct cert_renderer *const *renderers; /* one per rendering thread; n_renderers >= 1 */
	size_t n_renderers;
};

/*
 * Approve and issue checked certificates. approver must differ from each
 * one's verifier and checker. Originals get the next numbers of their
 * issuer and the issue year (in id order); a revision keeps its number and
 * records the supersession of the certificate it corrects. Rendering uses
 * the given renderers, one thread each.
 */
int cert_approve(struct db *db, const long long *ids, size_t n, const char *approver,
		 const struct cert_issue_opts *opts, struct ml_error *err) ML_MUSTCHECK;

/* A cover field replaced in a revision (whitelisted: see cert_revise). */
struct cert_override {
	const char *
		field; /* "client", "place", "temperature", "humidity", "record_no", "model", "spec",
			      "manufacturer", "instrument", "verified_on", "valid_until" */
	const char *value;
};

/*
 * Start a correction of an issued, current certificate: a new draft with
 * revision + 1, the same number once issued, the old content with the
 * overrides applied, verifier = by, and the reason recorded. The old row is
 * not touched; it is marked superseded when the revision is issued.
 * ML_ESTATE when id is not issued, already superseded, or a revision of it
 * is pending. *new_id receives the draft's id.
 */
int cert_revise(struct db *db, long long id, const char *reason, const char *by,
		const struct cert_override *ov, size_t n_ov, long long *new_id,
		struct ml_error *err) ML_MUSTCHECK;

/*
 * Withdraw (作废) an issued, current certificate without a replacement, e.g.
 * one issued for the wrong asset: recorded with reason and name in
 * cert_withdrawal; the certificate and its PDF stay stored unchanged and
 * verify as withdrawn. ML_ESTATE when id is not issued, is superseded or
 * already withdrawn; a withdrawn certificate cannot be revised.
 */
int cert_withdraw(struct db *db, long long id, const char *reason, const char *by,
		  struct ml_error *err) ML_MUSTCHECK;

/*
 * Discard a draft or checked certificate that will not be issued (e.g. an
 * abandoned revision, which otherwise blocks the next one). The row is
 * copied to cert_discard_log with reason and name, then deleted, in one
 * transaction. ML_ESTATE for an issued certificate.
 */
int cert_discard(struct db *db, long long id, const char *reason, const char *by,
		 struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
