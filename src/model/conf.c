/*
 * conf.c: kxl.conf, the keys of xl.conf(5). Without /etc/kxl/kxl.conf kxl
 * behaves as xl with Debian's stock xl.conf, so its JSON matches xl's.
 */
#include <kxl/model.h>

#include <errno.h>
#include <stddef.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/mctx.h"
#include "util/util.h"

void kxl_conf_defaults(struct kxl_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->run_hotplug_scripts = true;
	c->claim_mode = true;
	c->max_grant_frames = -1;
	c->max_maptrack_frames = -1;
	c->max_grant_version = -1;
	c->firmware_dir = xstrdup("/usr/lib/xen-4.17/boot");
	c->bootloader_dir = xstrdup("/usr/lib/xen-4.17/bin");
}

enum ckind { C_BOOL, C_LONG, C_STR };

/* The keys of xl.conf(5), and kxl's own, in one table: name, kind, field,
 * deprecated-by, doc. kxl_conf_load() and the kxl.conf section of the docs
 * are both driven by it. */
static const struct ckey {
	const char *name;
	enum ckind kind;
	size_t off;
	const char *deprecated;
	const char *doc;
} ckeys[] = {
#define F(f) offsetof(struct kxl_conf, f)
	{ "domid_policy", C_STR, F(domid_policy), NULL, "How domain IDs are chosen: xen or random (kxl: per state directory)" },
	{ "autoballoon", C_STR, F(autoballoon), NULL, "Balloon dom0 down to make room: off, on, auto (no dom0 under kxl)" },
	{ "run_hotplug_scripts", C_BOOL, F(run_hotplug_scripts), NULL, "The toolstack runs the device hotplug scripts" },
	{ "lockfile", C_STR, F(lockfile), NULL, "Lock file serialising domain creation" },
	{ "max_grant_frames", C_LONG, F(max_grant_frames), NULL, "Default max_grant_frames of a domain" },
	{ "max_maptrack_frames", C_LONG, F(max_maptrack_frames), NULL, "Default max_maptrack_frames of a domain" },
	{ "max_grant_version", C_LONG, F(max_grant_version), NULL, "Default max_grant_version of a domain" },
	{ "vif.default.script", C_STR, F(vif_script), NULL, "Default vif hotplug script" },
	{ "vifscript", C_STR, F(vif_script), "vif.default.script", "Old name of vif.default.script" },
	{ "vif.default.bridge", C_STR, F(default_bridge), NULL, "Default bridge of a vif" },
	{ "defaultbridge", C_STR, F(default_bridge), "vif.default.bridge", "Old name of vif.default.bridge" },
	{ "vif.default.backend", C_STR, F(default_backend), NULL, "Default back-end domain of a vif" },
	{ "vif.default.gatewaydev", C_STR, F(default_gatewaydev), NULL, "Default gateway device of a vif" },
	{ "remus.default.netbufscript", C_STR, F(remus_netbufscript), NULL, "Remus network buffering script" },
	{ "colo.default.proxyscript", C_STR, F(colo_proxyscript), NULL, "COLO proxy script" },
	{ "output_format", C_STR, F(output_format), NULL, "Format of create -n and list -l: json (sxp is not supported)" },
	{ "blkdev_start", C_STR, F(blkdev_start), NULL, "First block device name for local attaches" },
	{ "claim_mode", C_BOOL, F(claim_mode), NULL, "Claim memory before building a domain" },
	{ "vm.cpumask", C_STR, F(vm_cpumask), NULL, "CPUs every domain's hard affinity is limited to" },
	{ "vm.hvm.cpumask", C_STR, F(vm_hvm_cpumask), NULL, "CPUs hvm and pvh domains' hard affinity is limited to" },
	{ "vm.pv.cpumask", C_STR, F(vm_pv_cpumask), NULL, "CPUs pv domains' hard affinity is limited to" },
	{ "firmware_dir", C_STR, F(firmware_dir), NULL, "kxl: Xen's firmware directory, where pvgrub names point" },
	{ "bootloader_dir", C_STR, F(bootloader_dir), NULL, "kxl: where a bare bootloader name is looked up" },
#undef F
};

size_t kxl_conf_keys_doc(const struct kxl_key_doc **out)
{
	static struct kxl_key_doc docs[ARRAY_SIZE(ckeys)];
	for (size_t i = 0; i < ARRAY_SIZE(ckeys); i++)
		docs[i] = (struct kxl_key_doc){ ckeys[i].name, ckeys[i].kind == C_BOOL ? "boolean" :
			ckeys[i].kind == C_LONG ? "number" : "string", "kxl.conf", "as xl", ckeys[i].deprecated,
			ckeys[i].doc, NULL, NULL };
	*out = docs;
	return ARRAY_SIZE(ckeys);
}

void kxl_conf_free(struct kxl_conf *c)
{
	free(c->vif_script); free(c->default_bridge); free(c->default_gatewaydev);
	free(c->default_backend); free(c->blkdev_start); free(c->firmware_dir); free(c->bootloader_dir);
	free(c->vm_cpumask); free(c->vm_hvm_cpumask); free(c->vm_pv_cpumask); free(c->domid_policy);
	free(c->autoballoon); free(c->lockfile); free(c->output_format); free(c->remus_netbufscript);
	free(c->colo_proxyscript);
	memset(c, 0, sizeof(*c));
}

int kxl_conf_load(struct kxl_conf *c, const char *path, struct kxl_diag *d)
{
	if (access(path, F_OK)) return 0;
	struct kxl_cfg cfg;
	kxl_cfg_init(&cfg);
	int r = kxl_cfg_parse_file(&cfg, path, d);
	if (r) { kxl_cfg_free(&cfg); return -1; }
	struct mctx m = { .cfg = &cfg, .conf = c, .d = d };
	for (size_t i = 0; i < ARRAY_SIZE(ckeys); i++) {
		const struct ckey *k = &ckeys[i];
		void *field = (char *)c + k->off;
		long l;
		const char *str;
		if (!m_find(&m, k->name)) continue;
		if (k->deprecated)
			m_deprecated(&m, k->name, "`%s' is deprecated; use `%s'", k->name, k->deprecated);
		switch (k->kind) {
		case C_BOOL:
			/* xl.conf booleans are numbers, or "on"/"off" for claim_mode */
			if (!m_string(&m, k->name, false, &str))
				*(bool *)field = !(strcmp(str, "0") == 0 || strcasecmp(str, "off") == 0 ||
						   strcasecmp(str, "false") == 0);
			break;
		case C_LONG:
			if (!m_long(&m, k->name, false, &l)) *(long *)field = l;
			break;
		case C_STR:
			if (!m_string(&m, k->name, false, &str)) {
				free(*(char **)field);
				*(char **)field = xstrdup(str);
			}
			break;
		}
	}
	if (c->output_format && strcmp(c->output_format, "json"))
		m_error(&m, "output_format", "output_format = \"%s\" is not supported by kxl (json only)",
			c->output_format);
	kxl_cfg_free(&cfg);
	return d->errors ? -1 : 0;
}
