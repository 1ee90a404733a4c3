/*
 * stores/ (issue 11, warehouse half) against a real PostgreSQL: slots and
 * put-away, the validity rule, the re-verification list and send, the
 * distribution order flow with every refusal, the pick race, and direct
 * writes refused for every role.
 */
#include <gtest/gtest.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "../support/pgtest.h"
#include "stores/stores.h"

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

/* Barcode of test asset n (serial n, valid check digit). */
std::string bc(int n)
{
	struct db *db = pgtest_connect(g_ci);
	std::string b = one(db,
			    "SELECT b || ml_barcode_check_digit(b) FROM (SELECT '41300010000' || "
			    "lpad('" +
				    std::to_string(n) + "', 10, '0') AS b) x");
	db_close(db);
	return b;
}

std::string g_bc[130];

class Stores : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("stores");
		pgtest_user(g_ci, "mlt_clerk2", "Clerk Two", "warehouse_clerk");
		struct db *db = pgtest_connect(g_ci);
		struct ml_error err = ML_ERROR_INIT;
		/* fixture rows written as the DBA: assets 1..30 verified stock at CENTRAL
		 * (model A 1..20, model B 21..30); 28 waited 7 months since verification,
		 * 29 expired; 31..32 arrived (not verified) */
		const char *const fixture[] = {
			"INSERT INTO manufacturer (code, name) VALUES ('M', 'M')",
			"INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, connection, "
			" wiring, un_v, ib_a, imax_a, constant_imp, verification_period_months) "
			" SELECT c, manufacturer_id, 'm', 'meter_1p', '1', 'direct', '1p2w', 220, 5, 60, 1200, 96 "
			" FROM manufacturer, (VALUES ('MOD-A'), ('MOD-B')) v(c)",
			"INSERT INTO lot (code, model_id, received_by, file_sha256, row_count) "
			" SELECT 'LOT1', model_id, 'x', repeat('b', 64), 32 FROM device_model WHERE code = 'MOD-A'",
			"INSERT INTO location (code, name, kind) VALUES ('CITY-A', 'City A', 'secondary_store'), "
			" ('CITY-B', 'City B', 'secondary_store'), ('LAB1', 'Lab', 'lab'), ('TEAM-1', 'Team', 'field_team')",
			"INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, state, "
			" location_id, valid_until, verified_at) "
			" SELECT b || ml_barcode_check_digit(b), "
			"  (SELECT model_id FROM device_model WHERE code = CASE WHEN n <= 20 OR n > 30 THEN 'MOD-A' "
			"   ELSE 'MOD-B' END), (SELECT lot_id FROM lot), 'B', date '2026-01-01', "
			"  CASE WHEN n > 30 THEN 'arrived' ELSE 'in_stock' END, "
			"  (SELECT location_id FROM location WHERE code = 'CENTRAL'), "
			"  CASE WHEN n = 29 THEN current_date - 1 WHEN n <= 30 THEN current_date + 3000 END, "
			"  CASE WHEN n = 28 THEN now() - interval '7 months' WHEN n <= 30 THEN now() - interval '1 month' END "
			" FROM generate_series(1, 32) n, LATERAL (SELECT '41300010000' || lpad(n::text, 10, '0') AS b) x",
		};
		for (const char *sql : fixture)
			ASSERT_EQ(ML_OK, db_cmd(db, sql, 0, nullptr, &err))
				<< sql << ": " << err.msg;
		db_close(db);
		for (int i = 1; i < 130; i++)
			g_bc[i] = bc(i);
	}

	void SetUp() override
	{
		clerk_ = pgtest_connect(pgtest_as(g_ci, "mlt_clerk"));
		dba_ = pgtest_connect(g_ci);
	}
	void TearDown() override
	{
		db_close(clerk_);
		db_close(dba_);
	}
	struct db *clerk_ = nullptr, *dba_ = nullptr;
	struct ml_error err_ = ML_ERROR_INIT;
};

std::string state_of(struct db *db, int n)
{
	return one(db, "SELECT state FROM asset WHERE barcode = '" + g_bc[n] + "'");
}

std::string slot_of(struct db *db, int n)
{
	return one(
		db,
		"SELECT coalesce((SELECT s.barcode FROM asset_slot x JOIN store_slot s USING (slot_id) "
		"JOIN asset a USING (asset_id) WHERE a.barcode = '" +
			g_bc[n] + "'), '-')");
}

TEST_F(Stores, SlotsAndPutAwayByScanning)
{
	ASSERT_EQ(ML_OK, stock_slot_add(clerk_, "CENTRAL", "C-A1", "area", nullptr, "Area 1",
					nullptr, &err_))
		<< err_.msg;
	ASSERT_EQ(ML_OK, stock_slot_add(clerk_, "CENTRAL", "C-A1-S1", "shelf", "C-A1", nullptr,
					nullptr, &err_))
		<< err_.msg;
	ASSERT_EQ(ML_OK, stock_slot_add(clerk_, "CITY-A", "A-P1", "pallet", nullptr, nullptr,
					nullptr, &err_));
	EXPECT_EQ(ML_EINVAL,
		  stock_slot_add(clerk_, "LAB1", "L-1", "box", nullptr, nullptr, nullptr, &err_));
	EXPECT_EQ(ML_EINVAL, stock_slot_add(clerk_, "CENTRAL", g_bc[1].c_str(), "box", nullptr,
					    nullptr, nullptr, &err_))
		<< "a slot barcode of 22 digits would be taken for an asset";
	EXPECT_EQ(ML_EEXISTS, stock_slot_add(clerk_, "CENTRAL", "C-A1", "box", nullptr, nullptr,
					     nullptr, &err_));

	const char *scan[] = { "C-A1", g_bc[1].c_str(), g_bc[2].c_str(), "C-A1-S1",
			       g_bc[3].c_str() };
	struct stock_scan_report rep = {};
	ASSERT_EQ(ML_OK, stock_putaway(clerk_, scan, 5, &rep, &err_)) << err_.msg;
	EXPECT_EQ(3u, rep.done);
	stock_scan_report_free(&rep);
	EXPECT_EQ("C-A1", slot_of(dba_, 1));
	EXPECT_EQ("C-A1-S1", slot_of(dba_, 3));
	EXPECT_EQ("put_away",
		  one(dba_, "SELECT action FROM asset_event e JOIN asset a USING (asset_id) WHERE "
			    "a.barcode = '" +
				    g_bc[3] + "' ORDER BY event_id DESC LIMIT 1"));
	/* moving between slots */
	const char *mv[] = { "C-A1-S1", g_bc[1].c_str() };
	ASSERT_EQ(ML_OK, stock_putaway(clerk_, mv, 2, nullptr, &err_)) << err_.msg;
	EXPECT_EQ("C-A1-S1", slot_of(dba_, 1));
	char place[200];
	ASSERT_EQ(ML_OK, stock_place(clerk_, g_bc[1].c_str(), place, sizeof(place), &err_));
	EXPECT_STREQ("slot C-A1-S1 of store CENTRAL", place);

	/* refusals, all or nothing, each naming the code */
	const char *bad[] = { g_bc[4].c_str(),  "NO-SUCH",       g_bc[5].c_str(),
			      "A-P1",           g_bc[6].c_str(), "C-A1",
			      g_bc[31].c_str(), g_bc[7].c_str(), g_bc[7].c_str() };
	ASSERT_EQ(ML_EINVAL, stock_putaway(clerk_, bad, 9, &rep, &err_));
	ASSERT_EQ(5u, rep.nrefused) << err_.msg;
	EXPECT_EQ(0u, rep.refused[0].index);
	EXPECT_NE(nullptr, strstr(rep.refused[0].msg, "before any slot"));
	EXPECT_NE(nullptr, strstr(rep.refused[1].msg, "slot NO-SUCH does not exist"));
	EXPECT_NE(nullptr, strstr(rep.refused[2].msg, "not in the store of slot A-P1"))
		<< rep.refused[2].msg;
	EXPECT_NE(nullptr, strstr(rep.refused[3].msg, "'arrived'")) << rep.refused[3].msg;
	EXPECT_NE(nullptr, strstr(rep.refused[4].msg, "scanned twice")) << rep.refused[4].msg;
	stock_scan_report_free(&rep);
	EXPECT_EQ("-", slot_of(dba_, 6));

	/* a field member may not put away */
	struct db *field = pgtest_connect(pgtest_as(g_ci, "mlt_field"));
	EXPECT_EQ(ML_EPERM, stock_putaway(field, mv, 2, nullptr, &err_));
	db_close(field);
}

TEST_F(Stores, ValidityRuleAndReverification)
{
	/* the one validity rule for issue and install (ml_asset_valid_for_issue, 0200),
	 * as the clerk may ask it: NULL (here "") when the asset may be issued */
	auto why = [&](int n) {
		return one(clerk_, "SELECT ml_asset_valid_for_issue(asset_id) FROM asset "
				   "WHERE barcode = '" +
					   g_bc[n] + "'");
	};
	EXPECT_EQ("", why(10));
	EXPECT_NE(std::string::npos, why(28).find("more than 6 months ago")) << why(28);
	EXPECT_NE(std::string::npos, why(29).find("expired on")) << why(29);

	struct ml_buf csv = ML_BUF_INIT;
	size_t n = 0;
	ASSERT_EQ(ML_OK, stock_reverify_csv(clerk_, "CENTRAL", &csv, &n, &err_)) << err_.msg;
	std::string text = ml_buf_str(&csv);
	ml_buf_free(&csv);
	EXPECT_EQ(2u, n) << text;
	EXPECT_EQ(0u,
		  text.find("barcode,model,lot,store,slot,state,valid_until,verified_on,reason\n"));
	EXPECT_NE(std::string::npos, text.find(g_bc[28]));
	EXPECT_NE(std::string::npos, text.find(g_bc[29]));

	/* all or nothing: an arrived asset in the list refuses the whole send */
	const char *send_bad[] = { g_bc[28].c_str(), g_bc[32].c_str() };
	struct stock_scan_report rep = {};
	EXPECT_EQ(ML_ESTATE,
		  stock_reverify_send(clerk_, send_bad, 2, "LAB1", "waited too long", &rep, &err_));
	ASSERT_EQ(1u, rep.nrefused);
	EXPECT_EQ(1u, rep.refused[0].index);
	stock_scan_report_free(&rep);
	EXPECT_EQ("in_stock", state_of(dba_, 28));
	EXPECT_EQ(ML_EINVAL,
		  stock_reverify_send(clerk_, send_bad, 1, "CENTRAL", nullptr, nullptr, &err_))
		<< "CENTRAL is not a lab";
	const char *send[] = { g_bc[28].c_str(), g_bc[29].c_str() };
	ASSERT_EQ(ML_OK, stock_reverify_send(clerk_, send, 2, "LAB1", "stock re-verification", &rep,
					     &err_))
		<< err_.msg;
	EXPECT_EQ(2u, rep.done);
	EXPECT_EQ("reverify", state_of(dba_, 28));
	EXPECT_EQ(
		"LAB1",
		one(dba_,
		    "SELECT l.code FROM asset a JOIN location l USING (location_id) WHERE a.barcode = '" +
			    g_bc[29] + "'"));
	EXPECT_EQ("mlt_clerk",
		  one(dba_, "SELECT u.login FROM asset_event e JOIN asset a USING (asset_id) "
			    "JOIN app_user u ON u.user_id = e.actor_id WHERE a.barcode = '" +
				    g_bc[28] + "' AND e.action = 'reverify_send'"));
}

