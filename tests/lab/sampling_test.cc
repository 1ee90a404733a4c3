/* ISO 2859-1 sampling: the compiled table equals the reference JSON; worked examples of domain 3.3. */
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

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
	"L=['S-1','S-2','S-3','S-4','I','II','III']\n"
	"for r in d['table1_code_letters']:\n"
	"  print('T1',r['lot_min'],r['lot_max'] or 0,''.join(r[l] for l in L))\n"
	"for k,v in d['sample_size_by_letter'].items(): print('N',k,v)\n"
	"for k,row in d['table2a_normal_single'].items():\n"
	"  for a,c in row.items():\n"
	"    print('T2',k,a,c['cell'],c.get('use_letter','-'),c.get('sample_size',0),c.get('Ac',0),c.get('Re',0),"
	"1 if c.get('unverified') else 0)\n";

/* The reference JSON as lines, via the Debian python (the C side must not parse JSON).
 * The reference lies beside the source tree (../shared), as on CI. */
std::vector<std::string> reference_lines()
{
	std::string out;
	std::string cmd = "/usr/bin/python3 -c " + pgtest_sq(kJsonToTsv) + " " +
			  pgtest_sq(pgtest_src("../shared/reference/iso2859-1-normal-single.json"));
	int rc = pgtest_run(cmd, &out);
	EXPECT_EQ(0, rc) << out;
	std::vector<std::string> lines;
	std::istringstream in(out);
	for (std::string l; std::getline(in, l);)
		lines.push_back(l);
	return lines;
}

TEST(Sampling, CompiledTablesEqualTheReferenceJson)
{
	std::vector<std::string> lines = reference_lines();
	ASSERT_FALSE(lines.empty());
	size_t aqln = 0;
	const char *const *aqls = sampling_aqls(&aqln);
	std::map<std::string, int> col;
	for (size_t i = 0; i < aqln; i++)
		col[aqls[i]] = (int)i;
	int t1 = 0, t2 = 0, nn = 0;
	for (const std::string &l : lines) {
		std::istringstream f(l);
		std::string tag;
		f >> tag;
		if (tag == "T1") {
			uint32_t lo, hi;
			std::string letters;
			f >> lo >> hi >> letters;
			ASSERT_LT(t1, SAMPLING_T1_ROWS);
			EXPECT_EQ(lo, sampling_table1[t1].lot_min) << l;
			EXPECT_EQ(hi, sampling_table1[t1].lot_max) << l;
			EXPECT_EQ(letters, sampling_table1[t1].letters) << l;
			t1++;
		} else if (tag == "N") {
			std::string letter;
			uint32_t n;
			f >> letter >> n;
			EXPECT_EQ(letter[0], sampling_letters[nn]);
			EXPECT_EQ(n, sampling_sizes[nn]) << l;
			nn++;
		} else if (tag == "T2") {
			std::string letter, aql, cell, use;
			uint32_t n;
			int ac, re, unv;
			f >> letter >> aql >> cell >> use >> n >> ac >> re >> unv;
			int li = (int)(strchr(sampling_letters, letter[0]) - sampling_letters);
			ASSERT_TRUE(col.count(aql)) << l;
			const struct sampling_cell &c = sampling_table2a[li][col[aql]];
			EXPECT_EQ(cell == "plan" ? 'P' : cell == "down" ? 'D' : 'U', c.cell) << l;
			EXPECT_EQ(use == "-" ? 0 : use[0], c.use_letter) << l;
			EXPECT_EQ(n, c.n) << l;
			EXPECT_EQ(ac, c.ac) << l;
			EXPECT_EQ(re, c.re) << l;
			if (unv) {
				EXPECT_TRUE(c.unverified) << l;
			}
			t2++;
		}
	}
	EXPECT_EQ(SAMPLING_T1_ROWS, t1);
	EXPECT_EQ(SAMPLING_LETTERS, nn);
	EXPECT_EQ(SAMPLING_LETTERS * SAMPLING_AQLS, t2);
}

