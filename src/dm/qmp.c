/*
 * qmp.c: a small client of QEMU's QMP socket (json-c), for the monitor
 * that supervises an HVM domain's QEMU: the greeting and capabilities
 * negotiation, commands with their answer matched by id (a descriptor
 * may go along, SCM_RIGHTS, for add-fd and getfd), and the events
 * QEMU sends, queued while a command waits. QEMU is semi-trusted: lines
 * are bounded (KXL_QMP_MAX), every wait has a deadline, and anything that
 * is not a QMP message is an error rather than a guess. Also the one table
 * of which QEMU events stop the guest and which on_* action applies.
 */
#include <kxl/dm.h>

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
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

static int left_ms(long long deadline)
{
	long long l = deadline - now_ms();
	return l < 0 ? 0 : l > 1000000 ? 1000000 : (int)l;
}

/* Sends s; fd (>= 0) goes along with its first byte (SCM_RIGHTS), which
 * QEMU's monitor takes for the command those bytes begin. */
static int send_all(struct kxl_qmp *q, const char *s, size_t n, int fd, struct kxl_diag *d)
{
	while (n) {
		struct iovec iov = { .iov_base = (void *)s, .iov_len = n };
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (fd >= 0) {
			memset(&u, 0, sizeof(u));
			mh.msg_control = u.buf;
			mh.msg_controllen = sizeof(u.buf);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &fd, sizeof(int));
		}
		ssize_t w = sendmsg(q->fd, &mh, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0)
			return kxl_err(d, "QMP: cannot send to QEMU: %s", strerror(errno));
		fd = -1;	/* it went with the bytes sent */
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One message: 1 (in *out), 0 on timeout, -1 on error or EOF. */
static int read_msg(struct kxl_qmp *q, json_object **out, long long deadline, struct kxl_diag *d)
{
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		if (nl) {
			size_t n = (size_t)(nl - q->buf);
			*nl = 0;
			json_tokener *tok = json_tokener_new();
			json_object *o = json_tokener_parse_ex(tok, q->buf, (int)n);
			enum json_tokener_error e = json_tokener_get_error(tok);
			json_tokener_free(tok);
			memmove(q->buf, nl + 1, q->len - n - 1);
			q->len -= n + 1;
			if (e != json_tokener_success || !o || !json_object_is_type(o, json_type_object)) {
				if (o) json_object_put(o);
				return kxl_err(d, "QMP: QEMU sent a line that is not a JSON object");
			}
			*out = o;
			return 1;
		}
		if (q->len >= KXL_QMP_MAX)
			return kxl_err(d, "QMP: a message from QEMU is longer than %d bytes", KXL_QMP_MAX);
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		int r = poll(&p, 1, left_ms(deadline));
		if (r < 0 && errno == EINTR) continue;
		if (r < 0)
			return kxl_err(d, "QMP: poll: %s", strerror(errno));
		if (r == 0)
			return 0;
		ssize_t got = recv(q->fd, q->buf + q->len, KXL_QMP_MAX - q->len, 0);
		if (got < 0 && errno == EINTR) continue;
		/* a reset is a close with our last command unread (QEMU exited) */
		if (got < 0 && errno != ECONNRESET)
			return kxl_err(d, "QMP: cannot read from QEMU: %s", strerror(errno));
		if (got <= 0)
			return kxl_err(d, "QMP: QEMU closed its socket");
		q->len += (size_t)got;
	}
}

