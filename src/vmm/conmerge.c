/*
 * conmerge.c: the line-atomic merge of the UART's and hvc0's output into
 * the one console stream (conmerge.h says what it guarantees). The core
 * keeps each source's current line in its own buffer and commits it to the
 * stream's ring whole when its newline comes, lines in the order they were
 * completed; a line that finds no room in the ring waits (and lines
 * completed after it wait behind it), and its source takes nothing more
 * until it is in: the producer's back-pressure. Partial lines are
 * committed by the clock (quiet for CONMERGE_IDLE_MS, held for
 * CONMERGE_MAX_HOLD_MS) or when their buffer is full; the source is then
 * the stream's open line, and its next bytes go straight in until another
 * source's line comes between.
 *
 * Timing: 100 ms of quiet is where a human starts to notice a delay, and
 * it leaves a guest whose vCPU is descheduled in the middle of a line (the
 * nested KVM host under QEMU's TCG, a loaded machine) a wide margin before
 * its line is split; a line written in one go (printk, echo) completes in
 * far less even there. The 500 ms bound shows a source that keeps writing
 * without a newline (a progress bar) twice a second.
 *
 * The merge's writer thread alone writes the descriptor, without the lock,
 * from the ring's committed part (producers only add after it).
 */
#include "vmm/conmerge.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/* ---- the core ---- */

void conmerge_core_init(struct conmerge_core *c)
{
	memset(c, 0, sizeof(*c));
	c->open = -1;
}

static size_t ring_room(const struct conmerge_core *c)
{
	return CONMERGE_RING - c->len;
}

static void ring_push(struct conmerge_core *c, const uint8_t *p, size_t n)
{
	size_t tail = (c->head + c->len) % CONMERGE_RING;
	size_t first = CONMERGE_RING - tail < n ? CONMERGE_RING - tail : n;
	memcpy(c->ring + tail, p, first);
	memcpy(c->ring, p + first, n - first);
	c->len += n;
}

/* Complete lines into the stream, oldest first, while they fit. */
static void commit_lines(struct conmerge_core *c)
{
	for (;;) {
		struct conmerge_line *oldest = NULL;
		for (unsigned s = 0; s < CONMERGE_NSRC; s++)
			if (c->src[s].complete && (!oldest || c->src[s].seq < oldest->seq))
				oldest = &c->src[s];
		if (!oldest || ring_room(c) < oldest->len)
			return;
		ring_push(c, oldest->buf, oldest->len);
		oldest->len = 0;
		oldest->complete = false;
		c->open = -1;	/* the stream is at the start of a line */
	}
}

static bool lines_waiting(const struct conmerge_core *c)
{
	for (unsigned s = 0; s < CONMERGE_NSRC; s++)
		if (c->src[s].complete)
			return true;
	return false;
}

/* A source's partial line into the stream, as much as fits; never ahead
 * of a complete line that waits for room. */
static void commit_partial(struct conmerge_core *c, unsigned src)
{
	struct conmerge_line *l = &c->src[src];
	if (l->complete || !l->len || lines_waiting(c))
		return;
	size_t k = ring_room(c) < l->len ? ring_room(c) : l->len;
	if (!k)
		return;
	ring_push(c, l->buf, k);
	memmove(l->buf, l->buf + k, l->len - k);
	l->len -= k;
	c->open = (int)src;
}

size_t conmerge_core_put(struct conmerge_core *c, unsigned src, const uint8_t *buf, size_t n,
			 uint64_t now_ms)
{
	struct conmerge_line *l = &c->src[src];
	size_t took = 0;

	while (took < n) {
		if (l->complete) {
			commit_lines(c);
			if (l->complete)
				break;		/* its line waits for room: take no more */
		}
		if (l->len == CONMERGE_LINE_MAX) {
			commit_partial(c, src);	/* a line this long goes out in pieces */
			if (l->len == CONMERGE_LINE_MAX)
				break;
		}
		size_t k = n - took;
		if (k > CONMERGE_LINE_MAX - l->len)
			k = CONMERGE_LINE_MAX - l->len;
		const uint8_t *nl = memchr(buf + took, '\n', k);
		if (nl)
			k = (size_t)(nl - (buf + took)) + 1;
		if (!l->len)
			l->start_ms = now_ms;
		l->last_ms = now_ms;
		memcpy(l->buf + l->len, buf + took, k);
		l->len += k;
		took += k;
		if (nl) {
			l->complete = true;
			l->seq = ++c->seq;
			commit_lines(c);
		} else if (c->open == (int)src) {
			commit_partial(c, src);	/* the rest of the stream's open line */
		}
	}
	return took;
}

