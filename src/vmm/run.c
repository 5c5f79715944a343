/*
 * run.c: kxl_vmm_run(), the parent side of a domain. It builds the image,
 * forks the guest-facing child (child.c) for each boot, forwards the
 * monitor's control commands to it, and applies on_poweroff, on_reboot and
 * on_crash when the child reports a stop: destroy, restart and
 * rename-restart (a fresh image, a fresh child; spec->reboot_boot, when
 * set, renews the boot sources first: create's bootloader), preserve (the stopped
 * child stays, paused, until a signal or a destroy command), and the
 * coredump-* actions (the child sends its vCPU state, the parent writes
 * the core from the shared guest memory). Foreground signals (SIGINT,
 * SIGTERM, SIGHUP) destroy the domain. Nothing here touches the guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"
#include "util/util.h"
#include "vmm/net-host.h"
#include "vmm/priv.h"
#include "vmm/virtio-blk.h"

#define CHILD_REPLY_TIMEOUT_MS 10000
/* Building a VM takes milliseconds; a child not ready by then is stuck
 * (see boot_start). */
#if KXL_ASAN
#define CHILD_START_TIMEOUT_MS 10000
#define CHILD_START_ATTEMPTS 3
#else
#define CHILD_START_TIMEOUT_MS 30000
#define CHILD_START_ATTEMPTS 1
#endif

#if KXL_TSAN
/* ThreadSanitizer builds only. kxl_vmm_run() forks the child from a
 * process that has other threads (the monitor, the test driver) and the
 * child then starts its vCPU threads; TSan refuses that by default
 * (die_after_fork) because a lock another thread held at the fork would
 * stay held in the child. TSan's own locks and the allocator are taken
 * around fork by its interceptor and glibc resets its own (stdio, malloc
 * arenas); the child takes no lock of the parent's code, only its own,
 * created after the fork. TSAN_OPTIONS still overrides this. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "die_after_fork=0";
}
#endif

struct run {
	const struct kxl_vmm_spec *spec;
	struct kxl_vmm_result *res;
	struct kxl_diag *d;
	char *boot_notes;	/* this boot's notes, one a line: its STARTED's detail */
	int sigfd;
	int con_out;
	int64_t clock_offset;
	unsigned gen;

	/* the current boot */
	struct kxl_guest_image img;
	bool have_img;
	pid_t pid;
	int sock;
	bool paused;
	bool stopped;		/* the child reported a stop */
	bool pending_stop;	/* a stop arrived during a request */
	bool unresponsive;	/* the child timed out or flooded us */
	struct vmm_msg stop_msg;
	struct vmm_vcpu_state *states;
	unsigned nr_states;

	/* Killed children not yet reaped: tearing down a VM with an in-kernel
	 * irqchip takes the kernel 12-16 ms here, so nobody waits for it. */
	pid_t zombies[8];
	unsigned nr_zombies;

	/* spec->disks, opened once for every boot: virtio-blk devices that
	 * follow the spec's own vdevs in the child's list; a disk in one of
	 * QEMU's formats has its qemu-storage-daemon (disk_qsd[i].d.pid != 0) */
	struct kxl_vmm_vdev *disk_vdevs;
	size_t nr_disk_vdevs;
	struct blk_qsd *disk_qsd;

	/* spec->nics: their taps, made once for every boot (net-host.c);
	 * their virtio-net devices follow the disks */
	struct net_hosts nets;

	/* every virtio device, window i = vdevs[i] (vdevs_build): the default
	 * console and rng first, then the spec's vdevs, then the disks */
	struct kxl_vmm_vdev vdevs[KXL_VIRTIO_MMIO_MAX];
	unsigned nr_vdevs;
};

/* ---- disks ----
 * Each disk of the spec is opened here, in the privileged parent, once for
 * the domain's life (restarts reuse the descriptors), and reaches the
 * guest-facing child as fds[0] of a KXL_VDEV_BLK device whose cfg is the
 * spec's struct kxl_vmm_disk. A read-write disk takes an exclusive flock,
 * a read-only one a shared lock, so that two domains never write one image
 * (or one writes what the other reads). An image in one of QEMU's formats
 * gets a qemu-storage-daemon instead (virtio-blk.h), for the domain's life,
 * and each boot's child fresh NBD connections to it (disks_connect). */
