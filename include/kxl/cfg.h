/*
 * cfg.h: the xl.cfg language (src/cfg), as Xen's libxlutil reads it.
 *
 * A file is a sequence of settings `KEY = VALUE` or `KEY += VALUE`, ended by
 * a newline or `;`. A value is a string (either quote style, or a bare
 * number kept as its text) or a list of values. The last assignment of a key
 * wins; `+=` appends to the previous value of the same key. Settings given on
 * the command line are parsed into the same set after the file, so they see
 * and override its values, as in xl.
 *
 * Where xl is broken kxl is better (see kxl.cfg(5)): a last comment without a
 * newline and CRLF line ends parse; every error is reported with file, line,
 * column and the line itself, and parsing goes on to find the others; `\x`
 * and octal escapes are refused with a clear message.
 */
#ifndef KXL_CFG_H
#define KXL_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include <kxl/diag.h>

enum kxl_cfg_vtype { KXL_CFG_STRING, KXL_CFG_LIST };

struct kxl_cfg_source;

struct kxl_cfg_pos {
	const struct kxl_cfg_source *src;
	int line, col;		/* 1-based */
};

struct kxl_cfg_value {
	enum kxl_cfg_vtype type;
	bool number;		/* a bare NUMBER token (its text is in str) */
	char *str;		/* KXL_CFG_STRING */
	struct kxl_cfg_value **items;	/* KXL_CFG_LIST */
	size_t n;
	struct kxl_cfg_pos pos;	/* where the value starts */
};

struct kxl_cfg_setting {
	char *name;
	struct kxl_cfg_value *value;
	bool add;		/* written with += */
	struct kxl_cfg_pos key_pos;
	struct kxl_cfg_setting *next;	/* the setting before this one */
};

struct kxl_cfg {
	struct kxl_cfg_setting *last;	/* newest first, as xl looks them up */
	struct kxl_cfg_source *sources;
	char *path;		/* the file as named by the user */
	bool python;		/* an error token looked like Python */
};

/* Parses the text of a file into cfg (which may already hold settings).
 * Returns the number of errors added to d; the settings parsed before and
 * after an error are kept, so the caller can report more. */
int kxl_cfg_parse(struct kxl_cfg *cfg, const char *name, const char *text,
		  size_t len, struct kxl_diag *d);
/* Reads and parses a file; I/O errors are reported in d. */
int kxl_cfg_parse_file(struct kxl_cfg *cfg, const char *path, struct kxl_diag *d);
/* A command-line setting "KEY=VALUE" in config syntax, named "<command line>". */
int kxl_cfg_parse_arg(struct kxl_cfg *cfg, const char *arg, struct kxl_diag *d);

void kxl_cfg_init(struct kxl_cfg *cfg);
void kxl_cfg_free(struct kxl_cfg *cfg);

/* The newest setting of name, or NULL. */
const struct kxl_cfg_setting *kxl_cfg_find(const struct kxl_cfg *cfg, const char *name);

/* A location for diagnostics about a value or key. */
struct kxl_loc kxl_cfg_loc(const struct kxl_cfg_pos *pos);
/* The location of KEY's newest value (entry IDX of a list, when it is one
 * and IDX >= 0), or just the file when the key is not set. cfg may be NULL. */
struct kxl_loc kxl_cfg_value_loc(const struct kxl_cfg *cfg, const char *key, long idx);
/* The source's name ("<command line>" for settings given as arguments). */
const char *kxl_cfg_pos_file(const struct kxl_cfg_pos *pos);
/* Directory relative paths in this setting resolve against: the cfg file's
 * directory, or the current directory for command-line settings. Absolute. */
const char *kxl_cfg_pos_basedir(const struct kxl_cfg_pos *pos);

#endif

/*
 * The two sub-grammars. Each fills a json-c object with libxl's IDL field
 * names (libxl_device_disk, libxl_device_nic) exactly as xl would, and
 * reports errors naming the spec, the offending token and the manual page.
 * loc is where the spec sits in the cfg file. Return 0, or -1 after an error
 * (xl refuses the domain). Warnings do not fail.
 */
struct json_object;
int kxl_disk_parse(const char *spec, struct json_object *disk,
		   const struct kxl_loc *loc, struct kxl_diag *d);
/* The same, with the deprecated `prefix:' forms the spec used ORed into
 * *prefixes instead of a deprecation each, so that a config's disks say
 * them once (kxl_disk_prefix_note, caller frees). */
int kxl_disk_parse_ex(const char *spec, struct json_object *disk,
		      const struct kxl_loc *loc, struct kxl_diag *d, unsigned *prefixes);
char *kxl_disk_prefix_note(unsigned prefixes);
int kxl_vif_parse(const char *spec, struct json_object *nic,
		  const struct kxl_loc *loc, struct kxl_diag *d);
