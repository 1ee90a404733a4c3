/*
 * The verification scheduler on constructed cases whose best plan is known
 * (issue 15): earliest due date first, bench kinds, runs per bench-day,
 * filling the benches after the demand, too little stock or capacity.
 */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plan/schedule.h"

namespace
{

struct Case {
	std::vector<sched_bench> benches;
	std::vector<sched_model> models;
	std::vector<sched_lot> lots;
	std::vector<sched_demand> demands;
	int days = 5;
	int64_t day_minutes = 180;
	sched_out out = {};

	void plan()
	{
		sched_in in = { benches.data(), benches.size(), models.data(),  models.size(),
				lots.data(),    lots.size(),    demands.data(), demands.size(),
				days,           day_minutes };
		ml_error err = ML_ERROR_INIT;
		ASSERT_EQ(ML_OK, sched_plan(&in, &out, &err)) << err.msg;
	}
	/* "day:bench:lot:assets:for_demand:demand" per run */
	std::vector<std::string> runs() const
	{
		std::vector<std::string> v;
		for (size_t i = 0; i < out.nruns; i++) {
			const sched_run &r = out.runs[i];
			v.push_back(std::to_string(r.day) + ":" + benches[r.bench].code + ":" +
				    lots[r.lot].code + ":" + std::to_string(r.assets) + ":" +
				    std::to_string(r.for_demand) + ":" +
				    std::to_string(r.demand_id));
		}
		return v;
	}
	~Case()
	{
		sched_out_free(&out);
	}
};

using V = std::vector<std::string>;

} // namespace

TEST(Schedule, OneDemandFillsRunsOfTheBenchsPositions)
{
	Case c;
	c.benches = { { "B1", "meter-1p", 4 } };
	c.models = { { "M1", "meter-1p", 60 } };
	c.lots = { { "L1", 0, 20 } };
	c.demands = { { 7, 0, 10, 0 } };
	c.plan();
	// 3 runs a day: 4 + 4 + 2 for the demand ... but the third run mounts 4 (2 fill the bench)
	EXPECT_EQ((V{ "0:B1:L1:4:4:7", "0:B1:L1:4:4:7", "0:B1:L1:4:2:7", "1:B1:L1:4:0:0",
		      "1:B1:L1:4:0:0" }),
		  c.runs());
	EXPECT_EQ(0, c.out.met_day[0]);
	EXPECT_EQ(0, c.out.short_of[0]);
}

TEST(Schedule, EarliestDueDateFirstMeetsBoth)
{
	// one run a day; demand 1 (due day 2) was recorded before demand 2 (due day 0):
	// serving 2 first meets both, serving 1 first would make 2 late.
	Case c;
	c.benches = { { "B1", "meter-1p", 4 } };
	c.models = { { "M1", "meter-1p", 150 }, { "M2", "meter-1p", 150 } };
	c.lots = { { "L1", 0, 4 }, { "L2", 1, 4 } };
	c.demands = { { 1, 0, 4, 2 }, { 2, 1, 4, 0 } };
	c.plan();
	EXPECT_EQ((V{ "0:B1:L2:4:4:2", "1:B1:L1:4:4:1" }), c.runs());
	EXPECT_EQ(1, c.out.met_day[0]);
	EXPECT_EQ(0, c.out.met_day[1]);
}

TEST(Schedule, EqualDueDatesGoByIdAndLateDemandIsReported)
{
	Case c;
	c.benches = { { "B1", "meter-1p", 2 } };
	c.models = { { "M1", "meter-1p", 180 } };
	c.lots = { { "L1", 0, 6 } };
	c.demands = { { 9, 0, 2, 0 }, { 3, 0, 4, 0 } };
	c.plan();
	// one run of 2 a day: demand 3 (lower id) first: days 0, 1; then 9 on day 2 — late by 2 days
	EXPECT_EQ((V{ "0:B1:L1:2:2:3", "1:B1:L1:2:2:3", "2:B1:L1:2:2:9" }), c.runs());
	EXPECT_EQ(2, c.out.met_day[0]);
	EXPECT_EQ(1, c.out.met_day[1]);
}

TEST(Schedule, BenchKindsAndFillingWithTheOldestLot)
{
	Case c;
	c.benches = { { "B1", "meter-1p", 4 }, { "B3", "meter-3p", 2 } };
	c.models = { { "M1", "meter-1p", 90 }, { "M3", "meter-3p", 90 } };
	c.lots = { { "OLD1", 0, 3 }, { "L3", 1, 4 }, { "NEW1", 0, 8 } };
	c.demands = { { 1, 1, 4, 1 } };
	c.days = 1;
	c.plan();
	// B1 (1p) has no demand it can serve: it fills with the oldest 1p lot, then the next;
	// B3 serves the 3-phase demand in two runs of 2.
	EXPECT_EQ((V{ "0:B1:OLD1:3:0:0", "0:B1:NEW1:4:0:0", "0:B3:L3:2:2:1", "0:B3:L3:2:2:1" }),
		  c.runs());
	EXPECT_EQ(0, c.out.met_day[0]);
}

TEST(Schedule, TooLittleStockOrCapacityLeavesTheDemandShort)
{
	Case c;
	c.benches = { { "B1", "meter-1p", 4 } };
	c.models = { { "M1", "meter-1p", 60 }, { "M2", "meter-1p", 200 } };
	c.lots = { { "L1", 0, 6 }, { "L2", 1, 50 } };
	c.demands = { { 1, 0, 10, 0 }, { 2, 1, 4, 0 } };
	c.days = 2;
	c.plan();
	EXPECT_EQ(-1, c.out.met_day[0]); // only 6 to verify
	EXPECT_EQ(4, c.out.short_of[0]);
	EXPECT_EQ(-1, c.out.met_day[1]); // a 200-minute run never fits a 180-minute day
	EXPECT_EQ(4, c.out.short_of[1]);
	EXPECT_EQ((V{ "0:B1:L1:4:4:1", "0:B1:L1:2:2:1" }), c.runs());
}

TEST(Schedule, NothingToDoIsAnEmptyPlanAndBadInputIsRefused)
{
	Case c;
	c.benches = { { "B1", "meter-1p", 4 } };
	c.models = { { "M1", "meter-1p", 60 } };
	c.plan();
	EXPECT_EQ(0u, c.out.nruns);

	sched_bench b = { "B0", "meter-1p", 0 };
	sched_in in = { &b, 1, nullptr, 0, nullptr, 0, nullptr, 0, 5, 100 };
	sched_out out;
	ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_EINVAL, sched_plan(&in, &out, &err));
	EXPECT_NE(std::string::npos, std::string(err.msg).find("B0")) << err.msg;
	in.nbenches = 0;
	in.days = 0;
	EXPECT_EQ(ML_EINVAL, sched_plan(&in, &out, &err));
}
