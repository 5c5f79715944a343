/*
 * extlinux.c: SYSLINUX-family configs (extlinux.conf, isolinux.cfg) as
 * SYSLINUX reads them: case-insensitive keywords, LABEL starts an entry,
 * KERNEL/LINUX its kernel, APPEND its command line (less an initrd=, which
 * names the ramdisk, as pygrub reads it), INITRD its ramdisks (comma-separated),
 * MENU LABEL its title, DEFAULT/ONTIMEOUT/MENU DEFAULT the default,
 * TIMEOUT in tenths of a second. A pure function over a buffer.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include "bootloader/bl.h"
#include "util/util.h"

static const char *skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static char *trimmed(const char *p, const char *e)
{
	p = skip_ws(p, e);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return xstrndup(p, (size_t)(e - p));
}

static int kw(const char **pp, const char *e, const char *word)
{
	size_t l = strlen(word);
	const char *p = *pp;
	if ((size_t)(e - p) < l || strncasecmp(p, word, l))
		return 0;
	if (p + l < e && p[l] != ' ' && p[l] != '\t' && p[l] != '\r')
		return 0;
	*pp = skip_ws(p + l, e);
	return 1;
}

int bl_parse_extlinux(const char *buf, size_t len, struct bl_menu *m, char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	struct bl_entry *e = NULL;
	char *menu_default = NULL;

	memset(m, 0, sizeof(*m));
	m->kind = BL_EXTLINUX;
	m->timeout = -1;
	m->blscfg_at = -1;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		const char *q = skip_ws(p, le);
		p = eol ? eol + 1 : end;
		if (q >= le || *q == '#')
			continue;
		if (kw(&q, le, "label")) {
			e = bl_menu_add(&m->entries, &m->nentries);
			if (!e) {
				snprintf(err, errlen, "extlinux: more than %d entries", BL_MAX_ENTRIES);
				free(menu_default);
				bl_menu_free(m);
				return -1;
			}
			e->id = trimmed(q, le);
			e->title = xstrdup(e->id);
		} else if (kw(&q, le, "default")) {
			free(m->deflt);
			m->deflt = trimmed(q, le);
		} else if (kw(&q, le, "ontimeout")) {
			free(m->deflt);
			m->deflt = trimmed(q, le);
		} else if (kw(&q, le, "timeout")) {
			m->timeout = (atoi(q) + 9) / 10;
		} else if (kw(&q, le, "menu")) {
			if (kw(&q, le, "default") && e) {
				free(menu_default);
				menu_default = xstrdup(e->id);
			}
		} else if (!e) {
			continue;
		} else if (kw(&q, le, "kernel") || kw(&q, le, "linux")) {
			free(e->kernel);
			char *k = trimmed(q, le);
			/* KERNEL may carry arguments after the file name */
			char *sp = strpbrk(k, " \t");
			if (sp) {
				*sp = 0;
				if (!e->args)
					e->args = trimmed(sp + 1, sp + 1 + strlen(sp + 1));
			}
			e->kernel = k;
		} else if (kw(&q, le, "append")) {
			free(e->args);
			e->args = trimmed(q, le);
			if (!strcmp(e->args, "-")) {
				free(e->args);
				e->args = NULL;
			}
			/* initrd= in APPEND is SYSLINUX's other way to name the ramdisk */
			const char *s = e->args;
			while (s && *s && !e->ninitrd) {
				if ((s == e->args || s[-1] == ' ' || s[-1] == '\t') && !strncasecmp(s, "initrd=", 7)) {
					const char *v = s + 7;
					size_t n = strcspn(v, " \t");
					char *list = xstrndup(v, n), *save = NULL;
					for (char *t = strtok_r(list, ",", &save); t && e->ninitrd < BL_MAX_INITRDS;
					     t = strtok_r(NULL, ",", &save))
						e->initrd[e->ninitrd++] = xstrdup(t);
					free(list);
					/* and out of the command line, as pygrub does */
					const char *after = v + n;
					while (*after == ' ' || *after == '\t')
						after++;
					memmove((char *)s, after, strlen(after) + 1);
					size_t l = strlen(e->args);
					while (l && (e->args[l - 1] == ' ' || e->args[l - 1] == '\t'))
						e->args[--l] = 0;
					if (!l) {
						free(e->args);
						e->args = NULL;
					}
					break;
				}
				s = strpbrk(s + 1, "iI");
			}
		} else if (kw(&q, le, "initrd")) {
			for (int i = 0; i < e->ninitrd; i++)
				free(e->initrd[i]);
			e->ninitrd = 0;
			char *list = trimmed(q, le), *save = NULL;
			for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (e->ninitrd >= BL_MAX_INITRDS) {
					snprintf(err, errlen, "extlinux: more than %d initrd files", BL_MAX_INITRDS);
					free(list);
					free(menu_default);
					bl_menu_free(m);
					return -1;
				}
				e->initrd[e->ninitrd++] = xstrdup(t);
			}
			free(list);
		}
	}
	if (menu_default) {
		free(m->deflt);
		m->deflt = menu_default;
	}
	return 0;
}
