/*
 * scheme_text.c — the reviewable text form of a scheme (see scheme.h):
 *
 *   scheme  code=CODE  version=N  name="free text"
 *   suits   kinds=meter_1p,meter_3p  classes=1,2  connection=direct
 *   basic   I=0.1Ib  pf=0.5L  element=H  [readings=N] [pulses=N] [settle=MS] [limit=%]
 *   creep | start  [duration=SECONDS]
 *   constant  I=Imax  pf=1.0  element=H  [energy=WH] [duration=SECONDS]
 *   clock   [readings=N] [duration=SECONDS] [limit=S/D]
 *   ct | vt percent=5  burden=100  [readings=N] [limit=%]
 *
 * '#' starts a comment. Export → import gives an equal scheme (tested).
 */
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "lab/decimal.h"
#include "lab/scheme.h"

#define MAX_TOK 16
#define LINE_MAX_LEN 1024

struct tok {
	char key[32];
	char val[160];
};

/* ---- formatting ---- */

static int put_dec(struct ml_buf *b, const char *key, int64_t v, int scale)
{
	char t[DEC4_FMT_MAX];
	int dec = 0;
	for (int64_t u = 1, d = 0; d < scale; d++, u *= 10)
		if (v % (u * 10) != 0) {
			dec = scale - (int)d;
			break;
		}
	return ml_buf_printf(b, "  %s=%s", key, dec_format(v, scale, dec, 0, t, sizeof t));
}

static int put_options(struct ml_buf *b, const struct scheme_step *st)
{
	int rc = 0;
	if (st->readings)
		rc |= ml_buf_printf(b, "  readings=%d", st->readings);
	if (st->pulses)
		rc |= ml_buf_printf(b, "  pulses=%d", st->pulses);
	if (st->settle_timeout_ms)
		rc |= ml_buf_printf(b, "  settle=%d", st->settle_timeout_ms);
	if (st->limit_e4)
		rc |= put_dec(b, "limit", st->limit_e4, 4);
	if (st->energy_wh_e4)
		rc |= put_dec(b, "energy", st->energy_wh_e4, 4);
	if (st->duration_ms)
		rc |= put_dec(b, "duration", st->duration_ms, 3);
	return rc;
}

/* One step; its load point named for conn (In for transformer-operated meters). */
int scheme_step_format_for(const struct scheme_step *st, enum model_connection conn,
			   struct ml_buf *out, struct ml_error *err)
{
	int rc = scheme_step_check(st, err);
	if (rc)
		return rc;
	rc = ml_buf_printf(out, "%-8s", scheme_step_kind_name(st->kind));
	if (st->kind == STEP_BASIC || st->kind == STEP_CONSTANT) {
		char cur[24];
		rc |= ml_buf_printf(out, "  I=%s  pf=%s  element=%s",
				    point_current_text_for(st->point.base, st->point.mult_e4, conn,
							   cur, sizeof cur),
				    point_pf_text(st->point.pf),
				    point_element_text(st->point.element));
	} else if (st->kind == STEP_CT || st->kind == STEP_VT) {
		rc |= put_dec(out, "percent", st->percent_e4, 4);
		rc |= put_dec(out, "burden", st->burden_pct_e4, 4);
	}
	rc |= put_options(out, st);
	/* no trailing blanks after a bare kind ("creep") */
	while (!rc && out->len > 0 && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
	return rc ? ml_errorf(err, ML_ENOMEM, "out of memory") : ML_OK;
}

int scheme_step_format(const struct scheme_step *st, struct ml_buf *out, struct ml_error *err)
{
	return scheme_step_format_for(st, 0, out, err);
}

/* The connection a scheme is for; 0 when it suits both (its points then name Ib). */
enum model_connection scheme_connection(const struct scheme *s)
{
	enum model_connection c;
	struct ml_error ignore = ML_ERROR_INIT;
	return s->connection[0] && !model_connection_parse(s->connection, &c, &ignore) ? c : 0;
}

static int put_quoted(struct ml_buf *b, const char *s)
{
	int rc = ml_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			rc |= ml_buf_putc(b, '\\');
		rc |= ml_buf_putc(b, *s);
	}
	return rc | ml_buf_putc(b, '"');
}

