/*
 * bootloader.h: kxl's bootloader as `kxl create', `kxl check' and `kxl
 * layout' run it for a config with bootloader = "pygrub" (src/bootloader).
 * It opens the domain's first disk (disks[0], as libxl does) read-only, has
 * the sandboxed reader choose the menu entry and copy the kernel and the
 * ramdisk into memfds, and hands those to the builder by descriptor (no
 * file is written anywhere). kernel=, ramdisk= and cmdline= keep xl's
 * meaning with a bootloader: files inside the guest's disk and extra
 * arguments; bootloader_args takes pygrub's options (--entry=, --kernel=,
 * --ramdisk=, --args=, --offset=, -q).
 */
#ifndef KXL_BOOTLOADER_H
#define KXL_BOOTLOADER_H

#include <stdbool.h>
#include <stdint.h>

#include <kxl/boot.h>
#include <kxl/diag.h>
#include <kxl/model.h>

struct kxl_bootloader {
	int kernel_fd, ramdisk_fd;	/* memfds, owned; ramdisk_fd -1 when the entry has none */
	uint64_t kernel_size, ramdisk_size;
	char *kernel_name, *ramdisk_name;	/* "DISK:/boot/vmlinuz-..." for messages and the plan */
	char *cmdline;			/* the entry's arguments (and cmdline=), owned */
};

/* Runs the bootloader on dom's first disk and fills spec's kernel, module
 * (interactive: the menu on the terminal of fds 0 and 1 first, unless
 * bootloader_args has -q; create -c on a terminal asks for it)
 * list (a new one: the ramdisk, by descriptor) and cmdline with what it
 * found; the names and descriptors are bl's, which must outlive spec's use.
 * spec comes from kxl_domain_boot_spec. Returns 0, or -1 with one line in
 * *d naming the disk and the cause. bl is always safe to free. */
int kxl_bootloader_boot(const struct kxl_domain *dom, bool interactive, struct kxl_boot_spec *spec,
			struct kxl_bootloader *bl, struct kxl_diag *d);
void kxl_bootloader_free(struct kxl_bootloader *bl);

#endif
