/*
 * registry.h — the asset registry: catalogue (manufacturers, device
 * models), locations, receiving supplier deliveries, listing assets and
 * their history.
 *
 * Numbers in the catalogue (un_v, ib_a, …) travel as decimal TEXT and are
 * stored as PostgreSQL numeric: no binary floating point anywhere.
 * Thread-safety: one struct db per thread.
 */
#ifndef ML_ASSETS_REGISTRY_H
#define ML_ASSETS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "common/ml_error.h"
#include "sql/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- catalogue ---- */

int asset_manufacturer_add(struct db *db, const char *code, const char *name,
			   struct ml_error *err) ML_MUSTCHECK;

/* A device model; NULL fields are SQL NULL (or the column default). */
struct asset_model {
	const char *code, *manufacturer_code, *name;
	const char *kind;           /* meter_1p meter_3p ct vt concentrator */
	const char *accuracy_class; /* "1", "0.5S", "0.2S" … */
	const char *reactive_class;
	const char *connection;           /* direct | transformer (meters only) */
	const char *wiring;               /* 1p2w 3p4w 3p3w */
	const char *un_v, *ib_a, *imax_a; /* decimal text */
	const char *constant_imp;         /* imp/kWh, integer text */
	const char *clock_freq_hz;        /* NULL -> 1 */
	const char *ct_primary_a, *ct_secondary_a, *vt_primary_v, *vt_secondary_v, *rated_burden_va;
	const char *verification_period_months; /* required, integer text */
};

/*
 * Add a model. ML_EINVAL names the offending field (bad decimal, unknown
 * kind, missing period…), ML_ENOTFOUND for an unknown manufacturer,
 * ML_EEXISTS when the code is taken.
 */
int asset_model_add(struct db *db, const struct asset_model *m, struct ml_error *err) ML_MUSTCHECK;

/* 1 when s is a plain non-negative decimal ("220", "0.5", "1.25"): digits, at most one point. */
int asset_decimal_ok(const char *s);

/* Add a location/store; kind: central_store secondary_store bench lab field_team customer_site maker. */
int asset_location_add(struct db *db, const char *code, const char *name, const char *kind,
		       const char *parent_code, struct ml_error *err) ML_MUSTCHECK;

/* ---- receiving a delivery ---- */

/*
 * Delivery CSV (UTF-8, comma-separated, first line is the header):
 *   barcode,model_code,production_batch,production_date[,box_code]
 * barcode: 22-digit State Grid barcode (check digit verified);
 * model_code: an existing device_model.code; production_batch: 1–64 chars;
 * production_date: YYYY-MM-DD; box_code (optional column): packing box.
 * Columns may come in any order; unknown columns are refused. Fields may
 * be double-quoted ("" inside quotes is a quote). Blank lines are skipped.
 */
struct asset_import_issue {
	long line;       /* 1 = header */
	char column[32]; /* "barcode", "model_code", … or "" for the whole line */
	char value[80];  /* the offending value (truncated) */
	char reason[160];
};

struct asset_import_report {
	int64_t lot_id;
	size_t rows;                       /* rows imported (0 on failure) */
	char sha256[65];                   /* of the file bytes */
	struct asset_import_issue *issues; /* malloc'd, owned by the report */
	size_t nissues;
};

void asset_import_report_free(struct asset_import_report *rep); /* NULL-safe; frees issues only */

struct asset_receive_opts {
	const char *lot_code;  /* required, unique */
	const char *supplier;  /* free text, optional */
	const char *location;  /* store code; NULL -> "CENTRAL" */
	const char *file_name; /* recorded with the lot, optional */
};

/*
 * Import a delivery (data/len = the file bytes) into a new lot, all or
 * nothing, in one transaction: rows parsed and checked in C (quoting, field
 * count, NUL bytes, UTF-8, control characters), COPY into the database's
 * staging table, then one call of ml_asset_receive (0111), which checks
 * again set-based (barcode check digit, model, texts, dates not in the
 * future nor over 20 years old, duplicates, already registered) and inserts
 * the lot, the assets and their 'receive' events. Needs permission
 * asset.receive; the receiver recorded is the connection's user. EVERY bad
 * row is reported in rep->issues and the call returns ML_EINVAL with nothing
 * written. The same file (sha256) or the same lot code imported again is
 * ML_EEXISTS.
 */
int asset_receive(struct db *db, const struct asset_receive_opts *o, const char *data, size_t len,
		  struct asset_import_report *rep, struct ml_error *err) ML_MUSTCHECK;

/* Read a whole file into memory (malloc'd, NUL-terminated; caller frees). path "-" = stdin. */
int asset_read_file(const char *path, char **data, size_t *len, struct ml_error *err) ML_MUSTCHECK;

/* ---- listing ---- */

struct asset_filter {
	const char *state, *model, *lot, *location; /* NULL = any */
	int64_t after_id;                           /* keyset paging: asset_id > after_id */
	long limit;                                 /* 1..10000, 0 -> 100 */
};

/*
 * List assets ordered by asset_id, keyset-paged: a page costs about the
 * same whatever the filters and wherever it starts (migration 0172). Unknown
 * codes give an empty list. *out (caller PQclear()s) has columns
 * asset_id, barcode, model_code, lot_code, production_batch,
 * production_date, state, location, valid_until, state_changed_at.
 */
int asset_list(struct db *db, const struct asset_filter *f, PGresult **out,
	       struct ml_error *err) ML_MUSTCHECK;

/*
 * History of one asset, oldest first. *out (caller PQclear()s) has columns
 * event_id, occurred_at, actor, location, from_state, to_state, action,
 * reason, details.
 */
int asset_history(struct db *db, int64_t asset_id, PGresult **out,
		  struct ml_error *err) ML_MUSTCHECK;

/* Catalogue listing: models with manufacturer code; *out caller PQclear()s. */
int asset_model_list(struct db *db, PGresult **out, struct ml_error *err) ML_MUSTCHECK;
/* One model by id, same columns as asset_model_list; ML_ENOTFOUND when missing. */
int asset_model_get(struct db *db, int64_t model_id, PGresult **out,
		    struct ml_error *err) ML_MUSTCHECK;
int asset_location_list(struct db *db, PGresult **out, struct ml_error *err) ML_MUSTCHECK;
/* Arrival lots, newest first, with asset counts per state; *out caller PQclear()s. */
int asset_lot_list(struct db *db, PGresult **out, struct ml_error *err) ML_MUSTCHECK;

/*
 * Stock counts, maintained by the database with every change (migration
 * 0170), so reading them does not take longer as the registry grows.
 */
enum asset_stock_scope {
	ASSET_STOCK_STORES = 0, /* per store (central/secondary), model and state */
	ASSET_STOCK_PLACES = 1, /* per place of any kind, model and state */
	ASSET_STOCK_TOTALS = 2, /* province-wide per model and state */
};

struct asset_stock_filter {
	const char *state, *model, *location; /* NULL = any; location not with TOTALS */
	enum asset_stock_scope scope;
};

/*
 * One row per non-empty combination. *out (caller PQclear()s) has columns
 * location, kind, model, state, assets (TOTALS: model, state, assets),
 * ordered by location, model, state. A location filter names any place
 * (with STORES too). ML_EINVAL for an unknown state or a location with TOTALS.
 */
int asset_stock(struct db *db, const struct asset_stock_filter *f, PGresult **out,
		struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
