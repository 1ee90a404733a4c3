/*
 * ttf_font.c — TrueType face parsing and subsetting (see ttf_font.h).
 *
 * Table layouts follow the OpenType specification (ISO/IEC 14496-22):
 * sfnt/TTC headers §4.5, cmap formats 4 and 12 §5.2.1, head, hhea, hmtx,
 * maxp, loca, glyf (composite glyph flags §5.3.3), name, post.
 * Every read from the mapped file is bounds-checked against the file size.
 */
#include "reports/ttf_font.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	T_OS2,
	T_CMAP,
	T_CVT,
	T_FPGM,
	T_GLYF,
	T_HEAD,
	T_HHEA,
	T_HMTX,
	T_LOCA,
	T_MAXP,
	T_NAME,
	T_POST,
	T_PREP,
	T_COUNT
};

/* Sorted by tag (the sfnt directory must be sorted), same order libharu writes. */
static const char TAGS[T_COUNT][5] = {
	"OS/2", "cmap", "cvt ", "fpgm", "glyf", "head", "hhea",
	"hmtx", "loca", "maxp", "name", "post", "prep",
};

struct table {
	const uint8_t *p; /* NULL when absent */
	uint32_t len;
};

struct ttf_font {
	uint8_t *map; /* whole file, read-only mapping */
	size_t map_len;
	struct table t[T_COUNT];
	uint16_t num_glyphs, num_hmetrics, upem;
	int long_loca;
	uint16_t *cmap;  /* 65,536 entries: BMP code point -> glyph id */
	uint16_t *remap; /* scratch: old gid -> new gid + 1 (0 = not in subset) */
	uint16_t *order; /* scratch: new gid -> old gid */
	size_t n_order;
};

static uint16_t u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int bad(struct ml_error *err, const char *what)
{
	return ml_errorf(err, ML_ECONFIG, "font: %s", what);
}

/* Does [off, off+len) lie inside the mapping? */
static int in_file(const struct ttf_font *f, uint64_t off, uint64_t len)
{
	return off <= f->map_len && len <= f->map_len - off;
}

static int parse_directory(struct ttf_font *f, int face, struct ml_error *err)
{
	uint32_t off = 0;
	if (!in_file(f, 0, 12))
		return bad(err, "file too short");
	if (memcmp(f->map, "ttcf", 4) == 0) {
		uint32_t n = u32(f->map + 8);
		if (face < 0 || (uint32_t)face >= n || !in_file(f, 12 + 4 * (uint64_t)face, 4))
			return ml_errorf(err, ML_ECONFIG, "font: face %d not in collection of %u",
					 face, n);
		off = u32(f->map + 12 + 4 * face);
	} else if (face != 0) {
		return ml_errorf(err, ML_ECONFIG, "font: face %d requested from a single-face file",
				 face);
	}
	if (!in_file(f, off, 12) || u32(f->map + off) != 0x00010000u)
		return bad(err,
			   "not a TrueType (glyf) face; CFF/OpenType outlines are not supported");
	uint16_t n = u16(f->map + off + 4);
	if (!in_file(f, off + 12, 16 * (uint64_t)n))
		return bad(err, "truncated table directory");
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *rec = f->map + off + 12 + 16 * i;
		uint32_t toff = u32(rec + 8), tlen = u32(rec + 12);
		for (int k = 0; k < T_COUNT; k++) {
			if (memcmp(rec, TAGS[k], 4) != 0)
				continue;
			if (!in_file(f, toff, tlen))
				return ml_errorf(err, ML_ECONFIG,
						 "font: table '%s' outside the file", TAGS[k]);
			f->t[k].p = f->map + toff;
			f->t[k].len = tlen;
		}
	}
	static const int need[] = { T_OS2,  T_CMAP, T_GLYF, T_HEAD, T_HHEA,
				    T_HMTX, T_LOCA, T_MAXP, T_NAME, T_POST };
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (!f->t[need[i]].p)
			return ml_errorf(err, ML_ECONFIG, "font: required table '%s' missing",
					 TAGS[need[i]]);
	return ML_OK;
}