TEST_F(Stores, DistributionOrderFlow)
{
	/* lines: 3 of MOD-A by quantity, and barcodes 21, 22 (MOD-B) */
	struct order_line lines[] = { { "MOD-A", 3 } };
	const char *planned[] = { g_bc[21].c_str(), g_bc[22].c_str() };
	int64_t id = 0;
	ASSERT_EQ(ML_OK, order_create(clerk_, "CENTRAL", "CITY-A", lines, 1, planned, 2, "weekly",
				      &id, &err_))
		<< err_.msg;
	/* an asset planned on an open order cannot be on a second one */
	int64_t id2 = 0;
	EXPECT_EQ(ML_EINVAL, order_create(clerk_, "CENTRAL", "CITY-B", nullptr, 0, planned, 1,
					  nullptr, &id2, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, g_bc[21].c_str())) << err_.msg;
	struct order_line unknown[] = { { "NOPE", 1 } };
	EXPECT_EQ(ML_EINVAL, order_create(clerk_, "CENTRAL", "CITY-A", unknown, 1, nullptr, 0,
					  nullptr, &id2, &err_));

	/* refusals naming the barcode: wrong model, not valid, not in store, unregistered, over-picking */
	const char *bad[] = { g_bc[23].c_str(),         g_bc[28].c_str(), g_bc[31].c_str(),
			      "4130001000099999999990", g_bc[11].c_str(), g_bc[12].c_str(),
			      g_bc[13].c_str(),         g_bc[14].c_str() };
	struct stock_scan_report rep = {};
	EXPECT_NE(ML_OK, order_pick(clerk_, id, bad, 8, &rep, &err_));
	ASSERT_GE(rep.nrefused, 5u) << err_.msg;
	std::string all;
	for (size_t i = 0; i < rep.nrefused; i++)
		all += rep.refused[i].msg + std::string("\n");
	stock_scan_report_free(&rep);
	EXPECT_NE(std::string::npos, all.find("asset " + g_bc[23] + " is model MOD-B, which order"))
		<< all;
	EXPECT_NE(std::string::npos, all.find("asset " + g_bc[31] + " is not in store CENTRAL"))
		<< all;
	EXPECT_NE(std::string::npos, all.find(g_bc[14] + " would over-pick line 1")) << all;
	EXPECT_EQ(std::string::npos, all.find(g_bc[13] + " would")) << all;
	EXPECT_EQ("0", one(dba_, "SELECT count(*) FROM dist_order_item WHERE status = 'picked'"));

	/* a planned barcode must be picked before dispatch */
	const char *good[] = { g_bc[11].c_str(), g_bc[12].c_str(), g_bc[13].c_str(),
			       g_bc[21].c_str() };
	ASSERT_EQ(ML_OK, order_pick(clerk_, id, good, 4, &rep, &err_)) << err_.msg;
	EXPECT_EQ(ML_ESTATE, order_dispatch(clerk_, id, nullptr, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, g_bc[22].c_str())) << err_.msg;
	const char *again[] = { g_bc[11].c_str() };
	EXPECT_EQ(ML_ESTATE, order_pick(clerk_, id, again, 1, &rep, &err_));
	EXPECT_NE(nullptr, strstr(rep.refused[0].msg, "already picked")) << rep.refused[0].msg;
	stock_scan_report_free(&rep);
	const char *last[] = { g_bc[22].c_str() };
	ASSERT_EQ(ML_OK, order_pick(clerk_, id, last, 1, nullptr, &err_)) << err_.msg;

	/* put one away first: dispatch drops its slot */
	ASSERT_EQ(ML_OK, stock_slot_add(clerk_, "CENTRAL", "C-FLOW", "box", nullptr, nullptr,
					nullptr, &err_));
	const char *pa[] = { "C-FLOW", g_bc[12].c_str() };
	ASSERT_EQ(ML_OK, stock_putaway(clerk_, pa, 2, nullptr, &err_)) << err_.msg;
	size_t nd = 0;
	ASSERT_EQ(ML_OK, order_dispatch(clerk_, id, &nd, &err_)) << err_.msg;
	EXPECT_EQ(5u, nd);
	EXPECT_EQ("in_transit", state_of(dba_, 12));
	EXPECT_EQ("-", slot_of(dba_, 12));
	char place[200];
	ASSERT_EQ(ML_OK, stock_place(clerk_, g_bc[12].c_str(), place, sizeof(place), &err_));
	EXPECT_NE(nullptr, strstr(place, "in transit on distribution order")) << place;

	/* receive: 11, 12, 21 arrive, plus an extra (15), a duplicate and garbage */
	const char *recv[] = { g_bc[11].c_str(), g_bc[12].c_str(), g_bc[21].c_str(),
			       g_bc[15].c_str(), g_bc[11].c_str(), "12345" };
	struct order_receive_report rr = {};
	ASSERT_EQ(ML_OK, order_receive(clerk_, id, recv, 6, &rr, &err_)) << err_.msg;
	EXPECT_EQ(3u, rr.n[ORDER_RECEIVED]);
	EXPECT_EQ(1u, rr.n[ORDER_EXTRA]);
	EXPECT_EQ(1u, rr.n[ORDER_DUPLICATE]);
	EXPECT_EQ(1u, rr.n[ORDER_WRONG]);
	/* what is left: counted, and (two, under a page) named in barcode order */
	EXPECT_EQ(2u, rr.in_transit);
	ASSERT_EQ(2u, rr.npage);
	EXPECT_EQ(std::min(g_bc[13], g_bc[22]), rr.page[0]);
	EXPECT_EQ(std::max(g_bc[13], g_bc[22]), rr.page[1]);
	order_receive_report_free(&rr);

	/* what is still in transit (13, 22) can be read again a page at a time,
	 * in barcode order (a page reloaded after the receipt rebuilds its list) */
	std::string lo = std::min(g_bc[13], g_bc[22]), hi = std::max(g_bc[13], g_bc[22]);
	PGresult *tr = nullptr;
	ASSERT_EQ(ML_OK, order_in_transit(clerk_, id, nullptr, 0, &tr, &err_)) << err_.msg;
	ASSERT_EQ(2, PQntuples(tr));
	EXPECT_EQ(lo, PQgetvalue(tr, 0, 0));
	EXPECT_EQ(hi, PQgetvalue(tr, 1, 0));
	PQclear(tr);
	ASSERT_EQ(ML_OK, order_in_transit(clerk_, id, nullptr, 1, &tr, &err_)) << err_.msg;
	ASSERT_EQ(1, PQntuples(tr));
	EXPECT_EQ(lo, PQgetvalue(tr, 0, 0));
	PQclear(tr);
	ASSERT_EQ(ML_OK, order_in_transit(clerk_, id, lo.c_str(), 1, &tr, &err_)) << err_.msg;
	ASSERT_EQ(1, PQntuples(tr));
	EXPECT_EQ(hi, PQgetvalue(tr, 0, 0));
	PQclear(tr);
	ASSERT_EQ(ML_OK, order_in_transit(clerk_, id, hi.c_str(), 1, &tr, &err_)) << err_.msg;
	EXPECT_EQ(0, PQntuples(tr));
	PQclear(tr);
	EXPECT_EQ(ML_EINVAL, order_in_transit(clerk_, id, nullptr, 10001, &tr, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, "10001")) << err_.msg;
	EXPECT_EQ("secondary_stock", state_of(dba_, 11));
	EXPECT_EQ("in_stock", state_of(dba_, 15)) << "an extra scan changes nothing";

	/* close: refused while something is neither received nor reported missing */
	EXPECT_EQ(ML_ESTATE, order_close(clerk_, id, nullptr, 0, nullptr, nullptr, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, "neither received nor reported missing")) << err_.msg;
	const char *recv2[] = { g_bc[13].c_str() };
	ASSERT_EQ(ML_OK, order_receive(clerk_, id, recv2, 1, nullptr, &err_));
	const char *missing[] = { g_bc[22].c_str() };
	const char *wrong_missing[] = { g_bc[11].c_str() };
	EXPECT_EQ(ML_EINVAL, order_close(clerk_, id, wrong_missing, 1, "gone", nullptr, &err_));
	EXPECT_EQ(ML_EINVAL, order_close(clerk_, id, missing, 1, nullptr, nullptr, &err_))
		<< "a reason is needed";
	size_t lost = 0;
	ASSERT_EQ(ML_OK, order_close(clerk_, id, missing, 1, "box not on the truck", &lost, &err_))
		<< err_.msg;
	EXPECT_EQ(1u, lost);
	EXPECT_EQ("lost", state_of(dba_, 22));
	EXPECT_EQ(
		"mlt_clerk",
		one(dba_,
		    "SELECT u.login FROM dist_order_item i JOIN app_user u ON u.user_id = i.missing_by "
		    "JOIN asset a USING (asset_id) WHERE a.barcode = '" +
			    g_bc[22] + "'"));
	EXPECT_EQ("closed", one(dba_, "SELECT status FROM dist_order WHERE order_id = " +
					      std::to_string(id)));
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, order_show(clerk_, id, &res, &err_));
	EXPECT_EQ(2, PQntuples(res));
	PQclear(res);

	/* from a secondary store back to the central store */
	const char *back[] = { g_bc[11].c_str() };
	int64_t id3 = 0;
	ASSERT_EQ(ML_OK, order_create(clerk_, "CITY-A", "CENTRAL", nullptr, 0, back, 1, nullptr,
				      &id3, &err_))
		<< err_.msg;
	ASSERT_EQ(ML_OK, order_pick(clerk_, id3, back, 1, nullptr, &err_)) << err_.msg;
	ASSERT_EQ(ML_OK, order_dispatch(clerk_, id3, nullptr, &err_)) << err_.msg;
	ASSERT_EQ(ML_OK, order_receive(clerk_, id3, back, 1, nullptr, &err_)) << err_.msg;
	ASSERT_EQ(ML_OK, order_close(clerk_, id3, nullptr, 0, nullptr, nullptr, &err_)) << err_.msg;
	EXPECT_EQ("in_stock", state_of(dba_, 11));
}

TEST_F(Stores, CancelReleasesTheAssets)
{
	const char *b[] = { g_bc[16].c_str() };
	int64_t id = 0, id2 = 0;
	ASSERT_EQ(ML_OK,
		  order_create(clerk_, "CENTRAL", "CITY-B", nullptr, 0, b, 1, nullptr, &id, &err_))
		<< err_.msg;
	EXPECT_EQ(ML_EINVAL, order_cancel(clerk_, id, nullptr, &err_)) << "a reason is needed";
	ASSERT_EQ(ML_OK, order_cancel(clerk_, id, "plan changed", &err_)) << err_.msg;
	ASSERT_EQ(ML_OK,
		  order_create(clerk_, "CENTRAL", "CITY-B", nullptr, 0, b, 1, nullptr, &id2, &err_))
		<< err_.msg;
	EXPECT_EQ(ML_ESTATE, order_dispatch(clerk_, id, nullptr, &err_));
	ASSERT_EQ(ML_OK, order_cancel(clerk_, id2, "again", &err_));
}

/* Two clerks pick the same asset on two orders at once: exactly one wins. */
TEST_F(Stores, TwoClerksPickingOneAssetExactlyOneWins)
{
	struct order_line l[] = { { "MOD-A", 1 } };
	int64_t o1 = 0, o2 = 0;
	ASSERT_EQ(ML_OK,
		  order_create(clerk_, "CENTRAL", "CITY-A", l, 1, nullptr, 0, nullptr, &o1, &err_));
	ASSERT_EQ(ML_OK,
		  order_create(clerk_, "CENTRAL", "CITY-B", l, 1, nullptr, 0, nullptr, &o2, &err_));
	struct db *c2 = pgtest_connect(pgtest_as(g_ci, "mlt_clerk2"));
	const char *b[] = { g_bc[17].c_str() };
	/* clerk 1 picks inside an open transaction; clerk 2's pick must wait for it */
	ASSERT_EQ(ML_OK, db_begin(clerk_, &err_));
	ASSERT_EQ(ML_OK, order_pick(clerk_, o1, b, 1, nullptr, &err_)) << err_.msg;
	int rc2 = -1;
	struct ml_error err2 = ML_ERROR_INIT;
	const std::string pid2 = std::to_string(PQbackendPID(db_conn(c2)));
	std::thread t([&] { rc2 = order_pick(c2, o2, b, 1, nullptr, &err2); });
	/* until clerk 2's backend waits on a lock: a fixed sleep was too short under load, and
	 * clerk 2 then picked after the commit (a plain refusal, not the race this tests) */
	bool waiting = false;
	for (int i = 0; i < 600 && !waiting; i++) {
		waiting = one(dba_, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid2 +
					    " AND wait_event_type = 'Lock'") == "1";
		if (!waiting)
			usleep(50000);
	}
	EXPECT_TRUE(waiting) << "clerk 2's pick never waited for clerk 1's lock";
	EXPECT_EQ(-1, rc2) << "the second pick waits for the first";
	ASSERT_EQ(ML_OK, db_commit(clerk_, &err_));
	t.join();
	EXPECT_EQ(ML_ECONFLICT, rc2) << err2.msg;
	EXPECT_NE(nullptr, strstr(err2.msg, g_bc[17].c_str())) << err2.msg;
	EXPECT_EQ("1",
		  one(dba_, "SELECT count(*) FROM dist_order_item i JOIN asset a USING (asset_id) "
			    "WHERE i.open AND a.barcode = '" +
				    g_bc[17] + "'"));
	/* and both at once, many times: never two */
	for (int round = 0; round < 5; round++) {
		int64_t p1 = 0, p2 = 0;
		ASSERT_EQ(ML_OK, order_create(clerk_, "CENTRAL", "CITY-A", l, 1, nullptr, 0,
					      nullptr, &p1, &err_));
		ASSERT_EQ(ML_OK, order_create(clerk_, "CENTRAL", "CITY-B", l, 1, nullptr, 0,
					      nullptr, &p2, &err_));
		const char *x[] = { g_bc[18].c_str() };
		int r1 = -1, r2 = -1;
		struct ml_error e1 = ML_ERROR_INIT, e2 = ML_ERROR_INIT;
		std::thread t1([&] { r1 = order_pick(clerk_, p1, x, 1, nullptr, &e1); });
		std::thread t2([&] { r2 = order_pick(c2, p2, x, 1, nullptr, &e2); });
		t1.join();
		t2.join();
		EXPECT_EQ(1, (r1 == ML_OK) + (r2 == ML_OK)) << e1.msg << " / " << e2.msg;
		ASSERT_EQ(ML_OK, order_cancel(clerk_, p1, "round over", &err_));
		ASSERT_EQ(ML_OK, order_cancel(clerk_, p2, "round over", &err_));
	}
	db_close(c2);
}

