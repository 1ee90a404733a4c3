// Register codecs (bench-protocol.md §2) against fixed vectors. The f32
// vectors are libmodbus 3.1.11's (tests/unit-test.h.in): 123456.0f in ABCD
// order is {0x47F1, 0x2000}; Debian 12's modbus_set_float_abcd gets this
// wrong (tech-notes §1.8), which is why the codec is our own.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "devices/bench_codec.h"

TEST(Codec, Float32AbcdMatchesUpstreamVector)
{
	const uint16_t abcd[2] = { 0x47F1, 0x2000 };
	EXPECT_EQ(bcodec_get_f32(abcd), 123456.0f);
	uint16_t r[2] = { 0, 0 };
	bcodec_put_f32(r, 123456.0f);
	EXPECT_EQ(r[0], 0x47F1);
	EXPECT_EQ(r[1], 0x2000);
}

TEST(Codec, Float32AllOrdersMatchUpstream3111Vectors)
{
	// libmodbus 3.1.11 tests/unit-test.h.in: 123456.0f in the four orders.
	struct {
		enum bcodec_order o;
		uint16_t r0, r1;
	} v[] = {
		{ BCODEC_ABCD, 0x47F1, 0x2000 },
		{ BCODEC_DCBA, 0x0020, 0xF147 },
		{ BCODEC_BADC, 0xF147, 0x0020 },
		{ BCODEC_CDAB, 0x2000, 0x47F1 },
	};
	for (auto &c : v) {
		const uint16_t in[2] = { c.r0, c.r1 };
		EXPECT_EQ(bcodec_get_f32_order(in, c.o), 123456.0f) << c.o;
		uint16_t out[2] = { 0, 0 };
		bcodec_put_f32_order(out, 123456.0f, c.o);
		EXPECT_EQ(out[0], c.r0) << c.o;
		EXPECT_EQ(out[1], c.r1) << c.o;
		uint32_t u = 0x47F12000u;
		EXPECT_EQ(bcodec_get_u32_order(in, c.o), u) << c.o;
		bcodec_put_u32_order(out, u, c.o);
		EXPECT_EQ(out[0], c.r0) << c.o;
	}
}

TEST(Codec, Float32MoreVectors)
{
	struct {
		float v;
		uint16_t hi, lo;
	} cases[] = {
		{ 1.0f, 0x3F80, 0x0000 },  { -2.5f, 0xC020, 0x0000 }, { 220.0f, 0x435C, 0x0000 },
		{ 0.05f, 0x3D4C, 0xCCCD }, { 0.0f, 0x0000, 0x0000 },  { 100.0f, 0x42C8, 0x0000 },
	};
	for (auto &c : cases) {
		uint16_t r[2];
		bcodec_put_f32(r, c.v);
		EXPECT_EQ(r[0], c.hi) << c.v;
		EXPECT_EQ(r[1], c.lo) << c.v;
		EXPECT_EQ(bcodec_get_f32(r), c.v);
	}
	uint16_t nan[2] = { 0x7FC0, 0x0000 };
	EXPECT_TRUE(std::isnan(bcodec_get_f32(nan)));
}

TEST(Codec, U32AndI32HighWordFirst)
{
	uint16_t r[2];
	bcodec_put_u32(r, 0x12345678u);
	EXPECT_EQ(r[0], 0x1234);
	EXPECT_EQ(r[1], 0x5678);
	EXPECT_EQ(bcodec_get_u32(r), 0x12345678u);
	bcodec_put_i32(r, -1705); // protocol §2 example: -0.1705 % as dec4
	EXPECT_EQ(r[0], 0xFFFF);
	EXPECT_EQ(r[1], 0xF957);
	EXPECT_EQ(bcodec_get_i32(r), -1705);
	const uint16_t min[2] = { 0x8000, 0x0000 };
	EXPECT_EQ(bcodec_get_i32(min), INT32_MIN);
	const uint16_t neg1[2] = { 0xFFFF, 0xFFFF };
	EXPECT_EQ(bcodec_get_i32(neg1), -1);
	EXPECT_EQ(bcodec_get_i16(0xFFFE), -2);
	EXPECT_EQ(bcodec_put_i16(-2), 0xFFFE);
}

TEST(Codec, StringHighByteFirstNulPadded)
{
	uint16_t r[4];
	bcodec_put_str(r, 4, "ABC");
	EXPECT_EQ(r[0], 0x4142);
	EXPECT_EQ(r[1], 0x4300);
	EXPECT_EQ(r[2], 0x0000);
	EXPECT_EQ(r[3], 0x0000);
	char out[16];
	bcodec_get_str(r, 4, out, sizeof(out));
	EXPECT_STREQ(out, "ABC");
	bcodec_put_str(r, 2, "ABCDEFG"); // truncated to 4 characters
	bcodec_get_str(r, 2, out, sizeof(out));
	EXPECT_STREQ(out, "ABCD");
	bcodec_get_str(r, 2, out, 3); // output buffer bounds respected
	EXPECT_STREQ(out, "AB");
}

TEST(Codec, Dec4ParseExact)
{
	struct {
		const char *s;
		int32_t v;
	} ok[] = {
		{ "-0.1705", -1705 }, { "0.42", 4200 }, { "12.5", 125000 },
		{ "+0.93", 9300 },    { "1", 10000 },   { "0", 0 },
		{ "-0.0001", -1 },    { ".5", 5000 },   { "214748.3647", INT32_MAX },
	};
	for (auto &c : ok) {
		int32_t v = 12345;
		ASSERT_EQ(bcodec_dec4_parse(c.s, &v), 0) << c.s;
		EXPECT_EQ(v, c.v) << c.s;
	}
	const char *bad[] = {
		"", "-", "1.23456", "abc", "1e3", "214748.3648", "1.2.3", "0x10", " 1"
	};
	for (const char *s : bad) {
		int32_t v = 777;
		EXPECT_EQ(bcodec_dec4_parse(s, &v), -1) << s;
		EXPECT_EQ(v, 777) << s;
	}
}

TEST(Codec, Dec4Format)
{
	char b[24];
	EXPECT_STREQ(bcodec_dec4_format(-1705, b, sizeof(b)), "-0.1705");
	EXPECT_STREQ(bcodec_dec4_format(125000, b, sizeof(b)), "12.5");
	EXPECT_STREQ(bcodec_dec4_format(0, b, sizeof(b)), "0.0");
	EXPECT_STREQ(bcodec_dec4_format(-1, b, sizeof(b)), "-0.0001");
	EXPECT_STREQ(bcodec_dec4_format(INT32_MIN, b, sizeof(b)), "-214748.3648");
}
