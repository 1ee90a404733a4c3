/*
 * bench_gen — grow a scratch registry to N assets with a realistic history,
 * at COPY speed, for the province-scale benchmarks (issue 10).
 *
 *   bench_gen [--db CONNINFO] --to N [--lot-size 100000] [--block 200000]
 *             [--now YYYY-MM-DD] [--no-analyze] [--serial]
 *
 * The database must be migrated (meterlab db migrate) and is meant to be a
 * scratch database: rows are written with binary COPY as the connecting
 * role (the benchmarks use the cluster's superuser), through every trigger
 * of the schema (reference checks, maintained counts), so what is loaded
 * is what the application would have written — only faster than 100 calls
 * of asset receive and millions of moves.
 *
 * What is generated (deterministic: the same N gives the same registry):
 *   catalogue   6 manufacturers, 20 device models (single/three-phase
 *               meters, CTs, VTs, concentrators), the lab, 100 secondary
 *               stores, 300 field teams, 2 000 customer districts, makers;
 *   lots        deliveries of --lot-size assets (one model each), lot k
 *               arriving on 2024-01-02 + 10.5 days * k, so ids grow with
 *               arrival time as in a real registry and 10 M assets span
 *               2024-01 .. 2026-11;
 *   assets      State Grid barcodes with a valid check digit, the state,
 *               location and validity their history ends in;
 *   history     receive, arrival sampling (2 %), verify_start/pass/fail in
 *               bench runs of 24, dispatch + receive_secondary (85 %), issue
 *               to a field team, install at a district, and for some
 *               removal, fault analysis, re-verification, scrap or return
 *               to the maker — every event up to --now (default
 *               2026-12-01), about 6 per asset.
 * Growth is incremental: the program continues after the lots it already
 * made (GEN-nnnnnn), so 100 k -> 1 M -> 10 M reuses the earlier rows.
 *
 * Each block of assets is one transaction for the assets (their lots are
 * inserted first) and one for their events, the two loaded at the same time
 * on two connections while the next block is generated; events are sent in
 * day order within a block,
 * so a partition holds a few time-ordered runs (one per block) as a live
 * registry's partitions hold one: BRIN on occurred_at stays meaningful. At the end the
 * sequences are moved past the ids used and the tables are ANALYZEd
 * (--no-analyze leaves statistics to autovacuum). Prints rows/s per table
 * and the database size per asset.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assets/barcode.h"
#include "assets/lifecycle.h"
#include "bench_time.h"
#include "sql/db.h"

/* ---- small helpers ---- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s += 0x9E3779B97F4A7C15ULL;
	return mix64(r->s);
}

/* Uniform in [0, n). */
static int64_t rnd_below(struct rng *r, int64_t n)
{
	return n > 0 ? (int64_t)(rnd(r) % (uint64_t)n) : 0;
}

/* Percent chance. */
static int chance(struct rng *r, int per_mille)
{
	return rnd_below(r, 1000) < per_mille;
}

/* Days since 1970-01-01 <-> civil date (H. Hinnant's algorithms). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* PostgreSQL's date + n months (day clamped to the month's end). */
static int64_t add_months(int64_t day, int months)
{
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	int mi = y * 12 + (m - 1) + months;
	y = mi / 12;
	m = mi % 12 + 1;
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int last = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0));
	return days_from_civil(y, m, d < last ? d : last);
}

#define DAY 86400LL
#define PG_EPOCH_DAYS 10957LL /* 2000-01-01 in days since 1970-01-01 */

/* ---- binary COPY buffer ---- */

struct bbuf {
	char *p;
	size_t len, cap;
};

static void bb_reserve(struct bbuf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	size_t nc = b->cap ? b->cap : 1 << 16;
	while (nc < b->len + n)
		nc *= 2;
	char *q = realloc(b->p, nc);
	if (!q) {
		fprintf(stderr, "bench_gen: out of memory (%zu bytes)\n", nc);
		exit(8);
	}
	b->p = q;
	b->cap = nc;
}

static void bb_u16(struct bbuf *b, uint16_t v)
{
	bb_reserve(b, 2);
	b->p[b->len++] = (char)(v >> 8);
	b->p[b->len++] = (char)v;
}

static void bb_u32(struct bbuf *b, uint32_t v)
{
	bb_reserve(b, 4);
	for (int i = 3; i >= 0; i--)
		b->p[b->len++] = (char)(v >> (8 * i));
}

static void bb_u64(struct bbuf *b, uint64_t v)
{
	bb_reserve(b, 8);
	for (int i = 7; i >= 0; i--)
		b->p[b->len++] = (char)(v >> (8 * i));
}

static void f_null(struct bbuf *b)
{
	bb_u32(b, 0xFFFFFFFFu);
}

static void f_i64(struct bbuf *b, int64_t v)
{
	bb_u32(b, 8);
	bb_u64(b, (uint64_t)v);
}

