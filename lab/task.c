/* task.c — validate and create verification tasks (see task.h). */
#include "lab/task.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "assets/asset_priv.h"
#include "assets/lifecycle.h"
#include "common/buf.h"
#include "common/text.h"
#include "lab/plan.h"
#include "lab/standard.h"
#include "sql/pgarr.h"

/* At most this many problems are listed in one refusal message. */
#define TASK_MAX_LISTED 8

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t l = strlen(s);
	while (l && isspace((unsigned char)s[l - 1]))
		s[--l] = '\0';
	return s;
}

static int parse_pos(const char *s, int *out)
{
	if (!*s || strlen(s) > 3)
		return 0;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return 0;
	}
	*out = atoi(s);
	return 1;
}

static int slot_from(char *pos, char *bc, struct task_slot *slot, const char *where,
		     struct ml_error *err)
{
	pos = trim(pos);
	bc = trim(bc);
	if (!parse_pos(pos, &slot->position))
		return ml_errorf(err, ML_EINVAL, "%s: position '%s' is not a number", where, pos);
	if (!*bc)
		return ml_errorf(err, ML_EINVAL, "%s: position %s has no barcode", where, pos);
	if (strlen(bc) >= sizeof(slot->barcode))
		return ml_errorf(err, ML_EINVAL, "%s: barcode '%.30s…' is too long", where, bc);
	snprintf(slot->barcode, sizeof(slot->barcode), "%s", bc);
	return ML_OK;
}

int task_parse_slot_arg(const char *arg, struct task_slot *slot, struct ml_error *err)
{
	char tmp[96];
	/* never cut: a barcode cut after 95 characters could name another asset */
	if (strlen(arg) >= sizeof(tmp))
		return ml_errorf(err, ML_EINVAL,
				 "argument '%.40s…' is %zu characters, too long for "
				 "POSITION=BARCODE",
				 arg, strlen(arg));
	snprintf(tmp, sizeof(tmp), "%s", arg);
	char *eq = strchr(tmp, '=');
	if (!eq)
		return ml_errorf(err, ML_EINVAL, "'%s' is not POSITION=BARCODE", arg);
	*eq = '\0';
	return slot_from(tmp, eq + 1, slot, "argument", err);
}

static int parse_line(char *line, int lineno, int *seen_data, struct task_slot *slot,
		      struct ml_error *err)
{
	char *s = trim(line);
	if (!*s || *s == '#')
		return 1; /* skip */
	char *comma = strchr(s, ',');
	if (!comma) {
		ml_errorf(err, ML_EINVAL, "line %d: '%s' is not 'position,barcode'", lineno, s);
		return -1;
	}
	*comma = '\0';
	if (!*seen_data && !strcasecmp(trim(s), "position"))
		return 1; /* header */
	char where[32];
	snprintf(where, sizeof(where), "line %d", lineno);
	if (slot_from(s, comma + 1, slot, where, err))
		return -1;
	*seen_data = 1;
	return 0;
}

