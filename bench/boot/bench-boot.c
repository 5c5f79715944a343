/*
 * bench-boot.c: the builder's speed against its peers, as ratios.
 *
 *   bench-boot BZIMAGE PAYLOAD ELF [RUNS]
 *
 * 1. Loading the bzImage into guest memory (kxl_boot_build: read, decompress,
 *    place the segments in a fresh memfd) against `lz4 -d` (or the tool of
 *    the payload's compression) of the same payload into a file on tmpfs
 *    (/dev/shm): the same work of decompressing into fresh shared memory.
 *    Target: at most 1.0x.
 * 2. Loading the ELF vmlinux against a plain sequential read of the file
 *    into fresh memory. Target: at most 1.2x.
 * Each figure is the median of RUNS (default 15) runs with a warm page cache.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kxl/boot.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static double build_once(const char *kernel, uint64_t mem)
{
	struct kxl_boot_spec spec = { .kernel = kernel, .cmdline = "console=ttyS0",
				      .mem_bytes = mem, .vcpus = 1, .maxvcpus = 1, .acpi = true };
	struct kxl_guest_image img;
	struct kxl_diag d;
	kxl_diag_init(&d);
	double t = now();
	int r = kxl_boot_build(&spec, &img, &d);
	t = now() - t;
	if (r) {
		kxl_diag_print(&d, stderr);
		exit(1);
	}
	kxl_guest_image_free(&img);
	kxl_diag_free(&d);
	return t;
}

static double tool_once(const char *tool, const char *payload, const char *out)
{
	unlink(out);
	double t = now();
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int in = open(payload, O_RDONLY);
		if (fd < 0 || in < 0)
			_exit(127);
		dup2(in, 0);
		dup2(fd, 1);
		execlp(tool, tool, "-d", "-c", (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	t = now() - t;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench-boot: %s -d failed\n", tool);
		exit(1);
	}
	unlink(out);
	return t;
}

static double read_once(const char *path)
{
	struct stat st;
	double t = now();
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		exit(1);
	uint8_t *buf = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t off = 0;
	ssize_t n;
	while ((n = read(fd, buf + off, (size_t)st.st_size - off > (1 << 20) ? (1 << 20) :
			  (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	munmap(buf, (size_t)st.st_size);
	return now() - t;
}

static const char *tool_for(const char *payload)
{
	unsigned char m[6] = { 0 };
	FILE *f = fopen(payload, "rb");
	if (!f || fread(m, 1, sizeof(m), f) < 4)
		exit(1);
	fclose(f);
	if (m[0] == 0x02 && m[1] == 0x21)
		return "lz4";
	if (m[0] == 0xfd)
		return "xz";
	if (m[0] == 0x1f)
		return "gzip";
	if (m[0] == 0x28)
		return "zstd";
	if (m[0] == 'B')
		return "bzip2";
	if (m[0] == 0x89)
		return "lzop";
	return "lzma";
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bench-boot BZIMAGE PAYLOAD ELF [RUNS]\n");
		return 2;
	}
	int runs = argc > 4 ? atoi(argv[4]) : 15;
	if (runs < 1 || runs > 1000)
		runs = 15;
	const uint64_t mem = 1ULL << 30;
	double *a = calloc((size_t)runs, sizeof(double)), *b = calloc((size_t)runs, sizeof(double));
	const char *tool = tool_for(argv[2]);
	char out[64];
	snprintf(out, sizeof(out), "/dev/shm/kxl-bench-%d", (int)getpid());

	build_once(argv[1], mem);	/* warm the page cache */
	tool_once(tool, argv[2], out);
	for (int i = 0; i < runs; i++) {
		a[i] = build_once(argv[1], mem);
		b[i] = tool_once(tool, argv[2], out);
	}
	double ta = median(a, runs), tb = median(b, runs);
	printf("bzImage load: kxl %.1f ms, %s -d to tmpfs %.1f ms, ratio %.2fx (target <= 1.0x)\n",
	       ta * 1e3, tool, tb * 1e3, ta / tb);

	build_once(argv[3], mem);
	read_once(argv[3]);
	for (int i = 0; i < runs; i++) {
		a[i] = build_once(argv[3], mem);
		b[i] = read_once(argv[3]);
	}
	ta = median(a, runs);
	tb = median(b, runs);
	printf("ELF load:     kxl %.1f ms, sequential read %.1f ms, ratio %.2fx (target <= 1.2x)\n",
	       ta * 1e3, tb * 1e3, ta / tb);
	free(a);
	free(b);
	return 0;
}