int scheme_format_text(const struct scheme *s, struct ml_buf *out, struct ml_error *err)
{
	int rc = ml_buf_printf(out,
			       "# meterlab verification scheme; one step per line, '#' comments\n"
			       "scheme  code=%s  version=%d  name=",
			       s->code, s->version);
	rc |= put_quoted(out, s->name);
	rc |= ml_buf_printf(out, "\nsuits");
	if (s->kinds[0])
		rc |= ml_buf_printf(out, "  kinds=%s", s->kinds);
	if (s->classes[0])
		rc |= ml_buf_printf(out, "  classes=%s", s->classes);
	if (s->connection[0])
		rc |= ml_buf_printf(out, "  connection=%s", s->connection);
	rc |= ml_buf_putc(out, '\n');
	if (rc)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->nsteps; i++) {
		rc = scheme_step_format_for(&s->steps[i], scheme_connection(s), out, err);
		if (rc)
			return ml_error_prefix(err, "step %zu: ", i + 1), rc;
		if (ml_buf_putc(out, '\n'))
			return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	return ML_OK;
}

/* ---- parsing ---- */

/* Split "word k=v k=\"v w\" # comment" into the word and key/value tokens. */
static int tokenize(const char *line, char *word, size_t wlen, struct tok *t, int *nt,
		    struct ml_error *err)
{
	const char *p = line;
	*nt = 0;
	word[0] = '\0';
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			return ML_OK;
		const char *start = p;
		while (*p && *p != '=' && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		size_t kl = (size_t)(p - start);
		if (*p != '=') {
			if (word[0] || kl >= wlen)
				return ml_errorf(err, ML_EINVAL, "unexpected '%.*s'", (int)kl,
						 start);
			memcpy(word, start, kl);
			word[kl] = '\0';
			continue;
		}
		if (*nt == MAX_TOK || kl == 0 || kl >= sizeof t->key)
			return ml_errorf(err, ML_EINVAL, "bad or too many options at '%.20s'",
					 start);
		struct tok *k = &t[(*nt)++];
		memcpy(k->key, start, kl);
		k->key[kl] = '\0';
		p++;
		size_t vl = 0;
		int quoted = *p == '"';
		if (quoted)
			p++;
		while (*p && (quoted ? *p != '"'
				     : (*p != ' ' && *p != '\t' && *p != '\r' && *p != '#'))) {
			if (quoted && *p == '\\' && p[1])
				p++;
			if (vl + 1 >= sizeof k->val)
				return ml_errorf(err, ML_EINVAL, "value of %s too long", k->key);
			k->val[vl++] = *p++;
		}
		if (quoted && *p++ != '"')
			return ml_errorf(err, ML_EINVAL, "unterminated quote in %s", k->key);
		k->val[vl] = '\0';
	}
}

static int parse_int(const char *key, const char *v, int lo, int hi, int *out, struct ml_error *err)
{
	int64_t x;
	if (dec_parse(v, 0, &x, NULL) || x < lo || x > hi)
		return ml_errorf(err, ML_EINVAL, "%s=%s: expected an integer %d..%d", key, v, lo,
				 hi);
	*out = (int)x;
	return ML_OK;
}

static int parse_nonneg(const char *key, const char *v, int scale, int64_t *out,
			struct ml_error *err)
{
	if (dec_parse(v, scale, out, NULL) || *out < 0)
		return ml_errorf(err, ML_EINVAL, "%s=%s: expected a non-negative decimal", key, v);
	return ML_OK;
}

static int step_option(struct scheme_step *st, const struct tok *t, struct ml_error *err)
{
	const char *k = t->key, *v = t->val;
	if (!strcmp(k, "I"))
		return point_current_parse(v, &st->point.base, &st->point.mult_e4, err);
	if (!strcmp(k, "pf"))
		return point_pf_parse(v, &st->point.pf, err);
	if (!strcmp(k, "element"))
		return point_element_parse(v, &st->point.element, err);
	if (!strcmp(k, "readings"))
		return parse_int(k, v, 0, 32, &st->readings, err);
	if (!strcmp(k, "pulses"))
		return parse_int(k, v, 0, 65535, &st->pulses, err);
	if (!strcmp(k, "settle"))
		return parse_int(k, v, 0, 3600000, &st->settle_timeout_ms, err);
	if (!strcmp(k, "limit"))
		return parse_nonneg(k, v, 4, &st->limit_e4, err);
	if (!strcmp(k, "energy"))
		return parse_nonneg(k, v, 4, &st->energy_wh_e4, err);
	if (!strcmp(k, "duration"))
		return parse_nonneg(k, v, 3, &st->duration_ms, err);
	if (!strcmp(k, "percent"))
		return parse_nonneg(k, v, 4, &st->percent_e4, err);
	if (!strcmp(k, "burden"))
		return parse_nonneg(k, v, 4, &st->burden_pct_e4, err);
	return ml_errorf(err, ML_EINVAL, "unknown option '%s'", k);
}