static int parse_metrics(struct ttf_font *f, struct ml_error *err)
{
	if (f->t[T_HEAD].len < 54 || f->t[T_HHEA].len < 36 || f->t[T_MAXP].len < 6 ||
	    f->t[T_POST].len < 32)
		return bad(err, "head/hhea/maxp/post too short");
	f->upem = u16(f->t[T_HEAD].p + 18);
	f->long_loca = u16(f->t[T_HEAD].p + 50) != 0;
	f->num_glyphs = u16(f->t[T_MAXP].p + 4);
	f->num_hmetrics = u16(f->t[T_HHEA].p + 34);
	if (f->upem == 0 || f->num_glyphs == 0 || f->num_hmetrics == 0 ||
	    f->num_hmetrics > f->num_glyphs)
		return bad(err, "bad unitsPerEm, glyph or metric count");
	uint64_t hmtx_need = 4 * (uint64_t)f->num_hmetrics +
			     2 * (uint64_t)(f->num_glyphs - f->num_hmetrics);
	uint64_t loca_need = (uint64_t)(f->num_glyphs + 1) * (f->long_loca ? 4 : 2);
	if (f->t[T_HMTX].len < hmtx_need || f->t[T_LOCA].len < loca_need)
		return bad(err, "hmtx or loca shorter than the glyph count");
	return ML_OK;
}

static void cmap_format4(struct ttf_font *f, const uint8_t *s, uint32_t avail)
{
	if (avail < 14)
		return;
	uint32_t len = u16(s + 2) < avail ? u16(s + 2) : avail;
	uint16_t segs = u16(s + 6) / 2;
	if (len < 16 + 8 * (uint32_t)segs)
		return;
	const uint8_t *end = s + 14, *start = end + 2 * segs + 2, *delta = start + 2 * segs,
		      *ro = delta + 2 * segs;
	for (uint16_t i = 0; i < segs; i++) {
		uint32_t a = u16(start + 2 * i), b = u16(end + 2 * i);
		uint16_t d = u16(delta + 2 * i), r = u16(ro + 2 * i);
		for (uint32_t c = a; c <= b && c < 0xFFFF; c++) {
			uint16_t g;
			if (r == 0) {
				g = (uint16_t)(c + d);
			} else {
				uint64_t at = (uint64_t)(ro + 2 * i - s) + r + 2 * (c - a);
				if (at + 2 > len)
					continue;
				g = u16(s + at);
				if (g)
					g = (uint16_t)(g + d);
			}
			if (g < f->num_glyphs)
				f->cmap[c] = g;
		}
	}
}

static void cmap_format12(struct ttf_font *f, const uint8_t *s, uint32_t avail)
{
	if (avail < 16)
		return;
	uint32_t n = u32(s + 12);
	if (n > (avail - 16) / 12)
		n = (avail - 16) / 12;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *g = s + 16 + 12 * i;
		uint32_t a = u32(g), b = u32(g + 4), gid = u32(g + 8);
		for (uint32_t c = a; c <= b && c < 0xFFFF; c++, gid++)
			if (gid < f->num_glyphs)
				f->cmap[c] = (uint16_t)gid;
	}
}

