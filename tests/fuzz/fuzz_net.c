/*
 * fuzz_net.c: libFuzzer target of virtio-net's guest input
 * (src/vmm/virtio-net.c). Two parts, chosen by the input's first byte:
 *   - the transmit check (net_tx_parse) on a descriptor chain shaped as
 *     the virtqueue walker hands it over, sliced from the input: when it
 *     says "send", the frame must fit the negotiated limits, the header's
 *     checksum position must lie in the frame, a GSO type must have been
 *     negotiated, and num_buffers must be cleared;
 *   - the whole device behind its registers, with a socketpair in place of
 *     the tap: the driver's features, the MTU and the guest memory (both
 *     queues' rings and descriptor tables, the buffers) come from the
 *     input, MRG_RXBUF among them; the device is activated, both queues
 *     are notified and input frames (some larger than any buffer) are
 *     offered; the receive queue never returns more chains than it took,
 *     and whatever the rings say, every frame that reaches
 *     the "tap" is a header and a frame within the limits, and nothing
 *     crashes, leaks or hangs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/virtio-net.h"
#include "vmm/virtio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		abort();
}

static uint64_t features_of(uint8_t b)
{
	uint64_t f = 0;
	if (b & 1) f |= VIRTIO_BIT(VIRTIO_NET_F_CSUM);
	if (b & 2) f |= VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4);
	if (b & 4) f |= VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6);
	if (b & 8) f |= VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN);
	if (b & 16) f |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4);
	if (b & 32) f |= VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	if (b & 64) f |= VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	if (b & 128) f |= VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	return f | VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_F_VERSION_1);
}

static struct virtq_elem e;

static void fuzz_parse(const uint8_t *data, size_t size)
{
	if (size < 4)
		return;
	uint64_t f = features_of(data[0]);
	unsigned mtu = 68 + (unsigned)((data[1] | data[2] << 8) % (9000 - 68 + 1));
	unsigned nsegs = data[3] % 12;
	data += 4;
	size -= 4;
	if (size < 4 * (size_t)nsegs)
		return;
	const uint8_t *table = data;
	size_t blen = size - 4 * nsegs;
	uint8_t *buf = malloc(blen + 1);
	memcpy(buf, data + 4 * nsegs, blen);
	memset(&e, 0, sizeof(e));
	for (unsigned i = 0; i < nsegs && blen; i++) {
		uint16_t off, len;
		memcpy(&off, table + 4 * i, 2);
		memcpy(&len, table + 4 * i + 2, 2);
		bool w = len & 0x8000;	/* mostly readable, as a driver sends */
		len &= 0x7fff;
		off %= blen;
		len = (uint16_t)(len % (blen - off + 1));
		if (!len)
			continue;
		if (!w && e.write_len)
			w = true;	/* the walker puts writable segments last */
		e.seg[e.nr_segs++] = (struct virtq_seg){ .hva = buf + off, .len = len, .write = w };
		if (w) {
			e.write_len += len;
		} else {
			e.read_len += len;
			e.nr_read++;
		}
	}
	struct net_tx t;
	if (net_tx_parse(&e, f, mtu, &t)) {
		must(!e.write_len && e.read_len == NET_HDR_BYTES + t.frame_len);
		must(t.frame_len >= NET_ETH_HLEN && t.frame_len <= net_max_frame(f, mtu));
		must(t.hdr[10] == 0 && t.hdr[11] == 0);
		uint16_t cs, co;
		memcpy(&cs, t.hdr + 6, 2);
		memcpy(&co, t.hdr + 8, 2);
		if (t.hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			must((f & VIRTIO_BIT(VIRTIO_NET_F_CSUM)) && (uint32_t)cs + co + 2 <= t.frame_len);
		uint8_t gso = t.hdr[1] & ~VIRTIO_NET_HDR_GSO_ECN;
		if (gso == VIRTIO_NET_HDR_GSO_NONE)
			must(t.frame_len <= mtu + NET_ETH_HLEN + NET_VLAN_HLEN);
		else
			must((gso == VIRTIO_NET_HDR_GSO_TCPV4 && (f & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4))) ||
			     (gso == VIRTIO_NET_HDR_GSO_TCPV6 && (f & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6))));
	} else {
		must(t.why != NULL);
	}
	free(buf);
}

/* ---- the device ---- */

#define GMEM (64 * 1024)

