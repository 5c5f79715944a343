/*
 * fuzz_blimage.c: libFuzzer target for the bootloader's disk side
 * (src/bootloader/disk.c, find.c): the input is a whole disk image, put in
 * a memfd, and bl_find runs on it as the sandboxed child would (without
 * the sandbox), the kernel and ramdisk going to two more memfds.
 * -DFUZZ_PART: the partition walk first (libblkid: MBR, logical
 * partitions, GPT), then each filesystem; -DFUZZ_EXTFS: the input is one
 * filesystem (--offset=0): libext2fs's superblock, directories, extents,
 * symlinks, then the menu and the copy of the chosen files; -DFUZZ_ISO:
 * the same with an ISO 9660 image (libiso9660 through iso.c's stream:
 * volume descriptors, directories, Rock Ridge and Joliet). Seeds are made
 * at test time (run-fuzz-image), never committed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "bootloader/bl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fds[3] = { -1, -1, -1 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fds[0] < 0) {
		fds[0] = memfd_create("fuzz-disk", MFD_CLOEXEC);
		fds[1] = memfd_create("fuzz-kernel", MFD_CLOEXEC);
		fds[2] = memfd_create("fuzz-ramdisk", MFD_CLOEXEC);
		if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0)
			abort();
	}
	for (int i = 0; i < 3; i++)
		if (ftruncate(fds[i], 0) < 0 || lseek(fds[i], 0, SEEK_SET) < 0)
			abort();
	if (size && pwrite(fds[0], data, size, 0) != (ssize_t)size)
		abort();
#if defined(FUZZ_EXTFS) || defined(FUZZ_ISO)
	struct bl_request rq = { .offset = 0, .listfd = -1 };
#else
	struct bl_request rq = { .offset = UINT64_MAX, .listfd = -1 };
#endif
	struct bl_choice *out = malloc(sizeof(*out));
	char err[BL_ERRLEN];
	if (bl_find(fds[0], &rq, fds[1], fds[2], out, err, sizeof(err)) == 0 &&
	    (out->kernel[0] == 0 || memchr(out->args, 0, sizeof(out->args)) == NULL))
		abort();	/* a success names its kernel and has a terminated command line */
	free(out);
	return 0;
}
