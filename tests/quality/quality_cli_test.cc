/*
 * The quality commands through the built meterlab binary, as the quality
 * analyst (a login of the group meterlab_app, reading what it may read):
 * quality report (PDF + CSV), quality alerts, standard trace, sample plan
 * under each severity, sample select (reproducible, equal to the Python
 * reference), and their refusals with exit codes.
 */
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include "quality_fixture.h"

namespace
{

int ml(const std::string &args, std::string *out, const char *login = "mlt_analyst")
{
	return pgtest_run("env -u METERLAB_DB " + pgtest_cli() + " --db " +
				  pgtest_sq(pgtest_as(quality_db(), login)) + " " + args,
			  out, true);
}

bool has(const std::string &out, const std::string &s)
{
	return out.find(s) != std::string::npos;
}

TEST(QualityCli, ReportWritesPdfAndCsv)
{
	std::string dir = std::string(ML_BINARY_DIR) + "/tests/quality-render";
	mkdir(dir.c_str(), 0777);
	std::string pdf = dir + "/cli-report.pdf", csv = dir + "/cli-csv";
	std::string out;
	ASSERT_EQ(0, ml("quality report --from 2026-11-01 --to 2026-12-31 --out " + pgtest_sq(pdf) +
				" --csv " + pgtest_sq(csv),
			&out))
		<< out;
	EXPECT_TRUE(has(out, "570 verified, 15 failed (2.63 %); 6 faults in 18459 asset-days "
			     "(118.72 per 1000 asset-years); 5 alerts"))
		<< out;
	std::string check;
	EXPECT_EQ(0, pgtest_run("qpdf --check " + pgtest_sq(pdf), &check, true)) << check;
	std::ifstream f(csv + "/verdicts.csv");
	std::stringstream ss;
	ss << f.rdbuf();
	EXPECT_TRUE(has(ss.str(), "model,MB-1,单相表B,MB,150,139,11,11,7.33")) << ss.str();
	/* JSON summary; a maker filter */
	ASSERT_EQ(0,
		  ml("--json quality report --from 2026-11-01 --to 2026-12-31 --maker MB --out " +
			     pgtest_sq(dir + "/cli-mb.pdf"),
		     &out))
		<< out;
	EXPECT_TRUE(has(out, "\"verified\":150,\"failed\":11,\"fail_rate_pct\":\"7.33\"")) << out;
}

TEST(QualityCli, ReportRefusals)
{
	std::string out;
	EXPECT_EQ(2, ml("quality report --from 2026-11-01 --to 2026-12-31", &out)) << out;
	EXPECT_TRUE(has(out, "--out")) << out;
	EXPECT_EQ(3, ml("quality report --from 2026-11-31 --to 2026-12-31 --out /tmp/x.pdf", &out));
	EXPECT_TRUE(has(out, "'2026-11-31'")) << out;
	EXPECT_EQ(
		4,
		ml("quality report --from 2026-11-01 --to 2026-12-31 --maker NONE --out /tmp/x.pdf",
		   &out));
	EXPECT_EQ(3,
		  ml("quality report --from 2026-11-01 --to 2026-12-31 --method bonferroni --out "
		     "/tmp/x.pdf",
		     &out));
	EXPECT_TRUE(has(out, "'bonferroni'")) << out;
	EXPECT_EQ(
		7,
		ml("quality report --from 2026-11-01 --to 2026-12-31 --out /nonexistent/dir/x.pdf",
		   &out));
}

TEST(QualityCli, AlertsNameTheFiguresThatFlagged)
{
	std::string out;
	ASSERT_EQ(0, ml("quality alerts --from 2026-11-01 --to 2026-12-31", &out)) << out;
	EXPECT_TRUE(has(out, "5 of 23 units flagged (holm, alpha 0.05")) << out;
	EXPECT_TRUE(has(out, "LB2")) << out;
	EXPECT_TRUE(has(out, "10/50")) << out;
	EXPECT_TRUE(has(out, "20.00")) << out;
	EXPECT_TRUE(has(out, "7.15e-05")) << out;
	EXPECT_TRUE(has(out, "5/400")) << out;
	EXPECT_FALSE(has(out, "LA1")) << out;
	ASSERT_EQ(0, ml("quality alerts --from 2026-11-01 --to 2026-12-31 --all", &out)) << out;
	EXPECT_TRUE(has(out, "LA1")) << out;
	EXPECT_TRUE(has(out, "not tested")) << out;
	ASSERT_EQ(
		0,
		ml("--json quality alerts --from 2026-11-01 --to 2026-12-31 --method bh --alpha 0.01",
		   &out))
		<< out;
	EXPECT_TRUE(has(out, "\"method\":\"bh\",\"alpha\":\"0.01\"")) << out;
	EXPECT_TRUE(has(
		out,
		"\"key\":\"LB2\",\"peer\":\"MB-1\",\"n\":50,\"x\":10,\"peer_n\":100,\"peer_x\":1"))
		<< out;
	EXPECT_EQ(3, ml("quality alerts --from 2026-11-01 --to 2026-12-31 --alpha 1.5", &out));
}

TEST(QualityCli, SamplePlanUnderEachSeverity)
{
	std::string out;
	ASSERT_EQ(0, ml("sample plan --lot-size 2400 --aql 1.0 --severity tightened", &out)) << out;
	EXPECT_TRUE(has(out, "tightened inspection, single sampling, Table 2-B")) << out;
	EXPECT_TRUE(has(out, "accept (Ac)   2")) << out;
	ASSERT_EQ(0, ml("--json sample plan --lot-size 2400 --aql 1.0 --severity reduced", &out))
		<< out;
	EXPECT_TRUE(has(out, "\"inspection\":\"reduced\"")) << out;
	EXPECT_TRUE(has(out, "\"sample_size\":50,\"ac\":2,\"re\":3")) << out;
	EXPECT_TRUE(has(out, "\"unverified\":true")) << out;
	EXPECT_EQ(3, ml("sample plan --lot-size 2400 --aql 1.0 --severity strict", &out));
}

TEST(QualityCli, SampleSelectIsReproducible)
{
	const std::string seed = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	std::string a, b;
	ASSERT_EQ(0, ml("sample select --lot LB2 --aql 1.0 --seed " + seed, &a)) << a;
	ASSERT_EQ(0, ml("sample select --lot LB2 --aql 1.0 --seed " + seed, &b)) << b;
	EXPECT_EQ(a, b);
	/* lot 50, level II: code letter D; at 1.0 an arrow down to E (n 13, 0/1) */
	EXPECT_TRUE(has(a, "lot LB2: 50 assets")) << a;
	EXPECT_TRUE(has(a, "seed " + seed)) << a;
	/* the same selection from the independent Python reference over the lot's list */
	std::string list, py;
	ASSERT_EQ(
		0,
		pgtest_run(
			"psql " + pgtest_sq(quality_db()) +
				" -Atc \"SELECT a.barcode FROM asset a JOIN lot l USING (lot_id) WHERE "
				"l.code = 'LB2'\" > /tmp/ml-lb2.txt",
			&list, true))
		<< list;
	std::string json;
	ASSERT_EQ(0, ml("--json sample select --lot LB2 --size 8 --seed " + seed, &json)) << json;
	ASSERT_EQ(0, pgtest_run("/usr/bin/python3 " +
					pgtest_sq(pgtest_src("tests/lab/sampling_draw_ref.py")) +
					" lot " + seed + " 8 < /tmp/ml-lb2.txt",
				&py, true))
		<< py;
	std::istringstream in(py);
	int lines = 0;
	for (std::string l; std::getline(in, l); lines++)
		EXPECT_TRUE(has(json, "\"" + l + "\"")) << l << " in " << json;
	EXPECT_EQ(8, lines);
	/* a fresh seed is printed, and differs */
	std::string c;
	ASSERT_EQ(0, ml("sample select --lot LB2 --size 3", &c)) << c;
	EXPECT_FALSE(has(c, "seed " + seed)) << c;
	EXPECT_EQ(4, ml("sample select --lot NOPE --size 3", &c));
	EXPECT_EQ(3, ml("sample select --lot LB2 --size 51", &c)) << c;
	EXPECT_EQ(3, ml("sample select --lot LB2 --size 3 --seed xyz", &c)) << c;
	EXPECT_EQ(2, ml("sample select --lot LB2", &c)) << c;
}

TEST(QualityCli, StandardTraceTextJsonCsv)
{
	std::string out;
	ASSERT_EQ(0, ml("standard trace STD-B --since 2026-11-01", &out)) << out;
	EXPECT_TRUE(has(out, "standard STD-B, runs dated 2026-11-01 .. today: 4 runs, 170 assets"))
		<< out;
	ASSERT_EQ(0, ml("standard trace --bench B3 --since 2026-11-01 --csv", &out)) << out;
	EXPECT_EQ(0u, out.find("run_id,run_date,run_status,bench")) << out;
	ASSERT_EQ(0, ml("--json standard trace STD-A --since 2026-12-01 --until 2026-12-31", &out))
		<< out;
	EXPECT_TRUE(has(
		out,
		"\"standard\":\"STD-A\",\"since\":\"2026-12-01\",\"until\":\"2026-12-31\",\"runs\":2"))
		<< out;
	EXPECT_EQ(2, ml("standard trace STD-A --bench B1 --since 2026-11-01", &out));
	EXPECT_EQ(2, ml("standard trace --since 2026-11-01", &out));
	EXPECT_EQ(4, ml("standard trace NOPE --since 2026-11-01", &out));
	EXPECT_EQ(3, ml("standard trace STD-A --since yesterday", &out));
}

} // namespace
