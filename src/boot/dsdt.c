/*
 * dsdt.c: the DSDT, in AML generated here. It describes what the VMM
 * emulates at the addresses of layout.h. \_S5 (sleep type
 * KXL_ACPI_S5_TYPE, written by Linux to the FADT sleep control register on
 * power-off) is the platform's; every device entry inside \_SB comes from
 * the dsdt hook of a device kind in the VMM's table (src/vmm/dev.h,
 * devices.c), in table order:
 *   \_SB.COM1       PNP0501 at KXL_PORT_COM1, IRQ KXL_GSI_COM1 (uart.c);
 *   \_SB.PEVT       pvpanic, QEMU0001 at KXL_PORT_PVPANIC (pvpanic.c);
 *   \_SB.PWRB       the power button, PNP0C0C, and
 *   \_SB.GED0       Generic Event Device, ACPI0013, interrupt KXL_GSI_GED;
 *                   its _EVT reads the event register at KXL_GPA_GED and
 *                   notifies PWRB (0x80) for KXL_GED_EVT_POWER_BUTTON (ged.c);
 *   \_SB.VRnn       virtio-mmio, LNRO0005, one page at KXL_GPA_VIRTIO_MMIO +
 *                   nn * KXL_VIRTIO_MMIO_SIZE, shared level GSI
 *                   KXL_VIRTIO_MMIO_GSI(nn) (virtio-dev.c), as many as the
 *                   spec asks for.
 * The helpers below (dsdt.h) are what those hooks write with.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/aml.h"
#include "boot/boot-int.h"
#include "boot/dsdt.h"
#include "util/util.h"
#include "vmm/dev.h"

void dsdt_rt_io(struct aml *r, uint16_t port, uint8_t align, uint8_t len)
{
	uint8_t b[8] = { 0x47, 0x01, (uint8_t)port, (uint8_t)(port >> 8), (uint8_t)port,
			 (uint8_t)(port >> 8), align, len };	/* IO (Decode16, ...) */
	aml_bytes(r, b, sizeof(b));
}

void dsdt_rt_irq_noflags(struct aml *r, unsigned irq)
{
	uint8_t b[3] = { 0x22, (uint8_t)(1u << irq), (uint8_t)((1u << irq) >> 8) };
	aml_bytes(r, b, sizeof(b));
}

/* Memory32Fixed (ReadWrite, base, len) */
void dsdt_rt_mem32(struct aml *r, uint32_t base, uint32_t len)
{
	uint8_t b[12] = { 0x86, 0x09, 0x00, 0x01 };
	st32(b + 4, base);
	st32(b + 8, len);
	aml_bytes(r, b, sizeof(b));
}

/* Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive/Shared) {gsi}:
 * flags bit 0 consumer, bit 1 edge, bit 2 active low, bit 3 shared. */
void dsdt_rt_interrupt(struct aml *r, uint32_t gsi, bool shared)
{
	uint8_t b[9] = { 0x89, 0x06, 0x00, (uint8_t)(0x01 | (shared ? 0x08 : 0)), 0x01 };
	st32(b + 5, gsi);
	aml_bytes(r, b, sizeof(b));
}

/* Name (_CRS, ResourceTemplate () { <rt> }) */
void dsdt_crs(struct aml *a, const struct aml *rt)
{
	aml_byte(a, AML_NAME);
	aml_name(a, "_CRS");
	aml_byte(a, AML_BUFFER);
	size_t p = aml_begin(a);
	aml_int(a, rt->len + 2);
	aml_bytes(a, rt->p, rt->len);
	aml_byte(a, 0x79);	/* EndTag, checksum 0: "valid" */
	aml_byte(a, 0x00);
	aml_end(a, p);
}

size_t dsdt_device_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_DEVICE);
	size_t p = aml_begin(a);
	aml_name(a, name);
	return p;
}

void dsdt_name_eisaid(struct aml *a, const char *name, const char *id)
{
	aml_byte(a, AML_NAME);
	aml_name(a, name);
	aml_eisaid(a, id);
}

void dsdt_name_str(struct aml *a, const char *name, const char *s)
{
	aml_byte(a, AML_NAME);
	aml_name(a, name);
	aml_string(a, s);
}

void dsdt_name_int(struct aml *a, const char *name, uint64_t v)
{
	aml_byte(a, AML_NAME);
	aml_name(a, name);
	aml_int(a, v);
}

static void body(struct aml *a, unsigned nr_virtio_mmio)
{
	/* Name (\_S5, Package (0x04) { S5, Zero, Zero, Zero }) */
	aml_byte(a, AML_NAME);
	aml_name(a, "\\_S5");
	aml_byte(a, AML_PACKAGE);
	size_t pk = aml_begin(a);
	aml_byte(a, 4);
	aml_int(a, KXL_ACPI_S5_TYPE);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_end(a, pk);

	aml_byte(a, AML_SCOPE);
	size_t sb = aml_begin(a);
	aml_name(a, "\\_SB");

	for (size_t k = 0; k < vmm_nr_devices; k++)
		if (vmm_devices[k]->dsdt)
			vmm_devices[k]->dsdt(a, nr_virtio_mmio);

	aml_end(a, sb);
}

size_t dsdt_build(uint8_t *buf, size_t cap, unsigned nr_virtio_mmio)
{
	struct aml a = { 0 };
	size_t n;

	body(&a, nr_virtio_mmio);
	n = 36 + a.len;
	if (n <= cap) {
		memset(buf, 0, 36);
		memcpy(buf, "DSDT", 4);
		st32(buf + 4, (uint32_t)n);
		buf[8] = 2;	/* revision 2: 64-bit integers */
		memcpy(buf + 10, "KXL   ", 6);
		memcpy(buf + 16, "KXLDSDT ", 8);
		st32(buf + 24, 1);
		memcpy(buf + 28, "KXL ", 4);
		st32(buf + 32, 1);
		memcpy(buf + 36, a.p, a.len);
		buf[9] = acpi_checksum(buf, n);
	}
	free(a.p);
	return n <= cap ? n : 0;
}
