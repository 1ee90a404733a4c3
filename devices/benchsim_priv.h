/*
 * benchsim_priv.h — simulator internals shared by benchsim_scenario.c
 * (parser), benchsim_model.c (device physics) and benchsim.c (server).
 * Not a public header.
 */
#ifndef ML_BENCHSIM_PRIV_H
#define ML_BENCHSIM_PRIV_H

#include <stdint.h>

#include "devices/bench_regmap.h"
#include "devices/benchsim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_MAX_POINTS 32

/* Meter error at a load point: current as multiple of Ib (x 10 000) and phase angle. */
struct sim_point {
	int32_t imult_e4;
	float phi; /* degrees, lagging positive */
	int32_t err_e4;
};

/* CT/VT error at a percent point and burden (burden_va < 0: any burden). */
struct sim_xpoint {
	float percent, burden_va;
	int32_t ratio_e4, phase_e4;
};

struct sim_pos_model {
	int present, dead, creeping, not_starting, comm_fault, start_given;
	uint32_t constant; /* the meter's true constant, imp/kWh */
	double ib;         /* A, basic current, for the load point */
	int32_t base_err_e4;
	int npoints;
	struct sim_point points[SIM_MAX_POINTS];
	double creep_per_hour;      /* creeping meters: pulses per hour with no current */
	double start_a;             /* the meter registers from this current on */
	int32_t clock_drift_e4;     /* s/day */
	int32_t register_err_e4;    /* register vs pulses, % */
	double register_start;      /* kWh */
	int32_t ratio_e4, phase_e4; /* CT/VT base errors: %, minutes */
	int nx;
	struct sim_xpoint xp[SIM_MAX_POINTS];
};

struct benchsim_scenario {
	char name[128];
	int device_class, phases, positions, caps;
	float u_max, i_max, std_class;
	char model[33], serial[17], firmware[17];
	double settle_s;  /* device seconds from apply to stable */
	double reading_s; /* transformer bench: device seconds per reading */
	uint64_t seed;
	int32_t noise_e4;      /* uniform integer noise, +- this many 1e-4 units */
	uint16_t source_fault; /* non-zero: applying the source ends in this fault */
	int proto_minor;       /* 1 (1.1, u32 register_wh) or 0 (1.0, f32 kWh register), §6 */
	int no_pulses; /* 1: a dead position ends with result 1 (§5); 0: never (a bench that does not) */
	struct benchsim_faults faults;
	struct sim_pos_model pos[BR_MAX_POSITIONS];
};

struct sim_pos_rt {
	uint16_t mode, pulses, enabled; /* latched from the holding registers at start */
	uint32_t constant;
	float tlim, clock_freq;
	uint16_t state, result, seq;
	int32_t value, value2;
	uint32_t readings;
	double pulses_f, elapsed, clock_pulses, measure_s, reg_kwh;
	double silent_s; /* basic: device seconds at full source since the last pulse (§5 "no pulses") */
	double reg_start, reg_end; /* constant test: register read at start and at the time limit */
};

struct sim_source {
	uint16_t wiring, energy, mask, seq;
	float freq, u[3], i[3], phi[3];
};

struct sim_xfmr {
	uint16_t kind, seq;
	float primary, secondary, percent, burden_va, burden_pf;
};

struct sim_state {
	const struct benchsim_scenario *sc;
	uint64_t seed;
	double t; /* device seconds */
	uint16_t src_state, src_fault, applied_seq;
	double apply_t, settle_end;
	struct sim_source sp; /* latched setpoints */
	int xfmr_on;
	struct sim_xfmr xf;
	int hb_frozen;
	uint16_t hb_value;
	struct sim_pos_rt pos[BR_MAX_POSITIONS];
};

void sim_init(struct sim_state *st, const struct benchsim_scenario *sc, uint64_t seed);
void sim_advance(struct sim_state *st, double t);
void sim_fill_identity(const struct sim_state *st, uint16_t *input);
void sim_fill_dynamic(struct sim_state *st, uint16_t *input);

/* Mapped ranges (protocol §3, §4 + control range); 1 when every register is mapped. */
int sim_input_mapped(const struct sim_state *st, int addr, int n);
int sim_holding_mapped(const struct sim_state *st, int addr, int n);
/*
 * Check a write of n registers at addr (values vals) against the current
 * holding registers: returns 0 or the Modbus exception code (3 bad value,
 * 6 busy while settling). Nothing is changed.
 */
int sim_check_write(const struct sim_state *st, const uint16_t *holding, int addr, int n,
		    const uint16_t *vals);
/* Side effects of a write already stored in holding (commands). */
void sim_apply_write(struct sim_state *st, uint16_t *holding, int addr, int n);

#ifdef __cplusplus
}
#endif
#endif
