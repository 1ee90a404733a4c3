/*
 * planning.c — demand, netting and the verification plan. The rules and
 * refusals of demand and safety stock are the database's (0301); this file
 * reads the inputs of a plan, computes each model's run length with the
 * lab's planner and formats what sched_plan decides.
 */
#include "plan/planning.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "lab/plan.h"
#include "lab/scheme.h"
#include "lab/settings.h"
#include "lab/task.h"

void plan_demand_report_free(struct plan_demand_report *rep)
{
	if (!rep)
		return;
	free(rep->problems);
	memset(rep, 0, sizeof *rep);
}

/* A PostgreSQL array literal of texts (NULL elements for NULL). */
static void text_array(struct ml_buf *b, const char *const *v, size_t n, size_t stride)
{
	ml_buf_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		const char *s = *(const char *const *)((const char *)v + i * stride);
		if (i)
			ml_buf_putc(b, ',');
		if (!s) {
			ml_buf_puts(b, "NULL");
			continue;
		}
		ml_buf_putc(b, '"');
		for (; *s; s++) {
			if (*s == '"' || *s == '\\')
				ml_buf_putc(b, '\\');
			ml_buf_putc(b, *s);
		}
		ml_buf_putc(b, '"');
	}
	ml_buf_putc(b, '}');
}

