/*
 * quality_render.c — the quality report PDF (contract: quality_render.h).
 *
 * Like the certificates: the whole document is laid out first into a
 * display list (text runs measured with the face's own widths, lines,
 * filled and stroked boxes), so the characters used and the page count are
 * known before libharu is touched; then one subset font is embedded
 * (reports/pdf_font.h) and the pages are drawn. Every number printed is a
 * string from quality/ (exact); coordinates are floats and decide nothing.
 */
#include "reports/quality_render.h"

#include <hpdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/pdf_font.h"
#include "reports/ttf_font.h"

#define PAGE_W 595.276f
#define PAGE_H 841.89f
#define LEFT 52.0f
#define RIGHT (PAGE_W - 52.0f)
#define TOP 792.0f
#define BOTTOM 64.0f
#define BODY 9.0f  /* body text size */
#define SMALL 7.5f /* axis labels; ~9 pt word boxes, above the 7 pt legibility floor */

enum {
	OP_TEXT = 1,
	OP_TEXTB,
	OP_LINE,
	OP_FILL,
	OP_RECT
};
enum {
	AL_LEFT,
	AL_CENTER,
	AL_RIGHT
};

struct rgb {
	float r, g, b;
};
static const struct rgb BLACK = { 0, 0, 0 }, GRAY = { 0.55f, 0.55f, 0.55f },
			LIGHT = { 0.9f, 0.9f, 0.9f }, BAR = { 0.23f, 0.42f, 0.68f },
			FAULT = { 0.35f, 0.55f, 0.35f }, RED = { 0.80f, 0.10f, 0.10f },
			ORANGE = { 0.90f, 0.50f, 0.05f };

struct op {
	unsigned char kind, dash;
	unsigned short page;
	float x, y, w, h, lw;
	struct rgb c;
	uint32_t text;
};

struct lay {
	struct op *ops;
	size_t n, cap;
	struct ml_buf pool;
	uint8_t used[8192];
	int page; /* current page, 0-based */
	float y;  /* cursor: the next line's top */
	const struct ttf_font *font;
	int nomem;
};

static struct op *add(struct lay *L, unsigned char kind)
{
	if (L->n == L->cap) {
		size_t cap = L->cap ? 2 * L->cap : 1024;
		struct op *p = realloc(L->ops, cap * sizeof *p);
		if (!p) {
			L->nomem = 1;
			return NULL;
		}
		L->ops = p;
		L->cap = cap;
	}
	struct op *o = &L->ops[L->n++];
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->page = (unsigned short)L->page;
	return o;
}

static float width(const struct lay *L, const char *s, float size)
{
	return (float)ttf_font_text_width(L->font, s, size);
}

static void text(struct lay *L, float x, float y, float size, int bold, int align, const char *s)
{
	float w = width(L, s, size);
	struct op *o = add(L, bold ? OP_TEXTB : OP_TEXT);
	if (!o)
		return;
	o->x = align == AL_CENTER ? x - w / 2 : align == AL_RIGHT ? x - w : x;
	o->y = y;
	o->h = size;
	o->text = (uint32_t)L->pool.len;
	ml_buf_puts(&L->pool, s);
	ml_buf_putc(&L->pool, '\0');
	pdf_font_mark(L->used, s);
}

/* Shrink size until s fits in w (not below SMALL), then draw. */
static void text_fit(struct lay *L, float x, float y, float size, int align, float w, const char *s)
{
	while (size > SMALL && width(L, s, size) > w)
		size -= 0.25f;
	text(L, x, y, size, 0, align, s);
}

static void line(struct lay *L, float x1, float y1, float x2, float y2, float lw, struct rgb c,
		 int dash)
{
	struct op *o = add(L, OP_LINE);
	if (!o)
		return;
	*o = (struct op){
		OP_LINE, (unsigned char)dash, (unsigned short)L->page, x1, y1, x2, y2, lw, c, 0
	};
}

static void fill(struct lay *L, float x, float y, float w, float h, struct rgb c)
{
	struct op *o = add(L, OP_FILL);
	if (o)
		*o = (struct op){ OP_FILL, 0, (unsigned short)L->page, x, y, w, h, 0, c, 0 };
}

static void rect(struct lay *L, float x, float y, float w, float h, float lw)
{
	struct op *o = add(L, OP_RECT);
	if (o)
		*o = (struct op){ OP_RECT, 0, (unsigned short)L->page, x, y, w, h, lw, BLACK, 0 };
}

static void new_page(struct lay *L)
{
	L->page++;
	L->y = TOP;
}

/* Room for h points below the cursor, else a new page. */
static void need(struct lay *L, float h)
{
	if (L->y - h < BOTTOM)
		new_page(L);
}

/* A section heading kept with `keep` points of what follows it. */
static void heading_keep(struct lay *L, const char *s, float keep)
{
	need(L, 36 + keep);
	L->y -= 8;
	text(L, LEFT, L->y - 11, 11.5f, 1, AL_LEFT, s);
	L->y -= 20;
}

static void heading(struct lay *L, const char *s)
{
	heading_keep(L, s, 40);
}

static void subheading(struct lay *L, const char *s)
{
	text(L, LEFT, L->y - BODY, BODY + 0.5f, 1, AL_LEFT, s);
	L->y -= 15;
}

/* Characters that may not begin a line. */
static int closing(const char *p)
{
	static const char *const marks[] = { "，", "。", "、", "）", "；", "：", "！",
					     "？", "%",  ")",  ",",  ".",  ";",  ":" };
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
		if (!strncmp(p, marks[i], strlen(marks[i])))
			return 1;
	return 0;
}

