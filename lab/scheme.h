/*
 * scheme.h — verification schemes (检定方案): what the device model is
 * (struct model_rating), and the ordered list of test steps to run on it.
 *
 * A scheme is plain data (transparent structs, like modbus_mapping_t):
 * the runner walks scheme->steps[0..nsteps-1] and turns each one into bench
 * setpoints with plan_make_step() (lab/plan.h). Schemes are generated from the
 * regulation tables (scheme_default), stored in tables scheme/scheme_step
 * (migration 0021), and imported/exported as a reviewable text format:
 *
 *     # comment
 *     scheme  code=JJG596-D1-1P  name="Class 1 direct single-phase"  version=1
 *     suits   kinds=meter_1p  classes=1  connection=direct
 *     creep
 *     start
 *     basic   I=Imax   pf=1.0  element=H  readings=2
 *     basic   I=0.1Ib  pf=0.5L element=A  pulses=1
 *     constant I=Imax pf=1.0
 *     clock   readings=5
 *     ct      percent=5  burden=100
 *
 * Ownership: scheme_* functions returning struct scheme ** hand the caller
 * a heap object freed with scheme_free(). All functions are thread-safe
 * (no globals); DB functions use the caller's connection.
 */
#ifndef ML_LAB_SCHEME_H
#define ML_LAB_SCHEME_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/ml_error.h"
#include "lab/settings.h"