static void queue_event(struct kxl_qmp *q, json_object *ev)
{
	if (q->nev == KXL_QMP_EVENTS) {
		json_object_put(q->events[0]);
		memmove(q->events, q->events + 1, (KXL_QMP_EVENTS - 1) * sizeof(*q->events));
		q->nev--;
		q->dropped++;
	}
	q->events[q->nev++] = ev;
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

int kxl_qmp_open(struct kxl_qmp *q, const char *path, int timeout_ms, struct kxl_diag *d)
{
	memset(q, 0, sizeof(*q));
	q->fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return kxl_err(d, "QMP: socket path %s is too long", path);
	strcpy(sa.sun_path, path);
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (q->fd < 0)
			return kxl_err(d, "QMP: socket: %s", strerror(errno));
		if (!connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		int e = errno;
		close(q->fd);
		q->fd = -1;
		if ((e != ENOENT && e != ECONNREFUSED) || now_ms() >= deadline)
			return kxl_err(d, "QMP: cannot connect to %s: %s", path, strerror(e));
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
	q->buf = xmalloc(KXL_QMP_MAX + 1);
	json_object *g = NULL;
	int r = read_msg(q, &g, deadline, d);
	if (r <= 0 || !get(g, "QMP")) {
		if (g) json_object_put(g);
		if (!r) kxl_err(d, "QMP: no greeting from QEMU within %d ms", timeout_ms);
		else if (r > 0) kxl_err(d, "QMP: QEMU's first message is not the greeting");
		kxl_qmp_close(q);
		return -1;
	}
	json_object_put(g);
	if (kxl_qmp_cmd(q, "qmp_capabilities", NULL, NULL, left_ms(deadline), d)) {
		kxl_qmp_close(q);
		return -1;
	}
	return 0;
}

int kxl_qmp_cmd(struct kxl_qmp *q, const char *cmd, json_object *args, json_object **ret,
		int timeout_ms, struct kxl_diag *d)
{
	return kxl_qmp_cmd_fd(q, cmd, args, -1, ret, timeout_ms, d);
}

int kxl_qmp_cmd_fd(struct kxl_qmp *q, const char *cmd, json_object *args, int fd,
		   json_object **ret, int timeout_ms, struct kxl_diag *d)
{
	if (ret) *ret = NULL;
	if (q->fd < 0) {
		if (args) json_object_put(args);
		return kxl_err(d, "QMP: not connected");
	}
	unsigned long id = ++q->next_id;
	json_object *m = json_object_new_object();
	json_object_object_add(m, "execute", json_object_new_string(cmd));
	if (args) json_object_object_add(m, "arguments", args);
	json_object_object_add(m, "id", json_object_new_int64((int64_t)id));
	const char *s = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
	char *line = xasprintf("%s\n", s);
	json_object_put(m);
	int r = send_all(q, line, strlen(line), fd, d);
	free(line);
	if (r) return -1;
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		json_object *o = NULL;
		r = read_msg(q, &o, deadline, d);
		if (r < 0) return -1;
		if (r == 0) return kxl_err(d, "QMP: no answer to %s within %d ms", cmd, timeout_ms);
		if (get(o, "event")) {
			queue_event(q, o);
			continue;
		}
		json_object *idv = get(o, "id");
		if (!idv || (unsigned long)json_object_get_int64(idv) != id) {
			json_object_put(o);	/* an answer to nobody: ignored */
			continue;
		}
		json_object *err = get(o, "error");
		if (err) {
			const char *desc = json_object_get_string(get(err, "desc"));
			kxl_err(d, "QMP %s: %.500s", cmd, desc ? desc : "error");
			json_object_put(o);
			return -1;
		}
		if (ret && get(o, "return"))
			*ret = json_object_get(get(o, "return"));
		json_object_put(o);
		return 0;
	}
}

int kxl_qmp_add_fd(struct kxl_qmp *q, int fd, long long *fdset, int timeout_ms,
		   struct kxl_diag *d)
{
	json_object *ret = NULL, *v;
	if (kxl_qmp_cmd_fd(q, "add-fd", NULL, fd, &ret, timeout_ms, d))
		return -1;
	int rc = 0;
	if (!(v = get(ret, "fdset-id")) || !json_object_is_type(v, json_type_int) ||
	    (*fdset = json_object_get_int64(v)) < 0)
		rc = kxl_err(d, "QMP add-fd: QEMU's answer has no fd set");
	json_object_put(ret);
	return rc;
}

int kxl_qmp_remove_fdset(struct kxl_qmp *q, long long fdset, int timeout_ms, struct kxl_diag *d)
{
	json_object *args = json_object_new_object();
	json_object_object_add(args, "fdset-id", json_object_new_int64(fdset));
	return kxl_qmp_cmd(q, "remove-fd", args, NULL, timeout_ms, d);
}

int kxl_qmp_event(struct kxl_qmp *q, json_object **ev, int timeout_ms, struct kxl_diag *d)
{
	*ev = NULL;
	if (q->nev) {
		*ev = q->events[0];
		memmove(q->events, q->events + 1, (q->nev - 1) * sizeof(*q->events));
		q->nev--;
		return 1;
	}
	if (q->fd < 0)
		return kxl_err(d, "QMP: not connected");
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		json_object *o = NULL;
		int r = read_msg(q, &o, deadline, d);
		if (r <= 0) return r;
		if (get(o, "event")) {
			*ev = o;
			return 1;
		}
		json_object_put(o);	/* a late answer: ignored */
	}
}

void kxl_qmp_close(struct kxl_qmp *q)
{
	if (q->fd >= 0) close(q->fd);
	for (size_t i = 0; i < q->nev; i++) json_object_put(q->events[i]);
	free(q->buf);
	memset(q, 0, sizeof(*q));
	q->fd = -1;
}

/* QEMU's events that stop the guest (with -no-shutdown and -action
 * reboot=shutdown, a reset is a SHUTDOWN too), by name and, for SHUTDOWN,
 * its reason. */
static const struct { const char *event, *reason; enum kxl_dm_ev kind; } stops[] = {
	{ "SHUTDOWN", "guest-shutdown", KXL_DM_EV_POWEROFF },
	{ "SHUTDOWN", "guest-reset", KXL_DM_EV_REBOOT },
	{ "SHUTDOWN", "guest-panic", KXL_DM_EV_CRASH },
	{ "SHUTDOWN", "host-qmp-quit", KXL_DM_EV_HOST },
	{ "SHUTDOWN", "host-qmp-system-reset", KXL_DM_EV_REBOOT },
	{ "SHUTDOWN", "host-signal", KXL_DM_EV_HOST },
	{ "SHUTDOWN", "host-ui", KXL_DM_EV_HOST },
	{ "SHUTDOWN", "subsystem-reset", KXL_DM_EV_REBOOT },
	{ "GUEST_PANICKED", NULL, KXL_DM_EV_CRASH },
	{ "WATCHDOG", NULL, KXL_DM_EV_WATCHDOG },
};

enum kxl_dm_ev kxl_dm_event_kind(json_object *ev)
{
	const char *name = json_object_get_string(get(ev, "event"));
	const char *reason = json_object_get_string(get(get(ev, "data"), "reason"));
	for (size_t i = 0; name && i < ARRAY_SIZE(stops); i++)
		if (!strcmp(name, stops[i].event) &&
		    (!stops[i].reason || (reason && !strcmp(reason, stops[i].reason))))
			return stops[i].kind;
	return KXL_DM_EV_NONE;
}

const char *kxl_dm_event_key(enum kxl_dm_ev e)
{
	static const char *const keys[] = { NULL, "on_poweroff", "on_reboot", "on_crash",
		"on_watchdog", NULL };
	return (unsigned)e < ARRAY_SIZE(keys) ? keys[e] : NULL;
}
