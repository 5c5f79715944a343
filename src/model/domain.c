/*
 * domain.c: the model as JSON (printing, reading back), the typed view kxl
 * acts on, the defaults libxl would fill in (for `kxl list -l'), the
 * create-time checks libxl makes after `xl -N', and the boot specification
 * handed to the builder.
 */
#include <kxl/model.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/keys.h"

#include "util/util.h"

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (o && json_object_object_get_ex(o, k, &v)) return v;
	return NULL;
}

static const char *gets(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v ? json_object_get_string(v) : NULL;
}

char *kxl_domain_json(const struct kxl_domain *dom)
{
	return m_json_text(dom->config);
}

/* An on_* action as printed (libxl's name; absent: libxl's default). The
 * rows' values are in enum kxl_action's order. */
static enum kxl_action action(json_object *root, const char *name)
{
	const struct key *k = m_key(name);
	const char *s = gets(root, k->field);
	for (long i = 0; s && k->values[i]; i++)
		if (!strcmp(s, m_enum_idl(k, i))) return (enum kxl_action)i;
	return (enum kxl_action)k->idl_dflt;
}

const char *kxl_domain_action_name(enum kxl_action a)
{
	const struct key *k = m_key("on_poweroff");
	for (unsigned i = 0; k->values[i]; i++)
		if (i == (unsigned)a) return k->values[i];
	return "?";
}

/* A defbool as printed, or its row's default. */
static bool defbool(json_object *o, const char *name)
{
	const struct key *k = m_key(name);
	const char *s = gets(o, k->field);
	return s ? !strcmp(s, "True") : k->dflt != 0;
}

void kxl_domain_view(struct kxl_domain *dom)
{
	json_object *root = dom->config, *c = get(root, "c_info"), *b = get(root, "b_info"), *v;
	const char *t = gets(c, "type");
	dom->type = t && !strcmp(t, "hvm") ? KXL_TYPE_HVM : t && !strcmp(t, "pvh") ? KXL_TYPE_PVH : KXL_TYPE_PV;
	dom->name = gets(c, "name");
	dom->target_memkb = (v = get(b, "target_memkb")) ? (uint64_t)json_object_get_int64(v) : 0;
	dom->max_memkb = (v = get(b, "max_memkb")) ? (uint64_t)json_object_get_int64(v) : 0;
	dom->vcpus = (v = get(b, "avail_vcpus")) ? (unsigned)json_object_array_length(v) : 0;
	dom->max_vcpus = (v = get(b, "max_vcpus")) ? (unsigned)json_object_get_int64(v) : 0;
	dom->kernel = gets(b, "kernel");
	dom->ramdisk = gets(b, "ramdisk");
	dom->cmdline = gets(b, "cmdline");
	dom->bootloader = gets(b, "bootloader");
	free(dom->modules);
	dom->modules = NULL;
	dom->nr_modules = 0;
	dom->has_modules = false;
	if ((v = get(b, "modules"))) {
		dom->has_modules = true;
		dom->nr_modules = json_object_array_length(v);
		dom->modules = xcalloc(dom->nr_modules + 1, sizeof(*dom->modules));
		for (size_t i = 0; i < dom->nr_modules; i++) {
			json_object *e = json_object_array_get_idx(v, i);
			dom->modules[i].path = gets(e, "path");
			dom->modules[i].cmdline = gets(e, "cmdline");
		}
	}
	dom->on_poweroff = action(root, "on_poweroff");
	dom->on_reboot = action(root, "on_reboot");
	dom->on_crash = action(root, "on_crash");
	dom->on_watchdog = action(root, "on_watchdog");
	dom->on_soft_reset = action(root, "on_soft_reset");
	dom->acpi = defbool(b, "acpi");
	dom->localtime = defbool(b, "localtime");
	dom->rtc_timeoffset = (v = get(b, "rtc_timeoffset")) ? (long)json_object_get_int64(v) : 0;
	json_object *u = get(b, "type.pvh");
	const char *shim = gets(u, "pvshim");
	dom->pvshim = shim && !strcmp(shim, "True");
	dom->nr_disks = (v = get(root, "disks")) ? json_object_array_length(v) : 0;
	dom->nr_nics = (v = get(root, "nics")) ? json_object_array_length(v) : 0;
	dom->nr_other_devices = 0;
	static const char *const others[] = { "pcidevs", "dtdevs", "vfbs", "vkbs", "vtpms", "p9s",
		"pvcallsifs", "channels", "usbctrls", "usbdevs" };
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		if ((v = get(root, others[i]))) dom->nr_other_devices += json_object_array_length(v);
}

