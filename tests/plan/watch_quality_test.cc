/*
 * The quality issue's failure-rate flag as a monitoring rule (issue 15,
 * 0308): a lot whose verification failures stand out from its model's other
 * lots (quality/alerts.c: Fisher's exact test, Holm) becomes one work item
 * for the quality analyst; one whose rate is ordinary does not; closing is
 * refused while the early warning still flags it and allowed once it no
 * longer does; nobody writes the flags directly.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "assets/registry.h"
#include "plan/watch.h"

namespace
{

std::string g_ci;

std::string one(const std::string &sql)
{
	struct db *db = pgtest_connect(g_ci);
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	std::string v = "?";
	if (db_query_one(db, sql.c_str(), 0, nullptr, &res, &err))
		ADD_FAILURE() << sql << ": " << err.msg;
	else {
		v = PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0);
		PQclear(res);
	}
	db_close(db);
	return v;
}

void dba(const std::string &sql)
{
	struct db *db = pgtest_connect(g_ci + " options='-c session_replication_role=replica'");
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_cmd(db, sql.c_str(), 0, nullptr, &err)) << sql << err.msg;
	db_close(db);
}

void receive(const char *lot, unsigned long long first, int n)
{
	std::string csv = "barcode,model_code,production_batch,production_date\n";
	struct ml_error err = ML_ERROR_INIT;
	for (int i = 0; i < n; i++) {
		char b[23];
		ASSERT_EQ(ML_OK, barcode_make("41300", "05", first + i, b, &err)) << err.msg;
		csv += std::string(b) + ",QM1,B1,2026-09-14\n";
	}
	struct db *db = pgtest_connect(pgtest_as(g_ci, "mlt_clerk"));
	struct asset_receive_opts o = {};
	o.lot_code = lot;
	struct asset_import_report rep;
	ASSERT_EQ(ML_OK, asset_receive(db, &o, csv.data(), csv.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	db_close(db);
}

/* Verify every asset of lot now, the first `failed` of them failing. */
void verified(const char *lot, int failed)
{
	dba(std::string(
		    "WITH r AS (INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, "
		    "scheme_text, mode, status, steps_total, operator) SELECT b.bench_id, m.model_id, 'S', 1, '', "
		    "'manual', 'finished', 1, 'tech' FROM lab_bench b, device_model m WHERE b.code = 'QB1' "
		    "AND m.code = 'QM1' RETURNING run_id) "
		    "INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict) "
		    "SELECT a.asset_id, r.run_id, 'overall', CASE WHEN row_number() OVER (ORDER BY a.asset_id) <= ") +
	    std::to_string(failed) +
	    " THEN 'fail' ELSE 'pass' END, 'none' FROM asset a, r WHERE a.lot_id = (SELECT lot_id FROM lot "
	    "WHERE code = '" +
	    lot + "')");
}

} // namespace

