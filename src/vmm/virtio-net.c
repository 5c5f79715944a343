/*
 * virtio-net.c: kxl's network device (virtio 1.2, section 5.1, device id 1)
 * on a tap that the parent created (src/vmm/net-host.c) and passed as
 * fds[0] of the device's struct kxl_vmm_vdev, with its struct kxl_vmm_nic
 * as cfg: receiveq 0 and transmitq 1, no control queue.
 *
 * Frames go between guest memory and the tap without a copy: the tap speaks
 * the same 12-byte virtio_net_hdr_v1 (TUNSETVNETHDRSZ, set by the parent),
 * so a receive is one readv() of the tap straight into the guest's buffers
 * and a transmit one writev() of the guest's buffers, behind the header
 * that the device copied out once and checked (net_tx_parse). The
 * offloads the driver accepts are set on the tap (TUNSETOFFLOAD): with
 * GUEST_CSUM/GUEST_TSO4/GUEST_TSO6/GUEST_ECN the host hands partially
 * checksummed and 64 KiB GSO frames up unsegmented; CSUM and HOST_TSO4/6/
 * ECN let the guest send them down. MAC, MTU and link status (always up)
 * are in the configuration space.
 *
 * Receive buffers (5.1.6.3, 5.1.6.4): with VIRTIO_NET_F_MRG_RXBUF (which
 * Linux takes, posting buffers of one descriptor of 1.5-4 KiB each) a frame
 * is spread over as many chains as it needs. The tap cannot say a frame's
 * length before it is read, so the device keeps the chains it popped, in
 * ring order, in a pool (their writable segments one after the other in
 * one iovec array) and reads the tap only once the pool holds the largest
 * frame the tap may hand up (64 KiB + headers with GUEST_TSO, the MTU's
 * frame otherwise), or every descriptor of the queue, or as many segments
 * as one readv() takes: one readv() straight into all of them, a used ring
 * entry per chain the frame took, num_buffers in the first chain's
 * header, and one used index update for the frame. The chains it did not
 * take stay in the pool for the next frame. Without MRG_RXBUF each frame
 * goes into one chain (num_buffers 1), and Linux posts "big" buffers of
 * 64 KiB + header when it takes GUEST_TSO. The header is the 12-byte
 * virtio_net_hdr_v1 either way (VERSION_1 is required). A frame larger
 * than what the pool offers is dropped and counted; the chains are reused
 * (a read of the tap says no more than its buffers took, so one byte of
 * the device's own after the guest's buffers tells such a frame).

 * Receive is driven by the tap's readability (the device thread's watched
 * fd), and only while the driver has posted buffers: with none, the device
 * stops watching the tap (frames wait in the tap's queue, or the host
 * drops them) until the driver notifies receiveq. Transmit is driven by
 * the queue's ioeventfd. rate= is a token bucket on transmit (net_bucket:
 * as Xen's netback credit and Firecracker's rate limiter): when it is
 * empty, transmit waits on the device's timer.
 *
 * The guest is hostile: chains are walked by virtq_pop (bounded, checked);
 * a transmit chain with a bad header, of a frame shorter than an Ethernet
 * header or longer than the MTU (64 KiB with TSO) allows, or with
 * device-writable parts, is dropped and logged (rate-limited); a receive
 * chain that cannot even hold the header breaks the device (DEVICE_NEEDS_
 * RESET); a frame larger than the receive chains is dropped (and the chains
 * reused for the next one); the device never takes more chains than the
 * driver made available, nor returns more than it took. Every loop is bounded by a batch size, so a
 * busy queue never starves the other.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"
#include "vmm/priv.h"
#include "vmm/virtio-net.h"
#include "vmm/virtio.h"

#define RXQ		0
#define TXQ		1
#define NET_QUEUE_MAX	256
#define NET_BATCH	64	/* frames per queue and round of the device thread */
#define NET_CONFIG_SIZE	12	/* mac[6], status, max_virtqueue_pairs, mtu */

#define NET_FEATURES (VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | \
		      VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_NET_F_MAC) | \
		      VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) | \
		      VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | \
		      VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) | VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN) | \
		      VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF))
#define NET_RX_IOV_MAX	1024	/* UIO_MAXIOV: the segments one readv() takes */

/* ---- the pure parts (virtio-net.h) ---- */

