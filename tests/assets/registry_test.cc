/*
 * Asset registry against the real PostgreSQL (pgtest_fresh_db): delivery
 * import, re-import refusal, all-or-nothing moves, the compare-and-set race,
 * moves inside a caller's transaction, verification expiry, and the
 * append-only history as the application role.
 *
 * Writes go through the database functions as a person (issue 8): the
 * library tests connect as "mlt_stores", a test person holding every role
 * that moves assets (clerk, field member, technician, analyst, admin);
 * permission-by-role is tested in attack_test.cc. Fixture states a move can
 * no longer produce (in_stock needs a run) are set by the DBA (superuser).
 *
 * One database per suite; every test uses its own barcode serial range and
 * lot codes, so tests do not depend on each other or on their order.
 */
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "assets/lifecycle.h"
#include "assets/registry.h"

namespace
{

std::string g_ci;

std::string bc(unsigned long long serial)
{
	char out[23];
	struct ml_error err = ML_ERROR_INIT;
	if (barcode_make("41300", "01", serial, out, &err))
		ADD_FAILURE() << err.msg;
	return out;
}

long long count(struct db *db, const std::string &sql, std::vector<std::string> params = {})
{
	std::vector<const char *> p;
	for (auto &s : params)
		p.push_back(s.c_str());
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	if (db_query_one(db, sql.c_str(), (int)p.size(), p.data(), &res, &err)) {
		ADD_FAILURE() << sql << ": " << err.msg;
		return -1;
	}
	long long v = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

std::string one(struct db *db, const std::string &sql, std::vector<std::string> params = {})
{
	std::vector<const char *> p;
	for (auto &s : params)
		p.push_back(s.c_str());
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	if (db_query_one(db, sql.c_str(), (int)p.size(), p.data(), &res, &err)) {
		ADD_FAILURE() << sql << ": " << err.msg;
		return "";
	}
	std::string v = PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0);
	PQclear(res);
	return v;
}

std::string csv(unsigned long long first, int n, const char *model = "M1")
{
	std::string s = "barcode,model_code,production_batch,production_date\n";
	for (int i = 0; i < n; i++)
		s += bc(first + i) + "," + model + ",B1,2026-09-14\n";
	return s;
}

int receive(struct db *db, const std::string &lot, const std::string &data,
	    struct asset_import_report *rep, struct ml_error *err)
{
	struct asset_receive_opts o = {};
	o.lot_code = lot.c_str();
	return asset_receive(db, &o, data.data(), data.size(), rep, err);
}

/* Receive n fresh assets from serial `first` (state arrived). */
void arrive(struct db *db, const std::string &lot, unsigned long long first, int n)
{
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, receive(db, lot, csv(first, n), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
}

std::string state_of(struct db *db, const std::string &barcode)
{
	return one(db, "SELECT state FROM asset WHERE barcode = $1", { barcode });
}

int move(struct db *db, const std::string &barcode, enum asset_action a, struct ml_error *err,
	 const char *location = nullptr)
{
	struct asset_move m = {};
	m.barcode = barcode.c_str();
	m.action = a;
	m.location = location;
	return asset_move_one(db, &m, err);
}

/* The DBA puts an asset in a state only a run can produce (fixture, not a move). */
void dba_state(const std::string &barcode, const char *state, const char *valid_until = nullptr)
{
	struct db *dba = pgtest_connect(g_ci);
	const char *p[3] = { barcode.c_str(), state, valid_until };
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK,
		  db_cmd(dba,
			 "UPDATE asset SET state = $2, valid_until = coalesce($3::date, "
			 "(current_date + interval '96 months')::date - 1) WHERE barcode = $1",
			 3, p, &err))
		<< err.msg;
	db_close(dba);
}

std::string g_person; /* conninfo of mlt_stores */

class Registry : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("assets");
		g_person = pgtest_user(
			g_ci, "mlt_stores", "仓储测试员",
			"warehouse_clerk,field_member,lab_technician,quality_analyst,admin");
		struct db *db = pgtest_connect(g_person);
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, asset_manufacturer_add(db, "HX", "浙江华仪", &err)) << err.msg;
		struct asset_model m = {};
		m.code = "M1";
		m.manufacturer_code = "HX";
		m.name = "single-phase class 1";
		m.kind = "meter_1p";
		m.accuracy_class = "1";
		m.connection = "direct";
		m.wiring = "1p2w";
		m.un_v = "220";
		m.ib_a = "5";
		m.imax_a = "60";
		m.constant_imp = "1200";
		m.verification_period_months = "96";
		ASSERT_EQ(ML_OK, asset_model_add(db, &m, &err)) << err.msg;
		ASSERT_EQ(ML_OK, asset_location_add(db, "CITY1", "city store", "secondary_store",
						    "CENTRAL", &err))
			<< err.msg;
		ASSERT_EQ(ML_OK, asset_location_add(db, "TEAM1", "field team", "field_team",
						    nullptr, &err))
			<< err.msg;
		db_close(db);
	}
	void SetUp() override
	{
		db = pgtest_connect(g_person);
		dba = pgtest_connect(g_ci);
	}
	void TearDown() override
	{
		db_close(db);
		db_close(dba);
	}
	struct db *db = nullptr;
	struct db *dba = nullptr; /* superuser: fixtures and checks of what binds even the owner */
};

} // namespace

TEST_F(Registry, CatalogueRefusesBadInput)
{
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EEXISTS, asset_manufacturer_add(db, "HX", "again", &err));
	struct asset_model m = {};
	m.code = "BAD1";
	m.manufacturer_code = "HX";
	m.name = "x";
	m.kind = "meter_1p";
	m.connection = "direct";
	m.un_v = "2e2";
	m.verification_period_months = "96";
	EXPECT_EQ(ML_EINVAL, asset_model_add(db, &m, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "un_v '2e2'")) << err.msg;
	m.un_v = "220";
	m.manufacturer_code = "NOPE";
	EXPECT_EQ(ML_ENOTFOUND, asset_model_add(db, &m, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "NOPE")) << err.msg;
	m.manufacturer_code = "HX";
	m.kind = "ct";
	EXPECT_EQ(ML_EINVAL, asset_model_add(db, &m, &err)); /* a CT has no meter connection */
	EXPECT_EQ(0, count(db, "SELECT count(*) FROM device_model WHERE code = 'BAD1'"));
	/* a measuring CT: ratings, no meter connection */
	struct asset_model ct = {};
	ct.code = "LZZBJ9-10";
	ct.manufacturer_code = "HX";
	ct.name = "10 kV CT 600/5";
	ct.kind = "ct";
	ct.accuracy_class = "0.2S";
	ct.ct_primary_a = "600";
	ct.ct_secondary_a = "5";
	ct.rated_burden_va = "10";
	ct.verification_period_months = "120";
	ASSERT_EQ(ML_OK, asset_model_add(db, &ct, &err)) << err.msg;
	EXPECT_EQ(
		"600/5 0.2S 10",
		one(db,
		    "SELECT ct_primary_a || '/' || ct_secondary_a || ' ' || accuracy_class || ' ' || "
		    "rated_burden_va FROM device_model WHERE code = 'LZZBJ9-10'"));
}

