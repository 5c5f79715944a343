/*
 * child.c: the guest-facing process. The parent forks it for every (re)boot
 * of a domain. It creates the VM, the vCPUs, the devices (the registry of
 * dev.h, in one attach step) and the vCPU threads, installs the seccomp
 * filter, tells the parent it is ready, and then runs a main loop that
 * moves console input into the UART or hvc0 (their output goes through the
 * console merge's thread, conmerge.h), executes the parent's
 * commands (pause, power button, NMI, vCPU state for cores, destroy) and
 * reports the first stop (poweroff, reboot, crash). After a
 * stop the vCPUs stay parked until the parent sends destroy.
 *
 * Before anything else it closes every descriptor it inherited except an
 * explicit keep-list (child_keep_fds), as OpenBSD's vmd does: whatever the
 * process that forked it had open (the monitor's sockets, its lock, client
 * connections, files of other threads) never reaches the process a guest
 * escape would own, whoever opened it and whatever its number.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "layout.h"
#include "util/util.h"
#include "vmm/priv.h"

static void send_msg(int sock, uint32_t type, uint32_t a, int32_t status, const char *text)
{
	struct vmm_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.a = a;
	m.status = status;
	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	if (write(sock, &m, sizeof(m)) < 0) {
		/* the parent is gone; PR_SET_PDEATHSIG ends us */
	}
}

static void reply(struct vm *vm, int status, const char *text)
{
	send_msg(vm->args->sock, MSG_REPLY, 0, status, text);
}

static void send_states(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vmm_vcpu_state st;
		memset(&st, 0, sizeof(st));
		st.type = MSG_VCPU_STATE;
		st.idx = i;
		st.flags = atomic_load(&vm->vcpus[i].regs_lost) ? VCPU_STATE_REGS_LOST : 0;
		ioctl(vm->vcpus[i].fd, KVM_GET_REGS, &st.regs);
		ioctl(vm->vcpus[i].fd, KVM_GET_SREGS, &st.sregs);
		if (write(vm->args->sock, &st, sizeof(st)) < 0)
			return;
	}
}

/* One command from the parent; returns false on destroy. */
static bool child_command(struct vm *vm, uint32_t cmd, bool *paused)
{
	bool stopped = atomic_load(&vm->stop) != 0;

	switch (cmd) {
	case KXL_CMD_PAUSE:
		if (!*paused)
			vm_pause_all(vm);
		*paused = true;
		reply(vm, 0, "paused");
		return true;
	case KXL_CMD_UNPAUSE:
		if (stopped) {
			reply(vm, -1, "the guest has stopped and cannot run again");
			return true;
		}
		if (*paused)
			vm_resume_all(vm);
		*paused = false;
		reply(vm, 0, "running");
		return true;
	case KXL_CMD_POWER:
		if (stopped) {
			reply(vm, -1, "the guest has stopped");
			return true;
		}
		ged_power_button(vm);
		reply(vm, 0, *paused ? "power button pressed (the guest is paused)" :
		      "power button pressed");
		return true;
	case KXL_CMD_RESET:
		vm_request_stop(vm, KXL_VMM_REBOOT, "reset by the toolstack");
		reply(vm, 0, "reset");
		return true;
	case KXL_CMD_NMI:
		if (stopped) {
			reply(vm, -1, "the guest has stopped");
			return true;
		}
		if (!*paused)
			vm_pause_all(vm);
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			ioctl(vm->vcpus[i].fd, KVM_NMI, 0);
		if (!*paused)
			vm_resume_all(vm);
		reply(vm, 0, "NMI sent");
		return true;
	case CHILD_GETSTATE:
		if (!*paused && !stopped)
			vm_pause_all(vm);
		send_states(vm);
		if (!*paused && !stopped)
			vm_resume_all(vm);
		reply(vm, 0, NULL);
		return true;
	case KXL_CMD_STATUS:
		reply(vm, 0, stopped ? "stopped" : *paused ? "paused" : "running");
		return true;
	case KXL_CMD_DESTROY:
		return false;
	default:
		reply(vm, -1, "unknown command");
		return true;
	}
}

