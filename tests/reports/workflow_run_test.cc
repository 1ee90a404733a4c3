/* Certificates from a finished run: the runner's tables (inserted directly,
 * tests/reports/workflow_run_fixture.sql) -> cert_doc content -> drafts. */
#include <gtest/gtest.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "reports/cert_source.h"
#include "workflow_support.h"

/* A fresh database holding one finished run (run_id 1) of three meters. */
static std::string run_db(const char *tag)
{
	std::string ci = pgtest_fresh_db(tag);
	wf_script(ci, "tests/reports/workflow_run_fixture.sql");
	return ci;
}

/* Shared by the tests that do not issue through the CLI. */
static std::string shared_run_db()
{
	static const std::string ci = run_db("certsrc");
	return ci;
}

TEST(CertSource, BuildsOneDocumentPerAssetFromTheRun)
{
	struct db *db = pgtest_connect(shared_run_db());
	struct ml_error err = ML_ERROR_INIT;
	struct cert_source *s = nullptr;
	ASSERT_EQ(ML_OK, cert_source_load(db, 1, &s, &err)) << err.msg;
	ASSERT_EQ(3u, cert_source_count(s));

	const struct cert_doc *pass = cert_source_doc(s, 0);
	EXPECT_EQ(CERT_KIND_CERTIFICATE, pass->kind);
	EXPECT_STREQ("合格", pass->conclusion);
	EXPECT_STREQ("4130001000000446529641", pass->barcode);
	EXPECT_STREQ("单相费控智能电能表", pass->instrument);
	EXPECT_STREQ("DDZY285-Z", pass->model);
	EXPECT_STREQ("220V 5(60)A 1200imp/kWh 直接接入", pass->spec);
	EXPECT_STREQ("示范电气有限公司", pass->manufacturer);
	EXPECT_STREQ("JJG 596-2012 电子式交流电能表", pass->regulation);
	EXPECT_STREQ("1级", pass->accuracy_class);
	EXPECT_STREQ("2026-11-20", pass->verified_on);
	EXPECT_STREQ("2034-11-19", pass->valid_until);
	EXPECT_STREQ("单相电能表检定装置1号", pass->place);
	/* Ambient conditions recorded on the run (0033) reach the inner page. */
	EXPECT_STREQ("21.2 ℃", pass->temperature);
	EXPECT_STREQ("53.0 %RH", pass->humidity);
	EXPECT_STREQ("R1-01", pass->record_no);
	EXPECT_EQ(nullptr, pass->verifier) << "the verifier is whoever drafts, not the run's text";
	EXPECT_STREQ("示范省电力公司", pass->client);
	ASSERT_EQ(1u, pass->n_standards);
	EXPECT_STREQ("国量标[2025]第0417号", pass->standards[0].cert_no);
	EXPECT_STREQ("2027-06-30", pass->standards[0].valid_until);
	EXPECT_STREQ("0.05级", pass->standards[0].accuracy);
	ASSERT_EQ(3u, pass->n_items);
	EXPECT_STREQ("潜动试验", pass->items[0].name);
	EXPECT_STREQ("起动试验", pass->items[1].name);
	EXPECT_STREQ("0 个脉冲（限值 ≤1）", pass->items[0].detail)
		<< "the default limit of creep.max_pulses";
	EXPECT_STREQ("3 个脉冲（限值 ≥1）", pass->items[1].detail);
	EXPECT_STREQ("基本误差", pass->items[2].name);
	ASSERT_EQ(2u, pass->n_errors);
	/* Exactly the judged decimals: mean to 4 places, rounded to the 0.1 interval. */
	EXPECT_STREQ("Imax", pass->errors[0].load);
	EXPECT_STREQ("60 A", pass->errors[0].current);
	EXPECT_STREQ("1.0", pass->errors[0].pf);
	EXPECT_STREQ("合元", pass->errors[0].element);
	EXPECT_STREQ("-0.1691 | -0.1719", pass->errors[0].readings);
	EXPECT_STREQ("-0.1705", pass->errors[0].mean);
	EXPECT_STREQ("-0.2", pass->errors[0].rounded);
	EXPECT_STREQ("±1.0", pass->errors[0].limit);
	EXPECT_STREQ("合格", pass->errors[0].verdict);
	EXPECT_STREQ("0.1Ib", pass->errors[1].load);
	EXPECT_STREQ("0.5 A", pass->errors[1].current);
	EXPECT_STREQ("0.5L", pass->errors[1].pf);
	EXPECT_STREQ("+0.4", pass->errors[1].rounded);

	const struct cert_doc *fail = cert_source_doc(s, 1);
	EXPECT_EQ(CERT_KIND_NOTICE, fail->kind);
	EXPECT_STREQ("不合格", fail->conclusion);
	EXPECT_EQ(nullptr, fail->valid_until) << "a notice has no validity";
	EXPECT_STREQ("不合格", fail->items[2].conclusion);
	EXPECT_STREQ("+1.2", fail->errors[1].rounded);
	EXPECT_STREQ("不合格", fail->errors[1].verdict);
	EXPECT_EQ(nullptr, cert_source_doc(s, 3));
	cert_source_free(s);

	EXPECT_EQ(ML_ENOTFOUND, cert_source_load(db, 99, &s, &err));
	db_close(db);
}

