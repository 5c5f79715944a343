/*
 * handlers_boot.c: the key handlers for how a guest boots: type/builder,
 * kernel, ramdisk, cmdline/root/extra, modules (ask b), bootloader, and
 * firmware for every domain type (asks c and d), with xl's rules and errors.
 */
#include "model/handlers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

static int prefix_of(const char *s, const char *word)
{
	return !strncmp(s, word, strlen(s));
}

void h_type(struct mctx *m, const struct key *key)
{
	const char *buf;
	int type = 0;
	if (!m_string(m, key->name, false, &buf)) {
		if (prefix_of(buf, "hvm")) type = T_HVM;
		else if (prefix_of(buf, "pv")) type = T_PV;
		else if (prefix_of(buf, "pvh")) type = T_PVH;
		else m_error(m, key->name, "invalid domain type `%s' (pv, pvh or hvm)", buf);
	}
	if (!m_string(m, "builder", false, &buf)) {
		int bt = 0;
		if (prefix_of(buf, "hvm")) bt = T_HVM;
		else if (prefix_of(buf, "generic")) bt = T_PV;
		else m_error(m, "builder", "invalid domain type `%s' in `builder' (hvm or generic; "
			     "use type = \"pv|pvh|hvm\" instead)", buf);
		if (bt && type && type != bt)
			m_error(m, "builder", "contradicting \"builder\" and \"type\" options specified "
				"(builder = \"%s\" means type = \"%s\")", buf, bt == T_HVM ? "hvm" : "pv");
		else if (bt) {
			type = bt;
			m_deprecated(m, "builder", "`builder' is deprecated since Xen 4.10; write type = \"%s\"",
				     bt == T_HVM ? "hvm" : "pv");
		}
	}
	if (!type) type = T_PV;
	m->type = type;
	/* the row's values are pv, pvh, hvm */
	j_str(m_dest(m, key), key->field, key->values[type == T_HVM ? 2 : type == T_PVH ? 1 : 0]);
}

/* The composed command line (cmdline beats root/extra), or NULL. */
static char *compose_cmdline(struct mctx *m)
{
	const char *cmd = NULL, *root = NULL, *extra = NULL;
	m_string(m, "cmdline", false, &cmd);
	m_string(m, "root", false, &root);
	m_string(m, "extra", false, &extra);
	if (cmd) {
		if (root || extra)
			m_warn(m, "cmdline", "ignoring root= and extra= in favour of cmdline=");
		return xstrdup(cmd);
	}
	if (root && extra) return xasprintf("root=%s %s", root, extra);
	if (root) return xasprintf("root=%s", root);
	if (extra) return xstrdup(extra);
	return NULL;
}

struct module { char *path, *cmdline; };

/* modules = [ "path", "path,cmdline=..." ]: cmdline= takes the rest. */
static int parse_modules(struct mctx *m, struct module **out, size_t *n)
{
	const struct kxl_cfg_value *list;
	int e = m_list(m, "modules", false, &list);
	if (e) return e;
	*out = xcalloc(list->n + 1, sizeof(**out));
	*n = 0;
	for (size_t i = 0; i < list->n; i++) {
		const struct kxl_cfg_value *v = list->items[i];
		struct kxl_loc l = m_value_loc(v);
		if (v->type != KXL_CFG_STRING) {
			m_error_at(m, &l, "modules entry %zu is a list; each entry is "
				     "\"path\" or \"path,cmdline=...\"", i);
			continue;
		}
		char *s = xstrdup(v->str), *c = strstr(s, ",cmdline=");
		struct module *mod = &(*out)[(*n)++];
		if (c) {
			*c = 0;
			mod->cmdline = xstrdup(c + strlen(",cmdline="));
		} else if ((c = strchr(s, ','))) {
			m_error_at(m, &l, "modules entry `%s': unknown option `%s' "
				     "(an entry is \"path\" or \"path,cmdline=...\")", v->str, c + 1);
			*c = 0;
		}
		if (!s[0]) {
			m_error_at(m, &l, "modules entry %zu has an empty path", i);
		}
		if (i == 0 && mod->cmdline) {
			m_error_at(m, &l, "modules entry 0 is the kernel: its command line "
				     "comes from `cmdline' (or `root'/`extra'), not `cmdline=' in the entry");
		}
		mod->path = m_resolve(m, "modules", s);
		free(s);
	}
	return 0;
}

static json_object *module_json(const char *path, const char *cmdline)
{
	json_object *o = json_object_new_object();
	j_str(o, "path", path);
	if (cmdline) j_str(o, "cmdline", cmdline);
	return o;
}

