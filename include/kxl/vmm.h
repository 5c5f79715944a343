/*
 * vmm.h: the kxl VMM's public API (src/vmm).
 *
 * kxl_vmm_run() runs one domain in the calling process's foreground until it
 * ends for good: it builds the guest image with kxl_boot_build(), forks a
 * child that creates the KVM VM, its vCPU threads and devices and then
 * locks itself down with a seccomp filter, and applies the on_poweroff,
 * on_reboot and on_crash actions when the guest stops (restart rebuilds into
 * fresh memory and a fresh child). The parent keeps no guest-facing code: it
 * only builds, forwards control commands, writes cores and restarts.
 *
 * Everything in struct kxl_vmm_spec is a plain value: the config model
 * (src/model) fills it, and so can a test driver.
 *
 * Exit codes (for kxl(1); kxl_vmm_exit_code() maps an outcome to them):
 *   0  the guest powered off (and its action did not restart it)
 *   1  kxl's own error (bad config, build failure, KVM failure, ...)
 *   2  usage error (the command line; never returned by the VMM)
 *   3  the guest rebooted and on_reboot did not restart it
 *   4  the guest crashed (triple fault, emulation failure, pvpanic)
 *   5  the domain was destroyed: SIGINT/SIGTERM/SIGHUP in the foreground,
 *      or a destroy command on the control channel
 */
#ifndef KXL_VMM_H
#define KXL_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kxl/boot.h>
#include <kxl/diag.h>

/* on_poweroff / on_reboot / on_crash (xl.cfg(5)). */
enum kxl_action {
	KXL_ACTION_DESTROY,
	KXL_ACTION_RESTART,
	KXL_ACTION_RENAME_RESTART,
	KXL_ACTION_PRESERVE,
	KXL_ACTION_COREDUMP_DESTROY,
	KXL_ACTION_COREDUMP_RESTART,
	KXL_ACTION_SOFT_RESET,		/* treated as restart */
};

/* Why the guest (last) stopped, or how the run ended. */
enum kxl_vmm_outcome {
	KXL_VMM_POWEROFF,
	KXL_VMM_REBOOT,
	KXL_VMM_CRASH,
	KXL_VMM_DESTROYED,	/* by a signal or a destroy command */
	KXL_VMM_ERROR,		/* kxl's own failure; details in the diag */
};

enum kxl_vmm_exit {
	KXL_EXIT_POWEROFF = 0,
	KXL_EXIT_ERROR = 1,
	KXL_EXIT_USAGE = 2,
	KXL_EXIT_REBOOT = 3,
	KXL_EXIT_CRASH = 4,
	KXL_EXIT_DESTROYED = 5,
};

/* Events reported to spec->on_event, in the thread that called kxl_vmm_run. */
enum kxl_vmm_event_type {
	KXL_EV_STARTED,		/* a (re)built domain runs (or sits paused) */
	KXL_EV_PAUSED,
	KXL_EV_UNPAUSED,
	KXL_EV_STOPPED,		/* the guest stopped: ev.outcome, ev.detail */
	KXL_EV_RESTARTING,	/* ev.rename: rename-restart */
	KXL_EV_PRESERVED,	/* kept, paused, until destroyed */
	KXL_EV_CORE_WRITTEN,	/* ev.detail: the core's path */
};

struct kxl_vmm_event {
	enum kxl_vmm_event_type type;
	enum kxl_vmm_outcome outcome;	/* KXL_EV_STOPPED */
	unsigned generation;		/* 0 for the first boot, +1 per restart */
	bool rename;			/* KXL_EV_RESTARTING */
	const char *detail;		/* human-readable, or NULL; for STARTED,
					 * the notes of that boot (one a line):
					 * spec.boot_notes (the first) or the
					 * reboot hook's, then the build's */
};

/* One disk: a raw image file or a block device, served by the VMM's
 * virtio-blk device (src/vmm/virtio-blk.c). src/model fills these from
 * xl's disk specs (kxl_domain_vmm_disks). */
