/*
 * qsd.c: the qemu-storage-daemon children of the VMM's disks and of the
 * bootloader (see qsd.h): each gets a private directory for its socket or
 * mount point and its log, starts with nothing of its parent's but its
 * environment, dies with its parent, and is waited for by polling what
 * the caller says "up" is.
 */
#include "util/qsd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "util/util.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

int qsd_mkdir(struct qsd *q, const char *prefix)
{
	memset(q, 0, sizeof(*q));
	const char *base = getenv("XDG_RUNTIME_DIR");
	char *dir = xasprintf("%s/%s.XXXXXX", base && *base == '/' ? base : "/tmp", prefix);
	if (!mkdtemp(dir)) {
		int e = errno;
		free(dir);
		errno = e;
		return -1;
	}
	q->dir = dir;
	q->log = qsd_file(q, "qsd.log");
	return 0;
}

char *qsd_file(const struct qsd *q, const char *name)
{
	return xasprintf("%s/%s", q->dir, name);
}

int qsd_spawn(struct qsd *q, char *const argv[], int (*prepare)(int logfd))
{
	int logfd = open(q->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		/* the daemon dies with us; it gets no signal mask, no fd of ours */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (prepare && prepare(logfd) < 0)
			_exit(126);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		close_range(3, ~0U, 0);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int e = errno;
	close(logfd);
	if (pid < 0) {
		errno = e;
		return -1;
	}
	q->pid = pid;
	return 0;
}

static char *first_line(const char *path)
{
	char buf[400] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
	}
	buf[strcspn(buf, "\n")] = 0;
	return xstrdup(buf[0] ? buf : "no message");
}

char *qsd_ended(struct qsd *q)
{
	int st;
	if (q->pid <= 0 || waitpid(q->pid, &st, WNOHANG) != q->pid)
		return NULL;
	q->pid = 0;
	char *msg = first_line(q->log);
	char *r = WIFSIGNALED(st) ? xasprintf("killed by signal %d; it said: %s", WTERMSIG(st), msg) :
		  xasprintf("exit status %d; it said: %s", WEXITSTATUS(st), msg);
	free(msg);
	return r;
}

enum qsd_wait qsd_wait_up(struct qsd *q, int (*up)(void *arg), void *arg, char **how)
{
	for (int i = 0; i < 1000; i++) {
		int u = up(arg);
		if (u > 0)
			return QSD_UP;
		if (u < 0)
			return QSD_FAILED;
		char *h = qsd_ended(q);
		if (h) {
			if (how)
				*how = h;
			else
				free(h);
			return QSD_ENDED;
		}
		sleep_ms(10);
	}
	return QSD_SLOW;
}

void qsd_stop(struct qsd *q)
{
	if (q->pid > 0) {
		kill(q->pid, SIGTERM);
		int i;
		for (i = 0; i < 500 && waitpid(q->pid, NULL, WNOHANG) == 0; i++)
			sleep_ms(10);
		if (i == 500) {
			kill(q->pid, SIGKILL);
			waitpid(q->pid, NULL, 0);
		}
	}
	if (q->dir) {
		/* only the daemon and its caller put files there */
		DIR *dp = opendir(q->dir);
		if (dp) {
			struct dirent *de;
			while ((de = readdir(dp)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					unlinkat(dirfd(dp), de->d_name, 0);
			closedir(dp);
		}
		rmdir(q->dir);
	}
	free(q->dir);
	free(q->log);
	memset(q, 0, sizeof(*q));
}
