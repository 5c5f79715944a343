/*
 * virtq.c: the split virtqueue of virtio 1.2 (section 2.7) from the
 * device's side, written for a hostile driver. Descriptors, including
 * those of indirect tables, are copied out of guest memory once and
 * checked on the copy; a chain is bounded by the queue size and by a
 * visited bitmap, every buffer must be RAM of one memory slot, and the
 * byte totals must fit 32 bits. Ring indices are read with acquire and
 * published with release ordering; interrupts and notifications honour
 * VIRTIO_F_EVENT_IDX. No KVM, no threads: the transport (virtio-mmio.c)
 * and the fuzz target drive it the same way.
 *
 * Ring layouts (little-endian, which is the host's):
 *   descriptor (16 bytes): u64 addr, u32 len, u16 flags, u16 next
 *   avail: u16 flags, u16 idx, u16 ring[size], u16 used_event
 *   used:  u16 flags, u16 idx, {u32 id, u32 len} ring[size], u16 avail_event
 */
#include <stddef.h>
#include <string.h>

#include "vmm/virtio.h"

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct vdesc) == 16, "descriptor layout");

void *virtio_gpa(const struct kxl_guest_image *mem, uint64_t gpa, uint64_t len)
{
	return mem ? kxl_guest_ptr(mem, gpa, len) : NULL;
}

static uint16_t ld16_acquire(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_ACQUIRE);
}

static uint16_t ld16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED);
}

static void st16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, v, __ATOMIC_RELAXED);
}

static void st16_release(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, v, __ATOMIC_RELEASE);
}

static void st32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_RELAXED);
}

int virtq_setup(struct virtq *q, const struct kxl_guest_image *mem, uint16_t size,
		uint64_t desc, uint64_t avail, uint64_t used, bool event_idx, bool indirect)
{
	q->ready = false;
	q->failed = false;
	q->error = NULL;
	q->mem = mem;
	if (!size || size > VIRTQ_MAX_SIZE || (size & (size - 1))) {
		q->error = "the queue size is not a power of 2 within the maximum";
		return -1;
	}
	if ((desc & 15) || (avail & 1) || (used & 3)) {
		q->error = "a queue area is misaligned";
		return -1;
	}
	uint8_t *d = virtio_gpa(mem, desc, 16ULL * size);
	uint8_t *a = virtio_gpa(mem, avail, 6 + 2ULL * size);
	uint8_t *u = virtio_gpa(mem, used, 6 + 8ULL * size);
	if (!d || !a || !u) {
		q->error = "a queue area lies outside guest RAM";
		return -1;
	}
	q->size = size;
	q->desc_gpa = desc;
	q->avail_gpa = avail;
	q->used_gpa = used;
	q->desc = d;
	q->avail = a;
	q->used = u;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->last_avail_idx = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	q->signalled_valid = false;
	q->ready = true;
	return 0;
}

static int fail(struct virtq *q, const char *why)
{
	if (!q->failed) {
		q->failed = true;
		q->error = why;
		if (q->broken)
			q->broken(q);
	}
	return -1;
}

bool virtq_has_avail(const struct virtq *q)
{
	return q->ready && !q->failed && ld16_acquire(q->avail + 2) != q->last_avail_idx;
}

/* The avail index, with event idx first telling the driver where we are
 * (avail_event) and then looking again, so that a buffer made available
 * meanwhile is either seen here or notified. */
static uint16_t avail_idx(struct virtq *q)
{
	uint16_t idx = ld16_acquire(q->avail + 2);
	if (idx == q->last_avail_idx && q->event_idx) {
		st16(q->used + 4 + 8 * (size_t)q->size, q->last_avail_idx);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		idx = ld16_acquire(q->avail + 2);
	}
	return idx;
}