/* Prefer the full-Unicode (3,10) format-12 map, else the BMP (3,1)/(0,x) format-4 one. */
static int parse_cmap(struct ttf_font *f, struct ml_error *err)
{
	const struct table *t = &f->t[T_CMAP];
	if (t->len < 4)
		return bad(err, "cmap too short");
	uint16_t n = u16(t->p + 2);
	if (4 + 8 * (uint32_t)n > t->len)
		return bad(err, "cmap directory truncated");
	const uint8_t *best = NULL;
	int best_rank = 0;
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *rec = t->p + 4 + 8 * i;
		uint16_t plat = u16(rec), enc = u16(rec + 2);
		uint32_t off = u32(rec + 4);
		/* not off + 2: that wraps for off near 2^32 */
		if (off > t->len || t->len - off < 2)
			continue;
		uint16_t fmt = u16(t->p + off);
		int rank = 0;
		if (fmt == 12 && (plat == 3 || plat == 0))
			rank = 3;
		else if (fmt == 4 && plat == 3 && enc == 1)
			rank = 2;
		else if (fmt == 4 && plat == 0)
			rank = 1;
		if (rank > best_rank) {
			best_rank = rank;
			best = t->p + off;
		}
	}
	if (!best)
		return bad(err, "no Unicode cmap (format 4 or 12)");
	f->cmap = calloc(65536, sizeof *f->cmap);
	if (!f->cmap)
		return ml_errorf(err, ML_ENOMEM, "font: out of memory for cmap");
	uint32_t avail = (uint32_t)(t->p + t->len - best);
	if (best_rank == 3)
		cmap_format12(f, best, avail);
	else
		cmap_format4(f, best, avail);
	return ML_OK;
}

int ttf_font_open(const char *path, int face, struct ttf_font **out, struct ml_error *err)
{
	*out = NULL;
	struct ttf_font *f = calloc(1, sizeof *f);
	if (!f)
		return ml_errorf(err, ML_ENOMEM, "font: out of memory");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rc;
	if (fd < 0 || fstat(fd, &st) != 0) {
		char eb[128];
		rc = ml_errorf(err, ML_ECONFIG, "font '%s': %s", path,
			       ml_errno_str(errno, eb, sizeof eb));
		goto fail;
	}
	f->map_len = (size_t)st.st_size;
	f->map = f->map_len ? mmap(NULL, f->map_len, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		rc = ml_errorf(err, ML_ECONFIG, "font '%s': cannot map file", path);
		goto fail;
	}
	if ((rc = parse_directory(f, face, err)) || (rc = parse_metrics(f, err)) ||
	    (rc = parse_cmap(f, err))) {
		ml_error_prefix(err, "'%s' face %d: ", path, face);
		goto fail;
	}
	f->remap = calloc(f->num_glyphs, sizeof *f->remap);
	f->order = calloc(f->num_glyphs, sizeof *f->order);
	if (!f->remap || !f->order) {
		rc = ml_errorf(err, ML_ENOMEM, "font: out of memory");
		goto fail;
	}
	close(fd);
	*out = f;
	return ML_OK;
fail:
	if (fd >= 0)
		close(fd);
	ttf_font_free(f);
	return rc;
}

void ttf_font_free(struct ttf_font *f)
{
	if (!f)
		return;
	if (f->map)
		munmap(f->map, f->map_len);
	free(f->cmap);
	free(f->remap);
	free(f->order);
	free(f);
}

uint16_t ttf_font_glyph(const struct ttf_font *f, uint32_t cp)
{
	return cp < 0xFFFF ? f->cmap[cp] : 0;
}

static uint16_t advance(const struct ttf_font *f, uint16_t gid)
{
	uint16_t i = gid < f->num_hmetrics ? gid : (uint16_t)(f->num_hmetrics - 1);
	return u16(f->t[T_HMTX].p + 4 * i);
}

static int16_t lsb(const struct ttf_font *f, uint16_t gid)
{
	if (gid < f->num_hmetrics)
		return (int16_t)u16(f->t[T_HMTX].p + 4 * gid + 2);
	return (int16_t)u16(f->t[T_HMTX].p + 4 * f->num_hmetrics + 2 * (gid - f->num_hmetrics));
}

int ttf_font_width1000(const struct ttf_font *f, uint32_t cp)
{
	/* libharu: advance * 1000 / unitsPerEm, integer truncation (hpdf_fontdef_tt.c). */
	return (int)((uint32_t)advance(f, ttf_font_glyph(f, cp)) * 1000u / f->upem);
}

