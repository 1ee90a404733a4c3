/*
 * quality/exact.c against an independent reference in Python integers
 * (tests/quality/exact_ref.py): the decision P <= t flips exactly at the
 * true tail probability — at t = P, just below and just above it, where a
 * binary floating-point tail would be off by more than the gap — on grids
 * of small cases, and equals the reference on large ones where the sum
 * stops early.
 */
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "../support/pgtest.h"

extern "C" {
#include "quality/exact.h"
}

namespace
{

/* One output line per input line of exact_ref.py. */
std::vector<std::string> reference(const std::string &input)
{
	char path[] = "/tmp/ml-exact-XXXXXX";
	int fd = mkstemp(path);
	EXPECT_GE(fd, 0);
	EXPECT_EQ((ssize_t)input.size(), write(fd, input.data(), input.size()));
	close(fd);
	std::string out;
	int rc = pgtest_run("/usr/bin/python3 " +
				    pgtest_sq(pgtest_src("tests/quality/exact_ref.py")) + " < " +
				    path,
			    &out, true);
	unlink(path);
	EXPECT_EQ(0, rc) << out;
	std::vector<std::string> lines;
	std::istringstream in(out);
	for (std::string l; std::getline(in, l);)
		lines.push_back(l);
	return lines;
}

struct Case {
	bool hyper;
	uint64_t a, b, c, d; /* N K n x  or  F a b y */
};

int decide(const Case &c, uint64_t num, uint64_t den)
{
	return c.hyper ? qx_hyper_tail_le(c.a, c.b, c.c, c.d, num, den)
		       : qx_binom_tail_le(c.a, c.b, c.c, c.d, num, den);
}

std::string text(const Case &c)
{
	return std::string(c.hyper ? "hyper " : "binom ") + std::to_string(c.a) + " " +
	       std::to_string(c.b) + " " + std::to_string(c.c) + " " + std::to_string(c.d);
}

/* Small cases whose exact tail num/den fits in 63 bits: the decision at the boundary. */
TEST(QualityExact, FlipsExactlyAtTheTailProbability)
{
	std::vector<Case> cases;
	for (uint64_t N : { 2, 7, 12, 20, 31, 40 })
		for (uint64_t K = 0; K <= N; K += (N / 5 ? N / 5 : 1))
			for (uint64_t n = 1; n <= N; n += (N / 4 ? N / 4 : 1))
				for (uint64_t x = 0; x <= n && x <= K; x++)
					if (n - x <= N - K)
						cases.push_back({ true, N, K, n, x });
	for (uint64_t F : { 1, 3, 8, 12 })
		for (uint64_t b : { 2, 7, 29 })
			for (uint64_t a = 0; a <= b; a += (b / 3 ? b / 3 : 1))
				for (uint64_t y = 0; y <= F; y++)
					cases.push_back({ false, F, a, b, y });
	std::string in;
	for (const Case &c : cases)
		in += text(c) + "\n";
	std::vector<std::string> ref = reference(in);
	ASSERT_EQ(cases.size(), ref.size());
	int checked = 0;
	for (size_t i = 0; i < cases.size(); i++) {
		std::istringstream f(ref[i]);
		unsigned long long num, den;
		f >> num >> den;
		if (den > (1ull << 62))
			continue; /* the boundary is not representable in 64 bits */
		const Case &c = cases[i];
		EXPECT_EQ(1, decide(c, num, den)) << text(c) << " at p = " << ref[i];
		if (num > 0) {
			EXPECT_EQ(0, decide(c, 2 * num - 1, 2 * den))
				<< text(c) << " below " << ref[i];
		}
		EXPECT_EQ(1, decide(c, 2 * num + 1, 2 * den)) << text(c) << " above " << ref[i];
		/* the display value is close to the exact one */
		double p = (double)num / (double)den;
		double approx = c.hyper ? qx_hyper_tail(c.a, c.b, c.c, c.d)
					: qx_binom_tail(c.a, c.b, c.c, c.d);
		EXPECT_NEAR(p, approx, 1e-9 * (p > 1e-300 ? p : 1) + 1e-300) << text(c);
		checked++;
	}
	EXPECT_GT(checked, 400);
}

/* Large cases (hundreds to thousands of digits; the sums stop early) against the reference. */
TEST(QualityExact, LargeCasesEqualTheReference)
{
	std::vector<std::pair<Case, std::pair<uint64_t, uint64_t>>> q;
	for (uint64_t x : { 3, 8, 10, 14, 15, 16, 17, 18, 20, 25, 30 })
		for (uint64_t m : { 1, 3, 10, 100 })
			q.push_back({ { true, 5000, 100, 500, x }, { 5, 100 * m } });
	for (uint64_t y : { 2, 4, 7, 8, 9, 10, 11, 13, 20 })
		for (uint64_t m : { 1, 4, 50 })
			q.push_back({ { false, 200, 200, 10000, y }, { 5, 100 * m } });
	std::string in;
	for (auto &e : q)
		in += text(e.first) + " " + std::to_string(e.second.first) + " " +
		      std::to_string(e.second.second) + "\n";
	std::vector<std::string> ref = reference(in);
	ASSERT_EQ(q.size(), ref.size());
	int flagged = 0;
	for (size_t i = 0; i < q.size(); i++) {
		std::istringstream f(ref[i]);
		std::string num, den;
		int le;
		f >> num >> den >> le;
		EXPECT_EQ(le, decide(q[i].first, q[i].second.first, q[i].second.second))
			<< text(q[i].first) << " <= " << q[i].second.first << "/"
			<< q[i].second.second;
		flagged += le;
	}
	/* both answers occur, so the comparison is really exercised */
	EXPECT_GT(flagged, 10);
	EXPECT_LT(flagged, (int)q.size() - 10);
}

TEST(QualityExact, ImpossibleArguments)
{
	EXPECT_EQ(-1, qx_hyper_tail_le(10, 11, 5, 1, 1, 20)); /* K > N */
	EXPECT_EQ(-1, qx_hyper_tail_le(10, 3, 5, 4, 1, 20));  /* x > K */
	EXPECT_EQ(-1, qx_hyper_tail_le(10, 9, 5, 3, 1, 20));  /* n - x > N - K */
	EXPECT_EQ(-1, qx_hyper_tail_le(10, 3, 5, 1, 1, 0));   /* den 0 */
	EXPECT_EQ(-1, qx_binom_tail_le(5, 3, 2, 1, 1, 20));   /* a > b */
	EXPECT_EQ(-1, qx_binom_tail_le(5, 1, 2, 6, 1, 20));   /* y > F */
	EXPECT_EQ(1, qx_binom_tail_le(5, 0, 10, 1, 0, 1));    /* no exposure, a fault: P = 0 */
	EXPECT_EQ(0, qx_hyper_tail_le(10, 3, 5, 0, 99, 100)); /* x = 0: P = 1 */
	EXPECT_TRUE(std::isnan(qx_hyper_tail(10, 11, 5, 1)));
}

/* A province-sized maker: 830 000 verifications, 1 % failing, 150 000 of one maker. */
TEST(QualityExact, ProvinceScaleDecides)
{
	/* expected 1 500 failures; 1 700 is far out, 1 520 is not */
	EXPECT_EQ(1, qx_hyper_tail_le(830000, 8300, 150000, 1700, 5, 100 * 20));
	EXPECT_EQ(0, qx_hyper_tail_le(830000, 8300, 150000, 1520, 5, 100 * 20));
	double p = qx_hyper_tail(830000, 8300, 150000, 1700);
	EXPECT_GT(p, 0);
	EXPECT_LT(p, 1e-5);
}

} // namespace
