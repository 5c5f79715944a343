/*
 * linux.c: the Linux x86 64-bit boot protocol (Documentation/arch/x86/
 * boot.rst), for kernels without a PVH note or when it is forced. kxl has
 * already decompressed and loaded the vmlinux; here it writes the zero page
 * (struct boot_params: the bzImage's setup header, or a minimal one for a
 * plain ELF, with cmdline, initrd, RSDP and the e820 table), a GDT with
 * __BOOT_CS/__BOOT_DS, and identity page tables for the first 4 GiB (2 MiB
 * pages), and sets the 64-bit entry state: RIP = the ELF entry
 * (startup_64), RSI = boot_params, CR3 = the PML4.
 */
#include <string.h>

#include "boot/boot-int.h"

/* struct boot_params offsets (arch/x86/include/uapi/asm/bootparam.h) */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_HDR 0x1f1
#define BP_BOOT_FLAG 0x1fe
#define BP_HEADER 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_CMDLINE_SIZE 0x238
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

int linux_setup(struct boot_ctx *c)
{
	struct kxl_guest_image *img = c->img;
	uint8_t *zp = kxl_guest_ptr(img, KXL_GPA_ZERO_PAGE, KXL_PAGE);
	uint8_t *gdt = kxl_guest_ptr(img, KXL_GPA_GDT, KXL_GDT_ENTRIES * 8);
	uint8_t *pml4 = kxl_guest_ptr(img, KXL_GPA_PML4, KXL_PAGE);
	uint8_t *pdpt = kxl_guest_ptr(img, KXL_GPA_PDPT, KXL_PAGE);
	uint8_t *pd = kxl_guest_ptr(img, KXL_GPA_PD, KXL_NR_PD * KXL_PAGE);

	if (c->elf.machine != 62 || c->elf.bits != 64)
		return kxl_err(c->d, "%s: the Linux 64-bit boot protocol needs a 64-bit x86 kernel, this is a %d-bit ELF",
			       c->kfile, c->elf.bits);
	if (c->is_bzimage) {
		memcpy(zp + BP_HDR, c->bz.hdr, c->bz.hdr_len);
	} else {
		st16(zp + BP_BOOT_FLAG, 0xaa55);
		memcpy(zp + BP_HEADER, "HdrS", 4);
		st16(zp + BP_VERSION, 0x020f);
		st32(zp + BP_KERNEL_ALIGNMENT, 0x1000000);
		st32(zp + BP_CMDLINE_SIZE, 2047);
	}
	zp[BP_TYPE_OF_LOADER] = 0xff;
	zp[BP_LOADFLAGS] |= 0x01;	/* LOADED_HIGH */
	st32(zp + BP_CMD_LINE_PTR, (uint32_t)c->cmdline_gpa);
	st32(zp + BP_EXT_CMD_LINE_PTR, (uint32_t)(c->cmdline_gpa >> 32));
	st32(zp + BP_RAMDISK_IMAGE, (uint32_t)c->initrd_gpa);
	st32(zp + BP_RAMDISK_SIZE, (uint32_t)c->initrd_size);
	st32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(c->initrd_gpa >> 32));
	st32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)(c->initrd_size >> 32));
	st64(zp + BP_ACPI_RSDP, c->rsdp_gpa);
	zp[BP_E820_ENTRIES] = (uint8_t)c->map.n;
	for (unsigned i = 0; i < c->map.n && i < BP_E820_MAX; i++) {
		uint8_t *e = zp + BP_E820_TABLE + 20 * i;
		st64(e, c->map.v[i].addr);
		st64(e + 8, c->map.v[i].size);
		st32(e + 16, c->map.v[i].type);
	}

	st64(gdt, 0);
	st64(gdt + 8, 0);
	st64(gdt + KXL_GDT_SEL_CS, 0x00af9b000000ffffULL);	/* 64-bit code, DPL 0 */
	st64(gdt + KXL_GDT_SEL_DS, 0x00cf93000000ffffULL);	/* flat data, DPL 0 */

	st64(pml4, KXL_GPA_PDPT | 0x3);			/* present, writable */
	for (unsigned i = 0; i < KXL_NR_PD; i++) {
		st64(pdpt + 8 * i, (KXL_GPA_PD + i * KXL_PAGE) | 0x3);
		for (unsigned j = 0; j < 512; j++)
			st64(pd + i * KXL_PAGE + 8 * j,
			     ((uint64_t)i << 30 | (uint64_t)j << 21) | 0x83);	/* 2 MiB page */
	}

	img->entry.rip = c->elf.e_entry + (uint64_t)c->reloc_delta;
	img->entry.rsi = KXL_GPA_ZERO_PAGE;
	img->entry.cr3 = KXL_GPA_PML4;
	img->entry.gdt_base = KXL_GPA_GDT;
	img->entry.gdt_limit = KXL_GDT_ENTRIES * 8 - 1;
	plan_region(c, KXL_GPA_CMDLINE, strlen((char *)kxl_guest_ptr(img, c->cmdline_gpa, 1)) + 1,
		    NULL, "kernel command line");
	plan_region(c, KXL_GPA_ZERO_PAGE, KXL_PAGE, NULL, "zero page (boot_params, %u e820 entries)",
		    c->map.n);
	plan_region(c, KXL_GPA_GDT, KXL_GDT_ENTRIES * 8, NULL, "GDT (CS 0x%x, DS 0x%x)",
		    KXL_GDT_SEL_CS, KXL_GDT_SEL_DS);
	plan_region(c, KXL_GPA_PML4, KXL_GPA_BOOT_END - KXL_GPA_PML4, NULL,
		    "identity page tables (4 GiB, 2 MiB pages)");
	if (c->initrd_size)
		plan_note(c, "boot_params: initrd 0x%llx, %llu bytes",
			  (unsigned long long)c->initrd_gpa, (unsigned long long)c->initrd_size);
	return 0;
}