/* Insert test assets n in [lo, hi] as the DBA in a state at a location. */
void dba_assets(struct db *dba, int lo, int hi, const char *state, const char *loc)
{
	struct ml_error err = ML_ERROR_INIT;
	std::string sql =
		"INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, state, location_id, "
		" valid_until, verified_at) SELECT b || ml_barcode_check_digit(b), "
		" (SELECT model_id FROM device_model WHERE code = 'MOD-A'), (SELECT lot_id FROM lot), 'B', "
		" date '2026-01-01', '" +
		std::string(state) + "', (SELECT location_id FROM location WHERE code = '" + loc +
		"'), current_date + 3000, now() - interval '1 month' FROM generate_series(" +
		std::to_string(lo) + ", " + std::to_string(hi) +
		") n, LATERAL (SELECT '41300010000' || lpad(n::text, 10, '0') AS b) x";
	ASSERT_EQ(ML_OK, db_cmd(dba, sql.c_str(), 0, nullptr, &err)) << err.msg;
}

TEST_F(Stores, StockCountNeedsASecondPerson)
{
	ASSERT_EQ(ML_OK,
		  db_cmd(dba_,
			 "INSERT INTO location (code, name, kind) VALUES ('CNT', 'Count store', "
			 "'secondary_store')",
			 0, nullptr, &err_));
	dba_assets(dba_, 51, 55, "secondary_stock", "CNT");
	dba_assets(dba_, 56, 56, "lost", "CENTRAL");
	dba_assets(dba_, 57, 57, "secondary_stock", "CITY-B");
	std::string b[70];
	for (int i = 51; i < 60; i++)
		b[i] = bc(i);
	ASSERT_EQ(ML_OK, stock_slot_add(clerk_, "CNT", "CNT-1", "shelf", nullptr, nullptr, nullptr,
					&err_));
	ASSERT_EQ(ML_OK, stock_slot_add(clerk_, "CNT", "CNT-2", "shelf", nullptr, nullptr, nullptr,
					&err_));
	const char *pa[] = { "CNT-1", b[51].c_str(), b[52].c_str(), "CNT-2", b[53].c_str() };
	ASSERT_EQ(ML_OK, stock_putaway(clerk_, pa, 5, nullptr, &err_)) << err_.msg;

	/* a code that is no slot of this store refuses the count */
	const char *bad[] = { "C-A1", b[51].c_str() };
	EXPECT_EQ(ML_EINVAL, stock_count_submit(clerk_, "CNT", nullptr, bad, 2, nullptr, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, "C-A1 is not a slot of store CNT")) << err_.msg;

	const char *scan[] = { "CNT-1",       b[51].c_str(), b[53].c_str(), "CNT-2",
			       b[56].c_str(), b[57].c_str(), b[59].c_str() };
	struct stock_count_report rep = {};
	ASSERT_EQ(ML_OK, stock_count_submit(clerk_, "CNT", nullptr, scan, 7, &rep, &err_))
		<< err_.msg;
	EXPECT_EQ(2u, rep.n[COUNT_SURPLUS]);
	EXPECT_EQ(3u, rep.n[COUNT_SHORTAGE]);
	EXPECT_EQ(1u, rep.n[COUNT_WRONG_SLOT]);
	EXPECT_EQ(1u, rep.n[COUNT_UNREGISTERED]);
	int64_t id = rep.count_id;
	stock_count_report_free(&rep);
	EXPECT_EQ("secondary_stock", state_of(dba_, 52))
		<< "nothing changes before the confirmation";

	/* the counter may not confirm; a second clerk may */
	EXPECT_EQ(ML_EPERM, stock_count_confirm(clerk_, id, "checked", nullptr, &err_));
	struct db *c2 = pgtest_connect(pgtest_as(g_ci, "mlt_clerk2"));
	EXPECT_EQ(ML_EINVAL, stock_count_confirm(c2, id, nullptr, nullptr, &err_))
		<< "a reason is needed";
	size_t adjusted = 0;
	ASSERT_EQ(ML_OK, stock_count_confirm(c2, id, "annual count 2026", &adjusted, &err_))
		<< err_.msg;
	EXPECT_EQ(6u, adjusted);
	EXPECT_EQ(ML_ESTATE, stock_count_confirm(c2, id, "again", nullptr, &err_));
	db_close(c2);
	EXPECT_EQ("lost", state_of(dba_, 52));
	EXPECT_EQ("lost", state_of(dba_, 55));
	EXPECT_EQ("CNT-1", slot_of(dba_, 53));
	EXPECT_EQ("reverify", state_of(dba_, 56));
	EXPECT_EQ("CNT-2", slot_of(dba_, 57));
	EXPECT_EQ(
		"CNT",
		one(dba_,
		    "SELECT l.code FROM asset a JOIN location l USING (location_id) WHERE a.barcode = '" +
			    b[57] + "'"));
	EXPECT_EQ(
		"mlt_clerk2|stock count " + std::to_string(id) + " (shortage): annual count 2026",
		one(dba_,
		    "SELECT u.login || '|' || e.reason FROM asset_event e JOIN asset a USING (asset_id) "
		    "JOIN app_user u ON u.user_id = e.actor_id WHERE a.barcode = '" +
			    b[52] + "' AND e.action = 'lose'"));

	/* a slot count scans assets only */
	const char *slotscan[] = { b[53].c_str(), b[57].c_str() };
	ASSERT_EQ(ML_OK, stock_count_submit(clerk_, "CNT", "CNT-2", slotscan, 2, &rep, &err_))
		<< err_.msg;
	EXPECT_EQ(1u, rep.n[COUNT_WRONG_SLOT]);
	EXPECT_EQ(0u, rep.n[COUNT_SHORTAGE]);
	struct db *mgr = pgtest_connect(pgtest_as(g_ci, "mlt_manager"));
	EXPECT_EQ(ML_OK, stock_count_reject(mgr, rep.count_id, "recount tomorrow", &err_))
		<< err_.msg;
	db_close(mgr);
	stock_count_report_free(&rep);
	EXPECT_EQ("CNT-1", slot_of(dba_, 53));
}

/* 0206: a surplus the records place in another store — of the other kind too
 * (central <-> city) — is adjustable: it moves here on a second person's
 * confirmation, its state following the store (count_transfer), the event
 * naming the count, the reason and where it was recorded. Not what is on an
 * open order or out of stock; not an asset that moved after the count. */
TEST_F(Stores, CountSurplusFromAnotherStoreMovesHereWhenConfirmed)
{
	ASSERT_EQ(
		ML_OK,
		db_cmd(dba_,
		       "INSERT INTO location (code, name, kind) VALUES ('CNT-X', 'Count store X', "
		       "'secondary_store'), ('CNT-Y', 'Count store Y', 'secondary_store')",
		       0, nullptr, &err_));
	dba_assets(dba_, 81, 81, "in_stock", "CENTRAL");
	dba_assets(dba_, 82, 82, "secondary_stock", "CITY-A");
	dba_assets(dba_, 83, 83, "issued", "TEAM-1");
	dba_assets(dba_, 84, 84, "secondary_stock", "CITY-A");
	dba_assets(dba_, 85, 85, "secondary_stock", "CNT-X");
	std::string b[90];
	for (int i = 81; i < 86; i++)
		b[i] = bc(i);
	auto state = [&](int n) {
		return one(dba_, "SELECT state FROM asset WHERE barcode = '" + b[n] + "'");
	};
	auto slot = [&](int n) {
		return one(dba_,
			   "SELECT coalesce((SELECT s.barcode FROM asset_slot x JOIN store_slot s "
			   "USING (slot_id) JOIN asset a USING (asset_id) WHERE a.barcode = '" +
				   b[n] + "'), '-')");
	};
	ASSERT_EQ(ML_OK, stock_slot_add(clerk_, "CNT-X", "CX-1", "shelf", nullptr, nullptr, nullptr,
					&err_));
	/* the city store finds a central-store meter on its shelf, and an issued one */
	const char *scan[] = { "CX-1", b[85].c_str(), b[81].c_str(), b[83].c_str() };
	struct stock_count_report rep = {};
	ASSERT_EQ(ML_OK, stock_count_submit(clerk_, "CNT-X", nullptr, scan, 4, &rep, &err_))
		<< err_.msg;
	EXPECT_EQ(2u, rep.n[COUNT_SURPLUS]);
	std::string notes;
	for (size_t i = 0; i < rep.nlines; i++)
		if (rep.lines[i].kind == COUNT_SURPLUS)
			notes += std::string(rep.lines[i].code) +
				 (rep.lines[i].adjustable ? " yes: " : " no: ") +
				 rep.lines[i].note + "\n";
	EXPECT_NE(
		std::string::npos,
		notes.find(
			b[81] + " yes: asset " + b[81] +
			" is recorded 'in_stock' at CENTRAL: it moves here from store CENTRAL when "
			"confirmed (in_stock -> secondary_stock)"))
		<< notes;
	EXPECT_NE(std::string::npos, notes.find(b[83] + " no: ")) << notes;
	EXPECT_NE(std::string::npos, notes.find("not adjustable, investigate")) << notes;
	int64_t id = rep.count_id;
	stock_count_report_free(&rep);
	EXPECT_EQ("in_stock", state(81)) << "nothing changes before the confirmation";
	EXPECT_EQ(ML_EPERM, stock_count_confirm(clerk_, id, "mine", nullptr, &err_));
	struct db *c2 = pgtest_connect(pgtest_as(g_ci, "mlt_clerk2"));
	size_t adjusted = 0;
	ASSERT_EQ(ML_OK, stock_count_confirm(c2, id, "借调未登记", &adjusted, &err_)) << err_.msg;
	EXPECT_EQ(2u, adjusted); /* 81 moves here; 85 was in no slot: put in CX-1 */
	EXPECT_EQ("secondary_stock|CNT-X|CX-1",
		  one(dba_, "SELECT a.state || '|' || l.code FROM asset a JOIN location l USING "
			    "(location_id) WHERE a.barcode = '" +
				    b[81] + "'") +
			  "|" + slot(81));
	EXPECT_EQ("issued", state(83));
	EXPECT_EQ(
		"mlt_clerk2|in_stock>secondary_stock|stock count " + std::to_string(id) +
			" (surplus): 借调未登记|CENTRAL",
		one(dba_,
		    "SELECT u.login || '|' || e.from_state || '>' || e.to_state || '|' || "
		    "e.reason || '|' || (e.details->>'recorded_at') FROM asset_event e JOIN asset a "
		    "USING (asset_id) JOIN app_user u ON u.user_id = e.actor_id WHERE a.barcode = '" +
			    b[81] + "' AND e.action = 'count_transfer'"));

	/* the central store finds a city meter: secondary_stock -> in_stock; but the
	 * meter moved after the count: the confirmation is refused, naming it */
	ASSERT_EQ(ML_OK, stock_slot_add(clerk_, "CENTRAL", "CEN-X", "shelf", nullptr, nullptr,
					nullptr, &err_));
	const char *scan2[] = { b[82].c_str(), b[84].c_str() };
	ASSERT_EQ(ML_OK, stock_count_submit(clerk_, "CENTRAL", "CEN-X", scan2, 2, &rep, &err_))
		<< err_.msg;
	int64_t id2 = rep.count_id;
	size_t surplus = rep.n[COUNT_SURPLUS];
	stock_count_report_free(&rep);
	EXPECT_EQ(2u, surplus);
	ASSERT_EQ(ML_OK,
		  db_cmd(dba_,
			 ("UPDATE asset SET location_id = (SELECT location_id FROM location WHERE "
			  "code = 'CNT-Y') WHERE barcode = '" +
			  b[84] + "'")
				 .c_str(),
			 0, nullptr, &err_));
	EXPECT_EQ(ML_ECONFLICT, stock_count_confirm(c2, id2, "年度盘点", nullptr, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, b[84].c_str())) << err_.msg;
	EXPECT_NE(nullptr, strstr(err_.msg, "CNT-Y")) << err_.msg;
	EXPECT_EQ("secondary_stock", state(82)) << "nothing of the count was applied";
	ASSERT_EQ(ML_OK, stock_count_reject(c2, id2, "recount", &err_)) << err_.msg;
	const char *scan3[] = { b[82].c_str() };
	ASSERT_EQ(ML_OK, stock_count_submit(clerk_, "CENTRAL", "CEN-X", scan3, 1, &rep, &err_))
		<< err_.msg;
	int64_t id3 = rep.count_id;
	stock_count_report_free(&rep);
	ASSERT_EQ(ML_OK, stock_count_confirm(c2, id3, "年度盘点", &adjusted, &err_)) << err_.msg;
	db_close(c2);
	EXPECT_EQ("in_stock|CENTRAL|CEN-X",
		  one(dba_, "SELECT a.state || '|' || l.code FROM asset a JOIN location l USING "
			    "(location_id) WHERE a.barcode = '" +
				    b[82] + "'") +
			  "|" + slot(82));
}

