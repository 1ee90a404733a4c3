/*
 * asset_state.c — the asset lifecycle state machine, pure (no I/O).
 *
 * One [state][action] table owns every transition (style.md habit 13); the
 * database layer (lifecycle.c) only asks it. Stages follow domain.md §5.1:
 * arrival, arrival sampling, 100 % acceptance verification, qualified in
 * stock (合格在库), stock re-verification (库存复检), distribution to
 * secondary stores (配送出库), issue, installation, removal (拆回), fault
 * analysis, re-use, return to maker (返厂), scrap (报废).
 */
#include "assets/lifecycle.h"

#include <string.h>

static const char *const state_names[ASSET_STATE_COUNT] = {
	[ASSET_ARRIVED] = "arrived",
	[ASSET_SAMPLING] = "sampling",
	[ASSET_VERIFYING] = "verifying",
	[ASSET_IN_STOCK] = "in_stock",
	[ASSET_FAILED] = "failed",
	[ASSET_IN_TRANSIT] = "in_transit",
	[ASSET_SECONDARY_STOCK] = "secondary_stock",
	[ASSET_ISSUED] = "issued",
	[ASSET_INSTALLED] = "installed",
	[ASSET_REMOVED] = "removed",
	[ASSET_FAULT_ANALYSIS] = "fault_analysis",
	[ASSET_REVERIFY] = "reverify",
	[ASSET_RETURNED_TO_MAKER] = "returned_to_maker",
	[ASSET_SCRAPPED] = "scrapped",
	[ASSET_LOST] = "lost",
};

static const char *const action_names[ASSET_ACTION_COUNT] = {
	[ASSET_ACT_SAMPLE] = "sample",
	[ASSET_ACT_SAMPLE_RETURN] = "sample_return",
	[ASSET_ACT_VERIFY_START] = "verify_start",
	[ASSET_ACT_VERIFY_PASS] = "verify_pass",
	[ASSET_ACT_VERIFY_FAIL] = "verify_fail",
	[ASSET_ACT_VERIFY_ABORT] = "verify_abort",
	[ASSET_ACT_DISPATCH] = "dispatch",
	[ASSET_ACT_RECEIVE_SECONDARY] = "receive_secondary",
	[ASSET_ACT_ISSUE] = "issue",
	[ASSET_ACT_INSTALL] = "install",
	[ASSET_ACT_RETURN_UNUSED] = "return_unused",
	[ASSET_ACT_REMOVE] = "remove",
	[ASSET_ACT_FAULT_REPORT] = "fault_report",
	[ASSET_ACT_REUSE] = "reuse",
	[ASSET_ACT_RETURN_TO_MAKER] = "return_to_maker",
	[ASSET_ACT_SCRAP] = "scrap",
	[ASSET_ACT_REVERIFY_SEND] = "reverify_send",
	[ASSET_ACT_RECEIVE_CENTRAL] = "receive_central",
	[ASSET_ACT_LOSE] = "lose",
	[ASSET_ACT_FIND] = "find",
	[ASSET_ACT_COUNT_TRANSFER] = "count_transfer",
};

/*
 * next[from][action] = to + 1; 0 means "not allowed". Storing to + 1 lets
 * the unlisted cells default to 0 (refused) with designated initialisers.
 */