/* Wrapped paragraph in the body width; breaks at a space inside ASCII text, anywhere in CJK. */
static void paragraph(struct lay *L, const char *s, float size)
{
	char buf[1024];
	float maxw = RIGHT - LEFT - 8;
	while (*s) {
		size_t len = 0, brk = 0;
		const char *p = s;
		while (*p) {
			const char *q = p;
			ttf_utf8_next(&q);
			size_t l = (size_t)(q - s);
			if (l >= sizeof buf)
				break;
			memcpy(buf, s, l);
			buf[l] = 0;
			if (width(L, buf, size) > maxw)
				break;
			if (*p == ' ')
				brk = (size_t)(p - s) + 1;
			else if ((unsigned char)*p >= 0x80)
				brk = l;
			len = l;
			p = q;
		}
		if (*p && brk && brk < len)
			len = brk;
		if (!len)
			len = 1;
		/* line-start rule (禁则): closing punctuation stays on the line it closes */
		while (s[len] && closing(s + len)) {
			const char *q = s + len;
			ttf_utf8_next(&q);
			len = (size_t)(q - s);
		}
		memcpy(buf, s, len);
		buf[len] = 0;
		need(L, size + 4);
		text(L, LEFT + 8, L->y - size, size, 0, AL_LEFT, buf);
		L->y -= size + 5;
		s += len;
		while (*s == ' ')
			s++;
	}
}

/* ---- tables ---- */

struct col {
	const char *head;
	float w;
	int align;
};

/* A table: head row shaded, then rows of cells; breaks across pages with the head repeated. */
static void table(struct lay *L, const struct col *cols, int ncol, const char *const *cells,
		  int nrow)
{
	const float rh = 15.0f;
	float total = 0;
	for (int c = 0; c < ncol; c++)
		total += cols[c].w;
	for (int r = -1; r < nrow; r++) {
		if (r == -1 || L->y - rh < BOTTOM) {
			need(L, 2 * rh);
			fill(L, LEFT, L->y - rh, total, rh, LIGHT);
			float x = LEFT;
			for (int c = 0; c < ncol; c++) {
				text_fit(L, x + cols[c].w / 2, L->y - rh + 4.5f, BODY, AL_CENTER,
					 cols[c].w - 4, cols[c].head);
				x += cols[c].w;
			}
			rect(L, LEFT, L->y - rh, total, rh, 0.5f);
			L->y -= rh;
			if (r == -1)
				continue;
		}
		float x = LEFT;
		for (int c = 0; c < ncol; c++) {
			const char *s = cells[r * ncol + c];
			float tx = cols[c].align == AL_RIGHT    ? x + cols[c].w - 3
				   : cols[c].align == AL_CENTER ? x + cols[c].w / 2
								: x + 3;
			text_fit(L, tx, L->y - rh + 4.5f, BODY, cols[c].align, cols[c].w - 6, s);
			x += cols[c].w;
		}
		line(L, LEFT, L->y - rh, LEFT + total, L->y - rh, 0.3f, GRAY, 0);
		L->y -= rh;
	}
	L->y -= 8;
}

/* ---- charts ---- */

struct bar {
	char label[96];
	double value;  /* bar length in the chart's unit */
	char text[64]; /* the exact figure printed at the bar's end */
};

/* Horizontal bars: label | bar | figure; ref (>= 0): a dashed reference line (e.g. overall). */
static void bar_chart(struct lay *L, const char *title, const struct bar *b, int n, double ref,
		      const char *ref_text, struct rgb colour)
{
	const float rh = 13.0f, lw = 120.0f, tw = 120.0f;
	float x0 = LEFT + lw, x1 = RIGHT - tw;
	need(L, 30 + rh * (n < 4 ? n : 4));
	subheading(L, title);
	double max = ref > 0 ? ref : 0;
	for (int i = 0; i < n; i++)
		if (b[i].value > max)
			max = b[i].value;
	if (max <= 0)
		max = 1;
	float top = L->y;
	for (int i = 0; i < n; i++) {
		if (L->y - rh < BOTTOM) {
			new_page(L);
			top = L->y;
		}
		float yb = L->y - rh + 3;
		text_fit(L, x0 - 6, yb + 1.5f, BODY, AL_RIGHT, lw - 10, b[i].label);
		float w = (float)(b[i].value / max * (x1 - x0));
		if (w > 0)
			fill(L, x0, yb, w < 0.6f ? 0.6f : w, rh - 5, colour);
		text_fit(L, x1 + 8, yb + 1.5f, SMALL + 0.5f, AL_LEFT, tw - 8, b[i].text);
		L->y -= rh;
	}
	line(L, x0, top, x0, L->y, 0.6f, BLACK, 0);
	if (ref >= 0 && n > 0) {
		float xr = x0 + (float)(ref / max * (x1 - x0));
		line(L, xr, top, xr, L->y, 0.6f, GRAY, 1);
		text(L, xr, L->y - SMALL - 2, SMALL, 0, AL_CENTER, ref_text);
		L->y -= SMALL + 4;
	}
	L->y -= 8;
}