TEST_F(Registry, ImportGoodDelivery)
{
	std::string data = csv(1000, 50);
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, receive(db, "GOOD-1", data, &rep, &err)) << err.msg;
	EXPECT_EQ(50u, rep.rows);
	EXPECT_EQ(0u, rep.nissues);
	EXPECT_EQ(64u, strlen(rep.sha256));
	asset_import_report_free(&rep);
	EXPECT_EQ(
		50,
		count(db,
		      "SELECT count(*) FROM asset a JOIN lot l USING (lot_id) WHERE l.code = 'GOOD-1' "
		      "AND a.state = 'arrived' AND a.location_id = (SELECT location_id FROM location "
		      "WHERE code = 'CENTRAL')"));
	EXPECT_EQ(
		50,
		count(db,
		      "SELECT count(*) FROM asset_event e JOIN asset a USING (asset_id) JOIN lot l "
		      "USING (lot_id) WHERE l.code = 'GOOD-1' AND e.action = 'receive' AND e.to_state = 'arrived'"));
	EXPECT_EQ(
		"M1",
		one(db,
		    "SELECT m.code FROM lot l JOIN device_model m USING (model_id) WHERE l.code = 'GOOD-1'"));
	struct asset_info info;
	ASSERT_EQ(ML_OK, asset_lookup(db, bc(1010).c_str(), &info, &err)) << err.msg;
	EXPECT_EQ(ASSET_ARRIVED, info.state);
	EXPECT_STREQ("GOOD-1", info.lot_code);
	EXPECT_STREQ("M1", info.model_code);
	EXPECT_STREQ("CENTRAL", info.location);
	EXPECT_STREQ("", info.valid_until);
	EXPECT_EQ(ML_ENOTFOUND, asset_lookup(db, bc(1999999).c_str(), &info, &err));
}

TEST_F(Registry, ImportReportsEveryBadRowAndWritesNothing)
{
	arrive(db, "PRE-2", 2000, 1); /* bc(2000) is already registered */
	std::string bad = bc(2101);
	bad[21] = bad[21] == '9' ? '0' : (char)(bad[21] + 1);
	std::string data = "barcode,model_code,production_batch,production_date\n" /* line 1 */
			   + bc(2100) + ",M1,B1,2026-09-14\n"                      /* 2 ok */
			   + bad + ",M1,B1,2026-09-14\n"                 /* 3 check digit */
			   + "41300010000000021O2X19,M1,B1,2026-09-14\n" /* 4 non-digit */
			   + bc(2104) + ",NOPE,B1,2026-09-14\n"          /* 5 unknown model */
			   + bc(2105) + ",M1,B1,2026-02-30\n"            /* 6 bad date */
			   + bc(2106) + ",M1,B1,2026-09-14\n"            /* 7 ok */
			   + bc(2100) + ",M1,B1,2026-09-14\n"            /* 8 duplicate of line 2 */
			   + bc(2000) + ",M1,B1,2026-09-14\n"            /* 9 already registered */
			   + bc(2109) + ",M1,B1\n"                       /* 10 missing field */
			   + "\n"                                        /* 11 blank: skipped */
			   + bc(2111) + ",M1,,2026-09-14\n";             /* 12 empty batch */
	long long before = count(db, "SELECT count(*) FROM asset");
	long long ev_before = count(db, "SELECT count(*) FROM asset_event");
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_EINVAL, receive(db, "BAD-2", data, &rep, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "nothing imported")) << err.msg;
	struct expect {
		long line;
		const char *column;
		const char *reason_part;
	} want[] = {
		{ 3, "barcode", "check digit" },
		{ 4, "barcode", "non-digit" },
		{ 5, "model_code", "unknown model" },
		{ 6, "production_date", "calendar date" },
		{ 8, "barcode", "line 2" },
		{ 9, "barcode", "already registered" },
		{ 10, "", "fields" },
		{ 12, "production_batch", "empty" },
	};
	ASSERT_EQ(sizeof(want) / sizeof(want[0]), rep.nissues);
	for (size_t i = 0; i < rep.nissues; i++) {
		EXPECT_EQ(want[i].line, rep.issues[i].line) << i;
		EXPECT_STREQ(want[i].column, rep.issues[i].column) << i;
		EXPECT_NE(nullptr, strstr(rep.issues[i].reason, want[i].reason_part))
			<< rep.issues[i].reason;
	}
	EXPECT_STREQ(bad.c_str(), rep.issues[0].value);
	EXPECT_STREQ("NOPE", rep.issues[2].value);
	EXPECT_STREQ("2026-02-30", rep.issues[3].value);
	asset_import_report_free(&rep);
	EXPECT_EQ(before, count(db, "SELECT count(*) FROM asset"));
	EXPECT_EQ(ev_before, count(db, "SELECT count(*) FROM asset_event"));
	EXPECT_EQ(0, count(db, "SELECT count(*) FROM lot WHERE code = 'BAD-2'"));
}

/*
 * A file whose every row is well formed goes straight to the INSERT (0174);
 * a barcode already registered or repeated in the file is then refused by the
 * barcode index, and the full check must still name each one with its line,
 * write nothing (lot, assets, events, counts) and leave the staging table empty.
 */