int kxl_domain_from_json(struct kxl_domain *dom, const char *json, struct kxl_diag *d)
{
	memset(dom, 0, sizeof(*dom));
	enum json_tokener_error err;
	dom->config = json_tokener_parse_verbose(json, &err);
	if (!dom->config || !json_object_is_type(dom->config, json_type_object)) {
		if (dom->config) json_object_put(dom->config);
		dom->config = NULL;
		return kxl_err(d, "domain config JSON: %s", dom->config ? "not an object" : json_tokener_error_desc(err));
	}
	if (!get(dom->config, "c_info") || !get(dom->config, "b_info"))
		return kxl_err(d, "domain config JSON: c_info or b_info missing");
	kxl_domain_view(dom);
	return 0;
}

void kxl_domain_free(struct kxl_domain *dom)
{
	if (dom->config) json_object_put(dom->config);
	free(dom->modules);
	memset(dom, 0, sizeof(*dom));
}

/* libxl's defaults of an HVM domain that are not one key's own
 * (libxl__domain_build_info_setdefault and libxl__device_nic_setdefault
 * with qemu-xen, Xen 4.17): derived from other values, or inside objects
 * and devices. A key's own default is its row's (keys.c, m_fill_defaults).
 * The device model (src/dm) reads a filled copy. */
static void fill_hvm_defaults(json_object *root, json_object *b, json_object *h)
{
	if (!get(h, "viridian")) j_defbool(h, "viridian", false);	/* a key of groups */
	static const struct { const char *kind; int64_t video_memkb; } vgas[] = {
		{ "cirrus", 8 * 1024 }, { "std", 16 * 1024 }, { "qxl", 128 * 1024 }, { "none", 0 },
	};
	json_object *vga = j_obj(h, "vga");
	if (!get(vga, "kind")) j_str(vga, "kind", "cirrus");
	const char *kind = gets(vga, "kind");
	for (size_t i = 0; i < ARRAY_SIZE(vgas); i++)
		if (!get(b, "video_memkb") && !strcmp(kind, vgas[i].kind))
			j_int(b, "video_memkb", vgas[i].video_memkb);
	if (!get(h, "boot")) j_str(h, "boot", "cda");
	json_object *vnc = j_obj(h, "vnc");
	if (!get(vnc, "enable")) j_defbool(vnc, "enable", true);
	if (!strcmp(gets(vnc, "enable"), "True")) {
		if (!get(vnc, "findunused")) j_defbool(vnc, "findunused", true);
		if (!get(vnc, "listen")) j_str(vnc, "listen", "127.0.0.1");
	}
	json_object *sdl = j_obj(h, "sdl");
	if (!get(sdl, "enable")) j_defbool(sdl, "enable", false);
	json_object *spice = j_obj(h, "spice");
	if (!get(spice, "enable")) j_defbool(spice, "enable", false);
	json_object *nics = get(root, "nics");
	for (size_t i = 0; nics && i < json_object_array_length(nics); i++) {
		json_object *n = json_object_array_get_idx(nics, i);
		if (!get(n, "nictype")) j_str(n, "nictype", "vif_ioemu");
		if (!get(n, "model")) j_str(n, "model", "rtl8139");
	}
}

void kxl_domain_fill_defaults(struct kxl_domain *dom)
{
	m_fill_defaults(dom->config);	/* the rows that libxl fills (KF_FILL) */
	json_object *b = get(dom->config, "b_info"), *h = get(b, "type.hvm");
	if (h)
		fill_hvm_defaults(dom->config, b, h);
	kxl_domain_view(dom);
}


