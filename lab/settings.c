/*
 * settings.c — the declarative table of lab settings, its parser and the
 * lab_setting storage (migration 0020).
 */
#include "lab/settings.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lab/decimal.h"
#include "sql/db.h"

#define OFF(f) offsetof(struct lab_settings, f)
#define LIST(f, n) OFF(f), OFF(n)
#define E4(x) ((int64_t)(x)*DEC4_SCALE)

/*
 * Evidence tags follow domain.md §0. Everything tagged [M] is the
 * reference's "unverified" and must stay a setting; [C] values are
 * industry practice a centre may want to change.
 */
static const struct lab_setting_desc table[] = {
	{ "judge.verdict_on_rounded", LAB_SET_BOOL, "yes",
	  "[M] JJG 596-2012 (recollection); LYTest judges the mean",
	  "judge the rounded value (yes) or the unrounded mean (no)", OFF(verdict_on_rounded), 0, 0,
	  1 },
	{ "judge.internal_coefficient", LAB_SET_DEC4, "60",
	  "[C] ModelTest 60 %, Henan State Grid upload",
	  "internal acceptance limit as % of the regulation limit (100 = same as regulation)",
	  OFF(internal_coeff_e4), 0, E4(1), E4(100) },
	{ "basic.readings", LAB_SET_INT, "2", "[C] MDS SIMPLING=2",
	  "readings per basic-error point", OFF(basic_readings), 0, 1, 32 },
	{ "basic.ref_pulses", LAB_SET_INT, "2", "[C] LYTest SetLapCount",
	  "pulses per reading at Ib, PF 1.0", OFF(basic_ref_pulses), 0, 1, 1000 },
	{ "basic.min_reading_ms", LAB_SET_I64, "0", "[C] ModelTest 10 s, LYTest 5 s",
	  "raise pulses so one reading lasts at least this long (0 = off)",
	  OFF(basic_min_reading_ms), 0, 0, 3600000 },
	{ "scheme.half_imax", LAB_SET_TRI, "auto", "[C] LYTest Imax4Ib flag",
	  "add 0.5Imax points: auto (when Imax >= 4 Ib), yes, no", OFF(half_imax), 0, -1, 1 },
	{ "scheme.unbalanced", LAB_SET_BOOL, "yes", "JJG 596-2012 §1.3 (LYTest JJGPoints)",
	  "single-element points for three-phase meters", OFF(unbalanced), 0, 0, 1 },
	{ "source.settle_timeout_ms", LAB_SET_INT, "20000", "[C] ModelTest 20 s",
	  "source settle timeout per step", OFF(settle_timeout_ms), 0, 1000, 600000 },
	{ "creep.voltage_pct", LAB_SET_DEC4, "115", "[C] LYTest FloatxU=1.15",
	  "creep voltage, % of Un", OFF(creep_voltage_pct_e4), 0, E4(80), E4(130) },
	{ "creep.max_pulses", LAB_SET_INT, "1", "[M] JJG 596-2012; ModelTest <= 1, LYTest 0",
	  "creep passes when at most this many pulses are counted", OFF(creep_max_pulses), 0, 0,
	  10 },
	{ "creep.k_0_2s", LAB_SET_I64, "900", "[C] LYTest StPlan_QianDong",
	  "K of the creep time, class 0.2S", OFF(creep_k_0_2s), 0, 1, 100000 },
	{ "creep.k_0_5s", LAB_SET_I64, "600", "[C] LYTest StPlan_QianDong",
	  "K of the creep time, class 0.5S", OFF(creep_k_0_5s), 0, 1, 100000 },
	{ "creep.k_1", LAB_SET_I64, "600", "[C] LYTest StPlan_QianDong",
	  "K of the creep time, class 1", OFF(creep_k_1), 0, 1, 100000 },
	{ "creep.k_2", LAB_SET_I64, "480", "[C] LYTest StPlan_QianDong",
	  "K of the creep time, class 2", OFF(creep_k_2), 0, 1, 100000 },
	{ "start.min_pulses", LAB_SET_INT, "1", "[M] JJG 596-2012; LYTest 1 pulse",
	  "starting passes when at least this many pulses arrive in time", OFF(start_min_pulses), 0,
	  1, 10 },
	{ "start.coefficient", LAB_SET_DEC4, "1.2", "[C] LYTest GetQiDongTime (JJG 596-2012)",
	  "the 1.2 of t0 = 1.2*60*1000/(C*m*Un*Ist) min", OFF(start_coeff_e4), 0, E4(1) / 10,
	  E4(10) },
	{ "start.time_factor", LAB_SET_DEC4, "1.0", "[C] LYTest allows 1.5 t0",
	  "time limit of the starting test as a multiple of t0", OFF(start_time_factor_e4), 0,
	  E4(1) / 10, E4(10) },
	{ "constant.by_pulses", LAB_SET_BOOL, "no",
	  "[C] LYTest |error| <= class; ModelTest |pulse diff| <= 1",
	  "judge the constant test by pulse difference (yes) or by error vs class index (no)",
	  OFF(constant_by_pulses), 0, 0, 1 },
	{ "constant.max_pulse_diff", LAB_SET_INT, "1", "[C] ModelTest",
	  "allowed |pulse difference|", OFF(constant_max_pulse_diff), 0, 0, 1000 },
	{ "constant.energy_wh", LAB_SET_DEC4, "1000",
	  "[M] minimum energy of JJG 596-2012 not retrieved", "energy run in the constant test, Wh",
	  OFF(constant_energy_wh_e4), 0, E4(1), E4(1000000) },
	{ "clock.limit", LAB_SET_DEC4, "0.5", "[C] LYTest ClockError wcLimit",
	  "daily clock error limit, s/d", OFF(clock_limit_e4), 0, 1, E4(60) },
	{ "clock.readings", LAB_SET_INT, "5", "[C] LYTest WcCount=5; ModelTest 10",
	  "clock readings", OFF(clock_readings), 0, 1, 32 },
	{ "clock.interval", LAB_SET_DEC4, "0.01", "[M] (Henan record shows 0.00s/d)",
	  "rounding interval of the clock error, s/d", OFF(clock_interval_e4), 0, 1, E4(1) },
	{ "letter.itr_pct_direct", LAB_SET_DEC4, "10", "[M] LYTest GetFloatCurrent: Itr = 0.1 Ib",
	  "letter classes: Itr as % of Ib (direct)", OFF(itr_pct_direct_e4), 0, 1, E4(100) },
	{ "letter.itr_pct_transformer", LAB_SET_DEC4, "5",
	  "[M] LYTest GetFloatCurrent: Itr = 0.05 In",
	  "letter classes: Itr as % of In (transformer)", OFF(itr_pct_transformer_e4), 0, 1,
	  E4(100) },
	{ "letter.imin_pct_direct_a", LAB_SET_DEC4, "50",
	  "[M] LYTest GetFloatCurrent: Imin = 0.5 Itr", "letter class A direct: Imin as % of Itr",
	  OFF(imin_pct_direct_a_e4), 0, 1, E4(100) },
	{ "letter.imin_pct_direct", LAB_SET_DEC4, "40",
	  "[M] LYTest GetFloatCurrent: Imin = 0.4 Itr",
	  "letter classes B-E direct: Imin as % of Itr", OFF(imin_pct_direct_e4), 0, 1, E4(100) },
	{ "letter.imin_pct_transformer", LAB_SET_DEC4, "20",
	  "[M] LYTest GetFloatCurrent: Imin = 0.2 Itr",
	  "letter classes transformer-operated: Imin as % of Itr", OFF(imin_pct_transformer_e4), 0,
	  1, E4(100) },
	{ "letter.creep_voltage_pct", LAB_SET_DEC4, "110", "[C] LYTest FloatxU=1.1, ModelTest",
	  "letter classes (revised profile): creep voltage, % of Un",
	  OFF(letter_creep_voltage_pct_e4), 0, E4(80), E4(130) },
	{ "ct.points_s", LAB_SET_DEC4_LIST, "1,5,20,100,120", "[M] JJG 313-2010 (recollection)",
	  "CT S-class points, % of rated current", LIST(ct_points_s_e4, ct_points_s_n), 1,
	  E4(200) },
	{ "ct.points", LAB_SET_DEC4_LIST, "5,20,100,120", "[M] JJG 313-2010 (recollection)",
	  "CT points (non-S classes), % of rated current", LIST(ct_points_e4, ct_points_n), 1,
	  E4(200) },
	{ "vt.points", LAB_SET_DEC4_LIST, "80,100,120", "[M] JJG 314-2010",
	  "VT points, % of rated voltage", LIST(vt_points_e4, vt_points_n), 1, E4(200) },
	{ "xfmr.burdens", LAB_SET_DEC4_LIST, "100,25",
	  "[M] JJG 313/314-2010 (rated and lower-limit burden)", "burdens, % of rated burden",
	  LIST(burdens_e4, burdens_n), 1, E4(200) },
	{ "xfmr.round_fraction", LAB_SET_DEC4, "10", "[M] 1/10 of the class limit at rated",
	  "CT/VT rounding interval as % of the limit at 100 %", OFF(xfmr_round_frac_e4), 0, 1,
	  E4(100) },
	{ "xfmr.readings", LAB_SET_INT, "1", "[M]", "readings per CT/VT point", OFF(xfmr_readings),
	  0, 1, 32 },
	{ "judge.recheck_low", LAB_SET_DEC4, "0", "[M] e.g. 80 (extra readings near the limit)",
	  "basic error: |mean| from this % of the limit asks for more readings (0 = never)",
	  OFF(recheck_low_pct_e4), 0, 0, E4(200) },
	{ "judge.recheck_high", LAB_SET_DEC4, "0", "[M] e.g. 120",
	  "basic error: ... up to this % of the limit (0 = no upper bound)",
	  OFF(recheck_high_pct_e4), 0, 0, E4(1000) },
	{ "judge.recheck_readings", LAB_SET_INT, "2", "[M]",
	  "how many more readings a recheck asks for", OFF(recheck_readings), 0, 1, 30 },
	/* arrival sampling: ISO 2859-1:1999 clause 9 switching rules (lab/sampling_switch.h) */
	{ "sampling.switch.tighten_rejects", LAB_SET_INT, "2", "[M] ISO 2859-1:1999 9.3.1",
	  "normal -> tightened when this many lots are not accepted ...", OFF(sw_tighten_rejects),
	  0, 1, 32 },
	{ "sampling.switch.tighten_window", LAB_SET_INT, "5", "[M] ISO 2859-1:1999 9.3.1",
	  "... within this many (or fewer) consecutive lots", OFF(sw_tighten_window), 0, 1, 32 },
	{ "sampling.switch.normal_after_accepts", LAB_SET_INT, "5", "[M] ISO 2859-1:1999 9.3.2",
	  "tightened -> normal after this many consecutive accepted lots",
	  OFF(sw_normal_after_accepts), 0, 1, 32 },
	{ "sampling.switch.reduced_score", LAB_SET_INT, "30", "[M] ISO 2859-1:1999 9.3.3",
	  "switching score from which the authority may approve reduced inspection",
	  OFF(sw_reduced_score), 0, 1, 1000 },
	{ "sampling.switch.score_ac2", LAB_SET_INT, "3", "[M] ISO 2859-1:1999 9.3.3.2 a)",
	  "score added for a lot also accepted one AQL step tighter (plans with Ac >= 2)",
	  OFF(sw_score_ac2), 0, 0, 100 },
	{ "sampling.switch.score_ac01", LAB_SET_INT, "2", "[M] ISO 2859-1:1999 9.3.3.2 a)",
	  "score added for an accepted lot (plans with Ac 0 or 1)", OFF(sw_score_ac01), 0, 0, 100 },
	{ "sampling.switch.discontinue_rejects", LAB_SET_INT, "5", "[M] ISO 2859-1:1999 9.4",
	  "lots not accepted on tightened inspection that discontinue sampling inspection",
	  OFF(sw_discontinue_rejects), 0, 1, 1000 },
	/* the second of State Grid's three quality gates (domain.md §3.1): whether every lot
	 * must pass arrival sampling before full verification is the centre's policy (0275) */
	{ "sampling.required", LAB_SET_BOOL, "no", "[M] State Grid quality gate 2 (domain.md 3.1)",
	  "an arrived lot is verified for stock only after its arrival sample accepted it",
	  OFF(sampling_required), 0, 0, 1 },
	/* the level and AQL a draw takes when the person gives none (sample draw), per kind of
	 * device: meters (meter_1p, meter_3p), transformers (ct, vt), concentrators (0276) */
	{ "sampling.aql.meter", LAB_SET_DEC4, "1.0",
	  "[M] State Grid plan not found (domain.md 3.1)",
	  "arrival sampling AQL (% nonconforming) of meters when the draw names none",
	  OFF(sampling_aql_meter_e4), 0, 100, 65000 },
	{ "sampling.aql.transformer", LAB_SET_DEC4, "1.0", "[M] State Grid plan not found",
	  "arrival sampling AQL of current and voltage transformers", OFF(sampling_aql_xfmr_e4), 0,
	  100, 65000 },
	{ "sampling.aql.concentrator", LAB_SET_DEC4, "2.5", "[M] State Grid plan not found",
	  "arrival sampling AQL of data concentrators", OFF(sampling_aql_conc_e4), 0, 100, 65000 },
	{ "sampling.level.meter", LAB_SET_INT, "2", "[M] ISO 2859-1 10.1 (level II unless stated)",
	  "inspection level of meters when the draw names none: 1 = I, 2 = II, 3 = III",
	  OFF(sampling_level_meter), 0, 1, 3 },
	{ "sampling.level.transformer", LAB_SET_INT, "2", "[M] ISO 2859-1 10.1",
	  "inspection level of transformers: 1 = I, 2 = II, 3 = III", OFF(sampling_level_xfmr), 0,
	  1, 3 },
	{ "sampling.level.concentrator", LAB_SET_INT, "2", "[M] ISO 2859-1 10.1",
	  "inspection level of concentrators: 1 = I, 2 = II, 3 = III", OFF(sampling_level_conc), 0,
	  1, 3 },
	/* stores (issue 11): State Grid practice, no regulation clause */
	{ "stock.reverify_months", LAB_SET_INT, "6", "[M] State Grid practice",
	  "stock verified longer ago than this many months is re-verified before issue or install",
	  OFF(stock_reverify_months), 0, 1, 96 },
};

