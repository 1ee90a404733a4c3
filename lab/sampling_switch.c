/*
 * sampling_switch.c — ISO 2859-1:1999 clause 9 switching rules (see the
 * header for the rules and their clauses).
 */
#include "lab/sampling_switch.h"

#include <stddef.h>
#include <string.h>

#include "lab/settings.h"

void sampling_switch_rules_default(struct sampling_switch_rules *r)
{
	*r = (struct sampling_switch_rules){
		.tighten_rejects = 2,
		.tighten_window = 5,
		.normal_after_accepts = 5,
		.reduced_score = 30,
		.score_ac2 = 3,
		.score_ac01 = 2,
		.discontinue_rejects = 5,
	};
}

void sampling_switch_rules_from(const struct lab_settings *s, struct sampling_switch_rules *r)
{
	*r = (struct sampling_switch_rules){
		.tighten_rejects = s->sw_tighten_rejects,
		.tighten_window = s->sw_tighten_window,
		.normal_after_accepts = s->sw_normal_after_accepts,
		.reduced_score = s->sw_reduced_score,
		.score_ac2 = s->sw_score_ac2,
		.score_ac01 = s->sw_score_ac01,
		.discontinue_rejects = s->sw_discontinue_rejects,
	};
}

int sampling_switch_rules_check(const struct sampling_switch_rules *r, struct ml_error *err)
{
	static const struct {
		const char *name;
		size_t off;
		int min, max;
	} lim[] = {
		{ "tighten_rejects", offsetof(struct sampling_switch_rules, tighten_rejects), 1,
		  32 },
		{ "tighten_window", offsetof(struct sampling_switch_rules, tighten_window), 1, 32 },
		{ "normal_after_accepts",
		  offsetof(struct sampling_switch_rules, normal_after_accepts), 1, 32 },
		{ "reduced_score", offsetof(struct sampling_switch_rules, reduced_score), 1, 1000 },
		{ "score_ac2", offsetof(struct sampling_switch_rules, score_ac2), 0, 100 },
		{ "score_ac01", offsetof(struct sampling_switch_rules, score_ac01), 0, 100 },
		{ "discontinue_rejects",
		  offsetof(struct sampling_switch_rules, discontinue_rejects), 1, 1000 },
	};
	for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
		int v;
		memcpy(&v, (const char *)r + lim[i].off, sizeof v);
		if (v < lim[i].min || v > lim[i].max)
			return ml_errorf(err, ML_EINVAL, "switching rule %s = %d is outside %d..%d",
					 lim[i].name, v, lim[i].min, lim[i].max);
	}
	if (r->tighten_rejects > r->tighten_window)
		return ml_errorf(err, ML_EINVAL,
				 "switching rule tighten_rejects (%d) exceeds tighten_window (%d)",
				 r->tighten_rejects, r->tighten_window);
	return ML_OK;
}

void sampling_switch_start(struct sampling_switch_state *s)
{
	memset(s, 0, sizeof *s);
	s->severity = SAMPLING_NORMAL;
}

static const char *const outcome_names[] = { "stay",       "to_tightened", "to_normal",
					     "to_reduced", "discontinue",  "resume" };

const char *sampling_switch_outcome_name(enum sampling_switch_outcome o)
{
	return o >= SAMPLING_SW_STAY && o <= SAMPLING_SW_RESUMED ? outcome_names[o] : "?";
}

int sampling_switch_reduced_eligible(const struct sampling_switch_rules *rules,
				     const struct sampling_switch_state *s)
{
	return s->severity == SAMPLING_NORMAL && !s->discontinued &&
	       s->score >= rules->reduced_score;
}

/* Lots not accepted among the last `window` lots of the history. */
static int rejects_in_last(const struct sampling_switch_state *s, int window)
{
	int n = window < s->history_n ? window : s->history_n, c = 0;
	for (int i = 0; i < n; i++)
		c += (s->history >> i) & 1u;
	return c;
}

/* The latest `k` lots were all accepted (and there were k of them). */
static int last_all_accepted(const struct sampling_switch_state *s, int k)
{
	return s->history_n >= k && rejects_in_last(s, k) == 0;
}

/* A switch starts a fresh history; the score starts at 0 on normal (9.3.3.2). */
static void switch_to(struct sampling_switch_state *s, enum sampling_severity to)
{
	s->severity = to;
	s->history = 0;
	s->history_n = 0;
	s->score = 0;
	s->tightened_rejects = 0;
}

