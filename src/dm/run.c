/*
 * run.c: an HVM domain's QEMU, supervised (kxl_dm_run, with the contract
 * of kxl_vmm_run so that the per-domain monitor and `kxl create -F' run
 * either). One QEMU per boot: started paused with its QMP socket, the
 * handshake, `cont' (unless -p), then one poll loop over QMP's events, the
 * monitor's control channel, QEMU's exit (pidfd), its stderr (the last
 * lines are kept for the report) and the signals. A stop event of the
 * guest picks its on_* action (qmp.c's table); a restart is a fresh QEMU,
 * as xl makes a fresh domain. QEMU dies with the process that runs this
 * (PR_SET_PDEATHSIG). Under dm_restrict QEMU starts with libxl's resource
 * limits (restrict.c). Files QEMU opens once it runs (cd-insert's image,
 * dump-core's file) are opened here and passed to it over QMP, whatever
 * dm_restrict says: QEMU in its chroot could not reach them by name.
 */
#include <kxl/dm.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"
#include "vmm/net-host.h"
#include "vmm/priv.h"

#define QMP_TIMEOUT_MS 15000
#define CMD_TIMEOUT_MS 10000
#define DUMP_TIMEOUT_MS 300000
#define ERR_RING 4096
#define DUMP_FDNAME "kxl-dump"

struct dmrun {
	const struct kxl_vmm_spec *spec;
	const struct kxl_dm_run_arg *arg;
	struct kxl_diag *d;
	char *qmp_path, *vars_path;
	bool vars_temp;		/* vars_path is in dir: removed at the end */
	char *chroot_dir;	/* dm_restrict: QEMU's empty root in dir, or NULL */
	pid_t pid;
	int pidfd, errfd, sigfd;
	char err[ERR_RING];	/* QEMU's last stderr bytes */
	size_t err_len;
	struct kxl_qmp q;
	struct net_hosts nh;
	struct kxl_vmm_nic *nics;
	char (*names)[IFNAMSIZ];
	bool paused, stopped, ctl_open, started;
	unsigned gen;		/* 0 for the first boot, +1 per restart */
};

static void emit(struct dmrun *r, enum kxl_vmm_event_type t, enum kxl_vmm_outcome o,
		 const char *detail)
{
	struct kxl_vmm_event ev = { .type = t, .outcome = o, .generation = r->gen, .detail = detail };
	if (r->spec->on_event)
		r->spec->on_event(r->spec->opaque, &ev);
}

static void logf_(struct dmrun *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct dmrun *r, const char *fmt, ...)
{
	if (r->spec->log_fd < 0) return;
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	char *line = xasprintf("kxl: %s\n", s);
	if (write(r->spec->log_fd, line, strlen(line)) < 0) { /* the log is best effort */ }
	free(line);
	free(s);
}

static void read_err(struct dmrun *r)
{
	char buf[1024];
	ssize_t n;
	while (r->errfd >= 0 && (n = read(r->errfd, buf, sizeof(buf))) > 0) {
		if (r->err_len + (size_t)n > ERR_RING) {
			size_t drop = r->err_len + (size_t)n - ERR_RING;
			memmove(r->err, r->err + drop, r->err_len - drop);
			r->err_len -= drop;
		}
		memcpy(r->err + r->err_len, buf, (size_t)n);
		r->err_len += (size_t)n;
	}
}

/* QEMU's last (at most three) lines on stderr, for a report. */
static char *last_words(struct dmrun *r)
{
	read_err(r);
	size_t end = r->err_len;
	while (end && (r->err[end - 1] == '\n' || r->err[end - 1] == '\r')) end--;
	size_t start = end;
	for (int lines = 0; start > 0; start--)
		if (r->err[start - 1] == '\n' && ++lines == 3) break;
	if (start == end) return xstrdup("(nothing on stderr)");
	char *s = xstrndup(r->err + start, end - start);
	for (char *p = s; *p; p++)
		if (*p == '\n') *p = '|';
		else if ((unsigned char)*p < 0x20) *p = ' ';
	return s;
}

