/*
 * render_layout.c — certificate layout (see render_layout.h).
 *
 * Page plan (domain.md §6.1, JJF 1069-2012 / JJF 1002-2010 App. G):
 *   page 1  cover: number, page x/y, title, client, instrument, model/spec,
 *           serial, manufacturer, basis, conclusion, signatures, dates,
 *           issuing body with authorisation number and contacts, QR code.
 *   page 2  inner page: record number, regulation, reference standards,
 *           place and environment, the ISO/IEC 17025 7.8.2.1 statements.
 *   page 3+ results: per-item conclusions, basic-error or ratio/phase table,
 *           failed items for a notice, end-of-content mark (以下空白).
 */
#include "reports/render_layout.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ML_LEFT 56.0f
#define ML_RIGHT (RL_PAGE_W - 56.0f)
#define ML_WIDTH (ML_RIGHT - ML_LEFT)
#define ML_TOP (RL_PAGE_H - 60.0f)
#define ML_BOTTOM 70.0f
#define DASH "—"

enum align {
	AL_LEFT,
	AL_CENTER,
	AL_RIGHT
};

struct lay {
	struct rl_list *l;
	const struct ttf_font *font;
	const struct cert_doc *doc;
	int page;
	float y; /* cursor: top of the next block */
	int rc;  /* first failure (ML_ENOMEM); later calls become no-ops */
};

void rl_list_init(struct rl_list *l)
{
	memset(l, 0, sizeof *l);
	ml_buf_init(&l->pool, 16u << 20);
}

void rl_list_reset(struct rl_list *l)
{
	l->n = 0;
	l->pages = 0;
	ml_buf_reset(&l->pool);
	memset(l->used, 0, sizeof l->used);
}

void rl_list_free(struct rl_list *l)
{
	if (!l)
		return;
	free(l->ops);
	ml_buf_free(&l->pool);
	memset(l, 0, sizeof *l);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : DASH;
}

static struct rl_op *push(struct lay *y, int kind)
{
	struct rl_list *l = y->l;
	if (y->rc)
		return NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct rl_op *p = realloc(l->ops, cap * sizeof *p);
		if (!p) {
			y->rc = ML_ENOMEM;
			return NULL;
		}
		l->ops = p;
		l->cap = cap;
	}
	struct rl_op *op = &l->ops[l->n++];
	memset(op, 0, sizeof *op);
	op->kind = (unsigned char)kind;
	op->page = (unsigned short)y->page;
	return op;
}

static void mark_used(struct rl_list *l, const char *s)
{
	while (*s) {
		uint32_t cp = ttf_utf8_next(&s);
		/* beyond the BMP (and U+FFFF): printed as a space, as libharu's UTF-8 encoder does */
		if (cp >= 0xFFFF)
			cp = 0x20;
		l->used[cp >> 3] |= (uint8_t)(1u << (cp & 7));
	}
}

static float width(const struct lay *y, const char *s, float size)
{
	return (float)ttf_font_text_width(y->font, s, size);
}

static void text_at(struct lay *y, float x, float base, float size, const char *s, int bold)
{
	if (!*s)
		return;
	size_t off = y->l->pool.len;
	if (!y->rc && (ml_buf_append(&y->l->pool, s, strlen(s)) || ml_buf_putc(&y->l->pool, '\0')))
		y->rc = ML_ENOMEM;
	if (y->rc)
		return;
	/* Control characters (a newline in an address) print as spaces; UTF-8 continuation bytes are >= 0x80. */
	for (char *c = y->l->pool.data + off; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7F)
			*c = ' ';
	s = y->l->pool.data + off;
	struct rl_op *op = push(y, bold ? RL_TEXTB : RL_TEXT);
	if (!op)
		return;
	op->x = x;
	op->y = base;
	op->h = size;
	op->text = (uint32_t)off;
	mark_used(y->l, s);
}

static void text_al(struct lay *y, float x0, float x1, float base, float size, const char *s,
		    enum align a, int bold)
{
	float w = width(y, s, size);
	float x = a == AL_LEFT ? x0 : a == AL_RIGHT ? x1 - w : (x0 + x1 - w) / 2;
	text_at(y, x, base, size, s, bold);
}

