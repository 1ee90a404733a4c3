/*
 * static.c — the web pages (web/, issue 13) served by `meterlab serve`.
 *
 * Only GET and HEAD, only files under the web root, only the file types of
 * the table below (anything else is a 404: the server never guesses a type,
 * and X-Content-Type-Options: nosniff stops the browser from guessing one).
 * A path is refused before the file system sees it when it holds a NUL or
 * control character, a backslash, a malformed %-escape, an empty, "." or
 * ".." segment or one starting with a dot; what remains is resolved with
 * realpath() and must still lie under the (resolved) web root, so a symlink
 * that leads out of it is refused as well (404, no hint of what exists).
 *
 * Caching: every answer carries a strong ETag (size and modification time)
 * and "Cache-Control: no-cache", so a browser revalidates and gets a 304
 * without the body; there is no build step that could stamp file names
 * with hashes, and a changed file must be seen at once. The field pages'
 * service worker keeps its own copies for offline use (web/field/sw.js).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/srv.h"

#define STATIC_MAX_FILE (8u << 20) /* a page's file larger than this is not ours */

static const struct {
	const char *ext, *type;
} mime[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".webmanifest", "application/manifest+json; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".wav", "audio/wav" },
};

/* Content-Security-Policy of every page: nothing from elsewhere, no inline script. */
static const char page_csp[] = "default-src 'self'; img-src 'self' data: blob:; "
			       "style-src 'self'; script-src 'self'; connect-src 'self'; "
			       "frame-src 'self'; object-src 'self'; media-src 'self' data:; "
			       "manifest-src 'self'; worker-src 'self'; base-uri 'none'; "
			       "form-action 'self'; frame-ancestors 'self'";

const char *static_mime(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	if (!dot || (slash && dot < slash))
		return NULL;
	for (size_t i = 0; i < sizeof(mime) / sizeof(mime[0]); i++)
		if (!strcmp(dot, mime[i].ext))
			return mime[i].type;
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int static_clean_path(const char *raw, char *out, size_t outsz)
{
	size_t n = 0;
	if (raw[0] != '/')
		return -1;
	for (const char *p = raw; *p; p++) {
		int c = (unsigned char)*p;
		if (c == '%') {
			int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
			if (l < 0)
				return -1;
			c = h * 16 + l;
			p += 2;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return -1;
		if (n + 1 >= outsz)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	/* "/" and "/dir/" are that directory's index.html */
	if (out[n - 1] == '/') {
		static const char idx[] = "index.html";
		if (n + sizeof(idx) > outsz)
			return -1;
		memcpy(out + n, idx, sizeof(idx));
	}
	/* every segment: non-empty, not starting with '.' (also refuses "." and "..") */
	for (const char *s = out; *s;) {
		const char *seg = s + 1, *e = strchr(seg, '/');
		if (seg[0] == '\0' || seg[0] == '/' || seg[0] == '.')
			return -1;
		s = e ? e : seg + strlen(seg);
	}
	return 0;
}

static void not_found(struct req *rq)
{
	char msg[200];
	snprintf(msg, sizeof(msg), "no such page: %.120s", rq->path);
	req_error(rq, 404, "not_found", msg, NULL);
}

int static_serve(struct req *rq)
{
	const char *root = rq->srv->web_root;
	char clean[1024], full[PATH_MAX], real[PATH_MAX];
	if (!root || static_clean_path(rq->path, clean, sizeof(clean))) {
		not_found(rq);
		return 0;
	}
	const char *type = static_mime(clean);
	size_t rl = strlen(root);
	if (!type || snprintf(full, sizeof(full), "%s%s", root, clean) >= (int)sizeof(full) ||
	    !realpath(full, real) || strncmp(real, root, rl) || real[rl] != '/') {
		not_found(rq);
		return 0;
	}
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size > STATIC_MAX_FILE) {
		if (fd >= 0)
			close(fd);
		not_found(rq);
		return 0;
	}
	char etag[64];
	snprintf(etag, sizeof(etag), "\"%llx-%llx-%lx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec);
	req_header(rq, "ETag", etag);
	req_header(rq, "Cache-Control", "no-cache");
	if (!strncmp(type, "text/html", 9))
		req_header(rq, "Content-Security-Policy", page_csp);
	const char *inm = req_hdr(rq, "If-None-Match");
	if (inm && strstr(inm, etag)) {
		close(fd);
		if (req_raw(rq, 304, type, "", 0))
			req_error(rq, 503, "unavailable", "out of memory", NULL);
		return 0;
	}
	size_t len = (size_t)st.st_size, got = 0;
	char *buf = malloc(len ? len : 1);
	while (buf && got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!buf || got != len) {
		free(buf);
		req_error(rq, 503, "unavailable", "the file could not be read", NULL);
		return 0;
	}
	if (req_raw(rq, 200, type, buf, len))
		req_error(rq, 503, "unavailable", "out of memory", NULL);
	free(buf);
	return 0;
}
