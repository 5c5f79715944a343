/*
 * virtio-blk.h: the request parser of kxl's virtio-blk device model
 * (virtio-blk.c), exposed for its unit tests and its fuzz target. It is a
 * pure function of one descriptor chain as the virtqueue walker found it
 * (readable segments, then writable ones) and the disk's limits: it copies
 * the request header (and a discard/write-zeroes payload) out of guest
 * memory once, checks the copy, and says what to do. It never touches the
 * disk and never writes guest memory.
 */
#ifndef KXL_VMM_VIRTIO_BLK_H
#define KXL_VMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "util/qsd.h"
#include "vmm/virtio.h"

/* virtio 1.2, 5.2 */
#define VIRTIO_BLK_F_SIZE_MAX		1
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13

#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

#define VIRTIO_BLK_ID_BYTES		20
#define VIRTIO_BLK_WZ_F_UNMAP		1	/* write zeroes: the device may unmap */

#define BLK_SECTOR_SHIFT		9
#define BLK_HDR_BYTES			16
#define BLK_RANGE_BYTES			16	/* struct virtio_blk_discard_write_zeroes */
#define BLK_MAX_RANGES			16	/* max_discard_seg, max_write_zeroes_seg */
#define BLK_MAX_RANGE_SECTORS		(1u << 22)	/* 2 GiB per range */

/* What the parser checks a request against. */
struct blk_limits {
	uint64_t capacity;	/* in 512-byte sectors */
	bool readonly;		/* OUT, DISCARD and WRITE_ZEROES fail */
	bool flush;		/* FLUSH offered */
	bool discard;		/* DISCARD and WRITE_ZEROES offered */
};

struct blk_range {
	uint64_t sector;
	uint32_t sectors;
	uint32_t flags;
};

enum blk_verdict {
	BLK_DO,		/* serve it: r is filled */
	BLK_STATUS,	/* answer r->status at once (IOERR or UNSUPP), no I/O */
	BLK_BROKEN,	/* no status byte the device may write: the chain is
			 * broken, the device needs a reset */
};

/* A request as the device serves it. Data lies in the chain's readable
 * bytes [data_off, data_off + data_len) for OUT, in its writable bytes
 * [0, data_len) for IN and GET_ID. The status byte is the last writable
 * byte of the chain (*status). */
struct blk_req {
	uint32_t type;
	uint64_t sector;
	uint32_t data_off, data_len;
	uint8_t *status;
	uint8_t status_code;		/* BLK_STATUS: what to answer */
	const char *why;		/* BLK_STATUS, BLK_BROKEN: for the log */
	unsigned nr_ranges;		/* DISCARD, WRITE_ZEROES */
	struct blk_range ranges[BLK_MAX_RANGES];
};

enum blk_verdict blk_req_parse(const struct virtq_elem *e, const struct blk_limits *lim,
			       struct blk_req *r);

/* ---- images in QEMU's formats (qcow2, qcow, vhd, qed) ----
 * The parent (run.c) runs qemu-storage-daemon for such a disk for the
 * domain's life: it opens the image and exports it over NBD on a unix
 * socket in a private directory. Before each boot the parent connects
 * BLK_NBD_CONNS sockets, which the child's device gets as fds[0..]: one per
 * worker thread, each doing the NBD handshake and then one request at a
 * time. If the daemon dies, the guest's disk answers I/O errors. */
#define BLK_NBD_CONNS	4
#define BLK_NBD_EXPORT	"disk"

struct blk_qsd {
	struct qsd d;		/* the daemon (src/util/qsd.h), its directory and log */
	char *sock;		/* its NBD socket, in that directory */
};

/* Starts the daemon and waits (up to 10 s) until its socket answers.
 * Returns 0, or -1 with the cause (its own first message) in *d. */
int blk_qsd_start(const struct kxl_vmm_disk *k, struct blk_qsd *q, struct kxl_diag *d);
/* n new connections to the export; -1 with *d when the daemon is gone. */
int blk_qsd_connect(struct blk_qsd *q, const struct kxl_vmm_disk *k, int *fds, unsigned n,
		    struct kxl_diag *d);
/* Ends the daemon (SIGTERM, then SIGKILL after 5 s) and removes its files. */
void blk_qsd_stop(struct blk_qsd *q);

#endif
