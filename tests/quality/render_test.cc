/*
 * The quality report PDF of the constructed data, opened with real tools as
 * the certificate tests do: qpdf --check, pdffonts (one embedded subset
 * TrueType font with ToUnicode), pdfinfo (A4), pdftotext (titles and the
 * exact figures), every glyph's outline (tests/reports/render_glyphs.py),
 * and no overlapping or out-of-frame text (tests/reports/check_layout.py).
 * The files stay in build/tests/quality-render/ for a look (pdftoppm).
 */
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <string>

#include "quality_fixture.h"

extern "C" {
#include "quality/alerts.h"
#include "quality/quality.h"
#include "reports/quality_render.h"
}

namespace
{

std::string out_dir()
{
	std::string d = std::string(ML_BINARY_DIR) + "/tests/quality-render";
	mkdir(d.c_str(), 0777);
	return d;
}

std::string sh(const std::string &cmd, int *rc = nullptr)
{
	std::string out;
	int r = pgtest_run(cmd, &out, true);
	if (rc)
		*rc = r;
	return out;
}

/* The report of the fixture (with its alerts) written to build/tests/quality-render/NAME. */
std::string render(const char *name, const char *from, const char *to, const char *maker = nullptr)
{
	struct db *db = pgtest_connect(quality_db());
	struct quality_report r;
	struct quality_filter f = { from, to, maker, nullptr };
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, quality_report_load(db, &f, &r, &err)) << err.msg;
	struct quality_unit *u = nullptr;
	struct quality_alert *a = nullptr;
	size_t n = 0;
	EXPECT_EQ(ML_OK, quality_alert_units_load(db, from, to, &u, &n, &err)) << err.msg;
	struct quality_alert_opts ao = { "0.05", QUALITY_HOLM };
	EXPECT_EQ(ML_OK, quality_alerts_compute(u, n, &ao, &a, &err)) << err.msg;
	struct quality_render_opts o = {};
	o.issuer = "示范省电力公司计量中心";
	o.created = "2027-01-02";
	o.alerts = a;
	o.n_alerts = n;
	o.alert_method = "holm";
	o.alpha = "0.05";
	struct ml_buf pdf = ML_BUF_INIT;
	EXPECT_EQ(ML_OK, quality_render(&r, &o, &pdf, &err)) << err.msg;
	std::string path = out_dir() + "/" + name;
	std::ofstream(path, std::ios::binary).write(pdf.data, (std::streamsize)pdf.len);
	ml_buf_free(&pdf);
	free(u);
	free(a);
	quality_report_free(&r);
	db_close(db);
	return path;
}

TEST(QualityRender, ReportPdfOpensWithRealTools)
{
	std::string pdf = render("report.pdf", "2026-11-01", "2026-12-31");
	int rc = 0;
	std::string check = sh("qpdf --check " + pgtest_sq(pdf), &rc);
	EXPECT_EQ(0, rc) << check;
	std::string info = sh("pdfinfo " + pgtest_sq(pdf));
	EXPECT_NE(std::string::npos, info.find("595.276 x 841.89 pts (A4)")) << info;
	std::string fonts = sh("pdffonts " + pgtest_sq(pdf));
	EXPECT_NE(std::string::npos, fonts.find("CID TrueType")) << fonts;
	EXPECT_NE(std::string::npos, fonts.find("yes yes yes"))
		<< fonts; /* embedded, subset, ToUnicode */
	std::string text = sh("pdftotext -layout " + pgtest_sq(pdf) + " -");
	for (const char *want : { "电能计量器具质量分析报告",
				  "统计期间：2026-11-01 至 2026-12-31",
				  "编制单位：示范省电力公司计量中心",
				  "一、概况",
				  "二、检定不合格率",
				  "按制造商",
				  "11/150 = 7.33%",
				  "10/50 = 20.00%",
				  "全部 2.63%",
				  "三、不合格项目与负荷点",
				  "基本误差",
				  "四、误差分布",
				  "Ib cosφ=1.0 H（限值 ±1.00%）",
				  "n=550 平均 0.0408% 标准差 0.2454% 超内控 2.73%",
				  "五、运行故障",
				  "404.75",
				  "六、月度趋势",
				  "七、预警",
				  "批次 LB2",
				  "10/50 20.00%",
				  "说明" })
		EXPECT_NE(std::string::npos, text.find(want)) << want;
	std::string compact;
	for (char ch : text)
		if (ch != ' ')
			compact += ch;
	EXPECT_NE(std::string::npos, compact.find("第1页共")) << "page numbers";
}

TEST(QualityRender, EveryGlyphHasItsOutlineAndNothingOverlaps)
{
	std::string pdf = render("report.pdf", "2026-11-01", "2026-12-31");
	int rc = 0;
	std::string glyphs = sh("/usr/bin/python3 " +
					pgtest_sq(pgtest_src("tests/reports/render_glyphs.py")) +
					" " + pgtest_sq(pdf),
				&rc);
	EXPECT_EQ(0, rc) << glyphs;
	std::string layout = sh("/usr/bin/python3 " +
					pgtest_sq(pgtest_src("tests/reports/check_layout.py")) +
					" " + pgtest_sq(pdf),
				&rc);
	EXPECT_EQ(0, rc) << layout;
	EXPECT_EQ(0u, layout.find("ok ")) << layout;
}

TEST(QualityRender, EmptyPeriodStillRenders)
{
	std::string pdf = render("empty.pdf", "2025-01-01", "2025-01-31");
	int rc = 0;
	sh("qpdf --check " + pgtest_sq(pdf), &rc);
	EXPECT_EQ(0, rc);
	std::string text = sh("pdftotext " + pgtest_sq(pdf) + " -");
	EXPECT_NE(std::string::npos, text.find("期间内没有不合格的负荷点")) << text;
	EXPECT_NE(std::string::npos, text.find("没有对象显著高于同组")) << text;
	std::string layout = sh("/usr/bin/python3 " +
					pgtest_sq(pgtest_src("tests/reports/check_layout.py")) +
					" " + pgtest_sq(pdf),
				&rc);
	EXPECT_EQ(0, rc) << layout;
}

} // namespace
