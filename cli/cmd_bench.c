/*
 * meterlab bench probe|simulate — look at a verification bench over Modbus,
 * and run the bench simulator as a server process (devices/benchsim.h).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "devices/bench.h"
#include "devices/bench_codec.h"
#include "devices/benchsim.h"

#define MAX_SIMS 512

static void caps_text(unsigned caps, char *buf, size_t len)
{
	static const char *const n[] = {
		"basic", "creep", "start", "constant", "clock", "ct", "vt"
	};
	size_t k = 0;
	buf[0] = '\0';
	for (int i = 0; i < 7; i++)
		if (caps & (1u << i))
			k += (size_t)snprintf(buf + k, k < len ? len - k : 0, "%s%s", k ? "," : "",
					      n[i]);
}

static void put_float(struct ml_buf *b, int first, const char *key, double v)
{
	char num[48];
	snprintf(num, sizeof(num), "%.6g", v);
	ml_json_kv_raw(b, first, key, num);
}

static void put_dec4(struct ml_buf *b, int first, const char *key, int32_t v)
{
	/* dec4 values travel as exact decimal strings: "-0.1705", never as floats. */
	char num[24];
	ml_json_kv_str(b, first, key, bcodec_dec4_format(v, num, sizeof(num)));
}

static void json_identity(struct ml_buf *b, const struct bench_identity *id)
{
	char caps[80], ver[16];
	caps_text(id->capabilities, caps, sizeof(caps));
	snprintf(ver, sizeof(ver), "%u.%u", id->proto_major, id->proto_minor);
	ml_json_key(b, "identity");
	ml_buf_putc(b, '{');
	ml_json_kv_str(b, 1, "protocol", ver);
	ml_json_kv_int(b, 0, "device_class", id->device_class);
	ml_json_kv_int(b, 0, "positions", id->positions);
	ml_json_kv_int(b, 0, "phases", id->phases);
	ml_json_kv_str(b, 0, "capabilities", caps);
	put_float(b, 0, "u_max", id->u_max);
	put_float(b, 0, "i_max", id->i_max);
	put_float(b, 0, "std_class", id->std_class);
	ml_json_kv_str(b, 0, "model", id->model);
	ml_json_kv_str(b, 0, "serial", id->serial);
	ml_json_kv_str(b, 0, "firmware", id->firmware);
	ml_buf_putc(b, '}');
}

static void json_source(struct ml_buf *b, const struct bench_source_status *s)
{
	static const char *const un[] = { "u1", "u2", "u3" }, *const in[] = { "i1", "i2", "i3" },
				 *const pn[] = { "phi1", "phi2", "phi3" };
	ml_buf_putc(b, ',');
	ml_json_key(b, "source");
	ml_buf_putc(b, '{');
	ml_json_kv_str(b, 1, "state", bench_src_state_name(s->state));
	ml_json_kv_int(b, 0, "fault", s->fault);
	ml_json_kv_int(b, 0, "applied_seq", s->applied_seq);
	ml_json_kv_int(b, 0, "heartbeat", s->heartbeat);
	put_float(b, 0, "freq", s->freq);
	for (int k = 0; k < 3; k++) {
		put_float(b, 0, un[k], s->u[k]);
		put_float(b, 0, in[k], s->i[k]);
		put_float(b, 0, pn[k], s->phi[k]);
	}
	put_float(b, 0, "p_total", s->p_total);
	put_float(b, 0, "q_total", s->q_total);
	ml_buf_putc(b, '}');
}

static void json_position(struct ml_buf *b, int p, const struct bench_position_status *s)
{
	ml_buf_puts(b, p ? ",{" : "{");
	ml_json_kv_int(b, 1, "position", p + 1);
	ml_json_kv_bool(b, 0, "present", s->present);
	ml_json_kv_str(b, 0, "state", bench_pos_state_name(s->state));
	ml_json_kv_int(b, 0, "reading_seq", s->reading_seq);
	ml_json_kv_str(b, 0, "result", bench_result_name(s->result));
	put_dec4(b, 0, "value", s->value_e4);
	put_dec4(b, 0, "value2", s->value2_e4);
	ml_json_kv_int(b, 0, "pulses", s->pulses);
	put_float(b, 0, "elapsed", s->elapsed);
	/* protocol 1.1: the register in Wh, exact; null when a 1.0 bench's f32 value is refused */
	if (s->register_refused)
		ml_json_kv_raw(b, 0, "register_wh", "null");
	else
		ml_json_kv_int(b, 0, "register_wh", s->register_wh);
	ml_json_kv_bool(b, 0, "meter_comm", s->meter_comm);
	ml_buf_putc(b, '}');
}

