/*
 * benchsim_regs.c — the simulator's side of the register map: filling the
 * input registers from the device state, which addresses are mapped
 * (exception 02 otherwise), validating writes (exception 03 for bad values,
 * 06 while the source settles, protocol §1 and §5) and the side effects of
 * command registers. Runs under the simulator's mutex.
 */
#include <math.h>
#include <string.h>

#include "devices/bench.h"
#include "devices/bench_codec.h"
#include "devices/benchsim_priv.h"

void sim_fill_identity(const struct sim_state *st, uint16_t *in)
{
	const struct benchsim_scenario *sc = st->sc;
	memset(in, 0, BR_ID_END * sizeof(*in));
	in[BR_ID_PROTO_MAJOR] = 1;
	in[BR_ID_PROTO_MINOR] = (uint16_t)sc->proto_minor;
	in[BR_ID_CLASS] = (uint16_t)sc->device_class;
	in[BR_ID_POSITIONS] = (uint16_t)sc->positions;
	in[BR_ID_PHASES] = (uint16_t)sc->phases;
	in[BR_ID_CAPS] = (uint16_t)sc->caps;
	bcodec_put_f32(&in[BR_ID_UMAX], sc->u_max);
	bcodec_put_f32(&in[BR_ID_IMAX], sc->i_max);
	bcodec_put_f32(&in[BR_ID_STDCLASS], sc->std_class);
	bcodec_put_str(&in[BR_ID_MODEL], 16, sc->model);
	bcodec_put_str(&in[BR_ID_SERIAL], 8, sc->serial);
	bcodec_put_str(&in[BR_ID_FIRMWARE], 8, sc->firmware);
}

/*
 * What the reference standard reads: while settling the quantities ramp
 * towards the setpoint; once stable they sit 0.02 % above it (inside the
 * 0.05 % the protocol promises, §4.2).
 */
static void fill_source(struct sim_state *st, uint16_t *in)
{
	double f = 0;
	if (st->src_state == BENCH_SRC_STABLE)
		f = 1.0002;
	else if (st->src_state == BENCH_SRC_SETTLING && st->settle_end > st->apply_t)
		f = (st->t - st->apply_t) / (st->settle_end - st->apply_t);
	in[BR_SRC_STATE] = st->src_state;
	in[BR_SRC_FAULT] = st->src_fault;
	in[BR_SRC_APPLIED] = st->applied_seq;
	if (!st->hb_frozen)
		st->hb_value = (uint16_t)(uint64_t)(st->t *
						    10.0); /* +1 per 100 ms device time, wraps */
	in[BR_SRC_HEARTBEAT] = st->hb_value;
	bcodec_put_f32(&in[BR_SRC_FREQ], f > 0 ? st->sp.freq : 0.0f);
	double p = 0, q = 0;
	unsigned mask = st->sp.mask ? st->sp.mask : 7u;
	for (int k = 0; k < 3; k++) {
		/* Only the phases the bench has; current only in the elements of element_mask. */
		int has = k < st->sc->phases;
		double u = has ? st->sp.u[k] * f : 0,
		       i = has && (mask >> k & 1u) ? st->sp.i[k] * f : 0;
		double a = st->sp.phi[k] * M_PI / 180.0;
		bcodec_put_f32(&in[BR_SRC_U + 2 * k], (float)u);
		bcodec_put_f32(&in[BR_SRC_I + 2 * k], (float)i);
		bcodec_put_f32(&in[BR_SRC_PHI + 2 * k], f > 0 ? st->sp.phi[k] : 0.0f);
		p += u * i * cos(a);
		q += u * i * sin(a);
	}
	bcodec_put_f32(&in[BR_SRC_P], (float)p);
	bcodec_put_f32(&in[BR_SRC_Q], (float)q);
}

/*
 * The register at +12 (§3.3, §6): 1.1 sends u32 Wh, the meter's register
 * read with 0.001 kWh resolution (what it completed, so truncated); 1.0
 * sent f32 kWh.
 */
static void put_register(uint16_t *r, int minor, double kwh)
{
	if (minor == 0) {
		bcodec_put_f32(r, (float)kwh);
		return;
	}
	double wh = floor(kwh * 1000.0 +
			  1e-6); /* 1e-6 Wh: "123456.78" is 123456.779999… in binary */
	bcodec_put_u32(r, wh <= 0 ? 0u : wh >= 4294967295.0 ? 4294967295u : (uint32_t)wh);
}

