/* Schemes: regulation defaults, text export/import round trip, database round trip, settings storage. */
#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>
#include <sstream>
#include <string>

#include "../support/pgtest.h"

extern "C" {
#include "lab/plan.h"
#include "lab/scheme.h"
#include "lab/settings.h"
#include "sql/db.h"
}

namespace
{

struct lab_settings defaults()
{
	struct lab_settings s;
	lab_settings_defaults(&s);
	return s;
}

struct model_rating meter(const char *cls, enum model_connection conn, enum model_wiring w)
{
	struct model_rating r;
	memset(&r, 0, sizeof r);
	r.kind = w == WIRING_1P2W ? MODEL_METER_1P : MODEL_METER_3P;
	snprintf(r.accuracy_class, sizeof r.accuracy_class, "%s", cls);
	r.connection = conn;
	r.wiring = w;
	r.un_mv = w == WIRING_3P3W ? 100000 : conn == CONN_DIRECT ? 220000 : 57700;
	r.ib_ma = conn == CONN_DIRECT ? 5000 : 1500;
	r.imax_ma = conn == CONN_DIRECT ? 60000 : 6000;
	r.constant = conn == CONN_DIRECT ? 1200 : 20000;
	return r;
}

struct model_rating xfmr(enum model_kind k, const char *cls)
{
	struct model_rating r;
	memset(&r, 0, sizeof r);
	r.kind = k;
	snprintf(r.accuracy_class, sizeof r.accuracy_class, "%s", cls);
	r.rated_primary_milli = k == MODEL_CT ? 200000 : 10000000;
	r.rated_secondary_milli = k == MODEL_CT ? 5000 : 100000;
	r.rated_burden_mva = 10000;
	return r;
}

std::string text_of(const struct scheme *s)
{
	struct ml_buf b = ML_BUF_INIT;
	EXPECT_EQ(ML_OK, scheme_format_text(s, &b, nullptr));
	std::string t = ml_buf_str(&b);
	ml_buf_free(&b);
	return t;
}

int count(const struct scheme *s, enum scheme_step_kind k)
{
	int n = 0;
	for (size_t i = 0; i < s->nsteps; i++)
		n += s->steps[i].kind == k;
	return n;
}

struct DefaultCase {
	struct model_rating r;
	size_t steps, basic;
};

class SchemeDefault : public ::testing::TestWithParam<DefaultCase>
{
};

/* Point counts from the domain 1.3 tables; every generated step must plan against the rating. */
TEST_P(SchemeDefault, PointCountsAndEveryStepPlans)
{
	const DefaultCase &c = GetParam();
	struct lab_settings set = defaults();
	struct scheme *s = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, scheme_default(&c.r, &set, nullptr, &s, &err)) << err.msg;
	EXPECT_EQ(c.steps, s->nsteps) << text_of(s);
	EXPECT_EQ((int)c.basic, count(s, STEP_BASIC));
	struct plan_step *ps = nullptr;
	size_t n = 0;
	EXPECT_EQ(ML_OK, plan_scheme(s, &c.r, &set, &ps, &n, &err)) << err.msg << "\n"
								    << text_of(s);
	EXPECT_EQ(s->nsteps, n);
	free(ps);
	/* and survives the text round trip */
	struct scheme *back = nullptr;
	std::string t = text_of(s);
	ASSERT_EQ(ML_OK, scheme_parse_text(t.c_str(), &back, &err)) << err.msg << "\n" << t;
	EXPECT_TRUE(scheme_equal(s, back)) << t;
	scheme_free(back);
	scheme_free(s);
}