static void text_probe(struct ml_buf *b, struct bench *bn, const struct bench_identity *id,
		       const struct bench_source_status *s, const struct bench_position_status *ps)
{
	char caps[80];
	caps_text(id->capabilities, caps, sizeof(caps));
	ml_buf_printf(b, "bench %s (%s)\n", bench_name(bn), bench_backend_name(bn));
	ml_buf_printf(b, "  protocol %u.%u, %s bench, %u positions, %u phase%s, capabilities %s\n",
		      id->proto_major, id->proto_minor,
		      id->device_class == BENCH_CLASS_TRANSFORMER ? "instrument-transformer"
								  : "meter",
		      id->positions, id->phases, id->phases == 1 ? "" : "s", caps);
	ml_buf_printf(b, "  model %s, serial %s, firmware %s\n", id->model, id->serial,
		      id->firmware);
	ml_buf_printf(b, "  u_max %g V, i_max %g A, reference standard class %g\n", id->u_max,
		      id->i_max, id->std_class);
	ml_buf_printf(b, "source: %s (fault %u), applied_seq %u, heartbeat %u\n",
		      bench_src_state_name(s->state), s->fault, s->applied_seq, s->heartbeat);
	ml_buf_printf(
		b,
		"  f %.3f Hz  U %.3f/%.3f/%.3f V  I %.4f/%.4f/%.4f A  phi %.2f/%.2f/%.2f  P %.2f W  Q %.2f var\n",
		s->freq, s->u[0], s->u[1], s->u[2], s->i[0], s->i[1], s->i[2], s->phi[0], s->phi[1],
		s->phi[2], s->p_total, s->q_total);
	ml_buf_puts(
		b,
		"pos present state    seq result     value      value2     pulses  elapsed   register_kwh comm\n");
	char reg[32];
	for (int p = 0; p < id->positions; p++) {
		const struct bench_position_status *q = &ps[p];
		char v[24], v2[24];
		bcodec_dec4_format(q->value_e4, v, sizeof(v));
		bcodec_dec4_format(q->value2_e4, v2, sizeof(v2));
		if (q->register_refused) /* a 1.0 bench's f32 kWh, too coarse (§6) */
			snprintf(reg, sizeof(reg), "%.3f?", (double)q->register_kwh_v10);
		else /* Wh as exact kWh text */
			snprintf(reg, sizeof(reg), "%u.%03u", q->register_wh / 1000,
				 q->register_wh % 1000);
		ml_buf_printf(b, "%3d %-7s %-8s %5u %-10s %-10s %-10s %7u %8.1f %14s %s\n", p + 1,
			      q->present ? "yes" : "no", bench_pos_state_name(q->state),
			      q->reading_seq, bench_result_name(q->result), v, v2, q->pulses,
			      q->elapsed, reg, q->meter_comm ? "yes" : "no");
	}
}

struct probe_args {
	const char *timeout;
	struct bench_options opt;
};

static int check_probe(struct cli_ctx *ctx, struct cli_call *c)
{
	struct probe_args *a = c->args;
	long long ms = 0; /* 0: the driver's defaults */
	(void)ctx;
	int rc = cli_parse_ll(c, "--timeout", a->timeout, 1, 600000, &ms);
	a->opt.response_timeout_ms = a->opt.connect_timeout_ms = (int)ms;
	return rc;
}

static int bench_probe(struct cli_ctx *ctx, struct cli_call *c)
{
	const struct probe_args *a = c->args;
	const char *uri = c->pos[0];
	struct bench *bn = NULL;
	struct bench_identity id;
	struct bench_source_status src;
	struct bench_position_status ps[96];
	struct ml_buf b = ML_BUF_INIT;
	int rc = bench_open(uri, &a->opt, &bn, &c->err);
	if (rc)
		goto out;
	rc = bench_identify(bn, &id, &c->err);
	if (rc)
		goto out;
	rc = bench_read_source(bn, &src, &c->err);
	if (rc)
		goto out;
	rc = bench_read_positions(bn, 0, id.positions, ps, &c->err);
	if (rc)
		goto out;
	if (ctx->json) {
		ml_buf_putc(&b, '{');
		ml_json_kv_str(&b, 1, "uri", uri);
		ml_buf_putc(&b, ',');
		json_identity(&b, &id);
		json_source(&b, &src);
		ml_buf_putc(&b, ',');
		ml_json_key(&b, "positions");
		ml_buf_putc(&b, '[');
		for (int p = 0; p < id.positions; p++)
			json_position(&b, p, &ps[p]);
		ml_buf_puts(&b, "]}");
	} else {
		text_probe(&b, bn, &id, &src, ps);
	}
	bench_close(bn);
	bn = NULL;
	rc = cli_emit(c, &b, ctx->json);
out:
	bench_close(bn);
	ml_buf_free(&b);
	return rc;
}

