/*
 * The database side of arrival sampling (migration 0272) against the C one:
 * the tables row by row, ml_sampling_plan() = sampling_plan_for() on every
 * Table 1 boundary × level × AQL × severity, ml_chacha20_block() on the RFC
 * 8439 vector and on random blocks, ml_sample_draw_indices() =
 * sampling_draw(), and ml_sampling_switch() on the same table of series as
 * the C state machine (tests/data/lab/sampling_switch.tsv).
 */
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "judge_tsv.h"

extern "C" {
#include "lab/sampling.h"
#include "lab/sampling_draw.h"
#include "lab/sampling_table.h"
}

namespace
{

const std::string &db_ci()
{
	static std::string ci = pgtest_fresh_db("samplingdb");
	return ci;
}

struct Db {
	struct db *db;
	Db() : db(pgtest_connect(db_ci()))
	{
	}
	~Db()
	{
		db_close(db);
	}
	PGresult *q(const std::string &sql, std::vector<std::string> params = {})
	{
		std::vector<const char *> p;
		for (auto &s : params)
			p.push_back(s.c_str());
		PGresult *r = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_OK, db_exec(db, sql.c_str(), (int)p.size(), p.data(), PGRES_TUPLES_OK,
					 &r, &err))
			<< err.msg << "\n"
			<< sql;
		return r;
	}
};

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

const char *const severities[] = { "normal", "tightened", "reduced" };

TEST(SamplingDb, TablesEqualTheCompiledOnes)
{
	Db d;
	PGresult *r = d.q("SELECT severity, letter, aql, cell, use_letter, n, ac, re, unverified "
			  "FROM sampling_plan_cell");
	size_t aqln;
	const char *const *aqls = sampling_aqls(&aqln);
	std::map<std::string, int> col;
	for (size_t i = 0; i < aqln; i++)
		col[aqls[i]] = (int)i;
	ASSERT_EQ(3 * SAMPLING_LETTERS * SAMPLING_AQLS, PQntuples(r));
	for (int i = 0; i < PQntuples(r); i++) {
		std::string sev = PQgetvalue(r, i, 0);
		const struct sampling_cell(*t)[SAMPLING_AQLS] = sev == "normal" ? sampling_table2a
								: sev == "tightened"
									? sampling_table2b
									: sampling_table2c;
		int li = (int)(strchr(sampling_letters, PQgetvalue(r, i, 1)[0]) - sampling_letters);
		ASSERT_TRUE(col.count(PQgetvalue(r, i, 2)));
		const struct sampling_cell &c = t[li][col[PQgetvalue(r, i, 2)]];
		std::string cell = PQgetvalue(r, i, 3);
		SCOPED_TRACE(sev + " " + PQgetvalue(r, i, 1) + " " + PQgetvalue(r, i, 2));
		EXPECT_EQ(cell == "plan" ? 'P' : cell == "down" ? 'D' : 'U', c.cell);
		EXPECT_EQ(PQgetisnull(r, i, 4) ? 0 : PQgetvalue(r, i, 4)[0], c.use_letter);
		if (c.use_letter) {
			EXPECT_EQ(c.n, (uint32_t)atoi(PQgetvalue(r, i, 5)));
			EXPECT_EQ(c.ac, atoi(PQgetvalue(r, i, 6)));
			EXPECT_EQ(c.re, atoi(PQgetvalue(r, i, 7)));
		}
		EXPECT_EQ(c.unverified, PQgetvalue(r, i, 8)[0] == 't');
	}
	PQclear(r);
	r = d.q("SELECT lot_min, coalesce(lot_max, 0), level, letter FROM sampling_code_letter ORDER BY "
		"lot_min, level");
	ASSERT_EQ(SAMPLING_T1_ROWS * 7, PQntuples(r));
	static const char *const levels[] = { "S-1", "S-2", "S-3", "S-4", "I", "II", "III" };
	for (int i = 0; i < PQntuples(r); i++) {
		uint32_t lo = (uint32_t)atoi(PQgetvalue(r, i, 0));
		int row = -1;
		for (int k = 0; k < SAMPLING_T1_ROWS; k++)
			if (sampling_table1[k].lot_min == lo)
				row = k;
		ASSERT_GE(row, 0);
		EXPECT_EQ(sampling_table1[row].lot_max, (uint32_t)atoi(PQgetvalue(r, i, 1)));
		int lv = -1;
		for (int k = 0; k < 7; k++)
			if (!strcmp(levels[k], PQgetvalue(r, i, 2)))
				lv = k;
		ASSERT_GE(lv, 0);
		EXPECT_EQ(sampling_table1[row].letters[lv], PQgetvalue(r, i, 3)[0]);
	}
	PQclear(r);
}