static void line(struct lay *y, float x0, float y0, float x1, float y1, float lw)
{
	struct rl_op *op = push(y, RL_LINE);
	if (op) {
		op->x = x0, op->y = y0, op->w = x1, op->h = y1, op->lw = lw;
	}
}

static void box(struct lay *y, int kind, float x, float yb, float w, float h, float lw)
{
	struct rl_op *op = push(y, kind);
	if (op) {
		op->x = x, op->y = yb, op->w = w, op->h = h, op->lw = lw;
	}
}

/*
 * Greedy line breaking: break before any CJK character or at the last
 * space of a Latin word, so "220V 5(60)A" never splits inside a token.
 * Returns the number of lines; draws them only when draw is set.
 */
static int wrap(struct lay *y, float x, float base, float w, float size, float lead, const char *s,
		int draw)
{
	char line_buf[1024];
	int lines = 0;
	while (*s) {
		const char *p = s, *brk = NULL;
		float acc = 0;
		while (*p) {
			const char *q = p;
			uint32_t cp = ttf_utf8_next(&q);
			uint32_t wcp = cp >= 0xFFFF || cp < 0x20 || cp == 0x7F ? 0x20
									       : cp; /* as drawn */
			float cw = (float)ttf_font_width1000(y->font, wcp) * size / 1000.0f;
			if (cp == ' ' || cp >= 0x2E80)
				brk = cp == ' ' ? q : p;
			if (acc + cw > w && p > s)
				break;
			if ((size_t)(q - s) >= sizeof line_buf)
				break;
			acc += cw;
			p = q;
		}
		const char *stop = *p && brk && brk > s ? brk : p;
		size_t n = (size_t)(stop - s);
		memcpy(line_buf, s, n);
		line_buf[n] = '\0';
		while (n && line_buf[n - 1] == ' ')
			line_buf[--n] = '\0';
		if (draw)
			text_at(y, x, base - lines * lead, size, line_buf, 0);
		lines++;
		s = stop;
		while (*s == ' ')
			s++;
	}
	return lines ? lines : 1;
}

/* Largest size <= size at which s fits in w (never below 5 pt). */
static float fit(const struct lay *y, const char *s, float size, float w)
{
	float tw = width(y, s, size);
	if (tw <= w)
		return size;
	float f = size * w / tw;
	return f < 5.0f ? 5.0f : f;
}

/* "2026-11-20" -> "2026年11月20日"; anything else is printed as given. */
static void cn_date(const char *iso, char *out, size_t n)
{
	int yy, mm, dd;
	char tail;
	if (iso && sscanf(iso, "%4d-%2d-%2d%c", &yy, &mm, &dd, &tail) == 3)
		snprintf(out, n, "%04d年%02d月%02d日", yy, mm, dd);
	else
		snprintf(out, n, "%s", or_dash(iso));
}

/* ---- cover -------------------------------------------------------------- */

#define COVER_LW 100.0f /* label column of the cover rows */

/* One cover row at size pt: 28 pt, plus a lead per wrapped line. Returns its height. */
static float cover_row(struct lay *y, const char *label, const char *value, float size, int draw)
{
	const float lead = size * 4.0f / 3.0f, vx = ML_LEFT + COVER_LW;
	int n = wrap(y, vx, 0, ML_RIGHT - vx, size, lead, or_dash(value), 0);
	float base = y->y - 16.0f;
	float bottom = base - (float)(n - 1) * lead - 8.0f;
	if (draw) {
		text_at(y, ML_LEFT + 8.0f, base, 12.0f, label, 0);
		wrap(y, vx, base, ML_RIGHT - vx, size, lead, or_dash(value), 1);
		line(y, vx - 4.0f, bottom + 3.0f, ML_RIGHT, bottom + 3.0f, 0.4f);
		y->y = bottom - 4.0f;
	}
	return 28.0f + (float)(n - 1) * lead;
}

