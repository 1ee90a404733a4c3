/*
 * h_scheme.c — verification schemes over the API (issue 12, "scheme writes
 * over the API"): list and show, and the writes of `meterlab scheme
 * import|activate|retire` through the same library calls (lab/scheme.h):
 * a scheme's text is parsed by scheme_parse_text and saved by
 * scheme_db_save as a new, inactive version (a new code is version 1, an
 * existing code's next version is its revision); scheme_db_activate makes
 * a version the one new runs use; scheme_db_retire retires every version.
 * The database checks the permissions (scheme.edit, scheme.activate) for
 * the person and refuses a step looser than the regulation (0112).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "lab/scheme.h"
#include "server/srv.h"

int h_scheme_list(struct req *rq, struct ml_error *err)
{
	struct scheme_summary *v = NULL;
	size_t n = 0;
	int rc = scheme_db_list(rq->db, &v, &n, err);
	if (rc)
		return rc;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			a,
			json_pack("{s:s, s:i, s:o, s:s, s:s, s:s, s:s, s:i}", "code", v[i].code,
				  "version", v[i].version, "active_version",
				  v[i].active_version ? json_integer(v[i].active_version)
						      : json_null(),
				  "name", v[i].name, "kinds", v[i].kinds, "classes", v[i].classes,
				  "connection", v[i].connection, "steps", v[i].nsteps));
	free(v);
	req_json(rq, 200, json_pack("{s:o}", "items", a));
	return ML_OK;
}

/* GET /api/schemes/{code}[?version=N]: the active version (or version N) as
 * the text `meterlab scheme export` writes and import reads. */
int h_scheme_get(struct req *rq, struct ml_error *err)
{
	const char *ver = req_query(rq, "version");
	struct scheme *s = NULL;
	int rc = ver ? scheme_db_load_version(rq->db, req_seg(rq, 0), atoi(ver), &s, err)
		     : scheme_db_load(rq->db, req_seg(rq, 0), &s, err);
	if (rc)
		return rc;
	struct ml_buf b = ML_BUF_INIT;
	rc = scheme_format_text(s, &b, err);
	if (!rc)
		req_json(rq, 200,
			 json_pack("{s:s, s:i, s:s, s:I, s:s}", "code", s->code, "version",
				   s->version, "name", s->name, "steps", (json_int_t)s->nsteps,
				   "text", ml_buf_str(&b)));
	ml_buf_free(&b);
	scheme_free(s);
	return rc;
}

/* POST /api/schemes {text, code?}: save a scheme (new, or the next version
 * of its code), inactive until activated — `meterlab scheme import`. */
int h_scheme_save(struct req *rq, struct ml_error *err)
{
	const char *text = json_string_value(json_object_get(rq->in, "text"));
	const char *code = json_string_value(json_object_get(rq->in, "code"));
	struct scheme *s = NULL;
	int rc = scheme_parse_text(text, &s, err);
	if (!rc && code) {
		if (strlen(code) >= sizeof s->code)
			rc = ml_errorf(err, ML_EINVAL,
				       "code '%.40s…' is longer than %zu characters", code,
				       sizeof s->code - 1);
		else
			snprintf(s->code, sizeof s->code, "%s", code);
	}
	if (!rc)
		rc = scheme_db_save(rq->db, s, err);
	if (!rc)
		req_json(rq, 201,
			 json_pack("{s:s, s:i, s:I, s:b}", "code", s->code, "version", s->version,
				   "steps", (json_int_t)s->nsteps, "active", 0));
	scheme_free(s);
	return rc;
}

/* POST /api/schemes/{code}/activate {version?}: the version new runs use
 * (default the latest) — `meterlab scheme activate`. */
int h_scheme_activate(struct req *rq, struct ml_error *err)
{
	json_t *v = json_object_get(rq->in, "version");
	int activated = 0;
	int rc = scheme_db_activate(rq->db, req_seg(rq, 0), v ? (int)json_integer_value(v) : 0,
				    &activated, err);
	if (rc)
		return rc;
	req_json(rq, 200,
		 json_pack("{s:s, s:i}", "code", req_seg(rq, 0), "active_version", activated));
	return ML_OK;
}

/* POST /api/schemes/{code}/retire {}: no version is used by new runs any
 * more (versions stay: runs name theirs) — `meterlab scheme retire`. */
int h_scheme_retire(struct req *rq, struct ml_error *err)
{
	int rc = scheme_db_retire(rq->db, req_seg(rq, 0), err);
	if (rc)
		return rc;
	req_json(rq, 200, json_pack("{s:s}", "retired", req_seg(rq, 0)));
	return ML_OK;
}
