/*
 * keys.h: the row type of the one table of xl.cfg keys (keys.c), internal
 * to src/model. A row is typed: its value type (with an integer's C type
 * and bounds, an enum's values and defaults, a path's resolution), where
 * libxl keeps it (a destination object and libxl's field name), the
 * domain types it applies to, its defaults, flags that tell the walk what
 * to do with it, and its documentation. A handler, when the key means more
 * than "store the value", receives its row: per-key data comes from there.
 */
#ifndef KXL_MODEL_KEYS_H
#define KXL_MODEL_KEYS_H

#include <limits.h>
#include <stddef.h>

#include "model/mctx.h"

/* What a key's value is (the man page's "Kind", and the typed apply). */
enum key_type {
	KT_STRING,	/* stored as given */
	KT_INT,		/* a number, stored in the C type ctype (xl wraps) */
	KT_SIZE,	/* a number of MiB, stored as KiB (libxl's MemKB) */
	KT_BOOL,	/* 0/1, a libxl defbool ("True"/"False") */
	KT_ENUM,	/* one of values[] (case-insensitive unless KF_EXACT) */
	KT_PATH,	/* a file: resolved against the cfg (KF_LOOKUP: only ./ ../) */
	KT_LIST,	/* a list of strings */
	KT_DEVICES,	/* a list of device specs, one libxl device each */
	KT_SPECIAL,	/* see the doc line (a string or a list, ...) */
};

/* The C type libxl stores an integer in. */
enum key_ctype { CT_INT, CT_UINT32 };

/* Where the value lands in libxl's domain config. */
enum key_dest {
	D_NONE, D_ROOT, D_CINFO, D_BINFO, D_TYPE, D_SCHED, D_ARM, D_X86, D_SPICE,
	D_VNC, D_SDL,	/* a vnc_info / sdl_info that the handler picks (vfb or hvm) */
};

enum key_flag {
	KF_FIRST = 1u << 0,	/* read before the walk (the type decides the union) */
	KF_GROUP = 1u << 1,	/* read by an earlier row's handler: listed for docs and names */
	KF_PHASE = 1u << 2,	/* no key: a step of the walk at this point (fn) */
	KF_OWN_DEPRECATION = 1u << 3,	/* the handler says the deprecation itself */
	KF_QUIET = 1u << 4,	/* a value of the wrong kind is ignored without xl's warning */
	KF_EXACT = 1u << 5,	/* enum values compared case-sensitively */
	KF_LOOKUP = 1u << 6,	/* path: a bare name is looked up later; ./ and ../ resolve */
	KF_MASKED = 1u << 7,	/* CPU map ANDed with kxl.conf's vm.cpumask (hard affinity) */
	KF_FILL = 1u << 8,	/* libxl fills the default before building (list -l) */
	KF_BITMAP = 1u << 9,	/* an integer N stored as the bitmap [0..N-1] */
	KF_SILENT_TYPES = 1u << 10,	/* xl reads it for other types silently: no note */
	KF_DEFAULT = 1u << 11,	/* dflt holds xl's default */
	KF_NUMBERED = 1u << 12,	/* enum: xl also takes a value's index (0, 1, ...) */
	KF_NUMBER_DEPRECATED = 1u << 13,	/* ... which it says is deprecated */
};

struct key;
typedef void (*key_handler)(struct mctx *m, const struct key *k);

struct key {
	const char *name;	/* "" for a phase row */
	enum key_type type;
	unsigned flags;		/* enum key_flag */
	unsigned types;		/* T_PV | T_PVH | T_HVM */
	enum key_dest dest;
	const char *field;	/* libxl's field name in dest (an IDL name) */
	const char *list_field;	/* KT_SPECIAL string-or-list: where the list lands */
	key_handler fn;
	/* integers: libxl's C type and the bounds xl checks (min >= max: none) */
	enum key_ctype ctype;
	long min, max;
	/* defaults: xl's value when the key is absent (with KF_DEFAULT; an enum's
	 * is an index into values, a size's in MiB), libxl's IDL default (not
	 * printed: an integer's value, an enum's index), or another key's value */
	long dflt, idl_dflt;
	const char *dflt_key;
	const char *dflt_text;	/* a default that is not a constant, for docs */
	size_t conf_dflt;	/* 1 + offsetof(struct kxl_conf, its default); 0: none */
	const char *fill_unless;	/* KF_FILL: not when this field of dest is set */
	const char *const *values;	/* enum: the cfg spellings, NULL-terminated */
	const char *const *idl_values;	/* enum: libxl's names, when they differ */
	const char *deprecated;	/* what replaces it */
	const char *doc;	/* its entry in kxl.cfg(5); NULL: not listed */
};

/* The table (keys.c), in xl's reading order, and a row by name. */
size_t m_keys(const struct key **out);
const struct key *m_key(const char *name);

/* The object a row's value lands in (created as needed; NULL for D_NONE,
 * D_VNC and D_SDL, which the handler picks). */
json_object *m_dest(struct mctx *m, const struct key *k);
/* A row's value, read as its type says, stored into o (or m_dest). */
void m_apply_into(struct mctx *m, const struct key *k, json_object *o);
/* The IDL struct (idl_order.c's name) of a destination, for a domain type. */
const char *m_dest_idl(enum key_dest dest, int type);
/* An enum value's index in k->values, or -1. */
int m_enum_index(const struct key *k, const char *s);
/* An enum value's libxl name. */
const char *m_enum_idl(const struct key *k, long i);
/* "a, b, c": an enum's values (caller frees). */
char *m_enum_list(const struct key *k);

/* The defaults libxl fills before building, from the rows with KF_FILL,
 * into a config (as printed: a field already there is kept). */
void m_fill_defaults(json_object *root);
/* While building: k's value, when not set, is that of its dflt_key row. */
void m_default_from_key(struct mctx *m, const struct key *k);

/* libxl's IDL (idl_order.c): whether struct sname (an IDL name, such as
 * "domain_build_info") has field. */
bool m_idl_has(const char *sname, const char *field);
/* The fields of a config (as built) that the IDL table does not list, one
 * ".b_info.field" line each into *report (caller frees; NULL: none). */
size_t m_idl_unknown(json_object *root, char **report);

#endif
