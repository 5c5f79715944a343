/*
 * load.c: placing the kernel's PT_LOAD segments. Each goes at its p_paddr
 * (Debian's percpu segment has p_vaddr 0, so p_vaddr is never used). The
 * segments must not overlap one another, must lie in guest RAM above the
 * boot area and outside the MMIO hole. A kernel with a PHYS32_RELOC note
 * is moved, as one block and within the note's bounds, only when its
 * p_paddr range does not fit. The bss needs no writes: guest RAM is a
 * fresh memfd, zero until the loader writes, and nothing else is placed
 * over a segment.
 */
#include <stdlib.h>
#include <string.h>

#include "boot/boot-int.h"
#include "util/util.h"

static int cmp_seg(const void *a, const void *b)
{
	const struct elf_seg *x = a, *y = b;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* Why segment g, moved by delta, cannot go where it asks; NULL if it can. */
static const char *seg_problem(const struct elf_seg *g, int64_t delta, uint64_t mem_bytes)
{
	uint64_t gpa = g->paddr + (uint64_t)delta;
	if (gpa < KXL_GPA_KERNEL_MIN)
		return "lies below 1 MiB, over the boot structures and ACPI tables";
	return mem_check(mem_bytes, gpa, g->memsz);
}

int load_check_segments(const char *name, const struct elf_info *e, uint64_t mem_bytes,
			bool may_reloc, int64_t *delta, struct kxl_diag *d)
{
	struct elf_seg *v = xmalloc(e->nr_segs * sizeof(*v));
	int r = -1;

	*delta = 0;
	memcpy(v, e->segs, e->nr_segs * sizeof(*v));
	qsort(v, e->nr_segs, sizeof(*v), cmp_seg);
	for (size_t i = 0; i + 1 < e->nr_segs; i++) {
		if (v[i].paddr + v[i].memsz > v[i + 1].paddr) {
			kxl_err(d, "%s: PT_LOAD %u [0x%llx, 0x%llx) overlaps PT_LOAD %u [0x%llx, 0x%llx)",
				name, v[i].idx, (unsigned long long)v[i].paddr,
				(unsigned long long)(v[i].paddr + v[i].memsz), v[i + 1].idx,
				(unsigned long long)v[i + 1].paddr,
				(unsigned long long)(v[i + 1].paddr + v[i + 1].memsz));
			goto out;
		}
	}
	const struct elf_seg *bad = NULL;
	const char *why = NULL;
	for (size_t i = 0; i < e->nr_segs && !bad; i++)
		if ((why = seg_problem(&v[i], 0, mem_bytes)))
			bad = &v[i];
	if (!bad) {
		r = 0;
		goto out;
	}
	uint64_t lo = v[0].paddr, hi = 0;
	for (size_t i = 0; i < e->nr_segs; i++)
		if (v[i].paddr + v[i].memsz > hi)
			hi = v[i].paddr + v[i].memsz;
	if (may_reloc && e->has_reloc) {
		/* The lowest start that keeps the image's offset modulo the
		 * alignment, respects the note's minimum and the boot area. */
		uint64_t a = e->reloc_align, floor = e->reloc_min;
		if (floor < KXL_GPA_KERNEL_MIN)
			floor = KXL_GPA_KERNEL_MIN;
		uint64_t base = floor + ((lo - floor) & (a - 1));
		int64_t dl = (int64_t)(base - lo);
		bool ok = base + (hi - lo) - 1 <= e->reloc_max;
		for (size_t i = 0; i < e->nr_segs && ok; i++)
			ok = !seg_problem(&v[i], dl, mem_bytes);
		if (ok) {
			*delta = dl;
			r = 0;
			goto out;
		}
		kxl_err(d, "%s: PT_LOAD %u [0x%llx, 0x%llx) %s (guest RAM: %llu MiB), and relocating the kernel within its PHYS32_RELOC bounds [0x%x, 0x%x] does not fit either",
			name, bad->idx, (unsigned long long)bad->paddr,
			(unsigned long long)(bad->paddr + bad->memsz), why,
			(unsigned long long)(mem_bytes >> 20), e->reloc_min, e->reloc_max);
		goto out;
	}
	kxl_err(d, "%s: PT_LOAD %u [0x%llx, 0x%llx) %s (guest RAM: %llu MiB)%s", name, bad->idx,
		(unsigned long long)bad->paddr, (unsigned long long)(bad->paddr + bad->memsz), why,
		(unsigned long long)(mem_bytes >> 20),
		strstr(why, "outside") || strstr(why, "past") ? "; give the guest more memory" : "");
out:
	free(v);
	return r;
}

int load_kernel_segments(struct boot_ctx *c, const struct boot_src *s)
{
	const struct elf_info *e = &c->elf;

	if (s && load_check_segments(c->kfile, e, c->img->mem_bytes,
				     c->proto == KXL_BOOT_PROTO_PVH, &c->reloc_delta, c->d))
		return -1;
	if (c->reloc_delta)
		plan_note(c, "kernel relocated by %+lld bytes within its PHYS32_RELOC bounds: its p_paddr range does not fit in guest RAM",
			  (long long)c->reloc_delta);
	c->kernel_lo = UINT64_MAX;
	c->kernel_hi = 0;
	for (size_t i = 0; i < e->nr_segs; i++) {
		const struct elf_seg *g = &e->segs[i];
		uint64_t gpa = g->paddr + (uint64_t)c->reloc_delta;
		if (!kxl_guest_ptr(c->img, gpa, g->memsz))
			return kxl_err(c->d, "%s: PT_LOAD %u does not fit in guest RAM", c->kfile, g->idx);
		/* Files go in through the memfd (copy_file_range, pwrite): no
		 * faults on our mapping, no pages cleared before the copy. */
		if (s && s->fd >= 0 &&
		    mem_copy_file(c->img, gpa, s->fd, g->offset, g->filesz, c->kfile, c->d))
			return -1;
		if (s && s->fd < 0 && g->filesz && mem_write(c->img, gpa, s->buf + g->offset, g->filesz, c->d))
			return -1;
		plan_region(c, gpa, g->memsz, c->kfile, "kernel PT_LOAD %u (file 0x%llx, bss 0x%llx)",
			    g->idx, (unsigned long long)g->filesz,
			    (unsigned long long)(g->memsz - g->filesz));
		if (gpa < c->kernel_lo)
			c->kernel_lo = gpa;
		if (gpa + g->memsz > c->kernel_hi)
			c->kernel_hi = gpa + g->memsz;
	}
	return 0;
}
