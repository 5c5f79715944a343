/*
 * decomp.c: decompressing a bzImage payload with Debian's libraries, as a
 * stream: each codec fills a bounce buffer and hands every full buffer to a
 * sink, so a kernel can go straight into guest memory without a staging
 * copy. gzip (zlib), bzip2 (libbz2), xz (liblzma, one stream: the x86 BCJ
 * filter is in its block headers), lzma (liblzma, the legacy .lzma format)
 * and zstd (libzstd, one frame) are here; the LZO and LZ4 containers are in
 * decomp-lz.c. The output must be exactly the size the trailer declares:
 * more is refused as a decompression bomb as soon as it appears, less is a
 * truncated stream.
 */
#include <bzlib.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "boot/boot-int.h"
#include "boot/decomp-int.h"

const char *comp_name(enum comp c)
{
	static const char *const n[] = { "none", "gzip", "bzip2", "xz", "lzma", "lzo", "lz4", "zstd" };
	return (unsigned)c < sizeof(n) / sizeof(n[0]) ? n[c] : "?";
}

enum comp comp_detect(const uint8_t *p, size_t len)
{
	if (len >= 2 && p[0] == 0x1f && (p[1] == 0x8b || p[1] == 0x9e))
		return COMP_GZIP;
	if (len >= 3 && memcmp(p, "BZh", 3) == 0)
		return COMP_BZIP2;
	if (len >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
		return COMP_XZ;
	if (len >= 3 && memcmp(p, "\x5d\0\0", 3) == 0)
		return COMP_LZMA;
	if (len >= 4 && memcmp(p, "\x89LZO", 4) == 0)
		return COMP_LZO;
	if (len >= 4 && memcmp(p, "\x02\x21\x4c\x18", 4) == 0)
		return COMP_LZ4;
	if (len >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
		return COMP_ZSTD;
	return COMP_NONE;
}

void *decomp_alloc(size_t len)
{
	void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void decomp_free(void *p, size_t len)
{
	if (p)
		munmap(p, len ? len : 1);
}

int dstate_emit(struct dstate *st, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if (n > st->out_len - st->produced)
		return kxl_err(st->d, "%s: the %s stream decompresses to more than the %zu bytes its size trailer declares (refused as a decompression bomb)",
			       st->name, comp_name(st->comp), st->out_len);
	int r = st->sink(st->ctx, st->produced, p, n);
	st->produced += n;
	return r;
}

int dstate_corrupt(struct dstate *st, const char *why)
{
	return kxl_err(st->d, "%s: corrupt %s stream: %s", st->name, comp_name(st->comp), why);
}

static int gzip_run(struct dstate *st, const uint8_t *in, size_t in_len)
{
	z_stream z;
	int r, ret = 0;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return kxl_err(st->d, "%s: cannot start zlib", st->name);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)in_len;
	do {
		z.next_out = st->bounce;
		z.avail_out = (uInt)st->bounce_len;
		r = inflate(&z, Z_NO_FLUSH);
		/* Output first: too much of it is the clearer error (a bomb). */
		if ((ret = dstate_emit(st, st->bounce, st->bounce_len - z.avail_out)))
			break;
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
			ret = dstate_corrupt(st, z.msg ? z.msg : "inflate failed");
			break;
		}
		if (r == Z_BUF_ERROR) {
			ret = dstate_corrupt(st, "the stream ends early");
			break;
		}
	} while (r != Z_STREAM_END);
	inflateEnd(&z);
	return ret;
}

static int bzip2_run(struct dstate *st, const uint8_t *in, size_t in_len)
{
	bz_stream s;
	int r, ret = 0;

	memset(&s, 0, sizeof(s));
	if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
		return kxl_err(st->d, "%s: cannot start libbz2", st->name);
	s.next_in = (char *)in;
	s.avail_in = (unsigned)in_len;
	do {
		s.next_out = (char *)st->bounce;
		s.avail_out = (unsigned)st->bounce_len;
		r = BZ2_bzDecompress(&s);
		size_t got = st->bounce_len - s.avail_out;
		if ((ret = dstate_emit(st, st->bounce, got)))
			break;
		if (r != BZ_OK && r != BZ_STREAM_END) {
			ret = dstate_corrupt(st, r == BZ_DATA_ERROR_MAGIC ? "bad magic" : "bad data");
			break;
		}
		if (r == BZ_OK && s.avail_in == 0 && got == 0) {
			ret = dstate_corrupt(st, "the stream ends early");
			break;
		}
	} while (r != BZ_STREAM_END);
	BZ2_bzDecompressEnd(&s);
	return ret;
}

static int lzma_run(struct dstate *st, const uint8_t *in, size_t in_len)
{
	lzma_stream s = LZMA_STREAM_INIT;
	const uint64_t memlimit = 1ULL << 30;	/* real kernels' dictionaries are far smaller */
	lzma_ret r = st->comp == COMP_XZ ? lzma_stream_decoder(&s, memlimit, 0) :
					   lzma_alone_decoder(&s, memlimit);
	int ret = 0;

	if (r != LZMA_OK)
		return kxl_err(st->d, "%s: cannot start liblzma", st->name);
	s.next_in = in;
	s.avail_in = in_len;
	do {
		s.next_out = st->bounce;
		s.avail_out = st->bounce_len;
		r = lzma_code(&s, LZMA_FINISH);
		if ((ret = dstate_emit(st, st->bounce, st->bounce_len - s.avail_out)))
			break;
		if (r != LZMA_OK && r != LZMA_STREAM_END) {
			ret = dstate_corrupt(st, r == LZMA_BUF_ERROR ? "the stream ends early" :
					   r == LZMA_MEMLIMIT_ERROR ? "its dictionary needs more than 1 GiB" :
					   r == LZMA_FORMAT_ERROR || r == LZMA_OPTIONS_ERROR ?
					   "bad header or unsupported options" : "bad data");
			break;
		}
	} while (r != LZMA_STREAM_END);
	lzma_end(&s);
	return ret;
}

static int zstd_run(struct dstate *st, const uint8_t *in, size_t in_len)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, in_len, 0 };
	int ret = 0;

	if (!z)
		return kxl_err(st->d, "%s: cannot start libzstd", st->name);
	for (;;) {
		ZSTD_outBuffer ob = { st->bounce, st->bounce_len, 0 };
		size_t r = ZSTD_decompressStream(z, &ob, &ib);
		if (ZSTD_isError(r)) {
			ret = dstate_corrupt(st, ZSTD_getErrorName(r));
			break;
		}
		if ((ret = dstate_emit(st, st->bounce, ob.pos)))
			break;
		if (r == 0)
			break;	/* the frame is complete */
		if (ib.pos == ib.size && ob.pos == 0) {
			ret = dstate_corrupt(st, "the stream ends early");
			break;
		}
	}
	ZSTD_freeDCtx(z);
	return ret;
}