uint32_t net_max_frame(uint64_t features, unsigned mtu)
{
	if (features & (VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6)))
		return NET_GSO_MAX_FRAME;
	return mtu + NET_ETH_HLEN + NET_VLAN_HLEN;
}

static bool drop(struct net_tx *t, const char *why)
{
	t->why = why;
	return false;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

bool net_tx_parse(const struct virtq_elem *e, uint64_t features, unsigned mtu, struct net_tx *t)
{
	t->why = NULL;
	t->frame_len = 0;
	if (e->write_len)
		return drop(t, "a transmit chain with device-writable buffers");
	if (e->read_len < NET_HDR_BYTES)
		return drop(t, "a transmit chain shorter than the virtio-net header");
	if (virtq_read(e, 0, t->hdr, NET_HDR_BYTES) != NET_HDR_BYTES)	/* the one copy */
		return drop(t, "a virtio-net header that cannot be read");
	uint32_t len = e->read_len - NET_HDR_BYTES;
	if (len < NET_ETH_HLEN)
		return drop(t, "a frame shorter than an Ethernet header");
	if (len > net_max_frame(features, mtu))
		return drop(t, "a frame larger than the MTU (or 64 KiB with TSO) allows");
	uint8_t flags = t->hdr[0], gso = t->hdr[1];
	uint16_t gso_size = le16(t->hdr + 4);
	uint16_t csum_start = le16(t->hdr + 6), csum_offset = le16(t->hdr + 8);
	if (flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return drop(t, "header flags the driver may not set");
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(features & VIRTIO_BIT(VIRTIO_NET_F_CSUM)))
			return drop(t, "a partial checksum, but CSUM was not negotiated");
		if ((uint32_t)csum_start + csum_offset + 2 > len)
			return drop(t, "a checksum position beyond the frame");
	}
	if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !(features & VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN)))
		return drop(t, "a GSO ECN frame, but HOST_ECN was not negotiated");
	switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (gso & VIRTIO_NET_HDR_GSO_ECN)
			return drop(t, "the ECN bit without a GSO type");
		if (len > mtu + NET_ETH_HLEN + NET_VLAN_HLEN)
			return drop(t, "a frame larger than the MTU without GSO");
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!(features & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4)))
			return drop(t, "a TCPv4 GSO frame, but HOST_TSO4 was not negotiated");
		goto gso_common;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!(features & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6)))
			return drop(t, "a TCPv6 GSO frame, but HOST_TSO6 was not negotiated");
	gso_common:
		if (!(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
			return drop(t, "a GSO frame without a partial checksum");
		if (!gso_size)
			return drop(t, "a GSO frame with a segment size of 0");
		break;
	default:
		return drop(t, "a GSO type that kxl does not offer");
	}
	t->hdr[10] = t->hdr[11] = 0;	/* num_buffers: the device's field */
	t->frame_len = len;
	return true;
}

uint32_t net_rx_need(uint64_t features, unsigned mtu)
{
	/* as tap_offloads(): the host hands up GSO frames only with GUEST_CSUM */
	uint64_t tso = VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6);
	if ((features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)) && (features & tso))
		return NET_HDR_BYTES + NET_GSO_MAX_FRAME;
	return NET_HDR_BYTES + mtu + NET_ETH_HLEN + NET_VLAN_HLEN;
}

/* What the bucket holds at most: one interval's worth, but never less than
 * NET_BUCKET_MIN_BURST (as Xen's netback: a smaller bucket than two 64 KiB
 * TSO frames makes every frame wait, and the guest's TCP, which keeps only
 * a frame or two queued, then falls far below the rate). */
static int64_t bucket_cap(const struct net_bucket *b)
{
	uint64_t c = b->bytes < NET_BUCKET_MIN_BURST ? NET_BUCKET_MIN_BURST : b->bytes;
	return c > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)c;
}

void net_bucket_init(struct net_bucket *b, uint64_t bytes, uint32_t usecs, uint64_t now_ns)
{
	b->bytes = usecs ? bytes : 0;
	b->usecs = usecs;
	b->tokens = bucket_cap(b);
	b->last_ns = now_ns;
}

