/* Certificate workflow against a real PostgreSQL: content, four eyes,
 * numbering, immutability, revisions, stored bytes, verification. */
#include <gtest/gtest.h>

#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <set>
#include <thread>

#include "reports/cert_number.h"
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
}

TEST(CertNumber, FormatAndTransactionRequired)
{
	struct ml_error err = ML_ERROR_INIT;
	char no[32];
	ASSERT_EQ(ML_OK, cert_number_format("JL", 2026, 123, no, sizeof(no), &err));
	EXPECT_STREQ("JL2026-000123", no);
	EXPECT_EQ(ML_EINVAL, cert_number_format("JL", 2026, 0, no, sizeof(no), &err));
	EXPECT_EQ(ML_EINVAL, cert_number_format("JL", 2026, 1, no, 8, &err));

	struct db *db = pgtest_connect(wf_db());
	const char *iss = wf_issuer(db, "NA");
	int first = 0;
	EXPECT_EQ(ML_EINTERNAL, cert_number_alloc(db, iss, 2026, 1, &first, &err));
	ASSERT_EQ(ML_OK, db_begin(db, &err));
	ASSERT_EQ(ML_OK, cert_number_alloc(db, iss, 2026, 3, &first, &err)) << err.msg;
	EXPECT_EQ(1, first);
	ASSERT_EQ(ML_OK, cert_number_alloc(db, iss, 2026, 1, &first, &err)) << err.msg;
	EXPECT_EQ(4, first);
	db_rollback(db); /* numbers given back */
	ASSERT_EQ(ML_OK, db_begin(db, &err));
	ASSERT_EQ(ML_OK, cert_number_alloc(db, iss, 2026, 1, &first, &err)) << err.msg;
	EXPECT_EQ(1, first);
	ASSERT_EQ(ML_OK, cert_number_alloc(db, iss, 2027, 1, &first, &err)) << err.msg;
	EXPECT_EQ(1, first) << "each year starts again at 1";
	ASSERT_EQ(ML_OK, db_commit(db, &err));
	db_close(db);
}

/* ---- content ---- */

TEST(CertStore, ContentRoundTripsThroughJson)
{
	struct db *db = pgtest_connect(wf_db());
	struct ml_error err = ML_ERROR_INIT;
	wf_doc d(wf_barcode(446529641), false);
	struct cert_xfmr_row xr[2] = { { "5%", "2.5 VA", "+0.12", "+4.0", "±0.75", "±30", "合格" },
				       { "100%", nullptr, "-0.05", "-1.5", "±0.2", "±10",
					 "合格" } };
	d.doc.xfmr = xr;
	d.doc.n_xfmr = 2;
	long long id = 0;
	ASSERT_EQ(ML_OK, cert_draft_create(db, 7, 0, nullptr, &d.doc, nullptr, &id, &err))
		<< err.msg;
	struct cert_content *c = nullptr;
	ASSERT_EQ(ML_OK, cert_content_load(db, id, &c, &err)) << err.msg;
	struct cert_doc *x = cert_content_doc(c);
	EXPECT_EQ(CERT_KIND_NOTICE, x->kind);
	EXPECT_STREQ(d.doc.client, x->client); /* quotes survive the JSON trip */
	EXPECT_STREQ(d.doc.spec, x->spec);
	EXPECT_STREQ("不合格", x->conclusion);
	EXPECT_EQ(nullptr, x->valid_until);
	EXPECT_EQ(nullptr, x->cert_no) << "numbers are given at issue, not in the draft";
	ASSERT_EQ(3u, x->n_items);
	EXPECT_STREQ("潜动试验", x->items[0].name);
	EXPECT_STREQ("0 pulses in 37.9 min", x->items[0].detail);
	EXPECT_EQ(nullptr, x->items[1].detail);
	EXPECT_STREQ("不合格", x->items[2].conclusion);
	ASSERT_EQ(2u, x->n_errors);
	EXPECT_STREQ("0.1Ib", x->errors[1].load);
	EXPECT_STREQ("+0.41 | +0.43", x->errors[1].readings);
	EXPECT_STREQ("±1.0", x->errors[1].limit);
	ASSERT_EQ(1u, x->n_standards);
	EXPECT_STREQ("国量标[2024]第0001号", x->standards[0].cert_no);
	ASSERT_EQ(2u, x->n_xfmr);
	EXPECT_STREQ("2.5 VA", x->xfmr[0].burden);
	EXPECT_STREQ("±30", x->xfmr[0].phase_limit);
	EXPECT_STREQ("100%", x->xfmr[1].percent);
	EXPECT_EQ(nullptr, x->xfmr[1].burden);
	EXPECT_STREQ("-1.5", x->xfmr[1].phase);
	cert_content_free(c);

	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(db, id, &r, &err));
	EXPECT_STREQ("draft", r.state);
	EXPECT_STREQ("张三", r.verifier);
	EXPECT_EQ(7, r.asset_id);
	EXPECT_STREQ("DEMO", r.issuer_id);
	EXPECT_EQ(ML_ENOTFOUND, cert_get(db, id + 1000, &r, &err));
	db_close(db);
}

