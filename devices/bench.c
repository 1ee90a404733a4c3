/*
 * bench.c — the generic half of the bench driver: backend dispatch, setpoint
 * validation against the bench's identity (bench-protocol.md §4: an out of
 * range setpoint would be refused by the bench with exception 03; we refuse
 * it first, name the value and send nothing), waiting for the source and
 * heartbeat watching. Backends (bench_backend.h) do the I/O.
 */
#include "devices/bench.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/bench_backend.h"

int64_t bench_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bench_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void fill_defaults(struct bench_options *o, const struct bench_options *in)
{
	static const struct bench_options def = {
		.connect_timeout_ms = 2000,
		.response_timeout_ms = 1000,
		.retries = 3,
		.backoff_ms = 100,
		.heartbeat_timeout_ms = 3000,
	};
	*o = def;
	if (!in)
		return;
	if (in->connect_timeout_ms > 0)
		o->connect_timeout_ms = in->connect_timeout_ms;
	if (in->response_timeout_ms > 0)
		o->response_timeout_ms = in->response_timeout_ms;
	if (in->retries)
		o->retries = in->retries < 0 ? 0 : in->retries;
	if (in->backoff_ms > 0)
		o->backoff_ms = in->backoff_ms;
	if (in->heartbeat_timeout_ms > 0)
		o->heartbeat_timeout_ms = in->heartbeat_timeout_ms;
}

int bench_open(const char *uri, const struct bench_options *opt, struct bench **out,
	       struct ml_error *err)
{
	*out = NULL;
	if (!uri || !*uri)
		return ml_errorf(err, ML_EINVAL, "bench uri is empty");
	struct bench *b = calloc(1, sizeof(*b));
	if (!b || !(b->uri = strdup(uri))) {
		free(b);
		return ml_errorf(err, ML_ENOMEM, "bench %s: out of memory", uri);
	}
	fill_defaults(&b->opt, opt);
	/* Only one protocol family today; a vendor scheme ("clt://") would branch here. */
	int rc = bench_modbus_init(b, uri, err);
	if (rc) {
		free(b->uri);
		free(b);
		return rc;
	}
	*out = b;
	return ML_OK;
}

void bench_close(struct bench *b)
{
	if (!b)
		return;
	if (b->ops && b->ops->destroy)
		b->ops->destroy(b);
	free(b->uri);
	free(b);
}

const char *bench_name(const struct bench *b)
{
	return b ? b->uri : "(null)";
}

const char *bench_backend_name(const struct bench *b)
{
	return b && b->ops ? b->ops->name : "?";
}

void bench_disconnect(struct bench *b)
{
	if (b && b->ops->drop_connection)
		b->ops->drop_connection(b);
}

void bench_get_stats(const struct bench *b, struct bench_stats *out)
{
	*out = b->stats;
}

const struct bench_identity *bench_cached_identity(const struct bench *b)
{
	return b && b->have_id ? &b->id : NULL;
}

int bench_identify(struct bench *b, struct bench_identity *id, struct ml_error *err)
{
	struct bench_identity tmp;
	int rc = b->ops->identify(b, &tmp, err);
	if (rc)
		return rc;
	if (tmp.proto_major != 1)
		return ml_errorf(err, ML_EPROTO,
				 "bench %s: protocol version %u.%u is not supported (need 1.x)",
				 b->uri, tmp.proto_major, tmp.proto_minor);
	if (tmp.positions < 1 || tmp.positions > 96 || (tmp.phases != 1 && tmp.phases != 3))
		return ml_errorf(err, ML_EPROTO,
				 "bench %s: implausible identity (positions %u, phases %u)", b->uri,
				 tmp.positions, tmp.phases);
	b->id = tmp;
	b->have_id = 1;
	if (id)
		*id = tmp;
	return ML_OK;
}

/* Validation needs u_max, i_max and positions: identify once, lazily. */
static int need_identity(struct bench *b, struct ml_error *err)
{
	return b->have_id ? ML_OK : bench_identify(b, NULL, err);
}

