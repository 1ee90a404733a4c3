/*
 * cert_render.c — certificate PDF renderer (contract: cert_doc.h).
 *
 * Per document: lay out into a display list (render_layout.c), build a
 * TrueType subset holding the glyphs the document uses (ttf_font.c; and
 * the verification code's alphabet, below),
 * write it to a memfd, and let libharu 2.3.0 load it from /proc/self/fd/N
 * (2.3.0 loads fonts only from a path) with embedding on.
 *
 * Text goes through a per-document "dense" CMap encoder instead of
 * libharu's UTF-8 encoder: the document's N distinct characters get the
 * 2-byte codes 0x0101, 0x0102, ... (code = CID, Identity-H). With the UTF-8
 * encoder the CIDs are Unicode code points, so HPDF_GetFont walks all 65,536
 * of them (cmap lookups, /W) and every PDF carries a 128 KB CIDToGIDMap
 * whose compression alone costs ~12 M instructions; with dense codes both
 * shrink to the ~300 codes in use (callgrind figures in reports/README.md).
 * The ToUnicode CMap is written here (code -> Unicode, bfchar), so text
 * extraction and search stay exact. The naive baseline (opts->full_font)
 * uses the stock UTF-8 path on the whole face, as tech-notes.md §3.2 shows.
 *
 * The font program (the embedded subset, deflated) is kept per renderer
 * for the last few subsets (font_program()): certificates of one run
 * share it, which halves a render; the verification code's whole alphabet
 * is in every subset so that its random letters do not split them.
 *
 * libharu errors are recorded by the handler into a context (no longjmp)
 * and checked after each section. Determinism (tech-notes §3.6):
 * CreationDate comes from doc->issued_on, no encryption, no PDF/A.
 */
#include "reports/cert_doc.h"

#include <errno.h>
#include <hpdf.h>
#include <hpdf_conf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "reports/cert_verify.h"
#include "reports/render_layout.h"
#include "reports/ttf_font.h"

/*
 * This file fills libharu structures directly (the CMap encoder tables of
 * hpdf_encoder.h, the TrueType glyph flags of hpdf_fontdef.h, pdf->mmgr and
 * pdf->xref), stands in for the Type0 font's before-write function of
 * hpdf_font_cid.c (font_before_write) and works around 2.3.0 bugs (highest CID dropped, begincidrange
 * ToUnicode, one-level composites). Another version may lay those structs
 * out differently or fix the bugs: re-check tech-notes.md §3 and the render
 * tests before allowing it here.
 */
#if HPDF_VERSION_ID != 20300
#error "reports/cert_render.c relies on libharu 2.3.0 internals"
#endif

#define ML_DEFAULT_FONT "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

/*
 * The embedded font program (FontFile2) of a subset, as libharu 2.3.0
 * writes it: HPDF_TTFontDef_SaveFontData's TrueType file, deflated the way
 * HPDF_Stream_WriteToStreamWithDeflate deflates. Making it is most of a
 * render (a 58 KB program: ~1.9 ms of deflate and ~6.6 M instructions of
 * copying and checksumming 4 bytes at a time), and the certificates of one
 * run, one customer and one model use the same characters, so the same
 * subset: each renderer keeps the programs of its last FONT_CACHE_N
 * subsets, keyed by the subset's bytes and libharu's subset tag. A document
 * gets the same bytes from the cache as a new renderer gives it, and those
 * are the bytes libharu's own path writes (checked by the render tests:
 * RenderPdfMore.FontProgramCacheGivesTheBytesOfANewRenderer, and the golden
 * hash, which this cache left unchanged).
 */
#define FONT_CACHE_N 4

struct font_prog {
	struct ml_buf key; /* the subset TrueType file the program was made from */
	char tag[HPDF_TTF_FONT_TAG_LEN + 1];
	struct ml_buf z;    /* the program, deflated */
	HPDF_UINT length1;  /* its size before deflating (/Length1) */
	unsigned long used; /* LRU clock */
};

