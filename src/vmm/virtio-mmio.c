/*
 * virtio-mmio.c: the virtio-mmio transport, version 2 (virtio 1.2, section
 * 4.2.2), and the thread each virtio device runs on.
 *
 * Registers (32-bit, aligned; anything else reads 0 and is ignored):
 *   0x000 MagicValue "virt"  0x004 Version 2  0x008 DeviceID  0x00c VendorID
 *   0x010 DeviceFeatures     0x014 DeviceFeaturesSel
 *   0x020 DriverFeatures     0x024 DriverFeaturesSel
 *   0x030 QueueSel  0x034 QueueNumMax  0x038 QueueNum  0x044 QueueReady
 *   0x050 QueueNotify  0x060 InterruptStatus  0x064 InterruptACK
 *   0x070 Status  0x080/0x084 QueueDesc  0x090/0x094 QueueDriver
 *   0x0a0/0x0a4 QueueDevice  0x0ac SHMSel  0x0b0-0x0bc SHMLen/SHMBase
 *   0x0c0 QueueReset  0x0fc ConfigGeneration  0x100+ device configuration
 *
 * The status state machine is strict, as Firecracker's: each status write
 * adds exactly the next bit (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK),
 * FAILED may be added at any time, 0 resets; feature writes count only
 * between DRIVER and FEATURES_OK, queue writes only between FEATURES_OK and
 * DRIVER_OK; FEATURES_OK is refused (left clear) unless the driver accepted
 * VERSION_1 and nothing that was not offered. A queue the driver sets up
 * outside RAM, or a broken chain, puts the device into DEVICE_NEEDS_RESET:
 * it stops until the driver writes 0.
 *
 * The fast path stays in the kernel: KVM signals a queue's ioeventfd on a
 * QueueNotify write that matches its index, and the device raises its
 * interrupt through an irqfd. Interrupt lines are shared and level-
 * triggered (layout.h): the irqfd has a resample fd, and when the guest
 * EOIs the line while InterruptStatus is still set, the device thread
 * raises it again.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"
#include "vmm/priv.h"
#include "vmm/virtio.h"

#define MAGIC		0x74726976	/* "virt" */
#define VENDOR		0x004c584b	/* "KXL" */

#define REG_MAGIC		0x000
#define REG_VERSION		0x004
#define REG_DEVICE_ID		0x008
#define REG_VENDOR_ID		0x00c
#define REG_DEV_FEATURES	0x010
#define REG_DEV_FEATURES_SEL	0x014
#define REG_DRV_FEATURES	0x020
#define REG_DRV_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM_MAX	0x034
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_QUEUE_NOTIFY	0x050
#define REG_INT_STATUS		0x060
#define REG_INT_ACK		0x064
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LO	0x080
#define REG_QUEUE_DESC_HI	0x084
#define REG_QUEUE_DRIVER_LO	0x090
#define REG_QUEUE_DRIVER_HI	0x094
#define REG_QUEUE_DEVICE_LO	0x0a0
#define REG_QUEUE_DEVICE_HI	0x0a4
#define REG_SHM_SEL		0x0ac
#define REG_SHM_LEN_LO		0x0b0
#define REG_SHM_LEN_HI		0x0b4
#define REG_SHM_BASE_LO		0x0b8
#define REG_SHM_BASE_HI		0x0bc
#define REG_QUEUE_RESET		0x0c0
#define REG_CONFIG_GEN		0x0fc
#define REG_CONFIG		0x100

#define TRANSPORT_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
			    VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))

#define PHASE_MASK (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
		    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED)

static void dev_log(struct virtio_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dev_log(struct virtio_dev *d, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	if (!d->vm)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vmm_log_limited(d->vm, "%s (%s): %s\n", d->ops->name, d->id, msg);
}

static void queue_broken(struct virtq *q)
{
	virtio_dev_fail(q->dev, "queue %u: %s", q->idx, q->error);
}

static void kick_thread(int fd)
{
	uint64_t one = 1;
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* an eventfd counter cannot overflow here */
	}
}

