/*
 * bench_modbus_rate — request rate of the bench driver against raw libmodbus
 * on loopback, same simulator, same run.
 *
 * Both sides read the status of positions 0..6 (one FC 04 of 111 registers):
 * the driver through bench_read_positions (decoding included), raw libmodbus
 * through modbus_read_input_registers. Rounds alternate driver/raw so both
 * see the same machine load; medians of the per-round rates and their ratio
 * are printed. The simulator runs in this process (its own server thread).
 *
 * usage: bench_modbus_rate [REQUESTS_PER_ROUND [ROUNDS]]   (default 5000 7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <modbus/modbus.h>

#include "bench_time.h"
#include "devices/bench.h"
#include "devices/bench_regmap.h"
#include "devices/benchsim.h"

static double round_driver(struct bench *b, int n)
{
	struct bench_position_status st[7];
	struct ml_error err = ML_ERROR_INIT;
	double t0 = now_s();
	for (int i = 0; i < n; i++)
		if (bench_read_positions(b, 0, 7, st, &err)) {
			fprintf(stderr, "driver: %s\n", err.msg);
			exit(1);
		}
	return n / (now_s() - t0);
}

static double round_raw(modbus_t *ctx, int n)
{
	uint16_t r[BR_POS_PER_READ * BR_POS_STRIDE];
	double t0 = now_s();
	for (int i = 0; i < n; i++)
		if (modbus_read_input_registers(ctx, BR_POS_BASE, 7 * BR_POS_STRIDE - 1, r) < 0) {
			perror("raw libmodbus");
			exit(1);
		}
	return n / (now_s() - t0);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5000, rounds = argc > 2 ? atoi(argv[2]) : 7;
	if (n < 1 || rounds < 1 || rounds > 100)
		return 2;
	struct ml_error err = ML_ERROR_INIT;
	struct benchsim_scenario *sc = NULL;
	struct benchsim *sim = NULL;
	struct benchsim_options so = { .time_scale = 1 };
	if (benchsim_scenario_default(&sc, &err) || benchsim_start(sc, &so, &sim, &err)) {
		fprintf(stderr, "simulator: %s\n", err.msg);
		return 1;
	}
	benchsim_scenario_free(sc);
	char uri[64];
	snprintf(uri, sizeof(uri), "127.0.0.1:%d", benchsim_port(sim));
	struct bench *b = NULL;
	modbus_t *ctx = modbus_new_tcp("127.0.0.1", benchsim_port(sim));
	if (bench_open(uri, NULL, &b, &err) || !ctx || modbus_connect(ctx)) {
		fprintf(stderr, "connect: %s\n", err.msg);
		return 1;
	}
	round_driver(b, n / 10 + 1); /* warm-up: connect, identify, caches */
	round_raw(ctx, n / 10 + 1);
	double d[100], r[100], q[100];
	for (int k = 0; k < rounds; k++) {
		d[k] = round_driver(b, n);
		r[k] = round_raw(ctx, n);
		q[k] = d[k] / r[k];
	}
	printf("bench_modbus_rate: %d rounds x %d requests, read of 7 positions (111 registers), loopback\n",
	       rounds, n);
	printf("  driver bench_read_positions  median %.0f req/s\n", median(d, rounds));
	printf("  raw modbus_read_input_regs   median %.0f req/s\n", median(r, rounds));
	printf("  ratio driver/raw             median %.3f (per-round ratios)\n",
	       median(q, rounds));
	modbus_close(ctx);
	modbus_free(ctx);
	bench_close(b);
	benchsim_stop(sim);
	return 0;
}