struct sim_args {
	const char *scen[64];
	int nscen;
	const char *count_s, *port_s, *host, *scale, *seed;
	const char *fault_s[8];
	int nfaults;
	int count, port;
	struct benchsim_options opt;
};

static int check_simulate(struct cli_ctx *ctx, struct cli_call *c)
{
	struct sim_args *a = c->args;
	long long count = 1, port = 0, seed = 0;
	char *end = NULL;
	(void)ctx;
	if (!a->host)
		a->host = "127.0.0.1";
	int rc = cli_parse_ll(c, "--count", a->count_s, 1, MAX_SIMS, &count);
	if (rc)
		return rc;
	rc = cli_parse_ll(c, "--port", a->port_s, 0, 65535, &port);
	if (rc)
		return rc;
	rc = cli_parse_ll(c, "--seed", a->seed, 0, 0x7fffffffL, &seed);
	if (rc)
		return rc;
	a->count = (int)count;
	a->port = (int)port;
	a->opt.seed = (uint64_t)seed;
	a->opt.have_seed = a->seed != NULL;
	if (a->scale && !((a->opt.time_scale = strtod(a->scale, &end)) > 0 && !*end &&
			  a->opt.time_scale <= 1e6))
		return cli_call_usage(c, "--time-scale '%s' is not a number in (0, 1e6]", a->scale);
	for (int f = 0; f < a->nfaults; f++) {
		if (!strchr(a->fault_s[f], '=') || strlen(a->fault_s[f]) >= 64)
			return cli_call_usage(c, "--fault '%s' is not KEY=VALUE", a->fault_s[f]);
	}
	return ML_OK;
}

/* Load the scenarios and append the --fault switches as scenario lines. */
static int load_scenario(const struct sim_args *a, int k, struct benchsim_scenario **sc,
			 struct ml_error *err)
{
	int rc = a->nscen ? benchsim_scenario_load(a->scen[k], sc, err)
			  : benchsim_scenario_default(sc, err);
	if (rc || !a->nfaults)
		return rc;
	/* Faults go through the scenario parser so validation is one code path. */
	char text[1024] = "";
	size_t len = 0;
	for (int f = 0; f < a->nfaults; f++) {
		char kv[64];
		snprintf(kv, sizeof(kv), "%s", a->fault_s[f]);
		char *eq = strchr(kv, '=');
		*eq = '\0';
		len += (size_t)snprintf(text + len, sizeof(text) - len, "fault %s %s\n", kv,
					eq + 1);
	}
	struct benchsim_scenario *tmp = NULL;
	rc = benchsim_scenario_parse(text, "--fault", &tmp, err);
	if (rc)
		goto out;
	rc = benchsim_scenario_apply_faults(*sc, tmp);
out:
	benchsim_scenario_free(tmp);
	if (rc) {
		benchsim_scenario_free(*sc);
		*sc = NULL;
	}
	return rc;
}

/* Start one bench per scenario and count, then print one 'listening on' line per bench. */
static int start_all(struct cli_ctx *ctx, struct cli_call *c, struct benchsim **sims, int *nsims)
{
	const struct sim_args *a = c->args;
	struct benchsim_scenario *sc = NULL;
	struct ml_buf b = ML_BUF_INIT;
	int nsc = a->nscen ? a->nscen : 1, port = a->port, rc = ML_OK;
	for (int k = 0; k < nsc && !rc; k++) {
		benchsim_scenario_free(sc);
		sc = NULL;
		rc = load_scenario(a, k, &sc, &c->err);
		for (int n = 0; n < a->count && !rc; n++) {
			struct benchsim_options o = a->opt;
			o.host = a->host;
			o.port = port ? port++ : 0;
			if (*nsims >= MAX_SIMS) {
				rc = cli_call_usage(c, "at most %d benches per process", MAX_SIMS);
				break;
			}
			rc = benchsim_start(sc, &o, &sims[*nsims], &c->err);
			if (rc)
				break;
			int pt = benchsim_port(sims[(*nsims)++]);
			if (ctx->json)
				ml_buf_printf(
					&b,
					"{\"listening\":\"%s:%d\",\"scenario\":\"%s\",\"positions\":%d}\n",
					a->host, pt, benchsim_scenario_name(sc),
					benchsim_scenario_positions(sc));
			else
				ml_buf_printf(&b, "listening on %s:%d\n", a->host, pt);
		}
	}
	/* The lines go out together, once every bench accepts connections (readiness). */
	if (rc)
		goto out;
	rc = cli_emit(c, &b, 0);
out:
	benchsim_scenario_free(sc);
	ml_buf_free(&b);
	return rc;
}

