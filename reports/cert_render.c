/*
 * cert_render.c — certificate PDF renderer (contract: cert_doc.h).
 *
 * Per document: lay out into a display list (render_layout.c), build a
 * TrueType subset holding only the glyphs the document uses (ttf_font.c),
 * write it to a memfd, and let libharu 2.3.0 load it from /proc/self/fd/N
 * (2.3.0 loads fonts only from a path) with the UTF-8 CID encoder and
 * embedding on. HPDF_GetFont then walks a ~200-glyph cmap instead of a
 * 45,000-glyph one and the PDF embeds ~30 KB of font instead of ~400 KB
 * (tech-notes.md §3.2, §3.4; measured numbers in reports/README.md).
 *
 * libharu errors are recorded by the handler into a context (no longjmp)
 * and checked after each section. Determinism (tech-notes §3.6):
 * CreationDate comes from doc->issued_on, no encryption, no PDF/A.
 */
#include "reports/cert_doc.h"

#include <errno.h>
#include <hpdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "reports/render_layout.h"
#include "reports/ttf_font.h"

#define ML_DEFAULT_FONT "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

struct cert_renderer {
	struct ttf_font *font;
	char *font_path;
	int font_face;
	int full_font;          /* baseline: embed via libharu's own loader */
	int memfd;              /* holds the current subset font */
	char memfd_path[64];
	struct ml_buf subset;
	struct rl_list list;
};

/* What the libharu error handler records. */
struct hpdf_err {
	HPDF_STATUS code, detail;
};

static void on_hpdf_error(HPDF_STATUS code, HPDF_STATUS detail, void *user)
{
	struct hpdf_err *e = user;
	if (!e->code) {
		e->code = code;
		e->detail = detail;
	}
}

int cert_renderer_new(const struct cert_render_opts *opts, struct cert_renderer **out, struct ml_error *err)
{
	*out = NULL;
	struct cert_renderer *r = calloc(1, sizeof *r);
	if (!r)
		return ml_errorf(err, ML_ENOMEM, "renderer: out of memory");
	r->memfd = -1;
	rl_list_init(&r->list);
	ml_buf_init(&r->subset, 64u << 20);
	const char *path = opts && opts->font_path ? opts->font_path : ML_DEFAULT_FONT;
	r->font_face = opts ? opts->font_face : 0;
	r->full_font = opts ? opts->full_font : 0;
	r->font_path = strdup(path);
	int rc;
	if (!r->font_path) {
		rc = ml_errorf(err, ML_ENOMEM, "renderer: out of memory");
		goto fail;
	}
	if ((rc = ttf_font_open(path, r->font_face, &r->font, err)))
		goto fail;
	if (!r->full_font) {
		r->memfd = memfd_create("meterlab-cert-font", MFD_CLOEXEC);
		if (r->memfd < 0) {
			char eb[128];
			rc = ml_errorf(err, ML_EIO, "renderer: memfd_create: %s", ml_errno_str(errno, eb, sizeof eb));
			goto fail;
		}
		snprintf(r->memfd_path, sizeof r->memfd_path, "/proc/self/fd/%d", r->memfd);
	}
	*out = r;
	return ML_OK;
fail:
	cert_renderer_free(r);
	return rc;
}

void cert_renderer_free(struct cert_renderer *r)
{
	if (!r)
		return;
	ttf_font_free(r->font);
	free(r->font_path);
	if (r->memfd >= 0)
		close(r->memfd);
	ml_buf_free(&r->subset);
	rl_list_free(&r->list);
	free(r);
}

static int hpdf_fail(struct ml_error *err, const struct cert_doc *doc, const struct hpdf_err *he, const char *what)
{
	return ml_errorf(err, ML_EPDF, "certificate %s: libharu error 0x%04X (detail %u) while %s", doc->cert_no,
			 (unsigned)he->code, (unsigned)he->detail, what);
}

