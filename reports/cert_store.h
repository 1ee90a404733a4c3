/*
 * cert_store.h — reading certificates in PostgreSQL (sql/migrations/0040,
 * 0141): drafts with their frozen content, issued records, stored PDF bytes.
 *
 * The content of a certificate (struct cert_doc, reports/cert_doc.h) is
 * built by the database from a finished run and frozen as JSON when the
 * draft is created (ml_cert_draft, migration 0141), so what the checker
 * reviewed is exactly what is issued. Workflow fields (number, revision,
 * signers, issue date, verification code, issuer details) are added at
 * issue time (reports/cert_workflow.h). Rows are written only by the
 * database's functions; this file reads.
 *
 * All functions take a struct db (one connection, one thread) and return
 * enum ml_err; err names the offending value. Nothing prints.
 */
#ifndef ML_CERT_STORE_H
#define ML_CERT_STORE_H

#include <stddef.h>

#include "common/buf.h"
#include "common/ml_error.h"
#include "reports/cert_doc.h"
#include "reports/cert_state.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CERT_NAME_MAX 256 /* bytes of a signer's display name (64 characters of UTF-8) */
#define CERT_LOGIN_MAX 40 /* bytes of a login (app_user.login: at most 32 ASCII characters) */

/* A certificate row plus its supersession, withdrawal, back-date and PDF
 * hash. Plain data: the caller owns it (arrays from cert_list are freed with
 * free()). Signers are users: *_login says who they are, verifier / checker /
 * approver hold the display name frozen on the record when each signed (what
 * the certificate prints). */
struct cert_record {
	long long id;
	long long asset_id;
	long long run_id;        /* 0 when the draft was not made from a run */
	long long revises_id;    /* 0 for an original */
	long long superseded_by; /* id of the revision that replaced it; 0 when current */
	int kind;                /* enum cert_kind */
	int revision;
	char state[12];     /* "draft", "checked", "issued" (cert_state_name of st) */
	enum cert_state st; /* the same as an enum (reports/cert_state.h) */
	char issuer_id[36];
	char barcode[40];
	char cert_no[48]; /* "" until issued (a revision keeps the number of the one it corrects) */
	char verifier[CERT_NAME_MAX], checker[CERT_NAME_MAX], approver[CERT_NAME_MAX];
	char verifier_login[CERT_LOGIN_MAX], checker_login[CERT_LOGIN_MAX],
		approver_login[CERT_LOGIN_MAX];
	char created_at[32], checked_at[32], approved_at[32]; /* "YYYY-MM-DD HH:MM:SS+TZ" or "" */
	char issued_on[12];                                   /* "YYYY-MM-DD" or "" */
	char verify_code[20];
	char sha256[65]; /* stored PDF hash, "" until issued */
	char revise_reason[1024];
	char conclusion[16]; /* from the content: "合格" / "不合格" */
	int withdrawn;       /* 1 when withdrawn (作废) without replacement */
	char withdraw_reason[1024];
	char withdrawn_by[CERT_NAME_MAX];
	char withdrawn_at[32];
	/* An administrator recorded an earlier issue date (ml_cert_backdate). */
	int backdated;
	char backdated_on[12];
	char backdate_reason[2048];
	char backdated_by[CERT_NAME_MAX];
	char backdated_at[32];
};

/* The record with this id (ML_ENOTFOUND when none). */
int cert_get(struct db *db, long long id, struct cert_record *out,
	     struct ml_error *err) ML_MUSTCHECK;

/*
 * The records of ids (ascending, no duplicates) into out[n], in the same
 * order; ML_ENOTFOUND naming the first missing id.
 */
int cert_get_many(struct db *db, const long long *ids, size_t n, struct cert_record *out,
		  struct ml_error *err) ML_MUSTCHECK;

/*
 * Resolve "ID" (digits) or "NUMBER" (e.g. JL2026-000001, the current
 * revision) or "NUMBER/REV" to a record.
 */
int cert_find(struct db *db, const char *ref, struct cert_record *out,
	      struct ml_error *err) ML_MUSTCHECK;

