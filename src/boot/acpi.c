/*
 * acpi.c: the ACPI tables Linux needs to find CPUs, interrupts and power
 * control on a machine without firmware: RSDP (at KXL_GPA_RSDP, in the
 * legacy scan area, and in hvm_start_info.rsdp_paddr), XSDT, a hardware-
 * reduced FADT (revision 6.3) with sleep control/status registers and a
 * reset register on the VMM's ports, a MADT with one local APIC per
 * possible vCPU (those beyond `vcpus` present but not enabled, marked
 * online-capable so they can be hot-added) plus the IOAPIC and the ISA
 * overrides, and the DSDT of dsdt.c. All in [KXL_GPA_ACPI_START,
 * KXL_GPA_ACPI_END), typed ACPI in the memory map.
 */
#include <string.h>

#include "boot/boot-int.h"

#define OEM_ID "KXL   "
#define OEM_TABLE "KXL     "

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return (uint8_t)-s;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev, const char *table_id)
{
	memcpy(t, sig, 4);
	st32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, table_id, 8);
	st32(t + 24, 1);
	memcpy(t + 28, "KXL ", 4);
	st32(t + 32, 1);
}

static void finish(uint8_t *t)
{
	t[9] = 0;
	t[9] = acpi_checksum(t, ld32(t + 4));
}

/* Generic Address Structure: System I/O, byte access. */
static void gas_io(uint8_t *g, uint16_t port, uint8_t bits)
{
	g[0] = 1;
	g[1] = bits;
	g[2] = 0;
	g[3] = 1;
	st64(g + 4, port);
}

static size_t fadt(uint8_t *t, uint64_t dsdt)
{
	const uint32_t len = 276;

	header(t, "FACP", len, 6, "KXLFACP ");
	st32(t + 40, (uint32_t)dsdt);
	t[45] = 0;			/* preferred PM profile: unspecified */
	st16(t + 46, KXL_GSI_GED);	/* SCI_INT (unused in hardware-reduced mode) */
	st16(t + 109, 1u << 2 | 1u << 4);	/* IAPC_BOOT_ARCH: no VGA, no ASPM control */
	st32(t + 112, 1u << 4 | 1u << 5 | 1u << 10 | 1u << 20);
	/* flags: PWR_BUTTON and SLP_BUTTON as control methods, RESET_REG_SUP,
	 * HW_REDUCED_ACPI */
	gas_io(t + 116, KXL_PORT_ACPI_RESET, 8);
	t[128] = KXL_ACPI_RESET_VALUE;
	t[131] = 3;			/* FADT minor version: ACPI 6.3 */
	st64(t + 140, dsdt);		/* X_DSDT */
	gas_io(t + 244, KXL_PORT_ACPI_SLEEP_CTL, 8);
	gas_io(t + 256, KXL_PORT_ACPI_SLEEP_STS, 8);
	memcpy(t + 268, "KXLKVM  ", 8);	/* hypervisor vendor identity */
	finish(t);
	return len;
}

static size_t madt(uint8_t *t, unsigned vcpus, unsigned maxvcpus)
{
	size_t n = 44;

	for (unsigned i = 0; i < maxvcpus; i++, n += 8) {
		uint8_t *e = t + n;
		e[0] = 0;		/* Processor Local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i;	/* ACPI processor UID */
		e[3] = (uint8_t)i;	/* APIC ID */
		st32(e + 4, i < vcpus ? 1u : 2u);	/* enabled, or online-capable */
	}
	uint8_t *io = t + n;
	io[0] = 1;			/* I/O APIC */
	io[1] = 12;
	io[2] = 0;			/* its ID: KVM's IOAPIC resets to 0 */
	io[3] = 0;
	st32(io + 4, (uint32_t)KXL_GPA_IOAPIC);
	st32(io + 8, 0);		/* GSI base */
	n += 12;
	/* Only ISA IRQs need overrides; virtio-mmio GSIs >= 16 take their
	 * trigger and polarity from the DSDT. */
	static const struct { uint8_t irq; uint32_t gsi; uint16_t flags; } iso[] = {
		{ 0, 2, 0x0000 },			/* the PIT's IRQ0 is GSI 2 */
		{ KXL_GSI_GED, KXL_GSI_GED, 0x000d },	/* SCI/GED: level, active high */
	};
	for (size_t i = 0; i < sizeof(iso) / sizeof(iso[0]); i++, n += 10) {
		uint8_t *e = t + n;
		e[0] = 2;		/* Interrupt Source Override */
		e[1] = 10;
		e[2] = 0;		/* bus: ISA */
		e[3] = iso[i].irq;
		st32(e + 4, iso[i].gsi);
		st16(e + 8, iso[i].flags);
	}
	uint8_t *nmi = t + n;		/* Local APIC NMI: all processors, LINT1 */
	nmi[0] = 4;
	nmi[1] = 6;
	nmi[2] = 0xff;
	st16(nmi + 3, 0);
	nmi[5] = 1;
	n += 6;
	header(t, "APIC", (uint32_t)n, 5, "KXLMADT ");
	st32(t + 36, (uint32_t)KXL_GPA_LAPIC);
	st32(t + 40, 0);		/* no dual 8259 PICs */
	finish(t);
	return n;
}

