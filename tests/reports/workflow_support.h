/* Shared fixtures of the certificate workflow tests (tests/reports/workflow_*.cc). */
#ifndef ML_TEST_WORKFLOW_SUPPORT_H
#define ML_TEST_WORKFLOW_SUPPORT_H

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "reports/cert_doc.h"
#include "reports/cert_store.h"
#include "reports/cert_verify.h"
#include "reports/cert_workflow.h"

/* A plausible single-phase meter certificate (domain.md §6.1, Henan sample). */
struct wf_doc {
	std::string barcode;
	struct cert_item items[3];
	struct cert_error_row errors[2];
	struct cert_standard standard;
	struct cert_doc doc;

	explicit wf_doc(const std::string &bc, bool pass = true, const char *verifier = "张三")
	    : barcode(bc)
	{
		items[0] = { "潜动试验", "合格", "0 pulses in 37.9 min" };
		items[1] = { "起动试验", "合格", nullptr };
		items[2] = { "基本误差", pass ? "合格" : "不合格", nullptr };
		errors[0] = { "Imax",    "60 A", "1.0",  "合元", "-0.1691 | -0.1719",
			      "-0.1705", "-0.2", "±1.0", "合格" };
		errors[1] = { "0.1Ib", "0.5 A",         "0.5L",
			      "合元",  "+0.41 | +0.43", "+0.420",
			      "+0.4",  "±1.0",          pass ? "合格" : "不合格" };
		standard = { "单相交流电能表标准装置", "220V (0.1~100)A", "0.05级",
			     "国量标[2024]第0001号", "2027-06-30" };
		doc = {};
		doc.kind = pass ? CERT_KIND_CERTIFICATE : CERT_KIND_NOTICE;
		doc.record_no = "R-2026-0001";
		doc.client = "示范市供电公司 \"营销部\"";
		doc.instrument = "单相费控智能电能表";
		doc.model = "DDZY285-Z";
		doc.spec = "220V 5(60)A 1200imp/kWh 直接接入";
		doc.barcode = barcode.c_str();
		doc.manufacturer = "示范电气有限公司";
		doc.regulation = "JJG 596-2012 电子式交流电能表";
		doc.accuracy_class = "1级";
		doc.conclusion = pass ? "合格" : "不合格";
		doc.verifier = verifier;
		doc.verified_on = "2026-11-20";
		doc.valid_until = pass ? "2034-11-19" : nullptr;
		doc.place = "计量中心2楼单相电能表流水线";
		doc.temperature = "21.2 ℃";
		doc.humidity = "53 %RH";
		doc.standards = &standard;
		doc.n_standards = 1;
		doc.items = items;
		doc.n_items = 3;
		doc.errors = errors;
		doc.n_errors = 2;
	}
};

/* 22-digit barcodes with a valid GS1-style check digit (domain.md §5.2). */
inline std::string wf_barcode(long serial)
{
	char body[32];
	snprintf(body, sizeof(body), "4130001%014ld", serial);
	int sum = 0;
	for (int i = 0; i < 21; i++)
		sum += (body[i] - '0') * (i % 2 == 0 ? 3 : 1);
	std::string s(body);
	s += (char)('0' + (10 - sum % 10) % 10);
	return s;
}

inline long long wf_draft(struct db *db, long long asset_id, const std::string &bc,
			  bool pass = true, const char *issuer = nullptr,
			  const char *verifier = "张三")
{
	wf_doc d(bc, pass, verifier);
	long long id = 0;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, cert_draft_create(db, asset_id, 0, issuer, &d.doc, nullptr, &id, &err))
		<< err.msg;
	return id;
}

/* One database for the workflow tests of this binary (creating and
 * migrating one costs seconds); tests keep apart by issuer and asset ids. */
inline std::string wf_db()
{
	static const std::string ci = pgtest_fresh_db("certwf");
	return ci;
}

/* An issuing body of the test's own (id = number prefix = code), so its
 * certificate numbers start at 1 whatever other tests issued. Admin connection. */
inline const char *wf_issuer(struct db *db, const char *code)
{
	const char *p[1] = { code };
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(
		ML_OK,
		db_cmd(db,
		       "INSERT INTO issuer (id, name, authorization_no, number_prefix, verify_key) "
		       "VALUES ($1, '测试计量中心 ' || $1, '(测)法计(2026)0' || $1 || '号', $1, repeat('k', 40))",
		       1, p, &err))
		<< err.msg;
	return code;
}

/* One renderer for the whole test binary (font parsing is the slow part). */
struct cert_renderer *wf_renderer();

/* Approve with the shared renderer; issue date fixed for reproducible PDFs. */
inline int wf_approve(struct db *db, const std::vector<long long> &ids, const char *approver,
		      struct ml_error *err, const char *date = "2026-11-26")
{
	struct cert_renderer *r = wf_renderer();
	struct cert_issue_opts o = { date, &r, 1 };
	return cert_approve(db, ids.data(), ids.size(), approver, &o, err);
}

inline std::string wf_scalar(struct db *db, const std::string &sql)
{
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_query_one(db, sql.c_str(), 0, nullptr, &res, &err))
		<< err.msg << " in " << sql;
	std::string v = res && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "";
	PQclear(res);
	return v;
}

#endif
