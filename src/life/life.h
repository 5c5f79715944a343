/*
 * life.h: domain lifecycle (src/life), what makes kxl a toolstack that runs
 * domains in the background as xl does.
 *
 * A state directory (state.c) holds every domain the user runs: under
 * dom/NAME/ its lock (held by the domain's monitor for as long as it lives:
 * a free lock means the monitor is gone and the directory is stale), its
 * domain ID, pid, resolved config JSON, control socket and console socket;
 * under log/ its monitor log and console log. Names are claimed and IDs
 * allocated under one global lock (dom.c), so two creates of one name race
 * cleanly. The monitor (start.c, monitor.c, mon_ctl.c, mon_con.c) runs
 * kxl_vmm_run() for one domain, in a process of its own or, under -F, in
 * kxl itself, and answers the control protocol of docs/protocol.md
 * (proto.c is its client side).
 */
#ifndef KXL_LIFE_H
#define KXL_LIFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <kxl/diag.h>
#include <kxl/vmm.h>

/* ---- state.c: the state directory ---- */
struct life_state {
	char *dir;	/* KXL_STATE_DIR, /run/kxl, $XDG_RUNTIME_DIR/kxl or /tmp/kxl-UID */
	int lockfd;	/* the global lock while held, else -1 */
};

/* Finds (and creates, mode 0700) the state directory and checks that it
 * belongs to the caller and is not open to others. */
int life_state_open(struct life_state *st, struct kxl_diag *d);
void life_state_close(struct life_state *st);
int life_state_lock(struct life_state *st, struct kxl_diag *d);
void life_state_unlock(struct life_state *st);
/* STATE/dom/NAME[/FILE] and STATE/log/NAME.SUFFIX; caller frees. */
char *life_dom_path(const struct life_state *st, const char *name, const char *file);
char *life_log_path(const struct life_state *st, const char *name, const char *suffix);
/* Where cores of coredump-* actions go (KXL_DUMP_DIR, /var/lib/kxl/dump as
 * root, $XDG_STATE_HOME/kxl/dump otherwise), created; caller frees. */
char *life_dump_dir(struct kxl_diag *d);
/* The OVMF variable store of the domain NAME, which lives as long as the
 * name (kept across reboots and creates, removed by `kxl destroy' unless
 * --keep-nvram): KXL_NVRAM_DIR/NAME.fd, /var/lib/kxl/nvram/NAME.fd as root,
 * $XDG_STATE_HOME/kxl/nvram/NAME.fd otherwise. make: the directory is
 * created. Caller frees; NULL with d set. */
char *life_nvram_path(const char *name, bool make, struct kxl_diag *d);
/* The same, or with a warning the state directory when it cannot be made. */
char *life_dump_dir_or_state(const struct life_state *st, struct kxl_diag *d);
/* Creates dir (and its parents) with mode 0700. */
int life_mkdir_p(const char *dir, struct kxl_diag *d);
/* Writes a small file atomically (temporary file, then rename). */
int life_write_file(const char *path, const char *text, struct kxl_diag *d);

/* ---- dom.c: names, IDs, claims, liveness ---- */
struct life_dom {
	char *name;
	unsigned domid;
	pid_t pid;		/* the monitor's, 0 if not known yet */
};

struct life_claim {
	char *name;
	char *dir;
	int lockfd;		/* flock(LOCK_EX) held while the domain lives */
	unsigned domid;
};

/* A valid domain name for kxl: used as a file name. */
int life_name_check(const char *name, struct kxl_diag *d);
/* Claims NAME: fails cleanly when a live domain has it. Writes config
 * (config.json) and kvm (kvm.json: what kxl changed to run a Xen config
 * on KVM, shown by `list -l'), either may be NULL, then allocates the ID,
 * which makes the domain visible to life_list(). */
int life_claim(struct life_state *st, const char *name, const char *config, const char *kvm,
	       struct life_claim *c, struct kxl_diag *d);
/* Removes the domain's directory (the claim's lock still held) and frees. */
void life_release(struct life_state *st, struct life_claim *c);
/* Frees a claim without touching the state directory (its lock goes with
 * it): for a process that hands the claim over to another. */
void life_claim_forget(struct life_claim *c);
/* A new ID for a restart, written to the domain's directory. */
int life_newid(struct life_state *st, const char *name, unsigned *domid, struct kxl_diag *d);
/* Live domains in ID order; stale ones (monitor gone) are cleaned away. */
int life_list(struct life_state *st, struct life_dom **out, size_t *n, struct kxl_diag *d);
/* A name or an ID; a clear error for an unknown domain. */
int life_find(struct life_state *st, const char *spec, struct life_dom *out,
	      struct kxl_diag *d);
/* Is the domain's monitor alive? Cleans its directory away if not. */
bool life_alive(struct life_state *st, const char *name);
void life_dom_free(struct life_dom *dom);
void life_doms_free(struct life_dom *v, size_t n);

/* ---- proto.c: the client side of the control protocol ---- */
/* Connects to the domain's control (or console) socket. -1 with d set. */
int life_connect(const struct life_state *st, const char *name, const char *sock,
		 struct kxl_diag *d);
/* Sends one request line, reads the reply line; timeout_ms < 0: none.
 * Returns 0 with *reply the text after "ok" (caller frees, may be ""), or
 * -1 with the monitor's error in d. */
int life_request_fd(int fd, const char *req, char **reply, int timeout_ms, struct kxl_diag *d);
/* Connect, request, close. */
int life_request(const struct life_state *st, const char *name, const char *req,
		 char **reply, int timeout_ms, struct kxl_diag *d);
/* Reads one '\n'-terminated line of at most max bytes (without the '\n').
 * Returns its length, or -1 (EOF, error, timeout). */
ssize_t life_read_line(int fd, char *buf, size_t max, int timeout_ms);
/* Writes all of buf. */
int life_write_all(int fd, const void *buf, size_t n);

/* ---- monitor.c: the per-domain monitor ---- */
struct life_create {
	struct kxl_vmm_spec *spec;	/* boot, actions, clock, start_paused */
	const char *config_json;	/* the config with libxl's defaults */
	const char *kvm_json;		/* kxl's changes for KVM, or NULL (kvm.json) */
	uint64_t mem_kb;
	unsigned vcpus;
};

/* Starts the domain in the background: claims its name, forks the monitor
 * (double fork, setsid) and waits until it reports the domain started
 * (*domid) or why it could not. */
int life_start(struct life_state *st, const struct life_create *c, unsigned *domid,
	       struct kxl_diag *d);

/* `create -F': the same monitor in the calling process, which keeps the
 * spec's console; returns when the domain has ended, with *res as
 * kxl_vmm_run() fills it. Messages of the VMM are added to d. */
int life_run_here(struct life_state *st, const struct life_create *c,
		  struct kxl_vmm_result *res, struct kxl_diag *d);

/* The monitor's console ring and log (mon_con.c, also for tests). */
#define LIFE_RING_SIZE (64 * 1024)
#define LIFE_LOG_MAX (1024 * 1024)
#define LIFE_LOG_KEEP 4

#endif
