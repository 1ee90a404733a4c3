/*
 * benchsim_scenario.c — parser of scenario files (format: devices/README.md).
 *
 *   # comment                      global keys first, then sections
 *   kind meter                     meter | transformer
 *   positions 24
 *   [1-24]                         positions (1-based), lists and ranges
 *   constant 1200
 *   error 0.05                     % (exact decimal, at most 4 places)
 *   point 0.05 1.0 +0.45           I/Ib, power factor (1.0, 0.5L, 0.8C), error %
 *   [7]
 *   defect dead
 *
 * Later sections override earlier ones, so a range sets the common meter
 * and single positions add their peculiarities. Every error names the file
 * and line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bench.h"
#include "devices/bench_codec.h"
#include "devices/benchsim_priv.h"

#define MAX_TOK 8

struct pctx {
	struct benchsim_scenario *sc;
	const char *file;
	int line;
	unsigned char sel[BR_MAX_POSITIONS]; /* positions of the current section */
	int in_section;
	struct ml_error *err;
};

static int perr(struct pctx *c, const char *fmt, const char *a, const char *b)
{
	return ml_errorf(c->err, ML_ECONFIG, "scenario %s line %d: %s%s%s", c->file, c->line, fmt,
			 a ? a : "", b ? b : "");
}

static int p_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int p_dec4(struct pctx *c, const char *s, int32_t *out)
{
	if (bcodec_dec4_parse(s, out))
		return perr(c, "not an exact decimal with at most 4 places: ", s, NULL);
	return 0;
}

static int p_num(struct pctx *c, const char *s, double lo, double hi, double *out)
{
	if (p_double(s, lo, hi, out)) {
		char range[64];
		snprintf(range, sizeof(range), " (expected %g..%g)", lo, hi);
		return perr(c, "bad number ", s, range);
	}
	return 0;
}

/* Power factor text: "1", "1.0", "0.5L" (lagging, phi > 0), "0.8C" (capacitive, phi < 0). */
static int p_pf(struct pctx *c, const char *s, float *phi)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%s", s);
	size_t n = strlen(tmp);
	int sign = 1;
	if (n && (tmp[n - 1] == 'L' || tmp[n - 1] == 'C')) {
		sign = tmp[n - 1] == 'L' ? 1 : -1;
		tmp[n - 1] = '\0';
	}
	double pf;
	if (p_double(tmp, 0, 1, &pf))
		return perr(c, "bad power factor ", s, " (expected e.g. 1.0, 0.5L, 0.8C)");
	*phi = (float)(sign * acos(pf) * 180.0 / M_PI);
	return 0;
}

/* "[1-24]", "[3]", "[1,5,9-12]" */
static int p_section(struct pctx *c, char *s)
{
	char *save = NULL;
	memset(c->sel, 0, sizeof(c->sel));
	c->in_section = 1;
	for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(t, '-');
		double a, b;
		if (dash)
			*dash = '\0';
		if (p_double(t, 1, c->sc->positions, &a) ||
		    (dash && p_double(dash + 1, 1, c->sc->positions, &b)))
			return perr(c, "bad position or range in section: ", t,
				    " (positions must be declared first)");
		if (!dash)
			b = a;
		for (int p = (int)a; p <= (int)b; p++)
			c->sel[p - 1] = 1;
	}
	return 0;
}

static void set_defaults(struct benchsim_scenario *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->device_class = BENCH_CLASS_METER;
	sc->phases = 1;
	sc->positions = 24;
	sc->u_max = 264;
	sc->i_max = 100;
	sc->std_class = 0.05f;
	snprintf(sc->model, sizeof(sc->model), "meterlab bench simulator");
	snprintf(sc->serial, sizeof(sc->serial), "SIM-0001");
	snprintf(sc->firmware, sizeof(sc->firmware), "meterlab-sim 1.0");
	sc->settle_s = 2.0;
	sc->reading_s = 1.0;
	sc->seed = 1;
	sc->proto_minor = BR_PROTO_MINOR;
	sc->no_pulses = 1;
	for (int p = 0; p < BR_MAX_POSITIONS; p++) {
		struct sim_pos_model *m = &sc->pos[p];
		m->present = 1;
		m->constant = 1200;
		m->ib = 5;
		m->creep_per_hour = 120;
		m->register_start = 1000.0;
	}
}

