/*
 * sampling_switch.h — the switching rules between normal, tightened and
 * reduced inspection of ISO 2859-1:1999 clause 9 (GB/T 2828.1-2012 clause 9)
 * as a pure state machine over one supplier's (and model's) series of lots.
 *
 *   start            normal inspection, switching score 0 (9.2, 9.3.3.2)
 *   normal    -> tightened  tighten_rejects (2) of tighten_window (5) or
 *                           fewer consecutive lots not accepted on original
 *                           inspection (9.3.1)
 *   tightened -> normal     normal_after_accepts (5) consecutive lots
 *                           accepted on original inspection (9.3.2)
 *   normal    -> reduced    switching score >= reduced_score (30) AND the
 *                           responsible authority approves, production being
 *                           at a steady rate (9.3.3): an explicit event, a
 *                           person's decision, never automatic
 *   reduced   -> normal     a lot not accepted, or production irregular or
 *                           other conditions (9.3.4)
 *   tightened -> discontinued  discontinue_rejects (5) lots not accepted in
 *                           total while on tightened inspection (9.4); only
 *                           a resume event (the supplier's corrective action
 *                           accepted) restarts, at tightened inspection
 *   switching score (9.3.3.2 a), single sampling, normal inspection only:
 *     Ac >= 2: +score_ac2 (3) when the lot would also have been accepted at
 *              the AQL one step tighter, else 0
 *     Ac 0, 1: +score_ac01 (2) when the lot is accepted, else 0
 * Resubmitted lots do not count (the rules speak of "original inspection").
 *
 * The reference marks every one of these rules [M] unverified (domain.md
 * 3.4), so each number is a setting (struct sampling_switch_rules, loaded
 * from lab settings "sampling.switch.*"); the defaults are the values
 * above. Pure functions, no I/O, thread-safe.
 */
#ifndef ML_LAB_SAMPLING_SWITCH_H
#define ML_LAB_SAMPLING_SWITCH_H

#include <stdint.h>

#include "common/ml_error.h"
#include "lab/sampling.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sampling_switch_rules {
	int tighten_rejects;      /* 2 */
	int tighten_window;       /* 5 (at most 32) */
	int normal_after_accepts; /* 5 (at most 32) */
	int reduced_score;        /* 30 */
	int score_ac2;            /* 3 */
	int score_ac01;           /* 2 */
	int discontinue_rejects;  /* 5 */
};

void sampling_switch_rules_default(struct sampling_switch_rules *r);
struct lab_settings;
/* The rules as a centre set them (lab settings "sampling.switch.*"). */
void sampling_switch_rules_from(const struct lab_settings *s, struct sampling_switch_rules *r);
/* ML_EINVAL naming the rule when a value is out of its range. */
int sampling_switch_rules_check(const struct sampling_switch_rules *r,
				struct ml_error *err) ML_MUSTCHECK;

/* Plain data; the database keeps one per supplier and model (issue 14). */
struct sampling_switch_state {
	enum sampling_severity severity;
	int discontinued;      /* 9.4: sampling inspection stopped */
	int score;             /* switching score; 0 unless normal */
	uint32_t history;      /* lots on original inspection since the last switch, bit 0 the
				  latest; a set bit is a lot not accepted */
	int history_n;         /* lots in history (saturates at 32) */
	int tightened_rejects; /* lots not accepted since tightened inspection began */
};

/* The start of a series: normal inspection, score 0 (9.2). */
void sampling_switch_start(struct sampling_switch_state *s);

enum sampling_switch_event_kind {
	SAMPLING_EV_LOT = 1,         /* a lot decided */
	SAMPLING_EV_APPROVE_REDUCED, /* the responsible authority approves reduced inspection */
	SAMPLING_EV_IRREGULAR,       /* production irregular or other conditions: leave reduced */
	SAMPLING_EV_RESUME,          /* corrective action accepted: resume (tightened) */
};

struct sampling_switch_event {
	enum sampling_switch_event_kind kind;
	/* SAMPLING_EV_LOT: */
	int original; /* 1 original inspection; 0 a resubmitted lot (does not count) */
	int accepted; /* 1 accepted, 0 not accepted */
	int ac;       /* acceptance number of the plan used */
	int tighter;  /* Ac >= 2 on normal inspection: sampling_accepted_one_step_tighter() */
};

/* What an event did; codes may be stored: append-only. */
enum sampling_switch_outcome {
	SAMPLING_SW_STAY = 0,
	SAMPLING_SW_TO_TIGHTENED = 1,
	SAMPLING_SW_TO_NORMAL = 2,
	SAMPLING_SW_TO_REDUCED = 3,
	SAMPLING_SW_DISCONTINUE = 4,
	SAMPLING_SW_RESUMED = 5,
};

/* "stay", "to_tightened", "to_normal", "to_reduced", "discontinue", "resume". */
const char *sampling_switch_outcome_name(enum sampling_switch_outcome o);

/*
 * Apply one event to *in, giving *out (in and out may be the same) and
 * *what. An event the rules do not allow — a lot while inspection is
 * discontinued, approving reduced inspection below the score or off normal
 * inspection, leaving reduced when not on it, resuming when not
 * discontinued — is ML_ESTATE with a message naming the rule, and *out is
 * left unchanged. rules must pass sampling_switch_rules_check().
 */
int sampling_switch_apply(const struct sampling_switch_rules *rules,
			  const struct sampling_switch_state *in,
			  const struct sampling_switch_event *ev, struct sampling_switch_state *out,
			  enum sampling_switch_outcome *what, struct ml_error *err) ML_MUSTCHECK;

/* 1 when normal inspection has reached the score that allows reduced inspection. */
int sampling_switch_reduced_eligible(const struct sampling_switch_rules *rules,
				     const struct sampling_switch_state *s);

#ifdef __cplusplus
}
#endif
#endif