/* Forgets everything the driver set (status 0, or a new device). */
static void transport_reset(struct virtio_dev *d)
{
	d->status = 0;
	d->dev_features_sel = d->drv_features_sel = d->queue_sel = d->shm_sel = 0;
	d->driver_features = 0;
	d->active = false;
	d->timer_at = 0;
	d->watch_fd = -1;
	d->watch_events = 0;
	d->error[0] = 0;
	atomic_store(&d->isr, 0);
	atomic_store(&d->pending, 0);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtq *q = &d->vq[i];
		int kick = q->kick_fd;
		memset(q, 0, sizeof(*q));
		q->kick_fd = kick;
		q->idx = i;
		q->dev = d;
		q->mem = d->mem;
		q->broken = queue_broken;
		q->size = d->ops->queue_max;
	}
}

int virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops, void *priv,
		    const char *id, const struct kxl_guest_image *mem, unsigned slot,
		    struct kxl_diag *diag)
{
	memset(d, 0, sizeof(*d));
	d->irq_fd = d->resample_fd = d->wake_fd = d->watch_fd = -1;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		d->vq[i].kick_fd = -1;
	if (ops->nr_queues > VIRTIO_MAX_QUEUES || !ops->queue_max ||
	    ops->queue_max > VIRTQ_MAX_SIZE || (ops->queue_max & (ops->queue_max - 1)))
		return kxl_err(diag, "%s: internal error: bad queue geometry", ops->name);
	if (slot >= KXL_VIRTIO_MMIO_MAX)
		return kxl_err(diag, "%s: no virtio-mmio window left (kxl has %d)", ops->name,
			       KXL_VIRTIO_MMIO_MAX);
	d->ops = ops;
	d->priv = priv;
	d->id = id ? id : ops->name;
	d->mem = mem;
	d->slot = slot;
	d->gsi = KXL_VIRTIO_MMIO_GSI(slot);
	d->offered = ops->features | TRANSPORT_FEATURES;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->started, NULL);
	d->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->irq_fd < 0 || d->resample_fd < 0 || d->wake_fd < 0)
		return kxl_err(diag, "%s: eventfd: %s", ops->name, strerror(errno));
	for (unsigned i = 0; i < ops->nr_queues; i++) {
		d->vq[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->vq[i].kick_fd < 0)
			return kxl_err(diag, "%s: eventfd: %s", ops->name, strerror(errno));
	}
	transport_reset(d);
	return 0;
}

/* The device thread. It names itself ("vio-" and the device's id, for
 * /proc and debuggers) and says it runs before virtio_dev_attach returns:
 * glibc's start of a thread makes system calls (rseq, set_robust_list)
 * that the seccomp filter, installed right after the attach step, need
 * not allow. */
static void *dev_thread(void *opaque)
{
	struct virtio_dev *d = opaque;
	char name[16];

	snprintf(name, sizeof(name), "vio-%s", d->id);
	prctl(PR_SET_NAME, name);
	pthread_mutex_lock(&d->lock);
	d->thread_started = true;
	pthread_cond_broadcast(&d->started);
	pthread_mutex_unlock(&d->lock);
	for (;;)
		virtio_dev_poll(d, -1);
	return NULL;
}

int virtio_dev_attach(struct vm *vm, struct virtio_dev *d, struct kxl_diag *diag)
{
	uint64_t base = KXL_GPA_VIRTIO_MMIO + d->slot * KXL_VIRTIO_MMIO_SIZE;

	d->vm = vm;
	for (unsigned i = 0; i < d->ops->nr_queues; i++) {
		struct kvm_ioeventfd io = {
			.datamatch = i,
			.addr = base + REG_QUEUE_NOTIFY,
			.len = 4,
			.fd = d->vq[i].kick_fd,
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
			return kxl_err(diag, "%s: KVM_IOEVENTFD: %s", d->ops->name, strerror(errno));
	}
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)d->irq_fd,
		.gsi = d->gsi,
		.flags = KVM_IRQFD_FLAG_RESAMPLE,
		.resamplefd = (uint32_t)d->resample_fd,
	};
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return kxl_err(diag, "%s: KVM_IRQFD (GSI %u, resample): %s", d->ops->name, d->gsi,
			       strerror(errno));
	int r = pthread_create(&d->thread, NULL, dev_thread, d);
	if (r)
		return kxl_err(diag, "%s: cannot start its thread: %s", d->ops->name, strerror(r));
	pthread_mutex_lock(&d->lock);
	while (!d->thread_started)
		pthread_cond_wait(&d->started, &d->lock);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void virtio_irq(struct virtio_dev *d, uint32_t why)
{
	atomic_fetch_or(&d->isr, why);
	kick_thread(d->irq_fd);
}

