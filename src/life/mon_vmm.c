/*
 * mon_vmm.c: the monitor's side of the VMM: the thread that runs
 * kxl_vmm_run() and the events it reports (in that thread). A start is
 * reported to the creating kxl (the status pipe of start.c), a restart
 * gets a new domain ID, a stop wakes the `wait' requests, and the cores of
 * the coredump-* actions are renamed NAME-ID-TIME.core in the dump
 * directory (the VMM names them by generation). At each boot, kvm.json
 * (the changes `list -l' shows) is create's record followed by that boot's
 * notes (the bootloader's entry and its root= rewrites, console=ttyS0 put
 * before hvc0, ...): a restart's bootloader run may boot another kernel
 * or command line. When kxl_vmm_run() returns, the domain has ended: the
 * main loop cleans up.
 */
#include "life/mon.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/util.h"

void mon_status(struct mon *m, const char *fmt, ...)
{
	if (m->status_fd < 0)
		return;
	char *s;
	va_list ap;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	for (char *p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
	char *line = xasprintf("%.2000s\n", s);	/* the reader takes 4 KiB lines */
	life_write_all(m->status_fd, line, strlen(line));
	free(line);
	free(s);
}

void mon_status_close(struct mon *m)
{
	if (m->status_fd < 0)
		return;
	close(m->status_fd);
	m->status_fd = -1;
}

/* ---- events of the VMM (in the VMM thread) ---- */
static struct kxl_diag *vmm_diag;	/* the VMM thread's */

/* kvm.json for the boot that started: create's record (m->kvm_base, what
 * holds for every boot) with this boot's notes (NOTES, one a line:
 * STARTED's detail) added to its "changes"; none of either: no kvm.json.
 * A failure only costs the record. */
static void record_boot_notes(struct mon *m, const char *notes)
{
	if (!m->st)
		return;
	char *path = life_dom_path(m->st, m->name, "kvm.json");
	if (!m->kvm_base && (!notes || !*notes)) {
		unlink(path);	/* an earlier boot's notes, if any, hold no more */
		free(path);
		return;
	}
	json_object *o = m->kvm_base ? json_tokener_parse(m->kvm_base) : NULL;
	if (!o || !json_object_is_type(o, json_type_object)) {
		if (o)
			json_object_put(o);
		o = json_object_new_object();
	}
	json_object *ch = NULL;
	if (!json_object_object_get_ex(o, "changes", &ch) || !json_object_is_type(ch, json_type_array)) {
		ch = json_object_new_array();
		json_object_object_add(o, "changes", ch);
	}
	for (const char *p = notes ? notes : ""; *p;) {
		size_t n = strcspn(p, "\n");
		if (n)
			json_object_array_add(ch, json_object_new_string_len(p, (int)n));
		p += n;
		if (*p)
			p++;
	}
	struct kxl_diag d;
	kxl_diag_init(&d);
	if (life_write_file(path, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE), &d) < 0 && d.n)
		mon_log("%s", d.v[0].msg);
	kxl_diag_free(&d);
	json_object_put(o);
	free(path);
}

/* A core of a coredump-* action: NAME-ID-TIME.core. Returns the new path
 * (caller frees) or NULL. */
static char *rename_core(struct mon *m, const char *path)
{
	if (!m->dump_dir)
		return NULL;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
	pthread_mutex_lock(&m->lock);
	unsigned id = m->domid;
	pthread_mutex_unlock(&m->lock);
	char *to = xasprintf("%s/%s-%u-%s.core", m->dump_dir, m->name, id, ts);
	if (rename(path, to) == 0)
		return to;
	free(to);
	return NULL;
}

