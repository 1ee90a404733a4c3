/* Certificate workflow against a real PostgreSQL: people sign, the database
 * guards numbering, immutability, revisions, stored bytes, verification —
 * and refuses what an attacker with a login (or the owner) tries. */
#include <gtest/gtest.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "audit/audit.h"
#include "reports/cert_verify_hash.h"
#include "workflow_support.h"

struct cert_renderer *wf_renderer()
{
	static struct cert_renderer *r = [] {
		struct cert_renderer *x = nullptr;
		struct ml_error err = ML_ERROR_INIT;
		if (cert_renderer_new(nullptr, &x, &err)) {
			fprintf(stderr, "renderer: %s\n", err.msg);
			abort();
		}
		return x;
	}();
	return r;
}

/* ---- hashes and codes (pure) ---- */

TEST(CertHash, Sha256Vectors)
{
	/* FIPS 180-4 example messages (NIST CSRC "SHA256.pdf"). */
	char hex[65];
	cert_sha256_hex("abc", 3, hex);
	EXPECT_STREQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex);
	cert_sha256_hex("", 0, hex);
	EXPECT_STREQ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex);
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	cert_sha256_hex(m, strlen(m), hex);
	EXPECT_STREQ("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", hex);
	/* Streaming in odd pieces equals one shot (one million 'a'). */
	std::string a(1000000, 'a');
	struct cert_sha256 s;
	cert_sha256_init(&s);
	for (size_t off = 0; off < a.size(); off += 997)
		cert_sha256_update(&s, a.data() + off, std::min<size_t>(997, a.size() - off));
	unsigned char d[32];
	cert_sha256_final(&s, d);
	char h2[65];
	for (int i = 0; i < 32; i++)
		snprintf(h2 + 2 * i, 3, "%02x", d[i]);
	EXPECT_STREQ("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", h2);
}

TEST(CertHash, HmacRfc4231)
{
	unsigned char out[32];
	char hex[65];
	auto tohex = [&] {
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", out[i]);
	};
	/* RFC 4231 test case 2. */
	cert_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
	tohex();
	EXPECT_STREQ("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", hex);
	/* Test case 6: a 131-byte key is hashed first. */
	std::string key(131, '\xaa');
	const char *msg = "Test Using Larger Than Block-Size Key - Hash Key First";
	cert_hmac_sha256(key.data(), key.size(), msg, strlen(msg), out);
	tohex();
	EXPECT_STREQ("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", hex);
}

TEST(CertVerifyCode, DeterministicKeyedAndParsable)
{
	struct ml_error err = ML_ERROR_INIT;
	const char *key = "0123456789abcdef0123456789abcdef";
	char a[CERT_VCODE_LEN], b[CERT_VCODE_LEN], c[CERT_VCODE_LEN];
	ASSERT_EQ(ML_OK,
		  cert_verify_code(key, "JL2026-000001", 0, "4130001000000446529641", a, &err));
	ASSERT_EQ(ML_OK,
		  cert_verify_code(key, "JL2026-000001", 0, "4130001000000446529641", b, &err));
	EXPECT_STREQ(a, b);
	EXPECT_EQ(9u, strlen(a));
	EXPECT_EQ('-', a[4]);
	ASSERT_EQ(ML_OK,
		  cert_verify_code(key, "JL2026-000001", 1, "4130001000000446529641", c, &err));
	EXPECT_STRNE(a, c) << "the revision is part of the code";
	ASSERT_EQ(ML_OK, cert_verify_code("fedcba9876543210fedcba9876543210", "JL2026-000001", 0,
					  "4130001000000446529641", c, &err));
	EXPECT_STRNE(a, c) << "the key is part of the code";
	EXPECT_EQ(ML_ECONFIG,
		  cert_verify_code("short", "JL2026-000001", 0, "4130001000000446529641", c, &err));

	char qr[256];
	ASSERT_EQ(ML_OK, cert_qr_payload("JL2026-000001", 2, "4130001000000446529641", a, qr,
					 sizeof(qr), &err));
	struct cert_claim cl;
	ASSERT_EQ(ML_OK, cert_qr_parse(qr, strlen(qr), &cl, &err)) << err.msg;
	EXPECT_STREQ("JL2026-000001", cl.cert_no);
	EXPECT_EQ(2, cl.revision);
	EXPECT_STREQ("4130001000000446529641", cl.barcode);
	EXPECT_STREQ(a, cl.code);
	EXPECT_EQ(ML_EINVAL, cert_qr_parse("MLCERT1;NO=X;REV=a;BC=1;VC=2", 28, &cl, &err));
	EXPECT_EQ(ML_EINVAL, cert_qr_parse("hello", 5, &cl, &err));

	/* The verification URL a QR code carries when the issuer has a public base URL (0251). */
	auto url = [&](const char *u) { return cert_qr_parse(u, strlen(u), &cl, &err); };
	ASSERT_EQ(ML_OK, url("https://jl.example.cn/meterlab/verify/JL2026-000001?code=ABCD-EFGH"))
		<< err.msg;
	EXPECT_STREQ("JL2026-000001", cl.cert_no);
	EXPECT_STREQ("ABCD-EFGH", cl.code);
	EXPECT_EQ(-1, cl.revision) << "the code tells the revision";
	EXPECT_STREQ("", cl.barcode);
	ASSERT_EQ(ML_OK, url("http://127.0.0.1:8080/verify/JL2026-000002?lang=zh&code=abcdefgh"));
	EXPECT_STREQ("JL2026-000002", cl.cert_no);
	EXPECT_STREQ("abcdefgh", cl.code);
	for (const char *bad :
	     { "https://x/verify/JL2026-000001", "https://x/verify/?code=ABCD-EFGH",
	       "https://x/check/JL2026-000001?code=ABCD-EFGH",
	       "https://x/verify/JL2026 000001?code=ABCD-EFGH",
	       "https://x/verify/JL2026-000001?code=ABCD-EFGH-IJKL-MNOP",
	       "https://x/verify/JL2026-000001?cod=ABCD-EFGH" }) {
		EXPECT_EQ(ML_EINVAL, url(bad)) << bad;
		EXPECT_NE(nullptr, strstr(err.msg, "verification URL")) << err.msg;
	}
}

/* The database computes the codes (the key never leaves it): the same
 * algorithm as the C reference implementation above; numbers are never cut. */
TEST(CertVerifyCode, DatabaseComputesTheSameCodes)
{
	struct db *admin = pgtest_connect(wf_db());
	wf_issuer(admin, "VC");
	/* The DBA (superuser) sets a known key to compare with the C implementation. */
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK,
		  db_cmd(admin,
			 "UPDATE issuer_key SET verify_key = '0123456789abcdef0123456789abcdef' "
			 "WHERE issuer_id = 'VC'",
			 0, nullptr, &err))
		<< err.msg;
	for (int rev : { 0, 1, 7 }) {
		char c[CERT_VCODE_LEN];
		ASSERT_EQ(ML_OK,
			  cert_verify_code("0123456789abcdef0123456789abcdef", "VC2026-000042", rev,
					   "4130001000000446529641", c, &err));
		EXPECT_EQ(c, wf_scalar(admin, "SELECT ml_cert_code('VC', 'VC2026-000042', " +
						      std::to_string(rev) +
						      ", '4130001000000446529641')"));
	}
	EXPECT_EQ("JL2026-000123", wf_scalar(admin, "SELECT ml_cert_number('JL', 2026, 123)"));
	EXPECT_EQ("JL2026-1234567", wf_scalar(admin, "SELECT ml_cert_number('JL', 2026, 1234567)"))
		<< "a seventh digit is added, not cut";
	db_close(admin);
}

/* ---- content ---- */

TEST(CertStore, DocumentJsonRoundTrips)
{
	struct db *db = pgtest_connect(pgtest_as(wf_db(), "mlt_tech"));
	struct ml_error err = ML_ERROR_INIT;
	struct cert_content *c = nullptr;
	ASSERT_EQ(
		ML_OK,
		cert_content_parse(
			db,
			"{\"kind\": 2, \"client\": \"示范市供电公司 \\\"营销部\\\"\", \"conclusion\": "
			"\"不合格\", \"revision\": 3, \"cert_no\": \"JL2026-000007\", "
			"\"issuer_name\": \"测试计量中心\", \"approver\": \"刘批准\", "
			"\"items\": [{\"name\": \"潜动试验\", \"conclusion\": \"合格\", \"detail\": \"0 "
			"个脉冲\"}, {\"name\": \"基本误差\", \"conclusion\": \"不合格\"}], "
			"\"xfmr\": [{\"percent\": \"5%\", \"burden\": \"2.5 VA\"}, {\"percent\": "
			"\"100%\"}], \"standards\": [], \"errors\": []}",
			&c, &err))
		<< err.msg;
	struct cert_doc *x = cert_content_doc(c);
	EXPECT_EQ(CERT_KIND_NOTICE, x->kind);
	EXPECT_STREQ("示范市供电公司 \"营销部\"", x->client) << "quotes survive the JSON trip";
	EXPECT_STREQ("不合格", x->conclusion);
	EXPECT_EQ(3, x->revision);
	EXPECT_STREQ("JL2026-000007", x->cert_no);
	EXPECT_STREQ("测试计量中心", x->issuer.name);
	EXPECT_STREQ("刘批准", x->approver);
	EXPECT_EQ(nullptr, x->valid_until);
	ASSERT_EQ(2u, x->n_items);
	EXPECT_STREQ("0 个脉冲", x->items[0].detail);
	EXPECT_EQ(nullptr, x->items[1].detail);
	ASSERT_EQ(2u, x->n_xfmr);
	EXPECT_STREQ("2.5 VA", x->xfmr[0].burden);
	EXPECT_EQ(nullptr, x->xfmr[1].burden);
	EXPECT_EQ(0u, x->n_errors);
	cert_content_free(c);
	EXPECT_EQ(ML_EINVAL, cert_content_parse(db, "{\"client\": \"x\"}", &c, &err))
		<< "a document has a kind";
	EXPECT_EQ(ML_EINVAL, cert_content_parse(db, "not json", &c, &err));
	EXPECT_EQ(ML_ENOTFOUND, cert_content_load(db, 987654321987LL, &c, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "certificate 987654321987 not found")) << err.msg;
	EXPECT_EQ(nullptr, c);
	db_close(db);
}

TEST(CertStore, ManyDocumentsComeParsedFromOneStatement)
{
	struct db *db = pgtest_connect(pgtest_as(wf_db(), "mlt_tech"));
	struct ml_error err = ML_ERROR_INIT;
	struct cert_content **c = nullptr;
	long long *keys = nullptr;
	size_t n = 0;
	/* out of order on purpose: n orders them; one has no arrays, one no scalars but kind */
	const char *p[1] = {
		"{\"kind\": 2, \"client\": \"B\", \"xfmr\": [{\"percent\": \"5%\"}]}"
	};
	ASSERT_EQ(
		ML_OK,
		cert_content_query(
			db,
			"SELECT v.n::bigint, v.k::bigint, v.d FROM (VALUES "
			"(2, 20, $1::jsonb), "
			"(1, 10, '{\"kind\": 1, \"client\": \"A\", \"items\": [{\"name\": \"x\"}, "
			"{\"name\": \"y\"}], \"standards\": [{}]}'::jsonb), "
			"(3, 30, '{\"kind\": 1}'::jsonb)) v(n, k, d)",
			1, p, &c, &keys, &n, &err))
		<< err.msg;
	ASSERT_EQ(3u, n);
	EXPECT_EQ(10, keys[0]);
	EXPECT_EQ(20, keys[1]);
	EXPECT_EQ(30, keys[2]);
	struct cert_doc *a = cert_content_doc(c[0]), *b = cert_content_doc(c[1]),
			*e = cert_content_doc(c[2]);
	EXPECT_EQ(CERT_KIND_CERTIFICATE, a->kind);
	EXPECT_STREQ("A", a->client);
	ASSERT_EQ(2u, a->n_items);
	EXPECT_STREQ("y", a->items[1].name);
	EXPECT_EQ(1u, a->n_standards) << "an empty object is a row";
	EXPECT_EQ(0u, a->n_xfmr);
	EXPECT_EQ(CERT_KIND_NOTICE, b->kind);
	EXPECT_STREQ("B", b->client);
	ASSERT_EQ(1u, b->n_xfmr);
	EXPECT_STREQ("5%", b->xfmr[0].percent);
	EXPECT_EQ(0u, b->n_items) << "no rows of another document";
	EXPECT_EQ(nullptr, e->client);
	EXPECT_EQ(0u, e->n_items + e->n_standards + e->n_errors + e->n_xfmr);
	/* each frees alone, in any order: they share one result */
	cert_content_free(c[1]);
	EXPECT_STREQ("A", a->client) << "the others' strings outlive one document";
	cert_content_free(c[0]);
	EXPECT_EQ(CERT_KIND_CERTIFICATE, e->kind);
	cert_content_free(c[2]);
	free(c);
	free(keys);
	/* one bad document fails the whole call and leaves nothing allocated */
	c = nullptr;
	EXPECT_EQ(ML_EINVAL,
		  cert_content_query(
			  db,
			  "SELECT v.n::bigint, v.k::bigint, v.d FROM (VALUES "
			  "(1, 10, $1::jsonb), (2, 77, '{\"client\": \"no kind\"}'::jsonb)) "
			  "v(n, k, d)",
			  1, p, &c, &keys, &n, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "77")) << err.msg;
	EXPECT_EQ(nullptr, c);
	EXPECT_EQ(0u, n);
	db_close(db);
}

/* The statements that make and parse the documents of an approval and of a
 * run cannot be planned over the JIT threshold, nor in parallel, whatever
 * the batch (issue 10: a content query estimated at 566 680 rows compiled JIT
 * code per certificate, 16–17/s): their functions say ROWS 1 (0351). */
TEST(CertStore, DocumentStatementsStayUnderTheJitThreshold)
{
	struct db *db = pgtest_connect(wf_db());
	PGresult *r = PQexec(db_conn(db), "SELECT current_setting('jit_above_cost')::float8");
	ASSERT_EQ(PGRES_TUPLES_OK, PQresultStatus(r));
	double jit = atof(PQgetvalue(r, 0, 0));
	PQclear(r);
	struct {
		const char *docs_sql, *param;
	} cases[] = { { cert_issue_docs_sql, "{1,2,3,4,5,6,7,8,9,10,11,12}" },
		      { cert_run_docs_sql, "1" } };
	for (auto &k : cases) {
		struct ml_buf sql;
		ASSERT_EQ(ML_OK, cert_content_sql(&sql, k.docs_sql, 1));
		std::string q = std::string("EXPLAIN (FORMAT JSON) ") + sql.data;
		ml_buf_free(&sql);
		const char *p[2] = { k.param, CERT_CONTENT_ARRAYS };
		r = PQexecParams(db_conn(db), q.c_str(), 2, nullptr, p, nullptr, nullptr, 0);
		ASSERT_EQ(PGRES_TUPLES_OK, PQresultStatus(r)) << PQerrorMessage(db_conn(db));
		std::string plan = PQgetvalue(r, 0, 0);
		PQclear(r);
		size_t at = plan.find("\"Total Cost\": ");
		ASSERT_NE(std::string::npos, at) << plan;
		double cost = atof(plan.c_str() + at + strlen("\"Total Cost\": "));
		EXPECT_GT(cost, 0) << plan;
		EXPECT_LT(cost, jit / 4) << k.docs_sql << "\n" << plan;
		EXPECT_EQ(std::string::npos, plan.find("Gather")) << plan;
	}
	db_close(db);
}

