/*
 * priv.h: the VMM's internal structures, shared by the files of src/vmm.
 *
 * struct vm is the state of the child process that runs a guest: the KVM
 * file descriptors, the vCPU threads and the emulated devices. Device state
 * is guarded by vm->dev_lock (one lock: the devices are tiny and guests
 * are slow). The parent/child messages (struct vmm_msg) travel on a
 * SOCK_SEQPACKET socketpair.
 */
#ifndef KXL_VMM_PRIV_H
#define KXL_VMM_PRIV_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <kxl/boot.h>
#include <kxl/diag.h>
#include <kxl/vmm.h>

/* Sanitizer builds (gcc defines __SANITIZE_*__, clang has __has_feature). */
#if defined(__SANITIZE_THREAD__)
#define KXL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KXL_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define KXL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KXL_ASAN 1
#endif
#endif
#ifndef KXL_TSAN
#define KXL_TSAN 0
#endif
#ifndef KXL_ASAN
#define KXL_ASAN 0
#endif
#include "vmm/conmerge.h"
#include "vmm/dev.h"

struct vm;
struct virtio_dev;

struct vcpu {
	struct vm *vm;
	unsigned idx;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool parked;		/* under vm->pause_lock */
	atomic_bool regs_lost;	/* KVM reset this vCPU before it reported a triple fault */
};

struct uart {
	uint8_t ier, lcr, mcr, lsr_extra, scr, dll, dlm, fcr;
	bool thre_pending;	/* THR empty interrupt latched */
	uint8_t rx[256];
	unsigned rx_head, rx_len;
	bool irq_level;
};

struct rtc {
	uint8_t index;
	uint8_t ram[128];
	int64_t offset;		/* seconds added to host UTC (localtime, rtc_timeoffset, guest writes) */
};

struct i8042 {
	uint8_t ctr;		/* controller configuration byte */
	uint8_t cmd;		/* a command waiting for its data byte */
	bool obf;		/* output buffer full */
	uint8_t out;
};

struct vmm_log {
	int fd;
	struct timespec window;
	unsigned in_window, suppressed;
};

/* Arguments handed from the parent to the child it forks. */
struct child_args {
	const struct kxl_guest_image *img;
	const char *name;
	int sock;		/* to the parent */
	int con_in, con_out;	/* -1: none */
	int log_fd;
	int64_t clock_offset;	/* seconds: localtime + rtc_timeoffset */
	bool start_paused;
	bool acpi;
	/* virtio devices, window i = vdevs[i] (run.c puts the default console
	 * and rng first); fds in them stay open in the child */
	const struct kxl_vmm_vdev *vdevs;
	unsigned nr_vdevs;
};

struct vm {
	const struct child_args *args;
	int kvm_fd, vm_fd;
	size_t run_size;
	struct vcpu *vcpus;
	unsigned nr_vcpus;
	int evfd;		/* vCPU threads -> main loop: a stop happened / rx space */

	pthread_mutex_t dev_lock;
	struct uart uart;
	struct rtc rtc;
	struct i8042 i8042;
	uint32_t ged_pending;
	struct virtio_dev *vdevs;	/* nr_vdevs of them, own locks */
	unsigned nr_vdevs;
	struct virtio_dev *hvc;		/* the virtio console, or NULL */
	struct conmerge con;		/* UART and hvc0 output into the console, line by line */
	struct vmm_log log;

	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	atomic_bool paused;	/* vCPUs must park; set under pause_lock, read anywhere */
	unsigned nr_parked;
	atomic_bool quit;

	atomic_int stop;	/* 0, or 1 + enum kxl_vmm_outcome of the first stop */
	char stop_detail[200];
};

/* ---- parent <-> child messages ---- */
enum vmm_msg_type {
	MSG_READY = 1,		/* child -> parent: VM built, a = paused */
	MSG_STOPPED,		/* child -> parent: a = outcome, text = detail */
	MSG_REPLY,		/* child -> parent: status, text */
	MSG_VCPU_STATE,		/* child -> parent: state of vCPU a */
	MSG_CMD,		/* parent -> child: a = enum kxl_vmm_cmd or CHILD_GETSTATE */
};
#define CHILD_GETSTATE 100	/* pause, send every vCPU's state, reply, resume */

