#include "common/text.h"

#include <stdio.h>
#include <string.h>

int ml_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	unsigned char c = s[0];
	int len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		len = 2, v = c & 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, v = c & 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)len > n)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

int ml_text_forbidden(uint32_t cp)
{
	/* C0, DEL, C1 controls */
	if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
		return 1;
	/* soft hyphen, Arabic letter mark, Mongolian vowel separator */
	if (cp == 0xAD || cp == 0x61C || cp == 0x180E)
		return 1;
	/* zero-width space/joiners, LRM/RLM, line/paragraph separators, bidi embeddings */
	if ((cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E))
		return 1;
	/* word joiner, invisible operators, bidi isolates, deprecated format characters */
	if (cp >= 0x2060 && cp <= 0x206F)
		return 1;
	/* BOM / zero-width no-break space, interlinear annotation characters */
	return cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB);
}

static int is_space(uint32_t cp)
{
	return cp == ' ' || cp == 0x3000 || cp == '\t' || cp == '\n';
}

/* s with non-printing bytes shown as escapes, cut at ~80 bytes, for messages. */
static void shown(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 8 < cap; p++) {
		if (*p < 0x20 || *p == 0x7F || *p == '\'')
			o += (size_t)snprintf(out + o, cap - o, "\\x%02X", *p);
		else
			out[o++] = (char)*p;
		if (o > 80) {
			o += (size_t)snprintf(out + o, cap - o, "…");
			break;
		}
	}
	out[o < cap ? o : cap - 1] = '\0';
}

int ml_text_check(const char *s, size_t max_chars, unsigned flags, const char *what,
		  struct ml_error *err)
{
	char show[128];
	if (!s || !*s) {
		if (s && (flags & ML_TEXT_EMPTY_OK))
			return ML_OK;
		return ml_errorf(err, ML_EINVAL, "%s is empty", what);
	}
	size_t n = strlen(s), chars = 0;
	uint32_t first = 0, last = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int l = ml_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		shown(s, show, sizeof(show));
		if (!l)
			return ml_errorf(err, ML_EINVAL, "%s '%s' is not valid UTF-8 (byte %zu)",
					 what, show, i + 1);
		int allowed_ws = (flags & ML_TEXT_MULTILINE) && (cp == '\n' || cp == '\t');
		if (ml_text_forbidden(cp) && !allowed_ws)
			return ml_errorf(
				err, ML_EINVAL,
				"%s '%s' contains the control or invisible character U+%04X "
				"at character %zu",
				what, show, (unsigned)cp, chars + 1);
		if (!chars)
			first = cp;
		last = cp;
		chars++;
		i += (size_t)l;
	}
	if (is_space(first) || is_space(last)) {
		shown(s, show, sizeof(show));
		return ml_errorf(err, ML_EINVAL, "%s '%s' starts or ends with white space", what,
				 show);
	}
	if (chars > max_chars) {
		shown(s, show, sizeof(show));
		return ml_errorf(err, ML_EINVAL, "%s '%s' is %zu characters long (at most %zu)",
				 what, show, chars, max_chars);
	}
	return ML_OK;
}

const char *ml_skip_bom(const char *s)
{
	return s && !strncmp(s, "\xEF\xBB\xBF", 3) ? s + 3 : s;
}

int ml_text_file_check(const char *data, size_t len, const char *what, struct ml_error *err)
{
	size_t start = len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) ? 3 : 0;
	long line = 1, col = 1;
	for (size_t i = start; i < len;) {
		uint32_t cp = 0;
		int l = ml_utf8_decode((const unsigned char *)data + i, len - i, &cp);
		if (!l)
			return ml_errorf(err, ML_EINVAL,
					 "%s line %ld: byte 0x%02X at character %ld is not UTF-8 "
					 "(save the file as UTF-8)",
					 what, line, (unsigned char)data[i], col);
		if (cp == '\n') {
			line++;
			col = 1;
			i += (size_t)l;
			continue;
		}
		/* a CR ends a CRLF line; a tab separates; everything else invisible is refused */
		int ok = cp == '\t' || (cp == '\r' && i + 1 < len && data[i + 1] == '\n') ||
			 (cp == '\r' && i + 1 == len);
		if (!ok && ml_text_forbidden(cp))
			return ml_errorf(
				err, ML_EINVAL, "%s line %ld: %s U+%04X at character %ld", what,
				line, cp == 0 ? "a NUL byte" : "the control or invisible character",
				(unsigned)cp, col);
		col++;
		i += (size_t)l;
	}
	return ML_OK;
}
