/* State Grid 22-digit barcode (domain.md §5.2) and small parsing helpers. */
#include <gtest/gtest.h>

#include <string>

#include "assets/asset_priv.h"
#include "assets/barcode.h"
#include "assets/registry.h"

TEST(Barcode, RealBarcodesAreValid)
{
	/* The four real barcodes from the Henan record (domain.md §5.2). */
	for (const char *b : { "4130001000000446529641", "4130001000000461395474",
			       "4130001000000461595133", "4130001000000461409508" }) {
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_OK, barcode_validate(b, &err)) << b << ": " << err.msg;
	}
}

TEST(Barcode, WrongLengthRejectedNamingValue)
{
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, barcode_validate("413000100000044652964", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'413000100000044652964'")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "21 characters")) << err.msg;
	EXPECT_EQ(ML_EINVAL, barcode_validate("41300010000004465296410", &err));
	EXPECT_EQ(ML_EINVAL, barcode_validate("", &err));
	EXPECT_EQ(ML_EINVAL, barcode_validate(nullptr, &err));
}

TEST(Barcode, NonDigitRejectedWithPosition)
{
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, barcode_validate("41300010000004465X9641", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "41300010000004465X9641")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "position 18")) << err.msg;
}

TEST(Barcode, BadCheckDigitRejectedWithExpected)
{
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, barcode_validate("4130001000000446529642", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "4130001000000446529642")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "expected 1")) << err.msg;
	/* every wrong check digit of a real barcode is caught */
	std::string b = "4130001000000461395474";
	for (char c = '0'; c <= '9'; c++) {
		b[21] = c;
		EXPECT_EQ(c == '4' ? ML_OK : ML_EINVAL, barcode_validate(b.c_str(), nullptr)) << b;
	}
}

TEST(Barcode, MakeProducesValidBarcodes)
{
	char out[23];
	ASSERT_EQ(ML_OK, barcode_make("41300", "01", 44652964ULL, out, nullptr));
	EXPECT_STREQ("4130001000000446529641", out);
	for (unsigned long long s = 0; s < 2000; s += 7) {
		ASSERT_EQ(ML_OK, barcode_make("33300", "01", s, out, nullptr));
		EXPECT_EQ(ML_OK, barcode_validate(out, nullptr)) << out;
	}
	EXPECT_EQ(ML_EINVAL, barcode_make("4130", "01", 1, out, nullptr));
	EXPECT_EQ(ML_EINVAL, barcode_make("41300", "01", 100000000000000ULL, out, nullptr));
}

TEST(AssetUtil, Dates)
{
	EXPECT_TRUE(asset_date_ok("2026-09-14"));
	EXPECT_TRUE(asset_date_ok("2024-02-29"));
	EXPECT_FALSE(asset_date_ok("2026-02-29"));
	EXPECT_FALSE(asset_date_ok("1900-02-29"));
	EXPECT_TRUE(asset_date_ok("2000-02-29"));
	EXPECT_FALSE(asset_date_ok("2026-13-01"));
	EXPECT_FALSE(asset_date_ok("2026-04-31"));
	EXPECT_FALSE(asset_date_ok("2026/04/01"));
	EXPECT_FALSE(asset_date_ok("26-04-01"));
	EXPECT_FALSE(asset_date_ok(nullptr));
}

TEST(AssetUtil, Decimals)
{
	EXPECT_TRUE(asset_decimal_ok("220"));
	EXPECT_TRUE(asset_decimal_ok("0.5"));
	EXPECT_FALSE(asset_decimal_ok("1e3"));
	EXPECT_FALSE(asset_decimal_ok("-5"));
	EXPECT_FALSE(asset_decimal_ok("5."));
	EXPECT_FALSE(asset_decimal_ok(".5"));
	EXPECT_FALSE(asset_decimal_ok("1.2.3"));
	EXPECT_FALSE(asset_decimal_ok(""));
}

TEST(AssetUtil, ArrayLiteralEscapes)
{
	struct pgarr a;
	pgarr_init(&a);
	pgarr_add(&a, "plain");
	pgarr_add(&a, "q\"uote\\back,comma}");
	pgarr_add(&a, nullptr);
	pgarr_add_i64(&a, -42);
	EXPECT_STREQ("{\"plain\",\"q\\\"uote\\\\back,comma}\",NULL,-42}", pgarr_finish(&a));
	pgarr_free(&a);
}
