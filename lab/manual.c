/* manual.c — manual verification: typed-in readings judged and stored like a driven run (see manual.h). */
#include "lab/manual.h"
#include "lab/run_status.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/text.h"
#include "lab/judge.h"
#include "lab/plan.h"
#include "lab/result.h"
#include "lab/runner.h"
#include "lab/scheme.h"
#include "lab/settings.h"
#include "lab/task.h"

#define MAN_MAX_POS 96

struct mslot {
	int position;
	int64_t asset_id;
	struct ml_buf text;            /* this position's lines, without the position column */
	struct judge_step_result *res; /* from judge_manual_text, malloc'd */
	size_t nres;
	int by_step[SCHEME_MAX_STEPS]; /* index into res, -1 when absent */
};

struct manual {
	struct db *db;
	int64_t run_id;
	char id[24];
	int64_t model_id;
	int64_t scheme_id; /* 0: a run before 0113, planned from scheme_text */
	char *scheme_text;
	enum run_status status;
	int nslots;
	struct mslot slot[MAN_MAX_POS];
	struct lab_settings set;
	struct scheme *sch;
	struct plan_step *plan;
	size_t nplan;
};

static int load_head(struct manual *m, struct ml_error *err)
{
	const char *p[1] = { m->id };
	PGresult *res = NULL;
	int rc = db_query_one(
		m->db,
		"SELECT model_id, scheme_id, coalesce(scheme_text, '') AS scheme_text, mode, "
		"status FROM verification_run WHERE run_id = $1::bigint",
		1, p, &res, err);
	if (rc == ML_ENOTFOUND)
		return ml_errorf(err, ML_ENOTFOUND, "no run %s", m->id);
	if (rc)
		return rc;
	m->model_id = strtoll(db_get(res, 0, "model_id"), NULL, 10);
	m->scheme_id = db_get(res, 0, "scheme_id") ? strtoll(db_get(res, 0, "scheme_id"), NULL, 10)
						   : 0;
	m->scheme_text = strdup(db_get(res, 0, "scheme_text"));
	if (strcmp(db_get(res, 0, "mode"), "manual"))
		rc = ml_errorf(err, ML_ESTATE,
			       "run %s is a driven run: readings come from its bench", m->id);
	else if (!(rc = run_status_parse(db_get(res, 0, "status"), &m->status, err)) &&
		 m->status != RUN_PENDING && m->status != RUN_RUNNING)
		rc = ml_errorf(err, ML_ESTATE, "run %s is %s: readings can no longer be recorded",
			       m->id, run_status_name(m->status));
	PQclear(res);
	if (rc)
		return rc;
	if (!m->scheme_text)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	return ML_OK;
}

