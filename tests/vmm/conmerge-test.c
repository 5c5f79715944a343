/*
 * conmerge-test.c: the console merge (src/vmm/conmerge.c) without KVM
 * (suite `devices`). The core on a clock the test sets: a UART line cut by
 * hvc0 text (the split seen in the nested kxl-virtio scenario), lines of
 * two sources in completion order, a prompt held until its source is
 * quiet, a source that keeps writing held until the hold bound, the rest
 * of an open line at once, a long line in pieces, back-pressure and order
 * when the stream is full, the final flush. Then the merge with its writer
 * thread on pipes: lines whole, a prompt shown after the quiet time, a
 * reader that stalls (bounded memory, producers never blocked in put, all
 * in order once it reads again) and a reader that is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/conmerge.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fails++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

enum { U = CONMERGE_UART, H = CONMERGE_HVC };

static struct conmerge_core core;
static char stream[65536];
static size_t stream_len;

/* Moves everything committed into stream[] (the writer's part). */
static void take(void)
{
	const uint8_t *p;
	size_t n;
	while ((n = conmerge_core_peek(&core, &p))) {
		memcpy(stream + stream_len, p, n);
		stream_len += n;
		conmerge_core_consume(&core, n);
	}
	stream[stream_len] = 0;
}

static void reset(void)
{
	conmerge_core_init(&core);
	stream_len = 0;
	stream[0] = 0;
}

static size_t put(unsigned src, const char *s, uint64_t t)
{
	return conmerge_core_put(&core, src, (const uint8_t *)s, strlen(s), t);
}

static void test_split_line(void)
{
	/* the UART's line is half sent when hvc0's whole line comes */
	reset();
	put(U, "KXL-RNG-BYTES: 10", 0);
	put(H, "KXL-HVC-HELLO written to hvc0\n", 1);
	put(U, "24\r\n", 3);
	take();
	CHECK(!strcmp(stream, "KXL-HVC-HELLO written to hvc0\nKXL-RNG-BYTES: 1024\r\n"));
	CHECK(conmerge_core_empty(&core));
}

static void test_order(void)
{
	reset();
	put(U, "a", 0);
	put(H, "b1\n", 1);
	put(U, "1\n", 2);
	put(H, "b2\nb", 3);
	put(U, "a2\n", 4);
	put(H, "3\n", 5);
	take();
	CHECK(!strcmp(stream, "b1\na1\nb2\na2\nb3\n"));
}

static void test_prompt(void)
{
	reset();
	put(U, "login: ", 1000);
	conmerge_core_tick(&core, 1050, false);
	take();
	CHECK(stream_len == 0);					/* held: maybe more comes */
	CHECK(conmerge_core_deadline(&core) == 1000 + CONMERGE_IDLE_MS);
	conmerge_core_tick(&core, 1000 + CONMERGE_IDLE_MS, false);
	take();
	CHECK(!strcmp(stream, "login: "));			/* shown after the quiet time */
	/* the rest of the open line (the echo of what is typed) at once */
	put(U, "r", 2000);
	take();
	CHECK(!strcmp(stream, "login: r"));
	put(U, "oot\r\n", 2001);
	take();
	CHECK(!strcmp(stream, "login: root\r\n"));
	/* a line of the other source closes the open line: what follows is held again */
	reset();
	put(U, "$ ", 0);
	conmerge_core_tick(&core, CONMERGE_IDLE_MS, false);
	put(H, "hvc\n", 200);
	put(U, "l", 201);
	take();
	CHECK(!strcmp(stream, "$ hvc\n"));
	CHECK(conmerge_core_deadline(&core) == 201 + CONMERGE_IDLE_MS);
	put(U, "s\r\n", 202);
	take();
	CHECK(!strcmp(stream, "$ hvc\nls\r\n"));
}

