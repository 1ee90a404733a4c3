/*
 * The sample draw: ChaCha20 against the RFC 8439 test vector, fixed draw
 * vectors (the algorithm must never change under a recorded seed), the
 * independent Python reference (tests/lab/sampling_draw_ref.py) on many
 * seeds and sizes, uniformity of the rejection step, and bad input.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../support/pgtest.h"

extern "C" {
#include "lab/sampling_draw.h"
}

namespace
{

std::string hex(const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	std::string s;
	for (size_t i = 0; i < n; i++) {
		s += d[p[i] >> 4];
		s += d[p[i] & 15];
	}
	return s;
}

std::vector<uint8_t> seed_of(const std::string &h)
{
	std::vector<uint8_t> s(SAMPLING_SEED_LEN);
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, sampling_seed_parse(h.c_str(), s.data(), &err)) << err.msg;
	return s;
}

std::string draw_text(const std::string &seed, size_t n, size_t k)
{
	std::vector<size_t> out(k);
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, sampling_draw(seed_of(seed).data(), n, k, out.data(), &err)) << err.msg;
	std::string s;
	for (size_t i = 0; i < k; i++)
		s += (i ? " " : "") + std::to_string(out[i]);
	return s;
}

std::string py_ref(const std::string &args)
{
	std::string out;
	int rc = pgtest_run("/usr/bin/python3 " +
				    pgtest_sq(pgtest_src("tests/lab/sampling_draw_ref.py")) + " " +
				    args,
			    &out, true);
	EXPECT_EQ(0, rc) << out;
	while (!out.empty() && out.back() == '\n')
		out.pop_back();
	return out;
}

const std::string kZero(64, '0');
const std::string kSeed = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/* RFC 8439 §2.3.2: key 00..1f, nonce 000000090000004a00000000, block counter 1. */
TEST(SamplingDraw, ChaCha20MatchesRfc8439)
{
	uint8_t key[32], nonce[12] = { 0, 0, 0, 9, 0, 0, 0, 0x4a, 0, 0, 0, 0 }, out[64];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	sampling_chacha20_block(key, 1, nonce, out);
	EXPECT_EQ("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
		  "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
		  hex(out, 64));
	/* and the Python reference agrees on the same vector */
	EXPECT_EQ(hex(out, 64), py_ref("block " + hex(key, 32) + " 1 000000090000004a00000000"));
}

/* Pinned: a recorded seed must give the same sample for ever (algorithm chacha20-fy-v1). */
TEST(SamplingDraw, FixedVectors)
{
	EXPECT_EQ("18 15 12 3 21", draw_text(kZero, 24, 5));
	EXPECT_EQ("353 1208 1412 418 1326 2291 466 2350 1646 2042", draw_text(kSeed, 2400, 10));
	EXPECT_STREQ("chacha20-fy-v1", SAMPLING_DRAW_ALGORITHM);
}

TEST(SamplingDraw, EqualsTheIndependentReference)
{
	struct {
		const char *seed;
		size_t n, k;
	} cases[] = {
		{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 2, 2 },
		{ "0000000000000000000000000000000000000000000000000000000000000001", 13, 13 },
		{ "7d3c9a1e55f00b2c4e8a61d09b7f32c5a4e1d6b8093f7c2e5a1b4d6f8e0c2a19", 150, 20 },
		{ "7d3c9a1e55f00b2c4e8a61d09b7f32c5a4e1d6b8093f7c2e5a1b4d6f8e0c2a19", 151, 20 },
		{ "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5", 100000, 315 },
	};
	for (const auto &c : cases) {
		std::string args = std::string("draw ") + c.seed + " " + std::to_string(c.n) + " " +
				   std::to_string(c.k);
		EXPECT_EQ(py_ref(args), draw_text(c.seed, c.n, c.k)) << args;
	}
}

/* m = 2^63 + 1 rejects almost half of the 64-bit values: the rejection step is exercised. */
TEST(SamplingDraw, RejectionStepEqualsTheReference)
{
	struct sampling_rng r;
	sampling_rng_init(&r, seed_of(kSeed).data());
	const uint64_t m = (1ull << 63) + 1;
	std::string s;
	for (int i = 0; i < 40; i++) {
		uint64_t v = sampling_rng_below(&r, m);
		ASSERT_LT(v, m);
		s += (i ? " " : "") + std::to_string(v);
	}
	EXPECT_EQ(py_ref("below " + kSeed + " 9223372036854775809 40"), s);
}

/* Every draw is a set of distinct indices in range; over many seeds each index is drawn
 * about equally often (a chi-square bound that a biased draw would exceed). */
TEST(SamplingDraw, DistinctAndUniform)
{
	const size_t n = 20, k = 5, draws = 20000;
	std::vector<long> hits(n, 0);
	uint8_t seed[SAMPLING_SEED_LEN] = { 0 };
	for (size_t t = 0; t < draws; t++) {
		memcpy(seed, &t, sizeof t);
		size_t out[k];
		ASSERT_EQ(ML_OK, sampling_draw(seed, n, k, out, nullptr));
		std::set<size_t> uniq(out, out + k);
		ASSERT_EQ(k, uniq.size());
		for (size_t i : uniq) {
			ASSERT_LT(i, n);
			hits[i]++;
		}
	}
	/* expected 5000 per index; chi-square with 19 d.f., 99.9 % quantile 43.8 */
	double chi = 0, e = (double)draws * k / n;
	for (long h : hits)
		chi += (h - e) * (h - e) / e;
	EXPECT_LT(chi, 43.8);
}

TEST(SamplingDraw, SeedsAndBadInput)
{
	uint8_t s[SAMPLING_SEED_LEN], t[SAMPLING_SEED_LEN];
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, sampling_seed_new(s, &err));
	ASSERT_EQ(ML_OK, sampling_seed_new(t, &err));
	EXPECT_NE(0, memcmp(s, t, sizeof s)); /* 2^-256 to fail */
	char h[2 * SAMPLING_SEED_LEN + 1];
	sampling_seed_hex(s, h);
	uint8_t back[SAMPLING_SEED_LEN];
	ASSERT_EQ(ML_OK, sampling_seed_parse(h, back, &err));
	EXPECT_EQ(0, memcmp(s, back, sizeof s));
	EXPECT_EQ(ML_EINVAL, sampling_seed_parse("abc", back, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'abc'"));
	std::string bad = kSeed;
	bad[10] = 'g';
	EXPECT_EQ(ML_EINVAL, sampling_seed_parse(bad.c_str(), back, &err));
	/* upper case is the same seed */
	std::string up = kSeed;
	for (char &c : up)
		c = (char)toupper((unsigned char)c);
	EXPECT_EQ(draw_text(kSeed, 50, 8), draw_text(up, 50, 8));
	size_t out[3];
	EXPECT_EQ(ML_EINVAL, sampling_draw(s, 2, 3, out, &err));
	EXPECT_EQ(ML_OK, sampling_draw(s, 0, 0, out, &err));
}

} // namespace