/* ---- people sign ---- */

TEST(CertWorkflow, ThreeDifferentPeopleSignEachTheirOwnStep)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "FE");
	long long run = wf_run(p.admin, "fe", 1);
	struct ml_error err = ML_ERROR_INIT;

	/* Only a lab technician drafts; the drafter is the verifier. */
	long long *ids = nullptr;
	size_t n = 0, created = 0;
	EXPECT_EQ(ML_EPERM, cert_source_drafts(p.checker, run, iss, &ids, &n, &created, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "cert.draft")) << err.msg;
	std::vector<long long> v = wf_drafts(p.tech, run, iss);
	ASSERT_EQ(1u, v.size());
	long long id = v[0];

	EXPECT_EQ(ML_ESTATE, wf_approve(p.approver, { id }, &err)) << "a draft cannot be approved";
	EXPECT_NE(nullptr, strstr(err.msg, "checked")) << err.msg;
	EXPECT_EQ(ML_EPERM, cert_check(p.tech, &id, 1, &err)) << "a technician is no checker";
	EXPECT_EQ(ML_EPERM, cert_check(p.approver, &id, 1, &err)) << "an approver is no checker";
	ASSERT_EQ(ML_OK, cert_check(p.checker, &id, 1, &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, cert_check(p.checker, &id, 1, &err)) << "checked once only";
	EXPECT_EQ(ML_EPERM, wf_approve(p.checker, { id }, &err)) << "a checker does not approve";
	EXPECT_NE(nullptr, strstr(err.msg, "cert.approve")) << err.msg;
	EXPECT_EQ(ML_EPERM, wf_approve(p.tech, { id }, &err)) << "the verifier does not approve";
	EXPECT_EQ("0", wf_scalar(p.admin, "SELECT coalesce(sum(last_serial), 0) FROM cert_counter "
					  "WHERE issuer_id = 'FE'"));
	ASSERT_EQ(ML_OK, wf_approve(p.approver, { id }, &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, wf_approve(p.approver, { id }, &err)) << "issued once only";

	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(p.tech, id, &r, &err));
	EXPECT_STREQ("issued", r.state);
	EXPECT_EQ(wf_no(p.admin, "FE", 1), r.cert_no);
	/* People, with the names they print under: the verifier is the run's
	 * operator (0366), not the technician who drafted it. */
	EXPECT_STREQ("郑检测", r.verifier);
	EXPECT_STREQ("mlt_operator", r.verifier_login);
	EXPECT_STREQ("张核验", r.checker);
	EXPECT_STREQ("mlt_checker", r.checker_login);
	EXPECT_STREQ("刘批准", r.approver);
	EXPECT_STREQ("mlt_approver", r.approver_login);
	EXPECT_STRNE("", r.checked_at);
	EXPECT_EQ(wf_today(p.admin), r.issued_on) << "the server's clock dates it";
	EXPECT_EQ(9u, strlen(r.verify_code));
	EXPECT_EQ(64u, strlen(r.sha256));
	/* The printed document carries the display names frozen at signing. */
	std::string text = wf_pdf_text(p.tech, id, "signers");
	for (const char *name : { "郑检测", "张核验", "刘批准" })
		EXPECT_NE(std::string::npos, text.find(name)) << name << "\n" << text;
	EXPECT_EQ(std::string::npos, text.find("mlt_")) << "logins are not printed";
	/* A later change of a display name does not change what was signed. */
	ASSERT_EQ(ML_OK, db_cmd(p.admin, "SELECT ml_user_set_name('mlt_checker', '张核验改')", 0,
				nullptr, &err))
		<< err.msg;
	ASSERT_EQ(ML_OK, cert_get(p.tech, id, &r, &err));
	EXPECT_STREQ("张核验", r.checker);
	ASSERT_EQ(ML_OK, db_cmd(p.admin, "SELECT ml_user_set_name('mlt_checker', '张核验')", 0,
				nullptr, &err))
		<< err.msg;
}

/* One person holding every role still cannot sign twice; two people with
 * the same name are two people (users are compared, not strings). */
TEST(CertWorkflow, OnePersonCannotBeVerifierCheckerAndApprover)
{
	std::string ci = wf_db();
	wf_people p(ci);
	const char *iss = wf_issuer(p.admin, "ON");
	std::string all_ci = pgtest_user(ci, "mlt_wf_all", "全能者",
					 "lab_technician,checker,approver");
	struct db *all = pgtest_connect(all_ci);
	struct ml_error err = ML_ERROR_INIT;
	/* the run is theirs (its operator, the verifier, 0366), and they draft it */
	long long run = atoll(
		wf_scalar(p.admin, "SELECT wf_make_run('on', 2, 0, 'mlt_wf_all')").c_str());
	std::vector<long long> v = wf_drafts(all, run, iss);
	ASSERT_EQ(2u, v.size());
	EXPECT_EQ(ML_ESTATE, cert_check(all, v.data(), 2, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "three different people")) << err.msg;
	ASSERT_EQ(ML_OK, cert_check(p.checker, v.data(), 2, &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, wf_approve(all, v, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "as verifier")) << err.msg;
	/* The same person as checker and approver. */
	long long run2 = wf_run(p.admin, "on2", 1);
	std::vector<long long> w = wf_drafts(p.tech, run2, iss);
	ASSERT_EQ(ML_OK, cert_check(all, w.data(), 1, &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, wf_approve(all, w, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "as checker")) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(p.approver, w, &err)) << err.msg;
	/* The database holds the same rule if a row is written around the functions. */
	long long other = wf_drafts(p.tech, wf_run(p.admin, "on4", 1), iss)[0];
	EXPECT_NE(ML_OK,
		  db_cmd(p.admin,
			 ("UPDATE certificate SET state = 'checked', checker_id = verifier_id, "
			  "checker = 'x' WHERE id = " +
			  std::to_string(other))
				 .c_str(),
			 0, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "certificate_three_people")) << err.msg;

	/* Two different people who share a display name. */
	std::string twin_ci = pgtest_user(ci, "mlt_wf_twin", "郑检测", "checker");
	struct db *twin = pgtest_connect(twin_ci);
	long long run3 = wf_run(p.admin, "on3", 1);
	std::vector<long long> x = wf_drafts(p.tech, run3, iss);
	ASSERT_EQ(ML_OK, cert_check(twin, x.data(), 1, &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(p.approver, x, &err)) << err.msg;
	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(twin, x[0], &r, &err));
	EXPECT_STREQ(r.verifier, r.checker) << "same name";
	EXPECT_STRNE(r.verifier_login, r.checker_login) << "different people";
	db_close(twin);
	db_close(all);
}

/*
 * The verifier (检定员) is the person who did the verification, the run's
 * operator, not whoever drafted the certificate (0366; domain.md §6.1:
 * verifier, checker and approver sign, three different people). Operator
 * A, who also holds the checker's and the approver's roles, ran the
 * verification; technician B (王检定) drafts. A can neither check nor
 * approve the certificates of his own run; a checker and an approver who
 * are neither of them issue them, and the certificate names A as 检定员.
 */
TEST(CertWorkflow, TheRunsOperatorIsTheVerifierAndCannotCheckOrApprove)
{
	std::string ci = wf_db();
	wf_people p(ci);
	const char *iss = wf_issuer(p.admin, "OV");
	std::string a_ci = pgtest_user(ci, "mlt_wf_op", "钱操作",
				       "lab_technician,checker,approver");
	struct db *a = pgtest_connect(a_ci);
	struct ml_error err = ML_ERROR_INIT;
	long long run = wf_run(p.admin, "opv", 2);
	const std::string rs = std::to_string(run);
	/* A ran it: the authenticated operator ml_run_create records (0113) */
	ASSERT_EQ(ML_OK, db_cmd(p.admin,
				("UPDATE verification_run SET operator = '钱操作', operator_id = "
				 "(SELECT user_id FROM app_user WHERE login = 'mlt_wf_op') "
				 "WHERE run_id = " +
				 rs)
					.c_str(),
				0, nullptr, &err))
		<< err.msg;
	std::vector<long long> v = wf_drafts(p.tech, run, iss); /* B drafts */
	ASSERT_EQ(2u, v.size());
	const std::string id0 = std::to_string(v[0]);
	EXPECT_EQ("钱操作|钱操作|mlt_wf_op|王检定|mlt_tech",
		  wf_scalar(p.admin,
			    "SELECT c.verifier || '|' || (c.content ->> 'verifier') || '|' || "
			    "uv.login || '|' || c.drafter || '|' || ud.login FROM certificate c "
			    "JOIN app_user uv ON uv.user_id = c.verifier_id "
			    "JOIN app_user ud ON ud.user_id = c.drafter_id WHERE c.id = " +
				    id0));

	/* A checks the certificates of his own run: refused, naming the certificate and A */
	EXPECT_EQ(ML_ESTATE, cert_check(a, v.data(), v.size(), &err));
	EXPECT_NE(nullptr, strstr(err.msg, ("certificate " + id0 + ": 钱操作").c_str())) << err.msg;
	EXPECT_NE(nullptr,
		  strstr(err.msg, ("as verifier (检定员, the operator of run " + rs).c_str()))
		<< err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "cannot also check it")) << err.msg;
	EXPECT_EQ("draft", wf_scalar(p.admin, "SELECT state FROM certificate WHERE id = " + id0));

	/* A approves them once someone else checked: refused */
	ASSERT_EQ(ML_OK, cert_check(p.checker, v.data(), v.size(), &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, wf_approve(a, v, &err));
	EXPECT_NE(nullptr, strstr(err.msg, ("certificate " + id0 + ": 钱操作").c_str())) << err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "cannot also approve it")) << err.msg;
	EXPECT_EQ("checked|0",
		  wf_scalar(p.admin, "SELECT state || '|' || (SELECT count(*) FROM cert_pdf WHERE "
				     "cert_id = " +
					     id0 + ") FROM certificate WHERE id = " + id0));

	/* The genuine path: A ran, 张核验 checked, 刘批准 approves */
	ASSERT_EQ(ML_OK, wf_approve(p.approver, v, &err)) << err.msg;
	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(p.admin, v[0], &r, &err)) << err.msg;
	EXPECT_STREQ("钱操作", r.verifier);
	EXPECT_STREQ("mlt_wf_op", r.verifier_login);
	EXPECT_STREQ("张核验", r.checker);
	EXPECT_STREQ("刘批准", r.approver);
	/* the printed 检定员 is A; the drafter is printed nowhere */
	std::string text = wf_pdf_text(p.admin, v[0], "operator");
	EXPECT_NE(std::string::npos, text.find("钱操作")) << text;
	EXPECT_EQ(std::string::npos, text.find("王检定")) << text;
	db_close(a);
}

/* Attack (0370): a run with no authenticated operator — made before 0113, or
 * inserted by the DBA with a typed name — has nobody the record proves did the
 * verification. 0366 printed the drafter as 检定员 for it; now neither a
 * draft nor a revision of such a run's certificate is made, the refusal names
 * the run, and no certificate row is left. */
TEST(CertWorkflow, NoCertificateFromARunWithoutAnAuthenticatedOperator)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "NO");
	struct ml_error err = ML_ERROR_INIT;
	long long *ids = nullptr;
	size_t n = 0, created = 0;
	/* a complete, correct run whose operator is a typed name only (as the DBA) */
	long long run = wf_run(p.admin, "noop", 2);
	const std::string rs = std::to_string(run);
	ASSERT_EQ(ML_OK,
		  db_cmd(p.admin,
			 ("UPDATE verification_run SET operator = '张三', operator_id = NULL "
			  "WHERE run_id = " +
			  rs)
				 .c_str(),
			 0, nullptr, &err))
		<< err.msg;
	EXPECT_EQ(ML_ESTATE, cert_source_drafts(p.tech, run, iss, &ids, &n, &created, &err));
	EXPECT_NE(nullptr,
		  strstr(err.msg, ("run " + rs + " has no authenticated operator").c_str()))
		<< err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "verify the meter again")) << err.msg;
	EXPECT_EQ("0", wf_scalar(p.admin, "SELECT count(*) FROM certificate WHERE run_id = " + rs));

	/* A certificate issued while its run had an operator, whose run lost it
	 * (a row of before 0113 restored by the DBA): no revision either. */
	long long run2 = wf_run(p.admin, "noop2", 1);
	const std::string rs2 = std::to_string(run2);
	std::vector<long long> v = wf_issue_run(p, run2, iss);
	ASSERT_EQ(1u, v.size());
	const std::string id0 = std::to_string(v[0]);
	ASSERT_EQ(ML_OK,
		  db_cmd(p.admin,
			 ("UPDATE verification_run SET operator_id = NULL WHERE run_id = " + rs2)
				 .c_str(),
			 0, nullptr, &err))
		<< err.msg;
	struct cert_override ov[] = { { "client", "示范市供电公司（更正）" } };
	long long rev = 0;
	EXPECT_EQ(ML_ESTATE, cert_revise(p.approver, v[0], "客户名称有误", ov, 1, &rev, &err));
	EXPECT_NE(nullptr,
		  strstr(err.msg, ("run " + rs2 + " has no authenticated operator").c_str()))
		<< err.msg;
	EXPECT_EQ("1",
		  wf_scalar(p.admin, "SELECT count(*) FROM certificate WHERE run_id = " + rs2));
	EXPECT_EQ("issued", wf_scalar(p.admin, "SELECT state FROM certificate WHERE id = " + id0));
}

/* 0370 restates the conclusions dated by the rule before 0365. A database
 * migrated up to 0369 holds what the runner before 0365 left: a run on
 * 2024-02-29 with a 12-month period concluded valid until 2025-02-27 (run
 * date + period − 1 day), one day short of the rule's 2025-02-28
 * (ml_valid_until, domain.md §1.12), which ml_cert_run_problem (0365) reports,
 * so it could never be certified. Migrating on restates it — the conclusion,
 * the asset's validity through ml_asset_apply with a history event naming the
 * run and the rule — and it is drafted; a conclusion whose date is already the
 * rule's, and one of which a certificate exists, are left alone. */