static void kill_qemu(struct dmrun *r)
{
	if (r->q.fd >= 0) kxl_qmp_close(&r->q);
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR) {}
		r->pid = 0;
	}
	if (r->pidfd >= 0) close(r->pidfd);
	if (r->errfd >= 0) close(r->errfd);
	r->pidfd = r->errfd = -1;
	unlink(r->qmp_path);
}

/* Ends QEMU politely (quit), then for sure. */
static void quit_qemu(struct dmrun *r)
{
	if (r->q.fd >= 0) {
		struct kxl_diag tmp;
		kxl_diag_init(&tmp);
		kxl_qmp_cmd(&r->q, "quit", NULL, NULL, 2000, &tmp);	/* it may close first */
		kxl_diag_free(&tmp);
		struct pollfd p = { .fd = r->pidfd, .events = POLLIN };
		if (r->pidfd >= 0) poll(&p, 1, 3000);
	}
	kill_qemu(r);
}

/* A fresh copy of the pristine store, put in place whole (a temporary
 * file, then link: never a half-written store, never over an existing one). */
static int copy_file(const char *from, const char *to, struct kxl_diag *d)
{
	char *buf;
	size_t len;
	int e = read_file(from, &buf, &len);
	if (e) return kxl_err(d, "OVMF variable store %s cannot be read: %s", from, strerror(-e));
	char *tmp = xasprintf("%s.tmp%ld", to, (long)getpid());
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int ok = fd >= 0 && write(fd, buf, len) == (ssize_t)len && fsync(fd) == 0;
	e = errno;
	if (fd >= 0) close(fd);
	if (ok && link(tmp, to) < 0 && errno != EEXIST) {
		ok = 0;
		e = errno;
	}
	unlink(tmp);
	free(tmp);
	free(buf);
	return ok ? 0 : kxl_err(d, "cannot write %s: %s", to, strerror(e));
}