TEST_F(Registry, ImportOfACleanFileStillNamesRegisteredAndRepeatedBarcodes)
{
	arrive(db, "PRE-16", 16000, 2); /* bc(16000), bc(16001) registered */
	std::string data = "barcode,model_code,production_batch,production_date\n" /* line 1 */
			   + bc(16100) + ",M1,B1,2026-09-14\n"                     /* 2 ok */
			   + bc(16001) + ",M1,B1,2026-09-14\n"  /* 3 already registered */
			   + bc(16102) + ",M1,B1,2026-09-14\n"  /* 4 ok */
			   + bc(16100) + ",M1,B1,2026-09-14\n"  /* 5 duplicate of line 2 */
			   + bc(16000) + ",M1,B1,2026-09-14\n"; /* 6 already registered */
	long long before = count(db, "SELECT count(*) FROM asset");
	long long ev_before = count(db, "SELECT count(*) FROM asset_event");
	long long n_before = count(db, "SELECT coalesce(sum(n), 0) FROM asset_count_model");
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_EINVAL, receive(db, "CLEAN-DUP", data, &rep, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "nothing imported")) << err.msg;
	ASSERT_EQ(3u, rep.nissues);
	EXPECT_EQ(3, rep.issues[0].line);
	EXPECT_NE(nullptr, strstr(rep.issues[0].reason, "already registered (lot PRE-16"))
		<< rep.issues[0].reason;
	EXPECT_EQ(5, rep.issues[1].line);
	EXPECT_NE(nullptr,
		  strstr(rep.issues[1].reason, "duplicate within the file (first on line 2)"))
		<< rep.issues[1].reason;
	EXPECT_EQ(6, rep.issues[2].line);
	EXPECT_STREQ(bc(16000).c_str(), rep.issues[2].value);
	asset_import_report_free(&rep);
	EXPECT_EQ(before, count(db, "SELECT count(*) FROM asset"));
	EXPECT_EQ(ev_before, count(db, "SELECT count(*) FROM asset_event"));
	EXPECT_EQ(n_before, count(db, "SELECT coalesce(sum(n), 0) FROM asset_count_model"));
	EXPECT_EQ(0, count(db, "SELECT count(*) FROM lot WHERE code = 'CLEAN-DUP'"));
	EXPECT_EQ(0, count(dba, "SELECT count(*) FROM asset_receive_stage"));
	/* the same file without the bad lines goes in */
	std::string good = "barcode,model_code,production_batch,production_date\n" + bc(16100) +
			   ",M1,B1,2026-09-14\n" + bc(16102) + ",M1,B1,2026-09-14\n";
	ASSERT_EQ(ML_OK, receive(db, "CLEAN-OK", good, &rep, &err)) << err.msg;
	EXPECT_EQ(2u, rep.rows);
	asset_import_report_free(&rep);
	EXPECT_EQ(n_before + 2, count(db, "SELECT coalesce(sum(n), 0) FROM asset_count_model"));
}

TEST_F(Registry, HeaderProblemsAndEmptyFiles)
{
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_EINVAL,
		  receive(db, "HDR-1", "barcode,model_code,colour\n" + bc(2500) + ",M1,red\n", &rep,
			  &err));
	ASSERT_GE(rep.nissues, 3u); /* unknown column + two missing ones */
	EXPECT_EQ(1, rep.issues[0].line);
	asset_import_report_free(&rep);
	ASSERT_EQ(ML_EINVAL, receive(db, "HDR-2", "", &rep, &err));
	asset_import_report_free(&rep);
	ASSERT_EQ(ML_EINVAL,
		  receive(db, "HDR-3", "barcode,model_code,production_batch,production_date\n",
			  &rep, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "no rows")) << err.msg;
	asset_import_report_free(&rep);
	/* quoted fields, CRLF, BOM, optional column in another order */
	std::string ok =
		"\xEF\xBB\xBFmodel_code,barcode,production_date,production_batch,box_code\r\n\"M1\",\"" +
		bc(2501) + "\",2026-09-14,\"B \"\"7\"\"\",BOX1\r\n";
	ASSERT_EQ(ML_OK, receive(db, "HDR-4", ok, &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	EXPECT_EQ("B \"7\"|BOX1",
		  one(db,
		      "SELECT production_batch || '|' || box_code FROM asset WHERE barcode = $1",
		      { bc(2501) }));
}

/*
 * A spreadsheet saved in GBK (the default "CSV" of a Chinese-locale Excel) or
 * a field with a stray carriage return used to reach COPY and fail as one
 * database error with no line; they are row problems like any other.
 */
TEST_F(Registry, BadEncodingAndControlCharactersAreRowProblems)
{
	std::string data =
		"barcode,model_code,production_batch,production_date,box_code\n" /* line 1 */
		+ bc(2600) + ",M1,\xC5\xFA\xB4\xCE,2026-09-14,\n"                /* 2 GBK 批次 */
		+ bc(2601) + ",M1,\"B\rX\",2026-09-14,\n"                        /* 3 CR inside */
		+ bc(2602) + ",M1,批次7,2026-09-14,BOX\x01\n" /* 4 control char */
		+ bc(2603) + ",M\xFF,B1,2026-09-14,\n"        /* 5 bad model bytes */
		+ bc(2604) + ",M1,批次8,2026-09-14,\n";       /* 6 ok (UTF-8) */
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_EINVAL, receive(db, "ENC-1", data, &rep, &err)) << err.msg;
	struct expect {
		long line;
		const char *column;
		const char *reason_part;
		const char *value;
	} want[] = {
		{ 2, "production_batch", "UTF-8", "\\xC5\\xFA\\xB4\\xCE" },
		{ 3, "production_batch", "control character", "B\\x0DX" },
		{ 4, "box_code", "control character", "BOX\\x01" },
		{ 5, "model_code", "UTF-8", "M\\xFF" },
	};
	ASSERT_EQ(sizeof(want) / sizeof(want[0]), rep.nissues) << err.msg;
	for (size_t i = 0; i < rep.nissues; i++) {
		EXPECT_EQ(want[i].line, rep.issues[i].line) << i;
		EXPECT_STREQ(want[i].column, rep.issues[i].column) << i;
		EXPECT_NE(nullptr, strstr(rep.issues[i].reason, want[i].reason_part))
			<< rep.issues[i].reason;
		EXPECT_STREQ(want[i].value, rep.issues[i].value) << i;
	}
	asset_import_report_free(&rep);
	EXPECT_EQ(0, count(db, "SELECT count(*) FROM lot WHERE code = 'ENC-1'"));
}