TEST(CertWorkflow, OldValidUntilIsRestatedByMigration0370)
{
	std::string admin = pgtest_admin_conninfo();
	const std::string name = "mlt_vu0370_" + std::to_string(getpid()) + "_0";
	struct db *adb = pgtest_connect(admin);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_cmd(adb, ("DROP DATABASE IF EXISTS \"" + name + "\"").c_str(), 0,
				nullptr, &err))
		<< err.msg;
	ASSERT_EQ(ML_OK,
		  db_cmd(adb, ("CREATE DATABASE \"" + name + "\"").c_str(), 0, nullptr, &err))
		<< err.msg;
	const std::string ci = admin + " dbname=" + name;
	struct db *db = pgtest_connect(ci);
	size_t nb = 0;
	const struct db_migration *builtin = db_migrations_builtin(&nb);
	std::vector<struct db_migration> upto;
	for (size_t i = 0; i < nb; i++)
		if (strcmp(builtin[i].version, "0370") < 0)
			upto.push_back(builtin[i]);
	ASSERT_LT(upto.size(), nb);
	ASSERT_EQ(ML_OK, db_migrate(db, upto.data(), upto.size(), nullptr, &err)) << err.msg;
	pgtest_user(ci, "mlt_tech", "王检定", "lab_technician");
	pgtest_user(ci, "mlt_operator", "郑检测", "lab_technician");
	wf_script(ci, "tests/data/reports/make_run.sql");
	const std::string old_run = wf_scalar(db,
					      "SELECT wf_make_run('vu-old', 1, 0, 'mlt_operator', "
					      "'2024-02-29', 12)");
	const std::string ok_run = wf_scalar(db,
					     "SELECT wf_make_run('vu-ok', 1, 0, 'mlt_operator', "
					     "'2024-03-15', 12)");
	const std::string drafted_run = wf_scalar(db, "SELECT wf_make_run('vu-dr', 1, 0, "
						      "'mlt_operator', '2024-02-29', 12)");
	ASSERT_NE("", old_run);
	ASSERT_NE("", drafted_run);
	/* a draft made before 0365 of the third run, with the old date in its content */
	wf_issuer(db, "VU");
	ASSERT_EQ(
		ML_OK,
		db_cmd(db,
		       ("INSERT INTO certificate (asset_id, run_id, issuer_id, kind, barcode, content, "
			"verifier, verifier_id) SELECT p.asset_id, p.run_id, 'VU', 1, p.barcode, "
			"'{\"valid_until\": \"2025-02-27\"}', r.operator, r.operator_id FROM run_position "
			"p JOIN verification_run r USING (run_id) WHERE p.run_id = " +
			drafted_run)
			       .c_str(),
		       0, nullptr, &err))
		<< err.msg;
	auto until = [&](const std::string &run) {
		return wf_scalar(
			db,
			"SELECT c.valid_until || '|' || a.valid_until FROM run_conclusion c "
			"JOIN asset a USING (asset_id) WHERE c.item = 'overall' AND c.run_id = " +
				run);
	};
	EXPECT_EQ("2025-02-27|2025-02-27", until(old_run));
	EXPECT_EQ("2025-03-14|2025-03-14", until(ok_run));
	/* the defect: before 0370 the old conclusion cannot be certified */
	struct db *tech = pgtest_connect(pgtest_as(ci, "mlt_tech"));
	long long *ids = nullptr;
	size_t n = 0, created = 0;
	EXPECT_EQ(ML_ESTATE,
		  cert_source_drafts(tech, atoll(old_run.c_str()), "VU", &ids, &n, &created, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "valid until 2025-02-27; the rule gives 2025-02-28"))
		<< err.msg;

	/* migrate on: 0370 runs ml_fix_old_valid_until() once */
	int applied = 0;
	ASSERT_EQ(ML_OK, db_migrate(db, nullptr, 0, &applied, &err)) << err.msg;
	EXPECT_GE(applied, 1);
	EXPECT_EQ("2025-02-28|2025-02-28", until(old_run));
	EXPECT_EQ("2025-03-14|2025-03-14", until(ok_run)) << "already the rule's: untouched";
	EXPECT_EQ("2025-02-27|2025-02-27", until(drafted_run)) << "a certificate exists: untouched";
	/* the asset's history says who, why and what */
	EXPECT_EQ(
		"mlt_operator|in_stock|in_stock|" + old_run + "|2025-02-27|2025-02-28|0370",
		wf_scalar(
			db,
			"SELECT e.actor || '|' || e.from_state || '|' || e.to_state || '|' || "
			"(e.details ->> 'run_id') || '|' || (e.details ->> 'old_valid_until') || '|' "
			"|| (e.details ->> 'valid_until') || '|' || (e.details ->> 'migration') "
			"FROM asset_event e JOIN run_position p USING (asset_id) WHERE "
			"e.action = 'valid_until_restate' AND p.run_id = " +
				old_run));
	EXPECT_NE(
		std::string::npos,
		wf_scalar(db, "SELECT e.reason FROM asset_event e JOIN run_position p USING "
			      "(asset_id) WHERE e.action = 'valid_until_restate' AND p.run_id = " +
				      old_run)
			.find("rule of 0365"));
	EXPECT_EQ("1", wf_scalar(db, "SELECT count(*) FROM asset_event WHERE action = "
				     "'valid_until_restate'"));
	/* the conclusion stays append-only for everyone else */
	EXPECT_NE(ML_OK,
		  db_cmd(db,
			 ("UPDATE run_conclusion SET valid_until = '2099-01-01' WHERE run_id = " +
			  old_run)
				 .c_str(),
			 0, nullptr, &err));
	/* now it is certified, with the rule's date; a second pass finds nothing */
	ASSERT_EQ(ML_OK,
		  cert_source_drafts(tech, atoll(old_run.c_str()), "VU", &ids, &n, &created, &err))
		<< err.msg;
	EXPECT_EQ(1u, created);
	free(ids);
	EXPECT_EQ("2025-02-28|郑检测",
		  wf_scalar(db, "SELECT (content ->> 'valid_until') || '|' || verifier FROM "
				"certificate WHERE run_id = " +
					old_run));
	EXPECT_EQ("0", wf_scalar(db, "SELECT ml_fix_old_valid_until()"));
	db_close(tech);
	db_close(db);
	EXPECT_EQ(ML_OK, db_cmd(adb, ("DROP DATABASE \"" + name + "\" WITH (FORCE)").c_str(), 0,
				nullptr, &err))
		<< err.msg;
	db_close(adb);
}

TEST(CertWorkflow, BatchIsAllOrNothingAndGivesNumbersBack)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "BA");
	struct ml_error err = ML_ERROR_INIT;
	long long run = wf_run(p.admin, "ba", 3, 1);
	std::vector<long long> v = wf_drafts(p.tech, run, iss);
	ASSERT_EQ(3u, v.size());
	std::vector<long long> ab = { v[0], v[2] };
	ASSERT_EQ(ML_OK, cert_check(p.checker, ab.data(), ab.size(), &err)) << err.msg;
	/* v[1] is still a draft: the whole batch is refused, the others stay checked. */
	EXPECT_EQ(ML_ESTATE, wf_approve(p.approver, v, &err));
	EXPECT_EQ("checked", wf_scalar(p.admin, "SELECT state FROM certificate WHERE id = " +
							std::to_string(v[0])));
	EXPECT_EQ("0", wf_scalar(p.admin, "SELECT count(*) FROM cert_pdf WHERE cert_id IN (" +
						  std::to_string(v[0]) + ", " +
						  std::to_string(v[2]) + ")"));
	EXPECT_EQ("0",
		  wf_scalar(p.admin, "SELECT count(*) FROM cert_counter WHERE issuer_id = 'BA'"));
	/* A second issuing body in the same batch numbers in its own series. */
	const char *iss2 = wf_issuer(p.admin, "BB");
	long long run2 = wf_run(p.admin, "bb", 1);
	std::vector<long long> d = wf_drafts(p.tech, run2, iss2);
	ASSERT_EQ(ML_OK, cert_check(p.checker, d.data(), 1, &err)) << err.msg;
	ASSERT_EQ(ML_OK, cert_check(p.checker, &v[1], 1, &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(p.approver, { v[1], d[0], v[0], v[2] }, &err)) << err.msg;
	EXPECT_EQ(wf_no(p.admin, "BB", 1),
		  wf_scalar(p.admin,
			    "SELECT cert_no FROM certificate WHERE id = " + std::to_string(d[0])));
	/* Numbers in id order; a result notice is numbered in the same series. */
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(wf_no(p.admin, "BA", i + 1),
			  wf_scalar(p.admin, "SELECT cert_no FROM certificate WHERE id = " +
						     std::to_string(v[i])));
	EXPECT_EQ("2", wf_scalar(p.admin, "SELECT kind FROM certificate WHERE id = " +
						  std::to_string(v[2])));
}

/* A batch stores its PDFs in pipelined trips of 32 (cert_workflow.c): 40
 * certificates take two, the second with the finish and the COMMIT. Every
 * certificate is issued with its own number and its own PDF (the database
 * checks each PDF carries the claim it allocated for that certificate). */
TEST(CertWorkflow, BatchOverSeveralTripsIssuesEachItsOwnPdf)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "BT");
	struct ml_error err = ML_ERROR_INIT;
	std::vector<long long> v = wf_drafts(p.tech, wf_run(p.admin, "bt", 40), iss);
	ASSERT_EQ(40u, v.size());
	ASSERT_EQ(ML_OK, cert_check(p.checker, v.data(), v.size(), &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(p.approver, v, &err)) << err.msg;
	EXPECT_EQ(PQTRANS_IDLE, PQtransactionStatus(db_conn(p.approver))) << "committed";
	std::string in = "(";
	for (size_t i = 0; i < v.size(); i++)
		in += (i ? "," : "") + std::to_string(v[i]);
	in += ")";
	EXPECT_EQ("40",
		  wf_scalar(p.admin, "SELECT count(*) FROM certificate WHERE state = 'issued' "
				     "AND id IN " +
					     in));
	EXPECT_EQ("40", wf_scalar(p.admin, "SELECT count(DISTINCT sha256) FROM cert_pdf "
					   "WHERE cert_id IN " +
						   in));
	for (size_t i = 0; i < v.size(); i += 13) {
		std::string no = wf_no(p.admin, "BT", (int)i + 1);
		EXPECT_EQ(no, wf_scalar(p.admin, "SELECT cert_no FROM certificate WHERE id = " +
							 std::to_string(v[i])));
		std::string text = wf_pdf_text(p.tech, v[i], "trips");
		EXPECT_NE(std::string::npos, text.find(no)) << no << "\n" << text;
	}
}

/* cert_approve_timed issues exactly as cert_approve and accounts each part of
 * the approval, adding to what the caller passed (benchmarks sum many). */
TEST(CertWorkflow, TimedApprovalIssuesAndAccountsEachPart)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "TM");
	struct ml_error err = ML_ERROR_INIT;
	std::vector<long long> v = wf_drafts(p.tech, wf_run(p.admin, "tm", 2), iss);
	ASSERT_EQ(2u, v.size());
	ASSERT_EQ(ML_OK, cert_check(p.checker, v.data(), v.size(), &err)) << err.msg;
	struct cert_renderer *r = wf_renderer();
	struct cert_issue_opts o = { &r, 1 };
	struct cert_issue_times t = { 1.0, 1.0, 1.0 };
	ASSERT_EQ(ML_OK, cert_approve_timed(p.approver, &v[0], 1, &o, &t, &err)) << err.msg;
	EXPECT_GT(t.begin, 1.0);
	EXPECT_GT(t.render, 1.0);
	EXPECT_GT(t.finish, 1.0);
	EXPECT_LT(t.begin + t.render + t.finish, 3.0 + 60.0);
	EXPECT_EQ("issued", wf_scalar(p.admin, "SELECT state FROM certificate WHERE id = " +
						       std::to_string(v[0])));
	EXPECT_EQ(wf_no(p.admin, "TM", 1),
		  wf_scalar(p.admin,
			    "SELECT cert_no FROM certificate WHERE id = " + std::to_string(v[0])));
	/* A refusal is reported as by cert_approve (already issued), nothing changes. */
	EXPECT_EQ(ML_ESTATE, cert_approve_timed(p.approver, &v[0], 1, &o, &t, &err));
	EXPECT_EQ("checked", wf_scalar(p.admin, "SELECT state FROM certificate WHERE id = " +
							std::to_string(v[1])));
	/* Without times it is cert_approve. */
	ASSERT_EQ(ML_OK, cert_approve_timed(p.approver, &v[1], 1, &o, nullptr, &err)) << err.msg;
	EXPECT_EQ(wf_no(p.admin, "TM", 2),
		  wf_scalar(p.admin,
			    "SELECT cert_no FROM certificate WHERE id = " + std::to_string(v[1])));
}

/* Several approvers at once, each with its own connection: numbers are 1..N. */
TEST(CertWorkflow, ConcurrentIssuingIsGapFree)
{
	std::string ci = wf_db();
	const int threads = 4, per = 3;
	std::vector<std::vector<long long>> ids(threads);
	{
		wf_people p(ci);
		wf_issuer(p.admin, "CO");
		struct ml_error err = ML_ERROR_INIT;
		for (int t = 0; t < threads; t++) {
			long long run = wf_run(p.admin, "co" + std::to_string(t), per, 1);
			ids[t] = wf_drafts(p.tech, run, "CO");
			ASSERT_EQ(ML_OK, cert_check(p.checker, ids[t].data(), ids[t].size(), &err))
				<< err.msg;
		}
	}
	std::atomic<int> failures{ 0 };
	std::vector<std::thread> th;
	for (int t = 0; t < threads; t++) {
		th.emplace_back([&, t] {
			struct db *db = pgtest_connect(pgtest_as(ci, "mlt_approver"));
			struct cert_renderer *r = nullptr;
			struct ml_error err = ML_ERROR_INIT;
			if (cert_renderer_new(nullptr, &r, &err)) {
				failures++;
				db_close(db);
				return;
			}
			struct cert_issue_opts o = { &r, 1 };
			/* A failing attempt first (an id that does not exist): refused before any
			 * number is allocated. */
			long long bogus[2] = { ids[t][0], 999999 };
			if (cert_approve(db, bogus, 2, &o, &err) != ML_ENOTFOUND)
				failures++;
			for (long long id : ids[t]) {
				if (cert_approve(db, &id, 1, &o, &err))
					failures++;
			}
			cert_renderer_free(r);
			db_close(db);
		});
	}
	for (auto &x : th)
		x.join();
	ASSERT_EQ(0, failures.load());
	struct db *db = pgtest_connect(ci);
	PGresult *res = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(
		ML_OK,
		db_exec(db,
			"SELECT serial, cert_no FROM certificate WHERE issuer_id = 'CO' ORDER BY serial",
			0, nullptr, PGRES_TUPLES_OK, &res, &err));
	ASSERT_EQ(threads * per, PQntuples(res));
	std::set<std::string> nos;
	for (int i = 0; i < PQntuples(res); i++) {
		EXPECT_EQ(i + 1, atoi(PQgetvalue(res, i, 0)));
		nos.insert(PQgetvalue(res, i, 1));
	}
	EXPECT_EQ((size_t)(threads * per), nos.size());
	PQclear(res);
	EXPECT_EQ(std::to_string(threads * per),
		  wf_scalar(db, "SELECT last_serial FROM cert_counter WHERE issuer_id = 'CO'"));
	db_close(db);
}

/* A batch that fails after a number was allocated (the second item is the
 * revision of a certificate withdrawn meanwhile) rolls everything back,
 * the number included: the next issue gets it. */