int task_parse_map(const char *text, struct task_slot **out, size_t *n, struct ml_error *err)
{
	*out = NULL;
	*n = 0;
	/* a spreadsheet's BOM is accepted; control characters are refused, naming the line */
	text = ml_skip_bom(text ? text : "");
	int rc0 = ml_text_file_check(text, strlen(text), "position map", err);
	if (rc0)
		return rc0;
	char *copy = strdup(text);
	struct task_slot *v = calloc(97, sizeof(*v));
	if (!copy || !v) {
		free(copy);
		free(v);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	size_t cnt = 0;
	int lineno = 0, seen = 0, rc = ML_OK;
	char *save = NULL;
	/* strtok_r would skip empty lines and so miscount: split by hand. */
	for (char *line = copy; line && !rc; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		if (cnt == 96 && *trim(line) && *trim(line) != '#') {
			rc = ml_errorf(err, ML_EINVAL, "line %d: more than 96 positions", lineno);
			break;
		}
		int r = parse_line(line, lineno, &seen, &v[cnt], err);
		if (r < 0)
			rc = err && err->code ? err->code : ML_EINVAL;
		else if (r == 0)
			cnt++;
	}
	free(copy);
	if (!rc && cnt == 0)
		rc = ml_errorf(err, ML_EINVAL, "the position map lists no position");
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = cnt;
	return ML_OK;
}

/* ---- device model rating ---- */

static int64_t col_ll(const PGresult *res, const char *c)
{
	const char *v = db_get(res, 0, c);
	return v ? strtoll(v, NULL, 10) : 0;
}

static const char *const rating_sql =
	"SELECT kind, coalesce(accuracy_class, '') AS cls, coalesce(connection, '') AS conn, "
	"coalesce(wiring, '') AS wiring, round(un_v * 1000)::bigint AS un_mv, round(ib_a * 1000)::bigint AS ib_ma, "
	"round(imax_a * 1000)::bigint AS imax_ma, constant_imp, "
	"round(coalesce(clock_freq_hz, 1) * 1000)::bigint AS clock_mhz, "
	"round(coalesce(ct_primary_a, vt_primary_v) * 1000)::bigint AS prim, "
	"round(coalesce(ct_secondary_a, vt_secondary_v) * 1000)::bigint AS sec, "
	"round(rated_burden_va * 1000)::bigint AS burden, verification_period_months, code "
	"FROM device_model WHERE model_id = $1::bigint";

static int rating_enums(const PGresult *res, struct model_rating *r, struct ml_error *err)
{
	int rc = model_kind_parse(db_get(res, 0, "kind"), &r->kind, err);
	const char *conn = db_get(res, 0, "conn"), *wiring = db_get(res, 0, "wiring");
	if (!rc && *conn)
		rc = model_connection_parse(conn, &r->connection, err);
	if (!rc && *wiring)
		rc = model_wiring_parse(wiring, &r->wiring, err);
	if (rc)
		ml_error_prefix(err, "device model '%s': ", db_get(res, 0, "code"));
	return rc;
}

int task_load_rating(struct db *db, int64_t model_id, struct model_rating *r, int *period_months,
		     struct ml_error *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, model_id);
	const char *p[1] = { id };
	PGresult *res = NULL;
	int rc = db_query_one(db, rating_sql, 1, p, &res, err);
	if (rc == ML_ENOTFOUND)
		return ml_errorf(err, ML_ENOTFOUND, "no device model with id %s", id);
	if (rc)
		return rc;
	memset(r, 0, sizeof(*r));
	rc = rating_enums(res, r, err);
	snprintf(r->accuracy_class, sizeof(r->accuracy_class), "%s", db_get(res, 0, "cls"));
	r->un_mv = col_ll(res, "un_mv");
	r->ib_ma = col_ll(res, "ib_ma");
	r->imax_ma = col_ll(res, "imax_ma");
	r->constant = col_ll(res, "constant_imp");
	r->freq_mhz = 50000; /* device_model has no frequency column: the grid's 50 Hz */
	r->clock_freq_mhz = col_ll(res, "clock_mhz");
	r->rated_primary_milli = col_ll(res, "prim");
	r->rated_secondary_milli = col_ll(res, "sec");
	r->rated_burden_mva = col_ll(res, "burden");
	r->burden_pf_milli = 800;
	if (period_months)
		*period_months = (int)col_ll(res, "verification_period_months");
	PQclear(res);
	return rc;
}

/* ---- validation ---- */

struct checked {
	struct asset_info info[96];
	int64_t model_id;
	struct ml_buf problems;
	int nproblems;
	int first_code;
};

static void problem(struct checked *c, int code, const char *fmt, ...) ML_PRINTF(3, 4);
static void problem(struct checked *c, int code, const char *fmt, ...)
{
	if (!c->first_code)
		c->first_code = code;
	if (c->nproblems++ >= TASK_MAX_LISTED)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (c->problems.len)
		(void)!ml_buf_puts(&c->problems, "; ");
	(void)!ml_buf_vprintf(&c->problems, fmt, ap);
	va_end(ap);
}

static void check_positions(const struct task_spec *s, int npos, struct checked *c)
{
	for (size_t i = 0; i < s->nslots; i++) {
		const struct task_slot *a = &s->slots[i];
		if (a->position < 1 || a->position > npos)
			problem(c, ML_EINVAL, "position %d is outside the bench's 1..%d",
				a->position, npos);
		for (size_t j = 0; j < i; j++) {
			if (s->slots[j].position == a->position)
				problem(c, ML_EINVAL, "position %d is used twice (%s and %s)",
					a->position, s->slots[j].barcode, a->barcode);
			if (!strcmp(s->slots[j].barcode, a->barcode))
				problem(c, ML_EINVAL,
					"barcode %s is mounted twice (positions %d and %d)",
					a->barcode, s->slots[j].position, a->position);
		}
	}
}

static void check_assets(struct db *db, const struct task_spec *s, struct checked *c,
			 struct ml_error *err)
{
	for (size_t i = 0; i < s->nslots; i++) {
		struct ml_error e = ML_ERROR_INIT;
		struct asset_info *ai = &c->info[i];
		int rc = asset_lookup(db, s->slots[i].barcode, ai, &e);
		if (rc == ML_EDB) {
			*err = e;
			c->first_code = ML_EDB;
			return;
		}
		if (rc) {
			problem(c, rc, "position %d: %s", s->slots[i].position, e.msg);
			continue;
		}
		if (!asset_can(ai->state, ASSET_ACT_VERIFY_START))
			problem(c, ML_ESTATE,
				"position %d: asset %s is '%s', which does not allow verification",
				s->slots[i].position, ai->barcode, asset_state_name(ai->state));
		if (!c->model_id)
			c->model_id = ai->model_id;
		else if (ai->model_id != c->model_id)
			problem(c, ML_EINVAL,
				"position %d: asset %s is model %s, unlike the others (%s)",
				s->slots[i].position, ai->barcode, ai->model_code,
				c->info[0].model_code);
	}
}

