/*
 * text.h — input hygiene for every free text a person types (names,
 * reasons, details, codes read from files): valid UTF-8, no NUL or other
 * control characters, no invisible format characters (zero-width and
 * bidirectional marks, BOM, soft hyphen), no leading or trailing white
 * space, a length limit in characters. Nothing is silently cut or cleaned:
 * a bad value is refused with a message naming it and saying why.
 *
 * The database checks the same rules (ml_text_ok in 0100_identity.sql,
 * which also requires NFC normalisation); this side gives the early, precise
 * message. Pure functions, thread-safe.
 */
#ifndef ML_TEXT_H
#define ML_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ml_text_flags {
	ML_TEXT_MULTILINE = 1, /* allow '\n' (and '\t') inside: notes and descriptions */
	ML_TEXT_EMPTY_OK = 2,  /* "" is accepted */
};

/*
 * Check s (NUL-terminated) against the rules above, at most max_chars
 * characters. what names the field in the message ("display name",
 * "--reason"). Returns ML_OK or ML_EINVAL with err naming the value (shown
 * with its bad characters as \xNN or U+XXXX) and the rule broken.
 */
int ml_text_check(const char *s, size_t max_chars, unsigned flags, const char *what,
		  struct ml_error *err) ML_MUSTCHECK;

/*
 * Decode one UTF-8 code point at s (n bytes available). Returns its length
 * (1..4) and stores it in *cp, or 0 for an invalid, overlong or surrogate
 * sequence.
 */
int ml_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* s past a leading UTF-8 byte-order mark (spreadsheets write one), else s. */
const char *ml_skip_bom(const char *s);

/*
 * Check a whole text file read into memory (len bytes; it may contain NUL
 * bytes, which a C string would silently end at): valid UTF-8, no NUL or
 * other control or invisible character except tab and the line ends LF and
 * CRLF. A leading BOM is accepted. ML_EINVAL names the file (what), the line
 * and the character. Every file reader calls it before parsing.
 */
int ml_text_file_check(const char *data, size_t len, const char *what,
		       struct ml_error *err) ML_MUSTCHECK;

/* 1 when cp is a control or invisible format character (never allowed in text). */
int ml_text_forbidden(uint32_t cp);

#ifdef __cplusplus
}
#endif
#endif
