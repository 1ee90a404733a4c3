/*
 * cert_source.h — certificate content from a finished verification run.
 *
 * The database builds the content (ml_cert_run_docs, migration 0141) from
 * the runner's tables (0031: verification_run, run_position, run_step_result,
 * run_conclusion), the asset catalogue (0002) and the reference standards of
 * the run's bench (0030): one document per concluded asset, a certificate
 * (检定证书) when the overall conclusion is pass (合格), a result notice
 * (检定结果通知书) listing the failed items when it is fail (不合格), per
 * domain.md §6.1 / JJF 1069-2012. The same function fills the drafts, so a
 * preview here is exactly what a draft will hold (without the verifier).
 */
#ifndef ML_CERT_SOURCE_H
#define ML_CERT_SOURCE_H

#include <stddef.h>

#include "common/ml_error.h"
#include "reports/cert_doc.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The documents of one run. Opaque; strings live as long as the set. */
struct cert_source;

/*
 * Load the content of every asset of run_id that has an overall conclusion.
 * ML_ENOTFOUND for an unknown run, ML_ESTATE when the run is not finished or
 * its results do not cover its scheme (the message names what is missing).
 */
/* The statement cert_source_load's documents come from (cert_content_query's
 * docs_sql; $1 the run id): exposed so tests can examine its plan. */
extern const char cert_run_docs_sql[];
int cert_source_load(struct db *db, long long run_id, struct cert_source **out,
		     struct ml_error *err) ML_MUSTCHECK;
size_t cert_source_count(const struct cert_source *s);
const struct cert_doc *cert_source_doc(const struct cert_source *s, size_t i);
long long cert_source_asset(const struct cert_source *s, size_t i);
void cert_source_free(struct cert_source *s); /* NULL-safe */

/*
 * Draft the certificates of a run (ml_cert_draft): one per concluded asset
 * that has no original from this run yet, all in one transaction. The
 * verifier (检定员) is the run's operator (the person who ran it; 0366),
 * the connected user, who needs the cert.draft permission, its drafter; issuer_id NULL = the default issuer. *ids (malloc'd, caller
 * frees) receives the ids of all original (revision 0) certificates of the
 * run, new and existing, in position order; *created counts the new ones.
 */
int cert_source_drafts(struct db *db, long long run_id, const char *issuer_id, long long **ids,
		       size_t *n, size_t *created, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
