/*
 * bench_http_fixed — the yardstick of bench/http.sh: the smallest useful
 * libmicrohttpd server, answering every request with the same 60-byte JSON,
 * started with the same daemon flags and thread count as `meterlab serve`
 * (thread pool on epoll, keep-alive: the answer is queued in the second
 * call, tech-notes "keep-alive trap"). What `meterlab serve` does beyond
 * this (routing, authentication in the database, the lookup, JSON,
 * metrics, the access log) is what the ratio measures.
 *
 * usage: bench_http_fixed THREADS PORT_FILE   (listens on 127.0.0.1, port 0;
 * writes the port to PORT_FILE; runs until SIGTERM)
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char body[] = "{\"asset_id\":1,\"barcode\":\"4130001000000462000018\",\"ok\":1}";

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	static int marker;
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	if (!*con_cls) {
		*con_cls = &marker; /* first call: headers only; answer in the next */
		return MHD_YES;
	}
	*upload_size = 0;
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_http_fixed THREADS PORT_FILE\n");
		return 2;
	}
	unsigned threads = (unsigned)atoi(argv[1]);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct sockaddr_in a = { 0 };
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x7f000001);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			MHD_ALLOW_SUSPEND_RESUME,
		0, NULL, NULL, on_access, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)1024, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bench_http_fixed: cannot start\n");
		return 1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	FILE *f = fopen(argv[2], "w");
	if (!f) {
		MHD_stop_daemon(d);
		return 1;
	}
	fprintf(f, "%u\n", di ? di->port : 0);
	fclose(f);
	int sig = 0;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
