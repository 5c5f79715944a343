/*
 * pvpanic.c: QEMU's pvpanic I/O port (0x505, ACPI QEMU0001). A read
 * returns the capabilities (PANICKED and CRASH_LOADED): Linux ANDs them with
 * what it supports. Writing PANICKED is a guest crash; CRASH_LOADED (a kdump
 * kernel takes over) is logged and the guest goes on.
 */
#include "vmm/priv.h"

#define PVPANIC_PANICKED	(1u << 0)
#define PVPANIC_CRASH_LOADED	(1u << 1)

void pvpanic_io_locked(struct vm *vm, uint8_t *val, bool wr)
{
	if (!wr) {
		*val = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
		return;
	}
	if (*val & PVPANIC_PANICKED)
		vm_request_stop(vm, KXL_VMM_CRASH, "the guest reported a panic through pvpanic");
	else if (*val & PVPANIC_CRASH_LOADED)
		vmm_log(vm, "pvpanic: the guest loaded a crash kernel after a panic\n");
}
