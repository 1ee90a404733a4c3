/*
 * cert_workflow.h — check, approve (= issue), revise, withdraw, discard,
 * back-date: each person signs their own step.
 *
 * Three signatures by three different people (《计量检定印、证管理办法》,
 * JJF 1069-2012 cover: 检定员 / 核验员 / 批准人): the verifier, who ran the
 * verification (the run's operator; 0366), a checker, an approver; whoever
 * drafted it (reports/cert_source.h) signs neither of the last two. Who signs is the
 * user connected to the database (ml_actor_id, migration 0100), never a
 * name passed in: every function here calls a database function (0141)
 * that checks the permission (ml_require), the state and the rules, records
 * the user's id and freezes their display name on the certificate.
 *
 * A certificate is issued only when the approver signs: in that one
 * transaction the database allocates the number and the verification code
 * and fixes the issue date (the server's clock), the PDF is rendered here
 * and handed to the database, which stores it with its SHA-256 only if it
 * carries what was allocated, and the row becomes immutable.
 *
 * Every function that touches several certificates does so in one
 * transaction: all succeed or nothing changes (cert_approve opens and
 * commits its own unless the caller has one open, e.g. the server's
 * request transaction, which the caller then finishes). Refusals: ML_EPERM (not a
 * meterlab user, or the role lacks the permission), ML_ESTATE (a state or
 * four-eyes rule, naming the certificate and the people), ML_EINVAL (a bad
 * value), ML_ENOTFOUND.
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

/* Sign drafts as checker (draft -> checked): permission cert.check; the
 * connected user must be neither a draft's verifier nor its drafter. */
int cert_check(struct db *db, const long long *ids, size_t n, struct ml_error *err) ML_MUSTCHECK;

/* The statement an approval's documents come from (cert_content_query's
 * docs_sql; $1 the ids as bigint[]): exposed so tests can examine its plan. */
extern const char cert_issue_docs_sql[];

struct cert_issue_opts {
	struct cert_renderer *const *renderers; /* one per rendering thread; n_renderers >= 1 */
	size_t n_renderers;
};

/*
 * Approve and issue checked certificates as the connected user (permission
 * cert.approve; not the verifier, checker or drafter of any of them). Originals
 * get the next numbers of their issuer in the current year (in id order); a
 * revision keeps its number and supersedes the certificate it corrects.
 * The issue date is today (China Standard Time, the server's clock), or the
 * date an administrator recorded with cert_backdate. Rendering uses the
 * given renderers, one thread each.
 */
int cert_approve(struct db *db, const long long *ids, size_t n, const struct cert_issue_opts *opts,
		 struct ml_error *err) ML_MUSTCHECK;

/* Where an approval's wall time went, in seconds (see cert_approve_timed). */
struct cert_issue_times {
	double begin;  /* BEGIN and ml_cert_issue_begin: checks, numbers, the documents taken
			  apart (one round trip) */
	double render; /* rendering every PDF (the renderers' threads, wall time) */
	double finish; /* ml_cert_issue_pdf for every PDF, ml_cert_issue_finish and COMMIT,
			  when cert_approve_timed owns the transaction (one round trip) */
};

/*
 * cert_approve, adding the wall time of each part to *times (not reset, so
 * a caller can sum many approvals; NULL: not measured). For benchmarks and
 * diagnostics; the result is cert_approve's.
 */
int cert_approve_timed(struct db *db, const long long *ids, size_t n,
		       const struct cert_issue_opts *opts, struct cert_issue_times *times,
		       struct ml_error *err) ML_MUSTCHECK;

#define CERT_APPROVE_MAX_THREADS 8

/*
 * cert_approve with threads renderers of the default fonts (1..8; made
 * here and freed before returning): what both fronts call.
 */
int cert_approve_threads(struct db *db, const long long *ids, size_t n, int threads,
			 struct ml_error *err) ML_MUSTCHECK;

/* A cover field replaced in a revision (whitelisted: see cert_revise). */
struct cert_override {
	const char *
		field; /* "client", "place", "temperature", "humidity", "record_no", "model", "spec",
			      "manufacturer", "instrument", "verified_on", "valid_until" */
	const char *value;
};

/*
 * Start a correction of an issued, current certificate (permission
 * cert.revise): a new draft with revision + 1, the same number once issued,
 * the old content with the overrides applied, verifier = the run's operator,
 * drafter = the connected user,
 * and the reason recorded. The database refuses values a certificate can
 * never carry: a verification date other than the run's, a validity beyond
 * the model's verification period, a temperature outside −20..60 ℃ or a
 * humidity outside 0..100 %RH (ML_EINVAL naming it). The old row is not
 * touched; it is marked superseded when the revision is issued, and then
 * the asset's valid_until follows the revision when it came from the
 * corrected certificate. ML_ESTATE when id is not issued, already
 * superseded, withdrawn, or a revision of it is pending. *new_id receives
 * the draft's id.
 */
int cert_revise(struct db *db, long long id, const char *reason, const struct cert_override *ov,
		size_t n_ov, long long *new_id, struct ml_error *err) ML_MUSTCHECK;

/*
 * Withdraw (作废) an issued, current certificate without a replacement, e.g.
 * one issued for the wrong asset (permission cert.withdraw): recorded with
 * the reason and the user in cert_withdrawal; the certificate and its PDF
 * stay stored unchanged and verify as withdrawn. A withdrawn certificate
 * cannot be revised.
 */
int cert_withdraw(struct db *db, long long id, const char *reason,
		  struct ml_error *err) ML_MUSTCHECK;

/*
 * Discard a draft or checked certificate that will not be issued (e.g. an
 * abandoned revision, which otherwise blocks the next one): by its drafter,
 * its verifier or an approver. The row is copied to cert_discard_log with the reason and
 * the user, then deleted, in one transaction. ML_ESTATE for an issued one.
 */
int cert_discard(struct db *db, long long id, const char *reason,
		 struct ml_error *err) ML_MUSTCHECK;

/*
 * Record that a certificate not yet issued carries an earlier issue date
 * (work recorded from paper): permission record.backdate (administrator),
 * date "YYYY-MM-DD" not in the future and not before the verification, a
 * reason. Shown with the certificate (cert_record.backdated*).
 */
int cert_backdate(struct db *db, long long id, const char *date, const char *reason,
		  struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