struct PlanCase {
	uint32_t lot;
	const char *level, *aql;
	char code, plan;
	uint32_t n;
	int ac, re, arrow, full;
};

class SamplingPlan : public ::testing::TestWithParam<PlanCase>
{
};

TEST_P(SamplingPlan, Resolves)
{
	const PlanCase &c = GetParam();
	enum sampling_level lv;
	ASSERT_EQ(ML_OK, sampling_level_parse(c.level, &lv, nullptr));
	struct sampling_plan p;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, sampling_plan_normal(c.lot, lv, c.aql, &p, &err)) << err.msg;
	EXPECT_EQ(c.code, p.code_letter);
	EXPECT_EQ(c.plan, p.plan_letter);
	EXPECT_EQ(c.n, p.sample_size);
	EXPECT_EQ(c.ac, p.ac);
	EXPECT_EQ(c.re, p.re);
	EXPECT_EQ(c.arrow, p.arrow);
	EXPECT_EQ(c.full, p.full_inspection);
}

INSTANTIATE_TEST_SUITE_P(
	Iso2859, SamplingPlan,
	::testing::Values(
		PlanCase{ 2400, "II", "1.0", 'K', 'K', 125, 3, 4, 0,
			  0 }, /* domain 3.3 worked example */
		PlanCase{ 2400, "II", "0.15", 'K', 'J', 80, 0, 1, -1, 0 }, /* ↑ to J */
		PlanCase{ 2400, "II", "2.5", 'K', 'K', 125, 7, 8, 0, 0 },  /* drmcoder's check */
		PlanCase{ 2400, "II", "1", 'K', 'K', 125, 3, 4, 0, 0 },    /* spelling */
		PlanCase{ 10, "II", "1.0", 'B', 'E', 10, 0, 1, 1, 1 }, /* ↓ to n 13 ≥ lot: 100 % */
		PlanCase{ 600, "S-2", "4.0", 'C', 'B', 3, 0, 1, -1, 0 }, /* special level, ↑ */
		PlanCase{ 600, "S2", "6.5", 'C', 'D', 8, 1, 2, 1, 0 }, /* C at 6.5: ↓ to D's 1/2 */
		PlanCase{ 1000000, "III", "0.65", 'R', 'R', 2000, 21, 22, 0, 0 },
		PlanCase{ 200, "I", "0.15", 'E', 'J', 80, 0, 1, 1, 0 },
		PlanCase{ 3200, "II", "0.15", 'K', 'J', 80, 0, 1, -1, 0 },
		PlanCase{ 3201, "II", "0.15", 'L', 'M', 315, 1, 2, 1, 0 })); /* aql.js typo cell */

TEST(Sampling, RejectsBadInputAndFlagsUnverified)
{
	struct sampling_plan p;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, sampling_plan_normal(1, SAMPLING_II, "1.0", &p, &err));
	EXPECT_EQ(ML_EINVAL, sampling_plan_normal(100, SAMPLING_II, "0.5", &p, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'0.5'"));
	enum sampling_level lv;
	EXPECT_EQ(ML_EINVAL, sampling_level_parse("IV", &lv, &err));
	/* R at 0.015 has no plan; R at 0.010 resolves but is an unverified edge cell */
	EXPECT_EQ(ML_EINVAL, sampling_plan_normal(600000, SAMPLING_III, "0.015", &p, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "unverified"));
	ASSERT_EQ(ML_OK, sampling_plan_normal(600000, SAMPLING_III, "0.010", &p, &err));
	EXPECT_EQ(1, p.unverified);
	ASSERT_EQ(ML_OK, sampling_plan_normal(2400, SAMPLING_II, "1.0", &p, &err));
	EXPECT_EQ(0, p.unverified);
	EXPECT_TRUE(sampling_lot_accepted(&p, 3));
	EXPECT_FALSE(sampling_lot_accepted(&p, 4));
}

} // namespace
