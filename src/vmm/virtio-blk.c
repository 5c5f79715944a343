/*
 * virtio-blk.c: kxl's block device (virtio 1.2, section 5.2) for a raw
 * image file or a block device that the parent opened (the disk's fd in
 * kxl_vmm_vdev.fds[0], its description a struct kxl_vmm_disk), or for an
 * image in one of QEMU's formats (qcow2, qcow, vhd, qed) that a
 * qemu-storage-daemon run by the parent exports over NBD (one connection
 * per worker in fds[0..3]; the helpers that run the daemon are at the end
 * of this file, on src/util/qsd.c). Never a format reader of its own.
 *
 * The device thread (virtio-mmio.c) pops each chain, parses the request
 * (blk_req_parse: the header and any discard ranges copied out once and
 * checked on the copy) and hands it to a small pool of worker threads,
 * which do the I/O straight between the disk and guest memory with
 * preadv/pwritev at the request's offset (or NBD requests, read into and
 * sent from guest memory directly), write the status byte and return
 * the chain: several requests are in flight at once, none on a vCPU
 * thread. FLUSH is fdatasync, so what the guest synced survives a host
 * crash; DISCARD punches a hole and WRITE_ZEROES zeroes a range with
 * fallocate (offered unless the spec says no-discard); GET_ID returns the
 * xl vdev ("xvda"), so the guest has /dev/disk/by-id/virtio-xvda. A
 * read-only disk (access=ro, devtype=cdrom) is opened O_RDONLY, offers
 * VIRTIO_BLK_F_RO and answers every write with IOERR. SEG_MAX and SIZE_MAX
 * let Linux send large multi-segment requests.
 *
 * The guest is hostile: a malformed request is answered IOERR (or UNSUPP
 * for an unknown type); a chain without a status byte the device may write
 * puts the device into DEVICE_NEEDS_RESET. A reset waits until the workers
 * have returned every chain they hold, so nothing touches the old queue
 * after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/util.h"
#include "vmm/priv.h"
#include "vmm/virtio-blk.h"
#include "vmm/virtio.h"

#define BLK_QUEUE_MAX	256
#define BLK_SEG_MAX	(BLK_QUEUE_MAX - 2)	/* data segments per request */
#define BLK_SIZE_MAX	(4u << 20)		/* bytes per segment */
#define BLK_WORKERS	4
#define BLK_JOBS	32			/* requests in flight */
#define BLK_CONFIG_SIZE	60			/* up to write_zeroes_may_unmap */

/* ---- the request parser ---- */

static enum blk_verdict answer(struct blk_req *r, uint8_t code, const char *why)
{
	r->status_code = code;
	r->why = why;
	return BLK_STATUS;
}