/* JJG 313-2010 current transformer: ratio error and phase displacement rows. */
TEST(CertSource, CurrentTransformerRun)
{
	struct db *db = pgtest_connect(shared_run_db());
	struct ml_error err = ML_ERROR_INIT;
	std::string run = wf_scalar(
		db, "SELECT run_id FROM verification_run WHERE scheme_code = 'JJG313-CT'");
	struct cert_source *s = nullptr;
	ASSERT_EQ(ML_OK, cert_source_load(db, atoll(run.c_str()), &s, &err)) << err.msg;
	ASSERT_EQ(1u, cert_source_count(s));
	const struct cert_doc *d = cert_source_doc(s, 0);
	EXPECT_EQ(CERT_KIND_CERTIFICATE, d->kind);
	EXPECT_STREQ("JJG 313-2010 测量用电流互感器", d->regulation);
	EXPECT_STREQ("100/5A 10VA", d->spec);
	EXPECT_STREQ("0.2S级", d->accuracy_class);
	EXPECT_STREQ("2036-11-20", d->valid_until);
	EXPECT_EQ(0u, d->n_errors);
	ASSERT_EQ(2u, d->n_items);
	EXPECT_STREQ("比值差", d->items[0].name);
	EXPECT_STREQ("相位差", d->items[1].name);
	ASSERT_EQ(2u, d->n_xfmr);
	EXPECT_STREQ("5%", d->xfmr[0].percent);
	EXPECT_STREQ("2.5 VA", d->xfmr[0].burden) << "25 % of the rated 10 VA";
	EXPECT_STREQ("+0.12", d->xfmr[0].ratio_error) << "rounded to the 0.02 interval";
	EXPECT_STREQ("+4", d->xfmr[0].phase);
	EXPECT_STREQ("±0.35", d->xfmr[0].ratio_limit);
	EXPECT_STREQ("±15", d->xfmr[0].phase_limit);
	EXPECT_STREQ("合格", d->xfmr[0].verdict);
	EXPECT_STREQ("100%", d->xfmr[1].percent);
	EXPECT_STREQ("+0.02", d->xfmr[1].ratio_error);
	cert_source_free(s);
	db_close(db);
}

/*
 * A transformer's limits print as the regulation's table states them, not
 * rounded to the rounding interval (0366): a class 0.5 CT at 20 % of rated
 * current has ±0.75 % / ±45′ and at 100 % ±0.5 % / ±30′ (IEC 61869-2 /
 * JJG 313-2010, domain.md §2.1). Rounded at 0.1 % and 6′ (one fifth of
 * the limit at rated: setting xfmr.round_fraction 20), the results print
 * with those decimals and the limits exactly: ±0.75 (was ±0.8).
 */
