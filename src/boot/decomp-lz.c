/*
 * decomp-lz.c: the two block containers of bzImage payloads.
 *
 * LZO: the lzop file format (as lib/decompress_unlzo.c reads it): a 9-byte
 * magic, a header (version, method, flags, mode, mtime, name, checksum) and
 * blocks of {u32 BE dst_len, u32 BE src_len, optional checksums, data},
 * ended by dst_len 0; a block with src_len == dst_len is stored. The
 * checksums of the decompressed data (Adler-32 or CRC-32) are verified.
 *
 * LZ4: Linux's legacy frame (lib/decompress_unlz4.c): the magic
 * 0x184C2102, then blocks of {u32 LE compressed size, data}, each
 * decompressing to at most 8 MiB. liblz4's frame API cannot read it, so the
 * block API does, straight into the output buffer.
 */
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <lzo/lzoutil.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot-int.h"

#define LZOP_F_ADLER32_D 0x1
#define LZOP_F_ADLER32_C 0x2
#define LZOP_F_H_EXTRA_FIELD 0x40
#define LZOP_F_CRC32_D 0x100
#define LZOP_F_CRC32_C 0x200
#define LZOP_F_H_FILTER 0x800
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u << 20)

static int lzo_short(const char *name, size_t at, struct kxl_diag *d)
{
	return kxl_err(d, "%s: corrupt lzo stream: truncated at byte %zu", name, at);
}

int decomp_lzo(const char *name, const uint8_t *in, size_t in_len,
	       uint8_t *out, size_t out_len, size_t *produced, struct kxl_diag *d)
{
	static const uint8_t magic[9] = { 0x89, 'L', 'Z', 'O', 0, '\r', '\n', 0x1a, '\n' };
	size_t p = 0, o = 0;

	*produced = 0;
	if (lzo_init() != LZO_E_OK)
		return kxl_err(d, "%s: cannot start liblzo2", name);
	if (in_len < 9 + 8 || memcmp(in, magic, 9) != 0)
		return kxl_err(d, "%s: corrupt lzo stream: bad lzop magic", name);
	p = 9;
	uint16_t version = ld16be(in + p);
	p += 4;			/* version, library version */
	if (version >= 0x0940)
		p += 2;		/* version needed to extract */
	if (p + 1 > in_len)
		return lzo_short(name, p, d);
	uint8_t method = in[p++];
	if (method < 1 || method > 3)
		return kxl_err(d, "%s: corrupt lzo stream: method %u is not LZO1X", name, method);
	if (version >= 0x0940)
		p++;		/* level */
	if (p + 4 > in_len)
		return lzo_short(name, p, d);
	uint32_t flags = ld32be(in + p);
	p += 4;
	if (flags & LZOP_F_H_FILTER)
		p += 4;
	p += 8;			/* mode, mtime low */
	if (version >= 0x0940)
		p += 4;		/* mtime high */
	if (p + 1 > in_len)
		return lzo_short(name, p, d);
	p += 1 + in[p];		/* file name */
	p += 4;			/* header checksum */
	if (flags & LZOP_F_H_EXTRA_FIELD) {
		if (p + 4 > in_len)
			return lzo_short(name, p, d);
		p += 4 + ld32be(in + p) + 4;
	}
	for (;;) {
		if (p + 4 > in_len)
			return lzo_short(name, p, d);
		uint32_t dst_len = ld32be(in + p);
		p += 4;
		if (dst_len == 0)
			break;
		if (p + 4 > in_len)
			return lzo_short(name, p, d);
		uint32_t src_len = ld32be(in + p);
		p += 4;
		uint32_t adler_d = 0, crc_d = 0;
		if (flags & LZOP_F_ADLER32_D) {
			if (p + 4 > in_len)
				return lzo_short(name, p, d);
			adler_d = ld32be(in + p);
			p += 4;
		}
		if (flags & LZOP_F_CRC32_D) {
			if (p + 4 > in_len)
				return lzo_short(name, p, d);
			crc_d = ld32be(in + p);
			p += 4;
		}
		if (src_len < dst_len) {
			if (flags & LZOP_F_ADLER32_C)
				p += 4;
			if (flags & LZOP_F_CRC32_C)
				p += 4;
		}
		if (src_len > dst_len)
			return kxl_err(d, "%s: corrupt lzo stream: a block's compressed size %u exceeds its size %u",
				       name, src_len, dst_len);
		if (p > in_len || src_len > in_len - p)
			return lzo_short(name, p, d);
		if (dst_len > out_len - o) {
			*produced = o;
			return kxl_err(d, "%s: the lzo stream decompresses to more than the %zu bytes its size trailer declares (refused as a decompression bomb)",
				       name, out_len);
		}
		if (src_len == dst_len) {
			memcpy(out + o, in + p, src_len);
		} else {
			lzo_uint n = dst_len;
			int r = lzo1x_decompress_safe(in + p, src_len, out + o, &n, NULL);
			if (r != LZO_E_OK || n != dst_len)
				return kxl_err(d, "%s: corrupt lzo stream: block at byte %zu does not decompress (liblzo2 error %d)",
					       name, p, r);
		}
		if ((flags & LZOP_F_ADLER32_D) && lzo_adler32(1, out + o, dst_len) != adler_d)
			return kxl_err(d, "%s: corrupt lzo stream: the block at byte %zu fails its Adler-32 check",
				       name, p);
		if ((flags & LZOP_F_CRC32_D) && lzo_crc32(0, out + o, dst_len) != crc_d)
			return kxl_err(d, "%s: corrupt lzo stream: the block at byte %zu fails its CRC-32 check",
				       name, p);
		p += src_len;
		o += dst_len;
	}
	*produced = o;
	return 0;
}