static bool range_ok(uint64_t sector, uint64_t sectors, uint64_t capacity)
{
	return sector <= capacity && sectors <= capacity - sector;
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

enum blk_verdict blk_req_parse(const struct virtq_elem *e, const struct blk_limits *lim,
			       struct blk_req *r)
{
	memset(r, 0, offsetof(struct blk_req, ranges));
	/* The status byte is the chain's last writable byte; the walker puts
	 * the writable segments last. */
	if (!e->write_len || !e->nr_segs || e->nr_segs > VIRTQ_MAX_SIZE ||
	    !e->seg[e->nr_segs - 1].write || !e->seg[e->nr_segs - 1].len) {
		r->why = "a request without a status byte the device may write";
		return BLK_BROKEN;
	}
	const struct virtq_seg *last = &e->seg[e->nr_segs - 1];
	r->status = last->hva + last->len - 1;

	uint8_t hdr[BLK_HDR_BYTES];
	if (e->read_len < BLK_HDR_BYTES)
		return answer(r, VIRTIO_BLK_S_IOERR, "a request shorter than its 16-byte header");
	if (virtq_read(e, 0, hdr, sizeof(hdr)) != sizeof(hdr))	/* the one copy */
		return answer(r, VIRTIO_BLK_S_IOERR, "a request header that cannot be read");
	r->type = le32(hdr);
	r->sector = le64(hdr + 8);
	uint32_t rd = e->read_len - BLK_HDR_BYTES;	/* readable bytes after the header */
	uint32_t wr = e->write_len - 1;			/* writable bytes before the status */

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		if (rd)
			return answer(r, VIRTIO_BLK_S_IOERR, "a read with device-readable data");
		if (wr & 511)
			return answer(r, VIRTIO_BLK_S_IOERR, "a read whose length is not a multiple of 512");
		if (!range_ok(r->sector, wr >> BLK_SECTOR_SHIFT, lim->capacity))
			return answer(r, VIRTIO_BLK_S_IOERR, "a read beyond the end of the disk");
		r->data_len = wr;
		return BLK_DO;
	case VIRTIO_BLK_T_OUT:
		if (lim->readonly)
			return answer(r, VIRTIO_BLK_S_IOERR, NULL);	/* the guest was told: not logged */
		if (wr)
			return answer(r, VIRTIO_BLK_S_IOERR, "a write with device-writable data");
		if (rd & 511)
			return answer(r, VIRTIO_BLK_S_IOERR, "a write whose length is not a multiple of 512");
		if (!range_ok(r->sector, rd >> BLK_SECTOR_SHIFT, lim->capacity))
			return answer(r, VIRTIO_BLK_S_IOERR, "a write beyond the end of the disk");
		r->data_off = BLK_HDR_BYTES;
		r->data_len = rd;
		return BLK_DO;
	case VIRTIO_BLK_T_FLUSH:
		if (!lim->flush)
			return answer(r, VIRTIO_BLK_S_UNSUPP, "a flush, which was not offered");
		if (rd || wr)
			return answer(r, VIRTIO_BLK_S_IOERR, "a flush with data");
		return BLK_DO;
	case VIRTIO_BLK_T_GET_ID:
		if (rd || !wr)
			return answer(r, VIRTIO_BLK_S_IOERR, "a GET_ID without room for the id");
		r->data_len = wr < VIRTIO_BLK_ID_BYTES ? wr : VIRTIO_BLK_ID_BYTES;
		return BLK_DO;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		if (!lim->discard)
			return answer(r, VIRTIO_BLK_S_UNSUPP, "a discard or write-zeroes, which was not offered");
		if (lim->readonly)
			return answer(r, VIRTIO_BLK_S_IOERR, NULL);
		if (wr)
			return answer(r, VIRTIO_BLK_S_IOERR, "a discard or write-zeroes with device-writable data");
		if (!rd || rd % BLK_RANGE_BYTES || rd / BLK_RANGE_BYTES > BLK_MAX_RANGES)
			return answer(r, VIRTIO_BLK_S_IOERR, "a discard or write-zeroes with a bad range list");
		uint8_t buf[BLK_MAX_RANGES * BLK_RANGE_BYTES];
		if (virtq_read(e, BLK_HDR_BYTES, buf, rd) != rd)	/* the one copy */
			return answer(r, VIRTIO_BLK_S_IOERR, "a range list that cannot be read");
		r->nr_ranges = rd / BLK_RANGE_BYTES;
		for (unsigned i = 0; i < r->nr_ranges; i++) {
			struct blk_range *g = &r->ranges[i];
			const uint8_t *p = buf + i * BLK_RANGE_BYTES;
			g->sector = le64(p);
			g->sectors = le32(p + 8);
			g->flags = le32(p + 12);
			if (g->flags & ~(uint32_t)VIRTIO_BLK_WZ_F_UNMAP ||
			    (r->type == VIRTIO_BLK_T_DISCARD && g->flags))
				return answer(r, VIRTIO_BLK_S_UNSUPP, "a range with reserved flags set");
			if (g->sectors > BLK_MAX_RANGE_SECTORS)
				return answer(r, VIRTIO_BLK_S_IOERR, "a range longer than max_discard_sectors");
			if (!range_ok(g->sector, g->sectors, lim->capacity))
				return answer(r, VIRTIO_BLK_S_IOERR, "a range beyond the end of the disk");
		}
		return BLK_DO;
	}
	default:
		return answer(r, VIRTIO_BLK_S_UNSUPP, NULL);	/* e.g. GET_LIFETIME: not offered */
	}
}

/* ---- the device ---- */

struct blk_job {
	struct blk_job *next;
	struct virtq *q;
	uint16_t head;
	uint32_t write_len;	/* of the chain */
	struct blk_req req;
	unsigned niov;
	struct iovec iov[BLK_SEG_MAX + 2];
};

struct blk;

/* A worker thread; with an NBD export it owns one connection. */
struct blk_worker {
	struct blk *b;
	int sock;		/* NBD: its connection, -1 once it broke */
	uint64_t handle;	/* NBD: the next request's handle */
	pthread_t thread;
};

struct blk {
	struct virtio_dev *dev;
	const struct kxl_vmm_disk *cfg;
	int fd;			/* the image (raw), or -1 (NBD) */
	bool nbd;
	uint16_t nbd_flags;	/* the export's transmission flags */
	struct blk_limits lim;
	char serial[VIRTIO_BLK_ID_BYTES];
	uint8_t config[BLK_CONFIG_SIZE];
	struct virtq_elem elem;		/* the chain being popped (device thread) */