void virtio_notify_used(struct virtio_dev *d, struct virtq *q)
{
	if (virtq_need_interrupt(q))
		virtio_irq(d, VIRTIO_INT_VRING);
}

void virtio_dev_fail(struct virtio_dev *d, const char *fmt, ...)
{
	va_list ap;
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	va_start(ap, fmt);
	vsnprintf(d->error, sizeof(d->error), fmt, ap);
	va_end(ap);
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	d->active = false;
	dev_log(d, "the driver broke the device, which now needs a reset: %s", d->error);
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_irq(d, VIRTIO_INT_CONFIG);
}

void virtio_dev_wake(struct virtio_dev *d)
{
	kick_thread(d->wake_fd);
}

void virtio_dev_watch(struct virtio_dev *d, int fd, short events)
{
	d->watch_fd = events ? fd : -1;
	d->watch_events = fd >= 0 ? events : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void virtio_dev_timer(struct virtio_dev *d, uint64_t ns)
{
	d->timer_at = ns ? now_ns() + ns : 0;
}

static void drain(int fd)
{
	uint64_t n;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* nothing there: a spurious wakeup */
	}
}

void virtio_dev_poll(struct virtio_dev *d, int timeout_ms)
{
	struct pollfd p[3 + VIRTIO_MAX_QUEUES];
	unsigned n = 0, nq = d->ops->nr_queues;

	pthread_mutex_lock(&d->lock);
	p[n++] = (struct pollfd){ .fd = d->wake_fd, .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = d->resample_fd, .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = d->active ? d->watch_fd : -1, .events = d->watch_events };
	for (unsigned i = 0; i < nq; i++)
		p[n++] = (struct pollfd){ .fd = d->vq[i].kick_fd, .events = POLLIN };
	if (d->timer_at && d->active) {
		uint64_t now = now_ns();
		int ms = d->timer_at <= now ? 0 : (int)((d->timer_at - now + 999999) / 1000000);
		if (timeout_ms < 0 || ms < timeout_ms)
			timeout_ms = ms;
	}
	pthread_mutex_unlock(&d->lock);

	if (poll(p, n, timeout_ms) < 0 && errno != EINTR)
		return;

	pthread_mutex_lock(&d->lock);
	bool woken = p[0].revents & POLLIN;
	if (woken)
		drain(d->wake_fd);
	if (p[1].revents & POLLIN) {
		/* the guest EOIed the shared line: still pending means raise again */
		drain(d->resample_fd);
		if (atomic_load(&d->isr))
			kick_thread(d->irq_fd);
	}
	unsigned pending = atomic_exchange(&d->pending, 0);
	for (unsigned i = 0; i < nq; i++)
		if (p[3 + i].revents & POLLIN) {
			drain(d->vq[i].kick_fd);
			pending |= 1u << i;
		}
	for (unsigned i = 0; i < nq && d->active; i++)
		if ((pending & (1u << i)) && d->vq[i].ready)
			d->ops->notify(d, &d->vq[i]);
	if (d->active && p[2].fd >= 0 && p[2].fd == d->watch_fd && p[2].revents && d->ops->fd_event)
		d->ops->fd_event(d, p[2].fd, p[2].revents);
	if (d->active && d->timer_at && now_ns() >= d->timer_at) {
		d->timer_at = 0;
		if (d->ops->timer)
			d->ops->timer(d);
	}
	if (d->active && woken && d->ops->wake)
		d->ops->wake(d);
	pthread_mutex_unlock(&d->lock);
	if (d->ops->unlocked)
		d->ops->unlocked(d);
}

/* ---- registers ---- */

static bool phase(const struct virtio_dev *d, uint32_t want)
{
	return (d->status & PHASE_MASK) == want;
}

#define FEATURE_PHASE (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER)
#define QUEUE_PHASE (FEATURE_PHASE | VIRTIO_STATUS_FEATURES_OK)

static void device_reset(struct virtio_dev *d)
{
	if (d->ops->reset)
		d->ops->reset(d);
	transport_reset(d);
}

