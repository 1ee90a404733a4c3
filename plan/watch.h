/*
 * watch.h — closed-loop monitoring (稽查监控, issue 15): rules that find
 * anomalies, work items opened by them, closed by a person. The rules and
 * their refusals live in sql/migrations/0300_watch.sql (ml_watch_detect,
 * ml_watch_run, ml_watch_close, ml_watch_rule_set); each call here is ONE
 * statement acting as the connection's authenticated person (ml_actor_id),
 * so it is one transaction or part of the caller's open one. The CLI
 * (cli/cmd_watch.c) and the server call these.
 *
 * Errors: enum ml_err with err naming the value (ML_ENOTFOUND unknown rule or
 * item, ML_ESTATE closed already or the condition still holds without a
 * reason, ML_EPERM no permission or not the item's role, ML_EINVAL bad input).
 * Results: *out is the caller's, PQclear() it.
 */
#ifndef ML_PLAN_WATCH_H
#define ML_PLAN_WATCH_H

#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Evaluate the enabled rules (rule NULL) or one rule (also when disabled).
 * Columns: rule, found, opened, open, cleared (open items whose condition
 * the run no longer found). Permission watch.run.
 */
int watch_run(struct db *db, const char *rule, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

struct watch_filter {
	const char *status; /* "open" (default when NULL), "closed", "all" */
	const char *rule;   /* NULL: every rule */
	const char *place;  /* location code, "centre" for the lab's own items; NULL: all */
	const char *role;   /* NULL: all */
	int overdue;        /* only open items past their due date */
	int64_t after;      /* keyset: items with an id greater than this (0: from the first) */
	int limit;          /* 1..WATCH_PAGE_MAX rows; 0: WATCH_PAGE_MAX */
};

#define WATCH_PAGE_MAX 10000

/* What a page of watch_list cannot tell by itself. */
struct watch_page {
	long long total; /* every item the filter matches, on all pages */
	int64_t next;    /* the last id of this page when more follow, else 0 */
};

/*
 * A page of items in id order (keyset on the unique item id). Columns: id,
 * rule, status, opened, due, overdue, role, place, summary, condition.
 * *pg (required) receives the exact count and the next page's cursor.
 */
int watch_list(struct db *db, const struct watch_filter *f, PGresult **out, struct watch_page *pg,
	       struct ml_error *err) ML_MUSTCHECK;

/* One item, every field; "details" is the evidence as JSON. ML_ENOTFOUND when absent. */
int watch_show(struct db *db, int64_t id, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

/*
 * Close an item with a rectification note; reason is required (else
 * ML_ESTATE) when the rule still finds the anomaly. *held (may be NULL)
 * tells whether it did. Permission watch.close and the item's role (or
 * manager).
 */
int watch_close(struct db *db, int64_t id, const char *note, const char *reason, int *held,
		struct ml_error *err) ML_MUSTCHECK;

/* The rules: code, title, threshold, unit, due_days, role, enabled. */
int watch_rules(struct db *db, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

/*
 * Change a rule; NULL keeps a field (threshold and due_days as decimal text,
 * enabled "yes"/"no"). Logged with the person and the reason (required).
 * Permission watch.rule.
 */
int watch_rule_set(struct db *db, const char *code, const char *threshold, const char *due_days,
		   const char *role, const char *enabled, const char *reason,
		   struct ml_error *err) ML_MUSTCHECK;

/*
 * Timeliness per place of the items opened in [from, to) (dates YYYY-MM-DD):
 * place, opened, closed, closed_in_time, share_in_time (%), open_overdue.
 */
int watch_timeliness(struct db *db, const char *from, const char *to, PGresult **out,
		     struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif

#endif
