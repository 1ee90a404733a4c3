/*
 * pdf_font.c — subset font, dense CMap encoder and ToUnicode for libharu
 * 2.3.0 (see pdf_font.h; the same steps as cert_render.c, whose comments
 * give the measured reasons).
 */
#include "reports/pdf_font.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/buf.h"

/* Fills libharu structures directly: only the version these were checked against. */
#if HPDF_VERSION_ID != 20300
#error "reports/pdf_font.c relies on libharu 2.3.0 internals"
#endif

#define DEFAULT_FONT "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
#define DENSE_ENCODER "ML-Dense-H"

struct pdf_font {
	struct ttf_font *face;
	int memfd;
	char memfd_path[64];
	struct ml_buf subset;
	uint16_t *code_of; /* BMP code point -> dense code (0 = unused) */
	uint16_t *cps;     /* code index -> code point */
	size_t n_codes;
	uint8_t used[8192];
	struct ml_buf text;
};

int pdf_font_new(const char *path, int face, struct pdf_font **out, struct ml_error *err)
{
	*out = NULL;
	struct pdf_font *f = calloc(1, sizeof *f);
	if (!f)
		return ml_errorf(err, ML_ENOMEM, "pdf font: out of memory");
	f->memfd = -1;
	ml_buf_init(&f->subset, 64u << 20);
	ml_buf_init(&f->text, 1u << 20);
	f->code_of = calloc(65536, sizeof *f->code_of);
	f->cps = calloc(65536, sizeof *f->cps);
	int rc;
	if (!f->code_of || !f->cps) {
		rc = ml_errorf(err, ML_ENOMEM, "pdf font: out of memory");
		goto fail;
	}
	if ((rc = ttf_font_open(path ? path : DEFAULT_FONT, face, &f->face, err)))
		goto fail;
	f->memfd = memfd_create("meterlab-pdf-font", MFD_CLOEXEC);
	if (f->memfd < 0) {
		char eb[128];
		rc = ml_errorf(err, ML_EIO, "pdf font: memfd_create: %s",
			       ml_errno_str(errno, eb, sizeof eb));
		goto fail;
	}
	snprintf(f->memfd_path, sizeof f->memfd_path, "/proc/self/fd/%d", f->memfd);
	*out = f;
	return ML_OK;
fail:
	pdf_font_free(f);
	return rc;
}

void pdf_font_free(struct pdf_font *f)
{
	if (!f)
		return;
	ttf_font_free(f->face);
	if (f->memfd >= 0)
		close(f->memfd);
	ml_buf_free(&f->subset);
	ml_buf_free(&f->text);
	free(f->code_of);
	free(f->cps);
	free(f);
}

const struct ttf_font *pdf_font_face(const struct pdf_font *f)
{
	return f->face;
}

void pdf_font_mark(uint8_t used[8192], const char *s)
{
	while (s && *s) {
		uint32_t cp = ttf_utf8_next(&s);
		if (cp < 0xFFFF)
			used[cp >> 3] |= (uint8_t)(1u << (cp & 7));
	}
}

/* Both bytes non-zero (libharu takes C strings); code == CID under Identity-H. */
static uint16_t dense_code(size_t k)
{
	return (uint16_t)((k / 255 + 1) << 8 | (k % 255 + 1));
}