/* Every Table 1 boundary (and one above the last) × level × AQL × severity. */
TEST(SamplingDb, PlanEqualsTheCOne)
{
	Db d;
	std::vector<uint32_t> lots;
	for (int k = 0; k < SAMPLING_T1_ROWS; k++) {
		lots.push_back(sampling_table1[k].lot_min);
		if (sampling_table1[k].lot_max)
			lots.push_back(sampling_table1[k].lot_max);
	}
	lots.push_back(2000000);
	std::string arr = "{";
	for (size_t i = 0; i < lots.size(); i++)
		arr += (i ? "," : "") + std::to_string(lots[i]);
	arr += "}";
	size_t aqln;
	const char *const *aqls = sampling_aqls(&aqln);
	std::string aarr = "{";
	for (size_t i = 0; i < aqln; i++)
		aarr += std::string(i ? "," : "") + aqls[i];
	aarr += "}";
	/* a plpgsql error on the one edge cell without a plan: caught per row */
	PGresult *r = d.q(
		"SELECT l, v, a, s, p.* FROM unnest($1::int[]) l, unnest(ARRAY['S-1','S-2','S-3','S-4',"
		"'I','II','III']) v, unnest($2::text[]) a, unnest(ARRAY['normal','tightened','reduced']) s "
		"LEFT JOIN LATERAL (SELECT * FROM ml_sampling_plan(l, v, a, s) "
		"WHERE NOT (s = 'normal' AND l > 500000 AND v = 'III' AND a = '0.015')) p ON true",
		{ arr, aarr });
	int checked = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		uint32_t lot = (uint32_t)atoi(PQgetvalue(r, i, 0));
		enum sampling_level lv;
		enum sampling_severity sv;
		ASSERT_EQ(ML_OK, sampling_level_parse(PQgetvalue(r, i, 1), &lv, nullptr));
		ASSERT_EQ(ML_OK, sampling_severity_parse(PQgetvalue(r, i, 3), &sv, nullptr));
		struct sampling_plan p;
		int rc = sampling_plan_for(lot, lv, PQgetvalue(r, i, 2), sv, &p, nullptr);
		SCOPED_TRACE(std::to_string(lot) + " " + PQgetvalue(r, i, 1) + " " +
			     PQgetvalue(r, i, 2) + " " + PQgetvalue(r, i, 3));
		if (PQgetisnull(r, i, 4)) { /* the filtered edge: C refuses it too */
			EXPECT_EQ(ML_EINVAL, rc);
			continue;
		}
		ASSERT_EQ(ML_OK, rc);
		EXPECT_EQ(p.code_letter, PQgetvalue(r, i, 4)[0]);
		EXPECT_EQ(p.plan_letter, PQgetvalue(r, i, 5)[0]);
		EXPECT_EQ(p.arrow, atoi(PQgetvalue(r, i, 6)));
		EXPECT_STREQ(p.aql, PQgetvalue(r, i, 7));
		EXPECT_EQ(p.sample_size, (uint32_t)atoi(PQgetvalue(r, i, 8)));
		EXPECT_EQ(p.ac, atoi(PQgetvalue(r, i, 9)));
		EXPECT_EQ(p.re, atoi(PQgetvalue(r, i, 10)));
		EXPECT_EQ(p.full_inspection, PQgetvalue(r, i, 11)[0] == 't');
		EXPECT_EQ(p.unverified, PQgetvalue(r, i, 12)[0] == 't');
		checked++;
	}
	PQclear(r);
	EXPECT_GT(checked, 3000);
	/* refusals name the value */
	struct ml_error err = ML_ERROR_INIT;
	const char *p[1] = { "0.5" };
	EXPECT_EQ(ML_EINVAL,
		  db_exec(d.db, "SELECT * FROM ml_sampling_plan(100, 'II', $1, 'normal')", 1, p,
			  PGRES_TUPLES_OK, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'0.5'")) << err.msg;
}

TEST(SamplingDb, ChaCha20AndDrawEqualTheCOnes)
{
	Db d;
	PGresult *r = d.q("SELECT encode(ml_chacha20_block(decode($1, 'hex'), 1, "
			  "decode('000000090000004a00000000', 'hex')), 'hex')",
			  { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" });
	EXPECT_STREQ("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
		     "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
		     PQgetvalue(r, 0, 0));
	PQclear(r);
	uint8_t key[32], nonce[12], out[64];
	for (int t = 0; t < 20; t++) {
		for (int i = 0; i < 32; i++)
			key[i] = (uint8_t)(t * 37 + i * 11);
		for (int i = 0; i < 12; i++)
			nonce[i] = (uint8_t)(t * 5 + i * 3);
		uint32_t counter = 0xFFFFFFF0u + (uint32_t)t; /* wraps */
		sampling_chacha20_block(key, counter, nonce, out);
		r = d.q("SELECT encode(ml_chacha20_block(decode($1, 'hex'), $2::bigint, decode($3, 'hex')), "
			"'hex')",
			{ hex(key, 32), std::to_string(counter), hex(nonce, 12) });
		EXPECT_EQ(hex(out, 64), PQgetvalue(r, 0, 0)) << t;
		PQclear(r);
	}
	struct {
		const char *seed;
		int n, k;
	} cases[] = {
		{ "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 2400, 10 },
		{ "0000000000000000000000000000000000000000000000000000000000000000", 24, 5 },
		{ "7d3c9a1e55f00b2c4e8a61d09b7f32c5a4e1d6b8093f7c2e5a1b4d6f8e0c2a19", 3200, 125 },
		{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 13, 13 },
	};
	for (const auto &c : cases) {
		uint8_t seed[SAMPLING_SEED_LEN];
		ASSERT_EQ(ML_OK, sampling_seed_parse(c.seed, seed, nullptr));
		std::vector<size_t> idx((size_t)c.k);
		ASSERT_EQ(ML_OK,
			  sampling_draw(seed, (size_t)c.n, (size_t)c.k, idx.data(), nullptr));
		std::string want = "{";
		for (int i = 0; i < c.k; i++)
			want += (i ? "," : "") + std::to_string(idx[(size_t)i]);
		want += "}";
		r = d.q("SELECT ml_sample_draw_indices(decode($1, 'hex'), $2::int, $3::int)",
			{ c.seed, std::to_string(c.n), std::to_string(c.k) });
		EXPECT_EQ(want, PQgetvalue(r, 0, 0)) << c.seed;
		PQclear(r);
	}
}

/* The C series again, through ml_sampling_switch(). */
class SwitchDb : public ::testing::TestWithParam<TsvRow>
{
};

TEST_P(SwitchDb, FollowsClause9)
{
	const TsvRow &row = GetParam();
	int rules[7] = { 2, 5, 5, 30, 3, 2, 5 };
	if (row[1] != "default") {
		for (const std::string &kv : tsv_split(row[1], ',')) {
			size_t eq = kv.find('=');
			std::string k = kv.substr(0, eq);
			int v = std::stoi(kv.substr(eq + 1));
			if (k == "tighten_rejects")
				rules[0] = v;
			else if (k == "tighten_window")
				rules[1] = v;
			else if (k == "reduced_score")
				rules[3] = v;
			else if (k == "discontinue_rejects")
				rules[6] = v;
		}
	}
	std::string r = "{";
	for (int i = 0; i < 7; i++)
		r += (i ? "," : "") + std::to_string(rules[i]);
	r += "}";
	Db d;
	std::string state = "(" + row[2] + ",f,0,0,0,0)", got;
	for (char c : row[3]) {
		std::string ev = "lot", orig = "true", acc = "true", ac = "0", tighter = "0";
		switch (c) {
		case 'r':
			acc = "false";
			break;
		case 'A':
		case 'B':
		case 'X':
			ac = "3";
			tighter = c == 'A' ? "1" : c == 'B' ? "0" : "-1";
			break;
		case 's':
			orig = "false";
			break;
		case 'P':
			ev = "approve_reduced";
			break;
		case 'I':
			ev = "irregular";
			break;
		case 'U':
			ev = "resume";
			break;
		}
		const char *p[7] = { state.c_str(), ev.c_str(), r.c_str(),      orig.c_str(),
				     acc.c_str(),   ac.c_str(), tighter.c_str() };
		PGresult *res = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		int rc = db_exec(
			d.db,
			"SELECT (s.state)::text, s.outcome FROM ml_sampling_switch($1::ml_switch_state, "
			"$2, $3::int[], $4::boolean, $5::boolean, $6::int, $7::int) s",
			7, p, PGRES_TUPLES_OK, &res, &err);
		if (rc == ML_ESTATE) {
			got += '!';
			continue;
		}
		ASSERT_EQ(ML_OK, rc) << err.msg;
		std::string o = PQgetvalue(res, 0, 1);
		got += o == "stay"           ? '.'
		       : o == "to_tightened" ? 'T'
		       : o == "to_normal"    ? 'N'
		       : o == "to_reduced"   ? 'R'
		       : o == "discontinue"  ? 'D'
					     : 'U';
		state = PQgetvalue(res, 0, 0);
		PQclear(res);
	}
	EXPECT_EQ(row[4], got) << row[0];
	/* (severity,discontinued,score,history,history_n,tightened_rejects) */
	std::vector<std::string> f = tsv_split(state.substr(1, state.size() - 2), ',');
	EXPECT_EQ(row[5], f[0]) << row[0];
	EXPECT_EQ(row[6], f[2]) << row[0];
	EXPECT_EQ(row[7] == "1" ? "t" : "f", f[1]) << row[0];
}

INSTANTIATE_TEST_SUITE_P(Tsv, SwitchDb, ::testing::ValuesIn(tsv_load("sampling_switch.tsv")),
			 [](const ::testing::TestParamInfo<TsvRow> &i) { return i.param[0]; });

} // namespace