static int demand_add(struct db *db, const struct plan_demand_in *rows, size_t n,
		      const size_t *lines, struct plan_demand_report *rep, struct ml_error *err)
{
	struct ml_buf a[5] = { ML_BUF_INIT, ML_BUF_INIT, ML_BUF_INIT, ML_BUF_INIT, ML_BUF_INIT };
	PGresult *res = NULL;
	int rc = ML_OK;
	memset(rep, 0, sizeof *rep);
	if (n == 0)
		return ml_errorf(err, ML_EINVAL, "no demand rows");
	text_array(&a[0], &rows[0].store, n, sizeof *rows);
	text_array(&a[1], &rows[0].model, n, sizeof *rows);
	text_array(&a[2], &rows[0].quantity, n, sizeof *rows);
	text_array(&a[3], &rows[0].due, n, sizeof *rows);
	text_array(&a[4], &rows[0].ref, n, sizeof *rows);
	for (int i = 0; i < 5; i++)
		if (ml_buf_failed(&a[i])) {
			rc = ml_errorf(err, ML_ENOMEM, "out of memory for %zu demand rows", n);
			goto out;
		}
	const char *p[5] = { a[0].data, a[1].data, a[2].data, a[3].data, a[4].data };
	rc = db_exec(
		db,
		"SELECT idx, code, msg FROM ml_plan_demand_add($1::text[], $2::text[], $3::text[], "
		"$4::text[], $5::text[])",
		5, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		goto out;
	int nt = PQntuples(res);
	if (nt == 0) {
		rep->added = n;
		goto out;
	}
	rep->problems = calloc((size_t)nt, sizeof *rep->problems);
	if (!rep->problems) {
		rc = ml_errorf(err, ML_ENOMEM, "out of memory for %d problems", nt);
		goto out;
	}
	for (int r = 0; r < nt; r++) {
		struct plan_problem *pr = &rep->problems[rep->nproblems++];
		size_t idx = (size_t)strtoul(db_get(res, r, "idx"), NULL, 10);
		pr->line = lines && idx >= 1 && idx <= n ? lines[idx - 1] : idx;
		snprintf(pr->code, sizeof pr->code, "%s",
			 db_get(res, r, "code") ? db_get(res, r, "code") : "");
		snprintf(pr->msg, sizeof pr->msg, "%s", db_get(res, r, "msg"));
	}
	rc = ml_errorf(err, ML_EINVAL, "line %zu: %s (%zu refused, nothing recorded)",
		       rep->problems[0].line, rep->problems[0].msg, rep->nproblems);
out:
	PQclear(res);
	for (int i = 0; i < 5; i++)
		ml_buf_free(&a[i]);
	return rc;
}

int plan_demand_add(struct db *db, const struct plan_demand_in *rows, size_t n,
		    struct plan_demand_report *rep, struct ml_error *err)
{
	return demand_add(db, rows, n, NULL, rep, err);
}

int plan_demand_import(struct db *db, const char *csv, size_t len, struct plan_demand_report *rep,
		       struct ml_error *err)
{
	memset(rep, 0, sizeof *rep);
	char *text = malloc(len + 1);
	struct plan_demand_in *rows = NULL;
	size_t *lines = NULL, n = 0, cap = 0, line = 0;
	int rc = ML_OK;
	if (!text)
		return ml_errorf(err, ML_ENOMEM, "out of memory for a demand file of %zu bytes",
				 len);
	memcpy(text, csv, len);
	text[len] = '\0';
	if (strlen(text) != len) {
		rc = ml_errorf(err, ML_EINVAL, "demand file: a NUL byte at offset %zu",
			       strlen(text));
		goto out;
	}
	for (char *s = text, *next; s && *s; s = next) {
		line++;
		next = strchr(s, '\n');
		if (next)
			*next++ = '\0';
		size_t l = strlen(s);
		if (l && s[l - 1] == '\r')
			s[--l] = '\0';
		if (l == 0 || s[0] == '#')
			continue;
		if (line == 1 && !strncmp(s, "store,", 6))
			continue;
		char *f[6] = { 0 };
		int nf = 0;
		for (char *c = s; nf < 6; nf++) {
			f[nf] = c;
			c = strchr(c, ',');
			if (!c) {
				nf++;
				break;
			}
			*c++ = '\0';
		}
		if (strchr(s, '"') || nf < 4 || nf > 5) {
			rc = ml_errorf(
				err, ML_EINVAL,
				"demand file line %zu: expected store,model,quantity,due[,ref] "
				"without quotes",
				line);
			goto out;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			struct plan_demand_in *r = realloc(rows, cap * sizeof *r);
			size_t *li = realloc(lines, cap * sizeof *li);
			if (r)
				rows = r;
			if (li)
				lines = li;
			if (!r || !li) {
				rc = ml_errorf(err, ML_ENOMEM, "out of memory at demand line %zu",
					       line);
				goto out;
			}
		}
		rows[n] = (struct plan_demand_in){ f[0], f[1], f[2], f[3],
						   nf == 5 && *f[4] ? f[4] : NULL };
		lines[n++] = line;
	}
	if (n == 0) {
		rc = ml_errorf(err, ML_EINVAL,
			       "demand file has no rows (store,model,quantity,due[,ref])");
		goto out;
	}
	rc = demand_add(db, rows, n, lines, rep, err);
out:
	free(rows);
	free(lines);
	free(text);
	return rc;
}

int plan_demand_cancel(struct db *db, int64_t id, const char *reason, struct ml_error *err)
{
	char ids[24];
	snprintf(ids, sizeof ids, "%" PRId64, id);
	const char *p[2] = { ids, reason };
	return db_cmd(db, "SELECT ml_plan_demand_cancel($1::bigint, $2)", 2, p, err);
}

int plan_demand_list(struct db *db, PGresult **out, struct ml_error *err)
{
	return db_exec(
		db,
		"SELECT d.demand_id AS id, l.code AS store, m.code AS model, d.quantity, "
		"d.due_on AS due, coalesce(d.ref, '') AS ref, u.login AS by "
		"FROM plan_demand d JOIN location l ON l.location_id = d.store_id "
		"JOIN device_model m ON m.model_id = d.model_id JOIN app_user u ON u.user_id = d.created_by "
		"WHERE d.status = 'open' ORDER BY d.due_on, d.demand_id",
		0, NULL, PGRES_TUPLES_OK, out, err);
}

int plan_safety_set(struct db *db, const char *store, const char *model, int quantity,
		    struct ml_error *err)
{
	char q[16];
	snprintf(q, sizeof q, "%d", quantity);
	const char *p[3] = { store, model, q };
	return db_cmd(db, "SELECT ml_plan_safety_set($1, $2, $3::int)", 3, p, err);
}

int plan_setting_set(struct db *db, const char *key, int value, struct ml_error *err)
{
	char v[16];
	snprintf(v, sizeof v, "%d", value);
	const char *p[2] = { key, v };
	return db_cmd(db, "SELECT ml_plan_setting_set($1, $2::int)", 2, p, err);
}

int plan_netting(struct db *db, const char *to, PGresult **out, struct ml_error *err)
{
	const char *p[1] = { to };
	return db_exec(db,
		       "SELECT model, demand, qualified, promised, safety, available, shortfall "
		       "FROM ml_plan_netting(coalesce($1::date, 'infinity'::date))",
		       1, p, PGRES_TUPLES_OK, out, err);
}

/* ---- the plan ---- */

void plan_view_free(struct plan_view *v)
{
	if (!v)
		return;
	PQclear(v->benches);
	PQclear(v->demands);
	PQclear(v->lots);
	PQclear(v->models);
	PQclear(v->workdays);
	free(v->bench);
	free(v->model);
	free(v->lot);
	free(v->demand);
	free(v->from_stock);
	free(v->model_source);
	sched_out_free(&v->out);
	memset(v, 0, sizeof *v);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, char out[11])
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	/* dates of a plan are years 1..9999 (they come from PostgreSQL dates and 366 days) */
	int yy = (int)((y + (m <= 2)) % 10000);
	snprintf(out, 11, "%04d-%02u-%02u", yy < 0 ? 0 : yy, m % 100, d % 100);
}