uint32_t ttf_utf8_next(const char **sp)
{
	const unsigned char *s = (const unsigned char *)*sp;
	uint32_t c = s[0];
	int n = c < 0x80             ? 0
		: (c & 0xE0) == 0xC0 ? 1
		: (c & 0xF0) == 0xE0 ? 2
		: (c & 0xF8) == 0xF0 ? 3
				     : -1;
	if (n < 0) {
		*sp += 1;
		return 0xFFFD;
	}
	c &= n ? 0x3Fu >> n : 0x7Fu;
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*sp += 1;
			return 0xFFFD;
		}
		c = c << 6 | (s[i] & 0x3F);
	}
	*sp += n + 1;
	return c;
}

double ttf_font_text_width(const struct ttf_font *f, const char *s, double size)
{
	long w = 0;
	while (*s) {
		uint32_t cp = ttf_utf8_next(&s);
		/* Beyond the BMP and control characters are printed as spaces (see render_layout.c). */
		w += ttf_font_width1000(f, cp >= 0xFFFF || cp < 0x20 || cp == 0x7F ? 0x20 : cp);
	}
	return (double)w * size / 1000.0;
}

/* ---- subsetting ---------------------------------------------------------- */

/* Byte range of glyph gid inside glyf; *len 0 for an empty glyph. */
static int glyph_range(const struct ttf_font *f, uint16_t gid, uint32_t *off, uint32_t *len)
{
	const uint8_t *l = f->t[T_LOCA].p;
	uint32_t a = f->long_loca ? u32(l + 4 * gid) : 2u * u16(l + 2 * gid);
	uint32_t b = f->long_loca ? u32(l + 4 * gid + 4) : 2u * u16(l + 2 * gid + 2);
	if (b < a || b > f->t[T_GLYF].len)
		return -1;
	*off = a;
	*len = b - a;
	return 0;
}

static int add_glyph(struct ttf_font *f, uint16_t old)
{
	if (f->remap[old])
		return 0;
	if (f->n_order >= 0xFFFE)
		return -1;
	f->order[f->n_order] = old;
	f->remap[old] = (uint16_t)(++f->n_order);
	return 0;
}

/*
 * Walk a composite glyph's component records (flags §5.3.3). With remap set,
 * rewrite the component ids in `out` (a copy of the glyph); otherwise add
 * the components to the subset. Returns -1 on a malformed glyph.
 */
static int walk_components(struct ttf_font *f, const uint8_t *g, uint32_t len, uint8_t *out)
{
	uint32_t p = 10;
	for (;;) {
		if (p + 4 > len)
			return -1;
		uint16_t flags = u16(g + p), comp = u16(g + p + 2);
		if (comp >= f->num_glyphs)
			return -1;
		if (out) {
			uint16_t nid = (uint16_t)(f->remap[comp] - 1);
			out[p + 2] = (uint8_t)(nid >> 8);
			out[p + 3] = (uint8_t)nid;
		} else if (add_glyph(f, comp)) {
			return -1;
		}
		p += 4 + ((flags & 0x0001) ? 4 : 2);
		p += (flags & 0x0008) ? 2 : (flags & 0x0040) ? 4 : (flags & 0x0080) ? 8 : 0;
		if (!(flags & 0x0020))
			return 0;
	}
}

static void reset_scratch(struct ttf_font *f)
{
	for (size_t i = 0; i < f->n_order; i++)
		f->remap[f->order[i]] = 0;
	f->n_order = 0;
}