/* One error histogram of a load point with the internal (dashed) and regulation limits. */
static void histogram(struct lay *L, float x, float ytop, float w,
		      const struct quality_point_row *p)
{
	char t[256], a[32], b[32], c[32], d[32];
	snprintf(t, sizeof t, "%s（限值 ±%s%%）", p->label,
		 quality_ratio(p->limit_e4, 10000, 1, 2, a));
	text_fit(L, x, ytop - BODY, BODY, AL_LEFT, w, t);
	snprintf(t, sizeof t, "n=%lld 平均 %s%% 标准差 %s%% 超内控 %s%% 超差 %s%%", (long long)p->n,
		 quality_ratio(p->mean_e6, 1000000, 1, 4, a),
		 quality_ratio(p->sd_e6, 1000000, 1, 4, b),
		 quality_ratio(p->internal_fail, p->n, 100, 2, c),
		 quality_ratio(p->fail, p->n, 100, 2, d));
	text_fit(L, x, ytop - 2 * BODY - 4, SMALL + 0.5f, AL_LEFT, w, t);
	float h = 70, y0 = ytop - 2 * BODY - 12 - h, bw = w / QUALITY_HIST_BINS;
	int64_t max = 1;
	for (int i = 0; i < QUALITY_HIST_BINS; i++)
		if (p->hist[i] > max)
			max = p->hist[i];
	for (int i = 0; i < QUALITY_HIST_BINS; i++)
		if (p->hist[i] > 0) {
			float bh = (float)((double)p->hist[i] / (double)max * h);
			fill(L, x + i * bw + 0.4f, y0, bw - 0.8f, bh < 0.6f ? 0.6f : bh, BAR);
		}
	line(L, x, y0, x + w, y0, 0.6f, BLACK, 0);
	/* bin k covers [k, k+1) tenths of the limit; the value v tenths lies at (v + 16)·bw */
	float lim_lo = x + (-10 - QUALITY_HIST_LOW) * bw, lim_hi = x + (10 - QUALITY_HIST_LOW) * bw;
	line(L, lim_lo, y0, lim_lo, y0 + h + 4, 0.9f, RED, 0);
	line(L, lim_hi, y0, lim_hi, y0 + h + 4, 0.9f, RED, 0);
	if (p->internal_limit_e4 > 0 && p->internal_limit_e4 < p->limit_e4) {
		float k = (float)((double)p->internal_limit_e4 * 10 / (double)p->limit_e4);
		line(L, x + (-k - QUALITY_HIST_LOW) * bw, y0, x + (-k - QUALITY_HIST_LOW) * bw,
		     y0 + h + 4, 0.8f, ORANGE, 1);
		line(L, x + (k - QUALITY_HIST_LOW) * bw, y0, x + (k - QUALITY_HIST_LOW) * bw,
		     y0 + h + 4, 0.8f, ORANGE, 1);
	}
	/* ticks at -1.5, -1, -0.5, 0, 0.5, 1, 1.5 limits, labelled in % with the fewest places
	 * that print half a limit exactly */
	int places = 1;
	for (int64_t unit = 100000; places < 4 && (p->limit_e4 * 5 * 10) % unit; unit /= 10)
		places++;
	for (int k = -15; k <= 15; k += 5) {
		float tx = x + (k - QUALITY_HIST_LOW) * bw;
		line(L, tx, y0, tx, y0 - 2.5f, 0.5f, BLACK, 0);
		char v[32];
		text(L, tx, y0 - SMALL - 4, SMALL, 0, AL_CENTER,
		     quality_ratio(p->limit_e4 * k, 100000, 1, places, v));
	}
}

/* Monthly line: points (i, value) with markers and the exact figure over each. */
static void trend(struct lay *L, const char *title, const char *const *labels, const double *v,
		  const char *const *figures, int n, struct rgb colour)
{
	float h = 90, w = RIGHT - LEFT - 40, x0 = LEFT + 30;
	need(L, h + 60);
	subheading(L, title);
	float y0 = L->y - h - 12;
	double max = 0;
	for (int i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	if (max <= 0)
		max = 1;
	line(L, x0, y0, x0 + w, y0, 0.6f, BLACK, 0);
	line(L, x0, y0, x0, y0 + h, 0.6f, BLACK, 0);
	float step = n > 1 ? w / (float)(n - 1) : 0, px = 0, py = 0;
	for (int i = 0; i < n; i++) {
		float xi = n > 1 ? x0 + i * step : x0 + w / 2;
		float yi = y0 + (float)(v[i] / max * (h - 14));
		if (i)
			line(L, px, py, xi, yi, 1.2f, colour, 0);
		fill(L, xi - 2, yi - 2, 4, 4, colour);
		/* labels only where they fit: every k-th month */
		int every = n > 12 ? (n + 11) / 12 : 1;
		if (i % every == 0 || i == n - 1) {
			text(L, xi, y0 - SMALL - 4, SMALL, 0, AL_CENTER, labels[i]);
			text(L, xi, yi + 4, SMALL, 0, AL_CENTER, figures[i]);
		}
		px = xi;
		py = yi;
	}
	L->y = y0 - SMALL - 14;
}

/* ---- the report ---- */

static const char *item_name(const char *item)
{
	static const char *const map[][2] = { { "creep", "潜动" },       { "start", "起动" },
					      { "basic", "基本误差" },   { "constant", "常数" },
					      { "clock", "日计时误差" }, { "ratio", "比值差" },
					      { "phase", "相位差" } };
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(item, map[i][0]))
			return map[i][1];
	return item;
}

