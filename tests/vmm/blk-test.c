/*
 * blk-test.c: kxl's virtio-blk without KVM. The request parser on
 * hand-built chains (every verdict: header, direction, 512-byte multiples,
 * bounds and their overflow, status byte, discard ranges, read-only), then
 * the whole device behind the virtio-mmio registers on a disk image in a
 * temporary file: the driver's handshake, the features a read-write, a
 * no-discard and a read-only disk offer, the configuration space, and
 * requests through a real split queue served by the worker threads: write
 * and read back, multi-segment data, FLUSH, GET_ID (the vdev), DISCARD,
 * WRITE_ZEROES, IOERR for bad requests, UNSUPP for unknown ones, writes
 * refused on a read-only disk, and a chain without a status byte putting
 * the device into DEVICE_NEEDS_RESET. Then a qcow2 image through
 * qemu-storage-daemon's NBD export, as kxl_vmm_run sets it up.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/virtio-blk.h"
#include "vmm/virtio.h"
#include "vdriver.h"

static int fails, checks;
#define CHECK(c) do { checks++; if (!(c)) { fails++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

/* ---- the parser on hand-built chains ---- */

static uint8_t mem[8192];

struct chain {
	struct virtq_elem e;
};

static void seg(struct virtq_elem *e, uint8_t *p, uint32_t len, bool w)
{
	e->seg[e->nr_segs++] = (struct virtq_seg){ .hva = p, .len = len, .write = w };
	if (w)
		e->write_len += len;
	else {
		e->read_len += len;
		e->nr_read++;
	}
}

static void hdr(uint8_t *p, uint32_t type, uint64_t sector)
{
	memset(p, 0, 16);
	memcpy(p, &type, 4);
	memcpy(p + 8, &sector, 8);
}

static enum blk_verdict parse(struct virtq_elem *e, const struct blk_limits *lim, struct blk_req *r)
{
	return blk_req_parse(e, lim, r);
}

