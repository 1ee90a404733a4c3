/*
 * ml_asset_apply (0110): the internal primitive every asset-moving function
 * ends in. Not executable by any login; applies all or nothing with a
 * compare-and-set on the state; writes one event per change with the actor's
 * id; follows the lifecycle table, which must equal assets/asset_state.c.
 */
#include <gtest/gtest.h>

#include <string.h>

#include <string>

#include "../support/pgtest.h"
#include "assets/lifecycle.h"

namespace
{

std::string g_ci;

std::string one(struct db *db, const std::string &sql)
{
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_query_one(db, sql.c_str(), 0, nullptr, &res, &err))
		<< sql << ": " << err.msg;
	std::string v = res && PQgetvalue(res, 0, 0) ? PQgetvalue(res, 0, 0) : "";
	PQclear(res);
	return v;
}

int cmd(struct db *db, const std::string &sql, struct ml_error *err)
{
	return db_cmd(db, sql.c_str(), 0, nullptr, err);
}

class Apply : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("apply");
		struct db *db = pgtest_connect(g_ci);
		struct ml_error err = ML_ERROR_INIT;
		/* fixture rows written as the DBA (superuser), not through the functions */
		const char *const fixture[] = {
			"INSERT INTO manufacturer (code, name) VALUES ('M', 'M')",
			"INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, connection, "
			" wiring, un_v, ib_a, imax_a, constant_imp, verification_period_months) "
			" SELECT 'MOD', manufacturer_id, 'm', 'meter_1p', '1', 'direct', '1p2w', 220, 5, 60, 1200, 96 "
			" FROM manufacturer",
			"INSERT INTO lot (code, model_id, received_by, file_sha256, row_count) "
			" SELECT 'L', model_id, 'x', repeat('b', 64), 3 FROM device_model",
			"INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, state, "
			" location_id) SELECT b, m.model_id, l.lot_id, 'B', date '2026-01-01', s, "
			" (SELECT location_id FROM location WHERE code = 'CENTRAL') FROM device_model m, lot l, "
			" (VALUES ('4130001000000446529641', 'verifying'), ('4130001000000461395474', 'verifying'), "
			"  ('4130001000000461595133', 'in_stock')) v(b, s)",
		};
		for (const char *sql : fixture)
			ASSERT_EQ(ML_OK, cmd(db, sql, &err)) << err.msg;
		db_close(db);
	}
};

/* SELECT of the apply call for the asset with this barcode. */
std::string apply_sql(const char *barcode, const char *from, const char *to, const char *action,
		      const char *vu = "NULL")
{
	return std::string(
		       "SELECT ml_asset_apply((SELECT user_id FROM app_user WHERE login = 'mlt_tech'), "
		       "ARRAY[ROW((SELECT asset_id FROM asset WHERE barcode = '") +
	       barcode + "'), '" + from + "', '" + to + "', '" + action + "', NULL, " +
	       (std::string(vu) == "NULL" ? "false" : "true") + ", " + vu +
	       "::date, 'test', NULL)::ml_asset_change])";
}

TEST_F(Apply, NoLoginMayCallIt)
{
	for (const char *who : { "mlt_tech", "mlt_admin", "mlt_approver", "meterlab_service" }) {
		struct db *db = pgtest_connect(pgtest_as(g_ci, who));
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_EPERM, cmd(db,
					apply_sql("4130001000000446529641", "verifying", "in_stock",
						  "verify_pass", "'2199-12-31'"),
					&err))
			<< who << ": " << err.msg;
		db_close(db);
	}
	struct db *db = pgtest_connect(g_ci);
	EXPECT_EQ("verifying",
		  one(db, "SELECT state FROM asset WHERE barcode = '4130001000000446529641'"));
	EXPECT_EQ("0", one(db, "SELECT count(*) FROM asset_event"));
	db_close(db);
}

