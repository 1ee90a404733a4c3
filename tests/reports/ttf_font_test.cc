// TrueType subsetter on malformed fonts: a small synthetic face built here
// (every table offset known), then damaged. Opening and subsetting a damaged
// face must fail with ML_ECONFIG or succeed, never read outside the file.
// The font is mmap()ed, which ASan does not instrument: a stray read shows
// up as a fault (the far ones) or goes unseen (within the last page), so
// the damaged-byte sweep is a smoke test and the specific cases are pinned.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/buf.h"
#include "reports/ttf_font.h"

namespace
{

using Bytes = std::vector<uint8_t>;

void p16(Bytes &b, uint32_t v)
{
	b.push_back(uint8_t(v >> 8));
	b.push_back(uint8_t(v));
}

void p32(Bytes &b, uint32_t v)
{
	p16(b, v >> 16);
	p16(b, v & 0xFFFF);
}

struct Table {
	const char *tag;
	Bytes data;
};

// A face of ng empty glyphs (short loca, advance 500) around the given cmap.
// *cmap_off_field receives the file offset of the cmap's first subtable-offset field.
Bytes build_font(uint16_t ng, const Bytes &cmap, size_t *cmap_off_field)
{
	Bytes head(54, 0), hhea(36, 0), maxp, post(32, 0), os2(4, 0), name, hmtx, loca, glyf(4, 0);
	head[18] = 0x03, head[19] = 0xE8;                    // unitsPerEm 1000
	hhea[34] = uint8_t(ng >> 8), hhea[35] = uint8_t(ng); // numberOfHMetrics
	p32(maxp, 0x00005000u);
	p16(maxp, ng);
	p16(name, 0), p16(name, 0), p16(name, 6);
	for (int i = 0; i < ng; i++)
		p16(hmtx, 500), p16(hmtx, 0);
	for (int i = 0; i <= ng; i++)
		p16(loca, 0);
	std::vector<Table> t = { { "OS/2", os2 },  { "cmap", cmap }, { "glyf", glyf },
				 { "head", head }, { "hhea", hhea }, { "hmtx", hmtx },
				 { "loca", loca }, { "maxp", maxp }, { "name", name },
				 { "post", post } };
	Bytes f;
	p32(f, 0x00010000u);
	p16(f, uint32_t(t.size())), p16(f, 128), p16(f, 3), p16(f, uint32_t(16 * t.size() - 128));
	uint32_t off = uint32_t(12 + 16 * t.size());
	for (auto &x : t) {
		f.insert(f.end(), x.tag, x.tag + 4);
		p32(f, 0);
		if (!strcmp(x.tag, "cmap"))
			*cmap_off_field = off + 8; // record: platform, encoding, then the offset
		p32(f, off), p32(f, uint32_t(x.data.size()));
		off += uint32_t((x.data.size() + 3) & ~size_t(3));
	}
	for (auto &x : t) {
		f.insert(f.end(), x.data.begin(), x.data.end());
		while (f.size() & 3)
			f.push_back(0);
	}
	return f;
}

// Three glyphs (.notdef, 'A', 'B') with a (3,1) format-4 cmap.
Bytes tiny_font(size_t *cmap_off_field)
{
	Bytes cmap;
	p16(cmap, 0), p16(cmap, 1);                // version, one encoding record
	p16(cmap, 3), p16(cmap, 1), p32(cmap, 12); // (3,1) at offset 12
	p16(cmap, 4), p16(cmap, 32), p16(cmap, 0); // format 4, length 16 + 8 * 2, language
	p16(cmap, 4), p16(cmap, 4), p16(cmap, 1), p16(cmap, 0); // segCountX2 2 segments
	p16(cmap, 0x42), p16(cmap, 0xFFFF), p16(cmap, 0);       // endCode, reservedPad
	p16(cmap, 0x41), p16(cmap, 0xFFFF);                     // startCode
	p16(cmap, uint16_t(1 - 0x41)), p16(cmap, 1);            // idDelta: 'A' -> 1
	p16(cmap, 0), p16(cmap, 0);                             // idRangeOffset
	return build_font(3, cmap, cmap_off_field);
}

// ng - 1 glyphs mapped from U+4E00 on by one (3,10) format-12 group.
Bytes wide_font(uint16_t ng)
{
	Bytes cmap;
	size_t unused = 0;
	p16(cmap, 0), p16(cmap, 1), p16(cmap, 3), p16(cmap, 10), p32(cmap, 12);
	p16(cmap, 12), p16(cmap, 0), p32(cmap, 28), p32(cmap, 0), p32(cmap, 1);
	p32(cmap, 0x4E00), p32(cmap, 0x4E00u + ng - 2), p32(cmap, 1);
	return build_font(ng, cmap, &unused);
}

uint32_t g16(const char *p)
{
	return uint32_t(uint8_t(p[0])) << 8 | uint8_t(p[1]);
}

uint32_t g32(const char *p)
{
	return g16(p) << 16 | g16(p + 2);
}

// The subset's cmap table: {length field of its format-4 subtable, segCountX2}.
std::pair<uint32_t, uint32_t> subset_cmap4(const ml_buf &b)
{
	uint32_t n = g16(b.data + 4);
	for (uint32_t i = 0; i < n; i++) {
		const char *rec = b.data + 12 + 16 * i;
		if (!memcmp(rec, "cmap", 4)) {
			const char *sub = b.data + g32(rec + 8) + 12;
			return { g16(sub + 2), g16(sub + 6) };
		}
	}
	return { 0, 0 };
}

std::string write_font(const Bytes &b, const char *name)
{
	std::string d = std::string(ML_BINARY_DIR) + "/tests/reports-ttf";
	std::filesystem::create_directories(d);
	std::string path = d + "/" + name;
	std::ofstream(path, std::ios::binary)
		.write(reinterpret_cast<const char *>(b.data()), std::streamsize(b.size()));
	return path;
}

// Open and, if that works, subset "AB". Returns the open result.
int open_and_subset(const std::string &path, ml_error *err)
{
	ttf_font *f = nullptr;
	int rc = ttf_font_open(path.c_str(), 0, &f, err);
	if (rc)
		return rc;
	uint8_t used[8192] = { 0 };
	used[0x41 >> 3] |= uint8_t(1 << (0x41 & 7));
	used[0x42 >> 3] |= uint8_t(1 << (0x42 & 7));
	ml_buf out = ML_BUF_INIT;
	int src = ttf_font_subset(f, used, &out, err);
	EXPECT_TRUE(src == ML_OK || src == ML_ECONFIG) << src;
	ml_buf_free(&out);
	ttf_font_free(f);
	return ML_OK;
}

TEST(TtfFont, SyntheticFaceOpensAndSubsets)
{
	size_t at = 0;
	std::string path = write_font(tiny_font(&at), "tiny.ttf");
	ttf_font *f = nullptr;
	ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, ttf_font_open(path.c_str(), 0, &f, &err)) << err.msg;
	EXPECT_EQ(1, ttf_font_glyph(f, 'A'));
	EXPECT_EQ(2, ttf_font_glyph(f, 'B'));
	EXPECT_EQ(0, ttf_font_glyph(f, 'C'));
	EXPECT_EQ(500, ttf_font_width1000(f, 'A'));
	uint8_t used[8192] = { 0 };
	used[0x41 >> 3] |= uint8_t(1 << (0x41 & 7));
	ml_buf out = ML_BUF_INIT;
	ASSERT_EQ(ML_OK, ttf_font_subset(f, used, &out, &err)) << err.msg;
	EXPECT_EQ(2u, ttf_font_last_subset_glyphs(f)); // .notdef and 'A'
	ml_buf_free(&out);
	ttf_font_free(f);
}

