/*
 * menu.c: the menu model all four parsers fill, and the choice of the entry
 * to boot as GRUB makes it: a default or --entry is a '>'-separated path
 * whose parts are each an index, a title or an id at that level; a default
 * that names nothing falls back to the first entry. Also the grubenv
 * reader and the removal of GRUB device prefixes from paths.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <errno.h>
#include "bootloader/bl.h"
#include "util/util.h"

static void entry_free(struct bl_entry *e)
{
	free(e->title);
	free(e->id);
	free(e->kernel);
	for (int i = 0; i < e->ninitrd; i++)
		free(e->initrd[i]);
	free(e->args);
	for (int i = 0; i < e->nchildren; i++)
		entry_free(&e->children[i]);
	free(e->children);
}

void bl_menu_free(struct bl_menu *m)
{
	for (int i = 0; i < m->nentries; i++)
		entry_free(&m->entries[i]);
	free(m->entries);
	free(m->deflt);
	free(m->vars);
	memset(m, 0, sizeof(*m));
}

struct bl_entry *bl_menu_add(struct bl_entry **v, int *n)
{
	if (*n >= BL_MAX_ENTRIES)
		return NULL;
	*v = xrealloc(*v, (size_t)(*n + 1) * sizeof(**v));
	struct bl_entry *e = &(*v)[(*n)++];
	memset(e, 0, sizeof(*e));
	return e;
}

char *bl_strip_device(const char *path)
{
	while (*path == ' ' || *path == '\t')
		path++;
	if (*path == '(') {
		const char *c = strchr(path, ')');
		if (c)
			path = c + 1;
	}
	return xstrdup(path);
}

/* One path component: an index (all digits), else a title or an id. */
static int find_at_level(const struct bl_entry *v, int n, const char *part, size_t len)
{
	size_t i = 0;
	while (i < len && part[i] >= '0' && part[i] <= '9')
		i++;
	if (len && i == len && len < 9) {
		int idx = 0;
		for (size_t k = 0; k < len; k++)
			idx = idx * 10 + (part[k] - '0');
		return idx < n ? idx : -1;
	}
	for (int k = 0; k < n; k++)
		if (v[k].title && strlen(v[k].title) == len && !memcmp(v[k].title, part, len))
			return k;
	for (int k = 0; k < n; k++)
		if (v[k].id && strlen(v[k].id) == len && !memcmp(v[k].id, part, len))
			return k;
	return -1;
}

static const struct bl_entry *first_bootable(const struct bl_entry *v, int n)
{
	for (int i = 0; i < n; i++) {
		if (!v[i].is_submenu && v[i].kernel)
			return &v[i];
		if (v[i].is_submenu) {
			const struct bl_entry *e = first_bootable(v[i].children, v[i].nchildren);
			if (e)
				return e;
		}
	}
	return NULL;
}

static const struct bl_entry *resolve(const struct bl_menu *m, const char *path)
{
	const struct bl_entry *v = m->entries, *e = NULL;
	int n = m->nentries;
	const char *p = path;
	for (;;) {
		const char *gt = strchr(p, '>');
		size_t len = gt ? (size_t)(gt - p) : strlen(p);
		int k = find_at_level(v, n, p, len);
		if (k < 0)
			return NULL;
		e = &v[k];
		if (!gt)
			break;
		if (!e->is_submenu)
			return NULL;
		v = e->children;
		n = e->nchildren;
		p = gt + 1;
	}
	if (e->is_submenu)
		return first_bootable(e->children, e->nchildren);
	return e->kernel ? e : NULL;
}

const struct bl_entry *bl_menu_select(const struct bl_menu *m, const char *want,
				      char *err, size_t errlen)
{
	const struct bl_entry *e;
	if (want && *want) {
		e = resolve(m, want);
		if (!e) {
			snprintf(err, errlen, "no boot entry \"%s\" in the menu", want);
			return NULL;
		}
		return e;
	}
	if (m->deflt && *m->deflt && (e = resolve(m, m->deflt)))
		return e;
	e = first_bootable(m->entries, m->nentries);
	if (!e)
		snprintf(err, errlen, "the boot menu has no entry with a kernel");
	return e;
}

static void list_rec(const struct bl_entry *v, int n, const char *prefix,
		     void (*fn)(const struct bl_entry *, const char *, void *), void *arg)
{
	for (int i = 0; i < n; i++) {
		char *path = *prefix ? xasprintf("%s>%d", prefix, i) : xasprintf("%d", i);
		if (v[i].is_submenu)
			list_rec(v[i].children, v[i].nchildren, path, fn, arg);
		else
			fn(&v[i], path, arg);
		free(path);
	}
}

void bl_menu_list(const struct bl_menu *m, void (*fn)(const struct bl_entry *, const char *, void *), void *arg)
{
	list_rec(m->entries, m->nentries, "", fn, arg);
}

char *bl_grubenv_get(const char *env, size_t envlen, const char *name)
{
	size_t nl = strlen(name);
	const char *p = env, *end = env + envlen;
	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		if ((size_t)(le - p) > nl && !memcmp(p, name, nl) && p[nl] == '=') {
			struct sbuf b = { 0 };
			for (const char *q = p + nl + 1; q < le; q++) {
				if (*q == '\\' && q + 1 < le) {
					q++;
					sbuf_add(&b, *q == 'n' ? "\n" : q, 1);
				} else {
					sbuf_add(&b, q, 1);
				}
			}
			if (!b.s)
				return xstrdup("");
			return sbuf_steal(&b);
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}
