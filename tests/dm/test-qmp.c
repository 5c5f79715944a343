/*
 * test-qmp.c: the QMP client (src/dm/qmp.c) against a scripted fake QEMU
 * (a thread on a unix socket): the handshake, answers matched by id,
 * events queued while a command waits (and the oldest dropped beyond the
 * bound), QEMU's errors, and what a misbehaving QEMU gets: no greeting (a
 * timeout), a line that is not JSON, a line longer than the bound, a
 * closed socket. Also the table of stop events. Prints TAP.
 */
#include <kxl/dm.h>

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int tests, failed;

static void ok(int cond, const char *what)
{
	tests++;
	if (!cond) failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", tests, what);
}

struct fake {
	const char *path;
	int listen;
	int script;	/* which behaviour */
};

static void say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0) { /* the client may be gone */ }
}

/* reads one line (the client's command) into buf */
static void hear(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap && read(fd, buf + n, 1) == 1 && buf[n] != '\n') n++;
	buf[n] = 0;
}

#define GREETING "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n"

static void *serve(void *opaque)
{
	struct fake *f = opaque;
	int c = accept(f->listen, NULL, NULL);
	char buf[4096];
	switch (f->script) {
	case 0:	/* a good QEMU: events around the answers */
		say(c, GREETING);
		hear(c, buf, sizeof(buf));
		say(c, "{\"return\": {}, \"id\": 1}\n");
		hear(c, buf, sizeof(buf));
		say(c, "{\"event\": \"RESUME\", \"timestamp\": {}}\n");
		say(c, "{\"return\": {\"status\": \"running\"}, \"id\": 99}\n");	/* nobody's */
		say(c, "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 2}\n");
		hear(c, buf, sizeof(buf));
		say(c, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no such thing\"}, \"id\": 3}\n");
		hear(c, buf, sizeof(buf));
		for (int i = 0; i < 100; i++)
			say(c, "{\"event\": \"RTC_CHANGE\", \"data\": {}}\n");
		say(c, "{\"return\": {}, \"id\": 4}\n");
		say(c, "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}\n");
		sleep(1);
		break;
	case 1:	/* silent */
		sleep(2);
		break;
	case 2:	/* not JSON */
		say(c, "this is not QMP\n");
		sleep(1);
		break;
	case 3: {	/* an endless line */
		say(c, GREETING);
		hear(c, buf, sizeof(buf));
		say(c, "{\"return\": {}, \"id\": 1}\n");
		hear(c, buf, sizeof(buf));
		char *big = malloc(70000);
		memset(big, 'x', 70000);
		big[0] = '"';
		if (write(c, big, 70000) < 0) { /* gone */ }
		free(big);
		sleep(1);
		break;
	}
	case 4:	/* closes at once after the greeting */
		say(c, GREETING);
		break;
	}
	close(c);
	return NULL;
}

static int fake_start(struct fake *f, pthread_t *t, int script, char *path, size_t cap)
{
	snprintf(path, cap, "/tmp/kxl-test-qmp-%d-%d.sock", (int)getpid(), script);
	unlink(path);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	f->listen = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(f->listen, (struct sockaddr *)&sa, sizeof(sa)) || listen(f->listen, 1)) return -1;
	f->path = path;
	f->script = script;
	return pthread_create(t, NULL, serve, f);
}

static void fake_end(struct fake *f, pthread_t t)
{
	pthread_join(t, NULL);
	close(f->listen);
	unlink(f->path);
}

static long long ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool said(struct kxl_diag *d, const char *s)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, s)) return true;
	return false;
}

