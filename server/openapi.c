/*
 * openapi.c — the OpenAPI 3 document of /api/openapi.json, generated from
 * the route table (routes.c): every route is documented with its
 * parameters, body fields, permission and answers, and nothing else is.
 * tests/server checks the served document against the table and the router.
 */
#include <string.h>

#include "server/srv.h"

static json_t *schema_of(const struct route_param *p)
{
	json_t *s;
	switch (p->type) {
	case PT_INT:
		s = json_pack("{s:s, s:i}", "type", "integer", "minimum", 0);
		if (p->max)
			json_object_set_new(s, "maximum", json_integer(p->max));
		break;
	case PT_BOOL:
		s = json_pack("{s:s}", "type", "boolean");
		break;
	case PT_STRINGS:
		s = json_pack("{s:s, s:{s:s}}", "type", "array", "items", "type", "string");
		if (p->max)
			json_object_set_new(s, "maxItems", json_integer(p->max));
		break;
	default:
		s = json_pack("{s:s}", "type", "string");
		if (p->max)
			json_object_set_new(s, "maxLength", json_integer(p->max));
	}
	return s;
}

static json_t *error_response(const char *desc)
{
	return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", desc, "content",
			 "application/json", "schema", "$ref", "#/components/schemas/Error");
}

/* "/api/runs/{id}" → "get_api_runs_id" */
static void operation_id(const struct route *r, char *out, size_t n)
{
	size_t o = 0;
	for (const char *m = r->method; *m && o + 1 < n; m++)
		out[o++] = (char)(*m | 0x20);
	for (const char *p = r->pattern; *p && o + 1 < n; p++) {
		char c = *p;
		if (c == '{' || c == '}')
			continue;
		out[o++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
	}
	out[o] = '\0';
}

static json_t *operation(const struct route *r)
{
	char opid[128];
	operation_id(r, opid, sizeof(opid));
	json_t *op = json_pack("{s:s, s:s, s:[s]}", "operationId", opid, "summary", r->summary,
			       "tags", r->tag);
	json_t *params = json_array();
	const struct route_param *pp = r->path;
	for (const char *s = strchr(r->pattern, '{'); s; s = strchr(s + 1, '{')) {
		const char *e = strchr(s, '}');
		json_t *p = json_pack("{s:s%, s:s, s:b}", "name", s + 1, (size_t)(e - s - 1), "in",
				      "path", "required", 1);
		if (pp && pp->name) {
			json_object_set_new(p, "description", json_string(pp->desc));
			json_object_set_new(p, "schema", schema_of(pp));
			pp++;
		} else {
			json_object_set_new(p, "schema", json_pack("{s:s}", "type", "string"));
		}
		json_array_append_new(params, p);
	}
	for (const struct route_param *q = r->query; q && q->name; q++)
		json_array_append_new(params,
				      json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", q->name, "in",
						"query", "required", q->required, "description",
						q->desc, "schema", schema_of(q)));
	if (r->flags & RF_IDEMPOTENT)
		json_array_append_new(
			params,
			json_pack("{s:s, s:s, s:b, s:s, s:{s:s, s:i, s:i}}", "name",
				  "Idempotency-Key", "in", "header", "required", 0, "description",
				  "8–128 printable ASCII characters; a retry with the same "
				  "key and request gets the first answer again "
				  "(Idempotent-Replayed: true) and changes nothing",
				  "schema", "type", "string", "minLength", 8, "maxLength", 128));
	if (r->auth == AUTH_SESSION && strcmp(r->method, "GET"))
		json_array_append_new(
			params, json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", "X-CSRF-Token",
					  "in", "header", "required", 0, "description",
					  "required when the session cookie authenticates the "
					  "request (csrf_token of login or whoami)",
					  "schema", "type", "string"));
	if (json_array_size(params))
		json_object_set_new(op, "parameters", params);
	else
		json_decref(params);
	if (r->body) {
		json_t *props = json_object(), *req = json_array();
		for (const struct route_param *b = r->body; b->name; b++) {
			json_t *s = schema_of(b);
			json_object_set_new(s, "description", json_string(b->desc));
			json_object_set_new(props, b->name, s);
			if (b->required)
				json_array_append_new(req, json_string(b->name));
		}
		json_t *schema = json_pack("{s:s, s:o, s:b}", "type", "object", "properties", props,
					   "additionalProperties", 0);
		if (json_array_size(req))
			json_object_set_new(schema, "required", req);
		else
			json_decref(req);
		json_object_set_new(op, "requestBody",
				    json_pack("{s:b, s:{s:{s:o}}}", "required", 1, "content",
					      "application/json", "schema", schema));
	}
	json_t *resp = json_object(), *ok;
	char st[8];
	snprintf(st, sizeof(st), "%d", r->ok_status);
	if (r->flags & RF_STREAM)
		ok = json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", "event stream", "content",
			       "text/event-stream", "schema", "type", "string");
	else if (r->flags & RF_RAW)
		ok = json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", "text", "content",
			       "text/plain", "schema", "type", "string");
	else {
		json_error_t je;
		json_t *schema = r->response ? json_loads(r->response, 0, &je) : NULL;
		ok = json_pack("{s:s, s:{s:{s:o}}}", "description", "success", "content",
			       "application/json", "schema", schema ? schema : json_object());
		if (r->flags & RF_HTML)
			json_object_set_new(json_object_get(ok, "content"), "text/html",
					    json_pack("{s:{s:s}}", "schema", "type", "string"));
	}
	json_object_set_new(resp, st, ok);
	json_object_set_new(resp, "400",
			    error_response("malformed request (bad JSON, wrong type, "
					   "unknown field or parameter)"));
	if (r->auth == AUTH_SESSION) {
		json_object_set_new(resp, "401",
				    error_response("not logged in, or the session ended"));
		json_object_set_new(resp, "403",
				    error_response(r->perm ? "lacks the permission, or CSRF "
							     "token missing"
							   : "refused by a rule, or CSRF "
							     "token missing"));
	}
	if (r->path)
		json_object_set_new(resp, "404", error_response("no such record"));
	if (strcmp(r->method, "GET")) {
		json_object_set_new(resp, "409", error_response("conflict with the current state"));
		json_object_set_new(resp, "413", error_response("body too large"));
		json_object_set_new(resp, "415", error_response("body is not application/json"));
	}
	json_object_set_new(resp, "422", error_response("invalid value (the message names it)"));
	if (r->fn == h_login || r->fn == h_verify || r->fn == h_password)
		json_object_set_new(resp, "429", error_response("too many attempts (Retry-After)"));
	json_object_set_new(resp, "500", error_response("server error (see the server log)"));
	json_object_set_new(resp, "503",
			    error_response("no database connection free, or "
					   "shutting down"));
	json_object_set_new(op, "responses", resp);
	if (r->auth == AUTH_SESSION)
		json_object_set_new(op, "security",
				    json_pack("[{s:[]},{s:[]}]", "cookie", "bearer"));
	else
		json_object_set_new(op, "security", json_array());
	json_object_set_new(op, "x-permission", r->perm ? json_string(r->perm) : json_null());
	json_object_set_new(op, "x-idempotent", json_boolean(r->flags & RF_IDEMPOTENT));
	json_object_set_new(op, "x-browser-session-only", json_boolean(r->flags & RF_BROWSER));
	return op;
}

