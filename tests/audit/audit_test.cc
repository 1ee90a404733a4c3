/* Tamper evidence (0140, audit/audit.h): the owner of the schema changes,
 * removes or inserts history around its guards — audit_verify names the
 * first bad row; an owner who recomputes the whole chain is caught by an
 * anchor recorded earlier. Each attack gets a database of its own. */
#include <gtest/gtest.h>

#include <string.h>

#include <string>

#include "../support/pgtest.h"
#include "audit/audit.h"

namespace
{

std::string scalar(struct db *db, const std::string &sql)
{
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_query_one(db, sql.c_str(), 0, nullptr, &res, &err))
		<< err.msg << " in " << sql;
	std::string v = res && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "";
	PQclear(res);
	return v;
}

/* A script of several statements (test SQL, no parameters). */
void script(struct db *db, const std::string &sql)
{
	PGresult *res = PQexec(db_conn(db), sql.c_str());
	EXPECT_EQ(PGRES_COMMAND_OK, PQresultStatus(res)) << PQerrorMessage(db_conn(db)) << sql;
	PQclear(res);
}

/* What the owner of the schema can do: be the owner, with triggers off. */
void as_owner(struct db *admin, const std::string &sql)
{
	script(admin, "SET ROLE meterlab_owner; SET TimeZone = 'Asia/Shanghai'; " + sql +
			      "; RESET ROLE; RESET TimeZone");
}

const struct audit_chain_report *chain(const struct audit_report &r, const char *name)
{
	for (size_t i = 0; i < r.n; i++) {
		if (!strcmp(r.chains[i].chain, name))
			return &r.chains[i];
	}
	return nullptr;
}

struct Audit : ::testing::Test {
	std::string ci;
	struct db *admin = nullptr, *auditor = nullptr;
	struct audit_report rep = {};

	void SetUp() override
	{
		ci = pgtest_fresh_db("audit");
		admin = pgtest_connect(ci);
		auditor = pgtest_connect(pgtest_as(ci, "mlt_auditor"));
		/* History as the lifecycle writes it: a delivery of 50 in one statement, then 3. */
		script(admin,
		       "INSERT INTO asset_event (asset_id, actor, to_state, action, details) "
		       "SELECT g, 'mlt_clerk', 'arrived', 'receive', '{\"lot\": \"L1\"}' "
		       "FROM generate_series(1, 50) g; "
		       "INSERT INTO asset_event (asset_id, actor, from_state, to_state, action) "
		       "SELECT g, 'mlt_tech', 'arrived', 'verifying', 'verify_start' "
		       "FROM generate_series(1, 3) g");
	}
	void TearDown() override
	{
		audit_report_free(&rep);
		db_close(auditor);
		db_close(admin);
	}
	void verify(const char *expect = nullptr)
	{
		audit_report_free(&rep);
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, audit_verify(auditor, expect, &rep, &err)) << err.msg;
	}
	std::string event(int nth)
	{
		return scalar(admin, "SELECT event_id FROM asset_event ORDER BY event_id OFFSET " +
					     std::to_string(nth - 1) + " LIMIT 1");
	}
};

} // namespace

