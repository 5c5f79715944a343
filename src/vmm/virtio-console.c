/*
 * virtio-console.c: the guest's hvc0 (virtio 1.2 section 5.3, device id 3)
 * with one port and no features: receiveq 0 (input to the guest) and
 * transmitq 1 (output). It shares the one console stream with the UART:
 *   - output is copied from the transmit chains into a 4 KiB buffer under
 *     the device lock and handed to the console merge (conmerge.h) by the
 *     device thread without any lock, waiting while hvc0's line has no
 *     room (a console nobody reads stalls only hvc0, as a stuck UART stalls
 *     only its vCPU); the merge puts UART and hvc0 lines into the stream
 *     whole, in the order they were completed;
 *   - input goes to hvc0 once the guest uses it: the driver set DRIVER_OK,
 *     posted receive buffers and wrote to hvc0 (a getty, or the kernel
 *     console with console=hvc0); before that, and after a reset, to the
 *     UART. console_rx_space()/console_rx_push() make that choice for the
 *     main loop, which alone reads the console fd.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"
#include "vmm/priv.h"
#include "vmm/virtio.h"

#define RXQ 0
#define TXQ 1

struct hvc {
	/* output: device thread only */
	uint8_t out[4096];
	size_t out_len;
	bool tx_have;			/* tx_elem popped, not all copied yet */
	size_t tx_off;
	struct virtq_elem tx_elem;
	/* input: in_lock; filled by the main loop */
	pthread_mutex_t in_lock;
	uint8_t in[1024];
	unsigned in_head, in_len;
	struct virtq_elem rx_elem;
	/* under the device lock */
	bool rx_seen;			/* receive buffers posted since DRIVER_OK */
	bool used;			/* the guest wrote to hvc0 since DRIVER_OK */
};

static void hvc_tx(struct virtio_dev *d)
{
	struct hvc *h = d->priv;
	struct virtq *q = &d->vq[TXQ];
	bool pushed = false;

	while (q->ready) {
		if (!h->tx_have) {
			if (virtq_pop(q, &h->tx_elem) <= 0)
				break;
			h->tx_have = true;
			h->tx_off = 0;
		}
		size_t n = virtq_read(&h->tx_elem, h->tx_off, h->out + h->out_len,
				      sizeof(h->out) - h->out_len);
		h->out_len += n;
		h->tx_off += n;
		if (h->tx_off < h->tx_elem.read_len)
			break;	/* the buffer is full: written first, then the rest */
		virtq_push(q, &h->tx_elem, 0);
		h->tx_have = false;
		pushed = true;
	}
	if (h->out_len)
		h->used = true;
	if (pushed)
		virtio_notify_used(d, q);
}

static void hvc_rx(struct virtio_dev *d)
{
	struct hvc *h = d->priv;
	struct virtq *q = &d->vq[RXQ];
	bool pushed = false, room = false;

	if (virtq_has_avail(q))
		h->rx_seen = true;
	pthread_mutex_lock(&h->in_lock);
	while (h->in_len && q->ready) {
		if (virtq_pop(q, &h->rx_elem) <= 0)
			break;
		unsigned n = 0;
		while (n < h->in_len) {
			unsigned at = (h->in_head + n) % sizeof(h->in);
			unsigned k = sizeof(h->in) - at < h->in_len - n ? sizeof(h->in) - at : h->in_len - n;
			size_t w = virtq_write(&h->rx_elem, n, h->in + at, k);
			n += (unsigned)w;
			if (w < k)
				break;
		}
		h->in_head = (h->in_head + n) % sizeof(h->in);
		h->in_len -= n;
		room = true;
		virtq_push(q, &h->rx_elem, n);
		pushed = true;
	}
	pthread_mutex_unlock(&h->in_lock);
	if (pushed)
		virtio_notify_used(d, q);
	if (room && d->vm) {
		/* room again: let the main loop read the console fd */
		uint64_t one = 1;
		if (write(d->vm->evfd, &one, sizeof(one)) < 0) {
			/* cannot fail: the counter is far from overflow */
		}
	}
}

static void hvc_notify(struct virtio_dev *d, struct virtq *q)
{
	if (q->idx == TXQ)
		hvc_tx(d);
	else
		hvc_rx(d);
}

static void hvc_wake(struct virtio_dev *d)
{
	hvc_rx(d);
	hvc_tx(d);
}

/* Device thread, no lock: the output buffer is the thread's own. */
static void hvc_unlocked(struct virtio_dev *d)
{
	struct hvc *h = d->priv;

	if (h->out_len && d->vm)
		conmerge_write(&d->vm->con, CONMERGE_HVC, h->out, h->out_len);
	bool more = h->out_len == sizeof(h->out);
	h->out_len = 0;
	if (more)
		virtio_dev_wake(d);	/* a chain was only partly copied */
}

static void hvc_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, unsigned len)
{
	/* cols, rows, max_nr_ports, emerg_wr: none of their features is
	 * offered, so all read 0 */
	memset(data, 0, len);
}

static void hvc_reset(struct virtio_dev *d)
{
	struct hvc *h = d->priv;
	h->tx_have = false;
	h->rx_seen = false;
	h->used = false;
}

static const struct virtio_dev_ops hvc_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nr_queues = 2,
	.queue_max = 64,
	.config_size = 12,
	.config_read = hvc_config_read,
	.notify = hvc_notify,
	.wake = hvc_wake,
	.unlocked = hvc_unlocked,
	.reset = hvc_reset,
};

static int hvc_create(struct virtio_dev *d, const struct kxl_vmm_vdev *cfg, struct kxl_diag *diag)
{
	struct hvc *h = xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->in_lock, NULL);
	d->priv = h;
	return 0;
}

const struct virtio_kind virtio_console_kind = {
	.type = KXL_VDEV_CONSOLE,
	.ops = &hvc_ops,
	.create = hvc_create,
};

/* ---- where console input goes ---- */

static bool hvc_takes_input(struct vm *vm)
{
	struct virtio_dev *d = vm->hvc;
	if (!d)
		return false;
	pthread_mutex_lock(&d->lock);
	struct hvc *h = d->priv;
	if (d->active && !h->rx_seen && virtq_has_avail(&d->vq[RXQ]))
		h->rx_seen = true;
	bool yes = d->active && h->rx_seen && h->used;
	pthread_mutex_unlock(&d->lock);
	return yes;
}

unsigned console_rx_space(struct vm *vm)
{
	if (hvc_takes_input(vm)) {
		struct hvc *h = vm->hvc->priv;
		pthread_mutex_lock(&h->in_lock);
		unsigned n = (unsigned)sizeof(h->in) - h->in_len;
		pthread_mutex_unlock(&h->in_lock);
		return n;
	}
	pthread_mutex_lock(&vm->dev_lock);
	unsigned n = uart_rx_space_locked(vm);
	pthread_mutex_unlock(&vm->dev_lock);
	return n;
}

void console_rx_push(struct vm *vm, const uint8_t *buf, unsigned n)
{
	if (hvc_takes_input(vm)) {
		struct hvc *h = vm->hvc->priv;
		pthread_mutex_lock(&h->in_lock);
		for (unsigned i = 0; i < n && h->in_len < sizeof(h->in); i++) {
			h->in[(h->in_head + h->in_len) % sizeof(h->in)] = buf[i];
			h->in_len++;
		}
		pthread_mutex_unlock(&h->in_lock);
		virtio_dev_wake(vm->hvc);
		return;
	}
	pthread_mutex_lock(&vm->dev_lock);
	uart_rx_push_locked(vm, buf, n);
	pthread_mutex_unlock(&vm->dev_lock);
}