json_t *openapi_document(void)
{
	json_t *paths = json_object();
	for (size_t i = 0; i < srv_nroutes; i++) {
		const struct route *r = &srv_routes[i];
		json_t *item = json_object_get(paths, r->pattern);
		if (!item) {
			item = json_object();
			json_object_set_new(paths, r->pattern, item);
		}
		char m[12];
		snprintf(m, sizeof(m), "%s", r->method);
		for (char *c = m; *c; c++)
			*c = (char)(*c | 0x20);
		json_object_set_new(item, m, operation(r));
	}
	return json_pack(
		"{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s}}, "
		"s:{s:{s:s, s:[s], s:{s:{s:s, s:[s,s,s], s:{s:{s:s}, s:{s:s}, s:{s:s}}}}}}}}",
		"openapi", "3.0.3", "info", "title", "meterlab API", "version", "1", "description",
		"Metering asset and verification lab management. Every request acts for the "
		"user whose session it carries (cookie ml_session, or Authorization: Bearer with "
		"an API token); the database checks that user's permission (x-permission) and "
		"records them. Errors always have the shape {\"error\": {\"code\", \"message\", "
		"\"details\"}}.",
		"paths", paths, "components", "securitySchemes", "cookie", "type", "apiKey", "in",
		"cookie", "name", "ml_session", "description",
		"browser session (POST /api/login); changes also need X-CSRF-Token", "bearer",
		"type", "http", "scheme", "bearer", "description",
		"API token (meterlab user token create, or POST /api/tokens)", "schemas", "Error",
		"type", "object", "required", "error", "properties", "error", "type", "object",
		"required", "code", "message", "details", "properties", "code", "type", "string",
		"message", "type", "string", "details", "type", "object");
}
