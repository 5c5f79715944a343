/*
 * qsd.h: a qemu-storage-daemon child as kxl runs one, for the guest's disks
 * in QEMU's formats and on network targets (src/vmm/virtio-blk.c, an NBD
 * export) and for the bootloader's read-only look at such an image
 * (src/bootloader/export.c, a FUSE export): its private directory, the
 * child's set-up, the wait until it is up, how it ended, and its end. The
 * callers build its command line. qsd.c needs nothing of libkxl but util.c,
 * so kxl-bootloader links the two alone.
 */
#ifndef KXL_QSD_H
#define KXL_QSD_H

struct qsd {
	int pid;	/* the daemon, or 0 */
	char *dir;	/* its private directory, or NULL */
	char *log;	/* DIR/qsd.log: its standard output and error */
};

/* Makes the private directory PREFIX.XXXXXX in $XDG_RUNTIME_DIR (when it
 * is an absolute path) or /tmp; *q is set anew. Returns 0, or -1 with
 * errno. */
int qsd_mkdir(struct qsd *q, const char *prefix);
/* DIR/NAME, a new string. */
char *qsd_file(const struct qsd *q, const char *name);
/* Starts ARGV (argv[0] from PATH) as the daemon: it dies with its parent
 * (PR_SET_PDEATHSIG), has an empty signal mask, /dev/null as its standard
 * input, the log as its output and error, and no other descriptor.
 * PREPARE, unless NULL, runs in the child first; on failure it writes why
 * to LOGFD and returns -1, and the child exits with status 126. Returns 0,
 * or -1 with errno. */
int qsd_spawn(struct qsd *q, char *const argv[], int (*prepare)(int logfd));

enum qsd_wait {
	QSD_UP,		/* UP said so */
	QSD_FAILED,	/* UP gave up (its own reason, in its ARG) */
	QSD_ENDED,	/* the daemon ended first */
	QSD_SLOW,	/* not up in 10 s */
};
/* Waits, polling every 10 ms for up to 10 s, until UP(ARG) returns 1 (up)
 * or -1 (gave up); 0 is not yet. On QSD_ENDED *how (if HOW is not NULL) is
 * how it ended, a new string (qsd_ended). */
enum qsd_wait qsd_wait_up(struct qsd *q, int (*up)(void *arg), void *arg, char **how);
/* If the daemon has ended: reaps it and returns how (its exit status or
 * signal, and the first line of its log), a new string; else NULL. */
char *qsd_ended(struct qsd *q);
/* Ends the daemon (SIGTERM, then SIGKILL after 5 s), removes the files in
 * its directory and the directory, and clears *q. */
void qsd_stop(struct qsd *q);

#endif
