/*
 * cert_source.c — one cert_doc per asset of a finished run.
 *
 * Numbers are formatted by PostgreSQL from the runner's exact ×10⁴
 * integers (cert_fmt_e4, migration 0041), so the certificate prints
 * exactly what the judge decided, with the rounding interval's decimals
 * (JJG 596-2012 §1.11 in domain.md: the rounded value is what is judged and
 * printed). All strings point into the PGresults kept by the set.
 */
#include "reports/cert_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/settings.h"
#include "reports/cert_store.h"

enum {
	Q_RUN,
	Q_POS,
	Q_ITEMS,
	Q_ERRORS,
	Q_XFMR,
	Q_STD,
	Q_COUNT
};

struct src_doc {
	struct cert_doc doc;
	long long asset_id;
	char record_no[32];
	struct cert_item *items;
	struct cert_error_row *errors;
	struct cert_xfmr_row *xfmr;
};

struct cert_source {
	PGresult *res[Q_COUNT];
	struct cert_standard *standards;
	size_t n_standards;
	struct src_doc *docs;
	size_t n;
};

static const char *const run_sql =
	"SELECT r.status, r.operator, to_char(r.run_date, 'YYYY-MM-DD') AS run_date, b.name AS place, "
	"r.ambient_temp_c::text || ' ℃' AS temperature, r.ambient_rh_pct::text || ' %RH' AS humidity, "
	"m.code AS model, m.name AS instrument, m.kind, coalesce(m.accuracy_class || '级', '') AS accuracy_class, "
	"mf.name AS manufacturer, "
	"CASE WHEN m.kind IN ('meter_1p', 'meter_3p') THEN "
	"  concat_ws(' ', trim_scale(m.un_v) || 'V', trim_scale(m.ib_a) || '(' || trim_scale(m.imax_a) || ')A', "
	"    m.constant_imp || 'imp/kWh', CASE m.connection WHEN 'direct' THEN '直接接入' ELSE '经互感器接入' END) "
	"WHEN m.kind = 'ct' THEN concat_ws(' ', trim_scale(m.ct_primary_a) || '/' || trim_scale(m.ct_secondary_a) || 'A', "
	"    trim_scale(m.rated_burden_va) || 'VA') "
	"WHEN m.kind = 'vt' THEN concat_ws(' ', trim_scale(m.vt_primary_v) || '/' || trim_scale(m.vt_secondary_v) || 'V', "
	"    trim_scale(m.rated_burden_va) || 'VA') ELSE '' END AS spec, "
	"(SELECT default_client FROM issuer WHERE is_default) AS client "
	"FROM verification_run r JOIN lab_bench b ON b.bench_id = r.bench_id "
	"JOIN device_model m ON m.model_id = r.model_id JOIN manufacturer mf ON mf.manufacturer_id = m.manufacturer_id "
	"WHERE r.run_id = $1::bigint";

/* Assets with an overall conclusion, in position order. */
static const char *const pos_sql =
	"SELECT p.asset_id, p.position, p.barcode, c.verdict, to_char(c.valid_until, 'YYYY-MM-DD') AS valid_until "
	"FROM run_position p JOIN run_conclusion c ON c.asset_id = p.asset_id AND c.run_id = p.run_id "
	"AND c.item = 'overall' WHERE p.run_id = $1::bigint ORDER BY p.position";

/* Per-item conclusions, in the order of JJG 596-2012 §1.2, with a short
 * detail in Chinese metrology wording: when a position could not be judged,
 * the runner's notes as printed by cert_note_text (migration 0045, e.g.
 * "no pulses from the meter" -> 无脉冲输出), else the measured quantity of
 * the item, with the decimals the judge rounded to; creep and starting
 * pulses with the limit in effect when the run started (lab settings
 * creep.max_pulses / start.min_pulses, [M] in domain.md: $2/$3 are their
 * defaults). CT/VT steps (kind ct/vt) carry the ratio and phase items. */
