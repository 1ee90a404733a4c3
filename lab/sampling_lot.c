/* sampling_lot.c — a lot's arrival sampling through 0273 (see sampling_lot.h). */
#include "lab/sampling_lot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sampling_lot_draw(struct db *db, const char *lot, const char *level, const char *aql,
		      const char *seed_hex, PGresult **drawn, struct ml_error *err)
{
	if (seed_hex && strlen(seed_hex) != 64)
		return ml_errorf(err, ML_EINVAL, "seed '%s' is not 64 hex digits", seed_hex);
	for (const char *s = seed_hex; s && *s; s++)
		if (!strchr("0123456789abcdefABCDEF", *s))
			return ml_errorf(err, ML_EINVAL, "seed '%s' is not 64 hex digits",
					 seed_hex);
	/* level or aql not given: the settings of the lot's kind of device (0276) */
	const char *p[4] = { lot, level, aql, seed_hex };
	return db_exec(
		db,
		"SELECT f.draw_order, f.barcode FROM ml_lot_sample_defaults($1) d, "
		"LATERAL ml_lot_sample_draw($1, coalesce($2, d.level, 'II'), coalesce($3, d.aql), "
		"decode($4, 'hex')) f",
		4, p, PGRES_TUPLES_OK, drawn, err);
}

int sampling_lot_judge(struct db *db, const char *lot, struct sampling_lot_verdict *out,
		       struct ml_error *err)
{
	const char *p[1] = { lot };
	PGresult *res = NULL;
	memset(out, 0, sizeof *out);
	int rc = db_query_one(db,
			      "SELECT coalesce(verdict, '') AS verdict, nonconforming, judged, "
			      "sample_size, ac, re FROM ml_lot_sample_judge($1)",
			      1, p, &res, err);
	if (rc)
		return rc;
	snprintf(out->verdict, sizeof out->verdict, "%s", db_get(res, 0, "verdict"));
	out->nonconforming = atoi(db_get(res, 0, "nonconforming"));
	out->judged = atoi(db_get(res, 0, "judged"));
	out->sample_size = atoi(db_get(res, 0, "sample_size"));
	out->ac = atoi(db_get(res, 0, "ac"));
	out->re = atoi(db_get(res, 0, "re"));
	PQclear(res);
	return ML_OK;
}

int sampling_lot_decide(struct db *db, const char *lot, const char *decision, const char *note,
			char *outcome, size_t cap, struct ml_error *err)
{
	const char *p[3] = { lot, decision, note };
	PGresult *res = NULL;
	int rc = db_query_one(db, "SELECT ml_lot_sample_decide($1, $2, $3)", 3, p, &res, err);
	if (rc)
		return rc;
	if (outcome && cap)
		snprintf(outcome, cap, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ML_OK;
}

int sampling_lot_show(struct db *db, const char *lot, PGresult **out, struct ml_error *err)
{
	const char *p[1] = { lot };
	int rc = db_query_one(
		db,
		"SELECT l.code AS lot, s.supplier, m.code AS model, s.level, s.aql, s.severity, "
		"s.lot_size, s.code_letter, s.plan_letter, s.sample_size, s.ac, s.re, "
		"s.unverified_plan, encode(s.seed, 'hex') AS seed, s.algorithm, ud.login AS drawn_by, "
		"to_char(s.drawn_at, 'YYYY-MM-DD HH24:MI') AS drawn_at, s.status, s.verdict, "
		"s.nonconforming, s.judged, uc.login AS confirmed_by, "
		"to_char(s.confirmed_at, 'YYYY-MM-DD HH24:MI') AS confirmed_at, s.switch_outcome "
		"FROM lot_sampling s JOIN lot l ON l.lot_id = s.lot_id "
		"JOIN device_model m ON m.model_id = s.model_id "
		"JOIN app_user ud ON ud.user_id = s.drawn_by "
		"LEFT JOIN app_user uc ON uc.user_id = s.confirmed_by WHERE l.code = $1",
		1, p, out, err);
	if (rc == ML_ENOTFOUND)
		return ml_errorf(err, ML_ENOTFOUND, "lot '%s' has no arrival sample",
				 lot ? lot : "");
	return rc;
}
