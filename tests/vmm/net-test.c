/*
 * net-test.c: kxl's virtio-net without KVM. First the pure parts: the
 * transmit header check (every verdict: sizes against the MTU and 64 KiB
 * GSO, flags, checksum position, GSO types against the negotiated
 * features, device-writable parts) and the rate= token bucket on a made-up
 * clock. Then the whole device behind the virtio-mmio registers with a
 * SOCK_SEQPACKET socketpair in place of the tap: features, configuration
 * space (MAC, link up, MTU), frames out (header copied, frame intact,
 * num_buffers cleared), bad frames dropped and the queue still working,
 * frames in (num_buffers 1, the length), input waiting until the driver
 * posts buffers, a receive buffer too small for the header putting the
 * device into DEVICE_NEEDS_RESET, and rate= holding the transmit rate;
 * with MRG_RXBUF, frames spread over several chains (used entries per
 * chain, num_buffers in the first, one used index update), the device
 * waiting until the chains hold the largest frame (or every descriptor of
 * the queue),
 * the next frame starting in the next chain, and a small chain in the
 * pool breaking the device.
 * Last, where the test may make a network namespace (root): the host side
 * (net-host.c) on real taps and a real bridge: a missing bridge is an
 * error naming the vif spec and the bridge, a tap attached to a bridge
 * with its MTU and up, frames of the device crossing the bridge to a
 * second tap and back (a frame too large for the driver's buffer dropped,
 * the buffer reused; with MRG_RXBUF a frame larger than all the chains
 * dropped, the chains taking the next one), a user script's online/offline steps with their
 * environment, and the tap gone after close.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmm/net-host.h"
#include "vmm/virtio-net.h"
#include "vmm/virtio.h"
#include "vdriver.h"

static int fails, checks;
#define CHECK(c) do { checks++; if (!(c)) { fails++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

static const uint64_t ALL = VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) |
			    VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) | VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN);

/* ---- the transmit check on hand-built chains ---- */

static uint8_t big[NET_GSO_MAX_FRAME + 64];

static void seg(struct virtq_elem *e, uint8_t *p, uint32_t len, bool w)
{
	e->seg[e->nr_segs++] = (struct virtq_seg){ .hva = p, .len = len, .write = w };
	if (w) {
		e->write_len += len;
	} else {
		e->read_len += len;
		e->nr_read++;
	}
}

static void mkhdr(uint8_t *h, uint8_t flags, uint8_t gso, uint16_t gso_size, uint16_t cs,
		  uint16_t co)
{
	memset(h, 0, NET_HDR_BYTES);
	h[0] = flags;
	h[1] = gso;
	memcpy(h + 4, &gso_size, 2);
	memcpy(h + 6, &cs, 2);
	memcpy(h + 8, &co, 2);
	h[10] = 0x55;	/* num_buffers: whatever the driver left there */
}

static bool tx(uint64_t feat, unsigned mtu, uint32_t frame, uint8_t flags, uint8_t gso,
	       uint16_t gso_size, uint16_t cs, uint16_t co, struct net_tx *t)
{
	struct virtq_elem e = { 0 };
	mkhdr(big, flags, gso, gso_size, cs, co);
	seg(&e, big, NET_HDR_BYTES, false);
	if (frame)
		seg(&e, big + NET_HDR_BYTES, frame, false);
	return net_tx_parse(&e, feat, mtu, t);
}

static void test_parse(void)
{
	struct net_tx t;
	CHECK(tx(0, 1500, 60, 0, 0, 0, 0, 0, &t) && t.frame_len == 60 && t.hdr[10] == 0);
	CHECK(tx(0, 1500, 1518, 0, 0, 0, 0, 0, &t));			/* MTU + Ethernet + VLAN */
	CHECK(!tx(0, 1500, 1519, 0, 0, 0, 0, 0, &t) && t.why);
	CHECK(!tx(0, 1500, 13, 0, 0, 0, 0, 0, &t));			/* shorter than Ethernet */
	CHECK(!tx(0, 1500, 0, 0, 0, 0, 0, 0, &t));
	CHECK(tx(0, 9000, 9018, 0, 0, 0, 0, 0, &t));
	CHECK(!tx(ALL, 1500, 1519, 0, 0, 0, 0, 0, &t));			/* no GSO: still the MTU */
	CHECK(!tx(0, 1500, 60, 2, 0, 0, 0, 0, &t));			/* DATA_VALID on transmit */
	CHECK(!tx(0, 1500, 60, 1, 0, 0, 34, 16, &t));			/* NEEDS_CSUM without CSUM */
	CHECK(tx(ALL, 1500, 60, 1, 0, 0, 34, 16, &t));
	CHECK(tx(ALL, 1500, 60, 1, 0, 0, 40, 18, &t));			/* ends at the last byte */
	CHECK(!tx(ALL, 1500, 60, 1, 0, 0, 40, 19, &t));			/* beyond it */
	CHECK(!tx(ALL, 1500, 60, 1, 0, 0, 0xffff, 0xffff, &t));		/* no 16-bit wrap */
	CHECK(tx(ALL, 1500, 65000, 1, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, &t));
	CHECK(tx(ALL, 1500, NET_GSO_MAX_FRAME, 1, VIRTIO_NET_HDR_GSO_TCPV6, 1428, 54, 16, &t));
	CHECK(!tx(ALL, 1500, NET_GSO_MAX_FRAME + 1, 1, VIRTIO_NET_HDR_GSO_TCPV6, 1428, 54, 16, &t));
	CHECK(!tx(ALL, 1500, 65000, 1, VIRTIO_NET_HDR_GSO_TCPV4, 0, 34, 16, &t));	/* gso_size 0 */
	CHECK(!tx(ALL, 1500, 65000, 0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0, 0, &t));	/* no csum */
	CHECK(tx(ALL, 1500, 65000, 1, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16, &t));
	CHECK(!tx(ALL & ~VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN), 1500, 65000, 1,
		  VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16, &t));
	CHECK(!tx(ALL, 1500, 60, 0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0, &t));
	CHECK(!tx(VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6), 1500, 65000, 1,
		  VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, &t));
	CHECK(!tx(ALL, 1500, 65000, 1, 3 /* UDP (UFO) */, 1448, 34, 16, &t));
	CHECK(!tx(ALL, 1500, 65000, 1, 5 /* UDP_L4 */, 1448, 34, 16, &t));

	/* a header split across segments is read as one; writable parts refuse */
	struct virtq_elem e = { 0 };
	mkhdr(big, 0, 0, 0, 0, 0);
	seg(&e, big, 5, false);
	seg(&e, big + 5, 7, false);
	seg(&e, big + 12, 100, false);
	CHECK(net_tx_parse(&e, 0, 1500, &t) && t.frame_len == 100);
	seg(&e, big + 200, 10, true);
	CHECK(!net_tx_parse(&e, 0, 1500, &t));
	struct virtq_elem s = { 0 };
	seg(&s, big, 11, false);
	CHECK(!net_tx_parse(&s, 0, 1500, &t));
}