	pthread_mutex_t lock;		/* the lists and counts below */
	pthread_cond_t work, idle;
	struct blk_job *free, *todo, *todo_tail;
	unsigned busy;			/* jobs out of the free list */
	bool starved;			/* the device thread ran out of jobs */
	pthread_mutex_t push_lock;	/* the used ring and its interrupt */
	struct blk_worker workers[BLK_WORKERS];
	struct blk_job jobs[BLK_JOBS];
};

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* The data of a request as iovecs into guest memory: bytes [off, off+len)
 * of the chain's readable (write = false) or writable segments. */
static unsigned chain_iov(const struct virtq_elem *e, bool write, uint32_t off, uint32_t len,
			  struct iovec *iov, unsigned max)
{
	unsigned n = 0;
	unsigned from = write ? e->nr_read : 0, to = write ? e->nr_segs : e->nr_read;
	for (unsigned s = from; s < to && len && n < max; s++) {
		const struct virtq_seg *g = &e->seg[s];
		if (off >= g->len) {
			off -= g->len;
			continue;
		}
		uint32_t k = g->len - off;
		if (k > len)
			k = len;
		iov[n++] = (struct iovec){ .iov_base = g->hva + off, .iov_len = k };
		len -= k;
		off = 0;
	}
	return len ? 0 : n;
}

/* preadv/pwritev to the end, through short transfers and EINTR. */
static int rw_all(int fd, struct iovec *iov, unsigned n, uint64_t off, bool write)
{
	while (n) {
		ssize_t got = write ? pwritev(fd, iov, (int)n, (off_t)off) : preadv(fd, iov, (int)n, (off_t)off);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0) {
			errno = EIO;	/* the file shrank under us */
			return -1;
		}
		off += (uint64_t)got;
		size_t g = (size_t)got;
		while (n && g >= iov->iov_len) {
			g -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + g;
			iov->iov_len -= g;
		}
	}
	return 0;
}

static int write_zeroes(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zero[64 * 1024];
	while (len) {
		struct iovec v = { .iov_base = (void *)zero, .iov_len = len < sizeof(zero) ? len : sizeof(zero) };
		if (rw_all(fd, &v, 1, off, true) < 0)
			return -1;
		off += sizeof(zero) < len ? sizeof(zero) : len;
		len -= sizeof(zero) < len ? sizeof(zero) : len;
	}
	return 0;
}

/* Serves one range of a discard (advisory: a file system that cannot punch
 * holes just keeps the data) or of a write-zeroes (must read back zero). */