struct kxl_vmm_disk {
	const char *path;	/* absolute: a regular file or a block device */
	const char *vdev;	/* xl's vdev ("xvda"): the serial GET_ID returns */
	const char *guest_name;	/* what the guest sees ("vda"), for messages */
	bool readonly;		/* access=ro, devtype=cdrom: opened O_RDONLY, VIRTIO_BLK_F_RO */
	bool discard;		/* DISCARD and WRITE_ZEROES offered (xl's default; no-discard: off) */
	const char *qemu_format;	/* NULL: raw, served directly; else QEMU's block driver
					 * (qcow2, qcow, vpc, qed, or raw over a protocol):
					 * kxl_vmm_run runs qemu-storage-daemon for it and
					 * serves its NBD export */
	const char *protocol;	/* NULL: path is a file or block device; "nbd" or "iscsi":
				 * path is the network target as Xen's block-nbd or
				 * block-iscsi script takes it (src/vmm/blk-target.c),
				 * reached by qemu-storage-daemon; qemu_format is set */
};

/* qemu-storage-daemon's argv for disk K (its protocol node, the format node,
 * an NBD server on unix socket SOCK exporting EXPORT_NAME); NULL with d set
 * for a target it cannot read. Free with kxl_blk_qsd_argv_free. */
char **kxl_blk_qsd_argv(const struct kxl_vmm_disk *k, const char *sock, const char *export_name,
			struct kxl_diag *d);
void kxl_blk_qsd_argv_free(char **argv);

/* ---- network interfaces ----
 * One virtio-net device on a tap, from one xl vif spec (src/model/nics.c
 * fills these, kxl_domain_vmm_nics). The parent side (src/vmm/net-host.c)
 * creates the tap and attaches it to the bridge, or runs the script; the
 * device (src/vmm/virtio-net.c) gets the tap as fds[0] of its vdev with
 * this struct as cfg. */
struct kxl_vmm_nic {
	const char *spec;	/* the vif spec as written, for messages, or NULL */
	unsigned devid;		/* xl's devid: the tap is vif<domid>.<devid> */
	const char *ifname;	/* vifname=: the tap's name instead, or NULL */
	uint8_t mac[6];		/* the guest's MAC (mac= or xl's random 00:16:3e:...) */
	unsigned mtu;		/* mtu= (default 1500): the tap's and the guest's */
	const char *bridge;	/* bridge= (default xenbr0); NULL with a script */
	const char *script;	/* absolute path of a user script=, or NULL: kxl
				 * attaches the tap to the bridge itself */
	const char *ip;		/* ip=, for the script's environment, or NULL */
	const char *gatewaydev;	/* gatewaydev=, likewise, or NULL */
	/* rate=: the guest's transmit rate, rate_bytes per rate_usecs (0: no limit) */
	uint64_t rate_bytes;
	uint32_t rate_usecs;
};

/* ---- devices beyond the fixed platform ----
 * Each virtio device the guest gets is one struct kxl_vmm_vdev. The parent
 * opens what needs privilege (disk images, taps) and passes the fds; the
 * guest-facing child inherits them and hands the struct to the kind's
 * create hook (src/vmm/virtio.h). Devices appear to the guest in the order
 * of this array, after the default console and entropy devices (see
 * kxl.cfg(5)): virtio-mmio window 0 is the console, 1 the entropy source
 * (when present), then vdevs[0], vdevs[1], ... */
enum kxl_vdev_type {
	KXL_VDEV_CONSOLE = 1,	/* virtio-console (hvc0) */
	KXL_VDEV_RNG,		/* virtio-rng */
	KXL_VDEV_BLK,		/* virtio-blk: cfg is H5's block description */
	KXL_VDEV_NET,		/* virtio-net */
};

#define KXL_VDEV_MAX_FDS 4

struct kxl_vmm_vdev {
	enum kxl_vdev_type type;
	const char *id;			/* for messages ("xvda", "vif1.0") */
	int fds[KXL_VDEV_MAX_FDS];	/* opened by the parent; -1: unused */
	const void *cfg;		/* type-specific description, or NULL */
};

struct kxl_vmm_result;

struct kxl_vmm_spec {
	struct kxl_boot_spec boot;	/* what to (re)build from */
	const char *name;		/* domain name, for messages and cores */

