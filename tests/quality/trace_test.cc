/*
 * Reverse traceability across runs, certificates and moves
 * (tests/data/quality/trace_fixture.sql lists what each position holds).
 */
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

#include "quality_fixture.h"

extern "C" {
#include "quality/trace.h"
#include "reports/cert_doc.h"
#include "reports/cert_source.h"
#include "reports/cert_workflow.h"
}

namespace
{

/* Certificates of run 1 through the real workflow (see trace_fixture.sql),
 * each step by its person (tests/support/pgtest.h); the fixture's dates
 * are kept by an administrator's back-dating, the one way to issue earlier
 * than today (migration 0141). */
void issue_certificates(const std::string &ci)
{
	struct db *tech = pgtest_connect(pgtest_as(ci, "mlt_tech"));
	struct db *checker = pgtest_connect(pgtest_as(ci, "mlt_checker"));
	struct db *approver = pgtest_connect(pgtest_as(ci, "mlt_approver"));
	struct db *admin = pgtest_connect(pgtest_as(ci, "mlt_admin"));
	/* the reviser is the revision's verifier: a second approver issues it */
	struct db *approver2 = pgtest_connect(
		pgtest_user(ci, "mlt_trace_ap2", "钱批准", "approver"));
	struct ml_error err = ML_ERROR_INIT;
	long long *ids = nullptr, rev = 0;
	size_t n = 0, created = 0;
	ASSERT_EQ(ML_OK, cert_source_drafts(tech, 1, nullptr, &ids, &n, &created, &err)) << err.msg;
	ASSERT_EQ(3u, n);
	struct cert_renderer *r = nullptr;
	ASSERT_EQ(ML_OK, cert_renderer_new(nullptr, &r, &err)) << err.msg;
	struct cert_issue_opts o = { &r, 1 };
	EXPECT_EQ(ML_OK, cert_check(checker, ids, 2, &err)) << err.msg;
	for (int i = 0; i < 2; i++)
		EXPECT_EQ(ML_OK, cert_backdate(admin, ids[i], "2026-11-22", "纸质记录补录", &err))
			<< err.msg;
	EXPECT_EQ(ML_OK, cert_approve(approver, ids, 2, &o, &err)) << err.msg;
	EXPECT_EQ(ML_OK, cert_revise(approver, ids[0], "更正送检单位", nullptr, 0, &rev, &err))
		<< err.msg;
	EXPECT_EQ(ML_OK, cert_backdate(admin, rev, "2026-11-25", "纸质记录补录", &err)) << err.msg;
	EXPECT_EQ(ML_OK, cert_check(checker, &rev, 1, &err)) << err.msg;
	EXPECT_EQ(ML_OK, cert_approve(approver2, &rev, 1, &o, &err)) << err.msg;
	EXPECT_EQ(ML_OK, cert_withdraw(approver, ids[1], "发给了错误的表", &err)) << err.msg;
	cert_renderer_free(r);
	free(ids);
	for (struct db *db : { tech, checker, approver, admin, approver2 })
		db_close(db);
}

const std::string &trace_db()
{
	static std::string ci;
	if (ci.empty()) {
		ci = pgtest_fresh_db("trace");
		quality_run_script(ci, "tests/reports/workflow_run_fixture.sql");
		quality_run_script(ci, "tests/data/quality/trace_fixture.sql");
		issue_certificates(ci);
	}
	return ci;
}

/* The certificate number the workflow gave position p of run 1. */
std::string cert_no(int position)
{
	struct db *db = pgtest_connect(trace_db());
	PGresult *res = nullptr;
	std::string pos = std::to_string(position);
	const char *p[1] = { pos.c_str() };
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK,
		  db_query_one(
			  db,
			  "SELECT c.cert_no FROM certificate c JOIN run_position r ON r.asset_id = "
			  "c.asset_id AND r.run_id = c.run_id WHERE r.run_id = 1 AND r.position = "
			  "$1::int AND c.revision = 0",
			  1, p, &res, &err))
		<< err.msg;
	std::string s = res ? db_get(res, 0, "cert_no") : "";
	PQclear(res);
	db_close(db);
	return s;
}

struct Trace {
	struct trace_list t;
	int rc;
	struct ml_error err = ML_ERROR_INIT;
	Trace(const char *standard, const char *bench, const char *since,
	      const char *until = nullptr)
	{
		memset(&t, 0, sizeof t);
		struct db *db = pgtest_connect(trace_db());
		rc = trace_load(db, standard, bench, since, until, &t, &err);
		db_close(db);
	}
	~Trace()
	{
		trace_list_free(&t);
	}
	const trace_row *at(const char *scheme_date, int pos) const
	{
		for (size_t i = 0; i < t.n; i++)
			if (!strcmp(t.rows[i].run_date, scheme_date) && t.rows[i].position == pos)
				return &t.rows[i];
		return nullptr;
	}
};