static int do_range(struct blk *b, uint32_t type, const struct blk_range *g)
{
	off_t off = (off_t)(g->sector << BLK_SECTOR_SHIFT), len = (off_t)((uint64_t)g->sectors << BLK_SECTOR_SHIFT);
	if (!len)
		return 0;
	if (type == VIRTIO_BLK_T_DISCARD) {
		if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) < 0 &&
		    errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
			return -1;
		return 0;
	}
	int mode = g->flags & VIRTIO_BLK_WZ_F_UNMAP ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE :
		   FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	if (fallocate(b->fd, mode, off, len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return -1;
	return write_zeroes(b->fd, (uint64_t)off, (uint64_t)len);
}

/* ---- NBD (an export of qemu-storage-daemon) ----
 * The fixed newstyle handshake with NBD_OPT_GO, then simple replies: one
 * request at a time per connection (NBD protocol, "proto.md"). Big-endian
 * on the wire. */
#define NBD_MAGIC		0x4e42444d41474943ULL	/* "NBDMAGIC" */
#define NBD_IHAVEOPT		0x49484156454f5054ULL	/* "IHAVEOPT" */
#define NBD_REPLY_OPT_MAGIC	0x0003e889045565a9ULL
#define NBD_FLAG_FIXED_NEWSTYLE	1
#define NBD_FLAG_NO_ZEROES	2
#define NBD_OPT_GO		7
#define NBD_REP_ACK		1
#define NBD_REP_INFO		3
#define NBD_INFO_EXPORT		0
#define NBD_TF_READ_ONLY	(1 << 1)
#define NBD_TF_SEND_FLUSH	(1 << 2)
#define NBD_TF_SEND_TRIM	(1 << 5)
#define NBD_TF_SEND_WRITE_ZEROES (1 << 6)
#define NBD_REQUEST_MAGIC	0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC	0x67446698u
#define NBD_CMD_READ		0
#define NBD_CMD_WRITE		1
#define NBD_CMD_FLUSH		3
#define NBD_CMD_TRIM		4
#define NBD_CMD_WRITE_ZEROES	6
#define NBD_CMD_FLAG_NO_HOLE	(1 << 1)
#define NBD_MAX_CHUNK		(4u << 20)	/* bytes per NBD request (servers take 32 MiB) */

static void be16put(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void be32put(uint8_t *p, uint32_t v) { be16put(p, (uint16_t)(v >> 16)); be16put(p + 2, (uint16_t)v); }
static void be64put(uint8_t *p, uint64_t v) { be32put(p, (uint32_t)(v >> 32)); be32put(p + 4, (uint32_t)v); }
static uint16_t be16get(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32get(const uint8_t *p) { return (uint32_t)be16get(p) << 16 | be16get(p + 2); }
static uint64_t be64get(const uint8_t *p) { return (uint64_t)be32get(p) << 32 | be32get(p + 4); }

/* readv/sendmsg to the end (no SIGPIPE when the daemon is gone); -1 on an
 * error or the peer's end. */
static int sock_all(int fd, struct iovec *iov, unsigned n, bool write)
{
	while (n) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t got = write ? sendmsg(fd, &m, MSG_NOSIGNAL) : readv(fd, iov, (int)n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		size_t g = (size_t)got;
		while (n && g >= iov->iov_len) {
			g -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + g;
			iov->iov_len -= g;
		}
	}
	return 0;
}

static int sock_buf(int fd, void *p, size_t len, bool write)
{
	struct iovec v = { .iov_base = p, .iov_len = len };
	return sock_all(fd, &v, 1, write);
}

/* The handshake on one connection: the export's size and flags. */
static int nbd_handshake(int fd, uint64_t *size, uint16_t *flags, const char **why)
{
	uint8_t b[64];
	*why = "the server's greeting is not NBD fixed newstyle";
	if (sock_buf(fd, b, 18, false) || be64get(b) != NBD_MAGIC || be64get(b + 8) != NBD_IHAVEOPT ||
	    !(be16get(b + 16) & NBD_FLAG_FIXED_NEWSTYLE))
		return -1;
	bool nozero = be16get(b + 16) & NBD_FLAG_NO_ZEROES;
	be32put(b, NBD_FLAG_FIXED_NEWSTYLE | (nozero ? NBD_FLAG_NO_ZEROES : 0));
	size_t nl = strlen(BLK_NBD_EXPORT);
	be64put(b + 4, NBD_IHAVEOPT);
	be32put(b + 12, NBD_OPT_GO);
	be32put(b + 16, (uint32_t)(4 + nl + 2));
	be32put(b + 20, (uint32_t)nl);
	memcpy(b + 24, BLK_NBD_EXPORT, nl);
	be16put(b + 24 + nl, 0);
	*why = "the connection broke during the handshake";
	if (sock_buf(fd, b, 24 + nl + 2, true))
		return -1;
	bool have_info = false;
	for (int replies = 0; replies < 64; replies++) {
		if (sock_buf(fd, b, 20, false))
			return -1;
		uint32_t type = be32get(b + 12), len = be32get(b + 16);
		if (be64get(b) != NBD_REPLY_OPT_MAGIC || be32get(b + 8) != NBD_OPT_GO || len > 4096) {
			*why = "a malformed option reply";
			return -1;
		}
		uint8_t data[4096];
		if (len && sock_buf(fd, data, len, false))
			return -1;
		if (type & 0x80000000u) {
			*why = "the server refused the export";
			return -1;
		}
		if (type == NBD_REP_INFO && len >= 12 && be16get(data) == NBD_INFO_EXPORT) {
			*size = be64get(data + 2);
			*flags = be16get(data + 10);
			have_info = true;
		} else if (type == NBD_REP_ACK) {
			*why = "the server did not say the export's size";
			return have_info ? 0 : -1;
		}
	}
	*why = "too many option replies";
	return -1;
}

/* One request and its simple reply; data: what to write, or where to read
 * into. Returns 0, or -1 (the server's error, or a broken connection: then
 * w->sock is closed and stays -1). */
static int nbd_cmd(struct blk_worker *w, uint16_t type, uint16_t flags, uint64_t off, uint32_t len,
		   struct iovec *data, unsigned ndata)
{
	if (w->sock < 0)
		return -1;
	uint8_t req[28], rep[16];
	uint64_t handle = ++w->handle;
	be32put(req, NBD_REQUEST_MAGIC);
	be16put(req + 4, flags);
	be16put(req + 6, type);
	be64put(req + 8, handle);
	be64put(req + 16, off);
	be32put(req + 24, len);
	struct iovec v[BLK_SEG_MAX + 3];
	unsigned nv = 0;
	v[nv++] = (struct iovec){ .iov_base = req, .iov_len = sizeof(req) };
	if (type == NBD_CMD_WRITE)
		for (unsigned i = 0; i < ndata; i++)
			v[nv++] = data[i];
	if (sock_all(w->sock, v, nv, true) || sock_buf(w->sock, rep, sizeof(rep), false) ||
	    be32get(rep) != NBD_SIMPLE_REPLY_MAGIC || be64get(rep + 8) != handle)
		goto broken;
	if (be32get(rep + 4))
		return -1;	/* the server's error: EIO, ENOSPC, ... */
	if (type == NBD_CMD_READ && sock_all(w->sock, data, ndata, false))
		goto broken;
	return 0;
broken:
	/* left open (the filter has no close): it is never used again */
	w->sock = -1;
	if (w->b->dev->vm)
		vmm_log_limited(w->b->dev->vm, "virtio-blk %s: the connection to qemu-storage-daemon "
				"broke (did it die?): the disk answers I/O errors from now on\n",
				w->b->dev->id);
	return -1;
}

/* Bytes [skip, skip + len) of an iovec array as another; returns its count. */
static unsigned iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len,
			  struct iovec *out)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n && len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t t = iov[i].iov_len - skip;
		if (t > len)
			t = len;
		out[k++] = (struct iovec){ .iov_base = (uint8_t *)iov[i].iov_base + skip, .iov_len = t };
		len -= t;
		skip = 0;
	}
	return k;
}