TEST(CertWorkflow, IssueFailingAfterNumberingGivesTheNumberBack)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "RB");
	struct ml_error err = ML_ERROR_INIT;
	long long orig = wf_issue_run(p, wf_run(p.admin, "rb1", 1), iss)[0]; /* RB2026-000001 */
	long long fresh = wf_drafts(p.tech, wf_run(p.admin, "rb2", 1), iss)[0];
	struct cert_override ov[] = { { "client", "更正" } };
	long long rev = 0;
	ASSERT_EQ(ML_OK, cert_revise(p.approver, orig, "typo", ov, 1, &rev, &err)) << err.msg;
	ASSERT_LT(fresh, rev);
	std::vector<long long> batch = { fresh, rev };
	ASSERT_EQ(ML_OK, cert_check(p.checker, batch.data(), batch.size(), &err)) << err.msg;
	ASSERT_EQ(ML_OK, cert_withdraw(p.approver, orig, "issued for the wrong asset", &err))
		<< err.msg;
	/* The reviser (an approver) is the revision's verifier: another approver issues it. */
	std::string ap2_ci = pgtest_user(p.ci, "mlt_wf_ap2", "钱批准", "approver");
	struct db *ap2 = pgtest_connect(ap2_ci);
	ml_error_clear(&err);
	EXPECT_EQ(ML_ESTATE, wf_approve(ap2, batch, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "withdrawn")) << err.msg;
	EXPECT_EQ("1", wf_scalar(p.admin,
				 "SELECT last_serial FROM cert_counter WHERE issuer_id = 'RB'"));
	EXPECT_EQ("checked", wf_scalar(p.admin, "SELECT state FROM certificate WHERE id = " +
							std::to_string(fresh)));
	ASSERT_EQ(ML_OK, wf_approve(ap2, { fresh }, &err)) << err.msg;
	EXPECT_EQ(wf_no(p.admin, "RB", 2),
		  wf_scalar(p.admin,
			    "SELECT cert_no FROM certificate WHERE id = " + std::to_string(fresh)));
	db_close(ap2);
}

/* ---- what no login can do ---- */

/* Every login and the shared role, directly in SQL: the certificate tables
 * are read-only, the key is unreadable, the counter cannot move. */
TEST(CertWorkflow, NoRoleWritesCertificateTablesDirectly)
{
	std::string ci = wf_db();
	wf_people p(ci);
	const char *iss = wf_issuer(p.admin, "IM");
	std::vector<long long> v = wf_issue_run(p, wf_run(p.admin, "im", 2), iss);
	long long other = wf_drafts(p.tech, wf_run(p.admin, "im2", 1), iss)[0];
	std::string sid = std::to_string(v[0]), oid = std::to_string(other);
	std::string asset = wf_scalar(p.admin,
				      "SELECT asset_id FROM certificate WHERE id = " + oid);
	const std::string attacks[] = {
		/* a second certificate with an existing number and any PDF bytes */
		"INSERT INTO certificate (asset_id, run_id, issuer_id, kind, barcode, content, verifier) "
		"SELECT " +
			asset +
			", run_id, issuer_id, kind, barcode, content, verifier FROM certificate WHERE id = " +
			sid,
		"INSERT INTO cert_pdf (asset_id, cert_id, pdf, sha256) VALUES (" + asset + ", " +
			oid + ", 'x', encode(sha256('x'), 'hex'))",
		"UPDATE certificate SET state = 'checked', checker = 'x' WHERE id = " + oid,
		"UPDATE certificate SET approver = 'x' WHERE id = " + sid,
		"UPDATE certificate SET content = '{}' WHERE id = " + oid,
		"DELETE FROM certificate WHERE id = " + oid,
		"UPDATE cert_pdf SET pdf = 'x' WHERE cert_id = " + sid,
		"DELETE FROM cert_pdf WHERE cert_id = " + sid,
		"UPDATE cert_counter SET last_serial = last_serial - 1 WHERE issuer_id = 'IM'",
		"UPDATE cert_counter SET last_serial = last_serial + 5 WHERE issuer_id = 'IM'",
		"INSERT INTO cert_counter (issuer_id, year) VALUES ('IM', 2031)",
		"INSERT INTO cert_number (issuer_id, cert_no, asset_id, year, serial) VALUES ('IM', 'IM2026-000009', 1, 2026, 9)",
		"INSERT INTO cert_supersession (asset_id, old_id, new_id, reason, revised_by) VALUES (" +
			asset + ", " + sid + ", " + oid + ", 'x', 'x')",
		"INSERT INTO cert_withdrawal (asset_id, cert_id, reason, withdrawn_by) SELECT asset_id, id, 'x', 'x' FROM certificate WHERE id = " +
			sid,
		"INSERT INTO cert_discard_log (asset_id, cert_id, barcode, revision, state, content, verifier, reason, discarded_by) VALUES (1, 1, 'x', 0, 'draft', '{}', 'x', 'x', 'x')",
		"INSERT INTO cert_backdate (asset_id, cert_id, issued_on, reason, by_id, by_name) VALUES (" +
			asset + ", " + oid + ", current_date - 30, 'x', 1, 'x')",
		"UPDATE issuer SET name = 'x' WHERE id = 'IM'",
		"INSERT INTO issuer (id, name, authorization_no, number_prefix) VALUES ('EVIL', 'x', 'x', 'EVIL')",
		"SELECT verify_key FROM issuer_key",
		"SELECT ml_cert_code('IM', 'IM2026-000001', 0, '1')",
		"SELECT ml_asset_apply(1, '{}')",
		"TRUNCATE cert_pdf",
		"TRUNCATE certificate CASCADE",
	};
	std::vector<std::string> roles = { "meterlab_service", "mlt_admin",  "mlt_clerk",
					   "mlt_tech",         "mlt_tech2",  "mlt_checker",
					   "mlt_approver",     "mlt_field",  "mlt_analyst",
					   "mlt_manager",      "mlt_auditor" };
	for (const std::string &role : roles) {
		struct db *db = pgtest_connect(pgtest_as_role(ci, role.c_str()));
		for (const std::string &sql : attacks) {
			struct ml_error err = ML_ERROR_INIT;
			EXPECT_EQ(ML_EPERM, db_cmd(db, sql.c_str(), 0, nullptr, &err))
				<< role << ": " << sql << ": " << err.msg;
		}
		db_close(db);
	}
	EXPECT_EQ("2", wf_scalar(p.admin,
				 "SELECT last_serial FROM cert_counter WHERE issuer_id = 'IM'"));
	EXPECT_EQ("draft", wf_scalar(p.admin, "SELECT state FROM certificate WHERE id = " + oid));
	/* the attacks above did not move anything: the functions still work */
	EXPECT_EQ("1", wf_scalar(p.admin, "SELECT count(*) FROM cert_pdf WHERE cert_id = " + sid));
	/* The key is not a column of issuer any more: reading the table shows no key. */
	EXPECT_EQ("",
		  wf_scalar(p.tech, "SELECT string_agg(column_name, ',') FROM "
				    "information_schema.columns WHERE table_name = 'issuer' AND "
				    "column_name LIKE '%key%'"));

	/* Certificate numbers are unique across everything an issuer issues: even
	 * the DBA, going around the functions, cannot put an issued number on
	 * another asset (cert_number holds the number alone). */
	struct ml_error err = ML_ERROR_INIT;
	std::string no = wf_scalar(p.admin, "SELECT cert_no FROM certificate WHERE id = " + sid);
	EXPECT_EQ(
		ML_EEXISTS,
		db_cmd(p.admin,
		       ("INSERT INTO cert_number (issuer_id, cert_no, asset_id, year, serial) VALUES "
			"('IM', '" +
			no + "', " + asset + ", 2026, 99)")
			       .c_str(),
		       0, nullptr, &err))
		<< err.msg;
	ASSERT_EQ(ML_OK, cert_check(p.checker, &other, 1, &err)) << err.msg;
	EXPECT_EQ(
		ML_EINVAL,
		db_cmd(p.admin,
		       ("UPDATE certificate SET state = 'issued', approver_id = (SELECT user_id FROM "
			"app_user WHERE login = 'mlt_approver'), approver = 'x', cert_no = '" +
			no +
			"', issued_on = current_date, verify_code = 'AAAA-AAAA' WHERE id = " + oid)
			       .c_str(),
		       0, nullptr, &err))
		<< err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "certificate_number_registered")) << err.msg;
}

/* TRUNCATE fires no row trigger: the owning role is stopped by statement triggers. */
TEST(CertWorkflow, OwnerCannotTruncateCertificateTables)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "TR");
	long long id = wf_issue_run(p, wf_run(p.admin, "tr", 1), iss)[0];
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, db_cmd(p.admin, "SET ROLE meterlab_owner", 0, nullptr, &err)) << err.msg;
	const char *tables[] = { "certificate CASCADE", "cert_pdf",         "cert_supersession",
				 "cert_withdrawal",     "cert_discard_log", "cert_counter",
				 "cert_number CASCADE", "cert_backdate" };
	for (const char *t : tables) {
		std::string s = std::string("TRUNCATE ") + t;
		ml_error_clear(&err);
		EXPECT_NE(ML_OK, db_cmd(p.admin, s.c_str(), 0, nullptr, &err)) << s;
		EXPECT_NE(nullptr, strstr(err.msg, "TRUNCATE")) << s << ": " << err.msg;
	}
	std::string sid = std::to_string(id);
	EXPECT_EQ("issued", wf_scalar(p.admin, "SELECT state FROM certificate WHERE id = " + sid));
	EXPECT_EQ("1", wf_scalar(p.admin, "SELECT count(*) FROM cert_pdf WHERE cert_id = " + sid));
	/* Nor can the owner move the counter back or delete it. */
	for (const char *sql :
	     { "UPDATE cert_counter SET last_serial = last_serial - 1 WHERE issuer_id = 'TR'",
	       "UPDATE cert_counter SET year = year + 1 WHERE issuer_id = 'TR'",
	       "DELETE FROM cert_counter WHERE issuer_id = 'TR'",
	       "DELETE FROM cert_number WHERE issuer_id = 'TR'" }) {
		ml_error_clear(&err);
		EXPECT_NE(ML_OK, db_cmd(p.admin, sql, 0, nullptr, &err)) << sql;
	}
	ASSERT_EQ(ML_OK, db_cmd(p.admin, "RESET ROLE", 0, nullptr, &err)) << err.msg;
}

/* The PDF is handed to the database by the approver's own issuing call:
 * anything else — bytes without a begun issue, bytes claiming another
 * number, a begun issue left unfinished — is refused. */
TEST(CertWorkflow, OnlyTheIssuingCallStoresThePdfItAllocatedFor)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "PF");
	std::vector<long long> v = wf_drafts(p.tech, wf_run(p.admin, "pf", 2), iss);
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, cert_check(p.checker, v.data(), v.size(), &err)) << err.msg;
	std::string a = std::to_string(v[0]), b = std::to_string(v[1]);
	std::string fake =
		"'\\x255044462d312e340a' || repeat('x', 300)::bytea || '\\x2525454f460a'";
	/* Without a begun issue. */
	EXPECT_EQ(ML_ESTATE,
		  db_cmd(p.approver, ("SELECT ml_cert_issue_pdf(" + a + ", " + fake + ")").c_str(),
			 0, nullptr, &err))
		<< err.msg;
	EXPECT_EQ(ML_EPERM,
		  db_cmd(p.checker, ("SELECT ml_cert_issue_pdf(" + a + ", " + fake + ")").c_str(),
			 0, nullptr, &err))
		<< err.msg;
	/* Begun, but the bytes are not the allocated certificate. */
	ASSERT_EQ(ML_OK, db_begin(p.approver, &err));
	std::string doc = wf_scalar(p.approver, "SELECT string_agg(doc::text, '|') FROM "
						"ml_cert_issue_begin(ARRAY[" +
							a + "])");
	std::string no1 = wf_no(p.admin, "PF", 1);
	ASSERT_NE(std::string::npos, doc.find(no1)) << doc;
	EXPECT_EQ(ML_EINVAL,
		  db_cmd(p.approver, ("SELECT ml_cert_issue_pdf(" + a + ", " + fake + ")").c_str(),
			 0, nullptr, &err))
		<< err.msg;
	EXPECT_NE(nullptr, strstr(err.msg, "does not carry")) << err.msg;
	db_rollback(p.approver);
	/* A PDF with the right title but a made-up code; one claiming two certificates;
	 * one for a certificate of the batch that was not begun: each in its own issue. */
	auto attempt = [&](long long id,
			   const std::function<std::string(const std::string &)> &bytes, int want,
			   const char *says) {
		ASSERT_EQ(ML_OK, db_begin(p.approver, &err));
		std::string qr = wf_scalar(p.approver, "SELECT doc->>'qr_payload' FROM "
						       "ml_cert_issue_begin(ARRAY[" +
							       a + "])");
		ml_error_clear(&err);
		EXPECT_EQ(want, db_cmd(p.approver,
				       ("SELECT ml_cert_issue_pdf(" + std::to_string(id) + ", " +
					bytes(qr) + ")")
					       .c_str(),
				       0, nullptr, &err))
			<< err.msg;
		EXPECT_NE(nullptr, strstr(err.msg, says)) << err.msg;
		db_rollback(p.approver);
	};
	attempt(
		v[0],
		[&](const std::string &qr) {
			return "convert_to('%PDF-1.4 /Title (" + no1 + ") /Keywords (" +
			       qr.substr(0, qr.size() - 9) +
			       "AAAA-AAAA)' || repeat(' ', 300) || '%%EOF', 'UTF8')";
		},
		ML_EINVAL, "does not carry");
	attempt(
		v[0],
		[&](const std::string &qr) {
			return "convert_to('%PDF-1.4 /Title (" + no1 + ") /Keywords (" + qr +
			       ") MLCERT1;NO=X' || repeat(' ', 300) || '%%EOF', 'UTF8')";
		},
		ML_EINVAL, "more than one");
	attempt(
		v[1], [&](const std::string &) { return fake; }, ML_ESTATE, "not being issued");
	/* Begun and not finished: the transaction cannot commit, no number is used. */
	ASSERT_EQ(ML_OK, db_begin(p.approver, &err));
	ASSERT_EQ(ML_OK,
		  db_cmd(p.approver, ("SELECT ml_cert_issue_begin(ARRAY[" + a + "])").c_str(), 0,
			 nullptr, &err))
		<< err.msg;
	EXPECT_EQ(ML_ESTATE, db_commit(p.approver, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "not finished")) << err.msg;
	db_rollback(p.approver);
	EXPECT_EQ("0",
		  wf_scalar(p.admin, "SELECT count(*) FROM cert_counter WHERE issuer_id = 'PF'"));
	EXPECT_EQ("checked", wf_scalar(p.admin, "SELECT state FROM certificate WHERE id = " + a));
	/* The real path still works, and numbers start at 1. */
	ASSERT_EQ(ML_OK, wf_approve(p.approver, v, &err)) << err.msg;
	EXPECT_EQ(wf_no(p.admin, "PF", 1),
		  wf_scalar(p.admin, "SELECT cert_no FROM certificate WHERE id = " + a));
}

