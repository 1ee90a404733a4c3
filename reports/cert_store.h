/*
 * cert_store.h — certificates in PostgreSQL (sql/migrations/0040): drafts
 * with their frozen content, issued records, stored PDF bytes.
 *
 * The content of a certificate (struct cert_doc, reports/cert_doc.h) is
 * frozen as JSON when the draft is created, so what the checker reviewed
 * is exactly what is issued. Workflow fields (number, revision, signers,
 * issue date, verification code, issuer details) are added at issue time
 * (reports/cert_workflow.h).
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
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CERT_NAME_MAX 64 /* bytes of a signer's name (UTF-8) */

/* A certificate row plus its supersession and PDF hash. Plain data: the
 * caller owns it (arrays from cert_list are freed with free()). */
struct cert_record {
	long long id;
	long long asset_id;
	long long run_id;        /* 0 when the draft was not made from a run */
	long long revises_id;    /* 0 for an original */
	long long superseded_by; /* id of the revision that replaced it; 0 when current */
	int kind;                /* enum cert_kind */
	int revision;
	char state[12]; /* "draft", "checked", "issued" */
	char issuer_id[36];
	char barcode[40];
	char cert_no[48]; /* "" until issued (a revision keeps the number of the one it corrects) */
	char verifier[CERT_NAME_MAX + 1], checker[CERT_NAME_MAX + 1], approver[CERT_NAME_MAX + 1];
	char created_at[32], checked_at[32], approved_at[32]; /* "YYYY-MM-DD HH:MM:SS+TZ" or "" */
	char issued_on[12];                                   /* "YYYY-MM-DD" or "" */
	char verify_code[20];
	char sha256[65]; /* stored PDF hash, "" until issued */
	char revise_reason[256];
	char conclusion[16]; /* from the content: "合格" / "不合格" */
	int withdrawn;       /* 1 when withdrawn (作废) without replacement */
	char withdraw_reason[256];
	char withdrawn_by[CERT_NAME_MAX + 1];
	char withdrawn_at[32];
};

/*
 * Create a draft from content. asset_id > 0; run_id 0 = none; issuer_id NULL
 * = the default issuer; verifier NULL = content->verifier. The content is
 * copied (JSON); workflow fields in content (cert_no, revision, supersedes,
 * issuer, checker, approver, issued_on, verify_code, qr_payload) are ignored.
 * ML_EINVAL for a missing barcode/verifier/conclusion or an over-long name.
 */
int cert_draft_create(struct db *db, long long asset_id, long long run_id, const char *issuer_id,
		      const struct cert_doc *content, const char *verifier, long long *id_out,
		      struct ml_error *err) ML_MUSTCHECK;

/* The record with this id (ML_ENOTFOUND when none). */
int cert_get(struct db *db, long long id, struct cert_record *out,
	     struct ml_error *err) ML_MUSTCHECK;

/*
 * The records of ids (ascending, no duplicates) into out[n], in the same
 * order; ML_ENOTFOUND naming the first missing id. With lock, the rows are
 * locked FOR UPDATE (in id order) for the caller's open transaction.
 */
int cert_get_many(struct db *db, const long long *ids, size_t n, int lock, struct cert_record *out,
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
 * The stored PDF bytes of an issued certificate, appended to *pdf; sha256
 * (optional, 65 bytes) receives the stored hash. The bytes are checked
 * against the stored hash before they are returned (ML_EINTERNAL if not).
 */
int cert_pdf_get(struct db *db, long long id, struct ml_buf *pdf, char *sha256,
		 struct ml_error *err) ML_MUSTCHECK;

/* Content loaded back from a draft, as a cert_doc whose strings live as long
 * as the cert_content. Opaque; free with cert_content_free (NULL-safe). */
struct cert_content;
int cert_content_load(struct db *db, long long id, struct cert_content **out,
		      struct ml_error *err) ML_MUSTCHECK;
struct cert_doc *cert_content_doc(struct cert_content *c);
void cert_content_free(struct cert_content *c);

/* A signer's name: non-blank, at most CERT_NAME_MAX bytes, no control characters, no leading or trailing
 * space (ASCII or U+3000): names are compared byte for byte for the three-signer rule. */
int cert_valid_name(const char *what, const char *name, struct ml_error *err) ML_MUSTCHECK;

/* Serialise the content part of doc as JSON (appended to *out). */
int cert_content_json(const struct cert_doc *doc, struct ml_buf *out) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