static int bench_simulate(struct cli_ctx *ctx, struct cli_call *c)
{
	/* Block the signals in every thread; the main thread collects them with sigwait. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	static struct benchsim *sims[MAX_SIMS];
	int nsims = 0;
	int rc = start_all(ctx, c, sims, &nsims);
	if (rc == ML_OK) { /* serve until SIGINT or SIGTERM */
		int sig = 0;
		sigwait(&set, &sig);
	}
	for (int i = 0; i < nsims; i++)
		benchsim_stop(sims[i]);
	return rc;
}

static void print_faults(struct cli_ctx *ctx, struct ml_buf *b, const char *addr,
			 const struct benchsim_faults *f, uint32_t requests, uint16_t clients)
{
	if (!ctx->json) {
		ml_buf_printf(
			b,
			"simulator %s: delay_ms %u delay_count %u exception %u exception_count %u "
			"freeze_heartbeat %u drop_after %u down_ms %u; %lu requests, %u clients",
			addr, f->delay_ms, f->delay_count, f->exception, f->exception_count,
			f->freeze_heartbeat, f->drop_after, f->down_ms, (unsigned long)requests,
			clients);
		return;
	}
	ml_buf_putc(b, '{');
	ml_json_kv_str(b, 1, "simulator", addr);
	ml_json_kv_int(b, 0, "delay_ms", f->delay_ms);
	ml_json_kv_int(b, 0, "delay_count", f->delay_count);
	ml_json_kv_int(b, 0, "exception", f->exception);
	ml_json_kv_int(b, 0, "exception_count", f->exception_count);
	ml_json_kv_int(b, 0, "freeze_heartbeat", f->freeze_heartbeat);
	ml_json_kv_int(b, 0, "drop_after", f->drop_after);
	ml_json_kv_int(b, 0, "down_ms", f->down_ms);
	ml_json_kv_int(b, 0, "requests", requests);
	ml_json_kv_int(b, 0, "clients", clients);
	ml_buf_putc(b, '}');
}

/* "key=value" -> key (into buf) and value; 0 when malformed. */
static int split_switch(const char *arg, char *key, size_t cap, long long *v)
{
	const char *eq = strchr(arg, '=');
	size_t kl = eq ? (size_t)(eq - arg) : 0;
	if (!eq || kl >= cap || cli_strtoll(eq + 1, 0, 65535, v))
		return 0;
	memcpy(key, arg, kl);
	key[kl] = '\0';
	return 1;
}

/* Validate every switch before changing any. */
static int check_fault(struct cli_ctx *ctx, struct cli_call *c)
{
	(void)ctx;
	for (int i = 1; i < c->npos; i++) {
		char key[32];
		long long v;
		if (!split_switch(c->pos[i], key, sizeof(key), &v))
			return cli_call_usage(c, "bad switch '%s' (expected KEY=0..65535)",
					      c->pos[i]);
		if (benchsim_control_register(key) < 0)
			return ml_errorf(&c->err, ML_EINVAL,
					 "unknown fault '%s' (see 'meterlab bench fault --help')",
					 key);
	}
	return ML_OK;
}

static int bench_fault(struct cli_ctx *ctx, struct cli_call *c)
{
	struct ml_buf b = ML_BUF_INIT;
	const char *addr = c->pos[0];
	struct benchsim_faults f;
	uint32_t requests = 0;
	uint16_t clients = 0;
	int rc = ML_OK;
	for (int i = 1; i < c->npos && !rc; i++) {
		char key[32];
		long long v = 0;
		split_switch(c->pos[i], key, sizeof(key), &v);
		rc = benchsim_remote_set(addr, key, (uint16_t)v, &c->err);
	}
	if (rc)
		goto out;
	rc = benchsim_remote_get(addr, &f, &requests, &clients, &c->err);
	if (rc)
		goto out;
	print_faults(ctx, &b, addr, &f, requests, clients);
	rc = cli_emit(c, &b, 1);
out:
	ml_buf_free(&b);
	return rc;
}

