/*
 * ISO 2859-1 Tables 2-B (tightened) and 2-C (reduced): the compiled tables
 * equal lab/iso2859-1-tightened-reduced.json cell by cell; the tables keep
 * the structure of the standard (every arrow ends at a plan of its column,
 * Re = Ac + 1, acceptance numbers grow along a row); table-driven plans;
 * the switching score's "one step tighter" comparison.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../support/pgtest.h"

extern "C" {
#include "lab/sampling.h"
#include "lab/sampling_table.h"
}

namespace
{

const char *const kJsonToTsv =
	"import json,sys\n"
	"d=json.load(open(sys.argv[1],encoding='utf-8'))\n"
	"for t,key in (('B','table2b_tightened_single'),('C','table2c_reduced_single')):\n"
	"  for k,row in d[key].items():\n"
	"    for a,c in row.items():\n"
	"      print(t,k,a,c['cell'],c['use_letter'],c['sample_size'],c['Ac'],c['Re'],"
	"1 if c.get('unverified') else 0)\n"
	"for k,v in d['sample_size_by_letter_reduced'].items(): print('N',k,v)\n";

std::vector<std::string> json_lines()
{
	std::string out;
	std::string cmd = "/usr/bin/python3 -c " + pgtest_sq(kJsonToTsv) + " " +
			  pgtest_sq(pgtest_src("lab/iso2859-1-tightened-reduced.json"));
	EXPECT_EQ(0, pgtest_run(cmd, &out)) << out;
	std::vector<std::string> lines;
	std::istringstream in(out);
	for (std::string l; std::getline(in, l);)
		lines.push_back(l);
	return lines;
}

int letter_index(char l)
{
	const char *p = l ? strchr(sampling_letters, l) : nullptr;
	return p ? (int)(p - sampling_letters) : -1;
}

TEST(SamplingSeverity, CompiledTablesEqualTheJson)
{
	std::vector<std::string> lines = json_lines();
	ASSERT_FALSE(lines.empty());
	size_t aqln = 0;
	const char *const *aqls = sampling_aqls(&aqln);
	std::map<std::string, int> col;
	for (size_t i = 0; i < aqln; i++)
		col[aqls[i]] = (int)i;
	int nb = 0, nc = 0, nn = 0;
	for (const std::string &l : lines) {
		std::istringstream f(l);
		std::string tag;
		f >> tag;
		if (tag == "N") {
			std::string letter;
			uint32_t n;
			f >> letter >> n;
			EXPECT_EQ(n, sampling_sizes_reduced[letter_index(letter[0])]) << l;
			nn++;
			continue;
		}
		std::string letter, aql, cell, use;
		uint32_t n;
		int ac, re, unv;
		f >> letter >> aql >> cell >> use >> n >> ac >> re >> unv;
		ASSERT_TRUE(col.count(aql)) << l;
		const struct sampling_cell &c =
			(tag == "B" ? sampling_table2b
				    : sampling_table2c)[letter_index(letter[0])][col[aql]];
		EXPECT_EQ(cell == "plan" ? 'P' : cell == "down" ? 'D' : 'U', c.cell) << l;
		EXPECT_EQ(use[0], c.use_letter) << l;
		EXPECT_EQ(n, c.n) << l;
		EXPECT_EQ(ac, c.ac) << l;
		EXPECT_EQ(re, c.re) << l;
		EXPECT_EQ(unv, c.unverified) << l;
		(tag == "B" ? nb : nc)++;
	}
	EXPECT_EQ(SAMPLING_LETTERS * SAMPLING_AQLS, nb);
	EXPECT_EQ(SAMPLING_LETTERS * SAMPLING_AQLS, nc);
	EXPECT_EQ(SAMPLING_LETTERS, nn);
}

/* Structure of a master table, as the standard draws it. */
void check_structure(const struct sampling_cell (*t)[SAMPLING_AQLS], const uint32_t *sizes,
		     const char *name)
{
	for (int li = 0; li < SAMPLING_LETTERS; li++) {
		int last_ac = -1;
		for (int col = 0; col < SAMPLING_AQLS; col++) {
			const struct sampling_cell &c = t[li][col];
			SCOPED_TRACE(std::string(name) + " " + sampling_letters[li] + " col " +
				     std::to_string(col));
			if (!c.use_letter) { /* 2-A R 0.015: no plan, an unverified edge cell */
				EXPECT_TRUE(c.unverified);
				continue;
			}
			EXPECT_EQ(c.ac + 1, c.re); /* single sampling, 1999 edition: no gaps */
			if (c.cell == 'P') {
				EXPECT_EQ(sampling_letters[li], c.use_letter);
				EXPECT_EQ(sizes[li], c.n);
				/* acceptance numbers never fall along a row of plans */
				EXPECT_GE(c.ac, last_ac);
				last_ac = c.ac;
				continue;
			}
			/* an arrow leads to the first plan in its direction, in the same column */
			if (c.use_letter == 'S') {
				EXPECT_EQ('D', c.cell);
				EXPECT_EQ(3150u, c.n);
				continue;
			}
			int to = letter_index(c.use_letter);
			ASSERT_GE(to, 0);
			EXPECT_EQ(c.cell == 'D', to > li);
			int step = to > li ? 1 : -1;
			for (int k = li + step; k != to; k += step)
				EXPECT_NE('P', t[k][col].cell);
			EXPECT_EQ('P', t[to][col].cell);
			EXPECT_EQ(t[to][col].n, c.n);
			EXPECT_EQ(t[to][col].ac, c.ac);
		}
	}
}