TEST_F(Stores, RetirementNeedsAReasonAndASecondPerson)
{
	dba_assets(dba_, 61, 63, "failed", "CENTRAL");
	dba_assets(dba_, 64, 64, "in_stock", "CENTRAL");
	dba_assets(dba_, 65, 65, "arrived", "CENTRAL");
	ASSERT_EQ(
		ML_OK,
		db_cmd(dba_,
		       "INSERT INTO location (code, name, kind) VALUES ('MAKER-M', 'Maker', 'maker')",
		       0, nullptr, &err_));
	std::string b[70];
	for (int i = 61; i < 66; i++)
		b[i] = bc(i);
	const char *scrap[] = { b[61].c_str(), b[62].c_str() };
	int64_t rid = 0, rid2 = 0;
	EXPECT_EQ(ML_EINVAL,
		  retire_request(clerk_, RETIRE_SCRAP, scrap, 2, nullptr, nullptr, &rid, &err_))
		<< "a reason is needed";
	ASSERT_EQ(ML_OK, retire_request(clerk_, RETIRE_SCRAP, scrap, 2, "burnt terminal block",
					nullptr, &rid, &err_))
		<< err_.msg;
	EXPECT_EQ(ML_ESTATE,
		  retire_request(clerk_, RETIRE_SCRAP, scrap, 1, "again", nullptr, &rid2, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, "pending retirement request")) << err_.msg;
	const char *instock[] = { b[64].c_str() };
	EXPECT_EQ(ML_ESTATE,
		  retire_request(clerk_, RETIRE_SCRAP, instock, 1, "x", nullptr, &rid2, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, b[64].c_str())) << err_.msg;

	/* lot rejected on sampling: arrived -> returned_to_maker, requested by the analyst */
	struct db *an = pgtest_connect(pgtest_as(g_ci, "mlt_analyst"));
	const char *back[] = { b[63].c_str(), b[65].c_str() };
	ASSERT_EQ(ML_OK, retire_request(an, RETIRE_RETURN_TO_MAKER, back, 2,
					"lot rejected on sampling", "MAKER-M", &rid2, &err_))
		<< err_.msg;
	EXPECT_EQ(ML_EPERM, retire_approve(an, rid2, nullptr, nullptr, &err_))
		<< "the requester cannot approve";
	EXPECT_EQ(ML_EPERM, retire_approve(clerk_, rid, nullptr, nullptr, &err_))
		<< "a clerk cannot approve";
	/* what the approver sees: the request's assets, their state then and now */
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, retire_show(clerk_, rid2, &res, &err_)) << err_.msg;
	ASSERT_EQ(2, PQntuples(res));
	EXPECT_EQ(std::min(b[63], b[65]), db_get(res, 0, "barcode"));
	EXPECT_STREQ("arrived", db_get(res, b[65] < b[63] ? 0 : 1, "from_state"));
	EXPECT_STREQ("failed", db_get(res, b[63] < b[65] ? 0 : 1, "state"));
	PQclear(res);
	EXPECT_EQ(ML_ENOTFOUND, retire_show(clerk_, 999999, &res, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, "999999")) << err_.msg;
	db_close(an);
	struct db *mgr = pgtest_connect(pgtest_as(g_ci, "mlt_manager"));
	size_t n = 0;
	ASSERT_EQ(ML_OK, retire_approve(mgr, rid2, "warranty claim 17", &n, &err_)) << err_.msg;
	EXPECT_EQ(2u, n);
	EXPECT_EQ("returned_to_maker", state_of(dba_, 65));
	EXPECT_EQ(
		"MAKER-M",
		one(dba_,
		    "SELECT l.code FROM asset a JOIN location l USING (location_id) WHERE a.barcode = '" +
			    b[63] + "'"));
	EXPECT_EQ(ML_ESTATE, retire_approve(mgr, rid2, nullptr, nullptr, &err_));
	EXPECT_EQ(ML_EINVAL, retire_reject(mgr, rid, nullptr, &err_)) << "a note is needed";
	ASSERT_EQ(ML_OK, retire_reject(mgr, rid, "repairable", &err_)) << err_.msg;
	EXPECT_EQ("failed", state_of(dba_, 61));
	ASSERT_EQ(ML_OK, retire_request(clerk_, RETIRE_SCRAP, scrap, 2, "not repairable after all",
					nullptr, &rid, &err_))
		<< err_.msg;
	ASSERT_EQ(ML_OK, retire_approve(mgr, rid, nullptr, &n, &err_)) << err_.msg;
	EXPECT_EQ("scrapped", state_of(dba_, 62));
	EXPECT_EQ(
		"mlt_manager|not repairable after all|mlt_clerk",
		one(dba_,
		    "SELECT u.login || '|' || e.reason || '|' || (SELECT login FROM app_user WHERE user_id = "
		    "(e.details->>'requested_by')::bigint) FROM asset_event e JOIN asset a USING (asset_id) "
		    "JOIN app_user u ON u.user_id = e.actor_id WHERE a.barcode = '" +
			    b[62] + "' AND e.action = 'scrap'"));
	db_close(mgr);
}

/* The rule holds for a bare move too (0204): stock verified 7 months ago cannot be issued. */
TEST_F(Stores, BareIssueOfStaleStockIsRefused)
{
	dba_assets(dba_, 71, 72, "in_stock", "CENTRAL");
	ASSERT_EQ(
		ML_OK,
		db_cmd(dba_,
		       ("UPDATE asset SET verified_at = now() - interval '7 months' WHERE barcode = '" +
			g_bc[71] + "'")
			       .c_str(),
		       0, nullptr, &err_));
	std::string move = "SELECT count(*) FROM ml_asset_move(ARRAY['";
	struct ml_error e = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE,
		  db_cmd(clerk_, (move + g_bc[71] + "'], ARRAY['issue'], ARRAY['TEAM-1'])").c_str(),
			 0, nullptr, &e));
	EXPECT_NE(nullptr, strstr(e.msg, "more than 6 months ago")) << e.msg;
	EXPECT_EQ("in_stock", state_of(dba_, 71));
	EXPECT_EQ("0", one(clerk_, move + g_bc[72] + "'], ARRAY['issue'], ARRAY['TEAM-1'])"));
	EXPECT_EQ("issued", state_of(dba_, 72));
}

/* The state of the asset with barcode b (for assets past g_bc). */
std::string state_by_bc(struct db *db, const std::string &b)
{
	return one(db, "SELECT state FROM asset WHERE barcode = '" + b + "'");
}

/* The string of a location code of test asset n. */
std::string where_of(struct db *db, int n)
{
	return one(db, "SELECT coalesce(l.code, '-') FROM asset a LEFT JOIN location l USING "
		       "(location_id) WHERE a.barcode = '" +
			       bc(n) + "'");
}

/* The refusals of a bare move (code and message of each, in order), "" when it moved. */
std::string refused(struct db *db, const std::string &args)
{
	return one(db,
		   "SELECT coalesce(string_agg(code || ' ' || msg, '; ' ORDER BY idx), '') FROM "
		   "ml_asset_move(" +
			   args + ")");
}

/* An order of the given assets from one store to another, picked and dispatched. */
int64_t order_sent(struct db *db, const char *from, const char *to,
		   std::vector<std::string> barcodes)
{
	struct ml_error err = ML_ERROR_INIT;
	std::vector<const char *> v;
	for (const std::string &b : barcodes)
		v.push_back(b.c_str());
	int64_t id = 0;
	EXPECT_EQ(ML_OK,
		  order_create(db, from, to, nullptr, 0, v.data(), v.size(), nullptr, &id, &err))
		<< err.msg;
	struct stock_scan_report rep = {};
	EXPECT_EQ(ML_OK, order_pick(db, id, v.data(), v.size(), &rep, &err)) << err.msg;
	stock_scan_report_free(&rep);
	EXPECT_EQ(ML_OK, order_dispatch(db, id, nullptr, &err)) << err.msg;
	return id;
}

/*
 * A retirement is no bare move (audit 2026-12-07, finding 1): a manager or a
 * quality analyst (both hold asset.retire) moving a verified stock meter, an
 * arrived one or a failed one to returned_to_maker or scrapped is refused;
 * only the two-person request and approval retires.
 */
TEST_F(Stores, BareRetirementIsRefusedForEveryone)
{
	dba_assets(dba_, 101, 101, "in_stock", "CENTRAL");
	dba_assets(dba_, 102, 102, "arrived", "CENTRAL");
	dba_assets(dba_, 103, 103, "failed", "CENTRAL");
	std::string out;
	const struct {
		const char *who, *action;
		int n;
		const char *state;
	} tries[] = {
		{ "mlt_manager", "return_to_maker", 101, "in_stock" },
		{ "mlt_analyst", "return_to_maker", 102, "arrived" },
		{ "mlt_manager", "scrap", 103, "failed" },
		{ "mlt_admin", "return_to_maker", 103, "failed" },
	};
	for (const auto &t : tries) {
		std::string db = " --db " + pgtest_sq(pgtest_as(g_ci, t.who)) + " ";
		EXPECT_EQ(9,
			  pgtest_run(pgtest_cli() + db + "asset move " + t.action + " " + bc(t.n),
				     &out, true))
			<< t.who << " " << t.action << ": " << out;
		EXPECT_NE(std::string::npos, out.find(bc(t.n))) << out;
		EXPECT_NE(std::string::npos, out.find("retire request")) << out;
		EXPECT_EQ(t.state, state_of(dba_, t.n)) << t.who << " " << t.action;
	}
	EXPECT_EQ("0", one(dba_, "SELECT count(*) FROM asset_event e JOIN asset a USING (asset_id) "
				 "WHERE a.barcode IN ('" +
					 bc(101) + "', '" + bc(102) + "', '" + bc(103) + "')"));
	/* the same refusal through the function, whatever else is in the batch */
	struct db *mgr = pgtest_connect(pgtest_as(g_ci, "mlt_manager"));
	struct ml_error e = ML_ERROR_INIT;
	EXPECT_EQ(ML_EPERM, db_cmd(clerk_,
				   ("SELECT * FROM ml_asset_move(ARRAY['" + bc(101) + "', '" +
				    bc(103) + "'], ARRAY['issue', 'scrap'], ARRAY['TEAM-1', NULL])")
					   .c_str(),
				   0, nullptr, &e));
	EXPECT_NE(nullptr, strstr(e.msg, bc(103).c_str())) << e.msg;
	EXPECT_EQ("in_stock", state_of(dba_, 101));
	/* the two-person way still retires */
	std::string b103 = bc(103);
	const char *failed[] = { b103.c_str() };
	int64_t rid = 0;
	ASSERT_EQ(ML_OK,
		  retire_request(clerk_, RETIRE_SCRAP, failed, 1, "burnt", nullptr, &rid, &e))
		<< e.msg;
	ASSERT_EQ(ML_OK, retire_approve(mgr, rid, nullptr, nullptr, &e)) << e.msg;
	EXPECT_EQ("scrapped", state_of(dba_, 103));
	db_close(mgr);
}

