/*
 * cert_state.h — a certificate's state: one enum, one table of legal
 * changes, one function that performs a change (as lab/run_status.h does
 * for runs; pgbouncer's change_client_state is the model). The database
 * holds the same rules — certificate.state's CHECK (0040) and the
 * functions that alone change it, ml_cert_check (draft → checked,
 * cert.check) and ml_cert_issue_* (checked → issued, cert.approve), 0141 —
 * and a test keeps the two equal. A state is never a string compared here
 * and there.
 *
 * Superseded and withdrawn are not states: an issued certificate stays
 * issued, and a supersession or a withdrawal is recorded beside it
 * (cert_supersession, cert_withdrawal), so what it said stays provable.
 */
#ifndef ML_REPORTS_CERT_STATE_H
#define ML_REPORTS_CERT_STATE_H

#include <stddef.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cert_state {
	CERT_DRAFT = 0,   /* drafted by the verifier from a run's results */
	CERT_CHECKED = 1, /* signed by a checker (核验) */
	CERT_ISSUED = 2,  /* approved (批准), numbered, its PDF stored: terminal */
	CERT_STATE_COUNT
};

/* "draft", "checked", "issued"; NULL outside the enum. Static storage. */
const char *cert_state_name(enum cert_state s);
/* ML_EINVAL naming s when it is not a state. */
int cert_state_parse(const char *s, enum cert_state *out, struct ml_error *err) ML_MUSTCHECK;

/* One legal change: who may make it and the database function that does. */
struct cert_state_rule {
	enum cert_state from, to;
	const char *perm;     /* the permission ml_require checks */
	const char *function; /* the SECURITY DEFINER function that changes the state */
};
extern const struct cert_state_rule cert_state_rules[];
extern const size_t cert_state_nrules;

/* 1 when from -> to is in the table. */
int cert_state_can(enum cert_state from, enum cert_state to);

/*
 * The one way meterlab moves certificates ids[0..n-1], all in state from,
 * to state to: checks the table (ML_ESTATE naming both states otherwise),
 * then calls the change's function — cert_check for checked, cert_approve
 * with threads renderers for issued (the database checks everything
 * again: the state, the person, the four-eyes rule).
 */
int cert_state_change(struct db *db, const long long *ids, size_t n, enum cert_state from,
		      enum cert_state to, int threads, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