static int start_qemu(struct dmrun *r)
{
	const struct kxl_vmm_spec *s = r->spec;
	int *taps = r->nh.n ? xcalloc(r->nh.n, sizeof(int)) : NULL;
	for (size_t i = 0; i < r->nh.n; i++) taps[i] = r->nh.v[i].tap;
	struct kxl_dm_opts o = { .qmp_fd = -1, .qmp_path = r->qmp_path, .vars_path = r->vars_path,
				 .chroot_dir = r->chroot_dir, .unprivileged = geteuid() != 0,
				 .tap_fds = taps, .nr_tap_fds = r->nh.n, .domid = s->domid,
				 .nics = s->nics, .nr_nics = s->nr_nics };
	struct kxl_dm_argv a;
	/* the config's warnings were said at create: a restart says errors only */
	struct kxl_diag quiet;
	kxl_diag_init(&quiet);
	int rc = kxl_dm_args(r->arg->dom, r->arg->cfg, &o, &a, r->started ? &quiet : r->d);
	for (size_t i = 0; i < quiet.n; i++)
		if (quiet.v[i].sev == KXL_ERROR)
			kxl_diag_add(r->d, KXL_ERROR, &quiet.v[i].loc, "%s", quiet.v[i].msg);
	kxl_diag_free(&quiet);
	free(taps);
	if (rc) return -1;
	/* COM1 on kxl's console, unless the config places its serial ports */
	json_object *h = NULL, *b = NULL;
	json_object_object_get_ex(r->arg->dom->config, "b_info", &b);
	json_object_object_get_ex(b, "type.hvm", &h);
	bool own_serial = json_object_object_get_ex(h, "serial", NULL) ||
			  json_object_object_get_ex(h, "serial_list", NULL);
	bool stdio_con = s->console_in == 0 && s->console_out == 1;
	int con = -1;
	if (!own_serial && s->console_out >= 0) {
		char *spec_s = stdio_con ? xstrdup("stdio,id=kxl-con,signal=off") :
			       xasprintf("socket,id=kxl-con,fd=%d", s->console_out);
		char *extra[] = { "-chardev", spec_s, "-serial", "chardev:kxl-con" };
		for (size_t i = 0; i < 4; i++) {
			if (a.n + 2 > a.cap) { a.cap = a.cap * 2 + 8; a.v = xrealloc(a.v, a.cap * sizeof(char *)); }
			a.v[a.n++] = xstrdup(extra[i]);
			a.v[a.n] = NULL;
		}
		free(spec_s);
		con = stdio_con ? -1 : s->console_out;
	}
	int ep[2];
	if (pipe2(ep, O_CLOEXEC)) {
		kxl_dm_argv_free(&a);
		return kxl_err(r->d, "pipe: %s", strerror(errno));
	}
	unlink(r->qmp_path);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(ep[0]);
		close(ep[1]);
		kxl_dm_argv_free(&a);
		return kxl_err(r->d, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) _exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int null = open("/dev/null", O_RDWR);
		if (!stdio_con) {
			dup2(null, 0);
			dup2(null, 1);
		}
		dup2(ep[1], 2);
		for (size_t i = 0; i < r->nh.n; i++)
			fcntl(r->nh.v[i].tap, F_SETFD, 0);
		if (con >= 0) fcntl(con, F_SETFD, 0);
		const char *lim = kxl_dm_restricted(r->arg->dom) ? kxl_dm_restrict_limits(r->arg->dom) : NULL;
		if (lim) {
			dprintf(2, "dm_restrict: cannot set %s: %s\n", lim, strerror(errno));
			_exit(127);
		}
		execvp(a.v[0], a.v);
		dprintf(2, "cannot run %s: %s\n", a.v[0], strerror(errno));
		_exit(127);
	}
	close(ep[1]);
	kxl_dm_argv_free(&a);
	r->pid = pid;
	r->errfd = ep[0];
	fcntl(r->errfd, F_SETFL, O_NONBLOCK);
	r->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (r->pidfd < 0) {
		kill_qemu(r);
		return kxl_err(r->d, "pidfd_open: %s", strerror(errno));
	}
	struct kxl_diag qd;
	kxl_diag_init(&qd);
	/* until QEMU listens, or ends (then at once, not after the timeout) */
	struct pollfd pe = { .fd = r->pidfd, .events = POLLIN };
	for (int waited = 0; access(r->qmp_path, F_OK) && waited < QMP_TIMEOUT_MS; waited += 20)
		if (poll(&pe, 1, 20) > 0)
			break;
	if (pe.revents ? kxl_err(&qd, "QEMU exited") :
	    kxl_qmp_open(&r->q, r->qmp_path, QMP_TIMEOUT_MS, &qd)) {
		/* QEMU's own words first: the monitor reports the first error */
		struct pollfd pw = { .fd = r->pidfd, .events = POLLIN };
		poll(&pw, 1, 1000);
		char *w = last_words(r);
		kxl_err(r->d, "QEMU did not start: %s (%s)", w, qd.n ? qd.v[0].msg : "no QMP");
		free(w);
		kxl_diag_free(&qd);
		kill_qemu(r);
		return -1;
	}
	kxl_diag_free(&qd);
	const char *pw = NULL;
	json_object *vnc = NULL, *v = NULL;
	if (json_object_object_get_ex(h, "vnc", &vnc) && json_object_object_get_ex(vnc, "passwd", &v))
		pw = json_object_get_string(v);
	if (pw && *pw) {	/* never on QEMU's command line */
		json_object *args = json_object_new_object();
		json_object_object_add(args, "password", json_object_new_string(pw));
		json_object_object_add(args, "protocol", json_object_new_string("vnc"));
		if (kxl_qmp_cmd(&r->q, "set_password", args, NULL, CMD_TIMEOUT_MS, r->d)) {
			kill_qemu(r);
			return -1;
		}
	}
	r->stopped = false;
	r->paused = s->start_paused && !r->started;	/* -p holds the first boot only */
	r->started = true;
	if (!r->paused && kxl_qmp_cmd(&r->q, "cont", NULL, NULL, CMD_TIMEOUT_MS, r->d)) {
		kill_qemu(r);
		return -1;
	}
	emit(r, KXL_EV_STARTED, KXL_VMM_POWEROFF, NULL);
	return 0;
}