/* Collect .notdef, the used characters' glyphs, then composite components (transitively). */
static int collect_glyphs(struct ttf_font *f, const uint8_t used[8192], struct ml_error *err)
{
	reset_scratch(f);
	if (add_glyph(f, 0))
		return bad(err, "subset overflow");
	for (uint32_t cp = 0; cp < 0xFFFF; cp++) {
		if (!used[cp >> 3]) { /* skip 8 unused code points at once */
			cp |= 7;
			continue;
		}
		if ((used[cp >> 3] >> (cp & 7) & 1) && f->cmap[cp] && add_glyph(f, f->cmap[cp]))
			return bad(err, "subset overflow");
	}
	for (size_t i = 0; i < f->n_order; i++) { /* n_order grows as components are found */
		uint32_t off, len;
		if (glyph_range(f, f->order[i], &off, &len))
			return ml_errorf(err, ML_ECONFIG, "font: glyph %u has a bad loca entry",
					 f->order[i]);
		const uint8_t *g = f->t[T_GLYF].p + off;
		if (len >= 10 && (int16_t)u16(g) < 0 && walk_components(f, g, len, NULL))
			return ml_errorf(err, ML_ECONFIG, "font: composite glyph %u is malformed",
					 f->order[i]);
	}
	return ML_OK;
}

static int put16(struct ml_buf *b, uint32_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return ml_buf_append(b, x, 2);
}

static int put32(struct ml_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	return ml_buf_append(b, x, 4);
}

static void set16(struct ml_buf *b, size_t at, uint32_t v)
{
	b->data[at] = (char)(v >> 8);
	b->data[at + 1] = (char)v;
}

static void set32(struct ml_buf *b, size_t at, uint32_t v)
{
	set16(b, at, v >> 16);
	set16(b, at + 2, v & 0xFFFF);
}

static int pad4(struct ml_buf *b)
{
	static const uint8_t z[3];
	return (b->len & 3) ? ml_buf_append(b, z, 4 - (b->len & 3)) : ML_OK;
}

/* glyf + loca (long offsets): outlines copied as-is, component ids renumbered. */
static int write_glyf_loca(struct ttf_font *f, struct ml_buf *glyf, struct ml_buf *loca)
{
	for (size_t i = 0; i < f->n_order; i++) {
		uint32_t off, len;
		if (put32(loca, (uint32_t)glyf->len) || glyph_range(f, f->order[i], &off, &len))
			return -1;
		const uint8_t *g = f->t[T_GLYF].p + off;
		size_t at = glyf->len;
		if (ml_buf_append(glyf, g, len))
			return -1;
		if (len >= 10 && (int16_t)u16(g) < 0 &&
		    walk_components(f, g, len, (uint8_t *)glyf->data + at))
			return -1;
		if (pad4(glyf))
			return -1;
	}
	return put32(loca, (uint32_t)glyf->len);
}

static int write_hmtx(const struct ttf_font *f, struct ml_buf *b)
{
	for (size_t i = 0; i < f->n_order; i++)
		if (put16(b, advance(f, f->order[i])) || put16(b, (uint16_t)lsb(f, f->order[i])))
			return -1;
	return 0;
}

/*
 * (3,1) format-4 cmap. New glyph ids follow code point order, so each run
 * of consecutive code points is one idDelta segment and no glyphIdArray is
 * needed. (libharu looks up only the document's own characters: the
 * renderer's dense encoder lists just those; see cert_render.c.)
 */
/* The subtable's length field is 16 bits: 16 + 8 * segments <= 65535 (0xFFFF segment included). */
#define CMAP_MAX_SEGS ((0xFFFF - 16) / 8)

