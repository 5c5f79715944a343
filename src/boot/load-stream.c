/*
 * load-stream.c: a bzImage's vmlinux straight from the decompressor into
 * guest memory, with no staging copy of the whole image. The first bytes of
 * the stream give the ELF and program headers; when every PT_LOAD fits at
 * its p_paddr, each later chunk is scattered to the segments it overlaps
 * (written through the memfd), and the PT_NOTE areas and the section
 * header table are captured on the way. The notes are then read from those
 * captures or from the loaded segments. Anything unusual (headers beyond
 * the first 64 KiB, a kernel that must be relocated, malformed headers,
 * notes outside both) stops the stream and build.c takes the staging path,
 * which also words the errors.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot-int.h"
#include "util/util.h"

#define HEAD_MAX (64u << 10)
#define CAPTURE_MAX (4u << 20)
#define NR_CAPTURES 16

struct capture {
	uint64_t off, len;
	uint8_t *buf;
};

struct stream {
	struct boot_ctx *c;
	uint64_t size;		/* the declared decompressed size */
	uint8_t *head;
	size_t head_len;
	bool parsed;
	struct capture cap[NR_CAPTURES];
	unsigned nr_cap;
	bool unavailable;	/* a note read missed both captures and segments */
	struct kxl_diag quiet;	/* header problems: the staging path reports them */
};

static int scatter(struct stream *st, uint64_t off, const uint8_t *p, size_t n)
{
	const struct elf_info *e = &st->c->elf;
	uint64_t end = off + n;

	for (size_t i = 0; i < e->nr_segs; i++) {
		const struct elf_seg *g = &e->segs[i];
		uint64_t lo = off > g->offset ? off : g->offset;
		uint64_t hi = end < g->offset + g->filesz ? end : g->offset + g->filesz;
		if (lo < hi && mem_write(st->c->img, g->paddr + (lo - g->offset), p + (lo - off),
					 hi - lo, st->c->d))
			return -1;
	}
	for (unsigned i = 0; i < st->nr_cap; i++) {
		struct capture *k = &st->cap[i];
		uint64_t lo = off > k->off ? off : k->off;
		uint64_t hi = end < k->off + k->len ? end : k->off + k->len;
		if (lo < hi)
			memcpy(k->buf + (lo - k->off), p + (lo - off), hi - lo);
	}
	return 0;
}

static void capture(struct stream *st, uint64_t off, uint64_t len)
{
	if (len == 0 || len > CAPTURE_MAX || st->nr_cap == NR_CAPTURES || off > st->size ||
	    len > st->size - off)
		return;	/* the note reader then finds it missing and falls back */
	st->cap[st->nr_cap++] = (struct capture){ off, len, xmalloc((size_t)len) };
}

/* 1: parsed, 0: needs more bytes, -1: fall back. */
static int try_parse(struct stream *st)
{
	const uint8_t *h = st->head;
	struct boot_ctx *c = st->c;

	if (st->head_len < 64)
		return st->head_len == st->size ? -1 : 0;
	if (!elf_is_elf(h, 4) || (h[4] != 1 && h[4] != 2))
		return -1;
	bool b64 = h[4] == 2;
	uint64_t phoff = b64 ? ld64(h + 0x20) : ld32(h + 0x1c);
	uint64_t phend = phoff + (uint64_t)ld16(h + (b64 ? 0x36 : 0x2a)) * ld16(h + (b64 ? 0x38 : 0x2c));
	if (phoff > HEAD_MAX || phend > HEAD_MAX)
		return -1;
	if (phend > st->head_len)
		return st->head_len == HEAD_MAX || st->head_len == st->size ? -1 : 0;
	/* Bounds are those of the whole image; the reads (the ELF and program
	 * headers) stay inside the head, as checked above. */
	struct boot_src s = { .name = c->kfile, .fd = -1, .buf = h, .size = st->size };
	if (elf_parse_headers(&s, &c->elf, &st->quiet))
		return -1;
	int64_t delta;
	if (load_check_segments(c->kfile, &c->elf, c->img->mem_bytes, false, &delta, &st->quiet))
		return -1;
	for (size_t i = 0; i < c->elf.nr_note_areas; i++)
		capture(st, c->elf.note_areas[i].off, c->elf.note_areas[i].size);
	if (c->elf.shoff && c->elf.shnum)
		capture(st, c->elf.shoff, (uint64_t)c->elf.shnum * c->elf.shentsize);
	return 1;
}