/* A file opened for QEMU (mode 0600 when created), never waiting in
 * open (a FIFO without its other end): the monitor's loop must go on. */
static int open_now(const char *path, int flags)
{
	int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* dump-guest-memory into path: kxl creates the file and QEMU writes the
 * descriptor it is given (getfd, then the protocol fd:NAME), so that a
 * QEMU in a dm_restrict chroot, as another user, writes it as well. */
static int dump_core(struct dmrun *r, const char *path, char *msg, size_t cap)
{
	int fd = open_now(path, O_WRONLY | O_CREAT | O_TRUNC);
	if (fd < 0)
		return snprintf(msg, cap, "cannot create core file %s: %s", path, strerror(errno)), -1;
	struct stat sb;
	bool file = !fstat(fd, &sb) && S_ISREG(sb.st_mode);
	struct kxl_diag tmp;
	kxl_diag_init(&tmp);
	json_object *args = json_object_new_object();
	json_object_object_add(args, "fdname", json_object_new_string(DUMP_FDNAME));
	int rc = kxl_qmp_cmd_fd(&r->q, "getfd", args, fd, NULL, CMD_TIMEOUT_MS, &tmp);
	close(fd);
	if (!rc) {
		args = json_object_new_object();
		json_object_object_add(args, "paging", json_object_new_boolean(0));
		json_object_object_add(args, "protocol", json_object_new_string("fd:" DUMP_FDNAME));
		rc = kxl_qmp_cmd(&r->q, "dump-guest-memory", args, NULL, DUMP_TIMEOUT_MS, &tmp);
		if (rc) {	/* QEMU takes the name when the dump starts; else it is still there */
			struct kxl_diag ign;
			kxl_diag_init(&ign);
			args = json_object_new_object();
			json_object_object_add(args, "fdname", json_object_new_string(DUMP_FDNAME));
			kxl_qmp_cmd(&r->q, "closefd", args, NULL, CMD_TIMEOUT_MS, &ign);
			kxl_diag_free(&ign);
		}
	}
	snprintf(msg, cap, "%s", rc ? (tmp.n ? tmp.v[0].msg : "failed") : "written");
	kxl_diag_free(&tmp);
	if (rc && file) unlink(path);	/* no empty or partial core left behind */
	return rc;
}

enum step { GO_ON, END };

static void ctl_reply(struct dmrun *r, int status, const char *msg)
{
	struct ctl_rep rep;
	memset(&rep, 0, sizeof(rep));
	rep.status = status;
	snprintf(rep.msg, sizeof(rep.msg), "%s", msg);
	if (send(r->spec->ctl_fd, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
		r->ctl_open = false;
}

/* The monitor's commands as QMP commands. */
static const struct { enum kxl_vmm_cmd cmd; const char *qmp; } ctl_qmp[] = {
	{ KXL_CMD_PAUSE, "stop" }, { KXL_CMD_UNPAUSE, "cont" },
	{ KXL_CMD_POWER, "system_powerdown" }, { KXL_CMD_RESET, "system_reset" },
	{ KXL_CMD_NMI, "inject-nmi" }, { KXL_CMD_WAKEUP, "system_wakeup" },
};

static int qmp_msg(struct dmrun *r, const char *cmd, json_object *args, json_object **ret,
		   char *msg, size_t cap)
{
	struct kxl_diag tmp;
	kxl_diag_init(&tmp);
	int st = kxl_qmp_cmd(&r->q, cmd, args, ret, CMD_TIMEOUT_MS, &tmp);
	if (st) snprintf(msg, cap, "%s", tmp.n ? tmp.v[0].msg : "failed");
	kxl_diag_free(&tmp);
	return st;
}

/* cd-insert "VDEV PATH" / cd-eject "VDEV": the medium of the IDE CD-ROM
 * (xl's verbs; the tray is forced open, as a guest may lock it). */
static int cd_change(struct dmrun *r, bool insert, char *arg, char *msg, size_t cap)
{
	char *path = insert ? strchr(arg, ' ') : NULL;
	if (insert && (!path || path[1] != '/'))
		return snprintf(msg, cap, "cd-insert needs a device and an absolute file name"), -1;
	if (path) *path++ = 0;
	char id[32];
	struct kxl_diag tmp;
	kxl_diag_init(&tmp);
	int st = kxl_dm_cdrom_id(r->arg->dom, arg, id, sizeof(id), &tmp);
	if (st) snprintf(msg, cap, "%s", tmp.v[0].msg);
	kxl_diag_free(&tmp);
	if (st) return -1;
	long long fdset = -1;
	if (insert) {
		/* kxl opens the image, QEMU gets the descriptor in an fd set
		 * (libxl's way under dm_restrict: QEMU's chroot has no files) */
		int fd = open_now(path, O_RDONLY);
		if (fd < 0)
			return snprintf(msg, cap, "%s cannot be read: %s", path, strerror(errno)), -1;
		kxl_diag_init(&tmp);
		st = kxl_qmp_add_fd(&r->q, fd, &fdset, CMD_TIMEOUT_MS, &tmp);
		close(fd);
		if (st) snprintf(msg, cap, "%s", tmp.n ? tmp.v[0].msg : "add-fd failed");
		kxl_diag_free(&tmp);
		if (st) return -1;
	}
	json_object *args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_string(id));
	json_object_object_add(args, "force", json_object_new_boolean(1));
	if (insert) {
		char *fdpath = xasprintf("/dev/fdset/%lld", fdset);
		json_object_object_add(args, "filename", json_object_new_string(fdpath));
		json_object_object_add(args, "format", json_object_new_string("raw"));
		free(fdpath);
	}
	st = qmp_msg(r, insert ? "blockdev-change-medium" : "eject", args, NULL, msg, cap);
	if (fdset >= 0) {	/* the medium holds a copy of its own now (or failed) */
		kxl_diag_init(&tmp);
		if (kxl_qmp_remove_fdset(&r->q, fdset, CMD_TIMEOUT_MS, &tmp))
			logf_(r, "%s: fd set %lld of QEMU: %s", r->spec->name, fdset,
			      tmp.n ? tmp.v[0].msg : "remove-fd failed");
		kxl_diag_free(&tmp);
	}
	if (st) return -1;
	snprintf(msg, cap, insert ? "inserted" : "ejected");
	return 0;
}

/* query-vnc: "HOST:PORT" of QEMU's VNC server. */
static int vnc_addr(struct dmrun *r, char *msg, size_t cap)
{
	json_object *ret = NULL, *v;
	if (qmp_msg(r, "query-vnc", NULL, &ret, msg, cap)) return -1;
	const char *host = json_object_object_get_ex(ret, "host", &v) ? json_object_get_string(v) : NULL;
	const char *port = json_object_object_get_ex(ret, "service", &v) ? json_object_get_string(v) : NULL;
	bool on = json_object_object_get_ex(ret, "enabled", &v) && json_object_get_boolean(v);
	int st = on && host && port ? 0 : -1;
	if (st) snprintf(msg, cap, "the domain has no VNC server (vnc = 1 gives it one)");
	else snprintf(msg, cap, "%s:%s", host, port);
	json_object_put(ret);
	return st;
}

/* query-chardev: the pty of the first serial port (QEMU's chardev serial0,
 * which the config's serial = "pty" makes). */
static int serial_pty(struct dmrun *r, char *msg, size_t cap)
{
	json_object *ret = NULL, *v;
	if (qmp_msg(r, "query-chardev", NULL, &ret, msg, cap)) return -1;
	int st = -1;
	snprintf(msg, cap, "COM1 is kxl's console");
	size_t n = json_object_is_type(ret, json_type_array) ? json_object_array_length(ret) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(ret, i);
		const char *label = json_object_object_get_ex(c, "label", &v) ? json_object_get_string(v) : "";
		const char *file = json_object_object_get_ex(c, "filename", &v) ? json_object_get_string(v) : "";
		if (!label || strcmp(label, "serial0")) continue;
		if (file && !strncmp(file, "pty:", 4) && file[4] == '/') {
			snprintf(msg, cap, "%s", file + 4);
			st = 0;
		} else {
			snprintf(msg, cap, "the first serial port is `%s', not a pty: kxl console cannot "
				 "reach it", file ? file : "?");
		}
		break;
	}
	json_object_put(ret);
	return st;
}

static enum step handle_ctl(struct dmrun *r, struct kxl_vmm_result *res)
{
	struct ctl_req req;
	char msg[256] = "";
	ssize_t n = read(r->spec->ctl_fd, &req, sizeof(req));
	if (n <= 0) {
		r->ctl_open = false;
		return GO_ON;
	}
	if (n != (ssize_t)sizeof(req)) {
		ctl_reply(r, -1, "malformed request");
		return GO_ON;
	}
	req.arg[sizeof(req.arg) - 1] = 0;
	if (req.cmd == KXL_CMD_DESTROY) {
		ctl_reply(r, 0, "destroyed");
		res->outcome = KXL_VMM_DESTROYED;
		return END;
	}
	if (req.cmd == KXL_CMD_DUMP_CORE) {
		int st = req.arg[0] ? dump_core(r, req.arg, msg, sizeof(msg)) :
			 (snprintf(msg, sizeof(msg), "dump-core needs a file name"), -1);
		ctl_reply(r, st, msg);
		return GO_ON;
	}
	if (req.cmd == KXL_CMD_STATUS) {
		ctl_reply(r, 0, r->paused || r->stopped ? "paused" : "running");
		return GO_ON;
	}
	if (req.cmd == KXL_CMD_VNC || req.cmd == KXL_CMD_SERIAL) {
		int st = req.cmd == KXL_CMD_VNC ? vnc_addr(r, msg, sizeof(msg)) :
			 serial_pty(r, msg, sizeof(msg));
		ctl_reply(r, st, msg);
		return GO_ON;
	}
	if (r->stopped) {
		ctl_reply(r, -1, "the guest has stopped (preserved); only destroy and dump-core apply");
		return GO_ON;
	}
	if (req.cmd == KXL_CMD_CD_INSERT || req.cmd == KXL_CMD_CD_EJECT) {
		ctl_reply(r, cd_change(r, req.cmd == KXL_CMD_CD_INSERT, req.arg, msg, sizeof(msg)), msg);
		return GO_ON;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ctl_qmp); i++) {
		if (ctl_qmp[i].cmd != (enum kxl_vmm_cmd)req.cmd) continue;
		struct kxl_diag tmp;
		kxl_diag_init(&tmp);
		int st = kxl_qmp_cmd(&r->q, ctl_qmp[i].qmp, NULL, NULL, CMD_TIMEOUT_MS, &tmp);
		ctl_reply(r, st, st ? (tmp.n ? tmp.v[0].msg : "failed") : "done");
		kxl_diag_free(&tmp);
		if (!st && req.cmd == KXL_CMD_PAUSE && !r->paused) {
			r->paused = true;
			emit(r, KXL_EV_PAUSED, KXL_VMM_POWEROFF, NULL);
		} else if (!st && req.cmd == KXL_CMD_UNPAUSE && r->paused) {
			r->paused = false;
			emit(r, KXL_EV_UNPAUSED, KXL_VMM_POWEROFF, NULL);
		}
		return GO_ON;
	}
	ctl_reply(r, -1, "not a command kxl's QEMU supervisor knows");
	return GO_ON;
}

