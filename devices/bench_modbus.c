/*
 * bench_modbus.c — Modbus TCP/RTU backend (libmodbus 3.1.6) for bench.h,
 * register map bench-protocol.md v1.1 (bench_regmap.h). Reads cover mapped
 * ranges only: a real bench answers exception 02 for any unmapped register
 * in a block (§5), so no read spans a gap.
 *
 * Connection policy (tech-notes §1.5):
 *  - one modbus_t per connection, created on (re)connect and freed on close;
 *  - after a response timeout the connection is closed, never reused: the
 *    late reply would otherwise answer the next request and every later
 *    transaction would fail with a transaction-ID mismatch (#255, #525);
 *  - lost connections (EPIPE, ECONNRESET, ...) and protocol errors are
 *    retried up to opt.retries times: the first retry reconnects at once,
 *    later ones after backoff_ms, 2*backoff_ms, ... (libmodbus' own LINK
 *    recovery loops forever, #735);
 *  - a write that timed out is NOT retried: it may have been applied, and
 *    repeating a start command would restart the position. Reads are.
 *  - messages are formatted here with strerror_r: modbus_strerror is not
 *    thread-safe (#468).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include <modbus/modbus.h>

#include "devices/bench_backend.h"
#include "devices/bench_codec.h"
#include "devices/bench_regmap.h"

struct mb_impl {
	modbus_t *ctx; /* NULL while disconnected */
	int rtu;
	char host[300];
	char port[16];
	char dev[300];
	int baud;
	char parity;
	int unit;
};

enum mb_op {
	MB_READ_INPUT,
	MB_READ_HOLDING,
	MB_WRITE
};

static const char *op_name(enum mb_op op)
{
	return op == MB_READ_INPUT     ? "read input"
	       : op == MB_READ_HOLDING ? "read holding"
				       : "write";
}

static const char *exception_text(int e)
{
	switch (e - MODBUS_ENOBASE) {
	case MODBUS_EXCEPTION_ILLEGAL_FUNCTION:
		return "exception 01 illegal function";
	case MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS:
		return "exception 02 illegal data address (register not mapped)";
	case MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE:
		return "exception 03 illegal data value (setpoint out of range or unknown mode/command)";
	case MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE:
		return "exception 04 device failure";
	case MODBUS_EXCEPTION_ACKNOWLEDGE:
		return "exception 05 acknowledge";
	case MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY:
		return "exception 06 device busy (source settling)";
	default:
		return NULL;
	}
}

static int is_exception(int e)
{
	return e > MODBUS_ENOBASE && e <= EMBXGTAR;
}

static void mb_disconnect(struct mb_impl *m)
{
	if (m->ctx) {
		modbus_close(m->ctx);
		modbus_free(m->ctx);
		m->ctx = NULL;
	}
}