int pdf_font_prepare(struct pdf_font *f, const uint8_t used[8192], struct ml_error *err)
{
	memcpy(f->used, used, sizeof f->used);
	f->used[0x20 >> 3] |= 1u << (0x20 & 7); /* a space is always there (sentinel below) */
	ml_buf_reset(&f->subset);
	int rc = ttf_font_subset(f->face, f->used, &f->subset, err);
	if (rc)
		return rc;
	char eb[128];
	if (ftruncate(f->memfd, 0) != 0)
		return ml_errorf(err, ML_EIO, "pdf font: ftruncate: %s",
				 ml_errno_str(errno, eb, sizeof eb));
	for (size_t off = 0; off < f->subset.len;) {
		ssize_t n = pwrite(f->memfd, f->subset.data + off, f->subset.len - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ml_errorf(err, ML_EIO, "pdf font: write: %s",
					 ml_errno_str(errno, eb, sizeof eb));
		off += (size_t)n;
	}
	for (size_t k = 0; k < f->n_codes; k++)
		f->code_of[f->cps[k]] = 0;
	f->n_codes = 0;
	for (uint32_t cp = 1; cp < 0xFFFF; cp++)
		if (f->used[cp >> 3] >> (cp & 7) & 1) {
			f->code_of[cp] = dense_code(f->n_codes);
			f->cps[f->n_codes++] = (uint16_t)cp;
		}
	/* libharu 2.3.0 drops the highest CID: one extra code (a space) comes last */
	f->cps[f->n_codes] = 0x20;
	return ML_OK;
}

static HPDF_ByteType dense_byte_type(HPDF_Encoder e, HPDF_ParseText_Rec *st)
{
	(void)e;
	HPDF_ByteType t = st->index % 2 == 0 ? HPDF_BYTE_TYPE_LEAD : HPDF_BYTE_TYPE_TRIAL;
	st->index++;
	return t;
}

static int register_encoder(struct pdf_font *f, HPDF_Doc pdf)
{
	HPDF_Encoder e = HPDF_CMapEncoder_New(pdf->mmgr, (char *)DENSE_ENCODER, NULL);
	if (!e)
		return -1;
	if (HPDF_CMapEncoder_InitAttr(e) != HPDF_OK) {
		HPDF_Encoder_Free(e);
		return -1;
	}
	HPDF_CMapEncoderAttr a = (HPDF_CMapEncoderAttr)e->attr;
	for (size_t k = 0; k <= f->n_codes; k++) {
		uint16_t c = dense_code(k);
		a->cid_map[c & 0xFF][c >> 8] = c;
		a->unicode_map[c & 0xFF][c >> 8] = f->cps[k];
	}
	snprintf(a->registry, sizeof a->registry, "Adobe");
	snprintf(a->ordering, sizeof a->ordering, "Identity-H");
	a->suppliment = 0;
	a->writing_mode = HPDF_WMODE_HORIZONTAL;
	e->byte_type_fn = dense_byte_type;
	e->type = HPDF_ENCODER_TYPE_DOUBLE_BYTE;
	return HPDF_Doc_RegisterEncoder(pdf, e) == HPDF_OK ? 0 : -1;
}

/* A real ToUnicode CMap (PDF 32000-1 §9.10.3): code -> Unicode per character. */
static int add_tounicode(const struct pdf_font *f, HPDF_Doc pdf, HPDF_Font font)
{
	HPDF_Dict tu = HPDF_DictStream_New(pdf->mmgr, pdf->xref);
	if (!tu)
		return -1;
	tu->filter = HPDF_STREAM_FILTER_FLATE_DECODE;
	HPDF_STATUS rc = HPDF_Stream_WriteStr(
		tu->stream,
		"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
	char line[64];
	for (size_t i = 0; i < f->n_codes && rc == HPDF_OK; i += 100) {
		size_t m = f->n_codes - i < 100 ? f->n_codes - i : 100;
		snprintf(line, sizeof line, "%zu beginbfchar\n", m);
		rc = HPDF_Stream_WriteStr(tu->stream, line);
		for (size_t k = i; k < i + m && rc == HPDF_OK; k++) {
			snprintf(line, sizeof line, "<%04X> <%04X>\n", dense_code(k), f->cps[k]);
			rc = HPDF_Stream_WriteStr(tu->stream, line);
		}
		if (rc == HPDF_OK)
			rc = HPDF_Stream_WriteStr(tu->stream, "endbfchar\n");
	}
	if (rc == HPDF_OK)
		rc = HPDF_Stream_WriteStr(
			tu->stream,
			"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
	if (rc == HPDF_OK)
		rc = HPDF_Dict_Add(font, "ToUnicode", tu);
	return rc == HPDF_OK ? 0 : -1;
}

HPDF_Font pdf_font_load(struct pdf_font *f, HPDF_Doc pdf)
{
	const char *name = HPDF_LoadTTFontFromFile(pdf, f->memfd_path, HPDF_TRUE);
	if (!name || register_encoder(f, pdf))
		return NULL;
	HPDF_Font font = HPDF_GetFont(pdf, name, DENSE_ENCODER);
	if (!font || add_tounicode(f, pdf, font))
		return NULL;
	/* every subset glyph is needed: flag them all (nested composites, 2.3.0) */
	HPDF_FontDef def = ((HPDF_FontAttr)font->attr)->fontdef;
	HPDF_TTFontDefAttr a = (HPDF_TTFontDefAttr)def->attr;
	memset(a->glyph_tbl.flgs, 1, a->num_glyphs);
	return font;
}

const char *pdf_font_text(struct pdf_font *f, const char *s)
{
	ml_buf_reset(&f->text);
	while (*s) {
		uint32_t cp = ttf_utf8_next(&s);
		uint16_t c = f->code_of[cp >= 0xFFFF ? 0x20 : cp];
		if (!c)
			c = f->code_of[0x20];
		char b[2] = { (char)(c >> 8), (char)(c & 0xFF) };
		ml_buf_append(&f->text, b, 2);
	}
	return ml_buf_failed(&f->text) ? NULL : ml_buf_str(&f->text);
}
