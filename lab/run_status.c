/* run_status.c — a run's status and its legal changes (see run_status.h). */
#include "lab/run_status.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const names[RUN_STATUS_COUNT] = {
	[RUN_PENDING] = "pending",   [RUN_RUNNING] = "running", [RUN_INTERRUPTED] = "interrupted",
	[RUN_FINISHED] = "finished", [RUN_ABORTED] = "aborted",
};

/*
 * [from][to] = 1 when legal. The running/interrupted columns are exactly
 * run_status_transition (0113; tests/lab/run_status_test.cc compares them);
 * finished comes only from a running run's conclusion (ml_run_conclude),
 * aborted from any unfinished run (ml_run_abort: "every run can always be
 * ended").
 */
static const unsigned char legal[RUN_STATUS_COUNT][RUN_STATUS_COUNT] = {
	[RUN_PENDING] = { [RUN_RUNNING] = 1, [RUN_INTERRUPTED] = 1, [RUN_ABORTED] = 1 },
	[RUN_RUNNING] = { [RUN_RUNNING] = 1,
			  [RUN_INTERRUPTED] = 1,
			  [RUN_FINISHED] = 1,
			  [RUN_ABORTED] = 1 },
	[RUN_INTERRUPTED] = { [RUN_RUNNING] = 1, [RUN_INTERRUPTED] = 1, [RUN_ABORTED] = 1 },
	/* finished and aborted are terminal */
};

const char *run_status_name(enum run_status s)
{
	return (unsigned)s < RUN_STATUS_COUNT ? names[s] : NULL;
}

int run_status_parse(const char *s, enum run_status *out, struct ml_error *err)
{
	for (int i = 0; s && i < RUN_STATUS_COUNT; i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum run_status)i;
			return ML_OK;
		}
	}
	return ml_errorf(
		err, ML_EINVAL,
		"run status '%s' is not pending, running, interrupted, finished or aborted",
		s ? s : "");
}

int run_status_can(enum run_status from, enum run_status to)
{
	return (unsigned)from < RUN_STATUS_COUNT && (unsigned)to < RUN_STATUS_COUNT &&
	       legal[from][to];
}

int run_status_terminal(enum run_status s)
{
	return s == RUN_FINISHED || s == RUN_ABORTED;
}

int run_status_change(struct db *db, int64_t run_id, enum run_status *cur, enum run_status to,
		      const char *error, struct ml_error *err)
{
	if (to != RUN_RUNNING && to != RUN_INTERRUPTED)
		return ml_errorf(err, ML_EINTERNAL,
				 "run %" PRId64
				 ": status %s is set only by the run's conclusion or "
				 "abort",
				 run_id, run_status_name(to) ? run_status_name(to) : "?");
	if (!run_status_can(*cur, to))
		return ml_errorf(err, ML_ESTATE, "run %" PRId64 " is %s: it cannot become %s",
				 run_id, run_status_name(*cur) ? run_status_name(*cur) : "?",
				 run_status_name(to));
	char id[24];
	snprintf(id, sizeof id, "%" PRId64, run_id);
	const char *p[3] = { id, run_status_name(to), error };
	int rc = db_cmd(db, "SELECT ml_run_status($1::bigint, $2, $3)", 3, p, err);
	if (rc)
		return rc;
	*cur = to;
	return ML_OK;
}