static int64_t date_days(const char *s)
{
	return days_from_civil(strtoll(s, NULL, 10), (unsigned)strtoul(s + 5, NULL, 10),
			       (unsigned)strtoul(s + 8, NULL, 10));
}

static const char *bench_kind_of(const char *model_kind)
{
	if (!strcmp(model_kind, "meter_1p"))
		return "meter-1p";
	if (!strcmp(model_kind, "meter_3p"))
		return "meter-3p";
	if (!strcmp(model_kind, "ct") || !strcmp(model_kind, "vt"))
		return "transformer";
	return "none";
}

/*
 * Minutes of one run of the model: the planned duration of the first active
 * scheme (by code) that suits it — every step's time limit, or its readings
 * × the device time of one reading — rounded up to whole minutes; 0 when no
 * active scheme suits it.
 */
static int scheme_minutes(struct db *db, int64_t model_id, const struct scheme_summary *list,
			  size_t nlist, const struct lab_settings *set, int64_t *minutes,
			  char *source, size_t cap, struct ml_error *err)
{
	struct model_rating r;
	int period = 0;
	*minutes = 0;
	int rc = task_load_rating(db, model_id, &r, &period, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < nlist && *minutes == 0; i++) {
		if (list[i].active_version == 0)
			continue;
		struct scheme *s = NULL;
		struct plan_step *steps = NULL;
		size_t n = 0;
		struct ml_error e = ML_ERROR_INIT;
		if (!scheme_db_load(db, list[i].code, &s, &e) && !scheme_suits(s, &r, &e) &&
		    !plan_scheme(s, &r, set, &steps, &n, &e)) {
			int64_t ms = 0;
			for (size_t k = 0; k < n; k++)
				ms += steps[k].duration_ms > 0
					      ? steps[k].duration_ms
					      : steps[k].reading_ms * steps[k].readings;
			*minutes = (ms + 59999) / 60000;
			if (*minutes == 0)
				*minutes = 1;
			snprintf(source, cap, "scheme %s v%d", list[i].code,
				 list[i].active_version);
		}
		free(steps);
		scheme_free(s);
	}
	return ML_OK;
}