INSTANTIATE_TEST_SUITE_P(
	Tables, SchemeDefault,
	::testing::Values(
		/* direct 1p class 1: PF1 5 + 0.5L 5 + 0.8C 5 (0.5Imax since Imax ≥ 4Ib) + creep, start, constant, clock */
		DefaultCase{ meter("1", CONN_DIRECT, WIRING_1P2W), 19, 15 },
		DefaultCase{ meter("2", CONN_DIRECT, WIRING_1P2W), 14, 10 },
		/* 3p4w: + single elements A, B, C × (3 PF1 + 3 0.5L) */
		DefaultCase{ meter("1", CONN_DIRECT, WIRING_3P4W), 37, 33 },
		/* 3p3w: elements A and C only */
		DefaultCase{ meter("1", CONN_DIRECT, WIRING_3P3W), 31, 27 },
		/* transformer 0.5S: 3 × 4 balanced, no 0.5Imax, + 3 × 6 single */
		DefaultCase{ meter("0.5S", CONN_TRANSFORMER, WIRING_3P4W), 34, 30 },
		DefaultCase{ meter("0.2S", CONN_TRANSFORMER, WIRING_3P3W), 28, 24 },
		DefaultCase{ meter("2", CONN_TRANSFORMER, WIRING_3P4W), 30, 26 },
		/* letter B: PF1 Imax 0.5Imax 10Itr Itr Imin + 0.5L 4 + 0.8C 4 */
		DefaultCase{ meter("B", CONN_DIRECT, WIRING_1P2W), 17, 13 },
		DefaultCase{ meter("A", CONN_DIRECT, WIRING_1P2W), 12, 8 },
		DefaultCase{ meter("D", CONN_TRANSFORMER, WIRING_3P4W), 17,
			     13 }, /* Imax = 4 In: 0.5Imax too */
		/* CT S: 5 points × 2 burdens; non-S 4 × 2; class 3: 50/120 % × 2 burdens; VT 3 × 2 */
		DefaultCase{ xfmr(MODEL_CT, "0.2S"), 10, 0 },
		DefaultCase{ xfmr(MODEL_CT, "0.5"), 8, 0 },
		DefaultCase{ xfmr(MODEL_CT, "3"), 4, 0 },
		DefaultCase{ xfmr(MODEL_VT, "0.2"), 6, 0 }));

TEST(Scheme, DefaultOrderAndHalfImaxSetting)
{
	struct lab_settings set = defaults();
	struct model_rating r = meter("1", CONN_DIRECT, WIRING_1P2W);
	struct scheme *s = nullptr;
	ASSERT_EQ(ML_OK, scheme_default(&r, &set, "MY-1", &s, nullptr));
	EXPECT_STREQ("MY-1", s->code);
	EXPECT_STREQ("meter_1p", s->kinds);
	EXPECT_STREQ("direct", s->connection);
	EXPECT_EQ(STEP_CREEP, s->steps[0].kind);
	EXPECT_EQ(STEP_START, s->steps[1].kind);
	EXPECT_EQ(POINT_IMAX, s->steps[2].point.base);
	EXPECT_EQ(5000, s->steps[3].point.mult_e4); /* 0.5Imax */
	EXPECT_EQ(STEP_CLOCK, s->steps[s->nsteps - 1].kind);
	scheme_free(s);
	ASSERT_EQ(ML_OK, lab_settings_set(&set, "scheme.half_imax", "no", nullptr));
	ASSERT_EQ(ML_OK, scheme_default(&r, &set, nullptr, &s, nullptr));
	EXPECT_EQ(16u, s->nsteps);
	EXPECT_STREQ("JJG596-1P-D-1", s->code);
	scheme_free(s);
	struct model_rating r3 = meter("0.5S", CONN_TRANSFORMER, WIRING_3P4W);
	ASSERT_EQ(ML_OK, scheme_default(&r3, &set, nullptr, &s, nullptr));
	EXPECT_STREQ("JJG596-3P-T-0.5S", s->code);
	{
		/* transformer-operated: the points are named by In, never Ib (JJG 596-2012) */
		struct ml_buf t = ML_BUF_INIT;
		ASSERT_EQ(ML_OK, scheme_format_text(s, &t, nullptr));
		std::string txt = ml_buf_str(&t);
		ml_buf_free(&t);
		EXPECT_NE(std::string::npos, txt.find("I=0.05In")) << txt;
		EXPECT_NE(std::string::npos, txt.find("I=In ")) << txt;
		EXPECT_EQ(std::string::npos, txt.find("Ib")) << txt;
		struct scheme *back = nullptr;
		ASSERT_EQ(ML_OK, scheme_parse_text(txt.c_str(), &back, nullptr));
		ASSERT_EQ(s->nsteps, back->nsteps);
		for (size_t i = 0; i < s->nsteps; i++) {
			EXPECT_EQ(s->steps[i].point.base, back->steps[i].point.base) << i;
			EXPECT_EQ(s->steps[i].point.mult_e4, back->steps[i].point.mult_e4) << i;
		}
		scheme_free(back);
	}
	scheme_free(s);
	struct model_rating bad = meter("0.5S", CONN_DIRECT, WIRING_1P2W);
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, scheme_default(&bad, &set, nullptr, &s, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "0.5S"));
	struct model_rating badct = xfmr(MODEL_CT, "0.3");
	EXPECT_EQ(ML_EINVAL, scheme_default(&badct, &set, nullptr, &s, &err));
}

