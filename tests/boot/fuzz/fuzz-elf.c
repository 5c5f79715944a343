/*
 * fuzz-elf.c: libFuzzer target for the ELF parser (headers, Xen notes from
 * PT_NOTE and SHT_NOTE) and the segment placement checks, on an in-memory
 * image.
 */
#include <stddef.h>
#include <stdint.h>

#include "boot/boot-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_src s = { .name = "fuzz.elf", .fd = -1, .buf = data, .size = size };
	struct elf_info e;
	struct kxl_diag d;
	int64_t delta;

	kxl_diag_init(&d);
	if (elf_parse(&s, &e, &d) == 0) {
		load_check_segments("fuzz.elf", &e, 256ULL << 20, true, &delta, &d);
		load_check_segments("fuzz.elf", &e, 8ULL << 30, false, &delta, &d);
		elf_info_free(&e);
	}
	kxl_diag_free(&d);
	return 0;
}