static int bad_float(struct bench *b, struct ml_error *err, const char *what, double v, double lo,
		     double hi)
{
	return ml_errorf(err, ML_EINVAL, "bench %s: %s = %g is outside %g..%g; nothing sent",
			 b->uri, what, v, lo, hi);
}

static int check_range(struct bench *b, struct ml_error *err, const char *what, float v, double lo,
		       double hi)
{
	if (!isfinite(v) || v < lo || v > hi)
		return bad_float(b, err, what, v, lo, hi);
	return ML_OK;
}

static int validate_source(struct bench *b, const struct bench_source *s, struct ml_error *err)
{
	static const char *const un[] = { "u1", "u2", "u3" }, *const in[] = { "i1", "i2", "i3" },
				 *const pn[] = { "phi1", "phi2", "phi3" };
	if (s->wiring > 2 || (b->id.phases == 1 && s->wiring != BENCH_WIRING_1P2W))
		return ml_errorf(
			err, ML_EINVAL,
			"bench %s: wiring %u is not possible on a %u-phase bench; nothing sent",
			b->uri, s->wiring, b->id.phases);
	if (s->energy > 1)
		return ml_errorf(
			err, ML_EINVAL,
			"bench %s: energy %u is not 0 (active) or 1 (reactive); nothing sent",
			b->uri, s->energy);
	if (s->element_mask & ~((1u << b->id.phases) - 1u))
		return ml_errorf(
			err, ML_EINVAL,
			"bench %s: element_mask 0x%x names elements the %u-phase bench lacks",
			b->uri, s->element_mask, b->id.phases);
	int rc = check_range(b, err, "freq", s->freq, 45.0, 65.0);
	for (int k = 0; k < 3 && !rc; k++) {
		rc = check_range(b, err, un[k], s->u[k], 0.0, b->id.u_max);
		if (!rc)
			rc = check_range(b, err, in[k], s->i[k], 0.0, b->id.i_max);
		if (!rc)
			rc = check_range(b, err, pn[k], s->phi[k], -180.0, 180.0);
	}
	return rc;
}

int bench_set_source(struct bench *b, const struct bench_source *s, uint16_t seq,
		     struct ml_error *err)
{
	int rc = need_identity(b, err);
	if (!rc)
		rc = validate_source(b, s, err);
	return rc ? rc : b->ops->set_source(b, s, seq, err);
}

int bench_source_off(struct bench *b, struct ml_error *err)
{
	return b->ops->source_off(b, err);
}

int bench_read_source(struct bench *b, struct bench_source_status *st, struct ml_error *err)
{
	return b->ops->read_source(b, st, err);
}

int bench_alive(struct bench *b, uint16_t *hb, struct ml_error *err)
{
	uint16_t v;
	int rc = b->ops->read_heartbeat(b, &v, err);
	if (rc)
		return rc;
	int64_t now = bench_now_ms();
	if (!b->hb_valid || v != b->hb_last) {
		b->hb_valid = 1;
		b->hb_last = v;
		b->hb_changed_ms = now;
	} else if (now - b->hb_changed_ms > b->opt.heartbeat_timeout_ms) {
		return ml_errorf(
			err, ML_EDEVICE,
			"bench %s: heartbeat (input 0x0103) frozen at %u for %lld ms: the device is hung",
			b->uri, v, (long long)(now - b->hb_changed_ms));
	}
	if (hb)
		*hb = v;
	return ML_OK;
}

/*
 * Poll the source status until stable with our seq (protocol §4.2). The
 * pause between polls is a polling interval, not a guess of the settling
 * time: we return as soon as the bench reports the state.
 */