int acpi_build(struct boot_ctx *c)
{
	struct kxl_guest_image *img = c->img;
	uint64_t area = KXL_GPA_ACPI_TABLES_END - KXL_GPA_ACPI_TABLES;
	uint8_t *base = kxl_guest_ptr(img, KXL_GPA_ACPI_TABLES, area);
	uint8_t *rsdp = kxl_guest_ptr(img, KXL_GPA_RSDP, 36);

	c->rsdp_gpa = 0;
	if (!c->spec->acpi) {
		kxl_warn(c->d, "acpi = 0: no ACPI tables, so Linux will see one CPU and cannot power off");
		plan_note(c, "ACPI disabled: no tables (Linux sees one CPU and cannot power off)");
		return 0;
	}
	if (c->spec->nr_virtio_mmio > KXL_VIRTIO_MMIO_MAX)
		return kxl_err(c->d, "%u virtio-mmio devices: kxl describes at most %d",
			       c->spec->nr_virtio_mmio, KXL_VIRTIO_MMIO_MAX);
	if (c->spec->maxvcpus > 255)
		return kxl_err(c->d, "maxvcpus = %u: the MADT kxl builds describes at most 255 vCPUs",
			       c->spec->maxvcpus);
	/* Worst-case sizes fit easily: MADT 44 + 255*8 + 40, DSDT < 1 KiB. */
	uint64_t off = 0;
	uint64_t xsdt = KXL_GPA_ACPI_TABLES;
	off += 64;
	uint64_t fadt_gpa = xsdt + off;
	off += align_up(fadt(base + off, 0), 64);
	uint64_t madt_gpa = xsdt + off;
	off += align_up(madt(base + off, c->spec->vcpus, c->spec->maxvcpus), 64);
	uint64_t dsdt_gpa = xsdt + off;
	size_t dn = dsdt_build(base + off, (size_t)(area - off), c->spec->nr_virtio_mmio);
	if (!dn)
		return kxl_err(c->d, "internal error: the DSDT does not fit in the ACPI area");
	off += align_up(dn, 64);
	/* FADT again, now that the DSDT's address is known. */
	fadt(kxl_guest_ptr(img, fadt_gpa, 276), dsdt_gpa);

	uint8_t *x = base;
	header(x, "XSDT", 36 + 2 * 8, 1, "KXLXSDT ");
	st64(x + 36, fadt_gpa);
	st64(x + 44, madt_gpa);
	finish(x);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, OEM_ID, 6);
	rsdp[15] = 2;
	st32(rsdp + 16, 0);		/* no RSDT: the XSDT is the table */
	st32(rsdp + 20, 36);
	st64(rsdp + 24, xsdt);
	rsdp[8] = acpi_checksum(rsdp, 20);
	rsdp[32] = acpi_checksum(rsdp, 36);
	c->rsdp_gpa = KXL_GPA_RSDP;

	plan_region(c, KXL_GPA_RSDP, 36, NULL, "ACPI RSDP");
	plan_region(c, xsdt, 52, NULL, "ACPI XSDT");
	plan_region(c, fadt_gpa, 276, NULL, "ACPI FADT (hardware-reduced)");
	plan_region(c, madt_gpa, ld32(kxl_guest_ptr(img, madt_gpa + 4, 4)), NULL,
		    "ACPI MADT (%u LAPICs, %u enabled)", c->spec->maxvcpus, c->spec->vcpus);
	plan_region(c, dsdt_gpa, dn, NULL, "ACPI DSDT");
	return 0;
}