/* Replace the memfd's content with the subset font for this document. */
static int write_subset(struct cert_renderer *r, struct ml_error *err)
{
	ml_buf_reset(&r->subset);
	int rc = ttf_font_subset(r->font, r->list.used, &r->subset, err);
	if (rc)
		return rc;
	char eb[128];
	if (ftruncate(r->memfd, 0) != 0)
		return ml_errorf(err, ML_EIO, "renderer: ftruncate font memfd: %s", ml_errno_str(errno, eb, sizeof eb));
	size_t off = 0;
	while (off < r->subset.len) {
		ssize_t n = pwrite(r->memfd, r->subset.data + off, r->subset.len - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ml_errorf(err, ML_EIO, "renderer: write font memfd: %s", ml_errno_str(errno, eb, sizeof eb));
		off += (size_t)n;
	}
	return ML_OK;
}

/*
 * libharu 2.3.0 attaches as /ToUnicode the encoder's code->CID CMap (a
 * "begincidrange" map), which is not a ToUnicode CMap: poppler warns
 * "Invalid 'begincidrange' operator in ToUnicode CMap" and copy/search fall
 * back to guessing. With the UTF-8 encoder the 2-byte code of a glyph IS its
 * Unicode code point, so the correct map is the identity: one bfrange per
 * 256-code block the document uses (a bfrange may not cross a block; PDF
 * 32000-1 §9.10.3). The superseded stream stays as an unreferenced object.
 */
static int add_tounicode(HPDF_Doc pdf, HPDF_Font font, const uint8_t used[8192])
{
	char line[64];
	int blocks[256], nb = 0;
	for (int b = 0; b < 256; b++) {
		int any = 0;
		for (int k = 0; k < 32 && !any; k++)
			any = used[b * 32 + k] != 0;
		if (any && (b < 0xD8 || b > 0xDF)) /* no surrogate blocks */
			blocks[nb++] = b;
	}
	HPDF_Dict tu = HPDF_DictStream_New(pdf->mmgr, pdf->xref);
	if (!tu)
		return -1;
	tu->filter = HPDF_STREAM_FILTER_FLATE_DECODE;
	HPDF_STATUS rc = HPDF_Stream_WriteStr(tu->stream,
		"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
	for (int i = 0; i < nb && rc == HPDF_OK; i += 100) { /* at most 100 entries per section */
		int n = nb - i < 100 ? nb - i : 100;
		snprintf(line, sizeof line, "%d beginbfrange\n", n);
		rc = HPDF_Stream_WriteStr(tu->stream, line);
		for (int k = i; k < i + n && rc == HPDF_OK; k++) {
			snprintf(line, sizeof line, "<%02X00> <%02XFF> <%02X00>\n", blocks[k], blocks[k], blocks[k]);
			rc = HPDF_Stream_WriteStr(tu->stream, line);
		}
		if (rc == HPDF_OK)
			rc = HPDF_Stream_WriteStr(tu->stream, "endbfrange\n");
	}
	if (rc == HPDF_OK)
		rc = HPDF_Stream_WriteStr(tu->stream, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
	if (rc == HPDF_OK)
		rc = HPDF_Dict_Add(font, "ToUnicode", tu);
	return rc == HPDF_OK ? 0 : -1;
}

static HPDF_Font load_font(struct cert_renderer *r, HPDF_Doc pdf)
{
	const char *name = r->full_font
		? HPDF_LoadTTFontFromFile2(pdf, r->font_path, (HPDF_UINT)r->font_face, HPDF_TRUE)
		: HPDF_LoadTTFontFromFile(pdf, r->memfd_path, HPDF_TRUE);
	HPDF_Font font = name ? HPDF_GetFont(pdf, name, "UTF-8") : NULL;
	if (font && add_tounicode(pdf, font, r->list.used))
		return NULL;
	return font;
}

/* issued_on "YYYY-MM-DD" becomes the CreationDate, so equal documents give equal bytes. */
static int set_info(HPDF_Doc pdf, const struct cert_doc *doc, struct ml_error *err)
{
	HPDF_Date d = { 0 };
	char tail;
	if (!doc->issued_on || sscanf(doc->issued_on, "%4d-%2d-%2d%c", &d.year, &d.month, &d.day, &tail) != 3 ||
	    d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31)
		return ml_errorf(err, ML_EINVAL, "certificate %s: issued_on '%s' is not YYYY-MM-DD", doc->cert_no,
				 doc->issued_on ? doc->issued_on : "(null)");
	d.ind = '+';
	d.off_hour = 8; /* China Standard Time */
	HPDF_SetInfoDateAttr(pdf, HPDF_INFO_CREATION_DATE, d);
	HPDF_SetInfoAttr(pdf, HPDF_INFO_TITLE, doc->cert_no);
	HPDF_SetInfoAttr(pdf, HPDF_INFO_CREATOR, "meterlab");
	return ML_OK;
}

static void draw_graphics(HPDF_Page page, const struct rl_list *l, int p)
{
	int fills = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct rl_op *op = &l->ops[i];
		if (op->page != p)
			continue;
		if (op->kind == RL_SHADE) {
			HPDF_Page_SetGrayFill(page, 0.9f);
			HPDF_Page_Rectangle(page, op->x, op->y, op->w, op->h);
			HPDF_Page_Fill(page);
		} else if (op->kind == RL_LINE) {
			HPDF_Page_SetLineWidth(page, op->lw);
			HPDF_Page_MoveTo(page, op->x, op->y);
			HPDF_Page_LineTo(page, op->w, op->h);
			HPDF_Page_Stroke(page);
		} else if (op->kind == RL_RECT) {
			HPDF_Page_SetLineWidth(page, op->lw);
			HPDF_Page_Rectangle(page, op->x, op->y, op->w, op->h);
			HPDF_Page_Stroke(page);
		}
	}
	HPDF_Page_SetGrayFill(page, 0.0f);
	for (size_t i = 0; i < l->n; i++) { /* QR modules: one path, one fill */
		const struct rl_op *op = &l->ops[i];
		if (op->page == p && op->kind == RL_FILL) {
			HPDF_Page_Rectangle(page, op->x, op->y, op->w, op->h);
			fills++;
		}
	}
	if (fills)
		HPDF_Page_Fill(page);
}

static void draw_text(HPDF_Page page, HPDF_Font font, const struct rl_list *l, int p)
{
	float size = 0;
	int bold = 0;
	HPDF_Page_BeginText(page);
	HPDF_Page_SetLineWidth(page, 0.35f);
	for (size_t i = 0; i < l->n; i++) {
		const struct rl_op *op = &l->ops[i];
		if (op->page != p || (op->kind != RL_TEXT && op->kind != RL_TEXTB))
			continue;
		if (op->h != size) {
			size = op->h;
			HPDF_Page_SetFontAndSize(page, font, size);
		}
		if ((op->kind == RL_TEXTB) != bold) {
			bold = op->kind == RL_TEXTB;
			HPDF_Page_SetTextRenderingMode(page, bold ? HPDF_FILL_THEN_STROKE : HPDF_FILL);
		}
		HPDF_Page_TextOut(page, op->x, op->y, rl_text(l, op));
	}
	HPDF_Page_EndText(page);
}

static int save(HPDF_Doc pdf, struct ml_buf *out, struct hpdf_err *he)
{
	if (HPDF_SaveToStream(pdf) != HPDF_OK || he->code)
		return -1;
	HPDF_UINT32 size = HPDF_GetStreamSize(pdf);
	size_t at = out->len;
	/* Grow the caller's buffer to the final size, then let libharu copy into it. */
	static const char zeros[4096];
	for (HPDF_UINT32 left = size; left;) {
		HPDF_UINT32 n = left < sizeof zeros ? left : (HPDF_UINT32)sizeof zeros;
		if (ml_buf_append(out, zeros, n))
			return -2;
		left -= n;
	}
	HPDF_UINT32 got = size;
	if (HPDF_ReadFromStream(pdf, (HPDF_BYTE *)out->data + at, &got) != HPDF_OK || got != size || he->code) {
		out->len = at;
		out->data[at] = '\0';
		return -1;
	}
	return 0;
}

static int emit(struct cert_renderer *r, HPDF_Doc pdf, struct hpdf_err *he, const struct cert_doc *doc,
		struct ml_buf *out, struct ml_error *err)
{
	HPDF_SetCompressionMode(pdf, HPDF_COMP_ALL); /* before GetFont: the font filter is fixed there */
	HPDF_UseUTFEncodings(pdf);
	HPDF_SetCurrentEncoder(pdf, "UTF-8");
	HPDF_Font font = load_font(r, pdf);
	if (!font || he->code)
		return hpdf_fail(err, doc, he, "loading the font");
	int rc = set_info(pdf, doc, err);
	if (rc)
		return rc;
	for (int p = 0; p < r->list.pages; p++) {
		HPDF_Page page = HPDF_AddPage(pdf);
		if (!page || HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT) != HPDF_OK)
			return hpdf_fail(err, doc, he, "adding a page");
		draw_graphics(page, &r->list, p);
		draw_text(page, font, &r->list, p);
		if (he->code)
			return hpdf_fail(err, doc, he, "drawing a page");
	}
	int s = save(pdf, out, he);
	if (s == -2)
		return ml_errorf(err, ML_ENOMEM, "certificate %s: PDF exceeds the output buffer", doc->cert_no);
	return s ? hpdf_fail(err, doc, he, "writing the PDF") : ML_OK;
}

int cert_render(struct cert_renderer *r, const struct cert_doc *doc, struct ml_buf *pdf, struct ml_error *err)
{
	if (!r || !doc || !pdf)
		return ml_errorf(err, ML_EINVAL, "cert_render: NULL argument");
	int rc = rl_layout_cert(&r->list, doc, r->font, err);
	if (rc)
		return rc;
	if (!r->full_font && (rc = write_subset(r, err)))
		return rc;
	struct hpdf_err he = { 0, 0 };
	HPDF_Doc h = HPDF_New(on_hpdf_error, &he);
	if (!h)
		return ml_errorf(err, ML_ENOMEM, "certificate %s: HPDF_New failed", doc->cert_no);
	rc = emit(r, h, &he, doc, pdf, err);
	HPDF_Free(h);
	return rc;
}