TEST_F(Audit, UntouchedHistoryVerifiesAndOnlyAuditorsMayVerify)
{
	verify();
	EXPECT_EQ(1, rep.ok);
	for (size_t i = 0; i < rep.n; i++)
		EXPECT_EQ(1, rep.chains[i].ok)
			<< rep.chains[i].chain << ": " << rep.chains[i].problem;
	const struct audit_chain_report *ev = chain(rep, "asset_event");
	ASSERT_NE(nullptr, ev);
	EXPECT_EQ(2, ev->blocks) << "one block per inserting statement";
	EXPECT_EQ(53, ev->rows);
	EXPECT_EQ(1, ev->known);
	const struct audit_chain_report *people = chain(rep, "app_user_log");
	ASSERT_NE(nullptr, people);
	EXPECT_EQ(11, people->rows) << "the test cast (tests/support/pgtest.h) was added";
	for (const char *c : { "certificate", "cert_pdf", "cert_supersession", "cert_withdrawal",
			       "cert_discard_log", "cert_backdate", "lab_setting_log" })
		EXPECT_NE(nullptr, chain(rep, c)) << c;
	std::string anchor = rep.anchor;
	EXPECT_NE(std::string::npos, anchor.find("asset_event=2")) << anchor;
	EXPECT_EQ(64u, anchor.size() - anchor.find('@') - 1) << anchor;
	/* The anchor of now checks against now. */
	verify(anchor.c_str());
	EXPECT_EQ(1, rep.expect_checked);
	EXPECT_EQ(1, rep.expect_ok) << rep.expect_problem;
	/* New history extends the chain: the old anchor still holds. */
	script(admin,
	       "INSERT INTO asset_event (asset_id, actor, to_state, action) VALUES (7, 'x', 'in_stock', "
	       "'verify_pass')");
	verify(anchor.c_str());
	EXPECT_EQ(1, rep.ok);
	EXPECT_EQ(1, rep.expect_ok) << rep.expect_problem;
	EXPECT_NE(anchor, std::string(rep.anchor));

	for (const char *who : { "mlt_tech", "mlt_clerk", "mlt_field" }) {
		struct db *db = pgtest_connect(pgtest_as(ci, who));
		struct ml_error err = ML_ERROR_INIT;
		struct audit_report r = {};
		EXPECT_EQ(ML_EPERM, audit_verify(db, nullptr, &r, &err)) << who;
		db_close(db);
	}
	struct db *adm = pgtest_connect(pgtest_as(ci, "mlt_admin"));
	struct ml_error err = ML_ERROR_INIT;
	struct audit_report r = {};
	EXPECT_EQ(ML_OK, audit_verify(adm, nullptr, &r, &err)) << err.msg;
	audit_report_free(&r);
	db_close(adm);
	/* Malformed anchors are input errors, not findings. */
	EXPECT_EQ(ML_EINVAL, audit_verify(auditor, "nonsense", &r, &err));
	EXPECT_EQ(ML_EINVAL, audit_verify(auditor, "asset_event=x@00", &r, &err));
	/* Nobody but the chain triggers writes the ledger. */
	for (const char *who : { "mlt_auditor", "mlt_admin", "mlt_clerk" }) {
		struct db *db = pgtest_connect(pgtest_as(ci, who));
		for (const char *sql :
		     { "DELETE FROM audit_block", "UPDATE audit_chain SET blocks = 0",
		       "INSERT INTO audit_block (chain, block_no, prev_hash, row_keys, row_hashes, "
		       "block_hash) VALUES ('asset_event', 99, '\\x00', '{1}', '{\\\\x00}', '\\x00')",
		       "SELECT ml_audit_append_block('asset_event', '{1}', '\\x', '\\x')" }) {
			EXPECT_EQ(ML_EPERM, db_cmd(db, sql, 0, nullptr, &err))
				<< who << ": " << sql;
		}
		db_close(db);
	}
}

/* A row's hash is 0140's — sha256 of the row's text with the trailing NULL
 * fields trimmed — over the text as the database stores it (0344), so a
 * client connected in another encoding (GBK: a Chinese Windows console)
 * writes history that verifies. Before 0344 the GBK row was hashed over its
 * GBK bytes and verify named it changed. Rows chosen to tell formulas apart:
 * Chinese text, a long row, values ending in ',' and ')', a last field set
 * and trailing NULL ones. */
TEST_F(Audit, RowHashesAreTheStoredTextWhateverTheClientEncoding)
{
	script(admin,
	       "INSERT INTO asset_event (asset_id, actor, to_state, action, reason, details, actor_id) "
	       "VALUES (8, '王检定', 'in_stock', 'verify_pass', '合格,)', '{\"n\": \"表,)\"}', 3), "
	       "(9, 'x', 'in_stock', 'move', NULL, "
	       "jsonb_build_object('note', repeat('二级表库 ', 8000)), NULL)");
	/* ASCII on the wire, Chinese in the row: 表号 */
	script(admin, "SET client_encoding = 'GBK'; "
		      "INSERT INTO asset_event (asset_id, actor, to_state, action, reason) "
		      "VALUES (10, U&'\\8868\\53F7', 'in_stock', 'move', ')'); "
		      "RESET client_encoding");
	EXPECT_EQ("表号", scalar(admin, "SELECT actor FROM asset_event WHERE reason = ')'"));
	std::string n = scalar(admin, "SELECT count(*) FROM asset_event");
	EXPECT_EQ("56", n);
	script(admin, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = "
		      "'postgres'; SET extra_float_digits = 1; SET bytea_output = 'hex'");
	/* every stored row hash is 0140's expression, computed here in UTF8 */
	EXPECT_EQ(
		n + " 0",
		scalar(admin,
		       "SELECT count(*) || ' ' || count(*) FILTER (WHERE r.h IS DISTINCT FROM "
		       "sha256(textsend(rtrim(e::text, ',)') || ')'))) "
		       "FROM (SELECT x.k, substring(b.row_hashes FROM (x.o::int - 1) * 32 + 1 FOR 32) AS h "
		       "FROM audit_block b CROSS JOIN LATERAL unnest(b.row_keys) WITH ORDINALITY x(k, o) "
		       "WHERE b.chain = 'asset_event') r JOIN asset_event e ON e.event_id = r.k"));
	script(admin, "RESET ALL");
	verify();
	EXPECT_EQ(1, rep.ok) << (chain(rep, "asset_event") ? chain(rep, "asset_event")->problem
							   : "");
	/* the verifier's own session encoding does not matter either */
	script(auditor, "SET client_encoding = 'GBK'");
	verify();
	EXPECT_EQ(1, rep.ok) << (chain(rep, "asset_event") ? chain(rep, "asset_event")->problem
							   : "");
}