static void title_block(struct lay *L, const struct quality_report *r,
			const struct quality_render_opts *o)
{
	char t[512];
	text(L, PAGE_W / 2, L->y - 20, 18, 1, AL_CENTER, "电能计量器具质量分析报告");
	L->y -= 40;
	snprintf(t, sizeof t, "统计期间：%s 至 %s", r->from, r->to);
	text(L, PAGE_W / 2, L->y - 10.5f, 10.5f, 0, AL_CENTER, t);
	L->y -= 17;
	snprintf(t, sizeof t, "制造商：%s　　型号：%s", r->maker[0] ? r->maker : "全部",
		 r->model[0] ? r->model : "全部");
	text(L, PAGE_W / 2, L->y - 10.5f, 10.5f, 0, AL_CENTER, t);
	L->y -= 17;
	if (o->issuer)
		snprintf(t, sizeof t, "编制单位：%s　　生成时间：%s", o->issuer, r->generated_at);
	else
		snprintf(t, sizeof t, "生成时间：%s", r->generated_at);
	text(L, PAGE_W / 2, L->y - BODY, BODY, 0, AL_CENTER, t);
	L->y -= 16;
	line(L, LEFT, L->y, RIGHT, L->y, 0.8f, BLACK, 0);
	L->y -= 6;
}

static void summary(struct lay *L, const struct quality_report *r)
{
	heading(L, "一、概况");
	const struct quality_verdict_row *t = quality_verdict_total(r);
	const struct quality_field_row *f = quality_field_total(r);
	int64_t n = t ? t->n : 0, fail = t ? t->fail : 0, ifail = t ? t->internal_fail : 0;
	char v[5][32], w[4][32];
	snprintf(v[0], sizeof v[0], "%lld", (long long)n);
	snprintf(v[1], sizeof v[1], "%lld", (long long)(n - fail));
	snprintf(v[2], sizeof v[2], "%lld", (long long)fail);
	quality_ratio(fail, n, 100, 2, v[3]);
	size_t l3 = strlen(v[3]);
	if (strcmp(v[3], "-") && l3 + 1 < sizeof v[3]) {
		v[3][l3] = '%';
		v[3][l3 + 1] = '\0';
	}
	snprintf(v[4], sizeof v[4], "%lld", (long long)ifail);
	static const struct col c1[] = { { "检定数量", 99, AL_CENTER },
					 { "合格", 98, AL_CENTER },
					 { "不合格", 98, AL_CENTER },
					 { "不合格率", 98, AL_CENTER },
					 { "超内控限", 98, AL_CENTER } };
	const char *cells1[5] = { v[0], v[1], v[2], v[3], v[4] };
	table(L, c1, 5, cells1, 1);
	snprintf(w[0], sizeof w[0], "%lld", (long long)(f ? f->assets : 0));
	snprintf(w[1], sizeof w[1], "%lld", (long long)(f ? f->exposure_days : 0));
	snprintf(w[2], sizeof w[2], "%lld", (long long)(f ? f->faults : 0));
	quality_fault_rate(f ? f->faults : 0, f ? f->exposure_days : 0, w[3]);
	static const struct col c2[] = { { "在运表计", 122, AL_CENTER },
					 { "运行表日", 122, AL_CENTER },
					 { "故障", 122, AL_CENTER },
					 { "故障率（次/千表年）", 125, AL_CENTER } };
	const char *cells2[4] = { w[0], w[1], w[2], w[3] };
	table(L, c2, 4, cells2, 1);
}

static int by_rate_desc(const void *a, const void *b)
{
	const struct quality_verdict_row *x = *(const struct quality_verdict_row *const *)a,
					 *y = *(const struct quality_verdict_row *const *)b;
	/* x.fail/x.n vs y.fail/y.n exactly: cross products */
	__int128 l = (__int128)x->fail * y->n, r = (__int128)y->fail * x->n;
	if (l != r)
		return l > r ? -1 : 1;
	return strcmp(x->key, y->key);
}

static void verdict_bars(struct lay *L, const struct quality_report *r, const char *dim,
			 const char *title, int top)
{
	size_t n = quality_verdicts_of(r, dim, NULL, 0);
	if (!n)
		return;
	const struct quality_verdict_row **v = calloc(n, sizeof *v);
	struct bar *b = calloc(n, sizeof *b);
	if (!v || !b) {
		L->nomem = 1;
		goto out;
	}
	quality_verdicts_of(r, dim, v, n);
	if (top)
		qsort(v, n, sizeof *v, by_rate_desc);
	int shown = top && (int)n > top ? top : (int)n;
	for (int i = 0; i < shown; i++) {
		char pct[32];
		snprintf(b[i].label, sizeof b[i].label, "%s", v[i]->key);
		b[i].value = v[i]->n ? (double)v[i]->fail / (double)v[i]->n : 0;
		snprintf(b[i].text, sizeof b[i].text, "%lld/%lld = %s%%", (long long)v[i]->fail,
			 (long long)v[i]->n, quality_ratio(v[i]->fail, v[i]->n, 100, 2, pct));
	}
	const struct quality_verdict_row *t = quality_verdict_total(r);
	char rt[64], pct[32];
	snprintf(rt, sizeof rt, "全部 %s%%",
		 quality_ratio(t ? t->fail : 0, t ? t->n : 0, 100, 2, pct));
	char head[160];
	if (top && (int)n > top)
		snprintf(head, sizeof head, "%s（不合格率最高的 %d 个，共 %zu 个，全部见 CSV）",
			 title, top, n);
	else
		snprintf(head, sizeof head, "%s", title);
	bar_chart(L, head, b, shown, t && t->n ? (double)t->fail / (double)t->n : -1, rt, BAR);
out:
	free(v);
	free(b);
}