/*
 * A count's confirmation books nothing that moved properly since the count
 * (finding 2): a shortage sent to another store by an order and received
 * there is not made lost there; a wrong-slot line does not put a meter that
 * left into a slot of the store it left; a shortage picked on an open order
 * is not adjustable (the order dispatches it), and one picked after the
 * count refuses the confirmation.
 */
TEST_F(Stores, CountConfirmBooksNothingThatMovedSinceTheCount)
{
	ASSERT_EQ(ML_OK,
		  db_cmd(dba_,
			 "INSERT INTO location (code, name, kind) VALUES ('HZ-1', 'Hangzhou 1', "
			 "'secondary_store'), ('HZ-2', 'Hangzhou 2', 'secondary_store')",
			 0, nullptr, &err_));
	dba_assets(dba_, 111, 114, "secondary_stock", "HZ-1");
	std::string b[120];
	for (int i = 111; i < 118; i++)
		b[i] = bc(i);
	struct db *c2 = pgtest_connect(pgtest_as(g_ci, "mlt_clerk2"));
	struct stock_count_report rep = {};

	/* 1. shortage 112, then ordered to HZ-2 and received there */
	const char *scan1[] = { b[111].c_str(), b[113].c_str(), b[114].c_str() };
	ASSERT_EQ(ML_OK, stock_count_submit(clerk_, "HZ-1", nullptr, scan1, 3, &rep, &err_))
		<< err_.msg;
	int64_t count1 = rep.count_id;
	EXPECT_EQ(1u, rep.n[COUNT_SHORTAGE]);
	stock_count_report_free(&rep);
	int64_t o1 = order_sent(clerk_, "HZ-1", "HZ-2", { b[112] });
	const char *rcv1[] = { b[112].c_str() };
	struct order_receive_report rr = {};
	ASSERT_EQ(ML_OK, order_receive(clerk_, o1, rcv1, 1, &rr, &err_)) << err_.msg;
	order_receive_report_free(&rr);
	EXPECT_EQ(ML_ECONFLICT, stock_count_confirm(c2, count1, "年度盘点", nullptr, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, b[112].c_str())) << err_.msg;
	EXPECT_NE(nullptr, strstr(err_.msg, "HZ-2")) << err_.msg;
	EXPECT_NE(nullptr, strstr(err_.msg, ("stock count " + std::to_string(count1)).c_str()))
		<< err_.msg;
	EXPECT_EQ("secondary_stock", state_of(dba_, 112));
	EXPECT_EQ("HZ-2", where_of(dba_, 112));
	ASSERT_EQ(ML_OK, stock_count_reject(c2, count1, "recount", &err_)) << err_.msg;

	/* 2. wrong slot 111 (found in H1-B, put away in H1-A), then ordered to HZ-2 */
	ASSERT_EQ(ML_OK, stock_slot_add(clerk_, "HZ-1", "H1-A", "shelf", nullptr, nullptr, nullptr,
					&err_));
	ASSERT_EQ(ML_OK, stock_slot_add(clerk_, "HZ-1", "H1-B", "shelf", nullptr, nullptr, nullptr,
					&err_));
	const char *pa[] = { "H1-A", b[111].c_str(), b[113].c_str(), b[114].c_str() };
	ASSERT_EQ(ML_OK, stock_putaway(clerk_, pa, 4, nullptr, &err_)) << err_.msg;
	const char *scan2[] = { "H1-B", b[111].c_str(), "H1-A", b[113].c_str(), b[114].c_str() };
	ASSERT_EQ(ML_OK, stock_count_submit(clerk_, "HZ-1", nullptr, scan2, 5, &rep, &err_))
		<< err_.msg;
	int64_t count2 = rep.count_id;
	EXPECT_EQ(1u, rep.n[COUNT_WRONG_SLOT]);
	EXPECT_EQ(0u, rep.n[COUNT_SHORTAGE]);
	stock_count_report_free(&rep);
	int64_t o2 = order_sent(clerk_, "HZ-1", "HZ-2", { b[111] });
	const char *rcv2[] = { b[111].c_str() };
	ASSERT_EQ(ML_OK, order_receive(clerk_, o2, rcv2, 1, &rr, &err_)) << err_.msg;
	order_receive_report_free(&rr);
	EXPECT_EQ(ML_ECONFLICT, stock_count_confirm(c2, count2, "年度盘点", nullptr, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, b[111].c_str())) << err_.msg;
	EXPECT_EQ("-", slot_of(dba_, 111)) << "never in a slot of the store it left";
	EXPECT_EQ("HZ-2", where_of(dba_, 111));
	ASSERT_EQ(ML_OK, stock_count_reject(c2, count2, "recount", &err_)) << err_.msg;

	/* a wrong-slot line whose meter was put away elsewhere since is refused too */
	const char *scan2b[] = { "H1-B", b[113].c_str(), "H1-A", b[114].c_str() };
	ASSERT_EQ(ML_OK, stock_count_submit(clerk_, "HZ-1", nullptr, scan2b, 4, &rep, &err_))
		<< err_.msg;
	int64_t count2b = rep.count_id;
	stock_count_report_free(&rep);
	const char *pa2[] = { "H1-B", b[113].c_str() };
	ASSERT_EQ(ML_OK, stock_putaway(clerk_, pa2, 2, nullptr, &err_)) << err_.msg;
	const char *pa3[] = { "H1-A", b[113].c_str() };
	ASSERT_EQ(ML_OK, stock_putaway(clerk_, pa3, 2, nullptr, &err_)) << err_.msg;
	EXPECT_EQ(ML_OK, stock_count_confirm(c2, count2b, "年度盘点", nullptr, &err_))
		<< "back in the slot it was counted from: as counted; " << err_.msg;
	EXPECT_EQ("H1-B", slot_of(dba_, 113));

	/* 3. 114 picked on an open order: its shortage is the order's, not adjustable */
	int64_t o3 = 0;
	const char *p3[] = { b[114].c_str() };
	ASSERT_EQ(ML_OK,
		  order_create(clerk_, "HZ-1", "HZ-2", nullptr, 0, p3, 1, nullptr, &o3, &err_))
		<< err_.msg;
	struct stock_scan_report sr = {};
	ASSERT_EQ(ML_OK, order_pick(clerk_, o3, p3, 1, &sr, &err_)) << err_.msg;
	stock_scan_report_free(&sr);
	const char *scan3[] = { "H1-B", b[113].c_str() };
	ASSERT_EQ(ML_OK, stock_count_submit(clerk_, "HZ-1", nullptr, scan3, 2, &rep, &err_))
		<< err_.msg;
	int64_t count3 = rep.count_id;
	ASSERT_EQ(1u, rep.n[COUNT_SHORTAGE]);
	for (size_t i = 0; i < rep.nlines; i++)
		if (rep.lines[i].kind == COUNT_SHORTAGE) {
			EXPECT_EQ(0, rep.lines[i].adjustable);
			EXPECT_NE(nullptr,
				  strstr(rep.lines[i].note,
					 ("distribution order " + std::to_string(o3)).c_str()))
				<< rep.lines[i].note;
		}
	stock_count_report_free(&rep);
	size_t adjusted = 9;
	ASSERT_EQ(ML_OK, stock_count_confirm(c2, count3, "年度盘点", &adjusted, &err_)) << err_.msg;
	EXPECT_EQ(0u, adjusted);
	EXPECT_EQ("secondary_stock", state_of(dba_, 114));
	size_t sent = 0;
	ASSERT_EQ(ML_OK, order_dispatch(clerk_, o3, &sent, &err_)) << err_.msg;
	EXPECT_EQ(1u, sent);

	/* 4. a shortage picked after the count refuses the confirmation, naming the order */
	dba_assets(dba_, 115, 115, "secondary_stock", "HZ-1");
	ASSERT_EQ(ML_OK, stock_count_submit(clerk_, "HZ-1", nullptr, scan3, 2, &rep, &err_))
		<< err_.msg;
	int64_t count4 = rep.count_id;
	EXPECT_EQ(1u, rep.n[COUNT_SHORTAGE]);
	stock_count_report_free(&rep);
	int64_t o4 = 0;
	const char *p4[] = { b[115].c_str() };
	ASSERT_EQ(ML_OK,
		  order_create(clerk_, "HZ-1", "HZ-2", nullptr, 0, p4, 1, nullptr, &o4, &err_))
		<< err_.msg;
	ASSERT_EQ(ML_OK, order_pick(clerk_, o4, p4, 1, &sr, &err_)) << err_.msg;
	stock_scan_report_free(&sr);
	EXPECT_EQ(ML_ESTATE, stock_count_confirm(c2, count4, "年度盘点", nullptr, &err_));
	EXPECT_NE(nullptr, strstr(err_.msg, b[115].c_str())) << err_.msg;
	EXPECT_NE(nullptr, strstr(err_.msg, ("order " + std::to_string(o4)).c_str())) << err_.msg;
	EXPECT_EQ("secondary_stock", state_of(dba_, 115));
	ASSERT_EQ(ML_OK, order_dispatch(clerk_, o4, nullptr, &err_)) << err_.msg;
	db_close(c2);
}

/*
 * An asset on an open order moves only with the order (finding 4): a bare
 * receive_secondary of an in-transit meter, into the from-store or the
 * to-store, and a bare issue of a picked one are refused naming the order,
 * and the order is received and closed as usual.
 */
TEST_F(Stores, BareMoveOfAnOrdersAssetIsRefused)
{
	dba_assets(dba_, 121, 122, "in_stock", "CENTRAL");
	std::string b121 = bc(121), b122 = bc(122);
	int64_t o = order_sent(clerk_, "CENTRAL", "CITY-A", { b121 });
	struct ml_error e = ML_ERROR_INIT;
	for (const char *to : { "CITY-A", "CITY-B" }) {
		std::string r = refused(clerk_, "ARRAY['" + b121 +
							"'], ARRAY['receive_secondary'], ARRAY['" +
							to + "']");
		EXPECT_EQ(0u, r.find("55000 asset " + b121)) << r;
		EXPECT_NE(std::string::npos,
			  r.find("is in_transit on distribution order " + std::to_string(o)))
			<< r;
	}
	EXPECT_EQ("in_transit", state_of(dba_, 121));
	/* picked, not dispatched: no bare issue either */
	int64_t o2 = 0;
	const char *p2[] = { b122.c_str() };
	ASSERT_EQ(ML_OK,
		  order_create(clerk_, "CENTRAL", "CITY-B", nullptr, 0, p2, 1, nullptr, &o2, &e))
		<< e.msg;
	std::string r = refused(clerk_, "ARRAY['" + b122 + "'], ARRAY['issue'], ARRAY['TEAM-1']");
	EXPECT_NE(std::string::npos, r.find("distribution order " + std::to_string(o2))) << r;
	EXPECT_EQ("in_stock", state_of(dba_, 122));
	ASSERT_EQ(ML_OK, order_cancel(clerk_, o2, "not needed", &e)) << e.msg;
	/* the order itself still works */
	const char *rcv[] = { b121.c_str() };
	struct order_receive_report rr = {};
	ASSERT_EQ(ML_OK, order_receive(clerk_, o, rcv, 1, &rr, &e)) << e.msg;
	EXPECT_EQ(1u, rr.n[ORDER_RECEIVED]);
	order_receive_report_free(&rr);
	ASSERT_EQ(ML_OK, order_close(clerk_, o, nullptr, 0, nullptr, nullptr, &e)) << e.msg;
	EXPECT_EQ("secondary_stock", state_of(dba_, 121));
	EXPECT_EQ("CITY-A", where_of(dba_, 121));
}

