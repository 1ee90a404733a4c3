/*
 * trace.h — reverse traceability (标准量传, issue 14). When a reference
 * standard's recalibration finds it out of tolerance, or its certificate is
 * withdrawn, or a bench is found faulty, every result it supported is
 * suspect (JJF 1069; ISO/IEC 17025:2017 6.5 and 7.10): this lists every run
 * on a bench that used the standard (or on the bench) dated in the window,
 * each asset of those runs with its verdict and its current certificate
 * from the run, and where the asset is now — the recall list.
 *
 * Benches keep their standards for life (lab_bench_standard has no end
 * date), so "a bench that used the standard" is a bench linked to it.
 * Memory: a struct trace_list owns its rows; trace_list_free().
 */
#ifndef ML_QUALITY_TRACE_H
#define ML_QUALITY_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct db;

struct trace_row {
	int64_t run_id;
	char run_date[11], run_status[16], bench[48], standards[256];
	int position;
	char barcode[24], model[72], maker[40];
	char verdict[8];     /* the run's overall verdict for the asset; "" when none */
	char cert_no[40];    /* the run's certificate that no revision supersedes; "" when none */
	int cert_revision;   /* -1 when none */
	char cert_kind[16];  /* "certificate" | "notice" */
	char cert_state[16]; /* draft | checked | issued */
	char cert_issued_on[11];
	char cert_status[16]; /* "current" | "withdrawn" | "not issued" | "" */
	char asset_state[24], location[72], location_name[208], location_kind[24];
	char valid_until[11], state_since[40];
};

struct trace_list {
	char what[16]; /* "standard" | "bench" */
	char code[72], since[11], until[11];
	struct trace_row *rows;
	size_t n;
	size_t runs, certificates,
		installed; /* distinct runs; current certificates; assets installed */
};

/*
 * The recall list of a standard (standard != NULL) or of a bench, for runs
 * dated from since (inclusive) to until (inclusive; NULL: no end).
 * ML_EINVAL names a bad date; ML_ENOTFOUND an unknown code.
 */
int trace_load(struct db *db, const char *standard, const char *bench, const char *since,
	       const char *until, struct trace_list *out, struct ml_error *err) ML_MUSTCHECK;
void trace_list_free(struct trace_list *t); /* NULL-safe */
/*
 * Flag every asset of the same trace still in the centre's hands for
 * re-verification, all or nothing (0274): a flagged asset cannot be issued,
 * dispatched or installed until it passes verification again. *flagged: how
 * many were newly flagged (already flagged ones keep their flag). Permission
 * trace.flag (quality analyst, manager).
 */
int trace_flag(struct db *db, const char *standard, const char *bench, const char *since,
	       const char *until, const char *reason, size_t *flagged,
	       struct ml_error *err) ML_MUSTCHECK;

/* Renderings appended to b (check ml_buf_failed once): an aligned text table with a
 * summary, a JSON object, CSV (header row). */
void trace_text(const struct trace_list *t, struct ml_buf *b);
void trace_json(const struct trace_list *t, struct ml_buf *b);
void trace_csv(const struct trace_list *t, struct ml_buf *b);

#ifdef __cplusplus
}
#endif
#endif