TEST_F(Audit, OwnerChangingAnEventIsNamed)
{
	std::string id = event(17);
	as_owner(
		admin,
		"ALTER TABLE asset_event DISABLE TRIGGER asset_event_no_update_delete; "
		"UPDATE asset_event SET actor = 'chief.liu', occurred_at = occurred_at - interval '400 days' "
		"WHERE event_id = " +
			id +
			"; ALTER TABLE asset_event ENABLE TRIGGER asset_event_no_update_delete");
	verify();
	EXPECT_EQ(0, rep.ok);
	const struct audit_chain_report *ev = chain(rep, "asset_event");
	ASSERT_NE(nullptr, ev);
	EXPECT_EQ(0, ev->ok);
	EXPECT_STREQ("changed", ev->bad_kind);
	EXPECT_EQ(atoll(id.c_str()), ev->bad_key);
	EXPECT_EQ(1, ev->bad_block);
	EXPECT_NE(nullptr, strstr(ev->problem, ("event_id " + id).c_str())) << ev->problem;
	EXPECT_NE(nullptr, strstr(ev->problem, "chief.liu")) << ev->problem;
	EXPECT_EQ(1, chain(rep, "app_user_log")->ok) << "other chains are untouched";
}

TEST_F(Audit, OwnerRemovingAnEventIsNamed)
{
	std::string id = event(52);
	as_owner(admin,
		 "ALTER TABLE asset_event DISABLE TRIGGER asset_event_no_update_delete; "
		 "DELETE FROM asset_event WHERE event_id = " +
			 id +
			 "; ALTER TABLE asset_event ENABLE TRIGGER asset_event_no_update_delete");
	verify();
	const struct audit_chain_report *ev = chain(rep, "asset_event");
	ASSERT_NE(nullptr, ev);
	EXPECT_EQ(0, ev->ok);
	EXPECT_STREQ("removed", ev->bad_kind);
	EXPECT_EQ(atoll(id.c_str()), ev->bad_key);
	EXPECT_EQ(2, ev->bad_block);
}

/* A back-dated event in someone else's name, slipped in with the chain
 * trigger off: in the table, in no block. */
TEST_F(Audit, OwnerInsertingAroundTheChainIsNamed)
{
	as_owner(
		admin,
		"ALTER TABLE asset_event DISABLE TRIGGER asset_event_audit_insert; "
		"INSERT INTO asset_event (asset_id, actor, occurred_at, from_state, to_state, action) "
		"VALUES (9, 'chief.liu', timestamptz '2025-03-01 10:00+08', 'failed', 'in_stock', "
		"'verify_pass'); ALTER TABLE asset_event ENABLE TRIGGER asset_event_audit_insert");
	std::string id = scalar(admin, "SELECT max(event_id) FROM asset_event");
	verify();
	const struct audit_chain_report *ev = chain(rep, "asset_event");
	ASSERT_NE(nullptr, ev);
	EXPECT_EQ(0, ev->ok);
	EXPECT_STREQ("unchained", ev->bad_kind);
	EXPECT_EQ(atoll(id.c_str()), ev->bad_key);
	EXPECT_NE(nullptr, strstr(ev->problem, "outside the chain")) << ev->problem;
	/* A chain trigger left disabled is a finding by itself. */
	as_owner(admin, "ALTER TABLE app_user_log DISABLE TRIGGER app_user_log_audit_insert");
	verify();
	EXPECT_EQ(0, chain(rep, "app_user_log")->ok);
	EXPECT_NE(nullptr, strstr(chain(rep, "app_user_log")->problem, "disabled"))
		<< chain(rep, "app_user_log")->problem;
}

