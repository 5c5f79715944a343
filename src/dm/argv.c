/*
 * argv.c: the small helpers of src/dm: reading the model's JSON, growing
 * the argument vector, and messages located at an xl key's value in the
 * cfg (the file, when the key came from a default or the cfg is absent).
 */
#include "dm/dm-int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

json_object *dm_get(json_object *o, const char *k)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

const char *dm_gets(json_object *o, const char *k)
{
	json_object *v = dm_get(o, k);
	return v ? json_object_get_string(v) : NULL;
}

bool dm_isset(json_object *o, const char *k)
{
	return dm_get(o, k) != NULL;
}

bool dm_bool(json_object *o, const char *k, bool dflt)
{
	json_object *v = dm_get(o, k);
	if (!v) return dflt;
	if (json_object_is_type(v, json_type_string))
		return !strcmp(json_object_get_string(v), "True");
	return json_object_get_boolean(v);
}

int64_t dm_int(json_object *o, const char *k, int64_t dflt)
{
	json_object *v = dm_get(o, k);
	return v ? json_object_get_int64(v) : dflt;
}

static void push(struct kxl_dm_argv *a, char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 32;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

void dm_add(struct dm *m, const char *arg)
{
	push(m->a, xstrdup(arg));
}

void dm_addf(struct dm *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	push(m->a, xvasprintf(fmt, ap));
	va_end(ap);
}

void dm_pair(struct dm *m, const char *opt, const char *val)
{
	dm_add(m, opt);
	dm_add(m, val);
}

void dm_pairf(struct dm *m, const char *opt, const char *fmt, ...)
{
	dm_add(m, opt);
	va_list ap;
	va_start(ap, fmt);
	push(m->a, xvasprintf(fmt, ap));
	va_end(ap);
}

void kxl_dm_argv_free(struct kxl_dm_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

struct kxl_loc dm_loc(const struct dm *m, const char *key, long idx)
{
	return kxl_cfg_value_loc(m->cfg, key, idx);
}

static void vmsg(struct dm *m, enum kxl_severity sev, const char *key, long idx,
		 const char *fmt, va_list ap)
{
	struct kxl_loc l = dm_loc(m, key, idx);
	char *s = xvasprintf(fmt, ap);
	kxl_diag_add(m->d, sev, &l, "%s", s);
	free(s);
	if (sev == KXL_ERROR)
		m->failed = true;
}

void dm_msg(struct dm *m, enum kxl_severity sev, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(m, sev, key, -1, fmt, ap);
	va_end(ap);
}

/* key_idx: "disk#2" for entry 2 of the list `disk'. */
void dm_msg_at(struct dm *m, enum kxl_severity sev, const char *key_idx, const char *fmt, ...)
{
	char key[64];
	long idx = -1;
	const char *hash = strchr(key_idx, '#');
	size_t kl = hash ? (size_t)(hash - key_idx) : strlen(key_idx);
	snprintf(key, sizeof(key), "%.*s", (int)kl, key_idx);
	if (hash)
		idx = strtol(hash + 1, NULL, 10);
	va_list ap;
	va_start(ap, fmt);
	vmsg(m, sev, key, idx, fmt, ap);
	va_end(ap);
}

char *dm_esc(const char *s)
{
	struct sbuf b = { 0 };
	sbuf_adds(&b, "");
	for (const char *p = s; *p; p++)
		sbuf_adds(&b, *p == ',' ? ",," : (char[]){ *p, 0 });
	return sbuf_steal(&b);
}
