/*
 * ged.c: the ACPI Generic Event Device (ACPI0013) that carries the power
 * button. Its event register is the 32-bit word at KXL_GPA_GED: a read
 * returns the pending events and clears them (KXL_GED_EVT_POWER_BUTTON:
 * the power button); writes are ignored. The DSDT declares GSI KXL_GSI_GED
 * level-triggered, active high: the line stays up while an event is
 * pending and drops when the guest's _EVT reads the register.
 */
#include <string.h>

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