/*
 * A pending retirement holds the asset (finding 8): it is not picked, put on
 * an order, issued or moved until a second person decides; then approval
 * retires it.
 */
TEST_F(Stores, PendingRetirementHoldsTheAsset)
{
	dba_assets(dba_, 123, 123, "in_stock", "CENTRAL");
	std::string b123 = bc(123);
	const char *v[] = { b123.c_str() };
	struct ml_error e = ML_ERROR_INIT;
	int64_t rid = 0;
	ASSERT_EQ(ML_OK, retire_request(clerk_, RETIRE_RETURN_TO_MAKER, v, 1, "批次召回", nullptr,
					&rid, &e))
		<< e.msg;
	std::string req = "retirement request " + std::to_string(rid);
	int64_t o = 0;
	EXPECT_EQ(ML_EINVAL,
		  order_create(clerk_, "CENTRAL", "CITY-A", nullptr, 0, v, 1, nullptr, &o, &e));
	EXPECT_NE(nullptr, strstr(e.msg, req.c_str())) << e.msg;
	struct order_line lines[] = { { "MOD-A", 1 } };
	ASSERT_EQ(ML_OK,
		  order_create(clerk_, "CENTRAL", "CITY-A", lines, 1, nullptr, 0, nullptr, &o, &e))
		<< e.msg;
	struct stock_scan_report rep = {};
	EXPECT_NE(ML_OK, order_pick(clerk_, o, v, 1, &rep, &e));
	ASSERT_EQ(1u, rep.nrefused) << e.msg;
	EXPECT_NE(nullptr, strstr(rep.refused[0].msg, req.c_str())) << rep.refused[0].msg;
	stock_scan_report_free(&rep);
	ASSERT_EQ(ML_OK, order_cancel(clerk_, o, "not needed", &e)) << e.msg;
	for (const char *m :
	     { "ARRAY['issue'], ARRAY['TEAM-1']", "ARRAY['dispatch'], ARRAY['CITY-A']" }) {
		std::string r = refused(clerk_, "ARRAY['" + b123 + "'], " + m);
		EXPECT_EQ(0u, r.find("55000 asset " + b123 + " is on pending " + req)) << r;
	}
	EXPECT_EQ("in_stock", state_of(dba_, 123));
	struct db *mgr = pgtest_connect(pgtest_as(g_ci, "mlt_manager"));
	ASSERT_EQ(ML_OK, retire_approve(mgr, rid, nullptr, nullptr, &e)) << e.msg;
	db_close(mgr);
	EXPECT_EQ("returned_to_maker", state_of(dba_, 123));
}

/*
 * A pending retirement freezes the asset on every path, not only a bare move
 * (finding 8, 0369): a stock re-verification send, a fault report on a
 * removed meter and an order's dispatch of an asset picked before the request
 * (the race 0369 closes, forged here) are refused naming the asset and the
 * request, and the approval refuses an asset on an open order; once the
 * request is rejected each moves again.
 */
TEST_F(Stores, PendingRetirementFreezesEveryPath)
{
	dba_assets(dba_, 131, 131, "in_stock", "CENTRAL");
	dba_assets(dba_, 132, 132, "removed", "TEAM-1");
	dba_assets(dba_, 133, 133, "in_stock", "CENTRAL");
	std::string b131 = bc(131), b132 = bc(132), b133 = bc(133);
	struct ml_error e = ML_ERROR_INIT;
	struct db *mgr = pgtest_connect(pgtest_as(g_ci, "mlt_manager"));
	struct db *field = pgtest_connect(pgtest_as(g_ci, "mlt_field"));

	/* re-verification send of stock being returned to the maker */
	const char *v131[] = { b131.c_str() };
	int64_t r131 = 0;
	ASSERT_EQ(ML_OK, retire_request(clerk_, RETIRE_RETURN_TO_MAKER, v131, 1, "recall", nullptr,
					&r131, &e))
		<< e.msg;
	std::string req131 = "pending retirement request " + std::to_string(r131);
	struct stock_scan_report rep = {};
	EXPECT_NE(ML_OK, stock_reverify_send(clerk_, v131, 1, "LAB1", nullptr, &rep, &e));
	ASSERT_EQ(1u, rep.nrefused) << e.msg;
	EXPECT_NE(nullptr,
		  strstr(rep.refused[0].msg, ("asset " + b131 + " is on " + req131).c_str()))
		<< rep.refused[0].msg;
	stock_scan_report_free(&rep);
	EXPECT_EQ("in_stock", state_by_bc(dba_, bc(131)));

	/* a fault report on a removed meter being scrapped */
	const char *v132[] = { b132.c_str() };
	int64_t r132 = 0;
	ASSERT_EQ(ML_OK, retire_request(clerk_, RETIRE_SCRAP, v132, 1, "burnt", nullptr, &r132, &e))
		<< e.msg;
	std::string fault = "SELECT ml_fault_report('" + b132 +
			    "', 'BURNT', 'smoke', NULL, 'LAB1')";
	EXPECT_EQ(ML_ESTATE, db_cmd(field, fault.c_str(), 0, nullptr, &e));
	EXPECT_NE(nullptr, strstr(e.msg, ("asset " + b132 + " is on pending retirement request " +
					  std::to_string(r132))
						 .c_str()))
		<< e.msg;
	EXPECT_EQ("removed", state_by_bc(dba_, bc(132)));

	/* picked on an order, then (a concurrent request, forged) put on a request:
	 * the dispatch does not take it, nor does the approval retire it */
	int64_t o = 0;
	const char *v133[] = { b133.c_str() };
	ASSERT_EQ(ML_OK,
		  order_create(clerk_, "CENTRAL", "CITY-A", nullptr, 0, v133, 1, nullptr, &o, &e))
		<< e.msg;
	ASSERT_EQ(ML_OK, order_pick(clerk_, o, v133, 1, &rep, &e)) << e.msg;
	stock_scan_report_free(&rep);
	std::string r133 = one(
		dba_, "WITH r AS (INSERT INTO retire_request (action, reason, requested_by) SELECT "
		      "'return_to_maker', 'race', user_id FROM app_user WHERE login = 'mlt_clerk' "
		      "RETURNING request_id), i AS (INSERT INTO retire_request_item (request_id, "
		      "asset_id, from_state) SELECT request_id, asset_id, 'in_stock' FROM r, asset "
		      "WHERE barcode = '" +
			      b133 + "') SELECT request_id FROM r");
	EXPECT_EQ(ML_ESTATE, order_dispatch(clerk_, o, nullptr, &e));
	EXPECT_NE(nullptr,
		  strstr(e.msg,
			 ("asset " + b133 + " is on pending retirement request " + r133).c_str()))
		<< e.msg;
	EXPECT_EQ("in_stock", state_by_bc(dba_, bc(133)));
	EXPECT_EQ(ML_ESTATE, retire_approve(mgr, std::stoll(r133), nullptr, nullptr, &e));
	EXPECT_NE(nullptr,
		  strstr(e.msg, ("asset " + b133 + " is picked on open distribution order " +
				 std::to_string(o))
					.c_str()))
		<< e.msg;
	EXPECT_EQ("in_stock", state_by_bc(dba_, bc(133)));

	/* rejected: each moves again */
	ASSERT_EQ(ML_OK, retire_reject(mgr, r131, "keep it", &e)) << e.msg;
	ASSERT_EQ(ML_OK, retire_reject(mgr, r132, "repairable", &e)) << e.msg;
	ASSERT_EQ(ML_OK, retire_reject(mgr, std::stoll(r133), "on an order", &e)) << e.msg;
	ASSERT_EQ(ML_OK, stock_reverify_send(clerk_, v131, 1, "LAB1", nullptr, &rep, &e)) << e.msg;
	stock_scan_report_free(&rep);
	EXPECT_EQ("reverify", state_by_bc(dba_, bc(131)));
	EXPECT_EQ(ML_OK, db_cmd(field, fault.c_str(), 0, nullptr, &e)) << e.msg;
	EXPECT_EQ("fault_analysis", state_by_bc(dba_, bc(132)));
	ASSERT_EQ(ML_OK, order_dispatch(clerk_, o, nullptr, &e)) << e.msg;
	EXPECT_EQ("in_transit", state_by_bc(dba_, bc(133)));
	db_close(field);
	db_close(mgr);
}

/*
 * `stock where` says the state, and "issuable" only when the issue would take
 * the asset (finding 6, 0369): a lost, a scrapped and a returned meter with
 * good dates, and one on a pending retirement, are not issuable, naming why;
 * a verified one in stock is, and the bare issue indeed takes it.
 */
TEST_F(Stores, StockWhereSaysTheStateAndIssuableOnlyByTheIssueRules)
{
	dba_assets(dba_, 134, 134, "lost", "CENTRAL");
	dba_assets(dba_, 135, 135, "scrapped", "CENTRAL");
	dba_assets(dba_, 136, 136, "returned_to_maker", "CENTRAL");
	dba_assets(dba_, 137, 138, "in_stock", "CENTRAL");
	std::string db = " --db " + pgtest_sq(pgtest_as(g_ci, "mlt_clerk")) + " ";
	std::string out;
	const struct {
		int n;
		const char *text;
	} refused_ones[] = {
		{ 134, "state lost: not issuable: it is 'lost'; only an asset in in_stock or "
		       "secondary_stock is issued" },
		{ 135, "state scrapped: not issuable: it is 'scrapped'" },
		{ 136, "state returned_to_maker: not issuable: it is 'returned_to_maker'" },
	};
	for (const auto &r : refused_ones) {
		EXPECT_EQ(0, pgtest_run(pgtest_cli() + db + "stock where " + bc(r.n), &out, true))
			<< out;
		EXPECT_NE(std::string::npos, out.find(r.text)) << out;
		EXPECT_EQ(std::string::npos, out.find("valid for issue")) << out;
	}
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + db + "stock where " + bc(134), &out, true)) << out;
	EXPECT_EQ(0u, out.find(bc(134) + ": lost (last at CENTRAL)\n")) << out;
	/* on a pending retirement: in stock, dates good, still not issuable */
	std::string b137 = bc(137), b138 = bc(138);
	const char *v[] = { b137.c_str() };
	int64_t rid = 0;
	struct ml_error e = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK,
		  retire_request(clerk_, RETIRE_RETURN_TO_MAKER, v, 1, "recall", nullptr, &rid, &e))
		<< e.msg;
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + db + "stock where " + b137, &out, true)) << out;
	EXPECT_NE(std::string::npos,
		  out.find("state in_stock: not issuable: it is on pending retirement request " +
			   std::to_string(rid)))
		<< out;
	/* a genuinely issuable one */
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + db + "stock where " + b138, &out, true)) << out;
	EXPECT_EQ(bc(138) + ": store CENTRAL (not put away)\nstate in_stock: issuable\n", out);
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + db + "stock where " + b138 + " --json", &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"state\":\"in_stock\",\"issuable\":true")) << out;
	EXPECT_EQ("", refused(clerk_, "ARRAY['" + b138 + "'], ARRAY['issue'], ARRAY['TEAM-1']"));
	EXPECT_EQ("issued", state_by_bc(dba_, bc(138)));
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + db + "stock where " + b138, &out, true)) << out;
	EXPECT_NE(std::string::npos, out.find("state issued: not issuable: it is 'issued'")) << out;
}

/* issue puts the asset at a field team (finding 6): no location, a store or a lab is refused. */
TEST_F(Stores, IssueGoesToAFieldTeamOnly)
{
	dba_assets(dba_, 124, 124, "in_stock", "CENTRAL");
	std::string b124 = bc(124);
	std::string args = "ARRAY['" + b124 + "'], ARRAY['issue']";
	for (const char *to :
	     { "", ", ARRAY['CITY-A']", ", ARRAY['LAB1']", ", ARRAY['CENTRAL']" }) {
		std::string r = refused(clerk_, args + to);
		EXPECT_EQ(0u, r.find("22023 asset " + b124 + ": issue puts it in a field team"))
			<< r;
		EXPECT_NE(std::string::npos, r.find("give --location TEAM")) << r;
	}
	EXPECT_EQ("in_stock", state_of(dba_, 124));
	EXPECT_EQ("", refused(clerk_, args + ", ARRAY['TEAM-1']"));
	EXPECT_EQ("issued", state_of(dba_, 124));
	EXPECT_EQ("TEAM-1", where_of(dba_, 124));
}