/* A file create will read: an error at KEY's value when it cannot be. */
static int readable(const char *path, const char *what, const struct kxl_cfg *cfg,
		    const char *key, long idx, struct kxl_diag *d)
{
	if (!path || !*path || !access(path, R_OK))
		return 0;
	int e = errno;
	struct kxl_loc l = kxl_cfg_value_loc(cfg, key, idx);
	kxl_diag_add(d, KXL_ERROR, &l, "%s `%s' cannot be read: %s", what, path, strerror(e));
	return -1;
}

/* The files a create of this domain opens on this host: the kernel,
 * ramdisk, modules and PVH firmware (unless a bootloader finds them inside
 * the guest's disk), and the disks and vifs as create attaches them. */
static int check_files(const struct kxl_domain *dom, const struct kxl_cfg *cfg,
		       struct kxl_diag *d)
{
	int bad = 0;
	if (!dom->bootloader) {
		if (dom->has_modules) {
			for (size_t i = 0; i < dom->nr_modules; i++)
				bad |= readable(dom->modules[i].path, "module", cfg, "modules", (long)i, d);
			/* a pvh firmware given as a path comes first in the module list */
		} else {
			const char *kkey = dom->pvh_firmware ? "firmware" : "kernel";
			bad |= readable(dom->kernel, dom->pvh_firmware ? "firmware" : "kernel", cfg, kkey,
					-1, d);
			bad |= readable(dom->ramdisk, "ramdisk", cfg, "ramdisk", -1, d);
		}
	}
	/* the disks and vifs as create attaches them: what KVM cannot do, or
	 * an image that cannot be opened, is an error here too; their notes
	 * (names rewritten, ...) are said once, by create */
	if (dom->type == KXL_TYPE_HVM) {
		/* QEMU opens the disks; src/dm says what else it refuses */
		json_object *disks = get(dom->config, "disks");
		for (size_t i = 0; disks && i < json_object_array_length(disks); i++) {
			json_object *j = json_object_array_get_idx(disks, i);
			const char *fmt = gets(j, "format");
			if (!(fmt && !strcmp(fmt, "empty")))
				bad |= readable(gets(j, "pdev_path"), "disk image", cfg, "disk", (long)i, d);
		}
		return bad;
	}
	struct kxl_diag dd;
	kxl_diag_init(&dd);
	struct kxl_domain_disks disks;
	if (kxl_domain_vmm_disks(dom, cfg, &disks, &dd) == 0)
		kxl_domain_disks_free(&disks);
	struct kxl_domain_nics nics;
	if (kxl_domain_vmm_nics(dom, cfg, &nics, &dd) == 0)
		kxl_domain_nics_free(&nics);
	for (size_t i = 0; i < dd.n; i++)
		if (dd.v[i].sev == KXL_ERROR) {
			kxl_diag_add(d, KXL_ERROR, &dd.v[i].loc, "%s", dd.v[i].msg);
			bad = -1;
		}
	kxl_diag_free(&dd);
	return bad;
}

int kxl_domain_check_create(const struct kxl_domain *dom, const struct kxl_cfg *cfg,
			    struct kxl_diag *d)
{
	json_object *b = get(dom->config, "b_info"), *h = get(b, "type.hvm");
	int bad = 0;
	struct kxl_loc l = { .file = cfg ? cfg->path : NULL };
	if (dom->type == KXL_TYPE_HVM && !dom->kernel && (dom->ramdisk || dom->cmdline)) {
		const struct kxl_cfg_setting *s = cfg ? kxl_cfg_find(cfg, dom->ramdisk ? "ramdisk" : "cmdline") : NULL;
		struct kxl_loc sl = s ? kxl_cfg_loc(&s->value->pos) : l;
		kxl_diag_add(d, KXL_ERROR, &sl, "direct boot parameters specified but kernel missing "
			     "(libxl refuses this hvm guest at create)");
		bad = 1;
	}
	const char *bios = gets(h, "bios"), *dmv = gets(b, "device_model_version");
	if (bios && !strcmp(bios, "rombios") && (!dmv || !strcmp(dmv, "qemu_xen"))) {
		const struct kxl_cfg_setting *s = cfg ? kxl_cfg_find(cfg, kxl_cfg_find(cfg, "bios") ? "bios" : "firmware") : NULL;
		struct kxl_loc sl = s ? kxl_cfg_loc(&s->value->pos) : l;
		kxl_diag_add(d, KXL_ERROR, &sl, "rombios is not supported with qemu-xen (libxl refuses it at "
			     "create); use seabios or device_model_version = \"qemu-xen-traditional\"");
		bad = 1;
	}
	if (check_files(dom, cfg, d))
		bad = 1;
	return bad ? -1 : 0;
}

