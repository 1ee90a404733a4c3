/*
 * stores.h — the warehouse (issue 11): storage slots and put-away, stock
 * queries, the validity rule for issue, re-verification of stock,
 * distribution orders (配送) between stores.
 *
 * Every operation is ONE function over one connection that runs in one
 * transaction (a savepoint inside the caller's transaction when one is
 * open: the caller decides to commit), with a report struct; the server
 * and web fronts call the same functions. Who acts is the connection's
 * authenticated user (ml_actor_id); the database functions (migrations
 * 0200–0224) check the permission, the state and the rules and change
 * assets only through ml_asset_apply. stores/README.md explains the model.
 *
 * Thread-safety: one connection per thread; no global state.
 */
#ifndef ML_STORES_H
#define ML_STORES_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "common/buf.h"
#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One refused scanned code: index into the caller's array, the code and why. */
struct stock_refusal {
	size_t index;
	char code[72];
	int err; /* ML_EINVAL, ML_ENOTFOUND, ML_ESTATE */
	char msg[320];
};

/* Report of an all-or-nothing scan operation (put-away, pick, re-verify send). */
struct stock_scan_report {
	size_t done;                   /* assets changed (0 unless all succeeded) */
	struct stock_refusal *refused; /* malloc'd, owned by the report */
	size_t nrefused;
};
/* Release the report's memory (NULL-safe); the struct itself is the caller's. */
void stock_scan_report_free(struct stock_scan_report *rep);

/* ---- slots and put-away ---- */

/*
 * Add a storage slot under a store. kind: area, shelf, box or pallet;
 * parent (a slot barcode of the same store) and name may be NULL. The slot
 * barcode is never 22 digits (those are assets). *slot_id may be NULL.
 * Permission store.slot.
 */
int stock_slot_add(struct db *db, const char *store, const char *barcode, const char *kind,
		   const char *parent, const char *name, int64_t *slot_id,
		   struct ml_error *err) ML_MUSTCHECK;

/*
 * The slots of one store (barcode, kind, name, parent slot's barcode), in
 * barcode order: what a scan page checks a slot code against while scanning
 * (the count and put-away refuse a code that is no slot of the store only on
 * submit). ML_ENOTFOUND naming the store when it is not a store. Reads only.
 */
int stock_slot_list(struct db *db, const char *store, PGresult **out,
		    struct ml_error *err) ML_MUSTCHECK;

/*
 * Put away by scanning: codes is the scan stream — a slot barcode, then the
 * asset barcodes that go into it, then another slot ... Each asset must be
 * verified stock (in_stock / secondary_stock) of the slot's store; an asset
 * in another slot moves. All or nothing: every refusal is in rep (may be
 * NULL), rc is the first refusal's code, err counts them and names the
 * first. Each asset gets a 'put_away' event naming the slot. Permission
 * store.slot.
 */
int stock_putaway(struct db *db, const char *const *codes, size_t n, struct stock_scan_report *rep,
		  struct ml_error *err) ML_MUSTCHECK;

/* ---- stock queries ---- */

struct stock_filter {
	const char *store, *slot, *model, *state, *lot; /* NULL = any */
	int min_age_months;                             /* > 0: verified at least this long ago */
	int by_slot;                                    /* 1: one row per slot as well */
};

/*
 * Counts of the assets in stores (every state whose location is a store,
 * in_transit counted at its from-store) grouped by store[, slot], model,
 * lot and state, with the oldest verification. *out (caller PQclear()s):
 * columns store, slot, model, lot, state, assets, oldest_verified,
 * not_valid (how many may not be issued). ML_EINVAL for an unknown state.
 */
int stock_counts(struct db *db, const struct stock_filter *f, PGresult **out,
		 struct ml_error *err) ML_MUSTCHECK;

/* Where an asset is, in words ("slot A-01 of store CENTRAL", "in transit on order 7 ..."). */
int stock_place(struct db *db, const char *barcode, char *place, size_t cap,
		struct ml_error *err) ML_MUSTCHECK;