static void failure_modes(struct lay *L, const struct quality_report *r)
{
	heading(L, "三、不合格项目与负荷点");
	struct bar b[16];
	int n = 0;
	for (size_t i = 0; i < r->n_items && n < 16; i++) {
		const struct quality_item_row *it = &r->items[i];
		if (strcmp(it->dim, "total"))
			continue;
		char pct[32];
		snprintf(b[n].label, sizeof b[n].label, "%s", item_name(it->item));
		b[n].value = it->n ? (double)it->fail / (double)it->n : 0;
		snprintf(b[n].text, sizeof b[n].text, "%lld/%lld = %s%%", (long long)it->fail,
			 (long long)it->n, quality_ratio(it->fail, it->n, 100, 2, pct));
		n++;
	}
	if (n)
		bar_chart(L, "按检定项目的不合格率", b, n, -1, NULL, BAR);
	int rows = r->n_point_fails < 12 ? (int)r->n_point_fails : 12;
	if (!rows) {
		paragraph(L, "期间内没有不合格的负荷点。", BODY);
		return;
	}
	subheading(L, "不合格最多的负荷点");
	static const struct col c[] = { { "制造商", 80, AL_LEFT },
					{ "负荷点", 170, AL_LEFT },
					{ "检定数", 80, AL_RIGHT },
					{ "不合格", 80, AL_RIGHT },
					{ "超内控", 81, AL_RIGHT } };
	char(*num)[3][24] = calloc((size_t)rows, sizeof *num);
	const char **cells = calloc((size_t)rows * 5, sizeof *cells);
	if (!num || !cells) {
		L->nomem = 1;
	} else {
		for (int i = 0; i < rows; i++) {
			const struct quality_point_fail_row *p = &r->point_fails[i];
			snprintf(num[i][0], sizeof num[i][0], "%lld", (long long)p->n);
			snprintf(num[i][1], sizeof num[i][1], "%lld", (long long)p->fail);
			snprintf(num[i][2], sizeof num[i][2], "%lld", (long long)p->internal_fail);
			const char *row[5] = { p->maker, p->label, num[i][0], num[i][1],
					       num[i][2] };
			memcpy(cells + i * 5, row, sizeof row);
		}
		table(L, c, 5, cells, rows);
	}
	free(num);
	free(cells);
}

static void distributions(struct lay *L, const struct quality_report *r)
{
	heading_keep(L, "四、误差分布（各负荷点）", 170);
	paragraph(
		L,
		"横轴为误差（%），按限值的十分之一分组；红色实线为检定规程限值，橙色虚线为内控限值。"
		"两端的柱包括超出 1.5 倍限值的全部误差。",
		BODY);
	const float w = (RIGHT - LEFT - 30) / 2, h = 125;
	int col = 0;
	for (size_t i = 0; i < r->n_points; i++) {
		const struct quality_point_row *p = &r->points[i];
		if (strcmp(p->dim, "total"))
			continue;
		if (col == 0)
			need(L, h);
		histogram(L, LEFT + col * (w + 30), L->y, w, p);
		if (++col == 2) {
			col = 0;
			L->y -= h;
		}
	}
	if (col)
		L->y -= h;
	/* the same per maker, as figures */
	int rows = 0;
	for (size_t i = 0; i < r->n_points; i++)
		rows += !strcmp(r->points[i].dim, "maker");
	if (!rows)
		return;
	subheading(L, "按制造商");
	static const struct col c[] = {
		{ "制造商", 66, AL_LEFT },       { "负荷点", 150, AL_LEFT },
		{ "数量", 55, AL_RIGHT },        { "平均（%）", 75, AL_RIGHT },
		{ "标准差（%）", 75, AL_RIGHT }, { "超内控", 70, AL_RIGHT }
	};
	char(*num)[4][32] = calloc((size_t)rows, sizeof *num);
	const char **cells = calloc((size_t)rows * 6, sizeof *cells);
	if (!num || !cells) {
		L->nomem = 1;
	} else {
		int k = 0;
		for (size_t i = 0; i < r->n_points; i++) {
			const struct quality_point_row *p = &r->points[i];
			if (strcmp(p->dim, "maker"))
				continue;
			snprintf(num[k][0], sizeof num[k][0], "%lld", (long long)p->n);
			quality_ratio(p->mean_e6, 1000000, 1, 4, num[k][1]);
			quality_ratio(p->sd_e6, 1000000, 1, 4, num[k][2]);
			char pct[32]; /* quality_ratio needs 32 */
			snprintf(num[k][3], sizeof num[k][3], "%s%%",
				 quality_ratio(p->internal_fail, p->n, 100, 2, pct));
			const char *row[6] = { p->key,    p->label,  num[k][0],
					       num[k][1], num[k][2], num[k][3] };
			memcpy(cells + k * 6, row, sizeof row);
			k++;
		}
		table(L, c, 6, cells, rows);
	}
	free(num);
	free(cells);
}

