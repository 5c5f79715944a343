/*
 * dom.c: domains in the state directory. A domain is STATE/dom/NAME/ with
 * its lock file, which its monitor holds (flock LOCK_EX) for as long as it
 * lives; a lock that can be taken means the monitor is gone (even after a
 * SIGKILL) and the directory is stale, and it is cleaned away. Claiming a
 * name and allocating an ID happen under the global lock, so of two creates
 * of one name exactly one wins. IDs count up (1 to 32751, as Xen's) and
 * skip every ID a live domain holds: never reused while a domain lives.
 */
#include "life/life.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/util.h"

#define DOMID_LIMIT 32752	/* Xen's DOMID_FIRST_RESERVED */

int life_name_check(const char *name, struct kxl_diag *d)
{
	if (!name || !*name)
		return kxl_err(d, "the domain has no name (set `name' in the config)");
	if (name[0] == '.' || strchr(name, '/') || strlen(name) > 64)
		return kxl_err(d, "domain name `%s': kxl needs a name without `/', not starting "
			       "with `.', at most 64 characters", name);
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return kxl_err(d, "domain name `%s' has a control character", name);
	bool digits = true;
	for (const char *p = name; *p; p++)
		digits = digits && isdigit((unsigned char)*p);
	if (digits)
		return kxl_err(d, "domain name `%s' is all digits: it would read as a domain ID", name);
	return 0;
}

static unsigned read_uint(const char *path)
{
	char *s = NULL;
	size_t len;
	if (read_file(path, &s, &len) < 0)
		return 0;
	unsigned long v = strtoul(s, NULL, 10);
	free(s);
	return v < DOMID_LIMIT ? (unsigned)v : 0;
}

/* Removes a domain directory and what it holds (files only). */
static void remove_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	if (dp) {
		struct dirent *e;
		while ((e = readdir(dp))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char *p = xasprintf("%s/%s", dir, e->d_name);
			unlink(p);
			free(p);
		}
		closedir(dp);
	}
	rmdir(dir);
}

/* With the global lock held: is NAME's monitor alive? If not, its
 * directory is removed. */