struct cert_filter {
	long long run_id;   /* 0 = any */
	long long asset_id; /* 0 = any */
	const char *
		state; /* NULL = any; "draft", "checked", "issued", "superseded", "withdrawn", "current" */
	const char *cert_no; /* NULL = any */
};

/* Records matching f (NULL = all), ordered by id. *out is malloc'd; caller free()s. */
int cert_list(struct db *db, const struct cert_filter *f, struct cert_record **out, size_t *n,
	      struct ml_error *err) ML_MUSTCHECK;

/*
 * The ids of run_id's certificates in state st ("draft" for the checker,
 * "checked" for the approver; any cert_filter state), ascending. *ids
 * malloc'd, caller frees. ML_ENOTFOUND when the run has none in that state.
 */
int cert_ids_of_run(struct db *db, long long run_id, const char *st, long long **ids, size_t *n,
		    struct ml_error *err) ML_MUSTCHECK;

/*
 * The issuers (table issuer, 0040): id, name, authorization_no, address,
 * postcode, phone, fax, email, number_prefix, default_client, is_default
 * ('yes'/'no'), by id. *out: caller PQclear()s.
 */
int cert_issuer_list(struct db *db, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

/*
 * The stored PDF bytes of an issued certificate, appended to *pdf; sha256
 * (optional, 65 bytes) receives the stored hash. The bytes are checked
 * against the stored hash before they are returned (ML_EINTERNAL if not).
 */
int cert_pdf_get(struct db *db, long long id, struct ml_buf *pdf, char *sha256,
		 struct ml_error *err) ML_MUSTCHECK;

/*
 * A document as a cert_doc whose strings live as long as the cert_content:
 * loaded from a certificate's frozen content (cert_content_load), or parsed
 * from a document JSON (cert_content_parse): the content fields of a draft
 * plus, for a document being issued, the workflow fields cert_no, revision,
 * supersedes, issuer_name / issuer_authorization_no / issuer_address /
 * issuer_postcode / issuer_phone / issuer_fax / issuer_email, checker,
 * approver, issued_on, verify_code, qr_payload (ml_cert_issue_begin, 0141).
 * Opaque; *out is owned by the caller: cert_content_free (NULL-safe).
 */
struct cert_content;
int cert_content_load(struct db *db, long long id, struct cert_content **out,
		      struct ml_error *err) ML_MUSTCHECK;
int cert_content_parse(struct db *db, const char *json, struct cert_content **out,
		       struct ml_error *err) ML_MUSTCHECK;
/*
 * The documents a statement makes, each parsed, in one round trip (not one
 * per document), and the statement run once (it may allocate: issuing).
 * docs_sql is constant text, never holding a value; its rows are
 * (n bigint, k bigint, doc jsonb): n orders the documents, k names each (a
 * certificate or asset id); its parameters are p[0..np-1] ($1..$np, np < 8).
 * On success *out holds *n documents and *keys their k, in n's order; the
 * caller frees each document (cert_content_free) and both arrays (free).
 * Documents of one call share one result: free them from one thread.
 */
int cert_content_query(struct db *db, const char *docs_sql, int np, const char *const *p,
		       struct cert_content ***out, long long **keys, size_t *n,
		       struct ml_error *err) ML_MUSTCHECK;
/* The statement cert_content_query runs for docs_sql (its parameters
 * $1..$np, then the array names' text[] as $np+1), in *sql (initialised
 * here; the caller frees it with ml_buf_free): exposed so tests can examine
 * its plan. ML_ENOMEM on failure. */
int cert_content_sql(struct ml_buf *sql, const char *docs_sql, int np) ML_MUSTCHECK;
/* The documents of a result of cert_content_sql's statement (run by the
 * caller, e.g. in a pipeline), as cert_content_query gives them; takes res
 * (freed with the last document, or at once on failure). */
int cert_content_take(PGresult *res, struct cert_content ***out, long long **keys, size_t *n,
		      struct ml_error *err) ML_MUSTCHECK;
/* The array names cert_content_sql's last parameter takes. */
#define CERT_CONTENT_ARRAYS "{standards,items,errors,xfmr}"
struct cert_doc *cert_content_doc(struct cert_content *c);
void cert_content_free(struct cert_content *c);

#ifdef __cplusplus
}
#endif
#endif
