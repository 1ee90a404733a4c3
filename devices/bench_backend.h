/*
 * bench_backend.h — the backend vtable behind bench.h (style habit 4).
 *
 * bench.c owns the generic part: URI dispatch, validation of setpoints
 * against the bench's identity (nothing is sent when a value is out of
 * range), waiting for a stable source and heartbeat watching. A backend
 * only moves already validated values to and from the device. The Modbus
 * TCP/RTU backend is bench_modbus.c; a vendor protocol (e.g. Clou CLT1.1
 * frames, tech-notes §0.9) would be another struct bench_ops.
 *
 * Every backend function fills err with a message naming the bench, the
 * register block (or equivalent) and the cause.
 */
#ifndef ML_BENCH_BACKEND_H
#define ML_BENCH_BACKEND_H

#include <stdint.h>

#include "devices/bench.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bench_ops {
	const char *name; /* "modbus-tcp", "modbus-rtu", ... */
	int (*identify)(struct bench *b, struct bench_identity *id, struct ml_error *err);
	int (*set_source)(struct bench *b, const struct bench_source *s, uint16_t seq,
			  struct ml_error *err);
	int (*source_off)(struct bench *b, struct ml_error *err);
	int (*read_source)(struct bench *b, struct bench_source_status *st, struct ml_error *err);
	int (*read_heartbeat)(struct bench *b, uint16_t *hb, struct ml_error *err);
	int (*set_transformer)(struct bench *b, const struct bench_xfmr_setpoint *s, uint16_t seq,
			       struct ml_error *err);
	int (*configure_positions)(struct bench *b, int first, int n,
				   const struct bench_position_config *cfg, struct ml_error *err);
	int (*position_command)(struct bench *b, int pos, enum bench_cmd cmd, struct ml_error *err);
	int (*all_command)(struct bench *b, enum bench_cmd cmd, struct ml_error *err);
	int (*read_positions)(struct bench *b, int first, int n, struct bench_position_status *out,
			      struct ml_error *err);
	int (*drop_connection)(struct bench *b); /* close the link; the next call reconnects */
	void (*destroy)(struct bench *b);        /* free b->impl */
};

struct bench {
	const struct bench_ops *ops;
	void *impl;               /* backend state, owned by the backend (destroy) */
	char *uri;                /* as given to bench_open, owned */
	struct bench_options opt; /* defaults filled in */
	struct bench_identity id; /* cached by bench_identify, used for validation */
	int have_id;
	struct bench_stats stats; /* counted by the backend */
	/* heartbeat watch (bench_alive): last value and when it last changed */
	int hb_valid;
	uint16_t hb_last;
	int64_t hb_changed_ms;
};

/* Backends: parse uri, set b->ops and b->impl. Nothing is connected yet. */
int bench_modbus_init(struct bench *b, const char *uri, struct ml_error *err);

/* Monotonic milliseconds (CLOCK_MONOTONIC); sleeping helper used for back-off only. */
int64_t bench_now_ms(void);
void bench_sleep_ms(int ms);

#ifdef __cplusplus
}
#endif
#endif
