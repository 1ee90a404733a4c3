/*
 * judge_manual.c — judge typed-in readings of one position (manual
 * verification), with exactly the functions the automatic path uses.
 * Format (judge.h): "LABEL, r1, r2, ..." per line; '#' comments.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lab/decimal.h"
#include "lab/judge.h"

#define FIELD_MAX (JUDGE_MAX_READINGS + 4)

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static const struct plan_step *find_step(const struct plan_step *steps, size_t n, const char *label)
{
	int digits = label[0] != '\0';
	for (const char *p = label; *p; p++)
		digits &= isdigit((unsigned char)*p) != 0;
	if (digits) {
		long k = strtol(label, NULL, 10);
		return k >= 1 && (size_t)k <= n ? &steps[k - 1] : NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(steps[i].label, label) == 0)
			return &steps[i];
	return NULL;
}

/* "pulses=N", "elapsed=SECONDS", "register=KWH" for creep/start/constant. */
static int counter_field(const char *f, struct judge_step_input *in, struct ml_error *err)
{
	const char *eq = strchr(f, '=');
	int64_t v;
	if (!eq)
		return ml_errorf(err, ML_EINVAL,
				 "'%s': expected pulses=N, elapsed=S or register=KWH", f);
	size_t kl = (size_t)(eq - f);
	if (kl == 6 && !strncmp(f, "pulses", 6)) {
		if (dec_parse(eq + 1, 0, &v, err) || v < 0 || v > UINT32_MAX)
			return ml_errorf(err, ML_EINVAL, "'%s': bad pulse count", f);
		in->pulses = (uint32_t)v;
	} else if (kl == 7 && !strncmp(f, "elapsed", 7)) {
		if (dec_parse(eq + 1, 3, &v, err) || v < 0)
			return ml_errorf(err, ML_EINVAL, "'%s': bad elapsed seconds", f);
		in->elapsed_ms = v;
	} else if (kl == 8 && !strncmp(f, "register", 8)) {
		if (dec4_parse(eq + 1, &v, err) || v < 0)
			return ml_errorf(err, ML_EINVAL, "'%s': bad register increment", f);
		in->register_delta_kwh_e4 = v;
	} else {
		return ml_errorf(err, ML_EINVAL, "'%s': unknown field", f);
	}
	return ML_OK;
}

static int reading_field(const struct plan_step *ps, char *f, struct judge_step_input *in,
			 struct ml_error *err)
{
	if (in->n == JUDGE_MAX_READINGS)
		return ml_errorf(err, ML_EINVAL, "more than %d readings", JUDGE_MAX_READINGS);
	char *slash = strchr(f, '/');
	int xfmr = ps->kind == STEP_CT || ps->kind == STEP_VT;
	if (slash && !xfmr)
		return ml_errorf(err, ML_EINVAL, "'%s': ratio/phase pairs are for CT/VT steps", f);
	if (slash)
		*slash = '\0';
	if (dec4_parse(trim(f), &in->value_e4[in->n], err))
		return ML_EINVAL;
	if (slash && dec4_parse(trim(slash + 1), &in->value2_e4[in->n], err))
		return ML_EINVAL;
	if (xfmr && !slash && ps->limit2_e4 > 0)
		return ml_errorf(err, ML_EINVAL, "'%s': expected ratio/phase (e.g. 0.05/1.5)", f);
	in->n++;
	return ML_OK;
}

/*
 * A typed-in step must hold every measurement the scheme requires (issue 8):
 * the step's reading count (§1.11; recheck readings may come on top), and for
 * creep and starting the time the meter was watched — creep passes only after
 * its whole window Δt (§1.7, a bench or stopwatch resolves 1 s), a start
 * needs the moment its pulse came (§1.6). A failing creep (too many pulses)
 * or start (no pulse) needs no time: the meter already failed.
 */
