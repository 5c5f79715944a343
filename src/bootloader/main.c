/*
 * main.c: kxl-bootloader, a drop-in for Xen's pygrub that libxl can run as
 * `bootloader ='. It takes pygrub's arguments, opens the disk image
 * read-only, has the sandboxed child (sandbox.c) choose the entry and copy
 * the kernel and ramdisk straight into new files in --output-directory
 * (memfds with -n), then writes the records libxl reads to --output: sxp
 * ("linux (kernel '...')(ramdisk '...')(args '...')", Python quoting, as
 * pygrub), simple (one "key value" per line) or simple0 (NUL-separated),
 * each list ended by an empty record. A value a format cannot carry is
 * refused. Any failure is one line on stderr, exit status 1, and no file
 * left behind. --isconfig (pygrub's debugging aid) reads a menu file
 * instead of a disk and prints the chosen entry as pygrub does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "bootloader/bl.h"
#include "util/util.h"

static const char *prog = "kxl-bootloader";

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [-q|--quiet] [-i|--interactive] [-l|--list-entries] [-n|--not-really]\n"
		"  [--output=FILE] [--output-format=sxp|simple|simple0] [--output-directory=DIR]\n"
		"  [--entry=ENTRY] [--kernel=PATH] [--ramdisk=PATH] [--args=ARGS] [--offset=BYTES]\n"
		"  [--timeout=SECONDS] DISK\n"
		"       %s --isconfig [--entry=ENTRY] [--args=ARGS] MENU-FILE\n", prog, prog);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

/* Python's repr() of a str, as pygrub's sxp output uses it. */
static void py_repr(struct sbuf *b, const char *s)
{
	char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
	sbuf_add(b, &q, 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\' || *p == (unsigned char)q)
			sbuf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			sbuf_adds(b, "\\n");
		else if (*p == '\r')
			sbuf_adds(b, "\\r");
		else if (*p == '\t')
			sbuf_adds(b, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			sbuf_printf(b, "\\x%02x", *p);
		else
			sbuf_add(b, (const char *)p, 1);
	}
	sbuf_add(b, &q, 1);
}

/* A new empty file DIR/PREFIX.XXXXXX for the reader to fill; its path in
 * *path. Returns the descriptor or -1 with err filled. */
static int make_out(const char *dir, const char *prefix, char **path, char *err, size_t errlen)
{
	*path = xasprintf("%s/%s.XXXXXX", dir, prefix);
	int fd = mkostemp(*path, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", *path, strerror(errno));
		free(*path);
		*path = NULL;
	}
	return fd;
}

static void unlink_free(char **path)
{
	if (*path) {
		unlink(*path);
		free(*path);
		*path = NULL;
	}
}

int main(int argc, char **argv)
{
	enum { O_OUTPUT = 256, O_FORMAT, O_DIR, O_OFFSET, O_ENTRY, O_KERNEL, O_RAMDISK, O_ARGS,
	       O_RUNAS, O_ISCONFIG, O_DEBUG, O_TIMEOUT };
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' }, { "interactive", no_argument, NULL, 'i' },
		{ "list-entries", no_argument, NULL, 'l' }, { "not-really", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, O_OUTPUT },
		{ "output-format", required_argument, NULL, O_FORMAT },
		{ "output-directory", required_argument, NULL, O_DIR },
		{ "offset", required_argument, NULL, O_OFFSET },
		{ "entry", required_argument, NULL, O_ENTRY },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "ramdisk", required_argument, NULL, O_RAMDISK },
		{ "args", required_argument, NULL, O_ARGS },
		{ "runas", required_argument, NULL, O_RUNAS },
		{ "isconfig", no_argument, NULL, O_ISCONFIG },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *format = "sxp", *dir = "/var/run/xen/pygrub";
	struct bl_request rq = { .offset = UINT64_MAX, .listfd = 1 };
	int not_really = 0, quiet = 0, timeout_s = 30, c;
	char *end;

	while ((c = getopt_long(argc, argv, "qilnh", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 'i': case O_DEBUG:
			break;	/* the menu shows whenever stdin is a terminal and not -q */
		case 'l': rq.list = 1; break;
		case 'n': not_really = 1; break;
		case 'h': usage(stdout); return 0;
		case O_OUTPUT: output = strcmp(optarg, "-") ? optarg : NULL; break;
		case O_FORMAT:
			if (strcmp(optarg, "sxp") && strcmp(optarg, "simple") && strcmp(optarg, "simple0"))
				return fail("unknown output format %s", optarg);
			format = optarg;
			break;
		case O_DIR: dir = optarg; break;
		case O_OFFSET:
			errno = 0;
			rq.offset = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg || optarg[0] == '-')
				return fail("offset value must be a whole number of bytes: %s", optarg);
			break;
		case O_ENTRY: rq.entry = optarg; break;
		case O_KERNEL: rq.kernel = optarg; break;
		case O_RAMDISK: rq.ramdisk = optarg; break;
		case O_ARGS: rq.args = optarg; break;
		case O_RUNAS:
			strtol(optarg, &end, 10);
			if (*end || !*optarg)
				return fail("runas value must be an integer user id");
			break;	/* the reader is always deprivileged */
		case O_ISCONFIG: rq.isconfig = 1; break;
		case O_TIMEOUT:
			timeout_s = atoi(optarg);
			if (timeout_s <= 0 || timeout_s > 3600)
				return fail("--timeout must be 1 to 3600 seconds");
			break;
		default: usage(stderr); return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	const char *disk = argv[argc - 1];
	if (rq.args && (strchr(rq.args, '\n') || strlen(rq.args) >= BL_CMDLINE_MAX))
		return fail("--args: a newline or more than %d bytes", BL_CMDLINE_MAX - 1);

	int fd = open(disk, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail("%s: %s", disk, strerror(errno));
	struct stat st;
	if (rq.isconfig) {
		/* pygrub's debugging aid: DISK is a menu file, read (as pygrub
		 * does) as GRUB 2's grub.cfg by the sandboxed reader; the chosen
		 * entry is printed as pygrub prints it, no file is made */
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			return fail("%s: --isconfig takes a configuration file", disk);
		char err[BL_ERRLEN];
		struct bl_choice ch;
		int k = memfd_create("kxl-kernel", MFD_CLOEXEC), r = memfd_create("kxl-ramdisk", MFD_CLOEXEC);
		if (k < 0 || r < 0)
			return fail("memfd_create: %s", strerror(errno));
		if (bl_find_sandboxed(fd, &rq, k, r, &ch, timeout_s * 1000, err, sizeof(err)) < 0)
			return fail("%s: %s", disk, err);
		printf("  kernel: %s\n", ch.kernel);
		if (ch.has_ramdisk)
			printf("  initrd: %s\n", ch.ramdisk);
		printf("  args: %s\n", ch.args);
		if (fflush(stdout) != 0)
			return fail("writing the result: %s", strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)))
		return fail("%s: not a disk image or block device", disk);
	int outfd = 1;
	if (output && !rq.list) {
		outfd = open(output, O_WRONLY | O_CLOEXEC);
		if (outfd < 0)
			return fail("%s: %s", output, strerror(errno));
	}

	/* The interactive menu: a first run of the reader lists the menu into
	 * a memfd, the user chooses (and may edit the command line), and the
	 * second run delivers that entry. */
	char err[BL_ERRLEN];
	static char *edited;		/* static: reachable until exit */
	static struct bl_items items;
	if (!quiet && !rq.list && isatty(0)) {
		struct bl_request lq = rq;
		lq.list = BL_LIST_MENU;
		lq.listfd = memfd_create("kxl-menu", MFD_CLOEXEC);
		int k0 = memfd_create("kxl-kernel", MFD_CLOEXEC), r0 = memfd_create("kxl-ramdisk", MFD_CLOEXEC);
		struct bl_choice lc;
		char menu[64 * 1024];
		ssize_t n = -1;
		if (lq.listfd < 0 || k0 < 0 || r0 < 0)
			return fail("memfd_create: %s", strerror(errno));
		if (bl_find_sandboxed(fd, &lq, k0, r0, &lc, timeout_s * 1000, err, sizeof(err)) < 0)
			return fail("%s: %s", disk, err);
		n = pread(lq.listfd, menu, sizeof(menu), 0);
		close(lq.listfd);
		close(k0);
		close(r0);
		if (n > 0 && bl_items_parse(menu, (size_t)n, &items) == 0) {
			int i = bl_tty_menu(0, isatty(1) ? 1 : 2, &items, &edited);
			rq.entry = items.v[i].path;
			rq.cmdline = edited;
		}
	}

	/* The reader copies the kernel and ramdisk straight into their final
	 * files (one copy, extent by extent): made here, empty, before it runs,
	 * and removed if anything fails. With -n or -l: memfds. */
	char *kpath = NULL, *rpath = NULL, *adir = NULL;
	int kfd, rfd;
	if (not_really || rq.list) {
		kfd = memfd_create("kxl-kernel", MFD_CLOEXEC);
		rfd = memfd_create("kxl-ramdisk", MFD_CLOEXEC);
		if (kfd < 0 || rfd < 0)
			return fail("memfd_create: %s", strerror(errno));
	} else {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return fail("%s: %s", dir, strerror(errno));
		adir = realpath(dir, NULL);	/* pygrub's paths are absolute */
		if (!adir)
			return fail("%s: %s", dir, strerror(errno));
		kfd = make_out(adir, "boot_kernel", &kpath, err, sizeof(err));
		if (kfd < 0) {
			free(adir);
			return fail("%s", err);
		}
		rfd = make_out(adir, "boot_ramdisk", &rpath, err, sizeof(err));
		if (rfd < 0) {
			unlink_free(&kpath);
			free(adir);
			return fail("%s", err);
		}
	}

	struct bl_choice ch;
	if (bl_find_sandboxed(fd, &rq, kfd, rfd, &ch, timeout_s * 1000, err, sizeof(err)) < 0) {
		unlink_free(&kpath);
		unlink_free(&rpath);
		free(adir);
		return fail("%s: %s", disk, err);
	}
	close(fd);
	if (rq.list)
		return 0;
	if (close(kfd) < 0 || close(rfd) < 0) {
		int e = errno;
		unlink_free(&kpath);
		unlink_free(&rpath);
		fail("%s: %s", adir, strerror(e));
		free(adir);
		return 1;
	}
	if (not_really) {
		kpath = xasprintf("<kernel:%s>", ch.kernel);
		rpath = ch.has_ramdisk ? xasprintf("<ramdisk:%s>", ch.ramdisk) : NULL;
	} else if (!ch.has_ramdisk) {
		unlink_free(&rpath);
	}

	struct sbuf o = { 0 };
	sbuf_add(&o, "", 0);
	const char *args = ch.args[0] ? ch.args : NULL;
	if (!strcmp(format, "sxp")) {
		sbuf_adds(&o, "linux (kernel ");
		py_repr(&o, kpath);
		sbuf_adds(&o, ")");
		if (rpath) {
			sbuf_adds(&o, "(ramdisk ");
			py_repr(&o, rpath);
			sbuf_adds(&o, ")");
		}
		if (args) {
			sbuf_adds(&o, "(args ");
			py_repr(&o, args);
			sbuf_adds(&o, ")");
		}
	} else {
		char sep = !strcmp(format, "simple") ? '\n' : '\0';
		/* (a C string cannot hold the NUL of simple0) */
		if (sep && (strchr(kpath, sep) || (rpath && strchr(rpath, sep)) || (args && strchr(args, sep)))) {
			if (!not_really) {
				unlink(kpath);
				if (rpath)
					unlink(rpath);
			}
			fail("the simple format cannot carry a value with a newline");
			free(o.s);
			free(kpath);
			free(rpath);
			free(adir);
			return 1;
		}
		sbuf_printf(&o, "kernel %s", kpath);
		sbuf_add(&o, &sep, 1);
		if (rpath) {
			sbuf_printf(&o, "ramdisk %s", rpath);
			sbuf_add(&o, &sep, 1);
		}
		if (args) {
			sbuf_printf(&o, "args %s", args);
			sbuf_add(&o, &sep, 1);
		}
		sbuf_add(&o, &sep, 1);
	}
	size_t done = 0;
	while (done < o.len) {
		ssize_t w = write(outfd, o.s + done, o.len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!not_really) {
				unlink(kpath);
				if (rpath)
					unlink(rpath);
			}
			fail("writing the result: %s", w ? strerror(errno) : "short write");
			free(o.s);
			free(kpath);
			free(rpath);
			free(adir);
			return 1;
		}
		done += (size_t)w;
	}
	free(o.s);
	free(kpath);
	free(rpath);
	free(adir);
	return 0;
}
