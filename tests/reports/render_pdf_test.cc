// Certificate PDF renderer: render real certificates and open them with real
// tools (qpdf, poppler's pdftotext/pdffonts/pdfinfo, fontTools).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/pgtest.h"
#include "reports/cert_doc.h"
#include "reports/render_layout.h"
#include "reports/render_sample.h"
#include "reports/ttf_font.h"

namespace
{

std::string out_dir()
{
	std::string d = std::string(ML_BINARY_DIR) + "/tests/reports-render";
	std::filesystem::create_directories(d);
	return d;
}

struct Rendered {
	std::string path;
	std::string bytes;
};

// Render doc with a fresh renderer (opts may be NULL) and write it to out_dir()/name.
Rendered render(const cert_doc &doc, const char *name, const cert_render_opts *opts = nullptr)
{
	cert_renderer *r = nullptr;
	ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, cert_renderer_new(opts, &r, &err)) << err.msg;
	ml_buf b = ML_BUF_INIT;
	int rc = cert_render(r, &doc, &b, &err);
	EXPECT_EQ(ML_OK, rc) << err.msg;
	Rendered out{ out_dir() + "/" + name, std::string(b.data ? b.data : "", b.len) };
	std::ofstream(out.path, std::ios::binary) << out.bytes;
	ml_buf_free(&b);
	cert_renderer_free(r);
	return out;
}

std::string run(const std::string &cmd, int *status = nullptr)
{
	std::string out;
	int st = pgtest_run(cmd, &out, true);
	if (status)
		*status = st;
	return out;
}

std::string text_of(const std::string &pdf)
{
	int st = -1;
	std::string t = run("pdftotext -enc UTF-8 -layout " + pgtest_sq(pdf) + " -", &st);
	EXPECT_EQ(0, st) << t;
	return t;
}

// Text with all spaces removed: pdftotext -layout pads columns with a varying number of blanks.
std::string squeezed(const std::string &t)
{
	std::string s;
	for (char c : t)
		if (c != ' ')
			s += c;
	return s;
}

// A numeric field of pdfinfo output ("Pages:           3" -> 3), -1 when absent.
int pdfinfo_int(const std::string &pdf, const char *field)
{
	std::string info = run("pdfinfo " + pgtest_sq(pdf));
	size_t p = info.find(std::string(field) + ":");
	return p == std::string::npos ? -1 : std::atoi(info.c_str() + p + strlen(field) + 1);
}

std::string sha256(const std::string &path)
{
	std::string out = run("sha256sum " + pgtest_sq(path));
	return out.substr(0, out.find(' '));
}

class RenderPdf : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		meter = new cert_sample;
		notice = new cert_sample;
		ct = new cert_sample;
		cert_sample_fill(meter, CERT_SAMPLE_METER, 0);
		cert_sample_fill(notice, CERT_SAMPLE_METER_NOTICE, 1);
		cert_sample_fill(ct, CERT_SAMPLE_CT, 2);
		files = new std::vector<Rendered>{ render(meter->doc, "meter-certificate.pdf"),
						   render(notice->doc, "meter-notice.pdf"),
						   render(ct->doc, "ct-certificate.pdf") };
	}
	static void TearDownTestSuite()
	{
		delete meter;
		delete notice;
		delete ct;
		delete files;
	}
	static cert_sample *meter, *notice, *ct;
	static std::vector<Rendered> *files;
};

cert_sample *RenderPdf::meter, *RenderPdf::notice, *RenderPdf::ct;
std::vector<Rendered> *RenderPdf::files;

TEST_F(RenderPdf, QpdfCheckPasses)
{
	for (const Rendered &f : *files) {
		ASSERT_GT(f.bytes.size(), 1000u) << f.path;
		EXPECT_EQ(0, f.bytes.compare(0, 5, "%PDF-")) << f.path;
		int st = -1;
		std::string out = run("qpdf --check " + pgtest_sq(f.path), &st);
		EXPECT_EQ(0, st) << f.path << "\n" << out;
		EXPECT_NE(std::string::npos, out.find("No syntax or stream encoding errors"))
			<< out;
	}
}

