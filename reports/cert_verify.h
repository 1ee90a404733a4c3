/*
 * cert_verify.h — verification codes, QR payloads, and checking a PDF
 * someone presents against the stored issued documents.
 *
 * The printed verification code is derived, not random, so the PDF stays
 * deterministic for the same data and issue date: the first 40 bits of
 * HMAC-SHA256(issuer.verify_key, "<number>|<revision>|<barcode>") in
 * Crockford base32, printed "XXXX-XXXX". Without the issuer's key nobody
 * can make a valid code for a number/barcode pair.
 *
 * A presented file is genuine only when its SHA-256 equals the hash of a
 * stored issued PDF (byte for byte); a genuine one is current, superseded
 * by a revision, or withdrawn (migration 0043). Anything else is not genuine; when the
 * file claims a known number (the QR payload the renderer also writes into
 * the document information /Keywords, or else the /Title, which it sets to
 * the number), the report names what it claims to be: FORGED when that
 * certificate was issued here.
 */
#ifndef ML_CERT_VERIFY_H
#define ML_CERT_VERIFY_H

#include <stddef.h>

#include "common/ml_error.h"
#include "reports/cert_store.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CERT_VCODE_LEN 10        /* "XXXX-XXXX" + NUL */
#define CERT_QR_PREFIX "MLCERT1" /* first field of every QR payload */

/* The letters of a verification code (Crockford base32; 0141 uses the same). */
extern const char cert_vcode_alphabet[33];

/* The verification code for (number, revision, barcode) under key. Pure. */
int cert_verify_code(const char *key, const char *cert_no, int revision, const char *barcode,
		     char out[CERT_VCODE_LEN], struct ml_error *err) ML_MUSTCHECK;

/* "MLCERT1;NO=<number>;REV=<rev>;BC=<barcode>;VC=<code>" into out. ML_EINVAL when it does not fit. */
int cert_qr_payload(const char *cert_no, int revision, const char *barcode, const char *code,
		    char *out, size_t len, struct ml_error *err) ML_MUSTCHECK;

/*
 * Parse what a QR code carries back into a claim (fields copied into the
 * caller's buffers): the MLCERT1 payload, or the verification URL
 * "http(s)://HOST[/PATH]/verify/NUMBER?code=CODE" (0251), which names no
 * barcode and no revision (revision -1: the code tells it). ML_EINVAL when
 * malformed.
 */
struct cert_claim {
	char cert_no[48];
	int revision; /* -1: unknown (only the number was found, in the document title) */
	char barcode[40];
	char code[CERT_VCODE_LEN];
};
int cert_qr_parse(const char *payload, size_t len, struct cert_claim *out,
		  struct ml_error *err) ML_MUSTCHECK;

enum cert_verify_status {
	CERT_VERIFY_CURRENT = 0,    /* genuine, and the current revision */
	CERT_VERIFY_SUPERSEDED = 1, /* genuine, but replaced by a later revision */
	CERT_VERIFY_FORGED = 2,  /* claims a known certificate, bytes differ from what was issued */
	CERT_VERIFY_UNKNOWN = 3, /* matches nothing issued here */
	CERT_VERIFY_WITHDRAWN =
		4, /* genuine, but withdrawn (作废) without replacement: not valid */
};

struct cert_verify_result {
	int status;      /* enum cert_verify_status */
	char sha256[65]; /* of the presented bytes */
	int has_claim;   /* a QR payload was found in the file */
	struct cert_claim claim;
	struct cert_record match; /* the stored certificate (genuine) or the one claimed (forged) */
	struct cert_record current; /* the current revision when superseded */
};

/* Check pdf (len bytes) against the store. The status is a result, not an error: ML_OK for all four. */
int cert_verify_pdf(struct db *db, const void *pdf, size_t len, struct cert_verify_result *out,
		    struct ml_error *err) ML_MUSTCHECK;

/*
 * Check what is printed on a paper certificate or scanned from its QR code:
 * number (revision -1 = not printed: the current revision's code, else
 * any earlier issued revision's, since an original prints no revision),
 * verification code and, when given (barcode non-empty), the barcode.
 * CURRENT/SUPERSEDED/WITHDRAWN when they match
 * an issued certificate, FORGED when the number exists but the code or
 * barcode does not match, UNKNOWN when no such certificate was issued.
 * Codes are read leniently (case, '-', I/L/O as 1/1/0). sha256 stays "".
 */
int cert_verify_claim(struct db *db, const struct cert_claim *claim, struct cert_verify_result *out,
		      struct ml_error *err) ML_MUSTCHECK;

/* "current", "superseded", "forged", "unknown", "withdrawn". Static storage. */
const char *cert_verify_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif
