/*
 * The route table (server/routes.c) against the running server: every
 * route × every role, allowed and refused as the one role → permission
 * table says; every route documented in /api/openapi.json and every
 * documented operation routed. A route added to the table joins both tests
 * through its probe request, without a line here.
 */
#include <gtest/gtest.h>

#include <set>

#include "server/srv.h"
#include "server_fixture.h"

namespace
{

class Matrix : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		ci_ = new std::string(pgtest_fresh_db("matrix"));
		srv_ = new test_server();
		std::string why;
		if (!srv_->start(pgtest_as_role(ci(), "meterlab_service"),
				 { "--threads", "2", "--pwhash-ops", "1", "--pwhash-mem", "8192",
				   "--verify-per-minute", "1000" },
				 &why)) {
			fprintf(stderr, "%s\n", why.c_str());
			abort();
		}
	}
	static void TearDownTestSuite()
	{
		delete srv_;
		delete ci_;
	}
	static std::string &ci()
	{
		return *ci_;
	}
	static std::string *ci_;
	static test_server *srv_;
};
std::string *Matrix::ci_ = nullptr;
test_server *Matrix::srv_ = nullptr;

/* The test cast (tests/support/pgtest.cc): one person per role. */
const char *const cast[][2] = {
	{ "mlt_admin", "admin" },
	{ "mlt_clerk", "warehouse_clerk" },
	{ "mlt_tech", "lab_technician" },
	{ "mlt_checker", "checker" },
	{ "mlt_approver", "approver" },
	{ "mlt_field", "field_member" },
	{ "mlt_analyst", "quality_analyst" },
	{ "mlt_manager", "manager" },
	{ "mlt_auditor", "auditor" },
};

std::string subst_role(const char *body, const char *role)
{
	std::string b = body;
	size_t p = b.find("{role}");
	if (p != std::string::npos)
		b.replace(p, 6, role);
	return b;
}

/* Send route r's probe with headers; returns the answer. */
http_resp probe(unsigned port, const struct route &r, const std::vector<std::string> &h,
		const char *role)
{
	std::string body = r.probe_body ? subst_role(r.probe_body, role) : "";
	return http_do(port, r.method, r.probe_path, h, r.probe_body ? &body : nullptr);
}

TEST_F(Matrix, EveryRouteHasAProbeThatTheRouterSendsToIt)
{
	for (size_t i = 0; i < srv_nroutes; i++) {
		const struct route &r = srv_routes[i];
		ASSERT_NE(nullptr, r.probe_path) << r.pattern << " has no probe request";
		std::string path = r.probe_path;
		path = path.substr(0, path.find('?'));
		char allow[64];
		EXPECT_EQ((int)i, router_match(r.method, path.c_str(), allow))
			<< r.method << " " << r.probe_path << " is not routed to " << r.pattern;
		EXPECT_EQ(!strcmp(r.method, "POST"), r.probe_body != nullptr) << r.pattern;
	}
}

TEST_F(Matrix, EveryRouteTimesEveryRoleIsAllowedOrRefusedByThePermissionTable)
{
	unsigned port = srv_->port;
	int refused = 0, allowed = 0;
	for (size_t i = 0; i < srv_nroutes; i++) {
		const struct route &r = srv_routes[i];
		if (r.auth == AUTH_PUBLIC) {
			/* Open to anyone: never "log in first", never "forbidden". */
			http_resp a = probe(port, r, {}, "checker");
			EXPECT_NE(0, a.status) << r.pattern;
			EXPECT_NE("unauthenticated", a.str("error.code")) << r.pattern << a.dump();
			EXPECT_NE(403, a.status) << r.pattern << a.dump();
			continue;
		}
		/* Without a session: 401 for every protected route. */
		http_resp anon = probe(port, r, {}, "checker");
		EXPECT_EQ(401, anon.status) << r.method << " " << r.pattern << anon.dump();
		EXPECT_EQ("unauthenticated", anon.str("error.code")) << r.pattern;
		for (const auto &c : cast) {
			bool may = !r.perm ||
				   sql_value(ci(),
					     std::string("SELECT count(*) FROM "
							 "app_role_permission WHERE role = '") +
						     c[1] + "' AND perm = '" + r.perm + "'") == "1";
			/* A fresh session per cell: a probe may end it (logout). */
			test_session s = direct_session(ci(), c[0]);
			http_resp a = probe(port, r, s.change(), c[1]);
			ASSERT_NE(0, a.status) << r.pattern << " as " << c[1];
			EXPECT_NE(401, a.status) << r.pattern << " as " << c[1] << a.dump();
			if (may) {
				EXPECT_NE("forbidden", a.str("error.code"))
					<< r.method << " " << r.pattern << " as " << c[1] << ": "
					<< a.dump();
				allowed++;
			} else {
				EXPECT_EQ(403, a.status) << r.method << " " << r.pattern << " as "
							 << c[1] << ": " << a.dump();
				EXPECT_EQ("forbidden", a.str("error.code")) << r.pattern;
				/* The refusal names the permission and who holds it. */
				EXPECT_NE(std::string::npos, a.str("error.message").find(r.perm))
					<< a.dump();
				refused++;
			}
			/* The same with an API token scoped to the role. */
			test_session t = direct_session(ci(), c[0], "api",
							(std::string("{") + c[1] + "}").c_str());
			http_resp b = probe(port, r, { "Authorization: Bearer " + t.token }, c[1]);
			if (r.flags & RF_BROWSER)
				EXPECT_EQ("browser_session_required", b.str("error.code"))
					<< r.pattern << b.dump();
			else if (may)
				EXPECT_NE("forbidden", b.str("error.code"))
					<< r.pattern << " with a " << c[1]
					<< " token: " << b.dump();
			else
				EXPECT_EQ(403, b.status)
					<< r.pattern << " token " << c[1] << b.dump();
		}
	}
	/* The matrix has both kinds (a table where everything is allowed tests nothing). */
	EXPECT_GT(allowed, 0);
	EXPECT_GT(refused, 0);
}