/*
 * A batch move reads open orders and pending retirements as sets (0373, issue
 * 10): only an open order item and a pending request hold an asset. Asset 141
 * was on a cancelled order and a rejected request (rows that are no longer
 * open or pending), 142 is picked on an open order, 143 on a pending request,
 * 144 is clean: the batch refuses exactly 142 and 143, each naming its order
 * or request, and moves nothing; without them 141 and 144 move.
 */
TEST_F(Stores, BatchMoveRefusesOnlyOpenOrdersAndPendingRequests)
{
	dba_assets(dba_, 141, 144, "in_stock", "CENTRAL");
	std::string b[5];
	for (int i = 1; i <= 4; i++)
		b[i] = bc(140 + i);
	struct ml_error e = ML_ERROR_INIT;
	struct stock_scan_report rep = {};
	/* 141: an order cancelled and a request rejected */
	const char *v141[] = { b[1].c_str() };
	int64_t o141 = 0, r141 = 0;
	ASSERT_EQ(ML_OK, order_create(clerk_, "CENTRAL", "CITY-A", nullptr, 0, v141, 1, nullptr,
				      &o141, &e))
		<< e.msg;
	ASSERT_EQ(ML_OK, order_pick(clerk_, o141, v141, 1, &rep, &e)) << e.msg;
	stock_scan_report_free(&rep);
	ASSERT_EQ(ML_OK, order_cancel(clerk_, o141, "not needed", &e)) << e.msg;
	ASSERT_EQ(ML_OK, retire_request(clerk_, RETIRE_RETURN_TO_MAKER, v141, 1, "cracked", nullptr,
					&r141, &e))
		<< e.msg;
	struct db *mgr = pgtest_connect(pgtest_as(g_ci, "mlt_manager"));
	ASSERT_EQ(ML_OK, retire_reject(mgr, r141, "only the label", &e)) << e.msg;
	db_close(mgr);
	/* 142 picked on an open order, 143 on a pending request */
	const char *v142[] = { b[2].c_str() }, *v143[] = { b[3].c_str() };
	int64_t o142 = 0, r143 = 0;
	ASSERT_EQ(ML_OK, order_create(clerk_, "CENTRAL", "CITY-A", nullptr, 0, v142, 1, nullptr,
				      &o142, &e))
		<< e.msg;
	ASSERT_EQ(ML_OK, order_pick(clerk_, o142, v142, 1, &rep, &e)) << e.msg;
	stock_scan_report_free(&rep);
	ASSERT_EQ(ML_OK, retire_request(clerk_, RETIRE_RETURN_TO_MAKER, v143, 1, "burnt", nullptr,
					&r143, &e))
		<< e.msg;

	std::string r = refused(clerk_, "ARRAY['" + b[1] + "', '" + b[2] + "', '" + b[3] + "', '" +
						b[4] +
						"'], array_fill('issue'::text, ARRAY[4]), "
						"array_fill('TEAM-1'::text, ARRAY[4])");
	EXPECT_EQ(
		"55000 asset " + b[2] + " is picked on distribution order " + std::to_string(o142) +
			": only the order moves it (meterlab order dispatch " +
			std::to_string(o142) + ", or order cancel " + std::to_string(o142) +
			"); 55000 asset " + b[3] + " is on pending retirement request " +
			std::to_string(r143) +
			": it does not move until a second person approves or rejects it (meterlab "
			"retire approve|reject " +
			std::to_string(r143) + ")",
		r);
	for (int n = 141; n <= 144; n++)
		EXPECT_EQ("in_stock", state_by_bc(dba_, b[n - 140])) << n;

	EXPECT_EQ("", refused(clerk_,
			      "ARRAY['" + b[1] + "', '" + b[4] +
				      "'], ARRAY['issue', 'issue'], ARRAY['TEAM-1', 'TEAM-1']"));
	EXPECT_EQ("issued", state_by_bc(dba_, b[1]));
	EXPECT_EQ("issued", state_by_bc(dba_, b[4]));
	ASSERT_EQ(ML_OK, order_cancel(clerk_, o142, "round over", &e)) << e.msg;
}

/* Nobody writes the warehouse tables directly: every role is refused. */
TEST_F(Stores, DirectWritesAreRefusedForEveryRole)
{
	const char *who[] = { "mlt_clerk", "mlt_admin",    "mlt_manager", "mlt_field",
			      "mlt_tech",  "mlt_approver", "mlt_analyst", "mlt_auditor" };
	const char *attack[] = {
		"INSERT INTO store_slot (store_id, barcode, kind, created_by) SELECT location_id, 'X1', 'box', 1 "
		"FROM location WHERE code = 'CENTRAL'",
		"INSERT INTO asset_slot (asset_id, slot_id, placed_by) SELECT 1, slot_id, 1 FROM store_slot LIMIT 1",
		"UPDATE asset_slot SET slot_id = slot_id",
		"DELETE FROM asset_slot",
		"INSERT INTO dist_order (from_id, to_id, created_by) VALUES (1, 2, 1)",
		"UPDATE dist_order SET status = 'closed'",
		"UPDATE dist_order_item SET status = 'received'",
		"DELETE FROM dist_order_item",
		"INSERT INTO dist_order_item (order_id, asset_id, line_no, status) VALUES (1, 1, 1, 'picked')",
		"UPDATE asset SET state = 'lost'",
		"INSERT INTO stock_count (store_id, scans, counted_by) VALUES (1, 0, 1)",
		"UPDATE stock_count SET status = 'confirmed', decided_by = 2",
		"INSERT INTO stock_count_line (count_id, line_no, kind, code, adjustable, note) VALUES (1, 9, 'shortage', 'x', true, 'x')",
		"INSERT INTO retire_request (action, reason, requested_by) VALUES ('scrap', 'x', 1)",
		"UPDATE retire_request SET status = 'approved'",
		"UPDATE retire_request_item SET pending = false",
	};
	for (const char *w : who) {
		struct db *db = pgtest_connect(pgtest_as(g_ci, w));
		for (const char *sql : attack) {
			struct ml_error e = ML_ERROR_INIT;
			EXPECT_EQ(ML_EPERM, db_cmd(db, sql, 0, nullptr, &e)) << w << ": " << sql;
		}
		db_close(db);
	}
}

/* The commands, as the clerk: a scanner's dump with a bad line is refused naming the line. */
TEST_F(Stores, CommandLinePutAwayOrderAndList)
{
	std::string db = " --db " + pgtest_sq(pgtest_as(g_ci, "mlt_clerk")) + " ";
	std::string out;
	ASSERT_EQ(0, pgtest_run(pgtest_cli() + db + "stock slot-add CENTRAL CLI-1 --kind box", &out,
				true))
		<< out;
	char path[] = "/tmp/ml-scan-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	std::string scans = "code\nCLI-1\n" + g_bc[19] + "\n" + g_bc[31] + "\n";
	ASSERT_EQ((ssize_t)scans.size(), write(fd, scans.data(), scans.size()));
	close(fd);
	EXPECT_EQ(5, pgtest_run(pgtest_cli() + db + "stock put-away --file " + path, &out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("refused (line 4) " + g_bc[31])) << out;
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + db + "stock put-away CLI-1 " + g_bc[19], &out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("put away: 1 asset")) << out;
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + db + "stock where " + g_bc[19], &out, true)) << out;
	EXPECT_NE(std::string::npos, out.find("slot CLI-1 of store CENTRAL")) << out;
	EXPECT_EQ(0,
		  pgtest_run(pgtest_cli() + db + "stock counts --store CENTRAL --slot CLI-1 --json",
			     &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"assets\":\"1\"")) << out;
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + db + "stock reverify-list", &out)) << out;
	EXPECT_EQ(0u,
		  out.find("barcode,model,lot,store,slot,state,valid_until,verified_on,reason\n"))
		<< out;
	EXPECT_EQ(
		0,
		pgtest_run(pgtest_cli() + db +
				   "order create --from CENTRAL --to CITY-B --line MOD-A:1 --json",
			   &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("order_id")) << out;
	EXPECT_EQ(2, pgtest_run(pgtest_cli() + db +
					"order create --from CENTRAL --to CITY-B --line MOD-A",
				&out, true));
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + db + "order list --status open", &out, true)) << out;
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + db + "stock sheet CENTRAL --slot CLI-1", &out))
		<< out;
	EXPECT_EQ("slot,barcode,model,lot,state,verified_on\nCLI-1," + g_bc[19] +
			  ",MOD-A,LOT1,in_stock,",
		  out.substr(0, out.rfind(',') + 1))
		<< out;
	EXPECT_EQ(9, pgtest_run(pgtest_cli() + " --db " + pgtest_sq(pgtest_as(g_ci, "mlt_field")) +
					" stock put-away CLI-1 " + g_bc[19],
				&out, true))
		<< out;
	unlink(path);
}

/* The count, order-lines file and retirement commands, as the people who would run them. */
TEST_F(Stores, CommandLineCountOrderFileAndRetire)
{
	std::string clerk = " --db " + pgtest_sq(pgtest_as(g_ci, "mlt_clerk")) + " ";
	std::string clerk2 = " --db " + pgtest_sq(pgtest_as(g_ci, "mlt_clerk2")) + " ";
	std::string mgr = " --db " + pgtest_sq(pgtest_as(g_ci, "mlt_manager")) + " ";
	std::string out;
	dba_assets(dba_, 75, 77, "secondary_stock", "CITY-B");
	dba_assets(dba_, 78, 78, "failed", "CENTRAL");
	ASSERT_EQ(0, pgtest_run(pgtest_cli() + clerk + "stock count CITY-B " + g_bc[75] + " " +
					g_bc[76] + " --json",
				&out))
		<< out;
	size_t at = out.find("\"count_id\":");
	ASSERT_NE(std::string::npos, at) << out;
	std::string id = std::to_string(atoll(out.c_str() + at + 11));
	EXPECT_NE(std::string::npos, out.find("\"shortage\":1")) << out;
	EXPECT_EQ(9, pgtest_run(pgtest_cli() + clerk + "stock count-confirm " + id + " --reason x",
				&out, true))
		<< out;
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + clerk2 + "stock count-confirm " + id +
					" --reason 'count B'",
				&out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("1 assets adjusted")) << out;
	EXPECT_EQ("lost", state_of(dba_, 77));

	char path[] = "/tmp/ml-lines-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	std::string lines = "model,quantity\nMOD-A,2\n" + g_bc[75] + "\n";
	ASSERT_EQ((ssize_t)lines.size(), write(fd, lines.data(), lines.size()));
	close(fd);
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + clerk +
					"order create --from CITY-B --to CENTRAL --file " + path,
				&out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("created: CITY-B -> CENTRAL")) << out;
	unlink(path);

	EXPECT_EQ(0, pgtest_run(pgtest_cli() + clerk + "retire request scrap " + g_bc[78] +
					" --reason 'cracked case'",
				&out, true))
		<< out;
	at = out.find("retirement request ");
	ASSERT_NE(std::string::npos, at) << out;
	std::string rid = std::to_string(atoll(out.c_str() + at + 19));
	EXPECT_EQ(9, pgtest_run(pgtest_cli() + clerk + "retire approve " + rid, &out, true)) << out;
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + mgr + "retire approve " + rid, &out, true)) << out;
	EXPECT_EQ("scrapped", state_of(dba_, 78));
	EXPECT_EQ(0, pgtest_run(pgtest_cli() + mgr + "retire list --status approved", &out, true))
		<< out;
	EXPECT_NE(std::string::npos, out.find("cracked case")) << out;
}

/*
 * A bulk move of 10 000 slotted assets in one statement leaves every slot
 * holding exactly the assets that stayed in the store (0330: the rule of 0200
 * applied once per statement from its transition tables, no longer once per
 * row). Own database: 12 000 assets would disturb the counts of the suite.
 */