static void score_lot(const struct sampling_switch_rules *r, struct sampling_switch_state *s,
		      const struct sampling_switch_event *ev)
{
	if (!ev->accepted)
		s->score = 0;
	else if (ev->ac >= 2)
		s->score = ev->tighter == 1 ? s->score + r->score_ac2 : 0;
	else
		s->score += r->score_ac01;
}

static int apply_lot(const struct sampling_switch_rules *r, struct sampling_switch_state *s,
		     const struct sampling_switch_event *ev, enum sampling_switch_outcome *what,
		     struct ml_error *err)
{
	if (s->discontinued)
		return ml_errorf(err, ML_ESTATE,
				 "sampling inspection is discontinued (ISO 2859-1 9.4: %d lots not "
				 "accepted on tightened inspection); it resumes only after the "
				 "supplier's corrective action is accepted",
				 s->tightened_rejects);
	if (!ev->original)
		return ML_OK; /* a resubmitted lot does not count for switching */
	s->history = (s->history << 1) | (ev->accepted ? 0u : 1u);
	if (s->history_n < 32)
		s->history_n++;
	switch (s->severity) {
	case SAMPLING_NORMAL:
		score_lot(r, s, ev);
		if (!ev->accepted && rejects_in_last(s, r->tighten_window) >= r->tighten_rejects) {
			switch_to(s, SAMPLING_TIGHTENED);
			*what = SAMPLING_SW_TO_TIGHTENED;
		}
		break;
	case SAMPLING_TIGHTENED:
		if (!ev->accepted && ++s->tightened_rejects >= r->discontinue_rejects) {
			s->discontinued = 1;
			*what = SAMPLING_SW_DISCONTINUE;
		} else if (last_all_accepted(s, r->normal_after_accepts)) {
			switch_to(s, SAMPLING_NORMAL);
			*what = SAMPLING_SW_TO_NORMAL;
		}
		break;
	case SAMPLING_REDUCED:
		if (!ev->accepted) {
			switch_to(s, SAMPLING_NORMAL);
			*what = SAMPLING_SW_TO_NORMAL;
		}
		break;
	}
	return ML_OK;
}

int sampling_switch_apply(const struct sampling_switch_rules *rules,
			  const struct sampling_switch_state *in,
			  const struct sampling_switch_event *ev, struct sampling_switch_state *out,
			  enum sampling_switch_outcome *what, struct ml_error *err)
{
	struct sampling_switch_state s = *in;
	enum sampling_switch_outcome w = SAMPLING_SW_STAY;
	int rc = ML_OK;
	switch (ev->kind) {
	case SAMPLING_EV_LOT:
		rc = apply_lot(rules, &s, ev, &w, err);
		break;
	case SAMPLING_EV_APPROVE_REDUCED:
		if (!sampling_switch_reduced_eligible(rules, &s))
			return ml_errorf(
				err, ML_ESTATE,
				"reduced inspection needs normal inspection with a switching "
				"score of at least %d (ISO 2859-1 9.3.3); it is %s with score %d",
				rules->reduced_score,
				s.discontinued ? "discontinued"
					       : sampling_severity_name(s.severity),
				s.score);
		switch_to(&s, SAMPLING_REDUCED);
		w = SAMPLING_SW_TO_REDUCED;
		break;
	case SAMPLING_EV_IRREGULAR:
		if (s.severity != SAMPLING_REDUCED)
			return ml_errorf(err, ML_ESTATE,
					 "only reduced inspection is left for irregular production "
					 "(ISO 2859-1 9.3.4); inspection is %s",
					 sampling_severity_name(s.severity));
		switch_to(&s, SAMPLING_NORMAL);
		w = SAMPLING_SW_TO_NORMAL;
		break;
	case SAMPLING_EV_RESUME:
		if (!s.discontinued)
			return ml_errorf(
				err, ML_ESTATE,
				"sampling inspection is not discontinued: nothing to resume");
		s.discontinued = 0;
		switch_to(&s, SAMPLING_TIGHTENED);
		w = SAMPLING_SW_RESUMED;
		break;
	default:
		return ml_errorf(err, ML_EINVAL, "unknown switching event %d", (int)ev->kind);
	}
	if (rc)
		return rc;
	*out = s;
	if (what)
		*what = w;
	return ML_OK;
}
