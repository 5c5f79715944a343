/*
 * acpi.c: the hardware-reduced ACPI registers the FADT names: the sleep
 * control register (0x600: SLP_TYP in bits 2-4, SLP_EN in bit 5), the
 * sleep status register (0x601, always 0: nothing to wake from) and the
 * reset register (0x602, reset value 0x0f). S5 is a poweroff and the reset
 * value a reboot; other sleep states are refused with a log message.
 */
#include <string.h>

#include "layout.h"
#include "vmm/priv.h"

#define SLP_EN (1u << 5)

static void acpi_write(struct vm *vm, uint16_t port, uint8_t v)
{
	switch (port) {
	case KXL_PORT_ACPI_SLEEP_CTL:
		if (!(v & SLP_EN))
			break;
		if (((v >> 2) & 7) == KXL_ACPI_S5_TYPE)
			vm_request_stop(vm, KXL_VMM_POWEROFF, "the guest powered off (ACPI S5)");
		else
			vmm_log_limited(vm, "ignored ACPI sleep to SLP_TYP %u: only S5 exists\n",
					(v >> 2) & 7);
		break;
	case KXL_PORT_ACPI_SLEEP_STS:
		break;
	case KXL_PORT_ACPI_RESET:
		if (v == KXL_ACPI_RESET_VALUE)
			vm_request_stop(vm, KXL_VMM_REBOOT, "the guest rebooted (ACPI reset register)");
		else
			vmm_log_limited(vm, "ignored write %#x to the ACPI reset register\n", v);
		break;
	}
}

/* The registers are one byte each (the FADT says so); a wider access is
 * split into its byte lanes, as the bus would. */
void acpi_io_locked(struct vm *vm, uint16_t port, uint8_t *val, unsigned size, bool wr)
{
	if (!wr) {
		memset(val, 0, size);
		return;
	}
	for (unsigned i = 0; i < size; i++)
		if (port + i <= KXL_PORT_ACPI_RESET)
			acpi_write(vm, (uint16_t)(port + i), val[i]);
}

static void acpi_dev_io(struct vmm_io *c, unsigned inst, uint64_t off, uint8_t *data,
			unsigned len, bool write)
{
	acpi_io_locked(c->vm, (uint16_t)(KXL_PORT_ACPI_SLEEP_CTL + off), data, len, write);
}

/* Stateless: the FADT describes it, no DSDT entry. */
const struct vmm_dev_kind dev_acpi_pm = {
	.name = "acpi-pm",
	.bus = VMM_BUS_PIO,
	.base = KXL_PORT_ACPI_SLEEP_CTL,
	.size = KXL_PORT_ACPI_RESET - KXL_PORT_ACPI_SLEEP_CTL + 1,
	.widths = (1u << 1) | (1u << 2) | (1u << 4),
	.io = acpi_dev_io,
};