static bool alive_locked(struct life_state *st, const char *name)
{
	char *dir = life_dom_path(st, name, NULL), *lock = life_dom_path(st, name, "lock");
	bool alive = false;
	struct stat sb;
	if (lstat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		goto out;
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		alive = true;
	else
		remove_dir(dir);	/* stale: the monitor is gone */
	if (fd >= 0)
		close(fd);
out:
	free(dir);
	free(lock);
	return alive;
}

bool life_alive(struct life_state *st, const char *name)
{
	/* A quick look first: most of the time the monitor holds its lock. */
	char *lock = life_dom_path(st, name, "lock");
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	free(lock);
	if (fd >= 0) {
		bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
		close(fd);
		if (held)
			return true;
	}
	struct kxl_diag d;
	kxl_diag_init(&d);
	bool had = st->lockfd >= 0;
	bool alive = false;
	if (had || life_state_lock(st, &d) == 0) {
		alive = alive_locked(st, name);
		if (!had)
			life_state_unlock(st);
	}
	kxl_diag_free(&d);
	return alive;
}

/* IDs of the domains that have a directory (with the global lock held). */
static unsigned *used_ids(struct life_state *st, size_t *n)
{
	char *domdir = xasprintf("%s/dom", st->dir);
	DIR *dp = opendir(domdir);
	unsigned *v = NULL;
	*n = 0;
	if (dp) {
		struct dirent *e;
		while ((e = readdir(dp))) {
			if (e->d_name[0] == '.')
				continue;
			char *p = life_dom_path(st, e->d_name, "domid");
			unsigned id = read_uint(p);
			free(p);
			if (!id)
				continue;
			v = xrealloc(v, (*n + 1) * sizeof(*v));
			v[(*n)++] = id;
		}
		closedir(dp);
	}
	free(domdir);
	return v;
}

/* Allocates an ID (global lock held). */
static unsigned alloc_id(struct life_state *st, struct kxl_diag *d)
{
	char *np = xasprintf("%s/next-domid", st->dir);
	unsigned next = read_uint(np);
	size_t n;
	unsigned *used = used_ids(st, &n);
	if (!next)
		next = 1;
	for (unsigned tries = 0; tries < DOMID_LIMIT; tries++) {
		bool taken = false;
		for (size_t i = 0; i < n && !taken; i++)
			taken = used[i] == next;
		if (!taken)
			break;
		if (++next >= DOMID_LIMIT)
			next = 1;
	}
	unsigned id = next;
	char buf[32];
	snprintf(buf, sizeof(buf), "%u\n", id + 1 >= DOMID_LIMIT ? 1 : id + 1);
	if (life_write_file(np, buf, d) < 0)
		id = 0;
	free(used);
	free(np);
	return id;
}

static int write_domid(struct life_state *st, const char *name, unsigned id, struct kxl_diag *d)
{
	char buf[32];
	char *p = life_dom_path(st, name, "domid");
	snprintf(buf, sizeof(buf), "%u\n", id);
	int r = life_write_file(p, buf, d);
	free(p);
	return r;
}

int life_claim(struct life_state *st, const char *name, const char *config, const char *kvm,
	       struct life_claim *c, struct kxl_diag *d)
{
	memset(c, 0, sizeof(*c));
	c->lockfd = -1;
	if (life_name_check(name, d) < 0)
		return -1;
	char *probe = life_dom_path(st, name, "console.sock");
	if (strlen(probe) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		kxl_err(d, "%s: the path is too long for a unix socket; use a shorter state "
			"directory or name", probe);
		free(probe);
		return -1;
	}
	free(probe);
	if (life_state_lock(st, d) < 0)
		return -1;
	char *dir = life_dom_path(st, name, NULL);
	if (alive_locked(st, name)) {
		char *p = life_dom_path(st, name, "domid");
		kxl_err(d, "domain `%s' already exists (ID %u)", name, read_uint(p));
		free(p);
		goto fail;
	}
	if (mkdir(dir, 0700) < 0) {
		kxl_err(d, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	char *lock = life_dom_path(st, name, "lock");
	c->lockfd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	free(lock);
	if (c->lockfd < 0 || flock(c->lockfd, LOCK_EX | LOCK_NB) < 0) {
		kxl_err(d, "cannot lock %s: %s", dir, strerror(errno));
		goto fail_rm;
	}
	if (config) {
		char *p = life_dom_path(st, name, "config.json");
		int r = life_write_file(p, config, d);
		free(p);
		if (r < 0)
			goto fail_rm;
	}
	if (kvm) {
		char *p = life_dom_path(st, name, "kvm.json");
		int r = life_write_file(p, kvm, d);
		free(p);
		if (r < 0)
			goto fail_rm;
	}
	c->domid = alloc_id(st, d);
	if (!c->domid || write_domid(st, name, c->domid, d) < 0)
		goto fail_rm;
	life_state_unlock(st);
	c->name = xstrdup(name);
	c->dir = dir;
	return 0;
fail_rm:
	remove_dir(dir);
fail:
	if (c->lockfd >= 0)
		close(c->lockfd);
	c->lockfd = -1;
	life_state_unlock(st);
	free(dir);
	return -1;
}

void life_release(struct life_state *st, struct life_claim *c)
{
	struct kxl_diag d;
	kxl_diag_init(&d);
	bool locked = life_state_lock(st, &d) == 0;
	if (c->dir)
		remove_dir(c->dir);
	if (locked)
		life_state_unlock(st);
	kxl_diag_free(&d);
	life_claim_forget(c);
}

void life_claim_forget(struct life_claim *c)
{
	if (c->lockfd >= 0)
		close(c->lockfd);
	free(c->name);
	free(c->dir);
	memset(c, 0, sizeof(*c));
	c->lockfd = -1;
}

int life_newid(struct life_state *st, const char *name, unsigned *domid, struct kxl_diag *d)
{
	if (life_state_lock(st, d) < 0)
		return -1;
	unsigned id = alloc_id(st, d);
	int r = id && write_domid(st, name, id, d) == 0 ? 0 : -1;
	life_state_unlock(st);
	if (!r)
		*domid = id;
	return r;
}

static int cmp_dom(const void *a, const void *b)
{
	const struct life_dom *x = a, *y = b;
	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

int life_list(struct life_state *st, struct life_dom **out, size_t *n, struct kxl_diag *d)
{
	char *domdir = xasprintf("%s/dom", st->dir);
	DIR *dp = opendir(domdir);
	*out = NULL;
	*n = 0;
	if (!dp) {
		kxl_err(d, "cannot read %s: %s", domdir, strerror(errno));
		free(domdir);
		return -1;
	}
	free(domdir);
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		if (!life_alive(st, e->d_name))
			continue;
		char *p = life_dom_path(st, e->d_name, "domid");
		unsigned id = read_uint(p);
		free(p);
		p = life_dom_path(st, e->d_name, "pid");
		unsigned pid = read_uint(p);
		free(p);
		if (!id)
			continue;	/* being created */
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[*n] = (struct life_dom){ .name = xstrdup(e->d_name), .domid = id, .pid = (pid_t)pid };
		(*n)++;
	}
	closedir(dp);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_dom);
	return 0;
}

int life_find(struct life_state *st, const char *spec, struct life_dom *out, struct kxl_diag *d)
{
	memset(out, 0, sizeof(*out));
	char *end;
	errno = 0;
	unsigned long id = strtoul(spec, &end, 10);
	bool numeric = *spec && !*end && !errno;
	struct life_dom *v;
	size_t n;
	if (life_list(st, &v, &n, d) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (numeric ? v[i].domid == id : !strcmp(v[i].name, spec)) {
			*out = v[i];
			v[i].name = NULL;
			life_doms_free(v, n);
			return 0;
		}
	}
	life_doms_free(v, n);
	if (numeric)
		return kxl_err(d, "no domain with ID %s", spec);
	return kxl_err(d, "no domain named `%s'", spec);
}

void life_dom_free(struct life_dom *dom)
{
	free(dom->name);
	dom->name = NULL;
}

void life_doms_free(struct life_dom *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}
