/*
 * mctx.h: the state shared by the key table and its handlers while a cfg is
 * turned into a model (internal to src/model), and the xlu-style getters
 * with xl's warnings for values of the wrong kind.
 */
#ifndef KXL_MODEL_MCTX_H
#define KXL_MODEL_MCTX_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kxl/model.h>

enum { T_PV = 1, T_PVH = 2, T_HVM = 4, T_ALL = 7 };

struct mctx {
	const struct kxl_cfg *cfg;
	const struct kxl_conf *conf;
	struct kxl_diag *d;
	json_object *root, *c_info, *b_info, *type_obj;
	int type;		/* T_PV, T_PVH or T_HVM */
	long vcpus;
	bool failed;
	bool pvh_firmware_path;
	bool rdm_set;
	/* the newest setting of each name, hashed: the table looks up every key */
	const struct kxl_cfg_setting **index;
	size_t index_mask;
};

void m_index_build(struct mctx *m);
void m_index_free(struct mctx *m);
uint32_t m_hash(const char *s);
/* m_find with the name's m_hash() already known (the index must exist) */
const struct kxl_cfg_setting *m_find_h(struct mctx *m, const char *name, uint32_t hash);

/* Lookup results, as libxlutil's: 0, ESRCH (absent), EINVAL (wrong kind). */
const struct kxl_cfg_setting *m_find(struct mctx *m, const char *name);
int m_string(struct mctx *m, const char *name, bool quiet, const char **out);
int m_long(struct mctx *m, const char *name, bool quiet, long *out);
int m_bounded_long(struct mctx *m, const char *name, long min, long max, bool quiet, long *out);
int m_list(struct mctx *m, const char *name, bool quiet, const struct kxl_cfg_value **out);
int m_defbool(struct mctx *m, const char *name, bool quiet, json_object *obj, const char *field);
int m_replace_string(struct mctx *m, const char *name, bool quiet, json_object *obj, const char *field);

/* Diagnostics at a setting's value, or about the file. */
__attribute__((format(printf, 3, 4)))
void m_error(struct mctx *m, const char *name, const char *fmt, ...);
__attribute__((format(printf, 3, 4)))
void m_warn(struct mctx *m, const char *name, const char *fmt, ...);
__attribute__((format(printf, 3, 4)))
void m_deprecated(struct mctx *m, const char *name, const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
void m_file_error(struct mctx *m, const char *fmt, ...);
/* An error at a location inside a value (a list entry, a spec's field).
 * Every error of the model is raised through m_error, m_file_error or
 * m_error_at, and each marks the domain as refused (m->failed). */
__attribute__((format(printf, 3, 4)))
void m_error_at(struct mctx *m, const struct kxl_loc *l, const char *fmt, ...);
struct kxl_loc m_loc(struct mctx *m, const char *name);
struct kxl_loc m_value_loc(const struct kxl_cfg_value *v);

/* json helpers; every key must be a string constant (json-c keeps the pointer) */
json_object *j_obj(json_object *parent, const char *key);	/* get or create */
json_object *j_arr(json_object *parent, const char *key);
void j_str(json_object *o, const char *key, const char *s);
void j_int(json_object *o, const char *key, int64_t v);
void j_defbool(json_object *o, const char *key, bool v);
void j_bool(json_object *o, const char *key, bool v);
void j_bitmap_range(json_object *o, const char *key, long n);	/* [0..n-1] */

char *m_trim_dup(const char *s, size_t n);
bool m_uuid_valid(const char *s);

/* Each string entry of a device list key as a new object of root[key's
 * field] (devid = its index when devid), filled by fn; an error ends the walk. */
struct key;
typedef int (*m_entry_fn)(struct mctx *m, const struct kxl_cfg_value *v, json_object *o);
void m_each_entry(struct mctx *m, const struct key *key, bool devid, m_entry_fn fn);

/* The config as text, as libxl prints it: yajl's pretty form, fields in
 * libxl's IDL order (idl_order.c). Caller frees. */
char *m_json_text(json_object *root);

/* Paths (review ask a). */
char *m_resolve(struct mctx *m, const char *name, const char *value);
char *m_resolve_lookup(struct mctx *m, const char *name, const char *value);

/* Host facts (NUMA nodes, CPUs) from sysfs; 1 node when unknown. */
unsigned host_nr_nodes(void);
long host_cpu_bits(void);
/* the CPUs of a NUMA node (sysfs); without NUMA information node 0 has all */
void host_node_cpus(unsigned long node, bool *cpus, size_t n);	/* bits of a libxl cpu bitmap on this host */

#endif