static void bucket_refill(struct net_bucket *b, uint64_t now)
{
	if (now <= b->last_ns)
		return;
	int64_t cap = bucket_cap(b);
	uint64_t per = b->usecs * 1000;		/* ns of one interval */
	uint64_t dt = now - b->last_ns;
	if (dt / 4 >= per && (unsigned __int128)dt * b->bytes >= (unsigned __int128)4 * cap * per) {
		/* long idle: certainly full (even from the deepest debt, one
		 * frame of at most 64 KiB below an empty bucket) */
		b->tokens = cap;
		b->last_ns = now;
		return;
	}
	unsigned __int128 add = (unsigned __int128)dt * b->bytes / per;
	if (!add)
		return;
	/* keep the remainder of a partial token for the next refill */
	b->last_ns += (uint64_t)((add * per) / b->bytes);
	if (add >= (unsigned __int128)(cap - b->tokens))
		b->tokens = cap;
	else
		b->tokens += (int64_t)add;
}

uint64_t net_bucket_wait(struct net_bucket *b, uint64_t now_ns)
{
	if (!b->bytes)
		return 0;
	bucket_refill(b, now_ns);
	if (b->tokens > 0)
		return 0;
	/* ns until the bucket holds one token */
	unsigned __int128 need = (unsigned __int128)(uint64_t)(1 - b->tokens) * (b->usecs * 1000);
	uint64_t ns = (uint64_t)((need + b->bytes - 1) / b->bytes);
	return ns ? ns : 1;
}

void net_bucket_take(struct net_bucket *b, uint32_t len)
{
	if (b->bytes)
		b->tokens -= len;
}

/* ---- the device ---- */