TEST_F(Matrix, ATokenScopedToOneRoleCannotUseThePersonsOtherRoles)
{
	pgtest_user(ci(), "mlt_two", "两角色", "warehouse_clerk,lab_technician");
	test_session clerk_only = direct_session(ci(), "mlt_two", "api", "{warehouse_clerk}");
	test_session both = direct_session(ci(), "mlt_two", "api",
					   "{warehouse_clerk,lab_technician}");
	http_resp a = http_do(srv_->port, "GET", "/api/runs",
			      { "Authorization: Bearer " + clerk_only.token });
	EXPECT_EQ(403, a.status) << a.dump();
	http_resp b = http_do(srv_->port, "GET", "/api/runs",
			      { "Authorization: Bearer " + both.token });
	EXPECT_EQ(200, b.status) << b.dump();
}

TEST_F(Matrix, OpenApiDocumentsEveryRouteAndOnlyRoutes)
{
	http_resp d = http_do(srv_->port, "GET", "/api/openapi.json");
	ASSERT_EQ(200, d.status);
	ASSERT_NE(nullptr, d.json);
	EXPECT_EQ("3.0.3", d.str("openapi"));
	json_t *paths = d.at("paths");
	ASSERT_TRUE(json_is_object(paths));
	std::set<std::string> ops;
	for (size_t i = 0; i < srv_nroutes; i++) {
		const struct route &r = srv_routes[i];
		std::string m = r.method;
		for (auto &ch : m)
			ch = (char)tolower(ch);
		json_t *op = json_object_get(json_object_get(paths, r.pattern), m.c_str());
		ASSERT_TRUE(json_is_object(op)) << r.method << " " << r.pattern << " undocumented";
		ops.insert(m + " " + r.pattern);
		EXPECT_STREQ(r.summary, json_string_value(json_object_get(op, "summary")));
		json_t *xp = json_object_get(op, "x-permission");
		if (r.perm)
			EXPECT_STREQ(r.perm, json_string_value(xp)) << r.pattern;
		else
			EXPECT_TRUE(json_is_null(xp)) << r.pattern;
		char st[8];
		snprintf(st, sizeof(st), "%d", r.ok_status);
		EXPECT_TRUE(json_is_object(json_object_get(json_object_get(op, "responses"), st)))
			<< r.pattern;
		/* Parameters: every {segment} and every query parameter of the table, no other. */
		std::set<std::string> want, got;
		for (const char *s = strchr(r.pattern, '{'); s; s = strchr(s + 1, '{'))
			want.insert(std::string("path:") + std::string(s + 1, strchr(s, '}')));
		for (const struct route_param *q = r.query; q && q->name; q++)
			want.insert(std::string("query:") + q->name);
		size_t k;
		json_t *p;
		json_array_foreach(json_object_get(op, "parameters"), k, p)
		{
			std::string in = json_string_value(json_object_get(p, "in"));
			if (in != "header")
				got.insert(in + ":" +
					   json_string_value(json_object_get(p, "name")));
		}
		EXPECT_EQ(want, got) << r.pattern;
		/* Body fields: exactly the allow-list the server enforces. */
		json_t *props = json_object_get(
			json_object_get(
				json_object_get(json_object_get(json_object_get(op, "requestBody"),
								"content"),
						"application/json"),
				"schema"),
			"properties");
		std::set<std::string> bw, bg;
		for (const struct route_param *b = r.body; b && b->name; b++)
			bw.insert(b->name);
		const char *key;
		json_t *v;
		json_object_foreach(props, key, v)
		{
			bg.insert(key);
		}
		EXPECT_EQ(bw, bg) << r.pattern;
		EXPECT_EQ(r.body != nullptr, json_object_get(op, "requestBody") != nullptr)
			<< r.pattern;
	}
	/* Nothing documented that the table does not route. */
	const char *path;
	json_t *item;
	size_t n = 0;
	json_object_foreach(paths, path, item)
	{
		const char *m;
		json_t *op;
		json_object_foreach(item, m, op)
		{
			EXPECT_TRUE(ops.count(std::string(m) + " " + path))
				<< m << " " << path << " is documented but not routed";
			n++;
		}
	}
	EXPECT_EQ(srv_nroutes, n);
}

} // namespace