TEST(CertStore, DraftRefusesInconsistentContent)
{
	struct db *db = pgtest_connect(wf_db());
	struct ml_error err = ML_ERROR_INIT;
	wf_doc d(wf_barcode(1));
	d.doc.conclusion = "不合格"; /* a 检定证书 must say 合格 */
	long long id = 0;
	EXPECT_EQ(ML_EINVAL, cert_draft_create(db, 901, 0, nullptr, &d.doc, nullptr, &id, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "合格")) << err.msg;
	wf_doc e(wf_barcode(2));
	EXPECT_EQ(ML_EINVAL, cert_draft_create(db, 901, 0, nullptr, &e.doc, "", &id, &err));
	EXPECT_EQ(ML_EINVAL, cert_draft_create(db, 0, 0, nullptr, &e.doc, nullptr, &id, &err));
	EXPECT_EQ(ML_EINVAL, cert_draft_create(db, 901, 0, "NOSUCH", &e.doc, nullptr, &id, &err));
	EXPECT_EQ("0", wf_scalar(db, "SELECT count(*) FROM certificate WHERE asset_id = 901"));
	db_close(db);
}

/* ---- four eyes ---- */

/* The signers are compared byte for byte (here and in the CHECKs of 0040):
 * a padded name ("张三 ", "　张三" with U+3000) would pass as another person. */
TEST(CertWorkflow, PaddedNameIsRefusedNotTakenForAnotherSigner)
{
	struct db *db = pgtest_connect(wf_db());
	const char *iss = wf_issuer(db, "PN");
	struct ml_error err = ML_ERROR_INIT;
	long long id = wf_draft(db, 13, wf_barcode(13), true, iss);
	for (const char *name :
	     { "张三 ", " 张三", "\xE3\x80\x80张三", "张三\xE3\x80\x80", "张三\x7F" }) {
		ml_error_clear(&err);
		EXPECT_EQ(ML_EINVAL, cert_check(db, &id, 1, name, &err)) << name;
		EXPECT_NE(nullptr, strstr(err.msg, "checker name")) << err.msg;
	}
	EXPECT_EQ("draft",
		  wf_scalar(db, "SELECT state FROM certificate WHERE id = " + std::to_string(id)));
	long long id2 = 0;
	wf_doc d(wf_barcode(14), true, "王五 ");
	EXPECT_EQ(ML_EINVAL, cert_draft_create(db, 14, 0, iss, &d.doc, nullptr, &id2, &err));
	/* A space inside a name is fine. */
	ASSERT_EQ(ML_OK, cert_check(db, &id, 1, "Li Si", &err)) << err.msg;
	db_close(db);
}

