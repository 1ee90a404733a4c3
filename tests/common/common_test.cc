#include <gtest/gtest.h>

#include <string.h>

extern "C" {
#include "common/buf.h"
#include "common/json.h"
#include "common/ml_error.h"
}

TEST(MlError, FormatsAndReturnsCode)
{
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, ml_errorf(&err, ML_EINVAL, "bad value '%s'", "x"));
	EXPECT_EQ(ML_EINVAL, err.code);
	EXPECT_STREQ("bad value 'x'", err.msg);
	ml_error_prefix(&err, "line %d: ", 7);
	EXPECT_STREQ("line 7: bad value 'x'", err.msg);
}

TEST(MlBuf, RespectsMaximum)
{
	struct ml_buf b;
	ml_buf_init(&b, 8);
	EXPECT_EQ(ML_OK, ml_buf_puts(&b, "abcdefg"));
	EXPECT_EQ(ML_ENOMEM, ml_buf_puts(&b, "h"));
	EXPECT_STREQ("abcdefg", ml_buf_str(&b));
	ml_buf_free(&b);
}

TEST(MlBuf, AFailedAppendIsRememberedUntilReset)
{
	/* Output is built with unchecked appends and checked once (CONTRIBUTING.md): a
	 * later append that would fit must not hide an earlier failure. */
	struct ml_buf b;
	ml_buf_init(&b, 8);
	EXPECT_EQ(ML_OK, ml_buf_failed(&b));
	EXPECT_EQ(ML_OK, ml_buf_puts(&b, "ab"));
	EXPECT_EQ(ML_ENOMEM, ml_buf_puts(&b, "too long to fit"));
	EXPECT_EQ(ML_ENOMEM, ml_buf_puts(&b, "c"));
	EXPECT_EQ(ML_ENOMEM, ml_json_kv_int(&b, 1, "k", 1));
	EXPECT_EQ(ML_ENOMEM, ml_buf_failed(&b));
	EXPECT_STREQ("ab", ml_buf_str(&b));
	ml_buf_reset(&b);
	EXPECT_EQ(ML_OK, ml_buf_failed(&b));
	EXPECT_EQ(ML_OK, ml_buf_puts(&b, "c"));
	EXPECT_STREQ("c", ml_buf_str(&b));
	ml_buf_free(&b);
}

TEST(MlJson, EscapesStrings)
{
	struct ml_buf b = ML_BUF_INIT;
	ASSERT_EQ(ML_OK, ml_json_str(&b, "a\"b\\c\n\x01 检定"));
	EXPECT_STREQ("\"a\\\"b\\\\c\\n\\u0001 检定\"", ml_buf_str(&b));
	ml_buf_free(&b);
}