static bool partial_due(const struct conmerge_core *c, unsigned s, uint64_t now_ms)
{
	const struct conmerge_line *l = &c->src[s];
	return c->open == (int)s || now_ms - l->last_ms >= CONMERGE_IDLE_MS ||
	       now_ms - l->start_ms >= CONMERGE_MAX_HOLD_MS;
}

void conmerge_core_tick(struct conmerge_core *c, uint64_t now_ms, bool all)
{
	commit_lines(c);
	/* due partial lines, the one held longest first */
	for (unsigned round = 0; round < CONMERGE_NSRC; round++) {
		int pick = -1;
		for (unsigned s = 0; s < CONMERGE_NSRC; s++) {
			const struct conmerge_line *l = &c->src[s];
			if (l->complete || !l->len || !(all || partial_due(c, s, now_ms)))
				continue;
			if (pick < 0 || l->start_ms < c->src[pick].start_ms)
				pick = (int)s;
		}
		if (pick < 0)
			return;
		size_t before = c->src[pick].len;
		commit_partial(c, (unsigned)pick);
		if (c->src[pick].len == before || c->src[pick].len)
			return;		/* no room for all of it: the rest waits */
	}
}

uint64_t conmerge_core_deadline(const struct conmerge_core *c)
{
	uint64_t dl = UINT64_MAX;
	for (unsigned s = 0; s < CONMERGE_NSRC; s++) {
		const struct conmerge_line *l = &c->src[s];
		if (l->complete || !l->len)
			continue;
		uint64_t t = c->open == (int)s ? l->last_ms : l->last_ms + CONMERGE_IDLE_MS;
		if (l->start_ms + CONMERGE_MAX_HOLD_MS < t)
			t = l->start_ms + CONMERGE_MAX_HOLD_MS;
		if (t < dl)
			dl = t;
	}
	return dl;
}

size_t conmerge_core_peek(const struct conmerge_core *c, const uint8_t **p)
{
	*p = c->ring + c->head;
	return CONMERGE_RING - c->head < c->len ? CONMERGE_RING - c->head : c->len;
}

void conmerge_core_consume(struct conmerge_core *c, size_t n)
{
	if (n > c->len)
		n = c->len;
	c->head = (c->head + n) % CONMERGE_RING;
	c->len -= n;
}

bool conmerge_core_empty(const struct conmerge_core *c)
{
	for (unsigned s = 0; s < CONMERGE_NSRC; s++)
		if (c->src[s].len)
			return false;
	return c->len == 0;
}

/* ---- the merge and its writer thread ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };
	pthread_cond_timedwait(cv, mu, &ts);
}

/* One write of the stream's next piece, without the lock; cancellable
 * only here (conmerge_stop on a console that never drains). Returns the
 * bytes written, 0 to try again, -1 when the console is gone. */
static ssize_t write_piece(int fd, const uint8_t *p, size_t n)
{
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	ssize_t w = write(fd, p, n);
	int e = errno;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	if (w > 0)
		return w;
	if (w < 0 && e == EINTR)
		return 0;
	if (w < 0 && e == EAGAIN) {
		/* a non-blocking descriptor: wait for room, briefly, then again */
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		poll(&pf, 1, 100);
		return 0;
	}
	return -1;
}

