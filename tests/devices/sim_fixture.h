// Shared fixture for the devices tests: an in-process simulator on an
// ephemeral loopback port and a driver connected to it over real TCP.
#ifndef ML_TEST_SIM_FIXTURE_H
#define ML_TEST_SIM_FIXTURE_H

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "devices/bench.h"
#include "devices/benchsim.h"

struct SimBench {
	struct benchsim *sim = nullptr;
	struct bench *b = nullptr;
	std::string uri;

	// Start scenario text at the time scale; open a driver with opt (NULL = defaults).
	void start(const char *text, double scale, const struct bench_options *opt = nullptr)
	{
		struct ml_error err = ML_ERROR_INIT;
		struct benchsim_scenario *sc = nullptr;
		ASSERT_EQ(benchsim_scenario_parse(text, "test", &sc, &err), ML_OK) << err.msg;
		struct benchsim_options so = {};
		so.time_scale = scale;
		ASSERT_EQ(benchsim_start(sc, &so, &sim, &err), ML_OK) << err.msg;
		benchsim_scenario_free(sc);
		uri = "tcp://127.0.0.1:" + std::to_string(benchsim_port(sim));
		ASSERT_EQ(bench_open(uri.c_str(), opt, &b, &err), ML_OK) << err.msg;
	}
	~SimBench()
	{
		bench_close(b);
		benchsim_stop(sim);
	}
};

static inline struct bench_source source_1p(float u, float i, float phi)
{
	struct bench_source s = {};
	s.wiring = BENCH_WIRING_1P2W;
	s.freq = 50.0f;
	s.u[0] = u;
	s.i[0] = i;
	s.phi[0] = phi;
	s.element_mask = 1;
	return s;
}

static inline struct bench_position_config cfg_mode(uint16_t mode, uint16_t pulses, float tlim)
{
	struct bench_position_config c = {};
	c.mode = mode;
	c.constant = 1200;
	c.pulses = pulses;
	c.time_limit = tlim;
	c.enabled = 1;
	c.clock_freq = 1.0f;
	return c;
}

// Poll position p until its reading_seq differs from last (the protocol's
// "watch reading_seq" rule) or the state leaves running; false on timeout.
static inline bool wait_change(struct bench *b, int p, uint16_t last,
			       struct bench_position_status *st, int timeout_ms,
			       struct ml_error *err)
{
	auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
	while (std::chrono::steady_clock::now() < end) {
		if (bench_read_positions(b, p, 1, st, err) != ML_OK)
			return false;
		if (st->reading_seq != last || st->state != BENCH_POS_RUNNING)
			return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	return false;
}

// Poll until position p is done (state 2); false on timeout.
static inline bool wait_done(struct bench *b, int p, struct bench_position_status *st,
			     int timeout_ms)
{
	struct ml_error err = ML_ERROR_INIT;
	auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
	while (std::chrono::steady_clock::now() < end) {
		if (bench_read_positions(b, p, 1, st, &err) != ML_OK)
			return false;
		if (st->state == BENCH_POS_DONE)
			return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(2));
	}
	return false;
}

#endif