static int p_fault(struct pctx *c, char **t, int nt)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "delay_ms", offsetof(struct benchsim_faults, delay_ms) },
		{ "delay_count", offsetof(struct benchsim_faults, delay_count) },
		{ "exception", offsetof(struct benchsim_faults, exception) },
		{ "exception_count", offsetof(struct benchsim_faults, exception_count) },
		{ "freeze_heartbeat", offsetof(struct benchsim_faults, freeze_heartbeat) },
		{ "drop_after", offsetof(struct benchsim_faults, drop_after) },
		{ "down_ms", offsetof(struct benchsim_faults, down_ms) },
	};
	double v;
	if (nt != 3)
		return perr(c, "usage: fault KEY VALUE", NULL, NULL);
	if (p_num(c, t[2], 0, 65535, &v))
		return ML_ECONFIG;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (!strcmp(t[1], keys[k].key)) {
			uint16_t u = (uint16_t)v;
			memcpy((char *)&c->sc->faults + keys[k].off, &u, sizeof(u));
			return 0;
		}
	return perr(c, "unknown fault ", t[1], NULL);
}

static int p_global(struct pctx *c, char **t, int nt)
{
	struct benchsim_scenario *sc = c->sc;
	const char *k = t[0];
	double v;
	if (!strcmp(k, "fault"))
		return p_fault(c, t, nt);
	if (nt != 2)
		return perr(c, "expected one value after ", k, NULL);
	if (!strcmp(k, "name"))
		snprintf(sc->name, sizeof(sc->name), "%s", t[1]);
	else if (!strcmp(k, "model"))
		snprintf(sc->model, sizeof(sc->model), "%s", t[1]);
	else if (!strcmp(k, "serial"))
		snprintf(sc->serial, sizeof(sc->serial), "%s", t[1]);
	else if (!strcmp(k, "firmware"))
		snprintf(sc->firmware, sizeof(sc->firmware), "%s", t[1]);
	else if (!strcmp(k, "kind")) {
		if (strcmp(t[1], "meter") && strcmp(t[1], "transformer"))
			return perr(c, "kind must be meter or transformer, not ", t[1], NULL);
		sc->device_class = !strcmp(t[1], "meter") ? BENCH_CLASS_METER
							  : BENCH_CLASS_TRANSFORMER;
	} else if (!strcmp(k, "protocol")) {
		if (strcmp(t[1], "1.0") && strcmp(t[1], "1.1"))
			return perr(c, "protocol must be 1.0 or 1.1, not ", t[1], NULL);
		sc->proto_minor = t[1][2] - '0';
	} else if (!strcmp(k, "noise"))
		return p_dec4(c, t[1], &sc->noise_e4);
	else if (p_num(c, t[1], 0, 1e9, &v))
		return ML_ECONFIG;
	else if (!strcmp(k, "phases") && (v == 1 || v == 3))
		sc->phases = (int)v;
	else if (!strcmp(k, "positions") && v >= 1 && v <= BR_MAX_POSITIONS && !c->in_section)
		sc->positions = (int)v;
	else if (!strcmp(k, "u_max") && v > 0)
		sc->u_max = (float)v;
	else if (!strcmp(k, "i_max") && v > 0)
		sc->i_max = (float)v;
	else if (!strcmp(k, "std_class"))
		sc->std_class = (float)v;
	else if (!strcmp(k, "settle_s"))
		sc->settle_s = v;
	else if (!strcmp(k, "reading_s") && v > 0)
		sc->reading_s = v;
	else if (!strcmp(k, "seed"))
		sc->seed = (uint64_t)v;
	else if (!strcmp(k, "capabilities") && v < 128)
		sc->caps = (int)v;
	else if (!strcmp(k, "source_fault") && v <= 4)
		sc->source_fault = (uint16_t)v;
	else if (!strcmp(k, "no_pulses") && (v == 0 || v == 1))
		sc->no_pulses = (int)v;
	else
		return perr(c, "unknown key or value out of range: ", k, NULL);
	return 0;
}

static int p_defect(struct pctx *c, struct sim_pos_model *m, const char *d)
{
	if (!strcmp(d, "dead"))
		m->dead = 1;
	else if (!strcmp(d, "creeping"))
		m->creeping = 1;
	else if (!strcmp(d, "not_starting"))
		m->not_starting = 1;
	else if (!strcmp(d, "comm_fault"))
		m->comm_fault = 1;
	else if (!strcmp(d, "none"))
		m->dead = m->creeping = m->not_starting = m->comm_fault = 0;
	else
		return perr(c, "unknown defect ", d,
			    " (dead, creeping, not_starting, comm_fault, none)");
	return 0;
}