/* How long a stop's report waits for the console to take the guest's last
 * output: a console that reads takes it in far less; one nobody reads
 * delays the report this much, no more. */
#define CONSOLE_DRAIN_MS 1000

static void child_loop(struct vm *vm)
{
	bool paused = vm->args->start_paused;
	bool reported = false;
	int con_in = vm->args->con_in;

	for (;;) {
		bool want_input = con_in >= 0 && console_rx_space(vm) > 0;
		struct pollfd p[3] = {
			{ .fd = vm->args->sock, .events = POLLIN },
			{ .fd = vm->evfd, .events = POLLIN },
			{ .fd = want_input ? con_in : -1, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[1].revents & POLLIN) {
			uint64_t n;
			if (read(vm->evfd, &n, sizeof(n)) < 0) {
				/* spurious wakeup */
			}
		}
		int stop = atomic_load(&vm->stop);
		if (stop && !reported) {
			reported = true;
			vm_pause_all(vm);
			/* the guest's last lines reach the console before the
			 * parent hears of the stop (it kills this process) */
			conmerge_drain(&vm->con, CONSOLE_DRAIN_MS);
			send_msg(vm->args->sock, MSG_STOPPED, (uint32_t)(stop - 1), 0, vm->stop_detail);
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			uint8_t buf[256];
			unsigned space = console_rx_space(vm);
			ssize_t n = read(con_in, buf, space < sizeof(buf) ? space : sizeof(buf));
			if (n > 0) {
				console_rx_push(vm, buf, (unsigned)n);
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				con_in = -1;	/* end of input: the guest keeps running */
			}
		}
		if (p[0].revents & POLLIN) {
			struct vmm_msg m;
			ssize_t n = read(vm->args->sock, &m, sizeof(m));
			if (n == (ssize_t)sizeof(m) && m.type == MSG_CMD) {
				if (!child_command(vm, m.a, &paused))
					return;
			} else if (n <= 0) {
				return;
			}
		} else if (p[0].revents & (POLLHUP | POLLERR)) {
			return;
		}
	}
}

/* The inherited descriptors the child keeps; each says why. Everything
 * else it inherited is closed by child_close_fds before the VM exists. A
 * new descriptor for the child (a disk image, a tap) is passed in
 * child_args and added here. Returns how many were written to out (-1 and
 * duplicates are left out). */
size_t child_keep_fds(const struct child_args *a, int *out, size_t max)
{
	const int want[] = {
		a->sock,	/* the parent: its commands in, replies, states and stops out */
		a->con_in,	/* console input for the UART (-1: none) */
		a->con_out,	/* the console stream, UART and hvc0 merged (-1: discarded) */
		a->log_fd,	/* the VMM's rate-limited messages (-1: none) */
#if KXL_ASAN || KXL_TSAN
		STDERR_FILENO,	/* sanitizer builds: where the runtime writes its reports */
#endif
	};
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(want) && n < max; i++) {
		bool dup = want[i] < 0;
		for (size_t j = 0; j < n && !dup; j++)
			dup = out[j] == want[i];
		if (!dup)
			out[n++] = want[i];
	}
	/* the virtio devices' descriptors that the privileged parent opened
	 * for them: disk images or NBD connections, taps */
	for (unsigned v = 0; v < a->nr_vdevs; v++)
		for (size_t k = 0; k < KXL_VDEV_MAX_FDS && n < max; k++) {
			int fd = a->vdevs[v].fds[k];
			bool dup = fd < 0;
			for (size_t j = 0; j < n && !dup; j++)
				dup = out[j] == fd;
			if (!dup)
				out[n++] = fd;
		}
	return n;
}

static bool fd_kept(const int *keep, size_t n, int fd)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* Closes [lo, hi] with close_range(2); without it (ENOSYS: Linux before
 * 5.9), each open descriptor listed in /proc/self/fd, or, without /proc,
 * every number up to the descriptor limit. */
static void close_span(unsigned lo, unsigned hi)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0 || errno != ENOSYS)
		return;
