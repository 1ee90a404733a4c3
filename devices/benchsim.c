/*
 * benchsim.c — the simulator's Modbus TCP server: one listening socket and
 * one thread per bench, a poll() loop over the clients (many masters may be
 * connected at once), libmodbus for framing (modbus_receive/modbus_reply on
 * one server context switched between client sockets with modbus_set_socket,
 * the pattern of libmodbus tests/bandwidth-server-many-up.c).
 *
 * The register map and the device state are guarded by one mutex per bench
 * (libmodbus does not guard a mapping, tech-notes §1.2), so the API below is
 * safe from any thread. Accepted sockets get TCP_NODELAY (tech-notes §1.3,
 * libmodbus #849). Socket descriptors must stay below FD_SETSIZE because
 * libmodbus' receive path uses select() (#373, #583): a new client above it
 * is refused.
 */
#include "devices/benchsim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <modbus/modbus.h>

#include "devices/bench_codec.h"
#include "devices/benchsim_priv.h"

#define SIM_MAX_CLIENTS 64
#define SIM_HOLDING_N (BR_CTL_END)
#define SIM_INPUT_N (BR_POS_ADDR(BR_MAX_POSITIONS))

struct benchsim {
	struct benchsim_scenario sc; /* own copy */
	struct sim_state st;
	modbus_mapping_t *map;
	modbus_t *ctx;
	pthread_t thr;
	int thr_started;
	pthread_mutex_t mu;
	int lfd, port;
	int wake[2];
	int clients[SIM_MAX_CLIENTS];
	int nclients;
	double scale;
	int64_t t0_ns;
	uint64_t requests;
	int64_t down_until_ms;
	int stop, drop_pending, drop_down_ms;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double device_now(const struct benchsim *s)
{
	return (double)(mono_ns() - s->t0_ns) / 1e9 * s->scale;
}

static void wake(struct benchsim *s)
{
	char c = 1;
	ssize_t r = write(s->wake[1], &c, 1);
	(void)r; /* a full pipe already wakes the thread */
}

static uint16_t *ctl(struct benchsim *s, int reg)
{
	return &s->map->tab_registers[reg];
}

static void faults_to_regs(struct benchsim *s, const struct benchsim_faults *f)
{
	*ctl(s, BR_CTL_DELAY_MS) = f->delay_ms;
	*ctl(s, BR_CTL_DELAY_COUNT) = f->delay_count;
	*ctl(s, BR_CTL_EXC_CODE) = f->exception;
	*ctl(s, BR_CTL_EXC_COUNT) = f->exception_count;
	*ctl(s, BR_CTL_FREEZE_HB) = f->freeze_heartbeat;
	*ctl(s, BR_CTL_DROP_AFTER) = f->drop_after;
	*ctl(s, BR_CTL_DOWN_MS) = f->down_ms;
}

static void close_all_clients(struct benchsim *s)
{
	for (int i = 0; i < s->nclients; i++)
		close(s->clients[i]);
	s->nclients = 0;
}

static void drop_all(struct benchsim *s, int down_ms)
{
	close_all_clients(s);
	if (down_ms > 0)
		s->down_until_ms = mono_ns() / 1000000 + down_ms;
}

static void remove_client(struct benchsim *s, int i)
{
	pthread_mutex_lock(&s->mu);
	close(s->clients[i]);
	s->clients[i] = s->clients[--s->nclients];
	pthread_mutex_unlock(&s->mu);
}

/* A drop asked for by the API or by the DROP_NOW register. Returns 1 when done. */
static int take_drop(struct benchsim *s)
{
	pthread_mutex_lock(&s->mu);
	int drop = s->drop_pending;
	if (drop)
		drop_all(s, s->drop_down_ms);
	s->drop_pending = 0;
	s->drop_down_ms = 0;
	pthread_mutex_unlock(&s->mu);
	return drop;
}

static void accept_client(struct benchsim *s)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	pthread_mutex_lock(&s->mu);
	int refuse = s->nclients >= SIM_MAX_CLIENTS || fd >= FD_SETSIZE ||
		     mono_ns() / 1000000 < s->down_until_ms;
	if (!refuse)
		s->clients[s->nclients++] = fd;
	pthread_mutex_unlock(&s->mu);
	if (refuse)
		close(fd);
}