TEST(QualityTrace, StandardFindsRunsCertificatesAndWhereAssetsAre)
{
	Trace tr("STD-1P-01", nullptr, "2026-11-01");
	ASSERT_EQ(ML_OK, tr.rc) << tr.err.msg;
	/* run 1 on B1 (three meters) and the run on B2 (one), not the October run, not CT1 */
	EXPECT_EQ(4u, tr.t.n);
	EXPECT_EQ(2u, tr.t.runs);
	const trace_row *p1 = tr.at("2026-11-20", 1);
	ASSERT_NE(nullptr, p1);
	EXPECT_STREQ("B1", p1->bench);
	EXPECT_STREQ("STD-1P-01", p1->standards);
	EXPECT_STREQ("pass", p1->verdict);
	EXPECT_EQ(cert_no(1), p1->cert_no);
	EXPECT_FALSE(cert_no(1).empty());
	EXPECT_EQ(1, p1->cert_revision); /* the revision, not the superseded original */
	EXPECT_STREQ("current", p1->cert_status);
	EXPECT_STREQ("2026-11-25", p1->cert_issued_on);
	EXPECT_STREQ("installed", p1->asset_state);
	EXPECT_STREQ("SITE-9", p1->location);
	EXPECT_STREQ("customer_site", p1->location_kind);
	const trace_row *p2 = tr.at("2026-11-20", 2);
	EXPECT_STREQ("fail", p2->verdict);
	EXPECT_STREQ("notice", p2->cert_kind);
	EXPECT_STREQ("withdrawn", p2->cert_status);
	EXPECT_STREQ("returned_to_maker", p2->asset_state);
	const trace_row *p3 = tr.at("2026-11-20", 3);
	EXPECT_STREQ("", p3->cert_no);
	EXPECT_STREQ("draft", p3->cert_state);
	EXPECT_STREQ("not issued", p3->cert_status);
	EXPECT_STREQ("CENTRAL", p3->location);
	const trace_row *b2 = tr.at("2026-11-28", 2);
	ASSERT_NE(nullptr, b2);
	EXPECT_STREQ("B2", b2->bench);
	EXPECT_STREQ("interrupted", b2->run_status);
	EXPECT_EQ(-1, b2->cert_revision);
	EXPECT_EQ(1u, tr.t.certificates);
	EXPECT_EQ(1u, tr.t.installed);
}

TEST(QualityTrace, WindowAndBench)
{
	Trace all("STD-1P-01", nullptr, "2026-01-01");
	EXPECT_EQ(5u, all.t.n); /* the October run too */
	Trace until("STD-1P-01", nullptr, "2026-11-01", "2026-11-27");
	EXPECT_EQ(3u, until.t.n);
	Trace bench(nullptr, "CT1", "2026-11-01");
	ASSERT_EQ(ML_OK, bench.rc) << bench.err.msg;
	ASSERT_EQ(1u, bench.t.n);
	EXPECT_STREQ("STD-CT-01", bench.t.rows[0].standards);
	EXPECT_STREQ("bench", bench.t.what);
	Trace ct("STD-CT-01", nullptr, "2026-11-01");
	EXPECT_EQ(1u, ct.t.n);
}

TEST(QualityTrace, Renderings)
{
	Trace tr("STD-1P-01", nullptr, "2026-11-01");
	struct ml_buf b = ML_BUF_INIT;
	trace_text(&tr.t, &b);
	ASSERT_EQ(ML_OK, ml_buf_failed(&b));
	std::string text = ml_buf_str(&b);
	EXPECT_NE(std::string::npos,
		  text.find("standard STD-1P-01, runs dated 2026-11-01 .. today: 2 runs, "
			    "4 assets, 1 current certificates, 1 assets installed"))
		<< text;
	EXPECT_NE(std::string::npos, text.find(cert_no(1) + "/1")) << text;
	EXPECT_NE(std::string::npos, text.find(cert_no(2) + " (withdrawn)")) << text;
	ml_buf_reset(&b);
	trace_json(&tr.t, &b);
	ASSERT_EQ(ML_OK, ml_buf_failed(&b));
	std::string json = ml_buf_str(&b);
	EXPECT_EQ(
		0u,
		json.find(
			"{\"standard\":\"STD-1P-01\",\"since\":\"2026-11-01\",\"until\":null,\"runs\":2"))
		<< json;
	EXPECT_NE(std::string::npos, json.find("\"status\":\"withdrawn\"")) << json;
	EXPECT_NE(std::string::npos, json.find("\"certificate\":null")) << json;
	/* valid JSON: python parses it */
	std::string out;
	EXPECT_EQ(
		0,
		pgtest_run(
			"printf '%s' " + pgtest_sq(json) +
				" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); "
				"print(len(d[\"rows\"]))'",
			&out))
		<< out;
	EXPECT_EQ("4\n", out);
	ml_buf_reset(&b);
	trace_csv(&tr.t, &b);
	ASSERT_EQ(ML_OK, ml_buf_failed(&b));
	std::string csv = ml_buf_str(&b);
	EXPECT_EQ(0u, csv.find("run_id,run_date,run_status,bench,standards,position,barcode"))
		<< csv;
	EXPECT_NE(std::string::npos, csv.find(",SITE-9,示范小区9号台区,customer_site,")) << csv;
	ml_buf_free(&b);
}