struct net {
	struct virtio_dev *dev;
	const struct kxl_vmm_nic *cfg;
	int tap;
	uint8_t config[NET_CONFIG_SIZE];
	struct net_bucket bucket;
	bool rx_wait;		/* watching the tap for input (the driver has buffers) */
	bool tx_blocked;	/* the tap refused a frame for now: watching for room */
	bool tx_throttled;	/* the bucket is empty: the timer runs */
	struct virtq_elem elem;
	struct iovec iov[VIRTQ_MAX_SIZE + 1];
	/* receive chains popped and not yet used, in ring order; their
	 * writable segments one after the other in rx_iov */
	struct rx_chain {
		uint16_t head;
		uint16_t niov;
		uint16_t descs;		/* of the queue's table */
		uint32_t len;		/* writable bytes */
	} rx[NET_QUEUE_MAX];
	struct iovec rx_iov[NET_RX_IOV_MAX];
	unsigned rx_n, rx_niov;
	unsigned rx_descs;		/* sum of rx[].descs */
	uint64_t rx_bytes;		/* sum of rx[].len */
	uint8_t rx_sink;		/* a frame's byte beyond them: too large */
	uint64_t rx_dropped;		/* frames too large for the buffers, or runts */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void net_log(struct virtio_dev *d, const char *what, const char *why)
{
	if (d->vm)
		vmm_log_limited(d->vm, "virtio-net %s: %s: %s\n", d->id, what, why);
}

static void watch(struct virtio_dev *d)
{
	struct net *n = d->priv;
	short ev = (short)((n->rx_wait ? POLLIN : 0) | (n->tx_blocked ? POLLOUT : 0));
	virtio_dev_watch(d, n->tap, ev);
}

static void rx_forget(struct net *n)
{
	n->rx_n = n->rx_niov = n->rx_descs = 0;
	n->rx_bytes = 0;
}

/* Pops receive chains into the pool until a frame may be read: one chain
 * without MRG_RXBUF; with it, chains until they hold `need` bytes, every
 * descriptor of the queue (a driver that can never post `need` bytes gets
 * its frames once it has posted all it can), or a readv()'s worth of
 * segments. Returns 1 (read), 0 (the
 * driver must post more first) or -1 (the device broke). */
static int rx_fill(struct virtio_dev *d, struct net *n, bool mrg, uint32_t need)
{
	struct virtq *q = &d->vq[RXQ];
	while (!n->rx_n || (mrg && n->rx_bytes < need && n->rx_descs < q->size &&
			    n->rx_n < NET_QUEUE_MAX)) {
		int got = virtq_pop(q, &n->elem);
		if (got < 0)
			return -1;	/* broken: the transport stopped the device */
		if (got == 0)
			return 0;
		const struct virtq_elem *e = &n->elem;
		if (e->write_len < NET_HDR_BYTES) {
			virtio_dev_fail(d, "%s: a receive buffer of %u bytes cannot hold the "
					"%u-byte virtio-net header", d->id, e->write_len, NET_HDR_BYTES);
			return -1;
		}
		unsigned w = e->nr_segs - e->nr_read;
		if (n->rx_niov + w > NET_RX_IOV_MAX - 1) {	/* the sink is the last */
			virtq_unpop(q);	/* the next frame's (rx_n > 0 here) */
			break;
		}
		for (unsigned s = e->nr_read; s < e->nr_segs; s++)
			n->rx_iov[n->rx_niov++] = (struct iovec){ .iov_base = e->seg[s].hva,
								  .iov_len = e->seg[s].len };
		n->rx[n->rx_n++] = (struct rx_chain){ .head = e->head, .niov = (uint16_t)w,
						      .descs = (uint16_t)e->ring_descs,
						      .len = e->write_len };
		n->rx_bytes += e->write_len;
		n->rx_descs += e->ring_descs;
	}
	return 1;
}

/* Writes into the pool's segments at byte `off` (within the first chain). */
static void rx_put(struct net *n, size_t off, const void *src, size_t len)
{
	const uint8_t *p = src;
	for (unsigned i = 0; i < n->rx[0].niov && len; i++) {
		struct iovec *v = &n->rx_iov[i];
		if (off >= v->iov_len) {
			off -= v->iov_len;
			continue;
		}
		size_t k = v->iov_len - off < len ? v->iov_len - off : len;
		memcpy((uint8_t *)v->iov_base + off, p, k);
		p += k;
		len -= k;
		off = 0;
	}
}

/* Frames from the tap into the driver's receive buffers. */
static void net_rx(struct virtio_dev *d)
{
	struct net *n = d->priv;
	struct virtq *q = &d->vq[RXQ];
	bool mrg = d->driver_features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	uint32_t need = net_rx_need(d->driver_features, n->cfg->mtu);
	bool pushed = false;

	n->rx_wait = true;
	for (unsigned k = 0; k < NET_BATCH && d->active && q->ready; k++) {
		int f = rx_fill(d, n, mrg, need);
		if (f < 0)
			return;
		if (f == 0) {
			n->rx_wait = false;	/* until the driver notifies receiveq */
			break;
		}
		/* a tap's read (as a socket's) says no more than the buffers
		 * took: one byte of the device's own after them tells a frame
		 * that did not fit */
		n->rx_iov[n->rx_niov] = (struct iovec){ .iov_base = &n->rx_sink, .iov_len = 1 };
		ssize_t r = readv(n->tap, n->rx_iov, (int)n->rx_niov + 1);
		if (r < 0) {
			int err = errno;
			if (err == EINTR)
				continue;
			if (err == EAGAIN)
				break;
			if (err == EINVAL || err == EFAULT || err == EMSGSIZE) {
				/* the host could not hand this frame over (e.g. an
				 * offload the header cannot say): it is gone, the
				 * chains are reused */
				n->rx_dropped++;
				net_log(d, "dropped a frame of the host", strerror(err));
				continue;
			}
			net_log(d, "cannot read the tap", strerror(err));
			n->rx_wait = false;	/* not again until the driver notifies */
			break;
		}
		if ((size_t)r < NET_HDR_BYTES + NET_ETH_HLEN || (uint64_t)r > n->rx_bytes) {
			/* a runt, or a frame larger than the buffers (it reached
			 * the sink; its length is unknown): lost, the chains are
			 * reused */
			n->rx_dropped++;
			if ((uint64_t)r > n->rx_bytes && d->vm)
				vmm_log_limited(d->vm, "virtio-net %s: dropped a received frame "
						"larger than the driver's receive buffers (%llu bytes; "
						"%llu frames dropped so far)\n", d->id,
						(unsigned long long)n->rx_bytes,
						(unsigned long long)n->rx_dropped);
			continue;
		}
		/* the chains the frame took, each with what it holds of it */
		uint32_t left = (uint32_t)r;
		unsigned used = 0, niov = 0;
		while (left) {
			uint32_t l = n->rx[used].len < left ? n->rx[used].len : left;
			virtq_fill(q, used, n->rx[used].head, l);
			niov += n->rx[used].niov;
			left -= l;
			used++;
		}
		/* num_buffers (1 without MRG_RXBUF: one chain per frame) */
		uint8_t nb[2] = { (uint8_t)used, (uint8_t)(used >> 8) };
		rx_put(n, 10, nb, sizeof(nb));
		if (!(d->driver_features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM))) {
			/* 5.1.6.3.1: flags 0 for a driver without GUEST_CSUM (the
			 * host may say DATA_VALID; the frame is fully checksummed) */
			static const uint8_t zero;
			rx_put(n, 0, &zero, 1);
		}
		virtq_flush(q, used);
		pushed = true;
		for (unsigned i = 0; i < used; i++) {
			n->rx_bytes -= n->rx[i].len;
			n->rx_descs -= n->rx[i].descs;
		}
		n->rx_n -= used;
		n->rx_niov -= niov;
		memmove(n->rx, n->rx + used, n->rx_n * sizeof(n->rx[0]));
		memmove(n->rx_iov, n->rx_iov + niov, n->rx_niov * sizeof(n->rx_iov[0]));
	}
	if (pushed)
		virtio_notify_used(d, q);
}