static const char *const items_sql =
	"WITH lim AS (SELECT cert_setting_at('creep.max_pulses', t, $2) AS creep, "
	"  cert_setting_at('start.min_pulses', t, $3) AS start "
	"  FROM (SELECT coalesce(started_at, created_at) AS t FROM verification_run WHERE run_id = $1::bigint) r), "
	"d AS (SELECT s.asset_id, CASE WHEN s.kind IN ('ct', 'vt') THEN 'xfmr' ELSE s.kind END AS kind, "
	"  string_agg(DISTINCT nullif(cert_note_text(s.note), ''), '；') AS notes, "
	"  string_agg(CASE s.kind "
	"  WHEN 'creep' THEN s.pulses || ' 个脉冲（限值 ≤' || lim.creep || '）' "
	"  WHEN 'start' THEN s.pulses || ' 个脉冲（限值 ≥' || lim.start || '）' "
	"  WHEN 'clock' THEN cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)) || ' s/d' "
	"  WHEN 'constant' THEN CASE WHEN s.pulses = 0 THEN '无脉冲输出' "
	"    ELSE '误差 γ=' || cert_fmt_e4(s.gamma_e4, 2) || '%' END END, '；' ORDER BY s.step_no) AS measured "
	"  FROM run_step_result s, lim WHERE s.run_id = $1::bigint GROUP BY 1, 2) "
	"SELECT c.asset_id, c.item, c.verdict, coalesce(d.notes, d.measured) AS detail "
	"FROM run_conclusion c LEFT JOIN d ON d.asset_id = c.asset_id "
	"AND d.kind = CASE WHEN c.item IN ('ratio', 'phase') THEN 'xfmr' ELSE c.item END "
	"WHERE c.run_id = $1::bigint AND c.item <> 'overall' "
	"ORDER BY c.asset_id, array_position(ARRAY['creep', 'start', 'basic', 'constant', 'clock', 'ratio', 'phase'], "
	"c.item)";

/* Basic-error rows; readings aggregated once per run (a correlated subquery
 * would open every partition of run_reading once per row). The label is "<mult><base> cosφ=<pf> <element>" (lab/plan.c point_label). */
static const char *const errors_sql =
	"WITH rd AS (SELECT asset_id, step_no, string_agg(cert_fmt_e4(value_e4, 4), ' | ' ORDER BY reading_no) "
	"  AS readings FROM run_reading WHERE run_id = $1::bigint GROUP BY asset_id, step_no) "
	"SELECT s.asset_id, split_part(s.label, ' cosφ=', 1) AS load, "
	"(SELECT trim_scale(coalesce(nullif(mm[1], '')::numeric, 1) * CASE mm[2] WHEN 'Ib' THEN m.ib_a "
	"   WHEN 'Imax' THEN m.imax_a END) || ' A' FROM regexp_match(split_part(s.label, ' cosφ=', 1), "
	"   '^([0-9.]*)(Ib|Imax)$') mm) AS current, "
	"split_part(split_part(s.label, ' cosφ=', 2), ' ', 1) AS pf, "
	"cert_element_text(split_part(split_part(s.label, ' cosφ=', 2), ' ', 2)) AS element, "
	"rd.readings, "
	"cert_fmt_e4(s.mean_e4, 4) AS mean, cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)) AS rounded, "
	"'±' || round(s.limit_e4::numeric / 10000, cert_e4_places(s.interval_e4)) AS lim, s.verdict "
	"FROM run_step_result s JOIN verification_run r ON r.run_id = s.run_id "
	"JOIN device_model m ON m.model_id = r.model_id "
	"LEFT JOIN rd ON rd.asset_id = s.asset_id AND rd.step_no = s.step_no "
	"WHERE s.run_id = $1::bigint AND s.kind = 'basic' ORDER BY s.asset_id, s.step_no";

/* CT/VT rows: label "CT <percent>% <burden>%VA" (lab/plan.c); the burden is
 * printed in VA from the model's rated burden. */