/* The guest stopped: its on_* action. */
static enum step guest_stopped(struct dmrun *r, enum kxl_dm_ev kind, struct kxl_vmm_result *res)
{
	const struct kxl_vmm_spec *s = r->spec;
	/* a watchdog that fired ends the run as a crash does (exit 4), by
	 * on_watchdog's action */
	enum kxl_vmm_outcome o = kind == KXL_DM_EV_POWEROFF ? KXL_VMM_POWEROFF :
				 kind == KXL_DM_EV_REBOOT ? KXL_VMM_REBOOT : KXL_VMM_CRASH;
	enum kxl_action act = kind == KXL_DM_EV_WATCHDOG ? r->arg->on_watchdog :
			      o == KXL_VMM_POWEROFF ? s->on_poweroff :
			      o == KXL_VMM_REBOOT ? s->on_reboot : s->on_crash;
	emit(r, KXL_EV_STOPPED, o, kxl_dm_event_key(kind));
	logf_(r, "%s: guest %s; %s = %s", s->name, kxl_vmm_outcome_name(o), kxl_dm_event_key(kind),
	      kxl_action_name(act));
	res->outcome = o;
	if (act == KXL_ACTION_COREDUMP_DESTROY || act == KXL_ACTION_COREDUMP_RESTART) {
		char msg[256];
		char *path = xasprintf("%s/%s-%u-%lld.core", s->dump_dir ? s->dump_dir : ".", s->name,
				       r->gen, (long long)time(NULL));
		if (!dump_core(r, path, msg, sizeof(msg))) {
			free(res->last_core);
			res->last_core = xstrdup(path);
			emit(r, KXL_EV_CORE_WRITTEN, o, path);
		} else {
			logf_(r, "core dump failed: %s", msg);
		}
		free(path);
	}
	switch (act) {
	case KXL_ACTION_PRESERVE:
		r->stopped = true;
		emit(r, KXL_EV_PRESERVED, o, NULL);
		return GO_ON;
	case KXL_ACTION_RESTART: case KXL_ACTION_RENAME_RESTART: case KXL_ACTION_SOFT_RESET:
	case KXL_ACTION_COREDUMP_RESTART:
		quit_qemu(r);
		emit(r, KXL_EV_RESTARTING, o, NULL);
		res->restarts++;
		r->gen++;
		if (start_qemu(r)) {
			res->outcome = KXL_VMM_ERROR;
			return END;
		}
		return GO_ON;
	default:
		return END;
	}
}