TEST_F(RenderPdf, MeterCertificateTextHasLabelsAndValues)
{
	std::string t = text_of((*files)[0].path);
	for (const char *s : { "检定证书",
			       "证书编号",
			       "JL2026-000000",
			       "送检单位",
			       "计量器具名称",
			       "单相费控智能电能表",
			       "型号/规格",
			       "DDZY285-Z",
			       "出厂编号",
			       "制造单位",
			       "检定依据",
			       "JJG 596-2012 电子式交流电能表",
			       "检定结论",
			       "1级 合格",
			       "批准人",
			       "核验员",
			       "检定员",
			       "2026年11月20日",
			       "有效期至",
			       "签发日期",
			       "2026年11月21日", /* issued_on, a day after the verification */
			       "国网河南省电力公司计量中心",
			       "授权证书号",
			       "基本误差",
			       "化整值",
			       "以下空白",
			       "仅对本次所检定的计量器具有效",
			       "不得部分复制",
			       "21.2 ℃",
			       "53 %RH",
			       "单相交流电能表标准装置",
			       "国量标豫证字第0123号",
			       "YS2026-" })
		EXPECT_NE(std::string::npos, t.find(s)) << "missing '" << s << "'";
	EXPECT_NE(std::string::npos, t.find(meter->barcode)) << meter->barcode;
	EXPECT_NE(std::string::npos, t.find(meter->verify_code)) << meter->verify_code;
	for (size_t i = 0; i < meter->doc.n_errors; i++) {
		EXPECT_NE(std::string::npos, t.find(meter->mean[i])) << meter->mean[i];
		EXPECT_NE(std::string::npos, t.find(meter->readings[i])) << meter->readings[i];
	}
	EXPECT_EQ(std::string::npos, t.find("检定结果通知书"));
	EXPECT_NE(std::string::npos, squeezed(t).find("第1页共3页"));
	EXPECT_NE(std::string::npos, squeezed(t).find("第3页共3页"));
}

TEST_F(RenderPdf, NoticeListsFailedItemsAndForbidsUse)
{
	std::string t = text_of((*files)[1].path);
	for (const char *s : { "检定结果通知书", "不合格项目（3项）", "日计时误差",
			       "基本误差（Imax 1.0 合元）", "不得按原用途使用", "JL2026-000001" })
		EXPECT_NE(std::string::npos, t.find(s)) << "missing '" << s << "'";
	std::string cover = run("pdftotext -enc UTF-8 -f 1 -l 1 " + pgtest_sq((*files)[1].path) +
				" -");
	EXPECT_NE(std::string::npos, cover.find("检定日期")) << cover;
	EXPECT_NE(std::string::npos, cover.find("签发日期")) << cover;
	EXPECT_EQ(std::string::npos, cover.find("有效期至")) << "a notice has no validity";
	EXPECT_EQ(std::string::npos, t.find("1级 合格"));
}

TEST_F(RenderPdf, TransformerCertificateHasRatioAndPhaseTable)
{
	std::string t = text_of((*files)[2].path);
	for (const char *s :
	     { "低压电流互感器", "JJG 313-2010", "比值差(%)", "相位差(′)", "0.2S级 合格", "15 VA" })
		EXPECT_NE(std::string::npos, t.find(s)) << "missing '" << s << "'";
	for (size_t i = 0; i < ct->doc.n_xfmr; i++) {
		EXPECT_NE(std::string::npos, t.find(ct->ratio[i])) << ct->ratio[i];
		EXPECT_NE(std::string::npos, t.find(ct->phase[i])) << ct->phase[i];
	}
}

TEST_F(RenderPdf, FontIsEmbeddedSubsetCidTrueType)
{
	for (const Rendered &f : *files) {
		int st = -1;
		std::string out = run("pdffonts " + pgtest_sq(f.path), &st);
		ASSERT_EQ(0, st) << out;
		std::istringstream in(out);
		std::string line;
		int fonts = 0;
		while (std::getline(in, line)) {
			if (line.find("CID TrueType") == std::string::npos)
				continue;
			fonts++;
			EXPECT_NE(std::string::npos, line.find("+WenQuanYiZenHei")) << line;
			EXPECT_NE(std::string::npos, squeezed(line).find("Identity-Hyesyesyes"))
				<< "emb/sub/uni: " << line;
		}
		EXPECT_EQ(1, fonts) << out;
	}
}