/*
 * The scheduler's due day of a due date: the index of the last working day
 * on or before it (a demand due on a Sunday is on time when met on the
 * Friday before), -1 when no working day of the plan comes before it; a date
 * before the plan starts counts back in calendar days (negative: overdue).
 */
static int due_day_of(const struct plan_view *v, int64_t day0, const char *due)
{
	int64_t d = date_days(due);
	if (d < day0)
		return (int)(d - day0);
	int k = -1;
	while (k + 1 < v->days && date_days(PQgetvalue(v->workdays, k + 1, 0)) <= d)
		k++;
	return k;
}

int plan_build(struct db *db, const char *from, const char *to, struct plan_view *v,
	       struct ml_error *err)
{
	memset(v, 0, sizeof *v);
	PGresult *res = NULL;
	struct scheme_summary *list = NULL;
	size_t nlist = 0;
	struct lab_settings set;
	const char *p[2] = { from, to };
	int rc = db_query_one(
		db,
		"SELECT $1::date::text AS f, $2::date::text AS t, $2::date - $1::date + 1 AS days, "
		"(SELECT value FROM plan_setting WHERE key = 'plan.bench_minutes_per_day') AS day_min, "
		"(SELECT value FROM plan_setting WHERE key = 'plan.run_overhead_minutes') AS over_min, "
		"(SELECT value FROM plan_setting WHERE key = 'plan.default_run_minutes') AS def_min",
		2, p, &res, err);
	if (rc)
		goto out;
	snprintf(v->from, sizeof v->from, "%s", db_get(res, 0, "f"));
	snprintf(v->to, sizeof v->to, "%s", db_get(res, 0, "t"));
	v->days = atoi(db_get(res, 0, "days"));
	v->day_minutes = atoll(db_get(res, 0, "day_min"));
	v->overhead_minutes = atoll(db_get(res, 0, "over_min"));
	int64_t default_minutes = atoll(db_get(res, 0, "def_min"));
	PQclear(res);
	res = NULL;
	if (v->days < 1 || v->days > 366) {
		rc = ml_errorf(err, ML_EINVAL, "plan from %s to %s: 1 to 366 days", v->from, v->to);
		goto out;
	}
	/* the scheduler's days are the working days of the calendar (0307), in order */
	const char *pr[2] = { v->from, v->to };
	if ((rc = db_exec(db,
			  "SELECT d::text AS day FROM ml_plan_working_days($1::date, $2::date) d",
			  2, pr, PGRES_TUPLES_OK, &v->workdays, err)))
		goto out;
	v->days = PQntuples(v->workdays);
	if (v->days == 0) {
		rc = ml_errorf(err, ML_EINVAL,
			       "no working day from %s to %s (meterlab plan calendar shows why)",
			       v->from, v->to);
		goto out;
	}
	if ((rc = db_exec(db, "SELECT code, kind, positions FROM lab_bench ORDER BY code", 0, NULL,
			  PGRES_TUPLES_OK, &v->benches, err)))
		goto out;
	const char *pt[1] = { v->to };
	if ((rc = db_exec(
		     db,
		     "SELECT demand_id, store, model, model_id, model_kind, quantity, due_on, from_stock, "
		     "to_verify FROM ml_plan_demand_work($1::date)",
		     1, pt, PGRES_TUPLES_OK, &v->demands, err)))
		goto out;
	if ((rc = db_exec(
		     db,
		     "SELECT lot, model, model_id, model_kind, assets FROM ml_plan_verifiable()", 0,
		     NULL, PGRES_TUPLES_OK, &v->lots, err)))
		goto out;
	/* the models of demands and lots, each once */
	if ((rc = db_exec(
		     db,
		     "SELECT DISTINCT m.model_id, m.code, m.kind FROM device_model m "
		     "WHERE m.model_id IN (SELECT model_id FROM ml_plan_demand_work($1::date)) "
		     "OR m.model_id IN (SELECT model_id FROM ml_plan_verifiable()) ORDER BY m.code",
		     1, pt, PGRES_TUPLES_OK, &v->models, err)))
		goto out;
	size_t nb = (size_t)PQntuples(v->benches), nd = (size_t)PQntuples(v->demands),
	       nl = (size_t)PQntuples(v->lots), nm = (size_t)PQntuples(v->models);
	v->bench = calloc(nb + 1, sizeof *v->bench);
	v->demand = calloc(nd + 1, sizeof *v->demand);
	v->from_stock = calloc(nd + 1, sizeof *v->from_stock);
	v->lot = calloc(nl + 1, sizeof *v->lot);
	v->model = calloc(nm + 1, sizeof *v->model);
	v->model_source = calloc(nm + 1, sizeof *v->model_source);
	if (!v->bench || !v->demand || !v->from_stock || !v->lot || !v->model || !v->model_source) {
		rc = ml_errorf(err, ML_ENOMEM, "out of memory for a plan");
		goto out;
	}
	if ((rc = lab_settings_load(db, &set, err)) ||
	    (rc = scheme_db_list(db, &list, &nlist, err)))
		goto out;
	for (size_t i = 0; i < nm; i++) {
		int64_t minutes = 0;
		if ((rc = scheme_minutes(db, atoll(db_get(v->models, (int)i, "model_id")), list,
					 nlist, &set, &minutes, v->model_source[i],
					 sizeof v->model_source[i], err)))
			goto out;
		if (minutes == 0) {
			minutes = default_minutes;
			snprintf(v->model_source[i], sizeof v->model_source[i],
				 "no active scheme suits it: plan.default_run_minutes");
		}
		v->model[i] =
			(struct sched_model){ db_get(v->models, (int)i, "code"),
					      bench_kind_of(db_get(v->models, (int)i, "kind")),
					      minutes + v->overhead_minutes };
	}
	for (size_t i = 0; i < nb; i++)
		v->bench[i] = (struct sched_bench){ db_get(v->benches, (int)i, "code"),
						    db_get(v->benches, (int)i, "kind"),
						    atoi(db_get(v->benches, (int)i, "positions")) };
	int64_t day0 = date_days(v->from);
	for (size_t i = 0; i < nd; i++) {
		size_t m = 0;
		while (m < nm && strcmp(v->model[m].code, db_get(v->demands, (int)i, "model")))
			m++;
		v->demand[i] = (struct sched_demand){
			atoll(db_get(v->demands, (int)i, "demand_id")), m,
			atoll(db_get(v->demands, (int)i, "to_verify")),
			due_day_of(v, day0, db_get(v->demands, (int)i, "due_on"))
		};
		v->from_stock[i] = atoll(db_get(v->demands, (int)i, "from_stock"));
	}
	for (size_t i = 0; i < nl; i++) {
		size_t m = 0;
		while (m < nm && strcmp(v->model[m].code, db_get(v->lots, (int)i, "model")))
			m++;
		v->lot[i] = (struct sched_lot){ db_get(v->lots, (int)i, "lot"), m,
						atoll(db_get(v->lots, (int)i, "assets")) };
	}
	v->in = (struct sched_in){ v->bench, nb,        v->model, nm,      v->lot,
				   nl,       v->demand, nd,       v->days, v->day_minutes };
	rc = sched_plan(&v->in, &v->out, err);
out:
	PQclear(res);
	free(list);
	if (rc)
		plan_view_free(v);
	return rc;
}