static int copy_field(char *dst, size_t cap, const struct tok *t, struct ml_error *err)
{
	size_t n = strlen(t->val);
	if (n >= cap)
		return ml_errorf(err, ML_EINVAL, "%s longer than %zu bytes", t->key, cap - 1);
	memcpy(dst, t->val, n + 1);
	return ML_OK;
}

static int header_line(struct scheme **s, const struct tok *t, int nt, struct ml_error *err)
{
	const char *code = NULL, *name = NULL;
	int version = 0;
	for (int i = 0; i < nt; i++) {
		if (!strcmp(t[i].key, "code"))
			code = t[i].val;
		else if (!strcmp(t[i].key, "name"))
			name = t[i].val;
		else if (!strcmp(t[i].key, "version")) {
			if (parse_int("version", t[i].val, 0, 1000000, &version, err))
				return ML_EINVAL;
		} else
			return ml_errorf(err, ML_EINVAL, "unknown scheme option '%s'", t[i].key);
	}
	if (*s)
		return ml_errorf(err, ML_EINVAL, "second 'scheme' line");
	int rc = scheme_new(code, name ? name : code, s, err);
	if (!rc)
		(*s)->version = version;
	return rc;
}

static int suits_line(struct scheme *s, const struct tok *t, int nt, struct ml_error *err)
{
	int rc = ML_OK;
	for (int i = 0; i < nt && !rc; i++) {
		if (!strcmp(t[i].key, "kinds"))
			rc = copy_field(s->kinds, sizeof s->kinds, &t[i], err);
		else if (!strcmp(t[i].key, "classes"))
			rc = copy_field(s->classes, sizeof s->classes, &t[i], err);
		else if (!strcmp(t[i].key, "connection")) {
			enum model_connection c;
			rc = model_connection_parse(t[i].val, &c, err);
			if (!rc)
				rc = copy_field(s->connection, sizeof s->connection, &t[i], err);
		} else
			rc = ml_errorf(err, ML_EINVAL, "unknown suits option '%s'", t[i].key);
	}
	return rc;
}

static int step_line(struct scheme *s, const char *word, const struct tok *t, int nt,
		     struct ml_error *err)
{
	struct scheme_step st;
	memset(&st, 0, sizeof st);
	st.point.pf = PF_1;
	for (int k = STEP_CREEP; k <= STEP_VT; k++)
		if (!strcmp(word, scheme_step_kind_name((enum scheme_step_kind)k)))
			st.kind = (enum scheme_step_kind)k;
	if (!st.kind)
		return ml_errorf(err, ML_EINVAL, "unknown line type '%s'", word);
	if (!s)
		return ml_errorf(err, ML_EINVAL, "step before the 'scheme' line");
	for (int i = 0; i < nt; i++)
		if (step_option(&st, &t[i], err))
			return ML_EINVAL;
	return scheme_add_step(s, &st, err);
}

static int parse_line(struct scheme **s, const char *line, struct ml_error *err)
{
	char word[16];
	struct tok t[MAX_TOK];
	int nt;
	int rc = tokenize(line, word, sizeof word, t, &nt, err);
	if (rc || (!word[0] && nt == 0))
		return rc;
	if (!word[0])
		return ml_errorf(err, ML_EINVAL, "line has no type word");
	if (!strcmp(word, "scheme"))
		return header_line(s, t, nt, err);
	if (!strcmp(word, "suits"))
		return *s ? suits_line(*s, t, nt, err)
			  : ml_errorf(err, ML_EINVAL, "'suits' before 'scheme'");
	return step_line(*s, word, t, nt, err);
}

int scheme_parse_text(const char *text, struct scheme **out, struct ml_error *err)
{
	struct scheme *s = NULL;
	int lineno = 0, rc = ML_OK;
	/* a BOM (spreadsheets, Windows editors) is accepted; control characters are refused */
	text = ml_skip_bom(text);
	if (text && ml_text_file_check(text, strlen(text), "scheme", err))
		return ML_EINVAL;
	for (const char *p = text; p && *p && !rc;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[LINE_MAX_LEN];
		lineno++;
		if (len >= sizeof line)
			rc = ml_errorf(err, ML_EINVAL, "longer than %d bytes", LINE_MAX_LEN - 1);
		else {
			memcpy(line, p, len);
			line[len] = '\0';
			rc = parse_line(&s, line, err);
		}
		if (rc)
			ml_error_prefix(err, "scheme text line %d: ", lineno);
		p = nl ? nl + 1 : p + len;
	}
	if (!rc && (!s || s->nsteps == 0))
		rc = ml_errorf(err, ML_EINVAL, "scheme text: %s",
			       s ? "no steps" : "no 'scheme code=...' line");
	if (rc) {
		scheme_free(s);
		return rc;
	}
	*out = s;
	return ML_OK;
}