static enum step loop_once(struct dmrun *r, struct kxl_vmm_result *res)
{
	struct pollfd p[4] = {
		{ .fd = r->q.fd, .events = POLLIN }, { .fd = r->pidfd, .events = POLLIN },
		{ .fd = r->errfd, .events = POLLIN },
		{ .fd = r->ctl_open ? r->spec->ctl_fd : -1, .events = POLLIN },
	};
	struct pollfd ps = { .fd = r->sigfd, .events = POLLIN };
	struct pollfd all[5];
	memcpy(all, p, sizeof(p));
	all[4] = ps;
	if (!r->q.nev && poll(all, 5, -1) < 0 && errno != EINTR)
		return kxl_err(r->d, "poll: %s", strerror(errno)), res->outcome = KXL_VMM_ERROR, END;
	if (all[2].revents) read_err(r);
	if (r->sigfd >= 0 && all[4].revents) {
		struct signalfd_siginfo si;
		if (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			res->outcome = KXL_VMM_DESTROYED;
			res->signo = (int)si.ssi_signo;
			return END;
		}
	}
	if (r->q.nev || all[0].revents) {
		json_object *ev = NULL;
		struct kxl_diag tmp;
		kxl_diag_init(&tmp);
		int got = kxl_qmp_event(&r->q, &ev, 0, &tmp);
		kxl_diag_free(&tmp);
		if (got > 0) {
			enum kxl_dm_ev kind = kxl_dm_event_kind(ev);
			json_object_put(ev);
			if (kind != KXL_DM_EV_NONE && kind != KXL_DM_EV_HOST && !r->stopped)
				return guest_stopped(r, kind, res);
			return GO_ON;
		}
		if (got < 0) kxl_qmp_close(&r->q);	/* QEMU going away: the pidfd says */
	}
	if (all[1].revents || (r->q.fd < 0 && r->pid > 0)) {
		int st = 0;
		struct pollfd pw = { .fd = r->pidfd, .events = POLLIN };
		poll(&pw, 1, 2000);
		if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
			r->pid = 0;
			char *w = last_words(r);
			kxl_diag_add(r->d, KXL_ERROR, NULL, "QEMU of %s ended on its own (%s %d): %s",
				     r->spec->name, WIFSIGNALED(st) ? "signal" : "status",
				     WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), w);
			free(w);
			emit(r, KXL_EV_STOPPED, KXL_VMM_CRASH, "QEMU ended");
			res->outcome = KXL_VMM_CRASH;
			return END;
		}
	}
	if (r->ctl_open && all[3].revents)
		return handle_ctl(r, res);
	return GO_ON;
}