/* Wait ms of real time, returning early (1) when the simulator is stopped. */
static int wait_interruptible(struct benchsim *s, int ms)
{
	int64_t end = mono_ns() + (int64_t)ms * 1000000;
	for (;;) {
		int64_t left = (end - mono_ns()) / 1000000;
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = s->wake[0], .events = POLLIN };
		if (poll(&p, 1, (int)left) > 0) {
			pthread_mutex_lock(&s->mu);
			int stop = s->stop;
			pthread_mutex_unlock(&s->mu);
			if (stop)
				return 1;
			char buf[64];
			ssize_t r = read(s->wake[0], buf, sizeof(buf));
			(void)r;
		}
	}
}

struct req_info {
	int fc, addr, n;
	const uint8_t *vals; /* FC 06/16: big-endian register values */
};

static int parse_req(modbus_t *ctx, const uint8_t *req, int len, struct req_info *ri)
{
	int h = modbus_get_header_length(ctx);
	if (len < h + 5)
		return -1;
	ri->fc = req[h];
	ri->addr = (req[h + 1] << 8) | req[h + 2];
	ri->n = (req[h + 3] << 8) | req[h + 4];
	ri->vals = NULL;
	if (ri->fc == MODBUS_FC_WRITE_SINGLE_REGISTER) {
		ri->n = 1;
		ri->vals = &req[h + 3];
	} else if (ri->fc == MODBUS_FC_WRITE_MULTIPLE_REGISTERS) {
		if (len < h + 6 + 2 * ri->n)
			return -1;
		ri->vals = &req[h + 6];
	}
	return 0;
}

/* The exception a request deserves by the protocol (0: serve it). */
static int request_exception(struct benchsim *s, const struct req_info *ri)
{
	switch (ri->fc) {
	case MODBUS_FC_READ_HOLDING_REGISTERS:
	case MODBUS_FC_READ_INPUT_REGISTERS:
		if (ri->n < 1 || ri->n > MODBUS_MAX_READ_REGISTERS)
			return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
		if (ri->fc == MODBUS_FC_READ_INPUT_REGISTERS
			    ? !sim_input_mapped(&s->st, ri->addr, ri->n)
			    : !sim_holding_mapped(&s->st, ri->addr, ri->n))
			return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
		return 0;
	case MODBUS_FC_WRITE_SINGLE_REGISTER:
	case MODBUS_FC_WRITE_MULTIPLE_REGISTERS: {
		if (ri->n < 1 || ri->n > MODBUS_MAX_WRITE_REGISTERS)
			return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
		if (!sim_holding_mapped(&s->st, ri->addr, ri->n))
			return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
		uint16_t vals[MODBUS_MAX_WRITE_REGISTERS];
		for (int i = 0; i < ri->n; i++)
			vals[i] = (uint16_t)((ri->vals[2 * i] << 8) | ri->vals[2 * i + 1]);
		return sim_check_write(&s->st, s->map->tab_registers, ri->addr, ri->n, vals);
	}
	default:
		return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
	}
}

/*
 * Injected faults (control registers), decided before serving. Returns
 * 1 = drop everything now, 2 = answer the injected exception; sets *delay.
 */
static int injected(struct benchsim *s, int *delay_ms, int *exc)
{
	uint16_t *da = ctl(s, BR_CTL_DROP_AFTER);
	if (*da && --*da == 0)
		return 1;
	if (*ctl(s, BR_CTL_EXC_CODE)) {
		*exc = *ctl(s, BR_CTL_EXC_CODE);
		uint16_t *cnt = ctl(s, BR_CTL_EXC_COUNT);
		if (*cnt && --*cnt == 0)
			*ctl(s, BR_CTL_EXC_CODE) = 0;
		return 2;
	}
	if (*ctl(s, BR_CTL_DELAY_MS)) {
		*delay_ms = *ctl(s, BR_CTL_DELAY_MS);
		uint16_t *cnt = ctl(s, BR_CTL_DELAY_COUNT);
		if (*cnt && --*cnt == 0)
			*ctl(s, BR_CTL_DELAY_MS) = 0;
	}
	return 0;
}

static void refresh(struct benchsim *s)
{
	int freeze = *ctl(s, BR_CTL_FREEZE_HB) != 0;
	sim_advance(&s->st, device_now(s));
	s->st.hb_frozen = freeze;
	sim_fill_dynamic(&s->st, s->map->tab_input_registers);
	bcodec_put_u32(ctl(s, BR_CTL_REQUESTS), (uint32_t)s->requests);
	*ctl(s, BR_CTL_CLIENTS) = (uint16_t)s->nclients;
}

