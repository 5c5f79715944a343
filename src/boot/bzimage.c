/*
 * bzimage.c: the bzImage container (Documentation/arch/x86/boot.rst).
 * The setup header gives the setup size (setup_sects, 0 meaning 4) and,
 * from protocol 2.08, payload_offset/payload_length: the compressed
 * vmlinux, followed by its decompressed size as a little-endian u32. The
 * payload's compression is recognised by its magic; the output is bounded
 * by that trailer and by guest memory, then parsed as an ELF.
 */
#include <string.h>

#include "boot/boot-int.h"

bool bzimage_is_bzimage(const uint8_t *p, size_t len)
{
	return len >= 0x206 && ld16(p + 0x1fe) == 0xaa55 && memcmp(p + 0x202, "HdrS", 4) == 0;
}

int bzimage_parse(const char *name, const uint8_t *p, size_t len, struct bzimage *bz,
		  struct kxl_diag *d)
{
	memset(bz, 0, sizeof(*bz));
	if (!bzimage_is_bzimage(p, len))
		return kxl_err(d, "%s: not a bzImage (no \"HdrS\" setup header)", name);
	if (len < 0x268)
		return kxl_err(d, "%s: truncated bzImage: %zu bytes, the setup header alone needs 0x268",
			       name, len);
	bz->version = ld16(p + 0x206);
	if (bz->version < 0x208)
		return kxl_err(d, "%s: bzImage boot protocol %u.%02u is older than 2.08, which has no payload_offset",
			       name, bz->version >> 8, bz->version & 0xff);
	bz->setup_sects = p[0x1f1] ? p[0x1f1] : 4;
	bz->setup_size = (uint64_t)(bz->setup_sects + 1) * 512;
	bz->payload_offset = ld32(p + 0x248);
	bz->payload_length = ld32(p + 0x24c);
	bz->xloadflags = ld16(p + 0x236);
	bz->pref_address = ld64(p + 0x258);
	bz->init_size = ld32(p + 0x260);
	bz->hdr_len = 0x202 + (size_t)p[0x201] - 0x1f1;
	if (bz->hdr_len > sizeof(bz->hdr))
		bz->hdr_len = sizeof(bz->hdr);
	if (0x1f1 + bz->hdr_len > len)
		bz->hdr_len = len - 0x1f1;
	memcpy(bz->hdr, p + 0x1f1, bz->hdr_len);

	uint64_t start = bz->setup_size + bz->payload_offset;
	if (start > len || bz->payload_length > len - start)
		return kxl_err(d, "%s: impossible bzImage payload: offset 0x%x + length 0x%x after a 0x%llx-byte setup runs past the end of the %zu-byte file",
			       name, bz->payload_offset, bz->payload_length,
			       (unsigned long long)bz->setup_size, len);
	if (bz->payload_length < 8)
		return kxl_err(d, "%s: impossible bzImage payload length %u: too short for a compressed kernel and its size trailer",
			       name, bz->payload_length);
	const uint8_t *pl = p + start;
	bz->comp = comp_detect(pl, bz->payload_length);
	if (bz->comp == COMP_NONE)
		return kxl_err(d, "%s: bzImage payload compression not recognised (magic %02x %02x %02x %02x)",
			       name, pl[0], pl[1], pl[2], pl[3]);
	bz->out_size = ld32(pl + bz->payload_length - 4);
	if (bz->out_size == 0)
		return kxl_err(d, "%s: bzImage size trailer says the kernel decompresses to 0 bytes", name);
	return 0;
}

int bzimage_decompress(const char *name, const uint8_t *file, size_t len,
		       const struct bzimage *bz, uint64_t max_out,
		       uint8_t **out, size_t *out_len, struct kxl_diag *d)
{
	const uint8_t *pl = file + bz->setup_size + bz->payload_offset;
	/* gzip's own trailer is the size; for the others the u32 is appended. */
	size_t in_len = bz->payload_length - (bz->comp == COMP_GZIP ? 0 : 4);

	(void)len;
	*out = NULL;
	*out_len = 0;
	if (bz->out_size > max_out)
		return kxl_err(d, "%s: the bzImage's size trailer declares %u bytes decompressed, more than guest memory (%llu MiB)",
			       name, bz->out_size, (unsigned long long)(max_out >> 20));
	uint8_t *buf = decomp_alloc(bz->out_size);
	if (!buf)
		return kxl_err(d, "%s: cannot allocate %u bytes to decompress the kernel", name, bz->out_size);
	if (decomp_run(bz->comp, name, pl, in_len, buf, bz->out_size, d)) {
		decomp_free(buf, bz->out_size);
		return -1;
	}
	*out = buf;
	*out_len = bz->out_size;
	return 0;
}