#endif
	DIR *dir = opendir("/proc/self/fd");
	if (dir) {
		int self = dirfd(dir);
		struct dirent *e;
		while ((e = readdir(dir))) {
			char *end;
			unsigned long fd = strtoul(e->d_name, &end, 10);
			if (*end || end == e->d_name || (int)fd == self || fd < lo || fd > hi)
				continue;
			close((int)fd);	/* closing what readdir lists is safe on Linux */
		}
		closedir(dir);
		return;
	}
	struct rlimit rl;
	unsigned long top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY ?
			    rl.rlim_max : 1u << 20;
	for (unsigned long fd = lo; fd <= hi && fd < top; fd++)
		close((int)fd);
}

/* Closes every descriptor not in the keep-list. Standard descriptors that
 * are not kept are pointed at /dev/null rather than left free, so that
 * neither a stray write to stderr (glibc's fatal messages) lands in a KVM
 * descriptor that took number 2, nor a reader of stdin gets one. */
static void child_close_fds(const struct child_args *a)
{
	int keep[8 + KXL_VIRTIO_MMIO_MAX * KXL_VDEV_MAX_FDS];	/* the fixed ones, every vdev fd */
	size_t n = child_keep_fds(a, keep, ARRAY_SIZE(keep));
	/* ascending, so that the gaps between kept descriptors are ranges */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	unsigned lo = 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo)
			close_span(lo, (unsigned)keep[i] - 1);
		lo = (unsigned)keep[i] + 1;
	}
	close_span(lo, ~0u);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; null >= 0 && fd <= STDERR_FILENO; fd++)
		if (!fd_kept(keep, n, fd) && fd != null)
			dup2(null, fd);
	if (null > STDERR_FILENO)
		close(null);
}

int vmm_child_main(const struct child_args *a)
{
	struct kxl_diag d;
	sigset_t all;

	child_close_fds(a);
	struct vm *vm = xcalloc(1, sizeof(*vm));
	kxl_diag_init(&d);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The parent decides what a signal means; only the kick gets through. */
	sigfillset(&all);
	sigdelset(&all, VCPU_KICK_SIGNAL);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	vcpu_kick_init();

	vm->args = a;
	vm->log.fd = a->log_fd;
	vm->kvm_fd = vm->vm_fd = vm->evfd = -1;
	pthread_mutex_init(&vm->dev_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm->paused = true;	/* vCPU threads park until the filter is in place */

	vm->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->evfd < 0) {
		kxl_err(&d, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (vm_create(vm, &d) < 0)
		goto fail;
	if (conmerge_start(&vm->con, a->con_out, &d) < 0)
		goto fail;
	vm->nr_vcpus = a->img->vcpus ? a->img->vcpus : 1;
	vm->vcpus = xcalloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	struct kvm_cpuid2 *cpuid = cpuid_get_supported(vm->kvm_fd, &d);
	if (!cpuid)
		goto fail;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpus[i].idx = i;
		vm->vcpus[i].fd = -1;
		if (vcpu_create(vm, &vm->vcpus[i], &d) < 0 ||
		    vcpu_setup_cpuid(vm, &vm->vcpus[i], cpuid, &d) < 0) {
			free(cpuid);
			goto fail;
		}
	}
	free(cpuid);
	/* The build recipe: memory (vm_create) -> vCPUs -> devices (every
	 * kind of the registry, dev.h) -> boot (vCPU 0's entry state is set
	 * above) -> run. */
	if (vmm_devices_attach(vm, &d) < 0)
		goto fail;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		int r = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (r) {
			kxl_err(&d, "cannot start the thread of vCPU %u: %s", i, strerror(r));
			goto fail;
		}
	}
	/* All threads exist and the VM is complete: from here on, only the
	 * run loop's system calls are allowed. */
	vm_pause_all(vm);
	if (vmm_seccomp_install(&d) < 0)
		goto fail;
	send_msg(a->sock, MSG_READY, a->start_paused, 0, NULL);
	if (!a->start_paused)
		vm_resume_all(vm);
	child_loop(vm);
	atomic_store(&vm->quit, true);
	_exit(0);

fail:
	send_msg(a->sock, MSG_STOPPED, KXL_VMM_ERROR, -1,
		 d.n ? d.v[d.n - 1].msg : "the VMM failed to start");
	_exit(1);
}