const struct lab_setting_desc *lab_settings_table(size_t *n)
{
	if (n)
		*n = sizeof(table) / sizeof(table[0]);
	return table;
}

static const struct lab_setting_desc *find(const char *key)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].key, key) == 0)
			return &table[i];
	return NULL;
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no",
										       "false",
										       "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

static int range_err(const struct lab_setting_desc *d, const char *v, struct ml_error *err)
{
	char lo[DEC4_FMT_MAX], hi[DEC4_FMT_MAX];
	int dec = d->type == LAB_SET_DEC4 || d->type == LAB_SET_DEC4_LIST;
	dec_format(d->min, dec ? 4 : 0, dec ? dec4_min_decimals(d->min) : 0, 0, lo, sizeof lo);
	dec_format(d->max, dec ? 4 : 0, dec ? dec4_min_decimals(d->max) : 0, 0, hi, sizeof hi);
	return ml_errorf(err, ML_EINVAL, "setting %s: value '%s' out of range %s..%s", d->key, v,
			 lo, hi);
}

static int set_list(struct lab_settings *s, const struct lab_setting_desc *d, const char *v,
		    struct ml_error *err)
{
	int64_t vals[LAB_SETTING_LIST_MAX];
	int n = 0;
	char tmp[256], *save = NULL;
	if (strlen(v) >= sizeof tmp)
		return ml_errorf(err, ML_EINVAL, "setting %s: value too long", d->key);
	memcpy(tmp, v, strlen(v) + 1);
	for (char *tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == LAB_SETTING_LIST_MAX)
			return ml_errorf(err, ML_EINVAL, "setting %s: more than %d values in '%s'",
					 d->key, LAB_SETTING_LIST_MAX, v);
		if (dec4_parse(tok, &vals[n], err))
			return ml_error_prefix(err, "setting %s: ", d->key), ML_EINVAL;
		if (vals[n] < d->min || vals[n] > d->max)
			return range_err(d, tok, err);
		n++;
	}
	if (n == 0)
		return ml_errorf(err, ML_EINVAL, "setting %s: empty list", d->key);
	memcpy((char *)s + d->offset, vals, sizeof(int64_t) * (size_t)n);
	*(int *)((char *)s + d->count_offset) = n;
	return ML_OK;
}

