/*
 * linux64-main.c: the 64-bit test guest for the Linux boot protocol path.
 * It checks the mode it was entered in (CR0.PG, EFER.LMA, CS), prints what
 * the zero page says (cmdline, e820, RSDP, initrd) and powers off.
 */
#include <stdint.h>

#include "lib.h"

void linux64_main(const uint8_t *bp);

static uint32_t ld32(const uint8_t *p) { uint32_t v; g_memcpy(&v, p, 4); return v; }
static uint64_t ld64(const uint8_t *p) { uint64_t v; g_memcpy(&v, p, 8); return v; }

void linux64_main(const uint8_t *bp)
{
	uint64_t cr0, cr4;
	uint16_t cs;
	uint32_t lo, hi;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	gprintf("linux64: entered in 64-bit mode, cr0=%X cr4=%X efer=%X cs=%x\n", cr0, cr4,
		((uint64_t)hi << 32) | lo, cs);
	gprintf("linux64: boot_params=%X header=%s\n", (uint64_t)(uintptr_t)bp,
		!g_strncmp((const char *)bp + 0x202, "HdrS", 4) ? "HdrS" : "missing");
	uint64_t cmd = ld32(bp + 0x228) | ((uint64_t)ld32(bp + 0x0c8) << 32);
	gprintf("linux64: cmdline=\"");
	if (cmd)
		put_str_n((const char *)(uintptr_t)cmd, 2048);
	gprintf("\"\n");
	gprintf("linux64: rsdp=%X initrd=%X size=%x\n", ld64(bp + 0x70),
		(uint64_t)ld32(bp + 0x218), ld32(bp + 0x21c));
	uint32_t n = bp[0x1e8];
	for (uint32_t i = 0; i < n && i < 128; i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;
		gprintf("linux64: e820 %u addr=%X size=%X type=%u\n", i, ld64(e), ld64(e + 8),
			ld32(e + 16));
	}
	gprintf("linux64: done\n");
	acpi_poweroff();
}