/*
 * Where an asset is, its state, and whether it may be issued now
 * (ml_asset_issue_problem, 0369: the database's rules for issue — a state the
 * lifecycle issues from, no open order, no pending retirement, valid and not
 * waited too long — not the dates alone). why is "" when it may be issued,
 * else the reason (not repeating the barcode). ML_ENOTFOUND for an
 * unregistered barcode.
 */
struct stock_whereabouts {
	char place[256];
	char state[32];
	char why[400];
};
int stock_where(struct db *db, const char *barcode, struct stock_whereabouts *out,
		struct ml_error *err) ML_MUSTCHECK;

/*
 * The re-verification list (stock that may not be issued: expired, or
 * verified longer ago than stock.reverify_months) as CSV appended to out:
 * barcode,model,lot,store,slot,state,valid_until,verified_on,reason.
 * store NULL = every store. *count (may be NULL) = data rows.
 */
int stock_reverify_csv(struct db *db, const char *store, struct ml_buf *out, size_t *count,
		       struct ml_error *err) ML_MUSTCHECK;

/*
 * Send stock to a lab location for re-verification, all or nothing (state
 * reverify, event reverify_send with the reason, slot dropped). Refusals as
 * stock_putaway. Permission store.reverify.
 */
int stock_reverify_send(struct db *db, const char *const *barcodes, size_t n, const char *lab,
			const char *reason, struct stock_scan_report *rep,
			struct ml_error *err) ML_MUSTCHECK;

/* ---- distribution orders ---- */

struct order_line {
	const char *model;
	int quantity;
};

/*
 * Create an order from one store to another, with lines by model and
 * quantity and/or by barcodes (those are planned on the order at once).
 * Refused as a whole naming the bad model or barcode. Permission store.order.
 */
int order_create(struct db *db, const char *from, const char *to, const struct order_line *lines,
		 size_t nlines, const char *const *barcodes, size_t nbarcodes, const char *note,
		 int64_t *order_id, struct ml_error *err) ML_MUSTCHECK;

/*
 * Pick by scanning against an open order, all or nothing: wrong model,
 * over-picking, not in the from-store, not valid for issue, on another open
 * order, scanned twice, already picked — each refused in rep naming the
 * barcode. A race lost to another clerk is ML_ECONFLICT naming the barcode
 * (nothing picked). Permission store.order.
 */
int order_pick(struct db *db, int64_t order_id, const char *const *barcodes, size_t n,
	       struct stock_scan_report *rep, struct ml_error *err) ML_MUSTCHECK;

/* Dispatch an open order: every picked asset in_transit on it. *count (may be NULL) = assets. */
int order_dispatch(struct db *db, int64_t order_id, size_t *count,
		   struct ml_error *err) ML_MUSTCHECK;

enum order_outcome {
	ORDER_RECEIVED = 0,
	ORDER_ALREADY_RECEIVED = 1,
	ORDER_DUPLICATE = 2,        /* scanned twice in this list */
	ORDER_MISSING_REPORTED = 3, /* reported missing before: recorded lost */
	ORDER_EXTRA = 4,            /* a registered asset not on this order */
	ORDER_WRONG = 5,            /* unregistered/malformed, or on another order */
};
#define ORDER_OUTCOME_COUNT 6
const char *order_outcome_name(enum order_outcome o); /* static storage */

struct order_scan {
	size_t index;
	char code[72];
	enum order_outcome outcome;
	char msg[320];
};

/* The first page of what a receipt leaves in transit: small enough for a
 * scanner's every answer whatever the order's size (an order of 100 000
 * meters used to answer its whole missing list, megabytes, to every scan). */
#define ORDER_RECEIVE_PAGE 100

struct order_receive_report {
	size_t n[ORDER_OUTCOME_COUNT]; /* scans per outcome */
	struct order_scan *scans;      /* one per scan, malloc'd, owned by the report */
	size_t nscans;
	size_t in_transit; /* how many are still in transit after this receipt (exact) */
	/* the first of them in barcode order, at most ORDER_RECEIVE_PAGE, malloc'd;
	 * the rest: order_in_transit after the page's last (when in_transit > npage) */
	char (*page)[23];
	size_t npage;
};
void order_receive_report_free(struct order_receive_report *rep); /* NULL-safe */