int decomp_stream(enum comp c, const char *name, const uint8_t *in, size_t in_len,
		  size_t out_len, decomp_sink sink, void *ctx, struct kxl_diag *d)
{
	struct dstate st = { .comp = c, .name = name, .out_len = out_len, .sink = sink,
			     .ctx = ctx, .d = d };
	int r;

	if (in_len > UINT32_MAX || out_len > UINT32_MAX)
		return kxl_err(d, "%s: compressed kernel larger than 4 GiB", name);
	/* LZ4's legacy blocks decompress to up to 8 MiB each; the streaming
	 * codecs fill a smaller, cache-friendlier buffer. */
	st.bounce_len = c == COMP_LZ4 ? DECOMP_LZ4_BLOCK : c == COMP_LZO ? 0 : (1u << 20);
	if (st.bounce_len && !(st.bounce = decomp_alloc(st.bounce_len)))
		return kxl_err(d, "%s: cannot allocate a decompression buffer", name);
	switch (c) {
	case COMP_GZIP: r = gzip_run(&st, in, in_len); break;
	case COMP_BZIP2: r = bzip2_run(&st, in, in_len); break;
	case COMP_XZ:
	case COMP_LZMA: r = lzma_run(&st, in, in_len); break;
	case COMP_LZO: r = decomp_lzo(&st, in, in_len); break;
	case COMP_LZ4: r = decomp_lz4(&st, in, in_len); break;
	case COMP_ZSTD: r = zstd_run(&st, in, in_len); break;
	default: r = kxl_err(d, "%s: unknown compression", name); break;
	}
	decomp_free(st.bounce, st.bounce_len);
	if (r)
		return r;
	if (st.produced != out_len)
		return kxl_err(d, "%s: the %s stream decompresses to %zu bytes, but its size trailer declares %zu (truncated or corrupt)",
			       name, comp_name(c), st.produced, out_len);
	return 0;
}

static int copy_sink(void *ctx, uint64_t off, const uint8_t *p, size_t n)
{
	memcpy((uint8_t *)ctx + off, p, n);
	return 0;
}

int decomp_run(enum comp c, const char *name, const uint8_t *in, size_t in_len,
	       uint8_t *out, size_t out_len, struct kxl_diag *d)
{
	return decomp_stream(c, name, in, in_len, out_len, copy_sink, out, d);
}