static const char *const xfmr_sql =
	"SELECT s.asset_id, split_part(s.label, ' ', 2) AS percent, "
	"coalesce((SELECT trim_scale(bb[1]::numeric * m.rated_burden_va / 100) || ' VA' "
	"  FROM regexp_match(split_part(s.label, ' ', 3), '^([0-9.]+)%VA$') bb), split_part(s.label, ' ', 3)) AS burden, "
	"cert_fmt_e4(s.rounded_e4, cert_e4_places(s.interval_e4)) AS ratio_error, "
	"cert_fmt_e4(s.rounded2_e4, cert_e4_places(coalesce(s.interval2_e4, 10000))) AS phase, "
	"'±' || round(s.limit_e4::numeric / 10000, cert_e4_places(s.interval_e4)) AS ratio_limit, "
	"'±' || round(s.limit2_e4::numeric / 10000, cert_e4_places(coalesce(s.interval2_e4, 10000))) AS phase_limit, "
	"CASE WHEN s.verdict = 'fail' OR s.verdict2 = 'fail' THEN 'fail' ELSE s.verdict END AS verdict "
	"FROM run_step_result s JOIN verification_run r ON r.run_id = s.run_id "
	"JOIN device_model m ON m.model_id = r.model_id "
	"WHERE s.run_id = $1::bigint AND s.kind IN ('ct', 'vt') ORDER BY s.asset_id, s.step_no";

/* The bench's standards with the certificate valid on the run date (JJF 1069 inner page). */
static const char *const std_sql =
	"SELECT rs.name, rs.range_text, rs.accuracy_class || '级' AS accuracy, sc.cert_no, "
	"to_char(sc.valid_until, 'YYYY-MM-DD') AS valid_until "
	"FROM verification_run r JOIN lab_bench_standard bs ON bs.bench_id = r.bench_id "
	"JOIN reference_standard rs ON rs.standard_id = bs.standard_id "
	"LEFT JOIN LATERAL (SELECT cert_no, valid_until FROM standard_certificate c WHERE c.standard_id = rs.standard_id "
	"  AND c.valid_from <= r.run_date AND c.valid_until >= r.run_date ORDER BY c.valid_until DESC LIMIT 1) sc ON true "
	"WHERE r.run_id = $1::bigint ORDER BY rs.standard_id";

static const char *verdict_text(const char *v)
{
	if (!v)
		return NULL;
	return !strcmp(v, "pass") ? "合格" : !strcmp(v, "fail") ? "不合格" : NULL;
}

/* Item codes of run_conclusion (lab/judge.c judge_item_name) as printed. */
static const char *item_text(const char *item)
{
	static const char *const map[][2] = {
		{ "creep", "潜动试验" },        { "start", "起动试验" },   { "basic", "基本误差" },
		{ "constant", "仪表常数试验" }, { "clock", "日计时误差" }, { "ratio", "比值差" },
		{ "phase", "相位差" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!strcmp(item, map[i][0]))
			return map[i][1];
	}
	return item;
}

/* Verification regulation per model kind (domain.md §1.1, §2). */
static const char *regulation_of(const char *kind)
{
	if (!strcmp(kind, "ct"))
		return "JJG 313-2010 测量用电流互感器";
	if (!strcmp(kind, "vt"))
		return "JJG 314-2010 测量用电压互感器";
	return "JJG 596-2012 电子式交流电能表";
}

size_t cert_source_count(const struct cert_source *s)
{
	return s->n;
}

const struct cert_doc *cert_source_doc(const struct cert_source *s, size_t i)
{
	return i < s->n ? &s->docs[i].doc : NULL;
}

long long cert_source_asset(const struct cert_source *s, size_t i)
{
	return i < s->n ? s->docs[i].asset_id : 0;
}

const char *cert_source_operator(const struct cert_source *s)
{
	return db_get(s->res[Q_RUN], 0, "operator");
}

