/*
 * meterlab asset … through the built binary: output, --json and exit codes.
 * Each command runs as the person who would do it (issue 8): the catalogue
 * as mlt_admin, deliveries and store moves as mlt_clerk, lab moves as
 * mlt_tech, field moves as mlt_field; states only a run produces are set by
 * the DBA as fixtures.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "../support/pgtest.h"

namespace
{

std::string g_db;

int run_as(const char *who, const std::string &args, std::string *out)
{
	return pgtest_run(pgtest_cli() + " --db " + pgtest_sq(pgtest_as(g_db, who)) + " " + args,
			  out, true);
}

/* Reading commands and the clerk's work: as the warehouse clerk. */
int run(const std::string &args, std::string *out)
{
	return run_as("mlt_clerk", args, out);
}

int run_stdout(const std::string &args, std::string *out)
{
	return pgtest_run(pgtest_cli() + " --db " + pgtest_sq(pgtest_as(g_db, "mlt_clerk")) + " " +
				  args + " 2>/dev/null",
			  out, false);
}

/* The DBA puts barcodes in a state only a run produces (a fixture). */
void dba_state(const std::string &barcodes, const char *state)
{
	struct db *db = pgtest_connect(g_db);
	const char *p[2] = { barcodes.c_str(), state };
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_cmd(db,
				"UPDATE asset SET state = $2, valid_until = current_date + 365 "
				"WHERE barcode = ANY($1::bpchar[])",
				2, p, &err))
		<< err.msg;
	db_close(db);
}

bool has(const std::string &s, const std::string &needle)
{
	return s.find(needle) != std::string::npos;
}

const char *const B1 = "4130001000000462000018"; /* rows 1-3 of samples/delivery-demo.csv */
const char *const B2 = "4130001000000462000025";
const char *const B3 = "4130001000000462000032";

class AssetCli : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_db = pgtest_fresh_db("asset_cli");
		std::string out;
		ASSERT_EQ(0,
			  run_as("mlt_admin", "asset manufacturer add HX --name '浙江华仪'", &out))
			<< out;
		ASSERT_EQ(
			0,
			run_as("mlt_admin",
			       "asset model add --code DDZY285-Z --manufacturer HX --name 'single-phase' --kind meter_1p "
			       "--class 1 --connection direct --wiring 1p2w --un 220 --ib 5 --imax 60 --constant 1200 "
			       "--period 96",
			       &out))
			<< out;
		ASSERT_EQ(
			0,
			run_as("mlt_admin",
			       "asset location add TEAM-7 --name 'field team 7' --kind field_team",
			       &out))
			<< out;
		/* --actor is gone: who receives is the login */
		EXPECT_EQ(2, run("asset receive --lot DEMO-0 --actor clerk --file " +
					 pgtest_sq(pgtest_src("samples/delivery-demo.csv")),
				 &out));
		ASSERT_EQ(0, run("asset receive --lot DEMO-1 --file " +
					 pgtest_sq(pgtest_src("samples/delivery-demo.csv")),
				 &out))
			<< out;
		ASSERT_TRUE(has(out, "received 24 assets")) << out;
	}
};

} // namespace

TEST(AssetCliHelp, EverySubcommandAnswersHelp)
{
	for (const char *sub : { "", "receive", "move", "swap", "show", "list", "model",
				 "model add", "location", "manufacturer", "lot", "stock" }) {
		std::string out;
		std::string cmd = pgtest_cli() + " asset " + sub + " --help";
		EXPECT_EQ(0, pgtest_run(cmd, &out, true)) << cmd << "\n" << out;
		EXPECT_TRUE(has(out, "usage")) << cmd << "\n" << out;
	}
	std::string out;
	EXPECT_EQ(2, pgtest_run(pgtest_cli() + " asset frob", &out, true));
	EXPECT_EQ(2,
		  pgtest_run(pgtest_cli() + " asset receive --lot X", &out, true)); /* no --file */
	EXPECT_TRUE(has(out, "--file")) << out;
	EXPECT_EQ(2, pgtest_run(pgtest_cli() + " asset list --bogus 1", &out, true));
	EXPECT_TRUE(has(out, "--bogus")) << out;
}

