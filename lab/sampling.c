/*
 * sampling.c — ISO 2859-1 single sampling plans (normal, tightened,
 * reduced) over the generated tables in sampling_table.c.
 */
#include "lab/sampling.h"

#include <string.h>

#include "lab/decimal.h"
#include "lab/sampling_table.h"

static const char *const severity_names[] = { "normal", "tightened", "reduced" };

const char *sampling_severity_name(enum sampling_severity s)
{
	return s >= SAMPLING_NORMAL && s <= SAMPLING_REDUCED ? severity_names[s] : "?";
}

int sampling_severity_parse(const char *s, enum sampling_severity *out, struct ml_error *err)
{
	for (int i = SAMPLING_NORMAL; s && i <= SAMPLING_REDUCED; i++) {
		if (!strcmp(s, severity_names[i])) {
			*out = (enum sampling_severity)i;
			return ML_OK;
		}
	}
	return ml_errorf(err, ML_EINVAL,
			 "inspection severity '%s' is not one of normal, tightened, reduced",
			 s ? s : "");
}

static const char *const level_names[] = { NULL, "S-1", "S-2", "S-3", "S-4", "I", "II", "III" };
static const char *const aqls[SAMPLING_AQLS] = { "0.010", "0.015", "0.025", "0.040", "0.065",
						 "0.10",  "0.15",  "0.25",  "0.40",  "0.65",
						 "1.0",   "1.5",   "2.5",   "4.0",   "6.5" };

int sampling_level_parse(const char *s, enum sampling_level *out, struct ml_error *err)
{
	for (int i = SAMPLING_S1; s && i <= SAMPLING_III; i++) {
		/* "S1" is a common spelling of "S-1" */
		int dashless = strlen(level_names[i]) == 3 && s[0] == 'S' &&
			       s[1] == level_names[i][2] && !s[2];
		if (!strcmp(s, level_names[i]) || dashless) {
			*out = (enum sampling_level)i;
			return ML_OK;
		}
	}
	return ml_errorf(err, ML_EINVAL,
			 "inspection level '%s' is not one of S-1, S-2, S-3, S-4, I, II, III",
			 s ? s : "");
}

const char *sampling_level_name(enum sampling_level l)
{
	return l >= SAMPLING_S1 && l <= SAMPLING_III ? level_names[l] : "?";
}

const char *const *sampling_aqls(size_t *n)
{
	if (n)
		*n = SAMPLING_AQLS;
	return aqls;
}

static int aql_column(const char *aql, struct ml_error *err)
{
	int64_t v;
	if (aql && dec4_parse(aql, &v, NULL) == ML_OK) {
		for (int i = 0; i < SAMPLING_AQLS; i++) {
			int64_t c;
			if (dec4_parse(aqls[i], &c, NULL) == ML_OK && c == v)
				return i;
		}
	}
	ml_errorf(err, ML_EINVAL,
		  "AQL '%s' is not a Table 2-A column (0.010 … 6.5 %% nonconforming)",
		  aql ? aql : "");
	return -1;
}

static int letter_index(char l)
{
	const char *p = l ? strchr(sampling_letters, l) : NULL;
	return p ? (int)(p - sampling_letters) : -1;
}

static char code_letter(uint32_t lot, enum sampling_level level)
{
	for (int i = 0; i < SAMPLING_T1_ROWS; i++) {
		const struct sampling_t1_row *r = &sampling_table1[i];
		if (lot >= r->lot_min && (r->lot_max == 0 || lot <= r->lot_max))
			return r->letters[level - 1];
	}
	return 0;
}

static const struct sampling_cell (*table_of(enum sampling_severity s))[SAMPLING_AQLS]
{
	switch (s) {
	case SAMPLING_TIGHTENED:
		return sampling_table2b;
	case SAMPLING_REDUCED:
		return sampling_table2c;
	default:
		return sampling_table2a;
	}
}

static const char *const table_names[] = { "2-A", "2-B", "2-C" };

int sampling_plan_for(uint32_t lot_size, enum sampling_level level, const char *aql,
		      enum sampling_severity severity, struct sampling_plan *out,
		      struct ml_error *err)
{
	if (lot_size < 2)
		return ml_errorf(err, ML_EINVAL, "lot size %u: Table 1 starts at 2", lot_size);
	if (level < SAMPLING_S1 || level > SAMPLING_III)
		return ml_errorf(err, ML_EINVAL, "inspection level %d unknown", (int)level);
	if (severity < SAMPLING_NORMAL || severity > SAMPLING_REDUCED)
		return ml_errorf(err, ML_EINVAL, "inspection severity %d unknown", (int)severity);
	int col = aql_column(aql, err);
	if (col < 0)
		return ML_EINVAL;
	char letter = code_letter(lot_size, level);
	int li = letter_index(letter);
	if (li < 0)
		return ml_errorf(err, ML_EINTERNAL, "no code letter for lot %u", lot_size);
	const struct sampling_cell *c = &table_of(severity)[li][col];
	if (!c->use_letter)
		return ml_errorf(
			err, ML_EINVAL,
			"code letter %c at AQL %s has no plan in Table %s of the reference "
			"(unverified edge cell): choose another AQL or level",
			letter, aqls[col], table_names[severity]);
	memset(out, 0, sizeof *out);
	out->lot_size = lot_size;
	out->level = level;
	out->severity = severity;
	memcpy(out->aql, aqls[col], strlen(aqls[col]) + 1);
	out->aql_column = col;
	out->code_letter = letter;
	out->plan_letter = c->use_letter;
	out->arrow = c->cell == 'D' ? 1 : c->cell == 'U' ? -1 : 0;
	out->sample_size = c->n;
	out->ac = c->ac;
	out->re = c->re;
	out->unverified = c->unverified;
	/* ISO 2859-1: when the sample size equals or exceeds the lot size, inspect every item */
	if (c->n >= lot_size) {
		out->full_inspection = 1;
		out->sample_size = lot_size;
	}
	return ML_OK;
}

int sampling_plan_normal(uint32_t lot_size, enum sampling_level level, const char *aql,
			 struct sampling_plan *out, struct ml_error *err)
{
	return sampling_plan_for(lot_size, level, aql, SAMPLING_NORMAL, out, err);
}

int sampling_accepted_one_step_tighter(const struct sampling_plan *p, uint32_t nonconforming)
{
	int li = letter_index(p->plan_letter);
	if (p->severity != SAMPLING_NORMAL || li < 0 || p->aql_column <= 0 ||
	    p->aql_column >= SAMPLING_AQLS)
		return -1;
	const struct sampling_cell *t = &sampling_table2a[li][p->aql_column - 1];
	/* the same sample must be judged: same letter, so the same sample size */
	if (!t->use_letter || t->use_letter != p->plan_letter)
		return -1;
	return nonconforming <= (uint32_t)t->ac;
}

int sampling_lot_accepted(const struct sampling_plan *p, uint32_t nonconforming)
{
	return nonconforming <= (uint32_t)p->ac;
}
