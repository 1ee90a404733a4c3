/*
 * bench_cert.c — certificate PDF rendering throughput and size.
 *
 * In one run, single-threaded, on the same N realistic certificates
 * (reports/render_sample.c: meter certificates, result notices and CT
 * certificates with varying names, numbers and readings):
 *   1. meterlab's renderer (per-document TrueType subset),
 *   2. the naive libharu path (whole wqy-zenhei face handed to libharu),
 *      on fewer documents because it is ~20x slower,
 *   3. bench/cert_reportlab.py: the same content, same font, rendered by
 *      ReportLab (python3-reportlab) — the usual alternative.
 * Each is repeated R times; the medians are reported, with the ratios.
 * Rates are given per wall-clock second and per CPU second of this process
 * (the machine is shared; CPU time is the fairer per-core figure).
 *
 * Usage: bench_cert [-n N] [-r RUNS] [-b NAIVE_N] [--no-naive] [--no-reportlab]
 *                   [--reportlab PATH] [--keep DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"
#include "common/json.h"
#include "reports/cert_doc.h"
#include "reports/render_sample.h"

struct opts {
	int n, runs, naive_n, naive, reportlab;
	const char *script, *keep;
};

struct result {
	double rate, cpu_rate, med_kb, max_kb;
	int ok;
};

static double now(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static enum cert_sample_kind kind_of(int i)
{
	static const enum cert_sample_kind k[] = { CERT_SAMPLE_METER, CERT_SAMPLE_METER,
						   CERT_SAMPLE_METER_NOTICE, CERT_SAMPLE_CT };
	return k[i % 4];
}

/* Render n samples `runs` times; sizes from the first run. */
static struct result bench_renderer(const struct cert_sample *s, int n, int runs, int full_font,
				    const char *keep)
{
	struct result res = { 0 };
	struct cert_render_opts o = { NULL, 0, full_font };
	struct cert_renderer *r = NULL;
	struct ml_error err = ML_ERROR_INIT;
	double *rate = calloc((size_t)runs, sizeof *rate), *cpu = calloc((size_t)runs, sizeof *cpu);
	double *kb = calloc((size_t)n, sizeof *kb);
	struct ml_buf b = ML_BUF_INIT;
	if (!rate || !cpu || !kb || cert_renderer_new(&o, &r, &err)) {
		fprintf(stderr, "bench_cert: %s\n", err.msg);
		goto out;
	}
	for (int run = 0; run < runs; run++) {
		double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
		for (int i = 0; i < n; i++) {
			ml_buf_reset(&b);
			if (cert_render(r, &s[i].doc, &b, &err)) {
				fprintf(stderr, "bench_cert: %s\n", err.msg);
				goto out;
			}
			if (run == 0)
				kb[i] = (double)b.len / 1024.0;
			if (run == 0 && keep && i < 4) {
				char p[512];
				snprintf(p, sizeof p, "%s/%s-%d.pdf", keep,
					 full_font ? "naive" : "meterlab", i);
				FILE *f = fopen(p, "wb");
				if (f && fwrite(b.data, 1, b.len, f) != b.len)
					fprintf(stderr, "bench_cert: short write %s\n", p);
				if (f)
					fclose(f);
			}
		}
		rate[run] = n / (now(CLOCK_MONOTONIC) - w0);
		cpu[run] = n / (now(CLOCK_PROCESS_CPUTIME_ID) - c0);
	}
	res.rate = median(rate, runs);
	res.cpu_rate = median(cpu, runs);
	res.med_kb = median(kb, n); /* sorts kb: max is last */
	res.max_kb = kb[n - 1];
	res.ok = 1;
	if (!full_font) {
		unsigned long hits = 0, made = 0;
		cert_renderer_font_stats(r, &hits, &made);
		printf("  (font program from the renderer's cache %lu times, made %lu times)\n",
		       hits, made);
	}
out:
	ml_buf_free(&b);
	cert_renderer_free(r);
	free(rate);
	free(cpu);
	free(kb);
	return res;
}

/* ---- ReportLab comparison --------------------------------------------- */

