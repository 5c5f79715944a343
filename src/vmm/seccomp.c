/*
 * seccomp.c: the filter the guest-facing child installs once its VM, vCPU
 * threads and devices exist. Everything not listed kills the whole process
 * (SCMP_ACT_KILL_PROCESS): no open, no exec, no socket, no clone. The
 * filter is synchronised to every thread (TSYNC). Sanitizer builds
 * (ASan/TSan runtimes, KXL_ASAN and KXL_TSAN of priv.h) need more for
 * their reports and shadow memory: the block marked SANITIZER below widens
 * the list only in those builds.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <string.h>

#include "util/util.h"
#include "vmm/priv.h"

struct allowed {
	int nr;
	const char *why;
};

#define ALLOW(name, why) { SCMP_SYS(name), why }

static const struct allowed allowed[] = {
	ALLOW(read, "console input, the parent's commands, the eventfd"),
	ALLOW(write, "console output, log messages, replies to the parent, the eventfd"),
	ALLOW(ppoll, "the main loop and each virtio device's thread wait on their eventfds"),
	ALLOW(poll, "the same, where glibc's poll() is not ppoll"),
	ALLOW(futex, "pthread mutexes and condition variables (devices, pausing)"),
	ALLOW(rt_sigreturn, "return from the handler of the vCPU kick signal"),
	ALLOW(rt_sigprocmask, "pthread_kill() blocks signals around tgkill"),
	ALLOW(tgkill, "pthread_kill(): kick a vCPU thread out of KVM_RUN"),
	ALLOW(getpid, "pthread_kill() names the thread group"),
	ALLOW(gettid, "pthread_kill() on the calling thread"),
	ALLOW(clock_gettime, "RTC and log rate limit, when the vDSO is not used"),
	ALLOW(restart_syscall, "a futex wait interrupted by the kick signal restarts"),
	ALLOW(mmap, "malloc() in glibc may grow an arena"),
	ALLOW(munmap, "free() may return an arena's memory"),
	ALLOW(brk, "malloc() grows the main heap"),
	ALLOW(madvise, "free() trims arenas with MADV_DONTNEED"),
	ALLOW(mprotect, "glibc grows a non-main arena's heap with mprotect"),
	ALLOW(exit, "a thread ends"),
	ALLOW(rseq, "glibc's start of a thread created before the filter that runs only after it"),
	ALLOW(set_robust_list, "the same start of such a thread"),
	ALLOW(exit_group, "the child ends after the guest stops"),
	ALLOW(getrandom, "virtio-rng fills the guest's buffers from the host's entropy"),
	ALLOW(preadv, "virtio-blk reads a disk (opened by the parent) into guest memory"),
	ALLOW(pwritev, "virtio-blk writes guest memory to a disk"),
	ALLOW(fdatasync, "virtio-blk FLUSH: what the guest synced reaches the disk"),
	ALLOW(fallocate, "virtio-blk DISCARD and WRITE_ZEROES (punch a hole, zero a range)"),
	ALLOW(readv, "virtio-blk: NBD replies from qemu-storage-daemon into guest memory"),
	ALLOW(sendmsg, "virtio-blk: NBD requests with guest data to qemu-storage-daemon"),
	ALLOW(readv, "virtio-net reads a frame from its tap (opened by the parent) into guest memory"),
	ALLOW(writev, "virtio-net writes a frame of guest memory to its tap"),
};

/* ioctl is allowed only for these requests (argument 1). */
static const struct { unsigned long req; const char *why; } ioctls[] = {
	{ KVM_RUN, "run a vCPU" },
	{ KVM_IRQ_LINE, "UART and GED interrupts" },
	{ KVM_NMI, "the nmi trigger" },
	{ KVM_GET_REGS, "vCPU state for cores and triple-fault messages" },
	{ KVM_GET_SREGS, "vCPU state for cores" },
	{ TUNSETOFFLOAD, "virtio-net sets the offloads the guest accepted on its tap" },
};

int vmm_seccomp_install(struct kxl_diag *d)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r;

	if (!ctx)
		return kxl_err(d, "seccomp_init failed");
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (size_t i = 0; !r && i < ARRAY_SIZE(allowed); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i].nr, 0);
	for (size_t i = 0; !r && i < ARRAY_SIZE(ioctls); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, ioctls[i].req));
#if KXL_ASAN || KXL_TSAN
	/* SANITIZER: the sanitizer runtimes read /proc/self/maps, open their
	 * report files and query the process when they report; allow those. */
	static const int san[] = {
		SCMP_SYS(openat), SCMP_SYS(close), SCMP_SYS(newfstatat), SCMP_SYS(fstat),
		SCMP_SYS(lseek), SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(sigaltstack),
		SCMP_SYS(rt_sigaction), SCMP_SYS(sched_yield), SCMP_SYS(readlink),
		SCMP_SYS(pread64), SCMP_SYS(getppid), SCMP_SYS(nanosleep), SCMP_SYS(mremap),
		SCMP_SYS(prctl), SCMP_SYS(kill), SCMP_SYS(ioctl),
	};
	for (size_t i = 0; !r && i < ARRAY_SIZE(san); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, san[i], 0);
#endif
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r)
		return kxl_err(d, "cannot install the seccomp filter: %s", strerror(-r));
	return 0;
}