static void cover_conclusion(struct lay *y, char *buf, size_t n)
{
	const struct cert_doc *d = y->doc;
	if (d->kind == CERT_KIND_CERTIFICATE && d->accuracy_class && *d->accuracy_class)
		snprintf(buf, n, "%s %s", d->accuracy_class, or_dash(d->conclusion));
	else
		snprintf(buf, n, "%s", or_dash(d->conclusion));
}

static void cover_issuer(struct lay *y)
{
	const struct cert_issuer *is = &y->doc->issuer;
	char b[512];
	const float size = 9.0f, lead = 13.0f;
	float base = 150.0f;
	snprintf(b, sizeof b, "计量检定机构授权证书号：%s", or_dash(is->authorization_no));
	text_at(y, ML_LEFT, base, size, b, 0);
	snprintf(b, sizeof b, "地址：%s    邮编：%s", or_dash(is->address), or_dash(is->postcode));
	base -= lead * (float)wrap(y, ML_LEFT, base - lead, ML_WIDTH - 100.0f, size, lead, b, 1);
	snprintf(b, sizeof b, "电话：%s    传真：%s", or_dash(is->phone), or_dash(is->fax));
	text_at(y, ML_LEFT, base - lead, size, b, 0);
	snprintf(b, sizeof b, "电子邮件：%s", or_dash(is->email));
	text_at(y, ML_LEFT, base - 2 * lead, size, b, 0);
}

static int dark(const QRcode *q, int r, int c)
{
	return r >= 0 && r < q->width && c >= 0 && c < q->width && (q->data[r * q->width + c] & 1);
}

/* Is the row-r run exactly columns c0..c1-1 (dark inside, light or edge outside)? */
static int same_run(const QRcode *q, int r, int c0, int c1)
{
	if (r >= q->width || dark(q, r, c0 - 1) || dark(q, r, c1))
		return 0;
	for (int c = c0; c < c1; c++)
		if (!dark(q, r, c))
			return 0;
	return 1;
}

/*
 * The QR code as filled rectangles in module units under one scaling
 * matrix (RL_QR), so the page stream holds short integers ("3 28 7 2 re").
 * Each horizontal run of dark modules is extended down over identical runs.
 * The module size is a multiple of 1/4 pt no larger than side/width.
 */
static void qr_code(struct lay *y, float x_right, float yb, float side)
{
	const struct cert_doc *d = y->doc;
	const char *text = d->qr_url && *d->qr_url ? d->qr_url : d->qr_payload;
	if (!text || !*text)
		return;
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q) {
		y->rc = ML_EINVAL;
		return;
	}
	int w = q->width;
	float m = (float)(int)(side / (float)w * 4.0f) / 4.0f;
	box(y, RL_QR, (float)(int)(x_right - m * (float)w), yb, m, 0, 0);
	uint8_t *used = calloc((size_t)w * (size_t)w, 1);
	for (int r = 0; used && r < w; r++) {
		for (int c = 0; c < w;) {
			if (!dark(q, r, c) || used[r * w + c]) {
				c++;
				continue;
			}
			int c0 = c;
			while (c < w && dark(q, r, c))
				c++;
			int h = 1;
			while (same_run(q, r + h, c0, c))
				h++;
			for (int k = 0; k < h; k++)
				memset(used + (r + k) * w + c0, 1, (size_t)(c - c0));
			/* module row r counts from the top; PDF y grows upwards */
			box(y, RL_FILL, (float)c0, (float)(w - r - h), (float)(c - c0), (float)h,
			    0);
		}
	}
	if (!used)
		y->rc = ML_ENOMEM;
	free(used);
	QRcode_free(q);
}