/*
 * Receive a dispatched order by scanning at the destination. The scans on
 * the order become stock of the destination (one transaction); extra and
 * wrong scans are reported and change nothing (they are not refusals: rc is
 * ML_OK). rep lists every scan's outcome, how many are still in transit and
 * the first page of them (in the transaction of the receipt: what it left).
 * Permission store.order.
 */
int order_receive(struct db *db, int64_t order_id, const char *const *barcodes, size_t n,
		  struct order_receive_report *rep, struct ml_error *err) ML_MUSTCHECK;

/*
 * Close a dispatched order. Everything still in transit must be in missing
 * (with a reason): those become 'lost' recorded by the actor. *lost (may be
 * NULL) = how many. Refused naming an asset neither received nor listed.
 */
int order_close(struct db *db, int64_t order_id, const char *const *missing, size_t n,
		const char *reason, size_t *lost, struct ml_error *err) ML_MUSTCHECK;

/* Cancel an open order (nothing dispatched): its items are released. */
int order_cancel(struct db *db, int64_t order_id, const char *reason,
		 struct ml_error *err) ML_MUSTCHECK;

/*
 * An order's lines: *out (caller PQclear()s) columns order_id, status, from,
 * to, line, model, wanted, by_barcode, planned, picked, in_transit,
 * received, missing. ML_ENOTFOUND for an unknown order.
 */