TEST_F(AssetCli, ReceiveAgainIsRefused)
{
	std::string out;
	EXPECT_EQ(5, run("asset receive --lot DEMO-2 --file " +
				 pgtest_sq(pgtest_src("samples/delivery-demo.csv")),
			 &out));
	EXPECT_TRUE(has(out, "already imported as lot 'DEMO-1'")) << out;
	ASSERT_EQ(0, run_stdout("--json asset list --lot DEMO-1 --limit 100", &out));
	EXPECT_EQ(24u, (size_t)std::count(out.begin(), out.end(), '{')) << out;
}

TEST_F(AssetCli, BadDeliveryListsEveryRow)
{
	std::string file = pgtest_sq(pgtest_src("tests/data/assets/bad-delivery.csv"));
	std::string out;
	EXPECT_EQ(3, run("asset receive --lot BAD-1 --file " + file, &out));
	for (const char *want :
	     { "line 3, barcode '4130001000000770000022'", "line 4, model_code 'NO-SUCH-MODEL'",
	       "line 5, production_date '2026-13-01'", "line 6, barcode", "4 problems" })
		EXPECT_TRUE(has(out, want)) << want << "\n" << out;
	EXPECT_EQ(3, run_stdout("--json asset receive --lot BAD-1 --file " + file, &out));
	EXPECT_TRUE(has(out, "\"imported\":0")) << out;
	EXPECT_TRUE(has(out, "\"line\":4,\"column\":\"model_code\",\"value\":\"NO-SUCH-MODEL\""))
		<< out;
	EXPECT_EQ(0, run_stdout("asset list --lot BAD-1", &out));
	EXPECT_EQ(1u, (size_t)std::count(out.begin(), out.end(), '\n')) << out; /* header only */
}

TEST_F(AssetCli, LifecycleThroughTheCommand)
{
	std::string out;
	/* barcodes from standard input, with a comment and a header line */
	std::string in = std::string("printf '# lot DEMO-1\\nbarcode\\n%s\\n%s\\n' ") + B1 + " " +
			 B2 + " | ";
	ASSERT_EQ(0,
		  pgtest_run(in + pgtest_cli() + " --db " + pgtest_sq(pgtest_as(g_db, "mlt_tech")) +
				     " asset move sample -",
			     &out, true))
		<< out;
	EXPECT_TRUE(has(out, "sample: moved 2 assets")) << out;
	ASSERT_EQ(0, run_as("mlt_tech", std::string("asset move sample_return ") + B1 + " " + B2,
			    &out))
		<< out;
	/* the attack of issue 8: verify_pass is no move, a validity no argument */
	EXPECT_EQ(9, run_as("mlt_tech", std::string("asset move verify_start ") + B1, &out));
	EXPECT_TRUE(has(out, "not a move")) << out;
	EXPECT_EQ(2,
		  run_as("mlt_tech",
			 std::string("asset move verify_pass ") + B1 + " --valid-until 2199-12-31",
			 &out));
	EXPECT_TRUE(has(out, "--valid-until")) << out;
	EXPECT_EQ(9, run_as("mlt_admin", std::string("asset move verify_pass ") + B1, &out));
	/* a clerk may not draw samples, a technician may not issue */
	EXPECT_EQ(9, run(std::string("asset move sample ") + B1, &out));
	EXPECT_TRUE(has(out, "asset.move.lab")) << out;
	dba_state(std::string("{") + B1 + "," + B2 + "}", "in_stock"); /* as a passing run would */
	/* one refused -> nothing moves, every refusal listed, exit 5 */
	EXPECT_EQ(5, run(std::string("asset move issue ") + B1 + " " + B3 +
				 " 4130001000000999999990 --location TEAM-7",
			 &out));
	EXPECT_TRUE(has(out, std::string("refused (argument 2) ") + B3)) << out;
	EXPECT_TRUE(has(out, "'arrived'")) << out;
	EXPECT_TRUE(has(out, "4130001000000999999990")) << out;
	EXPECT_TRUE(has(out, "2 of 3 moves refused")) << out;
	ASSERT_EQ(0, run_stdout(std::string("--json asset show ") + B1, &out));
	EXPECT_TRUE(has(out, "\"state\":\"in_stock\"")) << out;
	EXPECT_TRUE(
		has(out,
		    "\"model\":{\"model_id\":\"1\",\"code\":\"DDZY285-Z\",\"manufacturer\":\"HX\""))
		<< out;
	EXPECT_EQ(9, run_as("mlt_tech",
			    std::string("asset move issue ") + B1 + " --location TEAM-7", &out));
	ASSERT_EQ(0, run(std::string("asset move issue ") + B1 + " --location TEAM-7", &out))
		<< out;
	/* installing, removing and swapping are the metering point's (meterlab field …, 0205):
	 * the bare forms are refused before the database is opened, naming the field command */
	EXPECT_EQ(3, run_as("mlt_field",
			    std::string("asset move install ") + B1 + " --reason 'account 3301'",
			    &out));
	EXPECT_TRUE(has(out, "meterlab field install BARCODE --point P --reading KWH")) << out;
	EXPECT_EQ(3, run_as("mlt_field", std::string("asset move remove ") + B1, &out));
	EXPECT_TRUE(has(out, "meterlab field remove BARCODE --reading KWH --reason R")) << out;
	EXPECT_EQ(3, run_as("mlt_field", std::string("asset swap ") + B1 + " " + B2, &out));
	EXPECT_TRUE(has(out, "meterlab field swap OLD NEW --old-reading KWH")) << out;
	ASSERT_EQ(0, run_stdout(std::string("asset show ") + B1, &out));
	for (const char *want :
	     { "state        issued", "arrived  by 李库管 (mlt_clerk)", "sample", "issue" })
		EXPECT_TRUE(has(out, want)) << want << "\n" << out;
}

