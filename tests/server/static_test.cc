/*
 * The web pages' files (server/static.c) as a client sees them: GET and
 * HEAD only, the fixed MIME types, ETag with 304 and Cache-Control, the
 * page's Content-Security-Policy, and every way out of the web root
 * refused: "..", encoded "..", hidden files, backslashes, NULs, a symlink
 * to a file outside, a symlink to a directory outside; the API's own 404
 * for /api/ paths stays.
 */
#include <gtest/gtest.h>

#include <fstream>

#include "server/srv.h"
#include "server_fixture.h"

namespace
{

void write(const std::string &path, const std::string &text)
{
	std::ofstream f(path);
	f << text;
}

class Static : public ::testing::Test
{
      protected:
	static void SetUpTestSuite()
	{
		char tmpl[] = "/tmp/mlt-web-XXXXXX";
		top_ = new std::string(mkdtemp(tmpl));
		std::string web = *top_ + "/web", out = *top_ + "/outside";
		mkdir(web.c_str(), 0755);
		mkdir(out.c_str(), 0755);
		mkdir((web + "/lab").c_str(), 0755);
		mkdir((web + "/empty").c_str(), 0755);
		write(web + "/index.html", "<!doctype html><title>首页</title>");
		write(web + "/lab/board.html", "<p>board</p>");
		write(web + "/app.js", "export const x = 1;\n");
		write(web + "/app.css", "body{}\n");
		write(web + "/m.webmanifest", "{}\n");
		write(web + "/run.sh", "#!/bin/sh\n");
		write(web + "/.secret.html", "hidden");
		write(out + "/passwd.html", "outside the web root");
		write(out + "/x.js", "outside");
		EXPECT_EQ(0, symlink((out + "/passwd.html").c_str(), (web + "/leak.html").c_str()));
		EXPECT_EQ(0, symlink(out.c_str(), (web + "/escape").c_str()));
		EXPECT_EQ(0, symlink((web + "/app.js").c_str(), (web + "/alias.js").c_str()));
		ci_ = new std::string(pgtest_fresh_db("static"));
		srv_ = new test_server();
		std::string why;
		if (!srv_->start(pgtest_as_role(*ci_, "meterlab_service"), { "--web", web },
				 &why)) {
			fprintf(stderr, "%s\n", why.c_str());
			abort();
		}
	}
	static void TearDownTestSuite()
	{
		delete srv_;
		delete ci_;
		std::string out;
		pgtest_run("rm -rf " + pgtest_sq(*top_), &out);
		delete top_;
	}
	static http_resp get(const std::string &path, std::vector<std::string> h = {})
	{
		return http_do(srv_->port, "GET", path, h);
	}
	static std::string *top_, *ci_;
	static test_server *srv_;
};
std::string *Static::top_ = nullptr;
std::string *Static::ci_ = nullptr;
test_server *Static::srv_ = nullptr;

TEST_F(Static, FilesHaveFixedTypesETagsAndRevalidate)
{
	http_resp r = get("/index.html");
	ASSERT_EQ(200, r.status) << r.dump();
	EXPECT_EQ("text/html; charset=utf-8", r.header("content-type"));
	EXPECT_EQ("<!doctype html><title>首页</title>", r.body);
	EXPECT_EQ("no-cache", r.header("cache-control"));
	EXPECT_EQ("nosniff", r.header("x-content-type-options"));
	EXPECT_NE(std::string::npos,
		  r.header("content-security-policy").find("default-src 'self'"));
	std::string etag = r.header("etag");
	ASSERT_EQ('"', etag[0]) << etag;
	/* "/" and "/dir/" are the index */
	EXPECT_EQ(r.body, get("/").body);
	EXPECT_EQ(404, get("/lab/").status); /* no index there */
	EXPECT_EQ(200, get("/lab/board.html").status);
	EXPECT_EQ("text/javascript; charset=utf-8", get("/app.js").header("content-type"));
	EXPECT_EQ("text/css; charset=utf-8", get("/app.css").header("content-type"));
	EXPECT_EQ("application/manifest+json; charset=utf-8",
		  get("/m.webmanifest").header("content-type"));
	EXPECT_EQ("", get("/app.js").header("content-security-policy"));
	/* revalidation: the same ETag is a 304 without the body */
	http_resp nm = get("/index.html", { "If-None-Match: " + etag });
	EXPECT_EQ(304, nm.status) << nm.dump();
	EXPECT_EQ("", nm.body);
	EXPECT_EQ(etag, nm.header("etag"));
	EXPECT_EQ(200, get("/index.html", { "If-None-Match: \"other\"" }).status);
	/* a changed file has another ETag */
	write(*top_ + "/web/index.html", "<!doctype html><title>新首页</title>");
	http_resp changed = get("/index.html", { "If-None-Match: " + etag });
	EXPECT_EQ(200, changed.status);
	EXPECT_NE(etag, changed.header("etag"));
	/* HEAD: the headers, no body */
	{
		int fd = http_connect(srv_->port);
		ASSERT_LE(0, fd);
		ASSERT_TRUE(http_send_all(fd, http_build("HEAD", "/app.css")));
		std::string all;
		char buf[4096];
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			all.append(buf, (size_t)n);
		close(fd);
		EXPECT_EQ(0u, all.find("HTTP/1.1 200")) << all;
		EXPECT_NE(std::string::npos, all.find("Content-Length: 7")) << all;
		EXPECT_EQ(all.size() - 4, all.find("\r\n\r\n"))
			<< all; /* nothing after the headers */
	}
	/* a symlink that stays inside the web root is served */
	EXPECT_EQ("export const x = 1;\n", get("/alias.js").body);
}

TEST_F(Static, OnlyGetAndOnlyWhatIsInsideTheWebRoot)
{
	const char *refused[] = {
		"/../outside/passwd.html",
		"/lab/../../outside/passwd.html",
		"/%2e%2e/outside/passwd.html",
		"/%2E%2E%2Foutside%2Fpasswd.html",
		"/lab/%2e%2e/index.html",
		"/./index.html",
		"/.secret.html",
		"/%2esecret.html",
		"//index.html",
		"/lab//board.html",
		"/lab\\board.html",
		"/lab%5cboard.html",
		"/index.html%00.js",
		"/index.html%0a",
		"/index%zz.html",
		"/leak.html",   /* symlink to a file outside */
		"/escape/x.js", /* symlink to a directory outside */
		"/run.sh",      /* a type not served */
		"/lab",         /* a directory */
		"/empty/",      /* a directory without an index */
		"/no-such-page.html",
	};
	for (const char *p : refused) {
		http_resp r = get(p);
		EXPECT_EQ(404, r.status) << p << "\n" << r.dump();
		EXPECT_EQ(std::string::npos, r.body.find("outside the web root")) << p;
		EXPECT_EQ(std::string::npos, r.body.find("hidden")) << p;
	}
	/* changes are not served: a POST to a page is no route */
	std::string body = "{}";
	EXPECT_EQ(404, http_do(srv_->port, "POST", "/index.html", {}, &body).status);
	EXPECT_EQ(404, http_do(srv_->port, "PUT", "/index.html", {}, &body).status);
	/* the API keeps its own answers */
	http_resp api = get("/api/nothing-here");
	EXPECT_EQ(404, api.status);
	EXPECT_EQ("unknown_route", api.str("error.code"));
	EXPECT_EQ(200, get("/healthz").status);
}

TEST(StaticPath, CleanPathDecodesAndRefuses)
{
	char out[64];
	ASSERT_EQ(0, static_clean_path("/", out, sizeof(out)));
	EXPECT_STREQ("/index.html", out);
	ASSERT_EQ(0, static_clean_path("/field/", out, sizeof(out)));
	EXPECT_STREQ("/field/index.html", out);
	ASSERT_EQ(0, static_clean_path("/%E8%AF%81.html", out, sizeof(out)));
	EXPECT_STREQ("/证.html", out);
	for (const char *bad : { "", "x", "/..", "/a/..", "/a/../b", "/.", "/.x", "/a//b", "/%",
				 "/%4", "/%00", "/a\\b", "/%2e%2e", "/\x01" })
		EXPECT_EQ(-1, static_clean_path(bad, out, sizeof(out))) << bad;
	EXPECT_EQ(-1,
		  static_clean_path(
			  "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			  out, sizeof(out)));
	EXPECT_STREQ("text/javascript; charset=utf-8", static_mime("/a/b.js"));
	EXPECT_EQ(nullptr, static_mime("/a.sh"));
	EXPECT_EQ(nullptr, static_mime("/a.b/c"));
	EXPECT_EQ(nullptr, static_mime("/README"));
}

} // namespace
