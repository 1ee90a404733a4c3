/*
 * lifecycle.h — metering-asset lifecycle: the state machine, lookups and
 * all-or-nothing moves (domain.md §5.1 計量资产全寿命周期).
 *
 * State and action codes are stored as text in PostgreSQL (asset.state,
 * asset_event.action); the enum values are append-only and never
 * renumbered. The diagram and who performs each transition are in
 * assets/README.md.
 *
 * Thread-safety: the pure functions are thread-safe; functions taking a
 * struct db use that connection only (one connection per thread).
 */
#ifndef ML_ASSETS_LIFECYCLE_H
#define ML_ASSETS_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

enum asset_state {
	ASSET_ARRIVED = 0,            /* received with a lot, pending verification (待检) */
	ASSET_SAMPLING = 1,           /* drawn for arrival sampling (到货抽检) */
	ASSET_VERIFYING = 2,          /* on a bench */
	ASSET_IN_STOCK = 3,           /* verified, central store (合格在库) */
	ASSET_FAILED = 4,             /* verification failed */
	ASSET_IN_TRANSIT = 5,         /* dispatched to a secondary store (配送出库) */
	ASSET_SECONDARY_STOCK = 6,    /* in a city/county store (二级表库) */
	ASSET_ISSUED = 7,             /* issued to a field team (领用) */
	ASSET_INSTALLED = 8,          /* in service (装表、运行) */
	ASSET_REMOVED = 9,            /* removed from service (拆回) */
	ASSET_FAULT_ANALYSIS = 10,    /* under fault analysis (故障分析) */
	ASSET_REVERIFY = 11,          /* waiting for (re-)verification */
	ASSET_RETURNED_TO_MAKER = 12, /* returned to the manufacturer (返厂) — terminal */
	ASSET_SCRAPPED = 13,          /* scrapped (报废) — terminal */
	ASSET_LOST = 14, /* recorded lost (in transit or short in a count); found by a count */
};
#define ASSET_STATE_COUNT 15

enum asset_action {
	ASSET_ACT_SAMPLE = 0,            /* arrived -> sampling */
	ASSET_ACT_SAMPLE_RETURN = 1,     /* sampling -> arrived */
	ASSET_ACT_VERIFY_START = 2,      /* arrived|reverify|in_stock|sampling -> verifying */
	ASSET_ACT_VERIFY_PASS = 3,       /* verifying -> in_stock, sets valid_until */
	ASSET_ACT_VERIFY_FAIL = 4,       /* verifying -> failed */
	ASSET_ACT_VERIFY_ABORT = 5,      /* verifying -> reverify (run interrupted) */
	ASSET_ACT_DISPATCH = 6,          /* in_stock -> in_transit */
	ASSET_ACT_RECEIVE_SECONDARY = 7, /* in_transit -> secondary_stock */
	ASSET_ACT_ISSUE = 8,             /* in_stock|secondary_stock -> issued (not when expired) */
	ASSET_ACT_INSTALL = 9,           /* issued -> installed */
	ASSET_ACT_RETURN_UNUSED =
		10, /* issued -> in_stock, or secondary_stock when to a secondary store */
	ASSET_ACT_REMOVE = 11,          /* installed -> removed */
	ASSET_ACT_FAULT_REPORT = 12,    /* installed|removed -> fault_analysis */
	ASSET_ACT_REUSE = 13,           /* removed|fault_analysis -> reverify */
	ASSET_ACT_RETURN_TO_MAKER = 14, /* failed|fault_analysis -> returned_to_maker */
	ASSET_ACT_SCRAP = 15,           /* failed|fault_analysis|removed -> scrapped */
	ASSET_ACT_REVERIFY_SEND = 16,   /* in_stock|secondary_stock -> reverify (stores/) */
	ASSET_ACT_RECEIVE_CENTRAL = 17, /* in_transit -> in_stock (an order to the central store) */
	ASSET_ACT_LOSE = 18,            /* in_transit|in_stock|secondary_stock -> lost */
	ASSET_ACT_FIND = 19,            /* lost -> reverify (found by a stock count) */
	ASSET_ACT_COUNT_TRANSFER = 20,  /* in_stock <-> secondary_stock (a confirmed count, 0206) */
};
#define ASSET_ACTION_COUNT 21
/* "receive" (creation) is asset_receive(). install and remove are lifecycle
 * actions but no moves: an asset is installed, removed and swapped only at a
 * metering point with its readings and seals (field/field.h, 0205). */

/* Stable text codes ("in_stock", "verify_pass"); NULL for an out-of-range value. Static storage. */
const char *asset_state_name(enum asset_state s);
const char *asset_action_name(enum asset_action a);
/* Parse a text code; ML_EINVAL (message lists the valid codes) when unknown. */
int asset_state_parse(const char *s, enum asset_state *out, struct ml_error *err);
int asset_action_parse(const char *s, enum asset_action *out, struct ml_error *err);