void cert_source_free(struct cert_source *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->docs[i].items);
		free(s->docs[i].errors);
		free(s->docs[i].xfmr);
	}
	free(s->docs);
	free(s->standards);
	for (int q = 0; q < Q_COUNT; q++)
		PQclear(s->res[q]);
	free(s);
}

/* Rows of res whose asset_id equals id: [*first, *first + count). res is ordered by asset_id. */
static size_t rows_of(const PGresult *res, long long id, int *first)
{
	int n = PQntuples(res);
	size_t count = 0;
	*first = -1;
	for (int i = 0; i < n; i++) {
		if (strtoll(PQgetvalue(res, i, 0), NULL, 10) != id)
			continue;
		if (*first < 0)
			*first = i;
		count++;
	}
	return count;
}

static int fill_items(struct cert_source *s, struct src_doc *d, struct ml_error *err)
{
	const PGresult *r = s->res[Q_ITEMS];
	int f;
	size_t n = rows_of(r, d->asset_id, &f);
	d->items = calloc(n ? n : 1, sizeof(*d->items));
	if (!d->items)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int row = f + (int)i;
		d->items[i] = (struct cert_item){ item_text(db_get(r, row, "item")),
						  verdict_text(db_get(r, row, "verdict")),
						  db_get(r, row, "detail") };
	}
	d->doc.items = d->items;
	d->doc.n_items = n;
	return ML_OK;
}

static int fill_errors(struct cert_source *s, struct src_doc *d, struct ml_error *err)
{
	const PGresult *r = s->res[Q_ERRORS];
	int f;
	size_t n = rows_of(r, d->asset_id, &f);
	d->errors = calloc(n ? n : 1, sizeof(*d->errors));
	if (!d->errors)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int row = f + (int)i;
		d->errors[i] = (struct cert_error_row){
			.load = db_get(r, row, "load"),
			.current = db_get(r, row, "current"),
			.pf = db_get(r, row, "pf"),
			.element = db_get(r, row, "element"),
			.readings = db_get(r, row, "readings"),
			.mean = db_get(r, row, "mean"),
			.rounded = db_get(r, row, "rounded"),
			.limit = db_get(r, row, "lim"),
			.verdict = verdict_text(db_get(r, row, "verdict")),
		};
	}
	d->doc.errors = d->errors;
	d->doc.n_errors = n;
	return ML_OK;
}

static int fill_xfmr(struct cert_source *s, struct src_doc *d, struct ml_error *err)
{
	const PGresult *r = s->res[Q_XFMR];
	int f;
	size_t n = rows_of(r, d->asset_id, &f);
	d->xfmr = calloc(n ? n : 1, sizeof(*d->xfmr));
	if (!d->xfmr)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int row = f + (int)i;
		d->xfmr[i] = (struct cert_xfmr_row){
			.percent = db_get(r, row, "percent"),
			.burden = db_get(r, row, "burden"),
			.ratio_error = db_get(r, row, "ratio_error"),
			.phase = db_get(r, row, "phase"),
			.ratio_limit = db_get(r, row, "ratio_limit"),
			.phase_limit = db_get(r, row, "phase_limit"),
			.verdict = verdict_text(db_get(r, row, "verdict")),
		};
	}
	d->doc.xfmr = d->xfmr;
	d->doc.n_xfmr = n;
	return ML_OK;
}