/* Issuing needs a concluded run whose results cover every item of its
 * scheme: a run someone inserted without test items is refused, and so is
 * a conclusion the rules cannot give. */
TEST(CertWorkflow, NoCertificateFromARunWithoutItsResults)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "NR");
	struct ml_error err = ML_ERROR_INIT;
	long long *ids = nullptr;
	size_t n = 0, created = 0;
	long long base = wf_run(p.admin, "nrbase", 1);
	/* The attacker's run: finished, one position, a passing conclusion valid until 2199. */
	std::string bare = wf_scalar(
		p.admin,
		"WITH r AS (INSERT INTO verification_run (bench_id, model_id, scheme_code, scheme_version, "
		"scheme_text, mode, status, steps_total, operator) SELECT bench_id, model_id, scheme_code, "
		"scheme_version, scheme_text, mode, 'finished', 1, 'x' FROM verification_run "
		"WHERE run_id = " +
			std::to_string(base) +
			" RETURNING run_id), "
			"a AS (SELECT asset_id, barcode FROM run_position WHERE run_id = " +
			std::to_string(base) +
			"), "
			"pos AS (INSERT INTO run_position (asset_id, run_id, position, barcode) "
			"SELECT a.asset_id, r.run_id, 1, a.barcode FROM a, r RETURNING run_id, asset_id) "
			"INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict, valid_until) "
			"SELECT asset_id, run_id, 'overall', 'pass', 'none', date '2199-12-31' FROM pos RETURNING run_id");
	ASSERT_NE("", bare);
	EXPECT_EQ(ML_ESTATE,
		  cert_source_drafts(p.tech, atoll(bare.c_str()), iss, &ids, &n, &created, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "steps")) << err.msg;
	struct cert_source *s = nullptr;
	EXPECT_EQ(ML_ESTATE, cert_source_load(p.tech, atoll(bare.c_str()), &s, &err));

	/* A complete run, then one thing removed at a time (as the DBA). */
	struct {
		const char *sql, *says;
	} cases[] = {
		{ "DELETE FROM run_step WHERE run_id = $R AND step_no = 3", "no completed step 4" },
		{ "DELETE FROM run_step_result WHERE run_id = $R AND step_no = 2 AND position = 1",
		  "no result of step 3" },
		/* results are counted (0341): a second row of one position's step, at
		 * another time, does not make up for another position's missing one */
		{ "INSERT INTO run_step_result SELECT (jsonb_populate_record(s, jsonb_build_object("
		  "'measured_at', s.measured_at + interval '1 second'))).* FROM run_step_result s "
		  "WHERE run_id = $R AND step_no = 2 AND position = 1; "
		  "DELETE FROM run_step_result WHERE run_id = $R AND step_no = 2 AND position = 2",
		  "(position 2) has a conclusion but no result of step 3" },
		{ "DELETE FROM run_conclusion WHERE run_id = $R AND item = 'start' AND asset_id = "
		  "(SELECT asset_id FROM run_position WHERE run_id = $R AND position = 1)",
		  "no conclusion of item start" },
		{ "UPDATE run_conclusion SET verdict = 'fail' WHERE run_id = $R AND item = 'basic'",
		  "although item basic failed" },
		{ "UPDATE run_conclusion SET valid_until = date '2199-12-31' WHERE run_id = $R AND item = "
		  "'overall'",
		  "the rule gives" },
		{ "UPDATE verification_run SET scheme_version = 77 WHERE run_id = $R",
		  "does not exist" },
		{ "UPDATE verification_run SET status = 'interrupted' WHERE run_id = $R",
		  "not finished" },
	};
	int k = 0;
	for (const auto &c : cases) {
		long long run = wf_run(p.admin, "nr" + std::to_string(k++), 2);
		std::string sql = c.sql;
		for (size_t at; (at = sql.find("$R")) != std::string::npos;)
			sql.replace(at, 2, std::to_string(run));
		/* the tables' own guards stop even the DBA's UPDATE/DELETE: lift them for the setup */
		std::string full = "SET session_replication_role = replica; " + sql +
				   "; SET session_replication_role = DEFAULT";
		PGresult *res = PQexec(db_conn(p.admin), full.c_str());
		ASSERT_EQ(PGRES_COMMAND_OK, PQresultStatus(res))
			<< PQerrorMessage(db_conn(p.admin));
		PQclear(res);
		ml_error_clear(&err);
		EXPECT_EQ(ML_ESTATE, cert_source_drafts(p.tech, run, iss, &ids, &n, &created, &err))
			<< c.sql;
		EXPECT_NE(nullptr, strstr(err.msg, c.says)) << c.sql << ": " << err.msg;
	}
	EXPECT_EQ("0",
		  wf_scalar(p.admin, "SELECT count(*) FROM certificate WHERE issuer_id = 'NR'"));
	EXPECT_EQ(ML_ENOTFOUND, cert_source_drafts(p.tech, 99999, iss, &ids, &n, &created, &err));
}

/* Drafting checks every position of the run; an approval checks again, for
 * each certificate it issues, that the record behind it is still whole
 * (0352). The DBA, lifting the tables' guards between drafting and
 * approval, removes one position's result and another's overall
 * conclusion: those certificates are refused with their position named,
 * an untouched position's certificate is issued, and the whole-run check
 * still sees both. */
TEST(CertWorkflow, AnApprovalRechecksTheRecordOfEachCertifiedAsset)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "RA");
	struct ml_error err = ML_ERROR_INIT;
	long long run = wf_run(p.admin, "recheck", 3);
	std::vector<long long> v = wf_drafts(p.tech, run, iss);
	ASSERT_EQ(3u, v.size());
	ASSERT_EQ(ML_OK, cert_check(p.checker, v.data(), v.size(), &err)) << err.msg;
	const std::string r = std::to_string(run);
	auto dba = [&](const std::string &sql) {
		std::string full = "SET session_replication_role = replica; " + sql +
				   "; SET session_replication_role = DEFAULT";
		PGresult *res = PQexec(db_conn(p.admin), full.c_str());
		ASSERT_EQ(PGRES_COMMAND_OK, PQresultStatus(res))
			<< PQerrorMessage(db_conn(p.admin));
		PQclear(res);
	};
	auto state = [&](long long id) {
		return wf_scalar(p.admin,
				 "SELECT state FROM certificate WHERE id = " + std::to_string(id));
	};
	dba("DELETE FROM run_step_result WHERE run_id = " + r +
	    " AND step_no = 2 AND position = 1");
	dba("DELETE FROM run_conclusion WHERE run_id = " + r +
	    " AND item = 'overall' AND asset_id = (SELECT asset_id FROM run_position WHERE run_id = " +
	    r + " AND position = 3)");
	std::string bc3 = wf_scalar(p.admin, "SELECT barcode FROM run_position WHERE run_id = " +
						     r + " AND position = 3");

	EXPECT_EQ(ML_ESTATE, wf_approve(p.approver, { v[0] }, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "(position 1) has a conclusion but no result of step 3"))
		<< err.msg;
	ml_error_clear(&err);
	EXPECT_EQ(ML_ESTATE, wf_approve(p.approver, { v[2] }, &err));
	EXPECT_NE(nullptr, strstr(err.msg, ("asset " + bc3 + " has no overall conclusion").c_str()))
		<< err.msg;
	ml_error_clear(&err);
	/* With the others in one approval, the whole approval is refused. */
	EXPECT_EQ(ML_ESTATE, wf_approve(p.approver, v, &err));
	EXPECT_EQ("checked", state(v[0]));
	EXPECT_EQ("checked", state(v[1]));
	EXPECT_EQ("checked", state(v[2]));
	EXPECT_EQ("0",
		  wf_scalar(p.admin, "SELECT count(*) FROM cert_counter WHERE issuer_id = 'RA'"));

	/* Position 2's record is whole: its certificate is issued, numbered 1. */
	ml_error_clear(&err);
	EXPECT_EQ(ML_OK, wf_approve(p.approver, { v[1] }, &err)) << err.msg;
	EXPECT_EQ("issued", state(v[1]));
	EXPECT_EQ(wf_no(p.admin, "RA", 1),
		  wf_scalar(p.admin,
			    "SELECT cert_no FROM certificate WHERE id = " + std::to_string(v[1])));
	EXPECT_EQ("checked", state(v[0]));
	EXPECT_EQ("checked", state(v[2]));

	/* The whole-run form (drafting, `cert source`) names the first broken position. */
	std::string whole = wf_scalar(p.tech, "SELECT ml_cert_run_problem(" + r + ")");
	EXPECT_NE(std::string::npos, whole.find("(position 1) has a conclusion but no result"))
		<< whole;
}

/* A DBA's statement in the statistics tests (on the admin's connection). */
static void wf_dba(struct db *admin, const std::string &sql)
{
	PGresult *res = PQexec(db_conn(admin), sql.c_str());
	EXPECT_EQ(PGRES_COMMAND_OK, PQresultStatus(res)) << PQerrorMessage(db_conn(admin));
	PQclear(res);
}

/* Leaves a table (a name written in the test) as a bulk load leaves it
 * before ANALYZE: no statistics, its size unknown to the planner. */
static std::string wf_no_statistics(const char *table)
{
	const std::string t = std::string("'") + table + "'::regclass";
	return "DELETE FROM pg_statistic WHERE starelid = " + t +
	       "; UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = " + t +
	       " OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = " + t + ")";
}

/* Shared buffers (hit + read) of an EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
 * plan's top node: what the statement read, nested calls included. */
static long wf_plan_buffers(const std::string &plan)
{
	long n = 0;
	for (const char *k : { "\"Shared Hit Blocks\": ", "\"Shared Read Blocks\": " }) {
		size_t at = plan.find(k);
		EXPECT_NE(std::string::npos, at) << plan;
		if (at != std::string::npos)
			n += atol(plan.c_str() + at + strlen(k));
	}
	return n;
}

/* A table's sequential scans and blocks read (heap and indexes, hit or
 * read) so far, from the statistics views. */
static std::pair<long, long> wf_table_reads(struct db *admin, const char *table)
{
	long seq = 0, blocks = 0;
	std::istringstream(wf_scalar(
		admin,
		std::string(
			"SELECT s.seq_scan || ' ' || (io.heap_blks_hit + io.heap_blks_read + "
			"coalesce(io.idx_blks_hit, 0) + coalesce(io.idx_blks_read, 0)) "
			"FROM pg_stat_user_tables s JOIN pg_statio_user_tables io USING (relid) "
			"WHERE s.relid = '") +
			table + "'::regclass")) >>
		seq >> blocks;
	return std::make_pair(seq, blocks);
}

/* Each session's counters reach the statistics when this returns (else up
 * to a second or more later). */
static void wf_flush_statistics(std::initializer_list<struct db *> sessions)
{
	for (struct db *s : sessions)
		EXPECT_EQ("", wf_scalar(s, "SELECT pg_stat_force_next_flush()::text"));
}

/* The statistics views count every backend's reads of a table, whenever
 * that backend flushes them: an idle session 10 s after its last statement
 * (PostgreSQL's PGSTAT_IDLE_INTERVAL), an autovacuum worker when it ends.
 * A test that counts one call's reads between two snapshots therefore
 * first turns autovacuum off on the table, waits until no autovacuum
 * worker is left in the database (a worker on the table is cancelled by
 * the ALTER's lock; one that already read it flushes when it exits), and
 * flushes every session of the test, so that nothing but the call is
 * pending when the first snapshot is taken. (The bulk insert before
 * ARevisionIsApprovedByKeysWithoutStatistics's snapshots takes about 10 s
 * here, as long as that interval: the checker's flush of its own reads
 * could fall between them, the likely cause of that test's one CI
 * failure.) */
static void wf_quiet_statistics(wf_people &p, const char *table,
				std::initializer_list<struct db *> more = {})
{
	wf_dba(p.admin, std::string("ALTER TABLE ") + table + " SET (autovacuum_enabled = off)");
	std::string workers;
	for (int i = 0; i < 600; i++) {
		workers = wf_scalar(p.admin, "SELECT count(*) FROM pg_stat_activity WHERE "
					     "backend_type = 'autovacuum worker' AND "
					     "datname = current_database()");
		if (workers == "0")
			break;
		usleep(50 * 1000);
	}
	EXPECT_EQ("0", workers) << "autovacuum workers still in the database after 30 s";
	wf_flush_statistics({ p.admin, p.tech, p.checker, p.approver });
	for (struct db *s : more)
		wf_flush_statistics({ s });
}

/* The run check reads its own run's conclusions whatever the statistics
 * (0353): on a database whose run_conclusion has none (fresh, or loaded in
 * bulk and not yet analysed) the check's plans, made once per session, used
 * the partial index of every run's overall conclusions and filtered by run.
 * 20 000 other runs' conclusions must not show in the buffers one approval's
 * check reads. */
TEST(CertWorkflow, TheRunCheckReadsOnlyItsRunWithoutStatistics)
{
	wf_people p(wf_db());
	long long run = wf_run(p.admin, "nostats", 2);
	const std::string r = std::to_string(run);
	std::string assets = wf_scalar(p.admin, "SELECT array_agg(asset_id) FROM run_position "
						"WHERE run_id = " +
							r);
	auto dba = [&](const std::string &sql) { wf_dba(p.admin, sql); };
	/* Buffers one check reads in a new session, after a first call that
	 * made its plans and warmed the catalogues. */
	auto buffers = [&]() {
		struct db *s = pgtest_connect(pgtest_as(p.ci, "mlt_approver"));
		std::string call = "SELECT ml_cert_run_problem(" + r + ", '" + assets + "')";
		EXPECT_EQ("", wf_scalar(s, call));
		std::string plan = wf_scalar(s, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + call);
		db_close(s);
		return wf_plan_buffers(plan);
	};
	const std::string wipe = wf_no_statistics("run_conclusion");
	/* No autovacuum of the table while it is measured: a worker's update of
	 * its pg_class row or statistics invalidates the check's plans, and a
	 * call that plans them again also reads the catalogues (the likely cause
	 * of 1 135 buffers against 27 in one CI run; not reproduced here). */
	wf_quiet_statistics(p, "run_conclusion");
	dba(wipe);
	long before = buffers();
	/* Other runs' passing conclusions, as a bulk load leaves them (the DBA,
	 * the tables' triggers and keys lifted), then no statistics again. */
	dba("SET session_replication_role = replica; "
	    "INSERT INTO run_conclusion (asset_id, run_id, item, verdict, internal_verdict, "
	    "valid_until) SELECT g, 900000000 + g / 4, 'overall', 'pass', 'none', "
	    "date '2030-01-01' FROM generate_series(1, 20000) g; "
	    "SET session_replication_role = DEFAULT");
	dba(wipe);
	long after = buffers();
	dba("SET session_replication_role = replica; "
	    "DELETE FROM run_conclusion WHERE run_id >= 900000000; "
	    "SET session_replication_role = DEFAULT");
	dba("ALTER TABLE run_conclusion RESET (autovacuum_enabled)");
	EXPECT_GT(before, 0);
	EXPECT_LT(after, before + 20) << "before " << before << ", after " << after;
}

