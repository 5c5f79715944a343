/*
 * fuzz-bzimage.c: libFuzzer target for the whole kernel path of the
 * builder: the input is written to a memfd and built as the kernel of a
 * 64 MiB guest with two modules, so the bzImage parser, every
 * decompressor, the streaming and staging loaders, the ELF parser and the
 * placement run on it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kxl/boot.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-kernel", MFD_CLOEXEC);
	char path[64];
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct kxl_boot_module mods[2] = { { .path = path, .cmdline = "m0" }, { .path = path } };
	struct kxl_boot_spec spec = { .kernel = path, .cmdline = "console=ttyS0",
				      .modules = mods, .nr_modules = 2, .mem_bytes = 64ULL << 20,
				      .vcpus = 1, .maxvcpus = 2, .acpi = true };
	struct kxl_guest_image img;
	struct kxl_diag d;
	kxl_diag_init(&d);
	if (kxl_boot_build(&spec, &img, &d) == 0) {
		char *t = kxl_boot_plan_text(&img), *j = kxl_boot_plan_json(&img);
		free(t);
		free(j);
		kxl_guest_image_free(&img);
	}
	kxl_diag_free(&d);
	close(fd);
	return 0;
}