/* production_batch/box_code: 1–64 characters as the schema counts them, not bytes (批 is 3 bytes). */
TEST_F(Registry, FieldLengthsCountCharactersNotBytes)
{
	std::string b30, b65;
	for (int i = 0; i < 30; i++)
		b30 += "批";
	for (int i = 0; i < 65; i++)
		b65 += "批";
	std::string hdr = "barcode,model_code,production_batch,production_date\n";
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK,
		  receive(db, "LEN-1", hdr + bc(2700) + ",M1," + b30 + ",2026-09-14\n", &rep, &err))
		<< err.msg;
	asset_import_report_free(&rep);
	EXPECT_EQ("30", one(db, "SELECT length(production_batch) FROM asset WHERE barcode = $1",
			    { bc(2700) }));
	ASSERT_EQ(ML_EINVAL, receive(db, "LEN-2", hdr + bc(2701) + ",M1," + b65 + ",2026-09-14\n",
				     &rep, &err));
	ASSERT_EQ(1u, rep.nissues);
	EXPECT_STREQ("production_batch", rep.issues[0].column);
	EXPECT_NE(nullptr, strstr(rep.issues[0].reason, "longer than 64")) << rep.issues[0].reason;
	/* the value is shown truncated on a character boundary: 26 whole 批, no torn byte sequence */
	EXPECT_EQ(std::string(b65, 0, 78), rep.issues[0].value);
	asset_import_report_free(&rep);
}