static void test_parser(void)
{
	struct blk_limits lim = { .capacity = 100, .flush = true, .discard = true };
	static struct virtq_elem e;
	struct blk_req r;

#define RESET() memset(&e, 0, sizeof(e))
	/* a read of 2 sectors at 98: the last two */
	RESET();
	hdr(mem, VIRTIO_BLK_T_IN, 98);
	seg(&e, mem, 16, false);
	seg(&e, mem + 512, 1024, true);
	seg(&e, mem + 4096, 1, true);
	CHECK(parse(&e, &lim, &r) == BLK_DO && r.data_len == 1024 && r.status == mem + 4096);
	/* one sector further is beyond the end */
	hdr(mem, VIRTIO_BLK_T_IN, 99);
	CHECK(parse(&e, &lim, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_IOERR);
	/* sector overflow: 2^64 - 1 + 2 wraps */
	hdr(mem, VIRTIO_BLK_T_IN, UINT64_MAX);
	CHECK(parse(&e, &lim, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_IOERR);
	/* status byte shares the data's segment */
	RESET();
	hdr(mem, VIRTIO_BLK_T_IN, 0);
	seg(&e, mem, 16, false);
	seg(&e, mem + 512, 513, true);
	CHECK(parse(&e, &lim, &r) == BLK_DO && r.data_len == 512 && r.status == mem + 512 + 512);
	/* not a multiple of 512 */
	RESET();
	hdr(mem, VIRTIO_BLK_T_IN, 0);
	seg(&e, mem, 16, false);
	seg(&e, mem + 512, 100, true);
	seg(&e, mem + 4096, 1, true);
	CHECK(parse(&e, &lim, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_IOERR);
	/* a read with readable data */
	RESET();
	hdr(mem, VIRTIO_BLK_T_IN, 0);
	seg(&e, mem, 16 + 512, false);
	seg(&e, mem + 4096, 1, true);
	CHECK(parse(&e, &lim, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_IOERR);
	/* a write: header and data in one segment, data in another */
	RESET();
	hdr(mem, VIRTIO_BLK_T_OUT, 4);
	seg(&e, mem, 16 + 512, false);
	seg(&e, mem + 2048, 512, false);
	seg(&e, mem + 4096, 1, true);
	CHECK(parse(&e, &lim, &r) == BLK_DO && r.data_off == 16 && r.data_len == 1024);
	/* ... refused on a read-only disk */
	struct blk_limits ro = lim;
	ro.readonly = true;
	CHECK(parse(&e, &ro, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_IOERR);
	/* ... and with device-writable data */
	RESET();
	hdr(mem, VIRTIO_BLK_T_OUT, 4);
	seg(&e, mem, 16 + 512, false);
	seg(&e, mem + 2048, 513, true);
	CHECK(parse(&e, &lim, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_IOERR);
	/* a header shorter than 16 bytes: IOERR (the status byte exists) */
	RESET();
	seg(&e, mem, 15, false);
	seg(&e, mem + 4096, 1, true);
	CHECK(parse(&e, &lim, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_IOERR &&
	      r.status == mem + 4096);
	/* the header split over two segments is read through */
	RESET();
	hdr(mem + 100, VIRTIO_BLK_T_FLUSH, 0);
	seg(&e, mem + 100, 5, false);
	seg(&e, mem + 105, 11, false);
	seg(&e, mem + 4096, 1, true);
	CHECK(parse(&e, &lim, &r) == BLK_DO && r.type == VIRTIO_BLK_T_FLUSH);
	struct blk_limits nof = lim;
	nof.flush = false;
	CHECK(parse(&e, &nof, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_UNSUPP);
	/* no status byte: broken */
	RESET();
	hdr(mem, VIRTIO_BLK_T_IN, 0);
	seg(&e, mem, 16, false);
	CHECK(parse(&e, &lim, &r) == BLK_BROKEN);
	/* GET_ID: at most 20 bytes */
	RESET();
	hdr(mem, VIRTIO_BLK_T_GET_ID, 0);
	seg(&e, mem, 16, false);
	seg(&e, mem + 512, 64, true);
	CHECK(parse(&e, &lim, &r) == BLK_DO && r.data_len == 20);
	/* an unknown type */
	RESET();
	hdr(mem, 99, 0);
	seg(&e, mem, 16, false);
	seg(&e, mem + 4096, 1, true);
	CHECK(parse(&e, &lim, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_UNSUPP);
	/* discard: ranges checked, flags, count */
	RESET();
	hdr(mem, VIRTIO_BLK_T_DISCARD, 0);
	uint8_t *rg = mem + 16;
	uint64_t s64 = 90;
	uint32_t n32 = 10, f32 = 0;
	memcpy(rg, &s64, 8); memcpy(rg + 8, &n32, 4); memcpy(rg + 12, &f32, 4);
	seg(&e, mem, 32, false);
	seg(&e, mem + 4096, 1, true);
	CHECK(parse(&e, &lim, &r) == BLK_DO && r.nr_ranges == 1 && r.ranges[0].sector == 90 &&
	      r.ranges[0].sectors == 10);
	n32 = 11;
	memcpy(rg + 8, &n32, 4);
	CHECK(parse(&e, &lim, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_IOERR);
	n32 = 1; f32 = 1;	/* unmap flag on a discard */
	memcpy(rg + 8, &n32, 4); memcpy(rg + 12, &f32, 4);
	CHECK(parse(&e, &lim, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_UNSUPP);
	hdr(mem, VIRTIO_BLK_T_WRITE_ZEROES, 0);	/* ... allowed on write-zeroes */
	CHECK(parse(&e, &lim, &r) == BLK_DO && r.ranges[0].flags == 1);
	struct blk_limits nod = lim;
	nod.discard = false;
	CHECK(parse(&e, &nod, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_UNSUPP);
	RESET();
	hdr(mem, VIRTIO_BLK_T_DISCARD, 0);
	seg(&e, mem, 16 + 8, false);	/* half a range */
	seg(&e, mem + 4096, 1, true);
	CHECK(parse(&e, &lim, &r) == BLK_STATUS && r.status_code == VIRTIO_BLK_S_IOERR);
#undef RESET
}

/* ---- the device behind its registers ---- */

#define GMEM (1u << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x10000

static struct kxl_guest_image img;

static struct vdrv_q q0 = { .desc = DESC, .avail = AVAIL, .used = USED };

static void handshake(struct virtio_dev *d)
{
	CHECK(vdrv_handshake(d, ~VIRTIO_BIT(VIRTIO_F_EVENT_IDX), &q0, 1));
}

/* Makes a chain available, notifies, waits for it to be used; returns the
 * used length, or -1 on timeout. */
static long submit(struct virtio_dev *d, const struct vdrv_part *p, unsigned n)
{
	vdrv_post(img.mem, &q0, p, n);
	vdrv_wr32(d, 0x050, 0);		/* QueueNotify */
	return vdrv_used(d, img.mem, &q0, 2000);
}

static uint8_t *g(uint64_t gpa) { return img.mem + gpa; }

static void put_hdr(uint64_t gpa, uint32_t type, uint64_t sector)
{
	hdr(g(gpa), type, sector);
}

static int make_disk(char *path, size_t bytes)
{
	strcpy(path, "/tmp/kxl-blk-test.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0)
		return -1;
	uint8_t sec[512];
	for (size_t s = 0; s < bytes / 512; s++) {
		memset(sec, (int)(s & 0xff), sizeof(sec));
		if (pwrite(fd, sec, sizeof(sec), (off_t)(s * 512)) != (ssize_t)sizeof(sec))
			return -1;
	}
	return fd;
}

static int new_dev_fds(struct virtio_dev *d, struct kxl_vmm_disk *cfg, const int *fds)
{
	struct kxl_diag diag;
	kxl_diag_init(&diag);
	struct kxl_vmm_vdev v = { .type = KXL_VDEV_BLK, .id = cfg->vdev,
				  .fds = { fds[0], fds[1], fds[2], fds[3] }, .cfg = cfg };
	int r = virtio_dev_init(d, virtio_blk_kind.ops, NULL, cfg->vdev, &img, 2, &diag);
	if (!r)
		r = virtio_blk_kind.create(d, &v, &diag);
	if (r)
		printf("device: %s\n", diag.n ? diag.v[0].msg : "?");
	kxl_diag_free(&diag);
	memset(img.mem, 0, GMEM);
	return r;
}

static int new_dev(struct virtio_dev *d, struct kxl_vmm_disk *cfg, int fd)
{
	int fds[4] = { fd, -1, -1, -1 };
	return new_dev_fds(d, cfg, fds);
}

static void test_device(void)
{
	char path[64];
	int fd = make_disk(path, 64 * 1024 + 100);	/* a partial last sector: not seen */
	CHECK(fd >= 0);
	struct kxl_vmm_disk cfg = { .path = path, .vdev = "xvda", .guest_name = "vda", .discard = true };
	static struct virtio_dev dev;
	struct virtio_dev *d = &dev;
	if (new_dev(d, &cfg, fd)) {
		fails++;
		return;
	}
	CHECK(vdrv_rd32(d, 0x000) == 0x74726976 && vdrv_rd32(d, 0x008) == VIRTIO_ID_BLOCK);
	uint64_t f = vdrv_features(d);
	CHECK(f & VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX));
	CHECK(f & VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX));
	CHECK(f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	CHECK(f & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) && f & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK(!(f & VIRTIO_BIT(VIRTIO_BLK_F_RO)));
	CHECK(vdrv_rd32(d, 0x100) == 128 && vdrv_rd32(d, 0x104) == 0);	/* capacity: 64 KiB */
	CHECK(vdrv_rd32(d, 0x10c) >= 2);				/* seg_max */
	CHECK(vdrv_rd32(d, 0x114) == 512);				/* blk_size */
	handshake(d);

	/* write sectors 3-4 from two segments, read them back in three */
	put_hdr(BUF, VIRTIO_BLK_T_OUT, 3);
	memset(g(BUF + 0x1000), 0xa1, 512);
	memset(g(BUF + 0x2000), 0xb2, 512);
	struct vdrv_part w[] = { { BUF, 16, false }, { BUF + 0x1000, 512, false },
			    { BUF + 0x2000, 512, false }, { BUF + 0x3000, 1, true } };
	g(BUF + 0x3000)[0] = 0xff;
	CHECK(submit(d, w, 4) == 1 && g(BUF + 0x3000)[0] == VIRTIO_BLK_S_OK);
	uint8_t sec[512];
	CHECK(pread(fd, sec, 512, 3 * 512) == 512 && sec[0] == 0xa1 && sec[511] == 0xa1);
	CHECK(pread(fd, sec, 512, 4 * 512) == 512 && sec[0] == 0xb2);
	CHECK(pread(fd, sec, 512, 5 * 512) == 512 && sec[0] == 5);

	put_hdr(BUF, VIRTIO_BLK_T_IN, 2);
	struct vdrv_part r[] = { { BUF, 16, false }, { BUF + 0x4000, 1024, true },
			    { BUF + 0x5000, 512, true }, { BUF + 0x6000, 1, true } };
	g(BUF + 0x6000)[0] = 0xff;
	CHECK(submit(d, r, 4) == 1024 + 512 + 1 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_OK);
	CHECK(g(BUF + 0x4000)[0] == 2 && g(BUF + 0x4000)[511] == 2);
	CHECK(g(BUF + 0x4000)[512] == 0xa1 && g(BUF + 0x5000)[0] == 0xb2);

	/* the last whole sector reads; the partial one beyond does not */
	put_hdr(BUF, VIRTIO_BLK_T_IN, 127);
	struct vdrv_part last[] = { { BUF, 16, false }, { BUF + 0x4000, 512, true }, { BUF + 0x6000, 1, true } };
	CHECK(submit(d, last, 3) == 513 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_OK &&
	      g(BUF + 0x4000)[0] == 127);
	put_hdr(BUF, VIRTIO_BLK_T_IN, 128);
	CHECK(submit(d, last, 3) == 1 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_IOERR);

	/* FLUSH, GET_ID, an unknown type */
	put_hdr(BUF, VIRTIO_BLK_T_FLUSH, 0);
	struct vdrv_part fl[] = { { BUF, 16, false }, { BUF + 0x6000, 1, true } };
	g(BUF + 0x6000)[0] = 0xff;
	CHECK(submit(d, fl, 2) == 1 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_OK);
	put_hdr(BUF, VIRTIO_BLK_T_GET_ID, 0);
	struct vdrv_part id[] = { { BUF, 16, false }, { BUF + 0x4000, 20, true }, { BUF + 0x6000, 1, true } };
	memset(g(BUF + 0x4000), 'x', 20);
	CHECK(submit(d, id, 3) == 21 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(g(BUF + 0x4000), "xvda\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20));
	put_hdr(BUF, 77, 0);
	CHECK(submit(d, fl, 2) == 1 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_UNSUPP);

	/* WRITE_ZEROES reads back zero; DISCARD answers OK */
	put_hdr(BUF, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	uint64_t s64 = 3;
	uint32_t n32 = 2, f32 = 0;
	memcpy(g(BUF + 16), &s64, 8); memcpy(g(BUF + 24), &n32, 4); memcpy(g(BUF + 28), &f32, 4);
	struct vdrv_part wz[] = { { BUF, 32, false }, { BUF + 0x6000, 1, true } };
	CHECK(submit(d, wz, 2) == 1 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_OK);
	CHECK(pread(fd, sec, 512, 3 * 512) == 512 && sec[0] == 0 && sec[511] == 0);
	CHECK(pread(fd, sec, 512, 4 * 512) == 512 && sec[100] == 0);
	CHECK(pread(fd, sec, 512, 5 * 512) == 512 && sec[0] == 5);
	put_hdr(BUF, VIRTIO_BLK_T_DISCARD, 0);
	s64 = 8;
	memcpy(g(BUF + 16), &s64, 8);
	CHECK(submit(d, wz, 2) == 1 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_OK);

	/* many requests at once: all answered, in any order */
	for (unsigned i = 0; i < 6; i++) {
		uint64_t base = BUF + 0x8000 + i * 0x1000;
		put_hdr(base, VIRTIO_BLK_T_IN, 10 + i);
		struct vdrv_part rd[] = { { base, 16, false }, { base + 0x100, 513, true } };
		vdrv_post(img.mem, &q0, rd, 2);
	}
	vdrv_wr32(d, 0x050, 0);
	unsigned answered = 0;
	while (answered < 6 && vdrv_used(d, img.mem, &q0, 2000) >= 0)
		answered++;
	CHECK(answered == 6);
	for (unsigned i = 0; i < 6; i++) {
		uint8_t *b = g(BUF + 0x8000 + i * 0x1000 + 0x100);
		CHECK(b[0] == 10 + i && b[511] == 10 + i && b[512] == VIRTIO_BLK_S_OK);
	}

	/* a chain with no status byte: DEVICE_NEEDS_RESET */
	put_hdr(BUF, VIRTIO_BLK_T_IN, 0);
	struct vdrv_part broken[] = { { BUF, 16, false } };
	submit(d, broken, 1);
	CHECK(vdrv_rd32(d, 0x070) & VIRTIO_STATUS_NEEDS_RESET);
	/* a reset brings it back */
	handshake(d);
	CHECK(!(vdrv_rd32(d, 0x070) & VIRTIO_STATUS_NEEDS_RESET));
	vdrv_wr32(d, 0x070, 0);
	close(fd);
	unlink(path);

	/* read-only and no-discard disks */
	fd = make_disk(path, 8192);
	int rofd = open(path, O_RDONLY);
	struct kxl_vmm_disk rocfg = { .path = path, .vdev = "xvdb", .guest_name = "vdb",
				      .readonly = true, .discard = true };
	static struct virtio_dev rodev;
	d = &rodev;
	if (new_dev(d, &rocfg, rofd)) {
		fails++;
		return;
	}
	f = vdrv_features(d);
	CHECK(f & VIRTIO_BIT(VIRTIO_BLK_F_RO));
	CHECK(!(f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)) && !(f & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD)));
	handshake(d);
	put_hdr(BUF, VIRTIO_BLK_T_OUT, 0);
	struct vdrv_part wo[] = { { BUF, 16, false }, { BUF + 0x1000, 512, false }, { BUF + 0x3000, 1, true } };
	CHECK(submit(d, wo, 3) == 1 && g(BUF + 0x3000)[0] == VIRTIO_BLK_S_IOERR);
	CHECK(pread(fd, sec, 512, 0) == 512 && sec[0] == 0);
	put_hdr(BUF, VIRTIO_BLK_T_IN, 1);
	struct vdrv_part ri[] = { { BUF, 16, false }, { BUF + 0x1000, 512, true }, { BUF + 0x3000, 1, true } };
	CHECK(submit(d, ri, 3) == 513 && g(BUF + 0x3000)[0] == VIRTIO_BLK_S_OK && g(BUF + 0x1000)[0] == 1);
	vdrv_wr32(d, 0x070, 0);

	struct kxl_vmm_disk ndcfg = { .path = path, .vdev = "xvdc", .guest_name = "vdc" };
	static struct virtio_dev nddev;
	d = &nddev;
	if (!new_dev(d, &ndcfg, fd)) {
		f = vdrv_features(d);
		CHECK(!(f & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD)) && !(f & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES)));
		CHECK(f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) && !(f & VIRTIO_BIT(VIRTIO_BLK_F_RO)));
		handshake(d);
		put_hdr(BUF, VIRTIO_BLK_T_DISCARD, 0);
		memcpy(g(BUF + 16), &s64, 8); memcpy(g(BUF + 24), &n32, 4); memcpy(g(BUF + 28), &f32, 4);
		CHECK(submit(d, wz, 2) == 1 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_UNSUPP);
		vdrv_wr32(d, 0x070, 0);
	} else {
		fails++;
	}
	close(fd);
	unlink(path);
}

/* A qcow2 image through qemu-storage-daemon's NBD export (skipped when
 * QEMU's tools are not installed): the same requests, the data in the
 * image afterwards (qemu-img convert), and I/O errors once the daemon is
 * gone. */
static void test_nbd(void)
{
	if (system("command -v qemu-img >/dev/null && command -v qemu-storage-daemon >/dev/null")) {
		printf("SKIP nbd: qemu-img or qemu-storage-daemon not installed\n");
		return;
	}
	char dir[] = "/tmp/kxl-blk-nbd.XXXXXX", path[200], cmd[600];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/d,1.qcow2", dir);	/* a comma QEMU must see escaped */
	snprintf(cmd, sizeof(cmd), "qemu-img create -q -f qcow2 '%s' 1M", path);
	CHECK(system(cmd) == 0);
	struct kxl_vmm_disk cfg = { .path = path, .vdev = "xvdq", .guest_name = "vda",
				    .discard = true, .qemu_format = "qcow2" };
	struct kxl_diag diag;
	kxl_diag_init(&diag);
	struct blk_qsd q;
	int fds[4] = { -1, -1, -1, -1 };
	if (blk_qsd_start(&cfg, &q, &diag) || blk_qsd_connect(&q, &cfg, fds, 4, &diag)) {
		printf("FAIL nbd: %s\n", diag.n ? diag.v[0].msg : "?");
		fails++;
		blk_qsd_stop(&q);
		return;
	}
	static struct virtio_dev nbd;
	struct virtio_dev *d = &nbd;
	if (new_dev_fds(d, &cfg, fds)) {
		fails++;
		blk_qsd_stop(&q);
		return;
	}
	uint64_t f = vdrv_features(d);
	CHECK(f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) && !(f & VIRTIO_BIT(VIRTIO_BLK_F_RO)));
	CHECK(f & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) && f & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK(vdrv_rd32(d, 0x100) == 2048);
	handshake(d);
	put_hdr(BUF, VIRTIO_BLK_T_OUT, 5);
	memset(g(BUF + 0x1000), 0xa1, 512);
	memset(g(BUF + 0x2000), 0xb2, 512);
	struct vdrv_part w[] = { { BUF, 16, false }, { BUF + 0x1000, 512, false },
			    { BUF + 0x2000, 512, false }, { BUF + 0x3000, 1, true } };
	CHECK(submit(d, w, 4) == 1 && g(BUF + 0x3000)[0] == VIRTIO_BLK_S_OK);
	put_hdr(BUF, VIRTIO_BLK_T_IN, 4);
	struct vdrv_part r[] = { { BUF, 16, false }, { BUF + 0x4000, 1536, true }, { BUF + 0x6000, 1, true } };
	CHECK(submit(d, r, 3) == 1537 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_OK);
	CHECK(g(BUF + 0x4000)[0] == 0 && g(BUF + 0x4000)[512] == 0xa1 && g(BUF + 0x4000)[1024] == 0xb2);
	put_hdr(BUF, VIRTIO_BLK_T_IN, 2047);
	struct vdrv_part r2[] = { { BUF, 16, false }, { BUF + 0x4000, 1024, true }, { BUF + 0x6000, 1, true } };
	CHECK(submit(d, r2, 3) == 1 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_IOERR);
	put_hdr(BUF, VIRTIO_BLK_T_FLUSH, 0);
	struct vdrv_part fl[] = { { BUF, 16, false }, { BUF + 0x6000, 1, true } };
	CHECK(submit(d, fl, 2) == 1 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_OK);
	put_hdr(BUF, VIRTIO_BLK_T_GET_ID, 0);
	struct vdrv_part id[] = { { BUF, 16, false }, { BUF + 0x4000, 20, true }, { BUF + 0x6000, 1, true } };
	CHECK(submit(d, id, 3) == 21 && !strcmp((char *)g(BUF + 0x4000), "xvdq"));
	/* zero sector 6 (the b2 one) */
	put_hdr(BUF, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	uint64_t s64 = 6;
	uint32_t n32 = 1, f32 = 0;
	memcpy(g(BUF + 16), &s64, 8); memcpy(g(BUF + 24), &n32, 4); memcpy(g(BUF + 28), &f32, 4);
	struct vdrv_part wz[] = { { BUF, 32, false }, { BUF + 0x6000, 1, true } };
	CHECK(submit(d, wz, 2) == 1 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_OK);
	put_hdr(BUF, VIRTIO_BLK_T_IN, 4);
	CHECK(submit(d, r, 3) == 1537 && g(BUF + 0x4000)[512] == 0xa1 && g(BUF + 0x4000)[1024] == 0);
	/* the daemon goes away: I/O errors, no hang, no crash */
	blk_qsd_stop(&q);
	put_hdr(BUF, VIRTIO_BLK_T_IN, 4);
	CHECK(submit(d, r, 3) == 1 && g(BUF + 0x6000)[0] == VIRTIO_BLK_S_IOERR);
	vdrv_wr32(d, 0x070, 0);
	/* what reached the image */
	char raw[220];
	snprintf(raw, sizeof(raw), "%s/d.raw", dir);
	snprintf(cmd, sizeof(cmd), "qemu-img convert -f qcow2 -O raw '%s' '%s'", path, raw);
	CHECK(system(cmd) == 0);
	int fd = open(raw, O_RDONLY);
	uint8_t sec[512];
	CHECK(fd >= 0 && pread(fd, sec, 512, 5 * 512) == 512 && sec[0] == 0xa1 && sec[511] == 0xa1);
	CHECK(fd >= 0 && pread(fd, sec, 512, 6 * 512) == 512 && sec[0] == 0);
	if (fd >= 0)
		close(fd);
	unlink(raw);
	unlink(path);
	rmdir(dir);
	kxl_diag_free(&diag);
}

int main(void)
{
	test_parser();
	img.mem = aligned_alloc(4096, GMEM);
	img.mem_bytes = GMEM;
	img.slots[0] = (struct kxl_mem_slot){ .gpa = 0, .size = GMEM, .memfd_offset = 0 };
	img.nr_slots = 1;
	img.memfd = -1;
	test_device();
	test_nbd();
	printf("%d checks, %d failed\n", checks, fails);
	return fails ? 1 : 0;
}
