/* ISO 2859-1 clause 9 switching rules, table-driven (tests/data/lab/sampling_switch.tsv). */
#include <gtest/gtest.h>

#include <cstring>

#include "judge_tsv.h"

extern "C" {
#include "lab/sampling_switch.h"
#include "lab/settings.h"
}

namespace
{

/* "default" or key=value,... over the defaults. */
struct sampling_switch_rules rules_of(const std::string &spec)
{
	struct sampling_switch_rules r;
	sampling_switch_rules_default(&r);
	if (spec == "default")
		return r;
	for (const std::string &kv : tsv_split(spec, ',')) {
		size_t eq = kv.find('=');
		std::string k = kv.substr(0, eq);
		int v = std::stoi(kv.substr(eq + 1));
		if (k == "tighten_rejects")
			r.tighten_rejects = v;
		else if (k == "tighten_window")
			r.tighten_window = v;
		else if (k == "normal_after_accepts")
			r.normal_after_accepts = v;
		else if (k == "reduced_score")
			r.reduced_score = v;
		else if (k == "discontinue_rejects")
			r.discontinue_rejects = v;
		else
			ADD_FAILURE() << "unknown rule " << k;
	}
	return r;
}

struct sampling_switch_event event_of(char c)
{
	struct sampling_switch_event e = {};
	e.kind = SAMPLING_EV_LOT;
	e.original = 1;
	switch (c) {
	case 'a':
		e.accepted = 1;
		break;
	case 'r':
		e.accepted = 0;
		break;
	case 'A':
	case 'B':
	case 'X':
		e.accepted = 1;
		e.ac = 3;
		e.tighter = c == 'A' ? 1 : c == 'B' ? 0 : -1;
		break;
	case 's':
		e.accepted = 1;
		e.original = 0;
		break;
	case 'P':
		e.kind = SAMPLING_EV_APPROVE_REDUCED;
		break;
	case 'I':
		e.kind = SAMPLING_EV_IRREGULAR;
		break;
	case 'U':
		e.kind = SAMPLING_EV_RESUME;
		break;
	default:
		ADD_FAILURE() << "unknown event " << c;
	}
	return e;
}

char outcome_char(enum sampling_switch_outcome o)
{
	static const char map[] = { '.', 'T', 'N', 'R', 'D', 'U' };
	return map[o];
}

class SwitchCase : public ::testing::TestWithParam<TsvRow>
{
};

TEST_P(SwitchCase, FollowsClause9)
{
	const TsvRow &r = GetParam();
	struct sampling_switch_rules rules = rules_of(r[1]);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, sampling_switch_rules_check(&rules, &err)) << err.msg;
	struct sampling_switch_state s;
	sampling_switch_start(&s);
	ASSERT_EQ(ML_OK, sampling_severity_parse(r[2].c_str(), &s.severity, &err));
	std::string got;
	for (char c : r[3]) {
		struct sampling_switch_event ev = event_of(c);
		struct sampling_switch_state before = s;
		enum sampling_switch_outcome what = SAMPLING_SW_STAY;
		int rc = sampling_switch_apply(&rules, &s, &ev, &s, &what, &err);
		if (rc == ML_ESTATE) {
			got += '!';
			EXPECT_EQ(0, memcmp(&before, &s, sizeof s))
				<< "a refused event changed the state";
			EXPECT_NE('\0', err.msg[0]);
			continue;
		}
		ASSERT_EQ(ML_OK, rc) << err.msg;
		got += outcome_char(what);
	}
	EXPECT_EQ(r[4], got) << r[0];
	EXPECT_STREQ(r[5].c_str(), sampling_severity_name(s.severity)) << r[0];
	EXPECT_EQ(std::stoi(r[6]), s.score) << r[0];
	EXPECT_EQ(std::stoi(r[7]), s.discontinued) << r[0];
}

INSTANTIATE_TEST_SUITE_P(Tsv, SwitchCase, ::testing::ValuesIn(tsv_load("sampling_switch.tsv")),
			 [](const ::testing::TestParamInfo<TsvRow> &i) { return i.param[0]; });

TEST(SamplingSwitch, RulesAreChecked)
{
	struct sampling_switch_rules r;
	struct ml_error err = ML_ERROR_INIT;
	sampling_switch_rules_default(&r);
	ASSERT_EQ(ML_OK, sampling_switch_rules_check(&r, &err));
	r.tighten_window = 40;
	EXPECT_EQ(ML_EINVAL, sampling_switch_rules_check(&r, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "tighten_window"));
	sampling_switch_rules_default(&r);
	r.tighten_rejects = 6;
	EXPECT_EQ(ML_EINVAL, sampling_switch_rules_check(&r, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "exceeds"));
}

/* The defaults of the lab settings are the rules of the header; a setting changes a rule. */
TEST(SamplingSwitch, RulesComeFromLabSettings)
{
	struct lab_settings ls;
	lab_settings_defaults(&ls);
	struct sampling_switch_rules a, b;
	sampling_switch_rules_default(&a);
	sampling_switch_rules_from(&ls, &b);
	EXPECT_EQ(0, memcmp(&a, &b, sizeof a));
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, lab_settings_set(&ls, "sampling.switch.reduced_score", "20", &err));
	sampling_switch_rules_from(&ls, &b);
	EXPECT_EQ(20, b.reduced_score);
	EXPECT_EQ(ML_EINVAL, lab_settings_set(&ls, "sampling.switch.tighten_window", "33", &err));
}

TEST(SamplingSwitch, RefusalsNameTheRule)
{
	struct sampling_switch_rules r;
	sampling_switch_rules_default(&r);
	struct sampling_switch_state s;
	sampling_switch_start(&s);
	struct sampling_switch_event ev = event_of('P');
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_ESTATE, sampling_switch_apply(&r, &s, &ev, &s, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "9.3.3")) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "score 0")) << err.msg;
	EXPECT_STREQ("to_reduced", sampling_switch_outcome_name(SAMPLING_SW_TO_REDUCED));
}

} // namespace