#ifdef __cplusplus
extern "C" {
#endif

struct db;

/* ---- device model rating (filled by the runner from device_model) ---- */

/* Codes are stored in the database: explicit, append-only. */
enum model_kind {
	MODEL_METER_1P = 1,
	MODEL_METER_3P = 2,
	MODEL_CT = 3,
	MODEL_VT = 4
};
enum model_connection {
	CONN_DIRECT = 1,
	CONN_TRANSFORMER = 2
};
/* Same values as enum bench_wiring. */
enum model_wiring {
	WIRING_1P2W = 0,
	WIRING_3P4W = 1,
	WIRING_3P3W = 2
};

#define MODEL_CLASS_MAX 8

struct model_rating {
	enum model_kind kind;
	char accuracy_class
		[MODEL_CLASS_MAX]; /* "0.2S" "0.5S" "1" "2" "A".."E" (meters); CT/VT "0.2", "0.5S" … */
	enum model_connection connection; /* meters */
	enum model_wiring wiring;         /* meters */
	int reactive;  /* 0 active energy, 1 reactive (limits: active only for now) */
	int64_t un_mv; /* reference phase voltage, mV (220 V → 220000; 3p3w: line voltage 100 V) */
	int64_t ib_ma;          /* Ib (direct) or In (transformer-operated), mA */
	int64_t imax_ma;        /* Imax, mA */
	int64_t constant;       /* meter constant, imp/kWh (or /kvarh) */
	int64_t freq_mhz;       /* rated frequency, mHz (50 Hz → 50000) */
	int64_t clock_freq_mhz; /* time-keeping test output, mHz (1 Hz → 1000) */
	/* instrument transformers */
	int64_t rated_primary_milli;   /* A or V × 1000 */
	int64_t rated_secondary_milli; /* A or V × 1000 */
	int64_t rated_burden_mva;      /* VA × 1000 */
	int64_t burden_pf_milli;       /* burden power factor × 1000 (0.8 → 800; 0 = 800) */
};

/* "meter_1p"/"meter_3p"/"ct"/"vt" and back; NULL / ML_EINVAL for unknown. */
const char *model_kind_name(enum model_kind k);
int model_kind_parse(const char *s, enum model_kind *out, struct ml_error *err) ML_MUSTCHECK;
const char *model_connection_name(enum model_connection c); /* "direct" / "transformer" */
int model_connection_parse(const char *s, enum model_connection *out,
			   struct ml_error *err) ML_MUSTCHECK;
const char *model_wiring_name(enum model_wiring w); /* "1p2w" / "3p4w" / "3p3w" */
int model_wiring_parse(const char *s, enum model_wiring *out, struct ml_error *err) ML_MUSTCHECK;

/* Check that the rating is complete and consistent for its kind (err names the field). */
int model_rating_check(const struct model_rating *r, struct ml_error *err) ML_MUSTCHECK;

/* ---- load points ---- */

/* Base of a current point. Codes stored in scheme_step: append-only. */
enum point_base {
	POINT_IB = 1,
	POINT_IMAX = 2,
	POINT_ITR = 3,
	POINT_IMIN = 4
};
/* Power factor of a point. phi: 1.0 → 0°, 0.5L → 60°, 0.8C → −36.87°, 0.25L → 75.52°, 0.5C → −60°. */
enum point_pf {
	PF_1 = 1,
	PF_0_5L = 2,
	PF_0_8C = 3,
	PF_0_25L = 4,
	PF_0_5C = 5
};
/* Elements: H = all (balanced), A/B/C = one element (three-phase meters only). */
enum point_element {
	ELEM_H = 0,
	ELEM_A = 1,
	ELEM_B = 2,
	ELEM_C = 3
};

struct load_point {
	enum point_base base;
	int64_t mult_e4; /* multiple of the base: 0.1Ib → 1000, Imax → 10000 */
	enum point_pf pf;
	enum point_element element;
};

/* Parse "0.1Ib", "Ib", "Imax", "0.5Imax", "In" (= Ib), "10Itr", "Imin". */
int point_current_parse(const char *s, enum point_base *base, int64_t *mult_e4,
			struct ml_error *err) ML_MUSTCHECK;
/* Parse "1.0"/"1", "0.5L", "0.8C", "0.25L", "0.5C". */
int point_pf_parse(const char *s, enum point_pf *out, struct ml_error *err) ML_MUSTCHECK;
/* Parse "H"/"ABC"/"all", "A", "B", "C". */
int point_element_parse(const char *s, enum point_element *out, struct ml_error *err) ML_MUSTCHECK;
/* Text forms ("0.1Ib", "0.5L", "H"); buf ≥ 24 bytes; returns buf / static string. */
char *point_current_text(enum point_base base, int64_t mult_e4, char *buf, size_t len);
/*
 * The same, named as the regulation names it for the meter's connection:
 * direct-connected meters are rated by the basic current Ib (基本电流),
 * transformer-operated meters by the rated current In (额定电流) (JJG
 * 596-2012 §3; domain.md §1.3), so 0.05Ib of a direct meter is 0.05In of a
 * transformer-operated one. conn 0 (unknown) names Ib. Returns buf.
 */
char *point_current_text_for(enum point_base base, int64_t mult_e4, enum model_connection conn,
			     char *buf, size_t len);
const char *point_pf_text(enum point_pf pf);          /* "1.0", "0.5L", ... */
const char *point_element_text(enum point_element e); /* "H", "A", "B", "C" */
/* φ in degrees × 10⁴ (current lagging positive): 1.0 → 0, 0.5L → 600000, 0.8C → −368699. */
int64_t point_pf_phi_e4(enum point_pf pf);
/* cos φ × 10⁴: 1.0 → 10000, 0.5L → 5000, 0.8C → 8000, 0.25L → 2500. */
int64_t point_pf_cos_e4(enum point_pf pf);

/* ---- steps and schemes ---- */

/* Step kinds; codes stored in scheme_step.kind: append-only. */
enum scheme_step_kind {
	STEP_CREEP = 1,    /* no-load, §1.7 */
	STEP_START = 2,    /* starting, §1.6 */
	STEP_BASIC = 3,    /* basic error at a load point, §1.3/§1.4 */
	STEP_CONSTANT = 4, /* meter constant / register test, §1.8 */
	STEP_CLOCK = 5,    /* daily clock error, §1.9 */
	STEP_CT = 6,       /* CT ratio error + phase displacement, §2.1 */
	STEP_VT = 7,       /* VT ratio error + phase displacement, §2.2 */
};
const char *scheme_step_kind_name(enum scheme_step_kind k); /* "creep", "start", "basic", ... */

struct scheme_step {
	enum scheme_step_kind kind;
	struct load_point point; /* basic, constant */
	int readings;            /* 0 = default from settings (basic 2, clock 5, xfmr 1) */
	int pulses;              /* basic: per reading, 0 = automatic (§4.2) */
	int settle_timeout_ms;   /* 0 = default from settings */
	int64_t percent_e4;      /* CT/VT: % of rated current/voltage (5 % → 50000) */
	int64_t burden_pct_e4;   /* CT/VT: % of rated burden (100 % → 1000000) */
	/* optional overrides; 0 = none */
	int64_t limit_e4;     /* regulation limit override (± %; s/d for clock) */
	int64_t duration_ms;  /* creep/start/constant/clock time limit override */
	int64_t energy_wh_e4; /* constant: energy to run, Wh × 1e4 */
};

#define SCHEME_CODE_MAX 33
#define SCHEME_NAME_MAX 129
#define SCHEME_LIST_MAX 64
#define SCHEME_MAX_STEPS 256

struct scheme {
	char code[SCHEME_CODE_MAX]; /* unique, [A-Za-z0-9_.-]+ */
	char name[SCHEME_NAME_MAX];
	char kinds[SCHEME_LIST_MAX];   /* comma list of model kinds it suits, "meter_1p,meter_3p" */
	char classes[SCHEME_LIST_MAX]; /* comma list of accuracy classes, "1,2" */
	char connection[16];           /* "direct", "transformer" or "" (any) */
	int version;                   /* bumped by every save */
	size_t nsteps;
	struct scheme_step *steps; /* owned by the scheme */
};

/* Empty scheme (no steps). *out owned by caller: scheme_free(). */
int scheme_new(const char *code, const char *name, struct scheme **out,
	       struct ml_error *err) ML_MUSTCHECK;
void scheme_free(struct scheme *s); /* NULL-safe */
/* Append a copy of step (validated: scheme_step_check). */
int scheme_add_step(struct scheme *s, const struct scheme_step *step,
		    struct ml_error *err) ML_MUSTCHECK;
/* Validate one step (point/pf/element valid for its kind, counts in range). */
int scheme_step_check(const struct scheme_step *step, struct ml_error *err) ML_MUSTCHECK;
/*
 * Whether the scheme declares it suits the model: its kinds, classes and
 * connection lists (empty = any) contain the rating's. ML_EINVAL naming the
 * mismatch otherwise. plan_scheme does not call it; the runner decides.
 */
int scheme_suits(const struct scheme *s, const struct model_rating *r,
		 struct ml_error *err) ML_MUSTCHECK;
/* Deep equality of two schemes (code, name, suits, steps); version ignored. */
int scheme_equal(const struct scheme *a, const struct scheme *b);

/*
 * The regulation scheme for a model (JJG 596-2012 §1.3 point lists incl.
 * unbalanced points for 3-phase meters, creep, start, constant, clock; or
 * IEC 61869 CT/VT points from settings). Code "JJG596-1P-D-<class>",
 * "JJG596-3P-T-<class>", "JJG313-CT-<class>" or "JJG314-VT-<class>"
 * unless code is given. Only the kind, class, connection, wiring, Ib and
 * Imax of r are used (Imax/Ib decides 0.5Imax when settings say auto).
 */
int scheme_default(const struct model_rating *r, const struct lab_settings *set, const char *code,
		   struct scheme **out, struct ml_error *err) ML_MUSTCHECK;

/* One-line text form of a step ("basic  I=0.1Ib  pf=0.5L  element=H  readings=2"). */
int scheme_step_format(const struct scheme_step *step, struct ml_buf *out,
		       struct ml_error *err) ML_MUSTCHECK;
/* The same with the load point named for conn ("I=0.05In" for CONN_TRANSFORMER). */
int scheme_step_format_for(const struct scheme_step *step, enum model_connection conn,
			   struct ml_buf *out, struct ml_error *err) ML_MUSTCHECK;
/* The connection a scheme suits (its "suits connection="); 0 when either. */
enum model_connection scheme_connection(const struct scheme *s);
/* Whole scheme as text (header lines + one line per step, load points in Ib
 * or, for a transformer-operated scheme, In), appended to out. */
int scheme_format_text(const struct scheme *s, struct ml_buf *out,
		       struct ml_error *err) ML_MUSTCHECK;
/* Parse the text format; err names the line number and the bad token. */
int scheme_parse_text(const char *text, struct scheme **out, struct ml_error *err) ML_MUSTCHECK;

/* ---- database (tables scheme, scheme_step) ---- */

/*
 * Store s as a new version of s->code (ml_scheme_save, 0112; permission
 * scheme.edit): version = previous + 1, or 1 for a new code; versions are
 * immutable. The database refuses a step looser than the regulation (a
 * limit wider than the regulation's at that point, fewer readings than the
 * rule, less constant-test energy) naming the step and the rule. The new
 * version is INACTIVE: new runs use it only once a person with
 * scheme.activate activates it (scheme_db_activate). The version is written
 * back to s->version. A scheme with zero steps is ML_EINVAL; nothing is
 * written on any error.
 */
int scheme_db_save(struct db *db, struct scheme *s, struct ml_error *err) ML_MUSTCHECK;
/*
 * Make a version of code the one new runs use (version 0: the latest);
 * permission scheme.activate. *activated (optional) receives the version.
 */
int scheme_db_activate(struct db *db, const char *code, int version, int *activated,
		       struct ml_error *err) ML_MUSTCHECK;
/* Load the ACTIVE version of a scheme with its steps by code. ML_ENOTFOUND when none is active. */
int scheme_db_load(struct db *db, const char *code, struct scheme **out,
		   struct ml_error *err) ML_MUSTCHECK;
/* Load one exact version (also when retired: results name the version they ran). */
int scheme_db_load_version(struct db *db, const char *code, int version, struct scheme **out,
			   struct ml_error *err) ML_MUSTCHECK;
/* Load the version with this scheme_id (a run's scheme). */
int scheme_db_load_id(struct db *db, int64_t scheme_id, struct scheme **out,
		      struct ml_error *err) ML_MUSTCHECK;
/* Retire every version of code (scheme.activate; versions are never deleted). ML_ENOTFOUND when absent or already retired. */
int scheme_db_retire(struct db *db, const char *code, struct ml_error *err) ML_MUSTCHECK;

struct scheme_summary {
	char code[SCHEME_CODE_MAX];
	char name[SCHEME_NAME_MAX];
	char kinds[SCHEME_LIST_MAX];
	char classes[SCHEME_LIST_MAX];
	char connection[16];
	int version;        /* the latest saved version */
	int active_version; /* the version new runs use, 0 = none */
	int nsteps;
};
/* All schemes ordered by code. *out malloc'd (caller frees), *n set. */
int scheme_db_list(struct db *db, struct scheme_summary **out, size_t *n,
		   struct ml_error *err) ML_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