/* Frames of the driver's transmit chains to the tap. */
static void net_tx(struct virtio_dev *d)
{
	struct net *n = d->priv;
	struct virtq *q = &d->vq[TXQ];
	bool pushed = false, more = false;
	unsigned mtu = n->cfg->mtu;

	if (n->tx_blocked || n->tx_throttled)
		return;
	for (unsigned k = 0; d->active && q->ready; k++) {
		if (k == NET_BATCH) {
			more = true;	/* the rest after a round of the other queue */
			break;
		}
		uint64_t wait = net_bucket_wait(&n->bucket, mono_ns());
		if (wait) {
			/* look again when the bucket holds a token, also with the
			 * ring empty now: with EVENT_IDX the driver notifies only
			 * after a pop that found the ring empty (avail_event),
			 * which did not happen here */
			n->tx_throttled = true;
			virtio_dev_timer(d, wait);
			break;
		}
		int got = virtq_pop(q, &n->elem);
		if (got <= 0)
			break;
		struct net_tx t;
		if (!net_tx_parse(&n->elem, d->driver_features, mtu, &t)) {
			net_log(d, "dropped a frame of the guest", t.why);
			virtq_push(q, &n->elem, 0);
			pushed = true;
			continue;
		}
		/* the checked header, then the frame straight from guest memory */
		unsigned niov = 0;
		n->iov[niov++] = (struct iovec){ .iov_base = t.hdr, .iov_len = NET_HDR_BYTES };
		uint32_t skip = NET_HDR_BYTES;
		for (unsigned s = 0; s < n->elem.nr_read; s++) {
			const struct virtq_seg *g = &n->elem.seg[s];
			if (skip >= g->len) {
				skip -= g->len;
				continue;
			}
			n->iov[niov++] = (struct iovec){ .iov_base = g->hva + skip, .iov_len = g->len - skip };
			skip = 0;
		}
		ssize_t r;
		do
			r = writev(n->tap, n->iov, (int)niov);
		while (r < 0 && errno == EINTR);
		if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			virtq_unpop(q);
			n->tx_blocked = true;
			watch(d);
			break;
		}
		if (r < 0) {
			/* e.g. EINVAL: the host refused the frame (the kernel checks
			 * the header again); EIO: the tap is down */
			net_log(d, "the host refused a frame of the guest", strerror(errno));
		}
		net_bucket_take(&n->bucket, t.frame_len);
		virtq_push(q, &n->elem, 0);
		pushed = true;
	}
	if (pushed)
		virtio_notify_used(d, q);
	if (more)
		virtio_dev_wake(d);
}

static void net_notify(struct virtio_dev *d, struct virtq *q)
{
	if (q->idx == TXQ) {
		net_tx(d);
	} else {
		/* new receive buffers: take what waits in the tap now, and
		 * watch it again */
		net_rx(d);
		watch(d);
	}
}

static void net_fd_event(struct virtio_dev *d, int fd, short revents)
{
	struct net *n = d->priv;
	if (revents & POLLOUT) {
		n->tx_blocked = false;
		net_tx(d);
	}
	if (revents & POLLIN)
		net_rx(d);
	if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		net_log(d, "the tap", "reports an error or hang-up; the device stops using it");
		n->rx_wait = n->tx_blocked = false;
	}
	watch(d);
}

