/*
 * mon_con.c: the monitor's console, run by its main loop. Everything the
 * guest writes goes into a ring of the last LIFE_RING_SIZE bytes (what a
 * new attach sees first) and into the console log, rotated at LIFE_LOG_MAX
 * with LIFE_LOG_KEEP files kept (NAME.console.log, .1, .2, .3). One client
 * may attach: it is sent the ring from its cursor without blocking the
 * guest (a client too slow for the ring loses the oldest part), and its
 * input goes to the VMM as the UART takes it. A second attach is refused.
 */
#include "life/mon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

static void log_open(struct con *c)
{
	c->log_fd = open(c->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	struct stat sb;
	c->log_size = c->log_fd >= 0 && fstat(c->log_fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static void log_rotate(struct con *c)
{
	if (c->log_fd >= 0)
		close(c->log_fd);
	for (int i = LIFE_LOG_KEEP - 1; i >= 1; i--) {
		char *from = i == 1 ? xstrdup(c->log_path) : xasprintf("%s.%d", c->log_path, i - 1);
		char *to = xasprintf("%s.%d", c->log_path, i);
		rename(from, to);
		free(from);
		free(to);
	}
	log_open(c);
}

void con_init(struct con *c, const char *log_path)
{
	c->total = c->cursor = 0;
	c->client = -1;
	c->in_len = 0;
	c->log_path = xstrdup(log_path);
	log_open(c);
}

void con_output(struct con *c, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		c->ring[(c->total + i) % LIFE_RING_SIZE] = buf[i];
	c->total += n;
	while (n && c->log_fd >= 0) {
		size_t room = c->log_size < LIFE_LOG_MAX ? LIFE_LOG_MAX - c->log_size : 0;
		if (!room) {
			log_rotate(c);
			continue;
		}
		size_t k = n < room ? n : room;
		if (life_write_all(c->log_fd, buf, k) < 0)
			break;
		c->log_size += k;
		buf += k;
		n -= k;
	}
	con_flush(c);
}

void con_flush(struct con *c)
{
	if (c->client < 0)
		return;
	if (c->total - c->cursor > LIFE_RING_SIZE)
		c->cursor = c->total - LIFE_RING_SIZE;	/* the client fell behind the ring */
	while (c->cursor < c->total) {
		size_t off = c->cursor % LIFE_RING_SIZE;
		size_t len = c->total - c->cursor;
		if (len > LIFE_RING_SIZE - off)
			len = LIFE_RING_SIZE - off;
		ssize_t w = write(c->client, c->ring + off, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			con_detach(c);
			return;
		}
		c->cursor += (uint64_t)w;
	}
}

void con_detach(struct con *c)
{
	if (c->client < 0)
		return;
	close(c->client);
	c->client = -1;
	c->in_len = 0;
}

void con_attach(struct mon *m, int fd)
{
	struct con *c = &m->con;
	if (!mon_peer_ok(fd)) {
		static const char e[] = "error permission denied: the domain belongs to another user\n";
		(void)!write(fd, e, sizeof(e) - 1);
		close(fd);
		return;
	}
	if (m->con_fd < 0) {
		char e[200];
		snprintf(e, sizeof(e), "error the console of domain `%s' belongs to the `kxl create -F' "
			 "that runs it\n", m->name);
		(void)!write(fd, e, strlen(e));
		close(fd);
		return;
	}
	if (c->client >= 0) {
		char e[200];
		snprintf(e, sizeof(e), "error the console of domain `%s' is already attached "
			 "elsewhere (one console client at a time)\n", m->name);
		(void)!write(fd, e, strlen(e));
		close(fd);
		return;
	}
	/* "ok" and the buffered output in one write, so that a client sees
	 * both at once; without blocking: what does not fit follows (con_flush) */
	uint64_t from = c->total > LIFE_RING_SIZE ? c->total - LIFE_RING_SIZE : 0;
	size_t n = (size_t)(c->total - from);
	char *b = xmalloc(3 + n);
	memcpy(b, "ok\n", 3);
	for (size_t i = 0; i < n; i++)
		b[3 + i] = c->ring[(from + i) % LIFE_RING_SIZE];
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ssize_t w;
	while ((w = write(fd, b, 3 + n)) < 0 && errno == EINTR)
		;
	free(b);
	if (w < 3) {
		close(fd);
		return;
	}
	c->client = fd;
	c->cursor = from + (uint64_t)(w - 3);
	c->in_len = 0;
}

/* Client input into our buffer (only when it is empty). */
void con_take_input(struct mon *m)
{
	struct con *c = &m->con;
	ssize_t n = read(c->client, c->in, sizeof(c->in));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		con_detach(c);
		return;
	}
	c->in_len = (size_t)n;
	con_give_input(m);
}

/* Our buffer to the VMM, as far as it takes it now. */
void con_give_input(struct mon *m)
{
	struct con *c = &m->con;
	while (c->in_len) {
		ssize_t w = write(m->con_fd, c->in, c->in_len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			c->in_len = 0;	/* the VMM is gone */
			return;
		}
		memmove(c->in, c->in + w, c->in_len - (size_t)w);
		c->in_len -= (size_t)w;
	}
}