static void field(struct lay *L, const struct quality_report *r)
{
	heading(L, "五、运行故障");
	static const struct col c[] = {
		{ "维度", 50, AL_LEFT },      { "对象", 110, AL_LEFT },
		{ "在运表计", 80, AL_RIGHT }, { "运行表日", 90, AL_RIGHT },
		{ "故障", 60, AL_RIGHT },     { "故障率（次/千表年）", 101, AL_RIGHT }
	};
	static const char *const dims[][2] = { { "maker", "制造商" },
					       { "model", "型号" },
					       { "lot", "批次" } };
	int rows = 0;
	for (size_t i = 0; i < r->n_field; i++)
		for (int d = 0; d < 3; d++)
			rows += !strcmp(r->field[i].dim, dims[d][0]);
	if (!rows) {
		paragraph(L, "期间内没有在运表计（安装记录）。", BODY);
		return;
	}
	char(*num)[4][32] = calloc((size_t)rows, sizeof *num);
	const char **cells = calloc((size_t)rows * 6, sizeof *cells);
	if (!num || !cells) {
		L->nomem = 1;
		goto out;
	}
	int k = 0;
	for (int d = 0; d < 3; d++)
		for (size_t i = 0; i < r->n_field; i++) {
			const struct quality_field_row *f = &r->field[i];
			if (strcmp(f->dim, dims[d][0]))
				continue;
			snprintf(num[k][0], sizeof num[k][0], "%lld", (long long)f->assets);
			snprintf(num[k][1], sizeof num[k][1], "%lld", (long long)f->exposure_days);
			snprintf(num[k][2], sizeof num[k][2], "%lld", (long long)f->faults);
			quality_fault_rate(f->faults, f->exposure_days, num[k][3]);
			const char *row[6] = { dims[d][1], f->key,    num[k][0],
					       num[k][1],  num[k][2], num[k][3] };
			memcpy(cells + k * 6, row, sizeof row);
			k++;
		}
	table(L, c, 6, cells, rows);
	struct bar b[8];
	int n = 0;
	for (size_t i = 0; i < r->n_field && n < 8; i++) {
		const struct quality_field_row *f = &r->field[i];
		if (strcmp(f->dim, "age"))
			continue;
		int lo = atoi(f->key);
		static const int next[] = { 0, 3, 6, 12, 24, 36, 60 };
		int hi = 0;
		for (int j = 0; j < 6; j++)
			if (next[j] == lo)
				hi = next[j + 1];
		if (hi)
			snprintf(b[n].label, sizeof b[n].label, "%d–%d 个月", lo, hi);
		else
			snprintf(b[n].label, sizeof b[n].label, "%d 个月以上", lo);
		b[n].value = f->exposure_days ? (double)f->faults / (double)f->exposure_days : 0;
		char rate[32];
		snprintf(b[n].text, sizeof b[n].text, "%lld 次 / %lld 表日 = %s",
			 (long long)f->faults, (long long)f->exposure_days,
			 quality_fault_rate(f->faults, f->exposure_days, rate));
		n++;
	}
	if (n)
		bar_chart(L, "按运行月数的故障率（次/千表年）", b, n, -1, NULL, FAULT);
out:
	free(num);
	free(cells);
}

static void trends(struct lay *L, const struct quality_report *r)
{
	heading_keep(L, "六、月度趋势", 150);
	int n = (int)r->n_months;
	if (!n)
		return;
	const char **labels = calloc((size_t)n, sizeof *labels);
	const char **fig = calloc((size_t)n, sizeof *fig);
	double *v = calloc((size_t)n, sizeof *v);
	char(*txt)[32] = calloc((size_t)n, sizeof *txt);
	if (!labels || !fig || !v || !txt) {
		L->nomem = 1;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const struct quality_month_row *m = &r->months[i];
		labels[i] = m->month;
		v[i] = m->n ? (double)m->fail / (double)m->n : 0;
		quality_ratio(m->fail, m->n, 100, 2, txt[i]);
		fig[i] = txt[i];
	}
	trend(L, "检定不合格率（%）", labels, v, fig, n, BAR);
	for (int i = 0; i < n; i++) {
		const struct quality_month_row *m = &r->months[i];
		v[i] = m->exposure_days ? (double)m->faults / (double)m->exposure_days : 0;
		quality_fault_rate(m->faults, m->exposure_days, txt[i]);
	}
	trend(L, "运行故障率（次/千表年）", labels, v, fig, n, FAULT);
out:
	free(labels);
	free(fig);
	free(v);
	free(txt);
}

static void warnings(struct lay *L, const struct quality_render_opts *o)
{
	heading(L, "七、预警");
	int rows = 0;
	for (size_t i = 0; i < o->n_alerts; i++)
		rows += o->alerts[i].flagged;
	char note[512];
	snprintf(
		note, sizeof note,
		"检定不合格率用 Fisher 精确检验（单侧，超几何分布），运行故障率用两个泊松率的条件精确检验"
		"（单侧，二项分布，以运行表日计），与同组对象比较；多重比较按 %s 校正，α = %s。"
		"判定以整数精确比较；p 值仅供阅读。",
		o->alert_method && !strcmp(o->alert_method, "bh") ? "Benjamini–Hochberg" : "Holm",
		o->alpha ? o->alpha : "0.05");
	paragraph(L, note, BODY);
	if (!rows) {
		paragraph(L, "没有对象显著高于同组。", BODY);
		return;
	}
	static const struct col c[] = { { "指标", 48, AL_LEFT },      { "对象", 92, AL_LEFT },
					{ "同组", 64, AL_LEFT },      { "本对象", 92, AL_RIGHT },
					{ "同组其他", 92, AL_RIGHT }, { "p 值", 55, AL_RIGHT },
					{ "阈值", 48, AL_RIGHT } };
	char(*num)[5][96] = calloc((size_t)rows, sizeof *num);
	const char **cells = calloc((size_t)rows * 7, sizeof *cells);
	if (!num || !cells) {
		L->nomem = 1;
		goto out;
	}
	int k = 0;
	for (size_t i = 0; i < o->n_alerts; i++) {
		const struct quality_alert *a = &o->alerts[i];
		if (!a->flagged)
			continue;
		int field = a->unit.metric == QUALITY_FIELD;
		char r1[32], r2[32];
		if (field) {
			snprintf(num[k][0], sizeof num[k][0], "%lld/%lld日 %s",
				 (long long)a->unit.x, (long long)a->unit.n,
				 quality_fault_rate(a->unit.x, a->unit.n, r1));
			snprintf(num[k][1], sizeof num[k][0], "%lld/%lld日 %s",
				 (long long)a->peer_x, (long long)a->peer_n,
				 quality_fault_rate(a->peer_x, a->peer_n, r2));
		} else {
			snprintf(num[k][0], sizeof num[k][0], "%lld/%lld %s%%",
				 (long long)a->unit.x, (long long)a->unit.n,
				 quality_ratio(a->unit.x, a->unit.n, 100, 2, r1));
			snprintf(num[k][1], sizeof num[k][0], "%lld/%lld %s%%",
				 (long long)a->peer_x, (long long)a->peer_n,
				 quality_ratio(a->peer_x, a->peer_n, 100, 2, r2));
		}
		snprintf(num[k][2], sizeof num[k][0], "%.3g", a->p);
		snprintf(num[k][3], sizeof num[k][0], "%llu/%llu", (unsigned long long)a->t_num,
			 (unsigned long long)a->t_den);
		snprintf(num[k][4], sizeof num[k][0], "%s %s",
			 !strcmp(a->unit.dim, "lot")     ? "批次"
			 : !strcmp(a->unit.dim, "model") ? "型号"
							 : "制造商",
			 a->unit.key);
		const char *row[7] = { field ? "故障" : "检定",
				       num[k][4],
				       a->unit.peer,
				       num[k][0],
				       num[k][1],
				       num[k][2],
				       num[k][3] };
		memcpy(cells + k * 7, row, sizeof row);
		k++;
	}
	table(L, c, 7, cells, rows);
out:
	free(num);
	free(cells);
}