TEST(SamplingSeverity, TablesKeepTheStandardsStructure)
{
	check_structure(sampling_table2a, sampling_sizes, "2-A");
	check_structure(sampling_table2b, sampling_sizes, "2-B");
	check_structure(sampling_table2c, sampling_sizes_reduced, "2-C");
	/* reduced sample sizes: two code letters below the normal ones (2-C's A..C all 2) */
	for (int li = 3; li < SAMPLING_LETTERS; li++)
		EXPECT_EQ(sampling_sizes[li - 2], sampling_sizes_reduced[li])
			<< sampling_letters[li];
	/* tightened keeps the normal sample sizes and is never looser: same column and
	 * letter, Ac under 2-B <= Ac under 2-A when both use the same sample size */
	for (int li = 0; li < SAMPLING_LETTERS; li++)
		for (int col = 0; col < SAMPLING_AQLS; col++) {
			const struct sampling_cell &a = sampling_table2a[li][col];
			const struct sampling_cell &b = sampling_table2b[li][col];
			if (a.n == b.n) {
				EXPECT_LE(b.ac, a.ac) << sampling_letters[li] << " col " << col;
			}
		}
}

struct SevCase {
	uint32_t lot;
	const char *level, *aql, *severity;
	char code, plan;
	uint32_t n;
	int ac, re, arrow, full, unverified;
};

class SamplingSeverityPlan : public ::testing::TestWithParam<SevCase>
{
};

TEST_P(SamplingSeverityPlan, Resolves)
{
	const SevCase &c = GetParam();
	enum sampling_level lv;
	enum sampling_severity sv;
	ASSERT_EQ(ML_OK, sampling_level_parse(c.level, &lv, nullptr));
	ASSERT_EQ(ML_OK, sampling_severity_parse(c.severity, &sv, nullptr));
	struct sampling_plan p;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, sampling_plan_for(c.lot, lv, c.aql, sv, &p, &err)) << err.msg;
	EXPECT_EQ(sv, p.severity);
	EXPECT_EQ(c.code, p.code_letter);
	EXPECT_EQ(c.plan, p.plan_letter);
	EXPECT_EQ(c.n, p.sample_size);
	EXPECT_EQ(c.ac, p.ac);
	EXPECT_EQ(c.re, p.re);
	EXPECT_EQ(c.arrow, p.arrow);
	EXPECT_EQ(c.full, p.full_inspection);
	EXPECT_EQ(c.unverified, p.unverified);
}