/* An approval finds the certificates it approves by id whatever the
 * statistics (0354): with none on `certificate` (a fresh database, or
 * certificates loaded in bulk and not yet analysed), the begin's plans,
 * made once per session, ANDed `id = ANY (…)` with a scan of the index
 * certificate_no for `revision = 0`, which reads every certificate's entry.
 * 20 000 other certificates must not show in the buffers one approval's
 * begin reads. */
TEST(CertWorkflow, AnApprovalFindsItsCertificatesByIdWithoutStatistics)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "NB");
	struct ml_error err = ML_ERROR_INIT;
	long long run = wf_run(p.admin, "nostats-begin", 1);
	std::vector<long long> v = wf_drafts(p.tech, run, iss);
	ASSERT_EQ(1u, v.size());
	ASSERT_EQ(ML_OK, cert_check(p.checker, v.data(), v.size(), &err)) << err.msg;
	const std::string id = std::to_string(v[0]);
	auto dba = [&](const std::string &sql) { wf_dba(p.admin, sql); };
	/* Buffers the begin of approving the certificate reads in a new
	 * session, after a first begin (rolled back) that made its plans. */
	auto buffers = [&]() {
		struct db *s = pgtest_connect(pgtest_as(p.ci, "mlt_approver"));
		const std::string call = "SELECT * FROM ml_cert_issue_begin(ARRAY[" + id +
					 "]::bigint[])";
		std::string out[2];
		for (int round = 0; round < 2; round++) {
			PQclear(PQexec(db_conn(s), "BEGIN"));
			out[round] = wf_scalar(
				s,
				(round ? "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " : "") + call);
			PQclear(PQexec(db_conn(s), "ROLLBACK"));
		}
		db_close(s);
		EXPECT_EQ(id, out[0]); /* the first begin allocated for it */
		return wf_plan_buffers(out[1]);
	};
	const std::string wipe = wf_no_statistics("certificate");
	dba(wipe);
	long before = buffers();
	/* Other assets' original certificates, as a bulk load leaves them (the
	 * DBA, triggers and keys lifted), then no statistics again. */
	dba("SET session_replication_role = replica; "
	    "INSERT INTO certificate OVERRIDING SYSTEM VALUE SELECT (jsonb_populate_record("
	    "NULL::certificate, to_jsonb(c) || jsonb_build_object('id', 900000000 + g, "
	    "'asset_id', 900000000 + g))).* FROM certificate c, generate_series(1, 20000) g "
	    "WHERE c.id = " +
	    id + "; SET session_replication_role = DEFAULT");
	dba(wipe);
	long after = buffers();
	dba("SET session_replication_role = replica; "
	    "DELETE FROM certificate WHERE id >= 900000000; "
	    "SET session_replication_role = DEFAULT");
	EXPECT_GT(before, 0);
	EXPECT_LT(after, before + 20) << "before " << before << ", after " << after;
	/* and the approval itself still issues it */
	EXPECT_EQ(ML_OK, wf_approve(p.approver, { v[0] }, &err)) << err.msg;
	EXPECT_EQ("issued", wf_scalar(p.admin, "SELECT state FROM certificate WHERE id = " + id));
}

/* The approval's work table (cert_issuing) after many approvals and before
 * autovacuum: its pages are full of deleted rows. An approval must read its
 * own rows by key (0355), not the whole table, even in a session whose
 * plans were made while the table was small. */
TEST(CertWorkflow, AnApprovalReadsOnlyItsOwnRowsOfTheWorkTable)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "WQ");
	struct ml_error err = ML_ERROR_INIT;
	long long run = wf_run(p.admin, "work-table", 2);
	std::vector<long long> v = wf_drafts(p.tech, run, iss);
	ASSERT_EQ(2u, v.size());
	ASSERT_EQ(ML_OK, cert_check(p.checker, v.data(), v.size(), &err)) << err.msg;
	auto dba = [&](const std::string &sql) { wf_dba(p.admin, sql); };
	/* No autovacuum in between; a vacuumed table, so the planner knows it
	 * small (a table never vacuumed is assumed to have 10 pages). */
	wf_quiet_statistics(p, "cert_issuing");
	dba("VACUUM cert_issuing");
	/* The approver's session plans its statements on the small table. */
	ASSERT_EQ(ML_OK, wf_approve(p.approver, { v[0] }, &err)) << err.msg;
	/* 20 000 rows of other approvals, inserted and deleted (the DBA,
	 * triggers lifted): their pages stay until a vacuum. */
	dba("SET session_replication_role = replica; "
	    "INSERT INTO cert_issuing (cert_id, asset_id, txid, approver_id, approver, issuer_id, "
	    "revision, cert_no, year, serial, issued_on, verify_code, qr) "
	    "SELECT 900000000 + g, 900000000 + g, 900000000 + g / 4, 1, 'someone else', 'WQ', 0, "
	    "'WQ2026-' || g, 2026, g, DATE '2026-01-01', 'ABCD-EFGH', repeat('q', 80) "
	    "FROM generate_series(1, 20000) g; "
	    "DELETE FROM cert_issuing WHERE cert_id >= 900000000; "
	    "SET session_replication_role = DEFAULT");
	const std::string pages = wf_scalar(
		p.admin,
		"SELECT pg_relation_size('cert_issuing') / current_setting('block_size')::int");
	EXPECT_GT(std::stol(pages), 200) << "the table holds the deleted rows' pages";
	wf_quiet_statistics(p, "cert_issuing");
	auto before = wf_table_reads(p.admin, "cert_issuing");
	ASSERT_EQ(ML_OK, wf_approve(p.approver, { v[1] }, &err)) << err.msg;
	wf_flush_statistics({ p.admin, p.approver });
	auto after = wf_table_reads(p.admin, "cert_issuing");
	dba("ALTER TABLE cert_issuing RESET (autovacuum_enabled)");
	dba("VACUUM cert_issuing");
	EXPECT_EQ(before.first, after.first)
		<< "sequential scans of the work table during the approval";
	EXPECT_GT(after.second, before.second) << "the approval's reads reached the statistics";
	EXPECT_LT(after.second - before.second, 100)
		<< "blocks of the work table (" << pages << " pages) read by the approval";
	EXPECT_EQ("issued 2",
		  wf_scalar(p.admin, "SELECT min(state) || ' ' || count(*) FROM certificate "
				     "WHERE state = 'issued' AND id IN (" +
					     std::to_string(v[0]) + ", " + std::to_string(v[1]) +
					     ")"));
	EXPECT_EQ("0", wf_scalar(p.admin, "SELECT count(*) FROM cert_issuing"));
}

/* Approving a revision on a table without statistics (0355): the begin
 * and the finish find the corrected certificate by its key, one lookup per
 * revision, and the transaction's certificates by id alone. Before, the
 * begin joined the corrected certificate by a merge over the id index from
 * its start, and the finish ANDed the id index with a scan of the number
 * index for `revision > 0`: both read more the more certificates came
 * before. */
TEST(CertWorkflow, ARevisionIsApprovedByKeysWithoutStatistics)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "RK");
	struct ml_error err = ML_ERROR_INIT;
	long long id = wf_issue_run(p, wf_run(p.admin, "rk", 1), iss)[0];
	long long rev = 0;
	struct cert_override ov[] = { { "client", "示范市供电公司营销部（更正）" } };
	ASSERT_EQ(ML_OK, cert_revise(p.approver, id, "送检单位名称有误", ov, 1, &rev, &err))
		<< err.msg;
	ASSERT_EQ(ML_OK, cert_check(p.checker, &rev, 1, &err)) << err.msg;
	struct db *ap2 = pgtest_connect(pgtest_user(p.ci, "mlt_wf_rk2", "钱批准", "approver"));
	auto dba = [&](const std::string &sql) { wf_dba(p.admin, sql); };
	/* 20 000 older certificates of other assets, before the corrected one
	 * in id order, as a bulk load leaves them (the DBA, triggers and keys
	 * lifted), and no statistics: no autoanalyze may give them some. */
	dba("ALTER TABLE certificate SET (autovacuum_enabled = off)");
	dba("SET session_replication_role = replica; "
	    "INSERT INTO certificate OVERRIDING SYSTEM VALUE SELECT (jsonb_populate_record("
	    "NULL::certificate, to_jsonb(c) || jsonb_build_object('id', -g, "
	    "'asset_id', 900000000 + g))).* FROM certificate c, generate_series(1, 20000) g "
	    "WHERE c.id = " +
	    std::to_string(id) + "; SET session_replication_role = DEFAULT");
	dba(wf_no_statistics("certificate"));
	wf_quiet_statistics(p, "certificate", { ap2 });
	auto before = wf_table_reads(p.admin, "certificate");
	EXPECT_EQ(ML_OK, wf_approve(ap2, { rev }, &err)) << err.msg;
	wf_flush_statistics({ p.admin, ap2 });
	auto after = wf_table_reads(p.admin, "certificate");
	db_close(ap2);
	dba("SET session_replication_role = replica; DELETE FROM certificate WHERE id < 0; "
	    "SET session_replication_role = DEFAULT");
	dba("ALTER TABLE certificate RESET (autovacuum_enabled)");
	dba("ANALYZE certificate");
	EXPECT_EQ(before.first, after.first) << "sequential scans of the certificates";
	EXPECT_GT(after.second, before.second) << "the approval's reads reached the statistics";
	EXPECT_LT(after.second - before.second, 300)
		<< "blocks of the certificates read by the approval";
	EXPECT_EQ(std::to_string(rev),
		  wf_scalar(p.admin, "SELECT new_id FROM cert_supersession WHERE old_id = " +
					     std::to_string(id)));
	EXPECT_EQ("issued", wf_scalar(p.admin, "SELECT state FROM certificate WHERE id = " +
						       std::to_string(rev)));
}

/* ---- stored bytes, revisions, verification ---- */

static std::string stored_pdf(struct db *db, long long id, std::string *sha = nullptr)
{
	struct ml_buf b = ML_BUF_INIT;
	struct ml_error err = ML_ERROR_INIT;
	char hex[65] = "";
	EXPECT_EQ(ML_OK, cert_pdf_get(db, id, &b, hex, &err)) << err.msg;
	std::string s(b.data ? b.data : "", b.len);
	ml_buf_free(&b);
	if (sha)
		*sha = hex;
	return s;
}

static struct cert_verify_result verify(struct db *db, const std::string &pdf)
{
	struct cert_verify_result v;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_EQ(ML_OK, cert_verify_pdf(db, pdf.data(), pdf.size(), &v, &err)) << err.msg;
	return v;
}

TEST(CertWorkflow, StoredBytesAreTheIssuedDocument)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "SB");
	long long id = wf_issue_run(p, wf_run(p.admin, "sb", 1), iss)[0];
	std::string sha;
	std::string pdf = stored_pdf(p.tech, id, &sha);
	ASSERT_GT(pdf.size(), 1000u);
	EXPECT_EQ(0, pdf.compare(0, 5, "%PDF-"));
	char hex[65];
	cert_sha256_hex(pdf.data(), pdf.size(), hex);
	EXPECT_EQ(sha, hex);
	EXPECT_EQ(pdf, stored_pdf(p.tech, id)) << "the same bytes every time";

	struct ml_error err = ML_ERROR_INIT;
	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(p.tech, id, &r, &err));
	struct cert_verify_result v = verify(p.tech, pdf);
	EXPECT_EQ(CERT_VERIFY_CURRENT, v.status);
	EXPECT_EQ(id, v.match.id);
	EXPECT_STREQ(r.cert_no, v.match.cert_no);

	std::string forged = pdf;
	forged[forged.size() / 2] ^= 0x01;
	v = verify(p.tech, forged);
	EXPECT_EQ(CERT_VERIFY_FORGED, v.status)
		<< "claims a known number but is not the issued file";
	EXPECT_EQ(1, v.has_claim);
	EXPECT_STREQ(r.cert_no, v.claim.cert_no);
	EXPECT_EQ(id, v.match.id);
	EXPECT_EQ(0, v.claim.revision);
	EXPECT_STREQ(r.barcode, v.claim.barcode);
	EXPECT_STREQ(r.verify_code, v.claim.code);
	/* Even with the /Title edited away, the Keywords name the forged certificate. */
	size_t t = forged.find("/Title (");
	ASSERT_NE(std::string::npos, t);
	forged.replace(t + 8, strlen(r.cert_no), std::string(strlen(r.cert_no), 'X'));
	v = verify(p.tech, forged);
	EXPECT_EQ(CERT_VERIFY_FORGED, v.status);
	EXPECT_STREQ(r.cert_no, v.claim.cert_no);
	EXPECT_EQ(id, v.match.id);
	/* Keywords naming a revision that was never issued: unknown, the claim still reported. */
	v = verify(p.tech, std::string("%PDF-1.4\n1 0 obj << /Keywords (MLCERT1;NO=") + r.cert_no +
				   ";REV=7;BC=" + r.barcode + ";VC=AAAA-AAAA) >> endobj\n");
	EXPECT_EQ(CERT_VERIFY_UNKNOWN, v.status);
	EXPECT_EQ(1, v.has_claim);
	EXPECT_EQ(7, v.claim.revision);
	EXPECT_EQ(0, v.match.id);
	v = verify(p.tech, "%PDF-1.4\n1 0 obj << /Title (JL2026-000777) >> endobj\n");
	EXPECT_EQ(CERT_VERIFY_UNKNOWN, v.status);
	v = verify(p.tech, "%PDF-1.4 not a certificate");
	EXPECT_EQ(CERT_VERIFY_UNKNOWN, v.status);
	EXPECT_EQ(0, v.has_claim);
}