static void f_text(struct bbuf *b, const char *s, size_t n)
{
	bb_u32(b, (uint32_t)n);
	bb_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void f_str(struct bbuf *b, const char *s)
{
	f_text(b, s, strlen(s));
}

/* timestamptz: microseconds since 2000-01-01 00:00 UTC. */
static void f_ts(struct bbuf *b, int64_t unix_s)
{
	f_i64(b, (unix_s - PG_EPOCH_DAYS * DAY) * 1000000LL);
}

/* date: days since 2000-01-01. */
static void f_date(struct bbuf *b, int64_t day)
{
	bb_u32(b, 4);
	bb_u32(b, (uint32_t)(int32_t)(day - PG_EPOCH_DAYS));
}

/* jsonb binary: version byte 1 + the JSON text. */
static void f_jsonb(struct bbuf *b, const char *json)
{
	size_t n = strlen(json);
	bb_u32(b, (uint32_t)n + 1);
	bb_reserve(b, n + 1);
	b->p[b->len++] = 1;
	memcpy(b->p + b->len, json, n);
	b->len += n;
}

static void bb_header(struct bbuf *b)
{
	static const char sig[11] = {
		'P', 'G', 'C', 'O', 'P', 'Y', '\n', (char)0xFF, '\r', '\n', 0
	};
	bb_reserve(b, 11);
	memcpy(b->p + b->len, sig, 11);
	b->len += 11;
	bb_u32(b, 0);
	bb_u32(b, 0);
}

static int copy_send(struct db *db, const char *sql, const struct bbuf *head, struct bbuf *parts,
		     int nparts, struct ml_error *err)
{
	PGconn *c = db_conn(db);
	PGresult *res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		int rc = db_result_error(db, res, "COPY", err);
		PQclear(res);
		return rc;
	}
	PQclear(res);
	int ok = PQputCopyData(c, head->p, (int)head->len) == 1;
	for (int i = 0; i < nparts && ok; i++) {
		/* libpq takes an int length: send in slices */
		for (size_t off = 0; off < parts[i].len && ok;) {
			size_t n = parts[i].len - off;
			if (n > (1u << 26))
				n = 1u << 26;
			ok = PQputCopyData(c, parts[i].p + off, (int)n) == 1;
			off += n;
		}
	}
	static const char trailer[2] = { (char)0xFF, (char)0xFF };
	ok = ok && PQputCopyData(c, trailer, 2) == 1;
	int rc = ML_OK;
	if (PQputCopyEnd(c, ok ? NULL : "bench_gen: send failed") != 1)
		rc = ml_errorf(err, ML_EDB, "COPY: %s", PQerrorMessage(c));
	while ((res = PQgetResult(c)) != NULL) {
		if (!rc && PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = db_result_error(db, res, "COPY", err);
		PQclear(res);
	}
	return rc;
}

/* ---- the catalogue ---- */

#define N_MFR 6
#define N_MODEL 20
#define N_STORE 100
#define N_TEAM 300
#define N_DISTRICT 2000

struct gmodel {
	const char *code, *kind, *cls, *conn, *wiring, *un, *ib, *imax, *constant;
	int period;
	int weight;        /* share of lots, per mille */
	const char *type2; /* barcode asset-type digits */
};

static const struct gmodel models[N_MODEL] = {
	{ "GEN-DDZY-A", "meter_1p", "2", "direct", "1p2w", "220", "5", "60", "1200", 96, 160,
	  "01" },
	{ "GEN-DDZY-B", "meter_1p", "2", "direct", "1p2w", "220", "10", "60", "1200", 96, 120,
	  "01" },
	{ "GEN-DDZY-C", "meter_1p", "1", "direct", "1p2w", "220", "5", "60", "1200", 96, 100,
	  "01" },
	{ "GEN-DDZY-D", "meter_1p", "1", "direct", "1p2w", "220", "10", "100", "1000", 96, 80,
	  "01" },
	{ "GEN-DDZY-E", "meter_1p", "2", "direct", "1p2w", "220", "5", "80", "1200", 96, 70, "01" },
	{ "GEN-DDZY-F", "meter_1p", "1", "direct", "1p2w", "220", "5", "60", "1600", 96, 70, "01" },
	{ "GEN-DTZY-A", "meter_3p", "1", "direct", "3p4w", "220", "10", "100", "400", 96, 80,
	  "02" },
	{ "GEN-DTZY-B", "meter_3p", "0.5S", "transformer", "3p4w", "57.7", "1.5", "6", "6400", 72,
	  50, "02" },
	{ "GEN-DTZY-C", "meter_3p", "0.2S", "transformer", "3p4w", "57.7", "1.5", "6", "20000", 72,
	  30, "02" },
	{ "GEN-DTZY-D", "meter_3p", "1", "direct", "3p4w", "220", "5", "60", "800", 96, 40, "02" },
	{ "GEN-DSZY-A", "meter_3p", "0.5S", "transformer", "3p3w", "100", "1.5", "6", "6400", 72,
	  20, "02" },
	{ "GEN-DTZY-E", "meter_3p", "1", "direct", "3p4w", "220", "20", "80", "400", 96, 30, "02" },
	{ "GEN-LMZ-A", "ct", "0.2S", NULL, NULL, NULL, NULL, NULL, NULL, 120, 30, "03" },
	{ "GEN-LMZ-B", "ct", "0.5S", NULL, NULL, NULL, NULL, NULL, NULL, 120, 20, "03" },
	{ "GEN-LZZ-A", "ct", "0.2", NULL, NULL, NULL, NULL, NULL, NULL, 120, 15, "03" },
	{ "GEN-JDZ-A", "vt", "0.2", NULL, NULL, NULL, NULL, NULL, NULL, 120, 20, "04" },
	{ "GEN-JDZ-B", "vt", "0.5", NULL, NULL, NULL, NULL, NULL, NULL, 120, 15, "04" },
	{ "GEN-JZQ-A", "concentrator", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 96, 10, "05" },
	{ "GEN-JZQ-B", "concentrator", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 96, 5, "05" },
	{ "GEN-CJQ-A", "concentrator", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 96, 5, "05" },
};

struct catalogue {
	int64_t mfr[N_MFR];
	int64_t model[N_MODEL];
	int64_t central, lab;
	int64_t store[N_STORE], team[N_TEAM], district[N_DISTRICT], maker[N_MFR];
};

static int exec_sql(struct db *db, const char *sql, int n, const char *const *p,
		    struct ml_error *err)
{
	return db_cmd(db, sql, n, p, err);
}

static int64_t one_id(struct db *db, const char *sql, int n, const char *const *p,
		      struct ml_error *err)
{
	PGresult *res = NULL;
	if (db_query_one(db, sql, n, p, &res, err))
		return -1;
	int64_t v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

static int loc_add(struct db *db, const char *code, const char *name, const char *kind,
		   int64_t parent, int64_t *id, struct ml_error *err)
{
	char par[24];
	snprintf(par, sizeof(par), "%" PRId64, parent);
	const char *p[4] = { code, name, kind, parent > 0 ? par : NULL };
	int rc = exec_sql(db,
			  "INSERT INTO location (code, name, kind, parent_id) "
			  "VALUES ($1, $2, $3, $4::bigint) ON CONFLICT (code) DO NOTHING",
			  4, p, err);
	if (rc)
		return rc;
	*id = one_id(db, "SELECT location_id FROM location WHERE code = $1", 1, p, err);
	return *id < 0 ? ML_EDB : ML_OK;
}

static int setup_catalogue(struct db *db, struct catalogue *cat, struct ml_error *err)
{
	static const char *const mfr_name[N_MFR] = { "华立科技", "威胜集团", "林洋能源",
						     "科陆电子", "许继电气", "东方电子" };
	int rc = ML_OK;
	char code[32], name[64];
	for (int i = 0; i < N_MFR && !rc; i++) {
		snprintf(code, sizeof(code), "GEN-M%02d", i + 1);
		const char *p[2] = { code, mfr_name[i] };
		rc = exec_sql(db,
			      "INSERT INTO manufacturer (code, name) VALUES ($1, $2) "
			      "ON CONFLICT (code) DO NOTHING",
			      2, p, err);
		if (!rc)
			cat->mfr[i] = one_id(
				db, "SELECT manufacturer_id FROM manufacturer WHERE code = $1", 1,
				p, err);
		if (!rc && cat->mfr[i] < 0)
			rc = ML_EDB;
	}
	for (int i = 0; i < N_MODEL && !rc; i++) {
		const struct gmodel *m = &models[i];
		char mf[24], period[16];
		snprintf(mf, sizeof(mf), "%" PRId64, cat->mfr[i % N_MFR]);
		snprintf(period, sizeof(period), "%d", m->period);
		int ct = !strcmp(m->kind, "ct"), vt = !strcmp(m->kind, "vt");
		const char *p[15] = { m->code,
				      mf,
				      m->code,
				      m->kind,
				      m->cls,
				      m->conn,
				      m->wiring,
				      m->un,
				      m->ib,
				      m->imax,
				      m->constant,
				      period,
				      ct   ? "1000"
				      : vt ? "10000"
					   : NULL,
				      ct   ? "5"
				      : vt ? "100"
					   : NULL,
				      ct || vt ? "10" : NULL };
		rc = exec_sql(
			db,
			"INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, "
			"connection, wiring, un_v, ib_a, imax_a, constant_imp, verification_period_months, "
			"ct_primary_a, ct_secondary_a, rated_burden_va, vt_primary_v, vt_secondary_v) "
			"VALUES ($1, $2::bigint, $3, $4, $5, $6, $7, $8::numeric, $9::numeric, $10::numeric, "
			"$11::integer, $12::integer, CASE WHEN $4 = 'ct' THEN $13::numeric END, "
			"CASE WHEN $4 = 'ct' THEN $14::numeric END, $15::numeric, "
			"CASE WHEN $4 = 'vt' THEN $13::numeric END, CASE WHEN $4 = 'vt' THEN $14::numeric END) "
			"ON CONFLICT (code) DO NOTHING",
			15, p, err);
		if (!rc)
			cat->model[i] = one_id(
				db, "SELECT model_id FROM device_model WHERE code = $1", 1, p, err);
		if (!rc && cat->model[i] < 0)
			rc = ML_EDB;
	}
	const char *pc[1] = { "CENTRAL" };
	if (!rc)
		cat->central = one_id(db, "SELECT location_id FROM location WHERE code = $1", 1, pc,
				      err);
	if (!rc && cat->central < 0)
		rc = ML_EDB;
	if (!rc)
		rc = loc_add(db, "GEN-LAB", "计量检定实验室", "lab", cat->central, &cat->lab, err);
	for (int i = 0; i < N_STORE && !rc; i++) {
		snprintf(code, sizeof(code), "GEN-S%03d", i + 1);
		snprintf(name, sizeof(name), "二级表库 %03d", i + 1);
		rc = loc_add(db, code, name, "secondary_store", cat->central, &cat->store[i], err);
	}
	for (int i = 0; i < N_TEAM && !rc; i++) {
		snprintf(code, sizeof(code), "GEN-T%03d", i + 1);
		snprintf(name, sizeof(name), "装表班组 %03d", i + 1);
		rc = loc_add(db, code, name, "field_team", cat->store[i / 3], &cat->team[i], err);
	}
	for (int i = 0; i < N_DISTRICT && !rc; i++) {
		snprintf(code, sizeof(code), "GEN-D%04d", i + 1);
		snprintf(name, sizeof(name), "供电台区 %04d", i + 1);
		rc = loc_add(db, code, name, "customer_site", cat->team[i % N_TEAM],
			     &cat->district[i], err);
	}
	for (int i = 0; i < N_MFR && !rc; i++) {
		snprintf(code, sizeof(code), "GEN-MK%02d", i + 1);
		snprintf(name, sizeof(name), "%s（返厂）", mfr_name[i]);
		rc = loc_add(db, code, name, "maker", 0, &cat->maker[i], err);
	}
	return rc;
}

/* ---- one asset's life ---- */

struct gev {
	int64_t t;
	signed char action, from, to; /* from = -1: creation (receive) */
	int64_t loc;
};

#define MAX_EV 16
#define RECEIVE_ACTION (-1)

struct life {
	struct gev ev[MAX_EV];
	int n;
	int state;
	int64_t loc;
	int64_t valid_until; /* day, -1 = none */
	int64_t state_t;
};

struct lotinfo {
	int64_t k;  /* global lot index */
	int64_t id; /* lot_id */
	int64_t t;  /* arrival (unix s) */
	int model;  /* index into models */
	int64_t g0; /* first global asset index */
	int64_t size;
	char code[32];
};

static int64_t lot_arrival(int64_t k)
{
	/* 2024-01-02 08:00 UTC + 10.5 days per lot */
	return days_from_civil(2024, 1, 2) * DAY + 8 * 3600 + k * (21 * DAY / 2);
}

static int pick_model(int64_t k)
{
	int64_t w = (int64_t)(mix64((uint64_t)k * 7919 + 17) % 1000);
	for (int i = 0; i < N_MODEL; i++) {
		w -= models[i].weight;
		if (w < 0)
			return i;
	}
	return 0;
}

static int push(struct life *L, int64_t t, int64_t now, int action, int to, int64_t loc)
{
	if (t > now || L->n == MAX_EV)
		return 0;
	struct gev *e = &L->ev[L->n++];
	e->t = t;
	e->action = (signed char)action;
	e->from = (signed char)(L->n == 1 ? -1 : L->state);
	e->to = (signed char)to;
	e->loc = loc;
	L->state = to;
	L->loc = loc;
	L->state_t = t;
	return 1;
}

/*
 * The history of asset g (global index) of lot l, every event up to now.
 * Times follow how the centre works: deliveries verified in bench runs of
 * 24 (160 runs a day), dispatched to a secondary store, issued to the
 * store's field teams and installed in their districts.
 */
static void make_life(const struct catalogue *cat, const struct lotinfo *l, int64_t g, int64_t now,
		      struct life *L)
{
	struct rng r = { mix64((uint64_t)g * 0x2545F4914F6CDD1DULL + 1) };
	int64_t i = g - l->g0;
	L->n = 0;
	L->valid_until = -1;
	L->state = ASSET_ARRIVED;
	push(L, l->t, now, RECEIVE_ACTION, ASSET_ARRIVED, cat->central);
	if (chance(&r, 20)) { /* arrival sampling, GB/T 2828.1 */
		int64_t ts = l->t + DAY + rnd_below(&r, 8 * 3600);
		if (!push(L, ts, now, ASSET_ACT_SAMPLE, ASSET_SAMPLING, cat->lab))
			return;
		if (!push(L, ts + 4 * 3600, now, ASSET_ACT_SAMPLE_RETURN, ASSET_ARRIVED,
			  cat->central))
			return;
	}
	int64_t run = i / 24;
	int64_t t = l->t + 2 * DAY + (run / 160) * DAY + (run % 160) * 270;
	if (!push(L, t, now, ASSET_ACT_VERIFY_START, ASSET_VERIFYING, cat->lab))
		return;
	t += 75 * 60;
	const struct gmodel *m = &models[l->model];
	int mk = l->model % N_MFR;
	if (chance(&r, 15)) {
		if (!push(L, t, now, ASSET_ACT_VERIFY_FAIL, ASSET_FAILED, cat->lab))
			return;
		t += 20 * DAY + rnd_below(&r, 40 * DAY);
		if (chance(&r, 500))
			push(L, t, now, ASSET_ACT_RETURN_TO_MAKER, ASSET_RETURNED_TO_MAKER,
			     cat->maker[mk]);
		else
			push(L, t, now, ASSET_ACT_SCRAP, ASSET_SCRAPPED, cat->lab);
		return;
	}
	if (!push(L, t, now, ASSET_ACT_VERIFY_PASS, ASSET_IN_STOCK, cat->central))
		return;
	L->valid_until = add_months(t / DAY, m->period) - 1;
	int store = (int)rnd_below(&r, N_STORE);
	int team = store * 3 + (int)rnd_below(&r, 3);
	if (chance(&r, 850)) {
		t += 3 * DAY + rnd_below(&r, 57 * DAY);
		if (!push(L, t, now, ASSET_ACT_DISPATCH, ASSET_IN_TRANSIT, cat->store[store]))
			return;
		t += DAY + rnd_below(&r, 2 * DAY);
		if (!push(L, t, now, ASSET_ACT_RECEIVE_SECONDARY, ASSET_SECONDARY_STOCK,
			  cat->store[store]))
			return;
	}
	t += 5 * DAY + rnd_below(&r, 115 * DAY);
	if (t / DAY > L->valid_until)
		return; /* expired in stock: waits for re-verification */
	if (!push(L, t, now, ASSET_ACT_ISSUE, ASSET_ISSUED, cat->team[team]))
		return;
	t += DAY + rnd_below(&r, 9 * DAY);
	int district = (team + N_TEAM * (int)rnd_below(&r, N_DISTRICT / N_TEAM)) % N_DISTRICT;
	if (!push(L, t, now, ASSET_ACT_INSTALL, ASSET_INSTALLED, cat->district[district]))
		return;
	if (!chance(&r, 60))
		return;
	t += 30 * DAY + rnd_below(&r, 670 * DAY);
	if (!push(L, t, now, ASSET_ACT_REMOVE, ASSET_REMOVED, cat->store[store]))
		return;
	t += 5 * DAY + rnd_below(&r, 60 * DAY);
	int64_t u = rnd_below(&r, 10);
	if (u < 4) {
		if (!push(L, t, now, ASSET_ACT_FAULT_REPORT, ASSET_FAULT_ANALYSIS, cat->lab))
			return;
		t += 10 * DAY + rnd_below(&r, 30 * DAY);
		if (u < 2)
			push(L, t, now, ASSET_ACT_RETURN_TO_MAKER, ASSET_RETURNED_TO_MAKER,
			     cat->maker[mk]);
		else
			push(L, t, now, ASSET_ACT_SCRAP, ASSET_SCRAPPED, cat->lab);
	} else if (u < 7) {
		push(L, t, now, ASSET_ACT_REUSE, ASSET_REVERIFY, cat->central);
	} else {
		push(L, t, now, ASSET_ACT_SCRAP, ASSET_SCRAPPED, cat->store[store]);
	}
}

/* ---- one block: lots, assets and their events ---- */

/* Events are sent in day order within a block: buckets from 2024-01-01,
 * the first and last take everything earlier or later. */
#define N_DAYS (13 * 366)

static int day_bucket(int64_t t)
{
	int64_t b = t / DAY - days_from_civil(2024, 1, 1);
	return b < 0 ? 0 : b >= N_DAYS ? N_DAYS - 1 : (int)b;
}

static const char *const actors[] = { "clerk.gen", "tech.gen", "store.gen", "team.gen" };

static const char *actor_of(int action)
{
	switch (action) {
	case RECEIVE_ACTION:
	case ASSET_ACT_DISPATCH:
		return actors[0];
	case ASSET_ACT_SAMPLE:
	case ASSET_ACT_SAMPLE_RETURN:
	case ASSET_ACT_VERIFY_START:
	case ASSET_ACT_VERIFY_PASS:
	case ASSET_ACT_VERIFY_FAIL:
	case ASSET_ACT_FAULT_REPORT:
		return actors[1];
	case ASSET_ACT_INSTALL:
	case ASSET_ACT_REMOVE:
		return actors[3];
	default:
		return actors[2];
	}
}

struct gen {
	struct db *db;
	struct catalogue cat;
	int64_t now;
	int64_t lot_size;
	int64_t next_asset_id, next_event_id;
	int64_t n_assets, n_events;
	double t_assets, t_events, t_gen;
};

static void lot_sha(int64_t k, char out[65])
{
	for (int i = 0; i < 4; i++)
		snprintf(out + 16 * i, 17, "%016" PRIx64,
			 mix64((uint64_t)k * 4 + (uint64_t)i + 0x5EED));
}

static int insert_lot(struct gen *G, struct lotinfo *l, struct ml_error *err)
{
	char mfr[24], model[24], rows[24], at[24], sha[65];
	snprintf(mfr, sizeof(mfr), "%" PRId64, G->cat.mfr[l->model % N_MFR]);
	snprintf(model, sizeof(model), "%" PRId64, G->cat.model[l->model]);
	snprintf(rows, sizeof(rows), "%" PRId64, l->size);
	snprintf(at, sizeof(at), "%" PRId64, l->t);
	lot_sha(l->k, sha);
	const char *p[6] = { l->code, mfr, model, sha, rows, at };
	l->id = one_id(
		G->db,
		"INSERT INTO lot (code, manufacturer_id, model_id, supplier, file_name, file_sha256, "
		"row_count, received_by, received_at) VALUES ($1, $2::bigint, $3::bigint, 'generated', "
		"$1 || '.csv', $4, $5::integer, 'clerk.gen', to_timestamp($6::bigint)) RETURNING lot_id",
		6, p, err);
	return l->id < 0 ? ML_EDB : ML_OK;
}

static const char asset_copy[] =
	"COPY asset (asset_id, barcode, model_id, lot_id, production_batch, production_date, box_code, "
	"state, location_id, valid_until, state_changed_at, created_at) FROM STDIN (FORMAT binary)";
static const char event_copy[] =
	"COPY asset_event (asset_id, event_id, occurred_at, actor, location_id, from_state, to_state, "
	"action, details) FROM STDIN (FORMAT binary)";

/* One block: its lots, and the COPY data of its assets and of its events. */
struct block {
	struct lotinfo lots[64];
	int nlots;
	int64_t nas, nev;
	int64_t first_event_id;
	struct bbuf assets;
	struct bbuf *days; /* N_DAYS buckets */
};

static void block_free(struct block *k)
{
	free(k->assets.p);
	for (int i = 0; k->days && i < N_DAYS; i++)
		free(k->days[i].p);
	free(k->days);
	memset(k, 0, sizeof(*k));
}

/* Client side: the rows of every asset of the block and their events, ids assigned. */
static int gen_block(struct gen *G, struct block *k, struct ml_error *err)
{
	double t0 = now_s();
	k->days = calloc(N_DAYS, sizeof(*k->days));
	if (!k->days)
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	k->nas = k->nev = 0;
	k->first_event_id = G->next_event_id;
	char bc[23], batch[16], box[16], lotjson[64];
	struct life L;
	for (int li = 0; li < k->nlots; li++) {
		const struct lotinfo *l = &k->lots[li];
		const struct gmodel *m = &models[l->model];
		int64_t pdate = l->t / DAY - 30 - (int64_t)(mix64((uint64_t)l->k) % 150);
		snprintf(lotjson, sizeof(lotjson), "{\"lot\": \"%s\"}", l->code);
		for (int64_t g = l->g0; g < l->g0 + l->size; g++) {
			make_life(&G->cat, l, g, G->now, &L);
			int64_t id = G->next_asset_id + k->nas++;
			struct bbuf *a = &k->assets;
			barcode_make("41300", m->type2, 10000000 + (unsigned long long)g, bc, NULL);
			bb_u16(a, 12);
			f_i64(a, id);
			f_text(a, bc, 22);
			f_i64(a, G->cat.model[l->model]);
			f_i64(a, l->id);
			f_text(a, batch,
			       (size_t)snprintf(batch, sizeof(batch), "PB%06" PRId64, g / 5000));
			f_date(a, pdate);
			f_text(a, box, (size_t)snprintf(box, sizeof(box), "BX%09" PRId64, g / 24));
			f_str(a, asset_state_name((enum asset_state)L.state));
			f_i64(a, L.loc);
			if (L.valid_until >= 0)
				f_date(a, L.valid_until);
			else
				f_null(a);
			f_ts(a, L.state_t);
			f_ts(a, l->t);
			for (int e = 0; e < L.n; e++) {
				const struct gev *ev = &L.ev[e];
				struct bbuf *b = &k->days[day_bucket(ev->t)];
				bb_u16(b, 9);
				f_i64(b, id);
				f_i64(b, k->first_event_id + k->nev++);
				f_ts(b, ev->t);
				f_str(b, actor_of(ev->action));
				f_i64(b, ev->loc);
				if (ev->from < 0)
					f_null(b);
				else
					f_str(b, asset_state_name((enum asset_state)ev->from));
				f_str(b, asset_state_name((enum asset_state)ev->to));
				f_str(b,
				      ev->action == RECEIVE_ACTION
					      ? "receive"
					      : asset_action_name((enum asset_action)ev->action));
				f_jsonb(b, ev->action == RECEIVE_ACTION ? lotjson : "{}");
			}
		}
	}
	G->next_asset_id += k->nas;
	G->next_event_id += k->nev;
	G->t_gen += now_s() - t0;
	return ML_OK;
}

/* A loader thread: one COPY in one transaction on its own connection. */
struct loader {
	struct db *db;
	const struct block *k;
	int events; /* 0: the assets, 1: the events */
	int rc;
	double secs;
	struct ml_error err;
};

static void *load_part(void *arg)
{
	struct loader *w = arg;
	struct bbuf head = { 0 };
	bb_header(&head);
	double t0 = now_s();
	int rc = db_begin(w->db, &w->err);
	if (!rc && !w->events)
		rc = copy_send(w->db, asset_copy, &head, (struct bbuf *)&w->k->assets, 1, &w->err);
	if (!rc && w->events)
		rc = copy_send(w->db, event_copy, &head, w->k->days, N_DAYS, &w->err);
	if (!rc && w->events && w->k->nev) {
		char v[24];
		snprintf(v, sizeof(v), "%" PRId64, w->k->first_event_id + w->k->nev - 1);
		const char *p[1] = { v };
		rc = db_exec(w->db, "SELECT setval('asset_event_seq', $1::bigint)", 1, p,
			     PGRES_TUPLES_OK, NULL, &w->err);
	}
	if (!rc)
		rc = db_commit(w->db, &w->err);
	else
		db_rollback(w->db);
	w->secs = now_s() - t0;
	w->rc = rc;
	free(head.p);
	return NULL;
}

static int64_t parse_day(const char *s)
{
	int y, m, d;
	if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return -1;
	return days_from_civil(y, m, d);
}

static int report_size(struct db *db, int64_t n, struct ml_error *err)
{
	PGresult *res = NULL;
	int rc = db_exec(
		db,
		"WITH t(name, rel) AS (VALUES ('asset', 'asset'::regclass), ('asset_event', 'asset_event'), "
		"  ('lot', 'lot')), "
		"s AS (SELECT t.name, sum(pg_table_size(p.relid)) AS heap, sum(pg_indexes_size(p.relid)) AS idx "
		"  FROM t CROSS JOIN LATERAL (SELECT t.rel AS relid UNION SELECT relid FROM pg_partition_tree(t.rel)) p "
		"  GROUP BY t.name) "
		"SELECT name, heap, idx FROM s UNION ALL "
		"SELECT 'database', pg_database_size(current_database()), 0 ORDER BY 1",
		0, NULL, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	printf("size per asset (%" PRId64 " assets):\n", n);
	for (int r = 0; r < PQntuples(res); r++) {
		double heap = strtod(PQgetvalue(res, r, 1), NULL),
		       idx = strtod(PQgetvalue(res, r, 2), NULL);
		printf("  %-12s heap %8.1f MB  indexes %8.1f MB  %7.1f bytes/asset\n",
		       PQgetvalue(res, r, 0), heap / 1e6, idx / 1e6,
		       n ? (heap + idx) / (double)n : 0);
	}
	PQclear(res);
	return ML_OK;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_gen [--db CONNINFO] --to N [--lot-size N] [--block N] "
			"[--now YYYY-MM-DD] [--no-analyze] [--serial]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *conninfo = NULL;
	int64_t target = -1, lot_size = 100000, block = 200000,
		now_day = days_from_civil(2026, 12, 1);
	int analyze = 1, serial = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--db") && v)
			conninfo = argv[++i];
		else if (!strcmp(a, "--to") && v)
			target = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(a, "--lot-size") && v)
			lot_size = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(a, "--block") && v)
			block = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(a, "--now") && v)
			now_day = parse_day(argv[++i]);
		else if (!strcmp(a, "--no-analyze"))
			analyze = 0;
		else if (!strcmp(a, "--serial"))
			serial = 1;
		else
			usage();
	}
	if (target < 0 || lot_size < 1 || block < 1 || now_day < 0)
		usage();
	struct ml_error err = ML_ERROR_INIT;
	struct gen G = { .now = now_day * DAY, .lot_size = lot_size };
	if (db_connect(conninfo, &G.db, &err)) {
		fprintf(stderr, "bench_gen: %s\n", err.msg);
		return 6;
	}
	double t0 = now_s();
	int rc = setup_catalogue(G.db, &G.cat, &err);
	/* Where the generated registry stands: its lots, assets and the ids in use. */
	PGresult *res = NULL;
	if (!rc)
		rc = db_query_one(
			G.db,
			"SELECT (SELECT count(*) FROM lot WHERE code LIKE 'GEN-%'), "
			"(SELECT coalesce(sum(row_count), 0) FROM lot WHERE code LIKE 'GEN-%'), "
			"(SELECT coalesce(max(asset_id), 0) FROM asset), "
			"(SELECT last_value + 1 FROM asset_event_seq)",
			0, NULL, &res, &err);
	int64_t have_lots = 0, have = 0;
	if (!rc) {
		have_lots = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		have = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		G.next_asset_id = strtoll(PQgetvalue(res, 0, 2), NULL, 10) + 1;
		G.next_event_id = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
		PQclear(res);
	}
	int64_t lot_k = have_lots, g = have;
	/*
	 * A pipeline over two cores: while the server loads block i — its
	 * assets and its events at the same time, on two connections (asset_event
	 * has no foreign key to wait for) — the client generates block i + 1.
	 */
	struct db *conn[2] = { NULL, NULL };
	for (int i = 0; i < 2 && !rc; i++)
		rc = db_connect(conninfo, &conn[i], &err);
	struct block blk[2];
	memset(blk, 0, sizeof(blk));
	int cur = 0, have_cur = 0;
	while (!rc && (have_cur || g < target)) {
		/* lots of the next block (inserted now: their ids go into the rows) */
		struct block *next = &blk[cur ^ 1];
		int have_next = 0;
		if (g < target) {
			int64_t in_block = 0;
			next->nlots = 0;
			while (g < target && in_block < block && next->nlots < 64) {
				struct lotinfo *l = &next->lots[next->nlots++];
				memset(l, 0, sizeof(*l));
				l->k = lot_k++;
				l->t = lot_arrival(l->k);
				l->model = pick_model(l->k);
				l->g0 = g;
				l->size = target - g < lot_size ? target - g : lot_size;
				snprintf(l->code, sizeof(l->code), "GEN-%06" PRId64, l->k + 1);
				rc = insert_lot(&G, l, &err);
				if (rc)
					break;
				g += l->size;
				in_block += l->size;
			}
			have_next = !rc;
		}
		struct loader w[2] = { { .db = conn[0], .k = &blk[cur], .events = 0 },
				       { .db = conn[1], .k = &blk[cur], .events = 1 } };
		pthread_t th[2];
		int started = 0;
		if (!rc && have_cur && serial) {
			/* --serial: one thing at a time, for comparison */
			load_part(&w[0]);
			if (!w[0].rc)
				load_part(&w[1]);
			else
				w[1].rc = ML_OK;
			started = 0;
			for (int i = 0; i < 2 && !rc; i++) {
				if (w[i].rc) {
					rc = w[i].rc;
					err = w[i].err;
				}
			}
		}
		if (!rc && have_cur && !serial) {
			for (; started < 2; started++) {
				if (pthread_create(&th[started], NULL, load_part, &w[started])) {
					rc = ml_errorf(&err, ML_EINTERNAL,
						       "cannot start a loader thread");
					break;
				}
			}
		}
		if (!rc && have_next)
			rc = gen_block(&G, next, &err);
		for (int i = 0; i < started; i++)
			pthread_join(th[i], NULL);
		if (have_cur) {
			for (int i = 0; i < (serial ? 0 : started) && !rc; i++) {
				if (w[i].rc) {
					rc = w[i].rc;
					err = w[i].err;
				}
			}
			if (!rc) {
				G.t_assets += w[0].secs;
				G.t_events += w[1].secs;
				G.n_assets += blk[cur].nas;
				G.n_events += blk[cur].nev;
				fprintf(stderr, "bench_gen: %" PRId64 " assets loaded (%.0f s)\n",
					have + G.n_assets, now_s() - t0);
			}
			block_free(&blk[cur]);
		}
		cur ^= 1;
		have_cur = have_next && !rc;
	}
	for (int i = 0; i < 2; i++)
		block_free(&blk[i]);
	db_close(conn[0]);
	db_close(conn[1]);
	if (!rc && G.n_assets) {
		char v[24];
		snprintf(v, sizeof(v), "%" PRId64, G.next_asset_id - 1);
		const char *p[1] = { v };
		rc = db_exec(
			G.db,
			"SELECT setval(pg_get_serial_sequence('asset', 'asset_id'), $1::bigint)", 1,
			p, PGRES_TUPLES_OK, NULL, &err);
	}
	double t_load = now_s() - t0, t_an = 0;
	if (!rc && analyze && G.n_assets) {
		double a0 = now_s();
		rc = exec_sql(G.db, "ANALYZE", 0, NULL, &err);
		t_an = now_s() - a0;
	}
	if (!rc) {
		printf("bench_gen: registry grown from %" PRId64 " to %" PRId64 " assets\n", have,
		       g);
		if (G.n_assets) {
			printf("  generated %" PRId64 " assets + %" PRId64
			       " events (%.2f events/asset); client generation %.1f s\n",
			       G.n_assets, G.n_events, (double)G.n_events / (double)G.n_assets,
			       G.t_gen);
			printf("  assets  %.1f s  %.0f rows/s (one connection)\n", G.t_assets,
			       (double)G.n_assets / G.t_assets);
			printf("  events  %.1f s  %.0f rows/s (another, at the same time)\n",
			       G.t_events, (double)G.n_events / G.t_events);
			printf("  total load %.1f s (%.0f assets/s), ANALYZE %.1f s\n", t_load,
			       (double)G.n_assets / t_load, t_an);
		}
		rc = report_size(G.db, g, &err);
	}
	if (rc)
		fprintf(stderr, "bench_gen: %s\n", err.msg);
	db_close(G.db);
	return rc ? 6 : 0;
}