static uint8_t serve_nbd(struct blk_worker *w, struct blk_job *j, uint32_t *written)
{
	struct blk *b = w->b;
	struct blk_req *r = &j->req;
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool out = r->type == VIRTIO_BLK_T_OUT;
		uint64_t off = r->sector << BLK_SECTOR_SHIFT;
		for (size_t done = 0; done < r->data_len;) {
			size_t len = r->data_len - done < NBD_MAX_CHUNK ? r->data_len - done : NBD_MAX_CHUNK;
			struct iovec part[BLK_SEG_MAX + 2];
			unsigned np = iov_slice(j->iov, j->niov, done, len, part);
			if (nbd_cmd(w, out ? NBD_CMD_WRITE : NBD_CMD_READ, 0, off + done, (uint32_t)len, part, np))
				return VIRTIO_BLK_S_IOERR;
			done += len;
		}
		if (!out)
			*written = r->data_len;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		return nbd_cmd(w, NBD_CMD_FLUSH, 0, 0, 0, NULL, 0) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		for (unsigned i = 0; i < r->nr_ranges; i++) {
			const struct blk_range *g = &r->ranges[i];
			if (!g->sectors)
				continue;
			bool trim = r->type == VIRTIO_BLK_T_DISCARD;
			uint16_t fl = !trim && !(g->flags & VIRTIO_BLK_WZ_F_UNMAP) ? NBD_CMD_FLAG_NO_HOLE : 0;
			if (nbd_cmd(w, trim ? NBD_CMD_TRIM : NBD_CMD_WRITE_ZEROES, fl,
				    g->sector << BLK_SECTOR_SHIFT, g->sectors << BLK_SECTOR_SHIFT, NULL, 0) &&
			    (!trim || w->sock < 0))
				return VIRTIO_BLK_S_IOERR;	/* a refused trim is advisory */
		}
		return VIRTIO_BLK_S_OK;
	}
	(void)b;
	return VIRTIO_BLK_S_UNSUPP;
}

/* Does the I/O of a job; returns the status byte and the bytes written into
 * the guest's buffers besides it. */
static uint8_t serve(struct blk_worker *w, struct blk_job *j, uint32_t *written)
{
	struct blk *b = w->b;
	struct blk_req *r = &j->req;
	*written = 0;
	if (b->nbd && r->type != VIRTIO_BLK_T_GET_ID)
		return serve_nbd(w, j, written);
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool out = r->type == VIRTIO_BLK_T_OUT;
		if (rw_all(b->fd, j->iov, j->niov, r->sector << BLK_SECTOR_SHIFT, out) < 0)
			return VIRTIO_BLK_S_IOERR;
		if (!out)
			*written = r->data_len;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		return fdatasync(b->fd) < 0 && errno != EINVAL ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		/* the iovecs cover data_len <= 20 bytes, in one segment or several */
		size_t at = 0;
		for (unsigned i = 0; i < j->niov; i++) {
			memcpy(j->iov[i].iov_base, b->serial + at, j->iov[i].iov_len);
			at += j->iov[i].iov_len;
		}
		*written = r->data_len;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		for (unsigned i = 0; i < r->nr_ranges; i++)
			if (do_range(b, r->type, &r->ranges[i]) < 0)
				return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	}
	return VIRTIO_BLK_S_UNSUPP;
}

