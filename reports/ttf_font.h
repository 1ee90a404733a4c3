/*
 * ttf_font.h — a read-only TrueType face (from a .ttf or one face of a .ttc)
 * and a small subsetter that writes a new, valid TrueType font containing
 * only the glyphs a document uses.
 *
 * Why: Debian 12's libharu 2.3.0 spends ~80 % of a certificate's time in
 * HPDF_GetFont walking all 65,536 BMP code points against the font's cmap
 * and building a /W array, and it copies the whole loca/hmtx/cmap/post of a
 * 45,000-glyph CJK font into every PDF (tech-notes.md §3.4). Handing it a
 * font of ~200 glyphs instead makes both cheap and the PDF small.
 *
 * The subset keeps glyph outlines byte-for-byte (instructions included),
 * pulls in the components of composite glyphs (recursively) and renumbers
 * their references, so subset glyph ids stay small and 2.3.0's signed
 * component-id bug (tech-notes §3.2) cannot drop them; the renderer also
 * flags every subset glyph for embedding, since 2.3.0 follows composites
 * only one level (cert_render.c).
 * Output is deterministic: glyph order = .notdef, then used characters by
 * code point, then components by original glyph id; fixed table order.
 */
#ifndef ML_TTF_FONT_H
#define ML_TTF_FONT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ttf_font;

/*
 * Map the font file read-only and parse face `face` (0 for a plain .ttf).
 * Only TrueType outlines (glyf) are accepted. *out is owned by the caller:
 * ttf_font_free().
 */
int ttf_font_open(const char *path, int face, struct ttf_font **out,
		  struct ml_error *err) ML_MUSTCHECK;
void ttf_font_free(struct ttf_font *f); /* NULL-safe */

/* Glyph id for a BMP code point; 0 (.notdef) when the font lacks it. */
uint16_t ttf_font_glyph(const struct ttf_font *f, uint32_t cp);

/* Advance width of a code point in 1/1000 em, truncated as libharu does. */
int ttf_font_width1000(const struct ttf_font *f, uint32_t cp);

/* Width of UTF-8 text at font size `size` (points), as libharu measures it. */
double ttf_font_text_width(const struct ttf_font *f, const char *utf8, double size);

/*
 * Decode the next UTF-8 code point at *s and advance *s. Malformed bytes
 * give U+FFFD and advance one byte; never reads past the terminating NUL.
 */
uint32_t ttf_utf8_next(const char **s);

/*
 * Write a subset font holding .notdef plus the glyphs of the code points
 * set in `used` (a 65,536-bit BMP bitmap, bit cp = used[cp >> 3] >> (cp & 7))
 * to *out (appended). The result is a standalone .ttf with the tables
 * libharu 2.3.0 reads (OS/2 cmap cvt fpgm glyf head hhea hmtx loca maxp
 * name post prep; hinting tables only when the source has them) and a
 * (3,1) format-4 cmap. Not thread-safe for one font (uses scratch space).
 */
int ttf_font_subset(struct ttf_font *f, const uint8_t used[8192], struct ml_buf *out,
		    struct ml_error *err) ML_MUSTCHECK;

/* Number of glyphs in the last subset written (for tests and benches). */
size_t ttf_font_last_subset_glyphs(const struct ttf_font *f);

#ifdef __cplusplus
}
#endif
#endif
