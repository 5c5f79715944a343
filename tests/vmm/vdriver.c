/*
 * vdriver.c: the guest's side of virtio-mmio for the device tests (see
 * vdriver.h). Register offsets are the virtio 1.2 MMIO layout (4.2.2).
 */
#include "vdriver.h"

#include <string.h>

uint32_t vdrv_rd32(struct virtio_dev *d, uint64_t off)
{
	uint8_t b[4];
	virtio_mmio_access(d, off, b, 4, false);
	uint32_t v;
	memcpy(&v, b, 4);
	return v;
}

void vdrv_wr32(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	uint8_t b[4];
	memcpy(b, &v, 4);
	virtio_mmio_access(d, off, b, 4, true);
}

uint64_t vdrv_features(struct virtio_dev *d)
{
	vdrv_wr32(d, 0x014, 0);		/* DeviceFeaturesSel */
	uint64_t lo = vdrv_rd32(d, 0x010);
	vdrv_wr32(d, 0x014, 1);
	return lo | (uint64_t)vdrv_rd32(d, 0x010) << 32;
}

bool vdrv_handshake(struct virtio_dev *d, uint64_t want, struct vdrv_q *q, unsigned nq)
{
	vdrv_wr32(d, 0x070, 0);		/* Status: reset */
	vdrv_wr32(d, 0x070, 1);		/* ACKNOWLEDGE */
	vdrv_wr32(d, 0x070, 3);		/* DRIVER */
	uint64_t f = vdrv_features(d) & want;
	vdrv_wr32(d, 0x024, 0);		/* DriverFeaturesSel */
	vdrv_wr32(d, 0x020, (uint32_t)f);
	vdrv_wr32(d, 0x024, 1);
	vdrv_wr32(d, 0x020, (uint32_t)(f >> 32));
	vdrv_wr32(d, 0x070, 0xb);	/* FEATURES_OK */
	if (vdrv_rd32(d, 0x070) != 0xb)
		return false;
	for (unsigned i = 0; i < nq; i++) {
		q[i].next = q[i].avail_idx = q[i].used_seen = 0;
		vdrv_wr32(d, 0x030, i);	/* QueueSel */
		if (vdrv_rd32(d, 0x034) < VDRV_QSZ)
			return false;
		vdrv_wr32(d, 0x038, VDRV_QSZ);
		vdrv_wr32(d, 0x080, (uint32_t)q[i].desc); vdrv_wr32(d, 0x084, (uint32_t)(q[i].desc >> 32));
		vdrv_wr32(d, 0x090, (uint32_t)q[i].avail); vdrv_wr32(d, 0x094, (uint32_t)(q[i].avail >> 32));
		vdrv_wr32(d, 0x0a0, (uint32_t)q[i].used); vdrv_wr32(d, 0x0a4, (uint32_t)(q[i].used >> 32));
		vdrv_wr32(d, 0x044, 1);	/* QueueReady */
	}
	vdrv_wr32(d, 0x070, 0xf);	/* DRIVER_OK */
	return vdrv_rd32(d, 0x070) == 0xf;
}

void vdrv_post(uint8_t *mem, struct vdrv_q *q, const struct vdrv_part *p, unsigned n)
{
	uint16_t head = q->next;
	for (unsigned i = 0; i < n; i++) {
		uint16_t me = (uint16_t)((head + i) % VDRV_QSZ);
		uint8_t *dp = mem + q->desc + 16 * me;
		uint16_t flags = (uint16_t)((p[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		uint16_t nx = (uint16_t)((me + 1) % VDRV_QSZ);
		memcpy(dp, &p[i].gpa, 8);
		memcpy(dp + 8, &p[i].len, 4);
		memcpy(dp + 12, &flags, 2);
		memcpy(dp + 14, &nx, 2);
	}
	q->next = (uint16_t)((head + n) % VDRV_QSZ);
	memcpy(mem + q->avail + 4 + 2 * (q->avail_idx % VDRV_QSZ), &head, 2);
	q->avail_idx++;
	__atomic_store_n((uint16_t *)(void *)(mem + q->avail + 2), q->avail_idx, __ATOMIC_RELEASE);
}

long vdrv_used(struct virtio_dev *d, uint8_t *mem, struct vdrv_q *q, int ms)
{
	for (int t = 0; t < ms; t++) {
		virtio_dev_poll(d, 1);
		uint16_t u = __atomic_load_n((uint16_t *)(void *)(mem + q->used + 2), __ATOMIC_ACQUIRE);
		if (u != q->used_seen) {
			uint32_t len;
			memcpy(&len, mem + q->used + 4 + 8 * (q->used_seen % VDRV_QSZ) + 4, 4);
			q->used_seen++;
			return len;
		}
	}
	return -1;
}
