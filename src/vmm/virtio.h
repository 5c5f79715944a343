/*
 * virtio.h: the API that kxl's virtio device models program against: the
 * split virtqueue (a bounded, copy-once chain walker and the used ring),
 * interrupts through irqfd, and the virtio-mmio (version 2) transport that
 * owns the registers, the status state machine and one thread per device.
 *
 * API stable from here: H5 builds on it (virtio-blk), and virtio-net after.
 *
 * A device model is one file with
 *   - a `const struct virtio_dev_ops` (device id, features, queues, config
 *     space, hooks), and
 *   - a `const struct virtio_kind` row (its enum kxl_vdev_type, its ops and a
 *     create hook that turns the parent's struct kxl_vmm_vdev into the
 *     device's private state),
 * and one line in the table of virtio kinds in devices.c. See
 * docs/ARCHITECTURE.md, "Adding a device".
 *
 * How a device gets its configuration and file descriptors (for H5):
 * the parent (kxl_vmm_run's caller, i.e. src/model + src/life) fills
 * kxl_vmm_spec.vdevs[] (include/kxl/vmm.h): one struct kxl_vmm_vdev per
 * device with its type, an id for messages ("xvda"), up to
 * KXL_VDEV_MAX_FDS file descriptors it opened with privilege (disk image,
 * tap; they are inherited by the child across fork and must stay open
 * there: put them in the child's keep-list of fds) and a type-specific
 * `cfg` pointer (virtio-blk: a struct that H5 defines in vmm.h). The child
 * calls the kind's create hook with it before the seccomp filter exists,
 * so create may allocate, fstat, and start extra worker threads; nothing
 * after that may open files or create threads.
 *
 * Threads and locking:
 *   - vCPU threads only touch the registers (virtio_mmio_access()), under
 *     d->lock; the DRIVER_OK write calls ops->activate there (keep it
 *     short: no blocking I/O) and then wakes the device thread.
 *   - Each device has one thread, "vio-<id>" (running before the attach
 *     step returns, so before seccomp), that waits on its queues'
 *     ioeventfds, its irqfd resample fd, a wake eventfd, an optional
 *     watched fd and an optional timer, and calls
 *     ops->notify / ops->fd_event / ops->timer / ops->wake with d->lock
 *     held, then ops->unlocked without it (for blocking I/O such as
 *     writing console output). A guest notify never runs device code on
 *     a vCPU thread: KVM signals the ioeventfd in the kernel.
 *   - Reset (status 0) runs ops->reset on the vCPU thread under d->lock:
 *     when it returns the device no longer touches guest memory. Devices
 *     with their own workers wait for them to drop the queues there.
 *
 * Guest memory: the builder's memfd (struct kxl_guest_image), mapped once;
 * virtio_gpa() translates a guest-physical range to a host pointer only if
 * the whole range is RAM of one memory slot (never the MMIO hole, never
 * past the end, never wrapping). Queue areas are translated when the
 * driver sets QueueReady; every buffer is translated as its descriptor is
 * walked.
 */
#ifndef KXL_VMM_VIRTIO_H
#define KXL_VMM_VIRTIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kxl/boot.h>
#include <kxl/diag.h>
#include <kxl/vmm.h>

struct vm;
struct virtio_dev;

/* ---- constants of the virtio 1.2 specification ---- */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_RNG		4

#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32
#define VIRTIO_BIT(n)		(1ULL << (n))

#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTIO_INT_VRING	0x1	/* InterruptStatus: used buffer notification */
#define VIRTIO_INT_CONFIG	0x2	/* InterruptStatus: configuration change */

#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* Limits of kxl's devices (not of the spec). */
#define VIRTQ_MAX_SIZE		256	/* largest QueueNumMax a device may offer */
#define VIRTIO_MAX_QUEUES	8	/* queues per device */

/* ---- guest memory ---- */

/* Host pointer of guest-physical [gpa, gpa + len) when the whole range is
 * RAM of one memory slot; NULL otherwise (MMIO hole, beyond memory,
 * wrapping, mem NULL). Safe for any input. */
void *virtio_gpa(const struct kxl_guest_image *mem, uint64_t gpa, uint64_t len);

/* ---- split virtqueue ---- */

/* One queue. The transport fills the driver-set fields; a device reads
 * `ready` and `size` and otherwise uses only the functions below. */
