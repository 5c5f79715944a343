/*
 * diag.h: diagnostics shared by every part of libkxl.
 *
 * Library code never prints and never exits: it records errors, warnings and
 * notes in a struct kxl_diag, each with an optional source location (file,
 * line, column and the text of the line, for a caret). The command line
 * decides how to print them. A location with line 0 names only a file.
 */
#ifndef KXL_DIAG_H
#define KXL_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum kxl_severity { KXL_NOTE, KXL_WARNING, KXL_DEPRECATED, KXL_ERROR };

struct kxl_loc {
	const char *file;	/* file name as the user wrote it, or "<command line>" */
	int line;		/* 1-based; 0 when the message is about the whole file */
	int col;		/* 1-based column; 0 for none */
	const char *text;	/* the source line (not NUL-terminated at EOL), or NULL */
	int text_len;
};

struct kxl_msg {
	enum kxl_severity sev;
	struct kxl_loc loc;	/* loc.file and loc.text are owned copies */
	char *msg;
};

struct kxl_diag {
	struct kxl_msg *v;
	size_t n, cap;
	size_t errors, warnings;
	size_t max;		/* stop recording after this many (0: 1000) */
};

void kxl_diag_init(struct kxl_diag *d);
void kxl_diag_free(struct kxl_diag *d);
void kxl_diag_clear(struct kxl_diag *d);

__attribute__((format(printf, 4, 5)))
void kxl_diag_add(struct kxl_diag *d, enum kxl_severity sev,
		  const struct kxl_loc *loc, const char *fmt, ...);
__attribute__((format(printf, 4, 0)))
void kxl_diag_vadd(struct kxl_diag *d, enum kxl_severity sev,
		   const struct kxl_loc *loc, const char *fmt, va_list ap);

/* Puts the messages in reading order (file, line, column), stably: what
 * a user fixes from the top down. */
void kxl_diag_sort(struct kxl_diag *d);

/* Shorthands without a location. */
__attribute__((format(printf, 2, 3)))
int kxl_err(struct kxl_diag *d, const char *fmt, ...);	/* returns -1 */
__attribute__((format(printf, 2, 3)))
void kxl_warn(struct kxl_diag *d, const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
void kxl_note(struct kxl_diag *d, const char *fmt, ...);

/* "file:line:col: error: msg", then the line and a caret under the column. */
void kxl_diag_print(const struct kxl_diag *d, FILE *f);
void kxl_msg_print(const struct kxl_msg *m, FILE *f);
const char *kxl_severity_name(enum kxl_severity sev);

#endif
