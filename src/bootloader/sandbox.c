/*
 * sandbox.c: where the guest's disk is parsed. The parent has opened the
 * image (read-only) and made the kernel and ramdisk memfds; the child it
 * forks keeps only those, a result pipe and stderr, then takes new user,
 * network, IPC, UTS and mount namespaces where the kernel allows them
 * (otherwise, as root, drops to nobody), sets no_new_privs and resource
 * limits (address space, file size, no processes, no core, CPU time) and
 * installs a seccomp allow-list with no open: libblkid and libext2fs then
 * parse the guest's bytes with nothing else of the host in reach. The
 * parent kills the child at the timeout, and trusts nothing it sends back:
 * the result is size-checked, NUL-checked and compared with the memfds.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <linux/blkzoned.h>
#include <linux/cdrom.h>
#include <linux/fd.h>
#include <linux/fs.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "bootloader/bl.h"
#include "util/util.h"

#if defined(__SANITIZE_ADDRESS__)
#define BL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BL_SANITIZED 1
#endif
#endif
#ifndef BL_SANITIZED
#define BL_SANITIZED 0
#endif

struct result {
	int status;		/* 0 ok */
	char err[BL_ERRLEN];
	struct bl_choice choice;
};

struct allowed { int nr; const char *why; };
#define ALLOW(name, why) { SCMP_SYS(name), why }

static const struct allowed allowed[] = {
	ALLOW(read, "reads from the image (libblkid uses read after lseek)"),
	ALLOW(pread64, "reads from the image (kxl's io_manager, libblkid)"),
	ALLOW(write, "the result record to the parent, messages to stderr"),
	ALLOW(pwrite64, "the kernel and ramdisk copies into their memfds"),
	ALLOW(sendfile, "the same, copied by the kernel from the image to the memfd"),
	ALLOW(lseek, "libblkid positions its reads"),
	ALLOW(fadvise64, "libblkid tells the kernel its reads are random"),
	ALLOW(fstat, "the image's size and type (fd only)"),
	ALLOW(ftruncate, "sizing the kernel and ramdisk memfds"),
	ALLOW(close, "libraries close what they no longer need"),
	ALLOW(mmap, "malloc() of large buffers"),
	ALLOW(munmap, "free() of large buffers"),
	ALLOW(mremap, "realloc() of large buffers"),
	ALLOW(brk, "malloc() grows the heap"),
	ALLOW(madvise, "free() trims the heap"),
	ALLOW(clock_gettime, "time() in libext2fs, when the vDSO is not used"),
	ALLOW(gettimeofday, "the same, older glibc paths"),
	ALLOW(getrandom, "glibc's malloc and libuuid seed themselves"),
	ALLOW(futex, "glibc's internal locks (stdio)"),
	ALLOW(getpid, "libext2fs and libblkid debug checks"),
	ALLOW(getuid, "libblkid checks whether it runs setuid"),
	ALLOW(geteuid, "the same"),
	ALLOW(getgid, "the same"),
	ALLOW(getegid, "the same"),
	ALLOW(rt_sigreturn, "return from a signal handler"),
	ALLOW(exit_group, "the end"),
	ALLOW(exit, "the end (single thread)"),
};

/* ioctls on the image, and only those that ask a block device its geometry. */
static const unsigned long ioctls[] = { BLKGETSIZE64, BLKSSZGET, BLKPBSZGET, BLKIOMIN, BLKIOOPT,
					 BLKALIGNOFF, BLKGETSIZE };
/* Questions libblkid asks a block device and does without when they fail
 * (ENOTTY): is it a floppy, a CD-ROM (and its last session), zoned, which
 * media generation. */
static const unsigned long soft_ioctls[] = { FDGETFDCSTAT, FDGETPRM, CDROM_GET_CAPABILITY,
					     CDROM_DRIVE_STATUS, CDROM_LAST_WRITTEN, CDROMMULTISESSION,
					     BLKGETZONESZ, BLKREPORTZONE, BLKGETDISKSEQ };

static int install_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(BL_SANITIZED ? SCMP_ACT_ERRNO(ENOSYS) : SCMP_ACT_KILL_PROCESS);
	int r = ctx ? 0 : -ENOMEM;
	for (size_t i = 0; !r && i < ARRAY_SIZE(allowed); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i].nr, 0);
	/* newfstatat only as fstat (AT_EMPTY_PATH on a descriptor): no path lookups */
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
				     SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	for (size_t i = 0; !r && i < ARRAY_SIZE(ioctls); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, ioctls[i]));
	/* libblkid's other questions fail softly. Each by its number: a rule
	 * for ioctl without a condition would take the place of the allowed
	 * ones above (libseccomp), and a block device could not be asked its
	 * size; any other ioctl takes the default action. */
	for (size_t i = 0; !r && i < ARRAY_SIZE(soft_ioctls); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, soft_ioctls[i]));
	/* open fails softly too: libblkid tries sysfs for block devices */
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
#if BL_SANITIZED
	/* SANITIZER: the ASan/UBSan runtimes set up signal stacks, read
	 * /proc/self/maps and write their reports; allowed only in those builds. */
	static const int san[] = {
		SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(prctl),
		SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(sched_yield), SCMP_SYS(readlink),
		SCMP_SYS(nanosleep), SCMP_SYS(getppid), SCMP_SYS(gettid), SCMP_SYS(mprotect), SCMP_SYS(kill),
		SCMP_SYS(tgkill), SCMP_SYS(clone), SCMP_SYS(wait4), SCMP_SYS(ptrace),
	};
	for (size_t i = 0; !r && i < ARRAY_SIZE(san); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, san[i], 0);