static int kind_fits(const char *bench_kind, enum model_kind k)
{
	if (!strcmp(bench_kind, "meter-1p"))
		return k == MODEL_METER_1P;
	if (!strcmp(bench_kind, "meter-3p"))
		return k == MODEL_METER_3P || k == MODEL_METER_1P;
	return k == MODEL_CT || k == MODEL_VT;
}

/* The scheme plans for the model: every step has setpoints and limits. */
static int check_plan(struct db *db, const struct scheme *sch, const struct bench_rec *b,
		      int64_t model_id, struct ml_error *err)
{
	struct model_rating r;
	struct lab_settings set;
	int rc = task_load_rating(db, model_id, &r, NULL, err);
	if (!rc && !kind_fits(b->kind, r.kind))
		rc = ml_errorf(err, ML_EINVAL, "bench '%s' (%s) cannot verify model kind '%s'",
			       b->code, b->kind, model_kind_name(r.kind));
	if (!rc)
		rc = lab_settings_load(db, &set, err);
	struct plan_step *ps = NULL;
	size_t n = 0;
	if (!rc && (rc = plan_scheme(sch, &r, &set, &ps, &n, err)))
		ml_error_prefix(err, "scheme '%s' does not fit the model: ", sch->code);
	free(ps);
	return rc;
}

/* ---- creation ---- */

/*
 * ml_run_create (0113) validates again, authoritatively, and writes the run
 * (server date, the authenticated operator, the ACTIVE scheme version), its
 * positions and the assets' verify_start moves in one transaction.
 */
static int create_in_db(struct db *db, const struct task_spec *s, int64_t *run_id,
			struct ml_error *err)
{
	struct pgarr pos, bcs;
	pgarr_init(&pos);
	pgarr_init(&bcs);
	for (size_t i = 0; i < s->nslots; i++) {
		pgarr_add_i64(&pos, s->slots[i].position);
		pgarr_add(&bcs, s->slots[i].barcode);
	}
	const char *p[9] = { s->bench_code,
			     s->scheme_code,
			     s->manual ? "manual" : "driven",
			     pgarr_finish(&pos),
			     pgarr_finish(&bcs),
			     s->temperature_c,
			     s->humidity_pct,
			     s->date,
			     s->backdate_reason };
	PGresult *res = NULL;
	int rc = !p[3] || !p[4]
			 ? ml_errorf(err, ML_ENOMEM, "out of memory")
			 : db_query_one(db,
					"SELECT ml_run_create($1, $2, $3, $4::int[], $5::text[], "
					"$6::numeric, $7::numeric, $8::date, $9)",
					9, p, &res, err);
	if (!rc)
		*run_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	pgarr_free(&pos);
	pgarr_free(&bcs);
	return rc;
}

static int validate(struct db *db, const struct task_spec *s, const struct bench_rec *b,
		    struct checked *c, struct ml_error *err)
{
	check_positions(s, b->positions, c);
	check_assets(db, s, c, err);
	if (c->first_code == ML_EDB)
		return ML_EDB;
	if (c->nproblems)
		return ml_errorf(err, c->first_code, "task refused, %d problem%s: %s%s",
				 c->nproblems, c->nproblems == 1 ? "" : "s",
				 ml_buf_str(&c->problems),
				 c->nproblems > TASK_MAX_LISTED ? "; …" : "");
	return ML_OK;
}

int task_create(struct db *db, const struct task_spec *s, int64_t *run_id, struct ml_error *err)
{
	if (s->nslots < 1 || s->nslots > 96)
		return ml_errorf(err, ML_EINVAL, "a task needs 1..96 positions (got %zu)",
				 s->nslots);
	if (s->date && !asset_date_ok(s->date))
		return ml_errorf(err, ML_EINVAL,
				 "verification date '%.40s' is not a whole date YYYY-MM-DD",
				 s->date);
	struct bench_rec b;
	int rc = standard_bench_get(db, s->bench_code, &b, err);
	if (rc)
		return rc;
	struct checked *c = calloc(1, sizeof(*c));
	if (!c)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	ml_buf_init(&c->problems, 8192);
	struct scheme *sch = NULL;
	/* early, complete messages (every problem of every position); the database decides */
	rc = validate(db, s, &b, c, err);
	if (!rc)
		rc = scheme_db_load(db, s->scheme_code, &sch, err);
	if (!rc)
		rc = check_plan(db, sch, &b, c->model_id, err);
	if (!rc)
		rc = create_in_db(db, s, run_id, err);
	scheme_free(sch);
	ml_buf_free(&c->problems);
	free(c);
	return rc;
}
