/* Input hygiene (common/text.h): every refusal names the value and the rule. */
#include <gtest/gtest.h>

#include <string>

#include "common/text.h"

namespace
{

int check(const std::string &s, size_t max = 64, unsigned flags = 0, std::string *msg = nullptr)
{
	struct ml_error err = ML_ERROR_INIT;
	int rc = ml_text_check(s.c_str(), max, flags, "name", &err);
	if (msg)
		*msg = err.msg;
	return rc;
}

TEST(Text, PlainChineseAndAsciiPass)
{
	EXPECT_EQ(ML_OK, check("王建国"));
	EXPECT_EQ(ML_OK, check("chief.liu"));
	EXPECT_EQ(ML_OK, check("Zhang San (张三)"));
}

TEST(Text, InvisibleAndControlCharactersAreRefusedByName)
{
	std::string msg;
	EXPECT_EQ(ML_EINVAL, check("chief\xE2\x80\x8B.liu", 64, 0, &msg)); /* U+200B */
	EXPECT_NE(std::string::npos, msg.find("U+200B")) << msg;
	EXPECT_NE(std::string::npos, msg.find("name 'chief")) << msg;
	EXPECT_EQ(ML_EINVAL, check("a\xEF\xBB\xBF"
				   "b")); /* BOM inside */
	EXPECT_EQ(ML_EINVAL, check("a\x01z", 64, 0, &msg));
	EXPECT_NE(std::string::npos, msg.find("\\x01")) << msg;
	EXPECT_EQ(ML_EINVAL, check("a\xE2\x80\xAE"
				   "b")); /* right-to-left override */
	EXPECT_EQ(ML_EINVAL, check("two\nlines"));
	EXPECT_EQ(ML_OK, check("two\nlines", 64, ML_TEXT_MULTILINE));
	EXPECT_EQ(ML_EINVAL, check("del\x7F"));
}

TEST(Text, InvalidUtf8IsRefused)
{
	std::string msg;
	EXPECT_EQ(ML_EINVAL, check("\xC0\xAF", 64, 0, &msg)); /* overlong '/' */
	EXPECT_NE(std::string::npos, msg.find("not valid UTF-8")) << msg;
	EXPECT_EQ(ML_EINVAL, check("\xED\xA0\x80"));     /* surrogate */
	EXPECT_EQ(ML_EINVAL, check("\xE7\x8E"));         /* truncated */
	EXPECT_EQ(ML_EINVAL, check("\xF4\x90\x80\x80")); /* beyond U+10FFFF */
}

TEST(Text, EdgesAndLengthInCharacters)
{
	EXPECT_EQ(ML_EINVAL, check(" 张三"));
	EXPECT_EQ(ML_EINVAL, check("张三 "));
	EXPECT_EQ(ML_EINVAL, check("张三\xE3\x80\x80")); /* U+3000 ideographic space */
	EXPECT_EQ(ML_EINVAL, check(""));
	EXPECT_EQ(ML_OK, check("", 64, ML_TEXT_EMPTY_OK));
	/* 4 CJK characters are 12 bytes but 4 characters */
	EXPECT_EQ(ML_OK, check("一二三四", 4));
	std::string msg;
	EXPECT_EQ(ML_EINVAL, check("一二三四五", 4, 0, &msg));
	EXPECT_NE(std::string::npos, msg.find("5 characters long (at most 4)")) << msg;
}

} // namespace
