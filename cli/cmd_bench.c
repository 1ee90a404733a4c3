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

static int put_float(struct ml_buf *b, int first, const char *key, double v)
{
	char num[48];
	snprintf(num, sizeof(num), "%.6g", v);
	return ml_json_kv_raw(b, first, key, num);
}

static int put_dec4(struct ml_buf *b, int first, const char *key, int32_t v)
{
	/* dec4 values travel as exact decimal strings: "-0.1705", never as floats. */
	char num[24];
	return ml_json_kv_str(b, first, key, bcodec_dec4_format(v, num, sizeof(num)));
}

static int json_identity(struct ml_buf *b, const struct bench_identity *id)
{
	char caps[80], ver[16];
	caps_text(id->capabilities, caps, sizeof(caps));
	snprintf(ver, sizeof(ver), "%u.%u", id->proto_major, id->proto_minor);
	int rc = ml_json_key(b, "identity") | ml_buf_putc(b, '{');
	rc |= ml_json_kv_str(b, 1, "protocol", ver);
	rc |= ml_json_kv_int(b, 0, "device_class", id->device_class);
	rc |= ml_json_kv_int(b, 0, "positions", id->positions);
	rc |= ml_json_kv_int(b, 0, "phases", id->phases);
	rc |= ml_json_kv_str(b, 0, "capabilities", caps);
	rc |= put_float(b, 0, "u_max", id->u_max) | put_float(b, 0, "i_max", id->i_max);
	rc |= put_float(b, 0, "std_class", id->std_class);
	rc |= ml_json_kv_str(b, 0, "model", id->model) | ml_json_kv_str(b, 0, "serial", id->serial);
	rc |= ml_json_kv_str(b, 0, "firmware", id->firmware);
	return rc | ml_buf_putc(b, '}');
}

static int json_source(struct ml_buf *b, const struct bench_source_status *s)
{
	int rc = ml_buf_putc(b, ',') | ml_json_key(b, "source") | ml_buf_putc(b, '{');
	rc |= ml_json_kv_str(b, 1, "state", bench_src_state_name(s->state));
	rc |= ml_json_kv_int(b, 0, "fault", s->fault) |
	      ml_json_kv_int(b, 0, "applied_seq", s->applied_seq);
	rc |= ml_json_kv_int(b, 0, "heartbeat", s->heartbeat) | put_float(b, 0, "freq", s->freq);
	static const char *const un[] = { "u1", "u2", "u3" }, *const in[] = { "i1", "i2", "i3" },
				 *const pn[] = { "phi1", "phi2", "phi3" };
	for (int k = 0; k < 3; k++)
		rc |= put_float(b, 0, un[k], s->u[k]) | put_float(b, 0, in[k], s->i[k]) |
		      put_float(b, 0, pn[k], s->phi[k]);
	rc |= put_float(b, 0, "p_total", s->p_total) | put_float(b, 0, "q_total", s->q_total);
	return rc | ml_buf_putc(b, '}');
}

static int json_position(struct ml_buf *b, int p, const struct bench_position_status *s)
{
	int rc = ml_buf_puts(b, p ? ",{" : "{");
	rc |= ml_json_kv_int(b, 1, "position", p + 1);
	rc |= ml_json_kv_bool(b, 0, "present", s->present);
	rc |= ml_json_kv_str(b, 0, "state", bench_pos_state_name(s->state));
	rc |= ml_json_kv_int(b, 0, "reading_seq", s->reading_seq);
	rc |= ml_json_kv_str(b, 0, "result", bench_result_name(s->result));
	rc |= put_dec4(b, 0, "value", s->value_e4) | put_dec4(b, 0, "value2", s->value2_e4);
	rc |= ml_json_kv_int(b, 0, "pulses", s->pulses) | put_float(b, 0, "elapsed", s->elapsed);
	rc |= put_float(b, 0, "register_kwh", s->register_kwh);
	rc |= ml_json_kv_bool(b, 0, "meter_comm", s->meter_comm);
	return rc | ml_buf_putc(b, '}');
}

