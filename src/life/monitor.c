/*
 * monitor.c: the monitor of a domain (started by start.c: in a process
 * of its own for a background domain, in kxl itself under -F).
 *
 * The monitor holds the domain's lock for its whole life, listens on the
 * control and console sockets, and runs kxl_vmm_run() in a thread of its
 * own with a control socketpair and a console socketpair. Its main loop
 * accepts connections (mon_ctl.c), moves console bytes (mon_con.c) and
 * follows the VMM's events: a restart gets a new domain ID, cores of the
 * coredump-* actions are renamed NAME-ID-TIME.core. When the domain ends
 * the monitor removes its directory and exits. SIGTERM destroys the
 * domain. Every file descriptor of the monitor is closed in the processes
 * the VMM forks (pthread_atfork), so that a VMM process never keeps a
 * socket, the lock or a client connection of the monitor alive.
 */
#include "life/mon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/util.h"

#define OWNED_MAX 4096
static _Atomic unsigned char owned[OWNED_MAX];

void mon_fd_own(int fd, bool own)
{
	if (fd >= 0 && fd < OWNED_MAX)
		atomic_store(&owned[fd], own);
}

static void atfork_child(void)
{
	for (int i = 3; i < OWNED_MAX; i++)
		if (atomic_load(&owned[i]))
			close(i);
}

static FILE *mon_logf;	/* NULL: stderr */

void mon_log_to(FILE *f)
{
	mon_logf = f;
}

void mon_log(const char *fmt, ...)
{
	char ts[32], buf[1024];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	FILE *f = mon_logf ? mon_logf : stderr;
	fprintf(f, "%s kxl monitor: %s\n", ts, buf);
	fflush(f);
}

void mon_wake(struct mon *m)
{
	(void)!write(m->wake[1], "", 1);
}