static struct kxl_guest_image img;
static struct virtio_dev dev;
static struct kxl_vmm_nic nic;
static int sv[2] = { -1, -1 };
static uint8_t rbuf[NET_GSO_MAX_FRAME + 64];

static void wr32(uint64_t off, uint32_t v)
{
	uint8_t b[4];
	memcpy(b, &v, 4);
	virtio_mmio_access(&dev, off, b, 4, true);
}

static int setup(void)
{
	img.mem = aligned_alloc(4096, GMEM);
	img.mem_bytes = GMEM;
	img.slots[0] = (struct kxl_mem_slot){ .gpa = 0, .size = GMEM, .memfd_offset = 0 };
	img.nr_slots = 1;
	img.memfd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) < 0)
		return -1;
	struct kxl_diag diag;
	kxl_diag_init(&diag);
	nic.mac[0] = 0x02;
	nic.mtu = 1500;
	struct kxl_vmm_vdev v = { .type = KXL_VDEV_NET, .id = "vif0.0", .fds = { sv[0], -1, -1, -1 },
				  .cfg = &nic };
	int r = virtio_dev_init(&dev, virtio_net_kind.ops, NULL, v.id, &img, 0, &diag);
	if (!r)
		r = virtio_net_kind.create(&dev, &v, &diag);
	kxl_diag_free(&diag);
	return r;
}

static void fuzz_device(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready)
		ready = setup() == 0 ? 1 : -1;
	if (ready < 0 || size < 16)
		return;
	uint64_t f = features_of(data[0]);
	nic.mtu = 68 + (unsigned)((data[1] | data[2] << 8) % (9000 - 68 + 1));
	unsigned qsize = 1u << (data[3] % 5);		/* 1..16 */
	unsigned rounds = 1 + data[4] % 4;
	unsigned offer = data[5] % 6;			/* frames offered on the "tap" */
	data += 16;
	size -= 16;
	memset(img.mem, 0, GMEM);
	memcpy(img.mem, data, size < GMEM ? size : GMEM);

	wr32(0x070, 0);
	wr32(0x070, 1);
	wr32(0x070, 3);
	wr32(0x024, 0);
	wr32(0x020, (uint32_t)f);
	wr32(0x024, 1);
	wr32(0x020, (uint32_t)(f >> 32));
	wr32(0x070, 0xb);
	/* receiveq's descriptors, avail and used rings at 0x000/0x100/0x200,
	 * transmitq's at 0x400/0x500/0x600: within the first 4 KiB, which is
	 * what an input of run-fuzz's -max_len=4096 reaches */
	for (unsigned q = 0; q < 2; q++) {
		wr32(0x030, q);
		wr32(0x038, qsize);
		wr32(0x080, 0x400 * q); wr32(0x084, 0);
		wr32(0x090, 0x400 * q + 0x100); wr32(0x094, 0);
		wr32(0x0a0, 0x400 * q + 0x200); wr32(0x0a4, 0);
		wr32(0x044, 1);
	}
	wr32(0x070, 0xf);
	for (unsigned i = 0; i < offer; i++) {
		memset(rbuf, 0, NET_HDR_BYTES);
		memset(rbuf + NET_HDR_BYTES, 0xff, 6);
		if (send(sv[1], rbuf, NET_HDR_BYTES + 60 + 1400 * i, MSG_DONTWAIT) < 0)
			break;
	}
	for (unsigned r = 0; r < rounds; r++) {
		wr32(0x050, 1);
		wr32(0x050, 0);
		virtio_dev_poll(&dev, 0);
	}
	/* receiveq: the device holds (pooled) no more chains than it took,
	 * and returned no more than that */
	const struct virtq *rq = &dev.vq[0];
	if (rq->ready)
		must((uint16_t)(rq->last_avail_idx - rq->used_idx) <= rq->size);
	uint32_t max = net_max_frame(dev.driver_features, nic.mtu);
	ssize_t n;
	while ((n = recv(sv[1], rbuf, sizeof(rbuf), MSG_DONTWAIT)) >= 0)
		must(n >= NET_HDR_BYTES + NET_ETH_HLEN && (size_t)n <= NET_HDR_BYTES + max);
	while (recv(sv[0], rbuf, sizeof(rbuf), MSG_DONTWAIT) >= 0)
		;	/* what the device did not take */
	wr32(0x070, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_device(data + 1, size - 1);
	else
		fuzz_parse(data + 1, size - 1);
	return 0;
}