TEST(CertSource, TransformerLimitsPrintExactlyAsTheTableStatesThem)
{
	std::string ci = run_db("certlim");
	wf_people p(ci);
	struct ml_error err = ML_ERROR_INIT;
	std::string run = wf_scalar(
		p.admin, "SELECT run_id FROM verification_run WHERE scheme_code = 'JJG313-CT'");
	/* the fixture's CT becomes a class 0.5 CT verified at 20 % and 100 % (the DBA, around
	 * the results' append-only guard) */
	PGresult *res = PQexec(
		db_conn(p.admin),
		("SET session_replication_role = replica; "
		 "UPDATE device_model SET accuracy_class = '0.5' WHERE code = 'LMZJ1-0.5'; "
		 "UPDATE run_step_result s SET label = v.label, limit_e4 = v.lim, internal_limit_e4 = v.lim, "
		 "interval_e4 = 1000, rounded_e4 = v.r, limit2_e4 = v.lim2, internal_limit2_e4 = v.lim2, "
		 "interval2_e4 = 60000, rounded2_e4 = v.r2 FROM (VALUES (0, 'CT 20% 25%VA', 7500, 1000, "
		 "450000, 60000), (1, 'CT 100% 25%VA', 5000, 0, 300000, 0)) v(step_no, label, lim, r, lim2, r2) "
		 "WHERE s.run_id = " +
		 run + " AND s.step_no = v.step_no; SET session_replication_role = DEFAULT")
			.c_str());
	ASSERT_EQ(PGRES_COMMAND_OK, PQresultStatus(res)) << PQerrorMessage(db_conn(p.admin));
	PQclear(res);
	struct cert_source *s = nullptr;
	ASSERT_EQ(ML_OK, cert_source_load(p.admin, atoll(run.c_str()), &s, &err)) << err.msg;
	const struct cert_doc *d = cert_source_doc(s, 0);
	ASSERT_EQ(2u, d->n_xfmr);
	EXPECT_STREQ("20%", d->xfmr[0].percent);
	EXPECT_STREQ("+0.1", d->xfmr[0].ratio_error) << "results: the interval's decimals";
	EXPECT_STREQ("+6", d->xfmr[0].phase);
	EXPECT_STREQ("±0.75", d->xfmr[0].ratio_limit) << "the table's 0.75, not 0.8";
	EXPECT_STREQ("±45", d->xfmr[0].phase_limit);
	EXPECT_STREQ("±0.5", d->xfmr[1].ratio_limit);
	EXPECT_STREQ("±30", d->xfmr[1].phase_limit);
	cert_source_free(s);
	/* an exact limit with at least the interval's decimals (0.20 at 0.02, 1.0 at 0.1) */
	EXPECT_EQ("±0.20|±1.0|±13.3333|±1.50",
		  wf_scalar(p.admin,
			    "SELECT cert_limit_text(2000, 200) || '|' || cert_limit_text(10000, "
			    "1000) || '|' || cert_limit_text(133333, 10000) || '|' || "
			    "cert_limit_text(15000, 500)"));

	/* printed: the issued certificate's table */
	const char *iss = wf_issuer(p.admin, "XL");
	long long *ids = nullptr;
	size_t n = 0, created = 0;
	ASSERT_EQ(ML_OK,
		  cert_source_drafts(p.tech, atoll(run.c_str()), iss, &ids, &n, &created, &err))
		<< err.msg;
	std::vector<long long> v(ids, ids + n);
	free(ids);
	ASSERT_EQ(1u, v.size());
	ASSERT_EQ(ML_OK, cert_check(p.checker, v.data(), v.size(), &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(p.approver, v, &err)) << err.msg;
	std::string text = wf_pdf_text(p.admin, v[0], "xfmr-limits");
	EXPECT_NE(std::string::npos, text.find("±0.75")) << text;
	EXPECT_NE(std::string::npos, text.find("±45")) << text;
	EXPECT_NE(std::string::npos, text.find("±30")) << text;
	EXPECT_EQ(std::string::npos, text.find("±0.8")) << text;
}

/* The runner's English notes and the measured quantities print in Chinese
 * metrology wording (migration 0045 cert_note_text), with the judged decimals. */
TEST(CertSource, DetailsPrintInChineseMetrologyWording)
{
	std::string ci = run_db("certzh");
	struct db *db = pgtest_connect(ci);
	/* Run 1 gets a constant test (step 4), a clock test (step 5) and a third
	 * basic point (step 6); the notes are the runner's exact strings
	 * (lab/runner.c fault_note/observe, lab/manual.c) and a judge error. */
	PGresult *res = PQexec(
		db_conn(db),
		"INSERT INTO run_step_result (asset_id, run_id, step_no, position, kind, label, n_readings, mean_e4, "
		"rounded_e4, pulses, limit_e4, interval_e4, gamma_e4, verdict, internal_verdict, note, measured_at) "
		"SELECT p.asset_id, 1, s.step_no, p.position, s.kind, s.kind, s.n, s.mean, s.rnd, s.pulses, s.lim, s.intv, "
		"s.gamma, s.verdict, 'none', s.note, timestamptz '2026-11-20 09:00:00+08' FROM run_position p JOIN "
		"(VALUES (1, 4, 'constant', 0, NULL::bigint, NULL::bigint, 1200::bigint, 10000::bigint, NULL::bigint, "
		"  1000::bigint, 'pass', ''), "
		" (1, 5, 'clock', 3, 1234, 1200, NULL, 5000, 100, NULL, 'pass', 'manual'), "
		" (1, 6, 'basic', 2, 100, 0, NULL, 10000, 1000, NULL, 'pass', ''), "
		" (2, 4, 'constant', 0, NULL, NULL, 0, 10000, NULL, 0, 'fail', ''), "
		" (2, 5, 'clock', 0, NULL, NULL, NULL, NULL, NULL, NULL, 'fail', 'position fault'), "
		" (2, 6, 'basic', 0, NULL, NULL, NULL, NULL, NULL, NULL, 'fail', 'unstable pulses'), "
		" (3, 4, 'constant', 0, NULL, NULL, 0, NULL, NULL, NULL, 'fail', 'no pulses from the meter'), "
		" (3, 5, 'clock', 0, NULL, NULL, NULL, NULL, NULL, NULL, 'fail', "
		"  'step 6 (clock): register increment -1 out of range'), "
		" (3, 6, 'basic', 0, NULL, NULL, NULL, NULL, NULL, NULL, 'fail', 'wiring fault')) "
		"AS s(pos, step_no, kind, n, mean, rnd, pulses, lim, intv, gamma, verdict, note) ON s.pos = p.position "
		"WHERE p.run_id = 1; "
		"INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict) "
		"SELECT p.asset_id, 1, i.item, CASE WHEN p.position = 1 THEN 'pass' ELSE 'fail' END, 'none' "
		"FROM run_position p, (VALUES ('constant'), ('clock')) AS i(item) WHERE p.run_id = 1; "
		/* position 3 fails those items: its overall conclusion is a fail too (the DBA
		 * corrects the fixture's row around its append-only guard) */
		"SET session_replication_role = replica; "
		"UPDATE run_conclusion SET verdict = 'fail', valid_until = NULL WHERE run_id = 1 AND item = "
		"'overall' AND asset_id = (SELECT asset_id FROM run_position WHERE run_id = 1 AND position = 3); "
		"SET session_replication_role = DEFAULT; "
		/* The creep limit was set to 0 pulses a day before the run and to 2 a day after it: the run was judged with 0. */
		"INSERT INTO lab_setting_log (key, old_value, new_value, changed_at) "
		"SELECT 'creep.max_pulses', NULL, '0', started_at - interval '1 day' FROM verification_run WHERE run_id = 1 "
		"UNION ALL SELECT 'creep.max_pulses', '0', '2', started_at + interval '1 day' FROM verification_run "
		"WHERE run_id = 1");
	ASSERT_EQ(PGRES_COMMAND_OK, PQresultStatus(res)) << PQerrorMessage(db_conn(db));
	PQclear(res);
	struct ml_error err = ML_ERROR_INIT;
	struct cert_source *s = nullptr;
	ASSERT_EQ(ML_OK, cert_source_load(db, 1, &s, &err)) << err.msg;
	ASSERT_EQ(3u, cert_source_count(s));
	const char *const want[3][5] = {
		/* creep, start, basic, constant, clock ("manual" marks a manual step: no finding) */
		{ "0 个脉冲（限值 ≤0）", "3 个脉冲（限值 ≥1）", nullptr, "误差 γ=+0.10%",
		  "+0.12 s/d" },
		{ "0 个脉冲（限值 ≤0）", "3 个脉冲（限值 ≥1）", "脉冲输出不稳定", "无脉冲输出",
		  "表位故障" },
		{ "0 个脉冲（限值 ≤0）", "3 个脉冲（限值 ≥1）", "接线故障", "无脉冲输出",
		  "未能判定（见原始记录）" },
	};
	const char *const names[5] = { "潜动试验", "起动试验", "基本误差", "仪表常数试验",
				       "日计时误差" };
	for (size_t i = 0; i < 3; i++) {
		const struct cert_doc *d = cert_source_doc(s, i);
		ASSERT_EQ(5u, d->n_items) << i;
		for (size_t k = 0; k < 5; k++) {
			EXPECT_STREQ(names[k], d->items[k].name) << i << "/" << k;
			EXPECT_STREQ(want[i][k], d->items[k].detail) << i << "/" << k;
		}
	}
	/* Every note lab/runner.c can store has its wording. */
	EXPECT_EQ("表位无被检器具",
		  wf_scalar(db, "SELECT cert_note_text('no device present at the position')"));
	EXPECT_EQ("通信故障", wf_scalar(db, "SELECT cert_note_text('meter communication fault')"));
	EXPECT_EQ("A元", wf_scalar(db, "SELECT cert_element_text('A')"));
	/* A setting never changed: the current row, else the default. */
	EXPECT_EQ("1", wf_scalar(db, "SELECT cert_setting_at('start.min_pulses', now(), '1')"));
	EXPECT_EQ(
		"1",
		wf_scalar(
			db,
			"SELECT cert_setting_at('creep.max_pulses', now() - interval '3 days', '1')"))
		<< "before the first logged change: its old value, NULL = the default";
	EXPECT_EQ(
		"2",
		wf_scalar(
			db,
			"SELECT cert_setting_at('creep.max_pulses', now() + interval '3 days', '1')"));
	cert_source_free(s);
	db_close(db);
}

TEST(CertSource, RefusesUnfinishedRunsAndDraftsOnce)
{
	std::string ci = shared_run_db();
	wf_people p(ci);
	struct ml_error err = ML_ERROR_INIT;
	long long *ids = nullptr;
	size_t n = 0, created = 0;
	ASSERT_EQ(ML_OK, cert_source_drafts(p.tech, 1, nullptr, &ids, &n, &created, &err))
		<< err.msg;
	EXPECT_EQ(3u, n);
	EXPECT_EQ(3u, created);
	std::vector<long long> first(ids, ids + n);
	free(ids);
	/* Again (by another technician): nothing new, the same ids in position order. */
	struct db *tech2 = pgtest_connect(pgtest_as(ci, "mlt_tech2"));
	ASSERT_EQ(ML_OK, cert_source_drafts(tech2, 1, nullptr, &ids, &n, &created, &err))
		<< err.msg;
	EXPECT_EQ(0u, created);
	EXPECT_EQ(first, std::vector<long long>(ids, ids + n));
	free(ids);
	db_close(tech2);
	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(p.tech, first[1], &r, &err));
	EXPECT_EQ(CERT_KIND_NOTICE, r.kind);
	EXPECT_EQ(1, r.run_id);
	EXPECT_STREQ("郑检测", r.verifier) << "the run's operator, not the drafting user (0366)";
	EXPECT_STREQ("mlt_operator", r.verifier_login);
	EXPECT_STREQ("4130001000000461395474", r.barcode);

	/* The whole workflow from the run's drafts, each step by its person. */
	ASSERT_EQ(ML_OK, cert_check(p.checker, first.data(), first.size(), &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(p.approver, first, &err)) << err.msg;
	EXPECT_EQ("3", wf_scalar(p.admin, "SELECT count(*) FROM cert_pdf"));

	/* The database refuses a second original for the same asset and run, even from the DBA. */
	EXPECT_EQ(
		ML_EEXISTS,
		db_cmd(p.admin,
		       "INSERT INTO certificate (asset_id, run_id, issuer_id, kind, barcode, content, verifier, "
		       "verifier_id) SELECT asset_id, run_id, issuer_id, kind, barcode, content, verifier, "
		       "verifier_id FROM certificate WHERE id = 1",
		       0, nullptr, &err));

	/* A run that is not finished gives no certificates. */
	std::string running = wf_scalar(
		p.admin,
		"INSERT INTO verification_run (bench_id, model_id, scheme_code, "
		"scheme_version, scheme_text, mode, status, steps_total, operator) SELECT bench_id, "
		"model_id, scheme_code, scheme_version, scheme_text, mode, 'running', steps_total, "
		"operator FROM verification_run WHERE run_id = 1 RETURNING run_id");
	ASSERT_NE("", running);
	EXPECT_EQ(ML_ESTATE, cert_source_drafts(p.tech, atoll(running.c_str()), nullptr, &ids, &n,
						&created, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "running")) << err.msg;
	EXPECT_EQ(ML_ENOTFOUND, cert_source_drafts(p.tech, 77, nullptr, &ids, &n, &created, &err));
	EXPECT_EQ(ML_ENOTFOUND, cert_source_drafts(p.tech, 1, "NOSUCH", &ids, &n, &created, &err));
}

/* Through the binary, each person runs their own step; the old options that
 * named people are gone. */
TEST(CertSource, IssueRunThroughTheCli)
{
	std::string ci = run_db("certsrccli");
	char tmpl[] = "/tmp/mlcert_XXXXXX";
	ASSERT_NE(nullptr, mkdtemp(tmpl));
	std::string dir = tmpl;
	auto as = [&](const char *login) {
		return pgtest_cli() + " --db " + pgtest_sq(pgtest_as(ci, login)) + " ";
	};
	std::string out;
	EXPECT_EQ(2, pgtest_run(as("mlt_tech") + "cert issue", &out, true));
	EXPECT_EQ(2, pgtest_run(as("mlt_tech") + "cert issue --run 1 --by 张三", &out, true))
		<< out;
	EXPECT_EQ(2,
		  pgtest_run(as("mlt_tech") + "cert issue --run 1 --checker 李四 --approver 王五",
			     &out, true))
		<< out;
	EXPECT_EQ(9, pgtest_run(as("mlt_checker") + "cert issue --run 1", &out, true))
		<< "a checker does not draft: " << out;
	ASSERT_EQ(0, pgtest_run(as("mlt_tech") + "cert issue --run 1 --json", &out)) << out;
	EXPECT_NE(std::string::npos, out.find("\"verifier\":\"郑检测\"")) << out;
	EXPECT_EQ(9, pgtest_run(as("mlt_tech") + "cert check --run 1", &out, true))
		<< "a technician does not check: " << out;
	EXPECT_EQ(2, pgtest_run(as("mlt_checker") + "cert check --run 1 --by 李四", &out, true));
	ASSERT_EQ(0, pgtest_run(as("mlt_checker") + "cert check --run 1", &out, true)) << out;
	EXPECT_EQ(9, pgtest_run(as("mlt_checker") + "cert approve --run 1", &out, true))
		<< "a checker does not approve: " << out;
	EXPECT_EQ(2, pgtest_run(as("mlt_approver") + "cert approve --run 1 --issued-on 2026-11-26",
				&out, true))
		<< "no date option: the server's clock dates it: " << out;
	ASSERT_EQ(0, pgtest_run(as("mlt_approver") + "cert approve --run 1 --out-dir " +
					pgtest_sq(dir) + " --json",
				&out))
		<< out;
	EXPECT_EQ('[', out[0]) << out;
	struct db *db = pgtest_connect(ci);
	for (int i = 1; i <= 3; i++) {
		std::string no = wf_no(db, "JL", i);
		EXPECT_NE(std::string::npos, out.find("\"cert_no\":\"" + no + "\"")) << out;
		std::string path = dir + "/" + no + ".pdf";
		EXPECT_NE(std::string::npos, out.find("\"path\":\"" + path + "\"")) << out;
		std::string v;
		EXPECT_EQ(0, pgtest_run(as("mlt_auditor") + "cert verify " + pgtest_sq(path), &v,
					true))
			<< v;
		EXPECT_NE(std::string::npos, v.find("GENUINE")) << v;
		unlink(path.c_str());
	}
	EXPECT_NE(std::string::npos, out.find("\"kind\":\"notice\"")) << out;
	EXPECT_NE(std::string::npos, out.find("\"approver\":\"刘批准\"")) << out;
	/* Drafting again changes nothing and uses no numbers. */
	ASSERT_EQ(0, pgtest_run(as("mlt_tech") + "cert issue --run 1", &out, true)) << out;
	EXPECT_EQ(std::string::npos, out.find(wf_no(db, "JL", 4))) << out;
	db_close(db);
	rmdir(dir.c_str());
}
