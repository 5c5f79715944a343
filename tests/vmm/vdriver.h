/*
 * vdriver.h: the guest's side of virtio-mmio for the device tests that run
 * without KVM (blk-test.c, net-test.c): register access, the feature
 * handshake, and split queues laid out in a test guest image. Each test
 * keeps its own request formats and checks; this is only the driver that
 * every virtio device test would otherwise write again.
 */
#ifndef KXL_TESTS_VDRIVER_H
#define KXL_TESTS_VDRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/virtio.h"

#define VDRV_QSZ 16	/* every test queue has 16 entries */

/* A split queue in guest memory, as the driver tracks it. */
struct vdrv_q {
	uint64_t desc, avail, used;	/* guest-physical addresses */
	uint16_t next, avail_idx, used_seen;
};

/* One buffer of a descriptor chain. */
struct vdrv_part {
	uint64_t gpa;
	uint32_t len;
	bool write;	/* device-writable */
};

uint32_t vdrv_rd32(struct virtio_dev *d, uint64_t off);
void vdrv_wr32(struct virtio_dev *d, uint64_t off, uint32_t v);

/* The 64 feature bits the device offers. */
uint64_t vdrv_features(struct virtio_dev *d);

/* Reset, ACKNOWLEDGE|DRIVER, the offered features that are in WANT,
 * FEATURES_OK, queues 0..nq-1 at the addresses in q[] (their driver state
 * reset), DRIVER_OK. False when the device refused a step. */
bool vdrv_handshake(struct virtio_dev *d, uint64_t want, struct vdrv_q *q, unsigned nq);

/* Makes the chain P[0..n-1] available on q in guest memory MEM (no
 * notification). */
void vdrv_post(uint8_t *mem, struct vdrv_q *q, const struct vdrv_part *p, unsigned n);

/* Waits up to about MS milliseconds, letting the device work, for the
 * next used entry of q: its length, or -1 on timeout. */
long vdrv_used(struct virtio_dev *d, uint8_t *mem, struct vdrv_q *q, int ms);

#endif
