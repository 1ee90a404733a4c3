/*
 * bench.h — the verification-bench interface the lab uses.
 *
 * The lab drives benches only through these functions and never knows the
 * backend: today Modbus TCP/RTU on libmodbus (devices/bench_modbus.c,
 * register map in ../shared/bench-protocol.md, version 1); a vendor's
 * proprietary protocol can be added later as another backend behind the
 * same vtable (devices/bench_backend.h).
 *
 * Threading: a struct bench is one connection and is not thread-safe; use
 * one per thread (libmodbus contexts are not thread-safe either).
 *
 * Errors: every failure names the bench, the register block and the cause;
 * exceptions from the bench become ML_EDEVICE with the exception's meaning,
 * timeouts ML_ETIMEOUT, connection loss ML_EIO (after reconnect attempts).
 *
 * Judged quantities (meter error %, clock error s/day, ratio error %, phase
 * displacement ′) travel as dec4: int32 holding value × 10 000, never floats.
 */
#ifndef ML_BENCH_H
#define ML_BENCH_H

#include <stdint.h>

#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bench;

enum bench_device_class {
	BENCH_CLASS_METER = 1,
	BENCH_CLASS_TRANSFORMER = 2
};

/* capabilities bits (protocol §3.1) */
#define BENCH_CAP_BASIC (1u << 0)
#define BENCH_CAP_CREEP (1u << 1)
#define BENCH_CAP_START (1u << 2)
#define BENCH_CAP_CONSTANT (1u << 3)
#define BENCH_CAP_CLOCK (1u << 4)
#define BENCH_CAP_CT (1u << 5)
#define BENCH_CAP_VT (1u << 6)

struct bench_identity {
	uint16_t proto_major, proto_minor;
	uint16_t device_class; /* enum bench_device_class */
	uint16_t positions;    /* 1..96 */
	uint16_t phases;       /* 1 or 3 */
	uint16_t capabilities; /* BENCH_CAP_* */
	float u_max, i_max, std_class;
	char model[65], serial[33], firmware[33];
};

enum bench_source_state {
	BENCH_SRC_OFF = 0,
	BENCH_SRC_SETTLING = 1,
	BENCH_SRC_STABLE = 2,
	BENCH_SRC_FAULT = 3
};
enum bench_wiring {
	BENCH_WIRING_1P2W = 0,
	BENCH_WIRING_3P4W = 1,
	BENCH_WIRING_3P3W = 2
};

/* Source setpoints (protocol §4.2). Analog quantities are floats by protocol. */
struct bench_source {
	uint16_t wiring;  /* enum bench_wiring */
	uint16_t energy;  /* 0 active, 1 reactive */
	float freq;       /* Hz */
	float u[3], i[3]; /* V, A */
	float phi[3]; /* degrees, current lagging voltage positive: PF 0.5L = 60, 0.8C = -36.87 */
	uint16_t element_mask; /* bit0..2: elements carrying current */
};

struct bench_source_status {
	uint16_t state, fault, applied_seq, heartbeat;
	float freq, u[3], i[3], phi[3], p_total, q_total;
};

enum bench_mode {
	BENCH_MODE_IDLE = 0,
	BENCH_MODE_BASIC = 1,
	BENCH_MODE_CREEP = 2,
	BENCH_MODE_START = 3,
	BENCH_MODE_CONSTANT = 4,
	BENCH_MODE_CLOCK = 5,
	BENCH_MODE_TRANSFORMER = 6,
};

struct bench_position_config {
	uint16_t mode;     /* enum bench_mode */
	uint32_t constant; /* imp/kWh (or /kvarh) */
	uint16_t pulses;   /* per reading (basic); failing pulses (creep); passing pulses (start) */
	float time_limit;  /* s (creep, start, constant, clock) */
	uint16_t enabled;  /* 0 isolates the position */
	float clock_freq;  /* Hz of the time-keeping output (clock mode) */
};

enum bench_pos_state {
	BENCH_POS_IDLE = 0,
	BENCH_POS_RUNNING = 1,
	BENCH_POS_DONE = 2,
	BENCH_POS_FAULT = 3
};
enum bench_pos_result {
	BENCH_RES_OK = 0,
	BENCH_RES_NO_PULSES = 1,
	BENCH_RES_UNSTABLE = 2,
	BENCH_RES_CREEP = 3,
	BENCH_RES_TIME_LIMIT = 4,
	BENCH_RES_WIRING = 5,
	BENCH_RES_COMM = 6,
};

struct bench_position_status {
	uint16_t state, present, reading_seq, result;
	int32_t value_e4; /* dec4: error %, clock s/day, ratio error % */
	uint32_t pulses;
	float elapsed;     /* s */
	int32_t value2_e4; /* dec4: phase displacement, minutes */
	/*
	 * The meter's energy register in Wh, exact (protocol 1.1 §3.3 +12). In
	 * the constant test: the start reading while running, the final one
	 * once done (§5). From a 1.0 bench (f32 kWh) it is the f32 value in Wh
	 * below BENCH_V10_REGISTER_MAX_KWH; above, register_refused is 1 and
	 * register_wh 0: use bench_position_register() for the reason.
	 */
	uint32_t register_wh;
	uint16_t register_refused;
	float register_kwh_v10; /* what a 1.0 bench sent (f32 kWh); 0 from a 1.1 bench */
	uint16_t meter_comm;
};

/*
 * A protocol 1.0 bench's f32 kWh register is accepted below this many kWh
 * (bench-protocol.md §6: f32 keeps the 0.01 kWh resolution of DL/T 645
 * registers up to about 10⁵ kWh; the protocol's bound has margin).
 */
#define BENCH_V10_REGISTER_MAX_KWH 10000

