/*
 * util.h: small helpers for libkxl: allocation that aborts only on
 * out-of-memory (the one failure a library cannot report usefully),
 * string building, and file reading.
 */
#ifndef KXL_UTIL_H
#define KXL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
__attribute__((format(printf, 1, 0))) char *xvasprintf(const char *fmt, va_list ap);
__attribute__((format(printf, 1, 2))) char *xasprintf(const char *fmt, ...);

/* A growable byte buffer, always NUL-terminated. */
struct sbuf { char *s; size_t len, cap; };
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
__attribute__((format(printf, 2, 3))) void sbuf_printf(struct sbuf *b, const char *fmt, ...);
char *sbuf_steal(struct sbuf *b);

/* Reads a whole file; returns 0 or -errno. *out is NUL-terminated. */
int read_file(const char *path, char **out, size_t *len);

/* Lexical path handling: join dir and path unless path is absolute, then
 * normalise "." and ".." and repeated slashes. No file system access. */
char *path_join_normalize(const char *dir, const char *path);
char *path_dirname(const char *path);	/* absolute directory of a file path */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
