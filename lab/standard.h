/*
 * standard.h — registry of reference standards (计量标准器) with their
 * calibration certificates, and of the benches that use them.
 *
 * Traceability rule (JJF 1069, ISO/IEC 17025 6.5): a bench may verify on a
 * date only when every reference standard it uses holds a calibration
 * certificate valid on that date; standard_check_bench() enforces it and
 * the runner calls it before a run starts.
 *
 * All functions take an open struct db (not thread-safe: one per thread),
 * pass every value as a parameter, and report failures through err naming
 * the offending value. Records are plain structs owned by the caller;
 * arrays returned through **out are malloc'd and freed with free().
 */
#ifndef ML_LAB_STANDARD_H
#define ML_LAB_STANDARD_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

struct standard_cert {
	char cert_no[81];
	char issuer[201];
	char valid_from[11];  /* YYYY-MM-DD */
	char valid_until[11]; /* YYYY-MM-DD, inclusive */
};

struct standard_rec {
	int64_t standard_id;
	char code[41];
	char name[201];
	char accuracy_class[16]; /* "0.05", "0.1", "0.2S" */
	char range_text[201];    /* free text: "220 V, 0.05–100 A" */
	struct standard_cert
		cert; /* the certificate with the latest valid_until ("" fields when none) */
};

enum {
	STANDARD_BENCH_MAX_STD = 8
};

struct bench_rec {
	int64_t bench_id;
	char code[41];
	char name[201];
	char uri[301]; /* tcp://HOST:PORT, rtu:..., or "manual" */
	char kind[16]; /* meter-1p | meter-3p | transformer */
	int positions; /* 1..96 */
	int n_standards;
	char standards[STANDARD_BENCH_MAX_STD][41]; /* codes of the reference standards used */
};

/* Register a standard together with its first certificate, in one transaction. */
int standard_add(struct db *db, const struct standard_rec *s, int64_t *id_out,
		 struct ml_error *err) ML_MUSTCHECK;
/* Add a (re)calibration certificate to an existing standard. ML_ENOTFOUND for an unknown code. */
int standard_certify(struct db *db, const char *code, const struct standard_cert *c,
		     struct ml_error *err) ML_MUSTCHECK;
/* One standard by code (ML_ENOTFOUND when unknown). */
int standard_get(struct db *db, const char *code, struct standard_rec *out,
		 struct ml_error *err) ML_MUSTCHECK;
/* All standards, ordered by code. *out malloc'd (free()). */
int standard_list(struct db *db, struct standard_rec **out, size_t *n,
		  struct ml_error *err) ML_MUSTCHECK;
/* All certificates of one standard, newest first. *out malloc'd (free()). */
int standard_certs(struct db *db, const char *code, struct standard_cert **out, size_t *n,
		   struct ml_error *err) ML_MUSTCHECK;

/* Register a bench and the standards it uses (b->standards) in one transaction. */
int standard_bench_add(struct db *db, const struct bench_rec *b, int64_t *id_out,
		       struct ml_error *err) ML_MUSTCHECK;
int standard_bench_get(struct db *db, const char *code, struct bench_rec *out,
		       struct ml_error *err) ML_MUSTCHECK;
int standard_bench_get_id(struct db *db, int64_t bench_id, struct bench_rec *out,
			  struct ml_error *err) ML_MUSTCHECK;
int standard_bench_list(struct db *db, struct bench_rec **out, size_t *n,
			struct ml_error *err) ML_MUSTCHECK;

/*
 * Traceability check for a verification on `date` (YYYY-MM-DD): the bench
 * must use at least one standard, and each must have a certificate with
 * valid_from <= date <= valid_until. Otherwise ML_ESTATE naming the bench,
 * the standard and its latest certificate's validity.
 */
int standard_check_bench(struct db *db, int64_t bench_id, const char *date,
			 struct ml_error *err) ML_MUSTCHECK;

/* 1 when s is a well-formed calendar-looking date YYYY-MM-DD (the server checks the calendar). */
int standard_date_ok(const char *s);

#ifdef __cplusplus
}
#endif
#endif
