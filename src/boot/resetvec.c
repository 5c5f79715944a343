/*
 * resetvec.c: code at the x86 reset vector, F000:FFF0 (0xffff0).
 *
 * Nothing of a BIOS lives in a kxl guest, yet Linux on a hardware-reduced
 * ACPI platform reboots through EFI and, without EFI, falls back to jumping
 * to the BIOS reset vector in real mode (arch/x86/kernel/reboot.c:
 * BOOT_EFI -> BOOT_BIOS). A vCPU that lands there runs this stub, which
 * pulses the reset line of the VMM's i8042, so the guest's reboot is seen
 * as one (on_reboot applies) instead of the vCPU spinning in empty memory.
 */
#include <string.h>

#include "boot/boot-int.h"

int resetvec_write(struct boot_ctx *c)
{
	static const uint8_t stub[] = {
		0xb0, 0xfe,		/* mov al, 0xfe: the i8042 "pulse reset" command */
		0xe6, 0x64,		/* out 0x64, al */
		0xf4,			/* hlt */
		0xeb, 0xfd,		/* jmp to the hlt */
	};
	_Static_assert(KXL_PORT_I8042_CMD == 0x64, "the stub writes the i8042 command port");
	uint8_t *p = kxl_guest_ptr(c->img, KXL_GPA_RESET_VECTOR, sizeof(stub));
	if (!p) return kxl_err(c->d, "internal error: the reset vector is not RAM");
	memcpy(p, stub, sizeof(stub));
	plan_region(c, KXL_GPA_RESET_VECTOR, sizeof(stub), NULL,
		    "reset vector: i8042 reset stub (BIOS reboots land here)");
	return 0;
}
