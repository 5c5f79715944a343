/*
 * mon.h: the monitor's internal state, shared by monitor.c (process, VMM
 * thread, main loop), mon_ctl.c (one thread per control connection) and
 * mon_con.c (the console ring, log and attached client; main loop only).
 * Everything under `lock' is shared between the threads; a change wakes
 * the main loop through the wake pipe and the waiters through `cond'.
 */
#ifndef KXL_LIFE_MON_H
#define KXL_LIFE_MON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "life/life.h"

enum mon_state { MON_RUNNING, MON_PAUSED, MON_SHUTDOWN, MON_CRASHED, MON_DYING };

struct con {
	char ring[LIFE_RING_SIZE];	/* the last output, for a new attach */
	uint64_t total;			/* bytes the guest ever wrote */
	int client;			/* attached console client, -1 */
	uint64_t cursor;		/* what the client has been sent */
	char in[512];			/* client input not yet taken by the VMM */
	size_t in_len;
	int log_fd;
	uint64_t log_size;
	char *log_path;
};

struct mon {
	struct life_state *st;
	struct life_claim claim;	/* released (freed, zeroed) as the monitor ends */
	char *name;		/* the domain's name, valid for the monitor's whole life */
	struct kxl_vmm_spec *spec;
	uint64_t mem_kb;
	unsigned vcpus;
	char *dump_dir;
	char *kvm_base;		/* create's kvm.json (what holds for every boot), or NULL */

	int status_fd;		/* to the creating kxl until the start is reported */
	int ctl_listen, con_listen;
	int vmm_ctl, vmm_ctl_peer;	/* control channel: ours, the VMM's */
	int con_fd, con_peer;		/* console: ours, the VMM's */
	int wake[2];
	_Atomic pid_t vtid;	/* the thread that runs kxl_vmm_run (forks the VMM); 0 before */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum mon_state state;
	unsigned domid, gen, stops;
	enum kxl_vmm_outcome last_stop;
	bool reported, ended, cleaned, preserved;
	enum kxl_vmm_outcome outcome;
	char error[512];
	int busy;		/* requests being answered */
	int pending_console;	/* a connection handed to the main loop, -1 */
	time_t started;

	pthread_mutex_t ctl_lock;	/* one VMM command at a time */
	atomic_bool user_dump;	/* a dump-core command is under way */

	struct con con;		/* main loop only */

	/* under -F (life_run_here): the caller's console, events, messages */
	bool fg;
	void (*user_event)(void *opaque, const struct kxl_vmm_event *ev);
	void *user_opaque;
	struct kxl_diag *out_diag;	/* the VMM's messages go here too */
	struct kxl_vmm_result res;	/* the VMM's result */
};

/* monitor.c */
/* Runs the monitor to the domain's end; returns kxl's exit code for it. */
int mon_run(struct mon *m);
void mon_wake(struct mon *m);
void mon_log_to(FILE *f);	/* NULL: stderr */

/* mon_vmm.c */
void *mon_vmm_thread(void *opaque);
void mon_on_event(void *opaque, const struct kxl_vmm_event *ev);
/* A line to the creating kxl (until the start is reported). */
__attribute__((format(printf, 2, 3))) void mon_status(struct mon *m, const char *fmt, ...);
void mon_status_close(struct mon *m);
__attribute__((format(printf, 1, 2))) void mon_log(const char *fmt, ...);

/* mon_ctl.c */
void mon_ctl_accept(struct mon *m, int fd);
bool mon_peer_ok(int fd);

/* mon_con.c */
void con_init(struct con *c, const char *log_path);
void con_output(struct con *c, const char *buf, size_t n);
void con_attach(struct mon *m, int fd);
void con_detach(struct con *c);
void con_flush(struct con *c);
void con_take_input(struct mon *m);
void con_give_input(struct mon *m);

#endif