int bench_wait_stable(struct bench *b, uint16_t seq, int timeout_ms, struct ml_error *err)
{
	int64_t deadline = bench_now_ms() + timeout_ms;
	struct bench_source_status st;
	for (;;) {
		int rc = bench_read_source(b, &st, err);
		if (!rc)
			rc = bench_alive(b, NULL, err);
		if (rc)
			return rc;
		if (st.state == BENCH_SRC_FAULT)
			return ml_errorf(
				err, ML_EDEVICE,
				"bench %s: source fault %u while applying setpoints seq %u", b->uri,
				st.fault, seq);
		if (st.state == BENCH_SRC_STABLE && st.applied_seq == seq)
			return ML_OK;
		if (bench_now_ms() >= deadline)
			return ml_errorf(
				err, ML_ETIMEOUT,
				"bench %s: source not stable with seq %u after %d ms (state %s, applied_seq %u)",
				b->uri, seq, timeout_ms, bench_src_state_name(st.state),
				st.applied_seq);
		bench_sleep_ms(2);
	}
}

static int validate_xfmr(struct bench *b, const struct bench_xfmr_setpoint *s, struct ml_error *err)
{
	if (b->id.device_class != BENCH_CLASS_TRANSFORMER)
		return ml_errorf(err, ML_EINVAL,
				 "bench %s: not an instrument-transformer bench (device_class %u)",
				 b->uri, b->id.device_class);
	unsigned need = s->kind == 0 ? BENCH_CAP_CT : BENCH_CAP_VT;
	if (s->kind > 1 || !(b->id.capabilities & need))
		return ml_errorf(err, ML_EINVAL,
				 "bench %s: transformer kind %u not supported by this bench",
				 b->uri, s->kind);
	int rc = check_range(b, err, "rated_primary", s->rated_primary, 1e-6, 1e7);
	if (!rc)
		rc = check_range(b, err, "rated_secondary", s->rated_secondary, 1e-6, 1e4);
	if (!rc)
		rc = check_range(b, err, "percent", s->percent, 0.1, 200.0);
	if (!rc)
		rc = check_range(b, err, "burden_va", s->burden_va, 0.0, 1000.0);
	if (!rc)
		rc = check_range(b, err, "burden_pf", s->burden_pf, 0.0, 1.0);
	return rc;
}

int bench_set_transformer(struct bench *b, const struct bench_xfmr_setpoint *s, uint16_t seq,
			  struct ml_error *err)
{
	int rc = need_identity(b, err);
	if (!rc)
		rc = validate_xfmr(b, s, err);
	return rc ? rc : b->ops->set_transformer(b, s, seq, err);
}

static int check_positions(struct bench *b, int first, int n, struct ml_error *err)
{
	int rc = need_identity(b, err);
	if (rc)
		return rc;
	if (first < 0 || n < 1 || first + n > b->id.positions)
		return ml_errorf(err, ML_EINVAL, "bench %s: positions %d..%d outside 0..%u", b->uri,
				 first, first + n - 1, b->id.positions - 1u);
	return ML_OK;
}

static int validate_config(struct bench *b, int pos, const struct bench_position_config *c,
			   struct ml_error *err)
{
	int xf = b->id.device_class == BENCH_CLASS_TRANSFORMER;
	int mode_ok = c->mode == BENCH_MODE_IDLE ||
		      (xf ? c->mode == BENCH_MODE_TRANSFORMER : c->mode <= BENCH_MODE_CLOCK);
	if (!mode_ok)
		return ml_errorf(err, ML_EINVAL,
				 "bench %s: position %d: mode %u not valid on this bench", b->uri,
				 pos, c->mode);
	if (!xf && c->mode != BENCH_MODE_IDLE && c->constant == 0)
		return ml_errorf(err, ML_EINVAL, "bench %s: position %d: meter constant 0", b->uri,
				 pos);
	if ((c->mode == BENCH_MODE_BASIC || c->mode == BENCH_MODE_START) && c->pulses == 0)
		return ml_errorf(err, ML_EINVAL, "bench %s: position %d: pulses 0 in mode %s",
				 b->uri, pos, bench_mode_name(c->mode));
	if (c->enabled > 1)
		return ml_errorf(err, ML_EINVAL, "bench %s: position %d: enabled %u is not 0 or 1",
				 b->uri, pos, c->enabled);
	char what[48];
	snprintf(what, sizeof(what), "position %d time_limit", pos);
	int rc = check_range(b, err, what, c->time_limit, 0.0, 1e7);
	if (!rc && c->mode == BENCH_MODE_CLOCK) {
		snprintf(what, sizeof(what), "position %d clock_freq", pos);
		rc = check_range(b, err, what, c->clock_freq, 1e-3, 1e6);
	}
	return rc;
}