/* The date of scheduler day `day`: a working day of the plan (0307). */
static void day_text(const struct plan_view *v, int day, char out[11])
{
	if (day >= 0 && day < v->days)
		snprintf(out, 11, "%s", PQgetvalue(v->workdays, day, 0));
	else
		civil_from_days(date_days(v->from) + day, out);
}

void plan_format_text(const struct plan_view *v, struct ml_buf *b)
{
	ml_buf_printf(b,
		      "plan %s .. %s: %zu benches, %" PRId64 " minutes a bench-day (%" PRId64
		      " to mount a run)\n",
		      v->from, v->to, v->in.nbenches, v->day_minutes, v->overhead_minutes);
	for (size_t m = 0; m < v->in.nmodels; m++)
		ml_buf_printf(b, "  model %s: %" PRId64 " minutes a run on a %s bench (%s)\n",
			      v->model[m].code, v->model[m].run_minutes, v->model[m].bench_kind,
			      v->model_source[m]);
	ml_buf_printf(b, "\n%-10s  %-12s %-20s %-12s %6s %10s  %s\n", "day", "bench", "lot",
		      "model", "assets", "for demand", "demand");
	for (size_t i = 0; i < v->out.nruns; i++) {
		const struct sched_run *r = &v->out.runs[i];
		char d[11];
		day_text(v, r->day, d);
		ml_buf_printf(b, "%-10s  %-12s %-20s %-12s %6" PRId64 " %10" PRId64 "  ", d,
			      v->bench[r->bench].code, v->lot[r->lot].code, v->model[r->model].code,
			      r->assets, r->for_demand);
		if (r->demand_id)
			ml_buf_printf(b, "#%" PRId64 "\n", r->demand_id);
		else
			ml_buf_puts(b, "fill\n");
	}
	if (v->out.nruns == 0)
		ml_buf_puts(b, "(no runs: nothing to verify, or no bench can verify it)\n");
	ml_buf_printf(b, "\n%-6s %-12s %-12s %8s %-10s %10s %8s  %s\n", "demand", "store", "model",
		      "quantity", "due", "from stock", "verify", "expected");
	for (size_t k = 0; k < v->in.ndemands; k++) {
		const struct sched_demand *dm = &v->demand[k];
		char due[11], met[11];
		snprintf(due, sizeof due, "%s", db_get(v->demands, (int)k, "due_on"));
		int md = v->out.met_day[k];
		if (md >= 0)
			day_text(v, md, met);
		ml_buf_printf(b, "%-6" PRId64 " %-12s %-12s %8s %-10s %10" PRId64 " %8" PRId64 "  ",
			      dm->id, db_get(v->demands, (int)k, "store"),
			      db_get(v->demands, (int)k, "model"),
			      db_get(v->demands, (int)k, "quantity"), due, v->from_stock[k],
			      dm->quantity);
		if (md < 0)
			ml_buf_printf(b, "not met by %s (%" PRId64 " short)\n", v->to,
				      v->out.short_of[k]);
		else if (dm->quantity == 0)
			ml_buf_puts(b, "from stock\n");
		else
			ml_buf_printf(b, "%s %s\n", met, md <= dm->due_day ? "on time" : "LATE");
	}
}