static int manual_complete(const struct plan_step *ps, const struct judge_step_input *in,
			   const struct lab_settings *set, struct ml_error *err)
{
	int counts = ps->kind == STEP_BASIC || ps->kind == STEP_CLOCK || ps->kind == STEP_CT ||
		     ps->kind == STEP_VT;
	if (counts && in->n < ps->readings)
		return ml_errorf(err, ML_EINVAL,
				 "step '%s' needs %d readings (scheme, settings %s), %d given",
				 ps->label, ps->readings,
				 ps->kind == STEP_BASIC   ? "basic.readings"
				 : ps->kind == STEP_CLOCK ? "clock.readings"
							  : "xfmr.readings",
				 in->n);
	if (ps->kind == STEP_CREEP && (int64_t)in->pulses <= set->creep_max_pulses &&
	    in->elapsed_ms + 1000 < ps->duration_ms)
		return ml_errorf(
			err, ML_EINVAL,
			"creep: %s; the meter must be watched for the whole creep time "
			"%lld.%03lld s (domain.md 1.7) before it passes: give elapsed=SECONDS",
			in->elapsed_ms ? "elapsed time too short" : "no elapsed time given",
			(long long)(ps->duration_ms / 1000), (long long)(ps->duration_ms % 1000));
	if (ps->kind == STEP_START && (int64_t)in->pulses >= set->start_min_pulses &&
	    in->elapsed_ms <= 0)
		return ml_errorf(
			err, ML_EINVAL,
			"start: give elapsed=SECONDS, when the pulse came (limit %lld.%03lld s, "
			"domain.md 1.6)",
			(long long)(ps->duration_ms / 1000), (long long)(ps->duration_ms % 1000));
	return ML_OK;
}

static int judge_line(const struct plan_step *steps, size_t nsteps, char *line,
		      const struct lab_settings *set, struct judge_step_result *out,
		      struct ml_error *err)
{
	char *save = NULL, *f[FIELD_MAX];
	int nf = 0;
	for (char *t = strtok_r(line, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (nf == FIELD_MAX)
			return ml_errorf(err, ML_EINVAL, "too many fields");
		f[nf++] = trim(t);
	}
	const struct plan_step *ps = nf ? find_step(steps, nsteps, f[0]) : NULL;
	if (!ps)
		return ml_errorf(err, ML_EINVAL, "no step labelled '%s'", nf ? f[0] : "");
	if (nf < 2)
		return ml_errorf(err, ML_EINVAL, "step '%s' has no readings", f[0]);
	struct judge_step_input in;
	memset(&in, 0, sizeof in);
	int counters = ps->kind == STEP_CREEP || ps->kind == STEP_START ||
		       ps->kind == STEP_CONSTANT;
	for (int i = 1; i < nf; i++) {
		int rc = counters ? counter_field(f[i], &in, err)
				  : reading_field(ps, f[i], &in, err);
		if (rc)
			return rc;
	}
	int rc = manual_complete(ps, &in, set, err);
	if (rc)
		return rc;
	return judge_step(ps, &in, set, out, err);
}

int judge_manual_text(const struct plan_step *steps, size_t nsteps, const char *text,
		      const struct lab_settings *set, struct judge_step_result **out, size_t *nout,
		      struct judge_position *pos, struct ml_error *err)
{
	struct judge_step_result *res = NULL;
	size_t n = 0, cap = 0;
	int lineno = 0, rc = ML_OK;
	judge_position_init(pos);
	for (const char *p = text; p && *p && !rc;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = malloc(len + 1);
		lineno++;
		if (!line) {
			rc = ml_errorf(err, ML_ENOMEM, "out of memory");
			break;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *t = trim(line);
		if (*t && n == cap) {
			cap = cap ? cap * 2 : 16;
			struct judge_step_result *r2 = realloc(res, cap * sizeof *r2);
			rc = r2 ? ML_OK : ml_errorf(err, ML_ENOMEM, "out of memory");
			res = r2 ? r2 : res;
		}
		if (*t && !rc) {
			rc = judge_line(steps, nsteps, t, set, &res[n], err);
			if (rc)
				ml_error_prefix(err, "readings line %d: ", lineno);
			else
				judge_position_add(pos, &res[n++]);
		}
		free(line);
		p = nl ? nl + 1 : p + len;
	}
	if (!rc && n == 0)
		rc = ml_errorf(err, ML_EINVAL, "no readings given");
	if (rc) {
		free(res);
		judge_position_init(pos);
		return rc;
	}
	*out = res;
	*nout = n;
	return ML_OK;
}
