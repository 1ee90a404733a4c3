/*
 * ratelimit.c — a token bucket per client address, for the public routes
 * that need no login (certificate verification): per_minute tokens a
 * minute, at most burst saved up. A fixed table of buckets: an address
 * that finds its slot taken by another evicts the one least recently used
 * of a small neighbourhood, so memory stays bounded whatever the traffic.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/srv.h"

#define RL_SLOTS 4096
#define RL_PROBE 8

struct bucket {
	char addr[64];
	double tokens;
	double last; /* monotonic seconds */
};

struct ratelimit {
	pthread_mutex_t mu;
	double rate; /* tokens per second */
	double burst;
	struct bucket b[RL_SLOTS];
};

struct ratelimit *ratelimit_new(unsigned per_minute, unsigned burst)
{
	struct ratelimit *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	pthread_mutex_init(&r->mu, NULL);
	r->rate = per_minute / 60.0;
	r->burst = burst ? burst : 1;
	return r;
}

void ratelimit_free(struct ratelimit *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int ratelimit_take(struct ratelimit *r, const char *addr, unsigned *retry_after)
{
	unsigned long h = 5381;
	for (const char *p = addr; *p; p++)
		h = h * 33 + (unsigned char)*p;
	double t = now_s();
	pthread_mutex_lock(&r->mu);
	struct bucket *b = NULL, *oldest = NULL;
	for (unsigned i = 0; i < RL_PROBE && !b; i++) {
		struct bucket *c = &r->b[(h + i) % RL_SLOTS];
		if (!strcmp(c->addr, addr))
			b = c;
		else if (!oldest || c->last < oldest->last)
			oldest = c;
	}
	if (!b) {
		b = oldest;
		snprintf(b->addr, sizeof(b->addr), "%s", addr);
		b->tokens = r->burst;
		b->last = t;
	}
	b->tokens += (t - b->last) * r->rate;
	if (b->tokens > r->burst)
		b->tokens = r->burst;
	b->last = t;
	int ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	else
		*retry_after = (unsigned)((1.0 - b->tokens) / r->rate) + 1;
	pthread_mutex_unlock(&r->mu);
	return ok;
}
