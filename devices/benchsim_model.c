/*
 * benchsim_model.c — device physics of the simulated bench, in device time.
 *
 * Everything here runs under the simulator's mutex. Time advances lazily:
 * before each request the server calls sim_advance(now) and the state is
 * integrated over the elapsed device time, so a time scale of 1000 simply
 * means bigger steps. Judged values (meter error, clock error, ratio error,
 * phase displacement) come from the scenario as exact dec4 integers plus
 * integer noise, never from floating-point arithmetic (protocol §2).
 */
#include <math.h>
#include <string.h>

#include "devices/bench.h"
#include "devices/bench_codec.h"
#include "devices/benchsim_priv.h"

#define PCT_E4_100 1000000 /* 100 % in 1e-4 % units */

static uint64_t splitmix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* Deterministic integer noise in [-noise, +noise] for (seed, position, reading). */
static int32_t noise(const struct sim_state *st, int p, uint32_t k, uint32_t salt)
{
	int32_t a = st->sc->noise_e4;
	if (a <= 0)
		return 0;
	uint64_t h = splitmix(st->seed ^ ((uint64_t)p << 40) ^ ((uint64_t)salt << 32) ^ k);
	return (int32_t)(h % (uint64_t)(2 * a + 1)) - a;
}

void sim_init(struct sim_state *st, const struct benchsim_scenario *sc, uint64_t seed)
{
	memset(st, 0, sizeof(*st));
	st->sc = sc;
	st->seed = seed;
	st->sp.freq = 50.0f;
	for (int p = 0; p < sc->positions; p++)
		st->pos[p].reg_kwh = sc->pos[p].register_start;
}

/* Elements in use: bit k set and k < phases; mask 0 means every element. */
static int element_used(const struct sim_state *st, int k)
{
	unsigned m = st->sp.mask ? st->sp.mask : 7u;
	return k < st->sc->phases && (m >> k) & 1u;
}

static double power_w(const struct sim_state *st)
{
	double p = 0;
	for (int k = 0; k < 3; k++) {
		if (!element_used(st, k))
			continue;
		double a = st->sp.phi[k] * M_PI / 180.0;
		p += (double)st->sp.u[k] * st->sp.i[k] * (st->sp.energy ? sin(a) : cos(a));
	}
	return fabs(p);
}

static double max_current(const struct sim_state *st, float *phi)
{
	double imax = 0;
	for (int k = 0; k < 3; k++)
		if (element_used(st, k) && st->sp.i[k] > imax) {
			imax = st->sp.i[k];
			*phi = st->sp.phi[k];
		}
	return imax;
}

/* Scenario error at the current load point (§ "error as a function of load point"). */
static int32_t meter_error_e4(const struct sim_state *st, const struct sim_pos_model *m)
{
	float phi = 0;
	double i = max_current(st, &phi);
	double imult = m->ib > 0 ? i / m->ib : 0;
	/* From the end: a later section's point overrides an earlier one. */
	for (int k = m->npoints - 1; k >= 0; k--) {
		double pm = m->points[k].imult_e4 / 10000.0;
		if (fabs(imult - pm) <= 0.005 * pm && fabs(phi - m->points[k].phi) <= 0.5f)
			return m->points[k].err_e4;
	}
	return m->base_err_e4;
}

/*
 * The error the bench computes: the meter pulses at its true constant with
 * error e; the bench compares against the configured constant, so a wrong
 * constant shows up as a large error, as on a real bench:
 * e' = (1 + e) * C_meter / C_cfg - 1, in 1e-4 % units, integer arithmetic.
 */