static void layout_cover(struct lay *y)
{
	const struct cert_doc *d = y->doc;
	const int notice = d->kind == CERT_KIND_NOTICE;
	char b[512];
	text_al(y, ML_LEFT, ML_RIGHT, RL_PAGE_H - 150.0f, 30.0f,
		notice ? "检定结果通知书" : "检定证书", AL_CENTER, 1);
	y->y = RL_PAGE_H - 172.0f;
	if (d->revision > 0) {
		snprintf(b, sizeof b, "第%d版，替代 %s", d->revision, or_dash(d->supersedes));
		text_al(y, ML_LEFT, ML_RIGHT, y->y - 4.0f, 10.5f, b, AL_CENTER, 0);
	}
	char model[512], concl[128], vdate[64], udate[64], idate[64];
	snprintf(model, sizeof model, "%s  %s", or_dash(d->model), d->spec ? d->spec : "");
	cover_conclusion(y, concl, sizeof concl);
	cn_date(d->verified_on, vdate, sizeof vdate);
	cn_date(d->valid_until, udate, sizeof udate);
	cn_date(d->issued_on, idate, sizeof idate);
	/* The issue date is the approver's (or an administrator's back-dating),
	 * which may differ from the verification date: both are printed. */
	const char *const all[][2] = {
		{ "送检单位", d->client },       { "计量器具名称", d->instrument },
		{ "型号/规格", model },          { "出厂编号", d->barcode },
		{ "制造单位", d->manufacturer }, { "检定依据", d->regulation },
		{ "检定结论", concl },           { NULL, NULL },
		{ "批准人", d->approver },       { "核验员", d->checker },
		{ "检定员", d->verifier },       { "检定日期", vdate },
		{ "有效期至", udate },           { "签发日期", idate },
	};
	const char *rows[sizeof all / sizeof all[0]][2];
	size_t nrows = 0;
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (notice && all[i][0] && !strcmp(all[i][0], "有效期至"))
			continue; /* a notice has no validity */
		rows[nrows][0] = all[i][0];
		rows[nrows++][1] = all[i][1];
	}
	/* Long values wrap; when they would run into the issuing body and seal
	 * (name at 205 pt), the values are set smaller until they fit. */
	float size = 12.0f;
	for (;;) {
		float total = 0;
		y->y = RL_PAGE_H - 205.0f;
		for (size_t i = 0; i < nrows; i++)
			total += rows[i][0] ? cover_row(y, rows[i][0], rows[i][1], size, 0) : 14.0f;
		if (RL_PAGE_H - 205.0f - total >= 222.0f || size <= 7.5f)
			break;
		size -= 0.5f;
	}
	for (size_t i = 0; i < nrows; i++) {
		if (rows[i][0])
			cover_row(y, rows[i][0], rows[i][1], size, 1);
		else
			y->y -= 14.0f;
	}
	text_al(y, ML_LEFT, ML_RIGHT - 130.0f, 205.0f, 12.0f, or_dash(d->issuer.name), AL_CENTER,
		1);
	text_al(y, ML_LEFT, ML_RIGHT - 130.0f, 188.0f, 9.0f, "（检定专用章）", AL_CENTER, 0);
	cover_issuer(y);
	qr_code(y, ML_RIGHT, 112.0f, 86.0f);
	snprintf(b, sizeof b, "验证码：%s", or_dash(d->verify_code));
	text_al(y, ML_RIGHT - 120.0f, ML_RIGHT, 100.0f, 8.5f, b, AL_RIGHT, 0);
}

/* ---- tables ------------------------------------------------------------- */

struct col {
	const char *head;
	float w;
	enum align a;
};

static void new_page(struct lay *y)
{
	y->page++;
	y->y = ML_TOP - 30.0f;
}

/*
 * Table cells. A value that fits at no less than 3/4 of the table size is
 * shrunk onto one line; a longer one (several runner notes, a long standard
 * name) wraps inside its cell at that smaller size and the row grows, so no
 * value is ever drawn outside its cell or below a legible size.
 */
#define CELL_PAD 3.0f
#define ROW_H 18.0f

static float cell_size(const struct lay *y, const char *s, float size, float w)
{
	return fit(y, s, size, w - 2 * CELL_PAD);
}

static int cell_wraps(const struct lay *y, const char *s, float size, float w)
{
	return cell_size(y, s, size, w) < size * 0.75f;
}

static float cell_lead(float size)
{
	return size * 0.75f * 1.4f;
}