	enum kxl_action on_poweroff, on_reboot, on_crash;

	bool localtime;			/* RTC and kvmclock in host local time */
	int64_t rtc_timeoffset;		/* seconds added to the guest's clock */

	/* Console (the 16550A on COM1, and hvc0). With console_out >= 0 the
	 * UART reads console_in (-1: no input) and the output of the UART and
	 * hvc0 goes to console_out, merged line by line (a line of one is
	 * never cut by the other's); when console_in is a tty kxl puts it in
	 * raw mode for the run and restores it. Otherwise output is appended
	 * to console_log (NULL: discarded). */
	int console_in, console_out;
	const char *console_log;

	/* virtio-console and virtio-rng for every guest with ACPI (default
	 * true, kxl_vmm_spec_init), then the devices of vdevs[] (disks,
	 * NICs). boot.nr_virtio_mmio is derived from these by kxl_vmm_run. */
	bool virtio_console, virtio_rng;
	const struct kxl_vmm_vdev *vdevs;
	size_t nr_vdevs;

	bool start_paused;

	/* Cores of coredump-* actions go here, named NAME-GEN-TIME.core
	 * (NULL: the current directory). */
	const char *dump_dir;

	/* Messages of the VMM (unknown port accesses, rate-limited; action
	 * notes such as rename-restart) are written to log_fd; -1: none. */
	int log_fd;

	/* SIGINT, SIGTERM and SIGHUP destroy the guest (the foreground case);
	 * kxl_vmm_run blocks them in its thread while it runs (through a
	 * signalfd) and restores the mask. A caller with other threads must
	 * block them there too, before it creates those threads. */
	bool handle_signals;

	/* Control channel for a monitor (issue 10): one end of a
	 * socketpair(AF_UNIX, SOCK_SEQPACKET); the monitor sends commands with
	 * kxl_vmm_ctl() on the other end. -1: none. */
	int ctl_fd;

	/* ---- disks (virtio-blk, src/vmm/virtio-blk.c) ----
	 * In the guest's order: disk i is /dev/vd<'a'+i>. kxl_vmm_run opens
	 * each path once, in this (privileged) process, before the first boot,
	 * and hands the descriptors to every guest-facing child. */
	const struct kxl_vmm_disk *disks;
	size_t nr_disks;

	/* ---- network interfaces (virtio-net; see struct kxl_vmm_nic) ----
	 * kxl_vmm_run creates each NIC's tap once, in this (privileged)
	 * process, before the first boot, names it from domid (vif<domid>.<devid>
	 * unless the NIC has its own name), attaches it to its bridge or runs
	 * its script, and hands the tap to every guest-facing child; at the end
	 * it runs the script's offline step and closes the tap, which removes
	 * it. The devices follow the disks in the guest's order. */
	const struct kxl_vmm_nic *nics;
	size_t nr_nics;
	unsigned domid;			/* the domain's ID (src/life) */

	void (*on_event)(void *opaque, const struct kxl_vmm_event *ev);
	void *opaque;

	/* Who runs the domain with this contract: NULL is kxl_vmm_run; an
	 * HVM domain is run by QEMU under kxl_dm_run (include/kxl/dm.h),
	 * with runner_arg its struct kxl_dm_run_arg. The boot, disks and
	 * console fields above are the VMM's; kxl_dm_run reads the actions,
	 * start_paused, the console, dump_dir, log_fd, handle_signals, ctl_fd,
	 * nics, domid and on_event. */
	int (*runner)(const struct kxl_vmm_spec *spec, struct kxl_vmm_result *res,
		      struct kxl_diag *d);
	const void *runner_arg;

	/* The first boot's notes made before kxl_vmm_run (kxl create's
	 * bootloader run and the rewrites of its command line), one a line,
	 * or NULL: they lead the first STARTED event's notes, as the reboot
	 * hook's lead a restart's. */
	const char *boot_notes;

