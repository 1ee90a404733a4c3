/* asset_util.c — date check and own-transaction helpers (see asset_priv.h). */
#include "assets/asset_priv.h"

#include <stdio.h>
#include <string.h>

#include "sql/db.h"

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int asset_date_ok(const char *s)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++) {
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	}
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1)
		return 0;
	int md = mdays[m - 1] + (m == 2 && is_leap(y));
	return d <= md;
}

int asset_tx_open(struct db *db, const char *sp, int *own, struct ml_error *err)
{
	char sql[96];
	*own = PQtransactionStatus(db_conn(db)) == PQTRANS_IDLE;
	if (*own)
		return db_begin(db, err);
	snprintf(sql, sizeof(sql), "SAVEPOINT %s", sp);
	return db_cmd(db, sql, 0, NULL, err);
}

int asset_tx_close(struct db *db, const char *sp, int own, int rc, struct ml_error *err)
{
	char sql[96];
	if (own) {
		if (rc) {
			db_rollback(db);
			return rc;
		}
		return db_commit(db, err);
	}
	if (!rc) {
		snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT %s", sp);
		return db_cmd(db, sql, 0, NULL, err);
	}
	/* Best effort: if even the rollback fails the caller's transaction is
	 * aborted and the caller has to roll it back anyway. */
	struct ml_error ignore = ML_ERROR_INIT;
	snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT %s", sp);
	int r2 = db_cmd(db, sql, 0, NULL, &ignore);
	snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT %s", sp);
	if (r2 == ML_OK)
		r2 = db_cmd(db, sql, 0, NULL, &ignore);
	(void)r2;
	return rc;
}
