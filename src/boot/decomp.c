/*
 * decomp.c: decompressing a bzImage payload with Debian's libraries: gzip
 * (zlib), bzip2 (libbz2), xz (liblzma, one stream: the x86 BCJ filter is in
 * its block headers), lzma (liblzma, the legacy .lzma format) and zstd
 * (libzstd, one frame); LZO and LZ4 containers are in decomp-lz.c. The
 * output must be exactly the declared size: more is refused as a
 * decompression bomb, less as a truncated stream.
 */
#include <bzlib.h>
#include <lzma.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "boot/boot-int.h"

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

static int bomb(const char *name, const char *what, size_t out_len, struct kxl_diag *d)
{
	return kxl_err(d, "%s: the %s stream decompresses to more than the %zu bytes its size trailer declares (refused as a decompression bomb)",
		       name, what, out_len);
}

static int corrupt(const char *name, const char *what, const char *why, struct kxl_diag *d)
{
	return kxl_err(d, "%s: corrupt %s stream: %s", name, what, why);
}

static int gzip_run(const char *name, const uint8_t *in, size_t in_len, uint8_t *out,
		    size_t out_len, size_t *produced, struct kxl_diag *d)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return kxl_err(d, "%s: cannot start zlib", name);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)in_len;
	z.next_out = out;
	z.avail_out = (uInt)out_len;
	int r = inflate(&z, Z_FINISH);
	*produced = out_len - z.avail_out;
	int ret = 0;
	if (r == Z_BUF_ERROR && z.avail_out == 0)
		ret = bomb(name, "gzip", out_len, d);
	else if (r == Z_BUF_ERROR)
		ret = corrupt(name, "gzip", "the stream ends early", d);
	else if (r != Z_STREAM_END)
		ret = corrupt(name, "gzip", z.msg ? z.msg : "inflate failed", d);
	inflateEnd(&z);
	return ret;
}

static int bzip2_run(const char *name, const uint8_t *in, size_t in_len, uint8_t *out,
		     size_t out_len, size_t *produced, struct kxl_diag *d)
{
	bz_stream s;
	memset(&s, 0, sizeof(s));
	if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
		return kxl_err(d, "%s: cannot start libbz2", name);
	s.next_in = (char *)in;
	s.avail_in = (unsigned)in_len;
	s.next_out = (char *)out;
	s.avail_out = (unsigned)out_len;
	int r;
	do
		r = BZ2_bzDecompress(&s);
	while (r == BZ_OK && s.avail_in && s.avail_out);
	*produced = out_len - s.avail_out;
	int ret = 0;
	if (r == BZ_OK && s.avail_out == 0)
		ret = bomb(name, "bzip2", out_len, d);
	else if (r == BZ_OK)
		ret = corrupt(name, "bzip2", "the stream ends early", d);
	else if (r != BZ_STREAM_END)
		ret = corrupt(name, "bzip2", r == BZ_DATA_ERROR_MAGIC ? "bad magic" : "bad data", d);
	BZ2_bzDecompressEnd(&s);
	return ret;
}

static int lzma_run(const char *name, bool xz, const uint8_t *in, size_t in_len, uint8_t *out,
		    size_t out_len, size_t *produced, struct kxl_diag *d)
{
	const char *what = xz ? "xz" : "lzma";
	lzma_stream s = LZMA_STREAM_INIT;
	const uint64_t memlimit = 1ULL << 30;	/* dictionary sizes of real kernels are far below */
	lzma_ret r = xz ? lzma_stream_decoder(&s, memlimit, 0) : lzma_alone_decoder(&s, memlimit);

	if (r != LZMA_OK)
		return kxl_err(d, "%s: cannot start liblzma", name);
	s.next_in = in;
	s.avail_in = in_len;
	s.next_out = out;
	s.avail_out = out_len;
	do
		r = lzma_code(&s, LZMA_FINISH);
	while (r == LZMA_OK);
	*produced = out_len - s.avail_out;
	int ret = 0;
	if (r == LZMA_BUF_ERROR && s.avail_out == 0)
		ret = bomb(name, what, out_len, d);
	else if (r == LZMA_BUF_ERROR)
		ret = corrupt(name, what, "the stream ends early", d);
	else if (r == LZMA_MEMLIMIT_ERROR)
		ret = corrupt(name, what, "its dictionary needs more than 1 GiB", d);
	else if (r == LZMA_FORMAT_ERROR || r == LZMA_OPTIONS_ERROR)
		ret = corrupt(name, what, "bad header or unsupported options", d);
	else if (r != LZMA_STREAM_END)
		ret = corrupt(name, what, "bad data", d);
	lzma_end(&s);
	return ret;
}

static int zstd_run(const char *name, const uint8_t *in, size_t in_len, uint8_t *out,
		    size_t out_len, size_t *produced, struct kxl_diag *d)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	if (!z)
		return kxl_err(d, "%s: cannot start libzstd", name);
	size_t r = ZSTD_decompressDCtx(z, out, out_len, in, in_len);
	ZSTD_freeDCtx(z);
	*produced = 0;
	if (ZSTD_isError(r)) {
		if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
			return bomb(name, "zstd", out_len, d);
		return corrupt(name, "zstd", ZSTD_getErrorName(r), d);
	}
	*produced = r;
	return 0;
}

int decomp_run(enum comp c, const char *name, const uint8_t *in, size_t in_len,
	       uint8_t *out, size_t out_len, struct kxl_diag *d)
{
	size_t produced = 0;
	int r;

	if (in_len > UINT32_MAX || out_len > UINT32_MAX)
		return kxl_err(d, "%s: compressed kernel larger than 4 GiB", name);
	switch (c) {
	case COMP_GZIP: r = gzip_run(name, in, in_len, out, out_len, &produced, d); break;
	case COMP_BZIP2: r = bzip2_run(name, in, in_len, out, out_len, &produced, d); break;
	case COMP_XZ: r = lzma_run(name, true, in, in_len, out, out_len, &produced, d); break;
	case COMP_LZMA: r = lzma_run(name, false, in, in_len, out, out_len, &produced, d); break;
	case COMP_LZO: r = decomp_lzo(name, in, in_len, out, out_len, &produced, d); break;
	case COMP_LZ4: r = decomp_lz4(name, in, in_len, out, out_len, &produced, d); break;
	case COMP_ZSTD: r = zstd_run(name, in, in_len, out, out_len, &produced, d); break;
	default: return kxl_err(d, "%s: unknown compression", name);
	}
	if (r)
		return -1;
	if (produced != out_len)
		return kxl_err(d, "%s: the %s stream decompresses to %zu bytes, but its size trailer declares %zu (truncated or corrupt)",
			       name, comp_name(c), produced, out_len);
	return 0;
}
