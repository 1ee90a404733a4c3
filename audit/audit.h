/*
 * audit.h — verify the tamper-evidence chains (sql/migrations/0140).
 *
 * Every chained table (asset history, certificates and their logs, people
 * and settings logs) appends one block per inserting statement to
 * audit_block: the keys and content hashes of the statement's rows and the
 * hash of the previous block. audit_verify recomputes, in one consistent
 * snapshot, every row's hash from the table and every block's hash from its
 * content, and reports per chain the first block that does not link and the
 * first row that was changed, removed or inserted outside the chain — also
 * when the owner of the schema did it (disabling a trigger does not hide a
 * change from the hashes).
 *
 * The SQL that recomputes is written here and uses only PostgreSQL's
 * built-in functions: the schema owner cannot replace it. What the owner
 * can still do is rewrite the rows and recompute every hash after them; the
 * anchor catches that: audit_verify returns the current head of every chain
 * as one token ("chain=block,…@sha256"), which is recorded outside the
 * database (printed in the lab's log book, mailed to the quality manager);
 * a later audit_verify with that token as expect checks that the chains
 * still pass through those very blocks.
 *
 * Who may: permission audit.verify (auditor, admin). Reads only.
 */
#ifndef ML_AUDIT_H
#define ML_AUDIT_H

#include <stddef.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AUDIT_PROBLEM_MAX 640
#define AUDIT_ANCHOR_MAX 2048

struct audit_chain_report {
	char chain[64];
	char table[64];
	long long blocks; /* blocks in the ledger */
	long long rows;   /* rows the ledger holds */
	char head[65];    /* hex hash of the last block ("00…" before the first) */
	int known;        /* 1: this build knows the chain's definition */
	int ok;           /* 1: no problem found */
	/* The first problem (block, then row), "" when ok. */
	char problem[AUDIT_PROBLEM_MAX];
	long long
		bad_block; /* block of the first bad row or block, 0 when none or not in a block */
	long long bad_key; /* key of the first bad row, 0 when none */
	char bad_kind[16]; /* "changed", "removed", "unchained", "block", "definition", "" */
};

struct audit_report {
	struct audit_chain_report *chains; /* malloc'd; audit_report_free */
	size_t n;
	int ok;                        /* every chain ok (and the anchor, when one was expected) */
	char anchor[AUDIT_ANCHOR_MAX]; /* the current heads: "chain=n,chain=n,…@hex" */
	int expect_checked;            /* an anchor was given */
	int expect_ok;
	char expect_problem[AUDIT_PROBLEM_MAX];
};

/*
 * Verify every chain; expect (NULL = none) is an anchor token printed by an
 * earlier verification. The findings are results, not errors: ML_OK with
 * out->ok 0 when something was tampered with. ML_EPERM without audit.verify,
 * ML_EINVAL for a malformed expect token.
 */
int audit_verify(struct db *db, const char *expect, struct audit_report *out,
		 struct ml_error *err) ML_MUSTCHECK;
void audit_report_free(struct audit_report *r); /* NULL-safe; the struct itself is the caller's */

#ifdef __cplusplus
}
#endif
#endif