struct vmm_msg {
	uint32_t type;
	uint32_t a;
	int32_t status;
	char text[240];
};

struct vmm_vcpu_state {
	uint32_t type;		/* MSG_VCPU_STATE */
	uint32_t idx;
	uint32_t flags;		/* VCPU_STATE_* */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

/* The registers are the CPU's reset state, not the guest's: kvm-amd resets
 * a vCPU at a triple fault before it reports KVM_EXIT_SHUTDOWN. */
#define VCPU_STATE_REGS_LOST	1u

/* monitor <-> kxl_vmm_run control messages (ctl.c, run.c) */
struct ctl_req {
	uint32_t cmd;		/* enum kxl_vmm_cmd */
	char arg[4096];
};
struct ctl_rep {
	int32_t status;
	char msg[256];
};

/* child.c */
int vmm_child_main(const struct child_args *a);
size_t child_keep_fds(const struct child_args *a, int *out, size_t max);

/* kvm.c */
int vm_create(struct vm *vm, struct kxl_diag *d);
void vm_irq_line(struct vm *vm, unsigned gsi, int level);

/* vcpu.c, cpuid.c */
int vcpu_create(struct vm *vm, struct vcpu *v, struct kxl_diag *d);
int vcpu_setup_cpuid(struct vm *vm, struct vcpu *v, struct kvm_cpuid2 *supported, struct kxl_diag *d);
struct kvm_cpuid2 *cpuid_get_supported(int kvm_fd, struct kxl_diag *d);
void *vcpu_thread(void *opaque);
void vm_request_stop(struct vm *vm, enum kxl_vmm_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vm_pause_all(struct vm *vm);
void vm_resume_all(struct vm *vm);
void vcpu_kick_init(void);
void vcpu_park(struct vcpu *v);

/* io.c: port and MMIO dispatch to the devices (through the registry) */
void io_port(struct vcpu *v, uint16_t port, uint8_t *data, unsigned size, bool write);
void io_mmio(struct vcpu *v, uint64_t addr, uint8_t *data, unsigned len, bool write);

/* devices; *_locked run under vm->dev_lock */
void uart_init(struct vm *vm);
void uart_io_locked(struct vm *vm, unsigned off, uint8_t *val, bool write, int *tx);
unsigned uart_rx_space_locked(struct vm *vm);
void uart_rx_push_locked(struct vm *vm, const uint8_t *buf, unsigned n);
/* virtio-console.c: console input goes to hvc0 once the guest uses it,
 * else to the UART; the main loop reads the console only while the
 * chosen sink has room (no lock held by the caller). */
unsigned console_rx_space(struct vm *vm);
void console_rx_push(struct vm *vm, const uint8_t *buf, unsigned n);
void rtc_init(struct vm *vm, int64_t offset);
void rtc_io_locked(struct vm *vm, unsigned off, uint8_t *val, bool write);
void i8042_io_locked(struct vm *vm, unsigned off, uint8_t *val, bool write);
void acpi_io_locked(struct vm *vm, uint16_t port, uint8_t *val, unsigned size, bool write);
void pvpanic_io_locked(struct vm *vm, uint8_t *val, bool write);
void ged_mmio_locked(struct vm *vm, uint64_t off, uint8_t *data, unsigned len, bool write);
void ged_power_button(struct vm *vm);

/* log.c: rate-limited messages to the log fd (async-signal-free, no malloc) */
void vmm_log(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vmm_log_limited(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* seccomp.c */
int vmm_seccomp_install(struct kxl_diag *d);

/* core.c: ELF core of guest memory and vCPU state (parent side) */
int vmm_write_core(const char *path, const struct kxl_guest_image *img,
		   const struct vmm_vcpu_state *st, unsigned n, struct kxl_diag *d);

/* strerror for code that runs under the seccomp filter: never translated
 * (a translation could open message catalogs). */
static inline const char *errdesc(int e)
{
	const char *s = strerrordesc_np(e);
	return s ? s : "unknown error";
}

/* Raises when a vCPU should leave KVM_RUN (the SIGUSR1 kick). */
#define VCPU_KICK_SIGNAL SIGUSR1

#endif
