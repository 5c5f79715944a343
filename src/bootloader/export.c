/*
 * export.c: a disk image in one of QEMU's formats (qcow2, qcow, vhd, qed)
 * as a read-only raw file for the bootloader, never by a qcow2 reader of
 * kxl's own: qemu-storage-daemon opens the image read-only and exports it
 * through FUSE, mounted over an empty file in a private directory, inside
 * a mount namespace of its own (so nothing is mounted in the host's, and
 * the mount ends with the daemon, however it ends; a caller that is not root
 * gets a user namespace for it too). The parent opens the
 * export through /proc/PID/root and hands that descriptor to the sandboxed
 * reader as it would a raw image. (The VMM serves the same images to the
 * guest over qemu-storage-daemon's NBD export, src/vmm/virtio-blk.c; an
 * NBD socket is not a seekable descriptor, which libblkid needs.)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bootloader/bl.h"
#include "util/util.h"

/* QEMU's option syntax: a comma in a value is written twice. */
static void opt_add(struct sbuf *o, const char *v)
{
	for (; *v; v++) {
		sbuf_add(o, v, 1);
		if (*v == ',')
			sbuf_add(o, v, 1);
	}
}

static void first_line(const char *path, char *buf, size_t len)
{
	buf[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, len - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
	}
	buf[strcspn(buf, "\n")] = 0;
	if (!buf[0])
		snprintf(buf, len, "no message");
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Not root: a user namespace of the daemon's own, where the caller's user
 * is root, with a mount namespace in it (FUSE mounts there; the caller,
 * the same user outside, may read the export). */
static int own_userns(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0 || write_file("/proc/self/setgroups", "deny") < 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	return write_file("/proc/self/gid_map", map);
}

void bl_export_close(struct bl_export *x)
{
	if (x->fd >= 0)
		close(x->fd);
	if (x->pid > 0) {
		kill(x->pid, SIGTERM);
		int i;
		for (i = 0; i < 500 && waitpid(x->pid, NULL, WNOHANG) == 0; i++)
			sleep_ms(10);
		if (i == 500) {
			kill(x->pid, SIGKILL);
			waitpid(x->pid, NULL, 0);
		}
	}
	if (x->dir) {
		char *p = xasprintf("%s/disk", x->dir);
		unlink(p);
		free(p);
		p = xasprintf("%s/qsd.log", x->dir);
		unlink(p);
		free(p);
		rmdir(x->dir);
	}
	free(x->dir);
	memset(x, 0, sizeof(*x));
	x->fd = -1;
}

int bl_export_open(const char *path, const char *driver, struct bl_export *x, char *err,
		   size_t errlen)
{
	memset(x, 0, sizeof(*x));
	x->fd = -1;
	err[0] = 0;
	const char *base = getenv("XDG_RUNTIME_DIR");
	char *dir = xasprintf("%s/kxl-bl.XXXXXX", base && *base == '/' ? base : "/tmp");
	if (!mkdtemp(dir)) {
		snprintf(err, errlen, "cannot make a directory for qemu-storage-daemon: %s", strerror(errno));
		free(dir);
		return -1;
	}
	x->dir = dir;
	char *mnt = xasprintf("%s/disk", dir), *log = xasprintf("%s/qsd.log", dir);
	int mfd = open(mnt, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (mfd >= 0)
		close(mfd);
	struct sbuf f = { 0 }, fm = { 0 }, exp = { 0 };
	/* force-share (qemu-img's -U): at a reboot the domain's own
	 * qemu-storage-daemon (the VMM's NBD export) still holds the image's
	 * write lock; the guest is stopped and flushed its writes before it
	 * rebooted, so a read-only look is consistent, as libxl's pygrub run */
	sbuf_adds(&f, "driver=file,node-name=file0,read-only=on,force-share=on,filename=");
	opt_add(&f, path);
	sbuf_printf(&fm, "driver=%s,node-name=disk0,file=file0,read-only=on,force-share=on", driver);
	/* not root: allow_other would confine the export to the daemon's user
	 * namespace; without it the caller's user (the same outside) may read */
	sbuf_printf(&exp, "type=fuse,id=export0,node-name=disk0,writable=off,allow-other=%s,mountpoint=",
		    geteuid() ? "off" : "auto");
	opt_add(&exp, mnt);
	char *argv[] = { "qemu-storage-daemon", "--blockdev", f.s, "--blockdev", fm.s,
			 "--export", exp.s, NULL };
	pid_t pid = mfd < 0 || logfd < 0 ? -1 : fork();
	if (pid == 0) {
		/* its own mount namespace, private: the FUSE mount is seen only
		 * there (and through /proc/PID/root); it dies with us */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (unshare(CLONE_NEWNS) < 0 && (errno != EPERM || own_userns() < 0)) {
			dprintf(logfd, "cannot make a private mount namespace: %s\n", strerror(errno));
			_exit(126);
		}
		if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
			dprintf(logfd, "cannot make the mounts private: %s\n", strerror(errno));
			_exit(126);
		}
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		close_range(3, ~0U, 0);
		execvp(argv[0], argv);
		dprintf(2, "cannot run qemu-storage-daemon: %s\n", strerror(errno));
		_exit(127);
	}
	int e = errno;
	if (logfd >= 0)
		close(logfd);
	free(f.s);
	free(fm.s);
	free(exp.s);
	int rc = -1;
	if (pid < 0) {
		snprintf(err, errlen, "cannot start qemu-storage-daemon: %s", strerror(e));
		goto out;
	}
	x->pid = pid;
	/* up once the file in its namespace is on another device (the FUSE
	 * mount) than the directory */
	char *inner = xasprintf("/proc/%d/root%s", (int)pid, mnt);
	struct stat ds, ms;
	for (int i = 0; i < 1000 && rc < 0; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			char msg[300];
			x->pid = 0;
			first_line(log, msg, sizeof(msg));
			snprintf(err, errlen, "qemu-storage-daemon (format %s, FUSE export) ended: %s", driver,
				 msg);
			break;
		}
		if (stat(dir, &ds) == 0 && stat(inner, &ms) == 0 && ms.st_dev != ds.st_dev) {
			x->fd = open(inner, O_RDONLY | O_CLOEXEC | O_NOCTTY);
			if (x->fd < 0) {
				snprintf(err, errlen, "cannot open qemu-storage-daemon's export: %s",
					 strerror(errno));
				break;
			}
			rc = 0;
			break;
		}
		sleep_ms(10);
	}
	if (rc < 0 && !err[0])
		snprintf(err, errlen, "qemu-storage-daemon did not export the image in 10 s");
	free(inner);
out:
	free(mnt);
	free(log);
	if (rc < 0)
		bl_export_close(x);
	return rc;
}
