/*
 * http_client.h — a small HTTP/1.1 client over raw sockets for the server
 * tests: requests byte for byte as written (malformed ones too), responses
 * parsed with Content-Length, chunked encoding or close; a source address
 * of choice (127.0.0.x) so throttling per address can be tried.
 */
#ifndef ML_TEST_HTTP_CLIENT_H
#define ML_TEST_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

struct http_resp {
	int status = 0;                             /* 0: no (complete) answer */
	std::map<std::string, std::string> headers; /* names lower-case; repeated: joined by \n */
	std::string body;
	json_t *json = nullptr;

	http_resp() = default;
	http_resp(const http_resp &) = delete;
	http_resp &operator=(const http_resp &) = delete;
	http_resp(http_resp &&o) noexcept
	    : status(o.status), headers(std::move(o.headers)), body(std::move(o.body)), json(o.json)
	{
		o.json = nullptr;
	}
	http_resp &operator=(http_resp &&o) noexcept
	{
		std::swap(status, o.status);
		std::swap(headers, o.headers);
		std::swap(body, o.body);
		std::swap(json, o.json);
		return *this;
	}
	~http_resp()
	{
		json_decref(json);
	}
	std::string header(const std::string &name) const
	{
		auto it = headers.find(name);
		return it == headers.end() ? "" : it->second;
	}
	/* String member of the JSON body (dotted path "error.code"), "" when absent. */
	std::string str(const char *path) const
	{
		json_t *v = at(path);
		return v && json_is_string(v) ? json_string_value(v) : "";
	}
	long long num(const char *path) const
	{
		json_t *v = at(path);
		return v && json_is_integer(v) ? json_integer_value(v) : -1;
	}
	json_t *at(const char *path) const
	{
		json_t *v = json;
		std::string p(path);
		size_t s = 0;
		while (v && s <= p.size()) {
			size_t e = p.find('.', s);
			std::string k = p.substr(s, e == std::string::npos ? std::string::npos
									   : e - s);
			v = json_object_get(v, k.c_str());
			if (e == std::string::npos)
				break;
			s = e + 1;
		}
		return v;
	}
	std::string dump() const
	{
		return std::to_string(status) + " " + body.substr(0, 600);
	}
};

/* Connect to 127.0.0.1:port from src (e.g. "127.0.0.2"; nullptr = any). -1 on failure. */
inline int http_connect(unsigned port, const char *src = nullptr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src) {
		struct sockaddr_in a = {};
		a.sin_family = AF_INET;
		inet_pton(AF_INET, src, &a.sin_addr);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
			close(fd);
			return -1;
		}
	}
	struct sockaddr_in a = {};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

inline bool http_send_all(int fd, const std::string &s)
{
	size_t off = 0;
	while (off < s.size()) {
		ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		off += (size_t)n;
	}
	return true;
}

/* Read one response from fd (timeout_ms overall). Stops after the headers of an event stream. */
inline http_resp http_read(int fd, int timeout_ms = 10000)
{
	http_resp r;
	std::string buf;
	auto t0 = std::chrono::steady_clock::now();
	size_t hdr_end = std::string::npos;
	long long clen = -1;
	bool chunked = false, stream = false;
	for (;;) {
		if (hdr_end == std::string::npos) {
			hdr_end = buf.find("\r\n\r\n");
			if (hdr_end != std::string::npos) {
				std::string head = buf.substr(0, hdr_end);
				size_t sp = head.find(' ');
				r.status = sp == std::string::npos ? 0
								   : atoi(head.c_str() + sp + 1);
				size_t pos = head.find("\r\n");
				while (pos != std::string::npos) {
					size_t next = head.find("\r\n", pos + 2);
					std::string line = head.substr(pos + 2,
								       next == std::string::npos
									       ? std::string::npos
									       : next - pos - 2);
					size_t c = line.find(':');
					if (c != std::string::npos) {
						std::string k = line.substr(0, c),
							    v = line.substr(c + 1);
						std::transform(k.begin(), k.end(), k.begin(),
							       ::tolower);
						while (!v.empty() && v[0] == ' ')
							v.erase(0, 1);
						if (r.headers.count(k))
							r.headers[k] += "\n" + v;
						else
							r.headers[k] = v;
					}
					pos = next;
				}
				if (r.headers.count("content-length"))
					clen = atoll(r.headers["content-length"].c_str());
				chunked = r.header("transfer-encoding").find("chunked") !=
					  std::string::npos;
				stream = r.header("content-type").find("text/event-stream") !=
					 std::string::npos;
				buf.erase(0, hdr_end + 4);
				if (stream) {
					r.body = buf;
					return r;
				}
			}
		}
		if (hdr_end != std::string::npos) {
			if (clen >= 0 && (long long)buf.size() >= clen) {
				r.body = buf.substr(0, (size_t)clen);
				break;
			}
			if (chunked) {
				/* Complete when the zero chunk has arrived. */
				std::string out;
				size_t p = 0;
				bool done = false;
				for (;;) {
					size_t e = buf.find("\r\n", p);
					if (e == std::string::npos)
						break;
					long n = strtol(buf.c_str() + p, nullptr, 16);
					if (n == 0) {
						done = true;
						break;
					}
					if (buf.size() < e + 2 + (size_t)n + 2)
						break;
					out += buf.substr(e + 2, (size_t)n);
					p = e + 2 + (size_t)n + 2;
				}
				if (done) {
					r.body = out;
					break;
				}
			}
		}
		int left = timeout_ms - (int)std::chrono::duration_cast<std::chrono::milliseconds>(
						std::chrono::steady_clock::now() - t0)
						.count();
		struct pollfd pf = { fd, POLLIN, 0 };
		if (left <= 0 || poll(&pf, 1, left) <= 0) {
			r.status = 0;
			return r;
		}
		char tmp[16384];
		ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
		if (n <= 0) {
			if (hdr_end != std::string::npos && clen < 0 && !chunked) {
				r.body = buf; /* delimited by close */
				break;
			}
			r.status = 0;
			return r;
		}
		buf.append(tmp, (size_t)n);
	}
	json_error_t je;
	if (!r.body.empty() && r.header("content-type").find("json") != std::string::npos)
		r.json = json_loadb(r.body.data(), r.body.size(), 0, &je);
	return r;
}

/* Send raw bytes on a new connection and read the answer. */
inline http_resp http_raw(unsigned port, const std::string &bytes, const char *src = nullptr,
			  int timeout_ms = 10000)
{
	int fd = http_connect(port, src);
	if (fd < 0)
		return http_resp();
	http_resp r;
	if (http_send_all(fd, bytes))
		r = http_read(fd, timeout_ms);
	close(fd);
	return r;
}

/* A request with headers (each "Name: value") and an optional JSON body. */
inline std::string http_build(const std::string &method, const std::string &path,
			      const std::vector<std::string> &headers = {},
			      const std::string *body = nullptr)
{
	std::string s = method + " " + path +
			" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
	bool ct = false;
	for (const auto &h : headers) {
		s += h + "\r\n";
		if (strncasecmp(h.c_str(), "content-type:", 13) == 0)
			ct = true;
	}
	if (body) {
		if (!ct)
			s += "Content-Type: application/json\r\n";
		s += "Content-Length: " + std::to_string(body->size()) + "\r\n\r\n" + *body;
	} else {
		s += "\r\n";
	}
	return s;
}

inline http_resp http_do(unsigned port, const std::string &method, const std::string &path,
			 const std::vector<std::string> &headers = {},
			 const std::string *body = nullptr, const char *src = nullptr)
{
	return http_raw(port, http_build(method, path, headers, body), src);
}

#endif