void plan_format_json(const struct plan_view *v, struct ml_buf *b)
{
	ml_buf_puts(b, "{");
	ml_json_kv_str(b, 1, "from", v->from);
	ml_json_kv_str(b, 0, "to", v->to);
	ml_json_kv_int(b, 0, "bench_minutes_per_day", v->day_minutes);
	ml_buf_puts(b, ",\"models\":[");
	for (size_t m = 0; m < v->in.nmodels; m++) {
		ml_buf_puts(b, m ? ",{" : "{");
		ml_json_kv_str(b, 1, "model", v->model[m].code);
		ml_json_kv_str(b, 0, "bench_kind", v->model[m].bench_kind);
		ml_json_kv_int(b, 0, "run_minutes", v->model[m].run_minutes);
		ml_json_kv_str(b, 0, "duration_from", v->model_source[m]);
		ml_buf_puts(b, "}");
	}
	ml_buf_puts(b, "],\"runs\":[");
	for (size_t i = 0; i < v->out.nruns; i++) {
		const struct sched_run *r = &v->out.runs[i];
		char d[11];
		day_text(v, r->day, d);
		ml_buf_puts(b, i ? ",{" : "{");
		ml_json_kv_str(b, 1, "day", d);
		ml_json_kv_str(b, 0, "bench", v->bench[r->bench].code);
		ml_json_kv_str(b, 0, "lot", v->lot[r->lot].code);
		ml_json_kv_str(b, 0, "model", v->model[r->model].code);
		ml_json_kv_int(b, 0, "assets", r->assets);
		ml_json_kv_int(b, 0, "for_demand", r->for_demand);
		if (r->demand_id)
			ml_json_kv_int(b, 0, "demand", r->demand_id);
		else
			ml_json_kv_raw(b, 0, "demand", "null");
		ml_buf_puts(b, "}");
	}
	ml_buf_puts(b, "],\"demands\":[");
	for (size_t k = 0; k < v->in.ndemands; k++) {
		const struct sched_demand *dm = &v->demand[k];
		char due[11], met[11];
		snprintf(due, sizeof due, "%s", db_get(v->demands, (int)k, "due_on"));
		ml_buf_puts(b, k ? ",{" : "{");
		ml_json_kv_int(b, 1, "demand", dm->id);
		ml_json_kv_str(b, 0, "store", db_get(v->demands, (int)k, "store"));
		ml_json_kv_str(b, 0, "model", db_get(v->demands, (int)k, "model"));
		ml_json_kv_int(b, 0, "quantity", atoll(db_get(v->demands, (int)k, "quantity")));
		ml_json_kv_str(b, 0, "due", due);
		ml_json_kv_int(b, 0, "from_stock", v->from_stock[k]);
		ml_json_kv_int(b, 0, "to_verify", dm->quantity);
		if (v->out.met_day[k] >= 0) {
			day_text(v, v->out.met_day[k], met);
			ml_json_kv_str(b, 0, "expected", met);
			ml_json_kv_bool(b, 0, "on_time", v->out.met_day[k] <= dm->due_day);
		} else {
			ml_json_kv_raw(b, 0, "expected", "null");
			ml_json_kv_bool(b, 0, "on_time", 0);
		}
		ml_json_kv_int(b, 0, "short", v->out.short_of[k]);
		ml_buf_puts(b, "}");
	}
	ml_buf_puts(b, "]}");
}

