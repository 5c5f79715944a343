/*
 * bls.c: Boot Loader Specification entries (the .conf files in /loader/entries), as
 * Fedora's and RHEL's GRUB (blscfg) reads them: one file per entry, keys
 * title, version, linux, initrd (repeatable, concatenated in order) and
 * options (repeatable, joined by a space), with $var expanded from the
 * grubenv block ($kernelopts, $tuned_params); the entry's id is its file
 * name without ".conf", which grubenv's saved_entry names. Entries are
 * sorted newest version first, as blscfg sorts them. Pure functions.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <ctype.h>
#include "bootloader/bl.h"
#include "util/util.h"

static char *expand(const char *s, const char *env, size_t envlen)
{
	struct sbuf b = { 0 };
	sbuf_add(&b, "", 0);
	while (*s) {
		if (*s == '$') {
			const char *n = s + 1;
			size_t l = 0;
			int brace = *n == '{';
			if (brace)
				n++;
			while (isalnum((unsigned char)n[l]) || n[l] == '_')
				l++;
			if (l && (!brace || n[l] == '}')) {
				char *name = xstrndup(n, l);
				char *v = env ? bl_grubenv_get(env, envlen, name) : NULL;
				if (v && b.len + strlen(v) < BL_CMDLINE_MAX * 4)
					sbuf_adds(&b, v);
				free(v);
				free(name);
				s = n + l + brace;
				continue;
			}
		}
		sbuf_add(&b, s++, 1);
	}
	return sbuf_steal(&b);
}

int bl_parse_bls_entry(const char *buf, size_t len, const char *name,
		       const char *env, size_t envlen, struct bl_menu *m,
		       char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	struct sbuf opts = { 0 };
	char *version = NULL;
	struct bl_entry *e = bl_menu_add(&m->entries, &m->nentries);
	if (!e) {
		snprintf(err, errlen, "loader/entries: more than %d entries", BL_MAX_ENTRIES);
		return -1;
	}
	m->kind = BL_BLS;
	size_t nl = strlen(name);
	e->id = nl > 5 && !strcmp(name + nl - 5, ".conf") ? xstrndup(name, nl - 5) : xstrdup(name);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		const char *q = p;
		p = eol ? eol + 1 : end;
		while (q < le && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= le || *q == '#')
			continue;
		const char *k = q;
		while (q < le && *q != ' ' && *q != '\t')
			q++;
		size_t kl = (size_t)(q - k);
		while (q < le && (*q == ' ' || *q == '\t'))
			q++;
		const char *ve = le;
		while (ve > q && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
			ve--;
		char *v = xstrndup(q, (size_t)(ve - q));
		if (kl == 5 && !memcmp(k, "title", 5)) {
			free(e->title);
			e->title = v;
		} else if (kl == 7 && !memcmp(k, "version", 7)) {
			free(version);
			version = v;
		} else if (kl == 5 && !memcmp(k, "linux", 5)) {
			free(e->kernel);
			e->kernel = v;
		} else if (kl == 6 && !memcmp(k, "initrd", 6)) {
			if (e->ninitrd >= BL_MAX_INITRDS) {
				snprintf(err, errlen, "%s: more than %d initrd lines", name, BL_MAX_INITRDS);
				free(v);
				free(version);
				free(opts.s);
				return -1;
			}
			e->initrd[e->ninitrd++] = v;
		} else if (kl == 7 && !memcmp(k, "options", 7)) {
			if (opts.len)
				sbuf_add(&opts, " ", 1);
			sbuf_adds(&opts, v);
			free(v);
		} else {
			free(v);
		}
	}
	if (opts.len) {
		e->args = expand(opts.s, env, envlen);
		if (!*e->args) {
			free(e->args);
			e->args = NULL;
		}
	}
	free(opts.s);
	if (!e->title)
		e->title = version ? xstrdup(version) : xstrdup(e->id);
	free(version);
	return 0;
}

static int newest_first(const void *a, const void *b)
{
	const struct bl_entry *x = a, *y = b;
	return strverscmp(y->id, x->id);
}

void bl_bls_sort(struct bl_menu *m)
{
	if (m->nentries > 1)
		qsort(m->entries, (size_t)m->nentries, sizeof(*m->entries), newest_first);
}