TEST_F(RenderPdf, EveryUsedCharacterHasAnOutline)
{
	for (const Rendered &f : *files) {
		int st = -1;
		std::string out = run("/usr/bin/python3 " +
					      pgtest_src("tests/reports/render_glyphs.py") + " " +
					      pgtest_sq(f.path),
				      &st);
		EXPECT_EQ(0, st) << f.path << "\n" << out;
		EXPECT_EQ(0u, out.find("ok ")) << out;
	}
}

TEST_F(RenderPdf, QrCodeScansToThePayload)
{
	// Rasterise the cover like a scanner would and decode it with zbar (zbar-tools).
	const cert_sample *s[] = { meter, notice, ct };
	for (size_t i = 0; i < files->size(); i++) {
		std::string png = (*files)[i].path + ".cover";
		int st = -1;
		// Only the bottom-right corner of page 1 (QR at x 453-539 pt, y 112-198 pt; 200 dpi = 2.78 px/pt).
		std::string out = run(
			"pdftoppm -png -r 200 -f 1 -l 1 -x 1200 -y 1730 -W 360 -H 360 -singlefile " +
				pgtest_sq((*files)[i].path) + " " + pgtest_sq(png),
			&st);
		ASSERT_EQ(0, st) << out;
		std::string code;
		st = pgtest_run("zbarimg -q --raw " + pgtest_sq(png + ".png") + " 2>/dev/null",
				&code, false);
		EXPECT_EQ(0, st) << code;
		EXPECT_EQ(std::string(s[i]->qr) + "\n", code);
	}
}

// Value of "Key:   value" in pdfinfo output ("" when absent).
static std::string info_field(const std::string &info, const std::string &key)
{
	size_t p = ("\n" + info).find("\n" + key + ":"); /* index in info of the key */
	if (p == std::string::npos)
		return "";
	p = info.find_first_not_of(' ', p + key.size() + 2);
	return info.substr(p, info.find('\n', p) - p);
}

TEST_F(RenderPdf, InfoKeywordsCarryTheQrPayload)
{
	// cert verify names the claimed certificate of an altered file from /Keywords.
	const cert_sample *s[] = { meter, notice, ct };
	for (size_t i = 0; i < files->size(); i++) {
		std::string info = run("pdfinfo " + pgtest_sq((*files)[i].path));
		EXPECT_EQ(s[i]->qr, info_field(info, "Keywords")) << info;
		EXPECT_EQ(s[i]->doc.cert_no, info_field(info, "Title")) << info;
	}
}

TEST_F(RenderPdf, ThreePagesAndSmall)
{
	for (const Rendered &f : *files) {
		EXPECT_EQ(3, pdfinfo_int(f.path, "Pages")) << f.path;
		std::string info = run("pdfinfo " + pgtest_sq(f.path));
		EXPECT_NE(std::string::npos, squeezed(info).find("595.276x841.89pts(A4)")) << info;
		EXPECT_LT(f.bytes.size(), 100u * 1024u) << f.path;
	}
}

TEST_F(RenderPdf, SameDocumentSameBytes)
{
	Rendered again = render(meter->doc, "meter-certificate-again.pdf");
	EXPECT_EQ((*files)[0].bytes, again.bytes);
	EXPECT_EQ(sha256((*files)[0].path), sha256(again.path));
	// One renderer reused for another document first must not change the result.
	cert_renderer *r = nullptr;
	ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, cert_renderer_new(nullptr, &r, &err)) << err.msg;
	ml_buf b = ML_BUF_INIT;
	ASSERT_EQ(ML_OK, cert_render(r, &ct->doc, &b, &err)) << err.msg;
	ml_buf_reset(&b);
	ASSERT_EQ(ML_OK, cert_render(r, &meter->doc, &b, &err)) << err.msg;
	EXPECT_EQ((*files)[0].bytes, std::string(b.data, b.len));
	ml_buf_free(&b);
	cert_renderer_free(r);
}