static void status_write(struct virtio_dev *d, uint32_t v)
{
	uint32_t cur = d->status & PHASE_MASK;

	if (v == 0) {
		device_reset(d);
		return;
	}
	if (d->status & VIRTIO_STATUS_NEEDS_RESET) {
		if (v & VIRTIO_STATUS_FAILED)
			d->status |= VIRTIO_STATUS_FAILED;
		return;
	}
	if (v & VIRTIO_STATUS_FAILED) {
		d->status |= VIRTIO_STATUS_FAILED;
		d->active = false;
		return;
	}
	uint32_t add = (v & PHASE_MASK) & ~cur;
	if ((v & cur) != cur || (v & ~PHASE_MASK)) {
		dev_log(d, "ignored status %#x: it clears bits of %#x or sets unknown ones", v, cur);
		return;
	}
	if (add == VIRTIO_STATUS_ACKNOWLEDGE && cur == 0) {
		d->status |= add;
	} else if (add == VIRTIO_STATUS_DRIVER && cur == VIRTIO_STATUS_ACKNOWLEDGE) {
		d->status |= add;
	} else if (add == VIRTIO_STATUS_FEATURES_OK && cur == FEATURE_PHASE) {
		if (!(d->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
			dev_log(d, "refused FEATURES_OK: the driver did not accept VERSION_1");
		else if (d->driver_features & ~d->offered)
			dev_log(d, "refused FEATURES_OK: the driver accepted features %#llx that were not offered",
				(unsigned long long)(d->driver_features & ~d->offered));
		else
			d->status |= add;
	} else if (add == VIRTIO_STATUS_DRIVER_OK && cur == QUEUE_PHASE) {
		d->status |= add;
		if (d->ops->activate && d->ops->activate(d) < 0) {
			virtio_dev_fail(d, "the device could not start");
			return;
		}
		d->active = true;
		/* serve whatever the driver queued before DRIVER_OK */
		unsigned all = 0;
		for (unsigned i = 0; i < d->ops->nr_queues; i++)
			if (d->vq[i].ready)
				all |= 1u << i;
		atomic_fetch_or(&d->pending, all);
		virtio_dev_wake(d);
	} else if (add) {
		dev_log(d, "ignored status %#x: not the next step after %#x", v, cur);
	}
}

static struct virtq *sel_queue(struct virtio_dev *d)
{
	return d->queue_sel < d->ops->nr_queues ? &d->vq[d->queue_sel] : NULL;
}

static void set_lo(uint64_t *x, uint32_t v)
{
	*x = (*x & 0xffffffff00000000ULL) | v;
}

static void set_hi(uint64_t *x, uint32_t v)
{
	*x = (*x & 0xffffffffULL) | ((uint64_t)v << 32);
}

static void queue_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	struct virtq *q = sel_queue(d);

	if (!phase(d, QUEUE_PHASE)) {
		dev_log(d, "ignored a queue register write at %#llx outside the queue setup phase",
			(unsigned long long)off);
		return;
	}
	if (!q) {
		dev_log(d, "ignored a write at %#llx for queue %u, which does not exist",
			(unsigned long long)off, d->queue_sel);
		return;
	}
	if (off == REG_QUEUE_READY) {
		if (!(v & 1)) {
			q->ready = false;
			return;
		}
		if (q->ready)
			return;
		bool ev = d->driver_features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
		bool ind = d->driver_features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
		if (q->size > d->ops->queue_max) {
			virtio_dev_fail(d, "queue %u: size %u is above the maximum %u", q->idx,
					q->size, d->ops->queue_max);
			return;
		}
		if (virtq_setup(q, d->mem, q->size, q->desc_gpa, q->avail_gpa, q->used_gpa, ev, ind) < 0)
			virtio_dev_fail(d, "queue %u: %s", q->idx, q->error);
		return;
	}
	if (q->ready) {
		dev_log(d, "ignored a write at %#llx for queue %u, which is ready",
			(unsigned long long)off, q->idx);
		return;
	}
	switch (off) {
	case REG_QUEUE_NUM: q->size = (uint16_t)(v > 0xffff ? 0 : v); break;
	case REG_QUEUE_DESC_LO: set_lo(&q->desc_gpa, v); break;
	case REG_QUEUE_DESC_HI: set_hi(&q->desc_gpa, v); break;
	case REG_QUEUE_DRIVER_LO: set_lo(&q->avail_gpa, v); break;
	case REG_QUEUE_DRIVER_HI: set_hi(&q->avail_gpa, v); break;
	case REG_QUEUE_DEVICE_LO: set_lo(&q->used_gpa, v); break;
	case REG_QUEUE_DEVICE_HI: set_hi(&q->used_gpa, v); break;
	}
}

static void reg_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	switch (off) {
	case REG_DEV_FEATURES_SEL:
		d->dev_features_sel = v;
		break;
	case REG_DRV_FEATURES_SEL:
		d->drv_features_sel = v;
		break;
	case REG_DRV_FEATURES:
		if (!phase(d, FEATURE_PHASE)) {
			dev_log(d, "ignored a driver features write outside the feature phase");
			break;
		}
		if (d->drv_features_sel == 0)
			set_lo(&d->driver_features, v);
		else if (d->drv_features_sel == 1)
			set_hi(&d->driver_features, v);
		else if (v)
			d->driver_features |= 1ULL << 63;	/* a bit nobody offered: refused */
		break;
	case REG_QUEUE_SEL:
		d->queue_sel = v;
		break;
	case REG_QUEUE_NUM:
	case REG_QUEUE_READY:
	case REG_QUEUE_DESC_LO: case REG_QUEUE_DESC_HI:
	case REG_QUEUE_DRIVER_LO: case REG_QUEUE_DRIVER_HI:
	case REG_QUEUE_DEVICE_LO: case REG_QUEUE_DEVICE_HI:
		queue_write(d, off, v);
		break;
	case REG_QUEUE_NOTIFY:
		/* Only what the ioeventfds did not match comes here (and all of
		 * it without KVM): a valid queue of an active device is served
		 * on the device thread. */
		if (d->active && v < d->ops->nr_queues) {
			atomic_fetch_or(&d->pending, 1u << v);
			virtio_dev_wake(d);
		}
		break;
	case REG_INT_ACK:
		atomic_fetch_and(&d->isr, ~v);
		break;
	case REG_STATUS:
		status_write(d, v);
		break;
	case REG_SHM_SEL:
		d->shm_sel = v;
		break;
	default:
		dev_log(d, "ignored a write of %#x at register %#llx", v, (unsigned long long)off);
		break;
	}
}