TEST(StoresSlotsAtScale, TenThousandAssetMoveLeavesSlotCountsExact)
{
	std::string ci = pgtest_fresh_db("stores_slots");
	struct db *dba = pgtest_connect(ci);
	struct ml_error err = ML_ERROR_INIT;
	const char *const fixture[] = {
		"INSERT INTO manufacturer (code, name) VALUES ('M', 'M')",
		"INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, connection, "
		" wiring, un_v, ib_a, imax_a, constant_imp, verification_period_months) "
		" SELECT 'MOD-S', manufacturer_id, 'm', 'meter_1p', '1', 'direct', '1p2w', 220, 5, 60, "
		" 1200, 96 FROM manufacturer",
		"INSERT INTO lot (code, model_id, received_by, file_sha256, row_count) "
		" SELECT 'LOT-S', model_id, 'x', repeat('c', 64), 12000 FROM device_model",
		"INSERT INTO location (code, name, kind) VALUES ('CITY-S', 'City S', 'secondary_store')",
		/* serial n = 1..12000, verified stock at CENTRAL */
		"INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date, state, "
		" location_id, valid_until, verified_at) "
		" SELECT b || ml_barcode_check_digit(b), (SELECT model_id FROM device_model), "
		"  (SELECT lot_id FROM lot), 'B', date '2026-01-01', 'in_stock', "
		"  (SELECT location_id FROM location WHERE code = 'CENTRAL'), current_date + 3000, "
		"  now() - interval '1 month' "
		" FROM generate_series(1, 12000) n, LATERAL (SELECT '41300020000' || lpad(n::text, 10, "
		" '0') AS b) x",
	};
	for (const char *sql : fixture)
		ASSERT_EQ(ML_OK, db_cmd(dba, sql, 0, nullptr, &err)) << sql << ": " << err.msg;

	/* six slots; the clerk puts serials 2000k+1 .. 2000(k+1) into slot S-k by scanning */
	struct db *clerk = pgtest_connect(pgtest_as(ci, "mlt_clerk"));
	std::vector<std::string> codes;
	for (int k = 0; k < 6; k++) {
		std::string slot = "S-" + std::to_string(k);
		ASSERT_EQ(ML_OK, stock_slot_add(clerk, "CENTRAL", slot.c_str(), "shelf", nullptr,
						nullptr, nullptr, &err))
			<< err.msg;
		codes.push_back(slot);
	}
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, db_exec(dba, "SELECT barcode FROM asset ORDER BY barcode", 0, nullptr,
				 PGRES_TUPLES_OK, &res, &err))
		<< err.msg;
	ASSERT_EQ(12000, PQntuples(res));
	std::vector<std::string> scan;
	for (int i = 0; i < 12000; i++) {
		if (i % 2000 == 0)
			scan.push_back(codes[(size_t)(i / 2000)]);
		scan.push_back(PQgetvalue(res, i, 0));
	}
	PQclear(res);
	std::vector<const char *> sp;
	for (const std::string &s : scan)
		sp.push_back(s.c_str());
	struct stock_scan_report rep = {};
	ASSERT_EQ(ML_OK, stock_putaway(clerk, sp.data(), sp.size(), &rep, &err)) << err.msg;
	EXPECT_EQ(12000u, rep.done);
	stock_scan_report_free(&rep);
	db_close(clerk);

	const std::string per_slot =
		"SELECT string_agg(s.barcode || '=' || (SELECT count(*) FROM asset_slot x "
		" WHERE x.slot_id = s.slot_id), ' ' ORDER BY s.barcode) FROM store_slot s";
	EXPECT_EQ("S-0=2000 S-1=2000 S-2=2000 S-3=2000 S-4=2000 S-5=2000", one(dba, per_slot));

	/* serials 1..10000 in ONE ml_asset_apply (one UPDATE), as the clerk:
	 *    1.. 2500 reverify_send   (leaves stock: out of its slot)
	 * 2501.. 5000 dispatch        (in transit, location unchanged: out)
	 * 5001.. 7500 count_transfer  (still in stock, but in CITY-S: out)
	 * 7501..10000 put_away        (same store, same state: stays)
	 * 10001..12000 not moved      (stays) */
	const std::string apply =
		"SELECT ml_asset_apply((SELECT user_id FROM app_user WHERE login = 'mlt_clerk'), "
		" array_agg(ROW(a.asset_id, 'in_stock', CASE WHEN n <= 2500 THEN 'reverify' "
		"  WHEN n <= 5000 THEN 'in_transit' ELSE 'in_stock' END, CASE WHEN n <= 2500 THEN "
		"  'reverify_send' WHEN n <= 5000 THEN 'dispatch' WHEN n <= 7500 THEN 'count_transfer' "
		"  ELSE 'put_away' END, CASE WHEN n BETWEEN 5001 AND 7500 THEN (SELECT location_id "
		"  FROM location WHERE code = 'CITY-S') END, false, NULL, NULL, NULL)::ml_asset_change "
		"  ORDER BY a.asset_id)) "
		"FROM (SELECT asset_id, substr(barcode, 12, 10)::int AS n FROM asset) a "
		"WHERE n <= 10000";
	/* rolled back, and refused (one asset changed meanwhile): every slot row stays */
	ASSERT_EQ(ML_OK, db_cmd(dba, "BEGIN", 0, nullptr, &err));
	EXPECT_EQ("10000", one(dba, apply));
	EXPECT_EQ("S-0=0 S-1=0 S-2=0 S-3=500 S-4=2000 S-5=2000", one(dba, per_slot));
	ASSERT_EQ(ML_OK, db_cmd(dba, "ROLLBACK", 0, nullptr, &err));
	EXPECT_EQ("S-0=2000 S-1=2000 S-2=2000 S-3=2000 S-4=2000 S-5=2000", one(dba, per_slot));
	ASSERT_EQ(ML_OK, db_cmd(dba,
				"UPDATE asset SET state = 'issued' "
				"WHERE barcode LIKE '413000200000000009999_'",
				0, nullptr, &err))
		<< err.msg;
	EXPECT_EQ("S-0=2000 S-1=2000 S-2=2000 S-3=2000 S-4=1999 S-5=2000", one(dba, per_slot));
	EXPECT_EQ(ML_ECONFLICT,
		  db_exec(dba, apply.c_str(), 0, nullptr, PGRES_TUPLES_OK, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "nothing moved")) << err.msg;
	EXPECT_EQ("S-0=2000 S-1=2000 S-2=2000 S-3=2000 S-4=1999 S-5=2000", one(dba, per_slot));
	ASSERT_EQ(ML_OK, db_cmd(dba,
				"UPDATE asset SET state = 'in_stock' "
				"WHERE barcode LIKE '413000200000000009999_'",
				0, nullptr, &err))
		<< err.msg;

	/* applied: exactly the assets still in CENTRAL's stock keep their slots */
	EXPECT_EQ("10000", one(dba, apply));
	EXPECT_EQ("S-0=0 S-1=0 S-2=0 S-3=500 S-4=1999 S-5=2000", one(dba, per_slot));
	EXPECT_EQ("0",
		  one(dba, "SELECT count(*) FROM asset_slot x JOIN asset a USING (asset_id) "
			   "WHERE a.state NOT IN ('in_stock', 'secondary_stock') OR a.location_id "
			   "<> (SELECT location_id FROM location WHERE code = 'CENTRAL')"));
	EXPECT_EQ("4500", one(dba, "SELECT count(*) FROM asset a WHERE a.state = 'in_stock' AND "
				   "a.location_id = (SELECT location_id FROM location WHERE code = "
				   "'CENTRAL')"));
	/* and it is one trigger call per statement (tgtype bit 0: FOR EACH ROW) */
	EXPECT_EQ("0", one(dba, "SELECT tgtype & 1 FROM pg_trigger WHERE tgname = "
				"'asset_slot_leaves'"));
	db_close(dba);
}

TEST(StoresParse, ScanListAllOrNothingWithLineNumbers)
{
	const char ok[] = "barcode\n4130001000000000013\r\n\n\"A-01\",x\n  B-02  \n";
	char **codes = nullptr;
	size_t n = 0, *lines = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, stock_scan_parse(ok, sizeof(ok) - 1, &codes, &n, &lines, &err)) << err.msg;
	ASSERT_EQ(3u, n);
	EXPECT_STREQ("4130001000000000013", codes[0]);
	EXPECT_STREQ("A-01", codes[1]);
	EXPECT_STREQ("B-02", codes[2]);
	EXPECT_EQ(4u, lines[1]);
	free(codes);
	free(lines);
	const char bad[] = "A\nB\nC\x01\n";
	EXPECT_EQ(ML_EINVAL, stock_scan_parse(bad, sizeof(bad) - 1, &codes, &n, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "line 3")) << err.msg;
	EXPECT_EQ(nullptr, codes);
}

TEST(StoresParse, OrderLinesFileByModelOrBarcode)
{
	const char ok[] =
		"\xEF\xBB\xBFmodel,quantity\r\nMOD-A,200\n\"MOD-B\", 3\n4130001000000000000135\n# note\n";
	struct order_file f;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, order_file_parse(ok, sizeof(ok) - 1, &f, &err)) << err.msg;
	ASSERT_EQ(2u, f.nlines);
	EXPECT_STREQ("MOD-A", f.lines[0].model);
	EXPECT_EQ(200, f.lines[0].quantity);
	EXPECT_STREQ("MOD-B", f.lines[1].model);
	EXPECT_EQ(3, f.lines[1].quantity);
	ASSERT_EQ(1u, f.nbarcodes);
	EXPECT_STREQ("4130001000000000000135", f.barcodes[0]);
	order_file_free(&f);
	const char bad[] = "MOD-A,2\nMOD-B,two\n";
	EXPECT_EQ(ML_EINVAL, order_file_parse(bad, sizeof(bad) - 1, &f, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "line 2")) << err.msg;
	EXPECT_EQ(nullptr, f.block);
	const char zero[] = "MOD-A,0\n";
	EXPECT_EQ(ML_EINVAL, order_file_parse(zero, sizeof(zero) - 1, &f, &err));
}

} // namespace

/* The count sheet's verified_on and the stock counts' oldest_verified are
 * China's days (the certificate's 检定日期, 0141), whatever zone the session
 * runs in: a meter verified at 00:30 Beijing time was verified that day,
 * not the day before (UTC) or after (UTC+14). */
TEST_F(Stores, VerificationDaysAreChinasFromAnyZone)
{
	ASSERT_EQ(ML_OK,
		  db_cmd(dba_,
			 "INSERT INTO location (code, name, kind) VALUES ('DAY-S', 'Day store', "
			 "'secondary_store')",
			 0, nullptr, &err_))
		<< err_.msg;
	dba_assets(dba_, 150, 151, "secondary_stock", "DAY-S");
	ASSERT_EQ(
		ML_OK,
		db_cmd(dba_,
		       "UPDATE asset SET verified_at = CASE WHEN barcode LIKE '%00000150_' "
		       "THEN timestamptz '2026-03-01 00:30+08' ELSE timestamptz '2026-03-02 23:30+08' "
		       "END WHERE location_id = (SELECT location_id FROM location WHERE code = "
		       "'DAY-S')",
		       0, nullptr, &err_))
		<< err_.msg;
	for (const char *zone : { "Etc/GMT+12", "UTC", "Etc/GMT-14", "Asia/Shanghai" }) {
		struct db *db = pgtest_connect_in_zone(pgtest_as(g_ci, "mlt_clerk"), zone);
		struct ml_buf csv = ML_BUF_INIT;
		size_t n = 0;
		ASSERT_EQ(ML_OK, stock_sheet_csv(db, "DAY-S", nullptr, &csv, &n, &err_))
			<< zone << ": " << err_.msg;
		std::string text = ml_buf_str(&csv);
		EXPECT_EQ(2u, n) << zone;
		EXPECT_NE(std::string::npos, text.find(",2026-03-01\n")) << zone << "\n" << text;
		EXPECT_NE(std::string::npos, text.find(",2026-03-02\n")) << zone << "\n" << text;
		ml_buf_free(&csv);
		struct stock_filter f = {};
		f.store = "DAY-S";
		PGresult *res = nullptr;
		ASSERT_EQ(ML_OK, stock_counts(db, &f, &res, &err_)) << zone << ": " << err_.msg;
		ASSERT_EQ(1, PQntuples(res)) << zone;
		EXPECT_STREQ("2026-03-01", PQgetvalue(res, 0, PQfnumber(res, "oldest_verified")))
			<< zone;
		PQclear(res);
		db_close(db);
	}
}