/* Height of a row: 18 pt, or what its wrapped cells need. */
static float row_height(struct lay *y, const struct col *cols, size_t nc, const char *const *cells,
			int header)
{
	const float size = header ? 8.5f : 9.0f;
	float h = ROW_H;
	for (size_t i = 0; i < nc; i++) {
		const char *s = or_dash(cells[i]);
		if (!cell_wraps(y, s, size, cols[i].w))
			continue;
		int n = wrap(y, 0, 0, cols[i].w - 2 * CELL_PAD, size * 0.75f, cell_lead(size), s,
			     0);
		float need = (float)n * cell_lead(size) + 8.0f;
		if (need > h)
			h = need;
	}
	return h;
}

static void row(struct lay *y, const struct col *cols, size_t nc, const char *const *cells,
		int header)
{
	const float size = header ? 8.5f : 9.0f, h = row_height(y, cols, nc, cells, header);
	float x = ML_LEFT, top = y->y;
	if (header)
		box(y, RL_SHADE, ML_LEFT, top - h, ML_WIDTH, h, 0);
	for (size_t i = 0; i < nc; i++) {
		const char *s = or_dash(cells[i]);
		if (cell_wraps(y, s, size, cols[i].w)) {
			float ws = size * 0.75f, lead = cell_lead(size);
			int n = wrap(y, 0, 0, cols[i].w - 2 * CELL_PAD, ws, lead, s, 0);
			float first = top - (h - (float)n * lead) / 2 - lead + (lead - ws) / 2 +
				      1.0f;
			wrap(y, x + CELL_PAD, first, cols[i].w - 2 * CELL_PAD, ws, lead, s, 1);
		} else {
			enum align a = header ? AL_CENTER : cols[i].a;
			text_al(y, x + CELL_PAD, x + cols[i].w - CELL_PAD, top - h / 2 - 3.5f,
				cell_size(y, s, size, cols[i].w), s, a, 0);
		}
		if (i)
			line(y, x, top, x, top - h, 0.5f);
		x += cols[i].w;
	}
	box(y, RL_RECT, ML_LEFT, top - h, ML_WIDTH, h, 0.5f);
	y->y = top - h;
}

/* Room for `need` points below the cursor, else continue on a new page (with the table head again). */
static void ensure(struct lay *y, float need, const struct col *cols, size_t nc)
{
	if (y->y - need >= ML_BOTTOM)
		return;
	new_page(y);
	if (cols) {
		const char *heads[16];
		for (size_t i = 0; i < nc && i < 16; i++)
			heads[i] = cols[i].head;
		row(y, cols, nc, heads, 1);
	}
}

static void heading(struct lay *y, const char *s)
{
	ensure(y, 60.0f, NULL, 0);
	y->y -= 22.0f;
	text_at(y, ML_LEFT, y->y, 11.0f, s, 1);
	y->y -= 8.0f;
}

static void paragraph(struct lay *y, const char *s, float size)
{
	const float lead = size * 1.5f;
	int n = wrap(y, ML_LEFT + 12.0f, 0, ML_WIDTH - 12.0f, size, lead, s, 0);
	ensure(y, lead * (float)n + 4.0f, NULL, 0);
	wrap(y, ML_LEFT + 12.0f, y->y - lead + 3.0f, ML_WIDTH - 12.0f, size, lead, s, 1);
	y->y -= lead * (float)n + 2.0f;
}

static void table(struct lay *y, const struct col *cols, size_t nc, const char *const *cells,
		  size_t nrows)
{
	const char *heads[16];
	for (size_t i = 0; i < nc && i < 16; i++)
		heads[i] = cols[i].head;
	ensure(y,
	       row_height(y, cols, nc, heads, 1) + (nrows ? row_height(y, cols, nc, cells, 0) : 0) +
		       4.0f,
	       NULL, 0);
	row(y, cols, nc, heads, 1);
	for (size_t r = 0; r < nrows; r++) {
		ensure(y, row_height(y, cols, nc, cells + r * nc, 0), cols, nc);
		row(y, cols, nc, cells + r * nc, 0);
	}
}

/* ---- inner page --------------------------------------------------------- */