TEST(Scheme, SuitsChecksKindClassConnection)
{
	struct scheme *s = nullptr;
	ASSERT_EQ(ML_OK, scheme_parse_text(
				 "scheme code=S name=s\nsuits kinds=meter_1p,meter_3p classes=1,2 "
				 "connection=direct\ncreep\n",
				 &s, nullptr));
	struct ml_error err = ML_ERROR_INIT;
	struct model_rating r = meter("2", CONN_DIRECT, WIRING_3P4W);
	EXPECT_EQ(ML_OK, scheme_suits(s, &r, &err));
	r = meter("0.5S", CONN_DIRECT, WIRING_3P4W);
	EXPECT_EQ(ML_EINVAL, scheme_suits(s, &r, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "0.5S"));
	r = meter("1", CONN_TRANSFORMER, WIRING_3P4W);
	EXPECT_EQ(ML_EINVAL, scheme_suits(s, &r, &err));
	r = xfmr(MODEL_CT, "1");
	EXPECT_EQ(ML_EINVAL, scheme_suits(s, &r, &err));
	s->kinds[0] = s->classes[0] = s->connection[0] = '\0'; /* empty lists admit anything */
	EXPECT_EQ(ML_OK, scheme_suits(s, &r, &err));
	scheme_free(s);
}

const char *const kText = "# reviewed 2026-11-26\n"
			  "scheme  code=PROV-1P-1  version=3  name=\"Province \\\"A\\\" class 1\"\n"
			  "suits   kinds=meter_1p  classes=1,2  connection=direct\n"
			  "creep   duration=1800.5   # shortened\n"
			  "start\n"
			  "basic   I=Imax   pf=1.0   element=H  readings=3\n"
			  "basic   I=0.1Ib  pf=0.5L  element=H  pulses=4 settle=30000 limit=0.8\n"
			  "\n"
			  "basic   I=0.05Ib pf=1\n"
			  "constant I=Ib pf=1.0 element=H energy=500\n"
			  "clock   readings=10\n";

TEST(SchemeText, ParsesOverridesAndRoundTrips)
{
	struct scheme *s = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, scheme_parse_text(kText, &s, &err)) << err.msg;
	EXPECT_STREQ("PROV-1P-1", s->code);
	EXPECT_STREQ("Province \"A\" class 1", s->name);
	EXPECT_EQ(3, s->version);
	EXPECT_STREQ("1,2", s->classes);
	ASSERT_EQ(7u, s->nsteps);
	EXPECT_EQ(1800500, s->steps[0].duration_ms);
	EXPECT_EQ(3, s->steps[2].readings);
	EXPECT_EQ(4, s->steps[3].pulses);
	EXPECT_EQ(30000, s->steps[3].settle_timeout_ms);
	EXPECT_EQ(8000, s->steps[3].limit_e4);
	EXPECT_EQ(PF_1, s->steps[4].point.pf);
	EXPECT_EQ(5000000, s->steps[5].energy_wh_e4);
	EXPECT_EQ(10, s->steps[6].readings);
	std::string t = text_of(s);
	struct scheme *back = nullptr;
	ASSERT_EQ(ML_OK, scheme_parse_text(t.c_str(), &back, &err)) << err.msg << "\n" << t;
	EXPECT_TRUE(scheme_equal(s, back)) << t;
	EXPECT_EQ(t, text_of(back));
	/* a changed step is noticed */
	back->steps[3].pulses = 5;
	EXPECT_FALSE(scheme_equal(s, back));
	scheme_free(back);
	scheme_free(s);
}

