/*
 * dsdt.c: the DSDT, in AML generated here. It describes what the VMM
 * emulates at the addresses of layout.h:
 *   \_S5            sleep type KXL_ACPI_S5_TYPE, written by Linux to the
 *                   FADT sleep control register on power-off;
 *   \_SB.COM1       PNP0501 at KXL_PORT_COM1, IRQ KXL_GSI_COM1;
 *   \_SB.PEVT       pvpanic, QEMU0001 at KXL_PORT_PVPANIC;
 *   \_SB.PWRB       the power button, PNP0C0C;
 *   \_SB.GED0       Generic Event Device, ACPI0013, interrupt KXL_GSI_GED;
 *                   its _EVT reads the event register at KXL_GPA_GED and
 *                   notifies PWRB (0x80) for KXL_GED_EVT_POWER_BUTTON.
 *   \_SB.VRnn      virtio-mmio, LNRO0005, one page at KXL_GPA_VIRTIO_MMIO +
 *                   nn * KXL_VIRTIO_MMIO_SIZE, GSI KXL_GSI_VIRTIO_MMIO + nn
 *                   (only as many as the spec asks for; none today).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/aml.h"
#include "boot/boot-int.h"
#include "util/util.h"

static void rt_io(struct aml *r, uint16_t port, uint8_t align, uint8_t len)
{
	uint8_t b[8] = { 0x47, 0x01, (uint8_t)port, (uint8_t)(port >> 8), (uint8_t)port,
			 (uint8_t)(port >> 8), align, len };	/* IO (Decode16, ...) */
	aml_bytes(r, b, sizeof(b));
}

static void rt_irq_noflags(struct aml *r, unsigned irq)
{
	uint8_t b[3] = { 0x22, (uint8_t)(1u << irq), (uint8_t)((1u << irq) >> 8) };
	aml_bytes(r, b, sizeof(b));
}

/* Memory32Fixed (ReadWrite, base, len) */
static void rt_mem32(struct aml *r, uint32_t base, uint32_t len)
{
	uint8_t b[12] = { 0x86, 0x09, 0x00, 0x01 };
	st32(b + 4, base);
	st32(b + 8, len);
	aml_bytes(r, b, sizeof(b));
}

/* Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) {gsi} */
static void rt_interrupt(struct aml *r, uint32_t gsi)
{
	uint8_t b[9] = { 0x89, 0x06, 0x00, 0x01, 0x01 };
	st32(b + 5, gsi);
	aml_bytes(r, b, sizeof(b));
}

/* Name (_CRS, ResourceTemplate () { <rt> }) */
static void crs(struct aml *a, const struct aml *rt)
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

static size_t device_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_DEVICE);
	size_t p = aml_begin(a);
	aml_name(a, name);
	return p;
}

static void name_eisaid(struct aml *a, const char *name, const char *id)
{
	aml_byte(a, AML_NAME);
	aml_name(a, name);
	aml_eisaid(a, id);
}

static void name_str(struct aml *a, const char *name, const char *s)
{
	aml_byte(a, AML_NAME);
	aml_name(a, name);
	aml_string(a, s);
}

static void name_int(struct aml *a, const char *name, uint64_t v)
{
	aml_byte(a, AML_NAME);
	aml_name(a, name);
	aml_int(a, v);
}

static void body(struct aml *a, unsigned nr_virtio_mmio)
{
	struct aml rt = { 0 };

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

	size_t dev = device_begin(a, "COM1");
	name_eisaid(a, "_HID", "PNP0501");
	name_int(a, "_UID", 1);
	rt.len = 0;
	rt_io(&rt, KXL_PORT_COM1, 0x00, 0x08);
	rt_irq_noflags(&rt, KXL_GSI_COM1);
	crs(a, &rt);
	aml_end(a, dev);

	dev = device_begin(a, "PEVT");
	name_str(a, "_HID", "QEMU0001");
	name_int(a, "_UID", 0);
	rt.len = 0;
	rt_io(&rt, KXL_PORT_PVPANIC, 0x01, 0x01);
	crs(a, &rt);
	aml_end(a, dev);

	dev = device_begin(a, "PWRB");
	name_eisaid(a, "_HID", "PNP0C0C");
	name_int(a, "_UID", 0);
	aml_end(a, dev);

	dev = device_begin(a, "GED0");
	name_str(a, "_HID", "ACPI0013");
	name_int(a, "_UID", 0);
	rt.len = 0;
	rt_interrupt(&rt, KXL_GSI_GED);
	crs(a, &rt);
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

	for (unsigned v = 0; v < nr_virtio_mmio; v++) {
		char name[5];
		snprintf(name, sizeof(name), "VR%02X", v & 0xff);
		dev = device_begin(a, name);
		name_str(a, "_HID", "LNRO0005");
		name_int(a, "_UID", v);
		name_int(a, "_CCA", 1);	/* cache coherent */
		rt.len = 0;
		rt_mem32(&rt, (uint32_t)(KXL_GPA_VIRTIO_MMIO + v * KXL_VIRTIO_MMIO_SIZE),
			 (uint32_t)KXL_VIRTIO_MMIO_SIZE);
		rt_interrupt(&rt, KXL_GSI_VIRTIO_MMIO + v);
		crs(a, &rt);
		aml_end(a, dev);
	}

	aml_end(a, sb);
	free(rt.p);
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
