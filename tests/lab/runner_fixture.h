/*
 * runner_fixture.h — shared setup for runner/task/standard tests: a fresh
 * database with one device model (class 1 direct single-phase, 220 V
 * 5(60) A, 1200 imp/kWh, 96-month period), N registered assets, a
 * reference standard with a valid certificate, simulated benches (the real
 * Modbus TCP simulator, in-process, on 127.0.0.1) registered as lab
 * benches, and a scheme stored through the judge engineer's scheme API.
 *
 * Who does what (issue 8): the catalogue rows and assets are fixtures the
 * DBA (superuser) inserts; standards and benches are added by mlt_admin
 * (standard.edit), schemes saved by mlt_tech (scheme.edit) and activated by
 * mlt_approver (scheme.activate); tasks are created and run by mlt_tech.
 */
#ifndef ML_TEST_RUNNER_FIXTURE_H
#define ML_TEST_RUNNER_FIXTURE_H

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "assets/barcode.h"
#include "devices/benchsim.h"
#include "lab/runner.h"
#include "lab/scheme.h"
#include "lab/settings.h"
#include "lab/standard.h"
#include "lab/task.h"

namespace rfx
{

inline std::string one(struct db *db, const std::string &sql)
{
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	if (db_exec(db, sql.c_str(), 0, nullptr, PGRES_TUPLES_OK, &res, &err)) {
		ADD_FAILURE() << sql << ": " << err.msg;
		return "";
	}
	std::string v = PQntuples(res) && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "";
	PQclear(res);
	return v;
}

inline void exec(struct db *db, const std::string &sql)
{
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_cmd(db, sql.c_str(), 0, nullptr, &err)) << sql << ": " << err.msg;
}

/* Catalogue, lot and n assets; returns their barcodes (serials start at `first`). */
inline std::vector<std::string> seed_assets(struct db *db, int n, unsigned long long first = 1000)
{
	if (one(db, "SELECT count(*) FROM device_model WHERE code = 'DDZY285-Z'") == "0") {
		exec(db, "INSERT INTO manufacturer (code, name) VALUES ('HX', 'Test maker')");
		exec(db,
		     "INSERT INTO device_model (code, manufacturer_id, name, kind, accuracy_class, connection, wiring, "
		     "un_v, ib_a, imax_a, constant_imp, verification_period_months) SELECT 'DDZY285-Z', manufacturer_id, "
		     "'single-phase smart meter', 'meter_1p', '1', 'direct', '1p2w', 220, 5, 60, 1200, 96 "
		     "FROM manufacturer WHERE code = 'HX'");
	}
	std::string lot = "LOT-" + std::to_string(first);
	exec(db, "INSERT INTO lot (code, model_id, received_by, file_sha256, row_count) SELECT '" +
			 lot + "', model_id, 'test', encode(sha256('" + lot + "'), 'hex'), " +
			 std::to_string(n) + " FROM device_model WHERE code = 'DDZY285-Z'");
	std::vector<std::string> bcs;
	std::string values;
	for (int i = 0; i < n; i++) {
		char bc[23];
		struct ml_error err = ML_ERROR_INIT;
		EXPECT_EQ(ML_OK,
			  barcode_make("41300", "01", first + (unsigned long long)i, bc, &err))
			<< err.msg;
		bcs.push_back(bc);
		values += std::string(i ? "," : "") + "('" + bc + "')";
	}
	exec(db,
	     "INSERT INTO asset (barcode, model_id, lot_id, production_batch, production_date) "
	     "SELECT v.bc, m.model_id, l.lot_id, 'B1', date '2026-09-01' FROM (VALUES " +
		     values +
		     ") AS v(bc), device_model m, lot l WHERE m.code = 'DDZY285-Z' AND l.code = '" +
		     lot + "'");
	return bcs;
}

/* The base conninfo (superuser) of a fresh test database -> one of its people. */
inline std::string person(const std::string &ci, const char *login)
{
	return pgtest_as(ci, login);
}

inline void add_standard(const std::string &ci, const char *code, const char *from,
			 const char *until)
{
	struct standard_rec s = {};
	snprintf(s.code, sizeof(s.code), "%s", code);
	snprintf(s.name, sizeof(s.name), "single-phase standard meter");
	snprintf(s.accuracy_class, sizeof(s.accuracy_class), "0.05");
	snprintf(s.cert.cert_no, sizeof(s.cert.cert_no), "CAL-%s", code);
	snprintf(s.cert.issuer, sizeof(s.cert.issuer), "provincial metrology institute");
	snprintf(s.cert.valid_from, sizeof(s.cert.valid_from), "%s", from);
	snprintf(s.cert.valid_until, sizeof(s.cert.valid_until), "%s", until);
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = pgtest_connect(person(ci, "mlt_admin"));
	EXPECT_EQ(ML_OK, standard_add(db, &s, nullptr, &err)) << err.msg;
	db_close(db);
}