// The golden hash depends on Debian 12's libhpdf 2.3.0 and zlib 1.2.13 builds.
// Refresh after an intended layout change:
//   ML_UPDATE_GOLDEN=1 build/tests/test_reports --gtest_filter='RenderPdf.Golden*'
TEST_F(RenderPdf, GoldenHash)
{
	std::string golden_file = pgtest_src("tests/data/reports/golden.sha256");
	std::string got = sha256((*files)[0].path);
	ASSERT_EQ(64u, got.size());
	if (std::getenv("ML_UPDATE_GOLDEN")) {
		std::ofstream(golden_file) << got << "  meter-certificate.pdf\n";
		GTEST_SKIP() << "golden hash rewritten: " << got;
	}
	std::ifstream in(golden_file);
	std::string want;
	in >> want;
	EXPECT_EQ(want, got) << "rendered " << (*files)[0].path
			     << "; see the comment above to refresh";
}

TEST(RenderPdfMore, RevisionLineAndLongTablesPaginate)
{
	cert_sample s;
	cert_sample_fill(&s, CERT_SAMPLE_METER, 9); // seq 9: a corrected reissue
	ASSERT_EQ(1, s.doc.revision);
	std::vector<cert_error_row> rows;
	for (int i = 0; i < 60; i++)
		rows.push_back(s.errors[i % s.doc.n_errors]);
	s.doc.errors = rows.data();
	s.doc.n_errors = rows.size();
	Rendered f = render(s.doc, "meter-long.pdf");
	int st = -1;
	std::string check = run("qpdf --check " + pgtest_sq(f.path), &st);
	EXPECT_EQ(0, st) << check;
	std::string t = text_of(f.path);
	EXPECT_NE(std::string::npos, t.find("第1版，替代 JL2025-000028")) << t.substr(0, 400);
	int pages = pdfinfo_int(f.path, "Pages");
	EXPECT_GE(pages, 4);
	std::string last = "第" + std::to_string(pages) + "页共" + std::to_string(pages) + "页";
	EXPECT_NE(std::string::npos, squeezed(t).find(last)) << last;
	EXPECT_NE(std::string::npos, t.find("以下空白"));
	// Every page names the revision next to the number, so a loose page of
	// the revision cannot pass for a page of the original it supersedes.
	size_t marked = 0;
	std::string sq = squeezed(t),
		    mark = std::string("证书编号：") + s.doc.cert_no + "（第1版）";
	for (size_t p = sq.find(mark); p != std::string::npos; p = sq.find(mark, p + 1))
		marked++;
	EXPECT_EQ(static_cast<size_t>(pages), marked) << mark;
	// The table head is repeated on each continuation page.
	size_t heads = 0;
	for (size_t p = t.find("误差读数(%)"); p != std::string::npos;
	     p = t.find("误差读数(%)", p + 1))
		heads++;
	EXPECT_EQ(static_cast<size_t>(pages - 2), heads) << "one table head per results page";
}

TEST(RenderPdfMore, MinimalDocumentPrintsDashesAndLongValuesWrap)
{
	cert_doc d{};
	d.kind = CERT_KIND_CERTIFICATE;
	d.cert_no = "JL2026-999999";
	d.issued_on = "2026-01-02";
	Rendered f = render(d, "minimal.pdf");
	int st = -1;
	std::string check = run("qpdf --check " + pgtest_sq(f.path), &st);
	EXPECT_EQ(0, st) << check;
	std::string t = text_of(f.path);
	EXPECT_NE(std::string::npos, t.find("JL2026-999999"));
	EXPECT_NE(std::string::npos, t.find("—")) << "optional fields print as a dash";
	EXPECT_EQ(3, pdfinfo_int(f.path, "Pages"));

	cert_sample s;
	cert_sample_fill(&s, CERT_SAMPLE_METER, 4);
	std::string client =
		"国网河南省电力公司郑州供电公司营销部（客户服务中心）计量室 Metering Laboratory of the "
		"Zhengzhou Power Supply Company, State Grid Henan Electric Power Company";
	s.doc.client = client.c_str();
	s.doc.place = client.c_str();
	s.doc.manufacturer =
		"威胜集团\n有限公司\xF0\x9F\x98\x80\xEF\xBF\xBF"; // newline, U+1F600, U+FFFF print as spaces
	f = render(s.doc, "long-values.pdf");
	std::string sq = squeezed(text_of(f.path));
	EXPECT_NE(std::string::npos, text_of(f.path).find("威胜集团 有限公司"));
	for (const char *part :
	     { "计量室", "MeteringLaboratory", "StateGridHenanElectricPowerCompany" })
		EXPECT_NE(std::string::npos, sq.find(part)) << part;
	st = -1;
	std::string glyphs = run("/usr/bin/python3 " +
					 pgtest_src("tests/reports/render_glyphs.py") + " " +
					 pgtest_sq(f.path),
				 &st);
	EXPECT_EQ(0, st) << glyphs;
}