/* kernel, ramdisk, device_tree, cmdline/root/extra, modules, bootloader. */
void h_kernel(struct mctx *m, const struct key *key)
{
	const char *kernel = NULL, *ramdisk = NULL, *bootloader = NULL, *dt = NULL;
	m_string(m, key->name, false, &kernel);
	m_string(m, "ramdisk", false, &ramdisk);
	m_string(m, "bootloader", true, &bootloader);
	struct module *mods = NULL;
	size_t nmods = 0;
	bool have_mods = !parse_modules(m, &mods, &nmods);
	char *cmdline = compose_cmdline(m);

	if (have_mods) {
		if (kernel || ramdisk)
			m_error(m, "modules", "`modules' replaces `kernel' and `ramdisk' (entry 0 is the "
				"kernel, entry 1 the ramdisk): give one or the other");
		if (bootloader)
			m_error(m, "modules", "`modules' cannot be used with `bootloader' (the bootloader "
				"finds the kernel inside the guest's disk)");
		if (nmods == 0)
			m_error(m, "modules", "`modules' is empty: entry 0 must be the kernel");
		if (nmods > 2 && m->type != T_PVH)
			m_error(m, "modules", "%zu modules need type = \"pvh\" (pv and hvm guests take a "
				"kernel and one ramdisk)", nmods);
	}
	if (bootloader) {
		/* paths inside the guest's disk, for the bootloader: kept as given */
		if (kernel) j_str(m_dest(m, key), key->field, kernel);
		if (ramdisk) j_str(m->b_info, "ramdisk", ramdisk);
	} else if (have_mods && nmods) {
		j_str(m_dest(m, key), key->field, mods[0].path);
		if (nmods > 1) j_str(m->b_info, "ramdisk", mods[1].path);
	} else {
		if (kernel) {
			char *k = m_resolve(m, "kernel", kernel);
			j_str(m_dest(m, key), key->field, k);
			free(k);
		}
		if (ramdisk) {
			char *r = m_resolve(m, "ramdisk", ramdisk);
			j_str(m->b_info, "ramdisk", r);
			free(r);
		}
	}
	if (!m_string(m, "device_tree", false, &dt)) {
		char *p = m_resolve(m, "device_tree", dt);
		j_str(m->b_info, "device_tree", p);
		free(p);
	}
	if (cmdline) j_str(m->b_info, "cmdline", cmdline);
	if (have_mods) {
		json_object *a = j_arr(m->b_info, "modules");
		for (size_t i = 1; i < nmods; i++)
			json_object_array_add(a, module_json(mods[i].path, mods[i].cmdline));
	}
	for (size_t i = 0; i < nmods; i++) { free(mods[i].path); free(mods[i].cmdline); }
	free(mods);
	free(cmdline);
}

void h_bootloader(struct mctx *m, const struct key *key)
{
	const char *bl;
	if (!m_string(m, "bootloader", false, &bl)) {
		if (!strcmp(bl, "/usr/bin/pygrub"))
			m_deprecated(m, "bootloader", "bootloader = \"/usr/bin/pygrub\" is deprecated; "
				     "write bootloader = \"pygrub\"");
		char *p = m_resolve_lookup(m, "bootloader", bl);
		j_str(m->b_info, "bootloader", p);
		free(p);
	}
	const struct kxl_cfg_value *list;
	int e = m_list(m, "bootloader_args", true, &list);
	if (!e) {
		json_object *a = j_arr(m->b_info, "bootloader_args");
		for (size_t i = 0; i < list->n; i++)
			if (list->items[i]->type == KXL_CFG_STRING)
				json_object_array_add(a, json_object_new_string(list->items[i]->str));
	} else if (e == EINVAL) {
		const char *s;
		if (!m_string(m, "bootloader_args", false, &s)) {
			m_deprecated(m, "bootloader_args", "specifying \"bootloader_args\" as a string is "
				     "deprecated; use a list of arguments");
			json_object *a = j_arr(m->b_info, "bootloader_args");
			char *buf = xstrdup(s), *save = NULL;
			for (char *t = strtok_r(buf, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save))
				json_object_array_add(a, json_object_new_string(t));
			free(buf);
		}
	}
}