static int load_slots(struct manual *m, struct ml_error *err)
{
	const char *p[1] = { m->id };
	PGresult *res = NULL;
	int rc = db_exec(
		m->db,
		"SELECT position, asset_id FROM run_position WHERE run_id = $1::bigint ORDER BY position",
		1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	m->nslots = PQntuples(res) < MAN_MAX_POS ? PQntuples(res) : MAN_MAX_POS;
	for (int i = 0; i < m->nslots; i++) {
		m->slot[i].position = atoi(db_get(res, i, "position"));
		m->slot[i].asset_id = strtoll(db_get(res, i, "asset_id"), NULL, 10);
		ml_buf_init(&m->slot[i].text, 1 << 20);
	}
	PQclear(res);
	return ML_OK;
}

static int load(struct manual *m, struct ml_error *err)
{
	struct model_rating r;
	int rc = load_head(m, err);
	if (!rc)
		rc = load_slots(m, err);
	if (!rc)
		rc = task_load_rating(m->db, m->model_id, &r, NULL, err);
	if (!rc)
		rc = lab_settings_load(m->db, &m->set, err);
	if (!rc)
		rc = m->scheme_id ? scheme_db_load_id(m->db, m->scheme_id, &m->sch, err)
				  : scheme_parse_text(m->scheme_text, &m->sch, err);
	if (!rc)
		rc = plan_scheme(m->sch, &r, &m->set, &m->plan, &m->nplan, err);
	return rc;
}

static struct mslot *find_slot(struct manual *m, int position)
{
	for (int i = 0; i < m->nslots; i++) {
		if (m->slot[i].position == position)
			return &m->slot[i];
	}
	return NULL;
}

/* Route each "POSITION, rest" line to its position's text. */
static int split_lines(struct manual *m, const char *text, struct ml_error *err)
{
	int lineno = 0;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		lineno++;
		char buf[1024];
		/* never cut a line: the cut could fall inside a number ("0.15" read as "0.1") */
		if (len >= sizeof(buf))
			return ml_errorf(err, ML_EINVAL,
					 "line %d: %zu characters, too long (at most %zu)", lineno,
					 len, sizeof(buf) - 1);
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = end ? end + 1 : NULL;
		char *s = buf;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		char *comma = strchr(s, ',');
		char *stop = NULL;
		long pos = strtol(s, &stop, 10);
		while (stop && isspace((unsigned char)*stop))
			stop++;
		if (!comma || stop != comma)
			return ml_errorf(err, ML_EINVAL,
					 "line %d: '%.60s' does not start with 'POSITION,'", lineno,
					 s);
		/* range-checked before the cast: 4294967297 must not wrap to position 1 */
		struct mslot *sl = pos >= 1 && pos <= INT_MAX ? find_slot(m, (int)pos) : NULL;
		if (!sl)
			return ml_errorf(err, ML_EINVAL,
					 "line %d: position %ld has no asset in run %s", lineno,
					 pos, m->id);
		if (ml_buf_printf(&sl->text, "%s\n", comma + 1))
			return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	return ML_OK;
}

static int judge_slot(struct manual *m, struct mslot *sl, struct ml_error *err)
{
	struct judge_position jp;
	judge_position_init(&jp);
	int rc = judge_manual_text(m->plan, m->nplan, ml_buf_str(&sl->text), &m->set, &sl->res,
				   &sl->nres, &jp, err);
	if (rc)
		return ml_error_prefix(err, "position %d: ", sl->position);
	for (size_t s = 0; s < SCHEME_MAX_STEPS; s++)
		sl->by_step[s] = -1;
	for (size_t k = 0; k < sl->nres; k++) {
		int idx = sl->res[k].index;
		if (idx < 0 || (size_t)idx >= m->nplan)
			continue;
		if (sl->by_step[idx] >= 0)
			return ml_errorf(err, ML_EINVAL, "position %d: step %d (%s) is given twice",
					 sl->position, idx + 1, m->plan[idx].label);
		sl->by_step[idx] = (int)k;
	}
	for (size_t s = 0; s < m->nplan; s++) {
		if (sl->by_step[s] < 0)
			return ml_errorf(err, ML_EINVAL,
					 "position %d: no readings for step %zu (%s)", sl->position,
					 s + 1, m->plan[s].label);
	}
	return ML_OK;
}

static size_t step_readings(const struct manual *m, const struct plan_step *ps,
			    struct result_reading *rd)
{
	size_t n = 0;
	int64_t now = result_now_us();
	for (int i = 0; i < m->nslots; i++) {
		const struct judge_step_result *r = &m->slot[i].res[m->slot[i].by_step[ps->index]];
		int timed = ps->kind == STEP_CREEP || ps->kind == STEP_START ||
			    ps->kind == STEP_CONSTANT;
		int cnt = timed ? 1 : r->value.n;
		for (int k = 0; k < cnt; k++) {
			struct result_reading *x = &rd[n++];
			memset(x, 0, sizeof(*x));
			x->asset_id = m->slot[i].asset_id;
			x->position = m->slot[i].position;
			x->reading_no = k + 1;
			x->value_e4 = timed ? r->gamma_e4 : r->value.readings_e4[k];
			x->has_value2 = ps->kind == STEP_CT || ps->kind == STEP_VT;
			x->value2_e4 = x->has_value2 ? r->value2.readings_e4[k] : 0;
			x->pulses = timed ? (int64_t)r->pulses : -1;
			x->at_us = now;
		}
	}
	return n;
}

static int store_steps(struct manual *m, struct ml_error *err)
{
	unsigned char done[SCHEME_MAX_STEPS];
	int rc = result_done_steps(m->db, m->run_id, done, sizeof(done), err);
	struct result_reading *rd = calloc((size_t)m->nslots * JUDGE_MAX_READINGS, sizeof(*rd));
	struct result_row *rows = calloc((size_t)m->nslots, sizeof(*rows));
	if (!rc && (!rd || !rows))
		rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t s = 0; !rc && s < m->nplan; s++) {
		if (done[s])
			continue;
		for (int i = 0; i < m->nslots; i++) {
			memset(&rows[i], 0, sizeof(rows[i]));
			rows[i].asset_id = m->slot[i].asset_id;
			rows[i].position = m->slot[i].position;
			rows[i].r = m->slot[i].res[m->slot[i].by_step[s]];
			snprintf(rows[i].note, sizeof(rows[i].note), "manual");
		}
		size_t nrd = step_readings(m, &m->plan[s], rd);
		rc = result_commit_step(m->db, m->run_id, &m->plan[s], result_now_us(), rd, nrd,
					rows, (size_t)m->nslots, err);
	}
	free(rd);
	free(rows);
	return rc;
}

static int mark_running(struct manual *m, struct ml_error *err)
{
	return run_status_change(m->db, m->run_id, &m->status, RUN_RUNNING, NULL, err);
}

static void release(struct manual *m)
{
	for (int i = 0; i < m->nslots; i++) {
		ml_buf_free(&m->slot[i].text);
		free(m->slot[i].res);
	}
	free(m->scheme_text);
	scheme_free(m->sch);
	free(m->plan);
	free(m);
}

int manual_record(struct db *db, int64_t run_id, const char *text, int *passed, int *failed,
		  struct ml_error *err)
{
	struct manual *m = calloc(1, sizeof(*m));
	if (!m)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	m->db = db;
	m->run_id = run_id;
	snprintf(m->id, sizeof(m->id), "%" PRId64, run_id);
	int rc = load(m, err);
	text = ml_skip_bom(text ? text : "");
	if (!rc)
		rc = ml_text_file_check(text, strlen(text), "readings", err);
	if (!rc)
		rc = split_lines(m, text, err);
	for (int i = 0; !rc && i < m->nslots; i++)
		rc = judge_slot(m, &m->slot[i], err);
	/* all or nothing: the status, every step and the conclusion in one
	 * transaction; inside a caller's (the server's request) it is the caller's to finish */
	int own = PQtransactionStatus(db_conn(db)) == PQTRANS_IDLE;
	if (!rc && own)
		rc = db_begin(db, err);
	if (!rc)
		rc = mark_running(m, err);
	if (!rc)
		rc = store_steps(m, err);
	if (!rc)
		rc = runner_conclude(db, run_id, passed, failed, err);
	if (own)
		rc = db_finish(db, rc, err);
	release(m);
	return rc;
}