/* A delivery arrives in a store (到货接收): not at a field team, and not at a store that does not exist. */
TEST_F(Registry, DeliveryArrivesInAStore)
{
	struct asset_receive_opts o = {};
	o.lot_code = "LOC-1";
	o.location = "TEAM1";
	std::string data = csv(2800, 2);
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, asset_receive(db, &o, data.data(), data.size(), &rep, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'TEAM1' is a field_team")) << err.msg;
	asset_import_report_free(&rep);
	o.location = "NOWHERE";
	EXPECT_EQ(ML_ENOTFOUND, asset_receive(db, &o, data.data(), data.size(), &rep, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "NOWHERE")) << err.msg;
	asset_import_report_free(&rep);
	EXPECT_EQ(0, count(db, "SELECT count(*) FROM lot WHERE code = 'LOC-1'"));
	o.location = "CITY1";
	ASSERT_EQ(ML_OK, asset_receive(db, &o, data.data(), data.size(), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	EXPECT_EQ(
		2,
		count(db,
		      "SELECT count(*) FROM asset a JOIN location l USING (location_id) WHERE l.code = 'CITY1' "
		      "AND a.lot_id = (SELECT lot_id FROM lot WHERE code = 'LOC-1')"));
}

TEST_F(Registry, ReimportIsRefusedWithoutDuplicates)
{
	std::string data = csv(3000, 20);
	arrive(db, "ONCE-3", 3000, 20);
	long long before = count(db, "SELECT count(*) FROM asset");
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	/* same file, new lot code */
	ASSERT_EQ(ML_EEXISTS, receive(db, "ONCE-3b", data, &rep, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "ONCE-3")) << err.msg;
	asset_import_report_free(&rep);
	/* same lot code, another file */
	ASSERT_EQ(ML_EEXISTS, receive(db, "ONCE-3", csv(3100, 2), &rep, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "lot 'ONCE-3' already exists")) << err.msg;
	asset_import_report_free(&rep);
	EXPECT_EQ(before, count(db, "SELECT count(*) FROM asset"));
	EXPECT_EQ(0, count(db, "SELECT count(*) FROM lot WHERE code = 'ONCE-3b'"));
}

TEST_F(Registry, BulkMoveIsAllOrNothingAndReportsEveryRefusal)
{
	arrive(db, "BULK-4", 4000, 5);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, move(db, bc(4002), ASSET_ACT_SAMPLE, &err)) << err.msg;
	long long ev_before = count(db, "SELECT count(*) FROM asset_event");
	std::vector<std::string> b = { bc(4000), bc(4001), bc(4002), bc(4003),
				       bc(4999), bc(4004), bc(4001) };
	std::vector<struct asset_move> mv(b.size());
	for (size_t i = 0; i < b.size(); i++) {
		mv[i].barcode = b[i].c_str();
		mv[i].action = ASSET_ACT_SAMPLE;
	}
	struct asset_move_report rep;
	int rc = asset_move_batch(db, mv.data(), mv.size(), &rep, &err);
	EXPECT_NE(ML_OK, rc);
	EXPECT_NE(nullptr, strstr(err.msg, "3 of 7 moves refused")) << err.msg;
	ASSERT_EQ(3u, rep.nrefused);
	EXPECT_EQ(0u, rep.moved);
	EXPECT_EQ(2u, rep.refused[0].index); /* already sampling */
	EXPECT_EQ(ML_ESTATE, rep.refused[0].code);
	EXPECT_NE(nullptr, strstr(rep.refused[0].msg, "'sampling'")) << rep.refused[0].msg;
	EXPECT_EQ(4u, rep.refused[1].index); /* not registered */
	EXPECT_EQ(ML_ENOTFOUND, rep.refused[1].code);
	EXPECT_EQ(6u, rep.refused[2].index); /* twice in the batch */
	EXPECT_NE(nullptr, strstr(rep.refused[2].msg, "more than once")) << rep.refused[2].msg;
	asset_move_report_free(&rep);
	EXPECT_EQ("arrived", state_of(db, bc(4000)));
	EXPECT_EQ("arrived", state_of(db, bc(4004)));
	EXPECT_EQ(ev_before, count(db, "SELECT count(*) FROM asset_event"));
	/* the good ones alone go through, with one event each */
	mv.resize(2);
	ASSERT_EQ(ML_OK, asset_move_batch(db, mv.data(), mv.size(), &rep, &err)) << err.msg;
	EXPECT_EQ(2u, rep.moved);
	asset_move_report_free(&rep);
	EXPECT_EQ(ev_before + 2, count(db, "SELECT count(*) FROM asset_event"));
	EXPECT_EQ("sampling", state_of(db, bc(4001)));
}

TEST_F(Registry, TwoClerksRaceExactlyOneWins)
{
	arrive(db, "RACE-5", 5000, 1);
	std::string b = bc(5000);
	struct db *other = pgtest_connect(g_person);
	struct ml_error err = ML_ERROR_INIT;
	/* Clerk A moves the asset inside an open transaction and holds the row lock. */
	ASSERT_EQ(ML_OK, db_begin(db, &err)) << err.msg;
	ASSERT_EQ(ML_OK, move(db, b, ASSET_ACT_SAMPLE, &err)) << err.msg;
	std::string a_pid = one(db, "SELECT pg_backend_pid()");
	/* Clerk B tries the same move: its pre-check still sees 'arrived', its update blocks. */
	std::atomic<int> b_rc{ -1 };
	struct ml_error b_err = ML_ERROR_INIT;
	std::thread t([&] { b_rc = move(other, b, ASSET_ACT_SAMPLE, &b_err); });
	struct db *watch = pgtest_connect(g_ci);
	bool blocked = false;
	/* Wait until B is waiting on A's lock (not a timing assertion). The bound
	 * is generous because the loop ends as soon as B blocks: 5 s was within
	 * reach of a thread start + connect under ASan on a loaded 2-core CI box. */
	for (int i = 0; i < 3000 && !blocked; i++) {
		blocked =
			count(watch,
			      "SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))",
			      { a_pid }) > 0;
		if (!blocked)
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	EXPECT_TRUE(blocked);
	ASSERT_EQ(ML_OK, db_commit(db, &err)) << err.msg;
	t.join();
	EXPECT_EQ(ML_ECONFLICT, b_rc.load());
	EXPECT_NE(nullptr, strstr(b_err.msg, b.c_str())) << b_err.msg;
	EXPECT_NE(nullptr, strstr(b_err.msg, "changed by someone else")) << b_err.msg;
	EXPECT_EQ("sampling", state_of(db, b));
	EXPECT_EQ(
		1,
		count(db,
		      "SELECT count(*) FROM asset_event e JOIN asset a USING (asset_id) WHERE a.barcode = $1 "
		      "AND e.action = 'sample'",
		      { b }));
	/* B, retrying, now gets a clear state refusal */
	EXPECT_EQ(ML_ESTATE, move(other, b, ASSET_ACT_SAMPLE, &b_err));
	EXPECT_NE(nullptr, strstr(b_err.msg, "'sampling'")) << b_err.msg;
	db_close(watch);
	db_close(other);
}

TEST_F(Registry, MovesJoinTheCallersTransaction)
{
	arrive(db, "TX-6", 6000, 2);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_begin(db, &err));
	ASSERT_EQ(ML_OK, move(db, bc(6000), ASSET_ACT_SAMPLE, &err)) << err.msg;
	EXPECT_EQ(PQTRANS_INTRANS, PQtransactionStatus(db_conn(db))); /* no COMMIT of its own */
	/* a refused batch inside the caller's transaction leaves the earlier work intact */
	EXPECT_EQ(ML_ESTATE, move(db, bc(6001), ASSET_ACT_DISPATCH, &err));
	EXPECT_EQ(PQTRANS_INTRANS, PQtransactionStatus(db_conn(db)));
	/* invalid details JSON fails in SQL: rolled back to the savepoint, the transaction stays usable */
	struct asset_move m = {};
	std::string b1 = bc(6001);
	m.barcode = b1.c_str();
	m.action = ASSET_ACT_REUSE;
	m.details_json = "{not json";
	EXPECT_EQ(ML_EINVAL, asset_move_one(db, &m, &err));
	EXPECT_EQ(PQTRANS_INTRANS, PQtransactionStatus(db_conn(db)));
	struct db *other = pgtest_connect(g_ci);
	EXPECT_EQ("arrived", state_of(other, bc(6000))); /* not visible before the caller commits */
	db_rollback(db);
	EXPECT_EQ("arrived", state_of(other, bc(6000))); /* the caller decides */
	ASSERT_EQ(ML_OK, db_begin(db, &err));
	ASSERT_EQ(ML_OK, move(db, bc(6000), ASSET_ACT_SAMPLE, &err)) << err.msg;
	ASSERT_EQ(ML_OK, db_commit(db, &err));
	EXPECT_EQ("sampling", state_of(other, bc(6000)));
	db_close(other);
}

/*
 * verify_start/pass/fail/abort are not moves (issue 8): they come only from
 * runs, and a validity is never an argument. Issue refuses an expired asset.
 */
TEST_F(Registry, VerificationComesOnlyFromRunsAndExpiryBlocksIssue)
{
	arrive(db, "VP-7", 7000, 3);
	struct ml_error err = ML_ERROR_INIT;
	for (auto a : { ASSET_ACT_VERIFY_START, ASSET_ACT_VERIFY_PASS, ASSET_ACT_VERIFY_FAIL,
			ASSET_ACT_VERIFY_ABORT }) {
		EXPECT_EQ(ML_EPERM, move(db, bc(7000), a, &err)) << asset_action_name(a);
		EXPECT_NE(nullptr, strstr(err.msg, "not a move")) << err.msg;
	}
	dba_state(bc(7000), "verifying");
	EXPECT_EQ(ML_EPERM, move(db, bc(7000), ASSET_ACT_VERIFY_PASS, &err));
	EXPECT_EQ("verifying", state_of(db, bc(7000)));
	std::string b1 = bc(7001);
	/* in stock but expired (set by the DBA): not issued */
	dba_state(b1, "in_stock", "2020-01-31");
	EXPECT_EQ(ML_ESTATE, move(db, b1, ASSET_ACT_ISSUE, &err, "TEAM1"));
	EXPECT_NE(nullptr, strstr(err.msg, "expired on 2020-01-31")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, b1.c_str())) << err.msg;
	EXPECT_EQ("in_stock", state_of(db, b1));
	dba_state(bc(7002), "in_stock");
	ASSERT_EQ(ML_OK, move(db, bc(7002), ASSET_ACT_ISSUE, &err, "TEAM1")) << err.msg;
	/* return to a secondary store -> secondary_stock */
	ASSERT_EQ(ML_OK, move(db, bc(7002), ASSET_ACT_RETURN_UNUSED, &err, "CITY1")) << err.msg;
	EXPECT_EQ("secondary_stock", state_of(db, bc(7002)));
	EXPECT_EQ(ML_ENOTFOUND, move(db, bc(7002), ASSET_ACT_ISSUE, &err, "NOWHERE"));
	EXPECT_NE(nullptr, strstr(err.msg, "NOWHERE")) << err.msg;
	/* the event records the person, by id */
	EXPECT_EQ(
		"mlt_stores|仓储测试员",
		one(db,
		    "SELECT e.actor || '|' || u.display_name FROM asset_event e JOIN asset a USING "
		    "(asset_id) JOIN app_user u ON u.user_id = e.actor_id WHERE a.barcode = $1 AND "
		    "e.action = 'return_unused'",
		    { bc(7002) }));
}

/* Stock states name a kind of place: secondary_stock is in a secondary store, in_stock in a store. */
TEST_F(Registry, StockMovesGoToAStoreOfTheRightKind)
{
	arrive(db, "ST-14", 14000, 1);
	std::string b = bc(14000);
	struct ml_error err = ML_ERROR_INIT;
	dba_state(b, "in_stock");
	ASSERT_EQ(ML_OK, move(db, b, ASSET_ACT_DISPATCH, &err)) << err.msg;
	/* dispatched without a destination: still at CENTRAL, which is not a secondary store */
	EXPECT_EQ(ML_EINVAL, move(db, b, ASSET_ACT_RECEIVE_SECONDARY, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'CENTRAL'")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, b.c_str())) << err.msg;
	EXPECT_EQ(ML_EINVAL, move(db, b, ASSET_ACT_RECEIVE_SECONDARY, &err, "TEAM1"));
	EXPECT_NE(nullptr, strstr(err.msg, "'TEAM1' is a field_team")) << err.msg;
	EXPECT_EQ("in_transit", state_of(db, b));
	ASSERT_EQ(ML_OK, move(db, b, ASSET_ACT_RECEIVE_SECONDARY, &err, "CITY1")) << err.msg;
	ASSERT_EQ(ML_OK, move(db, b, ASSET_ACT_ISSUE, &err, "TEAM1")) << err.msg;
	/* an unused meter goes back to a store, not "in stock" at the field team */
	EXPECT_EQ(ML_EINVAL, move(db, b, ASSET_ACT_RETURN_UNUSED, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'TEAM1' is a field_team")) << err.msg;
	EXPECT_EQ("issued", state_of(db, b));
	ASSERT_EQ(ML_OK, move(db, b, ASSET_ACT_RETURN_UNUSED, &err, "CENTRAL")) << err.msg;
	EXPECT_EQ("in_stock|CENTRAL",
		  one(db,
		      "SELECT a.state || '|' || l.code FROM asset a JOIN location l "
		      "USING (location_id) WHERE a.barcode = $1",
		      { b }));
}

/* Installing and removing are the metering-point flow's (field/, 0205): the
 * library refuses the bare actions, naming the field command, before the
 * database; tests/field shows the database refusing them for every writer. */
TEST_F(Registry, InstallAndRemoveAreNoBareMoves)
{
	arrive(db, "SW-8", 8000, 2);
	struct ml_error err = ML_ERROR_INIT;
	std::string oldb = bc(8000), newb = bc(8001);
	dba_state(oldb, "in_stock");
	ASSERT_EQ(ML_OK, move(db, oldb, ASSET_ACT_ISSUE, &err, "TEAM1")) << err.msg;
	EXPECT_EQ(ML_EINVAL, move(db, oldb, ASSET_ACT_INSTALL, &err, "TEAM1"));
	EXPECT_NE(nullptr, strstr(err.msg, "meterlab field install")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, oldb.c_str())) << err.msg;
	EXPECT_EQ(ML_EINVAL, move(db, newb, ASSET_ACT_REMOVE, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "meterlab field remove")) << err.msg;
	EXPECT_EQ("issued", state_of(db, oldb));
	/* the database refuses the bare install too, whoever calls ml_asset_move */
	PGresult *res = nullptr;
	const char *p[1] = { oldb.c_str() };
	EXPECT_EQ(ML_ESTATE, db_exec(db,
				     "SELECT * FROM ml_asset_move(ARRAY[$1], ARRAY['install'], "
				     "ARRAY['TEAM1'])",
				     1, p, PGRES_TUPLES_OK, &res, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "meterlab field install")) << err.msg;
	PQclear(res);
	EXPECT_EQ("issued", state_of(db, oldb));
}

TEST_F(Registry, PeopleWorkButCannotRewriteHistory)
{
	/* a clerk receives, a technician draws a sample: the normal workflow */
	struct db *clerk = pgtest_connect(pgtest_as(g_ci, "mlt_clerk"));
	struct db *tech = pgtest_connect(pgtest_as(g_ci, "mlt_tech"));
	arrive(clerk, "APP-9", 9000, 2);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, move(tech, bc(9000), ASSET_ACT_SAMPLE, &err)) << err.msg;
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK,
		  asset_history(tech,
				atoll(one(tech, "SELECT asset_id FROM asset WHERE barcode = $1",
					  { bc(9000) })
					      .c_str()),
				&res, &err));
	ASSERT_EQ(2, PQntuples(res));
	EXPECT_STREQ("李库管 (mlt_clerk)", db_get(res, 0, "actor"));
	EXPECT_STREQ("王检定 (mlt_tech)", db_get(res, 1, "actor"));
	PQclear(res);
	long long n = count(db, "SELECT count(*) FROM asset_event");
	/* but never UPDATE, DELETE or TRUNCATE history */
	for (struct db *app : { clerk, tech }) {
		EXPECT_NE(ML_OK,
			  db_cmd(app, "UPDATE asset_event SET actor = 'forged'", 0, nullptr, &err));
		EXPECT_NE(nullptr, strstr(err.msg, "42501")) << err.msg;
		EXPECT_NE(ML_OK, db_cmd(app, "DELETE FROM asset_event", 0, nullptr, &err));
		EXPECT_NE(nullptr, strstr(err.msg, "42501")) << err.msg;
		EXPECT_NE(ML_OK, db_cmd(app, "TRUNCATE asset_event", 0, nullptr, &err));
		EXPECT_NE(ML_OK, db_cmd(app, "DELETE FROM asset_event_default", 0, nullptr, &err));
	}
	/* even the owner is stopped by the trigger */
	EXPECT_NE(ML_OK, db_cmd(dba, "UPDATE asset_event SET actor = 'forged'", 0, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "append-only")) << err.msg;
	EXPECT_NE(ML_OK, db_cmd(dba, "DELETE FROM asset_event", 0, nullptr, &err));
	EXPECT_NE(ML_OK, db_cmd(dba, "TRUNCATE asset_event", 0, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "append-only")) << err.msg;
	EXPECT_EQ(n, count(db, "SELECT count(*) FROM asset_event"));
	EXPECT_EQ(0, count(db, "SELECT count(*) FROM asset_event WHERE actor = 'forged'"));
	db_close(clerk);
	db_close(tech);
}

/* Two results with the same columns, rows and values (NULL apart from ""). */
static void same_rows(const PGresult *a, const PGresult *b, const char *what)
{
	ASSERT_EQ(PQnfields(a), PQnfields(b)) << what;
	ASSERT_EQ(PQntuples(a), PQntuples(b)) << what;
	for (int c = 0; c < PQnfields(a); c++) {
		EXPECT_STREQ(PQfname(a, c), PQfname(b, c)) << what;
		for (int r = 0; r < PQntuples(a); r++) {
			EXPECT_EQ(PQgetisnull(a, r, c), PQgetisnull(b, r, c))
				<< what << " row " << r << " " << PQfname(a, c);
			EXPECT_STREQ(PQgetvalue(a, r, c), PQgetvalue(b, r, c))
				<< what << " row " << r << " " << PQfname(a, c);
		}
	}
}

/* `asset show`'s one round trip (asset_view_get) gives what the lookup, the
 * history, the model and the place give one by one; its history names the
 * person and the place of every event; a barcode that is not registered or
 * malformed is refused and leaves nothing to free. */
TEST_F(Registry, ShowInOneRoundTripGivesWhatTheSeparateCallsGive)
{
	arrive(db, "SHOW-17", 17000, 1);
	std::string b = bc(17000);
	struct ml_error err = ML_ERROR_INIT;
	dba_state(b, "in_stock");
	ASSERT_EQ(ML_OK, move(db, b, ASSET_ACT_DISPATCH, &err)) << err.msg;
	ASSERT_EQ(ML_OK, move(db, b, ASSET_ACT_RECEIVE_SECONDARY, &err, "CITY1")) << err.msg;
	ASSERT_EQ(ML_OK, move(db, b, ASSET_ACT_ISSUE, &err, "TEAM1")) << err.msg;

	struct asset_view v;
	ASSERT_EQ(ML_OK, asset_view_get(db, b.c_str(), &v, &err)) << err.msg;
	struct asset_info a;
	ASSERT_EQ(ML_OK, asset_lookup(db, b.c_str(), &a, &err)) << err.msg;
	EXPECT_EQ(a.asset_id, v.a.asset_id);
	EXPECT_EQ(a.model_id, v.a.model_id);
	EXPECT_EQ(a.state, v.a.state);
	EXPECT_EQ(ASSET_ISSUED, v.a.state);
	EXPECT_STREQ(b.c_str(), v.a.barcode);
	EXPECT_STREQ("M1", v.a.model_code);
	EXPECT_STREQ("SHOW-17", v.a.lot_code);
	EXPECT_STREQ("TEAM1", v.a.location);
	EXPECT_STREQ(a.valid_until, v.a.valid_until);
	EXPECT_EQ(one(db, "SELECT ml_asset_place(asset_id) FROM asset WHERE barcode = $1", { b }),
		  v.place);
	EXPECT_NE(std::string::npos, std::string(v.place).find("TEAM1")) << v.place;
	PGresult *m = nullptr, *h = nullptr;
	ASSERT_EQ(ML_OK, asset_model_get(db, a.model_id, &m, &err)) << err.msg;
	ASSERT_EQ(ML_OK, asset_history(db, a.asset_id, &h, &err)) << err.msg;
	same_rows(m, v.model, "model");
	same_rows(h, v.history, "history");
	/* receive, dispatch, receive at CITY1, issue to TEAM1: each by the person */
	ASSERT_EQ(4, PQntuples(v.history));
	for (int r = 0; r < 4; r++)
		EXPECT_STREQ("仓储测试员 (mlt_stores)", db_get(v.history, r, "actor")) << r;
	EXPECT_STREQ("receive", db_get(v.history, 0, "action"));
	EXPECT_STREQ("CITY1", db_get(v.history, 2, "location"));
	EXPECT_STREQ("issue", db_get(v.history, 3, "action"));
	EXPECT_STREQ("TEAM1", db_get(v.history, 3, "location"));
	PQclear(m);
	PQclear(h);
	asset_view_free(&v);
	EXPECT_EQ(nullptr, v.model);
	EXPECT_EQ(nullptr, v.history);

	std::string none = bc(17999);
	EXPECT_EQ(ML_ENOTFOUND, asset_view_get(db, none.c_str(), &v, &err));
	EXPECT_NE(nullptr, strstr(err.msg, none.c_str())) << err.msg;
	EXPECT_EQ(nullptr, v.model);
	EXPECT_EQ(nullptr, v.history);
	EXPECT_EQ(ML_EINVAL, asset_view_get(db, "41300010000'; --", &v, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "41300010000'; --")) << err.msg;
	asset_view_free(&v);
}

TEST_F(Registry, ListFiltersAndPages)
{
	arrive(db, "LIST-10", 10000, 7);
	struct asset_filter f = {};
	f.lot = "LIST-10";
	f.limit = 3;
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	std::vector<std::string> seen;
	for (int page = 0; page < 4; page++) {
		ASSERT_EQ(ML_OK, asset_list(db, &f, &res, &err)) << err.msg;
		for (int r = 0; r < PQntuples(res); r++)
			seen.push_back(db_get(res, r, "barcode"));
		if (PQntuples(res))
			f.after_id = atoll(db_get(res, PQntuples(res) - 1, "asset_id"));
		PQclear(res);
	}
	ASSERT_EQ(7u, seen.size());
	for (int i = 0; i < 7; i++)
		EXPECT_EQ(bc(10000 + i), seen[i]);
	f.after_id = 0;
	f.state = "installed";
	ASSERT_EQ(ML_OK, asset_list(db, &f, &res, &err));
	EXPECT_EQ(0, PQntuples(res));
	PQclear(res);
	f.state = "bogus";
	EXPECT_EQ(ML_EINVAL, asset_list(db, &f, &res, &err));
}

TEST_F(Registry, ReferencesAreCheckedAndNeverDeleted)
{
	arrive(db, "REF-11", 11000, 1);
	struct ml_error err = ML_ERROR_INIT;
	std::string b = bc(11001);
	/* an asset pointing at a model, lot or location that does not exist is refused like a foreign key */
	const char *p[1] = { b.c_str() };
	EXPECT_EQ(
		ML_EINVAL,
		db_cmd(dba,
		       "INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date) "
		       "SELECT $1, 999999, lot_id, 'B', '2026-01-01' FROM lot WHERE code = 'REF-11'",
		       1, p, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "23503")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "device_model 999999")) << err.msg;
	std::string b0 = bc(11000);
	const char *p0[1] = { b0.c_str() };
	EXPECT_EQ(ML_EINVAL, db_cmd(dba, "UPDATE asset SET location_id = 999999 WHERE barcode = $1",
				    1, p0, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "location 999999")) << err.msg;
	/* catalogue rows, lots and locations are history: never deleted */
	EXPECT_NE(ML_OK,
		  db_cmd(dba, "DELETE FROM device_model WHERE code = 'M1'", 0, nullptr, &err));
	EXPECT_NE(ML_OK, db_cmd(dba, "DELETE FROM lot WHERE code = 'REF-11'", 0, nullptr, &err));
	EXPECT_NE(ML_OK,
		  db_cmd(dba, "DELETE FROM location WHERE code = 'TEAM1'", 0, nullptr, &err));
	EXPECT_NE(ML_OK, db_cmd(dba, "TRUNCATE location CASCADE", 0, nullptr, &err));
	EXPECT_EQ(1, count(db, "SELECT count(*) FROM location WHERE code = 'TEAM1'"));
	/* nor re-keyed: an identity column still takes SET … = DEFAULT, which would
	 * orphan the assets (and the history of an asset) that point at the old id */
	const char *rekey[] = {
		"UPDATE device_model SET model_id = DEFAULT WHERE code = 'M1'",
		"UPDATE lot SET lot_id = DEFAULT WHERE code = 'REF-11'",
		"UPDATE location SET location_id = DEFAULT WHERE code = 'CENTRAL'",
		"UPDATE asset SET asset_id = DEFAULT WHERE barcode = $1",
	};
	for (const char *sql : rekey) {
		EXPECT_EQ(ML_EINVAL, db_cmd(dba, sql, strchr(sql, '$') ? 1 : 0, p0, &err)) << sql;
		EXPECT_NE(nullptr, strstr(err.msg, "cannot change")) << sql << ": " << err.msg;
	}
	EXPECT_EQ(
		0,
		count(db,
		      "SELECT count(*) FROM asset a WHERE NOT EXISTS (SELECT 1 FROM device_model m "
		      "WHERE m.model_id = a.model_id) OR NOT EXISTS (SELECT 1 FROM lot l WHERE l.lot_id = a.lot_id)"));
	EXPECT_EQ(
		0,
		count(db,
		      "SELECT count(*) FROM asset_event e WHERE NOT EXISTS (SELECT 1 FROM asset a "
		      "WHERE a.asset_id = e.asset_id)"));
	EXPECT_EQ(
		"CENTRAL",
		one(db,
		    "SELECT l.code FROM asset a JOIN location l USING (location_id) WHERE a.barcode = $1",
		    { bc(11000) }));
}

TEST_F(Registry, ReceiveInsideCallersTransaction)
{
	struct ml_error err = ML_ERROR_INIT;
	struct asset_import_report rep;
	ASSERT_EQ(ML_OK, db_begin(db, &err));
	ASSERT_EQ(ML_OK, receive(db, "CTX-12a", csv(12000, 3), &rep, &err)) << err.msg;
	asset_import_report_free(&rep);
	ASSERT_EQ(ML_OK, receive(db, "CTX-12b", csv(12100, 2), &rep, &err))
		<< err.msg; /* staging reused */
	asset_import_report_free(&rep);
	/* a failing one rolls back to its savepoint only */
	ASSERT_EQ(ML_EINVAL, receive(db, "CTX-12c", csv(12000, 1), &rep, &err));
	asset_import_report_free(&rep);
	EXPECT_EQ(PQTRANS_INTRANS, PQtransactionStatus(db_conn(db)));
	ASSERT_EQ(ML_OK, db_commit(db, &err)) << err.msg;
	EXPECT_EQ(
		5,
		count(db,
		      "SELECT count(*) FROM asset a JOIN lot l USING (lot_id) WHERE l.code LIKE 'CTX-12_'"));
}

TEST_F(Registry, EventsLandInTheirAssetsPartition)
{
	arrive(db, "PART-13", 13000, 2);
	/* history is partitioned by ranges of asset_id (0171): an asset's events
	 * are in the partition whose range holds its id, never in the default one */
	EXPECT_EQ(2, count(db, "SELECT count(*) FROM asset_event e JOIN asset a USING (asset_id) "
			       "JOIN lot l USING (lot_id) JOIN pg_class c ON c.oid = e.tableoid "
			       "WHERE l.code = 'PART-13' AND c.relname = 'asset_event_a' || "
			       "to_char(a.asset_id / 4000000 * 4, 'FM000') || 'm'"));
	EXPECT_EQ(0, count(dba, "SELECT count(*) FROM asset_event_default"));
	EXPECT_EQ(
		31,
		count(db,
		      "SELECT count(*) FROM pg_inherits WHERE inhparent = 'asset_event'::regclass"));
}

/* A NUL byte used to end the line as a C string: a row starting with one was skipped as blank. */
TEST_F(Registry, NulByteRowIsRefusedNotDropped)
{
	std::string last = bc(15002) + ",M1,B";
	last += '\0';
	last += "X,2026-09-14\n";
	std::string data = "barcode,model_code,production_batch,production_date\n" + bc(15000) +
			   ",M1,B1,2026-09-14\n" + std::string(1, '\0') + bc(15001) +
			   ",M1,B1,2026-09-14\n" + last;
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_EINVAL, receive(db, "NUL-15", data, &rep, &err)) << err.msg;
	ASSERT_EQ(2u, rep.nissues) << err.msg;
	EXPECT_EQ(3, rep.issues[0].line);
	EXPECT_NE(nullptr, strstr(rep.issues[0].reason, "NUL byte")) << rep.issues[0].reason;
	EXPECT_EQ(4, rep.issues[1].line);
	EXPECT_NE(nullptr, strstr(rep.issues[1].reason, "character 28")) << rep.issues[1].reason;
	asset_import_report_free(&rep);
	EXPECT_EQ(0, count(db, "SELECT count(*) FROM lot WHERE code = 'NUL-15'"));
}

/* Production dates are range-checked by the database: not in the future, not decades old. */
TEST_F(Registry, ProductionDateIsRangeChecked)
{
	std::string hdr = "barcode,model_code,production_batch,production_date\n";
	std::string data = hdr + bc(15100) + ",M1,B1,2099-12-31\n" + bc(15101) +
			   ",M1,B1,1990-01-01\n" + bc(15102) + ",M1,B1,2026-09-14\n";
	struct asset_import_report rep;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_EINVAL, receive(db, "PD-15", data, &rep, &err)) << err.msg;
	ASSERT_EQ(2u, rep.nissues) << err.msg;
	EXPECT_NE(nullptr, strstr(rep.issues[0].reason, "in the future")) << rep.issues[0].reason;
	EXPECT_NE(nullptr, strstr(rep.issues[1].reason, "20 years")) << rep.issues[1].reason;
	asset_import_report_free(&rep);
}