	/* Called before each build after the first (a restart) with a copy of
	 * boot to update: kxl create runs the bootloader again there, as libxl
	 * does at every build, so that a guest that installed a new kernel
	 * boots it. What it puts in *b must stay valid until its next call or
	 * the end of the run. Its notes go to log_fd. Returns 0, or -1 with an
	 * error in d: the restart fails and kxl_vmm_run returns -1 (the domain
	 * is destroyed, as libxl's failed reboot). NULL: every boot builds
	 * from boot. */
	int (*reboot_boot)(void *arg, struct kxl_boot_spec *b, struct kxl_diag *d);
	void *reboot_arg;
};

struct kxl_vmm_result {
	enum kxl_vmm_outcome outcome;
	int signo;		/* KXL_VMM_DESTROYED by a signal: which */
	unsigned restarts;	/* how many times the domain was rebuilt */
	char *last_core;	/* path of the last core written, or NULL; owned */
};

/* Fills the defaults: destroy/restart/destroy actions as xl, no console,
 * ctl_fd = log_fd = console_in = console_out = -1. */
void kxl_vmm_spec_init(struct kxl_vmm_spec *spec);

/* Runs the domain to its end. Returns 0 with *res filled (also for crash
 * and destroy outcomes), or -1 on kxl's own error with the cause in *d and
 * res->outcome = KXL_VMM_ERROR. The guest-facing child is killed (SIGKILL)
 * but not waited for: the kernel's VM teardown (12-16 ms with an in-kernel
 * irqchip) goes on after the return, and the child is reaped by a later
 * waitpid of the caller or when the caller exits. */
int kxl_vmm_run(const struct kxl_vmm_spec *spec, struct kxl_vmm_result *res,
		struct kxl_diag *d);
void kxl_vmm_result_free(struct kxl_vmm_result *res);

int kxl_vmm_exit_code(enum kxl_vmm_outcome o);
const char *kxl_vmm_outcome_name(enum kxl_vmm_outcome o);
const char *kxl_action_name(enum kxl_action a);

/* ---- control channel ----
 * For issue 10's monitor: socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC),
 * one end in spec.ctl_fd, the other used with kxl_vmm_ctl() from another
 * thread of the monitor (block SIGINT/SIGTERM/SIGHUP there, see
 * handle_signals). Console: give the UART a pipe or socketpair
 * (console_in/console_out) and buffer/log its output in the monitor; the
 * VMM never blocks on a console nobody reads (only the writing vCPU
 * stalls). State for `list`: KXL_EV_STARTED/PAUSED/UNPAUSED/STOPPED/
 * RESTARTING/PRESERVED events. A restart keeps going inside kxl_vmm_run
 * (the monitor gives the domain its new ID on KXL_EV_RESTARTING). */
enum kxl_vmm_cmd {
	KXL_CMD_PAUSE = 1,
	KXL_CMD_UNPAUSE,
	KXL_CMD_POWER,		/* ACPI power button (GED event) */
	KXL_CMD_RESET,		/* as if the guest reset itself: on_reboot applies */
	KXL_CMD_NMI,		/* NMI to every vCPU */
	KXL_CMD_DESTROY,
	KXL_CMD_DUMP_CORE,	/* arg: the core's path */
	KXL_CMD_STATUS,		/* reply text: "running" or "paused" */
	/* an hvm domain's QEMU only (kxl_dm_run); the PVH VMM refuses them
	 * with kxl_vmm_cmd_hvm_only's message */
	KXL_CMD_WAKEUP,		/* out of ACPI S3 (QMP system_wakeup) */
	KXL_CMD_CD_INSERT,	/* arg: "VDEV PATH" */
	KXL_CMD_CD_EJECT,	/* arg: VDEV */
	KXL_CMD_VNC,		/* reply text: HOST:PORT of QEMU's VNC server */
	KXL_CMD_SERIAL,		/* reply text: the pty of the first serial port */
};

/* Why the PVH VMM cannot do cmd (an hvm domain's command), or NULL. */
const char *kxl_vmm_cmd_hvm_only(enum kxl_vmm_cmd cmd);

/* Sends one command on the monitor's end of the control channel and waits
 * for the answer. Returns 0, or -1 with the VMM's (or the socket's) reason
 * in msg. */
int kxl_vmm_ctl(int fd, enum kxl_vmm_cmd cmd, const char *arg, char *msg, size_t msglen);

#endif
