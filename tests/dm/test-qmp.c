/*
 * test-qmp.c: the QMP client (src/dm/qmp.c) against a scripted fake QEMU
 * (a thread on a unix socket): the handshake, answers matched by id,
 * events queued while a command waits (and the oldest dropped beyond the
 * bound), QEMU's errors, and what a misbehaving QEMU gets: no greeting (a
 * timeout), a line that is not JSON, a line longer than the bound, a
 * closed socket; a descriptor passed with a command (add-fd and getfd,
 * SCM_RIGHTS) arriving with that command's bytes, and add-fd's fd set.
 * Also the table of stop events. Prints TAP.
 */
#include <kxl/dm.h>

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
	int got_fd[2];	/* script 5: what came with add-fd and getfd, -1 if none */
	char lines[3][256];	/* script 5: the commands heard after the handshake */
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

/* hear() of a command a descriptor may come with (*fd, or -1) */
static void hear_fd(int fd, char *buf, size_t cap, int *got)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof(u.b) };
	*got = -1;
	if (recvmsg(fd, &mh, MSG_CMSG_CLOEXEC) != 1) {
		buf[0] = 0;
		return;
	}
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(got, CMSG_DATA(c), sizeof(int));
	if (buf[0] != '\n') hear(fd, buf + 1, cap - 1);
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
	case 5:	/* add-fd, remove-fd, getfd with a descriptor, add-fd answered oddly */
		say(c, GREETING);
		hear(c, buf, sizeof(buf));
		say(c, "{\"return\": {}, \"id\": 1}\n");
		hear_fd(c, f->lines[0], sizeof(f->lines[0]), &f->got_fd[0]);
		say(c, "{\"return\": {\"fdset-id\": 7, \"fd\": 42}, \"id\": 2}\n");
		hear(c, f->lines[1], sizeof(f->lines[1]));
		say(c, "{\"return\": {}, \"id\": 3}\n");
		hear_fd(c, f->lines[2], sizeof(f->lines[2]), &f->got_fd[1]);
		say(c, "{\"return\": {}, \"id\": 4}\n");
		hear(c, buf, sizeof(buf));
		say(c, "{\"return\": {\"fd\": 43}, \"id\": 5}\n");
		sleep(1);
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
	f->got_fd[0] = f->got_fd[1] = -1;
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

	/* descriptors along with commands: add-fd into a set, its removal, getfd */
	kxl_diag_clear(&d);
	fake_start(&f, &t, 5, path, sizeof(path));
	o = kxl_qmp_open(&q, path, 2000, &d);
	char tmpl[] = "/tmp/kxl-test-qmp-fd-XXXXXX";
	int tf = mkstemp(tmpl);
	unlink(tmpl);
	long long set = -1;
	ok(o == 0 && tf >= 0 && kxl_qmp_add_fd(&q, tf, &set, 2000, &d) == 0 && set == 7,
	   "add-fd: the set's ID from QEMU's answer");
	struct stat s1, s2;
	ok(f.got_fd[0] >= 0 && f.got_fd[0] != tf && !fstat(tf, &s1) && !fstat(f.got_fd[0], &s2) &&
	   s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev && strstr(f.lines[0], "\"add-fd\"") &&
	   fcntl(tf, F_GETFD) >= 0, "add-fd: the file's descriptor came with the command (ours stays open)");
	ok(kxl_qmp_remove_fdset(&q, set, 2000, &d) == 0 && f.got_fd[1] == -1 &&
	   strstr(f.lines[1], "\"remove-fd\"") && strstr(f.lines[1], "\"fdset-id\":7"),
	   "remove-fd of that set, no descriptor with it");
	json_object *ga = json_object_new_object();
	json_object_object_add(ga, "fdname", json_object_new_string("kxl-dump"));
	ok(kxl_qmp_cmd_fd(&q, "getfd", ga, tf, NULL, 2000, &d) == 0 && f.got_fd[1] >= 0 &&
	   strstr(f.lines[2], "\"getfd\"") && strstr(f.lines[2], "kxl-dump"),
	   "getfd: a named descriptor");
	ok(kxl_qmp_add_fd(&q, tf, &set, 2000, &d) == -1 && said(&d, "no fd set"),
	   "add-fd answered without a set: an error");
	if (!o) kxl_qmp_close(&q);
	fake_end(&f, t);
	for (int i = 0; i < 2; i++)
		if (f.got_fd[i] >= 0) close(f.got_fd[i]);
	if (tf >= 0) close(tf);

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