int decomp_lz4(const char *name, const uint8_t *in, size_t in_len,
	       uint8_t *out, size_t out_len, size_t *produced, struct kxl_diag *d)
{
	size_t p = 4, o = 0;

	*produced = 0;
	if (in_len < 4 || ld32(in) != LZ4_LEGACY_MAGIC)
		return kxl_err(d, "%s: corrupt lz4 stream: not Linux's legacy LZ4 frame", name);
	while (p + 4 <= in_len) {
		uint32_t csize = ld32(in + p);
		p += 4;
		if (csize == LZ4_LEGACY_MAGIC)	/* concatenated frames */
			continue;
		if (csize == 0 || csize > in_len - p || csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return kxl_err(d, "%s: corrupt lz4 stream: block at byte %zu claims %u compressed bytes, %zu remain",
				       name, p - 4, csize, in_len - p);
		size_t room = out_len - o;
		int cap = (int)(room < LZ4_LEGACY_BLOCK ? room : LZ4_LEGACY_BLOCK);
		int n = LZ4_decompress_safe((const char *)in + p, (char *)out + o, (int)csize, cap);
		if (n < 0 && (size_t)cap < LZ4_LEGACY_BLOCK) {
			/* Valid but larger than the room left? Then it is a bomb. */
			char *scratch = malloc(LZ4_LEGACY_BLOCK);
			int m = scratch ? LZ4_decompress_safe((const char *)in + p, scratch, (int)csize,
							      LZ4_LEGACY_BLOCK) : -1;
			free(scratch);
			if (m > cap) {
				*produced = o;
				return kxl_err(d, "%s: the lz4 stream decompresses to more than the %zu bytes its size trailer declares (refused as a decompression bomb)",
					       name, out_len);
			}
		}
		if (n < 0)
			return kxl_err(d, "%s: corrupt lz4 stream: block at byte %zu does not decompress",
				       name, p - 4);
		p += csize;
		o += (size_t)n;
	}
	if (p != in_len)
		return kxl_err(d, "%s: corrupt lz4 stream: %zu stray bytes at the end", name, in_len - p);
	*produced = o;
	return 0;
}