TEST(SchemeText, ErrorsNameLineAndToken)
{
	const struct {
		const char *text, *want;
	} bad[] = {
		{ "scheme code=X name=x\nbasic I=0.1Ix pf=1.0\n", "line 2" },
		{ "scheme code=X name=x\nbasic I=Ib pf=0.7L\n", "0.7L" },
		{ "scheme code=X name=x\nbasic I=Ib pf=1.0 element=D\n", "'D'" },
		{ "scheme code=X name=x\nwobble\n", "wobble" },
		{ "scheme code=X name=x\nbasic I=Ib readings=99\n", "readings=99" },
		{ "scheme code=X name=x\nbasic pf=1.0\n", "load current" },
		{ "basic I=Ib\n", "before the 'scheme' line" },
		{ "scheme code=bad/code name=x\ncreep\n", "bad/code" },
		{ "scheme code=X name=\"open\ncreep\n", "unterminated" },
		{ "scheme code=X name=x\n", "no steps" },
		{ "scheme code=X name=x\nct percent=5\n", "burden" },
		{ "scheme code=X name=x\nsuits connection=sideways\ncreep\n", "sideways" },
	};
	for (auto &b : bad) {
		struct scheme *s = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_EINVAL, scheme_parse_text(b.text, &s, &err)) << b.text;
		EXPECT_EQ(nullptr, s);
		EXPECT_NE(nullptr, strstr(err.msg, b.want)) << b.text << " -> " << err.msg;
	}
}

/* Every shipped sample scheme parses, round-trips, and the Henan one plans for its meter. */
TEST(SchemeText, ShippedSamplesParse)
{
	std::string dir = pgtest_src("samples/schemes");
	DIR *d = opendir(dir.c_str());
	ASSERT_NE(nullptr, d) << dir;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		std::string name = e->d_name;
		if (name.size() < 7 || name.substr(name.size() - 7) != ".scheme")
			continue;
		std::ifstream in(dir + "/" + name);
		std::stringstream ss;
		ss << in.rdbuf();
		struct scheme *s = nullptr, *back = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, scheme_parse_text(ss.str().c_str(), &s, &err))
			<< name << ": " << err.msg;
		std::string t = text_of(s);
		ASSERT_EQ(ML_OK, scheme_parse_text(t.c_str(), &back, &err)) << name;
		EXPECT_TRUE(scheme_equal(s, back)) << name;
		if (name.rfind("henan", 0) == 0) {
			struct lab_settings set = defaults();
			struct model_rating r = meter("1", CONN_DIRECT, WIRING_1P2W);
			struct plan_step *ps = nullptr;
			size_t np = 0;
			EXPECT_EQ(ML_OK, plan_scheme(s, &r, &set, &ps, &np, &err)) << err.msg;
			EXPECT_EQ(14u, np);
			free(ps);
		}
		scheme_free(back);
		scheme_free(s);
		n++;
	}
	closedir(d);
	EXPECT_GE(n, 6);
}

/*
 * Schemes in the database (0112): a technician saves (scheme.edit), the new
 * version is INACTIVE until an approver activates it (scheme.activate); the
 * database refuses a scheme looser than the regulation, naming the step and
 * the rule.
 */