/* Transformer test setpoints (protocol §4.3). */
struct bench_xfmr_setpoint {
	uint16_t kind; /* 0 CT, 1 VT */
	float rated_primary, rated_secondary, percent, burden_va, burden_pf;
};

enum bench_cmd {
	BENCH_CMD_START = 1,
	BENCH_CMD_STOP = 2,
	BENCH_CMD_RESET = 3
};

struct bench_options {
	int connect_timeout_ms;  /* default 2000 */
	int response_timeout_ms; /* default 1000 */
	int retries;             /* reconnect attempts per call before giving up, default 3 */
	int backoff_ms;          /* first back-off, doubled per attempt, default 100 */
	int heartbeat_timeout_ms; /* bench_alive: heartbeat unchanged this long = hung device, default 3000 */
};
/* In bench_options, 0 means "default"; retries < 0 means no retry at all. */

/*
 * Open a bench. uri: "tcp://HOST:PORT" (unit id 1) or "HOST[:PORT]" (TCP,
 * default port 502), or "rtu:/dev/ttyUSB0?baud=19200&unit=1". opt may be
 * NULL for defaults. On success *out is owned by the caller: bench_close().
 * Only the URI is checked here (ML_EINVAL); the first call connects, and
 * every call reconnects as needed (see devices/README.md).
 */
int bench_open(const char *uri, const struct bench_options *opt, struct bench **out,
	       struct ml_error *err) ML_MUSTCHECK;
void bench_close(struct bench *b);             /* NULL-safe; closes and frees */
const char *bench_name(const struct bench *b); /* the uri; valid until bench_close */

int bench_identify(struct bench *b, struct bench_identity *id, struct ml_error *err) ML_MUSTCHECK;

/* Write all setpoints, seq, then source_command=1 (validated first; out of range -> ML_EINVAL, nothing sent). */
int bench_set_source(struct bench *b, const struct bench_source *s, uint16_t seq,
		     struct ml_error *err) ML_MUSTCHECK;
int bench_source_off(struct bench *b, struct ml_error *err) ML_MUSTCHECK;
int bench_read_source(struct bench *b, struct bench_source_status *st,
		      struct ml_error *err) ML_MUSTCHECK;
/* Poll until source_state is stable and applied_seq == seq; ML_ETIMEOUT after timeout_ms, ML_EDEVICE on source fault. */
int bench_wait_stable(struct bench *b, uint16_t seq, int timeout_ms,
		      struct ml_error *err) ML_MUSTCHECK;

int bench_set_transformer(struct bench *b, const struct bench_xfmr_setpoint *s, uint16_t seq,
			  struct ml_error *err) ML_MUSTCHECK;

/* Configure positions first..first+n-1 (0-based) with cfg[0..n-1]. */
int bench_configure_positions(struct bench *b, int first, int n,
			      const struct bench_position_config *cfg,
			      struct ml_error *err) ML_MUSTCHECK;
int bench_position_command(struct bench *b, int pos, enum bench_cmd cmd,
			   struct ml_error *err) ML_MUSTCHECK;
int bench_all_command(struct bench *b, enum bench_cmd cmd, struct ml_error *err) ML_MUSTCHECK;

/*
 * Read status of positions first..first+n-1 in blocks of at most 125
 * registers (7 positions). The register (+12) is decoded by the bench's
 * protocol version (proto_minor, from the identity): u32 Wh from 1.1, f32
 * kWh from 1.0 (see struct bench_position_status).
 */
int bench_read_positions(struct bench *b, int first, int n, struct bench_position_status *out,
			 struct ml_error *err) ML_MUSTCHECK;

/*
 * The register of status st (position pos, 0-based, for the message) in Wh.
 * ML_EPROTO naming the bench, the position and the value when a protocol
 * 1.0 bench sent a register at or above BENCH_V10_REGISTER_MAX_KWH, which its
 * f32 encoding cannot carry exactly enough for the constant test (§6).
 */
int bench_position_register(const struct bench *b, int pos, const struct bench_position_status *st,
			    uint32_t *wh, struct ml_error *err) ML_MUSTCHECK;

/*
 * Additions (devices owner):
 *
 * bench_alive reads the heartbeat (protocol §3.2) and returns ML_EDEVICE
 * "heartbeat frozen" when it has not changed for heartbeat_timeout_ms of
 * calls; call it from a polling loop (bench_wait_stable does). *hb may be
 * NULL.
 */
int bench_alive(struct bench *b, uint16_t *hb, struct ml_error *err) ML_MUSTCHECK;

/* Cached identity after a successful bench_identify (NULL before). */
const struct bench_identity *bench_cached_identity(const struct bench *b);

/* Close the link now (tests of recovery); the next call reconnects. NULL-safe. */
void bench_disconnect(struct bench *b);

/* Link counters since bench_open (monitoring, recovery tests). */
struct bench_stats {
	uint32_t requests;    /* transactions attempted */
	uint32_t connects;    /* successful (re)connections, the first included */
	uint32_t timeouts;    /* response or connect timeouts */
	uint32_t link_errors; /* connection lost / refused / bad reply */
	uint32_t exceptions;  /* Modbus exception replies */
};
void bench_get_stats(const struct bench *b, struct bench_stats *out);

/* Backend name ("modbus-tcp", "modbus-rtu"). */
const char *bench_backend_name(const struct bench *b);

/* Static English names for enum values (CLI and JSON output); "?" when unknown. */
const char *bench_src_state_name(unsigned state);
const char *bench_pos_state_name(unsigned state);
const char *bench_result_name(unsigned result);
const char *bench_mode_name(unsigned mode);

#ifdef __cplusplus
}
#endif
#endif