static void test_bucket(void)
{
	struct net_bucket b;
	const uint64_t ms = 1000000;
	net_bucket_init(&b, 0, 0, 0);
	CHECK(net_bucket_wait(&b, 0) == 0);
	net_bucket_take(&b, 1u << 30);
	CHECK(net_bucket_wait(&b, 0) == 0);		/* no limit */

	/* 100000 bytes per 50 ms = 2 MB/s, starting full: with at least 128 KiB
	 * (NET_BUCKET_MIN_BURST), as Xen's netback */
	net_bucket_init(&b, 100000, 50000, 1000 * ms);
	uint64_t now = 1000 * ms, sent = 0;
	CHECK(b.tokens == NET_BUCKET_MIN_BURST);
	CHECK(net_bucket_wait(&b, now) == 0);
	net_bucket_take(&b, 65536);
	CHECK(net_bucket_wait(&b, now) == 0);		/* 65536 left */
	net_bucket_take(&b, 65536);
	CHECK(net_bucket_wait(&b, now) > 0);		/* empty */
	net_bucket_take(&b, 30000);			/* (a frame already popped) */
	uint64_t w = net_bucket_wait(&b, now);
	CHECK(w >= 15 * ms && w <= 15 * ms + 1000);	/* 30001 bytes at 2 MB/s */
	CHECK(net_bucket_wait(&b, now + w) == 0);
	/* the long run: 10 s of 1500-byte frames as fast as allowed */
	net_bucket_init(&b, 100000, 50000, now);
	uint64_t end = now + 10000 * ms;
	while (now < end) {
		uint64_t wait = net_bucket_wait(&b, now);
		if (wait) {
			now += wait;
			continue;
		}
		net_bucket_take(&b, 1500);
		sent += 1500;
	}
	/* 2 MB/s for 10 s, plus the first full bucket */
	CHECK(sent >= 20000000 && sent <= 20000000 + NET_BUCKET_MIN_BURST + 1500);
	/* idle refills to at most the bucket's size */
	CHECK(net_bucket_wait(&b, now + 3600000 * ms) == 0 && b.tokens == NET_BUCKET_MIN_BURST);
	/* a large interval's worth is the bucket */
	net_bucket_init(&b, 1000000, 1000000, 0);
	CHECK(b.tokens == 1000000);
	/* huge rates and intervals do not overflow */
	net_bucket_init(&b, UINT64_MAX / 4, UINT32_MAX, 0);
	CHECK(net_bucket_wait(&b, UINT64_MAX / 2) == 0);
}

/* ---- the device on a socketpair ---- */

#define GMEM (1 << 20)
#define RX_DESC 0x1000
#define RX_AVAIL 0x2000
#define RX_USED 0x3000
#define TX_DESC 0x4000
#define TX_AVAIL 0x5000
#define TX_USED 0x6000
#define BUF 0x10000

static struct kxl_guest_image img;

static struct vdrv_q queues[2] = {
	{ .desc = RX_DESC, .avail = RX_AVAIL, .used = RX_USED },
	{ .desc = TX_DESC, .avail = TX_AVAIL, .used = TX_USED },
};
#define rxq queues[0]
#define txq queues[1]

static void handshake(struct virtio_dev *d, uint64_t want)
{
	CHECK(vdrv_handshake(d, want, queues, 2));
}

static uint8_t *g(uint64_t gpa) { return img.mem + gpa; }

/* Makes a chain available on q (no notify). */
static void post(struct vdrv_q *q, const struct vdrv_part *p, unsigned n)
{
	vdrv_post(img.mem, q, p, n);
}

/* Waits (polling the device) for the next used entry of q: its length, or
 * -1 on timeout. */
static long used(struct virtio_dev *d, struct vdrv_q *q, int ms)
{
	return vdrv_used(d, img.mem, q, ms);
}