static int text_probe(struct ml_buf *b, struct bench *bn, const struct bench_identity *id,
		      const struct bench_source_status *s, const struct bench_position_status *ps)
{
	char caps[80];
	caps_text(id->capabilities, caps, sizeof(caps));
	int rc = ml_buf_printf(b, "bench %s (%s)\n", bench_name(bn), bench_backend_name(bn));
	rc |= ml_buf_printf(
		b, "  protocol %u.%u, %s bench, %u positions, %u phase%s, capabilities %s\n",
		id->proto_major, id->proto_minor,
		id->device_class == BENCH_CLASS_TRANSFORMER ? "instrument-transformer" : "meter",
		id->positions, id->phases, id->phases == 1 ? "" : "s", caps);
	rc |= ml_buf_printf(b, "  model %s, serial %s, firmware %s\n", id->model, id->serial,
			    id->firmware);
	rc |= ml_buf_printf(b, "  u_max %g V, i_max %g A, reference standard class %g\n", id->u_max,
			    id->i_max, id->std_class);
	rc |= ml_buf_printf(b, "source: %s (fault %u), applied_seq %u, heartbeat %u\n",
			    bench_src_state_name(s->state), s->fault, s->applied_seq, s->heartbeat);
	rc |= ml_buf_printf(
		b,
		"  f %.3f Hz  U %.3f/%.3f/%.3f V  I %.4f/%.4f/%.4f A  phi %.2f/%.2f/%.2f  P %.2f W  Q %.2f var\n",
		s->freq, s->u[0], s->u[1], s->u[2], s->i[0], s->i[1], s->i[2], s->phi[0], s->phi[1],
		s->phi[2], s->p_total, s->q_total);
	rc |= ml_buf_puts(
		b,
		"pos present state    seq result     value      value2     pulses  elapsed   register_kwh comm\n");
	for (int p = 0; p < id->positions; p++) {
		const struct bench_position_status *q = &ps[p];
		char v[24], v2[24];
		bcodec_dec4_format(q->value_e4, v, sizeof(v));
		bcodec_dec4_format(q->value2_e4, v2, sizeof(v2));
		rc |= ml_buf_printf(b, "%3d %-7s %-8s %5u %-10s %-10s %-10s %7u %8.1f %14.3f %s\n",
				    p + 1, q->present ? "yes" : "no",
				    bench_pos_state_name(q->state), q->reading_seq,
				    bench_result_name(q->result), v, v2, q->pulses, q->elapsed,
				    q->register_kwh, q->meter_comm ? "yes" : "no");
	}
	return rc;
}

static int probe_usage(void)
{
	puts("usage: meterlab bench probe HOST[:PORT] | tcp://HOST:PORT | rtu:DEVICE?baud=N&unit=N\n"
	     "                           [--timeout MS] [--json]\n\n"
	     "Read a bench's identity, source status and every position's status over Modbus\n"
	     "(bench protocol v1). Default TCP port 502. Exit 7 when the bench cannot be reached.");
	return CLI_OK;
}

static int bench_probe(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv))
		return probe_usage();
	const char *uri = NULL;
	struct bench_options opt = { 0 };
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		long long ms;
		if (cli_take_opt(argc, argv, &i, "--timeout", &v)) {
			int rc = cli_parse_ll("--timeout", v, 1, 600000, &ms);
			if (rc)
				return rc;
			opt.response_timeout_ms = opt.connect_timeout_ms = (int)ms;
		} else if (argv[i][0] == '-' || uri) {
			return cli_usage(
				"unexpected argument '%s' (see 'meterlab bench probe --help')",
				argv[i]);
		} else {
			uri = argv[i];
		}
	}
	if (!uri)
		return cli_usage("bench probe needs HOST[:PORT]");
	struct ml_error err = ML_ERROR_INIT;
	struct bench *bn = NULL;
	struct bench_identity id;
	struct bench_source_status src;
	struct bench_position_status ps[96];
	int rc = bench_open(uri, &opt, &bn, &err);
	if (!rc)
		rc = bench_identify(bn, &id, &err);
	if (!rc)
		rc = bench_read_source(bn, &src, &err);
	if (!rc)
		rc = bench_read_positions(bn, 0, id.positions, ps, &err);
	if (rc) {
		bench_close(bn);
		return cli_fail(&err);
	}
	struct ml_buf b = ML_BUF_INIT;
	if (ctx->json) {
		rc = ml_buf_putc(&b, '{') | ml_json_kv_str(&b, 1, "uri", uri) |
		     ml_buf_putc(&b, ',');
		rc |= json_identity(&b, &id) | json_source(&b, &src);
		rc |= ml_buf_putc(&b, ',') | ml_json_key(&b, "positions") | ml_buf_putc(&b, '[');
		for (int p = 0; p < id.positions; p++)
			rc |= json_position(&b, p, &ps[p]);
		rc |= ml_buf_puts(&b, "]}");
	} else {
		rc = text_probe(&b, bn, &id, &src, ps);
	}
	bench_close(bn);
	if (rc) {
		ml_buf_free(&b);
		return CLI_INTERNAL;
	}
	rc = cli_out(&b, ctx->json);
	ml_buf_free(&b);
	return rc;
}