// A cmap encoding record whose subtable offset is near 2^32: offset + 2
// wraps around in 32 bits and used to pass the bounds check.
TEST(TtfFont, CmapSubtableOffsetNear4GiBIsRejected)
{
	size_t at = 0;
	Bytes b = tiny_font(&at);
	for (uint32_t off : { 0xFFFFFFFFu, 0xFFFFFFFEu, 0xFFFFFFF0u }) {
		for (int k = 0; k < 4; k++)
			b[at + k] = uint8_t(off >> (24 - 8 * k));
		std::string path = write_font(b, "cmap-offset.ttf");
		ttf_font *f = nullptr;
		ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_ECONFIG, ttf_font_open(path.c_str(), 0, &f, &err)) << off;
		EXPECT_EQ(nullptr, f);
		EXPECT_NE(nullptr, strstr(err.msg, "cmap")) << err.msg;
	}
}

// Every truncation and every single byte set to 0xFF or 0x80 either opens
// (and subsets) or is refused with a message; none reads outside the file.
TEST(TtfFont, TruncatedOrDamagedFacesNeverReadOutsideTheFile)
{
	size_t at = 0;
	const Bytes good = tiny_font(&at);
	int refused = 0;
	for (size_t n = 0; n < good.size(); n++) {
		ml_error err = ML_ERROR_INIT;
		Bytes b(good.begin(), good.begin() + long(n));
		int rc = open_and_subset(write_font(b, "damaged.ttf"), &err);
		EXPECT_TRUE(rc == ML_ECONFIG || rc == ML_OK) << "truncated to " << n;
		refused += rc == ML_ECONFIG;
	}
	for (size_t i = 0; i < good.size(); i++) {
		for (uint8_t v : { uint8_t(0xFF), uint8_t(0x80) }) {
			ml_error err = ML_ERROR_INIT;
			Bytes b = good;
			b[i] = v;
			int rc = open_and_subset(write_font(b, "damaged.ttf"), &err);
			EXPECT_TRUE(rc == ML_ECONFIG || rc == ML_OK)
				<< "byte " << i << " = " << int(v);
			if (rc) {
				EXPECT_NE('\0', err.msg[0]) << "byte " << i;
			}
		}
	}
	EXPECT_GT(refused, 0); // the short files at least are refused
}

