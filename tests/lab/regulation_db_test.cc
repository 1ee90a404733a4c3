/*
 * The regulation as data in the database (0112, 0113) is lab/limits.c and
 * lab/plan.c: the scheme and result checks of the database use
 * ml_reg_meter_limit, ml_reg_xfmr_limit, ml_rule_creep_ms and
 * ml_rule_start_ms, and these must give exactly what the C judge and planner
 * give — for every class, connection, power factor, element and load point of
 * a grid, every CT/VT class and percent, and creep/start times of a set of
 * models.
 */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "lab/judge.h"
#include "lab/plan.h"
#include "lab/settings.h"
#include "lab/task.h"
#include "sql/pgarr.h"

namespace
{

std::string g_ci;

class RegulationDb : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		g_ci = pgtest_fresh_db("regdb");
	}
	void SetUp() override
	{
		db_ = pgtest_connect(g_ci);
		lab_settings_defaults(&set_);
	}
	void TearDown() override
	{
		db_close(db_);
	}
	struct db *db_ = nullptr;
	struct lab_settings set_;
};

TEST_F(RegulationDb, MeterLimitsEqualLimitsC)
{
	static const char *const classes[] = { "0.2S", "0.5S", "1", "2", "A", "B", "C", "D", "E" };
	static const char *const conns[] = { "direct", "transformer" };
	static const int64_t mults[] = { 100,  200,  400,   500,   1000,  1500,
					 2000, 5000, 10000, 20000, 120000 };
	static const int64_t ratings[][2] = { { 5000, 60000 }, { 1500, 6000 }, { 0, 0 } };
	struct pgarr a[8];
	for (auto &x : a)
		pgarr_init(&x);
	std::vector<std::string> want;
	for (const char *cls : classes)
		for (int c = 0; c < 2; c++)
			for (int pf = PF_1; pf <= PF_0_5C; pf++)
				for (int el = ELEM_H; el <= ELEM_C; el++)
					for (int base = POINT_IB; base <= POINT_IMIN; base++)
						for (int64_t m : mults)
							for (auto &rt : ratings) {
								struct load_point pt = {
									(enum point_base)base, m,
									(enum point_pf)pf,
									(enum point_element)el
								};
								struct judge_limit lim;
								int rc = judge_meter_limit(
									cls,
									c ? CONN_TRANSFORMER
									  : CONN_DIRECT,
									&pt, rt[0], rt[1], &set_,
									&lim, nullptr);
								want.push_back(
									rc ? ""
									   : std::to_string(
										     lim.limit_e4));
								pgarr_add(&a[0], cls);
								pgarr_add(&a[1], conns[c]);
								pgarr_add_i64(&a[2], base);
								pgarr_add_i64(&a[3], m);
								pgarr_add_i64(&a[4], pf);
								pgarr_add_i64(&a[5], el);
								pgarr_add_i64(&a[6], rt[0]);
								pgarr_add_i64(&a[7], rt[1]);
							}
	const char *p[8];
	for (int i = 0; i < 8; i++)
		p[i] = pgarr_finish(&a[i]);
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(
		ML_OK,
		db_exec(db_,
			"SELECT coalesce(ml_reg_meter_limit(c, k, b, m, f, e, nullif(ib, 0), nullif(im, 0))::text, '') "
			"FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::int[], $6::int[], "
			"$7::bigint[], $8::bigint[]) WITH ORDINALITY AS t(c, k, b, m, f, e, ib, im, o) ORDER BY o",
			8, p, PGRES_TUPLES_OK, &res, &err))
		<< err.msg;
	ASSERT_EQ((int)want.size(), PQntuples(res));
	int limits = 0;
	for (int r = 0; r < PQntuples(res); r++) {
		limits += !want[(size_t)r].empty();
		EXPECT_EQ(want[(size_t)r], PQgetvalue(res, r, 0)) << "case " << r;
	}
	EXPECT_GT(limits, 1000); /* the grid hits the tables, not only refusals */
	PQclear(res);
	for (auto &x : a)
		pgarr_free(&x);
}