TEST(CertWorkflow, RevisionSupersedesAndBothStayRetrievable)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "RV");
	struct ml_error err = ML_ERROR_INIT;
	std::vector<long long> v = wf_issue_run(p, wf_run(p.admin, "rv", 1), iss);
	long long id = v[0];
	std::string old_pdf = stored_pdf(p.tech, id);

	long long draft = wf_drafts(p.tech, wf_run(p.admin, "rv2", 1), iss)[0];
	long long rev = 0;
	struct cert_override ov[] = { { "client", "示范市供电公司营销部（更正）" } };
	EXPECT_EQ(ML_ESTATE, cert_revise(p.approver, draft, "typo", ov, 1, &rev, &err))
		<< "drafts are not revised";
	EXPECT_EQ(ML_EPERM, cert_revise(p.tech, id, "typo", ov, 1, &rev, &err))
		<< "revising needs cert.revise";
	struct cert_override bad[] = { { "conclusion", "合格" } };
	EXPECT_EQ(ML_EINVAL, cert_revise(p.approver, id, "typo", bad, 1, &rev, &err));
	EXPECT_EQ(ML_EINVAL, cert_revise(p.approver, id, "", ov, 1, &rev, &err));
	ASSERT_EQ(ML_OK, cert_revise(p.approver, id, "送检单位名称有误", ov, 1, &rev, &err))
		<< err.msg;
	long long rev2 = 0;
	EXPECT_EQ(ML_ESTATE, cert_revise(p.approver, id, "again", ov, 1, &rev2, &err))
		<< "one pending revision";

	/* Until the revision is issued, the original stays current. */
	EXPECT_EQ(CERT_VERIFY_CURRENT, verify(p.tech, old_pdf).status);
	/* The reviser is the revision's verifier: a checker and another approver sign it. */
	ASSERT_EQ(ML_OK, cert_check(p.checker, &rev, 1, &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, wf_approve(p.approver, { rev }, &err)) << "the reviser cannot approve";
	std::string ap2_ci = pgtest_user(p.ci, "mlt_wf_rv2", "孙批准", "approver");
	struct db *ap2 = pgtest_connect(ap2_ci);
	ASSERT_EQ(ML_OK, wf_approve(ap2, { rev }, &err)) << err.msg;

	struct cert_record o, n;
	ASSERT_EQ(ML_OK, cert_get(p.tech, id, &o, &err));
	ASSERT_EQ(ML_OK, cert_get(p.tech, rev, &n, &err));
	EXPECT_EQ(rev, o.superseded_by);
	EXPECT_STREQ("issued", o.state) << "the old row itself is not altered";
	EXPECT_EQ(0, n.superseded_by);
	EXPECT_STREQ(o.cert_no, n.cert_no) << "a revision keeps the number";
	EXPECT_EQ(1, n.revision);
	EXPECT_EQ(id, n.revises_id);
	EXPECT_STREQ("送检单位名称有误", n.revise_reason);
	EXPECT_STREQ("郑检测", n.verifier) << "the run's operator, not the reviser (0366)";
	EXPECT_STREQ("孙批准", n.approver);
	EXPECT_STRNE(o.verify_code, n.verify_code);
	EXPECT_EQ("1",
		  wf_scalar(p.admin,
			    "SELECT max(last_serial) FROM cert_counter WHERE issuer_id = 'RV'"))
		<< "no new number used";

	std::string new_pdf = stored_pdf(p.tech, rev);
	EXPECT_EQ(old_pdf, stored_pdf(p.tech, id))
		<< "the superseded PDF is still retrievable, unchanged";
	EXPECT_NE(old_pdf, new_pdf);
	struct cert_verify_result vr = verify(p.tech, old_pdf);
	EXPECT_EQ(CERT_VERIFY_SUPERSEDED, vr.status);
	EXPECT_EQ(rev, vr.current.id);
	vr = verify(p.tech, new_pdf);
	EXPECT_EQ(CERT_VERIFY_CURRENT, vr.status);

	/* A paper original prints no revision: number + its code is superseded, not forged. */
	struct cert_claim cl = {};
	snprintf(cl.cert_no, sizeof cl.cert_no, "%s", o.cert_no);
	cl.revision = -1;
	snprintf(cl.code, sizeof cl.code, "%.9s", o.verify_code);
	ASSERT_EQ(ML_OK, cert_verify_claim(p.tech, &cl, &vr, &err)) << err.msg;
	EXPECT_EQ(CERT_VERIFY_SUPERSEDED, vr.status) << cert_verify_status_name(vr.status);
	snprintf(cl.code, sizeof cl.code, "%.9s", n.verify_code);
	ASSERT_EQ(ML_OK, cert_verify_claim(p.tech, &cl, &vr, &err)) << err.msg;
	EXPECT_EQ(CERT_VERIFY_CURRENT, vr.status);
	cl.revision = 1;
	snprintf(cl.code, sizeof cl.code, "%.9s", o.verify_code);
	ASSERT_EQ(ML_OK, cert_verify_claim(p.tech, &cl, &vr, &err)) << err.msg;
	EXPECT_EQ(CERT_VERIFY_FORGED, vr.status);

	struct cert_record f;
	ASSERT_EQ(ML_OK, cert_find(p.tech, o.cert_no, &f, &err));
	EXPECT_EQ(rev, f.id);
	ASSERT_EQ(ML_OK, cert_find(p.tech, (std::string(o.cert_no) + "/0").c_str(), &f, &err));
	EXPECT_EQ(id, f.id);
	EXPECT_EQ(ML_ESTATE, cert_revise(p.approver, id, "again", ov, 1, &rev2, &err))
		<< "a superseded certificate is not revised again";
	struct cert_content *c = nullptr;
	ASSERT_EQ(ML_OK, cert_content_load(p.tech, rev, &c, &err));
	EXPECT_STREQ("示范市供电公司营销部（更正）", cert_content_doc(c)->client);
	EXPECT_STREQ("郑检测", cert_content_doc(c)->verifier);
	cert_content_free(c);
	db_close(ap2);
}

/* cert revise refuses values a certificate can never carry, and the asset's
 * validity follows the current revision. */
TEST(CertWorkflow, RevisionRefusesImpossibleValuesAndKeepsTheAssetValidity)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "RI");
	struct ml_error err = ML_ERROR_INIT;
	std::vector<long long> v = wf_issue_run(p, wf_run(p.admin, "ri", 2, 1), iss);
	long long pass = v[0], notice = v[1];
	std::string sid = std::to_string(pass);
	std::string verified = wf_scalar(
		p.admin, "SELECT content->>'verified_on' FROM certificate WHERE id = " + sid);
	std::string until = wf_scalar(
		p.admin, "SELECT content->>'valid_until' FROM certificate WHERE id = " + sid);
	std::string asset = wf_scalar(p.admin,
				      "SELECT asset_id FROM certificate WHERE id = " + sid);
	EXPECT_EQ(until,
		  wf_scalar(p.admin, "SELECT valid_until FROM asset WHERE asset_id = " + asset));
	struct {
		const char *field, *value, *says;
	} bad[] = {
		{ "valid_until", "2199-12-31", "outside the verification period" },
		{ "valid_until", "2026-02-30", "not a date" },
		{ "valid_until", "2034-12-01garbage", "not a date" },
		{ "temperature", "-273", "cannot be the temperature" },
		{ "temperature", "21.25", "at most one decimal" },
		{ "temperature", "hot", "not a temperature" },
		{ "humidity", "101", "0 to 100" },
		{ "humidity", "-5", "not a relative humidity" },
		{ "verified_on", "2020-01-01", "not the date of run" },
		{ "client", "示范\xE2\x80\x8B公司", "invisible" },
	};
	for (const auto &b : bad) {
		struct cert_override ov[] = { { b.field, b.value } };
		long long rev = 0;
		ml_error_clear(&err);
		EXPECT_EQ(ML_EINVAL, cert_revise(p.approver, pass, "更正", ov, 1, &rev, &err))
			<< b.field << "=" << b.value;
		EXPECT_NE(nullptr, strstr(err.msg, b.says))
			<< b.field << "=" << b.value << ": " << err.msg;
	}
	struct cert_override nv[] = { { "valid_until", "2030-01-01" } };
	long long rev = 0;
	EXPECT_EQ(ML_EINVAL, cert_revise(p.approver, notice, "更正", nv, 1, &rev, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "no validity")) << err.msg;
	EXPECT_EQ(
		"0",
		wf_scalar(
			p.admin,
			"SELECT count(*) FROM certificate WHERE revision > 0 AND issuer_id = 'RI'"));

	/* A correction within the rules: one day shorter, the temperature, the run's own date. */
	std::string shorter = wf_scalar(p.admin, "SELECT (date '" + until + "' - 1)::text");
	struct cert_override ok[] = { { "valid_until", shorter.c_str() },
				      { "temperature", "20.8 ℃" },
				      { "humidity", "55" },
				      { "verified_on", verified.c_str() } };
	ASSERT_EQ(ML_OK, cert_revise(p.approver, pass, "有效期更正", ok, 4, &rev, &err)) << err.msg;
	struct cert_content *c = nullptr;
	ASSERT_EQ(ML_OK, cert_content_load(p.tech, rev, &c, &err));
	EXPECT_STREQ("20.8 ℃", cert_content_doc(c)->temperature);
	EXPECT_STREQ("55.0 %RH", cert_content_doc(c)->humidity);
	EXPECT_EQ(shorter, cert_content_doc(c)->valid_until);
	cert_content_free(c);
	/* Not yet issued: the asset keeps the validity of the current certificate. */
	EXPECT_EQ(until,
		  wf_scalar(p.admin, "SELECT valid_until FROM asset WHERE asset_id = " + asset));
	ASSERT_EQ(ML_OK, cert_check(p.checker, &rev, 1, &err)) << err.msg;
	std::string ap2_ci = pgtest_user(p.ci, "mlt_wf_ri2", "周批准", "approver");
	struct db *ap2 = pgtest_connect(ap2_ci);
	ASSERT_EQ(ML_OK, wf_approve(ap2, { rev }, &err)) << err.msg;
	EXPECT_EQ(shorter,
		  wf_scalar(p.admin, "SELECT valid_until FROM asset WHERE asset_id = " + asset))
		<< "the asset's validity follows the current revision";
	EXPECT_EQ(
		"cert_revise|mlt_wf_ri2|" + until,
		wf_scalar(
			p.admin,
			"SELECT action || '|' || actor || '|' || (details->>'valid_until_before') "
			"FROM asset_event WHERE asset_id = " +
				asset + " ORDER BY event_id DESC LIMIT 1"))
		<< "with its history event, by the approver who issued the revision";
	db_close(ap2);
}

TEST(CertWorkflow, WithdrawalKeepsTheRecordAndVerifiesAsWithdrawn)
{
	wf_people p(wf_db());
	struct ml_error err = ML_ERROR_INIT;
	const char *iss = wf_issuer(p.admin, "WD");
	long long draft = wf_drafts(p.tech, wf_run(p.admin, "wd0", 1), iss)[0];
	EXPECT_EQ(ML_ESTATE, cert_withdraw(p.approver, draft, "wrong asset", &err))
		<< "a draft is not withdrawn";
	long long id = wf_issue_run(p, wf_run(p.admin, "wd", 1), iss)[0];
	std::string pdf = stored_pdf(p.tech, id);
	EXPECT_EQ(ML_EINVAL, cert_withdraw(p.approver, id, "", &err));
	EXPECT_EQ(ML_EPERM, cert_withdraw(p.checker, id, "wrong asset", &err));
	ASSERT_EQ(ML_OK, cert_withdraw(p.approver, id, "issued for the wrong asset", &err))
		<< err.msg;
	EXPECT_EQ(ML_ESTATE, cert_withdraw(p.approver, id, "again", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "withdrawn")) << err.msg;

	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(p.tech, id, &r, &err));
	EXPECT_EQ("",
		  wf_scalar(p.admin,
			    "SELECT coalesce(valid_until::text, '') FROM asset WHERE asset_id = " +
				    std::to_string(r.asset_id)))
		<< "the validity the certificate gave the asset is taken back";
	EXPECT_EQ("cert_withdraw|mlt_approver",
		  wf_scalar(p.admin,
			    "SELECT action || '|' || actor FROM asset_event WHERE asset_id = " +
				    std::to_string(r.asset_id) + " ORDER BY event_id DESC LIMIT 1"))
		<< "with its history event, by the approver who withdrew it";
	EXPECT_EQ(1, r.withdrawn);
	EXPECT_STREQ("issued", r.state) << "the issued row itself is not altered";
	EXPECT_STREQ("刘批准", r.withdrawn_by);
	EXPECT_STREQ("issued for the wrong asset", r.withdraw_reason);
	EXPECT_EQ(pdf, stored_pdf(p.tech, id)) << "the PDF stays stored";
	EXPECT_EQ(CERT_VERIFY_WITHDRAWN, verify(p.tech, pdf).status);
	struct cert_override ov[] = { { "client", "x" } };
	long long rev = 0;
	EXPECT_EQ(ML_ESTATE, cert_revise(p.approver, id, "fix", ov, 1, &rev, &err))
		<< "withdrawn: no revision";
	struct cert_filter f = {};
	f.asset_id = r.asset_id;
	f.state = "current";
	struct cert_record *list = nullptr;
	size_t n = 0;
	ASSERT_EQ(ML_OK, cert_list(p.tech, &f, &list, &n, &err));
	EXPECT_EQ(0u, n) << "a withdrawn certificate is not current";
	free(list);
}

