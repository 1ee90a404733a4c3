#include "reports/cert_state.h"

#include <string.h>

#include "reports/cert_workflow.h"

static const char *const names[CERT_STATE_COUNT] = { "draft", "checked", "issued" };

const struct cert_state_rule cert_state_rules[] = {
	{ CERT_DRAFT, CERT_CHECKED, "cert.check", "ml_cert_check" },
	{ CERT_CHECKED, CERT_ISSUED, "cert.approve", "ml_cert_issue_begin" },
};
const size_t cert_state_nrules = sizeof cert_state_rules / sizeof cert_state_rules[0];

const char *cert_state_name(enum cert_state s)
{
	return (unsigned)s < CERT_STATE_COUNT ? names[s] : NULL;
}

int cert_state_parse(const char *s, enum cert_state *out, struct ml_error *err)
{
	for (int i = 0; s && i < CERT_STATE_COUNT; i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum cert_state)i;
			return ML_OK;
		}
	}
	return ml_errorf(err, ML_EINVAL, "'%s' is not a certificate state (draft, checked, issued)",
			 s ? s : "(null)");
}

int cert_state_can(enum cert_state from, enum cert_state to)
{
	for (size_t i = 0; i < cert_state_nrules; i++) {
		if (cert_state_rules[i].from == from && cert_state_rules[i].to == to)
			return 1;
	}
	return 0;
}

int cert_state_change(struct db *db, const long long *ids, size_t n, enum cert_state from,
		      enum cert_state to, int threads, struct ml_error *err)
{
	if (!cert_state_can(from, to))
		return ml_errorf(err, ML_ESTATE, "a certificate cannot go from %s to %s",
				 cert_state_name(from) ? cert_state_name(from) : "?",
				 cert_state_name(to) ? cert_state_name(to) : "?");
	if (to == CERT_CHECKED)
		return cert_check(db, ids, n, err);
	return cert_approve_threads(db, ids, n, threads, err);
}
