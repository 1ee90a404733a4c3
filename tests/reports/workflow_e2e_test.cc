/*
 * End to end: a real run on the bench simulator (Modbus TCP on 127.0.0.1)
 * through the lab runner into PostgreSQL, then certificates and result
 * notices from that run, issued, stored and verified.
 */
#include <gtest/gtest.h>

#include <string.h>

#include "../lab/runner_fixture.h"
#include "reports/cert_source.h"
#include "workflow_support.h"

using rfx::one;

namespace
{

const char *const kScheme = "scheme code=CERT-1P name=\"certificate e2e\"\n"
			    "suits kinds=meter_1p classes=1 connection=direct\n"
			    "creep\n"
			    "start\n"
			    "basic I=Imax pf=1.0 element=H readings=2\n"
			    "basic I=Ib pf=0.5L element=H readings=2\n"
			    "basic I=0.1Ib pf=1.0 element=H readings=2\n"
			    "clock readings=3\n";

} // namespace

TEST(CertEndToEnd, CertificatesAndNoticesFromASimulatedRun)
{
	std::string ci = pgtest_fresh_db("certe2e");
	struct db *db = pgtest_connect(ci); /* the DBA: fixtures, and certificates until part B */
	std::string tech_ci = pgtest_as(ci, "mlt_tech");
	struct db *tech = pgtest_connect(tech_ci);
	rfx::add_standard(ci, "STD-E2E", "2020-01-01", "2099-12-31");
	rfx::set_rule(ci, "clock.readings",
		      "3"); /* this lab's rule, so the scheme below is not looser */
	rfx::add_scheme(ci, kScheme);
	struct benchsim *sim = rfx::start_sim(
		"kind meter\npositions 6\n[1-6]\nconstant 1200\nib 5\nerror 0.05\n"
		"[2]\nerror 1.5\n[4]\ndefect dead\n",
		5000);
	ASSERT_TRUE(sim);
	rfx::add_bench(ci, "BE2E", benchsim_port(sim), 6, "STD-E2E");
	auto bcs = rfx::seed_assets(db, 6, 52000);
	int64_t run = rfx::create_task(tech, "BE2E", "CERT-1P", bcs);
	db_close(tech);
	ASSERT_GT(run, 0);
	struct runner_options o = rfx::fast_options();
	struct runner_outcome out;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, runner_execute(tech_ci.c_str(), run, &o, &out, &err)) << err.msg;
	benchsim_stop(sim);
	ASSERT_EQ(4, out.passed);
	ASSERT_EQ(2, out.failed);

	/* Content: what the run judged, as the run stored it. */
	struct cert_source *s = nullptr;
	ASSERT_EQ(ML_OK, cert_source_load(db, run, &s, &err)) << err.msg;
	ASSERT_EQ(6u, cert_source_count(s));
	int certs = 0, notices = 0;
	for (size_t i = 0; i < cert_source_count(s); i++) {
		const struct cert_doc *d = cert_source_doc(s, i);
		EXPECT_EQ(bcs[i], d->barcode) << "position order";
		certs += d->kind == CERT_KIND_CERTIFICATE;
		notices += d->kind == CERT_KIND_NOTICE;
		EXPECT_EQ(3u, d->n_errors) << d->barcode;
		ASSERT_GE(d->n_items, 3u) << d->barcode;
		EXPECT_STREQ("潜动试验", d->items[0].name);
		ASSERT_EQ(1u, d->n_standards);
		EXPECT_STREQ("CAL-STD-E2E", d->standards[0].cert_no);
	}
	EXPECT_EQ(4, certs);
	EXPECT_EQ(2, notices);
	const struct cert_doc *bad = cert_source_doc(s, 1); /* +1.5 % on a class 1 meter */
	EXPECT_EQ(CERT_KIND_NOTICE, bad->kind);
	EXPECT_STREQ("Imax", bad->errors[0].load);
	EXPECT_STREQ("60 A", bad->errors[0].current);
	EXPECT_STREQ("不合格", bad->errors[0].verdict);
	/* The printed rounded value is the stored one, to the interval's decimals. */
	std::string rounded = one(
		db,
		"SELECT cert_fmt_e4(rounded_e4, cert_e4_places(interval_e4)) FROM run_step_result s "
		"JOIN asset a USING (asset_id) WHERE s.run_id = " +
			std::to_string(run) + " AND s.kind = 'basic' AND a.barcode = '" + bcs[1] +
			"' ORDER BY step_no LIMIT 1");
	EXPECT_EQ(rounded, bad->errors[0].rounded);
	EXPECT_EQ('+', bad->errors[0].rounded[0]) << bad->errors[0].rounded;
	/* The dead meter could not be judged: the runner's note explains the failed item. */
	const struct cert_doc *dead = cert_source_doc(s, 3);
	EXPECT_EQ(CERT_KIND_NOTICE, dead->kind);
	EXPECT_STREQ("基本误差", dead->items[2].name);
	EXPECT_STREQ("不合格", dead->items[2].conclusion);
	std::string note = one(
		db, "SELECT string_agg(DISTINCT note, '; ') FROM run_step_result s JOIN asset a "
		    "USING (asset_id) WHERE s.run_id = " +
			    std::to_string(run) +
			    " AND s.kind = 'basic' "
			    "AND note <> '' AND a.barcode = '" +
			    bcs[3] + "'");
	/* ... in Chinese metrology wording, never the runner's English note. */
	EXPECT_EQ("no pulses from the meter", note);
	ASSERT_NE(nullptr, dead->items[2].detail);
	EXPECT_STREQ("无脉冲输出", dead->items[2].detail);
	for (size_t i = 0; i < cert_source_count(s); i++) {
		const struct cert_doc *d = cert_source_doc(s, i);
		for (size_t k = 0; k < d->n_items; k++) {
			std::string t = d->items[k].detail ? d->items[k].detail : "";
			size_t u = t.find(
				" s/d"); /* the unit of the daily clock error is printed as s/d */
			if (u != std::string::npos)
				t.erase(u, 4);
			EXPECT_EQ(std::string::npos,
				  t.find_first_of(
					  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
				<< d->barcode << " item " << d->items[k].name << ": "
				<< d->items[k].detail;
		}
	}
	EXPECT_EQ(nullptr, dead->errors[0].rounded) << "nothing judged, nothing printed";
	const struct cert_doc *good = cert_source_doc(s, 0);
	EXPECT_EQ(CERT_KIND_CERTIFICATE, good->kind);
	EXPECT_EQ(one(db, "SELECT valid_until::text FROM asset WHERE barcode = '" + bcs[0] + "'"),
		  good->valid_until);
	EXPECT_EQ(nullptr, good->verifier) << "signed by whoever drafts";
	cert_source_free(s);

	/* Drafts -> checked -> issued, each by its person, then each stored PDF verifies as current. */
	wf_people p(ci);
	std::vector<long long> v = wf_drafts(p.tech, run);
	ASSERT_EQ(6u, v.size());
	EXPECT_EQ(ML_EPERM, cert_check(p.tech, v.data(), v.size(), &err))
		<< "a technician does not check";
	ASSERT_EQ(ML_OK, cert_check(p.checker, v.data(), v.size(), &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(p.approver, v, &err)) << err.msg;
	for (long long id : v) {
		struct ml_buf pdf = ML_BUF_INIT;
		ASSERT_EQ(ML_OK, cert_pdf_get(db, id, &pdf, nullptr, &err)) << err.msg;
		if (id == v[3]) {
			/* The dead meter's result notice as printed: the Chinese detail is on the page. */
			std::string path = std::string(ML_BINARY_DIR) +
					   "/tests/reports-e2e-dead.pdf";
			FILE *f = fopen(path.c_str(), "wb");
			ASSERT_NE(nullptr, f);
			fwrite(pdf.data, 1, pdf.len, f);
			fclose(f);
			std::string text;
			ASSERT_EQ(0, pgtest_run("pdftotext -enc UTF-8 " + pgtest_sq(path) + " -",
						&text));
			EXPECT_NE(std::string::npos, text.find("检定结果通知书")) << text;
			EXPECT_NE(std::string::npos, text.find("无脉冲输出")) << text;
			EXPECT_EQ(std::string::npos, text.find("pulses")) << text;
			EXPECT_EQ(std::string::npos, text.find("fault")) << text;
		}
		struct cert_verify_result vr;
		ASSERT_EQ(ML_OK, cert_verify_pdf(db, pdf.data, pdf.len, &vr, &err)) << err.msg;
		EXPECT_EQ(CERT_VERIFY_CURRENT, vr.status);
		EXPECT_EQ(id, vr.match.id);
		ml_buf_free(&pdf);
	}
	EXPECT_EQ(
		"2",
		one(db,
		    "SELECT count(*) FROM certificate WHERE kind = 2 AND state = 'issued' AND run_id = " +
			    std::to_string(run)));
	db_close(db);
}
