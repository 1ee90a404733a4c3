/*
 * routes.c — THE route table. The router, the OpenAPI document
 * (/api/openapi.json), the metrics labels and the permission-matrix test
 * (tests/server) are all driven by it: a route added here is documented,
 * measured and tried by every role without further work.
 *
 * perm is checked inside the request's transaction by the database
 * (ml_api_enter → ml_require, the one role → permission table); NULL means
 * any logged-in user. Changes check their own rules in the database
 * functions they call.
 */
#include "server/srv.h"

/* ---- parameters ---- */

static const struct route_param p_barcode[] = {
	{ "barcode", PT_STRING, 1, 22, "22-digit State Grid asset barcode" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param p_code[] = {
	{ "code", PT_STRING, 1, 40, "code" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param p_id[] = {
	{ "id", PT_INT, 1, 0, "id" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param p_number[] = {
	{ "number", PT_STRING, 1, 47, "certificate number as printed, e.g. JL2026-000001" },
	{ NULL, 0, 0, 0, NULL },
};

static const struct route_param q_assets[] = {
	{ "state", PT_STRING, 0, 32, "lifecycle state (arrived, in_stock, installed, …)" },
	{ "model", PT_STRING, 0, 64, "device model code" },
	{ "lot", PT_STRING, 0, 64, "arrival lot code" },
	{ "location", PT_STRING, 0, 64, "location code" },
	{ "after", PT_INT, 0, 0, "keyset paging: assets with asset_id greater than this" },
	{ "limit", PT_INT, 0, 10000, "page size, 1..10000 (default 100)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_runs[] = {
	{ "status", PT_STRING, 0, 16, "pending, running, interrupted, finished, aborted" },
	{ "bench", PT_STRING, 0, 40, "bench code" },
	{ "before", PT_INT, 0, 0, "keyset paging, newest first: runs with run_id less than this" },
	{ "limit", PT_INT, 0, 1000, "page size, 1..1000 (default 100)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_run[] = {
	{ "results", PT_BOOL, 0, 0, "include every step result" },
	{ "readings", PT_BOOL, 0, 0, "include every raw reading" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_tokens[] = {
	{ "login", PT_STRING, 0, 32, "another person's tokens (needs user.admin)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_verify[] = {
	{ "code", PT_STRING, 1, 20, "verification code printed on the certificate (XXXX-XXXX)" },
	{ "rev", PT_INT, 0, 9999, "revision printed next to the number, if any" },
	{ "barcode", PT_STRING, 0, 22, "asset barcode printed on the certificate (optional)" },
	{ "format", PT_STRING, 0, 4, "json or html (default: by the Accept header)" },
	{ NULL, 0, 0, 0, NULL },
};

static const struct route_param b_login[] = {
	{ "login", PT_STRING, 1, 64, "login" },
	{ "password", PT_STRING, 1, 128, "password" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_password[] = {
	{ "old_password", PT_STRING, 1, 128, "the current password" },
	{ "new_password", PT_STRING, 1, 128, "10–128 characters, not the login" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_token[] = {
	{ "label", PT_STRING, 1, 100, "what the token is for" },
	{ "roles", PT_STRINGS, 1, 16, "roles the token acts with (a subset of the user's)" },
	{ "ttl_days", PT_INT, 1, 366, "lifetime in days, 1..366" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_reason[] = {
	{ "reason", PT_STRING, 1, 500, "why" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_none[] = {
	{ NULL, 0, 0, 0, NULL },
};


/* the warehouse and the field (issue 11) */
static const struct route_param q_stock[] = {
	{ "store", PT_STRING, 0, 64, "store location code" },
	{ "slot", PT_STRING, 0, 64, "storage slot barcode" },
	{ "model", PT_STRING, 0, 64, "device model code" },
	{ "state", PT_STRING, 0, 32, "lifecycle state" },
	{ "lot", PT_STRING, 0, 64, "arrival lot code" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_slots[] = {
	{ "store", PT_STRING, 1, 64, "store location code (required)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_orders[] = {
	{ "status", PT_STRING, 0, 16, "open, picking, dispatched, closed, cancelled" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_order[] = {
	{ "after", PT_STRING, 0, 32,
	  "keyset paging of in_transit: barcodes greater than this (the previous page's next)" },
	{ "limit", PT_INT, 0, 10000,
	  "in_transit page size, 1..10000 (default 1000); next: the last barcode of a full page" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_seals[] = {
	{ "code", PT_STRING, 0, 32, "one seal" },
	{ "team", PT_STRING, 0, 64, "field team code" },
	{ "state", PT_STRING, 0, 16, "in_store, issued, applied, removed, destroyed" },
	{ "mine", PT_BOOL, 0, 0, "only seals issued to me or to my team" },
	{ "after", PT_STRING, 0, 32, "keyset paging: seals with a code greater than this" },
	{ "limit", PT_INT, 0, 10000,
	  "page size, 1..10000 (default 1000); next: the last code of a full page" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_putaway[] = {
	{ "codes", PT_STRINGS, 1, 100000,
	  "scans in order: a slot barcode, then asset barcodes, …" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_order[] = {
	{ "from", PT_STRING, 1, 64, "store the assets leave" },
	{ "to", PT_STRING, 1, 64, "store that receives them" },
	{ "lines", PT_STRINGS, 0, 1000, "MODEL:QUANTITY lines" },
	{ "barcodes", PT_STRINGS, 0, 100000, "or the exact assets" },
	{ "note", PT_STRING, 0, 500, "note" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_count[] = {
	{ "store", PT_STRING, 1, 64, "the store counted" },
	{ "slot", PT_STRING, 0, 64, "one slot of it (codes are then assets only)" },
	{ "codes", PT_STRINGS, 1, 100000,
	  "scans in order: asset barcodes, and slot barcodes before the assets found in them" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_reverify[] = {
	{ "store", PT_STRING, 0, 64, "one store (default: every store)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_reverify[] = {
	{ "barcodes", PT_STRINGS, 1, 100000, "the assets sent" },
	{ "lab", PT_STRING, 1, 64, "the lab location they go to" },
	{ "reason", PT_STRING, 1, 500, "why" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_barcodes[] = {
	{ "barcodes", PT_STRINGS, 1, 100000, "scanned asset barcodes" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_close[] = {
	{ "missing", PT_STRINGS, 0, 100000,
	  "dispatched assets reported missing (lost in transit)" },
	{ "reason", PT_STRING, 0, 500, "why they are missing" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_install[] = {
	{ "barcode", PT_STRING, 1, 22, "the meter, issued to the installer's team" },
	{ "point", PT_STRING, 1, 64, "metering point code" },
	{ "element", PT_STRING, 0, 8, "meter (default), ct_a, ct_b, ct_c" },
	{ "reading", PT_STRING, 1, 16, "initial register reading in kWh, at most 2 decimals" },
	{ "seals", PT_STRINGS, 0, 16, "seal codes applied" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_remove[] = {
	{ "barcode", PT_STRING, 1, 22, "the installed meter" },
	{ "reading", PT_STRING, 1, 16, "final register reading in kWh" },
	{ "reason", PT_STRING, 1, 16, "rotation, fault, upgrade, complaint, other" },
	{ "note", PT_STRING, 0, 500, "note" },
	{ "seals", PT_STRINGS, 0, 16, "seals removed (each must be on the meter)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_swap[] = {
	{ "old", PT_STRING, 1, 22, "the installed meter" },
	{ "old_reading", PT_STRING, 1, 16, "its final reading in kWh" },
	{ "reason", PT_STRING, 1, 16, "rotation, fault, upgrade, complaint, other" },
	{ "new", PT_STRING, 1, 22, "the meter installed in its place" },
	{ "reading", PT_STRING, 1, 16, "the new meter's initial reading in kWh" },
	{ "seals", PT_STRINGS, 0, 16, "seal codes applied" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_fault[] = {
	{ "barcode", PT_STRING, 1, 22, "the removed meter" },
	{ "symptom", PT_STRING, 1, 32, "symptom code (NO_DISPLAY, STOPPED, FAST, …)" },
	{ "description", PT_STRING, 1, 500, "what was seen" },
	{ "complaint", PT_STRING, 0, 64, "customer complaint reference: arbitration verification" },
	{ "lab", PT_STRING, 1, 64, "lab location the meter goes to" },
	{ NULL, 0, 0, 0, NULL },
};

static const struct route_param q_certs[] = {
	{ "run", PT_INT, 0, 0, "certificates of one run" },
	{ "state", PT_STRING, 0, 16, "draft, checked, issued, superseded, withdrawn, current" },
	{ "number", PT_STRING, 0, 47, "certificate number" },
	{ NULL, 0, 0, 0, NULL },
};

static const struct route_param b_delivery[] = {
	{ "lot", PT_STRING, 1, 64, "the new lot's code (unique)" },
	{ "csv", PT_STRING, 1, 64L << 20,
	  "the delivery file: barcode,model_code,production_batch,production_date[,box_code]" },
	{ "supplier", PT_STRING, 0, 200, "who delivered it" },
	{ "location", PT_STRING, 0, 64, "the receiving store (default CENTRAL)" },
	{ "file_name", PT_STRING, 0, 200, "the file's name, recorded with the lot" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_run[] = {
	{ "bench", PT_STRING, 1, 32, "the bench's code" },
	{ "scheme", PT_STRING, 1, 64, "the scheme's code (its active version is used)" },
	{ "positions", PT_STRINGS, 1, 4096, "\"POSITION=BARCODE\" per meter on the bench" },
	{ "manual", PT_BOOL, 0, 0, "readings will be typed in (manual verification)" },
	{ "temperature", PT_STRING, 0, 8, "ambient temperature ℃, at most one decimal" },
	{ "humidity", PT_STRING, 0, 8, "relative humidity %, at most one decimal" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_abort[] = {
	{ "reason", PT_STRING, 0, 500, "why the run is abandoned" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_revise[] = {
	{ "reason", PT_STRING, 1, 500, "why the certificate is corrected" },
	{ "client", PT_STRING, 0, 200, "送检单位" },
	{ "place", PT_STRING, 0, 200, "检定地点" },
	{ "temperature", PT_STRING, 0, 8, "℃, at most one decimal" },
	{ "humidity", PT_STRING, 0, 8, "%RH, at most one decimal" },
	{ "record_no", PT_STRING, 0, 64, "原始记录编号" },
	{ "model", PT_STRING, 0, 64, "型号规格" },
	{ "spec", PT_STRING, 0, 200, "规格" },
	{ "manufacturer", PT_STRING, 0, 200, "制造单位" },
	{ "instrument", PT_STRING, 0, 200, "计量器具名称" },
	{ "verified_on", PT_STRING, 0, 10, "YYYY-MM-DD (must be the run's date)" },
	{ "valid_until", PT_STRING, 0, 10, "YYYY-MM-DD (within the model's period)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_retire[] = {
	{ "action", PT_STRING, 1, 16, "return_to_maker or scrap" },
	{ "barcodes", PT_STRINGS, 1, 100000, "the assets, all or none" },
	{ "reason", PT_STRING, 1, 500, "why" },
	{ "to", PT_STRING, 0, 64, "the maker's location (returns)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_note[] = {
	{ "note", PT_STRING, 0, 500, "the decision's note" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_retire[] = {
	{ "status", PT_STRING, 0, 16, "pending, approved, rejected" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_std_cert[] = {
	{ "cert_no", PT_STRING, 1, 80, "the calibration certificate's number" },
	{ "issuer", PT_STRING, 1, 200, "who calibrated it" },
	{ "valid_from", PT_STRING, 1, 10, "YYYY-MM-DD" },
	{ "valid_until", PT_STRING, 1, 10, "YYYY-MM-DD, inclusive" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_scheme[] = {
	{ "version", PT_INT, 0, 100000, "one exact version (default: the active one)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_scheme[] = {
	{ "text", PT_STRING, 1, 200000,
	  "the scheme as `meterlab scheme export` writes it (its header names code and name)" },
	{ "code", PT_STRING, 0, 63, "save under this code instead of the text's" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_scheme_activate[] = {
	{ "version", PT_INT, 0, 100000, "the version new runs use (default: the latest)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_trace[] = {
	{ "standard", PT_STRING, 0, 40, "a reference standard's code" },
	{ "bench", PT_STRING, 0, 40, "or a bench's code" },
	{ "since", PT_STRING, 1, 10, "runs dated from (YYYY-MM-DD)" },
	{ "until", PT_STRING, 0, 10, "to (inclusive; default: no end)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_trace_flag[] = {
	{ "standard", PT_STRING, 0, 40, "a reference standard's code" },
	{ "bench", PT_STRING, 0, 40, "or a bench's code" },
	{ "since", PT_STRING, 1, 10, "runs dated from (YYYY-MM-DD)" },
	{ "until", PT_STRING, 0, 10, "to (inclusive)" },
	{ "reason", PT_STRING, 1, 500, "why (the recalibration finding)" },
	{ NULL, 0, 0, 0, NULL },
};
/* planning (h_plan.c, issue 15) */
static const struct route_param q_plan_orders[] = {
	{ "status", PT_STRING, 0, 16, "open (default), done, cancelled, overdue or all" },
	{ "team", PT_STRING, 0, 64, "field team code" },
	{ "month", PT_STRING, 0, 7, "YYYY-MM" },
	{ "after", PT_INT, 0, 0,
	  "keyset paging: orders with an id greater than this (the previous page's next)" },
	{ "limit", PT_INT, 0, 10000,
	  "page size, 1..10000 (default 1000); next: the last id when more follow" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_plan_cancel[] = {
	{ "reason", PT_STRING, 1, 500, "why the swap is not done" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_plan_inspect[] = {
	{ "point", PT_STRING, 1, 64, "metering point code" },
	{ "standard", PT_STRING, 1, 40, "the portable reference standard's code" },
	{ "errors", PT_STRINGS, 1, 32,
	  "per load point 'CURRENT PF [ELEMENT]: r1, r2', errors in %" },
	{ "date", PT_STRING, 0, 10, "YYYY-MM-DD (default today)" },
	{ "note", PT_STRING, 0, 500, "free text" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_plan_range[] = {
	{ "from", PT_STRING, 1, 10, "YYYY-MM-DD" },
	{ "to", PT_STRING, 1, 10, "YYYY-MM-DD" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_plan_actual[] = {
	{ "lots", PT_BOOL, 0, 0, "per planned lot: planned day against release" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_watch[] = {
	{ "status", PT_STRING, 0, 8, "open (default), closed or all" },
	{ "rule", PT_STRING, 0, 40, "one rule's code" },
	{ "place", PT_STRING, 0, 64, "location code, centre for the lab's own items" },
	{ "role", PT_STRING, 0, 32, "the role an item is for" },
	{ "overdue", PT_BOOL, 0, 0, "only open items past their due date" },
	{ "after", PT_INT, 0, 0,
	  "keyset paging: items with an id greater than this (the previous page's next)" },
	{ "limit", PT_INT, 0, 10000,
	  "page size, 1..10000 (default 1000); next: the last id when more follow" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_watch_close[] = {
	{ "note", PT_STRING, 1, 1000, "the rectification note (整改说明)" },
	{ "reason", PT_STRING, 0, 500, "why it is closed while the rule still finds it" },
	{ NULL, 0, 0, 0, NULL },
};
/* seals and fault outcomes for the web pages (h_web.c, issue 13) */
static const struct route_param b_seal_receive[] = {
	{ "batch", PT_STRING, 1, 64, "the seal batch (letters, digits, _ . / -)" },
	{ "codes", PT_STRINGS, 1, 100000, "the seal codes received, all or none" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_seal_issue[] = {
	{ "codes", PT_STRINGS, 1, 100000, "seals in store, all issued or none" },
	{ "team", PT_STRING, 0, 64, "the field team they go to" },
	{ "login", PT_STRING, 0, 32, "or the person (a lab technician who seals)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_seal_destroy[] = {
	{ "codes", PT_STRINGS, 1, 100000, "seals destroyed, all or none" },
	{ "reason", PT_STRING, 1, 500, "why" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param q_faults[] = {
	{ "open", PT_BOOL, 0, 0, "only reports without an outcome yet" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_fault_outcome[] = {
	{ "outcome", PT_STRING, 1, 16, "maker, usage, external or no_fault_found" },
	{ "note", PT_STRING, 0, 500, "the analysis' finding" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_seal_apply[] = {
	{ "barcode", PT_STRING, 1, 22, "the verified meter (in stock after passing verification)" },
	{ "codes", PT_STRINGS, 1, 16, "seals issued to you personally, each used once" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_arbitration[] = {
	{ "run", PT_INT, 1, 0, "the verification run that answered the complaint" },
	{ "cert", PT_INT, 0, 0, "the certificate or result notice issued from it (once issued)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_manual[] = {
	{ "readings", PT_STRING, 1, 1L << 20,
	  "one line per position and step: POSITION, STEP, value1, value2, … (lab/manual.h)" },
	{ NULL, 0, 0, 0, NULL },
};
static const struct route_param b_move[] = {
	{ "action", PT_STRING, 1, 32,
	  "lifecycle action: dispatch, receive_secondary, issue (to a field team), return_unused, "
	  "sample, sample_return, reuse, fault_report (retirement: /api/retirements)" },
	{ "barcodes", PT_STRINGS, 1, 100000, "the assets (scans), all moved or none" },
	{ "location", PT_STRING, 0, 64, "where they go (store, team)" },
	{ "reason", PT_STRING, 0, 500, "why" },
	{ NULL, 0, 0, 0, NULL },
};

/* ---- response schemas (OpenAPI; JSON Schema text) ---- */

#define S_USER                                                                                \
	"{\"type\":\"object\",\"properties\":{\"user_id\":{\"type\":\"integer\"},\"login\":{" \
	"\"type\":\"string\"},\"display_name\":{\"type\":\"string\"},\"roles\":{\"type\":"    \
	"\"array\",\"items\":{\"type\":\"string\"}},\"permissions\":{\"type\":\"array\","     \
	"\"items\":{\"type\":\"string\"}},\"session\":{\"type\":\"string\",\"enum\":["        \
	"\"browser\",\"api\"]},\"csrf_token\":{\"type\":\"string\"}}}"
#define S_ASSET                                                                                  \
	"{\"type\":\"object\",\"properties\":{\"asset_id\":{\"type\":\"integer\"},\"barcode\":{" \
	"\"type\":\"string\"},\"model\":{\"type\":\"string\"},\"lot\":{\"type\":\"string\"},"    \
	"\"state\":{\"type\":\"string\"},\"location\":{\"type\":[\"string\",\"null\"]},"         \
	"\"valid_until\":{\"type\":[\"string\",\"null\"],\"format\":\"date\"}}}"
#define S_PAGE(item, cursor)                                                                   \
	"{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":" item   \
	"},\"" cursor "\":{\"type\":[\"integer\",\"null\"],\"description\":\"pass as ?" cursor \
	"= for the next page; null on the last\"}}}"
/* a keyset page with the exact count of every page (plan and watch listings) */
#define S_PAGE_TOTAL                                                                       \
	"{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\"},\"total\":{"  \
	"\"type\":\"integer\"},\"next\":{\"type\":[\"integer\",\"null\"],\"description\":" \
	"\"pass as ?after= for the next page; null on the last\"}}}"
#define S_LIST "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\"}}}"
#define S_OBJ "{\"type\":\"object\"}"
#define S_OK "{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"}}}"

const struct route srv_routes[] = {
	/* operations */
	{ "GET", "/healthz", h_healthz, AUTH_PUBLIC, NULL, RF_NO_TX, NULL, NULL, NULL, 200, "ops",
	  "liveness and database reachability (503 when the database is not)",
	  "{\"type\":\"object\",\"properties\":{\"status\":{\"type\":\"string\"},\"db\":{"
	  "\"type\":\"string\"}}}",
	  "/healthz", NULL },
	{ "GET", "/metrics", h_metrics, AUTH_PUBLIC, NULL, RF_NO_TX | RF_RAW, NULL, NULL, NULL, 200,
	  "ops",
	  "Prometheus text: requests by route and status, latency histogram, pool use, streams",
	  NULL, "/metrics", NULL },
	{ "GET", "/api/openapi.json", h_openapi, AUTH_PUBLIC, NULL, RF_NO_TX, NULL, NULL, NULL, 200,
	  "ops", "this API's OpenAPI 3 description, generated from the route table", S_OBJ,
	  "/api/openapi.json", NULL },

	/* sessions and credentials */
	{ "POST", "/api/login", h_login, AUTH_PUBLIC, NULL, RF_SLOW | RF_NO_TX, NULL, NULL, b_login,
	  200, "auth",
	  "log in with a password: sets the HttpOnly session cookie and returns the CSRF token "
	  "(429 when throttled)",
	  S_USER, "/api/login",
	  "{\"login\":\"tech.wang\",\"password\":\"correct horse battery\"}" },
	{ "POST", "/api/logout", h_logout, AUTH_SESSION, NULL, 0, NULL, NULL, b_none, 200, "auth",
	  "end this session", S_OK, "/api/logout", "{}" },
	{ "GET", "/api/whoami", h_whoami, AUTH_SESSION, NULL, 0, NULL, NULL, NULL, 200, "auth",
	  "the user this session acts for, roles and permissions in effect (and the CSRF token "
	  "of a browser session)",
	  S_USER, "/api/whoami", NULL },
	{ "POST", "/api/password", h_password, AUTH_SESSION, NULL, RF_SLOW | RF_NO_TX | RF_BROWSER,
	  NULL, NULL, b_password, 200, "auth",
	  "change one's own password (the old one is checked); every other session and API "
	  "token of the user ends",
	  "{\"type\":\"object\",\"properties\":{\"sessions_ended\":{\"type\":\"integer\"}}}",
	  "/api/password",
	  "{\"old_password\":\"correct horse battery\",\"new_password\":\"staple battery horse\"}" },
	{ "GET", "/api/tokens", h_token_list, AUTH_SESSION, NULL, 0, NULL, q_tokens, NULL, 200,
	  "auth", "one's API tokens (another person's with user.admin); never the secret", S_LIST,
	  "/api/tokens", NULL },
	{ "POST", "/api/tokens", h_token_create, AUTH_SESSION, NULL, RF_BROWSER, NULL, NULL,
	  b_token, 201, "auth",
	  "create an API token for oneself, acting with some of one's roles; the secret is in "
	  "this answer only",
	  "{\"type\":\"object\",\"properties\":{\"token_id\":{\"type\":\"integer\"},\"token\":{"
	  "\"type\":\"string\"},\"expires_at\":{\"type\":\"string\"}}}",
	  "/api/tokens",
	  "{\"label\":\"handheld scanner 7\",\"roles\":[\"{role}\"],\"ttl_days\":90}" },
	{ "POST", "/api/tokens/{id}/revoke", h_token_revoke, AUTH_SESSION, NULL, RF_IDEMPOTENT,
	  p_id, NULL, b_reason, 200, "auth",
	  "revoke an API token (one's own, or anyone's with user.admin)", S_OK,
	  "/api/tokens/999999/revoke", "{\"reason\":\"scanner lost\"}" },

	/* assets */
	{ "GET", "/api/assets", h_asset_list, AUTH_SESSION, "asset.read", 0, NULL, q_assets, NULL,
	  200, "assets", "assets by state, model, lot and location, keyset-paged by asset_id",
	  S_PAGE(S_ASSET, "next_after"), "/api/assets?state=in_stock&limit=5", NULL },
	{ "GET", "/api/assets/{barcode}", h_asset_get, AUTH_SESSION, "asset.read", RF_ONE_STMT,
	  p_barcode, NULL, NULL, 200, "assets", "one asset by its barcode (a scan)", S_ASSET,
	  "/api/assets/4130001000000462000018", NULL },
	{ "GET", "/api/assets/{barcode}/history", h_asset_history, AUTH_SESSION, "asset.read", 0,
	  p_barcode, NULL, NULL, 200, "assets", "the asset's history, oldest first", S_LIST,
	  "/api/assets/4130001000000462000018/history", NULL },
	{ "GET", "/api/models", h_model_list, AUTH_SESSION, "asset.read", 0, NULL, NULL, NULL, 200,
	  "assets", "device models of the catalogue", S_LIST, "/api/models", NULL },
	{ "GET", "/api/locations", h_location_list, AUTH_SESSION, "asset.read", 0, NULL, NULL, NULL,
	  200, "assets", "stores, benches, field teams and other locations", S_LIST,
	  "/api/locations", NULL },

	/* lab */
	{ "GET", "/api/benches", h_bench_list, AUTH_SESSION, "lab.read", 0, NULL, NULL, NULL, 200,
	  "lab", "verification benches and the reference standards they use", S_LIST,
	  "/api/benches", NULL },
	{ "GET", "/api/benches/{code}", h_bench_get, AUTH_SESSION, "lab.read", 0, p_code, NULL,
	  NULL, 200, "lab", "one bench", S_OBJ, "/api/benches/B1", NULL },
	{ "GET", "/api/standards", h_standard_list, AUTH_SESSION, "lab.read", 0, NULL, NULL, NULL,
	  200, "lab", "reference standards with their latest calibration certificate", S_LIST,
	  "/api/standards", NULL },
	{ "GET", "/api/standards/{code}", h_standard_get, AUTH_SESSION, "lab.read", 0, p_code, NULL,
	  NULL, 200, "lab", "one reference standard and all its calibration certificates", S_OBJ,
	  "/api/standards/STD-1P-01", NULL },
	{ "POST", "/api/standards/{code}/certificates", h_standard_certify, AUTH_SESSION,
	  "standard.edit", RF_IDEMPOTENT, p_code, NULL, b_std_cert, 201, "lab",
	  "a (re)calibration certificate of a reference standard", S_OBJ,
	  "/api/standards/NO-SUCH/certificates",
	  "{\"cert_no\":\"C1\",\"issuer\":\"x\",\"valid_from\":\"2026-01-01\","
	  "\"valid_until\":\"2027-01-01\"}" },
	{ "GET", "/api/schemes", h_scheme_list, AUTH_SESSION, "lab.read", 0, NULL, NULL, NULL, 200,
	  "lab", "verification schemes: latest and active version of each code", S_LIST,
	  "/api/schemes", NULL },
	{ "GET", "/api/schemes/{code}", h_scheme_get, AUTH_SESSION, "lab.read", 0, p_code, q_scheme,
	  NULL, 200, "lab",
	  "one scheme's active version (or ?version=N) with its text, as `meterlab scheme export`",
	  S_OBJ, "/api/schemes/NO-SUCH", NULL },
	{ "POST", "/api/schemes", h_scheme_save, AUTH_SESSION, "scheme.edit", RF_IDEMPOTENT, NULL,
	  NULL, b_scheme, 201, "lab",
	  "save a scheme from its text: a new code is version 1, an existing code gets its next "
	  "version (a revision); inactive until activated; a step looser than the regulation is "
	  "refused (422)",
	  S_OBJ, "/api/schemes", "{\"text\":\"not a scheme\"}" },
	{ "POST", "/api/schemes/{code}/activate", h_scheme_activate, AUTH_SESSION,
	  "scheme.activate", RF_IDEMPOTENT, p_code, NULL, b_scheme_activate, 200, "lab",
	  "make a version (default the latest) the one new runs use", S_OBJ,
	  "/api/schemes/NO-SUCH/activate", "{}" },
	{ "POST", "/api/schemes/{code}/retire", h_scheme_retire, AUTH_SESSION, "scheme.activate",
	  RF_IDEMPOTENT, p_code, NULL, b_none, 200, "lab",
	  "retire every version: new runs cannot use the scheme (runs keep naming theirs)", S_OBJ,
	  "/api/schemes/NO-SUCH/retire", "{}" },
	{ "GET", "/api/trace", h_trace, AUTH_SESSION, "lab.read", 0, NULL, q_trace, NULL, 200,
	  "quality",
	  "reverse traceability (标准量传): the runs of a standard or bench since a date, their "
	  "certificates and where each asset is now",
	  S_OBJ, "/api/trace?standard=NO-SUCH&since=2026-01-01", NULL },
	{ "POST", "/api/trace/flag", h_trace_flag, AUTH_SESSION, "trace.flag", RF_IDEMPOTENT, NULL,
	  NULL, b_trace_flag, 200, "quality",
	  "flag every asset of a trace still in the centre's hands for re-verification, all or "
	  "nothing",
	  S_OBJ, "/api/trace/flag",
	  "{\"standard\":\"NO-SUCH\",\"since\":\"2026-01-01\",\"reason\":\"x\"}" },
	{ "GET", "/api/runs", h_run_list, AUTH_SESSION, "lab.read", 0, NULL, q_runs, NULL, 200,
	  "lab", "verification runs, newest first, keyset-paged by run_id",
	  S_PAGE(S_OBJ, "next_before"), "/api/runs?limit=5", NULL },
	{ "GET", "/api/runs/{id}", h_run_get, AUTH_SESSION, "lab.read", 0, p_id, q_run, NULL, 200,
	  "lab", "one run: positions and conclusions (and step results and readings on request)",
	  S_OBJ, "/api/runs/1?results=true", NULL },
	{ "POST", "/api/runs", h_run_create, AUTH_SESSION, "run.create", RF_IDEMPOTENT, NULL, NULL,
	  b_run, 201, "lab",
	  "create a verification task: bench, scheme and the meters in its positions (they move "
	  "to verifying); executed by POST /api/runs/{id}/start or on the lab machine by "
	  "`meterlab run start ID`",
	  S_OBJ, "/api/runs",
	  "{\"bench\":\"NO-SUCH\",\"scheme\":\"NO-SUCH\",\"positions\":[\"1=4130001000000462000018\"]}" },
	{ "POST", "/api/runs/{id}/abort", h_run_abort, AUTH_SESSION, "run.execute",
	  RF_IDEMPOTENT | RF_SLOW, p_id, NULL, b_abort, 200, "lab",
	  "abandon an unfinished run: its meters go back to reverify; a run this server "
	  "executes is stopped first (409 while another process executes it)",
	  S_OBJ, "/api/runs/999999/abort", "{\"reason\":\"bench fault\"}" },
	{ "POST", "/api/runs/{id}/start", h_run_start, AUTH_SESSION, "run.execute",
	  RF_SLOW | RF_NO_TX, p_id, NULL, b_none, 202, "lab",
	  "execute (or resume) a driven run on its bench in this server (`meterlab serve "
	  "--runners N`), as the person asking: 202 once it runs, progress on "
	  "/api/runs/{id}/events; 409 when it is being executed, 503 without runner capacity",
	  S_OBJ, "/api/runs/999999/start", "{}" },
	{ "GET", "/api/runs/{id}/events", h_run_events, AUTH_SESSION, "lab.read", RF_STREAM, p_id,
	  NULL, NULL, 200, "lab",
	  "live progress of one run (text/event-stream: 'run' events with status changes and "
	  "completed steps, heartbeats)",
	  NULL, "/api/runs/1/events", NULL },
	{ "GET", "/api/events/runs", h_runs_events, AUTH_SESSION, "lab.read", RF_STREAM, NULL, NULL,
	  NULL, 200, "lab", "live progress of every run (a bench board), text/event-stream", NULL,
	  "/api/events/runs", NULL },

	/* the warehouse (stores/) and the field (field/), issue 11 */
	{ "POST", "/api/assets/move", h_asset_move, AUTH_SESSION, NULL, RF_IDEMPOTENT, NULL, NULL,
	  b_move, 200, "assets",
	  "lifecycle moves of many assets, all or nothing; every refusal listed (the database "
	  "checks each action's permission for the person)",
	  S_OBJ, "/api/assets/move",
	  "{\"action\":\"sneeze\",\"barcodes\":[\"4130001000000462000018\"]}" },

	{ "POST", "/api/deliveries", h_delivery_receive, AUTH_SESSION, "asset.receive",
	  RF_IDEMPOTENT | RF_SLOW | RF_UPLOAD, NULL, NULL, b_delivery, 201, "assets",
	  "receive a supplier's delivery file as a new lot, all or nothing; every bad row listed "
	  "with its line (422)",
	  S_OBJ, "/api/deliveries", "{\"lot\":\"PROBE\",\"csv\":\"barcode\\n\"}" },

	{ "GET", "/api/retirements", h_retire_list, AUTH_SESSION, "asset.read", 0, NULL, q_retire,
	  NULL, 200, "warehouse", "retirement requests (return to maker, scrap), newest first",
	  S_LIST, "/api/retirements?status=pending", NULL },
	{ "POST", "/api/retirements", h_retire_request, AUTH_SESSION, "asset.retire.request",
	  RF_IDEMPOTENT, NULL, NULL, b_retire, 201, "warehouse",
	  "request a return to the maker (返厂) or a scrap (报废); a second person decides", S_OBJ,
	  "/api/retirements",
	  "{\"action\":\"scrap\",\"barcodes\":[\"4130001000000462000018\"],\"reason\":\"x\"}" },
	{ "POST", "/api/retirements/{id}/approve", h_retire_approve, AUTH_SESSION, "asset.retire",
	  RF_IDEMPOTENT, p_id, NULL, b_note, 200, "warehouse",
	  "approve a retirement as a second person: the assets leave the registry's use", S_OBJ,
	  "/api/retirements/999999/approve", "{}" },
	{ "POST", "/api/retirements/{id}/reject", h_retire_reject, AUTH_SESSION, "asset.retire",
	  RF_IDEMPOTENT, p_id, NULL, b_note, 200, "warehouse",
	  "reject a retirement as a second person: nothing retired", S_OBJ,
	  "/api/retirements/999999/reject", "{\"note\":\"repairable\"}" },

	{ "GET", "/api/assets/{barcode}/where", h_asset_where, AUTH_SESSION, "asset.read", 0,
	  p_barcode, NULL, NULL, 200, "assets",
	  "where the asset is: slot, order in transit, team or metering point", S_OBJ,
	  "/api/assets/4130001000000462000018/where", NULL },
	{ "GET", "/api/stock", h_stock_counts, AUTH_SESSION, "asset.read", 0, NULL, q_stock, NULL,
	  200, "warehouse", "stock counts by store, slot, model, lot and state", S_LIST,
	  "/api/stock?store=CENTRAL", NULL },
	{ "GET", "/api/slots", h_slot_list, AUTH_SESSION, "asset.read", 0, NULL, q_slots, NULL, 200,
	  "warehouse", "the storage slots of a store (barcode, kind, name, parent)", S_LIST,
	  "/api/slots?store=CENTRAL", NULL },
	{ "POST", "/api/stock/putaway", h_stock_putaway, AUTH_SESSION, "store.slot", RF_IDEMPOTENT,
	  NULL, NULL, b_putaway, 200, "warehouse",
	  "put away by scanning: a slot, then its assets (all or nothing; every refusal listed)",
	  S_OBJ, "/api/stock/putaway", "{\"codes\":[\"NO-SUCH-SLOT\"]}" },
	{ "GET", "/api/orders", h_order_list, AUTH_SESSION, "asset.read", 0, NULL, q_orders, NULL,
	  200, "warehouse", "distribution orders (配送)", S_LIST, "/api/orders", NULL },
	{ "GET", "/api/orders/{id}", h_order_get, AUTH_SESSION, "asset.read", 0, p_id, q_order,
	  NULL, 200, "warehouse",
	  "one order: lines with planned, picked, in transit, received, missing; a page of the "
	  "barcodes still in transit (in_transit, next)",
	  S_OBJ, "/api/orders/999999", NULL },
	{ "POST", "/api/orders", h_order_create, AUTH_SESSION, "store.order", RF_IDEMPOTENT, NULL,
	  NULL, b_order, 201, "warehouse", "create a distribution order between two stores", S_OBJ,
	  "/api/orders", "{\"from\":\"NO-SUCH\",\"to\":\"NO-SUCH-2\",\"lines\":[\"M:1\"]}" },
	{ "POST", "/api/orders/{id}/pick", h_order_pick, AUTH_SESSION, "store.order", RF_IDEMPOTENT,
	  p_id, NULL, b_barcodes, 200, "warehouse",
	  "pick by scanning against the order's lines (wrong model, over-picking … refused)", S_OBJ,
	  "/api/orders/999999/pick", "{\"barcodes\":[\"4130001000000462000018\"]}" },
	{ "POST", "/api/orders/{id}/dispatch", h_order_dispatch, AUTH_SESSION, "store.order",
	  RF_IDEMPOTENT, p_id, NULL, b_none, 200, "warehouse",
	  "dispatch: the picked assets are in transit on the order", S_OBJ,
	  "/api/orders/999999/dispatch", "{}" },
	{ "POST", "/api/orders/{id}/receive", h_order_receive, AUTH_SESSION, "store.order",
	  RF_IDEMPOTENT, p_id, NULL, b_barcodes, 200, "warehouse",
	  "receive by scanning at the destination: every scan's outcome (received, extra, wrong "
	  "…), counts, how many are still in transit (in_transit_count) and the first 100 of them "
	  "(in_transit, next: the rest from GET /api/orders/{id}?after=next)",
	  S_OBJ, "/api/orders/999999/receive", "{\"barcodes\":[\"4130001000000462000018\"]}" },
	{ "POST", "/api/orders/{id}/close", h_order_close, AUTH_SESSION, "store.order",
	  RF_IDEMPOTENT, p_id, NULL, b_close, 200, "warehouse",
	  "close: every dispatched asset received or reported missing (then lost in transit)",
	  S_OBJ, "/api/orders/999999/close", "{\"missing\":[]}" },
	{ "GET", "/api/points/{code}", h_point_get, AUTH_SESSION, "asset.read", 0, p_code, NULL,
	  NULL, 200, "field", "a metering point and every meter installed there", S_OBJ,
	  "/api/points/NO-SUCH-POINT", NULL },
	{ "GET", "/api/seals", h_seal_list, AUTH_SESSION, "asset.read", 0, NULL, q_seals, NULL, 200,
	  "field", "where every seal is: state, holder, meter, point", S_LIST,
	  "/api/seals?state=issued", NULL },
	{ "POST", "/api/field/install", h_field_install, AUTH_SESSION, "asset.move.field",
	  RF_IDEMPOTENT, NULL, NULL, b_install, 201, "field",
	  "install a meter issued to the team at a metering point, with reading and seals", S_OBJ,
	  "/api/field/install",
	  "{\"barcode\":\"4130001000000462000018\",\"point\":\"NO-SUCH-POINT\",\"reading\":"
	  "\"0\"}" },
	{ "POST", "/api/field/remove", h_field_remove, AUTH_SESSION, "asset.move.field",
	  RF_IDEMPOTENT, NULL, NULL, b_remove, 200, "field",
	  "remove an installed meter with its final reading and reason", S_OBJ, "/api/field/remove",
	  "{\"barcode\":\"4130001000000462000018\",\"reading\":\"1\",\"reason\":\"fault\"}" },
	{ "POST", "/api/field/swap", h_field_swap, AUTH_SESSION, "asset.move.field", RF_IDEMPOTENT,
	  NULL, NULL, b_swap, 201, "field",
	  "remove one meter and install another in its place, at once", S_OBJ, "/api/field/swap",
	  "{\"old\":\"4130001000000462000018\",\"old_reading\":\"1\",\"reason\":\"rotation\","
	  "\"new\":\"4130001000000462000026\",\"reading\":\"0\"}" },
	{ "POST", "/api/field/faults", h_field_fault, AUTH_SESSION, "asset.move.field",
	  RF_IDEMPOTENT, NULL, NULL, b_fault, 201, "field",
	  "report a removed meter's fault and send it to the lab (analysis or arbitration)", S_OBJ,
	  "/api/field/faults",
	  "{\"barcode\":\"4130001000000462000018\",\"symptom\":\"FAST\",\"description\":\"x\","
	  "\"lab\":\"NO-SUCH-LAB\"}" },

	/* certificates: the checker's and approver's queue (four eyes in the database) */
	{ "GET", "/api/certificates", h_cert_list, AUTH_SESSION, "lab.read", 0, NULL, q_certs, NULL,
	  200, "certificates", "certificates and result notices by run, state or number", S_LIST,
	  "/api/certificates?state=draft", NULL },
	{ "GET", "/api/certificates/{id}", h_cert_get, AUTH_SESSION, "lab.read", 0, p_id, NULL,
	  NULL, 200, "certificates", "one certificate: state, signers, number, verification code",
	  S_OBJ, "/api/certificates/999999", NULL },
	{ "GET", "/api/certificates/{id}/pdf", h_cert_pdf, AUTH_SESSION, "lab.read", RF_RAW, p_id,
	  NULL, NULL, 200, "certificates",
	  "the stored PDF of an issued certificate (checked against its SHA-256)", NULL,
	  "/api/certificates/999999/pdf", NULL },
	{ "GET", "/api/certificates/{id}/preview", h_cert_preview, AUTH_SESSION, "lab.read",
	  RF_RAW | RF_SLOW, p_id, NULL, NULL, 200, "certificates",
	  "a draft or checked certificate rendered as it would be issued (no number yet; never "
	  "stored), for the checker and the approver to read what they sign",
	  NULL, "/api/certificates/999999/preview", NULL },
	/* for the web pages (h_web.c, issue 13) */
	{ "GET", "/api/field/team", h_field_team, AUTH_SESSION, "asset.read", 0, NULL, NULL, NULL,
	  200, "field", "the person's field team (code and name; nulls when none)", S_OBJ,
	  "/api/field/team", NULL },
	{ "POST", "/api/stock/counts", h_count_submit, AUTH_SESSION, "store.count", RF_IDEMPOTENT,
	  NULL, NULL, b_count, 201, "warehouse",
	  "submit a stock count (盘点) of a store or slot: every difference listed, nothing "
	  "changed until a second person confirms",
	  S_OBJ, "/api/stock/counts", "{\"store\":\"NO-SUCH-STORE\",\"codes\":[]}" },
	{ "POST", "/api/stock/counts/{id}/confirm", h_count_confirm, AUTH_SESSION, "store.confirm",
	  RF_IDEMPOTENT, p_id, NULL, b_reason, 200, "warehouse",
	  "confirm a count as a second person: its adjustable lines become history", S_OBJ,
	  "/api/stock/counts/999999/confirm", "{\"reason\":\"recount agreed\"}" },
	{ "GET", "/api/stock/reverify", h_reverify_list, AUTH_SESSION, "asset.read", 0, NULL,
	  q_reverify, NULL, 200, "warehouse",
	  "the re-verification list: stock that may not be issued (expired, or verified longer "
	  "ago than stock.reverify_months)",
	  S_LIST, "/api/stock/reverify", NULL },
	{ "POST", "/api/stock/reverify/send", h_reverify_send, AUTH_SESSION, "store.reverify",
	  RF_IDEMPOTENT, NULL, NULL, b_reverify, 200, "warehouse",
	  "send stock to a lab for re-verification, all or nothing (every refusal listed)", S_OBJ,
	  "/api/stock/reverify/send",
	  "{\"barcodes\":[\"4130001000000462000018\"],\"lab\":\"NO-SUCH-LAB\",\"reason\":\"expired\"}" },
	{ "GET", "/api/summary", h_summary, AUTH_SESSION, "lab.read", 0, NULL, NULL, NULL, 200,
	  "lab",
	  "the manager's figures: stock by store and state, assets whose verification runs out "
	  "within 90 days, today's runs by status, pass rate by model over 90 days (exact "
	  "decimal)",
	  S_OBJ, "/api/summary", NULL },
	{ "GET", "/api/retirements/{id}", h_retire_show, AUTH_SESSION, "asset.read", 0, p_id, NULL,
	  NULL, 200, "warehouse",
	  "one retirement request's assets (state when requested and now, place)", S_LIST,
	  "/api/retirements/999999", NULL },
	{ "GET", "/api/stock/counts/{id}", h_count_show, AUTH_SESSION, "asset.read", 0, p_id, NULL,
	  NULL, 200, "warehouse", "one stock count: status, counter and every difference", S_LIST,
	  "/api/stock/counts/999999", NULL },
	{ "POST", "/api/stock/counts/{id}/reject", h_count_reject, AUTH_SESSION, "store.confirm",
	  RF_IDEMPOTENT, p_id, NULL, b_reason, 200, "warehouse",
	  "a second person rejects a count (nothing adjusted)", S_OBJ,
	  "/api/stock/counts/999999/reject", "{\"reason\":\"recount\"}" },
	{ "POST", "/api/seals/receive", h_seal_receive, AUTH_SESSION, "seal.manage", RF_IDEMPOTENT,
	  NULL, NULL, b_seal_receive, 201, "field",
	  "receive a batch of seals into the store (all or nothing)", S_OBJ, "/api/seals/receive",
	  "{\"batch\":\"PROBE\",\"codes\":[\"x\"]}" },
	{ "POST", "/api/seals/issue", h_seal_issue, AUTH_SESSION, "seal.manage", RF_IDEMPOTENT,
	  NULL, NULL, b_seal_issue, 200, "field",
	  "issue seals in store to a field team or to a person (all or nothing)", S_OBJ,
	  "/api/seals/issue", "{\"codes\":[\"NO-SUCH-SEAL\"],\"team\":\"NO-SUCH-TEAM\"}" },
	{ "POST", "/api/seals/destroy", h_seal_destroy, AUTH_SESSION, "seal.manage", RF_IDEMPOTENT,
	  NULL, NULL, b_seal_destroy, 200, "field", "destroy seals, with a reason (all or nothing)",
	  S_OBJ, "/api/seals/destroy", "{\"codes\":[\"NO-SUCH-SEAL\"],\"reason\":\"damaged\"}" },
	{ "GET", "/api/seals/{code}/history", h_seal_history, AUTH_SESSION, "asset.read", 0, p_code,
	  NULL, NULL, 200, "field", "one seal's whole life: received, issued, applied, removed",
	  S_LIST, "/api/seals/NO-SUCH-SEAL/history", NULL },
	{ "POST", "/api/seals/apply", h_seal_apply, AUTH_SESSION, "seal.apply", RF_IDEMPOTENT, NULL,
	  NULL, b_seal_apply, 200, "field",
	  "seal a verified meter in the lab with one's own seals (all or nothing, each used once)",
	  S_OBJ, "/api/seals/apply",
	  "{\"barcode\":\"4130001000000462000018\",\"codes\":[\"NO-SUCH-SEAL\"]}" },
	{ "GET", "/api/faults/{id}", h_fault_get, AUTH_SESSION, "asset.read", 0, p_id, NULL, NULL,
	  200, "field",
	  "one fault report: outcome, and for an arbitration the run and certificate that "
	  "answered the complaint",
	  S_OBJ, "/api/faults/999999", NULL },
	{ "POST", "/api/faults/{id}/arbitration", h_fault_arbitration, AUTH_SESSION,
	  "fault.analyse", RF_IDEMPOTENT, p_id, NULL, b_arbitration, 200, "field",
	  "link an arbitration complaint to the run (and certificate) that answered it; never "
	  "replaced once set",
	  S_OBJ, "/api/faults/999999/arbitration", "{\"run\":999999}" },
	{ "GET", "/api/faults", h_fault_list, AUTH_SESSION, "asset.read", 0, NULL, q_faults, NULL,
	  200, "field", "fault reports (故障) and their analysis outcomes", S_LIST,
	  "/api/faults?open=true", NULL },
	{ "POST", "/api/faults/{id}/outcome", h_fault_outcome, AUTH_SESSION, "fault.analyse",
	  RF_IDEMPOTENT, p_id, NULL, b_fault_outcome, 200, "field",
	  "record the lab's finding on a fault report (not by its reporter)", S_OBJ,
	  "/api/faults/999999/outcome", "{\"outcome\":\"maker\"}" },
	{ "GET", "/api/plan/orders", h_plan_orders, AUTH_SESSION, "asset.read", 0, NULL,
	  q_plan_orders, NULL, 200, "plan",
	  "a page of swap work orders (rotation, failed inspection) by state, in id order; "
	  "overdue = open past due; total and overdue count every page",
	  S_PAGE_TOTAL, "/api/plan/orders?status=all", NULL },
	{ "POST", "/api/plan/orders/{id}/cancel", h_plan_order_cancel, AUTH_SESSION, "swap.order",
	  RF_IDEMPOTENT, p_id, NULL, b_plan_cancel, 200, "plan",
	  "cancel an open swap work order, with a reason", S_OBJ, "/api/plan/orders/999999/cancel",
	  "{\"reason\":\"probe\"}" },
	{ "POST", "/api/plan/inspections", h_plan_inspect, AUTH_SESSION, "inspection.record",
	  RF_IDEMPOTENT, NULL, NULL, b_plan_inspect, 201, "plan",
	  "record an on-site inspection (现场检验) judged like the lab; a failure opens a swap order",
	  S_OBJ, "/api/plan/inspections",
	  "{\"point\":\"NO-SUCH\",\"standard\":\"NO-SUCH\",\"errors\":[\"Ib 1.0: 0.1, 0.1\"]}" },
	{ "GET", "/api/plan/calendar", h_plan_calendar, AUTH_SESSION, "asset.read", 0, NULL,
	  q_plan_range, NULL, 200, "plan",
	  "the plan's calendar: every day, working or not, and why", S_LIST,
	  "/api/plan/calendar?from=2026-12-01&to=2026-12-31", NULL },
	{ "GET", "/api/plan/actual/{id}", h_plan_actual, AUTH_SESSION, "asset.read", 0, p_id,
	  q_plan_actual, NULL, 200, "plan",
	  "a saved plan against the runs finished per day and bench (lots=true: lot releases)",
	  S_LIST, "/api/plan/actual/999999", NULL },
	{ "GET", "/api/watch/items", h_watch_list, AUTH_SESSION, "asset.read", 0, NULL, q_watch,
	  NULL, 200, "plan",
	  "a page of monitoring work items (稽查监控) in id order: open, closed or all, by rule, "
	  "place, role; total counts every page",
	  S_PAGE_TOTAL, "/api/watch/items?status=all", NULL },
	{ "GET", "/api/watch/items/{id}", h_watch_show, AUTH_SESSION, "asset.read", 0, p_id, NULL,
	  NULL, 200, "plan", "one work item with its evidence, who opened and who closed it", S_OBJ,
	  "/api/watch/items/999999", NULL },
	{ "POST", "/api/watch/items/{id}/close", h_watch_close, AUTH_SESSION, "watch.close",
	  RF_IDEMPOTENT, p_id, NULL, b_watch_close, 200, "plan",
	  "close a work item with a rectification note; refused while the condition holds "
	  "unless a reason is given",
	  S_OBJ, "/api/watch/items/999999/close", "{\"note\":\"probe\"}" },
	{ "POST", "/api/runs/{id}/manual", h_run_manual, AUTH_SESSION, "run.manual", RF_IDEMPOTENT,
	  p_id, NULL, b_manual, 200, "lab",
	  "record a manual run's typed-in readings: judged like a driven run, all or nothing",
	  S_OBJ, "/api/runs/999999/manual", "{\"readings\":\"1, 1, 0.1\"}" },
	{ "POST", "/api/certificates/{id}/check", h_cert_check, AUTH_SESSION, "cert.check",
	  RF_IDEMPOTENT, p_id, NULL, b_none, 200, "certificates",
	  "sign a draft as its checker (not its verifier)", S_LIST,
	  "/api/certificates/999999/check", "{}" },
	{ "POST", "/api/certificates/{id}/approve", h_cert_approve, AUTH_SESSION, "cert.approve",
	  RF_IDEMPOTENT | RF_SLOW, p_id, NULL, b_none, 200, "certificates",
	  "approve and issue a checked certificate (number, PDF; not its verifier nor checker)",
	  S_LIST, "/api/certificates/999999/approve", "{}" },
	{ "POST", "/api/certificates/{id}/withdraw", h_cert_withdraw, AUTH_SESSION, "cert.withdraw",
	  RF_IDEMPOTENT, p_id, NULL, b_reason, 200, "certificates",
	  "withdraw (作废) an issued certificate with a reason", S_LIST,
	  "/api/certificates/999999/withdraw", "{\"reason\":\"wrong asset\"}" },
	{ "POST", "/api/certificates/{id}/revise", h_cert_revise, AUTH_SESSION, "cert.revise",
	  RF_IDEMPOTENT, p_id, NULL, b_revise, 201, "certificates",
	  "start a correction of an issued certificate: a draft revision with the changed fields "
	  "(you are its verifier; two others check and approve it)",
	  S_LIST, "/api/certificates/999999/revise", "{\"reason\":\"typo\",\"client\":\"x\"}" },
	{ "POST", "/api/runs/{id}/certificates/check", h_run_cert_check, AUTH_SESSION, "cert.check",
	  RF_IDEMPOTENT, p_id, NULL, b_none, 200, "certificates",
	  "sign every draft of a run as its checker", S_LIST, "/api/runs/999999/certificates/check",
	  "{}" },
	{ "POST", "/api/runs/{id}/certificates/approve", h_run_cert_approve, AUTH_SESSION,
	  "cert.approve", RF_IDEMPOTENT | RF_SLOW, p_id, NULL, b_none, 200, "certificates",
	  "approve and issue every checked certificate of a run", S_LIST,
	  "/api/runs/999999/certificates/approve", "{}" },

	/* public verification of a certificate (the URL of its QR code) */
	{ "GET", "/verify/{number}", h_verify, AUTH_PUBLIC, NULL, RF_HTML, p_number, q_verify, NULL,
	  200, "public",
	  "is this certificate genuine and current? (no login; rate-limited per address; HTML "
	  "page or JSON)",
	  "{\"type\":\"object\",\"properties\":{\"status\":{\"type\":\"string\",\"enum\":["
	  "\"current\",\"superseded\",\"withdrawn\",\"unknown\"]}}}",
	  "/verify/JL2026-000001?code=ABCD-EFGH", NULL },
};

const size_t srv_nroutes = sizeof(srv_routes) / sizeof(srv_routes[0]);