static void disks_close(struct run *r)
{
	for (size_t i = 0; i < r->nr_disk_vdevs; i++) {
		if (r->disk_vdevs[i].fds[0] >= 0)
			close(r->disk_vdevs[i].fds[0]);
		if (r->disk_qsd[i].d.pid || r->disk_qsd[i].d.dir)
			blk_qsd_stop(&r->disk_qsd[i]);
	}
	free(r->disk_vdevs);
	free(r->disk_qsd);
	r->disk_vdevs = NULL;
	r->disk_qsd = NULL;
	r->nr_disk_vdevs = 0;
}

/* The child's list entry of disk i (vdevs_build copied disk_vdevs there). */
static struct kxl_vmm_vdev *disk_entry(struct run *r, size_t i)
{
	for (unsigned v = 0; v < r->nr_vdevs; v++)
		if (r->vdevs[v].type == KXL_VDEV_BLK && r->vdevs[v].cfg == r->disk_vdevs[i].cfg)
			return &r->vdevs[v];
	return NULL;
}

/* Before each boot: fresh connections to each qemu-storage-daemon (a
 * killed child may have left a request half sent on the old ones). */
static void disks_disconnect(struct run *r)
{
	for (size_t i = 0; i < r->nr_disk_vdevs; i++) {
		struct kxl_vmm_vdev *v = disk_entry(r, i);
		if (!r->disk_qsd[i].d.pid || !v)
			continue;
		for (unsigned f = 0; f < BLK_NBD_CONNS; f++)
			if (v->fds[f] >= 0) {
				close(v->fds[f]);
				v->fds[f] = -1;
			}
	}
}

static int disks_connect(struct run *r)
{
	for (size_t i = 0; i < r->nr_disk_vdevs; i++) {
		struct kxl_vmm_vdev *v = disk_entry(r, i);
		if (!r->disk_qsd[i].d.pid || !v)
			continue;
		if (blk_qsd_connect(&r->disk_qsd[i], v->cfg, v->fds, BLK_NBD_CONNS, r->d) < 0) {
			disks_disconnect(r);
			return -1;
		}
	}
	return 0;
}

