/*
 * dm.h: the device model of type = "hvm" domains (src/dm).
 *
 * An HVM domain runs under QEMU with KVM: kxl turns the model (libxl's
 * domain config as JSON, never the raw cfg) into QEMU's command line,
 * following libxl's own mapping (libxl_dm.c, Xen 4.17) with Xen's parts
 * dropped (-xen-domid, the xen-platform device, the xenfv machine) and the
 * parts Xen's hypervisor does (ACPI sleep states, HPET, Hyper-V
 * enlightenments, nested virtualisation, RTC offset, firmware) given to
 * QEMU instead. kxl.cfg(5) says what each key becomes.
 */
#ifndef KXL_DM_H
#define KXL_DM_H

#include <stdbool.h>
#include <stddef.h>

#include <kxl/cfg.h>
#include <kxl/diag.h>
#include <kxl/model.h>

/* The places and descriptors the command line refers to. What is NULL
 * (or -1) is printed as a placeholder naming what create puts there, so
 * that `kxl create --dry-run-dm' shows the rest exactly. */
struct kxl_dm_opts {
	const char *qemu;	/* the binary (NULL: qemu-system-x86_64) */
	const char *qmp_path;	/* QMP socket path, or NULL */
	int qmp_fd;		/* >= 0: a listening QMP socket passed to QEMU */
	const char *vars_path;	/* OVMF: this domain's copy of the variable store */
	const char *ovmf_code;	/* NULL: Debian's OVMF_CODE_4M.fd */
	const int *tap_fds;	/* one per emulated NIC, in order, or NULL: by name */
	size_t nr_tap_fds;
	unsigned domid;		/* for xl's tap names vif<domid>.<devid>-emu */
	/* The NICs as create resolved them (their MACs kept across restarts),
	 * or NULL: resolved here (kxl_domain_vmm_nics, random MACs drawn). */
	const struct kxl_vmm_nic *nics;
	size_t nr_nics;
	long long now;		/* seconds since the epoch, for rtc_timeoffset */
	const char *chroot_dir;	/* dm_restrict: QEMU's empty root, or NULL */
	bool unprivileged;	/* kxl is not root: no -runas/-chroot (a warning) */
};

struct kxl_dm_argv {
	char **v;		/* NULL-terminated */
	size_t n, cap;
};

/* Debian's OVMF (package ovmf): firmware code and the pristine variable
 * store a domain's copy is made from. */
#define KXL_OVMF_CODE	"/usr/share/OVMF/OVMF_CODE_4M.fd"
#define KXL_OVMF_VARS	"/usr/share/OVMF/OVMF_VARS_4M.fd"

/* QEMU's argv for the HVM domain dom. cfg (may be NULL) gives locations to
 * the messages. A key QEMU on KVM has no meaning for is one warning in d;
 * what cannot be done is an error naming the key. Returns 0 or -1. */
int kxl_dm_args(const struct kxl_domain *dom, const struct kxl_cfg *cfg,
		const struct kxl_dm_opts *o, struct kxl_dm_argv *out, struct kxl_diag *d);
void kxl_dm_argv_free(struct kxl_dm_argv *a);

/* The QEMU device ID ("ide-NUM", as libxl names it) of the domain's
 * emulated CD-ROM at vdev into buf; -1 with d set when vdev is none. */
int kxl_dm_cdrom_id(const struct kxl_domain *dom, const char *vdev, char *buf, size_t len,
		    struct kxl_diag *d);

/* Whether the domain has dm_restrict = 1. */
bool kxl_dm_restricted(const struct kxl_domain *dom);
/* dm_restrict's resource limits (libxl's, but RLIMIT_FSIZE: restrict.c
 * says why), set on the calling process: for QEMU's child before exec.
 * NULL, or the name of the limit that could not be set (errno says why).
 * Only setrlimit: safe after fork. */
const char *kxl_dm_restrict_limits(const struct kxl_domain *dom);

/* Whether the domain's firmware is OVMF (it then needs a variable store). */
bool kxl_dm_uses_ovmf(const struct kxl_domain *dom);

/* ---- QMP (qmp.c) ----
 * A client of QEMU's QMP socket, for the monitor that supervises QEMU.
 * QEMU is semi-trusted: every message is bounded (KXL_QMP_MAX bytes a
 * line), every wait has a timeout, and what is not QMP is an error. Events
 * that arrive while a command waits for its answer are queued (at most
 * KXL_QMP_EVENTS; beyond that the oldest are dropped and counted). */