INSTANTIATE_TEST_SUITE_P(
	Iso2859, SamplingSeverityPlan,
	::testing::Values(
		/* the domain 3.3 example lot under each severity */
		SevCase{ 2400, "II", "1.0", "normal", 'K', 'K', 125, 3, 4, 0, 0, 0 },
		SevCase{ 2400, "II", "1.0", "tightened", 'K', 'K', 125, 2, 3, 0, 0, 0 },
		SevCase{ 2400, "II", "1.0", "reduced", 'K', 'K', 50, 2, 3, 0, 0, 1 },
		/* tightened: two down arrows after 0/1 (K 0.25 -> M's 1/2) */
		SevCase{ 2400, "II", "0.25", "tightened", 'K', 'M', 315, 1, 2, 1, 0, 0 },
		SevCase{ 2400, "II", "0.15", "tightened", 'K', 'K', 125, 0, 1, 0, 0, 0 },
		/* letter S (3150) only as the target of 2-B's arrows */
		SevCase{ 600000, "III", "0.025", "tightened", 'R', 'S', 3150, 1, 2, 1, 0, 0 },
		/* reduced: 0/1, up, down, down, 1/2 along K */
		SevCase{ 2400, "II", "0.15", "reduced", 'K', 'J', 32, 0, 1, -1, 0, 1 },
		SevCase{ 2400, "II", "0.40", "reduced", 'K', 'L', 80, 1, 2, 1, 0, 1 },
		SevCase{ 2400, "II", "4.0", "reduced", 'K', 'K', 50, 6, 7, 0, 0, 1 },
		/* reduced bottom edge: long up arrow (source B's erratum 1) */
		SevCase{ 600000, "III", "0.015", "reduced", 'R', 'P', 315, 0, 1, -1, 0, 1 },
		/* sample not smaller than the lot: inspect 100 % */
		SevCase{ 12, "II", "6.5", "tightened", 'B', 'B', 3, 0, 1, 0, 0, 0 },
		SevCase{ 4, "II", "1.0", "tightened", 'A', 'F', 4, 0, 1, 1, 1, 0 }));

TEST(SamplingSeverity, RejectsBadSeverity)
{
	struct sampling_plan p;
	struct ml_error err = ML_ERROR_INIT;
	enum sampling_severity sv;
	EXPECT_EQ(ML_EINVAL, sampling_severity_parse("strict", &sv, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'strict'"));
	EXPECT_EQ(ML_EINVAL,
		  sampling_plan_for(100, SAMPLING_II, "1.0", (enum sampling_severity)7, &p, &err));
	EXPECT_STREQ("tightened", sampling_severity_name(SAMPLING_TIGHTENED));
}

/* 9.3.3.2 a) 1): the lot judged again with the next tighter AQL of the same letter. */
TEST(SamplingSeverity, OneStepTighterUsesTheSameSample)
{
	struct sampling_plan p;
	struct ml_error err = ML_ERROR_INIT;
	/* K 1.0 normal: 3/4; one step tighter (0.65) for K is 2/3 */
	ASSERT_EQ(ML_OK, sampling_plan_normal(2400, SAMPLING_II, "1.0", &p, &err));
	EXPECT_EQ(1, sampling_accepted_one_step_tighter(&p, 2));
	EXPECT_EQ(0, sampling_accepted_one_step_tighter(&p, 3));
	/* M at 6.5 is an up arrow to L's 21/22 (n 200): tighter for L (4.0) is 14/15 */
	ASSERT_EQ(ML_OK, sampling_plan_normal(20000, SAMPLING_II, "6.5", &p, &err));
	ASSERT_EQ('L', p.plan_letter);
	EXPECT_EQ(1, sampling_accepted_one_step_tighter(&p, 14));
	EXPECT_EQ(0, sampling_accepted_one_step_tighter(&p, 15));
	/* K 0.40 normal is 1/2; the tighter cell (0.25) is an arrow to another sample size */
	ASSERT_EQ(ML_OK, sampling_plan_normal(2400, SAMPLING_II, "0.40", &p, &err));
	EXPECT_EQ(-1, sampling_accepted_one_step_tighter(&p, 0));
	/* no column tighter than 0.010; and only normal inspection keeps a score */
	ASSERT_EQ(ML_OK, sampling_plan_normal(2400, SAMPLING_II, "0.010", &p, &err));
	EXPECT_EQ(-1, sampling_accepted_one_step_tighter(&p, 0));
	ASSERT_EQ(ML_OK, sampling_plan_for(2400, SAMPLING_II, "1.0", SAMPLING_TIGHTENED, &p, &err));
	EXPECT_EQ(-1, sampling_accepted_one_step_tighter(&p, 0));
}

} // namespace
