/*
 * iobench.c: the I/O benchmark's measuring tool (bench/nested/run-io-bench),
 * built statically so that it runs in the busybox guest as in the nested
 * host. Each mode prints one line "IOBENCH NAME VALUE UNIT" on success:
 *
 *   iobench seqwrite FILE MIB      O_DIRECT 1 MiB writes, then fdatasync
 *   iobench seqread FILE MIB [-b]  O_DIRECT 1 MiB reads (-b: buffered, for
 *                                  a host file system without O_DIRECT)
 *   iobench randread FILE SECS [-b]  O_DIRECT (-b: buffered) 4 KiB reads at
 *                                  random aligned offsets, one at a time,
 *                                  for SECS seconds
 *   iobench send HOST PORT MIB     MIB MiB over one TCP connection
 *   iobench recv PORT              takes one TCP connection to its end and
 *                                  reports its throughput (first byte to EOF)
 *
 * Times come from CLOCK_MONOTONIC of the machine it runs on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "iobench: %s: %s\n", what, strerror(errno));
	return 1;
}

static void *aligned(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 4096, n))
		return NULL;
	memset(p, 0x5a, n);
	return p;
}

static uint64_t size_of(int fd)
{
	struct stat st;
	uint64_t n = 0;
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &n) < 0)
			n = 0;
	} else if (fstat(fd, &st) == 0) {
		n = st.st_size;
	}
	return n;
}

static int seq(const char *path, long mib, int write, int direct)
{
	int fd = open(path, (write ? O_WRONLY : O_RDONLY) | (direct ? O_DIRECT : 0));
	if (fd < 0)
		return fail(path);
	char *buf = aligned(MIB);
	if (!buf)
		return fail("memory");
	double t0 = now();
	for (long i = 0; i < mib; i++) {
		ssize_t n = write ? pwrite(fd, buf, MIB, (off_t)i * MIB)
				  : pread(fd, buf, MIB, (off_t)i * MIB);
		if (n != MIB)
			return fail(write ? "pwrite" : "pread");
	}
	if (write && fdatasync(fd) < 0)
		return fail("fdatasync");
	double t = now() - t0;
	printf("IOBENCH %s %.1f MiB/s (%ld MiB in %.2f s)\n", write ? "seqwrite" : "seqread",
	       mib / t, mib, t);
	close(fd);
	free(buf);
	return 0;
}

static int randread(const char *path, double secs, int direct)
{
	int fd = open(path, O_RDONLY | (direct ? O_DIRECT : 0));
	if (fd < 0)
		return fail(path);
	uint64_t blocks = size_of(fd) / 4096;
	char *buf = aligned(4096);
	if (!buf || blocks == 0)
		return fail("size or memory");
	uint64_t x = 0x9e3779b97f4a7c15ull, ops = 0;
	double t0 = now(), t;
	do {
		for (int k = 0; k < 64; k++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;	/* xorshift64 */
			if (pread(fd, buf, 4096, (off_t)(x % blocks) * 4096) != 4096)
				return fail("pread");
			ops++;
		}
		t = now() - t0;
	} while (t < secs);
	printf("IOBENCH randread %.0f IOPS (%llu reads of 4 KiB in %.2f s)\n", ops / t,
	       (unsigned long long)ops, t);
	close(fd);
	free(buf);
	return 0;
}

static int send_tcp(const char *host, int port, long mib)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (s < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return fail("socket");
	/* the receiver may still be starting */
	int tries = 0;
	while (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (++tries > 100)
			return fail("connect");
		usleep(100000);
	}
	size_t bs = 128 * 1024;
	char *buf = aligned(bs);
	if (!buf)
		return fail("memory");
	double t0 = now();
	for (long left = mib * MIB; left > 0;) {
		ssize_t n = write(s, buf, left < (long)bs ? (size_t)left : bs);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail("write");
		left -= n;
	}
	shutdown(s, SHUT_WR);
	char c;
	while (read(s, &c, 1) > 0)	/* until the receiver has it all */
		;
	double t = now() - t0;
	printf("IOBENCH send %.1f MiB/s (%ld MiB in %.2f s)\n", mib / t, mib, t);
	close(s);
	return 0;
}

static int recv_tcp(int port)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0)
		return fail("listen");
	printf("IOBENCH listening %d\n", port);
	fflush(stdout);
	int s = accept(l, NULL, NULL);
	if (s < 0)
		return fail("accept");
	size_t bs = 256 * 1024;
	char *buf = malloc(bs);
	if (!buf)
		return fail("memory");
	unsigned long long total = 0;
	double t0 = 0;
	for (;;) {
		ssize_t n = read(s, buf, bs);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("read");
		if (n == 0)
			break;
		if (total == 0)
			t0 = now();
		total += n;
	}
	double t = now() - t0;
	printf("IOBENCH recv %.1f MiB/s (%llu bytes in %.2f s)\n", total / t / MIB, total, t);
	close(s);
	close(l);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "seqwrite"))
		return seq(argv[2], atol(argv[3]), 1, 1);
	if (argc >= 4 && !strcmp(argv[1], "seqread"))
		return seq(argv[2], atol(argv[3]), 0, !(argc > 4 && !strcmp(argv[4], "-b")));
	if (argc >= 4 && !strcmp(argv[1], "randread"))
		return randread(argv[2], atof(argv[3]), !(argc > 4 && !strcmp(argv[4], "-b")));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return send_tcp(argv[2], atoi(argv[3]), atol(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "recv"))
		return recv_tcp(atoi(argv[2]));
	fprintf(stderr, "usage: iobench seqwrite|seqread FILE MIB [-b] | randread FILE SECS [-b] |"
			" send HOST PORT MIB | recv PORT\n");
	return 2;
}
