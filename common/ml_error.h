/*
 * ml_error.h — error codes and the error-detail out-parameter used by every
 * meterlab library.
 *
 * Libraries never print or exit. A function that can fail returns an
 * enum ml_err value (ML_OK == 0 on success) and, on failure, fills the
 * caller's struct ml_error with a message that names the offending value.
 * On success the struct is left untouched, so calls can be chained and the
 * first failure is reported (git's strbuf *err habit).
 *
 * Codes end up in exit codes, JSON and database rows: values are explicit,
 * append-only, never renumbered or reused.
 */
#ifndef ML_ERROR_H
#define ML_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ML_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define ML_MUSTCHECK __attribute__((warn_unused_result))
#else
#define ML_PRINTF(fmt, args)
#define ML_MUSTCHECK
#endif

enum ml_err {
	ML_OK = 0,
	ML_EINVAL = 1,     /* bad input: value fails validation */
	ML_ENOTFOUND = 2,  /* referenced record does not exist */
	ML_ECONFLICT = 3,  /* concurrent change / compare-and-set lost */
	ML_ESTATE = 4,     /* action not allowed in the current state */
	ML_EEXISTS = 5,    /* duplicate (unique key, re-import) */
	ML_EDB = 6,        /* database failure */
	ML_EIO = 7,        /* file or socket I/O failure */
	ML_EDEVICE = 8,    /* bench/device reported an error or exception */
	ML_ETIMEOUT = 9,   /* device or operation timed out */
	ML_EPROTO = 10,    /* protocol violation (bad frame, bad reply) */
	ML_ENOMEM = 11,    /* allocation failed */
	ML_EINTERNAL = 12, /* a bug: invariant broken */
	ML_ECONFIG = 13,   /* bad configuration (missing setting, bad file) */
	ML_EPDF = 14,      /* PDF generation failed */
	ML_EPERM = 15,     /* not an authenticated meterlab user, or lacks the permission */
};

#define ML_ERROR_MSG_MAX 1024

struct ml_error {
	int code;                   /* enum ml_err; ML_OK when nothing recorded */
	char msg[ML_ERROR_MSG_MAX]; /* human-readable, names the offending value */
};

/* clang-format off */
#define ML_ERROR_INIT { 0, { 0 } }
/* clang-format on */

/* Stable short name of a code ("invalid input", "conflict", ...). Static storage. */
const char *ml_strerror(int code);

/*
 * Record an error and return its code, so a failing path reads
 *     return ml_errorf(err, ML_EINVAL, "bad barcode '%s': ...", bc);
 * err may be NULL (the code is still returned). Thread-safe.
 */
int ml_errorf(struct ml_error *err, int code, const char *fmt, ...) ML_PRINTF(3, 4);

/* Prefix an existing message with context ("bench 2: " + old message). */
int ml_error_prefix(struct ml_error *err, const char *fmt, ...) ML_PRINTF(2, 3);

/* Reset to "no error". */
void ml_error_clear(struct ml_error *err);

/* Thread-safe strerror (glibc strerror_r wrapper). Writes into buf and returns it. */
const char *ml_errno_str(int errnum, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