static void fill_cover(struct cert_source *s, struct src_doc *d, int row, long long run_id)
{
	const PGresult *run = s->res[Q_RUN], *pos = s->res[Q_POS];
	int pass = !strcmp(db_get(pos, row, "verdict"), "pass");
	struct cert_doc *c = &d->doc;
	snprintf(d->record_no, sizeof(d->record_no), "R%lld-%02d", run_id,
		 atoi(db_get(pos, row, "position")));
	c->kind = pass ? CERT_KIND_CERTIFICATE : CERT_KIND_NOTICE;
	c->record_no = d->record_no;
	c->client = db_get(run, 0, "client");
	c->instrument = db_get(run, 0, "instrument");
	c->model = db_get(run, 0, "model");
	c->spec = db_get(run, 0, "spec");
	c->barcode = db_get(pos, row, "barcode");
	c->manufacturer = db_get(run, 0, "manufacturer");
	c->regulation = regulation_of(db_get(run, 0, "kind"));
	c->accuracy_class = db_get(run, 0, "accuracy_class");
	c->conclusion = pass ? "合格" : "不合格";
	c->verifier = db_get(run, 0, "operator");
	c->verified_on = db_get(run, 0, "run_date");
	c->valid_until = pass ? db_get(pos, row, "valid_until") : NULL;
	c->place = db_get(run, 0, "place");
	c->temperature = db_get(run, 0, "temperature"); /* NULL when not recorded: printed as "—" */
	c->humidity = db_get(run, 0, "humidity");
	c->standards = s->standards;
	c->n_standards = s->n_standards;
}

static int load_standards(struct cert_source *s, struct ml_error *err)
{
	const PGresult *r = s->res[Q_STD];
	size_t n = (size_t)PQntuples(r);
	s->standards = calloc(n ? n : 1, sizeof(*s->standards));
	if (!s->standards)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int row = (int)i;
		s->standards[i] = (struct cert_standard){ db_get(r, row, "name"),
							  db_get(r, row, "range_text"),
							  db_get(r, row, "accuracy"),
							  db_get(r, row, "cert_no"),
							  db_get(r, row, "valid_until") };
	}
	s->n_standards = n;
	return ML_OK;
}

/* Default text of a lab setting (lab/settings.c table); "?" if the key is unknown. */
static const char *setting_default(const char *key)
{
	size_t n = 0;
	const struct lab_setting_desc *t = lab_settings_table(&n);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(t[i].key, key))
			return t[i].def;
	}
	return "?";
}

static int run_queries(struct db *db, long long run_id, struct cert_source *s, struct ml_error *err)
{
	static const char *const sql[Q_COUNT] = { run_sql,    pos_sql,  items_sql,
						  errors_sql, xfmr_sql, std_sql };
	char rid[24];
	snprintf(rid, sizeof(rid), "%lld", run_id);
	const char *p[3] = { rid, setting_default("creep.max_pulses"),
			     setting_default("start.min_pulses") };
	for (int q = 0; q < Q_COUNT; q++) {
		int rc = db_exec(db, sql[q], q == Q_ITEMS ? 3 : 1, p, PGRES_TUPLES_OK, &s->res[q],
				 err);
		if (rc)
			return ml_error_prefix(err, "loading run %lld for certificates: ", run_id);
		if (q == Q_RUN && PQntuples(s->res[q]) != 1)
			return ml_errorf(err, ML_ENOTFOUND, "run %lld not found", run_id);
		if (q == Q_RUN && strcmp(db_get(s->res[q], 0, "status"), "finished"))
			return ml_errorf(
				err, ML_ESTATE,
				"run %lld is %s, not finished: certificates come from finished "
				"runs only",
				run_id, db_get(s->res[q], 0, "status"));
	}
	return ML_OK;
}

int cert_source_load(struct db *db, long long run_id, struct cert_source **out,
		     struct ml_error *err)
{
	*out = NULL;
	struct cert_source *s = calloc(1, sizeof(*s));
	if (!s)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	int rc = run_queries(db, run_id, s, err);
	if (!rc)
		rc = load_standards(s, err);
	size_t n = rc ? 0 : (size_t)PQntuples(s->res[Q_POS]);
	if (!rc && !(s->docs = calloc(n ? n : 1, sizeof(*s->docs))))
		rc = ml_errorf(err, ML_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		struct src_doc *d = &s->docs[i];
		s->n++;
		d->asset_id = strtoll(db_get(s->res[Q_POS], (int)i, "asset_id"), NULL, 10);
		fill_cover(s, d, (int)i, run_id);
		rc = fill_items(s, d, err);
		if (!rc)
			rc = fill_errors(s, d, err);
		if (!rc)
			rc = fill_xfmr(s, d, err);
	}
	if (rc) {
		cert_source_free(s);
		return rc;
	}
	*out = s;
	return ML_OK;
}