int order_show(struct db *db, int64_t order_id, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

/*
 * A page of the barcodes still in transit on an order (dispatched, neither
 * received nor reported missing), in barcode order: those after `after`
 * (NULL: from the first), at most limit (1..ORDER_TRANSIT_PAGE_MAX; 0: the
 * maximum). *out (caller PQclear()s) has one column, barcode. This is what a
 * receiving page must list as missing to close the order (ml_order_close
 * refuses an in-transit asset left out), so it can be rebuilt after a reload.
 */
#define ORDER_TRANSIT_PAGE_MAX 10000
int order_in_transit(struct db *db, int64_t order_id, const char *after, int limit, PGresult **out,
		     struct ml_error *err) ML_MUSTCHECK;

/* Orders (newest first); status NULL = any. Columns order_id, status, from, to, created_by, created_at, assets. */
int order_list(struct db *db, const char *status, PGresult **out,
	       struct ml_error *err) ML_MUSTCHECK;

/* ---- stock counts (盘点) ---- */

enum count_kind {
	COUNT_SURPLUS = 0,      /* scanned here, recorded elsewhere (or lost) */
	COUNT_SHORTAGE = 1,     /* recorded here, not scanned */
	COUNT_WRONG_SLOT = 2,   /* here, but scanned in another slot */
	COUNT_UNREGISTERED = 3, /* no such asset (or a malformed barcode) */
};
#define COUNT_KIND_COUNT 4
const char *count_kind_name(enum count_kind k); /* static storage */

struct count_line {
	enum count_kind kind;
	char code[72];
	int adjustable; /* 1: confirming the count applies it */
	char note[320];
};

struct stock_count_report {
	int64_t count_id;
	size_t n[COUNT_KIND_COUNT];
	struct count_line *lines; /* malloc'd, owned by the report */
	size_t nlines;
};
void stock_count_report_free(struct stock_count_report *rep); /* NULL-safe */

/*
 * Submit a count of a store (slot NULL: codes are a put-away style stream,
 * assets before the first slot are found without a slot) or of one slot
 * (codes are assets). Nothing changes yet: rep lists the differences
 * (surplus, shortage, wrong slot, unregistered) of the new count. A code
 * that is neither an asset nor a slot of the store refuses the count
 * (ML_EINVAL naming it). Permission store.count.
 */
int stock_count_submit(struct db *db, const char *store, const char *slot, const char *const *codes,
		       size_t n, struct stock_count_report *rep, struct ml_error *err) ML_MUSTCHECK;

/*
 * Confirm a count as a SECOND person (the database refuses the counter,
 * ML_EPERM): its adjustable lines become history events with reason —
 * shortage: lost; surplus: moved here (or found: to re-verification);
 * wrong slot: the slot where it was found. *adjusted (may be NULL).
 * Permission store.confirm.
 */
int stock_count_confirm(struct db *db, int64_t count_id, const char *reason, size_t *adjusted,
			struct ml_error *err) ML_MUSTCHECK;
/* Reject a count as a second person: nothing adjusted. */
int stock_count_reject(struct db *db, int64_t count_id, const char *reason,
		       struct ml_error *err) ML_MUSTCHECK;
/* A count's lines: *out columns count_id, status, store, slot, counted_by, line, kind, code, adjustable, note. */
int stock_count_show(struct db *db, int64_t count_id, PGresult **out,
		     struct ml_error *err) ML_MUSTCHECK;

/* ---- retirement: return to the maker (warranty, 返厂), scrap (报废) ---- */

enum retire_action {
	RETIRE_RETURN_TO_MAKER = 0,
	RETIRE_SCRAP = 1
};

/*
 * Request a retirement of assets with a reason (to: a maker location for a
 * return, or NULL). Each asset must be in a state that takes the action
 * (failed, fault_analysis, removed; arrived for a lot rejected on sampling,
 * issue 14) and on no other pending request or open order. Refused as a
 * whole naming the barcode. Permission asset.retire.request.
 */
int retire_request(struct db *db, enum retire_action action, const char *const *barcodes, size_t n,
		   const char *reason, const char *to, int64_t *request_id,
		   struct ml_error *err) ML_MUSTCHECK;
/*
 * Approve as a SECOND person (permission asset.retire; the requester is
 * refused, ML_EPERM): every asset must still be in the state it had when
 * requested (else ML_ECONFLICT, nothing applied). *count (may be NULL).
 */
int retire_approve(struct db *db, int64_t request_id, const char *note, size_t *count,
		   struct ml_error *err) ML_MUSTCHECK;
/* Reject as a second person, with a note: nothing retired. */
int retire_reject(struct db *db, int64_t request_id, const char *note,
		  struct ml_error *err) ML_MUSTCHECK;
/* Requests (newest first; status NULL = any): request_id, action, status, assets, reason, requested_by, decided_by. */
int retire_list(struct db *db, const char *status, PGresult **out,
		struct ml_error *err) ML_MUSTCHECK;
/* One request's assets, so the second person sees what they approve (caller
 * PQclear()s): barcode, model, from_state (when requested), state (now),
 * place. ML_ENOTFOUND for an unknown request. */
int retire_show(struct db *db, int64_t request_id, PGresult **out,
		struct ml_error *err) ML_MUSTCHECK;

/* ---- files ---- */

/*
 * A scan list or order-lines file as people make them (a scanner's dump, a
 * spreadsheet saved as CSV): one code per line, the first field of a CSV
 * row; blank lines and a first line "barcode"/"code" are skipped. All or
 * nothing: a line with a control character, NUL or an over-long field is
 * refused naming its line number. *codes: ONE malloc'd block holding the
 * pointer array and the strings (free(*codes) frees all). *lines (may be
 * NULL): the 1-based source line of each code, malloc'd, caller frees.
 */
int stock_scan_parse(const char *data, size_t len, char ***codes, size_t *n, size_t **lines,
		     struct ml_error *err) ML_MUSTCHECK;

/*
 * An order-lines file (a spreadsheet saved as CSV): each row either
 * "MODEL,QUANTITY" (a line by model) or a 22-digit barcode in the first
 * column (a planned asset); a header row starting "model" or "barcode",
 * blank and # lines are skipped. All or nothing: a bad quantity, an empty
 * model or a control character is refused naming the line. The struct's
 * arrays point into one malloc'd block: order_file_free() releases it.
 */
struct order_file {
	struct order_line *lines;
	size_t nlines;
	const char **barcodes;
	size_t nbarcodes;
	void *block; /* owns everything above */
};
int order_file_parse(const char *data, size_t len, struct order_file *out,
		     struct ml_error *err) ML_MUSTCHECK;
void order_file_free(struct order_file *f); /* NULL-safe */

/*
 * A count sheet as CSV appended to out: what the records say lies in a store
 * (or one slot), slot by slot — slot,barcode,model,lot,state,verified_on —
 * for counting on paper or checking a scanner's dump. *count = rows.
 */
int stock_sheet_csv(struct db *db, const char *store, const char *slot, struct ml_buf *out,
		    size_t *count, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