// Layout: no two words of any page overlap, all text stays inside the frame
// (tests/reports/check_layout.py over pdftotext -bbox), for the three sample
// kinds and for a document whose values are as long as real data gets: a
// revision with a long client, instrument, spec and manufacturer (the cover
// rows must not run into the issuing body and seal), several runner notes in
// one item, long standard names and certificate numbers (wrapped in their cells).
TEST(RenderPdfMore, NoOverlapsOrTextOutsideTheFrame)
{
	std::string py = "/usr/bin/python3 " + pgtest_src("tests/reports/check_layout.py") + " ";
	const cert_sample_kind kinds[] = { CERT_SAMPLE_METER, CERT_SAMPLE_METER_NOTICE,
					   CERT_SAMPLE_CT };
	for (cert_sample_kind k : kinds) {
		cert_sample s;
		cert_sample_fill(&s, k, 7);
		std::string name = "layout-" + std::to_string((int)k) + ".pdf";
		Rendered f = render(s.doc, name.c_str());
		int st = -1;
		std::string out = run(py + pgtest_sq(f.path), &st);
		EXPECT_EQ(0, st) << f.path << "\n" << out;
	}
	cert_sample s;
	cert_sample_fill(&s, CERT_SAMPLE_METER, 8);
	s.doc.revision = 2;
	s.doc.supersedes = "JL2026-000123/1";
	s.doc.client =
		"国网河南省电力公司郑州供电公司营销部（客户服务中心）计量室及所属各县供电公司营业厅、"
		"农村供电所和城区客户服务分中心、大客户经理部、电能计量装置运维班组及各乡镇供电所联合送检";
	s.doc.instrument =
		"单相费控智能电能表（远程费控、载波通信、内置负荷开关，带蓝牙模块和红外通信接口）";
	s.doc.spec =
		"220V 5(60)A 1200imp/kWh 50Hz 直接接入 载波 HPLC+HRF 双模通信 蓝牙 5.0 红外 1200bps RS-485 2400bps";
	s.doc.manufacturer =
		"深圳市科陆电子科技股份有限公司（生产地址：江西省南昌市高新技术产业开发区科陆智能电网产业园）";
	s.items[2].detail =
		"无脉冲输出；表位故障；接线故障；通信故障；脉冲输出不稳定；未能判定（见原始记录）";
	s.standards[0].name = "单相电能表标准装置（0.05级，含三相程控功率源及误差计算器）";
	s.standards[0].cert_no = "国量标豫证字第2026000211号（复查）";
	s.standards[0].range = "57.7~380 V, 0.001~120 A";
	Rendered f = render(s.doc, "layout-long.pdf");
	int st = -1;
	std::string out = run(py + pgtest_sq(f.path), &st);
	EXPECT_EQ(0, st) << f.path << "\n" << out;
	std::string t;
	for (char c : text_of(f.path))
		if (c != ' ' && c != '\n')
			t += c; // wrapped values continue on the next line
	for (const char *part : { "联合送检", "红外通信接口", "RS-485", "科陆智能电网产业园",
				  "判定（见原始记录）", "误差计算器）", "复查）" })
		EXPECT_NE(std::string::npos, t.find(part)) << part << " is printed in full";
}

// wqy-zenhei draws these as composite glyphs: U+2010 and U+2105 use component
// ids > 32767 (dropped by libharu 2.3.0's signed read), U+2237 and U+226F nest
// composites (2.3.0 follows one level only). Every outline must still arrive.
TEST(RenderPdfMore, CompositeGlyphsKeepTheirOutlines)
{
	cert_sample s;
	cert_sample_fill(&s, CERT_SAMPLE_METER, 6);
	s.doc.place = "实验室‐2 ℅ ∷ ≯ 计量";
	Rendered f = render(s.doc, "composites.pdf");
	std::string t = text_of(f.path);
	EXPECT_NE(std::string::npos, t.find("∷")) << t.substr(0, 200);
	int st = -1;
	std::string out = run("/usr/bin/python3 " + pgtest_src("tests/reports/render_glyphs.py") +
				      " " + pgtest_sq(f.path),
			      &st);
	EXPECT_EQ(0, st) << out;
}