/* Ids of the run's originals in position order. */
static int run_cert_ids(struct db *db, long long run_id, long long **ids, size_t *n,
			struct ml_error *err)
{
	char rid[24];
	snprintf(rid, sizeof(rid), "%lld", run_id);
	const char *p[1] = { rid };
	PGresult *res = NULL;
	int rc = db_exec(
		db,
		"SELECT c.id FROM certificate c JOIN run_position p ON p.asset_id = c.asset_id AND p.run_id = c.run_id "
		"WHERE c.run_id = $1::bigint AND c.revision = 0 ORDER BY p.position",
		1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	size_t m = (size_t)PQntuples(res);
	*ids = calloc(m ? m : 1, sizeof(**ids));
	if (!*ids) {
		PQclear(res);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < m; i++)
		(*ids)[i] = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
	*n = m;
	PQclear(res);
	return ML_OK;
}

static int has_cert(struct db *db, long long asset_id, long long run_id, int *yes,
		    struct ml_error *err)
{
	char a[24], r[24];
	snprintf(a, sizeof(a), "%lld", asset_id);
	snprintf(r, sizeof(r), "%lld", run_id);
	const char *p[2] = { a, r };
	PGresult *res = NULL;
	int rc = db_query_one(
		db,
		"SELECT count(*) FROM certificate WHERE asset_id = $1::bigint AND run_id = $2::bigint "
		"AND revision = 0",
		2, p, &res, err);
	if (rc)
		return rc;
	*yes = atoi(PQgetvalue(res, 0, 0)) > 0;
	PQclear(res);
	return ML_OK;
}

static int drafts_locked(struct db *db, long long run_id, const struct cert_source *s,
			 const char *verifier, const char *issuer_id, size_t *created,
			 struct ml_error *err)
{
	int rc = ML_OK;
	for (size_t i = 0; i < s->n && !rc; i++) {
		int yes = 0;
		rc = has_cert(db, s->docs[i].asset_id, run_id, &yes, err);
		if (rc || yes)
			continue;
		rc = cert_draft_create(db, s->docs[i].asset_id, run_id, issuer_id, &s->docs[i].doc,
				       verifier ? verifier : cert_source_operator(s), NULL, err);
		if (!rc)
			(*created)++;
	}
	return rc;
}

int cert_source_drafts(struct db *db, long long run_id, const char *verifier, const char *issuer_id,
		       long long **ids, size_t *n, size_t *created, struct ml_error *err)
{
	*ids = NULL;
	*n = 0;
	*created = 0;
	struct cert_source *s = NULL;
	int rc = cert_source_load(db, run_id, &s, err);
	if (!rc && s->n == 0)
		rc = ml_errorf(err, ML_ESTATE,
			       "run %lld has no concluded assets: nothing to certify", run_id);
	/* The verifier signs the certificate: a run started without --operator
	 * records the placeholder "unknown" (lab/task.c), which cannot sign. */
	if (!rc && !verifier && !strcmp(cert_source_operator(s), "unknown"))
		rc = ml_errorf(
			err, ML_EINVAL,
			"run %lld has no recorded operator to sign as verifier (检定员): give the "
			"verifier's name",
			run_id);
	if (!rc)
		rc = db_begin(db, err);
	if (!rc)
		rc = drafts_locked(db, run_id, s, verifier, issuer_id, created, err);
	rc = db_finish(db, rc, err);
	if (rc)
		*created = 0;
	cert_source_free(s);
	return rc ? rc : run_cert_ids(db, run_id, ids, n, err);
}
