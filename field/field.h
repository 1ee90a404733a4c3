/*
 * field.h — the field teams' work (issue 11): metering points (计量点),
 * installation, removal and swap with register readings and seals (计量印证),
 * seals themselves, and fault reports with their analysis or arbitration
 * verification (仲裁检定). The rules live in the database functions of
 * sql/migrations/0225_field.sql; each call here is ONE statement (so one
 * transaction, or part of the caller's open one) acting as the connection's
 * authenticated person. CLI (cli/cmd_field.c) and server call these.
 *
 * Errors: enum ml_err with err naming the offending value (ML_EINVAL bad
 * input, ML_ENOTFOUND unknown asset/point/seal, ML_ESTATE wrong state or
 * seal already used, ML_EPERM not allowed / not your team, ML_ECONFLICT lost
 * a race, ML_EEXISTS duplicate).
 */
#ifndef ML_FIELD_FIELD_H
#define ML_FIELD_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- metering points ---- */

struct field_problem {
	size_t line; /* the CSV line (1 = header), or 1-based entry */
	char code[72];
	char msg[320];
};
struct field_point_report {
	size_t added;
	struct field_problem *problems; /* malloc'd; field_point_report_free */
	size_t nproblems;
};
void field_point_report_free(struct field_point_report *rep); /* NULL-safe */

/*
 * Import metering points from CSV text with the header
 * "code,account,address,site" (fields may be double-quoted; site is a
 * customer_site location code). All or nothing: on any problem nothing is
 * added, every problem is in rep with its line, and the result is ML_EINVAL.
 */
int field_point_import(struct db *db, const char *csv, size_t len, struct field_point_report *rep,
		       struct ml_error *err) ML_MUSTCHECK;

/* Installations of a point, newest first (caller PQclear()s): point, account,
 * address, site, element, barcode, installed_at, installed_by, install_kwh,
 * removed_at, removed_by, remove_kwh, remove_reason, seals. */
int field_point_show(struct db *db, const char *point, PGresult **out,
		     struct ml_error *err) ML_MUSTCHECK;

/* ---- install, remove, swap ---- */

struct field_install_in {
	const char *barcode, *point;
	const char *element;      /* NULL: "meter"; or ct_a, ct_b, ct_c */
	const char *kwh;          /* initial total active import, e.g. "123.45" */
	const char *tariffs_json; /* NULL or {"peak":"1.2",...} (sharp, peak, flat, valley) */
	const char *const *seals;
	size_t nseals;
};
struct field_remove_in {
	const char *barcode;
	const char *kwh;          /* final reading, >= the initial one */
	const char *reason;       /* rotation, fault, upgrade, complaint, other */
	const char *note;         /* NULL or free text */
	const char *const *seals; /* seals the remover names (must be on it); all are broken */
	size_t nseals;
};

int field_install(struct db *db, const struct field_install_in *in, int64_t *installation_id,
		  struct ml_error *err) ML_MUSTCHECK;
int field_remove(struct db *db, const struct field_remove_in *in, int64_t *installation_id,
		 struct ml_error *err) ML_MUSTCHECK;
/* Remove old and install repl (its point/element are the old one's) in one statement. */
int field_swap(struct db *db, const struct field_remove_in *old,
	       const struct field_install_in *repl, int64_t *installation_id,
	       struct ml_error *err) ML_MUSTCHECK;

/* ---- seals ---- */

int field_seal_receive(struct db *db, const char *const *codes, size_t n, const char *batch,
		       size_t *count, struct ml_error *err) ML_MUSTCHECK;
/* To a team (login NULL) or to a person (team NULL). */
int field_seal_issue(struct db *db, const char *const *codes, size_t n, const char *team,
		     const char *login, size_t *count, struct ml_error *err) ML_MUSTCHECK;
int field_seal_destroy(struct db *db, const char *const *codes, size_t n, const char *reason,
		       size_t *count, struct ml_error *err) ML_MUSTCHECK;