// One renderer per thread (cert_doc.h): concurrent renders give the same bytes as sequential ones.
TEST(RenderPdfMore, RenderersInParallelThreadsAgreeWithSequential)
{
	const int per_thread = 6;
	std::vector<cert_sample> samples(2 * per_thread);
	for (int i = 0; i < 2 * per_thread; i++)
		cert_sample_fill(&samples[i], static_cast<cert_sample_kind>(1 + i % 3), 100 + i);
	auto render_range = [&](int from, std::vector<std::string> *out) {
		cert_renderer *r = nullptr;
		ml_error err = ML_ERROR_INIT;
		if (cert_renderer_new(nullptr, &r, &err) != ML_OK)
			return;
		for (int i = from; i < from + per_thread; i++) {
			ml_buf b = ML_BUF_INIT;
			if (cert_render(r, &samples[i].doc, &b, &err) == ML_OK)
				out->push_back(std::string(b.data, b.len));
			ml_buf_free(&b);
		}
		cert_renderer_free(r);
	};
	std::vector<std::string> a, b, seq;
	std::thread t1(render_range, 0, &a), t2(render_range, per_thread, &b);
	t1.join();
	t2.join();
	render_range(0, &seq);
	render_range(per_thread, &seq);
	ASSERT_EQ(static_cast<size_t>(per_thread), a.size());
	ASSERT_EQ(static_cast<size_t>(per_thread), b.size());
	ASSERT_EQ(static_cast<size_t>(2 * per_thread), seq.size());
	for (int i = 0; i < per_thread; i++) {
		EXPECT_EQ(seq[i], a[i]) << i;
		EXPECT_EQ(seq[per_thread + i], b[i]) << per_thread + i;
	}
}

// cert_render.c keeps the embedded font programs of a renderer's last four
// subsets (FONT_CACHE_N): a document using the characters of a recent one
// takes its program from the cache. Whatever the cache holds, every document
// comes out byte for byte as from a new renderer; the least recently used
// program is the one replaced.
TEST(RenderPdfMore, FontProgramCacheGivesTheBytesOfANewRenderer)
{
	// Six certificates alike but for a character of its own in each client's name.
	static const char *const own[] = { "甲", "乙", "丙", "丁", "戊", "己" };
	const int n = 6;
	std::vector<cert_sample> s(n);
	std::vector<std::string> fresh;
	for (int i = 0; i < n; i++) {
		cert_sample_fill(&s[i], CERT_SAMPLE_METER, 400);
		snprintf(s[i].client, sizeof s[i].client, "国网测试供电公司%s供电所", own[i]);
		fresh.push_back(
			render(s[i].doc, ("font-cache-" + std::to_string(i) + ".pdf").c_str())
				.bytes);
		ASSERT_FALSE(fresh.back().empty());
		if (i) {
			ASSERT_NE(fresh[0], fresh[i]);
		}
	}
	cert_renderer *r = nullptr;
	ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, cert_renderer_new(nullptr, &r, &err)) << err.msg;
	auto again = [&](int i) {
		ml_buf b = ML_BUF_INIT;
		EXPECT_EQ(ML_OK, cert_render(r, &s[i].doc, &b, &err)) << err.msg;
		std::string out(b.data ? b.data : "", b.len);
		ml_buf_free(&b);
		return out;
	};
	auto stats = [&]() {
		unsigned long h = 0, m = 0;
		cert_renderer_font_stats(r, &h, &m);
		return std::to_string(h) + " found, " + std::to_string(m) + " made";
	};
	EXPECT_EQ(fresh[0], again(0));
	EXPECT_EQ(fresh[0], again(0));
	EXPECT_EQ("1 found, 1 made", stats());
	for (int i = 1; i <= 4; i++) // the fourth pushes 0 out
		EXPECT_EQ(fresh[i], again(i)) << i;
	EXPECT_EQ("1 found, 5 made", stats());
	EXPECT_EQ(fresh[0], again(0)); // made again, in 1's place
	EXPECT_EQ(fresh[4], again(4));
	EXPECT_EQ("2 found, 6 made", stats());
	EXPECT_EQ(fresh[5], again(5)); // in 2's place, the least recently used
	EXPECT_EQ(fresh[3], again(3));
	EXPECT_EQ(fresh[2], again(2));
	EXPECT_EQ("3 found, 8 made", stats());
	cert_renderer_free(r);
}