static void set_timeout(modbus_t *ctx, int ms)
{
	modbus_set_response_timeout(ctx, (uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000u);
}

/* Returns 0 or an errno value. */
static int mb_connect(struct bench *b, struct mb_impl *m)
{
	modbus_t *ctx = m->rtu ? modbus_new_rtu(m->dev, m->baud, m->parity, 8, 1)
			       : modbus_new_tcp_pi(m->host, m->port);
	if (!ctx)
		return errno ? errno : ENOMEM;
	modbus_set_slave(ctx, m->unit);
	/* The response timeout doubles as the connect timeout in 3.1.6. */
	set_timeout(ctx, b->opt.connect_timeout_ms);
	if (modbus_connect(ctx) == -1) {
		int e = errno;
		modbus_free(ctx);
		/* 3.1.6 leaves EINPROGRESS after a connect timeout (#756). */
		return e == EINPROGRESS ? ETIMEDOUT : e;
	}
	/*
	 * libmodbus waits with select(): a descriptor >= FD_SETSIZE would be
	 * undefined behaviour (#373, #583). Refuse it instead of corrupting memory.
	 */
	if (modbus_get_socket(ctx) >= FD_SETSIZE) {
		modbus_close(ctx);
		modbus_free(ctx);
		return EMFILE;
	}
	set_timeout(ctx, b->opt.response_timeout_ms);
	/* Byte timeout = response timeout: a reply trickling in is bounded too. */
	modbus_set_byte_timeout(ctx, (uint32_t)(b->opt.response_timeout_ms / 1000),
				(uint32_t)(b->opt.response_timeout_ms % 1000) * 1000u);
	m->ctx = ctx;
	b->stats.connects++;
	return 0;
}

static int do_op(struct mb_impl *m, enum mb_op op, int addr, int n, uint16_t *regs)
{
	int r;
	errno = 0;
	if (op == MB_READ_INPUT)
		r = modbus_read_input_registers(m->ctx, addr, n, regs);
	else if (op == MB_READ_HOLDING)
		r = modbus_read_registers(m->ctx, addr, n, regs);
	else if (n == 1)
		r = modbus_write_register(m->ctx, addr, regs[0]);
	else
		r = modbus_write_registers(m->ctx, addr, n, regs);
	if (r == n)
		return 0;
	return errno ? errno : EMBMDATA;
}

static int fail(struct bench *b, struct ml_error *err, int code, enum mb_op op, int addr, int n,
		const char *cause, int attempts)
{
	return ml_errorf(err, code, "bench %s: %s 0x%04X+%d: %s%s", b->uri, op_name(op),
			 (unsigned)addr, n, cause, attempts > 1 ? " (after reconnecting)" : "");
}

static int classify(int e)
{
	if (e == ETIMEDOUT || e == EAGAIN)
		return ML_ETIMEOUT;
	if (e >= EMBBADCRC && e <= EMBBADSLAVE)
		return ML_EPROTO;
	return ML_EIO;
}

/* One block (n <= 125 read / 123 write) with reconnection; see file comment. */
static int mb_xfer(struct bench *b, enum mb_op op, int addr, int n, uint16_t *regs,
		   struct ml_error *err)
{
	struct mb_impl *m = b->impl;
	int backoff = b->opt.backoff_ms;
	for (int attempt = 0;; attempt++) {
		int connected = m->ctx != NULL;
		int e = connected ? 0 : mb_connect(b, m);
		if (!e) {
			b->stats.requests++;
			e = do_op(m, op, addr, n, regs);
			if (!e)
				return ML_OK;
			if (is_exception(e)) {
				b->stats.exceptions++;
				const char *t = exception_text(e);
				char buf[64];
				if (!t) {
					snprintf(buf, sizeof(buf), "exception %02d",
						 e - MODBUS_ENOBASE);
					t = buf;
				}
				return fail(b, err, ML_EDEVICE, op, addr, n, t, 1);
			}
			connected = 1;
		} else {
			connected = 0;
		}
		mb_disconnect(m); /* never reuse a link after a timeout or error */
		int code = classify(e);
		if (code == ML_ETIMEOUT)
			b->stats.timeouts++;
		else
			b->stats.link_errors++;
		char cause[160], es[96];
		snprintf(cause, sizeof(cause), "%s%s", connected ? "" : "connect: ",
			 e >= MODBUS_ENOBASE ? "invalid or mismatched reply"
					     : ml_errno_str(e, es, sizeof(es)));
		if ((op == MB_WRITE && code == ML_ETIMEOUT && connected) ||
		    attempt >= b->opt.retries)
			return fail(b, err, code, op, addr, n, cause, attempt + 1);
		if (attempt > 0) {
			bench_sleep_ms(backoff);
			backoff *= 2;
		}
	}
}

/* Reads of any length, split into blocks of at most 125 registers (§1). */
static int mb_read(struct bench *b, enum mb_op op, int addr, int n, uint16_t *regs,
		   struct ml_error *err)
{
	for (int off = 0; off < n; off += BR_MAX_READ) {
		int k = n - off < BR_MAX_READ ? n - off : BR_MAX_READ;
		int rc = mb_xfer(b, op, addr + off, k, regs + off, err);
		if (rc)
			return rc;
	}
	return ML_OK;
}

static int mb_write(struct bench *b, int addr, int n, uint16_t *regs, struct ml_error *err)
{
	for (int off = 0; off < n; off += BR_MAX_WRITE) {
		int k = n - off < BR_MAX_WRITE ? n - off : BR_MAX_WRITE;
		int rc = mb_xfer(b, MB_WRITE, addr + off, k, regs + off, err);
		if (rc)
			return rc;
	}
	return ML_OK;
}

/* Identity in its two mapped ranges, 0x0000+12 and 0x0010+32 (§3.1, §5). */
static int mb_identify(struct bench *b, struct bench_identity *id, struct ml_error *err)
{
	uint16_t r[BR_ID_END] = { 0 };
	int rc = mb_read(b, MB_READ_INPUT, 0, BR_ID_HEAD_END, r, err);
	if (rc)
		return rc;
	rc = mb_read(b, MB_READ_INPUT, BR_ID_MODEL, BR_ID_END - BR_ID_MODEL, &r[BR_ID_MODEL], err);
	if (rc)
		return rc;
	memset(id, 0, sizeof(*id));
	id->proto_major = r[BR_ID_PROTO_MAJOR];
	id->proto_minor = r[BR_ID_PROTO_MINOR];
	id->device_class = r[BR_ID_CLASS];
	id->positions = r[BR_ID_POSITIONS];
	id->phases = r[BR_ID_PHASES];
	id->capabilities = r[BR_ID_CAPS];
	id->u_max = bcodec_get_f32(&r[BR_ID_UMAX]);
	id->i_max = bcodec_get_f32(&r[BR_ID_IMAX]);
	id->std_class = bcodec_get_f32(&r[BR_ID_STDCLASS]);
	bcodec_get_str(&r[BR_ID_MODEL], 16, id->model, sizeof(id->model));
	bcodec_get_str(&r[BR_ID_SERIAL], 8, id->serial, sizeof(id->serial));
	bcodec_get_str(&r[BR_ID_FIRMWARE], 8, id->firmware, sizeof(id->firmware));
	return ML_OK;
}

/* All setpoints and the command in one FC16, so the bench latches them together (§4.2). */
static int mb_set_source(struct bench *b, const struct bench_source *s, uint16_t seq,
			 struct ml_error *err)
{
	uint16_t r[BR_SP_END - BR_SP_WIRING] = { 0 };
	r[BR_SP_WIRING - BR_SP_WIRING] = s->wiring;
	r[BR_SP_ENERGY - BR_SP_WIRING] = s->energy;
	bcodec_put_f32(&r[BR_SP_FREQ - BR_SP_WIRING], s->freq);
	for (int k = 0; k < 3; k++) {
		bcodec_put_f32(&r[BR_SP_U - BR_SP_WIRING + 2 * k], s->u[k]);
		bcodec_put_f32(&r[BR_SP_I - BR_SP_WIRING + 2 * k], s->i[k]);
		bcodec_put_f32(&r[BR_SP_PHI - BR_SP_WIRING + 2 * k], s->phi[k]);
	}
	r[BR_SP_MASK - BR_SP_WIRING] = s->element_mask;
	r[BR_SP_SEQ - BR_SP_WIRING] = seq;
	r[BR_SP_COMMAND - BR_SP_WIRING] = 1;
	return mb_write(b, BR_SP_WIRING, BR_SP_END - BR_SP_WIRING, r, err);
}

static int mb_source_off(struct bench *b, struct ml_error *err)
{
	uint16_t v = 0;
	return mb_write(b, BR_SP_COMMAND, 1, &v, err);
}

static int mb_read_source(struct bench *b, struct bench_source_status *st, struct ml_error *err)
{
	uint16_t r[BR_SRC_END - BR_SRC_STATE];
	int rc = mb_read(b, MB_READ_INPUT, BR_SRC_STATE, BR_SRC_END - BR_SRC_STATE, r, err);
	if (rc)
		return rc;
	st->state = r[BR_SRC_STATE - BR_SRC_STATE];
	st->fault = r[BR_SRC_FAULT - BR_SRC_STATE];
	st->applied_seq = r[BR_SRC_APPLIED - BR_SRC_STATE];
	st->heartbeat = r[BR_SRC_HEARTBEAT - BR_SRC_STATE];
	st->freq = bcodec_get_f32(&r[BR_SRC_FREQ - BR_SRC_STATE]);
	for (int k = 0; k < 3; k++) {
		st->u[k] = bcodec_get_f32(&r[BR_SRC_U + 2 * k - BR_SRC_STATE]);
		st->i[k] = bcodec_get_f32(&r[BR_SRC_I + 2 * k - BR_SRC_STATE]);
		st->phi[k] = bcodec_get_f32(&r[BR_SRC_PHI + 2 * k - BR_SRC_STATE]);
	}
	st->p_total = bcodec_get_f32(&r[BR_SRC_P - BR_SRC_STATE]);
	st->q_total = bcodec_get_f32(&r[BR_SRC_Q - BR_SRC_STATE]);
	return ML_OK;
}

static int mb_read_heartbeat(struct bench *b, uint16_t *hb, struct ml_error *err)
{
	return mb_read(b, MB_READ_INPUT, BR_SRC_HEARTBEAT, 1, hb, err);
}

static int mb_set_transformer(struct bench *b, const struct bench_xfmr_setpoint *s, uint16_t seq,
			      struct ml_error *err)
{
	uint16_t r[BR_XF_END - BR_XF_KIND] = { 0 };
	r[BR_XF_KIND - BR_XF_KIND] = s->kind;
	bcodec_put_f32(&r[BR_XF_PRIMARY - BR_XF_KIND], s->rated_primary);
	bcodec_put_f32(&r[BR_XF_SECONDARY - BR_XF_KIND], s->rated_secondary);
	bcodec_put_f32(&r[BR_XF_PERCENT - BR_XF_KIND], s->percent);
	bcodec_put_f32(&r[BR_XF_BURDEN_VA - BR_XF_KIND], s->burden_va);
	bcodec_put_f32(&r[BR_XF_BURDEN_PF - BR_XF_KIND], s->burden_pf);
	r[BR_XF_SEQ - BR_XF_KIND] = seq;
	r[BR_XF_COMMAND - BR_XF_KIND] = 1;
	return mb_write(b, BR_XF_KIND, BR_XF_END - BR_XF_KIND, r, err);
}

static void encode_config(uint16_t *r, const struct bench_position_config *c)
{
	memset(r, 0, BR_POS_STRIDE * sizeof(*r));
	r[BR_PC_MODE] = c->mode;
	bcodec_put_u32(&r[BR_PC_CONSTANT], c->constant);
	r[BR_PC_PULSES] = c->pulses;
	bcodec_put_f32(&r[BR_PC_TLIMIT], c->time_limit);
	r[BR_PC_COMMAND] = 0; /* 0 = no command: configuring never starts a position */
	r[BR_PC_ENABLED] = c->enabled;
	bcodec_put_f32(&r[BR_PC_CLKFREQ], c->clock_freq);
}

/* Whole 16-register records, 7 positions (112 registers) per FC16. */
static int mb_configure(struct bench *b, int first, int n, const struct bench_position_config *cfg,
			struct ml_error *err)
{
	uint16_t r[BR_POS_PER_READ * BR_POS_STRIDE];
	for (int p = 0; p < n; p += BR_POS_PER_READ) {
		int k = n - p < BR_POS_PER_READ ? n - p : BR_POS_PER_READ;
		for (int j = 0; j < k; j++)
			encode_config(&r[j * BR_POS_STRIDE], &cfg[p + j]);
		int rc = mb_write(b, BR_POS_ADDR(first + p),
				  k * BR_POS_STRIDE - (BR_POS_STRIDE - BR_PC_USED), r, err);
		if (rc)
			return rc;
	}
	return ML_OK;
}

static int mb_position_command(struct bench *b, int pos, enum bench_cmd cmd, struct ml_error *err)
{
	uint16_t v = (uint16_t)cmd;
	return mb_write(b, BR_POS_ADDR(pos) + BR_PC_COMMAND, 1, &v, err);
}

static int mb_all_command(struct bench *b, enum bench_cmd cmd, struct ml_error *err)
{
	uint16_t v = (uint16_t)cmd;
	return mb_write(b, BR_ALL_COMMAND, 1, &v, err);
}

/*
 * The register at +12 (§3.3, §6): u32 Wh from a 1.1 bench; from a 1.0 bench
 * f32 kWh, converted to the nearest Wh below BENCH_V10_REGISTER_MAX_KWH
 * (the f32 step there is under 1 Wh) and refused above.
 */
static void decode_register(const uint16_t *r, int minor, struct bench_position_status *o)
{
	o->register_wh = 0;
	o->register_refused = 0;
	o->register_kwh_v10 = 0;
	if (minor >= 1) {
		o->register_wh = bcodec_get_u32(r);
		return;
	}
	float kwh = bcodec_get_f32(r);
	o->register_kwh_v10 = kwh;
	if (kwh >= 0 && kwh < BENCH_V10_REGISTER_MAX_KWH)
		o->register_wh = (uint32_t)llround((double)kwh * 1000.0);
	else
		o->register_refused = 1;
}

static void decode_status(const uint16_t *r, int minor, struct bench_position_status *o)
{
	o->state = r[BR_PS_STATE];
	o->present = r[BR_PS_PRESENT];
	o->reading_seq = r[BR_PS_SEQ];
	o->result = r[BR_PS_RESULT];
	o->value_e4 = bcodec_get_i32(&r[BR_PS_VALUE]);
	o->pulses = bcodec_get_u32(&r[BR_PS_PULSES]);
	o->elapsed = bcodec_get_f32(&r[BR_PS_ELAPSED]);
	o->value2_e4 = bcodec_get_i32(&r[BR_PS_VALUE2]);
	decode_register(&r[BR_PS_REGISTER], minor, o);
	o->meter_comm = r[BR_PS_COMM];
}

static int mb_read_positions(struct bench *b, int first, int n, struct bench_position_status *out,
			     struct ml_error *err)
{
	uint16_t r[BR_POS_PER_READ * BR_POS_STRIDE];
	for (int p = 0; p < n; p += BR_POS_PER_READ) {
		int k = n - p < BR_POS_PER_READ ? n - p : BR_POS_PER_READ;
		/* 16k-1 registers: the last record's reserved word is not needed. */
		int rc = mb_xfer(b, MB_READ_INPUT, BR_POS_ADDR(first + p), k * BR_POS_STRIDE - 1, r,
				 err);
		if (rc)
			return rc;
		for (int j = 0; j < k; j++)
			decode_status(&r[j * BR_POS_STRIDE], b->id.proto_minor, &out[p + j]);
	}
	return ML_OK;
}

static int mb_drop(struct bench *b)
{
	mb_disconnect(b->impl);
	return 0;
}

static void mb_destroy(struct bench *b)
{
	if (b->impl)
		mb_disconnect(b->impl);
	free(b->impl);
	b->impl = NULL;
}

#define MB_OPS(NAME)                                                                          \
	{                                                                                     \
		.name = NAME, .identify = mb_identify, .set_source = mb_set_source,           \
		.source_off = mb_source_off, .read_source = mb_read_source,                   \
		.read_heartbeat = mb_read_heartbeat, .set_transformer = mb_set_transformer,   \
		.configure_positions = mb_configure, .position_command = mb_position_command, \
		.all_command = mb_all_command, .read_positions = mb_read_positions,           \
		.drop_connection = mb_drop, .destroy = mb_destroy,                            \
	}
static const struct bench_ops mb_tcp_ops = MB_OPS("modbus-tcp");
static const struct bench_ops mb_rtu_ops = MB_OPS("modbus-rtu");

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* "HOST[:PORT]" or "[V6ADDR]:PORT", optional "?unit=N". */
static int parse_tcp(struct mb_impl *m, const char *spec, const char *uri, struct ml_error *err)
{
	char tmp[300];
	if (snprintf(tmp, sizeof(tmp), "%s", spec) >= (int)sizeof(tmp))
		return ml_errorf(err, ML_EINVAL, "bench uri '%s' is too long", uri);
	char *q = strchr(tmp, '?');
	long v;
	if (q) {
		*q++ = '\0';
		if (strncmp(q, "unit=", 5) || parse_int(q + 5, 0, 247, &v))
			return ml_errorf(err, ML_EINVAL,
					 "bench uri '%s': bad option '%s' (expected unit=0..247)",
					 uri, q);
		m->unit = (int)v;
	}
	char *host = tmp, *port = NULL;
	if (*host == '[') {
		char *e = strchr(host, ']');
		if (!e)
			return ml_errorf(err, ML_EINVAL, "bench uri '%s': unterminated '['", uri);
		*e = '\0';
		host++;
		port = e[1] == ':' ? e + 2 : NULL;
	} else if ((port = strrchr(host, ':')) != NULL) {
		*port++ = '\0';
	}
	if (!*host)
		return ml_errorf(err, ML_EINVAL, "bench uri '%s': no host", uri);
	if (port && parse_int(port, 1, 65535, &v))
		return ml_errorf(err, ML_EINVAL, "bench uri '%s': bad port '%s'", uri, port);
	snprintf(m->host, sizeof(m->host), "%s", host);
	snprintf(m->port, sizeof(m->port), "%s", port ? port : "502");
	return ML_OK;
}

/* "rtu:/dev/ttyUSB0?baud=19200&unit=1&parity=N" (protocol §1: default 19200 8N1, unit 1). */
static int parse_rtu(struct mb_impl *m, const char *spec, const char *uri, struct ml_error *err)
{
	char tmp[300], *save = NULL;
	if (snprintf(tmp, sizeof(tmp), "%s", spec) >= (int)sizeof(tmp))
		return ml_errorf(err, ML_EINVAL, "bench uri '%s' is too long", uri);
	m->rtu = 1;
	m->baud = 19200;
	m->parity = 'N';
	char *q = strchr(tmp, '?');
	if (q)
		*q++ = '\0';
	snprintf(m->dev, sizeof(m->dev), "%s", tmp);
	for (char *kv = q ? strtok_r(q, "&", &save) : NULL; kv; kv = strtok_r(NULL, "&", &save)) {
		long v;
		if (!strncmp(kv, "baud=", 5) && !parse_int(kv + 5, 300, 4000000, &v))
			m->baud = (int)v;
		else if (!strncmp(kv, "unit=", 5) && !parse_int(kv + 5, 1, 247, &v))
			m->unit = (int)v;
		else if (!strncmp(kv, "parity=", 7) && strchr("NEO", kv[7]) && kv[7] && !kv[8])
			m->parity = kv[7];
		else
			return ml_errorf(err, ML_EINVAL, "bench uri '%s': bad option '%s'", uri,
					 kv);
	}
	if (!m->dev[0])
		return ml_errorf(err, ML_EINVAL, "bench uri '%s': no serial device", uri);
	return ML_OK;
}

int bench_modbus_init(struct bench *b, const char *uri, struct ml_error *err)
{
	struct mb_impl *m = calloc(1, sizeof(*m));
	if (!m)
		return ml_errorf(err, ML_ENOMEM, "bench %s: out of memory", uri);
	m->unit = 1;
	int rc;
	if (!strncmp(uri, "rtu:", 4))
		rc = parse_rtu(m, uri + 4, uri, err);
	else
		rc = parse_tcp(m, !strncmp(uri, "tcp://", 6) ? uri + 6 : uri, uri, err);
	if (rc) {
		free(m);
		return rc;
	}
	b->impl = m;
	b->ops = m->rtu ? &mb_rtu_ops : &mb_tcp_ops;
	return ML_OK;
}