TEST(CertWorkflow, DiscardedDraftIsLoggedAndUnblocksTheNextRevision)
{
	wf_people p(wf_db());
	struct ml_error err = ML_ERROR_INIT;
	const char *iss = wf_issuer(p.admin, "DC");
	long long id = wf_issue_run(p, wf_run(p.admin, "dc", 1), iss)[0];
	EXPECT_EQ(ML_ESTATE, cert_discard(p.approver, id, "no", &err)) << "issued: never discarded";
	struct cert_override ov[] = { { "client", "x" } };
	long long rev = 0, rev2 = 0;
	ASSERT_EQ(ML_OK, cert_revise(p.approver, id, "fix", ov, 1, &rev, &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, cert_revise(p.approver, id, "fix again", ov, 1, &rev2, &err))
		<< "one pending revision";
	EXPECT_EQ(ML_EINVAL, cert_discard(p.approver, rev, "", &err));
	EXPECT_EQ(ML_EPERM, cert_discard(p.tech, rev, "not mine", &err))
		<< "only its verifier or an approver";
	ASSERT_EQ(ML_OK, cert_discard(p.approver, rev, "wrong correction", &err)) << err.msg;
	struct cert_record r;
	EXPECT_EQ(ML_ENOTFOUND, cert_get(p.tech, rev, &r, &err));
	EXPECT_EQ(
		"wrong correction|刘批准",
		wf_scalar(
			p.tech,
			"SELECT reason || '|' || discarded_by FROM cert_discard_log WHERE cert_id = " +
				std::to_string(rev)));
	ASSERT_EQ(ML_OK, cert_revise(p.approver, id, "fix again", ov, 1, &rev2, &err)) << err.msg;
	/* A technician discards a draft of their own. */
	long long mine = wf_drafts(p.tech, wf_run(p.admin, "dc2", 1), iss)[0];
	ASSERT_EQ(ML_OK, cert_discard(p.tech, mine, "duplicate", &err)) << err.msg;
}

/* Dates are the server's clock; an earlier date only through an
 * administrator's explicit, reasoned and recorded action. */
TEST(CertWorkflow, BackDatingIsAnAdministratorsRecordedAction)
{
	wf_people p(wf_db());
	const char *iss = wf_issuer(p.admin, "BD");
	struct ml_error err = ML_ERROR_INIT;
	std::string admin_ci = pgtest_as(p.ci, "mlt_admin");
	struct db *adm = pgtest_connect(admin_ci);
	/* A run done (on paper) a week ago. */
	long long run = wf_run(p.admin, "bd", 1);
	PGresult *res = PQexec(
		db_conn(p.admin),
		("SET session_replication_role = replica; UPDATE verification_run SET "
		 "run_date = ml_cert_today() - 7 WHERE run_id = " +
		 std::to_string(run) +
		 "; UPDATE run_conclusion SET valid_until = (ml_cert_today() - 7 + interval "
		 "'96 months')::date - 1 WHERE run_id = " +
		 std::to_string(run) +
		 " AND item = 'overall'; SET session_replication_role = DEFAULT")
			.c_str());
	ASSERT_EQ(PGRES_COMMAND_OK, PQresultStatus(res)) << PQerrorMessage(db_conn(p.admin));
	PQclear(res);
	long long id = wf_drafts(p.tech, run, iss)[0];
	std::string five = wf_scalar(p.admin, "SELECT (ml_cert_today() - 5)::text");
	std::string tomorrow = wf_scalar(p.admin, "SELECT (ml_cert_today() + 1)::text");
	std::string before = wf_scalar(p.admin, "SELECT (ml_cert_today() - 8)::text");
	EXPECT_EQ(ML_EPERM, cert_backdate(p.approver, id, five.c_str(), "paper record", &err));
	EXPECT_EQ(ML_EPERM, cert_backdate(p.tech, id, five.c_str(), "paper record", &err));
	EXPECT_EQ(ML_EINVAL, cert_backdate(adm, id, tomorrow.c_str(), "paper record", &err))
		<< "never in the future";
	EXPECT_NE(nullptr, strstr(err.msg, "future")) << err.msg;
	EXPECT_EQ(ML_EINVAL, cert_backdate(adm, id, before.c_str(), "paper record", &err))
		<< "never before the verification";
	EXPECT_EQ(ML_EINVAL, cert_backdate(adm, id, (five + "garbage").c_str(), "paper", &err));
	EXPECT_EQ(ML_EINVAL, cert_backdate(adm, id, five.c_str(), "", &err))
		<< "a reason is needed";
	ASSERT_EQ(ML_OK, cert_backdate(adm, id, five.c_str(), "纸质记录补录（停电）", &err))
		<< err.msg;
	EXPECT_EQ(ML_ESTATE, cert_backdate(adm, id, five.c_str(), "again", &err));
	ASSERT_EQ(ML_OK, cert_check(p.checker, &id, 1, &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(p.approver, { id }, &err)) << err.msg;
	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(p.tech, id, &r, &err));
	EXPECT_EQ(five, r.issued_on);
	EXPECT_EQ(1, r.backdated);
	EXPECT_EQ(five, r.backdated_on);
	EXPECT_STREQ("纸质记录补录（停电）", r.backdate_reason);
	EXPECT_STREQ("系统管理员甲", r.backdated_by);
	EXPECT_EQ(ML_ESTATE, cert_backdate(adm, id, five.c_str(), "after the fact", &err))
		<< "an issued certificate's date is never changed";
	db_close(adm);
}

/* Tamper evidence for certificates: the owner, around every guard, edits an
 * issued certificate or swaps its stored PDF (with a matching hash column):
 * audit verify names the certificate. */
TEST(CertWorkflow, OwnerEditingIssuedCertificatesIsNamedByAuditVerify)
{
	std::string ci = wf_fresh_db("certaudit");
	wf_people p(ci);
	std::vector<long long> v = wf_issue_run(p, wf_run(p.admin, "au", 2));
	struct db *auditor = pgtest_connect(pgtest_as(ci, "mlt_auditor"));
	struct audit_report rep = {};
	struct ml_error err = ML_ERROR_INIT;
	ASSERT_EQ(ML_OK, audit_verify(auditor, nullptr, &rep, &err)) << err.msg;
	EXPECT_EQ(1, rep.ok);
	auto find = [&](const char *name) -> const struct audit_chain_report *
	{
		for (size_t i = 0; i < rep.n; i++)
			if (!strcmp(rep.chains[i].chain, name))
				return &rep.chains[i];
		return nullptr;
	};
	ASSERT_NE(nullptr, find("certificate"));
	EXPECT_EQ(2, find("certificate")->rows) << "both issued certificates are chained";
	EXPECT_EQ(1, find("certificate")->blocks) << "one block for the batch";
	EXPECT_EQ(2, find("cert_pdf")->rows);
	std::string anchor = rep.anchor;
	audit_report_free(&rep);

	std::string a = std::to_string(v[0]), b = std::to_string(v[1]);
	PGresult *res = PQexec(
		db_conn(p.admin),
		("SET ROLE meterlab_owner; "
		 "ALTER TABLE certificate DISABLE TRIGGER certificate_guard; "
		 "UPDATE certificate SET content = jsonb_set(content, '{client}', '\"伪造单位\"') WHERE id = " +
		 a +
		 "; ALTER TABLE certificate ENABLE TRIGGER certificate_guard; "
		 "ALTER TABLE cert_pdf DISABLE TRIGGER cert_pdf_append_only; "
		 "UPDATE cert_pdf SET pdf = pdf || '\\x0a'::bytea, sha256 = encode(sha256(pdf || '\\x0a'::bytea), "
		 "'hex') WHERE cert_id = " +
		 b + "; ALTER TABLE cert_pdf ENABLE TRIGGER cert_pdf_append_only; RESET ROLE")
			.c_str());
	ASSERT_EQ(PGRES_COMMAND_OK, PQresultStatus(res)) << PQerrorMessage(db_conn(p.admin));
	PQclear(res);
	ASSERT_EQ(ML_OK, audit_verify(auditor, anchor.c_str(), &rep, &err)) << err.msg;
	EXPECT_EQ(0, rep.ok);
	ASSERT_NE(nullptr, find("certificate"));
	EXPECT_EQ(0, find("certificate")->ok);
	EXPECT_STREQ("changed", find("certificate")->bad_kind);
	EXPECT_EQ(v[0], find("certificate")->bad_key) << find("certificate")->problem;
	EXPECT_EQ(0, find("cert_pdf")->ok);
	EXPECT_EQ(v[1], find("cert_pdf")->bad_key) << find("cert_pdf")->problem;
	EXPECT_EQ(1, find("asset_event")->ok);
	audit_report_free(&rep);
	db_close(auditor);
}

/* A PDF row is chained by its digest since 0345: its recorded hash is that
 * of the row's text with the bytes replaced by their SHA-256, not of the
 * whole row's text. A row recorded with 0344's whole-text hash (the trigger
 * as ml_audit_trigger_sql writes it, put back by the owner for one issue)
 * still verifies; the owner changing either row's bytes is named, whether
 * the row's digest column follows or not, and the row put back verifies. */
TEST(CertWorkflow, PdfRowsAreChainedByTheirDigest)
{
	std::string ci = wf_fresh_db("certdigest");
	wf_people p(ci);
	std::vector<long long> a = wf_issue_run(p, wf_run(p.admin, "dg", 1));
	ASSERT_EQ(1u, a.size());
	/* the row hash each form gives, against the recorded one */
	const std::string forms =
		"SELECT (r.h = sha256(convert_to(ROW(c.asset_id, c.cert_id, 'sha256:' || "
		"encode(sha256(c.pdf), 'hex'), c.sha256, c.stored_at)::text, "
		"getdatabaseencoding())))::text || ' ' || "
		"(r.h = sha256(rtrim(convert_to(c::text, getdatabaseencoding()), '\\x2c29'::bytea) "
		"|| '\\x29'::bytea))::text "
		"FROM (SELECT x.k, substring(b.row_hashes FROM (x.o::int - 1) * 32 + 1 FOR 32) AS h "
		"FROM audit_block b CROSS JOIN LATERAL unnest(b.row_keys) WITH ORDINALITY x(k, o) "
		"WHERE b.chain = 'cert_pdf') r JOIN cert_pdf c ON c.cert_id = r.k WHERE c.cert_id = ";
	auto form = [&](long long id) {
		PGresult *res = PQexec(db_conn(p.admin),
				       "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
				       "SET bytea_output = 'hex'");
		PQclear(res);
		std::string f = wf_scalar(p.admin, forms + std::to_string(id));
		res = PQexec(db_conn(p.admin), "RESET ALL");
		PQclear(res);
		return f;
	};
	EXPECT_EQ("true false", form(a[0])) << "the digest form, not the whole text";

	/* the owner puts 0344's trigger back (the generic one) for one issue */
	PGresult *res = PQexec(
		db_conn(p.admin),
		"DO $$ BEGIN EXECUTE regexp_replace(ml_audit_trigger_sql('cert_pdf', 'cert_id', NULL, "
		"NULL), '^\\s*CREATE FUNCTION ', 'CREATE OR REPLACE FUNCTION '); END $$");
	ASSERT_EQ(PGRES_COMMAND_OK, PQresultStatus(res)) << PQerrorMessage(db_conn(p.admin));
	PQclear(res);
	std::vector<long long> b = wf_issue_run(p, wf_run(p.admin, "dh", 1));
	ASSERT_EQ(1u, b.size());
	EXPECT_EQ("false true", form(b[0])) << "the whole row's text, as 0344 hashed it";

	struct db *auditor = pgtest_connect(pgtest_as(ci, "mlt_auditor"));
	struct audit_report rep = {};
	struct ml_error err = ML_ERROR_INIT;
	auto pdf_chain = [&]() -> const struct audit_chain_report *
	{
		for (size_t i = 0; i < rep.n; i++)
			if (!strcmp(rep.chains[i].chain, "cert_pdf"))
				return &rep.chains[i];
		return nullptr;
	};
	ASSERT_EQ(ML_OK, audit_verify(auditor, nullptr, &rep, &err)) << err.msg;
	ASSERT_NE(nullptr, pdf_chain());
	EXPECT_EQ(1, pdf_chain()->ok) << pdf_chain()->problem;
	EXPECT_EQ(2, pdf_chain()->rows);
	EXPECT_EQ(1, rep.ok);
	audit_report_free(&rep);

	/* each row in turn: bytes and digest column changed together, then the
	 * bytes alone (the CHECK that ties them dropped first); each put back
	 * after, and the chain verifies again */
	auto owner = [&](const std::string &sql) {
		PGresult *r = PQexec(
			db_conn(p.admin),
			("SET ROLE meterlab_owner; ALTER TABLE cert_pdf DISABLE TRIGGER "
			 "cert_pdf_append_only; " +
			 sql +
			 "; ALTER TABLE cert_pdf ENABLE TRIGGER cert_pdf_append_only; RESET ROLE")
				.c_str());
		ASSERT_EQ(PGRES_COMMAND_OK, PQresultStatus(r)) << PQerrorMessage(db_conn(p.admin));
		PQclear(r);
	};
	for (long long id : { a[0], b[0] }) {
		for (int alone = 0; alone < 2; alone++) {
			std::string w = " WHERE cert_id = " + std::to_string(id);
			if (alone)
				owner("ALTER TABLE cert_pdf DROP CONSTRAINT cert_pdf_check; "
				      "UPDATE cert_pdf SET pdf = pdf || '\\x0a'::bytea" +
				      w);
			else
				owner("UPDATE cert_pdf SET pdf = pdf || '\\x0a'::bytea, sha256 = "
				      "encode(sha256(pdf || '\\x0a'::bytea), 'hex')" +
				      w);
			ASSERT_EQ(ML_OK, audit_verify(auditor, nullptr, &rep, &err)) << err.msg;
			ASSERT_NE(nullptr, pdf_chain());
			EXPECT_EQ(0, pdf_chain()->ok) << id << " alone=" << alone;
			EXPECT_EQ(id, pdf_chain()->bad_key) << pdf_chain()->problem;
			/* the digest in either form is of the bytes found, not recorded */
			EXPECT_NE(nullptr,
				  strstr(pdf_chain()->problem, "was changed after it was recorded"))
				<< pdf_chain()->problem;
			audit_report_free(&rep);
			owner("UPDATE cert_pdf SET pdf = substring(pdf FROM 1 FOR length(pdf) - 1), "
			      "sha256 = encode(sha256(substring(pdf FROM 1 FOR length(pdf) - 1)), 'hex')" +
			      w +
			      (alone ? "; ALTER TABLE cert_pdf ADD CONSTRAINT cert_pdf_check CHECK "
				       "(sha256 = encode(sha256(pdf), 'hex'))"
				     : ""));
			ASSERT_EQ(ML_OK, audit_verify(auditor, nullptr, &rep, &err)) << err.msg;
			EXPECT_EQ(1, pdf_chain()->ok) << "put back: " << pdf_chain()->problem;
			audit_report_free(&rep);
		}
	}
	db_close(auditor);
}

/* The group role of the application's privileges is nobody: with truth
 * written only by functions that name the person, its login is gone (0142).
 * Its members — every person and the service — keep its privileges. */
TEST(CertWorkflow, TheSharedRoleCannotLogIn)
{
	struct db *app = nullptr;
	struct ml_error err = ML_ERROR_INIT;
	EXPECT_NE(ML_OK, db_connect(pgtest_as_role(wf_db(), "meterlab_app").c_str(), &app, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "not permitted to log in")) << err.msg;
	db_close(app);
	struct db *dba = pgtest_connect(wf_db());
	EXPECT_EQ(
		"f",
		wf_scalar(dba, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'meterlab_app'"));
	EXPECT_EQ("t",
		  wf_scalar(dba, "SELECT pg_has_role('mlt_tech', 'meterlab_app', 'MEMBER') AND "
				 "pg_has_role('meterlab_service', 'meterlab_app', 'MEMBER')"));
	db_close(dba);
}

/* A transformer-operated meter's load points are named by In (额定电流),
 * JJG 596-2012 (issue 9): the runner labels them "0.05In cosφ=1.0 H", and
 * the certificate's error table turns the label into amperes from the
 * model's rated current as it does for Ib and Imax (0160). */
TEST(CertWorkflow, ErrorTableNamesTheRatedCurrentIn)
{
	wf_people p(wf_db());
	long long run = wf_run(p.admin, "in", 1);
	const std::string r = std::to_string(run);
	wf_scalar(
		p.admin,
		"WITH s AS (INSERT INTO run_step (run_id, step_no, kind, label, started_at) "
		"VALUES (" +
			r +
			", 4, 'basic', '0.05In cosφ=1.0 H', now()) RETURNING step_no) "
			"INSERT INTO run_step_result (asset_id, run_id, step_no, position, kind, label, "
			"n_readings, mean_e4, rounded_e4, limit_e4, internal_limit_e4, interval_e4, verdict, "
			"internal_verdict, measured_at) SELECT p.asset_id, " +
			r +
			", 4, p.position, 'basic', "
			"'0.05In cosφ=1.0 H', 2, 1000, 1000, 15000, 9000, 1000, 'pass', 'none', now() "
			"FROM run_position p WHERE p.run_id = " +
			r + " RETURNING 1");
	std::string row = wf_scalar(
		p.admin,
		"SELECT e FROM ml_cert_run_docs(" + r +
			") d, "
			"jsonb_array_elements(d.content -> 'errors') e WHERE e ->> 'load' = '0.05In'");
	EXPECT_NE(std::string::npos, row.find("\"current\": \"0.25 A\"")) << row;
	/* Ib and Imax are as before: 0.1Ib of a 5(60) A meter is 0.5 A */
	row = wf_scalar(
		p.admin,
		"SELECT e FROM ml_cert_run_docs(" + r +
			") d, "
			"jsonb_array_elements(d.content -> 'errors') e WHERE e ->> 'load' = '0.1Ib'");
	EXPECT_NE(std::string::npos, row.find("\"current\": \"0.5 A\"")) << row;
}