/*
 * The state machine, pure: may an asset in state `from` take `action`?
 * Returns 1/0. Out-of-range values return 0.
 */
int asset_can(enum asset_state from, enum asset_action action);

/*
 * The one function that owns the transition table. On success *to is the
 * next state. to_secondary matters only for return_unused: 1 when the asset
 * goes back to a secondary store (-> secondary_stock), 0 for the central
 * store (-> in_stock). Refusal: ML_ESTATE with a message naming the state
 * and action (callers prefix the barcode).
 */
int asset_next_state(enum asset_state from, enum asset_action action, int to_secondary,
		     enum asset_state *to, struct ml_error *err);

/* ---- lookup ---- */

struct asset_info {
	int64_t asset_id;
	char barcode[23];
	int64_t model_id;
	char model_code[64];
	char lot_code[64];
	enum asset_state state;
	char location[64];    /* location code, "" when none */
	char valid_until[11]; /* YYYY-MM-DD, "" when never verified */
};

/* Find an asset by barcode. ML_EINVAL for a malformed barcode, ML_ENOTFOUND when not registered. */
int asset_lookup(struct db *db, const char *barcode, struct asset_info *out,
		 struct ml_error *err) ML_MUSTCHECK;

/*
 * Everything `meterlab asset show` prints, in two round trips instead of
 * four: the asset as asset_lookup finds it, with where exactly it is
 * (ml_asset_place: slot, order in transit, team or metering point, as
 * stock_place gives it); then its model (the row asset_model_get gives; none
 * only if the catalogue lost it) and its history (asset_history's rows,
 * oldest first) in one pipeline (db_pipeline). ML_EINVAL for a malformed
 * barcode, ML_ENOTFOUND when not registered. On success out owns two
 * results: asset_view_free(); on failure it owns none.
 */
struct asset_view {
	struct asset_info a;
	char place[512];   /* "" when the database knows no more than the location */
	PGresult *model;   /* 0 or 1 row */
	PGresult *history; /* 1 row or more for a registered asset */
};
int asset_view_get(struct db *db, const char *barcode, struct asset_view *out,
		   struct ml_error *err) ML_MUSTCHECK;
void asset_view_free(struct asset_view *v); /* NULL-safe; leaves no dangling result */

/* ---- moves ---- */

/*
 * One move. Who moves is the connection's authenticated user (ml_actor_id,
 * issue 8), never a field; a validity is never an argument either: only a
 * run's conclusion sets valid_until (the model's verification period).
 */
struct asset_move {
	const char *barcode;      /* required */
	enum asset_action action; /* required */
	const char *location;     /* location code the asset moves to; NULL keeps the current one */
	const char *reason;       /* free text, NULL allowed */
	const char *details_json; /* JSON object text stored in asset_event.details; NULL -> {} */
};

/* One refused move: index into the caller's array, the barcode and why. */
struct asset_refusal {
	size_t index;
	char barcode[40];
	int code; /* ML_ESTATE, ML_ENOTFOUND, ML_EINVAL, ML_ECONFLICT */
	char msg[256];
};

struct asset_move_report {
	size_t moved;                  /* moves applied (0 unless all succeeded) */
	struct asset_refusal *refused; /* malloc'd array, owned by the report */
	size_t nrefused;
};

/* Release the report's memory (NULL-safe); the struct itself is the caller's. */
void asset_move_report_free(struct asset_move_report *rep);

/*
 * Apply n moves, all or nothing, through the database (ml_asset_move,
 * 0111), which checks every move (barcode registered, permission of the
 * action for the connection's user, transition legal, not mounted on an
 * unfinished run, issue not after valid_until, location known,
 * receive_secondary ending at a secondary store and return_unused at a
 * store, barcode not twice in the batch) and reports EVERY refusal in rep
 * (may be NULL); then the state changes are compare-and-set with one event
 * per move in the same statement (ml_asset_apply). The verify_* actions are
 * refused: they come only from runs (lab/task.h, lab/runner.h); install and
 * remove too (ML_EINVAL naming `meterlab field install|remove|swap`): only
 * the metering-point flow (field/field.h) installs and removes, and the
 * database refuses any other writer (0205). A lost race
 * is ML_ECONFLICT naming the barcode; a missing permission ML_EPERM.
 *
 * Transactions: when the connection already has a transaction open
 * (PQtransactionStatus != PQTRANS_IDLE) the moves run inside it under a
 * savepoint that is rolled back on failure (the caller's earlier work is
 * kept, the caller decides to commit); otherwise a transaction is opened
 * and committed here.
 *
 * Returns ML_OK, or the code of the first refusal (err says how many were
 * refused and names the first).
 */
int asset_move_batch(struct db *db, const struct asset_move *moves, size_t n,
		     struct asset_move_report *rep, struct ml_error *err) ML_MUSTCHECK;

/* Single-move convenience wrapper around asset_move_batch. */
int asset_move_one(struct db *db, const struct asset_move *move, struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