static int parse_scalar(const struct lab_setting_desc *d, const char *v, int64_t *x,
			struct ml_error *err)
{
	int b;
	switch (d->type) {
	case LAB_SET_BOOL:
		if (parse_bool(v, &b))
			return ml_errorf(err, ML_EINVAL, "setting %s: '%s' is not yes/no", d->key,
					 v);
		*x = b;
		return ML_OK;
	case LAB_SET_TRI:
		if (strcasecmp(v, "auto") == 0)
			return *x = -1, ML_OK;
		if (parse_bool(v, &b))
			return ml_errorf(err, ML_EINVAL, "setting %s: '%s' is not auto/yes/no",
					 d->key, v);
		*x = b;
		return ML_OK;
	case LAB_SET_INT:
	case LAB_SET_I64:
		if (dec_parse(v, 0, x, err))
			return ml_error_prefix(err, "setting %s: ", d->key), ML_EINVAL;
		return ML_OK;
	default:
		if (dec4_parse(v, x, err))
			return ml_error_prefix(err, "setting %s: ", d->key), ML_EINVAL;
		return ML_OK;
	}
}

int lab_settings_set(struct lab_settings *s, const char *key, const char *value,
		     struct ml_error *err)
{
	const struct lab_setting_desc *d = key ? find(key) : NULL;
	if (!d)
		return ml_errorf(err, ML_ENOTFOUND, "unknown setting '%s'", key ? key : "");
	if (!value)
		return ml_errorf(err, ML_EINVAL, "setting %s: missing value", key);
	if (d->type == LAB_SET_DEC4_LIST)
		return set_list(s, d, value, err);
	int64_t x;
	if (parse_scalar(d, value, &x, err))
		return ML_EINVAL;
	if (x < d->min || x > d->max)
		return range_err(d, value, err);
	if (d->type == LAB_SET_I64 || d->type == LAB_SET_DEC4)
		*(int64_t *)((char *)s + d->offset) = x;
	else
		*(int *)((char *)s + d->offset) = (int)x;
	return ML_OK;
}

