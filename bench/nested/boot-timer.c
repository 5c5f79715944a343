/*
 * boot-timer.c: times a VMM booting a guest, for the nested benchmark
 * (bench/nested). It runs CMD with stdin from /dev/null and its output
 * (stdout and stderr) into LOG, and prints when MARKER first appeared in that
 * output and when CMD exited, in milliseconds since CMD was started:
 *
 *   boot-timer [-t SEC] MARKER LOG CMD [ARG...]
 *   -> marker_ms=8123.4 exit_ms=8456.7 status=0
 *
 * marker_ms is -1 when the marker never showed. With -t, CMD is killed
 * (SIGKILL, its whole process group) after SEC seconds; status is then 137.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	int timeout_s = 0, ai = 1;

	if (argc > 2 && !strcmp(argv[1], "-t")) {
		timeout_s = atoi(argv[2]);
		ai = 3;
	}
	if (argc - ai < 3) {
		fprintf(stderr, "usage: boot-timer [-t SEC] MARKER LOG CMD [ARG...]\n");
		return 2;
	}
	const char *marker = argv[ai];
	size_t mlen = strlen(marker);
	int log = open(argv[ai + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log < 0 || mlen == 0 || mlen > 256) {
		fprintf(stderr, "boot-timer: %s: %s\n", argv[ai + 1], strerror(errno));
		return 2;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("boot-timer: pipe");
		return 2;
	}
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		perror("boot-timer: fork");
		return 2;
	}
	if (pid == 0) {
		setpgid(0, 0);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execvp(argv[ai + 2], &argv[ai + 2]);
		fprintf(stderr, "boot-timer: %s: %s\n", argv[ai + 2], strerror(errno));
		_exit(127);
	}
	close(p[1]);

	/* The marker may straddle two reads: keep its length - 1 bytes. */
	char buf[65536 + 256];
	size_t keep = 0;
	double t_marker = -1, deadline = timeout_s ? t0 + timeout_s * 1e3 : 0;
	int killed = 0;
	for (;;) {
		int wait_ms = -1;
		if (deadline) {
			double left = deadline - now_ms();
			if (left <= 0) {
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				killed = 1;
				break;
			}
			wait_ms = (int)left + 1;
		}
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		int r = poll(&pfd, 1, wait_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue;
		ssize_t n = read(p[0], buf + keep, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (write(log, buf + keep, (size_t)n) != n)
			perror("boot-timer: write log");
		size_t len = keep + (size_t)n;
		if (t_marker < 0 && memmem(buf, len, marker, mlen))
			t_marker = now_ms() - t0;
		keep = len < mlen - 1 ? len : mlen - 1;
		memmove(buf, buf + len - keep, keep);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	double t_exit = now_ms() - t0;
	int status = killed ? 137 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	printf("marker_ms=%.1f exit_ms=%.1f status=%d\n", t_marker, t_exit, status);
	return 0;
}
