/*
 * virtio-net.h: the pure parts of kxl's virtio-net device (virtio-net.c),
 * exposed for its unit tests and its fuzz target: the check of a transmit
 * chain (the virtio-net header copied out of guest memory once and checked
 * on the copy against the negotiated features and the frame size limits),
 * the receive space gathered before a read with MRG_RXBUF, and the token
 * bucket that enforces xl's rate= on the guest's transmit
 * direction. Neither touches a tap or writes guest memory.
 */
#ifndef KXL_VMM_VIRTIO_NET_H
#define KXL_VMM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/virtio.h"

/* virtio 1.2, 5.1.3 */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16

#define VIRTIO_NET_S_LINK_UP		1

/* struct virtio_net_hdr_v1 (5.1.6): what precedes every frame on both
 * queues, and on the tap (TUNSETVNETHDRSZ). */
#define NET_HDR_BYTES			12
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_ECN		0x80

#define NET_ETH_HLEN			14
#define NET_VLAN_HLEN			4
/* The largest frame of a GSO packet: 64 KiB of IP and an Ethernet header
 * with a VLAN tag. */
#define NET_GSO_MAX_FRAME		(65536 + NET_ETH_HLEN + NET_VLAN_HLEN)

/* The largest frame (without the virtio-net header) the guest may send
 * with these negotiated features and this MTU. */
uint32_t net_max_frame(uint64_t features, unsigned mtu);

/* The receive buffer space (header included) the device gathers before it
 * reads a frame of the tap with MRG_RXBUF: the largest frame the tap hands
 * up with these negotiated features (a GSO frame of 64 KiB with GUEST_CSUM
 * and GUEST_TSO4/6, else the MTU's) and the header. */
uint32_t net_rx_need(uint64_t features, unsigned mtu);

/* A transmit chain that passed the checks: the header as copied (sent to
 * the tap from this copy, never from guest memory again) and the frame's
 * length after it. */
struct net_tx {
	uint8_t hdr[NET_HDR_BYTES];
	uint32_t frame_len;
	const char *why;	/* a dropped chain: why (for the log) */
};

/* Checks a transmit chain (readable segments only: header, then frame).
 * Returns true (send it) or false (drop it: t->why says why). */
bool net_tx_parse(const struct virtq_elem *e, uint64_t features, unsigned mtu, struct net_tx *t);

/* The token bucket of rate=: `bytes` per `usecs`, at most one interval's
 * worth saved up, and at least NET_BUCKET_MIN_BURST (as Xen's netback, so
 * that TSO frames flow). A frame may go while the bucket holds a token; it takes
 * its length, which may leave the bucket in debt (a frame larger than the
 * bucket still goes, and the debt is paid before the next), so the long
 * run rate is exact. bytes 0: no limit. Times are CLOCK_MONOTONIC ns. */
#define NET_BUCKET_MIN_BURST	131072
struct net_bucket {
	uint64_t bytes, usecs;
	int64_t tokens;
	uint64_t last_ns;
};
void net_bucket_init(struct net_bucket *b, uint64_t bytes, uint32_t usecs, uint64_t now_ns);
/* 0 when a frame may go now, else the ns until it may. */
uint64_t net_bucket_wait(struct net_bucket *b, uint64_t now_ns);
void net_bucket_take(struct net_bucket *b, uint32_t len);

#endif