TEST(RenderPdfMore, BadInputIsRejectedWithAMessage)
{
	cert_renderer *r = nullptr;
	ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, cert_renderer_new(nullptr, &r, &err)) << err.msg;
	cert_sample s;
	cert_sample_fill(&s, CERT_SAMPLE_METER, 3);
	ml_buf b = ML_BUF_INIT;

	s.doc.issued_on = "21/11/2026";
	EXPECT_EQ(ML_EINVAL, cert_render(r, &s.doc, &b, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "21/11/2026")) << err.msg;

	ml_error_clear(&err);
	s.doc.issued_on = "2026-11-21";
	s.doc.cert_no = "";
	EXPECT_EQ(ML_EINVAL, cert_render(r, &s.doc, &b, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "cert_no")) << err.msg;
	EXPECT_EQ(0u, b.len) << "nothing appended on failure";

	ml_error_clear(&err);
	s.doc.cert_no = "JL2026-000003";
	s.doc.kind = static_cast<cert_kind>(7);
	EXPECT_EQ(ML_EINVAL, cert_render(r, &s.doc, &b, &err));
	ml_buf_free(&b);
	cert_renderer_free(r);
	cert_renderer_free(nullptr);

	cert_render_opts opts = { "/nonexistent/font.ttc", 0, 0 };
	r = nullptr;
	ml_error_clear(&err);
	EXPECT_EQ(ML_ECONFIG, cert_renderer_new(&opts, &r, &err));
	EXPECT_EQ(nullptr, r);
	EXPECT_NE(nullptr, strstr(err.msg, "/nonexistent/font.ttc")) << err.msg;

	opts = { "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 9, 0 };
	EXPECT_EQ(ML_ECONFIG, cert_renderer_new(&opts, &r, &err));
}

TEST(RenderPdfMore, UmingAndFullFontBaselineAlsoRenderCorrectly)
{
	cert_sample s;
	cert_sample_fill(&s, CERT_SAMPLE_METER, 5);
	const cert_render_opts uming = { "/usr/share/fonts/truetype/arphic/uming.ttc", 0, 0 };
	const cert_render_opts full = { nullptr, 0, 1 };
	for (auto [opts, name] :
	     { std::pair{ &uming, "meter-uming.pdf" }, std::pair{ &full, "meter-fullfont.pdf" } }) {
		Rendered f = render(s.doc, name, opts);
		int st = -1;
		std::string out = run("qpdf --check " + pgtest_sq(f.path), &st);
		EXPECT_EQ(0, st) << out;
		out = run("/usr/bin/python3 " + pgtest_src("tests/reports/render_glyphs.py") + " " +
				  pgtest_sq(f.path),
			  &st);
		EXPECT_EQ(0, st) << name << "\n" << out;
		EXPECT_NE(std::string::npos, text_of(f.path).find("DDZY285-Z"));
	}
}

} // namespace

/* The layout itself refuses a document without its issue date, as its header
 * promises (the renderer checks too; the layout is also used on its own). */
TEST(RenderPdfMore, LayoutRefusesAMissingIssueDate)
{
	ttf_font *font = nullptr;
	ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK,
		  ttf_font_open("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0, &font, &err))
		<< err.msg;
	cert_sample s;
	cert_sample_fill(&s, CERT_SAMPLE_METER, 3);
	rl_list l;
	rl_list_init(&l);
	EXPECT_EQ(ML_OK, rl_layout_cert(&l, &s.doc, font, &err)) << err.msg;
	EXPECT_GT(l.pages, 0);
	for (const char *bad : { (const char *)nullptr, "", "2026-11", "21/11/2026" }) {
		s.doc.issued_on = bad;
		ml_error_clear(&err);
		EXPECT_EQ(ML_EINVAL, rl_layout_cert(&l, &s.doc, font, &err))
			<< (bad ? bad : "NULL");
		EXPECT_NE(nullptr, strstr(err.msg, "issued_on")) << err.msg;
	}
	rl_list_free(&l);
	ttf_font_free(font);
}
