/*
 * metrics.c — counters for /metrics in the Prometheus text format:
 * requests by route and status, a latency histogram per route, requests in
 * flight, database pool use, open event streams. Lock-free (atomics); a
 * scrape reads the counters while requests go on.
 */
#include <stdlib.h>
#include <string.h>

#include "server/srv.h"

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double bucket_le[MET_BUCKETS] = { 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
					       0.05,   0.1,   0.25,  0.5,   1.0,  2.5 };
/* Statuses counted one by one; anything else lands in "other". */
static const int statuses[] = { 0,   200, 201, 204, 304, 400, 401, 403, 404, 405,
				409, 413, 415, 422, 429, 500, 502, 503, 504 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

struct route_met {
	atomic_ulong by_status[NSTATUS];
	atomic_ulong bucket[MET_BUCKETS + 1];
	atomic_ulong sum_us;
};

struct metrics {
	size_t n; /* routes + 1 ("no route") */
	struct route_met *r;
};

struct metrics *metrics_new(size_t nroutes)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->n = nroutes + 1;
	m->r = calloc(m->n, sizeof(*m->r));
	if (!m->r) {
		free(m);
		return NULL;
	}
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->r);
	free(m);
}

void metrics_observe(struct metrics *m, size_t route, int status, double seconds)
{
	if (route >= m->n)
		route = m->n - 1;
	struct route_met *r = &m->r[route];
	size_t si = NSTATUS - 1;
	for (size_t i = 0; i < NSTATUS - 1; i++) {
		if (statuses[i] == status) {
			si = i;
			break;
		}
	}
	atomic_fetch_add_explicit(&r->by_status[si], 1, memory_order_relaxed);
	size_t b = MET_BUCKETS;
	for (size_t i = 0; i < MET_BUCKETS; i++) {
		if (seconds <= bucket_le[i]) {
			b = i;
			break;
		}
	}
	atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, (unsigned long)(seconds * 1e6), memory_order_relaxed);
}

static void route_label(size_t i, char *out, size_t n)
{
	if (i < srv_nroutes)
		snprintf(out, n, "%s %s", srv_routes[i].method, srv_routes[i].pattern);
	else
		snprintf(out, n, "unmatched");
}