static void layout_inner(struct lay *y)
{
	const struct cert_doc *d = y->doc;
	char b[1024];
	new_page(y);
	snprintf(b, sizeof b, "原始记录号：%s", or_dash(d->record_no));
	text_at(y, ML_LEFT, y->y, 10.0f, b, 0);
	heading(y, "一、检定依据");
	paragraph(y, or_dash(d->regulation), 10.0f);
	heading(y, "二、本次检定所使用的计量标准器具");
	static const struct col cols[] = {
		{ "名称", 118, AL_CENTER },
		{ "测量范围", 90, AL_CENTER },
		{ "准确度等级/不确定度", 100, AL_CENTER },
		{ "证书编号", 110, AL_CENTER },
		{ "有效期至", 65.276f, AL_CENTER },
	};
	for (size_t i = 0; i == 0 || i < d->n_standards; i++) {
		const struct cert_standard *s = d->n_standards ? &d->standards[i] : NULL;
		const char *cells[5] = { s ? s->name : NULL, s ? s->range : NULL,
					 s ? s->accuracy : NULL, s ? s->cert_no : NULL,
					 s ? s->valid_until : NULL };
		if (i == 0)
			table(y, cols, 5, cells, 1);
		else {
			ensure(y, row_height(y, cols, 5, cells, 0), cols, 5);
			row(y, cols, 5, cells, 0);
		}
	}
	heading(y, "三、检定地点及环境条件");
	snprintf(b, sizeof b, "检定地点：%s", or_dash(d->place));
	paragraph(y, b, 10.0f);
	snprintf(b, sizeof b, "温度：%s        相对湿度：%s", or_dash(d->temperature),
		 or_dash(d->humidity));
	paragraph(y, b, 10.0f);
	heading(y, "四、声明");
	paragraph(y, "1. 本证书（通知书）给出的检定结果仅对本次所检定的计量器具有效。", 10.0f);
	paragraph(y, "2. 未经本检定机构书面批准，不得部分复制本证书（通知书）。", 10.0f);
	paragraph(y, "3. 本证书（通知书）无检定专用章、检定员、核验员、批准人签名均无效。", 10.0f);
}

/* ---- results ------------------------------------------------------------ */

static int failed(const char *verdict)
{
	return verdict && strstr(verdict, "不合格") != NULL;
}

/* A notice lists the failed items first, framed, and states the instrument must not be used (§6.1). */
static void notice_box(struct lay *y)
{
	const struct cert_doc *d = y->doc;
	struct ml_buf b = ML_BUF_INIT;
	int n = 0, rc = 0;
	for (size_t i = 0; i < d->n_items; i++)
		if (failed(d->items[i].conclusion))
			rc |= ml_buf_printf(&b, "%s%s", n++ ? "、" : "", or_dash(d->items[i].name));
	for (size_t i = 0; i < d->n_errors; i++)
		if (failed(d->errors[i].verdict))
			rc |= ml_buf_printf(&b, "%s基本误差（%s %s %s）", n++ ? "、" : "",
					    or_dash(d->errors[i].load), or_dash(d->errors[i].pf),
					    or_dash(d->errors[i].element));
	for (size_t i = 0; i < d->n_xfmr; i++)
		if (failed(d->xfmr[i].verdict))
			rc |= ml_buf_printf(&b, "%s误差（%s %s）", n++ ? "、" : "",
					    or_dash(d->xfmr[i].percent),
					    or_dash(d->xfmr[i].burden));
	if (rc)
		y->rc = ML_ENOMEM;
	const float size = 11.0f, lead = 16.0f, top = y->y - 10.0f;
	char head[64];
	snprintf(head, sizeof head, "不合格项目（%d项）：", n);
	const char *list = n ? ml_buf_str(&b) : DASH;
	int lines = wrap(y, ML_LEFT + 10.0f, 0, ML_WIDTH - 20.0f, size, lead, list, 0);
	float h = lead * (float)(lines + 2) + 14.0f;
	box(y, RL_RECT, ML_LEFT, top - h, ML_WIDTH, h, 1.5f);
	text_at(y, ML_LEFT + 10.0f, top - lead, size, head, 1);
	wrap(y, ML_LEFT + 10.0f, top - 2 * lead, ML_WIDTH - 20.0f, size, lead, list, 1);
	text_at(y, ML_LEFT + 10.0f, top - lead * (float)(lines + 2) - 2.0f, size,
		"结论：该计量器具经检定不合格，不得按原用途使用。", 1);
	y->y = top - h - 4.0f;
	ml_buf_free(&b);
}

