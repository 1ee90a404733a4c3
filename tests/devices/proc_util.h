// Child processes for the devices and CLI tests: spawn with stdout on a
// pipe, read lines with a deadline, stop by PID (never by name).
#ifndef ML_TEST_PROC_UTIL_H
#define ML_TEST_PROC_UTIL_H

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

extern char **environ;

struct Child {
	pid_t pid = -1;
	int out = -1; // child's stdout
	std::string buf;

	bool spawn(const std::vector<std::string> &args)
	{
		int p[2];
		if (pipe2(p, O_CLOEXEC))
			return false;
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[1], 1);
		std::vector<char *> av;
		for (auto &a : args)
			av.push_back(const_cast<char *>(a.c_str()));
		av.push_back(nullptr);
		int rc = posix_spawn(&pid, av[0], &fa, nullptr, av.data(), environ);
		posix_spawn_file_actions_destroy(&fa);
		close(p[1]);
		out = p[0];
		if (rc)
			pid = -1;
		return rc == 0;
	}
	// Next line of stdout, or "" after timeout_ms / EOF.
	std::string line(int timeout_ms)
	{
		auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
		for (;;) {
			size_t nl = buf.find('\n');
			if (nl != std::string::npos) {
				std::string l = buf.substr(0, nl);
				buf.erase(0, nl + 1);
				return l;
			}
			int left = (int)std::chrono::duration_cast<std::chrono::milliseconds>(
					   end - std::chrono::steady_clock::now())
					   .count();
			struct pollfd pf = { out, POLLIN, 0 };
			if (left <= 0 || poll(&pf, 1, left) <= 0)
				return "";
			char tmp[512];
			ssize_t n = read(out, tmp, sizeof(tmp));
			if (n <= 0)
				return "";
			buf.append(tmp, (size_t)n);
		}
	}
	// SIGTERM, wait; returns the exit status (or -1).
	int stop(int sig = SIGTERM)
	{
		if (pid <= 0)
			return -1;
		kill(pid, sig);
		int st = 0;
		waitpid(pid, &st, 0);
		pid = -1;
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	~Child()
	{
		if (pid > 0)
			stop(SIGKILL);
		if (out >= 0)
			close(out);
	}
};

// A currently free loopback TCP port (bind to 0, read it back, close). Only a
// hint: another process may take it before the caller binds it, so a caller
// must retry (see BenchCli.CountAndConsecutivePorts) or, better, let the
// server bind port 0 itself and report its port.
static inline int free_port()
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &l)) {
		close(fd);
		return -1;
	}
	close(fd);
	return ntohs(a.sin_port);
}

// A loopback port that stays closed while *fd is open: the socket is bound
// but never listens, so nobody else can take the port and a connect to it is
// refused at once. For "nobody listens here" tests (a port merely free a
// moment ago may be taken by a parallel test). Caller close()s *fd.
static inline int closed_port(int *fd)
{
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof(a);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(*fd, (struct sockaddr *)&a, &l))
		return -1;
	return ntohs(a.sin_port);
}

// Run a shell command, capture stdout, return the exit status.
static inline int run_cmd(const std::string &cmd, std::string *out)
{
	FILE *p = popen(cmd.c_str(), "r");
	if (!p)
		return -1;
	char tmp[4096];
	size_t n;
	out->clear();
	while ((n = fread(tmp, 1, sizeof(tmp), p)) > 0)
		out->append(tmp, n);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
