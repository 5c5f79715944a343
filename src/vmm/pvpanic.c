/*
 * pvpanic.c: QEMU's pvpanic I/O port (0x505, ACPI QEMU0001). A read
 * returns the capabilities (PANICKED and CRASH_LOADED): Linux ANDs them with
 * what it supports. Writing PANICKED is a guest crash; CRASH_LOADED (a kdump
 * kernel takes over) is logged and the guest goes on. Stateless; its kind
 * writes the DSDT's \_SB.PEVT.
 */
#include <stdlib.h>

#include "boot/dsdt.h"
#include "layout.h"
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

static void pvpanic_dev_io(struct vmm_io *c, unsigned inst, uint64_t off, uint8_t *data,
			   unsigned len, bool write)
{
	pvpanic_io_locked(c->vm, data, write);
}

static void pvpanic_dsdt(struct aml *a, unsigned nr_virtio_mmio)
{
	struct aml rt = { 0 };
	size_t dev = dsdt_device_begin(a, "PEVT");
	dsdt_name_str(a, "_HID", "QEMU0001");
	dsdt_name_int(a, "_UID", 0);
	dsdt_rt_io(&rt, KXL_PORT_PVPANIC, 0x01, 0x01);
	dsdt_crs(a, &rt);
	aml_end(a, dev);
	free(rt.p);
}

const struct vmm_dev_kind dev_pvpanic = {
	.name = "pvpanic",
	.bus = VMM_BUS_PIO,
	.base = KXL_PORT_PVPANIC,
	.size = 1,
	.widths = 1u << 1,
	.io = pvpanic_dev_io,
	.dsdt = pvpanic_dsdt,
};