static void items_table(struct lay *y)
{
	const struct cert_doc *d = y->doc;
	static const struct col cols[] = {
		{ "序号", 40, AL_CENTER },
		{ "检定项目", 150, AL_CENTER },
		{ "结论", 80, AL_CENTER },
		{ "说明", 213.276f, AL_CENTER },
	};
	heading(y, "一、检定项目及结论");
	const char *none[4] = { NULL, NULL, NULL, NULL };
	if (!d->n_items) {
		table(y, cols, 4, none, 1);
		return;
	}
	char num[24];
	for (size_t i = 0; i < d->n_items; i++) {
		snprintf(num, sizeof num, "%zu", i + 1);
		const char *cells[4] = { num, d->items[i].name, d->items[i].conclusion,
					 d->items[i].detail };
		if (i == 0)
			table(y, cols, 4, cells, 1);
		else {
			ensure(y, row_height(y, cols, 4, cells, 0), cols, 4);
			row(y, cols, 4, cells, 0);
		}
	}
}

static void errors_table(struct lay *y)
{
	const struct cert_doc *d = y->doc;
	static const struct col cols[] = {
		{ "负载点", 42, AL_CENTER },      { "电流", 42, AL_CENTER },
		{ "功率因数", 44, AL_CENTER },    { "元件", 34, AL_CENTER },
		{ "误差读数(%)", 121, AL_RIGHT }, { "平均值(%)", 50, AL_RIGHT },
		{ "化整值(%)", 50, AL_RIGHT },    { "误差限(%)", 50, AL_RIGHT },
		{ "结论", 50.276f, AL_CENTER },
	};
	heading(y, "二、基本误差");
	for (size_t i = 0; i < d->n_errors; i++) {
		const struct cert_error_row *e = &d->errors[i];
		const char *cells[9] = { e->load, e->current, e->pf,    e->element, e->readings,
					 e->mean, e->rounded, e->limit, e->verdict };
		if (i == 0)
			table(y, cols, 9, cells, 1);
		else {
			ensure(y, row_height(y, cols, 9, cells, 0), cols, 9);
			row(y, cols, 9, cells, 0);
		}
	}
}

static void xfmr_table(struct lay *y)
{
	const struct cert_doc *d = y->doc;
	static const struct col cols[] = {
		{ "百分点", 56, AL_CENTER },       { "二次负荷", 70, AL_CENTER },
		{ "比值差(%)", 70, AL_RIGHT },     { "相位差(′)", 70, AL_RIGHT },
		{ "比值差限值(%)", 75, AL_RIGHT }, { "相位差限值(′)", 75, AL_RIGHT },
		{ "结论", 67.276f, AL_CENTER },
	};
	heading(y, d->n_errors ? "三、比值差和相位差" : "二、比值差和相位差");
	for (size_t i = 0; i < d->n_xfmr; i++) {
		const struct cert_xfmr_row *e = &d->xfmr[i];
		const char *cells[7] = { e->percent,     e->burden,      e->ratio_error, e->phase,
					 e->ratio_limit, e->phase_limit, e->verdict };
		if (i == 0)
			table(y, cols, 7, cells, 1);
		else {
			ensure(y, row_height(y, cols, 7, cells, 0), cols, 7);
			row(y, cols, 7, cells, 0);
		}
	}
}

