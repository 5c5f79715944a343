/*
 * test_qsd.c: unit tests of src/util/qsd.c, the qemu-storage-daemon
 * children of the VMM and the bootloader, with sh standing in for the
 * daemon: the private directory, the child's descriptors and signal mask,
 * the wait until "up", how a daemon that ended is described (its status
 * and first message), the set-up hook's failure, and the end (SIGTERM,
 * the directory removed). No KVM, no QEMU.
 */
#include "util/qsd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

static int failures, checks;

#define CHECK(c) do { checks++; if (!(c)) { failures++; fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); } } while (0)

static int file_exists(void *arg)
{
	return access(arg, F_OK) == 0;
}

static int never(void *arg)
{
	return 0;
}

static int give_up(void *arg)
{
	return -1;
}

static int refuse(int logfd)
{
	dprintf(logfd, "no namespace for you\n");
	return -1;
}

static char *slurp(const char *path)
{
	char *s = NULL;
	size_t n;
	return read_file(path, &s, &n) == 0 ? s : xstrdup("");
}

/* Up when it says so; its descriptors and signal mask as qsd.h promises;
 * stopped with SIGTERM, its directory gone. */
static void test_up_and_stop(void)
{
	struct qsd q;
	CHECK(qsd_mkdir(&q, "kxl-test-qsd") == 0);
	CHECK(q.dir && strstr(q.dir, "/kxl-test-qsd.") && q.log);
	struct stat st;
	CHECK(stat(q.dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	char *ready = qsd_file(&q, "ready");
	char *fds = qsd_file(&q, "fds");
	/* an fd of ours without O_CLOEXEC must not reach the child */
	int leak = open("/dev/null", O_RDONLY);
	char *script = xasprintf("ls /proc/self/fd > %s; grep SigBlk /proc/self/status; "
				 "echo to-the-log; : > %s; exec sleep 30", fds, ready);
	char *argv[] = { "sh", "-c", script, NULL };
	/* nor a signal we block */
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	CHECK(qsd_spawn(&q, argv, NULL) == 0 && q.pid > 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(leak);
	char *how = NULL;
	CHECK(qsd_wait_up(&q, file_exists, ready, &how) == QSD_UP && !how);
	CHECK(qsd_ended(&q) == NULL);
	char *l = slurp(fds);
	/* 0, 1, 2 and the fd ls reads /proc/self/fd through */
	CHECK(!strcmp(l, "0\n1\n2\n3\n"));
	free(l);
	l = slurp(q.log);
	CHECK(strstr(l, "SigBlk:\t0000000000000000") && strstr(l, "to-the-log"));
	free(l);
	char *dir = xstrdup(q.dir);
	int pid = q.pid;
	qsd_stop(&q);
	CHECK(q.pid == 0 && !q.dir && !q.log);
	CHECK(access(dir, F_OK) < 0 && errno == ENOENT);
	CHECK(kill(pid, 0) < 0 && errno == ESRCH);
	free(dir);
	free(ready);
	free(fds);
	free(script);
}

/* A daemon that ends at once: its status and first line; one killed by a
 * signal; one that is never up (QSD_FAILED from the callback). */
static void test_ended(void)
{
	struct qsd q;
	CHECK(qsd_mkdir(&q, "kxl-test-qsd") == 0);
	char *argv[] = { "sh", "-c", "echo 'Unknown driver iscsi' >&2; echo more >&2; exit 3", NULL };
	CHECK(qsd_spawn(&q, argv, NULL) == 0);
	char *how = NULL;
	CHECK(qsd_wait_up(&q, never, NULL, &how) == QSD_ENDED);
	CHECK(how && !strcmp(how, "exit status 3; it said: Unknown driver iscsi"));
	CHECK(q.pid == 0);
	free(how);
	qsd_stop(&q);

	CHECK(qsd_mkdir(&q, "kxl-test-qsd") == 0);
	char *argv2[] = { "sh", "-c", "kill -9 $$", NULL };
	CHECK(qsd_spawn(&q, argv2, NULL) == 0);
	how = NULL;
	CHECK(qsd_wait_up(&q, never, NULL, &how) == QSD_ENDED);
	CHECK(how && !strcmp(how, "killed by signal 9; it said: no message"));
	free(how);
	qsd_stop(&q);

	CHECK(qsd_mkdir(&q, "kxl-test-qsd") == 0);
	char *argv3[] = { "sleep", "30", NULL };
	CHECK(qsd_spawn(&q, argv3, NULL) == 0);
	CHECK(qsd_wait_up(&q, give_up, NULL, NULL) == QSD_FAILED);
	qsd_stop(&q);
}

/* The set-up hook fails: exit 126 with its reason; a program not found:
 * exit 127. */
static void test_prepare_and_exec(void)
{
	struct qsd q;
	CHECK(qsd_mkdir(&q, "kxl-test-qsd") == 0);
	char *argv[] = { "sleep", "30", NULL };
	CHECK(qsd_spawn(&q, argv, refuse) == 0);
	char *how = NULL;
	CHECK(qsd_wait_up(&q, never, NULL, &how) == QSD_ENDED);
	CHECK(how && !strcmp(how, "exit status 126; it said: no namespace for you"));
	free(how);
	qsd_stop(&q);

	CHECK(qsd_mkdir(&q, "kxl-test-qsd") == 0);
	char *argv2[] = { "kxl-no-such-daemon", NULL };
	CHECK(qsd_spawn(&q, argv2, NULL) == 0);
	how = NULL;
	CHECK(qsd_wait_up(&q, never, NULL, &how) == QSD_ENDED);
	CHECK(how && !strcmp(how, "exit status 127; it said: cannot run kxl-no-such-daemon: "
			     "No such file or directory"));
	free(how);
	qsd_stop(&q);
}

int main(void)
{
	/* a private XDG_RUNTIME_DIR, so that what is left behind shows */
	char tmpl[] = "/tmp/kxl-test-qsd-run.XXXXXX";
	CHECK(mkdtemp(tmpl) != NULL);
	setenv("XDG_RUNTIME_DIR", tmpl, 1);
	test_up_and_stop();
	test_ended();
	test_prepare_and_exec();
	CHECK(rmdir(tmpl) == 0);	/* empty: every daemon's directory was removed */
	printf("%d checks, %d failures\n", checks, failures);
	return failures != 0;
}