int kxl_dm_run(const struct kxl_vmm_spec *spec, struct kxl_vmm_result *res, struct kxl_diag *d)
{
	memset(res, 0, sizeof(*res));
	const struct kxl_dm_run_arg *arg = spec->runner_arg;
	struct dmrun r = { .spec = spec, .arg = arg, .d = d, .pidfd = -1, .errfd = -1, .sigfd = -1,
			   .ctl_open = spec->ctl_fd >= 0 };
	r.q.fd = -1;
	r.qmp_path = xasprintf("%s/qmp.sock", arg->dir);
	int rc = -1;
	sigset_t old, sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	if (spec->handle_signals) {
		pthread_sigmask(SIG_BLOCK, &sigs, &old);
		r.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	}
	if (kxl_dm_uses_ovmf(arg->dom)) {
		r.vars_temp = !arg->vars_path;
		r.vars_path = arg->vars_path ? xstrdup(arg->vars_path) :
			      xasprintf("%s/OVMF_VARS.fd", arg->dir);
		if (access(r.vars_path, F_OK) && copy_file(KXL_OVMF_VARS, r.vars_path, d))
			goto out;
	}
	/* dm_restrict: an empty directory of its own as QEMU's root */
	if (geteuid() == 0 && kxl_dm_restricted(arg->dom)) {
		r.chroot_dir = xasprintf("%s/root", arg->dir);
		if (mkdir(r.chroot_dir, 0755) < 0 && errno != EEXIST) {
			kxl_err(d, "cannot make QEMU's root %s: %s", r.chroot_dir, strerror(errno));
			goto out;
		}
	}
	/* the taps: named as libxl names the emulated side (-emu) */
	if (spec->nr_nics) {
		r.nics = xcalloc(spec->nr_nics, sizeof(*r.nics));
		r.names = xcalloc(spec->nr_nics, sizeof(*r.names));
		for (size_t i = 0; i < spec->nr_nics; i++) {
			r.nics[i] = spec->nics[i];
			char base[IFNAMSIZ];
			if (net_host_ifname(&spec->nics[i], spec->domid, base, IFNAMSIZ - 4, d)) goto out;
			base[IFNAMSIZ - 5] = 0;	/* net_host_ifname fits it already */
			snprintf(r.names[i], IFNAMSIZ, "%.11s-emu", base);
			r.nics[i].ifname = r.names[i];
		}
		struct kxl_vmm_spec ns = *spec;
		ns.nics = r.nics;
		if (net_hosts_open(&ns, &r.nh, d)) goto out;
	}
	if (start_qemu(&r)) {
		res->outcome = KXL_VMM_ERROR;
		goto out;
	}
	while (loop_once(&r, res) == GO_ON) {}
	rc = res->outcome == KXL_VMM_ERROR ? -1 : 0;
out:
	quit_qemu(&r);
	if (r.nh.n) {
		struct kxl_vmm_spec ns = *spec;
		ns.nics = r.nics;
		net_hosts_close(&ns, &r.nh);
	}
	if (r.vars_path && r.vars_temp) unlink(r.vars_path);
	if (r.chroot_dir) rmdir(r.chroot_dir);
	free(r.chroot_dir);
	rmdir(arg->dir);	/* the domain's directory ends with it */
	free(r.vars_path);
	free(r.qmp_path);
	free(r.nics);
	free(r.names);
	if (r.sigfd >= 0) {
		close(r.sigfd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (rc) res->outcome = KXL_VMM_ERROR;
	return rc;
}
