/*
 * bench_modbus_poll — one process polling 100 simulated benches of 48
 * positions each, every position running a basic-error test.
 *
 * The simulator runs in a child process (100 benches = 100 ports and server
 * threads) so the poller's CPU time is its own (getrusage RUSAGE_SELF); the
 * simulator's is reported from RUSAGE_CHILDREN after it exits. A poll cycle
 * reads the status of all 48 positions of all 100 benches (7 FC 04 requests
 * per bench, 700 per cycle). Two layouts, same run:
 *   sequential  one thread, one connection per bench, benches in turn;
 *   threaded    T threads, each owning 100/T benches (libmodbus: one
 *               context per connection per thread, tech-notes §1.2).
 * Prints cycle latency p50/p99 and CPU per cycle for each.
 *
 * usage: bench_modbus_poll [CYCLES [THREADS]]   (default 40 4)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"
#include "devices/bench.h"
#include "devices/benchsim.h"

#define NBENCH 100
#define NPOS 48

static double cpu_s(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	int i = (int)(p * (n - 1) + 0.5);
	return v[i];
}

/* Child: run the benches, report ports on fd, sleep until killed. */
static void run_simulator(int fd)
{
	struct ml_error err = ML_ERROR_INIT;
	struct benchsim_scenario *sc = NULL;
	static struct benchsim *sims[NBENCH];
	if (benchsim_scenario_parse("positions 48\nsettle_s 0.5\nnoise 0.001\n[1-48]\nerror 0.1\n",
				    "poll", &sc, &err))
		_exit(1);
	struct benchsim_options o = { .time_scale = 50 };
	for (int i = 0; i < NBENCH; i++) {
		if (benchsim_start(sc, &o, &sims[i], &err)) {
			fprintf(stderr, "simulator: %s\n", err.msg);
			_exit(1);
		}
		int port = benchsim_port(sims[i]);
		if (write(fd, &port, sizeof(port)) != sizeof(port))
			_exit(1);
	}
	close(fd);
	for (;;)
		pause();
}

static int setup(struct bench **b, const int *ports)
{
	struct ml_error err = ML_ERROR_INIT;
	struct bench_source s = { .freq = 50, .u = { 220 }, .i = { 5 }, .element_mask = 1 };
	struct bench_position_config c[NPOS];
	for (int p = 0; p < NPOS; p++)
		c[p] = (struct bench_position_config){
			.mode = BENCH_MODE_BASIC, .constant = 1200, .pulses = 2, .enabled = 1
		};
	for (int i = 0; i < NBENCH; i++) {
		char uri[48];
		snprintf(uri, sizeof(uri), "127.0.0.1:%d", ports[i]);
		if (bench_open(uri, NULL, &b[i], &err) || bench_set_source(b[i], &s, 1, &err))
			goto fail;
	}
	for (int i = 0; i < NBENCH; i++)
		if (bench_wait_stable(b[i], 1, 10000, &err) ||
		    bench_configure_positions(b[i], 0, NPOS, c, &err) ||
		    bench_all_command(b[i], BENCH_CMD_START, &err))
			goto fail;
	return 0;
fail:
	fprintf(stderr, "setup: %s\n", err.msg);
	return -1;
}

static int poll_range(struct bench **b, int from, int to)
{
	struct bench_position_status st[NPOS];
	struct ml_error err = ML_ERROR_INIT;
	for (int i = from; i < to; i++)
		if (bench_read_positions(b[i], 0, NPOS, st, &err)) {
			fprintf(stderr, "poll: %s\n", err.msg);
			return -1;
		}
	return 0;
}

struct worker {
	struct bench **b;
	int from, to, cycles, failed;
	pthread_barrier_t *start, *end;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (int k = 0; k < w->cycles; k++) {
		pthread_barrier_wait(w->start);
		w->failed |= poll_range(w->b, w->from, w->to);
		pthread_barrier_wait(w->end);
	}
	return NULL;
}

static void report(const char *name, double *lat, int n, double cpu)
{
	printf("  %-22s cycle p50 %7.2f ms  p99 %7.2f ms  poller CPU %6.2f ms/cycle (%4.1f %% of one core)\n",
	       name, pct(lat, n, 0.5) * 1e3, pct(lat, n, 0.99) * 1e3, cpu / n * 1e3,
	       100.0 * cpu / n / pct(lat, n, 0.5));
}

static int run_threaded(struct bench **b, int cycles, int nthr, double *lat, double *cpu)
{
	pthread_barrier_t start, end;
	pthread_barrier_init(&start, NULL, (unsigned)nthr + 1);
	pthread_barrier_init(&end, NULL, (unsigned)nthr + 1);
	struct worker w[16];
	pthread_t th[16];
	for (int t = 0; t < nthr; t++) {
		w[t] = (struct worker){
			b, NBENCH * t / nthr, NBENCH * (t + 1) / nthr, cycles, 0, &start, &end
		};
		pthread_create(&th[t], NULL, worker_main, &w[t]);
	}
	double c0 = cpu_s(RUSAGE_SELF);
	for (int k = 0; k < cycles; k++) {
		double t0 = now_s();
		pthread_barrier_wait(&start);
		pthread_barrier_wait(&end);
		lat[k] = now_s() - t0;
	}
	*cpu = cpu_s(RUSAGE_SELF) - c0;
	int failed = 0;
	for (int t = 0; t < nthr; t++) {
		pthread_join(th[t], NULL);
		failed |= w[t].failed;
	}
	return failed;
}

int main(int argc, char **argv)
{
	int cycles = argc > 1 ? atoi(argv[1]) : 40, nthr = argc > 2 ? atoi(argv[2]) : 4;
	if (cycles < 2 || cycles > 10000 || nthr < 1 || nthr > 16)
		return 2;
	int pfd[2];
	if (pipe(pfd))
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		run_simulator(pfd[1]);
	}
	close(pfd[1]);
	int ports[NBENCH];
	for (int i = 0; i < NBENCH; i++)
		if (read(pfd[0], &ports[i], sizeof(ports[i])) != sizeof(ports[i]))
			return 1;
	static struct bench *b[NBENCH];
	double *lat = calloc((size_t)cycles, sizeof(double));
	int rc = setup(b, ports);
	double cpu_seq = 0, cpu_thr = 0;
	double *lat2 = calloc((size_t)cycles, sizeof(double));
	if (!rc) {
		double c0 = cpu_s(RUSAGE_SELF);
		for (int k = 0; k < cycles && !rc; k++) {
			double t0 = now_s();
			rc = poll_range(b, 0, NBENCH);
			lat[k] = now_s() - t0;
		}
		cpu_seq = cpu_s(RUSAGE_SELF) - c0;
	}
	if (!rc)
		rc = run_threaded(b, cycles, nthr, lat2, &cpu_thr);
	for (int i = 0; i < NBENCH; i++)
		bench_close(b[i]);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (rc)
		return 1;
	printf("bench_modbus_poll: %d benches x %d positions (7 requests each, 700 per cycle), %d cycles, loopback\n",
	       NBENCH, NPOS, cycles);
	report("sequential, 1 thread", lat, cycles, cpu_seq);
	char name[32];
	snprintf(name, sizeof(name), "threaded, %d threads", nthr);
	report(name, lat2, cycles, cpu_thr);
	printf("  simulator process (100 server threads) CPU %.2f s over both runs\n",
	       cpu_s(RUSAGE_CHILDREN));
	free(lat);
	free(lat2);
	return 0;
}