static int simulate_usage(void)
{
	puts("usage: meterlab bench simulate [--scenario FILE]... [--count N] [--port N] [--host ADDR]\n"
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
	     "                   devices/README.md)");
	return CLI_OK;
}

struct sim_args {
	const char *scen[64];
	int nscen, count, port;
	const char *host;
	struct benchsim_options opt;
	char faults[8][64];
	int nfaults;
};

static int parse_simulate(struct sim_args *a, int argc, char **argv)
{
	const char *count = NULL, *port = NULL, *scale = NULL, *seed = NULL, *faults[8], *pos[1];
	int nfaults = 0, npos;
	a->count = 1;
	a->host = "127.0.0.1";
	const struct cli_opt opts[] = {
		CLI_LIST("scenario", a->scen, &a->nscen, 64),
		CLI_OPT("count", &count),
		CLI_OPT("port", &port),
		CLI_OPT("host", &a->host),
		CLI_OPT("time-scale", &scale),
		CLI_OPT("seed", &seed),
		CLI_LIST("fault", faults, &nfaults, 8),
		CLI_OPT_END,
	};
	int rc = cli_parse_opts(argc, argv, opts, pos, 1, &npos);
	if (!rc && npos)
		rc = cli_usage("unexpected argument '%s' (see 'meterlab bench simulate --help')",
			       pos[0]);
	long long n = 1;
	if (!rc && count && !(rc = cli_parse_ll("--count", count, 1, MAX_SIMS, &n)))
		a->count = (int)n;
	if (!rc && port && !(rc = cli_parse_ll("--port", port, 0, 65535, &n)))
		a->port = (int)n;
	if (!rc && seed && !(rc = cli_parse_ll("--seed", seed, 0, 0x7fffffffL, &n))) {
		a->opt.seed = (uint64_t)n;
		a->opt.have_seed = 1;
	}
	char *end = NULL;
	if (!rc && scale &&
	    !((a->opt.time_scale = strtod(scale, &end)) > 0 && !*end && a->opt.time_scale <= 1e6))
		rc = cli_usage("--time-scale '%s' is not a number in (0, 1e6]", scale);
	for (int f = 0; f < nfaults && !rc; f++) {
		if (!strchr(faults[f], '='))
			rc = cli_usage("--fault '%s' is not KEY=VALUE", faults[f]);
		else
			snprintf(a->faults[a->nfaults++], sizeof(a->faults[0]), "%s", faults[f]);
	}
	return rc;
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
		snprintf(kv, sizeof(kv), "%s", a->faults[f]);
		char *eq = strchr(kv, '=');
		*eq = '\0';
		len += (size_t)snprintf(text + len, sizeof(text) - len, "fault %s %s\n", kv,
					eq + 1);
	}
	struct benchsim_scenario *tmp = NULL;
	rc = benchsim_scenario_parse(text, "--fault", &tmp, err);
	if (!rc)
		rc = benchsim_scenario_apply_faults(*sc, tmp);
	benchsim_scenario_free(tmp);
	if (rc) {
		benchsim_scenario_free(*sc);
		*sc = NULL;
	}
	return rc;
}

static int start_all(struct cli_ctx *ctx, const struct sim_args *a, struct benchsim **sims,
		     int *nsims)
{
	struct ml_error err = ML_ERROR_INIT;
	int nsc = a->nscen ? a->nscen : 1, port = a->port;
	for (int k = 0; k < nsc; k++) {
		struct benchsim_scenario *sc = NULL;
		if (load_scenario(a, k, &sc, &err))
			return cli_fail(&err);
		for (int c = 0; c < a->count; c++) {
			struct benchsim_options o = a->opt;
			o.host = a->host;
			o.port = port ? port++ : 0;
			if (*nsims >= MAX_SIMS || benchsim_start(sc, &o, &sims[*nsims], &err)) {
				benchsim_scenario_free(sc);
				if (*nsims >= MAX_SIMS)
					return cli_usage("at most %d benches per process",
							 MAX_SIMS);
				return cli_fail(&err);
			}
			int pt = benchsim_port(sims[(*nsims)++]);
			if (ctx->json)
				printf("{\"listening\":\"%s:%d\",\"scenario\":\"%s\",\"positions\":%d}\n",
				       a->host, pt, benchsim_scenario_name(sc),
				       benchsim_scenario_positions(sc));
			else
				printf("listening on %s:%d\n", a->host, pt);
		}
		benchsim_scenario_free(sc);
	}
	return fflush(stdout) ? CLI_INTERNAL : CLI_OK;
}

