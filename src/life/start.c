/*
 * start.c: starting a domain, in the background or in the foreground.
 *
 * life_start() claims the name (dom.c), writes the resolved config, then
 * double-forks (setsid in between, as xl does) a monitor process and waits
 * on a pipe until the monitor reports the domain started ("ok ID") or why
 * not ("error TEXT"); messages of the build come first ("msg SEV TEXT").
 * The monitor process closes everything it inherited, logs to
 * STATE/log/NAME.log and works from `/'.
 *
 * life_run_here() is `create -F': the same monitor (control socket, list,
 * IDs, actions) runs in the calling process, with the caller's console.
 */
#include "life/mon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

/* Closes every descriptor but keep[]. */
static void close_others(const int *keep, size_t n)
{
	DIR *dp = opendir("/proc/self/fd");
	if (!dp)
		return;
	int self = dirfd(dp);
	int fds[1024];
	size_t nfds = 0;
	struct dirent *e;
	while ((e = readdir(dp)) && nfds < 1024) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		bool k = fd == self || fd <= 2;
		for (size_t i = 0; i < n; i++)
			k = k || fd == keep[i];
		if (!k)
			fds[nfds++] = fd;
	}
	closedir(dp);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
}

/* A monitor for the claimed domain; the caller sets how it reports. */
static struct mon *mon_new(struct life_state *st, const struct life_claim *claim,
			   const struct life_create *c)
{
	struct mon *m = xcalloc(1, sizeof(*m));
	m->st = st;
	m->claim = *claim;
	m->name = xstrdup(claim->name);	/* the threads' copy: the claim's goes first */
	m->spec = c->spec;
	m->mem_kb = c->mem_kb;
	m->vcpus = c->vcpus;
	m->domid = claim->domid;
	m->kvm_base = c->kvm_json ? xstrdup(c->kvm_json) : NULL;
	return m;
}

int life_start(struct life_state *st, const struct life_create *c, unsigned *domid,
	       struct kxl_diag *d)
{
	struct life_claim claim;
	if (life_claim(st, c->spec->name, c->config_json, c->kvm_json, &claim, d) < 0)
		return -1;
	char *dump = life_dump_dir_or_state(st, d);
	int sp[2];
	if (pipe2(sp, O_CLOEXEC) < 0) {
		kxl_err(d, "pipe: %s", strerror(errno));
		free(dump);
		life_release(st, &claim);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		kxl_err(d, "fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		free(dump);
		life_release(st, &claim);
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		setsid();
		pid_t q = fork();
		if (q != 0)
			_exit(q < 0 ? 1 : 0);
		prctl(PR_SET_NAME, "kxl-monitor");
		/* and the bootloader's memfds: the first boot's kernel and
		 * ramdisk (a restart runs the bootloader again, on the disk's
		 * path: kxl_vmm_spec.reboot_boot) */
		const struct kxl_boot_spec *bs = &c->spec->boot;
		int keep[4] = { sp[1], claim.lockfd, -1, -1 };
		if (bs->kernel_from_fd)
			keep[2] = bs->kernel_fd;
		if (bs->nr_modules && bs->modules[0].from_fd)
			keep[3] = bs->modules[0].fd;
		close_others(keep, ARRAY_SIZE(keep));
		int nul = open("/dev/null", O_RDWR);
		char *lp = life_log_path(st, claim.name, "log");
		int lf = open(lp, O_WRONLY | O_CREAT | O_APPEND, 0600);
		free(lp);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(lf >= 0 ? lf : nul, 1);
		dup2(lf >= 0 ? lf : nul, 2);
		if (nul > 2)
			close(nul);
		if (lf > 2)
			close(lf);
		umask(077);
		if (chdir("/") < 0) {
			/* the paths are absolute already */
		}
		struct mon *m = mon_new(st, &claim, c);
		m->dump_dir = dump;
		m->status_fd = sp[1];
		_exit(mon_run(m));
	}
	close(sp[1]);
	free(dump);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	char line[4096];
	int ret = -1;
	bool answered = false;
	while (life_read_line(sp[0], line, sizeof(line), -1) >= 0) {
		if (!strncmp(line, "msg ", 4)) {
			char *t;
			int sev = (int)strtol(line + 4, &t, 10);
			kxl_diag_add(d, sev >= KXL_NOTE && sev < KXL_ERROR ? (enum kxl_severity)sev : KXL_NOTE,
				     NULL, "%s", *t ? t + 1 : t);
		} else if (!strncmp(line, "ok ", 3)) {
			*domid = (unsigned)strtoul(line + 3, NULL, 10);
			ret = 0;
			answered = true;
			break;
		} else if (!strncmp(line, "error ", 6)) {
			kxl_err(d, "%s", line + 6);
			answered = true;
			break;
		}
	}
	close(sp[0]);
	if (!answered) {
		kxl_err(d, "the monitor of `%s' died before the domain started (see %s/log/%s.log)",
			claim.name, st->dir, claim.name);
		life_release(st, &claim);	/* we still hold its lock */
		return -1;
	}
	life_claim_forget(&claim);	/* the monitor holds the lock from here on */
	return ret;
}

static struct mon *volatile last_fg;	/* keeps it reachable */

int life_run_here(struct life_state *st, const struct life_create *c,
		  struct kxl_vmm_result *res, struct kxl_diag *d)
{
	memset(res, 0, sizeof(*res));
	res->outcome = KXL_VMM_ERROR;
	struct life_claim claim;
	if (life_claim(st, c->spec->name, c->config_json, c->kvm_json, &claim, d) < 0)
		return -1;
	char *lp = life_log_path(st, claim.name, "log");
	FILE *log = fopen(lp, "ae");
	free(lp);
	if (!log) {
		kxl_err(d, "cannot open the monitor log of %s: %s", claim.name, strerror(errno));
		life_release(st, &claim);
		return -1;
	}
	mon_log_to(log);
	struct mon *m = mon_new(st, &claim, c);
	m->status_fd = -1;
	m->fg = true;
	m->out_diag = d;
	m->dump_dir = (char *)c->spec->dump_dir;
	mon_run(m);
	mon_log_to(NULL);
	fclose(log);
	*res = m->res;
	res->outcome = m->outcome;
	int r = m->outcome == KXL_VMM_ERROR ? -1 : 0;
	/* m stays (reachable): idle control threads may still look at it until
	 * kxl exits */
	last_fg = m;
	return r;
}