static const struct cli_opt probe_opts[] = {
	CLI_OPT("timeout", struct probe_args, timeout),
	CLI_OPT_END,
};

static const struct cli_opt simulate_opts[] = {
	CLI_LIST("scenario", struct sim_args, scen, nscen),
	CLI_OPT("count", struct sim_args, count_s),
	CLI_OPT("port", struct sim_args, port_s),
	CLI_OPT("host", struct sim_args, host),
	CLI_OPT("time-scale", struct sim_args, scale),
	CLI_OPT("seed", struct sim_args, seed),
	CLI_LIST("fault", struct sim_args, fault_s, nfaults),
	CLI_OPT_END,
};

static const struct cli_cmd bench_cmds[] = {
	{ .name = "probe",
	  .check = check_probe,
	  .run = bench_probe,
	  CLI_ARGS(struct probe_args, probe_opts),
	  .min_pos = 1,
	  .max_pos = 1,
	  .need = "bench probe needs HOST[:PORT]",
	  .summary = "read a bench's identity, source and position status",
	  .help = "usage: meterlab bench probe HOST[:PORT] | tcp://HOST:PORT | rtu:DEVICE?baud=N&unit=N\n"
		  "                           [--timeout MS] [--json]\n\n"
		  "Read a bench's identity, source status and every position's status over Modbus\n"
		  "(bench protocol v1). Default TCP port 502. Exit 7 when the bench cannot be reached." },
	{ .name = "simulate",
	  .check = check_simulate,
	  .run = bench_simulate,
	  CLI_ARGS(struct sim_args, simulate_opts),
	  .summary = "run simulated benches as Modbus TCP servers",
	  .help = "usage: meterlab bench simulate [--scenario FILE]... [--count N] [--port N] [--host ADDR]\n"
		  "                              [--time-scale X] [--seed N] [--fault KEY=VALUE]...\n\n"
		  "Run simulated verification benches as Modbus TCP servers (bench protocol v1) until\n"
		  "SIGINT or SIGTERM. One bench per --scenario (the built-in 24-position meter bench\n"
		  "when none is given), each repeated --count times, on consecutive ports from --port\n"
		  "(default 0: an ephemeral port each). Prints one line 'listening on HOST:PORT' per\n"
		  "bench (a JSON object per line with --json) once every bench accepts connections.\n\n"
		  "  --time-scale X   device seconds per real second (1 real time, 1000 = 1000x faster)\n"
		  "  --seed N         seed of the deterministic reading noise (default: the scenario's)\n"
		  "  --fault K=V      start with a fault switched on: delay_ms, delay_count, exception,\n"
		  "                   exception_count, freeze_heartbeat, drop_after, down_ms\n"
		  "                   (also settable at run time via holding registers 0xF000.., see\n"
		  "                   devices/README.md)" },
	{ .name = "fault",
	  .check = check_fault,
	  .run = bench_fault,
	  .min_pos = 1,
	  .max_pos = 64,
	  .need = "bench fault needs HOST[:PORT] (see 'meterlab bench fault --help')",
	  .summary = "switch faults of a running simulator (late replies, drops, ...)",
	  .help = "usage: meterlab bench fault HOST[:PORT] [KEY=VALUE]... [--json]\n\n"
		  "Switch faults of a running bench simulator at run time (simulator-only control\n"
		  "registers 0xF000.., see devices/README.md), then print the switches. Keys:\n"
		  "  delay_ms N          delay replies by N ms (beyond the client's timeout: a late reply)\n"
		  "  delay_count N       ... for the next N replies (0 = every reply)\n"
		  "  exception C         answer with Modbus exception C (0 = off)\n"
		  "  exception_count N   ... for the next N requests (0 = every request)\n"
		  "  freeze_heartbeat 1  stop the heartbeat (a hung device); 0 resumes it\n"
		  "  drop_after N        drop every connection at the Nth next request\n"
		  "  down_ms N           after a drop, refuse connections for N ms\n"
		  "  drop_now 1          drop every connection now\n"
		  "With no KEY=VALUE only prints the current switches." },
	{ .name = NULL },
};

const struct cli_cmd cmd_bench = {
	.name = "bench",
	.help = "Verification benches over Modbus (bench protocol v1).",
	.sub = bench_cmds,
};