void lab_settings_defaults(struct lab_settings *s)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		/* The defaults are tested (settings test): a failure here is a bug in the table. */
		if (lab_settings_set(s, table[i].key, table[i].def, NULL))
			abort();
	}
}

static int format_list(const struct lab_settings *s, const struct lab_setting_desc *d,
		       struct ml_buf *out)
{
	const int64_t *v = (const int64_t *)((const char *)s + d->offset);
	int n = *(const int *)((const char *)s + d->count_offset), rc = 0;
	char tmp[DEC4_FMT_MAX];
	for (int i = 0; i < n; i++)
		rc |= ml_buf_printf(out, "%s%s", i ? "," : "",
				    dec4_format(v[i], dec4_min_decimals(v[i]), tmp, sizeof tmp));
	return rc;
}

int lab_settings_get(const struct lab_settings *s, const char *key, struct ml_buf *out,
		     struct ml_error *err)
{
	const struct lab_setting_desc *d = key ? find(key) : NULL;
	if (!d)
		return ml_errorf(err, ML_ENOTFOUND, "unknown setting '%s'", key ? key : "");
	ml_buf_reset(out);
	const char *p = (const char *)s + d->offset;
	char tmp[DEC4_FMT_MAX];
	int rc;
	switch (d->type) {
	case LAB_SET_BOOL:
		rc = ml_buf_puts(out, *(const int *)p ? "yes" : "no");
		break;
	case LAB_SET_TRI:
		rc = ml_buf_puts(out, *(const int *)p < 0 ? "auto"
				      : *(const int *)p   ? "yes"
							  : "no");
		break;
	case LAB_SET_INT:
		rc = ml_buf_printf(out, "%d", *(const int *)p);
		break;
	case LAB_SET_I64:
		rc = ml_buf_printf(out, "%lld", (long long)*(const int64_t *)p);
		break;
	case LAB_SET_DEC4: {
		int64_t v = *(const int64_t *)p;
		rc = ml_buf_puts(out, dec4_format(v, dec4_min_decimals(v), tmp, sizeof tmp));
		break;
	}
	default:
		rc = format_list(s, d, out);
	}
	return rc ? ml_errorf(err, ML_ENOMEM, "setting %s: out of memory", key) : ML_OK;
}

