/* Shared fixtures of the certificate workflow tests (tests/reports/workflow_*.cc).
 *
 * Certificates are made only from finished runs, by people: wf_run inserts
 * a complete run as the DBA (tests/data/reports/make_run.sql), and each step
 * is done on the connection of the person who does it (the test cast of
 * tests/support/pgtest.h: mlt_tech 王检定 drafts, mlt_checker 张核验 checks,
 * mlt_approver 刘批准 approves). */
#ifndef ML_TEST_WORKFLOW_SUPPORT_H
#define ML_TEST_WORKFLOW_SUPPORT_H

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../support/pgtest.h"
#include "reports/cert_doc.h"
#include "reports/cert_source.h"
#include "reports/cert_store.h"
#include "reports/cert_verify.h"
#include "reports/cert_workflow.h"

/* 22-digit barcodes with a valid GS1-style check digit (domain.md §5.2). */
inline std::string wf_barcode(long serial)
{
	char body[32];
	snprintf(body, sizeof(body), "4130001%014ld", serial);
	int sum = 0;
	for (int i = 0; i < 21; i++)
		sum += (body[i] - '0') * (i % 2 == 0 ? 3 : 1);
	std::string s(body);
	s += (char)('0' + (10 - sum % 10) % 10);
	return s;
}

/* Run a static SQL script from the source tree as one transaction (admin connection). */
inline void wf_script(const std::string &ci, const char *rel)
{
	std::ifstream f(pgtest_src(rel));
	std::stringstream ss;
	ss << f.rdbuf();
	struct db *db = pgtest_connect(ci);
	PGresult *res = PQexec(db_conn(db), ("BEGIN;" + ss.str() + "COMMIT;").c_str());
	EXPECT_EQ(PGRES_COMMAND_OK, PQresultStatus(res))
		<< rel << ": " << PQerrorMessage(db_conn(db));
	PQclear(res);
	db_close(db);
}

/* A fresh database with the run maker loaded. */
inline std::string wf_fresh_db(const char *tag)
{
	std::string ci = pgtest_fresh_db(tag);
	wf_script(ci, "tests/data/reports/make_run.sql");
	return ci;
}

/* One database for the workflow tests of this binary (creating and
 * migrating one costs seconds); tests keep apart by issuer and run. */
inline std::string wf_db()
{
	static const std::string ci = wf_fresh_db("certwf");
	return ci;
}

inline std::string wf_scalar(struct db *db, const std::string &sql)
{
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, db_query_one(db, sql.c_str(), 0, nullptr, &res, &err))
		<< err.msg << " in " << sql;
	std::string v = res && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "";
	PQclear(res);
	return v;
}

/* A finished run of n meters (the last n_fail fail), made by the DBA; its id. */
inline long long wf_run(struct db *admin, const std::string &tag, int n, int n_fail = 0)
{
	std::string id = wf_scalar(admin, "SELECT wf_make_run('" + tag + "', " + std::to_string(n) +
						  ", " + std::to_string(n_fail) + ")");
	EXPECT_NE("", id) << tag;
	return atoll(id.c_str());
}

/* An issuing body of the test's own (id = number prefix = code), so its
 * certificate numbers start at 1 whatever other tests issued. The DBA adds
 * it; its verification key is made by the database. */
inline const char *wf_issuer(struct db *admin, const char *code)
{
	const char *p[1] = { code };
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK,
		  db_cmd(admin,
			 "INSERT INTO issuer (id, name, authorization_no, number_prefix) "
			 "VALUES ($1, '测试计量中心 ' || $1, '(测)法计(2026)0' || $1 || '号', $1)",
			 1, p, &err))
		<< err.msg;
	return code;
}

/* One renderer for the whole test binary (font parsing is the slow part). */
struct cert_renderer *wf_renderer();

/* The people of a test, each on their own connection. */
struct wf_people {
	std::string ci;
	struct db *admin, *tech, *checker, *approver;
	explicit wf_people(const std::string &c)
	    : ci(c), admin(pgtest_connect(c)), tech(pgtest_connect(pgtest_as(c, "mlt_tech"))),
	      checker(pgtest_connect(pgtest_as(c, "mlt_checker"))),
	      approver(pgtest_connect(pgtest_as(c, "mlt_approver")))
	{
	}
	~wf_people()
	{
		db_close(admin);
		db_close(tech);
		db_close(checker);
		db_close(approver);
	}
	wf_people(const wf_people &) = delete;
	wf_people &operator=(const wf_people &) = delete;
};

/* The verifier drafts the run's certificates; their ids in position order. */
inline std::vector<long long> wf_drafts(struct db *verifier, long long run,
					const char *issuer = nullptr)
{
	long long *ids = nullptr;
	size_t n = 0, created = 0;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, cert_source_drafts(verifier, run, issuer, &ids, &n, &created, &err))
		<< err.msg;
	std::vector<long long> v(ids, ids + n);
	free(ids);
	return v;
}

/* Approve with the shared renderer. */
inline int wf_approve(struct db *db, const std::vector<long long> &ids, struct ml_error *err)
{
	struct cert_renderer *r = wf_renderer();
	struct cert_issue_opts o = { &r, 1 };
	return cert_approve(db, ids.data(), ids.size(), &o, err);
}

/* Draft, check and issue a run's certificates, each step by its person. */
inline std::vector<long long> wf_issue_run(wf_people &p, long long run,
					   const char *issuer = nullptr)
{
	std::vector<long long> ids = wf_drafts(p.tech, run, issuer);
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, cert_check(p.checker, ids.data(), ids.size(), &err)) << err.msg;
	EXPECT_EQ(ML_OK, wf_approve(p.approver, ids, &err)) << err.msg;
	return ids;
}

/* Today in China Standard Time (the issue date of everything issued now). */
inline std::string wf_today(struct db *db)
{
	return wf_scalar(db, "SELECT to_char(ml_cert_today(), 'YYYY-MM-DD')");
}

/* The number of the serial-th certificate an issuer gives this year (PREFIX2026-000001). */
/* The text of certificate id's stored PDF (pdftotext, via a file in the
 * build tree named after tag); "" when it cannot be read (a failure then). */
inline std::string wf_pdf_text(struct db *db, long long id, const std::string &tag)
{
	struct ml_buf pdf = ML_BUF_INIT;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, cert_pdf_get(db, id, &pdf, nullptr, &err)) << err.msg;
	std::string path = std::string(ML_BINARY_DIR) + "/tests/reports-wf-" + tag + ".pdf";
	FILE *f = fopen(path.c_str(), "wb");
	EXPECT_NE(nullptr, f) << path;
	if (f) {
		fwrite(pdf.data, 1, pdf.len, f);
		fclose(f);
	}
	ml_buf_free(&pdf);
	std::string text;
	EXPECT_EQ(0, pgtest_run("pdftotext -enc UTF-8 " + pgtest_sq(path) + " -", &text)) << path;
	return text;
}

inline std::string wf_no(struct db *db, const char *prefix, int serial)
{
	return wf_scalar(db, std::string("SELECT ml_cert_number('") + prefix +
				     "', extract(year FROM ml_cert_today())::int, " +
				     std::to_string(serial) + ")");
}

#endif
