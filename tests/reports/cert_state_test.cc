/* A certificate's state: the enum and its one table of changes agree with
 * the database that alone performs them (reports/cert_state.h, issue 9). */
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "../support/pgtest.h"
#include "reports/cert_state.h"
#include "workflow_support.h"

namespace
{

TEST(CertState, NamesParseAndTheTableIsTheWorkflow)
{
	for (int i = 0; i < CERT_STATE_COUNT; i++) {
		enum cert_state s;
		ASSERT_EQ(ML_OK,
			  cert_state_parse(cert_state_name((enum cert_state)i), &s, nullptr));
		EXPECT_EQ(i, (int)s);
	}
	struct ml_error err = ML_ERROR_INIT;
	enum cert_state s;
	EXPECT_EQ(ML_EINVAL, cert_state_parse("superseded", &s, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "'superseded'")) << err.msg;
	EXPECT_EQ(nullptr, cert_state_name(CERT_STATE_COUNT));
	/* exactly draft -> checked -> issued; nothing goes back or skips a signature */
	for (int f = 0; f < CERT_STATE_COUNT; f++)
		for (int t = 0; t < CERT_STATE_COUNT; t++)
			EXPECT_EQ(t == f + 1,
				  cert_state_can((enum cert_state)f, (enum cert_state)t))
				<< f << " -> " << t;
	/* an illegal change is refused before the database is asked */
	long long id = 1;
	EXPECT_EQ(ML_ESTATE, cert_state_change(nullptr, &id, 1, CERT_DRAFT, CERT_ISSUED, 1, &err));
	EXPECT_NE(nullptr, strstr(err.msg, "from draft to issued")) << err.msg;
	EXPECT_EQ(ML_ESTATE, cert_state_change(nullptr, &id, 1, CERT_ISSUED, CERT_DRAFT, 1, &err));
}

/* The database's list of states is the enum's, and each change of the table
 * is made by the named SECURITY DEFINER function, which checks the named
 * permission. */
TEST(CertState, TheDatabaseHasTheSameStatesAndChanges)
{
	struct db *db = pgtest_connect(wf_db());
	std::string def = wf_scalar(
		db, "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.conrelid = "
		    "'certificate'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) "
		    "LIKE '%(state = ANY%'");
	std::set<std::string> in_db, in_c;
	for (size_t p = def.find('\''); p != std::string::npos; p = def.find('\'', p + 1)) {
		size_t e = def.find('\'', p + 1);
		ASSERT_NE(std::string::npos, e) << def;
		in_db.insert(def.substr(p + 1, e - p - 1));
		p = e;
	}
	for (int i = 0; i < CERT_STATE_COUNT; i++)
		in_c.insert(cert_state_name((enum cert_state)i));
	EXPECT_EQ(in_c, in_db) << def;
	for (size_t i = 0; i < cert_state_nrules; i++) {
		const struct cert_state_rule &c = cert_state_rules[i];
		std::string q = std::string("SELECT count(*) FROM pg_proc WHERE proname = '") +
				c.function + "' AND prosecdef AND prosrc LIKE '%ml_require(''" +
				c.perm + "'')%'";
		EXPECT_EQ("1", wf_scalar(db, q)) << c.function << " " << c.perm;
	}
	db_close(db);
}

} // namespace
