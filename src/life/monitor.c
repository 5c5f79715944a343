/*
 * monitor.c: the monitor of a domain (started by start.c: in a process
 * of its own for a background domain, in kxl itself under -F).
 *
 * The monitor holds the domain's lock for its whole life, listens on the
 * control and console sockets, and runs kxl_vmm_run() in a thread of its
 * own with a control socketpair and a console socketpair. Its main loop
 * accepts connections (mon_ctl.c), moves console bytes (mon_con.c) and
 * follows the VMM's events (mon_vmm.c). When the domain ends
 * the monitor removes its directory and exits. SIGTERM destroys the
 * domain. None of the monitor's descriptors (sockets, the lock, client
 * connections) reaches a VMM process: the VMM's child closes everything
 * outside its keep-list when it starts (src/vmm/child.c).
 */
#include "life/mon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/util.h"

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
	char *p = life_dom_path(m->st, m->name, "pid");
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	int r = life_write_file(p, buf, d);
	free(p);
	if (r < 0)
		return -1;
	p = life_dom_path(m->st, m->name, "ctl.sock");
	m->ctl_listen = listen_on(p, d);
	free(p);
	p = life_dom_path(m->st, m->name, "console.sock");
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
	s->on_event = mon_on_event;
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
	char *log = life_log_path(m->st, m->name, "console.log");
	con_init(&m->con, log);
	free(log);
	mon_log("monitor of %s (pid %ld), domain ID %u", m->name, (long)getpid(), m->domid);

	pthread_t vt;
	if (mon_setup(m, &d) < 0 || pthread_create(&vt, NULL, mon_vmm_thread, m) != 0) {
		const char *e = d.n ? d.v[0].msg : "cannot start the VMM thread";
		mon_log("%s", e);
		if (m->out_diag)
			kxl_err(m->out_diag, "%s", e);
		life_release(m->st, &m->claim);
		mon_status(m, "error %s", e);
		kxl_diag_free(&d);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return KXL_EXIT_ERROR;
	}
	main_loop(m);
	pthread_join(vt, NULL);
	close(m->ctl_listen);
	close(m->con_listen);
	life_release(m->st, &m->claim);
	con_detach(&m->con);
	pthread_mutex_lock(&m->lock);
	m->cleaned = true;
	pthread_cond_broadcast(&m->cond);
	if (!m->reported)
		mon_status(m, "error %s", m->error[0] ? m->error : "the domain ended before it started");
	mon_status_close(m);
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