TEST_F(Apply, AppliesWithEventAndActor)
{
	struct db *db = pgtest_connect(g_ci);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, cmd(db,
			     apply_sql("4130001000000461395474", "verifying", "in_stock",
				       "verify_pass", "'2034-12-02'"),
			     &err))
		<< err.msg;
	EXPECT_EQ("in_stock|2034-12-02",
		  one(db, "SELECT state || '|' || valid_until FROM asset WHERE barcode = "
			  "'4130001000000461395474'"));
	EXPECT_EQ(
		"mlt_tech|true|verifying|in_stock|verify_pass|test",
		one(db,
		    "SELECT e.actor || '|' || (e.actor_id = u.user_id) || '|' || e.from_state || '|' || "
		    "e.to_state || '|' || e.action || '|' || e.reason FROM asset_event e JOIN asset a USING "
		    "(asset_id), app_user u WHERE a.barcode = '4130001000000461395474' AND u.login = 'mlt_tech'"));
	/* the same state again: a validity correction (part B's certificate revision) */
	ASSERT_EQ(ML_OK, cmd(db,
			     apply_sql("4130001000000461395474", "in_stock", "in_stock",
				       "cert_revise", "'2034-06-30'"),
			     &err))
		<< err.msg;
	EXPECT_EQ(
		"2034-06-30",
		one(db, "SELECT valid_until FROM asset WHERE barcode = '4130001000000461395474'"));
	EXPECT_EQ("2",
		  one(db, "SELECT count(*) FROM asset_event e JOIN asset a USING (asset_id) WHERE "
			  "a.barcode = '4130001000000461395474'"));
	db_close(db);
}

TEST_F(Apply, RefusesTransitionsOutsideTheLifecycle)
{
	struct db *db = pgtest_connect(g_ci);
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE,
		  cmd(db, apply_sql("4130001000000461595133", "in_stock", "installed", "install"),
		      &err));
	EXPECT_NE(nullptr, strstr(err.msg, "cannot go from in_stock to installed")) << err.msg;
	EXPECT_EQ("in_stock",
		  one(db, "SELECT state FROM asset WHERE barcode = '4130001000000461595133'"));
	db_close(db);
}

TEST_F(Apply, LostRaceAppliesNothing)
{
	struct db *db = pgtest_connect(g_ci);
	struct ml_error err = ML_ERROR_INIT;
	std::string before = one(db, "SELECT count(*) FROM asset_event");
	/* the second change names a state the asset is no longer in */
	EXPECT_EQ(
		ML_ECONFLICT,
		cmd(db,
		    "SELECT ml_asset_apply((SELECT user_id FROM app_user WHERE login = 'mlt_clerk'), ARRAY["
		    "ROW((SELECT asset_id FROM asset WHERE barcode = '4130001000000461595133'), 'in_stock', "
		    "'in_transit', 'dispatch', NULL, false, NULL, NULL, NULL)::ml_asset_change, "
		    "ROW((SELECT asset_id FROM asset WHERE barcode = '4130001000000446529641'), 'in_stock', "
		    "'issued', 'issue', NULL, false, NULL, NULL, NULL)::ml_asset_change])",
		    &err));
	EXPECT_NE(nullptr, strstr(err.msg, "4130001000000446529641")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "changed by someone else")) << err.msg;
	EXPECT_EQ("in_stock",
		  one(db, "SELECT state FROM asset WHERE barcode = '4130001000000461595133'"));
	EXPECT_EQ(before, one(db, "SELECT count(*) FROM asset_event"));
	db_close(db);
}

TEST_F(Apply, ActorMustBeAUser)
{
	struct db *db = pgtest_connect(g_ci);
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EPERM,
		  cmd(db,
		      "SELECT ml_asset_apply(-1, ARRAY[ROW(1, 'in_stock', 'issued', 'issue', NULL, "
		      "false, NULL, NULL, NULL)::ml_asset_change])",
		      &err));
	db_close(db);
}

/* The table in the database is the C state machine, cell by cell. */
TEST_F(Apply, LifecycleTableEqualsTheCStateMachine)
{
	struct db *db = pgtest_connect(g_ci);
	int rows = 0;
	for (int s = 0; s < ASSET_STATE_COUNT; s++) {
		for (int a = 0; a < ASSET_ACTION_COUNT; a++) {
			for (int sec = 0; sec <= 1; sec++) {
				enum asset_state to;
				struct ml_error e = ML_ERROR_INIT;
				const char *sn = asset_state_name((enum asset_state)s),
					   *an = asset_action_name((enum asset_action)a);
				std::string want = "";
				if (!asset_next_state((enum asset_state)s, (enum asset_action)a,
						      sec, &to, &e))
					want = asset_state_name(to);
				std::string got = one(
					db,
					std::string(
						"SELECT coalesce((SELECT to_state FROM asset_transition "
						"WHERE from_state = '") +
						sn + "' AND action = '" + an +
						"' AND to_secondary = " +
						(sec && a == ASSET_ACT_RETURN_UNUSED ? "true"
										     : "false") +
						"), '')");
				EXPECT_EQ(want, got) << sn << " " << an << " secondary=" << sec;
				rows += !want.empty() && !sec;
			}
		}
	}
	EXPECT_EQ(std::to_string(rows + 1), one(db, "SELECT count(*) FROM asset_transition"));
	db_close(db);
}

} // namespace