static void notes(struct lay *L)
{
	heading(L, "说明");
	static const char *const lines[] = {
		"1. 检定按总结论（overall）的记录日期计入期间；误差按测量日期计入；运行故障按报告日期计入；"
		"日期按数据库会话的日历日，截止日含当日。",
		"2. 不合格率 = 不合格数 / 检定数；超内控 = 超出内控限值（检定规程限值乘以内控系数）的结果数；"
		"比率按四舍六入五成双取两位小数，由精确分数得出。",
		"3. 平均误差和标准差由精确整数和计算：平均值四舍六入五成双到 0.000001 %，标准差为精确样本方差"
		"平方根的整数部分（单位 0.000001 %），打印时再取四位小数。",
		"4. 运行表日 = 期间内每只表处于安装状态的日历日之和（自 install 起，至下一次 remove 或 "
		"fault_report 止）；故障率 = 故障数 × 365.25 × 1000 / 运行表日。在运行记录（第 11 号工作）"
		"上线前取自资产生命周期事件。",
		"5. 全部数据另见同名 CSV 文件（verdicts、items、points、point_failures、field、months）。",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		paragraph(L, lines[i], BODY - 0.5f);
}

static void footers(struct lay *L)
{
	int pages = L->page + 1;
	int cur = L->page;
	for (int p = 0; p < pages; p++) {
		char t[64];
		snprintf(t, sizeof t, "第 %d 页 共 %d 页", p + 1, pages);
		L->page = p;
		text(L, PAGE_W / 2, 44, SMALL + 0.5f, 0, AL_CENTER, t);
		line(L, LEFT, 58, RIGHT, 58, 0.4f, GRAY, 0);
	}
	L->page = cur;
}

static void layout(struct lay *L, const struct quality_report *r,
		   const struct quality_render_opts *o)
{
	L->page = 0;
	L->y = TOP;
	title_block(L, r, o);
	summary(L, r);
	heading(L, "二、检定不合格率");
	verdict_bars(L, r, "maker", "按制造商", 0);
	verdict_bars(L, r, "model", "按型号", 0);
	verdict_bars(L, r, "lot", "按批次", 12);
	failure_modes(L, r);
	distributions(L, r);
	field(L, r);
	trends(L, r);
	if (o->alerts)
		warnings(L, o);
	notes(L);
	footers(L);
}

/* ---- drawing ---- */

struct hpdf_err {
	HPDF_STATUS code, detail;
};

static void on_error(HPDF_STATUS code, HPDF_STATUS detail, void *user)
{
	struct hpdf_err *e = user;
	if (!e->code) {
		e->code = code;
		e->detail = detail;
	}
}

static void draw_page(HPDF_Page page, const struct lay *L, int p, HPDF_Font font,
		      struct pdf_font *pf, int *nomem)
{
	static const HPDF_UINT16 dash[] = { 3, 2 };
	for (size_t i = 0; i < L->n; i++) {
		const struct op *o = &L->ops[i];
		if (o->page != p)
			continue;
		if (o->kind == OP_FILL) {
			HPDF_Page_SetRGBFill(page, o->c.r, o->c.g, o->c.b);
			HPDF_Page_Rectangle(page, o->x, o->y, o->w, o->h);
			HPDF_Page_Fill(page);
		} else if (o->kind == OP_LINE || o->kind == OP_RECT) {
			HPDF_Page_SetRGBStroke(page, o->c.r, o->c.g, o->c.b);
			HPDF_Page_SetLineWidth(page, o->lw);
			HPDF_Page_SetDash(page, o->dash ? dash : NULL, o->dash ? 2 : 0, 0);
			if (o->kind == OP_RECT) {
				HPDF_Page_Rectangle(page, o->x, o->y, o->w, o->h);
			} else {
				HPDF_Page_MoveTo(page, o->x, o->y);
				HPDF_Page_LineTo(page, o->w, o->h);
			}
			HPDF_Page_Stroke(page);
		}
	}
	HPDF_Page_SetDash(page, NULL, 0, 0);
	HPDF_Page_SetRGBFill(page, 0, 0, 0);
	HPDF_Page_SetRGBStroke(page, 0, 0, 0);
	HPDF_Page_BeginText(page);
	HPDF_Page_SetLineWidth(page, 0.3f);
	float size = 0;
	int bold = 0;
	for (size_t i = 0; i < L->n; i++) {
		const struct op *o = &L->ops[i];
		if (o->page != p || (o->kind != OP_TEXT && o->kind != OP_TEXTB))
			continue;
		if (o->h != size) {
			size = o->h;
			HPDF_Page_SetFontAndSize(page, font, size);
		}
		if ((o->kind == OP_TEXTB) != bold) {
			bold = o->kind == OP_TEXTB;
			HPDF_Page_SetTextRenderingMode(page,
						       bold ? HPDF_FILL_THEN_STROKE : HPDF_FILL);
		}
		const char *t = pdf_font_text(pf, L->pool.data + o->text);
		if (t)
			HPDF_Page_TextOut(page, o->x, o->y, t);
		else
			*nomem = 1;
	}
	HPDF_Page_EndText(page);
}

static int save(HPDF_Doc pdf, struct ml_buf *out, struct hpdf_err *he)
{
	if (HPDF_SaveToStream(pdf) != HPDF_OK || he->code)
		return -1;
	HPDF_UINT32 size = HPDF_GetStreamSize(pdf);
	size_t at = out->len;
	static const char zeros[4096];
	for (HPDF_UINT32 left = size; left;) {
		HPDF_UINT32 n = left < sizeof zeros ? left : (HPDF_UINT32)sizeof zeros;
		if (ml_buf_append(out, zeros, n))
			return -2;
		left -= n;
	}
	HPDF_UINT32 got = size;
	if (HPDF_ReadFromStream(pdf, (HPDF_BYTE *)out->data + at, &got) != HPDF_OK || got != size ||
	    he->code)
		return -1;
	return 0;
}

static int emit(HPDF_Doc pdf, struct hpdf_err *he, const struct lay *L, struct pdf_font *pf,
		const struct quality_report *r, const struct quality_render_opts *o,
		struct ml_buf *out, struct ml_error *err)
{
	HPDF_SetCompressionMode(pdf, HPDF_COMP_ALL);
	HPDF_Font font = pdf_font_load(pf, pdf);
	if (!font || he->code)
		return ml_errorf(err, ML_EPDF,
				 "quality report: libharu error 0x%04X loading the font",
				 (unsigned)he->code);
	HPDF_Date d = { 0 };
	const char *created = o->created ? o->created : r->generated_at;
	if (sscanf(created, "%4d-%2d-%2d", &d.year, &d.month, &d.day) == 3) {
		d.ind = '+';
		d.off_hour = 8; /* China Standard Time, as certificates */
		HPDF_SetInfoDateAttr(pdf, HPDF_INFO_CREATION_DATE, d);
	}
	HPDF_SetInfoAttr(pdf, HPDF_INFO_CREATOR, "meterlab");
	char title[64];
	snprintf(title, sizeof title, "quality report %s .. %s", r->from, r->to);
	HPDF_SetInfoAttr(pdf, HPDF_INFO_TITLE, title);
	int nomem = 0;
	for (int p = 0; p <= L->page; p++) {
		HPDF_Page page = HPDF_AddPage(pdf);
		if (!page ||
		    HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT) != HPDF_OK)
			return ml_errorf(err, ML_EPDF,
					 "quality report: libharu error adding a page");
		draw_page(page, L, p, font, pf, &nomem);
		if (nomem)
			return ml_errorf(err, ML_ENOMEM, "quality report: out of memory");
		if (he->code)
			return ml_errorf(
				err, ML_EPDF,
				"quality report: libharu error 0x%04X (detail %u) drawing page %d",
				(unsigned)he->code, (unsigned)he->detail, p + 1);
	}
	int s = save(pdf, out, he);
	if (s == -2)
		return ml_errorf(err, ML_ENOMEM, "quality report: PDF exceeds the output buffer");
	return s ? ml_errorf(err, ML_EPDF, "quality report: libharu error 0x%04X writing the PDF",
			     (unsigned)he->code)
		 : ML_OK;
}