#define KXL_QMP_MAX	(64 * 1024)
#define KXL_QMP_EVENTS	64

struct json_object;
struct kxl_qmp {
	int fd;
	char *buf;			/* KXL_QMP_MAX + 1 */
	size_t len;
	struct json_object *events[KXL_QMP_EVENTS];
	size_t nev;
	unsigned long dropped;
	unsigned long next_id;
};

/* Connects to the socket at path (retrying until QEMU listens, within
 * timeout_ms), reads the greeting and leaves capabilities negotiation
 * done. Returns 0 or -1 (d says why). */
int kxl_qmp_open(struct kxl_qmp *q, const char *path, int timeout_ms, struct kxl_diag *d);
/* Runs cmd with args (taken; may be NULL). *ret (may be NULL) gets the
 * "return" value (caller puts it). Returns 0, or -1 with QEMU's error or
 * the failure in d. */
int kxl_qmp_cmd(struct kxl_qmp *q, const char *cmd, struct json_object *args,
		struct json_object **ret, int timeout_ms, struct kxl_diag *d);
/* kxl_qmp_cmd with the descriptor fd passed along (SCM_RIGHTS), for the
 * commands that take one (add-fd, getfd). fd stays open here: QEMU has a
 * copy. */
int kxl_qmp_cmd_fd(struct kxl_qmp *q, const char *cmd, struct json_object *args, int fd,
		   struct json_object **ret, int timeout_ms, struct kxl_diag *d);
/* add-fd: fd into a new fd set of QEMU's, whose ID goes to *fdset; QEMU
 * opens it as /dev/fdset/ID (a file it could not open by name: dm_restrict).
 * kxl_qmp_remove_fdset (remove-fd) ends the set once QEMU has its own copy. */
int kxl_qmp_add_fd(struct kxl_qmp *q, int fd, long long *fdset, int timeout_ms,
		   struct kxl_diag *d);
int kxl_qmp_remove_fdset(struct kxl_qmp *q, long long fdset, int timeout_ms, struct kxl_diag *d);
/* The next event (caller puts it): 1, 0 on timeout, -1 on error or EOF. */
int kxl_qmp_event(struct kxl_qmp *q, struct json_object **ev, int timeout_ms,
		  struct kxl_diag *d);
void kxl_qmp_close(struct kxl_qmp *q);

/* What a QEMU event means for the domain: which of xl's on_* actions
 * applies, or none (KXL_DM_EV_NONE: not a stop of the guest). */
enum kxl_dm_ev {
	KXL_DM_EV_NONE, KXL_DM_EV_POWEROFF, KXL_DM_EV_REBOOT, KXL_DM_EV_CRASH,
	KXL_DM_EV_WATCHDOG, KXL_DM_EV_HOST,	/* QEMU was told to stop (quit, signal) */
};
enum kxl_dm_ev kxl_dm_event_kind(struct json_object *ev);
/* "on_poweroff", ...; NULL for NONE and HOST. */
const char *kxl_dm_event_key(enum kxl_dm_ev e);


/* ---- running the domain (run.c) ----
 * kxl_dm_run has kxl_vmm_run's contract (include/kxl/vmm.h: events,
 * control channel, actions, signals, result), for spec->runner: it starts
 * QEMU (-S, a QMP socket in dir, the taps of the NICs made and bridged by
 * kxl and passed as descriptors, COM1 on spec's console unless the config
 * has serial=), and QEMU's events apply the on_* actions: destroy quits
 * QEMU, restart starts a fresh QEMU (as xl makes a new domain), preserve
 * keeps it stopped until destroyed, coredump-* writes the guest's memory
 * first (dump-guest-memory). QEMU exiting on its own is a crash of the
 * domain, reported with its last lines on stderr. QEMU gets SIGKILL when
 * the process running kxl_dm_run dies. */
struct kxl_dm_run_arg {
	const struct kxl_domain *dom;
	const struct kxl_cfg *cfg;	/* for messages; may be NULL */
	const char *dir;	/* a directory of this domain's own: QMP socket (and
				 * the OVMF variables when vars_path is NULL); removed
				 * at the end */
	const char *vars_path;	/* OVMF: the domain's lasting variable store, made
				 * from KXL_OVMF_VARS when missing and kept at the end
				 * (life_nvram_path); NULL: a copy in dir, removed */
	enum kxl_action on_watchdog;	/* QEMU's WATCHDOG event */
};
int kxl_dm_run(const struct kxl_vmm_spec *spec, struct kxl_vmm_result *res, struct kxl_diag *d);

#endif