static void test_busy_source(void)
{
	/* a byte every 30 ms: never quiet long enough, shown at the hold bound */
	reset();
	uint64_t t = 0;
	size_t dots = 0;
	for (; t + 30 < CONMERGE_MAX_HOLD_MS; t += 30) {
		put(H, ".", t);
		dots++;
		conmerge_core_tick(&core, t + 29, false);
		take();
		CHECK(stream_len == 0);
		CHECK(conmerge_core_deadline(&core) <= CONMERGE_MAX_HOLD_MS);
	}
	conmerge_core_tick(&core, CONMERGE_MAX_HOLD_MS, false);
	take();
	CHECK(stream_len == dots);
	/* then its bytes follow at once: no further cut by the clock */
	put(H, "..", t);
	take();
	CHECK(stream_len == dots + 2);
}

static void test_long_line(void)
{
	static char big[CONMERGE_LINE_MAX + 1000];
	reset();
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	put(U, "u-line ", 0);
	CHECK(put(H, big, 0) == sizeof(big) - 1);
	take();
	CHECK(stream_len == sizeof(big) - 1);		/* in pieces, and the rest of the open line */
	put(H, "\n", 1);
	put(U, "end\n", 2);
	take();
	CHECK(stream[sizeof(big) - 1] == '\n' && !strcmp(stream + sizeof(big), "u-line end\n"));
}

static void test_backpressure(void)
{
	char line[64];
	reset();
	memset(line, 'h', 63);
	line[63] = 0;
	line[62] = '\n';
	for (int i = 0; i < CONMERGE_RING / 63; i++)
		CHECK(put(H, line, 0) == 63);		/* the ring nearly full */
	/* a UART line that does not fit waits; its source takes no more */
	CHECK(put(U, "u1 a line longer than what is left in the ring\n", 1) ==
	      strlen("u1 a line longer than what is left in the ring\n"));
	CHECK(put(U, "u2\n", 2) == 0);
	/* hvc0's next line completes after it, and waits behind it */
	CHECK(put(H, "h1\n", 3) == 3);
	CHECK(put(H, "h2\n", 4) == 0);
	/* partial lines wait behind complete ones too */
	conmerge_core_tick(&core, 10000, true);
	CHECK(!conmerge_core_empty(&core));
	/* the writer frees room: the waiting lines go in their order */
	const uint8_t *p;
	size_t n = conmerge_core_peek(&core, &p);
	CHECK(n > 0);
	conmerge_core_consume(&core, 4000);
	conmerge_core_tick(&core, 10001, false);
	CHECK(put(U, "u2\n", 5) == 3);
	CHECK(put(H, "h2\n", 6) == 3);
	stream_len = 0;
	take();
	const char *tail = "u1 a line longer than what is left in the ring\nh1\nu2\nh2\n";
	CHECK(stream_len >= strlen(tail) && !strcmp(stream + stream_len - strlen(tail), tail));
	/* bounded: one source never holds more than its line */
	reset();
	static char flood[3 * CONMERGE_RING];
	memset(flood, 'f', sizeof(flood));
	size_t took = conmerge_core_put(&core, U, (const uint8_t *)flood, sizeof(flood), 0);
	CHECK(took == CONMERGE_RING + CONMERGE_LINE_MAX);
}

static void test_flush(void)
{
	reset();
	put(H, "second", 10);
	put(U, "first", 5);
	conmerge_core_tick(&core, 11, false);
	take();
	CHECK(stream_len == 0);
	conmerge_core_tick(&core, 11, true);
	take();
	CHECK(!strcmp(stream, "firstsecond"));
	CHECK(conmerge_core_empty(&core));
	CHECK(conmerge_core_deadline(&core) == UINT64_MAX);
}

/* ---- the merge with its thread ---- */

static uint64_t ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads fd until want bytes came or timeout_ms passed. */
static size_t read_for(int fd, char *buf, size_t want, unsigned timeout_ms)
{
	size_t got = 0;
	uint64_t end = ms() + timeout_ms;
	while (got < want && ms() < end) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, (int)(end - ms())) <= 0)
			continue;
		ssize_t n = read(fd, buf + got, want - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	return got;
}