static int32_t bench_error_e4(int32_t e_e4, uint32_t c_meter, uint32_t c_cfg)
{
	if (!c_cfg || c_cfg == c_meter)
		return e_e4;
	int64_t v = ((int64_t)PCT_E4_100 + e_e4) * (int64_t)c_meter / (int64_t)c_cfg - PCT_E4_100;
	return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

/* Meter pulses per second of device time at the current source state. */
static double meter_rate(const struct sim_state *st, const struct sim_pos_model *m)
{
	if (!m->present || m->dead || st->src_state != BENCH_SRC_STABLE)
		return 0;
	float phi = 0;
	double i = max_current(st, &phi);
	if (i <= 0 || i < m->start_a) {
		int volts = st->sp.u[0] > 0 || st->sp.u[1] > 0 || st->sp.u[2] > 0;
		return m->creeping && volts ? m->creep_per_hour / 3600.0 : 0;
	}
	double e = meter_error_e4(st, m) / 1e6; /* fraction */
	return power_w(st) * m->constant / 3.6e6 * (1.0 + e);
}

static double nominal_rate(const struct sim_state *st, const struct sim_pos_rt *rt)
{
	return st->src_state == BENCH_SRC_STABLE ? power_w(st) * rt->constant / 3.6e6 : 0;
}

static void finish(struct sim_pos_rt *rt, uint16_t result)
{
	rt->state = BENCH_POS_DONE;
	rt->result = result;
}

static void new_readings(struct sim_pos_rt *rt, uint32_t n)
{
	rt->seq = (uint16_t)(rt->seq + (n - rt->readings));
	rt->readings = n;
}

static void run_basic(struct sim_state *st, int p, double rate, double dt)
{
	struct sim_pos_rt *rt = &st->pos[p];
	const struct sim_pos_model *m = &st->sc->pos[p];
	uint32_t before = (uint32_t)rt->pulses_f;
	rt->pulses_f += rate * dt;
	uint32_t n = (uint32_t)(rt->pulses_f / rt->pulses);
	if (n > rt->readings) {
		new_readings(rt, n);
		int32_t e = bench_error_e4(meter_error_e4(st, m), m->constant, rt->constant);
		rt->value = e + noise(st, p, n, 1);
		rt->result = BENCH_RES_OK;
	}
	/*
	 * §5 (1.1): no pulse counted for three times the time one reading should
	 * take (pulses / (P·constant/3.6e6), device time at full source) ends the
	 * position with result 1. Time without the source does not count.
	 */
	double nom = nominal_rate(st, rt);
	if ((uint32_t)rt->pulses_f != before || nom <= 0) {
		rt->silent_s = 0;
		return;
	}
	rt->silent_s += dt;
	if (st->sc->no_pulses && rt->silent_s > 3.0 * rt->pulses / nom)
		finish(rt, BENCH_RES_NO_PULSES);
}

static void run_clock(struct sim_state *st, int p, double dt)
{
	struct sim_pos_rt *rt = &st->pos[p];
	const struct sim_pos_model *m = &st->sc->pos[p];
	if (!m->present || m->dead || st->src_state != BENCH_SRC_STABLE)
		return;
	/* Clock output runs fast by drift s/day: f' = f (1 + drift / 86400). */
	rt->clock_pulses += rt->clock_freq * (1.0 + m->clock_drift_e4 / 1e4 / 86400.0) * dt;
	uint32_t n = (uint32_t)(rt->clock_pulses / 60.0); /* one reading per 60 clock pulses (§5) */
	if (n > rt->readings) {
		new_readings(rt, n);
		rt->value = m->clock_drift_e4 + noise(st, p, n, 2);
	}
}

/* Ratio error and phase displacement at the applied percent point and burden. */
static void xfmr_errors(const struct sim_state *st, const struct sim_pos_model *m, int32_t *ratio,
			int32_t *phase)
{
	const struct sim_xpoint *any = NULL;
	for (int k = m->nx - 1; k >= 0; k--) { /* later sections override */
		const struct sim_xpoint *x = &m->xp[k];
		if (fabsf(x->percent - st->xf.percent) > 0.005f * x->percent)
			continue;
		if (x->burden_va >= 0 &&
		    fabsf(x->burden_va - st->xf.burden_va) <= 0.01f * (x->burden_va + 1)) {
			*ratio = x->ratio_e4;
			*phase = x->phase_e4;
			return;
		}
		if (x->burden_va < 0 && !any)
			any = x;
	}
	*ratio = any ? any->ratio_e4 : m->ratio_e4;
	*phase = any ? any->phase_e4 : m->phase_e4;
}

static void run_xfmr(struct sim_state *st, int p, double dt)
{
	struct sim_pos_rt *rt = &st->pos[p];
	const struct sim_pos_model *m = &st->sc->pos[p];
	if (!m->present || !st->xfmr_on || st->src_state != BENCH_SRC_STABLE)
		return;
	rt->measure_s += dt;
	uint32_t n = (uint32_t)(rt->measure_s / st->sc->reading_s);
	if (n > rt->readings) {
		int32_t r, ph;
		xfmr_errors(st, m, &r, &ph);
		new_readings(rt, n);
		rt->value = r + noise(st, p, n, 3);
		rt->value2 = ph + noise(st, p, n, 4);
	}
}

/* Modes with a time limit stop integrating at the limit (creep, start, constant, clock). */
static int has_limit(const struct sim_pos_rt *rt)
{
	return rt->mode >= BENCH_MODE_CREEP && rt->mode <= BENCH_MODE_CLOCK && rt->tlim > 0;
}

/* kWh the meter's register gains in dt at this pulse rate (register error included). */
static double reg_gain(const struct sim_pos_model *m, double rate, double dt)
{
	return rate * dt / (m->constant ? m->constant : 1) * (1.0 + m->register_err_e4 / 1e6);
}

static void run_position(struct sim_state *st, int p, double rate, double dt)
{
	struct sim_pos_rt *rt = &st->pos[p];
	double left = has_limit(rt) ? rt->tlim - rt->elapsed : dt;
	int at_limit = has_limit(rt) && left <= dt;
	double d = at_limit ? (left > 0 ? left : 0) : dt;
	switch (rt->mode) {
	case BENCH_MODE_BASIC:
		run_basic(st, p, rate, d);
		break;
	case BENCH_MODE_CREEP: /* fails when MORE than `pulses` pulses are counted (§5) */
		rt->pulses_f += rate * d;
		if ((uint32_t)rt->pulses_f > rt->pulses)
			finish(rt, BENCH_RES_CREEP);
		break;
	case BENCH_MODE_START: /* passes once `pulses` pulses are counted (§5) */
		rt->pulses_f += rate * d;
		if ((uint32_t)rt->pulses_f >= rt->pulses)
			finish(rt, BENCH_RES_OK);
		else if (at_limit)
			finish(rt, BENCH_RES_TIME_LIMIT);
		break;
	case BENCH_MODE_CONSTANT:
		rt->pulses_f += rate * d;
		break;
	case BENCH_MODE_CLOCK:
		run_clock(st, p, d);
		break;
	case BENCH_MODE_TRANSFORMER:
		run_xfmr(st, p, d);
		break;
	default:
		break;
	}
	rt->elapsed += d;
	if (rt->mode == BENCH_MODE_CONSTANT && rt->state == BENCH_POS_RUNNING && at_limit)
		rt->reg_end = rt->reg_kwh +
			      reg_gain(&st->sc->pos[p], rate, d); /* the bench's final read */
	if (rt->state == BENCH_POS_RUNNING && at_limit) {
		int comm = rt->mode == BENCH_MODE_CONSTANT && st->sc->pos[p].comm_fault;
		finish(rt, comm ? BENCH_RES_COMM : BENCH_RES_OK);
	}
}

static void advance_source(struct sim_state *st)
{
	if (st->src_state == BENCH_SRC_SETTLING && st->t >= st->settle_end) {
		if (st->sc->source_fault) {
			st->src_state = BENCH_SRC_FAULT;
			st->src_fault = st->sc->source_fault;
		} else {
			st->src_state = BENCH_SRC_STABLE;
			st->applied_seq = st->xfmr_on ? st->xf.seq : st->sp.seq;
		}
	}
}

void sim_advance(struct sim_state *st, double t)
{
	/* Settling ends inside the step: integrate only the stable part. */
	if (st->src_state == BENCH_SRC_SETTLING && t > st->settle_end) {
		double mid = st->settle_end;
		sim_advance(st, mid);
	}
	double dt = t - st->t;
	if (dt <= 0)
		return;
	st->t = t;
	advance_source(st);
	for (int p = 0; p < st->sc->positions; p++) {
		const struct sim_pos_model *m = &st->sc->pos[p];
		double rate = meter_rate(st, m);
		if (st->pos[p].state == BENCH_POS_RUNNING)
			run_position(st, p, rate, dt);
		/* The meter's register counts whatever it registers, test or not. */
		st->pos[p].reg_kwh += reg_gain(m, rate, dt);
	}
}
