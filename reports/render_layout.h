/*
 * render_layout.h — lays a certificate out into a display list (text runs,
 * lines, boxes, filled squares for the QR code) before any PDF object
 * exists.
 *
 * Laying out first means the renderer knows, before it touches libharu,
 * exactly which characters the document uses (for the font subset) and how
 * many pages there are (for "第 x 页 共 y 页" on every page). Widths come
 * from the parsed TrueType face, computed the way libharu computes them.
 */
#ifndef ML_RENDER_LAYOUT_H
#define ML_RENDER_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/ml_error.h"
#include "reports/cert_doc.h"
#include "reports/ttf_font.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RL_PAGE_W 595.276f /* A4 portrait, points */
#define RL_PAGE_H 841.89f

enum rl_kind {
	RL_TEXT = 1,  /* x,y baseline; h = font size; text = pool offset */
	RL_TEXTB = 2, /* same, drawn fill-then-stroke (heading weight) */
	RL_LINE = 3,  /* from (x,y) to (w,h); lw = line width */
	RL_RECT = 4,  /* stroked box x,y,w,h; lw = line width */
	RL_FILL = 5,  /* black box x,y,w,h in QR module units, relative to the page's RL_QR frame */
	RL_SHADE = 6, /* light-gray filled box (table heads) */
	RL_QR = 7,    /* QR frame: origin x,y (bottom left), module size w; at most one per page */
};

struct rl_op {
	unsigned char kind;
	unsigned short page; /* 0-based */
	float x, y, w, h, lw;
	uint32_t text;
};

/* The display list; reuse one across documents (rl_list_reset). */
struct rl_list {
	struct rl_op *ops;
	size_t n, cap;
	struct ml_buf pool; /* NUL-separated text runs */
	int pages;
	uint8_t used[8192]; /* BMP code points appearing in text runs (bitmap) */
};

void rl_list_init(struct rl_list *l);
void rl_list_reset(struct rl_list *l);
void rl_list_free(struct rl_list *l); /* NULL-safe */

/* Text of a RL_TEXT/RL_TEXTB op; valid until the list changes. */
static inline const char *rl_text(const struct rl_list *l, const struct rl_op *op)
{
	return l->pool.data + op->text;
}

/*
 * Lay out doc (cover, inner page, results pages; domain.md §6.1) into l,
 * which is reset first. Fails with ML_EINVAL when a required field
 * (cert_no, issued_on) is missing, ML_ENOMEM on allocation failure.
 */
int rl_layout_cert(struct rl_list *l, const struct cert_doc *doc, const struct ttf_font *font,
		   struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
