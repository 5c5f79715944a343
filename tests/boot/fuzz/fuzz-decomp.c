/*
 * fuzz-decomp.c: libFuzzer target for every decompression path. The first
 * byte picks the codec (gzip, bzip2, xz, lzma, lzo, lz4, zstd), the next
 * two the declared output size (up to 64 KiB, so bombs are found fast),
 * the rest is the stream.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "boot/boot-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	enum comp c = (enum comp)(1 + data[0] % 7);
	size_t out_len = (size_t)data[1] | (size_t)data[2] << 8;
	uint8_t *out = malloc(out_len ? out_len : 1);
	struct kxl_diag d;

	kxl_diag_init(&d);
	decomp_run(c, "fuzz.bin", data + 3, size - 3, out, out_len, &d);
	kxl_diag_free(&d);
	free(out);
	return 0;
}