/* A barcode list saved by a spreadsheet as "CSV UTF-8" starts with a BOM and has CRLF lines. */
TEST_F(AssetCli, MoveListWithByteOrderMark)
{
	std::string out;
	std::string in =
		"printf '\\357\\273\\277barcode\\r\\n4130001000000462000100\\r\\n4130001000000462000117\\r\\n' | ";
	ASSERT_EQ(0,
		  pgtest_run(in + pgtest_cli() + " --db " + pgtest_sq(pgtest_as(g_db, "mlt_tech")) +
				     " asset move sample -",
			     &out, true))
		<< out;
	EXPECT_TRUE(has(out, "sample: moved 2 assets")) << out;
	ASSERT_EQ(0, run_stdout("--json asset show 4130001000000462000100", &out));
	EXPECT_TRUE(has(out, "\"state\":\"sampling\"")) << out;
}

TEST_F(AssetCli, ReceiveFromStandardInput)
{
	std::string out;
	std::string cmd =
		"printf 'production_date,barcode,production_batch,model_code\\n2026-10-01,"
		"4130001000000446529641,P9,DDZY285-Z\\n' | " +
		pgtest_cli() + " --db " + pgtest_sq(pgtest_as(g_db, "mlt_clerk")) +
		" --json asset receive --lot STDIN-1 --file - 2>&1";
	ASSERT_EQ(0, pgtest_run(cmd, &out)) << out;
	EXPECT_TRUE(has(out, "\"lot\":\"STDIN-1\"")) << out;
	EXPECT_TRUE(has(out, "\"imported\":1")) << out;
	ASSERT_EQ(0, run_stdout("--json asset show 4130001000000446529641", &out));
	EXPECT_TRUE(has(out, "\"lot\":\"STDIN-1\"")) << out;
	EXPECT_TRUE(has(out, "\"action\":\"receive\"")) << out;
}