static int sink(void *ctx, uint64_t off, const uint8_t *p, size_t n)
{
	struct stream *st = ctx;

	if (st->parsed)
		return scatter(st, off, p, n);
	/* The head holds every byte seen so far until the headers parse. */
	size_t take = n < HEAD_MAX - st->head_len ? n : HEAD_MAX - st->head_len;
	memcpy(st->head + st->head_len, p, take);
	st->head_len += take;
	int r = try_parse(st);
	if (r < 0)
		return 1;
	if (r == 0)
		return take == n ? 0 : 1;
	st->parsed = true;
	if (scatter(st, 0, st->head, st->head_len))
		return -1;
	return take < n ? scatter(st, off + take, p + take, n - take) : 0;
}

/* Notes come from a capture, or from a segment already in guest memory. */
static int note_read(void *ctx, uint64_t off, void *dst, uint64_t len, struct kxl_diag *d)
{
	struct stream *st = ctx;
	const struct elf_info *e = &st->c->elf;

	(void)d;
	for (unsigned i = 0; i < st->nr_cap; i++) {
		const struct capture *k = &st->cap[i];
		if (off >= k->off && len <= k->len && off - k->off <= k->len - len) {
			memcpy(dst, k->buf + (off - k->off), len);
			return 0;
		}
	}
	for (size_t i = 0; i < e->nr_segs; i++) {
		const struct elf_seg *g = &e->segs[i];
		if (off >= g->offset && len <= g->filesz && off - g->offset <= g->filesz - len) {
			const uint8_t *p = kxl_guest_ptr(st->c->img, g->paddr + (off - g->offset), len);
			if (p) {
				memcpy(dst, p, len);
				return 0;
			}
		}
	}
	st->unavailable = true;
	return -1;
}

int load_stream_bzimage(struct boot_ctx *c, const uint8_t *file)
{
	const struct bzimage *bz = &c->bz;
	struct stream st = { .c = c, .size = bz->out_size };
	const uint8_t *pl = file + bz->setup_size + bz->payload_offset;
	size_t in_len = bz->payload_length - (bz->comp == COMP_GZIP ? 0 : 4);
	int r;

	kxl_diag_init(&st.quiet);
	st.head = xmalloc(HEAD_MAX);
	r = decomp_stream(bz->comp, c->kfile, pl, in_len, bz->out_size, sink, &st, c->d);
	if (r == 0 && !st.parsed)
		r = 1;
	if (r == 0) {
		struct boot_src s = { .name = c->kfile, .fd = -1, .size = st.size,
				      .read = note_read, .ctx = &st };
		struct kxl_diag nd;
		kxl_diag_init(&nd);
		if (elf_parse_notes(&s, &c->elf, &nd))
			r = st.unavailable ? 1 : -1;
		if (r < 0)	/* a real note error: the staging path would say the same */
			r = 1;
		kxl_diag_free(&nd);
	}
	if (r != 0) {
		elf_info_free(&c->elf);
		/* Give the staging path clean, all-zero guest memory again. */
		if (st.parsed)
			fallocate(c->img->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
				  (off_t)c->img->mem_bytes);
	}
	for (unsigned i = 0; i < st.nr_cap; i++)
		free(st.cap[i].buf);
	free(st.head);
	kxl_diag_free(&st.quiet);
	return r;
}