static void net_timer(struct virtio_dev *d)
{
	struct net *n = d->priv;
	n->tx_throttled = false;
	net_tx(d);
}

static void net_wake(struct virtio_dev *d)
{
	net_tx(d);
	net_rx(d);
	watch(d);
}

/* The host hands up what the guest accepted (TUNSETOFFLOAD): checksums
 * left partial, TCP segments of up to 64 KiB. */
static unsigned tap_offloads(uint64_t f)
{
	unsigned o = 0;
	if (f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)) {
		o |= TUN_F_CSUM;
		if (f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4))
			o |= TUN_F_TSO4;
		if (f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6))
			o |= TUN_F_TSO6;
		if ((o & (TUN_F_TSO4 | TUN_F_TSO6)) && (f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN)))
			o |= TUN_F_TSO_ECN;
	}
	return o;
}

static int net_activate(struct virtio_dev *d)
{
	struct net *n = d->priv;
	unsigned off = tap_offloads(d->driver_features);
	/* ENOTTY: not a tap (a socketpair in the tests): no offloads to set */
	if (ioctl(n->tap, TUNSETOFFLOAD, (unsigned long)off) < 0 && errno != ENOTTY) {
		net_log(d, "TUNSETOFFLOAD", strerror(errno));
		return -1;
	}
	net_bucket_init(&n->bucket, n->cfg->rate_bytes, n->cfg->rate_usecs, mono_ns());
	rx_forget(n);
	n->rx_wait = true;
	n->tx_blocked = n->tx_throttled = false;
	watch(d);
	return 0;
}

static void net_reset(struct virtio_dev *d)
{
	struct net *n = d->priv;
	/* a next driver may take fewer offloads: none until it does */
	if (ioctl(n->tap, TUNSETOFFLOAD, 0UL) < 0 && errno != ENOTTY)
		net_log(d, "TUNSETOFFLOAD", strerror(errno));
	n->rx_wait = n->tx_blocked = n->tx_throttled = false;
	rx_forget(n);	/* the driver's chains are its own again */
}

static void net_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, unsigned len)
{
	struct net *n = d->priv;
	if (off <= sizeof(n->config) && len <= sizeof(n->config) - off)
		memcpy(data, n->config + off, len);
	else
		memset(data, 0, len);
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = NET_FEATURES,
	.nr_queues = 2,
	.queue_max = NET_QUEUE_MAX,
	.config_size = NET_CONFIG_SIZE,
	.config_read = net_config_read,
	.activate = net_activate,
	.notify = net_notify,
	.fd_event = net_fd_event,
	.timer = net_timer,
	.wake = net_wake,
	.reset = net_reset,
};

/* The create hook (child, before seccomp). */
static int net_create(struct virtio_dev *d, const struct kxl_vmm_vdev *v, struct kxl_diag *diag)
{
	const struct kxl_vmm_nic *cfg = v->cfg;
	int fd = v->fds[0];
	const char *id = v->id ? v->id : "?";
	if (!cfg || fd < 0)
		return kxl_err(diag, "virtio-net %s: no tap was opened for it", id);
	if (cfg->mtu < 68 || cfg->mtu > 65535)
		return kxl_err(diag, "virtio-net %s: MTU %u is out of range (68-65535)", id, cfg->mtu);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return kxl_err(diag, "virtio-net %s: the tap: %s", id, strerror(errno));
	/* a restarted domain's tap may still carry its last driver's offloads */
	if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0 && errno != ENOTTY)
		return kxl_err(diag, "virtio-net %s: TUNSETOFFLOAD: %s", id, strerror(errno));
	struct net *n = xcalloc(1, sizeof(*n));
	n->dev = d;
	n->cfg = cfg;
	n->tap = fd;
	memcpy(n->config, cfg->mac, 6);
	uint16_t status = VIRTIO_NET_S_LINK_UP, pairs = 1, mtu = (uint16_t)cfg->mtu;
	memcpy(n->config + 6, &status, 2);
	memcpy(n->config + 8, &pairs, 2);
	memcpy(n->config + 10, &mtu, 2);
	d->priv = n;
	return 0;
}

const struct virtio_kind virtio_net_kind = {
	.type = KXL_VDEV_NET,
	.ops = &net_ops,
	.create = net_create,
};
