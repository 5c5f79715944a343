/*
 * virtio-test.c: the virtio layer without KVM (suite `devices`): the
 * virtqueue walker against a hostile driver (loops, indices out of range,
 * buffers across the end of RAM or in the MMIO hole, 32-bit length
 * overflow, chains longer than the queue, bad indirect tables, readable
 * after writable), event-idx interrupt suppression, the virtio-mmio status
 * state machine (phases, refused features, reset, DEVICE_NEEDS_RESET),
 * virtio-rng and virtio-console served on a device "thread" driven by
 * hand (virtio_dev_poll), console input routing, the registry's dispatch
 * and save/restore of device and transport state.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layout.h"
#include "vmm/priv.h"
#include "vmm/virtio.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fails++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

/* Guest RAM: 3 GiB below the hole and 64 MiB above 4 GiB, reserved, not
 * touched (only the pages the tests write are ever backed). */
#define LOW (3 * KXL_GiB)
#define HIGH (64 * KXL_MiB)
static struct kxl_guest_image img;

static void mem_init(void)
{
	img.mem_bytes = LOW + HIGH;
	img.mem = mmap(NULL, img.mem_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (img.mem == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	img.memfd = -1;
	img.slots[0] = (struct kxl_mem_slot){ .gpa = 0, .size = LOW, .memfd_offset = 0 };
	img.slots[1] = (struct kxl_mem_slot){ .gpa = KXL_GPA_ABOVE_4G, .size = HIGH, .memfd_offset = LOW };
	img.nr_slots = 2;
}

static uint8_t *G(uint64_t gpa) { return kxl_guest_ptr(&img, gpa, 1); }

/* A queue of `size` at fixed addresses, written by the "driver" below. */
#define DESC 0x100000ULL
#define AVAIL 0x110000ULL
#define USED 0x120000ULL
#define BUF 0x200000ULL

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = G(DESC + 16 * i);
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static void desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = G(table + 16 * i);
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static uint16_t avail_idx;
static void avail_reset(void)
{
	memset(G(AVAIL), 0, 0x1000);
	memset(G(USED), 0, 0x1000);
	avail_idx = 0;
}

static void offer(uint16_t size, uint16_t head)
{
	uint16_t at = avail_idx % size;
	memcpy(G(AVAIL + 4 + 2 * at), &head, 2);
	avail_idx++;
	memcpy(G(AVAIL + 2), &avail_idx, 2);
}

static uint16_t ld16(uint64_t gpa) { uint16_t v; memcpy(&v, G(gpa), 2); return v; }
static uint32_t ld32(uint64_t gpa) { uint32_t v; memcpy(&v, G(gpa), 4); return v; }

static struct virtq_elem e;

static int pop1(uint16_t size, bool indirect, const char **why)
{
	struct virtq q;
	memset(&q, 0, sizeof(q));
	if (virtq_setup(&q, &img, size, DESC, AVAIL, USED, false, indirect) < 0) {
		*why = q.error;
		return -2;
	}
	int r = virtq_pop(&q, &e);
	*why = q.error;
	if (r < 0)
		CHECK(virtq_pop(&q, &e) == -1);		/* stays broken */
	return r;
}

static void test_walker(void)
{
	const char *why;
	struct virtq q;

	memset(&q, 0, sizeof(q));
	CHECK(virtq_setup(&q, &img, 3, DESC, AVAIL, USED, false, false) < 0);	/* not a power of 2 */
	CHECK(virtq_setup(&q, &img, 512, DESC, AVAIL, USED, false, false) < 0);	/* above the max */
	CHECK(virtq_setup(&q, &img, 8, DESC + 8, AVAIL, USED, false, false) < 0);	/* misaligned */
	CHECK(virtq_setup(&q, &img, 8, LOW - 64, AVAIL, USED, false, false) < 0);	/* across the end */
	CHECK(virtq_setup(&q, &img, 8, DESC, KXL_MMIO_HOLE_START, USED, false, false) < 0); /* the hole */
	CHECK(virtq_setup(&q, &img, 8, DESC, AVAIL, KXL_GPA_ABOVE_4G + HIGH, false, false) < 0);

	/* a good chain: 2 readable, 1 writable, one zero-length */
	avail_reset();
	desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 5);
	desc(5, BUF + 100, 0, VIRTQ_DESC_F_NEXT, 2);
	desc(2, KXL_GPA_ABOVE_4G, 32, VIRTQ_DESC_F_NEXT, 3);
	desc(3, BUF + 0x1000, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(8, 0);
	CHECK(pop1(8, false, &why) == 1);
	CHECK(e.nr_segs == 3 && e.nr_read == 2 && e.read_len == 48 && e.write_len == 64);
	CHECK(e.seg[1].hva == G(KXL_GPA_ABOVE_4G) && e.seg[2].write);

	/* empty ring */
	avail_reset();
	CHECK(pop1(8, false, &why) == 0);

#define BAD(name, ind, ...) do { avail_reset(); __VA_ARGS__; \
		int r_ = pop1(8, ind, &why); CHECK(r_ == -1); \
		if (r_ != -1) printf("  case: %s\n", name); } while (0)

	BAD("head out of range", false, offer(8, 8));
	BAD("two-step loop", false, desc(0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	    desc(1, BUF, 8, VIRTQ_DESC_F_NEXT, 0); offer(8, 0));
	BAD("self loop", false, desc(4, BUF, 8, VIRTQ_DESC_F_NEXT, 4); offer(8, 4));
	BAD("next out of range", false, desc(0, BUF, 8, VIRTQ_DESC_F_NEXT, 9); offer(8, 0));
	BAD("crosses the end of low RAM", false, desc(0, LOW - 8, 16, 0, 0); offer(8, 0));
	BAD("in the hole", false, desc(0, KXL_MMIO_HOLE_START + 0x1000, 16, 0, 0); offer(8, 0));
	BAD("past the end", false, desc(0, KXL_GPA_ABOVE_4G + HIGH - 4, 8, 0, 0); offer(8, 0));
	BAD("wraps", false, desc(0, ~0ULL - 4, 16, 0, 0); offer(8, 0));
	BAD("length overflow", false,
	    desc(0, 0x1000, 0x80000000u, VIRTQ_DESC_F_NEXT, 1);
	    desc(1, 0x1000, 0x80000000u, 0, 0); offer(8, 0));
	BAD("readable after writable", false,
	    desc(0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	    desc(1, BUF, 8, 0, 0); offer(8, 0));
	BAD("avail index jumps beyond the queue", false,
	    desc(0, BUF, 8, 0, 0); offer(8, 0); avail_idx = 9; memcpy(G(AVAIL + 2), &avail_idx, 2));
	BAD("indirect not negotiated", false, desc(0, BUF, 32, VIRTQ_DESC_F_INDIRECT, 0); offer(8, 0));
	BAD("indirect with next", true,
	    desc(0, BUF, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1); offer(8, 0));
	BAD("indirect length not 16*n", true, desc(0, BUF, 24, VIRTQ_DESC_F_INDIRECT, 0); offer(8, 0));
	BAD("indirect length 0", true, desc(0, BUF, 0, VIRTQ_DESC_F_INDIRECT, 0); offer(8, 0));
	BAD("indirect table larger than the queue", true,
	    desc(0, BUF, 16 * 9, VIRTQ_DESC_F_INDIRECT, 0); offer(8, 0));
	BAD("indirect table in the hole", true,
	    desc(0, KXL_MMIO_HOLE_START, 32, VIRTQ_DESC_F_INDIRECT, 0); offer(8, 0));
	BAD("nested indirect", true,
	    desc(0, BUF, 32, VIRTQ_DESC_F_INDIRECT, 0);
	    desc_at(BUF, 0, BUF + 0x100, 32, VIRTQ_DESC_F_INDIRECT, 0); offer(8, 0));
	BAD("loop inside an indirect table", true,
	    desc(0, BUF, 32, VIRTQ_DESC_F_INDIRECT, 0);
	    desc_at(BUF, 0, BUF + 0x100, 8, VIRTQ_DESC_F_NEXT, 1);
	    desc_at(BUF, 1, BUF + 0x100, 8, VIRTQ_DESC_F_NEXT, 0); offer(8, 0));
	BAD("chain longer than the queue (direct + indirect)", true,
	    desc(0, BUF + 0x800, 8, VIRTQ_DESC_F_NEXT, 1);
	    desc(1, BUF + 0x800, 8, VIRTQ_DESC_F_NEXT, 2);
	    desc(2, BUF, 16 * 8, VIRTQ_DESC_F_INDIRECT, 0);
	    for (unsigned i = 0; i < 8; i++)
		    desc_at(BUF, i, BUF + 0x800, 8, i < 7 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	    offer(8, 0));

	/* a good indirect chain, after two direct descriptors */
	avail_reset();
	desc(0, BUF + 0x800, 8, VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF, 16 * 3, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(BUF, 0, BUF + 0x900, 4, VIRTQ_DESC_F_NEXT, 2);
	desc_at(BUF, 2, BUF + 0xa00, 100, VIRTQ_DESC_F_WRITE, 0);
	offer(8, 0);
	CHECK(pop1(8, true, &why) == 1);
	CHECK(e.nr_segs == 3 && e.read_len == 12 && e.write_len == 100);

	/* virtq_read/virtq_write across segments */
	avail_reset();
	memcpy(G(BUF), "hello ", 6);
	memcpy(G(BUF + 0x40), "world", 5);
	desc(0, BUF, 6, VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF + 0x40, 5, VIRTQ_DESC_F_NEXT, 2);
	desc(2, BUF + 0x80, 3, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	desc(3, BUF + 0xc0, 3, VIRTQ_DESC_F_WRITE, 0);
	offer(8, 0);
	CHECK(pop1(8, false, &why) == 1);
	char s[16] = { 0 };
	CHECK(virtq_read(&e, 0, s, sizeof(s)) == 11 && !memcmp(s, "hello world", 11));
	CHECK(virtq_read(&e, 4, s, 4) == 4 && !memcmp(s, "o wo", 4));
	CHECK(virtq_write(&e, 1, "abcdef", 6) == 5);
	CHECK(!memcmp(G(BUF + 0x81), "ab", 2) && !memcmp(G(BUF + 0xc0), "cde", 3));

	/* push, used ring, interrupt suppression without and with event idx */
	avail_reset();
	memset(&q, 0, sizeof(q));
	CHECK(virtq_setup(&q, &img, 8, DESC, AVAIL, USED, true, false) == 0);
	desc(0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	CHECK(virtq_pop(&q, &e) == 0);
	CHECK(ld16(USED + 4 + 8 * 8) == 0);		/* avail_event written */
	offer(8, 0);
	CHECK(virtq_pop(&q, &e) == 1);
	virtq_push(&q, &e, 1000);			/* clamped to what is writable */
	CHECK(ld16(USED + 2) == 1 && ld32(USED + 4) == 0 && ld32(USED + 8) == 8);
	CHECK(virtq_need_interrupt(&q));		/* first: always */
	CHECK(!virtq_need_interrupt(&q));		/* nothing new */
	uint16_t used_event = 5;			/* the driver wants one at 6 */
	memcpy(G(AVAIL + 4 + 2 * 8), &used_event, 2);
	for (int i = 0; i < 4; i++) {
		offer(8, 0);
		CHECK(virtq_pop(&q, &e) == 1);
		virtq_push(&q, &e, 0);
		CHECK(!virtq_need_interrupt(&q));	/* used idx 2..5 */
	}
	offer(8, 0);
	CHECK(virtq_pop(&q, &e) == 1);
	virtq_push(&q, &e, 0);
	CHECK(virtq_need_interrupt(&q));		/* used idx 6 passes used_event 5 */
	CHECK(virtq_pop(&q, &e) == 0);
	CHECK(ld16(USED + 4 + 8 * 8) == 6);		/* avail_event follows, once empty */
	virtq_unpop(&q);
	CHECK(virtq_has_avail(&q));
}

/* ---- the transport ---- */

static uint32_t rd(struct virtio_dev *d, uint64_t off)
{
	uint32_t v = 0xdeadbeef;
	virtio_mmio_access(d, off, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	virtio_mmio_access(d, off, (uint8_t *)&v, 4, true);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1;
}

static void drain(int fd)
{
	uint64_t n;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* nothing */
	}
}

/* The driver's side of initialisation, as Linux's virtio_mmio does it. */
static void driver_init(struct virtio_dev *d, unsigned nq, bool event_idx)
{
	wr(d, 0x70, 0);
	wr(d, 0x70, 1);
	wr(d, 0x70, 3);
	wr(d, 0x14, 1);
	CHECK(rd(d, 0x10) & 1);				/* VERSION_1 offered */
	wr(d, 0x24, 0);
	wr(d, 0x20, event_idx ? 1u << VIRTIO_F_EVENT_IDX : 0);
	wr(d, 0x24, 1);
	wr(d, 0x20, 1);
	wr(d, 0x70, 0xb);
	CHECK(rd(d, 0x70) == 0xb);
	for (unsigned i = 0; i < nq; i++) {
		uint64_t base = 0x300000 + i * 0x10000;
		wr(d, 0x30, i);
		CHECK(rd(d, 0x34) == 64);
		wr(d, 0x38, 8);
		wr(d, 0x80, (uint32_t)base);
		wr(d, 0x84, 0);
		wr(d, 0x90, (uint32_t)(base + 0x1000));
		wr(d, 0x94, 0);
		wr(d, 0xa0, (uint32_t)(base + 0x2000));
		wr(d, 0xa4, 0);
		wr(d, 0x44, 1);
		CHECK(rd(d, 0x44) == 1);
	}
	wr(d, 0x70, 0xf);
	CHECK(rd(d, 0x70) == 0xf && d->active);
}

static void qdesc(unsigned qi, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	desc_at(0x300000 + qi * 0x10000, i, addr, len, flags, next);
}

static void qoffer(unsigned qi, uint16_t head)
{
	uint64_t a = 0x300000 + qi * 0x10000 + 0x1000;
	uint16_t idx = ld16(a + 2);
	memcpy(G(a + 4 + 2 * (idx % 8)), &head, 2);
	idx++;
	memcpy(G(a + 2), &idx, 2);
}

static uint16_t qused(unsigned qi) { return ld16(0x300000 + qi * 0x10000 + 0x2000 + 2); }
static uint32_t qused_len(unsigned qi, unsigned i) { return ld32(0x300000 + qi * 0x10000 + 0x2000 + 4 + 8 * i + 4); }

static void test_transport(void)
{
	struct kxl_diag diag;
	struct virtio_dev d;
	const struct virtio_kind *rng = virtio_kind_find(KXL_VDEV_RNG);
	struct kxl_vmm_vdev cfg = { .type = KXL_VDEV_RNG, .fds = { -1, -1, -1, -1 } };

	kxl_diag_init(&diag);
	memset(G(0x300000), 0, 0x20000);
	CHECK(virtio_dev_init(&d, rng->ops, NULL, "rng", &img, 3, &diag) == 0);
	CHECK(rng->create(&d, &cfg, &diag) == 0);
	CHECK(d.gsi == KXL_VIRTIO_MMIO_GSI(3));
	CHECK(rd(&d, 0) == 0x74726976 && rd(&d, 4) == 2 && rd(&d, 8) == VIRTIO_ID_RNG);
	uint16_t half = 0x1234;
	virtio_mmio_access(&d, 0, (uint8_t *)&half, 2, false);	/* not 32 bits: 0 */
	CHECK(half == 0);
	CHECK(rd(&d, 0x102) == 0);				/* no config space */

	/* out of order: DRIVER before ACKNOWLEDGE, features before DRIVER */
	wr(&d, 0x70, 2);
	CHECK(rd(&d, 0x70) == 0);
	wr(&d, 0x70, 1);
	wr(&d, 0x24, 1);
	wr(&d, 0x20, 1);
	CHECK(d.driver_features == 0);
	wr(&d, 0x70, 0xb);					/* two steps at once */
	CHECK(rd(&d, 0x70) == 1);
	wr(&d, 0x70, 3);
	wr(&d, 0x70, 0xb);					/* no VERSION_1 */
	CHECK(rd(&d, 0x70) == 3);
	wr(&d, 0x24, 0);
	wr(&d, 0x20, 1u << 5);					/* not offered */
	wr(&d, 0x24, 1);
	wr(&d, 0x20, 1);
	wr(&d, 0x70, 0xb);
	CHECK(rd(&d, 0x70) == 3);
	wr(&d, 0x30, 0);
	wr(&d, 0x38, 8);					/* queue write before FEATURES_OK */
	CHECK(d.vq[0].size == 64);
	wr(&d, 0x70, 0);					/* reset */
	CHECK(rd(&d, 0x70) == 0 && d.driver_features == 0);

	/* a queue outside RAM: DEVICE_NEEDS_RESET, then nothing until reset */
	wr(&d, 0x70, 1);
	wr(&d, 0x70, 3);
	wr(&d, 0x24, 1);
	wr(&d, 0x20, 1);
	wr(&d, 0x70, 0xb);
	wr(&d, 0x30, 0);
	wr(&d, 0x38, 8);
	wr(&d, 0x80, 0);
	wr(&d, 0x84, 0);
	wr(&d, 0x80, (uint32_t)KXL_MMIO_HOLE_START);
	wr(&d, 0x44, 1);
	CHECK(rd(&d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(rd(&d, 0x44) == 0);
	wr(&d, 0x70, 0xf);
	CHECK(!d.active && !(rd(&d, 0x70) & VIRTIO_STATUS_DRIVER_OK));
	wr(&d, 0x30, 7);					/* a queue that does not exist */
	CHECK(rd(&d, 0x34) == 0);

	/* the real thing: rng serves a request */
	driver_init(&d, 1, true);
	memset(G(0x500000), 0, 64);
	qdesc(0, 0, 0x500000, 64, VIRTQ_DESC_F_WRITE, 0);
	qoffer(0, 0);
	wr(&d, 0x50, 0);					/* QueueNotify without an ioeventfd */
	drain(d.irq_fd);
	virtio_dev_poll(&d, 100);
	CHECK(qused(0) == 1 && qused_len(0, 0) == 64);
	static const uint8_t zero[64];
	CHECK(memcmp(G(0x500000), zero, 64) != 0);
	CHECK(rd(&d, 0x60) == VIRTIO_INT_VRING && readable(d.irq_fd));
	wr(&d, 0x64, VIRTIO_INT_VRING);
	CHECK(rd(&d, 0x60) == 0);
	/* a resample (the guest EOIed) with nothing pending raises nothing */
	drain(d.irq_fd);
	uint64_t one = 1;
	CHECK(write(d.resample_fd, &one, 8) == 8);
	virtio_dev_poll(&d, 0);
	CHECK(!readable(d.irq_fd));
	/* ...but with InterruptStatus still set it raises the line again */
	virtio_irq(&d, VIRTIO_INT_VRING);
	drain(d.irq_fd);
	CHECK(write(d.resample_fd, &one, 8) == 8);
	virtio_dev_poll(&d, 0);
	CHECK(readable(d.irq_fd));

	/* save, break the device, restore */
	uint8_t blob[4096];
	size_t n = virtio_dev_save(&d, blob, sizeof(blob));
	CHECK(n > 0 && n <= sizeof(blob));
	CHECK(virtio_dev_save(&d, NULL, 0) == n);
	/* a loop: DEVICE_NEEDS_RESET and a configuration interrupt */
	qdesc(0, 1, 0x500000, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	qoffer(0, 1);
	wr(&d, 0x50, 0);
	virtio_dev_poll(&d, 100);
	CHECK(rd(&d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(rd(&d, 0x60) & VIRTIO_INT_CONFIG);
	CHECK(strstr(d.error, "loops") != NULL);
	CHECK(!d.active);
	uint16_t used_before = qused(0);
	qoffer(0, 0);
	wr(&d, 0x50, 0);
	virtio_dev_poll(&d, 0);
	CHECK(qused(0) == used_before);				/* stopped */
	CHECK(virtio_dev_restore(&d, blob, n) == 0);
	CHECK(rd(&d, 0x70) == 0xf && d.active && d.vq[0].ready && d.vq[0].last_avail_idx == 1);
	CHECK(virtio_dev_restore(&d, blob, n - 1) == -1);	/* cut short */
	blob[0] ^= 1;
	CHECK(virtio_dev_restore(&d, blob, n) == -1);		/* not a transport blob */
	wr(&d, 0x70, 0);
	CHECK(rd(&d, 0x70) == 0 && !d.vq[0].ready && d.error[0] == 0);

	/* garbage at every register must not hurt */
	unsigned seed = 12345;
	for (int i = 0; i < 200000; i++) {
		seed = seed * 1103515245 + 12345;
		uint64_t off = (seed >> 8) % 0x140;
		uint32_t v = seed * 2654435761u;
		if ((seed >> 20) & 1)
			v &= 0xff;
		if ((seed >> 21) & 1)
			wr(&d, off & ~3ULL, v);
		else
			rd(&d, off);
		if (!(i % 1000))
			virtio_dev_poll(&d, 0);
	}
	close(d.irq_fd);
	close(d.resample_fd);
	close(d.wake_fd);
	close(d.vq[0].kick_fd);
	free(d.priv);
}

/* ---- the console ---- */

static void test_console(void)
{
	struct kxl_diag diag;
	struct vm vm;
	int out[2];
	CHECK(pipe2(out, O_NONBLOCK) == 0);
	struct child_args args = { .name = "t", .con_in = -1, .con_out = out[1], .log_fd = -1, .img = &img };
	struct kxl_vmm_vdev vdevs[2] = {
		{ .type = KXL_VDEV_CONSOLE, .id = "hvc0", .fds = { -1, -1, -1, -1 } },
		{ .type = KXL_VDEV_RNG, .id = "rng", .fds = { -1, -1, -1, -1 } },
	};
	args.vdevs = vdevs;
	args.nr_vdevs = 2;

	kxl_diag_init(&diag);
	memset(&vm, 0, sizeof(vm));
	vm.args = &args;
	vm.vm_fd = vm.kvm_fd = -1;
	vm.log.fd = -1;
	vm.evfd = -1;
	pthread_mutex_init(&vm.dev_lock, NULL);
	CHECK(conmerge_start(&vm.con, out[1], &diag) == 0);	/* as the child does */
	CHECK(vmm_devices_attach(&vm, &diag) == 0);
	CHECK(vm.nr_vdevs == 2 && vm.hvc == &vm.vdevs[0]);

	/* the registry's dispatch: the windows answer, the rest does not */
	struct vmm_io c = { .vm = &vm, .tx = -1 };
	uint32_t v = 0;
	CHECK(vmm_devices_io(&c, VMM_BUS_MMIO, KXL_GPA_VIRTIO_MMIO + KXL_VIRTIO_MMIO_SIZE + 8,
			     (uint8_t *)&v, 4, false) && v == VIRTIO_ID_RNG);
	CHECK(!vmm_devices_io(&c, VMM_BUS_MMIO, KXL_GPA_VIRTIO_MMIO + 2 * KXL_VIRTIO_MMIO_SIZE,
			      (uint8_t *)&v, 4, false));
	CHECK(!vmm_devices_io(&c, VMM_BUS_MMIO, KXL_GPA_VIRTIO_MMIO + KXL_VIRTIO_MMIO_SIZE - 2,
			      (uint8_t *)&v, 4, false));		/* straddles two windows */
	uint8_t b = 'Z';
	CHECK(vmm_devices_io(&c, VMM_BUS_PIO, KXL_PORT_COM1, &b, 1, true) && c.tx == 'Z');
	CHECK(!vmm_devices_io(&c, VMM_BUS_PIO, 0x61, &b, 1, false));	/* between the i8042 ports */
	CHECK(!vmm_devices_io(&c, VMM_BUS_PIO, KXL_PORT_COM1, &b, 2, false));	/* UART: bytes only */
	b = 0xaa;
	CHECK(vmm_devices_io(&c, VMM_BUS_PIO, KXL_PORT_I8042_CMD, &b, 1, true));
	CHECK(vmm_devices_io(&c, VMM_BUS_PIO, KXL_PORT_I8042_DATA, &b, 1, false) && b == 0x55);

	/* input goes to the UART until the guest uses hvc0 */
	struct virtio_dev *d = vm.hvc;
	unsigned uart_space = console_rx_space(&vm);
	CHECK(uart_space == 256);
	memset(G(0x300000), 0, 0x20000);
	driver_init(d, 2, false);
	qdesc(0, 0, 0x600000, 16, VIRTQ_DESC_F_WRITE, 0);	/* a receive buffer */
	qoffer(0, 0);
	console_rx_push(&vm, (const uint8_t *)"u", 1);
	CHECK(console_rx_space(&vm) == 255);			/* still the UART */
	/* output: two chains, the second larger than the buffer */
	memcpy(G(0x610000), "hello hvc0\n", 11);
	qdesc(1, 0, 0x610000, 11, 0, 0);
	qoffer(1, 0);
	memset(G(0x620000), 'x', 5000);
	qdesc(1, 1, 0x620000, 5000, 0, 0);
	qoffer(1, 1);
	wr(d, 0x50, 1);
	for (int i = 0; i < 4; i++)
		virtio_dev_poll(d, 10);
	conmerge_drain(&vm.con, 5000);	/* the rest of the x's is a partial line */
	char got[6000];
	ssize_t n = read(out[0], got, sizeof(got));
	CHECK(n == 5011 && !memcmp(got, "hello hvc0\n", 11) && got[5010] == 'x');
	CHECK(qused(1) == 2);
	/* now hvc0 takes input */
	CHECK(console_rx_space(&vm) == 1024);
	console_rx_push(&vm, (const uint8_t *)"ls\n", 3);
	virtio_dev_poll(d, 10);
	CHECK(qused(0) == 1 && qused_len(0, 0) == 3 && !memcmp(G(0x600000), "ls\n", 3));
	/* a reset gives input back to the UART */
	wr(d, 0x70, 0);
	CHECK(console_rx_space(&vm) == 255);

	/* save/restore of every kind, through the registry */
	uint8_t blob[16384];
	size_t len = vmm_devices_save(&vm, blob, sizeof(blob));
	CHECK(len > 0 && len <= sizeof(blob));
	CHECK(vmm_devices_save(&vm, NULL, 0) == len);
	uint8_t scr = 0x5a;
	vmm_devices_io(&c, VMM_BUS_PIO, KXL_PORT_COM1 + 7, &scr, 1, true);
	CHECK(vmm_devices_restore(&vm, blob, len) == 0);
	scr = 0;
	vmm_devices_io(&c, VMM_BUS_PIO, KXL_PORT_COM1 + 7, &scr, 1, false);
	CHECK(scr == 0);					/* the scratch register came back */
	CHECK(vmm_devices_restore(&vm, blob, len - 1) == -1);
	blob[4] ^= 0x20;					/* a name no kind has */
	CHECK(vmm_devices_restore(&vm, blob, len) == -1);
	conmerge_stop(&vm.con, 1000);
	close(out[0]);
	close(out[1]);
	/* the child never tears its devices down (it exits); the test does */
	for (unsigned i = 0; i < vm.nr_vdevs; i++) {
		struct virtio_dev *x = &vm.vdevs[i];
		close(x->irq_fd);
		close(x->resample_fd);
		close(x->wake_fd);
		for (unsigned q = 0; q < x->ops->nr_queues; q++)
			close(x->vq[q].kick_fd);
		free(x->priv);
	}
	free(vm.vdevs);
}

int main(void)
{
	mem_init();
	test_walker();
	test_transport();
	test_console();
	printf("%s\n", fails ? "FAILED" : "ok");
	return fails ? 1 : 0;
}
