/*
 * util.c: allocation, string buffers, file reading and lexical paths
 * (see util.h).
 */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void oom(void)
{
	static const char m[] = "kxl: out of memory\n";
	if (write(2, m, sizeof(m) - 1) < 0) { /* nothing more to do */ }
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) oom();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p) oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p) oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p) oom();
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0) oom();
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1) cap *= 2;
		b->s = xrealloc(b->s, cap);
		b->cap = cap;
	}
	if (n) memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

void sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	sbuf_adds(b, s);
	free(s);
}

char *sbuf_steal(struct sbuf *b)
{
	char *s = b->s ? b->s : xstrdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

int read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) { int e = -errno; close(fd); return e; }
	if (S_ISDIR(st.st_mode)) { close(fd); return -EISDIR; }
	size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	char *buf = xmalloc(cap);
	size_t n = 0;
	for (;;) {
		if (n + 1 >= cap) { cap *= 2; buf = xrealloc(buf, cap); }
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR) continue;
			int e = -errno; free(buf); close(fd); return e;
		}
		if (r == 0) break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*out = buf;
	if (len) *len = n;
	return 0;
}

char *path_join_normalize(const char *dir, const char *path)
{
	struct sbuf in = {0};
	if (path[0] != '/' && dir) {
		sbuf_adds(&in, dir);
		sbuf_adds(&in, "/");
	}
	sbuf_adds(&in, path);
	int absolute = in.s[0] == '/';
	/* split into components, resolving . and .. */
	char **comp = xcalloc(in.len + 1, sizeof(char *));
	size_t nc = 0;
	char *save = NULL;
	for (char *t = strtok_r(in.s, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, ".")) continue;
		if (!strcmp(t, "..")) {
			if (nc > 0 && strcmp(comp[nc - 1], "..")) { nc--; continue; }
			if (absolute) continue;	/* "/.." is "/" */
		}
		comp[nc++] = t;
	}
	struct sbuf out = {0};
	if (absolute) sbuf_adds(&out, "/");
	for (size_t i = 0; i < nc; i++) {
		if (i) sbuf_adds(&out, "/");
		sbuf_adds(&out, comp[i]);
	}
	if (!out.len) sbuf_adds(&out, ".");
	free(comp);
	free(in.s);
	return sbuf_steal(&out);
}

char *path_dirname(const char *path)
{
	char *cwd = NULL;
	const char *slash = strrchr(path, '/');
	char *dir;
	if (!slash)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	if (dir[0] != '/') {
		cwd = getcwd(NULL, 0);
		char *abs = path_join_normalize(cwd ? cwd : "/", dir);
		free(dir);
		dir = abs;
	} else {
		char *n = path_join_normalize(NULL, dir);
		free(dir);
		dir = n;
	}
	free(cwd);
	return dir;
}
