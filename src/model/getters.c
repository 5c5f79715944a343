/*
 * getters.c: reading setting values as xl's libxlutil does (xlu_cfg_get_*),
 * with its warnings for a value of the wrong kind (the key is then ignored),
 * json helpers, lexical path resolution against the cfg directory (the
 * review's ask a), and the host facts xl would take from Xen.
 */
#include "model/keys.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

uint32_t m_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

void m_index_build(struct mctx *m)
{
	size_t n = 0;
	for (const struct kxl_cfg_setting *s = m->cfg->last; s; s = s->next) n++;
	size_t size = 64;
	while (size < n * 2) size *= 2;
	m->index = xcalloc(size, sizeof(*m->index));
	m->index_mask = size - 1;
	/* newest first: the first setting stored for a name is the one xl uses */
	for (const struct kxl_cfg_setting *s = m->cfg->last; s; s = s->next) {
		size_t i = m_hash(s->name) & m->index_mask;
		while (m->index[i] && strcmp(m->index[i]->name, s->name)) i = (i + 1) & m->index_mask;
		if (!m->index[i]) m->index[i] = s;
	}
}

void m_index_free(struct mctx *m)
{
	free(m->index);
	m->index = NULL;
}

const struct kxl_cfg_setting *m_find(struct mctx *m, const char *name)
{
	if (!m->index) return kxl_cfg_find(m->cfg, name);
	return m_find_h(m, name, m_hash(name));
}

const struct kxl_cfg_setting *m_find_h(struct mctx *m, const char *name, uint32_t hash)
{
	size_t i = hash & m->index_mask;
	while (m->index[i]) {
		if (!strcmp(m->index[i]->name, name)) return m->index[i];
		i = (i + 1) & m->index_mask;
	}
	return NULL;
}

struct kxl_loc m_value_loc(const struct kxl_cfg_value *v)
{
	return kxl_cfg_loc(&v->pos);
}

struct kxl_loc m_loc(struct mctx *m, const char *name)
{
	const struct kxl_cfg_setting *s = m_find(m, name);
	if (!s) return (struct kxl_loc){ .file = m->cfg->path };
	return kxl_cfg_loc(&s->value->pos);
}

__attribute__((format(printf, 4, 0)))
static void vmsg(struct mctx *m, enum kxl_severity sev, const char *name, const char *fmt, va_list ap)
{
	struct kxl_loc l = name ? m_loc(m, name) : (struct kxl_loc){ .file = m->cfg->path };
	kxl_diag_vadd(m->d, sev, &l, fmt, ap);
	if (sev == KXL_ERROR) m->failed = true;
}

void m_error(struct mctx *m, const char *name, const char *fmt, ...)
{
	va_list ap; va_start(ap, fmt); vmsg(m, KXL_ERROR, name, fmt, ap); va_end(ap);
}

void m_error_at(struct mctx *m, const struct kxl_loc *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kxl_diag_vadd(m->d, KXL_ERROR, l, fmt, ap);
	va_end(ap);
	m->failed = true;
}

void m_warn(struct mctx *m, const char *name, const char *fmt, ...)
{
	va_list ap; va_start(ap, fmt); vmsg(m, KXL_WARNING, name, fmt, ap); va_end(ap);
}

void m_deprecated(struct mctx *m, const char *name, const char *fmt, ...)
{
	va_list ap; va_start(ap, fmt); vmsg(m, KXL_DEPRECATED, name, fmt, ap); va_end(ap);
}

void m_file_error(struct mctx *m, const char *fmt, ...)
{
	va_list ap; va_start(ap, fmt); vmsg(m, KXL_ERROR, NULL, fmt, ap); va_end(ap);
}

int m_string(struct mctx *m, const char *name, bool quiet, const char **out)
{
	const struct kxl_cfg_setting *s = m_find(m, name);
	if (!s) return ESRCH;
	if (s->value->type != KXL_CFG_STRING) {
		if (!quiet)
			m_warn(m, name, "parameter `%s' is a list but should be a single value; ignored", name);
		return EINVAL;
	}
	*out = s->value->str;
	return 0;
}

int m_bounded_long(struct mctx *m, const char *name, long min, long max, bool quiet, long *out)
{
	const struct kxl_cfg_setting *s = m_find(m, name);
	if (!s) return ESRCH;
	if (s->value->type != KXL_CFG_STRING) {
		if (!quiet)
			m_warn(m, name, "parameter `%s' is a list but should be a single value; ignored", name);
		return EINVAL;
	}
	if (s->add) {
		if (!quiet)
			m_warn(m, name, "can't use += with numbers for parameter `%s'; ignored", name);
		return EINVAL;
	}
	const char *str = s->value->str;
	char *ep;
	errno = 0;
	long l = strtol(str, &ep, 0);
	if (errno) {
		int e = errno;
		if (!quiet)
			m_warn(m, name, "parameter `%s' could not be parsed as a number: %s; ignored",
			       name, strerror(e));
		return e;
	}
	if (*ep || ep == str) {
		if (!quiet)
			m_warn(m, name, "parameter `%s' is not a valid number (`%s'); ignored", name, str);
		return EINVAL;
	}
	if (l < min) {
		if (!quiet) m_warn(m, name, "value `%ld' of `%s' is smaller than minimum bound '%ld'", l, name, min);
		return EINVAL;
	}
	if (l > max) {
		if (!quiet) m_warn(m, name, "value `%ld' of `%s' is greater than maximum bound '%ld'", l, name, max);
		return EINVAL;
	}
	*out = l;
	return 0;
}