TEST(CertWorkflow, ThreeDifferentPeopleMustSign)
{
	struct db *db = pgtest_connect(wf_db());
	const char *iss = wf_issuer(db, "FE");
	struct ml_error err = ML_ERROR_INIT;
	long long id = wf_draft(db, 11, wf_barcode(11), true, iss);

	EXPECT_EQ(ML_ESTATE, wf_approve(db, { id }, "王五", &err)) << "a draft cannot be approved";
	EXPECT_NE(nullptr, strstr(err.msg, "checked")) << err.msg;
	EXPECT_EQ(ML_ESTATE, cert_check(db, &id, 1, "张三", &err)) << "verifier cannot check";
	EXPECT_NE(nullptr, strstr(err.msg, "three different people")) << err.msg;
	ASSERT_EQ(ML_OK, cert_check(db, &id, 1, "李四", &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, cert_check(db, &id, 1, "赵六", &err)) << "checked once only";
	EXPECT_EQ(ML_ESTATE, wf_approve(db, { id }, "张三", &err)) << "verifier cannot approve";
	EXPECT_EQ(ML_ESTATE, wf_approve(db, { id }, "李四", &err)) << "checker cannot approve";
	EXPECT_EQ(
		"0",
		wf_scalar(
			db,
			"SELECT coalesce(sum(last_serial), 0) FROM cert_counter WHERE issuer_id = 'FE'"));
	ASSERT_EQ(ML_OK, wf_approve(db, { id }, "王五", &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, wf_approve(db, { id }, "钱七", &err)) << "issued once only";

	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(db, id, &r, &err));
	EXPECT_STREQ("issued", r.state);
	EXPECT_STREQ("FE2026-000001", r.cert_no);
	EXPECT_STREQ("张三", r.verifier);
	EXPECT_STREQ("李四", r.checker);
	EXPECT_STREQ("王五", r.approver);
	EXPECT_STRNE("", r.created_at);
	EXPECT_STRNE("", r.checked_at);
	EXPECT_STRNE("", r.approved_at);
	EXPECT_STREQ("2026-11-26", r.issued_on);
	EXPECT_EQ(9u, strlen(r.verify_code));
	EXPECT_EQ(64u, strlen(r.sha256));

	/* The database enforces the same rule if someone bypasses the library. */
	long long id2 = wf_draft(db, 12, wf_barcode(12), true, iss);
	std::string sql =
		"UPDATE certificate SET state = 'checked', checker = verifier WHERE id = " +
		std::to_string(id2);
	EXPECT_EQ(ML_EINVAL, db_cmd(db, sql.c_str(), 0, nullptr, &err));
	db_close(db);
}

TEST(CertWorkflow, BatchIsAllOrNothingAndGivesNumbersBack)
{
	struct db *db = pgtest_connect(wf_db());
	const char *iss = wf_issuer(db, "BA");
	struct ml_error err = ML_ERROR_INIT;
	long long a = wf_draft(db, 21, wf_barcode(21), true, iss);
	long long b = wf_draft(db, 22, wf_barcode(22), false, iss);
	long long c = wf_draft(db, 23, wf_barcode(23), true, iss);
	std::vector<long long> ab = { a, b };
	ASSERT_EQ(ML_OK, cert_check(db, ab.data(), ab.size(), "李四", &err)) << err.msg;
	/* c is still a draft: the whole batch is refused, a and b stay checked. */
	EXPECT_EQ(ML_ESTATE, wf_approve(db, { a, b, c }, "王五", &err));
	EXPECT_EQ("checked",
		  wf_scalar(db, "SELECT state FROM certificate WHERE id = " + std::to_string(a)));
	EXPECT_EQ("0", wf_scalar(db, "SELECT count(*) FROM cert_pdf WHERE cert_id IN (" +
					     std::to_string(a) + ", " + std::to_string(b) + ")"));
	/* A second issuing body in the same batch numbers in its own series. */
	long long d = wf_draft(db, 24, wf_barcode(24), true, wf_issuer(db, "BB"));
	ASSERT_EQ(ML_OK, cert_check(db, &d, 1, "李四", &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(db, { b, d, a }, "王五", &err)) << err.msg;
	EXPECT_EQ("BB2026-000001",
		  wf_scalar(db, "SELECT cert_no FROM certificate WHERE id = " + std::to_string(d)));
	/* Numbers in id order; a result notice is numbered in the same series. */
	EXPECT_EQ("BA2026-000001",
		  wf_scalar(db, "SELECT cert_no FROM certificate WHERE id = " + std::to_string(a)));
	EXPECT_EQ("BA2026-000002",
		  wf_scalar(db, "SELECT cert_no FROM certificate WHERE id = " + std::to_string(b)));
	EXPECT_EQ("2",
		  wf_scalar(db, "SELECT kind FROM certificate WHERE id = " + std::to_string(b)));
	db_close(db);
}

/* Several issuers at once, each with its own connection: numbers are 1..N. */
TEST(CertWorkflow, ConcurrentIssuingIsGapFree)
{
	std::string ci = wf_db();
	const int threads = 4, per = 4;
	std::vector<std::vector<long long>> ids(threads);
	{
		struct db *db = pgtest_connect(ci);
		struct ml_error err = ML_ERROR_INIT;
		wf_issuer(db, "CO");
		for (int t = 0; t < threads; t++) {
			for (int i = 0; i < per; i++) {
				long long asset = 100 + t * per + i;
				ids[t].push_back(
					wf_draft(db, asset, wf_barcode(asset), i % 3 != 2, "CO"));
			}
			ASSERT_EQ(ML_OK, cert_check(db, ids[t].data(), ids[t].size(), "李四", &err))
				<< err.msg;
		}
		db_close(db);
	}
	std::atomic<int> failures{ 0 };
	std::vector<std::thread> th;
	for (int t = 0; t < threads; t++) {
		th.emplace_back([&, t] {
			struct db *db = pgtest_connect(ci);
			struct cert_renderer *r = nullptr;
			struct ml_error err = ML_ERROR_INIT;
			if (cert_renderer_new(nullptr, &r, &err)) {
				failures++;
				db_close(db);
				return;
			}
			struct cert_issue_opts o = { "2026-11-26", &r, 1 };
			/* A failing attempt first (a draft id that does not exist): refused before any
			 * number is allocated (rollback after allocation: IssueFailingAfterNumbering...). */
			long long bogus[2] = { ids[t][0], 999999 };
			if (cert_approve(db, bogus, 2, "王五", &o, &err) != ML_ENOTFOUND)
				failures++;
			for (long long id : ids[t]) {
				if (cert_approve(db, &id, 1, "王五", &o, &err))
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
	struct db *db = pgtest_connect(wf_db());
	const char *iss = wf_issuer(db, "RB");
	struct ml_error err = ML_ERROR_INIT;
	long long orig = wf_draft(db, 44, wf_barcode(44), true, iss);
	ASSERT_EQ(ML_OK, cert_check(db, &orig, 1, "李四", &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(db, { orig }, "王五", &err)) << err.msg; /* RB2026-000001 */
	long long fresh = wf_draft(db, 45, wf_barcode(45), true, iss);
	struct cert_override ov[] = { { "client", "更正" } };
	long long rev = 0;
	ASSERT_EQ(ML_OK, cert_revise(db, orig, "typo", "赵六", ov, 1, &rev, &err)) << err.msg;
	ASSERT_LT(fresh, rev);
	std::vector<long long> batch = { fresh, rev };
	ASSERT_EQ(ML_OK, cert_check(db, batch.data(), batch.size(), "李四", &err)) << err.msg;
	ASSERT_EQ(ML_OK, cert_withdraw(db, orig, "issued for the wrong asset", "王五", &err))
		<< err.msg;
	ml_error_clear(&err);
	EXPECT_EQ(ML_ESTATE, wf_approve(db, batch, "王五", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "withdrawn")) << err.msg;
	EXPECT_EQ("1",
		  wf_scalar(db, "SELECT last_serial FROM cert_counter WHERE issuer_id = 'RB'"));
	EXPECT_EQ("checked", wf_scalar(db, "SELECT state FROM certificate WHERE id = " +
						   std::to_string(fresh)));
	ASSERT_EQ(ML_OK, wf_approve(db, { fresh }, "王五", &err)) << err.msg;
	EXPECT_EQ("RB2026-000002", wf_scalar(db, "SELECT cert_no FROM certificate WHERE id = " +
							 std::to_string(fresh)));
	db_close(db);
}

/* ---- immutability ---- */

TEST(CertWorkflow, IssuedCertificateIsImmutableForTheAppRole)
{
	std::string ci = wf_db();
	struct db *owner = pgtest_connect(ci);
	const char *iss = wf_issuer(owner, "IM");
	struct db *app = pgtest_connect(pgtest_as_role(ci, "meterlab_app"));
	struct ml_error err = ML_ERROR_INIT;
	/* The whole workflow works as the application role... */
	long long id = wf_draft(app, 31, wf_barcode(31), true, iss);
	long long other = wf_draft(app, 32, wf_barcode(32), true, iss);
	ASSERT_EQ(ML_OK, cert_check(app, &id, 1, "李四", &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(app, { id }, "王五", &err)) << err.msg;
	/* ...but it cannot change or remove what was issued. */
	std::string sid = std::to_string(id);
	const char *refused[] = {
		"UPDATE certificate SET approver = 'x' WHERE id = ",
		"UPDATE certificate SET content = '{}' WHERE id = ",
		"DELETE FROM certificate WHERE id = ",
		"UPDATE cert_pdf SET pdf = 'x' WHERE cert_id = ",
		"DELETE FROM cert_pdf WHERE cert_id = ",
		"UPDATE issuer SET name = 'x' WHERE 0 = ",
	};
	for (const char *sql : refused) {
		std::string s = sql + sid;
		EXPECT_NE(ML_OK, db_cmd(app, s.c_str(), 0, nullptr, &err)) << s;
	}
	EXPECT_NE(ML_OK, db_cmd(app, "TRUNCATE cert_pdf", 0, nullptr, &err));
	EXPECT_NE(ML_OK, db_cmd(app, "TRUNCATE certificate CASCADE", 0, nullptr, &err));
	/* A draft's frozen content cannot be rewritten either. */
	std::string s =
		"UPDATE certificate SET checker = '李四', state = 'checked', content = '{}' WHERE id = " +
		std::to_string(other);
	EXPECT_NE(ML_OK, db_cmd(app, s.c_str(), 0, nullptr, &err));
	/* Certificates enter only as drafts; PDFs only for certificates being issued;
	 * nothing becomes issued without its PDF (checked at commit). */
	EXPECT_NE(
		ML_OK,
		db_cmd(app,
		       "INSERT INTO certificate (asset_id, issuer_id, kind, barcode, content, verifier, "
		       "state) VALUES (33, 'IM', 1, '1', '{}', 'x', 'issued')",
		       0, nullptr, &err));
	s = "INSERT INTO cert_pdf (asset_id, cert_id, pdf, sha256) VALUES (32, " +
	    std::to_string(other) + ", 'x', encode(sha256('x'), 'hex'))";
	EXPECT_EQ(ML_EINVAL, db_cmd(app, s.c_str(), 0, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "not being issued")) << err.msg;
	ASSERT_EQ(ML_OK, cert_check(app, &other, 1, "李四", &err)) << err.msg;
	s = "UPDATE certificate SET state = 'issued', approver = '王五', cert_no = 'IM2026-999999', issued_on = "
	    "current_date, verify_code = 'AAAA-AAAA' WHERE id = " +
	    std::to_string(other);
	EXPECT_EQ(ML_EINVAL, db_cmd(app, s.c_str(), 0, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "without a stored PDF")) << err.msg;
	EXPECT_EQ("checked", wf_scalar(app, "SELECT state FROM certificate WHERE id = " +
						    std::to_string(other)));

	/* Even the owner is stopped by the trigger. */
	EXPECT_EQ(
		ML_EINVAL,
		db_cmd(owner,
		       "INSERT INTO certificate (asset_id, issuer_id, kind, barcode, content, "
		       "verifier, state, checker) VALUES (33, 'IM', 1, '1', '{}', 'x', 'checked', 'y')",
		       0, nullptr, &err));
	s = "UPDATE certificate SET approver = 'x' WHERE id = " + sid;
	EXPECT_EQ(ML_EINVAL, db_cmd(owner, s.c_str(), 0, nullptr, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "issued")) << err.msg;
	s = "DELETE FROM cert_pdf WHERE cert_id = " + sid;
	EXPECT_NE(ML_OK, db_cmd(owner, s.c_str(), 0, nullptr, &err));
	EXPECT_EQ("1", wf_scalar(owner, "SELECT count(*) FROM cert_pdf WHERE cert_id = " + sid));
	db_close(owner);
	db_close(app);
}

/* TRUNCATE fires no row trigger: the owning role must be stopped by statement triggers. */
TEST(CertWorkflow, OwnerCannotTruncateCertificateTables)
{
	std::string ci = wf_db();
	struct db *owner = pgtest_connect(ci);
	const char *iss = wf_issuer(owner, "TR");
	struct ml_error err = ML_ERROR_INIT;
	long long id = wf_draft(owner, 36, wf_barcode(36), true, iss);
	ASSERT_EQ(ML_OK, cert_check(owner, &id, 1, "李四", &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(owner, { id }, "王五", &err)) << err.msg;
	const char *tables[] = { "certificate CASCADE", "cert_pdf",         "cert_supersession",
				 "cert_withdrawal",     "cert_discard_log", "cert_counter" };
	for (const char *t : tables) {
		std::string s = std::string("TRUNCATE ") + t;
		ml_error_clear(&err);
		EXPECT_NE(ML_OK, db_cmd(owner, s.c_str(), 0, nullptr, &err)) << s;
		EXPECT_NE(nullptr, strstr(err.msg, "TRUNCATE")) << s << ": " << err.msg;
	}
	std::string sid = std::to_string(id);
	EXPECT_EQ("issued", wf_scalar(owner, "SELECT state FROM certificate WHERE id = " + sid));
	EXPECT_EQ("1", wf_scalar(owner, "SELECT count(*) FROM cert_pdf WHERE cert_id = " + sid));
	EXPECT_EQ("1",
		  wf_scalar(owner, "SELECT count(*) FROM cert_counter WHERE issuer_id = 'TR'"));
	db_close(owner);
}

/* Certificate numbers are unique only through the counter (certificate's
 * unique keys hold asset_id, the distribution column): a counter moved back
 * would hand out an issued number again, to another asset. */
TEST(CertWorkflow, CounterNeverMovesBackOrDisappears)
{
	std::string ci = wf_db();
	struct db *owner = pgtest_connect(ci);
	const char *iss = wf_issuer(owner, "CN");
	struct db *app = pgtest_connect(pgtest_as_role(ci, "meterlab_app"));
	struct ml_error err = ML_ERROR_INIT;
	long long a = wf_draft(app, 37, wf_barcode(37), true, iss);
	ASSERT_EQ(ML_OK, cert_check(app, &a, 1, "李四", &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(app, { a }, "王五", &err)) << err.msg;
	for (struct db *db : { app, owner }) {
		for (const char *sql :
		     { "UPDATE cert_counter SET last_serial = last_serial - 1 WHERE issuer_id = 'CN'",
		       "UPDATE cert_counter SET year = year + 1 WHERE issuer_id = 'CN'",
		       "DELETE FROM cert_counter WHERE issuer_id = 'CN'" }) {
			ml_error_clear(&err);
			EXPECT_NE(ML_OK, db_cmd(db, sql, 0, nullptr, &err))
				<< (db == app ? "app: " : "owner: ") << sql;
		}
	}
	EXPECT_EQ("1",
		  wf_scalar(owner, "SELECT last_serial FROM cert_counter WHERE issuer_id = 'CN'"));
	long long b = wf_draft(app, 38, wf_barcode(38), true, iss);
	ASSERT_EQ(ML_OK, cert_check(app, &b, 1, "李四", &err)) << err.msg;
	ASSERT_EQ(ML_OK, wf_approve(app, { b }, "王五", &err)) << err.msg;
	EXPECT_EQ("CN2026-000002", wf_scalar(owner, "SELECT cert_no FROM certificate WHERE id = " +
							    std::to_string(b)));
	db_close(app);
	db_close(owner);
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
	struct db *db = pgtest_connect(wf_db());
	const char *iss = wf_issuer(db, "SB");
	struct ml_error err = ML_ERROR_INIT;
	long long id = wf_draft(db, 41, wf_barcode(41), true, iss);
	ASSERT_EQ(ML_OK, cert_check(db, &id, 1, "李四", &err));
	ASSERT_EQ(ML_OK, wf_approve(db, { id }, "王五", &err)) << err.msg;
	std::string sha;
	std::string pdf = stored_pdf(db, id, &sha);
	ASSERT_GT(pdf.size(), 1000u);
	EXPECT_EQ(0, pdf.compare(0, 5, "%PDF-"));
	char hex[65];
	cert_sha256_hex(pdf.data(), pdf.size(), hex);
	EXPECT_EQ(sha, hex);
	EXPECT_EQ(sha,
		  wf_scalar(db, "SELECT encode(sha256(pdf), 'hex') FROM cert_pdf WHERE cert_id = " +
					std::to_string(id)));
	EXPECT_EQ(pdf, stored_pdf(db, id)) << "the same bytes every time";

	/* Rendering the same content with the same issue date again gives the same bytes. */
	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(db, id, &r, &err));
	struct cert_verify_result v = verify(db, pdf);
	EXPECT_EQ(CERT_VERIFY_CURRENT, v.status);
	EXPECT_EQ(id, v.match.id);
	EXPECT_STREQ(r.cert_no, v.match.cert_no);

	std::string forged = pdf;
	forged[forged.size() / 2] ^= 0x01;
	v = verify(db, forged);
	/* The renderer titles the document with its number: a tampered copy is recognised as a forgery of it. */
	EXPECT_EQ(CERT_VERIFY_FORGED, v.status)
		<< "claims a known number but is not the issued file";
	EXPECT_EQ(1, v.has_claim);
	EXPECT_STREQ(r.cert_no, v.claim.cert_no);
	EXPECT_EQ(id, v.match.id);
	/* The claim comes from the Info /Keywords (the QR payload): revision, barcode and code, not just the number. */
	EXPECT_EQ(0, v.claim.revision);
	EXPECT_STREQ(r.barcode, v.claim.barcode);
	EXPECT_STREQ(r.verify_code, v.claim.code);
	/* Even with the /Title edited away, the Keywords name the forged certificate. */
	size_t t = forged.find("/Title (");
	ASSERT_NE(std::string::npos, t);
	forged.replace(t + 8, strlen(r.cert_no), std::string(strlen(r.cert_no), 'X'));
	v = verify(db, forged);
	EXPECT_EQ(CERT_VERIFY_FORGED, v.status);
	EXPECT_STREQ(r.cert_no, v.claim.cert_no);
	EXPECT_EQ(0, v.claim.revision);
	EXPECT_EQ(id, v.match.id);
	/* Keywords naming a revision that was never issued: unknown, the claim still reported. */
	v = verify(db, std::string("%PDF-1.4\n1 0 obj << /Keywords (MLCERT1;NO=") + r.cert_no +
			       ";REV=7;BC=" + r.barcode + ";VC=AAAA-AAAA) >> endobj\n");
	EXPECT_EQ(CERT_VERIFY_UNKNOWN, v.status);
	EXPECT_EQ(1, v.has_claim);
	EXPECT_EQ(7, v.claim.revision);
	EXPECT_EQ(0, v.match.id);
	/* A claimed number that was never issued is simply unknown. */
	v = verify(db, "%PDF-1.4\n1 0 obj << /Title (JL2026-000777) >> endobj\n");
	EXPECT_EQ(CERT_VERIFY_UNKNOWN, v.status);
	EXPECT_EQ(1, v.has_claim);
	EXPECT_STREQ("JL2026-000777", v.claim.cert_no);
	EXPECT_EQ(0, v.match.id);
	v = verify(db, "%PDF-1.4 not a certificate");
	EXPECT_EQ(CERT_VERIFY_UNKNOWN, v.status);
	EXPECT_EQ(0, v.has_claim);
	db_close(db);
}

TEST(CertWorkflow, RevisionSupersedesAndBothStayRetrievable)
{
	struct db *db = pgtest_connect(wf_db());
	const char *iss = wf_issuer(db, "RV");
	struct ml_error err = ML_ERROR_INIT;
	long long id = wf_draft(db, 51, wf_barcode(51), true, iss);
	ASSERT_EQ(ML_OK, cert_check(db, &id, 1, "李四", &err));
	ASSERT_EQ(ML_OK, wf_approve(db, { id }, "王五", &err)) << err.msg;
	std::string old_pdf = stored_pdf(db, id);

	long long draft = wf_draft(db, 52, wf_barcode(52), true, iss);
	long long rev = 0;
	struct cert_override ov[] = { { "client", "示范市供电公司营销部（更正）" } };
	EXPECT_EQ(ML_ESTATE, cert_revise(db, draft, "typo", "赵六", ov, 1, &rev, &err))
		<< "drafts are not revised";
	struct cert_override bad[] = { { "conclusion", "合格" } };
	EXPECT_EQ(ML_EINVAL, cert_revise(db, id, "typo", "赵六", bad, 1, &rev, &err));
	EXPECT_EQ(ML_EINVAL, cert_revise(db, id, "", "赵六", ov, 1, &rev, &err));
	ASSERT_EQ(ML_OK, cert_revise(db, id, "送检单位名称有误", "赵六", ov, 1, &rev, &err))
		<< err.msg;
	long long rev2 = 0;
	EXPECT_EQ(ML_ESTATE, cert_revise(db, id, "again", "赵六", ov, 1, &rev2, &err))
		<< "one pending revision";

	/* Until the revision is issued, the original stays current. */
	EXPECT_EQ(CERT_VERIFY_CURRENT, verify(db, old_pdf).status);
	EXPECT_EQ(ML_ESTATE, cert_check(db, &rev, 1, "赵六", &err))
		<< "the reviser is the revision's verifier";
	ASSERT_EQ(ML_OK, cert_check(db, &rev, 1, "李四", &err));
	ASSERT_EQ(ML_OK, wf_approve(db, { rev }, "王五", &err, "2026-11-27")) << err.msg;

	struct cert_record o, n;
	ASSERT_EQ(ML_OK, cert_get(db, id, &o, &err));
	ASSERT_EQ(ML_OK, cert_get(db, rev, &n, &err));
	EXPECT_EQ(rev, o.superseded_by);
	EXPECT_STREQ("issued", o.state) << "the old row itself is not altered";
	EXPECT_EQ(0, n.superseded_by);
	EXPECT_STREQ(o.cert_no, n.cert_no) << "a revision keeps the number";
	EXPECT_EQ(1, n.revision);
	EXPECT_EQ(id, n.revises_id);
	EXPECT_STREQ("送检单位名称有误", n.revise_reason);
	EXPECT_STRNE(o.verify_code, n.verify_code);
	EXPECT_EQ("1",
		  wf_scalar(db, "SELECT max(last_serial) FROM cert_counter WHERE issuer_id = 'RV'"))
		<< "no new number used";

	std::string new_pdf = stored_pdf(db, rev);
	EXPECT_EQ(old_pdf, stored_pdf(db, id))
		<< "the superseded PDF is still retrievable, unchanged";
	EXPECT_NE(old_pdf, new_pdf);
	struct cert_verify_result v = verify(db, old_pdf);
	EXPECT_EQ(CERT_VERIFY_SUPERSEDED, v.status);
	EXPECT_EQ(rev, v.current.id);
	EXPECT_EQ(1, v.current.revision);
	v = verify(db, new_pdf);
	EXPECT_EQ(CERT_VERIFY_CURRENT, v.status);
	EXPECT_EQ(rev, v.match.id);

	/* A paper original prints no revision: number + its code (no /REV) is
	 * genuine but superseded, not forged; the revision's code is current. */
	struct cert_claim cl = {};
	auto set_code = [&cl](const char *c) {
		ASSERT_LT(strlen(c), sizeof cl.code);
		memcpy(cl.code, c, strlen(c) + 1);
	};
	snprintf(cl.cert_no, sizeof cl.cert_no, "%s", o.cert_no);
	cl.revision = -1;
	set_code(o.verify_code);
	ASSERT_EQ(ML_OK, cert_verify_claim(db, &cl, &v, &err)) << err.msg;
	EXPECT_EQ(CERT_VERIFY_SUPERSEDED, v.status) << cert_verify_status_name(v.status);
	EXPECT_EQ(id, v.match.id);
	EXPECT_EQ(rev, v.current.id);
	set_code(n.verify_code);
	ASSERT_EQ(ML_OK, cert_verify_claim(db, &cl, &v, &err)) << err.msg;
	EXPECT_EQ(CERT_VERIFY_CURRENT, v.status) << cert_verify_status_name(v.status);
	EXPECT_EQ(rev, v.match.id);
	cl.revision = 1; /* an explicit revision takes only that revision's code */
	set_code(o.verify_code);
	ASSERT_EQ(ML_OK, cert_verify_claim(db, &cl, &v, &err)) << err.msg;
	EXPECT_EQ(CERT_VERIFY_FORGED, v.status) << cert_verify_status_name(v.status);
	cl.revision = -1;
	set_code("0000-0000");
	ASSERT_EQ(ML_OK, cert_verify_claim(db, &cl, &v, &err)) << err.msg;
	EXPECT_EQ(CERT_VERIFY_FORGED, v.status) << cert_verify_status_name(v.status);

	/* Lookups by number: the current revision, or an explicit one. */
	struct cert_record f;
	ASSERT_EQ(ML_OK, cert_find(db, o.cert_no, &f, &err));
	EXPECT_EQ(rev, f.id);
	ASSERT_EQ(ML_OK, cert_find(db, (std::string(o.cert_no) + "/0").c_str(), &f, &err));
	EXPECT_EQ(id, f.id);
	EXPECT_EQ(ML_ENOTFOUND, cert_find(db, "RV2026-999999", &f, &err));
	/* The superseded one cannot be revised again; the content change shows up in the new draft's content. */
	EXPECT_EQ(ML_ESTATE, cert_revise(db, id, "again", "赵六", ov, 1, &rev2, &err));
	struct cert_content *c = nullptr;
	ASSERT_EQ(ML_OK, cert_content_load(db, rev, &c, &err));
	EXPECT_STREQ("示范市供电公司营销部（更正）", cert_content_doc(c)->client);
	EXPECT_STREQ("赵六", cert_content_doc(c)->verifier);
	cert_content_free(c);

	struct cert_filter flt = {};
	flt.state = "superseded";
	flt.asset_id = 51;
	struct cert_record *list = nullptr;
	size_t nl = 0;
	ASSERT_EQ(ML_OK, cert_list(db, &flt, &list, &nl, &err));
	ASSERT_EQ(1u, nl);
	EXPECT_EQ(id, list[0].id);
	free(list);
	flt.state = "bogus";
	EXPECT_EQ(ML_EINVAL, cert_list(db, &flt, &list, &nl, &err));
	db_close(db);
}

TEST(CertWorkflow, WithdrawalKeepsTheRecordAndVerifiesAsWithdrawn)
{
	struct db *db = pgtest_connect(wf_db());
	struct ml_error err = ML_ERROR_INIT;
	const char *iss = wf_issuer(db, "WD");
	long long id = wf_draft(db, 81, wf_barcode(81), true, iss);
	EXPECT_EQ(ML_ESTATE, cert_withdraw(db, id, "wrong asset", "王五", &err))
		<< "a draft is not withdrawn";
	ASSERT_EQ(ML_OK, cert_check(db, &id, 1, "李四", &err));
	ASSERT_EQ(ML_OK, wf_approve(db, { id }, "王五", &err)) << err.msg;
	std::string pdf = stored_pdf(db, id);
	EXPECT_EQ(ML_EINVAL, cert_withdraw(db, id, "", "王五", &err));
	ASSERT_EQ(ML_OK, cert_withdraw(db, id, "issued for the wrong asset", "王五", &err))
		<< err.msg;
	EXPECT_EQ(ML_ESTATE, cert_withdraw(db, id, "again", "王五", &err));
	EXPECT_NE(nullptr, strstr(err.msg, "already withdrawn")) << err.msg;

	struct cert_record r;
	ASSERT_EQ(ML_OK, cert_get(db, id, &r, &err));
	EXPECT_EQ(1, r.withdrawn);
	EXPECT_STREQ("issued", r.state) << "the issued row itself is not altered";
	EXPECT_STREQ("王五", r.withdrawn_by);
	EXPECT_STREQ("issued for the wrong asset", r.withdraw_reason);
	EXPECT_EQ(pdf, stored_pdf(db, id)) << "the PDF stays stored";
	struct cert_verify_result v = verify(db, pdf);
	EXPECT_EQ(CERT_VERIFY_WITHDRAWN, v.status);
	EXPECT_STREQ("withdrawn", cert_verify_status_name(v.status));

	struct cert_override ov[] = { { "client", "x" } };
	long long rev = 0;
	EXPECT_EQ(ML_ESTATE, cert_revise(db, id, "fix", "赵六", ov, 1, &rev, &err))
		<< "withdrawn: no revision";

	struct cert_filter f = {};
	f.asset_id = 81;
	f.state = "current";
	struct cert_record *list = nullptr;
	size_t n = 0;
	ASSERT_EQ(ML_OK, cert_list(db, &f, &list, &n, &err));
	EXPECT_EQ(0u, n) << "a withdrawn certificate is not current";
	free(list);
	f.state = "withdrawn";
	ASSERT_EQ(ML_OK, cert_list(db, &f, &list, &n, &err));
	EXPECT_EQ(1u, n);
	free(list);

	/* The record is append-only and guarded in the database too. */
	std::string s = "DELETE FROM cert_withdrawal WHERE cert_id = " + std::to_string(id);
	EXPECT_NE(ML_OK, db_cmd(db, s.c_str(), 0, nullptr, &err));
	long long d2 = wf_draft(db, 82, wf_barcode(82), true, iss);
	s = "INSERT INTO cert_withdrawal (asset_id, cert_id, reason, withdrawn_by) VALUES (82, " +
	    std::to_string(d2) + ", 'x', 'y')";
	EXPECT_EQ(ML_EINVAL, db_cmd(db, s.c_str(), 0, nullptr, &err))
		<< "drafts cannot be withdrawn";
	db_close(db);
}

TEST(CertWorkflow, DiscardedDraftIsLoggedAndUnblocksTheNextRevision)
{
	struct db *db = pgtest_connect(wf_db());
	struct db *app = pgtest_connect(pgtest_as_role(wf_db(), "meterlab_app"));
	struct ml_error err = ML_ERROR_INIT;
	const char *iss = wf_issuer(db, "DC");
	long long id = wf_draft(app, 95, wf_barcode(95), true, iss);
	ASSERT_EQ(ML_OK, cert_check(app, &id, 1, "李四", &err));
	ASSERT_EQ(ML_OK, wf_approve(app, { id }, "王五", &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, cert_discard(app, id, "no", "王五", &err))
		<< "issued: never discarded";
	struct cert_override ov[] = { { "client", "x" } };
	long long rev = 0, rev2 = 0;
	ASSERT_EQ(ML_OK, cert_revise(app, id, "fix", "赵六", ov, 1, &rev, &err)) << err.msg;
	EXPECT_EQ(ML_ESTATE, cert_revise(app, id, "fix again", "赵六", ov, 1, &rev2, &err))
		<< "one pending revision";
	EXPECT_EQ(ML_EINVAL, cert_discard(app, rev, "", "赵六", &err));
	ASSERT_EQ(ML_OK, cert_discard(app, rev, "wrong correction", "赵六", &err)) << err.msg;
	struct cert_record r;
	EXPECT_EQ(ML_ENOTFOUND, cert_get(app, rev, &r, &err));
	EXPECT_EQ("wrong correction",
		  wf_scalar(app, "SELECT reason FROM cert_discard_log WHERE cert_id = " +
					 std::to_string(rev)));
	ASSERT_EQ(ML_OK, cert_revise(app, id, "fix again", "赵六", ov, 1, &rev2, &err)) << err.msg;
	EXPECT_NE(ML_OK,
		  db_cmd(app,
			 ("DELETE FROM cert_discard_log WHERE cert_id = " + std::to_string(rev))
				 .c_str(),
			 0, nullptr, &err));
	EXPECT_NE(ML_OK,
		  db_cmd(app, ("DELETE FROM certificate WHERE id = " + std::to_string(id)).c_str(),
			 0, nullptr, &err))
		<< "issued rows cannot be deleted";
	db_close(app);
	db_close(db);
}
