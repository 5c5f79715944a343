/*
 * proto.c: the client side of the control protocol (docs/protocol.md):
 * connecting to a domain's unix sockets and one request line answered by
 * one reply line, "ok[ TEXT]" or "error TEXT". Lines are read a byte at a
 * time so that nothing after the reply (the console stream) is consumed.
 */
#include "life/life.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int life_connect(const struct life_state *st, const char *name, const char *sock,
		 struct kxl_diag *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *path = life_dom_path(st, name, sock);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		kxl_err(d, "%s: the path is too long for a unix socket", path);
		free(path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		kxl_err(d, "socket: %s", strerror(errno));
		free(path);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			kxl_err(d, "domain `%s': permission denied on %s", name, path);
		else if (e == ENOENT || e == ECONNREFUSED)
			kxl_err(d, "domain `%s' is gone (its monitor does not answer)", name);
		else
			kxl_err(d, "domain `%s': cannot connect to %s: %s", name, path, strerror(e));
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	return fd;
}

ssize_t life_read_line(int fd, char *buf, size_t max, int timeout_ms)
{
	size_t len = 0;
	long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	for (;;) {
		if (timeout_ms >= 0) {
			long long left = deadline - now_ms();
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (left < 0)
				left = 0;
			int r = poll(&p, 1, (int)left);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				errno = r == 0 ? ETIMEDOUT : errno;
				return -1;
			}
		}
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		if (c == '\n')
			break;
		if (len + 1 >= max) {
			errno = EMSGSIZE;
			return -1;
		}
		buf[len++] = c;
	}
	buf[len] = 0;
	return (ssize_t)len;
}

int life_request_fd(int fd, const char *req, char **reply, int timeout_ms, struct kxl_diag *d)
{
	char *line = xasprintf("%s\n", req);
	int w = life_write_all(fd, line, strlen(line));
	free(line);
	if (reply)
		*reply = NULL;
	if (w < 0)
		return kxl_err(d, "cannot send `%s' to the monitor: %s", req, strerror(errno));
	char *buf = xmalloc(65536);
	ssize_t n = life_read_line(fd, buf, 65536, timeout_ms);
	if (n < 0) {
		int e = errno;
		free(buf);
		if (e == ETIMEDOUT)
			return kxl_err(d, "the monitor did not answer `%s' in time", req);
		return kxl_err(d, "the monitor went away before it answered `%s'", req);
	}
	if (!strncmp(buf, "ok", 2) && (buf[2] == 0 || buf[2] == ' ')) {
		if (reply)
			*reply = xstrdup(buf[2] ? buf + 3 : "");
		free(buf);
		return 0;
	}
	if (!strncmp(buf, "error ", 6))
		kxl_err(d, "%s", buf + 6);
	else
		kxl_err(d, "the monitor answered `%s' with a malformed line", req);
	free(buf);
	return -1;
}

int life_request(const struct life_state *st, const char *name, const char *req,
		 char **reply, int timeout_ms, struct kxl_diag *d)
{
	int fd = life_connect(st, name, "ctl.sock", d);
	if (fd < 0)
		return -1;
	int r = life_request_fd(fd, req, reply, timeout_ms, d);
	close(fd);
	return r;
}