int m_long(struct mctx *m, const char *name, bool quiet, long *out)
{
	return m_bounded_long(m, name, LONG_MIN, LONG_MAX, quiet, out);
}

int m_list(struct mctx *m, const char *name, bool quiet, const struct kxl_cfg_value **out)
{
	const struct kxl_cfg_setting *s = m_find(m, name);
	if (!s) return ESRCH;
	if (s->value->type != KXL_CFG_LIST) {
		if (!quiet)
			m_warn(m, name, "parameter `%s' is a single value but should be a list; ignored", name);
		return EINVAL;
	}
	if (out) *out = s->value;
	return 0;
}

int m_defbool(struct mctx *m, const char *name, bool quiet, json_object *obj, const char *field)
{
	long l;
	int e = m_long(m, name, quiet, &l);
	if (!e) j_defbool(obj, field, l != 0);
	return e;
}

int m_replace_string(struct mctx *m, const char *name, bool quiet, json_object *obj, const char *field)
{
	const char *s;
	int e = m_string(m, name, quiet, &s);
	if (!e) j_str(obj, field, s);
	return e;
}

/* Every key given to the j_* helpers is a string constant (IDL field
 * names), so json-c need not copy it. */
static void j_add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add_ex(o, key, v, JSON_C_OBJECT_KEY_IS_CONSTANT);
}

/* The member key of parent if it is of type t, else a new empty one there. */
static json_object *j_child(json_object *parent, const char *key, enum json_type t)
{
	json_object *o;
	if (json_object_object_get_ex(parent, key, &o) && json_object_is_type(o, t))
		return o;
	o = t == json_type_array ? json_object_new_array() : json_object_new_object();
	j_add(parent, key, o);
	return o;
}

json_object *j_obj(json_object *parent, const char *key)
{
	return j_child(parent, key, json_type_object);
}

json_object *j_arr(json_object *parent, const char *key)
{
	return j_child(parent, key, json_type_array);
}

void j_str(json_object *o, const char *key, const char *s)
{
	j_add(o, key, json_object_new_string(s));
}

void j_int(json_object *o, const char *key, int64_t v)
{
	j_add(o, key, json_object_new_int64(v));
}

void j_defbool(json_object *o, const char *key, bool v)
{
	j_add(o, key, json_object_new_string(v ? "True" : "False"));
}

void j_bool(json_object *o, const char *key, bool v)
{
	j_add(o, key, json_object_new_boolean(v));
}

void j_bitmap_range(json_object *o, const char *key, long n)
{
	json_object *a = json_object_new_array();
	for (long i = 0; i < n; i++) json_object_array_add(a, json_object_new_int64(i));
	json_object_object_add(o, key, a);
}

char *m_resolve(struct mctx *m, const char *name, const char *value)
{
	if (!value[0] || value[0] == '/') return xstrdup(value);
	const struct kxl_cfg_setting *s = m_find(m, name);
	const char *base = s ? kxl_cfg_pos_basedir(&s->value->pos) : ".";
	return path_join_normalize(base, value);
}

char *m_resolve_lookup(struct mctx *m, const char *name, const char *value)
{
	if (!strncmp(value, "./", 2) || !strncmp(value, "../", 3))
		return m_resolve(m, name, value);
	return xstrdup(value);
}

unsigned host_nr_nodes(void)
{
	DIR *d = opendir("/sys/devices/system/node");
	if (!d) return 1;
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "node", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9')
			n++;
	}
	closedir(d);
	return n ? n : 1;
}

long host_cpu_bits(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	if (n < 1) n = 1;
	return (n + 7) / 8 * 8;	/* libxl's cpu bitmaps are whole bytes */
}

void host_node_cpus(unsigned long node, bool *cpus, size_t n)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%lu/cpulist", node);
	FILE *f = fopen(path, "re");
	if (!f) {
		/* no NUMA information: one node holding every CPU */
		if (node == 0)
			for (long i = 0; i < sysconf(_SC_NPROCESSORS_CONF) && (size_t)i < n; i++) cpus[i] = true;
		return;
	}
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	char *save = NULL;
	for (char *t = strtok_r(buf, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save)) {
		char *e;
		unsigned long lo = strtoul(t, &e, 10), hi = lo;
		if (*e == '-') hi = strtoul(e + 1, NULL, 10);
		for (unsigned long c = lo; c <= hi && c < n; c++) cpus[c] = true;
	}
}

/* A copy of [s, s+n) without leading and trailing white space. */
char *m_trim_dup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) { s++; n--; }
	while (n && isspace((unsigned char)s[n - 1])) n--;
	return xstrndup(s, n);
}

bool m_uuid_valid(const char *s)
{
	/* libxl_uuid_from_string: 8-4-4-4-12 hex digits */
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	if (strlen(s) != sizeof(shape) - 1) return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i])) return false;
	return true;
}

/*
 * The walk every device list shares: for each entry of key (xl stops at the
 * first entry that is not a string), a new object appended to root[its field],
 * with devid = its index when devid is set, filled by fn. An error in fn
 * refuses the domain and ends the walk.
 */
void m_each_entry(struct mctx *m, const struct key *key, bool devid, m_entry_fn fn)
{
	const struct kxl_cfg_value *list;
	if (m_list(m, key->name, false, &list)) return;
	json_object *arr = j_arr(m->root, key->field);
	for (size_t i = 0; i < list->n && list->items[i]->type == KXL_CFG_STRING; i++) {
		json_object *o = json_object_new_object();
		if (devid) j_int(o, "devid", (int64_t)i);
		json_object_array_add(arr, o);
		if (fn(m, list->items[i], o)) {
			m->failed = true;
			return;
		}
	}
}