__attribute__((format(printf, 2, 3)))
static void status(struct mon *m, const char *fmt, ...)
{
	if (m->status_fd < 0)
		return;
	char *s;
	va_list ap;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	for (char *p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
	char *line = xasprintf("%.2000s\n", s);	/* the reader takes 4 KiB lines */
	life_write_all(m->status_fd, line, strlen(line));
	free(line);
	free(s);
}

static void status_close(struct mon *m)
{
	if (m->status_fd < 0)
		return;
	mon_fd_own(m->status_fd, false);
	close(m->status_fd);
	m->status_fd = -1;
}

/* ---- events of the VMM (in the VMM thread) ---- */
static struct kxl_diag *vmm_diag;	/* the VMM thread's */

/* A core of a coredump-* action: NAME-ID-TIME.core. Returns the new path
 * (caller frees) or NULL. */
static char *rename_core(struct mon *m, const char *path)
{
	if (!m->dump_dir)
		return NULL;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
	pthread_mutex_lock(&m->lock);
	unsigned id = m->domid;
	pthread_mutex_unlock(&m->lock);
	char *to = xasprintf("%s/%s-%u-%s.core", m->dump_dir, m->claim.name, id, ts);
	if (rename(path, to) == 0)
		return to;
	free(to);
	return NULL;
}

static void on_event(void *opaque, const struct kxl_vmm_event *ev)
{
	struct mon *m = opaque;
	switch (ev->type) {
	case KXL_EV_STARTED: {
		pthread_mutex_lock(&m->lock);
		m->state = m->spec->start_paused ? MON_PAUSED : MON_RUNNING;
		m->gen = ev->generation;
		m->started = time(NULL);
		bool first = !m->reported;
		m->reported = true;
		unsigned id = m->domid;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		/* -p holds the first boot only; a restart runs (as xl) */
		m->spec->start_paused = false;
		mon_log("domain %s started with ID %u%s", m->claim.name, id,
			m->state == MON_PAUSED ? ", paused" : "");
		if (first) {
			for (size_t i = 0; vmm_diag && i < vmm_diag->n; i++)
				status(m, "msg %d %s", (int)vmm_diag->v[i].sev, vmm_diag->v[i].msg);
			status(m, "ok %u", id);
			status_close(m);
		}
		break;
	}
	case KXL_EV_PAUSED:
	case KXL_EV_UNPAUSED:
		pthread_mutex_lock(&m->lock);
		if (m->state == MON_RUNNING || m->state == MON_PAUSED)
			m->state = ev->type == KXL_EV_PAUSED ? MON_PAUSED : MON_RUNNING;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		break;
	case KXL_EV_STOPPED:
		pthread_mutex_lock(&m->lock);
		m->state = ev->outcome == KXL_VMM_CRASH ? MON_CRASHED : MON_SHUTDOWN;
		m->last_stop = ev->outcome;
		m->stops++;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		mon_log("domain %s stopped: %s (%s)", m->claim.name, kxl_vmm_outcome_name(ev->outcome),
			ev->detail ? ev->detail : "");
		break;
	case KXL_EV_RESTARTING: {
		struct kxl_diag d;
		unsigned id = 0;
		kxl_diag_init(&d);
		if (life_newid(m->st, m->claim.name, &id, &d) < 0)
			mon_log("no new domain ID: %s", d.n ? d.v[0].msg : "?");
		kxl_diag_free(&d);
		pthread_mutex_lock(&m->lock);
		unsigned old = m->domid;
		if (id)
			m->domid = id;
		m->state = MON_RUNNING;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		mon_log("restarting %s: ID %u -> %u%s", m->claim.name, old, id,
			ev->rename ? " (rename-restart: the VMM does not keep the old domain; "
			"the new one keeps the name)" : "");
		break;
	}
	case KXL_EV_PRESERVED:
		pthread_mutex_lock(&m->lock);
		m->preserved = true;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		mon_log("domain %s preserved; `kxl destroy' ends it", m->claim.name);
		break;
	case KXL_EV_CORE_WRITTEN: {
		char *to = !m->user_dump && ev->detail ? rename_core(m, ev->detail) : NULL;
		mon_log("core written to %s", to ? to : ev->detail ? ev->detail : "?");
		if (to && m->user_event) {
			struct kxl_vmm_event e = *ev;
			e.detail = to;
			m->user_event(m->user_opaque, &e);
		} else if (m->user_event) {
			m->user_event(m->user_opaque, ev);
		}
		free(to);
		mon_wake(m);
		return;
	}
	}
	if (m->user_event)
		m->user_event(m->user_opaque, ev);
	mon_wake(m);
}

static void *vmm_thread(void *opaque)
{
	struct mon *m = opaque;
	struct kxl_vmm_result res;
	struct kxl_diag d;
	kxl_diag_init(&d);
	m->vtid = gettid();
	vmm_diag = &d;
	int r = kxl_vmm_run(m->spec, &res, &d);
	for (size_t i = 0; i < d.n; i++)
		mon_log("%s: %s", kxl_severity_name(d.v[i].sev), d.v[i].msg);
	pthread_mutex_lock(&m->lock);
	m->ended = true;
	m->state = MON_DYING;
	m->outcome = r ? KXL_VMM_ERROR : res.outcome;
	if (r) {
		const char *e = "the domain could not run";
		for (size_t i = 0; i < d.n; i++)
			if (d.v[i].sev == KXL_ERROR) {
				e = d.v[i].msg;
				break;
			}
		snprintf(m->error, sizeof(m->error), "%s", e);
	}
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	vmm_diag = NULL;
	mon_log("domain %s ended: %s%s%s", m->claim.name, kxl_vmm_outcome_name(m->outcome),
		r ? ": " : "", r ? m->error : "");
	m->res = res;
	res.last_core = NULL;
	if (m->out_diag)
		for (size_t i = 0; i < d.n; i++)
			kxl_diag_add(m->out_diag, d.v[i].sev, &d.v[i].loc, "%s", d.v[i].msg);
	/* a kxl_vmm_ctl() under way or to come sees the VMM gone */
	shutdown(m->vmm_ctl_peer, SHUT_RDWR);
	mon_wake(m);
	kxl_vmm_result_free(&res);
	kxl_diag_free(&d);
	return NULL;
}

/* ---- the monitor process ---- */
static int listen_on(const char *path, struct kxl_diag *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return kxl_err(d, "%s: the path is too long for a unix socket", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kxl_err(d, "socket: %s", strerror(errno));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		kxl_err(d, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int mon_setup(struct mon *m, struct kxl_diag *d)
{
	char *p = life_dom_path(m->st, m->claim.name, "pid");
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	int r = life_write_file(p, buf, d);
	free(p);
	if (r < 0)
		return -1;
	p = life_dom_path(m->st, m->claim.name, "ctl.sock");
	m->ctl_listen = listen_on(p, d);
	free(p);
	p = life_dom_path(m->st, m->claim.name, "console.sock");
	m->con_listen = listen_on(p, d);
	free(p);
	if (m->ctl_listen < 0 || m->con_listen < 0)
		return -1;
	/* the console is ours unless a foreground kxl has it on its terminal */
	bool own_console = !m->fg || m->spec->console_out < 0;
	int sv[2], cv[2] = { -1, -1 };
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    (own_console && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cv) < 0) ||
	    pipe2(m->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return kxl_err(d, "socketpair: %s", strerror(errno));
	m->vmm_ctl = sv[0];
	m->vmm_ctl_peer = sv[1];
	m->con_fd = cv[0];
	m->con_peer = cv[1];
	if (m->con_fd >= 0) {
		fcntl(m->con_fd, F_SETFL, O_NONBLOCK);
		int big = 256 * 1024;
		setsockopt(m->con_peer, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	}
	int mine[] = { m->ctl_listen, m->con_listen, m->vmm_ctl, m->con_fd, m->wake[0], m->wake[1],
		       m->status_fd, m->claim.lockfd };
	for (size_t i = 0; i < ARRAY_SIZE(mine); i++)
		mon_fd_own(mine[i], true);
	pthread_atfork(NULL, NULL, atfork_child);

	struct kxl_vmm_spec *s = m->spec;
	s->ctl_fd = m->vmm_ctl_peer;
	if (own_console) {
		s->console_in = s->console_out = m->con_peer;
		s->console_log = NULL;
	}
	if (!m->fg) {
		s->log_fd = 2;
		s->dump_dir = m->dump_dir;
	}
	s->handle_signals = true;
	m->user_event = s->on_event;
	m->user_opaque = s->opaque;
	s->on_event = on_event;
	s->opaque = m;
	return 0;
}

static void main_loop(struct mon *m)
{
	for (;;) {
		pthread_mutex_lock(&m->lock);
		bool ended = m->ended;
		int pc = m->pending_console;
		m->pending_console = -1;
		pthread_mutex_unlock(&m->lock);
		if (pc >= 0)
			con_attach(m, pc);
		if (ended)
			break;
		struct con *c = &m->con;
		struct pollfd p[5] = {
			{ .fd = m->wake[0], .events = POLLIN },
			{ .fd = m->ctl_listen, .events = POLLIN },
			{ .fd = m->con_listen, .events = POLLIN },
			{ .fd = m->con_fd, .events = POLLIN | (c->in_len ? POLLOUT : 0) },
			{ .fd = c->client, .events = (c->in_len ? 0 : POLLIN) |
				(c->cursor < c->total ? POLLOUT : 0) },
		};
		if (poll(p, 5, -1) < 0)
			continue;
		if (p[0].revents) {
			char b[64];
			while (read(m->wake[0], b, sizeof(b)) > 0)
				;
		}
		if (p[1].revents & POLLIN) {
			int fd = accept4(m->ctl_listen, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				mon_ctl_accept(m, fd);
		}
		if (p[2].revents & POLLIN) {
			int fd = accept4(m->con_listen, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				con_attach(m, fd);
		}
		if (p[3].revents & POLLIN) {
			char b[4096];
			ssize_t n = read(m->con_fd, b, sizeof(b));
			if (n > 0)
				con_output(c, b, (size_t)n);
		}
		if (p[3].revents & POLLOUT)
			con_give_input(m);
		if (c->client >= 0 && p[4].revents & (POLLIN | POLLHUP | POLLERR))
			con_take_input(m);
		if (c->client >= 0 && p[4].revents & POLLOUT)
			con_flush(c);
	}
	/* the last words of the guest */
	char b[4096];
	ssize_t n;
	while (m->con_fd >= 0 && (n = read(m->con_fd, b, sizeof(b))) > 0)
		con_output(&m->con, b, (size_t)n);
	if (m->con.client >= 0) {
		fcntl(m->con.client, F_SETFL, fcntl(m->con.client, F_GETFL) & ~O_NONBLOCK);
		con_flush(&m->con);
	}
	/* the client is let go after the state is gone (mon_run) */
}

int mon_run(struct mon *m)
{
	struct kxl_diag d;
	kxl_diag_init(&d);
	sigset_t sigs, old;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	/* before any thread: the VMM's signalfd takes them (destroy) */
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->ctl_lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->pending_console = -1;
	m->state = MON_PAUSED;	/* while it is built, as xl shows it */
	m->con.client = -1;
	m->ctl_listen = m->con_listen = m->vmm_ctl = m->vmm_ctl_peer = m->con_fd = m->con_peer = -1;
	m->wake[0] = m->wake[1] = -1;
	char *log = life_log_path(m->st, m->claim.name, "console.log");
	con_init(&m->con, log);
	free(log);
	mon_log("monitor of %s (pid %ld), domain ID %u", m->claim.name, (long)getpid(), m->domid);

	pthread_t vt;
	if (mon_setup(m, &d) < 0 || pthread_create(&vt, NULL, vmm_thread, m) != 0) {
		const char *e = d.n ? d.v[0].msg : "cannot start the VMM thread";
		mon_log("%s", e);
		if (m->out_diag)
			kxl_err(m->out_diag, "%s", e);
		life_release(m->st, &m->claim);
		status(m, "error %s", e);
		kxl_diag_free(&d);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return KXL_EXIT_ERROR;
	}
	main_loop(m);
	pthread_join(vt, NULL);
	mon_fd_own(m->ctl_listen, false);
	mon_fd_own(m->con_listen, false);
	close(m->ctl_listen);
	close(m->con_listen);
	mon_fd_own(m->claim.lockfd, false);
	life_release(m->st, &m->claim);
	con_detach(&m->con);
	pthread_mutex_lock(&m->lock);
	m->cleaned = true;
	pthread_cond_broadcast(&m->cond);
	if (!m->reported)
		status(m, "error %s", m->error[0] ? m->error : "the domain ended before it started");
	status_close(m);
	/* let the answers under way (destroy, wait) go out */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	while (m->busy > 0)
		if (pthread_cond_timedwait(&m->cond, &m->lock, &until) == ETIMEDOUT)
			break;
	int code = kxl_vmm_exit_code(m->outcome);
	pthread_mutex_unlock(&m->lock);
	kxl_diag_free(&d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return code;
}