static void layout_results(struct lay *y)
{
	const struct cert_doc *d = y->doc;
	new_page(y);
	text_al(y, ML_LEFT, ML_RIGHT, y->y - 6.0f, 15.0f,
		d->kind == CERT_KIND_NOTICE ? "检定结果（不合格）" : "检定结果", AL_CENTER, 1);
	y->y -= 14.0f;
	if (d->kind == CERT_KIND_NOTICE)
		notice_box(y);
	items_table(y);
	if (d->n_errors)
		errors_table(y);
	if (d->n_xfmr)
		xfmr_table(y);
	/* The end mark may use the bottom margin: a page holding only the mark would look like lost content. */
	if (y->y - 24.0f < 44.0f)
		new_page(y);
	text_al(y, ML_LEFT, ML_RIGHT, y->y - 24.0f, 10.0f, "（以下空白）", AL_CENTER, 0);
}

/* Number, page x/y and frame on every page, added once the page count is known. */
static void page_furniture(struct lay *y)
{
	const struct cert_doc *d = y->doc;
	const int total = y->page + 1;
	char b[256];
	for (int p = 0; p < total; p++) {
		y->page = p;
		box(y, RL_RECT, 28.0f, 28.0f, RL_PAGE_W - 56.0f, RL_PAGE_H - 56.0f, 1.2f);
		box(y, RL_RECT, 32.0f, 32.0f, RL_PAGE_W - 64.0f, RL_PAGE_H - 64.0f, 0.4f);
		/* A revision keeps the original's number: name the revision on every
		 * page, so each page is identified as part of one complete report
		 * (ISO/IEC 17025:2017 7.8.2.1 d) and a loose page of the revision
		 * cannot pass for a page of the certificate it supersedes. */
		if (d->revision > 0)
			snprintf(b, sizeof b, "证书编号：%s（第%d版）", or_dash(d->cert_no),
				 d->revision);
		else
			snprintf(b, sizeof b, "证书编号：%s", or_dash(d->cert_no));
		text_al(y, ML_LEFT, ML_RIGHT, RL_PAGE_H - 56.0f, 10.0f, b, AL_RIGHT, 0);
		snprintf(b, sizeof b, "第 %d 页  共 %d 页", p + 1, total);
		text_al(y, ML_LEFT, ML_RIGHT, RL_PAGE_H - 70.0f, 9.0f, b, AL_RIGHT, 0);
		if (p > 0) {
			text_at(y, ML_LEFT, RL_PAGE_H - 56.0f, 10.0f, or_dash(d->issuer.name), 0);
			line(y, ML_LEFT, RL_PAGE_H - 76.0f, ML_RIGHT, RL_PAGE_H - 76.0f, 0.6f);
		}
	}
	y->l->pages = total;
}

int rl_layout_cert(struct rl_list *l, const struct cert_doc *doc, const struct ttf_font *font,
		   struct ml_error *err)
{
	rl_list_reset(l);
	if (!doc->cert_no || !*doc->cert_no)
		return ml_errorf(err, ML_EINVAL, "certificate: cert_no is required");
	int yy, mm, dd;
	char tail;
	if (!doc->issued_on || sscanf(doc->issued_on, "%4d-%2d-%2d%c", &yy, &mm, &dd, &tail) != 3)
		return ml_errorf(err, ML_EINVAL,
				 "certificate %s: issued_on '%s' is required as YYYY-MM-DD",
				 doc->cert_no, doc->issued_on ? doc->issued_on : "(null)");
	if (doc->kind != CERT_KIND_CERTIFICATE && doc->kind != CERT_KIND_NOTICE)
		return ml_errorf(err, ML_EINVAL, "certificate %s: unknown kind %d", doc->cert_no,
				 (int)doc->kind);
	struct lay y = { .l = l, .font = font, .doc = doc, .page = 0, .y = ML_TOP };
	layout_cover(&y);
	layout_inner(&y);
	layout_results(&y);
	page_furniture(&y);
	if (y.rc == ML_EINVAL)
		return ml_errorf(err, ML_EINVAL, "certificate %s: QR payload cannot be encoded",
				 doc->cert_no);
	if (y.rc)
		return ml_errorf(err, ML_ENOMEM, "certificate %s: out of memory during layout",
				 doc->cert_no);
	if (l->pages > 0xFFFF)
		return ml_errorf(err, ML_EINVAL, "certificate %s: too many pages", doc->cert_no);
	return ML_OK;
}