struct virtq {
	/* driver-set through the registers */
	uint16_t size;			/* QueueNum: power of 2, <= the device's max */
	bool ready;			/* QueueReady; the areas below are valid */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* resolved at QueueReady */
	uint8_t *desc;			/* 16 * size bytes */
	uint8_t *avail;			/* 6 + 2 * size bytes */
	uint8_t *used;			/* 6 + 8 * size bytes */
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_F_INDIRECT_DESC negotiated */
	/* device side */
	uint16_t last_avail_idx;	/* next avail ring entry to take */
	uint16_t used_idx;		/* next used ring entry to fill */
	uint16_t signalled_used;	/* used_idx at the last interrupt (event idx) */
	bool signalled_valid;
	const struct kxl_guest_image *mem;
	struct virtio_dev *dev;		/* NULL when used alone (tests, fuzzing) */
	unsigned idx;			/* queue index */
	int kick_fd;			/* ioeventfd of QueueNotify == idx; -1: none */
	bool failed;			/* virtq_pop found the queue broken */
	const char *error;		/* why (a static string) */
	/* Called once when virtq_pop finds the queue broken; the transport
	 * sets it to put the device into DEVICE_NEEDS_RESET. NULL: nothing. */
	void (*broken)(struct virtq *q);
};

/* One buffer of a chain: host pointer into guest RAM, its length, and
 * whether the device may write it (VIRTQ_DESC_F_WRITE). */
struct virtq_seg {
	uint8_t *hva;
	uint32_t len;
	bool write;
};

/* One descriptor chain as the walker found it. Device-readable segments
 * come first (nr_read of them), device-writable ones after; zero-length
 * descriptors are walked and counted but produce no segment. */
struct virtq_elem {
	uint16_t head;			/* for virtq_push */
	unsigned nr_segs, nr_read;
	unsigned ring_descs;		/* descriptors of the queue's own table it took
					 * (an indirect table's count as one) */
	uint32_t read_len;		/* bytes the device may read, in total */
	uint32_t write_len;		/* bytes the device may write, in total */
	struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

/* Sets up a queue of `size` entries on the areas at the given addresses
 * (what QueueReady does): checks size (power of 2, 1..VIRTQ_MAX_SIZE),
 * alignment (16, 2, 4) and that each area lies in RAM, and resets the
 * device-side indices. Returns 0, or -1 with q->error set and q->ready
 * false. */
int virtq_setup(struct virtq *q, const struct kxl_guest_image *mem, uint16_t size,
		uint64_t desc, uint64_t avail, uint64_t used, bool event_idx, bool indirect);

/* Takes the next available chain, if any. Each descriptor (also inside an
 * indirect table) is copied out of guest memory exactly once and checked
 * after the copy: index in range, chain no longer than the queue (or the
 * indirect table), no descriptor visited twice, every buffer entirely in
 * RAM, readable before writable, no nested indirect tables, INDIRECT not
 * combined with NEXT, totals within 32 bits. Returns 1 with *e filled, 0
 * when the ring is empty, -1 when the driver broke the queue: q->error says
 * how, and (through q->broken) the device is put into DEVICE_NEEDS_RESET
 * and stops; every later call returns -1 until the queue is set up again. With event idx, writes avail_event so that the driver notifies
 * again at the next buffer. */
int virtq_pop(struct virtq *q, struct virtq_elem *e);

/* Gives the last popped chain back (the device cannot serve it now, e.g.
 * no input yet): the next virtq_pop returns it again. */
void virtq_unpop(struct virtq *q);

/* True when the driver has made buffers available that were not popped. */
bool virtq_has_avail(const struct virtq *q);

/* Returns a chain to the driver: writes the used element (head, `written`
 * bytes the device wrote into its writable segments), then publishes the
 * used index with a release barrier. Call virtq_notify() after a batch. */
void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t written);

/* For a device that returns several chains at once (virtio-net's merged
 * receive buffers, whose driver must see all of a frame's buffers in one
 * used index update): virtq_fill writes the used element `k` places after
 * the next one (a chain's head as virtq_pop gave it, `written` bytes, which
 * the caller bounds by the chain's write_len) without publishing it;
 * virtq_flush then publishes `n` filled elements with one release store. */
void virtq_fill(struct virtq *q, unsigned k, uint16_t head, uint32_t written);
void virtq_flush(struct virtq *q, unsigned n);

/* True when the driver wants an interrupt for what was pushed since the
 * last one (VRING_AVAIL_F_NO_INTERRUPT, or used_event with event idx);
 * a full barrier orders the used index before the driver's flags. */