class SchemeDb : public ::testing::Test
{
      protected:
	void SetUp() override
	{
		ci_ = pgtest_fresh_db("scheme");
		dba_ = pgtest_connect(ci_);
		db_ = pgtest_connect(pgtest_as(ci_, "mlt_tech"));
		appr_ = pgtest_connect(pgtest_as(ci_, "mlt_approver"));
	}
	void TearDown() override
	{
		db_close(db_);
		db_close(dba_);
		db_close(appr_);
	}
	std::string ci_;
	struct db *db_ = nullptr;   /* mlt_tech */
	struct db *appr_ = nullptr; /* mlt_approver */
	struct db *dba_ = nullptr;  /* the DBA */
};

/* kText with the constant test's energy at the lab's rule (1000 Wh): a scheme the database accepts. */
std::string db_text()
{
	std::string t = kText;
	t.replace(t.find("energy=500"), 10, "energy=1000");
	return t;
}

TEST_F(SchemeDb, SaveLoadVersionsActivateRetire)
{
	struct scheme *s = nullptr, *back = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, scheme_parse_text(db_text().c_str(), &s, &err));
	ASSERT_EQ(ML_OK, scheme_db_save(db_, s, &err)) << err.msg;
	EXPECT_EQ(1, s->version);
	/* saved, not active: new runs cannot use it yet */
	EXPECT_EQ(ML_ENOTFOUND, scheme_db_load(db_, "PROV-1P-1", &back, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "no active version")) << err.msg;
	/* the technician may not activate; the approver does */
	EXPECT_EQ(ML_EPERM, scheme_db_activate(db_, "PROV-1P-1", 1, nullptr, &err));
	ASSERT_EQ(ML_OK, scheme_db_activate(appr_, "PROV-1P-1", 1, nullptr, &err)) << err.msg;
	ASSERT_EQ(ML_OK, scheme_db_load(db_, "PROV-1P-1", &back, &err)) << err.msg;
	EXPECT_TRUE(scheme_equal(s, back));
	EXPECT_EQ(1, back->version);
	scheme_free(back);
	/* a second save is version 2, but version 1 stays the active one until activated */
	s->steps[2].readings = 4;
	ASSERT_EQ(ML_OK, scheme_db_save(db_, s, &err)) << err.msg;
	EXPECT_EQ(2, s->version);
	ASSERT_EQ(ML_OK, scheme_db_load(db_, "PROV-1P-1", &back, &err));
	EXPECT_EQ(1, back->version);
	EXPECT_EQ(3, back->steps[2].readings);
	scheme_free(back);
	struct scheme_summary *list = nullptr;
	size_t n = 0;
	ASSERT_EQ(ML_OK, scheme_db_list(db_, &list, &n, &err));
	ASSERT_EQ(1u, n);
	EXPECT_EQ(2, list[0].version);
	EXPECT_EQ(1, list[0].active_version);
	EXPECT_EQ(7, list[0].nsteps);
	free(list);
	int v = 0;
	ASSERT_EQ(ML_OK, scheme_db_activate(appr_, "PROV-1P-1", 0, &v, &err)) << err.msg;
	EXPECT_EQ(2, v);
	ASSERT_EQ(ML_OK, scheme_db_load(db_, "PROV-1P-1", &back, &err));
	EXPECT_EQ(4, back->steps[2].readings);
	EXPECT_TRUE(scheme_equal(s, back));
	scheme_free(back);
	ASSERT_EQ(ML_OK, scheme_db_load_version(db_, "PROV-1P-1", 1, &back, &err));
	EXPECT_EQ(3, back->steps[2].readings);
	scheme_free(back);
	/* versions are immutable, even for the owner; people may not even try */
	const char *refused[] = { "UPDATE scheme_step SET readings = 9", "DELETE FROM scheme_step",
				  "DELETE FROM scheme", "UPDATE scheme SET name = 'x'" };
	for (const char *sql : refused) {
		EXPECT_NE(ML_OK, db_cmd(dba_, sql, 0, nullptr, &err)) << sql;
		EXPECT_NE(nullptr, strstr(err.msg, "immutable")) << sql << ": " << err.msg;
		EXPECT_EQ(ML_EPERM, db_cmd(db_, sql, 0, nullptr, &err)) << sql;
	}
	EXPECT_EQ(ML_EPERM, scheme_db_retire(db_, "PROV-1P-1", &err));
	ASSERT_EQ(ML_OK, scheme_db_retire(appr_, "PROV-1P-1", &err)) << err.msg;
	EXPECT_EQ(ML_ENOTFOUND, scheme_db_load(db_, "PROV-1P-1", &back, &err));
	EXPECT_EQ(ML_ENOTFOUND, scheme_db_retire(appr_, "PROV-1P-1", &err));
	ASSERT_EQ(ML_OK, scheme_db_load_version(db_, "PROV-1P-1", 2, &back, &err)) << err.msg;
	scheme_free(back);
	/* saving again is version 3, used once activated */
	ASSERT_EQ(ML_OK, scheme_db_save(db_, s, &err));
	EXPECT_EQ(3, s->version);
	EXPECT_EQ(ML_ENOTFOUND, scheme_db_load(db_, "PROV-1P-1", &back, &err));
	ASSERT_EQ(ML_OK, scheme_db_activate(appr_, "PROV-1P-1", 3, nullptr, &err)) << err.msg;
	ASSERT_EQ(ML_OK, scheme_db_load(db_, "PROV-1P-1", &back, &err)) << err.msg;
	EXPECT_EQ(3, back->version);
	scheme_free(back);
	EXPECT_EQ(ML_ENOTFOUND, scheme_db_load(db_, "NOPE", &back, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "NOPE"));
	scheme_free(s);
}

