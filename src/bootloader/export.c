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
 * NBD socket is not a seekable descriptor, which libblkid needs.) Both run
 * the daemon with src/util/qsd.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

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

/* In the daemon before it runs: its own mount namespace, private: the FUSE
 * mount is seen only there (and through /proc/PID/root); it dies with the
 * daemon. */
static int private_mounts(int logfd)
{
	if (unshare(CLONE_NEWNS) < 0 && (errno != EPERM || own_userns() < 0)) {
		dprintf(logfd, "cannot make a private mount namespace: %s\n", strerror(errno));
		return -1;
	}
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		dprintf(logfd, "cannot make the mounts private: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Up once the file in the daemon's namespace is on another device (the
 * FUSE mount) than the directory: then open it. */
struct export_wait {
	const char *dir;
	char *inner;	/* the mount point through /proc/PID/root */
	int fd, err;
};

static int export_up(void *arg)
{
	struct export_wait *w = arg;
	struct stat ds, ms;
	if (stat(w->dir, &ds) < 0 || stat(w->inner, &ms) < 0 || ms.st_dev == ds.st_dev)
		return 0;
	w->fd = open(w->inner, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	w->err = errno;
	return w->fd < 0 ? -1 : 1;
}

void bl_export_close(struct bl_export *x)
{
	if (x->fd >= 0)
		close(x->fd);
	qsd_stop(&x->d);
	memset(x, 0, sizeof(*x));
	x->fd = -1;
}

int bl_export_open(const char *path, const char *driver, struct bl_export *x, char *err,
		   size_t errlen)
{
	memset(x, 0, sizeof(*x));
	x->fd = -1;
	err[0] = 0;
	if (qsd_mkdir(&x->d, "kxl-bl") < 0) {
		snprintf(err, errlen, "cannot make a directory for qemu-storage-daemon: %s", strerror(errno));
		return -1;
	}
	char *mnt = qsd_file(&x->d, "disk");
	int mfd = open(mnt, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int e = errno;
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
	if (mfd >= 0 && qsd_spawn(&x->d, argv, private_mounts) < 0)
		e = errno;
	free(f.s);
	free(fm.s);
	free(exp.s);
	int rc = -1;
	if (!x->d.pid) {
		snprintf(err, errlen, "cannot start qemu-storage-daemon: %s", strerror(e));
	} else {
		struct export_wait w = { .dir = x->d.dir, .fd = -1,
					 .inner = xasprintf("/proc/%d/root%s", x->d.pid, mnt) };
		char *how = NULL;
		switch (qsd_wait_up(&x->d, export_up, &w, &how)) {
		case QSD_UP:
			x->fd = w.fd;
			rc = 0;
			break;
		case QSD_FAILED:
			snprintf(err, errlen, "cannot open qemu-storage-daemon's export: %s",
				 strerror(w.err));
			break;
		case QSD_ENDED:
			snprintf(err, errlen, "qemu-storage-daemon (format %s, FUSE export) ended: %s",
				 driver, how);
			free(how);
			break;
		case QSD_SLOW:
			snprintf(err, errlen, "qemu-storage-daemon did not export the image in 10 s");
			break;
		}
		free(w.inner);
	}
	free(mnt);
	if (rc < 0)
		bl_export_close(x);
	return rc;
}
