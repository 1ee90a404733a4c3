/*
 * pdf_font.h — the embedded, subset Chinese font of meterlab's PDFs, for
 * documents other than certificates (the quality report): the technique of
 * cert_render.c (reports/README.md, "Approach" 2–4) as a reusable piece.
 *
 * Per document: the caller collects the characters it will draw in a
 * bitmap (rl_list.used, or pdf_font_mark), pdf_font_prepare() writes a
 * TrueType subset of exactly those glyphs to a memfd and numbers them with
 * dense 2-byte codes, pdf_font_load() registers the matching CMap encoder in
 * the libharu document, loads the subset with embedding, attaches a correct
 * ToUnicode CMap and flags every glyph for embedding (libharu 2.3.0 bugs:
 * see cert_render.c), and pdf_font_text() converts UTF-8 into the codes.
 * cert_render.c keeps its own copy of these steps while the certificate
 * work (issue 8 part B) changes that file; both follow the same design.
 *
 * One struct pdf_font per thread. Memory: owned by the struct; the text
 * returned by pdf_font_text() is valid until the next call.
 */
#ifndef ML_PDF_FONT_H
#define ML_PDF_FONT_H

#include <hpdf.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "reports/ttf_font.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pdf_font;

/* Parse the face (NULL: wqy-zenhei face 0, as certificates). */
int pdf_font_new(const char *path, int face, struct pdf_font **out,
		 struct ml_error *err) ML_MUSTCHECK;
void pdf_font_free(struct pdf_font *f); /* NULL-safe */
const struct ttf_font *pdf_font_face(const struct pdf_font *f);

/* Mark the characters of s as used in the bitmap (BMP only; others print as spaces). */
void pdf_font_mark(uint8_t used[8192], const char *s);

/* Subset for this document's characters; call once per document before loading. */
int pdf_font_prepare(struct pdf_font *f, const uint8_t used[8192],
		     struct ml_error *err) ML_MUSTCHECK;
/* The font in a libharu document (after HPDF_SetCompressionMode); NULL on a libharu error. */
HPDF_Font pdf_font_load(struct pdf_font *f, HPDF_Doc pdf);
/* s as dense codes; NULL when out of memory. */
const char *pdf_font_text(struct pdf_font *f, const char *s);

#ifdef __cplusplus
}
#endif
#endif