TEST_F(Audit, OwnerEditingTheLedgerIsNamed)
{
	/* A recorded hash replaced: the block no longer matches its content. */
	as_owner(
		admin,
		"ALTER TABLE audit_block DISABLE TRIGGER audit_block_append_only; "
		"UPDATE audit_block SET row_hashes = overlay(row_hashes PLACING sha256('x') FROM 1 FOR 32) "
		"WHERE chain = 'asset_event' AND block_no = 1; ALTER TABLE audit_block ENABLE TRIGGER audit_block_append_only");
	verify();
	const struct audit_chain_report *ev = chain(rep, "asset_event");
	ASSERT_NE(nullptr, ev);
	EXPECT_EQ(0, ev->ok);
	EXPECT_STREQ("block", ev->bad_kind);
	EXPECT_EQ(1, ev->bad_block);
	EXPECT_NE(nullptr, strstr(ev->problem, "does not match its content")) << ev->problem;
}

TEST_F(Audit, OwnerRemovingABlockIsNamed)
{
	script(admin,
	       "INSERT INTO asset_event (asset_id, actor, to_state, action) VALUES (5, 'x', 'in_stock', "
	       "'verify_pass')");
	as_owner(
		admin,
		"ALTER TABLE audit_block DISABLE TRIGGER audit_block_append_only; "
		"ALTER TABLE asset_event DISABLE TRIGGER asset_event_no_update_delete; "
		"DELETE FROM asset_event WHERE event_id IN (SELECT unnest(row_keys) FROM audit_block "
		"WHERE chain = 'asset_event' AND block_no = 2); "
		"DELETE FROM audit_block WHERE chain = 'asset_event' AND block_no = 2; "
		"ALTER TABLE asset_event ENABLE TRIGGER asset_event_no_update_delete; "
		"ALTER TABLE audit_block ENABLE TRIGGER audit_block_append_only");
	verify();
	const struct audit_chain_report *ev = chain(rep, "asset_event");
	ASSERT_NE(nullptr, ev);
	EXPECT_EQ(0, ev->ok);
	EXPECT_STREQ("block", ev->bad_kind);
	EXPECT_NE(nullptr, strstr(ev->problem, "block")) << ev->problem;
}

/* The owner who changes a row and then recomputes every hash after it
 * passes the internal check — and fails against an anchor recorded before. */
TEST_F(Audit, OwnerRecomputingTheChainIsCaughtByTheAnchor)
{
	verify();
	ASSERT_EQ(1, rep.ok);
	std::string anchor = rep.anchor;
	std::string id = event(3);
	as_owner(
		admin,
		"ALTER TABLE audit_block DISABLE TRIGGER audit_block_append_only; "
		"ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_guard; "
		"ALTER TABLE asset_event DISABLE TRIGGER asset_event_no_update_delete; "
		"UPDATE asset_event SET to_state = 'scrapped' WHERE event_id = " +
			id +
			"; "
			"DELETE FROM audit_block WHERE chain = 'asset_event'; "
			"UPDATE audit_chain SET blocks = 0, rows = 0, head_hash = decode(repeat('00', 32), 'hex') "
			"WHERE chain = 'asset_event'; "
			"SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
			/* the same two blocks again, over the changed rows */
			"DO $$ DECLARE k bigint[]; kb bytea; h bytea; BEGIN "
			"EXECUTE ml_audit_rows_sql('event_id', NULL, NULL, "
			"'(SELECT * FROM asset_event WHERE action = ''receive'')') "
			"INTO k, kb, h; PERFORM ml_audit_append_block('asset_event', k, kb, h); "
			"EXECUTE ml_audit_rows_sql('event_id', NULL, NULL, "
			"'(SELECT * FROM asset_event WHERE action <> ''receive'')') "
			"INTO k, kb, h; PERFORM ml_audit_append_block('asset_event', k, kb, h); END $$; "
			"ALTER TABLE asset_event ENABLE TRIGGER asset_event_no_update_delete; "
			"ALTER TABLE audit_chain ENABLE TRIGGER audit_chain_guard; "
			"ALTER TABLE audit_block ENABLE TRIGGER audit_block_append_only");
	verify();
	EXPECT_EQ(1, chain(rep, "asset_event")->ok)
		<< "internally consistent again: " << chain(rep, "asset_event")->problem;
	EXPECT_EQ(2, chain(rep, "asset_event")->blocks);
	verify(anchor.c_str());
	EXPECT_EQ(0, rep.ok);
	EXPECT_EQ(1, rep.expect_checked);
	EXPECT_EQ(0, rep.expect_ok);
	EXPECT_NE(nullptr, strstr(rep.expect_problem, "rewritten")) << rep.expect_problem;
}

