/*
 * meterlab order … through the built binary: receiving a distribution order
 * names a few of what is still in transit and counts the rest (an order of
 * 100 000 meters printed every barcode on one line after every receipt);
 * `order in-transit` lists all of it when asked. Dispatch and show take
 * the order id like the others.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include <unistd.h>

#include "../support/pgtest.h"

namespace
{

std::string g_db;

int run_as(const char *who, const std::string &args, std::string *out, bool err = true)
{
	return pgtest_run(pgtest_cli() + " --db " + pgtest_sq(pgtest_as(g_db, who)) + " " + args +
				  (err ? "" : " 2>/dev/null"),
			  out, err);
}

bool has(const std::string &s, const std::string &needle)
{
	return s.find(needle) != std::string::npos;
}

std::string write_file(const char *name, const std::string &text)
{
	std::string path = std::string("/tmp/") + name + "-" + std::to_string(getpid());
	FILE *f = fopen(path.c_str(), "w");
	EXPECT_NE(nullptr, f);
	if (f) {
		fputs(text.c_str(), f);
		fclose(f);
	}
	return path;
}

} // namespace

TEST(OrderCli, ReceiveNamesAFewOfWhatIsLeftAndInTransitListsAll)
{
	const long first = 510000, n = 45;
	g_db = pgtest_fresh_db("order_cli");
	std::string out;
	ASSERT_EQ(0, run_as("mlt_admin", "asset manufacturer add OHX --name 'maker'", &out)) << out;
	ASSERT_EQ(0, run_as("mlt_admin",
			    "asset model add --code OM1 --manufacturer OHX --name 'single-phase' "
			    "--kind meter_1p --class 1 --connection direct --wiring 1p2w --un 220 "
			    "--ib 5 --imax 60 --constant 1200 --period 96",
			    &out))
		<< out;
	ASSERT_EQ(0, run_as("mlt_admin",
			    "asset location add OCITY --name 'city store' --kind secondary_store "
			    "--parent CENTRAL",
			    &out))
		<< out;
	std::string csv = "barcode,model_code,production_batch,production_date\n", scans;
	for (long i = 0; i < n; i++) {
		csv += pgtest_barcode(first + i) + ",OM1,B1,2026-09-14\n";
		scans += pgtest_barcode(first + i) + "\n";
	}
	std::string delivery = write_file("order-cli-delivery.csv", csv);
	std::string picked = write_file("order-cli-scans.txt", scans);
	ASSERT_EQ(0, run_as("mlt_clerk", "asset receive --lot OLOT-1 --file " + pgtest_sq(delivery),
			    &out))
		<< out;
	/* verified this year, in stock (as a passing run would leave them) */
	struct db *db = pgtest_connect(g_db);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_cmd(db,
				"UPDATE asset SET state = 'in_stock', valid_until = current_date + "
				"365, verified_at = now() WHERE lot_id = (SELECT lot_id FROM lot "
				"WHERE code = 'OLOT-1')",
				0, nullptr, &err))
		<< err.msg;
	db_close(db);
	ASSERT_EQ(0,
		  run_as("mlt_clerk", "--json order create --from CENTRAL --to OCITY --line OM1:45",
			 &out, false))
		<< out;
	size_t at = out.find("\"order_id\":");
	ASSERT_NE(std::string::npos, at) << out;
	std::string id = std::to_string(atol(out.c_str() + at + 11));
	ASSERT_EQ(0, run_as("mlt_clerk", "order pick " + id + " --file " + pgtest_sq(picked), &out))
		<< out;
	ASSERT_EQ(0, run_as("mlt_clerk", "order dispatch " + id, &out)) << out;
	EXPECT_TRUE(has(out, "45 assets in transit")) << out;
	ASSERT_EQ(0, run_as("mlt_clerk", "order show " + id, &out)) << out;
	EXPECT_TRUE(has(out, "OM1")) << out;

	/* two arrive: the count of the rest, its first 20 named, the way to all */
	ASSERT_EQ(0, run_as("mlt_clerk",
			    "order receive " + id + " " + pgtest_barcode(first) + " " +
				    pgtest_barcode(first + 1),
			    &out, false))
		<< out;
	EXPECT_TRUE(has(out, "2 received, 0 extra, 0 wrong, 0 duplicate; 43 still missing: " +
				     pgtest_barcode(first + 2) + " "))
		<< out;
	EXPECT_TRUE(has(out, pgtest_barcode(first + 21))) << out;
	EXPECT_FALSE(has(out, pgtest_barcode(first + 22))) << out;
	EXPECT_TRUE(has(out, "and 23 more (meterlab order in-transit " + id + ")")) << out;
	EXPECT_EQ(1, std::count(out.begin(), out.end(), '\n')) << out;
	/* --json: the API's shape, a count and one page */
	ASSERT_EQ(0, run_as("mlt_clerk",
			    "--json order receive " + id + " " + pgtest_barcode(first + 2), &out,
			    false))
		<< out;
	EXPECT_TRUE(
		has(out, "\"in_transit_count\":42,\"in_transit\":[\"" + pgtest_barcode(first + 3)))
		<< out;
	EXPECT_TRUE(has(out, "\"next\":null}")) << out; /* 42 fit in the page of 100 */
	EXPECT_FALSE(has(out, "\"missing\"")) << out;
	/* asked for: every one, a line each, then the count */
	ASSERT_EQ(0, run_as("mlt_clerk", "order in-transit " + id, &out, false)) << out;
	std::string want;
	for (long i = 3; i < n; i++)
		want += pgtest_barcode(first + i) + "\n";
	EXPECT_EQ(want + "order " + id + ": 42 still in transit\n", out);
	ASSERT_EQ(0, run_as("mlt_clerk", "--json order in-transit " + id, &out, false)) << out;
	EXPECT_EQ(42, std::count(out.begin(), out.end(), ','))
		<< out; /* after order_id, 41 between */
	EXPECT_EQ(4, run_as("mlt_clerk", "order in-transit 999999", &out)) << out;
	remove(delivery.c_str());
	remove(picked.c_str());
}
