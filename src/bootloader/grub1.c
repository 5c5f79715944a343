/*
 * grub1.c: GRUB legacy's menu.lst / grub.conf: `title' starts an entry,
 * `kernel PATH ARGS' and `initrd PATH' fill it ((hdN,M) prefixes dropped),
 * `default N' (or `saved', taken as 0) and `timeout N' at the top; a
 * keyword may be followed by blanks or `='. A pure function over a buffer.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "bootloader/bl.h"
#include "util/util.h"

static int word(const char **pp, const char *e, const char *w)
{
	size_t l = strlen(w);
	const char *p = *pp;
	if ((size_t)(e - p) < l || memcmp(p, w, l))
		return 0;
	p += l;
	if (p < e && *p != ' ' && *p != '\t' && *p != '=')
		return 0;
	while (p < e && (*p == ' ' || *p == '\t' || *p == '='))
		p++;
	*pp = p;
	return 1;
}

static char *rest(const char *p, const char *e)
{
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return xstrndup(p, (size_t)(e - p));
}

int bl_parse_grub1(const char *buf, size_t len, struct bl_menu *m, char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	struct bl_entry *e = NULL;

	memset(m, 0, sizeof(*m));
	m->kind = BL_GRUB1;
	m->timeout = -1;
	m->blscfg_at = -1;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		const char *q = p;
		p = eol ? eol + 1 : end;
		while (q < le && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= le || *q == '#')
			continue;
		if (word(&q, le, "title")) {
			e = bl_menu_add(&m->entries, &m->nentries);
			if (!e) {
				snprintf(err, errlen, "menu.lst: more than %d entries", BL_MAX_ENTRIES);
				bl_menu_free(m);
				return -1;
			}
			e->title = rest(q, le);
		} else if (!e && word(&q, le, "default")) {
			free(m->deflt);
			m->deflt = rest(q, le);
			if (!strcmp(m->deflt, "saved")) {
				free(m->deflt);
				m->deflt = xstrdup("0");
			}
		} else if (!e && word(&q, le, "timeout")) {
			m->timeout = atoi(q);
		} else if (e && word(&q, le, "kernel")) {
			free(e->kernel);
			free(e->args);
			e->args = NULL;
			size_t n = strcspn(q, " \t\r\n");
			if ((size_t)(le - q) < n)
				n = (size_t)(le - q);
			char *k = xstrndup(q, n);
			e->kernel = bl_strip_device(k);
			free(k);
			const char *a = q + n;
			while (a < le && (*a == ' ' || *a == '\t'))
				a++;
			if (a < le)
				e->args = rest(a, le);
			if (e->args && !*e->args) {
				free(e->args);
				e->args = NULL;
			}
		} else if (e && word(&q, le, "initrd")) {
			for (int i = 0; i < e->ninitrd; i++)
				free(e->initrd[i]);
			char *r = rest(q, le);
			size_t n = strcspn(r, " \t");
			r[n] = 0;
			e->initrd[0] = bl_strip_device(r);
			e->ninitrd = 1;
			free(r);
		}
	}
	return 0;
}