static uint32_t reg_read(struct virtio_dev *d, uint64_t off)
{
	struct virtq *q = sel_queue(d);
	switch (off) {
	case REG_MAGIC: return MAGIC;
	case REG_VERSION: return 2;
	case REG_DEVICE_ID: return d->ops->device_id;
	case REG_VENDOR_ID: return VENDOR;
	case REG_DEV_FEATURES:
		return d->dev_features_sel == 0 ? (uint32_t)d->offered :
		       d->dev_features_sel == 1 ? (uint32_t)(d->offered >> 32) : 0;
	case REG_QUEUE_NUM_MAX: return q ? d->ops->queue_max : 0;
	case REG_QUEUE_READY: return q && q->ready;
	case REG_INT_STATUS: return atomic_load(&d->isr);
	case REG_STATUS: return d->status;
	case REG_SHM_LEN_LO: case REG_SHM_LEN_HI:
	case REG_SHM_BASE_LO: case REG_SHM_BASE_HI:
		return 0xffffffff;	/* no shared memory regions */
	case REG_CONFIG_GEN: return d->config_generation;
	default: return 0;
	}
}

void virtio_mmio_access(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len, bool write)
{
	pthread_mutex_lock(&d->lock);
	if (off >= REG_CONFIG) {
		uint64_t c = off - REG_CONFIG;
		bool ok = (len == 1 || len == 2 || len == 4 || len == 8) &&
			  c < d->ops->config_size && len <= d->ops->config_size - c;
		if (!write) {
			memset(data, 0, len);
			if (ok && d->ops->config_read)
				d->ops->config_read(d, (uint32_t)c, data, len);
		} else if (ok && d->ops->config_write && (d->status & VIRTIO_STATUS_DRIVER) &&
			   !(d->status & (VIRTIO_STATUS_FAILED | VIRTIO_STATUS_NEEDS_RESET))) {
			d->ops->config_write(d, (uint32_t)c, data, len);
		}
	} else if (len != 4 || (off & 3)) {
		if (!write)
			memset(data, 0, len);
		dev_log(d, "ignored a %u-byte %s at register %#llx", len, write ? "write" : "read",
			(unsigned long long)off);
	} else if (write) {
		uint32_t v;
		memcpy(&v, data, 4);
		reg_write(d, off, v);
	} else {
		uint32_t v = reg_read(d, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&d->lock);
}

/* ---- state ---- */

struct saved_queue {
	uint64_t desc, avail, used;
	uint16_t size, last_avail_idx, used_idx, signalled_used;
	uint8_t ready, signalled_valid, failed, pad;
};

struct saved_transport {
	uint32_t magic, device_id, status, dev_features_sel, drv_features_sel, queue_sel, shm_sel;
	uint32_t config_generation, isr, nr_queues;
	uint64_t driver_features;
	struct saved_queue q[VIRTIO_MAX_QUEUES];
};

size_t virtio_dev_save(struct virtio_dev *d, uint8_t *buf, size_t cap)
{
	struct saved_transport t;
	memset(&t, 0, sizeof(t));
	pthread_mutex_lock(&d->lock);
	t.magic = MAGIC;
	t.device_id = d->ops->device_id;
	t.status = d->status;
	t.dev_features_sel = d->dev_features_sel;
	t.drv_features_sel = d->drv_features_sel;
	t.queue_sel = d->queue_sel;
	t.shm_sel = d->shm_sel;
	t.config_generation = d->config_generation;
	t.isr = atomic_load(&d->isr);
	t.nr_queues = d->ops->nr_queues;
	t.driver_features = d->driver_features;
	for (unsigned i = 0; i < d->ops->nr_queues; i++) {
		const struct virtq *q = &d->vq[i];
		t.q[i] = (struct saved_queue){ .desc = q->desc_gpa, .avail = q->avail_gpa,
			.used = q->used_gpa, .size = q->size, .last_avail_idx = q->last_avail_idx,
			.used_idx = q->used_idx, .signalled_used = q->signalled_used,
			.ready = q->ready, .signalled_valid = q->signalled_valid, .failed = q->failed };
	}
	size_t n = sizeof(t);
	if (n <= cap)
		memcpy(buf, &t, sizeof(t));
	if (d->ops->save)
		n += d->ops->save(d, n <= cap ? buf + n : NULL, n <= cap ? cap - n : 0);
	pthread_mutex_unlock(&d->lock);
	return n;
}

int virtio_dev_restore(struct virtio_dev *d, const uint8_t *buf, size_t len)
{
	struct saved_transport t;
	if (len < sizeof(t))
		return -1;
	memcpy(&t, buf, sizeof(t));
	if (t.magic != MAGIC || t.device_id != d->ops->device_id || t.nr_queues != d->ops->nr_queues)
		return -1;
	pthread_mutex_lock(&d->lock);
	transport_reset(d);
	d->status = t.status;
	d->dev_features_sel = t.dev_features_sel;
	d->drv_features_sel = t.drv_features_sel;
	d->queue_sel = t.queue_sel;
	d->shm_sel = t.shm_sel;
	d->config_generation = t.config_generation;
	atomic_store(&d->isr, t.isr);
	d->driver_features = t.driver_features;
	int r = 0;
	bool ev = d->driver_features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	bool ind = d->driver_features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	for (unsigned i = 0; i < d->ops->nr_queues && !r; i++) {
		struct virtq *q = &d->vq[i];
		const struct saved_queue *s = &t.q[i];
		q->size = s->size;
		q->desc_gpa = s->desc;
		q->avail_gpa = s->avail;
		q->used_gpa = s->used;
		if (s->ready) {
			if (virtq_setup(q, d->mem, s->size, s->desc, s->avail, s->used, ev, ind) < 0)
				r = -1;
			q->last_avail_idx = s->last_avail_idx;
			q->used_idx = s->used_idx;
			q->signalled_used = s->signalled_used;
			q->signalled_valid = s->signalled_valid;
		}
		q->failed = s->failed;
	}
	d->active = !r && (d->status & VIRTIO_STATUS_DRIVER_OK) &&
		    !(d->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
	if (!r && d->ops->restore)
		r = d->ops->restore(d, buf + sizeof(t), len - sizeof(t));
	pthread_mutex_unlock(&d->lock);
	return r;
}