int metrics_render(struct metrics *m, struct srv *s, struct ml_buf *b)
{
	ml_buf_puts(b, "# HELP meterlab_http_requests_total HTTP requests by route and status "
		       "(status 0: no answer was sent, e.g. a timeout).\n"
		       "# TYPE meterlab_http_requests_total counter\n");
	char label[160];
	for (size_t i = 0; i < m->n; i++) {
		route_label(i, label, sizeof(label));
		for (size_t k = 0; k < NSTATUS; k++) {
			unsigned long v = atomic_load(&m->r[i].by_status[k]);
			if (!v)
				continue;
			if (k < NSTATUS - 1)
				ml_buf_printf(
					b,
					"meterlab_http_requests_total{route=\"%s\",status=\"%d\"} "
					"%lu\n",
					label, statuses[k], v);
			else
				ml_buf_printf(b,
					      "meterlab_http_requests_total{route=\"%s\",status="
					      "\"other\"} %lu\n",
					      label, v);
		}
	}
	ml_buf_puts(b, "# HELP meterlab_http_request_duration_seconds Time from the request's "
		       "headers to its completion, by route.\n"
		       "# TYPE meterlab_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < m->n; i++) {
		unsigned long cum = 0, total = 0;
		for (size_t k = 0; k <= MET_BUCKETS; k++)
			total += atomic_load(&m->r[i].bucket[k]);
		if (!total)
			continue;
		route_label(i, label, sizeof(label));
		for (size_t k = 0; k < MET_BUCKETS; k++) {
			cum += atomic_load(&m->r[i].bucket[k]);
			ml_buf_printf(b,
				      "meterlab_http_request_duration_seconds_bucket{route=\"%s\","
				      "le=\"%g\"} %lu\n",
				      label, bucket_le[k], cum);
		}
		cum += atomic_load(&m->r[i].bucket[MET_BUCKETS]);
		ml_buf_printf(
			b,
			"meterlab_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
			"%lu\n"
			"meterlab_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
			"meterlab_http_request_duration_seconds_count{route=\"%s\"} %lu\n",
			label, cum, label, (double)atomic_load(&m->r[i].sum_us) / 1e6, label, cum);
	}
	unsigned size = 0, in_use = 0;
	unsigned long waits = 0, timeouts = 0, resets = 0;
	pool_stats(s->pool, &size, &in_use, &waits, &timeouts, &resets);
	unsigned slow_busy = 0, slow_n = 0, slow_queued = 0, run_max = 0, run_busy = 0;
	slow_stats(s, &slow_busy, &slow_n, &slow_queued);
	runjobs_stats(s->jobs, &run_max, &run_busy);
	ml_buf_printf(b,
		      "# HELP meterlab_runner_threads Runs executed by this server (--runners): "
		      "threads executing a run (busy, starting ones included) and free slots "
		      "(idle).\n"
		      "# TYPE meterlab_runner_threads gauge\n"
		      "meterlab_runner_threads{state=\"busy\"} %u\n"
		      "meterlab_runner_threads{state=\"idle\"} %u\n"
		      "# HELP meterlab_slow_lane_threads Slow-lane threads (--workers: logins, "
		      "deliveries, PDFs) running a request (busy) and waiting for one (idle).\n"
		      "# TYPE meterlab_slow_lane_threads gauge\n"
		      "meterlab_slow_lane_threads{state=\"busy\"} %u\n"
		      "meterlab_slow_lane_threads{state=\"idle\"} %u\n"
		      "# HELP meterlab_slow_lane_queued Requests waiting for a slow-lane thread.\n"
		      "# TYPE meterlab_slow_lane_queued gauge\n"
		      "meterlab_slow_lane_queued %u\n",
		      run_busy, run_max > run_busy ? run_max - run_busy : 0, slow_busy,
		      slow_n > slow_busy ? slow_n - slow_busy : 0, slow_queued);
	ml_buf_printf(b,
		      "# HELP meterlab_http_requests_in_flight Requests begun and not completed "
		      "(event streams excluded).\n"
		      "# TYPE meterlab_http_requests_in_flight gauge\n"
		      "meterlab_http_requests_in_flight %d\n"
		      "# HELP meterlab_sse_streams Open Server-Sent Events streams.\n"
		      "# TYPE meterlab_sse_streams gauge\n"
		      "meterlab_sse_streams %u\n"
		      "# HELP meterlab_db_pool_connections Database connections of the pool.\n"
		      "# TYPE meterlab_db_pool_connections gauge\n"
		      "meterlab_db_pool_connections{state=\"in_use\"} %u\n"
		      "meterlab_db_pool_connections{state=\"idle\"} %u\n"
		      "# HELP meterlab_db_pool_waits_total Requests that had to wait for a "
		      "connection.\n"
		      "# TYPE meterlab_db_pool_waits_total counter\n"
		      "meterlab_db_pool_waits_total %lu\n"
		      "# HELP meterlab_db_pool_timeouts_total Requests that got no connection in "
		      "time (503).\n"
		      "# TYPE meterlab_db_pool_timeouts_total counter\n"
		      "meterlab_db_pool_timeouts_total %lu\n"
		      "# HELP meterlab_db_pool_resets_total Broken connections reset.\n"
		      "# TYPE meterlab_db_pool_resets_total counter\n"
		      "meterlab_db_pool_resets_total %lu\n",
		      atomic_load(&s->in_flight), sse_hub_streams(s->hub), in_use, size - in_use,
		      waits, timeouts, resets);
	return ml_buf_failed(b);
}