TEST_F(AssetCli, NotFoundAndInvalid)
{
	std::string out;
	EXPECT_EQ(4, run("asset show 4130001000000461395474", &out));
	EXPECT_TRUE(has(out, "not registered")) << out;
	EXPECT_EQ(3, run("asset show 4130001000000446529642", &out));
	EXPECT_TRUE(has(out, "check digit")) << out;
	EXPECT_EQ(3, run("asset move fly 4130001000000446529641", &out));
	EXPECT_TRUE(has(out, "'fly'")) << out;
	EXPECT_EQ(
		5,
		run_as("mlt_admin",
		       "asset model add --code DDZY285-Z --manufacturer HX --name x --kind meter_1p "
		       "--connection direct --period 96",
		       &out));
	EXPECT_EQ(9, run("asset model add --code M2 --manufacturer HX --name x --kind meter_1p "
			 "--connection direct --period 96",
			 &out));
	ASSERT_EQ(0, run_stdout("--json asset model list", &out));
	EXPECT_TRUE(has(out, "\"code\":\"DDZY285-Z\"")) << out;
	EXPECT_TRUE(has(out, "\"constant_imp\":\"1200\"")) << out;
	ASSERT_EQ(0, run_stdout("--json asset lot list", &out));
	EXPECT_TRUE(has(out, "\"code\":\"DEMO-1\",\"manufacturer\":\"HX\",\"model\":\"DDZY285-Z\""))
		<< out;
	EXPECT_TRUE(has(out, "\"assets\":\"24\"")) << out;
	ASSERT_EQ(0, run_stdout("--json asset location list", &out));
	EXPECT_TRUE(has(out, "\"code\":\"CENTRAL\"")) << out;
}

TEST_F(AssetCli, StockCountsByStoreModelAndState)
{
	std::string out;
	/* the 24 arrived meters of DEMO-1 are in the central store */
	ASSERT_EQ(0, run_stdout("asset stock --json", &out)) << out;
	EXPECT_TRUE(has(out, "\"location\":\"CENTRAL\"")) << out;
	EXPECT_TRUE(has(out, "\"model\":\"DDZY285-Z\"")) << out;
	ASSERT_EQ(0, run_stdout("asset stock --totals --state arrived", &out)) << out;
	EXPECT_TRUE(has(out, "DDZY285-Z")) << out;
	EXPECT_TRUE(has(out, "arrived")) << out;
	/* the count moves with the assets, in the same transaction */
	auto sampling = [](const std::string &json) {
		const std::string key = "\"state\":\"sampling\",\"assets\":\"";
		size_t p = json.find(key);
		return p == std::string::npos ? 0 : atoi(json.c_str() + p + key.size());
	};
	const char *b20 =
		"4130001000000462000209"; /* row 20 of the delivery, untouched elsewhere */
	std::string before;
	ASSERT_EQ(0, run_stdout("asset stock --totals --state sampling --json", &before)) << before;
	ASSERT_EQ(0, run_as("mlt_tech", std::string("asset move sample ") + b20, &out)) << out;
	ASSERT_EQ(0, run_stdout("asset stock --totals --state sampling --json", &out)) << out;
	EXPECT_EQ(sampling(before) + 1, sampling(out)) << before << "\n" << out;
	ASSERT_EQ(0, run_as("mlt_tech", std::string("asset move sample_return ") + b20, &out))
		<< out;
	ASSERT_EQ(0, run_stdout("asset stock --totals --state sampling --json", &out)) << out;
	EXPECT_EQ(sampling(before), sampling(out)) << out;
	/* a field team is no store: only with --all-places or by name */
	ASSERT_EQ(0, run_stdout("asset stock --all-places --location TEAM-7", &out)) << out;
	EXPECT_EQ(2, run("asset stock --totals --all-places", &out));
	EXPECT_TRUE(has(out, "exclude")) << out;
	EXPECT_EQ(3, run("asset stock --state misplaced", &out));
	EXPECT_TRUE(has(out, "misplaced")) << out;
	EXPECT_EQ(3, run("asset stock --totals --location CENTRAL", &out));
}