static int new_dev(struct virtio_dev *d, const struct kxl_vmm_nic *cfg, int fd)
{
	struct kxl_diag diag;
	kxl_diag_init(&diag);
	struct kxl_vmm_vdev v = { .type = KXL_VDEV_NET, .id = "vif1.0", .fds = { fd, -1, -1, -1 },
				  .cfg = cfg };
	int r = virtio_dev_init(d, virtio_net_kind.ops, NULL, v.id, &img, 3, &diag);
	if (!r)
		r = virtio_net_kind.create(d, &v, &diag);
	if (r)
		printf("device: %s\n", diag.n ? diag.v[0].msg : "?");
	kxl_diag_free(&diag);
	memset(img.mem, 0, GMEM);
	return r;
}

static void frame(uint8_t *p, uint32_t len, uint8_t fill)
{
	memset(p, 0xff, 6);				/* broadcast */
	static const uint8_t src[6] = { 0x00, 0x16, 0x3e, 0x01, 0x02, 0x03 };
	memcpy(p + 6, src, 6);
	p[12] = 0x88; p[13] = 0xb5;			/* local experimental ethertype */
	for (uint32_t i = 14; i < len; i++)
		p[i] = (uint8_t)(fill + i);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* With EVENT_IDX the driver (as Linux's) notifies only when the device's
 * avail_event asks for it. */
static bool evidx;

static void kick(struct virtio_dev *d, struct vdrv_q *q, unsigned idx, uint16_t old)
{
	uint16_t ev;
	memcpy(&ev, g(q->used + 4 + 8 * VDRV_QSZ), 2);
	if (!evidx || (uint16_t)(q->avail_idx - ev - 1) < (uint16_t)(q->avail_idx - old))
		vdrv_wr32(d, 0x050, idx);
}

/* Sends `n` transmit chains of `len`-byte frames through the device and
 * reads them at `peer`; returns how many arrived intact. */
static unsigned send_frames(struct virtio_dev *d, int peer, unsigned n, uint32_t len)
{
	unsigned ok = 0;
	static uint8_t buf[70000];
	for (unsigned i = 0; i < n; i++) {
		mkhdr(g(BUF), 0, 0, 0, 0, 0);
		frame(g(BUF + 0x100), len, (uint8_t)i);
		struct vdrv_part p[2] = { { BUF, NET_HDR_BYTES, false }, { BUF + 0x100, len, false } };
		uint16_t old = txq.avail_idx;
		post(&txq, p, 2);
		kick(d, &txq, 1, old);
		if (used(d, &txq, 3000) != 0)
			break;
		ssize_t r = recv(peer, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == (ssize_t)(NET_HDR_BYTES + len) && buf[10] == 0 &&
		    !memcmp(buf + NET_HDR_BYTES, g(BUF + 0x100), len))
			ok++;
	}
	return ok;
}

/* The head of the used entry that used() returned last. */
static uint16_t used_head(const struct vdrv_q *q)
{
	uint32_t id;
	memcpy(&id, g(q->used + 4 + 8 * ((uint16_t)(q->used_seen - 1) % VDRV_QSZ)), 4);
	return (uint16_t)id;
}

static uint16_t nbufs(uint64_t gpa)
{
	uint16_t nb;
	memcpy(&nb, g(gpa + 10), 2);
	return nb;
}

/* Posts receive chains of one `len`-byte buffer each at MRG + i * 0x1000,
 * i from `first`, and notifies. */
#define MRG (BUF + 0x40000)
static void post_rx(struct virtio_dev *d, unsigned first, unsigned n, uint32_t len)
{
	for (unsigned i = first; i < first + n; i++) {
		struct vdrv_part p[1] = { { MRG + i * 0x1000, len, true } };
		post(&rxq, p, 1);
	}
	vdrv_wr32(d, 0x050, 0);
}

/* A new driver: rings zeroed (as a driver allocates them), then the
 * handshake. */
static void rings_handshake(struct virtio_dev *d, uint64_t want)
{
	memset(g(RX_DESC), 0, TX_USED + 0x1000 - RX_DESC);
	handshake(d, want);
}

/* VIRTIO_NET_F_MRG_RXBUF: frames spread over several chains. */
static void test_mrg(int sv[2])
{
	struct kxl_vmm_nic cfg = { .devid = 0, .mac = { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x57 },
				   .mtu = 1400, .bridge = "xenbr0" };
	static struct virtio_dev dev3;
	struct virtio_dev *d = &dev3;
	static uint8_t in[NET_HDR_BYTES + 30000];
	if (new_dev(d, &cfg, sv[0])) {
		fails++;
		return;
	}
	/* the space gathered before a read: the MTU's frame, or 64 KiB GSO */
	uint64_t gtso = VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4);
	CHECK(net_rx_need(0, 1400) == NET_HDR_BYTES + 1400 + NET_ETH_HLEN + NET_VLAN_HLEN);
	CHECK(net_rx_need(gtso, 1400) == NET_HDR_BYTES + NET_GSO_MAX_FRAME);
	CHECK(net_rx_need(VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4), 1400) == NET_HDR_BYTES + 1418);

	/* without GUEST_TSO: the device reads once it holds 1430 bytes */
	rings_handshake(d, ~(VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |
		       VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6)));
	CHECK(d->driver_features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	memset(in, 0, NET_HDR_BYTES);
	frame(in + NET_HDR_BYTES, 200, 5);
	CHECK(send(sv[1], in, NET_HDR_BYTES + 200, 0) == NET_HDR_BYTES + 200);
	post_rx(d, 0, 1, 1000);
	CHECK(used(d, &rxq, 50) == -1);				/* 1000 < 1430: waits */
	post_rx(d, 1, 1, 1000);
	CHECK(used(d, &rxq, 2000) == NET_HDR_BYTES + 200);	/* one chain: it fits */
	CHECK(used_head(&rxq) == 0 && nbufs(MRG) == 1);
	CHECK(!memcmp(g(MRG + NET_HDR_BYTES), in + NET_HDR_BYTES, 200));
	/* the MTU's frame over two chains: 1000 + 430 bytes, num_buffers 2 in
	 * the first, the used index moved once for both */
	frame(in + NET_HDR_BYTES, 1418, 6);
	CHECK(send(sv[1], in, NET_HDR_BYTES + 1418, 0) == NET_HDR_BYTES + 1418);
	post_rx(d, 2, 1, 1000);
	CHECK(used(d, &rxq, 2000) == 1000 && used_head(&rxq) == 1);
	uint16_t uidx;
	memcpy(&uidx, g(rxq.used + 2), 2);
	CHECK(uidx == 3);
	CHECK(used(d, &rxq, 1) == NET_HDR_BYTES + 1418 - 1000 && used_head(&rxq) == 2);
	CHECK(nbufs(MRG + 0x1000) == 2);
	CHECK(!memcmp(g(MRG + 0x1000 + NET_HDR_BYTES), in + NET_HDR_BYTES, 1000 - NET_HDR_BYTES));
	CHECK(!memcmp(g(MRG + 0x2000), in + 1000, NET_HDR_BYTES + 1418 - 1000));
	CHECK(used(d, &rxq, 20) == -1);				/* nothing else */
	vdrv_wr32(d, 0x070, 0);

	/* with GUEST_TSO: a 30000-byte frame over eight of 16 chains of 4 KiB
	 * (the whole queue is less than 64 KiB: the device reads with it) */
	rings_handshake(d, ~VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	CHECK(d->driver_features & gtso);
	frame(in + NET_HDR_BYTES, 30000, 7);
	CHECK(send(sv[1], in, sizeof(in), 0) == (ssize_t)sizeof(in));
	post_rx(d, 0, 15, 4096);
	CHECK(used(d, &rxq, 50) == -1);				/* 15 * 4 KiB < 64 KiB */
	post_rx(d, 15, 1, 4096);
	uint32_t left = sizeof(in);
	for (unsigned i = 0; i < 8; i++) {
		long l = used(d, &rxq, 2000);
		CHECK(l == (left < 4096 ? (long)left : 4096) && used_head(&rxq) == i);
		CHECK(!memcmp(g(MRG + i * 0x1000), in + i * 4096, (size_t)(l > 0 ? l : 0)) || !i);
		left -= l > 0 ? (uint32_t)l : 0;
	}
	CHECK(left == 0 && nbufs(MRG) == 8);
	/* the next frame starts in the next chain of the pool, once the pool
	 * holds enough again (here: the whole queue) */
	frame(in + NET_HDR_BYTES, 100, 8);
	CHECK(send(sv[1], in, NET_HDR_BYTES + 100, 0) == NET_HDR_BYTES + 100);
	CHECK(used(d, &rxq, 50) == -1);
	post_rx(d, 0, 8, 4096);
	CHECK(used(d, &rxq, 2000) == NET_HDR_BYTES + 100 && used_head(&rxq) == 8);
	CHECK(nbufs(MRG + 0x8000) == 1);
	/* and the one after it in the chain after that */
	CHECK(send(sv[1], in, NET_HDR_BYTES + 100, 0) == NET_HDR_BYTES + 100);
	post_rx(d, 8, 1, 4096);
	CHECK(used(d, &rxq, 2000) == NET_HDR_BYTES + 100 && used_head(&rxq) == 9);
	CHECK(nbufs(MRG + 0x9000) == 1 && !memcmp(g(MRG + 0x9000 + NET_HDR_BYTES),
						  in + NET_HDR_BYTES, 100));
	/* chains of two descriptors: 8 of them take the whole queue, and the
	 * device reads with them although they hold less than 64 KiB */
	vdrv_wr32(d, 0x070, 0);
	rings_handshake(d, ~VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	CHECK(send(sv[1], in, NET_HDR_BYTES + 100, 0) == NET_HDR_BYTES + 100);
	for (unsigned i = 0; i < 8; i++) {
		struct vdrv_part p[2] = { { MRG + i * 0x1000, NET_HDR_BYTES, true },
					  { MRG + i * 0x1000 + 0x100, 1000, true } };
		post(&rxq, p, 2);
		if (i == 6) {
			vdrv_wr32(d, 0x050, 0);
			CHECK(used(d, &rxq, 50) == -1);		/* 14 of 16 */
		}
	}
	vdrv_wr32(d, 0x050, 0);
	CHECK(used(d, &rxq, 2000) == NET_HDR_BYTES + 100 && used_head(&rxq) == 0);
	CHECK(nbufs(MRG) == 1 && !memcmp(g(MRG + 0x100), in + NET_HDR_BYTES, 100));
	/* a chain too small for the header breaks the device, also in the pool */
	vdrv_wr32(d, 0x070, 0);
	rings_handshake(d, ~VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	post_rx(d, 0, 1, 4096);
	post_rx(d, 1, 1, NET_HDR_BYTES - 1);
	CHECK(send(sv[1], in, NET_HDR_BYTES + 100, 0) == NET_HDR_BYTES + 100);
	for (int i = 0; i < 200 && !(vdrv_rd32(d, 0x070) & VIRTIO_STATUS_NEEDS_RESET); i++)
		virtio_dev_poll(d, 1);
	CHECK(vdrv_rd32(d, 0x070) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(used(d, &rxq, 10) == -1);
	vdrv_wr32(d, 0x070, 0);
	while (recv(sv[0], in, sizeof(in), MSG_DONTWAIT) > 0)
		;
}

static void test_device(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) {
		fails++;
		return;
	}
	int big_buf = 4 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big_buf, sizeof(big_buf));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big_buf, sizeof(big_buf));
	struct kxl_vmm_nic cfg = { .devid = 0, .mac = { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56 },
				   .mtu = 1400, .bridge = "xenbr0" };
	static struct virtio_dev dev;
	struct virtio_dev *d = &dev;
	if (new_dev(d, &cfg, sv[0])) {
		fails++;
		return;
	}
	CHECK(vdrv_rd32(d, 0x008) == VIRTIO_ID_NET);
	uint64_t f = vdrv_features(d);
	CHECK(f & VIRTIO_BIT(VIRTIO_NET_F_MAC));
	CHECK(f & VIRTIO_BIT(VIRTIO_NET_F_MTU));
	CHECK(f & VIRTIO_BIT(VIRTIO_NET_F_STATUS));
	CHECK(f & VIRTIO_BIT(VIRTIO_NET_F_CSUM) && f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM));
	CHECK(f & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) && f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6));
	CHECK(f & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	CHECK(f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	uint8_t c[12];
	for (unsigned i = 0; i < 12; i++)
		virtio_mmio_access(d, 0x100 + i, c + i, 1, false);
	CHECK(!memcmp(c, cfg.mac, 6));
	CHECK(c[6] == VIRTIO_NET_S_LINK_UP && c[7] == 0);
	CHECK(c[10] == (1400 & 0xff) && c[11] == 1400 >> 8);
	CHECK(vdrv_rd32(d, 0x100 + 8) == (1400u << 16 | 1));		/* pairs 1, mtu */

	/* first without MRG_RXBUF: a frame in one chain */
	handshake(d, ~(VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)));

	/* out: the header as checked (num_buffers cleared), the frame intact */
	CHECK(send_frames(d, sv[1], 8, 60) == 8);
	CHECK(send_frames(d, sv[1], 2, 1418) == 2);			/* MTU + 18 */
	/* too large, too small, bad header: dropped, the chain returned */
	mkhdr(g(BUF), 0, 0, 0, 0, 0);
	struct vdrv_part p1[2] = { { BUF, NET_HDR_BYTES, false }, { BUF + 0x100, 1419, false } };
	post(&txq, p1, 2);
	vdrv_wr32(d, 0x050, 1);
	CHECK(used(d, &txq, 2000) == 0);
	struct vdrv_part p2[1] = { { BUF, 8, false } };
	post(&txq, p2, 1);
	vdrv_wr32(d, 0x050, 1);
	CHECK(used(d, &txq, 2000) == 0);
	mkhdr(g(BUF), 0, VIRTIO_NET_HDR_GSO_TCPV4, 1000, 0, 0);	/* GSO without csum */
	struct vdrv_part p3[2] = { { BUF, NET_HDR_BYTES, false }, { BUF + 0x100, 60, false } };
	post(&txq, p3, 2);
	vdrv_wr32(d, 0x050, 1);
	CHECK(used(d, &txq, 2000) == 0);
	char junk[16];
	CHECK(recv(sv[1], junk, sizeof(junk), MSG_DONTWAIT) < 0 && errno == EAGAIN);
	CHECK(vdrv_rd32(d, 0x070) == 0xf);				/* no reset needed */
	CHECK(send_frames(d, sv[1], 2, 100) == 2);		/* and the queue still works */
	/* a GSO frame the driver may send (CSUM, HOST_TSO4 negotiated) */
	mkhdr(g(BUF), 1, VIRTIO_NET_HDR_GSO_TCPV4, 1348, 34, 16);
	frame(g(BUF + 0x100), 20000, 7);
	struct vdrv_part p4[2] = { { BUF, NET_HDR_BYTES, false }, { BUF + 0x100, 20000, false } };
	post(&txq, p4, 2);
	vdrv_wr32(d, 0x050, 1);
	CHECK(used(d, &txq, 2000) == 0);
	static uint8_t rb[70000];
	CHECK(recv(sv[1], rb, sizeof(rb), MSG_DONTWAIT) == NET_HDR_BYTES + 20000 && rb[1] == 1);

	/* in: a frame into a posted buffer (header and frame in separate parts) */
	uint8_t in[NET_HDR_BYTES + 200];
	memset(in, 0, NET_HDR_BYTES);
	frame(in + NET_HDR_BYTES, 200, 3);
	struct vdrv_part r1[2] = { { BUF + 0x20000, NET_HDR_BYTES, true }, { BUF + 0x21000, 1600, true } };
	post(&rxq, r1, 2);
	vdrv_wr32(d, 0x050, 0);
	CHECK(send(sv[1], in, sizeof(in), 0) == (ssize_t)sizeof(in));
	CHECK(used(d, &rxq, 2000) == (long)sizeof(in));
	uint16_t nb;
	memcpy(&nb, g(BUF + 0x20000 + 10), 2);
	CHECK(nb == 1);
	CHECK(!memcmp(g(BUF + 0x21000), in + NET_HDR_BYTES, 200));
	/* input with no buffer posted waits, and goes once one is */
	CHECK(send(sv[1], in, sizeof(in), 0) == (ssize_t)sizeof(in));
	CHECK(used(d, &rxq, 50) == -1);
	struct vdrv_part r2[1] = { { BUF + 0x22000, 2000, true } };
	post(&rxq, r2, 1);
	vdrv_wr32(d, 0x050, 0);
	CHECK(used(d, &rxq, 2000) == (long)sizeof(in));
	CHECK(!memcmp(g(BUF + 0x22000 + NET_HDR_BYTES), in + NET_HDR_BYTES, 200));
	/* a receive buffer that cannot hold the header breaks the device */
	struct vdrv_part r3[1] = { { BUF + 0x23000, 8, true } };
	post(&rxq, r3, 1);
	vdrv_wr32(d, 0x050, 0);
	CHECK(send(sv[1], in, sizeof(in), 0) == (ssize_t)sizeof(in));
	for (int i = 0; i < 200 && !(vdrv_rd32(d, 0x070) & VIRTIO_STATUS_NEEDS_RESET); i++)
		virtio_dev_poll(d, 1);
	CHECK(vdrv_rd32(d, 0x070) & VIRTIO_STATUS_NEEDS_RESET);
	vdrv_wr32(d, 0x070, 0);
	CHECK(vdrv_rd32(d, 0x070) == 0);
	while (recv(sv[1], rb, sizeof(rb), MSG_DONTWAIT) > 0)
		;
	while (recv(sv[0], rb, sizeof(rb), MSG_DONTWAIT) > 0)
		;

	/* rate=: 200000 bytes per 50 ms (4 MB/s); 1.4 MB of frames in ~0.3 s
	 * after the first full bucket, with EVENT_IDX: a throttled device
	 * must look at its queue again by itself */
	static struct virtio_dev dev2;
	struct kxl_vmm_nic rated = cfg;
	rated.mtu = 1500;
	rated.rate_bytes = 200000;
	rated.rate_usecs = 50000;
	d = &dev2;
	if (new_dev(d, &rated, sv[0])) {
		fails++;
		return;
	}
	handshake(d, ~(VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)));
	evidx = true;
	/* without GUEST_CSUM the driver sees header flags 0 (5.1.6.3.1) */
	uint8_t dv[NET_HDR_BYTES + 60];
	memset(dv, 0, sizeof(dv));
	dv[0] = 2;	/* DATA_VALID, as a tap may say */
	frame(dv + NET_HDR_BYTES, 60, 1);
	struct vdrv_part r4[1] = { { BUF + 0x24000, 2000, true } };
	post(&rxq, r4, 1);
	vdrv_wr32(d, 0x050, 0);
	CHECK(send(sv[1], dv, sizeof(dv), 0) == (ssize_t)sizeof(dv));
	CHECK(used(d, &rxq, 2000) == (long)sizeof(dv) && g(BUF + 0x24000)[0] == 0);
	double t0 = now_s();
	unsigned got = send_frames(d, sv[1], 1000, 1400);
	double took = now_s() - t0;
	double rate = (1000.0 * 1400 - 200000) / took;
	printf("rate=4MB/s: %u frames of 1400 bytes in %.3f s: %.2f MB/s after the burst\n",
	       got, took, rate / 1e6);
	CHECK(got == 1000);
	CHECK(rate > 3.6e6 && rate < 4.4e6);
	evidx = false;
	vdrv_wr32(d, 0x070, 0);
	test_mrg(sv);
	close(sv[0]);
	close(sv[1]);
}