/*
 * The attack of issue 8: "limit=50", "creep duration=0.001", "readings=1"
 * under an existing code. Each is refused by the database naming the step
 * and the rule (creep duration: when a run would use it for a model).
 */
TEST_F(SchemeDb, LooserThanTheRegulationIsRefusedNamingStepAndRule)
{
	const struct {
		const char *step, *want;
	} cases[] = {
		{ "basic I=Ib pf=1.0 element=H limit=50",
		  "step 1 (basic): limit=50% is wider than the "
		  "regulation limit ±1% of class 1" },
		{ "basic I=Ib pf=1.0 element=H readings=1",
		  "step 1 (basic): readings=1 is fewer than "
		  "the 2 readings" },
		{ "basic I=0.1Ib pf=0.5L element=H limit=1.6",
		  "limit=1.6% is wider than the regulation "
		  "limit ±1.5%" },
		{ "clock readings=2", "step 1 (clock): readings=2 is fewer than the 5" },
		{ "clock limit=1", "wider than the daily clock error limit ±0.5 s/d" },
		{ "constant I=Imax pf=1.0 element=H energy=10",
		  "energy=10 Wh is less than the 1000 Wh" },
		{ "constant I=Imax pf=1.0 element=H limit=1.5", "wider than the class index 1%" },
		{ "constant I=Imax pf=1.0 element=H duration=1", "set energy=" },
	};
	for (auto &c : cases) {
		std::string text = std::string(
					   "scheme code=LOOSE name=\"loose\"\n"
					   "suits kinds=meter_1p classes=1 connection=direct\n") +
				   c.step + "\n";
		struct scheme *s = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, scheme_parse_text(text.c_str(), &s, &err)) << err.msg;
		EXPECT_EQ(ML_EINVAL, scheme_db_save(db_, s, &err)) << c.step;
		EXPECT_NE(nullptr, strstr(err.msg, c.want)) << c.step << " -> " << err.msg;
		scheme_free(s);
	}
	/* and the tightest possible overrides pass */
	struct scheme *s = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK,
		  scheme_parse_text(
			  "scheme code=TIGHT name=\"tight\"\nsuits kinds=meter_1p classes=1 "
			  "connection=direct\nbasic I=Ib pf=1.0 element=H limit=1 readings=3\n"
			  "clock readings=5 limit=0.5\n",
			  &s, &err))
		<< err.msg;
	EXPECT_EQ(ML_OK, scheme_db_save(db_, s, &err)) << err.msg;
	scheme_free(s);
	/* a CT ratio limit is compared with the interpolated IEC 61869-2 value */
	ASSERT_EQ(ML_OK, scheme_parse_text(
				 "scheme code=CT-LOOSE name=\"ct\"\nsuits kinds=ct classes=0.2S\n"
				 "ct percent=10 burden=100 limit=0.31\n",
				 &s, &err));
	EXPECT_EQ(ML_EINVAL, scheme_db_save(db_, s, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "±0.3%")) << err.msg; /* 0.35 - 0.15 × 5/15 */
	scheme_free(s);
}