static int p_point(struct pctx *c, struct sim_pos_model *m, char **t, int nt)
{
	if (nt != 4)
		return perr(c, "usage: point I/Ib PF ERROR", NULL, NULL);
	if (m->npoints >= SIM_MAX_POINTS)
		return perr(c, "too many points", NULL, NULL);
	struct sim_point *pt = &m->points[m->npoints];
	if (p_dec4(c, t[1], &pt->imult_e4) || p_pf(c, t[2], &pt->phi) ||
	    p_dec4(c, t[3], &pt->err_e4))
		return ML_ECONFIG;
	m->npoints++;
	return 0;
}

static int p_xpoint(struct pctx *c, struct sim_pos_model *m, char **t, int nt)
{
	double pct, bva = -1;
	if (nt != 5)
		return perr(c, "usage: xpoint PERCENT BURDEN_VA|* RATIO_ERROR PHASE_MIN", NULL,
			    NULL);
	if (m->nx >= SIM_MAX_POINTS)
		return perr(c, "too many xpoints", NULL, NULL);
	struct sim_xpoint *x = &m->xp[m->nx];
	if (p_num(c, t[1], 0.1, 200, &pct) || (strcmp(t[2], "*") && p_num(c, t[2], 0, 1000, &bva)))
		return ML_ECONFIG;
	if (p_dec4(c, t[3], &x->ratio_e4) || p_dec4(c, t[4], &x->phase_e4))
		return ML_ECONFIG;
	x->percent = (float)pct;
	x->burden_va = (float)bva;
	m->nx++;
	return 0;
}

/* One key applied to one position model. */
static int p_pos_key(struct pctx *c, struct sim_pos_model *m, char **t, int nt)
{
	const char *k = t[0];
	double v;
	if (!strcmp(k, "point"))
		return p_point(c, m, t, nt);
	if (!strcmp(k, "xpoint"))
		return p_xpoint(c, m, t, nt);
	if (!strcmp(k, "absent") && nt == 1) {
		m->present = 0;
		return 0;
	}
	if (nt != 2)
		return perr(c, "expected one value after ", k, NULL);
	if (!strcmp(k, "defect"))
		return p_defect(c, m, t[1]);
	if (!strcmp(k, "error"))
		return p_dec4(c, t[1], &m->base_err_e4);
	if (!strcmp(k, "clock_drift"))
		return p_dec4(c, t[1], &m->clock_drift_e4);
	if (!strcmp(k, "register_error"))
		return p_dec4(c, t[1], &m->register_err_e4);
	if (!strcmp(k, "ratio_error"))
		return p_dec4(c, t[1], &m->ratio_e4);
	if (!strcmp(k, "phase_disp"))
		return p_dec4(c, t[1], &m->phase_e4);
	if (p_num(c, t[1], 0, 1e9, &v))
		return ML_ECONFIG;
	if (!strcmp(k, "present") && (v == 0 || v == 1))
		m->present = (int)v;
	else if (!strcmp(k, "constant") && v >= 1 && v <= 4e9)
		m->constant = (uint32_t)v;
	else if (!strcmp(k, "ib") && v > 0)
		m->ib = v;
	else if (!strcmp(k, "creep_rate"))
		m->creep_per_hour = v;
	else if (!strcmp(k, "start_current")) {
		m->start_a = v;
		m->start_given = 1;
	} else if (!strcmp(k, "register_start"))
		m->register_start = v;
	else
		return perr(c, "unknown position key or value out of range: ", k, NULL);
	return 0;
}

/* Split a line into tokens; "double quoted" tokens may hold spaces. */
static int tokenize(char *s, char **t)
{
	int n = 0;
	while (*s && n < MAX_TOK) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			break;
		if (*s == '"') {
			t[n++] = ++s;
			while (*s && *s != '"')
				s++;
		} else {
			t[n++] = s;
			while (*s && *s != ' ' && *s != '\t')
				s++;
		}
		if (*s)
			*s++ = '\0';
	}
	return n;
}