static int json_doc(struct ml_buf *j, const struct cert_doc *d)
{
	int rc = ml_buf_putc(j, '{');
	rc = rc || ml_json_kv_int(j, 1, "kind", d->kind) ||
	     ml_json_kv_str(j, 0, "cert_no", d->cert_no);
	rc = rc || ml_json_kv_int(j, 0, "revision", d->revision) ||
	     ml_json_kv_str(j, 0, "supersedes", d->supersedes);
	rc = rc || ml_json_kv_str(j, 0, "record_no", d->record_no) ||
	     ml_json_kv_str(j, 0, "issuer", d->issuer.name);
	rc = rc || ml_json_kv_str(j, 0, "authorization_no", d->issuer.authorization_no);
	rc = rc || ml_json_kv_str(j, 0, "address", d->issuer.address) ||
	     ml_json_kv_str(j, 0, "postcode", d->issuer.postcode);
	rc = rc || ml_json_kv_str(j, 0, "phone", d->issuer.phone) ||
	     ml_json_kv_str(j, 0, "fax", d->issuer.fax);
	rc = rc || ml_json_kv_str(j, 0, "email", d->issuer.email) ||
	     ml_json_kv_str(j, 0, "client", d->client);
	rc = rc || ml_json_kv_str(j, 0, "instrument", d->instrument) ||
	     ml_json_kv_str(j, 0, "model", d->model);
	rc = rc || ml_json_kv_str(j, 0, "spec", d->spec) ||
	     ml_json_kv_str(j, 0, "barcode", d->barcode);
	rc = rc || ml_json_kv_str(j, 0, "manufacturer", d->manufacturer) ||
	     ml_json_kv_str(j, 0, "regulation", d->regulation);
	rc = rc || ml_json_kv_str(j, 0, "accuracy_class", d->accuracy_class) ||
	     ml_json_kv_str(j, 0, "conclusion", d->conclusion);
	rc = rc || ml_json_kv_str(j, 0, "verifier", d->verifier) ||
	     ml_json_kv_str(j, 0, "checker", d->checker);
	rc = rc || ml_json_kv_str(j, 0, "approver", d->approver) ||
	     ml_json_kv_str(j, 0, "verified_on", d->verified_on);
	rc = rc || ml_json_kv_str(j, 0, "valid_until", d->valid_until) ||
	     ml_json_kv_str(j, 0, "issued_on", d->issued_on);
	rc = rc || ml_json_kv_str(j, 0, "place", d->place) ||
	     ml_json_kv_str(j, 0, "temperature", d->temperature);
	rc = rc || ml_json_kv_str(j, 0, "humidity", d->humidity) ||
	     ml_json_kv_str(j, 0, "verify_code", d->verify_code);
	rc = rc || ml_json_kv_str(j, 0, "qr_payload", d->qr_payload) ||
	     ml_buf_puts(j, ",\"standards\":[");
	for (size_t i = 0; i < d->n_standards && !rc; i++) {
		const struct cert_standard *s = &d->standards[i];
		rc = ml_buf_puts(j, i ? ",[" : "[") || ml_json_str(j, s->name) ||
		     ml_buf_putc(j, ',') || ml_json_str(j, s->range);
		rc = rc || ml_buf_putc(j, ',') || ml_json_str(j, s->accuracy) ||
		     ml_buf_putc(j, ',') || ml_json_str(j, s->cert_no);
		rc = rc || ml_buf_putc(j, ',') || ml_json_str(j, s->valid_until) ||
		     ml_buf_putc(j, ']');
	}
	rc = rc || ml_buf_puts(j, "],\"items\":[");
	for (size_t i = 0; i < d->n_items && !rc; i++) {
		const struct cert_item *it = &d->items[i];
		rc = ml_buf_puts(j, i ? ",[" : "[") || ml_json_str(j, it->name) ||
		     ml_buf_putc(j, ',');
		rc = rc || ml_json_str(j, it->conclusion) || ml_buf_putc(j, ',') ||
		     ml_json_str(j, it->detail) || ml_buf_putc(j, ']');
	}
	rc = rc || ml_buf_puts(j, "],\"errors\":[");
	for (size_t i = 0; i < d->n_errors && !rc; i++) {
		const struct cert_error_row *e = &d->errors[i];
		const char *f[9] = { e->load, e->current, e->pf,    e->element, e->readings,
				     e->mean, e->rounded, e->limit, e->verdict };
		rc = ml_buf_puts(j, i ? ",[" : "[");
		for (int k = 0; k < 9 && !rc; k++)
			rc = (k && ml_buf_putc(j, ',')) || ml_json_str(j, f[k]);
		rc = rc || ml_buf_putc(j, ']');
	}
	rc = rc || ml_buf_puts(j, "],\"xfmr\":[");
	for (size_t i = 0; i < d->n_xfmr && !rc; i++) {
		const struct cert_xfmr_row *e = &d->xfmr[i];
		const char *f[7] = { e->percent,     e->burden,      e->ratio_error, e->phase,
				     e->ratio_limit, e->phase_limit, e->verdict };
		rc = ml_buf_puts(j, i ? ",[" : "[");
		for (int k = 0; k < 7 && !rc; k++)
			rc = (k && ml_buf_putc(j, ',')) || ml_json_str(j, f[k]);
		rc = rc || ml_buf_putc(j, ']');
	}
	return rc || ml_buf_puts(j, "]}");
}