int main(void)
{
	struct fake f;
	pthread_t t;
	char path[108];
	struct kxl_qmp q;
	struct kxl_diag d;

	kxl_diag_init(&d);
	fake_start(&f, &t, 0, path, sizeof(path));
	ok(kxl_qmp_open(&q, path, 2000, &d) == 0, "handshake: greeting, qmp_capabilities");
	json_object *ret = NULL, *ev = NULL, *v = NULL;
	ok(kxl_qmp_cmd(&q, "query-status", NULL, &ret, 2000, &d) == 0 &&
	   json_object_object_get_ex(ret, "status", &v) && !strcmp(json_object_get_string(v), "running"),
	   "an answer matched by its id (one for nobody ignored)");
	json_object_put(ret);
	ok(kxl_qmp_event(&q, &ev, 0, &d) == 1 && json_object_object_get_ex(ev, "event", &v) &&
	   !strcmp(json_object_get_string(v), "RESUME"), "an event that came before the answer is queued");
	json_object_put(ev);
	ok(kxl_qmp_cmd(&q, "frobnicate", NULL, NULL, 2000, &d) == -1 && said(&d, "no such thing"),
	   "QEMU's error is the command's");
	kxl_diag_clear(&d);
	ok(kxl_qmp_cmd(&q, "cont", NULL, NULL, 2000, &d) == 0 && q.nev == KXL_QMP_EVENTS &&
	   q.dropped == 100 - KXL_QMP_EVENTS, "100 events during a command: 64 kept, the oldest dropped");
	int n = 0, r;
	enum kxl_dm_ev last = KXL_DM_EV_NONE;
	while ((r = kxl_qmp_event(&q, &ev, 1000, &d)) == 1) {
		n++;
		last = kxl_dm_event_kind(ev);
		json_object_put(ev);
		if (last != KXL_DM_EV_NONE) break;
	}
	ok(n == KXL_QMP_EVENTS + 1 && last == KXL_DM_EV_POWEROFF,
	   "the queue, then the guest's poweroff from the socket");
	kxl_qmp_close(&q);
	fake_end(&f, t);

	kxl_diag_clear(&d);
	fake_start(&f, &t, 1, path, sizeof(path));
	long long t0 = ms();
	ok(kxl_qmp_open(&q, path, 300, &d) == -1 && said(&d, "no greeting") && ms() - t0 < 1500,
	   "no greeting: an error within the timeout");
	fake_end(&f, t);

	kxl_diag_clear(&d);
	fake_start(&f, &t, 2, path, sizeof(path));
	ok(kxl_qmp_open(&q, path, 2000, &d) == -1 && said(&d, "not a JSON object"),
	   "a line that is not JSON: an error");
	fake_end(&f, t);

	kxl_diag_clear(&d);
	fake_start(&f, &t, 3, path, sizeof(path));
	int o = kxl_qmp_open(&q, path, 2000, &d);
	ok(o == 0 && kxl_qmp_cmd(&q, "query-status", NULL, NULL, 2000, &d) == -1 &&
	   said(&d, "longer than"), "a line longer than the bound: an error, not a bigger buffer");
	if (!o) kxl_qmp_close(&q);
	fake_end(&f, t);

	kxl_diag_clear(&d);
	fake_start(&f, &t, 4, path, sizeof(path));
	ok(kxl_qmp_open(&q, path, 2000, &d) == -1 && (said(&d, "closed") || said(&d, "cannot send")),
	   "QEMU closing its socket: an error");
	fake_end(&f, t);

	kxl_diag_clear(&d);
	ok(kxl_qmp_open(&q, "/nonexistent/kxl.sock", 100, &d) == -1 && said(&d, "cannot connect"),
	   "no socket: an error after the timeout");

	static const struct { const char *json; enum kxl_dm_ev kind; } evs[] = {
		{ "{\"event\":\"SHUTDOWN\",\"data\":{\"reason\":\"guest-shutdown\"}}", KXL_DM_EV_POWEROFF },
		{ "{\"event\":\"SHUTDOWN\",\"data\":{\"reason\":\"guest-reset\"}}", KXL_DM_EV_REBOOT },
		{ "{\"event\":\"SHUTDOWN\",\"data\":{\"reason\":\"host-qmp-system-reset\"}}", KXL_DM_EV_REBOOT },
		{ "{\"event\":\"SHUTDOWN\",\"data\":{\"reason\":\"host-qmp-quit\"}}", KXL_DM_EV_HOST },
		{ "{\"event\":\"GUEST_PANICKED\",\"data\":{\"action\":\"pause\"}}", KXL_DM_EV_CRASH },
		{ "{\"event\":\"WATCHDOG\",\"data\":{\"action\":\"pause\"}}", KXL_DM_EV_WATCHDOG },
		{ "{\"event\":\"STOP\"}", KXL_DM_EV_NONE },
		{ "{\"event\":\"SHUTDOWN\"}", KXL_DM_EV_NONE },
		{ "{\"event\":42}", KXL_DM_EV_NONE },
	};
	int good = 1;
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		json_object *e = json_tokener_parse(evs[i].json);
		if (kxl_dm_event_kind(e) != evs[i].kind) {
			printf("# %s: kind %d, expected %d\n", evs[i].json, kxl_dm_event_kind(e), evs[i].kind);
			good = 0;
		}
		json_object_put(e);
	}
	ok(good, "stop events and the on_* action each applies");
	kxl_diag_free(&d);
	printf("1..%d\n", tests);
	return failed ? 1 : 0;
}