int lab_settings_load(struct db *db, struct lab_settings *s, struct ml_error *err)
{
	struct lab_settings tmp;
	lab_settings_defaults(&tmp);
	PGresult *res = NULL;
	int rc = db_exec(db, "SELECT key, value FROM lab_setting ORDER BY key", 0, NULL,
			 PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(res) && !rc; i++) {
		rc = lab_settings_set(&tmp, db_get(res, i, "key"), db_get(res, i, "value"), err);
		/* a key of a newer build: ignore, it cannot affect this one */
		if (rc == ML_ENOTFOUND)
			rc = ML_OK;
		else if (rc) { /* a stored value this build rejects: a configuration error, named */
			ml_error_prefix(err, "table lab_setting: ");
			if (err)
				err->code = ML_ECONFIG;
			rc = ML_ECONFIG;
		}
	}
	PQclear(res);
	if (!rc)
		*s = tmp;
	return rc;
}

/*
 * Stored by ml_setting_set (0112; permission setting.edit): the database
 * checks the key and the value against its copy of this table
 * (lab_setting_def), writes the change log with the authenticated person and
 * applies the value, in one transaction. new_value NULL = back to the default.
 */
static int store_tx(struct db *db, const char *key, const char *new_value, struct ml_error *err)
{
	const char *p[] = { key, new_value };
	return db_cmd(db, "SELECT ml_setting_set($1, $2)", 2, p, err);
}

int lab_settings_store(struct db *db, const char *key, const char *value, struct ml_error *err)
{
	struct lab_settings tmp;
	lab_settings_defaults(&tmp);
	int rc = lab_settings_set(&tmp, key, value, err);
	if (rc)
		return rc;
	/* Store the normalised form so the table reads the same whatever was typed ("YES" → "yes"). */
	struct ml_buf norm = ML_BUF_INIT;
	rc = lab_settings_get(&tmp, key, &norm, err);
	if (!rc)
		rc = store_tx(db, key, ml_buf_str(&norm), err);
	ml_buf_free(&norm);
	return rc;
}

int lab_settings_reset(struct db *db, const char *key, struct ml_error *err)
{
	if (!key || !find(key))
		return ml_errorf(err, ML_ENOTFOUND, "unknown setting '%s'", key ? key : "");
	return store_tx(db, key, NULL, err);
}
