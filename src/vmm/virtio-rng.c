/*
 * virtio-rng.c: an entropy source (virtio 1.2 section 5.4, device id 4):
 * one request queue of device-writable buffers, filled from the host's
 * getrandom(). A token bucket bounds what a guest can take (RNG_RATE
 * bytes per second, bursts of RNG_BURST), so that a guest that drains it
 * costs the host little; a request arriving on an empty bucket waits on
 * the device's timer. No features, no configuration space.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/util.h"
#include "vmm/virtio.h"

#define RNG_RATE	(256 * 1024)	/* bytes per second */
#define RNG_BURST	(64 * 1024)	/* bucket size */
#define RNG_WAIT_BYTES	4096		/* sleep until this much is there again */

struct rng {
	uint64_t tokens;
	uint64_t last_ns;
	struct virtq_elem e;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void refill(struct rng *r)
{
	uint64_t now = mono_ns();
	uint64_t add = (now - r->last_ns) * RNG_RATE / 1000000000ULL;
	if (add) {
		r->tokens = r->tokens + add > RNG_BURST ? RNG_BURST : r->tokens + add;
		/* keep the remainder of a partial byte for the next refill */
		r->last_ns += add * 1000000000ULL / RNG_RATE;
	}
}

/* Fills up to `want` bytes of e's writable buffers; returns how many. */
static uint32_t fill(const struct virtq_elem *e, uint32_t want)
{
	uint32_t done = 0;
	for (unsigned s = e->nr_read; s < e->nr_segs && done < want; s++) {
		uint32_t k = e->seg[s].len < want - done ? e->seg[s].len : want - done;
		uint32_t got = 0;
		while (got < k) {
			ssize_t n = getrandom(e->seg[s].hva + got, k - got, GRND_NONBLOCK);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return done + got;	/* the host pool is not ready: short */
			got += (uint32_t)n;
		}
		done += got;
	}
	return done;
}

static void rng_serve(struct virtio_dev *d, struct virtq *q)
{
	struct rng *r = d->priv;
	bool pushed = false;

	if (q != &d->vq[0])
		return;
	refill(r);
	while (r->tokens) {
		int k = virtq_pop(q, &r->e);
		if (k <= 0)
			break;
		uint32_t want = r->e.write_len < r->tokens ? r->e.write_len : (uint32_t)r->tokens;
		uint32_t got = fill(&r->e, want);
		r->tokens -= got;
		virtq_push(q, &r->e, got);
		pushed = true;
		if (got < want)
			break;
	}
	if (pushed)
		virtio_notify_used(d, q);
	if (!r->tokens && virtq_has_avail(q))
		virtio_dev_timer(d, RNG_WAIT_BYTES * 1000000000ULL / RNG_RATE);
}

static void rng_timer(struct virtio_dev *d)
{
	rng_serve(d, &d->vq[0]);
}

static int rng_activate(struct virtio_dev *d)
{
	struct rng *r = d->priv;
	r->last_ns = mono_ns();
	r->tokens = RNG_BURST;
	return 0;
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.queue_max = 64,
	.activate = rng_activate,
	.notify = rng_serve,
	.timer = rng_timer,
};

static int rng_create(struct virtio_dev *d, const struct kxl_vmm_vdev *cfg, struct kxl_diag *diag)
{
	d->priv = xcalloc(1, sizeof(struct rng));
	return 0;
}

const struct virtio_kind virtio_rng_kind = {
	.type = KXL_VDEV_RNG,
	.ops = &rng_ops,
	.create = rng_create,
};