#endif
	if (!r)
		r = seccomp_load(ctx);
	if (ctx)
		seccomp_release(ctx);
	return r;
}

static void setlim(int res, rlim_t v)
{
	struct rlimit rl = { v, v };
	setrlimit(res, &rl);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every descriptor but keep[] (n of them). */
static void close_others(int *keep, int n)
{
	qsort(keep, (size_t)n, sizeof(*keep), cmp_int);
	int lo = 0;
	for (int i = 0; i < n; i++) {
		if (keep[i] > lo)
			syscall(SYS_close_range, lo, keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0u, 0);
}

static void deprivilege(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS) == 0)
		return;	/* no capability left in the host's namespaces */
	(void)unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS);
	if (uid == 0 || geteuid() == 0) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(120);
	}
	(void)gid;
}

static void child(int fd, const struct bl_request *rq, int kfd, int rfd, int wfd, int timeout_ms)
{
	struct result *res = xcalloc(1, sizeof(*res));
	int keep[6] = { 2, fd, kfd, rfd, wfd, rq->list ? rq->listfd : 2 };
	close_others(keep, 6);
	deprivilege();
	prctl(PR_SET_DUMPABLE, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(121);
	setlim(RLIMIT_CORE, 0);
	setlim(RLIMIT_NPROC, 0);
	setlim(RLIMIT_NOFILE, 64);
	setlim(RLIMIT_FSIZE, BL_RAMDISK_MAX + (16u << 20));
	setlim(RLIMIT_CPU, (rlim_t)(timeout_ms / 1000 + 2));
	if (!BL_SANITIZED)
		setlim(RLIMIT_AS, 768u << 20);
	if (install_seccomp() < 0)
		_exit(122);
	res->status = bl_find(fd, rq, kfd, rfd, &res->choice, res->err, sizeof(res->err));
	const char *p = (const char *)res;
	size_t left = sizeof(*res);
	while (left) {
		ssize_t w = write(wfd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(123);
		p += w;
		left -= (size_t)w;
	}
	_exit(0);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int terminated(const char *s, size_t n)
{
	return memchr(s, 0, n) != NULL;
}

int bl_find_sandboxed(int fd, const struct bl_request *rq, int kfd, int rfd,
		      struct bl_choice *out, int timeout_ms, char *err, size_t errlen)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		child(fd, rq, kfd, rfd, p[1], timeout_ms);
	}
	close(p[1]);
	struct result *res = xcalloc(1, sizeof(*res));
	size_t got = 0;
	long deadline = now_ms() + timeout_ms;
	int timed_out = 0;
	while (got < sizeof(*res)) {
		long left = deadline - now_ms();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		struct pollfd pf = { p[0], POLLIN, 0 };
		int r = poll(&pf, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			timed_out = 1;
			break;
		}
		ssize_t n = read(p[0], (char *)res + got, sizeof(*res) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	int rc = -1;
	if (timed_out)
		snprintf(err, errlen, "the disk took longer than %d ms to read; gave up", timeout_ms);
	else if (WIFSIGNALED(st))
		snprintf(err, errlen, "the disk reader was killed by signal %d%s", WTERMSIG(st),
			 WTERMSIG(st) == SIGSYS ? " (a system call outside its allow-list)" :
			 WTERMSIG(st) == SIGXFSZ || WTERMSIG(st) == SIGXCPU ? " (a resource limit)" : "");
	else if (got != sizeof(*res) || !WIFEXITED(st) || WEXITSTATUS(st))
		snprintf(err, errlen, "the disk reader failed (exit status %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	else if (!terminated(res->err, sizeof(res->err)) ||
		 !terminated(res->choice.kernel, sizeof(res->choice.kernel)) ||
		 !terminated(res->choice.ramdisk, sizeof(res->choice.ramdisk)) ||
		 !terminated(res->choice.args, sizeof(res->choice.args)))
		snprintf(err, errlen, "the disk reader sent a malformed result");
	else if (res->status)
		snprintf(err, errlen, "%s", res->err);
	else {
		struct stat ks, rs;
		const struct bl_choice *c = &res->choice;
		if (fstat(kfd, &ks) < 0 || fstat(rfd, &rs) < 0 ||
		    (uint64_t)ks.st_size != c->kernel_size || (uint64_t)rs.st_size != c->ramdisk_size ||
		    c->kernel_size > BL_KERNEL_MAX || c->ramdisk_size > BL_RAMDISK_MAX ||
		    strlen(c->args) >= BL_CMDLINE_MAX || strchr(c->args, '\n'))
			snprintf(err, errlen, "the disk reader's result does not match what it wrote");
		else if (!rq->list && !rq->isconfig && c->kernel_size == 0)
			snprintf(err, errlen, "%s: the kernel is an empty file", c->kernel);
		else {
			*out = *c;
			rc = 0;
		}
	}
	free(res);
	return rc;
}