static int write_cmap(const struct ttf_font *f, const uint8_t used[8192], struct ml_buf *b)
{
	uint16_t *start = malloc(3 * CMAP_MAX_SEGS * sizeof *start);
	if (!start)
		return -1;
	uint16_t *end = start + CMAP_MAX_SEGS, *delta = end + CMAP_MAX_SEGS;
	size_t n = 0;
	int rc = 0;
	for (uint32_t cp = 0; cp < 0xFFFF && !rc; cp++) {
		if (!used[cp >> 3]) { /* skip 8 unused code points at once */
			cp |= 7;
			continue;
		}
		uint16_t g = f->cmap[cp];
		if (!(used[cp >> 3] >> (cp & 7) & 1) || !g)
			continue;
		uint16_t nid = (uint16_t)(f->remap[g] - 1);
		if (n && end[n - 1] + 1 == (int)cp && (uint16_t)(cp + delta[n - 1]) == nid) {
			end[n - 1] = (uint16_t)cp;
		} else if (n == CMAP_MAX_SEGS - 1) {
			rc = -1;
		} else {
			start[n] = end[n] = (uint16_t)cp;
			delta[n++] = (uint16_t)(nid - cp);
		}
	}
	start[n] = end[n] = 0xFFFF;
	delta[n++] = 1;
	uint16_t sr = 2, es = 0;
	while (sr * 2 <= 2 * n) {
		sr = (uint16_t)(sr * 2);
		es++;
	}
	rc = rc || put16(b, 0) || put16(b, 1) || put16(b, 3) || put16(b, 1) || put32(b, 12);
	rc = rc || put16(b, 4) || put16(b, (uint32_t)(16 + 8 * n)) || put16(b, 0);
	rc = rc || put16(b, (uint32_t)(2 * n)) || put16(b, sr) || put16(b, es) ||
	     put16(b, (uint32_t)(2 * n - sr));
	for (size_t i = 0; i < n && !rc; i++)
		rc = put16(b, end[i]);
	rc = rc || put16(b, 0);
	for (size_t i = 0; i < n && !rc; i++)
		rc = put16(b, start[i]);
	for (size_t i = 0; i < n && !rc; i++)
		rc = put16(b, delta[i]);
	for (size_t i = 0; i < n && !rc; i++)
		rc = put16(b, 0);
	free(start);
	return rc ? -1 : 0;
}

/* name: the Windows-English and Mac-Roman records with ids 0–6 (copyright, family, PostScript name). */
static int write_name(const struct ttf_font *f, struct ml_buf *b)
{
	const struct table *t = &f->t[T_NAME];
	if (t->len < 6)
		return -1;
	uint16_t count = u16(t->p + 2), soff = u16(t->p + 4);
	if (6 + 12 * (uint32_t)count > t->len)
		return -1;
	const uint8_t *keep[64];
	uint16_t nk = 0;
	for (uint16_t i = 0; i < count && nk < 64; i++) {
		const uint8_t *r = t->p + 6 + 12 * i;
		uint16_t plat = u16(r), enc = u16(r + 2), lang = u16(r + 4), id = u16(r + 6);
		int win = plat == 3 && enc == 1 && lang == 0x409,
		    mac = plat == 1 && enc == 0 && lang == 0;
		if ((win || mac) && id <= 6 && (uint32_t)soff + u16(r + 10) + u16(r + 8) <= t->len)
			keep[nk++] = r;
	}
	int rc = put16(b, 0) || put16(b, nk) || put16(b, 6 + 12u * nk);
	uint32_t at = 0;
	for (uint16_t i = 0; i < nk && !rc; i++) {
		rc = ml_buf_append(b, keep[i], 8) || put16(b, u16(keep[i] + 8)) || put16(b, at);
		at += u16(keep[i] + 8);
	}
	for (uint16_t i = 0; i < nk && !rc; i++)
		rc = ml_buf_append(b, t->p + soff + u16(keep[i] + 10), u16(keep[i] + 8));
	return rc ? -1 : 0;
}

static int copy_patched(const struct table *t, uint32_t len, struct ml_buf *b)
{
	return ml_buf_append(b, t->p, len) ? -1 : 0;
}