TEST(WatchQuality, AFlaggedLotIsAWorkItemUntilTheFlagIsGone)
{
	g_ci = pgtest_fresh_db("watchq");
	struct db *db = pgtest_connect(pgtest_as(g_ci, "mlt_admin"));
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, asset_manufacturer_add(db, "QX", "质量厂", &err)) << err.msg;
	struct asset_model m = {};
	m.code = "QM1";
	m.manufacturer_code = "QX";
	m.name = "single-phase class 2";
	m.kind = "meter_1p";
	m.accuracy_class = "2";
	m.connection = "direct";
	m.wiring = "1p2w";
	m.un_v = "220";
	m.ib_a = "5";
	m.imax_a = "60";
	m.constant_imp = "1200";
	m.verification_period_months = "96";
	ASSERT_EQ(ML_OK, asset_model_add(db, &m, &err)) << err.msg;
	db_close(db);
	dba("INSERT INTO lab_bench (code, name, uri, kind, positions) VALUES ('QB1', 'bench', 'manual', 'meter-1p', 24)");
	// QA: 8 of 20 failed; QB: 2 of 100; QC: 1 of 40 — QA stands out, QC does not
	receive("QA", 100, 20);
	receive("QB", 200, 100);
	receive("QC", 400, 40);
	verified("QA", 8);
	verified("QB", 2);
	verified("QC", 1);

	struct db *mgr = pgtest_connect(pgtest_as(g_ci, "mlt_manager"));
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, watch_run(mgr, "quality_flag", &res, &err)) << err.msg;
	ASSERT_EQ(1, PQntuples(res));
	EXPECT_STREQ("1", db_get(res, 0, "opened"));
	PQclear(res);
	EXPECT_EQ(
		"quality:verify:lot:QA|quality_analyst|8|20",
		one("SELECT anomaly_key || '|' || role || '|' || (evidence->>'x') || '|' || (evidence->>'n') "
		    "FROM watch_item WHERE rule = 'quality_flag'"));
	EXPECT_NE("NULL",
		  one("SELECT summary FROM watch_item WHERE rule = 'quality_flag' AND summary LIKE "
		      "'lot QA: 8 failed verifications of 20%'"));
	// a second run (all rules) does not open it twice
	ASSERT_EQ(ML_OK, watch_run(mgr, nullptr, &res, &err)) << err.msg;
	PQclear(res);
	EXPECT_EQ("1", one("SELECT count(*) FROM watch_item WHERE rule = 'quality_flag'"));
	int64_t id = std::stoll(one("SELECT item_id FROM watch_item WHERE rule = 'quality_flag'"));
	db_close(mgr);

	// the analyst cannot close it while the early warning flags the lot
	struct db *an = pgtest_connect(pgtest_as(g_ci, "mlt_analyst"));
	int held = 0;
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE, watch_close(an, id, "supplier informed", nullptr, &held, &err))
		<< err.msg;
	// QA re-verified by the maker's replacement boards: its failures are now ordinary
	dba("UPDATE run_conclusion SET verdict = 'pass' WHERE verdict = 'fail' AND asset_id IN (SELECT asset_id "
	    "FROM asset WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'QA')) AND asset_id NOT IN (SELECT "
	    "min(asset_id) FROM asset WHERE lot_id = (SELECT lot_id FROM lot WHERE code = 'QA'))");
	ASSERT_EQ(ML_OK, watch_run(an, "quality_flag", &res, &err)) << err.msg;
	EXPECT_STREQ("1", db_get(res, 0, "cleared"));
	PQclear(res);
	EXPECT_EQ("0", one("SELECT count(*) FROM quality_flag"));
	err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, watch_close(an, id, "lot QA re-verified after the maker's fix", nullptr,
				     &held, &err))
		<< err.msg;
	EXPECT_EQ(0, held);

	// flags are recorded only by a watch run, by people who may run it
	struct db *clerk = pgtest_connect(pgtest_as(g_ci, "mlt_clerk"));
	err = ML_ERROR_INIT;
	EXPECT_EQ(
		ML_EPERM,
		db_cmd(clerk,
		       "SELECT ml_quality_flags_record(current_date, current_date, '{verify}', '{lot}', "
		       "'{QB}', '{QM1}', '{1}', '{1}', '{1}', '{0}', '{0.001}')",
		       0, nullptr, &err));
	db_close(clerk);
	for (const char *login : { "mlt_manager", "mlt_analyst", "mlt_admin", "mlt_auditor" }) {
		struct db *d = pgtest_connect(pgtest_as(g_ci, login));
		for (const char *sql :
		     { "INSERT INTO quality_flag (metric, dim, unit_key, peer, n, x, peer_n, peer_x, p, "
		       "period_from, period_to, recorded_by) VALUES ('verify', 'lot', 'QB', 'QM1', 1, 1, "
		       "1, 0, '0', current_date, current_date, 1)",
		       "DELETE FROM quality_flag" }) {
			err = ML_ERROR_INIT;
			EXPECT_EQ(ML_EPERM, db_cmd(d, sql, 0, nullptr, &err))
				<< login << ": " << sql;
		}
		db_close(d);
	}
	db_close(an);
}