static int p_line(struct pctx *c, char *line)
{
	char *t[MAX_TOK];
	if (line[0] == '[') {
		char *e = strchr(line, ']');
		if (!e)
			return perr(c, "unterminated section header", NULL, NULL);
		*e = '\0';
		return p_section(c, line + 1);
	}
	int nt = tokenize(line, t);
	if (nt == 0)
		return 0;
	if (!c->in_section)
		return p_global(c, t, nt);
	for (int p = 0; p < c->sc->positions; p++)
		if (c->sel[p]) {
			int rc = p_pos_key(c, &c->sc->pos[p], t, nt);
			if (rc)
				return rc;
		}
	return 0;
}

/* Derived defaults once everything is read. */
static void finish_scenario(struct benchsim_scenario *sc)
{
	if (!sc->caps)
		sc->caps = sc->device_class == BENCH_CLASS_METER
				   ? (BENCH_CAP_BASIC | BENCH_CAP_CREEP | BENCH_CAP_START |
				      BENCH_CAP_CONSTANT | BENCH_CAP_CLOCK)
				   : (BENCH_CAP_CT | BENCH_CAP_VT);
	for (int p = 0; p < sc->positions; p++) {
		struct sim_pos_model *m = &sc->pos[p];
		/* A good class-1 meter starts well below 0.004 Ib (JJG 596-2012 starting current); a
		 * "not starting" one only at 10 % Ib, unless the file says otherwise. */
		if (!m->start_given)
			m->start_a = m->not_starting ? 0.1 * m->ib : 0.001 * m->ib;
	}
}

int benchsim_scenario_parse(const char *text, const char *name, struct benchsim_scenario **out,
			    struct ml_error *err)
{
	*out = NULL;
	struct benchsim_scenario *sc = malloc(sizeof(*sc));
	char *copy = strdup(text ? text : "");
	if (!sc || !copy) {
		free(sc);
		free(copy);
		return ml_errorf(err, ML_ENOMEM, "scenario %s: out of memory", name);
	}
	set_defaults(sc);
	snprintf(sc->name, sizeof(sc->name), "%s", name);
	struct pctx c = { .sc = sc, .file = name, .err = err };
	int rc = 0;
	for (char *l = copy, *nl; l && !rc; l = nl) {
		nl = strchr(l, '\n');
		if (nl)
			*nl++ = '\0';
		c.line++;
		size_t n = strlen(l);
		if (n && l[n - 1] == '\r')
			l[n - 1] = '\0';
		while (*l == ' ' || *l == '\t')
			l++;
		rc = p_line(&c, l);
	}
	free(copy);
	if (rc) {
		free(sc);
		return rc;
	}
	finish_scenario(sc);
	*out = sc;
	return ML_OK;
}

int benchsim_scenario_load(const char *path, struct benchsim_scenario **out, struct ml_error *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		char es[96];
		return ml_errorf(err, ML_ECONFIG, "scenario %s: %s", path,
				 ml_errno_str(errno, es, sizeof(es)));
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *nb = cap > (1u << 24) ? NULL : realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return ml_errorf(err, ML_ECONFIG,
						 "scenario %s: too large or out of memory", path);
			}
			buf = nb;
		}
		size_t r = fread(buf + len, 1, 4096, f);
		len += r;
		if (r < 4096)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	buf[len] = '\0';
	int rc = bad ? ml_errorf(err, ML_ECONFIG, "scenario %s: read error", path)
		     : benchsim_scenario_parse(buf, path, out, err);
	free(buf);
	return rc;
}

int benchsim_scenario_default(struct benchsim_scenario **out, struct ml_error *err)
{
	static const char text[] = "name builtin-default\n"
				   "model \"meterlab sim 1-phase bench\"\n"
				   "positions 24\nu_max 264\ni_max 100\n";
	return benchsim_scenario_parse(text, "builtin-default", out, err);
}

void benchsim_scenario_free(struct benchsim_scenario *sc)
{
	free(sc);
}

int benchsim_scenario_positions(const struct benchsim_scenario *sc)
{
	return sc->positions;
}

const char *benchsim_scenario_name(const struct benchsim_scenario *sc)
{
	return sc->name;
}

int benchsim_scenario_apply_faults(struct benchsim_scenario *dst,
				   const struct benchsim_scenario *src)
{
	const uint16_t *s = (const uint16_t *)&src->faults;
	uint16_t *d = (uint16_t *)&dst->faults;
	for (size_t i = 0; i < sizeof(src->faults) / sizeof(uint16_t); i++)
		if (s[i])
			d[i] = s[i];
	return ML_OK;
}

void benchsim_scenario_set_faults(struct benchsim_scenario *sc, const struct benchsim_faults *f)
{
	sc->faults = *f;
}