bool virtq_need_interrupt(struct virtq *q);

/* Copies between a chain and a host buffer: virtq_read takes up to n bytes
 * from the readable segments starting at byte `off` of them; virtq_write
 * puts up to n bytes into the writable segments at `off`. Both return the
 * number of bytes copied. Copy a request header once with virtq_read and
 * check the copy, never the guest's memory again. */
size_t virtq_read(const struct virtq_elem *e, size_t off, void *dst, size_t n);
size_t virtq_write(const struct virtq_elem *e, size_t off, const void *src, size_t n);

/* ---- device models ---- */

/* What a device kind tells the transport. Hooks marked (lock) run with
 * d->lock held; all may be NULL except notify. */
struct virtio_dev_ops {
	const char *name;		/* "virtio-rng": messages */
	uint32_t device_id;		/* VIRTIO_ID_* */
	uint64_t features;		/* device features offered; the transport adds
					 * VERSION_1, EVENT_IDX and INDIRECT_DESC */
	unsigned nr_queues;		/* <= VIRTIO_MAX_QUEUES */
	uint16_t queue_max;		/* QueueNumMax: power of 2 <= VIRTQ_MAX_SIZE */
	uint32_t config_size;		/* bytes of configuration space at 0x100 */

	/* Configuration space (vCPU thread, lock): off + len <= config_size,
	 * len 1, 2, 4 or 8. config_write NULL: writes are ignored. */
	void (*config_read)(struct virtio_dev *d, uint32_t off, uint8_t *data, unsigned len);
	void (*config_write)(struct virtio_dev *d, uint32_t off, const uint8_t *data, unsigned len);

	/* The driver set DRIVER_OK (vCPU thread, lock): the negotiated
	 * features are in d->driver_features and the ready queues are set
	 * up. Returns 0, or -1 to put the device into DEVICE_NEEDS_RESET.
	 * The device thread runs notify for every ready queue right after. */
	int (*activate)(struct virtio_dev *d);

	/* Queue q was notified, or the device was activated (device thread,
	 * lock): pop, serve, push, virtio_notify_used(). Never called while
	 * the device is not DRIVER_OK or is broken. */
	void (*notify)(struct virtio_dev *d, struct virtq *q);

	/* The fd given to virtio_dev_watch() is ready (device thread, lock). */
	void (*fd_event)(struct virtio_dev *d, int fd, short revents);
	/* The timer of virtio_dev_timer() expired (device thread, lock). */
	void (*timer)(struct virtio_dev *d);
	/* Someone called virtio_dev_wake() (device thread, lock). */
	void (*wake)(struct virtio_dev *d);
	/* After each round of the device thread, WITHOUT the lock: the place
	 * for I/O that may block (it must not touch the queues). */
	void (*unlocked)(struct virtio_dev *d);

	/* Status 0 or a new boot (vCPU thread, lock): forget the driver's
	 * state; when it returns, nothing of the device touches guest
	 * memory. The transport resets its own registers and queues. */
	void (*reset)(struct virtio_dev *d);

	/* Save/restore of the device's own state (beyond the transport's,
	 * which virtio_dev_save() covers). save returns the bytes written
	 * into buf (at most cap), restore 0 or -1. Both NULL: the device
	 * has no state of its own. */
	size_t (*save)(struct virtio_dev *d, uint8_t *buf, size_t cap);
	int (*restore)(struct virtio_dev *d, const uint8_t *buf, size_t len);
};

/* A virtio device instance: the transport's registers, the queues and
 * the device's private state. */
struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;			/* the device model's state (create hook) */
	const char *id;			/* for messages: "rng", "console", "xvda" */
	struct vm *vm;			/* NULL without KVM (tests) */
	const struct kxl_guest_image *mem;
	unsigned slot;			/* window KXL_GPA_VIRTIO_MMIO + slot * SIZE */
	unsigned gsi;			/* its (shared, level) interrupt */

	pthread_mutex_t lock;
	/* transport registers */
	uint32_t status;
	uint32_t dev_features_sel, drv_features_sel, queue_sel, shm_sel;
	uint64_t offered;		/* ops->features + the transport's */
	uint64_t driver_features;	/* what the driver accepted */
	uint32_t config_generation;
	atomic_uint isr;		/* InterruptStatus */
	bool active;			/* DRIVER_OK reached and not broken */
	struct virtq vq[VIRTIO_MAX_QUEUES];

	/* the device thread */
	int irq_fd, resample_fd, wake_fd;	/* -1 when absent */
	int watch_fd;			/* virtio_dev_watch(); -1: none */
	short watch_events;
	uint64_t timer_at;		/* CLOCK_MONOTONIC ns; 0: none */
	atomic_uint pending;		/* queues notified without an eventfd (bit per queue) */
	char error[128];		/* why the device needs a reset, or "" */
	bool thread_started;		/* under lock; the attach waits for it */
	pthread_cond_t started;
	pthread_t thread;
};

