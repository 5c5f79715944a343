/*
 * diag.c: recording and printing diagnostics (see include/kxl/diag.h).
 *
 * Messages are stored with owned copies of their location so that a parser
 * may free its buffers before the caller prints. Printing follows the
 * compilers' format: "file:line:col: severity: message", the source line,
 * and a caret under the column.
 */
#include <kxl/diag.h>

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

void kxl_diag_init(struct kxl_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void kxl_diag_clear(struct kxl_diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].msg);
		free((char *)d->v[i].loc.file);
		free((char *)d->v[i].loc.text);
	}
	d->n = 0;
	d->errors = d->warnings = 0;
}

/* Before b in the reading order: files in the order they first appear,
 * then by line and column; a message about a whole file (line 0) after
 * that file's located ones. */
static bool diag_before(const struct kxl_diag *d, const struct kxl_msg *a, const struct kxl_msg *b)
{
	const char *fa = a->loc.file ? a->loc.file : "", *fb = b->loc.file ? b->loc.file : "";
	if (strcmp(fa, fb)) {
		for (size_t i = 0; i < d->n; i++) {
			const char *f = d->v[i].loc.file ? d->v[i].loc.file : "";
			if (!strcmp(f, fa)) return true;
			if (!strcmp(f, fb)) return false;
		}
		return false;
	}
	int la = a->loc.line ? a->loc.line : INT_MAX, lb = b->loc.line ? b->loc.line : INT_MAX;
	if (la != lb) return la < lb;
	return a->loc.col < b->loc.col;
}

void kxl_diag_sort(struct kxl_diag *d)
{
	/* insertion sort: stable, and d->n is bounded by d->max */
	for (size_t i = 1; i < d->n; i++) {
		struct kxl_msg m = d->v[i];
		size_t j = i;
		while (j > 0 && diag_before(d, &m, &d->v[j - 1])) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = m;
	}
}

void kxl_diag_free(struct kxl_diag *d)
{
	kxl_diag_clear(d);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

const char *kxl_severity_name(enum kxl_severity sev)
{
	switch (sev) {
	case KXL_NOTE: return "note";
	case KXL_WARNING: return "warning";
	case KXL_DEPRECATED: return "deprecated";
	case KXL_ERROR: return "error";
	}
	return "?";
}

void kxl_diag_vadd(struct kxl_diag *d, enum kxl_severity sev,
		   const struct kxl_loc *loc, const char *fmt, va_list ap)
{
	if (sev == KXL_ERROR)
		d->errors++;
	else if (sev != KXL_NOTE)
		d->warnings++;
	if (d->n >= (d->max ? d->max : 1000))
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		d->v = xrealloc(d->v, cap * sizeof(*d->v));
		d->cap = cap;
	}
	struct kxl_msg *m = &d->v[d->n++];
	memset(m, 0, sizeof(*m));
	m->sev = sev;
	m->msg = xvasprintf(fmt, ap);
	if (loc) {
		m->loc = *loc;
		m->loc.file = loc->file ? xstrdup(loc->file) : NULL;
		m->loc.text = loc->text ? xstrndup(loc->text, (size_t)loc->text_len) : NULL;
	}
}

void kxl_diag_add(struct kxl_diag *d, enum kxl_severity sev,
		  const struct kxl_loc *loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kxl_diag_vadd(d, sev, loc, fmt, ap);
	va_end(ap);
}

int kxl_err(struct kxl_diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kxl_diag_vadd(d, KXL_ERROR, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

void kxl_warn(struct kxl_diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kxl_diag_vadd(d, KXL_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void kxl_note(struct kxl_diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kxl_diag_vadd(d, KXL_NOTE, NULL, fmt, ap);
	va_end(ap);
}

void kxl_msg_print(const struct kxl_msg *m, FILE *f)
{
	const struct kxl_loc *l = &m->loc;
	if (l->file && l->line > 0 && l->col > 0)
		fprintf(f, "%s:%d:%d: ", l->file, l->line, l->col);
	else if (l->file && l->line > 0)
		fprintf(f, "%s:%d: ", l->file, l->line);
	else if (l->file)
		fprintf(f, "%s: ", l->file);
	fprintf(f, "%s: %s\n", kxl_severity_name(m->sev), m->msg);
	if (l->text && l->line > 0) {
		fprintf(f, "%5d | %s\n", l->line, l->text);
		if (l->col > 0) {
			fputs("      | ", f);
			/* keep tabs so the caret lines up under the column */
			for (int i = 0; i < l->col - 1 && l->text[i]; i++)
				fputc(l->text[i] == '\t' ? '\t' : ' ', f);
			fputs("^\n", f);
		}
	}
}

void kxl_diag_print(const struct kxl_diag *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++)
		kxl_msg_print(&d->v[i], f);
}