static int bench_simulate(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv))
		return simulate_usage();
	struct sim_args a = { 0 };
	int rc = parse_simulate(&a, argc, argv);
	if (rc)
		return rc;
	/* Block the signals in every thread; the main thread collects them with sigwait. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	static struct benchsim *sims[MAX_SIMS];
	int nsims = 0;
	rc = start_all(ctx, &a, sims, &nsims);
	if (!rc) {
		int sig = 0;
		sigwait(&set, &sig);
	}
	for (int i = 0; i < nsims; i++)
		benchsim_stop(sims[i]);
	return rc;
}

static int fault_usage(void)
{
	puts("usage: meterlab bench fault HOST[:PORT] [KEY=VALUE]... [--json]\n\n"
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
	     "With no KEY=VALUE only prints the current switches.");
	return CLI_OK;
}

static int print_faults(struct cli_ctx *ctx, const char *addr, const struct benchsim_faults *f,
			uint32_t requests, uint16_t clients)
{
	struct ml_buf b = ML_BUF_INIT;
	int rc;
	if (ctx->json) {
		rc = ml_buf_putc(&b, '{') | ml_json_kv_str(&b, 1, "simulator", addr);
		rc |= ml_json_kv_int(&b, 0, "delay_ms", f->delay_ms) |
		      ml_json_kv_int(&b, 0, "delay_count", f->delay_count);
		rc |= ml_json_kv_int(&b, 0, "exception", f->exception);
		rc |= ml_json_kv_int(&b, 0, "exception_count", f->exception_count);
		rc |= ml_json_kv_int(&b, 0, "freeze_heartbeat", f->freeze_heartbeat);
		rc |= ml_json_kv_int(&b, 0, "drop_after", f->drop_after) |
		      ml_json_kv_int(&b, 0, "down_ms", f->down_ms);
		rc |= ml_json_kv_int(&b, 0, "requests", requests) |
		      ml_json_kv_int(&b, 0, "clients", clients);
		rc |= ml_buf_putc(&b, '}');
	} else {
		rc = ml_buf_printf(
			&b,
			"simulator %s: delay_ms %u delay_count %u exception %u exception_count %u "
			"freeze_heartbeat %u drop_after %u down_ms %u; %lu requests, %u clients",
			addr, f->delay_ms, f->delay_count, f->exception, f->exception_count,
			f->freeze_heartbeat, f->drop_after, f->down_ms, (unsigned long)requests,
			clients);
	}
	return cli_finish(&b, rc, 1);
}

static int bench_fault(struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv))
		return fault_usage();
	if (argc < 2 || argv[1][0] == '-')
		return cli_usage(
			"bench fault needs HOST[:PORT] (see 'meterlab bench fault --help')");
	struct ml_error err = ML_ERROR_INIT;
	/* Validate every switch before changing any. */
	for (int i = 2; i < argc; i++) {
		char key[32];
		const char *eq = strchr(argv[i], '=');
		long long v;
		size_t kl = eq ? (size_t)(eq - argv[i]) : 0;
		if (!eq || kl >= sizeof(key) || cli_strtoll(eq + 1, 0, 65535, &v))
			return cli_usage("bad switch '%s' (expected KEY=0..65535)", argv[i]);
		memcpy(key, argv[i], kl);
		key[kl] = '\0';
		if (benchsim_control_register(key) < 0) {
			ml_errorf(&err, ML_EINVAL,
				  "unknown fault '%s' (see 'meterlab bench fault --help')", key);
			return cli_fail(&err);
		}
	}
	for (int i = 2; i < argc; i++) {
		char key[32];
		const char *eq = strchr(argv[i], '=');
		size_t kl = (size_t)(eq - argv[i]);
		memcpy(key, argv[i], kl);
		key[kl] = '\0';
		if (benchsim_remote_set(argv[1], key, (uint16_t)strtol(eq + 1, NULL, 10), &err))
			return cli_fail(&err);
	}
	struct benchsim_faults f;
	uint32_t requests = 0;
	uint16_t clients = 0;
	if (benchsim_remote_get(argv[1], &f, &requests, &clients, &err))
		return cli_fail(&err);
	return print_faults(ctx, argv[1], &f, requests, clients);
}

int cmd_bench(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd table[] = {
		{ "probe", bench_probe, "read a bench's identity, source and position status" },
		{ "simulate", bench_simulate, "run simulated benches as Modbus TCP servers" },
		{ "fault", bench_fault,
		  "switch faults of a running simulator (late replies, drops, ...)" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(ctx, "bench", "Verification benches over Modbus (bench protocol v1).",
			    table, argc, argv);
}