struct cert_renderer {
	struct ttf_font *font;
	char *font_path;
	int font_face;
	int full_font; /* baseline: embed via libharu's own loader */
	int memfd;     /* holds the current subset font */
	char memfd_path[64];
	struct ml_buf subset;
	struct rl_list list;
	uint16_t *code_of; /* BMP code point -> dense code for this document (0 = unused) */
	uint16_t *cps;     /* code index -> code point, n_codes entries */
	size_t n_codes;
	struct ml_buf text; /* one text run converted to dense codes */
	struct font_prog progs[FONT_CACHE_N];
	unsigned long clock, prog_hits, prog_misses;
	HPDF_Dict_BeforeWriteFunc libharu_font_write; /* CIDFontType2_BeforeWrite_Func */
};

#define ML_DENSE_ENCODER "ML-Dense-H"

/* What the libharu error handler records. */
struct hpdf_err {
	HPDF_STATUS code, detail;
	struct cert_renderer *r; /* the renderer of the document (font hook) */
};

static void on_hpdf_error(HPDF_STATUS code, HPDF_STATUS detail, void *user)
{
	struct hpdf_err *e = user;
	if (!e->code) {
		e->code = code;
		e->detail = detail;
	}
}

int cert_renderer_new(const struct cert_render_opts *opts, struct cert_renderer **out,
		      struct ml_error *err)
{
	*out = NULL;
	struct cert_renderer *r = calloc(1, sizeof *r);
	if (!r)
		return ml_errorf(err, ML_ENOMEM, "renderer: out of memory");
	r->memfd = -1;
	rl_list_init(&r->list);
	ml_buf_init(&r->subset, 64u << 20);
	ml_buf_init(&r->text, 1u << 20);
	for (int i = 0; i < FONT_CACHE_N; i++) {
		ml_buf_init(&r->progs[i].key, 64u << 20);
		ml_buf_init(&r->progs[i].z, 64u << 20);
	}
	r->code_of = calloc(65536, sizeof *r->code_of);
	r->cps = calloc(65536, sizeof *r->cps);
	const char *path = opts && opts->font_path ? opts->font_path : ML_DEFAULT_FONT;
	r->font_face = opts ? opts->font_face : 0;
	r->full_font = opts ? opts->full_font : 0;
	r->font_path = strdup(path);
	int rc;
	if (!r->font_path || !r->code_of || !r->cps) {
		rc = ml_errorf(err, ML_ENOMEM, "renderer: out of memory");
		goto fail;
	}
	if ((rc = ttf_font_open(path, r->font_face, &r->font, err)))
		goto fail;
	if (!r->full_font) {
		r->memfd = memfd_create("meterlab-cert-font", MFD_CLOEXEC);
		if (r->memfd < 0) {
			char eb[128];
			rc = ml_errorf(err, ML_EIO, "renderer: memfd_create: %s",
				       ml_errno_str(errno, eb, sizeof eb));
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
	ml_buf_free(&r->text);
	for (int i = 0; i < FONT_CACHE_N; i++) {
		ml_buf_free(&r->progs[i].key);
		ml_buf_free(&r->progs[i].z);
	}
	rl_list_free(&r->list);
	free(r->code_of);
	free(r->cps);
	free(r);
}

void cert_renderer_font_stats(const struct cert_renderer *r, unsigned long *hits,
			      unsigned long *misses)
{
	*hits = r ? r->prog_hits : 0;
	*misses = r ? r->prog_misses : 0;
}

static int hpdf_fail(struct ml_error *err, const struct cert_doc *doc, const struct hpdf_err *he,
		     const char *what)
{
	return ml_errorf(err, ML_EPDF, "certificate %s: libharu error 0x%04X (detail %u) while %s",
			 doc->cert_no, (unsigned)he->code, (unsigned)he->detail, what);
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
		return ml_errorf(err, ML_EIO, "renderer: ftruncate font memfd: %s",
				 ml_errno_str(errno, eb, sizeof eb));
	size_t off = 0;
	while (off < r->subset.len) {
		ssize_t n = pwrite(r->memfd, r->subset.data + off, r->subset.len - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ml_errorf(err, ML_EIO, "renderer: write font memfd: %s",
					 ml_errno_str(errno, eb, sizeof eb));
		off += (size_t)n;
	}
	return ML_OK;
}

/*
 * The verification code is the one text whose characters differ by chance
 * between the certificates of one run (HMAC letters, cert_verify.c): its
 * whole alphabet goes into every subset, so those certificates have the
 * same subset and share the renderer's font program (font_program(); the
 * unused letters cost a PDF about 0.6 KB: bench_cert's median 47.7 ->
 * 48.3 KB).
 */
static void use_vcode_alphabet(struct rl_list *l, const struct cert_doc *doc)
{
	if (!doc->verify_code || !*doc->verify_code)
		return;
	for (const char *c = cert_vcode_alphabet; *c; c++)
		l->used[(unsigned char)*c >> 3] |= (uint8_t)(1u << (*c & 7));
	l->used['-' >> 3] |= (uint8_t)(1u << ('-' & 7));
}

/*
 * Dense codes: both bytes non-zero (libharu takes text as a C string) and
 * code == CID under Identity-H. Code index k -> 0x0101 + k split in base 255.
 */
static uint16_t dense_code(size_t k)
{
	return (uint16_t)((k / 255 + 1) << 8 | (k % 255 + 1));
}

/*
 * Number the characters of this document in code point order. One extra
 * code (a space) comes last because libharu 2.3.0 writes CIDToGIDMap and /W
 * only for CIDs below the highest one (`for (i = 0; i < max; i++)` in
 * CIDFontType2_New), so the highest CID would lose its glyph.
 */
static void assign_codes(struct cert_renderer *r)
{
	for (size_t k = 0; k < r->n_codes; k++)
		r->code_of[r->cps[k]] = 0;
	r->n_codes = 0;
	for (uint32_t cp = 1; cp < 0xFFFF; cp++) {
		if (!r->list.used[cp >> 3]) {
			cp |= 7;
			continue;
		}
		if (r->list.used[cp >> 3] >> (cp & 7) & 1) {
			r->code_of[cp] = dense_code(r->n_codes);
			r->cps[r->n_codes++] = (uint16_t)cp;
		}
	}
	r->cps[r->n_codes] =
		0x20; /* sentinel; code_of[0x20] keeps the real code if a space is used */
}

/* Lead byte then trail byte, always: every dense code is two bytes. */
static HPDF_ByteType dense_byte_type(HPDF_Encoder e, HPDF_ParseText_Rec *st)
{
	(void)e;
	HPDF_ByteType t = st->index % 2 == 0 ? HPDF_BYTE_TYPE_LEAD : HPDF_BYTE_TYPE_TRIAL;
	st->index++;
	return t;
}

/*
 * A CMap encoder filled directly (hpdf_encoder.h exposes the tables;
 * cid_map/unicode_map are indexed [low byte][high byte], as
 * HPDF_CMapEncoder_AddCMap/ToUnicode do). Ordering "Identity-H" makes
 * 2.3.0 write /Encoding /Identity-H, the same as for its UTF-8 encoder.
 */
static int register_dense_encoder(struct cert_renderer *r, HPDF_Doc pdf)
{
	HPDF_Encoder e = HPDF_CMapEncoder_New(pdf->mmgr, (char *)ML_DENSE_ENCODER, NULL);
	if (!e)
		return -1;
	if (HPDF_CMapEncoder_InitAttr(e) != HPDF_OK) {
		HPDF_Encoder_Free(e);
		return -1;
	}
	HPDF_CMapEncoderAttr a = (HPDF_CMapEncoderAttr)e->attr;
	for (size_t k = 0; k <= r->n_codes; k++) {
		uint16_t c = dense_code(k);
		a->cid_map[c & 0xFF][c >> 8] = c;
		a->unicode_map[c & 0xFF][c >> 8] = r->cps[k];
	}
	snprintf(a->registry, sizeof a->registry, "Adobe");
	snprintf(a->ordering, sizeof a->ordering, "Identity-H");
	a->suppliment = 0;
	a->writing_mode = HPDF_WMODE_HORIZONTAL;
	e->byte_type_fn = dense_byte_type;
	e->type = HPDF_ENCODER_TYPE_DOUBLE_BYTE;
	return HPDF_Doc_RegisterEncoder(pdf, e) == HPDF_OK ? 0 : -1;
}

/* One "<code> <unicode>" bfchar line, or for the UTF-8 path an identity bfrange over a 256-code block. */
static HPDF_STATUS cmap_entries(HPDF_Stream st, const struct cert_renderer *r,
				const uint16_t *blocks, size_t n)
{
	char line[64];
	HPDF_STATUS rc = HPDF_OK;
	for (size_t i = 0; i < n && rc == HPDF_OK; i += 100) { /* at most 100 entries per section */
		size_t m = n - i < 100 ? n - i : 100;
		snprintf(line, sizeof line, "%zu %s\n", m,
			 r->full_font ? "beginbfrange" : "beginbfchar");
		rc = HPDF_Stream_WriteStr(st, line);
		for (size_t k = i; k < i + m && rc == HPDF_OK; k++) {
			if (r->full_font)
				snprintf(line, sizeof line, "<%02X00> <%02XFF> <%02X00>\n",
					 blocks[k], blocks[k], blocks[k]);
			else
				snprintf(line, sizeof line, "<%04X> <%04X>\n", dense_code(k),
					 r->cps[k]);
			rc = HPDF_Stream_WriteStr(st, line);
		}
		if (rc == HPDF_OK)
			rc = HPDF_Stream_WriteStr(st,
						  r->full_font ? "endbfrange\n" : "endbfchar\n");
	}
	return rc;
}

/*
 * libharu 2.3.0 attaches as /ToUnicode the encoder's code->CID CMap (a
 * "begincidrange" map), which is not a ToUnicode CMap: poppler warns
 * "Invalid 'begincidrange' operator in ToUnicode CMap". Write a real one
 * (PDF 32000-1 §9.10.3): code -> Unicode per character for dense codes; for
 * the UTF-8 path (code = code point) an identity bfrange per 256-code block
 * used (a bfrange may not cross a block). The superseded stream stays as an
 * unreferenced object of a few hundred bytes.
 */
static int add_tounicode(const struct cert_renderer *r, HPDF_Doc pdf, HPDF_Font font)
{
	uint16_t blocks[256];
	size_t nb = 0;
	for (int b = 0; b < 256 && r->full_font; b++) {
		int any = 0;
		for (int k = 0; k < 32 && !any; k++)
			any = r->list.used[b * 32 + k] != 0;
		if (any && (b < 0xD8 || b > 0xDF)) /* no surrogate blocks */
			blocks[nb++] = (uint16_t)b;
	}
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
	if (rc == HPDF_OK)
		rc = cmap_entries(tu->stream, r, blocks, r->full_font ? nb : r->n_codes);
	if (rc == HPDF_OK)
		rc = HPDF_Stream_WriteStr(
			tu->stream,
			"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
	if (rc == HPDF_OK)
		rc = HPDF_Dict_Add(font, "ToUnicode", tu);
	return rc == HPDF_OK ? 0 : -1;
}

/*
 * libharu embeds only glyphs it flagged while measuring text, plus the
 * direct components of those (CheckCompositGryph, one level): a component
 * of a nested composite (wqy-zenhei U+2237 ∷, U+226F ≯) would be written
 * empty. Every glyph of our subset is needed by construction, so flag them
 * all (hpdf_fontdef.h exposes the table).
 */
static void embed_every_glyph(HPDF_Font font)
{
	HPDF_FontDef def = ((HPDF_FontAttr)font->attr)->fontdef;
	HPDF_TTFontDefAttr a = (HPDF_TTFontDefAttr)def->attr;
	memset(a->glyph_tbl.flgs, 1, a->num_glyphs);
}

/* One deflate() into a fresh out, appended to z (*zr: deflate's answer). */
static HPDF_STATUS deflate_step(z_stream *s, int flush, Bytef *out, unsigned cap, struct ml_buf *z,
				int *zr)
{
	s->next_out = out;
	s->avail_out = cap;
	*zr = deflate(s, flush);
	if (*zr != Z_OK && *zr != Z_STREAM_END && *zr != Z_BUF_ERROR)
		return HPDF_ZLIB_ERROR;
	return ml_buf_append(z, (const char *)out, cap - s->avail_out) ? HPDF_FAILD_TO_ALLOC_MEM
								       : HPDF_OK;
}

/* Deflate src (a libharu memory stream) into z as HPDF_Stream_WriteToStreamWithDeflate does. */
static HPDF_STATUS deflate_like_libharu(HPDF_Stream src, struct ml_buf *z)
{
	enum {
		IN = HPDF_STREAM_BUF_SIZ,
		OUT = (int)(HPDF_STREAM_BUF_SIZ * 1.1) + 13
	};
	Bytef in[IN], out[OUT];
	z_stream s;
	memset(&s, 0, sizeof s);
	if (HPDF_Stream_Seek(src, 0, HPDF_SEEK_SET) != HPDF_OK ||
	    deflateInit(&s, Z_DEFAULT_COMPRESSION) != Z_OK)
		return HPDF_ZLIB_ERROR;
	HPDF_STATUS rc = HPDF_OK;
	int zr = Z_OK, done = 0;
	/* the same 4 KB reads, Z_NO_FLUSH, then Z_FINISH: the same bytes */
	while (!done && rc == HPDF_OK) {
		HPDF_UINT n = IN;
		HPDF_STATUS st = HPDF_Stream_Read(src, in, &n);
		if (st == HPDF_STREAM_EOF)
			done = 1;
		else if (st != HPDF_OK)
			rc = st;
		s.next_in = in;
		s.avail_in = rc == HPDF_OK ? n : 0;
		while (s.avail_in > 0 && rc == HPDF_OK)
			rc = deflate_step(&s, Z_NO_FLUSH, out, OUT, z, &zr);
	}
	while (rc == HPDF_OK && zr != Z_STREAM_END)
		rc = deflate_step(&s, Z_FINISH, out, OUT, z, &zr);
	deflateEnd(&s);
	return rc;
}

/*
 * The program of the current subset (r->subset), from the cache or made
 * and cached (the least recently used entry is replaced); NULL when making
 * it failed (*st says why). The entry stays owned by r.
 */
static const struct font_prog *font_program(struct cert_renderer *r, HPDF_FontDef def,
					    HPDF_STATUS *st)
{
	HPDF_TTFontDefAttr da = (HPDF_TTFontDefAttr)def->attr;
	struct font_prog *victim = &r->progs[0];
	r->clock++;
	for (int i = 0; i < FONT_CACHE_N; i++) {
		struct font_prog *p = &r->progs[i];
		if (p->z.len && p->key.len == r->subset.len &&
		    !memcmp(p->tag, da->tag_name, sizeof p->tag) &&
		    !memcmp(p->key.data, r->subset.data, r->subset.len)) {
			p->used = r->clock;
			r->prog_hits++;
			return p;
		}
		if (p->used < victim->used)
			victim = p;
	}
	r->prog_misses++;
	ml_buf_reset(&victim->key);
	ml_buf_reset(&victim->z);
	victim->used = 0;
	HPDF_Stream raw = HPDF_MemStream_New(def->mmgr, HPDF_STREAM_BUF_SIZ);
	if (!raw) {
		*st = HPDF_FAILD_TO_ALLOC_MEM;
		return NULL;
	}
	*st = HPDF_TTFontDef_SaveFontData(def, raw); /* sets da->length1 */
	if (*st == HPDF_OK)
		*st = deflate_like_libharu(raw, &victim->z);
	HPDF_Stream_Free(raw);
	if (*st == HPDF_OK &&
	    ml_buf_append(&victim->key, (const char *)r->subset.data, r->subset.len))
		*st = HPDF_FAILD_TO_ALLOC_MEM;
	if (*st != HPDF_OK) {
		ml_buf_reset(&victim->z); /* not a valid entry */
		return NULL;
	}
	memcpy(victim->tag, da->tag_name, sizeof victim->tag);
	victim->length1 = da->length1;
	victim->used = r->clock;
	return victim;
}

/*
 * Where libharu writes the stream's /Filter (after the other entries), for
 * a stream whose data is already deflated: its filter is NONE so libharu
 * copies the bytes, and would drop a /Filter entry.
 */
static HPDF_STATUS write_flate_filter(HPDF_Dict obj, HPDF_Stream stream)
{
	(void)obj;
	return HPDF_Stream_WriteStr(stream, "/Filter [ /FlateDecode ]\012");
}

/*
 * The Type0 font's before-write, in place of libharu's
 * CIDFontType2_BeforeWrite_Func (hpdf_font_cid.c of 2.3.0): the font
 * descriptor made as that function makes it — the same objects in the same
 * order, so the same object numbers — with the FontFile2 data taken from
 * font_program(); then libharu's function, which finds the descriptor made
 * and does the rest (filters of the CMap streams, BaseFont, the descendant's
 * FontDescriptor).
 */
static HPDF_STATUS font_before_write(HPDF_Dict obj)
{
	struct hpdf_err *he = obj->error->user_data;
	struct cert_renderer *r = he->r;
	HPDF_FontAttr fa = (HPDF_FontAttr)obj->attr;
	HPDF_FontDef def = fa->fontdef;
	HPDF_TTFontDefAttr da = (HPDF_TTFontDefAttr)def->attr;
	if (!def->descriptor && da->embedding && (obj->filter & HPDF_STREAM_FILTER_FLATE_DECODE)) {
		HPDF_Dict descriptor = HPDF_Dict_New(obj->mmgr);
		if (!descriptor)
			return HPDF_Error_GetCode(obj->error);
		/* font_data joins the xref (freed with the document), descriptor not yet */
		HPDF_Dict font_data = HPDF_DictStream_New(obj->mmgr, fa->xref);
		HPDF_STATUS st = HPDF_OK;
		const struct font_prog *p = font_data ? font_program(r, def, &st) : NULL;
		if (!p) {
			HPDF_Dict_Free(descriptor);
			return font_data ? HPDF_SetError(obj->error, st, 0)
					 : HPDF_Error_GetCode(obj->error);
		}
		da->length1 = p->length1;
		HPDF_STATUS ret = HPDF_Stream_Write(font_data->stream, (const HPDF_BYTE *)p->z.data,
						    (HPDF_UINT)p->z.len);
		ret += HPDF_Dict_Add(descriptor, "FontFile2", font_data);
		ret += HPDF_Dict_AddNumber(font_data, "Length1", (HPDF_INT32)da->length1);
		ret += HPDF_Dict_AddNumber(font_data, "Length2", 0);
		ret += HPDF_Dict_AddNumber(font_data, "Length3", 0);
		font_data->filter = HPDF_STREAM_FILTER_NONE;
		font_data->write_fn = write_flate_filter;
		ret += HPDF_Xref_Add(fa->xref, descriptor);
		ret += HPDF_Dict_AddName(descriptor, "Type", "FontDescriptor");
		ret += HPDF_Dict_AddNumber(descriptor, "Ascent", def->ascent);
		ret += HPDF_Dict_AddNumber(descriptor, "Descent", def->descent);
		ret += HPDF_Dict_AddNumber(descriptor, "Flags", (HPDF_INT32)def->flags);
		ret += HPDF_Dict_Add(descriptor, "FontBBox",
				     HPDF_Box_Array_New(obj->mmgr, def->font_bbox));
		ret += HPDF_Dict_AddName(descriptor, "FontName", da->base_font);
		ret += HPDF_Dict_AddNumber(descriptor, "ItalicAngle", def->italic_angle);
		ret += HPDF_Dict_AddNumber(descriptor, "StemV", def->stemv);
		ret += HPDF_Dict_AddNumber(descriptor, "XHeight", def->x_height);
		if (ret != HPDF_OK)
			return HPDF_Error_GetCode(obj->error);
		def->descriptor = descriptor;
	}
	return r->libharu_font_write(obj);
}

static HPDF_Font load_font(struct cert_renderer *r, HPDF_Doc pdf)
{
	const char *name = r->full_font
				   ? HPDF_LoadTTFontFromFile2(pdf, r->font_path,
							      (HPDF_UINT)r->font_face, HPDF_TRUE)
				   : HPDF_LoadTTFontFromFile(pdf, r->memfd_path, HPDF_TRUE);
	if (!name || (!r->full_font && register_dense_encoder(r, pdf)))
		return NULL;
	HPDF_Font font = HPDF_GetFont(pdf, name, r->full_font ? "UTF-8" : ML_DENSE_ENCODER);
	if (font && add_tounicode(r, pdf, font))
		return NULL;
	if (font && !r->full_font) {
		embed_every_glyph(font);
		r->libharu_font_write = font->before_write_fn;
		if (r->libharu_font_write)
			font->before_write_fn = font_before_write;
	}
	return font;
}

/* The text run as dense codes (NUL-terminated); NULL when out of memory. */
static const char *dense_text(struct cert_renderer *r, const char *s)
{
	ml_buf_reset(&r->text);
	while (*s) {
		uint32_t cp = ttf_utf8_next(&s);
		uint16_t c = r->code_of[cp >= 0xFFFF ? 0x20 : cp];
		char b[2] = { (char)(c >> 8), (char)(c & 0xFF) };
		if (ml_buf_append(&r->text, b, 2))
			return NULL;
	}
	return ml_buf_str(&r->text);
}

static int ascii_printable(const char *s)
{
	for (; *s; s++) {
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	}
	return 1;
}

/* issued_on "YYYY-MM-DD" becomes the CreationDate, so equal documents give equal bytes. */
static int set_info(HPDF_Doc pdf, const struct cert_doc *doc, struct ml_error *err)
{
	HPDF_Date d = { 0 };
	char tail;
	if (!doc->issued_on ||
	    sscanf(doc->issued_on, "%4d-%2d-%2d%c", &d.year, &d.month, &d.day, &tail) != 3 ||
	    d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31)
		return ml_errorf(err, ML_EINVAL, "certificate %s: issued_on '%s' is not YYYY-MM-DD",
				 doc->cert_no, doc->issued_on ? doc->issued_on : "(null)");
	d.ind = '+';
	d.off_hour = 8; /* China Standard Time */
	HPDF_SetInfoDateAttr(pdf, HPDF_INFO_CREATION_DATE, d);
	HPDF_SetInfoAttr(pdf, HPDF_INFO_TITLE, doc->cert_no);
	HPDF_SetInfoAttr(pdf, HPDF_INFO_CREATOR, "meterlab");
	/* The QR payload (number, revision, barcode, verification code) also
	 * goes into /Keywords as a plain literal, so cert_verify_pdf can name
	 * the claimed certificate of a file whose bytes were altered. Only a
	 * printable-ASCII payload (what cert_qr_payload makes): libharu writes
	 * the bytes as they are. */
	if (doc->qr_payload && *doc->qr_payload && ascii_printable(doc->qr_payload))
		HPDF_SetInfoAttr(pdf, HPDF_INFO_KEYWORDS, doc->qr_payload);
	return ML_OK;
}

/* QR modules: one scaled path of integer rectangles, one fill. */
static void draw_qr(HPDF_Page page, const struct rl_list *l, int p)
{
	const struct rl_op *frame = NULL;
	for (size_t i = 0; i < l->n && !frame; i++)
		if (l->ops[i].page == p && l->ops[i].kind == RL_QR)
			frame = &l->ops[i];
	if (!frame)
		return;
	HPDF_Page_GSave(page);
	HPDF_Page_Concat(page, frame->w, 0, 0, frame->w, frame->x, frame->y);
	for (size_t i = 0; i < l->n; i++) {
		const struct rl_op *op = &l->ops[i];
		if (op->page == p && op->kind == RL_FILL)
			HPDF_Page_Rectangle(page, op->x, op->y, op->w, op->h);
	}
	HPDF_Page_Fill(page);
	HPDF_Page_GRestore(page);
}

static void draw_graphics(HPDF_Page page, const struct rl_list *l, int p)
{
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
	draw_qr(page, l, p);
}

/* Returns -1 when a text run could not be converted (out of memory). */
static int draw_text(struct cert_renderer *r, HPDF_Page page, HPDF_Font font, int p)
{
	int rc = 0;
	const struct rl_list *l = &r->list;
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
			HPDF_Page_SetTextRenderingMode(page,
						       bold ? HPDF_FILL_THEN_STROKE : HPDF_FILL);
		}
		const char *t = r->full_font ? rl_text(l, op) : dense_text(r, rl_text(l, op));
		if (t)
			HPDF_Page_TextOut(page, op->x, op->y, t);
		else
			rc = -1;
	}
	HPDF_Page_EndText(page);
	return rc;
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
		if (ml_buf_append(out, zeros, n)) {
			out->len = at; /* nothing appended on failure */
			if (out->data)
				out->data[at] = '\0';
			return -2;
		}
		left -= n;
	}
	HPDF_UINT32 got = size;
	if (HPDF_ReadFromStream(pdf, (HPDF_BYTE *)out->data + at, &got) != HPDF_OK || got != size ||
	    he->code) {
		out->len = at;
		out->data[at] = '\0';
		return -1;
	}
	return 0;
}

static int ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static int emit(struct cert_renderer *r, HPDF_Doc pdf, struct hpdf_err *he,
		const struct cert_doc *doc, struct ml_buf *out, struct ml_error *err)
{
	HPDF_SetCompressionMode(pdf,
				HPDF_COMP_ALL); /* before GetFont: the font filter is fixed there */
	/*
	 * The UTF-8 encoder is needed for the baseline's text, and as the
	 * current encoder so a non-ASCII Info string (the title is the
	 * certificate number) is written as UTF-16 (libharu #282); its setup
	 * costs ~1.4 M instructions, so skip it when the title is ASCII.
	 */
	if (r->full_font || !ascii(doc->cert_no)) {
		HPDF_UseUTFEncodings(pdf);
		HPDF_SetCurrentEncoder(pdf, "UTF-8");
	}
	HPDF_Font font = load_font(r, pdf);
	if (!font || he->code)
		return hpdf_fail(err, doc, he, "loading the font");
	int rc = set_info(pdf, doc, err);
	if (rc)
		return rc;
	for (int p = 0; p < r->list.pages; p++) {
		HPDF_Page page = HPDF_AddPage(pdf);
		if (!page ||
		    HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT) != HPDF_OK)
			return hpdf_fail(err, doc, he, "adding a page");
		draw_graphics(page, &r->list, p);
		if (draw_text(r, page, font, p))
			return ml_errorf(err, ML_ENOMEM,
					 "certificate %s: out of memory converting text",
					 doc->cert_no);
		if (he->code)
			return hpdf_fail(err, doc, he, "drawing a page");
	}
	int s = save(pdf, out, he);
	if (s == -2)
		return ml_errorf(err, ML_ENOMEM, "certificate %s: PDF exceeds the output buffer",
				 doc->cert_no);
	return s ? hpdf_fail(err, doc, he, "writing the PDF") : ML_OK;
}

int cert_render(struct cert_renderer *r, const struct cert_doc *doc, struct ml_buf *pdf,
		struct ml_error *err)
{
	if (!r || !doc || !pdf)
		return ml_errorf(err, ML_EINVAL, "cert_render: NULL argument");
	int rc = rl_layout_cert(&r->list, doc, r->font, err);
	if (rc)
		return rc;
	if (!r->full_font) {
		use_vcode_alphabet(&r->list, doc);
		if ((rc = write_subset(r, err)))
			return rc;
		assign_codes(r);
	}
	struct hpdf_err he = { 0, 0, r };
	HPDF_Doc h = HPDF_New(on_hpdf_error, &he);
	if (!h)
		return ml_errorf(err, ML_ENOMEM, "certificate %s: HPDF_New failed", doc->cert_no);
	rc = emit(r, h, &he, doc, pdf, err);
	HPDF_Free(h);
	return rc;
}
