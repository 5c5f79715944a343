/*
 * fuzz_virtq.c: libFuzzer target of the virtio layer as a hostile guest
 * drives it. The input is guest memory (a 64 KiB slot at 0 and a 4 KiB slot
 * at 4 GiB, with the hole between) plus a header: either a split virtqueue
 * whose descriptor table, rings and indirect tables are all fuzzer bytes,
 * walked with virtq_pop until it empties or breaks, each chain read,
 * written and pushed; or a sequence of virtio-mmio register accesses to a
 * virtio-rng device over the same memory, with its device thread's rounds
 * run in between. Every segment the walker returns must lie inside guest
 * memory and add up to its totals; anything else, and any sanitizer
 * report, is a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layout.h"
#include "vmm/virtio.h"

#define LOW_SIZE 0x10000u
#define HIGH_SIZE 0x1000u

static uint8_t ram[LOW_SIZE + HIGH_SIZE];
static struct kxl_guest_image img;
static struct virtq_elem e;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_elem(const struct virtq *q)
{
	uint64_t rd = 0, wr = 0;
	if (e.nr_segs > q->size || e.nr_read > e.nr_segs)
		__builtin_trap();
	for (unsigned i = 0; i < e.nr_segs; i++) {
		const struct virtq_seg *s = &e.seg[i];
		if (s->hva < ram || s->hva + s->len > ram + sizeof(ram) || !s->len)
			__builtin_trap();
		if ((i >= e.nr_read) != s->write)
			__builtin_trap();
		if (s->write)
			wr += s->len;
		else
			rd += s->len;
	}
	if (rd != e.read_len || wr != e.write_len)
		__builtin_trap();
}

static void walk(const uint8_t *hdr)
{
	struct virtq q;
	uint16_t qsize = (uint16_t)(1u << (hdr[1] % 9));
	static uint8_t tmp[LOW_SIZE + HIGH_SIZE];

	memset(&q, 0, sizeof(q));
	if (virtq_setup(&q, &img, qsize, 0x0, 0x800, 0xa00, hdr[2] & 1, hdr[2] & 2) < 0)
		return;
	for (unsigned n = 0; n < 2u * qsize + 2; n++) {
		int r = virtq_pop(&q, &e);
		if (r < 0) {
			if (virtq_pop(&q, &e) != -1 || !q.error)
				__builtin_trap();	/* broken stays broken, with a reason */
			return;
		}
		if (r == 0)
			return;
		check_elem(&q);
		size_t got = virtq_read(&e, hdr[3], tmp, sizeof(tmp));
		if (got > e.read_len)
			__builtin_trap();
		size_t put = virtq_write(&e, hdr[4], tmp, got);
		if (put > e.write_len)
			__builtin_trap();
		if (hdr[5] & 1)
			virtq_unpop(&q);
		else
			virtq_push(&q, &e, (uint32_t)put + hdr[6]);
		virtq_need_interrupt(&q);
	}
}

static void registers(const uint8_t *p, size_t n)
{
	struct kxl_diag diag;
	struct virtio_dev d;
	const struct virtio_kind *k = &virtio_rng_kind;
	struct kxl_vmm_vdev cfg = { .type = KXL_VDEV_RNG, .fds = { -1, -1, -1, -1 } };

	kxl_diag_init(&diag);
	if (virtio_dev_init(&d, k->ops, NULL, "rng", &img, 0, &diag) < 0 ||
	    k->create(&d, &cfg, &diag) < 0)
		__builtin_trap();
	/* each access: u8 op, u16 offset, u32 value */
	for (size_t i = 0; i + 7 <= n; i += 7) {
		uint16_t off;
		uint32_t v;
		memcpy(&off, p + i + 1, 2);
		memcpy(&v, p + i + 3, 4);
		unsigned len = 1u << (p[i] >> 6);	/* 1, 2, 4, 8 */
		uint8_t buf[8];
		memcpy(buf, &v, 4);
		memcpy(buf + 4, &v, 4);
		off %= 0x180;
		switch (p[i] & 3) {
		case 0: virtio_mmio_access(&d, off, buf, len, false); break;
		case 1: virtio_mmio_access(&d, off & ~3u, buf, 4, true); break;
		case 2: virtio_mmio_access(&d, off, buf, len, true); break;
		case 3: virtio_dev_poll(&d, 0); break;
		}
	}
	virtio_dev_poll(&d, 0);
	close(d.irq_fd);
	close(d.resample_fd);
	close(d.wake_fd);
	for (unsigned i = 0; i < d.ops->nr_queues; i++)
		close(d.vq[i].kick_fd);
	free(d.priv);
	pthread_mutex_destroy(&d.lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	img.mem = ram;
	img.mem_bytes = sizeof(ram);
	img.memfd = -1;
	img.slots[0] = (struct kxl_mem_slot){ .gpa = 0, .size = LOW_SIZE, .memfd_offset = 0 };
	img.slots[1] = (struct kxl_mem_slot){ .gpa = KXL_GPA_ABOVE_4G, .size = HIGH_SIZE,
					      .memfd_offset = LOW_SIZE };
	img.nr_slots = 2;
	memset(ram, 0, sizeof(ram));
	if (data[0] & 1) {
		/* register mode: memory from the back half, accesses from the front */
		size_t half = (size - 8) / 2;
		memcpy(ram, data + 8 + half, size - 8 - half < sizeof(ram) ? size - 8 - half : sizeof(ram));
		registers(data + 8, half);
	} else {
		/* queue mode: the input is guest memory from 0, the end repeats
		 * at 4 GiB so that buffers there are real too */
		size_t n = size - 8 < LOW_SIZE ? size - 8 : LOW_SIZE;
		memcpy(ram, data + 8, n);
		memcpy(ram + LOW_SIZE, data + 8, n < HIGH_SIZE ? n : HIGH_SIZE);
		walk(data);
	}
	return 0;
}