int bench_configure_positions(struct bench *b, int first, int n,
			      const struct bench_position_config *cfg, struct ml_error *err)
{
	int rc = check_positions(b, first, n, err);
	for (int k = 0; k < n && !rc; k++)
		rc = validate_config(b, first + k, &cfg[k], err);
	return rc ? rc : b->ops->configure_positions(b, first, n, cfg, err);
}

static int check_cmd(struct bench *b, enum bench_cmd cmd, struct ml_error *err)
{
	if (cmd < BENCH_CMD_START || cmd > BENCH_CMD_RESET)
		return ml_errorf(err, ML_EINVAL, "bench %s: unknown command %d", b->uri, (int)cmd);
	return ML_OK;
}

int bench_position_command(struct bench *b, int pos, enum bench_cmd cmd, struct ml_error *err)
{
	int rc = check_positions(b, pos, 1, err);
	if (!rc)
		rc = check_cmd(b, cmd, err);
	if (rc)
		return rc;
	/* 1.1 §4.4: a position's command is 0 none, 1 start, 2 stop; reset is for all (§4.1). */
	if (cmd == BENCH_CMD_RESET && b->id.proto_minor >= 1)
		return ml_errorf(err, ML_EINVAL,
				 "bench %s: position %d: reset is a command for all positions "
				 "(protocol 1.1 §4.1), not for one",
				 b->uri, pos);
	return b->ops->position_command(b, pos, cmd, err);
}

int bench_all_command(struct bench *b, enum bench_cmd cmd, struct ml_error *err)
{
	int rc = check_cmd(b, cmd, err);
	return rc ? rc : b->ops->all_command(b, cmd, err);
}

int bench_read_positions(struct bench *b, int first, int n, struct bench_position_status *out,
			 struct ml_error *err)
{
	int rc = check_positions(b, first, n, err);
	return rc ? rc : b->ops->read_positions(b, first, n, out, err);
}

int bench_position_register(const struct bench *b, int pos, const struct bench_position_status *st,
			    uint32_t *wh, struct ml_error *err)
{
	*wh = st->register_wh;
	if (!st->register_refused)
		return ML_OK;
	return ml_errorf(err, ML_EPROTO,
			 "bench %s speaks protocol 1.0: position %d's register %.3f kWh is sent as "
			 "f32 kWh, which is exact enough for the constant test only below %d kWh "
			 "(bench-protocol.md §6); use a protocol 1.1 bench",
			 b->uri, pos + 1, (double)st->register_kwh_v10, BENCH_V10_REGISTER_MAX_KWH);
}

const char *bench_src_state_name(unsigned state)
{
	static const char *const n[] = { "off", "settling", "stable", "fault" };
	return state < 4 ? n[state] : "?";
}

const char *bench_pos_state_name(unsigned state)
{
	static const char *const n[] = { "idle", "running", "done", "fault" };
	return state < 4 ? n[state] : "?";
}

const char *bench_result_name(unsigned result)
{
	static const char *const n[] = { "ok",         "no-pulses", "unstable", "creep",
					 "time-limit", "wiring",    "comm" };
	return result < 7 ? n[result] : "?";
}

const char *bench_mode_name(unsigned mode)
{
	static const char *const n[] = { "idle",     "basic", "creep",      "start",
					 "constant", "clock", "transformer" };
	return mode < 7 ? n[mode] : "?";
}