/* Returns a chain to the driver with its status. */
static void complete(struct blk *b, struct virtq *q, uint16_t head, uint32_t write_len,
		     uint8_t *status, uint8_t code, uint32_t written)
{
	/* virtq_push reads only the head and the writable length */
	struct virtq_elem e;
	e.head = head;
	e.write_len = write_len;
	pthread_mutex_lock(&b->push_lock);
	*status = code;
	virtq_push(q, &e, written + 1);
	virtio_notify_used(b->dev, q);
	pthread_mutex_unlock(&b->push_lock);
}

static void *worker(void *opaque)
{
	struct blk_worker *w = opaque;
	struct blk *b = w->b;
	for (;;) {
		pthread_mutex_lock(&b->lock);
		while (!b->todo)
			pthread_cond_wait(&b->work, &b->lock);
		struct blk_job *j = b->todo;
		b->todo = j->next;
		if (!b->todo)
			b->todo_tail = NULL;
		pthread_mutex_unlock(&b->lock);

		uint32_t written;
		uint8_t code = serve(w, j, &written);
		complete(b, j->q, j->head, j->write_len, j->req.status, code, written);

		pthread_mutex_lock(&b->lock);
		j->next = b->free;
		b->free = j;
		bool wake = b->starved;
		b->starved = false;
		if (--b->busy == 0)
			pthread_cond_broadcast(&b->idle);
		pthread_mutex_unlock(&b->lock);
		if (wake)
			virtio_dev_wake(b->dev);
	}
	return NULL;
}

/* Device thread, d->lock held: takes every available chain it has a job
 * for; what it cannot take now waits for a worker's wake. */
static void blk_notify(struct virtio_dev *d, struct virtq *q)
{
	struct blk *b = d->priv;
	while (d->active) {
		pthread_mutex_lock(&b->lock);
		struct blk_job *j = b->free;
		if (j) {
			b->free = j->next;
			b->busy++;
		} else {
			b->starved = true;
		}
		pthread_mutex_unlock(&b->lock);
		if (!j)
			return;
		int got = virtq_pop(q, &b->elem);
		bool queued = false;
		if (got == 1) {
			enum blk_verdict v = blk_req_parse(&b->elem, &b->lim, &j->req);
			if (v == BLK_BROKEN) {
				virtio_dev_fail(d, "%s: %s", d->id, j->req.why);
			} else if (v == BLK_STATUS) {
				if (j->req.why && d->vm)
					vmm_log_limited(d->vm, "virtio-blk %s: answered %s to %s\n", d->id,
							j->req.status_code == VIRTIO_BLK_S_UNSUPP ?
							"UNSUPP" : "IOERR", j->req.why);
				complete(b, q, b->elem.head, b->elem.write_len, j->req.status,
					 j->req.status_code, 0);
			} else {
				const struct blk_req *r = &j->req;
				bool w = r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_GET_ID;
				j->niov = r->data_len ? chain_iov(&b->elem, w, r->data_off, r->data_len,
								  j->iov, ARRAY_SIZE(j->iov)) : 0;
				if (r->data_len && !j->niov) {
					/* more segments than SEG_MAX promised */
					complete(b, q, b->elem.head, b->elem.write_len, j->req.status,
						 VIRTIO_BLK_S_IOERR, 0);
				} else {
					j->q = q;
					j->head = b->elem.head;
					j->write_len = b->elem.write_len;
					queued = true;
				}
			}
		}
		pthread_mutex_lock(&b->lock);
		if (queued) {
			j->next = NULL;
			if (b->todo_tail)
				b->todo_tail->next = j;
			else
				b->todo = j;
			b->todo_tail = j;
			pthread_cond_signal(&b->work);
		} else {
			j->next = b->free;
			b->free = j;
			if (--b->busy == 0)
				pthread_cond_broadcast(&b->idle);
		}
		pthread_mutex_unlock(&b->lock);
		if (got != 1)
			return;
	}
}

/* A worker freed a job after the device thread ran out (d->lock held). */
static void blk_wake(struct virtio_dev *d)
{
	if (d->active && d->vq[0].ready)
		blk_notify(d, &d->vq[0]);
}

