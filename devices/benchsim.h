/*
 * benchsim.h — the bench simulator: a real Modbus TCP server speaking
 * bench-protocol.md v1, one listening port and one server thread per
 * simulated bench, with device physics driven by a scaled clock and fault
 * injection. Used in-process by tests and benchmarks and by
 * `meterlab bench simulate` (a separate server process).
 *
 * Scenario files (samples/NAME.scenario) describe the bench and the device on
 * each position; the format is documented in devices/README.md.
 *
 * Threading: every function may be called from any thread; a running
 * simulator guards its register map and state with its own mutex.
 */
#ifndef ML_BENCHSIM_H
#define ML_BENCHSIM_H

#include <stdint.h>

#include "common/ml_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct benchsim_scenario;
struct benchsim;

/*
 * Fault switches. They mirror the simulator-only control registers
 * (bench_regmap.h BR_CTL_*), so a test can set them in-process, from the
 * scenario file ("fault delay_ms 300") or over Modbus from any master.
 */
struct benchsim_faults {
	uint16_t delay_ms;         /* delay replies by this many ms of real time */
	uint16_t delay_count;      /* ... for this many next replies; 0 = every reply */
	uint16_t exception;        /* answer with this Modbus exception code; 0 = off */
	uint16_t exception_count;  /* ... for this many next requests; 0 = every one */
	uint16_t freeze_heartbeat; /* 1 = heartbeat stops changing */
	uint16_t drop_after;       /* drop every connection at the Nth next request; 0 = off */
	uint16_t down_ms;          /* after a drop, refuse connections for this long */
};

/* Parse scenario text (name is used in messages). *out owned by the caller. */
int benchsim_scenario_parse(const char *text, const char *name, struct benchsim_scenario **out,
			    struct ml_error *err) ML_MUSTCHECK;
/* Read and parse a file. */
int benchsim_scenario_load(const char *path, struct benchsim_scenario **out,
			   struct ml_error *err) ML_MUSTCHECK;
/* The built-in default: 24-position single-phase meter bench, all meters good. */
int benchsim_scenario_default(struct benchsim_scenario **out, struct ml_error *err) ML_MUSTCHECK;
void benchsim_scenario_free(struct benchsim_scenario *sc); /* NULL-safe */
/* Copy the fault switches that src sets (non-zero) into dst. Returns ML_OK. */
int benchsim_scenario_apply_faults(struct benchsim_scenario *dst,
				   const struct benchsim_scenario *src);
void benchsim_scenario_set_faults(struct benchsim_scenario *sc, const struct benchsim_faults *f);
int benchsim_scenario_positions(const struct benchsim_scenario *sc);
const char *benchsim_scenario_name(const struct benchsim_scenario *sc);

struct benchsim_options {
	const char *host;  /* bind address, default "127.0.0.1" */
	int port;          /* 0 = ephemeral (see benchsim_port) */
	double time_scale; /* device seconds per real second; 0 = 1 (real time) */
	uint64_t seed;     /* 0 = the scenario's seed */
	int have_seed;     /* use seed even when 0 */
};

/*
 * Start a bench: bind, listen and run its server thread. The scenario is
 * copied (the caller may free it afterwards). On success *out is owned by
 * the caller: benchsim_stop().
 */
int benchsim_start(const struct benchsim_scenario *sc, const struct benchsim_options *opt,
		   struct benchsim **out, struct ml_error *err) ML_MUSTCHECK;
/* Stop the thread, close every socket, free. NULL-safe. */
void benchsim_stop(struct benchsim *s);
/* The bound TCP port. */
int benchsim_port(const struct benchsim *s);

void benchsim_set_faults(struct benchsim *s, const struct benchsim_faults *f);
void benchsim_get_faults(struct benchsim *s, struct benchsim_faults *f);
/* Close every client connection now; refuse new ones for down_ms (0 = accept at once). */
void benchsim_drop_connections(struct benchsim *s, int down_ms);
/* Requests answered (outside the control range) and connected clients. */
uint64_t benchsim_requests(struct benchsim *s);
int benchsim_clients(struct benchsim *s);
/*
 * Remote control of a running simulator (any process), over Modbus via the
 * control registers. hostport: "HOST[:PORT]" or "tcp://HOST:PORT".
 * Keys: delay_ms, delay_count, exception, exception_count, freeze_heartbeat,
 * drop_after, down_ms, drop_now. benchsim_control_register maps a key to its
 * register address (-1 when unknown).
 */
int benchsim_control_register(const char *key);
int benchsim_remote_set(const char *hostport, const char *key, uint16_t value,
			struct ml_error *err) ML_MUSTCHECK;
int benchsim_remote_get(const char *hostport, struct benchsim_faults *f, uint32_t *requests,
			uint16_t *clients, struct ml_error *err) ML_MUSTCHECK;

/* Device time in seconds since start. */
double benchsim_device_time(struct benchsim *s);

#ifdef __cplusplus
}
#endif
#endif