// Every used code point that is not next to another is a segment of the
// subset's format-4 cmap, whose length field is 16 bits: 16 + 8 * segments
// must stay <= 65535, so at most 8189 segments (the 0xFFFF one included).
TEST(TtfFont, SubsetCmapSegmentsStayWithinTheFormat4Length)
{
	std::string path = write_font(wide_font(16400), "wide.ttf");
	ttf_font *f = nullptr;
	ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, ttf_font_open(path.c_str(), 0, &f, &err)) << err.msg;
	uint8_t used[8192] = { 0 };
	for (uint32_t k = 0; k < 8188; k++) { // every other code point: 8188 segments + 0xFFFF
		uint32_t cp = 0x4E00 + 2 * k;
		used[cp >> 3] |= uint8_t(1 << (cp & 7));
	}
	ml_buf out = ML_BUF_INIT;
	ASSERT_EQ(ML_OK, ttf_font_subset(f, used, &out, &err)) << err.msg;
	auto [len, segx2] = subset_cmap4(out);
	EXPECT_EQ(2u * 8189, segx2);
	EXPECT_EQ(16u + 8 * 8189, len);
	ml_buf_free(&out);

	uint32_t cp = 0x4E00 + 2 * 8188; // one segment more no longer fits
	used[cp >> 3] |= uint8_t(1 << (cp & 7));
	out = ML_BUF_INIT;
	ml_error_clear(&err);
	EXPECT_EQ(ML_ECONFIG, ttf_font_subset(f, used, &out, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "subset")) << err.msg;
	ml_buf_free(&out);
	ttf_font_free(f);
}

} // namespace
