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
 * block API does. The legacy frame has no checksum.
 */
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <lzo/lzoutil.h>
#include <stdlib.h>
#include <string.h>

#include "boot/decomp-int.h"

#define LZOP_F_ADLER32_D 0x1
#define LZOP_F_ADLER32_C 0x2
#define LZOP_F_H_EXTRA_FIELD 0x40
#define LZOP_F_CRC32_D 0x100
#define LZOP_F_CRC32_C 0x200
#define LZOP_F_H_FILTER 0x800
#define LZOP_MAX_BLOCK (64u << 20)
#define LZ4_LEGACY_MAGIC 0x184c2102u

static int lzo_short(struct dstate *st, size_t at)
{
	return kxl_err(st->d, "%s: corrupt lzo stream: truncated at byte %zu", st->name, at);
}

/* Skips the lzop header; returns the offset of the first block or 0. */
static size_t lzo_header(struct dstate *st, const uint8_t *in, size_t in_len, uint32_t *flags)
{
	static const uint8_t magic[9] = { 0x89, 'L', 'Z', 'O', 0, '\r', '\n', 0x1a, '\n' };
	size_t p = 9;

	if (in_len < 9 + 8 || memcmp(in, magic, 9) != 0) {
		kxl_err(st->d, "%s: corrupt lzo stream: bad lzop magic", st->name);
		return 0;
	}
	uint16_t version = ld16be(in + p);
	p += 4;			/* version, library version */
	if (version >= 0x0940)
		p += 2;		/* version needed to extract */
	if (p + 1 > in_len)
		return lzo_short(st, p), 0;
	uint8_t method = in[p++];
	if (method < 1 || method > 3) {
		kxl_err(st->d, "%s: corrupt lzo stream: method %u is not LZO1X", st->name, method);
		return 0;
	}
	if (version >= 0x0940)
		p++;		/* level */
	if (p + 4 > in_len)
		return lzo_short(st, p), 0;
	*flags = ld32be(in + p);
	p += 4;
	if (*flags & LZOP_F_H_FILTER)
		p += 4;
	p += 8;			/* mode, mtime low */
	if (version >= 0x0940)
		p += 4;		/* mtime high */
	if (p + 1 > in_len)
		return lzo_short(st, p), 0;
	p += 1 + in[p];		/* file name */
	p += 4;			/* header checksum */
	if (*flags & LZOP_F_H_EXTRA_FIELD) {
		if (p + 4 > in_len)
			return lzo_short(st, p), 0;
		p += 4 + (size_t)ld32be(in + p) + 4;
	}
	return p;
}

int decomp_lzo(struct dstate *st, const uint8_t *in, size_t in_len)
{
	uint32_t flags = 0;
	size_t p;
	int ret = 0;

	if (lzo_init() != LZO_E_OK)
		return kxl_err(st->d, "%s: cannot start liblzo2", st->name);
	if (!(p = lzo_header(st, in, in_len, &flags)))
		return -1;
	for (;;) {
		if (p + 4 > in_len)
			return lzo_short(st, p);
		uint32_t dst_len = ld32be(in + p);
		p += 4;
		if (dst_len == 0)
			break;
		if (p + 4 > in_len)
			return lzo_short(st, p);
		uint32_t src_len = ld32be(in + p);
		p += 4;
		uint32_t adler_d = 0, crc_d = 0;
		if (flags & LZOP_F_ADLER32_D) {
			if (p + 4 > in_len)
				return lzo_short(st, p);
			adler_d = ld32be(in + p);
			p += 4;
		}
		if (flags & LZOP_F_CRC32_D) {
			if (p + 4 > in_len)
				return lzo_short(st, p);
			crc_d = ld32be(in + p);
			p += 4;
		}
		if (src_len < dst_len)
			p += ((flags & LZOP_F_ADLER32_C) ? 4 : 0) + ((flags & LZOP_F_CRC32_C) ? 4 : 0);
		if (src_len > dst_len || dst_len > LZOP_MAX_BLOCK)
			return kxl_err(st->d, "%s: corrupt lzo stream: a block of %u bytes compressed to %u",
				       st->name, dst_len, src_len);
		if (p > in_len || src_len > in_len - p)
			return lzo_short(st, p);
		if (dst_len > st->out_len - st->produced)
			return dstate_emit(st, in + p, dst_len);	/* reports the bomb */
		const uint8_t *out = in + p;
		if (src_len < dst_len) {
			if (dst_len > st->bounce_len) {
				decomp_free(st->bounce, st->bounce_len);
				st->bounce_len = dst_len;
				if (!(st->bounce = decomp_alloc(dst_len))) {
					st->bounce_len = 0;
					return kxl_err(st->d, "%s: cannot allocate a decompression buffer", st->name);
				}
			}
			lzo_uint n = dst_len;
			int r = lzo1x_decompress_safe(in + p, src_len, st->bounce, &n, NULL);
			if (r != LZO_E_OK || n != dst_len)
				return kxl_err(st->d, "%s: corrupt lzo stream: the block at byte %zu does not decompress (liblzo2 error %d)",
					       st->name, p, r);
			out = st->bounce;
		}
		if ((flags & LZOP_F_ADLER32_D) && lzo_adler32(1, out, dst_len) != adler_d)
			return kxl_err(st->d, "%s: corrupt lzo stream: the block at byte %zu fails its Adler-32 check",
				       st->name, p);
		if ((flags & LZOP_F_CRC32_D) && lzo_crc32(0, out, dst_len) != crc_d)
			return kxl_err(st->d, "%s: corrupt lzo stream: the block at byte %zu fails its CRC-32 check",
				       st->name, p);
		if ((ret = dstate_emit(st, out, dst_len)))
			return ret;
		p += src_len;
	}
	return 0;
}

int decomp_lz4(struct dstate *st, const uint8_t *in, size_t in_len)
{
	size_t p = 4;
	int ret;

	if (in_len < 4 || ld32(in) != LZ4_LEGACY_MAGIC)
		return kxl_err(st->d, "%s: corrupt lz4 stream: not Linux's legacy LZ4 frame", st->name);
	while (p + 4 <= in_len) {
		uint32_t csize = ld32(in + p);
		p += 4;
		if (csize == LZ4_LEGACY_MAGIC)	/* concatenated frames */
			continue;
		if (csize == 0 || csize > in_len - p ||
		    csize > (uint32_t)LZ4_compressBound(DECOMP_LZ4_BLOCK))
			return kxl_err(st->d, "%s: corrupt lz4 stream: the block at byte %zu claims %u compressed bytes, %zu remain",
				       st->name, p - 4, csize, in_len - p);
		int n = LZ4_decompress_safe((const char *)in + p, (char *)st->bounce, (int)csize,
					    (int)st->bounce_len);
		if (n < 0)
			return kxl_err(st->d, "%s: corrupt lz4 stream: the block at byte %zu does not decompress",
				       st->name, p - 4);
		if ((ret = dstate_emit(st, st->bounce, (size_t)n)))
			return ret;
		p += csize;
	}
	if (p != in_len)
		return kxl_err(st->d, "%s: corrupt lz4 stream: %zu stray bytes at the end", st->name,
			       in_len - p);
	return 0;
}