static struct result bench_reportlab(const struct cert_sample *s, const struct opts *o)
{
	struct result res = { 0 };
	char path[] = "/tmp/bench_cert_XXXXXX";
	int fd = mkstemp(path);
	struct ml_buf j = ML_BUF_INIT;
	int rc = fd < 0 || ml_buf_putc(&j, '[');
	for (int i = 0; i < o->n && !rc; i++)
		rc = (i && ml_buf_putc(&j, ',')) || json_doc(&j, &s[i].doc);
	rc = rc || ml_buf_putc(&j, ']') || write(fd, j.data, j.len) != (ssize_t)j.len;
	if (fd >= 0)
		close(fd);
	ml_buf_free(&j);
	if (rc) {
		fprintf(stderr, "bench_cert: cannot write the ReportLab input\n");
		goto out;
	}
	char cmd[1024], line[512];
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' %d '%s'", o->script, path, o->runs,
		 o->keep ? o->keep : "");
	FILE *p = popen(cmd, "r");
	while (p && fgets(line, sizeof line, p))
		if (sscanf(line, "RESULT rate=%lf cpu_rate=%lf median_kb=%lf max_kb=%lf", &res.rate,
			   &res.cpu_rate, &res.med_kb, &res.max_kb) == 4)
			res.ok = 1;
	if (!p || pclose(p) != 0)
		res.ok = 0;
out:
	unlink(path);
	return res;
}

static void print_result(const char *name, int n, const struct result *r)
{
	if (!r->ok) {
		printf("%-30s failed or skipped\n", name);
		return;
	}
	printf("%-30s %5d docs  %8.1f docs/s (wall)  %8.1f docs/CPU-s  size median %6.1f KB  max %6.1f KB\n",
	       name, n, r->rate, r->cpu_rate, r->med_kb, r->max_kb);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static char script[1024];
	const char *src = __FILE__;
	const char *slash = strrchr(src, '/');
	snprintf(script, sizeof script, "%.*scert_reportlab.py", slash ? (int)(slash - src + 1) : 0,
		 src);
	*o = (struct opts){
		.n = 500, .runs = 5, .naive_n = 20, .naive = 1, .reportlab = 1, .script = script
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-n") && v)
			o->n = atoi(argv[++i]);
		else if (!strcmp(a, "-r") && v)
			o->runs = atoi(argv[++i]);
		else if (!strcmp(a, "-b") && v)
			o->naive_n = atoi(argv[++i]);
		else if (!strcmp(a, "--reportlab") && v)
			o->script = argv[++i];
		else if (!strcmp(a, "--keep") && v)
			o->keep = argv[++i];
		else if (!strcmp(a, "--no-naive"))
			o->naive = 0;
		else if (!strcmp(a, "--no-reportlab"))
			o->reportlab = 0;
		else {
			fprintf(stderr,
				"usage: %s [-n N] [-r RUNS] [-b NAIVE_N] [--no-naive] [--no-reportlab] "
				"[--reportlab PATH] [--keep DIR]\n",
				argv[0]);
			exit(2);
		}
	}
	if (o->n < 1 || o->runs < 1 || o->naive_n < 1)
		exit(2);
	if (o->naive_n > o->n)
		o->naive_n = o->n;
}

int main(int argc, char **argv)
{
	struct opts o;
	parse_args(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF,
		0); /* results appear as each path finishes, also when piped */
	struct cert_sample *s = calloc((size_t)o.n, sizeof *s);
	if (!s)
		return 1;
	for (int i = 0; i < o.n; i++)
		cert_sample_fill(&s[i], kind_of(i), (unsigned)i);
	printf("bench_cert: %d certificates (meter certificate/notice, CT), %d runs, medians; single thread\n",
	       o.n, o.runs);
	struct result sub = bench_renderer(s, o.n, o.runs, 0, o.keep);
	print_result("meterlab (libharu + subset)", o.n, &sub);
	struct result naive = { 0 }, rl = { 0 };
	if (o.naive) {
		naive = bench_renderer(s, o.naive_n, o.runs < 3 ? o.runs : 3, 1, o.keep);
		print_result("naive libharu (whole font)", o.naive_n, &naive);
	}
	if (o.reportlab) {
		rl = bench_reportlab(s, &o);
		print_result("ReportLab (python3-reportlab)", o.n, &rl);
	}
	if (sub.ok && naive.ok)
		printf("ratio meterlab/naive:     %.1fx docs/s (wall), %.1fx docs/CPU-s, size %.2fx\n",
		       sub.rate / naive.rate, sub.cpu_rate / naive.cpu_rate,
		       sub.med_kb / naive.med_kb);
	if (sub.ok && rl.ok)
		printf("ratio meterlab/ReportLab: %.1fx docs/s (wall), %.1fx docs/CPU-s, size %.2fx\n",
		       sub.rate / rl.rate, sub.cpu_rate / rl.cpu_rate, sub.med_kb / rl.med_kb);
	free(s);
	return sub.ok ? 0 : 1;
}