static void *writer(void *opaque)
{
	struct conmerge *m = opaque;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	prctl(PR_SET_NAME, "console");
	pthread_mutex_lock(&m->lock);
	m->started = true;
	pthread_cond_broadcast(&m->room);
	while (!m->quit) {
		conmerge_core_tick(&m->core, now_ms(), false);
		const uint8_t *p;
		size_t n = conmerge_core_peek(&m->core, &p);
		if (n) {
			pthread_mutex_unlock(&m->lock);
			ssize_t w = write_piece(m->fd, p, n);
			pthread_mutex_lock(&m->lock);
			if (w > 0) {
				conmerge_core_consume(&m->core, (size_t)w);
			} else if (w < 0) {
				m->dead = true;	/* the console is gone: the guest goes on */
				conmerge_core_init(&m->core);
			}
			pthread_cond_broadcast(&m->room);
			continue;
		}
		uint64_t dl = conmerge_core_deadline(&m->core);
		if (dl == UINT64_MAX)
			pthread_cond_wait(&m->work, &m->lock);
		else
			wait_until(&m->work, &m->lock, dl);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int conmerge_start(struct conmerge *m, int fd, struct kxl_diag *d)
{
	memset(m, 0, sizeof(*m));
	m->fd = fd;
	conmerge_core_init(&m->core);
	if (fd < 0)
		return 0;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->work, &ca);
	pthread_cond_init(&m->room, &ca);
	pthread_condattr_destroy(&ca);
	int r = pthread_create(&m->thread, NULL, writer, m);
	if (r) {
		pthread_cond_destroy(&m->work);
		pthread_cond_destroy(&m->room);
		pthread_mutex_destroy(&m->lock);
		return kxl_err(d, "cannot start the console thread: %s", strerror(r));
	}
	/* running before the caller goes on (the seccomp filter that follows
	 * need not allow a thread's start) */
	pthread_mutex_lock(&m->lock);
	while (!m->started)
		pthread_cond_wait(&m->room, &m->lock);
	pthread_mutex_unlock(&m->lock);
	m->on = true;
	return 0;
}

void conmerge_stop(struct conmerge *m, unsigned timeout_ms)
{
	if (!m->on)
		return;
	conmerge_drain(m, timeout_ms);
	pthread_mutex_lock(&m->lock);
	m->quit = true;
	pthread_cond_signal(&m->work);
	pthread_mutex_unlock(&m->lock);
	pthread_cancel(m->thread);	/* acted on only inside a write that blocks */
	pthread_join(m->thread, NULL);
	pthread_cond_destroy(&m->work);
	pthread_cond_destroy(&m->room);
	pthread_mutex_destroy(&m->lock);
	m->on = false;
}

size_t conmerge_put(struct conmerge *m, unsigned src, const uint8_t *buf, size_t n)
{
	if (!m->on || src >= CONMERGE_NSRC)
		return n;
	pthread_mutex_lock(&m->lock);
	if (m->dead) {
		pthread_mutex_unlock(&m->lock);
		return n;	/* discarded, as a write to a closed console */
	}
	size_t ring_before = m->core.len;
	bool held_before = m->core.src[src].len != 0;
	size_t took = conmerge_core_put(&m->core, src, buf, n, now_ms());
	/* the writer wakes for new stream bytes or a new deadline; more bytes
	 * of a held line only move its deadline later */
	if (m->core.len != ring_before || (!held_before && m->core.src[src].len))
		pthread_cond_signal(&m->work);
	pthread_mutex_unlock(&m->lock);
	return took;
}

void conmerge_wait(struct conmerge *m, unsigned src, unsigned timeout_ms)
{
	if (!m->on || src >= CONMERGE_NSRC)
		return;
	pthread_mutex_lock(&m->lock);
	uint64_t now = now_ms();
	conmerge_core_tick(&m->core, now, false);
	const struct conmerge_line *l = &m->core.src[src];
	if (!m->dead && (l->complete || l->len == CONMERGE_LINE_MAX))
		wait_until(&m->room, &m->lock, now + timeout_ms);
	pthread_mutex_unlock(&m->lock);
}

void conmerge_write(struct conmerge *m, unsigned src, const uint8_t *buf, size_t n)
{
	while (n) {
		size_t k = conmerge_put(m, src, buf, n);
		buf += k;
		n -= k;
		if (n)
			conmerge_wait(m, src, 1000);
	}
}

void conmerge_drain(struct conmerge *m, unsigned timeout_ms)
{
	if (!m->on)
		return;
	pthread_mutex_lock(&m->lock);
	uint64_t end = now_ms() + timeout_ms;
	for (;;) {
		conmerge_core_tick(&m->core, now_ms(), true);
		pthread_cond_signal(&m->work);
		if (m->dead || conmerge_core_empty(&m->core) || now_ms() >= end)
			break;
		wait_until(&m->room, &m->lock, end);
	}
	pthread_mutex_unlock(&m->lock);
}
