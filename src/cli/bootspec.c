/*
 * bootspec.c: the boot specification create, check and layout build from:
 * the model's (kxl_domain_boot_spec), and for a config with bootloader =
 * "pygrub" the kernel, ramdisk and command line kxl's bootloader finds in
 * the guest's first disk (kxl_bootloader_boot), handed over as memfds.
 */
#include "cli/cli.h"

int cli_boot_spec(const struct kxl_domain *dom, bool interactive, struct kxl_boot_spec *spec,
		  struct kxl_bootloader *bl, size_t *bl_from, struct kxl_diag *d)
{
	bl->kernel_fd = bl->ramdisk_fd = -1;
	bl->kernel_name = bl->ramdisk_name = bl->cmdline = NULL;
	if (kxl_domain_boot_spec(dom, spec, d))
		return -1;
	if (bl_from)
		*bl_from = d->n;
	if (dom->bootloader && kxl_bootloader_boot(dom, interactive, spec, bl, d)) {
		kxl_boot_spec_free(spec);
		kxl_bootloader_free(bl);
		return -1;
	}
	return 0;
}

void cli_boot_spec_free(struct kxl_boot_spec *spec, struct kxl_bootloader *bl)
{
	kxl_boot_spec_free(spec);
	kxl_bootloader_free(bl);
}