TEST_F(SchemeDb, DefaultSchemesStoreAndReload)
{
	struct lab_settings set = defaults();
	struct model_rating rs[] = { meter("1", CONN_DIRECT, WIRING_3P4W), xfmr(MODEL_CT, "0.2S"),
				     meter("B", CONN_DIRECT, WIRING_1P2W) };
	for (auto &r : rs) {
		struct scheme *s = nullptr, *back = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, scheme_default(&r, &set, nullptr, &s, &err));
		ASSERT_EQ(ML_OK, scheme_db_save(db_, s, &err)) << err.msg;
		ASSERT_EQ(ML_OK, scheme_db_activate(appr_, s->code, s->version, nullptr, &err))
			<< err.msg;
		ASSERT_EQ(ML_OK, scheme_db_load(db_, s->code, &back, &err)) << err.msg;
		EXPECT_TRUE(scheme_equal(s, back)) << s->code;
		scheme_free(back);
		scheme_free(s);
	}
}

TEST_F(SchemeDb, OnlyPeopleWithTheRoleWriteSchemesAndSettings)
{
	struct scheme *s = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, scheme_parse_text(db_text().c_str(), &s, &err));
	/* the group role is nobody: it cannot even log in (0142) */
	struct db *app = nullptr;
	EXPECT_NE(ML_OK, db_connect(pgtest_as_role(ci_, "meterlab_app").c_str(), &app, &err));
	db_close(app);
	for (const char *who : { "mlt_clerk", "mlt_checker", "mlt_auditor", "mlt_admin" }) {
		struct db *x = pgtest_connect(pgtest_as(ci_, who));
		EXPECT_EQ(ML_EPERM, scheme_db_save(x, s, &err)) << who;
		EXPECT_EQ(ML_EPERM, lab_settings_store(x, "creep.max_pulses", "0", &err)) << who;
		db_close(x);
	}
	ASSERT_EQ(ML_OK, scheme_db_save(db_, s, &err)) << err.msg;
	EXPECT_EQ(ML_EPERM, lab_settings_store(db_, "creep.max_pulses", "0", &err));
	ASSERT_EQ(ML_OK, lab_settings_store(appr_, "creep.max_pulses", "0", &err)) << err.msg;
	EXPECT_NE(ML_OK, db_cmd(db_, "UPDATE scheme SET name = 'x'", 0, nullptr, &err));
	EXPECT_EQ(ML_EPERM, db_cmd(appr_, "UPDATE lab_setting SET value = '5'", 0, nullptr, &err));
	EXPECT_EQ(ML_EPERM,
		  db_cmd(appr_,
			 "INSERT INTO lab_setting (key, value) VALUES ('clock.readings', '1')", 0,
			 nullptr, &err));
	scheme_free(s);
}