static void test_thread(void)
{
	struct kxl_diag d;
	struct conmerge m;
	int p[2];
	char buf[65536];

	kxl_diag_init(&d);
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	CHECK(conmerge_start(&m, p[1], &d) == 0);
	conmerge_write(&m, U, (const uint8_t *)"hello ", 6);
	conmerge_write(&m, H, (const uint8_t *)"world\n", 6);
	conmerge_write(&m, U, (const uint8_t *)"there\n", 6);
	CHECK(read_for(p[0], buf, 18, 5000) == 18 && !strcmp(buf, "world\nhello there\n"));

	/* a prompt: shown once its source is quiet, not before */
	uint64_t t0 = ms();
	conmerge_write(&m, U, (const uint8_t *)"login: ", 7);
	CHECK(read_for(p[0], buf, 7, 5000) == 7 && !strcmp(buf, "login: "));
	uint64_t dt = ms() - t0;
	CHECK(dt + 5 >= CONMERGE_IDLE_MS);
	CHECK(dt < 5000);
	conmerge_stop(&m, 1000);
	close(p[0]);
	close(p[1]);

	/* a reader that stalls: puts never block, memory stays bounded, and
	 * everything comes in order once it reads */
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	CHECK(conmerge_start(&m, p[1], &d) == 0);
	size_t sent = 0, sent_h = 0;
	char line[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(line, sizeof(line), "U%06d\n", i);
		size_t k = conmerge_put(&m, U, (const uint8_t *)line, strlen(line));
		sent += k;
		if (k < strlen(line))
			break;
		snprintf(line, sizeof(line), "H%06d\n", i);
		k = conmerge_put(&m, H, (const uint8_t *)line, strlen(line));
		sent_h += k;
		if (k < strlen(line))
			break;
	}
	CHECK(sent + sent_h < 4 * 65536);			/* bounded, and the loop ended */
	uint64_t w0 = ms();
	conmerge_wait(&m, U, 200);
	CHECK(ms() - w0 < 2000);
	size_t total = sent + sent_h;
	size_t got = read_for(p[0], buf, total, 10000);
	CHECK(got == total);
	/* whole lines, each source's in its order */
	int next_u = 0, next_h = 0;
	bool whole = true;
	for (char *s = buf; *s && whole; s += 8) {
		int v = atoi(s + 1);
		whole = s[7] == '\n' && (s[0] == 'U' ? v == next_u++ : s[0] == 'H' ? v == next_h++ : 0);
	}
	CHECK(whole);
	conmerge_stop(&m, 1000);
	close(p[0]);
	close(p[1]);

	/* a reader that is gone: output is discarded, nothing waits */
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	close(p[0]);
	CHECK(conmerge_start(&m, p[1], &d) == 0);
	conmerge_write(&m, H, (const uint8_t *)"lost\n", 5);
	conmerge_drain(&m, 1000);
	for (int i = 0; i < 1000; i++)
		conmerge_write(&m, U, (const uint8_t *)"gone\n", 5);
	conmerge_stop(&m, 1000);
	close(p[1]);

	/* no console: everything is taken and dropped */
	CHECK(conmerge_start(&m, -1, &d) == 0);
	CHECK(conmerge_put(&m, U, (const uint8_t *)"x", 1) == 1);
	conmerge_stop(&m, 1000);
	kxl_diag_free(&d);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);	/* as in the VMM's child, which blocks it */
	test_split_line();
	test_order();
	test_prompt();
	test_busy_source();
	test_long_line();
	test_backpressure();
	test_flush();
	test_thread();
	if (fails) {
		printf("%d check(s) failed\n", fails);
		return 1;
	}
	printf("conmerge: all checks passed\n");
	return 0;
}
