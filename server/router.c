/*
 * router.c — matching a request's method and path against the route table
 * (server/routes.c). Patterns are literal segments and {name} segments; a
 * {name} matches exactly one non-empty segment. Paths arrive raw (still
 * percent-encoded: the daemon's unescaping is switched off, see http.c), so
 * an encoded '/' inside a parameter stays inside it.
 */
#include <string.h>

#include "server/srv.h"

/* Next segment of p (after a '/'): start and length; returns the rest or NULL at the end. */
static const char *next_seg(const char *p, const char **s, size_t *len)
{
	if (*p != '/')
		return NULL;
	p++;
	const char *e = strchr(p, '/');
	*s = p;
	*len = e ? (size_t)(e - p) : strlen(p);
	return p + *len;
}

/* 1 when path matches pattern (segment by segment). */
static int path_matches(const char *pattern, const char *path)
{
	const char *pp = pattern, *qp = path;
	for (;;) {
		const char *ps, *qs;
		size_t pl, ql;
		const char *pn = next_seg(pp, &ps, &pl), *qn = next_seg(qp, &qs, &ql);
		if (!pn || !qn)
			return !pn && !qn;
		if (ps[0] == '{') {
			if (ql == 0)
				return 0;
		} else if (pl != ql || strncmp(ps, qs, pl)) {
			return 0;
		}
		pp = pn;
		qp = qn;
	}
}

int router_match(const char *method, const char *path, char allow[64])
{
	allow[0] = '\0';
	int any = 0;
	/* HEAD is GET without the body (the daemon leaves the body out). */
	const char *m = !strcmp(method, "HEAD") ? "GET" : method;
	for (size_t i = 0; i < srv_nroutes; i++) {
		const struct route *r = &srv_routes[i];
		if (!path_matches(r->pattern, path))
			continue;
		if (!strcmp(r->method, m))
			return (int)i;
		if (!strstr(allow, r->method) && strlen(allow) + strlen(r->method) + 7 < 64) {
			if (allow[0])
				strcat(allow, ", ");
			strcat(allow, r->method);
			if (!strcmp(r->method, "GET"))
				strcat(allow, ", HEAD");
		}
		any = 1;
	}
	return any ? -2 : -1;
}