/* Cutting the chain back (removing its newest blocks and their rows): only an anchor shows it. */
TEST_F(Audit, OwnerCuttingTheChainBackIsCaughtByTheAnchor)
{
	verify();
	std::string anchor = rep.anchor;
	as_owner(
		admin,
		"ALTER TABLE audit_block DISABLE TRIGGER audit_block_append_only; "
		"ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_guard; "
		"ALTER TABLE asset_event DISABLE TRIGGER asset_event_no_update_delete; "
		"DELETE FROM asset_event WHERE event_id IN (SELECT unnest(row_keys) FROM audit_block "
		"WHERE chain = 'asset_event' AND block_no = 2); "
		"DELETE FROM audit_block WHERE chain = 'asset_event' AND block_no = 2; "
		"UPDATE audit_chain a SET blocks = 1, rows = 50, head_hash = b.block_hash FROM audit_block b "
		"WHERE a.chain = 'asset_event' AND b.chain = 'asset_event' AND b.block_no = 1; "
		"ALTER TABLE asset_event ENABLE TRIGGER asset_event_no_update_delete; "
		"ALTER TABLE audit_chain ENABLE TRIGGER audit_chain_guard; "
		"ALTER TABLE audit_block ENABLE TRIGGER audit_block_append_only");
	verify();
	EXPECT_EQ(1, rep.ok) << "nothing inside the database contradicts itself";
	verify(anchor.c_str());
	EXPECT_EQ(0, rep.ok);
	EXPECT_EQ(0, rep.expect_ok);
	EXPECT_NE(nullptr, strstr(rep.expect_problem, "no block 2")) << rep.expect_problem;
}

TEST_F(Audit, ThroughTheBinary)
{
	auto run = [&](const char *login, const std::string &args, std::string *out) {
		return pgtest_run(pgtest_cli() + " --db " + pgtest_sq(pgtest_as(ci, login)) + " " +
					  args,
				  out, true);
	};
	std::string out;
	ASSERT_EQ(0, run("mlt_auditor", "audit verify", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("AUDIT OK")) << out;
	size_t at = out.rfind("anchor: ");
	ASSERT_NE(std::string::npos, at) << out;
	std::string anchor = out.substr(at + 8);
	while (!anchor.empty() && (anchor.back() == '\n' || anchor.back() == ' '))
		anchor.pop_back();
	ASSERT_EQ(0, run("mlt_auditor", "audit verify --expect " + pgtest_sq(anchor) + " --json",
			 &out))
		<< out;
	EXPECT_NE(std::string::npos, out.find("\"expect_ok\":true")) << out;
	EXPECT_EQ(9, run("mlt_tech", "audit verify", &out)) << out;
	EXPECT_EQ(3, run("mlt_auditor", "audit verify --expect nonsense", &out)) << out;
	EXPECT_EQ(0, run("mlt_auditor", "audit --help", &out)) << out;

	std::string id = event(20);
	as_owner(admin,
		 "ALTER TABLE asset_event DISABLE TRIGGER asset_event_no_update_delete; "
		 "UPDATE asset_event SET to_state = 'in_stock' WHERE event_id = " +
			 id +
			 "; ALTER TABLE asset_event ENABLE TRIGGER asset_event_no_update_delete");
	EXPECT_EQ(1, run("mlt_auditor", "audit verify", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("AUDIT FAILED")) << out;
	EXPECT_NE(std::string::npos, out.find("asset_event        TAMPERED")) << out;
	EXPECT_NE(std::string::npos, out.find("event_id " + id + " (block 1")) << out;
	EXPECT_EQ(1, run("mlt_auditor", "audit verify --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"key\":" + id)) << out;
}