void sim_fill_dynamic(struct sim_state *st, uint16_t *in)
{
	fill_source(st, in);
	for (int p = 0; p < st->sc->positions; p++) {
		uint16_t *r = &in[BR_POS_ADDR(p)];
		const struct sim_pos_rt *rt = &st->pos[p];
		const struct sim_pos_model *m = &st->sc->pos[p];
		r[BR_PS_STATE] = rt->state;
		r[BR_PS_PRESENT] = (uint16_t)m->present;
		r[BR_PS_SEQ] = rt->seq;
		r[BR_PS_RESULT] = rt->result;
		bcodec_put_i32(&r[BR_PS_VALUE], rt->value);
		bcodec_put_u32(&r[BR_PS_PULSES], (uint32_t)rt->pulses_f);
		bcodec_put_f32(&r[BR_PS_ELAPSED], (float)rt->elapsed);
		bcodec_put_i32(&r[BR_PS_VALUE2], rt->value2);
		/*
		 * Constant test: the bench reads the meter's register over DL/T 645 at
		 * the start and at the time limit; while running it shows the start
		 * reading, once done the final one. Otherwise the live register.
		 */
		double reg = rt->reg_kwh;
		if (rt->mode == BENCH_MODE_CONSTANT && rt->state != BENCH_POS_IDLE)
			reg = rt->state == BENCH_POS_DONE ? rt->reg_end : rt->reg_start;
		put_register(&r[BR_PS_REGISTER], st->sc->proto_minor, m->present ? reg : 0);
		r[BR_PS_COMM] = (uint16_t)(m->present && !m->comm_fault &&
					   st->sc->device_class == BENCH_CLASS_METER);
	}
}

static int within(int addr, int n, int lo, int hi)
{
	return addr >= lo && addr + n <= hi;
}

/* Only the addresses of §3 are mapped: 0x000C..0x000F and every other gap answer 02 (§5). */
int sim_input_mapped(const struct sim_state *st, int addr, int n)
{
	return within(addr, n, 0, BR_ID_HEAD_END) || within(addr, n, BR_ID_MODEL, BR_ID_END) ||
	       within(addr, n, BR_SRC_STATE, BR_SRC_END) ||
	       within(addr, n, BR_POS_BASE, BR_POS_ADDR(st->sc->positions));
}

int sim_holding_mapped(const struct sim_state *st, int addr, int n)
{
	return within(addr, n, BR_ALL_COMMAND, BR_ALL_COMMAND + 1) ||
	       within(addr, n, BR_SP_WIRING, BR_SP_END) ||
	       (st->sc->device_class == BENCH_CLASS_TRANSFORMER &&
		within(addr, n, BR_XF_KIND, BR_XF_END)) ||
	       within(addr, n, BR_POS_BASE, BR_POS_ADDR(st->sc->positions)) ||
	       within(addr, n, BR_CTL_BASE, BR_CTL_END);
}

/* A register's value as it would be after the write. */
struct wview {
	const uint16_t *holding, *vals;
	int addr, n;
};

static uint16_t wv(const struct wview *w, int a)
{
	return a >= w->addr && a < w->addr + w->n ? w->vals[a - w->addr] : w->holding[a];
}

static float wvf(const struct wview *w, int a)
{
	uint16_t r[2] = { wv(w, a), wv(w, a + 1) };
	return bcodec_get_f32(r);
}

static int written(const struct wview *w, int a)
{
	return a >= w->addr && a < w->addr + w->n;
}

static int out_of(float v, double lo, double hi)
{
	return !isfinite(v) || v < lo || v > hi;
}

/* The bench's own range check before latching the source (protocol §4.2: exception 03). */
static int bad_source(const struct sim_state *st, const struct wview *w)
{
	const struct benchsim_scenario *sc = st->sc;
	uint16_t wiring = wv(w, BR_SP_WIRING), mask = wv(w, BR_SP_MASK);
	if (wiring > 2 || (sc->phases == 1 && wiring != 0) || wv(w, BR_SP_ENERGY) > 1)
		return 1;
	if ((mask & ~((1u << sc->phases) - 1u)) || out_of(wvf(w, BR_SP_FREQ), 45, 65))
		return 1;
	for (int k = 0; k < 3; k++)
		if (out_of(wvf(w, BR_SP_U + 2 * k), 0, sc->u_max) ||
		    out_of(wvf(w, BR_SP_I + 2 * k), 0, sc->i_max) ||
		    out_of(wvf(w, BR_SP_PHI + 2 * k), -180, 180))
			return 1;
	return 0;
}