/* Status 0 (vCPU thread, d->lock held): the workers finish and return what
 * they hold first; after that nothing touches the old queue. */
static void blk_reset(struct virtio_dev *d)
{
	struct blk *b = d->priv;
	pthread_mutex_lock(&b->lock);
	while (b->busy)
		pthread_cond_wait(&b->idle, &b->lock);
	b->starved = false;
	pthread_mutex_unlock(&b->lock);
}

static void blk_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, unsigned len)
{
	struct blk *b = d->priv;
	if (off <= sizeof(b->config) && len <= sizeof(b->config) - off)
		memcpy(data, b->config + off, len);
	else
		memset(data, 0, len);
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
		    VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
		    VIRTIO_BIT(VIRTIO_BLK_F_RO) | VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
		    VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES),
	.nr_queues = 1,
	.queue_max = BLK_QUEUE_MAX,
	.config_size = BLK_CONFIG_SIZE,
	.config_read = blk_config_read,
	.notify = blk_notify,
	.wake = blk_wake,
	.reset = blk_reset,
};

static void config_fill(struct blk *b)
{
	uint8_t *c = b->config;
	memset(c, 0, sizeof(b->config));
	put64(c + 0, b->lim.capacity);
	put32(c + 8, BLK_SIZE_MAX);		/* size_max */
	put32(c + 12, BLK_SEG_MAX);		/* seg_max */
	put32(c + 20, 512);			/* blk_size */
	put16(c + 34, 1);			/* num_queues */
	put32(c + 36, BLK_MAX_RANGE_SECTORS);	/* max_discard_sectors */
	put32(c + 40, BLK_MAX_RANGES);		/* max_discard_seg */
	put32(c + 44, 8);			/* discard_sector_alignment: 4 KiB */
	put32(c + 48, BLK_MAX_RANGE_SECTORS);	/* max_write_zeroes_sectors */
	put32(c + 52, BLK_MAX_RANGES);		/* max_write_zeroes_seg */
	c[56] = 1;				/* write_zeroes_may_unmap */
}

/* The create hook (child, before seccomp): the disk's size, the features
 * it gets, the workers. */