inline void add_bench(const std::string &ci, const char *code, int port, int positions,
		      const char *std_code, const char *kind = "meter-1p")
{
	struct bench_rec b = {};
	snprintf(b.code, sizeof(b.code), "%s", code);
	snprintf(b.name, sizeof(b.name), "bench %s", code);
	if (port > 0)
		snprintf(b.uri, sizeof(b.uri), "tcp://127.0.0.1:%d", port);
	else
		snprintf(b.uri, sizeof(b.uri), "manual");
	snprintf(b.kind, sizeof(b.kind), "%s", kind);
	b.positions = positions;
	b.n_standards = 1;
	snprintf(b.standards[0], sizeof(b.standards[0]), "%s", std_code);
	struct ml_error err = ML_ERROR_INIT;
	struct db *db = pgtest_connect(person(ci, "mlt_admin"));
	EXPECT_EQ(ML_OK, standard_bench_add(db, &b, nullptr, &err)) << err.msg;
	db_close(db);
}

/* An approver changes a lab rule (setting.edit), logged (0112). */
inline void set_rule(const std::string &ci, const char *key, const char *value)
{
	struct ml_error err = ML_ERROR_INIT;
	struct db *appr = pgtest_connect(person(ci, "mlt_approver"));
	EXPECT_EQ(ML_OK, lab_settings_store(appr, key, value, &err)) << err.msg;
	db_close(appr);
}

/* A technician saves the scheme, an approver activates it (0112). */
inline void add_scheme(const std::string &ci, const char *text)
{
	struct scheme *s = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, scheme_parse_text(text, &s, &err)) << err.msg;
	struct db *tech = pgtest_connect(person(ci, "mlt_tech"));
	EXPECT_EQ(ML_OK, scheme_db_save(tech, s, &err)) << err.msg;
	db_close(tech);
	struct db *appr = pgtest_connect(person(ci, "mlt_approver"));
	EXPECT_EQ(ML_OK, scheme_db_activate(appr, s->code, s->version, nullptr, &err)) << err.msg;
	db_close(appr);
	scheme_free(s);
}

/* A started simulator from scenario text; nullptr (with a test failure) on error. */
inline struct benchsim *start_sim(const std::string &scenario, double time_scale)
{
	struct benchsim_scenario *sc = nullptr;
	struct benchsim *sim = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	if (benchsim_scenario_parse(scenario.c_str(), "test", &sc, &err)) {
		ADD_FAILURE() << err.msg;
		return nullptr;
	}
	struct benchsim_options o = {};
	o.time_scale = time_scale;
	if (benchsim_start(sc, &o, &sim, &err))
		ADD_FAILURE() << err.msg;
	benchsim_scenario_free(sc);
	return sim;
}

inline int64_t create_task(struct db *db, const char *bench, const char *scheme,
			   const std::vector<std::string> &bcs, int first_pos = 1,
			   struct ml_error *err_out = nullptr)
{
	std::vector<struct task_slot> slots(bcs.size());
	for (size_t i = 0; i < bcs.size(); i++) {
		slots[i].position = first_pos + (int)i;
		snprintf(slots[i].barcode, sizeof(slots[i].barcode), "%s", bcs[i].c_str());
	}
	struct task_spec spec = {};
	spec.bench_code = bench;
	spec.scheme_code = scheme;
	spec.slots = slots.data();
	spec.nslots = slots.size();
	struct ml_error err = ML_ERROR_INIT;
	int64_t id = 0;
	int rc = task_create(db, &spec, &id, &err);
	if (err_out)
		*err_out = err;
	else
		EXPECT_EQ(ML_OK, rc) << err.msg;
	return rc ? 0 : id;
}

/* A time zone whose date differs from China's at this moment (UTC-12 agrees
 * with China only from 20:00 China time, UTC+14 only before 18:00): a session
 * set to it catches a business date taken from the session's clock. */
inline std::string far_zone(struct db *db)
{
	return std::stoi(one(
		       db, "SELECT extract(hour FROM now() AT TIME ZONE 'Asia/Shanghai')::int")) >=
			       20
		       ? "Etc/GMT-14"
		       : "Etc/GMT+12";
}

inline struct runner_options fast_options()
{
	struct runner_options o;
	runner_options_default(&o);
	o.poll_ms = 2;
	o.stall_timeout_ms = 10000;
	return o;
}

} // namespace rfx

#endif