static int bad_xfmr(const struct wview *w)
{
	return wv(w, BR_XF_KIND) > 1 || out_of(wvf(w, BR_XF_PRIMARY), 1e-6, 1e7) ||
	       out_of(wvf(w, BR_XF_SECONDARY), 1e-6, 1e4) ||
	       out_of(wvf(w, BR_XF_PERCENT), 0.1, 200) ||
	       out_of(wvf(w, BR_XF_BURDEN_VA), 0, 1000) || out_of(wvf(w, BR_XF_BURDEN_PF), 0, 1);
}

static int bad_position(const struct sim_state *st, const struct wview *w, int p)
{
	int base = BR_POS_ADDR(p);
	uint16_t mode = wv(w, base + BR_PC_MODE);
	int xf = st->sc->device_class == BENCH_CLASS_TRANSFORMER;
	if (written(w, base + BR_PC_MODE) && mode != 0 &&
	    (xf ? mode != BENCH_MODE_TRANSFORMER : mode > BENCH_MODE_CLOCK))
		return 1;
	/* 1.1 §4.4: 0 none, 1 start, 2 stop (a 1.0 bench also took 3, reset) */
	if (written(w, base + BR_PC_COMMAND) &&
	    wv(w, base + BR_PC_COMMAND) > (st->sc->proto_minor >= 1 ? 2 : 3))
		return 1;
	return written(w, base + BR_PC_ENABLED) && wv(w, base + BR_PC_ENABLED) > 1;
}

static int touches(const struct wview *w, int lo, int hi)
{
	return w->addr < hi && w->addr + w->n > lo;
}

int sim_check_write(const struct sim_state *st, const uint16_t *holding, int addr, int n,
		    const uint16_t *vals)
{
	struct wview w = { holding, vals, addr, n };
	if (addr >= BR_CTL_BASE)
		return 0;
	/* Switching the source off stays possible while settling (safety). */
	int off_only = addr == BR_SP_COMMAND && n == 1 && vals[0] == 0;
	if (st->src_state == BENCH_SRC_SETTLING && !off_only)
		return 6;
	if (written(&w, BR_ALL_COMMAND) && wv(&w, BR_ALL_COMMAND) > 3)
		return 3;
	if (written(&w, BR_SP_COMMAND) &&
	    (wv(&w, BR_SP_COMMAND) > 1 || (wv(&w, BR_SP_COMMAND) == 1 && bad_source(st, &w))))
		return 3;
	if (written(&w, BR_XF_COMMAND) &&
	    (wv(&w, BR_XF_COMMAND) > 1 || (wv(&w, BR_XF_COMMAND) == 1 && bad_xfmr(&w))))
		return 3;
	if (touches(&w, BR_POS_BASE, BR_POS_ADDR(st->sc->positions))) {
		int p0 = addr < BR_POS_BASE ? 0 : (addr - BR_POS_BASE) / BR_POS_STRIDE;
		int p1 = (addr + n - 1 - BR_POS_BASE) / BR_POS_STRIDE;
		for (int p = p0; p <= p1 && p < st->sc->positions; p++)
			if (bad_position(st, &w, p))
				return 3;
	}
	return 0;
}

static void apply_source(struct sim_state *st, const uint16_t *h)
{
	struct sim_source *s = &st->sp;
	if (h[BR_SP_COMMAND] == 0) {
		st->src_state = BENCH_SRC_OFF;
		st->xfmr_on = 0;
		return;
	}
	s->wiring = h[BR_SP_WIRING];
	s->energy = h[BR_SP_ENERGY];
	s->freq = bcodec_get_f32(&h[BR_SP_FREQ]);
	for (int k = 0; k < 3; k++) {
		s->u[k] = bcodec_get_f32(&h[BR_SP_U + 2 * k]);
		s->i[k] = bcodec_get_f32(&h[BR_SP_I + 2 * k]);
		s->phi[k] = bcodec_get_f32(&h[BR_SP_PHI + 2 * k]);
	}
	s->mask = h[BR_SP_MASK];
	s->seq = h[BR_SP_SEQ];
	st->xfmr_on = 0;
	st->src_state = BENCH_SRC_SETTLING;
	st->src_fault = 0;
	st->apply_t = st->t;
	st->settle_end = st->t + st->sc->settle_s;
}

