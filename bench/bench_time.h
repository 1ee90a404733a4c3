/*
 * bench_time.h — the clock and the median every benchmark program uses.
 * Header-only (static inline) because every bench/bench_*.c is its own
 * executable; a program includes it instead of writing these again.
 */
#ifndef ML_BENCH_TIME_H
#define ML_BENCH_TIME_H

#include <stdlib.h>
#include <time.h>

/* Monotonic time in seconds. */
static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Monotonic time in milliseconds. */
static inline double now_ms(void)
{
	return now_s() * 1e3;
}

static inline int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Sorts v (n > 0 values) in place; the middle value, or the mean of the two. */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