void mon_on_event(void *opaque, const struct kxl_vmm_event *ev)
{
	struct mon *m = opaque;
	switch (ev->type) {
	case KXL_EV_STARTED: {
		pthread_mutex_lock(&m->lock);
		m->state = m->spec->start_paused ? MON_PAUSED : MON_RUNNING;
		m->gen = ev->generation;
		m->started = time(NULL);
		bool first = !m->reported;
		m->reported = true;
		unsigned id = m->domid;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		/* -p holds the first boot only; a restart runs (as xl) */
		m->spec->start_paused = false;
		mon_log("domain %s started with ID %u%s", m->name, id,
			m->state == MON_PAUSED ? ", paused" : "");
		record_boot_notes(m, ev->detail);
		if (first) {
			for (size_t i = 0; vmm_diag && i < vmm_diag->n; i++)
				mon_status(m, "msg %d %s", (int)vmm_diag->v[i].sev, vmm_diag->v[i].msg);
			mon_status(m, "ok %u", id);
			mon_status_close(m);
		}
		break;
	}
	case KXL_EV_PAUSED:
	case KXL_EV_UNPAUSED:
		pthread_mutex_lock(&m->lock);
		if (m->state == MON_RUNNING || m->state == MON_PAUSED)
			m->state = ev->type == KXL_EV_PAUSED ? MON_PAUSED : MON_RUNNING;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		break;
	case KXL_EV_STOPPED:
		pthread_mutex_lock(&m->lock);
		m->state = ev->outcome == KXL_VMM_CRASH ? MON_CRASHED : MON_SHUTDOWN;
		m->last_stop = ev->outcome;
		m->stops++;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		mon_log("domain %s stopped: %s (%s)", m->name, kxl_vmm_outcome_name(ev->outcome),
			ev->detail ? ev->detail : "");
		break;
	case KXL_EV_RESTARTING: {
		struct kxl_diag d;
		unsigned id = 0;
		kxl_diag_init(&d);
		if (life_newid(m->st, m->name, &id, &d) < 0)
			mon_log("no new domain ID: %s", d.n ? d.v[0].msg : "?");
		kxl_diag_free(&d);
		pthread_mutex_lock(&m->lock);
		unsigned old = m->domid;
		if (id)
			m->domid = id;
		m->state = MON_RUNNING;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		mon_log("restarting %s: ID %u -> %u%s", m->name, old, id,
			ev->rename ? " (rename-restart: the VMM does not keep the old domain; "
			"the new one keeps the name)" : "");
		break;
	}
	case KXL_EV_PRESERVED:
		pthread_mutex_lock(&m->lock);
		m->preserved = true;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		mon_log("domain %s preserved; `kxl destroy' ends it", m->name);
		break;
	case KXL_EV_CORE_WRITTEN: {
		char *to = !m->user_dump && ev->detail ? rename_core(m, ev->detail) : NULL;
		mon_log("core written to %s", to ? to : ev->detail ? ev->detail : "?");
		if (to && m->user_event) {
			struct kxl_vmm_event e = *ev;
			e.detail = to;
			m->user_event(m->user_opaque, &e);
		} else if (m->user_event) {
			m->user_event(m->user_opaque, ev);
		}
		free(to);
		mon_wake(m);
		return;
	}
	}
	if (m->user_event)
		m->user_event(m->user_opaque, ev);
	mon_wake(m);
}

void *mon_vmm_thread(void *opaque)
{
	struct mon *m = opaque;
	struct kxl_vmm_result res;
	struct kxl_diag d;
	kxl_diag_init(&d);
	atomic_store(&m->vtid, gettid());
	vmm_diag = &d;
	/* the taps of the vifs are named after the domain's ID (vif<ID>.<devid>) */
	pthread_mutex_lock(&m->lock);
	m->spec->domid = m->domid;
	pthread_mutex_unlock(&m->lock);
	int r = (m->spec->runner ? m->spec->runner : kxl_vmm_run)(m->spec, &res, &d);
	for (size_t i = 0; i < d.n; i++)
		mon_log("%s: %s", kxl_severity_name(d.v[i].sev), d.v[i].msg);
	pthread_mutex_lock(&m->lock);
	m->ended = true;
	m->state = MON_DYING;
	m->outcome = r ? KXL_VMM_ERROR : res.outcome;
	if (r) {
		const char *e = "the domain could not run";
		for (size_t i = 0; i < d.n; i++)
			if (d.v[i].sev == KXL_ERROR) {
				e = d.v[i].msg;
				break;
			}
		snprintf(m->error, sizeof(m->error), "%s", e);
	}
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	vmm_diag = NULL;
	mon_log("domain %s ended: %s%s%s", m->name, kxl_vmm_outcome_name(m->outcome),
		r ? ": " : "", r ? m->error : "");
	m->res = res;
	res.last_core = NULL;
	if (m->out_diag)
		for (size_t i = 0; i < d.n; i++)
			kxl_diag_add(m->out_diag, d.v[i].sev, &d.v[i].loc, "%s", d.v[i].msg);
	/* a kxl_vmm_ctl() under way or to come sees the VMM gone */
	shutdown(m->vmm_ctl_peer, SHUT_RDWR);
	mon_wake(m);
	kxl_vmm_result_free(&res);
	kxl_diag_free(&d);
	return NULL;
}