static void apply_xfmr(struct sim_state *st, const uint16_t *h)
{
	if (h[BR_XF_COMMAND] == 0) {
		st->xfmr_on = 0;
		st->src_state = BENCH_SRC_OFF;
		return;
	}
	st->xf.kind = h[BR_XF_KIND];
	st->xf.primary = bcodec_get_f32(&h[BR_XF_PRIMARY]);
	st->xf.secondary = bcodec_get_f32(&h[BR_XF_SECONDARY]);
	st->xf.percent = bcodec_get_f32(&h[BR_XF_PERCENT]);
	st->xf.burden_va = bcodec_get_f32(&h[BR_XF_BURDEN_VA]);
	st->xf.burden_pf = bcodec_get_f32(&h[BR_XF_BURDEN_PF]);
	st->xf.seq = h[BR_XF_SEQ];
	st->xfmr_on = 1;
	st->src_state = BENCH_SRC_SETTLING;
	st->src_fault = 0;
	st->apply_t = st->t;
	st->settle_end = st->t + st->sc->settle_s;
	/* A new test point restarts the measurement of running positions. */
	for (int p = 0; p < st->sc->positions; p++)
		st->pos[p].measure_s = st->pos[p].readings * st->sc->reading_s;
}

static void position_command(struct sim_state *st, const uint16_t *h, int p, uint16_t cmd)
{
	struct sim_pos_rt *rt = &st->pos[p];
	const uint16_t *r = &h[BR_POS_ADDR(p)];
	if (cmd == BENCH_CMD_START) {
		if (!st->sc->pos[p].present || !r[BR_PC_ENABLED] || !r[BR_PC_MODE])
			return; /* nothing mounted, isolated or idle mode: stays idle */
		double reg = rt->reg_kwh;
		memset(rt, 0, sizeof(*rt));
		rt->reg_kwh = rt->reg_start = reg;
		rt->mode = r[BR_PC_MODE];
		rt->constant = bcodec_get_u32(&r[BR_PC_CONSTANT]);
		rt->pulses = r[BR_PC_PULSES] ? r[BR_PC_PULSES] : 1;
		rt->tlim = bcodec_get_f32(&r[BR_PC_TLIMIT]);
		rt->enabled = 1;
		rt->clock_freq = bcodec_get_f32(&r[BR_PC_CLKFREQ]);
		rt->state = BENCH_POS_RUNNING;
	} else if (cmd == BENCH_CMD_STOP) {
		if (rt->state == BENCH_POS_RUNNING)
			rt->state = BENCH_POS_IDLE;
	} else if (cmd == BENCH_CMD_RESET) {
		double reg = rt->reg_kwh;
		memset(rt, 0, sizeof(*rt));
		rt->reg_kwh = reg;
	}
}

void sim_apply_write(struct sim_state *st, uint16_t *h, int addr, int n)
{
	struct wview w = { h, h, -1, 0 };
	w.addr = addr;
	w.n = n;
	if (written(&w, BR_ALL_COMMAND)) {
		for (int p = 0; p < st->sc->positions; p++)
			if (h[BR_ALL_COMMAND] != BENCH_CMD_START ||
			    h[BR_POS_ADDR(p) + BR_PC_ENABLED])
				position_command(st, h, p, h[BR_ALL_COMMAND]);
		h[BR_ALL_COMMAND] = 0;
	}
	if (written(&w, BR_SP_COMMAND))
		apply_source(st, h);
	if (st->sc->device_class == BENCH_CLASS_TRANSFORMER && written(&w, BR_XF_COMMAND))
		apply_xfmr(st, h);
	for (int p = 0; p < st->sc->positions; p++) {
		int a = BR_POS_ADDR(p) + BR_PC_COMMAND;
		if (written(&w, a) && h[a]) {
			position_command(st, h, p, h[a]);
			h[a] = 0; /* a command is an event, not a state: reads back 0 */
		}
	}
}
