/*
 * e820.c: the guest's memory map, shared by hvm_start_info's memmap and the
 * Linux zero page. RAM starts at 0; the boot pages are reserved, the legacy
 * VGA/ROM hole is left out (Linux reserves it), the ACPI area is typed ACPI,
 * RAM runs from 1 MiB to the MMIO hole, KVM's identity-map and TSS pages in
 * the hole are reserved, and RAM continues above 4 GiB. Sorted, apart,
 * and at most KXL_MEMMAP_MAX entries (Linux adds one to a 128-entry table).
 */
#include "boot/boot-int.h"

void e820_add(struct e820 *m, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size == 0 || m->n >= KXL_MEMMAP_MAX)
		return;
	m->v[m->n++] = (struct e820_ent){ .addr = addr, .size = size, .type = type };
}

void e820_build(struct boot_ctx *c)
{
	struct e820 *m = &c->map;
	uint64_t mem = c->img->mem_bytes, low = mem_low_end(mem);

	m->n = 0;
	e820_add(m, 0, KXL_GPA_BOOT_START, E820_RAM);
	e820_add(m, KXL_GPA_BOOT_START, KXL_GPA_BOOT_END - KXL_GPA_BOOT_START, E820_RESERVED);
	e820_add(m, KXL_GPA_BOOT_END, KXL_GPA_LOW_RAM_END - KXL_GPA_BOOT_END, E820_RAM);
	if (c->rsdp_gpa)
		e820_add(m, KXL_GPA_ACPI_START, KXL_GPA_ACPI_END - KXL_GPA_ACPI_START, E820_ACPI);
	e820_add(m, KXL_GPA_HIGH_RAM, low - KXL_GPA_HIGH_RAM, E820_RAM);
	e820_add(m, KXL_GPA_IDENTITY_MAP, KXL_GPA_KVM_PRIV_END - KXL_GPA_IDENTITY_MAP, E820_RESERVED);
	if (mem > low)
		e820_add(m, KXL_GPA_ABOVE_4G, mem - low, E820_RAM);
}