/* A lab technician seals one verified meter (in_stock|secondary_stock, with a
 * validity) with seals issued to them personally (0228, permission seal.apply);
 * all or nothing, each seal used once; the meter's history gets a 'seal'
 * event. *count = seals applied (may be NULL). */
int field_seal_apply(struct db *db, const char *barcode, const char *const *codes, size_t n,
		     size_t *count, struct ml_error *err) ML_MUSTCHECK;
/* Which seals field_seal_list returns; every field may be NULL/0. */
struct field_seal_filter {
	const char *code;  /* one seal */
	const char *team;  /* held by this field team */
	const char *state; /* in_store, issued, applied, removed, destroyed */
	const char *after; /* keyset paging: codes greater than this (a page's last code) */
	int mine;          /* issued to the connection's person or to their team */
	int limit;         /* 1..FIELD_SEAL_PAGE_MAX rows; 0: FIELD_SEAL_PAGE_MAX */
};
#define FIELD_SEAL_PAGE_MAX 10000
/* Seals with where they are, by code (caller PQclear()s): code, batch, state,
 * holder, asset, point, changed_at. A page with limit rows is full: the next
 * one starts after its last code. ML_EINVAL for a limit beyond the maximum. */
int field_seal_list(struct db *db, const struct field_seal_filter *f, PGresult **out,
		    struct ml_error *err) ML_MUSTCHECK;
/* One seal's whole life from the append-only seal_event, oldest first (caller
 * PQclear()s): action (receive, issue, apply, remove, destroy), at, actor,
 * actor_name, details (jsonb: batch, team/person, point and asset, reason).
 * An unknown seal is ML_ENOTFOUND. */
int field_seal_history(struct db *db, const char *code, PGresult **out,
		       struct ml_error *err) ML_MUSTCHECK;

/* ---- faults ---- */

/* A removed asset's fault, sent to lab (a location of kind lab); complaint
 * non-NULL makes it an arbitration verification for that complaint. */
int field_fault_report(struct db *db, const char *barcode, const char *symptom,
		       const char *description, const char *complaint, const char *lab,
		       int64_t *fault_id, struct ml_error *err) ML_MUSTCHECK;
/* maker, usage, external or no_fault_found; by someone other than the reporter. */
int field_fault_outcome(struct db *db, int64_t fault_id, const char *outcome, const char *note,
			struct ml_error *err) ML_MUSTCHECK;
/* Fault reports (caller PQclear()s), open ones only when open_only. */
int field_fault_list(struct db *db, int open_only, PGresult **out,
		     struct ml_error *err) ML_MUSTCHECK;

/* ---- arbitration verification (仲裁检定) linked to its complaint (0229) ---- */

/* Link the run that answered an arbitration fault report, and (cert_id > 0)
 * the certificate or result notice issued from it for the meter. Permission
 * fault.analyse; refused naming the value: not an arbitration, a run that did
 * not verify the meter or predates the report or was abandoned, a certificate
 * of another run or meter, not issued or withdrawn, a link already set to
 * another run or certificate. Repeating with the same run adds the cert. */
int field_fault_arbitration(struct db *db, int64_t fault_id, int64_t run_id, int64_t cert_id,
			    struct ml_error *err) ML_MUSTCHECK;
/* One fault report with its arbitration run and certificate (caller
 * PQclear()s): fault_id, barcode, symptom, kind, complaint, description,
 * reported_by, reported_at, outcome, outcome_by, outcome_note, run_id,
 * run_status, run_date, cert_id, cert_no, cert_kind, cert_state, linked_by.
 * ML_ENOTFOUND naming the id. */
int field_fault_show(struct db *db, int64_t fault_id, PGresult **out,
		     struct ml_error *err) ML_MUSTCHECK;
/* The arbitration fault reports a certificate answered (caller PQclear()s;
 * zero rows when none): fault_id, complaint, reported_on. */
int field_cert_arbitration(struct db *db, int64_t cert_id, PGresult **out,
			   struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