void plan_format_csv(const struct plan_view *v, struct ml_buf *b)
{
	ml_buf_puts(
		b,
		"record,day,bench,lot,model,assets,for_demand,demand,store,quantity,due,from_stock,"
		"to_verify,expected,on_time\n");
	for (size_t i = 0; i < v->out.nruns; i++) {
		const struct sched_run *r = &v->out.runs[i];
		char d[11];
		day_text(v, r->day, d);
		ml_buf_printf(b, "run,%s,%s,%s,%s,%" PRId64 ",%" PRId64 ",", d,
			      v->bench[r->bench].code, v->lot[r->lot].code, v->model[r->model].code,
			      r->assets, r->for_demand);
		if (r->demand_id)
			ml_buf_printf(b, "%" PRId64, r->demand_id);
		ml_buf_puts(b, ",,,,,,,\n");
	}
	for (size_t k = 0; k < v->in.ndemands; k++) {
		const struct sched_demand *dm = &v->demand[k];
		char due[11], met[11] = "";
		snprintf(due, sizeof due, "%s", db_get(v->demands, (int)k, "due_on"));
		if (v->out.met_day[k] >= 0)
			day_text(v, v->out.met_day[k], met);
		ml_buf_printf(
			b, "demand,,,,%s,,,%" PRId64 ",%s,%s,%s,%" PRId64 ",%" PRId64 ",%s,%s\n",
			db_get(v->demands, (int)k, "model"), dm->id,
			db_get(v->demands, (int)k, "store"), db_get(v->demands, (int)k, "quantity"),
			due, v->from_stock[k], dm->quantity, met,
			v->out.met_day[k] >= 0 && v->out.met_day[k] <= dm->due_day ? "yes" : "no");
	}
}
