/*
 * ged.c: the ACPI Generic Event Device (ACPI0013) that carries the power
 * button. Its event register is the 32-bit word at KXL_GPA_GED: a read
 * returns the pending events and clears them (KXL_GED_EVT_POWER_BUTTON:
 * the power button); writes are ignored. The DSDT declares GSI KXL_GSI_GED
 * level-triggered, active high: the line stays up while an event is
 * pending and drops when the guest's _EVT reads the register. Its kind
 * writes the DSDT's \_SB.PWRB and \_SB.GED0 with that _EVT method.
 */
#include <stdlib.h>
#include <string.h>

#include "boot/dsdt.h"
#include "layout.h"
#include "vmm/priv.h"

void ged_mmio_locked(struct vm *vm, uint64_t off, uint8_t *data, unsigned len, bool wr)
{
	if (wr)
		return;
	memset(data, 0, len);
	if (off == 0 && len == 4) {
		uint32_t v = vm->ged_pending;
		memcpy(data, &v, 4);
		if (v) {
			vm->ged_pending = 0;
			vm_irq_line(vm, KXL_GSI_GED, 0);
		}
	}
}

void ged_power_button(struct vm *vm)
{
	pthread_mutex_lock(&vm->dev_lock);
	vm->ged_pending |= KXL_GED_EVT_POWER_BUTTON;
	vm_irq_line(vm, KXL_GSI_GED, 1);
	pthread_mutex_unlock(&vm->dev_lock);
}

static void ged_dev_io(struct vmm_io *c, unsigned inst, uint64_t off, uint8_t *data,
		       unsigned len, bool write)
{
	ged_mmio_locked(c->vm, off, data, len, write);
}

static void ged_reset(struct vm *vm)
{
	vm->ged_pending = 0;
}

static size_t ged_save(struct vm *vm, uint8_t *buf, size_t cap)
{
	if (sizeof(vm->ged_pending) <= cap)
		memcpy(buf, &vm->ged_pending, sizeof(vm->ged_pending));
	return sizeof(vm->ged_pending);
}

static int ged_restore(struct vm *vm, const uint8_t *buf, size_t len)
{
	if (len != sizeof(vm->ged_pending))
		return -1;
	memcpy(&vm->ged_pending, buf, len);
	vm_irq_line(vm, KXL_GSI_GED, vm->ged_pending != 0);
	return 0;
}

static void ged_dsdt(struct aml *a, unsigned nr_virtio_mmio)
{
	struct aml rt = { 0 };

	size_t dev = dsdt_device_begin(a, "PWRB");
	dsdt_name_eisaid(a, "_HID", "PNP0C0C");
	dsdt_name_int(a, "_UID", 0);
	aml_end(a, dev);

	dev = dsdt_device_begin(a, "GED0");
	dsdt_name_str(a, "_HID", "ACPI0013");
	dsdt_name_int(a, "_UID", 0);
	dsdt_rt_interrupt(&rt, KXL_GSI_GED, false);
	dsdt_crs(a, &rt);
	free(rt.p);
	/* OperationRegion (EREG, SystemMemory, KXL_GPA_GED, KXL_GED_SIZE) */
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_OPREGION);
	aml_name(a, "EREG");
	aml_byte(a, 0x00);
	aml_int(a, KXL_GPA_GED);
	aml_int(a, KXL_GED_SIZE);
	/* Field (EREG, DWordAcc, NoLock, Preserve) { ESEL, 32 } */
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_FIELD);
	size_t f = aml_begin(a);
	aml_name(a, "EREG");
	aml_byte(a, 0x03);
	aml_name(a, "ESEL");
	aml_pkglen_value(a, 32);
	aml_end(a, f);
	/* Method (_EVT, 1, Serialized) { Local0 = ESEL
	 *   If ((Local0 & POWER_BUTTON)) { Notify (\_SB.PWRB, 0x80) } } */
	aml_byte(a, AML_METHOD);
	size_t m = aml_begin(a);
	aml_name(a, "_EVT");
	aml_byte(a, 0x09);
	aml_byte(a, AML_STORE);
	aml_name(a, "ESEL");
	aml_byte(a, AML_LOCAL0);
	aml_byte(a, AML_IF);
	size_t i = aml_begin(a);
	aml_byte(a, AML_AND);
	aml_byte(a, AML_LOCAL0);
	aml_int(a, KXL_GED_EVT_POWER_BUTTON);
	aml_byte(a, AML_NULLNAME);
	aml_byte(a, AML_NOTIFY);
	aml_name(a, "\\_SB.PWRB");
	aml_int(a, 0x80);
	aml_end(a, i);
	aml_end(a, m);
	aml_end(a, dev);
}

const struct vmm_dev_kind dev_ged = {
	.name = "ged",
	.bus = VMM_BUS_MMIO,
	.base = KXL_GPA_GED,
	.size = KXL_GED_SIZE,
	.widths = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8),
	.reset = ged_reset,
	.io = ged_dev_io,
	.save = ged_save,
	.restore = ged_restore,
	.dsdt = ged_dsdt,
};