/* ---- the host side, in a network namespace of our own ---- */

static int sh(const char *cmd)
{
	int r = system(cmd);
	return r == -1 ? -1 : WEXITSTATUS(r);
}

static bool link_has(const char *ifname, const char *what)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ip link show dev %s 2>/dev/null | grep -q -- '%s'", ifname, what);
	return sh(cmd) == 0;
}

static int open_tap(const char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -1;
	return fd;
}

static void test_host(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		printf("SKIP host side: no network namespace (%s)\n", strerror(errno));
		return;
	}
	/* no IPv6 chatter of the host's own in the namespace */
	sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 "
	   ">/dev/null 2>&1");
	if (access("/dev/net/tun", R_OK | W_OK) < 0 || sh("ip link set lo up") != 0) {
		printf("SKIP host side: no /dev/net/tun or no ip(8)\n");
		return;
	}
	struct kxl_diag d;
	kxl_diag_init(&d);
	struct kxl_vmm_nic nic = { .spec = "bridge=kxlbr0,mtu=1400", .devid = 2,
				   .mac = { 0x00, 0x16, 0x3e, 0x0a, 0x0b, 0x0c }, .mtu = 1400,
				   .bridge = "kxlbr0" };
	struct kxl_vmm_spec spec;
	kxl_vmm_spec_init(&spec);
	spec.name = "nettest";
	spec.domid = 7;
	spec.nics = &nic;
	spec.nr_nics = 1;
	struct net_hosts nh;

	/* no bridge: an error naming the spec and the bridge; nothing left */
	CHECK(net_hosts_open(&spec, &nh, &d) < 0);
	CHECK(d.n && strstr(d.v[0].msg, "vif spec `bridge=kxlbr0,mtu=1400'") &&
	      strstr(d.v[0].msg, "no bridge kxlbr0"));
	if (d.n)
		printf("  (%s)\n", d.v[0].msg);
	CHECK(!link_has("vif7.2", "vif7.2"));
	kxl_diag_free(&d);
	kxl_diag_init(&d);
	/* not a bridge */
	sh("ip tuntap add dev kxlbr0 mode tap");
	CHECK(net_hosts_open(&spec, &nh, &d) < 0 && d.n && strstr(d.v[0].msg, "is not a bridge"));
	sh("ip link del kxlbr0");
	kxl_diag_free(&d);
	kxl_diag_init(&d);

	/* the bridge: the tap joins it, with its MTU, up */
	CHECK(sh("ip link add kxlbr0 type bridge && ip link set kxlbr0 up") == 0);
	if (net_hosts_open(&spec, &nh, &d) < 0) {
		printf("host: %s\n", d.n ? d.v[0].msg : "?");
		fails++;
		return;
	}
	CHECK(nh.n == 1 && nh.vdevs[0].type == KXL_VDEV_NET && nh.vdevs[0].fds[0] >= 0);
	CHECK(!strcmp(nh.v[0].ifname, "vif7.2"));
	CHECK(link_has("vif7.2", "master kxlbr0"));
	CHECK(link_has("vif7.2", "mtu 1400"));
	CHECK(link_has("vif7.2", ",UP"));
	CHECK(link_has("vif7.2", "fe:ff:ff:ff:ff:ff"));
	/* the same name again: an error, not a shared tap */
	struct net_hosts nh2;
	CHECK(net_hosts_open(&spec, &nh2, &d) < 0 && d.n && strstr(d.v[d.n - 1].msg, "exists already"));

	/* the device on the tap: frames cross the bridge to a second tap */
	int peer = open_tap("kxlpeer0");
	CHECK(peer >= 0);
	CHECK(sh("ip link set kxlpeer0 mtu 1400 master kxlbr0 up") == 0);
	static struct virtio_dev dev;
	struct virtio_dev *vd = &dev;
	if (peer < 0 || new_dev(vd, &nic, nh.vdevs[0].fds[0])) {
		fails++;
		return;
	}
	handshake(vd, ~(VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)));
	struct timespec settle = { 0, 200000000 };
	nanosleep(&settle, NULL);
	while (read(peer, big, sizeof(big)) > 0)
		;	/* IPv6 router solicitations and the like */
	unsigned ok = 0;
	for (int i = 0; i < 20; i++) {
		mkhdr(g(BUF), 0, 0, 0, 0, 0);
		frame(g(BUF + 0x100), 1000, (uint8_t)i);
		struct vdrv_part p[2] = { { BUF, NET_HDR_BYTES, false }, { BUF + 0x100, 1000, false } };
		post(&txq, p, 2);
		vdrv_wr32(vd, 0x050, 1);
		CHECK(used(vd, &txq, 2000) == 0);
		for (int t = 0; t < 100; t++) {
			ssize_t r = read(peer, big, sizeof(big));
			if (r == 1000 && !memcmp(big, g(BUF + 0x100), 1000)) {
				ok++;
				break;
			}
			if (r < 0)
				poll(NULL, 0, 2);
		}
	}
	CHECK(ok == 20);
	/* and back: the peer's broadcast reaches the guest's buffer */
	struct vdrv_part r1[1] = { { BUF + 0x30000, 2000, true } };
	post(&rxq, r1, 1);
	vdrv_wr32(vd, 0x050, 0);
	uint8_t fr[300];
	frame(fr, sizeof(fr), 9);
	fr[6] = 0x02;	/* another source than the guest's */
	long got = -1;
	CHECK(write(peer, fr, sizeof(fr)) == (ssize_t)sizeof(fr));
	for (int t = 0; t < 20 && got != (long)(NET_HDR_BYTES + sizeof(fr)); t++) {
		got = used(vd, &rxq, 200);
		if (got > 0 && got != (long)(NET_HDR_BYTES + sizeof(fr))) {
			/* something of the host's own: post the buffer again */
			post(&rxq, r1, 1);
			vdrv_wr32(vd, 0x050, 0);
		}
	}
	CHECK(got == (long)(NET_HDR_BYTES + sizeof(fr)));
	CHECK(!memcmp(g(BUF + 0x30000 + NET_HDR_BYTES), fr, sizeof(fr)));
	/* a frame larger than the receive buffer is dropped (the tap's read
	 * fills the device's one-byte sink after it), and the buffer takes
	 * the next one */
	struct vdrv_part r2[1] = { { BUF + 0x31000, NET_HDR_BYTES + 100, true } };
	post(&rxq, r2, 1);
	vdrv_wr32(vd, 0x050, 0);
	CHECK(write(peer, fr, sizeof(fr)) == (ssize_t)sizeof(fr));
	uint8_t sm[60];
	frame(sm, sizeof(sm), 11);
	sm[6] = 0x02;
	CHECK(write(peer, sm, sizeof(sm)) == (ssize_t)sizeof(sm));
	got = -1;
	for (int t = 0; t < 20 && got != (long)(NET_HDR_BYTES + sizeof(sm)); t++) {
		got = used(vd, &rxq, 200);
		if (got > 0 && got != (long)(NET_HDR_BYTES + sizeof(sm))) {
			post(&rxq, r2, 1);
			vdrv_wr32(vd, 0x050, 0);
		}
	}
	CHECK(got == (long)(NET_HDR_BYTES + sizeof(sm)));
	CHECK(!memcmp(g(BUF + 0x31000 + NET_HDR_BYTES), sm, sizeof(sm)));
	/* MRG_RXBUF on the tap, without GUEST_TSO (the device gathers 1430
	 * bytes, or the whole queue): a frame larger than all the chains the
	 * driver gave (16 of 60 bytes) is dropped, the chains take the next
	 * frame, 72 bytes in two of them */
	vdrv_wr32(vd, 0x070, 0);
	rings_handshake(vd, ~(VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |
			      VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6)));
	while (read(peer, big, sizeof(big)) > 0)
		;
	uint8_t lg[1000];
	frame(lg, sizeof(lg), 12);
	lg[6] = 0x02;
	CHECK(write(peer, lg, sizeof(lg)) == (ssize_t)sizeof(lg));
	frame(sm, sizeof(sm), 13);
	sm[6] = 0x02;
	CHECK(write(peer, sm, sizeof(sm)) == (ssize_t)sizeof(sm));
	post_rx(vd, 0, 16, 60);
	bool found = false, large = false;
	for (int t = 0; t < 16 && !found; t++) {
		long l = used(vd, &rxq, 500);
		if (l < 0)
			break;
		uint16_t h = used_head(&rxq), nb = nbufs(MRG + h * 0x1000u);
		long total = l;
		for (unsigned k = 1; k < nb && k < 16; k++, t++)
			total += used(vd, &rxq, 10);
		large |= total > 900;
		if (nb == 2 && total == NET_HDR_BYTES + (long)sizeof(sm) && l == 60 &&
		    !memcmp(g(MRG + h * 0x1000u + NET_HDR_BYTES), sm, 60 - NET_HDR_BYTES))
			found = true;
	}
	CHECK(found && !large);
	vdrv_wr32(vd, 0x070, 0);
	net_hosts_close(&spec, &nh);
	CHECK(!link_has("vif7.2", "vif7.2"));	/* the last holder closed it: gone */
	close(peer);

	/* a user script: online when made, offline when closed, kxl's env */
	char dir[] = "/tmp/kxl-net-test.XXXXXX";
	if (!mkdtemp(dir)) {
		fails++;
		return;
	}
	char script[64], log[64], cmd[1024];
	snprintf(script, sizeof(script), "%s/myscript", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(cmd, sizeof(cmd), "printf '#!/bin/sh\\necho \"$1 $KXL_ACTION $KXL_INTERFACE $vif "
		 "$KXL_BRIDGE $KXL_MAC $KXL_IP $KXL_MTU $KXL_DOMAIN $KXL_DOMID $KXL_DEVID\" >> %s\\n"
		 "[ \"$1\" = offline ] || ip link show dev $vif | grep -q ,UP || exit 3\\n' > %s && "
		 "chmod +x %s", log, script, script);
	CHECK(sh(cmd) == 0);
	struct kxl_vmm_nic sn = { .spec = "script=myscript", .devid = 0, .ifname = "guest0",
				  .mac = { 0x00, 0x16, 0x3e, 0x01, 0x02, 0x03 }, .mtu = 1500,
				  .bridge = "xenbr0", .script = script, .ip = "192.0.2.7" };
	spec.nics = &sn;
	CHECK(net_hosts_open(&spec, &nh, &d) == 0);
	CHECK(link_has("guest0", "guest0"));
	net_hosts_close(&spec, &nh);
	CHECK(!link_has("guest0", "guest0"));
	FILE *f = fopen(log, "r");
	char l1[256] = "", l2[256] = "";
	if (f) {
		if (!fgets(l1, sizeof(l1), f) || !fgets(l2, sizeof(l2), f))
			l1[0] = 0;
		fclose(f);
	}
	CHECK(!strcmp(l1, "online online guest0 guest0 xenbr0 00:16:3e:01:02:03 192.0.2.7 1500 nettest 7 0\n"));
	CHECK(!strcmp(l2, "offline offline guest0 guest0 xenbr0 00:16:3e:01:02:03 192.0.2.7 1500 nettest 7 0\n"));
	/* a failing online step is an error, and takes the tap away */
	snprintf(cmd, sizeof(cmd), "printf '#!/bin/sh\\nexit 4\\n' > %s", script);
	sh(cmd);
	kxl_diag_free(&d);
	kxl_diag_init(&d);
	CHECK(net_hosts_open(&spec, &nh, &d) < 0 && d.n && strstr(d.v[0].msg, "exited with status 4"));
	CHECK(!link_has("guest0", "guest0"));
	/* a name too long for Linux */
	struct kxl_vmm_nic ln = sn;
	ln.script = NULL;
	ln.ifname = NULL;
	ln.devid = 123456;
	spec.nics = &ln;
	spec.domid = 1234567;
	CHECK(net_hosts_open(&spec, &nh, &d) < 0 && strstr(d.v[d.n - 1].msg, "longer than"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	sh(cmd);
	kxl_diag_free(&d);
}

int main(void)
{
	test_parse();
	test_bucket();
	img.mem = aligned_alloc(4096, GMEM);
	img.mem_bytes = GMEM;
	img.slots[0] = (struct kxl_mem_slot){ .gpa = 0, .size = GMEM, .memfd_offset = 0 };
	img.nr_slots = 1;
	img.memfd = -1;
	test_device();
	test_host();
	printf("%d checks, %d failed\n", checks, fails);
	return fails ? 1 : 0;
}