TEST(QualityTrace, RefusesBadInput)
{
	Trace nope("NO-SUCH", nullptr, "2026-11-01");
	EXPECT_EQ(ML_ENOTFOUND, nope.rc);
	EXPECT_NE(nullptr, strstr(nope.err.msg, "NO-SUCH"));
	Trace nob(nullptr, "NO-BENCH", "2026-11-01");
	EXPECT_EQ(ML_ENOTFOUND, nob.rc);
	Trace date("STD-1P-01", nullptr, "2026-11-31");
	EXPECT_EQ(ML_EINVAL, date.rc);
	Trace both("STD-1P-01", "B1", "2026-11-01");
	EXPECT_EQ(ML_EINVAL, both.rc);
	Trace order("STD-1P-01", nullptr, "2026-11-02", "2026-11-01");
	EXPECT_EQ(ML_EINVAL, order.rc);
}

} // namespace

/* One step, all or nothing: the traced assets still here are flagged, and a
 * flagged one cannot be issued by anyone until it passes verification again. */
TEST(QualityTrace, FlagForReverificationHoldsTheAssets)
{
	struct db *tech = pgtest_connect(pgtest_as(trace_db(), "mlt_tech"));
	struct db *qa = pgtest_connect(pgtest_as(trace_db(), "mlt_analyst"));
	struct ml_error err = ML_ERROR_INIT;
	size_t n = 0;
	EXPECT_EQ(ML_EPERM,
		  trace_flag(tech, "STD-1P-01", nullptr, "2026-11-01", nullptr, "超差", &n, &err));
	EXPECT_EQ(ML_EINVAL,
		  trace_flag(qa, "STD-1P-01", nullptr, "2026-11-01", nullptr, "", &n, &err));
	ASSERT_EQ(ML_OK, trace_flag(qa, "STD-1P-01", nullptr, "2026-11-01", nullptr,
				    "复校发现标准装置超差", &n, &err))
		<< err.msg;
	/* every traced asset the centre still holds (not returned to the maker, not scrapped) */
	Trace tr("STD-1P-01", nullptr, "2026-11-01");
	std::set<std::string> held;
	for (size_t i = 0; i < tr.t.n; i++)
		if (strcmp(tr.t.rows[i].asset_state, "returned_to_maker") &&
		    strcmp(tr.t.rows[i].asset_state, "scrapped"))
			held.insert(tr.t.rows[i].barcode);
	EXPECT_GE(held.size(), 2u);
	EXPECT_EQ(held.size(), n);
	ASSERT_EQ(ML_OK,
		  trace_flag(qa, "STD-1P-01", nullptr, "2026-11-01", nullptr, "再次", &n, &err))
		<< err.msg;
	EXPECT_EQ(0u, n) << "flags are not doubled";
	db_close(tech);
	db_close(qa);
	/* position 3 of run 1 (in the central store): not even the owner may issue it */
	struct db *dba = pgtest_connect(trace_db());
	PGresult *res = nullptr;
	ASSERT_EQ(ML_OK, db_query_one(dba,
				      "SELECT a.barcode FROM run_position r JOIN asset a USING "
				      "(asset_id) WHERE r.run_id = 1 AND r.position = 3",
				      0, nullptr, &res, &err))
		<< err.msg;
	std::string bc = PQgetvalue(res, 0, 0);
	PQclear(res);
	const char *p[1] = { bc.c_str() };
	ASSERT_EQ(ML_OK,
		  db_cmd(dba, "UPDATE asset SET state = 'in_stock' WHERE barcode = $1", 1, p, &err))
		<< err.msg;
	EXPECT_EQ(ML_ESTATE,
		  db_cmd(dba, "UPDATE asset SET state = 'issued' WHERE barcode = $1", 1, p, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "flagged for re-verification")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "STD-1P-01")) << err.msg;
	/* verified again: the flag clears, the asset may go */
	ASSERT_EQ(ML_OK, db_cmd(dba, "UPDATE asset SET state = 'verifying' WHERE barcode = $1", 1,
				p, &err))
		<< err.msg;
	ASSERT_EQ(ML_OK, db_cmd(dba,
				"UPDATE asset SET state = 'in_stock', valid_until = "
				"current_date + 365 WHERE barcode = $1",
				1, p, &err))
		<< err.msg;
	EXPECT_EQ(ML_OK,
		  db_cmd(dba, "UPDATE asset SET state = 'issued' WHERE barcode = $1", 1, p, &err))
		<< err.msg;
	db_close(dba);
}