/* firmware on hvm: concrete names, uefi/bios aliases pinned (ask c), paths. */
static void firmware_hvm(struct mctx *m)
{
	const char *buf;
	if (m_string(m, "firmware", false, &buf)) return;
	const struct key *bios = m_key("bios");	/* the concrete names: the bios row's values */
	int i = m_enum_index(bios, buf);
	if (i >= 0) {
		j_str(m_dest(m, bios), bios->field, bios->values[i]);
		return;
	}
	if (prefix_of(buf, "uefi")) {
		j_str(m->type_obj, "bios", "ovmf");
		m_warn(m, "firmware", "firmware = \"%s\" is an alias of UEFI: kxl pins it to \"ovmf\" "
		       "(write firmware = \"ovmf\" to say so)", buf);
	} else if (prefix_of(buf, "bios")) {
		const char *dmv = NULL;
		m_string(m, "device_model_version", true, &dmv);
		const char *fw = dmv && !strcmp(dmv, "qemu-xen-traditional") ? "rombios" : "seabios";
		j_str(m->type_obj, "bios", fw);
		m_warn(m, "firmware", "firmware = \"%s\" is an alias of the device model's default BIOS: "
		       "kxl pins it to \"%s\" (write firmware = \"%s\" to say so)", buf, fw, fw);
	} else {
		char *p = m_resolve_lookup(m, "firmware", buf);
		j_str(m->type_obj, "firmware", p);
		free(p);
	}
}

/* firmware on pv/pvh: pvgrub names, and on pvh a PVH firmware path (ask d). */
static void firmware_pv(struct mctx *m)
{
	const char *buf;
	json_object *k = NULL;
	bool have_kernel = json_object_object_get_ex(m->b_info, "kernel", &k);
	bool have_bl = json_object_object_get_ex(m->b_info, "bootloader", NULL);
	if (!m_string(m, "firmware", false, &buf)) {
		bool pvgrub = prefix_of(buf, "pvgrub32") || prefix_of(buf, "pvgrub64");
		if (pvgrub) {
			if (have_kernel) {
				m_error(m, "firmware", "both kernel and firmware specified (firmware = \"%s\" "
					"is a kernel itself)", buf);
				return;
			}
			char *p = xasprintf("%s/%s.bin", m->conf->firmware_dir, buf);
			j_str(m->b_info, "kernel", p);
			free(p);
			have_kernel = true;
		} else if (m->type == T_PVH) {
			/* a PVH-bootable ELF; kernel and ramdisk become its modules */
			char *fw = m_resolve(m, "firmware", buf);
			m->pvh_firmware_path = true;
			if (have_kernel) {
				json_object *mods = json_object_new_array();
				json_object *cmd = NULL, *rd = NULL, *old = NULL;
				json_object_object_get_ex(m->b_info, "cmdline", &cmd);
				json_object_object_get_ex(m->b_info, "ramdisk", &rd);
				bool from_modules = json_object_object_get_ex(m->b_info, "modules", &old);
				json_object_array_add(mods, module_json(json_object_get_string(k),
						      cmd ? json_object_get_string(cmd) : NULL));
				if (from_modules) {
					for (size_t i = 0; i < json_object_array_length(old); i++)
						json_object_array_add(mods, json_object_get(json_object_array_get_idx(old, i)));
				} else if (rd) {
					json_object_array_add(mods, module_json(json_object_get_string(rd), NULL));
				}
				json_object_object_del(m->b_info, "cmdline");
				json_object_object_del(m->b_info, "ramdisk");
				json_object_object_add(m->b_info, "modules", mods);
			}
			j_str(m->b_info, "kernel", fw);
			free(fw);
			have_kernel = true;
		} else {
			m_error(m, "firmware", "only pvgrub32 or pvgrub64 are supported as firmware for "
				"a pv guest (firmware = \"%s\")", buf);
			return;
		}
	}
	if (!have_bl && !have_kernel && !m->failed)
		m_file_error(m, "neither kernel nor bootloader specified: a %s guest needs `kernel' "
			     "(or `modules'), `firmware' or `bootloader'", m->type == T_PVH ? "pvh" : "pv");
}

void h_firmware(struct mctx *m, const struct key *key)
{
	if (m->type == T_HVM) firmware_hvm(m);
	else firmware_pv(m);
}

void h_hvm_kernel_check(struct mctx *m, const struct key *key)
{
	json_object *k;
	if (m->type != T_HVM || !json_object_object_get_ex(m->b_info, "kernel", &k)) return;
	const char *s = json_object_get_string(k), *b = strrchr(s, '/');
	if (!strcmp(b ? b + 1 : s, "hvmloader")) {
		m_warn(m, "kernel", "you seem to be using \"kernel\" to override the HVM firmware: "
		       "ignored; use \"firmware_override\" if you really want a non-default firmware");
		json_object_object_del(m->b_info, "kernel");
	}
}