int virtq_pop(struct virtq *q, struct virtq_elem *e)
{
	uint64_t seen[VIRTQ_MAX_SIZE / 64];

	if (q->failed)
		return -1;
	if (!q->ready)
		return 0;
	uint16_t idx = avail_idx(q);
	uint16_t pending = (uint16_t)(idx - q->last_avail_idx);
	if (!pending)
		return 0;
	if (pending > q->size)
		return fail(q, "the driver made more buffers available than the queue holds");
	uint16_t head = ld16(q->avail + 4 + 2 * (size_t)(q->last_avail_idx & (q->size - 1)));
	if (head >= q->size)
		return fail(q, "an available ring entry names a descriptor beyond the queue");

	e->head = head;
	e->nr_segs = e->nr_read = e->ring_descs = 0;
	e->read_len = e->write_len = 0;
	memset(seen, 0, sizeof(seen));

	const uint8_t *table = q->desc;
	unsigned tsize = q->size, total = 0;
	bool in_indirect = false, writable_seen = false;
	uint16_t i = head;
	for (;;) {
		if (i >= tsize)
			return fail(q, "a descriptor's next index is beyond its table");
		if (seen[i / 64] & (1ULL << (i % 64)))
			return fail(q, "a descriptor chain loops");
		seen[i / 64] |= 1ULL << (i % 64);
		if (++total > q->size)
			return fail(q, "a descriptor chain is longer than the queue");
		if (!in_indirect)
			e->ring_descs++;

		struct vdesc d;
		memcpy(&d, table + 16 * (size_t)i, sizeof(d));	/* the one copy */

		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!q->indirect)
				return fail(q, "an indirect descriptor, but INDIRECT_DESC was not negotiated");
			if (in_indirect)
				return fail(q, "an indirect table inside an indirect table");
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return fail(q, "a descriptor is both INDIRECT and NEXT");
			if (!d.len || (d.len & 15) || d.len / 16 > q->size)
				return fail(q, "an indirect table's length is not 16 bytes times 1..queue size");
			table = virtio_gpa(q->mem, d.addr, d.len);
			if (!table)
				return fail(q, "an indirect table lies outside guest RAM");
			tsize = d.len / 16;
			in_indirect = true;
			memset(seen, 0, sizeof(seen));
			total--;	/* the table's descriptors count, not the pointer to it */
			i = 0;
			continue;
		}

		bool w = d.flags & VIRTQ_DESC_F_WRITE;
		if (!w && writable_seen)
			return fail(q, "a device-readable buffer follows a device-writable one");
		writable_seen |= w;
		if (d.len) {
			uint8_t *hva = virtio_gpa(q->mem, d.addr, d.len);
			if (!hva)
				return fail(q, "a buffer lies outside guest RAM");
			uint32_t *tot = w ? &e->write_len : &e->read_len;
			if (d.len > UINT32_MAX - *tot)
				return fail(q, "a chain's buffer lengths overflow 32 bits");
			*tot += d.len;
			e->seg[e->nr_segs++] = (struct virtq_seg){ .hva = hva, .len = d.len, .write = w };
			if (!w)
				e->nr_read++;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		i = d.next;
	}
	q->last_avail_idx++;
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail_idx--;
}

void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t written)
{
	if (!q->ready)
		return;
	if (written > e->write_len)
		written = e->write_len;
	uint8_t *u = q->used + 4 + 8 * (size_t)(q->used_idx & (q->size - 1));
	st32(u, e->head);
	st32(u + 4, written);
	q->used_idx++;
	st16_release(q->used + 2, q->used_idx);
}

void virtq_fill(struct virtq *q, unsigned k, uint16_t head, uint32_t written)
{
	if (!q->ready)
		return;
	uint8_t *u = q->used + 4 + 8 * (size_t)((uint16_t)(q->used_idx + k) & (q->size - 1));
	st32(u, head);
	st32(u + 4, written);
}

void virtq_flush(struct virtq *q, unsigned n)
{
	if (!q->ready)
		return;
	q->used_idx = (uint16_t)(q->used_idx + n);
	st16_release(q->used + 2, q->used_idx);
}

bool virtq_need_interrupt(struct virtq *q)
{
	if (!q->ready)
		return false;
	/* the used index must be visible before we read the driver's wishes */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t old = q->signalled_used, now = q->used_idx;
	bool valid = q->signalled_valid;
	q->signalled_used = now;
	q->signalled_valid = true;
	if (valid && old == now)
		return false;	/* nothing new */
	if (!q->event_idx)
		return !(ld16(q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	uint16_t used_event = ld16(q->avail + 4 + 2 * (size_t)q->size);
	return !valid || (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
}

size_t virtq_read(const struct virtq_elem *e, size_t off, void *dst, size_t n)
{
	size_t done = 0;
	for (unsigned s = 0; s < e->nr_read && done < n; s++) {
		const struct virtq_seg *g = &e->seg[s];
		if (off >= g->len) {
			off -= g->len;
			continue;
		}
		size_t k = g->len - off;
		if (k > n - done)
			k = n - done;
		memcpy((uint8_t *)dst + done, g->hva + off, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t virtq_write(const struct virtq_elem *e, size_t off, const void *src, size_t n)
{
	size_t done = 0;
	for (unsigned s = e->nr_read; s < e->nr_segs && done < n; s++) {
		const struct virtq_seg *g = &e->seg[s];
		if (off >= g->len) {
			off -= g->len;
			continue;
		}
		size_t k = g->len - off;
		if (k > n - done)
			k = n - done;
		memcpy(g->hva + off, (const uint8_t *)src + done, k);
		done += k;
		off = 0;
	}
	return done;
}