static int disks_open(struct run *r)
{
	const struct kxl_vmm_spec *s = r->spec;
	r->disk_vdevs = xcalloc(s->nr_disks + 1, sizeof(*r->disk_vdevs));
	r->disk_qsd = xcalloc(s->nr_disks + 1, sizeof(*r->disk_qsd));
	for (size_t i = 0; i < s->nr_disks; i++) {
		const struct kxl_vmm_disk *k = &s->disks[i];
		const char *vdev = k->vdev ? k->vdev : "?";
		if (!k->path)
			return kxl_err(r->d, "disk %s: no image or device to open", vdev);
		if (k->qemu_format) {
			/* the daemon opens (and locks) the image; the child gets
			 * connections to it at each boot (disks_connect) */
			if (blk_qsd_start(k, &r->disk_qsd[r->nr_disk_vdevs], r->d) < 0)
				return -1;
			struct kxl_vmm_vdev *v = &r->disk_vdevs[r->nr_disk_vdevs++];
			*v = (struct kxl_vmm_vdev){ .type = KXL_VDEV_BLK, .id = vdev, .cfg = k,
						    .fds = { -1, -1, -1, -1 } };
			continue;
		}
		int fd = open(k->path, (k->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return kxl_err(r->d, "disk %s: cannot open %s%s: %s", vdev, k->path,
				       k->readonly ? "" : " for reading and writing", strerror(errno));
		if (flock(fd, (k->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
			int e = errno;
			close(fd);
			if (e == EWOULDBLOCK)
				return kxl_err(r->d, "disk %s: %s is in use: another domain or program "
					       "holds a lock on it%s", vdev, k->path,
					       k->readonly ? " for writing" : "");
			return kxl_err(r->d, "disk %s: cannot lock %s: %s", vdev, k->path, strerror(e));
		}
		struct kxl_vmm_vdev *v = &r->disk_vdevs[r->nr_disk_vdevs++];
		v->type = KXL_VDEV_BLK;
		v->id = vdev;
		v->fds[0] = fd;
		for (unsigned f = 1; f < KXL_VDEV_MAX_FDS; f++)
			v->fds[f] = -1;
		v->cfg = k;
	}
	return 0;
}

static void reap_zombies(struct run *r)
{
	unsigned j = 0;
	for (unsigned i = 0; i < r->nr_zombies; i++)
		if (waitpid(r->zombies[i], NULL, WNOHANG) == 0)
			r->zombies[j++] = r->zombies[i];
	r->nr_zombies = j;
}

static void emit(struct run *r, enum kxl_vmm_event_type t, enum kxl_vmm_outcome o,
		 bool rename, const char *detail)
{
	if (!r->spec->on_event)
		return;
	struct kxl_vmm_event ev = {
		.type = t, .outcome = o, .generation = r->gen, .rename = rename, .detail = detail,
	};
	r->spec->on_event(r->spec->opaque, &ev);
}

__attribute__((format(printf, 2, 3)))
static void note(struct run *r, const char *fmt, ...)
{
	if (r->spec->log_fd < 0)
		return;
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(buf, sizeof(buf), "kxl: %s: ", r->spec->name ? r->spec->name : "guest");
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (write(r->spec->log_fd, buf, strlen(buf)) < 0) {
		/* a log that cannot be written is not an error of the guest */
	}
}

/* Ends the current child (if any) and frees the current image. */
static void boot_end(struct run *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		reap_zombies(r);
		if (waitpid(r->pid, NULL, WNOHANG) == 0) {
			if (r->nr_zombies == ARRAY_SIZE(r->zombies)) {
				while (waitpid(r->zombies[0], NULL, 0) < 0 && errno == EINTR)
					;
				memmove(r->zombies, r->zombies + 1, --r->nr_zombies * sizeof(pid_t));
			}
			r->zombies[r->nr_zombies++] = r->pid;
		}
		r->pid = 0;
	}
	if (r->sock >= 0)
		close(r->sock);
	r->sock = -1;
	if (r->have_img)
		kxl_guest_image_free(&r->img);
	r->have_img = false;
	free(r->states);
	r->states = NULL;
	r->nr_states = 0;
	r->stopped = r->pending_stop = r->unresponsive = false;
	r->paused = false;
}

/* Why the child went away, as an error. */
static int child_died(struct run *r)
{
	int status = 0;
	pid_t p;
	if (r->unresponsive) {
		/* alive but not keeping to the protocol: end it */
		kill(r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
		r->pid = 0;
		return kxl_err(r->d, "the VMM process stopped answering and was killed");
	}
	/* its socket closed: it is exiting, so this wait ends */
	while ((p = waitpid(r->pid, &status, 0)) < 0 && errno == EINTR)
		;
	r->pid = 0;
	if (p > 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		return kxl_err(r->d, "the VMM process made a system call outside its seccomp "
			       "filter and was killed (SIGSYS)");
	if (p > 0 && WIFSIGNALED(status))
		return kxl_err(r->d, "the VMM process died of signal %d (%s)",
			       WTERMSIG(status), strsignal(WTERMSIG(status)));
	return kxl_err(r->d, "the VMM process ended unexpectedly (status %d)",
		       p > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Reads one message from the child, waiting at most timeout_ms (-1: no
 * limit). Returns its size, 0 on timeout, -1 when the child is gone. */
static ssize_t child_read(struct run *r, void *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = r->sock, .events = POLLIN };
	int n;
	while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (n == 0)
		return 0;
	ssize_t got = read(r->sock, buf, len);
	return got > 0 ? got : -1;
}

/* Sends a command to the child and waits for its reply, collecting vCPU
 * states on the way. Returns 0 or -1 (reply status or child trouble; in
 * the latter case *gone is set). */
static int child_call(struct run *r, uint32_t cmd, char *msg, size_t msglen, bool *gone)
{
	struct vmm_msg m;
	union {
		struct vmm_msg m;
		struct vmm_vcpu_state s;
	} in;

	*gone = false;
	memset(&m, 0, sizeof(m));
	m.type = MSG_CMD;
	m.a = cmd;
	if (send(r->sock, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m)) {
		*gone = true;
		return -1;
	}
	/* The child runs guest-facing code: trust nothing it sends. At most one
	 * state per vCPU and a bounded number of messages before the reply. */
	for (unsigned budget = r->img.vcpus + 4; budget; budget--) {
		ssize_t n = child_read(r, &in, sizeof(in), CHILD_REPLY_TIMEOUT_MS);
		if (n <= 0) {
			*gone = true;
			if (n == 0) {
				r->unresponsive = true;
				snprintf(msg, msglen, "the VMM process does not answer");
			}
			return -1;
		}
		if (in.m.type == MSG_VCPU_STATE && n == (ssize_t)sizeof(in.s)) {
			if (r->nr_states >= r->img.vcpus)
				continue;
			r->states = xrealloc(r->states, (r->nr_states + 1) * sizeof(*r->states));
			r->states[r->nr_states++] = in.s;
		} else if (in.m.type == MSG_STOPPED && n == (ssize_t)sizeof(in.m)) {
			r->pending_stop = true;
			r->stop_msg = in.m;
		} else if (in.m.type == MSG_REPLY && n == (ssize_t)sizeof(in.m)) {
			in.m.text[sizeof(in.m.text) - 1] = 0;
			snprintf(msg, msglen, "%s", in.m.text);
			return in.m.status ? -1 : 0;
		}
	}
	*gone = true;
	r->unresponsive = true;
	snprintf(msg, msglen, "the VMM process sent too many messages");
	return -1;
}

static char *core_path(struct run *r)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
	const char *dir = r->spec->dump_dir ? r->spec->dump_dir : ".";
	return xasprintf("%s/%s-%u-%s.core", dir, r->spec->name ? r->spec->name : "guest",
			 r->gen, ts);
}

/* Writes a core of the current boot to path. */
static int dump_core(struct run *r, const char *path, char *msg, size_t msglen)
{
	bool gone;
	free(r->states);
	r->states = NULL;
	r->nr_states = 0;
	if (child_call(r, CHILD_GETSTATE, msg, msglen, &gone) < 0) {
		if (gone)
			snprintf(msg, msglen, "the VMM process is gone");
		return -1;
	}
	struct kxl_diag d;
	kxl_diag_init(&d);
	int ret = vmm_write_core(path, &r->img, r->states, r->nr_states, &d);
	if (ret < 0)
		snprintf(msg, msglen, "%s", d.v[0].msg);
	else
		snprintf(msg, msglen, "core written to %s", path);
	kxl_diag_free(&d);
	if (!ret) {
		free(r->res->last_core);
		r->res->last_core = xstrdup(path);
		emit(r, KXL_EV_CORE_WRITTEN, KXL_VMM_POWEROFF, false, path);
	}
	return ret;
}

static void ctl_reply(struct run *r, int status, const char *msg)
{
	struct ctl_rep rep;
	memset(&rep, 0, sizeof(rep));
	rep.status = status;
	snprintf(rep.msg, sizeof(rep.msg), "%s", msg ? msg : "");
	if (send(r->spec->ctl_fd, &rep, sizeof(rep), MSG_NOSIGNAL) < 0) {
		/* the monitor went away; it sees the domain end */
	}
}

enum step { STEP_CONTINUE, STEP_STOPPED, STEP_DESTROYED, STEP_ERROR };

/* One control request from the monitor. */
static enum step handle_ctl(struct run *r)
{
	struct ctl_req req;
	char msg[256] = "";
	ssize_t n = read(r->spec->ctl_fd, &req, sizeof(req));
	if (n <= 0)
		return STEP_CONTINUE;	/* the monitor closed its end: ignore it from now on */
	if (n != (ssize_t)sizeof(req)) {
		ctl_reply(r, -1, "malformed request");
		return STEP_CONTINUE;
	}
	req.arg[sizeof(req.arg) - 1] = 0;
	if (req.cmd == KXL_CMD_DESTROY) {
		ctl_reply(r, 0, "destroyed");
		return STEP_DESTROYED;
	}
	if (req.cmd == KXL_CMD_DUMP_CORE) {
		int st = req.arg[0] ? dump_core(r, req.arg, msg, sizeof(msg)) :
			 (snprintf(msg, sizeof(msg), "dump-core needs a file name"), -1);
		ctl_reply(r, st, msg);
		return STEP_CONTINUE;
	}
	if (r->stopped && req.cmd != KXL_CMD_STATUS) {
		ctl_reply(r, -1, "the guest has stopped (preserved); only destroy and dump-core apply");
		return STEP_CONTINUE;
	}
	const char *hvm_only = kxl_vmm_cmd_hvm_only(req.cmd);
	if (hvm_only) {
		ctl_reply(r, -1, hvm_only);
		return STEP_CONTINUE;
	}
	bool gone;
	int st = child_call(r, req.cmd, msg, sizeof(msg), &gone);
	ctl_reply(r, st, msg);
	if (gone)
		return STEP_ERROR;
	if (!st && req.cmd == KXL_CMD_PAUSE && !r->paused) {
		r->paused = true;
		emit(r, KXL_EV_PAUSED, KXL_VMM_POWEROFF, false, NULL);
	} else if (!st && req.cmd == KXL_CMD_UNPAUSE && r->paused) {
		r->paused = false;
		emit(r, KXL_EV_UNPAUSED, KXL_VMM_POWEROFF, false, NULL);
	}
	return STEP_CONTINUE;
}

/* Waits for the current boot to stop. */
static enum step wait_boot(struct run *r, int *signo)
{
	for (;;) {
		if (r->pending_stop && !r->stopped) {
			r->pending_stop = false;
			return STEP_STOPPED;
		}
		struct pollfd p[3] = {
			{ .fd = r->stopped ? -1 : r->sock, .events = POLLIN },
			{ .fd = r->spec->ctl_fd, .events = POLLIN },
			{ .fd = r->sigfd, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			kxl_err(r->d, "poll: %s", strerror(errno));
			return STEP_ERROR;
		}
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				*signo = (int)si.ssi_signo;
				return STEP_DESTROYED;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			enum step s = (p[1].revents & POLLIN) ? handle_ctl(r) : STEP_CONTINUE;
			if (s == STEP_ERROR) {
				child_died(r);
				return s;
			}
			if (s != STEP_CONTINUE)
				return s;
		}
		if (p[0].revents) {
			struct vmm_msg m;
			ssize_t n = child_read(r, &m, sizeof(m), 0);
			if (n < 0) {
				child_died(r);
				return STEP_ERROR;
			}
			if (n == (ssize_t)sizeof(m) && m.type == MSG_STOPPED) {
				r->stop_msg = m;
				return STEP_STOPPED;
			}
		}
	}
}

/* The builder's notes and warnings (console=ttyS0 appended, module
 * cmdlines dropped, ...) go to the log when the domain first starts, and
 * are not repeated for each restart. PRE is the notes of this boot made
 * before the build (the spec's for the first, the reboot hook's for a
 * restart). */
static void boot_messages(struct run *r, size_t before, const char *pre)
{
	struct kxl_diag *d = r->d;
	if (r->gen == 0 && r->spec->log_fd >= 0) {
		int fd = dup(r->spec->log_fd);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
		for (size_t i = before; f && i < d->n; i++)
			if (d->v[i].sev != KXL_ERROR) kxl_msg_print(&d->v[i], f);
		if (f) fclose(f);
		else if (fd >= 0) close(fd);
	}
	/* each boot's notes go with its STARTED event (for the record of what
	 * kxl changed, `list -l'): a restart may boot another kernel or
	 * command line (the bootloader runs again) */
	struct sbuf nb = { 0 };
	if (pre && *pre)
		sbuf_printf(&nb, "%s", pre);
	for (size_t i = before; i < d->n; i++)
		if (d->v[i].sev == KXL_NOTE)
			sbuf_printf(&nb, "%s\n", d->v[i].msg);
	free(r->boot_notes);
	r->boot_notes = nb.s;
	/* keep the errors; drop what was reported (or is a repeat) */
	size_t w = before;
	for (size_t i = before; i < d->n; i++) {
		if (d->v[i].sev == KXL_ERROR) { d->v[w++] = d->v[i]; continue; }
		free(d->v[i].msg);
		free((char *)d->v[i].loc.file);
		free((char *)d->v[i].loc.text);
	}
	d->n = w;
}

/* Forks the child for the built image and waits until it is ready.
 * Returns 0, -1 on error (in r->d), or 1 when the child did not get ready
 * in time and was killed. */
static int child_spawn(struct run *r)
{
	const struct kxl_vmm_spec *s = r->spec;
	int sv[2];

	if (disks_connect(r) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		disks_disconnect(r);
		return kxl_err(r->d, "socketpair: %s", strerror(errno));
	}
	pid_t pid = fork();
	if (pid != 0)
		disks_disconnect(r);	/* the child has its own */
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return kxl_err(r->d, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(sv[0]);
		if (s->ctl_fd >= 0)
			close(s->ctl_fd);
		if (r->sigfd >= 0)
			close(r->sigfd);
		struct child_args a = {
			.img = &r->img,
			.name = s->name,
			.sock = sv[1],
			.con_in = s->console_out >= 0 ? s->console_in : -1,
			.con_out = r->con_out,
			.log_fd = s->log_fd,
			.clock_offset = r->clock_offset,
			.start_paused = s->start_paused,
			.acpi = s->boot.acpi,
			.vdevs = r->vdevs,
			.nr_vdevs = r->nr_vdevs,
		};
		_exit(vmm_child_main(&a));
	}
	close(sv[1]);
	r->pid = pid;
	r->sock = sv[0];
	/* The child answers READY once its filter is in place, or a stop with
	 * the reason it could not start; one stuck on the way is killed rather
	 * than waited for. */
	struct vmm_msg m;
	ssize_t n = child_read(r, &m, sizeof(m), CHILD_START_TIMEOUT_MS);
	if (n == 0) {
		kill(r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
		r->pid = 0;
		close(r->sock);
		r->sock = -1;
		return 1;
	}
	if (n < 0)
		return child_died(r);
	if (m.type == MSG_STOPPED) {
		m.text[sizeof(m.text) - 1] = 0;
		return kxl_err(r->d, "%s", m.text);
	}
	r->paused = s->start_paused;
	emit(r, KXL_EV_STARTED, KXL_VMM_POWEROFF, false, r->boot_notes);
	return 0;
}

static int boot_start(struct run *r)
{
	const struct kxl_vmm_spec *s = r->spec;

	/* A restart waits for the previous VM to be torn down first: two VMs
	 * at once (one dying) cost the host memory and, in an emulated nested
	 * host, have been seen to destabilise it. The final exit still does
	 * not wait. */
	for (unsigned i = 0; i < r->nr_zombies; i++)
		while (waitpid(r->zombies[i], NULL, 0) < 0 && errno == EINTR)
			;
	r->nr_zombies = 0;

	struct kxl_boot_spec boot = s->boot;
	struct sbuf pre = { 0 };	/* this boot's notes before the build */
	if (r->gen == 0 && s->boot_notes)
		sbuf_printf(&pre, "%s", s->boot_notes);
	if (r->gen > 0 && s->reboot_boot) {
		/* the boot sources again (the bootloader, as libxl at each build) */
		struct kxl_diag hd;
		kxl_diag_init(&hd);
		int hr = s->reboot_boot(s->reboot_arg, &boot, &hd);
		bool said = false;
		for (size_t i = 0; i < hd.n; i++) {
			if (hd.v[i].sev != KXL_ERROR) {
				note(r, "%s\n", hd.v[i].msg);
				if (hd.v[i].sev == KXL_NOTE)
					sbuf_printf(&pre, "%s\n", hd.v[i].msg);
			} else if (!said) {
				kxl_err(r->d, "reboot failed, the domain is destroyed: %s", hd.v[i].msg);
				said = true;
			}
		}
		kxl_diag_free(&hd);
		if (hr < 0) {
			if (!said)
				kxl_err(r->d, "reboot failed, the domain is destroyed: its boot sources "
					"could not be read again");
			free(pre.s);
			return -1;
		}
	}
	size_t before = r->d->n;
	boot.nr_virtio_mmio = r->nr_vdevs;	/* the DSDT describes each window */
	int built = kxl_boot_build(&boot, &r->img, r->d);
	boot_messages(r, before, pre.s);
	free(pre.s);
	if (built < 0)
		return -1;
	r->have_img = true;
	/* Under ASan a child forked from a threaded process can deadlock in
	 * the runtime, which has no fork handling (GCC 12's libasan, clang
	 * before 18): an allocator, quarantine or thread-registry lock that
	 * another thread held at the fork stays held in the child, which then
	 * blocks for good in its first calloc or pthread_create (glibc's own
	 * malloc is made safe by glibc's fork). The child allocates only
	 * before it reports READY, so in ASan builds one that does not get
	 * ready is killed and forked again. */
	for (unsigned attempt = 1;; attempt++) {
		int st = child_spawn(r);
		if (st <= 0)
			return st;
		if (attempt >= CHILD_START_ATTEMPTS)
			return kxl_err(r->d, "the VMM process did not get ready within %d s and "
				       "was killed", CHILD_START_TIMEOUT_MS / 1000);
		note(r, "the VMM process did not get ready within %d s (ASan's runtime "
		     "deadlocks after fork now and then); forking it again\n",
		     CHILD_START_TIMEOUT_MS / 1000);
	}
}

/* The defaults of a run without a config (tests/vmm's kxl-vmm-run); kxl
 * create sets the boot spec and the on_* actions from the model, whose key
 * rows hold the config's defaults. */
void kxl_vmm_spec_init(struct kxl_vmm_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->boot.acpi = true;
	spec->boot.vcpus = spec->boot.maxvcpus = 1;
	spec->on_poweroff = KXL_ACTION_DESTROY;
	spec->on_reboot = KXL_ACTION_RESTART;
	spec->on_crash = KXL_ACTION_DESTROY;
	spec->console_in = spec->console_out = -1;
	spec->log_fd = -1;
	spec->ctl_fd = -1;
	spec->virtio_console = spec->virtio_rng = true;
}

void kxl_vmm_result_free(struct kxl_vmm_result *res)
{
	free(res->last_core);
	res->last_core = NULL;
}

static int run_loop(struct run *r)
{
	const struct kxl_vmm_spec *s = r->spec;

	for (;;) {
		if (boot_start(r) < 0)
			return -1;
		int signo = 0;
		enum step st = wait_boot(r, &signo);
		if (st == STEP_ERROR)
			return -1;
		if (st == STEP_DESTROYED) {
			r->res->outcome = KXL_VMM_DESTROYED;
			r->res->signo = signo;
			if (signo)
				note(r, "destroyed by %s\n", strsignal(signo));
			return 0;
		}
		/* The guest stopped. */
		enum kxl_vmm_outcome o = (enum kxl_vmm_outcome)r->stop_msg.a;
		r->stop_msg.text[sizeof(r->stop_msg.text) - 1] = 0;
		if (o == KXL_VMM_ERROR)
			return kxl_err(r->d, "%s", r->stop_msg.text);
		if (o > KXL_VMM_CRASH)
			return kxl_err(r->d, "the VMM process reported a bad outcome %u", (unsigned)o);
		r->stopped = true;
		r->res->outcome = o;
		emit(r, KXL_EV_STOPPED, o, false, r->stop_msg.text);
		enum kxl_action act = o == KXL_VMM_POWEROFF ? s->on_poweroff :
				      o == KXL_VMM_REBOOT ? s->on_reboot : s->on_crash;
		note(r, "%s; on_%s=%s\n", r->stop_msg.text,
		     o == KXL_VMM_POWEROFF ? "poweroff" : o == KXL_VMM_REBOOT ? "reboot" : "crash",
		     kxl_action_name(act));

		if (act == KXL_ACTION_COREDUMP_DESTROY || act == KXL_ACTION_COREDUMP_RESTART) {
			char msg[256];
			char *path = core_path(r);
			if (dump_core(r, path, msg, sizeof(msg)) < 0)
				note(r, "no core: %s\n", msg);
			else
				note(r, "%s\n", msg);
			free(path);
		}
		switch (act) {
		case KXL_ACTION_DESTROY:
		case KXL_ACTION_COREDUMP_DESTROY:
			return 0;
		case KXL_ACTION_PRESERVE:
			emit(r, KXL_EV_PRESERVED, o, false, NULL);
			note(r, "preserved, paused; SIGINT or SIGTERM%s destroys it\n",
			     s->ctl_fd >= 0 ? " or a destroy command" : "");
			st = wait_boot(r, &signo);
			if (st == STEP_ERROR)
				return -1;
			r->res->signo = signo;
			return 0;
		case KXL_ACTION_RENAME_RESTART:
			if (s->ctl_fd < 0)
				note(r, "rename-restart: without a monitor the old domain is not kept; "
				     "restarting it under the same name\n");
			__attribute__((fallthrough));
		case KXL_ACTION_RESTART:
		case KXL_ACTION_COREDUMP_RESTART:
		case KXL_ACTION_SOFT_RESET:
			boot_end(r);
			r->gen++;
			r->res->restarts++;
			emit(r, KXL_EV_RESTARTING, o, act == KXL_ACTION_RENAME_RESTART, NULL);
			continue;
		}
		return 0;
	}
}

/* The guest's virtio devices in window order. Without ACPI there is no
 * DSDT to find them in: the defaults are left out, others are an error. */
static int vdevs_build(struct run *r)
{
	const struct kxl_vmm_spec *s = r->spec;

	r->nr_vdevs = 0;
	if (!s->boot.acpi) {
		if (s->nr_vdevs + r->nr_disk_vdevs + r->nets.n)
			return kxl_err(r->d, "acpi = 0: the guest cannot find its %zu virtio device(s), "
				       "which are described in the ACPI tables",
				       s->nr_vdevs + r->nr_disk_vdevs + r->nets.n);
		return 0;
	}
	if (s->virtio_console)
		r->vdevs[r->nr_vdevs++] = (struct kxl_vmm_vdev){ .type = KXL_VDEV_CONSOLE,
			.id = "hvc0", .fds = { -1, -1, -1, -1 } };	/* output: the merge */
	if (s->virtio_rng)
		r->vdevs[r->nr_vdevs++] = (struct kxl_vmm_vdev){ .type = KXL_VDEV_RNG,
			.id = "rng", .fds = { -1, -1, -1, -1 } };
	if (s->nr_vdevs + r->nr_disk_vdevs + r->nets.n > KXL_VIRTIO_MMIO_MAX - r->nr_vdevs)
		return kxl_err(r->d, "%zu virtio devices (disks and network interfaces): "
			       "kxl has room for %u", s->nr_vdevs + r->nr_disk_vdevs + r->nets.n,
			       KXL_VIRTIO_MMIO_MAX - r->nr_vdevs);
	for (size_t i = 0; i < s->nr_vdevs; i++)
		r->vdevs[r->nr_vdevs++] = s->vdevs[i];
	for (size_t i = 0; i < r->nr_disk_vdevs; i++)
		r->vdevs[r->nr_vdevs++] = r->disk_vdevs[i];
	for (size_t i = 0; i < r->nets.n; i++)
		r->vdevs[r->nr_vdevs++] = r->nets.vdevs[i];
	return 0;
}

int kxl_vmm_run(const struct kxl_vmm_spec *spec, struct kxl_vmm_result *res, struct kxl_diag *d)
{
	struct run r;
	sigset_t sigs, old;
	struct termios saved_tty;
	bool tty_raw = false;
	int ret;

	memset(res, 0, sizeof(*res));
	res->outcome = KXL_VMM_ERROR;
	memset(&r, 0, sizeof(r));
	r.spec = spec;
	r.res = res;
	r.d = d;
	r.sigfd = -1;
	r.sock = -1;
	r.con_out = spec->console_out;

	if (!spec->boot.kernel)
		return kxl_err(d, "no kernel to boot");
	if (spec->console_out < 0 && spec->console_log) {
		r.con_out = open(spec->console_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (r.con_out < 0)
			return kxl_err(d, "cannot open console log %s: %s", spec->console_log,
				       strerror(errno));
	}
	r.clock_offset = spec->rtc_timeoffset;
	if (spec->localtime) {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		r.clock_offset += tm.tm_gmtoff;
	}
	sigemptyset(&sigs);
	if (spec->handle_signals) {
		sigaddset(&sigs, SIGINT);
		sigaddset(&sigs, SIGTERM);
		sigaddset(&sigs, SIGHUP);
	}
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	if (spec->handle_signals) {
		r.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
		if (r.sigfd < 0) {
			ret = kxl_err(d, "signalfd: %s", strerror(errno));
			goto out;
		}
	}
	if (spec->console_out >= 0 && spec->console_in >= 0 && isatty(spec->console_in) &&
	    tcgetattr(spec->console_in, &saved_tty) == 0) {
		struct termios raw = saved_tty;
		cfmakeraw(&raw);
		if (tcsetattr(spec->console_in, TCSAFLUSH, &raw) == 0)
			tty_raw = true;
	}

	ret = disks_open(&r);
	if (!ret)
		ret = net_hosts_open(spec, &r.nets, d);
	if (!ret)
		ret = vdevs_build(&r);
	if (!ret)
		ret = run_loop(&r);
	if (ret < 0)
		res->outcome = KXL_VMM_ERROR;
	boot_end(&r);
	reap_zombies(&r);	/* the rest are reaped when the caller waits or exits */
	disks_close(&r);
	net_hosts_close(spec, &r.nets);
	free(r.boot_notes);
out:
	if (tty_raw)
		tcsetattr(spec->console_in, TCSAFLUSH, &saved_tty);
	if (r.sigfd >= 0)
		close(r.sigfd);
	if (r.con_out >= 0 && r.con_out != spec->console_out)
		close(r.con_out);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}