/* One row per device kind that the parent can ask for. */
struct virtio_kind {
	enum kxl_vdev_type type;
	const struct virtio_dev_ops *ops;
	/* Builds d->priv from the parent's description (before seccomp: may
	 * allocate and start worker threads). Returns 0, or -1 with *diag. */
	int (*create)(struct virtio_dev *d, const struct kxl_vmm_vdev *cfg, struct kxl_diag *diag);
};

/* Initialises the transport state of d for a device of kind `ops` in
 * window `slot`: registers, queues, the eventfds (kick per queue, irq,
 * resample, wake). Needs no KVM. Returns 0 or -1 with *diag. */
int virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops, void *priv,
		    const char *id, const struct kxl_guest_image *mem, unsigned slot,
		    struct kxl_diag *diag);

/* Wires d into the VM (KVM_IOEVENTFD per queue on QueueNotify with the
 * queue index as datamatch, KVM_IRQFD with a resample fd on d->gsi) and
 * starts the device thread. Before seccomp. Returns 0 or -1 with *diag. */
int virtio_dev_attach(struct vm *vm, struct virtio_dev *d, struct kxl_diag *diag);

/* A register access of the guest at offset `off` of the device's window
 * (vCPU thread). Takes d->lock. Any offset, length and value is safe:
 * what the spec does not allow is ignored (reads give 0). */
void virtio_mmio_access(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len, bool write);

/* One round of the device thread: waits up to timeout_ms (-1: forever)
 * for an event and runs the hooks it calls for. Tests call it directly
 * with 0 instead of starting a thread. */
void virtio_dev_poll(struct virtio_dev *d, int timeout_ms);

/* Raises the device's interrupt with InterruptStatus bits `why`
 * (VIRTIO_INT_*): sets them and signals the irqfd. Any thread. */
void virtio_irq(struct virtio_dev *d, uint32_t why);

/* After pushing to q: raises VIRTIO_INT_VRING if the driver wants it. */
void virtio_notify_used(struct virtio_dev *d, struct virtq *q);

/* The driver broke the device (a bad chain, an impossible request): sets
 * DEVICE_NEEDS_RESET, stops the device (no more hooks until a reset),
 * raises a configuration interrupt if DRIVER_OK, logs why (rate-limited).
 * Call with d->lock held (device thread or vCPU thread). */
void virtio_dev_fail(struct virtio_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Makes the device thread call ops->wake soon. Any thread, no lock. */
void virtio_dev_wake(struct virtio_dev *d);

/* Watches fd for `events` on the device thread (ops->fd_event) while the
 * device is active; fd -1 or events 0 stops watching. Device thread or
 * lock held. A reset forgets the watch and the timer: set them again in
 * activate. */
void virtio_dev_watch(struct virtio_dev *d, int fd, short events);

/* Arms the device's one-shot timer `ns` from now (0: disarm); ops->timer
 * runs when it expires. Device thread or lock held. */
void virtio_dev_timer(struct virtio_dev *d, uint64_t ns);

/* The transport's own state (registers, queue addresses and indices)
 * followed by the device's (ops->save). Returns the bytes needed; writes
 * them only if they fit in cap. virtio_dev_restore takes such a blob
 * back (the device must be freshly initialised): 0, or -1 if malformed. */
size_t virtio_dev_save(struct virtio_dev *d, uint8_t *buf, size_t cap);
int virtio_dev_restore(struct virtio_dev *d, const uint8_t *buf, size_t len);

/* The virtio kinds (devices.c) and the ones kxl ships. */
const struct virtio_kind *virtio_kind_find(enum kxl_vdev_type type);
extern const struct virtio_kind virtio_rng_kind;
extern const struct virtio_kind virtio_console_kind;
extern const struct virtio_kind virtio_blk_kind;
extern const struct virtio_kind virtio_net_kind;

#endif
