/*
 * mon_ctl.c: the monitor's control connections (docs/protocol.md). Each
 * accepted connection gets a thread that reads request lines and answers
 * each with one line; commands for the guest go to the VMM one at a time
 * through kxl_vmm_ctl(). Only the monitor's own user (and root) may talk
 * to it: SO_PEERCRED is checked on every connection, on top of the 0700
 * state directory. `info' also reads the VMM process's CPU time and
 * whether a vCPU thread is running from /proc.
 */
#include "life/mon.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "util/util.h"

bool mon_peer_ok(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.uid == geteuid() || cr.uid == 0;
}

/* The VMM process(es) the VMM thread forked. */
static pid_t vmm_pid(struct mon *m)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/task/%d/children", (int)atomic_load(&m->vtid));
	char *s = NULL;
	size_t len;
	if (read_file(p, &s, &len) < 0)
		return 0;
	/* the newest child is listed last (a killed one may linger a moment) */
	pid_t pid = 0;
	for (char *t = s, *e; *t; t = e) {
		long v = strtol(t, &e, 10);
		if (e == t)
			break;
		pid = (pid_t)v;
	}
	free(s);
	return pid;
}

/* Field 3 (state) and fields 14, 15 (utime, stime) of a stat file. */
static bool stat_fields(const char *path, char *state, double *secs)
{
	char *s = NULL;
	size_t len;
	if (read_file(path, &s, &len) < 0)
		return false;
	char *r = strrchr(s, ')');
	bool ok = false;
	if (r && r[1] == ' ') {
		*state = r[2];
		unsigned long ut = 0, stm = 0;
		/* after ") S ": ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
		if (sscanf(r + 4, "%*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stm) == 2) {
			long hz = sysconf(_SC_CLK_TCK);
			*secs = (double)(ut + stm) / (double)(hz > 0 ? hz : 100);
			ok = true;
		}
	}
	free(s);
	return ok;
}

/* CPU seconds of the VMM process; *running: a thread other than its main
 * loop (a vCPU) is on a CPU. */
static double vmm_cpu(struct mon *m, bool *running)
{
	*running = false;
	pid_t pid = vmm_pid(m);
	if (pid <= 0)
		return 0;
	char p[64];
	char st;
	double secs = 0;
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if (!stat_fields(p, &st, &secs))
		return 0;
	snprintf(p, sizeof(p), "/proc/%d/task", (int)pid);
	DIR *dp = opendir(p);
	if (dp) {
		struct dirent *e;
		while ((e = readdir(dp))) {
			if (e->d_name[0] == '.' || atoi(e->d_name) == pid)
				continue;
			char tp[320];
			double ts;
			snprintf(tp, sizeof(tp), "/proc/%d/task/%s/stat", (int)pid, e->d_name);
			if (stat_fields(tp, &st, &ts) && st == 'R')
				*running = true;
		}
		closedir(dp);
	}
	return secs;
}

static char *info_json(struct mon *m)
{
	bool running;
	double cpu = vmm_cpu(m, &running);
	pthread_mutex_lock(&m->lock);
	char letters[7] = "------";
	switch (m->state) {
	case MON_RUNNING: letters[running ? 0 : 1] = running ? 'r' : 'b'; break;
	case MON_PAUSED: letters[2] = 'p'; break;
	case MON_SHUTDOWN: letters[3] = 's'; break;
	case MON_CRASHED: letters[4] = 'c'; break;
	case MON_DYING: letters[5] = 'd'; break;
	}
	static const char *const names[] = { "running", "paused", "shutdown", "crashed", "dying" };
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(m->name));
	json_object_object_add(o, "domid", json_object_new_int64(m->domid));
	json_object_object_add(o, "state", json_object_new_string(names[m->state]));
	json_object_object_add(o, "flags", json_object_new_string(letters));
	json_object_object_add(o, "mem_kb", json_object_new_int64((int64_t)m->mem_kb));
	json_object_object_add(o, "vcpus", json_object_new_int64(m->vcpus));
	json_object_object_add(o, "cpu_time", json_object_new_double(cpu));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "restarts", json_object_new_int64(m->gen));
	json_object_object_add(o, "start_time", json_object_new_int64((int64_t)m->started));
	if (m->stops)
		json_object_object_add(o, "last_stop", json_object_new_string(
			kxl_vmm_outcome_name(m->last_stop)));
	pthread_mutex_unlock(&m->lock);
	char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

static void reply(int fd, int st, const char *text)
{
	char *line = xasprintf("%s%s%s\n", st ? "error" : "ok", text && *text ? " " : st ? " failed" : "",
			       text ? text : "");
	for (char *p = line; p[1]; p++)
		if (*p == '\n')
			*p = ' ';
	life_write_all(fd, line, strlen(line));
	free(line);
}

static int vmm_call(struct mon *m, enum kxl_vmm_cmd cmd, const char *arg, char *msg, size_t len)
{
	pthread_mutex_lock(&m->ctl_lock);
	pthread_mutex_lock(&m->lock);
	bool ended = m->ended;
	pthread_mutex_unlock(&m->lock);
	int r;
	if (ended) {
		snprintf(msg, len, "the domain has ended");
		r = -1;
	} else {
		m->user_dump = cmd == KXL_CMD_DUMP_CORE;
		r = kxl_vmm_ctl(m->vmm_ctl, cmd, arg, msg, len);
		m->user_dump = false;
	}
	pthread_mutex_unlock(&m->ctl_lock);
	return r;
}

static void vmm_cmd(struct mon *m, int fd, enum kxl_vmm_cmd cmd, const char *arg)
{
	char msg[256] = "";
	int r = vmm_call(m, cmd, arg, msg, sizeof(msg));
	reply(fd, r, msg);
}

/* Until the domain with ID id stops (stops changes) or ends, and its
 * action is carried out (restarted, preserved, or gone from the state
 * directory, so that a `list' after the answer agrees); answers how. */
static void wait_stop(struct mon *m, int fd, unsigned id, unsigned stops)
{
	pthread_mutex_lock(&m->lock);
	while (!m->ended && m->domid == id && m->stops == stops)
		pthread_cond_wait(&m->cond, &m->lock);
	while (!m->cleaned && m->domid == id && !m->preserved)
		pthread_cond_wait(&m->cond, &m->lock);
	const char *what = m->stops != stops ? kxl_vmm_outcome_name(m->last_stop) :
			   m->ended ? kxl_vmm_outcome_name(m->outcome) : "restarted";
	pthread_mutex_unlock(&m->lock);
	reply(fd, 0, what);
}

/* `wait [DOMID]': until the domain with that ID stops (or ends). */
static void do_wait(struct mon *m, int fd, const char *arg)
{
	pthread_mutex_lock(&m->lock);
	unsigned id = arg && *arg ? (unsigned)strtoul(arg, NULL, 10) : m->domid;
	unsigned stops = m->stops;
	if (m->state == MON_SHUTDOWN || m->state == MON_CRASHED)
		stops--;	/* already stopped (preserved): answer now */
	pthread_mutex_unlock(&m->lock);
	wait_stop(m, fd, id, stops);
}

/* shutdown/reboot/trigger, with `wait': the answer comes when it stopped. */
static void stop_cmd(struct mon *m, int fd, enum kxl_vmm_cmd cmd, bool wait)
{
	char msg[256] = "";
	pthread_mutex_lock(&m->lock);
	unsigned id = m->domid, stops = m->stops;
	pthread_mutex_unlock(&m->lock);
	int r = vmm_call(m, cmd, NULL, msg, sizeof(msg));
	if (r || !wait)
		reply(fd, r, msg);
	else
		wait_stop(m, fd, id, stops);
}

static void do_destroy(struct mon *m, int fd)
{
	char msg[256] = "";
	pthread_mutex_lock(&m->ctl_lock);
	pthread_mutex_lock(&m->lock);
	bool ended = m->ended;
	pthread_mutex_unlock(&m->lock);
	if (!ended && kxl_vmm_ctl(m->vmm_ctl, KXL_CMD_DESTROY, NULL, msg, sizeof(msg)) < 0) {
		pthread_mutex_lock(&m->lock);
		ended = m->ended;	/* it ended on its own meanwhile */
		pthread_mutex_unlock(&m->lock);
		if (!ended) {
			pthread_mutex_unlock(&m->ctl_lock);
			reply(fd, -1, msg);
			return;
		}
	}
	pthread_mutex_unlock(&m->ctl_lock);
	pthread_mutex_lock(&m->lock);
	while (!m->cleaned)
		pthread_cond_wait(&m->cond, &m->lock);
	pthread_mutex_unlock(&m->lock);
	reply(fd, 0, "destroyed");
}

/* Answers one request; false when the connection was handed over. */
static bool handle(struct mon *m, int fd, char *line)
{
	char *arg = strchr(line, ' ');
	if (arg)
		*arg++ = 0;
	if (!strcmp(line, "version")) {
		reply(fd, 0, "kxl-ctl 1");
	} else if (!strcmp(line, "info")) {
		char *s = info_json(m);
		reply(fd, 0, s);
		free(s);
	} else if (!strcmp(line, "pause")) {
		vmm_cmd(m, fd, KXL_CMD_PAUSE, NULL);
	} else if (!strcmp(line, "unpause")) {
		vmm_cmd(m, fd, KXL_CMD_UNPAUSE, NULL);
	} else if (!strcmp(line, "shutdown") || !strcmp(line, "reboot")) {
		if (arg && strcmp(arg, "wait"))
			reply(fd, -1, "the only argument of shutdown and reboot is `wait'");
		else
			stop_cmd(m, fd, line[0] == 's' ? KXL_CMD_POWER : KXL_CMD_RESET, arg != NULL);
	} else if (!strcmp(line, "trigger")) {
		if (arg && !strcmp(arg, "power"))
			vmm_cmd(m, fd, KXL_CMD_POWER, NULL);
		else if (arg && !strcmp(arg, "reset"))
			vmm_cmd(m, fd, KXL_CMD_RESET, NULL);
		else if (arg && !strcmp(arg, "nmi"))
			vmm_cmd(m, fd, KXL_CMD_NMI, NULL);
		else if (arg && !strcmp(arg, "s3resume"))
			vmm_cmd(m, fd, KXL_CMD_WAKEUP, NULL);
		else
			reply(fd, -1, "trigger: power, reset, nmi or s3resume");
	} else if (!strcmp(line, "cd-insert") || !strcmp(line, "cd-eject")) {
		bool insert = line[3] == 'i';
		char *sp = arg ? strchr(arg, ' ') : NULL;
		if (!arg || !*arg || (insert ? !sp || sp[1] != '/' : sp != NULL))
			reply(fd, -1, insert ? "cd-insert needs VDEV and an absolute file name" :
			      "cd-eject needs VDEV only");
		else
			vmm_cmd(m, fd, insert ? KXL_CMD_CD_INSERT : KXL_CMD_CD_EJECT, arg);
	} else if (!strcmp(line, "vnc") || !strcmp(line, "serial")) {
		if (arg)
			reply(fd, -1, "vnc and serial take no argument");
		else
			vmm_cmd(m, fd, line[0] == 'v' ? KXL_CMD_VNC : KXL_CMD_SERIAL, NULL);
	} else if (!strcmp(line, "dump-core")) {
		if (!arg || arg[0] != '/')
			reply(fd, -1, "dump-core needs an absolute file name");
		else
			vmm_cmd(m, fd, KXL_CMD_DUMP_CORE, arg);
	} else if (!strcmp(line, "destroy")) {
		do_destroy(m, fd);
	} else if (!strcmp(line, "wait")) {
		do_wait(m, fd, arg);
	} else if (!strcmp(line, "console")) {
		pthread_mutex_lock(&m->lock);
		bool busy = m->pending_console >= 0;
		if (!busy)
			m->pending_console = fd;
		pthread_mutex_unlock(&m->lock);
		if (busy) {
			reply(fd, -1, "a console attach is already under way");
			return true;
		}
		mon_wake(m);
		return false;
	} else {
		char *e = xasprintf("unknown request `%s'", line);
		reply(fd, -1, e);
		free(e);
	}
	return true;
}

static void *conn_main(void *opaque)
{
	struct mon **pm = opaque;
	struct mon *m = pm[0];
	int fd = (int)(intptr_t)pm[1];
	free(pm);
	char *line = xmalloc(4200);
	if (!mon_peer_ok(fd)) {
		reply(fd, -1, "permission denied: the domain belongs to another user");
		goto out;
	}
	for (;;) {
		if (life_read_line(fd, line, 4200, -1) < 0)
			break;
		pthread_mutex_lock(&m->lock);
		m->busy++;
		pthread_mutex_unlock(&m->lock);
		bool keep = handle(m, fd, line);
		pthread_mutex_lock(&m->lock);
		m->busy--;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		if (!keep) {
			fd = -1;
			break;
		}
	}
out:
	free(line);
	if (fd >= 0)
		close(fd);
	return NULL;
}

void mon_ctl_accept(struct mon *m, int fd)
{
	struct mon **pm = xmalloc(2 * sizeof(*pm));
	pm[0] = m;
	pm[1] = (struct mon *)(intptr_t)fd;
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	if (pthread_create(&t, &a, conn_main, pm)) {
		close(fd);
		free(pm);
	}
	pthread_attr_destroy(&a);
}