bool kxl_bootloader_is_kxl(const char *bootloader)
{
	const char *base = strrchr(bootloader, '/');
	base = base ? base + 1 : bootloader;
	return !strcmp(base, "pygrub") || !strcmp(base, "kxl-bootloader");
}

int kxl_domain_boot_spec(const struct kxl_domain *dom, struct kxl_boot_spec *spec,
			 struct kxl_diag *d)
{
	memset(spec, 0, sizeof(*spec));
	if (dom->type == KXL_TYPE_HVM)
		return kxl_err(d, "%s: kxl runs type = \"pvh\" guests, and type = \"pv\" ones as PVH "
			       "(this one is hvm)", dom->name ? dom->name : "domain");
	if (dom->bootloader && !kxl_bootloader_is_kxl(dom->bootloader))
		return kxl_err(d, "bootloader = \"%s\": kxl runs only its own bootloader (bootloader = "
			       "\"pygrub\"), which reads the guest's disk in a sandbox; another program "
			       "is not run. Write bootloader = \"pygrub\", or give `kernel'",
			       dom->bootloader);
	if (dom->pvshim)
		return kxl_err(d, "pvshim needs Xen's hypercall interface: a KVM guest cannot run the PV shim");
	if (!dom->kernel && !dom->bootloader)
		return kxl_err(d, "no kernel to boot");
	/* with a bootloader, kernel, ramdisk and cmdline are its inputs (files
	 * inside the guest's disk): the caller runs it (kxl_bootloader_boot)
	 * and fills in the kernel, the ramdisk module and the command line */
	spec->kernel = dom->bootloader ? NULL : dom->kernel;
	spec->cmdline = dom->pvh_firmware || dom->bootloader ? NULL : dom->cmdline;
	size_t n = dom->bootloader ? 0 : dom->has_modules ? dom->nr_modules : (dom->ramdisk ? 1 : 0);
	struct kxl_boot_module *mods = xcalloc(n + 1, sizeof(*mods));
	if (dom->has_modules)
		for (size_t i = 0; i < n; i++) mods[i] = dom->modules[i];
	else if (n)
		mods[0].path = dom->ramdisk;
	spec->modules = mods;
	spec->nr_modules = n;
	/* the defaults of the memory and vcpus rows, for a config not filled */
	uint64_t kb = dom->target_memkb ? dom->target_memkb : (uint64_t)m_key("memory")->dflt * 1024;
	spec->mem_bytes = kb * 1024;
	spec->vcpus = dom->vcpus ? dom->vcpus : (unsigned)m_key("vcpus")->dflt;
	spec->maxvcpus = dom->max_vcpus > spec->vcpus ? dom->max_vcpus : spec->vcpus;
	spec->protocol = KXL_BOOT_PROTO_AUTO;
	spec->acpi = dom->acpi;
	spec->serial_console = true;	/* kxl's console is COM1: Linux is told so */
	if (dom->type == KXL_TYPE_PV) {
		/* KVM has no PV mode: the kernel boots through its PVH entry (the
		 * builder refuses a kernel without one), said once here */
		spec->xen_pv = true;
		kxl_note(d, "type = \"pv\": KVM has no PV mode; kxl boots the kernel as PVH, through "
			 "its PVH entry");
	}
	return 0;
}

void kxl_boot_spec_free(struct kxl_boot_spec *spec)
{
	free((void *)spec->modules);
	memset(spec, 0, sizeof(*spec));
}
