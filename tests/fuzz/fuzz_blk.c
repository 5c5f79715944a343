/*
 * fuzz_blk.c: libFuzzer target of virtio-blk's request parser
 * (blk_req_parse, src/vmm/virtio-blk.c). The input is the disk's limits
 * and a descriptor chain shaped as the virtqueue walker hands it over
 * (readable segments, then writable ones, each a slice of one guest
 * buffer that holds the rest of the input). Whatever the bytes, the parser
 * must stay inside the chain and, when it says "serve", must have checked
 * everything the device relies on: the status byte is the chain's last
 * writable byte, data lengths are multiples of 512 within the chain, and
 * every sector range lies on the disk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/virtio-blk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct virtq_elem e;

static void must(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 12)
		return 0;
	struct blk_limits lim;
	uint64_t cap;
	memcpy(&cap, data, 8);
	lim.capacity = cap >> (data[8] & 63);
	lim.readonly = data[9] & 1;
	lim.flush = data[9] & 2;
	lim.discard = data[9] & 4;
	unsigned nsegs = data[10] % 12, nread = nsegs ? data[11] % (nsegs + 1) : 0;
	data += 12;
	size -= 12;
	if (size < 4 * (size_t)nsegs)
		return 0;
	/* the segment table, then the guest buffer they slice */
	const uint8_t *table = data;
	size_t blen = size - 4 * nsegs;
	uint8_t *buf = malloc(blen + 1);
	memcpy(buf, data + 4 * nsegs, blen);
	memset(&e, 0, sizeof(e));
	for (unsigned i = 0; i < nsegs; i++) {
		uint16_t off, len;
		memcpy(&off, table + 4 * i, 2);
		memcpy(&len, table + 4 * i + 2, 2);
		if (!blen)
			break;
		off %= blen;
		len = (uint16_t)(len % (blen - off + 1));
		if (!len)
			continue;	/* the walker produces no empty segments */
		bool w = i >= nread;
		e.seg[e.nr_segs++] = (struct virtq_seg){ .hva = buf + off, .len = len, .write = w };
		if (w) {
			e.write_len += len;
		} else {
			e.read_len += len;
			e.nr_read++;
		}
	}
	struct blk_req r;
	enum blk_verdict v = blk_req_parse(&e, &lim, &r);
	if (v != BLK_BROKEN) {
		const struct virtq_seg *last = &e.seg[e.nr_segs - 1];
		must(e.nr_segs && last->write && r.status == last->hva + last->len - 1);
	}
	if (v == BLK_STATUS)
		must(r.status_code == VIRTIO_BLK_S_IOERR || r.status_code == VIRTIO_BLK_S_UNSUPP);
	if (v == BLK_DO) {
		uint64_t n = r.data_len >> 9;
		switch (r.type) {
		case VIRTIO_BLK_T_IN:
			must(!(r.data_len & 511) && r.data_len + 1 == e.write_len);
			must(r.sector <= lim.capacity && n <= lim.capacity - r.sector);
			break;
		case VIRTIO_BLK_T_OUT:
			must(!lim.readonly && !(r.data_len & 511) && r.data_off == 16);
			must(r.data_off + r.data_len == e.read_len && e.write_len == 1);
			must(r.sector <= lim.capacity && n <= lim.capacity - r.sector);
			break;
		case VIRTIO_BLK_T_FLUSH:
			must(lim.flush);
			break;
		case VIRTIO_BLK_T_GET_ID:
			must(r.data_len && r.data_len <= 20 && r.data_len < e.write_len);
			break;
		case VIRTIO_BLK_T_DISCARD:
		case VIRTIO_BLK_T_WRITE_ZEROES:
			must(lim.discard && !lim.readonly && r.nr_ranges >= 1 && r.nr_ranges <= BLK_MAX_RANGES);
			for (unsigned i = 0; i < r.nr_ranges; i++)
				must(r.ranges[i].sector <= lim.capacity &&
				     r.ranges[i].sectors <= lim.capacity - r.ranges[i].sector);
			break;
		default:
			must(0);
		}
	}
	free(buf);
	return 0;
}