#define TO(s) ((signed char)((s) + 1))
static const signed char next[ASSET_STATE_COUNT][ASSET_ACTION_COUNT] = {
	[ASSET_ARRIVED] = {
		[ASSET_ACT_SAMPLE] = TO(ASSET_SAMPLING),
		[ASSET_ACT_VERIFY_START] = TO(ASSET_VERIFYING),
		[ASSET_ACT_RETURN_TO_MAKER] = TO(ASSET_RETURNED_TO_MAKER), /* lot rejected on sampling */
	},
	[ASSET_SAMPLING] = {
		[ASSET_ACT_SAMPLE_RETURN] = TO(ASSET_ARRIVED),
		[ASSET_ACT_VERIFY_START] = TO(ASSET_VERIFYING),
		[ASSET_ACT_RETURN_TO_MAKER] = TO(ASSET_RETURNED_TO_MAKER), /* lot rejected (0273) */
	},
	[ASSET_VERIFYING] = {
		[ASSET_ACT_VERIFY_PASS] = TO(ASSET_IN_STOCK),
		[ASSET_ACT_VERIFY_FAIL] = TO(ASSET_FAILED),
		[ASSET_ACT_VERIFY_ABORT] = TO(ASSET_REVERIFY),
	},
	[ASSET_IN_STOCK] = {
		[ASSET_ACT_VERIFY_START] = TO(ASSET_VERIFYING), /* stock re-verification 库存复检 */
		[ASSET_ACT_DISPATCH] = TO(ASSET_IN_TRANSIT),
		[ASSET_ACT_ISSUE] = TO(ASSET_ISSUED),
		[ASSET_ACT_REVERIFY_SEND] = TO(ASSET_REVERIFY),
		[ASSET_ACT_LOSE] = TO(ASSET_LOST),
		[ASSET_ACT_RETURN_TO_MAKER] = TO(ASSET_RETURNED_TO_MAKER), /* warranty; a rejected lot */
		[ASSET_ACT_COUNT_TRANSFER] = TO(ASSET_SECONDARY_STOCK), /* found in a city store (0206) */
	},
	[ASSET_FAILED] = {
		[ASSET_ACT_RETURN_TO_MAKER] = TO(ASSET_RETURNED_TO_MAKER),
		[ASSET_ACT_SCRAP] = TO(ASSET_SCRAPPED),
	},
	[ASSET_IN_TRANSIT] = {
		[ASSET_ACT_RECEIVE_SECONDARY] = TO(ASSET_SECONDARY_STOCK),
		[ASSET_ACT_RECEIVE_CENTRAL] = TO(ASSET_IN_STOCK),
		[ASSET_ACT_LOSE] = TO(ASSET_LOST),
	},
	[ASSET_SECONDARY_STOCK] = {
		[ASSET_ACT_ISSUE] = TO(ASSET_ISSUED),
		[ASSET_ACT_DISPATCH] = TO(ASSET_IN_TRANSIT),
		[ASSET_ACT_REVERIFY_SEND] = TO(ASSET_REVERIFY),
		[ASSET_ACT_LOSE] = TO(ASSET_LOST),
		[ASSET_ACT_COUNT_TRANSFER] = TO(ASSET_IN_STOCK), /* found in the central store (0206) */
	},
	[ASSET_ISSUED] = {
		[ASSET_ACT_INSTALL] = TO(ASSET_INSTALLED),
		[ASSET_ACT_RETURN_UNUSED] = TO(ASSET_IN_STOCK), /* or secondary_stock, see below */
	},
	[ASSET_INSTALLED] = {
		[ASSET_ACT_REMOVE] = TO(ASSET_REMOVED),
		[ASSET_ACT_FAULT_REPORT] = TO(ASSET_FAULT_ANALYSIS),
	},
	[ASSET_REMOVED] = {
		[ASSET_ACT_FAULT_REPORT] = TO(ASSET_FAULT_ANALYSIS),
		[ASSET_ACT_REUSE] = TO(ASSET_REVERIFY),
		[ASSET_ACT_SCRAP] = TO(ASSET_SCRAPPED),
	},
	[ASSET_FAULT_ANALYSIS] = {
		[ASSET_ACT_REUSE] = TO(ASSET_REVERIFY),
		[ASSET_ACT_RETURN_TO_MAKER] = TO(ASSET_RETURNED_TO_MAKER),
		[ASSET_ACT_SCRAP] = TO(ASSET_SCRAPPED),
	},
	[ASSET_REVERIFY] = {
		[ASSET_ACT_VERIFY_START] = TO(ASSET_VERIFYING),
	},
	[ASSET_LOST] = {
		[ASSET_ACT_FIND] = TO(ASSET_REVERIFY),
	},
	/* returned_to_maker and scrapped are terminal: no action. */
};

const char *asset_state_name(enum asset_state s)
{
	return (unsigned)s < ASSET_STATE_COUNT ? state_names[s] : NULL;
}

const char *asset_action_name(enum asset_action a)
{
	return (unsigned)a < ASSET_ACTION_COUNT ? action_names[a] : NULL;
}

static int parse_name(const char *s, const char *const *names, int count, int *out)
{
	for (int i = 0; s && i < count; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return ML_OK;
		}
	}
	return ML_EINVAL;
}

int asset_state_parse(const char *s, enum asset_state *out, struct ml_error *err)
{
	int v;
	if (parse_name(s, state_names, ASSET_STATE_COUNT, &v))
		return ml_errorf(
			err, ML_EINVAL,
			"unknown asset state '%s' (valid: arrived, sampling, verifying, in_stock, failed, "
			"in_transit, secondary_stock, issued, installed, removed, fault_analysis, reverify, "
			"returned_to_maker, scrapped)",
			s ? s : "");
	*out = (enum asset_state)v;
	return ML_OK;
}

int asset_action_parse(const char *s, enum asset_action *out, struct ml_error *err)
{
	int v;
	if (parse_name(s, action_names, ASSET_ACTION_COUNT, &v))
		return ml_errorf(
			err, ML_EINVAL,
			"unknown lifecycle action '%s' (valid: sample, sample_return, verify_start, "
			"verify_pass, verify_fail, verify_abort, dispatch, receive_secondary, issue, install, "
			"return_unused, remove, fault_report, reuse, return_to_maker, scrap)",
			s ? s : "");
	*out = (enum asset_action)v;
	return ML_OK;
}

int asset_can(enum asset_state from, enum asset_action action)
{
	if ((unsigned)from >= ASSET_STATE_COUNT || (unsigned)action >= ASSET_ACTION_COUNT)
		return 0;
	return next[from][action] != 0;
}

int asset_next_state(enum asset_state from, enum asset_action action, int to_secondary,
		     enum asset_state *to, struct ml_error *err)
{
	if (!asset_can(from, action)) {
		const char *fs = asset_state_name(from), *an = asset_action_name(action);
		return ml_errorf(err, ML_ESTATE, "action '%s' is not allowed in state '%s'",
				 an ? an : "?", fs ? fs : "?");
	}
	enum asset_state t = (enum asset_state)(next[from][action] - 1);
	/* An unused meter goes back to the store it is returned to. */
	if (action == ASSET_ACT_RETURN_UNUSED && to_secondary)
		t = ASSET_SECONDARY_STOCK;
	*to = t;
	return ML_OK;
}
