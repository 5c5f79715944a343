/*
 * state.c: the state directory of src/life. KXL_STATE_DIR overrides it (for
 * tests); otherwise /run/kxl as root, $XDG_RUNTIME_DIR/kxl, or /tmp/kxl-UID
 * when XDG_RUNTIME_DIR is unset. The directory must be a real directory
 * owned by the caller with no access for group or others: its sockets are
 * the domains' controls. Also the global lock (STATE/lock, flock), the
 * directories of what outlasts a domain (cores; OVMF variable stores, one
 * per domain name) and small file helpers.
 */
#include "life/life.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

int life_mkdir_p(const char *dir, struct kxl_diag *d)
{
	char *p = xstrdup(dir);
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			int e = errno;
			kxl_err(d, "cannot create %s: %s", p, strerror(e));
			free(p);
			return -1;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return 0;
}

/* The directory exists, is ours and closed to others. */
static int check_private(const char *dir, struct kxl_diag *d)
{
	struct stat sb;
	if (lstat(dir, &sb) < 0)
		return kxl_err(d, "state directory %s: %s", dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return kxl_err(d, "state directory %s is not a directory", dir);
	if (sb.st_uid != geteuid())
		return kxl_err(d, "state directory %s belongs to uid %u, not to you (uid %u)",
			       dir, (unsigned)sb.st_uid, (unsigned)geteuid());
	if (sb.st_mode & 077)
		return kxl_err(d, "state directory %s is open to other users (mode %03o); "
			       "it must be 0700", dir, (unsigned)(sb.st_mode & 0777));
	return 0;
}

int life_state_open(struct life_state *st, struct kxl_diag *d)
{
	const char *env = getenv("KXL_STATE_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	st->lockfd = -1;
	if (env && *env && env[0] != '/') {
		/* the monitor works from `/': keep the state directory absolute */
		char *cwd = getcwd(NULL, 0);
		st->dir = cwd ? path_join_normalize(cwd, env) : xstrdup(env);
		free(cwd);
	} else if (env && *env)
		st->dir = xstrdup(env);
	else if (geteuid() == 0)
		st->dir = xstrdup("/run/kxl");
	else if (xdg && *xdg)
		st->dir = xasprintf("%s/kxl", xdg);
	else
		st->dir = xasprintf("/tmp/kxl-%u", (unsigned)geteuid());
	if (mkdir(st->dir, 0700) < 0 && errno != EEXIST) {
		if (errno == ENOENT && life_mkdir_p(st->dir, d) == 0)
			goto made;
		kxl_err(d, "cannot create the state directory %s: %s", st->dir, strerror(errno));
		goto fail;
	}
made:
	if (check_private(st->dir, d) < 0)
		goto fail;
	char *dom = xasprintf("%s/dom", st->dir), *log = xasprintf("%s/log", st->dir);
	int bad = (mkdir(dom, 0700) < 0 && errno != EEXIST) || (mkdir(log, 0700) < 0 && errno != EEXIST);
	if (bad)
		kxl_err(d, "cannot create %s/{dom,log}: %s", st->dir, strerror(errno));
	free(dom);
	free(log);
	if (!bad)
		return 0;
fail:
	free(st->dir);
	st->dir = NULL;
	return -1;
}

void life_state_close(struct life_state *st)
{
	life_state_unlock(st);
	free(st->dir);
	st->dir = NULL;
}

int life_state_lock(struct life_state *st, struct kxl_diag *d)
{
	if (st->lockfd >= 0)
		return 0;
	char *p = xasprintf("%s/lock", st->dir);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (fd < 0)
		return kxl_err(d, "cannot open the lock of %s: %s", st->dir, strerror(errno));
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return kxl_err(d, "cannot lock %s: %s", st->dir, strerror(errno));
		}
	}
	st->lockfd = fd;
	return 0;
}

void life_state_unlock(struct life_state *st)
{
	if (st->lockfd >= 0)
		close(st->lockfd);
	st->lockfd = -1;
}

char *life_dom_path(const struct life_state *st, const char *name, const char *file)
{
	return file ? xasprintf("%s/dom/%s/%s", st->dir, name, file) :
	       xasprintf("%s/dom/%s", st->dir, name);
}

char *life_log_path(const struct life_state *st, const char *name, const char *suffix)
{
	return xasprintf("%s/log/%s.%s", st->dir, name, suffix);
}

/* A directory of kxl's lasting state: $ENV, /var/lib/kxl/SUB as root,
 * $XDG_STATE_HOME/kxl/SUB or ~/.local/state/kxl/SUB; made when make. */
static char *lasting_dir(const char *env_name, const char *sub, const char *what, bool make,
			 struct kxl_diag *d)
{
	const char *env = getenv(env_name), *xdg = getenv("XDG_STATE_HOME"),
		   *home = getenv("HOME");
	char *dir;
	if (env && *env && env[0] != '/') {
		/* the monitor works from `/': keep it absolute */
		char *cwd = getcwd(NULL, 0);
		dir = cwd ? path_join_normalize(cwd, env) : xstrdup(env);
		free(cwd);
	} else if (env && *env)
		dir = xstrdup(env);
	else if (geteuid() == 0)
		dir = xasprintf("/var/lib/kxl/%s", sub);
	else if (xdg && *xdg)
		dir = xasprintf("%s/kxl/%s", xdg, sub);
	else if (home && *home)
		dir = xasprintf("%s/.local/state/kxl/%s", home, sub);
	else {
		kxl_err(d, "no directory for %s: set %s, XDG_STATE_HOME or HOME", what, env_name);
		return NULL;
	}
	if (make && life_mkdir_p(dir, d) < 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

char *life_dump_dir(struct kxl_diag *d)
{
	return lasting_dir("KXL_DUMP_DIR", "dump", "cores", true, d);
}

char *life_nvram_path(const char *name, bool make, struct kxl_diag *d)
{
	if (life_name_check(name, d) < 0)
		return NULL;
	char *dir = lasting_dir("KXL_NVRAM_DIR", "nvram", "OVMF variable stores", make, d);
	if (!dir)
		return NULL;
	char *p = xasprintf("%s/%s.fd", dir, name);
	free(dir);
	return p;
}

int life_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int life_write_file(const char *path, const char *text, struct kxl_diag *d)
{
	char *tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = -1;
	if (fd < 0) {
		kxl_err(d, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (life_write_all(fd, text, strlen(text)) < 0) {
		kxl_err(d, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		kxl_err(d, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	r = 0;
out:
	free(tmp);
	return r;
}

char *life_dump_dir_or_state(const struct life_state *st, struct kxl_diag *d)
{
	struct kxl_diag tmp;
	kxl_diag_init(&tmp);
	char *dir = life_dump_dir(&tmp);
	if (!dir) {
		kxl_warn(d, "%s; cores of coredump-* actions go to %s instead",
			 tmp.n ? tmp.v[0].msg : "no dump directory", st->dir);
		dir = xstrdup(st->dir);
	}
	kxl_diag_free(&tmp);
	return dir;
}