TEST_F(RegulationDb, TransformerLimitsEqualLimitsC)
{
	static const char *const ct[] = { "0.1", "0.2", "0.2S", "0.5",  "0.5S", "1",
					  "3",   "5",   "1.0",  "0.2s", "7" };
	static const char *const vt[] = { "0.1", "0.2", "0.5", "1", "3", "3.0", "0.2S" };
	int compared = 0;
	for (int kind = 0; kind < 2; kind++) {
		const char *const *cl = kind ? vt : ct;
		size_t ncl = kind ? sizeof vt / sizeof vt[0] : sizeof ct / sizeof ct[0];
		for (size_t i = 0; i < ncl; i++) {
			for (int64_t pct = 5000; pct <= 1300000; pct += 5000) {
				struct judge_limit lim;
				int rc = kind ? judge_vt_limit(cl[i], pct, &set_, &lim, nullptr)
					      : judge_ct_limit(cl[i], pct, &set_, &lim, nullptr);
				std::string pc = std::to_string(pct);
				const char *p[3] = { kind ? "vt" : "ct", cl[i], pc.c_str() };
				PGresult *res = nullptr;
				struct ml_error err = ML_ERROR_INIT;
				ASSERT_EQ(
					ML_OK,
					db_query_one(
						db_,
						"SELECT coalesce(ratio_e4::text, ''), coalesce(phase_e4::text, '') "
						"FROM ml_reg_xfmr_limit($1, $2, $3::bigint)",
						3, p, &res, &err))
					<< err.msg;
				EXPECT_EQ(rc ? "" : std::to_string(lim.limit_e4),
					  PQgetvalue(res, 0, 0))
					<< p[0] << " " << cl[i] << " at " << pct;
				if (!rc) {
					EXPECT_EQ(std::to_string(lim.limit2_e4),
						  PQgetvalue(res, 0, 1))
						<< p[0] << " " << cl[i] << " at " << pct;
					compared++;
				}
				PQclear(res);
			}
		}
	}
	EXPECT_GT(compared, 500);
}

/* Creep and starting times of models the DBA adds, as plan.c computes them. */
TEST_F(RegulationDb, CreepAndStartTimesEqualPlanC)
{
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_cmd(db_, "INSERT INTO manufacturer (code, name) VALUES ('RG', 'rg')", 0,
				nullptr, &err));
	static const char *const models[][7] = {
		/* class, connection, wiring, un, ib, imax, constant */
		{ "1", "direct", "1p2w", "220", "5", "60", "1200" },
		{ "2", "direct", "1p2w", "220", "10", "100", "800" },
		{ "0.5S", "transformer", "3p4w", "57.7", "1.5", "6", "20000" },
		{ "0.2S", "transformer", "3p3w", "100", "1.5", "6", "6400" },
		{ "1", "transformer", "3p3w", "100", "1.5", "6", "6400" },
		{ "B", "direct", "1p2w", "220", "5", "60", "1200" },
		{ "A", "direct", "3p4w", "220", "10", "80", "400" },
		{ "C", "transformer", "3p4w", "57.7", "1", "6", "20000" },
		{ "D", "transformer", "3p3w", "100", "1.5", "6", "10000" },
		{ "E", "transformer", "3p4w", "57.7", "1", "10", "40000" },
		{ "0.5S", "direct", "1p2w", "220", "5", "60",
		  "1200" }, /* no start current: both refuse */
	};
	int i = 0;
	for (auto &m : models) {
		std::string code = "RG-" + std::to_string(i++);
		const char *p[8] = { code.c_str(), m[0], m[1], m[2], m[3], m[4], m[5], m[6] };
		PGresult *res = nullptr;
		ASSERT_EQ(
			ML_OK,
			db_query_one(
				db_,
				"INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, "
				"connection, wiring, un_v, ib_a, imax_a, constant_imp, verification_period_months) "
				"SELECT $1, manufacturer_id, 'rg', 'meter_3p', $2, $3, $4, $5::numeric, "
				"$6::numeric, $7::numeric, $8::int, 72 FROM manufacturer RETURNING model_id, "
				"coalesce(ml_rule_creep_ms(model_id)::text, ''), "
				"coalesce(ml_rule_start_ms(model_id)::text, '')",
				8, p, &res, &err))
			<< err.msg;
		int64_t id = atoll(PQgetvalue(res, 0, 0));
		std::string db_creep = PQgetvalue(res, 0, 1), db_start = PQgetvalue(res, 0, 2);
		PQclear(res);
		/* the rows above were inserted in this statement: read the times again now */
		std::string sid = std::to_string(id);
		const char *q[1] = { sid.c_str() };
		ASSERT_EQ(ML_OK,
			  db_query_one(db_,
				       "SELECT coalesce(ml_rule_creep_ms($1::bigint)::text, ''), "
				       "coalesce(ml_rule_start_ms($1::bigint)::text, '')",
				       1, q, &res, &err));
		db_creep = PQgetvalue(res, 0, 0);
		db_start = PQgetvalue(res, 0, 1);
		PQclear(res);
		struct model_rating r;
		ASSERT_EQ(ML_OK, task_load_rating(db_, id, &r, nullptr, &err)) << err.msg;
		int64_t creep = 0, start = 0;
		int rc1 = plan_creep_ms(&r, &set_, &creep, nullptr);
		int rc2 = plan_start_ms(&r, &set_, &start, nullptr);
		EXPECT_EQ(rc1 ? "" : std::to_string(creep), db_creep) << code << " class " << m[0];
		EXPECT_EQ(rc2 ? "" : std::to_string(start), db_start) << code << " class " << m[0];
	}
}

} // namespace
