/*
 * rotation.h — periodic rotation and on-site inspection due dates (周期轮换,
 * 现场检验, issue 15; sql/migrations/0302_rotation.sql). Reads are one
 * query each; *out is the caller's (PQclear).
 */
#ifndef ML_PLAN_ROTATION_H
#define ML_PLAN_ROTATION_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The rotation list of a month (YYYY-MM): per team, the installed meters
 * whose verification validity ends in the month (due) or ended before it
 * (overdue). Columns: team, status, barcode, model, point, address,
 * installed_on, valid_until. team NULL: every team.
 */
int rotation_list(struct db *db, const char *month, const char *team, PGresult **out,
		  struct ml_error *err) ML_MUSTCHECK;

/*
 * On-site inspections due up to `until` (YYYY-MM-DD, NULL: today): point,
 * class, team, last_inspected, installed_on, due_on, overdue.
 */
int inspection_due(struct db *db, const char *until, PGresult **out,
		   struct ml_error *err) ML_MUSTCHECK;

/* Give points an inspection class (I, II, III); permission inspection.class. *count: points set. */
int inspection_class_set(struct db *db, const char *const *points, size_t n, const char *cls,
			 long *count, struct ml_error *err) ML_MUSTCHECK;

/*
 * Swap work orders (0305, 0306). Open the rotation orders of a month
 * (YYYY-MM) from its rotation list, one per installed meter due or overdue
 * without an open order, for the installing team (team NULL: all);
 * permission swap.order. *opened: how many.
 */
int rotation_orders_open(struct db *db, const char *month, const char *team, long *opened,
			 struct ml_error *err) ML_MUSTCHECK;

/* Cancel an open order with a reason (swap.order); ML_ESTATE when done or cancelled. */
int swap_order_cancel(struct db *db, int64_t id, const char *reason,
		      struct ml_error *err) ML_MUSTCHECK;

#define SWAP_ORDER_PAGE_MAX 10000

/* One page of swap_order_list and the counts no page can give. */
struct swap_order_page {
	int64_t after;     /* in: orders with an id greater than this (0: from the first) */
	int limit;         /* in: 1..SWAP_ORDER_PAGE_MAX rows; 0: SWAP_ORDER_PAGE_MAX */
	long long total;   /* out: every order the filter matches, on all pages */
	long long overdue; /* out: how many of those are open past their due date */
	int64_t next;      /* out: the last id of this page when more follow, else 0 */
};

/*
 * A page of orders by state, in id order (keyset on the unique order id,
 * ml_swap_orders 0376): status open | done | cancelled | overdue (open past
 * due) | all (NULL = open); team and month (YYYY-MM) may be NULL. Columns:
 * id, kind, status, overdue, team, point, barcode, due_on, month,
 * inspection, opened_at, closed_at, replaced_by, note. *out is the
 * caller's (PQclear). pg (required) says where the page starts and how
 * long it is, and receives the exact counts and the next page's cursor.
 */
int swap_order_list(struct db *db, const char *status, const char *team, const char *month,
		    struct swap_order_page *pg, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

/*
 * State-based rotation (0309; plan setting rotation.state_based): draw the
 * in-service sample of a lot's installed meters (swap.order): ISO 2859-1
 * plan for the number installed (level I|II|III, AQL), recorded-seed draw
 * (seed_hex: 64 hex digits, NULL: random), a swap order per drawn meter.
 * *out: draw, barcode, point, swap_order_id (caller PQclears).
 */
int inservice_sample_draw(struct db *db, const char *lot, const char *level, const char *aql,
			  const char *seed_hex, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

/* Judge and confirm the lot's open sample from the drawn meters' verifications (sample.decide);
 * verdict "accept" (rotation deferred) or "reject" (the lot's meters rotated). ML_ESTATE: not yet. */
int inservice_sample_decide(struct db *db, const char *lot, const char *note, char verdict[8],
			    struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