int quality_render(const struct quality_report *r, const struct quality_render_opts *o,
		   struct ml_buf *pdf, struct ml_error *err)
{
	static const struct quality_render_opts none = { 0 };
	if (!o)
		o = &none;
	if (!r || !r->from[0] || !r->to[0])
		return ml_errorf(err, ML_EINVAL, "quality report: no period");
	struct pdf_font *pf = NULL;
	struct lay L;
	memset(&L, 0, sizeof L);
	ml_buf_init(&L.pool, 16u << 20);
	HPDF_Doc h = NULL;
	int rc = pdf_font_new(o->font_path, o->font_face, &pf, err);
	if (rc)
		goto out;
	L.font = pdf_font_face(pf);
	layout(&L, r, o);
	if (L.nomem || ml_buf_failed(&L.pool)) {
		rc = ml_errorf(err, ML_ENOMEM, "quality report: out of memory laying out");
		goto out;
	}
	if ((rc = pdf_font_prepare(pf, L.used, err)))
		goto out;
	struct hpdf_err he = { 0, 0 };
	h = HPDF_New(on_error, &he);
	if (!h) {
		rc = ml_errorf(err, ML_ENOMEM, "quality report: HPDF_New failed");
		goto out;
	}
	rc = emit(h, &he, &L, pf, r, o, pdf, err);
out:
	if (h)
		HPDF_Free(h);
	free(L.ops);
	ml_buf_free(&L.pool);
	pdf_font_free(pf);
	return rc;
}