/* Serve one parsed request under the mutex. Returns -1 when the link must close. */
static int serve(struct benchsim *s, const uint8_t *req, int len, const struct req_info *ri)
{
	refresh(s);
	int exc = request_exception(s, ri);
	if (exc)
		return modbus_reply_exception(s->ctx, req, (unsigned)exc) < 0 ? -1 : 0;
	int rc = modbus_reply(s->ctx, req, len, s->map);
	int is_write = ri->fc == MODBUS_FC_WRITE_SINGLE_REGISTER ||
		       ri->fc == MODBUS_FC_WRITE_MULTIPLE_REGISTERS;
	if (is_write) {
		sim_apply_write(&s->st, s->map->tab_registers, ri->addr, ri->n);
		uint16_t *dn = ctl(s, BR_CTL_DROP_NOW);
		if (*dn) {
			*dn = 0;
			s->drop_pending = 1;
			s->drop_down_ms = *ctl(s, BR_CTL_DOWN_MS);
		}
		refresh(s);
	}
	return rc < 0 ? -1 : 0;
}

/* Receive and answer one request from client i. Returns -1 when the link must close. */
static int handle_client(struct benchsim *s, int fd)
{
	uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
	modbus_set_socket(s->ctx, fd);
	int len = modbus_receive(s->ctx, req);
	if (len <= 0)
		return len < 0 ? -1 : 0;
	struct req_info ri;
	if (parse_req(s->ctx, req, len, &ri))
		return -1;
	int control = ri.addr >= BR_CTL_BASE && ri.fc != MODBUS_FC_READ_INPUT_REGISTERS;
	int delay = 0, exc = 0, what = 0;
	pthread_mutex_lock(&s->mu);
	if (!control) {
		s->requests++;
		what = injected(s, &delay, &exc);
	}
	if (what == 1) {
		drop_all(s, *ctl(s, BR_CTL_DOWN_MS));
		pthread_mutex_unlock(&s->mu);
		return -2;
	}
	pthread_mutex_unlock(&s->mu);
	if (what == 2)
		return modbus_reply_exception(s->ctx, req, (unsigned)exc) < 0 ? -1 : 0;
	if (delay && wait_interruptible(s, delay))
		return -1;
	pthread_mutex_lock(&s->mu);
	int rc = serve(s, req, len, &ri);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int build_pollset(struct benchsim *s, struct pollfd *pf)
{
	pf[0] = (struct pollfd){ .fd = s->wake[0], .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	for (int i = 0; i < s->nclients; i++)
		pf[2 + i] = (struct pollfd){ .fd = s->clients[i], .events = POLLIN };
	return 2 + s->nclients;
}

/* Control-plane requests from the API: stop, drop. Returns 1 to stop. */
static int handle_wake(struct benchsim *s)
{
	char buf[64];
	ssize_t r = read(s->wake[0], buf, sizeof(buf));
	(void)r;
	pthread_mutex_lock(&s->mu);
	int stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	take_drop(s);
	return stop;
}

static void *server_main(void *arg)
{
	struct benchsim *s = arg;
	struct pollfd pf[2 + SIM_MAX_CLIENTS];
	for (;;) {
		int n = build_pollset(s, pf);
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((pf[0].revents & POLLIN) && handle_wake(s))
			break;
		/* Serve clients first (their slots may move), then accept. */
		for (int i = n - 1; i >= 2; i--) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int idx = i - 2;
			if (idx >= s->nclients || s->clients[idx] != pf[i].fd)
				continue; /* dropped meanwhile */
			int rc = handle_client(s, pf[i].fd);
			if (rc == -1)
				remove_client(s, idx);
			if (take_drop(s) || rc == -2)
				break; /* every client dropped: the remaining slots are stale */
		}
		if (pf[1].revents & POLLIN)
			accept_client(s);
	}
	pthread_mutex_lock(&s->mu);
	close_all_clients(s);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int listen_socket(struct benchsim *s, const char *host, int port, struct ml_error *err)
{
	char es[96];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return ml_errorf(err, ML_EINVAL,
				 "simulator: bind address '%s' is not an IPv4 address", host);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (s->lfd < 0 || setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(s->lfd, 64))
		return ml_errorf(err, ML_EIO, "simulator: listen on %s:%d: %s", host, port,
				 ml_errno_str(errno, es, sizeof(es)));
	socklen_t al = sizeof(a);
	getsockname(s->lfd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	return ML_OK;
}

static int sim_alloc(struct benchsim *s, const struct benchsim_scenario *sc,
		     const struct benchsim_options *opt, struct ml_error *err)
{
	s->sc = *sc;
	s->lfd = s->wake[0] = s->wake[1] = -1;
	s->scale = opt && opt->time_scale > 0 ? opt->time_scale : 1.0;
	uint64_t seed = opt && (opt->seed || opt->have_seed) ? opt->seed : sc->seed;
	sim_init(&s->st, &s->sc, seed);
	s->map = modbus_mapping_new_start_address(0, 0, 0, 0, 0, SIM_HOLDING_N, 0, SIM_INPUT_N);
	s->ctx = modbus_new_tcp("127.0.0.1",
				502); /* framing only: sockets come from our own listener */
	if (!s->map || !s->ctx || pipe2(s->wake, O_CLOEXEC | O_NONBLOCK))
		return ml_errorf(err, ML_ENOMEM,
				 "simulator: cannot allocate the register map or context");
	sim_fill_identity(&s->st, s->map->tab_input_registers);
	faults_to_regs(s, &sc->faults);
	s->t0_ns = mono_ns();
	refresh(s);
	return ML_OK;
}

int benchsim_start(const struct benchsim_scenario *sc, const struct benchsim_options *opt,
		   struct benchsim **out, struct ml_error *err)
{
	*out = NULL;
	struct benchsim *s = calloc(1, sizeof(*s));
	if (!s)
		return ml_errorf(err, ML_ENOMEM, "simulator: out of memory");
	pthread_mutex_init(&s->mu, NULL);
	int rc = sim_alloc(s, sc, opt, err);
	if (!rc)
		rc = listen_socket(s, opt && opt->host ? opt->host : "127.0.0.1",
				   opt ? opt->port : 0, err);
	if (!rc && pthread_create(&s->thr, NULL, server_main, s))
		rc = ml_errorf(err, ML_EINTERNAL, "simulator: cannot start the server thread");
	if (rc) {
		benchsim_stop(s);
		return rc;
	}
	s->thr_started = 1;
	*out = s;
	return ML_OK;
}

void benchsim_stop(struct benchsim *s)
{
	if (!s)
		return;
	if (s->thr_started) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		pthread_mutex_unlock(&s->mu);
		wake(s);
		pthread_join(s->thr, NULL);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	for (int i = 0; i < 2; i++)
		if (s->wake[i] >= 0)
			close(s->wake[i]);
	if (s->ctx) {
		modbus_set_socket(s->ctx, -1);
		modbus_free(s->ctx);
	}
	modbus_mapping_free(s->map);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int benchsim_port(const struct benchsim *s)
{
	return s->port;
}

void benchsim_set_faults(struct benchsim *s, const struct benchsim_faults *f)
{
	pthread_mutex_lock(&s->mu);
	faults_to_regs(s, f);
	pthread_mutex_unlock(&s->mu);
}

void benchsim_get_faults(struct benchsim *s, struct benchsim_faults *f)
{
	pthread_mutex_lock(&s->mu);
	f->delay_ms = *ctl(s, BR_CTL_DELAY_MS);
	f->delay_count = *ctl(s, BR_CTL_DELAY_COUNT);
	f->exception = *ctl(s, BR_CTL_EXC_CODE);
	f->exception_count = *ctl(s, BR_CTL_EXC_COUNT);
	f->freeze_heartbeat = *ctl(s, BR_CTL_FREEZE_HB);
	f->drop_after = *ctl(s, BR_CTL_DROP_AFTER);
	f->down_ms = *ctl(s, BR_CTL_DOWN_MS);
	pthread_mutex_unlock(&s->mu);
}

void benchsim_drop_connections(struct benchsim *s, int down_ms)
{
	pthread_mutex_lock(&s->mu);
	s->drop_pending = 1;
	s->drop_down_ms = down_ms;
	/* Refuse at once, even before the server thread wakes up. */
	if (down_ms > 0)
		s->down_until_ms = mono_ns() / 1000000 + down_ms;
	pthread_mutex_unlock(&s->mu);
	wake(s);
}

uint64_t benchsim_requests(struct benchsim *s)
{
	pthread_mutex_lock(&s->mu);
	uint64_t r = s->requests;
	pthread_mutex_unlock(&s->mu);
	return r;
}

int benchsim_clients(struct benchsim *s)
{
	pthread_mutex_lock(&s->mu);
	int n = s->nclients;
	pthread_mutex_unlock(&s->mu);
	return n;
}

double benchsim_device_time(struct benchsim *s)
{
	return device_now(s);
}