TEST_F(SchemeDb, SettingsStoreLoadReset)
{
	struct lab_settings s;
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = appr_; /* setting.edit: the approver */
	ASSERT_EQ(ML_OK, lab_settings_load(db, &s, &err));
	EXPECT_EQ(600000, s.internal_coeff_e4);
	ASSERT_EQ(ML_OK, lab_settings_store(db, "judge.internal_coefficient", "80", &err))
		<< err.msg;
	ASSERT_EQ(ML_OK, lab_settings_store(db, "judge.verdict_on_rounded", "NO", &err));
	EXPECT_EQ(ML_EINVAL, lab_settings_store(db, "creep.max_pulses", "-3", &err));
	EXPECT_EQ(ML_ENOTFOUND, lab_settings_store(db, "creep.max_puls", "1", &err));
	ASSERT_EQ(ML_OK, lab_settings_load(db, &s, &err));
	EXPECT_EQ(800000, s.internal_coeff_e4);
	EXPECT_EQ(0, s.verdict_on_rounded);
	EXPECT_EQ(1, s.creep_max_pulses);
	PGresult *res = nullptr;
	ASSERT_EQ(
		ML_OK,
		db_query_one(db,
			     "SELECT value FROM lab_setting WHERE key = 'judge.verdict_on_rounded'",
			     0, nullptr, &res, &err));
	EXPECT_STREQ("no", db_get(res, 0, "value")); /* stored normalised */
	PQclear(res);
	ASSERT_EQ(ML_OK, lab_settings_reset(db, "judge.internal_coefficient", &err));
	EXPECT_EQ(ML_ENOTFOUND, lab_settings_reset(db, "judge.internal_coefficient", &err));
	ASSERT_EQ(ML_OK, lab_settings_load(db, &s, &err));
	EXPECT_EQ(600000, s.internal_coeff_e4);
	/* the log names the person (by id), written by the function */
	ASSERT_EQ(ML_OK,
		  db_query_one(
			  db,
			  "SELECT count(*) AS n, bool_and(u.login = 'mlt_approver') AS who "
			  "FROM lab_setting_log l JOIN app_user u ON u.user_id = l.changed_by_id",
			  0, nullptr, &res, &err));
	EXPECT_STREQ("3", db_get(res, 0, "n"));
	EXPECT_STREQ("t", db_get(res, 0, "who"));
	PQclear(res);
	/* the database checks the value itself, whoever calls (here as SQL, bypassing the C check) */
	EXPECT_EQ(ML_EINVAL,
		  db_cmd(db, "SELECT ml_setting_set('clock.readings', 'many')", 0, nullptr, &err));
	EXPECT_EQ(ML_EINVAL,
		  db_cmd(db, "SELECT ml_setting_set('judge.internal_coefficient', '100.00001')", 0,
			 nullptr, &err));
	/* a stored value this build rejects (written by the DBA) is a configuration error, and s stays */
	ASSERT_EQ(ML_OK,
		  db_cmd(dba_,
			 "INSERT INTO lab_setting (key, value) VALUES ('clock.readings', 'many')",
			 0, nullptr, &err));
	struct lab_settings before = s;
	EXPECT_EQ(ML_ECONFIG, lab_settings_load(db, &s, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "clock.readings")) << err.msg;
	EXPECT_EQ(0, memcmp(&before, &s, sizeof s));
}

/* lab_setting_def in the database is lab/settings.c's table, row by row (key, type, default, range). */
TEST_F(SchemeDb, SettingDefinitionsEqualTheCTable)
{
	size_t n = 0;
	const struct lab_setting_desc *t = lab_settings_table(&n);
	static const char *const types[] = { "", "bool", "int", "dec4", "dec4_list", "tri", "i64" };
	for (size_t i = 0; i < n; i++) {
		const char *p[1] = { t[i].key };
		PGresult *res = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, db_query_one(db_,
					      "SELECT type, default_value, min_v, max_v FROM "
					      "lab_setting_def WHERE key = $1",
					      1, p, &res, &err))
			<< t[i].key << ": " << err.msg;
		EXPECT_STREQ(types[t[i].type], db_get(res, 0, "type")) << t[i].key;
		EXPECT_STREQ(t[i].def, db_get(res, 0, "default_value")) << t[i].key;
		EXPECT_EQ(t[i].min, atoll(db_get(res, 0, "min_v"))) << t[i].key;
		EXPECT_EQ(t[i].max, atoll(db_get(res, 0, "max_v"))) << t[i].key;
		PQclear(res);
	}
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_query_one(db_, "SELECT count(*) FROM lab_setting_def", 0, nullptr, &res,
				      &err));
	EXPECT_EQ(std::to_string(n), PQgetvalue(res, 0, 0));
	PQclear(res);
}

} // namespace