/* Build each table into its own buffer. */
static int build_tables(struct ttf_font *f, const uint8_t used[8192], struct ml_buf tb[T_COUNT])
{
	uint32_t ng = (uint32_t)f->n_order;
	if (write_glyf_loca(f, &tb[T_GLYF], &tb[T_LOCA]) || write_hmtx(f, &tb[T_HMTX]) ||
	    write_cmap(f, used, &tb[T_CMAP]) || write_name(f, &tb[T_NAME]))
		return -1;
	if (copy_patched(&f->t[T_OS2], f->t[T_OS2].len, &tb[T_OS2]) ||
	    copy_patched(&f->t[T_HEAD], 54, &tb[T_HEAD]) ||
	    copy_patched(&f->t[T_HHEA], 36, &tb[T_HHEA]) ||
	    copy_patched(&f->t[T_MAXP], f->t[T_MAXP].len < 32 ? f->t[T_MAXP].len : 32,
			 &tb[T_MAXP]) ||
	    copy_patched(&f->t[T_POST], 32, &tb[T_POST]))
		return -1;
	set32(&tb[T_HEAD], 8, 0);           /* checkSumAdjustment, fixed up at the end */
	set16(&tb[T_HEAD], 50, 1);          /* indexToLocFormat: long */
	set16(&tb[T_HHEA], 34, ng);         /* numberOfHMetrics */
	set16(&tb[T_MAXP], 4, ng);          /* numGlyphs */
	set32(&tb[T_POST], 0, 0x00030000u); /* post 3.0: no glyph names */
	for (int k = 16; k < 32; k++)
		tb[T_POST].data[k] = 0;
	static const int hint[] = { T_CVT, T_FPGM, T_PREP };
	for (int i = 0; i < 3; i++)
		if (f->t[hint[i]].p &&
		    copy_patched(&f->t[hint[i]], f->t[hint[i]].len, &tb[hint[i]]))
			return -1;
	return 0;
}

static uint32_t checksum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i = 0;
	for (; i + 4 <= len; i += 4)
		s += u32(p + i);
	if (i < len) {
		uint8_t w[4] = { 0 };
		memcpy(w, p + i, len - i);
		s += u32(w);
	}
	return s;
}

static int assemble(struct ml_buf tb[T_COUNT], struct ml_buf *out)
{
	uint16_t n = 0;
	for (int k = 0; k < T_COUNT; k++)
		n += tb[k].len > 0;
	uint16_t sr = 16, es = 0;
	while (sr * 2 <= 16 * n) {
		sr = (uint16_t)(sr * 2);
		es++;
	}
	size_t base = out->len;
	int rc = put32(out, 0x00010000u) || put16(out, n) || put16(out, sr) || put16(out, es) ||
		 put16(out, 16u * n - sr);
	uint32_t off = 12 + 16u * n;
	for (int k = 0; k < T_COUNT && !rc; k++) {
		if (!tb[k].len)
			continue;
		rc = ml_buf_append(out, TAGS[k], 4) ||
		     put32(out, checksum((uint8_t *)tb[k].data, tb[k].len));
		rc = rc || put32(out, off) || put32(out, (uint32_t)tb[k].len);
		off += (uint32_t)((tb[k].len + 3) & ~(size_t)3);
	}
	size_t head_at = 0;
	for (int k = 0; k < T_COUNT && !rc; k++) {
		if (!tb[k].len)
			continue;
		if (k == T_HEAD)
			head_at = out->len;
		rc = ml_buf_append(out, tb[k].data, tb[k].len) || pad4(out);
	}
	if (rc)
		return -1;
	uint32_t sum = checksum((uint8_t *)out->data + base, out->len - base);
	set32(out, head_at + 8, 0xB1B0AFBAu - sum);
	return 0;
}

int ttf_font_subset(struct ttf_font *f, const uint8_t used[8192], struct ml_buf *out,
		    struct ml_error *err)
{
	int rc = collect_glyphs(f, used, err);
	if (rc)
		return rc;
	struct ml_buf tb[T_COUNT];
	for (int k = 0; k < T_COUNT; k++)
		ml_buf_init(&tb[k], 64u << 20);
	if (build_tables(f, used, tb) || assemble(tb, out))
		rc = ml_errorf(err, ML_ECONFIG, "font: cannot build a subset of %zu glyphs",
			       f->n_order);
	for (int k = 0; k < T_COUNT; k++)
		ml_buf_free(&tb[k]);
	return rc;
}

size_t ttf_font_last_subset_glyphs(const struct ttf_font *f)
{
	return f->n_order;
}