static int blk_create(struct virtio_dev *d, const struct kxl_vmm_vdev *v, struct kxl_diag *diag)
{
	const struct kxl_vmm_disk *cfg = v->cfg;
	int fd = v->fds[0];
	if (!cfg || fd < 0)
		return kxl_err(diag, "virtio-blk %s: no disk was opened for it", v->id ? v->id : "?");
	struct stat st;
	uint64_t bytes = 0;
	uint16_t nbd_flags = 0;
	if (cfg->qemu_format) {
		/* connections to qemu-storage-daemon's export, one per worker */
		for (unsigned i = 0; i < BLK_WORKERS; i++) {
			uint64_t size = 0;
			uint16_t fl = 0;
			const char *why;
			if (i >= KXL_VDEV_MAX_FDS || v->fds[i] < 0)
				return kxl_err(diag, "disk %s: no connection %u to qemu-storage-daemon",
					       cfg->vdev, i);
			struct timeval tv = { .tv_sec = 10 };
			setsockopt(v->fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (nbd_handshake(v->fds[i], &size, &fl, &why) < 0)
				return kxl_err(diag, "disk %s (%s, format %s): qemu-storage-daemon's NBD "
					       "export: %s", cfg->vdev, cfg->path, cfg->qemu_format, why);
			tv.tv_sec = 0;
			setsockopt(v->fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (i == 0) {
				bytes = size;
				nbd_flags = fl;
			}
		}
	} else if (fstat(fd, &st) < 0)
		return kxl_err(diag, "disk %s (%s): fstat: %s", cfg->vdev, cfg->path, strerror(errno));
	else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return kxl_err(diag, "disk %s (%s): BLKGETSIZE64: %s", cfg->vdev, cfg->path,
				       strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else if (!cfg->qemu_format) {
		return kxl_err(diag, "disk %s (%s): neither a regular file nor a block device",
			       cfg->vdev, cfg->path);
	}
	struct blk *b = xcalloc(1, sizeof(*b));
	b->dev = d;
	b->cfg = cfg;
	b->nbd = cfg->qemu_format != NULL;
	b->nbd_flags = nbd_flags;
	b->fd = b->nbd ? -1 : fd;
	b->lim.capacity = bytes >> BLK_SECTOR_SHIFT;	/* a partial last sector is not seen */
	b->lim.readonly = cfg->readonly || (b->nbd && (nbd_flags & NBD_TF_READ_ONLY));
	b->lim.flush = !b->lim.readonly && (!b->nbd || (nbd_flags & NBD_TF_SEND_FLUSH));
	b->lim.discard = cfg->discard && !b->lim.readonly &&
			 (!b->nbd || ((nbd_flags & NBD_TF_SEND_TRIM) && (nbd_flags & NBD_TF_SEND_WRITE_ZEROES)));
	strncpy(b->serial, cfg->vdev ? cfg->vdev : "", sizeof(b->serial));
	config_fill(b);
	/* what this disk offers: the ops list every feature a disk may have */
	uint64_t drop = 0;
	if (!b->lim.readonly)
		drop |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	if (!b->lim.flush)
		drop |= VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
	if (!b->lim.discard)
		drop |= VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	d->offered &= ~drop;
	d->priv = b;
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->push_lock, NULL);
	pthread_cond_init(&b->work, NULL);
	pthread_cond_init(&b->idle, NULL);
	for (unsigned i = 0; i < BLK_JOBS; i++) {
		b->jobs[i].next = b->free;
		b->free = &b->jobs[i];
	}
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (unsigned i = 0; i < BLK_WORKERS; i++) {
		b->workers[i].b = b;
		b->workers[i].sock = b->nbd ? v->fds[i] : -1;
		int r = pthread_create(&b->workers[i].thread, &attr, worker, &b->workers[i]);
		if (r) {
			pthread_attr_destroy(&attr);
			return kxl_err(diag, "disk %s: cannot start its I/O threads: %s", cfg->vdev,
				       strerror(r));
		}
	}
	pthread_attr_destroy(&attr);
	return 0;
}

const struct virtio_kind virtio_blk_kind = {
	.type = KXL_VDEV_BLK,
	.ops = &blk_ops,
	.create = blk_create,
};

/* ---- qemu-storage-daemon (the parent's side, see virtio-blk.h) ---- */

static int qsd_unix_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* up when its socket answers (a probe connection, closed at once) */
static int qsd_sock_up(void *arg)
{
	int fd = qsd_unix_connect(((struct blk_qsd *)arg)->sock);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int blk_qsd_start(const struct kxl_vmm_disk *k, struct blk_qsd *q, struct kxl_diag *d)
{
	memset(q, 0, sizeof(*q));
	if (qsd_mkdir(&q->d, "kxl-qsd") < 0)
		return kxl_err(d, "disk %s: cannot make a directory for qemu-storage-daemon: %s",
			       k->vdev, strerror(errno));
	q->sock = qsd_file(&q->d, "nbd.sock");
	char **argv = kxl_blk_qsd_argv(k, q->sock, BLK_NBD_EXPORT, d);
	if (!argv) {
		blk_qsd_stop(q);
		return -1;
	}
	int r = qsd_spawn(&q->d, argv, NULL);
	int e = errno;
	kxl_blk_qsd_argv_free(argv);
	if (r < 0) {
		kxl_err(d, "disk %s: cannot start qemu-storage-daemon: %s", k->vdev, strerror(e));
		blk_qsd_stop(q);
		return -1;
	}
	char *how = NULL;
	switch (qsd_wait_up(&q->d, qsd_sock_up, q, &how)) {
	case QSD_UP:
		return 0;
	case QSD_ENDED:
		kxl_err(d, "disk %s (%s, format %s): qemu-storage-daemon ended: %s", k->vdev,
			k->path, k->qemu_format, how);
		free(how);
		break;
	case QSD_FAILED:	/* qsd_sock_up never gives up */
	case QSD_SLOW:
		kxl_err(d, "disk %s: qemu-storage-daemon did not open its NBD socket in 10 s", k->vdev);
		break;
	}
	blk_qsd_stop(q);
	return -1;
}

int blk_qsd_connect(struct blk_qsd *q, const struct kxl_vmm_disk *k, int *fds, unsigned n,
		    struct kxl_diag *d)
{
	char *how = qsd_ended(&q->d);
	if (how || q->d.pid <= 0) {
		kxl_err(d, "disk %s: qemu-storage-daemon is gone (%s)", k->vdev, how ? how : "not started");
		free(how);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		fds[i] = qsd_unix_connect(q->sock);
		if (fds[i] < 0) {
			int e = errno;
			for (unsigned j = 0; j < i; j++) {
				close(fds[j]);
				fds[j] = -1;
			}
			return kxl_err(d, "disk %s: cannot connect to qemu-storage-daemon: %s", k->vdev,
				       strerror(e));
		}
	}
	return 0;
}

void blk_qsd_stop(struct blk_qsd *q)
{
	qsd_stop(&q->d);
	free(q->sock);
	q->sock = NULL;
}
